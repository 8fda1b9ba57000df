/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_STATS_H
#define __DM_STATS_H

#include <stdbool.h>
#include <stdio.h>
#include "dicomon.h"

struct dm_loader;

#include <json-c/json.h>

/* One summed dm_stats as a JSON object (packets, bytes, pdus, associations, ...). */
json_object *dm_stats_json(const struct dm_stats *s);

/*
 * The kernel's counters, per interface and summed: text blocks to out, or
 * (json) "interfaces" and "total" added to o. 0 or -errno (nothing more of
 * them is written then).
 */
int dm_stats_kernel(const struct dm_loader *l, bool json, json_object *o, FILE *out);

#endif /* __DM_STATS_H */
