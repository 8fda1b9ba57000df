// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * DICOMweb request lines (dicomweb.h). The parser never copies a path
 * segment or a query value: it classifies in place, decodes query keys
 * (never values) into a small local buffer, and zeroes what it was given.
 */
#include <string.h>
#include <strings.h>
#include "decode/dicomweb.h"

#define KEY_MAX 64 /* longer keys are counted, never matched */

static const char *const resource_names[DM_DW_MAX] = {
    [DM_DW_STUDIES] = "studies",
    [DM_DW_SERIES] = "series",
    [DM_DW_INSTANCES] = "instances",
    [DM_DW_WADO_URI] = "wado-uri",
};

static const struct {
	const char *name, *tag;
} phi_keys[DM_PHI_MAX] = {
    [DM_PHI_PATIENT_NAME] = {"PatientName", "00100010"},
    [DM_PHI_PATIENT_ID] = {"PatientID", "00100020"},
    [DM_PHI_PATIENT_BIRTH_DATE] = {"PatientBirthDate", "00100030"},
    [DM_PHI_ACCESSION_NUMBER] = {"AccessionNumber", "00080050"},
    [DM_PHI_ISSUER_OF_PATIENT_ID] = {"IssuerOfPatientID", "00100021"},
    [DM_PHI_OTHER_PATIENT_IDS] = {"OtherPatientIDs", "00101000"},
    [DM_PHI_REFERRING_PHYSICIAN] = {"ReferringPhysicianName", "00080090"},
};

const char *dm_dw_resource_name(int resource)
{
	return resource > DM_DW_NONE && resource < DM_DW_MAX ? resource_names[resource] : NULL;
}

const char *dm_dw_phi_name(unsigned int phi)
{
	return phi < DM_PHI_MAX ? phi_keys[phi].name : NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into out (at most cap - 1 bytes, NUL-terminated);
 * '+' is a space. Returns the decoded length, or -1 if it did not fit or
 * held a NUL.
 */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap || !c)
			return -1; /* too long, or a NUL that would cut the key short */
		out[o++] = c;
	}
	out[o] = 0;
	return (int)o;
}

/* Path segment s[0..n) (still encoded) equals word, case-insensitively. */
static int seg_is(const char *s, size_t n, const char *word)
{
	char d[16];

	if (n > 3 * sizeof(d) || pct_decode(s, n, d, sizeof(d)) < 0)
		return 0;
	return !strcasecmp(d, word);
}

_Static_assert(DM_DW_STUDIES < DM_DW_SERIES && DM_DW_SERIES < DM_DW_INSTANCES,
	       "a deeper resource is a larger value");

/* The deepest resource a path names: its name is the path segment (PS3.18 10.4.1). */
static int path_resource(const char *p, size_t n)
{
	int res = DM_DW_NONE, r;
	size_t i = 0, j;

	while (i < n) {
		while (i < n && p[i] == '/')
			i++;
		for (j = i; j < n && p[j] != '/'; j++)
			;
		for (r = DM_DW_STUDIES; r <= DM_DW_INSTANCES; r++)
			if (r > res && seg_is(p + i, j - i, resource_names[r]))
				res = r;
		i = j;
	}
	return res;
}

static void query_scan(struct dm_http_req *req, const char *q, size_t n, int *wado)
{
	char key[KEY_MAX];
	size_t i = 0, j, k;
	unsigned int b;

	while (i < n) {
		for (j = i; j < n && q[j] != '&' && q[j] != ';'; j++)
			;
		for (k = i; k < j && q[k] != '='; k++)
			;
		if (k > i) {
			req->n_query_keys++;
			if (pct_decode(q + i, k - i, key, sizeof(key)) > 0) {
				for (b = 0; b < DM_PHI_MAX; b++)
					if (!strcasecmp(key, phi_keys[b].name) ||
					    !strcasecmp(key, phi_keys[b].tag))
						req->phi |= 1u << b;
				/* The one value read: requestType's, which is never PHI. */
				if (!strcasecmp(key, "requestType") && j - k == 5 &&
				    !strncasecmp(q + k + 1, "WADO", 4))
					*wado = 1;
			}
		}
		i = j + 1;
	}
	explicit_bzero(key, sizeof(key));
}

int dm_http_parse(struct dm_http_req *req, uint8_t *buf, size_t len)
{
	const char *s = (const char *)buf, *t, *q;
	size_t i, m, end, tlen, plen;
	int wado = 0, ret = -1;

	memset(req, 0, sizeof(*req));
	if (!buf)
		return -1;
	/* The request line: up to CR/LF, or what there is (then truncated). */
	for (end = 0; end < len && s[end] != '\r' && s[end] != '\n'; end++)
		;
	req->truncated = end == len;
	for (m = 0; m < end && m < sizeof(req->method) - 1 && s[m] >= 'A' && s[m] <= 'Z'; m++)
		;
	if (!m || m >= end || s[m] != ' ')
		goto out;
	memcpy(req->method, s, m);
	/* The request target, up to the next space (before " HTTP/1.1"). */
	t = s + m + 1;
	for (tlen = 0; t + tlen < s + end && t[tlen] != ' '; tlen++)
		;
	/* Absolute form: skip scheme and authority. */
	if (tlen > 7 && !strncasecmp(t, "http://", 7)) {
		for (i = 7; i < tlen && t[i] != '/' && t[i] != '?'; i++)
			;
		t += i;
		tlen -= i;
	}
	ret = 0;
	if (!tlen || (t[0] != '/' && t[0] != '?'))
		goto out;
	for (plen = 0; plen < tlen && t[plen] != '?' && t[plen] != '#'; plen++)
		;
	req->resource = path_resource(t, plen);
	if (plen < tlen && t[plen] == '?') {
		q = t + plen + 1;
		for (i = 0; q + i < t + tlen && q[i] != '#'; i++)
			;
		query_scan(req, q, i, &wado);
	}
	if (wado && req->resource == DM_DW_NONE)
		req->resource = DM_DW_WADO_URI;
	if (req->resource == DM_DW_NONE) {
		req->phi = 0;
		req->n_query_keys = 0;
	}
out:
	explicit_bzero(buf, len);
	return ret;
}
