// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * dicomon: subcommands. `run` is the daemon (daemon.c), `detach` removes what
 * a daemon left attached and pinned (pin.c), `version` names the version and
 * the kernel features found (features.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "config/cli.h"
#include "config/keydoc.h"
#include "config/webcfg.h"
#include "cmd/daemon.h"
#include "kern/kfeatures.h"
#include "lib/log.h"
#include "lib/perm.h"
#include "kern/pin.h"
#include "cmd/replay.h"
#include "cmd/status.h"

/* --check reads the web config as the start would (certificates, key, hashes). */
static int check_web_config(const struct dm_config *cfg)
{
	struct dm_webcfg *w;
	char err[1024];

	if (!cfg->metrics_web_config[0] || !cfg->metrics_listen[0])
		return 0;
	if (dm_webcfg_load(cfg->metrics_web_config, &w, err, sizeof(err))) {
		fprintf(stderr, "dicomon: metrics.web_config_file: %s\n", err);
		return -EINVAL;
	}
	dm_webcfg_free(w);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct dm_config cfg;
	struct dm_cli cli;
	char err[1024];
	int r;

	r = dm_cli_parse(DM_CMD_RUN, argc, argv, &cli);
	if (r)
		return r > 0 ? 0 : DM_EXIT_USAGE;
	if (cli.check) {
		/* nginx -t style: what would run, checked, nothing loaded. */
		if (dm_cli_config(&cli, &cfg, true, err, sizeof(err))) {
			fprintf(stderr, "dicomon: %s\n", err);
			return DM_EXIT_USAGE;
		}
		if (check_web_config(&cfg))
			return DM_EXIT_USAGE;
		dm_config_dump(&cfg, stdout);
		return 0;
	}
	return dm_daemon_run(&cli);
}

static int cmd_replay(int argc, char **argv)
{
	struct dm_cli cli;
	int r;

	r = dm_cli_parse(DM_CMD_REPLAY, argc, argv, &cli);
	if (r)
		return r > 0 ? 0 : DM_EXIT_USAGE;
	return dm_replay_run(&cli);
}

static int cmd_detach(int argc, char **argv)
{
	const char *ifaces[DM_MAX_IFACES - 1];
	struct dm_config cfg;
	struct dm_cli cli;
	char err[1024];
	int r, i;

	r = dm_cli_parse(DM_CMD_DETACH, argc, argv, &cli);
	if (r)
		return r > 0 ? 0 : DM_EXIT_USAGE;
	if (dm_cli_config(&cli, &cfg, false, err, sizeof(err))) {
		fprintf(stderr, "dicomon: %s\n", err);
		return DM_EXIT_USAGE;
	}
	dm_log_set_level(cli.verbose ? DM_LOG_WARN + cli.verbose : DM_LOG_INFO);
	dm_log_init_libbpf();
	for (i = 0; i < cli.n_ifaces; i++)
		ifaces[i] = cli.ifaces[i];
	r = dm_detach_pinned(cfg.pin_root, ifaces, cli.n_ifaces);
	if (r == -EBUSY)
		return DM_EXIT_STATE;
	return dm_perm_denied(r) ? DM_EXIT_PERM : r ? DM_EXIT_RUNTIME : 0;
}

static int cmd_version(int argc, char **argv)
{
	struct dm_cli cli;
	int r;

	r = dm_cli_parse(DM_CMD_VERSION, argc, argv, &cli);
	if (r)
		return r > 0 ? 0 : DM_EXIT_USAGE;
	dm_log_init_libbpf(); /* probe failures are expected: keep libbpf quiet */
	return dm_features_print(stdout, cli.json);
}

/* The socket and pin directory of the file's daemon (-c), unless given. */
static int cmd_status(int argc, char **argv)
{
	struct dm_config cfg;
	struct dm_cli cli;
	char err[1024];
	int r;

	r = dm_cli_parse(DM_CMD_STATUS, argc, argv, &cli);
	if (r)
		return r > 0 ? 0 : DM_EXIT_USAGE;
	if (dm_cli_config(&cli, &cfg, false, err, sizeof(err))) {
		fprintf(stderr, "dicomon: %s\n", err);
		return DM_EXIT_USAGE;
	}
	dm_log_set_level(DM_LOG_WARN + cli.verbose);
	dm_log_init_libbpf();
	r = dm_status_client(cfg.status_socket, cfg.pin_root, cli.json, stdout);
	return dm_perm_denied(r) ? DM_EXIT_PERM : r ? DM_EXIT_RUNTIME : 0;
}

/* `dicomon --dump-keys [FORMAT]`: every config key (and option) as text or for the docs. */
static int cmd_dump_keys(int argc, char **argv)
{
	int f = argc > 1 ? dm_parse_enum(argv[1], dm_keydoc_fmt_names) : DM_KEYDOC_TEXT;

	if (f < 0 || argc > 2) {
		fprintf(stderr, "Usage: dicomon --dump-keys [text|markdown|markdown-options|man|"
				"man-options]\n");
		return DM_EXIT_USAGE;
	}
	dm_keydoc_write(stdout, f);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", cmd_run},	      {"replay", cmd_replay},	  {"detach", cmd_detach},	  {"status", cmd_status},
    {"version", cmd_version}, {"--version", cmd_version}, {"--dump-keys", cmd_dump_keys},
};

int main(int argc, char **argv)
{
	size_t i;

	dm_log_init();
	if (argc < 2) {
		dm_cli_usage(DM_CMD_RUN, stderr);
		return DM_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		dm_cli_usage(DM_CMD_RUN, stdout);
		return 0;
	}
	fprintf(stderr, "dicomon: unknown command '%s'\n", argv[1]);
	dm_cli_usage(DM_CMD_RUN, stderr);
	return DM_EXIT_USAGE;
}
