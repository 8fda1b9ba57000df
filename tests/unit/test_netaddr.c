// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* lib/netaddr: networks, lists of them, listen addresses, the address formatter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/netaddr.h"

static void addr(int family, const char *s, uint32_t a[4])
{
	memset(a, 0, 16);
	assert_int_equal(inet_pton(family == 6 ? AF_INET6 : AF_INET, s, a), 1);
}

static void test_cidr_parse(void **state)
{
	static const char *const bad[] = {"",
					  "10.0.0.0/33",
					  "fd00::/129",
					  "10.0.0.0/",
					  "10.0.0.0/-1",
					  "10.0.0.0/8x",
					  "10.0.0",
					  "host.example",
					  "10.0.0.0/ 8",
					  "::1/+64",
					  "0000:0000:0000:0000:0000:0000:0000:0000:0000/64"};
	struct dm_cidr c;
	char buf[64];
	size_t i;

	(void)state;
	assert_int_equal(dm_cidr_parse("10.1.2.3/8", &c), 0);
	assert_int_equal(c.family, 4);
	assert_int_equal(c.plen, 8);
	dm_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/8"); /* host bits cleared */
	assert_int_equal(dm_cidr_parse("192.0.2.7", &c), 0);
	assert_int_equal(c.plen, 32);
	dm_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7"); /* a host prints bare */
	assert_int_equal(dm_cidr_parse("fd12:3456::1/17", &c), 0);
	assert_int_equal(c.family, 6);
	dm_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "fd12::/17");
	assert_int_equal(dm_cidr_parse("::/0", &c), 0);
	assert_int_equal(c.plen, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dm_cidr_parse(bad[i], &c) != -EINVAL)
			fail_msg("'%s' parsed as a network", bad[i]);
	assert_int_equal(dm_cidr_parse(NULL, &c), -EINVAL);
}

static void test_cidr_match(void **state)
{
	struct dm_cidr c;
	uint32_t a[4];

	(void)state;
	assert_int_equal(dm_cidr_parse("172.16.0.0/12", &c), 0);
	addr(4, "172.31.255.255", a);
	assert_true(dm_cidr_match(&c, 4, a));
	addr(4, "172.32.0.0", a);
	assert_false(dm_cidr_match(&c, 4, a));
	assert_false(dm_cidr_match(&c, 6, a)); /* another family never matches */
	assert_int_equal(dm_cidr_parse("fc00::/7", &c), 0);
	addr(6, "fdff:1::2", a);
	assert_true(dm_cidr_match(&c, 6, a));
	addr(6, "fe00::1", a);
	assert_false(dm_cidr_match(&c, 6, a));
	assert_int_equal(dm_cidr_parse("2001:db8::1", &c), 0); /* /128: that address only */
	addr(6, "2001:db8::1", a);
	assert_true(dm_cidr_match(&c, 6, a));
	addr(6, "2001:db8::2", a);
	assert_false(dm_cidr_match(&c, 6, a));
	assert_int_equal(dm_cidr_parse("0.0.0.0/0", &c), 0);
	addr(4, "203.0.113.9", a);
	assert_true(dm_cidr_match(&c, 4, a));
}

static void test_netset(void **state)
{
	struct dm_netset s;
	char list[64 * 16 + 32];
	uint32_t a[4];
	size_t n = 0;
	int i;

	(void)state;
	assert_int_equal(dm_netset_parse(&s, "10.0.0.0/8,,fd00::/8"), 0);
	assert_int_equal(s.count, 2);
	addr(4, "10.9.8.7", a);
	assert_true(dm_netset_match(&s, 4, a));
	addr(6, "fd00::5", a);
	assert_true(dm_netset_match(&s, 6, a));
	addr(4, "11.0.0.1", a);
	assert_false(dm_netset_match(&s, 4, a));
	assert_int_equal(dm_netset_parse(&s, ""), 0);
	assert_int_equal(s.count, 0);
	assert_false(dm_netset_match(&s, 4, a));
	assert_int_equal(dm_netset_parse(&s, NULL), 0);
	assert_int_equal(dm_netset_parse(&s, "10.0.0.0/8,nonsense"), -EINVAL);
	for (i = 0; i <= DM_NETS_MAX; i++)
		n += snprintf(list + n, sizeof(list) - n, "%s10.%d.0.0/16", i ? "," : "", i);
	assert_int_equal(dm_netset_parse(&s, list), -E2BIG);
}

static void test_listen_parse(void **state)
{
	static const char *const good[] = {"127.0.0.1:9479", "0.0.0.0:1", "[::1]:9479",
					   "[fe80::1]:65535"};
	static const char *const bad[] = {
	    "",		  "localhost:9479", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
	    "::1:9479",	  "[::1]9479",	    "[::1]:",	 "1.2.3.4:80x", "[127.0.0.1]:80",
	    "1.2.3.4:-1", "[]:80",	    ":80"};
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(dm_listen_parse(good[i], &ss, &len), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dm_listen_parse(bad[i], &ss, &len) != -EINVAL)
			fail_msg("'%s' parsed as a listen address", bad[i]);
	assert_int_equal(dm_listen_parse("192.0.2.1:8080", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(s4->sin_port), 8080);
	assert_int_equal(s4->sin_addr.s_addr, htonl(0xc0000201));
	assert_int_equal(dm_listen_parse("[::1]:9479", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 9479);
	assert_true(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
}

static void test_addr_format(void **state)
{
	struct dm_flow_key k = {.family = 4};
	char buf[INET6_ADDRSTRLEN], tiny[4];
	uint32_t a[4];

	(void)state;
	addr(4, "192.0.2.1", k.addr[0]);
	addr(4, "198.51.100.2", k.addr[1]);
	dm_key_addr_format(&k, 0, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	dm_key_addr_format(&k, 3, buf, sizeof(buf)); /* side & 1 */
	assert_string_equal(buf, "198.51.100.2");
	k.family = 6;
	addr(6, "2001:db8::7", k.addr[1]);
	dm_key_addr_format(&k, 1, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::7");
	addr(6, "fe80::1", a);
	dm_addr_format(6, a, buf, sizeof(buf));
	assert_string_equal(buf, "fe80::1");
	/* Any family but 6 is IPv4, as the record has it; too small a buffer is "?". */
	addr(4, "10.0.0.1", a);
	dm_addr_format(0, a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	dm_addr_format(4, a, tiny, sizeof(tiny));
	assert_string_equal(tiny, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr_parse),	cmocka_unit_test(test_cidr_match),
	    cmocka_unit_test(test_netset),	cmocka_unit_test(test_listen_parse),
	    cmocka_unit_test(test_addr_format),
	};

	return cmocka_run_group_tests_name("unit_netaddr", tests, NULL, NULL);
}
