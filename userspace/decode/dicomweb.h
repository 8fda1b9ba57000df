/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * DICOMweb requests seen over plain HTTP (rule 11): the request line of a
 * DM_EV_HTTP event is parsed into what may be said about it without PHI:
 * the method, which DICOMweb resource it addresses, which PHI-bearing query
 * keys it carries (by name only) and how many query keys. Nothing of the
 * path (study/series/instance UIDs) or of a query value is kept, and the
 * caller's buffer is zeroed after parsing.
 */
#ifndef __DM_DICOMWEB_H
#define __DM_DICOMWEB_H

#include <stddef.h>
#include <stdint.h>

enum dm_dw_resource {
	DM_DW_NONE = 0, /* not a DICOMweb request */
	DM_DW_STUDIES,
	DM_DW_SERIES,
	DM_DW_INSTANCES,
	DM_DW_WADO_URI, /* requestType=WADO */
	DM_DW_MAX,
};

/* PHI-bearing query keys, by keyword or by 8-hex-digit tag (case-insensitive). */
enum dm_dw_phi {
	DM_PHI_PATIENT_NAME,	     /* 00100010 */
	DM_PHI_PATIENT_ID,	     /* 00100020 */
	DM_PHI_PATIENT_BIRTH_DATE,   /* 00100030 */
	DM_PHI_ACCESSION_NUMBER,     /* 00080050 */
	DM_PHI_ISSUER_OF_PATIENT_ID, /* 00100021 */
	DM_PHI_OTHER_PATIENT_IDS,    /* 00101000 */
	DM_PHI_REFERRING_PHYSICIAN,  /* 00080090 */
	DM_PHI_MAX,
};

struct dm_http_req {
	char method[8]; /* "GET", "POST", ... ("" if no request line) */
	int resource;	/* enum dm_dw_resource */
	uint32_t phi;	/* bit (1 << enum dm_dw_phi) per PHI key present */
	uint32_t n_query_keys;
	int truncated; /* request line did not end within the bytes given */
};

/*
 * Parse the request line at buf[0..len) (an HTTP request segment's first
 * bytes). Returns 0 when a request line was found (req filled), -1 if not.
 * buf is zeroed in either case.
 */
int dm_http_parse(struct dm_http_req *req, uint8_t *buf, size_t len);
/* "studies", "series", "instances", "wado-uri"; NULL for DM_DW_NONE. */
const char *dm_dw_resource_name(int resource);
/* "PatientName", ...; NULL out of range. */
const char *dm_dw_phi_name(unsigned int phi);

#endif /* __DM_DICOMWEB_H */
