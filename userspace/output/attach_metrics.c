// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The Prometheus families of the attachments, written at each scrape: the
 * run count and time of each attached program, what runs ahead of dicomon on
 * its TC hooks (tcorder.c), and the fallbacks in effect per interface.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "output/attach_metrics.h"
#include "kern/loader.h"
#include "output/metrics.h"
#include "kern/tcorder.h"

/*
 * What a fallback costs in visibility, per interface (1 = in effect): XDP
 * that cannot see VLAN tags the NIC strips, generic (skb) XDP where native
 * was wanted, TC on a clsact filter where tcx is missing (other filters may
 * run first: dicomon_tc_programs_ahead says whether any does).
 */
static void write_fallbacks(FILE *out, const struct dm_loader *l)
{
	const struct dm_iface *ifc;
	int i;

	dm_metrics_head(out, "fallback_active", "gauge",
			"Fallbacks in effect on an interface (1): xdp_vlan_tags_hidden, "
			"xdp_generic, tc_clsact.");
	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		fprintf(out,
			"dicomon_fallback_active{interface=\"%s\",fallback=\"xdp_vlan_tags_hidden\"} "
			"%d\n",
			ifc->name, ifc->xdp_link >= 0 && ifc->vlan_hidden);
		fprintf(out,
			"dicomon_fallback_active{interface=\"%s\",fallback=\"xdp_generic\"} %d\n",
			ifc->name,
			ifc->xdp_link >= 0 && ifc->want.xdp_mode != DM_XDP_GENERIC && ifc->xdp_mode &&
			    !strcmp(ifc->xdp_mode, dm_xdp_mode_names[DM_XDP_GENERIC]));
		fprintf(out,
			"dicomon_fallback_active{interface=\"%s\",fallback=\"tc_clsact\"} %d\n",
			ifc->name, l->tc_mode != DM_TC_CLSACT && (ifc->tc_legacy[0] || ifc->tc_legacy[1]));
	}
}

/* Run count and time of each program attached (kernel.bpf_stats_enabled=1 fills them). */
static void write_prog_stats(FILE *out, const struct dm_loader *l)
{
	struct bpf_prog_info info, info_of[DM_MAX_IFACES * DM_ATT_MAX];
	__u32 len;
	int i, a, j, n = 0, on = 0;
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	fprintf(out,
		"# HELP dicomon_bpf_stats_enabled Whether the kernel counts BPF run time "
		"(sysctl kernel.bpf_stats_enabled).\n# TYPE dicomon_bpf_stats_enabled gauge\n"
		"dicomon_bpf_stats_enabled %d\n",
		on ? 1 : 0);
	for (i = 0; i < l->n_ifaces; i++)
		for (a = 0; a < DM_ATT_MAX; a++) {
			if (l->ifaces[i].prog_fd[a] < 0 ||
			    n == (int)(sizeof(info_of) / sizeof(info_of[0])))
				continue;
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			if (bpf_obj_get_info_by_fd(l->ifaces[i].prog_fd[a], &info, &len))
				continue;
			for (j = 0; j < n && info_of[j].id != info.id; j++)
				;
			if (j == n)
				info_of[n++] = info;
		}
	fprintf(out, "# HELP dicomon_bpf_program_runs_total Runs of each attached program "
		     "(counted while kernel.bpf_stats_enabled is 1).\n"
		     "# TYPE dicomon_bpf_program_runs_total counter\n");
	for (j = 0; j < n; j++)
		fprintf(out, "dicomon_bpf_program_runs_total{program=\"%s\",id=\"%u\"} %llu\n",
			info_of[j].name, info_of[j].id, (unsigned long long)info_of[j].run_cnt);
	fprintf(out, "# HELP dicomon_bpf_program_run_seconds_total Time spent in each attached "
		     "program (counted while kernel.bpf_stats_enabled is 1).\n"
		     "# TYPE dicomon_bpf_program_run_seconds_total counter\n");
	for (j = 0; j < n; j++)
		fprintf(out,
			"dicomon_bpf_program_run_seconds_total{program=\"%s\",id=\"%u\"} %.9f\n",
			info_of[j].name, info_of[j].id, (double)info_of[j].run_time_ns / 1e9);
}

void dm_attach_write_metrics(FILE *out, const struct dm_loader *l)
{
	dm_tcorder_write_metrics(out, l);
	write_prog_stats(out, l);
	write_fallbacks(out, l);
}
