// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * One interface's attachments: XDP through a bpf_link (native, falling back
 * to generic; the device-bound copy where the driver reports stripped VLAN
 * tags), TC through tcx links (6.6+) or a clsact filter.
 *
 * With a pin root, links are pinned as link:HOOK:IFACE: a daemon that dies
 * leaves them attached and counting, and the next start takes them over with
 * bpf_link_update() instead of failing with EBUSY. A clsact filter survives
 * the daemon anyway; the program in it is pinned as clsact:HOOK:IFACE so a
 * restart or `dicomon detach` knows the filter is ours.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dicomon.h"
#include "dicomon.skel.h"
#include "dicomon_meta.skel.h"
#include "kern/loader.h"
#include "lib/log.h"
#include "kern/netdev.h"
#include "kern/takeover.h"
#include "kern/tcorder.h"
#include "kern/tcwatch.h"

#define DM_BPF_TCX_INGRESS 46
#define DM_BPF_TCX_EGRESS  47
#define DM_BPF_F_BEFORE	   (1U << 3) /* tcx: in front of relative_fd, or of all if 0 */

void dm_iface_reset(struct dm_iface *i)
{
	int a;

	memset(i, 0, sizeof(*i));
	i->xdp_link = -1;
	i->tc_link[0] = i->tc_link[1] = -1;
	for (a = 0; a < DM_ATT_MAX; a++)
		i->prog_fd[a] = -1;
}

static bool pinning(const struct dm_loader *l)
{
	return l->pin_root[0];
}

static int att_path(const struct dm_loader *l, const struct dm_iface *ifc, int att, bool clsact,
		    char *path, size_t len)
{
	char name[64];

	dm_pin_att_name(name, sizeof(name), clsact, att, ifc->name);
	return dm_pin_path(path, len, l->pin_root, name);
}

/* Pin what must outlive us: links if pin_links, clsact programs always (ownership). */
static void pin_att(struct dm_loader *l, struct dm_iface *ifc, int att, bool clsact, int fd)
{
	char name[64];
	int err;

	if (!pinning(l) || (!clsact && !l->pin_links))
		return;
	dm_pin_att_name(name, sizeof(name), clsact, att, ifc->name);
	err = dm_pin_replace(fd, l->pin_root, name);
	if (err)
		pr_warn("%s: cannot pin %s/%s: %s; it will not outlive the daemon\n", ifc->name,
			l->pin_root, name, strerror(-err));
}

static void unpin_att(struct dm_loader *l, struct dm_iface *ifc, int att, bool clsact)
{
	char path[PATH_MAX];

	if (pinning(l) && !att_path(l, ifc, att, clsact, path, sizeof(path)) && unlink(path) &&
	    errno != ENOENT)
		pr_warn("cannot remove pin %s: %s\n", path, strerror(errno));
}

/* A link an earlier run pinned for this attachment point, if it still fits. */
static int pinned_link(struct dm_loader *l, struct dm_iface *ifc, int att)
{
	__u32 type = att == DM_ATT_XDP ? DM_LINK_TYPE_XDP : DM_LINK_TYPE_TCX;
	__u32 at = att == DM_ATT_TC_EGRESS ? DM_BPF_TCX_EGRESS : DM_BPF_TCX_INGRESS;
	struct dm_link_info info;
	char path[PATH_MAX];
	int fd;

	if (!pinning(l) || att_path(l, ifc, att, false, path, sizeof(path)))
		return -ENOENT;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	if (!dm_link_info(fd, &info) && info.type == type &&
	    info.net.ifindex == (__u32)ifc->ifindex &&
	    (att == DM_ATT_XDP || info.net.attach_type == at))
		return fd;
	pr_info("%s: pinned %s link %u is for ifindex %u (type %u), not this interface; "
		"replacing it\n",
		ifc->name, dm_att_name(att), info.id, info.net.ifindex, info.type);
	bpf_link_detach(fd);
	close(fd);
	unlink(path);
	return -ENOENT;
}

static void adopted(struct dm_loader *l, struct dm_iface *ifc, int att, int fd)
{
	struct dm_link_info info = {0};

	dm_link_info(fd, &info);
	ifc->adopted[att] = true;
	pr_info("%s: %s taken over from the previous run (link %u, updated in place)\n", ifc->name,
		dm_att_name(att), info.id);
	if (!l->pin_links)
		unpin_att(l, ifc, att, false);
	else
		pin_att(l, ifc, att, false, fd); /* found without a pin: pinned from now */
}

static const char *xdp_mode_of(int ifindex, __u32 prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return NULL;
	if (q.drv_prog_id == prog_id)
		return dm_xdp_mode_names[DM_XDP_NATIVE];
	if (q.skb_prog_id == prog_id)
		return dm_xdp_mode_names[DM_XDP_GENERIC];
	return NULL;
}

/*
 * Why XDP on ifc will not get the device-bound copy that reads VLAN tags
 * stripped by the NIC; NULL if it should (native mode, the kernel has the
 * kfunc, and the driver provides the tag or does not say).
 */
static const char *meta_unwanted(const struct dm_iface *ifc, bool native)
{
	if (!ifc->want.vlan_meta)
		return "attach.vlan_meta is false";
	if (!native)
		return "generic XDP mode";
	if (!dm_kernel_has_vlan_kfunc())
		return "this kernel has no bpf_xdp_metadata_rx_vlan_tag (6.8+)";
	if (dm_netdev_xdp_rx_vlan(ifc->ifindex) == 0)
		return "the driver does not give XDP the tag it strips";
	return NULL;
}

/*
 * Say once per attachment what XDP sees of VLAN tags on ifc. Where the NIC
 * strips them (RX VLAN offload) and XDP cannot ask for them, associations are
 * keyed without those VLAN ids: a warning, and a metric (vlan_hidden).
 */
static void vlan_report(struct dm_iface *ifc)
{
	int rx;

	ifc->vlan_hidden = false;
	if (ifc->meta) {
		ifc->vlan_why = NULL;
		return;
	}
	rx = dm_netdev_rxvlan_offload(ifc->name);
	ifc->vlan_hidden = rx == 1;
	if (ifc->vlan_hidden)
		pr_warn("%s: the NIC strips VLAN tags (rxvlan on) and XDP cannot read them (%s): "
			"its associations are keyed without those VLAN ids. Turn offload off "
			"(ethtool -K %s rxvlan off) or watch it with TC (xdp_mode off, tc_ingress)\n",
			ifc->name, ifc->vlan_why, ifc->name);
	else
		pr_info("%s: XDP reads the VLAN tags in the packet (%s; rxvlan %s)\n", ifc->name,
			ifc->vlan_why, rx == 0 ? "off" : "unknown");
}

/*
 * A device-bound copy of skel's XDP program for ifc, or NULL with
 * ifc->vlan_why saying why not.
 */
static struct dicomon_meta_bpf *meta_for(struct dm_loader *l, struct dicomon_bpf *skel,
					 struct dm_iface *ifc, bool native)
{
	struct dicomon_meta_bpf *m;

	ifc->vlan_why = meta_unwanted(ifc, native);
	if (ifc->vlan_why)
		return NULL;
	/* A reload loads it off the daemon's loop beforehand (dm_reload_prepare). */
	m = dm_take_pre_meta(l, skel, ifc->ifindex);
	if (!m)
		m = dm_load_meta(skel, ifc->ifindex);
	if (!m)
		ifc->vlan_why = "the device-bound copy did not load";
	return m;
}

/*
 * Point ifc's XDP link at skel's program: the device-bound copy where the
 * interface runs native XDP and VLAN metadata is wanted, else the plain one.
 */
static int xdp_point(struct dm_loader *l, struct dicomon_bpf *skel, struct dm_iface *ifc,
		     struct dicomon_meta_bpf **meta, int *prog)
{
	struct dicomon_meta_bpf *m;
	int fd, err;

	*meta = NULL;
	m = meta_for(l, skel, ifc,
		     ifc->xdp_mode && !strcmp(ifc->xdp_mode, dm_xdp_mode_names[DM_XDP_NATIVE]));
	if (m) {
		fd = bpf_program__fd(m->progs.dicomon_xdp_meta);
		if (!bpf_link_update(ifc->xdp_link, fd, NULL)) {
			*meta = m;
			*prog = fd;
			return 0;
		}
		pr_info("%s: the device-bound XDP copy was refused (%s)\n", ifc->name,
			strerror(errno));
		ifc->vlan_why = "the driver refused the device-bound copy";
		dicomon_meta_bpf__destroy(m);
	}
	fd = dm_skel_prog_fd(skel, DM_ATT_XDP);
	err = bpf_link_update(ifc->xdp_link, fd, NULL);
	if (err)
		return err < 0 ? err : -errno;
	*prog = fd;
	return 0;
}

/* A dicomon program attached without a link (netlink): removed, that one program only. */
static int xdp_unlinked(struct dm_iface *ifc, __u32 id, const char *name)
{
	const char *mode = xdp_mode_of(ifc->ifindex, id);
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = bpf_prog_get_fd_by_id(id));
	__u32 flags = XDP_FLAGS_REPLACE; /* fails if another program took its place */

	flags |= mode && !strcmp(mode, dm_xdp_mode_names[DM_XDP_GENERIC]) ? XDP_FLAGS_SKB_MODE
									  : XDP_FLAGS_DRV_MODE;
	if (o.old_prog_fd >= 0 && !bpf_xdp_detach(ifc->ifindex, flags, &o))
		pr_info("%s: removed XDP program %u (%s) an earlier dicomon attached without a "
			"link\n",
			ifc->name, id, name);
	if (o.old_prog_fd >= 0)
		close(o.old_prog_fd);
	return -ENOENT;
}

/*
 * What holds ifc's XDP hook when no pin says: nothing (-ENOENT); the link of
 * a dicomon program a dead daemon left (its fd, to be taken over); or -EBUSY
 * with an error naming the program that is not ours.
 */
static int xdp_holder(struct dm_iface *ifc)
{
	__u32 id = dm_xdp_prog_on(ifc->ifindex);
	char name[16];
	int fd;

	if (!id)
		return -ENOENT;
	dm_prog_name(id, name);
	if (!dm_prog_name_is_dicomon(name)) {
		pr_err("%s: the XDP hook holds program %u (%s), which is not dicomon's: refusing "
		       "to attach next to it (XDP runs one program per interface). Remove it "
		       "(ip link set dev %s xdp off) or watch this interface with TC only "
		       "(xdp_mode off, tc_ingress and tc_egress on)\n",
		       ifc->name, id, name[0] ? name : "?", ifc->name);
		return -EBUSY;
	}
	fd = dm_link_find(DM_LINK_TYPE_XDP, ifc->ifindex, 0, id);
	if (fd >= 0) {
		pr_info("%s: XDP program %u (%s) of an earlier dicomon still attached without "
			"pins: taking its link over\n",
			ifc->name, id, name);
		return fd;
	}
	return xdp_unlinked(ifc, id, name);
}

/* Take over a pinned XDP link (or a dead dicomon's), if it is in a mode we want. */
static int xdp_adopt(struct dm_loader *l, struct dm_iface *ifc)
{
	enum dm_xdp_mode want = ifc->want.xdp_mode;
	struct dm_link_info info = {0};
	const char *mode;
	int fd, err;

	fd = pinned_link(l, ifc, DM_ATT_XDP);
	if (fd < 0)
		fd = xdp_holder(ifc);
	if (fd < 0)
		return fd;
	dm_link_info(fd, &info);
	mode = xdp_mode_of(ifc->ifindex, info.prog_id);
	if (dm_xdp_mode_fits(want, mode)) {
		ifc->xdp_link = fd;
		ifc->xdp_mode = mode;
		err = xdp_point(l, l->skel, ifc, &ifc->meta, &ifc->prog_fd[DM_ATT_XDP]);
		if (!err) {
			adopted(l, ifc, DM_ATT_XDP, fd);
			return 0;
		}
		pr_warn("%s: cannot update the pinned XDP link: %s; re-attaching\n", ifc->name,
			strerror(-err));
		ifc->xdp_link = -1;
		ifc->xdp_mode = NULL;
	} else {
		pr_info("%s: pinned XDP link runs in %s mode, %s wanted: re-attaching\n", ifc->name,
			mode ? mode : "no", dm_xdp_mode_names[want]);
	}
	bpf_link_detach(fd);
	close(fd);
	unpin_att(l, ifc, DM_ATT_XDP, false);
	return -ENOENT;
}

static int xdp_create(struct dm_loader *l, struct dm_iface *ifc, __u32 flags, const char *mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	struct dicomon_meta_bpf *m;
	int prog = dm_skel_prog_fd(l->skel, DM_ATT_XDP);

	m = meta_for(l, l->skel, ifc, flags == XDP_FLAGS_DRV_MODE);
	if (m) {
		ifc->xdp_link = bpf_link_create(bpf_program__fd(m->progs.dicomon_xdp_meta),
						ifc->ifindex, BPF_XDP, &opts);
		if (ifc->xdp_link >= 0) {
			ifc->meta = m;
			ifc->prog_fd[DM_ATT_XDP] = bpf_program__fd(m->progs.dicomon_xdp_meta);
			ifc->xdp_mode = mode;
			pr_info("%s: XDP attached (native, with RX VLAN metadata)\n", ifc->name);
			return 0;
		}
		pr_info("%s: the device-bound XDP copy was refused (%s)\n", ifc->name,
			strerror(errno));
		ifc->vlan_why = "the driver refused the device-bound copy";
		dicomon_meta_bpf__destroy(m);
	}
	ifc->xdp_link = bpf_link_create(prog, ifc->ifindex, BPF_XDP, &opts);
	if (ifc->xdp_link < 0)
		return -errno;
	ifc->prog_fd[DM_ATT_XDP] = prog;
	ifc->xdp_mode = mode;
	pr_info("%s: XDP attached (%s)\n", ifc->name, mode);
	return 0;
}

static int xdp_attach(struct dm_loader *l, struct dm_iface *ifc)
{
	enum dm_xdp_mode want = ifc->want.xdp_mode;
	int err = xdp_adopt(l, ifc);

	if (!err) {
		vlan_report(ifc);
		return 0;
	}
	if (err == -EBUSY)
		return err; /* a foreign program: said in xdp_holder() */
	err = -ENOENT;
	if (want != DM_XDP_GENERIC) {
		err = xdp_create(l, ifc, XDP_FLAGS_DRV_MODE, dm_xdp_mode_names[DM_XDP_NATIVE]);
		if (err && want == DM_XDP_NATIVE) {
			pr_err("%s: native XDP attach failed: %s\n", ifc->name, strerror(-err));
			return err;
		}
		if (err)
			pr_warn("%s: native XDP unavailable (%s), falling back to generic (skb) "
				"mode\n",
				ifc->name, strerror(-err));
	}
	if (err) {
		err = xdp_create(l, ifc, XDP_FLAGS_SKB_MODE, dm_xdp_mode_names[DM_XDP_GENERIC]);
		if (err) {
			pr_err("%s: XDP attach failed: %s\n", ifc->name, strerror(-err));
			return err;
		}
	}
	pin_att(l, ifc, DM_ATT_XDP, false, ifc->xdp_link);
	vlan_report(ifc);
	return 0;
}

/* Our filter (fixed handle) at priority prio running prog, created or replaced in place. */
static int clsact_put(struct bpf_tc_hook *hook, int prog, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_opts, topts, .prog_fd = prog, .handle = DM_TC_HANDLE, .priority = prio,
		    .flags = BPF_TC_F_REPLACE);

	/* Replace is atomic: packets see the old program or the new one. */
	return bpf_tc_attach(hook, &topts);
}

/* The program pinned as clsact:HOOK:IFACE (what our filter ran until now), or 0. */
static __u32 clsact_pinned_prog(struct dm_loader *l, struct dm_iface *ifc, int att)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (!pinning(l) || att_path(l, ifc, att, true, path, sizeof(path)))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/*
 * Create or replace our clsact filter running prog: priority 1, the first tc
 * runs; the old priority where the kernel refuses 1 (EINVAL: a classifier of
 * another kind or protocol holds it).
 */
static int clsact_set(struct dm_loader *l, struct dm_iface *ifc, int egress, int prog)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	bool at1 = ifc->tc_legacy[egress] && ifc->tc_prio[egress] == DM_TC_PRIO;
	__u32 prio = DM_TC_PRIO, pinned = clsact_pinned_prog(l, ifc, DM_ATT_TC_INGRESS + egress);
	char kind[16];
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("%s: cannot create clsact qdisc: %s\n", ifc->name, strerror(-err));
		return err;
	}
	err = clsact_put(&hook, prog, prio);
	if (err == -EINVAL && !at1) {
		dm_tc_prio_kind(ifc->ifindex, egress, DM_TC_PRIO, kind, sizeof(kind));
		pr_warn("%s: %s: priority %u refused (%s%s%s%s); using priority %#x, behind "
			"filters of lower priority: one that ends processing hides packets from "
			"dicomon\n",
			ifc->name, dm_att_name(DM_ATT_TC_INGRESS + egress), DM_TC_PRIO,
			strerror(-err), kind[0] ? ": a " : "", kind,
			kind[0] ? " filter holds it" : "", DM_TC_PRIO_OLD);
		prio = DM_TC_PRIO_OLD;
		err = clsact_put(&hook, prog, prio);
	} else if (!err) {
		dm_tc_drop_old(ifc->name, ifc->ifindex, egress, pinned);
	}
	if (err)
		return err;
	ifc->tc_legacy[egress] = true;
	ifc->tc_handle[egress] = DM_TC_HANDLE;
	ifc->tc_prio[egress] = prio;
	pin_att(l, ifc, DM_ATT_TC_INGRESS + egress, true, prog);
	return 0;
}

static bool clsact_pinned(struct dm_loader *l, struct dm_iface *ifc, int att)
{
	char path[PATH_MAX];

	return pinning(l) && !att_path(l, ifc, att, true, path, sizeof(path)) &&
	       !access(path, F_OK);
}

/* An earlier run's clsact filter, now that a tcx link does its work. */
static void remove_clsact_pin(struct dm_loader *l, struct dm_iface *ifc, int att)
{
	char name[64];

	dm_pin_att_name(name, sizeof(name), true, att, ifc->name);
	dm_pin_remove_att(l->pin_root, name);
}

/* A tcx link running prog in front of every tcx program on the hook. */
static int tcx_create(struct dm_iface *ifc, int egress, int prog)
{
	/* relative_fd 0: before all. libbpf 1.1 passes the flags through as they are. */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = DM_BPF_F_BEFORE);
	int fd = bpf_link_create(prog, ifc->ifindex,
				 egress ? DM_BPF_TCX_EGRESS : DM_BPF_TCX_INGRESS, &opts);

	return fd < 0 ? -errno : fd;
}

/*
 * A link taken over stays where it was on the hook (earlier versions appended
 * theirs): if a program runs ahead of it, a new link running prog goes in
 * front and the old one (still running the previous run's program: tcx takes
 * a program once per hook) is detached after, so no packet goes unseen.
 * Returns the new link, or fd if it stays.
 */
static int tcx_front(struct dm_loader *l, struct dm_iface *ifc, int egress, int fd, int prog)
{
	int att = DM_ATT_TC_INGRESS + egress, n, i, nfd;
	__u32 ids[DM_TC_LIST_MAX];
	struct dm_link_info info;

	n = dm_tcx_list(ifc->ifindex, egress, ids, DM_TC_LIST_MAX);
	if (n <= 0 || dm_link_info(fd, &info) || ids[0] == info.prog_id)
		return fd;
	for (i = 1; i < n && i < DM_TC_LIST_MAX && ids[i] != info.prog_id; i++)
		;
	nfd = tcx_create(ifc, egress, prog);
	if (nfd < 0) {
		pr_warn("%s: %s: cannot put a tcx link in front of the %d program(s) ahead: %s\n",
			ifc->name, dm_att_name(att), i, strerror(-nfd));
		return fd;
	}
	bpf_link_detach(fd);
	close(fd);
	pin_att(l, ifc, att, false, nfd);
	if (!l->pin_links)
		unpin_att(l, ifc, att, false);
	ifc->adopted[att] = true;
	pr_info("%s: %s: the previous run's tcx link replaced by one in front of the %d "
		"program(s) that ran ahead of it\n",
		ifc->name, dm_att_name(att), i);
	return nfd;
}

/*
 * The fallback to clsact, said once per process at warning level (it is a
 * property of the kernel), then per interface at info level.
 */
static void tcx_fallback_note(const struct dm_iface *ifc, int err)
{
	static bool said;

	if (!said)
		pr_warn("tcx links unavailable (%s; 6.6+): TC hooks use clsact filters at priority "
			"1, ahead of other filters; any that still runs first is reported\n",
			strerror(-err));
	said = true;
	pr_info("%s: tcx unavailable (%s), using clsact\n", ifc->name, strerror(-err));
}

/*
 * The tcx link of a dicomon program an earlier daemon left on the hook
 * without pins, to be taken over (else both would count every packet), or
 * -ENOENT. Further such links (more dead daemons) are detached.
 */
static int tcx_stale(struct dm_iface *ifc, int egress)
{
	__u32 ids[DM_TC_LIST_MAX], at = egress ? DM_BPF_TCX_EGRESS : DM_BPF_TCX_INGRESS;
	int n, i, fd, found = -ENOENT;
	char name[16];

	n = dm_tcx_list(ifc->ifindex, egress, ids, DM_TC_LIST_MAX);
	for (i = 0; i < n && i < DM_TC_LIST_MAX; i++) {
		dm_prog_name(ids[i], name);
		if (!dm_prog_name_is_dicomon(name))
			continue;
		fd = dm_link_find(DM_LINK_TYPE_TCX, ifc->ifindex, at, ids[i]);
		if (fd < 0)
			continue;
		if (found < 0) {
			pr_info("%s: %s: program %u (%s) of an earlier dicomon still attached "
				"without pins: taking its link over\n",
				ifc->name, dm_att_name(DM_ATT_TC_INGRESS + egress), ids[i], name);
			found = fd;
			continue;
		}
		pr_info("%s: %s: detaching program %u (%s) of another earlier dicomon\n",
			ifc->name, dm_att_name(DM_ATT_TC_INGRESS + egress), ids[i], name);
		bpf_link_detach(fd);
		close(fd);
	}
	return found;
}

/* tcx links where the kernel has them (6.6+), a clsact filter otherwise. */
static int tc_attach_hook(struct dm_loader *l, struct dm_iface *ifc, int egress)
{
	int att = DM_ATT_TC_INGRESS + egress, prog = dm_skel_prog_fd(l->skel, att), fd, nfd, err;
	const char *where = dm_att_name(att);
	bool had_clsact = clsact_pinned(l, ifc, att);

	if (l->tc_mode != DM_TC_CLSACT) {
		fd = pinned_link(l, ifc, att);
		if (fd < 0)
			fd = tcx_stale(ifc, egress);
		if (fd >= 0) {
			nfd = tcx_front(l, ifc, egress, fd, prog);
			err = nfd == fd ? bpf_link_update(fd, prog, NULL) : 0;
			if (!err) {
				ifc->tc_link[egress] = nfd;
				ifc->prog_fd[att] = prog;
				if (nfd == fd)
					adopted(l, ifc, att, fd);
				if (had_clsact)
					remove_clsact_pin(l, ifc, att);
				return 0;
			}
			pr_warn("%s: cannot update the pinned %s link: %s; re-attaching\n",
				ifc->name, where, strerror(-err));
			bpf_link_detach(fd);
			close(fd);
			unpin_att(l, ifc, att, false);
		}
	}
	/* auto keeps the clsact filter an earlier run left; tcx mode replaces it. */
	if (l->tc_mode == DM_TC_TCX || (l->tc_mode == DM_TC_AUTO && !had_clsact)) {
		err = tcx_create(ifc, egress, prog);
		if (err >= 0) {
			ifc->tc_link[egress] = err;
			ifc->prog_fd[att] = prog;
			pr_info("%s: %s attached (tcx, in front)\n", ifc->name, where);
			pin_att(l, ifc, att, false, ifc->tc_link[egress]);
			if (had_clsact)
				remove_clsact_pin(l, ifc, att);
			return 0;
		}
		if (l->tc_mode == DM_TC_TCX) {
			pr_err(
			    "%s: tcx attach failed (%s); tc_mode clsact works on older kernels\n",
			    ifc->name, strerror(-err));
			return err;
		}
		tcx_fallback_note(ifc, err);
	}
	err = clsact_set(l, ifc, egress, prog);
	if (err) {
		pr_err("%s: %s attach failed: %s\n", ifc->name, where, strerror(-err));
		return err;
	}
	ifc->prog_fd[att] = prog;
	ifc->adopted[att] = had_clsact;
	pr_info("%s: %s attached (clsact, priority %u%s)\n", ifc->name, where, ifc->tc_prio[egress],
		had_clsact ? ", replacing the previous run's filter" : "");
	return 0;
}

static int tc_attach(struct dm_loader *l, struct dm_iface *ifc, int egress)
{
	int err = tc_attach_hook(l, ifc, egress);

	if (!err)
		dm_tcorder_check(ifc, egress);
	return err;
}

/*
 * Keep an interface's counters in the same dm_stats slot across restarts: the
 * pinned dm_ifslots says which one it had; a new interface takes the lowest
 * free slot.
 */
static void set_ifslot(struct dm_loader *l, struct dm_iface *ifc)
{
	int fd = bpf_map__fd(l->skel->maps.dm_ifslots), i;
	__u32 k = ifc->ifindex & (DM_IFSLOT_HASH - 1), j;
	struct dm_ifslot v = {.ifindex = ifc->ifindex}, e;
	bool used[DM_MAX_IFACES] = {true};

	if (!bpf_map_lookup_elem(fd, &k, &e) && e.ifindex == v.ifindex && e.slot &&
	    e.slot < DM_MAX_IFACES) {
		ifc->slot = e.slot;
		return;
	}
	if (e.ifindex && e.ifindex != v.ifindex) {
		for (i = 0; i < l->n_ifaces; i++)
			if ((__u32)l->ifaces[i].ifindex == e.ifindex && l->ifaces[i].slot)
				break;
		if (i < l->n_ifaces) {
			pr_warn("%s: ifindex %d shares a counter slot with %s (ifindex %u); "
				"counted as 'other'\n",
				ifc->name, ifc->ifindex, l->ifaces[i].name, e.ifindex);
			ifc->slot = 0;
			return;
		}
	}
	for (j = 0; j < DM_IFSLOT_HASH; j++)
		if (!bpf_map_lookup_elem(fd, &j, &e) && e.slot < DM_MAX_IFACES && e.ifindex)
			used[e.slot] = true;
	for (i = 0; i < l->n_ifaces; i++)
		used[l->ifaces[i].slot] = true;
	for (i = 1; i < DM_MAX_IFACES && used[i]; i++)
		;
	if (i == DM_MAX_IFACES) {
		/* Every slot was used by some interface once: reuse one nobody has now. */
		for (i = 1; i < DM_MAX_IFACES; i++) {
			for (j = 0; j < (__u32)l->n_ifaces && l->ifaces[j].slot != i; j++)
				;
			if (j == (__u32)l->n_ifaces)
				break;
		}
		pr_warn("%s: all %d counter slots used; taking slot %d, whose counters carry "
			"over\n",
			ifc->name, DM_MAX_IFACES - 1, i);
	}
	v.slot = i < DM_MAX_IFACES ? i : 0;
	ifc->slot = v.slot;
	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
		pr_warn("%s: cannot set counter slot: %s\n", ifc->name, strerror(errno));
}

int dm_att_attach(struct dm_loader *l, struct dm_iface *ifc, int att)
{
	l->att_ops++;
	return att == DM_ATT_XDP ? xdp_attach(l, ifc) : tc_attach(l, ifc, att - DM_ATT_TC_INGRESS);
}

int dm_iface_attach(struct dm_loader *l, struct dm_iface *ifc)
{
	int err = 0;

	set_ifslot(l, ifc);
	if (ifc->want.xdp_mode != DM_XDP_OFF)
		err = dm_att_attach(l, ifc, DM_ATT_XDP);
	if (!err && ifc->want.tc_ingress)
		err = dm_att_attach(l, ifc, DM_ATT_TC_INGRESS);
	if (!err && ifc->want.tc_egress)
		err = dm_att_attach(l, ifc, DM_ATT_TC_EGRESS);
	if (err)
		dm_iface_detach(l, ifc, false);
	return err;
}

void dm_att_detach(struct dm_loader *l, struct dm_iface *ifc, int att, bool keep_pins)
{
	int d = att - DM_ATT_TC_INGRESS;

	if (att == DM_ATT_XDP ? ifc->xdp_link >= 0 : ifc->tc_link[d] >= 0 || ifc->tc_legacy[d])
		l->att_ops++;
	if (att == DM_ATT_XDP) {
		if (ifc->xdp_link >= 0) {
			if (!keep_pins) {
				unpin_att(l, ifc, att, false);
				bpf_link_detach(ifc->xdp_link);
			}
			close(ifc->xdp_link);
		}
		/* Its program lives on in the link if the link is pinned. */
		dicomon_meta_bpf__destroy(ifc->meta);
		ifc->meta = NULL;
		ifc->xdp_link = -1;
		ifc->xdp_mode = NULL;
	} else if (ifc->tc_link[d] >= 0) {
		if (!keep_pins) {
			unpin_att(l, ifc, att, false);
			bpf_link_detach(ifc->tc_link[d]);
		}
		close(ifc->tc_link[d]);
		ifc->tc_link[d] = -1;
	} else if (ifc->tc_legacy[d] && !keep_pins) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, topts, .handle = DM_TC_HANDLE,
			    .priority = ifc->tc_prio[d]);

		/* Our filter only: the clsact qdisc may hold other users' filters. */
		if (bpf_tc_detach(&hook, &topts))
			pr_warn("%s: TC %s detach failed\n", ifc->name, dm_att_name(att));
		unpin_att(l, ifc, att, true);
		ifc->tc_legacy[d] = false;
	}
	ifc->prog_fd[att] = -1;
	ifc->adopted[att] = false;
}

void dm_iface_repin(struct dm_loader *l, struct dm_iface *ifc)
{
	int d;

	if (ifc->xdp_link >= 0) {
		if (l->pin_links)
			pin_att(l, ifc, DM_ATT_XDP, false, ifc->xdp_link);
		else
			unpin_att(l, ifc, DM_ATT_XDP, false);
	}
	for (d = 0; d < 2; d++) {
		if (ifc->tc_link[d] < 0)
			continue;
		if (l->pin_links)
			pin_att(l, ifc, DM_ATT_TC_INGRESS + d, false, ifc->tc_link[d]);
		else
			unpin_att(l, ifc, DM_ATT_TC_INGRESS + d, false);
	}
}

bool dm_xdp_mode_fits(enum dm_xdp_mode want, const char *mode)
{
	return mode && !(want == DM_XDP_NATIVE && strcmp(mode, dm_xdp_mode_names[DM_XDP_NATIVE])) &&
	       !(want == DM_XDP_GENERIC && strcmp(mode, dm_xdp_mode_names[DM_XDP_GENERIC])) &&
	       want != DM_XDP_OFF;
}

void dm_iface_detach(struct dm_loader *l, struct dm_iface *ifc, bool keep_pins)
{
	int a;

	for (a = 0; a < DM_ATT_MAX; a++)
		dm_att_detach(l, ifc, a, keep_pins);
}

int dm_iface_retarget(struct dm_loader *l, struct dicomon_bpf *skel, struct dm_iface *ifc, int att,
		      struct dm_retarget *rt)
{
	int d = att - DM_ATT_TC_INGRESS, prog, err;
	struct dicomon_meta_bpf *meta = NULL;

	memset(rt, 0, sizeof(*rt));
	if (att == DM_ATT_XDP ? ifc->xdp_link >= 0 : ifc->tc_link[d] >= 0 || ifc->tc_legacy[d])
		l->att_ops++;
	if (att == DM_ATT_XDP) {
		if (ifc->xdp_link < 0)
			return 0;
		rt->old_why = ifc->vlan_why;
		err = xdp_point(l, skel, ifc, &meta, &prog);
	} else {
		prog = dm_skel_prog_fd(skel, att);
		if (ifc->tc_link[d] >= 0)
			err = bpf_link_update(ifc->tc_link[d], prog, NULL);
		else if (ifc->tc_legacy[d])
			err = clsact_set(l, ifc, d, prog);
		else
			return 0;
	}
	if (err)
		return err < 0 ? err : -EINVAL;
	rt->ifc = ifc;
	rt->att = att;
	rt->old_fd = ifc->prog_fd[att];
	rt->new_fd = prog;
	ifc->prog_fd[att] = prog;
	if (att == DM_ATT_XDP) {
		rt->old_meta = ifc->meta;
		rt->new_meta = meta;
		ifc->meta = meta;
	}
	return 0;
}

void dm_retarget_undo(struct dm_loader *l, struct dm_retarget *rt)
{
	struct dm_iface *ifc = rt->ifc;
	int d = rt->att - DM_ATT_TC_INGRESS, err;

	if (!ifc)
		return;
	l->att_ops++;
	if (rt->att == DM_ATT_XDP)
		err = bpf_link_update(ifc->xdp_link, rt->old_fd, NULL);
	else if (ifc->tc_link[d] >= 0)
		err = bpf_link_update(ifc->tc_link[d], rt->old_fd, NULL);
	else
		err = clsact_set(l, ifc, d, rt->old_fd);
	if (err)
		pr_err("%s: cannot put the old %s program back: %s\n", ifc->name,
		       dm_att_name(rt->att), strerror(errno));
	ifc->prog_fd[rt->att] = rt->old_fd;
	if (rt->att == DM_ATT_XDP) {
		ifc->meta = rt->old_meta;
		ifc->vlan_why = rt->old_why;
		dicomon_meta_bpf__destroy(rt->new_meta);
	}
}

void dm_retarget_commit(struct dm_retarget *rt)
{
	if (rt->ifc && rt->old_meta != rt->new_meta)
		dicomon_meta_bpf__destroy(rt->old_meta);
	if (rt->ifc && rt->att == DM_ATT_XDP)
		vlan_report(rt->ifc);
}

/* Is the attachment that pin `name` stands for still wanted by cfg? */
static bool wanted(const struct dm_config *cfg, const char *name)
{
	char ifname[IF_NAMESIZE];
	struct dm_hooks h;
	bool clsact;
	int att, i;

	if (dm_pin_parse_att(name, &clsact, &att, ifname))
		return true; /* not an attachment pin */
	for (i = 0; i < cfg->n_ifaces && strcmp(cfg->ifaces[i].name, ifname); i++)
		;
	if (i == cfg->n_ifaces)
		return false;
	dm_iface_hooks(cfg, i, &h);
	if (att == DM_ATT_XDP)
		return h.xdp_mode != DM_XDP_OFF;
	if (!(att == DM_ATT_TC_INGRESS ? h.tc_ingress : h.tc_egress))
		return false;
	return clsact ? cfg->tc_mode != DM_TC_TCX : cfg->tc_mode != DM_TC_CLSACT;
}

void dm_pins_prune(struct dm_loader *l, const struct dm_config *cfg)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(l->pin_root);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, DM_PIN_TMP, strlen(DM_PIN_TMP))) {
			/* A dm_pin_replace() that was interrupted. */
			if (!dm_pin_path(path, sizeof(path), l->pin_root, de->d_name))
				unlink(path);
			continue;
		}
		if (wanted(cfg, de->d_name))
			continue;
		pr_info("%s/%s: not in the configuration any more, removing\n", l->pin_root,
			de->d_name);
		dm_pin_remove_att(l->pin_root, de->d_name);
	}
	closedir(d);
}
