// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of the association table: records from events, bounds, expiry, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "dicomon.h"
#include "pktbuild.h"
#include "assoc/table.h"

static struct dm_event_hdr hdr(uint64_t id, uint8_t dir, uint64_t ts)
{
	struct dm_event_hdr h = {.type = DM_EV_PDU, .assoc_id = id, .dir = dir, .ts_ns = ts};

	h.key.family = 4;
	h.key.addr[0][0] = 0x0100000a;
	h.key.addr[1][0] = 0x0200000a;
	h.key.port[0] = 40000;
	h.key.port[1] = 11112;
	return h;
}

/* Feed a whole PDU as pieces of at most chunk bytes, as the ring buffer would. */
static void feed(struct dm_table *t, uint64_t id, uint8_t dir, uint32_t ev, const uint8_t *pdu,
		 size_t len, size_t chunk)
{
	struct dm_event_piece *e = calloc(1, sizeof(*e) + DM_PIECE_MAX);
	const uint8_t *whole;
	struct dm_dimse_cmd d;
	struct dm_rec *r;
	size_t off, n, wlen;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		e->hdr = hdr(id, dir, 1000);
		e->hdr.type = ev;
		e->hdr.len = n;
		e->hdr.flags = (off == 0 ? DM_EF_FIRST : 0) | (off + n == len ? DM_EF_LAST : 0);
		e->pdu_type = pdu[0];
		e->offset = off;
		memcpy(e->data, pdu + off, n);
		r = dm_table_get(t, &e->hdr);
		assert_non_null(r);
		if (!dm_table_piece(t, r, e, &whole, &wlen))
			continue;
		if (ev == DM_EV_DIMSE)
			dm_table_dimse(t, r, dir, whole, wlen, &d);
		else
			dm_table_control_pdu(t, r, dir, whole, wlen);
	}
	free(e);
}

static void end(struct dm_table *t, uint64_t id, uint8_t state, uint64_t ts)
{
	struct dm_event_flow e = {.hdr = hdr(id, 0, ts), .reason = DM_END_FIN};
	struct dm_rec *r;

	e.hdr.type = DM_EV_FLOW_END;
	e.assoc.state = state;
	e.assoc.transport = DM_TRANSPORT_CLEARTEXT;
	e.assoc.dir[0].bytes = 301;
	r = dm_table_get(t, &e.hdr);
	assert_non_null(r);
	dm_table_end(t, r, &e);
}

static void echo(struct dm_table *t, uint64_t id, size_t chunk)
{
	uint8_t p[1024];
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t ids[1] = {1}, res[1] = {0};

	feed(t, id, 0, DM_EV_PDU, p,
	     pdu_assoc_rq(p, sizeof(p), "PACS", "MODALITY", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			  PDU_DCMTK_IMPL_VER),
	     chunk);
	feed(t, id, 1, DM_EV_PDU, p,
	     pdu_assoc_ac(p, sizeof(p), "PACS", "MODALITY", ids, res, 1, 16384), chunk);
	feed(t, id, 0, DM_EV_DIMSE, p,
	     pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0),
	     chunk);
	feed(t, id, 1, DM_EV_DIMSE, p,
	     pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION, 1,
			       0, NULL, 0),
	     chunk);
	feed(t, id, 0, DM_EV_PDU, p, pdu_release_rq(p, sizeof(p)), chunk);
	feed(t, id, 1, DM_EV_PDU, p, pdu_release_rp(p, sizeof(p)), chunk);
}

static void test_echo_record(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r;
	json_object *o = json_object_new_object(), *x, *y;

	(void)state;
	echo(t, 7, 7); /* seven-byte pieces: every PDU is rebuilt from several */
	end(t, 7, DM_STATE_RELEASED, 2000);
	r = dm_table_find(t, 7);
	assert_non_null(r);
	assert_true(r->finished);
	assert_string_equal(dm_rec_calling(r), "MODALITY");
	assert_string_equal(dm_rec_called(r), "PACS");
	assert_non_null(r->rq);
	assert_int_equal(r->rq->n_pcs, 1);
	assert_true(r->have_fp);
	assert_int_equal(r->outcome, DM_OUT_RELEASED);
	assert_int_equal(dm_table_stats(t)->finished, 1);
	assert_int_equal(dm_table_stats(t)->active, 0);
	assert_int_equal(dm_table_stats(t)->pdus_broken, 0);
	dm_rec_json(r, o);
	assert_true(json_object_object_get_ex(o, "commands", &x));
	assert_true(json_object_object_get_ex(x, "C-ECHO-RQ", &y));
	assert_int_equal(json_object_get_int(y), 1);
	assert_true(json_object_object_get_ex(x, "C-ECHO-RSP", &y));
	assert_int_equal(json_object_get_int(y), 1);
	assert_true(json_object_object_get_ex(o, "statuses", &x));
	assert_true(json_object_object_get_ex(x, "success", &y));
	assert_int_equal(json_object_get_int(y), 1);
	assert_true(json_object_object_get_ex(o, "outcome", &x));
	assert_string_equal(json_object_get_string(x), "released");
	json_object_put(o);
	dm_table_free(t);
}

static void test_reject_abort(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r;
	uint8_t p[64];

	(void)state;
	feed(t, 1, 1, DM_EV_PDU, p, pdu_assoc_rj(p, sizeof(p), 1, 1, 7), 64);
	end(t, 1, DM_STATE_REJECTED, 10);
	r = dm_table_find(t, 1);
	assert_int_equal(r->outcome, DM_OUT_REJECTED);
	assert_true(r->rejected);
	assert_int_equal(r->reject.reason, 7);
	feed(t, 2, 0, DM_EV_PDU, p, pdu_abort(p, sizeof(p), 0, 0), 64);
	end(t, 2, DM_STATE_ABORTED, 10);
	r = dm_table_find(t, 2);
	assert_int_equal(r->outcome, DM_OUT_ABORTED);
	assert_true(r->aborted);
	dm_table_free(t);
}

/* A lost piece: the PDU is counted broken, nothing is made up. */
static void test_broken_pieces(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	struct dm_event_piece *e = calloc(1, sizeof(*e) + DM_PIECE_MAX);
	const uint8_t *w;
	struct dm_rec *r;
	size_t wl;

	(void)state;
	e->hdr = hdr(3, 0, 1);
	e->hdr.len = 10;
	e->hdr.flags = DM_EF_FIRST;
	e->pdu_type = 1;
	r = dm_table_get(t, &e->hdr);
	assert_int_equal(dm_table_piece(t, r, e, &w, &wl), 0);
	e->offset = 20; /* 10..19 lost */
	e->hdr.flags = DM_EF_LAST;
	assert_int_equal(dm_table_piece(t, r, e, &w, &wl), 0);
	assert_int_equal(dm_table_stats(t)->pdus_broken, 1);
	assert_null(r->rq);
	free(e);
	dm_table_free(t);
}

static uint64_t evicted_ids[8];
static int n_evicted;

static void count_evict(void *ctx, struct dm_rec *r)
{
	(void)ctx;
	if (n_evicted < 8)
		evicted_ids[n_evicted++] = r->id;
}

/* Memory is bounded: finished records go first, then the oldest active one. */
static void test_bounds_and_expiry(void **state)
{
	struct dm_table *t = dm_table_new(4, 60);
	struct dm_event_hdr h;
	uint64_t id;

	(void)state;
	n_evicted = 0;
	dm_table_on_evict(t, count_evict, NULL);
	for (id = 1; id <= 4; id++) {
		h = hdr(id, 0, id);
		assert_non_null(dm_table_get(t, &h));
	}
	end(t, 2, DM_STATE_RELEASED, 100);
	h = hdr(5, 0, 5);
	dm_table_get(t, &h);
	assert_null(dm_table_find(t, 2)); /* the finished one made room */
	assert_int_equal(dm_table_stats(t)->evicted_finished, 1);
	h = hdr(6, 0, 6);
	dm_table_get(t, &h);
	assert_null(dm_table_find(t, 1)); /* then the oldest active */
	assert_int_equal(dm_table_stats(t)->evicted_active, 1);
	/* Only the active one is reported (its end never comes); finished ones were. */
	assert_int_equal(n_evicted, 1);
	assert_int_equal(evicted_ids[0], 1);
	assert_non_null(dm_table_find(t, 6));

	end(t, 3, DM_STATE_RELEASED, 1000);
	dm_table_expire(t, 1000 + 59ULL * 1000000000ULL);
	assert_non_null(dm_table_find(t, 3));
	dm_table_expire(t, 1000 + 60ULL * 1000000000ULL);
	assert_null(dm_table_find(t, 3));
	assert_int_equal(dm_table_stats(t)->expired, 1);
	assert_int_equal(dm_table_stats(t)->active, 3);
	dm_table_free(t);
}

static void collect_id(const struct dm_rec *r, void *ctx)
{
	uint64_t **p = ctx;

	*(*p)++ = r->id;
}

/* A larger bound (a reload) keeps every record, found, in start order; a smaller one evicts. */
static void test_limits_changed(void **state)
{
	struct dm_table *t = dm_table_new(64, 60);
	static uint64_t ids[2000];
	uint64_t id, *p = ids;
	struct dm_event_hdr h;

	(void)state;
	for (id = 1; id <= 2000; id++) {
		if (id == 65)
			dm_table_set_limits(t, 2000, 60);
		h = hdr(id, 0, id);
		assert_non_null(dm_table_get(t, &h));
	}
	assert_int_equal(dm_table_stats(t)->evicted_active, 0);
	for (id = 1; id <= 2000; id++)
		assert_int_equal(dm_table_find(t, id)->id, id);
	dm_table_foreach(t, collect_id, &p);
	assert_int_equal(p - ids, 2000);
	for (id = 1; id <= 2000; id++)
		assert_int_equal(ids[id - 1], id);
	/* Lowered: nothing goes until the next record, then the oldest down to the bound. */
	dm_table_set_limits(t, 10, 60);
	assert_non_null(dm_table_find(t, 1));
	h = hdr(3000, 0, 3000);
	assert_non_null(dm_table_get(t, &h));
	assert_int_equal(dm_table_stats(t)->active, 10);
	assert_int_equal(dm_table_stats(t)->evicted_active, 1991);
	assert_null(dm_table_find(t, 1991));
	assert_non_null(dm_table_find(t, 1992));
	dm_table_free(t);
}

static size_t put_item(uint8_t *p, uint8_t type, const void *body, size_t n)
{
	p[0] = type;
	p[1] = 0;
	p[2] = n >> 8;
	p[3] = n & 0xff;
	memcpy(p + 4, body, n);
	return 4 + n;
}

/* A hostile RQ: 256 contexts of 16 transfer syntaxes, every UID distinct and 64 long. */
static void test_hostile_rq_bounded(void **state)
{
	size_t cap = 400000, n = 74, pc, k, b;
	uint8_t *p = calloc(1, cap), body[2048];
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r;
	char uid[128];

	(void)state;
	p[0] = 1;
	p[7] = 1;
	memset(p + 10, 'A', 32);
	n += put_item(p + n, 0x10, "1.2.840.10008.3.1.1.1", 21);
	for (pc = 0; pc < 256; pc++) {
		b = 4;
		body[0] = (uint8_t)(pc * 2 + 1);
		body[1] = body[2] = body[3] = 0;
		for (k = 0; k <= 16; k++) {
			/* Distinct by the first components, padded with 1s to 64 characters. */
			snprintf(uid, sizeof(uid), "1.2.3.%zu.%zu.%s", pc, k,
				 "1111111111111111111111111111111111111111111111111111111111");
			b += put_item(body + b, k ? 0x40 : 0x30, uid, 64);
		}
		n += put_item(p + n, 0x20, body, b);
	}
	p[2] = (n - 6) >> 24;
	p[3] = (n - 6) >> 16;
	p[4] = (n - 6) >> 8;
	p[5] = (n - 6) & 0xff;
	feed(t, 9, 0, DM_EV_PDU, p, n, DM_PIECE_MAX);
	r = dm_table_find(t, 9);
	assert_non_null(r);
	assert_non_null(r->rq);
	assert_true(r->decode_cut);
	/* What one record may hold, whatever the RQ. */
	assert_true(dm_assoc_mem(r->rq) <= 48 << 10);
	free(p);
	dm_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_record),	       cmocka_unit_test(test_reject_abort),
	    cmocka_unit_test(test_broken_pieces),      cmocka_unit_test(test_bounds_and_expiry),
	    cmocka_unit_test(test_hostile_rq_bounded), cmocka_unit_test(test_limits_changed),
	};

	return cmocka_run_group_tests_name("unit_table", tests, NULL, NULL);
}
