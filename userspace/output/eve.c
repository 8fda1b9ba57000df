// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * EVE JSON records from association records (see eve.h, docs/feed.md). The
 * dicom object is dm_rec_json()'s rendering reshaped to Suricata's naming
 * (bytes_toserver/_toclient, pdus.toserver/.toclient), so the native --json
 * flow_end line and the EVE record never disagree about a field's meaning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/clock.h"
#include "lib/netaddr.h"
#include "output/eve.h"
#include "output/lines.h"
#include "lib/names.h"
#include "assoc/record.h"

void dm_eve_time(uint64_t mono_ns, char *buf, size_t len)
{
	dm_clock_format(mono_ns, "+0000", buf, len);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else
		return 0; /* continuation byte, overlong lead C0/C1, F5..FF */
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (need >= n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

size_t dm_eve_utf8_fix(const char *in, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, k;

	while (i < n) {
		k = utf8_seq(s + i, n - i);
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			o += sprintf(out + o, "\\u%04x", s[i++]);
		}
	}
	out[o] = 0;
	return o;
}

char *dm_eve_line(json_object *rec, size_t *len)
{
	size_t n, i;
	const char *s = json_object_to_json_string_length(
	    rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *out;

	/* The common case: nothing but ASCII, one copy. */
	for (i = 0; i < n && !(s[i] & 0x80); i++)
		;
	out = malloc(i == n ? n + 1 : 6 * n + 1);
	if (!out)
		return NULL;
	if (i == n) {
		memcpy(out, s, n + 1);
	} else {
		/* Bytes >= 0x80 only occur inside strings in json-c's output. */
		memcpy(out, s, i);
		n = i + dm_eve_utf8_fix(s + i, n - i, out + i);
	}
	if (len)
		*len = n;
	return out;
}

/* The common fields, in Suricata's order. */
static json_object *eve_common(const struct dm_rec *r, const char *ifname, uint64_t ts_ns,
			       const char *event_type)
{
	json_object *o = json_object_new_object(), *v;
	const uint16_t *vl;
	char buf[64];
	int is;

	dm_eve_time(ts_ns, buf, sizeof(buf));
	json_object_object_add(o, "timestamp", json_object_new_string(buf));
	if (r) {
		/* int64 as Suricata's; ids are far below 2^53, so JavaScript readers agree. */
		json_object_object_add(o, "flow_id",
				       json_object_new_int64((int64_t)(r->id & INT64_MAX)));
	}
	if (ifname && *ifname)
		json_object_object_add(o, "in_iface", json_object_new_string(ifname));
	json_object_object_add(o, "event_type", json_object_new_string(event_type));
	dm_source_json(o);
	if (!r)
		return o;
	/* Without VLAN ids in the key (detection.vlan_key false): the initiator's last. */
	vl = r->key.vlan[0] || r->key.vlan[1] ? r->key.vlan : r->dir[DM_DIR_ORIG].vlan;
	if (vl[0] || vl[1]) {
		v = json_object_new_array();
		if (vl[0])
			json_object_array_add(v, json_object_new_int(vl[0]));
		if (vl[1])
			json_object_array_add(v, json_object_new_int(vl[1]));
		json_object_object_add(o, "vlan", v);
	}
	is = r->init_side & 1;
	dm_key_addr_format(&r->key, is, buf, sizeof(buf));
	json_object_object_add(o, "src_ip", json_object_new_string(buf));
	json_object_object_add(o, "src_port", json_object_new_int(r->key.port[is]));
	dm_key_addr_format(&r->key, !is, buf, sizeof(buf));
	json_object_object_add(o, "dest_ip", json_object_new_string(buf));
	json_object_object_add(o, "dest_port", json_object_new_int(r->key.port[!is]));
	json_object_object_add(o, "proto", json_object_new_string("TCP"));
	json_object_object_add(o, "app_proto", json_object_new_string("dicom"));
	return o;
}

static json_object *tls_version(const struct dm_rec *r)
{
	const char *v = dm_tls_version_name(r->tls_selected ? r->tls_selected : r->tls_offered);

	return v ? json_object_new_string(v) : NULL;
}

/* The fields an alert's dicom object always carries. */
static void assoc_basics(const struct dm_rec *r, json_object *d)
{
	const char *s;

	s = dm_rec_calling(r);
	json_object_object_add(d, "calling_ae", *s ? json_object_new_string(s) : NULL);
	s = dm_rec_called(r);
	json_object_object_add(d, "called_ae", *s ? json_object_new_string(s) : NULL);
	json_object_object_add(d, "transport",
			       json_object_new_string(dm_transport_name(r->transport)));
	json_object_object_add(d, "tls_version", tls_version(r));
}

/* Move key k from src to dst (same name unless as is given). */
static void move_key(json_object *src, json_object *dst, const char *k, const char *as)
{
	json_object *v;

	if (!json_object_object_get_ex(src, k, &v))
		return;
	json_object_object_add(dst, as ? as : k, json_object_get(v));
}

/*
 * Command names from the wire are bounded for the SIEM's index: an unknown
 * command field ("0x1234" in the native record) is counted under "unknown"
 * rather than making up to 65536 field names.
 */
static json_object *commands_json(const struct dm_rec *r)
{
	json_object *o = json_object_new_object();
	uint64_t unknown = 0;
	const char *n;
	int i;

	for (i = 0; i < r->n_cmds; i++) {
		n = dm_dimse_name(r->cmds[i].field);
		if (n)
			json_object_object_add(o, n, json_object_new_int64(r->cmds[i].count));
		else
			unknown += r->cmds[i].count;
	}
	if (unknown)
		json_object_object_add(o, "unknown", json_object_new_int64(unknown));
	return o;
}

json_object *dm_eve_dicom(const struct dm_rec *r, const char *ifname)
{
	static const char *const keep[] = {"outcome",
					   "reject",
					   "abort",
					   "implementation",
					   "max_pdu",
					   "fingerprint",
					   "user_identity",
					   "presentation_contexts",
					   "decode_truncated",
					   "presentation_contexts_dropped",
					   "statuses",
					   "move_destinations",
					   "move_originators",
					   "ae_anomalies",
					   "violations",
					   "violations_total",
					   "decode_incomplete",
					   "candidate",
					   NULL};
	uint64_t end_ns = r->end_ns ? r->end_ns : dm_clock_now_ns();
	json_object *o = eve_common(r, ifname, end_ns, "dicom");
	json_object *full = json_object_new_object(), *d = json_object_new_object(), *p;
	char buf[64];
	int i;

	dm_rec_json(r, full);
	assoc_basics(r, d);
	for (i = 0; keep[i]; i++)
		move_key(full, d, keep[i], NULL);
	json_object_object_add(d, "commands", commands_json(r));
	json_object_object_add(d, "midstream", json_object_new_boolean(r->midstream));
	if (r->finished)
		json_object_object_add(d, "end_reason",
				       json_object_new_string(dm_end_reason_name(r->end_reason)));
	p = json_object_new_object();
	json_object_object_add(p, "toserver", dm_pdu_counts_json(&r->dir[DM_DIR_ORIG]));
	json_object_object_add(p, "toclient", dm_pdu_counts_json(&r->dir[DM_DIR_REPLY]));
	json_object_object_add(d, "pdus", p);
	json_object_object_add(d, "bytes_toserver",
			       json_object_new_int64(r->dir[DM_DIR_ORIG].bytes));
	json_object_object_add(d, "bytes_toclient",
			       json_object_new_int64(r->dir[DM_DIR_REPLY].bytes));
	dm_eve_time(r->start_ns, buf, sizeof(buf));
	json_object_object_add(d, "start", json_object_new_string(buf));
	if (r->finished) {
		dm_eve_time(r->end_ns, buf, sizeof(buf));
		json_object_object_add(d, "end", json_object_new_string(buf));
	} else {
		json_object_object_add(d, "end", NULL);
	}
	snprintf(buf, sizeof(buf), "%.6f",
		 end_ns > r->start_ns ? (double)(end_ns - r->start_ns) / 1e9 : 0.0);
	json_object_object_add(d, "duration", json_object_new_double_s(strtod(buf, NULL), buf));
	json_object_put(full);
	json_object_object_add(o, "dicom", d);
	return o;
}

/* Flow fields of an alert about one packet (no association): src is its endpoint src. */
static void pkt_flow(json_object *o, const struct dm_flow_key *k, int src, const char *app_proto)
{
	json_object *v;
	char buf[64];
	int is = src & 1;

	if (k->vlan[0] || k->vlan[1]) {
		v = json_object_new_array();
		if (k->vlan[0])
			json_object_array_add(v, json_object_new_int(k->vlan[0]));
		if (k->vlan[1])
			json_object_array_add(v, json_object_new_int(k->vlan[1]));
		json_object_object_add(o, "vlan", v);
	}
	dm_key_addr_format(k, is, buf, sizeof(buf));
	json_object_object_add(o, "src_ip", json_object_new_string(buf));
	json_object_object_add(o, "src_port", json_object_new_int(k->port[is]));
	dm_key_addr_format(k, !is, buf, sizeof(buf));
	json_object_object_add(o, "dest_ip", json_object_new_string(buf));
	json_object_object_add(o, "dest_port", json_object_new_int(k->port[!is]));
	json_object_object_add(o, "proto", json_object_new_string("TCP"));
	json_object_object_add(o, "app_proto",
			       json_object_new_string(app_proto ? app_proto : "dicom"));
}

json_object *dm_eve_alert(const struct dm_rec *r, const char *ifname, const struct dm_alert *a)
{
	json_object *o = eve_common(r, ifname, dm_clock_now_ns(), "alert");
	json_object *al = json_object_new_object(), *d = a->details;

	if (!r && a->pkt_key)
		pkt_flow(o, a->pkt_key, a->pkt_src, a->app_proto);

	json_object_object_add(al, "action", json_object_new_string("allowed"));
	json_object_object_add(al, "gid", json_object_new_int(1));
	json_object_object_add(al, "signature_id", json_object_new_int64(a->sid));
	json_object_object_add(al, "rev", json_object_new_int64(a->rev));
	json_object_object_add(al, "signature",
			       json_object_new_string(a->signature ? a->signature : ""));
	json_object_object_add(al, "category",
			       json_object_new_string(a->category ? a->category : ""));
	json_object_object_add(al, "severity", json_object_new_int(a->severity));
	json_object_object_add(o, "alert", al);
	if (!d || !json_object_is_type(d, json_type_object)) {
		json_object_put(d);
		d = json_object_new_object();
	}
	if (r)
		assoc_basics(r, d);
	json_object_object_add(o, "dicom", d);
	return o;
}
