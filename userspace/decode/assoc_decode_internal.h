/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_ASSOC_INTERNAL_H
#define __DM_ASSOC_INTERNAL_H

/* Shared by assoc_decode.c (PDU, items, contexts) and assoc_userinfo.c only. */
#include "decode/assoc_decode.h"

struct dm_actx {
	struct dm_assoc_info *a;
	const uint8_t *p; /* the PDU */
	size_t end;	  /* one past the last byte present */
	int nomem;
	/* Transient string index for de-duplication: open addressing over arena offsets. */
	uint32_t *idx;
	uint32_t idx_cap, idx_n;
	/* Capacities of the growing arrays in *a. */
	uint16_t pcs_cap, roles_cap, extneg_cap, cextneg_cap;
};

/* Printable copy of n bytes (at most keep) into the arena; 0 when out of memory. */
dm_str_t dm_actx_str(struct dm_actx *c, const uint8_t *s, size_t n, size_t keep);
/*
 * A UID from an item (PS3.5 9.1, not padded on the wire; one trailing NUL
 * tolerated): validated, cut at 64, and stored when keep (else 0: what is
 * beyond the keep limits is checked but takes no memory). what names it in
 * violations.
 */
dm_str_t dm_actx_uid(struct dm_actx *c, const uint8_t *s, size_t n, const char *what, int keep);
/*
 * Room for one more element of a growing array with at most max elements:
 * returns the element (zeroed) or NULL when full or out of memory.
 */
void *dm_actx_push(struct dm_actx *c, void **arr, uint16_t *n, uint16_t *cap, size_t size,
		   uint16_t max);
/*
 * Whether an item whose body runs from body for ilen bytes fits before end.
 * If not, *blen is clipped and a violation is recorded unless cut says the
 * container itself was clipped (by the capture, or by an overrun already
 * reported).
 * Returns 1 when whole, 0 when clipped.
 */
int dm_actx_fit(struct dm_actx *c, size_t body, size_t ilen, size_t end, int cut, size_t *blen,
		const char *what);

/* 0x50 User Information item: its body is p[body, body + blen). cut: clipped by capture. */
void dm_assoc_user_info(struct dm_actx *c, size_t body, size_t blen, int cut);

#endif /* __DM_ASSOC_INTERNAL_H */
