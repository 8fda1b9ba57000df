/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The association table: the container of the association records
 * (record.h), one per association, built from ring buffer events (the
 * set-up PDUs decoded in full, DIMSE command heads, TLS hellos) and closed
 * by the flow-end event with the kernel's final counters.
 * Finished records stay for keep_finished seconds; memory is bounded by
 * max_assoc records (see struct dm_rec for the size of one), the oldest
 * finished record going first, then the oldest active one (counted), in
 * O(1). A source (initiator address) holds at most max_halfopen records
 * that nothing answered yet; past it its own oldest half-open record goes,
 * never another source's. An active record that goes is handed to the
 * on_evict callback first (its record goes out, end reason "evicted"); its
 * id, and that of a record ended idle, is remembered (DM_TABLE_GONE_PER_RECORD
 * x max_assoc nodes of 64 consecutive ids at most: ids go out in order, so a
 * flood's fill them) so that later events of that association are
 * counted (late) and make no second record.
 */
#ifndef __DM_TABLE_H
#define __DM_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"
#include "assoc/record.h"
#include "decode/dimse.h"

struct dm_table_stats {
	uint64_t active;
	uint64_t finished;
	uint64_t created;
	uint64_t evicted_finished; /* dropped before keep_finished ran out */
	uint64_t evicted_active;   /* dropped while the association was going on (table full) */
	uint64_t evicted_halfopen; /* dropped: its source had max_halfopen half-open records */
	uint64_t halfopen;	   /* active records nothing answered yet (RQ, no AC/RJ/abort) */
	uint64_t late[2];	   /* events after the record went out: [0] evicted, [1] idle */
	uint64_t expired;	   /* finished and past keep_finished */
	uint64_t pdus_decoded;
	uint64_t pdus_broken;
	uint64_t violations;
};

struct dm_table;

#define DM_TABLE_DEFAULT_MAX	16384 /* as table.max_associations */
#define DM_TABLE_DEFAULT_KEEP_S 300
/* Nodes of 64 ids of records that went out early, per record of max_assoc. */
#define DM_TABLE_GONE_PER_RECORD 4

struct dm_table *dm_table_new(uint32_t max_assoc, uint32_t keep_finished_s);
void dm_table_free(struct dm_table *t);
void dm_table_set_limits(struct dm_table *t, uint32_t max_assoc, uint32_t keep_finished_s);
/* Half-open records per source address at most (0: no limit, the default); applied to new ones. */
void dm_table_set_halfopen_limit(struct dm_table *t, uint32_t per_source);
/* Called with an active record the table drops to make room, before it is freed. */
void dm_table_on_evict(struct dm_table *t, void (*fn)(void *ctx, struct dm_rec *r), void *ctx);
const struct dm_rec *dm_table_find(const struct dm_table *t, uint64_t id);
/*
 * The record of the event's association, created from its header if new.
 * NULL when out of memory, or when the association's record already went
 * out (evicted, ended idle): the event is late, counted, to be dropped.
 */
struct dm_rec *dm_table_get(struct dm_table *t, const struct dm_event_hdr *h);
/* Feed a piece; returns 1, with pdu and len set, once the PDU is whole. */
int dm_table_piece(struct dm_table *t, struct dm_rec *r, const struct dm_event_piece *e,
		   const uint8_t **pdu, size_t *len);
void dm_table_control_pdu(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu,
			  size_t len);
/*
 * A DIMSE command head of direction dir; fills *c for the caller's printing.
 * -EAGAIN: a fragment of a command split over PDUs, kept (or dropped): no
 * command to print yet. The PDU's bytes held by the table are zeroed.
 */
int dm_table_dimse(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu, size_t len,
		   struct dm_dimse_cmd *c);
/*
 * A control PDU of direction dir still being rebuilt that will not be
 * finished (the flow ends, shipping stopped): 1 with what arrived in pdu and
 * len, to be decoded as it is (dm_table_control_pdu()); counted as a
 * violation when shorter than its length. 0 when there is none.
 */
int dm_table_pending(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t **pdu,
		     size_t *len);
/* One violation for the record (kept if there is room, always counted); capture: not the peer's. */
void dm_table_add_violation(struct dm_table *t, struct dm_rec *r, const struct dm_rec_viol *v,
			    bool capture);
/* A DM_EV_ANOMALY of the record's association: its violation (integrity.c), counted. */
void dm_table_anomaly(struct dm_table *t, struct dm_rec *r, const struct dm_event_anomaly *e);
void dm_table_tls(struct dm_table *t, struct dm_rec *r, const struct dm_event_tls *e);
/*
 * The end: the kernel's flow end, or one userspace made (reason
 * DM_END_TABLE_EVICT for an evicted record, DM_END_IDLE), whose id is then
 * remembered as gone.
 */
void dm_table_end(struct dm_table *t, struct dm_rec *r, const struct dm_event_flow *e);
/* Drop finished records older than keep_finished (now: monotonic ns). */
void dm_table_expire(struct dm_table *t, uint64_t now_ns);
const struct dm_table_stats *dm_table_stats(const struct dm_table *t);
/*
 * Active records whose last event is timeout_ns old or older: fn(ctx, r) for
 * each, oldest first; fn may end r (dm_table_end), nothing else. Looks at
 * the records started at least timeout_ns ago only.
 */
void dm_table_idle(struct dm_table *t, uint64_t now_ns, uint64_t timeout_ns,
		   void (*fn)(void *ctx, struct dm_rec *r), void *ctx);
/* The kernel saw the association at last_ns: not idle before last_ns + timeout. */
void dm_table_alive(struct dm_table *t, struct dm_rec *r, uint64_t last_ns);
/* Records in eviction order: finished ones (oldest end first), then active ones (oldest start first). */
void dm_table_foreach(const struct dm_table *t, void (*fn)(const struct dm_rec *, void *),
		      void *ctx);

#endif /* __DM_TABLE_H */
