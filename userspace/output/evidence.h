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
 * structure kept so Wireshark still dissects the file. Command PDVs are
 * walked element by element (across fragments and segments): tags and
 * lengths are kept, values only when on the allow-list (decode/cmdkeep.h)
 * and not longer than their VR allows. A command PDV that does not parse
 * as a command set (group 0000, even lengths, tags ascending, lengths within
 * the group length and the last fragment, ending at its end) is zeroed from
 * the first byte that proves it and counted (bad_commands): before that
 * byte only tags, lengths and allowed values went. Bytes after the IP
 * datagram (Ethernet trailer) are zeroed. Where the walk cannot follow the
 * stream (a gap, a retransmission, an association picked up mid-stream,
 * bytes beyond the snap length) every payload byte from there on is zeroed.
 * TLS payloads (ciphertext) are kept.
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
	uint64_t redacted;     /* payload and trailer bytes zeroed */
	uint64_t bad_commands; /* command PDVs that did not parse as a command set */
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
	/* The command set being walked, across its fragments (PDVs, PDUs, segments). */
	uint8_t cmd;	  /* none, walking, bad (zeroed up to its last fragment's end) */
	uint8_t cmd_last; /* the PDV being walked is the command's last fragment */
	uint8_t en;	  /* element header bytes seen */
	uint8_t ev_keep;  /* the value being walked is on the allow-list */
	uint8_t in_glen, has_glen, any;
	uint16_t last_elem; /* the tag order: each element after the one before */
	uint8_t ebuf[8];
	uint32_t ev_left, glen_left, gval;
	uint32_t bad_cmds; /* command sets that did not parse (zeroed from there) */
};
/*
 * Redact one TCP segment's payload in place: seq its sequence number, data
 * the present bytes (present <= total, the rest beyond the snap length).
 * Returns the number of bytes zeroed.
 */
uint32_t dm_redact_segment(struct dm_redact *r, uint32_t seq, uint8_t *data, uint32_t present,
			   uint32_t total);

#endif /* __DM_EVIDENCE_H */
