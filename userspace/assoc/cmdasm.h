/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * DIMSE command sets split over P-DATA-TF PDUs (PS3.8 Annex E: message
 * control header bit 0 = command, bit 1 = last fragment): a peer with a small
 * maximum PDU length sends one command in several PDUs. The BPF side ships
 * the whole PDU when its first PDV is a command fragment that is not the
 * last, the command PDV alone when it is the last. Per association direction
 * the fragments of one presentation context are joined here, up to
 * DM_CMD_ASM_MAX bytes, and the command is decoded once, as Wireshark does.
 *
 * Only command PDVs are copied: a data set PDV in the same PDU is skipped
 * over (its header read, never its bytes). A command that is whole in its
 * PDU goes to the decoder as it came: nothing changes for it.
 */
#ifndef __DM_CMDASM_H
#define __DM_CMDASM_H

#include <stddef.h>
#include <stdint.h>
#include "decode/pdu.h"

#define DM_CMD_ASM_MAX	 4096 /* command bytes joined (the decoder's DM_DIMSE_CMD_MAX) */
#define DM_CMD_ASM_STUBS 8    /* data set PDVs after the last fragment, told to the decoder */

enum dm_cmd_asm_state {
	DM_CA_IDLE = 0, /* no command unfinished */
	DM_CA_COLLECT,	/* fragments kept, the next ones to come */
	DM_CA_SKIP,	/* the rest of a command already judged: dropped up to its last fragment */
};

struct dm_cmd_asm {
	uint8_t *buf;  /* heap, while collecting: a P-DATA-TF head, then the command bytes */
	uint32_t len;  /* command bytes in buf (after its 12-byte head) */
	uint32_t want; /* the fragments' lengths as sent */
	uint16_t frags;
	uint8_t pc_id;
	uint8_t state; /* enum dm_cmd_asm_state */
	uint8_t cut;   /* bytes of the command are missing (shipping limit, overflow) */
};

enum dm_cmd_result {
	DM_CMD_DECODE = 0, /* *out, *out_len: a P-DATA-TF to decode now */
	DM_CMD_WAIT,	   /* fragments kept: nothing to decode yet */
	DM_CMD_DROP,	   /* nothing to decode: the rest of a command already judged */
};

/*
 * A P-DATA-TF head of one direction (pdu[0..len), as shipped). Returns what
 * to do (enum dm_cmd_result); a joined command is a P-DATA-TF of one PDV
 * built in a->buf, valid until dm_cmd_asm_done(). A broken sequence (another
 * context, a data set PDV before the last fragment, more than
 * DM_CMD_ASM_MAX bytes) is a cmd_fragment violation in v.
 */
int dm_cmd_asm_pdu(struct dm_cmd_asm *a, const uint8_t *pdu, size_t len, const uint8_t **out,
		   size_t *out_len, struct dm_violations *v);
/* After a DM_CMD_DECODE: the joined bytes are zeroed and freed unless still collecting. */
void dm_cmd_asm_done(struct dm_cmd_asm *a);
/* The association ended: a command still unfinished is a violation. Frees. */
void dm_cmd_asm_end(struct dm_cmd_asm *a, struct dm_violations *v);
void dm_cmd_asm_free(struct dm_cmd_asm *a);

#endif /* __DM_CMDASM_H */
