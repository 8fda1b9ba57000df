/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Cursor-style, bounds-checked header parsers, one per layer, in the manner
 * of xdp-tutorial's parsing_helpers.h. Each takes the cursor, checks the
 * header against data_end before touching it, advances the cursor and
 * returns what the next layer needs, or a negative enum dm_err.
 *
 * Unlike some helpers this idea comes from, TCP advances by doff * 4 (options
 * skipped), IPv4 by ihl * 4 (options skipped) and IPv6 walks its extension
 * headers, a bounded number of them.
 */
#ifndef __PARSING_BPF_H
#define __PARSING_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dicomon.h"

#define ETH_P_IP_BE	bpf_htons(0x0800)
#define ETH_P_IPV6_BE	bpf_htons(0x86DD)
#define ETH_P_8021Q_BE	bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88A8)

#define DM_IPPROTO_HOPOPTS  0
#define DM_IPPROTO_TCP	    6
#define DM_IPPROTO_ROUTING  43
#define DM_IPPROTO_FRAGMENT 44
#define DM_IPPROTO_AH	    51
#define DM_IPPROTO_DSTOPTS  60
#define DM_IP6_EXT_MAX	    6 /* extension headers walked before giving up */

#define DM_TCP_FIN 0x01
#define DM_TCP_SYN 0x02
#define DM_TCP_RST 0x04

struct hdr_cursor {
	void *pos;
};

/* What the parsers learn about a packet on the way to its TCP payload. */
struct dm_l3 {
	const __u32 *saddr; /* into the packet: 1 word for IPv4, 4 for IPv6 */
	const __u32 *daddr;
	__u32 l4_len; /* bytes from the L4 header to the end of the IP payload */
	__u8 family;  /* 4 or 6 */
	__u8 proto;
	__u8 fragment; /* non-first fragment: no L4 header here */
	__u8 mf;       /* IPv4: more fragments follow */
	__u16 frag_off; /* IPv4: fragment offset, 8-byte units */
	__u16 ip_id;	/* IPv4: identification */
};

/*
 * Ethernet plus up to two VLAN tags (802.1ad outer, 802.1Q inner). Returns the
 * inner EtherType (network order) or a negative dm_err. vlan[] receives the ids
 * in the order they appear in the packet.
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end, __u16 vlan[2],
					__u8 *nvlan)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vh;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -DM_ERR_ETH_TRUNC;
	nh->pos = eth + 1;
	proto = eth->h_proto;
	*nvlan = 0;

	/* Two iterations, unrolled: the verifier sees straight-line code. */
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			return proto;
		vh = nh->pos;
		if ((void *)(vh + 1) > data_end)
			return -DM_ERR_VLAN_TRUNC;
		vlan[i] = bpf_ntohs(vh->h_vlan_TCI) & 0x0fff;
		*nvlan = i + 1;
		proto = vh->h_vlan_encapsulated_proto;
		nh->pos = vh + 1;
	}
	if (proto == ETH_P_8021Q_BE || proto == ETH_P_8021AD_BE)
		return -DM_ERR_VLAN_TOO_MANY;
	return proto;
}

/* IPv4 with options; non-first fragments are flagged, not parsed further. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, struct dm_l3 *l3)
{
	struct iphdr *iph = nh->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > data_end)
		return -DM_ERR_IP4_TRUNC;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (iph->version != 4 || hlen < sizeof(*iph) || tot < hlen)
		return -DM_ERR_IP4_BAD_HDR;
	/* hlen <= 60: a constant bound the verifier can follow. */
	if (nh->pos + hlen > data_end)
		return -DM_ERR_IP4_TRUNC;
	nh->pos += hlen;

	l3->family = 4;
	l3->proto = iph->protocol;
	l3->saddr = &iph->saddr;
	l3->daddr = &iph->daddr;
	l3->l4_len = tot - hlen;
	l3->frag_off = bpf_ntohs(iph->frag_off) & 0x1fff;
	l3->fragment = l3->frag_off != 0;
	l3->mf = (iph->frag_off & bpf_htons(0x2000)) != 0;
	l3->ip_id = bpf_ntohs(iph->id);
	return 0;
}

static __always_inline bool ip6_is_ext(__u8 next)
{
	return next == DM_IPPROTO_HOPOPTS || next == DM_IPPROTO_ROUTING ||
	       next == DM_IPPROTO_DSTOPTS || next == DM_IPPROTO_AH || next == DM_IPPROTO_FRAGMENT;
}

/*
 * IPv6 fixed header. Extension headers are left to ip6_ext_walk(): walking
 * them inline would give the verifier one program state per combination of
 * headers, for every path after it.
 */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end, struct dm_l3 *l3)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -DM_ERR_IP6_TRUNC;
	nh->pos = ip6h + 1;
	l3->family = 6;
	l3->saddr = (const __u32 *)&ip6h->saddr;
	l3->daddr = (const __u32 *)&ip6h->daddr;
	l3->proto = ip6h->nexthdr;
	l3->l4_len = bpf_ntohs(ip6h->payload_len);
	return 0;
}

#define DM_IP6_EXT_BYTES_MAX 1024 /* more extension bytes than this: not followed */

/*
 * Walk the extension headers (hop-by-hop, routing, destination options,
 * fragment, AH) that start at packet offset off, at most DM_IP6_EXT_MAX of
 * them. Returns (fragment << 24) | (next header << 16) | bytes walked, or a
 * negative dm_err.
 */
static __always_inline int ip6_ext_walk(void *ctx, const __u8 hook, __u32 off, __u8 next)
{
	__u32 used = 0, elen;
	__u8 h[4], frag = 0;
	int i;

	for (i = 0; i < DM_IP6_EXT_MAX; i++) {
		if (!ip6_is_ext(next))
			break;
		if (dm_load_bytes(ctx, hook, off + used, h, sizeof(h)))
			return -DM_ERR_IP6_TRUNC;
		if (next == DM_IPPROTO_FRAGMENT) {
			/* offset field: 13 bits above the 3 flag bits */
			if (((h[2] << 8) | h[3]) & 0xfff8)
				frag = 1;
			elen = 8;
		} else if (next == DM_IPPROTO_AH) {
			elen = (h[1] + 2) * 4; /* 4-byte words minus 2 */
		} else {
			elen = (h[1] + 1) * 8; /* 8-byte words minus 1 */
		}
		next = h[0];
		used += elen;
	}
	if (ip6_is_ext(next))
		return -DM_ERR_IP6_EXT_LIMIT;
	if (used > DM_IP6_EXT_BYTES_MAX)
		return -DM_ERR_IP6_EXT_LIMIT;
	return (frag << 24) | (next << 16) | used;
}

/*
 * TCP with options: the cursor advances by doff * 4. Returns the header length
 * or a negative dm_err.
 */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end, __u32 l4_len,
					struct tcphdr **tcph)
{
	struct tcphdr *h = nh->pos;
	__u32 len;

	if ((void *)(h + 1) > data_end)
		return -DM_ERR_TCP_TRUNC;
	len = h->doff * 4;
	if (len < sizeof(*h) || len > l4_len)
		return -DM_ERR_TCP_BAD_DOFF;
	/* Options are skipped, not read: no need to check them against data_end. */
	nh->pos += len;
	*tcph = h;
	return len;
}

#endif /* __PARSING_BPF_H */
