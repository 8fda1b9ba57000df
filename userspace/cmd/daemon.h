/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_DAEMON_H
#define __DM_DAEMON_H

#include "config/cli.h"
#include "cmd/exit.h"

/*
 * `dicomon run`: load (reusing the pinned state), attach, build the
 * pipeline (core/pipeline.h), then one event loop until SIGINT/SIGTERM.
 * Returns the exit code.
 */
int dm_daemon_run(const struct dm_cli *cli);

#endif /* __DM_DAEMON_H */
