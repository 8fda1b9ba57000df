/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_PDU_H
#define __DM_PDU_H

#include <stddef.h>
#include <stdint.h>

/*
 * The common part of PS3.8/PS3.7 decoding: AE titles, reject/abort codes,
 * the protocol violation list every decoder fills, DIMSE status classes
 * and the piece reassembly buffer (the decoders: dimse.h, assoc_decode.h).
 * Every function treats its input as hostile: it checks lengths and never
 * reads past len.
 */

/* Big-endian (Upper Layer) and little-endian (command set) readers. */
static inline uint16_t dm_rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dm_rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t dm_rd_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t dm_rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An AE title as text: spaces trimmed, bytes outside 0x20..0x7e and '\' as \xHH. */
#define DM_AE_STR (16 * 4 + 1)
void dm_ae_string(const uint8_t ae[16], char out[DM_AE_STR]);

/*
 * AE title anomalies (PS3.5 6.2 VR AE: ISO 646 G0 without control characters
 * and backslash; PS3.8 Table 9-11: all spaces shall not be used).
 */
#define DM_AE_CTRL	0x01 /* a control character 0x01..0x1f */
#define DM_AE_BACKSLASH 0x02 /* 0x5c, the value separator */
#define DM_AE_HIGH	0x04 /* a byte > 0x7e (DEL or outside ISO 646) */
#define DM_AE_NUL	0x08 /* a NUL followed by something else: C strings stop early */
#define DM_AE_NUL_PAD	0x10 /* NUL padding at the end instead of spaces */
#define DM_AE_EMPTY	0x20 /* only spaces (and NULs): "no name" */
#define DM_AE_INNER_SP	0x40 /* a space between two characters: legal, unusual */
#define DM_AE_FLAG_BITS 7    /* DM_AE_CTRL (bit 0) .. DM_AE_INNER_SP (bit 6) */
/* Flags that violate the standard; DM_AE_INNER_SP does not. */
#define DM_AE_BAD                                                                                  \
	(DM_AE_CTRL | DM_AE_BACKSLASH | DM_AE_HIGH | DM_AE_NUL | DM_AE_NUL_PAD | DM_AE_EMPTY)

struct dm_ae {
	uint8_t raw[16];     /* the bytes as sent (space-padded when shorter in a command) */
	char str[DM_AE_STR]; /* dm_ae_string() of raw */
	uint8_t flags;	     /* DM_AE_* */
};
uint8_t dm_ae_flags(const uint8_t ae[16]);
/* raw, str and flags from n (<= 16) bytes; shorter values are padded with spaces. */
void dm_ae_set(struct dm_ae *ae, const uint8_t *p, size_t n);
/* Name of the flag 1 << bit ("ctrl", ..., "inner_space"); NULL from DM_AE_FLAG_BITS on. */
const char *dm_ae_flag_name(unsigned int bit);
/* Comma-separated names of DM_AE_* flags ("ctrl,backslash"), "" for none. */
void dm_ae_flags_string(uint8_t flags, char *buf, size_t len);

struct dm_assoc_hdr {
	char called[DM_AE_STR];
	char calling[DM_AE_STR];
	uint16_t protocol_version;
};
/* A-ASSOCIATE-RQ/AC fixed part. 0, or -EINVAL if too short or not RQ/AC. */
int dm_assoc_hdr_parse(const uint8_t *pdu, size_t len, struct dm_assoc_hdr *out);

/* A-ASSOCIATE-RJ (result/source/reason) or A-ABORT (source/reason; result 0). */
struct dm_reject {
	uint8_t result, source, reason;
};
int dm_reject_parse(const uint8_t *pdu, size_t len, struct dm_reject *out);
/* PS3.8 Table 9-21: "service-user", "service-provider-acse", "service-provider-presentation". */
const char *dm_reject_source_name(uint8_t source);
const char *dm_reject_reason_name(uint8_t source, uint8_t reason);
/* PS3.8 Table 9-26: a reason of source 2 (service-provider); "service-user" for source 0. */
const char *dm_abort_reason_name(uint8_t source, uint8_t reason);

/*
 * Protocol violations. Every decoder collects the ones it finds in a bounded
 * list: a stable code (for counters and rules: its name never changes) and a
 * sentence for humans. The sentence holds numbers and fixed words only,
 * never bytes from the wire, so it is safe to log and carries no identity.
 */
enum dm_viol {
	DM_V_NONE = 0,
	DM_V_PDU_SHORT,	       /* buffer shorter than the PDU's fixed part */
	DM_V_PDU_TYPE,	       /* not the PDU type the decoder was given */
	DM_V_PDU_LENGTH,       /* PDU-length field inconsistent */
	DM_V_PDU_TRAILING,     /* bytes after the PDU */
	DM_V_PROTOCOL_VERSION, /* bit 0 of the protocol version clear */
	DM_V_AE_TITLE,	       /* control bytes, backslash, NUL, > 0x7e, all spaces */
	DM_V_ITEM_HEADER,      /* item header cut by the end of its container */
	DM_V_ITEM_OVERRUN,     /* item length beyond its container */
	DM_V_ITEM_UNKNOWN,     /* item type not allowed here */
	DM_V_ITEM_EMPTY,       /* zero-length item where a value is required */
	DM_V_APP_CONTEXT,      /* application context missing, repeated or not DICOM's */
	DM_V_PC_MISSING,       /* no presentation context */
	DM_V_PC_ID,	       /* presentation context id even or zero */
	DM_V_PC_DUPLICATE,     /* presentation context id repeated */
	DM_V_PC_TOO_MANY,      /* more than the 128 odd ids allow */
	DM_V_PC_ITEM,	       /* PC item malformed: syntaxes missing, repeated */
	DM_V_PC_RESULT,	       /* AC result/reason > 4 */
	DM_V_UID,	       /* empty, longer than 64, bad characters */
	DM_V_USER_INFO,	       /* user information item missing or repeated */
	DM_V_MAX_LENGTH,       /* maximum length sub-item missing, repeated or malformed */
	DM_V_IMPL_UID,	       /* implementation class UID missing or repeated */
	DM_V_IMPL_VERSION,     /* implementation version name empty, long, bad bytes */
	DM_V_SUBITEM,	       /* user information sub-item malformed */
	DM_V_SUBITEM_PLACE,    /* sub-item of the other PDU (0x58 in AC, 0x59 in RQ) */
	DM_V_ROLE,	       /* role selection values not 0/1, UID repeated */
	DM_V_USER_IDENTITY,    /* user identity type, fields or repetition */
	DM_V_PDATA,	       /* P-DATA/PDV structure */
	DM_V_CMD_FRAGMENT,     /* command fragments out of sequence */
	DM_V_CMD_GROUP_LENGTH, /* group length missing, not first, or wrong */
	DM_V_CMD_ELEMENT,      /* element outside group 0000, odd or bad length, unknown */
	DM_V_CMD_ORDER,	       /* elements not in ascending tag order */
	DM_V_CMD_DUPLICATE,    /* element repeated */
	DM_V_CMD_FIELD,	       /* command field missing or unknown */
	DM_V_CMD_REQUIRED,     /* an element the command requires is missing */
	DM_V_CMD_VALUE,	       /* priority, data set type or another value out of range */
	DM_V_PDU_INCOMPLETE,   /* the association ended before a PDU's last byte */
	/*
	 * What the datapath found in the stream (DM_EV_ANOMALY), one code per
	 * enum dm_anomaly in its order: DM_V_STREAM(DM_AN_GAP) is "stream_gap".
	 */
	DM_V_STREAM_PDU_TYPE,
	DM_V_STREAM_PDU_LENGTH,
	DM_V_STREAM_PDV_LENGTH,
	DM_V_STREAM_PDV_HEADER,
	DM_V_STREAM_GAP,
	DM_V_STREAM_HEADER_LOST,
	DM_V_STREAM_RESYNC,
	DM_V_STREAM_WALK_LIMIT,
	DM_V_STREAM_CTL_TRUNCATED,
	DM_V_STREAM_IP_FRAGMENTS,
	DM_V_STREAM_OVERLAP,
	DM_V_STREAM_RING_LOST,
	DM_V_MAX,
};
/* The violation code of an anomaly (1 .. DM_AN_MAX - 1); DM_V_NONE for others. */
#define DM_V_STREAM(an)                                                                            \
	((an) >= 1 && (an) <= DM_V_STREAM_RING_LOST - DM_V_STREAM_PDU_TYPE + 1                     \
	     ? DM_V_STREAM_PDU_TYPE + (an) - 1                                                     \
	     : DM_V_NONE)

#define DM_VIOL_KEEP 16 /* violations kept per decode; more are counted */
#define DM_VIOL_TEXT 96
struct dm_violation {
	uint16_t code; /* enum dm_viol */
	char text[DM_VIOL_TEXT];
};
struct dm_violations {
	uint16_t n;	/* kept in v[] */
	uint16_t total; /* found (saturates at 65535) */
	struct dm_violation v[DM_VIOL_KEEP];
};
void dm_viol_add(struct dm_violations *v, enum dm_viol code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stable snake_case name of a code ("pc_duplicate"); "?" when out of range. */
const char *dm_viol_name(unsigned int code);
/* Whether a code is in the list (kept entries only). */
int dm_viol_has(const struct dm_violations *v, enum dm_viol code);

/*
 * PS3.5 9.1 UID syntax: digits and dots, no empty component, no leading zero
 * in a component, at most 64 bytes. NULL when s[0..n) is valid, else a fixed
 * reason ("empty UID", ...) and *at the offending offset.
 */
const char *dm_uid_problem(const uint8_t *s, size_t n, size_t *at);

/* DIMSE status classes (PS3.7 Annex C), in the order records and metrics keep them. */
enum dm_sclass {
	DM_SCLASS_SUCCESS,
	DM_SCLASS_PENDING,
	DM_SCLASS_WARNING,
	DM_SCLASS_FAILURE,
	DM_SCLASS_CANCEL,
	DM_SCLASS_MAX,
};
enum dm_sclass dm_sclass_of(uint16_t status);
/* "success", "pending", "warning", "failure", "cancel"; "?" out of range. */
const char *dm_sclass_name(unsigned int cls);
/* The name of a status's class: dm_sclass_name(dm_sclass_of(status)). */
const char *dm_status_class(uint16_t status);

/*
 * Rebuilds one PDU from event pieces (offset-ordered). Bounded by cap; a gap
 * or an overflow marks it broken until the next first piece. One piece may
 * come ahead of a hole (the BPF side ships an out-of-order segment of a
 * control PDU at its offset, then the bytes that fill the hole): it is kept
 * aside and appended once the hole is filled up to it. A second piece ahead,
 * a piece overlapping it, or a last piece that leaves the hole open break it.
 */
#define DM_PDU_BUF_MAX (1u << 20) /* no PDU we rebuild is larger */
struct dm_pdu_buf {
	uint8_t *data;
	size_t len, cap;
	uint8_t type;
	uint8_t broken;
	uint8_t active;
	uint8_t *ahead;		  /* the piece ahead of the hole, NULL if none */
	size_t ahead_off, ahead_len; /* its PDU offset and length */
};
enum dm_piece_result {
	DM_PIECE_MORE = 0, /* waiting for more */
	DM_PIECE_DONE = 1, /* data[0..len) is the PDU (maybe truncated by the sender) */
	DM_PIECE_BAD = -1, /* gap, overflow or piece without a first */
};
int dm_pdu_buf_add(struct dm_pdu_buf *b, uint8_t type, uint32_t offset, const uint8_t *data,
		   size_t n, int first, int last);
void dm_pdu_buf_free(struct dm_pdu_buf *b);
/* Zero the bytes held (a P-DATA head may hold data set bytes: never kept). */
void dm_pdu_buf_scrub(struct dm_pdu_buf *b);

#endif /* __DM_PDU_H */
