/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_KFEATURES_H
#define __DM_KFEATURES_H

#include <stdbool.h>
#include <stdio.h>

/* `dicomon version`: the version, libbpf's, the kernel's and what the kernel offers. */
int dm_features_print(FILE *out, bool json);

#endif /* __DM_KFEATURES_H */
