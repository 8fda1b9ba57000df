// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Text output with hostile values (issue 14): the escape itself (lib/textesc.c),
 * then AE titles holding a quote, a backslash, a newline, NUL, 0x7f and all 16
 * bytes through the event line formatter (output/lines.c) and the table of
 * `dicomon status` (cmd/status.c), each line read back by a strict key=value
 * reader that must find exactly the fields the formatter meant to write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "pktbuild.h"
#include "lib/textesc.h"
#include "decode/pdu.h"
#include "output/lines.h"
#include "cmd/status.h"

/* ---- a strict reader of one text line ---- */

#define MAX_TOK 32

struct tok {
	char key[64];	/* "" for a bare word */
	char val[256];	/* unescaped */
	int quoted;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A quoted value from p (after its opening quote) into out; the byte after it, or NULL. */
static const char *read_quoted(const char *p, char *out, size_t cap)
{
	size_t n = 0;
	int h, l;

	for (; *p != '"'; p++) {
		if (!*p || *p == '\n' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return NULL; /* unterminated, or a raw byte the escape should have taken */
		if (*p == '\\') {
			p++;
			if (*p == '"' || *p == '\\') {
				out[n++] = *p;
			} else if (*p == 'x' && (h = hexval(p[1])) >= 0 && (l = hexval(p[2])) >= 0) {
				out[n++] = (char)(h << 4 | l);
				p += 2;
			} else {
				return NULL; /* no other escape exists */
			}
		} else {
			out[n++] = *p;
		}
		if (n >= cap)
			return NULL;
	}
	out[n] = 0;
	p++;
	return *p == ' ' || !*p ? p : NULL; /* a closing quote ends its token */
}

/* One token: WORD, "...", KEY=WORD or KEY="..." (a '"' or '\\' in a bare word: an error). */
static const char *read_token(const char *p, struct tok *t)
{
	const char *s = p, *eq = NULL;
	size_t n;

	memset(t, 0, sizeof(*t));
	for (; *p && *p != ' ' && *p != '"'; p++) {
		if (*p == '\\' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return NULL;
		if (*p == '=' && !eq)
			eq = p;
	}
	if (*p == '"' && p == s) { /* a quoted value alone: a table's cell */
		t->quoted = 1;
		return read_quoted(p + 1, t->val, sizeof(t->val));
	}
	if (*p == '"') {
		if (!eq || eq + 1 != p || (size_t)(eq - s) >= sizeof(t->key))
			return NULL; /* a quote anywhere but right after KEY= */
		memcpy(t->key, s, eq - s);
		t->quoted = 1;
		return read_quoted(p + 1, t->val, sizeof(t->val));
	}
	if (eq) {
		memcpy(t->key, s, eq - s);
		s = eq + 1;
	}
	n = p - s;
	if (n >= sizeof(t->val))
		return NULL;
	memcpy(t->val, s, n);
	return p;
}

/* A whole line (one '\n', at its end) into tokens; their number, or -1 if it is not strict. */
static int parse_line(const char *line, struct tok *t, int max)
{
	const char *p = line, *nl = strchr(line, '\n');
	char buf[2048];
	int n = 0;

	if (!nl || nl[1] || (size_t)(nl - line) >= sizeof(buf))
		return -1;
	memcpy(buf, line, nl - line);
	buf[nl - line] = 0;
	p = buf;
	while (*p) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (n == max || !(p = read_token(p, &t[n])))
			return -1;
		n++;
	}
	return n;
}

static const struct tok *find_key(const struct tok *t, int n, const char *key, int *count)
{
	const struct tok *hit = NULL;
	int i;

	*count = 0;
	for (i = 0; i < n; i++)
		if (!strcmp(t[i].key, key)) {
			hit = &t[i];
			(*count)++;
		}
	return hit;
}

/* ---- the hostile AE titles ---- */

struct hostile {
	const char *what;
	uint8_t raw[16];
};

static const struct hostile AES[] = {
    {"forged field", "X\" called=\"ADMIN"},
    {"backslash", "A\\B\\\" x=\"1    "},
    {"newline", "EVIL\nx=1 y=\"2\" "},
    {"NUL inside", {'N', 'U', 'L', 0, 'x', '"', '=', '1', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}},
    {"DEL and high", {'D', 0x7f, 'E', 0x80, 0xff, '"', 'L', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
		      ' ', ' '}},
    {"16 quotes", "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\""},
    {"16 backslashes", "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"},
    {"all control", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 27, 31, 127}},
};
#define N_AES (sizeof(AES) / sizeof(AES[0]))

/* ---- the escape ---- */

static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
	    {"plain AE", 8, "plain AE"},
	    {"a\"b", 3, "a\\\"b"},
	    {"a\\b", 3, "a\\\\b"},
	    {"a\nb", 3, "a\\x0ab"},
	    {"a\0b", 3, "a\\x00b"},
	    {"\x7f\x80\xff", 3, "\\x7f\\x80\\xff"},
	    {"X\" called=\"ADMIN", 16, "X\\\" called=\\\"ADMIN"},
	};
	char out[128];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = dm_text_escape(out, sizeof(out), cases[i].in, cases[i].n);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(len, strlen(cases[i].out));
	}
	/* Cut only at a whole escape, NUL-terminated, the whole length returned. */
	len = dm_text_escape(out, 4, "ab\"c", 4);
	assert_int_equal(len, 5);
	assert_string_equal(out, "ab");
	len = dm_text_escape(out, 5, "ab\"c", 4);
	assert_string_equal(out, "ab\\\"");
	len = dm_text_escape(out, 3, "\x01", 1);
	assert_string_equal(out, "");
	assert_int_equal(len, 4);
	assert_int_equal(dm_text_escape(out, 1, "abc", 3), 3);
	assert_string_equal(out, "");
	/* The table's cell: a word stays bare, anything else quoted, closing quote kept. */
	assert_string_equal(dm_text_word(out, sizeof(out), "PACS_QR"), "PACS_QR");
	assert_string_equal(dm_text_word(out, sizeof(out), ""), "\"\"");
	assert_string_equal(dm_text_word(out, sizeof(out), "a b"), "\"a b\"");
	assert_string_equal(dm_text_word(out, sizeof(out), "k=v"), "\"k=v\"");
	assert_string_equal(dm_text_word(out, 6, "a\"bcdef"), "\"a\\\"\"");
	assert_string_equal(dm_text_word(out, 5, "a\"bcdef"), "\"a\"");
}

/* ---- the event lines ---- */

static const char *ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	(void)ifindex;
	return "eth0";
}

static char *capture_line(void (*emit)(struct dm_lines *, const void *), const void *arg)
{
	struct dm_lines l = {.json = false, .ifname = ifname};
	char *buf = NULL;
	size_t len = 0;

	l.out = open_memstream(&buf, &len);
	assert_non_null(l.out);
	emit(&l, arg);
	fclose(l.out);
	return buf;
}

static struct dm_event_hdr hdr(void)
{
	struct dm_event_hdr h = {.type = DM_EV_PDU, .assoc_id = 7, .ts_ns = 1000};

	h.key.family = 4;
	h.key.addr[0][0] = 0x0100000a;
	h.key.addr[1][0] = 0x0200000a;
	h.key.port[0] = 40000;
	h.key.port[1] = 104;
	return h;
}

static void emit_rq(struct dm_lines *l, const void *arg)
{
	const struct hostile *a = arg;
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	struct dm_event_hdr h = hdr();
	uint8_t pdu[512];
	size_t n = pdu_assoc_rq(pdu, sizeof(pdu), "CALLED", "CALLING", &pc, 1, 16384,
				PDU_DCMTK_IMPL_UID, NULL);

	assert_true(n > 0);
	memcpy(pdu + 10, a->raw, 16); /* called */
	memcpy(pdu + 26, a->raw, 16); /* calling */
	dm_lines_pdu(l, &h, pdu, n, 0);
}

/* The line holds exactly assoc, calling and called, each once, the AE titles as decoded. */
static void test_pdu_line(void **state)
{
	struct tok t[MAX_TOK];
	char want[DM_AE_STR];
	int n, i, c1, c2, c3;
	size_t k;

	(void)state;
	for (k = 0; k < N_AES; k++) {
		char *line = capture_line(emit_rq, &AES[k]);

		n = parse_line(line, t, MAX_TOK);
		if (n < 0)
			fail_msg("%s: not a strict line: %s", AES[k].what, line);
		for (i = 0; i < n; i++)
			if (t[i].key[0] && strcmp(t[i].key, "assoc") && strcmp(t[i].key, "calling") &&
			    strcmp(t[i].key, "called"))
				fail_msg("%s: forged field %s in %s", AES[k].what, t[i].key, line);
		dm_ae_string(AES[k].raw, want);
		assert_string_equal(find_key(t, n, "calling", &c1)->val, want);
		assert_string_equal(find_key(t, n, "called", &c2)->val, want);
		assert_string_equal(find_key(t, n, "assoc", &c3)->val, "7");
		assert_int_equal(c1 + c2 + c3, 3);
		/* Bare words: time, interface, two endpoints, arrow, PDU, "cleartext". */
		assert_int_equal(n, 10);
		free(line);
	}
}

static void emit_move(struct dm_lines *l, const void *arg)
{
	const struct hostile *a = arg;
	struct dm_dimse_cmd c = {.command = 0x0021, .message_id = 3};
	struct dm_event_hdr h = hdr();

	c.present = DM_DC_MESSAGE_ID | DM_DC_MOVE_DEST;
	dm_ae_set(&c.move_destination, a->raw, 16);
	dm_lines_dimse(l, &h, 0, &c);
}

static void test_dimse_line(void **state)
{
	struct tok t[MAX_TOK];
	int n, i, cnt;
	size_t k;

	(void)state;
	for (k = 0; k < N_AES; k++) {
		char *line = capture_line(emit_move, &AES[k]);
		struct dm_ae ae;

		n = parse_line(line, t, MAX_TOK);
		if (n < 0)
			fail_msg("%s: not a strict line: %s", AES[k].what, line);
		for (i = 0; i < n; i++)
			if (t[i].key[0] && strcmp(t[i].key, "assoc") && strcmp(t[i].key, "msg") &&
			    strcmp(t[i].key, "move_destination"))
				fail_msg("%s: forged field %s in %s", AES[k].what, t[i].key, line);
		dm_ae_set(&ae, AES[k].raw, 16);
		assert_string_equal(find_key(t, n, "move_destination", &cnt)->val, ae.str);
		assert_int_equal(cnt, 1);
		free(line);
	}
}

/* ---- the status table ---- */

/* A snapshot as a hostile daemon (or a decoder bug) could send it: raw bytes in strings. */
static json_object *snapshot(void)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array(), *a;
	char s[17];
	size_t k;

	for (k = 0; k < N_AES; k++) {
		a = json_object_new_object();
		json_object_object_add(a, "status", json_object_new_string("finished"));
		json_object_object_add(a, "transport", json_object_new_string("cleartext"));
		json_object_object_add(a, "src", json_object_new_string("10.0.0.1"));
		json_object_object_add(a, "sport", json_object_new_int(40000 + (int)k));
		json_object_object_add(a, "dst", json_object_new_string("10.0.0.2"));
		json_object_object_add(a, "dport", json_object_new_int(104));
		memcpy(s, AES[k].raw, 16);
		s[16] = 0;
		json_object_object_add(a, "calling_ae", json_object_new_string_len(s, 16));
		json_object_object_add(a, "called_ae", json_object_new_string(s));
		json_object_object_add(a, "outcome", json_object_new_string("released"));
		json_object_array_add(arr, a);
	}
	json_object_object_add(o, "source", json_object_new_string("daemon"));
	json_object_object_add(o, "associations", arr);
	return o;
}

static void test_status_table(void **state)
{
	json_object *snap = snapshot();
	struct tok t[MAX_TOK];
	char *buf = NULL, *line, *save = NULL, one[2048], s[17];
	size_t len = 0, k = 0;
	FILE *f = open_memstream(&buf, &len);
	int n;

	(void)state;
	dm_status_print_text(snap, f);
	fclose(f);
	line = strtok_r(buf, "\n", &save); /* the header */
	assert_non_null(line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		assert_true(k < N_AES);
		snprintf(one, sizeof(one), "%s\n", line);
		n = parse_line(one, t, MAX_TOK);
		if (n != 9)
			fail_msg("%s: %d cells, not 9: %s", AES[k].what, n, line);
		memcpy(s, AES[k].raw, 16);
		s[16] = 0;
		/* Each AE title's cell comes back byte for byte (a C string: up to a NUL). */
		assert_string_equal(t[4].val, s);
		assert_string_equal(t[5].val, s);
		assert_string_equal(t[6].val, "released");
		k++;
	}
	assert_int_equal(k, N_AES);
	free(buf);
	json_object_put(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_pdu_line),
	    cmocka_unit_test(test_dimse_line),
	    cmocka_unit_test(test_status_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
