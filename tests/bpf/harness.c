// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The BPF tests' harness: see harness.h.
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

struct harness *H;
uint16_t next_port = 20000; /* every scenario gets its own client port */

static int on_event(void *ctx, void *data, size_t len)
{
	struct harness *h = ctx;

	if (h->nev >= MAX_EVENTS)
		return 0;
	h->ev[h->nev].data = malloc(len);
	memcpy(h->ev[h->nev].data, data, len);
	h->ev[h->nev].len = len;
	h->nev++;
	return 0;
}

void clear_events(void)
{
	int i;

	for (i = 0; i < H->nev; i++)
		free(H->ev[i].data);
	H->nev = 0;
}

int harness_up(void **state, const struct dm_config *cfg, int xdp)
{
	struct harness *h = calloc(1, sizeof(*h));

	*state = NULL; /* a failed set-up leaves nothing for teardown() */
	if (!h)
		return -1;
	if (dm_loader_load(&h->l, cfg)) {
		free(h);
		return -1;
	}
	h->rb = ring_buffer__new(dm_loader_events_fd(&h->l), on_event, h, NULL);
	h->is_xdp = xdp;
	h->prog = dm_skel_prog_fd(h->l.skel, xdp ? DM_ATT_XDP : DM_ATT_TC_INGRESS);
	if (!h->rb || h->prog < 0) {
		ring_buffer__free(h->rb);
		dm_loader_close(&h->l);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

int setup_xdp(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	return harness_up(state, &cfg, 1);
}

int setup_tc(void **state)
{
	struct dm_config cfg;

	dm_config_defaults(&cfg);
	return harness_up(state, &cfg, 0);
}

int teardown(void **state)
{
	struct harness *h = *state;

	if (!h) /* its set-up failed (and said why) */
		return 0;
	H = h;
	clear_events();
	ring_buffer__free(h->rb);
	dm_loader_close(&h->l);
	free(h);
	return 0;
}

/* Counters from here on; events from here on. */
void snapshot(void)
{
	ring_buffer__consume(H->rb);
	clear_events();
	assert_int_equal(dm_stats_read(dm_loader_stats_fd(&H->l), H->l.ncpus, -1, &H->before), 0);
}

/* Per test: select the harness and snapshot. */
void begin(void **state)
{
	H = *state;
	snapshot();
}

struct dm_stats delta(void)
{
	struct dm_stats now, d;
	const uint64_t *a = (const uint64_t *)&now, *b = (const uint64_t *)&H->before;
	uint64_t *o = (uint64_t *)&d;
	size_t i;

	assert_int_equal(dm_stats_read(dm_loader_stats_fd(&H->l), H->l.ncpus, -1, &now), 0);
	for (i = 0; i < sizeof(d) / sizeof(uint64_t); i++)
		o[i] = a[i] - b[i];
	return d;
}

void run(const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .repeat = 1);

	assert_true(len > 0);
	if (bpf_prog_test_run_opts(H->prog, &opts))
		fail_msg("test run of a %zu-byte frame: %s", len, strerror(errno));
	/* Never drops or changes a packet. */
	assert_int_equal((int)opts.retval, H->is_xdp ? XDP_PASS : TC_ACT_UNSPEC);
	if (!H->hold)
		ring_buffer__consume(H->rb);
}


void conv_init(struct conv *c, uint16_t dport, const struct pkt_spec *tmpl)
{
	struct pkt_spec s = {.family = 4, .seq = 1000, .ack = 500000};

	if (tmpl)
		s = *tmpl;
	s.sport = next_port++;
	s.dport = dport;
	if (!s.seq)
		s.seq = 1000;
	if (!s.ack)
		s.ack = 500000;
	pkt_flow_init(&c->f, &s);
}

/* One segment from client (0) or server (1); runs it and returns its payload length. */
size_t send_seg(struct conv *c, int from_server, uint8_t flags, const void *p, size_t n)
{
	size_t len = pkt_flow_next(&c->f, from_server, flags, c->buf, sizeof(c->buf), p, n);

	run(c->buf, len);
	return n;
}

void handshake(struct conv *c)
{
	send_seg(c, 0, PKT_TCP_SYN, NULL, 0);
	send_seg(c, 1, PKT_TCP_SYN | PKT_TCP_ACK, NULL, 0);
	send_seg(c, 0, PKT_TCP_ACK, NULL, 0);
}

int count_events(uint32_t type)
{
	int i, n = 0;

	for (i = 0; i < H->nev; i++)
		if (((struct dm_event_hdr *)H->ev[i].data)->type == type)
			n++;
	return n;
}

const void *find_event(uint32_t type, int nth)
{
	int i;

	for (i = 0; i < H->nev; i++)
		if (((struct dm_event_hdr *)H->ev[i].data)->type == type && nth-- == 0)
			return H->ev[i].data;
	return NULL;
}

/*
 * Rebuild the nth whole PDU of the given type and direction from its pieces,
 * as userspace does; returns its length, 0 if it could not be rebuilt.
 */
size_t rebuild(uint32_t ev_type, uint8_t pdu_type, int dir, int nth, struct dm_pdu_buf *b)
{
	const struct dm_event_piece *e;
	int i, r;

	for (i = 0; i < H->nev; i++) {
		e = (const void *)H->ev[i].data;
		if (e->hdr.type != ev_type || e->pdu_type != pdu_type || e->hdr.dir != dir)
			continue;
		r = dm_pdu_buf_add(b, pdu_type, e->offset, e->data, e->hdr.len,
				   e->hdr.flags & DM_EF_FIRST, e->hdr.flags & DM_EF_LAST);
		if (r == DM_PIECE_DONE && nth-- == 0)
			return b->len;
	}
	return 0;
}

const struct dm_event_flow *flow_end(void)
{
	const struct dm_event_flow *e = find_event(DM_EV_FLOW_END, 0);

	assert_non_null(e);
	return e;
}

/* ---- scenarios ---- */

size_t mk_rq(uint8_t *out, size_t cap, const char *called, const char *calling)
{
	struct pdu_pc pc = {
	    .id = 1, .abstract = PDU_UID_VERIFICATION, .ts = {PDU_UID_IMPLICIT_LE}, .nts = 1};

	return pdu_assoc_rq(out, cap, called, calling, &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			    PDU_DCMTK_IMPL_VER);
}

size_t mk_ac(uint8_t *out, size_t cap)
{
	uint8_t id = 1, res = 0;

	return pdu_assoc_ac(out, cap, "PACS", "MODALITY", &id, &res, 1, 16384);
}

/*
 * A whole C-ECHO association: handshake, RQ, AC, echo, release, FIN both
 * ways. Returns payload bytes per direction through orig/reply.
 */
void echo_association(struct conv *c, size_t *orig, size_t *reply)
{
	uint8_t p[1024];
	size_t n;

	*orig = *reply = 0;
	handshake(c);
	n = mk_rq(p, sizeof(p), "PACS", "MODALITY");
	*orig += send_seg(c, 0, 0, p, n);
	n = mk_ac(p, sizeof(p));
	*reply += send_seg(c, 1, 0, p, n);
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO, PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	*orig += send_seg(c, 0, 0, p, n);
	n = pdu_pdata_command(p, sizeof(p), 1, DIMSE_C_ECHO | DIMSE_RSP, PDU_UID_VERIFICATION, 1, 0,
			      NULL, 0);
	*reply += send_seg(c, 1, 0, p, n);
	n = pdu_release_rq(p, sizeof(p));
	*orig += send_seg(c, 0, 0, p, n);
	n = pdu_release_rp(p, sizeof(p));
	*reply += send_seg(c, 1, 0, p, n);
	send_seg(c, 0, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
	send_seg(c, 1, PKT_TCP_FIN | PKT_TCP_ACK, NULL, 0);
}

void check_echo_stats(const struct dm_stats *d)
{
	assert_int_equal(d->pdus[DM_DIR_ORIG][DM_PDU_ASSOC_RQ], 1);
	assert_int_equal(d->pdus[DM_DIR_ORIG][DM_PDU_P_DATA], 1);
	assert_int_equal(d->pdus[DM_DIR_ORIG][DM_PDU_RELEASE_RQ], 1);
	assert_int_equal(d->pdus[DM_DIR_REPLY][DM_PDU_ASSOC_AC], 1);
	assert_int_equal(d->pdus[DM_DIR_REPLY][DM_PDU_P_DATA], 1);
	assert_int_equal(d->pdus[DM_DIR_REPLY][DM_PDU_RELEASE_RP], 1);
	assert_int_equal(d->assoc[DM_ASSOC_NEW_CLEARTEXT], 1);
	assert_int_equal(d->assoc[DM_ASSOC_ACCEPTED], 1);
	assert_int_equal(d->assoc[DM_ASSOC_RELEASED], 1);
	assert_int_equal(d->assoc[DM_ASSOC_ENDED], 1);
	assert_int_equal(d->cnt[DM_CNT_DIMSE_COMMANDS], 2);
	assert_int_equal(d->cnt[DM_CNT_RINGBUF_FAIL], 0);
}

