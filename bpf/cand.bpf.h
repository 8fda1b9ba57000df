/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Candidates: recognition that does not depend on how the sender cut its
 * first bytes. A flow whose first payload bytes could begin an
 * A-ASSOCIATE-RQ (any port) or an HTTP request (web ports), but are too few
 * to say, is held in dm_cands (LRU; bounded in count, in bytes per flow and
 * in time) with those bytes, and its next segments are merged in until the
 * bytes decide: an association (its first bytes go to userspace as the RQ's
 * first piece), an HTTP request (its first DM_HTTP_SNAP bytes go out as
 * DM_EV_HTTP events), or nothing (dropped). A flow that is no candidate costs
 * nothing: its slot records when a candidate hashing there was last stored
 * (cand_mark), and only then is dm_cands looked at.
 */
#ifndef __CAND_BPF_H
#define __CAND_BPF_H

#include "stream.bpf.h"

#define DM_RQ_DECIDE (10 + 2 * DM_ALEN) /* RQ bytes that decide: header, version, AE titles */
#define DM_TICK_SHIFT 30		/* cand_mark ticks: 2^30 ns, about a second */

/* Results of the candidate path (dm_cand_xdp/tc). */
enum {
	DM_CAND_NONE = 0, /* no candidate for this segment: classify it as usual */
	DM_CAND_HELD,	  /* the segment went into a candidate (or was shipped as HTTP) */
	DM_CAND_PROMOTED, /* the candidate is an association now: run the slow path */
};

/*
 * DM_CAND_BYTES bytes, 8 at a time (both ends 8-aligned): a byte-wise copy
 * from a map value is loaded into registers first and spilled, 48 stack
 * slots deep, in a frame that must fit under main's.
 */
static __always_inline void cand_copy(void *dst, const void *src)
{
	const __u64 *s = src;
	__u64 *d = dst;
	int i;

#pragma unroll
	for (i = 0; i < DM_CAND_BYTES / 8; i++)
		d[i] = s[i];
}

static __always_inline __u16 cand_tick(__u64 now)
{
	__u16 t = now >> DM_TICK_SHIFT;

	return t ? t : 1;
}

/* Every removal is counted: stored minus removed minus held is what the LRU evicted. */
static __always_inline void cand_remove(struct dm_stats *st, const struct dm_flow_key *k)
{
	if (!bpf_map_delete_elem(&dm_cands, k))
		st->cnt[DM_CNT_CAND_REMOVED]++;
}

/* Could a candidate hashing to this slot exist? A field test, then a clock read. */
static __always_inline bool cand_pending(const struct dm_assoc *slot)
{
	__u16 age;

	if (!slot->cand_mark || !cfg.cand_timeout_ns)
		return false;
	age = cand_tick(activity_ns()) - slot->cand_mark;
	return age <= (cfg.cand_timeout_ns >> DM_TICK_SHIFT) + 1;
}

/* Store a new candidate for the segment t of the flow k, with its first n bytes. */
static __always_inline void cand_store(struct dm_stats *st, struct dm_assoc *slot,
				       const struct dm_flow_key *k, const struct dm_seg *t,
				       __u8 kind, const __u8 *buf, __u32 n, __u32 shipped)
{
	__u64 now = activity_ns();
	struct dm_cand *c;
	__u32 zero = 0;

	/* An RQ candidate is charged to its source like a new association (not an HTTP one). */
	if (kind == DM_CAND_RQ && src_allow(st, k, t->side, now) == SRC_REFUSED)
		return;
	c = bpf_map_lookup_elem(&dm_cand_tmp, &zero);
	if (!c) {
		st->cnt[DM_CNT_CAND_FAIL]++;
		return;
	}
	__builtin_memset(c, 0, sizeof(*c));
	c->first_ns = now;
	c->first_seq = t->seq;
	c->next_seq = t->seq + t->len;
	c->ack = t->ack;
	c->shipped = shipped;
	c->have = n < DM_CAND_BYTES ? n : DM_CAND_BYTES;
	c->segs = 1;
	c->kind = kind;
	c->side = t->side;
	if (buf)
		cand_copy(c->buf, buf);
	/* One left from before (the slot's mark ran out): replaced, counted as expired. */
	if (bpf_map_update_elem(&dm_cands, k, c, BPF_NOEXIST)) {
		st->cnt[DM_CNT_CAND_EXPIRED]++;
		cand_remove(st, k);
		if (bpf_map_update_elem(&dm_cands, k, c, BPF_NOEXIST)) {
			st->cnt[DM_CNT_CAND_FAIL]++;
			return;
		}
	}
	slot->cand_mark = cand_tick(now);
	st->cnt[DM_CNT_CAND_NEW]++;
}

/* Bytes so far could still begin an A-ASSOCIATE-RQ (printable AE titles off the DICOM ports). */
static __always_inline bool rq_prefix_ok(const __u8 *b, __u32 n, bool on_port)
{
	int i;

	if (n < 1 || b[0] != DM_PDU_ASSOC_RQ || (n >= 2 && b[1] != 0) || (n >= 8 && !(b[7] & 1)))
		return false;
	if (on_port)
		return true;
#pragma unroll
	for (i = 10; i < DM_RQ_DECIDE; i++)
		if (i < n && (b[i] < 0x20 || b[i] > 0x7e))
			return false;
	return true;
}

/* Bytes so far could still begin a request method (GET, POST, PUT, HEAD, DELETE). */
static __always_inline bool http_prefix_ok(const __u8 *b, __u32 n)
{
	__u32 w = b[0] | (__u32)b[1] << 8 | (__u32)b[2] << 16 | (__u32)b[3] << 24;
	__u32 mask = n >= 4 ? 0xffffffff : n == 3 ? 0xffffff : n == 2 ? 0xffff : 0xff;

	w &= mask;
	return n && (w == (0x20544547 & mask) /* "GET " */ || w == (0x54534f50 & mask) /* "POST" */ ||
		     w == (0x20545550 & mask) /* "PUT " */ || w == (0x44414548 & mask) /* "HEAD" */ ||
		     w == (0x454c4544 & mask) /* "DELE" */);
}

/* Copy up to len bytes at packet offset off into buf at `at` (< DM_CAND_BYTES), at most to its end. */
static __always_inline __u32 cand_put(void *ctx, const __u8 hook, struct dm_cand *c, __u64 at,
				      __u32 off, __u32 len)
{
	__u32 n;

	/* Masked: 6.1 checks c->buf + at on a copy of at it knows no bound of. */
	at = dm_mask(at, 63);
	if (at > DM_CAND_BYTES - 1)
		return 0;
	n = DM_CAND_BYTES - at;
	if (n > len)
		n = len;
	if (load_bounded(ctx, hook, off, c->buf + at, n, DM_CAND_BYTES))
		return 0;
	return n;
}

/*
 * Merge an in-order segment (len bytes at packet offset off, starting at
 * buf[c->have]) into the candidate's bytes, up to DM_CAND_BYTES: up to a
 * block that came ahead of it (those bytes were first), then the block, then
 * whatever the segment holds past it. Returns how many bytes from the first
 * are now known; c->have still counts those known before the segment.
 */
static __always_inline __u32 cand_append(void *ctx, const __u8 hook, struct dm_cand *c,
					 __u32 off, __u32 len)
{
	__u32 have = c->have, n = len, skip;

	if (c->ooo_end && c->ooo_start > have && n > c->ooo_start - have)
		n = c->ooo_start - have;
	have += cand_put(ctx, hook, c, have, off, n);
	if (!c->ooo_end || have < c->ooo_start)
		return have;
	/* The gap is filled: the block ahead joins, and the segment's bytes past it follow. */
	skip = c->ooo_end - c->have;
	have = c->ooo_end;
	c->ooo_start = c->ooo_end = 0;
	if (len > skip)
		have += cand_put(ctx, hook, c, have, off + skip, len - skip);
	return have;
}

/*
 * A segment beyond a gap, inside the window: its bytes are placed where they
 * go (one such block is kept; the sender need not send it again, SACK
 * tells it the receiver has it), and wait for the gap to be filled.
 */
static __always_inline void cand_ahead(void *ctx, const __u8 hook, struct dm_cand *c,
				       const struct dm_seg *t)
{
	__u32 at = t->seq - c->first_seq, n;

	if (c->ooo_end || at >= DM_CAND_BYTES)
		return;
	n = cand_put(ctx, hook, c, at, t->off, t->len);
	if (!n)
		return;
	c->ooo_start = at;
	c->ooo_end = at + n;
}

/*
 * The RQ is recognised: an association from the candidate's first byte on.
 * Its first `have` bytes go to userspace from the candidate as the RQ's
 * first piece (those before this segment; or all known, the segment's
 * included, when a block that came ahead of it ends past it), the RQ is
 * counted, and the slow path then takes this segment's bytes past them as
 * the next of the association's first direction.
 */
static __always_inline struct dm_assoc *cand_promote(struct dm_pkt *p, struct dm_stats *st,
						     struct dm_assoc *slot,
						     const struct dm_flow_key *k,
						     const struct dm_seg *t, const struct dm_cand *c,
						     const __u8 *h, bool ae_odd, __u32 have)
{
	__u32 len = be32(h + 2), total = len + 6;
	struct dm_event_piece *e;
	struct dm_dir_state *d;
	struct dm_assoc *a;
	bool bogus = pdu_hdr_check(h, cfg.max_pdu_len) != 0;

	a = rq_assoc(p, st, slot, k, c->side, DM_AF_CANDIDATE | (ae_odd ? DM_AF_AE_ODD : 0),
		     c->first_seq + have, c->ack);
	if (!a)
		return NULL;
	st->cnt[DM_CNT_CAND_PROMOTED]++;
	d = &a->dir[DM_DIR_ORIG];
	d->bytes = have;
	d->pkts = c->segs;
	d->flags |= DM_DF_SHIP;
	d->pdus[DM_PDU_ASSOC_RQ] = 1;
	st->pdus[DM_DIR_ORIG][DM_PDU_ASSOC_RQ]++;
	st->pdu_bytes[DM_DIR_ORIG][DM_PDU_ASSOC_RQ] += total;
	d->ship_ev = DM_EV_PDU;
	d->ship_pdu_type = DM_PDU_ASSOC_RQ;
	d->ship_pdu_len = len;
	d->ship_seq = c->first_seq + have;
	d->ship_off = have;
	/* A length that lies: its first bytes still go out, the stream is not followed. */
	if (bogus || total < have)
		total = DM_PIECE_MAX;
	d->ship_left = (total < cfg.ctl_max ? total : cfg.ctl_max) - have;
	d->hdr_seq = c->first_seq + total;
	if (bogus) {
		d->flags &= ~DM_DF_SYNCED;
		emit_anomaly(st, a, DM_DIR_ORIG, p->ifindex, p->hook, DM_AN_PDU_LENGTH, len, 0);
	}
	if (c->flags & DM_CF_CONFLICT)
		emit_anomaly(st, a, DM_DIR_ORIG, p->ifindex, p->hook, DM_AN_OVERLAP, 0, 0);
	if (!d->ship_left)
		d->flags &= ~DM_DF_SHIP;

	e = bpf_ringbuf_reserve(&dm_events, sizeof(*e) + DM_PIECE_SMALL, 0);
	if (!e) {
		st->cnt[DM_CNT_RINGBUF_FAIL]++;
		d->flags &= ~DM_DF_SHIP;
		return a;
	}
	ev_hdr_fill(&e->hdr, DM_EV_PDU, a, p->ifindex, p->hook, DM_DIR_ORIG);
	e->hdr.flags = DM_EF_FIRST | (d->ship_left ? 0 : DM_EF_LAST);
	e->hdr.len = have;
	e->pdu_len = len;
	e->offset = 0;
	e->pdu_type = DM_PDU_ASSOC_RQ;
	e->state = DM_STATE_REQUESTED;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	cand_copy(e->data, c->buf);
	bpf_ringbuf_submit(e, rb_wakeup());
	st->cnt[DM_CNT_EVENTS]++;
	return a;
}

/* The next bytes of an HTTP candidate: the method decides, then they are shipped. */
static __always_inline int cand_http(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
				     struct dm_cand *c, const struct dm_flow_key *k,
				     const struct dm_seg *t)
{
	__u32 n, have = c->have;

	if (c->kind == DM_CAND_HTTP) {
		n = cand_append(p->ctx, hook, c, t->off, t->len);
		if (!http_prefix_ok(c->buf, n)) {
			st->cnt[DM_CNT_CAND_DROPPED]++;
			cand_remove(st, k);
			return DM_CAND_HELD;
		}
		if (n < 4) {
			c->have = n;
			c->next_seq = t->seq + t->len;
			return DM_CAND_HELD;
		}
		/* A request: what was held, then this segment, then the next ones. */
		st->cnt[DM_CNT_HTTP_REQUESTS]++;
		st->cnt[DM_CNT_CAND_HTTP]++;
		emit_http_prefix(st, k, t->side, p->ifindex, p->hook, c->buf, have);
		c->kind = DM_CAND_HTTP_SHIP;
		c->shipped = have;
	} else {
		st->cnt[DM_CNT_HTTP_CONT]++;
	}
	c->shipped += emit_http_seg(p->ctx, hook, st, k, t->side, p->ifindex, p->hook, t->off,
				    t->len, c->shipped);
	c->next_seq = t->seq + t->len;
	if (c->shipped >= DM_HTTP_SNAP || (t->flags & (DM_TCP_FIN | DM_TCP_RST)))
		cand_remove(st, k);
	return DM_CAND_HELD;
}

/* The next bytes of an RQ candidate: held, dropped, or an association. */
static __always_inline int cand_rq(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
				   struct dm_assoc *slot, struct dm_cand *c,
				   const struct dm_flow_key *k, const struct dm_seg *t)
{
	bool on_port = port_is_dicom(t->sport) || port_is_dicom(t->dport);
	__u32 n, early;

	n = cand_append(p->ctx, hook, c, t->off, t->len);
	if (!rq_prefix_ok(c->buf, n, on_port)) {
		if (!on_port && n >= DM_RQ_DECIDE)
			st->cnt[DM_CNT_RQ_NOT_PRINTABLE]++;
		st->cnt[DM_CNT_CAND_DROPPED]++;
		cand_remove(st, k);
		return DM_CAND_NONE;
	}
	if (n < DM_RQ_DECIDE) {
		c->have = n;
		c->next_seq = c->first_seq + n;
		c->ack = t->ack;
		return DM_CAND_HELD;
	}
	/* What the slow path will not find in this segment goes from the candidate. */
	early = seq_before(t->seq + t->len, c->first_seq + n) ? n : c->have;
	if (!cand_promote(p, st, slot, k, t, c, c->buf, !ae_printable(c->buf + 10), early))
		return DM_CAND_NONE;
	cand_remove(st, k);
	return DM_CAND_PROMOTED;
}

/*
 * Do the segment's bytes before the candidate's next_seq differ from those
 * held? (Only the held ones, the first DM_CAND_BYTES, can be compared.)
 */
static __always_inline bool cand_overlap(void *ctx, const __u8 hook, const struct dm_cand *c,
					 const struct dm_seg *t)
{
	__u8 b[DM_CAND_BYTES] = {};
	__u32 at = t->seq - c->first_seq, n = c->next_seq - t->seq, i;
	bool differ = false;

	if (n > t->len)
		n = t->len;
	if (n > DM_CAND_BYTES)
		n = DM_CAND_BYTES;
	if (at >= DM_CAND_BYTES || load_bounded(ctx, hook, t->off, b, n, DM_CAND_BYTES))
		return false;
	/* c->buf + at: at < DM_CAND_BYTES, i < DM_CAND_BYTES, inside its 2 * DM_CAND_BYTES. */
#pragma unroll
	for (i = 0; i < DM_CAND_BYTES; i++)
		if (i < n && at + i < c->have && b[i] != c->buf[(at & (DM_CAND_BYTES * 2 - 1)) + i])
			differ = true;
	return differ;
}

/*
 * A segment of a flow that may have a candidate. Segments of the other side
 * pass by; a retransmission of held bytes is compared with them (the first
 * copy wins, a difference is counted); a segment beyond a gap cannot be
 * merged and waits for a retransmission of what is missing.
 */
static __always_inline int cand_segment(void *ctx, const __u8 hook)
{
	struct dm_slow_args *args = slow_args();
	struct dm_pkt p = {};
	struct dm_assoc *slot;
	struct dm_stats *st;
	struct dm_cand *c;
	struct dm_seg *t, seg;
	int r;

	if (!args)
		return DM_CAND_NONE;
	t = &args->t;
	slot = args_slot(ctx, args, &p, &st);
	c = bpf_map_lookup_elem(&dm_cands, &args->key);
	if (!slot || !c)
		return DM_CAND_NONE;
	if (activity_ns() - c->first_ns > cfg.cand_timeout_ns) {
		st->cnt[DM_CNT_CAND_EXPIRED]++;
		cand_remove(st, &args->key);
		return DM_CAND_NONE;
	}
	if (t->side != c->side || !t->len)
		return DM_CAND_NONE;
	seg = *t;
	if (seq_before(seg.seq, c->next_seq)) {
		/* Seen before, all or part: the first copy wins, a different one is counted. */
		if (cand_overlap(ctx, hook, c, &seg)) {
			st->cnt[DM_CNT_OVERLAP_CONFLICT]++;
			c->flags |= DM_CF_CONFLICT;
		}
		if (!seq_before(c->next_seq, seg.seq + seg.len))
			return DM_CAND_HELD;
		seg.off += c->next_seq - seg.seq;
		seg.len -= c->next_seq - seg.seq;
		seg.seq = c->next_seq;
	} else if (seg.seq != c->next_seq) {
		/* Beyond a gap: placed in the window if it fits (RQ), merged once the gap is filled. */
		if (c->kind == DM_CAND_RQ)
			cand_ahead(ctx, hook, c, &seg);
		return DM_CAND_HELD;
	}
	st->cnt[DM_CNT_CAND_SEGMENTS]++;
	if (c->segs < 0xff)
		c->segs++;
	if (c->kind == DM_CAND_RQ)
		r = cand_rq(&p, hook, st, slot, c, &args->key, &seg);
	else
		r = cand_http(&p, hook, st, c, &args->key, &seg);
	/* The flow ends undecided: nothing more will come. */
	if (r == DM_CAND_HELD && (seg.flags & (DM_TCP_FIN | DM_TCP_RST)) &&
	    bpf_map_lookup_elem(&dm_cands, &args->key)) {
		st->cnt[DM_CNT_CAND_DROPPED]++;
		cand_remove(st, &args->key);
	}
	return r;
}

__noinline int dm_cand_xdp(struct xdp_md *ctx)
{
	return cand_segment(ctx, DM_HOOK_XDP);
}

__noinline int dm_cand_tc(struct __sk_buff *ctx)
{
	return cand_segment(ctx, DM_HOOK_TC_INGRESS);
}

#endif /* __CAND_BPF_H */
