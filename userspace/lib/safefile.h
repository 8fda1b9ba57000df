/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_SAFEFILE_H
#define __DM_SAFEFILE_H

/*
 * Every file and directory dicomon writes is opened here, so the rule lives
 * in one place (the EVE file, evidence pcaps, --metrics-out, --learn):
 *
 * - files: O_NOFOLLOW | O_CLOEXEC | O_NOCTTY always; a new file is created
 *   O_EXCL with the caller's mode; an existing one is opened without
 *   O_CREAT (and O_NONBLOCK, so a planted FIFO cannot hang us), then fstat()
 *   of the open fd (never stat-then-open) must show a regular file owned by
 *   our euid and not writable by group or others. Truncation, where asked,
 *   happens only after those checks pass.
 * - directories: the last component is made with the caller's mode if
 *   missing; an existing one (opened O_NOFOLLOW | O_DIRECTORY, then fstat)
 *   must be owned by our euid or root, and not writable by group or others
 *   unless its sticky bit is set (then others cannot rename or remove our
 *   files, and what they plant in it fails the file checks above).
 *
 * A refusal returns -EPERM with a message naming the path, the owner uid
 * and the mode; other failures return -errno with the path and strerror.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum dm_safe_how {
	DM_SAFE_APPEND,	   /* O_APPEND: keep what is there */
	DM_SAFE_TRUNC,	   /* empty the file (after the checks) */
	DM_SAFE_APPEND_RW, /* O_APPEND, and readable (to check what is there) */
};

/* A write-only fd (read-write for DM_SAFE_APPEND_RW), or -errno with err filled. */
int dm_safe_open(const char *path, enum dm_safe_how how, mode_t mode, char *err, size_t errlen);
/* Make (mode) or check a directory; 0 or -errno with err filled. */
int dm_safe_dir(const char *path, mode_t mode, char *err, size_t errlen);
/* dm_safe_dir() of the directory path's file is in ("." for a bare name). */
int dm_safe_parent_dir(const char *path, mode_t mode, char *err, size_t errlen);

#endif /* __DM_SAFEFILE_H */
