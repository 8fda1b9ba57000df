// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/netaddr.h"
#include "output/metrics.h"
#include "lib/names.h"

#define DM_METRICS_LISTEN_MAX 4
#define CONTENT_TYPE	      "text/plain; version=0.0.4; charset=utf-8"

struct dm_metrics {
	struct MHD_Daemon *d[DM_METRICS_LISTEN_MAX];
	int fd[DM_METRICS_LISTEN_MAX];
	int n;
	dm_metrics_render_fn render;
	void *ctx;
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

static void on_ready(struct dm_loop *lp, int fd, uint32_t events, void *ctx)
{
	struct dm_metrics *m = ctx;
	int i;

	(void)lp, (void)events;
	for (i = 0; i < m->n; i++)
		if (m->fd[i] == fd)
			MHD_run(m->d[i]);
}

void dm_metrics_tick(struct dm_metrics *m)
{
	int i;

	for (i = 0; m && i < m->n; i++)
		MHD_run(m->d[i]);
}

int dm_metrics_open(const char *listen, struct dm_loop *lp, dm_metrics_render_fn render, void *ctx,
		    struct dm_metrics **out)
{
	char list[512], *item, *save = NULL;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct dm_metrics *m;
	socklen_t len;
	int err = 0;

	*out = NULL;
	if (!listen[0])
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->render = render;
	m->ctx = ctx;
	snprintf(list, sizeof(list), "%s", listen);
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (m->n == DM_METRICS_LISTEN_MAX || dm_listen_parse(item, &ss, &len)) {
			pr_err("metrics.listen: cannot use '%s'\n", item);
			err = -EINVAL;
			break;
		}
		m->d[m->n] = MHD_start_daemon(
		    MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		    ntohs(((struct sockaddr_in *)&ss)->sin_port), /* same offset in sockaddr_in6 */
		    NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned int)10, MHD_OPTION_END); /* SO_REUSEADDR, never SO_REUSEPORT */
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
		pr_info("metrics: listening on http://%s/metrics\n", item);
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

void dm_metrics_label(FILE *out, const char *v)
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
};

void dm_metrics_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP dicomon_%s %s\n# TYPE dicomon_%s %s\n", name, help, name, type);
}

static void sample_if(FILE *out, const char *name, const char *ifname)
{
	fprintf(out, "dicomon_%s{interface=\"", name);
	dm_metrics_label(out, ifname);
	fputc('"', out);
}

typedef const char *(*name_fn)(unsigned int);

/* A dm_stats array (at off, len entries) as a family: per interface and index, label=name(index).
 */
static void family(FILE *out, const char *fam, const char *help, const struct dm_metrics_iface *ifs,
		   int n, size_t off, int len, const char *label, name_fn name)
{
	int i, c;

	dm_metrics_head(out, fam, "counter", help);
	for (i = 0; i < n; i++) {
		const __u64 *v = (const __u64 *)((const char *)&ifs[i].s + off);

		for (c = 0; c < len; c++) {
			sample_if(out, fam, ifs[i].name);
			fprintf(out, ",%s=\"%s\"} %llu\n", label, name(c),
				(unsigned long long)v[c]);
		}
	}
}

/* A [DM_DIR_MAX][DM_PDU_MAX] array (pdus, pdu_bytes): by type and direction, type 0 left out. */
static void pdu_family(FILE *out, const char *fam, const char *help,
		       const struct dm_metrics_iface *ifs, int n, size_t off)
{
	int i, d, t;

	dm_metrics_head(out, fam, "counter", help);
	for (i = 0; i < n; i++) {
		const __u64(*v)[DM_PDU_MAX] =
		    (const __u64(*)[DM_PDU_MAX])((const char *)&ifs[i].s + off);

		for (d = 0; d < DM_DIR_MAX; d++)
			for (t = 1; t < DM_PDU_MAX; t++) {
				sample_if(out, fam, ifs[i].name);
				fprintf(out, ",type=\"%s\",direction=\"%s\"} %llu\n",
					dm_pdu_name(t), dm_dir_name(d),
					(unsigned long long)v[d][t]);
			}
	}
}

void dm_metrics_write_kernel(FILE *out, const struct dm_metrics_iface *ifs, int n)
{
	char name[80];
	int i, c;

	family(out, "packets_total", "Packets seen, by interface and class.", ifs, n,
	       offsetof(struct dm_stats, pkts), DM_CLASS_MAX, "class", dm_class_name);
	family(out, "bytes_total", "Bytes seen (whole frames), by interface and class.", ifs, n,
	       offsetof(struct dm_stats, bytes), DM_CLASS_MAX, "class", dm_class_name);
	pdu_family(out, "pdus_total",
		   "DICOM Upper Layer PDU headers seen, by type and direction "
		   "(orig: from the association requester).",
		   ifs, n, offsetof(struct dm_stats, pdus));
	pdu_family(out, "pdu_bytes_total",
		   "Bytes of DICOM Upper Layer PDUs (header and body), by type and direction.", ifs,
		   n, offsetof(struct dm_stats, pdu_bytes));
	family(out, "association_events_total",
	       "Association events seen by the classifier: new_cleartext, new_tls, new_midstream "
	       "(starts), accepted, rejected, released, aborted, ended, evicted.",
	       ifs, n, offsetof(struct dm_stats, assoc), DM_ASSOC_MAX, "event",
	       dm_assoc_counter_name);
	family(out, "parse_errors_total",
	       "Frames or PDUs the classifier could not parse, by reason.", ifs, n,
	       offsetof(struct dm_stats, err), DM_ERR_MAX, "reason", dm_err_name);
	for (c = 0; c < DM_CNT_MAX; c++) {
		snprintf(name, sizeof(name), "%s_total", dm_counter_name(c));
		dm_metrics_head(out, name, "counter",
				counter_help[c] ? counter_help[c] : "Datapath counter.");
		for (i = 0; i < n; i++) {
			sample_if(out, name, ifs[i].name);
			fprintf(out, "} %llu\n", (unsigned long long)ifs[i].s.cnt[c]);
		}
	}
}
