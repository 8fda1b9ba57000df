/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_CLOCK_H
#define __DM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Userspace's one notion of time, in ns. Live: CLOCK_MONOTONIC, the clock
 * bpf_ktime_get_ns() reads, so event timestamps, rule windows and "now" agree;
 * shown as wall-clock time. Replay (`dicomon replay`): the capture's time, ns
 * since the epoch, set per packet, with the kernel's timestamps translated to
 * it before anything reads them (replay.c).
 */
uint64_t dm_clock_now_ns(void);
/* ns since the epoch of a dm_clock time. */
int64_t dm_clock_wall_ns(uint64_t ns);
/* "2026-11-21T23:59:01.123456" + zone ("+0000" for EVE, "+00:00" for events). */
void dm_clock_format(uint64_t ns, const char *zone, char *buf, size_t len);

/* Replay: from now on dm_clock time is capture time and now is now_ns. */
void dm_clock_set_capture(uint64_t now_ns);

/* Replay: the capture file and packet (1-based, as Wireshark numbers frames) being read. */
struct dm_source {
	const char *file;
	uint64_t packet;
};
/* NULL when live. */
const struct dm_source *dm_clock_source(void);
void dm_clock_set_source(const char *file, uint64_t packet);

#endif /* __DM_CLOCK_H */
