/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What another dicomon left on a hook without pins we can see (a daemon
 * started under `ip netns exec` has a private mount namespace: its bpffs and
 * pins die with it, its links may not) and what else is there: programs on
 * hooks by id and name, the link that holds one, and the state maps of a
 * running dicomon program, found through the program itself.
 */
#ifndef __DM_TAKEOVER_H
#define __DM_TAKEOVER_H

#include <stdbool.h>
#include <linux/types.h>

/* A program's kernel name ("" if it is gone); the kernel keeps 15 characters. */
void dm_prog_name(__u32 id, char name[16]);
/* Is this a program dicomon loads (dicomon_xdp, dicomon_xdp_meta, dicomon_tc_*)? */
bool dm_prog_name_is_dicomon(const char *name);
/* The XDP program on ifindex in any mode (native, generic, offload), or 0. */
__u32 dm_xdp_prog_on(int ifindex);
/*
 * The link of type (DM_LINK_TYPE_XDP / _TCX) on ifindex running prog_id
 * (tcx: attach_type too; 0 for XDP): a new fd, or -ENOENT.
 */
int dm_link_find(__u32 type, int ifindex, __u32 attach_type, __u32 prog_id);
/*
 * A dicomon program attached to one of the n ifindexes (XDP first, then tcx
 * ingress and egress): its id, or 0.
 */
__u32 dm_dicomon_prog_on(const int *ifindexes, int n);
/*
 * fd of the map named name (kernel name, 15 characters) among the maps
 * program prog_id uses, or -ENOENT.
 */
int dm_prog_map_fd(__u32 prog_id, const char *name);

#endif /* __DM_TAKEOVER_H */
