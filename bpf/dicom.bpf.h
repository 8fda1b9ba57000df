/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * DICOM Upper Layer and TLS recognisers: pure functions over a few bytes
 * already copied to the stack, so they cost nothing when a packet is not a
 * candidate. Wire facts: PS3.8 9.3 (see shared/dicom-wire.md sections 3-9)
 * and RFC 8446 4.1 for the hellos.
 */
#ifndef __DICOM_BPF_H
#define __DICOM_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "dicomon.h"
#include "ctx.bpf.h"

#define DM_RQ_MIN_LEN  68 /* fixed part of an A-ASSOCIATE-RQ/AC after the header */
#define DM_PDV_MIN_LEN 2  /* PC-ID and message control header */

static __always_inline __u32 be32(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

static __always_inline __u16 be16(const __u8 *p)
{
	return ((__u16)p[0] << 8) | p[1];
}

/*
 * Is h[0..5] a PDU header a peer could have sent? Type in 1..7 and a length
 * that fits the type: 4 for RJ/release/abort (their whole body), at least the
 * fixed part for RQ/AC, at least one PDV header for P-DATA, and never beyond
 * max_len. Returns 0 or a negative dm_err.
 */
static __always_inline int pdu_hdr_check(const __u8 *h, __u32 max_len)
{
	__u8 type = h[0];
	__u32 len = be32(h + 2);

	if (type == DM_PDU_INVALID || type >= DM_PDU_MAX)
		return -DM_ERR_PDU_BAD_TYPE;
	if (len > max_len)
		return -DM_ERR_PDU_BAD_LEN;
	switch (type) {
	case DM_PDU_ASSOC_RQ:
	case DM_PDU_ASSOC_AC:
		return len >= DM_RQ_MIN_LEN ? 0 : -DM_ERR_PDU_BAD_LEN;
	case DM_PDU_P_DATA:
		return len >= 4 + DM_PDV_MIN_LEN ? 0 : -DM_ERR_PDU_BAD_LEN;
	default:
		return len == 4 ? 0 : -DM_ERR_PDU_BAD_LEN;
	}
}

/*
 * The first PDV header of a P-DATA-TF (h[6..11]): item length covers at
 * least PC-ID and MCH and fits in the PDU, the PC-ID is odd and the MCH uses
 * only its two defined bits (PS3.8 E.2).
 */
static __always_inline int pdv_hdr_check(const __u8 *h)
{
	__u32 pdu_len = be32(h + 2);
	__u32 pdv_len = be32(h + 6);

	if (pdv_len < DM_PDV_MIN_LEN || pdv_len > pdu_len - 4)
		return -DM_ERR_PDV_BAD;
	if (!(h[10] & 1) || h[11] > 3)
		return -DM_ERR_PDV_BAD;
	return 0;
}

/*
 * A mid-stream pickup needs more evidence than an in-sync header: the
 * reserved byte must be zero as every implementation sends it, and a P-DATA
 * header must be followed by a sane PDV header.
 */
static __always_inline bool pdu_plausible(const __u8 *h, __u32 have, __u32 max_len)
{
	if (have < 6 || h[1] != 0 || pdu_hdr_check(h, max_len))
		return false;
	if (h[0] == DM_PDU_P_DATA)
		return have >= DM_HDR_BUF && !pdv_hdr_check(h);
	if (h[0] == DM_PDU_ASSOC_RQ || h[0] == DM_PDU_ASSOC_AC)
		return have >= 8 && (h[7] & 1);
	return true;
}

/*
 * A-ASSOCIATE-RQ at offset 0: type, reserved byte and protocol version bit 0.
 * Not the length: an RQ whose length lies (0, 0xFFFFFFFF) is still an RQ,
 * and its association says what is wrong (DM_AN_PDU_LENGTH).
 */
static __always_inline bool rq_header(const __u8 *h)
{
	return h[0] == DM_PDU_ASSOC_RQ && h[1] == 0 && (h[7] & 1);
}

/* AE titles (called, calling) in the default repertoire's printable range? */
static __always_inline bool ae_printable(const __u8 *ae)
{
	int i;

#pragma unroll
	for (i = 0; i < 2 * DM_ALEN; i++)
		if (ae[i] < 0x20 || ae[i] > 0x7e)
			return false;
	return true;
}

/* TLS record header + handshake type: 0x16, version 0x0300..0x0304, then type. */
static __always_inline bool tls_hello(const __u8 *h, __u8 hs_type)
{
	return h[0] == 0x16 && h[1] == 3 && h[2] <= 4 && h[5] == hs_type;
}

#define TLS_EXT_SUPPORTED_VERSIONS 0x002b
#define TLS_EXT_WALK_MAX	   32 /* extensions examined per hello */
#define TLS_VERSIONS_MAX	   8  /* versions examined in a client's list */

struct tls_walk {
	void *ctx;
	__u32 off;     /* packet offset of the next extension */
	__u32 end;     /* packet offset where the extensions end */
	__u16 version; /* result: highest offered / selected version */
	__u8 client;
};

/*
 * One extension per bpf_loop iteration: the callback is verified once, so
 * the walk costs the verifier nothing per extension.
 */
static __always_inline long tls_ext_step(struct tls_walk *w, const __u8 hook)
{
	__u8 b[1 + 2 * TLS_VERSIONS_MAX] = {};
	__u16 type, len, v;
	int i;

	if (w->off + 4 > w->end)
		return 1;
	if (dm_load_bytes(w->ctx, hook, w->off, b, 4))
		return 1;
	type = be16(b);
	len = be16(b + 2);
	if (type == TLS_EXT_SUPPORTED_VERSIONS) {
		if (!w->client) {
			if (len >= 2 && !dm_load_bytes(w->ctx, hook, w->off + 4, b, 2))
				w->version = be16(b);
			return 1;
		}
		/* Client: one length byte, then 2-byte versions; GREASE values skipped. */
		if (load_bounded(w->ctx, hook, w->off + 4, b, len < sizeof(b) ? len : sizeof(b),
				 sizeof(b)))
			return 1;
#pragma unroll
		for (i = 0; i < TLS_VERSIONS_MAX; i++) {
			if (2 * i + 2 > b[0])
				break;
			v = be16(b + 1 + 2 * i);
			if ((v & 0xff00) == 0x0300 && v <= 0x0304 && v > w->version)
				w->version = v;
		}
		return 1;
	}
	w->off += 4 + len;
	return 0;
}

static long tls_ext_cb_xdp(__u32 i, void *c)
{
	return tls_ext_step(c, DM_HOOK_XDP);
}

static long tls_ext_cb_tc(__u32 i, void *c)
{
	return tls_ext_step(c, DM_HOOK_TC_INGRESS);
}

/*
 * Version of a ClientHello (highest offered) or ServerHello (selected) whose
 * record starts at packet offset `off`: supported_versions if present, the
 * legacy_version otherwise. Returns 0 if the hello is malformed.
 */
static __always_inline __u16 tls_hello_version(struct dm_pkt *p, const __u8 hook, __u32 off,
					       __u32 end, bool client, __u16 *legacy)
{
	struct tls_walk w = {.ctx = p->ctx, .client = client};
	__u8 b[4];
	__u32 pos;

	/* record(5) + handshake header(4) + legacy_version(2) + random(32) */
	pos = off + 9;
	if (dm_load_bytes(p->ctx, hook, pos, b, 2))
		return 0;
	*legacy = be16(b);
	pos += 2 + 32;
	/* session id */
	if (dm_load_bytes(p->ctx, hook, pos, b, 1))
		return 0;
	pos += 1 + b[0];
	if (client) {
		/* cipher suites (2-byte length), compression methods (1-byte length) */
		if (dm_load_bytes(p->ctx, hook, pos, b, 2))
			return 0;
		pos += 2 + be16(b);
		if (dm_load_bytes(p->ctx, hook, pos, b, 1))
			return 0;
		pos += 1 + b[0];
	} else {
		pos += 3; /* selected cipher suite and compression method */
	}
	if (dm_load_bytes(p->ctx, hook, pos, b, 2))
		return *legacy; /* no extensions: TLS <= 1.2 */
	w.off = pos + 2;
	w.end = w.off + be16(b);
	if (w.end > end)
		w.end = end;
	if (hook == DM_HOOK_XDP)
		bpf_loop(TLS_EXT_WALK_MAX, tls_ext_cb_xdp, &w, 0);
	else
		bpf_loop(TLS_EXT_WALK_MAX, tls_ext_cb_tc, &w, 0);
	return w.version ? w.version : *legacy;
}

#endif /* __DICOM_BPF_H */
