// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Per-packet cost of dicomon's XDP classifier next to a no-op XDP program,
 * both run through BPF_PROG_TEST_RUN in this process (root, no network).
 * A report for the README's OVERHEAD section, not a test: a ratio above its
 * goal prints MISS and still exits 0. What does fail is a class whose packets
 * did not take the path the row is named after, proven by the counter deltas:
 * a number for the wrong path is worse than none.
 *
 * Two methods. Where one frame can be replayed without changing the state it
 * meets (non-IP, non-DICOM TCP, bulk segments thanks to cfg.bench_hold) the
 * kernel loops over it `repeat` times and reports the mean. Where every
 * packet changes the state (a PDU header moves hdr_seq, a new association
 * takes a slot) each sample is a single run, paired with a single no-op run
 * so that the test-run timer's fixed cost (~45 ns, nine no-ops) cancels out.
 * Those rows (marked *) report no-op loop + median(dicomon - no-op); tried on
 * the loop rows, this method reads 1-9 ns high (caches cooled by syscalls).
 *
 * The kernel reports whole nanoseconds, truncated: with a no-op near 5 ns a
 * ratio is only good to about +-20%. Timing the syscall from here cannot do
 * better: switching the XDP dispatcher to the program and back around a
 * looped run costs 15-50 ms per call.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
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
#include "config/config.h"
#include "kern/loader.h"
#include "lib/log.h"
#include "lib/names.h"
#include "pktbuild.h"

#define ROUNDS	 5
#define PKT_MAX	 2048
#define SEG_LEN	 1448  /* a full segment at MTU 1500 with TCP timestamps */
#define BULK_PDU 16384 /* the P-DATA PDU the bulk segment lies inside */
/*
 * Single runs drain the ring only this often. A record committed to an empty
 * ring queues an irq_work to wake the reader, and that self-IPI is timed with
 * the program (~7 us in a VM): draining after every sample would measure
 * nothing else. At < 1 KiB of events per sample the 4 MiB ring never fills.
 */
#define DRAIN_EVERY 1000

struct bench {
	struct dicomon_bpf *dm;
	struct noop_bpf *noop;
	int dm_fd, noop_fd, stats_fd, ncpus;
	struct ring_buffer *rb;
	__u64 drained; /* ring records consumed */
	__u32 repeat, samples;
};

/* Counter growth per timed packet (single runs: per sample, the untimed undo included). */
struct expect {
	__u8 pkts[DM_CLASS_MAX];
	__u8 assoc[DM_ASSOC_MAX];
	__u8 cnt[DM_CNT_MAX];
	__u8 pdus; /* PDU headers, any direction and type */
};

struct klass {
	const char *name, *key;
	double goal;   /* ratio to the no-op */
	__u16 port[2]; /* client, server */
	bool tls;      /* DICOM-TLS association */
	bool shot;     /* single runs */
	bool reset;    /* RST the association once measured */
	int (*setup)(struct bench *b, struct klass *k);
	struct expect exp;
	struct pkt_flow flow;
	uint8_t pkt[PKT_MAX]; /* timed frame */
	size_t len;
	uint8_t undo[PKT_MAX]; /* single runs: untimed frame that restores the state */
	size_t undo_len;
	uint8_t pay[PKT_MAX]; /* single runs: when plen, a new in-order segment per sample */
	size_t plen;
	double ns, noop_ns; /* medians over the rounds */
};

static bool json_mode;

/* Errors are JSON too in JSON mode, on stdout where the result would have gone. */
static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
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

/* *ns: the kernel's mean per repetition, whole ns; its timer skips reschedules. */
static int run(struct bench *b, int fd, const void *pkt, size_t len, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .repeat = repeat);
	int err;

	if (!len)
		return fail("packet builder failed");
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return fail("BPF_PROG_TEST_RUN on %s: %s",
			    fd == b->dm_fd ? "dicomon_xdp" : "noop_xdp", strerror(-err));
	if (o.retval != XDP_PASS)
		return fail("program returned %u, not XDP_PASS", o.retval);
	if (ns)
		*ns = o.duration;
	return 0;
}

/* An untimed classifier run that sets up state. */
static int feed(struct bench *b, struct klass *k, int from_server, uint8_t flags,
		const void *payload, size_t plen)
{
	uint8_t pkt[PKT_MAX];
	size_t n = pkt_flow_next(&k->flow, from_server, flags, pkt, sizeof(pkt), payload, plen);

	if (run(b, b->dm_fd, pkt, n, 1, NULL))
		return -1;
	return ring_buffer__consume(b->rb) < 0 ? fail("ring buffer consume failed") : 0;
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

/* Counter i must have grown by want[i] * n (want NULL: not at all). */
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
				    "is about",
				    k->name, field, name(i), (unsigned long long)d,
				    (unsigned long long)w);
	}
	return 0;
}

/* Every counter grew by exactly what the path implies: nothing more, nothing else. */
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
			    (unsigned long long)drained,
			    (unsigned long long)e->cnt[DM_CNT_EVENTS] * n);
	return 0;
}

/* The kernel loops; dicomon and the no-op take turns going first. */
static int loop_round(struct bench *b, struct klass *k, int round, double *dm, double *nop)
{
	if (round & 1)
		return run(b, b->dm_fd, k->pkt, k->len, b->repeat, dm)
			   ?: run(b, b->noop_fd, k->pkt, k->len, b->repeat, nop);
	return run(b, b->noop_fd, k->pkt, k->len, b->repeat, nop)
		   ?: run(b, b->dm_fd, k->pkt, k->len, b->repeat, dm);
}

static int shot_round(struct bench *b, struct klass *k, double *diff, double *dm, double *nop)
{
	double t_dm = 0, t_nop = 0;
	__u32 s;
	int err;

	err = run(b, b->noop_fd, k->pkt, k->len, b->repeat, nop);
	for (s = 0; !err && s < b->samples; s++) {
		if (k->plen)
			k->len =
			    pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), k->pay, k->plen);
		if (s & 1)
			err = run(b, b->dm_fd, k->pkt, k->len, 1, &t_dm)
				  ?: run(b, b->noop_fd, k->pkt, k->len, 1, &t_nop);
		else
			err = run(b, b->noop_fd, k->pkt, k->len, 1, &t_nop)
				  ?: run(b, b->dm_fd, k->pkt, k->len, 1, &t_dm);
		if (!err && k->undo_len)
			err = run(b, b->dm_fd, k->undo, k->undo_len, 1, NULL);
		if (!err && (s % DRAIN_EVERY == DRAIN_EVERY - 1 || s == b->samples - 1) &&
		    ring_buffer__consume(b->rb) < 0)
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
			err = k->shot ? shot_round(b, k, diff, &dm[i], &nop[i])
				      : loop_round(b, k, i, &dm[i], &nop[i]);
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

/*
 * Open the class's association: A-ASSOCIATE-RQ and -AC or, for DICOM-TLS, a
 * ClientHello (record version 1.0, offering 1.3) and the ServerHello. With
 * opener_only the opener becomes the timed frame instead.
 */
static int assoc_open(struct bench *b, struct klass *k, bool opener_only)
{
	static const struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	static const uint8_t ids[] = {1}, res[] = {0};
	static const uint16_t versions[] = {0x0304, 0x0303};
	uint8_t buf[1024];
	size_t n;

	n = k->tls ? tls_client_hello(buf, sizeof(buf), 0x0301, 0x0303, versions, 2)
		   : pdu_assoc_rq(buf, sizeof(buf), "STORESCP", "BENCHSCU", &pc, 1, BULK_PDU,
				  PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	if (opener_only) {
		k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), buf, n);
		return 0;
	}
	if (feed(b, k, 0, 0, buf, n))
		return -1;
	n = k->tls ? tls_server_hello(buf, sizeof(buf), 0x0303, 0x0304)
		   : pdu_assoc_ac(buf, sizeof(buf), "STORESCP", "BENCHSCU", ids, res, 1, BULK_PDU);
	return feed(b, k, 1, 0, buf, n);
}

static int setup_arp(struct bench *b, struct klass *k)
{
	(void)b;
	k->len = pkt_build_arp(k->pkt, sizeof(k->pkt));
	return 0;
}

/* Mid-connection: no handshake needed, the classifier keeps no state for it. */
static int setup_http(struct bench *b, struct klass *k)
{
	char pay[1400];
	int n;

	(void)b;
	n = snprintf(pay, sizeof(pay),
		     "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
		     "Content-Length: 65536\r\n\r\n<html>");
	memset(pay + n, 'x', sizeof(pay) - n);
	k->len = pkt_flow_next(&k->flow, 1, 0, k->pkt, sizeof(k->pkt), pay, sizeof(pay));
	return 0;
}

/*
 * Bytes that are no DICOM on a DICOM port (iperf3 to port 104): random, as a
 * bulk stream of another protocol looks, in a flow never seen before.
 */
static int setup_port_noise(struct bench *b, struct klass *k)
{
	uint8_t pay[SEG_LEN];
	uint32_t x = 0x2545f491;
	size_t i;

	(void)b;
	for (i = 0; i < sizeof(pay); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pay[i] = x >> 24;
	}
	pay[0] = 0xa7; /* no PDU type, no TLS record: what nearly every segment starts with */
	k->len = pkt_flow_next(&k->flow, 1, 0, k->pkt, sizeof(k->pkt), pay, sizeof(pay));
	return 0;
}

/* The header segment opens a 16 KiB PDU; the timed one lies wholly inside it. */
static int setup_bulk(struct bench *b, struct klass *k)
{
	static uint8_t pdu[BULK_PDU];

	if (pdu_pdata_data(pdu, sizeof(pdu), 1, BULK_PDU - 12, 0) != BULK_PDU)
		return fail("P-DATA builder failed");
	if (assoc_open(b, k, false) || feed(b, k, 0, 0, pdu, SEG_LEN))
		return -1;
	k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), pdu + SEG_LEN, SEG_LEN);
	return 0;
}

/*
 * A C-ECHO-RQ in a P-DATA-TF of its own: header walk and a DIMSE event.
 * Replaying one frame would time retransmission handling instead, so each
 * sample is the next in-order segment. The frame built here on a copy of the
 * flow only feeds the no-op loop.
 */
static int setup_pdata_hdr(struct bench *b, struct klass *k)
{
	struct pkt_flow copy;

	if (assoc_open(b, k, false))
		return -1;
	k->plen = pdu_pdata_command(k->pay, sizeof(k->pay), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION,
				    1, 0, NULL, 0);
	copy = k->flow;
	k->len = pkt_flow_next(&copy, 0, 0, k->pkt, sizeof(k->pkt), k->pay, k->plen);
	return 0;
}

/*
 * A data set P-DATA-TF filling the segment: a header walk and nothing sent to
 * userspace, what every PDU of a C-STORE's data set costs.
 */
static int setup_pdata_data_hdr(struct bench *b, struct klass *k)
{
	struct pkt_flow copy;

	if (assoc_open(b, k, false))
		return -1;
	k->plen = pdu_pdata_data(k->pay, sizeof(k->pay), 1, SEG_LEN - 12, 1);
	if (k->plen != SEG_LEN)
		return fail("P-DATA builder failed");
	copy = k->flow;
	k->len = pkt_flow_next(&copy, 0, 0, k->pkt, sizeof(k->pkt), k->pay, k->plen);
	return 0;
}

/*
 * A new association per sample, removed again by an untimed RST. One frame
 * with both the opener and RST would loop, but classify_tcp() sends every
 * SYN or RST segment of an unknown flow to TCP_OTHER before detection.
 */
static int setup_new(struct bench *b, struct klass *k)
{
	int err = assoc_open(b, k, true);

	k->undo_len = pkt_flow_next(&k->flow, 0, PKT_TCP_RST | PKT_TCP_ACK, k->undo,
				    sizeof(k->undo), NULL, 0);
	return err;
}

/*
 * A candidate per sample: the first 10 bytes of an A-ASSOCIATE-RQ on a port
 * that is not DICOM's, too few to decide, held in dm_cands; an untimed next
 * byte that no AE title has drops it again. What a flow that starts like an
 * RQ costs before its next bytes come.
 */
static int setup_cand(struct bench *b, struct klass *k)
{
	static const struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	static const uint8_t bad = 0xff;
	struct pkt_flow copy;
	uint8_t rq[1024];

	(void)b;
	if (pdu_assoc_rq(rq, sizeof(rq), "STORESCP", "BENCHSCU", &pc, 1, BULK_PDU,
			 PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER) < 42)
		return fail("RQ builder failed");
	copy = k->flow;
	k->len = pkt_flow_next(&copy, 0, 0, k->pkt, sizeof(k->pkt), rq, 10);
	k->undo_len = pkt_flow_next(&copy, 0, 0, k->undo, sizeof(k->undo), &bad, 1);
	return 0;
}

/* Application data after the hellos: TLS associations are bulk from then on. */
static int setup_tls_bulk(struct bench *b, struct klass *k)
{
	uint8_t rec[SEG_LEN] = {0x17, 3, 3, (SEG_LEN - 5) >> 8, (SEG_LEN - 5) & 0xff};

	if (assoc_open(b, k, false))
		return -1;
	memset(rec + 5, 0xa5, SEG_LEN - 5);
	k->len = pkt_flow_next(&k->flow, 0, 0, k->pkt, sizeof(k->pkt), rec, SEG_LEN);
	return 0;
}

/*
 * The bulk rows prove their path by RETRANSMIT staying 0 over `repeat`
 * replays: with bench_hold only the fast path leaves next_seq alone, the slow
 * path would have advanced it and counted every replay after the first.
 * Each class has its own ports and the loop classes reset their association,
 * so no two compete for a flow slot (the loser would take the overflow path).
 */
static struct klass classes[] = {
    {.name = "non-IP",
     .key = "non_ip",
     .goal = 1.5,
     .setup = setup_arp,
     .exp = {.pkts = {[DM_CLASS_NON_IP] = 1}}},
    {.name = "TCP non-DICOM",
     .key = "tcp_other",
     .goal = 1.5,
     .port = {40000, 8080},
     .setup = setup_http,
     .exp = {.pkts = {[DM_CLASS_TCP_OTHER] = 1}}},
    {.name = "non-DICOM on 104",
     .key = "tcp_other_dicom_port",
     .goal = 1.5,
     .port = {40009, 104},
     .setup = setup_port_noise,
     .exp = {.pkts = {[DM_CLASS_TCP_OTHER] = 1}}},
    {.name = "P-DATA bulk",
     .key = "pdata_bulk",
     .goal = 1.5,
     .port = {40002, 11112},
     .setup = setup_bulk,
     .reset = true,
     .exp = {.pkts = {[DM_CLASS_DICOM] = 1}}},
    {.name = "P-DATA data header",
     .key = "pdata_data_header",
     .goal = 3,
     .port = {40007, 11112},
     .setup = setup_pdata_data_hdr,
     .shot = true,
     .reset = true,
     .exp = {.pkts = {[DM_CLASS_DICOM] = 1}, .pdus = 1}},
    {.name = "P-DATA command",
     .key = "pdata_header",
     .goal = 3,
     .port = {40003, 11112},
     .setup = setup_pdata_hdr,
     .shot = true,
     .reset = true,
     .exp = {.pkts = {[DM_CLASS_DICOM] = 1},
	     .pdus = 1,
	     .cnt = {[DM_CNT_DIMSE_COMMANDS] = 1, [DM_CNT_EVENTS] = 1}}},
    {.name = "new association",
     .key = "assoc_new",
     .goal = 3,
     .port = {40004, 11112},
     .setup = setup_new,
     .shot = true,
     .exp = {.pkts = {[DM_CLASS_DICOM] = 2},
	     .pdus = 1,
	     .assoc = {[DM_ASSOC_NEW_CLEARTEXT] = 1, [DM_ASSOC_ENDED] = 1},
	     .cnt = {[DM_CNT_FLOW_INSERT] = 1, [DM_CNT_EVENTS] = 2}}},
    {.name = "candidate segment",
     .key = "candidate",
     .goal = 3,
     .port = {40008, 40123},
     .setup = setup_cand,
     .shot = true,
     .exp = {.pkts = {[DM_CLASS_TCP_OTHER] = 2},
	     .cnt = {[DM_CNT_CAND_NEW] = 1, [DM_CNT_CAND_SEGMENTS] = 1,
		     [DM_CNT_CAND_DROPPED] = 1, [DM_CNT_CAND_REMOVED] = 1}}},
    {.name = "TLS bulk",
     .key = "tls_bulk",
     .goal = 3,
     .port = {40005, 2762},
     .setup = setup_tls_bulk,
     .tls = true,
     .reset = true,
     .exp = {.pkts = {[DM_CLASS_DICOM_TLS] = 1}}},
    {.name = "TLS new",
     .key = "tls_new",
     .goal = 3,
     .port = {40006, 2762},
     .setup = setup_new,
     .tls = true,
     .shot = true,
     .exp = {.pkts = {[DM_CLASS_DICOM_TLS] = 2},
	     .assoc = {[DM_ASSOC_NEW_TLS] = 1, [DM_ASSOC_ENDED] = 1},
	     .cnt = {[DM_CNT_FLOW_INSERT] = 1, [DM_CNT_TLS_HELLO] = 1, [DM_CNT_EVENTS] = 2}}},
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/*
 * Configured as the daemon would be, plus bench_hold: which dm_loader_load()
 * cannot set. Only the XDP program is loaded.
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
		return fail("cannot open the dicomon BPF object: %s", strerror(errno));
	dm_config_defaults(&cfg);
	/*
	 * The "new association" row opens 40,000 from one address: the per-source
	 * limit stays on (its check is part of the cost) with a budget they never
	 * exhaust.
	 */
	cfg.source_rate = 1000000;
	cfg.source_burst = 1000000;
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
		return fail("cannot load dicomon_xdp (root? -v shows libbpf's log): %s",
			    strerror(-err));
	b->noop = noop_bpf__open_and_load(); /* nothing to set before load */
	if (!b->noop)
		return fail("cannot load noop_xdp: %s", strerror(errno));
	b->dm_fd = bpf_program__fd(b->dm->progs.dicomon_xdp);
	b->noop_fd = bpf_program__fd(b->noop->progs.noop_xdp);
	b->stats_fd = bpf_map__fd(b->dm->maps.dm_stats);
	b->rb = ring_buffer__new(bpf_map__fd(b->dm->maps.dm_events), on_event, b, NULL);
	return b->rb ? 0 : fail("cannot open the dm_events ring buffer: %s", strerror(errno));
}

static void cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], *v;

	snprintf(out, cap, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		v = strchr(line, ':');
		if (!v || strncmp(line, "model name", 10))
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, "\n")] = 0;
		snprintf(out, cap, "%s", v);
		break;
	}
	if (f)
		fclose(f);
}

/* Two decimals, not json-c's %.17g (1.6000000000000001). */
static json_object *jnum(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.2f", v);
	return json_object_new_double_s(v, buf);
}

static void report(const struct bench *b, int cpu)
{
	json_object *o, *arr, *c;
	const struct klass *k;
	struct utsname u;
	char model[128];
	double ratio;
	size_t i;

	uname(&u);
	cpu_model(model, sizeof(model));
	if (!json_mode) {
		printf("dicomon XDP classifier, BPF_PROG_TEST_RUN, repeat %u, median of %d "
		       "(kernel %s, %s, CPU %d)\n",
		       b->repeat, ROUNDS, u.release, model, cpu);
		printf("%-20s %7s %13s %7s %9s\n", "class", "ns/pkt", "no-op ns/pkt", "ratio",
		       "goal");
	}
	arr = json_object_new_array();
	for (i = 0; i < NCLASSES; i++) {
		k = &classes[i];
		ratio = k->ns / k->noop_ns;
		if (!json_mode)
			printf("%-18s%-2s %7.1f %13.1f %6.2fx   <= %.1fx%s\n", k->name,
			       k->shot ? " *" : "", k->ns, k->noop_ns, ratio, k->goal,
			       ratio > k->goal ? "  MISS" : "");
		c = json_object_new_object();
		json_object_object_add(c, "class", json_object_new_string(k->key));
		json_object_object_add(c, "method",
				       json_object_new_string(k->shot ? "single" : "loop"));
		json_object_object_add(c, "ns", jnum(k->ns));
		json_object_object_add(c, "noop_ns", jnum(k->noop_ns));
		json_object_object_add(c, "ratio", jnum(ratio));
		json_object_object_add(c, "goal", jnum(k->goal));
		json_object_object_add(c, "miss", json_object_new_boolean(ratio > k->goal));
		json_object_array_add(arr, c);
	}
	if (!json_mode) {
		printf("ns are whole ns as the kernel reports them; * = %u single runs per round,\n"
		       "no-op loop + median(dicomon - no-op), state changes with every packet\n",
		       b->samples);
		json_object_put(arr);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(o, "cpu_model", json_object_new_string(model));
	json_object_object_add(o, "cpu", json_object_new_int(cpu));
	json_object_object_add(o, "repeat", json_object_new_int64(b->repeat));
	json_object_object_add(o, "rounds", json_object_new_int(ROUNDS));
	json_object_object_add(o, "samples", json_object_new_int64(b->samples));
	json_object_object_add(o, "classes", arr);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench [-n REPEAT] [-s SAMPLES] [-c CPU] [--json] [-v]\n"
		   "  -n, --repeat N   repetitions of a looped test run (default 5000000)\n"
		   "  -s, --samples N  single runs per round for the * rows (default 20000)\n"
		   "  -c, --cpu N      CPU to pin to (default: the one it starts on)\n"
		   "  -j, --json       one JSON object on stdout\n"
		   "  -v, --verbose    libbpf's messages\n"
		   "As root, e.g.: make bench BENCH_ARGS='-n 1000000 --json'\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"repeat", required_argument, NULL, 'n'},
	    {"samples", required_argument, NULL, 's'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct bench b = {.repeat = 5000000, .samples = 20000};
	int c, err = 0, cur = sched_getcpu();
	__u32 cpu = cur < 0 ? 0 : cur;
	struct pkt_spec spec = {.family = 4, .seq = 0x10000000, .ack = 0x70000000};
	struct klass *k;
	cpu_set_t set;
	size_t i;

	/* Known before any option can fail, so that its error is JSON too. */
	for (i = 1; i < (size_t)argc; i++)
		json_mode |= !strcmp(argv[i], "-j") || !strcmp(argv[i], "--json");
	while ((c = getopt_long(argc, argv, "n:s:c:jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			err = dm_parse_u32(optarg, 1, UINT32_MAX, &b.repeat);
			break;
		case 's':
			err = dm_parse_u32(optarg, 1, 100000000, &b.samples);
			break;
		case 'c':
			err = dm_parse_u32(optarg, 0, CPU_SETSIZE - 1, &cpu);
			break;
		case 'j':
			json_mode = true;
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
	/* Counters are summed over CPUs anyway; pinning keeps all runs on one core's caches. */
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fail("cannot pin to CPU %u: %s", cpu, strerror(errno));
		return 1;
	}
	err = load(&b);
	for (i = 0; !err && i < NCLASSES; i++) {
		k = &classes[i];
		spec.sport = k->port[0];
		spec.dport = k->port[1];
		pkt_flow_init(&k->flow, &spec);
		err = k->setup(&b, k) ?: measure(&b, k);
		if (!err && k->reset)
			err = feed(&b, k, 0, PKT_TCP_RST | PKT_TCP_ACK, NULL, 0);
	}
	if (!err)
		report(&b, cpu);
	ring_buffer__free(b.rb);
	noop_bpf__destroy(b.noop);
	dicomon_bpf__destroy(b.dm);
	return err ? 1 : 0;
}
