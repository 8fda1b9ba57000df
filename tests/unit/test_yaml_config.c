// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The YAML config file and the command line over it: every key, errors that
 * name the key and the line, flags overriding the file. (The shipped default
 * config, README and man page against the key table: test_keydoc.c.)
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
#include "config/config.h"
#include "lib/log.h"
#include "config/yaml_config.h"

static char err[1024];

static int parse(struct dm_config *c, const char *text)
{
	dm_config_defaults(c);
	err[0] = 0;
	return dm_config_parse_yaml(c, "t.yaml", text, strlen(text), err, sizeof(err));
}

static bool port_on(const struct dm_config *c, unsigned int p)
{
	return (c->port_map[p >> 6] >> (p & 63)) & 1;
}

static bool same_config(const struct dm_config *a, const struct dm_config *b)
{
	size_t i;

	for (i = 0; i < dm_n_keys; i++)
		if (!dm_key_equal(a, b, &dm_keys[i]))
			return false;
	return a->n_ifaces == b->n_ifaces &&
	       !memcmp(a->ifaces, b->ifaces, sizeof(a->ifaces[0]) * a->n_ifaces);
}

static void test_empty_is_defaults(void **state)
{
	struct dm_config c, d;

	(void)state;
	dm_config_defaults(&d);
	assert_int_equal(parse(&c, ""), 0);
	assert_true(same_config(&c, &d));
	assert_int_equal(parse(&c, "# only a comment\n"), 0);
	assert_true(same_config(&c, &d));
	assert_int_equal(parse(&c, "attach:\ndetection: ~\n"), 0); /* empty sections */
	assert_true(same_config(&c, &d));
	assert_true(dm_n_keys <= 64); /* struct ywalk's seen[] */
}

/* Every key, each set away from its default. */
static const char *all_keys = "interfaces:\n"
			      "  - eth0\n"
			      "  - name: eth1.100\n"
			      "    xdp_mode: 'off'\n"
			      "    tc_ingress: yes\n"
			      "    tc_egress: on\n"
			      "    vlan_meta: false\n"
			      "attach:\n"
			      "  xdp_mode: generic\n"
			      "  tc_ingress: true\n"
			      "  tc_egress: true\n"
			      "  tc_mode: clsact\n"
			      "  vlan_meta: no\n"
			      "detection:\n"
			      "  ports: [104, \"5000-5002\", 11112]\n"
			      "  any_port: false\n"
			      "  midstream: false\n"
			      "  tls: false\n"
			      "  dimse: false\n"
			      "  dimse_snap: 2048\n"
			      "  vlan_key: false\n"
			      "  idle_reclaim_seconds: 0\n"
			      "maps:\n"
			      "  flow_slots: 64\n"
			      "  overflow_entries: 16\n"
			      "  ringbuf_bytes: 65536\n"
			      "state:\n"
			      "  pin_root: '/run/bpf/x #1 \"q\" \\\\ y'\n"
			      "  pin_links: false\n"
			      "  detach_on_exit: false\n"
			      "output:\n"
			      "  json: true\n"
			      "  stats_interval: 10\n"
			      "  log_level: debug\n"
			      "table:\n"
			      "  max_associations: 4096\n"
			      "  keep_finished_seconds: 60\n"
			      "  status_socket: /tmp/s.sock\n";

static void test_every_key(void **state)
{
	struct dm_hooks h;
	struct dm_config c;

	(void)state;
	assert_int_equal(parse(&c, all_keys), 0);
	assert_int_equal(c.n_ifaces, 2);
	assert_string_equal(c.ifaces[0].name, "eth0");
	assert_int_equal(c.ifaces[0].line, 2);
	assert_string_equal(c.ifaces[1].name, "eth1.100");
	assert_int_equal(c.ifaces[1].line, 3);
	dm_iface_hooks(&c, 0, &h);
	assert_int_equal(h.xdp_mode, DM_XDP_GENERIC);
	assert_true(h.tc_ingress && h.tc_egress && !h.vlan_meta);
	dm_iface_hooks(&c, 1, &h);
	assert_int_equal(h.xdp_mode, DM_XDP_OFF);
	assert_true(h.tc_ingress && h.tc_egress && !h.vlan_meta);
	assert_int_equal(c.xdp_mode, DM_XDP_GENERIC);
	assert_int_equal(c.tc_mode, DM_TC_CLSACT);
	assert_true(c.tc_ingress && c.tc_egress && !c.vlan_meta);
	assert_true(port_on(&c, 104) && port_on(&c, 5000) && port_on(&c, 5001) &&
		    port_on(&c, 5002) && port_on(&c, 11112));
	assert_false(port_on(&c, 2762) || port_on(&c, 4242) || port_on(&c, 5003));
	assert_false(c.any_port_rq || c.midstream || c.tls || c.dimse || c.vlan_key);
	assert_int_equal(c.dimse_snap, 2048);
	assert_int_equal(c.idle_reclaim_s, 0);
	assert_int_equal(c.flow_slots, 64);
	assert_int_equal(c.overflow_entries, 16);
	assert_int_equal(c.ringbuf_bytes, 65536);
	assert_string_equal(c.pin_root, "/run/bpf/x #1 \"q\" \\\\ y");
	assert_false(c.pin_links || c.detach_on_exit);
	assert_true(c.json);
	assert_int_equal(c.stats_interval_s, 10);
	assert_int_equal(c.log_level, DM_LOG_DEBUG);
	assert_int_equal(c.table_max_assoc, 4096);
	assert_int_equal(c.table_keep_finished_s, 60);
	assert_string_equal(c.status_socket, "/tmp/s.sock");
	assert_int_equal(dm_config_check(&c, "t.yaml", err, sizeof(err)), 0);
}

/* --check prints YAML that reads back to the same configuration. */
static void test_dump_round_trip(void **state)
{
	struct dm_config c, back;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse(&c, all_keys), 0);
	f = open_memstream(&text, &len);
	dm_config_dump(&c, f);
	fclose(f);
	assert_int_equal(parse(&back, text), 0);
	assert_true(same_config(&c, &back));
	free(text);
	/* An empty port list too. */
	assert_int_equal(parse(&c, "detection: {ports: []}\n"), 0);
	assert_false(port_on(&c, 104));
	f = open_memstream(&text, &len);
	dm_config_dump(&c, f);
	fclose(f);
	assert_int_equal(parse(&back, text), 0);
	assert_true(same_config(&c, &back));
	free(text);
}

static void test_ports_forms(void **state)
{
	struct dm_config c;

	(void)state;
	assert_int_equal(parse(&c, "detection:\n  ports: \"104,2000-2001\"\n"), 0);
	assert_true(port_on(&c, 104) && port_on(&c, 2000) && port_on(&c, 2001));
	assert_false(port_on(&c, 11112));
	assert_int_equal(parse(&c, "detection:\n  ports: 8104\n"), 0);
	assert_true(port_on(&c, 8104) && !port_on(&c, 104));
	assert_int_equal(parse(&c, "detection:\n  ports:\n    - 1\n    - 65535\n"), 0);
	assert_true(port_on(&c, 1) && port_on(&c, 65535));
	/* detection.web_ports: at most DM_WEB_PORTS, in either form; [] = none. */
	assert_int_equal(parse(&c, "detection:\n  web_ports: [80, 8042, 8080, 8081]\n"), 0);
	assert_int_equal(dm_ports_count(c.web_port_map), 4);
	assert_int_equal(parse(&c, "detection:\n  web_ports: []\n"), 0);
	assert_int_equal(dm_ports_count(c.web_port_map), 0);
	assert_int_equal(parse(&c, "detection:\n  web_ports: [8000-8008]\n"), -EINVAL);
	assert_int_equal(parse(&c, "detection:\n  web_ports: \"8000-8008\"\n"), -EINVAL);
	assert_int_equal(parse(&c, "detection:\n  web_ports: \"8000-8007\"\n"), 0);
}

/* The error names the file, the line (and column), the key, and what is wrong. */
static void expect_err(const char *text, const char *where, const char *what)
{
	struct dm_config c;

	assert_int_equal(parse(&c, text), -EINVAL);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("input:\n%s\nerror: %s\nwanted '%s' and '%s'", text, err, where, what);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_err("detection:\n  prots: [104]\n", "t.yaml:2:3:",
		   "unknown key 'detection.prots' (did you mean 'detection.ports'?)");
	expect_err("ports: [104]\n",
		   "t.yaml:1:1:", "unknown key 'ports' (did you mean 'detection.ports'?)");
	expect_err("maps:\n  ports: [104]\n",
		   "t.yaml:2:3:", "unknown key 'maps.ports' (did you mean 'detection.ports'?)");
	expect_err("attach:\n  xdp_mode: auto\nfoo: 1\n", "t.yaml:3:1:", "unknown key 'foo'");
	expect_err("interfaces:\n  - name: eth0\n    tc_ingres: true\n",
		   "t.yaml:3:5:", "unknown key 'interfaces[eth0].tc_ingres'");
	expect_err("table:\n  max_assocs: 5\n",
		   "t.yaml:2:3:", "did you mean 'table.max_associations'?");
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_err("attach:\n  tc_ingress: maybe\n",
		   "t.yaml:2:15: attach.tc_ingress:", "'maybe': expected true or false");
	expect_err("attach:\n  xdp_mode: fast\n",
		   "t.yaml:2:13: attach.xdp_mode:", "expected auto, native, generic or off");
	expect_err("attach:\n  tc_mode: ebpf\n", "attach.tc_mode:", "expected auto, tcx or clsact");
	expect_err("maps:\n  flow_slots: 1000\n",
		   "t.yaml:2:15: maps.flow_slots:", "expected a power of two, 64..4194304");
	expect_err("maps:\n  flow_slots: 32\n", "maps.flow_slots:", "64..4194304");
	expect_err("maps:\n  overflow_entries: -1\n", "maps.overflow_entries:", "16..4194304");
	expect_err("maps:\n  ringbuf_bytes: 4M\n", "maps.ringbuf_bytes:", "power of two");
	expect_err("detection:\n  dimse_snap: 4096\n", "detection.dimse_snap:", "64..2048");
	expect_err("detection:\n  ports: [104, 70000]\n",
		   "t.yaml:2:16: detection.ports:", "'70000': expected a port 1-65535");
	expect_err("detection:\n  ports: [104, \"9-3\"]\n", "t.yaml:2:16:", "range A-B");
	expect_err("detection:\n  ports: \"104,,11112\"\n",
		   "t.yaml:2:10: detection.ports:", "comma separated");
	expect_err("detection:\n  ports: [[104]]\n",
		   "detection.ports:", "a list element is a list");
	expect_err("state:\n  pin_root: bpf/dicomon\n",
		   "t.yaml:2:13: state.pin_root:", "absolute path");
	expect_err("table:\n  status_socket: /run/dicomon/"
		   "a-very-long-name-that-does-not-fit-in-sun-path-a-very-long-name-that-does-"
		   "not-fit-in-sun-path.sock\n",
		   "table.status_socket:", "shorter than 108 bytes");
	expect_err("output:\n  stats_interval:\n",
		   "t.yaml:2:", "output.stats_interval: needs a value");
	expect_err("output:\n  json: [true]\n",
		   "output.json:", "is a list, expected a single value");
	expect_err("output: 5\n", "t.yaml:1:9: output:", "expected a mapping of keys");
	expect_err("interfaces: eth0\n", "t.yaml:1:13: interfaces:", "expected a list");
	expect_err("- eth0\n", "t.yaml:1:1:", "expected a mapping");
	expect_err("interfaces:\n  - {xdp_mode: auto}\n",
		   "t.yaml:2:5: interfaces:", "an entry without 'name'");
	expect_err("interfaces:\n  - name: eth0\n    xdp_mode: turbo\n",
		   "t.yaml:3:15:", "expected auto, native, generic or off");
	expect_err("interfaces: [eth0, eth1, eth0]\n",
		   "t.yaml:1:26: interfaces:", "eth0 is listed twice");
	expect_err("interfaces: [\"a/b\"]\n", "interfaces:", "'a/b' is not an interface name");
	expect_err("interfaces: [averyveryverylongname]\n", "interfaces:", "not an interface name");
}

static void test_structure_errors(void **state)
{
	(void)state;
	expect_err("maps:\n  flow_slots: 64\n  flow_slots: 128\n",
		   "t.yaml:3:3: maps.flow_slots:", "set twice in this file");
	expect_err("maps: {}\nmaps: {}\n", "t.yaml:2:1: maps:", "set twice in this file");
	expect_err("attach:\n  xdp_mode: [auto\n", "t.yaml:", "YAML syntax error");
	expect_err("attach:\n\txdp_mode: auto\n", "t.yaml:2:", "YAML syntax error");
	expect_err("attach: {}\n---\nmaps: {}\n", "t.yaml:3:1:", "a second YAML document");
}

static void test_load_file_errors(void **state)
{
	struct dm_config c;

	(void)state;
	dm_config_defaults(&c);
	assert_int_equal(dm_config_load_yaml(&c, "/nonexistent/dicomon.yaml", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "cannot read config file /nonexistent/dicomon.yaml"));
}

static int write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int run_cli(struct dm_cli *cli, struct dm_config *c, ...)
{
	char *argv[32] = {"run"};
	int argc = 1, r;
	va_list ap;

	va_start(ap, c);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	r = dm_cli_parse(DM_CMD_RUN, argc, argv, cli);
	if (r)
		return r;
	err[0] = 0;
	return dm_cli_config(cli, c, true, err, sizeof(err));
}

static void test_flags_override_file(void **state)
{
	char path[] = "/tmp/dicomon-test-XXXXXX";
	struct dm_config c;
	struct dm_hooks h;
	struct dm_cli cli;

	(void)state;
	assert_int_equal(write_tmp(path, "interfaces:\n"
					 "  - eth0\n"
					 "  - name: eth1\n"
					 "    xdp_mode: native\n"
					 "    tc_egress: true\n"
					 "detection:\n"
					 "  ports: [104]\n"
					 "  midstream: true\n"
					 "maps:\n"
					 "  flow_slots: 1024\n"
					 "output:\n"
					 "  log_level: info\n"),
			 0);
	/* The file alone. */
	assert_int_equal(run_cli(&cli, &c, "-c", path, NULL), 0);
	assert_int_equal(c.n_ifaces, 2);
	assert_int_equal(c.flow_slots, 1024);
	assert_int_equal(c.log_level, DM_LOG_INFO);
	/* Flags win; -i replaces the list but eth1 keeps its per-interface settings. */
	assert_int_equal(run_cli(&cli, &c, "-c", path, "-i", "eth1", "-i", "eth9", "--flow-slots",
				 "4096", "-p", "11112,2762", "--no-midstream", "-vv", "-o",
				 "table.keep_finished_seconds=7", "--pin-root", "/tmp/pins", NULL),
			 0);
	assert_int_equal(c.n_ifaces, 2);
	assert_string_equal(c.ifaces[0].name, "eth1");
	assert_string_equal(c.ifaces[1].name, "eth9");
	dm_iface_hooks(&c, 0, &h);
	assert_int_equal(h.xdp_mode, DM_XDP_NATIVE);
	assert_true(h.tc_egress);
	dm_iface_hooks(&c, 1, &h);
	assert_int_equal(h.xdp_mode, DM_XDP_AUTO);
	assert_false(h.tc_egress);
	assert_int_equal(c.flow_slots, 4096);
	assert_true(port_on(&c, 11112) && port_on(&c, 2762) && !port_on(&c, 104));
	assert_false(c.midstream);
	assert_int_equal(c.log_level, DM_LOG_DEBUG);
	assert_int_equal(c.table_keep_finished_s, 7);
	assert_string_equal(c.pin_root, "/tmp/pins");
	/* A hook flag applies to every interface, over per-interface settings. */
	assert_int_equal(run_cli(&cli, &c, "-c", path, "--xdp-mode", "generic", NULL), 0);
	dm_iface_hooks(&c, 1, &h);
	assert_int_equal(h.xdp_mode, DM_XDP_GENERIC);
	assert_true(h.tc_egress);
	/* The last of two flags wins. */
	assert_int_equal(
	    run_cli(&cli, &c, "-i", "x", "--flow-slots", "128", "-o", "maps.flow_slots=256", NULL),
	    0);
	assert_int_equal(c.flow_slots, 256);
	unlink(path);
}

static void test_cli_errors(void **state)
{
	struct dm_config c;
	struct dm_cli cli;

	(void)state;
	assert_int_equal(run_cli(&cli, &c, "-i", "eth0", "--flow-slots", "1000", NULL), -EINVAL);
	assert_int_equal(run_cli(&cli, &c, "-i", "eth0", "-o", "maps.nope=1", NULL), -EINVAL);
	assert_int_equal(run_cli(&cli, &c, "-i", "eth0", "-o", "noequals", NULL), -EINVAL);
	assert_int_equal(run_cli(&cli, &c, "-i", "eth0", "stray", NULL), -EINVAL);
	/* No interface at all; an interface with no hook. */
	assert_int_equal(run_cli(&cli, &c, NULL), -EINVAL);
	assert_non_null(strstr(err, "no interfaces"));
	assert_int_equal(run_cli(&cli, &c, "-i", "eth0", "--xdp-mode", "off", NULL), -EINVAL);
	assert_non_null(strstr(err, "--xdp-mode off needs --tc-ingress or --tc-egress"));
	assert_int_equal(run_cli(&cli, &c, "-i", "eth0", "-i", "eth0", NULL), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(run_cli(&cli, &c, "-c", "/nonexistent.yaml", "-i", "eth0", NULL), -ENOENT);
}

static void test_check_names_line(void **state)
{
	struct dm_config c;

	(void)state;
	assert_int_equal(parse(&c, "interfaces:\n  - eth0\n  - {name: eth1, xdp_mode: 'off'}\n"),
			 0);
	assert_int_equal(dm_config_check(&c, "t.yaml", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:3: interfaces: eth1 has no hook"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_is_defaults),	cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_dump_round_trip),	cmocka_unit_test(test_ports_forms),
	    cmocka_unit_test(test_unknown_keys),	cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_structure_errors),	cmocka_unit_test(test_load_file_errors),
	    cmocka_unit_test(test_flags_override_file), cmocka_unit_test(test_cli_errors),
	    cmocka_unit_test(test_check_names_line),
	};

	return cmocka_run_group_tests_name("unit_yaml_config", tests, NULL, NULL);
}
