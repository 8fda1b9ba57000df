// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Command sets split over P-DATA-TF PDUs, joined (see cmdasm.h). A PDU is
 * first scanned (PDV headers only), then either handed to the decoder as it
 * came (the command is whole in it, or broken inside it: the decoder says
 * how), or its command fragments are kept; once the last fragment is in,
 * the decoder gets one P-DATA-TF with one PDV holding the whole command.
 */
#include <stdlib.h>
#include <string.h>
#include "assoc/cmdasm.h"
#include "dicomon.h"
#include "decode/dimse.h"

#define SCAN_MAX 64		   /* PDVs of one PDU looked at */
#define HEAD	 12		   /* PDU header + PDV header of the joined command */
#define BUF_SIZE (HEAD + DM_CMD_ASM_MAX + 6 * DM_CMD_ASM_STUBS)

struct pdv {
	size_t frag, flen, have; /* fragment offset, length, bytes of it present */
	uint8_t pc, mch;
};

struct scan {
	struct pdv p[SCAN_MAX];
	int n;
	int cut;  /* bytes of the PDU were not shipped */
	int full; /* more PDVs than SCAN_MAX */
};

static void scan(const uint8_t *pdu, size_t len, struct scan *s, struct dm_violations *v)
{
	size_t pdu_end, pos = 6, frag, flen;
	struct pdv *p;

	memset(s, 0, sizeof(*s));
	if (len < 6 || pdu[0] != DM_PDU_P_DATA)
		return;
	pdu_end = 6 + (size_t)dm_rd_be32(pdu + 2);
	s->cut = len < pdu_end;
	/* Each PDV is at least 6 bytes long, so the walk ends. */
	while (!dm_pdv_next(pdu, pos, pdu_end, len, v, &frag, &flen)) {
		if (s->n == SCAN_MAX) {
			s->full = 1;
			return;
		}
		p = &s->p[s->n++];
		p->frag = frag;
		p->flen = flen;
		p->have = frag < len ? len - frag : 0;
		if (p->have > flen)
			p->have = flen;
		p->pc = pdu[pos + 4];
		p->mch = pdu[pos + 5];
		pos = frag + flen;
	}
}

/*
 * The PDV holding the last command fragment of context pc, from the first
 * PDV on: its index, -1 if none is in this PDU. *bad: a data set PDV or
 * another context's command comes first (1 data set, 2 context).
 */
static int last_fragment(const struct scan *s, uint8_t pc, int *bad)
{
	int i;

	*bad = 0;
	for (i = 0; i < s->n; i++) {
		if (!(s->p[i].mch & 1)) {
			*bad = 1;
			return -1;
		}
		if (s->p[i].pc != pc) {
			*bad = 2;
			return -1;
		}
		if (s->p[i].mch & 2)
			return i;
	}
	return -1;
}

static void reset(struct dm_cmd_asm *a)
{
	if (a->buf)
		explicit_bzero(a->buf, BUF_SIZE);
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/* The command being collected will not be finished: bad says why (see last_fragment()). */
static void broken(struct dm_cmd_asm *a, int bad, uint8_t pc, struct dm_violations *v)
{
	if (bad == 1)
		dm_viol_add(v, DM_V_CMD_FRAGMENT,
			    "data set fragment before the command's last fragment (%u kept)",
			    a->frags);
	else if (bad == 2)
		dm_viol_add(v, DM_V_CMD_FRAGMENT,
			    "command fragment on context %u while context %u's command is "
			    "unfinished",
			    pc, a->pc_id);
	else
		dm_viol_add(v, DM_V_CMD_FRAGMENT,
			    "P-DATA-TF without a readable PDV before the command's last fragment");
	reset(a);
}

/* The fragments p[0..n) (command PDVs of a->pc_id) after those kept. */
static void append(struct dm_cmd_asm *a, const uint8_t *pdu, const struct scan *s, int n,
		   struct dm_violations *v)
{
	size_t room, k;
	int i;

	for (i = 0; i < n && !a->cut; i++) {
		const struct pdv *p = &s->p[i];

		room = DM_CMD_ASM_MAX - a->len;
		k = p->have < room ? p->have : room;
		memcpy(a->buf + HEAD + a->len, pdu + p->frag, k);
		a->len += (uint32_t)k;
		/* As sent, bounded: the joined PDU's lengths must not wrap. */
		if (p->flen > UINT32_MAX / 2 - a->want)
			a->want = UINT32_MAX / 2;
		else
			a->want += (uint32_t)p->flen;
		if (a->frags < UINT16_MAX)
			a->frags++;
		if (p->have > room)
			dm_viol_add(v, DM_V_CMD_FRAGMENT, "command set longer than %u bytes",
				    DM_CMD_ASM_MAX);
		if (k < p->flen)
			a->cut = 1; /* not shipped, or over the bound: judged on what is there */
	}
}

static void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * The joined command as one P-DATA-TF for the decoder: one PDV of all the
 * command bytes, then an empty stub per data set PDV that followed the last
 * fragment in its PDU (the decoder checks them against the data set type).
 * A command missing bytes says so by lengths longer than what is there.
 */
static void joined(struct dm_cmd_asm *a, int stubs, const uint8_t **out, size_t *out_len)
{
	uint8_t *b = a->buf, *s;
	int i;

	if (a->cut)
		stubs = 0;
	b[0] = DM_PDU_P_DATA;
	b[1] = 0;
	be32_put(b + 2, 4 + 2 + a->want + 6 * (uint32_t)stubs);
	be32_put(b + 6, 2 + a->want);
	b[10] = a->pc_id;
	b[11] = 0x03; /* command, last fragment */
	s = b + HEAD + a->len;
	for (i = 0; i < stubs; i++, s += 6) {
		be32_put(s, 2);
		s[4] = a->pc_id;
		s[5] = 0x02; /* data set, last fragment: no byte of it */
	}
	*out = b;
	*out_len = HEAD + a->len + 6 * (size_t)stubs;
	a->state = DM_CA_IDLE;
}

static int stubs_after(const struct scan *s, int last, uint8_t pc)
{
	int i, n = 0;

	for (i = last + 1; i < s->n && n < DM_CMD_ASM_STUBS; i++)
		if (!(s->p[i].mch & 1) && s->p[i].pc == pc)
			n++;
	return n;
}

/* Fragments of the command being collected; the last one decodes it. */
static int more(struct dm_cmd_asm *a, const uint8_t *pdu, const struct scan *s,
		const uint8_t **out, size_t *out_len, struct dm_violations *v)
{
	int bad, last = last_fragment(s, a->pc_id, &bad);

	if (bad) {
		broken(a, bad, s->p[0].pc, v);
		return DM_CMD_DROP;
	}
	append(a, pdu, s, last >= 0 ? last + 1 : s->n, v);
	if (last >= 0) {
		joined(a, stubs_after(s, last, a->pc_id), out, out_len);
		return DM_CMD_DECODE;
	}
	if (a->cut || s->cut || s->full) {
		/* Its last fragment is beyond what was shipped: judged on what is there. */
		a->cut = 1;
		joined(a, 0, out, out_len);
		a->state = DM_CA_SKIP;
		return DM_CMD_DECODE;
	}
	return DM_CMD_WAIT;
}

/* A PDU whose first PDV is a command fragment, none unfinished before it. */
static int start(struct dm_cmd_asm *a, const uint8_t *pdu, const struct scan *s,
		 const uint8_t **out, size_t *out_len, struct dm_violations *v)
{
	uint8_t pc = s->p[0].pc;
	int bad, last = last_fragment(s, pc, &bad);

	if (last >= 0)
		return DM_CMD_DECODE; /* whole in its PDU: decoded as it came */
	if (bad || s->cut || s->full) {
		/* Broken inside its PDU, or cut: the decoder says how; its rest is dropped. */
		a->state = DM_CA_SKIP;
		a->pc_id = pc;
		return DM_CMD_DECODE;
	}
	a->buf = calloc(1, BUF_SIZE);
	if (!a->buf)
		return DM_CMD_DECODE; /* no memory: decoded as it came, as before */
	a->state = DM_CA_COLLECT;
	a->pc_id = pc;
	return more(a, pdu, s, out, out_len, v);
}

/* The rest of a command already judged: dropped up to its last fragment. */
static int skip(struct dm_cmd_asm *a, const struct scan *s)
{
	int bad;

	if (last_fragment(s, a->pc_id, &bad) >= 0 || bad)
		a->state = DM_CA_IDLE;
	return DM_CMD_DROP;
}

static void take(struct dm_violations *v, const struct dm_violations *from)
{
	for (unsigned int i = 0; i < from->n && i < DM_VIOL_KEEP; i++)
		dm_viol_add(v, from->v[i].code, "%s", from->v[i].text);
}

int dm_cmd_asm_pdu(struct dm_cmd_asm *a, const uint8_t *pdu, size_t len, const uint8_t **out,
		   size_t *out_len, struct dm_violations *v)
{
	struct dm_violations pv = {}; /* the PDV headers' problems, when the decoder does not see them */
	struct scan s;
	int r;

	*out = pdu;
	*out_len = len;
	scan(pdu, len, &s, &pv);
	if (!s.n || !(s.p[0].mch & 1)) {
		/* No command first: the decoder says what it is; it ends any command unfinished. */
		if (a->state == DM_CA_COLLECT)
			broken(a, s.n ? 1 : 3, 0, v);
		reset(a);
		return DM_CMD_DECODE;
	}
	if (a->state != DM_CA_IDLE && s.p[0].pc != a->pc_id) {
		if (a->state == DM_CA_COLLECT)
			broken(a, 2, s.p[0].pc, v);
		reset(a);
	}
	if (a->state == DM_CA_IDLE)
		r = start(a, pdu, &s, out, out_len, v);
	else if (a->state == DM_CA_COLLECT)
		r = more(a, pdu, &s, out, out_len, v);
	else
		r = skip(a, &s);
	/* Unless the decoder reads this PDU as it came, its PDV headers' problems are said here. */
	if (r != DM_CMD_DECODE || *out != pdu)
		take(v, &pv);
	return r;
}

void dm_cmd_asm_done(struct dm_cmd_asm *a)
{
	if (a->state != DM_CA_COLLECT) {
		uint8_t state = a->state, pc = a->pc_id;

		reset(a);
		a->state = state;
		a->pc_id = pc;
	}
}

void dm_cmd_asm_end(struct dm_cmd_asm *a, struct dm_violations *v)
{
	if (a->state == DM_CA_COLLECT)
		dm_viol_add(v, DM_V_CMD_FRAGMENT,
			    "command set unfinished when the association ended (%u fragments, %u "
			    "bytes)",
			    a->frags, a->len);
	reset(a);
}

void dm_cmd_asm_free(struct dm_cmd_asm *a)
{
	reset(a);
}
