// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Lifecycle of the BPF side: open the skeleton, write the read-only config
 * and map sizes, load, then attach through links so dicomon coexists with
 * other XDP and TC programs on the same interfaces.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dicomon.h"
#include "dicomon.skel.h"
#include "loader.h"
#include "log.h"

/* Newer than the uapi headers of Debian 12; the values are ABI. */
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif
#define DM_BPF_TCX_INGRESS 46
#define DM_BPF_TCX_EGRESS  47

static void iface_reset(struct dm_iface *i)
{
	memset(i, 0, sizeof(*i));
	i->xdp_link = -1;
	i->tc_link[0] = i->tc_link[1] = -1;
}

static int configure(struct dicomon_bpf *skel, const struct dm_config *cfg)
{
	int err;

	dm_config_to_bpf(cfg, (struct dm_bpf_config *)&skel->rodata->cfg);
	skel->data->next_assoc_id = ((__u64)time(NULL) << 20) | 1;
	err = bpf_map__set_max_entries(skel->maps.dm_flows, cfg->flow_slots);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dm_overflow, cfg->overflow_entries);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dm_events, cfg->ringbuf_bytes);
	if (err)
		pr_warn("cannot size maps: %s\n", strerror(-err));
	return err;
}

int dm_loader_load(struct dm_loader *l, const struct dm_config *cfg)
{
	int err, i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < DM_MAX_IFACES - 1; i++)
		iface_reset(&l->ifaces[i]);
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		pr_warn("cannot count possible CPUs: %s\n", strerror(-l->ncpus));
		return l->ncpus ? l->ncpus : -EINVAL;
	}
	l->skel = dicomon_bpf__open();
	if (!l->skel) {
		err = -errno;
		pr_warn("cannot open BPF object: %s\n", strerror(errno));
		return err;
	}
	/* The device-bound copy is loaded per interface in attach_xdp_meta(). */
	bpf_program__set_autoload(l->skel->progs.dicomon_xdp_meta, false);
	err = configure(l->skel, cfg);
	if (err)
		goto err_close;
	err = dicomon_bpf__load(l->skel);
	if (err) {
		pr_warn("cannot load BPF programs (run with -vv for the verifier log): %s\n",
			strerror(-err));
		goto err_close;
	}
	return 0;
err_close:
	dicomon_bpf__destroy(l->skel);
	l->skel = NULL;
	return err;
}

static int set_ifslot(struct dm_loader *l, struct dm_iface *ifc)
{
	struct dm_ifslot v = {.ifindex = ifc->ifindex, .slot = ifc->slot}, old;
	__u32 k = ifc->ifindex & (DM_IFSLOT_HASH - 1);
	int fd = bpf_map__fd(l->skel->maps.dm_ifslots);

	if (!bpf_map_lookup_elem(fd, &k, &old) && old.ifindex && old.ifindex != v.ifindex) {
		pr_warn(
		    "%s: ifindex %d shares a counter slot with ifindex %u; counted as 'other'\n",
		    ifc->name, ifc->ifindex, old.ifindex);
		ifc->slot = 0;
		return 0;
	}
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

/*
 * A device-bound copy of the XDP program may ask the driver for the VLAN tag
 * that RX offload stripped. It shares every map with the main object.
 */
static int attach_xdp_meta(struct dm_loader *l, struct dm_iface *ifc, const struct dm_config *cfg,
			   __u32 flags)
{
	struct dicomon_bpf *m;
	struct bpf_program *prog;
	struct bpf_map *map, *mine;
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int err, fd;

	m = dicomon_bpf__open();
	if (!m)
		return -errno;
	bpf_object__for_each_program(prog, m->obj)
	    bpf_program__set_autoload(prog, prog == m->progs.dicomon_xdp_meta);
	/* Sizes first: a map that reuses an fd can no longer be resized. */
	err = configure(m, cfg);
	if (err)
		goto err_destroy;
	bpf_object__for_each_map(map, m->obj)
	{
		mine = bpf_object__find_map_by_name(l->skel->obj, bpf_map__name(map));
		err = mine ? bpf_map__reuse_fd(map, bpf_map__fd(mine)) : -ENOENT;
		if (err)
			goto err_destroy;
	}
	bpf_program__set_ifindex(m->progs.dicomon_xdp_meta, ifc->ifindex);
	bpf_program__set_flags(m->progs.dicomon_xdp_meta,
			       bpf_program__flags(m->progs.dicomon_xdp_meta) |
				   BPF_F_XDP_DEV_BOUND_ONLY);
	err = dicomon_bpf__load(m);
	if (err)
		goto err_destroy;
	fd = bpf_link_create(bpf_program__fd(m->progs.dicomon_xdp_meta), ifc->ifindex, BPF_XDP,
			     &opts);
	if (fd < 0) {
		err = -errno;
		goto err_destroy;
	}
	ifc->meta = m;
	ifc->xdp_link = fd;
	return 0;
err_destroy:
	dicomon_bpf__destroy(m);
	return err;
}

static int attach_xdp(struct dm_loader *l, struct dm_iface *ifc, const struct dm_config *cfg)
{
	int prog = bpf_program__fd(l->skel->progs.dicomon_xdp);
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int err = 0;

	if (cfg->xdp_mode != DM_XDP_GENERIC) {
		if (cfg->vlan_meta) {
			err = attach_xdp_meta(l, ifc, cfg, XDP_FLAGS_DRV_MODE);
			if (!err) {
				ifc->xdp_mode = "native";
				pr_info("%s: XDP attached (native, with RX VLAN metadata)\n",
					ifc->name);
				return 0;
			}
			pr_info(
			    "%s: no RX VLAN metadata from this driver (%s); in-packet tags only\n",
			    ifc->name, strerror(-err));
		}
		opts.flags = XDP_FLAGS_DRV_MODE;
		ifc->xdp_link = bpf_link_create(prog, ifc->ifindex, BPF_XDP, &opts);
		if (ifc->xdp_link >= 0) {
			ifc->xdp_mode = "native";
			pr_info("%s: XDP attached (native)\n", ifc->name);
			return 0;
		}
		err = -errno;
		if (cfg->xdp_mode == DM_XDP_NATIVE) {
			pr_warn("%s: native XDP attach failed: %s\n", ifc->name, strerror(-err));
			return err;
		}
		pr_warn("%s: native XDP unavailable (%s), falling back to generic (skb) mode\n",
			ifc->name, strerror(-err));
	}
	opts.flags = XDP_FLAGS_SKB_MODE;
	ifc->xdp_link = bpf_link_create(prog, ifc->ifindex, BPF_XDP, &opts);
	if (ifc->xdp_link < 0) {
		err = -errno;
		pr_warn("%s: XDP attach failed: %s\n", ifc->name, strerror(-err));
		return err;
	}
	ifc->xdp_mode = "generic";
	pr_info("%s: XDP attached (generic)\n", ifc->name);
	return 0;
}

/* tcx links where the kernel has them (6.6+), a clsact filter otherwise. */
static int attach_tc(struct dm_loader *l, struct dm_iface *ifc, int egress)
{
	struct bpf_program *p =
	    egress ? l->skel->progs.dicomon_tc_egress : l->skel->progs.dicomon_tc_ingress;
	const char *where = egress ? "egress" : "ingress";
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, topts, .prog_fd = bpf_program__fd(p));
	int err;

	ifc->tc_link[egress] =
	    bpf_link_create(bpf_program__fd(p), ifc->ifindex,
			    egress ? DM_BPF_TCX_EGRESS : DM_BPF_TCX_INGRESS, NULL);
	if (ifc->tc_link[egress] >= 0) {
		pr_info("%s: TC %s attached (tcx)\n", ifc->name, where);
		return 0;
	}
	pr_info("%s: tcx unavailable (%s), using clsact\n", ifc->name, strerror(errno));
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("%s: cannot create clsact qdisc: %s\n", ifc->name, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &topts);
	if (err) {
		pr_warn("%s: TC %s attach failed: %s\n", ifc->name, where, strerror(-err));
		return err;
	}
	ifc->tc_legacy[egress] = true;
	ifc->tc_handle[egress] = topts.handle;
	ifc->tc_prio[egress] = topts.priority;
	pr_info("%s: TC %s attached (clsact)\n", ifc->name, where);
	return 0;
}

int dm_loader_attach(struct dm_loader *l, const struct dm_config *cfg)
{
	struct dm_iface *ifc;
	int i, err;

	for (i = 0; i < cfg->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		iface_reset(ifc);
		snprintf(ifc->name, sizeof(ifc->name), "%s", cfg->ifaces[i]);
		ifc->ifindex = if_nametoindex(cfg->ifaces[i]);
		if (!ifc->ifindex) {
			err = -errno;
			pr_warn("%s: no such interface: %s\n", cfg->ifaces[i], strerror(errno));
			goto err_detach;
		}
		ifc->slot = i + 1;
		l->n_ifaces = i + 1;
		err = set_ifslot(l, ifc);
		if (!err && cfg->xdp_mode != DM_XDP_OFF)
			err = attach_xdp(l, ifc, cfg);
		if (!err && cfg->tc_ingress)
			err = attach_tc(l, ifc, 0);
		if (!err && cfg->tc_egress)
			err = attach_tc(l, ifc, 1);
		if (err)
			goto err_detach;
	}
	return 0;
err_detach:
	dm_loader_detach(l);
	return err;
}

void dm_loader_detach(struct dm_loader *l)
{
	struct dm_iface *ifc;
	int i, d;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		if (ifc->xdp_link >= 0)
			close(ifc->xdp_link);
		for (d = 0; d < 2; d++) {
			if (ifc->tc_link[d] >= 0)
				close(ifc->tc_link[d]);
			if (ifc->tc_legacy[d]) {
				LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
					    .attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS);
				LIBBPF_OPTS(bpf_tc_opts, topts, .handle = ifc->tc_handle[d],
					    .priority = ifc->tc_prio[d]);
				/* Our filter only: the clsact qdisc may hold other users' filters.
				 */
				if (bpf_tc_detach(&hook, &topts))
					pr_warn("%s: TC detach failed\n", ifc->name);
			}
		}
		if (ifc->meta)
			dicomon_bpf__destroy(ifc->meta);
		pr_info("%s: detached\n", ifc->name);
		iface_reset(ifc);
	}
	l->n_ifaces = 0;
}

void dm_loader_close(struct dm_loader *l)
{
	dm_loader_detach(l);
	dicomon_bpf__destroy(l->skel);
	l->skel = NULL;
}

int dm_loader_events_fd(const struct dm_loader *l)
{
	return bpf_map__fd(l->skel->maps.dm_events);
}

int dm_loader_stats_fd(const struct dm_loader *l)
{
	return bpf_map__fd(l->skel->maps.dm_stats);
}

int dm_loader_flows_fd(const struct dm_loader *l)
{
	return bpf_map__fd(l->skel->maps.dm_flows);
}

int dm_loader_prog_fd(const struct dm_loader *l, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(l->skel->obj, name);

	return p ? bpf_program__fd(p) : -ENOENT;
}

const char *dm_loader_ifname(const struct dm_loader *l, unsigned int ifindex)
{
	int i;

	for (i = 0; i < l->n_ifaces; i++)
		if ((unsigned int)l->ifaces[i].ifindex == ifindex)
			return l->ifaces[i].name;
	return "?";
}

int dm_stats_read(int map_fd, int ncpus, int slot, struct dm_stats *out)
{
	const size_t words = sizeof(struct dm_stats) / sizeof(__u64);
	__u32 k, first = slot < 0 ? 0 : slot, last = slot < 0 ? DM_MAX_IFACES - 1 : slot;
	__u64 *vals, *o = (__u64 *)out;
	size_t c, w;
	int err = 0;

	_Static_assert(sizeof(struct dm_stats) % sizeof(__u64) == 0, "dm_stats is all u64");
	memset(out, 0, sizeof(*out));
	vals = calloc(ncpus, sizeof(struct dm_stats));
	if (!vals)
		return -ENOMEM;
	for (k = first; k <= last; k++) {
		if (bpf_map_lookup_elem(map_fd, &k, vals)) {
			err = -errno;
			break;
		}
		for (c = 0; c < (size_t)ncpus; c++)
			for (w = 0; w < words; w++)
				o[w] += vals[c * words + w];
	}
	free(vals);
	return err;
}
