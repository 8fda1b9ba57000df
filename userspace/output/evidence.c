// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Evidence pcaps of alerted associations, redacted (evidence.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "output/evidence.h"
#include "decode/cmdkeep.h"
#include "lib/log.h"
#include "lib/lru.h"
#include "lib/pcapio.h"
#include "lib/safefile.h"

#define MAX_ASSOCS 65536 /* tracked associations (a bound besides the bytes) */
#define CMD_ELEM_MAX 4096 /* longest command element value without a group length */

/* Redactor states: where in the PDU stream the next byte is. */
enum {
	R_HDR,	      /* PDU header (6 bytes) */
	R_SKIP,	      /* body of a PDU kept as it is (RJ, release, abort) */
	R_PDV_HDR,    /* P-DATA-TF: PDV item header (length 4, context id, control) */
	R_PDV_DATA,   /* PDV value: a command (kept) or a data set fragment (zeroed) */
	R_ASSOC_FIXED, /* RQ/AC: protocol version .. reserved (68 bytes, kept) */
	R_ITEM_HDR,   /* RQ/AC item header (type, reserved, length 2) */
	R_ITEM_BODY,  /* an item other than user information, kept */
	R_SUB_HDR,    /* user information sub-item header */
	R_SUB_BODY,   /* a sub-item other than user identity, kept */
	R_SUB_ID,     /* user identity (0x58) / its response (0x59): values zeroed */
};

/* Command set walk (dm_redact.cmd). */
enum { CMD_NONE, CMD_WALK, CMD_BAD };

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The command set is not one: zeroed from this byte to its last fragment's end. */
static int cmd_bad(struct dm_redact *r)
{
	if (r->cmd != CMD_BAD)
		r->bad_cmds++;
	r->cmd = CMD_BAD;
	return 1;
}

/* A command PDV begins: the first fragment starts a walk, the next ones go on with it. */
static void cmd_pdv_begin(struct dm_redact *r)
{
	if (r->cmd == CMD_NONE) {
		r->cmd = CMD_WALK;
		r->en = r->ev_left = r->in_glen = r->has_glen = 0;
		r->last_elem = 0;
		r->glen_left = r->gval = 0;
		r->any = 0;
	}
	r->cmd_last = r->ctrl & 0x02;
}

/* A command PDV ended: after its last fragment the set must be whole. */
static void cmd_pdv_end(struct dm_redact *r)
{
	if (!r->cmd_last)
		return;
	if (r->cmd == CMD_WALK && (r->en || r->ev_left || (r->has_glen && r->glen_left)))
		r->bad_cmds++; /* nothing left to zero: it ended short of its lengths */
	r->cmd = CMD_NONE;
}

/* A whole element header (PS3.7 6.3.1: Implicit VR LE): 0 if a command set may hold it. */
static int cmd_elem_header(struct dm_redact *r)
{
	uint16_t elem = (uint16_t)(r->ebuf[2] | r->ebuf[3] << 8);
	uint32_t vlen = le32(r->ebuf + 4), max;

	if (vlen & 1)
		return -1;
	/* pdv_left still counts this byte: vlen must fit what follows it. */
	if (r->cmd_last && vlen > r->pdv_left - 1)
		return -1;
	if (r->has_glen ? vlen > r->glen_left : vlen > CMD_ELEM_MAX)
		return -1;
	if (elem == 0 && vlen != 4)
		return -1;
	max = dm_cmd_value_max(elem);
	r->ev_keep = max && vlen <= max;
	r->ev_left = vlen;
	r->in_glen = elem == 0;
	r->last_elem = elem;
	r->any = 1;
	return 0;
}

/* A byte of a value: 1 to zero it. The group length's is read (it bounds the rest). */
static int cmd_value_byte(struct dm_redact *r, const uint8_t *p)
{
	r->ev_left--;
	if (r->in_glen) {
		if (!p)
			return cmd_bad(r);
		r->gval |= (uint32_t)*p << (8 * (3 - r->ev_left));
		if (!r->ev_left) {
			r->in_glen = 0;
			r->has_glen = 1;
			r->glen_left = r->gval;
		}
	}
	return !r->ev_keep;
}

/* A byte of a command PDV: 1 to zero it. Headers are kept; values per the allow-list. */
static int cmd_byte(struct dm_redact *r, const uint8_t *p)
{
	if (r->cmd == CMD_BAD)
		return 1;
	if (!r->en && !r->ev_left && r->has_glen && r->glen_left < 8)
		return cmd_bad(r); /* more than the group length says */
	if (r->has_glen && !r->in_glen)
		r->glen_left--;
	if (r->ev_left)
		return cmd_value_byte(r, p);
	if (!p)
		return cmd_bad(r); /* a header beyond the snap length: unknown from here */
	if (!r->en && r->cmd_last && r->pdv_left < 8)
		return cmd_bad(r); /* the header would not fit the last fragment */
	if (r->en < 2 && *p)
		return cmd_bad(r); /* group 0000 only (a data set starts 08 00 ...) */
	r->ebuf[r->en++] = *p;
	if (r->en == 4 && r->any && (uint16_t)(r->ebuf[2] | r->ebuf[3] << 8) <= r->last_elem)
		return cmd_bad(r); /* tags ascend, each at most once */
	if (r->en < 8)
		return 0;
	r->en = 0;
	return cmd_elem_header(r) ? cmd_bad(r) : 0;
}

/* The stream is not what we think: everything from here on is zeroed. */
static bool lose(struct dm_redact *r)
{
	r->desync = true;
	return true;
}

/* A byte of a PDU header (kept); at the sixth, the state its body starts in. */
static bool pdu_header_byte(struct dm_redact *r, const uint8_t *p)
{
	if (!p)
		return lose(r);
	r->hbuf[r->hn++] = *p;
	if (r->hn < 6)
		return false;
	r->hn = 0;
	r->pdu_left = be32(r->hbuf + 2);
	if (r->hbuf[0] < 1 || r->hbuf[0] > 7 || r->hbuf[1])
		return lose(r); /* not a PDU header */
	if (!r->pdu_left)
		return false;
	r->state = r->hbuf[0] == 4			? R_PDV_HDR
		   : r->hbuf[0] == 1 || r->hbuf[0] == 2 ? R_ASSOC_FIXED
							: R_SKIP;
	r->body_off = 0;
	return false;
}

/* A whole PDV item header: its value (command or data set), or -1 if it lies. */
static int pdv_header(struct dm_redact *r)
{
	uint32_t len = be32(r->hbuf);

	if (len < 2 || len - 1 > r->pdu_left)
		return -1;
	r->ctrl = r->hbuf[5];
	r->pdv_left = len - 2;
	r->state = r->pdv_left ? R_PDV_DATA : R_PDV_HDR;
	if (r->ctrl & 0x01) {
		cmd_pdv_begin(r);
		if (!r->pdv_left)
			cmd_pdv_end(r);
	} else if (r->cmd != CMD_NONE) {
		/* A data set fragment before the command's last fragment. */
		if (r->cmd == CMD_WALK)
			r->bad_cmds++;
		r->cmd = CMD_NONE;
	}
	return 0;
}

/* A whole RQ/AC item header: user information (0x50) is walked, the rest kept. */
static void item_header(struct dm_redact *r)
{
	r->item_left = (uint32_t)r->hbuf[2] << 8 | r->hbuf[3];
	if (r->hbuf[0] == 0x50) {
		r->ui_left = r->item_left;
		r->state = r->ui_left ? R_SUB_HDR : R_ITEM_HDR;
	} else {
		r->state = r->item_left ? R_ITEM_BODY : R_ITEM_HDR;
	}
}

/* A whole user information sub-item header: user identity values are redacted. */
static void sub_header(struct dm_redact *r)
{
	r->sub_type = r->hbuf[0];
	r->sv_len = (uint32_t)r->hbuf[2] << 8 | r->hbuf[3];
	r->sv_off = 0;
	r->plen = 0;
	if (r->sv_len)
		r->state = r->sub_type == 0x58 || r->sub_type == 0x59 ? R_SUB_ID : R_SUB_BODY;
}

/* A byte of a PDV, item or sub-item header (kept); -1 if the stream is lost. */
static int header_byte(struct dm_redact *r, const uint8_t *p)
{
	if (!p)
		return -1;
	r->hbuf[r->hn++] = *p;
	if (r->state == R_SUB_HDR)
		r->ui_left--;
	if (r->hn < (r->state == R_PDV_HDR ? 6 : 4))
		return 0;
	r->hn = 0;
	if (r->state == R_PDV_HDR)
		return pdv_header(r);
	if (r->state == R_ITEM_HDR)
		item_header(r);
	else
		sub_header(r);
	return 0;
}

/* A byte of a sub-item value: 1 to zero it (identity values), 0 to keep, -1 lost. */
static int sub_value_byte(struct dm_redact *r, const uint8_t *p)
{
	uint32_t off = r->sv_off++;
	int zero = 0;

	r->ui_left--;
	if (r->state == R_SUB_ID && r->sub_type == 0x58) {
		/* type, positive response, primary length (2), primary, secondary length (2), ... */
		if (off == 2 || off == 3) {
			if (!p)
				return -1;
			r->plen = r->plen << 8 | *p;
		}
		zero = !(off < 4 || (off >= 4 + r->plen && off < 6 + r->plen));
	} else if (r->state == R_SUB_ID) {
		zero = off >= 2; /* 0x59: server response length (2), response */
	}
	if (r->sv_off == r->sv_len)
		r->state = R_SUB_HDR;
	return zero;
}

/* One byte (NULL: beyond the snap length); returns whether it must be zeroed. */
static bool redact_byte(struct dm_redact *r, const uint8_t *p)
{
	bool hdr = false;
	int zero = 0;

	switch (r->state) {
	case R_HDR:
		return pdu_header_byte(r, p);
	case R_SKIP:
		break;
	case R_PDV_HDR:
	case R_ITEM_HDR:
	case R_SUB_HDR:
		hdr = true;
		zero = header_byte(r, p);
		break;
	case R_PDV_DATA:
		/* bit 0 clear: a data set fragment, zeroed; set: a command fragment, walked */
		zero = r->ctrl & 0x01 ? cmd_byte(r, p) : 1;
		if (!--r->pdv_left) {
			r->state = R_PDV_HDR;
			if (r->ctrl & 0x01)
				cmd_pdv_end(r);
		}
		break;
	case R_ASSOC_FIXED:
		if (++r->body_off == 68)
			r->state = R_ITEM_HDR;
		break;
	case R_ITEM_BODY:
		if (!--r->item_left)
			r->state = R_ITEM_HDR;
		break;
	case R_SUB_BODY:
	case R_SUB_ID:
		zero = sub_value_byte(r, p);
		break;
	}
	if (zero < 0)
		return lose(r);
	/* Every byte after the PDU header counts against the PDU and the user item. */
	if ((r->state == R_SUB_HDR || r->state == R_SUB_BODY || r->state == R_SUB_ID) && !r->ui_left &&
	    !(hdr && r->hn))
		r->state = R_ITEM_HDR;
	if (!--r->pdu_left) {
		r->state = R_HDR;
		r->hn = 0;
	}
	return zero;
}

uint32_t dm_redact_segment(struct dm_redact *r, uint32_t seq, uint8_t *data, uint32_t present,
			   uint32_t total)
{
	uint32_t i, zeroed = 0;

	if (!total)
		return 0;
	if (!r->started) {
		r->started = true;
		r->next_seq = seq;
	}
	if (!r->desync && seq != r->next_seq) {
		/* A retransmission was walked already; a gap or overlap loses the stream. */
		if ((int32_t)(seq + total - r->next_seq) > 0)
			r->desync = true;
		memset(data, 0, present);
		return present;
	}
	for (i = 0; i < total; i++) {
		if (r->desync) {
			if (i < present) {
				memset(data + i, 0, present - i);
				zeroed += present - i;
			}
			break;
		}
		if (redact_byte(r, i < present ? data + i : NULL) && i < present) {
			data[i] = 0;
			zeroed++;
		}
	}
	r->next_seq = seq + total;
	return zeroed;
}

/*
 * Where the TCP payload of an Ethernet frame starts, its sequence number and
 * its length by the IP header; *ip_end where the IP datagram ends (by its
 * total length, IPv6: payload length + 40). 0, or -1 if the frame is not
 * IPv4/IPv6 TCP.
 */
static int tcp_payload(const uint8_t *f, uint32_t caplen, uint32_t *off, uint32_t *seq,
		       uint32_t *len, uint32_t *ip_end)
{
	uint32_t o = 12, ipo, l4len, thl;
	uint16_t et;
	uint8_t next;
	int hops;

	for (;;) {
		if (o + 2 > caplen)
			return -1;
		et = (uint16_t)(f[o] << 8 | f[o + 1]);
		if (et != 0x8100 && et != 0x88a8)
			break;
		o += 4;
	}
	ipo = o + 2;
	if (et == 0x0800) {
		if (ipo + 20 > caplen || (f[ipo] >> 4) != 4 || f[ipo + 9] != 6)
			return -1;
		if ((f[ipo + 6] & 0x1f) || f[ipo + 7]) /* a non-first fragment */
			return -1;
		l4len = (uint32_t)(f[ipo + 2] << 8 | f[ipo + 3]);
		*ip_end = ipo + l4len;
		if (l4len < (uint32_t)(f[ipo] & 0xf) * 4)
			return -1;
		l4len -= (f[ipo] & 0xf) * 4;
		o = ipo + (f[ipo] & 0xf) * 4;
	} else if (et == 0x86dd) {
		if (ipo + 40 > caplen)
			return -1;
		l4len = (uint32_t)(f[ipo + 4] << 8 | f[ipo + 5]);
		*ip_end = ipo + 40 + l4len;
		next = f[ipo + 6];
		o = ipo + 40;
		for (hops = 0; next != 6 && hops < 8; hops++) {
			if ((next != 0 && next != 43 && next != 60) || o + 8 > caplen)
				return -1; /* fragments and the unknown are not walked */
			thl = (f[o + 1] + 1u) * 8;
			if (thl > l4len)
				return -1;
			next = f[o];
			o += thl;
			l4len -= thl;
		}
		if (next != 6)
			return -1;
	} else {
		return -1;
	}
	if (o + 20 > caplen)
		return -1;
	thl = (f[o + 12] >> 4) * 4u;
	if (thl < 20 || thl > l4len)
		return -1;
	*seq = be32(f + o + 4);
	*off = o + thl;
	*len = l4len - thl;
	return 0;
}

struct ev_frame {
	int64_t wall_ns;
	uint32_t caplen, len;
	uint8_t data[];
};

struct ev_assoc {
	struct dm_lru_node node; /* by id, oldest arrival first (for the memory bound) */
	uint64_t id;
	struct dm_redact dir[DM_DIR_MAX];
	struct ev_frame **frames;
	uint32_t n, cap;
	uint64_t bytes;
	bool alerted, lost;
	uint32_t written; /* frames in its pcap */
	char path[320];
};

struct dm_evidence {
	char dir[256];
	uint64_t max_bytes, bytes;
	struct dm_lru assocs; /* MAX_ASSOCS, never touched: insertion order */
	struct dm_evidence_stats st;
};

int dm_evidence_prepare_dir(const char *dir, char *err, size_t errlen)
{
	char msg[512];
	int e = dm_safe_dir(dir, 0700, msg, sizeof(msg));

	if (e)
		snprintf(err, errlen, "evidence.dir: %s", msg);
	return e;
}

static struct ev_assoc *ev_of(const struct dm_lru_node *n)
{
	return n ? dm_container_of(n, struct ev_assoc, node) : NULL;
}

static bool ev_match(const struct dm_lru_node *n, const void *key)
{
	return ev_of(n)->id == *(const uint64_t *)key;
}

static void drop_frames(struct dm_evidence *e, struct ev_assoc *a)
{
	uint32_t i;

	for (i = 0; i < a->n; i++)
		free(a->frames[i]);
	free(a->frames);
	a->frames = NULL;
	a->n = a->cap = 0;
	e->bytes -= a->bytes;
	a->bytes = 0;
}

/* An association out of the table (its end, or the oldest one at MAX_ASSOCS): its frames go. */
static void dispose(void *ctx, struct dm_lru_node *n)
{
	struct ev_assoc *a = ev_of(n);

	drop_frames(ctx, a);
	free(a);
}

static const struct dm_lru_ops ev_ops = {
    .hash = dm_lru_hash_id, .match = ev_match, .evict = dispose};

struct dm_evidence *dm_evidence_new(const char *dir, uint64_t max_bytes)
{
	struct dm_evidence *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (dm_lru_init(&e->assocs, &ev_ops, e, MAX_ASSOCS)) {
		free(e);
		return NULL;
	}
	snprintf(e->dir, sizeof(e->dir), "%s", dir);
	e->max_bytes = max_bytes;
	return e;
}

static void forget(struct dm_evidence *e, struct ev_assoc *a)
{
	dm_lru_remove(&e->assocs, &a->node);
	dispose(e, &a->node);
}

void dm_evidence_free(struct dm_evidence *e)
{
	struct dm_lru_node *n, *tmp;

	if (!e)
		return;
	dm_lru_for_each(&e->assocs, n, tmp)
		forget(e, ev_of(n));
	dm_lru_fini(&e->assocs);
	free(e);
}

static struct ev_assoc *get(struct dm_evidence *e, uint64_t id)
{
	struct ev_assoc *a = ev_of(dm_lru_find(&e->assocs, &id));

	if (a)
		return a;
	dm_lru_make_room(&e->assocs);
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->id = id;
	dm_lru_insert(&e->assocs, &a->node, &id);
	return a;
}

/* The oldest association whose frames may go to keep the memory bound. */
static struct ev_assoc *oldest_unalerted(const struct dm_evidence *e)
{
	struct dm_lru_node *n;
	struct ev_assoc *a;

	for (n = dm_lru_oldest(&e->assocs); n; n = dm_lru_newer(n)) {
		a = ev_of(n);
		if (!a->alerted && !a->lost && a->n)
			return a;
	}
	return NULL;
}

static int append(struct dm_evidence *e, struct ev_assoc *a, struct ev_frame *const *f, uint32_t n)
{
	struct dm_pcap_writer *w;
	char err[256];
	uint32_t i;

	w = dm_pcap_append(a->path, DM_EVIDENCE_SNAP, err, sizeof(err));
	if (!w && errno == EPERM) { /* a symlink or a file someone else planted */
		e->st.refused++;
		if (e->st.refused <= 5 || !(e->st.refused % 1000))
			pr_warn("evidence %s (%llu refused so far)\n", err,
				(unsigned long long)e->st.refused);
		return -EPERM;
	}
	if (!w) {
		if (e->st.write_errors++ < 5)
			pr_warn("evidence %s: %s\n", a->path, err);
		return -EIO;
	}
	for (i = 0; i < n; i++)
		dm_pcap_write(w, (uint64_t)f[i]->wall_ns, f[i]->data, f[i]->caplen, f[i]->len);
	if (dm_pcap_writer_close(w)) {
		if (e->st.write_errors++ < 5)
			pr_warn("evidence %s: write failed\n", a->path);
		return -EIO;
	}
	if (!a->written && n)
		e->st.files++;
	a->written += n;
	e->st.written += n;
	return 0;
}

/* A frame's copy redacted: its TCP payload walked, its trailer (past the IP datagram) zeroed. */
static void redact_frame(struct dm_evidence *e, struct dm_redact *r,
			 const struct dm_event_packet *pkt, uint8_t *d, uint32_t caplen)
{
	uint32_t off, seq, plen, present, ip_end = caplen, bad = r->bad_cmds;

	if (tcp_payload(d, caplen, &off, &seq, &plen, &ip_end)) {
		/* Not walkable: keep no payload at all (past the Ethernet header). */
		if (caplen > 14) {
			memset(d + 14, 0, caplen - 14);
			e->st.redacted += caplen - 14;
		}
		return;
	}
	if (ip_end < caplen) {
		/* Ethernet padding or whatever a sender put after the datagram. */
		memset(d + ip_end, 0, caplen - ip_end);
		e->st.redacted += caplen - ip_end;
	}
	if (pkt->transport == DM_TRANSPORT_TLS)
		return;
	/* Picked up mid-stream: no PDU boundary to start from. */
	if (pkt->aflags & DM_AF_MIDSTREAM)
		r->desync = true;
	present = off < caplen ? caplen - off : 0;
	if (present > plen)
		present = plen;
	e->st.redacted += dm_redact_segment(r, seq, d + off, present, plen);
	e->st.bad_commands += r->bad_cmds - bad;
}

void dm_evidence_packet(struct dm_evidence *e, const struct dm_event_packet *pkt, size_t len,
			int64_t wall_ns)
{
	uint32_t caplen = pkt->hdr.len;
	struct ev_frame *f, **grown;
	struct ev_assoc *a;

	e->st.packets++;
	if (len < offsetof(struct dm_event_packet, data) + caplen || caplen > DM_EVIDENCE_SNAP ||
	    pkt->hdr.dir >= DM_DIR_MAX) {
		e->st.dropped++;
		return;
	}
	a = get(e, pkt->hdr.assoc_id);
	if (!a || a->lost) {
		e->st.dropped++;
		return;
	}
	f = malloc(sizeof(*f) + caplen);
	if (!f) {
		e->st.dropped++;
		return;
	}
	f->wall_ns = wall_ns;
	f->caplen = caplen;
	f->len = pkt->wire_len;
	memcpy(f->data, pkt->data, caplen);
	redact_frame(e, &a->dir[pkt->hdr.dir], pkt, f->data, caplen);
	if (a->alerted) {
		if (append(e, a, &f, 1) == -EPERM)
			a->lost = true; /* refused once: not tried again for each frame */
		free(f);
		return;
	}
	if (a->n == a->cap) {
		grown = realloc(a->frames, (a->cap ? a->cap * 2 : 16) * sizeof(*grown));
		if (!grown) {
			free(f);
			e->st.dropped++;
			return;
		}
		a->frames = grown;
		a->cap = a->cap ? a->cap * 2 : 16;
	}
	a->frames[a->n++] = f;
	a->bytes += sizeof(*f) + caplen;
	e->bytes += sizeof(*f) + caplen;
	/* Over the bound: the oldest unalerted associations lose their frames. */
	while (e->bytes > e->max_bytes) {
		struct ev_assoc *old = oldest_unalerted(e);

		if (!old)
			break;
		e->st.dropped += old->n;
		e->st.evicted++;
		drop_frames(e, old);
		old->lost = true;
	}
}

/*
 * The frame that made a rule fire arrives after the alert (the BPF side ships
 * the decoded PDU first): an association alerted before any of its frames
 * is marked all the same, and its file starts with the first frame.
 */
const char *dm_evidence_alert(struct dm_evidence *e, uint64_t id)
{
	struct ev_assoc *a = get(e, id);

	if (!a || a->lost)
		return NULL;
	if (a->alerted)
		return a->path;
	snprintf(a->path, sizeof(a->path), "%s/dicomon-%llu.pcap", e->dir, (unsigned long long)id);
	a->alerted = true;
	if (a->n && append(e, a, a->frames, a->n)) {
		drop_frames(e, a);
		a->lost = true;
		return NULL;
	}
	drop_frames(e, a);
	return a->path;
}

void dm_evidence_end(struct dm_evidence *e, uint64_t id)
{
	struct ev_assoc *a = ev_of(dm_lru_find(&e->assocs, &id));

	if (a)
		forget(e, a);
}

const struct dm_evidence_stats *dm_evidence_stats(const struct dm_evidence *e)
{
	return &e->st;
}
