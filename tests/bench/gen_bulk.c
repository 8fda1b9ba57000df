// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A large capture of bulk DICOM for the replay benchmark (replay_bench.sh):
 * N associations one after the other, 10.0.0.1:<port> -> 10.0.0.2:104, each
 * a complete C-STORE as DCMTK's storescu sends a CT image:
 *   - TCP handshake (SYN options as Linux, NOP,NOP,TS on every later segment);
 *   - A-ASSOCIATE-RQ (CT Image Storage, Explicit then Implicit VR LE, max PDU
 *     16384, DCMTK's implementation UID), A-ASSOCIATE-AC accepting Explicit
 *     VR Little Endian;
 *   - the C-STORE-RQ command set (group length, SOP class and instance,
 *     priority) in its own P-DATA-TF, then the data set of D bytes in P-DATA-TF
 *     PDUs of length 16384 (one PDV of 16378 bytes, the last one short with
 *     MCH "last"): SOP Class and Instance UID, then Pixel Data (7FE0,0010) OB
 *     holding the rest, in Explicit VR LE;
 *   - the client's bytes in 1448-byte segments (MSS 1460 less the timestamp
 *     option), a pure ACK from the SCP after every second segment as Linux
 *     acknowledges a bulk stream;
 *   - C-STORE-RSP status 0, A-RELEASE-RQ/RP, FIN from the SCU, FIN from the
 *     SCP, last ACK.
 * Client ports and ISNs differ per association. Timestamps follow a 1 Gbit/s
 * link: each frame takes its length plus 24 bytes (preamble, FCS, gap) at
 * 8 ns a byte, the SCP answers 50 us after a request, associations start
 * 1 ms apart. No patient data: the UIDs are 2.25 UUID-derived numbers and the
 * pixel bytes a fixed pattern. Written as it goes, memory bounded by D;
 * deterministic: the same arguments give the same bytes.
 *
 *   gen_bulk OUT.pcap [-n ASSOCIATIONS] [-d DATASET_BYTES]
 *
 * Defaults: 100 associations of 3 MiB (3,145,728 bytes) each. D is even and
 * at least 128 (the UIDs and the Pixel Data header must fit).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktbuild.h"

#define FRAME_MAX   2048
#define MSS	    1448
#define MAX_PDU	    16384		 /* PDU-length of every full P-DATA-TF */
#define PDV_DATA    (MAX_PDU - 4 - 2)	 /* PDV length field, PC id, MCH */
#define PDU_FULL    (MAX_PDU + 6)	 /* bytes on the wire */
#define NS_PER_BYTE 8			 /* 1 Gbit/s */
#define WIRE_EXTRA  24			 /* preamble 8, FCS 4, inter-frame gap 12 */
#define REPLY_NS    50000u		 /* the SCP's answer to a request */
#define ACK_NS	    5000u		 /* the SCP's ACK after the segment it acks */
#define NEXT_NS	    1000000u		 /* between associations */
#define MAX_DATA    (512u * 1024 * 1024) /* keeps the stream buffer sane */
#define UID_ROOT    "2.25.31415926535897932384626433832795" /* + 7 digits: 44 chars */
#define PCID	    1

struct gen {
	FILE *f;
	uint64_t now_ns, last_ns, frames;
	struct pkt_flow flow;
	uint8_t frame[FRAME_MAX];
};

static void die(const char *what)
{
	fprintf(stderr, "gen_bulk: %s\n", what);
	exit(1);
}

static void emit_at(struct gen *g, uint64_t t_ns, int from_server, uint8_t flags, const uint8_t *p,
		    size_t n)
{
	size_t len = pkt_flow_next(&g->flow, from_server, flags, g->frame, sizeof(g->frame), p, n);
	int err;

	if (!len)
		die("a frame could not be built");
	if (t_ns < g->last_ns)
		t_ns = g->last_ns;
	err = pcap_stream_frame(g->f, t_ns / 1000, g->frame, len);
	if (err) {
		fprintf(stderr, "gen_bulk: write: %s\n", strerror(-err));
		exit(1);
	}
	g->last_ns = t_ns;
	if (g->now_ns < t_ns + (len + WIRE_EXTRA) * NS_PER_BYTE)
		g->now_ns = t_ns + (len + WIRE_EXTRA) * NS_PER_BYTE;
	g->frames++;
}

/* The next frame on the wire, after the previous one and an optional pause. */
static void emit(struct gen *g, uint64_t pause_ns, int from_server, uint8_t flags, const uint8_t *p,
		 size_t n)
{
	emit_at(g, g->now_ns + pause_ns, from_server, flags, p, n);
}

/* The SCP's ACK to the segment just sent: on the return path, it costs no forward time. */
static void scp_ack(struct gen *g)
{
	uint64_t now = g->now_ns;

	emit_at(g, g->last_ns + ACK_NS, 1, PKT_TCP_ACK, NULL, 0);
	g->now_ns = now > g->last_ns ? now : g->last_ns;
}

/* Implicit VR LE element (command sets). */
static size_t elem(uint8_t *o, uint16_t el, const void *v, uint32_t n)
{
	uint8_t h[8] = {0,
			0,
			(uint8_t)el,
			(uint8_t)(el >> 8),
			(uint8_t)n,
			(uint8_t)(n >> 8),
			(uint8_t)(n >> 16),
			(uint8_t)(n >> 24)};

	memcpy(o, h, 8);
	memcpy(o + 8, v, n);
	return 8 + n;
}

static size_t us(uint8_t *o, uint16_t el, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	return elem(o, el, x, 2);
}

static void be32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24), o[1] = (uint8_t)(v >> 16), o[2] = (uint8_t)(v >> 8),
	o[3] = (uint8_t)v;
}

/* P-DATA-TF header with one PDV of n value bytes: 12 bytes at o. */
static void pdata_head(uint8_t *o, uint8_t mch, size_t n)
{
	o[0] = 4, o[1] = 0;
	be32(o + 2, (uint32_t)n + 6);
	be32(o + 6, (uint32_t)n + 2);
	o[10] = PCID, o[11] = mch;
}

/*
 * C-STORE-RQ (rsp 0) or C-STORE-RSP status 0 as one P-DATA-TF PDU (MCH command,
 * last), group length first and counting the elements after it (PS3.7 E.1).
 */
static size_t store_cmd(uint8_t *o, int rsp, const char *iuid)
{
	static const char sop[] = PDU_UID_CT_STORAGE; /* 25 + NUL pad = 26 */
	uint8_t *c = o + 12;
	size_t n = 12;
	uint32_t g;

	n += elem(c + n, 0x0002, sop, sizeof(sop));
	n += us(c + n, 0x0100, rsp ? DIMSE_C_STORE | DIMSE_RSP : DIMSE_C_STORE);
	n += us(c + n, rsp ? 0x0120 : 0x0110, 1);
	if (!rsp)
		n += us(c + n, 0x0700, 0x0000); /* MEDIUM */
	n += us(c + n, 0x0800, rsp ? 0x0101 : 0x0000);
	if (rsp)
		n += us(c + n, 0x0900, 0x0000);
	n += elem(c + n, 0x1000, iuid, (uint32_t)strlen(iuid));
	g = (uint32_t)(n - 12);
	elem(c, 0x0000,
	     (uint8_t[4]){(uint8_t)g, (uint8_t)(g >> 8), (uint8_t)(g >> 16), (uint8_t)(g >> 24)},
	     4);
	pdata_head(o, 0x03, n);
	return 12 + n;
}

/* Explicit VR LE element header with a 2-byte length (UI). */
static size_t ex_ui(uint8_t *o, uint16_t group, uint16_t el, const char *v)
{
	size_t n = strlen(v) + 1;

	n &= ~(size_t)1; /* even, NUL-padded: v's terminator */
	o[0] = (uint8_t)group, o[1] = (uint8_t)(group >> 8), o[2] = (uint8_t)el,
	o[3] = (uint8_t)(el >> 8), o[4] = 'U', o[5] = 'I', o[6] = (uint8_t)n,
	o[7] = (uint8_t)(n >> 8);
	memcpy(o + 8, v, n);
	return 8 + n;
}

/*
 * The client's data set stream: ceil(D / 16378) P-DATA-TF PDUs back to back.
 * Returns the stream; *uid_off is where the SOP Instance UID's digits start,
 * patched per association.
 */
static uint8_t *data_stream(size_t d, size_t *len, size_t *uid_off)
{
	size_t npdu = (d + PDV_DATA - 1) / PDV_DATA, off = 0, ds = 0, pix;
	uint8_t *s = malloc(npdu * PDU_FULL), v[128];
	size_t h = 0;

	if (!s)
		die("out of memory for the data set stream");
	h += ex_ui(v + h, 0x0008, 0x0016, PDU_UID_CT_STORAGE);
	*uid_off = h + 8 + strlen(UID_ROOT) + 12; /* + PDU and PDV headers, added below */
	h += ex_ui(v + h, 0x0008, 0x0018, UID_ROOT "1000000");
	pix = d - h - 12;
	memcpy(v + h,
	       (uint8_t[12]){0xe0, 0x7f, 0x10, 0x00, 'O', 'B', 0, 0, (uint8_t)pix,
			     (uint8_t)(pix >> 8), (uint8_t)(pix >> 16), (uint8_t)(pix >> 24)},
	       12);
	h += 12;
	for (size_t i = 0; i < npdu; i++) {
		size_t n = d - ds < PDV_DATA ? d - ds : PDV_DATA;

		pdata_head(s + off, ds + n == d ? 0x02 : 0x00, n);
		off += 12;
		for (size_t k = 0; k < n; k++, ds++)
			s[off++] = ds < h ? v[ds] : (uint8_t)(ds * 7 + 1);
	}
	*len = off;
	return s;
}

/* Client bytes in MSS segments, PSH where a PDU ends, an SCP ACK every second one. */
static void client_bulk(struct gen *g, const uint8_t *s, size_t len, size_t npdu_bytes,
			unsigned int *unacked)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off < MSS ? len - off : MSS;
		int pdu_end = (off + n) / npdu_bytes != off / npdu_bytes || off + n == len;

		emit(g, 0, 0, pdu_end ? PKT_TCP_ACK | PKT_TCP_PSH : PKT_TCP_ACK, s + off, n);
		off += n;
		if (++*unacked == 2) {
			scp_ack(g);
			*unacked = 0;
		}
	}
}

static void association(struct gen *g, uint32_t i, uint8_t *stream, size_t slen, size_t uid_off)
{
	struct pdu_pc pc = {
	    PCID, PDU_UID_CT_STORAGE, {PDU_UID_EXPLICIT_LE, PDU_UID_IMPLICIT_LE}, 2};
	uint8_t ids[1] = {PCID}, res[1] = {0}, pdu[1024];
	char iuid[64];
	struct pkt_spec s = {
	    .family = 4,
	    .sport = (uint16_t)(32768 + i % 28000),
	    .dport = 104,
	    .seq = 0x10000000u + i * 2654435761u,
	    .ack = 0x60000000u + i * 40503u * 7919u,
	    .tcp_opts = 2,
	};
	unsigned int unacked = 0;
	size_t n;

	snprintf(iuid, sizeof(iuid), UID_ROOT "%07u", 1000000u + i % 9000000u);
	memcpy(stream + uid_off, iuid + strlen(UID_ROOT), 7);
	pkt_flow_init(&g->flow, &s);
	emit(g, NEXT_NS, 0, PKT_TCP_SYN, NULL, 0);
	emit(g, REPLY_NS, 1, PKT_TCP_SYN | PKT_TCP_ACK, NULL, 0);
	emit(g, REPLY_NS, 0, PKT_TCP_ACK, NULL, 0);
	n = pdu_assoc_rq(pdu, sizeof(pdu), "STORESCP", "STORESCU", &pc, 1, MAX_PDU,
			 PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	emit(g, 0, 0, 0, pdu, n);
	n = pdu_assoc_ac_ts(pdu, sizeof(pdu), "STORESCP", "STORESCU", ids, res, 1, MAX_PDU,
			    PDU_UID_EXPLICIT_LE);
	emit(g, REPLY_NS, 1, 0, pdu, n);
	n = store_cmd(pdu, 0, iuid);
	emit(g, REPLY_NS, 0, 0, pdu, n);
	unacked = 1;
	client_bulk(g, stream, slen, PDU_FULL, &unacked);
	n = store_cmd(pdu, 1, iuid);
	emit(g, REPLY_NS, 1, 0, pdu, n);
	n = pdu_release_rq(pdu, sizeof(pdu));
	emit(g, REPLY_NS, 0, 0, pdu, n);
	n = pdu_release_rp(pdu, sizeof(pdu));
	emit(g, REPLY_NS, 1, 0, pdu, n);
	emit(g, REPLY_NS, 0, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	emit(g, REPLY_NS, 1, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	emit(g, REPLY_NS, 0, PKT_TCP_ACK, NULL, 0);
}

static unsigned long num(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max) {
		fprintf(stderr, "gen_bulk: %s: '%s' is not a number up to %lu\n", what, s, max);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long nassoc = 100, d = 3u << 20;
	struct gen g = {0};
	size_t slen, uid_off;
	uint8_t *stream;
	int err = 0;

	if (argc < 2 || argc % 2)
		die("usage: gen_bulk OUT.pcap [-n ASSOCIATIONS] [-d DATASET_BYTES]");
	for (int a = 2; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "-n"))
			nassoc = num(argv[a + 1], "-n: a number of associations", 1000000);
		else if (!strcmp(argv[a], "-d"))
			d = num(argv[a + 1], "-d: data set bytes", MAX_DATA);
		else
			die("usage: gen_bulk OUT.pcap [-n ASSOCIATIONS] [-d DATASET_BYTES]");
	}
	if (d < 128 || d % 2)
		die("-d: the data set must be even and at least 128 bytes");
	g.f = pcap_stream_open(argv[1]);
	if (!g.f) {
		fprintf(stderr, "gen_bulk: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	stream = data_stream(d, &slen, &uid_off);
	for (unsigned long i = 0; i < nassoc; i++)
		association(&g, (uint32_t)i, stream, slen, uid_off);
	err = pcap_stream_close(g.f, err);
	free(stream);
	if (err) {
		fprintf(stderr, "gen_bulk: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	fprintf(stderr, "gen_bulk: %s: %lu associations, %lu-byte data sets, %llu frames\n",
		argv[1], nassoc, d, (unsigned long long)g.frames);
	return 0;
}
