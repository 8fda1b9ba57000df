// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Programs on hooks seen from the kernel's side (ids, names, links, maps):
 * what lets a new daemon take over what a dead one left attached when the
 * pins that would say so are gone, and name a foreign program that blocks it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/pin.h"
#include "kern/takeover.h"
#include "kern/tcorder.h"

#define DM_BPF_TCX_INGRESS 46
#define DM_BPF_TCX_EGRESS  47

void dm_prog_name(__u32 id, char name[16])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = 0;
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, 16, "%s", info.name);
	close(fd);
}

bool dm_prog_name_is_dicomon(const char *name)
{
	return !strncmp(name, "dicomon_xdp", 11) || !strncmp(name, "dicomon_tc_", 11);
}

__u32 dm_xdp_prog_on(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	return q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
}

int dm_link_find(__u32 type, int ifindex, __u32 attach_type, __u32 prog_id)
{
	struct dm_link_info info;
	__u32 id = 0;
	int fd;

	while (!bpf_link_get_next_id(id, &id)) {
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue; /* gone meanwhile */
		if (!dm_link_info(fd, &info) && info.type == type && info.prog_id == prog_id &&
		    info.net.ifindex == (__u32)ifindex &&
		    (type != DM_LINK_TYPE_TCX || info.net.attach_type == attach_type))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* A dicomon program among the tcx programs of ifindex's hook, or 0. */
static __u32 tcx_dicomon(int ifindex, int egress)
{
	__u32 ids[DM_TC_LIST_MAX];
	char name[16];
	int n, i;

	n = dm_tcx_list(ifindex, egress, ids, DM_TC_LIST_MAX);
	for (i = 0; i < n && i < DM_TC_LIST_MAX; i++) {
		dm_prog_name(ids[i], name);
		if (dm_prog_name_is_dicomon(name))
			return ids[i];
	}
	return 0;
}

__u32 dm_dicomon_prog_on(const int *ifindexes, int n)
{
	char name[16];
	__u32 id;
	int i, d;

	for (i = 0; i < n; i++) {
		id = dm_xdp_prog_on(ifindexes[i]);
		if (id) {
			dm_prog_name(id, name);
			if (dm_prog_name_is_dicomon(name))
				return id;
		}
		for (d = 0; d < 2; d++)
			if ((id = tcx_dicomon(ifindexes[i], d)))
				return id;
	}
	return 0;
}

int dm_prog_map_fd(__u32 prog_id, const char *name)
{
	struct bpf_prog_info info;
	struct bpf_map_info mi;
	__u32 len, mlen, *ids, n, i;
	int pfd, fd, found = -ENOENT;

	pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(pfd, &info, &len) || !info.nr_map_ids) {
		close(pfd);
		return -ENOENT;
	}
	n = info.nr_map_ids;
	ids = calloc(n, sizeof(*ids));
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (!ids || bpf_obj_get_info_by_fd(pfd, &info, &len))
		n = 0;
	close(pfd);
	for (i = 0; i < n && i < info.nr_map_ids && found < 0; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		mlen = sizeof(mi);
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strncmp(mi.name, name, 15))
			found = fd;
		else
			close(fd);
	}
	free(ids);
	return found;
}
