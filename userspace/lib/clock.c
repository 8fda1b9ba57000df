// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Userspace's clock: monotonic live, the capture's in replay (clock.h). */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include "lib/clock.h"

static bool capture;
static uint64_t capture_now;
static struct dm_source source;

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t dm_clock_now_ns(void)
{
	return capture ? capture_now : read_ns(CLOCK_MONOTONIC);
}

int64_t dm_clock_wall_ns(uint64_t ns)
{
	if (capture)
		return (int64_t)ns;
	return (int64_t)read_ns(CLOCK_REALTIME) -
	       ((int64_t)read_ns(CLOCK_MONOTONIC) - (int64_t)ns);
}

void dm_clock_format(uint64_t ns, const char *zone, char *buf, size_t len)
{
	int64_t wall = dm_clock_wall_ns(ns);
	time_t secs;
	struct tm tm;
	size_t n;

	if (wall < 0)
		wall = 0;
	secs = (time_t)(wall / 1000000000LL);
	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06lld%s", (long long)(wall % 1000000000LL) / 1000, zone);
}

void dm_clock_set_capture(uint64_t now_ns)
{
	capture = true;
	capture_now = now_ns;
}

const struct dm_source *dm_clock_source(void)
{
	return source.file ? &source : NULL;
}

void dm_clock_set_source(const char *file, uint64_t packet)
{
	source.file = file;
	source.packet = packet;
}
