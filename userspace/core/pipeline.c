// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The event pipeline (see pipeline.h). A record from the ring buffer is
 * checked, handed to the association table (which rebuilds and decodes the
 * PDUs), then to the rules, then to the outputs: an event line, and when an
 * association's record is final, the metrics, the rules' end, the feed and
 * evidence, in that order, written once (rec_end) for a flow end and for a
 * record the full table drops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "assoc/httpasm.h"
#include "assoc/integrity.h"
#include "assoc/table.h"
#include "detect/rules.h"
#include "output/assoc_metrics.h"
#include "output/evidence.h"
#include "output/feed.h"
#include "core/pipeline.h"

/* Frames kept in memory for evidence, at most (oldest unalerted associations go first). */
#define EVIDENCE_MAX_BYTES (64ULL << 20)
#define NSEC_PER_SEC	   1000000000ULL

struct dm_pipeline {
	struct dm_lines lines;
	struct dm_table *table;
	struct dm_rules *rules;
	struct dm_feed *feed;
	struct dm_evidence *evidence; /* NULL: no evidence pcaps */
	struct dm_http_asm *http;     /* HTTP requests being put together */
	uint64_t last_expire_ns;
	uint64_t idle_ns, last_idle_ns; /* table.idle_timeout_seconds; the last sweep */
	dm_pipeline_flows_fn flows;	/* the kernel's associations; NULL: no kernel view */
	void *flows_ctx;
	struct dm_pipeline_stats stats;
	struct dm_assoc_metrics am; /* Prometheus counters of whole associations */
	struct dm_alert_count alerts[DM_PIPELINE_ALERT_SIDS];
	int n_alerts;
};

static const char *no_ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx, (void)ifindex;
	return "?";
}

static const char *ifname(const struct dm_pipeline *p, uint32_t ifindex)
{
	return p->lines.ifname(p->lines.ctx, ifindex);
}

/* With feed.stdout the EVE lines replace the event lines on stdout. */
static bool quiet(const struct dm_pipeline *p)
{
	return dm_feed_owns_stdout(p->feed);
}

/* The association's record is final: metrics, rules, feed, evidence. */
static void rec_end(struct dm_pipeline *p, struct dm_rec *r, uint64_t now_ns)
{
	dm_am_end(&p->am, r, dm_rules_ae_label(p->rules, dm_rec_calling(r)),
		  dm_rules_ae_label(p->rules, dm_rec_called(r)));
	dm_rules_end(p->rules, r, now_ns);
	dm_feed_dicom(p->feed, r, ifname(p, r->ifindex));
	if (p->evidence)
		dm_evidence_end(p->evidence, r->id);
}

static void end_record(struct dm_pipeline *p, struct dm_rec *r, const struct dm_event_flow *e);

/* The set-up state as far as the record saw it (the kernel's is not known). */
static uint8_t state_seen(const struct dm_rec *r)
{
	if (r->aborted)
		return DM_STATE_ABORTED;
	if (r->rejected)
		return DM_STATE_REJECTED;
	if (r->release_rp)
		return DM_STATE_RELEASED;
	if (r->release_rq)
		return DM_STATE_RELEASING;
	if (r->ac)
		return DM_STATE_ACCEPTED;
	if (r->rq)
		return DM_STATE_REQUESTED;
	if (r->transport == DM_TRANSPORT_TLS)
		return r->tls_selected ? DM_STATE_TLS_ESTABLISHED : DM_STATE_TLS_HELLO;
	return r->state;
}

/*
 * The end of an association userspace decides (evicted, idle, the end of a
 * capture): a flow end made from the kernel's last view of it (ka) where
 * there is one, else from what the record knows (no counters), through the
 * path a kernel flow end takes: one record, one line.
 */
static void end_by_us(struct dm_pipeline *p, struct dm_rec *r, const struct dm_assoc *ka,
		      uint32_t reason, uint64_t ts_ns)
{
	struct dm_event_flow e = {.reason = reason};

	e.hdr.type = DM_EV_FLOW_END;
	e.hdr.ts_ns = ts_ns;
	e.hdr.assoc_id = r->id;
	e.hdr.key = r->key;
	e.hdr.ifindex = r->ifindex;
	e.hdr.dir = DM_DIR_ORIG;
	e.hdr.init_side = r->init_side;
	e.hdr.hook = r->hook;
	if (ka) {
		e.assoc = *ka;
	} else {
		e.assoc.key = r->key;
		e.assoc.id = r->id;
		e.assoc.first_ns = r->start_ns;
		e.assoc.last_ns = ts_ns;
		e.assoc.ifindex = r->ifindex;
		e.assoc.state = state_seen(r);
		e.assoc.transport = r->transport;
		e.assoc.init_side = r->init_side;
		e.assoc.flags = r->aflags;
		e.assoc.tls_offered = r->tls_offered;
		e.assoc.tls_selected = r->tls_selected;
		e.assoc.hook = r->hook;
	}
	end_record(p, r, &e);
}

/*
 * An association the table drops while it is still going on (full, or its
 * source's half-open limit): its record goes out now with everything known
 * (AE titles, contexts, commands), end reason "evicted".
 */
static void on_table_evict(void *ctx, struct dm_rec *r)
{
	end_by_us(ctx, r, NULL, DM_END_TABLE_EVICT, dm_clock_now_ns());
}

/* A rule fired: counted by signature, evidence written, then to the feed (which owns details). */
static void on_alert(void *ctx, const struct dm_rec *rec, const struct dm_alert *a)
{
	struct dm_pipeline *p = ctx;
	const char *path, *ifn = rec	     ? ifname(p, rec->ifindex)
				 : a->pkt_key ? ifname(p, a->pkt_ifindex)
					      : NULL;
	int i;

	for (i = 0; i < p->n_alerts &&
		    (p->alerts[i].sid != a->sid || p->alerts[i].severity != a->severity);
	     i++)
		;
	if (i == p->n_alerts && i < DM_PIPELINE_ALERT_SIDS) {
		p->alerts[i].sid = a->sid;
		p->alerts[i].severity = a->severity;
		p->alerts[i].signature = a->signature;
		p->n_alerts++;
	}
	if (i < p->n_alerts)
		p->alerts[i].n++;
	if (p->evidence && rec) {
		path = dm_evidence_alert(p->evidence, rec->id);
		if (path && a->details)
			json_object_object_add(a->details, "evidence", json_object_new_string(path));
	}
	dm_feed_alert(p->feed, rec, ifn, a);
}

static void on_http_req(void *ctx, const struct dm_event_hdr *h, const struct dm_http_req *req);

/* evidence.dir set: the directory checked and the store made. */
static int evidence_setup(struct dm_pipeline *p, const struct dm_config *cfg, char *err,
			  size_t errlen)
{
	if (!cfg->evidence_dir[0])
		return 0;
	if (dm_evidence_prepare_dir(cfg->evidence_dir, err, errlen))
		return -EINVAL;
	p->evidence = dm_evidence_new(cfg->evidence_dir, EVIDENCE_MAX_BYTES);
	if (!p->evidence)
		return -ENOMEM;
	pr_info("evidence: pcaps of alerted associations in %s (first %u frames each, data sets "
		"and user identities zeroed)\n",
		cfg->evidence_dir, cfg->evidence_packets);
	return 0;
}

int dm_pipeline_new(const struct dm_config *cfg, dm_ifname_fn ifn, void *ctx, FILE *out,
		    struct dm_pipeline **pp, char *err, size_t errlen)
{
	struct dm_pipeline *p = calloc(1, sizeof(*p));
	char msg[1024];
	int e;

	*pp = NULL;
	if (!p)
		return -ENOMEM;
	p->lines = (struct dm_lines){out, cfg->json, ifn ? ifn : no_ifname, ctx};
	p->table = dm_table_new(cfg->table_max_assoc, cfg->table_keep_finished_s);
	if (p->table)
		dm_table_set_halfopen_limit(p->table, cfg->table_max_halfopen);
	p->idle_ns = (uint64_t)cfg->table_idle_timeout_s * NSEC_PER_SEC;
	p->http = dm_http_asm_new(on_http_req, p);
	p->feed = dm_feed_new();
	e = !p->table || !p->http || !p->feed ? -ENOMEM : 0;
	if (!e) {
		dm_table_on_evict(p->table, on_table_evict, p);
		dm_feed_configure(p->feed, cfg); /* a failing output is logged, not fatal */
		if (dm_feed_file_refused(p->feed)) { /* ... unless it is unsafe (logged) */
			snprintf(err, errlen, "feed.file %s refused (see above)", cfg->feed_file);
			e = -EPERM;
		}
		p->rules = dm_rules_new(cfg, on_alert, p, msg, sizeof(msg));
		if (!p->rules) {
			snprintf(err, errlen, "rules: %s", msg);
			e = -EINVAL;
		}
	}
	if (!e)
		e = evidence_setup(p, cfg, err, errlen);
	if (e) {
		dm_pipeline_free(p);
		return e;
	}
	*pp = p;
	return 0;
}

void dm_pipeline_free(struct dm_pipeline *p)
{
	if (!p)
		return;
	dm_table_free(p->table);
	dm_http_asm_free(p->http);
	dm_rules_free(p->rules);
	dm_feed_free(p->feed);
	dm_evidence_free(p->evidence);
	free(p);
}

int dm_pipeline_configure(struct dm_pipeline *p, const struct dm_config *cfg, char *err,
			  size_t errlen)
{
	char msg[1024];
	int e = 0;

	if (dm_rules_configure(p->rules, cfg, msg, sizeof(msg))) {
		snprintf(err, errlen, "rules: %s", msg);
		e = -EINVAL;
	}
	dm_feed_configure(p->feed, cfg);
	dm_table_set_limits(p->table, cfg->table_max_assoc, cfg->table_keep_finished_s);
	dm_table_set_halfopen_limit(p->table, cfg->table_max_halfopen);
	p->idle_ns = (uint64_t)cfg->table_idle_timeout_s * NSEC_PER_SEC;
	return e;
}

void dm_pipeline_reopen(struct dm_pipeline *p)
{
	dm_feed_reopen(p->feed);
}

void dm_pipeline_set_flows(struct dm_pipeline *p, dm_pipeline_flows_fn fn, void *ctx)
{
	p->flows = fn;
	p->flows_ctx = ctx;
}

/* ---- the idle timeout ---- */

struct idle_cand {
	struct dm_rec *r;
	bool held; /* the kernel has the association (a copy in a) */
	struct dm_assoc a;
};

struct idle_sweep {
	struct idle_cand *c;
	size_t n, cap;
	bool nomem;
};

static void idle_collect(void *ctx, struct dm_rec *r)
{
	struct idle_sweep *sw = ctx;
	struct idle_cand *c;

	if (sw->n == sw->cap) {
		c = realloc(sw->c, (sw->cap ? sw->cap * 2 : 64) * sizeof(*c));
		if (!c) {
			sw->nomem = true;
			return;
		}
		sw->c = c;
		sw->cap = sw->cap ? sw->cap * 2 : 64;
	}
	sw->c[sw->n++] = (struct idle_cand){.r = r};
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = ((const struct idle_cand *)a)->r->id, y = ((const struct idle_cand *)b)->r->id;

	return x < y ? -1 : x > y;
}

/* One association of the kernel's tables: a candidate's is copied. */
static int idle_kernel(const struct dm_assoc *a, bool overflow, void *ctx)
{
	struct idle_sweep *sw = ctx;
	size_t lo = 0, hi = sw->n, mid;

	if (!overflow && (a->flags & DM_AF_OVERFLOW))
		return 0; /* a slot only pointing at dm_overflow */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sw->c[mid].r->id < a->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sw->n && sw->c[lo].r->id == a->id) {
		sw->c[lo].held = true;
		sw->c[lo].a = *a;
	}
	return 0;
}

/*
 * Records with no event for idle_ns: a bulk transfer makes none (the BPF
 * fast path), so the kernel's tables are read once for all of them. One the
 * kernel still holds and saw active within idle_ns lives on; one it holds
 * (not yet closed) idle as long ends with its counters; one it no longer
 * holds (lost to its LRU, or its flow end lost) ends with what the record
 * knows. Without a kernel view nothing ends: activity cannot be told.
 */
static void idle_sweep(struct dm_pipeline *p, uint64_t now_ns)
{
	struct idle_sweep sw = {};
	struct idle_cand *c;
	size_t i;

	if (!p->idle_ns || !p->flows)
		return;
	dm_table_idle(p->table, now_ns, p->idle_ns, idle_collect, &sw);
	if (!sw.n || sw.nomem)
		goto out;
	qsort(sw.c, sw.n, sizeof(*sw.c), by_id);
	p->stats.idle_walks++;
	if (p->flows(p->flows_ctx, idle_kernel, &sw))
		goto out; /* the kernel's view could not be read: nothing ends now */
	for (i = 0; i < sw.n; i++) {
		c = &sw.c[i];
		if (c->held && (c->a.closed || c->a.last_ns + p->idle_ns > now_ns)) {
			dm_table_alive(p->table, c->r, c->a.closed ? now_ns : c->a.last_ns);
			continue;
		}
		p->stats.idle_ended[c->held]++;
		end_by_us(p, c->r, c->held ? &c->a : NULL, DM_END_IDLE,
			  c->held && c->a.last_ns > c->r->last_ns ? c->a.last_ns : c->r->last_ns);
	}
out:
	free(sw.c);
}

/* Every few seconds (a quarter of the timeout when that is shorter, at least 1 s). */
static void idle_tick(struct dm_pipeline *p, uint64_t now_ns)
{
	uint64_t every = p->idle_ns / 4 < 10 * NSEC_PER_SEC ? p->idle_ns / 4 : 10 * NSEC_PER_SEC;

	if (every < NSEC_PER_SEC)
		every = NSEC_PER_SEC;
	if (now_ns - p->last_idle_ns < every)
		return;
	p->last_idle_ns = now_ns;
	idle_sweep(p, now_ns);
}

static void end_open(void *ctx, struct dm_rec *r)
{
	end_by_us(ctx, r, NULL, DM_END_CAPTURE, r->last_ns);
}

void dm_pipeline_end_open(struct dm_pipeline *p)
{
	dm_table_idle(p->table, UINT64_MAX, 0, end_open, p);
}

void dm_pipeline_tick(struct dm_pipeline *p, uint64_t now_ns)
{
	dm_http_asm_expire(p->http, now_ns);
	dm_feed_tick(p->feed);
	idle_tick(p, now_ns);
}

void dm_pipeline_flush(struct dm_pipeline *p)
{
	dm_http_asm_flush(p->http);
}

/* A control PDU rebuilt whole: the table decodes it, the rules judge it, a line. */
static void on_pdu(struct dm_pipeline *p, struct dm_rec *r, const struct dm_event_hdr *h,
		   const uint8_t *pdu, size_t len, int truncated)
{
	dm_table_control_pdu(p->table, r, h->dir, pdu, len);
	switch (pdu[0]) {
	case DM_PDU_ASSOC_RQ:
		dm_rules_assoc_rq(p->rules, r, h->ts_ns);
		break;
	case DM_PDU_ASSOC_AC:
		dm_rules_assoc_ac(p->rules, r, h->ts_ns);
		break;
	case DM_PDU_ASSOC_RJ:
		dm_rules_reject(p->rules, r, h->ts_ns);
		break;
	}
	if (!quiet(p))
		dm_lines_pdu(&p->lines, h, pdu, len, truncated);
}

static void on_dimse(struct dm_pipeline *p, struct dm_rec *r, const struct dm_event_hdr *h,
		     const uint8_t *pdu, size_t n)
{
	struct dm_dimse_cmd c;
	int err = dm_table_dimse(p->table, r, h->dir, pdu, n, &c);

	if (err == -EAGAIN)
		return; /* a fragment of a command split over PDUs: printed once whole */
	if (!err) {
		dm_am_dimse(&p->am, c.command, c.present & DM_DC_STATUS, c.status);
		dm_rules_dimse(p->rules, r, &c, h->ts_ns);
	}
	if (!quiet(p))
		dm_lines_dimse(&p->lines, h, err, &c);
}

static void on_piece(struct dm_pipeline *p, const struct dm_event_piece *e, size_t rec_len)
{
	const uint8_t *pdu;
	struct dm_rec *r;
	size_t len;

	if (e->hdr.len > rec_len - sizeof(*e) || e->hdr.len > DM_PIECE_MAX) {
		p->stats.malformed++;
		return;
	}
	/* Control PDUs and DIMSE command heads alike may come in several pieces. */
	r = dm_table_get(p->table, &e->hdr);
	if (!r || !dm_table_piece(p->table, r, e, &pdu, &len))
		return;
	if (e->hdr.type == DM_EV_DIMSE)
		on_dimse(p, r, &e->hdr, pdu, len);
	else
		on_pdu(p, r, &e->hdr, pdu, len, !!(e->hdr.flags & DM_EF_TRUNC));
}

/*
 * A control PDU of direction dir that will not be finished (the flow ended,
 * the datapath stopped shipping it): decoded from what arrived, truncated.
 */
static void flush_pdu(struct dm_pipeline *p, struct dm_rec *r, const struct dm_event_hdr *h,
		      int dir)
{
	struct dm_event_hdr hd = *h;
	const uint8_t *pdu;
	size_t len;

	if (!dm_table_pending(p->table, r, dir, &pdu, &len))
		return;
	hd.type = DM_EV_PDU;
	hd.dir = (uint8_t)dir;
	on_pdu(p, r, &hd, pdu, len, 1);
}

/* DM_EV_ANOMALY: a violation of its association, and a line of its own. */
static void on_anomaly(struct dm_pipeline *p, const struct dm_event_anomaly *e)
{
	struct dm_rec *r = dm_table_get(p->table, &e->hdr);

	if (r) {
		dm_table_anomaly(p->table, r, e);
		if (dm_anomaly_ends_pdu(e->code))
			flush_pdu(p, r, &e->hdr, e->hdr.dir & 1);
	}
	if (!quiet(p))
		dm_lines_anomaly(&p->lines, e);
}

static void on_tls(struct dm_pipeline *p, const struct dm_event_tls *e)
{
	struct dm_rec *r = dm_table_get(p->table, &e->hdr);

	if (r) {
		dm_table_tls(p->table, r, e);
		dm_rules_tls(p->rules, r, e->hdr.ts_ns);
	}
	if (!quiet(p))
		dm_lines_tls(&p->lines, e);
}

/* The association's end (the kernel's or userspace's): the record's final form, once. */
static void end_record(struct dm_pipeline *p, struct dm_rec *r, const struct dm_event_flow *e)
{
	int d;

	for (d = 0; d < DM_DIR_MAX; d++)
		flush_pdu(p, r, &e->hdr, d);
	dm_table_end(p->table, r, e);
	rec_end(p, r, e->hdr.ts_ns);
	if (!quiet(p))
		dm_lines_flow_end(&p->lines, e, r);
}

static void on_flow_end(struct dm_pipeline *p, const struct dm_event_flow *e)
{
	struct dm_rec *r = dm_table_get(p->table, &e->hdr);

	if (!r) {
		if (p->evidence)
			dm_evidence_end(p->evidence, e->hdr.assoc_id);
		return;
	}
	end_record(p, r, e);
}

/*
 * A DICOMweb request put together from its DM_EV_HTTP events (rule 11,
 * httpasm.c): only method, resource and PHI key names go on, its bytes are
 * zeroed. Requests that are not DICOMweb print nothing.
 */
static void on_http_req(void *ctx, const struct dm_event_hdr *h, const struct dm_http_req *req)
{
	struct dm_pipeline *p = ctx;

	if (req->resource == DM_DW_NONE)
		return;
	dm_rules_http(p->rules, req, h, h->ts_ns);
	if (!quiet(p))
		dm_lines_http(&p->lines, h, req);
}

static void on_http(struct dm_pipeline *p, const struct dm_event_http *e, uint64_t now_ns)
{
	if (e->hdr.len > DM_HTTP_SNAP) {
		p->stats.malformed++;
		return;
	}
	dm_http_asm_event(p->http, e, now_ns);
}

/* A record of a known type: 0 if handled, -EINVAL if it is shorter than its type. */
static int dispatch(struct dm_pipeline *p, void *data, size_t len, uint64_t now_ns)
{
	const struct dm_event_hdr *h = data;

	switch (h->type) {
	case DM_EV_PDU:
	case DM_EV_DIMSE:
		if (len < sizeof(struct dm_event_piece))
			return -EINVAL;
		on_piece(p, data, len);
		return 0;
	case DM_EV_TLS:
		if (len < sizeof(struct dm_event_tls))
			return -EINVAL;
		on_tls(p, data);
		return 0;
	case DM_EV_FLOW_END:
		if (len < sizeof(struct dm_event_flow))
			return -EINVAL;
		on_flow_end(p, data);
		return 0;
	case DM_EV_HTTP:
		if (len < sizeof(struct dm_event_http))
			return -EINVAL;
		on_http(p, data, now_ns);
		return 0;
	case DM_EV_ANOMALY:
		if (len < sizeof(struct dm_event_anomaly))
			return -EINVAL;
		on_anomaly(p, data);
		return 0;
	case DM_EV_PACKET:
		if (len < offsetof(struct dm_event_packet, data))
			return -EINVAL;
		if (p->evidence)
			dm_evidence_packet(p->evidence, data, len, dm_clock_wall_ns(h->ts_ns));
		return 0;
	}
	return -EINVAL;
}

int dm_pipeline_event(void *ctx, void *data, size_t len)
{
	struct dm_pipeline *p = ctx;
	const struct dm_event_hdr *h = data;
	uint64_t now_ns = dm_clock_now_ns();

	/* Finished records age out, HTTP requests held too: checked at most once a second. */
	if (now_ns - p->last_expire_ns > NSEC_PER_SEC) {
		dm_table_expire(p->table, now_ns);
		dm_http_asm_expire(p->http, now_ns);
		p->last_expire_ns = now_ns;
		idle_tick(p, now_ns);
	}
	if (len < sizeof(*h) || h->type == DM_EV_NONE || h->type >= DM_EV_MAX) {
		p->stats.malformed++;
		return 0;
	}
	p->stats.events[h->type]++;
	if (dispatch(p, data, len, now_ns))
		p->stats.malformed++;
	return 0;
}

const struct dm_pipeline_stats *dm_pipeline_stats(const struct dm_pipeline *p)
{
	return &p->stats;
}

const struct dm_table *dm_pipeline_table(const struct dm_pipeline *p)
{
	return p->table;
}

const struct dm_rules *dm_pipeline_rules(const struct dm_pipeline *p)
{
	return p->rules;
}

const struct dm_feed *dm_pipeline_feed(const struct dm_pipeline *p)
{
	return p->feed;
}

const struct dm_evidence *dm_pipeline_evidence(const struct dm_pipeline *p)
{
	return p->evidence;
}

const struct dm_http_asm_stats *dm_pipeline_http_stats(const struct dm_pipeline *p)
{
	return dm_http_asm_stats(p->http);
}

const struct dm_assoc_metrics *dm_pipeline_assoc_metrics(const struct dm_pipeline *p)
{
	return &p->am;
}

const struct dm_alert_count *dm_pipeline_alerts(const struct dm_pipeline *p, int *n)
{
	*n = p->n_alerts;
	return p->alerts;
}
