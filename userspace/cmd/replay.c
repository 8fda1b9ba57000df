// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `dicomon replay`: capture files through the live pipeline. Every packet,
 * in order, runs through the classifier the hooks run (dm_classify), in
 * dicomon_replay (bpf/dicomon.bpf.c): frames are put in batches of up to
 * DM_BATCH_FRAMES in the mmap'ed dm_batch map and each batch is one
 * BPF_PROG_TEST_RUN (fresh, unpinned maps, attached nowhere); its events are
 * drained right after it and go through a pipeline (core/pipeline.h) as
 * `dicomon run`'s do. A frame too long for a batch runs on its own.
 *
 * Time: the kernel's clock is the capture's. Each frame carries its capture
 * time (+ DM_REPLAY_EPOCH), which the classifier reads as "now" for its
 * stamps and timeouts; the count of events after each frame tells which
 * packet made which event, so userspace's "now" and the packet an event line
 * names (clock.c) are that packet's, as if each packet had run alone. Rule
 * windows, durations and the feed's timestamps are the capture's, and no
 * table grows with the capture: memory is bounded whatever its size.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
/* The test run's own packet in a batch: any frame; the program moves its end. */
#define BATCH_PKT 64

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

/* A frame of the batch: where it came from, and its capture time. */
struct origin {
	const char *file;
	uint64_t packet; /* numbered from 1, as Wireshark does */
	uint64_t cap;
};

/* The batch being filled (dm_batch is mmap'ed: frames are written into it once). */
struct batch {
	struct dm_batch *b; /* the map's value */
	size_t map_len;
	struct dm_batch_frame fr[DM_BATCH_FRAMES];
	struct origin org[DM_BATCH_FRAMES];
	uint32_t n, used; /* frames, bytes of b->data */
	uint32_t max;	  /* frames per batch (DICOMON_REPLAY_BATCH, tests) */
	/* Draining a run: the frames it ran (org[first..]), events seen, at frame k. */
	bool draining;
	uint32_t first, done, seen, k;
	uint64_t runs, full, alone; /* test runs; stops at a quarter-full ring; frames run alone */
	uint8_t pkt[BATCH_PKT];
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
	struct batch bt;
	struct origin last;   /* the last packet read */
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

/* A kernel timestamp (the capture's clock + DM_REPLAY_EPOCH) to capture time. */
static uint64_t to_capture(uint64_t ns)
{
	return ns >= DM_REPLAY_EPOCH ? ns - DM_REPLAY_EPOCH : 0;
}

/* Userspace's clock and the packet named: those of the frame that made the event. */
static void event_origin(struct replay *rp)
{
	struct batch *bt = &rp->bt;
	const struct origin *o;

	if (!bt->draining)
		return; /* the end of the capture's own records: the last packet's */
	while (bt->k + 1 < bt->done && bt->seen >= bt->b->f[bt->k].events)
		bt->k++;
	bt->seen++;
	o = &bt->org[bt->first + bt->k];
	dm_clock_set_capture(o->cap);
	dm_clock_set_source(o->file, o->packet);
}

/* Ring buffer callback: translate the timestamps, then the daemon's handler. */
static int on_event(void *ctx, void *data, size_t len)
{
	struct replay *rp = ctx;
	struct dm_event_flow *f;
	int r;

	if (len > sizeof(rp->ev) || len < sizeof(struct dm_event_hdr)) {
		event_origin(rp);
		return dm_pipeline_event(rp->p, data, len); /* counted as malformed there */
	}
	event_origin(rp);
	memcpy(rp->ev.bytes, data, len);
	rp->ev.hdr.ts_ns = to_capture(rp->ev.hdr.ts_ns);
	if (rp->ev.hdr.type == DM_EV_FLOW_END && len >= sizeof(*f)) {
		f = (struct dm_event_flow *)rp->ev.bytes;
		f->assoc.first_ns = to_capture(f->assoc.first_ns);
		f->assoc.last_ns = to_capture(f->assoc.last_ns);
	}
	r = dm_pipeline_event(rp->p, rp->ev.bytes, len);
	/* An HTTP request's query, a data set PDV: the copy keeps nothing. */
	explicit_bzero(rp->ev.bytes, len);
	return r;
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

static void skip(struct replay *rp, const char *file, uint64_t packet, enum skip_reason why,
		 const char *detail)
{
	/* The first few by name; all of them counted. */
	if (rp->skipped[why] < 5)
		progress_end(rp); /* the warning on a line of its own */
	if (rp->skipped[why]++ < 5)
		pr_warn("%s: packet %llu: not run (%s%s%s)\n", file, (unsigned long long)packet,
			skip_names[why], detail ? ": " : "", detail ? detail : "");
}

/*
 * One test run of frames fr[first..first+n) (direct: frame 0 is the test run's
 * packet, rp->frame), then its events drained, each in its packet's time.
 * Returns the frames run; *why says why it stopped short (DM_BATCH_E*), or
 * -errno when the test run failed.
 */
static uint32_t run_batch(struct replay *rp, uint32_t first, uint32_t n, bool direct, long len,
			  int *why)
{
	struct batch *bt = &rp->bt;
	struct dm_batch *b = bt->b;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = direct ? rp->frame : bt->pkt,
		    .data_size_in = direct ? (uint32_t)len : BATCH_PKT, .repeat = 1);

	memcpy(b->f, &bt->fr[first], n * sizeof(b->f[0]));
	b->n = n;
	b->direct = direct;
	b->done = 0;
	b->err = 0;
	bt->runs++;
	if (bpf_prog_test_run_opts(rp->prog_fd, &o)) {
		*why = -errno;
		return 0;
	}
	*why = b->done < n ? b->err : 0;
	bt->draining = true;
	bt->first = first;
	bt->done = b->done;
	bt->seen = bt->k = 0;
	if (b->done && ring_buffer__consume(rp->rb) < 0)
		pr_warn("ring buffer dm_events: consume failed\n");
	bt->draining = false;
	rp->packets_run += b->done;
	return b->done;
}

/* Frame i of the batch, too long for the test run's page here: on its own. */
static void run_alone(struct replay *rp, uint32_t i)
{
	struct batch *bt = &rp->bt;
	int why;

	bt->alone++;
	memcpy(rp->frame, &bt->b->data[bt->fr[i].off], bt->fr[i].len);
	if (!run_batch(rp, i, 1, true, bt->fr[i].len, &why))
		skip(rp, bt->org[i].file, bt->org[i].packet, SKIP_RUN,
		     why < 0 ? strerror(-why) : "refused by the program");
}

/* Every frame of the batch, in order, then an empty batch. */
static void flush(struct replay *rp)
{
	struct batch *bt = &rp->bt;
	uint32_t i = 0, done;
	int why;

	while (i < bt->n) {
		done = run_batch(rp, i, bt->n - i, false, 0, &why);
		i += done;
		if (!why)
			continue;
		bt->full += why == DM_BATCH_EFULL;
		if (why == DM_BATCH_EFULL && done)
			continue; /* drained: go on */
		if (why == DM_BATCH_EROOM || why == DM_BATCH_EFULL) {
			run_alone(rp, i++);
			continue;
		}
		skip(rp, bt->org[i].file, bt->org[i].packet, SKIP_RUN,
		     why < 0 ? strerror(-why) : "refused by the program");
		i++;
	}
	bt->n = bt->used = 0;
}

/* A frame too long for a batch: after the batch, on its own. */
static void run_long(struct replay *rp, const struct origin *org, long len)
{
	struct batch *bt = &rp->bt;
	int why;

	flush(rp);
	bt->alone++;
	bt->fr[0] = (struct dm_batch_frame){.now_ns = org->cap + DM_REPLAY_EPOCH, .len = len};
	bt->org[0] = *org;
	if (!run_batch(rp, 0, 1, true, len, &why))
		skip(rp, org->file, org->packet, SKIP_RUN,
		     why < 0 ? strerror(-why) : "refused by the program");
}

static int run_packet(struct replay *rp, struct capture *c, const struct dm_pcap_pkt *h)
{
	struct batch *bt = &rp->bt;
	uint64_t cap = h->ts_ns;
	long len;

	if (cap < rp->last_cap) {
		rp->backwards++;
		cap = rp->last_cap;
	}
	rp->last_cap = cap;
	rp->last = (struct origin){c->path, c->packets, cap};
	if (h->caplen < h->len)
		c->truncated++;
	if (bt->n == bt->max || bt->used + DM_BATCH_FRAME_MAX > DM_BATCH_BYTES)
		flush(rp);
	len = dm_pcap_to_ethernet(c->dlt, h->data, h->caplen, &bt->b->data[bt->used],
				  DM_BATCH_FRAME_MAX);
	if (len == DM_PCAP_OVERSIZE) {
		len = dm_pcap_to_ethernet(c->dlt, h->data, h->caplen, rp->frame, FRAME_MAX);
		if (len >= 0) {
			run_long(rp, &rp->last, len);
			return 0;
		}
	}
	if (len < 0) {
		if (rp->skipped[len == DM_PCAP_SHORT ? SKIP_SHORT : SKIP_OVERSIZE] < 5)
			flush(rp); /* a warning comes after the lines of the packets before it */
		skip(rp, c->path, c->packets, len == DM_PCAP_SHORT ? SKIP_SHORT : SKIP_OVERSIZE,
		     NULL);
		return 0;
	}
	bt->fr[bt->n] = (struct dm_batch_frame){
	    .now_ns = cap + DM_REPLAY_EPOCH, .off = bt->used, .len = (uint32_t)len};
	bt->org[bt->n++] = rp->last;
	bt->used += (uint32_t)len;
	return 0;
}

/* The end of the captures: what is pending runs; "now" is the last packet's. */
static void run_end(struct replay *rp)
{
	flush(rp);
	pr_info("replay: %llu packets run in %llu test runs (batches of up to %u; %llu stopped "
		"at a quarter-full ring buffer, %llu frames run alone)\n",
		(unsigned long long)rp->packets_run, (unsigned long long)rp->bt.runs, rp->bt.max,
		(unsigned long long)rp->bt.full, (unsigned long long)rp->bt.alone);
	if (rp->last.file) {
		dm_clock_set_capture(rp->last.cap);
		dm_clock_set_source(rp->last.file, rp->last.packet);
	}
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
			flush(rp);
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
			flush(rp);
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
	dm_flow_fn fn;
	void *ctx;
};

static int capture_flow(const struct dm_assoc *a, bool overflow, void *ctx)
{
	struct capture_walk *w = ctx;
	struct dm_assoc c = *a;

	c.first_ns = to_capture(c.first_ns);
	c.last_ns = to_capture(c.last_ns);
	return w->fn(&c, overflow, w->ctx);
}

static int capture_flows(void *ctx, dm_flow_fn fn, void *fn_ctx)
{
	struct replay *rp = ctx;
	struct capture_walk w = {fn, fn_ctx};

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
	if (ring_buffer__consume(rp->rb) < 0) /* nothing is left: each batch's were read */
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

/* dm_batch mapped, and the frames per batch (DICOMON_REPLAY_BATCH=N for tests). */
static int batch_map(struct replay *rp)
{
	struct batch *bt = &rp->bt;
	const char *env = getenv("DICOMON_REPLAY_BATCH");
	long page = sysconf(_SC_PAGESIZE);
	unsigned long n;
	char *end = NULL;
	void *m;

	bt->max = DM_BATCH_FRAMES;
	if (env) {
		errno = 0;
		n = strtoul(env, &end, 10);
		if (errno || end == env || *end || !n || n > DM_BATCH_FRAMES)
			pr_warn("DICOMON_REPLAY_BATCH=%s: not a frame count (1..%d), ignored\n", env,
				DM_BATCH_FRAMES);
		else
			bt->max = (uint32_t)n;
	}
	bt->map_len = (sizeof(struct dm_batch) + page - 1) / page * page;
	m = mmap(NULL, bt->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(rp->l.skel->maps.dm_batch), 0);
	if (m == MAP_FAILED) {
		pr_err("cannot map dm_batch: %s\n", strerror(errno));
		return DM_EXIT_BPF;
	}
	bt->b = m;
	return 0;
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
	rp->prog_fd = bpf_program__fd(rp->l.skel->progs.dicomon_replay);
	err = batch_map(rp);
	if (err)
		return err;
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
	rp->cfg.replay = true;
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
	if (rp->bt.b)
		munmap(rp->bt.b, rp->bt.map_len);
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
	run_end(rp);
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
