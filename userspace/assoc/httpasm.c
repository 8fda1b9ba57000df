// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * HTTP request reassembly (see httpasm.h): a fixed array of requests held,
 * found by flow key and client side, the least recently fed one evicted.
 * Every buffer is zeroed when its request is parsed or dropped: the query
 * values in a request line may be PHI.
 */
#include <stdlib.h>
#include <string.h>
#include "assoc/httpasm.h"

struct req {
	struct dm_event_hdr h; /* its first event's: the flow, the client's side, when */
	uint64_t first_ns;     /* the age bound runs from here */
	uint64_t fed;	       /* the table's sequence number when last fed (LRU) */
	uint32_t len;	       /* bytes held from offset 0 */
	uint8_t used;
	uint8_t buf[DM_HTTP_SNAP];
};

struct dm_http_asm {
	struct req r[DM_HTTP_ASM_MAX];
	uint64_t seq;
	struct dm_http_asm_stats st;
	dm_http_req_fn fn;
	void *ctx;
};

struct dm_http_asm *dm_http_asm_new(dm_http_req_fn fn, void *ctx)
{
	struct dm_http_asm *a = calloc(1, sizeof(*a));

	if (a) {
		a->fn = fn;
		a->ctx = ctx;
	}
	return a;
}

void dm_http_asm_free(struct dm_http_asm *a)
{
	if (!a)
		return;
	explicit_bzero(a->r, sizeof(a->r));
	free(a);
}

const struct dm_http_asm_stats *dm_http_asm_stats(const struct dm_http_asm *a)
{
	return &a->st;
}

unsigned int dm_http_asm_held(const struct dm_http_asm *a)
{
	unsigned int n = 0;
	int i;

	for (i = 0; i < DM_HTTP_ASM_MAX; i++)
		n += a->r[i].used;
	return n;
}

const void *dm_http_asm_mem(const struct dm_http_asm *a, size_t *len)
{
	*len = sizeof(*a);
	return a;
}

static void drop(struct req *r)
{
	explicit_bzero(r, sizeof(*r));
}

/* Parse what is held (dm_http_parse() zeroes it), hand the request on, free the entry. */
static void finish(struct dm_http_asm *a, struct req *r)
{
	struct dm_http_req req;

	a->st.requests++;
	if (!dm_http_parse(&req, r->buf, r->len) && a->fn)
		a->fn(a->ctx, &r->h, &req);
	drop(r);
}

static struct req *find(struct dm_http_asm *a, const struct dm_event_hdr *h)
{
	int i;

	for (i = 0; i < DM_HTTP_ASM_MAX; i++)
		if (a->r[i].used && a->r[i].h.init_side == h->init_side &&
		    !memcmp(&a->r[i].h.key, &h->key, sizeof(h->key)))
			return &a->r[i];
	return NULL;
}

/* A free entry, or the least recently fed one's, parsed first (counted). */
static struct req *take(struct dm_http_asm *a)
{
	struct req *old = NULL;
	int i;

	for (i = 0; i < DM_HTTP_ASM_MAX; i++) {
		if (!a->r[i].used)
			return &a->r[i];
		if (!old || a->r[i].fed < old->fed)
			old = &a->r[i];
	}
	a->st.evicted++;
	finish(a, old);
	return old;
}

/* The request line is complete once a CR or LF is among the bytes held. */
static int line_ended(const uint8_t *p, size_t n)
{
	return memchr(p, '\n', n) || memchr(p, '\r', n);
}

void dm_http_asm_event(struct dm_http_asm *a, const struct dm_event_http *e, uint64_t now)
{
	struct req *r = find(a, &e->hdr);
	uint32_t n = e->hdr.len, room;

	if ((e->hdr.flags & DM_EF_FIRST) || e->offset == 0) {
		/* A new request on the flow: the one before it is as complete as it gets. */
		if (r)
			finish(a, r);
		r = take(a);
		r->used = 1;
		r->h = e->hdr;
		r->first_ns = now;
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
	r->fed = ++a->seq;
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
