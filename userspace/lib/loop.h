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
/* Wait and dispatch until dm_loop_stop(); returns its code, or -errno on failure. */
int dm_loop_run(struct dm_loop *lp);
void dm_loop_stop(struct dm_loop *lp, int code);

#endif /* __DM_LOOP_H */
