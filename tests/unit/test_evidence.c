// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of evidence.c: the stream redactor (data set PDVs and user
 * identity values zeroed, everything else byte for byte; any segmentation;
 * retransmissions, gaps, bytes past the snap length, garbage), and the store
 * (frames kept until an alert, written as a pcap tshark can read, appended
 * after it, forgotten at the end, bounded in memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "output/evidence.h"
#include "lib/pcapio.h"
#include "ulbuild.h"

#define SECRET_USER "phiuser"
#define SECRET_PASS "PhiPass99"
#define SECRET_NAME "DOE^SECRET"
/* Canaries in command elements off the allow-list. */
#define CANARY_COMMENT "Patient LEAK^CANARY id CANARY123 mismatch"
#define CANARY_AT      "CANA"	  /* (0000,0901) offending element: 4 bytes */
#define CANARY_UNKNOWN "CANARYUNKNOWN1" /* (0000,0999): not a command element */
#define CANARY_FAKE    "FAKE^CANARY"	  /* a data set in a PDV flagged command */

/* A command set being built: its bytes and which of them must survive. */
struct cset {
	uint8_t b[1024], keep[1024];
	size_t n;
};

static void cs_elem(struct cset *c, uint16_t elem, const void *v, uint32_t n, int keep)
{
	uint8_t h[8] = {0, 0, (uint8_t)elem, (uint8_t)(elem >> 8), (uint8_t)n, (uint8_t)(n >> 8),
			(uint8_t)(n >> 16), (uint8_t)(n >> 24)};

	memcpy(c->b + c->n, h, 8);
	memset(c->keep + c->n, 1, 8);
	memcpy(c->b + c->n + 8, v, n);
	memset(c->keep + c->n + 8, keep, n);
	c->n += 8 + n;
}

static void cs_us(struct cset *c, uint16_t elem, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	cs_elem(c, elem, x, 2, 1);
}

/* (0000,0000) first, its value patched by cs_done. */
static void cs_begin(struct cset *c)
{
	c->n = 0;
	cs_elem(c, 0x0000, "\0\0\0\0", 4, 1);
}

static void cs_done(struct cset *c)
{
	uint32_t g = (uint32_t)c->n - 12;

	memcpy(c->b + 8, &g, 4); /* little-endian host (x86, arm64) */
}

/* A failed C-STORE-RSP with an error comment, an offending element, an error id, an unknown
 * element: only tags, lengths and allowed values survive. */
static void cs_store_rsp(struct cset *c)
{
	cs_begin(c);
	cs_elem(c, 0x0002, "1.2.840.10008.5.1.4.1.1.7\0", 26, 1);
	cs_us(c, 0x0100, 0x8001);
	cs_us(c, 0x0120, 7);
	cs_us(c, 0x0800, 0x0101);
	cs_us(c, 0x0900, 0xa900);
	cs_elem(c, 0x0901, CANARY_AT, 4, 0);
	cs_elem(c, 0x0902, CANARY_COMMENT " ", (uint32_t)strlen(CANARY_COMMENT) + 1, 0);
	cs_elem(c, 0x0903, "\x4d\x00", 2, 0);
	cs_elem(c, 0x0999, CANARY_UNKNOWN, (uint32_t)strlen(CANARY_UNKNOWN), 0);
	cs_elem(c, 0x1000, "1.2.3.4\0", 8, 1);
	cs_done(c);
}

/* c as P-DATA-TF PDUs: whole, or in two fragments (PDUs) cut at byte cut. */
static void put_cmd(struct ub *b, uint8_t *keep, const struct cset *c, size_t cut)
{
	size_t at = 0, len, pdu, f;

	for (f = 0; at < c->n; f++) {
		len = cut && !f ? cut : c->n - at;
		pdu = ub_pdu_begin(b, 0x04);
		ub_be32(b, (uint32_t)len + 2);
		ub_u8(b, 3);
		ub_u8(b, at + len == c->n ? 0x03 : 0x01);
		memcpy(keep + b->n, c->keep + at, len);
		ub_mem(b, c->b + at, len);
		ub_pdu_end(b, pdu);
		at += len;
	}
}

/*
 * An initiator's stream: RQ with a user identity, a P-DATA with a command
 * PDV and a data set PDV, a P-DATA with two data set PDVs, a C-STORE-RSP
 * with canaries outside the allow-list (whole, then split over two PDUs
 * inside an element header), a data set in a PDV flagged command, a
 * release RQ. keep[i] says whether byte i must survive.
 */
static size_t stream(uint8_t *p, size_t cap, uint8_t *keep)
{
	struct ub b;
	uint8_t called[16], calling[16];
	size_t pdu, ui, pdv, i, id;
	struct ub_cmd c;
	struct cset cs;

	memset(keep, 1, cap);
	ub_init(&b, p, cap);
	ub_ae16(called, "PACS");
	ub_ae16(calling, "MODALITY");
	pdu = ub_pdu_begin(&b, 0x01);
	ub_assoc_fixed(&b, called, calling);
	ub_item_str(&b, 0x10, "1.2.840.10008.3.1.1.1");
	ub_pc_rq(&b, 1, 0, "1.2.840.10008.5.1.4.1.1.7", (const char *[]){"1.2.840.10008.1.2"}, 1);
	ui = ub_item_begin(&b, 0x50, 0);
	ub_sub_u32(&b, 0x51, 16384);
	id = b.n;
	ub_identity(&b, 2, 1, SECRET_USER, SECRET_PASS);
	ub_item_str(&b, 0x55, "OFFIS_DCMTK_364");
	ub_item_end(&b, ui);
	ub_pdu_end(&b, pdu);
	/* user identity: 4 header + type, pos, len(2) kept; primary zeroed; len(2) kept; secondary zeroed */
	memset(keep + id + 8, 0, strlen(SECRET_USER));
	memset(keep + id + 8 + strlen(SECRET_USER) + 2, 0, strlen(SECRET_PASS));

	ub_cmd_begin(&b, &c, 1, 0x03, 1);
	ub_cmd_valid(&b, 0x0001);
	/* a data set PDV in the same PDU: patch the PDU length after it */
	pdv = b.n;
	ub_patch_be(&b, c.glen, 0, 4);
	p[c.glen] = (uint8_t)(pdv - c.glen - 4); /* group length, little-endian, < 256 */
	ub_be32(&b, 0);
	ub_u8(&b, 1);
	ub_u8(&b, 0x02);
	ub_elem_str(&b, 0x0010, SECRET_NAME, ' ');
	ub_patch_be(&b, pdv, (uint32_t)(b.n - pdv - 4), 4);
	memset(keep + pdv + 6, 0, b.n - pdv - 6);
	ub_patch_be(&b, c.pdv, (uint32_t)(pdv - c.pdv - 4), 4);
	ub_pdu_end(&b, c.pdu);

	pdu = ub_pdu_begin(&b, 0x04);
	for (i = 0; i < 2; i++) {
		pdv = b.n;
		ub_be32(&b, 0);
		ub_u8(&b, 1);
		ub_u8(&b, i ? 0x02 : 0x00);
		ub_elem_str(&b, 0x0020, SECRET_NAME "MORE", ' ');
		ub_patch_be(&b, pdv, (uint32_t)(b.n - pdv - 4), 4);
		memset(keep + pdv + 6, 0, b.n - pdv - 6);
	}
	ub_pdu_end(&b, pdu);

	cs_store_rsp(&cs);
	put_cmd(&b, keep, &cs, 0);
	/* split inside the (0000,0902) header: 5 bytes of it in the first fragment */
	put_cmd(&b, keep, &cs, (size_t)((uint8_t *)memmem(cs.b, cs.n, "\0\0\x02\x09", 4) - cs.b) + 5);

	/* A data set (Implicit VR LE, group 0010) in a PDV flagged as a whole command. */
	pdu = ub_pdu_begin(&b, 0x04);
	pdv = b.n;
	ub_be32(&b, 0);
	ub_u8(&b, 3);
	ub_u8(&b, 0x03);
	ub_le16(&b, 0x0010);
	ub_le16(&b, 0x0010);
	ub_le32(&b, (uint32_t)strlen(CANARY_FAKE) + 1);
	ub_str(&b, CANARY_FAKE " ");
	ub_patch_be(&b, pdv, (uint32_t)(b.n - pdv - 4), 4);
	memset(keep + pdv + 6, 0, b.n - pdv - 6);
	ub_pdu_end(&b, pdu);

	pdu = ub_pdu_begin(&b, 0x05);
	ub_be32(&b, 0);
	ub_pdu_end(&b, pdu);
	assert_false(b.bad);
	return b.n;
}

/* No canary of the stream survives in buf. */
static void no_canary(const uint8_t *buf, size_t n)
{
	static const char *const canaries[] = {"SECRET", SECRET_PASS, "CANARY", CANARY_AT,
					       "mismatch"};

	for (size_t i = 0; i < sizeof(canaries) / sizeof(canaries[0]); i++)
		if (memmem(buf, n, canaries[i], strlen(canaries[i])))
			fail_msg("canary %s survived", canaries[i]);
}

static void check_redacted(const uint8_t *orig, const uint8_t *got, const uint8_t *keep, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keep[i] ? got[i] != orig[i] : got[i] != 0)
			fail_msg("byte %zu: got %#x, original %#x, %s", i, got[i], orig[i],
				 keep[i] ? "kept" : "zeroed");
}

static void test_redact_any_segmentation(void **state)
{
	static uint8_t orig[8192], buf[8192], keep[8192];
	static const size_t sizes[] = {1, 2, 3, 5, 6, 7, 13, 64, 100, 1448, 8192};
	size_t n = stream(orig, sizeof(orig), keep), s, off, len;
	struct dm_redact r;
	uint32_t zeroed, want = 0;

	(void)state;
	for (off = 0; off < n; off++)
		want += !keep[off];
	assert_true(want > 2 * strlen(SECRET_NAME) + 2 * strlen(CANARY_COMMENT));
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		memcpy(buf, orig, n);
		memset(&r, 0, sizeof(r));
		zeroed = 0;
		for (off = 0; off < n; off += len) {
			len = n - off < sizes[s] ? n - off : sizes[s];
			zeroed += dm_redact_segment(&r, 1000 + (uint32_t)off, buf + off,
						    (uint32_t)len, (uint32_t)len);
		}
		check_redacted(orig, buf, keep, n);
		assert_int_equal(zeroed, want);
		assert_false(r.desync);
		no_canary(buf, n);
		assert_non_null(memmem(buf, n, "MODALITY", 8));
		/* the allowed values stay: SOP class and instance UIDs, status 0xa900 */
		assert_non_null(memmem(buf, n, "1.2.840.10008.5.1.4.1.1.7", 25));
		assert_non_null(memmem(buf, n, "\x00\x09\x02\x00\x00\x00\x00\xa9", 8));
		assert_int_equal(r.bad_cmds, 1); /* the data set flagged command */
	}
}

static void test_redact_retransmission_gap_snap(void **state)
{
	static uint8_t orig[8192], buf[8192], keep[8192];
	size_t n = stream(orig, sizeof(orig), keep);
	struct dm_redact r;

	(void)state;
	/* A retransmission of a walked segment is zeroed whole; the walk goes on. */
	memcpy(buf, orig, n);
	memset(&r, 0, sizeof(r));
	dm_redact_segment(&r, 0, buf, 100, 100);
	memcpy(buf, orig, 100);
	assert_int_equal(dm_redact_segment(&r, 50, buf + 50, 50, 50), 50);
	assert_false(r.desync);
	dm_redact_segment(&r, 100, buf + 100, (uint32_t)n - 100, (uint32_t)n - 100);
	assert_false(r.desync);
	assert_null(memmem(buf, n, "SECRET", 6));
	/* A gap: everything from there on is zeroed. */
	memcpy(buf, orig, n);
	memset(&r, 0, sizeof(r));
	dm_redact_segment(&r, 0, buf, 100, 100);
	assert_int_equal(dm_redact_segment(&r, 200, buf + 200, 100, 100), 100);
	assert_true(r.desync);
	assert_int_equal(dm_redact_segment(&r, 300, buf + 300, 100, 100), 100);
	/* Bytes past the snap length on a PDU header: lost, later bytes zeroed. */
	memcpy(buf, orig, n);
	memset(&r, 0, sizeof(r));
	dm_redact_segment(&r, 0, buf, 2, (uint32_t)n / 2);
	assert_true(r.desync);
	/* Not a PDU stream at all: zeroed from the first bad header on. */
	memset(buf, 'A', 64);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dm_redact_segment(&r, 0, buf, 64, 64), 59);
	assert_true(r.desync);
}

/* One command set as one PDU through a fresh redactor: the bytes zeroed. */
static uint32_t redact_cmd(const struct cset *cs, uint8_t *out, size_t *n, struct dm_redact *r)
{
	static uint8_t keep[2048];
	struct ub b;

	ub_init(&b, out, 2048);
	put_cmd(&b, keep, cs, 0);
	assert_false(b.bad);
	*n = b.n;
	memset(r, 0, sizeof(*r));
	return dm_redact_segment(r, 1, out, (uint32_t)b.n, (uint32_t)b.n);
}

static void test_redact_command_lies(void **state)
{
	static uint8_t buf[2048];
	struct dm_redact r;
	struct cset cs;
	uint8_t *h;
	size_t n;

	(void)state;
	/* A clean C-STORE-RSP: nothing counted, the canaries zeroed all the same. */
	cs_store_rsp(&cs);
	redact_cmd(&cs, buf, &n, &r);
	assert_int_equal(r.bad_cmds, 0);
	no_canary(buf, n);
	assert_int_equal(r.cmd, 0);
	/* The comment's length runs past the PDV: zeroed from its last length byte on. */
	cs_store_rsp(&cs);
	h = memmem(cs.b, cs.n, "\0\0\x02\x09", 4);
	h[6] = 0x10;
	redact_cmd(&cs, buf, &n, &r);
	assert_int_equal(r.bad_cmds, 1);
	assert_false(r.desync); /* the PDU walk goes on */
	assert_null(memmem(buf, n, "\x00\x00\x03\x09", 4)); /* the error id header: gone */
	assert_null(memmem(buf, n, "1.2.3.4", 7));	       /* and what follows */
	no_canary(buf, n);
	/* A group length shorter than the elements: what it does not cover is zeroed. */
	cs_store_rsp(&cs);
	cs.b[8] = 20;
	cs.b[9] = 0;
	redact_cmd(&cs, buf, &n, &r);
	assert_int_equal(r.bad_cmds, 1);
	assert_null(memmem(buf, n, "\x00\x00\x20\x01", 4)); /* (0000,0120) is past 20 bytes */
	/* Tags out of order, and an odd length: not a command set. */
	cs_begin(&cs);
	cs_us(&cs, 0x0900, 0);
	cs_us(&cs, 0x0100, 0x8001);
	cs_done(&cs);
	redact_cmd(&cs, buf, &n, &r);
	assert_int_equal(r.bad_cmds, 1);
	assert_null(memmem(buf, n, "\x01\x80", 2));
	cs_begin(&cs);
	cs_elem(&cs, 0x0002, "1.2.3", 5, 1);
	cs_done(&cs);
	redact_cmd(&cs, buf, &n, &r);
	assert_int_equal(r.bad_cmds, 1);
	assert_null(memmem(buf, n, "1.2.3", 5));
	/* An allowed element longer than its VR: its value zeroed, the set still parses. */
	cs_begin(&cs);
	cs_elem(&cs, 0x0600, "MOVE^DEST^CANARY^TOO^LONG\0\0\0", 28, 0);
	cs_done(&cs);
	redact_cmd(&cs, buf, &n, &r);
	assert_int_equal(r.bad_cmds, 0);
	no_canary(buf, n);
	/* A header beyond the snap length: the rest of the set is not known, counted. */
	cs_store_rsp(&cs);
	memset(&r, 0, sizeof(r));
	{
		struct ub b;
		static uint8_t keep[2048];

		ub_init(&b, buf, sizeof(buf));
		put_cmd(&b, keep, &cs, 0);
		dm_redact_segment(&r, 1, buf, 40, (uint32_t)b.n);
		assert_int_equal(r.bad_cmds, 1);
	}
}

/* A frame: Ethernet, IPv4, TCP (20 bytes), payload. */
static size_t frame(uint8_t *f, uint32_t seq, const uint8_t *pl, size_t n)
{
	memset(f, 0, 54);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + 20 + n) >> 8), f[17] = (uint8_t)(20 + 20 + n);
	f[23] = 6;
	f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
	f[34] = 0x9c, f[35] = 0x40, f[36] = 0x2b, f[37] = 0x68;
	f[38] = seq >> 24, f[39] = seq >> 16, f[40] = seq >> 8, f[41] = (uint8_t)seq;
	f[46] = 0x50;
	memcpy(f + 54, pl, n);
	return 54 + n;
}

static void send_pkt(struct dm_evidence *e, uint64_t id, uint32_t seq, const uint8_t *pl, size_t n,
		     int64_t t)
{
	static struct dm_event_packet p;
	size_t len = frame(p.data, seq, pl, n);

	memset(&p.hdr, 0, sizeof(p.hdr));
	p.hdr.type = DM_EV_PACKET;
	p.hdr.assoc_id = id;
	p.hdr.len = (uint32_t)len;
	p.wire_len = (uint32_t)len;
	p.transport = DM_TRANSPORT_CLEARTEXT;
	p.aflags = 0;
	dm_evidence_packet(e, &p, offsetof(struct dm_event_packet, data) + len, t);
}

static void test_store_alert_append_end(void **state)
{
	static uint8_t orig[8192], keep[8192];
	char dir[] = "/tmp/dm-evidence-XXXXXX", path[512], err[256];
	size_t n = stream(orig, sizeof(orig), keep), half = n / 2;
	const struct dm_evidence_stats *st;
	struct dm_pcap_pkt pkt;
	struct dm_evidence *e;
	struct dm_pcap *p;
	const char *got;
	struct stat sb;
	uint8_t *all;
	int k = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(dm_evidence_prepare_dir(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	e = dm_evidence_new(path, 1 << 20);
	assert_non_null(e);
	send_pkt(e, 7, 1000, orig, half, 1700000000000000001LL);
	send_pkt(e, 9, 1000, orig, 100, 5); /* another association, never alerted */
	got = dm_evidence_alert(e, 7);
	assert_non_null(got);
	snprintf(path, sizeof(path), "%s/sub/dicomon-7.pcap", dir);
	assert_string_equal(got, path);
	/* Alerting twice names the same file; later frames are appended. */
	assert_string_equal(dm_evidence_alert(e, 7), path);
	send_pkt(e, 7, 1000 + (uint32_t)half, orig + half, n - half, 1700000000000000002LL);
	dm_evidence_end(e, 7);
	dm_evidence_end(e, 9);
	st = dm_evidence_stats(e);
	assert_int_equal(st->files, 1);
	assert_int_equal(st->written, 2);
	assert_int_equal(st->packets, 3);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* Read back: two frames, the payload redacted exactly. */
	all = calloc(1, n);
	p = dm_pcap_open(path, err, sizeof(err));
	assert_non_null(p);
	while (dm_pcap_next(p, &pkt, err, sizeof(err)) == 1) {
		assert_int_equal(pkt.ts_ns, 1700000000000000001ULL + (uint64_t)k);
		memcpy(all + (k ? half : 0), pkt.data + 54, pkt.caplen - 54);
		k++;
	}
	assert_int_equal(k, 2);
	check_redacted(orig, all, keep, n);
	dm_pcap_close(p);
	free(all);
	/* Unalerted association 9 wrote nothing. */
	snprintf(path, sizeof(path), "%s/sub/dicomon-9.pcap", dir);
	assert_int_not_equal(stat(path, &sb), 0);
	dm_evidence_free(e);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* Bytes after the IP datagram (Ethernet padding or worse) are zeroed; the datagram is not. */
static void test_trailer(void **state)
{
	static const char canary[] = "TRAILER^CANARY^PHI";
	static struct dm_event_packet p;
	char dir[] = "/tmp/dm-evidence-XXXXXX", path[512], err[256];
	uint8_t pl[6] = {0x05, 0x00, 0, 0, 0, 4}; /* an A-RELEASE-RQ header, cut by the segment */
	struct dm_pcap_pkt pkt;
	struct dm_evidence *e;
	struct dm_pcap *pc;
	size_t len;
	int k = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	e = dm_evidence_new(dir, 1 << 20);
	len = frame(p.data, 1, pl, sizeof(pl));
	memcpy(p.data + len, canary, sizeof(canary));
	p.hdr.type = DM_EV_PACKET;
	p.hdr.assoc_id = 3;
	p.hdr.len = (uint32_t)(len + sizeof(canary));
	p.wire_len = p.hdr.len;
	p.transport = DM_TRANSPORT_CLEARTEXT;
	dm_evidence_packet(e, &p, offsetof(struct dm_event_packet, data) + p.hdr.len, 1);
	p.transport = DM_TRANSPORT_TLS; /* kept ciphertext: its trailer goes all the same */
	dm_evidence_packet(e, &p, offsetof(struct dm_event_packet, data) + p.hdr.len, 2);
	assert_non_null(dm_evidence_alert(e, 3));
	assert_true(dm_evidence_stats(e)->redacted >= 2 * sizeof(canary));
	dm_evidence_free(e);
	snprintf(path, sizeof(path), "%s/dicomon-3.pcap", dir);
	pc = dm_pcap_open(path, err, sizeof(err));
	assert_non_null(pc);
	while (dm_pcap_next(pc, &pkt, err, sizeof(err)) == 1) {
		assert_int_equal(pkt.caplen, len + sizeof(canary));
		assert_memory_equal(pkt.data + 54, pl, sizeof(pl)); /* the datagram: kept */
		for (size_t i = len; i < pkt.caplen; i++)
			assert_int_equal(pkt.data[i], 0);
		k++;
	}
	assert_int_equal(k, 2);
	dm_pcap_close(pc);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void test_memory_bound(void **state)
{
	char dir[] = "/tmp/dm-evidence-XXXXXX";
	uint8_t pl[1000] = {0};
	struct dm_evidence *e;
	uint64_t id;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Room for about 10 frames: the oldest associations lose theirs. */
	e = dm_evidence_new(dir, 10 * 1100);
	for (id = 1; id <= 30; id++)
		send_pkt(e, id, 1, pl, sizeof(pl), 1);
	assert_true(dm_evidence_stats(e)->evicted >= 19);
	assert_null(dm_evidence_alert(e, 1)); /* its frames are gone: no partial file */
	assert_non_null(dm_evidence_alert(e, 30));
	assert_int_equal(dm_evidence_stats(e)->files, 1);
	dm_evidence_free(e);
	assert_int_equal(system("rm -rf /tmp/dm-evidence-??????"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redact_any_segmentation),
	    cmocka_unit_test(test_redact_retransmission_gap_snap),
	    cmocka_unit_test(test_redact_command_lies),
	    cmocka_unit_test(test_trailer),
	    cmocka_unit_test(test_store_alert_append_end),
	    cmocka_unit_test(test_memory_bound),
	};

	return cmocka_run_group_tests_name("unit_evidence", tests, NULL, NULL);
}
