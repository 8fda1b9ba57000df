/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Is dicomon really on its hooks? The kernel is asked (XDP: bpf_xdp_query,
 * tcx: the hook's program list, clsact: bpf_tc_query of our filter), never
 * our own bookkeeping: at start before "ready", and every few seconds after
 * (dicomon_hook_attached, dicomon_interface_last_packet_timestamp_seconds).
 */
#ifndef __DM_HOOKS_H
#define __DM_HOOKS_H

#include "kern/loader.h"

/*
 * Whether the hook att of ifc runs ifc's program for it: 1 yes, 0 no (then
 * *seen is the program found there, or 0 for none), or -errno.
 */
int dm_hook_ours(const struct dm_iface *ifc, int att, __u32 *seen);
/*
 * After attaching: every hook l attached runs l's own program. Returns 0, or
 * -EIO with an error naming the hook and what runs there instead.
 */
int dm_hooks_verify(struct dm_loader *l);
/*
 * The periodic check: each hook asked again (a warning when one is lost or
 * back), each interface's packet counter read (its last movement's wall time).
 */
void dm_hooks_check(struct dm_loader *l);

#endif /* __DM_HOOKS_H */
