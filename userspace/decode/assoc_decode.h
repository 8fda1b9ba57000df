/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_ASSOC_DECODE_H
#define __DM_ASSOC_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "decode/pdu.h"

/*
 * A-ASSOCIATE-RQ and -AC decoded in full (PS3.8 9.3.2/9.3.3, PS3.7 Annex D):
 * the fixed part, the application context, every presentation context, and
 * every user information sub-item the standard defines.
 *
 * The input is hostile. Every length is checked against its container,
 * malformed structure becomes a protocol violation with a reason in viol,
 * and what is kept is bounded:
 *
 *   presentation contexts   DM_ASSOC_PC_KEEP (256), the rest counted
 *   transfer syntaxes       DM_ASSOC_TS_KEEP (16) per context, the rest counted
 *   role selections         DM_ASSOC_ROLE_KEEP (64), extended negotiations
 *                           DM_ASSOC_EXTNEG_KEEP (64), common extended
 *                           DM_ASSOC_CEXTNEG_KEEP (16) with up to
 *                           DM_ASSOC_RELATED_KEEP (8) related classes each
 *   strings (UIDs, names)   64 characters (longer UIDs are cut, a violation)
 *
 * Memory: the struct itself (~1.9 KiB, mostly the violation list) plus heap
 * sized to what the PDU holds, trimmed when the decode ends. Only what is
 * kept takes memory (contexts and sub-items beyond the caps are checked,
 * then dropped), and each distinct string is stored once, so the worst case
 * is a hostile PDU filling every cap with distinct 64-character UIDs: 4,643
 * strings of 65 B (~295 KiB) plus 256 * 80 B of contexts and ~2.3 KiB of
 * sub-items, under 330 KiB in all (tested; the fuzz harness checks it after
 * every input). A real 128-context RQ takes ~11 KiB. dm_assoc_mem() tells.
 * A transient index of up to 64 KiB lives only during the decode.
 *
 * Strings are printable ASCII: bytes outside 0x20..0x7e become '?' (and a
 * violation says so). They are still attacker-chosen text: escape them for
 * the output format and never make them unbounded metric labels.
 *
 * User identity (0x58/0x59): only the identity type, the positive response
 * flag, the primary field's LENGTH and whether a secondary field is present
 * are kept. No byte of a username, passcode, Kerberos ticket, SAML assertion,
 * JWT or server response is copied anywhere, violations included.
 *
 * A PDU rebuilt from pieces is just bytes: decode the rebuilt buffer.
 */

#define DM_UID_MAX	      64 /* PS3.5 9.1 */
#define DM_ASSOC_PC_KEEP      256
#define DM_ASSOC_TS_KEEP      16
#define DM_ASSOC_ROLE_KEEP    64
#define DM_ASSOC_EXTNEG_KEEP  64
#define DM_ASSOC_CEXTNEG_KEEP 16
#define DM_ASSOC_RELATED_KEEP 8
#define DM_ASSOC_UNKNOWN_KEEP 8	 /* types of unknown items/sub-items remembered */
#define DM_EXTNEG_INFO_KEEP   8	 /* leading bytes of service-class-application-information */
#define DM_VERSION_NAME_MAX   16 /* PS3.7 D.3.3.2.3 */
#define DM_APP_CONTEXT_DICOM  "1.2.840.10008.3.1.1.1"

/* Offset of a string in dm_assoc_info.strs; 0 = absent. Read with dm_assoc_str(). */
typedef uint32_t dm_str_t;

struct dm_assoc_pc {
	uint8_t id;
	/*
	 * The three bytes after the id, as sent. RQ: all reserved (DCMTK sends
	 * 00 FF 00, its "not yet negotiated" marker in the middle one; nmap's
	 * library 00 00 00). AC: rsv[1] is the result/reason.
	 */
	uint8_t rsv[3];
	uint8_t result;		  /* AC: result/reason (0 acceptance .. 4); RQ: 0 */
	uint8_t n_ts;		  /* transfer syntaxes kept in ts[] */
	uint16_t n_ts_seen;	  /* transfer syntax sub-items in the item */
	uint16_t n_abstract_seen; /* abstract syntax sub-items (RQ: 1 expected) */
	uint16_t pad;
	dm_str_t abstract; /* RQ: abstract syntax (SOP class) UID */
	dm_str_t ts[DM_ASSOC_TS_KEEP];
};

struct dm_role { /* 0x54 SCP/SCU Role Selection */
	dm_str_t sop_class;
	uint8_t scu, scp; /* as sent: 0 or 1 (other values are a violation) */
	uint8_t pad[2];
};

struct dm_extneg { /* 0x56 SOP Class Extended Negotiation */
	dm_str_t sop_class;
	uint16_t info_len;		   /* service-class-application-information bytes */
	uint8_t info_kept;		   /* of them in info[] */
	uint8_t info[DM_EXTNEG_INFO_KEEP]; /* Q/R: relational, date-time, fuzzy, timezone */
	uint8_t pad;
};

struct dm_cextneg { /* 0x57 SOP Class Common Extended Negotiation (RQ) */
	dm_str_t sop_class;
	dm_str_t service_class;
	uint8_t version;	 /* sub-item version (the item's reserved byte) */
	uint8_t n_related;	 /* kept in related[] */
	uint16_t n_related_seen; /* related general SOP class UIDs in the sub-item */
	dm_str_t related[DM_ASSOC_RELATED_KEEP];
};

/* dm_user_info.has */
#define DM_UI_MAX_LENGTH  0x01 /* 0x51 */
#define DM_UI_IMPL_UID	  0x02 /* 0x52 */
#define DM_UI_ASYNC	  0x04 /* 0x53 */
#define DM_UI_IMPL_VER	  0x08 /* 0x55 */
#define DM_UI_IDENTITY_RQ 0x10 /* 0x58 */
#define DM_UI_IDENTITY_AC 0x20 /* 0x59 */

/* User identity types (PS3.7 D.3.3.7). */
enum dm_identity_type {
	DM_ID_USERNAME = 1,
	DM_ID_USERNAME_PASSCODE = 2,
	DM_ID_KERBEROS = 3,
	DM_ID_SAML = 4,
	DM_ID_JWT = 5,
};

struct dm_user_info {
	uint16_t has;	       /* DM_UI_* */
	uint32_t max_length;   /* 0x51: largest P-DATA-TF PDU-length accepted; 0 = no limit */
	dm_str_t impl_uid;     /* 0x52 */
	dm_str_t impl_version; /* 0x55, at most 16 characters kept */
	uint16_t async_invoked, async_performed; /* 0x53; 0 = unlimited */
	/* 0x58 (RQ): never the field contents. */
	uint8_t id_type;		 /* enum dm_identity_type (other values: a violation) */
	uint8_t id_positive_response;	 /* positive-response-requested as sent */
	uint8_t id_secondary;		 /* a secondary field (passcode) is present */
	uint16_t id_primary_len;	 /* length of the primary field */
	uint16_t id_server_response_len; /* 0x59 (AC): length only */
	struct dm_role *roles;		 /* 0x54 */
	uint16_t n_roles, n_roles_seen;
	struct dm_extneg *extneg; /* 0x56 */
	uint16_t n_extneg, n_extneg_seen;
	struct dm_cextneg *cextneg; /* 0x57 */
	uint16_t n_cextneg, n_cextneg_seen;
	uint16_t n_unknown; /* sub-items of unknown type, skipped (PS3.8 D.2) */
	uint8_t unknown_types[DM_ASSOC_UNKNOWN_KEEP];
};

struct dm_assoc_info {
	uint8_t type;	       /* DM_PDU_ASSOC_RQ or DM_PDU_ASSOC_AC; 0 if neither */
	uint8_t truncated;     /* the buffer ends before the PDU-length does */
	uint8_t hdr_reserved;  /* byte 1 */
	uint8_t reserved_zero; /* bytes 42..73 are all zero */
	uint16_t protocol_version;
	uint16_t reserved_8; /* bytes 8..9 */
	uint32_t pdu_len;    /* PDU-length field */
	uint32_t len;	     /* bytes of the PDU present (header included) */
	/* RQ: the parties. AC: echoes of the RQ's fields, not authenticated. */
	struct dm_ae called, calling;
	dm_str_t app_context; /* first application context item */
	uint16_t n_app_context;
	uint16_t n_user_info;
	struct dm_assoc_pc *pcs;
	uint16_t n_pcs;	     /* kept */
	uint16_t n_pcs_seen; /* presentation context items in the PDU */
	uint8_t pc_ids[32];  /* bitmap of every context id seen, kept or not */
	struct dm_user_info ui;
	uint16_t n_unknown_items; /* items of unknown type at PDU level */
	uint8_t unknown_item_types[DM_ASSOC_UNKNOWN_KEEP];
	struct dm_violations viol;
	char *strs; /* string arena; strs[0] = 0 */
	uint32_t strs_len, strs_cap;
};

/*
 * Decodes an A-ASSOCIATE-RQ or -AC of len bytes (PDU header included; a
 * truncated capture is fine: out->truncated says so and "missing item"
 * checks are skipped). 0 when the fixed part was there (check out->viol),
 * -EINVAL when it is not an RQ/AC or too short for the fixed part (reason in
 * out->viol), -ENOMEM. out is always initialised: call dm_assoc_free() in
 * every case.
 */
int dm_assoc_decode(const uint8_t *pdu, size_t len, struct dm_assoc_info *out);
void dm_assoc_free(struct dm_assoc_info *a);
/* The string, or NULL for 0 and out-of-range offsets. */
const char *dm_assoc_str(const struct dm_assoc_info *a, dm_str_t s);
/* The kept context with this id, or NULL. */
const struct dm_assoc_pc *dm_assoc_pc_find(const struct dm_assoc_info *a, uint8_t id);
/* Heap bytes held by a decode (arrays and arena). */
size_t dm_assoc_mem(const struct dm_assoc_info *a);

/*
 * Checks an AC against the RQ it answers: contexts answered that were not
 * proposed, proposed ones left unanswered, an accepted transfer syntax that
 * was not offered, a role granted that was not proposed, a user identity
 * server response to no request. Findings go to v.
 */
void dm_assoc_match(const struct dm_assoc_info *rq, const struct dm_assoc_info *ac,
		    struct dm_violations *v);

/* PS3.8 Table 9-18: "acceptance", "user-rejection", "no-reason", ...; "reserved" above 4. */
const char *dm_pc_result_name(uint8_t result);
/* PS3.7 D.3.3.7: "username", "username-passcode", "kerberos", "saml", "jwt"; "reserved". */
const char *dm_identity_type_name(uint8_t type);

#endif /* __DM_ASSOC_DECODE_H */
