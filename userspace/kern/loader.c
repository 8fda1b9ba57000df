// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Lifecycle of the BPF side: open the skeleton, write the read-only config
 * and map sizes, load, then attach through links (attach.c) so dicomon
 * coexists with other XDP and TC programs on the same interfaces.
 *
 * The maps that carry state (the association table, counters, interface
 * slots, the association id counter in .data, the ring buffer) live in
 * bpffs when the daemon runs: a restart reuses them, a reload builds a new
 * program around the same maps and moves every attachment to it.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "dicomon.h"
#include "dicomon.skel.h"
#include "dicomon_meta.skel.h"
#include "kern/loader.h"
#include "kern/netdev.h"
#include "kern/takeover.h"
#include "lib/log.h"

/* Newer than the uapi headers of Debian 12; the values are ABI. */
#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

/*
 * Every map of the skeleton; the first DM_STATE_MAPS carry state and are
 * shared by every program built while the state lives (and pinned).
 */
#define DM_STATE_MAPS 7
#define DM_SKEL_MAPS  14
static struct bpf_map *skel_map(struct dicomon_bpf *s, int i)
{
	struct bpf_map *m[DM_SKEL_MAPS] = {
	    s->maps.dm_flows,	s->maps.dm_overflow, s->maps.dm_stats,	  s->maps.dm_ifslots,
	    s->maps.data,	s->maps.dm_events,   s->maps.dm_cands,	  s->maps.dm_scratch,
	    s->maps.dm_args,	s->maps.dm_cand_tmp, s->maps.dm_frags,	  s->maps.rodata,
	    s->maps.dm_batch,	s->maps.data_local,
	};

	return m[i];
}

/* Pin names of the state maps, and the key that sizes each (if any). */
static const struct {
	const char *pin;
	const char *key;
	bool replaceable; /* holds no state that matters: a mismatch replaces it */
} state_maps[DM_STATE_MAPS] = {
    {DM_PIN_FLOWS, "maps.flow_slots", false},
    {DM_PIN_OVERFLOW, "maps.overflow_entries", false},
    {DM_PIN_STATS, NULL, false},
    {DM_PIN_IFSLOTS, NULL, false},
    {DM_PIN_DATA, NULL, false},
    {DM_PIN_EVENTS, "maps.ringbuf_bytes", true},
    {DM_PIN_CANDS, "maps.candidate_entries", true},
};

static int count_maps(struct dicomon_bpf *s)
{
	struct bpf_map *m;
	int n = 0;

	bpf_object__for_each_map(m, s->obj) n++;
	return n;
}

struct dicomon_bpf *dm_skel_open(void)
{
	struct dicomon_bpf *s = dicomon_bpf__open();

	if (!s) {
		pr_err("cannot open the BPF object: %s\n", strerror(errno));
		return NULL;
	}
	if (count_maps(s) != DM_SKEL_MAPS) {
		/* skel_map() pairs maps across objects: it must know every one. */
		pr_err("internal: the BPF object has %d maps, loader.c knows %d\n", count_maps(s),
		       DM_SKEL_MAPS);
		dicomon_bpf__destroy(s);
		errno = EINVAL;
		return NULL;
	}
	/* The replay program is replay's (dm_loader_load() with cfg->replay). */
	bpf_program__set_autoload(s->progs.dicomon_replay, false);
	return s;
}

int dm_skel_configure(struct dicomon_bpf *skel, const struct dm_config *cfg, const __u32 *seed)
{
	struct dm_bpf_config *b = (struct dm_bpf_config *)&skel->rodata->cfg;
	int err;

	dm_config_to_bpf(cfg, b);
	if (seed)
		b->hash_seed = *seed;
	/* Ignored where .data is reused: ids then go on from the pinned counter. */
	skel->data->next_assoc_id = ((__u64)time(NULL) << 20) | 1;
	err = bpf_map__set_max_entries(skel->maps.dm_flows, cfg->flow_slots);
	/* Only replay's batches need more than the header of dm_batch. */
	if (!err && !cfg->replay)
		err = bpf_map__set_value_size(skel->maps.dm_batch, offsetof(struct dm_batch, f));
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dm_overflow, cfg->overflow_entries);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dm_events, cfg->ringbuf_bytes);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.dm_cands, cfg->candidate_entries);
	if (err)
		pr_err("cannot size maps: %s\n", strerror(-err));
	return err;
}

/*
 * Load the TC programs only where they are needed (each costs the verifier as
 * much as the XDP program: half of start-up on a 4-interface gateway): an
 * interface of cfg wants that hook, or one of l's runs it now (a reload
 * moves every attachment to the new program before it detaches any).
 */
static void tc_progs_wanted(const struct dm_loader *l, const struct dm_config *cfg, bool want[2])
{
	struct dm_hooks h;
	int i;

	want[0] = want[1] = false;
	for (i = 0; i < cfg->n_ifaces; i++) {
		dm_iface_hooks(cfg, i, &h);
		want[0] |= h.tc_ingress;
		want[1] |= h.tc_egress;
	}
	for (i = 0; l && i < l->n_ifaces; i++) {
		want[0] |= l->ifaces[i].tc_link[0] >= 0 || l->ifaces[i].tc_legacy[0];
		want[1] |= l->ifaces[i].tc_link[1] >= 0 || l->ifaces[i].tc_legacy[1];
	}
}

static void set_tc_autoload(struct dicomon_bpf *s, const bool want[2])
{
	bpf_program__set_autoload(s->progs.dicomon_tc_ingress, want[0]);
	bpf_program__set_autoload(s->progs.dicomon_tc_egress, want[1]);
}

/* Is every TC program cfg needs loaded in l->skel? */
static bool tc_progs_loaded(const struct dm_loader *l, const struct dm_config *cfg)
{
	bool want[2];

	tc_progs_wanted(NULL, cfg, want);
	return (!want[0] || bpf_program__fd(l->skel->progs.dicomon_tc_ingress) >= 0) &&
	       (!want[1] || bpf_program__fd(l->skel->progs.dicomon_tc_egress) >= 0);
}

/* An empty loader that knows the CPUs (per-CPU maps hold a value for each). */
static int loader_init(struct dm_loader *l)
{
	int i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < DM_MAX_IFACES - 1; i++)
		dm_iface_reset(&l->ifaces[i]);
	l->lock_fd = -1;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		pr_err("cannot count possible CPUs: %s\n", strerror(-l->ncpus));
		return l->ncpus ? l->ncpus : -EINVAL;
	}
	return 0;
}

static void note_loaded(struct dm_loader *l, const struct dm_config *cfg)
{
	l->hash_seed = l->skel->rodata->cfg.hash_seed;
	l->flow_slots = bpf_map__max_entries(l->skel->maps.dm_flows);
	l->overflow_entries = bpf_map__max_entries(l->skel->maps.dm_overflow);
	l->ringbuf_bytes = bpf_map__max_entries(l->skel->maps.dm_events);
	l->tc_mode = cfg->tc_mode;
}

static int load(struct dm_loader *l)
{
	int err = dicomon_bpf__load(l->skel);

	if (err)
		pr_err("cannot load BPF programs (run with -vv for the verifier log): %s\n",
		       strerror(-err));
	return err;
}

int dm_loader_load(struct dm_loader *l, const struct dm_config *cfg)
{
	int err;

	err = loader_init(l);
	if (err)
		return err;
	l->skel = dm_skel_open();
	if (!l->skel)
		return -errno;
	err = dm_skel_configure(l->skel, cfg, NULL);
	if (cfg->replay) {
		/* Replay runs its batch program only: no verifier time for the hooks' copies. */
		bpf_program__set_autoload(l->skel->progs.dicomon_xdp, false);
		bpf_program__set_autoload(l->skel->progs.dicomon_tc_ingress, false);
		bpf_program__set_autoload(l->skel->progs.dicomon_tc_egress, false);
		bpf_program__set_autoload(l->skel->progs.dicomon_replay, true);
	}
	if (!err)
		err = load(l);
	if (err) {
		dicomon_bpf__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	note_loaded(l, cfg);
	return 0;
}

/* The hash seed in a .rodata map (fd, closed here): .rodata starts with cfg (dicomon_bpf__rodata). */
static int rodata_seed(int fd, __u32 *seed)
{
	struct bpf_map_info info;
	__u32 zero = 0, ilen = sizeof(info);
	void *val = NULL;
	int err = 0;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	else if (info.value_size < sizeof(struct dm_bpf_config))
		err = -EINVAL;
	else if (!(val = calloc(1, info.value_size)))
		err = -ENOMEM;
	else if (bpf_map_lookup_elem(fd, &zero, val))
		err = -errno;
	else
		*seed = ((struct dm_bpf_config *)val)->hash_seed;
	free(val);
	close(fd);
	return err;
}

/* The hash seed of the program that last ran on the pinned table. */
static int pinned_seed(const char *root, __u32 *seed)
{
	char path[PATH_MAX];
	int fd;

	if (dm_pin_path(path, sizeof(path), root, DM_PIN_CONFIG))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : rodata_seed(fd, seed);
}

/* Why a pinned map cannot be reused; "" if it can. */
static void compat(int fd, struct bpf_map *want, char *why, size_t len)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);

	why[0] = 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		snprintf(why, len, "cannot read it: %s", strerror(errno));
		return;
	}
	if (info.type != bpf_map__type(want))
		snprintf(why, len, "it is a map of type %u, this build wants %u", info.type,
			 bpf_map__type(want));
	else if (info.key_size != bpf_map__key_size(want) ||
		 info.value_size != bpf_map__value_size(want) ||
		 info.map_flags != bpf_map__map_flags(want))
		snprintf(why, len,
			 "it was made by a different dicomon build (key/value %u/%u bytes, flags "
			 "%#x; this build: %u/%u, %#x)",
			 info.key_size, info.value_size, info.map_flags, bpf_map__key_size(want),
			 bpf_map__value_size(want), bpf_map__map_flags(want));
	else if (info.max_entries != bpf_map__max_entries(want))
		snprintf(why, len, "it has %u entries, the configuration asks for %u",
			 info.max_entries, bpf_map__max_entries(want));
}

/*
 * Reuse the pinned state maps that fit; report those that do not. Returns 0,
 * or -EEXIST for a pinned map holding state that this configuration or build
 * cannot use.
 */
static int reuse_pinned(struct dm_loader *l, bool reused[DM_STATE_MAPS])
{
	char path[PATH_MAX], why[256];
	struct bpf_map *m;
	int i, fd, err;

	for (i = 0; i < DM_STATE_MAPS; i++) {
		reused[i] = false;
		m = skel_map(l->skel, i);
		if (dm_pin_path(path, sizeof(path), l->pin_root, state_maps[i].pin))
			return -ENAMETOOLONG;
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			pr_err("cannot open pinned map %s: %s\n", path, strerror(errno));
			return err;
		}
		compat(fd, m, why, sizeof(why));
		if (why[0] && state_maps[i].replaceable) {
			pr_info("%s: %s; replaced (events queued while the daemon was down are "
				"dropped)\n",
				path, why);
			close(fd);
			unlink(path);
			continue;
		}
		if (why[0]) {
			pr_err("pinned map %s cannot be reused: %s.\n", path, why);
			pr_err("Its state (association table, counters) must be dropped first: "
			       "stop the daemon and run `dicomon detach%s%s`, or start once with "
			       "--reset-state%s%s%s.\n",
			       strcmp(l->pin_root, DM_DEFAULT_PIN_ROOT) ? " --pin-root " : "",
			       strcmp(l->pin_root, DM_DEFAULT_PIN_ROOT) ? l->pin_root : "",
			       state_maps[i].key ? "; or set " : "",
			       state_maps[i].key ? state_maps[i].key : "",
			       state_maps[i].key ? " back to the pinned size" : "");
			close(fd);
			l->state_unusable = true;
			return -EEXIST;
		}
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err) {
			pr_err("cannot reuse pinned map %s: %s\n", path, strerror(-err));
			return err;
		}
		reused[i] = true;
	}
	return 0;
}

/* The hash seed in the .rodata of program prog_id (the table's slots depend on it). */
static int running_seed(struct dm_loader *l, __u32 prog_id, __u32 *seed)
{
	int fd = dm_prog_map_fd(prog_id, bpf_map__name(l->skel->maps.rodata));

	return fd < 0 ? fd : rodata_seed(fd, seed);
}

/*
 * No pinned state, but a dicomon program still runs on one of cfg's
 * interfaces (its daemon died with its pins, in a private mount namespace):
 * its state maps that fit are reused, so the association table, counters and
 * the events queued in its ring buffer carry over. Returns how many.
 */
static int adopt_running(struct dm_loader *l, const struct dm_config *cfg,
			 bool adopted[DM_STATE_MAPS])
{
	int ifx[DM_MAX_IFACES], n = 0, i, fd, got = 0;
	struct bpf_map *m;
	char why[256];
	__u32 id, seed = 0;

	for (i = 0; i < cfg->n_ifaces; i++)
		if ((ifx[n] = if_nametoindex(cfg->ifaces[i].name)))
			n++;
	id = dm_dicomon_prog_on(ifx, n);
	if (!id)
		return 0;
	for (i = 0; i < DM_STATE_MAPS; i++) {
		adopted[i] = false;
		m = skel_map(l->skel, i);
		fd = dm_prog_map_fd(id, bpf_map__name(m));
		if (fd < 0)
			continue;
		compat(fd, m, why, sizeof(why));
		if (why[0])
			pr_info("running dicomon program %u: map %s not taken over: %s\n", id,
				bpf_map__name(m), why);
		else if (!bpf_map__reuse_fd(m, fd))
			adopted[i] = true, got++;
		close(fd);
	}
	if (adopted[0] && !running_seed(l, id, &seed))
		((struct dm_bpf_config *)&l->skel->rodata->cfg)->hash_seed = seed;
	else if (adopted[0])
		pr_warn("running dicomon program %u: no readable hash seed; associations in "
			"progress will be picked up again\n",
			id);
	pr_info("no pinned state; took over %d state map(s) of the running dicomon program %u "
		"(its daemon's pins are gone)\n",
		got, id);
	return got;
}

static void drop_pinned_state(const char *root)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < DM_STATE_MAPS; i++)
		if (!dm_pin_path(path, sizeof(path), root, state_maps[i].pin))
			unlink(path);
	if (!dm_pin_path(path, sizeof(path), root, DM_PIN_CONFIG))
		unlink(path);
}

/* The pin directory made and locked; with reset, the state pinned there dropped. */
static int lock_pins(struct dm_loader *l, const struct dm_config *cfg, bool reset)
{
	int err;

	snprintf(l->pin_root, sizeof(l->pin_root), "%s", cfg->pin_root);
	l->pin_links = cfg->pin_links;
	err = dm_pin_prepare(l->pin_root);
	if (err)
		return err;
	l->lock_fd = dm_pin_lock(l->pin_root);
	if (l->lock_fd < 0) {
		err = l->lock_fd;
		if (err == -EBUSY) {
			l->state_unusable = true;
			pr_err("%s: another dicomon daemon is running on these pins (set "
			       "state.pin_root to run a second one)\n",
			       l->pin_root);
		} else {
			pr_err("cannot lock %s: %s\n", l->pin_root, strerror(-err));
		}
		return err;
	}
	if (reset) {
		pr_warn("--reset-state: dropping the pinned association table and counters in "
			"%s\n",
			l->pin_root);
		drop_pinned_state(l->pin_root);
	}
	return 0;
}

/* .rodata and map sizes from cfg, the TC programs it wants, the seed of a pinned table. */
static int configure_skel(struct dm_loader *l, const struct dm_config *cfg)
{
	bool flows_pinned, tc_want[2];
	char path[PATH_MAX];
	__u32 seed;
	int err = 0, fd;

	/* The slots of a kept table depend on the seed it was filled with. */
	dm_pin_path(path, sizeof(path), l->pin_root, state_maps[0].pin);
	fd = bpf_obj_get(path);
	flows_pinned = fd >= 0;
	if (fd >= 0)
		close(fd);
	if (flows_pinned && (err = pinned_seed(l->pin_root, &seed)))
		pr_warn("%s: no readable %s (%s): associations in progress will be picked up "
			"again\n",
			l->pin_root, DM_PIN_CONFIG, strerror(-err));
	err = dm_skel_configure(l->skel, cfg, flows_pinned && !err ? &seed : NULL);
	if (err)
		return err;
	tc_progs_wanted(NULL, cfg, tc_want);
	set_tc_autoload(l->skel, tc_want);
	return 0;
}

/* Pin the state maps this load made (not the reused ones) and the configuration. */
static int pin_state(struct dm_loader *l, const bool reused[DM_STATE_MAPS])
{
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < DM_STATE_MAPS; i++) {
		if (reused[i])
			continue;
		dm_pin_path(path, sizeof(path), l->pin_root, state_maps[i].pin);
		if (bpf_map__pin(skel_map(l->skel, i), path)) {
			err = -errno;
			pr_err("cannot pin %s: %s\n", path, strerror(errno));
			return err;
		}
	}
	err = dm_pin_replace(bpf_map__fd(l->skel->maps.rodata), l->pin_root, DM_PIN_CONFIG);
	if (err)
		pr_err("cannot pin %s/%s: %s\n", l->pin_root, DM_PIN_CONFIG, strerror(-err));
	return err;
}

int dm_loader_open(struct dm_loader *l, const struct dm_config *cfg, bool reset)
{
	bool reused[DM_STATE_MAPS], adopted[DM_STATE_MAPS];
	int err;

	err = loader_init(l);
	if (err)
		return err;
	err = lock_pins(l, cfg, reset);
	if (err)
		return err;
	l->skel = dm_skel_open();
	if (!l->skel) {
		err = -errno;
		goto err_unlock;
	}
	err = configure_skel(l, cfg);
	if (!err)
		err = reuse_pinned(l, reused);
	if (!err && !reused[0] && adopt_running(l, cfg, adopted) > 0)
		l->adopted_state = adopted[0];
	if (!err)
		err = load(l);
	if (!err)
		err = pin_state(l, reused); /* adopted maps are pinned here too: not "reused" */
	if (err)
		goto err_destroy;
	l->restored = reused[0] || l->adopted_state;
	note_loaded(l, cfg);
	pr_info("%s: %s\n", l->pin_root,
		l->adopted_state ? "association table and counters taken over from the running "
				   "program, pinned"
		: l->restored	 ? "association table and counters restored from pins"
				 : "new association table and counters pinned");
	return 0;
err_destroy:
	dicomon_bpf__destroy(l->skel);
	l->skel = NULL;
err_unlock:
	close(l->lock_fd);
	l->lock_fd = -1;
	return err;
}

bool dm_kernel_has_vlan_kfunc(void)
{
	static int have = -1;
	struct btf *btf;

	if (have < 0) {
		btf = btf__load_vmlinux_btf();
		have = btf && btf__find_by_name_kind(btf, "bpf_xdp_metadata_rx_vlan_tag",
						     BTF_KIND_FUNC) >= 0;
		btf__free(btf);
	}
	return have;
}

struct dicomon_meta_bpf *dm_load_meta(struct dicomon_bpf *main, int ifindex)
{
	struct dicomon_meta_bpf *m;
	struct bpf_map *map, *same;
	int err = 0;

	/* Opening it where vmlinux lacks the kfunc would fail (dicomon_meta.bpf.c). */
	if (!dm_kernel_has_vlan_kfunc()) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	m = dicomon_meta_bpf__open();
	if (!m)
		return NULL;
	/* Every map is main's: same state, same configuration. */
	bpf_object__for_each_map(map, m->obj) {
		same = bpf_object__find_map_by_name(main->obj, bpf_map__name(map));
		err = same ? bpf_map__reuse_fd(map, bpf_map__fd(same)) : -ENOENT;
		if (err) {
			pr_warn("device-bound XDP copy: map %s not in the main object\n",
				bpf_map__name(map));
			break;
		}
	}
	if (!err) {
		bpf_program__set_ifindex(m->progs.dicomon_xdp_meta, ifindex);
		bpf_program__set_flags(m->progs.dicomon_xdp_meta,
				       bpf_program__flags(m->progs.dicomon_xdp_meta) |
					   BPF_F_XDP_DEV_BOUND_ONLY);
		err = dicomon_meta_bpf__load(m);
	}
	if (err) {
		dicomon_meta_bpf__destroy(m);
		errno = -err;
		return NULL;
	}
	return m;
}

/* Detach everything and remove the attachment pins (state maps stay pinned). */
static void detach_all(struct dm_loader *l)
{
	int i;

	for (i = 0; i < l->n_ifaces; i++) {
		dm_iface_detach(l, &l->ifaces[i], false);
		pr_info("%s: detached\n", l->ifaces[i].name);
		dm_iface_reset(&l->ifaces[i]);
	}
	l->n_ifaces = 0;
}

int dm_loader_attach(struct dm_loader *l, const struct dm_config *cfg)
{
	struct dm_iface *ifc;
	int i, err;

	l->tc_mode = cfg->tc_mode;
	if (l->pin_root[0])
		dm_pins_prune(l, cfg);
	for (i = 0; i < cfg->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		dm_iface_reset(ifc);
		snprintf(ifc->name, sizeof(ifc->name), "%s", cfg->ifaces[i].name);
		dm_iface_hooks(cfg, i, &ifc->want);
		ifc->ifindex = if_nametoindex(ifc->name);
		if (!ifc->ifindex) {
			err = -errno;
			pr_err("%s: no such interface: %s\n", ifc->name, strerror(errno));
			goto err_detach;
		}
		l->n_ifaces = i + 1;
		err = dm_iface_attach(l, ifc);
		if (err)
			goto err_detach;
	}
	return 0;
err_detach:
	detach_all(l);
	return err;
}

static bool bpf_cfg_equal(const struct dm_config *a, const struct dm_config *b)
{
	struct dm_bpf_config x, y;

	dm_config_to_bpf(a, &x);
	dm_config_to_bpf(b, &y);
	x.hash_seed = y.hash_seed = 0;
	return !memcmp(&x, &y, sizeof(x));
}

/*
 * A reload in three parts (the daemon runs the second in a thread while its
 * loop keeps draining the ring buffer): plan, prepare (what verifies: the new
 * program and the device-bound copies), and a commit in bounded steps
 * (dm_reload_step), each one kernel attachment change at most, so that the
 * loop drains between them whatever the number of interfaces.
 */
enum commit_phase {
	C_SWAP,	   /* one attachment moved to the new program per step */
	C_UNDO,	   /* a move failed (or a stop came): one moved back per step */
	C_DROP,	   /* one interface no longer configured detached per step */
	C_ADD,	   /* one configured interface added or re-hooked per step */
	C_DONE,
};

struct dm_reload_prep {
	struct dicomon_bpf *base; /* what the copies share maps with: the new program or l's */
	struct dicomon_bpf *skel; /* the new program, NULL if none is needed or taken */
	struct dicomon_bpf *old;  /* l's before the swap, while interfaces removed still run it */
	bool swap, tc_want[2], tc_mode_changed;
	__u32 seed;
	int n_meta;
	int meta_ifindex[DM_MAX_IFACES];
	struct dicomon_meta_bpf *meta[DM_MAX_IFACES];
	struct dm_config cfg;
	int err; /* of the preparation */
	/* The commit's progress. */
	enum commit_phase phase;
	int i, a;     /* C_SWAP: the next attachment to move (interface, attachment point) */
	int j;	      /* C_ADD: the next configured interface */
	int k;	      /* moves done (and kept in rt for an undo) */
	int ops;      /* attachment changes the last step made */
	int commit_err;
	char what[64]; /* what the last step did */
	struct dm_retarget rt[(DM_MAX_IFACES - 1) * DM_ATT_MAX];
};

/* Will an XDP attachment for cfg's interface j want a device-bound copy (native mode)? */
static bool wants_meta(const struct dm_loader *l, const struct dm_config *cfg, int j, bool swap)
{
	struct dm_hooks h;
	int i;

	dm_iface_hooks(cfg, j, &h);
	if (h.xdp_mode == DM_XDP_OFF || h.xdp_mode == DM_XDP_GENERIC || !h.vlan_meta ||
	    !dm_kernel_has_vlan_kfunc())
		return false;
	for (i = 0; i < l->n_ifaces && strcmp(l->ifaces[i].name, cfg->ifaces[j].name); i++)
		;
	if (i == l->n_ifaces || l->ifaces[i].xdp_link < 0)
		return true; /* attached anew: native first */
	if (strcmp(l->ifaces[i].xdp_mode, dm_xdp_mode_names[DM_XDP_NATIVE]))
		return false;
	return swap || !l->ifaces[i].want.vlan_meta;
}

int dm_reload_plan(struct dm_loader *l, const struct dm_config *cur, const struct dm_config *cfg,
		   struct dm_reload_prep **out)
{
	struct dm_reload_prep *p;
	int i, ifx;

	*out = NULL;
	for (i = 0; i < cfg->n_ifaces; i++) {
		if (!if_nametoindex(cfg->ifaces[i].name)) {
			pr_err("reload: %s: no such interface; configuration not applied\n",
			       cfg->ifaces[i].name);
			return -ENODEV;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* A new program for a new BPF configuration, or for TC hooks not loaded so far. */
	p->swap = !bpf_cfg_equal(cur, cfg) || !tc_progs_loaded(l, cfg);
	tc_progs_wanted(l, cfg, p->tc_want);
	p->seed = l->hash_seed;
	p->base = l->skel;
	p->cfg = *cfg;
	for (i = 0; i < cfg->n_ifaces; i++)
		if (wants_meta(l, cfg, i, p->swap) && (ifx = if_nametoindex(cfg->ifaces[i].name)))
			p->meta_ifindex[p->n_meta++] = ifx;
	p->tc_mode_changed = cfg->tc_mode != l->tc_mode;
	p->phase = p->swap ? C_SWAP : C_DROP;
	*out = p;
	return 0;
}

bool dm_reload_needs_prepare(const struct dm_reload_prep *p)
{
	return p->swap || p->n_meta;
}

int dm_reload_prep_err(const struct dm_reload_prep *p)
{
	return p->err;
}

/* The new program around the same state maps, loaded (verified). */
static int prepare_program(struct dm_reload_prep *p)
{
	struct dicomon_bpf *n;
	int i, err;

	n = dm_skel_open();
	if (!n)
		return -errno;
	set_tc_autoload(n, p->tc_want);
	err = dm_skel_configure(n, &p->cfg, &p->seed);
	for (i = 0; i < DM_STATE_MAPS && !err; i++)
		err = bpf_map__reuse_fd(skel_map(n, i), bpf_map__fd(skel_map(p->base, i)));
	if (!err)
		err = dicomon_bpf__load(n);
	if (err) {
		pr_err("reload: cannot load the new program: %s\n", strerror(-err));
		dicomon_bpf__destroy(n);
		return err;
	}
	p->skel = p->base = n;
	return 0;
}

void dm_reload_prepare(struct dm_reload_prep *p)
{
	int i;

	p->err = p->swap ? prepare_program(p) : 0;
	for (i = 0; i < p->n_meta && !p->err; i++)
		if (dm_netdev_xdp_rx_vlan(p->meta_ifindex[i]) != 0)
			p->meta[i] = dm_load_meta(p->base, p->meta_ifindex[i]);
}

void dm_reload_prep_free(struct dm_reload_prep *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->n_meta; i++)
		dicomon_meta_bpf__destroy(p->meta[i]);
	dicomon_bpf__destroy(p->skel);
	dicomon_bpf__destroy(p->old);
	free(p);
}

struct dicomon_meta_bpf *dm_take_pre_meta(struct dm_loader *l, struct dicomon_bpf *skel,
					  int ifindex)
{
	struct dm_reload_prep *p = l->prep;
	struct dicomon_meta_bpf *m;
	int i;

	for (i = 0; p && p->base == skel && i < p->n_meta; i++) {
		if (p->meta_ifindex[i] != ifindex || !p->meta[i])
			continue;
		m = p->meta[i];
		p->meta[i] = NULL;
		return m;
	}
	return NULL;
}

static int find_iface(const struct dm_config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, name))
			return i;
	return -1;
}

/*
 * After the last move: every move kept, the copies they replaced freed; the
 * old program is freed once no interface runs it (after C_DROP).
 */
static void swapped_step(struct dm_loader *l, struct dm_reload_prep *p)
{
	struct dicomon_bpf *n = p->skel;
	int k, err;

	for (k = p->k; k--;)
		dm_retarget_commit(&p->rt[k]);
	p->k = 0;
	p->old = l->skel;
	l->skel = n;
	p->skel = NULL; /* l's now */
	if (l->pin_root[0] &&
	    (err = dm_pin_replace(bpf_map__fd(n->maps.rodata), l->pin_root, DM_PIN_CONFIG)))
		pr_warn("cannot update %s/%s: %s\n", l->pin_root, DM_PIN_CONFIG, strerror(-err));
	pr_info("reload: new program attached everywhere (links updated in place)\n");
	snprintf(p->what, sizeof(p->what), "new program kept");
	p->phase = C_DROP;
}

/*
 * C_SWAP: the next attachment moved to the new program; a failure turns to
 * C_UNDO. Interfaces the new configuration drops are not moved (nothing was
 * prepared for them: a device-bound copy would be verified here, in the loop);
 * they run the old program until C_DROP detaches them.
 */
static int swap_step(struct dm_loader *l, struct dm_reload_prep *p)
{
	struct dm_iface *ifc;
	int a, err;

	for (; p->i < l->n_ifaces; p->a = 0, p->i++) {
		ifc = &l->ifaces[p->i];
		while (p->a < DM_ATT_MAX && find_iface(&p->cfg, ifc->name) >= 0) {
			a = p->a++;
			err = dm_iface_retarget(l, p->skel, ifc, a, &p->rt[p->k]);
			if (err) {
				pr_err("reload: %s: cannot move %s to the new program: %s; "
				       "keeping the old one everywhere\n",
				       ifc->name, dm_att_name(a), strerror(-err));
				p->commit_err = err;
				p->phase = C_UNDO;
				snprintf(p->what, sizeof(p->what), "%s %s not moved", ifc->name,
					 dm_att_name(a));
				return p->k ? 1 : err;
			}
			if (!p->rt[p->k].ifc)
				continue; /* not attached there */
			p->k++;
			snprintf(p->what, sizeof(p->what), "%s %s moved", ifc->name,
				 dm_att_name(a));
			return 1;
		}
	}
	swapped_step(l, p);
	return 1;
}

/* C_UNDO: the last move taken back; the commit's error once none is left. */
static int undo_step(struct dm_loader *l, struct dm_reload_prep *p)
{
	struct dm_retarget *rt;

	if (!p->k)
		return p->commit_err;
	rt = &p->rt[--p->k];
	dm_retarget_undo(l, rt);
	snprintf(p->what, sizeof(p->what), "%s %s moved back", rt->ifc->name,
		 dm_att_name(rt->att));
	if (p->k)
		return 1;
	pr_info("reload: every attachment back on the running program\n");
	return p->commit_err;
}

/* Re-attach the hooks of a kept interface whose settings changed. */
static int rehook(struct dm_loader *l, struct dm_iface *ifc, const struct dm_hooks *h,
		  bool tc_mode_changed)
{
	bool xdp_was = ifc->want.xdp_mode != DM_XDP_OFF, xdp_is = h->xdp_mode != DM_XDP_OFF;
	bool tc_was[2] = {ifc->want.tc_ingress, ifc->want.tc_egress};
	bool tc_is[2] = {h->tc_ingress, h->tc_egress};
	struct dm_retarget rt;
	int d, err = 0, e;

	/* auto -> native on a native link, say, needs nothing. */
	if (xdp_was && (!xdp_is || !dm_xdp_mode_fits(h->xdp_mode, ifc->xdp_mode))) {
		dm_att_detach(l, ifc, DM_ATT_XDP, false);
		xdp_was = false;
	}
	for (d = 0; d < 2; d++) {
		if (tc_was[d] && (!tc_is[d] || tc_mode_changed)) {
			dm_att_detach(l, ifc, DM_ATT_TC_INGRESS + d, false);
			tc_was[d] = false;
		}
	}
	ifc->want = *h;
	if (xdp_is && !xdp_was) {
		err = dm_att_attach(l, ifc, DM_ATT_XDP);
	} else if (xdp_is) {
		/* Same mode: vlan_meta changed, a different program on the same link. */
		err = dm_iface_retarget(l, l->skel, ifc, DM_ATT_XDP, &rt);
		if (!err)
			dm_retarget_commit(&rt);
	}
	for (d = 0; d < 2; d++)
		if (tc_is[d] && !tc_was[d] && (e = dm_att_attach(l, ifc, DM_ATT_TC_INGRESS + d)))
			err = err ?: e;
	return err;
}

/* C_DROP: the next interface no longer configured detached; then the pins as cfg says. */
static void drop_step(struct dm_loader *l, struct dm_reload_prep *p)
{
	const struct dm_config *cfg = &p->cfg;
	struct dm_iface *ifc;
	int i;

	for (i = 0; i < l->n_ifaces; i++) {
		ifc = &l->ifaces[i];
		if (find_iface(cfg, ifc->name) >= 0)
			continue;
		pr_info("reload: %s removed\n", ifc->name);
		snprintf(p->what, sizeof(p->what), "%s removed", ifc->name);
		dm_iface_detach(l, ifc, false);
		memmove(ifc, ifc + 1, (l->n_ifaces - i - 1) * sizeof(*ifc));
		dm_iface_reset(&l->ifaces[--l->n_ifaces]);
		return;
	}
	dicomon_bpf__destroy(p->old); /* nothing runs it now */
	p->old = NULL;
	l->tc_mode = cfg->tc_mode;
	if (l->pin_links != cfg->pin_links) {
		l->pin_links = cfg->pin_links;
		for (i = 0; i < l->n_ifaces; i++)
			dm_iface_repin(l, &l->ifaces[i]);
	}
	snprintf(p->what, sizeof(p->what), "old program released, pins");
	p->phase = C_ADD;
}

/* A configured interface not attached so far: attached (a warning if it cannot be). */
static void add_iface(struct dm_loader *l, const struct dm_config *cfg, int j,
		      const struct dm_hooks *h)
{
	struct dm_iface *ifc = &l->ifaces[l->n_ifaces];
	int e;

	dm_iface_reset(ifc);
	snprintf(ifc->name, sizeof(ifc->name), "%s", cfg->ifaces[j].name);
	ifc->want = *h;
	ifc->ifindex = if_nametoindex(ifc->name);
	e = ifc->ifindex ? dm_iface_attach(l, ifc) : -ENODEV;
	if (e) {
		pr_warn("reload: %s: not attached: %s\n", ifc->name, strerror(-e));
		dm_iface_reset(ifc);
		return;
	}
	pr_info("reload: %s added\n", ifc->name);
	l->n_ifaces++;
}

/*
 * C_ADD: the next configured interface whose hooks change re-hooked, or a new
 * one attached (unchanged ones are passed over in the same step).
 */
static void add_step(struct dm_loader *l, struct dm_reload_prep *p)
{
	const struct dm_config *cfg = &p->cfg;
	struct dm_hooks h;
	int i, j, e;

	while (p->j < cfg->n_ifaces) {
		j = p->j++;
		dm_iface_hooks(cfg, j, &h);
		for (i = 0; i < l->n_ifaces && strcmp(l->ifaces[i].name, cfg->ifaces[j].name); i++)
			;
		if (i == l->n_ifaces) {
			snprintf(p->what, sizeof(p->what), "%s added", cfg->ifaces[j].name);
			add_iface(l, cfg, j, &h);
			return;
		}
		if (!memcmp(&h, &l->ifaces[i].want, sizeof(h)) && !p->tc_mode_changed)
			continue;
		snprintf(p->what, sizeof(p->what), "%s re-hooked", cfg->ifaces[j].name);
		e = rehook(l, &l->ifaces[i], &h, p->tc_mode_changed);
		if (e)
			pr_warn("reload: %s: hooks not all re-attached: %s\n", l->ifaces[i].name,
				strerror(-e));
		return;
	}
	snprintf(p->what, sizeof(p->what), "interfaces done");
	p->phase = C_DONE;
}

int dm_reload_step(struct dm_loader *l, struct dm_reload_prep *p)
{
	unsigned long ops = l->att_ops;
	int r = 1;

	if (p->err)
		return p->err;
	l->prep = p; /* attach.c takes the prepared device-bound copies from here */
	p->what[0] = 0;
	switch (p->phase) {
	case C_SWAP:
		r = p->skel ? swap_step(l, p) : (p->phase = C_DROP, 1);
		break;
	case C_UNDO:
		r = undo_step(l, p);
		break;
	case C_DROP:
		drop_step(l, p);
		break;
	case C_ADD:
		add_step(l, p);
		break;
	case C_DONE:
		break;
	}
	l->prep = NULL;
	p->ops = l->att_ops - ops;
	return r < 0 ? r : p->phase == C_DONE ? 0 : 1;
}

const char *dm_reload_step_what(const struct dm_reload_prep *p, int *ops)
{
	*ops = p->ops;
	return p->what;
}

int dm_reload_settle(struct dm_loader *l, struct dm_reload_prep *p)
{
	int r;

	if (p->phase == C_SWAP && p->skel) {
		pr_info("reload: stopped half-way: moving %d attachment(s) back\n", p->k);
		p->commit_err = -ECANCELED;
		p->phase = C_UNDO;
	}
	while ((r = dm_reload_step(l, p)) > 0)
		;
	return r;
}

int dm_loader_reload(struct dm_loader *l, const struct dm_config *cur, const struct dm_config *cfg)
{
	struct dm_reload_prep *p;
	int err = dm_reload_plan(l, cur, cfg, &p);

	if (err)
		return err;
	if (dm_reload_needs_prepare(p))
		dm_reload_prepare(p);
	while ((err = dm_reload_step(l, p)) > 0)
		;
	dm_reload_prep_free(p);
	return err;
}

static void loader_free(struct dm_loader *l)
{
	dicomon_bpf__destroy(l->skel);
	l->skel = NULL;
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	l->lock_fd = -1;
}

void dm_loader_close(struct dm_loader *l)
{
	detach_all(l);
	loader_free(l);
}

void dm_loader_release(struct dm_loader *l)
{
	int i;

	for (i = 0; i < l->n_ifaces; i++) {
		dm_iface_detach(l, &l->ifaces[i], true);
		dm_iface_reset(&l->ifaces[i]);
	}
	l->n_ifaces = 0;
	loader_free(l);
}

int dm_skel_prog_fd(struct dicomon_bpf *skel, int att)
{
	struct bpf_program *p = att == DM_ATT_XDP	   ? skel->progs.dicomon_xdp
				: att == DM_ATT_TC_INGRESS ? skel->progs.dicomon_tc_ingress
							   : skel->progs.dicomon_tc_egress;

	return bpf_program__fd(p);
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

int dm_loader_overflow_fd(const struct dm_loader *l)
{
	return bpf_map__fd(l->skel->maps.dm_overflow);
}

int dm_loader_cands_fd(const struct dm_loader *l)
{
	return bpf_map__fd(l->skel->maps.dm_cands);
}

const char *dm_loader_ifname(const struct dm_loader *l, unsigned int ifindex)
{
	int i;

	for (i = 0; i < l->n_ifaces; i++)
		if ((unsigned int)l->ifaces[i].ifindex == ifindex)
			return l->ifaces[i].name;
	return "?";
}

const char *dm_loader_tc_kind(const struct dm_iface *ifc, int egress)
{
	if (ifc->tc_link[egress] >= 0)
		return dm_tc_mode_names[DM_TC_TCX];
	return ifc->tc_legacy[egress] ? dm_tc_mode_names[DM_TC_CLSACT] : NULL;
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
