/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * IPv4 fragments of TCP: the first fragment carries the TCP header and the
 * start of the payload, the later ones the rest without a header. The first
 * is classified as a segment and leaves, in dm_frags (keyed by addresses and
 * IP id), where its datagram's payload sits in the stream; each later
 * fragment that comes in order is then classified as the segment of stream
 * bytes it holds, so an A-ASSOCIATE-RQ sent in fragments is recognised and
 * decoded as the receiver reassembles it. What cannot be placed (a later
 * fragment before the first, out of order, or overlapping) is counted, and
 * its association, where known, is told (DM_AF_IP_FRAG_LOST and a
 * DM_AN_IP_FRAGMENT anomaly with value 0: decode incomplete). IPv6
 * fragments are counted only.
 */
#ifndef __FRAG_BPF_H
#define __FRAG_BPF_H

#include "stream.bpf.h"

#define DM_FRAGS_MAX 1024

struct dm_frag_key {
	__u32 saddr, daddr; /* network order */
	__u16 id;
	__u8 proto;
	__u8 pad;
};

struct dm_frag {
	__u32 base;	/* stream position of the datagram's payload offset 0 */
	__u32 next_off; /* payload offset where the next in-order fragment starts */
	__u32 ack;
	__u16 sport, dport;
	__u8 first; /* the first fragment (with the TCP header) was seen */
	__u8 lost;  /* a fragment of it could not be placed */
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DM_FRAGS_MAX);
	__type(key, struct dm_frag_key);
	__type(value, struct dm_frag);
} dm_frags SEC(".maps");

/* Results of dm_frag_*(). */
enum {
	DM_FRAG_NONE = 0, /* nothing known of its flow */
	DM_FRAG_PLACED,	  /* in order: args->t holds the segment it is */
	DM_FRAG_LOST,	  /* its flow is known (args->t ports), its bytes cannot be placed */
};
/*
 * Or'ed into a result: a dm_frags entry was inserted / deleted. The fragment
 * functions have no counters of their own (global, no interface): their
 * caller counts, so that inserts - removals - entries = the LRU's evictions.
 */
#define DM_FRAG_INSERTED 0x10
#define DM_FRAG_REMOVED	 0x20
#define DM_FRAG_RESULT	 0x0f

static __always_inline void frag_key(struct dm_frag_key *k, const struct dm_frag_args *f)
{
	k->saddr = f->saddr;
	k->daddr = f->daddr;
	k->id = f->id;
	k->proto = DM_IPPROTO_TCP;
	k->pad = 0;
}

/* The first fragment, already classified as a segment (args->t, args->frag). */
static __always_inline int frag_first(void)
{
	struct dm_slow_args *args = slow_args();
	struct dm_frag_key k;
	struct dm_frag v = {}, *e;
	int ins = 0;

	if (!args)
		return DM_FRAG_NONE;
	frag_key(&k, &args->frag);
	e = bpf_map_lookup_elem(&dm_frags, &k);
	/* Later fragments that came first: their bytes are gone. */
	v.lost = e && !e->first;
	v.first = 1;
	v.base = args->t.seq - args->frag.thlen;
	v.next_off = args->frag.thlen + args->frag.len;
	v.ack = args->t.ack;
	v.sport = args->t.sport;
	v.dport = args->t.dport;
	/* An entry found is replaced in place (not an insert); a new one may fail. */
	if (e)
		bpf_map_update_elem(&dm_frags, &k, &v, BPF_ANY);
	else if (!bpf_map_update_elem(&dm_frags, &k, &v, BPF_NOEXIST))
		ins = DM_FRAG_INSERTED;
	return (v.lost ? DM_FRAG_LOST : DM_FRAG_PLACED) | ins;
}

/* A later fragment (args->frag): the segment of stream bytes it holds, if in order. */
static __always_inline int frag_next(void)
{
	struct dm_slow_args *args = slow_args();
	struct dm_frag_key k;
	struct dm_frag v = {}, *e;

	if (!args)
		return DM_FRAG_NONE;
	frag_key(&k, &args->frag);
	e = bpf_map_lookup_elem(&dm_frags, &k);
	if (!e) {
		/* Before its first fragment: remember, so the first one knows. */
		v.lost = 1;
		if (bpf_map_update_elem(&dm_frags, &k, &v, BPF_NOEXIST))
			return DM_FRAG_NONE;
		return DM_FRAG_NONE | DM_FRAG_INSERTED;
	}
	if (!e->first)
		return DM_FRAG_NONE;
	args->t.sport = e->sport;
	args->t.dport = e->dport;
	if (args->frag.off != e->next_off) {
		e->lost = 1;
		return DM_FRAG_LOST;
	}
	args->t.seq = e->base + args->frag.off;
	args->t.ack = e->ack;
	args->t.flags = 0x10; /* ACK: the first fragment's flags are that segment's */
	args->t.len = args->frag.len;
	e->next_off += args->frag.len;
	if (!args->frag.mf && !bpf_map_delete_elem(&dm_frags, &k))
		return DM_FRAG_PLACED | DM_FRAG_REMOVED;
	return DM_FRAG_PLACED;
}

__noinline int dm_frag_first(void)
{
	return frag_first();
}

__noinline int dm_frag_next(void)
{
	return frag_next();
}

/*
 * Tell an association its data came in IPv4 fragments: DM_AF_IP_FRAG and an
 * anomaly the first time (value 1: placed in the stream), DM_AF_IP_FRAG_LOST
 * and another the first time bytes could not be placed (value 0).
 */
static __always_inline void frag_tell(struct dm_stats *st, struct dm_assoc *a, __u8 dir,
				      __u32 ifindex, __u8 hook, bool placed)
{
	__u8 flag = placed ? DM_AF_IP_FRAG : DM_AF_IP_FRAG_LOST;

	if (a->flags & flag)
		return;
	a->flags |= flag | DM_AF_IP_FRAG;
	emit_anomaly(st, a, dir, ifindex, hook, DM_AN_IP_FRAGMENT, placed ? 1 : 0,
		     dir_state(a, dir)->bytes);
}

/* A fragment that could not be placed, of the flow staged in args (key, idx). */
__noinline int dm_frag_lost(void)
{
	struct dm_slow_args *args = slow_args();
	struct dm_pkt p = {};
	struct dm_assoc *slot, *a;
	struct dm_stats *st;

	if (!args)
		return 0;
	slot = args_slot(NULL, args, &p, &st);
	if (!slot)
		return 0;
	a = args_assoc(slot, args);
	if (a)
		frag_tell(st, a, args->t.side == a->init_side ? DM_DIR_ORIG : DM_DIR_REPLY,
			  args->ifindex, args->hook, false);
	return 0;
}

#endif /* __FRAG_BPF_H */
