/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Ring buffer events: only rare things (set-up, end, TLS hellos; the PDU
 * pieces are in stream.bpf.h). Every failed reserve is counted.
 */
#ifndef __EVENTS_BPF_H
#define __EVENTS_BPF_H

#include "maps.bpf.h"

/*
 * Waking the reader costs an interrupt per event (a self-IPI; a VM exit
 * under a hypervisor): let events queue, drained by the daemon's 100 ms tick,
 * and wake it when the ring's fill level, counted in wake-up marks (a quarter
 * of the ring), rises above the level this CPU's last event saw: at a
 * quarter, again at a half and at three quarters while the reader is behind,
 * and again once it has drained. Not at every event above the mark: a reader
 * short of CPU then took a wake-up per event, which slowed the forwarding
 * CPUs more than it helped the reader (the live bench on a loaded machine:
 * XDP at 650 ns a packet, the gateway at 0.55x of the no-op).
 */
static __always_inline __u64 rb_wakeup(void)
{
	__u64 level = bpf_ringbuf_query(&dm_events, BPF_RB_AVAIL_DATA) >> cfg.wakeup_shift;
	__u32 cpu = bpf_get_smp_processor_id() & (DM_WAKE_CPUS - 1);
	__u64 last = dm_wake_level[cpu];

	/* Replay: which frame made which event is told by the count after each frame. */
	if (cfg.replay)
		dm_replay_events++;
	dm_wake_level[cpu] = level;
	/*
	 * FORCE_WAKEUP (2) when the level rose, NO_WAKEUP (1) otherwise, without
	 * a branch: a branch here doubles the verifier's states after every event.
	 */
	return BPF_RB_NO_WAKEUP + ((last - level) >> 63);
}

/* Events carry the fine clock: they are rare, and their order and timing matter. */
static __always_inline void ev_hdr_fill(struct dm_event_hdr *h, __u32 type,
					const struct dm_assoc *a, __u32 ifindex, __u8 hook,
					__u8 dir)
{
	h->type = type;
	h->len = 0;
	h->ts_ns = event_ns();
	h->assoc_id = a->id;
	__builtin_memcpy(&h->key, &a->key, sizeof(h->key));
	h->ifindex = ifindex;
	h->dir = dir;
	h->init_side = a->init_side;
	h->hook = hook;
	h->flags = 0;
}

static __always_inline void emit_flow_end(const struct dm_pkt *p, struct dm_stats *st,
					  const struct dm_assoc *a, __u32 reason)
{
	struct dm_event_flow *e = bpf_ringbuf_reserve(&dm_events, sizeof(*e), 0);

	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return;
	}
	ev_hdr_fill(&e->hdr, DM_EV_FLOW_END, a, p->ifindex, p->hook, DM_DIR_ORIG);
	e->reason = reason;
	e->pad = 0;
	__builtin_memcpy(&e->assoc, a, sizeof(e->assoc));
	bpf_ringbuf_submit(&e->hdr, rb_wakeup());
	st->cnt[DM_CNT_EVENTS]++;
}

/*
 * Something wrong in an association's stream: counted in its direction
 * (always), sent as DM_EV_ANOMALY (the first DM_ANOMALY_EVENTS of the
 * direction) with the stream offset where it happened. A full ring counts
 * it as a failed reserve; the flow-end record still carries the counts.
 */
static __always_inline void emit_anomaly(struct dm_stats *st, struct dm_assoc *a, __u8 dir,
					 __u32 ifindex, __u8 hook, __u32 code, __u32 value,
					 __u64 offset)
{
	struct dm_dir_state *d = dir ? &a->dir[1] : &a->dir[0];
	struct dm_event_anomaly *e;

	d->anomaly_codes |= 1 << (code & 15);
	if (d->anomalies < 0xffff)
		d->anomalies++;
	if (d->anomalies > DM_ANOMALY_EVENTS)
		return;
	e = bpf_ringbuf_reserve(&dm_events, sizeof(*e), 0);
	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return;
	}
	ev_hdr_fill(&e->hdr, DM_EV_ANOMALY, a, ifindex, hook, dir);
	e->code = code;
	e->value = value;
	e->offset = offset;
	bpf_ringbuf_submit(&e->hdr, rb_wakeup());
	st->cnt[DM_CNT_ANOMALIES]++;
	st->cnt[DM_CNT_EVENTS]++;
}

/*
 * Evidence (evidence.dir): the first evidence_pkts frames of a known DICOM
 * association, as they are, for a pcap userspace writes when a rule fires.
 * Both directions count against one bound; on two CPUs at once it may be
 * passed by one frame. Frames yield to events: none is copied while the ring
 * is over half full (counted; the redactor then zeroes the rest).
 */
static __always_inline void emit_packet(const struct dm_pkt *p, const __u8 hook,
					struct dm_stats *st, struct dm_assoc *a, int side)
{
	struct dm_event_packet *e;
	__u32 n;

	if (a->evidence_sent >= cfg.evidence_pkts)
		return;
	/* Evidence yields to the events: none while the ring is over half full. */
	if (bpf_ringbuf_query(&dm_events, BPF_RB_AVAIL_DATA) > 2 * (__u64)cfg.wakeup_bytes) {
		st->cnt[DM_CNT_EVIDENCE_YIELD]++;
		return;
	}
	a->evidence_sent++;
	e = bpf_ringbuf_reserve(&dm_events, sizeof(*e), 0);
	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return;
	}
	ev_hdr_fill(&e->hdr, DM_EV_PACKET, a, p->ifindex, p->hook,
		    side == a->init_side ? DM_DIR_ORIG : DM_DIR_REPLY);
	n = p->len < DM_EVIDENCE_SNAP ? p->len : DM_EVIDENCE_SNAP;
	e->wire_len = p->len;
	e->transport = a->transport;
	e->aflags = a->flags;
	e->pad[0] = e->pad[1] = 0;
	if (load_bounded(p->ctx, hook, 0, e->data, n, DM_EVIDENCE_SNAP)) {
		bpf_ringbuf_discard(e, 0);
		return;
	}
	e->hdr.len = n;
	bpf_ringbuf_submit(&e->hdr, rb_wakeup());
	st->cnt[DM_CNT_EVIDENCE]++;
}

static __always_inline void emit_tls(const struct dm_pkt *p, struct dm_stats *st,
				     const struct dm_assoc *a, __u8 dir, __u8 hs_type,
				     __u8 rec_minor, __u16 legacy, __u16 version)
{
	struct dm_event_tls *e = bpf_ringbuf_reserve(&dm_events, sizeof(*e), 0);

	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return;
	}
	ev_hdr_fill(&e->hdr, DM_EV_TLS, a, p->ifindex, p->hook, dir);
	e->hs_type = hs_type;
	e->pad = 0;
	e->record_version = 0x0300 | rec_minor;
	e->legacy_version = legacy;
	e->version = version;
	bpf_ringbuf_submit(&e->hdr, rb_wakeup());
	st->cnt[DM_CNT_EVENTS]++;
}

/*
 * "GET ", "POST", "PUT ", "HEAD", "DELE(TE)": the request methods DICOMweb
 * uses (QIDO/WADO: GET, STOW: POST, the rest for completeness).
 */
static __always_inline bool http_method(const __u8 *m)
{
	__u32 w = m[0] | (__u32)m[1] << 8 | (__u32)m[2] << 16 | (__u32)m[3] << 24;

	return w == 0x20544547 /* "GET " */ || w == 0x54534f50 /* "POST" */ ||
	       w == 0x20545550 /* "PUT " */ || w == 0x44414548 /* "HEAD" */ ||
	       w == 0x454c4544 /* "DELE" */;
}

/* The header of a DM_EV_HTTP event (no association: the flow's key, the client's side). */
static __always_inline void http_hdr_fill(struct dm_event_http *e, const struct dm_flow_key *k,
					  __u8 side, __u32 ifindex, __u8 hook_id, __u32 n,
					  __u32 seg_len, __u32 roff)
{
	e->hdr.type = DM_EV_HTTP;
	e->hdr.len = n;
	e->hdr.ts_ns = event_ns();
	e->hdr.assoc_id = 0;
	__builtin_memcpy(&e->hdr.key, k, sizeof(e->hdr.key));
	e->hdr.ifindex = ifindex;
	e->hdr.dir = DM_DIR_ORIG;
	e->hdr.init_side = side;
	e->hdr.hook = hook_id;
	e->hdr.flags = (roff == 0 ? DM_EF_FIRST : 0) | (n < seg_len ? DM_EF_TRUNC : 0) |
		       (roff + n >= DM_HTTP_SNAP ? DM_EF_LAST : 0);
	e->seg_len = seg_len;
	e->offset = roff;
}

/*
 * DM_EV_HTTP: bytes of a request segment at packet offset off (seg_len of
 * payload), at offset roff (< DM_HTTP_SNAP) of the request. Returns the
 * bytes shipped, 0 if none.
 */
static __always_inline __u32 emit_http_seg(void *ctx, const __u8 hook, struct dm_stats *st,
					   const struct dm_flow_key *k, __u8 side, __u32 ifindex,
					   __u8 hook_id, __u32 off, __u32 seg_len, __u32 roff)
{
	struct dm_event_http *e;
	__u32 n = seg_len;

	if (roff >= DM_HTTP_SNAP)
		return 0;
	if (n > DM_HTTP_SNAP - roff)
		n = DM_HTTP_SNAP - roff;
	e = bpf_ringbuf_reserve(&dm_events, sizeof(*e), 0);
	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return 0;
	}
	if (load_bounded(ctx, hook, off, e->data, n, DM_HTTP_SNAP)) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	http_hdr_fill(e, k, side, ifindex, hook_id, n, seg_len, roff);
	bpf_ringbuf_submit(&e->hdr, rb_wakeup());
	st->cnt[DM_CNT_EVENTS]++;
	return n;
}

/* DM_EV_HTTP at offset 0: the first `have` bytes of a request, held by a candidate. */
static __always_inline void emit_http_prefix(struct dm_stats *st, const struct dm_flow_key *k,
					     __u8 side, __u32 ifindex, __u8 hook_id,
					     const __u8 *buf, __u32 have)
{
	struct dm_event_http *e = bpf_ringbuf_reserve(&dm_events, sizeof(*e), 0);
	const __u64 *src = (const __u64 *)buf; /* 8 at a time: see cand_copy() */
	__u64 *dst;
	int i;

	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return;
	}
	dst = (__u64 *)e->data;
#pragma unroll
	for (i = 0; i < DM_CAND_BYTES / 8; i++)
		dst[i] = src[i];
	http_hdr_fill(e, k, side, ifindex, hook_id, have < DM_CAND_BYTES ? have : DM_CAND_BYTES,
		      have, 0);
	bpf_ringbuf_submit(&e->hdr, rb_wakeup());
	st->cnt[DM_CNT_EVENTS]++;
}

#endif /* __EVENTS_BPF_H */
