/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_CLI_H
#define __DM_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "config/config.h"

/*
 * The command line as data (options.c), after xdp-tools' params.h: one row
 * per option, the commands that take it, what it does (most set a config
 * key: the row names the key, whose table row has its default and limits),
 * its argument and help. getopt_long's tables, the usage text and the docs
 * (keydoc.c) are built from the rows.
 */
enum dm_cmd {
	DM_CMD_RUN,
	DM_CMD_REPLAY,
	DM_CMD_STATUS,
	DM_CMD_DETACH,
	DM_CMD_VERSION,
	DM_CMD_MAX,
};
#define DM_CMD_BIT(c) (1u << (c))

enum dm_opt_act {
	DM_OA_KEY = 0,	   /* set .key to .value, or to the argument */
	DM_OA_CONFIG,	   /* -c FILE */
	DM_OA_IFACE,	   /* -i IFACE */
	DM_OA_SET,	   /* -o KEY=VALUE */
	DM_OA_VERBOSE,	   /* -v, counted */
	DM_OA_HELP,	   /* -h */
	DM_OA_RESET,	   /* --reset-state */
	DM_OA_CHECK,	   /* --check */
	DM_OA_LEARN,	   /* --learn FILE */
	DM_OA_EVE,	   /* --eve FILE|-: feed.file, or feed.stdout with - */
	DM_OA_METRICS_OUT, /* --metrics-out FILE */
	DM_OA_JSON,	   /* --json of status and version (not output.json) */
	DM_OA_QUIET,	   /* replay -q: no progress line */
};

#define DM_OF_ABSPATH 0x1 /* a relative path is taken from the working directory */

struct dm_opt {
	const char *name; /* long name, without "--" */
	char letter;	  /* short option, 0 = none */
	const char *arg;  /* the argument's name in the usage, NULL = a flag */
	enum dm_opt_act act;
	const char *key;   /* the config key it sets (DM_OA_KEY) or stands for, or NULL */
	const char *value; /* DM_OA_KEY flag: the value it sets */
	unsigned int cmds; /* DM_CMD_BIT() of each command that takes it */
	unsigned int flags;
	/* Lines split by '\n'; %D = the key's default, %R its range, %I interfaces at most. */
	const char *help;
};

struct dm_cmd_doc {
	const char *name;     /* "run" */
	const char *synopsis; /* "dicomon run [-c FILE] ..." */
	const char *about;    /* what it does, lines ending in '\n' */
	const char *heading;  /* above the options */
	const char *tail;     /* after the options (signals, examples, exit codes), or NULL */
	bool files;	      /* takes files (one or more) after the options */
};

extern const struct dm_opt dm_opts[];
extern const size_t dm_n_opts;
extern const struct dm_cmd_doc dm_cmds[DM_CMD_MAX];
/* The row of --name (or -letter, with name NULL) that cmd takes, or NULL. */
const struct dm_opt *dm_opt_find(enum dm_cmd cmd, const char *name, int letter);
/* o's help with its %-tokens expanded. */
void dm_opt_help(const struct dm_opt *o, char *buf, size_t len);

/* One key set on the command line; applied after the file, so flags win. */
struct dm_cli_set {
	const struct dm_key *key;
	const char *value;
	const char *opt; /* the long option's name ("flow-slots"), for messages */
};

/* A command line as given; argv strings are borrowed. */
struct dm_cli {
	const char *config; /* -c FILE, or NULL: no file */
	struct dm_cli_set sets[96];
	int n_sets;
	const char *ifaces[DM_MAX_IFACES - 1]; /* -i, in order */
	int n_ifaces;
	int verbose;	       /* -v count */
	bool reset_state;      /* --reset-state */
	bool check;	       /* --check: print the effective configuration, do not run */
	bool json;	       /* status, version: --json */
	const char *learn_out; /* --learn FILE: learn AE titles, write the allow-list at exit */
	/* `dicomon replay` */
	char **files; /* the captures, in order */
	int n_files;
	const char *metrics_out; /* --metrics-out FILE: final metrics, exposition format */
	bool quiet;		 /* -q: no progress line on a terminal */
	/* Relative paths given to DM_OF_ABSPATH options, made absolute (sets[] point here). */
	char paths[8][DM_FEED_PATH_MAX];
	int n_paths;
};

/*
 * The command line of cmd (argv[0] = the command's name). Returns 0, 1 if
 * --help was printed (exit 0), or -EINVAL (message printed).
 */
int dm_cli_parse(enum dm_cmd cmd, int argc, char **argv, struct dm_cli *cli);
/* cmd's usage; run's begins with every command's synopsis (`dicomon --help`). */
void dm_cli_usage(enum dm_cmd cmd, FILE *f);
/*
 * The effective configuration: defaults, then the file (if -c), then the
 * command line. Also what SIGHUP re-reads. Returns 0 or -EINVAL/-errno with
 * the message in err.
 */
int dm_cli_config(const struct dm_cli *cli, struct dm_config *cfg, bool need_ifaces, char *err,
		  size_t errlen);
/* cfg as a YAML document that dm_config_load_yaml() reads back to the same cfg. */
void dm_config_dump(const struct dm_config *cfg, FILE *out);

#endif /* __DM_CLI_H */
