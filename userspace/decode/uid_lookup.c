// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Lookups in the generated UID registry table (uids.c), sorted bytewise by UID. */
#include <string.h>
#include "decode/uids.h"

const struct dm_uid_entry *dm_uid_lookup(const char *uid)
{
	unsigned int lo = 0, hi = dm_uid_table_len, mid;
	int c;

	if (!uid)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(uid, dm_uid_table[mid].uid);
		if (!c)
			return &dm_uid_table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *dm_uid_name(const char *uid)
{
	const struct dm_uid_entry *e = dm_uid_lookup(uid);

	/* Two retired registry entries have no name at all. */
	return e && e->name[0] ? e->name : NULL;
}
