// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* libFuzzer harness: piece reassembly (rebuilt decodes as whole) and hostile pieces. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dm_fuzz_pdu_buf(data, size);
	return 0;
}
