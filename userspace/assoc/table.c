// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The association table (see table.h). Records are found by association id
 * in a bounded hash with an age list (lib/lru.h) in two classes: finished
 * records (in the order they finished), then active ones (in the order they
 * started, never touched). The age list's head is the victim of a full
 * table: the oldest finished record, else the oldest active one, in O(1).
 * Half-open records are also listed per source (its initiator's address),
 * oldest first, for table.max_halfopen_per_source. The ids of records that
 * went out before their end (evicted, ended idle) are remembered (bounded)
 * so that late events for them are counted and dropped, never a second
 * record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "assoc/integrity.h"
#include "lib/names.h"
#include "assoc/table.h"

/* The age list's classes (lib/lru.h): finished records are the first to go. */
enum { CLS_FINISHED = 0, CLS_ACTIVE = 1 };

/* A source address (the initiator's) with half-open records in the table. */
struct dm_src_key {
	uint32_t addr[4];
	uint32_t family;
};

struct dm_halfopen_src {
	struct dm_lru_node node;
	struct dm_src_key key;
	uint32_t n;			/* its half-open records */
	struct dm_rec *oldest, *newest; /* ... through dm_rec.src_older/src_newer */
};

/*
 * Associations whose records went out before their end came (evicted, idle),
 * 64 ids a node: ids are handed out in order, so a flood's evictions fill
 * nodes densely (100,000 evicted ids in ~1,600 nodes).
 */
struct dm_gone {
	struct dm_lru_node node;
	uint64_t base;	     /* id / 64 */
	uint64_t bits, idle; /* id % 64 went out; of them, ended idle (else evicted) */
};

struct dm_table {
	struct dm_lru recs;  /* max_assoc records */
	struct dm_lru srcs;  /* sources with half-open records (never more than records) */
	struct dm_lru gone;  /* ids of records that went out early: their late events are dropped */
	uint32_t max_halfopen; /* per source; 0: no limit */
	uint64_t keep_ns;
	struct dm_table_stats st;
	void (*evict_fn)(void *ctx, struct dm_rec *r);
	void *evict_ctx;
};

void dm_table_on_evict(struct dm_table *t, void (*fn)(void *ctx, struct dm_rec *r), void *ctx)
{
	t->evict_fn = fn;
	t->evict_ctx = ctx;
}

static struct dm_rec *rec_of(const struct dm_lru_node *n)
{
	return n ? dm_container_of(n, struct dm_rec, node) : NULL;
}

static bool rec_match(const struct dm_lru_node *n, const void *id)
{
	return rec_of(n)->id == *(const uint64_t *)id;
}

/* ---- half-open records by source ---- */

static struct dm_halfopen_src *src_of(const struct dm_lru_node *n)
{
	return n ? dm_container_of(n, struct dm_halfopen_src, node) : NULL;
}

static uint32_t src_hash(const void *key)
{
	return dm_lru_hash_bytes(key, sizeof(struct dm_src_key), 2166136261u);
}

static bool src_match(const struct dm_lru_node *n, const void *key)
{
	return !memcmp(&src_of(n)->key, key, sizeof(struct dm_src_key));
}

static void src_key(struct dm_src_key *k, const struct dm_flow_key *fk, uint8_t init_side)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, fk->addr[init_side & 1], sizeof(k->addr));
	k->family = fk->family;
}

/* Never called while srcs is sized to the records (one source per half-open record at most). */
static void src_evicted(void *ctx, struct dm_lru_node *n)
{
	struct dm_table *t = ctx;
	struct dm_halfopen_src *s = src_of(n);
	struct dm_rec *r, *next;

	for (r = s->oldest; r; r = next) {
		next = r->src_newer;
		r->src = NULL;
		r->src_older = r->src_newer = NULL;
		t->st.halfopen--;
	}
	free(s);
}

static const struct dm_lru_ops src_ops = {
    .hash = src_hash, .match = src_match, .evict = src_evicted};

/* r, new and half-open, at the end of its source's list (untracked if out of memory). */
static void ho_add(struct dm_table *t, struct dm_rec *r)
{
	struct dm_src_key k;
	struct dm_halfopen_src *s;

	src_key(&k, &r->key, r->init_side);
	s = src_of(dm_lru_find(&t->srcs, &k));
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->key = k;
		dm_lru_insert(&t->srcs, &s->node, &s->key);
	}
	r->src = s;
	r->src_older = s->newest;
	r->src_newer = NULL;
	if (s->newest)
		s->newest->src_newer = r;
	else
		s->oldest = r;
	s->newest = r;
	s->n++;
	t->st.halfopen++;
}

/* r is no longer half-open (answered, ended, dropped); a source without any goes. */
static void ho_del(struct dm_table *t, struct dm_rec *r)
{
	struct dm_halfopen_src *s = r->src;

	if (!s)
		return;
	if (r->src_older)
		r->src_older->src_newer = r->src_newer;
	else
		s->oldest = r->src_newer;
	if (r->src_newer)
		r->src_newer->src_older = r->src_older;
	else
		s->newest = r->src_older;
	r->src = NULL;
	r->src_older = r->src_newer = NULL;
	t->st.halfopen--;
	if (--s->n == 0) {
		dm_lru_remove(&t->srcs, &s->node);
		free(s);
	}
}

/* ---- ids of records that went out early ---- */

static struct dm_gone *gone_of(const struct dm_lru_node *n)
{
	return n ? dm_container_of(n, struct dm_gone, node) : NULL;
}

static bool gone_match(const struct dm_lru_node *n, const void *base)
{
	return gone_of(n)->base == *(const uint64_t *)base;
}

static void gone_evicted(void *ctx, struct dm_lru_node *n)
{
	(void)ctx;
	free(gone_of(n));
}

static const struct dm_lru_ops gone_ops = {
    .hash = dm_lru_hash_id, .match = gone_match, .evict = gone_evicted};

static void gone_add(struct dm_table *t, uint64_t id, uint32_t why)
{
	uint64_t base = id / 64, bit = 1ULL << (id % 64);
	struct dm_gone *g = gone_of(dm_lru_find(&t->gone, &base));

	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return;
		g->base = base;
		dm_lru_insert(&t->gone, &g->node, &g->base);
	} else {
		dm_lru_touch(&t->gone, &g->node); /* the node of the newest ids goes last */
	}
	g->bits |= bit;
	if (why == DM_END_IDLE)
		g->idle |= bit;
	else
		g->idle &= ~bit;
}

/* 0: not gone (or forgotten), else DM_END_TABLE_EVICT or DM_END_IDLE. */
static uint32_t gone_find(const struct dm_table *t, uint64_t id)
{
	uint64_t base = id / 64, bit = 1ULL << (id % 64);
	const struct dm_gone *g = gone_of(dm_lru_find(&t->gone, &base));

	if (!g || !(g->bits & bit))
		return 0;
	return g->idle & bit ? DM_END_IDLE : DM_END_TABLE_EVICT;
}

/* ---- records ---- */

/* A record out of the table, no longer counted. */
static void rec_drop(struct dm_table *t, struct dm_rec *r)
{
	ho_del(t, r);
	if (r->finished)
		t->st.finished--;
	else
		t->st.active--;
	dm_rec_free(r);
}

/* An active record out of the table (unlinked): its end will never come, what is known goes out now. */
static void evict_active(struct dm_table *t, struct dm_rec *r)
{
	gone_add(t, r->id, DM_END_TABLE_EVICT);
	if (t->evict_fn)
		t->evict_fn(t->evict_ctx, r);
}

/* The victim of a full table, unlinked: the oldest finished record, else the oldest active one. */
static void rec_evicted(void *ctx, struct dm_lru_node *n)
{
	struct dm_table *t = ctx;
	struct dm_rec *r = rec_of(n);

	if (r->finished) {
		t->st.evicted_finished++;
	} else {
		t->st.evicted_active++;
		evict_active(t, r);
	}
	rec_drop(t, r);
}

static const struct dm_lru_ops rec_ops = {
    .hash = dm_lru_hash_id, .match = rec_match, .evict = rec_evicted};

struct dm_table *dm_table_new(uint32_t max_assoc, uint32_t keep_finished_s)
{
	struct dm_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (dm_lru_init(&t->recs, &rec_ops, t, max_assoc)) {
		free(t);
		return NULL;
	}
	if (dm_lru_init(&t->srcs, &src_ops, t, max_assoc) ||
	    dm_lru_init(&t->gone, &gone_ops, t, DM_TABLE_GONE_PER_RECORD * max_assoc)) {
		dm_lru_fini(&t->srcs);
		dm_lru_fini(&t->recs);
		free(t);
		return NULL;
	}
	dm_table_set_limits(t, max_assoc, keep_finished_s);
	return t;
}

void dm_table_set_limits(struct dm_table *t, uint32_t max_assoc, uint32_t keep_finished_s)
{
	/* -ENOMEM leaves the buckets as they were: longer chains, still correct. */
	dm_lru_set_capacity(&t->recs, max_assoc);
	dm_lru_set_capacity(&t->srcs, max_assoc);
	dm_lru_set_capacity(&t->gone, DM_TABLE_GONE_PER_RECORD * max_assoc);
	t->keep_ns = (uint64_t)keep_finished_s * 1000000000ULL;
}

void dm_table_set_halfopen_limit(struct dm_table *t, uint32_t per_source)
{
	t->max_halfopen = per_source;
}

void dm_table_free(struct dm_table *t)
{
	struct dm_lru_node *n, *tmp;

	if (!t)
		return;
	dm_lru_for_each(&t->recs, n, tmp)
		dm_rec_free(rec_of(n));
	dm_lru_for_each(&t->srcs, n, tmp)
		free(src_of(n));
	dm_lru_for_each(&t->gone, n, tmp)
		free(gone_of(n));
	dm_lru_fini(&t->recs);
	dm_lru_fini(&t->srcs);
	dm_lru_fini(&t->gone);
	free(t);
}

const struct dm_rec *dm_table_find(const struct dm_table *t, uint64_t id)
{
	return rec_of(dm_lru_find(&t->recs, &id));
}

/* An event from the acceptor, or a DIMSE command: the association is no longer half-open. */
static bool answers(const struct dm_event_hdr *h)
{
	return (h->dir & 1) == DM_DIR_REPLY || h->type == DM_EV_DIMSE;
}

static void rec_event(struct dm_table *t, struct dm_rec *r, const struct dm_event_hdr *h)
{
	if (h->ts_ns > r->last_ns)
		r->last_ns = h->ts_ns;
	if (!r->answered && answers(h)) {
		r->answered = true;
		ho_del(t, r);
	}
}

/*
 * Its source at its limit of half-open records: the source's oldest one is
 * evicted (reported as a full table's victim is), never another source's.
 */
static void halfopen_limit(struct dm_table *t, const struct dm_event_hdr *h)
{
	struct dm_src_key k;
	struct dm_halfopen_src *s;
	struct dm_rec *v;

	if (!t->max_halfopen || answers(h))
		return;
	src_key(&k, &h->key, h->init_side);
	while ((s = src_of(dm_lru_find(&t->srcs, &k))) && s->n >= t->max_halfopen) {
		v = s->oldest;
		dm_lru_remove(&t->recs, &v->node);
		t->st.evicted_halfopen++;
		evict_active(t, v);
		rec_drop(t, v);
	}
}

struct dm_rec *dm_table_get(struct dm_table *t, const struct dm_event_hdr *h)
{
	uint32_t gone = gone_find(t, h->assoc_id);
	struct dm_rec *r;

	if (gone) {
		t->st.late[gone == DM_END_IDLE]++;
		return NULL;
	}
	r = rec_of(dm_lru_find(&t->recs, &h->assoc_id));
	if (r) {
		rec_event(t, r, h);
		return r;
	}
	halfopen_limit(t, h);
	dm_lru_make_room(&t->recs);
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->id = h->assoc_id;
	r->key = h->key;
	r->ifindex = h->ifindex;
	r->init_side = h->init_side;
	r->hook = h->hook;
	r->start_ns = h->ts_ns;
	r->last_ns = h->ts_ns;
	dm_lru_insert_in(&t->recs, &r->node, &r->id, CLS_ACTIVE);
	t->st.active++;
	t->st.created++;
	r->answered = answers(h);
	if (!r->answered)
		ho_add(t, r);
	return r;
}

static bool setup_type(uint8_t type)
{
	return type == DM_PDU_ASSOC_RQ || type == DM_PDU_ASSOC_AC || type == DM_PDU_ASSOC_RJ;
}

int dm_table_piece(struct dm_table *t, struct dm_rec *r, const struct dm_event_piece *e,
		   const uint8_t **pdu, size_t *len)
{
	int d = e->hdr.dir & 1;
	struct dm_pdu_buf *b = &r->buf[d];
	int res;

	res = dm_pdu_buf_add(b, e->pdu_type, e->offset, e->data, e->hdr.len,
			     e->hdr.flags & DM_EF_FIRST, e->hdr.flags & DM_EF_LAST);
	if (res == DM_PIECE_BAD) {
		if (e->hdr.flags & DM_EF_LAST)
			t->st.pdus_broken++;
		if (setup_type(e->pdu_type) && !r->setup_done[d])
			r->inc |= 1u << DM_INC_GAP;
		return 0;
	}
	if (res != DM_PIECE_DONE)
		return 0;
	r->last_trunc[d] = !!(e->hdr.flags & DM_EF_TRUNC);
	*pdu = b->data;
	*len = b->len;
	return 1;
}

int dm_table_pending(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t **pdu,
		     size_t *len)
{
	struct dm_pdu_buf *b = &r->buf[dir & 1];
	struct dm_rec_viol v = {.code = DM_V_PDU_INCOMPLETE, .dir = (int8_t)(dir & 1)};
	uint64_t total;

	if (!b->active || b->broken || !b->len || b->type == DM_PDU_P_DATA ||
	    b->data[0] != b->type)
		return 0;
	b->active = 0;
	r->last_trunc[dir & 1] = 0;
	total = b->len >= 6 ? 6 + (uint64_t)dm_rd_be32(b->data + 2) : 6;
	if (b->len < total) {
		snprintf(v.text, sizeof(v.text), "%s: %zu of %llu bytes before it was cut short",
			 dm_pdu_name(b->type), b->len, (unsigned long long)total);
		/* After a loss on our side in that direction, it tells of the capture. */
		dm_table_add_violation(t, r, &v, dm_capture_loss(r->an_codes[dir & 1]));
		if (setup_type(b->type) && !r->setup_done[dir & 1])
			r->inc |= 1u << DM_INC_TRUNCATED;
	}
	*pdu = b->data;
	*len = b->len;
	return 1;
}

void dm_table_add_violation(struct dm_table *t, struct dm_rec *r, const struct dm_rec_viol *v,
			    bool capture)
{
	dm_rec_add_violation(r, v, capture);
	t->st.violations++;
}

void dm_table_anomaly(struct dm_table *t, struct dm_rec *r, const struct dm_event_anomaly *e)
{
	t->st.violations += dm_integrity_anomaly(r, e);
}

/* Keep the first few violations of a decode of direction dir, count them all. */
static void take_violations(struct dm_table *t, struct dm_rec *r, int dir,
			    const struct dm_violations *v)
{
	struct dm_rec_viol *rv;
	int i;

	for (i = 0; i < v->n; i++) {
		if (r->n_viol + i >= DM_REC_MAX_VIOL)
			break;
		rv = &r->viol[r->n_viol + i];
		memset(rv, 0, sizeof(*rv));
		rv->code = v->v[i].code;
		rv->dir = (int8_t)dir;
		memcpy(rv->text, v->v[i].text, sizeof(rv->text));
	}
	r->n_viol += v->total;
	t->st.violations += v->total;
}

/*
 * A set-up PDU whose length lies short of the fixed part (0, say): the BPF
 * side shipped its first bytes (up to DM_PIECE_MAX) as the PDU. A copy with
 * the length of what is there is decoded instead, with a violation. NULL
 * when the length does not lie so (the caller frees the copy).
 */
static uint8_t *length_lies(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu,
			    size_t len)
{
	struct dm_rec_viol v = {.code = DM_V_PDU_LENGTH, .dir = (int8_t)dir};
	uint32_t pdu_len;
	uint8_t *copy;

	if (len <= 6)
		return NULL;
	pdu_len = dm_rd_be32(pdu + 2);
	if (pdu_len >= 68 || len <= (size_t)pdu_len + 6)
		return NULL;
	copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, pdu, len);
	copy[2] = (uint8_t)((len - 6) >> 24);
	copy[3] = (uint8_t)((len - 6) >> 16);
	copy[4] = (uint8_t)((len - 6) >> 8);
	copy[5] = (uint8_t)(len - 6);
	snprintf(v.text, sizeof(v.text),
		 "PDU-length %u below the fixed part (68): decoded from the %zu bytes sent",
		 pdu_len, len);
	dm_table_add_violation(t, r, &v, false);
	r->inc |= 1u << DM_INC_PDU_LENGTH;
	return copy;
}

/* A second RQ or AC on one association is itself a violation; the first one stays. */
static void decode_setup(struct dm_table *t, struct dm_rec *r, int dir,
			 struct dm_assoc_info **slot, const uint8_t *pdu, size_t len)
{
	struct dm_assoc_info *a = calloc(1, sizeof(*a));
	uint8_t *copy = length_lies(t, r, dir, pdu, len), type = pdu[0];
	bool lied = copy != NULL;
	int err;

	if (!a) {
		free(copy);
		return;
	}
	if (copy)
		pdu = copy;
	err = dm_assoc_decode(pdu, len, a);
	/*
	 * A hostile RQ can hold 330 KiB of decoded strings: past DM_REC_DECODE_MAX
	 * the record keeps the decode of its first DM_REC_DECODE_INPUT bytes only
	 * (flagged truncated), so every record stays small.
	 */
	if (dm_assoc_mem(a) > DM_REC_DECODE_MAX && len > DM_REC_DECODE_INPUT) {
		dm_assoc_free(a);
		dm_assoc_decode(pdu, DM_REC_DECODE_INPUT, a);
		r->decode_cut = true;
	}
	if (copy) {
		explicit_bzero(copy, len);
		free(copy);
	}
	take_violations(t, r, dir, &a->viol);
	if (*slot || a->type != type) {
		dm_assoc_free(a);
		free(a);
		return;
	}
	*slot = a;
	if (r->last_trunc[dir] && !r->setup_done[dir])
		r->inc |= 1u << DM_INC_CTL_TRUNCATED;
	if (!err && !lied && !a->truncated && !r->last_trunc[dir])
		r->setup_done[dir] = 1;
	if (a->type == DM_PDU_ASSOC_RQ) {
		dm_fingerprint_pdu(a, &r->fp);
		r->have_fp = true;
	}
	/* The AC against the RQ it answers: contexts, syntaxes, roles, identity. */
	if (r->rq && r->ac && a == r->ac) {
		struct dm_violations v = {};

		dm_assoc_match(r->rq, r->ac, &v);
		take_violations(t, r, dir, &v);
	}
}

void dm_table_control_pdu(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu,
			  size_t len)
{
	dir &= 1;
	t->st.pdus_decoded++;
	/* A PDU in the clear: the association is cleartext, before its end says so too. */
	if (r->transport == DM_TRANSPORT_UNKNOWN)
		r->transport = DM_TRANSPORT_CLEARTEXT;
	switch (pdu[0]) {
	case DM_PDU_ASSOC_RQ:
		decode_setup(t, r, dir, &r->rq, pdu, len);
		break;
	case DM_PDU_ASSOC_AC:
		decode_setup(t, r, dir, &r->ac, pdu, len);
		if (r->outcome == DM_OUT_INCOMPLETE)
			r->outcome = DM_OUT_ACCEPTED;
		break;
	case DM_PDU_ASSOC_RJ:
		if (!dm_reject_parse(pdu, len, &r->reject)) {
			r->rejected = true;
			r->setup_done[dir] = 1;
		}
		r->outcome = DM_OUT_REJECTED;
		break;
	case DM_PDU_ABORT:
		if (!dm_reject_parse(pdu, len, &r->abort))
			r->aborted = true;
		r->outcome = DM_OUT_ABORTED;
		break;
	case DM_PDU_RELEASE_RQ:
		r->release_rq = true;
		break;
	case DM_PDU_RELEASE_RP:
		r->release_rp = true;
		if (r->outcome == DM_OUT_ACCEPTED || r->outcome == DM_OUT_INCOMPLETE)
			r->outcome = DM_OUT_RELEASED;
		break;
	}
}

static void count_cmd(struct dm_rec *r, uint16_t field)
{
	int i;

	for (i = 0; i < r->n_cmds; i++) {
		if (r->cmds[i].field == field) {
			r->cmds[i].count++;
			return;
		}
	}
	if (r->n_cmds < DM_REC_CMDS) {
		r->cmds[r->n_cmds].field = field;
		r->cmds[r->n_cmds++].count = 1;
	}
}

static void add_ae(char list[DM_REC_MAX_MOVE][DM_AE_STR], uint8_t *n, const char *ae)
{
	int i;

	for (i = 0; i < *n; i++)
		if (!strcmp(list[i], ae))
			return;
	if (*n < DM_REC_MAX_MOVE)
		snprintf(list[(*n)++], DM_AE_STR, "%s", ae);
}

/* The PDU bytes the table holds are zeroed after a command head: a data set PDV may be among them. */
static void scrub(struct dm_rec *r, int dir, const uint8_t *pdu)
{
	if (pdu && pdu == r->buf[dir].data)
		dm_pdu_buf_scrub(&r->buf[dir]);
}

int dm_table_dimse(struct dm_table *t, struct dm_rec *r, int dir, const uint8_t *pdu, size_t len,
		   struct dm_dimse_cmd *c)
{
	struct dm_violations av = {};
	const uint8_t *p;
	size_t n;
	int err;

	dir &= 1;
	if (dm_cmd_asm_pdu(&r->cmd[dir], pdu, len, &p, &n, &av) != DM_CMD_DECODE) {
		take_violations(t, r, dir, &av);
		memset(c, 0, sizeof(*c));
		scrub(r, dir, pdu);
		return -EAGAIN;
	}
	take_violations(t, r, dir, &av);
	err = dm_dimse_decode(p, n, c);
	dm_cmd_asm_done(&r->cmd[dir]);
	scrub(r, dir, pdu);
	take_violations(t, r, dir, &c->viol);
	if (err || !(c->present & DM_DC_COMMAND))
		return err ? err : -ENODATA;
	count_cmd(r, c->command);
	r->n_commands++;
	if ((c->command & 0x8000) && (c->present & DM_DC_STATUS))
		r->statuses[dm_sclass_of(c->status)]++;
	if (c->present & DM_DC_MOVE_DEST)
		add_ae(r->move_dest, &r->n_move_dest, c->move_destination.str);
	if (c->present & DM_DC_MOVE_ORIG_AE)
		add_ae(r->move_orig, &r->n_move_orig, c->move_originator.str);
	return 0;
}

void dm_table_tls(struct dm_table *t, struct dm_rec *r, const struct dm_event_tls *e)
{
	(void)t;
	r->transport = DM_TRANSPORT_TLS;
	if (e->hs_type == 1)
		r->tls_offered = e->version;
	else
		r->tls_selected = e->version;
}

void dm_table_end(struct dm_table *t, struct dm_rec *r, const struct dm_event_flow *e)
{
	const struct dm_assoc *a = &e->assoc;

	memcpy(r->dir, a->dir, sizeof(r->dir));
	r->transport = a->transport;
	r->state = a->state;
	r->midstream = a->flags & DM_AF_MIDSTREAM;
	r->tls_offered = a->tls_offered;
	r->tls_selected = a->tls_selected;
	r->end_reason = e->reason;
	r->end_ns = e->hdr.ts_ns;
	r->aflags = a->flags;
	/* The kernel saw every PDU header even where an event was lost. */
	switch (a->state) {
	case DM_STATE_RELEASED:
		r->outcome = DM_OUT_RELEASED;
		break;
	case DM_STATE_REJECTED:
		r->outcome = DM_OUT_REJECTED;
		break;
	case DM_STATE_ABORTED:
		r->outcome = DM_OUT_ABORTED;
		break;
	case DM_STATE_ACCEPTED:
	case DM_STATE_RELEASING:
		if (r->outcome == DM_OUT_INCOMPLETE)
			r->outcome = DM_OUT_ACCEPTED;
		break;
	}
	if (r->rq) {
		struct dm_assoc_end end = {
		    .dimse_commands = r->n_commands,
		    .accepted = r->ac != NULL || a->dir[DM_DIR_REPLY].pdus[DM_PDU_ASSOC_AC] > 0,
		    .rejected = r->rejected,
		    .released = r->release_rq || r->release_rp,
		    .aborted = r->aborted,
		};

		dm_fingerprint_assoc(r->rq, &end, &r->fp);
	}
	if (!r->finished) {
		struct dm_violations v = {};

		dm_cmd_asm_end(&r->cmd[DM_DIR_ORIG], &v);
		take_violations(t, r, DM_DIR_ORIG, &v);
		memset(&v, 0, sizeof(v));
		dm_cmd_asm_end(&r->cmd[DM_DIR_REPLY], &v);
		take_violations(t, r, DM_DIR_REPLY, &v);
		t->st.violations += dm_integrity_end(r, a);
		r->finished = true;
		t->st.active--;
		t->st.finished++;
		ho_del(t, r);
		if (dm_lru_linked(&r->node))
			dm_lru_set_class(&t->recs, &r->node, CLS_FINISHED);
	}
	if (e->reason == DM_END_TABLE_EVICT || e->reason == DM_END_IDLE)
		gone_add(t, r->id, e->reason);
	dm_pdu_buf_free(&r->buf[0]);
	dm_pdu_buf_free(&r->buf[1]);
}

void dm_table_expire(struct dm_table *t, uint64_t now_ns)
{
	struct dm_lru_node *n, *tmp;
	struct dm_rec *r;

	/* The finished records only (class 0, the age list's head). */
	for (n = dm_lru_oldest_in(&t->recs, CLS_FINISHED); n && n->cls == CLS_FINISHED; n = tmp) {
		tmp = dm_lru_newer(n);
		r = rec_of(n);
		if (now_ns - r->end_ns >= t->keep_ns) {
			dm_lru_remove(&t->recs, n);
			rec_drop(t, r);
			t->st.expired++;
		}
	}
}

const struct dm_table_stats *dm_table_stats(const struct dm_table *t)
{
	return &t->st;
}

void dm_table_foreach(const struct dm_table *t, void (*fn)(const struct dm_rec *, void *),
		      void *ctx)
{
	const struct dm_lru_node *n;

	for (n = dm_lru_oldest(&t->recs); n; n = dm_lru_newer(n))
		fn(rec_of(n), ctx);
}

void dm_table_idle(struct dm_table *t, uint64_t now_ns, uint64_t timeout_ns,
		   void (*fn)(void *ctx, struct dm_rec *r), void *ctx)
{
	struct dm_lru_node *n, *next;
	struct dm_rec *r;

	/* Active records in start order: none started later than now - timeout can be idle that long. */
	for (n = dm_lru_oldest_in(&t->recs, CLS_ACTIVE); n; n = next) {
		next = dm_lru_newer(n);
		r = rec_of(n);
		if (r->start_ns + timeout_ns > now_ns)
			break;
		if (r->last_ns + timeout_ns <= now_ns)
			fn(ctx, r);
	}
}

void dm_table_alive(struct dm_table *t, struct dm_rec *r, uint64_t last_ns)
{
	(void)t;
	if (last_ns > r->last_ns)
		r->last_ns = last_ns;
}
