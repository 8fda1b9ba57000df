// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `dicomon run`: load (reusing the pinned state), attach, then one event
 * loop: a signalfd (SIGHUP reload, SIGUSR1 counters, SIGINT/SIGTERM stop),
 * a timerfd that drains the ring buffer, a timerfd for periodic counters, and
 * the ring buffer's own epoll fd. No work in signal handlers, no sleeps.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "config/webcfg.h"
#include "lib/safefile.h"
#include "kern/flows.h"
#include "kern/hooks.h"
#include "kern/kcount.h"
#include "kern/loader.h"
#include "kern/tcorder.h"
#include "kern/tcwatch.h"
#include "detect/rules.h"
#include "output/metrics.h"
#include "core/counters.h"
#include "core/pipeline.h"
#include "cmd/daemon.h"
#include "cmd/status.h"

/* The BPF side wakes us only for a backlog; between wakeups we drain on this tick. */
#define DRAIN_INTERVAL_NS (100 * 1000 * 1000ULL)
#define NSEC_PER_SEC	  1000000000ULL
/* What runs ahead of our TC programs is checked every this many drain ticks (10 s). */
#define TC_ORDER_TICKS (10 * NSEC_PER_SEC / DRAIN_INTERVAL_NS)
/* The kernel is asked whether our programs are still on their hooks every 5 s. */
#define HOOK_TICKS (5 * NSEC_PER_SEC / DRAIN_INTERVAL_NS)

/* A reload's commit in steps: how many, how long, the longest. */
struct dm_commit_stats {
	unsigned int steps, tail; /* tail: the daemon's steps after the loader's */
	int max_ops;		  /* the most attachment changes one step made */
	double t0, busy_s, max_s; /* start (monotonic), time in steps, the longest */
	char max_what[64];	  /* what the longest step did */
};

/*
 * The running daemon: the loader's maps and attachments, the pipeline, and
 * what the loop watches. Subsystems with descriptors of their own (the status
 * socket, the metrics listener) start in setup_loop() once the loop exists.
 */
struct dm_daemon {
	const struct dm_cli *cli; /* re-applied over the file on SIGHUP */
	struct dm_config cfg;	  /* what runs */
	struct dm_loader l;
	struct dm_pipeline *p;
	struct ring_buffer *rb;
	struct dm_loop *loop;
	struct dm_status_server *status; /* `dicomon status` answers here */
	struct dm_metrics *metrics;	 /* the Prometheus endpoint, NULL if off */
	struct dm_webcfg *web;		 /* its TLS and users (metrics.web_config_file) */
	struct dm_kcount kc;		 /* entries of the kernel's tables, counted every 10 s */
	int sig_fd, drain_fd, stats_fd;
	unsigned int reloads;
	/*
	 * A reload whose new program is being loaded (verified) by reload_thread
	 * while the loop goes on; reload_fd (an eventfd) says when it is done.
	 * Then its commit runs in steps, one per run of step_fd's handler (an
	 * eventfd it writes to again while there is more): the loop drains the
	 * ring buffer between them.
	 */
	int reload_fd, step_fd;
	pthread_t reload_thread;
	struct dm_reload_prep *prep;   /* non-NULL while one is prepared */
	struct dm_reload_prep *commit; /* non-NULL while one is committed */
	struct dm_commit_stats cs;     /* that commit's steps */
	struct dm_config reload_cfg;   /* what it applies */
	json_object *reload_restart;   /* keys that need a restart, for its report */
	bool reload_queued;	       /* a SIGHUP came meanwhile: one more after it */
	uint64_t drain_ticks; /* the drain timer's, for the TC order check (tcorder.c) */
	double start_load_s, start_attach_s, start_ready_s; /* from start: loaded, attached, ready */
};

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

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each hook's program id as the kernel showed it, verified (hooks.c). */
static json_object *json_progs(const struct dm_iface *ifc)
{
	json_object *o = json_object_new_object();
	__u32 seen;
	int a;

	for (a = 0; a < DM_ATT_MAX; a++)
		if (ifc->prog_fd[a] >= 0 && dm_hook_ours(ifc, a, &seen) == 1)
			json_object_object_add(o, dm_att_name(a), json_object_new_int64(seen));
	return o;
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
		json_object_object_add(i, "programs", json_progs(&l->ifaces[n]));
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

static void print_ready(const struct dm_daemon *d)
{
	struct timespec now;
	json_object *o, *t;

	pr_info("ready %.3f s after start (programs loaded at %.3f s, attached at %.3f s)\n",
		d->start_ready_s, d->start_load_s, d->start_attach_s);
	if (!d->cfg.json) {
		print_ifaces_text(&d->l, "watching");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("ready"));
	/* Wall time (Unix seconds) at which every hook was verified ours: watching from here. */
	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(o, "time", json_object_new_double(now.tv_sec + now.tv_nsec / 1e9));
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

/* A commit's steps, for the reload event (seconds: from its first step to its end). */
static json_object *json_commit(const struct dm_commit_stats *cs)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "steps", json_object_new_int(cs->steps));
	json_object_object_add(o, "seconds", json_object_new_double(mono_s() - cs->t0));
	json_object_object_add(o, "busy_seconds", json_object_new_double(cs->busy_s));
	json_object_object_add(o, "longest_step_seconds", json_object_new_double(cs->max_s));
	json_object_object_add(o, "longest_step", json_object_new_string(cs->max_what));
	json_object_object_add(o, "max_attachment_changes_per_step",
			       json_object_new_int(cs->max_ops));
	return o;
}

/* cs: the commit's steps, NULL if the reload failed before its commit. */
static void print_reload(const struct dm_daemon *d, int err, const char *msg, json_object *restart,
			 const struct dm_commit_stats *cs)
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
	json_object_object_add(o, "commit", cs ? json_commit(cs) : NULL);
	print_json(o);
}

static void drain(struct dm_daemon *d)
{
	if (d->rb && ring_buffer__consume(d->rb) < 0)
		pr_warn("ring buffer dm_events: consume failed\n");
}

static void print_stats(struct dm_daemon *d)
{
	struct dm_kside k = {&d->l, &d->kc, d->loop, d->metrics};

	dm_counters_print_stats(stdout, d->p, &k, d->cfg.json);
}

/* One scrape: what is queued first, so the counts include it. */
static int render_metrics(FILE *out, void *ctx)
{
	struct dm_daemon *d = ctx;
	struct dm_kside k = {&d->l, &d->kc, d->loop, d->metrics};

	drain(d);
	return dm_counters_prometheus(out, d->p, &k);
}

static const char *ifname(void *ctx, uint32_t ifindex)
{
	return dm_loader_ifname(ctx, ifindex);
}

static void reload_failed(struct dm_daemon *d, int e, const char *msg, json_object *restart)
{
	print_reload(d, e, msg, restart, NULL);
	notify("READY=1");
}

/* The configuration the commit applies, now that the kernel side runs it. */
static void reload_apply(struct dm_daemon *d)
{
	struct dm_config n = d->reload_cfg;
	char err[1024];

	if (d->cli->learn_out) { /* still learning after a reload */
		n.learn_s = 366 * 86400;
		n.ae_allowlist[0] = 0;
	}
	if (dm_pipeline_configure(d->p, &n, err, sizeof(err)))
		pr_warn("reload: %s (keeping the running policy)\n", err);
	d->cfg = d->reload_cfg;
	dm_log_set_level(d->cfg.log_level);
	dm_loop_timer_set(d->stats_fd, (uint64_t)d->cfg.stats_interval_s * NSEC_PER_SEC);
}

/* The commit's end: e 0 (applied) or -errno (nothing changed); its report. */
static void commit_end(struct dm_daemon *d, int e, bool ready)
{
	json_object *restart = d->reload_restart;
	const struct dm_commit_stats *cs = &d->cs;
	char err[1024];

	d->reload_restart = NULL;
	dm_reload_prep_free(d->commit);
	d->commit = NULL;
	pr_info("reload %u %s: commit in %u steps over %.1f ms (%.1f ms in them; the longest "
		"%.1f ms: %s; at most %d attachment change(s) in one)\n",
		d->reloads, e ? "failed" : "done", cs->steps, (mono_s() - cs->t0) * 1e3,
		cs->busy_s * 1e3, cs->max_s * 1e3, cs->max_what, cs->max_ops);
	snprintf(err, sizeof(err), "%s; the running configuration is unchanged", strerror(-e));
	print_reload(d, e, e ? err : NULL, restart, cs);
	if (ready)
		notify("READY=1");
}

/* One more commit step, in a later loop turn: what is ready meanwhile runs first. */
static void commit_kick(struct dm_daemon *d)
{
	uint64_t one = 1;

	if (write(d->step_fd, &one, sizeof(one)) != sizeof(one))
		pr_err("reload: cannot schedule the next step: %s\n", strerror(errno));
}

/* The reload's second half, in the loop: its commit starts (p: plan, then prepare). */
static void commit_start(struct dm_daemon *d, struct dm_reload_prep *p)
{
	char err[1024];
	int e = dm_reload_prep_err(p);

	if (e) {
		dm_reload_prep_free(p);
		snprintf(err, sizeof(err), "%s; the running configuration is unchanged",
			 strerror(-e));
		reload_failed(d, e, err, d->reload_restart);
		d->reload_restart = NULL;
		return;
	}
	/* Events queued for the old program belong to it: print them first. */
	drain(d);
	memset(&d->cs, 0, sizeof(d->cs));
	d->cs.t0 = mono_s();
	d->commit = p;
	commit_kick(d);
}

/* One commit step: the loader's (links, interfaces), then the hooks, then the pipeline. */
static int commit_step(struct dm_daemon *d, const char **what, int *ops)
{
	int r;

	*ops = 0;
	switch (d->cs.tail) {
	case 0:
		r = dm_reload_step(&d->l, d->commit);
		*what = dm_reload_step_what(d->commit, ops);
		if (!r)
			d->cs.tail = r = 1;
		return r;
	case 1:
		if (dm_hooks_verify(&d->l))
			pr_warn("reload: not every hook runs dicomon's program (above); "
				"dicomon_hook_attached says which\n");
		*what = "hooks verified";
		d->cs.tail = 2;
		return 1;
	default:
		reload_apply(d);
		*what = "pipeline configured";
		return 0;
	}
}

static void reload(struct dm_daemon *d);

/* step_fd: one step of the commit; the next one in a later loop turn. */
static void on_commit_step(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;
	struct dm_commit_stats *cs = &d->cs;
	const char *what;
	double t0, t;
	uint64_t v;
	int r, ops;

	(void)lp, (void)events;
	if (read(fd, &v, sizeof(v)) != sizeof(v) || !d->commit)
		return;
	t0 = mono_s();
	r = commit_step(d, &what, &ops);
	t = mono_s() - t0;
	pr_debug("reload: commit step %u: %s (%d attachment change(s)), %.1f ms\n", cs->steps + 1,
		 what, ops, t * 1e3);
	cs->steps++;
	cs->busy_s += t;
	cs->max_ops = ops > cs->max_ops ? ops : cs->max_ops;
	if (t >= cs->max_s) {
		cs->max_s = t;
		snprintf(cs->max_what, sizeof(cs->max_what), "%s", what);
	}
	if (r > 0) {
		commit_kick(d);
		return;
	}
	commit_end(d, r, true);
	if (d->reload_queued) {
		d->reload_queued = false;
		reload(d);
	}
}

/* The reload thread: everything that verifies (dm_reload_prepare), then a word to the loop. */
static void *reload_worker(void *arg)
{
	struct dm_daemon *d = arg;
	uint64_t one = 1;

	dm_reload_prepare(d->prep);
	if (write(d->reload_fd, &one, sizeof(one)) != sizeof(one))
		pr_err("reload: cannot wake the event loop: %s\n", strerror(errno));
	return NULL;
}

/* The configuration a SIGHUP asks for, checked; keys that need a restart kept. 0 or -errno. */
static int reload_config(struct dm_daemon *d, struct dm_config *n, json_object *restart)
{
	char err[1024], a[256], b[256];
	size_t i;
	int e;

	e = dm_cli_config(d->cli, n, true, err, sizeof(err));
	if (e) {
		pr_err("reload: %s; keeping the running configuration\n", err);
		reload_failed(d, e, err, json_object_get(restart));
		return e;
	}
	for (i = 0; i < dm_n_keys; i++) {
		if (!(dm_keys[i].flags & DM_KF_RESTART) || dm_key_equal(&d->cfg, n, &dm_keys[i]))
			continue;
		dm_key_format(&d->cfg, &dm_keys[i], a, sizeof(a));
		dm_key_format(n, &dm_keys[i], b, sizeof(b));
		pr_warn("reload: %s changed (%s -> %s): needs a restart; keeping %s\n",
			dm_keys[i].name, a, b, a);
		json_object_array_add(restart, json_object_new_string(dm_keys[i].name));
		dm_key_copy(n, &d->cfg, &dm_keys[i]);
	}
	if (n->vlan_key != d->cfg.vlan_key)
		pr_warn("reload: detection.vlan_key changed: associations in progress are keyed "
			"the old way and are picked up again (or lost) under the new key\n");
	return 0;
}

/*
 * SIGHUP: the file again, then the same command line over it. A bad file is
 * said at once; a new program is loaded in a thread (the loop keeps draining
 * the ring buffer and serving scrapes meanwhile), then committed in steps by
 * on_commit_step(). A SIGHUP during a reload runs after it (one queued).
 */
static void reload(struct dm_daemon *d)
{
	json_object *restart;
	char err[1024];
	int e;

	if (d->prep || d->commit) {
		pr_info("reload: one is in progress; this one follows it\n");
		d->reload_queued = true;
		return;
	}
	notify("RELOADING=1");
	d->reloads++;
	if (!d->cli->config)
		pr_info("reload: no config file (-c): the command line is all there is\n");
	restart = json_object_new_array();
	if (reload_config(d, &d->reload_cfg, restart)) {
		json_object_put(restart);
		return;
	}
	e = dm_reload_plan(&d->l, &d->cfg, &d->reload_cfg, &d->prep);
	if (e) {
		snprintf(err, sizeof(err), "%s; the running configuration is unchanged",
			 strerror(-e));
		reload_failed(d, e, err, restart);
		return;
	}
	d->reload_restart = restart;
	if (!dm_reload_needs_prepare(d->prep)) { /* links and interfaces only */
		commit_start(d, d->prep);
		d->prep = NULL;
		return;
	}
	e = pthread_create(&d->reload_thread, NULL, reload_worker, d);
	if (e) {
		pr_warn("reload: no thread (%s): loading in the event loop\n", strerror(e));
		dm_reload_prepare(d->prep);
		commit_start(d, d->prep);
		d->prep = NULL;
		return;
	}
	pr_info("reload: loading the new program in a thread; events are drained meanwhile\n");
}

/* The reload thread is done: join it, and the commit's first step. */
static void on_reload_done(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;
	struct dm_reload_prep *p = d->prep;
	uint64_t v;

	(void)lp, (void)events;
	if (read(fd, &v, sizeof(v)) != sizeof(v) || !p)
		return;
	pthread_join(d->reload_thread, NULL);
	d->prep = NULL;
	commit_start(d, p);
	if (!d->commit && d->reload_queued) { /* it failed before its commit */
		d->reload_queued = false;
		reload(d);
	}
}

/*
 * Stopping during a reload. In preparation: wait for the thread, drop what it
 * made. Half committed: moved attachments go back if some were not moved yet,
 * else the rest is done, so that what is detached or left running is one
 * configuration (dm_reload_settle).
 */
static void reload_abandon(struct dm_daemon *d)
{
	int e = 0;

	if (d->commit) {
		if (!d->cs.tail)
			e = dm_reload_settle(&d->l, d->commit);
		if (!e) {
			if (d->cs.tail < 2)
				dm_hooks_verify(&d->l);
			reload_apply(d);
		}
		commit_end(d, e, false);
	}
	if (!d->prep)
		return;
	pr_info("reload: stopping; waiting for the reload thread\n");
	pthread_join(d->reload_thread, NULL);
	dm_reload_prep_free(d->prep);
	d->prep = NULL;
	json_object_put(d->reload_restart);
	d->reload_restart = NULL;
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
			print_stats(d);
			break;
		case SIGHUP:
			/* First: logrotate needs the new file even when the new config is bad. */
			dm_pipeline_reopen(d->p);
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
	dm_pipeline_tick(d->p, dm_clock_now_ns()); /* HTTP requests held, feed reconnects */
	if (fd == d->drain_fd) {
		dm_metrics_tick(d->metrics); /* idle scrape connections time out */
		if (++d->drain_ticks % TC_ORDER_TICKS == 0)
			dm_tcorder_check_all(&d->l);
		if (d->drain_ticks % HOOK_TICKS == 0)
			dm_hooks_check(&d->l);
	}
}

static void on_stats(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;

	(void)lp, (void)fd, (void)events;
	drain(d);
	print_stats(d);
}

/* --learn: what was seen, as an allow-list an operator reviews and loads. */
static void write_allowlist(const struct dm_rules *r, const char *path)
{
	char msg[512];
	int fd = dm_safe_open(path, DM_SAFE_TRUNC, 0640, msg, sizeof(msg)), err;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		if (fd >= 0) {
			snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
			close(fd);
		}
		pr_err("cannot write the learned allow-list: %s\n", msg);
		return;
	}
	err = dm_rules_write_allowlist(r, f);
	if (fclose(f) || err) {
		pr_err("cannot write the learned allow-list %s: %s\n", path, strerror(errno));
		return;
	}
	pr_info("learned AE titles written to %s\n", path);
}

static void on_status(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_daemon *d = ctx;

	(void)lp, (void)fd, (void)events;
	drain(d); /* the snapshot includes what is queued */
	dm_status_server_handle(d->status, &d->l, d->p);
}

static int setup_loop(struct dm_daemon *d, const sigset_t *mask)
{
	int err;

	d->loop = dm_loop_new();
	d->sig_fd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->rb = ring_buffer__new(dm_loader_events_fd(&d->l), dm_pipeline_event, d->p, NULL);
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
	if (!err) {
		d->reload_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = d->reload_fd < 0 ? -errno : dm_loop_add(d->loop, d->reload_fd, EPOLLIN,
							      on_reload_done, d);
	}
	if (!err) {
		d->step_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = d->step_fd < 0 ? -errno
				     : dm_loop_add(d->loop, d->step_fd, EPOLLIN, on_commit_step, d);
	}
	if (!err) { /* names for the loop's statistics (dicomon_loop_block_max_seconds) */
		dm_loop_set_name(d->loop, d->sig_fd, "signal");
		dm_loop_set_name(d->loop, ring_buffer__epoll_fd(d->rb), "ring_wakeup");
		dm_loop_set_name(d->loop, d->drain_fd, "drain_timer");
		dm_loop_set_name(d->loop, d->stats_fd, "stats_timer");
		dm_loop_set_name(d->loop, d->reload_fd, "reload_prepared");
		dm_loop_set_name(d->loop, d->step_fd, "reload_step");
	}
	if (err) {
		pr_err("cannot set up the event loop: %s\n", strerror(-err));
		return err;
	}
	/* Subsystems with fds of their own start here (dm_loop_add). */
	if (d->status) { /* opened before the load (dm_daemon_run) */
		err = dm_loop_add(d->loop, dm_status_server_fd(d->status), EPOLLIN, on_status, d);
		if (!err)
			dm_loop_set_name(d->loop, dm_status_server_fd(d->status), "status");
		if (err)
			pr_err("status socket %s: %s\n", d->cfg.status_socket, strerror(-err));
	}
	if (!err) {
		struct dm_metrics_opts mo = {d->cfg.metrics_listen, d->web,
					     d->cfg.metrics_per_address};

		err = dm_metrics_open(&mo, d->loop, render_metrics, d, &d->metrics);
	}
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
	if (d->reload_fd >= 0)
		close(d->reload_fd);
	if (d->step_fd >= 0)
		close(d->step_fd);
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

/* The configuration, or the exit code with the error printed (a JSON line with --json). */
static int configure(struct dm_daemon *d)
{
	char msg[1024];
	int i;

	if (!dm_cli_config(d->cli, &d->cfg, true, msg, sizeof(msg))) {
		/* Read once: a change needs a restart (DM_KF_RESTART), like the listener. */
		if (!d->cfg.metrics_web_config[0] || !d->cfg.metrics_listen[0] ||
		    !dm_webcfg_load(d->cfg.metrics_web_config, &d->web, msg, sizeof(msg)))
			return 0;
		msg[sizeof(msg) - 1] = 0;
		pr_err("metrics.web_config_file: %s\n", msg);
		return fail_json(d, DM_EXIT_USAGE);
	}
	pr_err("%s\n", msg);
	/* The file may be what is wrong: --json on the command line still counts. */
	for (i = 0; i < d->cli->n_sets; i++)
		if (!strcmp(d->cli->sets[i].key->name, "output.json"))
			d->cfg.json = dm_parse_bool(d->cli->sets[i].value) == 1;
	return fail_json(d, DM_EXIT_USAGE);
}

/* The kernel's association tables, for the idle timeout (the fds of the program running now). */
static int kernel_flows(void *ctx, dm_flow_fn fn, void *fn_ctx)
{
	const struct dm_loader *l = ctx;

	return dm_flows_foreach(dm_loader_flows_fd(l), dm_loader_overflow_fd(l), fn, fn_ctx);
}

/* The pipeline over the loaded maps: 0 or an exit code. */
static int build_pipeline(struct dm_daemon *d)
{
	struct dm_config cfg = d->cfg;
	char msg[1024];
	int err;

	if (d->cli->learn_out) {
		/* Learn everything this run sees; judge nothing against an old list. */
		cfg.learn_s = 366 * 86400;
		cfg.ae_allowlist[0] = 0;
	}
	err = dm_pipeline_new(&cfg, ifname, &d->l, stdout, &d->p, msg, sizeof(msg));
	if (!err)
		dm_pipeline_set_flows(d->p, kernel_flows, &d->l);
	if (err == -EINVAL)
		pr_err("%s\n", msg);
	return !err ? 0 : err == -EINVAL ? DM_EXIT_USAGE : DM_EXIT_RUNTIME;
}

/* Ready: the loop until a stop signal, then what is left in the ring and the counters. */
static int serve(struct dm_daemon *d, double t0)
{
	int rc = 0;

	d->start_ready_s = mono_s() - t0;
	print_ready(d);
	notify("READY=1");
	if (dm_loop_run(d->loop) < 0)
		rc = DM_EXIT_RUNTIME;
	notify("STOPPING=1");
	reload_abandon(d);
	/* What is still in the ring belongs to this run, and the HTTP requests held. */
	drain(d);
	dm_pipeline_flush(d->p);
	print_stats(d);
	return rc;
}

static void shut_down(struct dm_daemon *d, int rc)
{
	if (!d->cfg.detach_on_exit && d->l.pin_links && !rc) {
		pr_info("leaving %d interface(s) attached (state.detach_on_exit false); "
			"`dicomon detach` removes them\n",
			d->l.n_ifaces);
		dm_loader_release(&d->l);
	} else {
		dm_loader_close(&d->l);
	}
	if (d->cli->learn_out && d->p)
		write_allowlist(dm_pipeline_rules(d->p), d->cli->learn_out);
	dm_pipeline_free(d->p);
}

int dm_daemon_run(const struct dm_cli *cli)
{
	struct dm_daemon *d = calloc(1, sizeof(*d));
	double t0 = mono_s();
	sigset_t mask;
	int rc;

	if (!d)
		return DM_EXIT_RUNTIME;
	d->cli = cli;
	d->sig_fd = d->drain_fd = d->stats_fd = d->reload_fd = d->step_fd = -1;
	rc = configure(d);
	if (rc) {
		dm_webcfg_free(d->web);
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
	/* The status socket first: a daemon that would take a live one's stops before any hook. */
	if (d->cfg.status_socket[0] &&
	    (rc = dm_status_server_open(d->cfg.status_socket, &d->status))) {
		rc = rc == -EADDRINUSE ? DM_EXIT_STATE : DM_EXIT_RUNTIME;
		goto out;
	}
	if (dm_loader_open(&d->l, &d->cfg, cli->reset_state)) {
		rc = d->l.state_unusable ? DM_EXIT_STATE : DM_EXIT_BPF;
		goto out;
	}
	d->start_load_s = mono_s() - t0;
	/* Ready only when the kernel shows our programs on every hook: never blind. */
	if (dm_loader_attach(&d->l, &d->cfg) || dm_hooks_verify(&d->l)) {
		rc = DM_EXIT_BPF;
		goto out_close;
	}
	d->start_attach_s = mono_s() - t0;
	rc = build_pipeline(d);
	if (!rc)
		rc = setup_loop(d, &mask) ? DM_EXIT_RUNTIME : serve(d, t0);
	teardown_loop(d);
out_close:
	shut_down(d, rc);
out:
	dm_status_server_close(d->status); /* a start that failed before the loop had it */
	if (rc && rc != DM_EXIT_USAGE)
		fail_json(d, rc);
	dm_webcfg_free(d->web);
	free(d);
	return rc;
}
