/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_PCAPIO_H
#define __DM_PCAPIO_H

/*
 * libpcap behind a small interface: its headers and libbpf's both define
 * struct bpf_insn, so only pcapio.c includes pcap.h. Reading (replay) and
 * writing (evidence) captures, and link layers to Ethernet.
 */
#include <stddef.h>
#include <stdint.h>

struct dm_pcap;

/* A pcap or pcapng file, timestamps in ns. NULL with the reason in err. */
struct dm_pcap *dm_pcap_open(const char *path, char *err, size_t errlen);
void dm_pcap_close(struct dm_pcap *p);
/* The link type (DLT_*) of the file's (first) interface. */
int dm_pcap_linktype(const struct dm_pcap *p);
/* "EN10MB", "LINUX_SLL2", ... */
const char *dm_pcap_linktype_name(int dlt);
/* Can dm_pcap_to_ethernet() convert it? */
int dm_pcap_linktype_supported(int dlt);

struct dm_pcap_pkt {
	uint64_t ts_ns;
	uint32_t caplen, len;
	const uint8_t *data;
};
/* 1: a packet; 0: end of file; -1: error, the reason in err. */
int dm_pcap_next(struct dm_pcap *p, struct dm_pcap_pkt *pkt, char *err, size_t errlen);
/*
 * How far reading has come: the file's offset after the last packet read
 * (libpcap's stdio position, exact for pcap and pcapng) and its size. Either
 * is -1 when unknown (a pipe). A syscall at most: call it now and then, not
 * per packet.
 */
void dm_pcap_position(const struct dm_pcap *p, int64_t *offset, int64_t *size);

/* dm_pcap_to_ethernet() failures */
#define DM_PCAP_SHORT	 (-1) /* shorter than its link-layer header */
#define DM_PCAP_OVERSIZE (-2) /* the frame would not fit in out */
/*
 * The packet as an Ethernet frame in out: as it is, or with a synthesized
 * header (zero destination, the source address if the link layer has one,
 * the link layer's protocol). Returns its length or DM_PCAP_*.
 */
long dm_pcap_to_ethernet(int dlt, const uint8_t *pkt, uint32_t caplen, uint8_t *out, size_t outmax);

/*
 * Writing: Ethernet, ns timestamps; appends if the file exists (created 0600),
 * opened by lib/safefile.h's rules. NULL with the reason in err and errno
 * set: EPERM when the file was refused (a symlink, someone else's, writable by
 * others, not a nanosecond Ethernet pcap).
 */
struct dm_pcap_writer;
struct dm_pcap_writer *dm_pcap_append(const char *path, uint32_t snaplen, char *err, size_t errlen);
int dm_pcap_write(struct dm_pcap_writer *w, uint64_t wall_ns, const uint8_t *data, uint32_t caplen,
		  uint32_t len);
/* 0, or -EIO if a write failed. */
int dm_pcap_writer_close(struct dm_pcap_writer *w);

#endif /* __DM_PCAPIO_H */
