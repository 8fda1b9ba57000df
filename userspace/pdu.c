// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dicomon.h"
#include "pdu.h"

#define DM_PDU_BUF_MAX (1u << 20) /* no PDU we rebuild is larger */

static uint32_t rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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

int dm_dimse_parse(const uint8_t *pdu, size_t len, struct dm_dimse *out)
{
	size_t pos, end;
	uint32_t pdv_len, vlen;
	uint16_t group, elem;
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (len < 12 || pdu[0] != DM_PDU_P_DATA)
		return -EINVAL;
	pdv_len = rd_be32(pdu + 6);
	if (pdv_len < 2 || !(pdu[11] & 1))
		return -EINVAL;
	out->pc_id = pdu[10];
	end = 12 + (size_t)pdv_len - 2;
	if (end > len)
		end = len; /* only the head was shipped */
	/* Implicit VR little endian: tag (4), length (4), value. Group 0000 only. */
	for (pos = 12; pos + 8 <= end;) {
		group = rd_le16(pdu + pos);
		elem = rd_le16(pdu + pos + 2);
		vlen = rd_le32(pdu + pos + 4);
		if (group != 0 || vlen > 0xffff)
			return found ? 0 : -EINVAL;
		pos += 8;
		if (vlen > end - pos)
			break; /* value cut off by the snapshot */
		if (vlen == 2) {
			uint16_t v = rd_le16(pdu + pos);

			switch (elem) {
			case 0x0100:
				out->command = v;
				found = 1;
				break;
			case 0x0110:
				out->message_id = v;
				out->present |= DM_DIMSE_HAS_MSG_ID;
				break;
			case 0x0120:
				out->responded_to = v;
				out->present |= DM_DIMSE_HAS_RESP_TO;
				break;
			case 0x0900:
				out->status = v;
				out->present |= DM_DIMSE_HAS_STATUS;
				break;
			}
		}
		pos += vlen;
	}
	return found ? 0 : -ENODATA;
}

const char *dm_status_class(uint16_t s)
{
	if (s == 0x0000)
		return "success";
	if (s == 0xff00 || s == 0xff01)
		return "pending";
	if (s == 0xfe00)
		return "cancel";
	if (s == 0x0001 || s == 0x0107 || s == 0x0116 || (s & 0xf000) == 0xb000)
		return "warning";
	return "failure";
}

int dm_pdu_buf_add(struct dm_pdu_buf *b, uint8_t type, uint32_t offset, const uint8_t *data,
		   size_t n, int first, int last)
{
	uint8_t *nd;
	size_t want;

	if (first) {
		b->len = 0;
		b->type = type;
		b->broken = 0;
		b->active = 1;
	}
	if (!b->active || b->broken)
		goto bad;
	if (type != b->type || offset != b->len || n > DM_PDU_BUF_MAX - b->len) {
		b->broken = 1;
		goto bad;
	}
	if (b->len + n > b->cap) {
		want = b->cap ? b->cap : 4096;
		while (want < b->len + n)
			want *= 2;
		nd = realloc(b->data, want);
		if (!nd) {
			b->broken = 1;
			goto bad;
		}
		b->data = nd;
		b->cap = want;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	if (!last)
		return DM_PIECE_MORE;
	b->active = 0;
	return DM_PIECE_DONE;
bad:
	if (last)
		b->active = 0;
	return DM_PIECE_BAD;
}

void dm_pdu_buf_free(struct dm_pdu_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
