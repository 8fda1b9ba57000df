// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What runs ahead of dicomon on its TC hooks. Programs on one hook run in
 * order, and one returning anything but "continue" (TC_ACT_UNSPEC, TCX_NEXT)
 * ends the hook: the packet never reaches the programs after it. dicomon
 * attaches first (tcx: BPF_F_BEFORE; clsact: priority 1), but something
 * attached later can still get ahead of it (cls_bpf puts a new filter first
 * among those of its priority; a tcx program can be attached before ours),
 * and on a kernel with tcx every tcx program runs before any clsact filter.
 * This lists them (an RTM_GETTFILTER dump, a tcx query); tcwatch.c checks
 * dicomon's own hooks with it, logs the changes and keeps the count.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "kern/tcorder.h"

/* Debian 12's uapi headers predate tcx (6.6). */
#define DM_BPF_TCX_INGRESS 46
#define DM_BPF_TCX_EGRESS  47

/* What libbpf names dicomon's programs in TCA_BPF_NAME: the 15 characters the kernel keeps. */
#define DM_PROG_PREFIX "dicomon_tc_"

static void copy_str(char *dst, size_t len, const struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a);

	if (n >= len)
		n = len - 1;
	memcpy(dst, RTA_DATA(a), n);
	dst[n] = 0;
}

static __u32 get_u32(const struct rtattr *a)
{
	__u32 v = 0;

	if (RTA_PAYLOAD(a) >= sizeof(v))
		memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

/* TCA_OPTIONS of a bpf filter (nested attributes). */
static void parse_bpf_opts(const struct rtattr *opts, struct dm_tc_filter *f)
{
	int len = RTA_PAYLOAD(opts);
	const struct rtattr *a;

	for (a = RTA_DATA(opts); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case TCA_BPF_ID:
			f->prog_id = get_u32(a);
			break;
		case TCA_BPF_FLAGS:
			f->flags = get_u32(a);
			break;
		case TCA_BPF_NAME:
			copy_str(f->name, sizeof(f->name), a);
			break;
		}
	}
}

/* One RTM_NEWTFILTER message; *chain gets its TCA_CHAIN. */
static int parse_filter(const struct nlmsghdr *h, struct dm_tc_filter *f, __u32 *chain)
{
	const struct tcmsg *t = NLMSG_DATA(h);
	const struct rtattr *a, *opts = NULL;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*t));

	if (len < 0)
		return -EBADMSG;
	memset(f, 0, sizeof(*f));
	f->handle = t->tcm_handle;
	f->prio = TC_H_MAJ(t->tcm_info) >> 16;
	*chain = 0;
	for (a = TCA_RTA(t); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type & NLA_TYPE_MASK) {
		case TCA_KIND:
			copy_str(f->kind, sizeof(f->kind), a);
			break;
		case TCA_CHAIN:
			*chain = get_u32(a);
			break;
		case TCA_OPTIONS:
			opts = a;
			break;
		}
	}
	/* Other classifiers number their options differently. */
	if (opts && !strcmp(f->kind, "bpf"))
		parse_bpf_opts(opts, f);
	return 0;
}

int dm_tc_parse_dump(const void *buf, size_t len, __u32 seq, struct dm_tc_filter *out, int max,
		     int *n)
{
	const struct nlmsghdr *h = buf;
	int left = (int)len, err;
	struct dm_tc_filter f;
	__u32 chain;

	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_seq != seq)
			continue; /* not an answer to this request */
		if (h->nlmsg_type == NLMSG_DONE) {
			/* A dump that failed midway says why here. */
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
			    *(const int *)NLMSG_DATA(h) < 0)
				return *(const int *)NLMSG_DATA(h);
			return 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			return e->error < 0 ? e->error : 1;
		}
		if (h->nlmsg_type != RTM_NEWTFILTER)
			continue;
		err = parse_filter(h, &f, &chain);
		if (err)
			return err;
		/*
		 * Handle 0 is the classifier instance of a priority, listed before its
		 * filters; chains other than 0 run only when a filter jumps there.
		 */
		if (!f.handle || chain)
			continue;
		if (*n < max)
			out[*n] = f;
		(*n)++;
	}
	return left ? -EBADMSG : 0;
}

static int nl_socket(void)
{
	struct timeval tmo = {.tv_sec = 2};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* The daemon's loop must not hang on an answer that never comes. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	return fd;
}

int dm_tc_dump(int ifindex, int egress, struct dm_tc_filter *out, int max)
{
	struct {
		struct nlmsghdr h;
		struct tcmsg t;
	} req;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	/* Static: large for a stack frame, and dicomon has one thread. */
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	__u32 seq = (__u32)time(NULL);
	int fd, n = 0, err = 0;
	ssize_t r;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETTFILTER;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = seq;
	req.t.tcm_family = AF_UNSPEC;
	req.t.tcm_ifindex = ifindex;
	req.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
	fd = nl_socket();
	if (fd < 0)
		return fd;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	while (!err) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EBADMSG;
			break;
		}
		err = dm_tc_parse_dump(buf, r, seq, out, max, &n);
	}
	if (err > 0)
		err = n;
out:
	close(fd);
	return err;
}

int dm_tcx_list(int ifindex, int egress, __u32 *ids, int max)
{
	__u32 cnt = max;

	if (bpf_prog_query(ifindex, egress ? DM_BPF_TCX_EGRESS : DM_BPF_TCX_INGRESS, 0, NULL, ids,
			   &cnt)) {
		if (errno == EINVAL)
			return 0; /* a kernel without tcx */
		if (errno != ENOSPC)
			return -errno;
	}
	return (int)cnt;
}

int dm_tc_find_ours(const struct dm_tc_filter *fs, int n, __u32 prio, __u32 prog_id)
{
	int i;

	for (i = 0; i < n; i++)
		if (fs[i].prio == prio && fs[i].handle == DM_TC_HANDLE &&
		    !strcmp(fs[i].kind, "bpf") && (!prog_id || fs[i].prog_id == prog_id))
			return i;
	return -ENOENT;
}

bool dm_tc_filter_dicomon(const struct dm_tc_filter *f, __u32 prog_id)
{
	if (f->handle != DM_TC_HANDLE || strcmp(f->kind, "bpf"))
		return false;
	return (prog_id && f->prog_id == prog_id) ||
	       !strncmp(f->name, DM_PROG_PREFIX, strlen(DM_PROG_PREFIX));
}

void dm_tc_describe(const struct dm_tc_filter *f, char *buf, size_t len)
{
	if (!strcmp(f->kind, "tcx")) {
		snprintf(buf, len, "tcx program %s%sid %u", f->name, f->name[0] ? ", " : "",
			 f->prog_id);
		return;
	}
	if (strcmp(f->kind, "bpf")) {
		snprintf(buf, len, "%s classifier pref %u", f->kind, f->prio);
		return;
	}
	snprintf(buf, len, "bpf filter pref %u handle %#x (%s%sprogram id %u, %s)", f->prio,
		 f->handle, f->name, f->name[0] ? ", " : "", f->prog_id,
		 f->flags & TCA_BPF_FLAG_ACT_DIRECT ? "direct-action" : "classifier mode");
}

void dm_tc_prio_kind(int ifindex, int egress, __u32 prio, char *kind, size_t len)
{
	struct dm_tc_filter fs[DM_TC_LIST_MAX];
	int n = dm_tc_dump(ifindex, egress, fs, DM_TC_LIST_MAX), i;

	kind[0] = 0;
	for (i = 0; i < n && i < DM_TC_LIST_MAX; i++)
		if (fs[i].prio == prio) {
			snprintf(kind, len, "%s", fs[i].kind);
			return;
		}
}
