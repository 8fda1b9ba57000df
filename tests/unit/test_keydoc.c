// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The documents against the key table (config/keys.c) and the option rows
 * (config/options.c): README.md's key and option tables and the man page's
 * OPTIONS and CONFIGURATION entries are what keydoc.c renders, block for
 * block; packaging/dicomon.yaml is the defaults, lists every key, and the
 * comment above each key says [restart] exactly when the key needs one and
 * gives its limits. Runs from the repository root (make test-unit).
 *
 * `test_keydoc --update` (make keydoc) rewrites the blocks instead.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config/cli.h"
#include "config/config.h"
#include "config/keydoc.h"
#include "config/yaml_config.h"

/* A generated block: between the lines holding "keydoc: FMT begin" and "keydoc: FMT end". */
static const struct {
	const char *file;
	enum dm_keydoc_fmt fmt;
} blocks[] = {
    {"README.md", DM_KEYDOC_MD_KEYS},
    {"README.md", DM_KEYDOC_MD_OPTS},
    {"packaging/dicomon.8", DM_KEYDOC_MAN_OPTS},
    {"packaging/dicomon.8", DM_KEYDOC_MAN_KEYS},
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static char *render(enum dm_keydoc_fmt fmt)
{
	static char *text;
	static size_t len;
	FILE *f;

	text = NULL;
	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	dm_keydoc_write(f, fmt);
	fclose(f);
	return text;
}

/* The block's text in doc: [*start, *end). Returns 0 or -ENOENT. */
static int find_block(const char *doc, enum dm_keydoc_fmt fmt, size_t *start, size_t *end)
{
	char mark[64];
	const char *b, *e;

	snprintf(mark, sizeof(mark), "keydoc: %s begin", dm_keydoc_fmt_names[fmt]);
	b = strstr(doc, mark);
	snprintf(mark, sizeof(mark), "keydoc: %s end", dm_keydoc_fmt_names[fmt]);
	e = b ? strstr(b, mark) : NULL;
	if (!b || !e || !strchr(b, '\n'))
		return -ENOENT;
	*start = strchr(b, '\n') + 1 - doc;
	while (e > doc && e[-1] != '\n')
		e--;
	*end = e - doc;
	return *end >= *start ? 0 : -ENOENT;
}

static int update(void)
{
	size_t i, s, e;
	char *doc, *text;
	FILE *f;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		doc = slurp(blocks[i].file);
		text = render(blocks[i].fmt);
		if (!doc || !text || find_block(doc, blocks[i].fmt, &s, &e)) {
			fprintf(stderr, "%s: no block keydoc: %s\n", blocks[i].file,
				dm_keydoc_fmt_names[blocks[i].fmt]);
			return 1;
		}
		f = fopen(blocks[i].file, "w");
		if (!f || fprintf(f, "%.*s%s%s", (int)s, doc, text, doc + e) < 0 || fclose(f)) {
			perror(blocks[i].file);
			return 1;
		}
		printf("  KEYDOC   %s (%s)\n", blocks[i].file, dm_keydoc_fmt_names[blocks[i].fmt]);
		free(doc);
		free(text);
	}
	return 0;
}

/* The committed blocks are what the tables render now. */
static void test_blocks_current(void **state)
{
	size_t i, s, e;
	char *doc, *text;

	(void)state;
	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		doc = slurp(blocks[i].file);
		if (!doc)
			fail_msg("cannot read %s", blocks[i].file);
		if (find_block(doc, blocks[i].fmt, &s, &e))
			fail_msg("%s has no block 'keydoc: %s begin' .. 'end'", blocks[i].file,
				 dm_keydoc_fmt_names[blocks[i].fmt]);
		text = render(blocks[i].fmt);
		if (strlen(text) != e - s || memcmp(doc + s, text, e - s))
			fail_msg("%s: the %s block is not what the key table says: run make keydoc",
				 blocks[i].file, dm_keydoc_fmt_names[blocks[i].fmt]);
		free(text);
		free(doc);
	}
}

static void expect(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("no '%s' in:\n%s", what, text);
}

/* Each format names every key with its default, limits and reload. */
static void test_render(void **state)
{
	char *md, *man, *txt, *opts, line[256];
	const struct dm_key *k;
	size_t i;

	(void)state;
	man = render(DM_KEYDOC_MAN_KEYS);
	txt = render(DM_KEYDOC_TEXT);
	md = render(DM_KEYDOC_MD_KEYS);
	assert_true(man && txt && md);
	for (i = 0; i < dm_n_keys; i++) {
		k = &dm_keys[i];
		snprintf(line, sizeof(line), "| `%s` |", k->name);
		expect(md, line);
		snprintf(line, sizeof(line), "\n%s = ", k->name);
		expect(txt, line);
		snprintf(line, sizeof(line), ".BR %s \" (", k->name);
		expect(man, line);
		if (k->type == DM_KT_U32) {
			snprintf(line, sizeof(line), "| `%s` | %s%u..%u | `%s` | %s", k->name,
				 k->flags & DM_KF_POW2 ? "power of two, " : "", k->min, k->max,
				 k->def, k->flags & DM_KF_RESTART ? "restart |" : "live");
			expect(md, line);
		}
	}
	expect(md, "| `detection.ports` | list of ports and `\"A-B\"` ranges, or a string "
		   "`\"104,2000-2010\"` | `[104, 11112, 2762, 4242]` | live |");
	expect(md, "| `detection.web_ports` | list of ports and `\"A-B\"` ranges, or a string "
		   "`\"104,2000-2010\"`, at most 8 | `[80, 8042, 8080]` |");
	expect(md, "| `attach.xdp_mode` | `auto` \\| `native` \\| `generic` \\| `off` | `auto` | "
		   "live (re-attach) |");
	expect(md, "| `metrics.listen` | list of `ADDRESS:PORT` or `[IPV6]:PORT` | "
		   "`[\"127.0.0.1:9479\"]` | restart |");
	expect(md,
	       "| `feed.file` | absolute path (< 256 bytes) or `\"\"` | `\"\"` | live (reopened");
	expect(md, "| `interfaces` | list | `[]` | live |");
	expect(md, "See [docs/feed.md](docs/feed.md)");
	/* troff: dashes and quotes escaped, links as their text, an en dash spelt out. */
	expect(man,
	       ".BR maps.flow_slots \" (16384) [restart]\"\n\\fIpower of two, 64..4194304\\fR");
	expect(man, ".BR attach.tc_mode \" (auto) [re-attach]\"");
	expect(man, ".BR policy.imaging_networks \" ([\\(dq10.0.0.0/8\\(dq, ");
	expect(man, "4\\(en20 KiB");
	expect(man, "a hostile set\\-up PDU");
	expect(man, "See docs/feed.md\n");
	expect(txt, "maps.flow_slots = 16384  (power of two, 64..4194304; restart)\n"
		    "    association slots (dm_flows)\n");
	/* Options: what each sets, and the commands taking it. */
	opts = render(DM_KEYDOC_MD_OPTS);
	expect(opts, "| `--no-midstream` | run, replay | `detection.midstream: false` | do not");
	expect(opts, "| `-p, --ports LIST` | run, replay | `detection.ports` | DICOM ports for "
		     "mid-stream pickup and TLS (default 104,11112,2762,4242; ranges");
	expect(opts, "| `-v, --verbose` | run, replay, status, detach | `output.log_level` |");
	free(opts);
	opts = render(DM_KEYDOC_MAN_OPTS);
	expect(opts, ".TP\n.BI \"\\-\\-flow\\-slots \" N\nassociation slots (power of two, "
		     "default 16384) [\\%maps.flow_slots] \\fI(run, replay)\\fR\n");
	expect(opts, ".TP\n.B \"\\-\\-keep\\-attached\"\n");
	expect(opts, "(evidence.dir) \\fI(run, replay)\\fR"); /* its help names the key */
	free(opts);
	free(md);
	free(man);
	free(txt);
}

/* The comment lines right above "  NAME:" in section SEC of the YAML text. */
static int key_comment(const char *text, const char *key, char *out, size_t len)
{
	char sec[64], line[96];
	const char *dot = strchr(key, '.'), *s, *k, *start, *b;

	snprintf(sec, sizeof(sec), "\n%.*s:\n", (int)(dot - key), key);
	snprintf(line, sizeof(line), "\n  %s:", dot + 1);
	s = strstr(text, sec);
	k = s ? strstr(s, line) : NULL;
	if (!k)
		return -ENOENT;
	/* Up over the lines "  # ..." just above the key's line. */
	for (start = k + 1; start - 1 > s; start = b) {
		for (b = start - 1; b > s && b[-1] != '\n'; b--)
			;
		if (strncmp(b, "  #", 3))
			break;
	}
	snprintf(out, len, "%.*s", (int)(k + 1 - start), start);
	return 0;
}

/* The shipped config: the defaults, every key, each with a comment true to the table. */
static void test_shipped_config(void **state)
{
	char *text = slurp("packaging/dicomon.yaml"), c_[4096], want[64], err[512];
	struct dm_config c, d;
	const struct dm_key *k;
	size_t i;
	int j;

	(void)state;
	assert_non_null(text);
	dm_config_defaults(&d);
	dm_config_defaults(&c);
	if (dm_config_parse_yaml(&c, "dicomon.yaml", text, strlen(text), err, sizeof(err)))
		fail_msg("packaging/dicomon.yaml: %s", err);
	for (i = 0; i < dm_n_keys; i++) {
		k = &dm_keys[i];
		if (!dm_key_equal(&c, &d, k))
			fail_msg("packaging/dicomon.yaml: %s is not its default", k->name);
		if (key_comment(text, k->name, c_, sizeof(c_)))
			fail_msg("packaging/dicomon.yaml lacks %s", k->name);
		if (!c_[0])
			fail_msg("packaging/dicomon.yaml: no comment above %s", k->name);
		if (!strstr(c_, "[restart]") != !(k->flags & DM_KF_RESTART))
			fail_msg(
			    "packaging/dicomon.yaml: %s is %s, its comment says otherwise:\n%s",
			    k->name, k->flags & DM_KF_RESTART ? "[restart]" : "live", c_);
		if (k->type == DM_KT_U32)
			snprintf(want, sizeof(want), "%u..%u", k->min, k->max);
		else if (k->type == DM_KT_PORTS && k->max)
			snprintf(want, sizeof(want), "at most %u", k->max);
		else
			want[0] = 0;
		if (!strstr(c_, want) || ((k->flags & DM_KF_POW2) && !strstr(c_, "power of two")))
			fail_msg("packaging/dicomon.yaml: the comment of %s lacks '%s':\n%s",
				 k->name, want, c_);
		for (j = 0; k->type == DM_KT_ENUM && k->names[j]; j++)
			if (!strstr(c_, k->names[j]))
				fail_msg("packaging/dicomon.yaml: the comment of %s lacks '%s'",
					 k->name, k->names[j]);
	}
	assert_int_equal(c.n_ifaces, 0);
	free(text);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocks_current),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_shipped_config),
	};

	if (argc > 1 && !strcmp(argv[1], "--update"))
		return update();
	return cmocka_run_group_tests_name("unit_keydoc", tests, NULL, NULL);
}
