// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Entries of the kernel's flow tables and candidate map (see kcount.h). */
#include <errno.h>
#include <time.h>
#include <bpf/bpf.h>
#include "cmd/daemon.h"
#include "kern/kcount.h"
#include "output/metrics.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Keys of a hash map (bpf_map_get_next_key): its entries now. */
static uint64_t hash_entries(int fd)
{
	struct dm_flow_key key, next, *prev = NULL;
	uint64_t n = 0;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Slots of the direct-mapped table that hold an association. */
static uint64_t slots_used(int fd)
{
	static struct dm_assoc vals[256];
	__u32 keys[256], batch = 0, count, i;
	uint64_t slots = 0;
	void *in = NULL;
	int err;

	do {
		count = 256;
		err = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &count, NULL);
		for (i = 0; i < count && (!err || errno == ENOENT); i++)
			slots += vals[i].key.family != 0;
		in = &batch;
	} while (!err);
	return slots;
}

void dm_kcount_update(struct dm_daemon *d, bool force)
{
	uint64_t now = mono_ns();

	if (!force && d->flows_counted_ns && now - d->flows_counted_ns < DM_KCOUNT_INTERVAL_NS)
		return;
	d->flows_slots_used = slots_used(dm_loader_flows_fd(&d->l));
	d->flows_overflow_used = hash_entries(dm_loader_overflow_fd(&d->l));
	d->cands_held = hash_entries(dm_loader_cands_fd(&d->l));
	d->flows_counted_ns = now;
}

uint64_t dm_kcount_cands_evicted(const struct dm_daemon *d, const struct dm_stats *s)
{
	uint64_t stored = s->cnt[DM_CNT_CAND_NEW], gone = s->cnt[DM_CNT_CAND_REMOVED];

	/* Counters and the walk are not read at one instant: never below zero. */
	return stored > gone + d->cands_held ? stored - gone - d->cands_held : 0;
}

void dm_kcount_write_metrics(FILE *out, struct dm_daemon *d)
{
	struct dm_stats total;

	dm_kcount_update(d, false);
	fprintf(
	    out,
	    "# HELP dicomon_flow_table_entries Associations held by the kernel's flow tables "
	    "(slots: direct-mapped, overflow: LRU), counted at most every 10 s.\n"
	    "# TYPE dicomon_flow_table_entries gauge\n"
	    "dicomon_flow_table_entries{table=\"slots\"} %llu\n"
	    "dicomon_flow_table_entries{table=\"overflow\"} %llu\n"
	    "# HELP dicomon_flow_table_capacity Size of the kernel's flow tables (maps.flow_slots, "
	    "maps.overflow_entries).\n# TYPE dicomon_flow_table_capacity gauge\n"
	    "dicomon_flow_table_capacity{table=\"slots\"} %u\n"
	    "dicomon_flow_table_capacity{table=\"overflow\"} %u\n",
	    (unsigned long long)d->flows_slots_used, (unsigned long long)d->flows_overflow_used,
	    d->l.flow_slots, d->l.overflow_entries);
	dm_metrics_head(out, "candidates_held", "gauge",
			"Flows held as candidates in dm_cands now (maps.candidate_entries at most), "
			"counted at most every 10 s.");
	fprintf(out, "dicomon_candidates_held %llu\n", (unsigned long long)d->cands_held);
	if (dm_stats_read(dm_loader_stats_fd(&d->l), d->l.ncpus, -1, &total))
		return;
	dm_metrics_head(out, "candidates_evicted_total", "counter",
			"Candidates the full dm_cands LRU evicted before their bytes decided "
			"(candidates - candidates_removed - held).");
	fprintf(out, "dicomon_candidates_evicted_total %llu\n",
		(unsigned long long)dm_kcount_cands_evicted(d, &total));
}
