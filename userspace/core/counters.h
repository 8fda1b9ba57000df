/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Every counter, defined once, in the forms it leaves the process. One
 * reading (struct dm_counters: the pipeline's, the table's, the rules',
 * the feed's, HTTP reassembly's, evidence's and the kernel side's counters)
 * feeds two tables in counters.c: the Prometheus families (name, type,
 * help, label names, source) written by one renderer for `/metrics` and
 * `dicomon replay --metrics-out`, and the stats rows that make the stats
 * lines (text, or the JSON `stats` event) and `dicomon status`'s table
 * counters. tests/unit/check_counters.py fails the build's tests when a
 * source no code path moves is exported; test_counters.c when two family
 * names collide.
 */
#ifndef __DM_COUNTERS_H
#define __DM_COUNTERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"
#include "kern/kcount.h"
#include "assoc/httpasm.h"
#include "assoc/table.h"
#include "detect/rules.h"
#include "output/evidence.h"
#include "output/feed.h"
#include "output/metrics.h"
#include "core/pipeline.h"

struct dm_loader;
struct dm_loop;

/* The kernel side the counters read: the loaded maps and interfaces, the entry counts' cache. */
struct dm_kside {
	const struct dm_loader *l;
	struct dm_kcount *kc;
	const struct dm_loop *loop; /* the daemon's event loop (its handlers' times), or NULL */
	const struct dm_metrics *metrics; /* the daemon's endpoint (refused requests), or NULL */
};

/* One reading of every scalar counter: the family and stats tables point into it. */
struct dm_counters {
	struct dm_pipeline_stats ps;
	struct dm_table_stats ts;
	struct dm_rules_stats rs;
	struct dm_feed_stats fs;
	struct dm_http_asm_stats hs;
	struct dm_evidence_stats vs;
	struct dm_kcount kc;
	uint64_t cands_evicted;		   /* dm_cands entries its LRU dropped (kcount.h) */
	struct dm_kevictions kev;	   /* every kernel LRU map's evictions (kcount.h) */
	uint64_t slots_cap, overflow_cap;  /* maps.flow_slots, maps.overflow_entries */
	uint64_t bpf_stats_enabled;	   /* sysctl kernel.bpf_stats_enabled */
	uint64_t active[DM_TRANSPORT_MAX]; /* associations going on in the table, by transport */
	struct dm_metrics_refused ms;	   /* /metrics requests the web config refused */
};

/* The whole exposition; 0 or -errno (a map could not be read, a write failed). */
int dm_counters_prometheus(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k);
/* The counters to out: text lines, or one JSON "stats" line. */
void dm_counters_print_stats(FILE *out, const struct dm_pipeline *p, const struct dm_kside *k,
			     bool json);
/* `dicomon status`'s "table" object. */
json_object *dm_counters_status_table(const struct dm_pipeline *p);

/*
 * Tests: the exposition of p with the kernel side given as it would be read
 * (interfaces and their counters; NULL/0: none, no loader).
 */
struct dm_metrics_iface;
int dm_counters_prometheus_of(FILE *out, const struct dm_pipeline *p,
			      const struct dm_metrics_iface *ifs, int n);

#endif /* __DM_COUNTERS_H */
