/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Entries of the kernel's maps, counted by walking them (the kernel keeps no
 * such count): the flow tables' associations and the candidates held in
 * dm_cands, whose LRU evictions no counter sees (evicted = stored − removed
 * − held). A walk costs milliseconds at the default sizes: done at most
 * every DM_KCOUNT_INTERVAL_NS for /metrics, the last count served between.
 */
#ifndef __DM_KCOUNT_H
#define __DM_KCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"

#define DM_KCOUNT_INTERVAL_NS (10 * 1000000000ULL)

struct dm_daemon;

/* Walk the maps if the last count is older than the interval (or force). */
void dm_kcount_update(struct dm_daemon *d, bool force);
/* Candidates the LRU evicted: stored − removed − held, from the summed counters s. */
uint64_t dm_kcount_cands_evicted(const struct dm_daemon *d, const struct dm_stats *s);
/* The families: flow table entries and capacity, candidates held and evicted. */
void dm_kcount_write_metrics(FILE *out, struct dm_daemon *d);

#endif /* __DM_KCOUNT_H */
