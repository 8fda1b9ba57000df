// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * DIMSE command set decoder (PS3.7 6.3, Annex E) over the head of a P-DATA-TF
 * PDU (PS3.8 9.3.5, Annex E), and the status code names (PS3.7 Annex C,
 * PS3.4 service classes).
 *
 * PDUs and PDV headers are big-endian, command elements little-endian.
 * Every element length is checked against the bytes left; an element the
 * capture cut is reported as truncation, one whose length lies as a
 * violation. Only values on the allow-list (cmdkeep.h) are copied, and of
 * those not the instance UIDs: error comments, offending elements, error
 * ids and the rest are skipped over (presence and length only).
 */
#include <errno.h>
#include <string.h>
#include "dicomon.h"
#include "decode/cmdkeep.h"
#include "decode/dimse.h"
#include "lib/names.h"

enum vr { VR_UL, VR_US, VR_UI, VR_AE, VR_AT, VR_LO };

static const struct cmd_elem {
	uint16_t elem;
	uint8_t vr;
	uint32_t bit;
} cmd_elems[] = {
    {0x0000, VR_UL, DM_DC_GROUP_LENGTH},  {0x0002, VR_UI, DM_DC_AFFECTED_SOP},
    {0x0003, VR_UI, DM_DC_REQUESTED_SOP}, {0x0100, VR_US, DM_DC_COMMAND},
    {0x0110, VR_US, DM_DC_MESSAGE_ID},	  {0x0120, VR_US, DM_DC_RESPONDED_TO},
    {0x0600, VR_AE, DM_DC_MOVE_DEST},	  {0x0700, VR_US, DM_DC_PRIORITY},
    {0x0800, VR_US, DM_DC_DATA_SET_TYPE}, {0x0900, VR_US, DM_DC_STATUS},
    {0x0901, VR_AT, DM_DC_OFFENDING},	  {0x0902, VR_LO, DM_DC_ERROR_COMMENT},
    {0x0903, VR_US, DM_DC_ERROR_ID},	  {0x1000, VR_UI, DM_DC_AFFECTED_INST},
    {0x1001, VR_UI, DM_DC_REQUEST_INST},  {0x1002, VR_US, DM_DC_EVENT_TYPE},
    {0x1005, VR_AT, DM_DC_ATTR_LIST},	  {0x1008, VR_US, DM_DC_ACTION_TYPE},
    {0x1020, VR_US, DM_DC_REMAINING},	  {0x1021, VR_US, DM_DC_COMPLETED},
    {0x1022, VR_US, DM_DC_FAILED},	  {0x1023, VR_US, DM_DC_WARNING},
    {0x1030, VR_AE, DM_DC_MOVE_ORIG_AE},  {0x1031, VR_US, DM_DC_MOVE_ORIG_ID},
};

/* ACR-NEMA command elements retired from PS3.7 (Annex E.2). */
static const uint16_t retired[] = {0x0001, 0x0010, 0x0200, 0x0300, 0x0400, 0x0850, 0x0860, 0x4000,
				   0x4010, 0x5010, 0x5020, 0x5110, 0x5120, 0x5130, 0x5140, 0x5150,
				   0x5160, 0x5170, 0x5180, 0x5190, 0x51a0, 0x51b0};

static const struct cmd_elem *elem_find(uint16_t elem)
{
	for (size_t i = 0; i < sizeof(cmd_elems) / sizeof(cmd_elems[0]); i++)
		if (cmd_elems[i].elem == elem)
			return &cmd_elems[i];
	return NULL;
}

static int is_retired(uint16_t elem)
{
	for (size_t i = 0; i < sizeof(retired) / sizeof(retired[0]); i++)
		if (retired[i] == elem)
			return 1;
	return 0;
}

/* ---- PDVs: collect the command bytes --------------------------------------------- */

struct pdv_walk {
	uint8_t buf[DM_DIMSE_CMD_MAX];
	size_t n;
};

int dm_pdv_next(const uint8_t *pdu, size_t pos, size_t pdu_end, size_t len,
		struct dm_violations *v, size_t *frag, size_t *frag_len)
{
	uint32_t plen;

	if (pos >= pdu_end)
		return -1;
	if (pdu_end - pos < 6) {
		dm_viol_add(v, DM_V_PDATA, "PDV header cut by the PDU end at offset %zu", pos);
		return -1;
	}
	if (pos > len || len - pos < 6)
		return -1; /* the capture ends here */
	plen = dm_rd_be32(pdu + pos);
	if (plen < 2) {
		dm_viol_add(v, DM_V_PDATA, "PDV length %u at offset %zu shorter than 2", plen, pos);
		return -1;
	}
	if (plen > pdu_end - pos - 4) {
		dm_viol_add(v, DM_V_PDATA,
			    "PDV length %u at offset %zu exceeds the PDU (%zu bytes left)", plen,
			    pos, pdu_end - pos - 4);
		plen = (uint32_t)(pdu_end - pos - 4);
	}
	if (!(pdu[pos + 4] & 1))
		dm_viol_add(v, DM_V_PDATA, "even presentation context id %u in a PDV",
			    pdu[pos + 4]);
	if (pdu[pos + 5] & 0xfc)
		dm_viol_add(v, DM_V_PDATA, "message control header 0x%02x has reserved bits set",
			    pdu[pos + 5]);
	*frag = pos + 6;
	*frag_len = plen - 2;
	return 0;
}

static int pdv_header(struct dm_dimse_cmd *out, const uint8_t *pdu, size_t pos, size_t pdu_end,
		      size_t len, size_t *frag, size_t *frag_len)
{
	if (dm_pdv_next(pdu, pos, pdu_end, len, &out->viol, frag, frag_len))
		return -1;
	if (out->n_pdvs < UINT16_MAX)
		out->n_pdvs++;
	return 0;
}

static void collect(struct dm_dimse_cmd *out, struct pdv_walk *w, const uint8_t *pdu, size_t len,
		    size_t pdu_end)
{
	size_t pos = 6, frag, flen, have;
	uint8_t mch;

	/* Each PDV is at least 6 bytes long, so the walk ends. */
	while (pos < pdu_end && !pdv_header(out, pdu, pos, pdu_end, len, &frag, &flen)) {
		mch = pdu[pos + 5];
		if (out->complete) {
			if (!(mch & 1) && pdu[pos + 4] == out->pc_id &&
			    out->data_pdvs_after < UINT16_MAX)
				out->data_pdvs_after++;
			else if (mch & 1)
				dm_viol_add(&out->viol, DM_V_CMD_FRAGMENT,
					    "command fragment after the command's last");
		} else if (pos > 6) {
			if (!(mch & 1))
				dm_viol_add(&out->viol, DM_V_CMD_FRAGMENT,
					    "data set fragment before the command's last fragment");
			else if (pdu[pos + 4] != out->pc_id)
				dm_viol_add(&out->viol, DM_V_CMD_FRAGMENT,
					    "command fragment on context %u after %u", pdu[pos + 4],
					    out->pc_id);
		}
		if (!out->complete && (mch & 1)) {
			have = frag < len ? len - frag : 0;
			if (have > flen)
				have = flen;
			else if (have < flen)
				out->truncated = 1; /* the capture ends inside this fragment */
			if (have > sizeof(w->buf) - w->n) {
				have = sizeof(w->buf) - w->n;
				out->truncated = 1;
			}
			memcpy(w->buf + w->n, pdu + frag, have);
			w->n += have;
			if (mch & 2)
				out->complete = 1;
			if (out->truncated)
				return;
		}
		pos = frag + flen;
	}
}

/* ---- elements -------------------------------------------------------------------- */

static void uid_value(struct dm_dimse_cmd *out, char dst[65], const uint8_t *v, size_t n,
		      uint16_t elem)
{
	const char *why;
	size_t at, i;

	if (n && v[n - 1] == 0)
		n--; /* PS3.5: UI values are padded to even length with a NUL */
	why = dm_uid_problem(v, n, &at);
	if (why)
		dm_viol_add(&out->viol, DM_V_UID, "(0000,%04x): %s (length %zu, at %zu)", elem, why,
			    n, at);
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		dst[i] = v[i] >= 0x20 && v[i] <= 0x7e ? (char)v[i] : '?';
	dst[n] = 0;
}

static void ae_value(struct dm_dimse_cmd *out, struct dm_ae *ae, const uint8_t *v, size_t n,
		     const char *what)
{
	char names[64];

	if (n > 16)
		dm_viol_add(&out->viol, DM_V_CMD_ELEMENT, "%s AE title length %zu exceeds 16", what,
			    n);
	dm_ae_set(ae, v, n);
	if (ae->flags & DM_AE_BAD) {
		dm_ae_flags_string(ae->flags & DM_AE_BAD, names, sizeof(names));
		dm_viol_add(&out->viol, DM_V_AE_TITLE, "%s AE title: %s", what, names);
	}
}

static void us_value(struct dm_dimse_cmd *out, uint16_t elem, uint16_t v)
{
	switch (elem) {
	case 0x0100:
		out->command = v;
		break;
	case 0x0110:
		out->message_id = v;
		break;
	case 0x0120:
		out->responded_to = v;
		break;
	case 0x0700:
		out->priority = v;
		break;
	case 0x0800:
		out->data_set_type = v;
		break;
	case 0x0900:
		out->status = v;
		break;
	case 0x1020:
		out->remaining = v;
		break;
	case 0x1021:
		out->completed = v;
		break;
	case 0x1022:
		out->failed = v;
		break;
	case 0x1023:
		out->warning = v;
		break;
	case 0x1031:
		out->move_orig_msg_id = v;
		break;
	}
}

/* One known element's value; v[0..n) is inside the command bytes. */
static void element(struct dm_dimse_cmd *out, const struct cmd_elem *e, const uint8_t *v, size_t n)
{
	static const uint8_t need[] = {[VR_UL] = 4, [VR_US] = 2};

	if ((e->vr == VR_UL || e->vr == VR_US) && n != need[e->vr]) {
		dm_viol_add(&out->viol, DM_V_CMD_ELEMENT, "(0000,%04x) length %zu, %s needs %u",
			    e->elem, n, e->vr == VR_UL ? "UL" : "US", need[e->vr]);
		return;
	}
	out->present |= e->bit;
	switch (e->vr) {
	case VR_UL:
		out->group_length = dm_rd_le32(v);
		break;
	case VR_US:
		/* Error ID, event and action type ids: outside the allow-list, presence only. */
		if (dm_cmd_value_max(e->elem))
			us_value(out, e->elem, dm_rd_le16(v));
		break;
	case VR_UI:
		if (e->elem == 0x0002)
			uid_value(out, out->affected_sop_class, v, n, e->elem);
		else if (e->elem == 0x0003)
			uid_value(out, out->requested_sop_class, v, n, e->elem);
		else if (n > 64) /* instance UIDs: only the length is looked at */
			dm_viol_add(&out->viol, DM_V_UID, "(0000,%04x): UID length %zu exceeds 64",
				    e->elem, n);
		break;
	case VR_AE:
		ae_value(out, e->elem == 0x0600 ? &out->move_destination : &out->move_originator, v,
			 n, e->elem == 0x0600 ? "move destination" : "move originator");
		break;
	case VR_AT:
		if (n % 4)
			dm_viol_add(&out->viol, DM_V_CMD_ELEMENT,
				    "(0000,%04x) length %zu not a multiple of 4", e->elem, n);
		break;
	case VR_LO:
		out->error_comment_len = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
		if (n > 64)
			dm_viol_add(&out->viol, DM_V_CMD_ELEMENT,
				    "error comment length %zu exceeds 64", n);
		break;
	}
}

static void walk_elements(struct dm_dimse_cmd *out, const uint8_t *b, size_t n)
{
	uint32_t tag, last = 0, prev, vlen;
	size_t pos = 0, glen_end = 0;
	const struct cmd_elem *e;
	uint16_t group, elem;
	int any = 0;

	/* Each element is at least 8 bytes long, so the walk ends. */
	for (; pos < n; pos += 8 + (size_t)vlen) {
		if (n - pos < 8) {
			if (out->complete && !out->truncated)
				dm_viol_add(&out->viol, DM_V_CMD_ELEMENT,
					    "element header cut at command offset %zu", pos);
			break;
		}
		group = dm_rd_le16(b + pos);
		elem = dm_rd_le16(b + pos + 2);
		vlen = dm_rd_le32(b + pos + 4);
		tag = (uint32_t)group << 16 | elem;
		if (out->n_elements < UINT16_MAX)
			out->n_elements++;
		prev = last;
		if (any && tag < prev)
			dm_viol_add(&out->viol, DM_V_CMD_ORDER, "(%04x,%04x) after (%04x,%04x)",
				    group, elem, prev >> 16, prev & 0xffff);
		else if (any && tag == prev)
			dm_viol_add(&out->viol, DM_V_CMD_DUPLICATE, "(%04x,%04x) repeated", group,
				    elem);
		if (!any || tag > prev)
			last = tag;
		if (vlen & 1)
			dm_viol_add(&out->viol, DM_V_CMD_ELEMENT, "(%04x,%04x) odd length %u",
				    group, elem, vlen);
		if (vlen > n - pos - 8) {
			/* Unless the rest was not shipped or is in a later PDU, the length lies. */
			if (out->complete && !out->truncated)
				dm_viol_add(
				    &out->viol, DM_V_CMD_ELEMENT,
				    "(%04x,%04x) length %u exceeds the command set (%zu left)",
				    group, elem, vlen, n - pos - 8);
			break;
		}
		if (tag == 0 && any)
			dm_viol_add(&out->viol, DM_V_CMD_GROUP_LENGTH,
				    "group length is not the first element");
		if (tag == 0 && !any)
			glen_end = pos + 8 + vlen;
		any = 1;
		if (group != 0) {
			dm_viol_add(&out->viol, DM_V_CMD_ELEMENT,
				    "(%04x,%04x) outside group 0000 in a command set", group, elem);
			continue;
		}
		e = elem_find(elem);
		if (!e) {
			dm_viol_add(&out->viol, DM_V_CMD_ELEMENT, "(0000,%04x) %s", elem,
				    is_retired(elem) ? "is a retired ACR-NEMA element"
						     : "is not a command element");
			continue;
		}
		if (out->present & e->bit) {
			/* Repeated out of order: say it is also a repetition. The first value
			 * stands. */
			if (tag < prev)
				dm_viol_add(&out->viol, DM_V_CMD_DUPLICATE, "(0000,%04x) repeated",
					    elem);
			continue;
		}
		element(out, e, b + pos + 8, vlen);
	}
	if (!any || !out->complete || out->truncated)
		return;
	if (!(out->present & DM_DC_GROUP_LENGTH)) {
		dm_viol_add(&out->viol, DM_V_CMD_GROUP_LENGTH, "no command group length");
	} else if (glen_end && out->group_length != n - glen_end) {
		dm_viol_add(&out->viol, DM_V_CMD_GROUP_LENGTH,
			    "group length %u, %zu bytes of command follow it", out->group_length,
			    n - glen_end);
	}
}

/* ---- the command ----------------------------------------------------------------- */

static void need(struct dm_dimse_cmd *out, const char *name, uint32_t bit, const char *what)
{
	if (!(out->present & bit))
		dm_viol_add(&out->viol, DM_V_CMD_REQUIRED, "%s without %s", name, what);
}

/* PS3.7 Chapters 9 and 10: what each command must carry. Only for a whole command set. */
static void check_command(struct dm_dimse_cmd *out)
{
	uint16_t cmd = out->command, base = cmd & 0x7fff;
	const char *name = dm_dimse_name(cmd);
	int rsp = cmd & 0x8000, none;

	if (!name) {
		dm_viol_add(&out->viol, DM_V_CMD_FIELD, "command field 0x%04x unknown", cmd);
		return;
	}
	need(out, name, DM_DC_DATA_SET_TYPE, "command data set type");
	none = !dm_dimse_has_data_set(out);
	if (cmd == 0x0fff) {
		need(out, name, DM_DC_RESPONDED_TO, "message ID being responded to");
		return;
	}
	if (rsp) {
		need(out, name, DM_DC_RESPONDED_TO, "message ID being responded to");
		need(out, name, DM_DC_STATUS, "status");
	} else {
		need(out, name, DM_DC_MESSAGE_ID, "message ID");
	}
	if (!rsp && (base <= 0x0030 || base == 0x0100 || base == 0x0140))
		need(out, name, DM_DC_AFFECTED_SOP, "affected SOP class UID");
	if (!rsp && (base == 0x0110 || base == 0x0120 || base == 0x0130 || base == 0x0150)) {
		need(out, name, DM_DC_REQUESTED_SOP, "requested SOP class UID");
		need(out, name, DM_DC_REQUEST_INST, "requested SOP instance UID");
	}
	if (!rsp && base == 0x0100) {
		need(out, name, DM_DC_AFFECTED_INST, "affected SOP instance UID");
		need(out, name, DM_DC_EVENT_TYPE, "event type ID");
	}
	if (!rsp && base == 0x0130)
		need(out, name, DM_DC_ACTION_TYPE, "action type ID");
	if (!rsp && (base == 0x0001 || base == 0x0010 || base == 0x0020 || base == 0x0021)) {
		need(out, name, DM_DC_PRIORITY, "priority");
		if (out->present & DM_DC_DATA_SET_TYPE && none)
			dm_viol_add(&out->viol, DM_V_CMD_VALUE, "%s announces no %s", name,
				    base == 0x0001 ? "data set" : "identifier");
	}
	if (!rsp && base == 0x0001)
		need(out, name, DM_DC_AFFECTED_INST, "affected SOP instance UID");
	if (!rsp && base == 0x0021)
		need(out, name, DM_DC_MOVE_DEST, "move destination");
	if (base == 0x0030 && !none)
		dm_viol_add(&out->viol, DM_V_CMD_VALUE, "%s with a data set", name);
}

int dm_dimse_has_data_set(const struct dm_dimse_cmd *c)
{
	return (c->present & DM_DC_DATA_SET_TYPE) && c->data_set_type != DM_DATA_SET_NONE;
}

int dm_dimse_decode(const uint8_t *pdu, size_t len, struct dm_dimse_cmd *out)
{
	struct pdv_walk w;
	size_t pdu_end;

	memset(out, 0, sizeof(*out));
	w.n = 0;
	if (len < 6) {
		dm_viol_add(&out->viol, DM_V_PDU_SHORT, "%zu bytes, not even a PDU header", len);
		return -EINVAL;
	}
	if (pdu[0] != DM_PDU_P_DATA) {
		dm_viol_add(&out->viol, DM_V_PDU_TYPE, "PDU type 0x%02x is not P-DATA-TF", pdu[0]);
		return -EINVAL;
	}
	out->pdu_len = dm_rd_be32(pdu + 2);
	pdu_end = 6 + (size_t)out->pdu_len;
	if (len > pdu_end)
		dm_viol_add(&out->viol, DM_V_PDU_TRAILING, "%zu bytes after the PDU",
			    len - pdu_end);
	if (out->pdu_len < 6) {
		dm_viol_add(&out->viol, DM_V_PDU_LENGTH, "P-DATA-TF PDU-length %u holds no PDV",
			    out->pdu_len);
		return -EINVAL;
	}
	if (len < 12) {
		dm_viol_add(&out->viol, DM_V_PDU_SHORT, "%zu bytes, the first PDV header needs 12",
			    len);
		return -EINVAL;
	}
	out->pc_id = pdu[10];
	out->mch = pdu[11];
	if (!(out->mch & 1))
		return -ENODATA;
	collect(out, &w, pdu, len, pdu_end);
	if (!out->n_pdvs)
		return -EINVAL;
	out->cmd_len = (uint32_t)w.n;
	walk_elements(out, w.buf, w.n);
	if (!out->complete || out->truncated) {
		if (out->present & DM_DC_COMMAND && !dm_dimse_name(out->command))
			dm_viol_add(&out->viol, DM_V_CMD_FIELD, "command field 0x%04x unknown",
				    out->command);
		return 0; /* judged on what was there; the rest is not ours to see */
	}
	if (!(out->present & DM_DC_COMMAND))
		dm_viol_add(&out->viol, DM_V_CMD_FIELD, "no command field");
	else
		check_command(out);
	if (out->data_pdvs_after && !dm_dimse_has_data_set(out))
		dm_viol_add(&out->viol, DM_V_CMD_VALUE,
			    "data set fragment after a command announcing none");
	if (out->present & DM_DC_PRIORITY && out->priority > DM_PRIORITY_LOW)
		dm_viol_add(&out->viol, DM_V_CMD_VALUE, "priority 0x%04x (0, 1 or 2)",
			    out->priority);
	return 0;
}

/* ---- status names ---------------------------------------------------------------- */

struct status_name {
	uint16_t lo, hi;
	const char *name;
};

/* PS3.7 Annex C (general statuses, every service). */
static const struct status_name general[] = {
    {0x0000, 0x0000, "Success"},
    {0x0001, 0x0001, "Warning: Requested optional attributes are not supported"},
    {0x0105, 0x0105, "Failure: No such attribute"},
    {0x0106, 0x0106, "Failure: Invalid attribute value"},
    {0x0107, 0x0107, "Warning: Attribute list error"},
    {0x0110, 0x0110, "Failure: Processing failure"},
    {0x0111, 0x0111, "Failure: Duplicate SOP instance"},
    {0x0112, 0x0112, "Failure: No such SOP instance"},
    {0x0113, 0x0113, "Failure: No such event type"},
    {0x0114, 0x0114, "Failure: No such argument"},
    {0x0115, 0x0115, "Failure: Invalid argument value"},
    {0x0116, 0x0116, "Warning: Attribute value out of range"},
    {0x0117, 0x0117, "Failure: Invalid object instance"},
    {0x0118, 0x0118, "Failure: No such SOP class"},
    {0x0119, 0x0119, "Failure: Class-instance conflict"},
    {0x0120, 0x0120, "Failure: Missing attribute"},
    {0x0121, 0x0121, "Failure: Missing attribute value"},
    {0x0122, 0x0122, "Refused: SOP class not supported"},
    {0x0123, 0x0123, "Failure: No such action"},
    {0x0124, 0x0124, "Refused: Not authorized"},
    {0x0210, 0x0210, "Failure: Duplicate invocation"},
    {0x0211, 0x0211, "Failure: Unrecognized operation"},
    {0x0212, 0x0212, "Failure: Mistyped argument"},
    {0x0213, 0x0213, "Failure: Resource limitation"},
    {0xfe00, 0xfe00, "Cancel"},
    {0, 0, NULL},
};

/* PS3.4 B.2.3 */
static const struct status_name store[] = {
    {0xa700, 0xa7ff, "Refused: Out of resources"},
    {0xa900, 0xa9ff, "Error: Data set does not match SOP class"},
    {0xb000, 0xb000, "Warning: Coercion of data elements"},
    {0xb006, 0xb006, "Warning: Elements discarded"},
    {0xb007, 0xb007, "Warning: Data set does not match SOP class"},
    {0xc000, 0xcfff, "Error: Cannot understand"},
    {0, 0, NULL},
};

/* PS3.4 C.4.1.1.4 */
static const struct status_name find[] = {
    {0xa700, 0xa700, "Refused: Out of resources"},
    {0xa900, 0xa900, "Failed: Identifier does not match SOP class"},
    {0xc000, 0xcfff, "Failed: Unable to process"},
    {0xfe00, 0xfe00, "Cancel: Matching terminated due to cancel request"},
    {0xff00, 0xff00, "Pending: Matches are continuing"},
    {0xff01, 0xff01, "Pending: Matches are continuing, optional keys not supported"},
    {0, 0, NULL},
};

/* PS3.4 C.4.2.1.5 (C-MOVE) and C.4.3.1.4 (C-GET) */
static const struct status_name retrieve[] = {
    {0xa701, 0xa701, "Refused: Out of resources, unable to calculate number of matches"},
    {0xa702, 0xa702, "Refused: Out of resources, unable to perform sub-operations"},
    {0xa801, 0xa801, "Refused: Move destination unknown"},
    {0xa900, 0xa900, "Failed: Identifier does not match SOP class"},
    {0xaa00, 0xaa00, "Failed: None of the frames requested were found"},
    {0xaa01, 0xaa01, "Failed: Unable to create new object for this SOP class"},
    {0xaa02, 0xaa02, "Failed: Unable to extract frames"},
    {0xaa03, 0xaa03, "Failed: Time-based request for a non-time-based instance"},
    {0xaa04, 0xaa04, "Failed: Invalid request"},
    {0xb000, 0xb000, "Warning: Sub-operations complete, one or more failures"},
    {0xc000, 0xcfff, "Failed: Unable to process"},
    {0xfe00, 0xfe00, "Cancel: Sub-operations terminated due to cancel indication"},
    {0xff00, 0xff00, "Pending: Sub-operations are continuing"},
    {0, 0, NULL},
};

static const char *status_lookup(const struct status_name *t, uint16_t s)
{
	for (; t->name; t++)
		if (s >= t->lo && s <= t->hi)
			return t->name;
	return NULL;
}

const char *dm_status_name(uint16_t command, uint16_t status)
{
	const struct status_name *svc = NULL;
	const char *n;

	switch (command & 0x7fff) {
	case 0x0001:
		svc = store;
		break;
	case 0x0020:
		svc = find;
		break;
	case 0x0010:
	case 0x0021:
		svc = retrieve;
		break;
	}
	if (svc && (n = status_lookup(svc, status)))
		return (command & 0x7fff) == 0x0010 && status == 0xa801 ? NULL : n;
	return status_lookup(general, status);
}
