/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One association's record: what the set-up PDUs, DIMSE command heads, TLS
 * hellos and the flow end said of it (table.c builds it, keeps it and ages
 * it out). What leaves the process (the EVE feed, the event lines, the rules,
 * the metrics) reads the record, never the table.
 */
#ifndef __DM_RECORD_H
#define __DM_RECORD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"
#include "decode/assoc_decode.h"
#include "assoc/cmdasm.h"
#include "decode/fingerprint.h"
#include "decode/pdu.h"
#include "lib/lru.h"

#define DM_REC_MAX_MOVE	    4	       /* move destinations / originators kept */
#define DM_REC_MAX_VIOL	    16	       /* protocol violations kept (all are counted) */
#define DM_REC_CMDS	    32	       /* distinct DIMSE command fields counted */
#define DM_REC_DECODE_MAX   (32 << 10) /* heap of one kept set-up decode */
#define DM_REC_DECODE_INPUT (16 << 10) /* bytes decoded again when it is more */

enum dm_outcome {
	DM_OUT_INCOMPLETE = 0,
	DM_OUT_ACCEPTED,
	DM_OUT_REJECTED,
	DM_OUT_ABORTED,
	DM_OUT_RELEASED,
	DM_OUT_MAX,
};

/*
 * A protocol violation of an association: a decoder's (dir known, offset
 * not), or one the datapath found in the stream (stream_*: dir and the
 * stream offset, unless it was only counted). Never any PHI in text.
 */
struct dm_rec_viol {
	uint16_t code;	    /* enum dm_viol */
	int8_t dir;	    /* enum dm_dir of the bytes at fault, -1 unknown */
	uint8_t has_offset; /* offset is known */
	uint64_t offset;    /* stream offset in dir: bytes of that direction before it */
	char text[DM_VIOL_TEXT];
};

/* Why the set-up (RQ, and AC/RJ if any) was not decoded whole: decode_incomplete. */
enum dm_incomplete {
	DM_INC_MIDSTREAM,     /* set-up never seen */
	DM_INC_GAP,	      /* bytes of a set-up PDU never seen, or its pieces broken */
	DM_INC_TRUNCATED,     /* a set-up PDU shorter than its length when the flow ended */
	DM_INC_PDU_LENGTH,    /* its length field lied: decoded from its first bytes */
	DM_INC_CTL_TRUNCATED, /* longer than the shipping limit (ctl_max) */
	DM_INC_IP_FRAGMENTS,  /* data came in IP fragments */
	DM_INC_RING_BUFFER,   /* a piece lost to a full ring buffer */
	DM_INC_MAX,
};

/*
 * One association. The A-ASSOCIATE-RQ and -AC are kept decoded (rq, ac: a
 * few KiB, ~11 KiB for 128 presentation contexts; a larger one is decoded
 * again from its first DM_REC_DECODE_INPUT bytes, under 48 KiB: tested),
 * everything else is fixed size (~4 KiB, 2 of them the violations): a
 * record takes 4-20 KiB, about 100 KiB at most. A command set being joined
 * takes 4 KiB more while it lasts.
 */
struct dm_halfopen_src;

struct dm_rec {
	struct dm_lru_node node; /* the table's: by id; finished, then active, each oldest first */
	uint64_t id;
	struct dm_flow_key key;
	uint32_t ifindex;
	uint8_t init_side;
	uint8_t hook;
	uint8_t transport; /* enum dm_transport */
	uint8_t state;	   /* enum dm_state, last known */
	bool finished;
	bool midstream;
	uint16_t tls_offered, tls_selected;
	uint64_t start_ns, end_ns; /* monotonic */
	uint64_t last_ns;	   /* its last event, or the kernel's last activity (idle timeout) */
	uint32_t end_reason;	   /* enum dm_end_reason */
	/* Half-open (nothing from the acceptor yet): its source's list, oldest first (table.c). */
	bool answered;
	struct dm_halfopen_src *src;		/* NULL: not half-open (or not tracked) */
	struct dm_rec *src_older, *src_newer;

	struct dm_assoc_info *rq, *ac; /* decoded set-up, NULL until seen */
	struct dm_fingerprint fp;      /* from the RQ, refined at the end */
	bool have_fp;
	bool decode_cut; /* a set-up decode was too large: its first bytes only */

	/* Outcome. */
	uint8_t outcome; /* enum dm_outcome */
	bool rejected, aborted, release_rq, release_rp;
	struct dm_reject reject; /* RJ result/source/reason */
	struct dm_reject abort;	 /* A-ABORT source/reason */

	/* DIMSE. */
	struct {
		uint16_t field;
		uint32_t count;
	} cmds[DM_REC_CMDS];
	uint8_t n_cmds;
	uint32_t n_commands;
	uint32_t statuses[DM_SCLASS_MAX]; /* by enum dm_sclass */
	char move_dest[DM_REC_MAX_MOVE][DM_AE_STR];
	char move_orig[DM_REC_MAX_MOVE][DM_AE_STR];
	uint8_t n_move_dest, n_move_orig;

	/* Protocol violations of every decode and of the stream (never any PHI): first few, all counted. */
	uint32_t n_viol;
	uint32_t n_viol_capture; /* of them, what tells of the capture, not the peer (gaps, loss) */
	struct dm_rec_viol viol[DM_REC_MAX_VIOL];

	/* How whole the set-up decode is, and what the datapath reported (integrity.c). */
	uint8_t aflags;			/* DM_AF_* of the flow end */
	uint8_t inc;			/* reasons known so far: bit 1 << enum dm_incomplete */
	uint8_t setup_done[DM_DIR_MAX]; /* the direction's set-up PDU was decoded whole */
	uint8_t last_trunc[DM_DIR_MAX]; /* the PDU just rebuilt was cut by the shipping limit */
	uint16_t an_codes[DM_DIR_MAX];	/* anomaly kinds with an event: bit 1 << enum dm_anomaly */
	uint16_t an_events[DM_DIR_MAX]; /* anomaly events received */

	/* From the kernel: final at flow end. */
	struct dm_dir_state dir[DM_DIR_MAX];

	struct dm_pdu_buf buf[DM_DIR_MAX]; /* pieces being rebuilt */
	struct dm_cmd_asm cmd[DM_DIR_MAX]; /* command fragments being joined */
};

/* Frees the record and everything it holds (decodes, buffers). */
void dm_rec_free(struct dm_rec *r);
const char *dm_outcome_name(unsigned int o);
/* AE titles as text (dm_ae_string), from the RQ, else the AC's echo; "" if unknown. */
const char *dm_rec_calling(const struct dm_rec *r);
const char *dm_rec_called(const struct dm_rec *r);
/* The record as JSON (the association fields; the caller adds event fields). */
void dm_rec_json(const struct dm_rec *r, json_object *o);

/* One violation for the record (kept if there is room, always counted); capture: not the peer's. */
void dm_rec_add_violation(struct dm_rec *r, const struct dm_rec_viol *v, bool capture);
/* n violations counted only (the datapath's, without events). */
void dm_rec_count_violations(struct dm_rec *r, uint32_t n, bool capture);
/* decode_incomplete: bit 1 << enum dm_incomplete per reason, 0 when the set-up was decoded whole. */
unsigned int dm_rec_incomplete(const struct dm_rec *r);
/* "midstream", "gap", ...; "?" out of range. */
const char *dm_incomplete_name(unsigned int reason);
/* null for no reason, else the reasons' names (enum order). */
json_object *dm_incomplete_json(unsigned int reasons);

#endif /* __DM_RECORD_H */
