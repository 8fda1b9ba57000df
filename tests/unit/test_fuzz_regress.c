// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Replays the .bin files of tests/fuzz/regressions/ through every fuzz harness, without
 * sanitizers (make fuzz-regress does it with them), and runs the harnesses'
 * invariant checks over the fixtures and every prefix of them. An invariant
 * that fails aborts the program. DM_FUZZ_REGRESSIONS overrides the directory.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "../fuzz/fuzz_common.h"
#include "pktbuild.h"
#include "ulbuild.h"

static void run_all(const uint8_t *p, size_t n)
{
	dm_fuzz_assoc(p, n);
	dm_fuzz_dimse(p, n);
	dm_fuzz_pdu_buf(p, n);
	dm_fuzz_evidence(p, n);
}

static void test_regressions(void **state)
{
	const char *dir = getenv("DM_FUZZ_REGRESSIONS");
	static uint8_t buf[1 << 20];
	char path[1024];
	struct dirent *de;
	int files = 0;
	size_t n;
	FILE *f;
	DIR *d;

	(void)state;
	if (!dir)
		dir = "tests/fuzz/regressions";
	d = opendir(dir);
	if (!d) {
		print_message("%s: not found (run from the top of the tree)\n", dir);
		skip();
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".bin"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		run_all(buf, n);
		files++;
	}
	closedir(d);
	print_message("replayed %d regression inputs through 4 harnesses\n", files);
}

/* The fixtures and every prefix of them through every harness. */
static void test_fixture_prefixes(void **state)
{
	static uint8_t p[65536];
	size_t n, lens[8];
	uint8_t *pdus[8];
	int k = 0;

	(void)state;
	for (int i = 0; i < 8; i++)
		pdus[i] = malloc(65536);
	lens[k] = ub_rq_full(pdus[k], 65536), k++;
	lens[k] = ub_ac_full(pdus[k], 65536), k++;
	lens[k] = ub_rq_nmap(pdus[k], 65536, "ANY-SCP"), k++;
	lens[k] = pdu_assoc_rq_n(pdus[k], 65536, "PACS", "STORESCU", 20), k++;
	lens[k] = pdu_pdata_command(pdus[k], 65536, 1, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 1, 0,
				    "STORESCP", 1),
	k++;
	lens[k] = pdu_pdata_command(pdus[k], 65536, 1, DIMSE_C_STORE | DIMSE_RSP, NULL, 1, 0xb000,
				    NULL, 0),
	k++;
	for (int i = 0; i < k; i++) {
		for (n = 0; n <= lens[i]; n++) {
			run_all(pdus[i], n);
			/* As a split-mode pdu_buf input too. */
			p[0] = 0;
			p[1] = (uint8_t)n;
			memcpy(p + 2, pdus[i], n);
			dm_fuzz_pdu_buf(p, n + 2);
		}
	}
	for (int i = 0; i < 8; i++)
		free(pdus[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regressions),
	    cmocka_unit_test(test_fixture_prefixes),
	};

	return cmocka_run_group_tests_name("unit_fuzz_regress", tests, NULL, NULL);
}
