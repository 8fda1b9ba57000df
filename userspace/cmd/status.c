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
#include "lib/safefile.h"
#include "assoc/table.h"
#include "output/lines.h"
#include "output/stats.h"
#include "core/counters.h"
#include "core/pipeline.h"
#include "cmd/status.h"

#define MAX_SNAPSHOT (64u << 20) /* the client refuses larger answers */

struct dm_status_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

int dm_status_server_open(const char *path, struct dm_status_server **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dm_status_server *s;
	char msg[512];
	mode_t old;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_warn("status socket %s: path too long\n", path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	err = dm_safe_parent_dir(path, 0750, msg, sizeof(msg)); /* made, or checked: ours */
	if (err) {
		pr_warn("status socket %s: its directory: %s\n", path, msg);
		free(s);
		return err;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto err;
	unlink(path); /* a socket left by a daemon that was killed */
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
	pr_warn("status socket %s: %s\n", path, strerror(errno));
	if (s->fd >= 0)
		close(s->fd);
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
	unlink(s->path);
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
		n = write(fd, buf, len);
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

static int pinned_fd(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* The daemon is down: what the pinned maps still hold. */
static int read_pinned(const char *dir, json_object **out)
{
	int flows = pinned_fd(dir, "dm_flows"), overflow = pinned_fd(dir, "dm_overflow");
	int stats = pinned_fd(dir, "dm_stats"), ncpus = libbpf_num_possible_cpus();
	struct kassoc k = {};
	struct dm_stats total;
	json_object *o, *arr;
	size_t i;

	if (flows < 0 || stats < 0) {
		if (flows >= 0)
			close(flows);
		if (overflow >= 0)
			close(overflow);
		return -ENOENT;
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

static void print_text(json_object *snap, FILE *out)
{
	json_object *arr, *a, *t;
	char ini[64], acc[64], pdus[32], bytes[48];
	size_t i, n;

	fprintf(out, "%-9s %-10s %-23s %-23s %-16s %-16s %-10s %-10s %s\n", "Status", "Transport",
		"Initiator", "Acceptor", "Calling", "Called", "Outcome", "PDUs o/r", "Bytes o/r");
	if (json_object_object_get_ex(snap, "associations", &arr)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			a = json_object_array_get_idx(arr, i);
			snprintf(ini, sizeof(ini), "%s:%s", jstr(a, "src", "?"),
				 jstr(a, "sport", "?"));
			snprintf(acc, sizeof(acc), "%s:%s", jstr(a, "dst", "?"),
				 jstr(a, "dport", "?"));
			snprintf(pdus, sizeof(pdus), "%lld/%lld", (long long)pdu_total(a, "orig"),
				 (long long)pdu_total(a, "reply"));
			snprintf(bytes, sizeof(bytes), "%lld/%lld",
				 (long long)jint2(a, "bytes", "orig"),
				 (long long)jint2(a, "bytes", "reply"));
			fprintf(out, "%-9s %-10s %-23s %-23s %-16s %-16s %-10s %-10s %s\n",
				jstr(a, "status", "?"), jstr(a, "transport", "?"), ini, acc,
				jstr(a, "calling_ae", "-"), jstr(a, "called_ae", "-"),
				jstr(a, "outcome", jstr(a, "state", "?")), pdus, bytes);
		}
	}
	if (json_object_object_get_ex(snap, "totals", &t)) {
		json_object *pk, *as;

		fprintf(out, "\ntotals (%s):", jstr(snap, "source", "?"));
		if (json_object_object_get_ex(t, "packets", &pk)) {
			json_object_object_foreach(pk, k, v)
			    fprintf(out, " %s=%lld", k, (long long)json_object_get_int64(v));
		}
		if (json_object_object_get_ex(t, "associations", &as)) {
			fprintf(out, "\nassociations:");
			json_object_object_foreach(as, k, v)
			    fprintf(out, " %s=%lld", k, (long long)json_object_get_int64(v));
		}
		fputc('\n', out);
	}
}

int dm_status_client(const char *sock_path, const char *pin_dir, bool json, FILE *out)
{
	json_object *snap = NULL;
	int err;

	err = read_daemon(sock_path, &snap);
	if (err) {
		pr_info("no daemon at %s (%s); reading the pinned maps in %s\n", sock_path,
			strerror(-err), pin_dir);
		err = read_pinned(pin_dir, &snap);
		if (err) {
			pr_warn("no daemon at %s and no pinned maps in %s: is dicomon running?\n",
				sock_path, pin_dir);
			return err;
		}
	}
	if (json)
		fprintf(out, "%s\n",
			json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(snap, out);
	json_object_put(snap);
	return 0;
}
