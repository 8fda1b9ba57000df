// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A planted-canary capture for the evidence redaction test
 * (test_evidence_canary.sh): one cleartext C-STORE association
 * 10.0.0.1:40000 -> 10.0.0.2:104 whose every place patient data could hide
 * holds a canary:
 *   - the C-STORE-RQ's data set: Patient Name LEAK^CANARY, Patient ID CANARY123;
 *   - the C-STORE-RSP's Error Comment (0000,0902) "Patient LEAK^CANARY id
 *     CANARY123 mismatch", its Offending Element (0000,0901) and an unknown
 *     element (0000,0999) "CANARYUNKNOWN1", the command split over two PDUs
 *     (two TCP segments) inside the comment;
 *   - a data set (FAKE^CANARY) in a PDV whose control header says "command";
 *   - Ethernet trailers "TRAILER^CANARY" after the IP datagram of an ACK, the
 *     response's second segment and the release request.
 *
 *   gen_canary OUT.pcap
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktbuild.h"

#define MAXF	 32
#define FRAME_SZ 4096
#define TRAILER	 "TRAILER^CANARY"

static uint8_t frames[MAXF][FRAME_SZ];
static struct pkt_frame fr[MAXF];
static int nf;

static void die(const char *what)
{
	fprintf(stderr, "gen_canary: %s\n", what);
	exit(1);
}

/* A segment of the flow; trailer: Ethernet trailer bytes after the IP datagram. */
static void seg(struct pkt_flow *f, int from_server, uint8_t flags, const uint8_t *p, size_t n,
		int trailer)
{
	size_t len;

	if (nf == MAXF)
		die("too many frames");
	len = pkt_flow_next(f, from_server, flags, frames[nf], FRAME_SZ - 64, p, n);
	if (!len)
		die("a frame could not be built");
	if (trailer) {
		memcpy(frames[nf] + len, TRAILER, strlen(TRAILER));
		len += strlen(TRAILER);
	}
	fr[nf].data = frames[nf];
	fr[nf].len = len;
	nf++;
}

/* Implicit VR Little Endian element (command sets and this data set alike). */
static size_t elem(uint8_t *o, uint16_t group, uint16_t el, const void *v, uint32_t n)
{
	uint8_t h[8] = {(uint8_t)group, (uint8_t)(group >> 8), (uint8_t)el, (uint8_t)(el >> 8),
			(uint8_t)n,	(uint8_t)(n >> 8),     (uint8_t)(n >> 16), (uint8_t)(n >> 24)};

	memcpy(o, h, 8);
	memcpy(o + 8, v, n);
	return 8 + n;
}

static size_t us(uint8_t *o, uint16_t el, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	return elem(o, 0, el, x, 2);
}

/* P-DATA-TF with one PDV of n bytes, message control header mch. */
static size_t pdata(uint8_t *o, uint8_t mch, const uint8_t *v, size_t n)
{
	uint32_t pdu = (uint32_t)n + 6, pdv = (uint32_t)n + 2;
	uint8_t h[12] = {4,	       0,	  (uint8_t)(pdu >> 24), (uint8_t)(pdu >> 16),
			 (uint8_t)(pdu >> 8), (uint8_t)pdu, (uint8_t)(pdv >> 24), (uint8_t)(pdv >> 16),
			 (uint8_t)(pdv >> 8), (uint8_t)pdv, 1,			 mch};

	memcpy(o, h, 12);
	memcpy(o + 12, v, n);
	return 12 + n;
}

/* The failed C-STORE-RSP's command set, group length first. */
static size_t store_rsp(uint8_t *c)
{
	static const char comment[] = "Patient LEAK^CANARY id CANARY123 mismatch "; /* even */
	size_t n = 12;
	uint32_t g;

	n += elem(c + n, 0, 0x0002, PDU_UID_CT_STORAGE, sizeof(PDU_UID_CT_STORAGE)); /* 25 + NUL */
	n += us(c + n, 0x0100, DIMSE_C_STORE | DIMSE_RSP);
	n += us(c + n, 0x0120, 1);
	n += us(c + n, 0x0800, 0x0101);
	n += us(c + n, 0x0900, 0xa900);
	n += elem(c + n, 0, 0x0901, "\x10\x00\x10\x00", 4);
	n += elem(c + n, 0, 0x0902, comment, (uint32_t)strlen(comment));
	n += elem(c + n, 0, 0x0999, "CANARYUNKNOWN1", 14);
	n += elem(c + n, 0, 0x1000, "1.2.826.0.1.3680043.2.1125.1\0", 30);
	g = (uint32_t)n - 12;
	elem(c, 0, 0x0000, &g, 4); /* little-endian hosts */
	return n;
}

int main(int argc, char **argv)
{
	struct pdu_pc pc = {1, PDU_UID_CT_STORAGE, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t ids[1] = {1}, res[1] = {0}, pdu[2048], v[1024];
	struct pkt_spec s = {.family = 4, .sport = 40000, .dport = 104, .seq = 1000, .ack = 9000};
	struct pkt_flow f;
	size_t n, k, cut;

	if (argc != 2)
		die("usage: gen_canary OUT.pcap");
	pkt_flow_init(&f, &s);
	seg(&f, 0, PKT_TCP_SYN, NULL, 0, 0);
	seg(&f, 1, PKT_TCP_SYN | PKT_TCP_ACK, NULL, 0, 0);
	seg(&f, 0, PKT_TCP_ACK, NULL, 0, 0);
	n = pdu_assoc_rq(pdu, sizeof(pdu), "PACS", "MODALITY", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER);
	seg(&f, 0, 0, pdu, n, 0);
	seg(&f, 1, PKT_TCP_ACK, NULL, 0, 1);
	n = pdu_assoc_ac(pdu, sizeof(pdu), "PACS", "MODALITY", ids, res, 1, 16384);
	seg(&f, 1, 0, pdu, n, 0);
	/* C-STORE-RQ and its data set */
	n = pdu_pdata_command(pdu, sizeof(pdu), 1, DIMSE_C_STORE, PDU_UID_CT_STORAGE, 1, 0, NULL, 1);
	seg(&f, 0, 0, pdu, n, 0);
	k = elem(v, 0x0010, 0x0010, "LEAK^CANARY ", 12);
	k += elem(v + k, 0x0010, 0x0020, "CANARY123 ", 10);
	n = pdata(pdu, 0x02, v, k);
	seg(&f, 0, 0, pdu, n, 0);
	/* C-STORE-RSP, split over two PDUs inside the error comment, one segment each */
	k = store_rsp(v);
	cut = (size_t)((uint8_t *)memmem(v, k, "LEAK", 4) - v) & ~(size_t)1; /* even: Wireshark */
	n = pdata(pdu, 0x01, v, cut);
	seg(&f, 1, 0, pdu, n, 0);
	n = pdata(pdu, 0x03, v + cut, k - cut);
	seg(&f, 1, 0, pdu, n, 1);
	/* a data set sent as if it were a command */
	k = elem(v, 0x0010, 0x0010, "FAKE^CANARY ", 12);
	n = pdata(pdu, 0x03, v, k);
	seg(&f, 0, 0, pdu, n, 0);
	n = pdu_release_rq(pdu, sizeof(pdu));
	seg(&f, 0, 0, pdu, n, 1);
	n = pdu_release_rp(pdu, sizeof(pdu));
	seg(&f, 1, 0, pdu, n, 0);
	seg(&f, 0, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0, 0);
	seg(&f, 1, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0, 0);
	seg(&f, 0, PKT_TCP_ACK, NULL, 0, 0);
	return pcap_write_frames(argv[1], fr, nf) ? 1 : 0;
}
