/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_CLI_H
#define __DM_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "config/config.h"

/* One key set on the command line; applied after the file, so flags win. */
struct dm_cli_set {
	const struct dm_key *key;
	const char *value;
	const char *opt; /* "--flow-slots", for messages */
};

/* `dicomon run` / `dicomon detach` as given; argv strings are borrowed. */
struct dm_cli {
	const char *config; /* -c FILE, or NULL: no file */
	struct dm_cli_set sets[96];
	int n_sets;
	const char *ifaces[DM_MAX_IFACES - 1]; /* -i, in order */
	int n_ifaces;
	int verbose;	  /* -v count */
	bool reset_state; /* --reset-state */
	bool check;	  /* --check: print the effective configuration, do not run */
	const char *learn_out; /* --learn FILE: learn AE titles, write the allow-list at exit */
	/* `dicomon replay` */
	char **files;		 /* the captures, in order */
	int n_files;
	const char *metrics_out; /* --metrics-out FILE: final metrics, exposition format */
};

/* Returns 0, 1 if --help was printed (exit 0), or -EINVAL (message printed). */
int dm_cli_parse_run(int argc, char **argv, struct dm_cli *cli);
/* `dicomon replay [options] PCAP...` */
int dm_cli_parse_replay(int argc, char **argv, struct dm_cli *cli);
void dm_cli_usage_replay(FILE *f);
int dm_cli_parse_detach(int argc, char **argv, struct dm_cli *cli);
/*
 * The effective configuration: defaults, then the file (if -c), then the
 * command line. Also what SIGHUP re-reads. Returns 0 or -EINVAL/-errno with
 * the message in err.
 */
int dm_cli_config(const struct dm_cli *cli, struct dm_config *cfg, bool need_ifaces, char *err,
		  size_t errlen);
/* cfg as a YAML document that dm_config_load_yaml() reads back to the same cfg. */
void dm_config_dump(const struct dm_config *cfg, FILE *out);
void dm_cli_usage(FILE *f);

#endif /* __DM_CLI_H */
