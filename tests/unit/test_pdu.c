// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the userspace PDU helpers: AE titles and their anomaly flags,
 * every reject/abort code, the violation list, UID syntax, DIMSE heads,
 * reassembly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "dicomon.h"
#include "decode/pdu.h"
#include "pktbuild.h"
#include "decode_views.h"

static void test_ae_string(void **state)
{
	const uint8_t plain[16] = "  PACS_SCP      ";
	const uint8_t hostile[16] = {'A', '"', '\\', 0x00, 0x07, 0xff, 'B', ' ',
				     ' ', ' ', ' ',  ' ',  ' ',	 ' ',  ' ', ' '};
	const uint8_t spaces[16] = "                ";
	char out[DM_AE_STR];

	(void)state;
	dm_ae_string(plain, out);
	assert_string_equal(out, "PACS_SCP");
	dm_ae_string(hostile, out);
	assert_string_equal(out, "A\"\\x5c\\x00\\x07\\xffB");
	dm_ae_string(spaces, out);
	assert_string_equal(out, "");
	/* Worst case: 16 escaped bytes fill the buffer exactly. */
	memset((uint8_t *)hostile, 0x01, 16);
	dm_ae_string(hostile, out);
	assert_int_equal(strlen(out), 64);
}

static void test_assoc_hdr(void **state)
{
	struct pdu_pc pc = {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1};
	struct dm_assoc_hdr h;
	uint8_t rq[512];
	size_t n = pdu_assoc_rq(rq, sizeof(rq), "ANY-SCP", "ECHOSCU", &pc, 1, 16384,
				PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);

	(void)state;
	assert_int_equal(dm_assoc_hdr_parse(rq, n, &h), 0);
	assert_string_equal(h.called, "ANY-SCP");
	assert_string_equal(h.calling, "ECHOSCU");
	assert_int_equal(h.protocol_version, 1);
	assert_int_equal(dm_assoc_hdr_parse(rq, 41, &h), -EINVAL); /* short */
	rq[0] = DM_PDU_P_DATA;
	assert_int_equal(dm_assoc_hdr_parse(rq, n, &h), -EINVAL);
}

static void test_reject_abort(void **state)
{
	struct dm_reject r;
	uint8_t p[16];

	(void)state;
	assert_int_equal(dm_reject_parse(p, pdu_assoc_rj(p, sizeof(p), 1, 1, 7), &r), 0);
	assert_int_equal(r.result, 1);
	assert_string_equal(dm_reject_reason_name(r.source, r.reason),
			    "called-AE-title-not-recognized");
	assert_string_equal(dm_reject_reason_name(1, 3), "calling-AE-title-not-recognized");
	assert_string_equal(dm_reject_reason_name(3, 2), "local-limit-exceeded");
	assert_string_equal(dm_reject_reason_name(9, 9), "reserved");
	assert_int_equal(dm_reject_parse(p, pdu_abort(p, sizeof(p), 2, 6), &r), 0);
	assert_string_equal(dm_abort_reason_name(r.source, r.reason),
			    "invalid-PDU-parameter-value");
	assert_string_equal(dm_abort_reason_name(0, 0), "service-user");
	assert_string_equal(dm_abort_reason_name(2, 200), "reserved");
	assert_int_equal(dm_reject_parse(p, 9, &r), -EINVAL);
}

static void test_dimse(void **state)
{
	struct dm_dimse d;
	uint8_t p[512];
	size_t n;

	(void)state;
	n = pdu_pdata_command(p, sizeof(p), 3, 0x0021, PDU_UID_STUDY_MOVE, 42, 0, "EVIL_AE", 1);
	assert_int_equal(dm_dimse_parse(p, n, &d), 0);
	assert_int_equal(d.command, 0x0021);
	assert_int_equal(d.message_id, 42);
	assert_int_equal(d.pc_id, 3);
	n = pdu_pdata_command(p, sizeof(p), 3, 0x8021, PDU_UID_STUDY_MOVE, 42, 0xa801, NULL, 0);
	assert_int_equal(dm_dimse_parse(p, n, &d), 0);
	assert_true(d.present & DM_DIMSE_HAS_STATUS);
	assert_int_equal(d.status, 0xa801);
	assert_string_equal(dm_status_class(d.status), "failure");
	assert_string_equal(dm_status_class(0xff00), "pending");
	assert_string_equal(dm_status_class(0xb000), "warning");
	assert_string_equal(dm_status_class(0xfe00), "cancel");
	assert_string_equal(dm_status_class(0), "success");
	/* Every truncation of the head: an error or a partial answer, never a read past n. */
	for (size_t cut = 0; cut < n; cut++)
		(void)dm_dimse_parse(p, cut, &d);
	/* A data set PDV is not a command. */
	n = pdu_pdata_data(p, sizeof(p), 1, 64, 1);
	assert_int_equal(dm_dimse_parse(p, n, &d), -EINVAL);
	/* A hostile element length. */
	n = pdu_pdata_command(p, sizeof(p), 1, 0x0030, PDU_UID_VERIFICATION, 1, 0, NULL, 0);
	p[12 + 12 + 4] = 0xff; /* (0000,0002) length -> huge */
	p[12 + 12 + 7] = 0x7f;
	assert_true(dm_dimse_parse(p, n, &d) != 0);
}

static void test_pdu_buf(void **state)
{
	struct dm_pdu_buf b = {};
	uint8_t d[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		d[i] = i;
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 40, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 40, d + 40, 60, 0, 1), DM_PIECE_DONE);
	assert_int_equal(b.len, 100);
	assert_memory_equal(b.data, d, 100);
	/* A gap the last piece leaves open breaks it until the next first piece. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 40, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 60, d + 60, 40, 0, 1), DM_PIECE_BAD);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 40, d + 40, 20, 0, 1), DM_PIECE_BAD);
	/* A continuation without a first piece. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 10, d, 10, 0, 1), DM_PIECE_BAD);
	/* Type change mid-PDU. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 10, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 2, 10, d, 10, 0, 1), DM_PIECE_BAD);
	assert_int_equal(dm_pdu_buf_add(&b, 2, 0, d, 10, 1, 1), DM_PIECE_DONE);
	dm_pdu_buf_free(&b);
}

static void test_ae_flags(void **state)
{
	static const struct {
		const char raw[17];
		uint8_t flags;
	} cases[] = {
	    {"PACS_SCP        ", 0},
	    {"  PACS          ", 0},
	    {"MY PACS         ", DM_AE_INNER_SP},
	    {"                ", DM_AE_EMPTY},
	    {"AB\\CD           ", DM_AE_BACKSLASH},
	    {"AB\x07"
	     "CD           ",
	     DM_AE_CTRL},
	    {"AB\x1b[2J          ", DM_AE_CTRL},
	    {"AB\x7f"
	     "CD           ",
	     DM_AE_HIGH},
	    {"AB\xc3\xa9"
	     "            ",
	     DM_AE_HIGH},
	};
	uint8_t ae[16];
	char names[64];
	struct dm_ae a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(strlen(cases[i].raw), 16);
		assert_int_equal(dm_ae_flags((const uint8_t *)cases[i].raw), cases[i].flags);
	}
	/* An embedded NUL hides the rest from C strings; trailing NULs are only padding. */
	memcpy(ae, "ADMIN\0EVIL      ", 16);
	assert_int_equal(dm_ae_flags(ae), DM_AE_NUL);
	memcpy(ae, "ADMIN\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(dm_ae_flags(ae), DM_AE_NUL_PAD);
	memset(ae, 0, 16);
	assert_int_equal(dm_ae_flags(ae), DM_AE_NUL_PAD | DM_AE_EMPTY);
	dm_ae_flags_string(DM_AE_CTRL | DM_AE_NUL | DM_AE_EMPTY, names, sizeof(names));
	assert_string_equal(names, "ctrl,nul,empty");
	dm_ae_flags_string(0, names, sizeof(names));
	assert_string_equal(names, "");
	dm_ae_flags_string(0x7f, names, 10); /* cut but terminated */
	assert_true(strlen(names) < 10);
	/* Short values (command elements) are space-padded to the 16 raw bytes. */
	dm_ae_set(&a, (const uint8_t *)"STORESCP", 8);
	assert_memory_equal(a.raw, "STORESCP        ", 16);
	assert_string_equal(a.str, "STORESCP");
	assert_int_equal(a.flags, 0);
	dm_ae_set(&a, (const uint8_t *)"0123456789ABCDEFGH", 18);
	assert_memory_equal(a.raw, "0123456789ABCDEF", 16);
}

/* Every A-ASSOCIATE-RJ result, source and reason of PS3.8 Table 9-21. */
static void test_reject_codes(void **state)
{
	static const struct {
		uint8_t source, reason;
		const char *name;
	} rj[] = {
	    {1, 1, "no-reason-given"},
	    {1, 2, "application-context-name-not-supported"},
	    {1, 3, "calling-AE-title-not-recognized"},
	    {1, 4, "reserved"},
	    {1, 5, "reserved"},
	    {1, 6, "reserved"},
	    {1, 7, "called-AE-title-not-recognized"},
	    {1, 8, "reserved"},
	    {1, 10, "reserved"},
	    {2, 1, "no-reason-given"},
	    {2, 2, "protocol-version-not-supported"},
	    {2, 3, "reserved"},
	    {3, 0, "reserved"},
	    {3, 1, "temporary-congestion"},
	    {3, 2, "local-limit-exceeded"},
	    {3, 3, "reserved"},
	    {3, 7, "reserved"},
	    {0, 1, "reserved"},
	    {4, 1, "reserved"},
	};
	struct dm_reject r;
	uint8_t p[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rj) / sizeof(rj[0]); i++) {
		for (uint8_t result = 1; result <= 2; result++) {
			size_t n = pdu_assoc_rj(p, sizeof(p), result, rj[i].source, rj[i].reason);

			assert_int_equal(dm_reject_parse(p, n, &r), 0);
			assert_int_equal(r.result, result);
			assert_int_equal(r.source, rj[i].source);
			assert_int_equal(r.reason, rj[i].reason);
			assert_string_equal(dm_reject_reason_name(r.source, r.reason), rj[i].name);
		}
	}
	assert_string_equal(dm_reject_source_name(1), "service-user");
	assert_string_equal(dm_reject_source_name(2), "service-provider-acse");
	assert_string_equal(dm_reject_source_name(3), "service-provider-presentation");
	assert_string_equal(dm_reject_source_name(0), "reserved");
	assert_string_equal(dm_reject_source_name(4), "reserved");
}

/* Every A-ABORT source and reason of PS3.8 Table 9-26. */
static void test_abort_codes(void **state)
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
	struct dm_reject r;
	uint8_t p[16];

	(void)state;
	for (uint8_t reason = 0; reason < 7; reason++) {
		assert_int_equal(dm_reject_parse(p, pdu_abort(p, sizeof(p), 2, reason), &r), 0);
		assert_int_equal(r.result, 0);
		assert_int_equal(r.source, 2);
		assert_int_equal(r.reason, reason);
		assert_string_equal(dm_abort_reason_name(2, reason), provider[reason]);
		/* The service-user's reason is not significant (PS3.8 Table 9-26). */
		assert_string_equal(dm_abort_reason_name(0, reason), "service-user");
		assert_string_equal(dm_abort_reason_name(1, reason), "reserved");
	}
	assert_string_equal(dm_abort_reason_name(2, 7), "reserved");
	assert_string_equal(dm_abort_reason_name(2, 255), "reserved");
	/* Wrong PDU types and short buffers. */
	assert_int_equal(dm_reject_parse(p, pdu_release_rq(p, sizeof(p)), &r), -EINVAL);
	assert_int_equal(dm_reject_parse(p, pdu_release_rp(p, sizeof(p)), &r), -EINVAL);
	assert_int_equal(dm_reject_parse(p, 0, &r), -EINVAL);
}

static void test_violations(void **state)
{
	struct dm_violations v = {0};

	(void)state;
	for (int i = 0; i < DM_VIOL_KEEP + 5; i++)
		dm_viol_add(&v, DM_V_PC_ID, "even presentation context id %d", 2 * i);
	assert_int_equal(v.n, DM_VIOL_KEEP);
	assert_int_equal(v.total, DM_VIOL_KEEP + 5);
	assert_string_equal(v.v[2].text, "even presentation context id 4");
	assert_true(dm_viol_has(&v, DM_V_PC_ID));
	assert_false(dm_viol_has(&v, DM_V_UID));
	/* Long texts are cut, not overflowed. */
	dm_viol_add(&v, DM_V_UID, "%0200d", 1);
	for (unsigned int c = 0; c < DM_V_MAX; c++)
		assert_string_not_equal(dm_viol_name(c), "?");
	assert_string_equal(dm_viol_name(DM_V_PC_DUPLICATE), "pc_duplicate");
	assert_string_equal(dm_viol_name(DM_V_MAX), "?");
	assert_string_equal(dm_viol_name(9999), "?");
}

static void test_uid_problem(void **state)
{
	static const struct {
		const char *uid;
		const char *why;
	} cases[] = {
	    {"1.2.840.10008.1.1", NULL},
	    {"1.2.0.3", NULL},
	    {"0", NULL},
	    {"", "empty UID"},
	    {".1.2", "empty UID component"},
	    {"1..2", "empty UID component"},
	    {"1.2.", "UID ends with a dot"},
	    {"1.02.3", "UID component with a leading zero"},
	    {"1.2.3a", "UID byte not a digit or dot"},
	    {"1.2 .3", "UID byte not a digit or dot"},
	    {"1.2345678901234567890123456789012345678901234567890123456789012345",
	     "UID longer than 64"},
	};
	size_t at;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *w =
		    dm_uid_problem((const uint8_t *)cases[i].uid, strlen(cases[i].uid), &at);

		if (cases[i].why)
			assert_string_equal(w, cases[i].why);
		else
			assert_null(w);
	}
	assert_non_null(dm_uid_problem((const uint8_t *)"1.2\0", 4, &at));
	assert_int_equal(at, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ae_string),	 cmocka_unit_test(test_assoc_hdr),
	    cmocka_unit_test(test_reject_abort), cmocka_unit_test(test_dimse),
	    cmocka_unit_test(test_pdu_buf),	 cmocka_unit_test(test_ae_flags),
	    cmocka_unit_test(test_reject_codes), cmocka_unit_test(test_abort_codes),
	    cmocka_unit_test(test_violations),	 cmocka_unit_test(test_uid_problem),
	};

	return cmocka_run_group_tests_name("unit_pdu", tests, NULL, NULL);
}
