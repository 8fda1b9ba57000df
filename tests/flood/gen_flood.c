// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A flood of half-open A-ASSOCIATE-RQs as a capture: N flows from one
 * source (10.66.0.1, source ports 1024.., destination ports 104 and 11112 in
 * turn), each a single segment holding an RQ (calling FLOOD<n>, called
 * PACS) that nobody answers. With --real K, K whole Verification
 * associations from other sources (10.77.0.<k>, calling REAL<k>) are spread
 * evenly through the flood: handshake and RQ, then S flood flows later
 * (--spread, default 0) the AC, C-ECHO request and response, release, FIN
 * both ways.
 *
 *   gen_flood OUT.pcap N [--real K] [--spread S] [--interval-us U]
 *
 * Packets are U microseconds apart (default 40: 25,000 RQ/s). Written as it
 * goes (classic pcap, Ethernet), deterministic: the same arguments give the
 * same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pktbuild.h"

#define FRAME_MAX  4096
#define PCAP_EPOCH 1700000000u
#define FLOOD_SRC  "10.66.0.1"
#define SERVER	   "10.0.0.2"
#define MAX_REAL   1000

struct out {
	FILE *f;
	uint64_t t_us, interval_us, frames;
};

static void die(const char *what)
{
	fprintf(stderr, "gen_flood: %s\n", what);
	exit(1);
}

static void put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	if (fwrite(b, 4, 1, o->f) != 1)
		die("write failed");
}

static void frame(struct out *o, const uint8_t *p, size_t len)
{
	if (!len)
		die("a frame could not be built");
	put32(o, PCAP_EPOCH + (uint32_t)(o->t_us / 1000000));
	put32(o, (uint32_t)(o->t_us % 1000000));
	put32(o, (uint32_t)len);
	put32(o, (uint32_t)len);
	if (fwrite(p, len, 1, o->f) != 1)
		die("write failed");
	o->t_us += o->interval_us;
	o->frames++;
}

/* Flood flow i: one segment with an RQ, never answered. */
static void flood_rq(struct out *o, uint64_t i)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t rq[512], buf[FRAME_MAX];
	char calling[17];
	size_t n;
	struct pkt_spec s = {
	    .family = 4,
	    .src = FLOOD_SRC,
	    .dst = SERVER,
	    .sport = (uint16_t)(1024 + i / 2 % 64000),
	    .dport = i % 2 ? 11112 : 104,
	    .seq = 0x20000000u + (uint32_t)i * 7919u,
	    .ack = 0x70000000u + (uint32_t)i * 104729u,
	};

	if (i >= 128000)
		die("at most 128000 flood flows (64000 source ports x 2 destination ports)");
	snprintf(calling, sizeof(calling), "FLOOD%llu", (unsigned long long)i);
	n = pdu_assoc_rq(rq, sizeof(rq), "PACS", calling, &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER);
	frame(o, buf, pkt_build(buf, sizeof(buf), &s, rq, n));
}

static void seg(struct out *o, struct pkt_flow *f, int from_server, uint8_t flags,
		const uint8_t *p, size_t n)
{
	uint8_t buf[FRAME_MAX];

	frame(o, buf, pkt_flow_next(f, from_server, flags, buf, sizeof(buf), p, n));
}

/* Real association k: a C-ECHO from 10.77.0.(k % 250 + 1), calling REAL<k>, in two halves. */
static void real_open(struct out *o, struct pkt_flow *f, int k)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	static char src[MAX_REAL][32]; /* the flow keeps a pointer to it */
	uint8_t pdu[1024];
	char calling[17];
	size_t n;
	struct pkt_spec s = {
	    .family = 4,
	    .src = src[k],
	    .dst = SERVER,
	    .sport = (uint16_t)(30000 + k),
	    .dport = 104,
	    .seq = 0x30000000u + (uint32_t)k * 7919u,
	    .ack = 0x40000000u + (uint32_t)k * 104729u,
	};

	snprintf(src[k], sizeof(src[k]), "10.77.0.%d", k % 250 + 1);
	snprintf(calling, sizeof(calling), "REAL%d", k);
	pkt_flow_init(f, &s);
	seg(o, f, 0, PKT_TCP_SYN, NULL, 0);
	seg(o, f, 1, PKT_TCP_SYN | PKT_TCP_ACK, NULL, 0);
	seg(o, f, 0, PKT_TCP_ACK, NULL, 0);
	n = pdu_assoc_rq(pdu, sizeof(pdu), "PACS", calling, &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER);
	seg(o, f, 0, 0, pdu, n);
}

/* The rest: AC, C-ECHO request and response, release, FIN both ways. */
static void real_close(struct out *o, struct pkt_flow *f, int k)
{
	uint8_t ids[1] = {1}, res[1] = {0}, pdu[1024];
	char calling[17];
	size_t n;

	snprintf(calling, sizeof(calling), "REAL%d", k);
	n = pdu_assoc_ac(pdu, sizeof(pdu), "PACS", calling, ids, res, 1, 16384);
	seg(o, f, 1, 0, pdu, n);
	n = pdu_pdata_command(pdu, sizeof(pdu), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL,
			      0);
	seg(o, f, 0, 0, pdu, n);
	n = pdu_pdata_command(pdu, sizeof(pdu), 1, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION,
			      1, 0, NULL, 0);
	seg(o, f, 1, 0, pdu, n);
	seg(o, f, 0, 0, pdu, pdu_release_rq(pdu, sizeof(pdu)));
	seg(o, f, 1, 0, pdu, pdu_release_rp(pdu, sizeof(pdu)));
	seg(o, f, 0, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	seg(o, f, 1, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	seg(o, f, 0, PKT_TCP_ACK, NULL, 0);
}

static unsigned long num(const char *s, const char *what)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end)
		die(what);
	return v;
}

int main(int argc, char **argv)
{
	static struct pkt_flow rf[MAX_REAL];
	static unsigned long open_at[MAX_REAL];
	struct out o = {.interval_us = 40};
	unsigned long n, real = 0, spread = 0, i;
	int k, a, opened = 0, closed = 0;

	if (argc < 3)
		die("usage: gen_flood OUT.pcap N [--real K] [--spread S] [--interval-us U]");
	n = num(argv[2], "N: a number of flood flows");
	for (a = 3; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--real"))
			real = num(argv[a + 1], "--real: a number of associations");
		else if (!strcmp(argv[a], "--spread"))
			spread = num(argv[a + 1], "--spread: a number of flood flows");
		else if (!strcmp(argv[a], "--interval-us"))
			o.interval_us = num(argv[a + 1], "--interval-us: microseconds");
		else
			die("unknown option");
	}
	if (a != argc)
		die("an option without its value");
	if (real > MAX_REAL)
		die("--real: at most 1000");
	o.f = fopen(argv[1], "wb");
	if (!o.f)
		die(strerror(errno));
	/* magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET */
	put32(&o, 0xa1b2c3d4);
	put32(&o, 0x00040002);
	put32(&o, 0);
	put32(&o, 0);
	put32(&o, 262144);
	put32(&o, 1);
	/* Real association k opens after flood flow (k + 1) * n / (real + 1), closes spread later. */
	for (k = 0; k < (int)real; k++)
		open_at[k] = (k + 1) * n / (real + 1);
	for (i = 0; i <= n; i++) {
		while (closed < opened && open_at[closed] + spread <= i) {
			real_close(&o, &rf[closed], closed);
			closed++;
		}
		while (opened < (int)real && open_at[opened] == i) {
			real_open(&o, &rf[opened], opened);
			opened++;
		}
		if (i < n)
			flood_rq(&o, i);
	}
	while (opened < (int)real) {
		real_open(&o, &rf[opened], opened);
		opened++;
	}
	while (closed < opened) {
		real_close(&o, &rf[closed], closed);
		closed++;
	}
	if (fclose(o.f))
		die(strerror(errno));
	fprintf(stderr, "gen_flood: %s: %lu flood flows, %d real associations, %llu frames\n",
		argv[1], n, closed, (unsigned long long)o.frames);
	return 0;
}
