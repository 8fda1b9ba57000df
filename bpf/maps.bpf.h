/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The classifier's configuration (.rodata, set by userspace before load), its
 * maps, and the small types its parts pass around.
 */
#ifndef __MAPS_BPF_H
#define __MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "dicomon.h"
#include "ctx.bpf.h"
#include "parsing.bpf.h"

#define DM_FLOW_SLOTS_DEFAULT 16384
#define DM_OVERFLOW_DEFAULT   4096
#define DM_CANDS_DEFAULT      4096
/*
 * Steps of the PDU walk through one segment, each a PDU header or an event
 * piece: a 64 KiB GSO segment (XDP multi-buffer: 69 KB) of the smallest PDUs
 * (10-byte A-RELEASE-RQ, 12-byte P-DATA) needs 6,900; the rest is margin.
 */
#define DM_WALK_STEPS (1 << 13)
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
    .wakeup_shift = 18,
    .any_port_rq = 1,
    .midstream = 1,
    .tls = 1,
    .dimse = 1,
    .vlan_key = 1,
    .n_web_ports = 3,
    .web_ports = {80, 8042, 8080},
    .cand_timeout_ns = 30 * NSEC_PER_SEC,
};

/*
 * `dicomon replay`'s batch (include/dicomon.h): frames in, and the clock.
 * Live, it is created with its header only and no program touches it (every
 * access is behind cfg.replay, a constant the verifier prunes on).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	/* Sizes, not BTF types: the daemon shrinks the value to its header. */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct dm_batch));
} dm_batch SEC(".maps");

/*
 * Per-load globals (.data.local: not pinned, each program's own), read and
 * written without a map lookup and the NULL check after it (that check alone
 * cost the verifier 12k instructions):
 * - replay's clock (the capture time + DM_REPLAY_EPOCH of the frame being run)
 *   and the events submitted in its batch;
 * - per CPU, the ring buffer's fill level (in wake-up marks) its last event
 *   saw (events.bpf.h, rb_wakeup()).
 */
#define DM_WAKE_CPUS 256 /* CPU ids past this share a level (a spare wake-up at worst) */
__u64 dm_replay_now SEC(".data.local") = 0;
__u32 dm_replay_events SEC(".data.local") = 0;
__u8 dm_wake_level[DM_WAKE_CPUS] SEC(".data.local") = {};

static __always_inline __u64 replay_ns(void)
{
	return dm_replay_now;
}

/*
 * Activity stamps (association start, last activity): the coarse clock (a
 * tick) live, where the fine one costs ~20 ns under a VM; in replay the
 * capture's, so that timeouts and rates run on the capture's time.
 */
static __always_inline __u64 activity_ns(void)
{
	if (cfg.replay)
		return replay_ns();
	return cfg.fine_clock ? bpf_ktime_get_ns() : bpf_ktime_get_coarse_ns();
}

/* Events carry the fine clock: they are rare, and their order and timing matter. */
static __always_inline __u64 event_ns(void)
{
	if (cfg.replay)
		return replay_ns();
	return bpf_ktime_get_ns();
}


/* Association ids; userspace seeds it so ids differ across loads. */
__u64 next_assoc_id = 1;

/*
 * The per-source limit (flow.bpf.h, src_allow()). In .data, not a map of its
 * own: state the loader already keeps (pinned, shared by reloaded programs).
 * Direct-mapped like dm_flows; an entry is taken over only once its source
 * has no debt left, so a flooding source keeps its entry (and its limit).
 */
struct dm_src dm_sources[DM_SOURCES] SEC(".data");

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

/* Candidates: flows whose first bytes could open an RQ or HTTP request, too few to say. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DM_CANDS_DEFAULT);
	__type(key, struct dm_flow_key);
	__type(value, struct dm_cand);
} dm_cands SEC(".maps");

/* Staging for a new candidate: too big for the stack of the functions that store one. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dm_cand);
} dm_cand_tmp SEC(".maps");

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

/*
 * Arguments of the slow path. Global functions are verified once, on their
 * own, which keeps the verifier's work linear; the price is that they take
 * only scalars, so the slow path looks the association up again. The caller
 * stages the arguments in dm_args and the global function looks them up
 * itself (slow_args()) rather than taking a pointer: before 6.2 the verifier
 * refuses a global function's pointer argument (PTR_TO_MEM) as a map key.
 */
/* Where a PDU walk through one segment is: scalars only, so that a global function may take them. */
struct walk_pos {
	__u32 seq; /* stream position of the first new byte in this segment */
	__u32 end; /* stream position one past the segment */
	__u32 off; /* packet offset of stream position seq */
	__u32 ifindex;
	__u8 dir;
	__u8 hook; /* enum dm_hook of the events (TC ingress or egress) */
	__u8 pad[2];
};

/* An IPv4 fragment of TCP, for the fragment functions (frag.bpf.h). */
struct dm_frag_args {
	__u32 saddr, daddr; /* network order */
	__u32 off;	    /* payload offset in the IP datagram, bytes */
	__u32 len;	    /* payload bytes in this fragment */
	__u32 thlen;	    /* first fragment: the TCP header's length */
	__u16 id;
	__u8 mf;
	__u8 pad;
};

struct dm_slow_args {
	struct dm_flow_key key;
	struct dm_seg t;
	__u32 idx; /* slot of the key in dm_flows */
	__u32 ifindex;
	__u32 pkt_len;
	__u8 hook; /* enum dm_hook, for events */
	__u8 pad[3];
	struct walk_pos pos;	 /* the walk the slow path leaves to its caller */
	struct dm_frag_args frag; /* the fragment at hand */
	__u8 frag_note;		 /* the segment came in IPv4 fragments: 1 placed, 2 some lost */
	__u8 pad2[7];
};

#define DM_UNTRACKED DM_CLASS_MAX /* slow path: no association for this packet */
/* Slow path's result flag: the segment needs a PDU walk, then dm_slow_end_*(). */
#define DM_SLOW_WALK 0x100

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dm_slow_args);
} dm_args SEC(".maps");

static __always_inline struct dm_slow_args *slow_args(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dm_args, &zero);
}

#endif /* __MAPS_BPF_H */
