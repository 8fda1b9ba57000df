// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The defaults struct and the table of config keys. The YAML file
 * (yaml_config.c) and the command line (cli.c) both set keys through
 * dm_key_set(), so a value means the same and is checked the same wherever it
 * comes from. docs/daemon.md, packaging/dicomon.yaml and the man page list the
 * same keys; tests/unit/test_yaml_config.c checks that they do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include "config/config.h"
#include "lib/log.h"
#include "output/metrics.h"
#include "detect/policy.h"

const char *const dm_xdp_mode_names[] = {"auto", "native", "generic", "off", NULL};
const char *const dm_tc_mode_names[] = {"auto", "tcx", "clsact", NULL};
const char *const dm_syslog_facility_names[] = {"local0", "local1", "local2", "local3",
						"local4", "local5", "local6", "local7",
						"user",	  "daemon", NULL};
const char *const dm_sections[] = {"attach", "detection", "maps",   "state", "output",	"table",
				   "feed",   "alerts",	  "evidence", "policy", "rules", "metrics", NULL};

_Static_assert(sizeof(enum dm_xdp_mode) == sizeof(int), "ENUM keys are stored as int");
_Static_assert(sizeof(enum dm_tc_mode) == sizeof(int), "ENUM keys are stored as int");

#define OFF(f) offsetof(struct dm_config, f)
#define KB(n, f)                                                                                   \
	{                                                                                          \
		.name = n, .type = DM_KT_BOOL, .off = OFF(f)                                       \
	}
#define KU(n, f, lo, hi, fl)                                                                       \
	{                                                                                          \
		.name = n, .type = DM_KT_U32, .off = OFF(f), .min = lo, .max = hi, .flags = fl     \
	}
#define KE(n, f, tab)                                                                              \
	{                                                                                          \
		.name = n, .type = DM_KT_ENUM, .off = OFF(f), .names = tab                         \
	}
#define KL(n, f, fn)                                                                               \
	{                                                                                          \
		.name = n, .type = DM_KT_LIST, .off = OFF(f),                                      \
		.size = sizeof(((struct dm_config *)0)->f), .check = fn                            \
	}
#define KP(n, f, fl)                                                                               \
	{                                                                                          \
		.name = n, .type = DM_KT_PATH, .off = OFF(f),                                      \
		.size = sizeof(((struct dm_config *)0)->f), .flags = fl                            \
	}

/* Order = order in the docs and in packaging/dicomon.yaml. */
const struct dm_key dm_keys[] = {
    KE("attach.xdp_mode", xdp_mode, dm_xdp_mode_names),
    KB("attach.tc_ingress", tc_ingress),
    KB("attach.tc_egress", tc_egress),
    KE("attach.tc_mode", tc_mode, dm_tc_mode_names),
    KB("attach.vlan_meta", vlan_meta),
    {.name = "detection.ports", .type = DM_KT_PORTS, .off = OFF(port_map)},
    KB("detection.any_port", any_port_rq),
    KB("detection.midstream", midstream),
    KB("detection.tls", tls),
    KB("detection.dimse", dimse),
    KU("detection.dimse_snap", dimse_snap, 64, DM_PIECE_MAX, 0),
    KB("detection.vlan_key", vlan_key),
    {.name = "detection.web_ports", .type = DM_KT_PORTS, .off = OFF(web_port_map)},
    KU("detection.idle_reclaim_seconds", idle_reclaim_s, 0, 7 * 86400, 0),
    KU("detection.candidate_seconds", candidate_s, 0, 3600, 0),
    KU("maps.flow_slots", flow_slots, 64, 1u << 22, DM_KF_POW2 | DM_KF_RESTART),
    KU("maps.overflow_entries", overflow_entries, 16, 1u << 22, DM_KF_RESTART),
    KU("maps.ringbuf_bytes", ringbuf_bytes, 1u << 16, 1u << 30, DM_KF_POW2 | DM_KF_RESTART),
    KU("maps.candidate_entries", candidate_entries, 16, 1u << 22, DM_KF_RESTART),
    KP("state.pin_root", pin_root, DM_KF_RESTART),
    KB("state.pin_links", pin_links),
    KB("state.detach_on_exit", detach_on_exit),
    {.name = "output.json", .type = DM_KT_BOOL, .off = OFF(json), .flags = DM_KF_RESTART},
    KU("output.stats_interval", stats_interval_s, 0, 86400, 0),
    KE("output.log_level", log_level, dm_log_level_names),
    KU("table.max_associations", table_max_assoc, 64, 1u << 24, DM_KF_RESTART),
    KU("table.keep_finished_seconds", table_keep_finished_s, 0, 7 * 86400, DM_KF_RESTART),
    KP("table.status_socket", status_socket, DM_KF_RESTART),
    KP("feed.file", feed_file, DM_KF_EMPTY),
    KB("feed.stdout", feed_stdout),
    KP("feed.unix_socket", feed_unix_socket, DM_KF_EMPTY),
    KB("feed.syslog", feed_syslog),
    KE("feed.syslog_facility", feed_syslog_facility, dm_syslog_facility_names),
    KU("alerts.rate_limit_count", alert_rate_count, 0, 1000000, 0),
    KU("alerts.rate_limit_seconds", alert_rate_s, 1, 86400, 0),
    KP("evidence.dir", evidence_dir, DM_KF_EMPTY | DM_KF_RESTART),
    KU("evidence.packets", evidence_packets, 1, 4096, DM_KF_RESTART),
    /* policy.* and rules.*: the detection rules (rules.c, docs/rules.md) */
    KL("policy.imaging_networks", imaging_networks, dm_cidr_check),
    KL("policy.trusted_networks", trusted_networks, dm_cidr_check),
    KB("policy.require_tls", require_tls),
    {.name = "policy.tls_ports", .type = DM_KT_PORTS, .off = OFF(tls_ports)},
    KP("policy.ae_allowlist", ae_allowlist, DM_KF_EMPTY),
    KU("rules.learn_seconds", learn_s, 0, 366 * 86400, 0),
    KU("rules.enum_rejects", enum_rejects, 2, 1000000, 0),
    KU("rules.enum_called_aes", enum_called_aes, 2, DM_DISTINCT_CAP, 0),
    KU("rules.enum_seconds", enum_s, 1, 86400, 0),
    KU("rules.scan_targets", scan_targets, 2, DM_DISTINCT_CAP, 0),
    KU("rules.scan_seconds", scan_s, 1, 86400, 0),
    KU("rules.scan_silent_assocs", scan_silent, 1, 1000000, 0),
    KU("rules.any_ae_called", any_ae_called, 2, DM_DISTINCT_CAP, 0),
    KU("rules.any_ae_seconds", any_ae_s, 1, 7 * 86400, 0),
    KU("rules.find_results_max", find_results_max, 1, 1u << 30, 0),
    KU("rules.subops_max", subops_max, 1, 1u << 30, 0),
    KU("rules.abort_storm", abort_storm, 2, 1000000, 0),
    KU("rules.abort_seconds", abort_s, 1, 86400, 0),
    KL("rules.disabled", rules_disabled, dm_sid_check),
    {.name = "metrics.listen",
     .type = DM_KT_LIST,
     .off = OFF(metrics_listen),
     .size = sizeof(((struct dm_config *)0)->metrics_listen),
     .check = dm_listen_check,
     .flags = DM_KF_RESTART},
};
const size_t dm_n_keys = sizeof(dm_keys) / sizeof(dm_keys[0]);

void dm_config_defaults(struct dm_config *cfg)
{
	const char *bad;

	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = DM_XDP_AUTO;
	cfg->tc_mode = DM_TC_AUTO;
	cfg->vlan_meta = true;
	cfg->flow_slots = 16384;
	cfg->overflow_entries = 4096;
	cfg->candidate_entries = 4096;
	cfg->candidate_s = 30;
	cfg->evidence_packets = 64;
	cfg->ringbuf_bytes = 4 << 20;
	cfg->ctl_max = 65536;
	cfg->dimse_snap = 512;
	cfg->max_pdu_len = 1 << 24;
	cfg->idle_reclaim_s = 600;
	cfg->any_port_rq = true;
	cfg->midstream = true;
	cfg->tls = true;
	cfg->dimse = true;
	cfg->vlan_key = true;
	snprintf(cfg->pin_root, sizeof(cfg->pin_root), "%s", DM_DEFAULT_PIN_ROOT);
	cfg->pin_links = true;
	cfg->detach_on_exit = true;
	cfg->log_level = DM_LOG_WARN;
	cfg->table_max_assoc = 16384;
	cfg->table_keep_finished_s = 300;
	snprintf(cfg->status_socket, sizeof(cfg->status_socket), "%s", DM_DEFAULT_STATUS_SOCKET);
	cfg->feed_syslog_facility = 5; /* local5 */
	snprintf(cfg->metrics_listen, sizeof(cfg->metrics_listen), "%s", DM_DEFAULT_METRICS_LISTEN);
	cfg->alert_rate_count = 10;
	cfg->alert_rate_s = 60;
	/* The RFC 1918 and RFC 4193 ranges: where imaging networks usually live. */
	snprintf(cfg->imaging_networks, sizeof(cfg->imaging_networks), "%s",
		 "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7");
	dm_parse_ports("2762", cfg->tls_ports, &bad); /* PS3.15 B.1's recommended port */
	cfg->enum_rejects = 10;
	cfg->enum_called_aes = 10;
	cfg->enum_s = 60;
	cfg->scan_targets = 10;
	cfg->scan_s = 60;
	cfg->scan_silent = 3;
	cfg->any_ae_called = 5;
	cfg->any_ae_s = 3600;
	cfg->find_results_max = 500;
	cfg->subops_max = 5000;
	cfg->abort_storm = 20;
	cfg->abort_s = 60;
	dm_parse_ports(DM_DEFAULT_PORTS, cfg->port_map, &bad);
	dm_parse_ports(DM_DEFAULT_WEB_PORTS, cfg->web_port_map, &bad);
}

const struct dm_key *dm_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < dm_n_keys; i++)
		if (!strcmp(dm_keys[i].name, name))
			return &dm_keys[i];
	return NULL;
}

int dm_parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	int i;

	for (i = 0; yes[i]; i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -EINVAL;
}

int dm_parse_enum(const char *s, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -EINVAL;
}

static void enum_choices(const char *const *names, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; names[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? (names[i + 1] ? ", " : " or ") : "",
			      names[i]);
}

unsigned int dm_ports_count(const uint64_t map[DM_PORT_WORDS])
{
	unsigned int i, n = 0;

	for (i = 0; i < DM_PORT_WORDS; i++)
		n += __builtin_popcountll(map[i]);
	return n;
}

static void *field(struct dm_config *cfg, const struct dm_key *k)
{
	return (char *)cfg + k->off;
}

static const void *cfield(const struct dm_config *cfg, const struct dm_key *k)
{
	return (const char *)cfg + k->off;
}

/* "a, b,c" -> "a,b,c", each item checked; "" is the empty list. */
static int set_list(struct dm_config *cfg, const struct dm_key *k, const char *val, char *why,
		    size_t whylen)
{
	char item[128], out[DM_LIST_MAX];
	const char *p = val, *e;
	size_t n, o = 0;

	out[0] = 0;
	while (*p) {
		while (*p == ' ')
			p++;
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (!n || n >= sizeof(item)) {
			snprintf(why, whylen, "%s list item", n ? "a too long" : "an empty");
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = 0;
		if (k->check && k->check(item, why, whylen))
			return -EINVAL;
		if (o + n + 2 > sizeof(out) || o + n + 2 > k->size) {
			snprintf(why, whylen, "the list is longer than %zu characters",
				 k->size - 1);
			return -EINVAL;
		}
		o += snprintf(out + o, sizeof(out) - o, "%s%s", o ? "," : "", item);
		if (!e)
			break;
		p = e + 1;
		if (!*p) {
			snprintf(why, whylen, "an empty list item");
			return -EINVAL;
		}
	}
	snprintf(field(cfg, k), k->size, "%s", out);
	return 0;
}

int dm_key_set(struct dm_config *cfg, const struct dm_key *k, const char *val, char *why,
	       size_t whylen)
{
	char choices[128];
	const char *bad;
	uint32_t u;
	int v;

	switch (k->type) {
	case DM_KT_BOOL:
		v = dm_parse_bool(val);
		if (v < 0)
			goto bad_bool;
		*(bool *)field(cfg, k) = v;
		return 0;
	case DM_KT_U32:
		if (dm_parse_u32(val, k->min, k->max, &u) ||
		    ((k->flags & DM_KF_POW2) && (u & (u - 1)))) {
			snprintf(why, whylen, "expected %s%u..%u",
				 k->flags & DM_KF_POW2 ? "a power of two, " : "", k->min, k->max);
			return -EINVAL;
		}
		*(uint32_t *)field(cfg, k) = u;
		return 0;
	case DM_KT_ENUM:
		v = dm_parse_enum(val, k->names);
		if (v < 0) {
			enum_choices(k->names, choices, sizeof(choices));
			snprintf(why, whylen, "expected %s", choices);
			return -EINVAL;
		}
		*(int *)field(cfg, k) = v;
		return 0;
	case DM_KT_PORTS:
		if (dm_parse_ports(val, field(cfg, k), &bad)) {
			snprintf(why, whylen,
				 "expected ports 1-65535 or ranges A-B, comma separated "
				 "(bad part: '%.20s')",
				 bad);
			return -EINVAL;
		}
		if (k->off == OFF(web_port_map) && dm_ports_count(field(cfg, k)) > DM_WEB_PORTS) {
			snprintf(why, whylen, "at most %d web ports", DM_WEB_PORTS);
			return -EINVAL;
		}
		return 0;
	case DM_KT_PATH:
		if ((val[0] != '/' && !(!val[0] && (k->flags & DM_KF_EMPTY))) ||
		    strlen(val) >= k->size) {
			snprintf(why, whylen, "expected an absolute path shorter than %zu bytes%s",
				 k->size, k->flags & DM_KF_EMPTY ? " (or \"\" for none)" : "");
			return -EINVAL;
		}
		snprintf(field(cfg, k), k->size, "%s", val);
		return 0;
	case DM_KT_LIST:
		return set_list(cfg, k, val, why, whylen);
	}
	snprintf(why, whylen, "internal error: key type %d", k->type);
	return -EINVAL;
bad_bool:
	snprintf(why, whylen, "expected true or false");
	return -EINVAL;
}

void dm_key_format(const struct dm_config *cfg, const struct dm_key *k, char *buf, size_t len)
{
	const void *f = cfield(cfg, k);

	switch (k->type) {
	case DM_KT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)f ? "true" : "false");
		break;
	case DM_KT_U32:
		snprintf(buf, len, "%u", *(const uint32_t *)f);
		break;
	case DM_KT_ENUM:
		snprintf(buf, len, "%s", k->names[*(const int *)f]);
		break;
	case DM_KT_PORTS:
		dm_format_ports(f, buf, len);
		break;
	case DM_KT_PATH:
	case DM_KT_LIST:
		snprintf(buf, len, "%s", (const char *)f);
		break;
	}
}

bool dm_key_equal(const struct dm_config *a, const struct dm_config *b, const struct dm_key *k)
{
	const void *fa = cfield(a, k), *fb = cfield(b, k);

	switch (k->type) {
	case DM_KT_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case DM_KT_U32:
		return *(const uint32_t *)fa == *(const uint32_t *)fb;
	case DM_KT_ENUM:
		return *(const int *)fa == *(const int *)fb;
	case DM_KT_PORTS:
		return !memcmp(fa, fb, sizeof(uint64_t) * DM_PORT_WORDS);
	case DM_KT_PATH:
	case DM_KT_LIST:
		return !strcmp(fa, fb);
	}
	return false;
}

void dm_key_copy(struct dm_config *dst, const struct dm_config *src, const struct dm_key *k)
{
	size_t n = k->type == DM_KT_BOOL    ? sizeof(bool)
		   : k->type == DM_KT_U32   ? sizeof(uint32_t)
		   : k->type == DM_KT_ENUM  ? sizeof(int)
		   : k->type == DM_KT_PORTS ? sizeof(uint64_t) * DM_PORT_WORDS
					    : k->size;

	memcpy(field(dst, k), cfield(src, k), n);
}

int dm_config_add_iface(struct dm_config *cfg, const char *name, int line)
{
	struct dm_iface_cfg *ic;
	int i;

	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/') || strchr(name, ' '))
		return -EINVAL;
	for (i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, name))
			return -EEXIST;
	if (cfg->n_ifaces >= DM_MAX_IFACES - 1)
		return -E2BIG;
	ic = &cfg->ifaces[cfg->n_ifaces++];
	memset(ic, 0, sizeof(*ic));
	snprintf(ic->name, sizeof(ic->name), "%s", name);
	ic->xdp_mode = ic->tc_ingress = ic->tc_egress = ic->vlan_meta = -1;
	ic->line = line;
	return 0;
}

void dm_iface_hooks(const struct dm_config *cfg, int i, struct dm_hooks *out)
{
	const struct dm_iface_cfg *ic = &cfg->ifaces[i];

	out->xdp_mode = ic->xdp_mode >= 0 ? (enum dm_xdp_mode)ic->xdp_mode : cfg->xdp_mode;
	out->tc_ingress = ic->tc_ingress >= 0 ? ic->tc_ingress : cfg->tc_ingress;
	out->tc_egress = ic->tc_egress >= 0 ? ic->tc_egress : cfg->tc_egress;
	out->vlan_meta = ic->vlan_meta >= 0 ? ic->vlan_meta : cfg->vlan_meta;
}

int dm_config_check(const struct dm_config *cfg, const char *file, char *err, size_t errlen)
{
	struct dm_hooks h;
	int i;

	if (!cfg->n_ifaces) {
		snprintf(err, errlen,
			 "no interfaces: list them under 'interfaces:' in %s or give -i IFACE",
			 file ? file : "a config file (-c)");
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_ifaces; i++) {
		dm_iface_hooks(cfg, i, &h);
		if (h.xdp_mode != DM_XDP_OFF || h.tc_ingress || h.tc_egress)
			continue;
		if (cfg->ifaces[i].line)
			snprintf(err, errlen,
				 "%s:%d: interfaces: %s has no hook (xdp_mode off and neither "
				 "tc_ingress nor tc_egress)",
				 file ? file : "?", cfg->ifaces[i].line, cfg->ifaces[i].name);
		else
			snprintf(err, errlen,
				 "interface %s has no hook: --xdp-mode off needs --tc-ingress or "
				 "--tc-egress",
				 cfg->ifaces[i].name);
		return -EINVAL;
	}
	return 0;
}

int dm_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int parse_port(const char *s, size_t n, uint32_t *port)
{
	char buf[8];

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	return dm_parse_u32(buf, 1, 65535, port);
}

int dm_parse_ports(const char *list, uint64_t map[DM_PORT_WORDS], const char **bad)
{
	const char *p = list, *comma, *dash;
	uint32_t lo, hi, port;

	memset(map, 0, sizeof(uint64_t) * DM_PORT_WORDS);
	*bad = list;
	if (!list || !*list)
		return -EINVAL;
	while (*p) {
		comma = strchr(p, ',');
		if (!comma)
			comma = p + strlen(p);
		dash = memchr(p, '-', comma - p);
		*bad = p;
		if (dash) {
			if (parse_port(p, dash - p, &lo) ||
			    parse_port(dash + 1, comma - dash - 1, &hi) || lo > hi)
				return -EINVAL;
		} else {
			if (parse_port(p, comma - p, &lo))
				return -EINVAL;
			hi = lo;
		}
		for (port = lo; port <= hi; port++)
			map[port >> 6] |= 1ULL << (port & 63);
		p = *comma ? comma + 1 : comma;
		if (*comma && !*p)
			return -EINVAL; /* trailing comma */
	}
	return 0;
}

static bool port_in(const uint64_t map[DM_PORT_WORDS], uint32_t p)
{
	return p < 65536 && ((map[p >> 6] >> (p & 63)) & 1);
}

void dm_format_ports(const uint64_t map[DM_PORT_WORDS], char *buf, size_t len)
{
	uint32_t p, q;
	size_t n = 0;
	int w;

	buf[0] = 0;
	for (p = 1; p < 65536; p++) {
		if (!port_in(map, p))
			continue;
		for (q = p; port_in(map, q + 1); q++)
			;
		w = q == p ? snprintf(buf + n, len - n, "%s%u", n ? "," : "", p)
			   : snprintf(buf + n, len - n, "%s%u-%u", n ? "," : "", p, q);
		if (w < 0 || (size_t)w >= len - n) {
			if (len > 4)
				snprintf(buf + (n < len - 4 ? n : len - 4), 4, "...");
			return;
		}
		n += w;
		p = q;
	}
}

void dm_config_to_bpf(const struct dm_config *cfg, struct dm_bpf_config *bpf)
{
	unsigned int p;

	memset(bpf, 0, sizeof(*bpf));
	memcpy(bpf->port_map, cfg->port_map, sizeof(bpf->port_map));
	bpf->idle_reclaim_ns = (uint64_t)cfg->idle_reclaim_s * 1000000000ULL;
	bpf->cand_timeout_ns = (uint64_t)cfg->candidate_s * 1000000000ULL;
	bpf->slots_mask = cfg->flow_slots - 1;
	if (getrandom(&bpf->hash_seed, sizeof(bpf->hash_seed), 0) != sizeof(bpf->hash_seed))
		bpf->hash_seed = 0x5eed;
	bpf->ctl_max = cfg->ctl_max;
	bpf->dimse_snap = cfg->dimse_snap;
	bpf->max_pdu_len = cfg->max_pdu_len;
	/* Below a quarter full the 100 ms drain tick is enough; above, wake the reader. */
	bpf->wakeup_bytes = cfg->ringbuf_bytes / 4;
	bpf->any_port_rq = cfg->any_port_rq;
	bpf->midstream = cfg->midstream;
	bpf->tls = cfg->tls;
	bpf->dimse = cfg->dimse;
	bpf->vlan_key = cfg->vlan_key;
	bpf->fine_clock = cfg->fine_clock;
	bpf->evidence_pkts = cfg->evidence_dir[0] ? cfg->evidence_packets : 0;
	for (p = 1; p < 65536 && bpf->n_web_ports < DM_WEB_PORTS; p++)
		if (cfg->web_port_map[p >> 6] >> (p & 63) & 1)
			bpf->web_ports[bpf->n_web_ports++] = p;
}
