/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_EVIDENCE_H
#define __DM_EVIDENCE_H

/*
 * Evidence pcaps (evidence.dir): the BPF side ships the first
 * evidence.packets frames of each DICOM association (DM_EV_PACKET); they are
 * kept here per association, redacted as they arrive, and written to
 * DIR/dicomon-ID.pcap when a rule fires on the association (later frames
 * are appended). Kept frames of associations that end unalerted are dropped.
 *
 * Redaction (patient data never leaves in evidence either): each direction's
 * TCP stream is walked PDU by PDU; data-set PDV bytes (P-DATA-TF, message
 * control header bit 0 clear) and the values of user-identity sub-items
 * (0x58 username/passcode, 0x59 server response) are zeroed, lengths and
 * structure kept so Wireshark still dissects the file. Where the walk cannot
 * follow the stream (a gap, a retransmission, an association picked up
 * mid-stream, bytes beyond the snap length) every payload byte from there
 * on is zeroed. TLS payloads (ciphertext) are kept.
 */
#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"

struct dm_evidence;

struct dm_evidence_stats {
	uint64_t packets;      /* frames received */
	uint64_t files;	       /* pcaps created */
	uint64_t written;      /* frames written */
	uint64_t dropped;      /* frames not kept: memory bound, unparsable */
	uint64_t evicted;      /* associations whose kept frames were dropped for memory */
	uint64_t write_errors; /* files that could not be created or written */
	uint64_t redacted;     /* payload bytes zeroed */
	uint64_t refused;      /* files refused: a symlink, someone else's (lib/safefile.h) */
};

/* dir must exist (dm_evidence_prepare_dir). max_bytes bounds the frames kept in memory. */
struct dm_evidence *dm_evidence_new(const char *dir, uint64_t max_bytes);
void dm_evidence_free(struct dm_evidence *e);
/* The last component made 0700, or checked (lib/safefile.h); 0 or -errno (message in err). */
int dm_evidence_prepare_dir(const char *dir, char *err, size_t errlen);
/* A DM_EV_PACKET; wall_ns its time since the epoch. */
void dm_evidence_packet(struct dm_evidence *e, const struct dm_event_packet *pkt, size_t len,
			int64_t wall_ns);
/* A rule fired on association id: its pcap now (and its later frames). The path, or NULL. */
const char *dm_evidence_alert(struct dm_evidence *e, uint64_t id);
/* The association ended: forget it. */
void dm_evidence_end(struct dm_evidence *e, uint64_t id);
const struct dm_evidence_stats *dm_evidence_stats(const struct dm_evidence *e);

/* The stream redactor, exposed for tests: one direction of one association. */
struct dm_redact {
	uint8_t state, hn, sub_type, ctrl;
	bool started, desync;
	uint32_t next_seq;
	uint32_t pdu_left, pdv_left, item_left, ui_left, sv_off, sv_len, plen, body_off;
	uint8_t hbuf[6];
};
/*
 * Redact one TCP segment's payload in place: seq its sequence number, data
 * the present bytes (present <= total, the rest beyond the snap length).
 * Returns the number of bytes zeroed.
 */
uint32_t dm_redact_segment(struct dm_redact *r, uint32_t seq, uint8_t *data, uint32_t present,
			   uint32_t total);

#endif /* __DM_EVIDENCE_H */
