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

#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"

struct dm_loop;
struct dm_metrics;
struct dm_webcfg;

/* Requests refused by the web config (metrics.web_config_file). */
struct dm_metrics_refused {
	uint64_t auth; /* no or wrong basic auth credentials: 401 */
	uint64_t cert; /* no or unverified client certificate: 403 */
	uint64_t throttled; /* a password to check with no bcrypt left in the budget: 429 */
};

/* Writes the whole exposition to out; 0 or -errno (the scrape answers 500). */
typedef int (*dm_metrics_render_fn)(FILE *out, void *ctx);

/*
 * listen: every "HOST:PORT" of the comma-separated list (IPv6 as
 * "[ADDR]:PORT"); "" = no endpoint. web: TLS and authentication (NULL: plain
 * HTTP, anyone); it must outlive the endpoint (scrapes write its password
 * cache). per_address: connections one client address may hold (0: 8).
 */
struct dm_metrics_opts {
	const char *listen;
	struct dm_webcfg *web;
	unsigned int per_address;
};

/* Listen and register the listeners with lp. */
int dm_metrics_open(const struct dm_metrics_opts *o, struct dm_loop *lp,
		    dm_metrics_render_fn render, void *ctx, struct dm_metrics **out);
/* Connection timeouts: call about once a second. */
void dm_metrics_tick(struct dm_metrics *m);
void dm_metrics_close(struct dm_metrics *m, struct dm_loop *lp);
/* Never NULL: zeros when m is NULL. */
const struct dm_metrics_refused *dm_metrics_refused(const struct dm_metrics *m);

/*
 * The exposition, written from a table of families: each family's HELP and
 * TYPE lines once, then its samples, label values escaped here and nowhere
 * else. A family's samples come from fields (a uint64_t each at an offset
 * of the caller's counters: one sample per field, labelled, or their sum)
 * or from an emit function for label sets known only at render time.
 */
enum dm_mtype {
	DM_COUNTER,
	DM_GAUGE,
	DM_HISTOGRAM,
};

#define DM_FAM_LABELS 3
#define DM_FAM_FIELDS 4

struct dm_expo;
struct dm_family;

typedef void (*dm_emit_fn)(struct dm_expo *e, const void *ctx, const void *arg);

/*
 * One field source: a uint64_t at off in the counters; label: its sample's
 * value of the family's one label (NULL: the family has one unlabelled sample).
 */
struct dm_field {
	const char *label;
	size_t off;
};

struct dm_family {
	const char *name; /* without the "dicomon_" prefix */
	enum dm_mtype type;
	const char *help;
	const char *labels[DM_FAM_LABELS]; /* label names, in sample order */
	struct dm_field fields[DM_FAM_FIELDS];
	int sum;	 /* > 0: one sample, the sum of the first sum fields */
	dm_emit_fn emit; /* or samples from here (ctx, arg) */
	const void *arg;
	/* Families that exist only sometimes (evidence.dir set): NULL = always. */
	int (*shown)(const void *ctx);
};

/* Writes every family shown; base: the counters fields point into. 0 or -EIO. */
int dm_metrics_render(FILE *out, const struct dm_family *fams, size_t n, const void *base,
		      const void *ctx);
/*
 * Inside an emit: a family of its own (generated names: one per kernel
 * counter); the samples after it belong to it.
 */
void dm_expo_family(struct dm_expo *e, const struct dm_family *f);
/* A sample of the current family: lv[] its label values in order, value v. */
void dm_expo_u64(struct dm_expo *e, const char *const *lv, uint64_t v);
void dm_expo_i64(struct dm_expo *e, const char *const *lv, int64_t v);
/* A float sample with prec decimals (seconds: 9). */
void dm_expo_f64(struct dm_expo *e, const char *const *lv, double v, int prec);
/* A histogram's samples: cumulative counts le[i] at bounds[i], then +Inf, sum and count. */
void dm_expo_hist(struct dm_expo *e, const char *const *lv, const uint64_t *le,
		  const double *bounds, int n, uint64_t count, double sum);

/* The kernel's families, one sample per interface: each dm_stats array and counter. */
struct dm_metrics_iface {
	const char *name;
	struct dm_stats s;
};
struct dm_kernel_view {
	const struct dm_metrics_iface *ifs;
	int n;
};
/* arg: a struct dm_stats_array (below); ctx's kernel view from the caller's getter. */
struct dm_stats_array {
	size_t off;	/* of a __u64 array in struct dm_stats */
	int len;	/* its entries */
	const char *(*name)(unsigned int);
	int pdu;	/* a [DM_DIR_MAX][DM_PDU_MAX] array: by type and direction, type 0 left out */
};
void dm_metrics_kernel_array(struct dm_expo *e, const struct dm_kernel_view *k,
			     const struct dm_stats_array *a);
/* Every datapath counter (enum dm_counter) as dicomon_NAME_total, by interface. */
void dm_metrics_kernel_counters(struct dm_expo *e, const struct dm_kernel_view *k);

#endif /* __DM_METRICS_H */
