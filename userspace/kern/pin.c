// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bpffs: the directory that outlives the daemon, its lock, the names of the
 * pins in it, and `dicomon detach`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dicomon.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/perm.h"
#include "kern/pin.h"
#include "kern/tcorder.h"

/* An attachment point is the hook its program runs at, counted from 0. */
#define ATT_TO_HOOK (DM_HOOK_XDP - DM_ATT_XDP)
_Static_assert(DM_HOOK_TC_INGRESS == DM_ATT_TC_INGRESS + ATT_TO_HOOK &&
		   DM_HOOK_TC_EGRESS == DM_ATT_TC_EGRESS + ATT_TO_HOOK &&
		   DM_HOOK_MAX == DM_ATT_MAX + ATT_TO_HOOK,
	       "enum dm_att follows enum dm_hook");

const char *dm_att_name(unsigned int att)
{
	return dm_hook_name(att + ATT_TO_HOOK);
}

bool dm_is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && (unsigned long)st.f_type == BPF_FS_MAGIC;
}

/*
 * A bpffs mounted in a private mount namespace (ip netns exec, a container, a
 * systemd unit with ProtectSystem=) dies with it, and the pins with it. PID
 * 1's namespace is often unreadable (no ptrace access), so say it always.
 */
static void warn_own_mount(const char *where)
{
	char self[64] = "", init[64] = "";
	bool known = readlink("/proc/self/ns/mnt", self, sizeof(self) - 1) > 0 &&
		     readlink("/proc/1/ns/mnt", init, sizeof(init) - 1) > 0;

	if (known && !strcmp(self, init))
		pr_info("mounted bpffs on %s\n", where);
	else
		pr_warn("mounted bpffs on %s%s: the pins last as long as this mount (and its "
			"mount namespace, if private)\n",
			where, known ? " in a private mount namespace" : "");
}

int dm_pin_prepare(const char *root)
{
	char parent[PATH_MAX], *slash;
	struct stat st;
	int err;

	if (!stat(root, &st)) {
		if (!S_ISDIR(st.st_mode)) {
			pr_err("pin root %s: not a directory\n", root);
			return -ENOTDIR;
		}
		if (!dm_is_bpffs(root)) {
			pr_err("pin root %s: not on a bpffs mount (mount -t bpf bpf DIR, or set "
			       "state.pin_root)\n",
			       root);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		pr_err("pin root %s: must be a directory below a bpffs mount\n", root);
		return -EINVAL;
	}
	*slash = 0;
	if (!dm_is_bpffs(parent)) {
		if (strcmp(parent, "/sys/fs/bpf") || stat(parent, &st)) {
			pr_err("pin root %s: %s is not a bpffs mount (mount -t bpf bpf %s)\n", root,
			       parent, parent);
			return -EINVAL;
		}
		if (mount("bpf", parent, "bpf", 0, "mode=0700")) {
			err = -errno;
			pr_err("cannot mount bpffs on %s: %s (systemd mounts it at boot; else: "
			       "mount -t bpf bpf %s)\n",
			       parent, strerror(errno), parent);
			return err;
		}
		warn_own_mount(parent);
	}
	if (mkdir(root, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create pin root %s: %s\n", root, strerror(errno));
		return err;
	}
	return 0;
}

int dm_pin_lock(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	return fd;
}

int dm_pin_path(char *buf, size_t len, const char *root, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", root, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * bpffs reserves names with a dot, and interface names may have one (eth0.100)
 * but never a colon: colons separate, and stand for the interface's dots.
 */
void dm_pin_att_name(char *buf, size_t len, bool clsact, int att, const char *ifname)
{
	size_t n;
	char *p;

	snprintf(buf, len, "%s:%s:", clsact ? "clsact" : "link", dm_att_name(att));
	n = strlen(buf);
	snprintf(buf + n, len - n, "%s", ifname);
	for (p = buf + n; *p; p++)
		if (*p == '.')
			*p = ':';
}

int dm_pin_parse_att(const char *name, bool *clsact, int *att, char ifname[IF_NAMESIZE])
{
	const char *p;
	size_t n;
	char *q;
	int a;

	if (!strncmp(name, "link:", 5)) {
		*clsact = false;
		p = name + 5;
	} else if (!strncmp(name, "clsact:", 7)) {
		*clsact = true;
		p = name + 7;
	} else {
		return -EINVAL;
	}
	for (a = 0; a < DM_ATT_MAX; a++) {
		n = strlen(dm_att_name(a));
		if (!strncmp(p, dm_att_name(a), n) && p[n] == ':' && p[n + 1] &&
		    strlen(p + n + 1) < IF_NAMESIZE) {
			if (*clsact && a == DM_ATT_XDP)
				return -EINVAL;
			*att = a;
			snprintf(ifname, IF_NAMESIZE, "%s", p + n + 1);
			for (q = ifname; *q; q++)
				if (*q == ':')
					*q = '.';
			return 0;
		}
	}
	return -EINVAL;
}

int dm_pin_replace(int fd, const char *root, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX], tname[128];
	int err;

	snprintf(tname, sizeof(tname), "%s%s", DM_PIN_TMP, name);
	err = dm_pin_path(path, sizeof(path), root, name);
	if (!err)
		err = dm_pin_path(tmp, sizeof(tmp), root, tname);
	if (err)
		return err;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	/* bpffs renames like any file system: the pin is never missing. */
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

int dm_link_info(int fd, struct dm_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static int prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : (int)info.id;
}

static int delete_clsact(int ifindex, int att, __u32 prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = att == DM_ATT_TC_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = DM_TC_HANDLE, .priority = prio);

	return bpf_tc_detach(&hook, &q);
}

/*
 * Our clsact filters on ifname: the one at DM_TC_PRIO if it still runs the
 * program pinned at path, and one at DM_TC_PRIO_OLD running that program or,
 * left by an earlier version, one named dicomon_tc_*.
 */
static void remove_clsact(const char *path, int att, const char *ifname)
{
	int ifindex = if_nametoindex(ifname), fd, ours, n, i, err;
	struct dm_tc_filter fs[DM_TC_LIST_MAX];
	const struct dm_tc_filter *f;
	bool mine;

	if (!ifindex)
		return; /* the interface is gone, and its filters with it */
	fd = bpf_obj_get(path);
	ours = fd >= 0 ? prog_id_of(fd) : 0;
	if (fd >= 0)
		close(fd);
	n = dm_tc_dump(ifindex, att == DM_ATT_TC_EGRESS, fs, DM_TC_LIST_MAX);
	if (n < 0) {
		pr_warn("%s: cannot list the clsact %s filters: %s\n", ifname, dm_att_name(att),
			strerror(-n));
		return;
	}
	for (i = 0; i < n && i < DM_TC_LIST_MAX; i++) {
		f = &fs[i];
		if (f->handle != DM_TC_HANDLE || strcmp(f->kind, "bpf") ||
		    (f->prio != DM_TC_PRIO && f->prio != DM_TC_PRIO_OLD))
			continue;
		mine = f->prio == DM_TC_PRIO ? ours > 0 && f->prog_id == (__u32)ours
					     : dm_tc_filter_dicomon(f, ours > 0 ? ours : 0);
		if (!mine) {
			pr_warn("%s: clsact %s filter %#x pref %u runs program %u, not dicomon's; "
				"left alone\n",
				ifname, dm_att_name(att), DM_TC_HANDLE, f->prio, f->prog_id);
			continue;
		}
		err = delete_clsact(ifindex, att, f->prio);
		if (err)
			pr_warn("%s: cannot delete clsact %s filter (pref %u): %s\n", ifname,
				dm_att_name(att), f->prio, strerror(-err));
		else
			pr_info("%s: clsact %s filter removed (pref %u)\n", ifname,
				dm_att_name(att), f->prio);
	}
}

int dm_pin_remove_att(const char *root, const char *name)
{
	char path[PATH_MAX], ifname[IF_NAMESIZE];
	struct dm_link_info info;
	bool clsact;
	int att, fd, err;

	err = dm_pin_path(path, sizeof(path), root, name);
	if (err || dm_pin_parse_att(name, &clsact, &att, ifname))
		return -EINVAL;
	if (clsact) {
		remove_clsact(path, att, ifname);
	} else {
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			dm_link_info(fd, &info);
			/* Detach even if another process holds the link open. */
			if (bpf_link_detach(fd))
				pr_warn("%s: cannot detach link %u (%s): %s\n", ifname, info.id,
					dm_att_name(att), strerror(errno));
			else
				pr_info("%s: %s detached (link %u)\n", ifname, dm_att_name(att),
					info.id);
			close(fd);
		}
	}
	if (unlink(path) && errno != ENOENT) {
		err = -errno;
		pr_warn("cannot remove pin %s: %s\n", path, strerror(errno));
		return err;
	}
	return 0;
}

static bool named(const char *ifname, const char *const *ifaces, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(ifaces[i], ifname))
			return true;
	return false;
}

int dm_detach_pinned(const char *root, const char *const *ifaces, int n)
{
	char ifname[IF_NAMESIZE], path[PATH_MAX], hint[128];
	int lock, att, left = 0, err = 0;
	struct dirent *de;
	bool clsact;
	DIR *d;

	lock = dm_pin_lock(root);
	if (lock == -ENOENT) {
		pr_info("%s: nothing pinned\n", root);
		return 0;
	}
	if (lock == -EBUSY) {
		pr_err("%s: a dicomon daemon is running on these pins; stop it (it detaches on "
		       "SIGTERM) or change its interfaces and send SIGHUP\n",
		       root);
		return lock;
	}
	if (dm_perm_denied(lock)) {
		dm_perm_hint(root, hint, sizeof(hint));
		pr_err("permission denied: %s (%s)\n", root, hint);
		return lock;
	}
	if (lock < 0) {
		pr_err("%s: %s\n", root, strerror(-lock));
		return lock;
	}
	d = opendir(root);
	if (!d) {
		err = -errno;
		pr_err("%s: %s\n", root, strerror(errno));
		goto out;
	}
	/* Attachments first: the maps stay valid until no program uses them. */
	while ((de = readdir(d))) {
		if (dm_pin_parse_att(de->d_name, &clsact, &att, ifname))
			continue;
		if (n && !named(ifname, ifaces, n))
			continue;
		if (dm_pin_remove_att(root, de->d_name))
			err = -EIO;
	}
	if (n)
		goto out_dir;
	rewinddir(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if ((strncmp(de->d_name, "dm_", 3) &&
		     strncmp(de->d_name, DM_PIN_TMP, strlen(DM_PIN_TMP))) ||
		    dm_pin_path(path, sizeof(path), root, de->d_name)) {
			pr_warn("%s/%s: not dicomon's, left alone\n", root, de->d_name);
			left++;
			continue;
		}
		if (unlink(path)) {
			pr_warn("cannot remove %s: %s\n", path, strerror(errno));
			left++;
			err = -EIO;
		} else {
			pr_info("removed %s\n", path);
		}
	}
	if (!left && rmdir(root))
		pr_warn("cannot remove %s: %s\n", root, strerror(errno));
out_dir:
	closedir(d);
out:
	close(lock);
	return err;
}
