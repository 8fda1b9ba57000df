// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * BPF unit tests: crafted frames through BPF_PROG_TEST_RUN into the real
 * classifier (XDP and TC programs), asserting counter deltas and the events
 * that reach the ring buffer. Needs root (CAP_BPF).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
#include "../unit/decode_views.h"

/* Few slots: collisions go to the LRU overflow table. */
static int setup_small_table(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	cfg.flow_slots = 64;
	return harness_up(state, &cfg, 1);
}

/* Few slots and no idle grace: a colliding association evicts the occupant. */
static int setup_evicting(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	cfg.flow_slots = 64;
	cfg.idle_reclaim_s = 0;
	return harness_up(state, &cfg, 1);
}

/* The smallest ring: reserve failures must be counted, not lost silently. */
static int setup_tiny_ring(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	cfg.ringbuf_bytes = 1 << 16;
	return harness_up(state, &cfg, 1);
}

/* VLAN ids out of the key: a router between VLANs. */
static int setup_no_vlan_key(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	cfg.vlan_key = false;
	return harness_up(state, &cfg, 1);
}

/* Evidence on (evidence.dir set): the first 3 frames of each DICOM association. */
static int setup_evidence(void **state, int xdp)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	snprintf(cfg.evidence_dir, sizeof(cfg.evidence_dir), "/nonexistent");
	cfg.evidence_packets = 3;
	return harness_up(state, &cfg, xdp);
}

static int setup_evidence_xdp(void **state)
{
	return setup_evidence(state, 1);
}

static int setup_evidence_tc(void **state)
{
	return setup_evidence(state, 0);
}

/* Evidence with the smallest ring: frames must yield to events. */
static int setup_evidence_tiny_ring(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	snprintf(cfg.evidence_dir, sizeof(cfg.evidence_dir), "/nonexistent");
	cfg.evidence_packets = 3;
	cfg.ringbuf_bytes = 1 << 16;
	return harness_up(state, &cfg, 1);
}

static void test_loaded(void **state)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	begin(state);
	/* Every program of the object passed the verifier on this kernel. */
	assert_true(dm_skel_prog_fd(H->l.skel, DM_ATT_XDP) >= 0);
	assert_true(dm_skel_prog_fd(H->l.skel, DM_ATT_TC_INGRESS) >= 0);
	assert_true(dm_skel_prog_fd(H->l.skel, DM_ATT_TC_EGRESS) >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(H->prog, &info, &len), 0);
	assert_true(info.type == (H->is_xdp ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS));
}

/*
 * Evidence: the first evidence_pkts (3) frames of a DICOM association, as
 * sent, from the RQ on (the handshake is plain TCP); nothing of a non-DICOM
 * connection; the bound holds for the rest of the association.
 */
static void test_evidence_frames(void **state)
{
	const struct dm_event_packet *e;
	uint8_t rq[1024];
	size_t orig, reply, n;
	struct dm_stats d;
	struct conv c;
	int i, k = 0;

	begin(state);
	conv_init(&c, 11112, NULL);
	echo_association(&c, &orig, &reply);
	d = delta();
	assert_int_equal(d.pkts[DM_CLASS_DICOM], 8);
	assert_int_equal(count_events(DM_EV_PACKET), 3);
	assert_int_equal(d.cnt[DM_CNT_EVIDENCE], 3);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	for (i = 0; i < H->nev; i++) {
		e = (const void *)H->ev[i].data;
		if (e->hdr.type != DM_EV_PACKET)
			continue;
		assert_int_equal(H->ev[i].len, sizeof(*e));
		assert_int_equal(e->hdr.len, e->wire_len);
		assert_true(e->hdr.len >= 54 && e->hdr.len <= DM_EVIDENCE_SNAP);
		assert_int_equal(e->transport, DM_TRANSPORT_CLEARTEXT);
		assert_int_equal(e->data[12] << 8 | e->data[13], 0x0800);
		/* The first is the RQ, from the initiator, whole; then the acceptor's ACK. */
		if (k == 0) {
			assert_int_equal(e->hdr.dir, DM_DIR_ORIG);
			assert_int_equal(e->hdr.len, 54 + n);
			assert_memory_equal(e->data + 54, rq, n);
		} else if (k == 1) {
			assert_int_equal(e->hdr.dir, DM_DIR_REPLY);
		}
		k++;
	}
	/* A TCP connection that is not DICOM ships nothing. */
	begin(state);
	conv_init(&c, 8081, NULL);
	handshake(&c);
	send_seg(&c, 0, 0x18, "hello, not dicom", 16);
	assert_int_equal(count_events(DM_EV_PACKET), 0);
}

/*
 * count new associations, each sending a 10-context RQ, with the ring left
 * unread. Returns how many were sent; *first_fail (if given) the first whose
 * event could not be reserved, -1 if none.
 */
static int rqs_unread(int count, int *first_fail)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);
	static uint8_t rq[16384];
	uint8_t frame[2048];
	struct conv c;
	int i;
	size_t n = pdu_assoc_rq_n(rq, sizeof(rq), "PACS", "STORESCU", 10);

	if (first_fail)
		*first_fail = -1;
	for (i = 0; i < count; i++) {
		conv_init(&c, 11112, NULL);
		opts.data_in = frame;
		opts.data_size_in = pkt_flow_next(&c.f, 0, 0, frame, sizeof(frame), rq, n);
		assert_int_equal(bpf_prog_test_run_opts(H->prog, &opts), 0);
		if (first_fail && *first_fail < 0 && delta().cnt[DM_CNT_RINGBUF_FAIL])
			*first_fail = i;
	}
	return count;
}

/*
 * 200 new associations without the ring being read: each RQ frame is copied
 * for evidence only while the ring is under half full, then yields (counted);
 * every frame is either copied or yielded, every RQ event arrives or is
 * counted lost, and the evidence never pushed an RQ event out early.
 */
static void test_evidence_yields(void **state)
{
	struct dm_stats d;
	int sent, first_fail;

	begin(state);
	sent = rqs_unread(200, &first_fail);
	d = delta();
	ring_buffer__consume(H->rb);
	assert_true(d.cnt[DM_CNT_EVIDENCE_YIELD] > 0);
	assert_int_equal(d.cnt[DM_CNT_EVIDENCE] + d.cnt[DM_CNT_EVIDENCE_YIELD], sent);
	assert_int_equal(count_events(DM_EV_PACKET), d.cnt[DM_CNT_EVIDENCE]);
	assert_int_equal(count_events(DM_EV_PDU) + d.cnt[DM_CNT_RINGBUF_FAIL], sent);
	/* Past the half mark only RQ events go in: they fill the rest before any is lost. */
	assert_true(first_fail < 0 || (uint64_t)first_fail > d.cnt[DM_CNT_EVIDENCE]);
	assert_true((uint64_t)count_events(DM_EV_PDU) > d.cnt[DM_CNT_EVIDENCE]);
}

static void test_echo(void **state)
{
	const struct dm_event_flow *fe;
	struct dm_pdu_buf b = {};
	uint8_t rq[1024];
	size_t orig, reply, n;
	struct dm_stats d;
	struct conv c;
	struct dm_dimse dm;

	begin(state);
	conv_init(&c, 11112, NULL);
	echo_association(&c, &orig, &reply);
	d = delta();
	check_echo_stats(&d);
	/* SYN, SYN-ACK and ACK precede the RQ: plain TCP. The 8 after it are DICOM. */
	assert_int_equal(d.pkts[DM_CLASS_TCP_OTHER], 3);
	assert_int_equal(d.pkts[DM_CLASS_DICOM], 8);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 1);

	/* Four control PDUs whole, two command heads, one flow end; no frames (evidence off). */
	assert_int_equal(count_events(DM_EV_FLOW_END), 1);
	assert_int_equal(count_events(DM_EV_PACKET), 0);
	assert_int_equal(d.cnt[DM_CNT_EVIDENCE], 0);
	n = mk_rq(rq, sizeof(rq), "PACS", "MODALITY");
	assert_int_equal(rebuild(DM_EV_PDU, DM_PDU_ASSOC_RQ, DM_DIR_ORIG, 0, &b), n);
	assert_memory_equal(b.data, rq, n);
	assert_true(rebuild(DM_EV_PDU, DM_PDU_ASSOC_AC, DM_DIR_REPLY, 0, &b) > 0);
	assert_int_equal(rebuild(DM_EV_PDU, DM_PDU_RELEASE_RQ, DM_DIR_ORIG, 0, &b), 10);
	assert_int_equal(rebuild(DM_EV_PDU, DM_PDU_RELEASE_RP, DM_DIR_REPLY, 0, &b), 10);
	assert_int_equal(rebuild(DM_EV_DIMSE, DM_PDU_P_DATA, DM_DIR_ORIG, 0, &b), 80);
	assert_int_equal(dm_dimse_parse(b.data, b.len, &dm), 0);
	assert_int_equal(dm.command, DIMSE_C_ECHO);
	assert_int_equal(dm.message_id, 1);
	assert_true(rebuild(DM_EV_DIMSE, DM_PDU_P_DATA, DM_DIR_REPLY, 0, &b) > 0);
	assert_int_equal(dm_dimse_parse(b.data, b.len, &dm), 0);
	assert_int_equal(dm.command, DIMSE_C_ECHO | DIMSE_RSP);
	assert_int_equal(dm.status, 0);
	dm_pdu_buf_free(&b);

	fe = flow_end();
	assert_int_equal(fe->reason, DM_END_FIN);
	assert_int_equal(fe->assoc.state, DM_STATE_RELEASED);
	assert_int_equal(fe->assoc.transport, DM_TRANSPORT_CLEARTEXT);
	assert_int_equal(fe->assoc.dir[DM_DIR_ORIG].bytes, orig);
	assert_int_equal(fe->assoc.dir[DM_DIR_REPLY].bytes, reply);
	assert_int_equal(fe->assoc.dir[DM_DIR_ORIG].pdus[DM_PDU_P_DATA], 1);
	assert_int_equal(fe->assoc.dir[DM_DIR_REPLY].pdus[DM_PDU_ASSOC_AC], 1);
	/* The initiator is the client: its port is the key's port on init_side. */
	assert_int_equal(fe->assoc.key.port[fe->assoc.init_side], c.f.spec.sport);
	assert_int_equal(fe->assoc.key.port[!fe->assoc.init_side], 11112);
}

/* RJ and A-ABORT, the PDU types an echo does not have. */
static void test_reject_and_abort(void **state)
{
	const struct dm_event_piece *e;
	uint8_t p[1024];
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin(state);
	conv_init(&c, 104, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, p, mk_rq(p, sizeof(p), "WRONG", "MODALITY"));
	n = pdu_assoc_rj(p, sizeof(p), 1, 1, 7);
	send_seg(&c, 1, 0, p, n);
	send_seg(&c, 1, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_REPLY][DM_PDU_ASSOC_RJ], 1);
	assert_int_equal(d.assoc[DM_ASSOC_REJECTED], 1);
	e = find_event(DM_EV_PDU, 1);
	assert_non_null(e);
	assert_int_equal(e->pdu_type, DM_PDU_ASSOC_RJ);
	assert_int_equal(e->hdr.len, 10);
	assert_int_equal(e->data[9], 7); /* called AE title not recognised */
	assert_int_equal(flow_end()->assoc.state, DM_STATE_REJECTED);
	assert_int_equal(flow_end()->reason, DM_END_RST);

	begin(state);
	conv_init(&c, 104, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, p, mk_rq(p, sizeof(p), "PACS", "MODALITY"));
	send_seg(&c, 1, 0, p, mk_ac(p, sizeof(p)));
	send_seg(&c, 0, 0, p, pdu_abort(p, sizeof(p), 2, 6));
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_ABORT], 1);
	assert_int_equal(d.assoc[DM_ASSOC_ABORTED], 1);
	assert_int_equal(flow_end()->assoc.state, DM_STATE_ABORTED);
}

/* The echo through tagged frames: the VLAN ids are part of the association key. */
static void vlan_case(int nvlan, uint16_t tpid)
{
	struct pkt_spec s = {
	    .family = 4, .nvlan = nvlan, .vlan = {100, 200}, .vlan_tpid_outer = tpid};
	const struct dm_event_flow *fe;
	size_t orig, reply;
	struct dm_stats d;
	struct conv c;

	conv_init(&c, 11112, &s);
	echo_association(&c, &orig, &reply);
	d = delta();
	check_echo_stats(&d);
	fe = flow_end();
	assert_int_equal(fe->assoc.key.vlan[0], 100);
	assert_int_equal(fe->assoc.key.vlan[1], nvlan == 2 ? 200 : 0);
	assert_int_equal(fe->assoc.dir[DM_DIR_ORIG].bytes, orig);
}

static void test_vlan_single(void **state)
{
	begin(state);
	vlan_case(1, 0x8100);
}

static void test_vlan_double(void **state)
{
	begin(state);
	vlan_case(2, 0x88a8);
}

static void test_ipv4_and_tcp_options(void **state)
{
	struct pkt_spec s = {.family = 4, .ip4_opts_len = 40, .tcp_opts = 2};
	size_t orig, reply;
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 11112, &s);
	echo_association(&c, &orig, &reply);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(flow_end()->assoc.dir[DM_DIR_REPLY].bytes, reply);
}

static void test_ipv6_ext_headers(void **state)
{
	struct pkt_spec s = {.family = 6,
			     .ip6_ext = PKT_IP6_HOPOPTS | PKT_IP6_ROUTING | PKT_IP6_DSTOPTS,
			     .tcp_opts = 2};
	const struct dm_event_flow *fe;
	size_t orig, reply;
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 11112, &s);
	echo_association(&c, &orig, &reply);
	d = delta();
	check_echo_stats(&d);
	fe = flow_end();
	assert_int_equal(fe->assoc.key.family, 6);
	assert_int_equal(fe->assoc.dir[DM_DIR_ORIG].bytes, orig);
}

/* Start an association (handshake, RQ, AC) and leave it open. */
static void open_assoc(struct conv *c, uint16_t port, const struct pkt_spec *tmpl)
{
	uint8_t p[1024];

	conv_init(c, port, tmpl);
	handshake(c);
	send_seg(c, 0, 0, p, mk_rq(p, sizeof(p), "PACS", "MODALITY"));
	send_seg(c, 1, 0, p, mk_ac(p, sizeof(p)));
}

static void test_two_pdus_one_segment(void **state)
{
	uint8_t p[1024];
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin(state);
	open_assoc(&c, 11112, NULL);
	snapshot();
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 7, 0, NULL, 0);
	n += pdu_release_rq(p + n, sizeof(p) - n);
	send_seg(&c, 0, 0, p, n);
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_RELEASE_RQ], 1);
	assert_int_equal(d.pdu_bytes[DM_DIR_ORIG][DM_PDU_P_DATA], 80);
	assert_int_equal(count_events(DM_EV_DIMSE), 1);
	assert_int_equal(count_events(DM_EV_PDU), 1);
}

/*
 * A command PDV followed by a data set PDV in the same P-DATA-TF: only the
 * command reaches userspace, never a byte of the data set.
 */
static void test_dimse_head_without_dataset(void **state)
{
	static const char phi[] = "DOE^JANE^SECRET";
	uint8_t p[1024];
	struct dm_pdu_buf b = {};
	struct conv c;
	size_t n, pdv;

	begin(state);
	open_assoc(&c, 11112, NULL);
	snapshot();
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_STORE, PDU_UID_CT_STORAGE, 4, 0, NULL, 1);
	pdv = 2 + 8 + sizeof(phi) - 1;
	p[n] = pdv >> 24;
	p[n + 1] = pdv >> 16;
	p[n + 2] = pdv >> 8;
	p[n + 3] = pdv;
	p[n + 4] = 1;	 /* PC id */
	p[n + 5] = 0x02; /* data set, last fragment */
	memcpy(p + n + 6, "\x10\x00\x10\x00\x0f\x00\x00\x00", 8); /* (0010,0010), 15 bytes */
	memcpy(p + n + 14, phi, sizeof(phi) - 1);
	n += 4 + pdv;
	p[2] = (n - 6) >> 24;
	p[3] = (n - 6) >> 16;
	p[4] = (n - 6) >> 8;
	p[5] = n - 6;
	send_seg(&c, 0, 0, p, n);
	assert_int_equal(delta().pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_true(rebuild(DM_EV_DIMSE, DM_PDU_P_DATA, DM_DIR_ORIG, 0, &b) > 0);
	assert_true(b.len < n - pdv);
	assert_null(memmem(b.data, b.len, "DOE^", 4));
	for (int i = 0; i < H->nev; i++)
		assert_null(memmem(H->ev[i].data, H->ev[i].len, "DOE^", 4));
	dm_pdu_buf_free(&b);
}

/* A 3000-byte P-DATA in three segments, then a release: every header found once. */
static void test_pdu_across_three_segments(void **state)
{
	uint8_t p[4096];
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin(state);
	open_assoc(&c, 11112, NULL);
	snapshot();
	n = pdu_pdata_data(p, sizeof(p), 1, 3000 - 12, 1);
	assert_int_equal(n, 3000);
	send_seg(&c, 0, 0, p, 1000);
	send_seg(&c, 0, 0, p + 1000, 1000);
	send_seg(&c, 0, 0, p + 2000, 1000);
	send_seg(&c, 0, 0, p, pdu_release_rq(p, sizeof(p)));
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d.pdu_bytes[DM_DIR_ORIG][DM_PDU_P_DATA], 3000);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_RELEASE_RQ], 1);
	assert_int_equal(d.err[DM_ERR_PDU_BAD_TYPE] + d.err[DM_ERR_PDU_BAD_LEN], 0);
	assert_int_equal(d.cnt[DM_CNT_DESYNC], 0);
	/* Two of the three data segments hold no header: the bulk path took them. */
	assert_int_equal(d.pkts[DM_CLASS_DICOM], 4);
}

/* An A-ASSOCIATE-RQ with 120 presentation contexts spans segments; pieces rebuild it. */
static void test_large_rq_continuation(void **state)
{
	static uint8_t rq[16384];
	struct dm_pdu_buf b = {};
	struct dm_stats d;
	struct conv c;
	size_t n, off, seg;
	int segs = 0;

	begin(state);
	n = pdu_assoc_rq_n(rq, sizeof(rq), "PACS", "STORESCU", 120);
	assert_true(n > 5000);
	conv_init(&c, 11112, NULL);
	handshake(&c);
	for (off = 0; off < n; off += seg, segs++) {
		seg = n - off < 1448 ? n - off : 1448;
		send_seg(&c, 0, 0, rq + off, seg);
	}
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_ASSOC_RQ], 1);
	assert_int_equal(count_events(DM_EV_PDU), segs);
	assert_int_equal(rebuild(DM_EV_PDU, DM_PDU_ASSOC_RQ, DM_DIR_ORIG, 0, &b), n);
	assert_memory_equal(b.data, rq, n);
	dm_pdu_buf_free(&b);
}

/* A PDU header cut by the segment boundary (3 + 7 bytes). */
static void test_split_header(void **state)
{
	uint8_t p[256];
	struct dm_pdu_buf b = {};
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin(state);
	open_assoc(&c, 11112, NULL);
	snapshot();
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 3, 0, NULL, 0);
	n += pdu_release_rq(p + n, sizeof(p) - n);
	send_seg(&c, 0, 0, p, n - 7);
	send_seg(&c, 0, 0, p + n - 7, 7);
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_RELEASE_RQ], 1);
	assert_int_equal(d.cnt[DM_CNT_DESYNC], 0);
	assert_int_equal(rebuild(DM_EV_PDU, DM_PDU_RELEASE_RQ, DM_DIR_ORIG, 0, &b), 10);
	assert_memory_equal(b.data, p + n - 10, 10);
	dm_pdu_buf_free(&b);
}

static void test_retransmission(void **state)
{
	uint8_t p[256];
	struct dm_stats d;
	struct conv c;
	size_t n, flen;
	uint8_t frame[512];

	begin(state);
	open_assoc(&c, 11112, NULL);
	snapshot();
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 9, 0, NULL, 0);
	flen = pkt_flow_next(&c.f, 0, 0, frame, sizeof(frame), p, n);
	run(frame, flen);
	run(frame, flen); /* the same segment again */
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d.cnt[DM_CNT_RETRANSMIT], 1);
	assert_int_equal(count_events(DM_EV_DIMSE), 1);
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	assert_int_equal(flow_end()->assoc.dir[DM_DIR_ORIG].retransmits, 1);
	/* Stream bytes count each byte once: RQ + one P-DATA. */
	assert_int_equal(flow_end()->assoc.dir[DM_DIR_ORIG].bytes,
			 mk_rq(p, sizeof(p), "PACS", "MODALITY") + n);
}

/*
 * Segments B before A, where A holds a PDU header: the gap is counted, the
 * boundary is lost, and found again at the next segment that starts with a
 * plausible header.
 */
static void test_out_of_order(void **state)
{
	uint8_t a[256], b[256], cc[256], fa[512], fb[512];
	size_t na, nb, nc, la, lb;
	struct dm_stats d;
	struct conv c;

	begin(state);
	open_assoc(&c, 11112, NULL);
	snapshot();
	na = pdu_pdata_command(a, sizeof(a), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	nb = pdu_pdata_command(b, sizeof(b), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 2, 0, NULL, 0);
	la = pkt_flow_next(&c.f, 0, 0, fa, sizeof(fa), a, na);
	lb = pkt_flow_next(&c.f, 0, 0, fb, sizeof(fb), b, nb);
	run(fb, lb);
	run(fa, la);
	nc = pdu_release_rq(cc, sizeof(cc));
	send_seg(&c, 0, 0, cc, nc);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_GAP], 1);
	assert_true(d.cnt[DM_CNT_DESYNC] >= 1);
	/* B itself starts with a header: the resync happens right there. */
	assert_int_equal(d.cnt[DM_CNT_RESYNC], 1);
	assert_int_equal(d.cnt[DM_CNT_RETRANSMIT], 1); /* A arrives below next_seq */
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_RELEASE_RQ], 1);
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	/* Stream bytes are exact even so: RQ + A + B + release. */
	assert_int_equal(flow_end()->assoc.dir[DM_DIR_ORIG].bytes,
			 mk_rq(a, sizeof(a), "PACS", "MODALITY") + na + nb + nc);
}

static void tls_case(uint16_t port, const uint16_t *offer, int n, uint16_t select,
		     uint16_t want_offered)
{
	const struct dm_event_tls *t;
	const struct dm_event_flow *fe;
	uint8_t p[2048];
	struct dm_stats d;
	struct conv c;

	conv_init(&c, port, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, p, tls_client_hello(p, sizeof(p), 0x0301, 0x0303, offer, n));
	send_seg(&c, 1, 0, p, tls_server_hello(p, sizeof(p), 0x0303, select));
	memset(p, 0x17, 64); /* application data, opaque */
	send_seg(&c, 0, 0, p, 64);
	send_seg(&c, 1, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_TLS], 1);
	assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 0);
	assert_int_equal(d.pkts[DM_CLASS_DICOM_TLS], 4);
	assert_int_equal(d.pkts[DM_CLASS_DICOM], 0);
	assert_int_equal(count_events(DM_EV_TLS), 2);
	t = find_event(DM_EV_TLS, 0);
	assert_int_equal(t->hs_type, 1);
	assert_int_equal(t->version, want_offered);
	t = find_event(DM_EV_TLS, 1);
	assert_int_equal(t->hs_type, 2);
	assert_int_equal(t->version, select ? select : 0x0303);
	fe = flow_end();
	assert_int_equal(fe->assoc.transport, DM_TRANSPORT_TLS);
	assert_int_equal(fe->assoc.tls_offered, want_offered);
	assert_int_equal(fe->assoc.tls_selected, select ? select : 0x0303);
	assert_int_equal(fe->assoc.state, DM_STATE_TLS_ESTABLISHED);
}

static void test_tls_2762(void **state)
{
	const uint16_t v[] = {0x0304, 0x0303};

	begin(state);
	tls_case(2762, v, 2, 0x0304, 0x0304);
}

static void test_tls_4242(void **state)
{
	const uint16_t v[] = {0x0303};

	begin(state);
	tls_case(4242, v, 1, 0x0303, 0x0303);
	/* No supported_versions at all: the legacy versions speak. */
	begin(state);
	tls_case(4242, NULL, 0, 0, 0x0303);
}

/* TLS bytes on a port that is not a DICOM port are just TCP. */
static void test_tls_elsewhere_ignored(void **state)
{
	const uint16_t v[] = {0x0304};
	uint8_t p[2048];
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 443, NULL);
	send_seg(&c, 0, 0, p, tls_client_hello(p, sizeof(p), 0x0301, 0x0303, v, 1));
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_TLS], 0);
	assert_int_equal(d.pkts[DM_CLASS_TCP_OTHER], 1);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 0);
}

static void test_cleartext_on_2762(void **state)
{
	size_t orig, reply;
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 2762, NULL);
	echo_association(&c, &orig, &reply);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(flow_end()->assoc.transport, DM_TRANSPORT_CLEARTEXT);
}

static void test_nonstandard_port(void **state)
{
	size_t orig, reply;
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 5555, NULL);
	echo_association(&c, &orig, &reply);
	d = delta();
	check_echo_stats(&d);
	assert_int_equal(flow_end()->assoc.dir[DM_DIR_REPLY].bytes, reply);
}

/* Not DICOM: counted by class, no per-flow state. */
static void test_non_dicom(void **state)
{
	static const char http[] = "GET /studies?PatientName=DOE HTTP/1.1\r\nHost: x\r\n\r\n";
	uint8_t junk[600], frame[256];
	struct dm_stats d;
	struct conv c;
	size_t i;

	begin(state);
	/* HTTP off the web ports (detection.web_ports): no DM_EV_HTTP. */
	conv_init(&c, 8000, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, http, sizeof(http) - 1);
	/* Random-looking bytes on a DICOM port: no plausible PDU header. */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	conv_init(&c, 11112, NULL);
	send_seg(&c, 0, 0, junk, sizeof(junk));
	run(frame, pkt_build_arp(frame, sizeof(frame)));
	d = delta();
	assert_int_equal(d.pkts[DM_CLASS_TCP_OTHER], 5);
	assert_int_equal(d.pkts[DM_CLASS_NON_IP], 1);
	assert_int_equal(d.pkts[DM_CLASS_DICOM] + d.pkts[DM_CLASS_DICOM_TLS], 0);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 0);
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 0);
	assert_int_equal(H->nev, 0);
}

/* Rule 11: HTTP requests to the web ports are shipped, one event per request segment. */
static void test_http_requests(void **state)
{
	static const char get[] =
	    "GET /dicom-web/studies?PatientName=DOE HTTP/1.1\r\nHost: srv:8042\r\n\r\n";
	static const char post[] = "POST /dicom-web/studies HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	static uint8_t big[1500];
	const struct dm_event_http *e;
	struct dm_stats d;
	struct conv c;
	int is;

	begin(state);
	conv_init(&c, 8042, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, get, sizeof(get) - 1);
	/* The response (source port 8042, not the destination) is no event. */
	send_seg(&c, 1, 0, resp, sizeof(resp) - 1);
	d = delta();
	assert_int_equal(d.pkts[DM_CLASS_TCP_OTHER], 5);
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 1);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 0);
	assert_int_equal(count_events(DM_EV_HTTP), 1);
	assert_int_equal(H->nev, 1);
	e = find_event(DM_EV_HTTP, 0);
	assert_int_equal(e->hdr.len, sizeof(get) - 1);
	assert_int_equal(e->seg_len, sizeof(get) - 1);
	assert_memory_equal(e->data, get, sizeof(get) - 1);
	assert_int_equal(e->hdr.assoc_id, 0);
	assert_int_equal(e->hdr.flags & DM_EF_TRUNC, 0);
	/* init_side is the client: its port is the source port. */
	is = e->hdr.init_side & 1;
	assert_int_equal(e->hdr.key.port[!is], 8042);
	assert_int_not_equal(e->hdr.key.port[is], 8042);

	/* A POST on port 80. */
	snapshot();
	conv_init(&c, 80, NULL);
	send_seg(&c, 0, 0, post, sizeof(post) - 1);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 1);
	assert_int_equal(count_events(DM_EV_HTTP), 1);
	e = find_event(DM_EV_HTTP, 0);
	assert_memory_equal(e->data, "POST", 4);

	/* A long request: DM_HTTP_SNAP bytes shipped, the rest flagged truncated. */
	snapshot();
	memset(big, 'a', sizeof(big));
	memcpy(big, get, sizeof(get) - 1);
	conv_init(&c, 8080, NULL);
	send_seg(&c, 0, 0, big, sizeof(big));
	assert_int_equal(count_events(DM_EV_HTTP), 1);
	e = find_event(DM_EV_HTTP, 0);
	assert_int_equal(e->hdr.len, DM_HTTP_SNAP);
	assert_int_equal(e->seg_len, sizeof(big));
	assert_true(e->hdr.flags & DM_EF_TRUNC);

	/* Not a request method on a web port: nothing. */
	snapshot();
	conv_init(&c, 8042, NULL);
	send_seg(&c, 0, 0, "\x16\x03\x01\x00\x10xxxxxxxxxxxxxxxx", 21);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_HTTP_REQUESTS], 0);
	assert_int_equal(H->nev, 0);
}

static void test_udp_icmp(void **state)
{
	struct pkt_spec s = {.family = 4, .proto = 17, .sport = 5000, .dport = 11112};
	uint8_t frame[256];
	struct dm_stats d;

	begin(state);
	run(frame, pkt_build(frame, sizeof(frame), &s, "x", 1));
	s.proto = 1;
	run(frame, pkt_build(frame, sizeof(frame), &s, NULL, 8));
	s.family = 6;
	run(frame, pkt_build(frame, sizeof(frame), &s, NULL, 8));
	d = delta();
	assert_int_equal(d.pkts[DM_CLASS_IP_OTHER], 3);
}

/* A flow already in progress on a DICOM port is picked up from a plausible header. */
static void test_midstream(void **state)
{
	const struct dm_event_flow *fe;
	uint8_t p[256];
	struct dm_stats d;
	struct conv c;

	begin(state);
	conv_init(&c, 104, NULL);
	send_seg(
	    &c, 0, 0, p,
	    pdu_pdata_command(p, sizeof(p), 3, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 5, 0, NULL, 0));
	send_seg(&c, 1, 0, p,
		 pdu_pdata_command(p, sizeof(p), 3, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION,
				   5, 0, NULL, 0));
	send_seg(&c, 0, 0, p, pdu_release_rq(p, sizeof(p)));
	send_seg(&c, 1, 0, p, pdu_release_rp(p, sizeof(p)));
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_MIDSTREAM], 1);
	assert_int_equal(d.cnt[DM_CNT_MIDSTREAM], 1);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d.pdus[DM_DIR_REPLY][DM_PDU_P_DATA], 1);
	assert_int_equal(d.pdus[DM_DIR_REPLY][DM_PDU_RELEASE_RP], 1);
	fe = flow_end();
	assert_true(fe->assoc.flags & DM_AF_MIDSTREAM);
	assert_int_equal(fe->assoc.state, DM_STATE_RELEASED);
	/* The side on the DICOM port is the acceptor. */
	assert_int_equal(fe->assoc.key.port[!fe->assoc.init_side], 104);
}

/*
 * Bytes that are no DICOM on a DICOM port leave on their first two bytes
 * (maybe_dicom()): no association, whatever the byte pairs that only look
 * close to a header; what detection takes (a PDU header picked up mid-stream
 * in the same flow, a TLS hello, the first byte of an RQ) is still taken.
 */
static void test_dicom_port_noise(void **state)
{
	static const uint8_t near[][2] = {
	    {0x00, 0x00}, {0x08, 0x00}, {0x04, 0x01}, {0x16, 0x00}, {0x16, 0x02}, {0xa7, 0x3c},
	};
	static const uint16_t v13[] = {0x0304};
	const struct dm_event_flow *fe;
	uint8_t p[2048];
	struct dm_stats d;
	struct conv c;
	size_t i;

	begin(state);
	conv_init(&c, 104, NULL);
	memset(p, 0, sizeof(p));
	for (i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		memcpy(p, near[i], 2);
		send_seg(&c, 0, 0, p, 1448);
	}
	d = delta();
	assert_int_equal(d.pkts[DM_CLASS_TCP_OTHER], 6);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 0);
	assert_int_equal(d.cnt[DM_CNT_CAND_NEW], 0);
	assert_int_equal(d.cnt[DM_CNT_MIDSTREAM], 0);

	/* The same flow's next PDU header: picked up mid-stream. */
	snapshot();
	send_seg(&c, 0, 0, p,
		 pdu_pdata_command(p, sizeof(p), 3, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 5, 0,
				   NULL, 0));
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_MIDSTREAM], 1);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	fe = flow_end();
	assert_true(fe->assoc.flags & DM_AF_MIDSTREAM);

	/* A TLS ClientHello (16 03) on port 104 opens a DICOM-TLS association. */
	snapshot();
	conv_init(&c, 104, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, p, tls_client_hello(p, sizeof(p), 0x0301, 0x0303, v13, 1));
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_TLS], 1);

	/* One byte, 01: the start of an RQ, held as a candidate. */
	snapshot();
	conv_init(&c, 104, NULL);
	handshake(&c);
	send_seg(&c, 0, 0, "\x01", 1);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_CAND_NEW], 1);
}

/* Off the DICOM ports the AE titles must be printable; on them, odd ones are flagged. */
static void test_rq_hostile_ae(void **state)
{
	uint8_t p[1024];
	struct dm_stats d;
	struct conv c;
	size_t n;

	begin(state);
	n = mk_rq(p, sizeof(p), "PACS", "MODALITY");
	p[10] = 0x07; /* BEL in the called AE title */
	p[27] = 0xff;
	conv_init(&c, 6000, NULL);
	send_seg(&c, 0, 0, p, n);
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_RQ_NOT_PRINTABLE], 1);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 0);

	begin(state);
	conv_init(&c, 11112, NULL);
	send_seg(&c, 0, 0, p, n);
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 1);
	assert_true(flow_end()->assoc.flags & DM_AF_AE_ODD);
}

static void test_ip_fragments(void **state)
{
	struct pkt_spec s = {.family = 4, .sport = 30001, .dport = 11112, .ip4_frag = 100};
	uint8_t frame[1024], p[512];
	struct dm_stats d;
	size_t n = mk_rq(p, sizeof(p), "PACS", "MODALITY");

	begin(state);
	run(frame, pkt_build(frame, sizeof(frame), &s, p, n));
	s.family = 6;
	s.ip4_frag = 0;
	s.ip6_ext = PKT_IP6_FRAG;
	s.ip6_frag_off = 100;
	run(frame, pkt_build(frame, sizeof(frame), &s, p, n));
	d = delta();
	assert_int_equal(d.cnt[DM_CNT_IP_FRAGMENT], 2);
	assert_int_equal(d.pkts[DM_CLASS_IP_OTHER], 2);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT], 0);
}

/* Truncated and malformed headers: each counted under its reason, none dropped. */
static void test_malformed_headers(void **state)
{
	struct pkt_spec s = {
	    .family = 4, .sport = 30002, .dport = 11112, .nvlan = 2, .vlan = {5, 6}};
	uint8_t frame[512], bad[512];
	struct dm_stats d;
	size_t n;

	begin(state);
	n = pkt_build(frame, sizeof(frame), &s, "hello", 5);
	/* (BPF_PROG_TEST_RUN refuses frames shorter than Ethernet, as does every NIC.) */
	run(frame, 16);		 /* first VLAN tag cut */
	run(frame, 14 + 8 + 10); /* IPv4 header cut */
	memcpy(bad, frame, n);
	bad[14 + 8] = 0x43; /* IHL 3 */
	run(bad, n);
	memcpy(bad, frame, n);
	bad[14 + 8 + 20 + 12] = 0x20; /* TCP data offset 2 */
	run(bad, n);
	run(frame, 14 + 8 + 20 + 10); /* TCP header cut */
	/* A third tag. */
	memcpy(bad, frame, 14 + 8);
	bad[14 + 6] = 0x81;
	bad[14 + 7] = 0x00;
	memcpy(bad + 14 + 8, frame + 14 + 4, n - 18);
	run(bad, n + 4);
	s.nvlan = 0;
	s.family = 6;
	n = pkt_build(frame, sizeof(frame), &s, "hello", 5);
	/* IPv6 header cut (the skb test runner refuses this one: XDP only) */
	if (H->is_xdp)
		run(frame, 14 + 30);
	/* Seven destination-options headers: more than the walk follows. */
	n = pkt_build(frame, sizeof(frame), &s, NULL, 0);
	memcpy(bad, frame, 14 + 40);
	bad[14 + 6] = 60;
	for (int i = 0; i < 7; i++) {
		uint8_t *o = bad + 14 + 40 + 8 * i;

		memset(o, 0, 8);
		o[0] = i < 6 ? 60 : 6;
		o[2] = 1; /* PadN */
		o[3] = 4;
	}
	memcpy(bad + 14 + 40 + 56, frame + 14 + 40, n - 14 - 40);
	bad[14 + 4] = (n - 14 - 40 + 56) >> 8;
	bad[14 + 5] = (n - 14 - 40 + 56) & 0xff;
	run(bad, n + 56);
	d = delta();
	assert_int_equal(d.err[DM_ERR_IP6_EXT_LIMIT], 1);
	assert_int_equal(d.err[DM_ERR_VLAN_TRUNC], 1);
	assert_int_equal(d.err[DM_ERR_IP4_TRUNC], 1);
	assert_int_equal(d.err[DM_ERR_IP4_BAD_HDR], 1);
	assert_int_equal(d.err[DM_ERR_TCP_BAD_DOFF], 1);
	assert_int_equal(d.err[DM_ERR_TCP_TRUNC], 1);
	assert_int_equal(d.err[DM_ERR_VLAN_TOO_MANY], 1);
	assert_int_equal(d.err[DM_ERR_IP6_TRUNC], H->is_xdp ? 1 : 0);
	/* Every packet is counted in exactly one class. */
	assert_int_equal(d.pkts[DM_CLASS_NON_IP] + d.pkts[DM_CLASS_IP_OTHER] +
			     d.pkts[DM_CLASS_TCP_OTHER],
			 H->is_xdp ? 8 : 7);
}

/* Bad PDU headers inside a known association: counted, the boundary is dropped. */
static void bad_pdu_case(uint8_t type, uint32_t len, int err)
{
	uint8_t p[64] = {type, 0, len >> 24, len >> 16, len >> 8, len, 0, 0, 0, 4, 1, 3};
	struct dm_stats d;
	struct conv c;

	open_assoc(&c, 11112, NULL);
	snapshot();
	send_seg(&c, 0, 0, p, sizeof(p));
	/* The stream is lost; a later plausible header brings it back. */
	send_seg(&c, 0, 0, p, pdu_release_rq(p, sizeof(p)));
	d = delta();
	assert_int_equal(d.err[err], 1);
	assert_int_equal(d.cnt[DM_CNT_DESYNC], 1);
	assert_int_equal(d.cnt[DM_CNT_RESYNC], 1);
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_RELEASE_RQ], 1);
	assert_int_equal(d.pkts[DM_CLASS_DICOM], 2);
}

static void test_malformed_pdus(void **state)
{
	begin(state);
	bad_pdu_case(DM_PDU_P_DATA, 0, DM_ERR_PDU_BAD_LEN);	     /* length 0 */
	bad_pdu_case(DM_PDU_P_DATA, 0xffffffff, DM_ERR_PDU_BAD_LEN); /* huge */
	bad_pdu_case(0, 4, DM_ERR_PDU_BAD_TYPE);		     /* type 0 */
	bad_pdu_case(8, 4, DM_ERR_PDU_BAD_TYPE);		     /* type > 7 */
	bad_pdu_case(0xff, 4, DM_ERR_PDU_BAD_TYPE);
	bad_pdu_case(DM_PDU_RELEASE_RQ, 5, DM_ERR_PDU_BAD_LEN); /* release is 4 */
}

/* The same echo through the TC program. */
static void test_tc_echo(void **state)
{
	test_echo(state);
}

/* More associations than slots: the overflow table holds the rest, nothing is lost. */
static void many_assocs(int n, int *ends_fin, int *ends_evict)
{
	const struct dm_event_flow *fe;
	struct conv *c = calloc(n, sizeof(*c));
	uint8_t p[1024];
	int i;

	for (i = 0; i < n; i++) {
		conv_init(&c[i], 11112, NULL);
		send_seg(&c[i], 0, 0, p, mk_rq(p, sizeof(p), "PACS", "MODALITY"));
	}
	for (i = 0; i < n; i++)
		send_seg(&c[i], 1, 0, p, mk_ac(p, sizeof(p)));
	for (i = 0; i < n; i++)
		send_seg(&c[i], 0, PKT_TCP_RST, NULL, 0);
	*ends_fin = *ends_evict = 0;
	for (i = 0; (fe = find_event(DM_EV_FLOW_END, i)); i++) {
		if (fe->reason == DM_END_EVICT)
			(*ends_evict)++;
		else
			(*ends_fin)++;
	}
	free(c);
}

static void test_overflow_table(void **state)
{
	struct dm_stats d;
	int rst, evict;

	begin(state);
	many_assocs(200, &rst, &evict);
	d = delta();
	assert_int_equal(d.assoc[DM_ASSOC_NEW_CLEARTEXT], 200);
	assert_true(d.cnt[DM_CNT_FLOW_OVERFLOW] > 0);
	assert_int_equal(d.cnt[DM_CNT_FLOW_INSERT_FAIL], 0);
	/* Every association got its AC counted and its end reported. */
	assert_int_equal(d.pdus[DM_DIR_REPLY][DM_PDU_ASSOC_AC], 200);
	assert_int_equal(d.assoc[DM_ASSOC_ENDED], 200);
	assert_int_equal(rst, 200);
	assert_int_equal(evict, 0);
}

static void test_idle_eviction(void **state)
{
	struct dm_stats d;
	int rst, evict;

	begin(state);
	many_assocs(200, &rst, &evict);
	d = delta();
	/* Collisions evict the (idle) occupant; its final counters still reach userspace. */
	assert_true(d.cnt[DM_CNT_FLOW_EVICT] > 0);
	assert_int_equal(d.assoc[DM_ASSOC_EVICTED], d.cnt[DM_CNT_FLOW_EVICT]);
	assert_int_equal(evict, (int)d.cnt[DM_CNT_FLOW_EVICT]);
	assert_int_equal(d.cnt[DM_CNT_FLOW_OVERFLOW], 0);
}

/* A full ring loses events, and says so. */
static void test_ringbuf_full(void **state)
{
	struct dm_stats d;
	int sent;

	begin(state);
	/* 200 new associations, each shipping its RQ, without consuming the ring. */
	sent = rqs_unread(200, NULL);
	d = delta();
	assert_true(d.cnt[DM_CNT_RINGBUF_FAIL] > 0);
	ring_buffer__consume(H->rb);
	/* What arrived plus what was counted lost is what was sent: one RQ piece each. */
	assert_int_equal(H->nev + d.cnt[DM_CNT_RINGBUF_FAIL], sent);
	assert_int_equal(d.cnt[DM_CNT_EVENTS], (uint64_t)H->nev);
}

/*
 * The request arrives on VLAN 10, the answer on VLAN 20. Keyed on VLANs
 * (default) they are two half-flows and the answer is not seen as DICOM;
 * without, one association that remembers each direction's VLAN.
 */
static void routed_vlans(int vlan_key)
{
	struct pkt_spec s = {.family = 4, .nvlan = 1, .vlan = {10}};
	const struct dm_event_flow *fe;
	uint8_t p[1024];
	struct dm_stats d;
	struct conv c;

	conv_init(&c, 11112, &s);
	send_seg(&c, 0, 0, p, mk_rq(p, sizeof(p), "PACS", "MODALITY"));
	c.f.spec.vlan[0] = 20;
	send_seg(&c, 1, 0, p, mk_ac(p, sizeof(p)));
	send_seg(&c, 1, PKT_TCP_RST, NULL, 0);
	c.f.spec.vlan[0] = 10;
	send_seg(&c, 0, PKT_TCP_RST, NULL, 0);
	d = delta();
	assert_int_equal(d.pdus[DM_DIR_ORIG][DM_PDU_ASSOC_RQ], 1);
	if (vlan_key) {
		/* The AC on port 11112 is picked up as a mid-stream association of its own. */
		assert_int_equal(d.assoc[DM_ASSOC_NEW_MIDSTREAM], 1);
		assert_int_equal(count_events(DM_EV_FLOW_END), 2);
		return;
	}
	assert_int_equal(d.pdus[DM_DIR_REPLY][DM_PDU_ASSOC_AC], 1);
	assert_int_equal(d.assoc[DM_ASSOC_NEW_MIDSTREAM], 0);
	assert_int_equal(count_events(DM_EV_FLOW_END), 1);
	fe = flow_end();
	assert_int_equal(fe->assoc.key.vlan[0], 0);
	assert_int_equal(fe->assoc.dir[DM_DIR_ORIG].vlan[0], 10);
	assert_int_equal(fe->assoc.dir[DM_DIR_REPLY].vlan[0], 20);
}

static void test_vlan_keyed(void **state)
{
	begin(state);
	routed_vlans(1);
}

static void test_vlan_not_keyed(void **state)
{
	begin(state);
	routed_vlans(0);
}

/*
 * The daemon's load (dm_loader_open) under a pin root of its own: fresh state
 * pinned, a second daemon on the same pins refused, the next run taking the
 * pinned state and its hash seed, --reset-state starting anew. Attached nowhere.
 */
static void test_loader_pins(void **state)
{
	char path[PATH_MAX];
	struct dm_config cfg;
	struct dm_loader a, b;
	__u32 seed;

	(void)state;
	dm_config_defaults(&cfg);
	snprintf(cfg.pin_root, sizeof(cfg.pin_root), "/sys/fs/bpf/dicomon-test-%d", (int)getpid());
	assert_int_equal(dm_loader_open(&a, &cfg, false), 0);
	assert_false(a.restored);
	assert_false(a.state_unusable);
	dm_pin_path(path, sizeof(path), cfg.pin_root, DM_PIN_FLOWS);
	assert_int_equal(access(path, F_OK), 0);
	dm_pin_path(path, sizeof(path), cfg.pin_root, DM_PIN_CONFIG);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(dm_loader_open(&b, &cfg, false), -EBUSY);
	assert_true(b.state_unusable);
	seed = a.hash_seed;
	dm_loader_close(&a);

	assert_int_equal(dm_loader_open(&a, &cfg, false), 0);
	assert_true(a.restored);
	assert_int_equal(a.hash_seed, seed);
	dm_loader_close(&a);

	assert_int_equal(dm_loader_open(&a, &cfg, true), 0);
	assert_false(a.restored);
	dm_loader_close(&a);
	assert_int_equal(dm_detach_pinned(cfg.pin_root, NULL, 0), 0);
	assert_int_not_equal(access(cfg.pin_root, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest xdp[] = {
	    cmocka_unit_test(test_loaded),
	    cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_reject_and_abort),
	    cmocka_unit_test(test_vlan_single),
	    cmocka_unit_test(test_vlan_double),
	    cmocka_unit_test(test_vlan_keyed),
	    cmocka_unit_test(test_ipv4_and_tcp_options),
	    cmocka_unit_test(test_ipv6_ext_headers),
	    cmocka_unit_test(test_two_pdus_one_segment),
	    cmocka_unit_test(test_dimse_head_without_dataset),
	    cmocka_unit_test(test_pdu_across_three_segments),
	    cmocka_unit_test(test_large_rq_continuation),
	    cmocka_unit_test(test_split_header),
	    cmocka_unit_test(test_retransmission),
	    cmocka_unit_test(test_out_of_order),
	    cmocka_unit_test(test_tls_2762),
	    cmocka_unit_test(test_tls_4242),
	    cmocka_unit_test(test_tls_elsewhere_ignored),
	    cmocka_unit_test(test_cleartext_on_2762),
	    cmocka_unit_test(test_nonstandard_port),
	    cmocka_unit_test(test_non_dicom),
	    cmocka_unit_test(test_http_requests),
	    cmocka_unit_test(test_udp_icmp),
	    cmocka_unit_test(test_midstream),
	    cmocka_unit_test(test_dicom_port_noise),
	    cmocka_unit_test(test_rq_hostile_ae),
	    cmocka_unit_test(test_ip_fragments),
	    cmocka_unit_test(test_malformed_headers),
	    cmocka_unit_test(test_malformed_pdus),
	    cmocka_unit_test(test_loader_pins),
	};
	const struct CMUnitTest tc[] = {
	    cmocka_unit_test(test_loaded),
	    cmocka_unit_test(test_tc_echo),
	    cmocka_unit_test(test_vlan_double),
	    cmocka_unit_test(test_ipv6_ext_headers),
	    cmocka_unit_test(test_large_rq_continuation),
	    cmocka_unit_test(test_tls_2762),
	    cmocka_unit_test(test_http_requests),
	    cmocka_unit_test(test_malformed_headers),
	};
	const struct CMUnitTest small[] = {
	    cmocka_unit_test(test_overflow_table),
	};
	const struct CMUnitTest evicting[] = {
	    cmocka_unit_test(test_idle_eviction),
	};
	const struct CMUnitTest unkeyed[] = {
	    cmocka_unit_test(test_vlan_not_keyed),
	};
	const struct CMUnitTest evidence[] = {
	    cmocka_unit_test(test_evidence_frames),
	};
	const struct CMUnitTest evidence_ring[] = {
	    cmocka_unit_test(test_evidence_yields),
	};
	const struct CMUnitTest tiny[] = {
	    cmocka_unit_test(test_ringbuf_full),
	};
	int fails = 0;

	if (getenv("DICOMON_TEST_VERBOSE"))
		dm_log_set_level(DM_LOG_DEBUG);
	dm_log_init_libbpf();
	fails += cmocka_run_group_tests_name("bpf_xdp", xdp, setup_xdp, teardown);
	fails += cmocka_run_group_tests_name("bpf_tc", tc, setup_tc, teardown);
	fails += cmocka_run_group_tests_name("bpf_overflow", small, setup_small_table, teardown);
	fails += cmocka_run_group_tests_name("bpf_evict", evicting, setup_evicting, teardown);
	fails += cmocka_run_group_tests_name("bpf_ringbuf", tiny, setup_tiny_ring, teardown);
	fails += cmocka_run_group_tests_name("bpf_evidence_xdp", evidence, setup_evidence_xdp,
					     teardown);
	fails += cmocka_run_group_tests_name("bpf_evidence_tc", evidence, setup_evidence_tc,
					     teardown);
	fails += cmocka_run_group_tests_name("bpf_evidence_ring", evidence_ring,
					     setup_evidence_tiny_ring, teardown);
	fails +=
	    cmocka_run_group_tests_name("bpf_vlan_unkeyed", unkeyed, setup_no_vlan_key, teardown);
	return fails ? 1 : 0;
}
