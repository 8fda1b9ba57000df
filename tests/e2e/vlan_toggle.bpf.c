// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Test helper for tests/e2e/test_vlan.sh: emulates 802.1Q links with RX/TX
 * VLAN offload on kernels without 802.1Q devices. Attached (clsact,
 * direct-action) on ingress and egress of every veth end:
 *   - a frame carrying an out-of-band tag (skb->vlan_tci) is untagged,
 *   - any other frame gets VLAN 100 pushed.
 * On an untagged skb, bpf_skb_vlan_push() only sets the hw-accel tag, and veth
 * (NETIF_F_HW_VLAN_CTAG_TX) keeps it out of band across the pair: to the peer
 * it looks exactly like a tag the NIC stripped on receive.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TOGGLE_VLAN_ID	   100
#define TOGGLE_ETH_P_8021Q 0x8100

SEC("tc")
int vlan_toggle(struct __sk_buff *skb)
{
	if (skb->vlan_present)
		bpf_skb_vlan_pop(skb);
	else
		bpf_skb_vlan_push(skb, bpf_htons(TOGGLE_ETH_P_8021Q), TOGGLE_VLAN_ID);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
