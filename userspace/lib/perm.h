/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_PERM_H
#define __DM_PERM_H

/*
 * Permission errors that say so: who may open a path, for the message of a
 * command refused with EACCES or EPERM (`dicomon status`, `dicomon detach`).
 */
#include <stdbool.h>
#include <stddef.h>

/* Whether -err is a permission error (EACCES, EPERM). */
bool dm_perm_denied(int err);
/*
 * "run as root or a member of GROUP" when path's group may open it (write for
 * a socket, read otherwise), "run as root or as USER" when only its owner
 * may, "run as root" for a root-only path. A path this process cannot even
 * see is judged by the nearest directory above it that it can.
 */
void dm_perm_hint(const char *path, char *buf, size_t len);

#endif /* __DM_PERM_H */
