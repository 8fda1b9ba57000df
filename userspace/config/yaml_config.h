/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_YAML_CONFIG_H
#define __DM_YAML_CONFIG_H

#include <stddef.h>
#include "config/config.h"

/*
 * Apply a YAML config file on top of cfg (normally the defaults). Unknown
 * keys, duplicate keys, wrong types and bad values are errors; err then holds
 * "FILE:LINE:COLUMN: key: what is wrong". Returns 0 or -EINVAL (-errno if the
 * file cannot be read).
 */
int dm_config_load_yaml(struct dm_config *cfg, const char *path, char *err, size_t errlen);
/* The same from memory; name stands for the file in messages. */
int dm_config_parse_yaml(struct dm_config *cfg, const char *name, const char *text, size_t len,
			 char *err, size_t errlen);

#endif /* __DM_YAML_CONFIG_H */
