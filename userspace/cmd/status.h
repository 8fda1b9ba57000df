/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * `dicomon status`: the daemon answers on a unix socket (owner-only) with a
 * JSON snapshot of its association table, the kernel's live associations and
 * the counters; with the daemon down, the client reads the pinned maps.
 */
#ifndef __DM_STATUS_H
#define __DM_STATUS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#define DM_STATUS_SOCKET_DEFAULT "/run/dicomon/status.sock"

struct dm_loader;
struct dm_pipeline;
struct dm_status_server;

/* Create the directory (0750) and the socket (0600); a stale socket is replaced. */
int dm_status_server_open(const char *path, struct dm_status_server **out);
int dm_status_server_fd(const struct dm_status_server *s);
/* Answer every pending client with a snapshot, then close it. */
void dm_status_server_handle(struct dm_status_server *s, const struct dm_loader *l,
			     const struct dm_pipeline *p);
void dm_status_server_close(struct dm_status_server *s);

/* The snapshot the server sends (caller puts it). */
json_object *dm_status_snapshot(const struct dm_loader *l, const struct dm_pipeline *p);

/*
 * The `status` command: ask the daemon at sock_path; if none answers, read
 * the maps pinned under pin_dir. Prints text (like ss) or JSON. 0 or -errno.
 */
/* The snapshot as text, like ss: one row per association, every cell escaped. */
void dm_status_print_text(json_object *snap, FILE *out);

int dm_status_client(const char *sock_path, const char *pin_dir, bool json, FILE *out);

#endif /* __DM_STATUS_H */
