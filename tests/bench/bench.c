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
#include <time.h>
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
	bool reset;		/* RST the association once measured */
	int (*setup)(struct bench *b, struct klass *k);
	struct expect exp;
	struct pkt_flow flow;	/* the class's own connection */
	uint8_t pkt[PKT_MAX];	/* timed frame */
	size_t len;
	uint8_t undo[PKT_MAX];	/* 1-shot: untimed frame that restores the state */
	size_t undo_len;
	bool fresh;		/* 1-shot: a new in-order segment of flow per sample */
	uint8_t payload[PKT_MAX];
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
	struct timespec t0, t1;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = bpf_prog_test_run_opts(fd, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (getenv("DBG") && repeat > 1)
		fprintf(stderr, "%s R=%u kernel=%u wall/R=%.3f wall=%.0fus\n", fd == b->dm_fd ? "dm" : "noop", repeat, o.duration,
			((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / repeat, ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))/1e3);

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

/* Counter i of an array must have grown by want[i] * n (want NULL: by 0). */
static int check_array(const struct klass *k, const char *field, const __u64 *c0, const __u64 *c1,
		       const __u8 *want, int len, const char *(*name)(unsigned int), __u64 n)
{
	__u64 d, w;
	int i;

	for (i = 0; i < len; i++) {
		d = c1[i] - c0[i];
		w = (want ? want[i] : 0) * n;
		if (d != w)
			return fail("%s: %s[%s] grew by %llu, expected %llu: not the path this row "
				    "is about", k->name, field, name(i), (unsigned long long)d,
				    (unsigned long long)w);
	}
	return 0;
}

/* Every counter must have grown by exactly what the path implies: nothing more, nothing else. */
static int check(const struct klass *k, const struct dm_stats *s0, const struct dm_stats *s1,
		 __u64 n, __u64 drained)
{
	const struct expect *e = &k->exp;
	__u64 pdus = 0;
	int i, j;

	if (check_array(k, "pkts", s0->pkts, s1->pkts, e->pkts, DM_CLASS_MAX, dm_class_name, n) ||
	    check_array(k, "assoc", s0->assoc, s1->assoc, e->assoc, DM_ASSOC_MAX,
			dm_assoc_counter_name, n) ||
	    check_array(k, "cnt", s0->cnt, s1->cnt, e->cnt, DM_CNT_MAX, dm_counter_name, n) ||
	    check_array(k, "err", s0->err, s1->err, NULL, DM_ERR_MAX, dm_err_name, n))
		return -1;
	for (i = 0; i < DM_DIR_MAX; i++)
		for (j = 0; j < DM_PDU_MAX; j++)
			pdus += s1->pdus[i][j] - s0->pdus[i][j];
	if (pdus != e->pdus * n)
		return fail("%s: %llu PDU headers counted, expected %llu", k->name,
			    (unsigned long long)pdus, (unsigned long long)e->pdus * n);
	if (drained != e->cnt[DM_CNT_EVENTS] * n)
		return fail("%s: %llu events drained, %llu sent", k->name,
			    (unsigned long long)drained, (unsigned long long)e->cnt[DM_CNT_EVENTS] * n);
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
			k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), k->payload,
					       k->plen);
		if (s & 1)
			err = run(b, b->dm_fd, k->pkt, k->len, 1, &t_dm) ?:
			      run(b, b->noop_fd, k->pkt, k->len, 1, &t_nop);
		else
			err = run(b, b->noop_fd, k->pkt, k->len, 1, &t_nop) ?:
			      run(b, b->dm_fd, k->pkt, k->len, 1, &t_dm);
		if (!err && k->undo_len)
			err = run(b, b->dm_fd, k->undo, k->undo_len, 1, NULL);
		if (getenv("DBG") && s < 6)
			fprintf(stderr, "%s s=%u dm=%.0f noop=%.0f\n", k->name, s, t_dm, t_nop);
		if (!err && (!getenv("BATCH") || s % 1000 == 999) && ring_buffer__consume(b->rb) < 0)
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
			err = check(k, &s0, &s1, k->shot ? b->samples : b->repeat,
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

/* A-ASSOCIATE-RQ from the client; the acceptor's A-ASSOCIATE-AC unless rq_only. */
static int assoc_cleartext(struct bench *b, struct klass *k, bool rq_only)
{
	static const struct pdu_pc pc = { 1, PDU_UID_VERIFICATION, { PDU_UID_IMPLICIT_LE }, 1 };
	static const uint8_t ids[] = { 1 }, res[] = { 0 };
	uint8_t pdu[1024];
	size_t n;

	n = pdu_assoc_rq(pdu, sizeof(pdu), "STORESCP", "BENCHSCU", &pc, 1, BULK_PDU,
			 PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	if (rq_only) {
		k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), pdu, n);
		return 0;
	}
	if (flow_feed(b, &k->flow, 0, 0, pdu, n))
		return -1;
	n = pdu_assoc_ac(pdu, sizeof(pdu), "STORESCP", "BENCHSCU", ids, res, 1, BULK_PDU);
	return flow_feed(b, &k->flow, 1, 0, pdu, n);
}

/* TLS ClientHello (record version 1.0, offering 1.3) and the server's answer unless ch_only. */
static int assoc_tls(struct bench *b, struct klass *k, bool ch_only)
{
	static const uint16_t versions[] = { 0x0304, 0x0303 };
	uint8_t rec[1024];
	size_t n;

	n = tls_client_hello(rec, sizeof(rec), 0x0301, 0x0303, versions, 2);
	if (ch_only) {
		k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), rec, n);
		return 0;
	}
	if (flow_feed(b, &k->flow, 0, 0, rec, n))
		return -1;
	n = tls_server_hello(rec, sizeof(rec), 0x0303, 0x0304);
	return flow_feed(b, &k->flow, 1, 0, rec, n);
}

static int setup_arp(struct bench *b, struct klass *k)
{
	(void)b;
	k->len = pkt_build_arp(k->pkt, sizeof(k->pkt));
	return 0;
}

static int setup_http(struct bench *b, struct klass *k)
{
	char pay[1400];
	int n;

	(void)b;
	n = snprintf(pay, sizeof(pay), "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
		     "Content-Length: 65536\r\n\r\n<html>");
	memset(pay + n, 'x', sizeof(pay) - n);
	flow_init(&k->flow, 40000, 8080);
	k->len = pkt_flow_next(&k->flow, 1, 0, k->pkt, sizeof(k->pkt), pay, sizeof(pay));
	return 0;
}

static int setup_bulk(struct bench *b, struct klass *k)
{
	static uint8_t pdu[BULK_PDU];
	size_t n;

	flow_init(&k->flow, 40002, 11112);
	if (assoc_cleartext(b, k, false))
		return -1;
	n = pdu_pdata_data(pdu, sizeof(pdu), 1, BULK_PDU - 12, 0);
	if (n != BULK_PDU)
		return fail("P-DATA builder returned %zu bytes", n);
	/* The header segment opens the PDU; the next one lies wholly inside it. */
	if (flow_feed(b, &k->flow, 0, 0, pdu, SEG_LEN))
		return -1;
	k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), pdu + SEG_LEN, SEG_LEN);
	return 0;
}

/*
 * A C-ECHO-RQ in its own P-DATA-TF: header walk, DIMSE event. Replaying one
 * frame would measure retransmission handling, so every sample is the next
 * in-order segment. The frame in k->pkt before the first sample only feeds
 * the no-op loop, built on a copy of the flow so the stream does not move.
 */
static int setup_pdata_hdr(struct bench *b, struct klass *k)
{
	struct pkt_flow copy;

	flow_init(&k->flow, 40003, 11112);
	if (assoc_cleartext(b, k, false))
		return -1;
	k->plen = pdu_pdata_command(k->payload, sizeof(k->payload), 1, DIMSE_C_ECHO,
				    PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	k->fresh = true;
	copy = k->flow;
	k->len = pkt_flow_next(&copy, 0, 0, k->pkt, sizeof(k->pkt), k->payload, k->plen);
	return 0;
}

/*
 * A new association per sample, removed by an untimed RST. An RST riding on
 * the A-ASSOCIATE-RQ itself would be cheaper to measure (one looped frame)
 * but classify_tcp() sends any SYN or RST segment of an unknown flow to
 * TCP_OTHER before detection, so that frame never creates an association.
 */
static int setup_new_assoc(struct bench *b, struct klass *k)
{
	flow_init(&k->flow, 40004, 11112);
	if (assoc_cleartext(b, k, true))
		return -1;
	k->undo_len = pkt_flow_next(&k->flow, 0, PKT_TCP_RST | PKT_TCP_ACK, k->undo,
				    sizeof(k->undo), NULL, 0);
	return 0;
}

static int setup_tls_bulk(struct bench *b, struct klass *k)
{
	uint8_t rec[SEG_LEN];

	flow_init(&k->flow, 40005, 2762);
	if (assoc_tls(b, k, false))
		return -1;
	rec[0] = 0x17;	/* application data, record version TLS 1.2, length */
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (SEG_LEN - 5) >> 8;
	rec[4] = (SEG_LEN - 5) & 0xff;
	memset(rec + 5, 0xa5, SEG_LEN - 5);
	k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), rec, SEG_LEN);
	return 0;
}

/* As setup_new_assoc(), and for the same reason not an RST-flagged ClientHello. */
static int setup_tls_new(struct bench *b, struct klass *k)
{
	flow_init(&k->flow, 40006, 2762);
	if (assoc_tls(b, k, true))
		return -1;
	k->undo_len = pkt_flow_next(&k->flow, 0, PKT_TCP_RST | PKT_TCP_ACK, k->undo,
				    sizeof(k->undo), NULL, 0);
	return 0;
}

/*
 * The bulk rows prove their path by the absence of RETRANSMIT over `repeat`
 * replays: with bench_hold only the fast path leaves next_seq alone; the
 * slow path would have advanced it and counted every replay after the first.
 */
static struct klass classes[] = {
	{ .name = "non-IP", .key = "non_ip", .goal = 1.5, .setup = setup_arp,
	  .exp = { .pkts = { [DM_CLASS_NON_IP] = 1 } } },
	{ .name = "TCP non-DICOM", .key = "tcp_other", .goal = 1.5, .setup = setup_http,
	  .exp = { .pkts = { [DM_CLASS_TCP_OTHER] = 1 } } },
	{ .name = "P-DATA bulk", .key = "pdata_bulk", .goal = 1.5, .setup = setup_bulk,
	  .reset = true, .exp = { .pkts = { [DM_CLASS_DICOM] = 1 } } },
	{ .name = "P-DATA header", .key = "pdata_header", .goal = 3, .setup = setup_pdata_hdr,
	  .shot = true, .reset = true,
	  .exp = { .pkts = { [DM_CLASS_DICOM] = 1 }, .pdus = 1,
		   .cnt = { [DM_CNT_DIMSE_COMMANDS] = 1, [DM_CNT_EVENTS] = 1 } } },
	{ .name = "new association", .key = "assoc_new", .goal = 3, .setup = setup_new_assoc,
	  .shot = true,
	  .exp = { .pkts = { [DM_CLASS_DICOM] = 2 }, .pdus = 1,
		   .assoc = { [DM_ASSOC_NEW_CLEARTEXT] = 1, [DM_ASSOC_ENDED] = 1 },
		   .cnt = { [DM_CNT_FLOW_INSERT] = 1, [DM_CNT_EVENTS] = 2 } } },
	{ .name = "TLS bulk", .key = "tls_bulk", .goal = 3, .setup = setup_tls_bulk,
	  .reset = true, .exp = { .pkts = { [DM_CLASS_DICOM_TLS] = 1 } } },
	{ .name = "TLS new", .key = "tls_new", .goal = 3, .setup = setup_tls_new, .shot = true,
	  .exp = { .pkts = { [DM_CLASS_DICOM_TLS] = 2 },
		   .assoc = { [DM_ASSOC_NEW_TLS] = 1, [DM_ASSOC_ENDED] = 1 },
		   .cnt = { [DM_CNT_FLOW_INSERT] = 1, [DM_CNT_TLS_HELLO] = 1,
			    [DM_CNT_EVENTS] = 2 } } },
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/*
 * Open, configure as the daemon would, then set bench_hold: that is why this
 * does not go through dm_loader_load(). Only the XDP program is loaded.
 */
static int load(struct bench *b)
{
	struct dm_config cfg;
	struct dm_bpf_config *bc;
	struct bpf_program *p;
	int err;

	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return fail("cannot count possible CPUs: %s", strerror(-b->ncpus));
	b->dm = dicomon_bpf__open();
	if (!b->dm)
		return fail("cannot open dicomon BPF object: %s", strerror(errno));
	dm_config_defaults(&cfg);
	bc = (struct dm_bpf_config *)&b->dm->rodata->cfg;
	dm_config_to_bpf(&cfg, bc);
	bc->bench_hold = 1;
	bpf_object__for_each_program(p, b->dm->obj)
		bpf_program__set_autoload(p, p == b->dm->progs.dicomon_xdp);
	err = bpf_map__set_max_entries(b->dm->maps.dm_flows, cfg.flow_slots) ?:
	      bpf_map__set_max_entries(b->dm->maps.dm_overflow, cfg.overflow_entries) ?:
	      bpf_map__set_max_entries(b->dm->maps.dm_events, cfg.ringbuf_bytes) ?:
	      dicomon_bpf__load(b->dm);
	if (err)
		return fail("cannot load dicomon (run as root; -v for libbpf's log): %s",
			    strerror(-err));
	/* Nothing to set before load: the no-op has no configuration. */
	b->noop = noop_bpf__open_and_load();
	if (!b->noop)
		return fail("cannot load noop_xdp: %s", strerror(errno));
	b->dm_fd = bpf_program__fd(b->dm->progs.dicomon_xdp);
	b->noop_fd = bpf_program__fd(b->noop->progs.noop_xdp);
	b->stats_fd = bpf_map__fd(b->dm->maps.dm_stats);
	b->rb = ring_buffer__new(bpf_map__fd(b->dm->maps.dm_events), on_event, b, NULL);
	if (!b->rb)
		return fail("cannot open dm_events ring buffer: %s", strerror(errno));
	return 0;
}

static void cpu_model(char *out, size_t cap)
{
	char line[256], *v;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, cap, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		v = strchr(line, ':');
		if (strncmp(line, "model name", 10) || !v)
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, "\n")] = 0;
		snprintf(out, cap, "%s", v);
		break;
	}
	if (f)
		fclose(f);
}

static void report(const struct bench *b, int cpu)
{
	struct utsname u;
	char model[128];
	json_object *o, *arr, *c;
	const struct klass *k;
	double ratio;
	size_t i;

	uname(&u);
	cpu_model(model, sizeof(model));
	if (b->json) {
		o = json_object_new_object();
		json_object_object_add(o, "kernel", json_object_new_string(u.release));
		json_object_object_add(o, "cpu_model", json_object_new_string(model));
		json_object_object_add(o, "cpu", json_object_new_int(cpu));
		json_object_object_add(o, "repeat", json_object_new_int64(b->repeat));
		json_object_object_add(o, "rounds", json_object_new_int(ROUNDS));
		json_object_object_add(o, "samples", json_object_new_int64(b->samples));
		arr = json_object_new_array();
		for (i = 0; i < NCLASSES; i++) {
			k = &classes[i];
			ratio = k->ns / k->noop_ns;
			c = json_object_new_object();
			json_object_object_add(c, "class", json_object_new_string(k->key));
			json_object_object_add(c, "name", json_object_new_string(k->name));
			json_object_object_add(c, "method",
					       json_object_new_string(k->shot ? "single" : "loop"));
			json_object_object_add(c, "ns", json_object_new_double(k->ns));
			json_object_object_add(c, "noop_ns", json_object_new_double(k->noop_ns));
			json_object_object_add(c, "ratio", json_object_new_double(ratio));
			json_object_object_add(c, "goal", json_object_new_double(k->goal));
			json_object_object_add(c, "miss", json_object_new_boolean(ratio > k->goal));
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "classes", arr);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return;
	}
	printf("dicomon XDP classifier, BPF_PROG_TEST_RUN, repeat %u, median of %d (kernel %s, %s, CPU %d)\n",
	       b->repeat, ROUNDS, u.release, model, cpu);
	printf("%-20s %8s %14s %7s %8s\n", "class", "ns/pkt", "no-op ns/pkt", "ratio", "goal");
	for (i = 0; i < NCLASSES; i++) {
		k = &classes[i];
		ratio = k->ns / k->noop_ns;
		printf("%-18s%-2s %8.1f %14.1f %6.2fx   <= %.1fx%s\n", k->name, k->shot ? " *" : "",
		       k->ns, k->noop_ns, ratio, k->goal, ratio > k->goal ? "  MISS" : "");
	}
	printf("* state changes with every packet: %u single runs per round, reported as\n"
	       "  no-op loop + median(dicomon - no-op) of paired single runs (cold caches)\n",
	       b->samples);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench [-n REPEAT] [-s SAMPLES] [-c CPU] [--json] [-v]\n"
		"  -n, --repeat N   repetitions per looped test run (default 5000000)\n"
		"  -s, --samples N  single runs per round for the * rows (default 20000)\n"
		"  -c, --cpu N      CPU to pin to (default: the one we start on)\n"
		"  -j, --json       one JSON object on stdout\n"
		"  -v, --verbose    libbpf's messages\n"
		"Runs as root. Example: make bench BENCH_ARGS='-n 1000000 --json'\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repeat", required_argument, NULL, 'n' }, { "samples", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },    { "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },      { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench b = { .repeat = 5000000, .samples = 20000 };
	__u32 cpu = sched_getcpu();
	cpu_set_t set;
	size_t i;
	int c, err = 0;

	while ((c = getopt_long(argc, argv, "n:s:c:jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			err = dm_parse_u32(optarg, 1, UINT32_MAX, &b.repeat);
			break;
		case 's':
			err = dm_parse_u32(optarg, 1, 10000000, &b.samples);
			break;
		case 'c':
			err = dm_parse_u32(optarg, 0, CPU_SETSIZE - 1, &cpu);
			break;
		case 'j':
			b.json = json_mode = true;
			break;
		case 'v':
			dm_log_set_level(DM_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (err) {
			fail("-%c %s: %s", c, optarg, strerror(-err));
			return 2;
		}
	}
	dm_log_init_libbpf();
	/* Per-CPU counters are summed anyway; pinning keeps both programs on one core's caches. */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fail("cannot pin to CPU %u: %s", cpu, strerror(errno));
		return 1;
	}
	err = load(&b);
	if (getenv("SHOTALL"))
		for (i = 0; i < NCLASSES; i++)
			classes[i].shot = true;
	for (i = 0; !err && i < NCLASSES; i++) {
		err = classes[i].setup(&b, &classes[i]) ?: measure(&b, &classes[i]);
		if (!err && classes[i].reset)
			err = flow_feed(&b, &classes[i].flow, 0, PKT_TCP_RST | PKT_TCP_ACK, NULL, 0);
	}
	if (!err)
		report(&b, cpu);
	ring_buffer__free(b.rb);
	noop_bpf__destroy(b.noop);
	dicomon_bpf__destroy(b.dm);
	return err ? 1 : 0;
}
