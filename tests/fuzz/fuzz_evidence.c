// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* libFuzzer harness: the evidence redactor and store (evidence.c). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dm_fuzz_evidence(data, size);
	return 0;
}
