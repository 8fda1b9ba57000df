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

/*
 * An initiator's stream: RQ with a user identity, a P-DATA with a command
 * PDV and a data set PDV, a P-DATA with two data set PDVs, a release RQ.
 * keep[i] says whether byte i must survive.
 */
static size_t stream(uint8_t *p, size_t cap, uint8_t *keep)
{
	struct ub b;
	uint8_t called[16], calling[16];
	size_t pdu, ui, pdv, i, z[8][2], nz = 0, id;
	struct ub_cmd c;

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
	z[nz][0] = id + 8, z[nz++][1] = strlen(SECRET_USER);
	z[nz][0] = id + 8 + strlen(SECRET_USER) + 2, z[nz++][1] = strlen(SECRET_PASS);

	ub_cmd_begin(&b, &c, 1, 0x03, 1);
	ub_cmd_valid(&b, 0x0001);
	/* a data set PDV in the same PDU: patch the PDU length after it */
	pdv = b.n;
	ub_be32(&b, 0);
	ub_u8(&b, 1);
	ub_u8(&b, 0x02);
	ub_elem_str(&b, 0x0010, SECRET_NAME, ' ');
	ub_patch_be(&b, pdv, (uint32_t)(b.n - pdv - 4), 4);
	z[nz][0] = pdv + 6, z[nz++][1] = b.n - pdv - 6;
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
		z[nz][0] = pdv + 6, z[nz++][1] = b.n - pdv - 6;
	}
	ub_pdu_end(&b, pdu);
	pdu = ub_pdu_begin(&b, 0x05);
	ub_be32(&b, 0);
	ub_pdu_end(&b, pdu);
	assert_false(b.bad);
	memset(keep, 1, b.n);
	for (i = 0; i < nz; i++)
		memset(keep + z[i][0], 0, z[i][1]);
	return b.n;
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
	assert_true(want > 2 * strlen(SECRET_NAME));
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
		assert_null(memmem(buf, n, "SECRET", 6));
		assert_null(memmem(buf, n, SECRET_PASS, strlen(SECRET_PASS)));
		assert_non_null(memmem(buf, n, "MODALITY", 8));
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
	    cmocka_unit_test(test_store_alert_append_end),
	    cmocka_unit_test(test_memory_bound),
	};

	return cmocka_run_group_tests_name("unit_evidence", tests, NULL, NULL);
}
