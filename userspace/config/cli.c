// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The command line of every subcommand, parsed and explained from the option
 * rows (options.c). Every option that configures something sets a config key
 * (the same dm_key_set() the YAML file goes through) and is applied after the
 * file: flags override the file, on start and again on every SIGHUP.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config/cli.h"
#include "config/yaml_config.h"

static int add_set(struct dm_cli *cli, const char *flag, const char *key, const char *value)
{
	const struct dm_key *k = dm_key_find(key);
	struct dm_config scratch;
	char why[160];

	if (!k) {
		fprintf(stderr, "dicomon: --%s: unknown config key '%s' (see dicomon(8))\n", flag,
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
		fprintf(stderr, "dicomon: invalid value '%s' for --%s (%s): %s\n", value, flag, key,
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
	return add_set(cli, "set", key, eq + 1);
}

/*
 * A relative path given on the command line, taken from the working directory
 * (config keys want absolute ones); a path too long is left for the key's
 * check to refuse.
 */
static const char *absolute(struct dm_cli *cli, const char *path)
{
	char cwd[4096], *buf;
	size_t len = sizeof(cli->paths[0]);

	if (!path[0] || path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	if (cli->n_paths >= (int)(sizeof(cli->paths) / sizeof(cli->paths[0])))
		return path;
	buf = cli->paths[cli->n_paths];
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		return path;
	cli->n_paths++;
	return buf;
}

static int add_iface(struct dm_cli *cli, const char *name)
{
	if (cli->n_ifaces >= DM_MAX_IFACES - 1) {
		fprintf(stderr, "dicomon: more than %d interfaces\n", DM_MAX_IFACES - 1);
		return -EINVAL;
	}
	cli->ifaces[cli->n_ifaces++] = name;
	return 0;
}

/* What option o does with its argument arg; 1 = --help printed. */
static int apply_opt(struct dm_cli *cli, enum dm_cmd cmd, const struct dm_opt *o, const char *arg)
{
	const char *v = o->value ? o->value : arg;

	switch (o->act) {
	case DM_OA_KEY:
		if (o->flags & DM_OF_ABSPATH)
			v = absolute(cli, v);
		return add_set(cli, o->name, o->key, v);
	case DM_OA_CONFIG:
		cli->config = arg;
		return 0;
	case DM_OA_IFACE:
		return add_iface(cli, arg);
	case DM_OA_SET:
		return add_set_opt(cli, arg);
	case DM_OA_VERBOSE:
		cli->verbose++;
		return 0;
	case DM_OA_HELP:
		dm_cli_usage(cmd, stdout);
		return 1;
	case DM_OA_RESET:
		cli->reset_state = true;
		return 0;
	case DM_OA_CHECK:
		cli->check = true;
		return 0;
	case DM_OA_LEARN:
		cli->learn_out = arg;
		return 0;
	case DM_OA_EVE:
		return !strcmp(arg, "-") ? add_set(cli, o->name, "feed.stdout", "true")
					 : add_set(cli, o->name, "feed.file", absolute(cli, arg));
	case DM_OA_METRICS_OUT:
		cli->metrics_out = arg;
		return 0;
	case DM_OA_JSON:
		cli->json = true;
		return 0;
	case DM_OA_QUIET:
		cli->quiet = true;
		return 0;
	}
	return -EINVAL;
}

#define DM_CMD_OPTS_MAX 48

/*
 * getopt_long's tables for cmd: a long option returns its letter, or 256 +
 * its row in dm_opts[]. Returns the number of options.
 */
static int getopt_tables(enum dm_cmd cmd, struct option *lo, char *shorts)
{
	const struct dm_opt *o;
	int n = 0, s = 0;
	size_t i;

	for (i = 0; i < dm_n_opts && n < DM_CMD_OPTS_MAX; i++) {
		o = &dm_opts[i];
		if (!(o->cmds & DM_CMD_BIT(cmd)))
			continue;
		lo[n++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					  o->letter ? o->letter : 256 + (int)i};
		if (o->letter) {
			shorts[s++] = o->letter;
			if (o->arg)
				shorts[s++] = ':';
		}
	}
	lo[n] = (struct option){NULL, 0, NULL, 0};
	shorts[s] = 0;
	return n;
}

/* What follows the options: files for replay, nothing for the others. */
static int operands(enum dm_cmd cmd, int argc, char **argv, struct dm_cli *cli)
{
	if (dm_cmds[cmd].files) {
		if (optind >= argc) {
			fprintf(stderr, "dicomon %s: no capture file given\n", dm_cmds[cmd].name);
			dm_cli_usage(cmd, stderr);
			return -EINVAL;
		}
		cli->files = argv + optind;
		cli->n_files = argc - optind;
		return 0;
	}
	if (optind < argc) {
		fprintf(stderr, "dicomon: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int dm_cli_parse(enum dm_cmd cmd, int argc, char **argv, struct dm_cli *cli)
{
	struct option lo[DM_CMD_OPTS_MAX + 1];
	char shorts[2 * DM_CMD_OPTS_MAX + 1];
	const struct dm_opt *o;
	int c, r;

	memset(cli, 0, sizeof(*cli));
	getopt_tables(cmd, lo, shorts);
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		o = c >= 256 ? &dm_opts[c - 256] : dm_opt_find(cmd, NULL, c);
		if (!o) { /* getopt said what is wrong */
			dm_cli_usage(cmd, stderr);
			return -EINVAL;
		}
		r = apply_opt(cli, cmd, o, optarg);
		if (r)
			return r > 0 ? 1 : -EINVAL;
	}
	return operands(cmd, argc, argv, cli);
}

/* "  -c, --config FILE        help" with the help's further lines under its first. */
static void usage_opt(FILE *f, const struct dm_opt *o)
{
	const int col = 27;
	char left[64], help[1024];
	const char *p, *nl;
	int n;

	n = snprintf(left, sizeof(left), "  %c%c%s--%s%s%s", o->letter ? '-' : ' ',
		     o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name,
		     o->arg ? " " : "", o->arg ? o->arg : "");
	if (n < col)
		fprintf(f, "%-*s", col, left);
	else
		fprintf(f, "%s\n%*s", left, col, "");
	dm_opt_help(o, help, sizeof(help));
	for (p = help; p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		fprintf(f, "%*s%.*s\n", p == help ? 0 : col, "",
			nl ? (int)(nl - p) : (int)strlen(p), p);
	}
}

void dm_cli_usage(enum dm_cmd cmd, FILE *f)
{
	const struct dm_cmd_doc *d = &dm_cmds[cmd];
	size_t i;
	int c;

	/* `dicomon run --help` is also `dicomon --help`: every command's synopsis. */
	if (cmd == DM_CMD_RUN)
		for (c = 0; c < DM_CMD_MAX; c++)
			fprintf(f, "%s%s\n", c ? "       " : "Usage: ", dm_cmds[c].synopsis);
	else
		fprintf(f, "Usage: %s\n", d->synopsis);
	fprintf(f, "\n%s\n%s\n", d->about, d->heading);
	for (i = 0; i < dm_n_opts; i++)
		if (dm_opts[i].cmds & DM_CMD_BIT(cmd))
			usage_opt(f, &dm_opts[i]);
	if (d->tail)
		fprintf(f, "\n%s", d->tail);
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
			snprintf(err, errlen, "--%s %s: %s", cli->sets[i].opt, cli->sets[i].value,
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
