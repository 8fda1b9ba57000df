/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Association records for the feed tests, built as the daemon builds them:
 * PDU bytes fed through the association table in pieces, then a flow end.
 * Header-only (static functions), shared by test_eve.c and test_feed.c.
 */
#ifndef __RECFIX_H
#define __RECFIX_H

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include "dicomon.h"
#include "pktbuild.h"
#include "assoc/table.h"
#include "ulbuild.h"

static inline struct dm_event_hdr rf_hdr(uint64_t id, uint8_t dir, uint64_t ts)
{
	struct dm_event_hdr h = {.type = DM_EV_PDU, .assoc_id = id, .dir = dir, .ts_ns = ts};

	h.key.family = 4;
	h.key.addr[0][0] = 0x0100000a; /* 10.0.0.1, the initiator */
	h.key.addr[1][0] = 0x0200000a;
	h.key.port[0] = 40000;
	h.key.port[1] = 11112;
	return h;
}

static inline void rf_feed(struct dm_table *t, uint64_t id, uint8_t dir, uint32_t ev,
			   const uint8_t *pdu, size_t len)
{
	struct dm_event_piece *e = calloc(1, sizeof(*e) + DM_PIECE_MAX);
	const uint8_t *whole;
	struct dm_dimse_cmd d;
	struct dm_rec *r;
	size_t off, n, wlen;

	for (off = 0; off < len; off += n) {
		n = len - off < 100 ? len - off : 100;
		e->hdr = rf_hdr(id, dir, 1000);
		e->hdr.type = ev;
		e->hdr.len = n;
		e->hdr.flags = (off == 0 ? DM_EF_FIRST : 0) | (off + n == len ? DM_EF_LAST : 0);
		e->pdu_type = pdu[0];
		e->offset = off;
		memcpy(e->data, pdu + off, n);
		r = dm_table_get(t, &e->hdr);
		if (!r || !dm_table_piece(t, r, e, &whole, &wlen))
			continue;
		if (ev == DM_EV_DIMSE)
			dm_table_dimse(t, r, dir, whole, wlen, &d);
		else
			dm_table_control_pdu(t, r, dir, whole, wlen);
	}
	free(e);
}

static inline void rf_end(struct dm_table *t, uint64_t id, uint8_t state)
{
	struct dm_event_flow e = {.hdr = rf_hdr(id, 0, 2000000), .reason = DM_END_FIN};
	struct dm_rec *r;

	e.hdr.type = DM_EV_FLOW_END;
	e.assoc.state = state;
	e.assoc.transport = DM_TRANSPORT_CLEARTEXT;
	e.assoc.dir[0].bytes = 301;
	e.assoc.dir[1].bytes = 212;
	e.assoc.dir[0].pdus[DM_PDU_ASSOC_RQ] = 1;
	e.assoc.dir[0].pdus[DM_PDU_P_DATA] = 1;
	e.assoc.dir[0].pdus[DM_PDU_RELEASE_RQ] = 1;
	e.assoc.dir[1].pdus[DM_PDU_ASSOC_AC] = 1;
	e.assoc.dir[1].pdus[DM_PDU_P_DATA] = 1;
	e.assoc.dir[1].pdus[DM_PDU_RELEASE_RP] = 1;
	r = dm_table_get(t, &e.hdr);
	if (r)
		dm_table_end(t, r, &e);
}

/* A C-ECHO association MODALITY -> PACS, released. */
static inline const struct dm_rec *rf_echo(struct dm_table *t, uint64_t id)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t p[1024], ids[1] = {1}, res[1] = {0};

	rf_feed(t, id, 0, DM_EV_PDU, p,
		pdu_assoc_rq(p, sizeof(p), "PACS", "MODALITY", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			     PDU_DCMTK_IMPL_VER));
	rf_feed(t, id, 1, DM_EV_PDU, p,
		pdu_assoc_ac(p, sizeof(p), "PACS", "MODALITY", ids, res, 1, 16384));
	rf_feed(
	    t, id, 0, DM_EV_DIMSE, p,
	    pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0));
	rf_feed(t, id, 1, DM_EV_DIMSE, p,
		pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION,
				  1, 0, NULL, 0));
	rf_feed(t, id, 0, DM_EV_PDU, p, pdu_release_rq(p, sizeof(p)));
	rf_feed(t, id, 1, DM_EV_PDU, p, pdu_release_rp(p, sizeof(p)));
	rf_end(t, id, DM_STATE_RELEASED);
	return dm_table_find(t, id);
}

/* Raw bytes a JSON writer must not pass through as they are. */
static const uint8_t rf_evil_calling[16] = {'"', 'q',  '\\', 0x01, 0x1f, 0x00, 0xff, 0xc3,
					    '(', 0xed, 0xa0, 0x80, 0x7f, 0x0a, '}',  '"'};
static const uint8_t rf_evil_called[16] = {0xc0, 0xaf, '\\', 'u',  '0',	 '0',  '0',  '0',
					   0x00, 0x00, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x22};
static const uint8_t rf_evil_str[] = {'1',  '.', 0xff, '"',  '\\', 0x00, 0x01, 0xe2,
				      0x82, 'X', 0xf4, 0x90, 0x80, 0x80, 0x0d, 0x0a};

static inline void rf_item_raw(struct ub *b, uint8_t type, const uint8_t *s, size_t n)
{
	size_t off = ub_item_begin(b, type, 0);

	ub_mem(b, s, n);
	ub_item_end(b, off);
}

/* An RQ and an AC whose AE titles, UIDs and version names are all hostile bytes. */
static inline const struct dm_rec *rf_evil(struct dm_table *t, uint64_t id)
{
	static const char *const ts[] = {"1.2.840.10008.1.2"};
	uint8_t p[2048];
	struct ub b;
	size_t pdu, ui, pc;
	int k;

	for (k = 0; k < 2; k++) {
		ub_init(&b, p, sizeof(p));
		pdu = ub_pdu_begin(&b, k ? 0x02 : 0x01);
		ub_assoc_fixed(&b, rf_evil_called, rf_evil_calling);
		rf_item_raw(&b, 0x10, rf_evil_str, sizeof(rf_evil_str));
		if (k) {
			ub_pc_ac(&b, 1, 0, ts[0]);
		} else {
			pc = ub_item_begin(&b, 0x20, 0);
			ub_u8(&b, 1), ub_u8(&b, 0), ub_u8(&b, 0xff), ub_u8(&b, 0);
			rf_item_raw(&b, 0x30, rf_evil_str, sizeof(rf_evil_str));
			rf_item_raw(&b, 0x40, rf_evil_str, sizeof(rf_evil_str));
			ub_item_end(&b, pc);
		}
		ui = ub_item_begin(&b, 0x50, 0);
		ub_sub_u32(&b, 0x51, 16384);
		rf_item_raw(&b, 0x52, rf_evil_str, sizeof(rf_evil_str));
		rf_item_raw(&b, 0x55, rf_evil_str, 16);
		ub_item_end(&b, ui);
		rf_feed(t, id, k, DM_EV_PDU, p, ub_pdu_end(&b, pdu));
	}
	rf_feed(t, id, 0, DM_EV_PDU, p, pdu_abort(p, sizeof(p), 2, 1));
	rf_end(t, id, DM_STATE_ABORTED);
	return dm_table_find(t, id);
}

/* Strict JSON (RFC 8259) and valid UTF-8, as a strict SIEM parser reads it. */
static inline json_object *rf_strict_parse(const char *line, size_t n)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)n);
	if (o && json_tokener_get_parse_end(tok) != n) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

#endif /* __RECFIX_H */
