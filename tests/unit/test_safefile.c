// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of lib/safefile.c: a new file is created O_EXCL with its mode and
 * O_CLOEXEC; an existing one of ours is appended to or emptied; a symlink
 * (dangling or not), a FIFO, a file owned by someone else, a group- or
 * world-writable file are refused with the path, owner and mode named, and
 * left as they were; directories are made 0700/0750, and one writable by
 * others (without the sticky bit), owned by someone else, a symlink or not a
 * directory is refused. The ownership cases need root (chown to nobody).
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
#include "lib/safefile.h"

#define NOBODY 65534

static char base[] = "/tmp/dm-safefile-XXXXXX";
static char path[512], err[512];

static const char *at(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", base, name);
	return path;
}

static void put(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static void expect_content(const char *p, const char *text)
{
	char buf[256] = "";
	int fd = open(p, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	assert_string_equal(buf, text);
}

static void write_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_new_file(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	fd = dm_safe_open(at("new"), DM_SAFE_APPEND, 0600, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fd, F_GETFL) & O_APPEND);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	write_str(fd, "one\n");
	close(fd);
	/* Ours: appended to, then emptied on request. */
	fd = dm_safe_open(at("new"), DM_SAFE_APPEND, 0600, err, sizeof(err));
	assert_true(fd >= 0);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	write_str(fd, "two\n");
	close(fd);
	expect_content(at("new"), "one\ntwo\n");
	fd = dm_safe_open(at("new"), DM_SAFE_TRUNC, 0600, err, sizeof(err));
	assert_true(fd >= 0);
	write_str(fd, "three\n");
	close(fd);
	expect_content(at("new"), "three\n");
	unlink(at("new"));
}

static void test_symlink_refused(void **state)
{
	char target[512], link[512];
	struct stat st;

	(void)state;
	snprintf(target, sizeof(target), "%s", at("target"));
	snprintf(link, sizeof(link), "%s", at("link"));
	put(target, "secret\n", 0600);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(dm_safe_open(link, DM_SAFE_APPEND, 0600, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, link));
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(dm_safe_open(link, DM_SAFE_TRUNC, 0600, err, sizeof(err)), -EPERM);
	expect_content(target, "secret\n");
	unlink(link);
	/* Dangling: the file it names is not created either. */
	assert_int_equal(symlink(at("nothing"), link), 0);
	assert_int_equal(dm_safe_open(link, DM_SAFE_APPEND, 0600, err, sizeof(err)), -EPERM);
	assert_int_equal(stat(at("nothing"), &st), -1);
	unlink(link);
	unlink(target);
}

static void test_writable_by_others_refused(void **state)
{
	(void)state;
	put(at("gw"), "x\n", 0620);
	assert_int_equal(dm_safe_open(at("gw"), DM_SAFE_TRUNC, 0600, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0620"));
	assert_non_null(strstr(err, "writable by group or others"));
	expect_content(at("gw"), "x\n");
	put(at("ww"), "y\n", 0602);
	assert_int_equal(dm_safe_open(at("ww"), DM_SAFE_APPEND, 0600, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0602"));
	/* Readable by others is the operator's choice, not a refusal. */
	put(at("ro"), "z\n", 0644);
	close(dm_safe_open(at("ro"), DM_SAFE_APPEND, 0600, err, sizeof(err)));
	unlink(at("gw"));
	unlink(at("ww"));
	unlink(at("ro"));
}

static void test_fifo_refused(void **state)
{
	(void)state;
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	/* No reader: a blocking open would hang here (the alarm makes that a failure). */
	alarm(5);
	assert_true(dm_safe_open(at("fifo"), DM_SAFE_APPEND, 0600, err, sizeof(err)) < 0);
	alarm(0);
	unlink(at("fifo"));
}

/* `--eve /dev/null`: the null device is taken (nothing lands there), truncation skipped. */
static void test_dev_null(void **state)
{
	enum dm_safe_how how[] = {DM_SAFE_APPEND, DM_SAFE_APPEND_RW, DM_SAFE_TRUNC};
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		fd = dm_safe_open("/dev/null", how[i], 0600, err, sizeof(err));
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "x\n", 2), 2);
		close(fd);
	}
	/* Another character device is not: /dev/zero (1:5). */
	assert_true(dm_safe_open("/dev/zero", DM_SAFE_APPEND, 0600, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_foreign_file_refused(void **state)
{
	char uid[32];

	(void)state;
	if (geteuid())
		skip(); /* chown needs root: reported as skipped, not passed */
	put(at("theirs"), "planted\n", 0600);
	assert_int_equal(chown(at("theirs"), NOBODY, NOBODY), 0);
	assert_int_equal(dm_safe_open(at("theirs"), DM_SAFE_TRUNC, 0600, err, sizeof(err)), -EPERM);
	snprintf(uid, sizeof(uid), "owner uid %d", NOBODY);
	assert_non_null(strstr(err, uid));
	assert_non_null(strstr(err, "owned by another user"));
	assert_non_null(strstr(err, at("theirs")));
	expect_content(at("theirs"), "planted\n");
	unlink(at("theirs"));
}

static void test_dirs(void **state)
{
	char feed[512];
	struct stat st;
	mode_t old = umask(0);

	(void)state;
	assert_int_equal(dm_safe_dir(at("ev"), 0700, err, sizeof(err)), 0);
	assert_int_equal(stat(at("ev"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(dm_safe_dir(at("ev"), 0700, err, sizeof(err)), 0); /* exists: checked */
	/* The parent of a file: made 0750. */
	assert_int_equal(dm_safe_parent_dir(at("feed/eve.json"), 0750, err, sizeof(err)), 0);
	assert_int_equal(stat(at("feed"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	umask(old);
	/* Writable by others: refused; with the sticky bit (like /tmp): accepted. */
	assert_int_equal(chmod(at("ev"), 0777), 0);
	assert_int_equal(dm_safe_dir(at("ev"), 0700, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0777"));
	assert_non_null(strstr(err, at("ev")));
	assert_int_equal(chmod(at("ev"), 0770), 0);
	assert_int_equal(dm_safe_parent_dir(at("ev/x.pcap"), 0700, err, sizeof(err)), -EPERM);
	assert_int_equal(chmod(at("ev"), 01777), 0);
	assert_int_equal(dm_safe_dir(at("ev"), 0700, err, sizeof(err)), 0);
	/* A symlink to a good directory, a file in its place. */
	snprintf(feed, sizeof(feed), "%s", at("feed"));
	assert_int_equal(symlink(feed, at("evlink")), 0);
	assert_int_equal(dm_safe_dir(at("evlink"), 0700, err, sizeof(err)), -EPERM);
	put(at("plain"), "", 0600);
	assert_true(dm_safe_dir(at("plain"), 0700, err, sizeof(err)) < 0);
	if (!geteuid()) {
		assert_int_equal(chmod(at("ev"), 0755), 0);
		assert_int_equal(chown(at("ev"), NOBODY, NOBODY), 0);
		assert_int_equal(dm_safe_dir(at("ev"), 0700, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by another user"));
	}
	unlink(at("evlink"));
	unlink(at("plain"));
	rmdir(at("feed"));
	rmdir(at("ev"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_file),
	    cmocka_unit_test(test_symlink_refused),
	    cmocka_unit_test(test_writable_by_others_refused),
	    cmocka_unit_test(test_fifo_refused),
	    cmocka_unit_test(test_dev_null),
	    cmocka_unit_test(test_foreign_file_refused),
	    cmocka_unit_test(test_dirs),
	};
	int rc;

	if (!mkdtemp(base))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(base);
	return rc;
}
