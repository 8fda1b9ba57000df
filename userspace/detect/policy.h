/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_POLICY_H
#define __DM_POLICY_H

/*
 * The pieces the detection rules (rules.c) stand on: bounded time-windowed
 * counters and the AE title registry (allow-list loaded from YAML, or
 * learned) with its YAML writer. Network lists (CIDRs) are lib/netaddr.h's.
 *
 * Everything here is bounded: a window is 8 buckets, a distinct-value set
 * DM_DISTINCT_CAP slots, the registry DM_AE_REG_MAX titles with
 * DM_AE_BIND_MAX addresses each and DM_AE_PAIRS_MAX pairs; what does not fit
 * is counted, never allocated.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "config/config.h"
#include "decode/pdu.h"
#include "lib/netaddr.h"

/*
 * Events in the last T seconds, in 8 buckets of T/8: the count covers
 * between 7/8 T and T. Times are monotonic nanoseconds.
 */
#define DM_WIN_BUCKETS 8
struct dm_win {
	uint32_t cnt[DM_WIN_BUCKETS];
	uint64_t epoch; /* index of the newest bucket: now / width */
};
uint32_t dm_win_add(struct dm_win *w, uint64_t now_ns, uint32_t window_s, uint32_t n);

/*
 * Distinct values (32-bit hashes) seen in the last T seconds, at most
 * DM_DISTINCT_CAP of them (config.h: the thresholds on distinct counts are
 * capped there).
 */
struct dm_distinct {
	uint32_t h[DM_DISTINCT_CAP];
	uint32_t last_s[DM_DISTINCT_CAP]; /* now_ns / 1e9 + 1 (0 = empty slot) */
};
/* Records hash h at now; returns the number of distinct values in the window. */
uint32_t dm_distinct_add(struct dm_distinct *d, uint32_t h, uint64_t now_ns, uint32_t window_s);
uint32_t dm_hash32(const void *p, size_t n, uint32_t seed);

/*
 * AE titles and where they may come from. A title with no address is
 * allowed from anywhere; pairs (calling -> called) are checked only when the
 * registry has any.
 */
#define DM_AE_REG_MAX	4096
#define DM_AE_BIND_MAX	8
#define DM_AE_PAIRS_MAX 16384

struct dm_ae_entry {
	char title[DM_AE_STR]; /* dm_ae_string() form */
	struct dm_cidr bind[DM_AE_BIND_MAX];
	uint8_t n_bind;
	int line; /* allow-list line, 0 = learned */
};

struct dm_ae_reg {
	struct dm_ae_entry *e;
	uint32_t n;
	uint32_t *idx; /* open addressing, DM_AE_REG_MAX * 2 slots of entry index + 1 */
	uint64_t
	    *pairs; /* open addressing, DM_AE_PAIRS_MAX * 2 slots: calling+1 << 32 | called+1 */
	uint32_t n_pairs;
	uint64_t dropped_titles, dropped_binds, dropped_pairs;
};

int dm_ae_reg_init(struct dm_ae_reg *g);
void dm_ae_reg_free(struct dm_ae_reg *g);
void dm_ae_reg_clear(struct dm_ae_reg *g);
/* The entry of a title, or NULL. */
struct dm_ae_entry *dm_ae_reg_find(const struct dm_ae_reg *g, const char *title);
/* Finds or adds; NULL when full (counted). */
struct dm_ae_entry *dm_ae_reg_add(struct dm_ae_reg *g, const char *title, int line);
/* Binds an address or network to the entry (no duplicate); -ENOSPC when full (counted). */
int dm_ae_reg_bind(struct dm_ae_reg *g, struct dm_ae_entry *e, const struct dm_cidr *c);
/* 1 if the entry has no binding or one matches, else 0. */
int dm_ae_reg_bound(const struct dm_ae_entry *e, uint8_t family, const uint32_t a[4]);
int dm_ae_reg_add_pair(struct dm_ae_reg *g, const struct dm_ae_entry *calling,
		       const struct dm_ae_entry *called);
bool dm_ae_reg_has_pair(const struct dm_ae_reg *g, const struct dm_ae_entry *calling,
			const struct dm_ae_entry *called);

/*
 * The allow-list file:
 *
 *   ae_titles:
 *     - title: PACS
 *       addresses: [10.1.2.3, 10.1.3.0/24]
 *     - title: MODALITY_1            # no addresses: from anywhere
 *   pairs:
 *     - {calling: MODALITY_1, called: PACS}
 *
 * Titles are written as dm_ae_string() prints them (spaces trimmed, odd bytes
 * as \xHH) and compared the same way. Errors: "FILE:LINE:COLUMN: what".
 */
int dm_ae_reg_load(struct dm_ae_reg *g, const char *path, char *err, size_t errlen);
int dm_ae_reg_parse(struct dm_ae_reg *g, const char *name, const char *text, size_t len, char *err,
		    size_t errlen);
/* Writes the registry in the same format (titles double-quoted). */
int dm_ae_reg_write(const struct dm_ae_reg *g, FILE *f);

#endif /* __DM_POLICY_H */
