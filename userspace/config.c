// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "config.h"

void dm_config_defaults(struct dm_config *cfg)
{
	const char *bad;

	memset(cfg, 0, sizeof(*cfg));
	cfg->xdp_mode = DM_XDP_AUTO;
	cfg->vlan_meta = true;
	cfg->flow_slots = 16384;
	cfg->overflow_entries = 4096;
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
	dm_parse_ports(DM_DEFAULT_PORTS, cfg->port_map, &bad);
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

void dm_config_to_bpf(const struct dm_config *cfg, struct dm_bpf_config *bpf)
{
	memset(bpf, 0, sizeof(*bpf));
	memcpy(bpf->port_map, cfg->port_map, sizeof(bpf->port_map));
	bpf->idle_reclaim_ns = (uint64_t)cfg->idle_reclaim_s * 1000000000ULL;
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
}
