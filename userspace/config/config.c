// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The defaults struct and the config keys' values: parsing, formatting,
 * comparing. The YAML file (yaml_config.c) and the command line (cli.c) both
 * set keys through dm_key_set(), so a value means the same and is checked the
 * same wherever it comes from; the defaults are the key table's (keys.c),
 * set the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include "config/config.h"
#include "lib/log.h"

void dm_config_defaults(struct dm_config *cfg)
{
	char why[160];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	/* Not keys: fixed, or set by `dicomon replay` (replay). */
	cfg->ctl_max = 65536;
	cfg->max_pdu_len = 1 << 24;
	for (i = 0; i < dm_n_keys; i++)
		if (dm_key_set(cfg, &dm_keys[i], dm_keys[i].def, why, sizeof(why)))
			pr_warn("config: the default of %s: %s\n", dm_keys[i].name, why);
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
		if (k->max && dm_ports_count(field(cfg, k)) > k->max) {
			snprintf(why, whylen, "at most %u ports", k->max);
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
	/*
	 * Not in replay (yet): its output stays what it was when the kernel's
	 * clock was not the capture's and a rate on it refused by the speed of
	 * the disk. With the capture's clock (dm_batch) it could run there too.
	 */
	if (cfg->source_rate && !cfg->replay) {
		bpf->src_interval_ns = 1000000000ULL / cfg->source_rate;
		bpf->src_tolerance_ns = bpf->src_interval_ns * (cfg->source_burst - 1);
	}
	bpf->slots_mask = cfg->flow_slots - 1;
	if (getrandom(&bpf->hash_seed, sizeof(bpf->hash_seed), 0) != sizeof(bpf->hash_seed))
		bpf->hash_seed = 0x5eed;
	bpf->ctl_max = cfg->ctl_max;
	bpf->dimse_snap = cfg->dimse_snap;
	bpf->max_pdu_len = cfg->max_pdu_len;
	/* Below a quarter full the 100 ms drain tick is enough; above, wake the reader. */
	bpf->wakeup_bytes = cfg->ringbuf_bytes / 4;
	bpf->wakeup_shift = (__u8)__builtin_ctz(bpf->wakeup_bytes); /* ringbuf_bytes: a power of two */
	bpf->any_port_rq = cfg->any_port_rq;
	bpf->midstream = cfg->midstream;
	bpf->tls = cfg->tls;
	bpf->dimse = cfg->dimse;
	bpf->vlan_key = cfg->vlan_key;
	bpf->replay = cfg->replay;
	bpf->evidence_pkts = cfg->evidence_dir[0] ? cfg->evidence_packets : 0;
	for (p = 1; p < 65536 && bpf->n_web_ports < DM_WEB_PORTS; p++)
		if (cfg->web_port_map[p >> 6] >> (p & 63) & 1)
			bpf->web_ports[bpf->n_web_ports++] = p;
}
