// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the bounded hash + age list (lib/lru.c): lookup, chains that
 * all collide, eviction order and its callback, touch, a victim hook,
 * removal while iterating, growth, classes (segments of the age list), and
 * 1e5 random operations (classes included) checked against a plain array model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/lru.h"

#define KEYS 512

struct item {
	struct dm_lru_node node;
	uint32_t key;
	bool in; /* linked, as far as the test knows */
};

static struct item items[KEYS];
static uint32_t evicted[KEYS * 4];
static unsigned int n_evicted;
static unsigned long total_evicted;

static struct item *item_of(const struct dm_lru_node *n)
{
	return n ? dm_container_of(n, struct item, node) : NULL;
}

static uint32_t good_hash(const void *key)
{
	return dm_lru_hash_u64(*(const uint32_t *)key);
}

static uint32_t bad_hash(const void *key)
{
	(void)key;
	return 7;
}

static bool match(const struct dm_lru_node *n, const void *key)
{
	return item_of(n)->key == *(const uint32_t *)key;
}

static void on_evict(void *ctx, struct dm_lru_node *n)
{
	struct item *it = item_of(n);

	assert_ptr_equal(ctx, items);
	assert_true(it->in);
	assert_null(n->hprev); /* unlinked before the callback */
	it->in = false;
	total_evicted++;
	if (n_evicted < sizeof(evicted) / sizeof(evicted[0]))
		evicted[n_evicted++] = it->key;
}

static const struct dm_lru_ops good_ops = {.hash = good_hash, .match = match, .evict = on_evict};
static const struct dm_lru_ops bad_ops = {.hash = bad_hash, .match = match, .evict = on_evict};

static void reset(void)
{
	uint32_t i;

	memset(items, 0, sizeof(items));
	for (i = 0; i < KEYS; i++)
		items[i].key = i;
	n_evicted = 0;
}

static void put(struct dm_lru *l, uint32_t k)
{
	assert_false(items[k].in);
	dm_lru_insert(l, &items[k].node, &k);
	items[k].in = true;
}

static struct item *get(const struct dm_lru *l, uint32_t k)
{
	return item_of(dm_lru_find(l, &k));
}

/* The keys in age order, oldest first, must be want[0..n). */
static void assert_order(const struct dm_lru *l, const uint32_t *want, unsigned int n)
{
	struct dm_lru_node *pos;
	unsigned int i = 0;

	for (pos = dm_lru_oldest(l); pos; pos = dm_lru_newer(pos)) {
		assert_true(i < n);
		assert_int_equal(item_of(pos)->key, want[i]);
		i++;
	}
	assert_int_equal(i, n);
	assert_int_equal(dm_lru_count(l), n);
}

static void test_insert_find(void **state)
{
	static const uint32_t want[] = {10, 20, 30};
	struct dm_lru l;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &good_ops, items, 8), 0);
	assert_null(get(&l, 10));
	put(&l, 10);
	put(&l, 20);
	put(&l, 30);
	assert_ptr_equal(get(&l, 20), &items[20]);
	assert_ptr_equal(get(&l, 10), &items[10]);
	assert_null(get(&l, 11));
	/* Finding does not age: insertion order stays. */
	assert_order(&l, want, 3);
	dm_lru_remove(&l, &items[20].node);
	items[20].in = false;
	assert_null(get(&l, 20));
	assert_int_equal(dm_lru_count(&l), 2);
	assert_int_equal(n_evicted, 0); /* remove calls no callback */
	dm_lru_fini(&l);
}

/* Every key in one chain: found, removed from its middle, ends, all the same. */
static void test_collisions(void **state)
{
	struct dm_lru l;
	uint32_t k;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &bad_ops, items, 200), 0);
	for (k = 0; k < 100; k++)
		put(&l, k);
	for (k = 0; k < 100; k++)
		assert_ptr_equal(get(&l, k), &items[k]);
	for (k = 0; k < 100; k += 2) {
		dm_lru_remove(&l, &items[k].node);
		items[k].in = false;
	}
	/* The chain's head (the newest, 99) and its tail (1) go too. */
	dm_lru_remove(&l, &items[99].node);
	dm_lru_remove(&l, &items[1].node);
	items[99].in = items[1].in = false;
	for (k = 0; k < 100; k++)
		assert_ptr_equal(get(&l, k), items[k].in ? &items[k] : NULL);
	assert_int_equal(dm_lru_count(&l), 48);
	assert_null(get(&l, 300));
	dm_lru_fini(&l);
}

/* Full: the oldest goes first, through the callback, before the new one is linked. */
static void test_capacity_evicts_oldest(void **state)
{
	static const uint32_t want[] = {3, 4, 5, 6};
	struct dm_lru l;
	uint32_t k;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &good_ops, items, 4), 0);
	for (k = 1; k <= 6; k++)
		put(&l, k);
	assert_int_equal(n_evicted, 2);
	assert_int_equal(evicted[0], 1);
	assert_int_equal(evicted[1], 2);
	assert_null(get(&l, 1));
	assert_null(get(&l, 2));
	assert_order(&l, want, 4);
	dm_lru_fini(&l);
}

/* Touched on use: the least recently used goes. */
static void test_touch(void **state)
{
	static const uint32_t by_use[] = {3, 2, 1}, after[] = {4, 2, 3};
	struct dm_lru l;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &good_ops, items, 3), 0);
	put(&l, 1);
	put(&l, 2);
	put(&l, 3);
	dm_lru_touch(&l, &get(&l, 1)->node);
	dm_lru_touch(&l, &get(&l, 2)->node);
	dm_lru_touch(&l, &get(&l, 2)->node); /* the newest already */
	dm_lru_touch(&l, &get(&l, 1)->node);
	assert_order(&l, by_use, 3);
	put(&l, 4);
	assert_int_equal(n_evicted, 1);
	assert_int_equal(evicted[0], 3);
	dm_lru_touch(&l, &get(&l, 2)->node);
	put(&l, 3);
	assert_int_equal(n_evicted, 2);
	assert_int_equal(evicted[1], 1);
	assert_order(&l, after, 3);
	dm_lru_fini(&l);
}

/* A victim hook: the oldest even key goes first, the oldest of all if none. */
static struct dm_lru_node *even_victim(const struct dm_lru *l)
{
	struct dm_lru_node *n;

	for (n = dm_lru_oldest(l); n; n = dm_lru_newer(n))
		if (!(item_of(n)->key & 1))
			return n;
	return NULL;
}

static void test_victim_hook(void **state)
{
	static const struct dm_lru_ops ops = {
	    .hash = good_hash, .match = match, .victim = even_victim, .evict = on_evict};
	static const uint32_t want[] = {1, 3, 5, 7};
	struct dm_lru l;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &ops, items, 4), 0);
	put(&l, 1);
	put(&l, 2);
	put(&l, 3);
	put(&l, 4);
	put(&l, 5); /* 2 goes, though 1 is older */
	put(&l, 7); /* then 4 */
	assert_int_equal(n_evicted, 2);
	assert_int_equal(evicted[0], 2);
	assert_int_equal(evicted[1], 4);
	assert_order(&l, want, 4);
	put(&l, 9); /* no even key left: the oldest */
	assert_int_equal(evicted[2], 1);
	dm_lru_fini(&l);
}

/* Age order through the iterator, the current node removed on the way. */
static void test_remove_while_iterating(void **state)
{
	static const uint32_t want[] = {1, 3, 5, 7, 9};
	struct dm_lru_node *pos, *tmp;
	struct dm_lru l;
	uint32_t k, seen = 0;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &good_ops, items, 16), 0);
	for (k = 0; k < 10; k++)
		put(&l, k);
	dm_lru_for_each(&l, pos, tmp) {
		assert_int_equal(item_of(pos)->key, seen++);
		if (!(item_of(pos)->key & 1)) {
			dm_lru_remove(&l, pos);
			item_of(pos)->in = false;
		}
	}
	assert_int_equal(seen, 10);
	assert_order(&l, want, 5);
	/* Emptied the same way. */
	dm_lru_for_each(&l, pos, tmp)
		dm_lru_remove(&l, pos);
	assert_int_equal(dm_lru_count(&l), 0);
	assert_null(dm_lru_oldest(&l));
	dm_lru_fini(&l);
}

/* A larger bound grows the buckets, keeps every node; a smaller one evicts at the next insert. */
static void test_set_capacity(void **state)
{
	static const uint32_t want[] = {307, 308, 309};
	struct dm_lru l;
	uint32_t k;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &good_ops, items, 0), 0);
	assert_int_equal(l.cap, 1);
	put(&l, 5);
	put(&l, 6);
	assert_int_equal(n_evicted, 1);
	assert_int_equal(dm_lru_set_capacity(&l, 300), 0);
	assert_true(l.mask + 1 >= 300);
	assert_ptr_equal(get(&l, 6), &items[6]);
	for (k = 10; k < 309; k++)
		put(&l, k);
	assert_int_equal(n_evicted, 1);
	for (k = 10; k < 309; k++)
		assert_ptr_equal(get(&l, k), &items[k]);
	/* Down to 3: nothing goes until the next insert, then all but the newest two. */
	assert_int_equal(dm_lru_set_capacity(&l, 3), 0);
	assert_int_equal(dm_lru_count(&l), 300);
	put(&l, 309);
	assert_int_equal(dm_lru_count(&l), 3);
	assert_int_equal(n_evicted, 1 + 298);
	assert_int_equal(evicted[1], 6);
	assert_order(&l, want, 3);
	dm_lru_fini(&l);
}

/*
 * ---- 1e5 random operations against a model: an array of keys, oldest first,
 * cut into classes (class 0's keys, then class 1's) ----
 */

struct model {
	uint32_t order[KEYS];
	uint8_t cls[KEYS]; /* by key */
	unsigned int n, cap;
};

static int model_pos(const struct model *m, uint32_t k)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->order[i] == k)
			return (int)i;
	return -1;
}

static void model_del(struct model *m, unsigned int i)
{
	memmove(m->order + i, m->order + i + 1, (m->n - i - 1) * sizeof(m->order[0]));
	m->n--;
}

/* k as the newest of class c: before the first key of a later class. */
static void model_add(struct model *m, uint32_t k, unsigned int c)
{
	unsigned int i;

	for (i = 0; i < m->n && m->cls[m->order[i]] <= c; i++)
		;
	memmove(m->order + i + 1, m->order + i, (m->n - i) * sizeof(m->order[0]));
	m->order[i] = k;
	m->cls[k] = (uint8_t)c;
	m->n++;
}

static void model_move(struct model *m, uint32_t k, unsigned int c)
{
	model_del(m, (unsigned int)model_pos(m, k));
	model_add(m, k, c);
}

/* Insert k: the oldest go (recorded in the order they must be evicted) until it fits. */
static void model_insert(struct model *m, uint32_t k, unsigned int c, uint32_t *gone,
			 unsigned int *n_gone)
{
	while (m->n >= m->cap) {
		gone[(*n_gone)++] = m->order[0];
		model_del(m, 0);
	}
	model_add(m, k, c);
}

/* Each class's size and ends as the model has them. */
static void assert_classes(const struct dm_lru *l, const struct model *m)
{
	unsigned int c, i, n;
	int first, last;

	for (c = 0; c < DM_LRU_LISTS; c++) {
		for (i = 0, n = 0, first = last = -1; i < m->n; i++) {
			if (m->cls[m->order[i]] != c)
				continue;
			n++;
			last = (int)m->order[i];
			if (first < 0)
				first = last;
		}
		assert_int_equal(dm_lru_count_in(l, c), n);
		assert_ptr_equal(dm_lru_oldest_in(l, c), first < 0 ? NULL : &items[first].node);
		assert_ptr_equal(l->seg[c].newest, last < 0 ? NULL : &items[last].node);
	}
}

static void random_op(struct dm_lru *l, struct model *m, const struct dm_lru_ops *ops)
{
	uint32_t k = (uint32_t)rand() % 300, gone[KEYS];
	unsigned int i, n_gone = 0, before = n_evicted, c = (unsigned int)rand() % DM_LRU_LISTS;
	int pos = model_pos(m, k), op = rand() % 100;
	struct item *it = get(l, k);

	assert_ptr_equal(it, pos >= 0 ? &items[k] : NULL);
	if (op < 40) {
		if (!it) {
			model_insert(m, k, c, gone, &n_gone);
			assert_false(items[k].in);
			dm_lru_insert_in(l, &items[k].node, &k, c);
			items[k].in = true;
			assert_int_equal(n_evicted - before, n_gone);
			for (i = 0; i < n_gone; i++)
				assert_int_equal(evicted[before + i], gone[i]);
			n_evicted = 0; /* the log only needs this operation's */
		}
	} else if (op < 60) {
		if (it) {
			dm_lru_touch(l, &it->node);
			model_move(m, k, m->cls[k]);
		}
	} else if (op < 75) {
		if (it) {
			dm_lru_set_class(l, &it->node, c);
			model_move(m, k, c);
		}
	} else if (op < 95) {
		if (it) {
			dm_lru_remove(l, &it->node);
			it->in = false;
			model_del(m, (unsigned int)pos);
		}
	} else if (op < 97) {
		m->cap = 1 + (uint32_t)rand() % (ops == &bad_ops ? 40 : 200);
		assert_int_equal(dm_lru_set_capacity(l, m->cap), 0);
	}
	assert_int_equal(dm_lru_count(l), m->n);
}

static void run_model(const struct dm_lru_ops *ops, unsigned int n_ops)
{
	struct model m = {.cap = 64};
	struct dm_lru l;
	unsigned int i;

	reset();
	assert_int_equal(dm_lru_init(&l, ops, items, m.cap), 0);
	for (i = 0; i < n_ops; i++) {
		random_op(&l, &m, ops);
		if (i % 997 == 0) {
			assert_order(&l, m.order, m.n);
			assert_classes(&l, &m);
		}
	}
	assert_order(&l, m.order, m.n);
	assert_classes(&l, &m);
	dm_lru_fini(&l);
}

static void test_random_against_model(void **state)
{
	(void)state;
	srand(12);
	total_evicted = 0;
	run_model(&good_ops, 100000);
	/* The bound was reached again and again. */
	assert_true(total_evicted > 10000);
	/* One chain for everything: the chain code under the same load. */
	run_model(&bad_ops, 20000);
	assert_true(total_evicted > 20000);
}

/*
 * Classes: finished (0) before active (1), as the association table uses
 * them. The oldest finished node goes first even when active nodes are
 * older; with none finished, the oldest active one. Touch stays in a class.
 */
static void test_classes(void **state)
{
	static const uint32_t moved[] = {3, 1, 4, 5, 2}, touched[] = {1, 3, 2, 4, 5};
	static const uint32_t one_finished[] = {1, 2, 4, 5, 6}, only_active[] = {2, 4, 5, 6, 7};
	struct dm_lru l;
	uint32_t k;

	(void)state;
	reset();
	assert_int_equal(dm_lru_init(&l, &good_ops, items, 5), 0);
	for (k = 1; k <= 5; k++) {
		assert_false(items[k].in);
		dm_lru_insert_in(&l, &items[k].node, &k, 1);
		items[k].in = true;
	}
	dm_lru_set_class(&l, &items[3].node, 0);
	dm_lru_set_class(&l, &items[1].node, 0);
	dm_lru_touch(&l, &items[2].node); /* newest of class 1, after 5 */
	dm_lru_touch(&l, &items[2].node);
	dm_lru_set_class(&l, &items[2].node, 1);
	dm_lru_touch(&l, &items[3].node); /* newest of class 0: after 1 */
	dm_lru_touch(&l, &items[1].node);
	assert_int_equal(dm_lru_count_in(&l, 0), 2);
	assert_ptr_equal(dm_lru_oldest_in(&l, 1), &items[4].node);
	assert_order(&l, moved, 5);
	dm_lru_touch(&l, &items[4].node);
	dm_lru_touch(&l, &items[5].node);
	dm_lru_touch(&l, &items[1].node);
	dm_lru_touch(&l, &items[3].node);
	assert_order(&l, touched, 5);
	dm_lru_touch(&l, &items[1].node);
	k = 6;
	dm_lru_insert_in(&l, &items[6].node, &k, 1); /* full: finished 3 goes */
	items[6].in = true;
	assert_int_equal(n_evicted, 1);
	assert_int_equal(evicted[0], 3);
	assert_order(&l, one_finished, 5);
	k = 7;
	dm_lru_insert_in(&l, &items[7].node, &k, 1); /* finished 1 goes, active 2 stays */
	items[7].in = true;
	assert_int_equal(evicted[1], 1);
	assert_order(&l, only_active, 5);
	assert_int_equal(dm_lru_count_in(&l, 0), 0);
	assert_null(dm_lru_oldest_in(&l, 0));
	k = 8;
	dm_lru_insert_in(&l, &items[8].node, &k, 1); /* none finished: the oldest active, 2 */
	items[8].in = true;
	assert_int_equal(evicted[2], 2);
	dm_lru_fini(&l);
}

static void test_hash_bytes(void **state)
{
	(void)state;
	/* FNV-1a's published values: "" and "a". */
	assert_int_equal(dm_lru_hash_bytes("", 0, 2166136261u), 2166136261u);
	assert_int_equal(dm_lru_hash_bytes("a", 1, 2166136261u), 0xe40c292cu);
	assert_int_not_equal(dm_lru_hash_u64(1), dm_lru_hash_u64(2));
	assert_int_equal(dm_lru_hash_id(&(uint64_t){1ull << 40}), dm_lru_hash_u64(1ull << 40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_insert_find),
	    cmocka_unit_test(test_collisions),
	    cmocka_unit_test(test_capacity_evicts_oldest),
	    cmocka_unit_test(test_touch),
	    cmocka_unit_test(test_victim_hook),
	    cmocka_unit_test(test_remove_while_iterating),
	    cmocka_unit_test(test_set_capacity),
	    cmocka_unit_test(test_random_against_model),
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_hash_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
