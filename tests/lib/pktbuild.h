/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Packet crafting for BPF_PROG_TEST_RUN unit tests and benchmarks.
 *
 * Builds byte-exact Ethernet/VLAN/IPv4/IPv6/TCP/UDP/ICMP frames, DICOM Upper
 * Layer PDUs (PS3.8) with real DIMSE command sets (PS3.7) and TLS hellos, and
 * writes them to a classic pcap so every fixture can be checked in Wireshark.
 * All builders take (out, cap) and return the bytes written, or 0 when cap is
 * too small or the request is invalid; they never write past cap.
 * Output is deterministic (no clocks, no randomness) so fixtures diff cleanly.
 */
#ifndef __PKTBUILD_H
#define __PKTBUILD_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

/* IPv6 extension headers, always chained in this order (RFC 8200 4.1). */
#define PKT_IP6_HOPOPTS 0x1 /* 8 bytes, PadN */
#define PKT_IP6_ROUTING 0x2 /* 24 bytes, SRH type 4 with one segment = dst */
#define PKT_IP6_DSTOPTS 0x4 /* 16 bytes, PadN: a length other than 8 on purpose */
#define PKT_IP6_FRAG	0x8 /* 8 bytes */

struct pkt_spec {
	int family;		  /* 4 or 6 */
	const char *src, *dst;	  /* NULL: 10.0.0.1/10.0.0.2 or fd00::1/fd00::2 */
	uint16_t sport, dport;	  /* host order */
	uint32_t seq, ack;	  /* host order */
	uint8_t tcp_flags;	  /* 0: ACK|PSH with payload, ACK without */
	int nvlan;		  /* 0, 1 or 2 VLAN tags */
	uint16_t vlan[2];	  /* VLAN ids, outer first */
	uint16_t vlan_tpid_outer; /* 0 = 0x8100; 0x88a8 for QinQ; inner tag always 0x8100 */
	int ip4_opts_len;	  /* multiple of 4, <= 40: NOPs and a final EOL */
	uint16_t ip4_frag;	  /* fragment offset in 8-byte units */
	int ip4_mf;
	unsigned int ip6_ext;  /* PKT_IP6_* bitmask */
	uint16_t ip6_frag_off; /* fragment offset (8-byte units) with PKT_IP6_FRAG */
	int tcp_opts;	       /* 0 none; 1 MSS,SACKperm,TS,NOP,WS (20, SYN); 2 NOP,NOP,TS (12) */
	uint8_t proto;	       /* 0/6 TCP, 17 UDP, 1 ICMP echo (ICMPv6 echo on v6), other: raw */
	int ip6_mf;	       /* M flag of the IPv6 fragment header */
};

/*
 * Ethernet frame, dst 02:00:00:00:00:02 src 02:00:00:00:00:01. Lengths and
 * checksums are correct (TCP/UDP/ICMPv6 over the pseudo-header). Fragments
 * are not split: the L4 header is written even at a non-zero fragment offset,
 * so a test can prove the classifier does not trust ports found there.
 * payload may be NULL (zero fill). Returns frame length, 0 on error.
 */
size_t pkt_build(uint8_t *out, size_t cap, const struct pkt_spec *s, const void *payload,
		 size_t plen);
/* ARP who-has 10.0.0.2, padded to the 60-byte minimum as received off the wire. */
size_t pkt_build_arp(uint8_t *out, size_t cap);

/*
 * One TCP connection: keeps both directions' sequence numbers so a test can
 * emit a handshake and a multi-segment PDU stream that Wireshark reassembles.
 * The template is the client->server view; its seq/ack are the two ISNs.
 */
struct pkt_flow {
	struct pkt_spec spec;
	uint32_t next_seq[2]; /* [0] client, [1] server */
};

void pkt_flow_init(struct pkt_flow *f, const struct pkt_spec *tmpl);
/*
 * Next segment of from_server's direction. flags 0 as in pkt_spec; the ack
 * number is the peer's next sequence when ACK is set, SYN segments carry the
 * SYN options (tcp_opts 1). Sequence numbers advance only on success.
 */
size_t pkt_flow_next(struct pkt_flow *f, int from_server, uint8_t flags, uint8_t *out, size_t cap,
		     const void *payload, size_t plen);

/* DICOM Upper Layer PDUs (PS3.8 9.3), big-endian. */
#define PDU_UID_APP_CTX	     "1.2.840.10008.3.1.1.1"
#define PDU_UID_VERIFICATION "1.2.840.10008.1.1"
#define PDU_UID_IMPLICIT_LE  "1.2.840.10008.1.2"
#define PDU_UID_EXPLICIT_LE  "1.2.840.10008.1.2.1"
#define PDU_UID_CT_STORAGE   "1.2.840.10008.5.1.4.1.1.2"
#define PDU_UID_STUDY_FIND   "1.2.840.10008.5.1.4.1.2.2.1"
#define PDU_UID_STUDY_MOVE   "1.2.840.10008.5.1.4.1.2.2.2"
#define PDU_DCMTK_IMPL_UID   "1.2.276.0.7230010.3.0.3.6.7"
#define PDU_DCMTK_IMPL_VER   "OFFIS_DCMTK_367"

struct pdu_pc {
	uint8_t id;
	const char *abstract;
	const char *ts[4];
	int nts;
};

/* impl_version NULL omits item 0x55. The PC "result" byte is 0xFF as DCMTK sends it. */
size_t pdu_assoc_rq(uint8_t *out, size_t cap, const char *called, const char *calling,
		    const struct pdu_pc *pcs, int npcs, uint32_t max_len, const char *impl_uid,
		    const char *impl_version);
/* n (1..128) PCs 1,3,5,...: rotating storage SOP classes, Implicit + Explicit LE, DCMTK 3.6.7. */
size_t pdu_assoc_rq_n(uint8_t *out, size_t cap, const char *called, const char *calling, int n);
/* One 0x21 item per PC with its result and Implicit LE as the TS; DCMTK 3.6.7 user info. */
size_t pdu_assoc_ac(uint8_t *out, size_t cap, const char *called, const char *calling,
		    const uint8_t *pc_ids, const uint8_t *results, int npcs, uint32_t max_len);
/* The same with ts as every accepted context's transfer syntax. */
size_t pdu_assoc_ac_ts(uint8_t *out, size_t cap, const char *called, const char *calling,
		       const uint8_t *pc_ids, const uint8_t *results, int npcs, uint32_t max_len,
		       const char *ts);
size_t pdu_assoc_rj(uint8_t *out, size_t cap, uint8_t result, uint8_t source, uint8_t reason);
size_t pdu_release_rq(uint8_t *out, size_t cap);
size_t pdu_release_rp(uint8_t *out, size_t cap);
size_t pdu_abort(uint8_t *out, size_t cap, uint8_t source, uint8_t reason);

/* DIMSE Command Field values (PS3.7 E.1); a response is the request | 0x8000. */
#define DIMSE_C_STORE 0x0001
#define DIMSE_C_GET   0x0010
#define DIMSE_C_FIND  0x0020
#define DIMSE_C_MOVE  0x0021
#define DIMSE_C_ECHO  0x0030
#define DIMSE_RSP     0x8000

/*
 * P-DATA-TF with one PDV (MCH 0x03) holding an Implicit VR LE command set:
 * group length, Affected SOP Class UID (omitted when sop_class is NULL),
 * Command Field, Message ID or Message ID Being Responded To, Move
 * Destination when move_dest != NULL, Priority MEDIUM for C-STORE/GET/FIND/
 * MOVE requests (C-ECHO-RQ has none), Command Data Set Type (0x0101 none,
 * 0x0001 C-STORE-RQ, else 0x0000) and Status for responses.
 */
size_t pdu_pdata_command(uint8_t *out, size_t cap, uint8_t pcid, uint16_t command,
			 const char *sop_class, uint16_t msg_id, uint16_t status,
			 const char *move_dest, int has_dataset);
/*
 * P-DATA-TF with one data set PDV (MCH 0x00, or 0x02 when last) of len bytes:
 * a private element (0009,1010) header when len >= 8, then a byte pattern, so
 * a dissector walking the data set finds well-formed elements in every PDV.
 * Keep len even: Wireshark flags odd PDV lengths.
 */
size_t pdu_pdata_data(uint8_t *out, size_t cap, uint8_t pcid, size_t len, int last);

/*
 * TLS ClientHello record: supported_groups, ec_point_formats,
 * signature_algorithms, supported_versions (only when n > 0), key_share when a
 * version >= TLS 1.3 is offered, and padding (RFC 7685) to a 512-byte
 * handshake as OpenSSL and browsers send it (517-byte record).
 */
size_t tls_client_hello(uint8_t *out, size_t cap, uint16_t rec_ver, uint16_t legacy_ver,
			const uint16_t *versions, int n);
/*
 * TLS ServerHello record (record version min(legacy_ver, 0x0303)) echoing the
 * ClientHello session id. selected != 0 adds supported_versions; selected >=
 * 0x0304 adds key_share and picks TLS_AES_128_GCM_SHA256, otherwise
 * renegotiation_info and ec_point_formats with ECDHE-RSA-AES128-GCM-SHA256
 * (ECDHE-RSA-AES128-SHA below TLS 1.2): a key_share is illegal before 1.3.
 */
size_t tls_server_hello(uint8_t *out, size_t cap, uint16_t legacy_ver, uint16_t selected);

/* Classic pcap, LINKTYPE_ETHERNET, timestamps 1 ms apart from a fixed epoch. */
struct pkt_frame {
	const uint8_t *data;
	size_t len;
};

int pcap_write_frames(const char *path, const struct pkt_frame *frames, int n);

/*
 * The same format written frame by frame, for captures too large to hold:
 * open (NULL and errno on failure), one call per frame with its time in
 * microseconds after the fixed epoch, close (returns err, or the close's
 * -errno when err is 0). Writers return 0 or -errno.
 */
FILE *pcap_stream_open(const char *path);
int pcap_stream_frame(FILE *f, uint64_t t_us, const uint8_t *data, size_t len);
int pcap_stream_close(FILE *f, int err);

#endif /* __PKTBUILD_H */
