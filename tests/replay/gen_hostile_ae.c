// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A capture of associations whose AE titles try to forge fields in dicomon's
 * text output (issue 14): one whole association per title (handshake, RQ with
 * the title as calling and called AE, the AC echoing both, a C-MOVE-RQ whose
 * Move Destination is the title where it holds no NUL, release, FIN both
 * ways), client 10.61.0.1 port 41000 + k, server 10.61.0.2 port 104.
 *
 *   gen_hostile_ae OUT.pcap OUT.tsv
 *
 * OUT.tsv: per association "SPORT<TAB>AE_HEX<TAB>MOVE_HEX" (the 16 title bytes
 * as sent; the Move Destination's bytes, "-" for none), what the checker
 * (test_hostile_ae.py) expects each text line to carry. Deterministic.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktbuild.h"

#define MAX_FRAMES 512
#define FRAME_MAX  2048

struct title {
	uint8_t raw[16];
	const char *move; /* a C string, so only titles without NUL; NULL: no C-MOVE */
};

/* Each a way to end a quoted value, start a field or a line, or hide bytes. */
static const struct title TITLES[] = {
    {"X\" called=\"ADMIN", "X\" called=\"ADMIN"},
    {"A\\\" outcome=\"ok", "A\\\" outcome=\"ok"},
    {"Q\\\\\" x=1 y=\"\\\\", "Q\\\\\" x=1 y=\"\\\\"},
    {"L1\nF=1 called=\"", "L1\nF=1 called=\""},
    {"C\r\t\x1b[2J=\"\x7f", "C\r\t\x1b[2J=\"\x7f"},
    {{'N', 'U', 'L', 0, '"', ' ', 'c', 'a', 'l', 'l', 'e', 'd', '=', '"', 'Z', '"'}, NULL},
    {{'H', 0x80, 0xc3, 0xa9, 0xff, '"', '=', '"', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '},
     "H\x80\xc3\xa9\xff\"=\""},
    {"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"", "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\""},
};
#define N_TITLES (sizeof(TITLES) / sizeof(TITLES[0]))

static uint8_t store[MAX_FRAMES][FRAME_MAX];
static struct pkt_frame frames[MAX_FRAMES];
static int n_frames;

static void die(const char *what)
{
	fprintf(stderr, "gen_hostile_ae: %s\n", what);
	exit(1);
}

static void seg(struct pkt_flow *f, int from_server, uint8_t flags, const uint8_t *p, size_t n)
{
	size_t len;

	if (n_frames == MAX_FRAMES)
		die("too many frames");
	len = pkt_flow_next(f, from_server, flags, store[n_frames], FRAME_MAX, p, n);
	if (!len)
		die("a frame could not be built");
	frames[n_frames].data = store[n_frames];
	frames[n_frames].len = len;
	n_frames++;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void association(int k, FILE *tsv)
{
	struct pdu_pc pc = {1, PDU_UID_STUDY_MOVE, {PDU_UID_IMPLICIT_LE}, 1};
	const struct title *t = &TITLES[k];
	uint8_t ids[1] = {1}, res[1] = {0}, pdu[1024];
	struct pkt_flow f;
	size_t n;
	struct pkt_spec s = {
	    .family = 4,
	    .src = "10.61.0.1",
	    .dst = "10.61.0.2",
	    .sport = (uint16_t)(41000 + k),
	    .dport = 104,
	    .seq = 0x11000000u + (uint32_t)k * 7919u,
	    .ack = 0x22000000u + (uint32_t)k * 104729u,
	};

	pkt_flow_init(&f, &s);
	seg(&f, 0, PKT_TCP_SYN, NULL, 0);
	seg(&f, 1, PKT_TCP_SYN | PKT_TCP_ACK, NULL, 0);
	seg(&f, 0, PKT_TCP_ACK, NULL, 0);
	/* Any placeholder of 16 bytes, then the title's raw bytes over it (NUL included). */
	n = pdu_assoc_rq(pdu, sizeof(pdu), "CALLED", "CALLING", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER);
	memcpy(pdu + 10, t->raw, 16);
	memcpy(pdu + 26, t->raw, 16);
	seg(&f, 0, 0, pdu, n);
	n = pdu_assoc_ac(pdu, sizeof(pdu), "CALLED", "CALLING", ids, res, 1, 16384);
	memcpy(pdu + 10, t->raw, 16);
	memcpy(pdu + 26, t->raw, 16);
	seg(&f, 1, 0, pdu, n);
	if (t->move) {
		n = pdu_pdata_command(pdu, sizeof(pdu), 1, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 1, 0,
				      t->move, 1);
		seg(&f, 0, 0, pdu, n);
	}
	seg(&f, 0, 0, pdu, pdu_release_rq(pdu, sizeof(pdu)));
	seg(&f, 1, 0, pdu, pdu_release_rp(pdu, sizeof(pdu)));
	seg(&f, 0, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	seg(&f, 1, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	seg(&f, 0, PKT_TCP_ACK, NULL, 0);
	fprintf(tsv, "%u\t", s.sport);
	hex(tsv, t->raw, 16);
	fputc('\t', tsv);
	if (t->move)
		hex(tsv, (const uint8_t *)t->move, strlen(t->move));
	else
		fputc('-', tsv);
	fputc('\n', tsv);
}

int main(int argc, char **argv)
{
	FILE *tsv;
	size_t k;

	if (argc != 3)
		die("usage: gen_hostile_ae OUT.pcap OUT.tsv");
	tsv = fopen(argv[2], "w");
	if (!tsv)
		die(strerror(errno));
	for (k = 0; k < N_TITLES; k++)
		association((int)k, tsv);
	if (fclose(tsv))
		die(strerror(errno));
	if (pcap_write_frames(argv[1], frames, n_frames))
		die("cannot write the capture");
	return 0;
}
