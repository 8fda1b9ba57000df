/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_LOADER_H
#define __DM_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include "config/config.h"
#include "dicomon.h"
#include "kern/pin.h"
#include "kern/tcorder.h"

struct dicomon_bpf;
struct dicomon_meta_bpf;
struct bpf_tc_hook;
struct dm_reload_prep;

struct dm_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int slot;		  /* dm_stats index */
	struct dm_hooks want;	  /* as configured */
	int xdp_link;		  /* bpf_link fd or -1 */
	const char *xdp_mode;	  /* "native" / "generic" once attached */
	struct dicomon_meta_bpf *meta; /* device-bound copy, if the driver took it */
	const char *vlan_why;	  /* XDP without the device-bound copy: why (static text) */
	bool vlan_hidden;	  /* ... and the NIC strips VLAN tags: XDP does not see them */
	int tc_link[2];		  /* tcx links (ingress, egress) or -1 */
	bool tc_legacy[2];	  /* clsact filter attached instead of tcx */
	unsigned int tc_handle[2], tc_prio[2];
	int prog_fd[DM_ATT_MAX];  /* program each attachment runs (owned by skel or meta) */
	bool adopted[DM_ATT_MAX]; /* found pinned, left by an earlier run */
	struct dm_tc_order tc_order[2]; /* what runs ahead of our TC programs (tcorder.c) */
	bool hook_ok[DM_ATT_MAX]; /* the kernel showed our program there at the last check */
	__u64 pkts_seen;	  /* the interface's packet counter at the last check */
	double last_packet_s;	  /* wall time of the last check it moved in (hooks.c) */
};

struct dm_loader {
	struct dicomon_bpf *skel;
	struct dm_iface ifaces[DM_MAX_IFACES - 1];
	int n_ifaces;
	int ncpus;
	/* Set by dm_loader_open() only; dm_loader_load() pins nothing. */
	char pin_root[DM_PIN_ROOT_MAX]; /* "" = nothing is pinned */
	int lock_fd;			/* flock on pin_root while we run */
	bool pin_links;			/* pin the attachments too */
	enum dm_tc_mode tc_mode;
	bool restored;	     /* the state maps came from pins (or a running program) */
	bool adopted_state;  /* ... from a running dicomon program, not from pins */
	bool state_unusable; /* open failed because of the pins (busy, layout) */
	__u32 hash_seed;     /* dm_flows slots depend on it: kept while the table lives */
	__u32 flow_slots, overflow_entries, ringbuf_bytes; /* as the maps really are */
	struct dm_reload_prep *prep; /* during dm_reload_step(): what was prepared */
	unsigned long att_ops;	     /* attachment changes asked of the kernel (attach.c) */
};

/* open -> set rodata and map sizes -> load, with fresh unpinned maps. No attachment. */
int dm_loader_load(struct dm_loader *l, const struct dm_config *cfg);
/*
 * The daemon's load: make cfg->pin_root a bpffs directory, lock it, reuse the
 * state maps pinned there (or pin fresh ones), load. A pinned map whose layout
 * or size differs is an error naming the map and the fix, unless reset, which
 * drops the pinned state first. Sets l->state_unusable on pin trouble.
 */
int dm_loader_open(struct dm_loader *l, const struct dm_config *cfg, bool reset);
/*
 * Attach to every interface in cfg, as cfg says (XDP, TC ingress/egress).
 * With pins, attachments an earlier run left are taken over (their links
 * updated to this program, no gap) and pins of attachments cfg no longer
 * wants are removed.
 */
int dm_loader_attach(struct dm_loader *l, const struct dm_config *cfg);
/*
 * SIGHUP: load a program for cfg reusing every state map, point every
 * attachment at it (bpf_link_update / clsact replace: no gap, no detach;
 * rolled back if one fails), then attach and detach the difference between
 * the interface sets. Values that cannot change live must already be equal
 * to what the loader runs with (see dm_loader_fixed()).
 */
int dm_loader_reload(struct dm_loader *l, const struct dm_config *cur, const struct dm_config *cfg);
/*
 * dm_loader_reload() in parts, so that what verifies runs off the daemon's
 * loop and the rest in steps short enough for the loop to go on between them.
 * plan (caller's thread, quick): interfaces checked (-ENODEV), *out the
 * reload's state. prepare (any thread, only if dm_reload_needs_prepare(); it
 * reads l's maps, changes nothing of l): the new program and the device-bound
 * XDP copies loaded; dm_reload_prep_err() says if that failed. step (caller's
 * thread again, no other change to l in between): one bounded part of the
 * commit, at most one attachment moved, added or removed (an interface added
 * is one step however many hooks it has); returns 1 while more is to do, 0
 * when done, -errno when a move failed and every attachment already moved is
 * back on the running program (in later steps, one per step: the running
 * configuration is then unchanged). Every attachment moves before any
 * interface is added or removed; those are best effort, as at start (a
 * warning each). settle: a stop during the commit: before every attachment
 * moved, the moved ones go back (-ECANCELED); after, the rest is done (0).
 * Free p after the commit, or instead of it.
 */
int dm_reload_plan(struct dm_loader *l, const struct dm_config *cur, const struct dm_config *cfg,
		   struct dm_reload_prep **out);
bool dm_reload_needs_prepare(const struct dm_reload_prep *p);
void dm_reload_prepare(struct dm_reload_prep *p);
int dm_reload_prep_err(const struct dm_reload_prep *p);
int dm_reload_step(struct dm_loader *l, struct dm_reload_prep *p);
/* What the last step did (static text in p) and how many attachment changes it made. */
const char *dm_reload_step_what(const struct dm_reload_prep *p, int *ops);
int dm_reload_settle(struct dm_loader *l, struct dm_reload_prep *p);
void dm_reload_prep_free(struct dm_reload_prep *p);
/* A device-bound copy prepared for ifindex around skel (ownership passes), or NULL. */
struct dicomon_meta_bpf *dm_take_pre_meta(struct dm_loader *l, struct dicomon_bpf *skel,
					  int ifindex);
/* Detach, destroy the programs, unlock. */
void dm_loader_close(struct dm_loader *l);
/* Exit leaving pinned attachments running (state.detach_on_exit = false). */
void dm_loader_release(struct dm_loader *l);

int dm_loader_events_fd(const struct dm_loader *l);
int dm_loader_stats_fd(const struct dm_loader *l);
int dm_loader_flows_fd(const struct dm_loader *l);
int dm_loader_overflow_fd(const struct dm_loader *l);
int dm_loader_cands_fd(const struct dm_loader *l);
/* Interface name for an ifindex seen in an event ("?" if not ours). */
const char *dm_loader_ifname(const struct dm_loader *l, unsigned int ifindex);
/* "tcx", "clsact" or NULL: how TC is attached on ifc in direction egress (0/1). */
const char *dm_loader_tc_kind(const struct dm_iface *ifc, int egress);

/* Sum one dm_stats slot (or all slots with slot < 0) over the CPUs. */
int dm_stats_read(int map_fd, int ncpus, int slot, struct dm_stats *out);

/* attach.c: one interface's attachments (used by the loader). */
int dm_iface_attach(struct dm_loader *l, struct dm_iface *ifc);
void dm_iface_detach(struct dm_loader *l, struct dm_iface *ifc, bool keep_pins);
void dm_iface_reset(struct dm_iface *ifc);
/* One attachment moved to another program, kept for rollback. */
struct dm_retarget {
	struct dm_iface *ifc;
	int att;
	int old_fd, new_fd;
	struct dicomon_meta_bpf *old_meta, *new_meta;
	const char *old_why;
};
int dm_iface_retarget(struct dm_loader *l, struct dicomon_bpf *skel, struct dm_iface *ifc, int att,
		      struct dm_retarget *rt);
void dm_retarget_undo(struct dm_loader *l, struct dm_retarget *rt);
void dm_retarget_commit(struct dm_retarget *rt);
/* One attachment point of ifc, as ifc->want says / undone. */
int dm_att_attach(struct dm_loader *l, struct dm_iface *ifc, int att);
void dm_att_detach(struct dm_loader *l, struct dm_iface *ifc, int att, bool keep_pins);
/* Pin or unpin ifc's links as l->pin_links now says. */
void dm_iface_repin(struct dm_loader *l, struct dm_iface *ifc);
/* Does an XDP attachment in mode ("native"/"generic") satisfy want? */
bool dm_xdp_mode_fits(enum dm_xdp_mode want, const char *mode);
/* Remove the pins of attachments cfg does not want (an earlier run's). */
void dm_pins_prune(struct dm_loader *l, const struct dm_config *cfg);
/* A fresh dicomon.skel.h object (every map known to the loader), or NULL with errno. */
struct dicomon_bpf *dm_skel_open(void);
/* .rodata from cfg (hash seed kept if seed), map sizes; before load. */
int dm_skel_configure(struct dicomon_bpf *skel, const struct dm_config *cfg, const __u32 *seed);
/* dicomon.skel.h's program for an attachment point. */
int dm_skel_prog_fd(struct dicomon_bpf *skel, int att);
/*
 * A device-bound copy of main's XDP program for ifindex, sharing all of main's
 * maps. NULL with errno EOPNOTSUPP where the kernel has no RX VLAN kfunc.
 */
struct dicomon_meta_bpf *dm_load_meta(struct dicomon_bpf *main, int ifindex);
/* Does vmlinux have bpf_xdp_metadata_rx_vlan_tag (6.8+)? Asked once per process. */
bool dm_kernel_has_vlan_kfunc(void);

/* One program's load check (dm_loader_check, loadcheck.c). */
struct dm_prog_check {
	const char *name;
	int err;		/* 0, or -errno of the load */
	unsigned int insns;	/* instructions the verifier processed */
	double seconds;		/* load (verification) time */
	char why[200];		/* the verifier's reason when err */
};
#define DM_CHECK_PROGS 4
/*
 * Load every program dicomon runs, each on its own with small fresh maps and
 * the default configuration (nothing pinned, nothing attached), so as to say
 * whether this kernel runs dicomon: dicomon_xdp, dicomon_tc_ingress and
 * dicomon_tc_egress. (The device-bound copy needs a device with native XDP:
 * it is loaded per interface at attach, falling back to dicomon_xdp.) Returns
 * how many were checked, or -errno if none could be (no CAP_BPF, say).
 */
int dm_loader_check(struct dm_prog_check out[DM_CHECK_PROGS]);
/* The verifier's reason for a refusal in its log: the last line before "processed N insns". */
void dm_verifier_reason(const char *log, char *why, size_t len);

#endif /* __DM_LOADER_H */
