// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include "config/webcfg.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/netaddr.h"
#include "output/metrics.h"
#include "lib/names.h"

#define DM_METRICS_LISTEN_MAX 4
#define CONTENT_TYPE	      "text/plain; version=0.0.4; charset=utf-8"
/*
 * One address holds at most PER_IP connections (metrics.connections_per_address);
 * the rest are accepted and closed at once by libmicrohttpd, so 200 slow or idle
 * clients from one place cost it 8 slots, not the scrapes of everyone else. At CONN_LIMIT it stops
 * accepting (connections wait in the kernel's backlog) until one ends. An idle
 * connection is closed after TIMEOUT_S; a slowloris that sends a byte a second
 * is not idle, which is why the per-address limit is the guard.
 */
#define DM_METRICS_PER_IP     8
#define DM_METRICS_CONN_LIMIT 256
#define DM_METRICS_TIMEOUT_S  5
#define REALM		      "dicomon"
/*
 * A password the cache does not know costs a bcrypt (about 0.1 s at cost 10)
 * in the one loop that also drains the ring buffer: at most one a second per
 * client address and BCRYPT_PER_S in all; past that, 429 without checking.
 * Prometheus, once accepted, is answered from the cache and never waits here.
 */
#define DM_BCRYPT_PER_S 4
#define DM_BCRYPT_SLOTS 64

struct dm_metrics {
	struct MHD_Daemon *d[DM_METRICS_LISTEN_MAX];
	int fd[DM_METRICS_LISTEN_MAX];
	int n;
	dm_metrics_render_fn render;
	void *ctx;
	struct dm_webcfg *web; /* NULL: plain HTTP, no authentication */
	unsigned int per_address;
	struct dm_metrics_refused refused;
	struct {
		unsigned char addr[16]; /* IPv6, or IPv4 mapped into it */
		uint64_t next_ns;	/* its next bcrypt not before */
	} bc[DM_BCRYPT_SLOTS];
	uint64_t bc_second_ns; /* start of the second bc_used counts in */
	int bc_used;
};

static const char index_page[] = "<html><head><title>dicomon</title></head><body><h1>dicomon</h1>"
				 "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

#define REPLY_TEXT(c, code, text)                                                                  \
	reply(c, code, "text/plain; charset=utf-8", (void *)(text), sizeof(text) - 1,              \
	      MHD_RESPMEM_PERSISTENT)

/* VerifyClientCertIfGiven, RequireAndVerifyClientCert: the chain against client_ca_file. */
static bool client_cert_ok(const struct dm_metrics *m, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	unsigned int status = 0, n = 0;

	if (!m->web || !m->web->tls || m->web->client_auth == DM_CLIENT_NO_CERT)
		return true;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	if (!gnutls_certificate_get_peers(ci->tls_session, &n) || !n)
		return m->web->client_auth == DM_CLIENT_VERIFY_IF_GIVEN;
	return gnutls_certificate_verify_peers2(ci->tls_session, &status) == 0 && status == 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void client_key(struct MHD_Connection *c, unsigned char key[16])
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	memset(key, 0, 16);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* May this request cost a bcrypt? One a second per address, DM_BCRYPT_PER_S in all. */
static bool bcrypt_budget(struct dm_metrics *m, struct MHD_Connection *c)
{
	uint64_t now = mono_ns();
	unsigned char key[16];
	int i, slot = -1, oldest = 0;

	if (now - m->bc_second_ns >= 1000000000ull) {
		m->bc_second_ns = now;
		m->bc_used = 0;
	}
	if (m->bc_used >= DM_BCRYPT_PER_S)
		return false;
	client_key(c, key);
	for (i = 0; i < DM_BCRYPT_SLOTS && slot < 0; i++) {
		if (!memcmp(m->bc[i].addr, key, 16))
			slot = i;
		else if (m->bc[i].next_ns < m->bc[oldest].next_ns)
			oldest = i;
	}
	if (slot < 0) {
		slot = oldest; /* an address not seen for the longest time */
		if (m->bc[slot].next_ns > now)
			return false;
		memcpy(m->bc[slot].addr, key, 16);
	} else if (m->bc[slot].next_ns > now) {
		return false;
	}
	m->bc[slot].next_ns = now + 1000000000ull;
	m->bc_used++;
	return true;
}

/* 1: let in; 0: no or wrong credentials; -EAGAIN: a bcrypt was needed, none left. */
static int user_ok(struct dm_metrics *m, struct MHD_Connection *c)
{
	char *pass = NULL, *user;
	int ok = 0;

	if (!m->web || !m->web->n_users)
		return 1;
	user = MHD_basic_auth_get_username_password(c, &pass);
	if (user && pass) {
		ok = dm_webcfg_check_user(m->web, user, pass, false);
		if (ok == -EAGAIN && bcrypt_budget(m, c))
			ok = dm_webcfg_check_user(m->web, user, pass, true);
	}
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

/* 401 with WWW-Authenticate: Basic realm="dicomon". */
static enum MHD_Result ask_for_password(struct MHD_Connection *c)
{
	static const char body[] = "401 Unauthorized\n";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(c, REALM, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct dm_metrics *m = cls;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	(void)version, (void)upload, (void)con_cls;
	if (*upload_size)
		return MHD_NO; /* GET and HEAD carry no body */
	if (!client_cert_ok(m, c)) {
		m->refused.cert++;
		return REPLY_TEXT(c, MHD_HTTP_FORBIDDEN,
				  "a client certificate the CA signed is required\n");
	}
	err = user_ok(m, c);
	if (err == -EAGAIN) {
		m->refused.throttled++;
		return REPLY_TEXT(c, MHD_HTTP_TOO_MANY_REQUESTS,
				  "too many password checks from here; retry in a second\n");
	}
	if (err != 1) {
		m->refused.auth++;
		return ask_for_password(c);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return REPLY_TEXT(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return REPLY_TEXT(c, MHD_HTTP_NOT_FOUND, "not found\n");
	f = open_memstream(&buf, &len);
	if (!f)
		return REPLY_TEXT(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	err = m->render(f, m->ctx);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(buf);
		pr_warn("metrics: scrape failed: %s\n", strerror(-err));
		return REPLY_TEXT(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "reading the counters failed\n");
	}
	return reply(c, MHD_HTTP_OK, CONTENT_TYPE, buf, len, MHD_RESPMEM_MUST_FREE);
}

/*
 * Decrypted bytes GnuTLS holds leave no trace in the epoll fd: libmicrohttpd
 * says so with a zero timeout. Bounded, the loop has other work.
 */
static void run_ready(struct MHD_Daemon *d)
{
	MHD_UNSIGNED_LONG_LONG t;
	int i;

	MHD_run(d);
	for (i = 0; i < 8 && MHD_get_timeout(d, &t) == MHD_YES && t == 0; i++)
		MHD_run(d);
}

static void on_ready(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_metrics *m = ctx;
	int i;

	(void)lp, (void)events;
	for (i = 0; i < m->n; i++)
		if (m->fd[i] == fd)
			run_ready(m->d[i]);
}

const struct dm_metrics_refused *dm_metrics_refused(const struct dm_metrics *m)
{
	static const struct dm_metrics_refused none;

	return m ? &m->refused : &none;
}

void dm_metrics_tick(struct dm_metrics *m)
{
	int i;

	for (i = 0; m && i < m->n; i++)
		MHD_run(m->d[i]);
}

/* One listener: the limits always, TLS and the client CA when the web config has them. */
static struct MHD_Daemon *start_one(struct dm_metrics *m, struct sockaddr_storage *ss)
{
	struct MHD_OptionItem o[12] = {
	    {MHD_OPTION_SOCK_ADDR, 0, ss},
	    {MHD_OPTION_CONNECTION_LIMIT, DM_METRICS_CONN_LIMIT, NULL},
	    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, m->per_address, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, DM_METRICS_TIMEOUT_S, NULL},
	};
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int n = 4;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (m->web && m->web->tls) {
		flags |= MHD_USE_TLS;
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, m->web->cert_pem};
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, m->web->key_pem};
		o[n++] =
		    (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, m->web->priorities};
		/* A trust list makes libmicrohttpd ask the client for its certificate. */
		if (m->web->client_auth != DM_CLIENT_NO_CERT)
			o[n++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, m->web->ca_pem};
	}
	o[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	/* The port: same offset in sockaddr_in6. SO_REUSEADDR, never SO_REUSEPORT. */
	return MHD_start_daemon(flags, ntohs(((struct sockaddr_in *)ss)->sin_port), NULL, NULL,
				on_request, m, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

int dm_metrics_open(const struct dm_metrics_opts *o, struct dm_loop *lp,
		    dm_metrics_render_fn render, void *ctx, struct dm_metrics **out)
{
	char list[512], *item, *save = NULL;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct dm_metrics *m;
	socklen_t len;
	int err = 0;

	*out = NULL;
	if (!o->listen[0])
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->render = render;
	m->ctx = ctx;
	m->web = o->web;
	m->per_address = o->per_address ? o->per_address : DM_METRICS_PER_IP;
	snprintf(list, sizeof(list), "%s", o->listen);
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (m->n == DM_METRICS_LISTEN_MAX || dm_listen_parse(item, &ss, &len)) {
			pr_err("metrics.listen: cannot use '%s'\n", item);
			err = -EINVAL;
			break;
		}
		m->d[m->n] = start_one(m, &ss);
		if (!m->d[m->n]) {
			err = errno ? -errno : -EADDRINUSE;
			pr_err("metrics: cannot listen on %s: %s\n", item, strerror(-err));
			break;
		}
		info = MHD_get_daemon_info(m->d[m->n], MHD_DAEMON_INFO_EPOLL_FD);
		m->fd[m->n] = info ? info->epoll_fd : -1;
		m->n++;
		err = m->fd[m->n - 1] < 0 ? -EINVAL
					  : dm_loop_add(lp, m->fd[m->n - 1], EPOLLIN, on_ready, m);
		if (err) {
			pr_err("metrics: cannot watch %s: %s\n", item, strerror(-err));
			break;
		}
		dm_loop_set_name(lp, m->fd[m->n - 1], "metrics"); /* its time per scrape */
		pr_info("metrics: listening on %s://%s/metrics%s\n",
			m->web && m->web->tls ? "https" : "http", item,
			m->web && m->web->n_users ? " (basic auth)" : "");
	}
	if (err) {
		dm_metrics_close(m, lp);
		return err;
	}
	*out = m;
	return 0;
}

void dm_metrics_close(struct dm_metrics *m, struct dm_loop *lp)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		if (m->fd[i] >= 0)
			dm_loop_del(lp, m->fd[i]);
		MHD_stop_daemon(m->d[i]);
	}
	free(m);
}

struct dm_expo {
	FILE *out;
	const struct dm_family *f; /* the family being written */
};

static const char *const type_names[] = {
    [DM_COUNTER] = "counter", [DM_GAUGE] = "gauge", [DM_HISTOGRAM] = "histogram"};

/* A label value with \, " and newline escaped. */
static void label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

/* "dicomon_NAME[SUFFIX]{l1="v1",...[,le="LE"]} ": the value follows. */
static void sample_head(struct dm_expo *e, const char *suffix, const char *const *lv,
			const char *le)
{
	int i, n = 0;

	fprintf(e->out, "dicomon_%s%s", e->f->name, suffix);
	for (i = 0; lv && i < DM_FAM_LABELS && e->f->labels[i]; i++) {
		fprintf(e->out, "%s%s=\"", n++ ? "," : "{", e->f->labels[i]);
		label_value(e->out, lv[i]);
		fputc('"', e->out);
	}
	if (le)
		fprintf(e->out, "%sle=\"%s\"", n++ ? "," : "{", le);
	fputs(n ? "} " : " ", e->out);
}

void dm_expo_family(struct dm_expo *e, const struct dm_family *f)
{
	e->f = f;
	fprintf(e->out, "# HELP dicomon_%s %s\n# TYPE dicomon_%s %s\n", f->name, f->help, f->name,
		type_names[f->type]);
}

void dm_expo_u64(struct dm_expo *e, const char *const *lv, uint64_t v)
{
	sample_head(e, "", lv, NULL);
	fprintf(e->out, "%llu\n", (unsigned long long)v);
}

void dm_expo_i64(struct dm_expo *e, const char *const *lv, int64_t v)
{
	sample_head(e, "", lv, NULL);
	fprintf(e->out, "%lld\n", (long long)v);
}

void dm_expo_f64(struct dm_expo *e, const char *const *lv, double v, int prec)
{
	sample_head(e, "", lv, NULL);
	fprintf(e->out, "%.*f\n", prec, v);
}

void dm_expo_hist(struct dm_expo *e, const char *const *lv, const uint64_t *le,
		  const double *bounds, int n, uint64_t count, double sum)
{
	char b[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "%g", bounds[i]);
		sample_head(e, "_bucket", lv, b);
		fprintf(e->out, "%llu\n", (unsigned long long)le[i]);
	}
	sample_head(e, "_bucket", lv, "+Inf");
	fprintf(e->out, "%llu\n", (unsigned long long)count);
	sample_head(e, "_sum", lv, NULL);
	fprintf(e->out, "%.6f\n", sum);
	sample_head(e, "_count", lv, NULL);
	fprintf(e->out, "%llu\n", (unsigned long long)count);
}

static uint64_t field(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

/* Field sources: the sum of the first sum fields, else a sample per labelled field, else one. */
static void write_fields(struct dm_expo *e, const void *base)
{
	const struct dm_family *f = e->f;
	uint64_t total = 0;
	int i;

	for (i = 0; i < f->sum; i++)
		total += field(base, f->fields[i].off);
	if (f->sum)
		dm_expo_u64(e, NULL, total);
	else if (!f->fields[0].label)
		dm_expo_u64(e, NULL, field(base, f->fields[0].off));
	for (i = 0; !f->sum && i < DM_FAM_FIELDS && f->fields[i].label; i++)
		dm_expo_u64(e, &f->fields[i].label, field(base, f->fields[i].off));
}

int dm_metrics_render(FILE *out, const struct dm_family *fams, size_t n, const void *base,
		      const void *ctx)
{
	struct dm_expo e = {.out = out};
	size_t i;

	for (i = 0; i < n; i++) {
		if (fams[i].shown && !fams[i].shown(ctx))
			continue;
		if (fams[i].name)
			dm_expo_family(&e, &fams[i]);
		if (fams[i].emit)
			fams[i].emit(&e, ctx, fams[i].arg);
		else
			write_fields(&e, base);
	}
	return ferror(out) ? -EIO : 0;
}

static const char *const counter_help[DM_CNT_MAX] = {
    [DM_CNT_IP_FRAGMENT] = "Non-first IPv4/IPv6 fragments, skipped.",
    [DM_CNT_VLAN_OFFLOAD] = "VLAN ids read from NIC metadata (tag stripped by offload).",
    [DM_CNT_MIDSTREAM] = "Associations picked up mid-stream on a DICOM port.",
    [DM_CNT_RESYNC] = "Lost PDU boundaries found again.",
    [DM_CNT_DESYNC] = "PDU boundaries lost (gap over a header, implausible header).",
    [DM_CNT_GAP] = "Segments beyond the next expected byte (loss or reordering).",
    [DM_CNT_RETRANSMIT] = "Segments entirely seen before.",
    [DM_CNT_PARTIAL_RETRANSMIT] = "Segments partly seen before.",
    [DM_CNT_FLOW_INSERT] = "Associations stored in the flow table.",
    [DM_CNT_FLOW_INSERT_FAIL] = "Associations that could not be stored.",
    [DM_CNT_FLOW_OVERFLOW] = "Associations stored in the LRU overflow table.",
    [DM_CNT_FLOW_EVICT] = "Idle flow-table entries reclaimed for a new association.",
    [DM_CNT_RINGBUF_FAIL] = "Ring buffer reservations that failed: events lost.",
    [DM_CNT_EVENTS] = "Events sent to userspace.",
    [DM_CNT_CTL_TRUNCATED] = "Control PDUs longer than the shipping limit (tail not shipped).",
    [DM_CNT_WALK_LIMIT] = "Segments holding more PDU headers than the walk limit.",
    [DM_CNT_RQ_NOT_PRINTABLE] = "RQ-like payloads on non-DICOM ports with non-printable AE titles.",
    [DM_CNT_DIMSE_COMMANDS] = "DIMSE command PDV heads shipped to userspace.",
    [DM_CNT_TLS_HELLO] = "TLS hellos inspected on DICOM associations.",
    [DM_CNT_HTTP_REQUESTS] = "HTTP request segments seen on the DICOMweb ports.",
    [DM_CNT_EVIDENCE] = "Frames of DICOM associations copied to userspace for evidence pcaps.",
    [DM_CNT_EVIDENCE_YIELD] = "Evidence frames not copied because the ring buffer was over half full "
			      "(events go first).",
    [DM_CNT_CAND_NEW] = "Flows held as candidates: first payload bytes too few to classify.",
    [DM_CNT_CAND_SEGMENTS] = "Later segments merged into a candidate.",
    [DM_CNT_CAND_PROMOTED] = "Candidates that turned out to be an A-ASSOCIATE-RQ.",
    [DM_CNT_CAND_HTTP] = "Candidates that turned out to be an HTTP request on a web port.",
    [DM_CNT_CAND_DROPPED] = "Candidates whose next bytes ruled them out.",
    [DM_CNT_CAND_EXPIRED] = "Candidates dropped past their time bound.",
    [DM_CNT_CAND_FAIL] = "Candidates that could not be stored.",
    [DM_CNT_CAND_REMOVED] = "Candidates removed for any reason (stored minus removed minus held: evicted).",
    [DM_CNT_OVERLAP_CONFLICT] = "Retransmissions whose bytes differ from the first copy (it wins).",
    [DM_CNT_IP_FRAG_FIRST] = "First fragments of TCP datagrams.",
    [DM_CNT_IP_FRAG_PLACED] = "Later IP fragments placed in their flow's stream.",
    [DM_CNT_ANOMALIES] = "Anomaly events of associations sent to userspace.",
    [DM_CNT_HTTP_CONT] = "HTTP request continuation segments shipped.",
    [DM_CNT_OOO_SHIPPED] = "Control PDU bytes shipped ahead of a hole (out-of-order segments).",
    [DM_CNT_OVERFLOW_REMOVED] = "Associations deleted from the LRU overflow table as they ended "
				"(inserted minus removed minus held: evicted).",
    [DM_CNT_FRAG_NEW] = "IPv4 datagrams whose fragments are tracked in dm_frags.",
    [DM_CNT_FRAG_REMOVED] = "dm_frags entries deleted: their datagram's last fragment was placed.",
    [DM_CNT_SRC_NEW] = "Initiator addresses given an entry (a rate budget) in dm_sources "
		       "(detection.source_rate).",
    [DM_CNT_SRC_UNTRACKED] = "New flows let through without a limit: their dm_sources entry was "
			     "held by another source still in debt.",
    [DM_CNT_SRC_LIMITED] = "New associations and A-ASSOCIATE-RQ candidates refused because their "
			   "initiator was over detection.source_rate (each packet that would have "
			   "opened one counts).",
    [DM_CNT_SRC_REFUNDED] = "New flows whose charge went back to their initiator when the acceptor "
			    "answered (A-ASSOCIATE-AC or -RJ, TLS ServerHello): the limit bounds "
			    "unanswered ones.",
};

void dm_metrics_kernel_array(struct dm_expo *e, const struct dm_kernel_view *k,
			     const struct dm_stats_array *a)
{
	char t[2][64];
	const char *lv[3] = {t[0], t[1], NULL};
	int i, d, c;

	for (i = 0; i < k->n; i++) {
		const __u64 *v = (const __u64 *)((const char *)&k->ifs[i].s + a->off);

		lv[0] = k->ifs[i].name;
		for (d = 0; d < (a->pdu ? DM_DIR_MAX : 1); d++)
			for (c = a->pdu; c < a->len; c++) {
				lv[1] = a->name(c);
				lv[2] = dm_dir_name(d);
				dm_expo_u64(e, lv, v[d * a->len + c]);
			}
	}
}

void dm_metrics_kernel_counters(struct dm_expo *e, const struct dm_kernel_view *k)
{
	struct dm_family f = {.type = DM_COUNTER, .labels = {"interface"}};
	char name[80];
	int i, c;

	for (c = 0; c < DM_CNT_MAX; c++) {
		snprintf(name, sizeof(name), "%s_total", dm_counter_name(c));
		f.name = name;
		f.help = counter_help[c] ? counter_help[c] : "Datapath counter.";
		dm_expo_family(e, &f);
		for (i = 0; i < k->n; i++)
			dm_expo_u64(e, &k->ifs[i].name, k->ifs[i].s.cnt[c]);
	}
}
