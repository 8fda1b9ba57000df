/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * dicomon's classifier: one body of code, built into the XDP and TC programs
 * of dicomon.bpf.c and the device-bound XDP copy of dicomon_meta.bpf.c
 * through the context shim in ctx.bpf.h. Its entry is dm_classify().
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
 */
#ifndef __CLASSIFY_BPF_H
#define __CLASSIFY_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dicomon.h"
#include "ctx.bpf.h"
#include "parsing.bpf.h"
#include "dicom.bpf.h"
#include "stream.bpf.h"
#include "cand.bpf.h"
#include "frag.bpf.h"

/* detect()'s answer when the segment went into a candidate (no association yet). */
#define DM_DETECT_HELD ((struct dm_assoc *)1)

/*
 * The first bytes of an unknown flow, fewer than decide an RQ: held as a
 * candidate if they could begin one. Returns whether they were.
 */
static __always_inline bool rq_candidate(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
					 struct dm_assoc *slot, const struct dm_flow_key *k,
					 const struct dm_seg *t, bool on_port)
{
	__u8 b[DM_CAND_BYTES] = {};

	if (load_bounded(p->ctx, hook, t->off, b, t->len, DM_RQ_DECIDE - 1) ||
	    !rq_prefix_ok(b, t->len, on_port))
		return false;
	cand_store(st, slot, k, t, DM_CAND_RQ, b, t->len, 0);
	return true;
}

/*
 * The first bytes of an RQ, fewer than decide, whose rest was lost (IP
 * fragments that came before their first): an association if they are
 * consistent with an RQ (off DICOM ports at least its header and version,
 * on them its type is enough: fragments sent backwards are themselves the
 * evasion to report); its record says the set-up could not be decoded whole.
 */
static __always_inline struct dm_assoc *rq_short(struct dm_pkt *p, const __u8 hook,
						 struct dm_stats *st, struct dm_assoc *slot,
						 const struct dm_flow_key *k, const struct dm_seg *t,
						 bool on_port)
{
	__u8 b[DM_CAND_BYTES] = {};

	if (t->len < (on_port ? 1 : 8) ||
	    load_bounded(p->ctx, hook, t->off, b, t->len, DM_RQ_DECIDE - 1) ||
	    !rq_prefix_ok(b, t->len, on_port))
		return NULL;
	return rq_assoc(p, st, slot, k, t->side, 0, t->seq, t->ack);
}

/*
 * A segment of a flow we do not track: is it the start of an association?
 * Returns the new association, NULL (then the packet is plain TCP), or
 * DM_DETECT_HELD when its bytes went into a candidate.
 */
static __always_inline struct dm_assoc *detect(struct dm_pkt *p, const __u8 hook,
					       struct dm_stats *st, struct dm_assoc *slot,
					       const struct dm_flow_key *k, const struct dm_seg *t,
					       __u8 frag_note)
{
	__u64 now;
	bool sdicom, ddicom;
	struct dm_assoc *a;
	__u8 h[DM_HDR_BUF] = {}, ae[2 * DM_ALEN], init_side;
	__u32 have;
	__u16 legacy = 0;

	sdicom = port_is_dicom(t->sport);
	ddicom = port_is_dicom(t->dport);
	/*
	 * Too few bytes to say whether an RQ begins here: a candidate, if they
	 * could; unless they are the first fragment of a datagram whose later
	 * fragments came first and are gone: then what is there decides.
	 */
	if (t->len < DM_RQ_DECIDE && (cfg.any_port_rq || sdicom || ddicom)) {
		if (frag_note == 2)
			return rq_short(p, hook, st, slot, k, t, sdicom || ddicom);
		if (cfg.cand_timeout_ns && rq_candidate(p, hook, st, slot, k, t, sdicom || ddicom))
			return DM_DETECT_HELD;
	}
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

	/* An A-ASSOCIATE-RQ opens every DICOM association, on whatever port. */
	if (rq_header(h) && (cfg.any_port_rq || sdicom || ddicom)) {
		__u8 flags = 0;

		if (t->len < 10 + sizeof(ae) ||
		    dm_load_bytes(p->ctx, hook, t->off + 10, ae, sizeof(ae)))
			return NULL;
		if (!ae_printable(ae)) {
			/*
			 * Off the DICOM ports, garbage AE titles mean it is not DICOM;
			 * on them, garbage AE titles and a length that lies too (the
			 * middle of a stream that happens to start 01 00).
			 */
			if ((!sdicom && !ddicom) || pdu_hdr_check(h, cfg.max_pdu_len)) {
				st->cnt[DM_CNT_RQ_NOT_PRINTABLE]++;
				return NULL;
			}
			flags = DM_AF_AE_ODD;
		}
		return rq_assoc(p, st, slot, k, t->side, flags, t->seq, t->ack);
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
		now = activity_ns();
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
		now = activity_ns();
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
static __always_inline int detect_global(void *ctx, const __u8 hook)
{
	struct dm_slow_args *args = slow_args();
	struct dm_pkt p = {};
	struct dm_assoc *slot, *a;
	struct dm_stats *st;

	if (!args)
		return 0;
	slot = args_slot(ctx, args, &p, &st);
	if (!slot)
		return 0;
	a = detect(&p, hook, st, slot, &args->key, &args->t, args->frag_note);
	return a == DM_DETECT_HELD ? 2 : a != NULL;
}

__noinline int dm_detect_xdp(struct xdp_md *ctx)
{
	return detect_global(ctx, DM_HOOK_XDP);
}

__noinline int dm_detect_tc(struct __sk_buff *ctx)
{
	return detect_global(ctx, DM_HOOK_TC_INGRESS);
}

/*
 * An HTTP request on a web port (DM_EV_HTTP). Global like detection: the
 * 1 KiB variable-length copy is verified once, off the hot call chain.
 */
static __always_inline int http_global(void *ctx, const __u8 hook)
{
	struct dm_slow_args *args = slow_args();
	struct dm_pkt p = {};
	struct dm_assoc *slot;
	struct dm_stats *st;
	struct dm_seg *t;
	__u8 b[DM_CAND_BYTES] = {}, tail[4];
	__u32 n;

	if (!args)
		return 0;
	t = &args->t;
	slot = args_slot(ctx, args, &p, &st);
	if (!slot)
		return 0;
	n = t->len < 4 ? t->len : 4;
	if (load_bounded(ctx, hook, t->off, b, n, 4) || !http_prefix_ok(b, n))
		return 0;
	if (n < 4) {
		/* A method cut short: held until its next bytes say. */
		if (cfg.cand_timeout_ns)
			cand_store(st, slot, &args->key, t, DM_CAND_HTTP, b, n, 0);
		return 0;
	}
	st->cnt[DM_CNT_HTTP_REQUESTS]++;
	n = emit_http_seg(ctx, hook, st, &args->key, t->side, args->ifindex, args->hook, t->off,
			  t->len, 0);
	/*
	 * Its next segments too, up to DM_HTTP_SNAP bytes of the request, unless
	 * this one ends the header (CRLF CRLF): a request line cut short must
	 * not hide its query.
	 */
	if (!cfg.cand_timeout_ns || !n || n >= DM_HTTP_SNAP || (t->flags & (DM_TCP_FIN | DM_TCP_RST)))
		return 0;
	if (t->len >= 4 && !dm_load_bytes(ctx, hook, t->off + t->len - 4, tail, 4) &&
	    tail[0] == '\r' && tail[1] == '\n' && tail[2] == '\r' && tail[3] == '\n')
		return 0;
	cand_store(st, slot, &args->key, t, DM_CAND_HTTP_SHIP, NULL, 0, n);
	return 0;
}

__noinline int dm_http_xdp(struct xdp_md *ctx)
{
	return http_global(ctx, DM_HOOK_XDP);
}

__noinline int dm_http_tc(struct __sk_buff *ctx)
{
	return http_global(ctx, DM_HOOK_TC_INGRESS);
}

/*
 * Everything but in-order payload of a known association: detection, the
 * first segments, PDU headers, retransmissions, gaps, FIN and RST. Returns
 * the packet's class.
 */
static __always_inline int slow_path(void *ctx, const __u8 hook)
{
	struct dm_slow_args *args = slow_args();
	struct dm_pkt p = {};
	struct dm_assoc *slot, *a = NULL;
	struct dm_seg *t;
	struct dm_stats *st;
	__u64 now;
	__u8 dir;

	if (!args)
		return DM_CLASS_TCP_OTHER;
	t = &args->t;
	slot = args_slot(ctx, args, &p, &st);
	if (!slot)
		return DM_CLASS_TCP_OTHER;
	a = args_assoc(slot, args);
	if (!a)
		return DM_UNTRACKED;
	/*
	 * Activity needs no precision, and the fine clock costs ~20 ns under a VM:
	 * the coarse one (a tick) stamps activity, events read the fine one.
	 */
	now = activity_ns();
	a->last_ns = now;
	dir = t->side == a->init_side ? DM_DIR_ORIG : DM_DIR_REPLY;
	if (args->frag_note)
		frag_tell(st, a, dir, p.ifindex, p.hook, args->frag_note == 1);
	dir_state(a, dir)->pkts++;
	dir_state(a, dir)->vlan[0] = t->vlan[0];
	dir_state(a, dir)->vlan[1] = t->vlan[1];
	/* FIN and RST wait for the walk: the segment's PDUs come before the end. */
	if (t->len && track_payload(&p, hook, st, a, dir, t, &args->pos))
		return DM_SLOW_WALK;
	if (t->flags & (DM_TCP_FIN | DM_TCP_RST))
		return track_close(&p, st, a, slot, dir, t->flags);
	return a->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS : DM_CLASS_DICOM;
}

__noinline int dm_slow_xdp(struct xdp_md *ctx)
{
	return slow_path(ctx, DM_HOOK_XDP);
}

__noinline int dm_slow_tc(struct __sk_buff *ctx)
{
	return slow_path(ctx, DM_HOOK_TC_INGRESS);
}

/* After the walk a slow path asked for, when the segment has FIN or RST: the walk's limit, then the end. */
static __always_inline int slow_end(void *ctx)
{
	struct dm_slow_args *args = slow_args();
	struct dm_pkt p = {};
	struct dm_assoc *slot, *a = NULL;
	struct dm_stats *st;
	__u8 dir;

	if (!args)
		return DM_CLASS_TCP_OTHER;
	slot = args_slot(ctx, args, &p, &st);
	if (!slot)
		return DM_CLASS_TCP_OTHER;
	a = args_assoc(slot, args);
	if (!a)
		return DM_CLASS_DICOM; /* closed on another CPU meanwhile */
	walk_done(st, a, &args->pos);
	dir = args->pos.dir;
	if (args->t.flags & (DM_TCP_FIN | DM_TCP_RST))
		return track_close(&p, st, a, slot, dir, args->t.flags);
	return a->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS : DM_CLASS_DICOM;
}

__noinline int dm_slow_end_xdp(struct xdp_md *ctx)
{
	return slow_end(ctx);
}

__noinline int dm_slow_end_tc(struct __sk_buff *ctx)
{
	return slow_end(ctx);
}

/*
 * The PDU walk a slow path asked for (DM_SLOW_WALK), run here in the
 * program's main function (see segment_walk()), then the slow path's end.
 * Returns the packet's class.
 */
static __always_inline __u32 slow_walk(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
				       struct dm_slow_args *args, struct dm_assoc *slot)
{
	struct dm_assoc *a = args_assoc(slot, args);

	if (!a)
		return DM_CLASS_DICOM; /* closed on another CPU meanwhile */
	segment_walk(p->ctx, hook, a, st, &args->pos);
	/* FIN and RST (rare) end in a global function: the main function stays small. */
	if (args->t.flags & (DM_TCP_FIN | DM_TCP_RST))
		return hook == DM_HOOK_XDP ? dm_slow_end_xdp(p->ctx) : dm_slow_end_tc(p->ctx);
	walk_done(st, a, &args->pos);
	return a->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS : DM_CLASS_DICOM;
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
		a->last_ns = activity_ns();
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
	if (port_is_dicom(t->sport) || port_is_dicom(t->dport)) {
		/*
		 * On a DICOM port detect() takes a PDU header (type 1..7, reserved
		 * byte 0: an RQ, a candidate, a mid-stream pickup) or a TLS record
		 * (16 03), nothing else: a bulk stream that is not DICOM (random
		 * bytes) leaves here on its first two bytes instead of paying the
		 * global function and its helper reads on every segment.
		 */
		if (t->len < 2 || (void *)(payload + 2) > data_end)
			return true;
		if (payload[1] == 0)
			return payload[0] - 1u < DM_PDU_MAX - 1u;
		return payload[0] == 0x16 && payload[1] == 3;
	}
	if (!cfg.any_port_rq)
		return false;
	if ((void *)(payload + 1) > data_end)
		return true; /* beyond the linear part: detect() reads it with a helper */
	if (payload[0] != DM_PDU_ASSOC_RQ)
		return false;
	/* The byte after a 1-byte payload is padding, not payload. */
	if (t->len < 2 || (void *)(payload + 2) > data_end)
		return true;
	return payload[1] == 0;
}

/*
 * Could this segment of an unknown flow be an HTTP request to a web port?
 * The destination port first (a few compares against .rodata), then the
 * method when its bytes are in the linear part; beyond it the global
 * function reads them.
 */
static __always_inline bool maybe_http(const struct dm_seg *t, const __u8 *payload, void *data_end)
{
	__u32 i, n = cfg.n_web_ports;
	bool web = false;

	if (!t->len || (t->flags & (DM_TCP_SYN | DM_TCP_RST)))
		return false;
	/* Most payloads fail on their first byte: GET, POST, PUT, HEAD, DELETE. */
	if ((void *)(payload + 1) <= data_end && payload[0] != 'G' && payload[0] != 'P' &&
	    payload[0] != 'H' && payload[0] != 'D')
		return false;
	for (i = 0; i < DM_WEB_PORTS; i++) {
		if (i >= n)
			break;
		if (cfg.web_ports[i] == t->dport) {
			web = true;
			break;
		}
	}
	if (!web)
		return false;
	if (t->len < 4 || (void *)(payload + 4) > data_end)
		return true; /* the global function decides (a candidate, if cut short) */
	return http_method(payload);
}

/* After the slow path: the association again (it may have just been created), then its frame. */
static __always_inline void evidence_after_slow(const struct dm_pkt *p, const __u8 hook,
						struct dm_stats *st, const struct dm_l3 *l3,
						const struct dm_seg *t, const __u16 vlan[2],
						__u32 idx, const struct dm_flow_key *key)
{
	struct dm_assoc *a = bpf_map_lookup_elem(&dm_flows, &idx);

	if (!a)
		return;
	if (slot_match(a, l3, t->sport, t->dport, vlan) < 0)
		a = a->spilled ? bpf_map_lookup_elem(&dm_overflow, key) : NULL;
	if (a && a->key.family)
		emit_packet(p, hook, st, a, t->side);
}

/* A segment of TCP payload (a TCP segment, or an IPv4 fragment placed in its stream). */
static __always_inline void classify_seg(struct dm_pkt *p, const __u8 hook, struct dm_stats *st,
					 const struct dm_l3 *l3, const __u16 vlan[2],
					 struct dm_seg *t, const __u8 *payload, void *data_end,
					 __u8 frag_note)
{
	struct dm_slow_args *args;
	struct dm_assoc *slot;
	__u32 cls, idx, zero = 0;
	int side, r;
	bool known, pending;

	idx = flow_hash(l3, t->sport, t->dport, vlan) & cfg.slots_mask;
	slot = bpf_map_lookup_elem(&dm_flows, &idx);
	if (!slot)
		goto other;
	side = slot_match(slot, l3, t->sport, t->dport, vlan);
	known = side >= 0;
	if (known) {
		t->side = side;
		if (fast_path(slot, t)) {
			count_class(st,
				    slot->transport == DM_TRANSPORT_TLS ? DM_CLASS_DICOM_TLS
									: DM_CLASS_DICOM,
				    p->len);
			if (cfg.evidence_pkts)
				emit_packet(p, hook, st, slot, side);
			return;
		}
	}
	/* Unknown, nothing spilled from this slot, no candidate: no table to consult. */
	pending = !known && cand_pending(slot);
	if (!known && !slot->spilled && !pending && !maybe_dicom(t, payload, data_end))
		goto web;
	/*
	 * Off the bulk path: the slow path's arguments live in a per-CPU map,
	 * not on this frame, which heads the deepest call chain (512 bytes).
	 */
	args = bpf_map_lookup_elem(&dm_args, &zero);
	if (!args)
		goto other;
	__builtin_memset(&args->key, 0, sizeof(args->key));
	t->side = key_build(&args->key, l3, t->sport, t->dport, vlan);
	args->t = *t;
	args->idx = idx;
	args->ifindex = p->ifindex;
	args->pkt_len = p->len;
	args->hook = p->hook;
	args->frag_note = frag_note;
	cls = DM_UNTRACKED;
	if (known || slot->spilled)
		cls = hook == DM_HOOK_XDP ? dm_slow_xdp(p->ctx) : dm_slow_tc(p->ctx);
	if (cls == DM_UNTRACKED && pending) {
		r = hook == DM_HOOK_XDP ? dm_cand_xdp(p->ctx) : dm_cand_tc(p->ctx);
		if (r == DM_CAND_HELD)
			goto other;
		if (r == DM_CAND_PROMOTED)
			cls = hook == DM_HOOK_XDP ? dm_slow_xdp(p->ctx) : dm_slow_tc(p->ctx);
	}
	if (cls == DM_UNTRACKED) {
		if (!maybe_dicom(t, payload, data_end))
			goto web;
		r = hook == DM_HOOK_XDP ? dm_detect_xdp(p->ctx) : dm_detect_tc(p->ctx);
		if (r == 2)
			goto other; /* held as a candidate */
		if (r != 1)
			goto web; /* not DICOM: an HTTP request, perhaps */
		cls = hook == DM_HOOK_XDP ? dm_slow_xdp(p->ctx) : dm_slow_tc(p->ctx);
	}
	if (cls == DM_SLOW_WALK)
		cls = slow_walk(p, hook, st, args, slot);
	/* The verifier knows nothing of a global function's result: bound it here. */
	asm volatile("" : "+r"(cls));
	if (cls < DM_CLASS_MAX) {
		count_class(st, cls, p->len);
		if (cfg.evidence_pkts && (cls == DM_CLASS_DICOM || cls == DM_CLASS_DICOM_TLS))
			evidence_after_slow(p, hook, st, l3, t, vlan, idx, &args->key);
		return;
	}
	goto other;
web:
	/* Not DICOM, not tracked: an HTTP request to a web port is an event (rule 11). */
	if (maybe_http(t, payload, data_end)) {
		args = bpf_map_lookup_elem(&dm_args, &zero);
		if (args) {
			__builtin_memset(&args->key, 0, sizeof(args->key));
			t->side = key_build(&args->key, l3, t->sport, t->dport, vlan);
			args->t = *t;
			args->idx = idx;
			args->ifindex = p->ifindex;
			args->pkt_len = p->len;
			args->hook = p->hook;
			if (hook == DM_HOOK_XDP)
				dm_http_xdp(p->ctx);
			else
				dm_http_tc(p->ctx);
		}
	}
other:
	count_class(st, DM_CLASS_TCP_OTHER, p->len);
}

/*
 * Stage the flow key and slot of a segment for a global function that must
 * find its association (the fragment functions).
 */
static __always_inline struct dm_slow_args *stage_flow(const struct dm_pkt *p,
							const struct dm_l3 *l3,
							const __u16 vlan[2], struct dm_seg *t)
{
	struct dm_slow_args *args = slow_args();

	if (!args)
		return NULL;
	__builtin_memset(&args->key, 0, sizeof(args->key));
	t->side = key_build(&args->key, l3, t->sport, t->dport, vlan);
	args->t = *t;
	args->idx = flow_hash(l3, t->sport, t->dport, vlan) & cfg.slots_mask;
	args->ifindex = p->ifindex;
	args->pkt_len = p->len;
	args->hook = p->hook;
	return args;
}

/*
 * The first fragment of a TCP datagram (before it is classified): where the
 * rest of its payload goes. Returns its frag_note (2: later fragments came
 * first and are lost).
 */
static __always_inline __u8 frag_first_seen(struct dm_stats *st, const struct dm_l3 *l3,
					    const struct dm_seg *t, __u32 thlen)
{
	struct dm_slow_args *args = slow_args();
	int r;

	if (!args)
		return 1;
	args->frag.saddr = l3->saddr[0];
	args->frag.daddr = l3->daddr[0];
	args->frag.id = l3->ip_id;
	args->frag.thlen = thlen;
	args->frag.len = t->len;
	args->frag.off = 0;
	args->frag.mf = 1;
	args->t.seq = t->seq;
	args->t.ack = t->ack;
	args->t.sport = t->sport;
	args->t.dport = t->dport;
	st->cnt[DM_CNT_IP_FRAG_FIRST]++;
	r = dm_frag_first();
	if (r & DM_FRAG_INSERTED)
		st->cnt[DM_CNT_FRAG_NEW]++;
	return (r & DM_FRAG_RESULT) == DM_FRAG_PLACED ? 1 : 2;
}

/*
 * A later IPv4 fragment of TCP: the segment of stream bytes it holds, in t,
 * when it comes in order after its first fragment. Returns DM_FRAG_PLACED
 * (classify t), DM_FRAG_LOST (its association was told) or DM_FRAG_NONE.
 */
static __always_inline int frag_later(struct dm_pkt *p, struct dm_stats *st,
				      const struct dm_l3 *l3, const __u16 vlan[2], __u32 off,
				      struct dm_seg *t)
{
	struct dm_slow_args *args = slow_args();
	int r;

	if (!args || off >= p->len)
		return DM_FRAG_NONE;
	args->frag.saddr = l3->saddr[0];
	args->frag.daddr = l3->daddr[0];
	args->frag.id = l3->ip_id;
	args->frag.off = (__u32)l3->frag_off * 8;
	args->frag.len = l3->l4_len < p->len - off ? l3->l4_len : p->len - off;
	args->frag.mf = l3->mf;
	args->frag.thlen = 0;
	r = dm_frag_next();
	if (r & DM_FRAG_INSERTED)
		st->cnt[DM_CNT_FRAG_NEW]++;
	if (r & DM_FRAG_REMOVED)
		st->cnt[DM_CNT_FRAG_REMOVED]++;
	r &= DM_FRAG_RESULT;
	if (r == DM_FRAG_NONE)
		return r;
	t->seq = args->t.seq;
	t->ack = args->t.ack;
	t->sport = args->t.sport;
	t->dport = args->t.dport;
	t->flags = args->t.flags;
	t->len = args->t.len;
	t->off = off;
	t->vlan[0] = vlan[0];
	t->vlan[1] = vlan[1];
	if (r == DM_FRAG_LOST && stage_flow(p, l3, vlan, t))
		dm_frag_lost();
	return r;
}

/* The segment a TCP header starts, in t. */
static __always_inline void tcp_seg(struct dm_pkt *p, const __u8 hook, const struct dm_l3 *l3,
				    const __u16 vlan[2], const struct tcphdr *th, __u32 thlen,
				    __u32 l4_off, struct dm_seg *t)
{
	t->seq = bpf_ntohl(th->seq);
	t->ack = bpf_ntohl(th->ack_seq);
	t->sport = bpf_ntohs(th->source);
	t->dport = bpf_ntohs(th->dest);
	t->flags = ((__u8 *)th)[13];
	t->off = l4_off + thlen;
	t->len = l3->l4_len - thlen;
	t->vlan[0] = vlan[0];
	t->vlan[1] = vlan[1];
	/* XDP multi-buffer: the linear part is not the whole frame. */
	if (hook == DM_HOOK_XDP && t->off + t->len > p->len)
		p->len = bpf_xdp_get_buff_len(p->ctx);
	/* Frames shorter than their IP length (snaplen, bad fixtures) are read as far as they go. */
	if (t->off >= p->len)
		t->len = 0;
	else if (t->len > p->len - t->off)
		t->len = p->len - t->off;
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
	const __u8 *payload;
	struct tcphdr *th;
	struct dm_stats *st;
	struct dm_seg t = {};
	__u16 vlan[2] = {};
	__u32 thlen = 0;
	__u8 nvlan = 0, note = 0;
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
	if (l3.proto != DM_IPPROTO_TCP) {
		count_class(st, DM_CLASS_IP_OTHER, p->len);
		return;
	}
	if (l3.fragment) {
		/* No TCP header: only an IPv4 fragment that comes in order is a segment. */
		if (l3.family != 4 ||
		    frag_later(p, st, &l3, vlan, nh.pos - data, &t) != DM_FRAG_PLACED) {
			st->cnt[DM_CNT_IP_FRAGMENT]++;
			count_class(st, DM_CLASS_IP_OTHER, p->len);
			return;
		}
		payload = nh.pos;
		note = 1;
		st->cnt[DM_CNT_IP_FRAG_PLACED]++;
	} else {
		ret = parse_tcphdr(&nh, data_end, l3.l4_len, &th);
		if (ret < 0) {
			count_err(st, ret);
			count_class(st, DM_CLASS_TCP_OTHER, p->len);
			return;
		}
		thlen = ret;
		tcp_seg(p, hook, &l3, vlan, th, thlen, (void *)th - data, &t);
		payload = (const __u8 *)th + thlen;
	}
	/* A first fragment: where the rest of its datagram goes. */
	if (l3.mf && !l3.fragment && l3.family == 4)
		note = frag_first_seen(st, &l3, &t, thlen);
	classify_seg(p, hook, st, &l3, vlan, &t, payload, data_end, note);
}

#endif /* __CLASSIFY_BPF_H */
