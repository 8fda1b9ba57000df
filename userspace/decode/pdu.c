// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dicomon.h"
#include "decode/pdu.h"

/*
 * AE titles, RJ/ABORT codes, the violation list and piece reassembly. The
 * A-ASSOCIATE decoder is assoc_decode.c, the DIMSE command set decoder dimse.c.
 */

void dm_ae_string(const uint8_t ae[16], char out[DM_AE_STR])
{
	int lo = 0, hi = 16, i;
	char *o = out;

	while (lo < hi && ae[lo] == ' ')
		lo++;
	while (hi > lo && ae[hi - 1] == ' ')
		hi--;
	for (i = lo; i < hi; i++) {
		if (ae[i] >= 0x20 && ae[i] <= 0x7e && ae[i] != '\\')
			*o++ = (char)ae[i];
		else
			o += sprintf(o, "\\x%02x", ae[i]);
	}
	*o = 0;
}

uint8_t dm_ae_flags(const uint8_t ae[16])
{
	int i, lo = 0, hi = 16, nul = -1;
	uint8_t f = 0;

	for (i = 0; i < 16; i++) {
		uint8_t c = ae[i];

		if (c == 0) {
			if (nul < 0)
				nul = i;
		} else if (c < 0x20) {
			f |= DM_AE_CTRL;
		} else if (c == '\\') {
			f |= DM_AE_BACKSLASH;
		} else if (c > 0x7e) {
			f |= DM_AE_HIGH;
		}
		/* Past a NUL, anything but padding means a C string would hide it. */
		if (nul >= 0 && c != 0 && c != ' ')
			f |= DM_AE_NUL;
	}
	if (nul >= 0 && !(f & DM_AE_NUL))
		f |= DM_AE_NUL_PAD;
	while (lo < hi && (ae[lo] == ' ' || ae[lo] == 0))
		lo++;
	while (hi > lo && (ae[hi - 1] == ' ' || ae[hi - 1] == 0))
		hi--;
	if (lo == hi)
		f |= DM_AE_EMPTY;
	for (i = lo; i < hi; i++)
		if (ae[i] == ' ')
			f |= DM_AE_INNER_SP;
	return f;
}

void dm_ae_set(struct dm_ae *ae, const uint8_t *p, size_t n)
{
	if (n > 16)
		n = 16;
	memset(ae->raw, ' ', sizeof(ae->raw));
	if (n)
		memcpy(ae->raw, p, n);
	dm_ae_string(ae->raw, ae->str);
	ae->flags = dm_ae_flags(ae->raw);
}

/* By bit number: ae_flag_names[b] names DM_AE_* 1 << b. */
static const char *const ae_flag_names[DM_AE_FLAG_BITS] = {
    "ctrl", "backslash", "high", "nul", "nul_pad", "empty", "inner_space",
};
_Static_assert(DM_AE_CTRL == 1 && DM_AE_EMPTY == 1 << 5 &&
		   DM_AE_INNER_SP == 1 << (DM_AE_FLAG_BITS - 1),
	       "ae_flag_names follows the DM_AE_* bits");

const char *dm_ae_flag_name(unsigned int bit)
{
	return bit < DM_AE_FLAG_BITS ? ae_flag_names[bit] : NULL;
}

void dm_ae_flags_string(uint8_t flags, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	if (!len)
		return;
	buf[0] = 0;
	for (i = 0; i < DM_AE_FLAG_BITS; i++) {
		if (!(flags & (1u << i)))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", ae_flag_names[i]);
		if (n < 0 || (size_t)n >= len - o)
			return; /* cut, still terminated */
		o += (size_t)n;
	}
}

int dm_assoc_hdr_parse(const uint8_t *pdu, size_t len, struct dm_assoc_hdr *out)
{
	if (len < 42 || (pdu[0] != DM_PDU_ASSOC_RQ && pdu[0] != DM_PDU_ASSOC_AC))
		return -EINVAL;
	out->protocol_version = (uint16_t)(pdu[6] << 8 | pdu[7]);
	dm_ae_string(pdu + 10, out->called);
	dm_ae_string(pdu + 26, out->calling);
	return 0;
}

int dm_reject_parse(const uint8_t *pdu, size_t len, struct dm_reject *out)
{
	if (len < 10 || (pdu[0] != DM_PDU_ASSOC_RJ && pdu[0] != DM_PDU_ABORT))
		return -EINVAL;
	out->result = pdu[0] == DM_PDU_ASSOC_RJ ? pdu[7] : 0;
	out->source = pdu[8];
	out->reason = pdu[9];
	return 0;
}

const char *dm_reject_source_name(uint8_t source)
{
	switch (source) {
	case 1:
		return "service-user";
	case 2:
		return "service-provider-acse";
	case 3:
		return "service-provider-presentation";
	default:
		return "reserved";
	}
}

/* PS3.8 Table 9-21 */
const char *dm_reject_reason_name(uint8_t source, uint8_t reason)
{
	switch (source << 8 | reason) {
	case 0x0101:
	case 0x0201:
		return "no-reason-given";
	case 0x0102:
		return "application-context-name-not-supported";
	case 0x0103:
		return "calling-AE-title-not-recognized";
	case 0x0107:
		return "called-AE-title-not-recognized";
	case 0x0202:
		return "protocol-version-not-supported";
	case 0x0301:
		return "temporary-congestion";
	case 0x0302:
		return "local-limit-exceeded";
	default:
		return "reserved";
	}
}

/* PS3.8 Table 9-26 */
const char *dm_abort_reason_name(uint8_t source, uint8_t reason)
{
	static const char *const provider[] = {
	    "reason-not-specified",
	    "unrecognized-PDU",
	    "unexpected-PDU",
	    "reserved",
	    "unrecognized-PDU-parameter",
	    "unexpected-PDU-parameter",
	    "invalid-PDU-parameter-value",
	};

	if (source == 0)
		return "service-user";
	if (source == 2 && reason < sizeof(provider) / sizeof(provider[0]))
		return provider[reason];
	return "reserved";
}

const char *dm_uid_problem(const uint8_t *s, size_t n, size_t *at)
{
	size_t i, comp = 0;

	*at = 0;
	if (!n)
		return "empty UID";
	if (n > 64) {
		*at = 64;
		return "UID longer than 64";
	}
	for (i = 0; i < n; i++) {
		*at = i;
		if (s[i] == '.') {
			if (!comp)
				return "empty UID component";
			comp = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			if (comp == 1 && s[i - 1] == '0')
				return "UID component with a leading zero";
			comp++;
		} else {
			return "UID byte not a digit or dot";
		}
	}
	*at = n - 1;
	return comp ? NULL : "UID ends with a dot";
}

static const char *const viol_names[DM_V_MAX] = {
    [DM_V_NONE] = "none",
    [DM_V_PDU_SHORT] = "pdu_short",
    [DM_V_PDU_TYPE] = "pdu_type",
    [DM_V_PDU_LENGTH] = "pdu_length",
    [DM_V_PDU_TRAILING] = "pdu_trailing",
    [DM_V_PROTOCOL_VERSION] = "protocol_version",
    [DM_V_AE_TITLE] = "ae_title",
    [DM_V_ITEM_HEADER] = "item_header",
    [DM_V_ITEM_OVERRUN] = "item_overrun",
    [DM_V_ITEM_UNKNOWN] = "item_unknown",
    [DM_V_ITEM_EMPTY] = "item_empty",
    [DM_V_APP_CONTEXT] = "app_context",
    [DM_V_PC_MISSING] = "pc_missing",
    [DM_V_PC_ID] = "pc_id",
    [DM_V_PC_DUPLICATE] = "pc_duplicate",
    [DM_V_PC_TOO_MANY] = "pc_too_many",
    [DM_V_PC_ITEM] = "pc_item",
    [DM_V_PC_RESULT] = "pc_result",
    [DM_V_UID] = "uid",
    [DM_V_USER_INFO] = "user_info",
    [DM_V_MAX_LENGTH] = "max_length",
    [DM_V_IMPL_UID] = "impl_class_uid",
    [DM_V_IMPL_VERSION] = "impl_version",
    [DM_V_SUBITEM] = "subitem",
    [DM_V_SUBITEM_PLACE] = "subitem_place",
    [DM_V_ROLE] = "role",
    [DM_V_USER_IDENTITY] = "user_identity",
    [DM_V_PDATA] = "pdata",
    [DM_V_CMD_FRAGMENT] = "cmd_fragment",
    [DM_V_CMD_GROUP_LENGTH] = "cmd_group_length",
    [DM_V_CMD_ELEMENT] = "cmd_element",
    [DM_V_CMD_ORDER] = "cmd_order",
    [DM_V_CMD_DUPLICATE] = "cmd_duplicate",
    [DM_V_CMD_FIELD] = "cmd_field",
    [DM_V_CMD_REQUIRED] = "cmd_required",
    [DM_V_CMD_VALUE] = "cmd_value",
    [DM_V_PDU_INCOMPLETE] = "pdu_incomplete",
    [DM_V_STREAM_PDU_TYPE] = "stream_pdu_type",
    [DM_V_STREAM_PDU_LENGTH] = "stream_pdu_length",
    [DM_V_STREAM_PDV_LENGTH] = "stream_pdv_length",
    [DM_V_STREAM_PDV_HEADER] = "stream_pdv_header",
    [DM_V_STREAM_GAP] = "stream_gap",
    [DM_V_STREAM_HEADER_LOST] = "stream_header_lost",
    [DM_V_STREAM_RESYNC] = "stream_resync",
    [DM_V_STREAM_WALK_LIMIT] = "stream_walk_limit",
    [DM_V_STREAM_CTL_TRUNCATED] = "stream_control_pdu_truncated",
    [DM_V_STREAM_IP_FRAGMENTS] = "stream_ip_fragments",
    [DM_V_STREAM_OVERLAP] = "stream_overlap_conflict",
    [DM_V_STREAM_RING_LOST] = "stream_ring_buffer_lost",
};

/* The stream codes follow enum dm_anomaly (names: "stream_" + dm_anomaly_name()). */
_Static_assert(DM_V_STREAM(DM_AN_PDU_TYPE) == DM_V_STREAM_PDU_TYPE &&
		   DM_V_STREAM(DM_AN_GAP) == DM_V_STREAM_GAP &&
		   DM_V_STREAM(DM_AN_CTL_TRUNCATED) == DM_V_STREAM_CTL_TRUNCATED &&
		   DM_V_STREAM(DM_AN_RING_LOST) == DM_V_STREAM_RING_LOST &&
		   DM_AN_RING_LOST == DM_AN_MAX - 1,
	       "one violation code per enum dm_anomaly, in its order");

const char *dm_viol_name(unsigned int code)
{
	return code < DM_V_MAX && viol_names[code] ? viol_names[code] : "?";
}

void dm_viol_add(struct dm_violations *v, enum dm_viol code, const char *fmt, ...)
{
	struct dm_violation *e;
	va_list ap;

	if (v->total < UINT16_MAX)
		v->total++;
	if (v->n >= DM_VIOL_KEEP)
		return;
	e = &v->v[v->n++];
	e->code = (uint16_t)code;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

int dm_viol_has(const struct dm_violations *v, enum dm_viol code)
{
	for (unsigned int i = 0; i < v->n && i < DM_VIOL_KEEP; i++)
		if (v->v[i].code == code)
			return 1;
	return 0;
}

static const char *const sclass_names[DM_SCLASS_MAX] = {
    [DM_SCLASS_SUCCESS] = "success", [DM_SCLASS_PENDING] = "pending",
    [DM_SCLASS_WARNING] = "warning", [DM_SCLASS_FAILURE] = "failure",
    [DM_SCLASS_CANCEL] = "cancel",
};

enum dm_sclass dm_sclass_of(uint16_t s)
{
	if (s == 0x0000)
		return DM_SCLASS_SUCCESS;
	if (s == 0xff00 || s == 0xff01)
		return DM_SCLASS_PENDING;
	if (s == 0xfe00)
		return DM_SCLASS_CANCEL;
	if (s == 0x0001 || s == 0x0107 || s == 0x0116 || (s & 0xf000) == 0xb000)
		return DM_SCLASS_WARNING;
	return DM_SCLASS_FAILURE;
}

const char *dm_sclass_name(unsigned int cls)
{
	return cls < DM_SCLASS_MAX && sclass_names[cls] ? sclass_names[cls] : "?";
}

const char *dm_status_class(uint16_t s)
{
	return sclass_names[dm_sclass_of(s)];
}

/* Room for need bytes in all; 0 or -ENOMEM. */
static int buf_room(struct dm_pdu_buf *b, size_t need)
{
	uint8_t *nd;
	size_t want;

	if (need <= b->cap)
		return 0;
	want = b->cap ? b->cap : 4096;
	while (want < need)
		want *= 2;
	nd = realloc(b->data, want);
	if (!nd)
		return -ENOMEM;
	b->data = nd;
	b->cap = want;
	return 0;
}

static void ahead_drop(struct dm_pdu_buf *b)
{
	if (b->ahead)
		explicit_bzero(b->ahead, b->ahead_len);
	free(b->ahead);
	b->ahead = NULL;
	b->ahead_off = b->ahead_len = 0;
}

/* A piece beyond the bytes so far: kept aside until the hole before it is filled. */
static int ahead_keep(struct dm_pdu_buf *b, uint32_t offset, const uint8_t *data, size_t n,
		      int last)
{
	if (b->ahead || last || !n || n > DM_PDU_BUF_MAX - offset)
		return -EINVAL;
	b->ahead = malloc(n);
	if (!b->ahead)
		return -ENOMEM;
	memcpy(b->ahead, data, n);
	b->ahead_off = offset;
	b->ahead_len = n;
	return 0;
}

/* Append n bytes at the end; then the piece kept ahead if the hole is filled up to it. */
static int append(struct dm_pdu_buf *b, const uint8_t *data, size_t n)
{
	if (n > DM_PDU_BUF_MAX - b->len || (b->ahead && b->len + n > b->ahead_off))
		return -EINVAL; /* too large, or overlapping the piece kept ahead */
	if (buf_room(b, b->len + n))
		return -ENOMEM;
	if (n) /* an empty piece may come with data == NULL and b->data still NULL */
		memcpy(b->data + b->len, data, n);
	b->len += n;
	if (!b->ahead || b->len != b->ahead_off)
		return 0;
	if (buf_room(b, b->len + b->ahead_len))
		return -ENOMEM;
	memcpy(b->data + b->len, b->ahead, b->ahead_len);
	b->len += b->ahead_len;
	ahead_drop(b);
	return 0;
}

int dm_pdu_buf_add(struct dm_pdu_buf *b, uint8_t type, uint32_t offset, const uint8_t *data,
		   size_t n, int first, int last)
{
	int err;

	if (first) {
		b->len = 0;
		b->type = type;
		b->broken = 0;
		b->active = 1;
		ahead_drop(b);
	}
	if (!b->active || b->broken)
		goto bad;
	if (type != b->type || offset < b->len)
		goto broken;
	if (offset > b->len)
		err = ahead_keep(b, offset, data, n, last);
	else
		err = append(b, data, n);
	if (err)
		goto broken;
	if (!last)
		return DM_PIECE_MORE;
	if (b->ahead)
		goto broken; /* the last piece, and still a hole before the one kept ahead */
	b->active = 0;
	return DM_PIECE_DONE;
broken:
	b->broken = 1;
	ahead_drop(b);
bad:
	if (last)
		b->active = 0;
	return DM_PIECE_BAD;
}

void dm_pdu_buf_scrub(struct dm_pdu_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	ahead_drop(b);
}

void dm_pdu_buf_free(struct dm_pdu_buf *b)
{
	ahead_drop(b);
	free(b->data);
	memset(b, 0, sizeof(*b));
}
