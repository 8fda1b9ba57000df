// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * DICOMweb request lines (dicomweb.c): resources, WADO-URI, PHI query keys
 * by keyword and tag, case and percent-encoding, hostile input; the buffer
 * is zeroed after parsing whatever it held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "decode/dicomweb.h"

#define PHI(x) (1u << DM_PHI_##x)

static uint8_t buf[4096];

static int parse(struct dm_http_req *q, const void *s, size_t n)
{
	size_t i;
	int r;

	assert_true(n <= sizeof(buf));
	memcpy(buf, s, n);
	r = dm_http_parse(q, buf, n);
	for (i = 0; i < n; i++)
		assert_int_equal(buf[i], 0);
	return r;
}

static int parse_str(struct dm_http_req *q, const char *s)
{
	return parse(q, s, strlen(s));
}

static void test_resources(void **state)
{
	struct dm_http_req q;

	(void)state;
	assert_int_equal(parse_str(&q, "GET /dicom-web/studies HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	assert_string_equal(q.method, "GET");
	assert_int_equal(q.resource, DM_DW_STUDIES);
	assert_false(q.truncated);
	assert_int_equal(parse_str(&q, "GET /dicom-web/studies/1.2.3/series HTTP/1.1\r\n"), 0);
	assert_int_equal(q.resource, DM_DW_SERIES);
	assert_int_equal(
	    parse_str(&q,
		      "GET /dicom-web/studies/1.2/series/1.3/instances/1.4/frames/1 HTTP/1.1\r\n"),
	    0);
	assert_int_equal(q.resource, DM_DW_INSTANCES);
	assert_int_equal(parse_str(&q, "POST /dicom-web/studies HTTP/1.1\r\n"), 0);
	assert_string_equal(q.method, "POST");
	assert_int_equal(q.resource, DM_DW_STUDIES);
	assert_int_equal(parse_str(&q, "GET /instances?PatientID=1 HTTP/1.1\r\n"), 0);
	assert_int_equal(q.resource, DM_DW_INSTANCES);
	assert_int_equal(q.phi, PHI(PATIENT_ID));
	/* Absolute form (through a proxy). */
	assert_int_equal(parse_str(&q, "GET http://pacs:8042/dicom-web/STUDIES?x=1 HTTP/1.1\r\n"),
			 0);
	assert_int_equal(q.resource, DM_DW_STUDIES);
	assert_int_equal(q.n_query_keys, 1);
	/* Not DICOMweb: nothing counted. */
	assert_int_equal(parse_str(&q, "GET /app/studies-list?PatientName=A HTTP/1.1\r\n"), 0);
	assert_int_equal(q.resource, DM_DW_NONE);
	assert_int_equal(q.phi, 0);
	assert_int_equal(q.n_query_keys, 0);
	assert_string_equal(dm_dw_resource_name(DM_DW_WADO_URI), "wado-uri");
	assert_null(dm_dw_resource_name(DM_DW_NONE));
}

static void test_wado_uri(void **state)
{
	struct dm_http_req q;

	(void)state;
	assert_int_equal(
	    parse_str(&q, "GET /wado?requestType=WADO&studyUID=1.2&seriesUID=1.3&objectUID=1.4 "
			  "HTTP/1.1\r\n"),
	    0);
	assert_int_equal(q.resource, DM_DW_WADO_URI);
	assert_int_equal(q.n_query_keys, 4);
	assert_int_equal(q.phi, 0);
	assert_int_equal(parse_str(&q, "GET /wado?requesttype=wado&patientid=7 HTTP/1.0\r\n"), 0);
	assert_int_equal(q.resource, DM_DW_WADO_URI);
	assert_int_equal(q.phi, PHI(PATIENT_ID));
	assert_int_equal(parse_str(&q, "GET /wado?requestType=WADOX HTTP/1.1\r\n"), 0);
	assert_int_equal(q.resource, DM_DW_NONE);
}

static void test_phi_keys(void **state)
{
	struct dm_http_req q;

	(void)state;
	assert_int_equal(parse_str(&q, "GET /dicom-web/studies?PatientName=DOE^JOHN&PatientID=1"
				       "&PatientBirthDate=19700101&AccessionNumber=A1"
				       "&IssuerOfPatientID=H&OtherPatientIDs=2"
				       "&ReferringPhysicianName=X&limit=5 HTTP/1.1\r\n"),
			 0);
	assert_int_equal(q.phi, (1u << DM_PHI_MAX) - 1);
	assert_int_equal(q.n_query_keys, 8);
	/* Tags, any case. */
	assert_int_equal(parse_str(&q, "GET /dicom-web/studies?00100010=A&00100020=B&00100030=C"
				       "&00080050=D&00100021=E&00101000=F&00080090=G HTTP/1.1\r\n"),
			 0);
	assert_int_equal(q.phi, (1u << DM_PHI_MAX) - 1);
	assert_int_equal(parse_str(&q, "GET /dicom-web/series?PATIENTNAME=a&patientbirthdate=b "
				       "HTTP/1.1\r\n"),
			 0);
	assert_int_equal(q.phi, PHI(PATIENT_NAME) | PHI(PATIENT_BIRTH_DATE));
	/* Percent-encoded keys are decoded; values are never looked at. */
	assert_int_equal(
	    parse_str(&q, "GET /dicom-web/studies?Patient%4Eame=x&%30%30%31%30%30%30%32%30=y&"
			  "StudyDate=PatientName HTTP/1.1\r\n"),
	    0);
	assert_int_equal(q.phi, PHI(PATIENT_NAME) | PHI(PATIENT_ID));
	assert_int_equal(q.n_query_keys, 3);
	/* includefield names attributes; a value, not a key. */
	assert_int_equal(parse_str(&q, "GET /dicom-web/studies?includefield=PatientName "
				       "HTTP/1.1\r\n"),
			 0);
	assert_int_equal(q.phi, 0);
	assert_string_equal(dm_dw_phi_name(DM_PHI_REFERRING_PHYSICIAN), "ReferringPhysicianName");
	assert_null(dm_dw_phi_name(DM_PHI_MAX));
}

static void test_hostile(void **state)
{
	struct dm_http_req q;
	uint8_t bin[1024];
	char *big;
	size_t i;

	(void)state;
	/* No request line. */
	assert_int_equal(parse_str(&q, ""), -1);
	assert_int_equal(parse_str(&q, "GET"), -1);
	assert_int_equal(parse_str(&q, "\r\n\r\n"), -1);
	assert_int_equal(parse_str(&q, "get /dicom-web/studies HTTP/1.1\r\n"), -1);
	assert_int_equal(parse_str(&q, "VERYLONGMETHOD /dicom-web/studies HTTP/1.1\r\n"), -1);
	assert_int_equal(dm_http_parse(&q, NULL, 0), -1);
	/* A target that is no path. */
	assert_int_equal(parse_str(&q, "GET studies HTTP/1.1\r\n"), 0);
	assert_int_equal(q.resource, DM_DW_NONE);
	/* Binary. */
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 131 + 7);
	assert_int_equal(parse(&q, bin, sizeof(bin)), -1);
	memcpy(bin, "GET /", 5);
	parse(&q, bin, sizeof(bin));
	/* Huge: the request line never ends within the bytes. */
	big = malloc(sizeof(buf));
	memset(big, 'a', sizeof(buf));
	memcpy(big, "GET /dicom-web/studies?PatientName=", 35);
	assert_int_equal(parse(&q, big, sizeof(buf)), 0);
	assert_true(q.truncated);
	assert_int_equal(q.resource, DM_DW_STUDIES);
	assert_int_equal(q.phi, PHI(PATIENT_NAME));
	/* A very long key: counted, never matched. */
	memset(big, 'a', sizeof(buf));
	memcpy(big, "GET /dicom-web/studies?", 23);
	big[sizeof(buf) - 2] = '=';
	assert_int_equal(parse(&q, big, sizeof(buf)), 0);
	assert_int_equal(q.n_query_keys, 1);
	assert_int_equal(q.phi, 0);
	free(big);
	/* Broken percent escapes, empty keys, '&' runs. */
	assert_int_equal(parse_str(&q, "GET /dicom-web/studies?%&%4&%zz=1&&=v&PatientName%=1&"
				       "PatientID%00=2 HTTP/1.1\r\n"),
			 0);
	assert_int_equal(q.phi, 0);
	assert_int_equal(q.n_query_keys, 5);
	/* NUL inside the line. */
	assert_int_equal(parse(&q, "GET /dicom-web/studies?Patient\0Name=1 HTTP/1.1\r\n", 47), 0);
	assert_int_equal(q.phi, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resources),
	    cmocka_unit_test(test_wado_uri),
	    cmocka_unit_test(test_phi_keys),
	    cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
