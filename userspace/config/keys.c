// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The table of config keys: everything said about a key is said here once,
 * its name and field, type, limits, default, whether a reload applies it, and
 * what it does. The defaults struct (config.c), the YAML file and the command
 * line (which set keys through dm_key_set()), the usage text, the README's
 * key table, the man page and `dicomon --dump-keys` (keydoc.c) all read it;
 * tests/unit/test_keydoc.c fails when a committed document no longer says
 * what this table says.
 *
 * help: one phrase or sentence, markdown-ish (`code`, [text](README-relative
 * link)); keydoc.c renders it for markdown, troff and plain text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "config/config.h"
#include "lib/log.h"
#include "lib/netaddr.h"

const char *const dm_xdp_mode_names[] = {"auto", "native", "generic", "off", NULL};
const char *const dm_tc_mode_names[] = {"auto", "tcx", "clsact", NULL};
const char *const dm_syslog_facility_names[] = {"local0", "local1", "local2", "local3",
						"local4", "local5", "local6", "local7",
						"user",	  "daemon", NULL};
const char *const dm_sections[] = {"attach", "detection", "maps",   "state",	"output",
				   "table",  "feed",	  "alerts", "evidence", "policy",
				   "rules",  "metrics",	  NULL};

_Static_assert(sizeof(enum dm_xdp_mode) == sizeof(int), "ENUM keys are stored as int");
_Static_assert(sizeof(enum dm_tc_mode) == sizeof(int), "ENUM keys are stored as int");

/* LIST items: each checker says what is wrong in why. */
static int check_cidr(const char *s, char *why, size_t whylen)
{
	struct dm_cidr c;

	if (dm_cidr_parse(s, &c)) {
		snprintf(why, whylen, "'%.60s' is not an address or ADDRESS/PREFIX", s);
		return -EINVAL;
	}
	return 0;
}

static int check_sid(const char *s, char *why, size_t whylen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v < DM_SID_MIN || v > DM_SID_MAX) {
		snprintf(why, whylen, "'%.30s' is not a dicomon signature id (%u..%u)", s,
			 DM_SID_MIN, DM_SID_MAX);
		return -EINVAL;
	}
	return 0;
}

static int check_listen(const char *s, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (dm_listen_parse(s, &ss, &len)) {
		snprintf(why, whylen, "'%.60s' is not ADDRESS:PORT or [IPV6-ADDRESS]:PORT", s);
		return -EINVAL;
	}
	return 0;
}

#define OFF(f)	offsetof(struct dm_config, f)
#define SIZE(f) sizeof(((struct dm_config *)0)->f)
/* One row per type; the rest (.flags, .note, .what, .help) is named in the row. */
#define KB(n, f, d, ...)                                                                           \
	{                                                                                          \
		.name = n, .type = DM_KT_BOOL, .off = OFF(f), .def = d, __VA_ARGS__                \
	}
#define KU(n, f, lo, hi, d, ...)                                                                   \
	{                                                                                          \
		.name = n, .type = DM_KT_U32, .off = OFF(f), .min = lo, .max = hi, .def = d,       \
		__VA_ARGS__                                                                        \
	}
#define KE(n, f, tab, d, ...)                                                                      \
	{                                                                                          \
		.name = n, .type = DM_KT_ENUM, .off = OFF(f), .names = tab, .def = d, __VA_ARGS__  \
	}
#define KPORTS(n, f, d, ...)                                                                       \
	{                                                                                          \
		.name = n, .type = DM_KT_PORTS, .off = OFF(f), .def = d, __VA_ARGS__               \
	}
#define KP(n, f, d, ...)                                                                           \
	{                                                                                          \
		.name = n, .type = DM_KT_PATH, .off = OFF(f), .size = SIZE(f), .def = d,           \
		__VA_ARGS__                                                                        \
	}
#define KL(n, f, fn, d, ...)                                                                       \
	{                                                                                          \
		.name = n, .type = DM_KT_LIST, .off = OFF(f), .size = SIZE(f), .check = fn,        \
		.def = d, __VA_ARGS__                                                              \
	}

/* Order = order in the docs and in packaging/dicomon.yaml. */
const struct dm_key dm_keys[] = {
    KE("attach.xdp_mode", xdp_mode, dm_xdp_mode_names, "auto", .note = "re-attach",
       .help = "XDP on ingress; `auto` is native, else generic with a warning"),
    KB("attach.tc_ingress", tc_ingress, "false", .help = "TC program on ingress"),
    KB("attach.tc_egress", tc_egress, "false",
       .help = "TC program on egress (the host's own traffic)"),
    KE("attach.tc_mode", tc_mode, dm_tc_mode_names, "auto", .note = "re-attach",
       .help = "tcx links where the kernel has them (6.6+), in front of every other tcx program; "
	       "else a clsact filter (handle `0xd1c0`, priority 1, the first tc runs; `0xd1c0` "
	       "with a warning if another kind of classifier holds priority 1)"),
    KB("attach.vlan_meta", vlan_meta, "true",
       .help = "device-bound XDP copy reading VLAN tags stripped by the NIC"),
    KPORTS("detection.ports", port_map, DM_DEFAULT_PORTS,
	   .help = "DICOM ports: TLS and mid-stream pickups are recognised there"),
    KB("detection.any_port", any_port_rq, "true",
       .help = "recognise A-ASSOCIATE-RQ on every port (else on the DICOM ports only)"),
    KB("detection.midstream", midstream, "true",
       .help = "pick up associations already in progress (DICOM ports)"),
    KB("detection.tls", tls, "true", .help = "recognise TLS hellos on the DICOM ports"),
    KB("detection.dimse", dimse, "true", .help = "send DIMSE command heads to userspace"),
    KU("detection.dimse_snap", dimse_snap, 64, DM_PIECE_MAX, "512",
       .help = "bytes of a command P-DATA-TF PDU sent to userspace"),
    KB("detection.vlan_key", vlan_key, "true", .note = "warns",
       .help = "VLAN ids are part of the association key; associations in progress are keyed "
	       "the old way after a change"),
    KPORTS("detection.web_ports", web_port_map, DM_DEFAULT_WEB_PORTS, .max = DM_WEB_PORTS,
	   .help = "HTTP ports: a request to one of them is checked for DICOMweb (rule 11); `[]` "
		   "= none"),
    KU("detection.idle_reclaim_seconds", idle_reclaim_s, 0, 7 * 86400, "600",
       .help = "an association slot idle this long may be taken by a new association"),
    KU("detection.candidate_seconds", candidate_s, 0, 3600, "30",
       .help = "a flow whose first payload bytes could begin an A-ASSOCIATE-RQ (any port) or an "
	       "HTTP request (web ports) but are too few to say is held this long for its next "
	       "bytes (a candidate: see [How DICOM is recognised](#how-dicom-is-recognised)); "
	       "0: off"),
    KU("detection.source_rate", source_rate, 0, 1000000, "200",
       .help = "unanswered new associations (and A-ASSOCIATE-RQ candidates) one initiator "
	       "address may open per second, on average, in the kernel's tables: each is charged "
	       "to its source and given back when the acceptor answers (AC, RJ, TLS ServerHello), "
	       "so a busy source whose associations are answered is never limited; more are not "
	       "tracked and counted (`source_limited`), so that a flood of half-open RQs from one "
	       "source cannot evict the associations of others; 0: no limit (`dicomon replay` has "
	       "none: its clock is not the capture's)"),
    KU("detection.source_burst", source_burst, 1, 1000000, "1000",
       .help = "how many of them at once, above `detection.source_rate`"),
    KU("maps.flow_slots", flow_slots, 64, 1u << 22, "16384", .flags = DM_KF_POW2 | DM_KF_RESTART,
       .help = "association slots (`dm_flows`)"),
    KU("maps.overflow_entries", overflow_entries, 16, 1u << 22, "4096", .flags = DM_KF_RESTART,
       .help = "LRU overflow entries (`dm_overflow`)"),
    KU("maps.ringbuf_bytes", ringbuf_bytes, 1u << 16, 1u << 30, "16777216",
       .flags = DM_KF_POW2 | DM_KF_RESTART, .help = "ring buffer to userspace (`dm_events`)"),
    KU("maps.candidate_entries", candidate_entries, 16, 1u << 22, "4096", .flags = DM_KF_RESTART,
       .help = "flows held as candidates (`dm_cands`, LRU: the oldest is evicted, counted as "
	       "`candidates_evicted`)"),
    KP("state.pin_root", pin_root, DM_DEFAULT_PIN_ROOT, .flags = DM_KF_RESTART,
       .help = "bpffs directory of the pins; its parent must be a bpffs mount (`/sys/fs/bpf` is "
	       "mounted if missing, which needs CAP_SYS_ADMIN)"),
    KB("state.pin_links", pin_links, "true", .note = "next attach",
       .help = "pin the XDP/TC links: a dead daemon leaves monitoring running, the next start "
	       "takes the links over"),
    KB("state.detach_on_exit", detach_on_exit, "true",
       .help = "SIGINT/SIGTERM detach; `false` leaves the pinned links running (a zero-gap "
	       "`systemctl restart`)"),
    KB("output.json", json, "false", .flags = DM_KF_RESTART,
       .help = "events and counters as JSON lines on stdout"),
    KU("output.stats_interval", stats_interval_s, 0, 86400, "0",
       .help = "print the counters every N seconds (0: on SIGUSR1 and at exit)"),
    KE("output.log_level", log_level, dm_log_level_names, "warn",
       .help = "debug includes libbpf's messages and the verifier log"),
    KU("table.max_associations", table_max_assoc, 64, 1u << 24, "16384", .flags = DM_KF_RESTART,
       .help = "associations the userspace table holds; each takes 4–20 KiB, about 100 KiB at "
	       "most (a hostile set-up PDU is decoded from its first 16 KiB only)"),
    KU("table.keep_finished_seconds", table_keep_finished_s, 0, 7 * 86400, "300",
       .flags = DM_KF_RESTART, .help = "seconds a finished association stays listed"),
    KU("table.max_halfopen_per_source", table_max_halfopen, 0, 1u << 24, "1024",
       .help = "associations from one source address the table holds that nothing answered yet "
	       "(A-ASSOCIATE-RQ, no AC/RJ/abort); past it that source's oldest one is evicted, "
	       "never another source's (0: no limit)"),
    KU("table.idle_timeout_seconds", table_idle_timeout_s, 0, 7 * 86400, "900",
       .help = "an association with no event this long whose flow the kernel no longer holds, "
	       "or holds idle as long, ends with a record (`end_reason: \"idle\"`); 0: never"),
    KP("table.status_socket", status_socket, DM_DEFAULT_STATUS_SOCKET, .flags = DM_KF_RESTART,
       .help = "unix socket `dicomon status` reads"),
    KP("feed.file", feed_file, "", .flags = DM_KF_EMPTY, .note = "reopened on SIGHUP",
       .help = "append EVE JSON lines here (e.g. `/var/log/dicomon/eve.json`); `\"\"`: no file. "
	       "See [docs/feed.md](docs/feed.md)"),
    KB("feed.stdout", feed_stdout, "false",
       .help = "EVE lines on stdout instead of the per-event lines (text or `output.json`); "
	       "ready/reload/stats lines stay"),
    KP("feed.unix_socket", feed_unix_socket, "", .flags = DM_KF_EMPTY,
       .help = "connect to this listening unix stream socket and write the lines (reconnect "
	       "with backoff; lines the reader does not take are dropped and counted)"),
    KB("feed.syslog", feed_syslog, "false",
       .help = "RFC 5424 messages to `/dev/log`: alerts at crit/err/warning for severity 1/2/3, "
	       "association records at info"),
    KE("feed.syslog_facility", feed_syslog_facility, dm_syslog_facility_names, "local5",
       .help = "syslog facility of the feed"),
    KU("alerts.rate_limit_count", alert_rate_count, 0, 1000000, "10",
       .help = "alerts per rule and source per window (0: no limit); the next alert let "
	       "through carries `dicom.suppressed`"),
    KU("alerts.rate_limit_seconds", alert_rate_s, 1, 86400, "60",
       .help = "the rate limit's window"),
    KP("evidence.dir", evidence_dir, "", .flags = DM_KF_EMPTY | DM_KF_RESTART,
       .help = "write a pcap of each alerted DICOM association's packets here "
	       "(`DIR/dicomon-FLOWID.pcap`, 0600; data set bytes, user-identity values, command "
	       "values off the allow-list and Ethernet trailers zeroed); `\"\"`: off. See "
	       "[docs/feed.md](docs/feed.md#evidence)"),
    KU("evidence.packets", evidence_packets, 1, 4096, "64", .flags = DM_KF_RESTART,
       .help = "packets kept per DICOM association (its first ones: the set-up and the first "
	       "commands)"),
    /* policy.* and rules.*: the detection rules (rules.c, docs/rules.md) */
    KL("policy.imaging_networks", imaging_networks, check_cidr,
       /* The RFC 1918 and RFC 4193 ranges: where imaging networks usually live. */
       "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7", .what = "CIDRs",
       .help = "where the imaging systems are (RFC 1918 and RFC 4193 by default: where they "
	       "usually live); a cleartext association crossing this boundary is a "
	       "high-severity alert, an address outside it and outside "
	       "`policy.trusted_networks` an external peer. See [docs/rules.md](docs/rules.md)"),
    KL("policy.trusted_networks", trusted_networks, check_cidr, "", .what = "CIDRs",
       .help = "networks outside the imaging networks that may talk DICOM (a cloud PACS, a "
	       "teleradiology partner): not external peers"),
    KB("policy.require_tls", require_tls, "false",
       .help = "TLS required everywhere: a cleartext association inside the imaging networks "
	       "is medium severity instead of informational"),
    KPORTS("policy.tls_ports", tls_ports, "2762", /* PS3.15 B.1's recommended port */
	   .help = "TLS-only ports (2762: PS3.15's DICOM TLS port): cleartext DICOM on them is "
		   "an alert; `[]`: none"),
    KP("policy.ae_allowlist", ae_allowlist, "", .flags = DM_KF_EMPTY, .note = "reread on SIGHUP",
       .help = "YAML allow-list of AE titles, their addresses and allowed pairs (`dicomon run "
	       "--learn` writes one); `\"\"`: none, learn for `rules.learn_seconds`"),
    KU("rules.learn_seconds", learn_s, 0, 366 * 86400, "0",
       .help = "without an allow-list, AE titles, addresses and pairs seen this long after "
	       "start are learned and later ones reported; 0: unknown-AE rules off (no baseline "
	       "to judge against)"),
    KU("rules.enum_rejects", enum_rejects, 2, 1000000, "10",
       .help = "rejects \"called/calling AE title not recognized\" from one source within "
	       "`rules.enum_seconds` that make an AE title enumeration (nmap dicom-brute sends "
	       "thousands; a misconfigured modality retries a few times)"),
    KU("rules.enum_called_aes", enum_called_aes, 2, DM_DISTINCT_CAP, "10",
       .help = "distinct called AE titles from one source within `rules.enum_seconds` (a "
	       "workstation talks to a handful)"),
    KU("rules.enum_seconds", enum_s, 1, 86400, "60", .help = "window of the enumeration rule"),
    KU("rules.scan_targets", scan_targets, 2, DM_DISTINCT_CAP, "10",
       .help = "distinct hosts:ports one source opens associations to within "
	       "`rules.scan_seconds` (a modality sends to a few destinations)"),
    KU("rules.scan_seconds", scan_s, 1, 86400, "60", .help = "window of the scanning rules"),
    KU("rules.scan_silent_assocs", scan_silent, 1, 1000000, "3",
       .help = "associations from one source accepted and ended with neither a DIMSE command "
	       "nor a release (dicom-ping) within `rules.scan_seconds`; real software always "
	       "sends a command or releases"),
    KU("rules.any_ae_called", any_ae_called, 2, DM_DISTINCT_CAP, "5",
       .help = "distinct called AE titles one server (address:port) accepts within "
	       "`rules.any_ae_seconds`: it accepts any AE title (an archive with several AE "
	       "titles on one port has 2–4)"),
    KU("rules.any_ae_seconds", any_ae_s, 1, 7 * 86400, "3600", .help = "window of the any-AE rule"),
    KU("rules.find_results_max", find_results_max, 1, 1u << 30, "500",
       .help = "C-FIND responses on one association above which it is bulk retrieval (the "
	       "query is in the data set dicomon never reads, so the result count stands for "
	       "universal matching)"),
    KU("rules.subops_max", subops_max, 1, 1u << 30, "5000",
       .help = "C-MOVE/C-GET sub-operations (remaining + completed + failed + warning) above "
	       "which it is bulk retrieval (a CT study is 500–3000 instances)"),
    KU("rules.abort_storm", abort_storm, 2, 1000000, "20",
       .help = "A-ABORTs from or to one address within `rules.abort_seconds` (fuzzing and "
	       "exploit traffic)"),
    KU("rules.abort_seconds", abort_s, 1, 86400, "60", .help = "window of the abort storm rule"),
    KL("rules.disabled", rules_disabled, check_sid, "", .what = "signature ids",
       .help = "rules turned off, e.g. `[9100010]` to drop the informational cleartext alert"),
    KL("metrics.listen", metrics_listen, check_listen, DM_DEFAULT_METRICS_LISTEN,
       .flags = DM_KF_RESTART, .what = "`ADDRESS:PORT` or `[IPV6]:PORT`",
       .help = "Prometheus endpoint (`/metrics`); `[]` for none; `[0.0.0.0:9479]` to let a "
	       "Prometheus server on the network scrape it"),
    KU("metrics.connections_per_address", metrics_per_address, 1, 256, "8", .flags = DM_KF_RESTART,
       .help = "connections one client address may hold on the endpoint (more are closed at "
	       "once), so slow or idle clients from one place cannot starve the scrapes of "
	       "others; 256 in all"),
    KP("metrics.web_config_file", metrics_web_config, "", .flags = DM_KF_EMPTY | DM_KF_RESTART,
       .help = "TLS, client certificates and basic auth for `/metrics`: a web configuration "
	       "file in the Prometheus exporter-toolkit format; `\"\"`: plain HTTP, no "
	       "authentication. See [Securing /metrics](docs/daemon.md#securing-metrics)"),
};
const size_t dm_n_keys = sizeof(dm_keys) / sizeof(dm_keys[0]);
