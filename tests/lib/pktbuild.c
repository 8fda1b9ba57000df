/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Packet and PDU builders for tests; see pktbuild.h. Every builder appends
 * through a bounded cursor (struct wb) that latches an overflow flag instead
 * of writing past cap, and patches length fields once the body is known, so
 * no builder needs to precompute its own size.
 */
/* strnlen, inet_pton even under -std=c11 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "pktbuild.h"

struct wb {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int bad;
};

static uint8_t *wb_take(struct wb *w, size_t n)
{
	uint8_t *p;

	if (w->bad || n > w->cap - w->len) {
		w->bad = 1;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_be(struct wb *w, uint32_t v, int n)
{
	uint8_t *p = wb_take(w, n);

	while (p && n--)
		*p++ = (uint8_t)(v >> (8 * n));
}

static void put_le(struct wb *w, uint32_t v, int n)
{
	uint8_t *p = wb_take(w, n);

	for (int i = 0; p && i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put8(struct wb *w, uint8_t v)
{
	put_be(w, v, 1);
}

static void put16(struct wb *w, uint16_t v)
{
	put_be(w, v, 2);
}

static void put32(struct wb *w, uint32_t v)
{
	put_be(w, v, 4);
}

static void put_mem(struct wb *w, const void *src, size_t n)
{
	uint8_t *p = n ? wb_take(w, n) : NULL;

	if (p)
		memcpy(p, src, n);
}

static void put_fill(struct wb *w, uint8_t c, size_t n)
{
	uint8_t *p = n ? wb_take(w, n) : NULL;

	if (p)
		memset(p, c, n);
}

/* Length fields are patched after the fact; a field too small for the value is an error. */
static void patch_be(struct wb *w, size_t off, uint32_t v, int n)
{
	if (w->bad)
		return;
	if (n < 4 && v >> (8 * n)) {
		w->bad = 1;
		return;
	}
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		w->buf[off + i] = (uint8_t)v;
}

static size_t wb_done(struct wb *w)
{
	return w->bad ? 0 : w->len;
}

/* RFC 1071 sum, big-endian words; callers only split sums at even offsets. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---- Ethernet / IP / L4 ------------------------------------------------ */

static const char *addr_or_default(const char *a, int family, int dst)
{
	if (a)
		return a;
	if (family == 6)
		return dst ? "fd00::2" : "fd00::1";
	return dst ? "10.0.0.2" : "10.0.0.1";
}

static const uint8_t mac_dst[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0, 0x01};

#define IP4_ID	    0x1234
#define IP6_FRAG_ID 0x12345678
/* Linux: 64240 in a SYN, then 502 scaled by the SYN's WS=7 (64256 bytes). */
#define TCP_WINDOW_SYN 64240
#define TCP_WINDOW     502

static void put_ip6_ext(struct wb *w, unsigned int ext, uint8_t nh, const uint8_t *dst,
			const struct pkt_spec *s)
{
	put8(w, nh);
	switch (ext) {
	case PKT_IP6_HOPOPTS:
		put8(w, 0);
		put8(w, 1); /* PadN covering the remaining 4 bytes */
		put8(w, 4);
		put_fill(w, 0, 4);
		break;
	case PKT_IP6_ROUTING:
		/* SRH (RFC 8754) with Segments Left 0: nothing to process, but 24 bytes to skip. */
		put8(w, 2);
		put8(w, 4);
		put8(w, 0);  /* segments left */
		put8(w, 0);  /* last entry */
		put8(w, 0);  /* flags */
		put16(w, 0); /* tag */
		put_mem(w, dst, 16);
		break;
	case PKT_IP6_DSTOPTS:
		put8(w, 1);
		put8(w, 1);
		put8(w, 12);
		put_fill(w, 0, 12);
		break;
	case PKT_IP6_FRAG:
		put8(w, 0);
		put16(w, (uint16_t)(s->ip6_frag_off << 3 | (s->ip6_mf ? 1 : 0)));
		put32(w, IP6_FRAG_ID);
		break;
	}
}

static void put_tcp_opts(struct wb *w, int kind, uint8_t flags)
{
	uint32_t tsval = 0x0000a000, tsecr = (flags & PKT_TCP_ACK) ? 0x00009000 : 0;

	if (kind == 1) {
		/* Linux's SYN option order. */
		put8(w, 2), put8(w, 4), put16(w, 1460);
		put8(w, 4), put8(w, 2);
		put8(w, 8), put8(w, 10), put32(w, tsval), put32(w, tsecr);
		put8(w, 1);
		put8(w, 3), put8(w, 3), put8(w, 7);
	} else if (kind == 2) {
		put8(w, 1), put8(w, 1);
		put8(w, 8), put8(w, 10), put32(w, tsval), put32(w, tsecr);
	}
}

size_t pkt_build(uint8_t *out, size_t cap, const struct pkt_spec *s, const void *payload,
		 size_t plen)
{
	static const unsigned int ext_order[] = {PKT_IP6_HOPOPTS, PKT_IP6_ROUTING, PKT_IP6_DSTOPTS,
						 PKT_IP6_FRAG};
	static const uint8_t ext_proto[] = {0, 43, 60, 44};
	struct wb w = {out, cap, 0, 0};
	uint8_t saddr[16], daddr[16], flags = s->tcp_flags, proto, chain[4];
	int v6 = s->family == 6, alen = v6 ? 16 : 4, nchain = 0;
	size_t l3, l4, end, ck_off = 0;
	uint32_t sum;

	if ((s->family != 4 && s->family != 6) || s->nvlan < 0 || s->nvlan > 2 ||
	    s->ip4_opts_len < 0 || s->ip4_opts_len > 40 || s->ip4_opts_len % 4 || s->tcp_opts < 0 ||
	    s->tcp_opts > 2)
		return 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr_or_default(s->src, s->family, 0), saddr) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, addr_or_default(s->dst, s->family, 1), daddr) != 1)
		return 0;

	proto = s->proto ? s->proto : 6;
	if (proto == 1 && v6)
		proto = 58;
	if (proto == 6 && !flags)
		flags = plen ? PKT_TCP_ACK | PKT_TCP_PSH : PKT_TCP_ACK;

	put_mem(&w, mac_dst, 6);
	put_mem(&w, mac_src, 6);
	for (int i = 0; i < s->nvlan; i++) {
		uint16_t tpid = i == 0 && s->vlan_tpid_outer ? s->vlan_tpid_outer : 0x8100;

		put16(&w, tpid);
		put16(&w, s->vlan[i] & 0x0fff);
	}
	put16(&w, v6 ? 0x86dd : 0x0800);

	l3 = w.len;
	if (!v6) {
		uint16_t frag = (uint16_t)((s->ip4_mf ? 0x2000 : 0) | (s->ip4_frag & 0x1fff));

		put8(&w, (uint8_t)(0x40 | (5 + s->ip4_opts_len / 4)));
		put8(&w, 0);
		put16(&w, 0); /* total length */
		put16(&w, IP4_ID);
		put16(&w, frag ? frag : 0x4000); /* DF: Linux does PMTU discovery */
		put8(&w, 64);
		put8(&w, proto);
		put16(&w, 0); /* checksum */
		put_mem(&w, saddr, 4);
		put_mem(&w, daddr, 4);
		if (s->ip4_opts_len) {
			put_fill(&w, 1, (size_t)s->ip4_opts_len - 1);
			put8(&w, 0);
		}
	} else {
		for (int i = 0; i < 4; i++)
			if (s->ip6_ext & ext_order[i])
				chain[nchain++] = (uint8_t)i;
		put32(&w, 0x60000000);
		put16(&w, 0); /* payload length */
		put8(&w, nchain ? ext_proto[chain[0]] : proto);
		put8(&w, 64);
		put_mem(&w, saddr, 16);
		put_mem(&w, daddr, 16);
		for (int i = 0; i < nchain; i++)
			put_ip6_ext(&w, ext_order[chain[i]],
				    i + 1 < nchain ? ext_proto[chain[i + 1]] : proto, daddr, s);
	}

	l4 = w.len;
	if (proto == 6) {
		int olen = s->tcp_opts == 1 ? 20 : s->tcp_opts == 2 ? 12 : 0;

		put16(&w, s->sport);
		put16(&w, s->dport);
		put32(&w, s->seq);
		put32(&w, s->ack);
		put8(&w, (uint8_t)((20 + olen) / 4) << 4);
		put8(&w, flags);
		put16(&w, flags & PKT_TCP_SYN ? TCP_WINDOW_SYN : TCP_WINDOW);
		put16(&w, 0); /* checksum */
		put16(&w, 0); /* urgent pointer */
		put_tcp_opts(&w, s->tcp_opts, flags);
		ck_off = l4 + 16;
	} else if (proto == 17) {
		put16(&w, s->sport);
		put16(&w, s->dport);
		put16(&w, 0); /* length */
		put16(&w, 0); /* checksum */
		ck_off = l4 + 6;
	} else if (proto == 1 || proto == 58) {
		put8(&w, proto == 1 ? 8 : 128); /* echo request */
		put8(&w, 0);
		put16(&w, 0);	   /* checksum */
		put16(&w, 0x4242); /* identifier */
		put16(&w, 1);	   /* sequence */
		ck_off = l4 + 2;
	}
	if (payload)
		put_mem(&w, payload, plen);
	else
		put_fill(&w, 0, plen);
	end = w.len;
	if (w.bad || end - l3 > 65535)
		return 0;

	if (!v6) {
		patch_be(&w, l3 + 2, (uint32_t)(end - l3), 2);
		patch_be(&w, l3 + 10, csum_fold(csum_add(0, out + l3, l4 - l3)), 2);
	} else {
		patch_be(&w, l3 + 4, (uint32_t)(end - l3 - 40), 2);
	}
	if (proto == 17)
		patch_be(&w, l4 + 4, (uint32_t)(end - l4), 2);
	if (!ck_off)
		return wb_done(&w);

	/* Pseudo-header (RFC 793 / RFC 8200 8.1); ICMPv4 has none. */
	sum = 0;
	if (proto != 1) {
		sum = csum_add(sum, saddr, (size_t)alen);
		sum = csum_add(sum, daddr, (size_t)alen);
		sum += proto + (uint32_t)(end - l4);
	}
	sum = csum_fold(csum_add(sum, out + l4, end - l4));
	if (proto == 17 && !sum)
		sum = 0xffff; /* 0 means "no checksum" in UDP */
	patch_be(&w, ck_off, sum, 2);
	return wb_done(&w);
}

size_t pkt_build_arp(uint8_t *out, size_t cap)
{
	static const uint8_t spa[4] = {10, 0, 0, 1}, tpa[4] = {10, 0, 0, 2};
	struct wb w = {out, cap, 0, 0};

	put_fill(&w, 0xff, 6);
	put_mem(&w, mac_src, 6);
	put16(&w, 0x0806);
	put16(&w, 1); /* Ethernet */
	put16(&w, 0x0800);
	put8(&w, 6);
	put8(&w, 4);
	put16(&w, 1); /* request */
	put_mem(&w, mac_src, 6);
	put_mem(&w, spa, 4);
	put_fill(&w, 0, 6);
	put_mem(&w, tpa, 4);
	put_fill(&w, 0, 60 - 42);
	return wb_done(&w);
}

void pkt_flow_init(struct pkt_flow *f, const struct pkt_spec *tmpl)
{
	f->spec = *tmpl;
	f->next_seq[0] = tmpl->seq;
	f->next_seq[1] = tmpl->ack;
}

size_t pkt_flow_next(struct pkt_flow *f, int from_server, uint8_t flags, uint8_t *out, size_t cap,
		     const void *payload, size_t plen)
{
	struct pkt_spec s = f->spec;
	int d = from_server ? 1 : 0;
	size_t n;

	if (!flags)
		flags = plen ? PKT_TCP_ACK | PKT_TCP_PSH : PKT_TCP_ACK;
	if (d) {
		s.src = addr_or_default(f->spec.dst, s.family, 1);
		s.dst = addr_or_default(f->spec.src, s.family, 0);
		s.sport = f->spec.dport;
		s.dport = f->spec.sport;
	}
	s.proto = 6;
	s.tcp_flags = flags;
	s.seq = f->next_seq[d];
	s.ack = (flags & PKT_TCP_ACK) ? f->next_seq[!d] : 0;
	if (flags & PKT_TCP_SYN)
		s.tcp_opts = 1;
	n = pkt_build(out, cap, &s, payload, plen);
	if (n)
		f->next_seq[d] +=
		    (uint32_t)plen + !!(flags & PKT_TCP_SYN) + !!(flags & PKT_TCP_FIN);
	return n;
}

/* ---- DICOM Upper Layer ------------------------------------------------- */

static size_t pdu_begin(struct wb *w, uint8_t type)
{
	size_t off = w->len;

	put8(w, type);
	put8(w, 0);
	put32(w, 0);
	return off;
}

static size_t pdu_end(struct wb *w, size_t off)
{
	patch_be(w, off + 2, (uint32_t)(w->len - off - 6), 4);
	return wb_done(w);
}

static size_t item_begin(struct wb *w, uint8_t type)
{
	size_t off = w->len;

	put8(w, type);
	put8(w, 0);
	put16(w, 0);
	return off;
}

static void item_end(struct wb *w, size_t off)
{
	patch_be(w, off + 2, (uint32_t)(w->len - off - 4), 2);
}

/* UIDs and names in UL items go out exactly as given: no even-length padding (PS3.5 9.1). */
static void put_item_str(struct wb *w, uint8_t type, const char *str)
{
	size_t off = item_begin(w, type);

	put_mem(w, str, strlen(str));
	item_end(w, off);
}

static void put_ae16(struct wb *w, const char *ae)
{
	size_t n = ae ? strnlen(ae, 16) : 0;

	put_mem(w, ae, n);
	put_fill(w, ' ', 16 - n);
}

static void assoc_head(struct wb *w, const char *called, const char *calling)
{
	put16(w, 0x0001); /* protocol version 1 */
	put16(w, 0);
	put_ae16(w, called);
	put_ae16(w, calling);
	put_fill(w, 0, 32);
	put_item_str(w, 0x10, PDU_UID_APP_CTX);
}

static void user_info(struct wb *w, uint32_t max_len, const char *uid, const char *ver)
{
	size_t off = item_begin(w, 0x50), sub = item_begin(w, 0x51);

	put32(w, max_len);
	item_end(w, sub);
	put_item_str(w, 0x52, uid);
	if (ver)
		put_item_str(w, 0x55, ver);
	item_end(w, off);
}

size_t pdu_assoc_rq(uint8_t *out, size_t cap, const char *called, const char *calling,
		    const struct pdu_pc *pcs, int npcs, uint32_t max_len, const char *impl_uid,
		    const char *impl_version)
{
	struct wb w = {out, cap, 0, 0};
	size_t pdu = pdu_begin(&w, 0x01);

	if (npcs < 0 || !impl_uid)
		return 0;
	assoc_head(&w, called, calling);
	for (int i = 0; i < npcs; i++) {
		size_t off = item_begin(&w, 0x20);

		if (pcs[i].nts < 0 || pcs[i].nts > 4)
			return 0;
		put8(&w, pcs[i].id);
		put8(&w, 0);
		put8(&w, 0xff); /* DCMTK's ASC_P_NOTYETNEGOTIATED in the result slot */
		put8(&w, 0);
		put_item_str(&w, 0x30, pcs[i].abstract);
		for (int t = 0; t < pcs[i].nts; t++)
			put_item_str(&w, 0x40, pcs[i].ts[t]);
		item_end(&w, off);
	}
	user_info(&w, max_len, impl_uid, impl_version);
	return pdu_end(&w, pdu);
}

size_t pdu_assoc_rq_n(uint8_t *out, size_t cap, const char *called, const char *calling, int n)
{
	static const char *const storage[] = {
	    "1.2.840.10008.5.1.4.1.1.2",     /* CT */
	    "1.2.840.10008.5.1.4.1.1.4",     /* MR */
	    "1.2.840.10008.5.1.4.1.1.1",     /* CR */
	    "1.2.840.10008.5.1.4.1.1.1.1",   /* DX */
	    "1.2.840.10008.5.1.4.1.1.6.1",   /* US */
	    "1.2.840.10008.5.1.4.1.1.7",     /* Secondary Capture */
	    "1.2.840.10008.5.1.4.1.1.20",    /* NM */
	    "1.2.840.10008.5.1.4.1.1.128",   /* PET */
	    "1.2.840.10008.5.1.4.1.1.481.1", /* RT Image */
	    "1.2.840.10008.5.1.4.1.1.104.1", /* Encapsulated PDF */
	};
	struct pdu_pc pcs[128];
	int ns = (int)(sizeof(storage) / sizeof(storage[0]));

	/* Odd ids 1..255 allow at most 128 contexts (PS3.8 9.3.2.2). */
	if (n < 1 || n > 128)
		return 0;
	for (int i = 0; i < n; i++) {
		pcs[i] = (struct pdu_pc){
		    .id = (uint8_t)(2 * i + 1),
		    .abstract = storage[i % ns],
		    .ts = {PDU_UID_IMPLICIT_LE, PDU_UID_EXPLICIT_LE},
		    .nts = 2,
		};
	}
	return pdu_assoc_rq(out, cap, called, calling, pcs, n, 16384, PDU_DCMTK_IMPL_UID,
			    PDU_DCMTK_IMPL_VER);
}

size_t pdu_assoc_ac(uint8_t *out, size_t cap, const char *called, const char *calling,
		    const uint8_t *pc_ids, const uint8_t *results, int npcs, uint32_t max_len)
{
	return pdu_assoc_ac_ts(out, cap, called, calling, pc_ids, results, npcs, max_len,
			       PDU_UID_IMPLICIT_LE);
}

size_t pdu_assoc_ac_ts(uint8_t *out, size_t cap, const char *called, const char *calling,
		       const uint8_t *pc_ids, const uint8_t *results, int npcs, uint32_t max_len,
		       const char *ts)
{
	struct wb w = {out, cap, 0, 0};
	size_t pdu = pdu_begin(&w, 0x02);

	if (npcs < 0 || !ts)
		return 0;
	assoc_head(&w, called, calling);
	for (int i = 0; i < npcs; i++) {
		size_t off = item_begin(&w, 0x21);

		put8(&w, pc_ids[i]);
		put8(&w, 0);
		put8(&w, results[i]);
		put8(&w, 0);
		put_item_str(&w, 0x40, ts);
		item_end(&w, off);
	}
	user_info(&w, max_len, PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);
	return pdu_end(&w, pdu);
}

/* RJ, release and abort share one shape: 6-byte header, length 4, four bytes. */
static size_t pdu_short(uint8_t *out, size_t cap, uint8_t type, uint8_t b7, uint8_t b8, uint8_t b9)
{
	struct wb w = {out, cap, 0, 0};
	size_t pdu = pdu_begin(&w, type);

	put8(&w, 0);
	put8(&w, b7);
	put8(&w, b8);
	put8(&w, b9);
	return pdu_end(&w, pdu);
}

size_t pdu_assoc_rj(uint8_t *out, size_t cap, uint8_t result, uint8_t source, uint8_t reason)
{
	return pdu_short(out, cap, 0x03, result, source, reason);
}

size_t pdu_release_rq(uint8_t *out, size_t cap)
{
	return pdu_short(out, cap, 0x05, 0, 0, 0);
}

size_t pdu_release_rp(uint8_t *out, size_t cap)
{
	return pdu_short(out, cap, 0x06, 0, 0, 0);
}

size_t pdu_abort(uint8_t *out, size_t cap, uint8_t source, uint8_t reason)
{
	return pdu_short(out, cap, 0x07, 0, source, reason);
}

/* Command elements: Implicit VR Little Endian, group 0000 (PS3.7 6.3.1). */
static void put_elem_hdr(struct wb *w, uint16_t elem, uint32_t vlen)
{
	put_le(w, 0x0000, 2);
	put_le(w, elem, 2);
	put_le(w, vlen, 4);
}

static void put_elem_us(struct wb *w, uint16_t elem, uint16_t v)
{
	put_elem_hdr(w, elem, 2);
	put_le(w, v, 2);
}

static void put_elem_str(struct wb *w, uint16_t elem, const char *str, uint8_t pad)
{
	size_t n = strlen(str);

	put_elem_hdr(w, elem, (uint32_t)(n + (n & 1)));
	put_mem(w, str, n);
	if (n & 1)
		put8(w, pad);
}

static size_t pdv_begin(struct wb *w, uint8_t pcid, uint8_t mch)
{
	size_t off = w->len;

	put32(w, 0);
	put8(w, pcid);
	put8(w, mch);
	return off;
}

size_t pdu_pdata_command(uint8_t *out, size_t cap, uint8_t pcid, uint16_t command,
			 const char *sop_class, uint16_t msg_id, uint16_t status,
			 const char *move_dest, int has_dataset)
{
	struct wb w = {out, cap, 0, 0};
	size_t pdu = pdu_begin(&w, 0x04), pdv = pdv_begin(&w, pcid, 0x03), glen;
	int rsp = command & DIMSE_RSP;
	uint16_t base = command & ~DIMSE_RSP;
	uint16_t dstype = !has_dataset ? 0x0101 : command == DIMSE_C_STORE ? 0x0001 : 0x0000;

	put_elem_hdr(&w, 0x0000, 4);
	glen = w.len;
	put_le(&w, 0, 4);
	if (sop_class)
		put_elem_str(&w, 0x0002, sop_class, 0x00);
	put_elem_us(&w, 0x0100, command);
	put_elem_us(&w, rsp ? 0x0120 : 0x0110, msg_id);
	if (move_dest)
		put_elem_str(&w, 0x0600, move_dest, ' ');
	/* Only the composite services with sub-operations or storage carry a priority. */
	if (!rsp && (base == DIMSE_C_STORE || base == DIMSE_C_GET || base == DIMSE_C_FIND ||
		     base == DIMSE_C_MOVE))
		put_elem_us(&w, 0x0700, 0x0000); /* MEDIUM */
	put_elem_us(&w, 0x0800, dstype);
	if (rsp)
		put_elem_us(&w, 0x0900, status);
	if (w.bad)
		return 0;
	/* Group length counts the bytes after its own element; the value is little-endian. */
	for (int i = 0; i < 4; i++)
		out[glen + i] = (uint8_t)((w.len - glen - 4) >> (8 * i));
	patch_be(&w, pdv, (uint32_t)(w.len - pdv - 4), 4);
	return pdu_end(&w, pdu);
}

size_t pdu_pdata_data(uint8_t *out, size_t cap, uint8_t pcid, size_t len, int last)
{
	struct wb w = {out, cap, 0, 0};
	size_t pdu = pdu_begin(&w, 0x04), pdv = pdv_begin(&w, pcid, last ? 0x02 : 0x00);
	size_t i = 0;

	if (len >= 8) {
		/* (0009,1010): a private tag Wireshark shows as plain bytes. */
		put_le(&w, 0x0009, 2);
		put_le(&w, 0x1010, 2);
		put_le(&w, (uint32_t)(len - 8), 4);
		i = 8;
	}
	if (w.bad || len - i > cap - w.len)
		return 0;
	for (; i < len; i++)
		out[w.len++] = (uint8_t)(i * 7 + 1);
	patch_be(&w, pdv, (uint32_t)(w.len - pdv - 4), 4);
	return pdu_end(&w, pdu);
}

/* ---- TLS ----------------------------------------------------------------- */

static void put_fixed_bytes(struct wb *w, uint8_t seed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(w, (uint8_t)(seed + i * 13));
}

static size_t tls_record_begin(struct wb *w, uint16_t rec_ver, uint8_t hs_type, size_t *hs)
{
	size_t rec = w->len;

	put8(w, 0x16); /* handshake */
	put16(w, rec_ver);
	put16(w, 0);
	*hs = w->len;
	put8(w, hs_type);
	put_be(w, 0, 3);
	return rec;
}

static size_t tls_record_end(struct wb *w, size_t rec, size_t hs, size_t ext)
{
	patch_be(w, ext, (uint32_t)(w->len - ext - 2), 2);
	patch_be(w, hs + 1, (uint32_t)(w->len - hs - 4), 3);
	patch_be(w, rec + 3, (uint32_t)(w->len - rec - 5), 2);
	return wb_done(w);
}

static void put_ext_key_share_x25519(struct wb *w, int client)
{
	put16(w, 0x0033);
	put16(w, client ? 38 : 36);
	if (client)
		put16(w, 36); /* client_shares length */
	put16(w, 0x001d);
	put16(w, 32);
	put_fixed_bytes(w, client ? 0x51 : 0x73, 32);
}

size_t tls_client_hello(uint8_t *out, size_t cap, uint16_t rec_ver, uint16_t legacy_ver,
			const uint16_t *versions, int n)
{
	static const uint16_t suites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
					  0xc02c, 0xc030, 0xc013, 0x009c};
	static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
					   0x0805, 0x0501, 0x0806, 0x0601};
	struct wb w = {out, cap, 0, 0};
	size_t hs, rec = tls_record_begin(&w, rec_ver, 0x01, &hs), ext, cur;
	int tls13 = 0;

	if (n < 0 || n > 32)
		return 0;
	put16(&w, legacy_ver);
	put_fixed_bytes(&w, 0x11, 32); /* random */
	put8(&w, 32);
	put_fixed_bytes(&w, 0x22, 32); /* session id, echoed by tls_server_hello */
	put16(&w, sizeof(suites));
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		put16(&w, suites[i]);
	put8(&w, 1);
	put8(&w, 0); /* null compression */
	ext = w.len;
	put16(&w, 0);

	put16(&w, 0x000a); /* supported_groups: x25519, secp256r1, secp384r1 */
	put16(&w, 8);
	put16(&w, 6);
	put16(&w, 0x001d), put16(&w, 0x0017), put16(&w, 0x0018);
	put16(&w, 0x000b); /* ec_point_formats: uncompressed */
	put16(&w, 2);
	put8(&w, 1), put8(&w, 0);
	put16(&w, 0x000d);
	put16(&w, sizeof(sigalgs) + 2);
	put16(&w, sizeof(sigalgs));
	for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		put16(&w, sigalgs[i]);
	if (n > 0) {
		put16(&w, 0x002b);
		put16(&w, (uint16_t)(1 + 2 * n));
		put8(&w, (uint8_t)(2 * n));
		for (int i = 0; i < n; i++) {
			put16(&w, versions[i]);
			tls13 |= versions[i] >= 0x0304;
		}
	}
	if (tls13)
		put_ext_key_share_x25519(&w, 1);
	/* RFC 7685 padding to a 512-byte ClientHello, as OpenSSL and browsers do. */
	cur = w.len - hs;
	if (!w.bad && cur + 4 <= 512) {
		put16(&w, 0x0015);
		put16(&w, (uint16_t)(512 - cur - 4));
		put_fill(&w, 0, 512 - cur - 4);
	}
	return tls_record_end(&w, rec, hs, ext);
}

size_t tls_server_hello(uint8_t *out, size_t cap, uint16_t legacy_ver, uint16_t selected)
{
	struct wb w = {out, cap, 0, 0};
	/* TLS 1.3 freezes the record version at 1.2; older servers use their own. */
	uint16_t rec_ver = legacy_ver < 0x0303 ? legacy_ver : 0x0303;
	size_t hs, rec = tls_record_begin(&w, rec_ver, 0x02, &hs), ext;
	int tls13 = selected >= 0x0304;

	put16(&w, legacy_ver);
	put_fixed_bytes(&w, 0x33, 32); /* random */
	put8(&w, 32);
	put_fixed_bytes(&w, 0x22, 32); /* session id echo */
	/* GCM suites need TLS 1.2; an older server falls back to ECDHE-RSA-AES128-SHA. */
	put16(&w, tls13 ? 0x1301 : legacy_ver >= 0x0303 ? 0xc02f : 0xc013);
	put8(&w, 0);
	ext = w.len;
	put16(&w, 0);
	if (selected) {
		put16(&w, 0x002b);
		put16(&w, 2);
		put16(&w, selected);
	}
	if (tls13) {
		put_ext_key_share_x25519(&w, 0);
	} else {
		put16(&w, 0xff01); /* renegotiation_info, empty */
		put16(&w, 1);
		put8(&w, 0);
		put16(&w, 0x000b);
		put16(&w, 2);
		put8(&w, 1), put8(&w, 0);
	}
	return tls_record_end(&w, rec, hs, ext);
}

/* ---- pcap ---------------------------------------------------------------- */

/* Fixed epoch (2024-01-01) so the same frames always give the same file. */
#define PCAP_EPOCH 1704067200u
/* A short fwrite need not set errno. */
#define ERRNO_OR_EIO (errno ? -errno : -EIO)

/* Little-endian field by field, so the file is byte-identical on any host. */
static int write_le32(FILE *f, const uint32_t *v, int n)
{
	uint8_t b[24];
	struct wb w = {b, sizeof(b), 0, 0};

	for (int i = 0; i < n; i++)
		put_le(&w, v[i], 4);
	return !w.bad && fwrite(b, w.len, 1, f) == 1 ? 0 : ERRNO_OR_EIO;
}

FILE *pcap_stream_open(const char *path)
{
	/* magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET */
	static const uint32_t ghdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
	FILE *f = fopen(path, "wb");
	int err;

	if (!f)
		return NULL;
	errno = 0;
	err = write_le32(f, ghdr, 6);
	if (err) {
		fclose(f);
		errno = -err;
		return NULL;
	}
	return f;
}

int pcap_stream_frame(FILE *f, uint64_t t_us, const uint8_t *data, size_t len)
{
	uint32_t rhdr[4] = {PCAP_EPOCH + (uint32_t)(t_us / 1000000), (uint32_t)(t_us % 1000000),
			    (uint32_t)len, (uint32_t)len};
	int err;

	errno = 0;
	err = write_le32(f, rhdr, 4);
	if (!err && len && fwrite(data, len, 1, f) != 1)
		err = ERRNO_OR_EIO;
	return err;
}

int pcap_stream_close(FILE *f, int err)
{
	errno = 0;
	if (fclose(f) && !err)
		err = ERRNO_OR_EIO;
	return err;
}

int pcap_write_frames(const char *path, const struct pkt_frame *frames, int n)
{
	FILE *f = pcap_stream_open(path);
	int err = 0;

	if (!f)
		return -errno;
	for (int i = 0; !err && i < n; i++)
		err = pcap_stream_frame(f, (uint64_t)i * 1000, frames[i].data, frames[i].len);
	return pcap_stream_close(f, err);
}
