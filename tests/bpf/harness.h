/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The BPF tests' harness (tests/bpf/): one loaded classifier, crafted frames
 * run through BPF_PROG_TEST_RUN, the events it sends captured, counter
 * deltas, and TCP conversations with DICOM associations in them.
 */
#ifndef __BPF_HARNESS_H
#define __BPF_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "dicomon.h"
#include "kern/loader.h"
#include "decode/pdu.h"
#include "pktbuild.h"

#define XDP_PASS      2
#define TC_ACT_UNSPEC (-1)
#define MAX_EVENTS    1024

struct captured {
	uint8_t *data;
	size_t len;
};

struct harness {
	struct dm_loader l;
	struct ring_buffer *rb;
	int prog; /* program under test */
	int is_xdp;
	int hold; /* run() leaves the events in the ring (the wake-up test) */
	struct captured ev[MAX_EVENTS];
	int nev;
	struct dm_stats before;
};


/* A TCP conversation between a client and a server port. */
struct conv {
	struct pkt_flow f;
	uint8_t buf[16384];
};

extern struct harness *H;
extern uint16_t next_port; /* every scenario gets its own client port */

/* A group's set-up and teardown: the classifier loaded with cfg (XDP or TC program). */
int harness_up(void **state, const struct dm_config *cfg, int xdp);
/* The same with the default configuration. */
int setup_xdp(void **state);
int setup_tc(void **state);
int teardown(void **state);
/* Per test: select the harness, drain, and snapshot the counters. */
void begin(void **state);
void snapshot(void);
/* Counters since the snapshot. */
struct dm_stats delta(void);
void clear_events(void);
/* One frame through the program under test; its events consumed. */
void run(const uint8_t *frame, size_t len);
void conv_init(struct conv *c, uint16_t dport, const struct pkt_spec *tmpl);
/* One segment from client (0) or server (1); runs it and returns its payload length. */
size_t send_seg(struct conv *c, int from_server, uint8_t flags, const void *p, size_t n);
void handshake(struct conv *c);
int count_events(uint32_t type);
const void *find_event(uint32_t type, int nth);
/* The nth whole PDU of a type and direction rebuilt from its pieces, as userspace does. */
size_t rebuild(uint32_t ev_type, uint8_t pdu_type, int dir, int nth, struct dm_pdu_buf *b);
const struct dm_event_flow *flow_end(void);
size_t mk_rq(uint8_t *out, size_t cap, const char *called, const char *calling);
size_t mk_ac(uint8_t *out, size_t cap);
/* A whole C-ECHO association; payload bytes per direction through orig/reply. */
void echo_association(struct conv *c, size_t *orig, size_t *reply);
void check_echo_stats(const struct dm_stats *d);

#endif /* __BPF_HARNESS_H */
