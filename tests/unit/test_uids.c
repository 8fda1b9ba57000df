// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The generated UID registry table: lookups, order, and that it is the registry it claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "decode/pdu.h"
#include "decode/uids.h"

static void test_names(void **state)
{
	static const struct {
		const char *uid, *name;
		unsigned int type;
	} cases[] = {
	    {"1.2.840.10008.1.1", "Verification SOP Class", DM_UID_SOP_CLASS},
	    {"1.2.840.10008.1.2", "Implicit VR Little Endian", DM_UID_TRANSFER_SYNTAX},
	    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian", DM_UID_TRANSFER_SYNTAX},
	    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", DM_UID_TRANSFER_SYNTAX},
	    {"1.2.840.10008.3.1.1.1", "DICOM Application Context Name", DM_UID_APP_CONTEXT},
	    {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", DM_UID_SOP_CLASS},
	    {"1.2.840.10008.5.1.4.1.2.2.1", "Study Root Query/Retrieve Information Model - FIND",
	     DM_UID_SOP_CLASS},
	    {"1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve Information Model - MOVE",
	     DM_UID_SOP_CLASS},
	    {"1.2.840.10008.5.1.4.31", "Modality Worklist Information Model - FIND",
	     DM_UID_SOP_CLASS},
	    {"1.2.840.10008.1.20.1", "Storage Commitment Push Model SOP Class", DM_UID_SOP_CLASS},
	};
	const struct dm_uid_entry *e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = dm_uid_lookup(cases[i].uid);
		assert_non_null(e);
		assert_string_equal(dm_uid_name(cases[i].uid), cases[i].name);
		assert_int_equal(e->type, cases[i].type);
	}
	assert_string_equal(dm_uid_lookup("1.2.840.10008.5.1.4.1.1.2")->keyword, "CTImageStorage");
	assert_true(dm_uid_lookup("1.2.840.10008.1.2.2")->retired); /* Explicit VR Big Endian */
	assert_false(dm_uid_lookup("1.2.840.10008.1.2")->retired);
	assert_null(dm_uid_name(NULL));
	assert_null(dm_uid_name(""));
	assert_null(dm_uid_name("1.2.840.10008.1"));	/* a prefix is not a match */
	assert_null(dm_uid_name("1.2.840.10008.1.1.")); /* nor an extension */
	assert_null(dm_uid_name("1.2.276.0.7230010.3.0.3.6.2"));
	assert_non_null(dm_uid_lookup("1.2.840.10008.5.1.4.1.1.40"));
	assert_null(dm_uid_name("1.2.840.10008.5.1.4.1.1.40")); /* retired, unnamed */
}

/* Sorted bytewise and unique (binary search depends on it), every UID well-formed. */
static void test_table(void **state)
{
	unsigned int i, ts = 0, sop = 0;
	size_t at;

	(void)state;
	assert_true(dm_uid_table_len > 400);
	for (i = 0; i < dm_uid_table_len; i++) {
		const struct dm_uid_entry *e = &dm_uid_table[i];

		if (i)
			assert_true(strcmp(dm_uid_table[i - 1].uid, e->uid) < 0);
		assert_null(dm_uid_problem((const uint8_t *)e->uid, strlen(e->uid), &at));
		assert_true(e->name[0] || e->retired);
		assert_true(e->type < DM_UID_TYPE_MAX);
		assert_ptr_equal(dm_uid_lookup(e->uid), e);
		ts += e->type == DM_UID_TRANSFER_SYNTAX;
		sop += e->type == DM_UID_SOP_CLASS;
	}
	assert_true(ts >= 40);
	assert_true(sop >= 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests_name("unit_uids", tests, NULL, NULL);
}
