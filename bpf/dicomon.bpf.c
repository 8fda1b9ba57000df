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
