// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The pipeline without BPF: crafted ring buffer records in (as the ring
 * buffer hands them), and out of it the event lines, the association
 * records and alerts in the EVE feed, the alerts counted by signature, the
 * counters as Prometheus and stats lines. Bad records are counted, never
 * fatal. The end of an association goes out once, for a flow end and for a
 * record the full table drops alike.
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
#include "core/pipeline.h"
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

/* The full table drops an association going on: its record goes out as a flow end's would. */
static void test_eviction(void **state)
{
	struct fx *f = *state;
	char *eve, *m;

	f->cfg.table_max_assoc = 1;
	start(f);
	piece(f, 4, DM_DIR_ORIG, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST);
	piece(f, 5, DM_DIR_ORIG, f->rq, 0, f->rq_len, DM_EF_FIRST | DM_EF_LAST);
	eve = slurp(f->eve);
	assert_non_null(strstr(eve, "\"flow_id\":4,\"in_iface\":\"eth7\",\"event_type\":\"dicom\""));
	assert_null(strstr(eve, "\"flow_id\":5,\"in_iface\":\"eth7\",\"event_type\":\"dicom\""));
	free(eve);
	m = metrics(f);
	assert_non_null(strstr(m, "dicomon_table_evictions_total 1\n"));
	assert_non_null(strstr(m, "dicomon_feed_records_total 1\n"));
	assert_non_null(strstr(m, "dicomon_active_associations{transport=\"cleartext\"} 1\n"));
	assert_non_null(strstr(
	    m, "dicomon_associations_total{transport=\"cleartext\",outcome=\"incomplete\"} 1\n"));
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
	    cmocka_unit_test_setup_teardown(test_quiet, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_config, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
