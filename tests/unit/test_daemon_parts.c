// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Daemon parts that need no BPF: the event loop, the names of attachment
 * pins, and the journal's priority prefixes on log lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/log.h"
#include "lib/loop.h"
#include "kern/pin.h"

struct counts {
	int a, b, timer;
	int fd_a, fd_b; /* read ends */
};

static void on_a(struct dm_loop *lp, int fd, uint32_t ev, void *ctx)
{
	struct counts *c = ctx;
	char buf[16];

	(void)ev;
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	c->a++;
	/* Removing another fd from inside a handler, in the same batch. */
	dm_loop_del(lp, c->fd_b);
}

static void on_b(struct dm_loop *lp, int fd, uint32_t ev, void *ctx)
{
	struct counts *c = ctx;
	char buf[16];

	(void)lp, (void)ev;
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	c->b++;
}

static void on_timer(struct dm_loop *lp, int fd, uint32_t ev, void *ctx)
{
	struct counts *c = ctx;

	(void)fd, (void)ev;
	if (++c->timer == 3)
		dm_loop_stop(lp, 42);
}

static void test_loop(void **state)
{
	int pa[2], pb[2], tfd;
	struct counts c = {0};
	struct dm_loop *lp;

	(void)state;
	assert_int_equal(pipe(pa), 0);
	assert_int_equal(pipe(pb), 0);
	c.fd_a = pa[0];
	c.fd_b = pb[0];
	lp = dm_loop_new();
	assert_non_null(lp);
	assert_int_equal(dm_loop_add(lp, pa[0], EPOLLIN, on_a, &c), 0);
	assert_int_equal(dm_loop_add(lp, pa[0], EPOLLIN, on_a, &c), -EEXIST);
	assert_int_equal(dm_loop_add(lp, pb[0], EPOLLIN, on_b, &c), 0);
	assert_int_equal(dm_loop_del(lp, 12345), -ENOENT);
	tfd = dm_loop_add_timer(lp, 10 * 1000 * 1000, on_timer, &c);
	assert_true(tfd >= 0);
	/* Both readable: whichever runs first, b is removed once a has run. */
	assert_int_equal(write(pa[1], "x", 1), 1);
	assert_int_equal(write(pb[1], "x", 1), 1);
	assert_int_equal(dm_loop_run(lp), 42);
	assert_int_equal(c.a, 1);
	assert_true(c.b <= 1);
	assert_int_equal(c.timer, 3);
	/* b is gone: more data on it wakes nothing; a timer can be disarmed. */
	assert_int_equal(write(pb[1], "y", 1), 1);
	assert_int_equal(dm_loop_timer_set(tfd, 0), 0);
	assert_int_equal(dm_loop_del(lp, pb[0]), -ENOENT);
	dm_loop_free(lp);
	close(tfd);
	close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
}

static void test_pin_names(void **state)
{
	char name[64], ifname[IF_NAMESIZE];
	bool clsact;
	int att;

	(void)state;
	dm_pin_att_name(name, sizeof(name), false, DM_ATT_XDP, "eth0");
	assert_string_equal(name, "link:xdp:eth0");
	/* bpffs refuses dots in names: an interface's dots become colons. */
	dm_pin_att_name(name, sizeof(name), true, DM_ATT_TC_EGRESS, "eth0.100");
	assert_string_equal(name, "clsact:tc_egress:eth0:100");
	assert_null(strchr(name, '.'));
	assert_int_equal(dm_pin_parse_att(name, &clsact, &att, ifname), 0);
	assert_true(clsact);
	assert_int_equal(att, DM_ATT_TC_EGRESS);
	assert_string_equal(ifname, "eth0.100");
	assert_int_equal(dm_pin_parse_att("link:tc_ingress:br-lan", &clsact, &att, ifname), 0);
	assert_false(clsact);
	assert_int_equal(att, DM_ATT_TC_INGRESS);
	assert_string_equal(ifname, "br-lan");
	assert_int_equal(dm_pin_parse_att("dm_flows", &clsact, &att, ifname), -EINVAL);
	assert_int_equal(dm_pin_parse_att("link:xdp:", &clsact, &att, ifname), -EINVAL);
	assert_int_equal(dm_pin_parse_att("clsact:xdp:eth0", &clsact, &att, ifname), -EINVAL);
	assert_int_equal(dm_pin_parse_att("link:bogus:eth0", &clsact, &att, ifname), -EINVAL);
	assert_int_equal(dm_pin_parse_att("link:xdp:averyveryverylongname", &clsact, &att, ifname),
			 -EINVAL);
}

/* Log to a file that JOURNAL_STREAM names (or not); return what was written. */
static char *log_to_file(bool journal, int level, const char *msg)
{
	char path[] = "/tmp/dicomon-log-XXXXXX", env[64], *out = calloc(1, 4096);
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct stat st;

	assert_true(fd >= 0 && saved >= 0 && out);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fstat(STDERR_FILENO, &st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 journal ? (unsigned long long)st.st_ino : 1ULL);
	setenv("JOURNAL_STREAM", env, 1);
	dm_log_init();
	dm_log_set_level(DM_LOG_DEBUG);
	dm_log(level, "%s", msg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	dm_log_init();
	dm_log_set_level(DM_LOG_WARN);
	assert_true(pread(fd, out, 4095, 0) >= 0);
	close(fd);
	unlink(path);
	return out;
}

static void test_journal_prefix(void **state)
{
	char *s;

	(void)state;
	s = log_to_file(true, DM_LOG_WARN, "eth0: native XDP unavailable\n");
	assert_string_equal(s, "<4>eth0: native XDP unavailable\n");
	free(s);
	s = log_to_file(true, DM_LOG_ERR, "cannot load");
	assert_string_equal(s, "<3>cannot load\n");
	free(s);
	/* Every line of a multi-line message gets its priority. */
	s = log_to_file(true, DM_LOG_DEBUG, "verifier:\n0: r1 = 0\n1: exit\n");
	assert_string_equal(s, "<7>verifier:\n<7>0: r1 = 0\n<7>1: exit\n");
	free(s);
	s = log_to_file(true, DM_LOG_INFO, "reload done\n");
	assert_string_equal(s, "<6>reload done\n");
	free(s);
	/* JOURNAL_STREAM inherited but stderr redirected elsewhere: plain text. */
	s = log_to_file(false, DM_LOG_WARN, "eth0: native XDP unavailable\n");
	assert_string_equal(s, "dicomon: warn: eth0: native XDP unavailable\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loop),
	    cmocka_unit_test(test_pin_names),
	    cmocka_unit_test(test_journal_prefix),
	};

	return cmocka_run_group_tests_name("unit_daemon_parts", tests, NULL, NULL);
}
