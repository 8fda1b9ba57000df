/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_ATTACH_METRICS_H
#define __DM_ATTACH_METRICS_H

#include <stdio.h>

struct dm_loader;

/*
 * At each scrape: dicomon_bpf_stats_enabled, dicomon_bpf_program_runs_total,
 * dicomon_bpf_program_run_seconds_total, dicomon_tc_programs_ahead,
 * dicomon_fallback_active.
 */
void dm_attach_write_metrics(FILE *out, const struct dm_loader *l);

#endif /* __DM_ATTACH_METRICS_H */
