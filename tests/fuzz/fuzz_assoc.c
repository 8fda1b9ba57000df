// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* libFuzzer harness: the A-ASSOCIATE-RQ/AC decoder (and RQ/AC match, fingerprints, JSON). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dm_fuzz_assoc(data, size);
	return 0;
}
