// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Toolkit, vendor and scanner fingerprints from decoded A-ASSOCIATE-RQ/AC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "dicomon.h"
#include "decode/decode_json.h"
#include "decode/fingerprint.h"
#include "pktbuild.h"
#include "ulbuild.h"

static uint8_t buf[4096];
static struct dm_assoc_info a;
static struct dm_fingerprint fp;

/* DM_TEST_VERBOSE=1 shows each fingerprint and its reasons. */
static void dump(void)
{
	if (!getenv("DM_TEST_VERBOSE"))
		return;
	print_message("%s %s (%s, %u%%)\n", fp.name, fp.version, dm_fp_kind_name(fp.kind),
		      fp.confidence);
	for (unsigned int i = 0; i < fp.n_reasons; i++)
		print_message("  - %s\n", fp.reasons[i]);
}

static void decode(size_t n)
{
	dm_assoc_free(&a);
	assert_int_equal(dm_assoc_decode(buf, n, &a), 0);
}

/* An RQ as DCMTK's echoscu sends it, with the given implementation UID and name. */
static void rq(const char *uid, const char *ver)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};

	decode(pdu_assoc_rq(buf, sizeof(buf), "PACS", "MODALITY", &pc, 1, 28672, uid, ver));
	dm_fingerprint_pdu(&a, &fp);
}

static int has_reason(const char *needle)
{
	for (unsigned int i = 0; i < fp.n_reasons; i++)
		if (strstr(fp.reasons[i], needle))
			return 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dm_assoc_free(&a);
	return 0;
}

static void test_toolkits(void **state)
{
	static const struct {
		const char *uid, *ver, *name, *version;
		unsigned int kind;
	} cases[] = {
	    {"1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367", "DCMTK (or Orthanc)", "3.6.7",
	     DM_FP_TOOLKIT},
	    {"1.2.276.0.7230010.3.0.3.6.0", NULL, "DCMTK (or Orthanc)", "3.6.0", DM_FP_TOOLKIT},
	    {"1.2.276.0.7230010.3.0.3.7.0", "OFFIS_DCMTK_370", "DCMTK (or Orthanc)", "3.7.0",
	     DM_FP_TOOLKIT},
	    {"1.2.826.0.1.3680043.9.3811.2.0.2", "PYNETDICOM_202", "pynetdicom", "2.0.2",
	     DM_FP_TOOLKIT},
	    {"1.2.826.0.1.3680043.9.381.0.9.0", "PYNETDICOM3_090", "pynetdicom (0.9 era)", "0.9.0",
	     DM_FP_TOOLKIT},
	    {"1.2.40.0.13.1.3", "dcm4che-5.29.2", "dcm4che 3 (or dcm4chee-arc)", "5.29.2",
	     DM_FP_TOOLKIT},
	    {"1.2.40.0.13.1.1", "dcm4che-2.0.29", "dcm4che 2", "2.0.29", DM_FP_TOOLKIT},
	    {"1.3.6.1.4.1.30071.8", "fo-dicom 4.0.7", "fo-dicom", "4.0.7", DM_FP_TOOLKIT},
	    {"1.2.826.0.1.3680043.8.641", "RUBY-DCM_0.9.8", "ruby-dicom", "0.9.8", DM_FP_TOOLKIT},
	    {"1.2.826.0.1.3680043.2.1545.1", "DVT2.6", "DVTk", "2.6", DM_FP_TOOLKIT},
	    {"1.2.826.0.1.3680043.8.1057.1", NULL, "OsiriX/Horos", "", DM_FP_TOOLKIT},
	    {"1.2.840.113619.6.286", "GE_DCM", "GE Healthcare (vendor UID root)", "", DM_FP_VENDOR},
	    {"1.3.12.2.1107.5.2", "SIEMENS", "Siemens Healthineers (vendor UID root)", "",
	     DM_FP_VENDOR},
	    {"1.3.46.670589.50.1", NULL, "Philips (vendor UID root)", "", DM_FP_VENDOR},
	    {"1.2.840.113845.1.1", "Syn4,4,0,36", "unknown", "", DM_FP_UNKNOWN},
	    /* Root boundaries: a longer component is another root. */
	    {"1.2.826.0.1.3680043.9.38110.1", NULL, "unknown", "", DM_FP_UNKNOWN},
	    {"1.2.276.0.72300100.1", NULL, "unknown", "", DM_FP_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rq(cases[i].uid, cases[i].ver);
		dump();
		assert_string_equal(fp.name, cases[i].name);
		assert_string_equal(fp.version, cases[i].version);
		assert_int_equal(fp.kind, cases[i].kind);
		assert_true(fp.kind == DM_FP_UNKNOWN ? fp.confidence == 0 : fp.confidence >= 40);
		assert_false(fp.traits & DM_FPT_VERSION_MISMATCH);
	}
	/* DCMTK's tools send 0xFF in the reserved byte. */
	rq("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367");
	assert_true(fp.traits & DM_FPT_RSV_FF);
	assert_true(fp.traits & DM_FPT_CLAIMS_DCMTK);
	assert_true(has_reason("0xFF"));
	assert_int_equal(fp.confidence, 85);
}

static void test_inconsistent(void **state)
{
	(void)state;
	rq("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_362");
	dump();
	assert_true(fp.traits & DM_FPT_VERSION_MISMATCH);
	assert_string_equal(fp.version, "3.6.7");
	rq("1.2.826.0.1.3680043.9.3811.2.0.2", "SOMETHING_ELSE");
	assert_true(has_reason("not pynetdicom's usual form"));
	assert_int_equal(fp.confidence, 75);
	/* Known by the name alone. */
	rq("1.2.3.4", "OFFIS_DCMTK_365");
	assert_string_equal(fp.name, "DCMTK (or Orthanc)");
	assert_true(fp.traits & DM_FPT_NAME_ONLY);
	assert_int_equal(fp.confidence, 50);
	/* Wireshark's export-only UID seen on the wire. */
	rq("1.2.826.0.1.3680043.8.427.10", "WIRESHARK");
	assert_int_equal(fp.kind, DM_FP_SCANNER);
	assert_true(fp.traits & DM_FPT_WIRESHARK_UID);
	/* Versions are restricted to a safe alphabet. */
	rq("1.3.6.1.4.1.30071.8", "fo-dicom 4\"<x>");
	assert_string_equal(fp.version, "4");
}

static void test_nmap(void **state)
{
	struct dm_assoc_end end = {0};
	size_t n;

	(void)state;
	n = ub_rq_nmap(buf, sizeof(buf), "ANY-SCP");
	assert_int_equal(n, 211);
	decode(n);
	assert_int_equal(a.viol.total, 0);
	dm_fingerprint_pdu(&a, &fp);
	dump();
	assert_string_equal(fp.name, "nmap (DICOM NSE scripts)");
	assert_int_equal(fp.kind, DM_FP_SCANNER);
	assert_int_equal(fp.confidence, 90);
	assert_int_equal(fp.traits & 0x7f, DM_FPT_CLAIMS_DCMTK | DM_FPT_CLAIMS_DCMTK_362 |
					       DM_FPT_RSV_ZERO | DM_FPT_SINGLE_ECHO |
					       DM_FPT_MAX_PDU_16384 | DM_FPT_DEFAULT_AE);
	assert_true(has_reason("0x00 where DCMTK sends 0xFF"));

	/* Accepted, then closed without a command or a release: dicom-ping. */
	end.accepted = 1;
	dm_fingerprint_assoc(&a, &end, &fp);
	dump();
	assert_int_equal(fp.confidence, 98);
	assert_true(fp.traits & DM_FPT_NO_DIMSE);
	assert_true(fp.traits & DM_FPT_NO_RELEASE);
	assert_true(has_reason("without a DIMSE command or an A-RELEASE"));

	/* Rejected (dicom-brute's wrong guesses): the end trait cannot be judged. */
	end.accepted = 0;
	end.rejected = 1;
	dm_fingerprint_assoc(&a, &end, &fp);
	assert_int_equal(fp.confidence, 90);
	assert_true(has_reason("not accepted"));
	assert_false(fp.traits & DM_FPT_NO_DIMSE);

	/* Same RQ, but it echoed and released: not nmap, still not DCMTK. */
	end.accepted = 1;
	end.rejected = 0;
	end.dimse_commands = 2;
	end.released = 1;
	dm_fingerprint_assoc(&a, &end, &fp);
	dump();
	assert_string_equal(fp.name, "DCMTK impersonator (unknown tool)");
	assert_int_equal(fp.confidence, 60);
	assert_true(has_reason("sent 2 DIMSE commands and a release: not nmap's library"));

	/* A genuine DCMTK 3.6.2 echoscu differs only in the reserved byte. */
	buf[74 + 25 + 6] = 0xff;
	decode(n);
	dm_fingerprint_pdu(&a, &fp);
	assert_string_equal(fp.name, "DCMTK (or Orthanc)");
	assert_string_equal(fp.version, "3.6.2");
	assert_true(fp.traits & DM_FPT_RSV_FF);
	assert_int_equal(fp.kind, DM_FP_TOOLKIT);

	/* 0x00 bytes with another DCMTK claim and two contexts: an impersonator. */
	{
		struct pdu_pc pcs[2] = {{1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1},
					{3, PDU_UID_CT_STORAGE, {PDU_UID_IMPLICIT_LE}, 1}};

		n = pdu_assoc_rq(buf, sizeof(buf), "PACS", "X", pcs, 2, 16384,
				 "1.2.276.0.7230010.3.0.3.6.4", "OFFIS_DCMTK_364");
		buf[74 + 25 + 6] = 0;
		buf[74 + 25 + 4 + 4 + 21 + 21 + 6] = 0;
		decode(n);
		dm_fingerprint_pdu(&a, &fp);
		dump();
		assert_string_equal(fp.name, "DCMTK impersonator (unknown tool)");
		assert_int_equal(fp.confidence, 70);
	}
}

/* A real toolkit that connects and leaves without a command: probe-like, toolkit kept. */
static void test_probe_like(void **state)
{
	struct dm_assoc_end end = {.accepted = 1, .aborted = 1};

	(void)state;
	rq("1.2.826.0.1.3680043.9.3811.2.0.2", "PYNETDICOM_202");
	dm_fingerprint_assoc(&a, &end, &fp);
	dump();
	assert_string_equal(fp.name, "pynetdicom");
	assert_int_equal(fp.confidence, 70);
	assert_true(has_reason("(aborted)"));
	/* Normal use keeps the confidence. */
	end.dimse_commands = 1;
	end.released = 1;
	end.aborted = 0;
	dm_fingerprint_assoc(&a, &end, &fp);
	assert_int_equal(fp.confidence, 90);
	assert_false(fp.traits & (DM_FPT_NO_DIMSE | DM_FPT_NO_RELEASE));
}

static void test_ac_and_json(void **state)
{
	static const uint8_t ids[1] = {1}, res[1] = {0};
	json_object *o;
	const char *s;

	(void)state;
	decode(pdu_assoc_ac(buf, sizeof(buf), "PACS", "MOD", ids, res, 1, 16384));
	dm_fingerprint_pdu(&a, &fp);
	assert_string_equal(fp.name, "DCMTK (or Orthanc)");
	/* RQ-only traits are not judged on an AC. */
	assert_false(fp.traits & (DM_FPT_RSV_ZERO | DM_FPT_RSV_FF));
	o = dm_fingerprint_json(&fp);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(s, "\"name\":\"DCMTK (or Orthanc)\""));
	assert_non_null(strstr(s, "\"version\":\"3.6.7\""));
	assert_non_null(strstr(s, "\"kind\":\"toolkit\""));
	json_object_put(o);
	assert_string_equal(dm_fp_kind_name(DM_FP_SCANNER), "scanner");
	assert_string_equal(dm_fp_kind_name(99), "unknown");
	/* No implementation class UID at all. */
	{
		uint8_t cd[16], cg[16];
		struct ub b;
		size_t pdu;

		ub_ae16(cd, "A");
		ub_ae16(cg, "B");
		ub_init(&b, buf, sizeof(buf));
		pdu = ub_pdu_begin(&b, 1);
		ub_assoc_fixed(&b, cd, cg);
		decode(ub_pdu_end(&b, pdu));
		dm_fingerprint_pdu(&a, &fp);
		assert_string_equal(fp.name, "unknown");
		assert_int_equal(fp.n_reasons, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_toolkits, teardown),
	    cmocka_unit_test_teardown(test_inconsistent, teardown),
	    cmocka_unit_test_teardown(test_nmap, teardown),
	    cmocka_unit_test_teardown(test_probe_like, teardown),
	    cmocka_unit_test_teardown(test_ac_and_json, teardown),
	};

	return cmocka_run_group_tests_name("unit_fingerprint", tests, NULL, NULL);
}
