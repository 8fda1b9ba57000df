// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

static int log_level = DM_LOG_WARN;
static int journal;
static char last_error[512];

void dm_log_set_level(int level)
{
	log_level = level;
}

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected to
 * stdout/stderr. A child whose stderr was redirected inherits the variable,
 * so it only counts if stderr is still that stream (sd_journal_stream_fd(3)).
 */
void dm_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
		  (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

const char *dm_log_last_error(void)
{
	return last_error;
}

const char *const dm_log_level_names[] = {"warn", "info", "debug", NULL};
_Static_assert(DM_LOG_WARN == 0 && DM_LOG_INFO == 1 && DM_LOG_DEBUG == 2,
	       "dm_log_level_names is indexed by level");

static void vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	/* sd-daemon(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
	static const char *const sd[] = {"<3>", "<4>", "<6>", "<7>"};
	int i = level < DM_LOG_ERR ? 0 : level > DM_LOG_DEBUG ? 3 : level + 1;
	const char *tag = i ? dm_log_level_names[i - 1] : "error";
	char *msg = NULL, *out, *line, *nl;
	size_t cap, n = 0, lines = 1;

	if (level > log_level)
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	if (level <= DM_LOG_ERR && !*prefix) {
		snprintf(last_error, sizeof(last_error), "%s", msg);
		last_error[strcspn(last_error, "\n")] = 0;
	}
	/*
	 * One write per message, so lines from libbpf and ours never interleave.
	 * In the journal every line needs its own priority prefix (a verifier log
	 * has hundreds); on a terminal only the first line is tagged.
	 */
	for (line = msg; (line = strchr(line, '\n')); line++)
		lines++;
	cap = strlen(msg) + lines * (strlen(prefix) + 24) + 2;
	out = malloc(cap);
	if (!out) {
		free(msg);
		return;
	}
	for (line = msg; *line; line = nl) {
		nl = strchr(line, '\n');
		nl = nl ? nl + 1 : line + strlen(line);
		if (journal)
			n += snprintf(out + n, cap - n, "%s%s", sd[i], prefix);
		else if (line == msg)
			n += snprintf(out + n, cap - n, "dicomon: %s: %s", tag, prefix);
		memcpy(out + n, line, nl - line);
		n += nl - line;
	}
	if (n && out[n - 1] != '\n')
		out[n++] = '\n';
	fwrite(out, 1, n, stderr);
	free(out);
	free(msg);
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
