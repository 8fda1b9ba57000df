// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Files and directories dicomon writes, opened one safe way (see safefile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "lib/safefile.h"

#define BASE_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

static int how_flags(enum dm_safe_how how)
{
	switch (how) {
	case DM_SAFE_APPEND:
		return O_WRONLY | O_APPEND;
	case DM_SAFE_APPEND_RW:
		return O_RDWR | O_APPEND;
	default:
		return O_WRONLY;
	}
}
/* Another process may remove the file between our two opens: try again, a few times. */
#define OPEN_TRIES 4

static int refuse(const char *what, const char *path, const struct stat *st, const char *why,
		  char *err, size_t errlen)
{
	snprintf(err, errlen, "%s %s (owner uid %u, mode %04o): %s; refused", what, path,
		 (unsigned int)st->st_uid, (unsigned int)(st->st_mode & 07777), why);
	return -EPERM;
}

static int fail(const char *path, int e, char *err, size_t errlen)
{
	if (e == ELOOP) {
		snprintf(err, errlen, "%s: is a symbolic link; refused", path);
		return -EPERM;
	}
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	return -e;
}

/*
 * The checks on what an open fd is: ours, a regular file, writable by us
 * alone; or the null device (root's character device 1:3), where nothing
 * written lands (`--eve /dev/null`): 1.
 */
static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st))
		return fail(path, errno, err, errlen);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) && st.st_uid == 0)
		return 1;
	if (!S_ISREG(st.st_mode))
		return refuse("file", path, &st, "not a regular file", err, errlen);
	if (st.st_uid != geteuid())
		return refuse("file", path, &st, "owned by another user", err, errlen);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse("file", path, &st, "writable by group or others", err, errlen);
	return 0;
}

/* An existing file: checked before anything is written or truncated. */
static int open_existing(const char *path, enum dm_safe_how how, char *err, size_t errlen)
{
	int fd, e;

	fd = open(path, BASE_FLAGS | O_NONBLOCK | how_flags(how));
	if (fd < 0)
		return -errno;
	e = check_file(fd, path, err, errlen);
	if (e == 1) /* the null device: nothing to truncate */
		return fd;
	if (!e && fcntl(fd, F_SETFL, how_flags(how) & O_APPEND))
		e = fail(path, errno, err, errlen);
	if (!e && how == DM_SAFE_TRUNC && ftruncate(fd, 0))
		e = fail(path, errno, err, errlen);
	if (e) {
		close(fd);
		return e;
	}
	return fd;
}

int dm_safe_open(const char *path, enum dm_safe_how how, mode_t mode, char *err, size_t errlen)
{
	int fd, tries;

	err[0] = 0;
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		/* O_EXCL: a new file is ours; a symlink in its place is EEXIST, not followed. */
		fd = open(path, BASE_FLAGS | O_CREAT | O_EXCL | how_flags(how), mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return fail(path, errno, err, errlen);
		fd = open_existing(path, how, err, errlen);
		if (fd >= 0 || err[0])
			return fd;
		if (fd != -ENOENT) /* ELOOP (a symlink) among them */
			return fail(path, -fd, err, errlen);
	}
	return fail(path, EAGAIN, err, errlen);
}

static int check_dir(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st))
		return fail(path, errno, err, errlen);
	if (!S_ISDIR(st.st_mode))
		return refuse("directory", path, &st, "not a directory", err, errlen);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return refuse("directory", path, &st, "owned by another user", err, errlen);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return refuse("directory", path, &st,
			      "writable by group or others without the sticky bit", err, errlen);
	return 0;
}

int dm_safe_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	err[0] = 0;
	if (mkdir(path, mode) && errno != EEXIST)
		return fail(path, errno, err, errlen);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOTDIR && !lstat(path, &st) && S_ISLNK(st.st_mode))
		return fail(path, ELOOP, err, errlen); /* only the message: open decided */
	if (fd < 0)
		return fail(path, errno, err, errlen);
	e = check_dir(fd, path, err, errlen);
	close(fd);
	return e;
}

int dm_safe_parent_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	if (!slash)
		return dm_safe_dir(".", mode, err, errlen);
	if (slash == path)
		return dm_safe_dir("/", mode, err, errlen);
	if ((size_t)(slash - path) >= sizeof(dir))
		return fail(path, ENAMETOOLONG, err, errlen);
	memcpy(dir, path, slash - path);
	dir[slash - path] = 0;
	return dm_safe_dir(dir, mode, err, errlen);
}
