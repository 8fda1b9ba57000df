// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The Prometheus endpoint: listen addresses, the exposition, a live scrape on loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config/config.h"
#include "lib/loop.h"
#include "output/assoc_metrics.h"
#include "output/metrics.h"
#include "core/counters.h"
#include "core/pipeline.h"

/* The whole exposition of a fresh pipeline, with these interfaces' kernel counters. */
static char *render(const struct dm_metrics_iface *ifs, int n)
{
	struct dm_pipeline *p;
	struct dm_config cfg;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	dm_config_defaults(&cfg);
	assert_int_equal(dm_pipeline_new(&cfg, NULL, NULL, f, &p, err, sizeof(err)), 0);
	assert_int_equal(dm_counters_prometheus_of(f, p, ifs, n), 0);
	dm_pipeline_free(p);
	fclose(f);
	return buf;
}

/* Every sample's family has exactly one HELP and one TYPE, before it. */
static void check_families(const char *text)
{
	char *copy = strdup(text), *line, *save = NULL, fam[128], seen[256][128];
	int n = 0, i;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", fam), 1);
			for (i = 0; i < n; i++)
				assert_string_not_equal(seen[i], fam);
			assert_true(n < 256);
			strcpy(seen[n++], fam);
			continue;
		}
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%127[^{ ]", fam), 1);
		assert_true(n > 0);
		/* a histogram's samples: FAMILY_bucket, FAMILY_sum, FAMILY_count */
		if (strcmp(seen[n - 1], fam)) {
			size_t l = strlen(seen[n - 1]);

			assert_memory_equal(seen[n - 1], fam, l);
			assert_true(!strcmp(fam + l, "_bucket") || !strcmp(fam + l, "_sum") ||
				    !strcmp(fam + l, "_count"));
		}
	}
	free(copy);
}

static void test_exposition(void **state)
{
	struct dm_metrics_iface ifs[2] = {{.name = "eth0"}, {.name = "we\"ird\\if"}};
	char *t;

	(void)state;
	ifs[0].s.pkts[DM_CLASS_DICOM] = 12;
	ifs[0].s.pdus[DM_DIR_ORIG][DM_PDU_ASSOC_RQ] = 3;
	ifs[0].s.pdu_bytes[DM_DIR_REPLY][DM_PDU_P_DATA] = 1ULL << 40;
	ifs[1].s.assoc[DM_ASSOC_REJECTED] = 7;
	ifs[1].s.cnt[DM_CNT_RINGBUF_FAIL] = 5;
	ifs[1].s.err[DM_ERR_PDU_BAD_LEN] = 2;
	t = render(ifs, 2);
	check_families(t);
	assert_non_null(
	    strstr(t, "dicomon_packets_total{interface=\"eth0\",class=\"dicom\"} 12\n"));
	assert_non_null(
	    strstr(t, "dicomon_packets_total{interface=\"eth0\",class=\"non_ip\"} 0\n"));
	assert_non_null(strstr(t, "dicomon_pdus_total{interface=\"eth0\",type=\"A-ASSOCIATE-RQ\","
				  "direction=\"orig\"} 3\n"));
	assert_non_null(strstr(t, "dicomon_pdu_bytes_total{interface=\"eth0\",type=\"P-DATA-TF\","
				  "direction=\"reply\"} 1099511627776\n"));
	assert_non_null(strstr(t, "dicomon_association_events_total{interface=\"we\\\"ird\\\\if\","
				  "event=\"rejected\"} 7\n"));
	assert_non_null(strstr(t, "dicomon_ringbuf_reserve_failures_total{interface="
				  "\"we\\\"ird\\\\if\"} 5\n"));
	assert_non_null(strstr(t, "dicomon_parse_errors_total{interface=\"we\\\"ird\\\\if\","
				  "reason=\"pdu_bad_length\"} 2\n"));
	assert_non_null(strstr(t, "# TYPE dicomon_midstream_pickups_total counter\n"));
	/* the invalid PDU type is not a series */
	assert_null(strstr(t, "type=\"invalid\""));
	free(t);
}

static int render_cb(FILE *out, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	fprintf(out, "# HELP dicomon_x X.\n# TYPE dicomon_x gauge\ndicomon_x %d\n", *calls);
	return *calls == 3 ? -EIO : 0;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* One HTTP/1.0 request, the server driven by dm_metrics_tick until it closes. */
static char *get(struct dm_metrics *m, int port, const char *req)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char *buf = calloc(1, 65536);
	size_t have = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), i;
	ssize_t n;

	assert_true(fd >= 0);
	connect(fd, (struct sockaddr *)&a, sizeof(a));
	for (i = 0; i < 2000; i++) {
		dm_metrics_tick(m);
		if (i == 1)
			assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
		n = recv(fd, buf + have, 65535 - have, 0);
		if (n == 0)
			break;
		if (n > 0)
			have += (size_t)n;
		usleep(1000);
	}
	assert_true(i < 2000);
	close(fd);
	return buf;
}

static void test_live_scrape(void **state)
{
	struct dm_loop *lp = dm_loop_new();
	struct dm_metrics *m = NULL;
	char listen[64], *r;
	int calls = 0, port = free_port();
	struct dm_metrics_opts none = {"", NULL, 0}, mo = {listen, NULL, 0};

	(void)state;
	assert_int_equal(dm_metrics_open(&none, lp, render_cb, &calls, &m), 0);
	assert_null(m);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	assert_int_equal(dm_metrics_open(&mo, lp, render_cb, &calls, &m), 0);
	assert_non_null(m);

	r = get(m, port, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.0 200") ?: strstr(r, "HTTP/1.1 200"));
	assert_non_null(strstr(r, "text/plain; version=0.0.4"));
	assert_non_null(
	    strstr(r, "\r\n\r\n# HELP dicomon_x X.\n# TYPE dicomon_x gauge\ndicomon_x 1\n"));
	free(r);
	r = get(m, port, "GET / HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "<a href=\"/metrics\">"));
	free(r);
	r = get(m, port, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "dicomon_x 2\n"));
	free(r);
	r = get(m, port, "GET /metrics HTTP/1.0\r\n\r\n"); /* the render fails: 500 */
	assert_non_null(strstr(r, " 500 "));
	free(r);
	r = get(m, port, "POST /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 405 "));
	free(r);
	r = get(m, port, "GET /nothing HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 404 "));
	free(r);
	assert_int_equal(calls, 3);
	/* the port is taken now: a second endpoint fails with a clear error */
	{
		struct dm_metrics *m2 = NULL;

		assert_true(dm_metrics_open(&mo, lp, render_cb, &calls, &m2) < 0);
		assert_null(m2);
	}
	dm_metrics_close(m, lp);
	dm_loop_free(lp);
}

/* The association families as core/counters.c declares them, over m alone. */
static void am_emit(struct dm_expo *e, const void *ctx, const void *arg)
{
	(*(const dm_am_emit_fn *)arg)(e, ctx);
}

static char *render_am(const struct dm_assoc_metrics *m)
{
	static const dm_am_emit_fn fns[] = {dm_am_outcomes, dm_am_rejects,   dm_am_vlans,
					    dm_am_durations, dm_am_tls,	     dm_am_commands,
					    dm_am_anomalies, dm_am_incomplete, dm_am_pairs};
	static const struct dm_family fams[] = {
	    {"associations_total", DM_COUNTER, "A.", {"transport", "outcome"}, .emit = am_emit,
	     .arg = &fns[0]},
	    {"association_rejects_total", DM_COUNTER, "R.", {"source", "reason", "reason_name"},
	     .emit = am_emit, .arg = &fns[1]},
	    {"vlan_associations_total", DM_COUNTER, "V.", {"vlan", "transport"}, .emit = am_emit,
	     .arg = &fns[2]},
	    {"association_duration_seconds", DM_HISTOGRAM, "D.", {"transport"}, .emit = am_emit,
	     .arg = &fns[3]},
	    {"tls_associations_total", DM_COUNTER, "T.", {"version"}, .emit = am_emit,
	     .arg = &fns[4]},
	    {"dimse_messages_total", DM_COUNTER, "M.", {"command", "status_class"},
	     .emit = am_emit, .arg = &fns[5]},
	    {"association_anomalies_total", DM_COUNTER, "N.", {"anomaly"}, .emit = am_emit,
	     .arg = &fns[6]},
	    {"association_decode_incomplete_total", DM_COUNTER, "I.", {"reason"},
	     .emit = am_emit, .arg = &fns[7]},
	    {"ae_pair_associations_total", DM_COUNTER, "P.", {"calling_ae", "called_ae"},
	     .emit = am_emit, .arg = &fns[8]},
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(dm_metrics_render(f, fams, sizeof(fams) / sizeof(fams[0]), NULL, m), 0);
	fclose(f);
	check_families(buf);
	return buf;
}

static void test_assoc_metrics(void **state)
{
	struct dm_assoc_metrics *m = calloc(1, sizeof(*m));
	struct dm_rec r = {};
	char a[32], b[32], *t;
	int i;

	(void)state;
	r.transport = DM_TRANSPORT_CLEARTEXT;
	r.outcome = DM_OUT_RELEASED;
	r.start_ns = 1000000000ULL;
	r.end_ns = r.start_ns + 70000000ULL; /* 0.07 s */
	dm_am_end(m, &r, "MODALITY1", "PACS_SCP");
	dm_am_end(m, &r, "MODALITY1", "PACS_SCP");
	r.outcome = DM_OUT_REJECTED;
	r.end_ns = r.start_ns + 2 * 1000000000ULL; /* 2 s */
	dm_am_end(m, &r, "other", "other");
	r.rejected = true;
	r.reject = (struct dm_reject){.result = 1, .source = 1, .reason = 7};
	r.key.vlan[0] = 100;
	dm_am_end(m, &r, "other", "other");
	r.reject = (struct dm_reject){.result = 1, .source = 9, .reason = 200}; /* hostile codes */
	dm_am_end(m, &r, "other", "other");
	r.rejected = false;
	r.key.vlan[0] = 0;
	r.transport = DM_TRANSPORT_TLS;
	r.outcome = DM_OUT_INCOMPLETE;
	r.tls_selected = 0x0304;
	dm_am_end(m, &r, "ignored", "ignored"); /* TLS: no AE pair */
	r.tls_selected = 0x7a7a;		/* two unknown versions: one series */
	dm_am_end(m, &r, "x", "y");
	r.tls_selected = 0x1234;
	dm_am_end(m, &r, "x", "y");
	dm_am_dimse(m, 0x0001, false, 0);     /* C-STORE-RQ */
	dm_am_dimse(m, 0x8001, true, 0x0000); /* C-STORE-RSP success */
	dm_am_dimse(m, 0x8001, true, 0xa700); /* failure */
	dm_am_dimse(m, 0x8021, true, 0xff00); /* C-MOVE-RSP pending */
	dm_am_dimse(m, 0x4242, false, 0);     /* not a command: other */
	t = render_am(m);
	assert_non_null(strstr(
	    t, "dicomon_associations_total{transport=\"cleartext\",outcome=\"released\"} 2\n"));
	assert_non_null(strstr(
	    t, "dicomon_associations_total{transport=\"cleartext\",outcome=\"rejected\"} 3\n"));
	assert_non_null(
	    strstr(t, "dicomon_association_rejects_total{source=\"service-user\",reason=\"7\","
		      "reason_name=\"called-AE-title-not-recognized\"} 1\n"));
	assert_non_null(
	    strstr(t, "dicomon_association_rejects_total{source=\"other\",reason=\"other\","
		      "reason_name=\"other\"} 1\n"));
	assert_non_null(
	    strstr(t, "dicomon_vlan_associations_total{vlan=\"100\",transport=\"cleartext\"} 2\n"));
	assert_non_null(strstr(
	    t, "dicomon_vlan_associations_total{vlan=\"none\",transport=\"cleartext\"} 3\n"));
	assert_non_null(
	    strstr(t, "dicomon_vlan_associations_total{vlan=\"none\",transport=\"tls\"} 3\n"));
	assert_non_null(
	    strstr(t, "dicomon_associations_total{transport=\"tls\",outcome=\"incomplete\"} 3\n"));
	assert_non_null(strstr(t, "dicomon_association_duration_seconds_bucket{transport="
				  "\"cleartext\",le=\"0.05\"} 0\n"));
	assert_non_null(strstr(
	    t,
	    "dicomon_association_duration_seconds_bucket{transport=\"cleartext\",le=\"0.1\"} 2\n"));
	assert_non_null(strstr(
	    t,
	    "dicomon_association_duration_seconds_bucket{transport=\"cleartext\",le=\"1\"} 2\n"));
	assert_non_null(strstr(
	    t,
	    "dicomon_association_duration_seconds_bucket{transport=\"cleartext\",le=\"5\"} 5\n"));
	assert_non_null(strstr(t, "dicomon_association_duration_seconds_bucket{transport="
				  "\"cleartext\",le=\"+Inf\"} 5\n"));
	assert_non_null(
	    strstr(t, "dicomon_association_duration_seconds_count{transport=\"cleartext\"} 5\n"));
	assert_non_null(strstr(
	    t, "dicomon_association_duration_seconds_sum{transport=\"cleartext\"} 6.140000\n"));
	assert_non_null(strstr(t, "dicomon_tls_associations_total{version=\"TLS1.3\"} 1\n"));
	assert_non_null(strstr(t, "dicomon_tls_associations_total{version=\"unknown\"} 2\n"));
	assert_non_null(strstr(t, "{command=\"C-STORE-RQ\",status_class=\"none\"} 1\n"));
	assert_non_null(strstr(t, "{command=\"C-STORE-RSP\",status_class=\"success\"} 1\n"));
	assert_non_null(strstr(t, "{command=\"C-STORE-RSP\",status_class=\"failure\"} 1\n"));
	assert_non_null(strstr(t, "{command=\"C-MOVE-RSP\",status_class=\"pending\"} 1\n"));
	assert_non_null(strstr(t, "{command=\"other\",status_class=\"none\"} 1\n"));
	assert_non_null(strstr(t, "{calling_ae=\"MODALITY1\",called_ae=\"PACS_SCP\"} 2\n"));
	assert_non_null(strstr(t, "{calling_ae=\"other\",called_ae=\"other\"} 3\n"));
	assert_null(strstr(t, "ignored"));
	free(t);

	/* A hostile known title is escaped; past DM_AM_PAIRS pairs everything folds into other. */
	r.transport = DM_TRANSPORT_CLEARTEXT;
	dm_am_end(m, &r, "A\"B\\C", "PACS_SCP");
	for (i = 0; i < 2 * DM_AM_PAIRS; i++) {
		snprintf(a, sizeof(a), "SRC%d", i);
		snprintf(b, sizeof(b), "DST%d", i);
		dm_am_end(m, &r, a, b);
	}
	assert_int_equal(m->n_pairs, DM_AM_PAIRS);
	t = render_am(m);
	assert_non_null(strstr(t, "{calling_ae=\"A\\\"B\\\\C\",called_ae=\"PACS_SCP\"} 1\n"));
	{
		int series = 0;
		char *p = t;

		while ((p = strstr(p, "dicomon_ae_pair_associations_total{")))
			series++, p++;
		assert_int_equal(series, DM_AM_PAIRS);
	}
	free(t);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposition),
	    cmocka_unit_test(test_live_scrape),
	    cmocka_unit_test(test_assoc_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
