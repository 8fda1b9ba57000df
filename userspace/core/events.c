// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Ring buffer consumer: feeds every event to the association table (which
 * rebuilds and decodes the PDUs) and prints one line per event, as text or
 * as JSON. The flow-end line carries the association's whole record.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "output/assoc_metrics.h"
#include "lib/clock.h"
#include "core/events.h"
#include "kern/loader.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/netaddr.h"
#include "decode/pdu.h"
#include "decode/dicomweb.h"
#include "output/evidence.h"
#include "output/feed.h"
#include "assoc/httpasm.h"
#include "assoc/integrity.h"
#include "detect/rules.h"
#include "assoc/table.h"
#include "decode/uids.h"

struct dm_events {
	const struct dm_loader *loader;
	FILE *out;
	bool json;
	struct dm_table *table;
	struct dm_feed *feed;	/* NULL: no EVE feed */
	struct dm_rules *rules; /* NULL: no rules */
	struct dm_evidence *evidence; /* NULL: no evidence pcaps */
	struct dm_http_asm *http;     /* HTTP requests being put together */
	uint64_t last_expire_ns;
	struct dm_event_stats stats;
	struct dm_assoc_metrics am; /* Prometheus counters of whole associations */
};

static void count_end(struct dm_events *ev, const struct dm_rec *r)
{
	dm_am_end(&ev->am, r, dm_rules_ae_label(ev->rules, dm_rec_calling(r)),
		  dm_rules_ae_label(ev->rules, dm_rec_called(r)));
}

const struct dm_assoc_metrics *dm_events_assoc_metrics(const struct dm_events *ev)
{
	return &ev->am;
}

/*
 * An association the table drops while it is still going on: its record goes
 * out now (outcome as far as seen), as a kernel eviction's would.
 */
static void on_table_evict(void *ctx, struct dm_rec *r)
{
	struct dm_events *ev = ctx;

	r->end_ns = dm_clock_now_ns();
	r->end_reason = DM_END_EVICT;
	count_end(ev, r);
	if (ev->rules)
		dm_rules_end(ev->rules, r, r->end_ns);
	if (ev->feed)
		dm_feed_dicom(ev->feed, r, dm_loader_ifname(ev->loader, r->ifindex));
	if (ev->evidence)
		dm_evidence_end(ev->evidence, r->id);
}

static void on_http_req(void *ctx, const struct dm_event_hdr *h, const struct dm_http_req *req);

struct dm_events *dm_events_new(const struct dm_loader *l, bool json, FILE *out)
{
	struct dm_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->table = dm_table_new(DM_TABLE_DEFAULT_MAX, DM_TABLE_DEFAULT_KEEP_S);
	ev->http = dm_http_asm_new(on_http_req, ev);
	if (!ev->table || !ev->http) {
		dm_table_free(ev->table);
		dm_http_asm_free(ev->http);
		free(ev);
		return NULL;
	}
	ev->loader = l;
	ev->json = json;
	ev->out = out;
	dm_table_on_evict(ev->table, on_table_evict, ev);
	return ev;
}

void dm_events_free(struct dm_events *ev)
{
	if (!ev)
		return;
	dm_table_free(ev->table);
	dm_http_asm_free(ev->http);
	free(ev);
}

void dm_events_tick(struct dm_events *ev, uint64_t now_ns)
{
	dm_http_asm_expire(ev->http, now_ns);
}

void dm_events_flush(struct dm_events *ev)
{
	dm_http_asm_flush(ev->http);
}

const struct dm_http_asm_stats *dm_events_http_stats(const struct dm_events *ev)
{
	return dm_http_asm_stats(ev->http);
}

const struct dm_event_stats *dm_events_stats(const struct dm_events *ev)
{
	return &ev->stats;
}

struct dm_table *dm_events_table(struct dm_events *ev)
{
	return ev->table;
}

void dm_events_set_feed(struct dm_events *ev, struct dm_feed *feed)
{
	ev->feed = feed;
}

void dm_events_set_rules(struct dm_events *ev, struct dm_rules *rules)
{
	ev->rules = rules;
}

void dm_events_set_evidence(struct dm_events *ev, struct dm_evidence *e)
{
	ev->evidence = e;
}

/* With feed.stdout the EVE lines replace the native ones on stdout. */
static bool quiet(const struct dm_events *ev)
{
	return ev->feed && dm_feed_owns_stdout(ev->feed);
}

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

void dm_key_addr(const struct dm_flow_key *k, int side, char *buf, size_t len)
{
	dm_key_addr_format(k, side, buf, len);
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
static json_object *json_common(struct dm_events *ev, const struct dm_event_hdr *h,
				const char *event)
{
	json_object *o = json_object_new_object();
	int is = h->init_side & 1;
	char buf[64];

	json_object_object_add(o, "event", json_object_new_string(event));
	dm_format_time(h->ts_ns, buf, sizeof(buf));
	json_object_object_add(o, "timestamp", json_object_new_string(buf));
	json_object_object_add(o, "iface",
			       json_object_new_string(dm_loader_ifname(ev->loader, h->ifindex)));
	json_object_object_add(o, "hook", json_object_new_string(dm_hook_name(h->hook)));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)h->assoc_id);
	json_object_object_add(o, "assoc_id", json_object_new_string(buf));
	dm_key_addr(&h->key, is, buf, sizeof(buf));
	json_object_object_add(o, "src", json_object_new_string(buf));
	json_object_object_add(o, "sport", json_object_new_int(h->key.port[is]));
	dm_key_addr(&h->key, !is, buf, sizeof(buf));
	json_object_object_add(o, "dst", json_object_new_string(buf));
	json_object_object_add(o, "dport", json_object_new_int(h->key.port[!is]));
	json_object_object_add(o, "vlan", vlan_array(h->key.vlan));
	json_object_object_add(o, "dir", json_object_new_string(dm_dir_name(h->dir)));
	dm_source_json(o);
	return o;
}

static void text_common(struct dm_events *ev, const struct dm_event_hdr *h, const char *what)
{
	char t[64], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int is = h->init_side & 1;

	dm_format_time(h->ts_ns, t, sizeof(t));
	dm_key_addr(&h->key, is, s, sizeof(s));
	dm_key_addr(&h->key, !is, d, sizeof(d));
	fprintf(ev->out, "%s %s assoc=%llu %s%s%s:%u %s %s%s%s:%u", t,
		dm_loader_ifname(ev->loader, h->ifindex), (unsigned long long)h->assoc_id,
		h->key.family == 6 ? "[" : "", s, h->key.family == 6 ? "]" : "", h->key.port[is],
		h->dir == DM_DIR_ORIG ? "->" : "<-", h->key.family == 6 ? "[" : "", d,
		h->key.family == 6 ? "]" : "", h->key.port[!is]);
	if (h->key.vlan[0])
		fprintf(ev->out, " vlan=%u", h->key.vlan[0]);
	if (h->key.vlan[1])
		fprintf(ev->out, ".%u", h->key.vlan[1]);
	if (dm_clock_source())
		fprintf(ev->out, " pcap=%s:%llu", dm_clock_source()->file,
			(unsigned long long)dm_clock_source()->packet);
	fprintf(ev->out, " %s", what);
}

static void emit_json(struct dm_events *ev, json_object *o)
{
	fprintf(ev->out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	fflush(ev->out);
}

static void on_pdu(struct dm_events *ev, struct dm_rec *r, const struct dm_event_hdr *h,
		   const uint8_t *pdu, size_t len, int truncated)
{
	const char *name = dm_pdu_name(pdu[0]);
	struct dm_assoc_hdr ah;
	struct dm_reject rj;
	json_object *o = NULL;
	int have_ah = !dm_assoc_hdr_parse(pdu, len, &ah);
	int have_rj = !dm_reject_parse(pdu, len, &rj);

	ev->stats.pdus_decoded++;
	dm_table_control_pdu(ev->table, r, h->dir, pdu, len);
	if (ev->rules) {
		switch (pdu[0]) {
		case DM_PDU_ASSOC_RQ:
			dm_rules_assoc_rq(ev->rules, r, h->ts_ns);
			break;
		case DM_PDU_ASSOC_AC:
			dm_rules_assoc_ac(ev->rules, r, h->ts_ns);
			break;
		case DM_PDU_ASSOC_RJ:
			dm_rules_reject(ev->rules, r, h->ts_ns);
			break;
		}
	}
	if (quiet(ev))
		return;
	if (ev->json) {
		o = json_common(ev, h, dm_event_name(DM_EV_PDU));
		json_object_object_add(o, "pdu", json_object_new_string(name));
		json_object_object_add(
		    o, "transport",
		    json_object_new_string(dm_transport_name(DM_TRANSPORT_CLEARTEXT)));
		json_object_object_add(o, "length", json_object_new_int64(len));
		json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
		if (have_ah) {
			json_object_object_add(o, "calling_ae", json_object_new_string(ah.calling));
			json_object_object_add(o, "called_ae", json_object_new_string(ah.called));
		}
		if (have_rj && pdu[0] == DM_PDU_ASSOC_RJ) {
			json_object_object_add(o, "result", json_object_new_int(rj.result));
			json_object_object_add(o, "source", json_object_new_int(rj.source));
			json_object_object_add(o, "reason", json_object_new_int(rj.reason));
			json_object_object_add(
			    o, "reason_name",
			    json_object_new_string(dm_reject_reason_name(rj.source, rj.reason)));
		} else if (have_rj) {
			json_object_object_add(o, "source", json_object_new_int(rj.source));
			json_object_object_add(o, "reason", json_object_new_int(rj.reason));
			json_object_object_add(
			    o, "reason_name",
			    json_object_new_string(dm_abort_reason_name(rj.source, rj.reason)));
		}
		emit_json(ev, o);
		return;
	}
	text_common(ev, h, name);
	fprintf(ev->out, " cleartext");
	if (have_ah)
		fprintf(ev->out, " calling=\"%s\" called=\"%s\"", ah.calling, ah.called);
	if (have_rj && pdu[0] == DM_PDU_ASSOC_RJ)
		fprintf(ev->out, " result=%u source=%u reason=%u (%s)", rj.result, rj.source,
			rj.reason, dm_reject_reason_name(rj.source, rj.reason));
	else if (have_rj)
		fprintf(ev->out, " source=%u reason=%u (%s)", rj.source, rj.reason,
			dm_abort_reason_name(rj.source, rj.reason));
	if (truncated)
		fprintf(ev->out, " truncated");
	fputc('\n', ev->out);
	fflush(ev->out);
}

static void on_dimse(struct dm_events *ev, struct dm_rec *r, const struct dm_event_hdr *h,
		     const uint8_t *pdu, size_t n)
{
	struct dm_dimse_cmd c;
	const char *cmd, *sname;
	json_object *o;
	int err = dm_table_dimse(ev->table, r, h->dir, pdu, n, &c);

	if (err == -EAGAIN)
		return; /* a fragment of a command split over PDUs: printed once whole */
	if (!err)
		dm_am_dimse(&ev->am, c.command, c.present & DM_DC_STATUS, c.status);
	if (!err && ev->rules)
		dm_rules_dimse(ev->rules, r, &c, h->ts_ns);
	if (quiet(ev))
		return;
	cmd = err ? NULL : dm_dimse_name(c.command);
	sname = c.present & DM_DC_STATUS ? dm_status_name(c.command, c.status) : NULL;
	if (ev->json) {
		o = json_common(ev, h, dm_event_name(DM_EV_DIMSE));
		json_object_object_add(o, "command", cmd ? json_object_new_string(cmd) : NULL);
		if (!err) {
			json_object_object_add(o, "command_field", json_object_new_int(c.command));
			json_object_object_add(o, "pc_id", json_object_new_int(c.pc_id));
		}
		if (c.present & DM_DC_MESSAGE_ID)
			json_object_object_add(o, "message_id", json_object_new_int(c.message_id));
		if (c.present & DM_DC_RESPONDED_TO)
			json_object_object_add(o, "responded_to",
					       json_object_new_int(c.responded_to));
		if (c.present & DM_DC_AFFECTED_SOP) {
			const char *n = dm_uid_name(c.affected_sop_class);

			json_object_object_add(o, "affected_sop_class",
					       json_object_new_string(c.affected_sop_class));
			json_object_object_add(o, "affected_sop_class_name",
					       n ? json_object_new_string(n) : NULL);
		}
		if (c.present & DM_DC_MOVE_DEST)
			json_object_object_add(o, "move_destination",
					       json_object_new_string(c.move_destination.str));
		if (c.present & DM_DC_STATUS) {
			json_object_object_add(o, "status", json_object_new_int(c.status));
			json_object_object_add(o, "status_class",
					       json_object_new_string(dm_status_class(c.status)));
			json_object_object_add(o, "status_name",
					       sname ? json_object_new_string(sname) : NULL);
		}
		emit_json(ev, o);
		return;
	}
	text_common(ev, h, cmd ? cmd : "DIMSE?");
	if (c.present & DM_DC_MESSAGE_ID)
		fprintf(ev->out, " msg=%u", c.message_id);
	if (c.present & DM_DC_RESPONDED_TO)
		fprintf(ev->out, " resp_to=%u", c.responded_to);
	if (c.present & DM_DC_MOVE_DEST)
		fprintf(ev->out, " move_destination=\"%s\"", c.move_destination.str);
	if (c.present & DM_DC_STATUS)
		fprintf(ev->out, " status=0x%04x (%s%s%s)", c.status, dm_status_class(c.status),
			sname ? ": " : "", sname ? sname : "");
	fputc('\n', ev->out);
	fflush(ev->out);
}

static void on_piece(struct dm_events *ev, const struct dm_event_piece *e, size_t rec_len)
{
	const uint8_t *pdu;
	struct dm_rec *r;
	size_t len;

	if (e->hdr.len > rec_len - sizeof(*e) || e->hdr.len > DM_PIECE_MAX) {
		ev->stats.malformed++;
		return;
	}
	/* Control PDUs and DIMSE command heads alike may come in several pieces. */
	r = dm_table_get(ev->table, &e->hdr);
	if (!r || !dm_table_piece(ev->table, r, e, &pdu, &len))
		return;
	if (e->hdr.type == DM_EV_DIMSE)
		on_dimse(ev, r, &e->hdr, pdu, len);
	else
		on_pdu(ev, r, &e->hdr, pdu, len, !!(e->hdr.flags & DM_EF_TRUNC));
}

/*
 * A control PDU of direction dir that will not be finished (the flow ended,
 * the datapath stopped shipping it): decoded from what arrived, truncated.
 */
static void flush_pdu(struct dm_events *ev, struct dm_rec *r, const struct dm_event_hdr *h, int dir)
{
	struct dm_event_hdr hd = *h;
	const uint8_t *pdu;
	size_t len;

	if (!dm_table_pending(ev->table, r, dir, &pdu, &len))
		return;
	hd.type = DM_EV_PDU;
	hd.dir = (uint8_t)dir;
	on_pdu(ev, r, &hd, pdu, len, 1);
}

/* DM_EV_ANOMALY: a violation of its association, and a line of its own. */
static void on_anomaly(struct dm_events *ev, const struct dm_event_anomaly *e)
{
	struct dm_rec *r = dm_table_get(ev->table, &e->hdr);
	const char *name = dm_anomaly_name(e->code);
	json_object *o;
	char what[64];

	if (r) {
		dm_integrity_anomaly(ev->table, r, e);
		if (dm_anomaly_ends_pdu(e->code))
			flush_pdu(ev, r, &e->hdr, e->hdr.dir & 1);
	}
	if (quiet(ev))
		return;
	if (ev->json) {
		o = json_common(ev, &e->hdr, dm_event_name(DM_EV_ANOMALY));
		json_object_object_add(o, "anomaly", json_object_new_string(name));
		json_object_object_add(o, "value", json_object_new_int64(e->value));
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)e->offset));
		emit_json(ev, o);
		return;
	}
	snprintf(what, sizeof(what), "ANOMALY %s", name);
	text_common(ev, &e->hdr, what);
	fprintf(ev->out, " value=%u offset=%llu\n", e->value, (unsigned long long)e->offset);
	fflush(ev->out);
}

static void on_tls(struct dm_events *ev, const struct dm_event_tls *e)
{
	const char *v = dm_tls_version_name(e->version);
	struct dm_rec *r = dm_table_get(ev->table, &e->hdr);
	json_object *o;

	if (r)
		dm_table_tls(ev->table, r, e);
	if (r && ev->rules)
		dm_rules_tls(ev->rules, r, e->hdr.ts_ns);
	if (quiet(ev))
		return;

	if (ev->json) {
		o = json_common(ev, &e->hdr, dm_event_name(DM_EV_TLS));
		json_object_object_add(
		    o, "hello", json_object_new_string(e->hs_type == 1 ? "client" : "server"));
		json_object_object_add(o, "version", v ? json_object_new_string(v) : NULL);
		json_object_object_add(o, "legacy_version", json_object_new_int(e->legacy_version));
		json_object_object_add(o, "transport",
				       json_object_new_string(dm_transport_name(DM_TRANSPORT_TLS)));
		emit_json(ev, o);
		return;
	}
	text_common(ev, &e->hdr, e->hs_type == 1 ? "TLS-ClientHello" : "TLS-ServerHello");
	fprintf(ev->out, " tls version=%s\n", v ? v : "?");
	fflush(ev->out);
}

static json_object *pdu_counts(const struct dm_dir_state *d)
{
	json_object *o = json_object_new_object();
	int t;

	for (t = 1; t < DM_PDU_MAX; t++)
		if (d->pdus[t])
			json_object_object_add(o, dm_pdu_name(t),
					       json_object_new_int64(d->pdus[t]));
	return o;
}

static void on_flow_end(struct dm_events *ev, const struct dm_event_flow *e)
{
	const struct dm_assoc *as = &e->assoc;
	struct dm_rec *r = dm_table_get(ev->table, &e->hdr);
	const char *off = dm_tls_version_name(as->tls_offered);
	const char *sel = dm_tls_version_name(as->tls_selected);
	json_object *o, *p, *b;
	char dur[32];
	double secs;
	int t, d;

	if (!r) {
		if (ev->evidence)
			dm_evidence_end(ev->evidence, e->hdr.assoc_id);
		return;
	}
	for (d = 0; d < DM_DIR_MAX; d++)
		flush_pdu(ev, r, &e->hdr, d);
	dm_table_end(ev->table, r, e);
	count_end(ev, r);
	if (ev->rules)
		dm_rules_end(ev->rules, r, e->hdr.ts_ns);
	if (ev->feed)
		dm_feed_dicom(ev->feed, r, dm_loader_ifname(ev->loader, r->ifindex));
	if (ev->evidence)
		dm_evidence_end(ev->evidence, r->id);
	if (quiet(ev))
		return;
	/* Coarse clock (a tick) on the BPF side: durations are good to a few ms. */
	secs = as->last_ns > as->first_ns ? (double)(as->last_ns - as->first_ns) / 1e9 : 0;
	snprintf(dur, sizeof(dur), "%.3f", secs);
	if (ev->json) {
		o = json_common(ev, &e->hdr, dm_event_name(DM_EV_FLOW_END));
		/* Without VLAN ids in the key (--no-vlan-key), each direction's last ones. */
		if (!as->key.vlan[0] && !as->key.vlan[1]) {
			const __u16 *vo = as->dir[DM_DIR_ORIG].vlan,
				    *vr = as->dir[DM_DIR_REPLY].vlan;

			json_object_object_add(o, "vlan", vlan_array(vo));
			if (vo[0] != vr[0] || vo[1] != vr[1])
				json_object_object_add(o, "vlan_reply", vlan_array(vr));
		}
		json_object_object_add(o, "reason",
				       json_object_new_string(dm_end_reason_name(e->reason)));
		json_object_object_add(o, "state",
				       json_object_new_string(dm_state_name(as->state)));
		json_object_object_add(o, "transport",
				       json_object_new_string(dm_transport_name(as->transport)));
		json_object_object_add(o, "midstream",
				       json_object_new_boolean(as->flags & DM_AF_MIDSTREAM));
		json_object_object_add(o, "tls_offered", off ? json_object_new_string(off) : NULL);
		json_object_object_add(o, "tls_selected", sel ? json_object_new_string(sel) : NULL);
		p = json_object_new_object();
		b = json_object_new_object();
		for (d = 0; d < DM_DIR_MAX; d++) {
			json_object_object_add(p, dm_dir_name(d), pdu_counts(&as->dir[d]));
			json_object_object_add(b, dm_dir_name(d),
					       json_object_new_int64(as->dir[d].bytes));
		}
		json_object_object_add(o, "pdus", p);
		json_object_object_add(o, "bytes", b);
		json_object_object_add(
		    o, "retransmits",
		    json_object_new_int64(as->dir[0].retransmits + as->dir[1].retransmits));
		json_object_object_add(o, "gaps",
				       json_object_new_int64(as->dir[0].gaps + as->dir[1].gaps));
		json_object_object_add(
		    o, "resyncs", json_object_new_int64(as->dir[0].resyncs + as->dir[1].resyncs));
		json_object_object_add(o, "duration", json_object_new_double_s(secs, dur));
		dm_rec_json(r, o);
		emit_json(ev, o);
		return;
	}
	text_common(ev, &e->hdr, "END");
	fprintf(ev->out, " reason=%s state=%s outcome=%s transport=%s%s",
		dm_end_reason_name(e->reason), dm_state_name(as->state),
		as->transport == DM_TRANSPORT_TLS && r->outcome == DM_OUT_INCOMPLETE
		    ? "-"
		    : dm_outcome_name(r->outcome),
		dm_transport_name(as->transport), as->flags & DM_AF_MIDSTREAM ? " midstream" : "");
	if (r->rq || r->ac)
		fprintf(ev->out, " calling=\"%s\" called=\"%s\"", dm_rec_calling(r),
			dm_rec_called(r));
	if (r->have_fp)
		fprintf(ev->out, " toolkit=\"%s%s%s\"", r->fp.name, r->fp.version[0] ? " " : "",
			r->fp.version);
	if (r->n_commands)
		fprintf(ev->out, " commands=%u", r->n_commands);
	if (off || sel)
		fprintf(ev->out, " tls_offered=%s tls_selected=%s", off ? off : "-",
			sel ? sel : "-");
	for (d = 0; d < DM_DIR_MAX; d++) {
		fprintf(ev->out, " %s={bytes=%llu", dm_dir_name(d),
			(unsigned long long)as->dir[d].bytes);
		for (t = 1; t < DM_PDU_MAX; t++)
			if (as->dir[d].pdus[t])
				fprintf(ev->out, " %s=%u", dm_pdu_name(t), as->dir[d].pdus[t]);
		fputc('}', ev->out);
	}
	fprintf(ev->out, " duration=%ss\n", dur);
	fflush(ev->out);
}

/*
 * A DICOMweb request put together from its DM_EV_HTTP events (rule 11,
 * httpasm.c): only method, resource and PHI key names go on, its bytes are
 * zeroed. Requests that are not DICOMweb print nothing.
 */
static void on_http_req(void *ctx, const struct dm_event_hdr *h, const struct dm_http_req *req)
{
	struct dm_events *ev = ctx;
	json_object *o, *k;
	unsigned int b;

	if (req->resource == DM_DW_NONE)
		return;
	if (ev->rules)
		dm_rules_http(ev->rules, req, h, h->ts_ns);
	if (quiet(ev))
		return;
	if (ev->json) {
		o = json_common(ev, h, "dicomweb");
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
		emit_json(ev, o);
		return;
	}
	text_common(ev, h, "DICOMweb");
	fprintf(ev->out, " http method=%s resource=%s query_keys=%u", req->method,
		dm_dw_resource_name(req->resource), req->n_query_keys);
	for (b = 0; b < DM_PHI_MAX; b++)
		if (req->phi & 1u << b)
			fprintf(ev->out, "%s%s",
				req->phi & ((1u << b) - 1) ? "," : " phi_keys=", dm_dw_phi_name(b));
	fputc('\n', ev->out);
	fflush(ev->out);
}

static void on_http(struct dm_events *ev, const struct dm_event_http *e, uint64_t now_ns)
{
	if (e->hdr.len > DM_HTTP_SNAP) {
		ev->stats.malformed++;
		return;
	}
	dm_http_asm_event(ev->http, e, now_ns);
}

int dm_events_handle(void *ctx, void *data, size_t len)
{
	struct dm_events *ev = ctx;
	const struct dm_event_hdr *h = data;
	uint64_t now_ns = dm_clock_now_ns();

	/* Finished records age out, HTTP requests held too: checked at most once a second. */
	if (now_ns - ev->last_expire_ns > 1000000000ULL) {
		dm_table_expire(ev->table, now_ns);
		dm_http_asm_expire(ev->http, now_ns);
		ev->last_expire_ns = now_ns;
	}

	if (len < sizeof(*h) || h->type == DM_EV_NONE || h->type >= DM_EV_MAX) {
		ev->stats.malformed++;
		return 0;
	}
	ev->stats.events[h->type]++;
	switch (h->type) {
	case DM_EV_PDU:
	case DM_EV_DIMSE:
		if (len < sizeof(struct dm_event_piece))
			break;
		on_piece(ev, data, len);
		return 0;
	case DM_EV_TLS:
		if (len < sizeof(struct dm_event_tls))
			break;
		on_tls(ev, data);
		return 0;
	case DM_EV_FLOW_END:
		if (len < sizeof(struct dm_event_flow))
			break;
		on_flow_end(ev, data);
		return 0;
	case DM_EV_HTTP:
		if (len < sizeof(struct dm_event_http))
			break;
		on_http(ev, data, now_ns);
		return 0;
	case DM_EV_ANOMALY:
		if (len < sizeof(struct dm_event_anomaly))
			break;
		on_anomaly(ev, data);
		return 0;
	case DM_EV_PACKET:
		if (len < offsetof(struct dm_event_packet, data))
			break;
		if (ev->evidence)
			dm_evidence_packet(ev->evidence, data, len, dm_clock_wall_ns(h->ts_ns));
		return 0;
	}
	ev->stats.malformed++;
	return 0;
}
