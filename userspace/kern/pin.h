/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_PIN_H
#define __DM_PIN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kern/tcorder.h"

/*
 * What dicomon keeps in its bpffs directory (state.pin_root, default
 * /sys/fs/bpf/dicomon):
 *
 *   dm_flows dm_overflow dm_stats dm_ifslots dm_data dm_events  maps: state, counters
 *   dm_config                        the .rodata of the running program (hash seed)
 *   link:xdp:IFACE  link:tc_ingress:IFACE  link:tc_egress:IFACE   bpf_links
 *   clsact:tc_ingress:IFACE  clsact:tc_egress:IFACE   the program in our clsact
 *                                    filter (kernels without tcx): marks it ours
 *
 * bpffs refuses names with a dot, so a dot in IFACE (eth0.100) is written ':'.
 *
 * The daemon holds an exclusive flock(2) on the directory while it runs, so
 * two daemons never share pins and `dicomon detach` never pulls the rug from
 * under a running one.
 */

/* Attachment points of one interface. */
enum dm_att {
	DM_ATT_XDP = 0,
	DM_ATT_TC_INGRESS,
	DM_ATT_TC_EGRESS,
	DM_ATT_MAX,
};
/* "xdp", "tc_ingress", "tc_egress": the name of the same enum dm_hook (lib/names.c). */
const char *dm_att_name(unsigned int att);

/* Pins of the state maps (`dicomon status` reads them when no daemon runs). */
#define DM_PIN_FLOWS	"dm_flows"
#define DM_PIN_OVERFLOW "dm_overflow"
#define DM_PIN_STATS	"dm_stats"
#define DM_PIN_IFSLOTS	"dm_ifslots"
#define DM_PIN_DATA	"dm_data"
#define DM_PIN_EVENTS	"dm_events"
#define DM_PIN_CANDS	"dm_cands"
#define DM_PIN_CONFIG	"dm_config"
#define DM_PIN_TMP	"tmp:" /* prefix of a pin being replaced (dm_pin_replace) */

bool dm_is_bpffs(const char *path);
/*
 * Make root a directory on a bpffs. If its parent is /sys/fs/bpf and no bpffs
 * is mounted there, mount one (needs CAP_SYS_ADMIN). Returns 0 or -errno,
 * having logged why.
 */
int dm_pin_prepare(const char *root);
/* An fd holding an exclusive lock on root; -EBUSY if a daemon holds it, -errno else. */
int dm_pin_lock(const char *root);
/* root/name into buf; -ENAMETOOLONG if it does not fit. */
int dm_pin_path(char *buf, size_t len, const char *root, const char *name);
/* "link:xdp:eth0" / "clsact:tc_ingress:eth0" / "link:xdp:eth0:100" for eth0.100 */
void dm_pin_att_name(char *buf, size_t len, bool clsact, int att, const char *ifname);
/* The reverse; returns 0 or -EINVAL for names that are not attachment pins. */
int dm_pin_parse_att(const char *name, bool *clsact, int *att, char ifname[IF_NAMESIZE]);
/* Pin fd as root/name, atomically replacing an existing pin (pin aside, rename). */
int dm_pin_replace(int fd, const char *root, const char *name);
/*
 * Undo the attachment behind pin `name` (detach the link, or delete our clsact
 * filter if it still runs the pinned program) and remove the pin.
 */
int dm_pin_remove_att(const char *root, const char *name);
/* Head of struct bpf_link_info, with the tcx member that Debian 12's uapi lacks. */
struct dm_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;
	union {
		struct {
			__u32 ifindex;
			__u32 attach_type; /* tcx only */
		} net;
		__u64 raw[8];
	};
};
#define DM_LINK_TYPE_XDP 6
#define DM_LINK_TYPE_TCX 11
int dm_link_info(int fd, struct dm_link_info *info);

/*
 * `dicomon detach`: remove the attachments pinned under root (of the named
 * interfaces only, if n > 0), and with n == 0 every pin and the directory.
 * Returns 0, -EBUSY if a daemon holds root, or -errno.
 */
int dm_detach_pinned(const char *root, const char *const *ifaces, int n);

#endif /* __DM_PIN_H */
