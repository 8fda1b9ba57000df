// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `dicomon replay`: capture files through the live pipeline. Every packet,
 * in order, runs through the same XDP program with BPF_PROG_TEST_RUN (fresh,
 * unpinned maps, attached nowhere), its events are drained right after it,
 * and they go through a pipeline (core/pipeline.h) as `dicomon run`'s do.
 *
 * Time: the BPF side stamps events with bpf_ktime_get_ns() (and, with
 * fine_clock, its activity stamps too). Before each packet runs we note
 * CLOCK_MONOTONIC, the same clock, next to the packet's capture time; a
 * kernel stamp is translated to the capture time of the packet during whose
 * run it was read (binary search), and userspace's "now" is the capture
 * time of the packet being read (clock.c). So rule windows, durations and
 * the feed's timestamps are the capture's.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/pcapio.h"
#include "lib/safefile.h"
#include "kern/flows.h"
#include "kern/kcount.h"
#include "kern/loader.h"
#include "dicomon.skel.h"
#include "core/counters.h"
#include "core/pipeline.h"
#include "cmd/exit.h"
#include "cmd/replay.h"

/* XDP multi-buffer test runs take up to MAX_SKB_FRAGS pages past the first. */
#define FRAME_MAX (65536 + 4096)

/* Why a packet was not run (counted, reported at the end). */
enum skip_reason {
	SKIP_SHORT,    /* shorter than its link-layer header */
	SKIP_OVERSIZE, /* larger than a test run takes */
	SKIP_RUN,      /* BPF_PROG_TEST_RUN failed */
	SKIP_MAX,
};
static const char *const skip_names[SKIP_MAX] = {"short", "oversize", "run_failed"};

struct capture {
	const char *path;
	struct dm_pcap *p;
	int dlt;
	uint64_t packets, bytes, truncated; /* truncated: caplen < wire length (snaplen) */
	int64_t size;			    /* of the file, -1 if unknown (a pipe) */
	char error[512];
};

/*
 * The progress line on a terminal's stderr (never stdout: it carries the
 * records). Per packet it costs a countdown; every PROGRESS_CHECK packets a
 * coarse clock read, and a redraw when PROGRESS_NS have passed.
 * DICOMON_PROGRESS_EVERY=N (tests) redraws every N packets whatever the time.
 */
#define PROGRESS_CHECK 1024
#define PROGRESS_NS    250000000ULL

struct progress {
	bool on;
	bool drawn;	    /* a line is on the terminal: clear it at the end */
	bool forced;	    /* DICOMON_PROGRESS_EVERY: no clock */
	uint32_t every;	    /* packets between checks */
	uint32_t countdown; /* packets to the next check */
	uint64_t t0, last;  /* CLOCK_MONOTONIC_COARSE: start, last redraw */
	uint64_t packets;
	int64_t done_bytes; /* the files already read whole */
	int64_t total;	    /* every file's size; -1 if one is unknown */
};

/* Before packet i ran, CLOCK_MONOTONIC read mono; its capture time was cap. */
struct mark {
	uint64_t mono, cap;
};

struct replay {
	struct dm_config cfg;
	struct dm_loader l;	 /* loaded, attached nowhere */
	struct dm_pipeline *p;
	struct ring_buffer *rb;
	struct dm_kcount kc; /* entries of the kernel's tables, for --metrics-out */
	struct capture *caps;
	int n_caps;
	int prog_fd;
	struct mark *marks;
	size_t n_marks, cap_marks;
	uint64_t last_cap;    /* capture clock, held when timestamps go backwards */
	uint64_t backwards;   /* packets whose timestamp went backwards */
	uint64_t skipped[SKIP_MAX];
	uint64_t packets_run;
	uint8_t *frame;
	struct progress pg;
	union { /* an event, copied so its timestamps can be translated */
		struct dm_event_hdr hdr;
		uint8_t bytes[sizeof(struct dm_event_piece) + DM_PIECE_MAX + DM_HTTP_SNAP +
			      sizeof(struct dm_event_packet)];
	} ev;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A kernel timestamp to the capture time of the packet whose run read it. */
static uint64_t to_capture(const struct replay *rp, uint64_t mono)
{
	size_t lo = 0, hi = rp->n_marks, mid;

	if (!mono || !rp->n_marks)
		return mono ? rp->last_cap : 0;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (rp->marks[mid].mono <= mono)
			lo = mid;
		else
			hi = mid;
	}
	return rp->marks[lo].cap;
}

/* Ring buffer callback: translate the timestamps, then the daemon's handler. */
static int on_event(void *ctx, void *data, size_t len)
{
	struct replay *rp = ctx;
	struct dm_event_flow *f;
	int r;

	if (len > sizeof(rp->ev) || len < sizeof(struct dm_event_hdr))
		return dm_pipeline_event(rp->p, data, len); /* counted as malformed there */
	memcpy(rp->ev.bytes, data, len);
	rp->ev.hdr.ts_ns = to_capture(rp, rp->ev.hdr.ts_ns);
	if (rp->ev.hdr.type == DM_EV_FLOW_END && len >= sizeof(*f)) {
		f = (struct dm_event_flow *)rp->ev.bytes;
		f->assoc.first_ns = to_capture(rp, f->assoc.first_ns);
		f->assoc.last_ns = to_capture(rp, f->assoc.last_ns);
	}
	r = dm_pipeline_event(rp->p, rp->ev.bytes, len);
	/* An HTTP request's query, a data set PDV: the copy keeps nothing. */
	explicit_bzero(rp->ev.bytes, len);
	return r;
}

static int add_mark(struct replay *rp, uint64_t mono, uint64_t cap)
{
	struct mark *m;
	size_t n;

	if (rp->n_marks == rp->cap_marks) {
		n = rp->cap_marks ? rp->cap_marks * 2 : 65536;
		m = realloc(rp->marks, n * sizeof(*m));
		if (!m)
			return -ENOMEM;
		rp->marks = m;
		rp->cap_marks = n;
	}
	rp->marks[rp->n_marks++] = (struct mark){mono, cap};
	return 0;
}

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* On when stderr is a terminal and not -q; the files' total size for the percentage. */
static void progress_init(struct replay *rp, const struct dm_cli *cli)
{
	struct progress *pg = &rp->pg;
	const char *env = getenv("DICOMON_PROGRESS_EVERY");
	unsigned long n = 0;
	char *end = NULL;
	int64_t off;
	int i;

	pg->on = !cli->quiet && isatty(STDERR_FILENO);
	if (!pg->on)
		return;
	pg->every = PROGRESS_CHECK;
	if (env) {
		errno = 0;
		n = strtoul(env, &end, 10);
		if (errno || end == env || *end || !n || n > 1000000000UL) {
			pr_warn("DICOMON_PROGRESS_EVERY=%s: not a packet count (1..1e9), ignored\n",
				env);
		} else {
			pg->every = (uint32_t)n;
			pg->forced = true;
		}
	}
	pg->countdown = pg->every;
	for (i = 0; i < rp->n_caps; i++) {
		dm_pcap_position(rp->caps[i].p, &off, &rp->caps[i].size);
		if (rp->caps[i].size < 0)
			pg->total = -1;
		else if (pg->total >= 0)
			pg->total += rp->caps[i].size;
	}
	pg->t0 = pg->last = coarse_ns();
}

/* "1:02:03" */
static void fmt_eta(char *buf, size_t len, double secs)
{
	unsigned long s = secs < 0 ? 0 : secs > 359999 ? 359999 : (unsigned long)(secs + 0.5);

	snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

static void progress_draw(struct replay *rp, const struct capture *c, uint64_t now)
{
	struct progress *pg = &rp->pg;
	double secs = (double)(now - pg->t0) / 1e9, rate, pct;
	uint64_t packets = 0;
	int64_t off, size;
	char line[160], eta[32] = "-:--:--";
	int i, n;

	for (i = 0; i < rp->n_caps; i++)
		packets += rp->caps[i].packets;
	rate = secs > 0 ? packets / secs : 0;
	n = snprintf(line, sizeof(line), "dicomon replay: %llu packets, %.0f packets/s",
		     (unsigned long long)packets, rate);
	dm_pcap_position(c->p, &off, &size);
	if (off >= 0 && pg->total > 0) {
		off += pg->done_bytes;
		pct = off >= pg->total ? 100.0 : 100.0 * (double)off / (double)pg->total;
		if (secs > 0 && off > 0)
			fmt_eta(eta, sizeof(eta), secs * (double)(pg->total - off) / (double)off);
		snprintf(line + n, sizeof(line) - n, ", %.1f of %.1f MB (%.0f%%), ETA %s",
			 off / 1e6, pg->total / 1e6, pct, eta);
	} else if (off >= 0) {
		snprintf(line + n, sizeof(line) - n, ", %.1f MB read",
			 (off + pg->done_bytes) / 1e6);
	}
	/* \r to the line's start, the text, erase what a longer line left after it. */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	pg->drawn = true;
}

/* Every pg->every packets: a redraw if it is time (or forced). */
static void progress_tick(struct replay *rp, const struct capture *c)
{
	struct progress *pg = &rp->pg;
	uint64_t now = coarse_ns();

	pg->countdown = pg->every;
	if (!pg->forced && now - pg->last < PROGRESS_NS)
		return;
	pg->last = now;
	progress_draw(rp, c, now);
}

/* The line goes before the summary and the counters are printed. */
static void progress_end(struct replay *rp)
{
	if (rp->pg.drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		rp->pg.drawn = false;
	}
}

static void skip(struct replay *rp, struct capture *c, enum skip_reason why, const char *detail)
{
	/* The first few by name; all of them counted. */
	if (rp->skipped[why] < 5)
		progress_end(rp); /* the warning on a line of its own */
	if (rp->skipped[why]++ < 5)
		pr_warn("%s: packet %llu: not run (%s%s%s)\n", c->path,
			(unsigned long long)c->packets, skip_names[why], detail ? ": " : "",
			detail ? detail : "");
}

static int run_packet(struct replay *rp, struct capture *c, const struct dm_pcap_pkt *h)
{
	uint64_t cap = h->ts_ns;
	long len;
	int err;

	if (cap < rp->last_cap) {
		rp->backwards++;
		cap = rp->last_cap;
	}
	rp->last_cap = cap;
	dm_clock_set_capture(cap);
	dm_clock_set_source(c->path, c->packets);
	if (h->caplen < h->len)
		c->truncated++;
	len = dm_pcap_to_ethernet(c->dlt, h->data, h->caplen, rp->frame, FRAME_MAX);
	if (len < 0) {
		skip(rp, c, len == DM_PCAP_SHORT ? SKIP_SHORT : SKIP_OVERSIZE, NULL);
		return 0;
	}
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = rp->frame, .data_size_in = len,
			    .repeat = 1);

		if (add_mark(rp, mono_ns(), cap))
			return -ENOMEM;
		err = bpf_prog_test_run_opts(rp->prog_fd, &o);
		if (err) {
			skip(rp, c, SKIP_RUN, strerror(errno));
			return 0;
		}
	}
	rp->packets_run++;
	if (ring_buffer__consume(rp->rb) < 0)
		pr_warn("ring buffer dm_events: consume failed\n");
	return 0;
}

/* Open every capture first: a missing or unsupported one stops before anything runs. */
static int open_captures(struct replay *rp, const struct dm_cli *cli)
{
	char eb[256];
	struct capture *c;
	int i, bad = 0;

	rp->caps = calloc(cli->n_files, sizeof(*rp->caps));
	if (!rp->caps)
		return -ENOMEM;
	rp->n_caps = cli->n_files;
	for (i = 0; i < cli->n_files; i++) {
		c = &rp->caps[i];
		c->path = cli->files[i];
		c->p = dm_pcap_open(c->path, eb, sizeof(eb));
		if (!c->p) {
			pr_err("%s: cannot read the capture: %s\n", c->path, eb);
			bad++;
			continue;
		}
		c->dlt = dm_pcap_linktype(c->p);
		if (!dm_pcap_linktype_supported(c->dlt)) {
			pr_err("%s: unsupported link type %s (%d): dicomon reads Ethernet, Linux "
			       "cooked (SLL, SLL2), raw IP and BSD loopback captures\n",
			       c->path, dm_pcap_linktype_name(c->dlt), c->dlt);
			bad++;
		}
	}
	return bad ? -EINVAL : 0;
}

/* One file to its end, or to the first error (named with its packet). */
static int read_capture(struct replay *rp, struct capture *c)
{
	struct dm_pcap_pkt pkt;
	char err[256];
	int r;

	for (;;) {
		r = dm_pcap_next(c->p, &pkt, err, sizeof(err));
		if (!r)
			return 0;
		if (r < 0) {
			snprintf(c->error, sizeof(c->error), "packet %llu: %s",
				 (unsigned long long)c->packets + 1, err);
			progress_end(rp);
			pr_err("%s: %s; the packets before it were replayed\n", c->path, c->error);
			return -EIO;
		}
		c->packets++;
		c->bytes += pkt.caplen;
		r = run_packet(rp, c, &pkt);
		if (r)
			return r;
		if (rp->pg.on && !--rp->pg.countdown)
			progress_tick(rp, c);
		/* A pcapng interface of another link type: libpcap passes its packets on. */
		if (dm_pcap_linktype(c->p) != c->dlt) {
			snprintf(c->error, sizeof(c->error), "packet %llu: link type changed to %s",
				 (unsigned long long)c->packets,
				 dm_pcap_linktype_name(dm_pcap_linktype(c->p)));
			progress_end(rp);
			pr_err("%s: %s\n", c->path, c->error);
			return -EIO;
		}
	}
}

/* Every association still in the kernel's tables, by age: a record with reason capture_end. */
static int by_first(const void *a, const void *b)
{
	const struct dm_assoc *x = a, *y = b;

	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

struct assoc_list {
	struct dm_assoc *a;
	size_t n, cap;
};

/* Open ones only: a slot flagged overflow has its association in dm_overflow. */
static int push_open(const struct dm_assoc *a, bool overflow, void *ctx)
{
	struct assoc_list *l = ctx;
	struct dm_assoc *grown;

	if (a->closed || (!overflow && (a->flags & DM_AF_OVERFLOW)))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		grown = realloc(l->a, l->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		l->a = grown;
	}
	l->a[l->n++] = *a;
	return 0;
}

/* The kernel's associations for the idle timeout, their times translated to the capture's. */
struct capture_walk {
	const struct replay *rp;
	dm_flow_fn fn;
	void *ctx;
};

static int capture_flow(const struct dm_assoc *a, bool overflow, void *ctx)
{
	struct capture_walk *w = ctx;
	struct dm_assoc c = *a;

	c.first_ns = to_capture(w->rp, c.first_ns);
	c.last_ns = to_capture(w->rp, c.last_ns);
	return w->fn(&c, overflow, w->ctx);
}

static int capture_flows(void *ctx, dm_flow_fn fn, void *fn_ctx)
{
	struct replay *rp = ctx;
	struct capture_walk w = {rp, fn, fn_ctx};

	return dm_flows_foreach(dm_loader_flows_fd(&rp->l), dm_loader_overflow_fd(&rp->l),
				capture_flow, &w);
}

/*
 * The kernel's open associations end as capture_end (their counters), then
 * the records whose association the kernel had lost (its LRU) do too.
 */
static void end_open_associations(struct replay *rp)
{
	struct assoc_list open = {};
	struct dm_event_flow e;
	size_t i;

	if (dm_flows_foreach(dm_loader_flows_fd(&rp->l), dm_loader_overflow_fd(&rp->l),
			     push_open, &open))
		pr_err("out of memory listing the open associations: some get no record\n");
	if (open.n)
		qsort(open.a, open.n, sizeof(*open.a), by_first);
	for (i = 0; i < open.n; i++) {
		memset(&e, 0, sizeof(e));
		e.hdr.type = DM_EV_FLOW_END;
		e.hdr.ts_ns = open.a[i].last_ns; /* translated like any kernel stamp */
		e.hdr.assoc_id = open.a[i].id;
		e.hdr.key = open.a[i].key;
		e.hdr.ifindex = open.a[i].ifindex;
		e.hdr.dir = DM_DIR_ORIG;
		e.hdr.init_side = open.a[i].init_side;
		e.hdr.hook = open.a[i].hook;
		e.reason = DM_END_CAPTURE;
		e.assoc = open.a[i];
		on_event(rp, &e, sizeof(e));
	}
	free(open.a);
	dm_pipeline_end_open(rp->p);
}

static void print_summary(struct replay *rp, double secs, FILE *out, bool json)
{
	uint64_t packets = 0, skipped = 0;
	json_object *o, *files, *f, *sk;
	int i;

	for (i = 0; i < rp->n_caps; i++)
		packets += rp->caps[i].packets;
	for (i = 0; i < SKIP_MAX; i++)
		skipped += rp->skipped[i];
	if (!json) {
		fprintf(out,
			"dicomon: replayed %llu packets from %d file(s) in %.3f s (%.0f packets/s); "
			"%llu not run, %llu timestamps held back\n",
			(unsigned long long)packets, rp->n_caps, secs, secs > 0 ? packets / secs : 0,
			(unsigned long long)skipped, (unsigned long long)rp->backwards);
		fflush(out);
		return;
	}
	o = json_object_new_object();
	files = json_object_new_array();
	for (i = 0; i < rp->n_caps; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "file", json_object_new_string(rp->caps[i].path));
		json_object_object_add(
		    f, "link_type",
		    rp->caps[i].p ? json_object_new_string(dm_pcap_linktype_name(rp->caps[i].dlt)) : NULL);
		json_object_object_add(f, "packets", json_object_new_int64(rp->caps[i].packets));
		json_object_object_add(f, "bytes", json_object_new_int64(rp->caps[i].bytes));
		json_object_object_add(f, "snaplen_truncated",
				       json_object_new_int64(rp->caps[i].truncated));
		json_object_object_add(f, "error",
				       rp->caps[i].error[0]
					   ? json_object_new_string(rp->caps[i].error)
					   : NULL);
		json_object_array_add(files, f);
	}
	sk = json_object_new_object();
	for (i = 0; i < SKIP_MAX; i++)
		json_object_object_add(sk, skip_names[i], json_object_new_int64(rp->skipped[i]));
	json_object_object_add(o, "event", json_object_new_string("replay"));
	json_object_object_add(o, "files", files);
	json_object_object_add(o, "packets", json_object_new_int64(packets));
	json_object_object_add(o, "packets_run", json_object_new_int64(rp->packets_run));
	json_object_object_add(o, "not_run", sk);
	json_object_object_add(o, "timestamps_backwards", json_object_new_int64(rp->backwards));
	json_object_object_add(o, "seconds", json_object_new_double(secs));
	json_object_object_add(o, "packets_per_second",
			       json_object_new_double(secs > 0 ? packets / secs : 0));
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(out);
	json_object_put(o);
}

static int write_metrics(struct replay *rp, const char *path)
{
	struct dm_kside k = {&rp->l, &rp->kc, NULL, NULL};
	char msg[512];
	int fd = dm_safe_open(path, DM_SAFE_TRUNC, 0640, msg, sizeof(msg)), err;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		err = fd < 0 ? fd : -errno;
		if (fd >= 0) {
			snprintf(msg, sizeof(msg), "%s: %s", path, strerror(-err));
			close(fd);
		}
		pr_err("--metrics-out %s\n", msg);
		return err;
	}
	if (ring_buffer__consume(rp->rb) < 0) /* nothing is left: each packet's were read */
		pr_warn("ring buffer dm_events: consume failed\n");
	err = dm_counters_prometheus(f, rp->p, &k);
	if (fclose(f) || err) {
		pr_err("--metrics-out %s: write failed\n", path);
		return -EIO;
	}
	return 0;
}

static const char *ifname(void *ctx, uint32_t ifindex)
{
	return dm_loader_ifname(ctx, ifindex);
}

/* The program loaded with fresh maps, attached nowhere, and a pipeline reading its ring. */
static int setup(struct replay *rp)
{
	struct dm_iface *ifc;
	char msg[1024];
	int err;

	if (dm_loader_load(&rp->l, &rp->cfg))
		return DM_EXIT_BPF;
	/* Ids from 1: a replay of the same capture gives the same flow_ids. */
	rp->l.skel->data->next_assoc_id = 1;
	rp->prog_fd = bpf_program__fd(rp->l.skel->progs.dicomon_xdp);
	/* The test run's packets arrive on loopback: name its counters "pcap". */
	ifc = &rp->l.ifaces[0];
	snprintf(ifc->name, sizeof(ifc->name), "pcap");
	ifc->ifindex = (int)if_nametoindex("lo");
	ifc->slot = 0;
	rp->l.n_ifaces = 1;
	err = dm_pipeline_new(&rp->cfg, ifname, &rp->l, stdout, &rp->p, msg, sizeof(msg));
	if (err == -EINVAL)
		pr_err("%s\n", msg);
	if (err)
		return err == -EINVAL ? DM_EXIT_USAGE : DM_EXIT_RUNTIME;
	dm_pipeline_set_flows(rp->p, capture_flows, rp);
	rp->rb = ring_buffer__new(dm_loader_events_fd(&rp->l), on_event, rp, NULL);
	rp->frame = malloc(FRAME_MAX);
	if (!rp->rb || !rp->frame) {
		pr_err("cannot set up the ring buffer reader: %s\n", strerror(errno));
		return DM_EXIT_RUNTIME;
	}
	return 0;
}

/* The configuration without what only the daemon uses; false if it is bad. */
static bool configure(struct replay *rp, const struct dm_cli *cli)
{
	char msg[1024];

	if (dm_cli_config(cli, &rp->cfg, false, msg, sizeof(msg))) {
		pr_err("%s\n", msg);
		return false;
	}
	/* Interfaces, attachments, pins, sockets and the listener are the daemon's. */
	if (rp->cfg.feed_unix_socket[0])
		pr_warn("feed.unix_socket is not used by replay (a slow reader would lose lines): "
			"write the feed with --eve FILE or --eve -\n");
	rp->cfg.n_ifaces = 0;
	rp->cfg.fine_clock = true;
	rp->cfg.xdp_only = true;
	rp->cfg.feed_unix_socket[0] = 0;
	rp->cfg.metrics_listen[0] = 0;
	return true;
}

static void replay_free(struct replay *rp)
{
	int i;

	ring_buffer__free(rp->rb);
	dm_pipeline_free(rp->p);
	rp->l.n_ifaces = 0;
	if (rp->l.skel)
		dm_loader_close(&rp->l);
	for (i = 0; i < rp->n_caps; i++)
		if (rp->caps[i].p)
			dm_pcap_close(rp->caps[i].p);
	free(rp->caps);
	free(rp->marks);
	free(rp->frame);
	free(rp);
}

int dm_replay_run(const struct dm_cli *cli)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	struct dm_kside k;
	uint64_t t0;
	bool eve_stdout;
	double secs;
	int rc = 0, i;

	if (!rp)
		return DM_EXIT_RUNTIME;
	if (!configure(rp, cli)) {
		free(rp);
		return DM_EXIT_USAGE;
	}
	eve_stdout = rp->cfg.feed_stdout;
	dm_log_set_level(rp->cfg.log_level);
	dm_log_init_libbpf();
	if (open_captures(rp, cli)) {
		rc = DM_EXIT_CAPTURE;
		goto out;
	}
	rc = setup(rp);
	if (rc)
		goto out;
	progress_init(rp, cli);
	t0 = mono_ns();
	for (i = 0; i < rp->n_caps && !rc; i++) {
		if (read_capture(rp, &rp->caps[i]))
			rc = DM_EXIT_CAPTURE;
		if (rp->caps[i].size > 0)
			rp->pg.done_bytes += rp->caps[i].size;
	}
	progress_end(rp);
	/* What was read still ends its associations and gets its records; HTTP requests too. */
	end_open_associations(rp);
	dm_pipeline_flush(rp->p);
	secs = (double)(mono_ns() - t0) / 1e9;
	print_summary(rp, secs, eve_stdout ? stderr : stdout, rp->cfg.json && !eve_stdout);
	k = (struct dm_kside){&rp->l, &rp->kc, NULL, NULL};
	if (!eve_stdout)
		dm_counters_print_stats(stdout, rp->p, &k, rp->cfg.json);
	if (cli->metrics_out && write_metrics(rp, cli->metrics_out) && !rc)
		rc = DM_EXIT_RUNTIME;
out:
	replay_free(rp);
	return rc;
}
