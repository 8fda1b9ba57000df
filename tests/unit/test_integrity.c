// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Every malformed byte accounted for (issue 11), through the event consumer
 * as the ring buffer feeds it: DM_EV_ANOMALY as a line of its own and as a
 * stream_* violation with direction and offset, kinds the datapath only
 * counted, decode_incomplete and its reasons, the candidate flag, a set-up
 * PDU cut short decoded at the flow end, and the metrics they move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "output/assoc_metrics.h"
#include "dicomon.h"
#include "config/config.h"
#include "core/counters.h"
#include "core/pipeline.h"
#include "evfix.h"

struct fx {
	char *buf;
	size_t len;
	FILE *out;
	struct dm_pipeline *ev;
	uint8_t rq[1024], ac[1024];
	size_t rq_len, ac_len;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct dm_config cfg;
	char err[256];

	dm_config_defaults(&cfg);
	cfg.json = true;
	f->out = open_memstream(&f->buf, &f->len);
	assert_int_equal(dm_pipeline_new(&cfg, NULL, NULL, f->out, &f->ev, err, sizeof(err)), 0);
	evfix_echo_setup(f->rq, &f->rq_len, f->ac, &f->ac_len, sizeof(f->rq));
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dm_pipeline_free(f->ev);
	fclose(f->out);
	free(f->buf);
	free(f);
	return 0;
}


static void piece(struct fx *f, uint64_t id, uint8_t dir, const uint8_t *pdu, uint32_t off,
		  size_t n, uint8_t flags)
{
	evfix_piece(f->ev, evfix_hdr(id, dir, DM_EV_PDU), pdu, off, n, flags);
}

static void whole(struct fx *f, uint64_t id, uint8_t dir, const uint8_t *pdu, size_t n)
{
	piece(f, id, dir, pdu, 0, n, DM_EF_FIRST | DM_EF_LAST);
}

static void anomaly(struct fx *f, uint64_t id, uint8_t dir, uint32_t code, uint32_t value,
		    uint64_t offset)
{
	struct dm_event_anomaly e = {.hdr = evfix_hdr(id, dir, DM_EV_ANOMALY)};

	e.code = code;
	e.value = value;
	e.offset = offset;
	dm_pipeline_event(f->ev, &e, sizeof(e));
}

static void end(struct fx *f, uint64_t id, const struct dm_assoc *a)
{
	struct dm_event_flow e = {.hdr = evfix_hdr(id, 0, DM_EV_FLOW_END), .reason = DM_END_FIN};

	e.assoc = *a;
	e.assoc.id = id;
	if (!e.assoc.transport)
		e.assoc.transport = DM_TRANSPORT_CLEARTEXT;
	dm_pipeline_event(f->ev, &e, sizeof(e));
}

/* The id-th line of the given event kind printed so far (JSON), NULL if none. */
static json_object *line(struct fx *f, const char *event, uint64_t id, int nth)
{
	char want[32], *p, *nl;
	json_object *o, *v;

	fflush(f->out);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)id);
	for (p = f->buf; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = 0;
		o = json_tokener_parse(p);
		*nl = '\n';
		assert_non_null(o);
		if (json_object_object_get_ex(o, "event", &v) &&
		    !strcmp(json_object_get_string(v), event) &&
		    json_object_object_get_ex(o, "assoc_id", &v) &&
		    !strcmp(json_object_get_string(v), want) && !nth--)
			return o;
		json_object_put(o);
	}
	return NULL;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

/* The violation of that code in a record, NULL if absent. */
static json_object *viol(json_object *rec, const char *code)
{
	json_object *a = get(rec, "violations"), *v;
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		v = json_object_array_get_idx(a, i);
		if (!strcmp(json_object_get_string(get(v, "code")), code))
			return v;
	}
	return NULL;
}

/* decode_incomplete as "a,b" ("null" when null). */
static const char *reasons(json_object *rec, char *buf, size_t len)
{
	json_object *a = get(rec, "decode_incomplete");
	size_t i, o = 0;

	if (!a)
		return "null";
	buf[0] = 0;
	for (i = 0; i < json_object_array_length(a); i++)
		o += snprintf(buf + o, len - o, "%s%s", i ? "," : "",
			      json_object_get_string(json_object_array_get_idx(a, i)));
	return buf;
}

static const char *rec_reasons(struct fx *f, uint64_t id)
{
	static char buf[256];
	json_object *rec = line(f, "flow_end", id, 0);
	const char *r;

	assert_non_null(rec);
	r = reasons(rec, buf, sizeof(buf));
	if (r != buf)
		snprintf(buf, sizeof(buf), "%s", r);
	json_object_put(rec);
	return buf;
}

static void echo_setup(struct fx *f, uint64_t id)
{
	whole(f, id, 0, f->rq, f->rq_len);
	whole(f, id, 1, f->ac, f->ac_len);
}

static void test_anomaly_violations(void **state)
{
	struct fx *f = *state;
	struct dm_assoc a = {.state = DM_STATE_RELEASED};
	json_object *rec, *v, *ln;
	char buf[64];

	echo_setup(f, 1);
	anomaly(f, 1, 0, DM_AN_RESYNC, 0, 500);
	anomaly(f, 1, 1, DM_AN_PDV_LENGTH, 1, 77);
	a.dir[0].anomaly_codes = 1 << DM_AN_RESYNC | 1 << DM_AN_WALK_LIMIT;
	a.dir[0].anomalies = 12; /* 1 event, 1 kind without one, 10 counted only */
	a.dir[1].anomaly_codes = 1 << DM_AN_PDV_LENGTH;
	a.dir[1].anomalies = 1;
	end(f, 1, &a);

	ln = line(f, "anomaly", 1, 0);
	assert_non_null(ln);
	assert_string_equal(json_object_get_string(get(ln, "anomaly")), "resync");
	assert_string_equal(json_object_get_string(get(ln, "dir")), "orig");
	assert_int_equal(json_object_get_int64(get(ln, "offset")), 500);
	assert_int_equal(json_object_get_int64(get(ln, "value")), 0);
	json_object_put(ln);
	ln = line(f, "anomaly", 1, 1);
	assert_string_equal(json_object_get_string(get(ln, "anomaly")), "pdv_length");
	assert_string_equal(json_object_get_string(get(ln, "dir")), "reply");
	json_object_put(ln);

	rec = line(f, "flow_end", 1, 0);
	assert_non_null(rec);
	v = viol(rec, "stream_resync");
	assert_non_null(v);
	assert_string_equal(json_object_get_string(get(v, "dir")), "orig");
	assert_int_equal(json_object_get_int64(get(v, "offset")), 500);
	v = viol(rec, "stream_pdv_length");
	assert_non_null(v);
	assert_string_equal(json_object_get_string(get(v, "dir")), "reply");
	assert_int_equal(json_object_get_int64(get(v, "offset")), 77);
	assert_non_null(strstr(json_object_get_string(get(v, "text")), "length 1 "));
	/* Over the event limit: its kind is still there, without an offset. */
	v = viol(rec, "stream_walk_limit");
	assert_non_null(v);
	assert_null(get(v, "offset"));
	assert_string_equal(json_object_get_string(get(v, "dir")), "orig");
	assert_int_equal(json_object_get_int64(get(rec, "violations_total")), 13);
	/* After the set-up was decoded whole: violations, not reasons. */
	assert_string_equal(reasons(rec, buf, sizeof(buf)), "null");
	assert_false(json_object_get_boolean(get(rec, "candidate")));
	json_object_put(rec);
}

/* A gap in the RQ: what came is decoded at once, cut short, with both reasons. */
static void test_gap_in_rq(void **state)
{
	struct fx *f = *state;
	struct dm_assoc a = {.state = DM_STATE_ACCEPTED};
	json_object *rec, *ln;

	piece(f, 2, 0, f->rq, 0, 100, DM_EF_FIRST);
	anomaly(f, 2, 0, DM_AN_GAP, 50, 100);
	ln = line(f, "pdu", 2, 0);
	assert_non_null(ln);
	assert_string_equal(json_object_get_string(get(ln, "pdu")), "A-ASSOCIATE-RQ");
	assert_true(json_object_get_boolean(get(ln, "truncated")));
	assert_int_equal(json_object_get_int64(get(ln, "length")), 100);
	json_object_put(ln);
	whole(f, 2, 1, f->ac, f->ac_len);
	end(f, 2, &a);
	assert_string_equal(rec_reasons(f, 2), "gap,truncated");
	rec = line(f, "flow_end", 2, 0);
	assert_string_equal(json_object_get_string(get(rec, "calling_ae")), "MODALITY");
	assert_non_null(viol(rec, "stream_gap"));
	assert_non_null(viol(rec, "pdu_incomplete"));
	json_object_put(rec);
}

/* The flow ends inside the RQ: decoded from what arrived, truncated, a violation. */
static void test_truncated_rq_at_end(void **state)
{
	struct fx *f = *state;
	struct dm_assoc a = {.state = DM_STATE_REQUESTED};
	json_object *rec, *v, *ln;
	char text[96];

	piece(f, 3, 0, f->rq, 0, 100, DM_EF_FIRST);
	piece(f, 3, 0, f->rq, 100, 50, 0);
	assert_null(line(f, "pdu", 3, 0));
	end(f, 3, &a);
	ln = line(f, "pdu", 3, 0);
	assert_non_null(ln);
	assert_true(json_object_get_boolean(get(ln, "truncated")));
	json_object_put(ln);
	rec = line(f, "flow_end", 3, 0);
	assert_string_equal(json_object_get_string(get(rec, "calling_ae")), "MODALITY");
	assert_string_equal(json_object_get_string(get(rec, "called_ae")), "PACS");
	assert_string_equal(json_object_get_string(get(rec, "outcome")), "incomplete");
	v = viol(rec, "pdu_incomplete");
	assert_non_null(v);
	snprintf(text, sizeof(text), "A-ASSOCIATE-RQ: 150 of %zu bytes", f->rq_len);
	assert_non_null(strstr(json_object_get_string(get(v, "text")), text));
	assert_string_equal(json_object_get_string(get(v, "dir")), "orig");
	json_object_put(rec);
	assert_string_equal(rec_reasons(f, 3), "truncated");
}

static void test_incomplete_reasons(void **state)
{
	struct fx *f = *state;
	struct dm_assoc a = {.state = DM_STATE_RELEASED};
	uint8_t lie[1024];
	json_object *rec;

	/* Clean: null. */
	echo_setup(f, 10);
	end(f, 10, &a);
	assert_string_equal(rec_reasons(f, 10), "null");
	/* Picked up mid-stream. */
	a.flags = DM_AF_MIDSTREAM;
	end(f, 11, &a);
	assert_string_equal(rec_reasons(f, 11), "midstream");
	/* Longer than the shipping limit: the last piece says TRUNC. */
	a.flags = 0;
	piece(f, 12, 0, f->rq, 0, 100, DM_EF_FIRST);
	piece(f, 12, 0, f->rq, 100, 50, DM_EF_LAST | DM_EF_TRUNC);
	whole(f, 12, 1, f->ac, f->ac_len);
	end(f, 12, &a);
	assert_string_equal(rec_reasons(f, 12), "control_pdu_truncated");
	/* IP fragments: placed in the stream, whole; not placed, incomplete. */
	echo_setup(f, 13);
	anomaly(f, 13, 0, DM_AN_IP_FRAGMENT, 1, 0);
	a.flags = DM_AF_IP_FRAG;
	end(f, 13, &a);
	assert_string_equal(rec_reasons(f, 13), "null");
	rec = line(f, "flow_end", 13, 0);
	assert_non_null(viol(rec, "stream_ip_fragments"));
	json_object_put(rec);
	anomaly(f, 14, 0, DM_AN_IP_FRAGMENT, 0, 0);
	echo_setup(f, 14);
	end(f, 14, &a);
	assert_string_equal(rec_reasons(f, 14), "ip_fragments");
	/* The RQ's pieces lost to a full ring: only the datapath's count says so. */
	a.flags = 0;
	a.dir[0].anomaly_codes = 1 << DM_AN_RING_LOST;
	a.dir[0].anomalies = 1;
	whole(f, 15, 1, f->ac, f->ac_len);
	end(f, 15, &a);
	assert_string_equal(rec_reasons(f, 15), "ring_buffer");
	rec = line(f, "flow_end", 15, 0);
	assert_non_null(viol(rec, "stream_ring_buffer_lost"));
	assert_null(get(viol(rec, "stream_ring_buffer_lost"), "offset"));
	json_object_put(rec);
	memset(&a.dir, 0, sizeof(a.dir));
	/* A length that lies: the first bytes decoded, AE titles and all. */
	memcpy(lie, f->rq, f->rq_len);
	lie[2] = lie[3] = lie[4] = lie[5] = 0;
	anomaly(f, 16, 0, DM_AN_PDU_LENGTH, 0, 0);
	whole(f, 16, 0, lie, f->rq_len);
	end(f, 16, &a);
	assert_string_equal(rec_reasons(f, 16), "pdu_length");
	rec = line(f, "flow_end", 16, 0);
	assert_string_equal(json_object_get_string(get(rec, "calling_ae")), "MODALITY");
	assert_int_equal(json_object_array_length(get(rec, "presentation_contexts")), 1);
	assert_non_null(viol(rec, "stream_pdu_length"));
	assert_non_null(viol(rec, "pdu_length"));
	json_object_put(rec);
	/* The RQ's pieces broken (one overlapping another). */
	piece(f, 17, 0, f->rq, 0, 100, DM_EF_FIRST);
	piece(f, 17, 0, f->rq, 50, f->rq_len - 50, DM_EF_LAST);
	end(f, 17, &a);
	assert_string_equal(rec_reasons(f, 17), "gap");
	/* Held as a candidate: says so, and is decoded whole. */
	a.flags = DM_AF_CANDIDATE;
	echo_setup(f, 18);
	end(f, 18, &a);
	rec = line(f, "flow_end", 18, 0);
	assert_true(json_object_get_boolean(get(rec, "candidate")));
	json_object_put(rec);
	assert_string_equal(rec_reasons(f, 18), "null");
	/* TLS: no set-up in the clear to decode. */
	a.flags = 0;
	a.transport = DM_TRANSPORT_TLS;
	end(f, 19, &a);
	assert_string_equal(rec_reasons(f, 19), "null");
}

/* The anomalies and reasons in the metrics: associations, once per kind. */
static void test_metrics(void **state)
{
	struct fx *f = *state;
	struct dm_assoc a = {.state = DM_STATE_RELEASED};
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	echo_setup(f, 20);
	anomaly(f, 20, 0, DM_AN_OVERLAP, 0, 0);
	anomaly(f, 20, 0, DM_AN_OVERLAP, 0, 10);
	a.dir[1].anomaly_codes = 1 << DM_AN_OVERLAP;
	end(f, 20, &a);
	a.flags = DM_AF_MIDSTREAM;
	memset(&a.dir, 0, sizeof(a.dir));
	end(f, 21, &a);
	m = open_memstream(&buf, &len);
	assert_int_equal(dm_counters_prometheus_of(m, f->ev, NULL, 0), 0);
	fclose(m);
	assert_non_null(
	    strstr(buf, "dicomon_association_anomalies_total{anomaly=\"overlap_conflict\"} 1\n"));
	assert_non_null(strstr(buf, "dicomon_association_anomalies_total{anomaly=\"gap\"} 0\n"));
	assert_non_null(
	    strstr(buf, "dicomon_association_decode_incomplete_total{reason=\"midstream\"} 1\n"));
	assert_non_null(strstr(buf, "dicomon_association_decode_incomplete_total{reason=\"any\"} 1\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_anomaly_violations, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_gap_in_rq, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_rq_at_end, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_incomplete_reasons, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_metrics, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
