/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Entries of the kernel's maps, counted by walking them (the kernel keeps no
 * such count): the flow tables' associations, the candidates held in
 * dm_cands and the fragments in dm_frags. Their
 * LRU evictions no counter sees: the BPF side counts each map's inserts and
 * deletes, and evicted = inserted − removed − held. A walk costs
 * milliseconds at the default sizes: done at most every
 * DM_KCOUNT_INTERVAL_NS for /metrics, the last count served between.
 */
#ifndef __DM_KCOUNT_H
#define __DM_KCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"

#define DM_KCOUNT_INTERVAL_NS (10 * 1000000000ULL)

struct dm_loader;

/* The last count (zeroed: none yet). */
struct dm_kcount {
	uint64_t counted_ns;	/* monotonic, when it was taken */
	uint64_t slots_used;	/* dm_flows slots holding an association */
	uint64_t overflow_used; /* dm_overflow entries */
	uint64_t cands_held;	/* dm_cands entries */
	uint64_t frags_held;	/* dm_frags entries */
};

/* Entries each LRU map of the kernel evicted (or lost across a restart, the unpinned ones). */
struct dm_kevictions {
	uint64_t overflow; /* dm_overflow: associations, which get no flow end */
	uint64_t cands;	   /* dm_cands */
	uint64_t frags;	   /* dm_frags (unpinned: a restart drops them too) */
};

/* Walk the maps if the last count is older than the interval (or force). */
void dm_kcount_update(struct dm_kcount *k, const struct dm_loader *l, bool force);
/* Candidates the LRU evicted: stored − removed − held, from the summed counters s. */
uint64_t dm_kcount_cands_evicted(const struct dm_kcount *k, const struct dm_stats *s);
/* Every LRU map's evictions: inserted − removed − held, from the summed counters s. */
void dm_kcount_evictions(const struct dm_kcount *k, const struct dm_stats *s,
			 struct dm_kevictions *out);

#endif /* __DM_KCOUNT_H */
