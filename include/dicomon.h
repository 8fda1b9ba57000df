/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Types shared by the BPF classifier (bpf/dicomon.bpf.c) and userspace.
 *
 * This is the one definition of every struct and enum that crosses the
 * kernel/user boundary: map keys and values, ring buffer events and the
 * read-only configuration block. Fields are fixed width, padding is explicit
 * and every layout is pinned with a _Static_assert so that a change on one
 * side cannot silently disagree with the other.
 */
#ifndef __DICOMON_H
#define __DICOMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define DM_ALEN	       16   /* bytes of an AE title on the wire */
#define DM_MAX_IFACES  64   /* interface slots in dm_stats; slot 0 = unknown */
#define DM_IFSLOT_HASH 1024 /* entries of dm_ifslots (indexed by ifindex % N) */
#define DM_PORT_WORDS  1024 /* 65536-bit DICOM port bitmap */
#define DM_PIECE_SMALL 256  /* data bytes of a small event piece */
#define DM_PIECE_MAX   2048 /* data bytes of a large event piece */
#define DM_HDR_BUF     12   /* PDU header (6) + first PDV header (6) */
#define DM_WEB_PORTS   8    /* HTTP (DICOMweb) ports in dm_bpf_config */
#define DM_HTTP_SNAP   1024 /* bytes of an HTTP request segment shipped (DM_EV_HTTP) */
#define DM_EVIDENCE_SNAP 1600 /* bytes of a frame shipped for evidence (DM_EV_PACKET) */
#define DM_CAND_BYTES  48   /* first bytes of a candidate flow held until it can be classified */
#define DM_ANOMALY_EVENTS 8 /* anomaly events per association and direction (more: counted) */

/* DICOM Upper Layer PDU types (PS3.8 9.3); index 0 collects invalid types. */
enum dm_pdu_type {
	DM_PDU_INVALID = 0,
	DM_PDU_ASSOC_RQ = 1,
	DM_PDU_ASSOC_AC = 2,
	DM_PDU_ASSOC_RJ = 3,
	DM_PDU_P_DATA = 4,
	DM_PDU_RELEASE_RQ = 5,
	DM_PDU_RELEASE_RP = 6,
	DM_PDU_ABORT = 7,
	DM_PDU_MAX,
};

/* Traffic classes: every packet is counted in exactly one. */
enum dm_class {
	DM_CLASS_DICOM,	    /* packets of a cleartext DICOM association */
	DM_CLASS_DICOM_TLS, /* packets of a DICOM-TLS association */
	DM_CLASS_TCP_OTHER, /* TCP that is not (known to be) DICOM */
	DM_CLASS_IP_OTHER,  /* IP that is not TCP, and non-first fragments */
	DM_CLASS_NON_IP,    /* not IPv4/IPv6 (ARP, LLDP, ...) and unparsable frames */
	DM_CLASS_MAX,
};

/* Direction relative to the association: the initiator sent the A-ASSOCIATE-RQ. */
enum dm_dir {
	DM_DIR_ORIG = 0,  /* initiator (SCU side) -> acceptor */
	DM_DIR_REPLY = 1, /* acceptor -> initiator */
	DM_DIR_MAX,
};

enum dm_transport {
	DM_TRANSPORT_UNKNOWN = 0,
	DM_TRANSPORT_CLEARTEXT = 1,
	DM_TRANSPORT_TLS = 2,
	DM_TRANSPORT_MAX,
};

enum dm_state {
	DM_STATE_UNKNOWN = 0,	  /* picked up mid-stream, set-up not seen */
	DM_STATE_REQUESTED,	  /* A-ASSOCIATE-RQ seen */
	DM_STATE_ACCEPTED,	  /* A-ASSOCIATE-AC seen */
	DM_STATE_REJECTED,	  /* A-ASSOCIATE-RJ seen */
	DM_STATE_RELEASING,	  /* A-RELEASE-RQ seen */
	DM_STATE_RELEASED,	  /* A-RELEASE-RP seen */
	DM_STATE_ABORTED,	  /* A-ABORT seen */
	DM_STATE_TLS_HELLO,	  /* TLS ClientHello seen */
	DM_STATE_TLS_ESTABLISHED, /* TLS ServerHello seen */
	DM_STATE_MAX,
};

/* How an association entered the table / left it. */
enum dm_assoc_counter {
	DM_ASSOC_NEW_CLEARTEXT, /* A-ASSOCIATE-RQ at the start of a payload */
	DM_ASSOC_NEW_TLS,	/* TLS ClientHello on a DICOM port */
	DM_ASSOC_NEW_MIDSTREAM, /* plausible PDU on a DICOM port, set-up not seen */
	DM_ASSOC_ACCEPTED,
	DM_ASSOC_REJECTED,
	DM_ASSOC_RELEASED,
	DM_ASSOC_ABORTED,
	DM_ASSOC_ENDED,	  /* TCP FIN from both sides or RST */
	DM_ASSOC_EVICTED, /* idle entry reclaimed for a new association */
	DM_ASSOC_MAX,
};

/* Reasons a packet could not be parsed; each is counted, none drops the packet. */
enum dm_err {
	DM_ERR_ETH_TRUNC,
	DM_ERR_VLAN_TRUNC,
	DM_ERR_VLAN_TOO_MANY, /* more than two VLAN tags */
	DM_ERR_IP4_TRUNC,
	DM_ERR_IP4_BAD_HDR, /* version != 4, IHL < 5, total length < IHL */
	DM_ERR_IP6_TRUNC,
	DM_ERR_IP6_EXT_LIMIT, /* more extension headers than we walk */
	DM_ERR_TCP_TRUNC,
	DM_ERR_TCP_BAD_DOFF, /* data offset < 5 or beyond the packet */
	DM_ERR_PDU_BAD_TYPE, /* PDU type 0 or > 7 where a header was due */
	DM_ERR_PDU_BAD_LEN,  /* PDU length implausible for its type */
	DM_ERR_PDV_BAD,	     /* P-DATA PDV item length or header implausible */
	DM_ERR_TLS_BAD,	     /* TLS hello with inconsistent lengths */
	DM_ERR_MAX,
};

/* Everything else that is counted. */
enum dm_counter {
	DM_CNT_IP_FRAGMENT,	   /* non-first IPv4/IPv6 fragments, skipped */
	DM_CNT_VLAN_OFFLOAD,	   /* VLAN id taken from metadata (tag stripped by NIC) */
	DM_CNT_MIDSTREAM,	   /* associations picked up mid-stream */
	DM_CNT_RESYNC,		   /* lost PDU boundary found again */
	DM_CNT_DESYNC,		   /* PDU boundary lost (gap over a header, bad header) */
	DM_CNT_GAP,		   /* segment beyond the next expected byte (loss, reordering) */
	DM_CNT_RETRANSMIT,	   /* segment entirely already seen */
	DM_CNT_PARTIAL_RETRANSMIT, /* segment partly already seen */
	DM_CNT_FLOW_INSERT,	   /* associations stored in the flow table */
	DM_CNT_FLOW_INSERT_FAIL,   /* association could not be stored */
	DM_CNT_FLOW_OVERFLOW,	   /* stored in the LRU overflow table (slot taken) */
	DM_CNT_FLOW_EVICT,	   /* idle slot occupant reclaimed */
	DM_CNT_RINGBUF_FAIL,	   /* ring buffer reserve failed: an event was lost */
	DM_CNT_EVENTS,		   /* events sent */
	DM_CNT_CTL_TRUNCATED,	   /* control PDU longer than ctl_max, tail not shipped */
	DM_CNT_WALK_LIMIT,	   /* more PDU headers in one segment than we walk */
	DM_CNT_RQ_NOT_PRINTABLE,   /* RQ-like bytes on a non-DICOM port with bad AE titles */
	DM_CNT_DIMSE_COMMANDS,	   /* command PDV heads shipped */
	DM_CNT_TLS_HELLO,	   /* TLS hellos inspected on DICOM associations */
	DM_CNT_HTTP_REQUESTS,	   /* HTTP request segments on the web ports (DM_EV_HTTP) */
	DM_CNT_EVIDENCE,	   /* frames of DICOM associations copied for evidence (DM_EV_PACKET) */
	DM_CNT_EVIDENCE_YIELD,	   /* evidence frames not copied: the ring was over half full */
	DM_CNT_CAND_NEW,	   /* flows held as candidates: first bytes too few to classify */
	DM_CNT_CAND_SEGMENTS,	   /* later segments merged into a candidate */
	DM_CNT_CAND_PROMOTED,	   /* candidates that turned out an A-ASSOCIATE-RQ */
	DM_CNT_CAND_HTTP,	   /* candidates that turned out an HTTP request (DM_EV_HTTP) */
	DM_CNT_CAND_DROPPED,	   /* candidates whose next bytes ruled them out */
	DM_CNT_CAND_EXPIRED,	   /* candidates found past the time bound, dropped */
	DM_CNT_CAND_FAIL,	   /* a candidate could not be stored */
	DM_CNT_CAND_REMOVED,	   /* candidates removed, for any reason (the rest were evicted) */
	DM_CNT_OVERLAP_CONFLICT,   /* a retransmission with other bytes than the first copy */
	DM_CNT_IP_FRAG_FIRST,	   /* first fragments of TCP datagrams (header, partial payload) */
	DM_CNT_IP_FRAG_PLACED,	   /* later fragments placed in their flow's stream */
	DM_CNT_ANOMALIES,	   /* anomaly events (DM_EV_ANOMALY) sent */
	DM_CNT_HTTP_CONT,	   /* HTTP request continuation segments shipped */
	DM_CNT_OOO_SHIPPED,	   /* control PDU bytes shipped ahead of a hole (out of order) */
	DM_CNT_OVERFLOW_REMOVED,   /* dm_overflow entries deleted (other inserts: evicted) */
	DM_CNT_FRAG_NEW,	   /* dm_frags entries inserted */
	DM_CNT_FRAG_REMOVED,	   /* dm_frags entries deleted (other inserts: evicted) */
	DM_CNT_SRC_NEW,		   /* dm_sources entries taken by a source */
	DM_CNT_SRC_UNTRACKED,	   /* new flows let through: their entry held another source */
	DM_CNT_SRC_LIMITED,	   /* new associations/RQ candidates refused: source over rate */
	DM_CNT_SRC_REFUNDED,	   /* charges given back: the acceptor answered (AC, RJ, ServerHello) */
	DM_CNT_MAX,
};

/*
 * What went wrong in one association's stream (DM_EV_ANOMALY, and per
 * direction in dm_dir_state.anomaly_codes): each lands in the association's
 * record as a violation with its stream offset, and in the metrics.
 */
enum dm_anomaly {
	DM_AN_NONE = 0,
	DM_AN_PDU_TYPE,	     /* invalid PDU type where a header was due (value: the type) */
	DM_AN_PDU_LENGTH,    /* PDU length 0, beyond max_pdu_len or wrong for its type (value) */
	DM_AN_PDV_LENGTH,    /* first PDV item length < 2 or beyond its PDU (value) */
	DM_AN_PDV_HEADER,    /* PDV context id even or reserved control bits (pcid << 8 | mch) */
	DM_AN_GAP,	     /* stream bytes never seen (value: how many) */
	DM_AN_HEADER_LOST,   /* a PDU header lay in bytes never seen: the walk lost the stream */
	DM_AN_RESYNC,	     /* the walk found the stream again on a plausible header */
	DM_AN_WALK_LIMIT,    /* more PDUs in one segment than the walk's steps (value: steps) */
	DM_AN_CTL_TRUNCATED, /* a control PDU longer than shipped (value: its length) */
	DM_AN_IP_FRAGMENT,   /* data in IP fragments (value: 1 placed in the stream, 0 not) */
	DM_AN_OVERLAP,	     /* a retransmission with other bytes than the first copy (which wins) */
	DM_AN_RING_LOST,     /* a piece of a PDU was lost to a full ring buffer */
	DM_AN_MAX,
};

enum dm_hook {
	DM_HOOK_XDP = 1,
	DM_HOOK_TC_INGRESS = 2,
	DM_HOOK_TC_EGRESS = 3,
	DM_HOOK_MAX,
};

/* Per-CPU, per-interface-slot counters (dm_stats); userspace sums the CPUs. */
struct dm_stats {
	__u64 pkts[DM_CLASS_MAX];
	__u64 bytes[DM_CLASS_MAX];
	__u64 pdus[DM_DIR_MAX][DM_PDU_MAX];
	__u64 pdu_bytes[DM_DIR_MAX][DM_PDU_MAX];
	__u64 assoc[DM_ASSOC_MAX];
	__u64 err[DM_ERR_MAX];
	__u64 cnt[DM_CNT_MAX];
};

/*
 * Normalised flow key: endpoint 0 is the numerically lower (address, port),
 * so both directions of a connection produce the same key. IPv4 addresses sit
 * in addr[i][0] with the rest zero. Ports in host byte order.
 */
struct dm_flow_key {
	__u32 addr[2][4]; /* network byte order */
	__u16 port[2];
	__u16 vlan[2]; /* outer, inner VLAN id; 0 = none */
	__u8 family;   /* 4 or 6 */
	__u8 pad[7];
};

/* dm_dir_state.flags */
#define DM_DF_SYNCED 0x01 /* hdr_seq is a real PDU boundary */
#define DM_DF_SEEN   0x02 /* next_seq is initialised */
/* 0x04 was a per-direction FIN flag: FINs are dm_assoc.fin_dirs, set atomically */
#define DM_DF_SHIP   0x08 /* a PDU is being shipped in continuation pieces */
#define DM_DF_HOLE   0x10 /* ... with bytes after a hole already shipped (hole_seq, hole_end, ahead_end) */

/* Per-direction stream state of one association. */
struct dm_dir_state {
	__u32 next_seq;		/* one past the highest stream byte seen */
	__u32 hdr_seq;		/* stream position of the next PDU header */
	__u64 bytes;		/* TCP payload bytes, each stream byte once */
	__u64 pkts;		/* segments, retransmissions included */
	__u32 pdus[DM_PDU_MAX]; /* PDU headers seen, by type */
	__u32 ship_seq;		/* stream position of the next byte owed to userspace */
	__u32 ship_left;	/* bytes still owed of the PDU being shipped */
	__u32 ship_off;		/* offset within that PDU of ship_seq */
	__u32 ship_pdu_len;	/* its PDU-length field */
	__u8 ship_pdu_type;
	__u8 ship_ev;  /* enum dm_event_type of the pieces */
	__u8 hdr_have; /* bytes buffered in hdr_buf of a split header */
	__u8 flags;    /* DM_DF_* */
	__u8 hdr_buf[DM_HDR_BUF];
	__u32 retransmits;
	__u32 gaps;
	__u32 resyncs;
	__u16 vlan[2];	     /* outer, inner VLAN id last seen in this direction */
	__u16 anomalies;     /* anomalies in this direction (saturating), events or not */
	__u16 anomaly_codes; /* bit (1 << enum dm_anomaly) per kind seen */
	__u32 hole_seq;	     /* DM_DF_HOLE: first byte missing of the PDU being shipped */
	__u32 hole_end;	     /* DM_DF_HOLE: one past the missing bytes: shipped from here */
	__u32 ahead_end;     /* DM_DF_HOLE: one past the bytes shipped ahead of the hole */
};

/* dm_assoc.flags */
#define DM_AF_MIDSTREAM 0x01 /* picked up mid-stream */
#define DM_AF_OVERFLOW	0x02 /* lives in dm_overflow, not in its slot */
#define DM_AF_AE_ODD	0x04 /* A-ASSOCIATE-RQ AE titles had non-printable bytes */
#define DM_AF_CANDIDATE 0x08 /* the RQ came in segments too short to classify: held until it could be */
#define DM_AF_IP_FRAG	0x10 /* some of its data came in IP fragments */
#define DM_AF_IP_FRAG_LOST 0x20 /* ... and some of them could not be placed in its stream */
#define DM_AF_SRC_CHARGED 0x40 /* its initiator's per-source budget paid for it: refunded when answered */

/*
 * One association: the value of both the direct-mapped table (dm_flows) and
 * the LRU overflow table (dm_overflow), and the payload of DM_EV_FLOW_END.
 */
struct dm_assoc {
	struct dm_flow_key key;
	__u64 id;	    /* association id, unique per boot */
	__u64 first_ns;	    /* bpf_ktime_get_ns() at detection */
	__u64 last_ns;	    /* last PDU header or control packet */
	__u32 ifindex;	    /* where it was first seen */
	__u8 state;	    /* enum dm_state */
	__u8 transport;	    /* enum dm_transport */
	__u8 init_side;	    /* key endpoint (0/1) that initiated */
	__u8 flags;	    /* DM_AF_* */
	__u16 tls_offered;  /* highest TLS version the client offered */
	__u16 tls_selected; /* TLS version the server selected */
	__u8 hook;	    /* enum dm_hook where it was first seen */
	__u8 spilled;	    /* slot only: flows hashing here that live in dm_overflow */
	__u16 cand_mark;    /* slot only: when a candidate hashing here was last stored
			     * (2^30 ns ticks, low 16 bits, never 0; 0 = never) */
	__u32 closed;	     /* set once, atomically, by whoever reports the end */
	__u32 evidence_sent; /* frames shipped for evidence (bounded by evidence_pkts) */
	__u32 fin_dirs;	     /* bit 1 << dir: that direction's FIN seen (atomic OR) */
	__u32 pad2;
	struct dm_dir_state dir[DM_DIR_MAX];
};

enum dm_event_type {
	DM_EV_NONE = 0,
	DM_EV_PDU,	/* control PDU (RQ/AC/RJ/release/abort), whole or a piece */
	DM_EV_DIMSE,	/* head of a P-DATA PDU whose first PDV is a command */
	DM_EV_TLS,	/* TLS ClientHello / ServerHello on a DICOM port */
	DM_EV_FLOW_END, /* association left the table, with its final counters */
	DM_EV_HTTP,	/* HTTP request segment on a web port (no association) */
	DM_EV_PACKET,	/* evidence: one frame of a DICOM association (evidence.dir) */
	DM_EV_ANOMALY,	/* something wrong in an association's stream (enum dm_anomaly) */
	DM_EV_MAX,
};

enum dm_end_reason {
	DM_END_FIN = 1, /* FIN seen from both sides */
	DM_END_RST,	/* TCP reset */
	DM_END_EVICT,	/* idle slot taken by a new association */
	DM_END_CAPTURE, /* replay only: the capture ended with the association open */
	/* userspace only (never in a kernel flow end): */
	DM_END_TABLE_EVICT, /* dropped from the userspace table (full, or its source's half-open limit) */
	DM_END_IDLE,	    /* no event for table.idle_timeout_seconds and the kernel idle too */
	DM_END_MAX,
};

/* dm_event_hdr.flags */
#define DM_EF_FIRST 0x01 /* piece starts at PDU offset 0 */
#define DM_EF_LAST  0x02 /* piece ends the PDU (or the shipped part of it) */
#define DM_EF_TRUNC 0x04 /* the PDU was longer than what is shipped */

struct dm_event_hdr {
	__u32 type; /* enum dm_event_type */
	__u32 len;  /* valid bytes in data[] (pieces) */
	__u64 ts_ns;
	__u64 assoc_id;
	struct dm_flow_key key;
	__u32 ifindex;
	__u8 dir; /* enum dm_dir */
	__u8 init_side;
	__u8 hook;  /* enum dm_hook */
	__u8 flags; /* DM_EF_* */
};

/*
 * DM_EV_PDU / DM_EV_DIMSE: bytes of one PDU starting at PDU offset `offset`.
 * A PDU longer than the segment arrives in several pieces with growing
 * offsets; FIRST and LAST mark the ends. data[] is DM_PIECE_SMALL or
 * DM_PIECE_MAX bytes long, depending on the record's size.
 */
struct dm_event_piece {
	struct dm_event_hdr hdr;
	__u32 pdu_len; /* PDU-length field (bytes after the 6-byte header) */
	__u32 offset;  /* offset within the PDU of data[0] */
	__u8 pdu_type;
	__u8 state; /* association state after this PDU */
	__u8 pad[6];
	__u8 data[];
};

/* DM_EV_TLS */
struct dm_event_tls {
	struct dm_event_hdr hdr;
	__u8 hs_type; /* 1 = ClientHello, 2 = ServerHello */
	__u8 pad;
	__u16 record_version; /* TLS record layer version */
	__u16 legacy_version; /* hello's legacy_version field */
	__u16 version;	      /* client: highest offered; server: selected */
};

/* DM_EV_FLOW_END */
struct dm_event_flow {
	struct dm_event_hdr hdr;
	__u32 reason; /* enum dm_end_reason */
	__u32 pad;
	struct dm_assoc assoc;
};

/*
 * DM_EV_HTTP: bytes of an HTTP request to one of the web ports, from its
 * first byte on: the request's first DM_HTTP_SNAP bytes, however the sender
 * cut them, arrive in one event per segment with growing offsets (a request
 * line cut short is held as a candidate until its method is known, then its
 * later segments follow). No association: assoc_id is 0, the key is the
 * flow key and init_side the sender's (client's) endpoint, dir DM_DIR_ORIG.
 * hdr.len bytes of data[] are valid, `offset` is the request-stream offset of
 * data[0]; DM_EF_FIRST at offset 0, DM_EF_LAST on the event that reaches
 * DM_HTTP_SNAP bytes (none follow), DM_EF_TRUNC when the segment (seg_len
 * bytes of payload) was longer than what was shipped of it.
 */
struct dm_event_http {
	struct dm_event_hdr hdr;
	__u32 seg_len;
	__u32 offset;
	__u8 data[DM_HTTP_SNAP];
};

/* DM_EV_ANOMALY: one per anomaly, DM_ANOMALY_EVENTS per association direction at most. */
struct dm_event_anomaly {
	struct dm_event_hdr hdr;
	__u32 code;   /* enum dm_anomaly */
	__u32 value;  /* what the code says (a length, a type, a byte count) */
	__u64 offset; /* stream offset in hdr.dir (bytes of that direction before it) */
};

/*
 * A candidate (dm_cands, keyed by the flow key): a TCP flow whose first
 * payload bytes could begin an A-ASSOCIATE-RQ (any port) or an HTTP request
 * (web ports) but are too few to say, held until the next bytes decide.
 */
#define DM_CAND_RQ	  1
#define DM_CAND_HTTP	  2 /* method not known yet */
#define DM_CAND_HTTP_SHIP 3 /* a request: its next bytes are shipped (DM_EV_HTTP) */
struct dm_cand {
	__u64 first_ns;	 /* its first segment (the time bound) */
	__u32 first_seq; /* stream position of buf[0] */
	__u32 next_seq;	 /* one past the last byte merged */
	__u32 ack;	 /* acknowledgement of its last segment: the peer's stream */
	__u32 shipped;	 /* DM_CAND_HTTP_SHIP: request bytes shipped so far */
	__u16 have;	 /* bytes in buf, from its first on, none missing */
	__u8 segs;	 /* segments merged (saturating) */
	__u8 kind;	 /* DM_CAND_* */
	__u8 side;	 /* key endpoint that sends the candidate bytes */
	__u8 flags;	 /* DM_CF_* */
	__u8 ooo_start;	 /* bytes [ooo_start, ooo_end) of buf came ahead of a gap (0, 0: none) */
	__u8 ooo_end;
	/*
	 * The first `have` (<= DM_CAND_BYTES) bytes; twice the room, so that a
	 * copy of up to DM_CAND_BYTES at any offset below DM_CAND_BYTES stays
	 * inside for the verifier.
	 */
	__u8 buf[2 * DM_CAND_BYTES];
};
#define DM_CF_CONFLICT 0x01 /* a retransmission differed from the bytes held (first wins) */

/*
 * DM_EV_PACKET: the first hdr.len bytes (at most DM_EVIDENCE_SNAP) of a frame
 * of a known DICOM association, as the hook saw it; hdr.dir its direction.
 * Only while the association has shipped fewer than evidence_pkts.
 */
struct dm_event_packet {
	struct dm_event_hdr hdr;
	__u32 wire_len;	 /* the frame's whole length */
	__u8 transport;	 /* enum dm_transport of the association */
	__u8 aflags;	 /* its DM_AF_* */
	__u8 pad[2];
	__u8 data[DM_EVIDENCE_SNAP];
};

/*
 * dm_sources (the program's .data, direct-mapped by a hash of the address):
 * the per-source limit on new associations and RQ candidates, per initiator
 * address (IPv4 in addr[0], the rest 0). Only a segment that would create
 * an association or an RQ candidate reads or writes it, never the bulk path.
 */
#define DM_SOURCES 4096 /* entries, a power of two */
struct dm_src {
	__u32 addr[4]; /* network byte order */
	__u32 family;  /* 4 or 6; 0: free */
	__u32 refused; /* new flows refused from this source since it took the entry */
	__u64 tat;     /* GCRA's theoretical arrival time of its next new flow (activity clock) */
};

/* dm_ifslots value: which dm_stats slot an ifindex counts in. */
struct dm_ifslot {
	__u32 ifindex;
	__u32 slot;
};

/*
 * Read-only configuration of the BPF side (.rodata, set before load).
 * Defaults are in bpf/dicomon.bpf.c and mirrored by userspace.
 */
struct dm_bpf_config {
	__u64 port_map[DM_PORT_WORDS]; /* bit p set: TCP port p is a DICOM port */
	__u64 idle_reclaim_ns;	       /* a slot idle this long may be taken by a new flow */
	__u32 slots_mask;	       /* dm_flows max_entries - 1 (power of two) */
	__u32 hash_seed;
	__u32 ctl_max;	    /* most bytes of one control PDU shipped */
	__u32 dimse_snap;   /* bytes of a command P-DATA PDU shipped (<= DM_PIECE_MAX) */
	__u32 max_pdu_len;  /* larger PDU lengths are implausible */
	__u32 wakeup_bytes; /* wake the reader only once this much is queued */
	__u8 any_port_rq;   /* detect A-ASSOCIATE-RQ on every port */
	__u8 midstream;	    /* pick up flows mid-stream on DICOM ports */
	__u8 tls;	    /* detect TLS on DICOM ports */
	__u8 dimse;	    /* ship DIMSE command heads */
	__u8 vlan_key;	    /* VLAN ids are part of the association key */
	__u8 bench_hold;    /* benchmarks only: the bulk path leaves the stream position
			     * where it was, so one segment can be replayed in order */
	__u8 n_web_ports;   /* valid entries of web_ports (0: no HTTP detection) */
	__u8 fine_clock;    /* activity stamps read the fine clock, not the tick */
	__u16 web_ports[DM_WEB_PORTS]; /* HTTP destination ports watched for DICOMweb */
	__u16 evidence_pkts;	       /* frames shipped per association (0: no evidence) */
	__u8 replay; /* `dicomon replay`: the clock is the capture's (dm_replay_now), events counted */
	__u8 wakeup_shift; /* log2(wakeup_bytes): the ring's fill level in marks is avail >> this */
	__u16 pad[2];
	__u64 cand_timeout_ns; /* a candidate older than this is dropped; 0: no candidates */
	/*
	 * Per-source limit on new associations and candidates (dm_sources), as a
	 * GCRA: one new flow per src_interval_ns, src_tolerance_ns of credit
	 * ((burst - 1) intervals). src_interval_ns 0: no limit.
	 */
	__u64 src_interval_ns;
	__u64 src_tolerance_ns;
};

/*
 * `dicomon replay` runs frames in batches: userspace writes up to
 * DM_BATCH_FRAMES frames into data[] of this map (mmap) and one
 * BPF_PROG_TEST_RUN of dicomon_replay classifies them in order, each copied
 * into the test run's packet (dicomon.bpf.c). The kernel's clock is then the
 * capture's: each frame's now_ns (its capture time + DM_REPLAY_EPOCH) is what
 * the classifier reads as "now" (dm_replay_now, maps.bpf.h), and the events
 * each frame made are counted so userspace knows which packet made which.
 */
#define DM_BATCH_FRAMES	   256
#define DM_BATCH_BYTES	   (1u << 20)  /* data[] where frames start (a power of two) */
#define DM_BATCH_FRAME_MAX 4096	       /* longest frame a batch holds (the kernel's page allows less) */
#define DM_REPLAY_EPOCH	   (1ULL << 52) /* added to capture times: never 0, like a real clock */

struct dm_batch_frame {
	__u64 now_ns; /* in: the frame's clock */
	__u32 off;    /* in: its first byte in data[] */
	__u32 len;    /* in: its length */
	__u32 events; /* out: events submitted in this batch up to and with this frame */
	__u32 pad;
};

struct dm_batch {
	__u32 n;	/* in: frames */
	__u32 direct;	/* in: 1: frame 0 is the test run's own packet (too long for data[]) */
	__u32 done;	/* out: frames run */
	__s32 err;	/* out: why the batch stopped at frame `done` (DM_BATCH_E*) */
	struct dm_batch_frame f[DM_BATCH_FRAMES];
	__u8 data[DM_BATCH_BYTES + DM_BATCH_FRAME_MAX];
};

#define DM_BATCH_EROOM 1 /* the frame does not fit the test run's packet: run it on its own */
#define DM_BATCH_EFULL 2 /* the ring buffer is a quarter full: drain it, then go on */
#define DM_BATCH_EBAD  3 /* a frame's offset or length is out of range */

#ifndef __bpf__
_Static_assert(sizeof(struct dm_flow_key) == 48, "dm_flow_key layout");
_Static_assert(sizeof(struct dm_dir_state) == 120, "dm_dir_state layout");
_Static_assert(sizeof(struct dm_assoc) == 344, "dm_assoc layout");
_Static_assert(sizeof(struct dm_event_hdr) == 80, "dm_event_hdr layout");
_Static_assert(sizeof(struct dm_event_piece) == 96, "dm_event_piece layout");
_Static_assert(sizeof(struct dm_event_flow) == 432, "dm_event_flow layout");
_Static_assert(sizeof(struct dm_event_anomaly) == 96, "dm_event_anomaly layout");
_Static_assert(sizeof(struct dm_cand) == 128, "dm_cand layout");
_Static_assert(sizeof(struct dm_src) == 32, "dm_src layout");
_Static_assert(sizeof(struct dm_event_http) == 88 + DM_HTTP_SNAP, "dm_event_http layout");
_Static_assert(sizeof(struct dm_event_packet) == 88 + DM_EVIDENCE_SNAP, "dm_event_packet layout");
_Static_assert(sizeof(struct dm_batch_frame) == 24, "dm_batch_frame layout");
_Static_assert(sizeof(struct dm_bpf_config) == 8 * DM_PORT_WORDS + 88, "dm_bpf_config layout");
_Static_assert(__builtin_offsetof(struct dm_bpf_config, web_ports) == 8 * DM_PORT_WORDS + 40,
	       "dm_bpf_config layout");
#endif

#endif /* __DICOMON_H */
