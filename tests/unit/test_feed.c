// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The feed's outputs and the alert rate limit: the file and its reopen after
 * logrotate's rename, a unix stream socket that reads, stops reading and
 * goes away (never a block, every lost line counted), syslog's RFC 5424
 * framing on a datagram socket of our own, stdout, the rate limit with the
 * suppressed count in the next alert, the limiter's bound, the config keys.
 * Every line written is checked with a strict JSON parser, and the file also
 * with python3's json module reading it as strict UTF-8.
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
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "config/config.h"
#include "output/eve.h"
#include "output/feed.h"
#include "recfix.h"

#define SEC 1000000000ULL

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/dm_feed_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void cfg_off(struct dm_config *c)
{
	dm_config_defaults(c);
}

/* Lines of a file, each parsed strictly; returns the count. */
static int check_file(const char *path)
{
	char *line = NULL, cmd[512];
	size_t cap = 0;
	ssize_t n;
	int count = 0;
	json_object *o;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		assert_int_equal(line[n - 1], '\n');
		o = rf_strict_parse(line, n - 1);
		if (!o)
			fail_msg("%s: line %d is not strict JSON: %s", path, count + 1, line);
		json_object_put(o);
		count++;
	}
	free(line);
	fclose(f);
	snprintf(
	    cmd, sizeof(cmd),
	    "python3 -c 'import json,sys\n"
	    "for l in open(sys.argv[1], encoding=\"utf-8\", errors=\"strict\"): json.loads(l)' %s",
	    path);
	assert_int_equal(system(cmd), 0);
	return count;
}

static void test_file_and_reopen(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *good = rf_echo(t, 1), *evil = rf_evil(t, 2);
	struct dm_feed *f = dm_feed_new();
	char path[128], rotated[140];
	struct dm_config c;

	(void)state;
	cfg_off(&c);
	assert_false(dm_feed_active(f));
	snprintf(path, sizeof(path), "%s/eve.json", dir);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	snprintf(c.feed_file, sizeof(c.feed_file), "%s", path);
	assert_int_equal(dm_feed_configure(f, &c), 0);
	assert_true(dm_feed_active(f));
	assert_false(dm_feed_owns_stdout(f));
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 1);
	assert_int_equal(dm_feed_dicom(f, evil, "eth0"), 1);
	/* logrotate: rename, then SIGHUP. Until the reopen, lines go to the old file. */
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 1);
	assert_int_equal(dm_feed_reopen(f), 0);
	assert_int_equal(dm_feed_dicom(f, evil, "eth0"), 1);
	assert_int_equal(check_file(rotated), 3);
	assert_int_equal(check_file(path), 1);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_FILE].lines, 4);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_FILE].dropped, 0);
	assert_int_equal(dm_feed_stats(f)->records, 4);

	/* A reload to a path that cannot be opened: reported, lines dropped and counted. */
	snprintf(c.feed_file, sizeof(c.feed_file), "%s/no/such/dir/eve.json", dir);
	assert_int_equal(dm_feed_configure(f, &c), -ENOENT);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_FILE].dropped, 1);
	/* Off again: nothing active, nothing built. */
	c.feed_file[0] = 0;
	assert_int_equal(dm_feed_configure(f, &c), 0);
	assert_false(dm_feed_active(f));
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	dm_feed_free(f);
	dm_table_free(t);
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/*
 * Whole lines or nothing: a file size limit (RLIMIT_FSIZE, what a full disk
 * does to write(): part of the line goes in, then an error) cuts a line in
 * two; the part that went in is cut back off, and writing resumes whole when
 * the limit is lifted.
 */
static void test_file_whole_lines(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *good = rf_echo(t, 1);
	const struct dm_feed_out_stats *s;
	struct dm_feed *f = dm_feed_new();
	struct rlimit old, lim;
	struct dm_config c;
	char path[128];
	off_t one;

	(void)state;
	cfg_off(&c);
	snprintf(path, sizeof(path), "%s/whole.json", dir);
	snprintf(c.feed_file, sizeof(c.feed_file), "%s", path);
	assert_int_equal(dm_feed_configure(f, &c), 0);
	s = &dm_feed_stats(f)->out[DM_FEED_FILE];
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 1);
	one = size_of(path);
	signal(SIGXFSZ, SIG_IGN); /* write() says EFBIG instead */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)(one + one / 2);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_int_equal(size_of(path), one);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_int_equal(size_of(path), one);
	assert_int_equal(s->rolled_back, 2);
	assert_int_equal(s->dropped, 2);
	assert_int_equal(s->errors, 2);
	assert_int_equal(s->full, 0); /* EFBIG, not a full disk */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 1);
	assert_int_equal(check_file(path), 2);
	assert_int_equal(size_of(path), 2 * one);
	assert_int_equal(s->lines, 2);
	dm_feed_free(f);
	dm_table_free(t);
}

/* A symlink where the file goes is refused (nothing written through it), at every open. */
static void test_file_refused(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *good = rf_echo(t, 1);
	struct dm_feed *f = dm_feed_new();
	char path[128], target[128];
	struct dm_config c;

	(void)state;
	cfg_off(&c);
	snprintf(path, sizeof(path), "%s/link.json", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	close(open(target, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(symlink(target, path), 0);
	snprintf(c.feed_file, sizeof(c.feed_file), "%s", path);
	assert_int_equal(dm_feed_configure(f, &c), -EPERM);
	assert_true(dm_feed_file_refused(f));
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_int_equal(dm_feed_reopen(f), -EPERM);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_int_equal(size_of(target), 0);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_FILE].dropped, 2);
	/* Gone: the file is made on the next open, not refused any more. */
	unlink(path);
	assert_int_equal(dm_feed_reopen(f), 0);
	assert_false(dm_feed_file_refused(f));
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 1);
	assert_int_equal(check_file(path), 1);
	dm_feed_free(f);
	dm_table_free(t);
}

static int listen_unix(const char *path, int type)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Read whole lines from a connected stream until n arrived (or 2 s). */
static int read_lines(int fd, int n)
{
	static char buf[1 << 16];
	size_t have = 0;
	int got = 0, tries = 0;
	ssize_t r;
	char *p, *nl;
	json_object *o;

	while (got < n && tries++ < 200) {
		r = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (r <= 0) {
			usleep(10000);
			continue;
		}
		have += r;
		for (p = buf; (nl = memchr(p, '\n', buf + have - p)); p = nl + 1) {
			o = rf_strict_parse(p, nl - p);
			assert_non_null(o);
			json_object_put(o);
			got++;
		}
		memmove(buf, p, buf + have - p);
		have = buf + have - p;
	}
	return got;
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void test_unix_socket(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *evil = rf_evil(t, 2), *good = rf_echo(t, 1);
	struct dm_feed *f = dm_feed_new();
	const struct dm_feed_out_stats *s = &dm_feed_stats(f)->out[DM_FEED_UNIX];
	uint64_t now = 1000 * SEC, t0, drops;
	struct dm_config c;
	int lfd, cfd, i;

	(void)state;
	dm_feed_set_clock(f, now);
	cfg_off(&c);
	snprintf(c.feed_unix_socket, sizeof(c.feed_unix_socket), "%s/eve.sock", dir);
	lfd = listen_unix(c.feed_unix_socket, SOCK_STREAM);
	assert_int_equal(dm_feed_configure(f, &c), 0);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(dm_feed_dicom(f, i == 1 ? evil : good, "eth0"), 1);
	assert_int_equal(read_lines(cfd, 3), 3);
	assert_int_equal(s->lines, 3);

	/* The reader stops reading: the feed neither blocks nor cuts a line. */
	t0 = mono();
	for (i = 0; i < 20000 && !s->dropped; i++)
		dm_feed_dicom(f, good, "eth0");
	assert_true(s->dropped > 0);
	assert_true(mono() - t0 < 5 * SEC);
	drops = s->dropped;

	/* It goes away: every line from now on is dropped and counted, quickly. */
	close(cfd);
	close(lfd);
	unlink(c.feed_unix_socket);
	t0 = mono();
	for (i = 0; i < 100; i++)
		assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_true(mono() - t0 < 1 * SEC);
	assert_true(s->dropped > drops + 100); /* the held-back lines too */
	assert_true(s->errors >= 1);

	/* It comes back: the next try after the backoff connects, lines flow again. */
	lfd = listen_unix(c.feed_unix_socket, SOCK_STREAM);
	dm_feed_tick(f); /* too early: still backing off */
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd < 0 && errno == EAGAIN);
	fcntl(lfd, F_SETFL, 0);
	dm_feed_set_clock(f, now + 60 * SEC);
	dm_feed_tick(f);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 1);
	assert_int_equal(read_lines(cfd, 1), 1);
	assert_true(s->reconnects >= 2);
	close(cfd);
	close(lfd);
	dm_feed_free(f);
	dm_table_free(t);
}

/* "<PRI>1 TIMESTAMP HOSTNAME dicomon PID - - {json}": returns the JSON. */
static json_object *syslog_msg(int fd, int pri)
{
	char buf[1 << 16], want[32], host[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	char *p, *sp;
	json_object *o;

	assert_true(n > 0);
	buf[n] = 0;
	snprintf(want, sizeof(want), "<%d>1 ", pri);
	assert_memory_equal(buf, want, strlen(want));
	p = buf + strlen(want);
	/* 2026-11-22T01:02:03.123456Z */
	sp = strchr(p, ' ');
	assert_non_null(sp);
	assert_int_equal(sp - p, 27);
	assert_true(p[10] == 'T' && p[19] == '.' && p[26] == 'Z');
	p = sp + 1;
	sp = strchr(p, ' ');
	assert_non_null(sp);
	gethostname(host, sizeof(host));
	assert_memory_equal(p, host, sp - p);
	p = sp + 1;
	snprintf(want, sizeof(want), "dicomon %d - - ", (int)getpid());
	assert_memory_equal(p, want, strlen(want));
	p += strlen(want);
	assert_int_equal(p[0], '{');
	o = rf_strict_parse(p, buf + n - p);
	assert_non_null(o);
	return o;
}

static void test_syslog(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *evil = rf_evil(t, 2), *good = rf_echo(t, 1);
	struct dm_feed *f = dm_feed_new();
	struct dm_alert a = {.sid = 9100001,
			     .rev = 1,
			     .signature = "s",
			     .category = "c",
			     .severity = 1,
			     .src_key = "10.0.0.1"};
	char path[128];
	json_object *o, *v;
	struct dm_config c;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/log", dir);
	fd = listen_unix(path, SOCK_DGRAM);
	dm_feed_set_syslog_path(f, path);
	cfg_off(&c);
	c.feed_syslog = true;
	assert_int_equal(dm_feed_configure(f, &c), 0);
	assert_int_equal(dm_feed_dicom(f, evil, "eth0"), 1);
	o = syslog_msg(fd, LOG_LOCAL5 | LOG_INFO); /* <174> */
	assert_true(json_object_object_get_ex(o, "event_type", &v));
	assert_string_equal(json_object_get_string(v), "dicom");
	json_object_put(o);
	assert_int_equal(dm_feed_alert(f, good, "eth0", &a), 1);
	o = syslog_msg(fd, LOG_LOCAL5 | LOG_CRIT); /* <170> */
	json_object_put(o);
	a.severity = 3;
	c.feed_syslog_facility = dm_parse_enum("daemon", dm_syslog_facility_names);
	assert_int_equal(dm_feed_configure(f, &c), 0);
	assert_int_equal(dm_feed_alert(f, good, "eth0", &a), 1);
	o = syslog_msg(fd, LOG_DAEMON | LOG_WARNING); /* <28> */
	json_object_put(o);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_SYSLOG].lines, 3);

	/* syslogd gone: dropped and counted, no block. */
	close(fd);
	unlink(path);
	assert_int_equal(dm_feed_dicom(f, good, "eth0"), 0);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_SYSLOG].dropped, 1);
	assert_true(dm_feed_stats(f)->out[DM_FEED_SYSLOG].errors >= 1);
	dm_feed_free(f);
	dm_table_free(t);
}

/* Lines written to a memory stream through the stdout output. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static json_object *nth_line(struct capture *cap, int n)
{
	char *p = cap->text, *nl;

	fflush(cap->f);
	for (; n > 0 && p; n--)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	assert_non_null(p);
	nl = strchr(p, '\n');
	assert_non_null(nl);
	return rf_strict_parse(p, nl - p);
}

static int count_lines(struct capture *cap)
{
	int n = 0;
	char *p;

	fflush(cap->f);
	for (p = cap->text; p && (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

static json_object *get(json_object *o, const char *a, const char *b)
{
	json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y))
		return NULL;
	return y;
}

static int alert(struct dm_feed *f, const struct dm_rec *r, uint32_t sid, const char *src)
{
	json_object *d = json_object_new_object();
	struct dm_alert a = {.sid = sid,
			     .rev = 1,
			     .signature = "DICOM AE title enumeration",
			     .category = "Attempted Information Leak",
			     .severity = 2,
			     .details = d,
			     .src_key = src};

	json_object_object_add(d, "rejects", json_object_new_int(5));
	return dm_feed_alert(f, r, "eth0", &a);
}

static void test_rate_limit(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r = rf_echo(t, 1);
	struct dm_feed *f = dm_feed_new();
	struct capture cap = {0};
	uint64_t now = 5000 * SEC;
	struct dm_config c;
	json_object *o;
	int i;

	(void)state;
	cap.f = open_memstream(&cap.text, &cap.len);
	dm_feed_set_stdout(f, cap.f);
	dm_feed_set_clock(f, now);
	cfg_off(&c);
	c.feed_stdout = true;
	c.alert_rate_count = 2;
	c.alert_rate_s = 60;
	assert_int_equal(dm_feed_configure(f, &c), 0);
	assert_true(dm_feed_owns_stdout(f));
	assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 1);
	assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 0);
	/* Another source, another rule: buckets of their own. */
	assert_int_equal(alert(f, r, 9100005, "10.0.0.10"), 1);
	assert_int_equal(alert(f, r, 9100006, "10.0.0.9"), 1);
	assert_int_equal(count_lines(&cap), 4);
	assert_int_equal(dm_feed_stats(f)->alerts_suppressed, 3);
	for (i = 0; i < 4; i++) {
		o = nth_line(&cap, i);
		assert_non_null(o);
		assert_null(get(o, "dicom", "suppressed"));
		json_object_put(o);
	}
	/* Still inside the window. */
	dm_feed_set_clock(f, now + 59 * SEC);
	assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 0);
	/* The next window: the first alert through carries the 4 held back. */
	dm_feed_set_clock(f, now + 60 * SEC);
	assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 1);
	o = nth_line(&cap, 4);
	assert_int_equal(json_object_get_int(get(o, "dicom", "suppressed")), 4);
	assert_int_equal(json_object_get_int(get(o, "dicom", "rejects")), 5);
	assert_int_equal(json_object_get_int(get(o, "alert", "signature_id")), 9100005);
	json_object_put(o);
	assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 1);
	o = nth_line(&cap, 5);
	assert_null(get(o, "dicom", "suppressed"));
	json_object_put(o);
	assert_int_equal(dm_feed_stats(f)->alerts, 6);
	assert_int_equal(dm_feed_stats(f)->out[DM_FEED_STDOUT].lines, 6);

	/* 0: no limit. */
	c.alert_rate_count = 0;
	dm_feed_configure(f, &c);
	for (i = 0; i < 50; i++)
		assert_int_equal(alert(f, r, 9100005, "10.0.0.9"), 1);
	dm_feed_free(f);
	fclose(cap.f);
	free(cap.text);
	dm_table_free(t);
}

static void test_limiter_bounded(void **state)
{
	struct dm_feed *f = dm_feed_new();
	struct dm_config c;
	uint64_t sup;
	char src[32];
	int i;

	(void)state;
	cfg_off(&c);
	c.alert_rate_count = 1;
	dm_feed_configure(f, &c);
	for (i = 0; i < 5000; i++) {
		snprintf(src, sizeof(src), "10.1.%d.%d", i >> 8, i & 255);
		assert_true(dm_feed_alert_allowed(f, 1, src, SEC, &sup));
	}
	assert_int_equal(dm_feed_stats(f)->limiter_entries, 4096);
	assert_int_equal(dm_feed_stats(f)->limiter_evictions, 5000 - 4096);
	/* The newest are still limited, the evicted oldest start over. */
	assert_false(dm_feed_alert_allowed(f, 1, "10.1.19.135", SEC, &sup));
	assert_true(dm_feed_alert_allowed(f, 1, "10.1.0.0", SEC, &sup));
	/* A key longer than kept is cut, not refused; NULL is a key of its own. */
	assert_true(dm_feed_alert_allowed(f, 2, NULL, SEC, &sup));
	assert_false(dm_feed_alert_allowed(f, 2, "", SEC, &sup));
	memset(src, 'a', sizeof(src) - 1);
	src[sizeof(src) - 1] = 0;
	assert_true(dm_feed_alert_allowed(f, 3, src, SEC, &sup));
	dm_feed_free(f);
}

static void test_config_keys(void **state)
{
	struct dm_config c;
	char why[256];

	(void)state;
	dm_config_defaults(&c);
	assert_string_equal(c.feed_file, "");
	assert_string_equal(c.feed_unix_socket, "");
	assert_false(c.feed_stdout || c.feed_syslog);
	assert_string_equal(dm_syslog_facility_names[c.feed_syslog_facility], "local5");
	assert_int_equal(c.alert_rate_count, 10);
	assert_int_equal(c.alert_rate_s, 60);
	assert_int_equal(
	    dm_key_set(&c, dm_key_find("feed.file"), "/var/log/dicomon/eve.json", why, sizeof(why)),
	    0);
	assert_int_equal(dm_key_set(&c, dm_key_find("feed.file"), "", why, sizeof(why)), 0);
	assert_int_equal(dm_key_set(&c, dm_key_find("feed.file"), "eve.json", why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "or \"\" for none"));
	/* Only the feed's paths may be empty. */
	assert_int_equal(dm_key_set(&c, dm_key_find("table.status_socket"), "", why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(
	    dm_key_set(&c, dm_key_find("feed.syslog_facility"), "local8", why, sizeof(why)),
	    -EINVAL);
	assert_int_equal(
	    dm_key_set(&c, dm_key_find("feed.syslog_facility"), "daemon", why, sizeof(why)), 0);
	assert_int_equal(
	    dm_key_set(&c, dm_key_find("alerts.rate_limit_seconds"), "0", why, sizeof(why)),
	    -EINVAL);
	assert_int_equal(
	    dm_key_set(&c, dm_key_find("alerts.rate_limit_count"), "0", why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_and_reopen), cmocka_unit_test(test_file_whole_lines),
	    cmocka_unit_test(test_file_refused), cmocka_unit_test(test_unix_socket),
	    cmocka_unit_test(test_syslog),	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_limiter_bounded), cmocka_unit_test(test_config_keys),
	};

	/* A socket test that waits forever would hang `make test-unit`: fail instead. */
	alarm(120);
	return cmocka_run_group_tests_name("unit_feed", tests, setup, teardown);
}
