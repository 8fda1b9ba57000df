// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The allow-list of command element values that may be shown (cmdkeep.h). */
#include <stddef.h>
#include "decode/cmdkeep.h"

static const struct {
	uint16_t elem;
	uint16_t max; /* UL 4, US 2, UI 64, AE 16 (PS3.5 Table 6.2-1) */
} kept[] = {
    {0x0000, 4},  {0x0002, 64}, {0x0003, 64}, {0x0100, 2}, {0x0110, 2}, {0x0120, 2},
    {0x0600, 16}, {0x0700, 2},	{0x0800, 2},  {0x0900, 2}, {0x1000, 64}, {0x1001, 64},
    {0x1020, 2},  {0x1021, 2},	{0x1022, 2},  {0x1023, 2}, {0x1030, 16}, {0x1031, 2},
};

uint32_t dm_cmd_value_max(uint16_t elem)
{
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (kept[i].elem == elem)
			return kept[i].max;
	return 0;
}
