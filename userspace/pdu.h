/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_PDU_H
#define __DM_PDU_H

#include <stddef.h>
#include <stdint.h>

/*
 * The small part of PS3.8/PS3.7 decoding the event printer needs: AE titles
 * of an A-ASSOCIATE-RQ, reject/abort codes, the head of a DIMSE command set.
 * Every function treats its input as hostile: it checks lengths and never
 * reads past len.
 */

/* An AE title as text: spaces trimmed, bytes outside 0x20..0x7e as \xHH. */
#define DM_AE_STR (16 * 4 + 1)
void dm_ae_string(const uint8_t ae[16], char out[DM_AE_STR]);

struct dm_assoc_hdr {
	char called[DM_AE_STR];
	char calling[DM_AE_STR];
	uint16_t protocol_version;
};
/* A-ASSOCIATE-RQ/AC fixed part. 0, or -EINVAL if too short or not RQ/AC. */
int dm_assoc_hdr_parse(const uint8_t *pdu, size_t len, struct dm_assoc_hdr *out);

/* A-ASSOCIATE-RJ (result/source/reason) or A-ABORT (source/reason; result 0). */
struct dm_reject {
	uint8_t result, source, reason;
};
int dm_reject_parse(const uint8_t *pdu, size_t len, struct dm_reject *out);
const char *dm_reject_reason_name(uint8_t source, uint8_t reason);
const char *dm_abort_reason_name(uint8_t source, uint8_t reason);

/* DIMSE command fields from a P-DATA-TF head (PDU header, PDV header, command set). */
#define DM_DIMSE_HAS_MSG_ID  0x01
#define DM_DIMSE_HAS_STATUS  0x02
#define DM_DIMSE_HAS_RESP_TO 0x04
struct dm_dimse {
	uint16_t command;      /* (0000,0100) */
	uint16_t message_id;   /* (0000,0110) */
	uint16_t responded_to; /* (0000,0120) */
	uint16_t status;       /* (0000,0900) */
	uint8_t pc_id;
	uint8_t present; /* DM_DIMSE_HAS_* */
};
/* 0 when a command field was found; -EINVAL for malformed, -ENODATA if none in len. */
int dm_dimse_parse(const uint8_t *pdu, size_t len, struct dm_dimse *out);
/* "success", "pending", "warning", "failure", "cancel" (PS3.7 Annex C). */
const char *dm_status_class(uint16_t status);

/*
 * Rebuilds one PDU from event pieces (offset-ordered). Bounded by cap; a gap
 * or an overflow marks it broken until the next first piece.
 */
struct dm_pdu_buf {
	uint8_t *data;
	size_t len, cap;
	uint8_t type;
	uint8_t broken;
	uint8_t active;
};
enum dm_piece_result {
	DM_PIECE_MORE = 0, /* waiting for more */
	DM_PIECE_DONE = 1, /* data[0..len) is the PDU (maybe truncated by the sender) */
	DM_PIECE_BAD = -1, /* gap, overflow or piece without a first */
};
int dm_pdu_buf_add(struct dm_pdu_buf *b, uint8_t type, uint32_t offset, const uint8_t *data,
		   size_t n, int first, int last);
void dm_pdu_buf_free(struct dm_pdu_buf *b);

#endif /* __DM_PDU_H */
