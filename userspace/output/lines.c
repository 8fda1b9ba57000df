// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The event lines (see lines.h): text or JSON via json-c, one per event,
 * flushed as written so a reader of stdout sees each one as it happens.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include "lib/clock.h"
#include "lib/names.h"
#include "lib/netaddr.h"
#include "lib/textesc.h"
#include "output/lines.h"
#include "decode/pdu.h"
#include "decode/uids.h"

void dm_source_json(json_object *o)
{
	const struct dm_source *src = dm_clock_source();

	if (!src)
		return;
	/* Suricata's names in its pcap-file mode; the packet numbered as Wireshark does. */
	json_object_object_add(o, "pcap_filename", json_object_new_string(src->file));
	json_object_object_add(o, "pcap_cnt", json_object_new_int64((int64_t)src->packet));
}

void dm_format_time(uint64_t mono_ns, char *buf, size_t len)
{
	dm_clock_format(mono_ns, "+00:00", buf, len);
}

static json_object *vlan_array(const __u16 vlan[2])
{
	json_object *a = json_object_new_array();

	if (vlan[0])
		json_object_array_add(a, json_object_new_int(vlan[0]));
	if (vlan[1])
		json_object_array_add(a, json_object_new_int(vlan[1]));
	return a;
}

/* Common fields: time, interface, association id, initiator -> acceptor. */
static json_object *json_common(const struct dm_lines *l, const struct dm_event_hdr *h,
				const char *event)
{
	json_object *o = json_object_new_object();
	int is = h->init_side & 1;
	char buf[64];

	json_object_object_add(o, "event", json_object_new_string(event));
	dm_format_time(h->ts_ns, buf, sizeof(buf));
	json_object_object_add(o, "timestamp", json_object_new_string(buf));
	json_object_object_add(o, "iface",
			       json_object_new_string(l->ifname(l->ctx, h->ifindex)));
	json_object_object_add(o, "hook", json_object_new_string(dm_hook_name(h->hook)));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)h->assoc_id);
	json_object_object_add(o, "assoc_id", json_object_new_string(buf));
	dm_key_addr_format(&h->key, is, buf, sizeof(buf));
	json_object_object_add(o, "src", json_object_new_string(buf));
	json_object_object_add(o, "sport", json_object_new_int(h->key.port[is]));
	dm_key_addr_format(&h->key, !is, buf, sizeof(buf));
	json_object_object_add(o, "dst", json_object_new_string(buf));
	json_object_object_add(o, "dport", json_object_new_int(h->key.port[!is]));
	json_object_object_add(o, "vlan", vlan_array(h->key.vlan));
	json_object_object_add(o, "dir", json_object_new_string(dm_dir_name(h->dir)));
	dm_source_json(o);
	return o;
}

/* The capture and packet a line comes from: one word, quoted if the file name needs it. */
static void text_source(FILE *out, const struct dm_source *src)
{
	char buf[PATH_MAX + 24];

	snprintf(buf, sizeof(buf), "%s:%llu", src->file, (unsigned long long)src->packet);
	fputs(" pcap=", out);
	dm_text_put_word(out, buf);
}

/* ` calling="..." called="..."`: AE titles from the wire, escaped (lib/textesc.h). */
static void text_aes(FILE *out, const char *calling, const char *called)
{
	fputs(" calling=", out);
	dm_text_put_quoted(out, calling);
	fputs(" called=", out);
	dm_text_put_quoted(out, called);
}

static void text_common(const struct dm_lines *l, const struct dm_event_hdr *h, const char *what)
{
	char t[64], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int is = h->init_side & 1;

	dm_format_time(h->ts_ns, t, sizeof(t));
	dm_key_addr_format(&h->key, is, s, sizeof(s));
	dm_key_addr_format(&h->key, !is, d, sizeof(d));
	fprintf(l->out, "%s ", t);
	dm_text_put_word(l->out, l->ifname(l->ctx, h->ifindex));
	fprintf(l->out, " assoc=%llu %s%s%s:%u %s %s%s%s:%u", (unsigned long long)h->assoc_id,
		h->key.family == 6 ? "[" : "", s, h->key.family == 6 ? "]" : "", h->key.port[is],
		h->dir == DM_DIR_ORIG ? "->" : "<-", h->key.family == 6 ? "[" : "", d,
		h->key.family == 6 ? "]" : "", h->key.port[!is]);
	if (h->key.vlan[0])
		fprintf(l->out, " vlan=%u", h->key.vlan[0]);
	if (h->key.vlan[1])
		fprintf(l->out, ".%u", h->key.vlan[1]);
	if (dm_clock_source())
		text_source(l->out, dm_clock_source());
	fprintf(l->out, " %s", what);
}

static void emit_json(const struct dm_lines *l, json_object *o)
{
	fprintf(l->out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	fflush(l->out);
}

json_object *dm_pdu_counts_json(const struct dm_dir_state *d)
{
	json_object *o = json_object_new_object();
	int t;

	for (t = 1; t < DM_PDU_MAX; t++)
		if (d->pdus[t])
			json_object_object_add(o, dm_pdu_name(t),
					       json_object_new_int64(d->pdus[t]));
	return o;
}

static void pdu_json(const struct dm_lines *l, const struct dm_event_hdr *h, const uint8_t *pdu,
		     size_t len, int truncated)
{
	json_object *o = json_common(l, h, dm_event_name(DM_EV_PDU));
	struct dm_assoc_hdr ah;
	struct dm_reject rj;
	int have_rj = !dm_reject_parse(pdu, len, &rj);

	json_object_object_add(o, "pdu", json_object_new_string(dm_pdu_name(pdu[0])));
	json_object_object_add(o, "transport",
			       json_object_new_string(dm_transport_name(DM_TRANSPORT_CLEARTEXT)));
	json_object_object_add(o, "length", json_object_new_int64(len));
	json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
	if (!dm_assoc_hdr_parse(pdu, len, &ah)) {
		json_object_object_add(o, "calling_ae", json_object_new_string(ah.calling));
		json_object_object_add(o, "called_ae", json_object_new_string(ah.called));
	}
	if (have_rj && pdu[0] == DM_PDU_ASSOC_RJ)
		json_object_object_add(o, "result", json_object_new_int(rj.result));
	if (have_rj) {
		json_object_object_add(o, "source", json_object_new_int(rj.source));
		json_object_object_add(o, "reason", json_object_new_int(rj.reason));
		json_object_object_add(
		    o, "reason_name",
		    json_object_new_string(pdu[0] == DM_PDU_ASSOC_RJ
					       ? dm_reject_reason_name(rj.source, rj.reason)
					       : dm_abort_reason_name(rj.source, rj.reason)));
	}
	emit_json(l, o);
}

void dm_lines_pdu(const struct dm_lines *l, const struct dm_event_hdr *h, const uint8_t *pdu,
		  size_t len, int truncated)
{
	struct dm_assoc_hdr ah;
	struct dm_reject rj;
	int have_rj;

	if (l->json) {
		pdu_json(l, h, pdu, len, truncated);
		return;
	}
	have_rj = !dm_reject_parse(pdu, len, &rj);
	text_common(l, h, dm_pdu_name(pdu[0]));
	fprintf(l->out, " cleartext");
	if (!dm_assoc_hdr_parse(pdu, len, &ah))
		text_aes(l->out, ah.calling, ah.called);
	if (have_rj && pdu[0] == DM_PDU_ASSOC_RJ)
		fprintf(l->out, " result=%u source=%u reason=%u (%s)", rj.result, rj.source,
			rj.reason, dm_reject_reason_name(rj.source, rj.reason));
	else if (have_rj)
		fprintf(l->out, " source=%u reason=%u (%s)", rj.source, rj.reason,
			dm_abort_reason_name(rj.source, rj.reason));
	if (truncated)
		fprintf(l->out, " truncated");
	fputc('\n', l->out);
	fflush(l->out);
}

static void dimse_json(const struct dm_lines *l, const struct dm_event_hdr *h, int err,
		       const struct dm_dimse_cmd *c)
{
	const char *cmd = err ? NULL : dm_dimse_name(c->command), *n;
	json_object *o = json_common(l, h, dm_event_name(DM_EV_DIMSE));

	json_object_object_add(o, "command", cmd ? json_object_new_string(cmd) : NULL);
	if (!err) {
		json_object_object_add(o, "command_field", json_object_new_int(c->command));
		json_object_object_add(o, "pc_id", json_object_new_int(c->pc_id));
	}
	if (c->present & DM_DC_MESSAGE_ID)
		json_object_object_add(o, "message_id", json_object_new_int(c->message_id));
	if (c->present & DM_DC_RESPONDED_TO)
		json_object_object_add(o, "responded_to", json_object_new_int(c->responded_to));
	if (c->present & DM_DC_AFFECTED_SOP) {
		n = dm_uid_name(c->affected_sop_class);
		json_object_object_add(o, "affected_sop_class",
				       json_object_new_string(c->affected_sop_class));
		json_object_object_add(o, "affected_sop_class_name",
				       n ? json_object_new_string(n) : NULL);
	}
	if (c->present & DM_DC_MOVE_DEST)
		json_object_object_add(o, "move_destination",
				       json_object_new_string(c->move_destination.str));
	if (c->present & DM_DC_STATUS) {
		n = dm_status_name(c->command, c->status);
		json_object_object_add(o, "status", json_object_new_int(c->status));
		json_object_object_add(o, "status_class",
				       json_object_new_string(dm_status_class(c->status)));
		json_object_object_add(o, "status_name", n ? json_object_new_string(n) : NULL);
	}
	emit_json(l, o);
}

void dm_lines_dimse(const struct dm_lines *l, const struct dm_event_hdr *h, int err,
		    const struct dm_dimse_cmd *c)
{
	const char *cmd = err ? NULL : dm_dimse_name(c->command);
	const char *sname = c->present & DM_DC_STATUS ? dm_status_name(c->command, c->status) : NULL;

	if (l->json) {
		dimse_json(l, h, err, c);
		return;
	}
	text_common(l, h, cmd ? cmd : "DIMSE?");
	if (c->present & DM_DC_MESSAGE_ID)
		fprintf(l->out, " msg=%u", c->message_id);
	if (c->present & DM_DC_RESPONDED_TO)
		fprintf(l->out, " resp_to=%u", c->responded_to);
	if (c->present & DM_DC_MOVE_DEST) {
		fputs(" move_destination=", l->out);
		dm_text_put_quoted(l->out, c->move_destination.str);
	}
	if (c->present & DM_DC_STATUS)
		fprintf(l->out, " status=0x%04x (%s%s%s)", c->status, dm_status_class(c->status),
			sname ? ": " : "", sname ? sname : "");
	fputc('\n', l->out);
	fflush(l->out);
}

void dm_lines_anomaly(const struct dm_lines *l, const struct dm_event_anomaly *e)
{
	const char *name = dm_anomaly_name(e->code);
	json_object *o;
	char what[64];

	if (l->json) {
		o = json_common(l, &e->hdr, dm_event_name(DM_EV_ANOMALY));
		json_object_object_add(o, "anomaly", json_object_new_string(name));
		json_object_object_add(o, "value", json_object_new_int64(e->value));
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)e->offset));
		emit_json(l, o);
		return;
	}
	snprintf(what, sizeof(what), "ANOMALY %s", name);
	text_common(l, &e->hdr, what);
	fprintf(l->out, " value=%u offset=%llu\n", e->value, (unsigned long long)e->offset);
	fflush(l->out);
}

void dm_lines_tls(const struct dm_lines *l, const struct dm_event_tls *e)
{
	const char *v = dm_tls_version_name(e->version);
	json_object *o;

	if (l->json) {
		o = json_common(l, &e->hdr, dm_event_name(DM_EV_TLS));
		json_object_object_add(
		    o, "hello", json_object_new_string(e->hs_type == 1 ? "client" : "server"));
		json_object_object_add(o, "version", v ? json_object_new_string(v) : NULL);
		json_object_object_add(o, "legacy_version", json_object_new_int(e->legacy_version));
		json_object_object_add(o, "transport",
				       json_object_new_string(dm_transport_name(DM_TRANSPORT_TLS)));
		emit_json(l, o);
		return;
	}
	text_common(l, &e->hdr, e->hs_type == 1 ? "TLS-ClientHello" : "TLS-ServerHello");
	fprintf(l->out, " tls version=%s\n", v ? v : "?");
	fflush(l->out);
}

/* Coarse clock (a tick) on the BPF side: durations are good to a few ms. */
static double duration(const struct dm_assoc *as, char *buf, size_t len)
{
	double secs = as->last_ns > as->first_ns ? (double)(as->last_ns - as->first_ns) / 1e9 : 0;

	snprintf(buf, len, "%.3f", secs);
	return secs;
}

/* The kernel's view of the association: state, transport, TLS, PDUs, bytes, stream trouble. */
static void flow_json_kernel(json_object *o, const struct dm_event_flow *e)
{
	const struct dm_assoc *as = &e->assoc;
	const char *off = dm_tls_version_name(as->tls_offered);
	const char *sel = dm_tls_version_name(as->tls_selected);
	json_object *p = json_object_new_object(), *b = json_object_new_object();
	int d;

	json_object_object_add(o, "reason", json_object_new_string(dm_end_reason_name(e->reason)));
	json_object_object_add(o, "state", json_object_new_string(dm_state_name(as->state)));
	json_object_object_add(o, "transport",
			       json_object_new_string(dm_transport_name(as->transport)));
	json_object_object_add(o, "midstream",
			       json_object_new_boolean(as->flags & DM_AF_MIDSTREAM));
	json_object_object_add(o, "tls_offered", off ? json_object_new_string(off) : NULL);
	json_object_object_add(o, "tls_selected", sel ? json_object_new_string(sel) : NULL);
	for (d = 0; d < DM_DIR_MAX; d++) {
		json_object_object_add(p, dm_dir_name(d), dm_pdu_counts_json(&as->dir[d]));
		json_object_object_add(b, dm_dir_name(d), json_object_new_int64(as->dir[d].bytes));
	}
	json_object_object_add(o, "pdus", p);
	json_object_object_add(o, "bytes", b);
	json_object_object_add(
	    o, "retransmits",
	    json_object_new_int64(as->dir[0].retransmits + as->dir[1].retransmits));
	json_object_object_add(o, "gaps", json_object_new_int64(as->dir[0].gaps + as->dir[1].gaps));
	json_object_object_add(o, "resyncs",
			       json_object_new_int64(as->dir[0].resyncs + as->dir[1].resyncs));
}

static void flow_end_json(const struct dm_lines *l, const struct dm_event_flow *e,
			  const struct dm_rec *r)
{
	const struct dm_assoc *as = &e->assoc;
	json_object *o = json_common(l, &e->hdr, dm_event_name(DM_EV_FLOW_END));
	char dur[32];
	double secs = duration(as, dur, sizeof(dur));

	/* Without VLAN ids in the key (--no-vlan-key), each direction's last ones. */
	if (!as->key.vlan[0] && !as->key.vlan[1]) {
		const __u16 *vo = as->dir[DM_DIR_ORIG].vlan, *vr = as->dir[DM_DIR_REPLY].vlan;

		json_object_object_add(o, "vlan", vlan_array(vo));
		if (vo[0] != vr[0] || vo[1] != vr[1])
			json_object_object_add(o, "vlan_reply", vlan_array(vr));
	}
	flow_json_kernel(o, e);
	json_object_object_add(o, "duration", json_object_new_double_s(secs, dur));
	dm_rec_json(r, o);
	emit_json(l, o);
}

void dm_lines_flow_end(const struct dm_lines *l, const struct dm_event_flow *e,
		       const struct dm_rec *r)
{
	const struct dm_assoc *as = &e->assoc;
	const char *off = dm_tls_version_name(as->tls_offered);
	const char *sel = dm_tls_version_name(as->tls_selected);
	char dur[32], tk[sizeof(r->fp.name) + sizeof(r->fp.version) + 1];
	int t, d;

	if (l->json) {
		flow_end_json(l, e, r);
		return;
	}
	duration(as, dur, sizeof(dur));
	text_common(l, &e->hdr, "END");
	fprintf(l->out, " reason=%s state=%s outcome=%s transport=%s%s",
		dm_end_reason_name(e->reason), dm_state_name(as->state),
		as->transport == DM_TRANSPORT_TLS && r->outcome == DM_OUT_INCOMPLETE
		    ? "-"
		    : dm_outcome_name(r->outcome),
		dm_transport_name(as->transport), as->flags & DM_AF_MIDSTREAM ? " midstream" : "");
	if (r->rq || r->ac)
		text_aes(l->out, dm_rec_calling(r), dm_rec_called(r));
	if (r->have_fp) {
		snprintf(tk, sizeof(tk), "%s%s%s", r->fp.name, r->fp.version[0] ? " " : "",
			 r->fp.version);
		fputs(" toolkit=", l->out);
		dm_text_put_quoted(l->out, tk);
	}
	if (r->n_commands)
		fprintf(l->out, " commands=%u", r->n_commands);
	if (off || sel)
		fprintf(l->out, " tls_offered=%s tls_selected=%s", off ? off : "-", sel ? sel : "-");
	for (d = 0; d < DM_DIR_MAX; d++) {
		fprintf(l->out, " %s={bytes=%llu", dm_dir_name(d),
			(unsigned long long)as->dir[d].bytes);
		for (t = 1; t < DM_PDU_MAX; t++)
			if (as->dir[d].pdus[t])
				fprintf(l->out, " %s=%u", dm_pdu_name(t), as->dir[d].pdus[t]);
		fputc('}', l->out);
	}
	fprintf(l->out, " duration=%ss\n", dur);
	fflush(l->out);
}

void dm_lines_http(const struct dm_lines *l, const struct dm_event_hdr *h,
		   const struct dm_http_req *req)
{
	json_object *o, *k;
	unsigned int b;

	if (l->json) {
		o = json_common(l, h, "dicomweb");
		json_object_object_add(o, "method", json_object_new_string(req->method));
		json_object_object_add(o, "resource",
				       json_object_new_string(dm_dw_resource_name(req->resource)));
		k = json_object_new_array();
		for (b = 0; b < DM_PHI_MAX; b++)
			if (req->phi & 1u << b)
				json_object_array_add(k, json_object_new_string(dm_dw_phi_name(b)));
		json_object_object_add(o, "phi_keys", k);
		json_object_object_add(o, "query_keys_count",
				       json_object_new_int64(req->n_query_keys));
		emit_json(l, o);
		return;
	}
	text_common(l, h, "DICOMweb");
	fprintf(l->out, " http method=%s resource=%s query_keys=%u", req->method,
		dm_dw_resource_name(req->resource), req->n_query_keys);
	for (b = 0; b < DM_PHI_MAX; b++)
		if (req->phi & 1u << b)
			fprintf(l->out, "%s%s",
				req->phi & ((1u << b) - 1) ? "," : " phi_keys=", dm_dw_phi_name(b));
	fputc('\n', l->out);
	fflush(l->out);
}
