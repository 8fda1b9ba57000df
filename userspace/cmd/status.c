// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `dicomon status`, both ends. The daemon serves a JSON snapshot on a unix
 * socket: its association table (active and recently finished records) with
 * the kernel's live counters merged in, associations the kernel tracks that
 * the table does not know (started before this daemon), and the counters.
 * With no daemon, the client builds what it can from the pinned maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dicomon.h"
#include "kern/flows.h"
#include "kern/loader.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/netaddr.h"
#include "lib/perm.h"
#include "lib/textesc.h"
#include "lib/safefile.h"
#include "assoc/table.h"
#include "output/lines.h"
#include "output/stats.h"
#include "core/counters.h"
#include "core/pipeline.h"
#include "cmd/status.h"

#define MAX_SNAPSHOT (64u << 20) /* the client refuses larger answers */

struct dm_status_server {
	int fd, lock_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* "pid 1234: dicomon", as far as the kernel tells. */
static void describe_pid(pid_t pid, char *buf, size_t len)
{
	char path[64], comm[32] = "", esc[DM_TEXT_ESC_MAX(32)];
	FILE *f;

	if (pid <= 0) {
		snprintf(buf, len, "pid unknown");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	dm_text_escape(esc, sizeof(esc), comm, strlen(comm)); /* any process may name itself */
	snprintf(buf, len, "pid %d%s%s", (int)pid, esc[0] ? ": " : "", esc);
}

/*
 * Who answers on path: 0 nobody (nothing there, or a socket nobody listens on:
 * ECONNREFUSED, *stale set), -EADDRINUSE a listener (its pid in *pid when the
 * kernel tells: SO_PEERCRED names the process that called listen()), -ENOTSOCK
 * not a socket, or -errno.
 */
static int probe_socket(const char *path, pid_t *pid, bool *stale)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cr;
	socklen_t clen = sizeof(cr);
	struct stat st;
	int fd, err;

	*pid = 0;
	*stale = false;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	if (!err && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &clen))
		*pid = cr.pid;
	close(fd);
	if (!err || err == EAGAIN) /* EAGAIN: its backlog is full, so it is alive */
		return -EADDRINUSE;
	if (err != ECONNREFUSED)
		return -err;
	*stale = true;
	return 0;
}

/*
 * Another daemon's socket is never taken: the lock (PATH.lock, flock, held for
 * the server's life) orders daemons that start at the same time, and the probe
 * finds a listener that holds no lock (an older dicomon, another program). Only
 * a socket nobody listens on is removed, and only under the lock. The lock file
 * stays: removing it would let a third daemon lock a new file while the second
 * still holds the old one.
 */
static int claim_path(struct dm_status_server *s)
{
	char lock[PATH_MAX], who[160];
	bool stale;
	pid_t pid;
	int err;

	snprintf(lock, sizeof(lock), "%s.lock", s->path);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock_fd < 0) {
		err = -errno;
		pr_err("status socket %s: cannot open its lock %s: %s\n", s->path, lock,
		       strerror(errno));
		return err;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
		probe_socket(s->path, &pid, &stale);
		describe_pid(pid, who, sizeof(who));
		if (err == -EADDRINUSE)
			pr_err("status socket %s is in use by a running dicomon (%s), which holds "
			       "%s: give each daemon its own table.status_socket\n",
			       s->path, who, lock);
		else
			pr_err("status socket %s: cannot lock %s: %s\n", s->path, lock,
			       strerror(-err));
		return err;
	}
	err = probe_socket(s->path, &pid, &stale);
	if (err == -EADDRINUSE) {
		describe_pid(pid, who, sizeof(who));
		pr_err("status socket %s is in use by a running process (%s): left alone; give "
		       "each daemon its own table.status_socket\n",
		       s->path, who);
	} else if (err == -ENOTSOCK) {
		pr_err("status socket %s exists and is not a socket: left alone\n", s->path);
	} else if (err) {
		pr_err("status socket %s: %s\n", s->path, strerror(-err));
	} else if (stale && unlink(s->path) && errno != ENOENT) {
		err = -errno;
		pr_err("status socket %s: cannot remove the stale socket: %s\n", s->path,
		       strerror(errno));
	} else if (stale) {
		pr_info("status socket %s: removed a stale socket (no daemon listened)\n", s->path);
	}
	return err;
}

int dm_status_server_open(const char *path, struct dm_status_server **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dm_status_server *s;
	char msg[512];
	mode_t old;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("status socket %s: path too long\n", path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = s->lock_fd = -1;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	err = dm_safe_parent_dir(path, 0750, msg, sizeof(msg)); /* made, or checked: ours */
	if (err) {
		pr_err("status socket %s: its directory: %s\n", path, msg);
		goto out;
	}
	err = claim_path(s);
	if (err)
		goto out;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto err;
	/* Owner-only from the start: no window in which others could connect. */
	old = umask(0177);
	err = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err || listen(s->fd, 8))
		goto err;
	*out = s;
	return 0;
err:
	err = -errno;
	pr_err("status socket %s: %s\n", path, strerror(errno));
out:
	if (s->fd >= 0)
		close(s->fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
	return err;
}

int dm_status_server_fd(const struct dm_status_server *s)
{
	return s->fd;
}

void dm_status_server_close(struct dm_status_server *s)
{
	if (!s)
		return;
	close(s->fd);
	unlink(s->path); /* then the lock: the next daemon finds no socket */
	close(s->lock_fd);
	free(s);
}

/* Every association the kernel holds now, by id. */
struct kassoc {
	struct dm_assoc *v;
	size_t n, cap;
};

static int kassoc_add(const struct dm_assoc *a, bool overflow, void *ctx)
{
	struct kassoc *k = ctx;
	struct dm_assoc *nv;

	(void)overflow;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		nv = realloc(k->v, k->cap * sizeof(*nv));
		if (!nv)
			return 0; /* the ones listed so far */
		k->v = nv;
	}
	k->v[k->n++] = *a;
	return 0;
}

static void kassoc_read(int flows_fd, int overflow_fd, struct kassoc *k)
{
	dm_flows_foreach(flows_fd, overflow_fd, kassoc_add, k);
}

static const struct dm_assoc *kassoc_find(const struct kassoc *k, uint64_t id)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->v[i].id == id)
			return &k->v[i];
	return NULL;
}

static void add_endpoints(json_object *o, const struct dm_flow_key *key, int init_side)
{
	char buf[64];
	int is = init_side & 1;
	json_object *vlan = json_object_new_array();

	dm_key_addr_format(key, is, buf, sizeof(buf));
	json_object_object_add(o, "src", json_object_new_string(buf));
	json_object_object_add(o, "sport", json_object_new_int(key->port[is]));
	dm_key_addr_format(key, !is, buf, sizeof(buf));
	json_object_object_add(o, "dst", json_object_new_string(buf));
	json_object_object_add(o, "dport", json_object_new_int(key->port[!is]));
	if (key->vlan[0])
		json_object_array_add(vlan, json_object_new_int(key->vlan[0]));
	if (key->vlan[1])
		json_object_array_add(vlan, json_object_new_int(key->vlan[1]));
	json_object_object_add(o, "vlan", vlan);
}

static void add_counters(json_object *o, const struct dm_dir_state dir[DM_DIR_MAX])
{
	json_object *p = json_object_new_object(), *b = json_object_new_object();
	int d;

	for (d = 0; d < DM_DIR_MAX; d++) {
		json_object_object_add(p, dm_dir_name(d), dm_pdu_counts_json(&dir[d]));
		json_object_object_add(b, dm_dir_name(d), json_object_new_int64(dir[d].bytes));
	}
	json_object_object_add(o, "pdus", p);
	json_object_object_add(o, "bytes", b);
}

static void add_time(json_object *o, const char *name, uint64_t mono_ns)
{
	char buf[64];

	if (!mono_ns) {
		json_object_object_add(o, name, NULL);
		return;
	}
	dm_format_time(mono_ns, buf, sizeof(buf));
	json_object_object_add(o, name, json_object_new_string(buf));
}

/* An association from the kernel's map alone: what the datapath knows. */
static json_object *kassoc_json(const struct dm_assoc *a, const char *iface)
{
	json_object *o = json_object_new_object();
	char id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)a->id);
	json_object_object_add(o, "assoc_id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string("active"));
	json_object_object_add(o, "iface", iface ? json_object_new_string(iface) : NULL);
	add_endpoints(o, &a->key, a->init_side);
	json_object_object_add(o, "state", json_object_new_string(dm_state_name(a->state)));
	json_object_object_add(o, "transport",
			       json_object_new_string(dm_transport_name(a->transport)));
	json_object_object_add(o, "midstream", json_object_new_boolean(a->flags & DM_AF_MIDSTREAM));
	add_time(o, "start", a->first_ns);
	add_time(o, "last_seen", a->last_ns);
	add_counters(o, a->dir);
	/* Only the datapath's view: nothing of it was decoded, so no decode_incomplete. */
	json_object_object_add(o, "candidate", json_object_new_boolean(a->flags & DM_AF_CANDIDATE));
	return o;
}

struct snap_ctx {
	const struct dm_loader *l;
	const struct kassoc *k;
	json_object *arr;
};

static void rec_to_json(const struct dm_rec *r, void *c)
{
	struct snap_ctx *sc = c;
	const struct dm_assoc *live = r->finished ? NULL : kassoc_find(sc->k, r->id);
	json_object *o = json_object_new_object();
	char id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)r->id);
	json_object_object_add(o, "assoc_id", json_object_new_string(id));
	json_object_object_add(o, "status",
			       json_object_new_string(r->finished ? "finished" : "active"));
	json_object_object_add(o, "iface",
			       json_object_new_string(dm_loader_ifname(sc->l, r->ifindex)));
	add_endpoints(o, &r->key, r->init_side);
	json_object_object_add(
	    o, "state", json_object_new_string(dm_state_name(live ? live->state : r->state)));
	json_object_object_add(
	    o, "transport",
	    json_object_new_string(dm_transport_name(live ? live->transport : r->transport)));
	add_time(o, "start", r->start_ns);
	add_time(o, "end", r->end_ns);
	if (r->finished) {
		json_object_object_add(o, "end_reason",
				       json_object_new_string(dm_end_reason_name(r->end_reason)));
		json_object_object_add(
		    o, "duration",
		    json_object_new_double(
			r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0));
	}
	add_counters(o, live ? live->dir : r->dir);
	dm_rec_json(r, o);
	/* Going on: the datapath knows already how its RQ came. */
	if (live)
		json_object_object_add(o, "candidate",
				       json_object_new_boolean(live->flags & DM_AF_CANDIDATE));
	json_object_array_add(sc->arr, o);
}

json_object *dm_status_snapshot(const struct dm_loader *l, const struct dm_pipeline *p)
{
	const struct dm_table *table = dm_pipeline_table(p);
	json_object *o = json_object_new_object(), *d, *ifs, *i;
	struct kassoc k = {};
	struct snap_ctx sc = {.l = l, .k = &k, .arr = json_object_new_array()};
	struct dm_stats total;
	size_t n;
	int j;

	kassoc_read(dm_loader_flows_fd(l), dm_loader_overflow_fd(l), &k);
	d = json_object_new_object();
	json_object_object_add(d, "pid", json_object_new_int(getpid()));
	json_object_object_add(d, "version", json_object_new_string(DICOMON_VERSION));
	ifs = json_object_new_array();
	for (j = 0; j < l->n_ifaces; j++) {
		i = json_object_new_object();
		json_object_object_add(i, "name", json_object_new_string(l->ifaces[j].name));
		json_object_object_add(
		    i, "xdp",
		    l->ifaces[j].xdp_mode ? json_object_new_string(l->ifaces[j].xdp_mode) : NULL);
		json_object_array_add(ifs, i);
	}
	json_object_object_add(d, "interfaces", ifs);
	json_object_object_add(o, "source", json_object_new_string("daemon"));
	json_object_object_add(o, "daemon", d);

	dm_table_foreach(table, rec_to_json, &sc);
	/* Live in the kernel, unknown to this daemon's table (older than its start). */
	for (n = 0; n < k.n; n++)
		if (!dm_table_find(table, k.v[n].id))
			json_object_array_add(
			    sc.arr, kassoc_json(&k.v[n], dm_loader_ifname(l, k.v[n].ifindex)));
	json_object_object_add(o, "associations", sc.arr);

	json_object_object_add(o, "table", dm_counters_status_table(p));
	if (!dm_stats_read(dm_loader_stats_fd(l), l->ncpus, -1, &total))
		json_object_object_add(o, "totals", dm_stats_json(&total));
	free(k.v);
	return o;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		/* A client gone before its answer must not kill the daemon (SIGPIPE). */
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

void dm_status_server_handle(struct dm_status_server *s, const struct dm_loader *l,
			     const struct dm_pipeline *p)
{
	/* A client that does not read its answer holds the loop two seconds at most. */
	struct timeval tmo = {.tv_sec = 2};
	json_object *snap = NULL;
	const char *text = NULL;
	int c;

	while ((c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (!snap) {
			snap = dm_status_snapshot(l, p);
			text = json_object_to_json_string_ext(
			    snap, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		}
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		if (write_all(c, text, strlen(text)))
			pr_info("status socket %s: client went away\n", s->path);
		close(c);
	}
	json_object_put(snap);
}

/* ---- the client ---- */

static int read_daemon(const char *path, json_object **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if (cap > MAX_SNAPSHOT) {
				err = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	buf[len] = 0;
	*out = json_tokener_parse(buf);
	if (!*out)
		err = -EBADMSG;
out:
	free(buf);
	close(fd);
	return err;
}

/* "permission denied: PATH (run as root or a member of GROUP)"; returns err. */
static int perm_error(const char *path, int err)
{
	char hint[128];

	dm_perm_hint(path, hint, sizeof(hint));
	pr_warn("permission denied: %s (%s)\n", path, hint);
	return err;
}

static int pinned_fd(const char *dir, const char *name, int *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	fd = -errno;
	if (*err)
		return fd; /* the first map's error is the one reported */
	*err = fd;
	if (fd == -EPERM) /* the bpf() call itself: no CAP_BPF (file modes do not matter) */
		pr_warn("permission denied: %s (reading pinned maps needs CAP_BPF: run as root)\n",
			path);
	else if (fd == -EACCES)
		perm_error(path, fd);
	return fd;
}

/* The daemon is down: what the pinned maps still hold. 0, -ENOENT, -EACCES or -EPERM. */
static int read_pinned(const char *dir, json_object **out)
{
	int err = 0, flows = pinned_fd(dir, "dm_flows", &err);
	int overflow = pinned_fd(dir, "dm_overflow", &err);
	int stats = pinned_fd(dir, "dm_stats", &err);
	int ncpus = libbpf_num_possible_cpus();
	struct kassoc k = {};
	struct dm_stats total;
	json_object *o, *arr;
	size_t i;

	if (flows < 0 || stats < 0) {
		if (flows >= 0)
			close(flows);
		if (overflow >= 0)
			close(overflow);
		if (stats >= 0)
			close(stats);
		return dm_perm_denied(err) ? err : -ENOENT;
	}
	kassoc_read(flows, overflow, &k);
	o = json_object_new_object();
	json_object_object_add(o, "source", json_object_new_string("pinned maps"));
	arr = json_object_new_array();
	for (i = 0; i < k.n; i++)
		json_object_array_add(arr, kassoc_json(&k.v[i], NULL));
	json_object_object_add(o, "associations", arr);
	if (ncpus > 0 && !dm_stats_read(stats, ncpus, -1, &total))
		json_object_object_add(o, "totals", dm_stats_json(&total));
	free(k.v);
	close(flows);
	close(stats);
	if (overflow >= 0)
		close(overflow);
	*out = o;
	return 0;
}

static const char *jstr(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	return json_object_get_string(v);
}

static int64_t jint2(json_object *o, const char *a, const char *b)
{
	json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x) || !x || !json_object_object_get_ex(x, b, &y))
		return 0;
	return json_object_get_int64(y);
}

static int64_t pdu_total(json_object *o, const char *dir)
{
	json_object *p, *d;
	int64_t n = 0;

	if (!json_object_object_get_ex(o, "pdus", &p) || !json_object_object_get_ex(p, dir, &d))
		return 0;
	json_object_object_foreach(d, k, v)
	{
		(void)k;
		n += json_object_get_int64(v);
	}
	return n;
}

/* A cell of the table: the daemon's string as one word, escaped (lib/textesc.h). */
#define CELL(buf, a, key, dflt) dm_text_word(buf, sizeof(buf), jstr(a, key, dflt))

static void print_assoc_row(json_object *a, FILE *out)
{
	/* An AE title's cell: its JSON form (up to 64 bytes) escaped again and quoted. */
	char c[5][DM_TEXT_ESC_MAX(64) + 2], ep[4][64], ini[130], acc[130], pdus[32], bytes[48];

	snprintf(ini, sizeof(ini), "%s:%s", CELL(ep[0], a, "src", "?"),
		 CELL(ep[1], a, "sport", "?"));
	snprintf(acc, sizeof(acc), "%s:%s", CELL(ep[2], a, "dst", "?"),
		 CELL(ep[3], a, "dport", "?"));
	snprintf(pdus, sizeof(pdus), "%lld/%lld", (long long)pdu_total(a, "orig"),
		 (long long)pdu_total(a, "reply"));
	snprintf(bytes, sizeof(bytes), "%lld/%lld", (long long)jint2(a, "bytes", "orig"),
		 (long long)jint2(a, "bytes", "reply"));
	fprintf(out, "%-9s %-10s %-23s %-23s %-16s %-16s %-10s %-10s %s\n",
		CELL(c[0], a, "status", "?"), CELL(c[1], a, "transport", "?"), ini, acc,
		CELL(c[2], a, "calling_ae", "-"), CELL(c[3], a, "called_ae", "-"),
		dm_text_word(c[4], sizeof(c[4]), jstr(a, "outcome", jstr(a, "state", "?"))), pdus,
		bytes);
}

static void print_totals(json_object *obj, const char *head, FILE *out)
{
	fputs(head, out);
	json_object_object_foreach(obj, k, v)
	{
		fputc(' ', out);
		dm_text_put_word(out, k);
		fprintf(out, "=%lld", (long long)json_object_get_int64(v));
	}
}

void dm_status_print_text(json_object *snap, FILE *out)
{
	json_object *arr, *t, *pk, *as;
	char head[160], src[DM_TEXT_ESC_MAX(32)];
	size_t i, n;

	fprintf(out, "%-9s %-10s %-23s %-23s %-16s %-16s %-10s %-10s %s\n", "Status", "Transport",
		"Initiator", "Acceptor", "Calling", "Called", "Outcome", "PDUs o/r", "Bytes o/r");
	if (json_object_object_get_ex(snap, "associations", &arr)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++)
			print_assoc_row(json_object_array_get_idx(arr, i), out);
	}
	if (json_object_object_get_ex(snap, "totals", &t)) {
		dm_text_escape(src, sizeof(src), jstr(snap, "source", "?"),
			       strlen(jstr(snap, "source", "?")));
		snprintf(head, sizeof(head), "\ntotals (%s):", src);
		if (json_object_object_get_ex(t, "packets", &pk))
			print_totals(pk, head, out);
		else
			fputs(head, out);
		if (json_object_object_get_ex(t, "associations", &as))
			print_totals(as, "\nassociations:", out);
		fputc('\n', out);
	}
}

/* Why nobody answered on the socket, in words. */
static const char *no_daemon(int err)
{
	if (err == -ENOENT)
		return "no such socket";
	if (err == -ECONNREFUSED)
		return "a stale socket: no daemon listens on it";
	return strerror(-err);
}

int dm_status_client(const char *sock_path, const char *pin_dir, bool json, FILE *out)
{
	json_object *snap = NULL;
	int err, perr;

	err = read_daemon(sock_path, &snap);
	if (dm_perm_denied(err))
		return perm_error(sock_path, err);
	if (err) {
		pr_info("no daemon at %s (%s); reading the pinned maps in %s\n", sock_path,
			no_daemon(err), pin_dir);
		perr = read_pinned(pin_dir, &snap);
		if (dm_perm_denied(perr))
			return perr;
		if (perr) {
			pr_warn("no daemon at %s (%s) and no pinned maps in %s: is dicomon "
				"running?\n",
				sock_path, no_daemon(err), pin_dir);
			return err;
		}
	}
	if (json)
		fprintf(out, "%s\n",
			json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		dm_status_print_text(snap, out);
	json_object_put(snap);
	return 0;
}
