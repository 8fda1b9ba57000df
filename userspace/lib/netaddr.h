/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_NETADDR_H
#define __DM_NETADDR_H

/*
 * Addresses as text and back, nothing DICOM in them: networks ("10.0.0.0/8")
 * and lists of them (the policy and the config check), listen addresses
 * ("HOST:PORT", "[V6]:PORT": the metrics endpoint and the config check), and
 * the one formatter of an address, raw or one side of a flow key.
 */
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h> /* INET6_ADDRSTRLEN: the formatters' buffers */
#include <stdint.h>
#include <sys/socket.h>
#include "dicomon.h"

/* An address or network. Addresses in network byte order, IPv4 in a[0]. */
struct dm_cidr {
	uint32_t a[4];
	uint8_t family; /* 4 or 6 */
	uint8_t plen;
};

/* "10.0.0.0/8", "fd00::/8", "192.0.2.7" (a host): 0 or -EINVAL. Host bits cleared. */
int dm_cidr_parse(const char *s, struct dm_cidr *out);
bool dm_cidr_match(const struct dm_cidr *c, uint8_t family, const uint32_t a[4]);
/* "10.0.0.0/8"; a host prefix (/32, /128) prints as the bare address. */
void dm_cidr_format(const struct dm_cidr *c, char *buf, size_t len);

#define DM_NETS_MAX 64
struct dm_netset {
	struct dm_cidr n[DM_NETS_MAX];
	int count;
};
/* From a list "a,b,c" (empty items skipped): 0, -EINVAL, or -E2BIG past DM_NETS_MAX. */
int dm_netset_parse(struct dm_netset *s, const char *list);
bool dm_netset_match(const struct dm_netset *s, uint8_t family, const uint32_t a[4]);

/* "HOST:PORT" or "[HOST]:PORT", numeric only (no resolver in the daemon): 0 or -EINVAL. */
int dm_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* An address of family 6, else 4 (network byte order) as text; "?" if it cannot be. */
void dm_addr_format(uint8_t family, const void *addr, char *buf, size_t len);
/* Side 0 or 1 of a flow key's addresses, the same way. */
void dm_key_addr_format(const struct dm_flow_key *k, int side, char *buf, size_t len);

#endif /* __DM_NETADDR_H */
