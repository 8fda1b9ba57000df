/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_LOADER_H
#define __DM_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include "config.h"
#include "dicomon.h"

struct dicomon_bpf;
struct bpf_tc_hook;

struct dm_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int slot;		  /* dm_stats index */
	int xdp_link;		  /* bpf_link fd or -1 */
	const char *xdp_mode;	  /* "native" / "generic" once attached */
	struct dicomon_bpf *meta; /* device-bound copy, if the driver took it */
	int tc_link[2];		  /* tcx links (ingress, egress) or -1 */
	bool tc_legacy[2];	  /* clsact filter attached instead of tcx */
	unsigned int tc_handle[2], tc_prio[2];
};

struct dm_loader {
	struct dicomon_bpf *skel;
	struct dm_iface ifaces[DM_MAX_IFACES - 1];
	int n_ifaces;
	int ncpus;
};

/* open -> set rodata and map sizes -> load. No attachment. */
int dm_loader_load(struct dm_loader *l, const struct dm_config *cfg);
/* Attach to every interface in cfg, as cfg says (XDP, TC ingress/egress). */
int dm_loader_attach(struct dm_loader *l, const struct dm_config *cfg);
void dm_loader_detach(struct dm_loader *l);
void dm_loader_close(struct dm_loader *l);

int dm_loader_events_fd(const struct dm_loader *l);
int dm_loader_stats_fd(const struct dm_loader *l);
int dm_loader_flows_fd(const struct dm_loader *l);
int dm_loader_prog_fd(const struct dm_loader *l, const char *name);
/* Interface name for an ifindex seen in an event ("?" if not ours). */
const char *dm_loader_ifname(const struct dm_loader *l, unsigned int ifindex);

/* Sum one dm_stats slot (or all slots with slot < 0) over the CPUs. */
int dm_stats_read(int map_fd, int ncpus, int slot, struct dm_stats *out);

#endif /* __DM_LOADER_H */
