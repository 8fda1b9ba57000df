/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One alert, as a detection rule hands it to the feed (feed.h):
 *
 *   struct dm_alert a = {
 *       .sid = 1000005, .rev = 1,
 *       .signature = "DICOM AE title enumeration",
 *       .category = "Attempted Information Leak",
 *       .severity = 2,
 *       .details = d,          // json_object_new_object(): what explains it
 *       .src_key = "10.0.0.9", // rate-limit source
 *   };
 *   dm_feed_alert(feed, rec, ifname, &a);   // d belongs to the feed now
 *
 * The feed builds the EVE record (eve.h): alert {action, gid, signature_id,
 * rev, signature, category, severity} and a dicom object made of details
 * plus the association's AE titles, transport and TLS version. Never put
 * PHI in details: no data set bytes, no user identity contents, no DICOMweb
 * query values (name the keys only).
 */
#ifndef __DM_ALERT_H
#define __DM_ALERT_H

#include <json-c/json.h>
#include <stdint.h>

struct dm_flow_key;

#define DM_ALERT_SEV_HIGH   1
#define DM_ALERT_SEV_MEDIUM 2
#define DM_ALERT_SEV_LOW    3

struct dm_alert {
	uint32_t sid;	       /* signature_id: stable per rule */
	uint32_t rev;	       /* revision of the rule's logic */
	const char *signature; /* "DICOM cleartext association" (ASCII, static) */
	const char *category;  /* Suricata classtype description, e.g. "Potential Corporate Privacy
				  Violation" */
	int severity;	       /* 1 high .. 3 low, as Suricata */
	/*
	 * What explains the alert (counts, thresholds, reason codes, key names);
	 * may be NULL. Owned by the callee after the call, whatever it returns:
	 * do not json_object_put() it yourself.
	 */
	json_object *details;
	/* Rate-limit source (usually the source IP); NULL or "" = one shared bucket per sid. */
	const char *src_key;
	/*
	 * Alerts without an association record (rec NULL) may name the packet
	 * they are about: its flow key (pkt_src: the endpoint that is src_ip),
	 * its interface and app_proto ("http"). NULL: no flow fields.
	 */
	const struct dm_flow_key *pkt_key;
	int pkt_src;
	uint32_t pkt_ifindex;
	const char *app_proto;
};

#endif /* __DM_ALERT_H */
