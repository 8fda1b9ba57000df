// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Every counter in the forms it leaves the process (see counters.h): one
 * reading, a table of Prometheus families and a table of stats rows over it.
 * The family order is the exposition's (dashboards and the golden files
 * depend on it); so is the row order of the stats lines.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kern/loader.h"
#include "lib/loop.h"
#include "lib/names.h"
#include "output/assoc_metrics.h"
#include "output/attach_metrics.h"
#include "output/metrics.h"
#include "output/stats.h"
#include "core/counters.h"

/* What a render reads: the counters, and the label sets known only now. */
struct dm_view {
	struct dm_counters c;
	const struct dm_pipeline *p;
	const struct dm_loader *l; /* NULL: no attachments to describe (tests) */
	const struct dm_loop *loop; /* NULL: no event loop (replay, tests) */
	bool evidence, have_total;
	struct dm_metrics_iface ifs[DM_MAX_IFACES];
	int n_ifs;
	struct dm_prog_run runs[DM_PROG_RUNS];
	int n_runs;
};

static void count_active(const struct dm_rec *r, void *ctx)
{
	uint64_t *active = ctx;

	if (!r->finished && r->transport < DM_TRANSPORT_MAX)
		active[r->transport]++;
}

/* Userspace's counters, all read here. */
static void read_pipeline(struct dm_view *v, const struct dm_pipeline *p)
{
	const struct dm_evidence *ev = dm_pipeline_evidence(p);

	v->p = p;
	v->c.ps = *dm_pipeline_stats(p);
	v->c.ts = *dm_table_stats(dm_pipeline_table(p));
	v->c.rs = *dm_rules_stats(dm_pipeline_rules(p));
	v->c.fs = *dm_feed_stats(dm_pipeline_feed(p));
	v->c.hs = *dm_pipeline_http_stats(p);
	v->evidence = ev != NULL;
	if (ev)
		v->c.vs = *dm_evidence_stats(ev);
	dm_table_foreach(dm_pipeline_table(p), count_active, v->c.active);
}

/* The kernel side: interfaces' counters (an error stops the render), entries, attachments. */
static int read_kernel(struct dm_view *v, const struct dm_kside *k, bool force, bool ifaces)
{
	const struct dm_loader *l = k->l;
	int fd = dm_loader_stats_fd(l), i, err;
	struct dm_stats total;

	v->l = l;
	v->loop = k->loop;
	v->c.ms = *dm_metrics_refused(k->metrics);
	for (i = 0; ifaces && i < l->n_ifaces && i < DM_MAX_IFACES; i++) {
		v->ifs[i].name = l->ifaces[i].name;
		err = dm_stats_read(fd, l->ncpus, l->ifaces[i].slot, &v->ifs[i].s);
		if (err)
			return err;
	}
	v->n_ifs = i;
	dm_kcount_update(k->kc, l, force);
	v->c.kc = *k->kc;
	v->c.slots_cap = l->flow_slots;
	v->c.overflow_cap = l->overflow_entries;
	v->have_total = !dm_stats_read(fd, l->ncpus, -1, &total);
	if (v->have_total) {
		v->c.cands_evicted = dm_kcount_cands_evicted(k->kc, &total);
		dm_kcount_evictions(k->kc, &total, &v->c.kev);
	}
	v->c.bpf_stats_enabled = dm_attach_bpf_stats_enabled();
	v->n_runs = dm_attach_prog_runs(l, v->runs, DM_PROG_RUNS);
	return 0;
}

/* ---- the Prometheus families ---- */

#define VIEW(ctx) ((const struct dm_view *)(ctx))

static void build_info(struct dm_expo *e, const void *ctx, const void *arg)
{
	const char *lv[2] = {DICOMON_VERSION, libbpf_version_string()};

	(void)ctx, (void)arg;
	dm_expo_u64(e, lv, 1);
}

static void kernel_array(struct dm_expo *e, const void *ctx, const void *arg)
{
	struct dm_kernel_view k = {VIEW(ctx)->ifs, VIEW(ctx)->n_ifs};

	dm_metrics_kernel_array(e, &k, arg);
}

static void kernel_counters(struct dm_expo *e, const void *ctx, const void *arg)
{
	struct dm_kernel_view k = {VIEW(ctx)->ifs, VIEW(ctx)->n_ifs};

	(void)arg;
	dm_metrics_kernel_counters(e, &k);
}

static void events_consumed(struct dm_expo *e, const void *ctx, const void *arg)
{
	const char *name;
	int i;

	(void)arg;
	for (i = 1; i < DM_EV_MAX; i++) {
		name = dm_event_name(i);
		dm_expo_u64(e, &name, VIEW(ctx)->c.ps.events[i]);
	}
}

/* arg: the offset of a uint64_t in struct dm_feed_out_stats. */
static void feed_outputs(struct dm_expo *e, const void *ctx, const void *arg)
{
	size_t off = *(const size_t *)arg;
	const char *lv[1];
	uint64_t n;
	int i;

	for (i = 0; i < DM_FEED_OUT_MAX; i++) {
		lv[0] = dm_feed_output_name(i);
		memcpy(&n, (const char *)&VIEW(ctx)->c.fs.out[i] + off, sizeof(n));
		dm_expo_u64(e, lv, n);
	}
}

static void alerts(struct dm_expo *e, const void *ctx, const void *arg)
{
	const struct dm_alert_count *a;
	char sid[16], sev[16];
	const char *lv[3] = {sid, NULL, sev};
	int i, n;

	(void)arg;
	a = dm_pipeline_alerts(VIEW(ctx)->p, &n);
	for (i = 0; i < n; i++) {
		snprintf(sid, sizeof(sid), "%u", a[i].sid);
		snprintf(sev, sizeof(sev), "%d", a[i].severity);
		lv[1] = a[i].signature;
		dm_expo_u64(e, lv, a[i].n);
	}
}

static void active(struct dm_expo *e, const void *ctx, const void *arg)
{
	const char *lv[1];
	int t;

	(void)arg;
	for (t = 0; t < DM_TRANSPORT_MAX; t++) {
		lv[0] = dm_transport_name(t);
		dm_expo_u64(e, lv, VIEW(ctx)->c.active[t]);
	}
}

/* arg: a struct am_src, the association metrics' emitter of the family. */
struct am_src {
	dm_am_emit_fn fn;
};

static void am(struct dm_expo *e, const void *ctx, const void *arg)
{
	((const struct am_src *)arg)->fn(e, dm_pipeline_assoc_metrics(VIEW(ctx)->p));
}

static void tc_ahead(struct dm_expo *e, const void *ctx, const void *arg)
{
	(void)arg;
	if (VIEW(ctx)->l)
		dm_attach_tc_ahead(e, VIEW(ctx)->l);
}

static void prog_runs(struct dm_expo *e, const void *ctx, const void *arg)
{
	(void)arg;
	dm_attach_runs(e, VIEW(ctx)->runs, VIEW(ctx)->n_runs, false);
}

static void prog_seconds(struct dm_expo *e, const void *ctx, const void *arg)
{
	(void)arg;
	dm_attach_runs(e, VIEW(ctx)->runs, VIEW(ctx)->n_runs, true);
}

static void fallbacks(struct dm_expo *e, const void *ctx, const void *arg)
{
	(void)arg;
	if (VIEW(ctx)->l)
		dm_attach_fallbacks(e, VIEW(ctx)->l);
}

/* arg: 0 longest run, 1 runs over 50 ms, 2 time in all runs. */
static void loop_handlers(struct dm_expo *e, const void *ctx, const void *arg)
{
	const struct dm_loop_stat *s;
	int which = *(const int *)arg, n, i;
	const char *lv[1];

	if (!VIEW(ctx)->loop)
		return;
	n = dm_loop_stats(VIEW(ctx)->loop, &s);
	for (i = 0; i < n; i++) {
		lv[0] = s[i].name;
		if (which == 1)
			dm_expo_u64(e, lv, s[i].slow);
		else
			dm_expo_f64(e, lv, (which ? s[i].total_ns : s[i].max_ns) / 1e9, 6);
	}
}

static void hooks_attached(struct dm_expo *e, const void *ctx, const void *arg)
{
	(void)arg;
	if (VIEW(ctx)->l)
		dm_attach_hooks(e, VIEW(ctx)->l);
}

static void last_packet(struct dm_expo *e, const void *ctx, const void *arg)
{
	(void)arg;
	if (VIEW(ctx)->l)
		dm_attach_last_packet(e, VIEW(ctx)->l);
}

/* The daemon's own families: not in replay's exposition (no loop, no hooks). */
static int daemon_on(const void *ctx)
{
	return VIEW(ctx)->loop != NULL;
}

static int evidence_on(const void *ctx)
{
	return VIEW(ctx)->evidence;
}

static int have_total(const void *ctx)
{
	return VIEW(ctx)->have_total;
}

#define F(x) offsetof(struct dm_counters, x)
#define ARRAY(field, n, fn) {offsetof(struct dm_stats, field), n, fn, 0}

static const struct dm_stats_array k_pkts = ARRAY(pkts, DM_CLASS_MAX, dm_class_name);
static const struct dm_stats_array k_bytes = ARRAY(bytes, DM_CLASS_MAX, dm_class_name);
static const struct dm_stats_array k_pdus = {offsetof(struct dm_stats, pdus), DM_PDU_MAX,
					     dm_pdu_name, 1};
static const struct dm_stats_array k_pdu_bytes = {offsetof(struct dm_stats, pdu_bytes),
						  DM_PDU_MAX, dm_pdu_name, 1};
static const struct dm_stats_array k_assoc = ARRAY(assoc, DM_ASSOC_MAX, dm_assoc_counter_name);
static const struct dm_stats_array k_err = ARRAY(err, DM_ERR_MAX, dm_err_name);
static const size_t out_lines = offsetof(struct dm_feed_out_stats, lines);
static const size_t out_dropped = offsetof(struct dm_feed_out_stats, dropped);
static const size_t out_errors = offsetof(struct dm_feed_out_stats, errors);
static const size_t out_full = offsetof(struct dm_feed_out_stats, full);
static const size_t out_rolled_back = offsetof(struct dm_feed_out_stats, rolled_back);
static const struct am_src am_outcomes = {dm_am_outcomes}, am_rejects = {dm_am_rejects},
			   am_vlans = {dm_am_vlans}, am_durations = {dm_am_durations},
			   am_tls = {dm_am_tls}, am_commands = {dm_am_commands},
			   am_anomalies = {dm_am_anomalies}, am_incomplete = {dm_am_incomplete},
			   am_pairs = {dm_am_pairs};

static const int loop_max = 0, loop_slow = 1, loop_total = 2;

static const struct dm_family families[] = {
    {"build_info", DM_GAUGE, "dicomon's version (value 1).", {"version", "libbpf"},
     .emit = build_info},
    {"packets_total", DM_COUNTER, "Packets seen, by interface and class.",
     {"interface", "class"}, .emit = kernel_array, .arg = &k_pkts},
    {"bytes_total", DM_COUNTER, "Bytes seen (whole frames), by interface and class.",
     {"interface", "class"}, .emit = kernel_array, .arg = &k_bytes},
    {"pdus_total", DM_COUNTER,
     "DICOM Upper Layer PDU headers seen, by type and direction (orig: from the association "
     "requester).",
     {"interface", "type", "direction"}, .emit = kernel_array, .arg = &k_pdus},
    {"pdu_bytes_total", DM_COUNTER,
     "Bytes of DICOM Upper Layer PDUs (header and body), by type and direction.",
     {"interface", "type", "direction"}, .emit = kernel_array, .arg = &k_pdu_bytes},
    {"association_events_total", DM_COUNTER,
     "Association events seen by the classifier: new_cleartext, new_tls, new_midstream "
     "(starts), accepted, rejected, released, aborted, ended, evicted.",
     {"interface", "event"}, .emit = kernel_array, .arg = &k_assoc},
    {"parse_errors_total", DM_COUNTER,
     "Frames or PDUs the classifier could not parse, by reason.", {"interface", "reason"},
     .emit = kernel_array, .arg = &k_err},
    /* dicomon_NAME_total{interface} for each datapath counter (enum dm_counter) */
    {NULL, DM_COUNTER, NULL, {"interface"}, .emit = kernel_counters},
    {"events_consumed_total", DM_COUNTER, "Ring buffer events consumed by userspace, by type.",
     {"type"}, .emit = events_consumed},
    {"malformed_events_total", DM_COUNTER,
     "Ring buffer records userspace could not read (short or of unknown type).",
     .fields = {{NULL, F(ps.malformed)}}},
    {"control_pdus_decoded_total", DM_COUNTER,
     "Association PDUs rebuilt whole and decoded in userspace.",
     .fields = {{NULL, F(ts.pdus_decoded)}}},
    {"control_pdus_broken_total", DM_COUNTER,
     "Association PDUs that could not be rebuilt (pieces lost).",
     .fields = {{NULL, F(ts.pdus_broken)}}},
    {"table_associations", DM_GAUGE, "Associations in the userspace table that are going on.",
     .fields = {{NULL, F(ts.active)}}},
    {"table_finished_associations", DM_GAUGE,
     "Finished associations kept in the userspace table.", .fields = {{NULL, F(ts.finished)}}},
    {"table_evictions_total", DM_COUNTER, "Associations dropped from the full userspace table.",
     .fields = {{NULL, F(ts.evicted_active)}, {NULL, F(ts.evicted_finished)}}, .sum = 2},
    {"alerts_emitted_total", DM_COUNTER, "Alerts written to the feed.",
     .fields = {{NULL, F(fs.alerts)}}},
    {"alerts_suppressed_total", DM_COUNTER, "Alerts held back by the feed's rate limit.",
     .fields = {{NULL, F(fs.alerts_suppressed)}}},
    {"feed_records_total", DM_COUNTER, "Association records written to the feed.",
     .fields = {{NULL, F(fs.records)}}},
    {"feed_lines_total", DM_COUNTER, "Lines written, by feed output.", {"output"},
     .emit = feed_outputs, .arg = &out_lines},
    {"feed_dropped_lines_total", DM_COUNTER, "Lines dropped, by feed output.", {"output"},
     .emit = feed_outputs, .arg = &out_dropped},
    {"feed_errors_total", DM_COUNTER,
     "Failures to open, connect, write or send, by feed output (a refused unsafe file too).",
     {"output"}, .emit = feed_outputs, .arg = &out_errors},
    {"feed_full_dropped_lines_total", DM_COUNTER,
     "Lines dropped because the disk or quota was full (ENOSPC, EDQUOT), by feed output "
     "(also in feed_dropped_lines_total).",
     {"output"}, .emit = feed_outputs, .arg = &out_full},
    {"feed_rolled_back_lines_total", DM_COUNTER,
     "Lines written in part and cut back off the file (it keeps whole lines only), by feed "
     "output.",
     {"output"}, .emit = feed_outputs, .arg = &out_rolled_back},
    {"rules_learned_ae_titles", DM_GAUGE, "AE titles learned by the rules.",
     .fields = {{NULL, F(rs.learned_titles)}}},
    {"alerts_total", DM_COUNTER,
     "Alerts raised by the rules, by signature and severity (1 high .. 3 low), before the "
     "feed's rate limit.",
     {"signature_id", "signature", "severity"}, .emit = alerts},
    {"flow_table_entries", DM_GAUGE,
     "Associations held by the kernel's flow tables (slots: direct-mapped, overflow: LRU), "
     "counted at most every 10 s.",
     {"table"}, .fields = {{"slots", F(kc.slots_used)}, {"overflow", F(kc.overflow_used)}}},
    {"flow_table_capacity", DM_GAUGE,
     "Size of the kernel's flow tables (maps.flow_slots, maps.overflow_entries).", {"table"},
     .fields = {{"slots", F(slots_cap)}, {"overflow", F(overflow_cap)}}},
    {"candidates_held", DM_GAUGE,
     "Flows held as candidates in dm_cands now (maps.candidate_entries at most), counted at "
     "most every 10 s.",
     .fields = {{NULL, F(kc.cands_held)}}},
    {"candidates_evicted_total", DM_COUNTER,
     "Candidates the full dm_cands LRU evicted before their bytes decided (candidates - "
     "candidates_removed - held).",
     .fields = {{NULL, F(cands_evicted)}}, .shown = have_total},
    {"http_requests_parsed_total", DM_COUNTER,
     "HTTP requests to the web ports put together from their events and parsed.",
     .fields = {{NULL, F(hs.requests)}}},
    {"http_requests_cut_total", DM_COUNTER,
     "HTTP requests parsed before their request line was complete: the table of requests "
     "held was full (evicted), the age bound passed (expired), bytes in between never came "
     "(gap).",
     {"reason"},
     .fields = {{"evicted", F(hs.evicted)}, {"expired", F(hs.expired)}, {"gap", F(hs.gaps)}}},
    {"evidence_files_total", DM_COUNTER, "Evidence pcaps written (one per alerted association).",
     .fields = {{NULL, F(vs.files)}}, .shown = evidence_on},
    {"evidence_frames_written_total", DM_COUNTER, "Frames written to evidence pcaps.",
     .fields = {{NULL, F(vs.written)}}, .shown = evidence_on},
    {"evidence_frames_dropped_total", DM_COUNTER,
     "Evidence frames not kept (memory bound, malformed).", .fields = {{NULL, F(vs.dropped)}},
     .shown = evidence_on},
    {"evidence_write_errors_total", DM_COUNTER,
     "Evidence pcaps that could not be created or written.",
     .fields = {{NULL, F(vs.write_errors)}}, .shown = evidence_on},
    {"evidence_bad_commands_total", DM_COUNTER,
     "Command PDVs in evidence that did not parse as a command set (zeroed from there).",
     .fields = {{NULL, F(vs.bad_commands)}}, .shown = evidence_on},
    {"evidence_files_refused_total", DM_COUNTER,
     "Evidence pcaps refused: a symlink or a file someone else made in evidence.dir, one "
     "writable by others, or not an Ethernet pcap.",
     .fields = {{NULL, F(vs.refused)}}, .shown = evidence_on},
    {"associations_total", DM_COUNTER,
     "Associations ended (or dropped from the table), by transport and outcome.",
     {"transport", "outcome"}, .emit = am, .arg = &am_outcomes},
    {"association_rejects_total", DM_COUNTER,
     "A-ASSOCIATE-RJ by source and reason (PS3.8 Table 9-21).",
     {"source", "reason", "reason_name"}, .emit = am, .arg = &am_rejects},
    {"vlan_associations_total", DM_COUNTER,
     "Associations ended, by outer VLAN id (none: untagged) and transport.",
     {"vlan", "transport"}, .emit = am, .arg = &am_vlans},
    {"active_associations", DM_GAUGE,
     "Associations going on in the userspace table, by transport.", {"transport"},
     .emit = active},
    {"association_duration_seconds", DM_HISTOGRAM,
     "Duration of ended associations, first to last packet, by transport.", {"transport"},
     .emit = am, .arg = &am_durations},
    {"tls_associations_total", DM_COUNTER,
     "TLS associations ended, by the version the server selected.", {"version"}, .emit = am,
     .arg = &am_tls},
    {"dimse_messages_total", DM_COUNTER,
     "DIMSE messages decoded from their command heads, by command and status class (none: a "
     "request).",
     {"command", "status_class"}, .emit = am, .arg = &am_commands},
    {"association_anomalies_total", DM_COUNTER,
     "Associations ended whose stream the datapath found this anomaly in (either direction), "
     "once per association and kind.",
     {"anomaly"}, .emit = am, .arg = &am_anomalies},
    {"association_decode_incomplete_total", DM_COUNTER,
     "Associations ended whose set-up (RQ, AC/RJ) was not decoded whole, by reason (one "
     "association may have several; reason=\"any\": at least one).",
     {"reason"}, .emit = am, .arg = &am_incomplete},
    {"ae_pair_associations_total", DM_COUNTER,
     "Cleartext associations ended, by calling and called AE title; titles that are neither "
     "allow-listed nor learned are \"other\".",
     {"calling_ae", "called_ae"}, .emit = am, .arg = &am_pairs},
    {"tc_programs_ahead", DM_GAUGE,
     "Programs or filters that run before dicomon's on a TC hook (checked every 10 s); a "
     "verdict other than continue from one of them hides packets from dicomon.",
     {"interface", "hook"}, .emit = tc_ahead},
    {"bpf_stats_enabled", DM_GAUGE,
     "Whether the kernel counts BPF run time (sysctl kernel.bpf_stats_enabled).",
     .fields = {{NULL, F(bpf_stats_enabled)}}},
    {"bpf_program_runs_total", DM_COUNTER,
     "Runs of each attached program (counted while kernel.bpf_stats_enabled is 1).",
     {"program", "id"}, .emit = prog_runs},
    {"bpf_program_run_seconds_total", DM_COUNTER,
     "Time spent in each attached program (counted while kernel.bpf_stats_enabled is 1).",
     {"program", "id"}, .emit = prog_seconds},
    {"fallback_active", DM_GAUGE,
     "Fallbacks in effect on an interface (1): xdp_vlan_tags_hidden, xdp_generic, tc_clsact.",
     {"interface", "fallback"}, .emit = fallbacks},
    {"loop_block_max_seconds", DM_GAUGE,
     "Longest run of each event loop handler since start: while one runs the ring buffer is not "
     "drained and scrapes wait (the goal is under 0.05).",
     {"handler"}, .emit = loop_handlers, .arg = &loop_max, .shown = daemon_on},
    {"loop_slow_runs_total", DM_COUNTER,
     "Runs of each event loop handler that blocked the loop for over 50 ms (each warned of, at "
     "most one warning per 10 s).",
     {"handler"}, .emit = loop_handlers, .arg = &loop_slow, .shown = daemon_on},
    {"loop_handler_seconds_total", DM_COUNTER, "Time spent in each event loop handler.",
     {"handler"}, .emit = loop_handlers, .arg = &loop_total, .shown = daemon_on},
    {"metrics_requests_refused_total", DM_COUNTER,
     "Requests to this endpoint refused by metrics.web_config_file: no or wrong basic auth "
     "credentials (auth, 401), no or unverified client certificate (client_cert, 403), a "
     "password to check past the bcrypt budget of one a second per address (auth_throttled, "
     "429).",
     {"reason"},
     .fields = {{"auth", F(ms.auth)},
		{"client_cert", F(ms.cert)},
		{"auth_throttled", F(ms.throttled)}},
     .shown = daemon_on},
    {"hook_attached", DM_GAUGE,
     "1 when the kernel shows dicomon's own program on the hook (queried every 5 s), 0 when "
     "something detached or replaced it: dicomon is blind there.",
     {"interface", "hook"}, .emit = hooks_attached, .shown = daemon_on},
    {"interface_last_packet_timestamp_seconds", DM_GAUGE,
     "Wall time (Unix seconds) of the last 5 s check in which the interface's packet counter "
     "moved; the start time until one did.",
     {"interface"}, .emit = last_packet, .shown = daemon_on},
    {"table_active_evictions_total", DM_COUNTER,
     "Associations going on dropped from the userspace table, their record written with "
     "end_reason \"evicted\": the table was full (table_full), or their source had "
     "table.max_halfopen_per_source unanswered ones (halfopen_per_source, its oldest).",
     {"reason"},
     .fields = {{"table_full", F(ts.evicted_active)},
		{"halfopen_per_source", F(ts.evicted_halfopen)}}},
    {"table_halfopen_associations", DM_GAUGE,
     "Associations in the userspace table nothing answered yet (A-ASSOCIATE-RQ or TLS hello, "
     "no reply).",
     .fields = {{NULL, F(ts.halfopen)}}},
    {"events_after_eviction_total", DM_COUNTER,
     "Events for an association whose record already went out (evicted, or ended idle), "
     "dropped: no second record.",
     {"ended"}, .fields = {{"evicted", F(ts.late[0])}, {"idle", F(ts.late[1])}}},
    {"table_idle_ended_total", DM_COUNTER,
     "Associations ended by table.idle_timeout_seconds (end_reason \"idle\"): the kernel held "
     "the flow idle as long (held) or no longer held it (gone).",
     {"kernel"}, .fields = {{"held", F(ps.idle_ended[1])}, {"gone", F(ps.idle_ended[0])}}},
    {"table_idle_kernel_walks_total", DM_COUNTER,
     "Reads of the kernel's flow tables for the idle timeout (one per sweep that found idle "
     "records).",
     .fields = {{NULL, F(ps.idle_walks)}}},
    {"kernel_map_evictions_total", DM_COUNTER,
     "Entries the kernel's full LRU maps evicted (inserted - removed - held, counted at most "
     "every 10 s): overflow = associations in dm_overflow, which get no flow end (the table "
     "ends them by idle time); candidates = dm_cands; fragments = dm_frags (not pinned: what a "
     "restart dropped counts too).",
     {"map"},
     .fields = {{"overflow", F(kev.overflow)},
		{"candidates", F(kev.cands)},
		{"fragments", F(kev.frags)}},
     .shown = have_total},
};

int dm_counters_prometheus(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k)
{
	struct dm_view *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	read_pipeline(v, p);
	err = read_kernel(v, k, false, true);
	if (!err)
		err = dm_metrics_render(out, families, sizeof(families) / sizeof(families[0]), &v->c,
					v);
	free(v);
	return err;
}

int dm_counters_prometheus_of(FILE *out, const struct dm_pipeline *p,
			      const struct dm_metrics_iface *ifs, int n)
{
	struct dm_view *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	read_pipeline(v, p);
	v->n_ifs = n < DM_MAX_IFACES ? n : DM_MAX_IFACES;
	if (v->n_ifs > 0)
		memcpy(v->ifs, ifs, v->n_ifs * sizeof(*ifs));
	v->have_total = true;
	err = dm_metrics_render(out, families, sizeof(families) / sizeof(families[0]), &v->c, v);
	free(v);
	return err;
}

/* ---- the stats lines and `dicomon status` ---- */

enum {
	SHOW_TEXT = 1,	 /* the text stats lines */
	SHOW_JSON = 2,	 /* the JSON stats event */
	SHOW_STATUS = 4, /* `dicomon status` (the table's group) */
	SHOW_LINES = SHOW_TEXT | SHOW_JSON,
};

struct dm_stat {
	const char *key; /* NULL ends a group */
	size_t off;	 /* a uint64_t of struct dm_counters */
	unsigned int show;
	int (*shown)(const void *ctx); /* NULL: always */
};

struct dm_stat_group {
	const char *name;
	const struct dm_stat *rows;
	void (*more)(json_object *o, const struct dm_view *v); /* rows known at render time */
	int (*shown)(const void *ctx);
};

#define ROW(k, f, s)	     {.key = k, .off = F(f), .show = s}
#define ROWIF(k, f, s, cond) {.key = k, .off = F(f), .show = s, .shown = cond}

/* The pipeline's own, at the top of "userspace" ([userspace] in text). */
static const struct dm_stat top_rows[] = {
    ROW("events_flow_end", ps.events[DM_EV_FLOW_END], SHOW_JSON),
    ROW("pdus_decoded", ts.pdus_decoded, SHOW_LINES),
    ROW("pdus_broken", ts.pdus_broken, SHOW_LINES),
    ROW("malformed_events", ps.malformed, SHOW_LINES),
    {.key = NULL},
};
static const struct dm_stat table_rows[] = {
    ROW("active", ts.active, SHOW_LINES | SHOW_STATUS),
    ROW("finished", ts.finished, SHOW_LINES | SHOW_STATUS),
    ROW("created", ts.created, SHOW_STATUS),
    ROW("evicted_active", ts.evicted_active, SHOW_LINES | SHOW_STATUS),
    ROW("evicted_finished", ts.evicted_finished, SHOW_LINES | SHOW_STATUS),
    ROW("evicted_halfopen", ts.evicted_halfopen, SHOW_STATUS),
    ROW("halfopen", ts.halfopen, SHOW_STATUS),
    ROW("expired", ts.expired, SHOW_STATUS),
    ROW("pdus_decoded", ts.pdus_decoded, SHOW_STATUS),
    ROW("pdus_broken", ts.pdus_broken, SHOW_STATUS),
    ROW("violations", ts.violations, SHOW_LINES | SHOW_STATUS),
    {.key = NULL},
};
static const struct dm_stat rules_rows[] = {
    ROW("alerts", rs.alerts, SHOW_LINES),
    ROW("peers_evicted", rs.peers_evicted, SHOW_LINES),
    ROW("learned_titles", rs.learned_titles, SHOW_LINES),
    ROW("learn_dropped", rs.learn_dropped, SHOW_LINES),
    {.key = NULL},
};
static const struct dm_stat feed_rows[] = {
    ROW("records", fs.records, SHOW_LINES),
    ROW("alerts", fs.alerts, SHOW_LINES),
    ROW("alerts_suppressed", fs.alerts_suppressed, SHOW_LINES),
    ROW("limiter_evictions", fs.limiter_evictions, SHOW_LINES),
    {.key = NULL},
};
static const struct dm_stat cands_rows[] = {
    ROW("held", kc.cands_held, SHOW_LINES),
    ROWIF("evicted", cands_evicted, SHOW_LINES, have_total),
    {.key = NULL},
};
static const struct dm_stat http_rows[] = {
    ROW("requests", hs.requests, SHOW_LINES),
    ROW("evicted", hs.evicted, SHOW_LINES),
    ROW("expired", hs.expired, SHOW_LINES),
    ROW("gaps", hs.gaps, SHOW_LINES),
    ROW("orphans", hs.orphans, SHOW_LINES),
    {.key = NULL},
};
static const struct dm_stat evidence_rows[] = {
    ROW("packets", vs.packets, SHOW_LINES),
    ROW("files", vs.files, SHOW_LINES),
    ROW("written", vs.written, SHOW_LINES),
    ROW("dropped", vs.dropped, SHOW_LINES),
    ROW("evicted", vs.evicted, SHOW_LINES),
    ROW("write_errors", vs.write_errors, SHOW_LINES),
    ROW("refused", vs.refused, SHOW_LINES),
    ROW("redacted_bytes", vs.redacted, SHOW_LINES),
    ROW("bad_commands", vs.bad_commands, SHOW_LINES),
    {.key = NULL},
};

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* Per feed output: its lines, dropped lines and errors. */
static void feed_more(json_object *o, const struct dm_view *v)
{
	char key[64];
	int i;

	for (i = 0; i < DM_FEED_OUT_MAX; i++) {
		snprintf(key, sizeof(key), "%s_lines", dm_feed_output_name(i));
		add_u64(o, key, v->c.fs.out[i].lines);
		snprintf(key, sizeof(key), "%s_dropped", dm_feed_output_name(i));
		add_u64(o, key, v->c.fs.out[i].dropped);
		snprintf(key, sizeof(key), "%s_errors", dm_feed_output_name(i));
		add_u64(o, key, v->c.fs.out[i].errors);
	}
}

static const struct dm_stat_group groups[] = {
    {.name = "table", .rows = table_rows},
    {.name = "rules", .rows = rules_rows},
    {.name = "feed", .rows = feed_rows, .more = feed_more},
    {.name = "candidates", .rows = cands_rows},
    {.name = "http", .rows = http_rows},
    {.name = "evidence", .rows = evidence_rows, .shown = evidence_on},
};

/* The rows of a group that show in a form, as a JSON object of counters. */
static json_object *rows_json(const struct dm_stat *rows, unsigned int show,
			      const struct dm_view *v)
{
	json_object *o = json_object_new_object();
	uint64_t n;

	for (; rows->key; rows++) {
		if (!(rows->show & show) || (rows->shown && !rows->shown(v)))
			continue;
		memcpy(&n, (const char *)&v->c + rows->off, sizeof(n));
		add_u64(o, rows->key, n);
	}
	return o;
}

/* "userspace": the top rows, then one object per group. */
static json_object *userspace_json(const struct dm_view *v, unsigned int show)
{
	json_object *u = rows_json(top_rows, show, v), *g;
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (groups[i].shown && !groups[i].shown(v))
			continue;
		g = rows_json(groups[i].rows, show, v);
		if (groups[i].more)
			groups[i].more(g, v);
		json_object_object_add(u, groups[i].name, g);
	}
	return u;
}

/* A line of name=value for each counter of o (objects within are lines of their own). */
static void text_line(FILE *out, json_object *o, const char *title)
{
	fprintf(out, " ");
	json_object_object_foreach(o, k, v)
	{
		if (json_object_is_type(v, json_type_int))
			fprintf(out, " %s=%lld", k, (long long)json_object_get_int64(v));
	}
	fprintf(out, "   [%s]\n", title);
}

static void print_text(FILE *out, json_object *u)
{
	text_line(out, u, "userspace");
	json_object_object_foreach(u, k, v)
	{
		if (json_object_is_type(v, json_type_object))
			text_line(out, v, k);
	}
}

void dm_counters_print_stats(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k,
			     bool json)
{
	struct dm_view *v = calloc(1, sizeof(*v));
	json_object *o, *u;

	if (!v)
		return;
	read_pipeline(v, p);
	read_kernel(v, k, true, false);
	u = userspace_json(v, json ? SHOW_JSON : SHOW_TEXT);
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("stats"));
	if (!dm_stats_kernel(k->l, json, o, out)) {
		if (json) {
			json_object_object_add(o, "userspace", json_object_get(u));
			fprintf(out, "%s\n",
				json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		} else {
			print_text(out, u);
		}
		fflush(out);
	}
	json_object_put(u);
	json_object_put(o);
	free(v);
}

json_object *dm_counters_status_table(const struct dm_pipeline *p)
{
	struct dm_view *v = calloc(1, sizeof(*v));
	json_object *t;

	if (!v)
		return NULL;
	read_pipeline(v, p);
	t = rows_json(table_rows, SHOW_STATUS, v);
	free(v);
	return t;
}
