/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_LOG_H
#define __DM_LOG_H

/* Levelled logging to stderr; libbpf's own messages come through one level lower. */
enum dm_log_level {
	DM_LOG_WARN = 0,
	DM_LOG_INFO = 1,
	DM_LOG_DEBUG = 2,
};

void dm_log_set_level(int level);
int dm_log_level(void);
void dm_log_init_libbpf(void);
void dm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(...)  dm_log(DM_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  dm_log(DM_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) dm_log(DM_LOG_DEBUG, __VA_ARGS__)

#endif /* __DM_LOG_H */
