// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of the userspace PDU helpers: AE titles, reject/abort, DIMSE heads, reassembly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "dicomon.h"
#include "pdu.h"
#include "pktbuild.h"

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
	/* A gap breaks it until the next first piece. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 40, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 50, d + 50, 10, 0, 0), DM_PIECE_BAD);
	assert_int_equal(dm_pdu_buf_add(&b, 1, 60, d + 60, 40, 0, 1), DM_PIECE_BAD);
	/* A continuation without a first piece. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 10, d, 10, 0, 1), DM_PIECE_BAD);
	/* Type change mid-PDU. */
	assert_int_equal(dm_pdu_buf_add(&b, 1, 0, d, 10, 1, 0), DM_PIECE_MORE);
	assert_int_equal(dm_pdu_buf_add(&b, 2, 10, d, 10, 0, 1), DM_PIECE_BAD);
	assert_int_equal(dm_pdu_buf_add(&b, 2, 0, d, 10, 1, 1), DM_PIECE_DONE);
	dm_pdu_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ae_string),	 cmocka_unit_test(test_assoc_hdr),
	    cmocka_unit_test(test_reject_abort), cmocka_unit_test(test_dimse),
	    cmocka_unit_test(test_pdu_buf),
	};

	return cmocka_run_group_tests_name("unit_pdu", tests, NULL, NULL);
}
