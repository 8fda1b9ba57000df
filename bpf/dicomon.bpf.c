// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dicomon's classifier: one body of code, built into an XDP program and two
 * TC programs (ingress, egress) through the context shim in ctx.bpf.h.
 *
 * Per packet: parse to the TCP payload, hash the normalised 5-tuple + VLAN
 * into a direct-mapped array of association slots (dm_flows) and compare the
 * full key. A hit is a known association: advance its per-direction stream
 * state and, only when a PDU header falls inside the segment, read and count
 * it. A miss looks at the first payload bytes for an A-ASSOCIATE-RQ (any
 * port), a TLS ClientHello or a plausible PDU (configured DICOM ports); all
 * else is counted by class and leaves without touching per-flow state.
 * Associations whose slot is taken by another live one go to an LRU hash
 * (dm_overflow), which is looked up only for slots flagged as spilled.
 *
 * Nothing here drops or rewrites a packet: XDP returns XDP_PASS and TC
 * returns TC_ACT_UNSPEC so other programs on the hook still run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dicomon.h"
#include "ctx.bpf.h"
#include "parsing.bpf.h"
#include "dicom.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define DM_FLOW_SLOTS_DEFAULT 16384
#define DM_OVERFLOW_DEFAULT   4096
#define DM_PDU_WALK_MAX	      16 /* PDU headers examined per segment (with the pieces below) */
#define DM_PIECES_MAX	      32 /* event pieces per segment (64 KiB GSO / 2 KiB) */
#define TC_ACT_UNSPEC	      (-1)
#define NSEC_PER_SEC	      1000000000ULL

#define PORT_BIT(p) [(p) >> 6] = 1ULL << ((p)&63)

/* Defaults; userspace overwrites the whole block before load. */
const volatile struct dm_bpf_config cfg = {
    .port_map = {PORT_BIT(104), PORT_BIT(2762), PORT_BIT(4242), PORT_BIT(11112)},
    .idle_reclaim_ns = 600 * NSEC_PER_SEC,
    .slots_mask = DM_FLOW_SLOTS_DEFAULT - 1,
    .ctl_max = 65536,
    .dimse_snap = 512,
    .max_pdu_len = 1 << 24,
    .wakeup_bytes = 1 << 18,
    .any_port_rq = 1,
    .midstream = 1,
    .tls = 1,
    .dimse = 1,
    .vlan_key = 1,
};

/* Association ids; userspace seeds it so ids differ across loads. */
__u64 next_assoc_id = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DM_FLOW_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct dm_assoc);
} dm_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DM_OVERFLOW_DEFAULT);
	__type(key, struct dm_flow_key);
	__type(value, struct dm_assoc);
} dm_overflow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct dm_stats);
} dm_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DM_IFSLOT_HASH);
	__type(key, __u32);
	__type(value, struct dm_ifslot);
} dm_ifslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} dm_events SEC(".maps");

/* Staging for an association bound for dm_overflow: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dm_assoc);
} dm_scratch SEC(".maps");

/* Sequence-space comparisons (RFC 1982 style, 32-bit wrap). */
static __always_inline bool seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline bool seq_in(__u32 x, __u32 lo, __u32 hi)
{
	return !seq_before(x, lo) && seq_before(x, hi);
}

/* What the classifier knows about the TCP segment at hand. */
struct dm_seg {
	__u32 seq;
	__u32 ack;
	__u32 off; /* packet offset of the payload */
	__u32 len; /* payload bytes */
	__u16 sport;
	__u16 dport;
	__u8 flags; /* TCP flags byte */
	__u8 side;  /* key endpoint that sent it */
	__u8 pad[2];
	__u16 vlan[2]; /* the packet's VLAN ids, outer first */
};

static __always_inline struct dm_stats *stats_for(__u32 ifindex)
{
	__u32 k = ifindex & (DM_IFSLOT_HASH - 1), slot = 0;
	struct dm_ifslot *s = bpf_map_lookup_elem(&dm_ifslots, &k);

	if (s && s->ifindex == ifindex)
		slot = s->slot;
	return bpf_map_lookup_elem(&dm_stats, &slot);
}

static __always_inline void count_class(struct dm_stats *st, __u32 cls, __u32 len)
{
	st->pkts[cls]++;
	st->bytes[cls] += len;
}

static __always_inline void count_err(struct dm_stats *st, int neg_err)
{
	__u32 e = -neg_err;

	if (e < DM_ERR_MAX)
		st->err[e]++;
}

static __always_inline bool port_is_dicom(__u16 port)
{
	return (cfg.port_map[port >> 6] >> (port & 63)) & 1;
}

/*
 * Normalise: endpoint 0 is the lower (address, port). Returns the side of the
 * packet's source.
 */
static __always_inline __u8 key_build(struct dm_flow_key *k, const struct dm_l3 *l3, __u16 sport,
				      __u16 dport, const __u16 vlan[2])
{
	const __u32 *lo = l3->saddr, *hi = l3->daddr;
	int src_first = -1, i;

	if (l3->family == 4) {
		if (lo[0] != hi[0])
			src_first = lo[0] < hi[0];
	} else {
#pragma unroll
		for (i = 0; i < 4; i++) {
			if (src_first < 0 && lo[i] != hi[i])
				src_first = lo[i] < hi[i];
		}
	}
	if (src_first < 0)
		src_first = sport < dport;
	if (!src_first) {
		lo = l3->daddr;
		hi = l3->saddr;
		k->port[0] = dport;
		k->port[1] = sport;
	} else {
		k->port[0] = sport;
		k->port[1] = dport;
	}
	if (l3->family == 4) {
		k->addr[0][0] = lo[0];
		k->addr[1][0] = hi[0];
	} else {
		__builtin_memcpy(k->addr[0], lo, 16);
		__builtin_memcpy(k->addr[1], hi, 16);
	}
	/* A router between VLANs sees each direction on its own VLAN: keying on it is optional. */
	if (cfg.vlan_key) {
		k->vlan[0] = vlan[0];
		k->vlan[1] = vlan[1];
	}
	k->family = l3->family;
	return !src_first;
}

/*
 * The slot of a packet's flow, from the packet's own fields: symmetric in
 * its two endpoints (xor and sum of each pair), so neither direction has to
 * build the normalised key first. Independent products pipeline; the seed
 * differs per load. A few cycles, against ~30 ns for a hash map lookup.
 */
static __always_inline __u32 flow_hash(const struct dm_l3 *l3, __u16 sport, __u16 dport,
				       const __u16 vlan[2])
{
	__u32 a = l3->saddr[0], b = l3->daddr[0], h;

	if (l3->family == 6) {
		a ^= l3->saddr[1] * 0x85ebca6b ^ l3->saddr[2] * 0xc2b2ae35 ^ l3->saddr[3];
		b ^= l3->daddr[1] * 0x85ebca6b ^ l3->daddr[2] * 0xc2b2ae35 ^ l3->daddr[3];
	}
	h = ((a ^ b) ^ cfg.hash_seed) * 0x9e3779b1 + (a + b) * 0x85ebca77 +
	    ((__u32)(sport ^ dport) << 16 | (__u16)(sport + dport)) * 0xc2b2ae3d;
	if (cfg.vlan_key)
		h += (((__u32)vlan[0] << 16) | vlan[1]) * 0x27d4eb2f;
	return h ^ (h >> 15);
}

/* Does the slot hold this packet's flow? -1 if not, else the side of the packet's source. */
static __always_inline int slot_match(const struct dm_assoc *s, const struct dm_l3 *l3, __u16 sport,
				      __u16 dport, const __u16 vlan[2])
{
	const struct dm_flow_key *k = &s->key;
	int i;

	if (k->family != l3->family)
		return -1;
	if (cfg.vlan_key && (k->vlan[0] != vlan[0] || k->vlan[1] != vlan[1]))
		return -1;
	if (l3->family == 4) {
		if (k->addr[0][0] == l3->saddr[0] && k->addr[1][0] == l3->daddr[0] &&
		    k->port[0] == sport && k->port[1] == dport)
			return 0;
		if (k->addr[0][0] == l3->daddr[0] && k->addr[1][0] == l3->saddr[0] &&
		    k->port[0] == dport && k->port[1] == sport)
			return 1;
		return -1;
	}
	if (k->port[0] == sport && k->port[1] == dport) {
#pragma unroll
		for (i = 0; i < 4; i++)
			if (k->addr[0][i] != l3->saddr[i] || k->addr[1][i] != l3->daddr[i])
				goto reverse;
		return 0;
	}
reverse:
	if (k->port[0] != dport || k->port[1] != sport)
		return -1;
#pragma unroll
	for (i = 0; i < 4; i++)
		if (k->addr[0][i] != l3->daddr[i] || k->addr[1][i] != l3->saddr[i])
			return -1;
	return 1;
}

static __always_inline bool key_eq(const struct dm_flow_key *a, const struct dm_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) |
		 (x[5] ^ y[5]));
}

/*
 * Waking the reader costs an interrupt per event (microseconds in a VM): let
 * events queue, drained by the daemon's 100 ms tick, and wake it only when
 * the ring fills up (a quarter, by default) so a burst is not lost.
 */
static __always_inline __u64 rb_wakeup(void)
{
	__u64 avail = bpf_ringbuf_query(&dm_events, BPF_RB_AVAIL_DATA);

	/*
	 * NO_WAKEUP (1) below the mark, FORCE_WAKEUP (2) at or above it, without
	 * a branch: a branch here doubles the verifier's states after every event.
	 */
	return BPF_RB_NO_WAKEUP + ((cfg.wakeup_bytes - 1 - avail) >> 63);
}

/* Events carry the fine clock: they are rare, and their order and timing matter. */
static __always_inline void ev_hdr_fill(struct dm_event_hdr *h, __u32 type,
					const struct dm_assoc *a, __u32 ifindex, __u8 hook,
					__u8 dir)
{
	h->type = type;
	h->len = 0;
	h->ts_ns = bpf_ktime_get_ns();
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

/* Fill a fresh association; the caller has chosen where it lives. */
static __always_inline void assoc_init(struct dm_assoc *a, const struct dm_flow_key *k,
				       const struct dm_pkt *p, __u8 init_side, __u8 transport,
				       __u8 state, __u8 flags, __u64 now)
{
	__builtin_memset(a, 0, sizeof(*a));
	__builtin_memcpy(&a->key, k, sizeof(*k));
	a->id = __sync_fetch_and_add(&next_assoc_id, 1);
	a->first_ns = now;
	a->last_ns = now;
	a->ifindex = p->ifindex;
	a->state = state;
	a->transport = transport;
	a->init_side = init_side;
	a->flags = flags;
	a->hook = p->hook;
}

/*
 * Store a new association: in its slot when the slot is free or its occupant
 * has been idle longer than idle_reclaim_ns (the occupant's final counters go
 * to userspace first), otherwise in the LRU overflow table.
 */
static __always_inline struct dm_assoc *flow_create(const struct dm_pkt *p, struct dm_stats *st,
						    struct dm_assoc *slot,
						    const struct dm_flow_key *k, __u8 init_side,
						    __u8 transport, __u8 state, __u8 flags,
						    __u64 now)
{
	struct dm_assoc *a;
	__u32 zero = 0;
	__u8 spilled;

	if (slot->key.family && now - slot->last_ns < cfg.idle_reclaim_ns) {
		a = bpf_map_lookup_elem(&dm_scratch, &zero);
		if (!a)
			goto fail;
		assoc_init(a, k, p, init_side, transport, state, flags | DM_AF_OVERFLOW, now);
		if (bpf_map_update_elem(&dm_overflow, k, a, BPF_NOEXIST))
			goto fail;
		a = bpf_map_lookup_elem(&dm_overflow, k);
		if (!a)
			goto fail;
		if (slot->spilled < 255)
			slot->spilled++;
		st->cnt[DM_CNT_FLOW_OVERFLOW]++;
		st->cnt[DM_CNT_FLOW_INSERT]++;
		return a;
	}
	if (slot->key.family) {
		emit_flow_end(p, st, slot, DM_END_EVICT);
		st->assoc[DM_ASSOC_EVICTED]++;
		st->cnt[DM_CNT_FLOW_EVICT]++;
	}
	spilled = slot->spilled;
	assoc_init(slot, k, p, init_side, transport, state, flags, now);
	slot->spilled = spilled;
	st->cnt[DM_CNT_FLOW_INSERT]++;
	return slot;
fail:
	st->cnt[DM_CNT_FLOW_INSERT_FAIL]++;
	return NULL;
}

static __always_inline void flow_delete(struct dm_assoc *a, struct dm_assoc *slot)
{
	struct dm_flow_key k;

	if (a->flags & DM_AF_OVERFLOW) {
		__builtin_memcpy(&k, &a->key, sizeof(k));
		bpf_map_delete_elem(&dm_overflow, &k);
		if (slot && slot->spilled)
			slot->spilled--;
		return;
	}
	/* family 0 marks the slot free; the rest is rewritten on reuse. */
	a->key.family = 0;
}

/* ---- the stream walk: PDU headers and event pieces inside one segment ---- */

struct walk_ctx {
	void *ctx;
	struct dm_assoc *a;
	struct dm_stats *st;
	__u32 seq; /* stream position of the first new byte in this segment */
	__u32 end; /* stream position one past the segment */
	__u32 off; /* packet offset of stream position seq */
	__u32 ifindex;
	__u8 dir;
	__u8 hook;
	__u8 pad[6];
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

/*
 * One event piece: n bytes from packet offset pkt_off. Small pieces (DIMSE
 * heads, release, abort) take a small ring record so bursts of them do not
 * eat the ring.
 */
static __always_inline int emit_piece(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				      __u32 pkt_off, __u32 n, __u8 flags)
{
	struct dm_event_piece *e;
	__u32 len = n;

	if (len <= DM_PIECE_SMALL)
		e = bpf_ringbuf_reserve(&dm_events, sizeof(*e) + DM_PIECE_SMALL, 0);
	else
		e = bpf_ringbuf_reserve(&dm_events, sizeof(*e) + DM_PIECE_MAX, 0);
	if (!e) {
		w->st->cnt[DM_CNT_RINGBUF_FAIL]++;
		return -1;
	}
	ev_hdr_fill(&e->hdr, d->ship_ev, w->a, w->ifindex, w->hook, w->dir);
	e->hdr.flags = flags;
	e->hdr.len = len;
	e->pdu_len = d->ship_pdu_len;
	e->offset = d->ship_off;
	e->pdu_type = d->ship_pdu_type;
	e->state = w->a->state;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	if (len <= DM_PIECE_SMALL) {
		if (load_bounded(w->ctx, hook, pkt_off, e->data, len, DM_PIECE_SMALL))
			goto discard;
	} else if (load_bounded(w->ctx, hook, pkt_off, e->data, len, DM_PIECE_MAX)) {
		goto discard;
	}
	bpf_ringbuf_submit(e, rb_wakeup());
	w->st->cnt[DM_CNT_EVENTS]++;
	return 0;
discard:
	bpf_ringbuf_discard(e, 0);
	return -1;
}

/* Ship the part of the pending PDU that lies in this segment, one piece per call. */
static __always_inline long ship_step(struct walk_ctx *w, const __u8 hook)
{
	struct dm_dir_state *d = dir_state(w->a, w->dir);
	__u32 n, room;
	__u8 flags = 0;

	if (!(d->flags & DM_DF_SHIP) || !seq_in(d->ship_seq, w->seq, w->end))
		return 1;
	n = d->ship_left;
	room = w->end - d->ship_seq;
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
	if (emit_piece(w, hook, d, w->off + (d->ship_seq - w->seq), n, flags)) {
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
				       __u8 ev, const __u8 *h, __u32 pos, __u32 cap)
{
	__u32 total = be32(h + 2) + 6;
	struct dm_event_piece *e;
	__u32 early;

	d->ship_ev = ev;
	d->ship_pdu_type = h[0];
	d->ship_pdu_len = be32(h + 2);
	d->ship_seq = pos;
	d->ship_off = 0;
	d->ship_left = total < cap ? total : cap;
	d->flags |= DM_DF_SHIP;
	if (ev == DM_EV_PDU && total > cap)
		w->st->cnt[DM_CNT_CTL_TRUNCATED]++;

	early = w->seq - pos;
	if (!seq_before(pos, w->seq) || early > DM_HDR_BUF)
		return;
	e = bpf_ringbuf_reserve(&dm_events, sizeof(*e) + DM_PIECE_SMALL, 0);
	if (!e) {
		w->st->cnt[DM_CNT_RINGBUF_FAIL]++;
		d->flags &= ~DM_DF_SHIP;
		return;
	}
	ev_hdr_fill(&e->hdr, ev, w->a, w->ifindex, w->hook, w->dir);
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
	d->ship_seq = w->seq;
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
		break;
	case DM_PDU_ASSOC_RJ:
		if (a->state != DM_STATE_REJECTED)
			st->assoc[DM_ASSOC_REJECTED]++;
		a->state = DM_STATE_REJECTED;
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
		desync(w, d);
		return 1;
	}
	type = h[0] & 7;
	len = be32(h + 2);
	d->pdus[type]++;
	st->pdus[w->dir & 1][type]++;
	st->pdu_bytes[w->dir & 1][type] += len + 6;
	assoc_pdu_state(w->a, st, type);
	d->hdr_seq = pos + len + 6;
	d->hdr_have = 0;

	if (type != DM_PDU_P_DATA) {
		ship_start(w, hook, d, DM_EV_PDU, h, pos, cfg.ctl_max);
	} else if (pdv_hdr_check(h)) {
		count_err(st, -DM_ERR_PDV_BAD);
	} else if (cfg.dimse && (h[11] & 1)) {
		/*
		 * The command PDV only (PDU and PDV headers, then the command set):
		 * a data set PDV behind it in the same PDU may hold patient data,
		 * and userspace has no use for it.
		 */
		__u32 cap = 10 + be32(h + 6);

		st->cnt[DM_CNT_DIMSE_COMMANDS]++;
		ship_start(w, hook, d, DM_EV_DIMSE, h, pos,
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

	if (have >= DM_HDR_BUF || d->hdr_seq + have != w->seq) {
		desync(w, d);
		return 1;
	}
	got = read_hdr(w, hook, w->off, w->end - w->seq, tmp);
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
	struct dm_dir_state *d = dir_state(w->a, w->dir);
	__u8 h[DM_HDR_BUF] = {};
	__u32 pos, got;

	if (!(d->flags & DM_DF_SYNCED))
		return 1;
	if (d->hdr_have)
		return hdr_resume(w, hook, d);
	pos = d->hdr_seq;
	if (!seq_in(pos, w->seq, w->end))
		return 1;
	got = read_hdr(w, hook, w->off + (pos - w->seq), w->end - pos, h);
	if (!hdr_complete(h, got)) {
		if (got < w->end - pos) { /* unreadable, not merely short */
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
 * the next PDU header. One callback for both keeps a single bpf_loop call
 * site, and the verifier checks its body once.
 */
static __always_inline long segment_step(struct walk_ctx *w, const __u8 hook)
{
	struct dm_dir_state *d = dir_state(w->a, w->dir);

	if ((d->flags & DM_DF_SHIP) && seq_in(d->ship_seq, w->seq, w->end)) {
		ship_step(w, hook);
		return 0;
	}
	return walk_step(w, hook);
}

static long segment_cb_xdp(__u32 i, void *c)
{
	return segment_step(c, DM_HOOK_XDP);
}

static long segment_cb_tc(__u32 i, void *c)
{
	return segment_step(c, DM_HOOK_TC_INGRESS);
}

/*
 * Resynchronise on a segment that starts with something that looks like a
 * PDU header (after loss, or for the second direction of a mid-stream pickup).
 */
static __always_inline void try_resync(struct walk_ctx *w, const __u8 hook, struct dm_dir_state *d,
				       bool count)
{
	__u8 h[DM_HDR_BUF] = {};
	__u32 got = read_hdr(w, hook, w->off, w->end - w->seq, h);

	if (!pdu_plausible(h, got, cfg.max_pdu_len))
		return;
	d->hdr_seq = w->seq;
	d->hdr_have = 0;
	d->flags |= DM_DF_SYNCED;
	if (count) {
		d->resyncs++;
		w->st->cnt[DM_CNT_RESYNC]++;
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
	st->cnt[DM_CNT_TLS_HELLO]++;
	emit_tls(p, st, a, DM_DIR_REPLY, 2, h[2], legacy, v);
}

/* Payload of a known association: stream accounting, then the PDU walk. */
static __always_inline void track_payload(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
					  struct dm_assoc *a, __u8 dir, const struct dm_seg *t)
{
	struct dm_dir_state *d = dir_state(a, dir);
	struct walk_ctx w;
	__u32 end = t->seq + t->len, start = t->seq;
	bool first = !(d->flags & DM_DF_SEEN);

	if (first) {
		d->next_seq = t->seq;
		d->flags |= DM_DF_SEEN;
	}
	if (!seq_before(d->next_seq, end)) {
		d->retransmits++;
		st->cnt[DM_CNT_RETRANSMIT]++;
		return;
	}
	if (seq_before(t->seq, d->next_seq)) {
		st->cnt[DM_CNT_PARTIAL_RETRANSMIT]++;
		start = d->next_seq;
	} else if (seq_before(d->next_seq, t->seq)) {
		d->gaps++;
		st->cnt[DM_CNT_GAP]++;
	}
	/* Stream bytes, gaps included: loss on our side is not loss on the wire. */
	d->bytes += end - d->next_seq;
	d->next_seq = end;

	if (a->transport == DM_TRANSPORT_TLS) {
		if (first && dir == DM_DIR_REPLY)
			tls_server_hello(p, hook, st, a, t);
		return;
	}

	w.ctx = p->ctx;
	w.a = a;
	w.st = st;
	w.seq = start;
	w.end = end;
	w.off = t->off + (start - t->seq);
	w.ifindex = p->ifindex;
	w.dir = dir;
	w.hook = p->hook;

	if ((d->flags & DM_DF_SHIP) && seq_before(d->ship_seq, start))
		d->flags &= ~DM_DF_SHIP; /* bytes of it were lost */
	if ((d->flags & DM_DF_SYNCED) && !d->hdr_have && seq_before(d->hdr_seq, start))
		desync(&w, d); /* the next header was in bytes we never saw */
	if (!(d->flags & DM_DF_SYNCED) && start == t->seq)
		try_resync(&w, hook, d, !first);

	if (hook == DM_HOOK_XDP)
		bpf_loop(DM_PDU_WALK_MAX + DM_PIECES_MAX, segment_cb_xdp, &w, 0);
	else
		bpf_loop(DM_PDU_WALK_MAX + DM_PIECES_MAX, segment_cb_tc, &w, 0);
	/* Steps ran out with work left in this segment: count it, find the stream again. */
	if (((d->flags & DM_DF_SYNCED) && !d->hdr_have && seq_in(d->hdr_seq, start, end)) ||
	    ((d->flags & DM_DF_SHIP) && seq_in(d->ship_seq, start, end))) {
		st->cnt[DM_CNT_WALK_LIMIT]++;
		desync(&w, d);
	}
}

/* FIN from both sides or any RST ends the association. */
static __always_inline int track_close(struct dm_pkt *p, struct dm_stats *st, struct dm_assoc *a,
				       struct dm_assoc *slot, __u8 dir, __u8 tcp_flags)
{
	int cls = a->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS : DM_CLASS_DICOM;
	__u32 reason;

	if (tcp_flags & DM_TCP_RST) {
		reason = DM_END_RST;
	} else {
		dir_state(a, dir)->flags |= DM_DF_FIN;
		if (!(a->dir[0].flags & a->dir[1].flags & DM_DF_FIN))
			return cls;
		reason = DM_END_FIN;
	}
	/*
	 * Both ends may reset at once and their packets may be classified on two
	 * CPUs (two interfaces): only the first to get here reports the end.
	 */
	if (__sync_val_compare_and_swap(&a->closed, 0, 1) != 0)
		return cls;
	st->assoc[DM_ASSOC_ENDED]++;
	emit_flow_end(p, st, a, reason);
	flow_delete(a, slot);
	return cls;
}

/*
 * Arguments of the slow path. Global functions are verified once, on their
 * own, which keeps the verifier's work linear; the price is that they take
 * only scalars, so the slow path looks the association up again.
 */
struct dm_slow_args {
	struct dm_flow_key key;
	struct dm_seg t;
	__u32 idx; /* slot of the key in dm_flows */
	__u32 ifindex;
	__u32 pkt_len;
	__u8 hook; /* enum dm_hook, for events */
	__u8 pad[3];
};

#define DM_UNTRACKED DM_CLASS_MAX /* slow path: no association for this packet */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dm_slow_args);
} dm_args SEC(".maps");

/*
 * A segment of a flow we do not track: is it the start of an association?
 * Returns the new association or NULL (then the packet is plain TCP).
 */
static __always_inline struct dm_assoc *detect(struct dm_pkt *p, const __u8 hook,
					       struct dm_stats *st, struct dm_assoc *slot,
					       const struct dm_flow_key *k, const struct dm_seg *t)
{
	__u64 now;
	bool sdicom, ddicom;
	struct dm_assoc *a;
	__u8 h[DM_HDR_BUF] = {}, ae[2 * DM_ALEN], init_side;
	__u32 have;
	__u16 legacy = 0;

	if (t->len >= DM_HDR_BUF) {
		if (dm_load_bytes(p->ctx, hook, t->off, h, DM_HDR_BUF))
			return NULL;
		have = DM_HDR_BUF;
	} else if (t->len >= 6) {
		if (dm_load_bytes(p->ctx, hook, t->off, h, 6))
			return NULL;
		have = 6;
	} else {
		return NULL;
	}
	sdicom = port_is_dicom(t->sport);
	ddicom = port_is_dicom(t->dport);

	/* An A-ASSOCIATE-RQ opens every DICOM association, on whatever port. */
	if (rq_header(h, cfg.max_pdu_len) && (cfg.any_port_rq || sdicom || ddicom)) {
		__u8 flags = 0;

		if (t->len < 10 + sizeof(ae) ||
		    dm_load_bytes(p->ctx, hook, t->off + 10, ae, sizeof(ae)))
			return NULL;
		if (!ae_printable(ae)) {
			/* Off the DICOM ports, garbage AE titles mean it is not DICOM. */
			if (!sdicom && !ddicom) {
				st->cnt[DM_CNT_RQ_NOT_PRINTABLE]++;
				return NULL;
			}
			flags = DM_AF_AE_ODD;
		}
		now = bpf_ktime_get_coarse_ns();
		a = flow_create(p, st, slot, k, t->side, DM_TRANSPORT_CLEARTEXT, DM_STATE_REQUESTED,
				flags, now);
		if (!a)
			return NULL;
		st->assoc[DM_ASSOC_NEW_CLEARTEXT]++;
		a->dir[DM_DIR_ORIG].next_seq = t->seq;
		a->dir[DM_DIR_ORIG].hdr_seq = t->seq;
		a->dir[DM_DIR_ORIG].flags = DM_DF_SEEN | DM_DF_SYNCED;
		/* The RQ's acknowledgement number is where the acceptor's stream starts. */
		a->dir[DM_DIR_REPLY].next_seq = t->ack;
		a->dir[DM_DIR_REPLY].hdr_seq = t->ack;
		a->dir[DM_DIR_REPLY].flags = DM_DF_SEEN | DM_DF_SYNCED;
		return a;
	}
	if (!sdicom && !ddicom)
		return NULL;

	if (cfg.tls && ddicom && tls_hello(h, 1)) {
		__u16 v;

		v = tls_hello_version(p, hook, t->off, t->off + t->len, true, &legacy);
		if (!v) {
			count_err(st, -DM_ERR_TLS_BAD);
			return NULL;
		}
		now = bpf_ktime_get_coarse_ns();
		a = flow_create(p, st, slot, k, t->side, DM_TRANSPORT_TLS, DM_STATE_TLS_HELLO, 0,
				now);
		if (!a)
			return NULL;
		a->tls_offered = v;
		st->assoc[DM_ASSOC_NEW_TLS]++;
		st->cnt[DM_CNT_TLS_HELLO]++;
		emit_tls(p, st, a, DM_DIR_ORIG, 1, h[2], legacy, v);
		return a;
	}

	if (cfg.midstream && pdu_plausible(h, have, cfg.max_pdu_len)) {
		/* The side on a DICOM port is the acceptor; if both are, the destination. */
		init_side = ddicom ? t->side : !t->side;
		now = bpf_ktime_get_coarse_ns();
		a = flow_create(p, st, slot, k, init_side, DM_TRANSPORT_CLEARTEXT, DM_STATE_UNKNOWN,
				DM_AF_MIDSTREAM, now);
		if (!a)
			return NULL;
		st->assoc[DM_ASSOC_NEW_MIDSTREAM]++;
		st->cnt[DM_CNT_MIDSTREAM]++;
		init_side = t->side == init_side ? DM_DIR_ORIG : DM_DIR_REPLY;
		if (init_side == DM_DIR_ORIG) {
			a->dir[DM_DIR_ORIG].next_seq = t->seq;
			a->dir[DM_DIR_ORIG].hdr_seq = t->seq;
			a->dir[DM_DIR_ORIG].flags = DM_DF_SEEN | DM_DF_SYNCED;
		} else {
			a->dir[DM_DIR_REPLY].next_seq = t->seq;
			a->dir[DM_DIR_REPLY].hdr_seq = t->seq;
			a->dir[DM_DIR_REPLY].flags = DM_DF_SEEN | DM_DF_SYNCED;
		}
		return a;
	}
	return NULL;
}

/*
 * Detection runs as a global function of its own: verified once, and its
 * stack (header and AE title buffers, the TLS walk) is not on the PDU walk's
 * call chain, which must stay within BPF's 512 bytes.
 */
static __always_inline int detect_global(void *ctx, struct dm_slow_args *args, const __u8 hook)
{
	struct dm_pkt p = {
	    .ctx = ctx,
	    .len = args->pkt_len,
	    .ifindex = args->ifindex,
	    .hook = args->hook,
	};
	struct dm_assoc *slot;
	struct dm_stats *st;
	__u32 idx = args->idx;

	st = stats_for(args->ifindex);
	slot = bpf_map_lookup_elem(&dm_flows, &idx);
	if (!st || !slot)
		return 0;
	return detect(&p, hook, st, slot, &args->key, &args->t) != NULL;
}

__noinline int dm_detect_xdp(struct xdp_md *ctx, struct dm_slow_args *args)
{
	return args ? detect_global(ctx, args, DM_HOOK_XDP) : 0;
}

__noinline int dm_detect_tc(struct __sk_buff *ctx, struct dm_slow_args *args)
{
	return args ? detect_global(ctx, args, DM_HOOK_TC_INGRESS) : 0;
}

/*
 * Everything but in-order payload of a known association: detection, the
 * first segments, PDU headers, retransmissions, gaps, FIN and RST. Returns
 * the packet's class.
 */
static __always_inline int slow_path(void *ctx, struct dm_slow_args *args, const __u8 hook)
{
	struct dm_pkt p = {
	    .ctx = ctx,
	    .len = args->pkt_len,
	    .ifindex = args->ifindex,
	    .hook = args->hook,
	};
	struct dm_assoc *slot, *a = NULL;
	struct dm_seg *t = &args->t;
	struct dm_stats *st;
	__u32 idx = args->idx;
	__u64 now;
	__u8 dir;

	st = stats_for(args->ifindex);
	slot = bpf_map_lookup_elem(&dm_flows, &idx);
	if (!st || !slot)
		return DM_CLASS_TCP_OTHER;
	if (key_eq(&slot->key, &args->key))
		a = slot;
	else if (slot->spilled)
		a = bpf_map_lookup_elem(&dm_overflow, &args->key);
	if (!a)
		return DM_UNTRACKED;
	/*
	 * Activity needs no precision, and the fine clock costs ~20 ns under a VM:
	 * the coarse one (a tick) stamps activity, events read the fine one.
	 */
	now = bpf_ktime_get_coarse_ns();
	a->last_ns = now;
	dir = t->side == a->init_side ? DM_DIR_ORIG : DM_DIR_REPLY;
	dir_state(a, dir)->pkts++;
	dir_state(a, dir)->vlan[0] = t->vlan[0];
	dir_state(a, dir)->vlan[1] = t->vlan[1];
	if (t->len)
		track_payload(&p, hook, st, a, dir, t);
	if (t->flags & (DM_TCP_FIN | DM_TCP_RST))
		return track_close(&p, st, a, slot, dir, t->flags);
	return a->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS : DM_CLASS_DICOM;
}

__noinline int dm_slow_xdp(struct xdp_md *ctx, struct dm_slow_args *args)
{
	if (!args)
		return DM_CLASS_TCP_OTHER;
	return slow_path(ctx, args, DM_HOOK_XDP);
}

__noinline int dm_slow_tc(struct __sk_buff *ctx, struct dm_slow_args *args)
{
	if (!args)
		return DM_CLASS_TCP_OTHER;
	return slow_path(ctx, args, DM_HOOK_TC_INGRESS);
}

/*
 * The bulk path: a segment of a known association that continues its
 * direction's stream exactly and holds no PDU header and no piece owed to
 * userspace only moves the stream position. Anything else is slow.
 */
static __always_inline bool fast_path(struct dm_assoc *a, const struct dm_seg *t)
{
	struct dm_dir_state *d = dir_state(a, t->side == a->init_side ? DM_DIR_ORIG : DM_DIR_REPLY);
	__u32 end = t->seq + t->len;

	if (t->flags & (DM_TCP_FIN | DM_TCP_RST | DM_TCP_SYN))
		return false;
	if (t->len) {
		if ((d->flags & (DM_DF_SEEN | DM_DF_SHIP)) != DM_DF_SEEN || d->hdr_have ||
		    t->seq != d->next_seq)
			return false;
		if (a->transport != DM_TRANSPORT_TLS &&
		    (!(d->flags & DM_DF_SYNCED) || seq_before(d->hdr_seq, end)))
			return false;
		d->bytes += t->len;
		/* A constant after load: the verifier prunes the branch it never takes. */
		if (!cfg.bench_hold)
			d->next_seq = end;
	}
	/*
	 * Activity for idle reclaim: a clock read every 1024th packet keeps a
	 * busy association (TLS has no PDU headers to stamp it) from looking idle.
	 */
	if (!(++d->pkts & 1023))
		a->last_ns = bpf_ktime_get_coarse_ns();
	return true;
}

/*
 * Could this segment of an unknown flow open an association? Two bitmap
 * reads and one payload byte decide for nearly all traffic, before any
 * helper call: what is not on a DICOM port must start like an A-ASSOCIATE-RQ.
 */
static __always_inline bool maybe_dicom(const struct dm_seg *t, const __u8 *payload, void *data_end)
{
	if (!t->len || (t->flags & (DM_TCP_SYN | DM_TCP_RST)))
		return false;
	if (port_is_dicom(t->sport) || port_is_dicom(t->dport))
		return true;
	if (!cfg.any_port_rq)
		return false;
	if ((void *)(payload + 2) > data_end)
		return true; /* beyond the linear part: detect() reads it with a helper */
	return payload[0] == DM_PDU_ASSOC_RQ && payload[1] == 0;
}

static __always_inline void classify_tcp(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
					 const struct dm_l3 *l3, const __u16 vlan[2],
					 const struct tcphdr *th, __u32 thlen, __u32 l4_off,
					 void *data_end)
{
	const __u8 *payload = (const __u8 *)th + thlen;
	struct dm_slow_args *args;
	struct dm_assoc *slot;
	struct dm_seg t;
	__u32 cls, idx, zero = 0;
	int side;
	bool known;

	t.seq = bpf_ntohl(th->seq);
	t.ack = bpf_ntohl(th->ack_seq);
	t.sport = bpf_ntohs(th->source);
	t.dport = bpf_ntohs(th->dest);
	t.flags = ((__u8 *)th)[13];
	t.off = l4_off + thlen;
	t.len = l3->l4_len - thlen;
	t.vlan[0] = vlan[0];
	t.vlan[1] = vlan[1];
	/* XDP multi-buffer: the linear part is not the whole frame. */
	if (hook == DM_HOOK_XDP && t.off + t.len > p->len)
		p->len = bpf_xdp_get_buff_len(p->ctx);
	/* Frames shorter than their IP length (snaplen, bad fixtures) are read as far as they go.
	 */
	if (t.off >= p->len)
		t.len = 0;
	else if (t.len > p->len - t.off)
		t.len = p->len - t.off;
	idx = flow_hash(l3, t.sport, t.dport, vlan) & cfg.slots_mask;
	slot = bpf_map_lookup_elem(&dm_flows, &idx);
	if (!slot)
		goto other;
	side = slot_match(slot, l3, t.sport, t.dport, vlan);
	known = side >= 0;
	if (known) {
		t.side = side;
		if (fast_path(slot, &t)) {
			count_class(st,
				    slot->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS
									: DM_CLASS_DICOM,
				    p->len);
			return;
		}
	}
	/* Unknown and nothing spilled from this slot: no table to consult. */
	if (!known && !slot->spilled && !maybe_dicom(&t, payload, data_end))
		goto other;
	/*
	 * Off the bulk path: the slow path's arguments live in a per-CPU map,
	 * not on this frame, which heads the deepest call chain (512 bytes).
	 */
	args = bpf_map_lookup_elem(&dm_args, &zero);
	if (!args)
		goto other;
	__builtin_memset(&args->key, 0, sizeof(args->key));
	t.side = key_build(&args->key, l3, t.sport, t.dport, vlan);
	args->t = t;
	args->idx = idx;
	args->ifindex = p->ifindex;
	args->pkt_len = p->len;
	args->hook = p->hook;
	cls = DM_UNTRACKED;
	if (known || slot->spilled)
		cls = hook == DM_HOOK_XDP ? dm_slow_xdp(p->ctx, args) : dm_slow_tc(p->ctx, args);
	if (cls == DM_UNTRACKED) {
		if (!maybe_dicom(&t, payload, data_end))
			goto other;
		if (hook == DM_HOOK_XDP ? !dm_detect_xdp(p->ctx, args)
					: !dm_detect_tc(p->ctx, args))
			goto other;
		cls = hook == DM_HOOK_XDP ? dm_slow_xdp(p->ctx, args) : dm_slow_tc(p->ctx, args);
	}
	/* The verifier knows nothing of a global function's result: bound it here. */
	asm volatile("" : "+r"(cls));
	if (cls < DM_CLASS_MAX) {
		count_class(st, cls, p->len);
		return;
	}
other:
	count_class(st, DM_CLASS_TCP_OTHER, p->len);
}

/* Extension header walks, global so they are verified once (see parse_ip6hdr()). */
__noinline int dm_ip6_ext_xdp(struct xdp_md *ctx, __u32 off, __u32 next)
{
	return ip6_ext_walk(ctx, DM_HOOK_XDP, off, next);
}

__noinline int dm_ip6_ext_tc(struct __sk_buff *ctx, __u32 off, __u32 next)
{
	return ip6_ext_walk(ctx, DM_HOOK_TC_INGRESS, off, next);
}

static __always_inline int ip6_ext(struct dm_pkt *p, const __u8 hook, struct hdr_cursor *nh,
				   void *data, struct dm_l3 *l3)
{
	__u32 off = nh->pos - data;
	int r;

	r = hook == DM_HOOK_XDP ? dm_ip6_ext_xdp(p->ctx, off, l3->proto)
				: dm_ip6_ext_tc(p->ctx, off, l3->proto);
	if (r < 0)
		return r;
	/* Bounded for the verifier: the walk refuses more than DM_IP6_EXT_BYTES_MAX. */
	off = r & 0xffff;
	if (off > DM_IP6_EXT_BYTES_MAX || off > l3->l4_len)
		return -DM_ERR_IP6_TRUNC;
	nh->pos += off;
	l3->l4_len -= off;
	l3->proto = (r >> 16) & 0xff;
	l3->fragment = (r >> 24) & 1;
	return 0;
}

static __always_inline void dm_classify(struct dm_pkt *p, void *data, void *data_end,
					const __u8 hook)
{
	struct hdr_cursor nh = {.pos = data};
	struct dm_l3 l3 = {};
	struct tcphdr *th;
	struct dm_stats *st;
	__u16 vlan[2] = {};
	__u8 nvlan = 0;
	int proto, ret;

	st = stats_for(p->ifindex);
	if (!st)
		return;
	proto = parse_ethhdr(&nh, data_end, vlan, &nvlan);
	if (proto < 0) {
		count_err(st, proto);
		count_class(st, DM_CLASS_NON_IP, p->len);
		return;
	}
	/* A tag the NIC stripped was the outermost one. */
	if (p->hw_vlan) {
		vlan[1] = vlan[0];
		vlan[0] = p->hw_vlan;
		st->cnt[DM_CNT_VLAN_OFFLOAD]++;
	}
	if (proto == ETH_P_IP_BE)
		ret = parse_iphdr(&nh, data_end, &l3);
	else if (proto == ETH_P_IPV6_BE) {
		ret = parse_ip6hdr(&nh, data_end, &l3);
		if (!ret && ip6_is_ext(l3.proto))
			ret = ip6_ext(p, hook, &nh, data, &l3);
	} else {
		count_class(st, DM_CLASS_NON_IP, p->len);
		return;
	}
	if (ret) {
		count_err(st, ret);
		count_class(st, DM_CLASS_IP_OTHER, p->len);
		return;
	}
	if (l3.fragment) {
		st->cnt[DM_CNT_IP_FRAGMENT]++;
		count_class(st, DM_CLASS_IP_OTHER, p->len);
		return;
	}
	if (l3.proto != DM_IPPROTO_TCP) {
		count_class(st, DM_CLASS_IP_OTHER, p->len);
		return;
	}
	ret = parse_tcphdr(&nh, data_end, l3.l4_len, &th);
	if (ret < 0) {
		count_err(st, ret);
		count_class(st, DM_CLASS_TCP_OTHER, p->len);
		return;
	}
	classify_tcp(p, hook, st, &l3, vlan, th, ret, (void *)th - data, data_end);
}

SEC("xdp.frags")
int dicomon_xdp(struct xdp_md *ctx)
{
	struct dm_pkt p = {
	    .ctx = ctx,
	    .len = ctx->data_end - ctx->data, /* linear part; see classify_tcp() */
	    .ifindex = ctx->ingress_ifindex,
	    .hook = DM_HOOK_XDP,
	};

	dm_classify(&p, (void *)(long)ctx->data, (void *)(long)ctx->data_end, DM_HOOK_XDP);
	return XDP_PASS;
}

extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym __weak;

/*
 * The same classifier, loaded device-bound (one copy per interface) so it may
 * ask the driver for a VLAN tag stripped by RX offload.
 */
SEC("xdp.frags")
int dicomon_xdp_meta(struct xdp_md *ctx)
{
	struct dm_pkt p = {
	    .ctx = ctx,
	    .len = ctx->data_end - ctx->data, /* linear part; see classify_tcp() */
	    .ifindex = ctx->ingress_ifindex,
	    .hook = DM_HOOK_XDP,
	};
	__be16 proto;
	__u16 tci;

	if (bpf_xdp_metadata_rx_vlan_tag && !bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci))
		p.hw_vlan = tci & 0x0fff;
	dm_classify(&p, (void *)(long)ctx->data, (void *)(long)ctx->data_end, DM_HOOK_XDP);
	return XDP_PASS;
}

static __always_inline int tc_run(struct __sk_buff *skb, const __u8 hook)
{
	/* Ethernet, two tags, IPv6 + extensions, TCP: pull that much if it is not linear. */
	const __u32 want = 256;
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct dm_pkt p;

	if (data + want > data_end && skb->len > data_end - data)
		bpf_skb_pull_data(skb, skb->len < want ? skb->len : want);
	p.ctx = skb;
	p.len = skb->len;
	p.ifindex = skb->ifindex;
	p.hw_vlan = skb->vlan_present ? skb->vlan_tci & 0x0fff : 0;
	p.hook = hook;
	p.pad = 0;
	dm_classify(&p, (void *)(long)skb->data, (void *)(long)skb->data_end, hook);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int dicomon_tc_ingress(struct __sk_buff *skb)
{
	return tc_run(skb, DM_HOOK_TC_INGRESS);
}

SEC("tc")
int dicomon_tc_egress(struct __sk_buff *skb)
{
	return tc_run(skb, DM_HOOK_TC_EGRESS);
}
