// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Every counter in the forms it leaves the process (see counters.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kern/kcount.h"
#include "kern/loader.h"
#include "assoc/httpasm.h"
#include "assoc/table.h"
#include "detect/rules.h"
#include "output/assoc_metrics.h"
#include "output/attach_metrics.h"
#include "output/evidence.h"
#include "output/feed.h"
#include "output/metrics.h"
#include "output/stats.h"
#include "core/pipeline.h"
#include "core/counters.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* dm_cands now: held, and evicted by its LRU (no kernel counter sees those). */
static json_object *cands_json(const struct dm_kside *k)
{
	json_object *c = json_object_new_object();
	struct dm_stats total;

	dm_kcount_update(k->kc, k->l, true);
	add_u64(c, "held", k->kc->cands_held);
	if (!dm_stats_read(dm_loader_stats_fd(k->l), k->l->ncpus, -1, &total))
		add_u64(c, "evicted", dm_kcount_cands_evicted(k->kc, &total));
	return c;
}

/* HTTP requests put together from their events (httpasm.c). */
static json_object *http_json(const struct dm_pipeline *p)
{
	const struct dm_http_asm_stats *hs = dm_pipeline_http_stats(p);
	json_object *h = json_object_new_object();

	add_u64(h, "requests", hs->requests);
	add_u64(h, "evicted", hs->evicted);
	add_u64(h, "expired", hs->expired);
	add_u64(h, "gaps", hs->gaps);
	add_u64(h, "orphans", hs->orphans);
	return h;
}

/* The kernel's counters, then userspace's: the pipeline's own and one part each (table, ...). */
static void print_stats(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k,
			json_object *parts, bool json)
{
	const struct dm_pipeline_stats *es = dm_pipeline_stats(p);
	const struct dm_table_stats *ts = dm_table_stats(dm_pipeline_table(p));
	json_object *o = json_object_new_object(), *u;

	json_object_object_add(o, "event", json_object_new_string("stats"));
	if (dm_stats_kernel(k->l, json, o, out))
		goto out;
	if (json) {
		u = json_object_new_object();
		add_u64(u, "events_flow_end", es->events[DM_EV_FLOW_END]);
		add_u64(u, "pdus_decoded", ts->pdus_decoded);
		add_u64(u, "pdus_broken", es->pdus_broken);
		add_u64(u, "malformed_events", es->malformed);
		json_object_object_foreach(parts, n, v)
			json_object_object_add(u, n, json_object_get(v));
		json_object_object_add(o, "userspace", u);
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	} else {
		fprintf(out,
			"  pdus_decoded=%llu pdus_broken=%llu malformed_events=%llu   [userspace]\n",
			(unsigned long long)ts->pdus_decoded, (unsigned long long)es->pdus_broken,
			(unsigned long long)es->malformed);
		/* One line per part (table, rules, feed): name=value of its counters. */
		json_object_object_foreach(parts, n2, v2) {
			fprintf(out, " ");
			json_object_object_foreach(v2, k2, v3) {
				if (json_object_is_type(v3, json_type_int))
					fprintf(out, " %s=%lld", k2, (long long)json_object_get_int64(v3));
			}
			fprintf(out, "   [%s]\n", n2);
		}
	}
	fflush(out);
out:
	json_object_put(o);
}

/* The counters: the kernel's, then the table's, the rules' and the feed's. */
void dm_counters_print_stats(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k,
			     bool json)
{
	const struct dm_table_stats *ts = dm_table_stats(dm_pipeline_table(p));
	const struct dm_rules_stats *rs = dm_rules_stats(dm_pipeline_rules(p));
	const struct dm_feed_stats *fs = dm_feed_stats(dm_pipeline_feed(p));
	json_object *x = json_object_new_object(), *t = json_object_new_object();
	json_object *r = json_object_new_object(), *f = json_object_new_object();
	char key[64];
	int i;

	add_u64(t, "active", ts->active);
	add_u64(t, "finished", ts->finished);
	add_u64(t, "evicted_active", ts->evicted_active);
	add_u64(t, "evicted_finished", ts->evicted_finished);
	add_u64(t, "violations", ts->violations);
	add_u64(r, "alerts", rs->alerts);
	add_u64(r, "peers_evicted", rs->peers_evicted);
	add_u64(r, "learned_titles", rs->learned_titles);
	add_u64(r, "learn_dropped", rs->learn_dropped);
	add_u64(f, "records", fs->records);
	add_u64(f, "alerts", fs->alerts);
	add_u64(f, "alerts_suppressed", fs->alerts_suppressed);
	add_u64(f, "limiter_evictions", fs->limiter_evictions);
	for (i = 0; i < DM_FEED_OUT_MAX; i++) {
		snprintf(key, sizeof(key), "%s_lines", dm_feed_output_name(i));
		add_u64(f, key, fs->out[i].lines);
		snprintf(key, sizeof(key), "%s_dropped", dm_feed_output_name(i));
		add_u64(f, key, fs->out[i].dropped);
		snprintf(key, sizeof(key), "%s_errors", dm_feed_output_name(i));
		add_u64(f, key, fs->out[i].errors);
	}
	json_object_object_add(x, "table", t);
	json_object_object_add(x, "rules", r);
	json_object_object_add(x, "feed", f);
	json_object_object_add(x, "candidates", cands_json(k));
	json_object_object_add(x, "http", http_json(p));
	if (dm_pipeline_evidence(p)) {
		const struct dm_evidence_stats *es = dm_evidence_stats(dm_pipeline_evidence(p));
		json_object *v = json_object_new_object();

		add_u64(v, "packets", es->packets);
		add_u64(v, "files", es->files);
		add_u64(v, "written", es->written);
		add_u64(v, "dropped", es->dropped);
		add_u64(v, "evicted", es->evicted);
		add_u64(v, "write_errors", es->write_errors);
		add_u64(v, "redacted_bytes", es->redacted);
		json_object_object_add(x, "evidence", v);
	}
	print_stats(out, p, k, x, json);
	json_object_put(x);
}

static const char *const event_names[DM_EV_MAX] = {
    [DM_EV_PDU] = "pdu",	   [DM_EV_DIMSE] = "dimse", [DM_EV_TLS] = "tls",
    [DM_EV_FLOW_END] = "flow_end", [DM_EV_HTTP] = "http", [DM_EV_PACKET] = "packet",
    [DM_EV_ANOMALY] = "anomaly",
};

static void gauge(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
	dm_metrics_head(out, name, type, help);
	fprintf(out, "dicomon_%s %llu\n", name, (unsigned long long)v);
}

static void count_active(const struct dm_rec *r, void *ctx)
{
	uint64_t *active = ctx;

	if (!r->finished && r->transport < DM_TRANSPORT_MAX)
		active[r->transport]++;
}


/* The families: flow table entries and capacity, candidates held and evicted. */
static void kcount_metrics(FILE *out, const struct dm_kside *k)
{
	struct dm_stats total;

	dm_kcount_update(k->kc, k->l, false);
	fprintf(
	    out,
	    "# HELP dicomon_flow_table_entries Associations held by the kernel's flow tables "
	    "(slots: direct-mapped, overflow: LRU), counted at most every 10 s.\n"
	    "# TYPE dicomon_flow_table_entries gauge\n"
	    "dicomon_flow_table_entries{table=\"slots\"} %llu\n"
	    "dicomon_flow_table_entries{table=\"overflow\"} %llu\n"
	    "# HELP dicomon_flow_table_capacity Size of the kernel's flow tables (maps.flow_slots, "
	    "maps.overflow_entries).\n# TYPE dicomon_flow_table_capacity gauge\n"
	    "dicomon_flow_table_capacity{table=\"slots\"} %u\n"
	    "dicomon_flow_table_capacity{table=\"overflow\"} %u\n",
	    (unsigned long long)k->kc->slots_used, (unsigned long long)k->kc->overflow_used,
	    k->l->flow_slots, k->l->overflow_entries);
	dm_metrics_head(out, "candidates_held", "gauge",
			"Flows held as candidates in dm_cands now (maps.candidate_entries at most), "
			"counted at most every 10 s.");
	fprintf(out, "dicomon_candidates_held %llu\n", (unsigned long long)k->kc->cands_held);
	if (dm_stats_read(dm_loader_stats_fd(k->l), k->l->ncpus, -1, &total))
		return;
	dm_metrics_head(out, "candidates_evicted_total", "counter",
			"Candidates the full dm_cands LRU evicted before their bytes decided "
			"(candidates - candidates_removed - held).");
	fprintf(out, "dicomon_candidates_evicted_total %llu\n",
		(unsigned long long)dm_kcount_cands_evicted(k->kc, &total));
}

/* One scrape: the maps as they are now, then userspace's counters. */
int dm_counters_prometheus(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k)
{
	struct dm_metrics_iface ifs[DM_MAX_IFACES];
	uint64_t active[DM_TRANSPORT_MAX];
	const struct dm_pipeline_stats *es;
	const struct dm_table_stats *ts;
	const struct dm_rules_stats *rs;
	const struct dm_feed_stats *fs;
	const struct dm_alert_count *ac;
	int i, n_ac, err, fd = dm_loader_stats_fd(k->l);

	es = dm_pipeline_stats(p);
	ts = dm_table_stats(dm_pipeline_table(p));
	rs = dm_rules_stats(dm_pipeline_rules(p));
	fs = dm_feed_stats(dm_pipeline_feed(p));
	ac = dm_pipeline_alerts(p, &n_ac);
	for (i = 0; i < k->l->n_ifaces && i < DM_MAX_IFACES; i++) {
		ifs[i].name = k->l->ifaces[i].name;
		err = dm_stats_read(fd, k->l->ncpus, k->l->ifaces[i].slot, &ifs[i].s);
		if (err)
			return err;
	}
	fprintf(out,
		"# HELP dicomon_build_info dicomon's version (value 1).\n"
		"# TYPE dicomon_build_info gauge\n"
		"dicomon_build_info{version=\"%s\",libbpf=\"%s\"} 1\n",
		DICOMON_VERSION, libbpf_version_string());
	dm_metrics_write_kernel(out, ifs, i);
	fprintf(out, "# HELP dicomon_events_consumed_total Ring buffer events consumed by "
		     "userspace, by type.\n"
		     "# TYPE dicomon_events_consumed_total counter\n");
	for (i = 1; i < DM_EV_MAX; i++)
		fprintf(out, "dicomon_events_consumed_total{type=\"%s\"} %llu\n", event_names[i],
			(unsigned long long)es->events[i]);
	gauge(out, "malformed_events_total", "counter",
	      "Ring buffer records userspace could not read (short or of unknown type).",
	      es->malformed);
	gauge(out, "control_pdus_decoded_total", "counter",
	      "Association PDUs rebuilt whole and decoded in userspace.", ts->pdus_decoded);
	gauge(out, "control_pdus_broken_total", "counter",
	      "Association PDUs that could not be rebuilt (pieces lost).", es->pdus_broken);
	gauge(out, "table_associations", "gauge",
	      "Associations in the userspace table that are going on.", ts->active);
	gauge(out, "table_finished_associations", "gauge",
	      "Finished associations kept in the userspace table.", ts->finished);
	gauge(out, "table_evictions_total", "counter",
	      "Associations dropped from the full userspace table.",
	      ts->evicted_active + ts->evicted_finished);
	gauge(out, "alerts_emitted_total", "counter", "Alerts written to the feed.", fs->alerts);
	gauge(out, "alerts_suppressed_total", "counter",
	      "Alerts held back by the feed's rate limit.", fs->alerts_suppressed);
	gauge(out, "feed_records_total", "counter", "Association records written to the feed.",
	      fs->records);
	fprintf(out, "# HELP dicomon_feed_lines_total Lines written, by feed output.\n"
		     "# TYPE dicomon_feed_lines_total counter\n");
	for (i = 0; i < DM_FEED_OUT_MAX; i++)
		fprintf(out, "dicomon_feed_lines_total{output=\"%s\"} %llu\n",
			dm_feed_output_name(i), (unsigned long long)fs->out[i].lines);
	fprintf(out, "# HELP dicomon_feed_dropped_lines_total Lines dropped, by feed output.\n"
		     "# TYPE dicomon_feed_dropped_lines_total counter\n");
	for (i = 0; i < DM_FEED_OUT_MAX; i++)
		fprintf(out, "dicomon_feed_dropped_lines_total{output=\"%s\"} %llu\n",
			dm_feed_output_name(i), (unsigned long long)fs->out[i].dropped);
	gauge(out, "rules_learned_ae_titles", "gauge", "AE titles learned by the rules.",
	      rs->learned_titles);
	fprintf(out, "# HELP dicomon_alerts_total Alerts raised by the rules, by signature and "
		     "severity (1 high .. 3 low), before the feed's rate limit.\n"
		     "# TYPE dicomon_alerts_total counter\n");
	for (i = 0; i < n_ac; i++)
		fprintf(
		    out,
		    "dicomon_alerts_total{signature_id=\"%u\",signature=\"%s\",severity=\"%d\"} "
		    "%llu\n",
		    ac[i].sid, ac[i].signature, ac[i].severity, (unsigned long long)ac[i].n);
	kcount_metrics(out, k);
	{
		const struct dm_http_asm_stats *hs = dm_pipeline_http_stats(p);

		gauge(out, "http_requests_parsed_total", "counter",
		      "HTTP requests to the web ports put together from their events and parsed.",
		      hs->requests);
		fprintf(out,
			"# HELP dicomon_http_requests_cut_total HTTP requests parsed before their "
			"request line was complete: the table of requests held was full (evicted), "
			"the age bound passed (expired), bytes in between never came (gap).\n"
			"# TYPE dicomon_http_requests_cut_total counter\n"
			"dicomon_http_requests_cut_total{reason=\"evicted\"} %llu\n"
			"dicomon_http_requests_cut_total{reason=\"expired\"} %llu\n"
			"dicomon_http_requests_cut_total{reason=\"gap\"} %llu\n",
			(unsigned long long)hs->evicted, (unsigned long long)hs->expired,
			(unsigned long long)hs->gaps);
	}
	gauge(out, "table_insert_failures_total", "counter",
	      "Associations userspace could not add to its table (full and nothing to evict).",
	      es->assoc_table_full);
	if (dm_pipeline_evidence(p)) {
		const struct dm_evidence_stats *vs = dm_evidence_stats(dm_pipeline_evidence(p));

		gauge(out, "evidence_files_total", "counter",
		      "Evidence pcaps written (one per alerted association).", vs->files);
		gauge(out, "evidence_frames_written_total", "counter",
		      "Frames written to evidence pcaps.", vs->written);
		gauge(out, "evidence_frames_dropped_total", "counter",
		      "Evidence frames not kept (memory bound, malformed).", vs->dropped);
		gauge(out, "evidence_write_errors_total", "counter",
		      "Evidence pcaps that could not be created or written.", vs->write_errors);
	}
	memset(active, 0, sizeof(active));
	dm_table_foreach(dm_pipeline_table(p), count_active, active);
	dm_am_write(out, dm_pipeline_assoc_metrics(p), active);
	dm_attach_write_metrics(out, k->l);
	return ferror(out) ? -EIO : 0;
}


json_object *dm_counters_status_table(const struct dm_pipeline *p)
{
	const struct dm_table_stats *ts = dm_table_stats(dm_pipeline_table(p));
	json_object *t = json_object_new_object();

	json_object_object_add(t, "active", json_object_new_int64(ts->active));
	json_object_object_add(t, "finished", json_object_new_int64(ts->finished));
	json_object_object_add(t, "created", json_object_new_int64(ts->created));
	json_object_object_add(t, "evicted_active", json_object_new_int64(ts->evicted_active));
	json_object_object_add(t, "evicted_finished", json_object_new_int64(ts->evicted_finished));
	json_object_object_add(t, "expired", json_object_new_int64(ts->expired));
	json_object_object_add(t, "pdus_decoded", json_object_new_int64(ts->pdus_decoded));
	json_object_object_add(t, "pdus_broken", json_object_new_int64(ts->pdus_broken));
	json_object_object_add(t, "violations", json_object_new_int64(ts->violations));
	return t;
}
