/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_NETDEV_H
#define __DM_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Does the NIC strip VLAN tags on receive (ethtool rxvlan)? 1, 0, or -errno. */
int dm_netdev_rxvlan_offload(const char *ifname);
/*
 * Can XDP ask ifindex's driver for a stripped VLAN tag (netdev netlink,
 * xdp-rx-metadata-features)? 1, 0, -EOPNOTSUPP where the kernel does not
 * say (before 6.8), or another -errno.
 */
int dm_netdev_xdp_rx_vlan(int ifindex);
/* Netlink attribute lookup in a flat attribute stream (exposed for tests). */
const void *dm_nla_find(const void *buf, size_t len, uint16_t type, size_t *plen);

#endif /* __DM_NETDEV_H */
