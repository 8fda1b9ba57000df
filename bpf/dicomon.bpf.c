// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dicomon's programs: the classifier (classify.bpf.h) on XDP and on TC ingress
 * and egress. The device-bound XDP copy that reads VLAN tags stripped by the
 * NIC is its own object, dicomon_meta.bpf.c: its kfunc must not be resolved
 * where the kernel lacks it (see there).
 *
 * Nothing here drops or rewrites a packet: XDP returns XDP_PASS and TC
 * returns TC_ACT_UNSPEC so other programs on the hook still run.
 */
#include "classify.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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

/*
 * `dicomon replay`: the same classifier over a batch of capture frames per
 * BPF_PROG_TEST_RUN (one kernel entry for up to DM_BATCH_FRAMES frames
 * instead of one each). Userspace puts the frames in dm_batch (mmap); each is
 * copied into the test run's own packet, whose end is first moved to the
 * frame's (bpf_xdp_adjust_tail), so the classifier sees exactly the frame,
 * as dicomon_xdp would have: same packet bounds, same helpers, same hook.
 * A frame too long for the test run's page runs on its own, as the test
 * run's packet (b->direct). Its clock is the frame's capture time.
 */
static __always_inline struct dm_batch *batch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dm_batch, &zero);
}

/* Frame f of the batch into the test run's packet. */
static __always_inline int batch_load(struct xdp_md *ctx, struct dm_batch *b,
				      const struct dm_batch_frame *f)
{
	__u32 off = f->off, len = f->len;
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 have = data_end - data;

	if (off >= DM_BATCH_BYTES || len < 14 || len > DM_BATCH_FRAME_MAX)
		return DM_BATCH_EBAD;
	asm volatile("" : "+r"(have)); /* a scalar: no arithmetic on packet pointers */
	if (bpf_xdp_adjust_tail(ctx, (int)len - have))
		return DM_BATCH_EROOM;
	off = dm_mask(off, DM_BATCH_BYTES - 1);
	asm volatile("" : "+r"(len));
	if (len > DM_BATCH_FRAME_MAX || (__s32)len < 1)
		return DM_BATCH_EBAD;
	if (bpf_xdp_store_bytes(ctx, 0, &b->data[off], len))
		return DM_BATCH_EROOM;
	return 0;
}

/* Frame i into the test run's packet (unless it is the packet: direct). */
__noinline int dm_replay_load(struct xdp_md *ctx, __u32 i)
{
	struct dm_batch *b = batch();

	if (!b)
		return DM_BATCH_EBAD;
	if (b->direct)
		return 0;
	return batch_load(ctx, b, &b->f[dm_mask(i, DM_BATCH_FRAMES - 1)]);
}

/*
 * Frame i, in the test run's packet, through the classifier as dicomon_xdp
 * runs it. A function of its own, entered in one state: the verifier walks
 * the classifier once, as it does for dicomon_xdp.
 */
__noinline int dm_replay_frame(struct xdp_md *ctx, __u32 i)
{
	struct dm_batch *b = batch();
	struct dm_batch_frame *f;
	void *data, *data_end;
	struct dm_pkt p = {};

	if (!b)
		return DM_BATCH_EBAD;
	f = &b->f[dm_mask(i, DM_BATCH_FRAMES - 1)];
	dm_replay_now = f->now_ns;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	p.ctx = ctx;
	p.len = data_end - data; /* linear part; see classify_tcp() */
	p.ifindex = ctx->ingress_ifindex;
	p.hook = DM_HOOK_XDP;
	dm_classify(&p, data, data_end, DM_HOOK_XDP);
	f->events = dm_replay_events;
	return 0;
}

/*
 * The batch's loop: a bounded loop over the two global functions (a few
 * instructions per iteration to verify), not bpf_loop: its callback would be
 * one more frame on the call chain, and 6.1 counts each at 32 bytes at least
 * against its 512 (this one, dm_replay_frame's classifier, dm_slow_xdp and the
 * TLS walk's callback come to exactly 512 there).
 */
SEC("xdp.frags")
int dicomon_replay(struct xdp_md *ctx)
{
	struct dm_batch *b = batch();
	__u32 i, n;
	int err = 0;

	if (!b)
		return XDP_ABORTED;
	n = b->n;
	dm_replay_events = 0;
	for (i = 0; i < DM_BATCH_FRAMES; i++) {
		if (i >= n)
			break;
		/*
		 * Drained between batches: a batch stops once the ring holds a
		 * quarter (the wake-up mark), so that no frame meets a fuller ring
		 * than it would have alone, where evidence frames give way (over
		 * half full).
		 */
		if (bpf_ringbuf_query(&dm_events, BPF_RB_AVAIL_DATA) > cfg.wakeup_bytes) {
			err = DM_BATCH_EFULL;
			break;
		}
		err = dm_replay_load(ctx, i);
		if (!err)
			err = dm_replay_frame(ctx, i);
		if (err)
			break;
	}
	b = batch();
	if (b) {
		b->done = i;
		b->err = err;
	}
	return XDP_PASS;
}
