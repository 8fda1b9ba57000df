// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * One name table per enum: every value of every enum with a name table has a
 * name, no two values of one enum share one, and where one enum's names are
 * built on another's they agree. A value added to an enum without a name makes
 * its table hold a NULL (the tables are sized by the enum's _MAX), and fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "lib/log.h"
#include "lib/names.h"
#include "decode/dicomweb.h"
#include "decode/fingerprint.h"
#include "decode/pdu.h"
#include "config/config.h"
#include "kern/pin.h"
#include "assoc/integrity.h"
#include "assoc/table.h"
#include "output/feed.h"

struct named_enum {
	const char *what;
	const char *(*name)(unsigned int v);
	unsigned int first, max; /* the values with a name: [first, max) */
};

static const char *dw_resource_name(unsigned int v)
{
	return dm_dw_resource_name((int)v);
}

/* The enums of include/dicomon.h (lib/names.c), then those of one module each. */
static const struct named_enum shared[] = {
    {"dm_pdu_type", dm_pdu_name, DM_PDU_INVALID, DM_PDU_MAX},
    {"dm_class", dm_class_name, 0, DM_CLASS_MAX},
    {"dm_dir", dm_dir_name, 0, DM_DIR_MAX},
    {"dm_transport", dm_transport_name, 0, DM_TRANSPORT_MAX},
    {"dm_state", dm_state_name, 0, DM_STATE_MAX},
    {"dm_assoc_counter", dm_assoc_counter_name, 0, DM_ASSOC_MAX},
    {"dm_err", dm_err_name, 0, DM_ERR_MAX},
    {"dm_counter", dm_counter_name, 0, DM_CNT_MAX},
    {"dm_anomaly", dm_anomaly_name, DM_AN_NONE + 1, DM_AN_MAX},
    {"dm_hook", dm_hook_name, DM_HOOK_XDP, DM_HOOK_MAX},
    {"dm_event_type", dm_event_name, DM_EV_NONE + 1, DM_EV_MAX},
    {"dm_end_reason", dm_end_reason_name, DM_END_FIN, DM_END_MAX},
};

static const struct named_enum modules[] = {
    {"dm_viol", dm_viol_name, 0, DM_V_MAX},
    {"dm_sclass", dm_sclass_name, 0, DM_SCLASS_MAX},
    {"dm_dw_resource", dw_resource_name, DM_DW_NONE + 1, DM_DW_MAX},
    {"dm_dw_phi", dm_dw_phi_name, 0, DM_PHI_MAX},
    {"dm_fp_kind", dm_fp_kind_name, 0, DM_FP_KIND_MAX},
    {"dm_att", dm_att_name, 0, DM_ATT_MAX},
    {"dm_outcome", dm_outcome_name, 0, DM_OUT_MAX},
    {"dm_incomplete", dm_incomplete_name, 0, DM_INC_MAX},
    {"dm_feed_output", dm_feed_output_name, 0, DM_FEED_OUT_MAX},
};

/* Every value named, "?" (the accessors' out-of-range answer) never a name, no two alike. */
static void check_enum(const struct named_enum *e)
{
	unsigned int v, w;

	for (v = e->first; v < e->max; v++) {
		const char *n = e->name(v);

		if (!n || !n[0] || !strcmp(n, "?"))
			fail_msg("%s value %u has no name", e->what, v);
		for (w = e->first; w < v; w++)
			if (!strcmp(n, e->name(w)))
				fail_msg("%s values %u and %u are both \"%s\"", e->what, w, v, n);
	}
}

static void test_shared_enums(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		check_enum(&shared[i]);
		/* NAME_FN: out of range, or a value below the first (none there), is "?" */
		assert_string_equal(shared[i].name(shared[i].max), "?");
		assert_string_equal(shared[i].name(~0u), "?");
		if (shared[i].first)
			assert_string_equal(shared[i].name(shared[i].first - 1), "?");
	}
}

static void test_module_enums(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		check_enum(&modules[i]);
	assert_string_equal(dm_sclass_name(DM_SCLASS_MAX), "?");
	assert_string_equal(dm_viol_name(DM_V_MAX), "?");
}

/* A NULL-terminated table of an enum's names (config keys): exactly max of them, unique. */
static void check_list(const char *what, const char *const *names, unsigned int max)
{
	unsigned int n = 0, v, w;

	while (names[n])
		n++;
	if (n != max)
		fail_msg("%s: %u names for %u values", what, n, max);
	for (v = 0; v < n; v++)
		for (w = 0; w < v; w++)
			if (!strcmp(names[w], names[v]))
				fail_msg("%s: \"%s\" twice", what, names[v]);
}

static void test_config_enums(void **state)
{
	(void)state;
	check_list("dm_xdp_mode", dm_xdp_mode_names, DM_XDP_MODE_MAX);
	check_list("dm_tc_mode", dm_tc_mode_names, DM_TC_MODE_MAX);
	check_list("dm_log_level", dm_log_level_names, DM_LOG_DEBUG - DM_LOG_WARN + 1);
}

/* Names one table builds on another's: they must not drift apart. */
static void test_derived_names(void **state)
{
	char want[64];
	unsigned int a, b;

	(void)state;
	/* stream_* violations: "stream_" + the anomaly's name, one per anomaly */
	for (a = DM_AN_NONE + 1; a < DM_AN_MAX; a++) {
		snprintf(want, sizeof(want), "stream_%s", dm_anomaly_name(a));
		assert_string_equal(dm_viol_name(DM_V_STREAM(a)), want);
	}
	/* an attachment point and the hook its program runs at: one name */
	for (a = 0; a < DM_ATT_MAX; a++)
		assert_string_equal(dm_att_name(a), dm_hook_name(a + DM_HOOK_XDP));
	assert_string_equal(dm_att_name(DM_ATT_TC_EGRESS), "tc_egress"); /* pin names */
	/* DM_AE_* flags: one name per bit, every bit named */
	for (b = 0; b < DM_AE_FLAG_BITS; b++) {
		assert_non_null(dm_ae_flag_name(b));
		for (a = 0; a < b; a++)
			assert_string_not_equal(dm_ae_flag_name(a), dm_ae_flag_name(b));
	}
	assert_null(dm_ae_flag_name(DM_AE_FLAG_BITS));
	assert_int_equal(DM_AE_BAD | DM_AE_INNER_SP, (1u << DM_AE_FLAG_BITS) - 1);
	/* the status class of a status and its name */
	assert_int_equal(dm_sclass_of(0xff01), DM_SCLASS_PENDING);
	assert_int_equal(dm_sclass_of(0xb007), DM_SCLASS_WARNING);
	assert_int_equal(dm_sclass_of(0xa801), DM_SCLASS_FAILURE);
	assert_string_equal(dm_status_class(0xfe00), dm_sclass_name(DM_SCLASS_CANCEL));
	/* TLS versions: SSL3.0..TLS1.3 named, each once; others "unknown", 0 none */
	for (a = 0x0300; a <= 0x0304; a++) {
		assert_true(dm_tls_version_known((uint16_t)a));
		for (b = 0x0300; b < a; b++)
			assert_string_not_equal(dm_tls_version_name((uint16_t)a),
						dm_tls_version_name((uint16_t)b));
	}
	assert_string_equal(dm_tls_version_name(0x0303), "TLS1.2");
	assert_false(dm_tls_version_known(0x0305));
	assert_false(dm_tls_version_known(0x02ff));
	assert_string_equal(dm_tls_version_name(0x0305), "unknown");
	assert_null(dm_tls_version_name(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shared_enums),
	    cmocka_unit_test(test_module_enums),
	    cmocka_unit_test(test_config_enums),
	    cmocka_unit_test(test_derived_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
