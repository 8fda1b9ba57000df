// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * User Information item (0x50) of an A-ASSOCIATE-RQ/AC: the sub-items of
 * PS3.8 Annex D and PS3.7 Annex D.3.3. Sub-items of unknown type are skipped
 * and counted, as PS3.8 D.2 requires of a receiver.
 *
 * User identity (0x58/0x59): this file reads the type, the flag and the
 * LENGTHS of the fields, and never touches, copies or quotes the bytes of a
 * username, passcode, ticket, assertion, token or server response.
 */
#include <string.h>
#include "dicomon.h"
#include "decode/assoc_decode_internal.h"

static void max_length(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;

	if (ui->has & DM_UI_MAX_LENGTH) {
		dm_viol_add(&c->a->viol, DM_V_MAX_LENGTH, "maximum length sub-item repeated");
		return;
	}
	if (blen != 4)
		dm_viol_add(&c->a->viol, DM_V_MAX_LENGTH,
			    "maximum length sub-item length %zu (4 expected)", blen);
	if (blen < 4)
		return;
	ui->has |= DM_UI_MAX_LENGTH;
	ui->max_length = dm_rd_be32(b);
}

static void impl_uid(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;

	if (ui->has & DM_UI_IMPL_UID) {
		dm_viol_add(&c->a->viol, DM_V_IMPL_UID,
			    "implementation class UID sub-item repeated");
		return;
	}
	ui->has |= DM_UI_IMPL_UID;
	ui->impl_uid = dm_actx_uid(c, b, blen, "implementation class UID", 1);
}

/* PS3.7 D.3.3.2.3: 1 to 16 characters of ISO 646 basic G0. */
static void impl_version(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;
	size_t i;

	if (ui->has & DM_UI_IMPL_VER) {
		dm_viol_add(&c->a->viol, DM_V_IMPL_VERSION,
			    "implementation version name sub-item repeated");
		return;
	}
	if (!blen)
		dm_viol_add(&c->a->viol, DM_V_IMPL_VERSION, "empty implementation version name");
	if (blen > DM_VERSION_NAME_MAX)
		dm_viol_add(&c->a->viol, DM_V_IMPL_VERSION,
			    "implementation version name length %zu exceeds 16", blen);
	for (i = 0; i < blen && i < DM_VERSION_NAME_MAX; i++) {
		if (b[i] < 0x20 || b[i] > 0x7e) {
			dm_viol_add(
			    &c->a->viol, DM_V_IMPL_VERSION,
			    "implementation version name byte 0x%02x at %zu outside ISO 646", b[i],
			    i);
			break;
		}
	}
	ui->has |= DM_UI_IMPL_VER;
	ui->impl_version = dm_actx_str(c, b, blen, DM_VERSION_NAME_MAX);
}

static void async_window(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;

	if (ui->has & DM_UI_ASYNC) {
		dm_viol_add(&c->a->viol, DM_V_SUBITEM,
			    "asynchronous operations window sub-item repeated");
		return;
	}
	if (blen != 4)
		dm_viol_add(&c->a->viol, DM_V_SUBITEM,
			    "asynchronous operations window sub-item length %zu (4 expected)",
			    blen);
	if (blen < 4)
		return;
	ui->has |= DM_UI_ASYNC;
	ui->async_invoked = dm_rd_be16(b);
	ui->async_performed = dm_rd_be16(b + 2);
}

/* PS3.7 D.3.3.4: UID-length, SOP class UID, SCU-role, SCP-role. */
static void role(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;
	struct dm_role *r;
	dm_str_t uid;
	size_t ulen;
	unsigned int i;

	if (ui->n_roles_seen < UINT16_MAX)
		ui->n_roles_seen++;
	ulen = blen >= 2 ? dm_rd_be16(b) : 0;
	if (blen < 4 || ulen + 4 != blen) {
		dm_viol_add(&c->a->viol, DM_V_SUBITEM,
			    "role selection: UID length %zu does not fit sub-item length %zu", ulen,
			    blen);
		if (blen < 4 || ulen + 4 > blen)
			return;
	}
	uid = dm_actx_uid(c, b + 2, ulen, "role selection SOP class",
			  ui->n_roles < DM_ASSOC_ROLE_KEEP);
	for (i = 0; i < ui->n_roles; i++)
		if (uid && ui->roles[i].sop_class == uid) /* the arena keeps one copy per string */
			dm_viol_add(&c->a->viol, DM_V_ROLE,
				    "role selection repeated for one SOP class (%u)", i);
	if (b[ulen + 2] > 1 || b[ulen + 3] > 1)
		dm_viol_add(&c->a->viol, DM_V_ROLE, "role selection: SCU/SCP values %u/%u (0 or 1)",
			    b[ulen + 2], b[ulen + 3]);
	r = dm_actx_push(c, (void **)&ui->roles, &ui->n_roles, &c->roles_cap, sizeof(*r),
			 DM_ASSOC_ROLE_KEEP);
	if (!r)
		return;
	r->sop_class = uid;
	r->scu = b[ulen + 2];
	r->scp = b[ulen + 3];
}

/* PS3.7 D.3.3.5: UID-length, SOP class UID, service-class-application-information. */
static void extneg(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;
	struct dm_extneg *e;
	dm_str_t uid;
	size_t ulen;
	unsigned int i;

	if (ui->n_extneg_seen < UINT16_MAX)
		ui->n_extneg_seen++;
	ulen = blen >= 2 ? dm_rd_be16(b) : 0;
	if (blen < 2 || ulen > blen - 2) {
		dm_viol_add(&c->a->viol, DM_V_SUBITEM,
			    "extended negotiation: UID length %zu exceeds sub-item length %zu",
			    ulen, blen);
		return;
	}
	uid = dm_actx_uid(c, b + 2, ulen, "extended negotiation SOP class",
			  ui->n_extneg < DM_ASSOC_EXTNEG_KEEP);
	for (i = 0; i < ui->n_extneg; i++)
		if (uid && ui->extneg[i].sop_class == uid)
			dm_viol_add(&c->a->viol, DM_V_SUBITEM,
				    "extended negotiation repeated for one SOP class (%u)", i);
	e = dm_actx_push(c, (void **)&ui->extneg, &ui->n_extneg, &c->extneg_cap, sizeof(*e),
			 DM_ASSOC_EXTNEG_KEEP);
	if (!e)
		return;
	e->sop_class = uid;
	e->info_len = (uint16_t)(blen - 2 - ulen);
	e->info_kept =
	    e->info_len < DM_EXTNEG_INFO_KEEP ? (uint8_t)e->info_len : DM_EXTNEG_INFO_KEEP;
	memcpy(e->info, b + 2 + ulen, e->info_kept);
}

/* A 2-byte length and that many bytes at *pos, inside [.., end). 0 when it does not fit. */
static int take_lv(const uint8_t *b, size_t *pos, size_t end, const uint8_t **val, size_t *n)
{
	if (end - *pos < 2)
		return 0;
	*n = dm_rd_be16(b + *pos);
	if (*n > end - *pos - 2)
		return 0;
	*val = b + *pos + 2;
	*pos += 2 + *n;
	return 1;
}

/*
 * PS3.7 D.3.3.6: SOP-class-UID-length, UID, service-class-UID-length, UID,
 * related-general-SOP-class-identification-length, then {length, UID}...
 */
static void cextneg(struct dm_actx *c, const uint8_t *b, size_t blen, uint8_t version)
{
	struct dm_user_info *ui = &c->a->ui;
	const uint8_t *sop, *svc, *rel;
	size_t sl, vl, rl, pos = 0, rpos, rend;
	struct dm_cextneg *e, tmp;
	const char *bad = NULL;

	if (ui->n_cextneg_seen < UINT16_MAX)
		ui->n_cextneg_seen++;
	if (c->a->type != DM_PDU_ASSOC_RQ) {
		dm_viol_add(&c->a->viol, DM_V_SUBITEM_PLACE,
			    "common extended negotiation (0x57) in an A-ASSOCIATE-AC");
		return;
	}
	if (!take_lv(b, &pos, blen, &sop, &sl))
		bad = "SOP class UID";
	else if (!take_lv(b, &pos, blen, &svc, &vl))
		bad = "service class UID";
	else if (blen - pos < 2)
		bad = "related general SOP class length";
	if (bad) {
		dm_viol_add(&c->a->viol, DM_V_SUBITEM,
			    "common extended negotiation: %s does not fit sub-item length %zu", bad,
			    blen);
		return;
	}
	e = dm_actx_push(c, (void **)&ui->cextneg, &ui->n_cextneg, &c->cextneg_cap, sizeof(*e),
			 DM_ASSOC_CEXTNEG_KEEP);
	if (!e) {
		memset(&tmp, 0, sizeof(tmp));
		e = &tmp; /* walked for its violations, not kept */
	}
	e->version = version;
	e->sop_class = dm_actx_uid(c, sop, sl, "common extended negotiation SOP class", e != &tmp);
	e->service_class =
	    dm_actx_uid(c, svc, vl, "common extended negotiation service class", e != &tmp);
	rl = dm_rd_be16(b + pos);
	rpos = pos + 2;
	rend = blen;
	if (rl != blen - rpos) {
		dm_viol_add(
		    &c->a->viol, DM_V_SUBITEM,
		    "common extended negotiation: related classes length %zu, %zu bytes left", rl,
		    blen - rpos);
		if (rl < blen - rpos)
			rend = rpos + rl;
	}
	while (rpos < rend) {
		if (!take_lv(b, &rpos, rend, &rel, &rl)) {
			dm_viol_add(&c->a->viol, DM_V_SUBITEM,
				    "common extended negotiation: related class %u overruns",
				    e->n_related_seen);
			break;
		}
		if (e->n_related_seen < UINT16_MAX)
			e->n_related_seen++;
		if (e->n_related < DM_ASSOC_RELATED_KEEP)
			e->related[e->n_related++] = dm_actx_uid(
			    c, rel, rl, "common extended negotiation related class", e != &tmp);
	}
}

/*
 * PS3.7 D.3.3.7 (RQ): type, positive-response-requested, primary-field-length,
 * primary field, secondary-field-length, secondary field. Lengths only.
 */
static void identity_rq(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;
	struct dm_violations *v = &c->a->viol;
	size_t plen, slen;

	if (c->a->type != DM_PDU_ASSOC_RQ) {
		dm_viol_add(v, DM_V_SUBITEM_PLACE,
			    "user identity request (0x58) in an A-ASSOCIATE-AC");
		return;
	}
	if (ui->has & DM_UI_IDENTITY_RQ) {
		dm_viol_add(v, DM_V_USER_IDENTITY, "user identity sub-item repeated");
		return;
	}
	if (blen < 6) {
		dm_viol_add(v, DM_V_USER_IDENTITY,
			    "user identity sub-item length %zu shorter than 6", blen);
		if (blen < 4)
			return;
	}
	ui->has |= DM_UI_IDENTITY_RQ;
	ui->id_type = b[0];
	ui->id_positive_response = b[1];
	plen = dm_rd_be16(b + 2);
	ui->id_primary_len = (uint16_t)plen;
	if (b[0] < DM_ID_USERNAME || b[0] > DM_ID_JWT)
		dm_viol_add(v, DM_V_USER_IDENTITY, "user identity type %u undefined", b[0]);
	if (b[1] > 1)
		dm_viol_add(v, DM_V_USER_IDENTITY, "positive-response-requested %u (0 or 1)", b[1]);
	if (!plen)
		dm_viol_add(v, DM_V_USER_IDENTITY, "user identity with an empty primary field");
	if (blen < 6 || plen > blen - 6) {
		if (blen >= 6)
			dm_viol_add(
			    v, DM_V_USER_IDENTITY,
			    "user identity primary field length %zu exceeds sub-item length %zu",
			    plen, blen);
		return;
	}
	slen = dm_rd_be16(b + 4 + plen);
	ui->id_secondary = slen > 0;
	if (6 + plen + slen != blen)
		dm_viol_add(
		    v, DM_V_USER_IDENTITY,
		    "user identity field lengths %zu + %zu do not match sub-item length %zu", plen,
		    slen, blen);
	if (b[0] == DM_ID_USERNAME_PASSCODE && !slen)
		dm_viol_add(v, DM_V_USER_IDENTITY, "username-passcode identity without a passcode");
	else if (b[0] != DM_ID_USERNAME_PASSCODE && slen)
		dm_viol_add(v, DM_V_USER_IDENTITY, "secondary field with user identity type %u",
			    b[0]);
}

/* PS3.7 D.3.3.7 (AC): server-response-length, server response. Length only. */
static void identity_ac(struct dm_actx *c, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;
	struct dm_violations *v = &c->a->viol;
	size_t rl;

	if (c->a->type != DM_PDU_ASSOC_AC) {
		dm_viol_add(v, DM_V_SUBITEM_PLACE,
			    "user identity response (0x59) in an A-ASSOCIATE-RQ");
		return;
	}
	if (ui->has & DM_UI_IDENTITY_AC) {
		dm_viol_add(v, DM_V_USER_IDENTITY, "user identity response sub-item repeated");
		return;
	}
	if (blen < 2) {
		dm_viol_add(v, DM_V_USER_IDENTITY,
			    "user identity response length %zu shorter than 2", blen);
		return;
	}
	rl = dm_rd_be16(b);
	if (rl + 2 != blen)
		dm_viol_add(v, DM_V_USER_IDENTITY,
			    "server response length %zu does not match sub-item length %zu", rl,
			    blen);
	ui->has |= DM_UI_IDENTITY_AC;
	ui->id_server_response_len = (uint16_t)rl;
}

static void sub_item(struct dm_actx *c, uint8_t type, uint8_t rsv, const uint8_t *b, size_t blen)
{
	struct dm_user_info *ui = &c->a->ui;

	switch (type) {
	case 0x51:
		max_length(c, b, blen);
		return;
	case 0x52:
		impl_uid(c, b, blen);
		return;
	case 0x53:
		async_window(c, b, blen);
		return;
	case 0x54:
		role(c, b, blen);
		return;
	case 0x55:
		impl_version(c, b, blen);
		return;
	case 0x56:
		extneg(c, b, blen);
		return;
	case 0x57:
		cextneg(c, b, blen, rsv);
		return;
	case 0x58:
		identity_rq(c, b, blen);
		return;
	case 0x59:
		identity_ac(c, b, blen);
		return;
	}
	/* PS3.8 D.2: types 0x51..0xFF are user data; a receiver ignores what it does not know. */
	if (ui->n_unknown < DM_ASSOC_UNKNOWN_KEEP)
		ui->unknown_types[ui->n_unknown] = type;
	if (ui->n_unknown < UINT16_MAX)
		ui->n_unknown++;
	if (type < 0x51)
		dm_viol_add(&c->a->viol, DM_V_ITEM_UNKNOWN,
			    "user information sub-item type 0x%02x (below 0x51)", type);
}

void dm_assoc_user_info(struct dm_actx *c, size_t body, size_t blen, int cut)
{
	struct dm_assoc_info *a = c->a;
	size_t pos, end = body + blen, sblen;
	int whole;

	if (a->n_user_info < UINT16_MAX && ++a->n_user_info == 2)
		dm_viol_add(&a->viol, DM_V_USER_INFO, "more than one user information item");
	if (a->n_user_info != 1)
		return;
	for (pos = body; pos < end && !c->nomem; pos += 4 + sblen) {
		if (end - pos < 4) {
			if (!cut)
				dm_viol_add(&a->viol, DM_V_ITEM_HEADER,
					    "user information sub-item header cut at offset %zu",
					    pos);
			break;
		}
		whole = dm_actx_fit(c, pos + 4, dm_rd_be16(c->p + pos + 2), end, cut, &sblen,
				    "user information sub-item");
		/* A sub-item clipped by the capture or by a lying length is not decoded. */
		if (whole)
			sub_item(c, c->p[pos], c->p[pos + 1], c->p + pos + 4, sblen);
	}
	if (cut)
		return;
	if (!(a->ui.has & DM_UI_MAX_LENGTH) && !dm_viol_has(&a->viol, DM_V_MAX_LENGTH))
		dm_viol_add(&a->viol, DM_V_MAX_LENGTH, "no maximum length sub-item");
	if (!(a->ui.has & DM_UI_IMPL_UID))
		dm_viol_add(&a->viol, DM_V_IMPL_UID, "no implementation class UID sub-item");
}
