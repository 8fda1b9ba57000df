// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The walk over the kernel's association tables (see flows.h). */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "kern/flows.h"

#define BATCH 256

/* Slots one at a time: kernels or maps without batch lookups. */
static int slots_each(int fd, __u32 from, dm_flow_fn fn, void *ctx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), k;
	struct dm_assoc a;
	int r;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	for (k = from; k < info.max_entries; k++)
		if (!bpf_map_lookup_elem(fd, &k, &a) && a.key.family) {
			r = fn(&a, false, ctx);
			if (r)
				return r;
		}
	return 0;
}

/* Slots BATCH at a time; falls back to single lookups where batches are refused. */
static int slots_batched(int fd, dm_flow_fn fn, void *ctx)
{
	struct dm_assoc *vals = malloc(BATCH * sizeof(*vals));
	__u32 keys[BATCH], batch = 0, count, i, done = 0;
	void *in = NULL;
	int err, r = 0;

	if (!vals)
		return slots_each(fd, 0, fn, ctx);
	do {
		count = BATCH;
		err = bpf_map_lookup_batch(fd, in, &batch, keys, vals, &count, NULL);
		if (err && errno != ENOENT) {
			free(vals);
			return slots_each(fd, done, fn, ctx);
		}
		for (i = 0; i < count && !r; i++)
			if (vals[i].key.family)
				r = fn(&vals[i], false, ctx);
		done += count;
		in = &batch;
	} while (!err && !r);
	free(vals);
	return r;
}

int dm_flows_foreach(int flows_fd, int overflow_fd, dm_flow_fn fn, void *ctx)
{
	struct dm_flow_key key, next, *prev = NULL;
	struct dm_assoc a;
	int r;

	if (flows_fd < 0)
		return -EBADF;
	r = slots_batched(flows_fd, fn, ctx);
	while (!r && overflow_fd >= 0 && !bpf_map_get_next_key(overflow_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(overflow_fd, &key, &a))
			r = fn(&a, true, ctx);
	}
	return r;
}

uint64_t dm_flows_count_keys(int fd)
{
	struct dm_flow_key key, next, *prev = NULL;
	uint64_t n = 0;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}
