/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The association table: counters of the packet's interface, the normalised
 * key, the slot of a packet's flow in the direct-mapped array, and where a new
 * association is stored (its slot, or the LRU overflow table).
 */
#ifndef __FLOW_BPF_H
#define __FLOW_BPF_H

#include "events.bpf.h"

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
	/*
	 * 6.1 and 6.12 know nothing of the upper half after a 32-bit negation
	 * (w2 = -w2), and a 32-bit bound check leaves the index unbounded as a
	 * pointer offset: a 64-bit mask bounds it.
	 */
	__u64 e = dm_mask((__u32)-neg_err, 0xff);

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
 * May the initiator on key side `side` open another flow (an association or
 * an RQ candidate)? A GCRA per source address (dm_sources): one new flow
 * per src_interval_ns on average, src_tolerance_ns of credit for a burst;
 * one u64 per source and no division, where a token bucket needs a count,
 * a stamp and a division per refill. Over the budget: refused (counted), so
 * a flood from one source cannot take the slots and overflow entries of the
 * others. The entry's address is compared: another source hashing there
 * while the occupant still has debt is let through unlimited (counted), so
 * a flooder keeps its own limit and never takes a budget from anyone. Two
 * CPUs updating one entry at once may let a flow or two more through.
 */
static __always_inline struct dm_src *src_entry(const __u32 *ad)
{
	__u32 h = (ad[0] ^ cfg.hash_seed) * 0x9e3779b1 ^ ad[1] * 0x85ebca77 ^
		  ad[2] * 0xc2b2ae3d ^ ad[3] * 0x27d4eb2f;

	/* The mask bounds the index for the verifier. */
	return &dm_sources[(h ^ (h >> 16)) & (DM_SOURCES - 1)];
}

static __always_inline bool src_is(const struct dm_src *s, __u32 family, const __u32 *ad)
{
	return s->family == family && s->addr[0] == ad[0] && s->addr[1] == ad[1] &&
	       s->addr[2] == ad[2] && s->addr[3] == ad[3];
}

/* SRC_REFUSED, SRC_FREE (allowed, charged to nobody) or SRC_CHARGED (allowed, paid for). */
#define SRC_REFUSED 0
#define SRC_FREE    1
#define SRC_CHARGED 2
static __always_inline int src_allow(struct dm_stats *st, const struct dm_flow_key *k, __u8 side,
				     __u64 now)
{
	const __u32 *ad = side ? k->addr[1] : k->addr[0];
	struct dm_src *s;
	__u64 tat;

	if (!cfg.src_interval_ns)
		return SRC_FREE;
	s = src_entry(ad);
	if (!src_is(s, k->family, ad)) {
		if (s->family && s->tat > now) {
			st->cnt[DM_CNT_SRC_UNTRACKED]++;
			return SRC_FREE;
		}
		__builtin_memcpy(s->addr, ad, sizeof(s->addr));
		s->family = k->family;
		s->refused = 0;
		s->tat = now + cfg.src_interval_ns;
		st->cnt[DM_CNT_SRC_NEW]++;
		return SRC_CHARGED;
	}
	tat = s->tat > now ? s->tat : now;
	if (tat - now > cfg.src_tolerance_ns) {
		s->refused++;
		st->cnt[DM_CNT_SRC_LIMITED]++;
		return SRC_REFUSED;
	}
	s->tat = tat + cfg.src_interval_ns;
	return SRC_CHARGED;
}

/*
 * The acceptor answered (A-ASSOCIATE-AC or -RJ, a TLS ServerHello): the flow
 * is no longer half-open, so its charge goes back to its initiator. What the
 * limit bounds is then the rate of *unanswered* new flows: a busy modality
 * or router whose every association is answered at once never runs into it,
 * however many it opens; a source of half-open RQs runs into it at once.
 */
static __always_inline void src_refund(struct dm_stats *st, struct dm_assoc *a)
{
	const __u32 *ad;
	struct dm_src *s;

	if (!(a->flags & DM_AF_SRC_CHARGED))
		return;
	a->flags &= ~DM_AF_SRC_CHARGED;
	ad = a->init_side ? a->key.addr[1] : a->key.addr[0];
	s = src_entry(ad);
	if (!src_is(s, a->key.family, ad))
		return;
	__sync_fetch_and_sub(&s->tat, cfg.src_interval_ns);
	st->cnt[DM_CNT_SRC_REFUNDED]++;
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
	__u16 mark;
	__u8 spilled;

	int charge = SRC_CHARGED;

	/* A promoted candidate was charged when it was stored. */
	if (!(flags & DM_AF_CANDIDATE))
		charge = src_allow(st, k, init_side, now);
	if (charge == SRC_REFUSED)
		return NULL;
	if (charge == SRC_CHARGED && cfg.src_interval_ns)
		flags |= DM_AF_SRC_CHARGED;
	if (slot->key.family && now - slot->last_ns < cfg.idle_reclaim_ns) {
		a = bpf_map_lookup_elem(&dm_scratch, &zero);
		if (!a)
			goto fail;
		assoc_init(a, k, p, init_side, transport, state, flags | DM_AF_OVERFLOW, now);
		if (bpf_map_update_elem(&dm_overflow, k, a, BPF_NOEXIST))
			goto fail;
		/* Every insert counted, so that inserts - removals - entries = evictions. */
		st->cnt[DM_CNT_FLOW_OVERFLOW]++;
		if (slot->spilled < 255)
			slot->spilled++;
		a = bpf_map_lookup_elem(&dm_overflow, k);
		if (!a)
			goto fail;
		st->cnt[DM_CNT_FLOW_INSERT]++;
		return a;
	}
	if (slot->key.family) {
		emit_flow_end(p, st, slot, DM_END_EVICT);
		st->assoc[DM_ASSOC_EVICTED]++;
		st->cnt[DM_CNT_FLOW_EVICT]++;
	}
	spilled = slot->spilled;
	mark = slot->cand_mark;
	assoc_init(slot, k, p, init_side, transport, state, flags, now);
	slot->spilled = spilled;
	slot->cand_mark = mark;
	st->cnt[DM_CNT_FLOW_INSERT]++;
	return slot;
fail:
	st->cnt[DM_CNT_FLOW_INSERT_FAIL]++;
	return NULL;
}

/*
 * A new cleartext association opened by an A-ASSOCIATE-RQ: the requestor's
 * stream from orig_seq, the acceptor's from reply_seq (the RQ's
 * acknowledgement number), both synchronised on a PDU header.
 */
static __always_inline struct dm_assoc *rq_assoc(const struct dm_pkt *p, struct dm_stats *st,
						 struct dm_assoc *slot, const struct dm_flow_key *k,
						 __u8 init_side, __u8 flags, __u32 orig_seq,
						 __u32 reply_seq)
{
	struct dm_assoc *a;

	a = flow_create(p, st, slot, k, init_side, DM_TRANSPORT_CLEARTEXT, DM_STATE_REQUESTED,
			flags, activity_ns());
	if (!a)
		return NULL;
	st->assoc[DM_ASSOC_NEW_CLEARTEXT]++;
	a->dir[DM_DIR_ORIG].next_seq = orig_seq;
	a->dir[DM_DIR_ORIG].hdr_seq = orig_seq;
	a->dir[DM_DIR_ORIG].flags = DM_DF_SEEN | DM_DF_SYNCED;
	a->dir[DM_DIR_REPLY].next_seq = reply_seq;
	a->dir[DM_DIR_REPLY].hdr_seq = reply_seq;
	a->dir[DM_DIR_REPLY].flags = DM_DF_SEEN | DM_DF_SYNCED;
	return a;
}

/*
 * A global function's packet, counters and slot, from what the caller
 * staged in dm_args. NULL when a lookup fails.
 */
static __always_inline struct dm_assoc *args_slot(void *ctx, const struct dm_slow_args *args,
						  struct dm_pkt *p, struct dm_stats **st)
{
	__u32 idx = args->idx;

	p->ctx = ctx;
	p->len = args->pkt_len;
	p->ifindex = args->ifindex;
	p->hook = args->hook;
	*st = stats_for(args->ifindex);
	if (!*st)
		return NULL;
	return bpf_map_lookup_elem(&dm_flows, &idx);
}

/* The association of the flow staged in args, in its slot or spilled; NULL if none. */
static __always_inline struct dm_assoc *args_assoc(struct dm_assoc *slot,
						   const struct dm_slow_args *args)
{
	if (key_eq(&slot->key, &args->key))
		return slot;
	return slot->spilled ? bpf_map_lookup_elem(&dm_overflow, &args->key) : NULL;
}

static __always_inline void flow_delete(struct dm_stats *st, struct dm_assoc *a,
					struct dm_assoc *slot)
{
	struct dm_flow_key k;

	if (a->flags & DM_AF_OVERFLOW) {
		__builtin_memcpy(&k, &a->key, sizeof(k));
		if (!bpf_map_delete_elem(&dm_overflow, &k))
			st->cnt[DM_CNT_OVERFLOW_REMOVED]++;
		if (slot && slot->spilled)
			slot->spilled--;
		return;
	}
	/* family 0 marks the slot free; the rest is rewritten on reuse. */
	a->key.family = 0;
}

#endif /* __FLOW_BPF_H */
