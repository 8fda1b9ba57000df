// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

static int log_level = DM_LOG_WARN;

void dm_log_set_level(int level)
{
	log_level = level;
}

int dm_log_level(void)
{
	return log_level;
}

static void vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	static const char *const tags[] = {"warn", "info", "debug"};

	if (level > log_level)
		return;
	fprintf(stderr, "dicomon: %s: %s", tags[level < 0 ? 0 : level > 2 ? 2 : level], prefix);
	vfprintf(stderr, fmt, ap);
}

void dm_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are info for us (we report our own failure), its info is debug. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int ours = level == LIBBPF_WARN ? DM_LOG_INFO : DM_LOG_DEBUG;

	if (ours > log_level)
		return 0;
	vlog(ours, "libbpf: ", fmt, ap);
	return 0;
}

void dm_log_init_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
