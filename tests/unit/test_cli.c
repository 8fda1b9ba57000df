// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The command line as data (config/options.c): every row is sound, getopt
 * takes exactly each command's rows, each row does what it says, and the
 * usage lists exactly each command's options.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config/cli.h"

static const struct dm_cli_set *find_set(const struct dm_cli *cli, const char *key)
{
	int i;

	for (i = cli->n_sets - 1; i >= 0; i--)
		if (!strcmp(cli->sets[i].key->name, key))
			return &cli->sets[i];
	return NULL;
}

/* argv[0] = the command, then the NULL-terminated arguments. */
static int parse(enum dm_cmd cmd, struct dm_cli *cli, ...)
{
	char *argv[32] = {(char *)dm_cmds[cmd].name};
	int argc = 1;
	va_list ap;

	va_start(ap, cli);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return dm_cli_parse(cmd, argc, argv, cli);
}

static char *usage(enum dm_cmd cmd)
{
	static char *text;
	static size_t len;
	FILE *f;

	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	dm_cli_usage(cmd, f);
	fclose(f);
	return text;
}

/* Each row: a name, commands, help; a key that exists and a value or argument it takes. */
static void test_rows(void **state)
{
	const struct dm_opt *o, *p;
	const struct dm_key *k;
	struct dm_config c;
	char help[1024], why[160];
	size_t i, j;

	(void)state;
	for (i = 0; i < dm_n_opts; i++) {
		o = &dm_opts[i];
		if (!o->name[0] || !o->cmds || !o->help || !o->help[0])
			fail_msg("row %zu (%s): no name, command or help", i, o->name);
		k = o->key ? dm_key_find(o->key) : NULL;
		if (o->key && !k)
			fail_msg("--%s: no config key %s", o->name, o->key);
		if (o->act == DM_OA_KEY) {
			assert_non_null(k);
			/* A flag sets a fixed value, an option with an argument the argument. */
			assert_true(!o->value == !!o->arg);
			dm_config_defaults(&c);
			if (o->value && dm_key_set(&c, k, o->value, why, sizeof(why)))
				fail_msg("--%s sets %s=%s: %s", o->name, o->key, o->value, why);
		}
		dm_opt_help(o, help, sizeof(help));
		if (strchr(help, '%'))
			fail_msg("--%s: help '%s' has a token it cannot fill", o->name, help);
		/* No command takes two rows with one name or one letter. */
		for (j = 0; j < i; j++) {
			p = &dm_opts[j];
			if (!(p->cmds & o->cmds))
				continue;
			if (!strcmp(p->name, o->name) || (o->letter && p->letter == o->letter))
				fail_msg("--%s and --%s clash", p->name, o->name);
		}
	}
	/* The tokens: a key's default and range, the interfaces' limit. */
	dm_opt_help(dm_opt_find(DM_CMD_RUN, "dimse-snap", 0), help, sizeof(help));
	assert_string_equal(help, "bytes of a DIMSE command PDU shipped (64..2048,\ndefault 512)");
	dm_opt_help(dm_opt_find(DM_CMD_RUN, "iface", 0), help, sizeof(help));
	assert_non_null(strstr(help, "up to 63)"));
	assert_ptr_equal(dm_opt_find(DM_CMD_RUN, NULL, 'p'), dm_opt_find(DM_CMD_RUN, "ports", 0));
	assert_null(dm_opt_find(DM_CMD_DETACH, "ports", 0));
}

/* An argument getopt accepts and the key takes: its default, or a path. */
static const char *arg_for(const struct dm_opt *o)
{
	const struct dm_key *k = o->key ? dm_key_find(o->key) : NULL;

	if (o->act == DM_OA_KEY)
		return k->def[0] ? k->def : "/tmp/x";
	return o->act == DM_OA_SET ? "table.max_associations=4096" : "rel/file";
}

/* Every row of every command, alone on a command line, does what it says. */
static void test_each_option(void **state)
{
	const struct dm_cli_set *set;
	const struct dm_opt *o;
	char name[64], *pcap = "x.pcap";
	struct dm_cli cli;
	enum dm_cmd cmd;
	size_t i;
	int r;

	(void)state;
	for (cmd = 0; cmd < DM_CMD_MAX; cmd++) {
		for (i = 0; i < dm_n_opts; i++) {
			o = &dm_opts[i];
			if (!(o->cmds & DM_CMD_BIT(cmd)) || o->act == DM_OA_HELP)
				continue;
			snprintf(name, sizeof(name), "--%s", o->name);
			r = o->arg ? parse(cmd, &cli, name, arg_for(o), pcap, NULL)
				   : parse(cmd, &cli, name, pcap, NULL);
			if (!dm_cmds[cmd].files) /* the pcap is an unexpected argument */
				assert_int_equal(r, -EINVAL);
			r = dm_cmds[cmd].files ? r
			    : o->arg	       ? parse(cmd, &cli, name, arg_for(o), NULL)
					       : parse(cmd, &cli, name, NULL);
			if (r)
				fail_msg("%s %s: %d", dm_cmds[cmd].name, name, r);
			if (o->act == DM_OA_KEY) {
				set = find_set(&cli, o->key);
				assert_non_null(set);
				assert_string_equal(set->value, o->value ? o->value : arg_for(o));
				assert_string_equal(set->opt, o->name);
			}
		}
	}
}

static void test_actions(void **state)
{
	struct dm_cli cli;
	char cwd[4096], want[4200];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(parse(DM_CMD_RUN, &cli, "-c", "f.yaml", "-i", "a", "-i", "b", "-vv",
			       "--reset-state", "--check", "--learn", "l.yaml", NULL),
			 0);
	assert_string_equal(cli.config, "f.yaml");
	assert_int_equal(cli.n_ifaces, 2);
	assert_string_equal(cli.ifaces[1], "b");
	assert_int_equal(cli.verbose, 2);
	assert_true(cli.reset_state && cli.check);
	assert_string_equal(cli.learn_out, "l.yaml");
	/* Paths: relative ones from the working directory (keys want absolute ones). */
	assert_int_equal(parse(DM_CMD_REPLAY, &cli, "--eve", "e.json", "--evidence", "ev",
			       "--metrics-out", "m.prom", "a.pcap", "b.pcap", NULL),
			 0);
	snprintf(want, sizeof(want), "%s/e.json", cwd);
	assert_string_equal(find_set(&cli, "feed.file")->value, want);
	snprintf(want, sizeof(want), "%s/ev", cwd);
	assert_string_equal(find_set(&cli, "evidence.dir")->value, want);
	assert_string_equal(cli.metrics_out, "m.prom");
	assert_int_equal(cli.n_files, 2);
	assert_string_equal(cli.files[1], "b.pcap");
	assert_int_equal(parse(DM_CMD_REPLAY, &cli, "--eve", "-", "a.pcap", NULL), 0);
	assert_string_equal(find_set(&cli, "feed.stdout")->value, "true");
	assert_null(find_set(&cli, "feed.file"));
	assert_int_equal(parse(DM_CMD_STATUS, &cli, "--json", "--socket", "/run/s.sock",
			       "--pin-root", "pins", NULL),
			 0);
	assert_true(cli.json);
	assert_string_equal(find_set(&cli, "table.status_socket")->value, "/run/s.sock");
	snprintf(want, sizeof(want), "%s/pins", cwd);
	assert_string_equal(find_set(&cli, "state.pin_root")->value, want);
	assert_int_equal(parse(DM_CMD_VERSION, &cli, "--json", NULL), 0);
	assert_true(cli.json);
}

static void test_errors(void **state)
{
	struct dm_cli cli;
	char *argv[1 + 2 * DM_MAX_IFACES] = {"detach"};
	int i;

	(void)state;
	/* Another command's option, a stray argument, no capture, a missing argument. */
	assert_int_equal(parse(DM_CMD_DETACH, &cli, "--ports", "104", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_REPLAY, &cli, "--tc-egress", "a.pcap", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_RUN, &cli, "-i", "eth0", "stray", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_REPLAY, &cli, "--json", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_RUN, &cli, "--flow-slots", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_VERSION, &cli, "-v", NULL), -EINVAL);
	/* Values are checked as they are parsed, by the key's own rules. */
	assert_int_equal(parse(DM_CMD_RUN, &cli, "--flow-slots", "1000", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_RUN, &cli, "--xdp-mode", "fast", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_STATUS, &cli, "--socket", "", NULL), -EINVAL);
	assert_int_equal(parse(DM_CMD_RUN, &cli, "-o", "=1", NULL), -EINVAL);
	/* At most DM_MAX_IFACES - 1 interfaces, for detach too. */
	for (i = 0; i < DM_MAX_IFACES; i++) {
		argv[1 + 2 * i] = "-i";
		argv[2 + 2 * i] = "eth0";
	}
	assert_int_equal(dm_cli_parse(DM_CMD_DETACH, 1 + 2 * (DM_MAX_IFACES - 1), argv, &cli), 0);
	assert_int_equal(dm_cli_parse(DM_CMD_DETACH, 1 + 2 * DM_MAX_IFACES, argv, &cli), -EINVAL);
}

/* The usage lists exactly the command's options, each once, and its synopsis. */
static void test_usage(void **state)
{
	char *text, needle[80];
	const struct dm_opt *o;
	enum dm_cmd cmd, c;
	size_t i;

	(void)state;
	for (cmd = 0; cmd < DM_CMD_MAX; cmd++) {
		text = usage(cmd);
		for (i = 0; i < dm_n_opts; i++) {
			o = &dm_opts[i];
			snprintf(needle, sizeof(needle), "%s--%s%s%s", o->letter ? ", " : "     ",
				 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			if (!(o->cmds & DM_CMD_BIT(cmd)))
				continue;
			if (!strstr(text, needle) || strstr(strstr(text, needle) + 1, needle))
				fail_msg("%s --help: '%s' not listed once", dm_cmds[cmd].name,
					 needle);
		}
		assert_non_null(strstr(text, dm_cmds[cmd].synopsis));
		assert_non_null(strstr(text, dm_cmds[cmd].heading));
		free(text);
	}
	/* run's is also dicomon --help: every synopsis; the others only their own. */
	text = usage(DM_CMD_RUN);
	for (c = 0; c < DM_CMD_MAX; c++)
		assert_non_null(strstr(text, dm_cmds[c].synopsis));
	assert_null(strstr(text, "--metrics-out FILE   "));
	assert_non_null(strstr(text,
			       "  -p, --ports LIST         DICOM ports for mid-stream pickup and "
			       "TLS\n                           (default 104,11112,2762,4242;"));
	free(text);
	text = usage(DM_CMD_DETACH);
	assert_null(strstr(text, dm_cmds[DM_CMD_RUN].synopsis));
	assert_null(strstr(text, "--ports"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),    cmocka_unit_test(test_each_option),
	    cmocka_unit_test(test_actions), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests_name("unit_cli", tests, NULL, NULL);
}
