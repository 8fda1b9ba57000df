/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The stream tracker of a known association: per-direction stream position,
 * the walk over PDU headers inside a segment (split headers included), event
 * pieces for control PDUs and DIMSE command heads, TLS ServerHello, FIN/RST.
 */
#ifndef __STREAM_BPF_H
#define __STREAM_BPF_H

#include "dicom.bpf.h"
#include "flow.bpf.h"

/* ---- the stream walk: PDU headers and event pieces inside one segment ---- */

struct walk_ctx {
	void *ctx;
	struct dm_assoc *a;
	struct dm_stats *st;
	struct walk_pos pos;
};

static __always_inline struct dm_dir_state *dir_state(struct dm_assoc *a, __u8 dir)
{
	return dir ? &a->dir[1] : &a->dir[0];
}

static __always_inline void desync(struct walk_ctx *w, struct dm_dir_state *d)
{
	d->flags &= ~(DM_DF_SYNCED | DM_DF_SHIP);
	d->hdr_have = 0;
	w->st->cnt[DM_CNT_DESYNC]++;
}

/* An anomaly at stream position pos of the walk's segment (see emit_anomaly()). */
static __always_inline void walk_anomaly(struct walk_ctx *w, struct dm_dir_state *d, __u32 code,
					 __u32 value, __u32 pos)
{
	emit_anomaly(w->st, w->a, w->pos.dir, w->pos.ifindex, w->pos.hook, code, value,
		     d->bytes - (__u32)(w->pos.end - pos));
}

/*
 * One event piece of at most cap bytes: its record is reserved with that
 * constant capacity and its copy bounded by the same constant, so each size
 * is self-consistent for the verifier. (Choosing the size once and branching
 * on it again for the copy let clang merge the branches, and 6.1's verifier
 * could not tie the copy's length to the record it had reserved.)
 */
static __always_inline int emit_piece_cap(struct walk_ctx *w, const __u8 hook,
					  struct dm_dir_state *d, __u32 pkt_off, __u32 len,
					  __u32 pdu_off, __u8 flags, const __u32 cap)
{
	struct dm_event_piece *e = bpf_ringbuf_reserve(&dm_events, sizeof(*e) + cap, 0);

	if (!e) {
		w->st->cnt[DM_CNT_RINGBUF_FAIL]++;
		d->anomaly_codes |= 1 << DM_AN_RING_LOST;
		if (d->anomalies < 0xffff)
			d->anomalies++;
		return -1;
	}
	ev_hdr_fill(&e->hdr, d->ship_ev, w->a, w->pos.ifindex, w->pos.hook, w->pos.dir);
	e->hdr.flags = flags;
	e->hdr.len = len;
	e->pdu_len = d->ship_pdu_len;
	e->offset = pdu_off;
	e->pdu_type = d->ship_pdu_type;
	e->state = w->a->state;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	if (load_bounded(w->ctx, hook, pkt_off, e->data, len, cap)) {
		bpf_ringbuf_discard(e, 0);
		return -1;
	}
	bpf_ringbuf_submit(e, rb_wakeup());
	w->st->cnt[DM_CNT_EVENTS]++;
	return 0;
}

/*
 * One event piece: n bytes from packet offset pkt_off. Small pieces (DIMSE
 * heads, release, abort) take a small ring record so bursts of them do not
 * eat the ring.
 */
static __always_inline int emit_piece(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				      __u32 pkt_off, __u32 n, __u32 pdu_off, __u8 flags)
{
	if (n <= DM_PIECE_SMALL)
		return emit_piece_cap(w, hook, d, pkt_off, n, pdu_off, flags, DM_PIECE_SMALL);
	return emit_piece_cap(w, hook, d, pkt_off, n, pdu_off, flags, DM_PIECE_MAX);
}

/* Ship the part of the pending PDU that lies in this segment, one piece per call. */
static __always_inline long ship_step(struct walk_ctx *w, const __u8 hook)
{
	struct dm_dir_state *d = dir_state(w->a, w->pos.dir);
	__u32 n, room;
	__u8 flags = 0;

	if (!(d->flags & DM_DF_SHIP) || !seq_in(d->ship_seq, w->pos.seq, w->pos.end))
		return 1;
	n = d->ship_left;
	room = w->pos.end - d->ship_seq;
	if (n > room)
		n = room;
	if (n > DM_PIECE_MAX)
		n = DM_PIECE_MAX;
	if (d->ship_off == 0)
		flags |= DM_EF_FIRST;
	if (n == d->ship_left) {
		flags |= DM_EF_LAST;
		if (d->ship_off + n < d->ship_pdu_len + 6)
			flags |= DM_EF_TRUNC;
	}
	if (emit_piece(w, hook, d, w->pos.off + (d->ship_seq - w->pos.seq), n, d->ship_off, flags)) {
		/* A lost piece makes the rest useless: stop shipping this PDU. */
		d->flags &= ~DM_DF_SHIP;
		return 1;
	}
	d->ship_seq += n;
	d->ship_off += n;
	d->ship_left -= n;
	if (!d->ship_left) {
		d->flags &= ~DM_DF_SHIP;
		return 1;
	}
	return 0;
}

/*
 * Start shipping a PDU that begins at stream position pos. Bytes of it that
 * came in an earlier segment (a header split across segments) are in
 * hdr_buf and go out first as a piece of their own.
 */
static __always_inline void ship_start(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				       __u8 ev, const __u8 *h, __u32 pos, __u32 total, __u32 cap)
{
	struct dm_event_piece *e;
	__u32 early;

	d->ship_ev = ev;
	d->ship_pdu_type = h[0];
	d->ship_pdu_len = be32(h + 2);
	d->ship_seq = pos;
	d->ship_off = 0;
	d->ship_left = total < cap ? total : cap;
	d->flags = (d->flags | DM_DF_SHIP) & ~DM_DF_HOLE;
	if (ev == DM_EV_PDU && total > cap) {
		w->st->cnt[DM_CNT_CTL_TRUNCATED]++;
		walk_anomaly(w, d, DM_AN_CTL_TRUNCATED, d->ship_pdu_len, pos);
	}

	early = w->pos.seq - pos;
	if (!seq_before(pos, w->pos.seq) || early > DM_HDR_BUF)
		return;
	e = bpf_ringbuf_reserve(&dm_events, sizeof(*e) + DM_PIECE_SMALL, 0);
	if (!e) {
		w->st->cnt[DM_CNT_RINGBUF_FAIL]++;
		d->flags &= ~DM_DF_SHIP;
		return;
	}
	ev_hdr_fill(&e->hdr, ev, w->a, w->pos.ifindex, w->pos.hook, w->pos.dir);
	e->hdr.flags = DM_EF_FIRST;
	e->hdr.len = early;
	e->pdu_len = d->ship_pdu_len;
	e->offset = 0;
	e->pdu_type = h[0];
	e->state = w->a->state;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	__builtin_memcpy(e->data, h, DM_HDR_BUF);
	bpf_ringbuf_submit(e, rb_wakeup());
	w->st->cnt[DM_CNT_EVENTS]++;
	d->ship_seq = w->pos.seq;
	d->ship_off = early;
	d->ship_left -= early;
}

static __always_inline void assoc_pdu_state(struct dm_assoc *a, struct dm_stats *st, __u8 type)
{
	switch (type) {
	case DM_PDU_ASSOC_RQ:
		a->state = DM_STATE_REQUESTED;
		break;
	case DM_PDU_ASSOC_AC:
		if (a->state != DM_STATE_ACCEPTED)
			st->assoc[DM_ASSOC_ACCEPTED]++;
		a->state = DM_STATE_ACCEPTED;
		src_refund(st, a);
		break;
	case DM_PDU_ASSOC_RJ:
		if (a->state != DM_STATE_REJECTED)
			st->assoc[DM_ASSOC_REJECTED]++;
		a->state = DM_STATE_REJECTED;
		src_refund(st, a);
		break;
	case DM_PDU_RELEASE_RQ:
		if (a->state != DM_STATE_RELEASED)
			a->state = DM_STATE_RELEASING;
		break;
	case DM_PDU_RELEASE_RP:
		if (a->state != DM_STATE_RELEASED)
			st->assoc[DM_ASSOC_RELEASED]++;
		a->state = DM_STATE_RELEASED;
		break;
	case DM_PDU_ABORT:
		if (a->state != DM_STATE_ABORTED)
			st->assoc[DM_ASSOC_ABORTED]++;
		a->state = DM_STATE_ABORTED;
		break;
	}
}

/* A complete header (6 bytes, 12 for P-DATA) at stream position pos. */
static __always_inline long pdu_header(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				       const __u8 *h, __u32 pos)
{
	struct dm_stats *st = w->st;
	__u32 len, type;
	int err;

	err = pdu_hdr_check(h, cfg.max_pdu_len);
	if (err) {
		count_err(st, err);
		if (err == -DM_ERR_PDU_BAD_TYPE) {
			walk_anomaly(w, d, DM_AN_PDU_TYPE, h[0], pos);
		} else {
			walk_anomaly(w, d, DM_AN_PDU_LENGTH, be32(h + 2), pos);
			/*
			 * A set-up PDU whose length lies (0, 0xFFFFFFFF, short): its
			 * first bytes still go to userspace, which decodes what is
			 * there and says what is wrong. Where the next PDU starts is
			 * unknown: the walk stops here.
			 */
			if (h[0] == DM_PDU_ASSOC_RQ || h[0] == DM_PDU_ASSOC_AC) {
				type = h[0] == DM_PDU_ASSOC_RQ ? DM_PDU_ASSOC_RQ : DM_PDU_ASSOC_AC;
				d->pdus[type]++;
				st->pdus[w->pos.dir & 1][type]++;
				assoc_pdu_state(w->a, st, type);
				ship_start(w, hook, d, DM_EV_PDU, h, pos, DM_PIECE_MAX,
					   DM_PIECE_MAX);
				/* Lost: where the next header is. Not lost: the bytes to ship. */
				d->flags &= ~DM_DF_SYNCED;
				d->hdr_have = 0;
				w->st->cnt[DM_CNT_DESYNC]++;
				return 0;
			}
		}
		desync(w, d);
		return 1;
	}
	type = dm_mask(h[0], 7); /* pdu_hdr_check() bounds it too, where 6.1 cannot see it */
	len = be32(h + 2);
	d->pdus[type]++;
	st->pdus[w->pos.dir & 1][type]++;
	st->pdu_bytes[w->pos.dir & 1][type] += len + 6;
	assoc_pdu_state(w->a, st, type);
	d->hdr_seq = pos + len + 6;
	d->hdr_have = 0;

	if (type != DM_PDU_P_DATA) {
		ship_start(w, hook, d, DM_EV_PDU, h, pos, len + 6, cfg.ctl_max);
	} else if (pdv_hdr_check(h)) {
		count_err(st, -DM_ERR_PDV_BAD);
		if (be32(h + 6) < DM_PDV_MIN_LEN || be32(h + 6) > len - 4)
			walk_anomaly(w, d, DM_AN_PDV_LENGTH, be32(h + 6), pos);
		else
			walk_anomaly(w, d, DM_AN_PDV_HEADER, (__u32)h[10] << 8 | h[11], pos);
	} else if (cfg.dimse && (h[11] & 1)) {
		/*
		 * The command PDV only (PDU and PDV headers, then the command set):
		 * a data set PDV behind it in the same PDU may hold patient data,
		 * and userspace has no use for it. A command fragment that is not
		 * the last (a peer with a small maximum PDU length) goes with what
		 * follows it in the PDU, its next fragments: userspace puts the
		 * command together (PS3.8 E.2) and looks at command PDVs only.
		 */
		__u32 cap = (h[11] & 2) ? 10 + be32(h + 6) : len + 6;

		st->cnt[DM_CNT_DIMSE_COMMANDS]++;
		ship_start(w, hook, d, DM_EV_DIMSE, h, pos, len + 6,
			   cap < cfg.dimse_snap ? cap : cfg.dimse_snap);
	}
	return 0;
}

/*
 * Read up to DM_HDR_BUF bytes at packet offset off, of which avail exist.
 * The short case reads byte by byte with constant sizes and offsets.
 */
static __always_inline __u32 read_hdr(struct walk_ctx *w, const __u8 hook, __u32 off, __u32 avail,
				      __u8 *buf)
{
	int i;

	if (avail >= DM_HDR_BUF)
		return dm_load_bytes(w->ctx, hook, off, buf, DM_HDR_BUF) ? 0 : DM_HDR_BUF;
#pragma unroll
	for (i = 0; i < DM_HDR_BUF - 1; i++) {
		if (i >= avail || dm_load_bytes(w->ctx, hook, off + i, buf + i, 1))
			return i;
	}
	return DM_HDR_BUF - 1;
}

static __always_inline bool hdr_complete(const __u8 *h, __u32 have)
{
	return have >= 6 && (h[0] != DM_PDU_P_DATA || have >= DM_HDR_BUF);
}

/* Finish a header whose first bytes arrived at the end of the previous segment. */
static __always_inline long hdr_resume(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d)
{
	__u8 tmp[DM_HDR_BUF] = {};
	__u32 have = d->hdr_have, got, i, idx;

	if (have >= DM_HDR_BUF || d->hdr_seq + have != w->pos.seq) {
		desync(w, d);
		return 1;
	}
	got = read_hdr(w, hook, w->pos.off, w->pos.end - w->pos.seq, tmp);
#pragma unroll
	for (i = 0; i < DM_HDR_BUF; i++) {
		idx = have + i;
		if (i < got && idx < DM_HDR_BUF)
			d->hdr_buf[idx] = tmp[i];
	}
	have += got;
	if (have > DM_HDR_BUF)
		have = DM_HDR_BUF;
	__builtin_memcpy(tmp, d->hdr_buf, DM_HDR_BUF);
	if (!hdr_complete(tmp, have)) {
		d->hdr_have = have;
		return 1;
	}
	return pdu_header(w, hook, d, tmp, d->hdr_seq);
}

/* Examine the next PDU header if it starts inside this segment. 0 = go on. */
static __always_inline long walk_step(struct walk_ctx *w, const __u8 hook)
{
	struct dm_dir_state *d = dir_state(w->a, w->pos.dir);
	__u8 h[DM_HDR_BUF] = {};
	__u32 pos, got;

	if (!(d->flags & DM_DF_SYNCED))
		return 1;
	if (d->hdr_have)
		return hdr_resume(w, hook, d);
	pos = d->hdr_seq;
	if (!seq_in(pos, w->pos.seq, w->pos.end))
		return 1;
	got = read_hdr(w, hook, w->pos.off + (pos - w->pos.seq), w->pos.end - pos, h);
	if (!hdr_complete(h, got)) {
		if (got < w->pos.end - pos) { /* unreadable, not merely short */
			desync(w, d);
			return 1;
		}
		__builtin_memcpy(d->hdr_buf, h, DM_HDR_BUF);
		d->hdr_have = got;
		return 1;
	}
	return pdu_header(w, hook, d, h, pos);
}

/*
 * One step through a segment: the next piece of a PDU being shipped, or else
 * the next PDU header. 0 = more to do in this segment.
 */
static __always_inline long segment_step(struct walk_ctx *w, const __u8 hook)
{
	struct dm_dir_state *d = dir_state(w->a, w->pos.dir);

	if ((d->flags & DM_DF_SHIP) && seq_in(d->ship_seq, w->pos.seq, w->pos.end)) {
		ship_step(w, hook);
		return 0;
	}
	return walk_step(w, hook);
}

/*
 * The step as a global function: the verifier checks its body once, on its
 * own, whatever state the walk is in when it calls it. (Inlined into a
 * bpf_loop callback, it was verified again for every state the callback was
 * entered with until they converged: 173k of the 220k instructions a program
 * took to verify on 6.18, for every program and device-bound copy.) A global
 * function takes no pointer inside a struct: the walk's pointers come as
 * arguments, its position as a copy.
 */
static __always_inline long seg_step_global(void *ctx, struct dm_assoc *a, struct dm_stats *st,
					    const struct walk_pos *pos, const __u8 hook)
{
	struct walk_ctx w;

	if (!a || !st || !pos)
		return 1;
	w.ctx = ctx;
	w.a = a;
	w.st = st;
	w.pos = *pos;
	return segment_step(&w, hook);
}

__noinline long dm_seg_step_xdp(struct xdp_md *ctx, struct dm_assoc *a, struct dm_stats *st,
				const struct walk_pos *pos)
{
	return seg_step_global(ctx, a, st, pos, DM_HOOK_XDP);
}

__noinline long dm_seg_step_tc(struct __sk_buff *ctx, struct dm_assoc *a, struct dm_stats *st,
			       const struct walk_pos *pos)
{
	return seg_step_global(ctx, a, st, pos, DM_HOOK_TC_INGRESS);
}

/*
 * The walk: bpf_loop over calls to the global step, run by the program's
 * main function after the slow path returned DM_SLOW_WALK. The callback is
 * two instructions the verifier checks once; the step's body is verified on
 * its own; the chain main, callback, step stays far within 512 bytes of
 * stack on 6.1 (which counts each frame rounded up to 32; main, slow path,
 * callback and step came to 544 there). DM_WALK_STEPS steps cover a 64 KiB
 * segment of the smallest PDUs.
 */
struct walk_loop {
	void *ctx;
	struct dm_assoc *a;
	struct dm_stats *st;
	const struct walk_pos *pos;
};

static long walk_cb_xdp(__u32 i, void *c)
{
	struct walk_loop *l = c;

	/* bpf_loop wants 0 or 1; the verifier knows nothing of a global's result. */
	return dm_seg_step_xdp(l->ctx, l->a, l->st, l->pos) ? 1 : 0;
}

static long walk_cb_tc(__u32 i, void *c)
{
	struct walk_loop *l = c;

	return dm_seg_step_tc(l->ctx, l->a, l->st, l->pos) ? 1 : 0;
}

static __always_inline void segment_walk(void *ctx, const __u8 hook, struct dm_assoc *a,
					 struct dm_stats *st, const struct walk_pos *pos)
{
	struct walk_loop l = {.ctx = ctx, .a = a, .st = st, .pos = pos};

	if (hook == DM_HOOK_XDP)
		bpf_loop(DM_WALK_STEPS, walk_cb_xdp, &l, 0);
	else
		bpf_loop(DM_WALK_STEPS, walk_cb_tc, &l, 0);
}

/*
 * Resynchronise on a segment that starts with something that looks like a
 * PDU header (after loss, or for the second direction of a mid-stream pickup).
 */
static __always_inline void try_resync(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				       bool count)
{
	__u8 h[DM_HDR_BUF] = {};
	__u32 got = read_hdr(w, hook, w->pos.off, w->pos.end - w->pos.seq, h);

	if (!pdu_plausible(h, got, cfg.max_pdu_len))
		return;
	d->hdr_seq = w->pos.seq;
	d->hdr_have = 0;
	d->flags |= DM_DF_SYNCED;
	if (count) {
		d->resyncs++;
		w->st->cnt[DM_CNT_RESYNC]++;
		walk_anomaly(w, d, DM_AN_RESYNC, 0, w->pos.seq);
	}
}

/* The TLS server's first flight: record which version it selected. */
static __always_inline void tls_server_hello(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
					     struct dm_assoc *a, const struct dm_seg *t)
{
	__u8 h[6];
	__u16 legacy = 0, v;

	if (t->len < 6 || dm_load_bytes(p->ctx, hook, t->off, h, 6) || !tls_hello(h, 2))
		return;
	v = tls_hello_version(p, hook, t->off, t->off + t->len, false, &legacy);
	if (!v) {
		count_err(st, -DM_ERR_TLS_BAD);
		return;
	}
	a->tls_selected = v;
	a->state = DM_STATE_TLS_ESTABLISHED;
	src_refund(st, a);
	st->cnt[DM_CNT_TLS_HELLO]++;
	emit_tls(p, st, a, DM_DIR_REPLY, 2, h[2], legacy, v);
}

/*
 * A segment beyond a gap, in the middle of a control PDU being shipped (the
 * tail of an A-ASSOCIATE-RQ that overtook its middle, say): its bytes of the
 * PDU go to userspace now, at their PDU offset, in one piece (they must fit),
 * and the hole is remembered until the bytes that fill it come. Returns
 * whether it was taken.
 */
static __always_inline bool ship_ahead(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				       __u32 seq, __u32 end, __u32 pkt_off)
{
	__u32 skip = seq - d->ship_seq, n;

	if ((d->flags & (DM_DF_SHIP | DM_DF_HOLE)) != DM_DF_SHIP || d->ship_seq != d->next_seq ||
	    skip >= d->ship_left)
		return false;
	n = end - seq;
	if (n > d->ship_left - skip)
		n = d->ship_left - skip;
	if (n > DM_PIECE_MAX || emit_piece(w, hook, d, pkt_off, n, d->ship_off + skip, 0))
		return false;
	w->st->cnt[DM_CNT_OOO_SHIPPED] += n;
	d->hole_seq = d->ship_seq;
	d->hole_end = seq;
	d->ahead_end = seq + n;
	d->flags |= DM_DF_HOLE;
	return true;
}

/*
 * A segment over the hole of the PDU being shipped: the missing bytes go to
 * userspace; once the hole is filled, shipping goes on after the bytes
 * shipped ahead of it.
 */
static __always_inline void fill_hole(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				      __u32 seq, __u32 end, __u32 pkt_off)
{
	__u32 n, done;
	__u8 flags = 0;

	if (!(d->flags & DM_DF_HOLE) || seq_before(d->hole_seq, seq) ||
	    !seq_before(d->hole_seq, end))
		return;
	n = (seq_before(d->hole_end, end) ? d->hole_end : end) - d->hole_seq;
	if (d->ship_off == 0)
		flags |= DM_EF_FIRST;
	/* The last piece to come: it fills the hole and the bytes ahead end the PDU. */
	if (d->hole_seq + n == d->hole_end && d->ship_left == n + (d->ahead_end - d->hole_end)) {
		flags |= DM_EF_LAST;
		if (d->ship_off + d->ship_left < d->ship_pdu_len + 6)
			flags |= DM_EF_TRUNC;
	}
	if (n > DM_PIECE_MAX ||
	    emit_piece(w, hook, d, pkt_off + (d->hole_seq - seq), n, d->ship_off, flags)) {
		d->flags &= ~(DM_DF_SHIP | DM_DF_HOLE);
		return;
	}
	d->hole_seq += n;
	d->ship_seq += n;
	d->ship_off += n;
	d->ship_left -= n;
	if (d->hole_seq != d->hole_end)
		return;
	/* Filled: what was shipped ahead counts as shipped. */
	done = d->ahead_end - d->hole_end;
	d->ship_seq = d->ahead_end;
	d->ship_off += done;
	d->ship_left -= done;
	d->flags &= ~DM_DF_HOLE;
	if (!d->ship_left)
		d->flags &= ~DM_DF_SHIP;
}

/*
 * Payload of a known association: stream accounting, resynchronisation, and
 * the position of the PDU walk this segment needs, in pos. Returns whether it
 * needs one (the caller runs segment_walk(), then walk_done()).
 */
static __always_inline bool track_payload(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
					  struct dm_assoc *a, __u8 dir, const struct dm_seg *t,
					  struct walk_pos *pos)
{
	struct dm_dir_state *d = dir_state(a, dir);
	struct walk_ctx w;
	__u32 end = t->seq + t->len, start = t->seq;
	bool first = !(d->flags & DM_DF_SEEN), ahead = false;

	if (first) {
		d->next_seq = t->seq;
		d->flags |= DM_DF_SEEN;
	}
	w.ctx = p->ctx;
	w.a = a;
	w.st = st;
	w.pos.seq = start;
	w.pos.end = end;
	w.pos.off = t->off;
	w.pos.ifindex = p->ifindex;
	w.pos.dir = dir;
	w.pos.hook = p->hook;
	if (a->transport != DM_TRANSPORT_TLS)
		fill_hole(&w, hook, d, t->seq, end, t->off);
	if (!seq_before(d->next_seq, end)) {
		d->retransmits++;
		st->cnt[DM_CNT_RETRANSMIT]++;
		return false;
	}
	if (seq_before(t->seq, d->next_seq)) {
		st->cnt[DM_CNT_PARTIAL_RETRANSMIT]++;
		start = d->next_seq;
	} else if (seq_before(d->next_seq, t->seq)) {
		d->gaps++;
		st->cnt[DM_CNT_GAP]++;
		if (a->transport != DM_TRANSPORT_TLS)
			ahead = ship_ahead(&w, hook, d, t->seq, end, t->off);
	}
	/* Stream bytes, gaps included: loss on our side is not loss on the wire. */
	d->bytes += end - d->next_seq;
	d->next_seq = end;

	if (a->transport == DM_TRANSPORT_TLS) {
		if (first && dir == DM_DIR_REPLY)
			tls_server_hello(p, hook, st, a, t);
		return false;
	}

	w.pos.seq = start;
	w.pos.off = t->off + (start - t->seq);
	if (!ahead && (d->flags & DM_DF_SHIP) && !(d->flags & DM_DF_HOLE) &&
	    seq_before(d->ship_seq, start)) {
		/* Bytes of the PDU being shipped were lost: userspace gets what came. */
		walk_anomaly(&w, d, DM_AN_GAP, start - d->ship_seq, d->ship_seq);
		d->flags &= ~DM_DF_SHIP;
	}
	if ((d->flags & DM_DF_SYNCED) && seq_before(d->hdr_seq + d->hdr_have, start)) {
		/* The next header, or the rest of one begun, was in bytes we never saw. */
		walk_anomaly(&w, d, DM_AN_HEADER_LOST, start - d->hdr_seq, d->hdr_seq);
		desync(&w, d);
	}
	if (!(d->flags & DM_DF_SYNCED) && start == t->seq)
		try_resync(&w, hook, d, !first);

	*pos = w.pos;
	return true;
}

/* After the walk: steps ran out with work left in this segment? Count it, find the stream again. */
static __always_inline void walk_done(struct dm_stats *st, struct dm_assoc *a,
				      const struct walk_pos *pos)
{
	struct dm_dir_state *d = dir_state(a, pos->dir);
	__u32 start = pos->seq, end = pos->end;

	if (((d->flags & DM_DF_SYNCED) && !d->hdr_have && seq_in(d->hdr_seq, start, end)) ||
	    ((d->flags & DM_DF_SHIP) && seq_in(d->ship_seq, start, end))) {
		st->cnt[DM_CNT_WALK_LIMIT]++;
		emit_anomaly(st, a, pos->dir, pos->ifindex, pos->hook, DM_AN_WALK_LIMIT,
			     DM_WALK_STEPS, d->bytes - (__u32)(end - d->hdr_seq));
		d->flags &= ~(DM_DF_SYNCED | DM_DF_SHIP | DM_DF_HOLE);
		d->hdr_have = 0;
		st->cnt[DM_CNT_DESYNC]++;
	}
}



/* FIN from both sides or any RST ends the association. */
static __always_inline int track_close(struct dm_pkt *p, struct dm_stats *st, struct dm_assoc *a,
				       struct dm_assoc *slot, __u8 dir, __u8 tcp_flags)
{
	int cls = a->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS : DM_CLASS_DICOM;
	__u32 reason, bit = 1u << (dir & 1), old;

	if (tcp_flags & DM_TCP_RST) {
		reason = DM_END_RST;
	} else {
		/*
		 * The two FINs may be classified on two CPUs at once (two interfaces,
		 * RSS). A plain store of its own flag and a load of the other's lets
		 * each CPU miss the other's (the load may pass the store): nobody
		 * would end it. One atomic OR on one word orders them: the OR that
		 * finds the other direction's bit, and not its own (a FIN sent
		 * again), completes the pair. `a` is the map value itself, never a
		 * copy written back.
		 */
		old = __sync_fetch_and_or(&a->fin_dirs, bit);
		if ((old & bit) || !(old & (bit ^ 3)))
			return cls;
		reason = DM_END_FIN;
	}
	/*
	 * Both ends may reset at once, or one resets as the other's FIN completes
	 * the pair, on two CPUs: only the first to get here reports the end.
	 */
	if (__sync_val_compare_and_swap(&a->closed, 0, 1) != 0)
		return cls;
	st->assoc[DM_ASSOC_ENDED]++;
	emit_flow_end(p, st, a, reason);
	flow_delete(st, a, slot);
	return cls;
}

#endif /* __STREAM_BPF_H */
