/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The EVE JSON feed's outputs, any combination: a file (append, one write()
 * per line, reopened on SIGHUP for logrotate; opened by lib/safefile.h's
 * rules, its directory made 0750; a line that cannot be written whole is cut
 * back off, so the file holds whole lines only), stdout, a unix stream socket
 * (client side, like Suricata's unix_stream output) and syslog (RFC 5424
 * over /dev/log). Nothing here blocks the event loop: the socket and syslog
 * are non-blocking, what a peer does not take is dropped and counted. Alerts
 * are rate-limited per (signature_id, source), with bounded memory.
 *
 *   feed = dm_feed_new();
 *   dm_feed_configure(feed, &cfg);               // start and every SIGHUP
 *   dm_feed_dicom(feed, rec, ifname);            // association ended/evicted
 *   dm_feed_alert(feed, rec, ifname, &alert);    // from the rules
 *   dm_feed_tick(feed);                          // every drain tick (100 ms)
 *   dm_feed_free(feed);
 */
#ifndef __DM_FEED_H
#define __DM_FEED_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "detect/alert.h"

struct dm_config;
struct dm_rec;

enum dm_feed_output {
	DM_FEED_FILE = 0,
	DM_FEED_STDOUT,
	DM_FEED_UNIX,
	DM_FEED_SYSLOG,
	DM_FEED_OUT_MAX,
};

/* Per output, for the metrics: dicomon_feed_*_total{output="file"}. */
struct dm_feed_out_stats {
	uint64_t lines;	     /* handed to the kernel whole */
	uint64_t dropped;    /* not written: output down, peer not reading, buffer full */
	uint64_t errors;     /* write/send/open/connect failures */
	uint64_t reconnects; /* file reopened / socket (re)connected */
	uint64_t full;	     /* file: lines dropped for a full disk or quota (ENOSPC, EDQUOT) */
	uint64_t rolled_back; /* file: partly written lines cut back off (whole lines or nothing) */
};

struct dm_feed_stats {
	struct dm_feed_out_stats out[DM_FEED_OUT_MAX];
	uint64_t records;	    /* event_type dicom built */
	uint64_t alerts;	    /* alerts emitted */
	uint64_t alerts_suppressed; /* alerts held back by the rate limit */
	uint64_t limiter_evictions; /* (sid, source) entries dropped to stay bounded */
	uint64_t limiter_entries;   /* entries now */
};

struct dm_feed;

struct dm_feed *dm_feed_new(void);
void dm_feed_free(struct dm_feed *f);
/*
 * Apply feed.* and alerts.* (at start and on every SIGHUP): outputs that
 * changed are opened or closed, the file is reopened. Returns 0, or the
 * first -errno of an output that could not be opened now (logged; the socket
 * and syslog outputs retry by themselves, the file on the next reload).
 */
int dm_feed_configure(struct dm_feed *f, const struct dm_config *cfg);
/* SIGHUP after logrotate: reopen the file by its path, reconnect a dead socket now. */
int dm_feed_reopen(struct dm_feed *f);
/* The file was refused as unsafe (lib/safefile.h) at its last open: fatal at start. */
bool dm_feed_file_refused(const struct dm_feed *f);
/* Any output configured: callers may skip building records when false. */
bool dm_feed_active(const struct dm_feed *f);
/* feed.stdout is on: stdout carries EVE lines, the native event lines stop. */
bool dm_feed_owns_stdout(const struct dm_feed *f);

/*
 * One record to every output. rec is not consumed. severity: syslog's
 * (LOG_INFO for records; dm_feed_syslog_severity() of an alert's).
 * Returns the number of outputs that took the line.
 */
int dm_feed_emit(struct dm_feed *f, json_object *rec, int severity);
/* The association record (dm_eve_dicom) emitted at LOG_INFO. */
int dm_feed_dicom(struct dm_feed *f, const struct dm_rec *r, const char *ifname);
/*
 * Rate-limit, build (dm_eve_alert) and emit an alert. a->details is consumed
 * whatever happens. A let-through alert after suppressed ones carries
 * dicom.suppressed (the count held back for this sid and source since the
 * last one emitted). Returns 1 if emitted, 0 if suppressed, -errno.
 */
int dm_feed_alert(struct dm_feed *f, const struct dm_rec *r, const char *ifname,
		  const struct dm_alert *a);
/*
 * The rate limit alone: true if an alert of sid from src_key may go out at
 * now_ns (monotonic); then *suppressed is the count held back before it.
 */
bool dm_feed_alert_allowed(struct dm_feed *f, uint32_t sid, const char *src_key, uint64_t now_ns,
			   uint64_t *suppressed);
/* Retry connections and flush what the socket output holds; call from a timer. */
void dm_feed_tick(struct dm_feed *f);
/* Alert severity 1/2/3 -> LOG_CRIT/LOG_ERR/LOG_WARNING. */
int dm_feed_syslog_severity(int alert_severity);
const struct dm_feed_stats *dm_feed_stats(const struct dm_feed *f);
/* "file", "stdout", "unix_socket", "syslog". */
const char *dm_feed_output_name(unsigned int o);

/* Tests only: another syslog socket than /dev/log, another stdout, a fixed clock (0: real). */
void dm_feed_set_syslog_path(struct dm_feed *f, const char *path);
void dm_feed_set_stdout(struct dm_feed *f, FILE *out);
void dm_feed_set_clock(struct dm_feed *f, uint64_t mono_ns);

#endif /* __DM_FEED_H */
