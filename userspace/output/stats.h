/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_STATS_H
#define __DM_STATS_H

#include <stdbool.h>
#include <stdio.h>
#include "dicomon.h"

struct dm_loader;
struct dm_event_stats;

#include <json-c/json.h>

/* One summed dm_stats as a JSON object (packets, bytes, pdus, associations, ...). */
json_object *dm_stats_json(const struct dm_stats *s);

/*
 * Print the kernel counters (per interface and total) and userspace's event
 * counters; extra (may be NULL) adds userspace parts, each an object of counters.
 */
int dm_stats_print(const struct dm_loader *l, const struct dm_event_stats *es, json_object *extra,
		   bool json, FILE *out);

#endif /* __DM_STATS_H */
