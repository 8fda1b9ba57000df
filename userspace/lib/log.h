/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_LOG_H
#define __DM_LOG_H

/*
 * Levelled logging to stderr; libbpf's own messages come through one level
 * lower. Under systemd (JOURNAL_STREAM names our stderr) each line starts with
 * an sd-daemon priority prefix ("<4>") so the journal records its level.
 */
enum dm_log_level {
	DM_LOG_ERR = -1, /* always shown: the daemon cannot go on (or a command failed) */
	DM_LOG_WARN = 0,
	DM_LOG_INFO = 1,
	DM_LOG_DEBUG = 2,
};

/* Names of the levels from DM_LOG_WARN (output.log_level's values), NULL-terminated. */
extern const char *const dm_log_level_names[];

void dm_log_set_level(int level);
/* Detect the journal (JOURNAL_STREAM matching stderr). Called once from main. */
void dm_log_init(void);
void dm_log_init_libbpf(void);
/* The first line of the last pr_err() message ("" if none), for JSON error output. */
const char *dm_log_last_error(void);
void dm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)   dm_log(DM_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  dm_log(DM_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  dm_log(DM_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) dm_log(DM_LOG_DEBUG, __VA_ARGS__)

#endif /* __DM_LOG_H */
