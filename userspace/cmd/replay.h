/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_REPLAY_H
#define __DM_REPLAY_H

#include "config/cli.h"

/* `dicomon replay`: returns the exit code (cmd/exit.h). */
int dm_replay_run(const struct dm_cli *cli);

#endif /* __DM_REPLAY_H */
