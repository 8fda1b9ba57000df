/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_DAEMON_H
#define __DM_DAEMON_H

#include <stdio.h>
#include "config/cli.h"
#include "config/config.h"
#include "kern/kcount.h"
#include "kern/loader.h"

/* Exit codes (README, dicomon(8); the systemd unit does not restart on 2 and 5). */
#define DM_EXIT_USAGE	2 /* bad command line or configuration */
#define DM_EXIT_BPF	3 /* cannot load or attach */
#define DM_EXIT_RUNTIME 4 /* event loop failure */
#define DM_EXIT_STATE	5 /* pinned state unusable: another daemon, or another layout */
#define DM_EXIT_CAPTURE 6 /* replay: a capture missing, unreadable, damaged or unsupported */

struct dm_events;
struct dm_feed;
struct dm_loop;
struct dm_metrics;
struct dm_rules;
struct dm_status_server;
struct ring_buffer;

/*
 * The running daemon. Subsystems with descriptors of their own (the status
 * socket, the metrics listener) start in dm_daemon_run() after the loop
 * exists and register with dm_loop_add(d->loop, fd, EPOLLIN, handler, ctx).
 */
struct dm_daemon {
	const struct dm_cli *cli; /* re-applied over the file on SIGHUP */
	struct dm_config cfg;	  /* what runs */
	struct dm_loader l;
	struct dm_events *ev;
	struct ring_buffer *rb;
	struct dm_loop *loop;
	struct dm_status_server *status; /* `dicomon status` answers here */
	struct dm_feed *feed;		 /* the EVE feed: records and alerts */
	struct dm_rules *rules;		 /* the detection rules */
	struct dm_metrics *metrics;	 /* the Prometheus endpoint, NULL if off */
	struct dm_evidence *evidence;	 /* evidence pcaps (evidence.dir), NULL if off */
	int sig_fd, drain_fd, stats_fd;
	struct { /* alerts the rules raised, by signature and severity (before the rate limit) */
		uint32_t sid;
		int severity;
		const char *signature;
		uint64_t n;
	} alert_sids[64];
	int n_alert_sids;
	struct dm_kcount kc; /* entries of the kernel's tables, counted every 10 s at most */
	unsigned int reloads;
	uint64_t drain_ticks; /* the drain timer's, for the TC order check (tcorder.c) */
	double start_load_s, start_attach_s, start_ready_s; /* from start: loaded, attached, ready */
};

/* `dicomon run`: returns the exit code. */
int dm_daemon_run(const struct dm_cli *cli);

/* Shared with `dicomon replay` (replay.c), which runs the same pipeline over a capture. */
struct dm_alert;
struct dm_rec;
/* Counters to stdout (text, or a JSON "stats" line). */
void dm_daemon_print_stats(struct dm_daemon *d);
/* The metrics in the Prometheus text format (a /metrics scrape, --metrics-out). */
int dm_daemon_render_metrics(FILE *out, void *ctx);
/* The rules' alert callback: counted by signature, evidence written, then to the feed. */
void dm_daemon_on_alert(void *ctx, const struct dm_rec *rec, const struct dm_alert *a);
/* evidence.dir set: the directory and d->evidence, wired to d->ev. 0 or an exit code. */
int dm_daemon_evidence_setup(struct dm_daemon *d);

#endif /* __DM_DAEMON_H */
