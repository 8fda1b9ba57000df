// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Throughput of the evidence redactor (output/evidence.c) over 1 MiB of
 * P-DATA-TF PDUs in 1448-byte segments: PDUs of one command PDV (group
 * length, eight US elements, a 42-byte error comment; walked element by
 * element), then the same bytes flagged as data set PDVs (zeroed whole).
 * A report, not a test: it prints MB/s (best of 20 runs) and fails only if
 * the walk loses the stream or a command set does not parse.
 *
 *   redact_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "output/evidence.h"

#define STREAM (1u << 20)
#define SEG    1448u

static uint8_t src[STREAM], work[STREAM];

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void el(uint8_t *p, size_t *k, uint16_t e, uint32_t len)
{
	uint8_t h[8] = {0, 0, (uint8_t)e, (uint8_t)(e >> 8), (uint8_t)len, (uint8_t)(len >> 8), 0, 0};

	memcpy(p + *k, h, 8);
	*k += 8;
}

/* One PDU at p: a whole command PDV (mch 0x03) or a data set PDV (0x02). */
static size_t pdu(uint8_t *p, uint8_t mch)
{
	size_t k = 12, glen;
	uint16_t e;
	uint32_t g;

	el(p, &k, 0x0000, 4);
	glen = k;
	k += 4;
	for (e = 0x0100; e < 0x0108; e++) {
		el(p, &k, e, 2);
		p[k++] = 1, p[k++] = 0;
	}
	el(p, &k, 0x0902, 42);
	memset(p + k, 'x', 42);
	k += 42;
	g = (uint32_t)(k - glen - 4);
	memcpy(p + glen, &g, 4); /* little-endian host */
	p[0] = 4, p[1] = 0;
	be32(p + 2, (uint32_t)k - 6);
	be32(p + 6, (uint32_t)k - 10);
	p[10] = 1, p[11] = mch;
	return k;
}

static int run(uint8_t mch, const char *name)
{
	struct timespec a, b;
	double t, best = 1e9;
	struct dm_redact r;
	size_t n = 0, i;
	uint32_t l;

	while (n + 256 < STREAM)
		n += pdu(src + n, mch);
	for (int rep = 0; rep < 20; rep++) {
		memset(&r, 0, sizeof(r));
		memcpy(work, src, n);
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (i = 0; i < n; i += SEG) {
			l = n - i < SEG ? (uint32_t)(n - i) : SEG;
			dm_redact_segment(&r, 1 + (uint32_t)i, work + i, l, l);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (t < best)
			best = t;
		if (r.desync || r.bad_cmds) {
			fprintf(stderr, "redact_bench: %s: the walk lost the stream\n", name);
			return 1;
		}
	}
	printf("redact %-16s %8zu bytes  best %.3f ms  %6.0f MB/s\n", name, n, best * 1e3,
	       (double)n / best / 1e6);
	return 0;
}

int main(void)
{
	return run(0x03, "command PDVs") || run(0x02, "data set PDVs");
}
