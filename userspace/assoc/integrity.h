/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What an association record says about its own completeness: every anomaly
 * the datapath found in the stream (DM_EV_ANOMALY, and at the flow end the
 * kinds it only counted) as a stream_* violation with its direction and
 * stream offset, and decode_incomplete, the reasons the set-up (RQ, and
 * AC/RJ if any) was not decoded whole. Texts hold numbers and fixed words.
 */
#ifndef __DM_INTEGRITY_H
#define __DM_INTEGRITY_H

#include <json-c/json.h>
#include <stdbool.h>
#include "dicomon.h"
#include "assoc/record.h"

/* A DM_EV_ANOMALY of the record's association; returns the violations it added (1). */
uint32_t dm_integrity_anomaly(struct dm_rec *r, const struct dm_event_anomaly *e);
/* The flow end's counts: kinds without an event (over the event limit, ring full), the rest counted. */
uint32_t dm_integrity_end(struct dm_rec *r, const struct dm_assoc *a);
/* Anomalies that tell of the capture (loss on our side), not of the peer: gap, header_lost, resync, ring_buffer_lost. */
bool dm_anomaly_capture_side(unsigned int code);
/* Whether a set of anomaly kinds (bit 1 << code) holds one that tells of the capture. */
bool dm_capture_loss(unsigned int codes);
/* Anomalies after which the datapath ships no more of the PDU being rebuilt in that direction. */
bool dm_anomaly_ends_pdu(unsigned int code);

#endif /* __DM_INTEGRITY_H */
