// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `dicomon run`: load (reusing the pinned state), attach, then one event
 * loop: a signalfd (SIGHUP reload, SIGUSR1 counters, SIGINT/SIGTERM stop),
 * a timerfd that drains the ring buffer, a timerfd for periodic counters, and
 * the ring buffer's own epoll fd. No work in signal handlers, no sleeps.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "output/assoc_metrics.h"
#include "output/attach_metrics.h"
#include "lib/clock.h"
#include "cmd/daemon.h"
#include "core/events.h"
#include "output/evidence.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "output/metrics.h"
#include "output/feed.h"
#include "assoc/httpasm.h"
#include "kern/kcount.h"
#include "detect/rules.h"
#include "output/stats.h"
#include "cmd/status.h"
#include "assoc/table.h"
#include "kern/tcorder.h"

/* The BPF side wakes us only for a backlog; between wakeups we drain on this tick. */
#define DRAIN_INTERVAL_NS (100 * 1000 * 1000ULL)
#define NSEC_PER_SEC	  1000000000ULL
/* What runs ahead of our TC programs is checked every this many drain ticks (10 s). */
#define TC_ORDER_TICKS (10 * NSEC_PER_SEC / DRAIN_INTERVAL_NS)

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	n = strlen(path);
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = 0; /* abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + n) < 0)
		pr_debug("sd_notify %s: %s\n", msg, strerror(errno));
	close(fd);
}

static json_object *json_ifaces(const struct dm_loader *l)
{
	json_object *ifs = json_object_new_array(), *i;
	const char *tc;
	int n, d;

	for (n = 0; n < l->n_ifaces; n++) {
		i = json_object_new_object();
		json_object_object_add(i, "name", json_object_new_string(l->ifaces[n].name));
		json_object_object_add(
		    i, "xdp",
		    l->ifaces[n].xdp_mode ? json_object_new_string(l->ifaces[n].xdp_mode) : NULL);
		/* What XDP sees of VLAN tags: "stripped+in-packet", "in-packet", "hidden". */
		json_object_object_add(
		    i, "xdp_vlan_tags",
		    !l->ifaces[n].xdp_mode ? NULL
		    : l->ifaces[n].meta    ? json_object_new_string("stripped+in-packet")
		    : l->ifaces[n].vlan_hidden ? json_object_new_string("hidden")
					       : json_object_new_string("in-packet"));
		json_object_object_add(i, "xdp_vlan_note",
				       l->ifaces[n].xdp_mode && l->ifaces[n].vlan_why
					   ? json_object_new_string(l->ifaces[n].vlan_why)
					   : NULL);
		for (d = 0; d < 2; d++) {
			tc = dm_loader_tc_kind(&l->ifaces[n], d);
			json_object_object_add(i, d ? "tc_egress" : "tc_ingress",
					       tc ? json_object_new_string(tc) : NULL);
			json_object_object_add(
			    i, d ? "tc_egress_ahead" : "tc_ingress_ahead",
			    tc ? json_object_new_int(l->ifaces[n].tc_order[d].ahead) : NULL);
		}
		json_object_object_add(i, "slot", json_object_new_int(l->ifaces[n].slot));
		json_object_array_add(ifs, i);
	}
	return ifs;
}

static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	fflush(stdout);
}

static void print_ifaces_text(const struct dm_loader *l, const char *what)
{
	const struct dm_iface *ifc;
	int n;

	for (n = 0; n < l->n_ifaces; n++) {
		ifc = &l->ifaces[n];
		printf("dicomon: %s %s (xdp %s%s%s%s%s)\n", what, ifc->name,
		       ifc->xdp_mode ? ifc->xdp_mode : "off",
		       dm_loader_tc_kind(ifc, 0) ? ", tc ingress " : "",
		       dm_loader_tc_kind(ifc, 0) ? dm_loader_tc_kind(ifc, 0) : "",
		       dm_loader_tc_kind(ifc, 1) ? ", tc egress " : "",
		       dm_loader_tc_kind(ifc, 1) ? dm_loader_tc_kind(ifc, 1) : "");
	}
	fflush(stdout);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_ready(const struct dm_daemon *d)
{
	json_object *o, *t;

	pr_info("ready %.3f s after start (programs loaded at %.3f s, attached at %.3f s)\n",
		d->start_ready_s, d->start_load_s, d->start_attach_s);
	if (!d->cfg.json) {
		print_ifaces_text(&d->l, "watching");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("ready"));
	json_object_object_add(o, "interfaces", json_ifaces(&d->l));
	json_object_object_add(o, "pin_root", json_object_new_string(d->l.pin_root));
	json_object_object_add(o, "state",
			       json_object_new_string(d->l.restored ? "restored" : "new"));
	t = json_object_new_object();
	json_object_object_add(t, "load_seconds", json_object_new_double(d->start_load_s));
	json_object_object_add(t, "attach_seconds",
			       json_object_new_double(d->start_attach_s - d->start_load_s));
	json_object_object_add(t, "ready_seconds", json_object_new_double(d->start_ready_s));
	json_object_object_add(o, "startup", t);
	print_json(o);
}

static void print_reload(const struct dm_daemon *d, int err, const char *msg, json_object *restart)
{
	json_object *o;

	if (!d->cfg.json) {
		if (err)
			printf("dicomon: reload failed: %s\n", msg);
		else
			print_ifaces_text(&d->l, "reloaded: watching");
		json_object_put(restart);
		fflush(stdout);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("reload"));
	json_object_object_add(o, "ok", json_object_new_boolean(!err));
	json_object_object_add(o, "error", err ? json_object_new_string(msg) : NULL);
	json_object_object_add(o, "interfaces", json_ifaces(&d->l));
	json_object_object_add(o, "restart_needed", restart);
	print_json(o);
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* dm_cands now: held, and evicted by its LRU (no kernel counter sees those). */
static json_object *cands_json(struct dm_daemon *d)
{
	json_object *c = json_object_new_object();
	struct dm_stats total;

	dm_kcount_update(&d->kc, &d->l, true);
	add_u64(c, "held", d->kc.cands_held);
	if (!dm_stats_read(dm_loader_stats_fd(&d->l), d->l.ncpus, -1, &total))
		add_u64(c, "evicted", dm_kcount_cands_evicted(&d->kc, &total));
	return c;
}

/* HTTP requests put together from their events (httpasm.c). */
static json_object *http_json(struct dm_daemon *d)
{
	const struct dm_http_asm_stats *hs = dm_events_http_stats(d->ev);
	json_object *h = json_object_new_object();

	add_u64(h, "requests", hs->requests);
	add_u64(h, "evicted", hs->evicted);
	add_u64(h, "expired", hs->expired);
	add_u64(h, "gaps", hs->gaps);
	add_u64(h, "orphans", hs->orphans);
	return h;
}

/* The counters: the kernel's, then the table's, the rules' and the feed's. */
void dm_daemon_print_stats(struct dm_daemon *d)
{
	const struct dm_table_stats *ts = dm_table_stats(dm_events_table(d->ev));
	const struct dm_rules_stats *rs = dm_rules_stats(d->rules);
	const struct dm_feed_stats *fs = dm_feed_stats(d->feed);
	json_object *x = json_object_new_object(), *t = json_object_new_object();
	json_object *r = json_object_new_object(), *f = json_object_new_object();
	char k[64];
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
		snprintf(k, sizeof(k), "%s_lines", dm_feed_output_name(i));
		add_u64(f, k, fs->out[i].lines);
		snprintf(k, sizeof(k), "%s_dropped", dm_feed_output_name(i));
		add_u64(f, k, fs->out[i].dropped);
		snprintf(k, sizeof(k), "%s_errors", dm_feed_output_name(i));
		add_u64(f, k, fs->out[i].errors);
	}
	json_object_object_add(x, "table", t);
	json_object_object_add(x, "rules", r);
	json_object_object_add(x, "feed", f);
	json_object_object_add(x, "candidates", cands_json(d));
	json_object_object_add(x, "http", http_json(d));
	if (d->evidence) {
		const struct dm_evidence_stats *es = dm_evidence_stats(d->evidence);
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
	dm_stats_print(&d->l, dm_events_stats(d->ev), x, d->cfg.json, stdout);
	json_object_put(x);
}

static void drain(struct dm_daemon *d)
{
	if (d->rb && ring_buffer__consume(d->rb) < 0)
		pr_warn("ring buffer dm_events: consume failed\n");
}

/* SIGHUP: the file again, then the same command line over it. */
static void reload(struct dm_daemon *d)
{
	json_object *restart = json_object_new_array();
	char err[1024], a[256], b[256];
	struct dm_config n;
	size_t i;
	int e;

	notify("RELOADING=1");
	d->reloads++;
	if (!d->cli->config)
		pr_info("reload: no config file (-c): the command line is all there is\n");
	/* Events queued for the old program belong to it: print them first. */
	drain(d);
	e = dm_cli_config(d->cli, &n, true, err, sizeof(err));
	if (e) {
		pr_err("reload: %s; keeping the running configuration\n", err);
		print_reload(d, e, err, restart);
		notify("READY=1");
		return;
	}
	for (i = 0; i < dm_n_keys; i++) {
		if (!(dm_keys[i].flags & DM_KF_RESTART) || dm_key_equal(&d->cfg, &n, &dm_keys[i]))
			continue;
		dm_key_format(&d->cfg, &dm_keys[i], a, sizeof(a));
		dm_key_format(&n, &dm_keys[i], b, sizeof(b));
		pr_warn("reload: %s changed (%s -> %s): needs a restart; keeping %s\n",
			dm_keys[i].name, a, b, a);
		json_object_array_add(restart, json_object_new_string(dm_keys[i].name));
		dm_key_copy(&n, &d->cfg, &dm_keys[i]);
	}
	if (n.vlan_key != d->cfg.vlan_key)
		pr_warn("reload: detection.vlan_key changed: associations in progress are keyed "
			"the old way and are picked up again (or lost) under the new key\n");
	e = dm_loader_reload(&d->l, &d->cfg, &n);
	if (e) {
		snprintf(err, sizeof(err), "%s; the running configuration is unchanged",
			 strerror(-e));
		print_reload(d, e, err, restart);
		notify("READY=1");
		return;
	}
	if (d->cli->learn_out) { /* still learning after a reload */
		n.learn_s = 366 * 86400;
		n.ae_allowlist[0] = 0;
	}
	if (dm_rules_configure(d->rules, &n, err, sizeof(err)))
		pr_warn("reload: rules: %s (keeping the running policy)\n", err);
	dm_feed_configure(d->feed, &n);
	d->cfg = n;
	dm_table_set_limits(dm_events_table(d->ev), n.table_max_assoc, n.table_keep_finished_s);
	dm_log_set_level(n.log_level);
	dm_loop_timer_set(d->stats_fd, (uint64_t)n.stats_interval_s * NSEC_PER_SEC);
	pr_info("reload %u done\n", d->reloads);
	print_reload(d, 0, NULL, restart);
	notify("READY=1");
}

static void on_signal(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			drain(d);
			dm_daemon_print_stats(d);
			break;
		case SIGHUP:
			/* First: logrotate needs the new file even when the new config is bad. */
			dm_feed_reopen(d->feed);
			reload(d);
			break;
		default:
			pr_info("%s: stopping\n", strsignal(si.ssi_signo));
			dm_loop_stop(lp, 0);
		}
	}
}

static void on_drain(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;

	(void)lp, (void)fd, (void)events;
	drain(d);
	dm_events_tick(d->ev, dm_clock_now_ns()); /* HTTP requests held past their age */
	dm_feed_tick(d->feed); /* reconnects, buffered socket output */
	if (fd == d->drain_fd) {
		dm_metrics_tick(d->metrics); /* idle scrape connections time out */
		if (++d->drain_ticks % TC_ORDER_TICKS == 0)
			dm_tcorder_check_all(&d->l);
	}
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
static void kcount_metrics(FILE *out, struct dm_daemon *d)
{
	struct dm_stats total;

	dm_kcount_update(&d->kc, &d->l, false);
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
	    (unsigned long long)d->kc.slots_used, (unsigned long long)d->kc.overflow_used,
	    d->l.flow_slots, d->l.overflow_entries);
	dm_metrics_head(out, "candidates_held", "gauge",
			"Flows held as candidates in dm_cands now (maps.candidate_entries at most), "
			"counted at most every 10 s.");
	fprintf(out, "dicomon_candidates_held %llu\n", (unsigned long long)d->kc.cands_held);
	if (dm_stats_read(dm_loader_stats_fd(&d->l), d->l.ncpus, -1, &total))
		return;
	dm_metrics_head(out, "candidates_evicted_total", "counter",
			"Candidates the full dm_cands LRU evicted before their bytes decided "
			"(candidates - candidates_removed - held).");
	fprintf(out, "dicomon_candidates_evicted_total %llu\n",
		(unsigned long long)dm_kcount_cands_evicted(&d->kc, &total));
}

/* One scrape: the maps as they are now, then userspace's counters. */
int dm_daemon_render_metrics(FILE *out, void *ctx)
{
	struct dm_metrics_iface ifs[DM_MAX_IFACES];
	uint64_t active[DM_TRANSPORT_MAX];
	struct dm_daemon *d = ctx;
	const struct dm_event_stats *es;
	const struct dm_table_stats *ts;
	const struct dm_rules_stats *rs;
	const struct dm_feed_stats *fs;
	int i, err, fd = dm_loader_stats_fd(&d->l);

	drain(d); /* counts include what is queued */
	es = dm_events_stats(d->ev);
	ts = dm_table_stats(dm_events_table(d->ev));
	rs = dm_rules_stats(d->rules);
	fs = dm_feed_stats(d->feed);
	for (i = 0; i < d->l.n_ifaces && i < DM_MAX_IFACES; i++) {
		ifs[i].name = d->l.ifaces[i].name;
		err = dm_stats_read(fd, d->l.ncpus, d->l.ifaces[i].slot, &ifs[i].s);
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
	      "Association PDUs rebuilt whole and decoded in userspace.", es->pdus_decoded);
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
	for (i = 0; i < d->n_alert_sids; i++)
		fprintf(
		    out,
		    "dicomon_alerts_total{signature_id=\"%u\",signature=\"%s\",severity=\"%d\"} "
		    "%llu\n",
		    d->alert_sids[i].sid, d->alert_sids[i].signature, d->alert_sids[i].severity,
		    (unsigned long long)d->alert_sids[i].n);
	kcount_metrics(out, d);
	{
		const struct dm_http_asm_stats *hs = dm_events_http_stats(d->ev);

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
	if (d->evidence) {
		const struct dm_evidence_stats *vs = dm_evidence_stats(d->evidence);

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
	dm_table_foreach(dm_events_table(d->ev), count_active, active);
	dm_am_write(out, dm_events_assoc_metrics(d->ev), active);
	dm_attach_write_metrics(out, &d->l);
	return ferror(out) ? -EIO : 0;
}

static void on_stats(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;

	(void)lp, (void)fd, (void)events;
	drain(d);
	dm_daemon_print_stats(d);
}

/* --learn: what was seen, as an allow-list an operator reviews and loads. */
static void write_allowlist(const struct dm_rules *r, const char *path)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f) {
		pr_err("cannot write the learned allow-list %s: %s\n", path, strerror(errno));
		return;
	}
	err = dm_rules_write_allowlist(r, f);
	if (fclose(f) || err) {
		pr_err("cannot write the learned allow-list %s: %s\n", path, strerror(errno));
		return;
	}
	pr_info("learned AE titles written to %s\n", path);
}

/* A rule fired: to the feed, which rate-limits and writes it (and owns a->details). */
void dm_daemon_on_alert(void *ctx, const struct dm_rec *rec, const struct dm_alert *a)
{
	struct dm_daemon *d = ctx;
	int i;

	const char *ifname = rec	  ? dm_loader_ifname(&d->l, rec->ifindex)
			     : a->pkt_key ? dm_loader_ifname(&d->l, a->pkt_ifindex)
					  : NULL;

	for (i = 0; i < d->n_alert_sids &&
		    (d->alert_sids[i].sid != a->sid || d->alert_sids[i].severity != a->severity);
	     i++)
		;
	if (i == d->n_alert_sids && i < (int)(sizeof(d->alert_sids) / sizeof(d->alert_sids[0]))) {
		d->alert_sids[i].sid = a->sid;
		d->alert_sids[i].severity = a->severity;
		d->alert_sids[i].signature = a->signature;
		d->n_alert_sids++;
	}
	if (i < d->n_alert_sids)
		d->alert_sids[i].n++;
	if (d->evidence && rec) {
		const char *path = dm_evidence_alert(d->evidence, rec->id);

		if (path && a->details)
			json_object_object_add(a->details, "evidence", json_object_new_string(path));
	}
	dm_feed_alert(d->feed, rec, ifname, a);
}

/* Frames kept in memory for evidence, at most (oldest unalerted associations go first). */
#define EVIDENCE_MAX_BYTES (64ULL << 20)

int dm_daemon_evidence_setup(struct dm_daemon *d)
{
	char err[512];

	if (!d->cfg.evidence_dir[0])
		return 0;
	if (dm_evidence_prepare_dir(d->cfg.evidence_dir, err, sizeof(err))) {
		pr_err("%s\n", err);
		return DM_EXIT_USAGE;
	}
	d->evidence = dm_evidence_new(d->cfg.evidence_dir, EVIDENCE_MAX_BYTES);
	if (!d->evidence)
		return DM_EXIT_RUNTIME;
	dm_events_set_evidence(d->ev, d->evidence);
	pr_info("evidence: pcaps of alerted associations in %s (first %u frames each, data sets "
		"and user identities zeroed)\n",
		d->cfg.evidence_dir, d->cfg.evidence_packets);
	return 0;
}

static void on_status(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;

	(void)lp, (void)fd, (void)events;
	drain(d); /* the snapshot includes what is queued */
	dm_status_server_handle(d->status, &d->l, d->ev);
}

static int setup_loop(struct dm_daemon *d, const sigset_t *mask)
{
	int err;

	d->loop = dm_loop_new();
	d->sig_fd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->rb = ring_buffer__new(dm_loader_events_fd(&d->l), dm_events_handle, d->ev, NULL);
	if (!d->loop || d->sig_fd < 0 || !d->rb) {
		err = -errno;
		pr_err("cannot set up the event loop: %s\n", strerror(errno));
		return err ? err : -ENOMEM;
	}
	err = dm_loop_add(d->loop, d->sig_fd, EPOLLIN, on_signal, d);
	if (!err)
		err = dm_loop_add(d->loop, ring_buffer__epoll_fd(d->rb), EPOLLIN, on_drain, d);
	if (!err) {
		d->drain_fd = dm_loop_add_timer(d->loop, DRAIN_INTERVAL_NS, on_drain, d);
		err = d->drain_fd < 0 ? d->drain_fd : 0;
	}
	if (!err) {
		d->stats_fd = dm_loop_add_timer(
		    d->loop, (uint64_t)d->cfg.stats_interval_s * NSEC_PER_SEC, on_stats, d);
		err = d->stats_fd < 0 ? d->stats_fd : 0;
	}
	if (err) {
		pr_err("cannot set up the event loop: %s\n", strerror(-err));
		return err;
	}
	/* Subsystems with fds of their own start here (dm_loop_add). */
	dm_table_set_limits(dm_events_table(d->ev), d->cfg.table_max_assoc,
			    d->cfg.table_keep_finished_s);
	if (d->cfg.status_socket[0]) {
		err = dm_status_server_open(d->cfg.status_socket, &d->status);
		if (!err)
			err = dm_loop_add(d->loop, dm_status_server_fd(d->status), EPOLLIN,
					  on_status, d);
		if (err)
			pr_err("status socket %s: %s\n", d->cfg.status_socket, strerror(-err));
	}
	if (!err)
		err =
		    dm_metrics_open(d->cfg.metrics_listen, d->loop, dm_daemon_render_metrics, d, &d->metrics);
	return err;
}

static void teardown_loop(struct dm_daemon *d)
{
	dm_metrics_close(d->metrics, d->loop);
	d->metrics = NULL;
	dm_status_server_close(d->status);
	d->status = NULL;
	dm_loop_free(d->loop);
	ring_buffer__free(d->rb);
	if (d->drain_fd >= 0)
		close(d->drain_fd);
	if (d->stats_fd >= 0)
		close(d->stats_fd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
}

/* With --json a failed start is a JSON line too: {"event":"error",...} on stdout. */
static int fail_json(const struct dm_daemon *d, int rc)
{
	json_object *o;

	if (!d->cfg.json)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("error"));
	json_object_object_add(o, "error", json_object_new_string(dm_log_last_error()));
	json_object_object_add(o, "exit_code", json_object_new_int(rc));
	print_json(o);
	return rc;
}

int dm_daemon_run(const struct dm_cli *cli)
{
	struct dm_daemon *d = calloc(1, sizeof(*d));
	double t0 = mono_s();
	int rc = 0, err, i;
	char msg[1024];
	sigset_t mask;

	if (!d)
		return DM_EXIT_RUNTIME;
	d->cli = cli;
	d->sig_fd = d->drain_fd = d->stats_fd = -1;
	if (dm_cli_config(cli, &d->cfg, true, msg, sizeof(msg))) {
		pr_err("%s\n", msg);
		/* The file may be what is wrong: --json on the command line still counts. */
		for (i = 0; i < cli->n_sets; i++)
			if (!strcmp(cli->sets[i].key->name, "output.json"))
				d->cfg.json = dm_parse_bool(cli->sets[i].value) == 1;
		rc = fail_json(d, DM_EXIT_USAGE);
		free(d);
		return rc;
	}
	dm_log_set_level(d->cfg.log_level);
	dm_log_init_libbpf();
	/* Blocked before anything is attached: a SIGTERM during load detaches cleanly. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	err = dm_loader_open(&d->l, &d->cfg, cli->reset_state);
	if (err) {
		rc = d->l.state_unusable ? DM_EXIT_STATE : DM_EXIT_BPF;
		goto out;
	}
	d->start_load_s = mono_s() - t0;
	if (dm_loader_attach(&d->l, &d->cfg)) {
		rc = DM_EXIT_BPF;
		goto out_close;
	}
	d->start_attach_s = mono_s() - t0;
	d->ev = dm_events_new(&d->l, d->cfg.json, stdout);
	d->feed = dm_feed_new();
	if (!d->ev || !d->feed) {
		rc = DM_EXIT_RUNTIME;
		goto out_loop;
	}
	dm_feed_configure(d->feed, &d->cfg); /* a failing output is logged, not fatal */
	if (cli->learn_out) {
		/* Learn everything this run sees; judge nothing against an old list. */
		d->cfg.learn_s = 366 * 86400;
		d->cfg.ae_allowlist[0] = 0;
	}
	d->rules = dm_rules_new(&d->cfg, dm_daemon_on_alert, d, msg, sizeof(msg));
	if (!d->rules) {
		pr_err("rules: %s\n", msg);
		rc = DM_EXIT_USAGE;
		goto out_loop;
	}
	dm_events_set_feed(d->ev, d->feed);
	dm_events_set_rules(d->ev, d->rules);
	rc = dm_daemon_evidence_setup(d);
	if (rc)
		goto out_loop;
	if (setup_loop(d, &mask)) {
		rc = DM_EXIT_RUNTIME;
		goto out_loop;
	}
	d->start_ready_s = mono_s() - t0;
	print_ready(d);
	notify("READY=1");
	if (dm_loop_run(d->loop) < 0)
		rc = DM_EXIT_RUNTIME;
	notify("STOPPING=1");
	/* What is still in the ring belongs to this run, and the HTTP requests held. */
	drain(d);
	dm_events_flush(d->ev);
	dm_daemon_print_stats(d);
out_loop:
	teardown_loop(d);
out_close:
	if (!d->cfg.detach_on_exit && d->l.pin_links && !rc) {
		pr_info("leaving %d interface(s) attached (state.detach_on_exit false); "
			"`dicomon detach` removes them\n",
			d->l.n_ifaces);
		dm_loader_release(&d->l);
	} else {
		dm_loader_close(&d->l);
	}
	dm_events_free(d->ev);
	if (cli->learn_out && d->rules)
		write_allowlist(d->rules, cli->learn_out);
	dm_rules_free(d->rules);
	dm_feed_free(d->feed);
	dm_evidence_free(d->evidence);
out:
	if (rc && rc != DM_EXIT_USAGE)
		fail_json(d, rc);
	free(d);
	return rc;
}
