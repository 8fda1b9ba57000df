// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Per-packet cost of dicomon's XDP classifier next to a no-op XDP program,
 * both run through BPF_PROG_TEST_RUN in this process (root, no network).
 * A report for the README's OVERHEAD section, not a test: a ratio above its
 * goal prints MISS and still exits 0. What does fail is a class whose packets
 * did not take the path the row is named after, proven by the counter
 * deltas, because a number for the wrong path is worse than none.
 *
 * Two methods. Where one frame can be replayed without changing the state it
 * meets (non-IP, non-DICOM TCP, and bulk segments thanks to cfg.bench_hold),
 * the kernel loops over it `repeat` times and reports the mean. Where every
 * packet changes the state (a PDU header moves hdr_seq, a new association
 * fills a slot) each sample is a single run, paired with a single no-op run
 * so that the test-run timer's fixed cost cancels out; those rows (marked *)
 * report no-op loop + median(dicomon - no-op) and, since caches are cooled
 * by the syscalls in between, err on the expensive side.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "dicomon.h"
#include "dicomon.skel.h"
#include "noop.skel.h"
#include "config.h"
#include "loader.h"
#include "log.h"
#include "names.h"
#include "pktbuild.h"

#define ROUNDS 5
#define PKT_MAX 2048
#define SEG_LEN 1448		/* a full-sized segment at MTU 1500 with TCP timestamps */
#define BULK_PDU 16384		/* P-DATA PDU the bulk segment lies inside */

struct bench {
	struct dicomon_bpf *dm;
	struct noop_bpf *noop;
	int dm_fd, noop_fd, stats_fd, ncpus;
	struct ring_buffer *rb;
	__u64 drained;		/* ring records consumed */
	__u32 repeat, samples;
	bool json;
};

/* Counter growth per timed packet (1-shot: per sample, the untimed undo included). */
struct expect {
	__u8 pkts[DM_CLASS_MAX];
	__u8 assoc[DM_ASSOC_MAX];
	__u8 cnt[DM_CNT_MAX];
	__u8 pdus;		/* PDU headers, any direction and type */
};

struct klass {
	const char *name, *key;
	double goal;		/* ratio to the no-op */
	bool shot;		/* 1-shot method */
	struct expect exp;
	uint8_t pkt[PKT_MAX];	/* timed frame */
	size_t len;
	uint8_t undo[PKT_MAX];	/* 1-shot: untimed frame that restores the state */
	size_t undo_len;
	struct pkt_flow *fresh;	/* 1-shot: new in-order segment of this flow per sample */
	const uint8_t *payload;
	size_t plen;
	double ns, noop_ns;	/* results: medians over the rounds */
};

static bool json_mode;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_object *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!json_mode) {
		fprintf(stderr, "bench: %s\n", msg);
		return -1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return -1;
}

static int on_event(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	((struct bench *)ctx)->drained++;
	return 0;
}

/* One test run; *ns is the kernel's mean per repetition (its timer skips reschedules). */
static int run(struct bench *b, int fd, const void *pkt, size_t len, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err)
		return fail("BPF_PROG_TEST_RUN on %s: %s", fd == b->dm_fd ? "dicomon_xdp" : "noop_xdp",
			    strerror(-err));
	if (o.retval != XDP_PASS)
		return fail("program returned %u, not XDP_PASS", o.retval);
	if (ns)
		*ns = o.duration;
	return 0;
}

/* An untimed run of the classifier, to set up state; events are drained at once. */
static int feed(struct bench *b, const uint8_t *pkt, size_t len)
{
	if (!len)
		return fail("packet builder failed");
	if (run(b, b->dm_fd, pkt, len, 1, NULL))
		return -1;
	return ring_buffer__consume(b->rb) < 0 ? fail("ring buffer consume failed") : 0;
}

static int flow_feed(struct bench *b, struct pkt_flow *f, int from_server, uint8_t flags,
		     const void *payload, size_t plen)
{
	uint8_t pkt[PKT_MAX];

	return feed(b, pkt, pkt_flow_next(f, from_server, flags, pkt, sizeof(pkt), payload, plen));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Every counter must have grown by exactly what the path implies: nothing more, nothing else. */
static int check(const struct bench *b, const struct klass *k, const struct dm_stats *s0,
		 const struct dm_stats *s1, __u64 n, __u64 drained)
{
	const struct expect *e = &k->exp;
	__u64 pdus = 0, d;
	int i, j;

#define CHECK_GROWTH(field, idx, want, name)                                                   \
	do {                                                                                   \
		d = s1->field[idx] - s0->field[idx];                                           \
		if (d != (__u64)(want) * n)                                                    \
			return fail("%s: %s[%s] grew by %llu, expected %llu: not the path this " \
				    "row measures", k->name, #field, name(idx),                \
				    (unsigned long long)d, (unsigned long long)(want) * n);     \
	} while (0)
	for (i = 0; i < DM_CLASS_MAX; i++)
		CHECK_GROWTH(pkts, i, e->pkts[i], dm_class_name);
	for (i = 0; i < DM_ASSOC_MAX; i++)
		CHECK_GROWTH(assoc, i, e->assoc[i], dm_assoc_counter_name);
	for (i = 0; i < DM_CNT_MAX; i++)
		CHECK_GROWTH(cnt, i, e->cnt[i], dm_counter_name);
	for (i = 0; i < DM_ERR_MAX; i++)
		CHECK_GROWTH(err, i, 0, dm_err_name);
#undef CHECK_GROWTH
	for (i = 0; i < DM_DIR_MAX; i++)
		for (j = 0; j < DM_PDU_MAX; j++)
			pdus += s1->pdus[i][j] - s0->pdus[i][j];
	if (pdus != e->pdus * n)
		return fail("%s: %llu PDU headers counted, expected %llu", k->name,
			    (unsigned long long)pdus, (unsigned long long)e->pdus * n);
	if (drained != e->cnt[DM_CNT_EVENTS] * n)
		return fail("%s: %llu events drained, %llu sent", k->name,
			    (unsigned long long)drained, (unsigned long long)e->cnt[DM_CNT_EVENTS] * n);
	(void)b;
	return 0;
}

/* The kernel loops; dicomon and the no-op alternate which goes first. */
static int loop_round(struct bench *b, struct klass *k, int round, double *dm, double *nop)
{
	if (round & 1)
		return run(b, b->dm_fd, k->pkt, k->len, b->repeat, dm) ?:
		       run(b, b->noop_fd, k->pkt, k->len, b->repeat, nop);
	return run(b, b->noop_fd, k->pkt, k->len, b->repeat, nop) ?:
	       run(b, b->dm_fd, k->pkt, k->len, b->repeat, dm);
}

/*
 * Single runs: both programs pay the test-run timer's fixed cost (tens of ns,
 * more than a no-op), so only the paired difference is kept and added to the
 * no-op's loop figure to land in the same units as the loop rows.
 */
static int shot_round(struct bench *b, struct klass *k, double *diff, double *dm, double *nop)
{
	double t_dm, t_nop;
	__u32 s;
	int err;

	err = run(b, b->noop_fd, k->pkt, k->len, b->repeat, nop);
	for (s = 0; !err && s < b->samples; s++) {
		if (k->fresh)
			k->len = pkt_flow_next(k->fresh, 0, 0, k->pkt, sizeof(k->pkt), k->payload,
					       k->plen);
		if (s & 1)
			err = run(b, b->dm_fd, k->pkt, k->len, 1, &t_dm) ?:
			      run(b, b->noop_fd, k->pkt, k->len, 1, &t_nop);
		else
			err = run(b, b->noop_fd, k->pkt, k->len, 1, &t_nop) ?:
			      run(b, b->dm_fd, k->pkt, k->len, 1, &t_dm);
		if (!err && k->undo_len)
			err = run(b, b->dm_fd, k->undo, k->undo_len, 1, NULL);
		if (!err && ring_buffer__consume(b->rb) < 0)
			err = fail("ring buffer consume failed");
		diff[s] = t_dm - t_nop;
	}
	if (!err)
		*dm = *nop + median(diff, b->samples);
	return err;
}

static int measure(struct bench *b, struct klass *k)
{
	double dm[ROUNDS], nop[ROUNDS], *diff = NULL;
	struct dm_stats s0, s1;
	__u64 drained;
	int i, err = 0;

	if (k->shot && !(diff = calloc(b->samples, sizeof(*diff))))
		return fail("out of memory");
	for (i = 0; !err && i < ROUNDS; i++) {
		drained = b->drained;
		err = dm_stats_read(b->stats_fd, b->ncpus, -1, &s0);
		if (!err)
			err = k->shot ? shot_round(b, k, diff, &dm[i], &nop[i]) :
					loop_round(b, k, i, &dm[i], &nop[i]);
		if (!err)
			err = dm_stats_read(b->stats_fd, b->ncpus, -1, &s1);
		if (!err)
			err = check(b, k, &s0, &s1, k->shot ? b->samples : b->repeat,
				    b->drained - drained);
	}
	free(diff);
	if (err)
		return -1;
	k->ns = median(dm, ROUNDS);
	k->noop_ns = median(nop, ROUNDS);
	return 0;
}

static void flow_init(struct pkt_flow *f, uint16_t sport, uint16_t dport)
{
	struct pkt_spec s = { .family = 4, .sport = sport, .dport = dport,
			      .seq = 0x10000000, .ack = 0x70000000 };

	pkt_flow_init(f, &s);
}

/* A-ASSOCIATE-RQ from the client, A-ASSOCIATE-AC from the server. */
static int assoc_cleartext(struct bench *b, struct pkt_flow *f)
{
	static const struct pdu_pc pc = { 1, PDU_UID_VERIFICATION, { PDU_UID_IMPLICIT_LE }, 1 };
	static const uint8_t ids[] = { 1 }, res[] = { 0 };
	uint8_t pdu[1024];
	size_t n;

	n = pdu_assoc_rq(pdu, sizeof(pdu), "STORESCP", "BENCHSCU", &pc, 1, BULK_PDU,
			 PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	if (flow_feed(b, f, 0, 0, pdu, n))
		return -1;
	n = pdu_assoc_ac(pdu, sizeof(pdu), "STORESCP", "BENCHSCU", ids, res, 1, BULK_PDU);
	return flow_feed(b, f, 1, 0, pdu, n);
}

static const uint16_t tls_versions[] = { 0x0304, 0x0303 };

static int assoc_tls(struct bench *b, struct pkt_flow *f)
{
	uint8_t rec[1024];
	size_t n;

	n = tls_client_hello(rec, sizeof(rec), 0x0301, 0x0303, tls_versions, 2);
	if (flow_feed(b, f, 0, 0, rec, n))
		return -1;
	n = tls_server_hello(rec, sizeof(rec), 0x0303, 0x0304);
	return flow_feed(b, f, 1, 0, rec, n);
}

/*
 * Builds every class's frames and state just before it is measured. The
 * association of a loop class is reset afterwards, so no two ever compete
 * for a flow slot (that would send one to the overflow table: another path).
 */
static int setup(struct bench *b, struct klass *k, int idx, struct pkt_flow *f)
{
	static uint8_t pdu[BULK_PDU], pay[SEG_LEN];
	size_t n;

	switch (idx) {
	case 0:
		k->len = pkt_build_arp(k->pkt, sizeof(k->pkt));
		return 0;
	case 1:
		n = snprintf((char *)pay, sizeof(pay), "HTTP/1.1 200 OK\r\nContent-Type: text/html"
			     "\r\nContent-Length: 65536\r\n\r\n<html>");
		memset(pay + n, 'x', 1400 - n);
		flow_init(f, 40000, 8080);
		k->len = pkt_flow_next(f, 1, 0, k->pkt, sizeof(k->pkt), pay, 1400);
		return 0;
	case 2:
		flow_init(f, 40002, 11112);
		if (assoc_cleartext(b, f))
			return -1;
		n = pdu_pdata_data(pdu, sizeof(pdu), 1, BULK_PDU - 12, 0);
		if (n != BULK_PDU)
			return fail("P-DATA builder returned %zu bytes", n);
		/* The header segment opens the PDU; the next one lies wholly inside it. */
		if (flow_feed(b, f, 0, 0, pdu, SEG_LEN))
			return -1;
		k->len = pkt_flow_next(f, 0, 0, k->pkt, sizeof(k->pkt), pdu + SEG_LEN, SEG_LEN);
		return 0;
	case 3:
		flow_init(f, 40003, 11112);
		n = pdu_pdata_command(pdu, sizeof(pdu), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0,
				      NULL, 0);
		k->fresh = f;
		k->payload = pdu;
		k->plen = n;
		k->len = pkt_flow_next(f, 0, 0, k->pkt, sizeof(k->pkt), pdu, n);
		/* The first frame only serves the no-op loop; samples continue after it. */
		f->next_seq[0] -= n;
		return assoc_cleartext(b, f);
	case 4:
		return 0;
	case 5:
		flow_init(f, 40005, 2762);
		if (assoc_tls(b, f))
			return -1;
		pay[0] = 0x17;	/* application data, TLS 1.2 record version, length */
		pay[1] = 3;
		pay[2] = 3;
		pay[3] = (SEG_LEN - 5) >> 8;
		pay[4] = (SEG_LEN - 5) & 0xff;
		memset(pay + 5, 0xa5, SEG_LEN - 5);
		k->len = pkt_flow_next(f, 0, 0, k->pkt, sizeof(k->pkt), pay, SEG_LEN);
		return 0;
	}
	return 0;
}

static int teardown(struct bench *b, struct klass *k, int idx, struct pkt_flow *f)
{
	if (idx != 2 && idx != 3 && idx != 5)
		return 0;
	(void)k;
	return flow_feed(b, f, 0, PKT_TCP_RST | PKT_TCP_ACK, NULL, 0);
}
