// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The attachments' Prometheus samples, read at each scrape: the run count
 * and time of each attached program, what runs ahead of dicomon on its TC
 * hooks (tcorder.c), and the fallbacks in effect per interface.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "output/attach_metrics.h"
#include "output/metrics.h"

void dm_attach_tc_ahead(struct dm_expo *e, const struct dm_loader *l)
{
	const struct dm_iface *ifc;
	const char *lv[2];
	int i, d;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		for (d = 0; d < 2; d++) {
			if (!dm_loader_tc_kind(ifc, d))
				continue;
			lv[0] = ifc->name;
			lv[1] = dm_att_name(DM_ATT_TC_INGRESS + d);
			dm_expo_i64(e, lv, ifc->tc_order[d].ahead);
		}
	}
}

/*
 * What a fallback costs in visibility, per interface (1 = in effect): XDP
 * that cannot see VLAN tags the NIC strips, generic (skb) XDP where native
 * was wanted, TC on a clsact filter where tcx is missing (other filters may
 * run first: dicomon_tc_programs_ahead says whether any does).
 */
void dm_attach_fallbacks(struct dm_expo *e, const struct dm_loader *l)
{
	const struct dm_iface *ifc;
	const char *lv[2];
	int i;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		lv[0] = ifc->name;
		lv[1] = "xdp_vlan_tags_hidden";
		dm_expo_i64(e, lv, ifc->xdp_link >= 0 && ifc->vlan_hidden);
		lv[1] = "xdp_generic";
		dm_expo_i64(e, lv,
			    ifc->xdp_link >= 0 && ifc->want.xdp_mode != DM_XDP_GENERIC &&
				ifc->xdp_mode && !strcmp(ifc->xdp_mode, dm_xdp_mode_names[DM_XDP_GENERIC]));
		lv[1] = "tc_clsact";
		dm_expo_i64(e, lv,
			    l->tc_mode != DM_TC_CLSACT && (ifc->tc_legacy[0] || ifc->tc_legacy[1]));
	}
}

/*
 * Every hook the configuration wants, attached or not: one that failed to
 * re-attach on a reload is 0 too (prog_fd -1), not a missing series.
 */
void dm_attach_hooks(struct dm_expo *e, const struct dm_loader *l)
{
	const struct dm_iface *ifc;
	const char *lv[2];
	bool want[DM_ATT_MAX];
	int i, a;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		want[DM_ATT_XDP] = ifc->want.xdp_mode != DM_XDP_OFF;
		want[DM_ATT_TC_INGRESS] = ifc->want.tc_ingress;
		want[DM_ATT_TC_EGRESS] = ifc->want.tc_egress;
		lv[0] = ifc->name;
		for (a = 0; a < DM_ATT_MAX; a++) {
			if (!want[a])
				continue;
			lv[1] = dm_att_name(a);
			dm_expo_i64(e, lv, ifc->prog_fd[a] >= 0 && ifc->hook_ok[a]);
		}
	}
}

void dm_attach_last_packet(struct dm_expo *e, const struct dm_loader *l)
{
	const char *lv[1];
	int i;

	for (i = 0; i < l->n_ifaces; i++) {
		lv[0] = l->ifaces[i].name;
		dm_expo_f64(e, lv, l->ifaces[i].last_packet_s, 3);
	}
}

int dm_attach_bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int on = 0;

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	return on ? 1 : 0;
}

int dm_attach_prog_runs(const struct dm_loader *l, struct dm_prog_run *out, int max)
{
	struct bpf_prog_info info;
	__u32 len;
	int i, a, j, n = 0;

	for (i = 0; i < l->n_ifaces; i++)
		for (a = 0; a < DM_ATT_MAX; a++) {
			if (l->ifaces[i].prog_fd[a] < 0 || n == max)
				continue;
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			if (bpf_obj_get_info_by_fd(l->ifaces[i].prog_fd[a], &info, &len))
				continue;
			for (j = 0; j < n && out[j].id != info.id; j++)
				;
			if (j < n)
				continue;
			snprintf(out[n].name, sizeof(out[n].name), "%s", info.name);
			out[n].id = info.id;
			out[n].runs = info.run_cnt;
			out[n++].run_ns = info.run_time_ns;
		}
	return n;
}

void dm_attach_runs(struct dm_expo *e, const struct dm_prog_run *r, int n, bool seconds)
{
	const char *lv[2];
	char id[16];
	int j;

	for (j = 0; j < n; j++) {
		snprintf(id, sizeof(id), "%u", r[j].id);
		lv[0] = r[j].name;
		lv[1] = id;
		if (seconds)
			dm_expo_f64(e, lv, (double)r[j].run_ns / 1e9, 9);
		else
			dm_expo_u64(e, lv, r[j].runs);
	}
}
