/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_FINGERPRINT_H
#define __DM_FINGERPRINT_H

#include <stdint.h>
#include "decode/assoc_decode.h"

/*
 * Which software sent an A-ASSOCIATE-RQ (or -AC): from the implementation
 * class UID's root and the implementation version name, plus the traits that
 * give scanners away. nmap's DICOM library claims DCMTK 3.6.2 but sends 0x00
 * in the presentation context byte where DCMTK always sends 0xFF, proposes
 * one context (Verification, Implicit VR LE) with a 16384 maximum length, and
 * closes without a DIMSE command or an A-RELEASE. That last trait is only
 * known at the end of the association: dm_fingerprint_assoc().
 *
 * Sources: shared/dicom-wire.md sections 18-19 (DCMTK dcuid.h, pynetdicom,
 * dcm4che Implementation.java, fo-dicom DicomImplementation.cs, ruby-dicom,
 * DVTk, nmap dicom.lua). Vendor roots are organisation roots, not products.
 */

enum dm_fp_kind {
	DM_FP_UNKNOWN = 0,
	DM_FP_TOOLKIT, /* a DICOM toolkit or application: DCMTK, pynetdicom, ... */
	DM_FP_VENDOR,  /* an organisation's UID root: GE, Siemens, ... */
	DM_FP_SCANNER, /* a scanner or an impersonator */
	DM_FP_KIND_MAX,
};

/* dm_fingerprint.traits */
#define DM_FPT_CLAIMS_DCMTK	0x0001 /* implementation class UID under DCMTK's root */
#define DM_FPT_CLAIMS_DCMTK_362 0x0002 /* exactly nmap's claim: DCMTK 3.6.2 UID and name */
#define DM_FPT_RSV_ZERO		0x0004 /* RQ contexts carry 0x00 where DCMTK sends 0xFF */
#define DM_FPT_RSV_FF		0x0008 /* RQ contexts carry DCMTK's 0xFF */
#define DM_FPT_SINGLE_ECHO	0x0010 /* one context: Verification with Implicit VR LE only */
#define DM_FPT_MAX_PDU_16384	0x0020 /* maximum length 16384 */
#define DM_FPT_DEFAULT_AE	0x0040 /* a tool's default AE title (ECHOSCU, ANY-SCP, ...) */
#define DM_FPT_NO_DIMSE		0x0080 /* accepted, ended without a DIMSE command */
#define DM_FPT_NO_RELEASE	0x0100 /* accepted, ended without an A-RELEASE */
#define DM_FPT_VERSION_MISMATCH 0x0200 /* UID's version and version name's disagree */
#define DM_FPT_WIRESHARK_UID	0x0400 /* Wireshark's export-only UID on the wire */
#define DM_FPT_NAME_ONLY	0x0800 /* known by its version name, UID root unknown */

#define DM_FP_NAME    48
#define DM_FP_VERSION 24
#define DM_FP_REASONS 8
#define DM_FP_REASON  96

struct dm_fingerprint {
	char name[DM_FP_NAME];	     /* "DCMTK (or Orthanc)", "nmap (DICOM NSE scripts)" */
	char version[DM_FP_VERSION]; /* "3.6.2"; "" when unknown ([0-9A-Za-z._+-] only) */
	uint8_t kind;		     /* enum dm_fp_kind */
	uint8_t confidence;	     /* 0..100 */
	uint16_t traits;	     /* DM_FPT_* */
	uint8_t n_reasons;
	/* Why, in words and numbers: no string from the wire is quoted. */
	char reasons[DM_FP_REASONS][DM_FP_REASON];
};

/* What is known when the association ends (from the association table). */
struct dm_assoc_end {
	uint32_t dimse_commands; /* DIMSE commands seen, both directions */
	uint8_t accepted;	 /* an A-ASSOCIATE-AC was seen */
	uint8_t rejected;	 /* an A-ASSOCIATE-RJ was seen */
	uint8_t released;	 /* an A-RELEASE-RQ was seen */
	uint8_t aborted;	 /* an A-ABORT was seen */
};

/* From one decoded A-ASSOCIATE-RQ or -AC alone. */
void dm_fingerprint_pdu(const struct dm_assoc_info *a, struct dm_fingerprint *fp);
/* From the RQ and how the association ended (refines dm_fingerprint_pdu). */
void dm_fingerprint_assoc(const struct dm_assoc_info *rq, const struct dm_assoc_end *end,
			  struct dm_fingerprint *fp);
/* "unknown", "toolkit", "vendor", "scanner". */
const char *dm_fp_kind_name(unsigned int kind);

#endif /* __DM_FINGERPRINT_H */
