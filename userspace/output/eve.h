/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * EVE JSON records (Suricata's format, so Filebeat's Suricata module, Wazuh,
 * Splunk and Logstash read them as they are): the common fields
 * timestamp, flow_id, in_iface, vlan, src_ip, src_port, dest_ip, dest_port,
 * proto, app_proto, event_type, then
 *   event_type "dicom": a dicom object, the association record;
 *   event_type "alert": an alert object and a dicom object that explains it.
 * Field by field in docs/feed.md. The initiator is always src.
 */
#ifndef __DM_EVE_H
#define __DM_EVE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include "detect/alert.h"

struct dm_rec;

/*
 * The association record (call it when an association ends or is evicted).
 * ifname: the interface it was first seen on (NULL: in_iface omitted).
 */
json_object *dm_eve_dicom(const struct dm_rec *r, const char *ifname);
/*
 * An alert on association r (r may be NULL for an alert about a source rather
 * than one association: no flow fields then). a->details is consumed: its
 * keys become the dicom object's, with calling_ae, called_ae, transport and
 * tls_version of r added (overriding details' own). Without r, a->pkt_key
 * (if set) gives the flow fields and a->app_proto the app_proto.
 */
json_object *dm_eve_alert(const struct dm_rec *r, const char *ifname, const struct dm_alert *a);

/* Monotonic ns to "2026-11-22T01:02:03.123456+0000" (UTC, Suricata's form). */
void dm_eve_time(uint64_t mono_ns, char *buf, size_t len);

/*
 * The record as one line of JSON text, valid UTF-8 whatever its strings
 * held: json-c escapes control characters but copies bytes >= 0x80 as they
 * are, so every byte that does not start a well-formed UTF-8 sequence
 * becomes \u00XX (its Latin-1 reading). No trailing newline. malloc'd.
 */
char *dm_eve_line(json_object *rec, size_t *len);
/* in[0..n) as valid UTF-8 for a JSON string: bad bytes -> "\u00XX" (6 bytes). out >= 6n+1. */
size_t dm_eve_utf8_fix(const char *in, size_t n, char *out);

#endif /* __DM_EVE_H */
