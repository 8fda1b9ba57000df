// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Stream anomalies as violations and decode_incomplete (see integrity.h).
 * An anomaly before a direction's set-up PDU was decoded whole may be why
 * it was not: it adds its reason. After, it is only a violation.
 */
#include <stdio.h>
#include <string.h>
#include "assoc/integrity.h"
#include "lib/names.h"

#define AN_BIT(c) (1u << (c))
#define AN_ALL	  ((AN_BIT(DM_AN_MAX) - 1) & ~AN_BIT(DM_AN_NONE))

/* What each anomaly says, with its value (%u) where it has one. */
static const char *const an_text[DM_AN_MAX] = {
    [DM_AN_PDU_TYPE] = "invalid PDU type %u where a PDU header was due",
    [DM_AN_PDU_LENGTH] = "PDU-length %u implausible for its type",
    [DM_AN_PDV_LENGTH] = "first PDV item length %u below 2 or beyond its PDU",
    [DM_AN_PDV_HEADER] = "first PDV context id and control header 0x%04x invalid",
    [DM_AN_GAP] = "%u bytes of a PDU being rebuilt never seen",
    [DM_AN_HEADER_LOST] = "a PDU header lay in %u bytes never seen",
    [DM_AN_RESYNC] = "PDU boundary found again after it was lost",
    [DM_AN_WALK_LIMIT] = "more PDUs in one segment than the walk's %u steps",
    [DM_AN_CTL_TRUNCATED] = "control PDU of PDU-length %u longer than the shipping limit",
    [DM_AN_IP_FRAGMENT] = "data in IP fragments",
    [DM_AN_OVERLAP] = "a retransmission carried other bytes than the first copy, which was kept",
    [DM_AN_RING_LOST] = "a piece of a PDU was lost to a full ring buffer",
};

bool dm_anomaly_capture_side(unsigned int code)
{
	return code == DM_AN_GAP || code == DM_AN_HEADER_LOST || code == DM_AN_RESYNC ||
	       code == DM_AN_RING_LOST;
}

bool dm_capture_loss(unsigned int codes)
{
	unsigned int c;

	for (c = DM_AN_NONE + 1; c < DM_AN_MAX; c++)
		if ((codes & AN_BIT(c)) && dm_anomaly_capture_side(c))
			return true;
	return false;
}

bool dm_anomaly_ends_pdu(unsigned int code)
{
	return code == DM_AN_GAP || code == DM_AN_HEADER_LOST || code == DM_AN_WALK_LIMIT;
}

/* The reason an anomaly gives for a set-up PDU not decoded whole (-1: none of its own). */
static int reason_of(unsigned int code)
{
	switch (code) {
	case DM_AN_GAP:
	case DM_AN_HEADER_LOST:
		return DM_INC_GAP;
	case DM_AN_PDU_LENGTH:
		return DM_INC_PDU_LENGTH;
	case DM_AN_CTL_TRUNCATED:
		return DM_INC_CTL_TRUNCATED;
	case DM_AN_RING_LOST:
		return DM_INC_RING_BUFFER;
	default:
		return -1;
	}
}

static void add_reason(struct dm_rec *r, int dir, unsigned int code)
{
	int why = reason_of(code);

	if (why >= 0 && !r->setup_done[dir & 1])
		r->inc |= 1u << why;
}

static void anomaly_text(unsigned int code, uint32_t value, bool counted_only, char *buf,
			 size_t len)
{
	const char *fmt = code < DM_AN_MAX && an_text[code] ? an_text[code] : "anomaly %u";
	int n;

	if (counted_only) {
		/* No value without an event: the sentence without its number. */
		snprintf(buf, len, "%s (counted by the datapath, no event)",
			 dm_anomaly_name(code));
		return;
	}
	if (code == DM_AN_IP_FRAGMENT) {
		snprintf(buf, len, "%s, %s", fmt,
			 value ? "placed in the stream" : "not all placed in the stream");
		return;
	}
	/* The formats are this file's own, each with at most one %u or %x. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = snprintf(buf, len, fmt, value);
#pragma GCC diagnostic pop
	if (n < 0)
		buf[0] = 0;
}

uint32_t dm_integrity_anomaly(struct dm_rec *r, const struct dm_event_anomaly *e)
{
	struct dm_rec_viol v = {.dir = (int8_t)(e->hdr.dir & 1), .has_offset = 1};
	int d = e->hdr.dir & 1;

	v.code = DM_V_STREAM(e->code);
	v.offset = e->offset;
	anomaly_text(e->code, e->value, false, v.text, sizeof(v.text));
	if (e->code > DM_AN_NONE && e->code < DM_AN_MAX)
		r->an_codes[d] |= AN_BIT(e->code);
	if (r->an_events[d] < UINT16_MAX)
		r->an_events[d]++;
	dm_rec_add_violation(r, &v, dm_anomaly_capture_side(e->code));
	add_reason(r, d, e->code);
	/*
	 * Fragments placed in the stream (value 1) leave the decode whole; bytes
	 * that could not be placed (0) may be the set-up's, whenever they came.
	 */
	if (e->code == DM_AN_IP_FRAGMENT && !e->value)
		r->inc |= 1u << DM_INC_IP_FRAGMENTS;
	return 1;
}

/* Kinds the datapath counted in direction d but sent no event for: one violation each. */
static uint32_t unreported(struct dm_rec *r, int d, uint16_t codes)
{
	struct dm_rec_viol v = {.dir = (int8_t)d};
	uint32_t n = 0;
	unsigned int c;

	for (c = DM_AN_NONE + 1; c < DM_AN_MAX; c++) {
		if (!(codes & AN_BIT(c)))
			continue;
		v.code = DM_V_STREAM(c);
		anomaly_text(c, 0, true, v.text, sizeof(v.text));
		dm_rec_add_violation(r, &v, dm_anomaly_capture_side(c));
		add_reason(r, d, c);
		n++;
	}
	return n;
}

uint32_t dm_integrity_end(struct dm_rec *r, const struct dm_assoc *a)
{
	uint32_t added = 0, unrep;
	const struct dm_dir_state *ds;
	uint32_t seen, extra;
	uint16_t codes;
	unsigned int c;
	bool capture;
	int d;

	for (d = 0; d < DM_DIR_MAX; d++) {
		ds = &a->dir[d];
		codes = ds->anomaly_codes & AN_ALL;
		unrep = unreported(r, d, codes & ~r->an_codes[d]);
		added += unrep;
		seen = r->an_events[d] + unrep;
		if (ds->anomalies <= seen)
			continue;
		/* The rest were counted only: of the peer unless every kind in d tells of the capture. */
		extra = ds->anomalies - seen;
		capture = codes != 0;
		for (c = DM_AN_NONE + 1; c < DM_AN_MAX; c++)
			if ((codes & AN_BIT(c)) && !dm_anomaly_capture_side(c))
				capture = false;
		dm_rec_count_violations(r, extra, capture);
		added += extra;
	}
	return added;
}
