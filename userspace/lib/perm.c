// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Who may open a path, for permission errors that say so (see perm.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "lib/perm.h"

bool dm_perm_denied(int err)
{
	return err == -EACCES || err == -EPERM;
}

/* path, or the nearest directory above it this process can stat; 0 or -errno. */
static int stat_nearest(const char *path, struct stat *st, bool *dir_instead)
{
	char p[PATH_MAX], *slash;

	*dir_instead = false;
	if (!stat(path, st))
		return 0;
	snprintf(p, sizeof(p), "%s", path);
	while ((slash = strrchr(p, '/')) && slash != p) {
		*slash = 0;
		*dir_instead = true;
		if (!stat(p, st))
			return 0;
	}
	return -errno;
}

void dm_perm_hint(const char *path, char *buf, size_t len)
{
	struct passwd *pw;
	struct group *gr;
	bool dir;
	mode_t need;
	struct stat st;

	if (stat_nearest(path, &st, &dir)) {
		snprintf(buf, len, "run as root");
		return;
	}
	/* Into a directory: search; a socket: write (connect); anything else: read. */
	need = dir ? S_IXGRP : S_ISSOCK(st.st_mode) ? S_IWGRP : S_IRGRP;
	gr = getgrgid(st.st_gid);
	pw = getpwuid(st.st_uid);
	if (st.st_mode & need && gr)
		snprintf(buf, len, "run as root or a member of %s", gr->gr_name);
	else if (st.st_mode & need)
		snprintf(buf, len, "run as root or a member of group %u", (unsigned)st.st_gid);
	else if (st.st_uid && pw)
		snprintf(buf, len, "run as root or as %s", pw->pw_name);
	else
		snprintf(buf, len, "run as root");
}
