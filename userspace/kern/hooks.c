// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The hooks as the kernel sees them. A daemon that says "watching" must be
 * watching: after attaching, each hook is queried for the id of the program
 * that runs there, and the periodic check does the same so that a program
 * detached or replaced behind our back shows (a warning, and
 * dicomon_hook_attached 0). The last time an interface's packet counter moved
 * is kept here too: a hook that is attached but sees nothing is blind as well.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/hooks.h"
#include "kern/takeover.h"
#include "kern/tcorder.h"
#include "lib/log.h"

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int xdp_ours(const struct dm_iface *ifc, __u32 want, __u32 *seen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	bool native = ifc->xdp_mode && !strcmp(ifc->xdp_mode, dm_xdp_mode_names[DM_XDP_NATIVE]);

	if (bpf_xdp_query(ifc->ifindex, 0, &q))
		return -errno;
	*seen = native ? q.drv_prog_id : q.skb_prog_id;
	if (!*seen)
		*seen = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	return *seen == want;
}

static int tcx_ours(const struct dm_iface *ifc, int egress, __u32 want, __u32 *seen)
{
	__u32 ids[DM_TC_LIST_MAX];
	int n, i;

	n = dm_tcx_list(ifc->ifindex, egress, ids, DM_TC_LIST_MAX);
	if (n < 0)
		return n;
	for (i = 0; i < n && i < DM_TC_LIST_MAX; i++)
		if (ids[i] == want)
			return *seen = want, 1;
	*seen = n > 0 ? ids[0] : 0;
	return 0;
}

static int clsact_ours(const struct dm_iface *ifc, int egress, __u32 want, __u32 *seen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = DM_TC_HANDLE, .priority = ifc->tc_prio[egress]);
	int err = bpf_tc_query(&hook, &q);

	if (err == -ENOENT || err == -EINVAL)
		return 0; /* no such filter (EINVAL: no clsact qdisc at all) */
	if (err)
		return err;
	*seen = q.prog_id;
	return q.prog_id == want;
}

int dm_hook_ours(const struct dm_iface *ifc, int att, __u32 *seen)
{
	__u32 want = prog_id(ifc->prog_fd[att]);
	int d = att - DM_ATT_TC_INGRESS;

	*seen = 0;
	if (!want)
		return -ENOENT;
	if (att == DM_ATT_XDP)
		return xdp_ours(ifc, want, seen);
	if (ifc->tc_link[d] >= 0)
		return tcx_ours(ifc, d, want, seen);
	return clsact_ours(ifc, d, want, seen);
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 packets(const struct dm_loader *l, const struct dm_iface *ifc)
{
	struct dm_stats s;
	__u64 n = 0;
	int c;

	if (dm_stats_read(dm_loader_stats_fd(l), l->ncpus, ifc->slot, &s))
		return ifc->pkts_seen;
	for (c = 0; c < DM_CLASS_MAX; c++)
		n += s.pkts[c];
	return n;
}

int dm_hooks_verify(struct dm_loader *l)
{
	struct dm_iface *ifc;
	char name[16];
	int i, a, r, err = 0;
	__u32 seen;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		for (a = 0; a < DM_ATT_MAX; a++) {
			if (ifc->prog_fd[a] < 0)
				continue;
			r = dm_hook_ours(ifc, a, &seen);
			ifc->hook_ok[a] = r == 1;
			if (r == 1)
				continue;
			dm_prog_name(seen, name);
			if (r < 0)
				pr_err("%s: %s: cannot ask the kernel what runs there: %s\n", ifc->name,
				       dm_att_name(a), strerror(-r));
			else
				pr_err("%s: %s: attached, but the kernel shows %s%u%s%s%s there, not "
				       "dicomon's program %u\n",
				       ifc->name, dm_att_name(a), seen ? "program " : "no program (",
				       seen, seen && name[0] ? " (" : "", name, seen ? ")" : ")",
				       prog_id(ifc->prog_fd[a]));
			err = -EIO;
		}
		ifc->pkts_seen = packets(l, ifc);
		ifc->last_packet_s = wall_s();
	}
	return err;
}

void dm_hooks_check(struct dm_loader *l)
{
	struct dm_iface *ifc;
	char name[16];
	int i, a, r;
	__u32 seen;
	__u64 n;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		for (a = 0; a < DM_ATT_MAX; a++) {
			if (ifc->prog_fd[a] < 0)
				continue;
			r = dm_hook_ours(ifc, a, &seen);
			if (r < 0)
				continue; /* a failed query says nothing: keep the last answer */
			if (!r && ifc->hook_ok[a]) {
				dm_prog_name(seen, name);
				pr_warn("%s: %s: dicomon's program is no longer attached (the kernel "
					"shows %s %u%s%s%s): this hook is blind until a restart or "
					"reload re-attaches it\n",
					ifc->name, dm_att_name(a), seen ? "program" : "none", seen,
					name[0] ? " (" : "", name, name[0] ? ")" : "");
			} else if (r && !ifc->hook_ok[a]) {
				pr_warn("%s: %s: dicomon's program is attached again\n", ifc->name,
					dm_att_name(a));
			}
			ifc->hook_ok[a] = r == 1;
		}
		n = packets(l, ifc);
		if (n != ifc->pkts_seen)
			ifc->last_packet_s = wall_s();
		ifc->pkts_seen = n;
	}
}
