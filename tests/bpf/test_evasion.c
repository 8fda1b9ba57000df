// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * BPF tests of what an attacker does to blind an IDS (issue 11): an
 * A-ASSOCIATE-RQ or an HTTP request line cut into segments too short to
 * classify (candidates), retransmissions that disagree, lengths that lie,
 * PDUs piled into one segment, malformed PDUs mid-association (anomaly
 * events with their stream offset), the RQ in IPv4 fragments, an RQ tail that
 * overtakes its middle, and a command set split over PDUs. Needs root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "config/config.h"
#include "dicomon.h"
#include "kern/loader.h"
#include "lib/log.h"
#include "decode/pdu.h"
#include "pktbuild.h"
#include "harness.h"

/* A new scenario inside a test: counters and events from here on. */
static void begin_again(void)
{
	snapshot();
}


/* The anomaly events of the captured ones, by code: the nth, NULL if fewer. */
static const struct dm_event_anomaly *anomaly(uint32_t code, int nth)
{
	const struct dm_event_anomaly *e;
	int i;

	for (i = 0; (e = find_event(DM_EV_ANOMALY, i)); i++)
		if (e->code == code && nth-- == 0)
			return e;
	return NULL;
}

/* The rest of an association after its RQ: AC, C-ECHO, release, FIN both ways. */
static void after_rq(struct conv *c)
{
	uint8_t p[1024];
	size_t n;

	n = mk_ac(p, sizeof(p));
	send_seg(c, 1, 0, p, n);
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	send_seg(c, 0, 0, p, n);
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION, 1, 0,
			      NULL, 0);
	send_seg(c, 1, 0, p, n);
	n = pdu_release_rq(p, sizeof(p));
	send_seg(c, 0, 0, p, n);
	n = pdu_release_rp(p, sizeof(p));
	send_seg(c, 1, 0, p, n);
	send_seg(c, 0, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	send_seg(c, 1, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
}

/* The RQ rebuilt from its pieces is the RQ sent. */
static void check_rq_rebuilt(const uint8_t *rq, size_t n)
{
	struct dm_pdu_buf b = {};

	assert_int_equal(rebuild(DM_EV_PDU, DM_PDU_ASSOC_RQ, DM_DIR_ORIG, 0, &b), n);
	assert_memory_equal(b.data, rq, n);
	dm_pdu_buf_free(&b);
}

/*
 * An RQ whose first segment holds `cut` bytes (then the rest in one), on a
 * DICOM port and off them: recognised whole, from a candidate when the first
 * segment is too short to decide (< 42 bytes).
 */
static void rq_cut(uint16_t port, size_t cut)
{
	uint8_t rq[1024];
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin_again();
	conv_init(&c, port, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	send_seg(&c, 0, 0, rq, cut);
	send_seg(&c, 0, 0, rq + cut, n - cut);
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(d.cnt[DM_CNT_CAND_NEW], cut < 42);
	assert_int_equal(d.cnt[DM_CNT_CAND_PROMOTED], cut < 42);
	assert_int_equal(d.cnt[DM_CNT_MIDSTREAM], 0);
	assert_int_equal(!!(flow_end()->assoc.flags & DM_AF_CANDIDATE), cut < 42);
	check_rq_rebuilt(rq, n);
	assert_null(find_event(DM_EV_ANOMALY, 0));
}

static void test_rq_first_segment_short(void **state)
{
	static const size_t cuts[] = {1, 2, 3, 5, 6, 7, 10, 11, 20, 30, 41, 42, 43, 80};
	size_t i;

	begin(state);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		rq_cut(40123, cuts[i]);
		rq_cut(104, cuts[i]);
	}
}

/* The RQ in 1-byte segments: held until byte 42, then an association. */
static void test_rq_one_byte_segments(void **state)
{
	uint8_t rq[1024];
	struct dm_stats d;
	struct conv c;
	size_t n, i;

	begin(state);
	conv_init(&c, 40123, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	for (i = 0; i < n; i++)
		send_seg(&c, 0, 0, rq + i, 1);
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(d.cnt[DM_CNT_CAND_NEW], 1);
	assert_int_equal(d.cnt[DM_CNT_CAND_SEGMENTS], 41);
	assert_int_equal(d.cnt[DM_CNT_CAND_PROMOTED], 1);
	assert_int_equal(flow_end()->assoc.dir[DM_DIR_ORIG].pdus[DM_PDU_ASSOC_RQ], 1);
	check_rq_rebuilt(rq, n);
}

/* Bytes that stop looking like an RQ end the candidate: nothing more is held or reported. */
static void test_candidate_dropped(void **state)
{
	uint8_t rq[1024], bad[64];
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 40123, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, "\x01", 1);
	send_seg(&c, 0, 0, "\x05\x00\x00\x00", 4); /* reserved byte 0x05: no RQ */
	send_seg(&c, 0, 0, "HELLO", 5);
	/* Off the DICOM ports, a control byte among the AE titles rules it out too. */
	conv_init(&c, 40123, NULL);
	handshake(&c);
	assert_true(mk_rq(rq, sizeof(rq), "PACS", "MODALITY") > 41);
	memcpy(bad, rq, 41);
	bad[20] = 0x07;
	send_seg(&c, 0, 0, bad, 10);
	send_seg(&c, 0, 0, bad + 10, 31);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_CAND_NEW], 2);
	assert_int_equal(d.cnt[DM_CNT_CAND_DROPPED], 2);
	assert_int_equal(d.cnt[DM_CNT_CAND_REMOVED], 2);
	assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 0);
	assert_int_equal(count_events(DM_EV_PDU), 0);
}

/*
 * A retransmission of held bytes that differs: the first copy wins (as the
 * receiver keeps it), counted, and reported on the association.
 */
static void test_candidate_overlap_conflict(void **state)
{
	uint8_t rq[1024], other[64];
	const struct dm_event_anomaly *a;
	struct dm_stats d;
	struct conv c;
	uint32_t seq;
	size_t n;

	begin(state);
	conv_init(&c, 40123, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	memcpy(other, rq, sizeof(other));
	memcpy(other + 26, "OTHER_AE", 8); /* the calling AE title */
	seq = c.f.next_seq[0];
	send_seg(&c, 0, 0, rq, 30);
	c.f.next_seq[0] = seq; /* the same bytes again, other content */
	send_seg(&c, 0, 0, other, 30);
	c.f.next_seq[0] = seq; /* the same bytes again, same content */
	send_seg(&c, 0, 0, rq, 30);
	send_seg(&c, 0, 0, rq + 30, n - 30);
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(d.cnt[DM_CNT_OVERLAP_CONFLICT], 1);
	check_rq_rebuilt(rq, n); /* the first copy */
	a = anomaly(DM_AN_OVERLAP, 0);
	assert_non_null(a);
	assert_int_equal(a->hdr.dir, DM_DIR_ORIG);
}

/*
 * Reordering inside the held bytes: a segment beyond a gap is not merged and
 * waits for its retransmission; the RQ is still recognised whole.
 */
static void test_candidate_gap(void **state)
{
	uint8_t rq[1024];
	struct dm_stats d;
	struct conv c;
	uint32_t seq;
	size_t n;

	begin(state);
	conv_init(&c, 40123, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	seq = c.f.next_seq[0];
	send_seg(&c, 0, 0, rq, 5);
	c.f.next_seq[0] = seq + 20; /* bytes 20..29 before 5..19 */
	send_seg(&c, 0, 0, rq + 20, 10);
	c.f.next_seq[0] = seq + 5;
	send_seg(&c, 0, 0, rq + 5, 15);
	send_seg(&c, 0, 0, rq + 20, n - 20); /* the sender sends 20.. again */
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(d.cnt[DM_CNT_CAND_PROMOTED], 1);
	check_rq_rebuilt(rq, n);

	/* With SACK the sender does not send 20..29 again: the block kept fills in. */
	begin_again();
	conv_init(&c, 40123, NULL);
	handshake(&c);
	seq = c.f.next_seq[0];
	send_seg(&c, 0, 0, rq, 5);
	c.f.next_seq[0] = seq + 20;
	send_seg(&c, 0, 0, rq + 20, 10);
	c.f.next_seq[0] = seq + 5;
	send_seg(&c, 0, 0, rq + 5, 15);
	c.f.next_seq[0] = seq + 30;
	send_seg(&c, 0, 0, rq + 30, n - 30);
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	check_rq_rebuilt(rq, n);
	/* ... and when the block ahead reaches past the segment that fills the gap. */
	begin_again();
	conv_init(&c, 40123, NULL);
	handshake(&c);
	seq = c.f.next_seq[0];
	send_seg(&c, 0, 0, rq, 5);
	c.f.next_seq[0] = seq + 10;
	send_seg(&c, 0, 0, rq + 10, 38); /* 10..47: the window's end */
	c.f.next_seq[0] = seq + 5;
	send_seg(&c, 0, 0, rq + 5, 5); /* fills 5..9: 48 known, an RQ */
	c.f.next_seq[0] = seq + 48;
	send_seg(&c, 0, 0, rq + 48, n - 48);
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	check_rq_rebuilt(rq, n);
}

/* An RQ whose length field lies: still an association, the lie reported. */
static void rq_bad_length(uint32_t len)
{
	const struct dm_event_anomaly *a;
	const struct dm_event_piece *e;
	uint8_t rq[1024];
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin_again();
	conv_init(&c, 40123, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	rq[2] = len >> 24, rq[3] = len >> 16, rq[4] = len >> 8, rq[5] = len;
	send_seg(&c, 0, 0, rq, n);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 1);
	assert_int_equal(d.err[DM_ERR_PDU_BAD_LEN], 1);
	a = anomaly(DM_AN_PDU_LENGTH, 0);
	assert_non_null(a);
	assert_int_equal(a->value, len);
	assert_int_equal(a->offset, 0);
	e = find_event(DM_EV_PDU, 0);
	assert_non_null(e);
	assert_int_equal(e->pdu_type, DM_PDU_ASSOC_RQ);
	assert_int_equal(e->pdu_len, len);
	assert_true(e->hdr.len >= 74 && e->hdr.len <= n);
	assert_memory_equal(e->data + 10, "PACS", 4); /* the AE titles go to userspace */
}

static void test_rq_bad_length(void **state)
{
	begin(state);
	rq_bad_length(0);
	rq_bad_length(0xffffffff);
	rq_bad_length(10);
}

/*
 * An HTTP request to a web port with its method cut short ("G"): held, then
 * shipped as it comes, offsets telling userspace where each piece goes.
 */
static void test_http_cut_method(void **state)
{
	static const char req[] = "GET /dicom-web/studies?PatientName=X HTTP/1.1\r\nHost: h\r\n\r\n";
	const struct dm_event_http *e0, *e1;
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 8042, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, req, 1);
	send_seg(&c, 0, 0, req + 1, 2);
	send_seg(&c, 0, 0, req + 3, sizeof(req) - 4);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 1);
	assert_int_equal(d.cnt[DM_CNT_CAND_HTTP], 1);
	assert_int_equal(count_events(DM_EV_HTTP), 2);
	e0 = find_event(DM_EV_HTTP, 0);
	e1 = find_event(DM_EV_HTTP, 1);
	assert_int_equal(e0->offset, 0);
	assert_int_equal(e0->hdr.len, 3);
	assert_true(e0->hdr.flags & DM_EF_FIRST);
	assert_memory_equal(e0->data, "GET", 3);
	assert_int_equal(e1->offset, 3);
	assert_int_equal(e1->hdr.len, sizeof(req) - 4);
	assert_memory_equal(e1->data, req + 3, sizeof(req) - 4);
}

/* A request line cut after 20 bytes: the next segment follows as a continuation. */
static void test_http_continuation(void **state)
{
	static const char req[] = "GET /dicom-web/studies?PatientName=X HTTP/1.1\r\n\r\n";
	const struct dm_event_http *e;
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 8042, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, req, 20);
	send_seg(&c, 0, 0, req + 20, sizeof(req) - 21);
	send_seg(&c, 1, 0, "HTTP/1.1 200 OK\r\n\r\n", 19); /* the response: not shipped */
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 1);
	assert_int_equal(d.cnt[DM_CNT_HTTP_CONT], 1);
	assert_int_equal(count_events(DM_EV_HTTP), 2);
	e = find_event(DM_EV_HTTP, 1);
	assert_int_equal(e->offset, 20);
	assert_memory_equal(e->data, req + 20, sizeof(req) - 21);
	/* A whole request in one segment, its header ended: no continuation held. */
	conv_init(&c, 8042, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, req, sizeof(req) - 1);
	send_seg(&c, 0, 0, "body", 4);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 2);
	assert_int_equal(d.cnt[DM_CNT_HTTP_CONT], 1);
}

/* A P-DATA-TF with one PDV: pcid, message control header, n bytes of data. */
static size_t mk_pdata(uint8_t *out, uint8_t pcid, uint8_t mch, const uint8_t *data, size_t n,
		       uint32_t pdv_len)
{
	uint32_t pdu_len = 6 + n;

	out[0] = 4, out[1] = 0;
	out[2] = pdu_len >> 24, out[3] = pdu_len >> 16, out[4] = pdu_len >> 8, out[5] = pdu_len;
	out[6] = pdv_len >> 24, out[7] = pdv_len >> 16, out[8] = pdv_len >> 8, out[9] = pdv_len;
	out[10] = pcid, out[11] = mch;
	memcpy(out + 12, data, n);
	return 12 + n;
}

/* An association through its C-ECHO, held open: the conversation for what follows. */
static void open_echo(struct conv *c, uint16_t port)
{
	uint8_t p[1024];
	size_t n;

	conv_init(c, port, NULL);
	handshake(c);
	n = mk_rq(p, sizeof(p), "PACS", "MODALITY");
	send_seg(c, 0, 0, p, n);
	n = mk_ac(p, sizeof(p));
	send_seg(c, 1, 0, p, n);
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	send_seg(c, 0, 0, p, n);
}

/*
 * Malformed PDUs mid-association become anomaly events of the association,
 * at the stream offset where they are.
 */
static void test_anomaly_events(void **state)
{
	static const uint8_t types[] = {0, 8, 0x7f, 0xff};
	static const uint32_t pdv_lens[] = {0, 1, 100, 0xffffffff};
	const struct dm_event_anomaly *a;
	uint8_t p[256], z[16] = {0};
	struct conv c;
	uint32_t before;
	size_t n, i;

	begin(state);
	for (i = 0; i < sizeof(types); i++) {
		open_echo(&c, 104);
		before = c.f.next_seq[0] - c.f.spec.seq - 1; /* client stream bytes so far */
		n = pdu_release_rq(p, sizeof(p));
		p[0] = types[i];
		send_seg(&c, 0, 0, p, n);
		a = anomaly(DM_AN_PDU_TYPE, i);
		assert_non_null(a);
		assert_int_equal(a->value, types[i]);
		assert_int_equal(a->offset, before);
		assert_int_equal(a->hdr.dir, DM_DIR_ORIG);
	}
	for (i = 0; i < sizeof(pdv_lens) / sizeof(pdv_lens[0]); i++) {
		open_echo(&c, 104);
		before = c.f.next_seq[0] - c.f.spec.seq - 1;
		n = mk_pdata(p, 1, 0x03, z, sizeof(z), pdv_lens[i]);
		send_seg(&c, 0, 0, p, n);
		a = anomaly(DM_AN_PDV_LENGTH, i);
		assert_non_null(a);
		assert_int_equal(a->value, pdv_lens[i]);
		assert_int_equal(a->offset, before);
	}
	/* PDU lengths that lie mid-association: 0 and huge. */
	open_echo(&c, 104);
	n = pdu_release_rq(p, sizeof(p));
	p[5] = 0;
	send_seg(&c, 0, 0, p, n);
	assert_non_null(anomaly(DM_AN_PDU_LENGTH, 0));
}

/* 40 P-DATA PDUs in one segment: every one counted (the walk's steps suffice). */
static void test_forty_pdus(void **state)
{
	uint8_t p[8192];
	struct dm_stats d;
	struct conv c;
	size_t n = 0, i;

	begin(state);
	open_echo(&c, 104);
	snapshot();
	for (i = 0; i < 40; i++)
		n += pdu_pdata_command(p + n, sizeof(p) - n, 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION,
				       2 + i, 0, NULL, 0);
	send_seg(&c, 0, 0, p, n);
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 40);
	assert_int_equal(d.cnt[DM_CNT_DIMSE_COMMANDS], 40);
	assert_int_equal(count_events(DM_EV_DIMSE), 40);
	assert_int_equal(d.cnt[DM_CNT_WALK_LIMIT], 0);
	assert_null(find_event(DM_EV_ANOMALY, 0));
}

/*
 * A command fragment that is not the last: its whole PDU goes to userspace
 * (with the next fragment in it), the last fragment alone as before.
 */
static void test_command_fragments(void **state)
{
	const struct dm_event_piece *e;
	uint8_t p[512], cmd[64];
	struct conv c;
	size_t n;

	begin(state);
	open_echo(&c, 104);
	snapshot();
	memset(cmd, 0x11, sizeof(cmd));
	n = mk_pdata(p, 1, 0x01, cmd, 40, 42); /* command, not last */
	send_seg(&c, 0, 0, p, n);
	e = find_event(DM_EV_DIMSE, 0);
	assert_non_null(e);
	assert_int_equal(e->hdr.len, n);
	n = mk_pdata(p, 1, 0x03, cmd, 30, 32); /* command, last */
	/* a data set PDV behind it in the same PDU */
	memcpy(p + n, "\x00\x00\x00\x0a\x01\x02PATIENTNM", 16);
	p[5] += 16;
	send_seg(&c, 0, 0, p, n + 16);
	e = find_event(DM_EV_DIMSE, 1);
	assert_non_null(e);
	assert_int_equal(e->hdr.len, n);
	assert_null(memmem(e->data, e->hdr.len, "PATIENTNM", 9));
}

/*
 * The RQ's tail before its middle (segments 1, 3, 2): the tail is shipped
 * ahead of the hole, the middle fills it, and the pieces make the RQ.
 */
static void test_rq_tail_out_of_order(void **state)
{
	const struct dm_event_piece *e;
	uint8_t rq[1024], out[1024];
	struct dm_stats d;
	struct conv c;
	uint32_t seq;
	size_t n, i, got = 0;

	begin(state);
	conv_init(&c, 104, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	assert_true(n > 150);
	seq = c.f.next_seq[0];
	send_seg(&c, 0, 0, rq, 60);
	c.f.next_seq[0] = seq + 120;
	send_seg(&c, 0, 0, rq + 120, n - 120);
	c.f.next_seq[0] = seq + 60;
	send_seg(&c, 0, 0, rq + 60, 60);
	c.f.next_seq[0] = seq + n;
	after_rq(&c);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(d.cnt[DM_CNT_OOO_SHIPPED], n - 120);
	/* The RQ's pieces: 0..60 first, 120..n ahead (no flags), 60..120 last. */
	memset(out, 0, sizeof(out));
	for (i = 0; (e = find_event(DM_EV_PDU, i)); i++) {
		if (e->pdu_type != DM_PDU_ASSOC_RQ)
			continue;
		assert_true(e->offset + e->hdr.len <= n);
		memcpy(out + e->offset, e->data, e->hdr.len);
		got += e->hdr.len;
		if (e->offset == 60)
			assert_true(e->hdr.flags & DM_EF_LAST);
	}
	assert_int_equal(got, n);
	assert_memory_equal(out, rq, n);
	assert_null(anomaly(DM_AN_GAP, 0));
}

/* ---- IPv4 fragments ---- */

static uint16_t ip_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < n; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/*
 * One fragment of the IPv4 datagram in frame (Ethernet, IPv4 without
 * options): payload bytes [off, off + len) of it, MF as given.
 */
static size_t fragment(const uint8_t *frame, uint8_t *out, size_t off, size_t len, int mf)
{
	uint16_t tot = 20 + len, fo = off / 8 | (mf ? 0x2000 : 0), c;

	memcpy(out, frame, 14 + 20);
	out[14 + 2] = tot >> 8, out[14 + 3] = tot;
	out[14 + 4] = 0x12, out[14 + 5] = 0x34; /* identification */
	out[14 + 6] = fo >> 8, out[14 + 7] = fo;
	out[14 + 10] = out[14 + 11] = 0;
	c = ip_csum(out + 14, 20);
	out[14 + 10] = c >> 8, out[14 + 11] = c;
	memcpy(out + 34, frame + 34 + off, len);
	return 34 + len;
}

/*
 * The RQ's segment cut into two IPv4 fragments at `at` bytes of IP payload
 * (20 of TCP header, then at - 20 of the RQ), on `port`.
 */
static void rq_in_fragments(int reversed, size_t at, uint16_t port)
{
	uint8_t rq[1024], frame[2048], f1[1600], f2[1600];
	const struct dm_event_flow *fe;
	const struct dm_event_anomaly *a;
	struct dm_stats d;
	struct conv c;
	size_t n, len, l1, l2;

	begin_again();
	conv_init(&c, port, NULL);
	handshake(&c);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	len = pkt_flow_next(&c.f, 0, 0, frame, sizeof(frame), rq, n);
	l1 = fragment(frame, f1, 0, at, 1);
	l2 = fragment(frame, f2, at, len - 34 - at, 0);
	if (reversed) {
		run(f2, l2);
		run(f1, l1);
	} else {
		run(f1, l1);
		run(f2, l2);
	}
	after_rq(&c);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_IP_FRAG_FIRST], 1);
	if (reversed && at - 20 < 8 && port != 104) {
		/* Four bytes off the DICOM ports say too little: no association from them. */
		assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 0);
		assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_ASSOC_RQ], 0);
		return;
	}
	fe = flow_end();
	assert_true(fe->assoc.flags & DM_AF_IP_FRAG);
	a = anomaly(DM_AN_IP_FRAGMENT, 0);
	assert_non_null(a);
	if (!reversed) {
		check_echo_stats(&d);
		assert_int_equal(d.cnt[DM_CNT_IP_FRAG_PLACED], 1);
		assert_int_equal(a->value, 1);
		assert_false(fe->assoc.flags & DM_AF_IP_FRAG_LOST);
		check_rq_rebuilt(rq, n);
		return;
	}
	/*
	 * The tail came first: it is lost. The first bytes still make an
	 * association, which says its set-up could not be had whole.
	 */
	assert_int_equal(d.cnt[DM_CNT_IP_FRAG_PLACED], 0);
	assert_int_equal(d.cnt[DM_CNT_IP_FRAGMENT], 1);
	assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 1);
	assert_true(fe->assoc.flags & DM_AF_IP_FRAG_LOST);
	assert_int_equal(a->value, 0);
	if (at - 20 >= 6) {
		/* The RQ's length was had: its shipping stops at the next client bytes (a gap). */
		assert_non_null(anomaly(DM_AN_GAP, 0));
	} else {
		/*
		 * Only part of its header: the rest of it was lost, and the walk
		 * finds the stream again on the next client segment, whose
		 * command is seen.
		 */
		assert_non_null(anomaly(DM_AN_HEADER_LOST, 0));
		assert_non_null(anomaly(DM_AN_RESYNC, 0));
		assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
		assert_int_equal(d.cnt[DM_CNT_DIMSE_COMMANDS], 2);
	}
}

static void test_rq_in_fragments(void **state)
{
	begin(state);
	rq_in_fragments(0, 48, 40123);
	rq_in_fragments(1, 48, 40123);
	rq_in_fragments(0, 24, 104);
	rq_in_fragments(1, 24, 104);
	rq_in_fragments(1, 24, 40123);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rq_first_segment_short),
	    cmocka_unit_test(test_rq_one_byte_segments),
	    cmocka_unit_test(test_candidate_dropped),
	    cmocka_unit_test(test_candidate_overlap_conflict),
	    cmocka_unit_test(test_candidate_gap),
	    cmocka_unit_test(test_rq_bad_length),
	    cmocka_unit_test(test_http_cut_method),
	    cmocka_unit_test(test_http_continuation),
	    cmocka_unit_test(test_anomaly_events),
	    cmocka_unit_test(test_forty_pdus),
	    cmocka_unit_test(test_command_fragments),
	    cmocka_unit_test(test_rq_tail_out_of_order),
	    cmocka_unit_test(test_rq_in_fragments),
	};
	int fails = 0;

	if (getenv("DICOMON_TEST_VERBOSE"))
		dm_log_set_level(DM_LOG_DEBUG);
	dm_log_init_libbpf();
	fails += cmocka_run_group_tests_name("evasion_xdp", tests, setup_xdp, teardown);
	fails += cmocka_run_group_tests_name("evasion_tc", tests, setup_tc, teardown);
	return fails ? 1 : 0;
}
