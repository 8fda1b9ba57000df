// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Every command-line option of every subcommand, one row each (cli.h), and
 * what each subcommand's usage says around them. An option that configures
 * something names its config key: the key's row (keys.c) holds the default
 * and limits the help prints (%D, %R), and dm_key_set() checks the value.
 * The rows are in the order the usage lists them.
 */
#include <stdio.h>
#include <string.h>
#include "config/cli.h"

#define RUN	DM_CMD_BIT(DM_CMD_RUN)
#define REPLAY	DM_CMD_BIT(DM_CMD_REPLAY)
#define STATUS	DM_CMD_BIT(DM_CMD_STATUS)
#define DETACH	DM_CMD_BIT(DM_CMD_DETACH)
#define VERSION DM_CMD_BIT(DM_CMD_VERSION)

/* An option that sets key to its argument / a flag that sets key to val. */
#define KEYARG(n, l, a, k, c, ...)                                                                 \
	{                                                                                          \
		.name = n, .letter = l, .arg = a, .key = k, .cmds = c, __VA_ARGS__                 \
	}
#define KEYFLAG(n, k, val, c, h)                                                                   \
	{                                                                                          \
		.name = n, .key = k, .value = val, .cmds = c, .help = h                            \
	}

const struct dm_opt dm_opts[] = {
    {"config", 'c', "FILE", DM_OA_CONFIG, .cmds = RUN,
     .help = "YAML config file (see dicomon(8)); re-read on SIGHUP"},
    {"config", 'c', "FILE", DM_OA_CONFIG, .cmds = REPLAY,
     .help = "YAML config (detection, policy, rules, feed keys)"},
    {"config", 'c', "FILE", DM_OA_CONFIG, .cmds = STATUS | DETACH,
     .help = "YAML config: the daemon's pin root and socket"},
    {"iface", 'i', "IFACE", DM_OA_IFACE, .cmds = RUN,
     .help = "interface to attach to (repeatable, up to %I);\n"
	     "replaces the file's interfaces list"},
    {"iface", 'i', "IFACE", DM_OA_IFACE, .cmds = DETACH,
     .help = "only this interface's attachments (repeatable);\n"
	     "the state stays pinned"},
    KEYARG("ports", 'p', "LIST", "detection.ports", RUN | REPLAY,
	   .help = "DICOM ports for mid-stream pickup and TLS\n"
		   "(default %D; ranges like 2000-2010)"),
    KEYARG("xdp-mode", 0, "MODE", "attach.xdp_mode", RUN,
	   .help = "auto (default), native, generic or off"),
    KEYFLAG("tc-ingress", "attach.tc_ingress", "true", RUN,
	    "also attach TC on ingress (use with --xdp-mode off\n"
	    "where XDP is unwanted)"),
    KEYFLAG("tc-egress", "attach.tc_egress", "true", RUN,
	    "also attach TC on egress (host's own traffic)"),
    KEYARG("tc-mode", 0, "MODE", "attach.tc_mode", RUN,
	   .help = "auto (tcx, else clsact), tcx or clsact"),
    KEYFLAG("no-vlan-meta", "attach.vlan_meta", "false", RUN,
	    "do not load the device-bound XDP copy that reads\n"
	    "VLAN tags stripped by the NIC"),
    KEYARG("flow-slots", 0, "N", "maps.flow_slots", RUN | REPLAY,
	   .help = "association slots (power of two, default %D)"),
    KEYARG("overflow", 0, "N", "maps.overflow_entries", RUN,
	   .help = "LRU overflow entries (default %D)"),
    KEYARG("ringbuf-bytes", 0, "N", "maps.ringbuf_bytes", RUN,
	   .help = "ring buffer size (power of two, default %D)"),
    KEYARG("dimse-snap", 0, "N", "detection.dimse_snap", RUN | REPLAY,
	   .help = "bytes of a DIMSE command PDU shipped (%R,\n"
		   "default %D)"),
    KEYFLAG("no-midstream", "detection.midstream", "false", RUN | REPLAY,
	    "do not pick up associations already in progress"),
    KEYFLAG("no-any-port", "detection.any_port", "false", RUN | REPLAY,
	    "detect A-ASSOCIATE-RQ on DICOM ports only"),
    KEYFLAG("no-vlan-key", "detection.vlan_key", "false", RUN | REPLAY,
	    "VLAN ids are not part of the association key (a\n"
	    "router between VLANs sees each direction on its own)"),
    KEYARG("pin-root", 0, "DIR", "state.pin_root", RUN | STATUS | DETACH, .flags = DM_OF_ABSPATH,
	   .help = "bpffs directory of the pinned state (default %D)"),
    KEYARG("socket", 0, "PATH", "table.status_socket", STATUS, .flags = DM_OF_ABSPATH,
	   .help = "the daemon's status socket (default %D)"),
    KEYFLAG("no-pin-links", "state.pin_links", "false", RUN,
	    "attachments end with the daemon (maps stay pinned)"),
    KEYFLAG("keep-attached", "state.detach_on_exit", "false", RUN,
	    "on SIGINT/SIGTERM leave the pinned attachments running"),
    {"reset-state", 0, NULL, DM_OA_RESET, .cmds = RUN,
     .help = "drop the pinned association table and counters first"},
    {"learn", 0, "FILE", DM_OA_LEARN, .cmds = RUN,
     .help = "learn AE titles, their addresses and pairs; at exit write\n"
	     "them to FILE as an allow-list (policy.ae_allowlist)"},
    KEYARG("evidence", 0, "DIR", "evidence.dir", RUN | REPLAY, .flags = DM_OF_ABSPATH,
	   .help = "a redacted pcap of each alerted association in DIR\n"
		   "(evidence.dir)"),
    {"eve", 0, "FILE|-", DM_OA_EVE, .cmds = REPLAY,
     .help = "write the EVE feed (records and alerts) to FILE, or\n"
	     "to stdout instead of the event lines with -"},
    {"metrics-out", 0, "FILE", DM_OA_METRICS_OUT, .cmds = REPLAY,
     .help = "write the final metrics (Prometheus text format)"},
    {"quiet", 'q', NULL, DM_OA_QUIET, .cmds = REPLAY,
     .help = "no progress line (shown only when stderr is a\n"
	     "terminal: packets, rate, bytes read, ETA)"},
    KEYARG("stats-interval", 0, "S", "output.stats_interval", RUN,
	   .help = "print counters every S seconds (default: at exit)"),
    KEYFLAG("json", "output.json", "true", RUN | REPLAY, "events and counters as JSON lines"),
    {"json", 0, NULL, DM_OA_JSON, .cmds = STATUS | VERSION, .help = "JSON instead of text"},
    {"set", 'o', "KEY=VALUE", DM_OA_SET, .cmds = RUN | REPLAY,
     .help = "set any config key, e.g. -o table.max_associations=4096"},
    {"check", 0, NULL, DM_OA_CHECK, .cmds = RUN,
     .help = "print the effective configuration and exit"},
    {"verbose", 'v', NULL, DM_OA_VERBOSE, .key = "output.log_level",
     .cmds = RUN | REPLAY | STATUS | DETACH,
     .help = "more logging (-vv: debug, libbpf and verifier)"},
    {"help", 'h', NULL, DM_OA_HELP, .cmds = RUN | REPLAY | STATUS | DETACH | VERSION,
     .help = "this text"},
};
const size_t dm_n_opts = sizeof(dm_opts) / sizeof(dm_opts[0]);

const struct dm_cmd_doc dm_cmds[DM_CMD_MAX] = {
    [DM_CMD_RUN] =
	{
	    .name = "run",
	    .synopsis = "dicomon run [-c FILE] [-i IFACE ...] [options]",
	    .about = "Watch DICOM associations crossing the interfaces: XDP on ingress (native,\n"
		     "falling back to generic), optionally TC on ingress and egress. State and\n"
		     "counters live in pinned maps: a restart, even after kill -9, keeps them.\n",
	    .heading = "Options of run (each sets a config key and wins over the file):",
	    .tail =
		"Signals: SIGHUP reloads the config file (no detach; table and counters kept),\n"
		"SIGUSR1 prints the counters, SIGINT/SIGTERM detach and exit.\n"
		"\n"
		"Examples:\n"
		"  dicomon run -i eth0 -i eth1\n"
		"  dicomon run -c /etc/dicomon/dicomon.yaml\n"
		"  dicomon run -i eth0 --ports 104,11112,2762,4242,8104 --json\n"
		"  dicomon run -i br0 --xdp-mode off --tc-ingress --tc-egress\n"
		"  dicomon run -c /etc/dicomon/dicomon.yaml --check\n"
		"  dicomon detach\n"
		"\n"
		"Exit codes: 0 ok, 2 usage or configuration, 3 BPF load/attach failed,\n"
		"4 runtime failure, 5 pinned state unusable (busy, or another layout).\n",
	},
    [DM_CMD_REPLAY] =
	{
	    .name = "replay",
	    .synopsis = "dicomon replay [-c FILE] [--eve FILE|-] [--metrics-out FILE] [-q] PCAP...",
	    .about =
		"Run capture files (pcap or pcapng: Ethernet, Linux cooked v1/v2, raw IP,\n"
		"BSD loopback) through the same BPF program as `dicomon run`, packet by packet\n"
		"with BPF_PROG_TEST_RUN, then the same decoders, association table, rules and\n"
		"feed. Timestamps are the capture's; every line names its file and packet\n"
		"(pcap_filename, pcap_cnt). Several files are one capture, read in order.\n"
		"Associations still open at the end get a record with reason capture_end.\n"
		"Needs CAP_BPF (root); attaches to nothing.\n",
	    .heading = "Options:",
	    .tail =
		"Exit codes: 0 every file read whole, 2 usage or configuration, 3 BPF load\n"
		"failed, 6 a capture is missing, unreadable, damaged or of an unsupported link\n"
		"type (what was read before the damage still produced its records).\n",
	    .files = true,
	},
    [DM_CMD_STATUS] =
	{
	    .name = "status",
	    .synopsis = "dicomon status [-c FILE] [--socket PATH] [--pin-root DIR] [--json]",
	    .about = "The active and recently finished associations and the totals, like ss:\n"
		     "asked from the running daemon over its owner-only unix socket, or, with\n"
		     "the daemon down, read from the pinned maps.\n",
	    .heading = "Options:",
	    .tail = "Exit codes: 0 ok, 2 usage or configuration, 4 neither the daemon nor the\n"
		    "pinned maps could be read.\n",
	},
    [DM_CMD_DETACH] =
	{
	    .name = "detach",
	    .synopsis = "dicomon detach [-c FILE | --pin-root DIR] [-i IFACE ...]",
	    .about = "Remove dicomon's programs from the interfaces and its pins: with -i\n"
		     "only the attachments of those interfaces, else every attachment, the\n"
		     "pinned association table and counters, and the pin directory.\n"
		     "Refuses while a daemon runs on the pins.\n",
	    .heading = "Options:",
	    .tail = "Exit codes: 0 ok, 2 usage or configuration, 4 runtime failure, 5 a daemon\n"
		    "runs on the pins.\n",
	},
    [DM_CMD_VERSION] =
	{
	    .name = "version",
	    .synopsis = "dicomon version [--json]",
	    .about = "The version, libbpf's and the kernel's, the kernel features dicomon uses\n"
		     "(with the fallback for each one missing), and a load check: every program\n"
		     "loaded for real, with the verifier's instruction count and load time.\n",
	    .heading = "Options:",
	    .tail = "Exit codes: 0 ok, 2 usage, 3 this kernel refuses a program.\n",
	},
};

const struct dm_opt *dm_opt_find(enum dm_cmd cmd, const char *name, int letter)
{
	size_t i;

	for (i = 0; i < dm_n_opts; i++)
		if ((dm_opts[i].cmds & DM_CMD_BIT(cmd)) &&
		    (name ? !strcmp(dm_opts[i].name, name) : dm_opts[i].letter == letter))
			return &dm_opts[i];
	return NULL;
}

/* The text a %-token of o's help stands for. */
static void token(const struct dm_opt *o, char t, char *buf, size_t len)
{
	const struct dm_key *k = o->key ? dm_key_find(o->key) : NULL;

	if (t == 'I')
		snprintf(buf, len, "%d", DM_MAX_IFACES - 1);
	else if (t == 'D' && k)
		snprintf(buf, len, "%s", k->def);
	else if (t == 'R' && k)
		snprintf(buf, len, "%u..%u", k->min, k->max);
	else
		snprintf(buf, len, "%%%c", t); /* not a token: left as it is */
}

void dm_opt_help(const struct dm_opt *o, char *buf, size_t len)
{
	const char *p;
	char tok[64];
	size_t n = 0;

	buf[0] = 0;
	for (p = o->help; *p && n + 1 < len; p++) {
		if (*p == '%' && p[1]) {
			token(o, *++p, tok, sizeof(tok));
			n += snprintf(buf + n, len - n, "%s", tok);
		} else {
			buf[n++] = *p;
			buf[n] = 0;
		}
	}
	if (n >= len)
		buf[len - 1] = 0;
}
