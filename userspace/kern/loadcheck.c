// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The load check of `dicomon version`: feature probes cannot say whether a
 * kernel's verifier accepts dicomon's programs (Debian 12's 6.1 had every
 * feature and refused all of them), so each program is loaded for real, on
 * its own, with the default configuration and small fresh maps; nothing is
 * pinned or attached. What the verifier processed, how long it took, and on
 * refusal its reason, taken from its log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "config/config.h"
#include "dicomon.skel.h"
#include "kern/loader.h"

/* The verifier's reason in its log: the last line before "processed N insns". */
void dm_verifier_reason(const char *log, char *why, size_t len)
{
	const char *end = strstr(log, "\nprocessed "), *start;

	if (!strncmp(log, "processed ", 10))
		end = log;
	else if (!end)
		end = log + strlen(log);
	while (end > log && end[-1] == '\n')
		end--;
	start = end;
	while (start > log && start[-1] != '\n')
		start--;
	snprintf(why, len, "%.*s", (int)(end - start), start);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Load one program of a fresh object (logging the verifier if log); fills c. */
static void check_one(struct dm_prog_check *c, const char *name, char *log, size_t log_len)
{
	struct dicomon_bpf *s;
	struct bpf_program *p, *want = NULL;
	struct bpf_prog_info info;
	struct dm_config cfg;
	__u32 ilen = sizeof(info);
	double t0;

	dm_config_defaults(&cfg);
	cfg.flow_slots = 64; /* map sizes do not change what the verifier does */
	cfg.overflow_entries = 16;
	cfg.ringbuf_bytes = 65536;
	c->name = name;
	c->why[0] = 0;
	c->insns = 0;
	s = dm_skel_open();
	if (!s) {
		c->err = -errno;
		return;
	}
	bpf_object__for_each_program(p, s->obj) {
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
		if (!strcmp(bpf_program__name(p), name))
			want = p;
	}
	cfg.replay = !strcmp(name, "dicomon_replay"); /* verified as replay runs it */
	c->err = want ? dm_skel_configure(s, &cfg, NULL) : -ENOENT;
	if (!c->err && log) {
		log[0] = 0;
		bpf_program__set_log_buf(want, log, log_len);
		bpf_program__set_log_level(want, 1);
	}
	t0 = now_s();
	if (!c->err)
		c->err = dicomon_bpf__load(s);
	c->seconds = now_s() - t0;
	if (c->err && log)
		dm_verifier_reason(log, c->why, sizeof(c->why));
	memset(&info, 0, sizeof(info));
	if (!c->err && !bpf_obj_get_info_by_fd(bpf_program__fd(want), &info, &ilen))
		c->insns = info.verified_insns;
	dicomon_bpf__destroy(s);
}

int dm_loader_check(struct dm_prog_check out[DM_CHECK_PROGS])
{
	static const char *const names[] = {"dicomon_xdp", "dicomon_tc_ingress",
					    "dicomon_tc_egress", "dicomon_replay"};
	const size_t log_len = 64 << 20; /* a failing load's whole log, on 6.1 too */
	char *log = NULL;
	int i, n = 0;

	for (i = 0; i < DM_CHECK_PROGS; i++)
		check_one(&out[n++], names[i], NULL, 0);
	if (out[0].err == -EPERM)
		return -EPERM;
	/* Again with the verifier's log, for the reason of each that failed. */
	for (i = 0; i < n; i++) {
		if (!out[i].err || out[i].err == -EPERM)
			continue;
		if (!log && !(log = malloc(log_len)))
			break;
		check_one(&out[i], out[i].name, log, log_len);
	}
	free(log);
	return n;
}
