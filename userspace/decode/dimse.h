/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_DIMSE_H
#define __DM_DIMSE_H

#include <stddef.h>
#include <stdint.h>
#include "decode/pdu.h"

/*
 * DIMSE command set decoding (PS3.7 6.3 and Annex E, Implicit VR Little
 * Endian) from the head of a P-DATA-TF PDU: PDU header, PDV header(s), the
 * command bytes, possibly cut by the capture (--dimse-snap). A command set
 * fragmented over several PDVs of the PDU is joined (up to DM_DIMSE_CMD_MAX
 * bytes). What was present is reported; truncated/complete say how much.
 *
 * Kept, from the allow-list of decode/cmdkeep.h: the command field, SOP
 * class UIDs, message ids, move destination and originator AE titles,
 * priority, data set type, status, sub-operation counters. NOT kept, by
 * design: Affected/Requested SOP Instance UID (allowed, not needed here),
 * and, off the allow-list, Error Comment (free text), Offending Element,
 * Error ID, event/action type ids and Attribute Identifier List: only
 * whether they were present (and the comment's length). No element of a
 * data set is ever read.
 *
 * No allocation; struct dm_dimse_cmd is ~1.9 KiB (mostly the violation list), plus
 * a 4 KiB stack buffer during the decode.
 */

#define DM_DIMSE_CMD_MAX 4096 /* command set bytes decoded; real ones are < 600 */

/* dm_dimse_cmd.present: elements found (PS3.7 Table E.1-1) */
#define DM_DC_GROUP_LENGTH  (1u << 0)  /* (0000,0000) */
#define DM_DC_AFFECTED_SOP  (1u << 1)  /* (0000,0002) */
#define DM_DC_REQUESTED_SOP (1u << 2)  /* (0000,0003) */
#define DM_DC_COMMAND	    (1u << 3)  /* (0000,0100) */
#define DM_DC_MESSAGE_ID    (1u << 4)  /* (0000,0110) */
#define DM_DC_RESPONDED_TO  (1u << 5)  /* (0000,0120) */
#define DM_DC_MOVE_DEST	    (1u << 6)  /* (0000,0600) */
#define DM_DC_PRIORITY	    (1u << 7)  /* (0000,0700) */
#define DM_DC_DATA_SET_TYPE (1u << 8)  /* (0000,0800) */
#define DM_DC_STATUS	    (1u << 9)  /* (0000,0900) */
#define DM_DC_OFFENDING	    (1u << 10) /* (0000,0901): presence only */
#define DM_DC_ERROR_COMMENT (1u << 11) /* (0000,0902): presence and length only */
#define DM_DC_ERROR_ID	    (1u << 12) /* (0000,0903): presence only */
#define DM_DC_AFFECTED_INST (1u << 13) /* (0000,1000): presence only */
#define DM_DC_REQUEST_INST  (1u << 14) /* (0000,1001): presence only */
#define DM_DC_EVENT_TYPE    (1u << 15) /* (0000,1002): presence only */
#define DM_DC_ATTR_LIST	    (1u << 16) /* (0000,1005): presence only */
#define DM_DC_ACTION_TYPE   (1u << 17) /* (0000,1008): presence only */
#define DM_DC_REMAINING	    (1u << 18) /* (0000,1020) */
#define DM_DC_COMPLETED	    (1u << 19) /* (0000,1021) */
#define DM_DC_FAILED	    (1u << 20) /* (0000,1022) */
#define DM_DC_WARNING	    (1u << 21) /* (0000,1023) */
#define DM_DC_MOVE_ORIG_AE  (1u << 22) /* (0000,1030) */
#define DM_DC_MOVE_ORIG_ID  (1u << 23) /* (0000,1031) */

#define DM_DATA_SET_NONE 0x0101 /* Command Data Set Type: no data set follows */

/* Priority (0000,0700) */
#define DM_PRIORITY_MEDIUM 0x0000
#define DM_PRIORITY_HIGH   0x0001
#define DM_PRIORITY_LOW	   0x0002

struct dm_dimse_cmd {
	uint8_t pc_id;	   /* first PDV's presentation context id */
	uint8_t mch;	   /* first PDV's message control header */
	uint8_t complete;  /* the command set's last fragment is in the buffer */
	uint8_t truncated; /* the capture ended inside the command set */
	uint16_t n_pdvs;   /* PDV headers read */
	uint16_t n_elements;
	uint32_t pdu_len;      /* PDU-length field */
	uint32_t cmd_len;      /* command set bytes present (joined over fragments) */
	uint32_t group_length; /* (0000,0000) value */
	uint32_t present;      /* DM_DC_* */
	uint16_t command;      /* (0000,0100) */
	uint16_t message_id;
	uint16_t responded_to;
	uint16_t priority;
	uint16_t data_set_type;
	uint16_t status;
	uint16_t error_comment_len;
	uint16_t remaining, completed, failed, warning; /* sub-operations */
	uint16_t move_orig_msg_id;
	uint16_t data_pdvs_after;    /* data set PDVs after the command in this PDU */
	char affected_sop_class[65]; /* trailing NUL pad removed; '?' for non-printable */
	char requested_sop_class[65];
	struct dm_ae move_destination; /* (0000,0600) */
	struct dm_ae move_originator;  /* (0000,1030) */
	struct dm_violations viol;
};

/*
 * 0 when the buffer holds (the start of) a command set: fields found are in
 * out->present, problems in out->viol. -EINVAL when it is not a P-DATA-TF or
 * its first PDV is unreadable, -ENODATA when the first PDV is a data set
 * fragment (not a command). out is always initialised.
 */
int dm_dimse_decode(const uint8_t *pdu, size_t len, struct dm_dimse_cmd *out);
/*
 * The PDV header at pdu[pos] of a P-DATA-TF whose PDU ends at pdu_end, of
 * which len bytes are present: 0 with the fragment's offset and length (the
 * length cut to the PDU if it lies), -1 at the end or when unreadable.
 * Problems go to v (DM_V_PDATA).
 */
int dm_pdv_next(const uint8_t *pdu, size_t pos, size_t pdu_end, size_t len,
		struct dm_violations *v, size_t *frag, size_t *frag_len);
/* A data set follows: Command Data Set Type present and not 0x0101. */
int dm_dimse_has_data_set(const struct dm_dimse_cmd *c);
/*
 * Name of a status code in the context of a command (PS3.7 Annex C, PS3.4
 * service classes), e.g. 0xA801 with C-MOVE -> "Refused: Move Destination
 * unknown"; NULL when the code has no name. Class: dm_status_class().
 */
const char *dm_status_name(uint16_t command, uint16_t status);

#endif /* __DM_DIMSE_H */
