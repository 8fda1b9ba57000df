/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Prometheus counters of whole associations, kept by userspace as records
 * end (the pipeline): associations by transport and outcome, their duration,
 * TLS versions, DIMSE commands by status class, and AE pairs. Every family
 * has a bounded label set: AE titles appear only when the caller names them
 * known (allow-listed or learned), the rest is folded into "other".
 */
#ifndef __DM_ASSOC_METRICS_H
#define __DM_ASSOC_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dicomon.h"
#include "assoc/record.h"

#define DM_AM_DUR_BUCKETS 12
#define DM_AM_TLS	  8   /* distinct TLS versions (SSL3..TLS1.3 and the unknown) */
#define DM_AM_CMDS	  32  /* distinct command fields (PS3.7 defines 24) */
#define DM_AM_PAIRS	  256 /* distinct known AE pairs; more fold into other */
#define DM_AM_CLASSES	  6   /* success pending warning failure cancel + none (requests) */
#define DM_AM_VLANS	  64  /* distinct outer VLAN ids; more fold into other */

struct dm_assoc_metrics {
	uint64_t assoc[DM_TRANSPORT_MAX][DM_OUT_MAX];
	struct {
		uint64_t le[DM_AM_DUR_BUCKETS]; /* cumulative at render time */
		uint64_t count;
		double sum;
	} dur[DM_TRANSPORT_MAX];
	struct {
		uint16_t version;
		uint64_t n;
	} tls[DM_AM_TLS];
	int n_tls;
	struct {
		uint16_t field;
		uint64_t n[DM_AM_CLASSES];
	} cmds[DM_AM_CMDS];
	int n_cmds;
	uint64_t cmds_other[DM_AM_CLASSES];
	struct {
		char calling[DM_AE_STR], called[DM_AE_STR];
		uint64_t n;
	} pairs[DM_AM_PAIRS];
	int n_pairs;
	/* A-ASSOCIATE-RJ by source (1..3, 0 = other) and reason (0..7, 8 = other) */
	uint64_t rj[4][9];
	struct {
		uint16_t vlan; /* outer id, 0 = untagged */
		uint64_t n[DM_TRANSPORT_MAX];
	} vlans[DM_AM_VLANS];
	int n_vlans;
	uint64_t vlans_other[DM_TRANSPORT_MAX];
	uint64_t anomalies[DM_AN_MAX];	    /* associations with this anomaly kind (either direction) */
	uint64_t incomplete[DM_INC_MAX];    /* associations whose set-up decode was not whole, by reason */
	uint64_t incomplete_any;	    /* ... with any reason */
};

extern const double dm_am_dur_bounds[DM_AM_DUR_BUCKETS];

/* A record ended; calling/called are label values (a known title or "other"). */
void dm_am_end(struct dm_assoc_metrics *m, const struct dm_rec *r, const char *calling,
	       const char *called);
/* A DIMSE command head; has_status: a response (status class), else "none". */
void dm_am_dimse(struct dm_assoc_metrics *m, uint16_t field, bool has_status, uint16_t status);
/*
 * The samples of each family (its HELP, TYPE and label names are in the
 * family table, core/counters.c): associations_total, association_rejects_total,
 * vlan_associations_total, association_duration_seconds, tls_associations_total,
 * dimse_messages_total, association_anomalies_total,
 * association_decode_incomplete_total, ae_pair_associations_total.
 */
struct dm_expo;
typedef void (*dm_am_emit_fn)(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_outcomes(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_rejects(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_vlans(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_durations(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_tls(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_commands(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_anomalies(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_incomplete(struct dm_expo *e, const struct dm_assoc_metrics *m);
void dm_am_pairs(struct dm_expo *e, const struct dm_assoc_metrics *m);

#endif /* __DM_ASSOC_METRICS_H */
