/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The Prometheus endpoint (metrics.listen): libmicrohttpd without threads of
 * its own, its epoll fd in the daemon's loop, so a scrape runs between two
 * ring buffer drains and reads the maps at that moment. Nothing is reset by
 * a scrape. `/metrics` is the text exposition format (0.0.4); `/` is a page
 * linking to it.
 */
#ifndef __DM_METRICS_H
#define __DM_METRICS_H

#include <stdio.h>
#include "dicomon.h"

struct dm_loop;
struct dm_metrics;

/* Writes the whole exposition to out; 0 or -errno (the scrape answers 500). */
typedef int (*dm_metrics_render_fn)(FILE *out, void *ctx);

/*
 * Listen on every "HOST:PORT" of the comma-separated list (IPv6 as
 * "[ADDR]:PORT") and register the listeners with lp. "" = no endpoint.
 */
int dm_metrics_open(const char *listen, struct dm_loop *lp, dm_metrics_render_fn render, void *ctx,
		    struct dm_metrics **out);
/* Connection timeouts: call about once a second. */
void dm_metrics_tick(struct dm_metrics *m);
void dm_metrics_close(struct dm_metrics *m, struct dm_loop *lp);

/*
 * The exposition's parts, for the daemon's render function (and the tests):
 * HELP and TYPE first, then one sample per interface.
 */
struct dm_metrics_iface {
	const char *name;
	struct dm_stats s;
};
void dm_metrics_write_kernel(FILE *out, const struct dm_metrics_iface *ifs, int n);
/* "# HELP dicomon_NAME HELP" and "# TYPE dicomon_NAME TYPE" lines. */
void dm_metrics_head(FILE *out, const char *name, const char *type, const char *help);
/* A label value with \, " and newline escaped. */
void dm_metrics_label(FILE *out, const char *v);

#endif /* __DM_METRICS_H */
