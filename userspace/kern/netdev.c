// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What an interface's driver offers dicomon's XDP side about VLAN tags:
 *   - whether the NIC strips them on receive (RX VLAN offload, ethtool's
 *     "rxvlan"), so that they are not in the packet XDP sees;
 *   - whether XDP can ask the driver for a stripped tag: the netdev generic
 *     netlink family's xdp-rx-metadata-features (vlan-tag bit, 6.8+).
 * The loader loads a device-bound XDP copy only where the second is true, and
 * reports an interface where the first is true and the second false: there,
 * XDP keys associations without the VLAN ids the NIC took off.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kern/netdev.h"

/* include/uapi/linux/netdev.h (6.3+; the VLAN bit 6.8+): newer than Debian 12's headers. */
#define DM_NETDEV_FAMILY		"netdev"
#define DM_NETDEV_CMD_DEV_GET		1
#define DM_NETDEV_A_DEV_IFINDEX		1
#define DM_NETDEV_A_DEV_XDP_RX_METADATA 5
#define DM_NETDEV_XDP_RX_META_VLAN	4

int dm_netdev_rxvlan_offload(const char *ifname)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_GFLAGS};
	struct ifreq ifr;
	int fd, err = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err ? err : !!(ev.data & ETH_FLAG_RXVLAN);
}

/* Netlink attributes: walk [buf, buf + len) for type, return its payload and length. */
const void *dm_nla_find(const void *buf, size_t len, uint16_t type, size_t *plen)
{
	const uint8_t *p = buf, *end = p + len;
	struct nlattr a;

	while (p + NLA_HDRLEN <= end) {
		memcpy(&a, p, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || p + a.nla_len > end)
			return NULL;
		if ((a.nla_type & NLA_TYPE_MASK) == type) {
			*plen = a.nla_len - NLA_HDRLEN;
			return p + NLA_HDRLEN;
		}
		p += NLA_ALIGN(a.nla_len);
	}
	return NULL;
}

/* Append one attribute to a request; false if it does not fit. */
static bool nla_put(uint8_t *buf, size_t cap, size_t *len, uint16_t type, const void *data,
		    size_t n)
{
	struct nlattr a = {.nla_len = NLA_HDRLEN + n, .nla_type = type};

	if (*len + NLA_ALIGN(a.nla_len) > cap)
		return false;
	memcpy(buf + *len, &a, sizeof(a));
	memcpy(buf + *len + NLA_HDRLEN, data, n);
	memset(buf + *len + a.nla_len, 0, NLA_ALIGN(a.nla_len) - a.nla_len);
	*len += NLA_ALIGN(a.nla_len);
	return true;
}

/*
 * One generic netlink request and its one reply: the reply's attributes (after
 * the genl header) are copied to out. Returns their length or -errno.
 */
static int genl_call(int fd, uint16_t family, uint8_t cmd, uint16_t attr, const void *val,
		     size_t vlen, uint8_t *out, size_t cap)
{
	uint8_t req[256] __attribute__((aligned(4))), resp[8192] __attribute__((aligned(4)));
	struct nlmsghdr h = {.nlmsg_type = family, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1};
	struct genlmsghdr g = {.cmd = cmd, .version = 1};
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	struct nlmsgerr e;
	ssize_t n;

	if (!nla_put(req, sizeof(req), &len, attr, val, vlen))
		return -EMSGSIZE;
	h.nlmsg_len = len;
	memcpy(req, &h, sizeof(h));
	memcpy(req + NLMSG_HDRLEN, &g, sizeof(g));
	if (send(fd, req, len, 0) < 0)
		return -errno;
	n = recv(fd, resp, sizeof(resp), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < NLMSG_HDRLEN)
		return -EBADMSG;
	memcpy(&h, resp, sizeof(h));
	if (h.nlmsg_len > (size_t)n)
		return -EBADMSG;
	if (h.nlmsg_type == NLMSG_ERROR) {
		if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(e))
			return -EBADMSG;
		memcpy(&e, resp + NLMSG_HDRLEN, sizeof(e));
		return e.error ? e.error : -ENODATA;
	}
	if (h.nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EBADMSG;
	n = h.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	if ((size_t)n > cap)
		return -EMSGSIZE;
	memcpy(out, resp + NLMSG_HDRLEN + GENL_HDRLEN, n);
	return n;
}

int dm_netdev_xdp_rx_vlan(int ifindex)
{
	uint8_t attrs[8192];
	const void *v;
	uint32_t idx = ifindex;
	uint16_t family;
	uint64_t features = 0;
	size_t vlen;
	int fd, n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	n = genl_call(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, DM_NETDEV_FAMILY,
		      sizeof(DM_NETDEV_FAMILY), attrs, sizeof(attrs));
	if (n == -ENOENT) { /* no netdev family: before 6.3 */
		n = -EOPNOTSUPP;
		goto out;
	}
	if (n < 0)
		goto out;
	v = dm_nla_find(attrs, n, CTRL_ATTR_FAMILY_ID, &vlen);
	if (!v || vlen < sizeof(family)) {
		n = -EBADMSG;
		goto out;
	}
	memcpy(&family, v, sizeof(family));
	n = genl_call(fd, family, DM_NETDEV_CMD_DEV_GET, DM_NETDEV_A_DEV_IFINDEX, &idx, sizeof(idx),
		      attrs, sizeof(attrs));
	if (n < 0)
		goto out;
	v = dm_nla_find(attrs, n, DM_NETDEV_A_DEV_XDP_RX_METADATA, &vlen);
	if (!v || vlen != sizeof(features)) { /* the kernel does not say: before 6.8 */
		n = -EOPNOTSUPP;
		goto out;
	}
	memcpy(&features, v, sizeof(features));
	n = !!(features & DM_NETDEV_XDP_RX_META_VLAN);
out:
	close(fd);
	return n;
}
