// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of pcapio.c: every link layer to Ethernet, short and oversize
 * packets, the writer read back (ns timestamps, append, 0600), damaged and
 * foreign files.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/pcapio.h"

/* DLT values (pcap/dlt.h; not included: see pcapio.h on bpf_insn). */
#define DLT_NULL_	0
#define DLT_EN10MB_	1
#define DLT_RAW_	12
#define DLT_LOOP_	108
#define DLT_LINUX_SLL_	113
#define DLT_IPV4_	228
#define DLT_IPV6_	229
#define DLT_LINUX_SLL2_ 276
#define DLT_IEEE802_11_ 105

static const uint8_t ip4[] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
static const uint8_t ip6[40] = {0x60, 0, 0, 0, 0, 0, 6, 64};

static void expect_frame(const uint8_t *out, long n, const uint8_t *ip, size_t iplen,
			 uint16_t ethertype, const uint8_t *src)
{
	static const uint8_t zero[6];

	assert_int_equal(n, 14 + (long)iplen);
	assert_memory_equal(out, zero, 6);
	assert_memory_equal(out + 6, src ? src : zero, 6);
	assert_int_equal(out[12] << 8 | out[13], ethertype);
	assert_memory_equal(out + 14, ip, iplen);
}

static void test_link_layers(void **state)
{
	uint8_t in[128], out[128];
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	long n;

	(void)state;
	/* Ethernet: as it is. */
	memset(in, 0xab, 12);
	in[12] = 0x08, in[13] = 0;
	memcpy(in + 14, ip4, sizeof(ip4));
	n = dm_pcap_to_ethernet(DLT_EN10MB_, in, 14 + sizeof(ip4), out, sizeof(out));
	assert_int_equal(n, 14 + sizeof(ip4));
	assert_memory_equal(out, in, n);
	/* Raw IP, v4 and v6, under the three link types that carry it. */
	expect_frame(out, dm_pcap_to_ethernet(DLT_RAW_, ip4, sizeof(ip4), out, sizeof(out)), ip4,
		     sizeof(ip4), 0x0800, NULL);
	expect_frame(out, dm_pcap_to_ethernet(DLT_IPV6_, ip6, sizeof(ip6), out, sizeof(out)), ip6,
		     sizeof(ip6), 0x86dd, NULL);
	expect_frame(out, dm_pcap_to_ethernet(DLT_IPV4_, ip4, sizeof(ip4), out, sizeof(out)), ip4,
		     sizeof(ip4), 0x0800, NULL);
	/* Linux cooked v1: packet type, ARPHRD, address length 6, address, protocol. */
	memset(in, 0, 16);
	in[3] = 1, in[5] = 6;
	memcpy(in + 6, mac, 6);
	in[14] = 0x86, in[15] = 0xdd;
	memcpy(in + 16, ip6, sizeof(ip6));
	expect_frame(out,
		     dm_pcap_to_ethernet(DLT_LINUX_SLL_, in, 16 + sizeof(ip6), out, sizeof(out)),
		     ip6, sizeof(ip6), 0x86dd, mac);
	/* v2: protocol first, the address at 12; a VLAN tag stays in the payload. */
	memset(in, 0, 20);
	in[0] = 0x81, in[1] = 0x00, in[11] = 6;
	memcpy(in + 12, mac, 6);
	in[20] = 0, in[21] = 42, in[22] = 0x08, in[23] = 0;
	memcpy(in + 24, ip4, sizeof(ip4));
	n = dm_pcap_to_ethernet(DLT_LINUX_SLL2_, in, 24 + sizeof(ip4), out, sizeof(out));
	assert_int_equal(n, 18 + sizeof(ip4));
	assert_int_equal(out[12] << 8 | out[13], 0x8100);
	assert_int_equal(out[15], 42);
	assert_memory_equal(out + 18, ip4, sizeof(ip4));
	/* BSD loopback: AF in host order (NULL) or network order (LOOP); AF_INET6 = 30. */
	in[0] = 2, in[1] = in[2] = in[3] = 0;
	memcpy(in + 4, ip4, sizeof(ip4));
	expect_frame(out, dm_pcap_to_ethernet(DLT_NULL_, in, 4 + sizeof(ip4), out, sizeof(out)),
		     ip4, sizeof(ip4), 0x0800, NULL);
	in[0] = in[1] = in[2] = 0, in[3] = 30;
	memcpy(in + 4, ip6, sizeof(ip6));
	expect_frame(out, dm_pcap_to_ethernet(DLT_LOOP_, in, 4 + sizeof(ip6), out, sizeof(out)),
		     ip6, sizeof(ip6), 0x86dd, NULL);
	/* Which are supported. */
	assert_true(dm_pcap_linktype_supported(DLT_LINUX_SLL2_));
	assert_false(dm_pcap_linktype_supported(DLT_IEEE802_11_));
	assert_string_equal(dm_pcap_linktype_name(DLT_LINUX_SLL_), "LINUX_SLL");
}

static void test_short_and_oversize(void **state)
{
	uint8_t in[64] = {0}, out[32];

	(void)state;
	assert_int_equal(dm_pcap_to_ethernet(DLT_EN10MB_, in, 13, out, sizeof(out)), DM_PCAP_SHORT);
	assert_int_equal(dm_pcap_to_ethernet(DLT_LINUX_SLL_, in, 15, out, sizeof(out)),
			 DM_PCAP_SHORT);
	assert_int_equal(dm_pcap_to_ethernet(DLT_LINUX_SLL2_, in, 19, out, sizeof(out)),
			 DM_PCAP_SHORT);
	assert_int_equal(dm_pcap_to_ethernet(DLT_RAW_, in, 0, out, sizeof(out)), DM_PCAP_SHORT);
	assert_int_equal(dm_pcap_to_ethernet(DLT_NULL_, in, 3, out, sizeof(out)), DM_PCAP_SHORT);
	assert_int_equal(dm_pcap_to_ethernet(DLT_EN10MB_, in, 33, out, sizeof(out)),
			 DM_PCAP_OVERSIZE);
	assert_int_equal(dm_pcap_to_ethernet(DLT_RAW_, in, 19, out, sizeof(out)), DM_PCAP_OVERSIZE);
	assert_int_equal(dm_pcap_to_ethernet(DLT_IEEE802_11_, in, 40, out, sizeof(out)),
			 DM_PCAP_SHORT);
}

static void test_write_read_back(void **state)
{
	char path[] = "/tmp/dm-pcapio-XXXXXX", err[256];
	uint8_t frame[60] = {0}, big[100] = {0};
	struct dm_pcap_writer *w;
	struct dm_pcap_pkt pkt;
	struct dm_pcap *p;
	struct stat st;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	frame[12] = 0x08;
	w = dm_pcap_append(path, 80, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(dm_pcap_write(w, 1700000000123456789ULL, frame, sizeof(frame), 60), 0);
	assert_int_equal(dm_pcap_writer_close(w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Appending keeps what is there and adds after it; caplen < len is kept. */
	w = dm_pcap_append(path, 80, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(dm_pcap_write(w, 1700000001000000001ULL, big, 80, 100), 0);
	assert_int_equal(dm_pcap_writer_close(w), 0);

	p = dm_pcap_open(path, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(dm_pcap_linktype(p), DLT_EN10MB_);
	assert_int_equal(dm_pcap_next(p, &pkt, err, sizeof(err)), 1);
	assert_int_equal(pkt.ts_ns, 1700000000123456789ULL);
	assert_int_equal(pkt.caplen, 60);
	assert_memory_equal(pkt.data, frame, 60);
	assert_int_equal(dm_pcap_next(p, &pkt, err, sizeof(err)), 1);
	assert_int_equal(pkt.ts_ns, 1700000001000000001ULL);
	assert_int_equal(pkt.caplen, 80);
	assert_int_equal(pkt.len, 100);
	assert_int_equal(dm_pcap_next(p, &pkt, err, sizeof(err)), 0);
	dm_pcap_close(p);

	/* Cut inside the second packet: the first reads, then an error, not EOF. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 10), 0);
	p = dm_pcap_open(path, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(dm_pcap_next(p, &pkt, err, sizeof(err)), 1);
	assert_int_equal(dm_pcap_next(p, &pkt, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
	dm_pcap_close(p);
	unlink(path);
}

static void test_not_a_capture(void **state)
{
	char path[] = "/tmp/dm-pcapio-XXXXXX", err[256] = "";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "GET / HTTP/1.1\r\n\r\n", 18), 18);
	close(fd);
	assert_null(dm_pcap_open(path, err, sizeof(err)));
	assert_true(err[0] != 0);
	unlink(path);
	err[0] = 0;
	assert_null(dm_pcap_open("/nonexistent/x.pcap", err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	/* A writer where it cannot create the file says why. */
	assert_null(dm_pcap_append("/nonexistent/x.pcap", 100, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
}

/* The writer never follows a symlink, nor appends to what is not its kind of pcap. */
static void test_append_refused(void **state)
{
	char dir[] = "/tmp/dm-pcapio-XXXXXX", link[64], target[64], other[64], err[256];
	const char junk[] = "not a capture at all, long enough to be read as a header";
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/link.pcap", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(other, sizeof(other), "%s/other.pcap", dir);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(target, link), 0);
	errno = 0;
	assert_null(dm_pcap_append(link, 100, err, sizeof(err)));
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);
	fd = open(other, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	errno = 0;
	assert_null(dm_pcap_append(other, 100, err, sizeof(err)));
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, "not a nanosecond Ethernet pcap"));
	assert_int_equal(stat(other, &st), 0);
	assert_int_equal(st.st_size, sizeof(junk));
	unlink(link);
	unlink(target);
	unlink(other);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_layers),
	    cmocka_unit_test(test_short_and_oversize),
	    cmocka_unit_test(test_write_read_back),
	    cmocka_unit_test(test_not_a_capture),
	    cmocka_unit_test(test_append_refused),
	};

	return cmocka_run_group_tests_name("unit_pcapio", tests, NULL, NULL);
}
