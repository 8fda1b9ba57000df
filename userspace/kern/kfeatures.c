// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Kernel feature probes for `dicomon version`: what this kernel offers of what
 * dicomon uses, so an operator knows before `run` why something is missing.
 * The helper and map probes load tiny programs and need CAP_BPF; without it
 * they report "unknown". BTF-based checks only read /sys/kernel/btf/vmlinux.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <json-c/json.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "config/config.h"
#include "kern/kfeatures.h"
#include "kern/loader.h"
#include "kern/pin.h"

enum tri { NO = 0, YES = 1, UNKNOWN = -1 };

struct feature {
	const char *key;
	const char *what;
	enum tri have;
	const char *note; /* why it matters when missing */
};

static enum tri probe(int r)
{
	return r == 1 ? YES : r == 0 ? NO : UNKNOWN;
}

/* An enumerator in vmlinux BTF, e.g. BPF_TCX_INGRESS in enum bpf_attach_type. */
static enum tri btf_enum_has(const struct btf *btf, const char *type, const char *name)
{
	const struct btf_enum *e;
	const struct btf_type *t;
	int id, i;

	if (!btf)
		return UNKNOWN;
	id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	if (id < 0)
		return UNKNOWN;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), name))
			return YES;
	return NO;
}

static enum tri btf_func_has(const struct btf *btf, const char *name)
{
	if (!btf)
		return UNKNOWN;
	return btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) >= 0 ? YES : NO;
}

static const char *tri_text(enum tri t)
{
	return t == YES ? "yes" : t == NO ? "no" : "unknown";
}

static const char *state_text(char *buf, size_t len)
{
	int lock;

	if (access(DM_DEFAULT_PIN_ROOT, F_OK))
		return "none";
	lock = dm_pin_lock(DM_DEFAULT_PIN_ROOT);
	if (lock >= 0) {
		close(lock);
		return "pinned, no daemon running";
	}
	snprintf(buf, len, "pinned, %s", lock == -EBUSY ? "a daemon is running" : strerror(-lock));
	return buf;
}

/* The load check as JSON: {"runs": bool|null, "programs": [...]} */
static json_object *check_json(const struct dm_prog_check *c, int n)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array(), *p;
	bool ok = true;
	int i;

	for (i = 0; i < n; i++) {
		p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string(c[i].name));
		json_object_object_add(p, "loaded", json_object_new_boolean(!c[i].err));
		json_object_object_add(p, "verified_insns",
				       c[i].err ? NULL : json_object_new_int64(c[i].insns));
		json_object_object_add(p, "load_seconds", json_object_new_double(c[i].seconds));
		json_object_object_add(p, "error",
				       c[i].err ? json_object_new_string(strerror(-c[i].err)) : NULL);
		json_object_object_add(p, "verifier", c[i].why[0] ? json_object_new_string(c[i].why)
								  : NULL);
		json_object_array_add(a, p);
		ok = ok && !c[i].err;
	}
	json_object_object_add(o, "runs", n > 0 ? json_object_new_boolean(ok) : NULL);
	json_object_object_add(o, "programs", a);
	return o;
}

static void check_text(FILE *out, const struct dm_prog_check *c, int n)
{
	bool ok = true;
	int i;

	fprintf(out, "load check (each program loaded for real, nothing attached):\n");
	if (n < 0) {
		fprintf(out, "  not done: %s (needs CAP_BPF and CAP_PERFMON, or root)\n",
			strerror(-n));
		return;
	}
	for (i = 0; i < n; i++) {
		if (c[i].err)
			fprintf(out, "  %-20s FAILED  %s%s%s\n", c[i].name, strerror(-c[i].err),
				c[i].why[0] ? ": " : "", c[i].why);
		else
			fprintf(out, "  %-20s ok      %u instructions verified in %.3f s\n",
				c[i].name, c[i].insns, c[i].seconds);
		ok = ok && !c[i].err;
	}
	fprintf(out, "this kernel runs dicomon: %s\n", ok ? "yes" : "NO");
}

int dm_features_print(FILE *out, bool json)
{
	struct dm_prog_check chk[DM_CHECK_PROGS];
	int nchk, i, rc = 0;
	struct btf *btf = btf__load_vmlinux_btf();
	char state[128];
	struct utsname u;
	json_object *o, *f;
	struct feature feat[] = {
	    {"btf", "BTF (/sys/kernel/btf/vmlinux)", btf ? YES : NO, "needed (CO-RE)"},
	    {"bpf_loop", "bpf_loop helper (5.17+)",
	     probe(libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_loop, NULL)), "needed"},
	    {"xdp_load_bytes", "bpf_xdp_load_bytes helper (5.18+)",
	     probe(libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, NULL)),
	     "needed"},
	    {"ringbuf", "ring buffer map (5.8+)",
	     probe(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL)), "needed"},
	    {"tcx", "tcx links (6.6+)", btf_enum_has(btf, "bpf_attach_type", "BPF_TCX_INGRESS"),
	     "fallback: TC on a clsact filter at priority 1 (first); filters ahead are reported"},
	    {"xdp_rx_vlan_tag", "XDP RX VLAN metadata kfunc (6.8+)",
	     btf_func_has(btf, "bpf_xdp_metadata_rx_vlan_tag"),
	     "fallback: XDP sees only in-packet VLAN tags; where the NIC strips them, "
	     "ethtool -K IFACE rxvlan off, or TC"},
	    {"bpffs", "bpffs mounted on /sys/fs/bpf", dm_is_bpffs("/sys/fs/bpf") ? YES : NO,
	     "run mounts it (needs CAP_SYS_ADMIN) or fails"},
	};

	uname(&u);
	nchk = dm_loader_check(chk);
	for (i = 0; i < nchk; i++)
		if (chk[i].err)
			rc = 3; /* DM_EXIT_BPF: the programs do not load here */
	if (json) {
		o = json_object_new_object();
		f = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_string(DICOMON_VERSION));
		json_object_object_add(o, "libbpf",
				       json_object_new_string(libbpf_version_string()));
		json_object_object_add(o, "kernel", json_object_new_string(u.release));
		for (i = 0; i < (int)(sizeof(feat) / sizeof(feat[0])); i++)
			json_object_object_add(f, feat[i].key,
					       feat[i].have == UNKNOWN
						   ? NULL
						   : json_object_new_boolean(feat[i].have == YES));
		json_object_object_add(o, "features", f);
		json_object_object_add(o, "pinned_state",
				       json_object_new_string(state_text(state, sizeof(state))));
		json_object_object_add(o, "load_check", check_json(chk, nchk));
		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		fprintf(out, "dicomon %s (libbpf %s, kernel %s %s)\n", DICOMON_VERSION,
			libbpf_version_string(), u.release, u.machine);
		fprintf(out, "kernel features:\n");
		for (i = 0; i < (int)(sizeof(feat) / sizeof(feat[0])); i++) {
			if (feat[i].have == YES)
				fprintf(out, "  %-36s yes\n", feat[i].what);
			else
				fprintf(
				    out, "  %-36s %-7s  %s\n", feat[i].what, tri_text(feat[i].have),
				    feat[i].have == NO ? feat[i].note
						       : "(cannot probe: needs CAP_BPF, or BTF)");
		}
		fprintf(out, "  %-36s %s\n", "state in " DM_DEFAULT_PIN_ROOT,
			state_text(state, sizeof(state)));
		check_text(out, chk, nchk);
	}
	btf__free(btf);
	return rc;
}
