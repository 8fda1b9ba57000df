/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_LOOP_H
#define __DM_LOOP_H

#include <stdint.h>

/*
 * The daemon's one event loop: an epoll set of file descriptors, each with a
 * handler. Everything that wakes the daemon (signals through a signalfd,
 * timers through timerfds, the ring buffer's epoll fd, sockets) is one fd
 * registered here; handlers run in the loop, never in signal context.
 *
 *   dm_loop_add(lp, fd, EPOLLIN, on_readable, ctx);   // e.g. a listening socket
 *   dm_loop_del(lp, fd);                              // safe inside any handler
 */
struct dm_loop;

/*
 * Every handler run is timed: while one runs nothing else does (the ring
 * buffer fills, scrapes wait). A run over DM_LOOP_SLOW_NS is counted and
 * warned of (at most one warning per 10 s). Statistics are kept per handler
 * name (dm_loop_set_name); unnamed handlers count as "other".
 */
#define DM_LOOP_SLOW_NS (50 * 1000000ULL)
#define DM_LOOP_STATS	16
struct dm_loop_stat {
	const char *name; /* static text */
	uint64_t runs, slow; /* runs, and runs over DM_LOOP_SLOW_NS */
	uint64_t max_ns, total_ns;
};

/* Called with the fd and the epoll events (EPOLLIN, EPOLLHUP, ...) that fired. */
typedef void (*dm_loop_fn)(struct dm_loop *lp, int fd, uint32_t events, void *ctx);

struct dm_loop *dm_loop_new(void);
/* Frees the loop; the registered fds are not closed (they belong to their owners). */
void dm_loop_free(struct dm_loop *lp);
/* Returns 0, -EEXIST if fd is registered already, or -errno. */
int dm_loop_add(struct dm_loop *lp, int fd, uint32_t events, dm_loop_fn fn, void *ctx);
int dm_loop_del(struct dm_loop *lp, int fd);
/*
 * A periodic CLOCK_MONOTONIC timerfd whose handler runs once per expiry batch
 * (the expirations are read before fn is called). Returns the fd (close it
 * after dm_loop_del) or -errno. interval_ns 0: a disarmed timer.
 */
int dm_loop_add_timer(struct dm_loop *lp, uint64_t interval_ns, dm_loop_fn fn, void *ctx);
/* Re-arm (or with 0 disarm) a timer made by dm_loop_add_timer. */
int dm_loop_timer_set(int fd, uint64_t interval_ns);
/* Name fd's handler for the statistics (name: static text). 0, -ENOENT, -ENOSPC. */
int dm_loop_set_name(struct dm_loop *lp, int fd, const char *name);
/* The statistics by handler name: how many, *out pointing at them (valid while lp lives). */
int dm_loop_stats(const struct dm_loop *lp, const struct dm_loop_stat **out);
/* Wait and dispatch until dm_loop_stop(); returns its code, or -errno on failure. */
int dm_loop_run(struct dm_loop *lp);
void dm_loop_stop(struct dm_loop *lp, int code);

#endif /* __DM_LOOP_H */
