// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The device-bound copy of dicomon's XDP program (one per interface whose
 * driver strips VLAN tags): the same classifier, plus the tag the NIC took
 * off, asked of the driver through bpf_xdp_metadata_rx_vlan_tag (6.8+).
 *
 * A separate object because libbpf resolves every kfunc an object declares
 * when it loads, whichever programs it loads: where vmlinux lacks the kfunc
 * (Debian 12's 6.1), libbpf 1.1 then searches the module BTFs, which needs
 * CAP_SYS_ADMIN, and fails with exactly CAP_BPF, CAP_NET_ADMIN and
 * CAP_PERFMON. The loader opens this object only where vmlinux has the kfunc;
 * every map is the main object's (bpf_map__reuse_fd).
 */
#include "classify.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
