/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Ring buffer records made by hand for the pipeline's tests (test_pipeline, test_integrity). */
#ifndef __DM_EVFIX_H
#define __DM_EVFIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dicomon.h"
#include "core/pipeline.h"
#include "pktbuild.h"

/* Association id between 10.0.0.1:40000+id and 10.0.0.2:104, at 1000 + id ns. */
static inline struct dm_event_hdr evfix_hdr(uint64_t id, uint8_t dir, uint32_t type)
{
	struct dm_event_hdr h = {.type = type, .assoc_id = id, .dir = dir, .ts_ns = 1000 + id};

	h.key.family = 4;
	h.key.addr[0][0] = 0x0100000a;
	h.key.addr[1][0] = 0x0200000a;
	h.key.port[0] = (uint16_t)(40000 + id);
	h.key.port[1] = 104;
	return h;
}

/* Bytes off..off+n of pdu as one DM_EV_PDU piece with header h (flags: DM_EF_*). */
static inline int evfix_piece(struct dm_pipeline *p, struct dm_event_hdr h, const uint8_t *pdu,
			      uint32_t off, size_t n, uint8_t flags)
{
	struct dm_event_piece *e = calloc(1, sizeof(*e) + DM_PIECE_MAX);
	int r;

	if (!e)
		return -1;
	e->hdr = h;
	e->hdr.len = (uint32_t)n;
	e->hdr.flags = flags;
	e->pdu_len = (uint32_t)pdu[2] << 24 | pdu[3] << 16 | pdu[4] << 8 | pdu[5];
	e->pdu_type = pdu[0];
	e->offset = off;
	memcpy(e->data, pdu + off, n);
	r = dm_pipeline_event(p, e, sizeof(*e) + DM_PIECE_MAX);
	free(e);
	return r;
}

/* A Verification A-ASSOCIATE-RQ from MODALITY to PACS (DCMTK's identity), and its AC. */
static inline void evfix_echo_setup(uint8_t *rq, size_t *rq_len, uint8_t *ac, size_t *ac_len,
				    size_t cap)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t ids[1] = {1}, res[1] = {0};

	*rq_len = pdu_assoc_rq(rq, cap, "PACS", "MODALITY", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			       PDU_DCMTK_IMPL_VER);
	*ac_len = pdu_assoc_ac(ac, cap, "PACS", "MODALITY", ids, res, 1, 16384);
}

#endif /* __DM_EVFIX_H */
