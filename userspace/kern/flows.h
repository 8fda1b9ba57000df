/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The one walk over the kernel's association tables: the direct-mapped
 * slots (dm_flows, read in batches where the kernel has batch lookups) and
 * then the LRU overflow (dm_overflow). The daemon's entry counts (kcount.c),
 * replay's end of capture and `dicomon status` all walk through here.
 */
#ifndef __DM_FLOWS_H
#define __DM_FLOWS_H

#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"

/* One association as the kernel holds it; overflow: it lives in dm_overflow. Nonzero stops. */
typedef int (*dm_flow_fn)(const struct dm_assoc *a, bool overflow, void *ctx);

/*
 * Every slot of flows_fd that holds an association (key.family set), then
 * every entry of overflow_fd (-1: none). Returns what fn returned to stop
 * the walk, else 0, or -errno if flows_fd cannot be read.
 */
int dm_flows_foreach(int flows_fd, int overflow_fd, dm_flow_fn fn, void *ctx);
/* Keys of a hash map keyed by struct dm_flow_key (the overflow, dm_cands): its entries now. */
uint64_t dm_flows_count_keys(int fd);

#endif /* __DM_FLOWS_H */
