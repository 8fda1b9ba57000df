/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The event lines: one line per association event on stdout, as text or
 * as JSON (output.json), the flow end's carrying the association's whole
 * record. The pipeline (core/pipeline.c) calls these as events arrive; with
 * feed.stdout on it calls none (the EVE lines take stdout).
 */
#ifndef __DM_LINES_H
#define __DM_LINES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"
#include "assoc/record.h"
#include "decode/dicomweb.h"
#include "decode/dimse.h"

/* An interface's name by index ("?" when unknown); ctx is the caller's. */
typedef const char *(*dm_ifname_fn)(void *ctx, uint32_t ifindex);

struct dm_lines {
	FILE *out;
	bool json;
	dm_ifname_fn ifname;
	void *ctx;
};

/* A control PDU rebuilt whole (truncated: what arrived of one that will not finish). */
void dm_lines_pdu(const struct dm_lines *l, const struct dm_event_hdr *h, const uint8_t *pdu,
		  size_t len, int truncated);
/* A DIMSE command head; err: it did not decode (c may hold what did). */
void dm_lines_dimse(const struct dm_lines *l, const struct dm_event_hdr *h, int err,
		    const struct dm_dimse_cmd *c);
void dm_lines_anomaly(const struct dm_lines *l, const struct dm_event_anomaly *e);
void dm_lines_tls(const struct dm_lines *l, const struct dm_event_tls *e);
/* The association ended: the kernel's counters and the record r. */
void dm_lines_flow_end(const struct dm_lines *l, const struct dm_event_flow *e,
		       const struct dm_rec *r);
/* A DICOMweb request (method, resource, PHI key names: never their values). */
void dm_lines_http(const struct dm_lines *l, const struct dm_event_hdr *h,
		   const struct dm_http_req *req);

/* Replay: the capture file and packet a record came from (nothing when live). */
void dm_source_json(json_object *o);
/* Monotonic ns (bpf_ktime_get_ns) to "2026-11-21T23:59:01.123456+00:00". */
void dm_format_time(uint64_t mono_ns, char *buf, size_t len);
/* One direction's PDU counts by type name, the types seen only: {"A-ASSOCIATE-RQ": 1, ...}. */
json_object *dm_pdu_counts_json(const struct dm_dir_state *d);

#endif /* __DM_LINES_H */
