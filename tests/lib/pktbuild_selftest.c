/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Self test for pktbuild. Every frame is re-parsed by an independent walker
 * (verify_frame) that recomputes lengths and checksums its own way, rather
 * than trusting the library's helpers. With an output directory argument it
 * also writes dicom.pcap, tls.pcap and misc.pcap for a tshark cross-check.
 *
 *   cc -Wall -Wextra -O2 -o selftest pktbuild_selftest.c pktbuild.c && ./selftest [dir]
 */
/* mkdtemp even under -std=c11 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"

static int fails;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static unsigned int rd16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static uint32_t rdle32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One's complement sum with the carry folded in at every step; 0xffff means "verifies". */
static unsigned int ocsum(unsigned int sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2) {
		sum += (unsigned int)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

/* Walks Ethernet/VLAN/IP/extension headers; checks every length and checksum. Returns L4 offset. */
static size_t verify_frame(const uint8_t *f, size_t n)
{
	size_t off = 12, l4;
	unsigned int et = rd16(f + 12), nh, sum;

	while (et == 0x8100 || et == 0x88a8) {
		off += 4;
		et = rd16(f + off);
	}
	off += 2;
	if (et == 0x0806)
		return off;
	if (et == 0x0800) {
		l4 = off + (f[off] & 15) * 4;
		CHECK(f[off] >> 4 == 4 && rd16(f + off + 2) == n - off);
		CHECK(ocsum(0, f + off, l4 - off) == 0xffff);
		nh = f[off + 9];
		sum = ocsum(0, f + off + 12, 8);
	} else {
		CHECK(et == 0x86dd && f[off] >> 4 == 6 && rd16(f + off + 4) == n - off - 40);
		nh = f[off + 6];
		for (l4 = off + 40; nh == 0 || nh == 43 || nh == 60 || nh == 44;) {
			size_t hlen = nh == 44 ? 8 : (f[l4 + 1] + 1u) * 8;

			nh = f[l4];
			l4 += hlen;
		}
		sum = ocsum(0, f + off + 8, 32);
	}
	if (nh == 6 || nh == 17 || nh == 58) {
		sum = ocsum(
		    sum,
		    (const uint8_t[]){0, (uint8_t)nh, (uint8_t)((n - l4) >> 8), (uint8_t)(n - l4)},
		    4);
		CHECK(ocsum(sum, f + l4, n - l4) == 0xffff);
	} else if (nh == 1) {
		CHECK(ocsum(0, f + l4, n - l4) == 0xffff);
	}
	if (nh == 17)
		CHECK(rd16(f + l4 + 4) == n - l4);
	return l4;
}

/* Items of an A-ASSOCIATE PDU must tile it exactly; returns the count of `type`, -1 if not. */
static int count_items(const uint8_t *p, size_t n, uint8_t type)
{
	size_t off = 74;
	int cnt = 0;

	if (n < 74 || rd32(p + 2) + 6 != n)
		return -1;
	for (; off + 4 <= n; off += 4 + rd16(p + off + 2)) {
		cnt += p[off] == type;
		if (p[off] == 0x20 || p[off] == 0x21 || p[off] == 0x50) {
			size_t end = off + 4 + rd16(p + off + 2);
			size_t s = off + (p[off] == 0x50 ? 4 : 8);

			while (s + 4 <= end)
				s += 4 + rd16(p + s + 2);
			if (s != end)
				return -1;
		}
	}
	return off == n ? cnt : -1;
}

/* Finds command element (0000,elem) in a P-DATA command PDU; checks order and group length. */
static const uint8_t *cmd_elem(const uint8_t *p, size_t n, unsigned int elem, uint32_t *vlen)
{
	size_t off = 12;
	unsigned int prev = 0;
	const uint8_t *hit = NULL;

	CHECK(rd32(p + 2) + 6 == n && rd32(p + 6) + 10 == n && p[11] == 0x03);
	CHECK(rdle32(p + 12) == 0 && rdle32(p + 16) == 4 && rdle32(p + 20) == n - 24);
	for (; off + 8 <= n; off += 8 + rdle32(p + off + 4)) {
		unsigned int e = p[off + 2] | p[off + 3] << 8;

		CHECK(p[off] == 0 && p[off + 1] == 0 && (off == 12 || e > prev));
		CHECK(rdle32(p + off + 4) % 2 == 0);
		prev = e;
		if (e == elem) {
			hit = p + off + 8;
			*vlen = rdle32(p + off + 4);
		}
	}
	CHECK(off == n);
	return hit;
}

static unsigned int cmd_us(const uint8_t *p, size_t n, unsigned int elem)
{
	uint32_t vlen = 0;
	const uint8_t *v = cmd_elem(p, n, elem, &vlen);

	return v && vlen == 2 ? (unsigned int)(v[0] | v[1] << 8) : 0xdead;
}

static void test_dimse(void)
{
	static const uint8_t echo[80] = {
	    0x04, 0,   0,    0,	   0,	 0x4a, 0,    0,	   0,	 0x46, 0x01, 0x03, 0,	 0,
	    0,	  0,   0x04, 0,	   0,	 0,    0x38, 0,	   0,	 0,    0,    0,	   0x02, 0,
	    0x12, 0,   0,    0,	   '1',	 '.',  '2',  '.',  '8',	 '4',  '0',  '.',  '1',	 '0',
	    '0',  '0', '8',  '.',  '1',	 '.',  '1',  0,	   0,	 0,    0x00, 0x01, 0x02, 0,
	    0,	  0,   0x30, 0,	   0,	 0,    0x10, 0x01, 0x02, 0,    0,    0,	   0x01, 0,
	    0,	  0,   0x00, 0x08, 0x02, 0,    0,    0,	   0x01, 0x01,
	};
	uint8_t b[256];
	uint32_t vlen = 0;
	const uint8_t *v;
	size_t n;

	n = pdu_pdata_command(b, sizeof(b), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	CHECK(n == 80 && !memcmp(b, echo, 80));

	n = pdu_pdata_command(b, sizeof(b), 5, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 7, 0, "MOVESCU",
			      1);
	v = cmd_elem(b, n, 0x0600, &vlen);
	CHECK(v && vlen == 8 && !memcmp(v, "MOVESCU ", 8));
	CHECK(cmd_us(b, n, 0x0110) == 7 && cmd_us(b, n, 0x0700) == 0 && cmd_us(b, n, 0x0800) == 0);
	v = cmd_elem(b, n, 0x0002, &vlen);
	CHECK(v && vlen == 28 && v[27] == 0 && !memcmp(v, PDU_UID_STUDY_MOVE, 27));

	n = pdu_pdata_command(b, sizeof(b), 3, DIMSE_C_FIND | DIMSE_RSP, PDU_UID_STUDY_FIND, 9,
			      0xff00, NULL, 1);
	CHECK(cmd_us(b, n, 0x0120) == 9 && cmd_us(b, n, 0x0900) == 0xff00);
	CHECK(cmd_us(b, n, 0x0110) == 0xdead && cmd_us(b, n, 0x0700) == 0xdead);
	n = pdu_pdata_command(b, sizeof(b), 1, DIMSE_C_STORE, PDU_UID_CT_STORAGE, 2, 0, NULL, 1);
	CHECK(cmd_us(b, n, 0x0800) == 0x0001 && cmd_us(b, n, 0x0700) == 0);

	n = pdu_pdata_data(b, sizeof(b), 3, 100, 1);
	CHECK(n == 112 && rd32(b + 2) == 106 && rd32(b + 6) == 102 && b[10] == 3 && b[11] == 2);
	CHECK(rdle32(b + 16) == 92);
	CHECK(pdu_pdata_data(b, sizeof(b), 3, 4, 0) == 16 && b[11] == 0);
}

static void test_assoc(void)
{
	static uint8_t b[16384], big[70000];
	static char huge[66000];
	static const uint8_t rj[10] = {3, 0, 0, 0, 0, 4, 0, 1, 1, 7};
	static const uint8_t rel[10] = {5, 0, 0, 0, 0, 4, 0, 0, 0, 0};
	static const uint8_t ab[10] = {7, 0, 0, 0, 0, 4, 0, 0, 2, 6};
	struct pdu_pc pcs[2] = {
	    {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1},
	    {3, PDU_UID_STUDY_FIND, {PDU_UID_EXPLICIT_LE, PDU_UID_IMPLICIT_LE}, 2},
	};
	uint8_t ids[3] = {1, 3, 5}, res[3] = {0, 3, 4};
	size_t n;

	n = pdu_assoc_rq(b, sizeof(b), "ANY-SCP", "ECHOSCU", pcs, 2, 16384, PDU_DCMTK_IMPL_UID,
			 PDU_DCMTK_IMPL_VER);
	CHECK(n > 74 && b[0] == 1 && rd16(b + 6) == 1 && rd16(b + 8) == 0);
	CHECK(!memcmp(b + 10, "ANY-SCP         ECHOSCU         ", 32));
	CHECK(count_items(b, n, 0x10) == 1 && count_items(b, n, 0x20) == 2);
	CHECK(count_items(b, n, 0x50) == 1);
	/* 74: app ctx item, UID unpadded (21 bytes); then PC 1 with 0xFF in the result slot. */
	CHECK(b[74] == 0x10 && rd16(b + 76) == 21 && !memcmp(b + 78, PDU_UID_APP_CTX, 21));
	CHECK(b[99] == 0x20 && b[103] == 1 && b[104] == 0 && b[105] == 0xff && b[106] == 0);
	CHECK(b[107] == 0x30 && rd16(b + 109) == 17 && b[128] == 0x40);
	/* User info: 0x50 len 58 = 0x51 (8) + 0x52 (4 + 27) + 0x55 (4 + 15). */
	CHECK(!memcmp(b + n - 62, "\x50\x00\x00\x3a\x51\x00\x00\x04\x00\x00\x40\x00", 12));
	CHECK(!memcmp(b + n - 50, "\x52\x00\x00\x1b" PDU_DCMTK_IMPL_UID, 31));
	CHECK(!memcmp(b + n - 19, "\x55\x00\x00\x0f" PDU_DCMTK_IMPL_VER, 19));

	n = pdu_assoc_rq_n(b, sizeof(b), "STORESCP", "STORESCU", 120);
	CHECK(n > 5000 && count_items(b, n, 0x20) == 120);
	CHECK(pdu_assoc_rq_n(b, sizeof(b), "A", "B", 129) == 0);
	CHECK(pdu_assoc_rq_n(b, sizeof(b), "A", "B", 128) > 0);

	/* An item body over 65535 bytes cannot be encoded: refuse rather than truncate. */
	memset(huge, '1', sizeof(huge) - 1);
	pcs[0].abstract = huge;
	CHECK(pdu_assoc_rq(big, sizeof(big), "A", "B", pcs, 1, 0, "1.2", NULL) == 0);
	huge[65500] = 0;
	CHECK(pdu_assoc_rq(big, sizeof(big), "A", "B", pcs, 1, 0, "1.2", NULL) > 65500);

	n = pdu_assoc_ac(b, sizeof(b), "ANY-SCP", "ECHOSCU", ids, res, 3, 16384);
	CHECK(b[0] == 2 && count_items(b, n, 0x21) == 3 && count_items(b, n, 0x50) == 1);
	CHECK(b[99] == 0x21 && b[103] == 1 && b[105] == 0 && b[107] == 0x40);

	CHECK(pdu_assoc_rj(b, 10, 1, 1, 7) == 10 && !memcmp(b, rj, 10));
	CHECK(pdu_release_rq(b, 10) == 10 && !memcmp(b, rel, 10));
	CHECK(pdu_release_rp(b, 10) == 10 && b[0] == 6 && !memcmp(b + 1, rel + 1, 9));
	CHECK(pdu_abort(b, 10, 2, 6) == 10 && !memcmp(b, ab, 10));
}

static void test_frames(void)
{
	static const char pl[] = "0123456789abcdefXYZ"; /* odd length on purpose */
	uint8_t b[2048], z[2] = {0, 0};
	struct pkt_spec s = {.family = 4,
			     .sport = 40000,
			     .dport = 11112,
			     .seq = 1000,
			     .ack = 2000,
			     .ip4_opts_len = 8,
			     .tcp_opts = 2};
	size_t n, l4;

	n = pkt_build(b, sizeof(b), &s, pl, sizeof(pl));
	l4 = verify_frame(b, n);
	CHECK(n == 14 + 28 + 32 + sizeof(pl) && l4 == 42 && b[14] == 0x47);
	CHECK(b[34] == 1 && b[40] == 1 && b[41] == 0 && rd16(b + 20) == 0x4000);
	CHECK(rd16(b + l4 + 2) == 11112 && rd32(b + l4 + 4) == 1000 && b[l4 + 12] == 0x80);
	CHECK(b[l4 + 13] == (PKT_TCP_ACK | PKT_TCP_PSH));
	CHECK(!memcmp(b + n - sizeof(pl), pl, sizeof(pl)));

	s.ip4_opts_len = 6;
	CHECK(pkt_build(b, sizeof(b), &s, NULL, 0) == 0);
	s.ip4_opts_len = 0;
	s.ip4_frag = 185;
	s.ip4_mf = 1;
	n = pkt_build(b, sizeof(b), &s, pl, 8);
	verify_frame(b, n);
	CHECK(rd16(b + 20) == (0x2000 | 185));

	/* QinQ: 88a8 outer, 8100 inner, then the real ethertype. */
	s = (struct pkt_spec){.family = 6,
			      .nvlan = 2,
			      .vlan = {100, 200},
			      .vlan_tpid_outer = 0x88a8,
			      .tcp_flags = PKT_TCP_SYN,
			      .tcp_opts = 1,
			      .ip6_ext = PKT_IP6_HOPOPTS | PKT_IP6_ROUTING | PKT_IP6_DSTOPTS |
					 PKT_IP6_FRAG,
			      .ip6_frag_off = 3};
	n = pkt_build(b, sizeof(b), &s, pl, 7);
	CHECK(rd16(b + 12) == 0x88a8 && rd16(b + 14) == 100 && rd16(b + 16) == 0x8100);
	CHECK(rd16(b + 18) == 200 && rd16(b + 20) == 0x86dd);
	l4 = verify_frame(b, n);
	CHECK(l4 == 22 + 40 + 8 + 24 + 16 + 8 && n == l4 + 40 + 7);
	CHECK(b[22 + 6] == 0 && b[62] == 43 && b[70] == 60 && b[94] == 44 && b[110] == 6);
	CHECK(rd16(b + 112) == 3 << 3 && b[l4 + 12] == 0xa0 && b[l4 + 20] == 2);

	s = (struct pkt_spec){.family = 4, .nvlan = 1, .vlan = {42}};
	n = pkt_build(b, sizeof(b), &s, NULL, 0);
	CHECK(n == 58 && rd16(b + 12) == 0x8100 && rd16(b + 14) == 42 && rd16(b + 16) == 0x0800);
	CHECK(verify_frame(b, n) == 38 && b[38 + 13] == PKT_TCP_ACK);

	s = (struct pkt_spec){.family = 4, .proto = 17, .sport = 5353, .dport = 5353};
	n = pkt_build(b, sizeof(b), &s, pl, sizeof(pl));
	CHECK(n == 42 + sizeof(pl) && verify_frame(b, n) == 34 && b[23] == 17);
	/* A payload word equal to a zero payload's checksum makes the sum 0: sent as 0xffff. */
	n = pkt_build(b, sizeof(b), &s, z, 2);
	z[0] = b[40], z[1] = b[41];
	n = pkt_build(b, sizeof(b), &s, z, 2);
	CHECK(verify_frame(b, n) == 34 && rd16(b + 40) == 0xffff);
	s.proto = 1;
	n = pkt_build(b, sizeof(b), &s, pl, 16);
	CHECK(n == 58 && verify_frame(b, n) == 34 && b[23] == 1 && b[34] == 8);
	s.family = 6;
	n = pkt_build(b, sizeof(b), &s, pl, 16);
	CHECK(n == 78 && verify_frame(b, n) == 54 && b[20] == 58 && b[54] == 128);
	s.src = "not-an-address";
	CHECK(pkt_build(b, sizeof(b), &s, pl, 16) == 0);

	n = pkt_build_arp(b, sizeof(b));
	CHECK(n == 60 && rd16(b + 12) == 0x0806 && rd16(b + 20) == 1);
}

/* Returns the body of extension `type` in a hello, or NULL; checks the extension block tiles. */
static const uint8_t *tls_ext(const uint8_t *p, size_t n, unsigned int type, unsigned int *len)
{
	size_t off = 5 + 4 + 2 + 32, end;
	const uint8_t *hit = NULL;

	off += 1 + p[off];
	if (p[5] == 1) {
		off += 2 + rd16(p + off);
		off += 1 + p[off];
	} else {
		off += 3;
	}
	end = off + 2 + rd16(p + off);
	CHECK(end == n);
	for (off += 2; off + 4 <= end; off += 4 + rd16(p + off + 2)) {
		if (rd16(p + off) == type) {
			hit = p + off + 4;
			*len = rd16(p + off + 2);
		}
	}
	CHECK(off == end);
	return hit;
}

static void test_tls(void)
{
	static const uint16_t v13[2] = {0x0304, 0x0303};
	uint8_t b[1024];
	const uint8_t *e;
	unsigned int len = 0;
	size_t n;

	n = tls_client_hello(b, sizeof(b), 0x0301, 0x0303, v13, 2);
	CHECK(n == 517 && b[0] == 0x16 && rd16(b + 1) == 0x0301 && rd16(b + 3) == n - 5);
	CHECK(rd32(b + 5) == (0x01000000 | (uint32_t)(n - 9)) && rd16(b + 9) == 0x0303);
	e = tls_ext(b, n, 0x002b, &len);
	CHECK(e && len == 5 && e[0] == 4 && rd16(e + 1) == 0x0304 && rd16(e + 3) == 0x0303);
	CHECK(tls_ext(b, n, 0x0033, &len) && len == 38);

	n = tls_client_hello(b, sizeof(b), 0x0301, 0x0301, NULL, 0);
	CHECK(n == 517 && !tls_ext(b, n, 0x002b, &len) && !tls_ext(b, n, 0x0033, &len));

	n = tls_server_hello(b, sizeof(b), 0x0303, 0x0304);
	CHECK(b[5] == 2 && rd16(b + 3) == n - 5 && rd32(b + 5) == (0x02000000 | (uint32_t)(n - 9)));
	e = tls_ext(b, n, 0x002b, &len);
	CHECK(e && len == 2 && rd16(e) == 0x0304 && tls_ext(b, n, 0x0033, &len));
	n = tls_server_hello(b, sizeof(b), 0x0303, 0);
	CHECK(!tls_ext(b, n, 0x002b, &len) && !tls_ext(b, n, 0x0033, &len));
}

/* Every builder must fail cleanly, and write nothing past cap, for every short cap. */
static size_t build_kind(int k, uint8_t *b, size_t cap)
{
	static const uint16_t v[1] = {0x0304};
	static const uint8_t ids[1] = {1}, res[1] = {0};
	struct pkt_spec s = {.family = 6, .nvlan = 1, .ip6_ext = PKT_IP6_ROUTING, .tcp_opts = 1};

	switch (k) {
	case 0:
		return pkt_build(b, cap, &s, "abc", 3);
	case 1:
		return pkt_build_arp(b, cap);
	case 2:
		return pdu_assoc_rq_n(b, cap, "X", "Y", 3);
	case 3:
		return pdu_assoc_ac(b, cap, "X", "Y", ids, res, 1, 0);
	case 4:
		return pdu_abort(b, cap, 0, 0);
	case 5:
		return pdu_pdata_command(b, cap, 1, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 1, 0, "D", 1);
	case 6:
		return pdu_pdata_data(b, cap, 1, 40, 1);
	case 7:
		return tls_client_hello(b, cap, 0x0301, 0x0303, v, 1);
	case 8:
		return tls_server_hello(b, cap, 0x0303, 0x0304);
	}
	return 0;
}

static void test_bounds(void)
{
	static uint8_t b[2048];

	for (int k = 0; k < 9; k++) {
		size_t full = build_kind(k, b, sizeof(b));

		CHECK(full > 0);
		for (size_t cap = 0; cap < full; cap++) {
			int clean = 1;

			memset(b, 0xee, sizeof(b));
			CHECK(build_kind(k, b, cap) == 0);
			for (size_t i = cap; i < full + 16; i++)
				clean &= b[i] == 0xee;
			CHECK(clean);
		}
	}
}

/* ---- pcap fixtures --------------------------------------------------------- */

struct fixture {
	struct pkt_frame fr[256];
	int n;
	size_t used;
	uint8_t buf[1 << 20];
};

static void fx_add(struct fixture *x, size_t len)
{
	CHECK(len > 0 && x->n < 256);
	if (!len || x->n >= 256)
		return;
	verify_frame(x->buf + x->used, len);
	x->fr[x->n++] = (struct pkt_frame){x->buf + x->used, len};
	x->used += len;
}

/* Sends a PDU (or any byte stream) in MSS-sized segments, as a TCP stack would. */
static void fx_send(struct fixture *x, struct pkt_flow *f, int srv, const uint8_t *p, size_t n)
{
	for (size_t off = 0, seg; off < n; off += seg) {
		seg = n - off > 1460 ? 1460 : n - off;
		fx_add(x, pkt_flow_next(f, srv, 0, x->buf + x->used, sizeof(x->buf) - x->used,
					p + off, seg));
	}
}

static void fx_tcp(struct fixture *x, struct pkt_flow *f, int srv, uint8_t flags)
{
	fx_add(x,
	       pkt_flow_next(f, srv, flags, x->buf + x->used, sizeof(x->buf) - x->used, NULL, 0));
}

static void fx_open(struct fixture *x, struct pkt_flow *f, const struct pkt_spec *tmpl)
{
	pkt_flow_init(f, tmpl);
	fx_tcp(x, f, 0, PKT_TCP_SYN);
	fx_tcp(x, f, 1, PKT_TCP_SYN | PKT_TCP_ACK);
	fx_tcp(x, f, 0, PKT_TCP_ACK);
}

static void fx_close(struct fixture *x, struct pkt_flow *f)
{
	fx_tcp(x, f, 0, PKT_TCP_FIN | PKT_TCP_ACK);
	fx_tcp(x, f, 1, PKT_TCP_FIN | PKT_TCP_ACK);
	fx_tcp(x, f, 0, PKT_TCP_ACK);
}

static void fx_write(struct fixture *x, const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(pcap_write_frames(path, x->fr, x->n) == 0);
	x->n = 0;
	x->used = 0;
}

static uint8_t pdu_buf[16384];

/* SEND(..., pdu_xxx(PDU, args)): build into pdu_buf, then segment it onto the flow. */
#define PDU pdu_buf, sizeof(pdu_buf)
#define SEND(x, f, srv, call)                                                                      \
	do {                                                                                       \
		size_t _n = call;                                                                  \
		CHECK(_n > 0);                                                                     \
		fx_send(x, f, srv, pdu_buf, _n);                                                   \
	} while (0)

static void write_dicom(struct fixture *x, const char *dir)
{
	struct pdu_pc pcs[3] = {
	    {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1},
	    {3, PDU_UID_STUDY_FIND, {PDU_UID_EXPLICIT_LE, PDU_UID_IMPLICIT_LE}, 2},
	    {5, PDU_UID_STUDY_MOVE, {PDU_UID_IMPLICIT_LE}, 1},
	};
	uint8_t ids[120], res[120];
	struct pkt_spec v4 = {
	    .family = 4, .sport = 40000, .dport = 11112, .seq = 1000, .ack = 5000, .tcp_opts = 2};
	struct pkt_spec v6 = {.family = 6,
			      .sport = 40001,
			      .dport = 11112,
			      .seq = 7,
			      .ack = 9,
			      .nvlan = 2,
			      .vlan = {10, 20},
			      .vlan_tpid_outer = 0x88a8,
			      .ip6_ext = PKT_IP6_HOPOPTS | PKT_IP6_ROUTING | PKT_IP6_DSTOPTS};
	struct pkt_flow f;

	/* Storage SCU: 120-context RQ over 7 segments, one C-STORE in two data PDVs. */
	for (int i = 0; i < 120; i++) {
		ids[i] = (uint8_t)(2 * i + 1);
		res[i] = i % 7 == 6 ? 3 : 0;
	}
	fx_open(x, &f, &v4);
	SEND(x, &f, 0, pdu_assoc_rq_n(PDU, "STORESCP", "STORESCU", 120));
	SEND(x, &f, 1, pdu_assoc_ac(PDU, "STORESCP", "STORESCU", ids, res, 120, 16384));
	SEND(x, &f, 0, pdu_pdata_command(PDU, 1, DIMSE_C_STORE, PDU_UID_CT_STORAGE, 1, 0, NULL, 1));
	SEND(x, &f, 0, pdu_pdata_data(PDU, 1, 4000, 0));
	SEND(x, &f, 0, pdu_pdata_data(PDU, 1, 1000, 1));
	SEND(x, &f, 1,
	     pdu_pdata_command(PDU, 1, DIMSE_C_STORE | DIMSE_RSP, PDU_UID_CT_STORAGE, 1, 0, NULL,
			       0));
	SEND(x, &f, 0, pdu_release_rq(PDU));
	SEND(x, &f, 1, pdu_release_rp(PDU));
	fx_close(x, &f);

	/* Echo, find and move over IPv6 with extension headers and QinQ, then an abort. */
	fx_open(x, &f, &v6);
	SEND(x, &f, 0,
	     pdu_assoc_rq(PDU, "ANY-SCP", "FINDSCU", pcs, 3, 16384, PDU_DCMTK_IMPL_UID,
			  PDU_DCMTK_IMPL_VER));
	SEND(x, &f, 1, pdu_assoc_ac(PDU, "ANY-SCP", "FINDSCU", ids, res, 3, 16384));
	SEND(x, &f, 0,
	     pdu_pdata_command(PDU, 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0));
	SEND(x, &f, 1,
	     pdu_pdata_command(PDU, 1, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION, 1, 0, NULL,
			       0));
	SEND(x, &f, 0, pdu_pdata_command(PDU, 3, DIMSE_C_FIND, PDU_UID_STUDY_FIND, 2, 0, NULL, 1));
	SEND(x, &f, 0, pdu_pdata_data(PDU, 3, 64, 1));
	SEND(x, &f, 1,
	     pdu_pdata_command(PDU, 3, DIMSE_C_FIND | DIMSE_RSP, PDU_UID_STUDY_FIND, 2, 0xff00,
			       NULL, 1));
	SEND(x, &f, 1, pdu_pdata_data(PDU, 3, 64, 1));
	SEND(x, &f, 1,
	     pdu_pdata_command(PDU, 3, DIMSE_C_FIND | DIMSE_RSP, PDU_UID_STUDY_FIND, 2, 0x0000,
			       NULL, 0));
	SEND(x, &f, 0,
	     pdu_pdata_command(PDU, 5, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 3, 0, "EVIL_AE", 1));
	SEND(x, &f, 0, pdu_pdata_data(PDU, 5, 32, 1));
	SEND(x, &f, 1,
	     pdu_pdata_command(PDU, 5, DIMSE_C_MOVE | DIMSE_RSP, PDU_UID_STUDY_MOVE, 3, 0xa801,
			       NULL, 0));
	SEND(x, &f, 0, pdu_abort(PDU, 0, 0));
	fx_close(x, &f);

	/* Brute-force style: called AE not recognised. */
	v4.sport = 40002;
	fx_open(x, &f, &v4);
	SEND(x, &f, 0,
	     pdu_assoc_rq(PDU, "123456", "ECHOSCU", pcs, 1, 16384, PDU_DCMTK_IMPL_UID, NULL));
	SEND(x, &f, 1, pdu_assoc_rj(PDU, 1, 1, 7));
	fx_close(x, &f);
	fx_write(x, dir, "dicom.pcap");
}

static void write_tls(struct fixture *x, const char *dir)
{
	static const uint16_t v13[2] = {0x0304, 0x0303}, v12[1] = {0x0303};
	struct pkt_spec t = {.family = 4, .sport = 41000, .dport = 2762, .seq = 1, .ack = 1};
	struct pkt_flow f;

	fx_open(x, &f, &t);
	SEND(x, &f, 0, tls_client_hello(PDU, 0x0301, 0x0303, v13, 2));
	SEND(x, &f, 1, tls_server_hello(PDU, 0x0303, 0x0304));
	fx_close(x, &f);
	t.sport++;
	fx_open(x, &f, &t);
	SEND(x, &f, 0, tls_client_hello(PDU, 0x0303, 0x0303, v12, 1));
	SEND(x, &f, 1, tls_server_hello(PDU, 0x0303, 0x0303));
	fx_close(x, &f);
	t.sport++;
	fx_open(x, &f, &t);
	SEND(x, &f, 0, tls_client_hello(PDU, 0x0301, 0x0301, NULL, 0));
	SEND(x, &f, 1, tls_server_hello(PDU, 0x0301, 0));
	fx_close(x, &f);
	fx_write(x, dir, "tls.pcap");
}

static void write_misc(struct fixture *x, const char *dir)
{
	static const struct pkt_spec specs[] = {
	    {.family = 4, .proto = 17, .sport = 33333, .dport = 9},
	    {.family = 4, .proto = 1},
	    {.family = 6, .proto = 1},
	    {.family = 4, .nvlan = 1, .vlan = {7}, .ip4_opts_len = 40, .dport = 104},
	    {.family = 4, .ip4_mf = 1, .dport = 104},
	    {.family = 4, .ip4_frag = 185, .dport = 104},
	    {.family = 6, .ip6_ext = PKT_IP6_FRAG, .ip6_mf = 1, .dport = 104},
	    {.family = 6, .proto = 50}, /* ESP: the "other IP" class */
	};
	uint8_t pl[64];

	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)i;
	fx_add(x, pkt_build_arp(x->buf + x->used, sizeof(x->buf) - x->used));
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		fx_add(x, pkt_build(x->buf + x->used, sizeof(x->buf) - x->used, &specs[i], pl,
				    sizeof(pl)));
	fx_write(x, dir, "misc.pcap");
}

int main(int argc, char **argv)
{
	static struct fixture x;
	char tmpl[] = "/tmp/pktbuild-XXXXXX";
	const char *dir = argc > 1 ? argv[1] : NULL, *names[] = {"dicom", "tls", "misc"};
	char path[64];
	int made = 0, i;

	test_dimse();
	test_assoc();
	test_frames();
	test_tls();
	test_bounds();
	CHECK(pcap_write_frames("/nonexistent/x.pcap", x.fr, 0) == -ENOENT);
	if (!dir) {
		dir = mkdtemp(tmpl);
		made = 1;
	}
	CHECK(dir != NULL);
	if (dir) {
		write_dicom(&x, dir);
		write_tls(&x, dir);
		write_misc(&x, dir);
		if (made) {
			/* Written only to exercise the writer: leave nothing behind. */
			for (i = 0; i < 3; i++) {
				snprintf(path, sizeof(path), "%s/%s.pcap", dir, names[i]);
				CHECK(unlink(path) == 0);
			}
			CHECK(rmdir(dir) == 0);
		} else {
			printf("pcaps in %s\n", dir);
		}
	}
	printf("%s: %d failure(s)\n", fails ? "FAIL" : "PASS", fails);
	return fails ? 1 : 0;
}
