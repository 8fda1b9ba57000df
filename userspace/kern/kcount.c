// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Entries of the kernel's flow tables and candidate map (see kcount.h). */
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/flows.h"
#include "kern/kcount.h"
#include "kern/loader.h"
#include "dicomon.skel.h"

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

/* Keys of a map whose keys are at most 64 bytes (dm_frags). */
static uint64_t count_keys(int fd)
{
	unsigned char key[64], next[64];
	void *prev = NULL;
	uint64_t n = 0;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
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
	k->frags_held = count_keys(bpf_map__fd(l->skel->maps.dm_frags));
	k->counted_ns = now;
}

/* Counters and the walk are not read at one instant: never below zero. */
static uint64_t evicted(uint64_t stored, uint64_t gone, uint64_t held)
{
	return stored > gone + held ? stored - gone - held : 0;
}

uint64_t dm_kcount_cands_evicted(const struct dm_kcount *k, const struct dm_stats *s)
{
	return evicted(s->cnt[DM_CNT_CAND_NEW], s->cnt[DM_CNT_CAND_REMOVED], k->cands_held);
}

void dm_kcount_evictions(const struct dm_kcount *k, const struct dm_stats *s,
			 struct dm_kevictions *out)
{
	out->overflow = evicted(s->cnt[DM_CNT_FLOW_OVERFLOW], s->cnt[DM_CNT_OVERFLOW_REMOVED],
				k->overflow_used);
	out->cands = dm_kcount_cands_evicted(k, s);
	out->frags = evicted(s->cnt[DM_CNT_FRAG_NEW], s->cnt[DM_CNT_FRAG_REMOVED], k->frags_held);
}
