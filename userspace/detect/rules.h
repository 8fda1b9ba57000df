/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_RULES_H
#define __DM_RULES_H

/*
 * Detection rules (issue 4, rules 1-12; docs/rules.md has the table).
 * The daemon calls a hook per association event with the association record
 * (table.h) after the table has taken the event in; alerts leave through the
 * emit callback. No per-packet work: a hook runs once per set-up PDU, DIMSE
 * command head, TLS hello or association end.
 *
 * State, all bounded: per-address and per-server entries (DM_RULES_PEERS,
 * least recently used evicted and counted) with 8-bucket windows and
 * 32-value distinct sets; a direct-mapped per-association memo
 * (DM_RULES_MEMO) so a rule fires once per association; the AE title
 * registries (policy.h), loaded and learned: ~9 MiB in all.
 *
 * Times: monotonic nanoseconds (the events' ts_ns), passed in so tests are
 * deterministic.
 */

#include <stdint.h>
#include <stdio.h>
#include "detect/alert.h"
#include "config/config.h"
#include "decode/dicomweb.h"
#include "assoc/record.h"
#include "decode/dimse.h"

#define DM_RULES_PEERS 8192
#define DM_RULES_MEMO  4096

/* Signature ids: 9100000 + rule * 10 + variant. Stable: never renumber. */
enum {
	DM_SID_CLEARTEXT = 9100010,	     /* 1 */
	DM_SID_CLEARTEXT_CREDS = 9100020,    /* 2 */
	DM_SID_INVALID_AE = 9100030,	     /* 3 */
	DM_SID_UNKNOWN_AE = 9100040,	     /* 4 */
	DM_SID_AE_SPOOF = 9100041,	     /* 4 */
	DM_SID_UNKNOWN_PAIR = 9100042,	     /* 4 */
	DM_SID_ENUM_REJECTS = 9100050,	     /* 5 */
	DM_SID_ENUM_CALLED = 9100051,	     /* 5 */
	DM_SID_SCAN_TARGETS = 9100060,	     /* 6 */
	DM_SID_SCAN_SILENT = 9100061,	     /* 6 */
	DM_SID_ANY_AE = 9100070,	     /* 7 */
	DM_SID_EXTERNAL = 9100080,	     /* 8 */
	DM_SID_EXTERNAL_INBOUND = 9100081,   /* 8 */
	DM_SID_MOVE_UNKNOWN = 9100090,	     /* 9 */
	DM_SID_BULK_FIND = 9100091,	     /* 9 */
	DM_SID_BULK_SUBOPS = 9100092,	     /* 9 */
	DM_SID_TLS_PORT_CLEARTEXT = 9100100, /* 10 */
	DM_SID_TLS_OLD = 9100101,	     /* 10 */
	DM_SID_TLS_MIXED_PORT = 9100102,     /* 10 */
	DM_SID_DICOMWEB_CLEARTEXT = 9100110, /* 11 */
	DM_SID_DICOMWEB_PHI = 9100111,	     /* 11 */
	DM_SID_PROTOCOL_VIOLATION = 9100120, /* 12 */
	DM_SID_ABORT_STORM = 9100121,	     /* 12 */
};

struct dm_rule_info {
	uint32_t sid, rev;
	int rule; /* issue 4's rule number */
	const char *signature, *category;
	int severity; /* default; some rules raise or lower it per case (docs/rules.md) */
};
extern const struct dm_rule_info dm_rule_table[];
extern const size_t dm_n_rules;

/*
 * Called once per alert. a->details belongs to the callee (alert.h); a and
 * its strings live for the call only.
 */
typedef void (*dm_alert_fn)(void *ctx, const struct dm_rec *rec, const struct dm_alert *a);

struct dm_rules_stats {
	uint64_t alerts;
	uint64_t peers;		/* address/server entries now */
	uint64_t peers_evicted; /* dropped to make room (their windows restart) */
	uint64_t memo_reused;	/* per-association memo slots taken over by another */
	uint64_t learned_titles;
	uint64_t learn_dropped; /* titles, bindings or pairs past the registry's caps */
	uint64_t allowlist_titles;
};

struct dm_rules;

/* NULL with the reason in err (a bad network list, an allow-list error with its line). */
struct dm_rules *dm_rules_new(const struct dm_config *cfg, dm_alert_fn emit, void *ctx, char *err,
			      size_t errlen);
/*
 * SIGHUP: thresholds, networks, disabled rules; the allow-list is read again.
 * On error nothing changes (the running policy stays) and err says why.
 */
int dm_rules_configure(struct dm_rules *r, const struct dm_config *cfg, char *err, size_t errlen);
void dm_rules_free(struct dm_rules *r);

/* Hooks: call after the table has taken the event in. */
void dm_rules_assoc_rq(struct dm_rules *r, const struct dm_rec *rec, uint64_t now_ns);
void dm_rules_assoc_ac(struct dm_rules *r, const struct dm_rec *rec, uint64_t now_ns);
void dm_rules_reject(struct dm_rules *r, const struct dm_rec *rec, uint64_t now_ns);
void dm_rules_dimse(struct dm_rules *r, const struct dm_rec *rec, const struct dm_dimse_cmd *c,
		    uint64_t now_ns);
void dm_rules_tls(struct dm_rules *r, const struct dm_rec *rec, uint64_t now_ns);
void dm_rules_end(struct dm_rules *r, const struct dm_rec *rec, uint64_t now_ns);
/*
 * Rule 11: a parsed HTTP request (dicomweb.h) from a DM_EV_HTTP event with
 * header h (no association: the alert's flow fields come from h's key, src =
 * the client). Alerts name the method, the resource and the PHI query keys,
 * never a value or a UID.
 */
void dm_rules_http(struct dm_rules *r, const struct dm_http_req *req, const struct dm_event_hdr *h,
		   uint64_t now_ns);

/*
 * The learned AE titles (with their addresses and pairs) as a YAML
 * allow-list for policy.ae_allowlist; with an allow-list loaded, that one.
 */
int dm_rules_write_allowlist(const struct dm_rules *r, FILE *f);
const struct dm_rules_stats *dm_rules_stats(const struct dm_rules *r);
/*
 * A metrics label for an AE title (dm_ae_string form): the title when the
 * allow-list (or, without one, the learned registry) has it, else "other".
 */
const char *dm_rules_ae_label(const struct dm_rules *r, const char *title);

#endif /* __DM_RULES_H */
