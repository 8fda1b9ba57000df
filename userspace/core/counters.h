/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Every counter of a running pipeline and of the kernel side it reads, in
 * the forms they leave the process: the Prometheus exposition (`/metrics`,
 * `dicomon replay --metrics-out`), the stats lines (text, or the JSON
 * `stats` event) and the table counters of `dicomon status`.
 */
#ifndef __DM_COUNTERS_H
#define __DM_COUNTERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

struct dm_pipeline;
struct dm_loader;
struct dm_kcount;

/* The kernel side the counters read: the loaded maps and interfaces, the entry counts' cache. */
struct dm_kside {
	const struct dm_loader *l;
	struct dm_kcount *kc;
};

/* The whole exposition; 0 or -errno (a map could not be read, a write failed). */
int dm_counters_prometheus(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k);
/* The counters to out: text lines, or one JSON "stats" line. */
void dm_counters_print_stats(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k,
			     bool json);
/* `dicomon status`'s "table" object. */
json_object *dm_counters_status_table(const struct dm_pipeline *p);

#endif /* __DM_COUNTERS_H */
