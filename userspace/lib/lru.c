// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The bounded hash + age list (see lru.h). Chains are doubly linked through
 * hprev (the address of whatever points at the node), so a node leaves its
 * chain in O(1) without knowing its bucket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/lru.h"

/* The user's hash mixed so its low bits, which pick the bucket, depend on all of it. */
static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	return h ^ (h >> 16);
}

static uint32_t buckets_for(uint32_t capacity)
{
	uint32_t b = 2;

	while (b < capacity && b < DM_LRU_MAX_BUCKETS)
		b <<= 1;
	return b;
}

static void chain_add(struct dm_lru_node **head, struct dm_lru_node *n)
{
	n->hnext = *head;
	if (*head)
		(*head)->hprev = &n->hnext;
	*head = n;
	n->hprev = head;
}

static void chain_del(struct dm_lru_node *n)
{
	*n->hprev = n->hnext;
	if (n->hnext)
		n->hnext->hprev = n->hprev;
	n->hnext = NULL;
	n->hprev = NULL;
}

/* n out of the age list and of its class's segment. */
static void age_del(struct dm_lru *l, struct dm_lru_node *n)
{
	struct dm_lru_seg *s = &l->seg[n->cls];

	if (s->oldest == n)
		s->oldest = n->newer && n->newer->cls == n->cls ? n->newer : NULL;
	if (s->newest == n)
		s->newest = n->older && n->older->cls == n->cls ? n->older : NULL;
	s->n--;
	if (n->older)
		n->older->newer = n->newer;
	else
		l->oldest = n->newer;
	if (n->newer)
		n->newer->older = n->older;
	else
		l->newest = n->older;
	n->older = n->newer = NULL;
}

/*
 * n as the newest of class cls: right after that class's newest node, or
 * when the class is empty after the newest node of the nearest class before
 * it (the age list's head when there is none). At most DM_LRU_LISTS looks.
 */
static void age_add(struct dm_lru *l, struct dm_lru_node *n, unsigned int cls)
{
	struct dm_lru_seg *s = &l->seg[cls];
	struct dm_lru_node *prev = NULL;
	int c;

	for (c = (int)cls; c >= 0 && !prev; c--)
		prev = l->seg[c].newest;
	n->cls = (uint8_t)cls;
	n->older = prev;
	n->newer = prev ? prev->newer : l->oldest;
	if (prev)
		prev->newer = n;
	else
		l->oldest = n;
	if (n->newer)
		n->newer->older = n;
	else
		l->newest = n;
	s->newest = n;
	if (!s->oldest)
		s->oldest = n;
	s->n++;
}

int dm_lru_init(struct dm_lru *l, const struct dm_lru_ops *ops, void *ctx, uint32_t capacity)
{
	uint32_t nb;

	*l = (struct dm_lru){.ops = ops, .ctx = ctx, .cap = capacity ? capacity : 1};
	nb = buckets_for(l->cap);
	l->buckets = calloc(nb, sizeof(*l->buckets));
	if (!l->buckets)
		return -ENOMEM;
	l->mask = nb - 1;
	return 0;
}

void dm_lru_fini(struct dm_lru *l)
{
	free(l->buckets);
	l->buckets = NULL;
	l->oldest = l->newest = NULL;
	memset(l->seg, 0, sizeof(l->seg));
	l->n = 0;
}

int dm_lru_set_capacity(struct dm_lru *l, uint32_t capacity)
{
	struct dm_lru_node **b, *n;
	uint32_t nb;

	l->cap = capacity ? capacity : 1;
	nb = buckets_for(l->cap);
	if (nb <= l->mask + 1)
		return 0;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (n = l->oldest; n; n = n->newer)
		chain_add(&b[mix(n->hash) & (nb - 1)], n);
	free(l->buckets);
	l->buckets = b;
	l->mask = nb - 1;
	return 0;
}

struct dm_lru_node *dm_lru_find(const struct dm_lru *l, const void *key)
{
	uint32_t h = l->ops->hash(key);
	struct dm_lru_node *n;

	for (n = l->buckets[mix(h) & l->mask]; n; n = n->hnext)
		if (n->hash == h && l->ops->match(n, key))
			return n;
	return NULL;
}

void dm_lru_remove(struct dm_lru *l, struct dm_lru_node *n)
{
	chain_del(n);
	age_del(l, n);
	l->n--;
}

void dm_lru_make_room(struct dm_lru *l)
{
	struct dm_lru_node *v;

	while (l->n >= l->cap && l->oldest) {
		v = l->ops->victim ? l->ops->victim(l) : NULL;
		if (!v)
			v = l->oldest;
		dm_lru_remove(l, v);
		if (l->ops->evict)
			l->ops->evict(l->ctx, v);
	}
}

void dm_lru_insert_in(struct dm_lru *l, struct dm_lru_node *n, const void *key, unsigned int cls)
{
	dm_lru_make_room(l);
	n->hash = l->ops->hash(key);
	chain_add(&l->buckets[mix(n->hash) & l->mask], n);
	age_add(l, n, cls < DM_LRU_LISTS ? cls : DM_LRU_LISTS - 1);
	l->n++;
}

void dm_lru_insert(struct dm_lru *l, struct dm_lru_node *n, const void *key)
{
	dm_lru_insert_in(l, n, key, 0);
}

void dm_lru_touch(struct dm_lru *l, struct dm_lru_node *n)
{
	if (l->seg[n->cls].newest == n)
		return;
	age_del(l, n);
	age_add(l, n, n->cls);
}

void dm_lru_set_class(struct dm_lru *l, struct dm_lru_node *n, unsigned int cls)
{
	if (cls >= DM_LRU_LISTS)
		cls = DM_LRU_LISTS - 1;
	if (n->cls == cls) {
		dm_lru_touch(l, n);
		return;
	}
	age_del(l, n);
	age_add(l, n, cls);
}

uint32_t dm_lru_hash_id(const void *key)
{
	return dm_lru_hash_u64(*(const uint64_t *)key);
}

uint32_t dm_lru_hash_bytes(const void *p, size_t n, uint32_t seed)
{
	const uint8_t *b = p;
	uint32_t h = seed;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}
