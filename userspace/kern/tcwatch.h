/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* dicomon's own TC hooks: what runs ahead of them (tcwatch.c). */
#ifndef __DM_TCWATCH_H
#define __DM_TCWATCH_H

#include <linux/types.h>

struct dm_iface;
struct dm_loader;

/*
 * With dicomon's filter at DM_TC_PRIO: remove one of dicomon's at
 * DM_TC_PRIO_OLD (left by an earlier version, or by this one while priority 1
 * was taken), which would see every packet a second time. pinned: the
 * program pinned as ours until now (0 if none). Logs what it does.
 */
void dm_tc_drop_old(const char *ifname, int ifindex, int egress, __u32 pinned);
/*
 * What runs ahead of ifc's TC program in direction egress: logs a warning
 * when something gets ahead (or changes), an info line when nothing is ahead
 * any more, and keeps the count in ifc->tc_order[egress].
 */
void dm_tcorder_check(struct dm_iface *ifc, int egress);
/* dm_tcorder_check on every TC attachment. */
void dm_tcorder_check_all(struct dm_loader *l);

#endif /* __DM_TCWATCH_H */
