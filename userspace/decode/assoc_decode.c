// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A-ASSOCIATE-RQ/AC decoding: the fixed part (PS3.8 Tables 9-11, 9-17), the
 * item walk, application and presentation contexts, the string arena, and
 * the RQ/AC cross-check. User information sub-items are in assoc_userinfo.c.
 *
 * Every length read from the wire is compared with the bytes left in its
 * container before use. A container clipped by the capture (the PDU is
 * longer than what was shipped) is decoded as far as it goes without
 * complaint; one clipped because its own length lies is a violation, and
 * what it holds is still decoded up to the end of the real bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dicomon.h"
#include "decode/assoc_decode_internal.h"

#define FIXED_END 74	/* PDU header (6) + fixed part (68) */
#define IDX_MAX	  16384 /* string index slots: >= 2x every string that can be kept */

/* ---- string arena --------------------------------------------------------- */

static uint32_t str_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (n--)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int idx_insert(struct dm_actx *c, uint32_t off)
{
	const char *s = c->a->strs + off;
	uint32_t i = str_hash(s, strlen(s)) & (c->idx_cap - 1);

	while (c->idx[i])
		i = (i + 1) & (c->idx_cap - 1);
	c->idx[i] = off;
	c->idx_n++;
	return 0;
}

static int idx_grow(struct dm_actx *c)
{
	uint32_t *old = c->idx, old_cap = c->idx_cap, i;
	uint32_t cap = old_cap ? old_cap * 2 : 64;

	if (cap > IDX_MAX)
		return -1; /* cannot happen with the keep limits; refuse rather than grow */
	c->idx = calloc(cap, sizeof(*c->idx));
	if (!c->idx) {
		c->idx = old;
		return -1;
	}
	c->idx_cap = cap;
	c->idx_n = 0;
	for (i = 0; i < old_cap; i++)
		if (old[i])
			idx_insert(c, old[i]);
	free(old);
	return 0;
}

dm_str_t dm_actx_str(struct dm_actx *c, const uint8_t *s, size_t n, size_t keep)
{
	struct dm_assoc_info *a = c->a;
	char tmp[DM_UID_MAX + 1];
	uint32_t h, i, off;
	size_t k;

	if (c->nomem)
		return 0;
	if (keep > DM_UID_MAX)
		keep = DM_UID_MAX;
	if (n > keep)
		n = keep;
	for (k = 0; k < n; k++)
		tmp[k] = s[k] >= 0x20 && s[k] <= 0x7e ? (char)s[k] : '?';
	tmp[n] = 0;
	if (2 * (c->idx_n + 1) > c->idx_cap && idx_grow(c))
		goto nomem;
	h = str_hash(tmp, n);
	for (i = h & (c->idx_cap - 1); c->idx[i]; i = (i + 1) & (c->idx_cap - 1))
		if (!strcmp(a->strs + c->idx[i], tmp))
			return c->idx[i];
	if (a->strs_len + n + 1 > a->strs_cap) {
		uint32_t cap = a->strs_cap * 2;
		char *ns;

		while (cap < a->strs_len + n + 1)
			cap *= 2;
		ns = realloc(a->strs, cap);
		if (!ns)
			goto nomem;
		a->strs = ns;
		a->strs_cap = cap;
	}
	off = a->strs_len;
	memcpy(a->strs + off, tmp, n + 1);
	a->strs_len += (uint32_t)n + 1;
	c->idx[i] = off;
	c->idx_n++;
	return off;
nomem:
	c->nomem = 1;
	return 0;
}

/* PS3.5 9.1 syntax; the stored copy is cut at 64 characters. */
dm_str_t dm_actx_uid(struct dm_actx *c, const uint8_t *s, size_t n, const char *what, int keep)
{
	const char *why;
	size_t at;

	if (n && s[n - 1] == 0)
		n--; /* a stray even-length pad: tolerated (PS3.8 items are not padded) */
	why = dm_uid_problem(s, n, &at);
	if (why)
		dm_viol_add(&c->a->viol, DM_V_UID, "%s: %s (length %zu, at %zu)", what, why, n, at);
	return keep ? dm_actx_str(c, s, n, DM_UID_MAX) : 0;
}

void *dm_actx_push(struct dm_actx *c, void **arr, uint16_t *n, uint16_t *cap, size_t size,
		   uint16_t max)
{
	void *na;
	uint16_t nc;

	if (*n >= max || c->nomem)
		return NULL;
	if (*n == *cap) {
		nc = *cap ? (uint16_t)(*cap * 2) : 8;
		if (nc > max)
			nc = max;
		na = realloc(*arr, (size_t)nc * size);
		if (!na) {
			c->nomem = 1;
			return NULL;
		}
		*arr = na;
		*cap = nc;
	}
	na = (char *)*arr + (size_t)*n * size;
	memset(na, 0, size);
	(*n)++;
	return na;
}

int dm_actx_fit(struct dm_actx *c, size_t body, size_t ilen, size_t end, int cut, size_t *blen,
		const char *what)
{
	if (ilen <= end - body) {
		*blen = ilen;
		return 1;
	}
	*blen = end - body;
	if (!cut)
		dm_viol_add(&c->a->viol, DM_V_ITEM_OVERRUN,
			    "%s at offset %zu: length %zu exceeds its container (%zu bytes left)",
			    what, body - 4, ilen, end - body);
	return 0;
}

/* ---- presentation contexts ------------------------------------------------- */

static void pc_syntax(struct dm_actx *c, struct dm_assoc_pc *pc, int kept, uint8_t id, uint8_t type,
		      size_t body, size_t blen, int whole)
{
	struct dm_assoc_info *a = c->a;
	char what[48];

	if (type == 0x30 && a->type == DM_PDU_ASSOC_RQ) {
		if (pc && ++pc->n_abstract_seen == 2)
			dm_viol_add(&a->viol, DM_V_PC_ITEM,
				    "presentation context %u: more than one abstract syntax", id);
		if (pc && pc->n_abstract_seen == 1 && whole) {
			snprintf(what, sizeof(what), "presentation context %u abstract syntax", id);
			pc->abstract = dm_actx_uid(c, c->p + body, blen, what, kept);
		}
		return;
	}
	if (type == 0x40) {
		if (!pc)
			return;
		if (pc->n_ts_seen < UINT16_MAX)
			pc->n_ts_seen++;
		if (pc->n_ts >= DM_ASSOC_TS_KEEP || !whole)
			return;
		if (a->type == DM_PDU_ASSOC_AC && pc->result) {
			/* Table 9-18: not significant and not tested when not accepted. */
			if (blen && kept)
				pc->ts[pc->n_ts++] = dm_actx_str(c, c->p + body, blen, DM_UID_MAX);
			return;
		}
		snprintf(what, sizeof(what), "presentation context %u transfer syntax", id);
		pc->ts[pc->n_ts++] = dm_actx_uid(c, c->p + body, blen, what, kept);
		return;
	}
	dm_viol_add(&a->viol, DM_V_ITEM_UNKNOWN, "presentation context %u: sub-item type 0x%02x%s",
		    id, type, type == 0x30 ? " (abstract syntax) in an A-ASSOCIATE-AC" : "");
}

static void pc_checks(struct dm_actx *c, const struct dm_assoc_pc *pc)
{
	struct dm_violations *v = &c->a->viol;

	if (c->a->type == DM_PDU_ASSOC_RQ) {
		if (!pc->n_abstract_seen)
			dm_viol_add(v, DM_V_PC_ITEM, "presentation context %u: no abstract syntax",
				    pc->id);
		if (!pc->n_ts_seen)
			dm_viol_add(v, DM_V_PC_ITEM, "presentation context %u: no transfer syntax",
				    pc->id);
	} else if (!pc->result && pc->n_ts_seen != 1) {
		dm_viol_add(
		    v, DM_V_PC_ITEM,
		    "presentation context %u accepted with %u transfer syntaxes (one required)",
		    pc->id, pc->n_ts_seen);
	} else if (pc->n_ts_seen > 1) {
		dm_viol_add(v, DM_V_PC_ITEM,
			    "presentation context %u: %u transfer syntaxes in an A-ASSOCIATE-AC",
			    pc->id, pc->n_ts_seen);
	}
}

static void pc_item(struct dm_actx *c, size_t body, size_t blen, int whole)
{
	struct dm_assoc_info *a = c->a;
	struct dm_assoc_pc *pc, tmp;
	size_t pos, end = body + blen, sblen;
	uint8_t id, type;
	int sw;

	if (a->n_pcs_seen < UINT16_MAX && ++a->n_pcs_seen == 129)
		dm_viol_add(&a->viol, DM_V_PC_TOO_MANY,
			    "more than 128 presentation contexts (ids are odd, 1..255)");
	if (blen < 4 && whole)
		dm_viol_add(&a->viol, DM_V_PC_ITEM,
			    "presentation context item at offset %zu: length %zu shorter than 4",
			    body - 4, blen);
	if (!blen)
		return;
	id = c->p[body];
	if (a->pc_ids[id >> 3] & (1u << (id & 7)))
		dm_viol_add(&a->viol, DM_V_PC_DUPLICATE, "duplicate presentation context id %u",
			    id);
	a->pc_ids[id >> 3] |= (uint8_t)(1u << (id & 7));
	if (!(id & 1))
		dm_viol_add(&a->viol, DM_V_PC_ID, "%s presentation context id %u",
			    id ? "even" : "zero", id);
	/* Beyond the keep limit the context is still walked (into tmp) for its violations. */
	pc = dm_actx_push(c, (void **)&a->pcs, &a->n_pcs, &c->pcs_cap, sizeof(*pc),
			  DM_ASSOC_PC_KEEP);
	if (!pc) {
		memset(&tmp, 0, sizeof(tmp));
		pc = &tmp;
	}
	pc->id = id;
	memcpy(pc->rsv, c->p + body + 1, blen < 4 ? blen - 1 : 3);
	if (a->type == DM_PDU_ASSOC_AC && blen >= 3) {
		pc->result = pc->rsv[1];
		if (pc->result > 4)
			dm_viol_add(&a->viol, DM_V_PC_RESULT,
				    "presentation context %u: result/reason %u undefined", id,
				    pc->result);
	}
	for (pos = body + 4; pos < end && !c->nomem; pos += 4 + sblen) {
		if (end - pos < 4) {
			if (whole)
				dm_viol_add(
				    &a->viol, DM_V_ITEM_HEADER,
				    "presentation context %u: sub-item header cut at offset %zu",
				    id, pos);
			break;
		}
		type = c->p[pos];
		sw = dm_actx_fit(c, pos + 4, dm_rd_be16(c->p + pos + 2), end, !whole, &sblen,
				 "presentation context sub-item");
		pc_syntax(c, pc, pc != &tmp, id, type, pos + 4, sblen, sw);
	}
	if (whole && blen >= 4)
		pc_checks(c, pc);
}

/* ---- items ----------------------------------------------------------------- */

static void remember_type(uint8_t *types, uint16_t *n, uint8_t type)
{
	if (*n < DM_ASSOC_UNKNOWN_KEEP)
		types[*n] = type;
	if (*n < UINT16_MAX)
		(*n)++;
}

static void app_context(struct dm_actx *c, size_t body, size_t blen, int whole)
{
	struct dm_assoc_info *a = c->a;
	const char *s;

	if (++a->n_app_context == 2)
		dm_viol_add(&a->viol, DM_V_APP_CONTEXT, "more than one application context item");
	if (a->n_app_context != 1 || !whole)
		return;
	a->app_context = dm_actx_uid(c, c->p + body, blen, "application context name", 1);
	s = dm_assoc_str(a, a->app_context);
	if (s && *s && strcmp(s, DM_APP_CONTEXT_DICOM))
		dm_viol_add(&a->viol, DM_V_APP_CONTEXT,
			    "application context name is not DICOM's " DM_APP_CONTEXT_DICOM);
}

static void walk_items(struct dm_actx *c)
{
	struct dm_assoc_info *a = c->a;
	uint8_t pc_type = a->type == DM_PDU_ASSOC_RQ ? 0x20 : 0x21;
	size_t pos, blen;
	int whole, cut = a->truncated;
	uint8_t type;

	for (pos = FIXED_END; pos < c->end && !c->nomem; pos += 4 + blen) {
		if (c->end - pos < 4) {
			if (!cut)
				dm_viol_add(&a->viol, DM_V_ITEM_HEADER,
					    "item header at offset %zu cut by the end of the PDU",
					    pos);
			return;
		}
		type = c->p[pos];
		whole = dm_actx_fit(c, pos + 4, dm_rd_be16(c->p + pos + 2), c->end, cut, &blen,
				    type == 0x10	    ? "application context item"
				    : type == 0x50	    ? "user information item"
				    : (type & 0xfe) == 0x20 ? "presentation context item"
							    : "item");
		if (type == 0x10)
			app_context(c, pos + 4, blen, whole);
		else if (type == pc_type)
			pc_item(c, pos + 4, blen, whole);
		else if (type == 0x50)
			dm_assoc_user_info(c, pos + 4, blen, !whole);
		else {
			remember_type(a->unknown_item_types, &a->n_unknown_items, type);
			dm_viol_add(
			    &a->viol, DM_V_ITEM_UNKNOWN, "item type 0x%02x at offset %zu%s", type,
			    pos,
			    (type & 0xfe) == 0x20 ? " (the other PDU's presentation context)" : "");
		}
	}
}

/* ---- the PDU ---------------------------------------------------------------- */

static void ae_check(struct dm_assoc_info *a, const struct dm_ae *ae, const char *which)
{
	char names[64];

	/* The AC's copies are reserved fields, "not tested" (PS3.8 Table 9-17). */
	if (a->type != DM_PDU_ASSOC_RQ || !(ae->flags & DM_AE_BAD))
		return;
	dm_ae_flags_string(ae->flags & DM_AE_BAD, names, sizeof(names));
	dm_viol_add(&a->viol, DM_V_AE_TITLE, "%s AE title: %s", which, names);
}

static int fixed_part(struct dm_actx *c, const uint8_t *pdu, size_t len)
{
	struct dm_assoc_info *a = c->a;
	size_t total, i;

	if (len < 6) {
		dm_viol_add(&a->viol, DM_V_PDU_SHORT, "%zu bytes, not even a PDU header", len);
		return -EINVAL;
	}
	if (pdu[0] != DM_PDU_ASSOC_RQ && pdu[0] != DM_PDU_ASSOC_AC) {
		dm_viol_add(&a->viol, DM_V_PDU_TYPE, "PDU type 0x%02x is not A-ASSOCIATE-RQ or -AC",
			    pdu[0]);
		return -EINVAL;
	}
	a->type = pdu[0];
	a->hdr_reserved = pdu[1];
	a->pdu_len = dm_rd_be32(pdu + 2);
	total = 6 + (size_t)a->pdu_len;
	if (len < total) {
		a->truncated = 1;
		c->end = len;
	} else {
		c->end = total;
		if (len > total)
			dm_viol_add(&a->viol, DM_V_PDU_TRAILING, "%zu bytes after the PDU",
				    len - total);
	}
	a->len = (uint32_t)c->end;
	if (a->pdu_len < FIXED_END - 6)
		dm_viol_add(&a->viol, DM_V_PDU_LENGTH,
			    "PDU-length %u shorter than the fixed part (68)", a->pdu_len);
	if (c->end >= 42) {
		dm_ae_set(&a->called, pdu + 10, 16);
		dm_ae_set(&a->calling, pdu + 26, 16);
	}
	if (c->end < FIXED_END) {
		dm_viol_add(&a->viol, DM_V_PDU_SHORT, "%zu bytes, the fixed part needs 74", c->end);
		return -EINVAL;
	}
	a->protocol_version = dm_rd_be16(pdu + 6);
	a->reserved_8 = dm_rd_be16(pdu + 8);
	a->reserved_zero = 1;
	for (i = 42; i < FIXED_END; i++)
		if (pdu[i])
			a->reserved_zero = 0;
	if (!(a->protocol_version & 1))
		dm_viol_add(&a->viol, DM_V_PROTOCOL_VERSION,
			    "protocol version 0x%04x lacks bit 0 (version 1)", a->protocol_version);
	ae_check(a, &a->called, "called");
	ae_check(a, &a->calling, "calling");
	return 0;
}

/* Give back what the doubling growth over-allocated: the decode is final now. */
static void shrink(void **arr, size_t n, size_t size)
{
	void *q;

	if (!*arr || !n)
		return;
	q = realloc(*arr, n * size);
	if (q)
		*arr = q;
}

int dm_assoc_decode(const uint8_t *pdu, size_t len, struct dm_assoc_info *out)
{
	struct dm_actx c = {.a = out, .p = pdu};
	int err;

	memset(out, 0, sizeof(*out));
	err = fixed_part(&c, pdu, len);
	if (err)
		return err;
	out->strs = malloc(256);
	if (!out->strs)
		return -ENOMEM;
	out->strs[0] = 0;
	out->strs_len = 1;
	out->strs_cap = 256;
	walk_items(&c);
	free(c.idx);
	if (c.nomem)
		return -ENOMEM;
	shrink((void **)&out->pcs, out->n_pcs, sizeof(*out->pcs));
	shrink((void **)&out->ui.roles, out->ui.n_roles, sizeof(*out->ui.roles));
	shrink((void **)&out->ui.extneg, out->ui.n_extneg, sizeof(*out->ui.extneg));
	shrink((void **)&out->ui.cextneg, out->ui.n_cextneg, sizeof(*out->ui.cextneg));
	shrink((void **)&out->strs, out->strs_len, 1);
	out->strs_cap = out->strs_len;
	if (out->truncated)
		return 0; /* what is missing may be in the bytes not shipped */
	if (!out->n_app_context)
		dm_viol_add(&out->viol, DM_V_APP_CONTEXT, "no application context item");
	if (!out->n_pcs_seen)
		dm_viol_add(&out->viol, DM_V_PC_MISSING, "no presentation context item");
	if (!out->n_user_info)
		dm_viol_add(&out->viol, DM_V_USER_INFO, "no user information item");
	return 0;
}

void dm_assoc_free(struct dm_assoc_info *a)
{
	free(a->pcs);
	free(a->ui.roles);
	free(a->ui.extneg);
	free(a->ui.cextneg);
	free(a->strs);
	memset(a, 0, sizeof(*a));
}

const char *dm_assoc_str(const struct dm_assoc_info *a, dm_str_t s)
{
	return s && a->strs && s < a->strs_len ? a->strs + s : NULL;
}

const struct dm_assoc_pc *dm_assoc_pc_find(const struct dm_assoc_info *a, uint8_t id)
{
	for (unsigned int i = 0; i < a->n_pcs; i++)
		if (a->pcs[i].id == id)
			return &a->pcs[i];
	return NULL;
}

size_t dm_assoc_mem(const struct dm_assoc_info *a)
{
	return (size_t)a->n_pcs * sizeof(*a->pcs) + (size_t)a->ui.n_roles * sizeof(*a->ui.roles) +
	       (size_t)a->ui.n_extneg * sizeof(*a->ui.extneg) +
	       (size_t)a->ui.n_cextneg * sizeof(*a->ui.cextneg) + a->strs_cap;
}

const char *dm_pc_result_name(uint8_t result)
{
	static const char *const names[] = {
	    "acceptance",
	    "user-rejection",
	    "no-reason",
	    "abstract-syntax-not-supported",
	    "transfer-syntaxes-not-supported",
	};

	return result < sizeof(names) / sizeof(names[0]) ? names[result] : "reserved";
}

const char *dm_identity_type_name(uint8_t type)
{
	static const char *const names[] = {
	    [DM_ID_USERNAME] = "username", [DM_ID_USERNAME_PASSCODE] = "username-passcode",
	    [DM_ID_KERBEROS] = "kerberos", [DM_ID_SAML] = "saml",
	    [DM_ID_JWT] = "jwt",
	};

	return type && type < sizeof(names) / sizeof(names[0]) ? names[type] : "reserved";
}

/* ---- RQ against AC ------------------------------------------------------------ */

static int ts_offered(const struct dm_assoc_info *rq, const struct dm_assoc_pc *p, const char *ts)
{
	for (unsigned int t = 0; t < p->n_ts; t++) {
		const char *o = dm_assoc_str(rq, p->ts[t]);

		if (o && !strcmp(o, ts))
			return 1;
	}
	return p->n_ts < p->n_ts_seen; /* not all kept: cannot tell */
}

static const struct dm_role *role_find(const struct dm_assoc_info *a, const char *uid)
{
	for (unsigned int i = 0; i < a->ui.n_roles; i++) {
		const char *s = dm_assoc_str(a, a->ui.roles[i].sop_class);

		if (s && !strcmp(s, uid))
			return &a->ui.roles[i];
	}
	return NULL;
}

void dm_assoc_match(const struct dm_assoc_info *rq, const struct dm_assoc_info *ac,
		    struct dm_violations *v)
{
	unsigned int i, id;

	if (rq->type != DM_PDU_ASSOC_RQ || ac->type != DM_PDU_ASSOC_AC)
		return;
	for (i = 0; i < ac->n_pcs; i++) {
		const struct dm_assoc_pc *q, *p = &ac->pcs[i];
		const char *ts = p->n_ts ? dm_assoc_str(ac, p->ts[0]) : NULL;

		if (!(rq->pc_ids[p->id >> 3] & (1u << (p->id & 7)))) {
			dm_viol_add(v, DM_V_PC_ITEM,
				    "presentation context %u answered, never proposed", p->id);
			continue;
		}
		q = dm_assoc_pc_find(rq, p->id);
		if (!p->result && q && ts && !ts_offered(rq, q, ts))
			dm_viol_add(
			    v, DM_V_PC_ITEM,
			    "presentation context %u: accepted transfer syntax not proposed",
			    p->id);
	}
	if (!ac->truncated && ac->n_pcs == ac->n_pcs_seen)
		for (id = 1; id < 256; id++)
			if ((rq->pc_ids[id >> 3] & (1u << (id & 7))) &&
			    !(ac->pc_ids[id >> 3] & (1u << (id & 7))))
				dm_viol_add(v, DM_V_PC_ITEM,
					    "presentation context %u proposed, not answered", id);
	for (i = 0; i < ac->ui.n_roles; i++) {
		const struct dm_role *r = &ac->ui.roles[i], *q;
		const char *uid = dm_assoc_str(ac, r->sop_class);

		q = uid ? role_find(rq, uid) : NULL;
		if (!q && rq->ui.n_roles == rq->ui.n_roles_seen)
			dm_viol_add(v, DM_V_ROLE, "role selection %u answered, never proposed", i);
		else if (q && ((r->scu && !q->scu) || (r->scp && !q->scp)))
			dm_viol_add(v, DM_V_ROLE, "role selection %u grants a role not proposed",
				    i);
	}
	if ((ac->ui.has & DM_UI_IDENTITY_AC) && !(rq->ui.has & DM_UI_IDENTITY_RQ))
		dm_viol_add(v, DM_V_USER_IDENTITY, "user identity response without a request");
}
