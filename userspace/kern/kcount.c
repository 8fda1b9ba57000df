// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Entries of the kernel's flow tables and candidate map (see kcount.h). */
#include <time.h>
#include "kern/flows.h"
#include "kern/kcount.h"
#include "kern/loader.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int count_slot(const struct dm_assoc *a, bool overflow, void *ctx)
{
	uint64_t *slots = ctx;

	(void)a;
	*slots += !overflow;
	return 0;
}

void dm_kcount_update(struct dm_kcount *k, const struct dm_loader *l, bool force)
{
	uint64_t now = mono_ns();

	if (!force && k->counted_ns && now - k->counted_ns < DM_KCOUNT_INTERVAL_NS)
		return;
	k->slots_used = 0;
	dm_flows_foreach(dm_loader_flows_fd(l), -1, count_slot, &k->slots_used);
	k->overflow_used = dm_flows_count_keys(dm_loader_overflow_fd(l));
	k->cands_held = dm_flows_count_keys(dm_loader_cands_fd(l));
	k->counted_ns = now;
}

uint64_t dm_kcount_cands_evicted(const struct dm_kcount *k, const struct dm_stats *s)
{
	uint64_t stored = s->cnt[DM_CNT_CAND_NEW], gone = s->cnt[DM_CNT_CAND_REMOVED];

	/* Counters and the walk are not read at one instant: never below zero. */
	return stored > gone + k->cands_held ? stored - gone - k->cands_held : 0;
}
