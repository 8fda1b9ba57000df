// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Addresses as text and back (netaddr.h). Parsing is strict and numeric:
 * what an attacker or a typo writes is refused, never resolved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/netaddr.h"

/* Word i (network byte order) of a prefix of plen bits. */
static uint32_t prefix_mask(unsigned int plen, int i)
{
	int bits = (int)plen - 32 * i;

	return htonl(bits >= 32 ? ~0u : bits <= 0 ? 0 : ~0u << (32 - bits));
}

int dm_cidr_parse(const char *s, struct dm_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long plen;
	int max, i;

	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, out->a) == 1)
		out->family = 4, max = 32;
	else if (inet_pton(AF_INET6, buf, out->a) == 1)
		out->family = 6, max = 128;
	else
		return -EINVAL;
	plen = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || *end || plen > (unsigned long)max)
			return -EINVAL;
	}
	out->plen = plen;
	/* Host bits cleared: 10.1.2.3/8 means 10.0.0.0/8. */
	for (i = 0; i < 4; i++)
		out->a[i] &= prefix_mask(plen, i);
	return 0;
}

bool dm_cidr_match(const struct dm_cidr *c, uint8_t family, const uint32_t a[4])
{
	int i;

	if (c->family != family)
		return false;
	for (i = 0; i < 4; i++)
		if ((a[i] & prefix_mask(c->plen, i)) != c->a[i])
			return false;
	return true;
}

void dm_cidr_format(const struct dm_cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	dm_addr_format(c->family, c->a, ip, sizeof(ip));
	if (c->plen == (c->family == 4 ? 32 : 128))
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, "%s/%u", ip, c->plen);
}

int dm_netset_parse(struct dm_netset *s, const char *list)
{
	char item[INET6_ADDRSTRLEN + 8];
	const char *p = list, *comma;
	size_t n;

	s->count = 0;
	while (p && *p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, n);
		item[n] = 0;
		if (n) {
			if (s->count >= DM_NETS_MAX)
				return -E2BIG;
			if (dm_cidr_parse(item, &s->n[s->count]))
				return -EINVAL;
			s->count++;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

bool dm_netset_match(const struct dm_netset *s, uint8_t family, const uint32_t a[4])
{
	int i;

	for (i = 0; i < s->count; i++)
		if (dm_cidr_match(&s->n[i], family, a))
			return true;
	return false;
}

int dm_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = SOCK_STREAM};
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	struct addrinfo *res;
	size_t n;
	char *end;
	long p;

	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':')
			return -EINVAL;
		n = (size_t)(colon - s - 1);
		s++;
		port = colon + 2;
		hints.ai_family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		n = (size_t)(colon - s);
		port = colon + 1;
		hints.ai_family = AF_INET;
	}
	if (!n || n >= sizeof(host))
		return -EINVAL;
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || !*port || *end || p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void dm_addr_format(uint8_t family, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

void dm_key_addr_format(const struct dm_flow_key *k, int side, char *buf, size_t len)
{
	dm_addr_format(k->family, k->addr[side & 1], buf, len);
}
