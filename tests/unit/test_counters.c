// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The exposition as core/counters.c's family table makes it: every family
 * name once (the generated dicomon_<counter>_total ones included), none
 * colliding with another's histogram series, HELP then TYPE once per family
 * before its samples, label values escaped, the evidence families only with
 * evidence.dir. tests/unit/check_counters.py checks that every source moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config/config.h"
#include "output/metrics.h"
#include "core/counters.h"
#include "core/pipeline.h"

#define MAX_FAMS 256

struct fams {
	char name[MAX_FAMS][128];
	char type[MAX_FAMS][16];
	int n;
};

/* The exposition of a fresh pipeline (evidence in dir, or none) over these interfaces. */
static char *render(const char *evidence_dir, const struct dm_metrics_iface *ifs, int n)
{
	struct dm_pipeline *p;
	struct dm_config cfg;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	dm_config_defaults(&cfg);
	if (evidence_dir)
		snprintf(cfg.evidence_dir, sizeof(cfg.evidence_dir), "%s", evidence_dir);
	assert_int_equal(dm_pipeline_new(&cfg, NULL, NULL, f, &p, err, sizeof(err)), 0);
	assert_int_equal(dm_counters_prometheus_of(f, p, ifs, n), 0);
	dm_pipeline_free(p);
	fclose(f);
	return buf;
}

static bool is_series_of(const char *sample, const struct fams *fs, int fam)
{
	const char *name = fs->name[fam];
	size_t l = strlen(name);

	if (!strcmp(sample, name))
		return true;
	return !strcmp(fs->type[fam], "histogram") && !strncmp(sample, name, l) &&
	       (!strcmp(sample + l, "_bucket") || !strcmp(sample + l, "_sum") ||
		!strcmp(sample + l, "_count"));
}

/* Parses text into fs, asserting the exposition's shape on the way. */
static void parse(char *text, struct fams *fs)
{
	char *line, *save = NULL, name[128], type[16], help[128];
	int i;

	fs->n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", help), 1);
			assert_true(strlen(line) > 8 + strlen(help)); /* a text follows */
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s %15s", name, type), 2);
			assert_string_equal(name, help); /* HELP just before, same family */
			assert_true(fs->n < MAX_FAMS);
			strcpy(fs->name[fs->n], name);
			strcpy(fs->type[fs->n++], type);
			help[0] = 0;
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(sscanf(line, "%127[^{ ]", name), 1);
		assert_true(fs->n > 0);
		assert_true(is_series_of(name, fs, fs->n - 1));
	}
	for (i = 0; i < fs->n; i++)
		assert_int_equal(strncmp(fs->name[i], "dicomon_", 8), 0);
}

/* No two families share a name, nor does one name another's histogram series. */
static void test_no_collisions(void **state)
{
	struct dm_metrics_iface ifs[1] = {{.name = "eth0"}};
	char *t = render(NULL, ifs, 1), sfx[3][16] = {"_bucket", "_sum", "_count"}, x[160];
	struct fams *fs = calloc(1, sizeof(*fs));
	int i, j, k;

	(void)state;
	parse(t, fs);
	assert_true(fs->n > DM_CNT_MAX + 40);
	for (i = 0; i < fs->n; i++)
		for (j = 0; j < fs->n; j++) {
			if (i != j)
				assert_string_not_equal(fs->name[i], fs->name[j]);
			if (strcmp(fs->type[j], "histogram"))
				continue;
			for (k = 0; k < 3; k++) {
				snprintf(x, sizeof(x), "%s%s", fs->name[j], sfx[k]);
				assert_string_not_equal(fs->name[i], x);
			}
		}
	/* the per-counter families are there, by their generated names */
	for (i = 0; i < fs->n && strcmp(fs->name[i], "dicomon_ringbuf_reserve_failures_total");
	     i++)
		;
	assert_true(i < fs->n);
	free(fs);
	free(t);
}

/* Label values with quotes, backslashes and newlines are escaped. */
static void test_escaping(void **state)
{
	struct dm_metrics_iface ifs[1] = {{.name = "we\"ird\\if\nx"}};
	char *t;

	(void)state;
	ifs[0].s.cnt[DM_CNT_GAP] = 3;
	t = render(NULL, ifs, 1);
	assert_non_null(strstr(t, "dicomon_gaps_total{interface=\"we\\\"ird\\\\if\\nx\"} 3\n"));
	assert_null(strstr(t, "if\nx"));
	free(t);
}

/* The evidence families exist with evidence.dir, and only then. */
static void test_evidence_families(void **state)
{
	char dir[] = "/tmp/dmcount.XXXXXX", *t;
	struct fams *fs = calloc(1, sizeof(*fs));

	(void)state;
	t = render(NULL, NULL, 0);
	assert_null(strstr(t, "dicomon_evidence_files_total"));
	free(t);
	assert_non_null(mkdtemp(dir));
	t = render(dir, NULL, 0);
	assert_non_null(strstr(t, "# TYPE dicomon_evidence_files_total counter\n"
				  "dicomon_evidence_files_total 0\n"));
	assert_non_null(strstr(t, "dicomon_evidence_write_errors_total 0\n"));
	parse(t, fs);
	free(t);
	free(fs);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_collisions),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_evidence_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
