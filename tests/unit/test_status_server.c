// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The status socket is never taken from a live daemon (issue 14), and
 * permission hints name who may open a path: dm_status_server_open against a
 * second server on the same path (the lock), a listener that holds no lock, a
 * stale socket, a file that is no socket; dm_perm_hint on files and
 * directories of several modes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/perm.h"
#include "cmd/status.h"

static char dir[64], sock[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/dmstatus-unit.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/run/status.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* A unix socket bound at path; listening or not. */
static int bound(const char *path, int do_listen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	return err;
}

static ino_t inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static void test_second_server_refused(void **state)
{
	struct dm_status_server *a = NULL, *b = NULL;
	ino_t ino;

	(void)state;
	assert_int_equal(dm_status_server_open(sock, &a), 0);
	ino = inode(sock);
	assert_true(ino);
	assert_int_equal(dm_status_server_open(sock, &b), -EADDRINUSE);
	assert_null(b);
	assert_int_equal(inode(sock), ino); /* still the first one's */
	dm_status_server_close(a);
	assert_int_equal(inode(sock), 0);
	/* Closed: the next one gets the path. */
	assert_int_equal(dm_status_server_open(sock, &b), 0);
	dm_status_server_close(b);
}

static void test_listener_without_lock(void **state)
{
	struct dm_status_server *s = NULL;
	char path[160];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/other.sock", dir);
	fd = bound(path, 1);
	assert_int_equal(dm_status_server_open(path, &s), -EADDRINUSE);
	assert_true(inode(path)); /* left alone */
	close(fd);
	unlink(path);
}

static void test_stale_and_foreign(void **state)
{
	struct dm_status_server *s = NULL;
	char path[160];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	fd = bound(path, 0); /* bound, nobody listens: ECONNREFUSED */
	close(fd);
	assert_int_equal(connect_to(path), -ECONNREFUSED);
	assert_int_equal(dm_status_server_open(path, &s), 0);
	assert_int_equal(connect_to(path), 0); /* replaced by a listening one */
	dm_status_server_close(s);
	s = NULL;
	snprintf(path, sizeof(path), "%s/file.sock", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(dm_status_server_open(path, &s), -ENOTSOCK);
	assert_true(inode(path)); /* a file that is no socket is never removed */
}

static void hint(const char *path, mode_t mode, const char *want)
{
	char buf[128];

	assert_int_equal(chmod(path, mode), 0);
	dm_perm_hint(path, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* What the hint says of a path owned by this process (root or not: no chown needed). */
static void owner_hint(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	if (!geteuid() || !pw)
		snprintf(buf, len, "run as root");
	else
		snprintf(buf, len, "run as root or as %s", pw->pw_name);
}

static void test_perm_hint(void **state)
{
	char f[160], sub[160], inner[192], own[128], grp[128], buf[128];
	struct group *gr = getgrgid(getegid());
	int fd;

	(void)state;
	assert_true(dm_perm_denied(-EACCES) && dm_perm_denied(-EPERM));
	assert_false(dm_perm_denied(-ENOENT) || dm_perm_denied(-ECONNREFUSED) || dm_perm_denied(0));
	assert_non_null(gr);
	owner_hint(own, sizeof(own));
	snprintf(grp, sizeof(grp), "run as root or a member of %s", gr->gr_name);
	snprintf(f, sizeof(f), "%s/pinned", dir);
	fd = open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	hint(f, 0600, own);
	hint(f, 0640, grp);
	/* A socket needs the group's write bit. */
	snprintf(sub, sizeof(sub), "%s/hint.sock", dir);
	close(bound(sub, 1));
	hint(sub, 0640, own);
	hint(sub, 0660, grp);
	/* A path that does not exist: the nearest directory's group search bit decides. */
	snprintf(sub, sizeof(sub), "%s/d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/missing/status.sock", sub);
	dm_perm_hint(inner, buf, sizeof(buf));
	assert_string_equal(buf, own);
	assert_int_equal(chmod(sub, 0710), 0);
	dm_perm_hint(inner, buf, sizeof(buf));
	assert_string_equal(buf, grp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_second_server_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listener_without_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_and_foreign, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_perm_hint, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
