/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The association table: one record per association, built from ring buffer
 * events (the set-up PDUs decoded in full, DIMSE command heads, TLS hellos)
 * and closed by the flow-end event with the kernel's final counters.
 * Finished records stay for keep_finished seconds; memory is bounded by
 * max_assoc records (see struct dm_rec for the size of one), the oldest
 * finished record going first, then the oldest active one (counted).
 */
#ifndef __DM_TABLE_H
#define __DM_TABLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"
#include "decode/assoc_decode.h"
#include "assoc/cmdasm.h"
#include "decode/dimse.h"
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
struct dm_rec {
	struct dm_lru_node node; /* the table's: by id, least recently started first */
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
	uint32_t end_reason;	   /* enum dm_end_reason */

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

struct dm_table_stats {
	uint64_t active;
	uint64_t finished;
	uint64_t created;
	uint64_t evicted_finished; /* dropped before keep_finished ran out */
	uint64_t evicted_active;   /* dropped while the association was going on */
	uint64_t expired;	   /* finished and past keep_finished */
	uint64_t pdus_decoded;
	uint64_t pdus_broken;
	uint64_t violations;
};

struct dm_table;

#define DM_TABLE_DEFAULT_MAX	16384 /* as table.max_associations */
#define DM_TABLE_DEFAULT_KEEP_S 300

struct dm_table *dm_table_new(uint32_t max_assoc, uint32_t keep_finished_s);
void dm_table_free(struct dm_table *t);
void dm_table_set_limits(struct dm_table *t, uint32_t max_assoc, uint32_t keep_finished_s);
/* Called with an active record the table drops to make room, before it is freed. */
void dm_table_on_evict(struct dm_table *t, void (*fn)(void *ctx, struct dm_rec *r), void *ctx);
const struct dm_rec *dm_table_find(const struct dm_table *t, uint64_t id);
/* The record of the event's association, created from its header if new. */
struct dm_rec *dm_table_get(struct dm_table *t, const struct dm_event_hdr *h);
/* Feed a piece; returns 1, with pdu and len set, once the PDU is whole. */
int dm_table_piece(struct dm_table *t, struct dm_rec *r, const struct dm_event_piece *e,
		   const uint8_t **pdu, size_t *len);
void dm_table_control_pdu(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu,
			  size_t len);
/*
 * A DIMSE command head of direction dir; fills *c for the caller's printing.
 * -EAGAIN: a fragment of a command split over PDUs, kept (or dropped): no
 * command to print yet. The PDU's bytes held by the table are zeroed.
 */
int dm_table_dimse(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu, size_t len,
		   struct dm_dimse_cmd *c);
/*
 * A control PDU of direction dir still being rebuilt that will not be
 * finished (the flow ends, shipping stopped): 1 with what arrived in pdu and
 * len, to be decoded as it is (dm_table_control_pdu()); counted as a
 * violation when shorter than its length. 0 when there is none.
 */
int dm_table_pending(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t **pdu,
		     size_t *len);
/* One violation for the record (kept if there is room, always counted); capture: not the peer's. */
void dm_table_add_violation(struct dm_table *t, struct dm_rec *r, const struct dm_rec_viol *v,
			    bool capture);
/* n violations counted only (the datapath's, without events). */
void dm_table_count_violations(struct dm_table *t, struct dm_rec *r, uint32_t n, bool capture);
void dm_table_tls(struct dm_table *t, struct dm_rec *r, const struct dm_event_tls *e);
void dm_table_end(struct dm_table *t, struct dm_rec *r, const struct dm_event_flow *e);
/* Drop finished records older than keep_finished (now: monotonic ns). */
void dm_table_expire(struct dm_table *t, uint64_t now_ns);
const struct dm_table_stats *dm_table_stats(const struct dm_table *t);
/* Records, oldest first. */
void dm_table_foreach(const struct dm_table *t, void (*fn)(const struct dm_rec *, void *),
		      void *ctx);

const char *dm_outcome_name(unsigned int o);
/* AE titles as text (dm_ae_string), from the RQ, else the AC's echo; "" if unknown. */
const char *dm_rec_calling(const struct dm_rec *r);
const char *dm_rec_called(const struct dm_rec *r);
/* The record as JSON (the association fields; the caller adds event fields). */
void dm_rec_json(const struct dm_rec *r, json_object *o);

#endif /* __DM_TABLE_H */
