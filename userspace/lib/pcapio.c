// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* libpcap, reading and writing; link layers to Ethernet (pcapio.h). */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/pcapio.h"
#include "lib/safefile.h"

#define ETH_HLEN_ 14

struct dm_pcap {
	pcap_t *p;
};

#define DM_PCAP_READ_BUF (1 << 20)

struct dm_pcap *dm_pcap_open(const char *path, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct dm_pcap *p = calloc(1, sizeof(*p));
	FILE *f;

	if (!p) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (strcmp(path, "-")) {
		/*
		 * Opened here so that stdio reads it in 1 MiB blocks (its default
		 * is a page: a read system call per few packets).
		 */
		f = fopen(path, "rb");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(p);
			return NULL;
		}
		setvbuf(f, NULL, _IOFBF, DM_PCAP_READ_BUF);
		p->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, eb);
		if (!p->p)
			fclose(f);
	} else {
		p->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	}
	if (!p->p) {
		snprintf(err, errlen, "%s", eb[0] ? eb : "not a capture libpcap can read");
		free(p);
		return NULL;
	}
	return p;
}

void dm_pcap_close(struct dm_pcap *p)
{
	if (!p)
		return;
	pcap_close(p->p);
	free(p);
}

int dm_pcap_linktype(const struct dm_pcap *p)
{
	return pcap_datalink(p->p);
}

const char *dm_pcap_linktype_name(int dlt)
{
	const char *n = pcap_datalink_val_to_name(dlt);

	return n ? n : "unknown";
}

int dm_pcap_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	}
	return 0;
}

int dm_pcap_next(struct dm_pcap *p, struct dm_pcap_pkt *pkt, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int r = pcap_next_ex(p->p, &h, &data);

	if (r == PCAP_ERROR_BREAK)
		return 0;
	if (r != 1) {
		snprintf(err, errlen, "%s", pcap_geterr(p->p));
		return -1;
	}
	/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
	pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
	pkt->caplen = h->caplen;
	pkt->len = h->len;
	pkt->data = data;
	return 1;
}

void dm_pcap_position(const struct dm_pcap *p, int64_t *offset, int64_t *size)
{
	FILE *f = pcap_file(p->p);
	struct stat st;

	*offset = f ? (int64_t)ftell(f) : -1;
	*size = f && !fstat(fileno(f), &st) && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

static uint16_t ip_ethertype(const uint8_t *ip, uint32_t len)
{
	if (!len)
		return 0;
	return (ip[0] >> 4) == 6 ? 0x86dd : (ip[0] >> 4) == 4 ? 0x0800 : 0;
}

long dm_pcap_to_ethernet(int dlt, const uint8_t *pkt, uint32_t caplen, uint8_t *out, size_t outmax)
{
	const uint8_t *mac = NULL;
	uint32_t hlen = 0, af;
	uint16_t proto = 0;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < ETH_HLEN_)
			return DM_PCAP_SHORT;
		if (caplen > outmax)
			return DM_PCAP_OVERSIZE;
		memcpy(out, pkt, caplen);
		return caplen;
	case DLT_LINUX_SLL: /* type(2) arphrd(2) addr_len(2) addr(8) protocol(2) */
		hlen = 16;
		if (caplen < hlen)
			return DM_PCAP_SHORT;
		if (((pkt[4] << 8) | pkt[5]) == 6)
			mac = pkt + 6;
		proto = (pkt[14] << 8) | pkt[15];
		break;
	case DLT_LINUX_SLL2: /* protocol(2) rsv(2) ifindex(4) arphrd(2) type(1) alen(1) addr(8) */
		hlen = 20;
		if (caplen < hlen)
			return DM_PCAP_SHORT;
		if (pkt[11] == 6)
			mac = pkt + 12;
		proto = (pkt[0] << 8) | pkt[1];
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (!caplen)
			return DM_PCAP_SHORT;
		proto = ip_ethertype(pkt, caplen);
		break;
	case DLT_NULL: /* address family in the writer's byte order */
	case DLT_LOOP: /* ... in network byte order */
		hlen = 4;
		if (caplen < hlen)
			return DM_PCAP_SHORT;
		memcpy(&af, pkt, 4);
		if (dlt == DLT_LOOP || (af & 0xffff) == 0)
			af = (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 |
			     pkt[3];
		/* AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs). */
		proto = af == 2 ? 0x0800
			: (af == 10 || af == 24 || af == 28 || af == 30) ? 0x86dd
									   : 0;
		break;
	default:
		return DM_PCAP_SHORT;
	}
	if ((size_t)(caplen - hlen) + ETH_HLEN_ > outmax)
		return DM_PCAP_OVERSIZE;
	memset(out, 0, 12);
	if (mac)
		memcpy(out + 6, mac, 6);
	out[12] = proto >> 8;
	out[13] = proto & 0xff;
	memcpy(out + ETH_HLEN_, pkt + hlen, caplen - hlen);
	return (long)(caplen - hlen) + ETH_HLEN_;
}

/*
 * The writer is ours, not libpcap's: pcap_dump_open_append() reopens the file
 * by its name (following a symlink planted there). The file comes from
 * lib/safefile.h, and the classic format is a 24-byte header and a 16-byte
 * header per record, in host byte order with the nanosecond magic.
 */
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR_LEN  24

struct dm_pcap_writer {
	FILE *f;
	int failed;
};

/* A file someone already wrote: only ours to append to if it is the same kind. */
static int header_check(int fd, char *err, size_t errlen)
{
	uint32_t h[6];
	ssize_t n = pread(fd, h, sizeof(h), 0);

	if (n != (ssize_t)sizeof(h) || h[0] != PCAP_MAGIC_NS || h[5] != DLT_EN10MB) {
		snprintf(err, errlen, "not a nanosecond Ethernet pcap; refused");
		return -EPERM;
	}
	return 0;
}

static int header_write(FILE *f, uint32_t snaplen)
{
	uint32_t h[6] = {PCAP_MAGIC_NS, 2 | (4u << 16), 0, 0, snaplen, DLT_EN10MB};

	return fwrite(h, sizeof(h), 1, f) == 1 ? 0 : -EIO;
}

static struct dm_pcap_writer *writer_fail(int e, int fd, struct dm_pcap_writer *w)
{
	if (fd >= 0)
		close(fd);
	free(w);
	errno = -e;
	return NULL;
}

struct dm_pcap_writer *dm_pcap_append(const char *path, uint32_t snaplen, char *err, size_t errlen)
{
	struct dm_pcap_writer *w = calloc(1, sizeof(*w));
	struct stat st;
	int fd, e;

	if (!w) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return writer_fail(-ENOMEM, -1, NULL);
	}
	/* Evidence holds packet bytes: owner-only from the start. */
	fd = dm_safe_open(path, DM_SAFE_APPEND_RW, 0600, err, errlen);
	if (fd < 0)
		return writer_fail(fd, -1, w);
	if (fstat(fd, &st)) {
		e = -errno;
		snprintf(err, errlen, "%s", strerror(-e));
		return writer_fail(e, fd, w);
	}
	e = st.st_size ? header_check(fd, err, errlen) : 0;
	if (e)
		return writer_fail(e, fd, w);
	w->f = fdopen(fd, "a");
	if (!w->f) {
		e = -errno;
		snprintf(err, errlen, "%s", strerror(-e));
		return writer_fail(e, fd, w);
	}
	if (!st.st_size)
		w->failed = header_write(w->f, snaplen);
	return w;
}

int dm_pcap_write(struct dm_pcap_writer *w, uint64_t wall_ns, const uint8_t *data, uint32_t caplen,
		  uint32_t len)
{
	uint32_t h[4] = {(uint32_t)(wall_ns / 1000000000ULL), (uint32_t)(wall_ns % 1000000000ULL),
			 caplen, len};

	if (fwrite(h, sizeof(h), 1, w->f) != 1 || (caplen && fwrite(data, caplen, 1, w->f) != 1))
		w->failed = -EIO;
	return w->failed;
}

int dm_pcap_writer_close(struct dm_pcap_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = w->failed;
	if (fclose(w->f) && !err)
		err = -EIO;
	free(w);
	return err;
}
