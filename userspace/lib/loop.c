// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/loop.h"

/* Warnings of slow handlers: at most one per this many ns. */
#define WARN_INTERVAL_NS (10 * 1000000000ULL)

struct dm_handler {
	struct dm_handler *next;
	int fd;
	int stat; /* index into the loop's stats (by name) */
	bool dead; /* removed while a batch may still point at it */
	bool timer;
	dm_loop_fn fn;
	void *ctx;
};

struct dm_loop {
	int ep;
	bool stop, dispatching;
	int code;
	struct dm_handler *handlers;
	struct dm_loop_stat stats[DM_LOOP_STATS]; /* [0] is "other": unnamed handlers */
	int n_stats;
	uint64_t last_warn_ns;
	uint64_t unwarned; /* slow runs since the last warning, not warned of */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct dm_loop *dm_loop_new(void)
{
	struct dm_loop *lp = calloc(1, sizeof(*lp));

	if (!lp)
		return NULL;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	if (lp->ep < 0) {
		free(lp);
		return NULL;
	}
	lp->stats[0].name = "other";
	lp->n_stats = 1;
	return lp;
}

static void reap(struct dm_loop *lp)
{
	struct dm_handler **pp = &lp->handlers, *h;

	while ((h = *pp)) {
		if (h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

void dm_loop_free(struct dm_loop *lp)
{
	struct dm_handler *h;

	if (!lp)
		return;
	for (h = lp->handlers; h; h = h->next)
		h->dead = true;
	reap(lp);
	close(lp->ep);
	free(lp);
}

static struct dm_handler *find(struct dm_loop *lp, int fd)
{
	struct dm_handler *h;

	for (h = lp->handlers; h; h = h->next)
		if (h->fd == fd && !h->dead)
			return h;
	return NULL;
}

int dm_loop_add(struct dm_loop *lp, int fd, uint32_t events, dm_loop_fn fn, void *ctx)
{
	struct epoll_event e = {.events = events};
	struct dm_handler *h;

	if (fd < 0 || !fn)
		return -EINVAL;
	if (find(lp, fd))
		return -EEXIST;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->ctx = ctx;
	e.data.ptr = h;
	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &e)) {
		free(h);
		return -errno;
	}
	h->next = lp->handlers;
	lp->handlers = h;
	return 0;
}

int dm_loop_del(struct dm_loop *lp, int fd)
{
	struct dm_handler *h = find(lp, fd);

	if (!h)
		return -ENOENT;
	epoll_ctl(lp->ep, EPOLL_CTL_DEL, fd, NULL);
	/* Events of this batch may still point at h: free it after the batch. */
	h->dead = true;
	if (!lp->dispatching)
		reap(lp);
	return 0;
}

int dm_loop_timer_set(int fd, uint64_t interval_ns)
{
	struct itimerspec its = {
	    .it_value = {interval_ns / 1000000000ULL, interval_ns % 1000000000ULL},
	    .it_interval = {interval_ns / 1000000000ULL, interval_ns % 1000000000ULL},
	};

	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

int dm_loop_add_timer(struct dm_loop *lp, uint64_t interval_ns, dm_loop_fn fn, void *ctx)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), err;

	if (fd < 0)
		return -errno;
	err = dm_loop_timer_set(fd, interval_ns);
	if (!err)
		err = dm_loop_add(lp, fd, EPOLLIN, fn, ctx);
	if (err) {
		close(fd);
		return err;
	}
	find(lp, fd)->timer = true;
	return fd;
}

int dm_loop_set_name(struct dm_loop *lp, int fd, const char *name)
{
	struct dm_handler *h = find(lp, fd);
	int i;

	if (!h)
		return -ENOENT;
	for (i = 0; i < lp->n_stats && strcmp(lp->stats[i].name, name); i++)
		;
	if (i == lp->n_stats) {
		if (i == DM_LOOP_STATS)
			return -ENOSPC; /* stays "other" */
		lp->stats[lp->n_stats++].name = name;
	}
	h->stat = i;
	return 0;
}

int dm_loop_stats(const struct dm_loop *lp, const struct dm_loop_stat **out)
{
	*out = lp->stats;
	return lp->n_stats;
}

/* One handler run of ns: its statistics, and a warning if it held the loop too long. */
static void account(struct dm_loop *lp, struct dm_handler *h, uint64_t t0)
{
	struct dm_loop_stat *s = &lp->stats[h->stat];
	uint64_t t1 = now_ns(), ns = t1 - t0;

	s->runs++;
	s->total_ns += ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
	if (ns <= DM_LOOP_SLOW_NS)
		return;
	s->slow++;
	if (lp->last_warn_ns && t1 - lp->last_warn_ns < WARN_INTERVAL_NS) {
		lp->unwarned++;
		return;
	}
	pr_warn("event loop: handler %s blocked the loop for %.1f ms (over %llu ms: ring buffer "
		"not drained meanwhile)%s\n",
		s->name, ns / 1e6, DM_LOOP_SLOW_NS / 1000000ULL,
		lp->unwarned ? "; more slow runs since the last warning, see "
			       "dicomon_loop_slow_runs_total"
			     : "");
	lp->last_warn_ns = t1;
	lp->unwarned = 0;
}

void dm_loop_stop(struct dm_loop *lp, int code)
{
	lp->stop = true;
	lp->code = code;
}

int dm_loop_run(struct dm_loop *lp)
{
	struct epoll_event evs[16];
	struct dm_handler *h;
	uint64_t ticks, t0;
	int n, i;

	lp->stop = false;
	while (!lp->stop) {
		n = epoll_wait(lp->ep, evs, sizeof(evs) / sizeof(evs[0]), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("epoll_wait: %s\n", strerror(errno));
			return -errno;
		}
		lp->dispatching = true;
		for (i = 0; i < n; i++) {
			h = evs[i].data.ptr;
			if (h->dead)
				continue;
			/* A timer with nothing to read fired for an earlier setting. */
			if (h->timer && read(h->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
				continue;
			t0 = now_ns();
			h->fn(lp, h->fd, evs[i].events, h->ctx);
			account(lp, h, t0);
		}
		lp->dispatching = false;
		reap(lp);
	}
	return lp->code;
}
