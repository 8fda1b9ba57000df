/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_EVENTS_H
#define __DM_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"

struct dm_loader;
struct dm_table;

/* Userspace's own counters about the event stream. */
struct dm_event_stats {
	uint64_t events[DM_EV_MAX];
	uint64_t malformed;    /* record shorter than its type or unknown type */
	uint64_t pdus_decoded; /* control PDUs rebuilt whole */
	uint64_t pdus_broken;  /* pieces lost: PDU could not be rebuilt */
	uint64_t assoc_table_full;
};

struct dm_events;
struct dm_assoc_metrics;

/* Prints one line per association event (text, or JSON with json = true) to out. */
struct dm_events *dm_events_new(const struct dm_loader *l, bool json, FILE *out);
void dm_events_free(struct dm_events *ev);
const struct dm_assoc_metrics *dm_events_assoc_metrics(const struct dm_events *ev);
/* A ring_buffer_sample_fn: ctx is the struct dm_events. */
int dm_events_handle(void *ctx, void *data, size_t len);
const struct dm_event_stats *dm_events_stats(const struct dm_events *ev);
/* Timers: HTTP requests held past their age bound are parsed (now: monotonic ns). */
void dm_events_tick(struct dm_events *ev, uint64_t now_ns);
/* The end (of a capture, of the daemon): every HTTP request held is parsed as it is. */
void dm_events_flush(struct dm_events *ev);
struct dm_http_asm_stats;
const struct dm_http_asm_stats *dm_events_http_stats(const struct dm_events *ev);
/* The association table the events feed (owned by ev). */
struct dm_table *dm_events_table(struct dm_events *ev);
/* Where association records go (EVE feed), and the rules that judge them (not owned). */
struct dm_feed;
struct dm_rules;
void dm_events_set_feed(struct dm_events *ev, struct dm_feed *feed);
void dm_events_set_rules(struct dm_events *ev, struct dm_rules *rules);
/* Evidence pcaps (evidence.dir): frames go there, ended associations are forgotten. */
struct dm_evidence;
void dm_events_set_evidence(struct dm_events *ev, struct dm_evidence *e);
/* Replay: the capture file and packet a record came from (nothing when live). */
struct json_object;
void dm_source_json(struct json_object *o);
/* Monotonic ns (bpf_ktime_get_ns) to "2026-11-21T23:59:01.123456+00:00". */
void dm_format_time(uint64_t mono_ns, char *buf, size_t len);
/* "10.0.0.1" / "fd00::1" for endpoint side (0/1) of a key. */
void dm_key_addr(const struct dm_flow_key *k, int side, char *buf, size_t len);

#endif /* __DM_EVENTS_H */
