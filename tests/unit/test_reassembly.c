// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reassembly however the sender cut it (issue 11): control PDU pieces with
 * one piece ahead of a hole (pdu.c), DIMSE command sets split over PDVs and
 * PDUs (cmdasm.c, through the association table), HTTP request lines split
 * over events (httpasm.c). Data set bytes and query values are never kept.
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
#include "dicomon.h"
#include "assoc/httpasm.h"
#include "pktbuild.h"
#include "assoc/table.h"

/* ---- control PDU pieces: one ahead of a hole -------------------------------------- */

static void test_pdu_buf_in_order(void **state)
{
	struct dm_pdu_buf b = {};
	uint8_t d[300];

	(void)state;
	for (int i = 0; i < 300; i++)
		d[i] = (uint8_t)i;
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 100, d + 100, 100, 0, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d + 200, 100, 0, 1), DM_PIECE_DONE);
	assert_int_equal(b.len, 300);
	assert_memory_equal(b.data, d, 300);
	assert_null(b.ahead);
	dm_pdu_buf_free(&b);
}

/* The tail overtook the middle: kept ahead, then the hole filled, then the rest. */
static void test_pdu_buf_ahead_then_fill(void **state)
{
	struct dm_pdu_buf b = {};
	uint8_t d[400];

	(void)state;
	for (int i = 0; i < 400; i++)
		d[i] = (uint8_t)(i * 7);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d + 200, 100, 0, 0), DM_PIECE_MORE);
	assert_non_null(b.ahead);
	assert_int_equal(b.len, 100);
	/* The hole in two pieces: the second reaches the block kept ahead. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 100, d + 100, 40, 0, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 140, d + 140, 60, 0, 0), DM_PIECE_MORE);
	assert_null(b.ahead);
	assert_int_equal(b.len, 300);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 300, d + 300, 100, 0, 1), DM_PIECE_DONE);
	assert_int_equal(b.len, 400);
	assert_memory_equal(b.data, d, 400);
	dm_pdu_buf_free(&b);
}

/* The piece that fills the hole is the last: the bytes ahead end the PDU. */
static void test_pdu_buf_fill_last(void **state)
{
	struct dm_pdu_buf b = {};
	uint8_t d[300];

	(void)state;
	for (int i = 0; i < 300; i++)
		d[i] = (uint8_t)(255 - i);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d + 200, 100, 0, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 100, d + 100, 100, 0, 1), DM_PIECE_DONE);
	assert_int_equal(b.len, 300);
	assert_memory_equal(b.data, d, 300);
	/* A new PDU after it starts clean. */
	assert_int_equal(dm_pdu_buf_add(&b, 2, 0, d, 10, 1, 1), DM_PIECE_DONE);
	assert_int_equal(b.len, 10);
	dm_pdu_buf_free(&b);
}

static void test_pdu_buf_ahead_broken(void **state)
{
	struct dm_pdu_buf b = {};
	uint8_t d[400] = {0};

	(void)state;
	/* Two pieces ahead. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d, 50, 0, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 300, d, 50, 0, 0), DM_PIECE_BAD);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 100, d, 100, 0, 1), DM_PIECE_BAD);
	assert_null(b.ahead);
	/* A fill that overlaps the piece ahead. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d, 50, 0, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 100, d, 120, 0, 0), DM_PIECE_BAD);
	/* The last piece leaves the hole open. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d, 50, 0, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 100, d, 50, 0, 1), DM_PIECE_BAD);
	/* The ahead piece itself may not be the last. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 200, d, 50, 0, 1), DM_PIECE_BAD);
	/* A piece behind the bytes so far (an overlap). */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 100, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 50, d, 100, 0, 1), DM_PIECE_BAD);
	dm_pdu_buf_free(&b);
}

/* ---- command sets split over PDVs and PDUs ----------------------------------------- */

struct frag {
	uint8_t pc, mch;
	const uint8_t *p;
	size_t n;
};

/* A P-DATA-TF of the PDVs f[0..n). */
static size_t pdata(uint8_t *out, const struct frag *f, int n)
{
	size_t o = 6, len;
	int i;

	out[0] = DM_PDU_P_DATA;
	out[1] = 0;
	for (i = 0; i < n; i++) {
		len = f[i].n + 2;
		out[o] = (uint8_t)(len >> 24), out[o + 1] = (uint8_t)(len >> 16);
		out[o + 2] = (uint8_t)(len >> 8), out[o + 3] = (uint8_t)len;
		out[o + 4] = f[i].pc;
		out[o + 5] = f[i].mch;
		memcpy(out + o + 6, f[i].p, f[i].n);
		o += 6 + f[i].n;
	}
	len = o - 6;
	out[2] = (uint8_t)(len >> 24), out[3] = (uint8_t)(len >> 16);
	out[4] = (uint8_t)(len >> 8), out[5] = (uint8_t)len;
	return o;
}

/* A C-FIND-RQ command set (its bytes after the PDV header), as a whole: no violation. */
static size_t find_cmd(uint8_t *cmd)
{
	uint8_t p[1024];
	size_t n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_FIND, "1.2.840.10008.5.1.4.1.2.2.1",
				     7, 0, NULL, 1);

	memcpy(cmd, p + 12, n - 12);
	return n - 12;
}

static struct dm_event_hdr thdr(uint64_t id, uint8_t dir)
{
	struct dm_event_hdr h = {.type = DM_EV_DIMSE, .assoc_id = id, .dir = dir, .ts_ns = 5};

	h.key.family = 4;
	h.key.port[0] = 40000;
	h.key.port[1] = 104;
	return h;
}

/* One P-DATA head through the table as the events give it: one piece, then the decode. */
static int dimse(struct dm_table *t, uint64_t id, const uint8_t *pdu, size_t n,
		 struct dm_dimse_cmd *c)
{
	struct dm_event_piece *e = calloc(1, sizeof(*e) + DM_PIECE_MAX);
	const uint8_t *whole;
	struct dm_rec *r;
	size_t wl;
	int err;

	e->hdr = thdr(id, 0);
	e->hdr.len = (uint32_t)n;
	e->hdr.flags = DM_EF_FIRST | DM_EF_LAST;
	e->pdu_type = pdu[0];
	memcpy(e->data, pdu, n);
	r = dm_table_get(t, &e->hdr);
	assert_int_equal(dm_table_piece(t, r, e, &whole, &wl), 1);
	err = dm_table_dimse(t, r, 0, whole, wl, c);
	free(e);
	return err;
}

static int has_code(const struct dm_rec *r, const char *code)
{
	for (uint32_t i = 0; i < r->n_viol && i < DM_REC_MAX_VIOL; i++)
		if (!strcmp(dm_viol_name(r->viol[i].code), code))
			return 1;
	return 0;
}

/* The command in k fragments, each in a PDU of its own. */
static void split_over_pdus(int k)
{
	struct dm_table *t = dm_table_new(16, 60);
	uint8_t cmd[512], pdu[600];
	struct dm_dimse_cmd c;
	const struct dm_rec *r;
	size_t n = find_cmd(cmd), step = n / k + 1, off, m;
	int i;

	for (i = 0, off = 0; off < n; i++, off += m) {
		m = n - off < step ? n - off : step;
		struct frag f = {1, (uint8_t)(off + m == n ? 0x03 : 0x01), cmd + off, m};
		int err = dimse(t, 1, pdu, pdata(pdu, &f, 1), &c);

		if (off + m < n) {
			assert_int_equal(err, -EAGAIN);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(c.command, DIMSE_C_FIND);
			assert_int_equal(c.message_id, 7);
			assert_true(c.complete);
		}
	}
	assert_int_equal(i, k);
	r = dm_table_find(t, 1);
	assert_int_equal(r->n_commands, 1);
	assert_int_equal(r->n_viol, 0);
	assert_null(r->cmd[0].buf);
	dm_table_free(t);
}

static void test_cmd_2_pdus(void **state)
{
	(void)state;
	split_over_pdus(2);
}

static void test_cmd_3_pdus(void **state)
{
	(void)state;
	split_over_pdus(3);
}

/* Two command PDVs in one PDU, then the data set's first PDV: decoded as it came. */
static void test_cmd_2_pdvs_one_pdu(void **state)
{
	static const uint8_t data[16] = "LEAK^CANARY-DATA";
	struct dm_table *t = dm_table_new(16, 60);
	uint8_t cmd[512], pdu[700];
	struct dm_dimse_cmd c;
	const struct dm_rec *r;
	size_t n = find_cmd(cmd);
	struct frag f[3] = {
	    {1, 0x01, cmd, 30}, {1, 0x03, cmd + 30, n - 30}, {1, 0x00, data, sizeof(data)}};

	(void)state;
	assert_int_equal(dimse(t, 1, pdu, pdata(pdu, f, 3), &c), 0);
	assert_int_equal(c.command, DIMSE_C_FIND);
	assert_int_equal(c.data_pdvs_after, 1);
	r = dm_table_find(t, 1);
	assert_int_equal(r->n_viol, 0);
	assert_int_equal(r->n_commands, 1);
	/* The data set's bytes are not left in the table's buffer. */
	assert_null(memmem(r->buf[0].data, r->buf[0].len, "CANARY", 6));
	dm_table_free(t);
}

/* A data set PDV after the first fragment, before the last: a violation, no false command. */
static void test_cmd_data_between(void **state)
{
	static const uint8_t data[8] = "CANARY!!";
	struct dm_table *t = dm_table_new(16, 60);
	uint8_t cmd[512], pdu[700];
	struct dm_dimse_cmd c;
	const struct dm_rec *r;
	size_t n = find_cmd(cmd);
	struct frag a = {1, 0x01, cmd, 40}, d = {1, 0x00, data, sizeof(data)};
	struct frag b = {1, 0x03, cmd + 40, n - 40};

	(void)state;
	/* Across PDUs: the first fragment kept, a PDU of data set, then the last. */
	assert_int_equal(dimse(t, 1, pdu, pdata(pdu, &a, 1), &c), -EAGAIN);
	dimse(t, 1, pdu, pdata(pdu, &d, 1), &c);
	r = dm_table_find(t, 1);
	assert_true(has_code(r, "cmd_fragment"));
	assert_null(r->cmd[0].buf);
	/* Inside one PDU: the decoder says it; the last fragment after it is dropped. */
	struct frag two[2] = {a, d};

	dimse(t, 2, pdu, pdata(pdu, two, 2), &c);
	assert_int_equal(dimse(t, 2, pdu, pdata(pdu, &b, 1), &c), -EAGAIN);
	r = dm_table_find(t, 2);
	assert_true(has_code(r, "cmd_fragment"));
	assert_false(has_code(r, "cmd_group_length"));
	assert_false(has_code(r, "cmd_element"));
	dm_table_free(t);
}

/* Another context's fragment while one is unfinished; more than 4 KiB; the end comes first. */
static void test_cmd_broken(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	uint8_t cmd[512], pdu[1600], big[1500] = {0};
	struct dm_event_flow e = {.hdr = thdr(3, 0), .reason = DM_END_FIN};
	struct dm_dimse_cmd c;
	struct dm_rec *r;
	size_t n = find_cmd(cmd);
	struct frag a = {1, 0x01, cmd, 40}, o = {3, 0x03, cmd, n}, g = {1, 0x01, big, sizeof(big)};

	(void)state;
	assert_int_equal(dimse(t, 1, pdu, pdata(pdu, &a, 1), &c), -EAGAIN);
	assert_int_equal(dimse(t, 1, pdu, pdata(pdu, &o, 1), &c), 0);
	r = (struct dm_rec *)dm_table_find(t, 1);
	assert_true(has_code(r, "cmd_fragment"));
	assert_int_equal(r->n_commands, 1); /* context 3's whole command */
	/* Over DM_CMD_ASM_MAX: a violation, judged on what fits. */
	assert_int_equal(dimse(t, 2, pdu, pdata(pdu, &g, 1), &c), -EAGAIN);
	assert_int_equal(dimse(t, 2, pdu, pdata(pdu, &g, 1), &c), -EAGAIN);
	assert_false(has_code(dm_table_find(t, 2), "cmd_fragment"));
	assert_int_not_equal(dimse(t, 2, pdu, pdata(pdu, &g, 1), &c), -EAGAIN);
	assert_true(has_code(dm_table_find(t, 2), "cmd_fragment"));
	assert_null(dm_table_find(t, 2)->cmd[0].buf);
	/* Unfinished at the flow end. */
	assert_int_equal(dimse(t, 3, pdu, pdata(pdu, &a, 1), &c), -EAGAIN);
	e.hdr.type = DM_EV_FLOW_END;
	r = dm_table_get(t, &e.hdr);
	assert_int_equal(r->n_viol, 0);
	dm_table_end(t, r, &e);
	assert_true(has_code(r, "cmd_fragment"));
	assert_null(r->cmd[0].buf);
	dm_table_free(t);
}

/* The data set PDV that follows the last fragment in its PDU: counted, its bytes never kept. */
static void test_cmd_data_never_kept(void **state)
{
	static const uint8_t data[24] = "LEAK^CANARY-PATIENT-NAME";
	struct dm_table *t = dm_table_new(16, 60);
	uint8_t cmd[512], pdu[700];
	struct dm_dimse_cmd c;
	const struct dm_rec *r;
	size_t n = find_cmd(cmd);
	struct frag a = {1, 0x01, cmd, 50};
	struct frag rest[2] = {{1, 0x03, cmd + 50, n - 50}, {1, 0x02, data, sizeof(data)}};

	(void)state;
	assert_int_equal(dimse(t, 1, pdu, pdata(pdu, &a, 1), &c), -EAGAIN);
	assert_int_equal(dimse(t, 1, pdu, pdata(pdu, rest, 2), &c), 0);
	assert_int_equal(c.command, DIMSE_C_FIND);
	assert_int_equal(c.data_pdvs_after, 1); /* told to the decoder, without its bytes */
	r = dm_table_find(t, 1);
	assert_int_equal(r->n_viol, 0);
	assert_null(memmem(r->buf[0].data, r->buf[0].len, "CANARY", 6));
	assert_null(r->cmd[0].buf);
	dm_table_free(t);
}

/* ---- HTTP requests over several events ---------------------------------------------- */

struct got {
	int n;
	struct dm_http_req last;
	struct dm_event_hdr h;
};

static void on_req(void *ctx, const struct dm_event_hdr *h, const struct dm_http_req *req)
{
	struct got *g = ctx;

	g->n++;
	g->last = *req;
	g->h = *h;
}

static void http_ev(struct dm_http_asm *a, uint16_t sport, uint32_t off, const char *s, size_t n,
		    uint8_t flags, uint64_t now)
{
	struct dm_event_http *e = calloc(1, sizeof(*e));

	e->hdr.type = DM_EV_HTTP;
	e->hdr.key.family = 4;
	e->hdr.key.port[0] = sport;
	e->hdr.key.port[1] = 8042;
	e->hdr.ts_ns = now;
	e->hdr.len = (uint32_t)n;
	e->hdr.flags = flags | (off == 0 ? DM_EF_FIRST : 0);
	e->offset = off;
	e->seg_len = (uint32_t)n;
	memcpy(e->data, s, n);
	dm_http_asm_event(a, e, now);
	free(e);
}

static const char qido[] = "GET /dicom-web/studies?PatientName=LEAK%5ECANARY HTTP/1.1\r\n"
			   "Host: pacs\r\n\r\n";

static void assert_nothing_left(const struct dm_http_asm *a)
{
	size_t len;
	const void *m = dm_http_asm_mem(a, &len);

	assert_null(memmem(m, len, "CANARY", 6));
	assert_null(memmem(m, len, "dicom-web", 9));
}

static void test_http_one_byte(void **state)
{
	struct got g = {};
	struct dm_http_asm *a = dm_http_asm_new(on_req, &g);
	size_t i, n = strlen(qido);

	(void)state;
	for (i = 0; i < n; i++)
		http_ev(a, 50000, (uint32_t)i, qido + i, 1, 0, 100 + i);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.last.method, "GET");
	assert_int_equal(g.last.resource, DM_DW_STUDIES);
	assert_int_equal(g.last.phi, 1u << DM_PHI_PATIENT_NAME);
	assert_false(g.last.truncated);
	assert_int_equal(g.h.ts_ns, 100); /* its first event's header */
	/* Parsed at the CR: the bytes after it are of no request held. */
	assert_int_equal(dm_http_asm_stats(a)->orphans, n - (size_t)(strchr(qido, '\r') - qido + 1));
	assert_int_equal(dm_http_asm_held(a), 0);
	assert_nothing_left(a);
	dm_http_asm_free(a);
}

/* A prefix the BPF side held (up to 48 bytes), then the segment that decided. */
static void test_http_prefix_then_segment(void **state)
{
	struct got g = {};
	struct dm_http_asm *a = dm_http_asm_new(on_req, &g);

	(void)state;
	http_ev(a, 50001, 0, qido, 3, 0, 1);
	assert_int_equal(g.n, 0);
	http_ev(a, 50001, 3, qido + 3, strlen(qido) - 3, 0, 2);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.last.resource, DM_DW_STUDIES);
	assert_int_equal(g.last.n_query_keys, 1);
	/* A single segment holding the line: parsed at once, as before. */
	http_ev(a, 50002, 0, qido, strlen(qido), 0, 3);
	assert_int_equal(g.n, 2);
	assert_nothing_left(a);
	dm_http_asm_free(a);
}

/* A request line longer than DM_HTTP_SNAP: parsed at LAST, truncated. */
static void test_http_last_at_snap(void **state)
{
	struct got g = {};
	struct dm_http_asm *a = dm_http_asm_new(on_req, &g);
	char line[DM_HTTP_SNAP + 100];

	(void)state;
	memset(line, 'a', sizeof(line));
	memcpy(line, "GET /dicom-web/studies?PatientName=X&q=", 39);
	http_ev(a, 50003, 0, line, 600, 0, 1);
	assert_int_equal(g.n, 0);
	http_ev(a, 50003, 600, line + 600, DM_HTTP_SNAP - 600, DM_EF_LAST, 2);
	assert_int_equal(g.n, 1);
	assert_true(g.last.truncated);
	assert_int_equal(g.last.resource, DM_DW_STUDIES);
	/* Nothing of it is parsed again. */
	http_ev(a, 50003, DM_HTTP_SNAP, line, 10, 0, 3);
	assert_int_equal(g.n, 1);
	assert_int_equal(dm_http_asm_stats(a)->orphans, 1);
	dm_http_asm_free(a);
}

static void test_http_evict_and_age(void **state)
{
	struct got g = {};
	struct dm_http_asm *a = dm_http_asm_new(on_req, &g);
	int i;

	(void)state;
	/* One more request line cut short than the table holds: the least recently fed goes. */
	for (i = 0; i <= DM_HTTP_ASM_MAX; i++)
		http_ev(a, (uint16_t)(20000 + i), 0, "GET /dicom-web/stud", 19, 0, 10 + i);
	assert_int_equal(dm_http_asm_stats(a)->evicted, 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h.key.port[0], 20000);
	assert_true(g.last.truncated);
	assert_int_equal(dm_http_asm_held(a), DM_HTTP_ASM_MAX);
	/* Past the age bound: all parsed as they are. */
	dm_http_asm_expire(a, 10 + DM_HTTP_ASM_AGE_NS - 1);
	assert_int_equal(g.n, 1);
	dm_http_asm_expire(a, 11 + DM_HTTP_ASM_AGE_NS);
	assert_int_equal(dm_http_asm_stats(a)->expired, 1);
	dm_http_asm_expire(a, 1000 + DM_HTTP_ASM_AGE_NS);
	assert_int_equal(g.n, 1 + DM_HTTP_ASM_MAX);
	assert_int_equal(dm_http_asm_held(a), 0);
	assert_nothing_left(a);
	dm_http_asm_free(a);
}

/* Least recently fed, not least recently started: a request fed again stays, the next one goes. */
static void test_http_evict_least_recently_fed(void **state)
{
	struct got g = {};
	struct dm_http_asm *a = dm_http_asm_new(on_req, &g);
	int i;

	(void)state;
	for (i = 0; i < DM_HTTP_ASM_MAX; i++)
		http_ev(a, (uint16_t)(20000 + i), 0, "GET /dicom-web/", 15, 0, 10 + i);
	http_ev(a, 20000, 15, "stu", 3, 0, 1000); /* the oldest, fed again */
	http_ev(a, 30000, 0, "GET /dicom-web/stu", 18, 0, 1001);
	assert_int_equal(dm_http_asm_stats(a)->evicted, 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h.key.port[0], 20001);
	/* The one fed again is still held, whole: it ends at its line's end. */
	http_ev(a, 20000, 18, "dies HTTP/1.1\r\n", 15, 0, 1002);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.h.key.port[0], 20000);
	assert_int_equal(g.last.resource, DM_DW_STUDIES);
	assert_false(g.last.truncated);
	assert_int_equal(dm_http_asm_held(a), DM_HTTP_ASM_MAX - 1);
	dm_http_asm_flush(a);
	assert_int_equal(g.n, 1 + DM_HTTP_ASM_MAX);
	assert_int_equal(dm_http_asm_held(a), 0);
	assert_nothing_left(a);
	dm_http_asm_free(a);
}

/* A new FIRST on the flow: the request before it is parsed as it is, the new one starts. */
static void test_http_new_first(void **state)
{
	static const char other[] = "GET /dicom-web/studies/1.2.3/series HTTP/1.1\r\n";
	struct got g = {};
	struct dm_http_asm *a = dm_http_asm_new(on_req, &g);

	(void)state;
	http_ev(a, 50004, 0, "GET /dicom-web/stu", 18, 0, 1);
	http_ev(a, 50004, 0, other, strlen(other), 0, 2);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.last.resource, DM_DW_SERIES);
	/* A continuation that does not continue: judged on what is held. */
	http_ev(a, 50004, 0, "GET /dicom-web/stu", 18, 0, 3);
	http_ev(a, 50004, 30, "dies", 4, 0, 4);
	assert_int_equal(g.n, 3);
	assert_int_equal(dm_http_asm_stats(a)->gaps, 1);
	/* The end: what is held is parsed. */
	http_ev(a, 50005, 0, "GET /dicom-web/studies?PatientName=LEAK", 39, 0, 5);
	dm_http_asm_flush(a);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.last.phi, 1u << DM_PHI_PATIENT_NAME);
	assert_nothing_left(a);
	dm_http_asm_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pdu_buf_in_order),
	    cmocka_unit_test(test_pdu_buf_ahead_then_fill),
	    cmocka_unit_test(test_pdu_buf_fill_last),
	    cmocka_unit_test(test_pdu_buf_ahead_broken),
	    cmocka_unit_test(test_cmd_2_pdus),
	    cmocka_unit_test(test_cmd_3_pdus),
	    cmocka_unit_test(test_cmd_2_pdvs_one_pdu),
	    cmocka_unit_test(test_cmd_data_between),
	    cmocka_unit_test(test_cmd_broken),
	    cmocka_unit_test(test_cmd_data_never_kept),
	    cmocka_unit_test(test_http_one_byte),
	    cmocka_unit_test(test_http_prefix_then_segment),
	    cmocka_unit_test(test_http_last_at_snap),
	    cmocka_unit_test(test_http_evict_and_age),
	    cmocka_unit_test(test_http_evict_least_recently_fed),
	    cmocka_unit_test(test_http_new_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
