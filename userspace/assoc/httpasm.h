/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * HTTP requests to the web ports put together from their DM_EV_HTTP events
 * (rule 11). A request line cut into small segments arrives as several
 * events of one flow with growing offsets (DM_EF_FIRST at offset 0, up to
 * DM_HTTP_SNAP bytes in all, DM_EF_LAST on the one that reaches it). Each
 * request's bytes are kept by flow until its request line is complete (a
 * CR or LF), or LAST, or it ages out or the full table evicts it (then what
 * is there is parsed, as truncated); the request is parsed once, its buffer
 * zeroed, and the rest of it ignored until the flow's next FIRST.
 *
 * Bounded: DM_HTTP_ASM_MAX requests at once (least recently fed evicted,
 * counted), each DM_HTTP_SNAP bytes, DM_HTTP_ASM_AGE_NS at most.
 */
#ifndef __DM_HTTPASM_H
#define __DM_HTTPASM_H

#include <stddef.h>
#include <stdint.h>
#include "dicomon.h"
#include "decode/dicomweb.h"

#define DM_HTTP_ASM_MAX	   256
#define DM_HTTP_ASM_AGE_NS (30 * 1000000000ULL) /* detection.candidate_seconds' default */

struct dm_http_asm_stats {
	uint64_t requests; /* requests parsed */
	uint64_t evicted;  /* parsed early: the table was full */
	uint64_t expired;  /* parsed early: their line did not end within the age bound */
	uint64_t gaps;	   /* parsed early: the next event did not continue the bytes held */
	uint64_t orphans;  /* events of no request held (its FIRST lost, or already parsed) */
};

struct dm_http_asm;
/* A request parsed: h is its first event's header (flow, client side, time). */
typedef void (*dm_http_req_fn)(void *ctx, const struct dm_event_hdr *h,
			       const struct dm_http_req *req);

struct dm_http_asm *dm_http_asm_new(dm_http_req_fn fn, void *ctx);
/* Zeroes what is held; nothing is parsed. */
void dm_http_asm_free(struct dm_http_asm *a);
/* One DM_EV_HTTP (hdr.len <= DM_HTTP_SNAP); now: monotonic ns (capture time in replay). */
void dm_http_asm_event(struct dm_http_asm *a, const struct dm_event_http *e, uint64_t now);
/* Requests held past the age bound are parsed as they are. */
void dm_http_asm_expire(struct dm_http_asm *a, uint64_t now);
/* Every request held is parsed as it is (the capture or the daemon ends). */
void dm_http_asm_flush(struct dm_http_asm *a);
const struct dm_http_asm_stats *dm_http_asm_stats(const struct dm_http_asm *a);
/* Requests held now. */
unsigned int dm_http_asm_held(const struct dm_http_asm *a);
/* The table's memory (tests: nothing of a parsed request may be left in it). */
const void *dm_http_asm_mem(const struct dm_http_asm *a, size_t *len);

#endif /* __DM_HTTPASM_H */
