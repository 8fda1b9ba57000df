/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The attachments' samples, read at each scrape (HELP, TYPE and label names
 * are in the family table, core/counters.c): dicomon_tc_programs_ahead,
 * dicomon_bpf_stats_enabled, dicomon_bpf_program_runs_total,
 * dicomon_bpf_program_run_seconds_total, dicomon_fallback_active,
 * dicomon_hook_attached, dicomon_interface_last_packet_timestamp_seconds.
 */
#ifndef __DM_ATTACH_METRICS_H
#define __DM_ATTACH_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/loader.h"

struct dm_expo;

/* One attached program's run stats (kernel.bpf_stats_enabled=1 fills them). */
struct dm_prog_run {
	char name[16];
	uint32_t id;
	uint64_t runs, run_ns;
};
#define DM_PROG_RUNS (DM_MAX_IFACES * DM_ATT_MAX)

/* Each distinct program attached on l's interfaces, at most max: how many. */
int dm_attach_prog_runs(const struct dm_loader *l, struct dm_prog_run *out, int max);
/* Whether the kernel counts BPF run time (sysctl kernel.bpf_stats_enabled). */
int dm_attach_bpf_stats_enabled(void);

void dm_attach_tc_ahead(struct dm_expo *e, const struct dm_loader *l);
/* Each program's runs, or (seconds) its run time. */
void dm_attach_runs(struct dm_expo *e, const struct dm_prog_run *r, int n, bool seconds);
void dm_attach_fallbacks(struct dm_expo *e, const struct dm_loader *l);
/* dicomon_hook_attached: each wanted hook, 1 if the kernel showed our program there. */
void dm_attach_hooks(struct dm_expo *e, const struct dm_loader *l);
/* dicomon_interface_last_packet_timestamp_seconds. */
void dm_attach_last_packet(struct dm_expo *e, const struct dm_loader *l);

#endif /* __DM_ATTACH_METRICS_H */
