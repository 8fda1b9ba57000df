/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The context shim: one classifier, two hooks. Each program entry point fills
 * a struct dm_pkt from its own context and passes its hook as a constant, so
 * that the verifier (and clang, where it inlines) keeps only the branch of
 * dm_load_bytes() that the program type is allowed to call.
 */
#ifndef __CTX_BPF_H
#define __CTX_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "dicomon.h"

struct dm_pkt {
	void *ctx; /* struct xdp_md * or struct __sk_buff * */
	__u32 len; /* whole frame, fragments/non-linear part included */
	__u32 ifindex;
	__u16 hw_vlan; /* tag stripped by the NIC (0 = none) */
	__u8 hook;     /* enum dm_hook */
	__u8 pad;
};

/*
 * Payload bytes are read with the load_bytes helpers rather than direct
 * packet access: they accept variable offsets without verifier gymnastics and
 * also reach XDP fragments and the non-linear part of an skb.
 */
static __always_inline long dm_load_bytes(void *ctx, __u8 hook, __u32 off, void *buf, __u32 len)
{
	if (hook == DM_HOOK_XDP)
		return bpf_xdp_load_bytes(ctx, off, buf, len);
	return bpf_skb_load_bytes(ctx, off, buf, len);
}

/*
 * dm_load_bytes() with a variable length: the verifier needs 1 <= len <= max
 * proven on the very register passed to the helper, and clang likes to fold
 * range checks into arithmetic on a copy. The empty asm statements stop it.
 * The lower bound is a signed comparison: clang turns an unsigned len < 1
 * into len == 0, from which verifiers before 6.8 learn no minimum.
 */
static __always_inline long load_bounded(void *ctx, const __u8 hook, __u32 off, void *dst,
					 __u32 len, const __u32 max)
{
	asm volatile("" : "+r"(len));
	if (len > max)
		return -1;
	asm volatile("" : "+r"(len));
	if ((__s32)len < 1)
		return -1;
	return dm_load_bytes(ctx, hook, off, dst, len);
}

/*
 * x & mask as an instruction clang cannot drop: it removes a mask it can
 * prove redundant from an earlier range check, and verifiers before 6.8 often
 * cannot follow such a check to the register that indexes an array. Use it
 * for every array index derived from packet bytes.
 */
static __always_inline __u64 dm_mask(__u64 x, const __u64 mask)
{
	asm volatile("%[x] &= %[m]" : [x] "+r"(x) : [m] "i"(mask));
	return x;
}

#endif /* __CTX_BPF_H */
