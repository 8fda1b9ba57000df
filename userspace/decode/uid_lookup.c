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

const char *dm_uid_keyword(const char *uid)
{
	const struct dm_uid_entry *e = dm_uid_lookup(uid);

	return e && e->keyword[0] ? e->keyword : NULL;
}

const char *dm_uid_type_name(unsigned int type)
{
	static const char *const names[DM_UID_TYPE_MAX] = {
	    [DM_UID_OTHER] = "other",
	    [DM_UID_TRANSFER_SYNTAX] = "transfer syntax",
	    [DM_UID_SOP_CLASS] = "SOP class",
	    [DM_UID_META_SOP_CLASS] = "meta SOP class",
	    [DM_UID_SERVICE_CLASS] = "service class",
	    [DM_UID_APP_CONTEXT] = "application context",
	    [DM_UID_WELL_KNOWN_INSTANCE] = "well-known SOP instance",
	};

	return type < DM_UID_TYPE_MAX ? names[type] : "other";
}
