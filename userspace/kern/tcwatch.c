// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What runs ahead of dicomon's program on each TC hook it is attached to,
 * checked at attach time and every 10 s (see tcorder.c for why it matters and
 * how the hooks are listed): warnings when something gets ahead or changes, an
 * info line when nothing is ahead any more, the count kept in the interface
 * (struct dm_tc_order) for /metrics. And the clean-up of a filter an earlier
 * dicomon left at the old priority.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/loader.h"
#include "lib/log.h"
#include "kern/pin.h"
#include "kern/tcorder.h"
#include "kern/tcwatch.h"

/*
 * The new filter is in place first, so no packet goes unseen; those crossing
 * both meanwhile are retransmissions to the stream tracker.
 */
void dm_tc_drop_old(const char *ifname, int ifindex, int egress, __u32 pinned)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = DM_TC_HANDLE, .priority = DM_TC_PRIO_OLD);
	const char *where = dm_att_name(DM_ATT_TC_INGRESS + egress);
	struct dm_tc_filter fs[DM_TC_LIST_MAX];
	int n = dm_tc_dump(ifindex, egress, fs, DM_TC_LIST_MAX), i, err;

	if (n < 0)
		pr_warn("%s: %s: cannot look for a filter left at priority %#x: %s\n", ifname,
			where, DM_TC_PRIO_OLD, strerror(-n));
	for (i = 0; i < n && i < DM_TC_LIST_MAX; i++) {
		if (fs[i].prio != DM_TC_PRIO_OLD || !dm_tc_filter_dicomon(&fs[i], pinned))
			continue;
		err = bpf_tc_detach(&hook, &q);
		if (err)
			pr_warn("%s: %s: cannot remove dicomon's filter at the old priority %#x: "
				"%s; packets are counted twice while it stays\n",
				ifname, where, DM_TC_PRIO_OLD, strerror(-err));
		else
			pr_info("%s: %s: removed dicomon's filter at the old priority %#x (now at "
				"priority %u)\n",
				ifname, where, DM_TC_PRIO_OLD, DM_TC_PRIO);
		return;
	}
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

/* A tcx program's entry; its name needs CAP_SYS_ADMIN (by id), else only the id is known. */
static void tcx_entry(struct dm_tc_filter *f, __u32 id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "tcx");
	f->prog_id = id;
	memset(&info, 0, sizeof(info));
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(f->name, sizeof(f->name), "%s", info.name);
	if (fd >= 0)
		close(fd);
}

/*
 * What runs ahead of ifc's program in direction egress, into out. With tcx,
 * the tcx programs before ours (clsact filters run after all of tcx); with a
 * clsact filter, every tcx program (6.6+), then the filters before ours.
 * *missing: ours is not on the hook (then everything listed is ahead).
 */
static int list_ahead(const struct dm_iface *ifc, int egress, struct dm_tc_filter *out,
		      bool *missing)
{
	__u32 ids[DM_TC_LIST_MAX], ours = prog_id_of(ifc->prog_fd[DM_ATT_TC_INGRESS + egress]);
	struct dm_tc_filter fs[DM_TC_LIST_MAX];
	int n_ids, n_fs, pos, i, k = 0;

	*missing = false;
	n_ids = dm_tcx_list(ifc->ifindex, egress, ids, DM_TC_LIST_MAX);
	if (n_ids < 0)
		return n_ids;
	n_ids = n_ids < DM_TC_LIST_MAX ? n_ids : DM_TC_LIST_MAX;
	if (ifc->tc_link[egress] >= 0) {
		for (pos = 0; pos < n_ids && ids[pos] != ours; pos++)
			;
		*missing = pos == n_ids;
		for (i = 0; i < pos; i++)
			tcx_entry(&out[k++], ids[i]);
		return k;
	}
	for (i = 0; i < n_ids; i++)
		tcx_entry(&out[k++], ids[i]);
	n_fs = dm_tc_dump(ifc->ifindex, egress, fs, DM_TC_LIST_MAX);
	if (n_fs < 0)
		return n_fs;
	n_fs = n_fs < DM_TC_LIST_MAX ? n_fs : DM_TC_LIST_MAX;
	pos = dm_tc_find_ours(fs, n_fs, ifc->tc_prio[egress], ours);
	*missing = pos < 0;
	if (pos < 0)
		pos = n_fs;
	for (i = 0; i < pos && k < DM_TC_LIST_MAX; i++) {
		/* One classifier of another kind lists its nodes (u32: hash tables, keys). */
		if (k && strcmp(fs[i].kind, "bpf") && !strcmp(fs[i].kind, out[k - 1].kind) &&
		    fs[i].prio == out[k - 1].prio)
			continue;
		out[k++] = fs[i];
	}
	return k;
}

/* Which programs are ahead, as one number: a change is worth a new warning. */
static __u32 signature(const struct dm_tc_filter *fs, int n)
{
	__u32 h = 2166136261u, v[3];
	const unsigned char *p;
	size_t j;
	int i;

	for (i = 0; i < n; i++) {
		v[0] = fs[i].prio;
		v[1] = fs[i].handle;
		v[2] = fs[i].prog_id;
		for (p = (const unsigned char *)v, j = 0; j < sizeof(v); j++)
			h = (h ^ p[j]) * 16777619u;
		for (p = (const unsigned char *)fs[i].kind; *p; p++)
			h = (h ^ *p) * 16777619u;
	}
	return h;
}

static void warn_ahead(const struct dm_iface *ifc, int egress, const struct dm_tc_filter *fs, int n)
{
	bool tcx = ifc->tc_link[egress] >= 0;
	char list[1024], one[160];
	size_t used = 0;
	int i;

	list[0] = 0;
	for (i = 0; i < n && used < sizeof(list) - 1; i++) {
		dm_tc_describe(&fs[i], one, sizeof(one));
		used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? "; " : "", one);
	}
	pr_warn("%s: %s: %d program%s run%s ahead of dicomon's %s: %s. A verdict other than "
		"\"continue\" (TC_ACT_UNSPEC, TCX_NEXT) from %s hides packets from dicomon; %s\n",
		ifc->name, dm_att_name(DM_ATT_TC_INGRESS + egress), n, n == 1 ? "" : "s",
		n == 1 ? "s" : "", tcx ? "tcx program" : "clsact filter", list,
		n == 1 ? "it" : "any of them",
		tcx ? "fix: detach it, or restart dicomon (it attaches in front of every tcx "
		      "program)"
		    : "fix: use tcx (Linux 6.6+, attach.tc_mode tcx), or remove that filter or "
		      "re-add it at a priority above 1");
}

void dm_tcorder_check(struct dm_iface *ifc, int egress)
{
	struct dm_tc_order *o = &ifc->tc_order[egress];
	const char *hook = dm_att_name(DM_ATT_TC_INGRESS + egress);
	struct dm_tc_filter fs[DM_TC_LIST_MAX];
	char ifname[IF_NAMESIZE];
	bool missing;
	__u32 sig;
	int n;

	if (!dm_loader_tc_kind(ifc, egress) || !if_indextoname(ifc->ifindex, ifname))
		return; /* not attached there, or the interface is gone */
	n = list_ahead(ifc, egress, fs, &missing);
	if (n < 0) {
		if (!o->failed)
			pr_warn("%s: %s: cannot list the programs on the hook: %s\n", ifc->name,
				hook, strerror(-n));
		o->failed = true;
		return;
	}
	o->failed = false;
	if (missing && !o->missing)
		pr_warn("%s: %s: dicomon's %s is not on the hook any more (removed by someone "
			"else?); dicomon sees nothing there until restarted\n",
			ifc->name, hook,
			ifc->tc_link[egress] >= 0 ? "tcx program" : "clsact filter");
	o->missing = missing;
	sig = signature(fs, n);
	if (n && (n != o->ahead || sig != o->sig))
		warn_ahead(ifc, egress, fs, n);
	else if (!n && o->ahead)
		pr_info("%s: %s: nothing runs ahead of dicomon's program any more\n", ifc->name,
			hook);
	o->ahead = n;
	o->sig = sig;
}

void dm_tcorder_check_all(struct dm_loader *l)
{
	int i, d;

	for (i = 0; i < l->n_ifaces; i++)
		for (d = 0; d < 2; d++)
			dm_tcorder_check(&l->ifaces[i], d);
}
