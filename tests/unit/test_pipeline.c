// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The pipeline without BPF: crafted ring buffer records in (as the ring
 * buffer hands them), and out of it the event lines, the association
 * records and alerts in the EVE feed, the alerts counted by signature, the
 * counters as Prometheus and stats lines. Bad records are counted, never
 * fatal. The end of an association goes out once, for a flow end, for a
 * record the full table or its source's half-open limit drops, and for one
 * the idle timeout ends; later events of it are counted, never a second
 * record.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "dicomon.h"
#include "config/config.h"
#include "core/counters.h"
#include "assoc/table.h"
#include "core/pipeline.h"
#include "lib/clock.h"
#include "evfix.h"

struct fx {
	struct dm_pipeline *p;
	struct dm_config cfg;
	char *buf; /* the event lines */
	size_t len;
	FILE *out;
	char dir[64], eve[96];
	uint8_t rq[1024], ac[1024];
	size_t rq_len, ac_len;
};

static const char *ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	return ifindex == 7 ? "eth7" : "?";
}

/* A pipeline from the defaults as changed by the test, its EVE feed to a file of its own. */
static void start(struct fx *f)
{
	char err[256];

	snprintf(f->cfg.feed_file, sizeof(f->cfg.feed_file), "%s", f->eve);
	f->out = open_memstream(&f->buf, &f->len);
	assert_int_equal(dm_pipeline_new(&f->cfg, ifname, NULL, f->out, &f->p, err, sizeof(err)),
			 0);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/dmpipe.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->eve, sizeof(f->eve), "%s/eve.json", f->dir);
	dm_config_defaults(&f->cfg);
	f->cfg.json = true;
	evfix_echo_setup(f->rq, &f->rq_len, f->ac, &f->ac_len, sizeof(f->rq));
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dm_pipeline_free(f->p);
	fclose(f->out);
	free(f->buf);
	unlink(f->eve);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct dm_event_hdr hdr(uint64_t id, uint8_t dir, uint32_t type)
{
	struct dm_event_hdr h = evfix_hdr(id, dir, type);

	h.ifindex = 7;
	return h;
}

static void piece(struct fx *f, uint64_t id, uint8_t dir, const uint8_t *pdu, uint32_t off,
		  size_t n, uint8_t flags)
{
	assert_int_equal(evfix_piece(f->p, hdr(id, dir, DM_EV_PDU), pdu, off, n, flags), 0);
}

static void end(struct fx *f, uint64_t id, uint32_t state)
{
	struct dm_event_flow e = {.hdr = hdr(id, 0, DM_EV_FLOW_END), .reason = DM_END_FIN};

	e.assoc.id = id;
	e.assoc.key = e.hdr.key;
	e.assoc.state = state;
	e.assoc.transport = DM_TRANSPORT_CLEARTEXT;
	assert_int_equal(dm_pipeline_event(f->p, &e, sizeof(e)), 0);
}

static char *slurp(const char *path)
{
	FILE *in = fopen(path, "r");
	char *s = calloc(1, 1 << 20);

	assert_non_null(in);
	assert_non_null(s);
	assert_true(fread(s, 1, (1 << 20) - 1, in) < (1 << 20) - 1);
	fclose(in);
	return s;
}

static char *metrics(struct fx *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_int_equal(dm_counters_prometheus_of(m, f->p, NULL, 0), 0);
	fclose(m);
	return buf;
}

/* An echo association: PDU lines, its record in the feed, the cleartext alert once. */
static void test_association(void **state)
{
	struct fx *f = *state;
	const struct dm_alert_count *a;
	char *eve, *m;
	int n;

	start(f);
	piece(f, 1, DM_DIR_ORIG, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST);
	piece(f, 1, DM_DIR_REPLY, f->ac, 0, f->ac_len, DM_EF_FIRST | DM_EF_LAST);
	end(f, 1, DM_STATE_RELEASED);
	fflush(f->out);
	assert_non_null(strstr(f->buf, "\"event\":\"pdu\""));
	assert_non_null(strstr(f->buf, "\"pdu\":\"A-ASSOCIATE-RQ\""));
	assert_non_null(strstr(f->buf, "\"iface\":\"eth7\""));
	assert_non_null(strstr(f->buf, "\"event\":\"flow_end\""));
	assert_non_null(strstr(f->buf, "\"calling_ae\":\"MODALITY\""));
	assert_non_null(strstr(f->buf, "\"outcome\":\"released\""));
	eve = slurp(f->eve);
	assert_non_null(strstr(eve, "\"event_type\":\"dicom\""));
	assert_non_null(strstr(eve, "\"event_type\":\"alert\""));
	assert_non_null(strstr(eve, "\"signature_id\":9100010"));
	free(eve);
	a = dm_pipeline_alerts(f->p, &n);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].sid, 9100010);
	assert_int_equal(a[0].n, 1);
	m = metrics(f);
	assert_non_null(strstr(m, "dicomon_events_consumed_total{type=\"pdu\"} 2\n"));
	assert_non_null(strstr(m, "dicomon_events_consumed_total{type=\"flow_end\"} 1\n"));
	assert_non_null(strstr(m, "dicomon_control_pdus_decoded_total 2\n"));
	assert_non_null(strstr(m, "dicomon_feed_records_total 1\n"));
	assert_non_null(strstr(m, "dicomon_alerts_emitted_total 1\n"));
	assert_non_null(strstr(m, "dicomon_alerts_total{signature_id=\"9100010\",signature=\"DICOM "
				  "cleartext association\",severity=\"3\"} 1\n"));
	assert_non_null(strstr(
	    m, "dicomon_associations_total{transport=\"cleartext\",outcome=\"released\"} 1\n"));
	assert_non_null(strstr(m, "dicomon_table_finished_associations 1\n"));
	free(m);
}

/* A PDU whose pieces broke counts in dicomon_control_pdus_broken_total and `dicomon status`. */
static void test_pdus_broken(void **state)
{
	struct fx *f = *state;
	json_object *t;
	char *m;

	start(f);
	piece(f, 2, DM_DIR_ORIG, f->rq, 0, 10, DM_EF_FIRST);
	piece(f, 2, DM_DIR_ORIG, f->rq, 20, 10, DM_EF_LAST); /* 10..19 lost */
	m = metrics(f);
	assert_non_null(strstr(m, "dicomon_control_pdus_broken_total 1\n"));
	assert_non_null(strstr(m, "dicomon_control_pdus_decoded_total 0\n"));
	free(m);
	t = dm_counters_status_table(f->p); /* what `dicomon status` shows */
	assert_int_equal(json_object_get_int64(json_object_object_get(t, "pdus_broken")), 1);
	json_object_put(t);
}

/* Short, unknown and lying records are counted as malformed; nothing else happens. */
static void test_malformed(void **state)
{
	struct fx *f = *state;
	struct dm_event_piece *e = calloc(1, sizeof(*e) + DM_PIECE_MAX);
	struct dm_event_hdr h = hdr(3, 0, DM_EV_MAX + 5);
	uint8_t junk[4] = {1, 2, 3, 4};
	char *m;

	start(f);
	assert_int_equal(dm_pipeline_event(f->p, junk, sizeof(junk)), 0);
	assert_int_equal(dm_pipeline_event(f->p, &h, sizeof(h)), 0);
	h.type = DM_EV_FLOW_END; /* shorter than a flow end */
	assert_int_equal(dm_pipeline_event(f->p, &h, sizeof(h)), 0);
	e->hdr = hdr(3, 0, DM_EV_PDU);
	e->hdr.len = DM_PIECE_MAX + 1; /* more than the record holds */
	assert_int_equal(dm_pipeline_event(f->p, e, sizeof(*e) + DM_PIECE_MAX), 0);
	free(e);
	assert_int_equal(dm_pipeline_stats(f->p)->malformed, 4);
	assert_int_equal(dm_pipeline_stats(f->p)->events[DM_EV_FLOW_END], 1);
	m = metrics(f);
	assert_non_null(strstr(m, "dicomon_malformed_events_total 4\n"));
	assert_non_null(strstr(m, "dicomon_table_associations 0\n"));
	free(m);
	fflush(f->out);
	assert_true(f->len == 0);
}

/* EVE records (event_type dicom) of association id in the feed file. */
static int eve_records(const char *eve, uint64_t id)
{
	char pat[96];
	const char *p = eve;
	int n = 0;

	snprintf(pat, sizeof(pat), "\"flow_id\":%llu,\"in_iface\":\"eth7\",\"event_type\":\"dicom\"",
		 (unsigned long long)id);
	while ((p = strstr(p, pat))) {
		n++;
		p++;
	}
	return n;
}

/* The EVE record of id (the first), as JSON; NULL if none. */
static json_object *eve_record(const char *eve, uint64_t id)
{
	char line[65536];
	const char *p, *nl;
	char pat[96];

	snprintf(pat, sizeof(pat), "\"flow_id\":%llu,\"in_iface\":\"eth7\",\"event_type\":\"dicom\"",
		 (unsigned long long)id);
	p = strstr(eve, pat);
	if (!p)
		return NULL;
	while (p > eve && p[-1] != '\n')
		p--;
	nl = strchr(p, '\n');
	assert_true(nl && (size_t)(nl - p) < sizeof(line));
	memcpy(line, p, nl - p);
	line[nl - p] = 0;
	return json_tokener_parse(line);
}

static const char *dicom_str(json_object *rec, const char *key)
{
	json_object *d = json_object_object_get(rec, "dicom");

	return json_object_get_string(json_object_object_get(d, key));
}

/*
 * The full table drops an association going on: its record goes out with
 * everything known (AE titles, contexts) and end_reason "evicted", once: its
 * late flow end and PDUs are counted and make no second record.
 */
static void test_eviction(void **state)
{
	struct fx *f = *state;
	json_object *rec, *pcs;
	char *eve, *m;

	f->cfg.table_max_assoc = 1;
	start(f);
	piece(f, 4, DM_DIR_ORIG, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST);
	piece(f, 5, DM_DIR_ORIG, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST);
	eve = slurp(f->eve);
	assert_int_equal(eve_records(eve, 4), 1);
	assert_int_equal(eve_records(eve, 5), 0);
	rec = eve_record(eve, 4);
	assert_non_null(rec);
	assert_string_equal(dicom_str(rec, "end_reason"), "evicted");
	assert_string_equal(dicom_str(rec, "calling_ae"), "MODALITY");
	assert_string_equal(dicom_str(rec, "called_ae"), "PACS");
	pcs = json_object_object_get(json_object_object_get(rec, "dicom"), "presentation_contexts");
	assert_int_equal(json_object_array_length(pcs), 1);
	assert_non_null(dicom_str(rec, "end"));
	json_object_put(rec);
	free(eve);
	fflush(f->out);
	/* The event line too: a flow_end with reason evicted and the record. */
	assert_non_null(strstr(f->buf, "\"event\":\"flow_end\""));
	assert_non_null(strstr(f->buf, "\"reason\":\"evicted\""));
	/* Late: its flow end and a PDU. No second record, no record 4 back in the table. */
	end(f, 4, DM_STATE_REQUESTED);
	piece(f, 4, DM_DIR_REPLY, f->ac, 0, f->ac_len, DM_EF_FIRST | DM_EF_LAST);
	assert_null(dm_table_find(dm_pipeline_table(f->p), 4));
	eve = slurp(f->eve);
	assert_int_equal(eve_records(eve, 4), 1);
	free(eve);
	m = metrics(f);
	assert_non_null(strstr(m, "dicomon_table_evictions_total 1\n"));
	assert_non_null(
	    strstr(m, "dicomon_table_active_evictions_total{reason=\"table_full\"} 1\n"));
	assert_non_null(strstr(m, "dicomon_events_after_eviction_total{ended=\"evicted\"} 2\n"));
	assert_non_null(strstr(m, "dicomon_feed_records_total 1\n"));
	assert_non_null(strstr(m, "dicomon_active_associations{transport=\"cleartext\"} 1\n"));
	assert_non_null(strstr(
	    m, "dicomon_associations_total{transport=\"cleartext\",outcome=\"incomplete\"} 1\n"));
	free(m);
}

/* Source 10.0.0.(last) instead of evfix's 10.0.0.1. */
static void piece_from(struct fx *f, uint64_t id, uint8_t last, uint8_t dir, const uint8_t *pdu,
		       size_t n)
{
	struct dm_event_hdr h = hdr(id, dir, DM_EV_PDU);

	h.key.addr[0][0] = 0x0000000a | (uint32_t)last << 24;
	assert_int_equal(evfix_piece(f->p, h, pdu, 0, n, DM_EF_FIRST | DM_EF_LAST), 0);
}

/*
 * table.max_halfopen_per_source: a flood of unanswered RQs from one source
 * evicts that source's own oldest half-open records, never another
 * source's, nor its own answered ones.
 */
static void test_halfopen_per_source(void **state)
{
	struct fx *f = *state;
	const struct dm_table *t;
	char *eve, *m;
	uint64_t id;

	f->cfg.table_max_halfopen = 3;
	start(f);
	t = dm_pipeline_table(f->p);
	piece_from(f, 100, 9, DM_DIR_ORIG, f->rq, f->rq_len); /* another source, half-open */
	piece_from(f, 101, 1, DM_DIR_ORIG, f->rq, f->rq_len); /* the flooder, answered */
	piece_from(f, 101, 1, DM_DIR_REPLY, f->ac, f->ac_len);
	for (id = 10; id < 20; id++)
		piece_from(f, id, 1, DM_DIR_ORIG, f->rq, f->rq_len);
	assert_int_equal(dm_table_stats(t)->evicted_halfopen, 7);
	assert_int_equal(dm_table_stats(t)->halfopen, 4); /* 17, 18, 19 and the other's 100 */
	for (id = 10; id < 17; id++)
		assert_null(dm_table_find(t, id));
	for (id = 17; id < 20; id++)
		assert_non_null(dm_table_find(t, id));
	assert_non_null(dm_table_find(t, 100));
	assert_non_null(dm_table_find(t, 101));
	eve = slurp(f->eve);
	for (id = 10; id < 17; id++)
		assert_int_equal(eve_records(eve, id), 1);
	assert_int_equal(eve_records(eve, 100), 0);
	assert_int_equal(eve_records(eve, 101), 0);
	free(eve);
	m = metrics(f);
	assert_non_null(strstr(
	    m, "dicomon_table_active_evictions_total{reason=\"halfopen_per_source\"} 7\n"));
	assert_non_null(strstr(m, "dicomon_table_halfopen_associations 4\n"));
	free(m);
}

/* The kernel as the idle timeout sees it: these associations, or none (walk fails). */
static struct dm_assoc kernel[4];
static int n_kernel;

static int kernel_walk(void *ctx, dm_flow_fn fn, void *fn_ctx)
{
	int i, r;

	(void)ctx;
	if (n_kernel < 0)
		return -EIO;
	for (i = 0; i < n_kernel; i++) {
		r = fn(&kernel[i], false, fn_ctx);
		if (r)
			return r;
	}
	return 0;
}

static void rq_at(struct fx *f, uint64_t id, uint64_t ts)
{
	struct dm_event_hdr h = hdr(id, DM_DIR_ORIG, DM_EV_PDU);

	h.ts_ns = ts;
	dm_clock_set_capture(ts);
	assert_int_equal(evfix_piece(f->p, h, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST), 0);
}

#define SEC 1000000000ULL

/*
 * table.idle_timeout_seconds: records with no event that long are checked
 * against the kernel's tables. Held and active there: they live on (a bulk
 * transfer); held idle: they end "idle" with the kernel's counters; gone:
 * they end "idle" with what they know. Late events make no second record.
 * Without a kernel view, or when it cannot be read, nothing ends.
 */
static void test_idle(void **state)
{
	struct fx *f = *state;
	const struct dm_table *t;
	uint64_t t0 = 1000 * SEC;
	json_object *rec, *pdus;
	char *eve, *m;

	f->cfg.table_idle_timeout_s = 60;
	start(f);
	t = dm_pipeline_table(f->p);
	rq_at(f, 20, t0); /* bulk: the kernel saw it at t0 + 50 s */
	rq_at(f, 21, t0); /* idle in the kernel too */
	rq_at(f, 22, t0); /* lost by the kernel */
	rq_at(f, 23, t0 + 45 * SEC); /* too recent to be looked at before t0 + 105 s */
	memset(kernel, 0, sizeof(kernel));
	kernel[0].id = 20;
	kernel[0].last_ns = t0 + 50 * SEC;
	kernel[1].id = 21;
	kernel[1].last_ns = t0;
	kernel[1].state = DM_STATE_REQUESTED;
	kernel[1].transport = DM_TRANSPORT_CLEARTEXT;
	kernel[1].dir[DM_DIR_ORIG].bytes = 12345;
	kernel[1].dir[DM_DIR_ORIG].pdus[DM_PDU_ASSOC_RQ] = 1;
	kernel[2].id = 23;
	kernel[2].last_ns = t0 + 45 * SEC;
	/* No kernel view: nothing can tell a bulk transfer from a dead flow. */
	dm_pipeline_tick(f->p, t0 + 70 * SEC);
	assert_int_equal(dm_table_stats(t)->active, 4);
	/* The view fails: nothing ends either. */
	dm_pipeline_set_flows(f->p, kernel_walk, NULL);
	n_kernel = -1;
	dm_pipeline_tick(f->p, t0 + 80 * SEC);
	assert_int_equal(dm_table_stats(t)->active, 4);
	n_kernel = 3;
	dm_pipeline_tick(f->p, t0 + 90 * SEC);
	assert_int_equal(dm_table_stats(t)->active, 2);
	assert_true(dm_table_find(t, 21)->finished);
	assert_true(dm_table_find(t, 22)->finished);
	assert_false(dm_table_find(t, 20)->finished);
	assert_false(dm_table_find(t, 23)->finished);
	/* 20 idle in the kernel too by now, and 23 (its RQ at +45 s). */
	dm_pipeline_tick(f->p, t0 + 111 * SEC);
	assert_true(dm_table_find(t, 20)->finished);
	assert_true(dm_table_find(t, 23)->finished);
	eve = slurp(f->eve);
	rec = eve_record(eve, 21);
	assert_non_null(rec);
	assert_string_equal(dicom_str(rec, "end_reason"), "idle");
	assert_string_equal(dicom_str(rec, "calling_ae"), "MODALITY");
	assert_int_equal(
	    json_object_get_int64(json_object_object_get(json_object_object_get(rec, "dicom"),
							  "bytes_toserver")),
	    12345);
	json_object_put(rec);
	rec = eve_record(eve, 22);
	assert_non_null(rec);
	assert_string_equal(dicom_str(rec, "end_reason"), "idle");
	pdus = json_object_object_get(json_object_object_get(rec, "dicom"), "pdus");
	assert_non_null(pdus);
	json_object_put(rec);
	free(eve);
	/* The kernel's own end of 21 comes later (its slot reclaimed): counted, dropped. */
	end(f, 21, DM_STATE_REQUESTED);
	eve = slurp(f->eve);
	assert_int_equal(eve_records(eve, 21), 1);
	assert_int_equal(eve_records(eve, 22), 1);
	assert_int_equal(eve_records(eve, 20), 1);
	assert_int_equal(eve_records(eve, 23), 1);
	free(eve);
	m = metrics(f);
	assert_non_null(strstr(m, "dicomon_table_idle_ended_total{kernel=\"held\"} 3\n"));
	assert_non_null(strstr(m, "dicomon_table_idle_ended_total{kernel=\"gone\"} 1\n"));
	assert_non_null(strstr(m, "dicomon_events_after_eviction_total{ended=\"idle\"} 1\n"));
	assert_non_null(strstr(m, "dicomon_table_idle_kernel_walks_total 3\n"));
	free(m);
}

/* feed.stdout: the EVE lines take stdout, the event lines stop. */
static void test_quiet(void **state)
{
	struct fx *f = *state;

	int saved = dup(1), null = open("/dev/null", O_WRONLY);

	assert_true(saved >= 0 && null >= 0);
	fflush(stdout);
	dup2(null, 1); /* the EVE lines */
	f->cfg.feed_stdout = true;
	start(f);
	piece(f, 6, DM_DIR_ORIG, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST);
	end(f, 6, DM_STATE_ABORTED);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	fflush(f->out);
	assert_true(f->len == 0);
	assert_int_equal(dm_pipeline_stats(f->p)->events[DM_EV_PDU], 1);
}

/* A bad configuration is refused with its reason; nothing leaks. */
static void test_bad_config(void **state)
{
	struct fx *f = *state;
	struct dm_pipeline *p = (void *)1;
	char err[256] = "";

	snprintf(f->cfg.evidence_dir, sizeof(f->cfg.evidence_dir), "%s/no/such/dir", f->dir);
	f->out = open_memstream(&f->buf, &f->len);
	assert_int_equal(dm_pipeline_new(&f->cfg, NULL, NULL, f->out, &p, err, sizeof(err)),
			 -EINVAL);
	assert_null(p);
	assert_true(err[0] != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_association, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_pdus_broken, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_eviction, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_halfopen_per_source, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_quiet, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_config, fx_setup, fx_teardown),
	    /* Last: it sets the clock to capture time. */
	    cmocka_unit_test_setup_teardown(test_idle, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
