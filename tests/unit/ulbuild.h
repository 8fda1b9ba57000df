/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Test-only byte writer for the PDUs pktbuild does not make: every user
 * information sub-item (0x53..0x59), hostile items with lying lengths, and
 * command sets element by element. Header-only (static functions) so the
 * unit tests and the fuzz corpus generator share it without a library.
 * Nothing here checks DICOM rules: it writes what it is told.
 */
#ifndef __ULBUILD_H
#define __ULBUILD_H

#include <stdint.h>
#include <string.h>

struct ub {
	uint8_t *p;
	size_t cap, n;
	int bad; /* a write did not fit */
};

static inline void ub_init(struct ub *b, uint8_t *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->n = 0;
	b->bad = 0;
}

static inline void ub_mem(struct ub *b, const void *src, size_t n)
{
	if (b->bad || n > b->cap - b->n) {
		b->bad = 1;
		return;
	}
	if (n)
		memcpy(b->p + b->n, src, n);
	b->n += n;
}

static inline void ub_u8(struct ub *b, uint8_t v)
{
	ub_mem(b, &v, 1);
}

static inline void ub_be16(struct ub *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	ub_mem(b, x, 2);
}

static inline void ub_be32(struct ub *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	ub_mem(b, x, 4);
}

static inline void ub_le16(struct ub *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	ub_mem(b, x, 2);
}

static inline void ub_le32(struct ub *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	ub_mem(b, x, 4);
}

static inline void ub_str(struct ub *b, const char *s)
{
	ub_mem(b, s, strlen(s));
}

static inline void ub_patch_be(struct ub *b, size_t off, uint32_t v, int n)
{
	if (b->bad || off + (size_t)n > b->n)
		return;
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		b->p[off + (size_t)i] = (uint8_t)v;
}

/* PDU: type, 0, 32-bit length patched by ub_pdu_end. */
static inline size_t ub_pdu_begin(struct ub *b, uint8_t type)
{
	size_t off = b->n;

	ub_u8(b, type);
	ub_u8(b, 0);
	ub_be32(b, 0);
	return off;
}

static inline size_t ub_pdu_end(struct ub *b, size_t off)
{
	ub_patch_be(b, off + 2, (uint32_t)(b->n - off - 6), 4);
	return b->bad ? 0 : b->n;
}

/* Item or sub-item: type, reserved, 16-bit length patched by ub_item_end. */
static inline size_t ub_item_begin(struct ub *b, uint8_t type, uint8_t rsv)
{
	size_t off = b->n;

	ub_u8(b, type);
	ub_u8(b, rsv);
	ub_be16(b, 0);
	return off;
}

static inline void ub_item_end(struct ub *b, size_t off)
{
	ub_patch_be(b, off + 2, (uint32_t)(b->n - off - 4), 2);
}

static inline void ub_item_str(struct ub *b, uint8_t type, const char *s)
{
	size_t off = ub_item_begin(b, type, 0);

	ub_str(b, s);
	ub_item_end(b, off);
}

/* The fixed part after the PDU header: version 1, AE fields (16 raw bytes each), zeros. */
static inline void ub_assoc_fixed(struct ub *b, const uint8_t called[16], const uint8_t calling[16])
{
	static const uint8_t zero[32];

	ub_be16(b, 1);
	ub_be16(b, 0);
	ub_mem(b, called, 16);
	ub_mem(b, calling, 16);
	ub_mem(b, zero, 32);
}

static inline void ub_ae16(uint8_t out[16], const char *s)
{
	size_t n = strlen(s);

	memset(out, ' ', 16);
	memcpy(out, s, n > 16 ? 16 : n);
}

/* RQ presentation context: id, 00, rsv2, 00, abstract, transfer syntaxes. */
static inline void ub_pc_rq(struct ub *b, uint8_t id, uint8_t rsv2, const char *abstract,
			    const char *const *ts, int nts)
{
	size_t off = ub_item_begin(b, 0x20, 0);

	ub_u8(b, id);
	ub_u8(b, 0);
	ub_u8(b, rsv2);
	ub_u8(b, 0);
	if (abstract)
		ub_item_str(b, 0x30, abstract);
	for (int i = 0; i < nts; i++)
		ub_item_str(b, 0x40, ts[i]);
	ub_item_end(b, off);
}

static inline void ub_pc_ac(struct ub *b, uint8_t id, uint8_t result, const char *ts)
{
	size_t off = ub_item_begin(b, 0x21, 0);

	ub_u8(b, id);
	ub_u8(b, 0);
	ub_u8(b, result);
	ub_u8(b, 0);
	if (ts)
		ub_item_str(b, 0x40, ts);
	ub_item_end(b, off);
}

static inline void ub_sub_u32(struct ub *b, uint8_t type, uint32_t v)
{
	size_t off = ub_item_begin(b, type, 0);

	ub_be32(b, v);
	ub_item_end(b, off);
}

/* 0x54: UID-length, UID, SCU, SCP */
static inline void ub_role(struct ub *b, const char *uid, uint8_t scu, uint8_t scp)
{
	size_t off = ub_item_begin(b, 0x54, 0);

	ub_be16(b, (uint16_t)strlen(uid));
	ub_str(b, uid);
	ub_u8(b, scu);
	ub_u8(b, scp);
	ub_item_end(b, off);
}

/* 0x56: UID-length, UID, application information */
static inline void ub_extneg(struct ub *b, const char *uid, const uint8_t *info, size_t n)
{
	size_t off = ub_item_begin(b, 0x56, 0);

	ub_be16(b, (uint16_t)strlen(uid));
	ub_str(b, uid);
	ub_mem(b, info, n);
	ub_item_end(b, off);
}

/* 0x57: lengths and UIDs, related classes as {length, UID}. */
static inline void ub_cextneg(struct ub *b, const char *sop, const char *svc,
			      const char *const *rel, int nrel)
{
	size_t off = ub_item_begin(b, 0x57, 0), rl;
	size_t total = 0;

	ub_be16(b, (uint16_t)strlen(sop));
	ub_str(b, sop);
	ub_be16(b, (uint16_t)strlen(svc));
	ub_str(b, svc);
	for (int i = 0; i < nrel; i++)
		total += 2 + strlen(rel[i]);
	rl = total;
	ub_be16(b, (uint16_t)rl);
	for (int i = 0; i < nrel; i++) {
		ub_be16(b, (uint16_t)strlen(rel[i]));
		ub_str(b, rel[i]);
	}
	ub_item_end(b, off);
}

/* 0x58: type, positive response, primary (len + bytes), secondary (len + bytes). */
static inline void ub_identity(struct ub *b, uint8_t type, uint8_t pos, const char *primary,
			       const char *secondary)
{
	size_t off = ub_item_begin(b, 0x58, 0);

	ub_u8(b, type);
	ub_u8(b, pos);
	ub_be16(b, (uint16_t)strlen(primary));
	ub_str(b, primary);
	ub_be16(b, secondary ? (uint16_t)strlen(secondary) : 0);
	if (secondary)
		ub_str(b, secondary);
	ub_item_end(b, off);
}

/* 0x59: server response length and bytes. */
static inline void ub_identity_ac(struct ub *b, const char *resp)
{
	size_t off = ub_item_begin(b, 0x59, 0);

	ub_be16(b, (uint16_t)strlen(resp));
	ub_str(b, resp);
	ub_item_end(b, off);
}

/* P-DATA-TF with one command PDV whose elements the caller writes, then ub_cmd_end. */
struct ub_cmd {
	size_t pdu, pdv, glen;
};

static inline void ub_cmd_begin(struct ub *b, struct ub_cmd *c, uint8_t pcid, uint8_t mch,
				int group_length)
{
	c->pdu = ub_pdu_begin(b, 0x04);
	c->pdv = b->n;
	ub_be32(b, 0);
	ub_u8(b, pcid);
	ub_u8(b, mch);
	c->glen = 0;
	if (group_length) {
		ub_le16(b, 0);
		ub_le16(b, 0);
		ub_le32(b, 4);
		c->glen = b->n;
		ub_le32(b, 0);
	}
}

static inline void ub_elem(struct ub *b, uint16_t elem, const void *v, uint32_t n)
{
	ub_le16(b, 0);
	ub_le16(b, elem);
	ub_le32(b, n);
	ub_mem(b, v, n);
}

static inline void ub_elem_us(struct ub *b, uint16_t elem, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	ub_elem(b, elem, x, 2);
}

/* A string value padded to even length with pad. */
static inline void ub_elem_str(struct ub *b, uint16_t elem, const char *s, char pad)
{
	size_t n = strlen(s);

	ub_le16(b, 0);
	ub_le16(b, elem);
	ub_le32(b, (uint32_t)(n + (n & 1)));
	ub_str(b, s);
	if (n & 1)
		ub_u8(b, (uint8_t)pad);
}

static inline size_t ub_cmd_end(struct ub *b, struct ub_cmd *c)
{
	if (c->glen && !b->bad) {
		uint32_t g = (uint32_t)(b->n - c->glen - 4);

		for (int i = 0; i < 4; i++)
			b->p[c->glen + (size_t)i] = (uint8_t)(g >> (8 * i));
	}
	ub_patch_be(b, c->pdv, (uint32_t)(b->n - c->pdv - 4), 4);
	return ub_pdu_end(b, c->pdu);
}

#define UB_INSTANCE_UID "1.2.826.0.1.3680043.2.1125.99.12345678"

/* The elements a well-formed command of this field carries (PS3.7 9.3, 10.3), in tag order. */
static inline void ub_cmd_valid(struct ub *b, uint16_t cmd)
{
	uint16_t base = cmd & 0x7fff;
	int rsp = cmd & 0x8000, nrq = base >= 0x0100 && base != 0x0fff;
	int requested =
	    !rsp && (base == 0x0110 || base == 0x0120 || base == 0x0130 || base == 0x0150);

	if (base != 0x0fff && !requested)
		ub_elem_str(b, 0x0002, "1.2.840.10008.5.1.4.1.1.2", 0);
	if (requested)
		ub_elem_str(b, 0x0003, "1.2.840.10008.5.1.4.1.1.2", 0);
	ub_elem_us(b, 0x0100, cmd);
	if (!rsp && base != 0x0fff)
		ub_elem_us(b, 0x0110, 7);
	if (rsp || base == 0x0fff)
		ub_elem_us(b, 0x0120, 7);
	if (cmd == 0x0021)
		ub_elem_str(b, 0x0600, "STORESCP", ' ');
	if (!rsp && !nrq && base != 0x0030 && base != 0x0fff)
		ub_elem_us(b, 0x0700, 0x0001); /* HIGH */
	ub_elem_us(b, 0x0800, !rsp && !nrq && base != 0x0030 && base != 0x0fff ? 0x0000 : 0x0101);
	if (rsp)
		ub_elem_us(b, 0x0900, 0x0000);
	if (!rsp && (base == 0x0001 || base == 0x0100))
		ub_elem_str(b, 0x1000, UB_INSTANCE_UID, 0);
	if (requested)
		ub_elem_str(b, 0x1001, UB_INSTANCE_UID, 0);
	if (!rsp && base == 0x0100)
		ub_elem_us(b, 0x1002, 1);
	if (!rsp && base == 0x0130)
		ub_elem_us(b, 0x1008, 2);
}

#define UB_SECRET_USER "alice.secret"
#define UB_SECRET_PASS "Pa55w0rd-do-not-leak"
#define UB_SECRET_RESP "KRB5-SERVER-TICKET-BYTES"

/*
 * An A-ASSOCIATE-RQ with every item and sub-item type: 3 contexts (one with
 * 3 transfer syntaxes), max length, implementation UID and name, async
 * window, two role selections, extended and common extended negotiation, a
 * username+passcode identity and an unknown sub-item 0x7f.
 */
static inline size_t ub_rq_full(uint8_t *out, size_t cap)
{
	static const char *const ts3[] = {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2",
					  "1.2.840.10008.1.2.4.50"};
	static const char *const ts1[] = {"1.2.840.10008.1.2"};
	static const char *const rel[] = {"1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.2"};
	static const uint8_t info[] = {1, 1, 0, 1};
	uint8_t called[16], calling[16];
	struct ub b;
	size_t pdu, ui;

	ub_init(&b, out, cap);
	ub_ae16(called, "ARCHIVE");
	ub_ae16(calling, "MODALITY_1");
	pdu = ub_pdu_begin(&b, 0x01);
	ub_assoc_fixed(&b, called, calling);
	ub_item_str(&b, 0x10, "1.2.840.10008.3.1.1.1");
	ub_pc_rq(&b, 1, 0xff, "1.2.840.10008.1.1", ts1, 1);
	ub_pc_rq(&b, 3, 0xff, "1.2.840.10008.5.1.4.1.1.2", ts3, 3);
	ub_pc_rq(&b, 5, 0xff, "1.2.840.10008.5.1.4.1.2.2.1", ts1, 1);
	ui = ub_item_begin(&b, 0x50, 0);
	ub_sub_u32(&b, 0x51, 32768);
	ub_item_str(&b, 0x52, "1.2.826.0.1.3680043.9.3811.2.0.0");
	ub_sub_u32(&b, 0x53, 0x00050003);
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.2", 1, 1);
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.4", 0, 1);
	ub_item_str(&b, 0x55, "PYNETDICOM_200");
	ub_extneg(&b, "1.2.840.10008.5.1.4.1.2.2.1", info, sizeof(info));
	ub_cextneg(&b, "1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.4.2", rel, 2);
	ub_identity(&b, 2, 1, UB_SECRET_USER, UB_SECRET_PASS);
	{
		size_t u = ub_item_begin(&b, 0x7f, 0);

		ub_str(&b, "future");
		ub_item_end(&b, u);
	}
	ub_item_end(&b, ui);
	return ub_pdu_end(&b, pdu);
}

/* The AC answering ub_rq_full: results 0, 3, 0; roles; identity response. */
static inline size_t ub_ac_full(uint8_t *out, size_t cap)
{
	static const uint8_t info[] = {1};
	uint8_t called[16], calling[16];
	struct ub b;
	size_t pdu, ui;

	ub_init(&b, out, cap);
	ub_ae16(called, "ARCHIVE");
	ub_ae16(calling, "MODALITY_1");
	pdu = ub_pdu_begin(&b, 0x02);
	ub_assoc_fixed(&b, called, calling);
	ub_item_str(&b, 0x10, "1.2.840.10008.3.1.1.1");
	ub_pc_ac(&b, 1, 0, "1.2.840.10008.1.2");
	ub_pc_ac(&b, 3, 3, "1.2.840.10008.1.2");
	ub_pc_ac(&b, 5, 0, "1.2.840.10008.1.2");
	ui = ub_item_begin(&b, 0x50, 0);
	ub_sub_u32(&b, 0x51, 16384);
	ub_item_str(&b, 0x52, "1.2.276.0.7230010.3.0.3.6.7");
	ub_sub_u32(&b, 0x53, 0x00010001);
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.2", 1, 0);
	ub_item_str(&b, 0x55, "OFFIS_DCMTK_367");
	ub_extneg(&b, "1.2.840.10008.5.1.4.1.2.2.1", info, sizeof(info));
	ub_identity_ac(&b, UB_SECRET_RESP);
	ub_item_end(&b, ui);
	return ub_pdu_end(&b, pdu);
}

/* nmap dicom.lua's A-ASSOCIATE-RQ (211 bytes): DCMTK 3.6.2 claim, reserved bytes 0x00. */
static inline size_t ub_rq_nmap(uint8_t *out, size_t cap, const char *called)
{
	static const char *const ts[] = {"1.2.840.10008.1.2"};
	uint8_t cd[16], cg[16];
	struct ub b;
	size_t pdu, ui;

	ub_init(&b, out, cap);
	ub_ae16(cd, called);
	ub_ae16(cg, "ECHOSCU");
	pdu = ub_pdu_begin(&b, 0x01);
	ub_assoc_fixed(&b, cd, cg);
	ub_item_str(&b, 0x10, "1.2.840.10008.3.1.1.1");
	ub_pc_rq(&b, 1, 0x00, "1.2.840.10008.1.1", ts, 1);
	ui = ub_item_begin(&b, 0x50, 0);
	ub_sub_u32(&b, 0x51, 16384);
	ub_item_str(&b, 0x52, "1.2.276.0.7230010.3.0.3.6.2");
	ub_item_str(&b, 0x55, "OFFIS_DCMTK_362");
	ub_item_end(&b, ui);
	return ub_pdu_end(&b, pdu);
}

#endif /* __ULBUILD_H */
