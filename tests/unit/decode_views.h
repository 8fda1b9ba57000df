/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DECODE_VIEWS_H
#define __DECODE_VIEWS_H

/*
 * The decoders seen whole, for the tests (unit, BPF, fuzz) only: linked into
 * them from tests/unit/decode_views.c, never into dicomon, which shows what
 * the association record (assoc/table.c) and the events keep.
 */
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "decode/assoc_decode.h"
#include "decode/dimse.h"

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
/*
 * 0 when a command field was found; -EINVAL for malformed, -ENODATA if none
 * in len. A summary of dm_dimse_decode() (dimse.h), which tells why.
 */
int dm_dimse_parse(const uint8_t *pdu, size_t len, struct dm_dimse *out);

/*
 * Every field of a decoded A-ASSOCIATE-RQ/AC or DIMSE command set as JSON
 * (snake_case keys, UIDs with their registry names, absent fields left
 * out), violations included. A new object the caller owns.
 */
json_object *dm_assoc_json(const struct dm_assoc_info *a);
json_object *dm_dimse_json(const struct dm_dimse_cmd *c);
/* Priority (0000,0700): "medium", "high", "low", NULL for other values. */
const char *dm_priority_name(uint16_t priority);

#endif /* __DECODE_VIEWS_H */
