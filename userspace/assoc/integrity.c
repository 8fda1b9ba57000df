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
#include "assoc/table.h"

#define AN_BIT(c) (1u << (c))
#define AN_ALL	  ((AN_BIT(DM_AN_MAX) - 1) & ~AN_BIT(DM_AN_NONE))

static const char *const inc_names[DM_INC_MAX] = {
    [DM_INC_MIDSTREAM] = "midstream",
    [DM_INC_GAP] = "gap",
    [DM_INC_TRUNCATED] = "truncated",
    [DM_INC_PDU_LENGTH] = "pdu_length",
    [DM_INC_CTL_TRUNCATED] = "control_pdu_truncated",
    [DM_INC_IP_FRAGMENTS] = "ip_fragments",
    [DM_INC_RING_BUFFER] = "ring_buffer",
};

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

const char *dm_incomplete_name(unsigned int reason)
{
	return reason < DM_INC_MAX ? inc_names[reason] : "?";
}

json_object *dm_incomplete_json(unsigned int reasons)
{
	json_object *a;
	unsigned int i;

	if (!reasons)
		return NULL;
	a = json_object_new_array();
	for (i = 0; i < DM_INC_MAX; i++)
		if (reasons & (1u << i))
			json_object_array_add(a, json_object_new_string(inc_names[i]));
	return a;
}

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

void dm_integrity_anomaly(struct dm_table *t, struct dm_rec *r, const struct dm_event_anomaly *e)
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
	dm_table_add_violation(t, r, &v, dm_anomaly_capture_side(e->code));
	add_reason(r, d, e->code);
	/*
	 * Fragments placed in the stream (value 1) leave the decode whole; bytes
	 * that could not be placed (0) may be the set-up's, whenever they came.
	 */
	if (e->code == DM_AN_IP_FRAGMENT && !e->value)
		r->inc |= 1u << DM_INC_IP_FRAGMENTS;
}

/* Kinds the datapath counted in direction d but sent no event for: one violation each. */
static uint32_t unreported(struct dm_table *t, struct dm_rec *r, int d, uint16_t codes)
{
	struct dm_rec_viol v = {.dir = (int8_t)d};
	uint32_t n = 0;
	unsigned int c;

	for (c = DM_AN_NONE + 1; c < DM_AN_MAX; c++) {
		if (!(codes & AN_BIT(c)))
			continue;
		v.code = DM_V_STREAM(c);
		anomaly_text(c, 0, true, v.text, sizeof(v.text));
		dm_table_add_violation(t, r, &v, dm_anomaly_capture_side(c));
		add_reason(r, d, c);
		n++;
	}
	return n;
}

void dm_integrity_end(struct dm_table *t, struct dm_rec *r, const struct dm_assoc *a)
{
	const struct dm_dir_state *ds;
	uint32_t seen, extra;
	uint16_t codes;
	unsigned int c;
	bool capture;
	int d;

	for (d = 0; d < DM_DIR_MAX; d++) {
		ds = &a->dir[d];
		codes = ds->anomaly_codes & AN_ALL;
		seen = r->an_events[d] + unreported(t, r, d, codes & ~r->an_codes[d]);
		if (ds->anomalies <= seen)
			continue;
		/* The rest were counted only: of the peer unless every kind in d tells of the capture. */
		extra = ds->anomalies - seen;
		capture = codes != 0;
		for (c = DM_AN_NONE + 1; c < DM_AN_MAX; c++)
			if ((codes & AN_BIT(c)) && !dm_anomaly_capture_side(c))
				capture = false;
		dm_table_count_violations(t, r, extra, capture);
	}
}

/* Did direction d have a set-up PDU to decode? The RQ always; the answer if one came. */
static bool setup_expected(const struct dm_rec *r, int d)
{
	if (d == DM_DIR_ORIG)
		return true;
	return r->ac || r->rejected || r->dir[d].pdus[DM_PDU_ASSOC_AC] ||
	       r->dir[d].pdus[DM_PDU_ASSOC_RJ];
}

unsigned int dm_rec_incomplete(const struct dm_rec *r)
{
	unsigned int inc = r->inc;
	uint16_t codes;
	int d;

	/* Under TLS there is no set-up in the clear to decode (outcome is null there too). */
	if (r->transport == DM_TRANSPORT_TLS)
		return 0;
	if (r->aflags & DM_AF_IP_FRAG_LOST)
		inc |= 1u << DM_INC_IP_FRAGMENTS;
	/* Picked up mid-stream: the set-up was never seen; lost fragments may be why. */
	if (r->midstream)
		return (1u << DM_INC_MIDSTREAM) | (inc & (1u << DM_INC_IP_FRAGMENTS));
	if (!r->finished)
		return inc; /* what is known so far: the rest may still come */
	for (d = 0; d < DM_DIR_MAX; d++) {
		if (!setup_expected(r, d) || r->setup_done[d])
			continue;
		codes = r->dir[d].anomaly_codes | r->an_codes[d];
		if (codes & AN_BIT(DM_AN_RING_LOST))
			inc |= 1u << DM_INC_RING_BUFFER;
		/* Not whole, and nothing said why: its bytes were not all seen. */
		if (!(inc & ~(1u << DM_INC_IP_FRAGMENTS)))
			inc |= 1u << DM_INC_GAP;
	}
	return inc;
}
