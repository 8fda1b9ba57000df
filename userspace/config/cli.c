// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Command line of `dicomon run` and `dicomon detach`. Every option that
 * configures something sets a config key (the same dm_key_set() the YAML file
 * goes through) and is applied after the file: flags override the file, on
 * start and again on every SIGHUP.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config/cli.h"
#include "config/yaml_config.h"

void dm_cli_usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: dicomon run [-c FILE] [-i IFACE ...] [options]\n"
	    "       dicomon replay [-c FILE] [--eve FILE|-] [--metrics-out FILE] PCAP...\n"
	    "       dicomon status [-c FILE] [--socket PATH] [--pin-root DIR] [--json]\n"
	    "       dicomon detach [-c FILE | --pin-root DIR] [-i IFACE ...]\n"
	    "       dicomon version [--json]\n"
	    "\n"
	    "Watch DICOM associations crossing the interfaces: XDP on ingress (native,\n"
	    "falling back to generic), optionally TC on ingress and egress. State and\n"
	    "counters live in pinned maps: a restart, even after kill -9, keeps them.\n"
	    "\n"
	    "Options of run (each sets a config key and wins over the file):\n"
	    "  -c, --config FILE        YAML config file (see dicomon(8)); re-read on SIGHUP\n"
	    "  -i, --iface IFACE        interface to attach to (repeatable, up to %d);\n"
	    "                           replaces the file's interfaces list\n"
	    "  -p, --ports LIST         DICOM ports for mid-stream pickup and TLS\n"
	    "                           (default %s; ranges like 2000-2010)\n"
	    "      --xdp-mode MODE      auto (default), native, generic or off\n"
	    "      --tc-ingress         also attach TC on ingress (use with --xdp-mode off\n"
	    "                           where XDP is unwanted)\n"
	    "      --tc-egress          also attach TC on egress (host's own traffic)\n"
	    "      --tc-mode MODE       auto (tcx, else clsact), tcx or clsact\n"
	    "      --no-vlan-meta       do not load the device-bound XDP copy that reads\n"
	    "                           VLAN tags stripped by the NIC\n"
	    "      --flow-slots N       association slots (power of two, default 16384)\n"
	    "      --overflow N         LRU overflow entries (default 4096)\n"
	    "      --ringbuf-bytes N    ring buffer size (power of two, default 4194304)\n"
	    "      --dimse-snap N       bytes of a DIMSE command PDU shipped (64..2048,\n"
	    "                           default 512)\n"
	    "      --no-midstream       do not pick up associations already in progress\n"
	    "      --no-any-port        detect A-ASSOCIATE-RQ on DICOM ports only\n"
	    "      --no-vlan-key        VLAN ids are not part of the association key (a\n"
	    "                           router between VLANs sees each direction on its own)\n"
	    "      --pin-root DIR       bpffs directory of the pinned state (default %s)\n"
	    "      --no-pin-links       attachments end with the daemon (maps stay pinned)\n"
	    "      --keep-attached      on SIGINT/SIGTERM leave the pinned attachments running\n"
	    "      --reset-state        drop the pinned association table and counters first\n"
	    "      --learn FILE         learn AE titles, their addresses and pairs; at exit write\n"
	    "                           them to FILE as an allow-list (policy.ae_allowlist)\n"
	    "      --evidence DIR       a redacted pcap of each alerted association in DIR\n"
	    "                           (evidence.dir)\n"
	    "      --stats-interval S   print counters every S seconds (default: at exit)\n"
	    "      --json               events and counters as JSON lines\n"
	    "  -o, --set KEY=VALUE      set any config key, e.g. -o table.max_associations=4096\n"
	    "      --check              print the effective configuration and exit\n"
	    "  -v, --verbose            more logging (-vv: debug, libbpf and verifier)\n"
	    "  -h, --help               this text\n"
	    "\n"
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
	    DM_MAX_IFACES - 1, DM_DEFAULT_PORTS, DM_DEFAULT_PIN_ROOT);
}

enum {
	OPT_XDP_MODE = 256,
	OPT_TC_INGRESS,
	OPT_TC_EGRESS,
	OPT_TC_MODE,
	OPT_NO_VLAN_META,
	OPT_FLOW_SLOTS,
	OPT_OVERFLOW,
	OPT_RINGBUF,
	OPT_DIMSE_SNAP,
	OPT_NO_MIDSTREAM,
	OPT_NO_ANY_PORT,
	OPT_NO_VLAN_KEY,
	OPT_PIN_ROOT,
	OPT_NO_PIN_LINKS,
	OPT_KEEP_ATTACHED,
	OPT_RESET_STATE,
	OPT_STATS_INTERVAL,
	OPT_JSON,
	OPT_CHECK,
	OPT_LEARN,
	OPT_EVE,
	OPT_METRICS_OUT,
	OPT_EVIDENCE,
};

static const struct option run_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"iface", required_argument, NULL, 'i'},
    {"ports", required_argument, NULL, 'p'},
    {"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
    {"tc-ingress", no_argument, NULL, OPT_TC_INGRESS},
    {"tc-egress", no_argument, NULL, OPT_TC_EGRESS},
    {"tc-mode", required_argument, NULL, OPT_TC_MODE},
    {"no-vlan-meta", no_argument, NULL, OPT_NO_VLAN_META},
    {"flow-slots", required_argument, NULL, OPT_FLOW_SLOTS},
    {"overflow", required_argument, NULL, OPT_OVERFLOW},
    {"ringbuf-bytes", required_argument, NULL, OPT_RINGBUF},
    {"dimse-snap", required_argument, NULL, OPT_DIMSE_SNAP},
    {"no-midstream", no_argument, NULL, OPT_NO_MIDSTREAM},
    {"no-any-port", no_argument, NULL, OPT_NO_ANY_PORT},
    {"no-vlan-key", no_argument, NULL, OPT_NO_VLAN_KEY},
    {"pin-root", required_argument, NULL, OPT_PIN_ROOT},
    {"no-pin-links", no_argument, NULL, OPT_NO_PIN_LINKS},
    {"keep-attached", no_argument, NULL, OPT_KEEP_ATTACHED},
    {"reset-state", no_argument, NULL, OPT_RESET_STATE},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"json", no_argument, NULL, OPT_JSON},
    {"set", required_argument, NULL, 'o'},
    {"check", no_argument, NULL, OPT_CHECK},
    {"learn", required_argument, NULL, OPT_LEARN},
    {"evidence", required_argument, NULL, OPT_EVIDENCE},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Option -> key it sets; value NULL = the option's argument. */
static const struct {
	int opt;
	const char *flag;
	const char *key;
	const char *value;
} opt_keys[] = {
    {'p', "--ports", "detection.ports", NULL},
    {OPT_XDP_MODE, "--xdp-mode", "attach.xdp_mode", NULL},
    {OPT_TC_INGRESS, "--tc-ingress", "attach.tc_ingress", "true"},
    {OPT_TC_EGRESS, "--tc-egress", "attach.tc_egress", "true"},
    {OPT_TC_MODE, "--tc-mode", "attach.tc_mode", NULL},
    {OPT_NO_VLAN_META, "--no-vlan-meta", "attach.vlan_meta", "false"},
    {OPT_FLOW_SLOTS, "--flow-slots", "maps.flow_slots", NULL},
    {OPT_OVERFLOW, "--overflow", "maps.overflow_entries", NULL},
    {OPT_RINGBUF, "--ringbuf-bytes", "maps.ringbuf_bytes", NULL},
    {OPT_DIMSE_SNAP, "--dimse-snap", "detection.dimse_snap", NULL},
    {OPT_NO_MIDSTREAM, "--no-midstream", "detection.midstream", "false"},
    {OPT_NO_ANY_PORT, "--no-any-port", "detection.any_port", "false"},
    {OPT_NO_VLAN_KEY, "--no-vlan-key", "detection.vlan_key", "false"},
    {OPT_PIN_ROOT, "--pin-root", "state.pin_root", NULL},
    {OPT_NO_PIN_LINKS, "--no-pin-links", "state.pin_links", "false"},
    {OPT_KEEP_ATTACHED, "--keep-attached", "state.detach_on_exit", "false"},
    {OPT_STATS_INTERVAL, "--stats-interval", "output.stats_interval", NULL},
    {OPT_JSON, "--json", "output.json", "true"},
};

static int add_set(struct dm_cli *cli, const char *flag, const char *key, const char *value)
{
	const struct dm_key *k = dm_key_find(key);
	struct dm_config scratch;
	char why[160];

	if (!k) {
		fprintf(stderr, "dicomon: %s: unknown config key '%s' (see dicomon(8))\n", flag,
			key);
		return -EINVAL;
	}
	if (cli->n_sets >= (int)(sizeof(cli->sets) / sizeof(cli->sets[0]))) {
		fprintf(stderr, "dicomon: too many options\n");
		return -EINVAL;
	}
	/* Checked now, so a typo fails before anything is loaded. */
	dm_config_defaults(&scratch);
	if (dm_key_set(&scratch, k, value, why, sizeof(why))) {
		fprintf(stderr, "dicomon: invalid value '%s' for %s (%s): %s\n", value, flag, key,
			why);
		return -EINVAL;
	}
	cli->sets[cli->n_sets++] = (struct dm_cli_set){.key = k, .value = value, .opt = flag};
	return 0;
}

/* -o KEY=VALUE; the key is copied (argv stays intact for the value). */
static int add_set_opt(struct dm_cli *cli, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[96];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		fprintf(stderr, "dicomon: --set needs KEY=VALUE, got '%s'\n", arg);
		return -EINVAL;
	}
	memcpy(key, arg, eq - arg);
	key[eq - arg] = 0;
	return add_set(cli, "--set", key, eq + 1);
}

/* A path given on the command line, relative to the working directory (config keys want absolute ones). */
static const char *absolute(const char *path, char *buf, size_t len)
{
	char cwd[4096];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		return path; /* too long: the key's check says so */
	return buf;
}

/*
 * Options run and replay share: -c, -o, -v, --evidence and those that set a
 * config key (opt_keys). 1 done, 0 not one of them, -EINVAL bad value.
 */
static int common_opt(struct dm_cli *cli, int c, const char *arg)
{
	static char evidence_path[4096];
	size_t i;

	for (i = 0; i < sizeof(opt_keys) / sizeof(opt_keys[0]); i++)
		if (opt_keys[i].opt == c)
			return add_set(cli, opt_keys[i].flag, opt_keys[i].key,
				       opt_keys[i].value ? opt_keys[i].value : arg)
				   ? -EINVAL
				   : 1;
	switch (c) {
	case 'c':
		cli->config = arg;
		return 1;
	case 'o':
		return add_set_opt(cli, arg) ? -EINVAL : 1;
	case 'v':
		cli->verbose++;
		return 1;
	case OPT_EVIDENCE:
		return add_set(cli, "--evidence", "evidence.dir",
			       absolute(arg, evidence_path, sizeof(evidence_path)))
			   ? -EINVAL
			   : 1;
	}
	return 0;
}

int dm_cli_parse_run(int argc, char **argv, struct dm_cli *cli)
{
	int c, r;

	memset(cli, 0, sizeof(*cli));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:i:p:o:vh", run_opts, NULL)) != -1) {
		r = common_opt(cli, c, optarg);
		if (r < 0)
			return r;
		if (r)
			continue;
		switch (c) {
		case 'i':
			if (cli->n_ifaces >= DM_MAX_IFACES - 1) {
				fprintf(stderr, "dicomon: more than %d interfaces\n",
					DM_MAX_IFACES - 1);
				return -EINVAL;
			}
			cli->ifaces[cli->n_ifaces++] = optarg;
			break;
		case OPT_RESET_STATE:
			cli->reset_state = true;
			break;
		case OPT_CHECK:
			cli->check = true;
			break;
		case OPT_LEARN:
			cli->learn_out = optarg;
			break;
		case 'h':
			dm_cli_usage(stdout);
			return 1;
		default:
			dm_cli_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dicomon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

void dm_cli_usage_replay(FILE *f)
{
	fprintf(f,
		"Usage: dicomon replay [-c FILE] [options] PCAP...\n"
		"\n"
		"Run capture files (pcap or pcapng: Ethernet, Linux cooked v1/v2, raw IP,\n"
		"BSD loopback) through the same BPF program as `dicomon run`, packet by packet\n"
		"with BPF_PROG_TEST_RUN, then the same decoders, association table, rules and\n"
		"feed. Timestamps are the capture's; every line names its file and packet\n"
		"(pcap_filename, pcap_cnt). Several files are one capture, read in order.\n"
		"Associations still open at the end get a record with reason capture_end.\n"
		"Needs CAP_BPF (root); attaches to nothing.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE        YAML config (detection, policy, rules, feed keys)\n"
		"  -p, --ports LIST         DICOM ports (default %s)\n"
		"  -o, --set KEY=VALUE      set any config key\n"
		"      --json               events and counters as JSON lines (as `run --json`)\n"
		"      --eve FILE|-         write the EVE feed (records and alerts) to FILE, or\n"
		"                           to stdout instead of the event lines with -\n"
		"      --metrics-out FILE   write the final metrics (Prometheus text format)\n"
		"      --evidence DIR       a pcap of each alerted association's packets in DIR\n"
		"      --no-midstream, --no-any-port, --no-vlan-key, --dimse-snap N,\n"
		"      --flow-slots N       as for `dicomon run`\n"
		"  -v, --verbose            more logging\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit codes: 0 every file read whole, 2 usage or configuration, 3 BPF load\n"
		"failed, 6 a capture is missing, unreadable, damaged or of an unsupported link\n"
		"type (what was read before the damage still produced its records).\n",
		DM_DEFAULT_PORTS);
}

int dm_cli_parse_replay(int argc, char **argv, struct dm_cli *cli)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"ports", required_argument, NULL, 'p'},
	    {"set", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"eve", required_argument, NULL, OPT_EVE},
	    {"metrics-out", required_argument, NULL, OPT_METRICS_OUT},
	    {"evidence", required_argument, NULL, OPT_EVIDENCE},
	    {"no-midstream", no_argument, NULL, OPT_NO_MIDSTREAM},
	    {"no-any-port", no_argument, NULL, OPT_NO_ANY_PORT},
	    {"no-vlan-key", no_argument, NULL, OPT_NO_VLAN_KEY},
	    {"dimse-snap", required_argument, NULL, OPT_DIMSE_SNAP},
	    {"flow-slots", required_argument, NULL, OPT_FLOW_SLOTS},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static char eve_path[4096];
	int c, r;

	memset(cli, 0, sizeof(*cli));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:p:o:vh", opts, NULL)) != -1) {
		r = common_opt(cli, c, optarg);
		if (r < 0)
			return r;
		if (r)
			continue;
		switch (c) {
		case OPT_EVE:
			if (!strcmp(optarg, "-") ? add_set(cli, "--eve", "feed.stdout", "true")
						 : add_set(cli, "--eve", "feed.file",
							   absolute(optarg, eve_path,
								    sizeof(eve_path))))
				return -EINVAL;
			break;
		case OPT_METRICS_OUT:
			cli->metrics_out = optarg;
			break;
		case 'h':
			dm_cli_usage_replay(stdout);
			return 1;
		default:
			dm_cli_usage_replay(stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "dicomon replay: no capture file given\n");
		dm_cli_usage_replay(stderr);
		return -EINVAL;
	}
	cli->files = argv + optind;
	cli->n_files = argc - optind;
	return 0;
}

int dm_cli_parse_detach(int argc, char **argv, struct dm_cli *cli)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"iface", required_argument, NULL, 'i'},
	    {"pin-root", required_argument, NULL, OPT_PIN_ROOT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, r;

	memset(cli, 0, sizeof(*cli));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:i:vh", opts, NULL)) != -1) {
		r = common_opt(cli, c, optarg); /* -c, -v, --pin-root */
		if (r < 0)
			return r;
		if (r)
			continue;
		switch (c) {
		case 'i':
			if (cli->n_ifaces >= DM_MAX_IFACES - 1)
				return -EINVAL;
			cli->ifaces[cli->n_ifaces++] = optarg;
			break;
		case 'h':
			printf(
			    "Usage: dicomon detach [-c FILE | --pin-root DIR] [-i IFACE ...] [-v]\n"
			    "\n"
			    "Remove dicomon's programs from the interfaces and its pins: with -i\n"
			    "only the attachments of those interfaces, else every attachment, the\n"
			    "pinned association table and counters, and the pin directory\n"
			    "(default %s). Refuses while a daemon runs on the pins.\n",
			    DM_DEFAULT_PIN_ROOT);
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dicomon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* -i replaces the file's list; an interface the file lists keeps its settings. */
static int apply_ifaces(const struct dm_cli *cli, struct dm_config *cfg, char *err, size_t errlen)
{
	struct dm_iface_cfg file[DM_MAX_IFACES - 1];
	int n = cfg->n_ifaces, i, j, e;

	memcpy(file, cfg->ifaces, sizeof(file));
	cfg->n_ifaces = 0;
	for (i = 0; i < cli->n_ifaces; i++) {
		e = dm_config_add_iface(cfg, cli->ifaces[i], 0);
		if (e) {
			snprintf(err, errlen, "-i %s: %s", cli->ifaces[i],
				 e == -EEXIST ? "given twice" : "not an interface name");
			return -EINVAL;
		}
		for (j = 0; j < n; j++)
			if (!strcmp(file[j].name, cli->ifaces[i]))
				cfg->ifaces[cfg->n_ifaces - 1] = file[j];
	}
	return 0;
}

int dm_cli_config(const struct dm_cli *cli, struct dm_config *cfg, bool need_ifaces, char *err,
		  size_t errlen)
{
	const struct dm_key *k;
	char why[160];
	int i, j, e;

	dm_config_defaults(cfg);
	if (cli->config) {
		e = dm_config_load_yaml(cfg, cli->config, err, errlen);
		if (e)
			return e;
	}
	if (cli->n_ifaces && apply_ifaces(cli, cfg, err, errlen))
		return -EINVAL;
	for (i = 0; i < cli->n_sets; i++) {
		k = cli->sets[i].key;
		if (dm_key_set(cfg, k, cli->sets[i].value, why, sizeof(why))) {
			snprintf(err, errlen, "%s %s: %s", cli->sets[i].opt, cli->sets[i].value,
				 why);
			return -EINVAL;
		}
		/* A hook flag applies to every interface, over per-interface settings. */
		for (j = 0; j < cfg->n_ifaces; j++) {
			if (!strcmp(k->name, "attach.xdp_mode"))
				cfg->ifaces[j].xdp_mode = -1;
			else if (!strcmp(k->name, "attach.tc_ingress"))
				cfg->ifaces[j].tc_ingress = -1;
			else if (!strcmp(k->name, "attach.tc_egress"))
				cfg->ifaces[j].tc_egress = -1;
			else if (!strcmp(k->name, "attach.vlan_meta"))
				cfg->ifaces[j].vlan_meta = -1;
		}
	}
	if (cli->verbose)
		cfg->log_level = cli->verbose > 2 ? 2 : cli->verbose;
	return need_ifaces ? dm_config_check(cfg, cli->config, err, errlen) : 0;
}

/* A path as a double-quoted YAML scalar: a '#' or ': ' in it stays text. */
static void dump_quoted(FILE *out, const char *key, const char *val)
{
	fprintf(out, "  %s: \"", key);
	for (; *val; val++)
		fprintf(out, *val == '"' || *val == '\\' ? "\\%c" : "%c", *val);
	fprintf(out, "\"\n");
}

void dm_config_dump(const struct dm_config *cfg, FILE *out)
{
	const struct dm_iface_cfg *ic;
	const size_t vlen = 1 << 18; /* every other port listed: ~200 KiB */
	const char *sec = NULL, *dot;
	char *val = malloc(vlen);
	size_t i;
	int n;

	if (!val)
		return;

	fprintf(out, "interfaces:%s\n", cfg->n_ifaces ? "" : " []");
	for (n = 0; n < cfg->n_ifaces; n++) {
		ic = &cfg->ifaces[n];
		fprintf(out, "  - name: %s\n", ic->name);
		if (ic->xdp_mode >= 0)
			fprintf(out, "    xdp_mode: %s\n", dm_xdp_mode_names[ic->xdp_mode]);
		if (ic->tc_ingress >= 0)
			fprintf(out, "    tc_ingress: %s\n", ic->tc_ingress ? "true" : "false");
		if (ic->tc_egress >= 0)
			fprintf(out, "    tc_egress: %s\n", ic->tc_egress ? "true" : "false");
		if (ic->vlan_meta >= 0)
			fprintf(out, "    vlan_meta: %s\n", ic->vlan_meta ? "true" : "false");
	}
	for (i = 0; i < dm_n_keys; i++) {
		dot = strchr(dm_keys[i].name, '.');
		if (!sec || strncmp(sec, dm_keys[i].name, dot - dm_keys[i].name + 1)) {
			sec = dm_keys[i].name;
			fprintf(out, "%.*s:\n", (int)(dot - sec), sec);
		}
		dm_key_format(cfg, &dm_keys[i], val, vlen);
		if (dm_keys[i].type == DM_KT_PORTS || dm_keys[i].type == DM_KT_LIST)
			fprintf(out, "  %s: %s%s%s\n", dot + 1, val[0] ? "\"" : "[]", val,
				val[0] ? "\"" : "");
		else if (dm_keys[i].type == DM_KT_PATH)
			dump_quoted(out, dot + 1, val);
		else
			fprintf(out, "  %s: %s\n", dot + 1, val);
	}
	free(val);
}
