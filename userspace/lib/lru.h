/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One bounded hash table with an age list, for every cache userspace keeps
 * (association records, the feed's rate limiter, the rules' per-address
 * state, evidence, HTTP requests being joined).
 *
 * Intrusive: the user's struct embeds a struct dm_lru_node and gets back
 * from it with dm_container_of(); the helper never allocates a node, only
 * its bucket array (a power of two sized from the capacity). The user gives
 * the key's hash and a key compare (struct dm_lru_ops).
 *
 * The age list runs from the oldest to the newest node. A node is newest
 * when inserted; dm_lru_find() leaves it where it is, dm_lru_touch() makes
 * it newest: a user that touches on every use gets least recently used
 * order, one that never does gets insertion order.
 *
 * Classes: the age list is cut into DM_LRU_LISTS segments, class 0 first
 * (oldest end), each in its own age order. A node is inserted into a class
 * (dm_lru_insert: 0) and moved to the newest end of another in O(1)
 * (dm_lru_set_class): the association table keeps finished records in
 * class 0 and active ones in class 1, so "the oldest finished record, else
 * the oldest active one" is simply the oldest node. A user with one class
 * sees one age list.
 *
 * Bounded: inserting into a full table first drops a victim (the oldest,
 * or the one ops->victim picks), unlinked, then handed to ops->evict, which
 * owns it from then on (frees or reuses it, counts it). Lookup, insert,
 * remove, touch and a change of class are O(1); a victim hook may cost what
 * it walks.
 */
#ifndef __DM_LRU_H
#define __DM_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define dm_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* More buckets than this are never allocated (8 MiB); chains grow past it. */
#define DM_LRU_MAX_BUCKETS (1u << 20)
/* Classes of the age list (segments, class 0 the oldest end). */
#define DM_LRU_LISTS 2

struct dm_lru_node {
	struct dm_lru_node *hnext, **hprev; /* hash chain */
	struct dm_lru_node *older, *newer;  /* age list */
	uint32_t hash;
	uint8_t cls; /* its segment of the age list */
};

/* One class: the ends of its segment (NULL, NULL: empty) and its size. */
struct dm_lru_seg {
	struct dm_lru_node *oldest, *newest;
	uint32_t n;
};

struct dm_lru;

struct dm_lru_ops {
	uint32_t (*hash)(const void *key);
	bool (*match)(const struct dm_lru_node *n, const void *key);
	/* Optional: the node to drop when the table is full; NULL or absent: the oldest. */
	struct dm_lru_node *(*victim)(const struct dm_lru *l);
	/* Optional: a node dropped to make room, already unlinked; the user's again. */
	void (*evict)(void *ctx, struct dm_lru_node *n);
};

struct dm_lru {
	const struct dm_lru_ops *ops;
	void *ctx; /* handed to ops->evict */
	struct dm_lru_node **buckets;
	uint32_t mask; /* buckets - 1 */
	uint32_t n, cap;
	struct dm_lru_node *oldest, *newest; /* of the whole age list */
	struct dm_lru_seg seg[DM_LRU_LISTS];
};

/* capacity: nodes at most (0 counts as 1). -ENOMEM if the bucket array cannot be had. */
int dm_lru_init(struct dm_lru *l, const struct dm_lru_ops *ops, void *ctx, uint32_t capacity);
/* Frees the bucket array; the nodes are the user's (walk them first). */
void dm_lru_fini(struct dm_lru *l);
/*
 * A new bound, applied at the next insert (nothing is dropped now). The bucket
 * array grows with it; -ENOMEM if it could not (the table stays correct, only
 * its chains are longer).
 */
int dm_lru_set_capacity(struct dm_lru *l, uint32_t capacity);
/* The node of key, NULL if none; its age is left as it is. */
struct dm_lru_node *dm_lru_find(const struct dm_lru *l, const void *key);
/* Drops victims (ops->evict) until one more node fits. */
void dm_lru_make_room(struct dm_lru *l);
/* Links n, not in any table, as the newest node of key (no duplicate check), making room first. */
void dm_lru_insert(struct dm_lru *l, struct dm_lru_node *n, const void *key);
/* The same into class cls (< DM_LRU_LISTS). */
void dm_lru_insert_in(struct dm_lru *l, struct dm_lru_node *n, const void *key, unsigned int cls);
/* Unlinks n (no callback): the caller owns it again. */
void dm_lru_remove(struct dm_lru *l, struct dm_lru_node *n);
/* n becomes the newest of its class. */
void dm_lru_touch(struct dm_lru *l, struct dm_lru_node *n);
/* n moves to class cls as its newest (its class's newest again if it is there already). */
void dm_lru_set_class(struct dm_lru *l, struct dm_lru_node *n, unsigned int cls);
/* FNV-1a of n bytes, continuing from seed (2166136261 starts one). */
uint32_t dm_lru_hash_bytes(const void *p, size_t n, uint32_t seed);
/* An ops->hash for keys that are a uint64_t (association ids). */
uint32_t dm_lru_hash_id(const void *key);

static inline uint32_t dm_lru_hash_u64(uint64_t v)
{
	return (uint32_t)((v * 0x9e3779b97f4a7c15ull) >> 32);
}

static inline uint32_t dm_lru_count(const struct dm_lru *l)
{
	return l->n;
}

static inline struct dm_lru_node *dm_lru_oldest(const struct dm_lru *l)
{
	return l->oldest;
}

static inline struct dm_lru_node *dm_lru_newer(const struct dm_lru_node *n)
{
	return n->newer;
}

/* The oldest node of class cls, NULL if it has none; dm_lru_newer() walks on into later classes. */
static inline struct dm_lru_node *dm_lru_oldest_in(const struct dm_lru *l, unsigned int cls)
{
	return l->seg[cls].oldest;
}

/* n is in a table (inserted, not removed or evicted since). */
static inline bool dm_lru_linked(const struct dm_lru_node *n)
{
	return n->hprev != NULL;
}

static inline uint32_t dm_lru_count_in(const struct dm_lru *l, unsigned int cls)
{
	return l->seg[cls].n;
}

/* Oldest first; pos may be removed (or evicted) inside the loop, the others not. */
#define dm_lru_for_each(l, pos, tmp)                                                               \
	for ((pos) = dm_lru_oldest(l); (pos) && ((tmp) = (pos)->newer, 1); (pos) = (tmp))

#endif /* __DM_LRU_H */
