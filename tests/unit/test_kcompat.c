// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Kernel-compatibility parts that need no BPF: the reason `dicomon version`
 * quotes from a verifier log that refused a program, and the netlink
 * attribute walk behind the driver's XDP RX metadata query (netdev.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/netlink.h>
#include "kern/loader.h"
#include "kern/netdev.h"

static void test_verifier_reason(void **state)
{
	/* The shape of 6.12's refusal of an unbounded index (issue 10). */
	const char *log =
	    "func#0 @0\n"
	    "0: R1=ctx() R10=fp0\n"
	    "188: (0f) r8 += r2\n"
	    "math between map_value pointer and register with unbounded min value is not "
	    "allowed\n"
	    "processed 2779 insns (limit 1000000) max_states_per_insn 7 total_states 183\n";
	char why[200];

	(void)state;
	dm_verifier_reason(log, why, sizeof(why));
	assert_string_equal(why, "math between map_value pointer and register with unbounded "
				 "min value is not allowed");
	/* No statistics line (a truncated log): the last line. */
	dm_verifier_reason("a\nb\nR3 min value is outside of the allowed memory range\n\n", why,
			   sizeof(why));
	assert_string_equal(why, "R3 min value is outside of the allowed memory range");
	/* Empty log, tiny buffer: no overrun. */
	dm_verifier_reason("", why, sizeof(why));
	assert_string_equal(why, "");
	dm_verifier_reason("processed 1 insns\n", why, 4);
	assert_string_equal(why, "");
	dm_verifier_reason("combined stack size of 4 calls is 544. Too large\nprocessed 5 insns",
			   why, 9);
	assert_string_equal(why, "combined");
}

/* One attribute: header, payload, padding to 4. */
static size_t put(uint8_t *b, size_t at, uint16_t type, const void *v, uint16_t n)
{
	struct nlattr a = {.nla_len = NLA_HDRLEN + n, .nla_type = type};

	memcpy(b + at, &a, sizeof(a));
	memcpy(b + at + NLA_HDRLEN, v, n);
	return at + NLA_ALIGN(a.nla_len);
}

static void test_nla_find(void **state)
{
	uint8_t buf[64] = {0};
	uint32_t ifindex = 7;
	uint64_t features = 4, got;
	const void *v;
	size_t len = 0, n;

	(void)state;
	len = put(buf, len, 1, &ifindex, sizeof(ifindex));
	len = put(buf, len, 2, "x", 1); /* padded */
	len = put(buf, len, 5, &features, sizeof(features));
	v = dm_nla_find(buf, len, 5, &n);
	assert_non_null(v);
	assert_int_equal(n, 8);
	memcpy(&got, v, sizeof(got));
	assert_int_equal(got, 4);
	v = dm_nla_find(buf, len, 2, &n);
	assert_non_null(v);
	assert_int_equal(n, 1);
	assert_null(dm_nla_find(buf, len, 3, &n));
	/* A length running past the buffer ends the walk. */
	buf[0] = 60;
	assert_null(dm_nla_find(buf, len, 5, &n));
	/* A length below the header ends it too (no endless loop). */
	buf[0] = 2;
	assert_null(dm_nla_find(buf, len, 5, &n));
	assert_null(dm_nla_find(buf, 3, 1, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verifier_reason),
	    cmocka_unit_test(test_nla_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
