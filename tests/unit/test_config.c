// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of command-line value parsing and the BPF config block. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "config/config.h"

static int port_set(const void *map, unsigned int p)
{
	const uint64_t *m = map;

	return (m[p >> 6] >> (p & 63)) & 1;
}

static void test_ports(void **state)
{
	uint64_t m[DM_PORT_WORDS];
	const char *bad;
	unsigned int p, n = 0;

	(void)state;
	assert_int_equal(dm_parse_ports("104,11112,2000-2010", m, &bad), 0);
	for (p = 0; p < 65536; p++)
		n += port_set(m, p);
	assert_int_equal(n, 13);
	assert_true(port_set(m, 104) && port_set(m, 2005) && !port_set(m, 2011));
	assert_int_equal(dm_parse_ports("65535", m, &bad), 0);
	assert_true(port_set(m, 65535));
	const char *invalid[] = {"",	 "0",	 "65536", "-1",	 "10-5",
				 "1,,2", "1,",	 "abc",	  "1 2", "99999999999999999999",
				 "104-", "-104", "+104"};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		assert_int_equal(dm_parse_ports(invalid[i], m, &bad), -EINVAL);
}

static void test_u32(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(dm_parse_u32("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(dm_parse_u32("0", 1, 100, &v), -ERANGE);
	assert_int_equal(dm_parse_u32("101", 1, 100, &v), -ERANGE);
	assert_int_equal(dm_parse_u32("4294967296", 0, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(dm_parse_u32("12x", 0, 100, &v), -EINVAL);
	assert_int_equal(dm_parse_u32("-5", 0, 100, &v), -EINVAL);
	assert_int_equal(dm_parse_u32("", 0, 100, &v), -EINVAL);
}

static void test_defaults_to_bpf(void **state)
{
	struct dm_bpf_config b;
	struct dm_config c;

	(void)state;
	dm_config_defaults(&c);
	dm_config_to_bpf(&c, &b);
	assert_true(port_set(b.port_map, 104) && port_set(b.port_map, 11112) &&
		    port_set(b.port_map, 2762) && port_set(b.port_map, 4242));
	assert_false(port_set(b.port_map, 80));
	assert_int_equal(b.slots_mask, c.flow_slots - 1);
	assert_int_equal(b.idle_reclaim_ns, 600ULL * 1000000000ULL);
	assert_true(b.any_port_rq && b.midstream && b.tls && b.dimse);
	assert_false(b.bench_hold);
}

/* The list keys check each item with lib/netaddr's parsers (or the signature id range). */
static void expect_list(const char *key, const char *val, const char *why_part)
{
	const struct dm_key *k = dm_key_find(key);
	struct dm_config c;
	char why[160] = "";

	assert_non_null(k);
	dm_config_defaults(&c);
	if (!why_part) {
		if (dm_key_set(&c, k, val, why, sizeof(why)))
			fail_msg("%s=%s refused: %s", key, val, why);
		return;
	}
	assert_int_equal(dm_key_set(&c, k, val, why, sizeof(why)), -EINVAL);
	if (!strstr(why, why_part))
		fail_msg("%s=%s: '%s' lacks '%s'", key, val, why, why_part);
}

static void test_list_checks(void **state)
{
	(void)state;
	expect_list("metrics.listen", "127.0.0.1:9479,[::1]:9479", NULL);
	expect_list("metrics.listen", "localhost:9479", "is not ADDRESS:PORT or [IPV6-ADDRESS]:PORT");
	expect_list("metrics.listen", "[::1]:0", "'[::1]:0' is not ADDRESS:PORT");
	expect_list("policy.imaging_networks", "10.0.0.0/8, fd00::/8, 192.0.2.1", NULL);
	expect_list("policy.trusted_networks", "10.0.0.0/33",
		    "'10.0.0.0/33' is not an address or ADDRESS/PREFIX");
	expect_list("rules.disabled", "9100010,9199999", NULL);
	expect_list("rules.disabled", "9099999", "is not a dicomon signature id (9100000..9199999)");
	expect_list("rules.disabled", "9200000", "signature id");
	expect_list("rules.disabled", "91000x", "signature id");
}

/* The key table is whole: each row names a section, has a default that parses, help, limits. */
static void test_key_table(void **state)
{
	struct dm_config c, d;
	const struct dm_key *k;
	char why[160], sec[32];
	size_t i, j, n;
	uint32_t v;

	(void)state;
	dm_config_defaults(&d);
	for (i = 0; i < dm_n_keys; i++) {
		k = &dm_keys[i];
		n = strcspn(k->name, ".");
		assert_true(n < sizeof(sec) && k->name[n] == '.');
		memcpy(sec, k->name, n);
		sec[n] = 0;
		for (j = 0; dm_sections[j] && strcmp(dm_sections[j], sec); j++)
			;
		if (!dm_sections[j])
			fail_msg("%s: section %s is not in dm_sections", k->name, sec);
		assert_ptr_equal(dm_key_find(k->name), k); /* names are unique */
		if (!k->def || !k->help || !*k->help)
			fail_msg("%s: no default or no help", k->name);
		/* The default is what dm_config_defaults() leaves in the field. */
		memset(&c, 0xa5, sizeof(c));
		if (dm_key_set(&c, k, k->def, why, sizeof(why)))
			fail_msg("%s: default '%s': %s", k->name, k->def, why);
		assert_true(dm_key_equal(&c, &d, k));
		if (k->type == DM_KT_U32) {
			assert_true(k->min <= k->max);
			assert_int_equal(dm_parse_u32(k->def, k->min, k->max, &v), 0);
		}
		if (k->type == DM_KT_LIST && (!k->what || !k->check))
			fail_msg("%s: a list without what or check", k->name);
		if ((k->flags & DM_KF_RESTART) && k->note)
			fail_msg("%s: a restart key with a reload note", k->name);
	}
	/* Not keys, fixed. */
	assert_int_equal(d.ctl_max, 65536);
	assert_int_equal(d.max_pdu_len, 1 << 24);
	assert_false(d.replay || d.n_ifaces);
	/* detection.web_ports: at most DM_WEB_PORTS, from the table's max. */
	k = dm_key_find("detection.web_ports");
	assert_int_equal(k->max, DM_WEB_PORTS);
	assert_int_equal(dm_key_set(&c, k, "1-9", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "at most 8 ports");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_u32),
	    cmocka_unit_test(test_defaults_to_bpf),
	    cmocka_unit_test(test_list_checks),
	    cmocka_unit_test(test_key_table),
	};

	return cmocka_run_group_tests_name("unit_config", tests, NULL, NULL);
}
