// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * HTTP request reassembly (see httpasm.h): a fixed array of requests held,
 * found by flow key and client side in a bounded LRU (lib/lru.h), the least
 * recently fed one evicted.
 * Every buffer is zeroed when its request is parsed or dropped: the query
 * values in a request line may be PHI.
 */
#include <stdlib.h>
#include <string.h>
#include "assoc/httpasm.h"
#include "lib/lru.h"

struct req {
	struct dm_lru_node node; /* by flow and client side, least recently fed first */
	struct dm_event_hdr h;	 /* its first event's: the flow, the client's side, when */
	uint64_t first_ns;	 /* the age bound runs from here */
	uint32_t len;		 /* bytes held from offset 0 */
	uint8_t used;
	uint8_t buf[DM_HTTP_SNAP];
};

struct dm_http_asm {
	struct req r[DM_HTTP_ASM_MAX]; /* used: exactly the ones held */
	struct dm_lru held;
	struct dm_http_asm_stats st;
	dm_http_req_fn fn;
	void *ctx;
};

static struct req *req_of(const struct dm_lru_node *n)
{
	return n ? dm_container_of(n, struct req, node) : NULL;
}

static uint32_t req_hash(const void *key)
{
	const struct dm_event_hdr *h = key;

	return dm_lru_hash_bytes(&h->key, sizeof(h->key), 2166136261u ^ h->init_side);
}

static bool req_match(const struct dm_lru_node *n, const void *key)
{
	const struct dm_event_hdr *h = key, *held = &req_of(n)->h;

	return held->init_side == h->init_side && !memcmp(&held->key, &h->key, sizeof(h->key));
}

static void req_evicted(void *ctx, struct dm_lru_node *n);

static const struct dm_lru_ops req_ops = {
    .hash = req_hash, .match = req_match, .evict = req_evicted};

struct dm_http_asm *dm_http_asm_new(dm_http_req_fn fn, void *ctx)
{
	struct dm_http_asm *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (dm_lru_init(&a->held, &req_ops, a, DM_HTTP_ASM_MAX)) {
		free(a);
		return NULL;
	}
	a->fn = fn;
	a->ctx = ctx;
	return a;
}

void dm_http_asm_free(struct dm_http_asm *a)
{
	if (!a)
		return;
	explicit_bzero(a->r, sizeof(a->r));
	dm_lru_fini(&a->held);
	free(a);
}

const struct dm_http_asm_stats *dm_http_asm_stats(const struct dm_http_asm *a)
{
	return &a->st;
}

unsigned int dm_http_asm_held(const struct dm_http_asm *a)
{
	return dm_lru_count(&a->held);
}

const void *dm_http_asm_mem(const struct dm_http_asm *a, size_t *len)
{
	*len = sizeof(*a);
	return a;
}

/* Parse what is held (dm_http_parse() zeroes it), hand the request on, zero the entry. */
static void parse_drop(struct dm_http_asm *a, struct req *r)
{
	struct dm_http_req req;

	a->st.requests++;
	if (!dm_http_parse(&req, r->buf, r->len) && a->fn)
		a->fn(a->ctx, &r->h, &req);
	explicit_bzero(r, sizeof(*r));
}

static void finish(struct dm_http_asm *a, struct req *r)
{
	dm_lru_remove(&a->held, &r->node);
	parse_drop(a, r);
}

/* The least recently fed request, the table full: parsed as it is (counted). */
static void req_evicted(void *ctx, struct dm_lru_node *n)
{
	struct dm_http_asm *a = ctx;

	a->st.evicted++;
	parse_drop(a, req_of(n));
}

/* The first free entry, after the least recently fed one made room if none was. */
static struct req *take(struct dm_http_asm *a)
{
	int i;

	dm_lru_make_room(&a->held);
	for (i = 0; i < DM_HTTP_ASM_MAX; i++)
		if (!a->r[i].used)
			return &a->r[i];
	return NULL; /* not reached: used entries are the ones held */
}

/* The request line is complete once a CR or LF is among the bytes held. */
static int line_ended(const uint8_t *p, size_t n)
{
	return memchr(p, '\n', n) || memchr(p, '\r', n);
}

void dm_http_asm_event(struct dm_http_asm *a, const struct dm_event_http *e, uint64_t now)
{
	struct req *r = req_of(dm_lru_find(&a->held, &e->hdr));
	uint32_t n = e->hdr.len, room;

	if ((e->hdr.flags & DM_EF_FIRST) || e->offset == 0) {
		/* A new request on the flow: the one before it is as complete as it gets. */
		if (r)
			finish(a, r);
		r = take(a);
		if (!r)
			return;
		r->used = 1;
		r->h = e->hdr;
		r->first_ns = now;
		dm_lru_insert(&a->held, &r->node, &r->h);
	} else if (!r) {
		a->st.orphans++;
		return;
	}
	if (e->offset != r->len) {
		/* Bytes in between never came: the request is judged on what is held. */
		a->st.gaps++;
		finish(a, r);
		return;
	}
	room = DM_HTTP_SNAP - r->len;
	if (n > room)
		n = room;
	memcpy(r->buf + r->len, e->data, n);
	dm_lru_touch(&a->held, &r->node);
	r->len += n;
	if (line_ended(r->buf + r->len - n, n) || (e->hdr.flags & DM_EF_LAST) ||
	    r->len == DM_HTTP_SNAP)
		finish(a, r);
}

void dm_http_asm_expire(struct dm_http_asm *a, uint64_t now)
{
	int i;

	for (i = 0; i < DM_HTTP_ASM_MAX; i++) {
		if (!a->r[i].used || now < a->r[i].first_ns ||
		    now - a->r[i].first_ns < DM_HTTP_ASM_AGE_NS)
			continue;
		a->st.expired++;
		finish(a, &a->r[i]);
	}
}

void dm_http_asm_flush(struct dm_http_asm *a)
{
	int i;

	for (i = 0; i < DM_HTTP_ASM_MAX; i++)
		if (a->r[i].used)
			finish(a, &a->r[i]);
}
