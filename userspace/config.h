/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_CONFIG_H
#define __DM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "dicomon.h"

#define DM_DEFAULT_PORTS "104,11112,2762,4242"

enum dm_xdp_mode {
	DM_XDP_AUTO = 0, /* native, falling back to generic with a warning */
	DM_XDP_NATIVE,
	DM_XDP_GENERIC,
	DM_XDP_OFF,
};

/* Everything the loader and the event loop can be told; one defaults struct. */
struct dm_config {
	const char *ifaces[DM_MAX_IFACES - 1];
	int n_ifaces;
	enum dm_xdp_mode xdp_mode;
	bool tc_ingress; /* TC on ingress (instead of or besides XDP) */
	bool tc_egress;	 /* TC on egress */
	bool vlan_meta;	 /* device-bound XDP copy asking the driver for stripped VLAN tags */
	uint64_t port_map[DM_PORT_WORDS];
	uint32_t flow_slots; /* power of two */
	uint32_t overflow_entries;
	uint32_t ringbuf_bytes; /* power of two, >= page size */
	uint32_t ctl_max;
	uint32_t dimse_snap;
	uint32_t max_pdu_len;
	uint32_t idle_reclaim_s;
	bool any_port_rq;
	bool midstream;
	bool tls;
	bool dimse;
	bool vlan_key; /* VLAN ids in the association key (off for routers between VLANs) */
	bool json;     /* events and stats as JSON lines on stdout */
	uint32_t stats_interval_s; /* 0 = counters only at exit */
};

void dm_config_defaults(struct dm_config *cfg);
/* "104,11112,2000-2010": returns 0 or -EINVAL, with *bad pointing at the offending text. */
int dm_parse_ports(const char *list, uint64_t map[DM_PORT_WORDS], const char **bad);
/* Strict decimal u32 in [min, max]; returns 0 or -EINVAL / -ERANGE. */
int dm_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Fill the BPF side's read-only block from cfg. */
void dm_config_to_bpf(const struct dm_config *cfg, struct dm_bpf_config *bpf);

#endif /* __DM_CONFIG_H */
