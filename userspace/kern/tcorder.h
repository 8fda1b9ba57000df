/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_TCORDER_H
#define __DM_TCORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>


/*
 * One program that runs on a TC hook: a clsact filter as RTM_GETTFILTER lists
 * it, or a tcx program (kind "tcx", prio and handle 0).
 */
struct dm_tc_filter {
	char kind[16]; /* TCA_KIND: "bpf", "u32", "matchall", ...; "tcx" */
	__u32 prio;    /* filter priority ("pref") */
	__u32 handle;
	__u32 prog_id; /* bpf and tcx: the program's id, else 0 */
	__u32 flags;   /* bpf: TCA_BPF_FLAGS (TCA_BPF_FLAG_ACT_DIRECT) */
	char name[64]; /* bpf: TCA_BPF_NAME as the loader set it (libbpf: "name:[id]") */
};

/* What dm_tcorder_check() found last on one hook (part of struct dm_iface). */
struct dm_tc_order {
	int ahead;    /* programs or filters that run before ours */
	__u32 sig;    /* which ones (a hash), to warn again when they change */
	bool missing; /* ours is not on the hook */
	bool failed;  /* the last listing failed (warned once) */
};

/*
 * Handle and priority of dicomon's clsact filters: a restart finds and replaces
 * them. Priority 1 is the first tc runs, so a filter of another priority that
 * ends processing (any verdict but TC_ACT_UNSPEC) cannot hide packets from us.
 * Earlier versions used DM_TC_PRIO_OLD; a filter of theirs found there is
 * removed, and it is the fallback where the kernel refuses priority 1 (another
 * kind of classifier holds it).
 */
#define DM_TC_HANDLE   0xd1c0
#define DM_TC_PRIO     1
#define DM_TC_PRIO_OLD 0xd1c0

/* At most this many filters or programs of one hook are looked at. */
#define DM_TC_LIST_MAX 32

/*
 * One recv() of an RTM_GETTFILTER dump (request sequence seq): the filters of
 * chain 0 (where every packet starts) are appended to out[*n], *n counting
 * also those beyond max. Returns 1 at NLMSG_DONE, 0 if more follows, -errno
 * from an NLMSG_ERROR, -EBADMSG for a malformed message.
 */
int dm_tc_parse_dump(const void *buf, size_t len, __u32 seq, struct dm_tc_filter *out, int max,
		     int *n);
/*
 * The filters on ifindex's clsact ingress (egress 0) or egress (1) hook, in
 * the order they run: priority ascending, then each classifier's own order.
 * Returns how many (0 without a clsact qdisc; may exceed max) or -errno.
 */
int dm_tc_dump(int ifindex, int egress, struct dm_tc_filter *out, int max);
/*
 * The tcx programs on ifindex's ingress/egress in the order they run. Returns
 * how many (0 on kernels without tcx) or -errno.
 */
int dm_tcx_list(int ifindex, int egress, __u32 *ids, int max);
/*
 * Position of dicomon's filter in fs (priority prio, handle DM_TC_HANDLE,
 * kind bpf, program prog_id unless 0) = how many run ahead of it; -ENOENT if
 * it is not there.
 */
int dm_tc_find_ours(const struct dm_tc_filter *fs, int n, __u32 prio, __u32 prog_id);
/*
 * Is f a filter some dicomon (this version or an earlier one) left: handle
 * DM_TC_HANDLE, kind bpf, running prog_id (if not 0) or a program named
 * dicomon_tc_*?
 */
bool dm_tc_filter_dicomon(const struct dm_tc_filter *f, __u32 prog_id);
/* "bpf filter pref 1 handle 0x1 (tc_pass:[42], id 42, direct-action)" and the like. */
void dm_tc_describe(const struct dm_tc_filter *f, char *buf, size_t len);

/* The kind of the classifier at priority prio on the hook ("" if none). */
void dm_tc_prio_kind(int ifindex, int egress, __u32 prio, char *kind, size_t len);


#endif /* __DM_TCORDER_H */
