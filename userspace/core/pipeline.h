/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The event pipeline, the one owner of what happens to a ring buffer record:
 * events -> association table -> rules, and the fan-out to the outputs (the
 * event lines, the EVE feed, evidence pcaps, the association metrics), with
 * all their counters. `dicomon run` and `dicomon replay` build one each; it
 * knows nothing of attachments, pins or sockets (interface names come from
 * the caller's callback).
 *
 *   dm_pipeline_new(&cfg, ifname, ctx, stdout, &p, err, sizeof(err));
 *   ring_buffer__new(fd, dm_pipeline_event, p, NULL);  // records in
 *   dm_pipeline_set_flows(p, walk, ctx);  // the kernel's view, for the idle timeout
 *   dm_pipeline_tick(p, now);      // timers: HTTP requests held, feed reconnects, idle sweep
 *   dm_pipeline_configure(p, &cfg, err, sizeof(err));  // SIGHUP
 *   dm_pipeline_flush(p);          // the end: HTTP requests held are parsed
 *   dm_pipeline_free(p);
 *
 * Alerts of the rules come back into the pipeline, which counts them by
 * signature and hands them to evidence and the feed: one door into the feed.
 */
#ifndef __DM_PIPELINE_H
#define __DM_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"
#include "config/config.h"
#include "kern/flows.h"
#include "output/lines.h"

struct dm_pipeline;
struct dm_table;
struct dm_rules;
struct dm_feed;
struct dm_evidence;
struct dm_assoc_metrics;
struct dm_http_asm_stats;

/* The pipeline's own counters about the event stream. */
struct dm_pipeline_stats {
	uint64_t events[DM_EV_MAX]; /* records consumed, by type */
	uint64_t malformed;	    /* record shorter than its type or of unknown type */
	uint64_t idle_ended[2];	    /* ended by the idle timeout: [1] the kernel held it idle, [0] not */
	uint64_t idle_walks;	    /* reads of the kernel's tables for the idle timeout */
};

/* Walks the kernel's associations (kern/flows.h's dm_flows_foreach over the loader's maps). */
typedef int (*dm_pipeline_flows_fn)(void *ctx, dm_flow_fn fn, void *fn_ctx);

/* Alerts the rules raised, by signature and severity (before the feed's rate limit). */
#define DM_PIPELINE_ALERT_SIDS 64
struct dm_alert_count {
	uint32_t sid;
	int severity;
	const char *signature;
	uint64_t n;
};

/*
 * Built from cfg (output.json, table.*, feed.*, alerts.*, rules.*, policy.*,
 * evidence.*); lines go to out. 0, or -EINVAL with the reason in err (rules,
 * evidence directory), -ENOMEM.
 */
int dm_pipeline_new(const struct dm_config *cfg, dm_ifname_fn ifname, void *ctx, FILE *out,
		    struct dm_pipeline **pp, char *err, size_t errlen);
void dm_pipeline_free(struct dm_pipeline *p);
/* A ring_buffer_sample_fn: ctx is the pipeline. Bad records are counted, never fatal. */
int dm_pipeline_event(void *ctx, void *data, size_t len);
/* Timers (now: monotonic ns): HTTP requests held past their age; the feed's reconnects. */
void dm_pipeline_tick(struct dm_pipeline *p, uint64_t now_ns);
/* The end (of a capture, of the daemon): every HTTP request held is parsed as it is. */
void dm_pipeline_flush(struct dm_pipeline *p);
/*
 * The kernel's view for the idle timeout (table.idle_timeout_seconds): fn
 * walks the kernel's associations, their times in the pipeline's clock.
 * Without it no record ends idle (a bulk transfer makes no events).
 */
void dm_pipeline_set_flows(struct dm_pipeline *p, dm_pipeline_flows_fn fn, void *ctx);
/*
 * The end of a capture, after the kernel's open associations had their
 * flow ends: every record still going on (the kernel lost it) ends as
 * capture_end, so that every association has a record.
 */
void dm_pipeline_end_open(struct dm_pipeline *p);
/*
 * SIGHUP: the rules (on error they keep the running policy: -EINVAL, err
 * says why), the feed, the table's limits. Everything is applied that can be.
 */
int dm_pipeline_configure(struct dm_pipeline *p, const struct dm_config *cfg, char *err,
			  size_t errlen);
/* After logrotate: the feed's file reopened by its path. */
void dm_pipeline_reopen(struct dm_pipeline *p);

/* What the counters and `dicomon status` read. */
const struct dm_pipeline_stats *dm_pipeline_stats(const struct dm_pipeline *p);
const struct dm_table *dm_pipeline_table(const struct dm_pipeline *p);
const struct dm_rules *dm_pipeline_rules(const struct dm_pipeline *p);
const struct dm_feed *dm_pipeline_feed(const struct dm_pipeline *p);
const struct dm_evidence *dm_pipeline_evidence(const struct dm_pipeline *p); /* NULL: off */
const struct dm_http_asm_stats *dm_pipeline_http_stats(const struct dm_pipeline *p);
const struct dm_assoc_metrics *dm_pipeline_assoc_metrics(const struct dm_pipeline *p);
const struct dm_alert_count *dm_pipeline_alerts(const struct dm_pipeline *p, int *n);

#endif /* __DM_PIPELINE_H */
