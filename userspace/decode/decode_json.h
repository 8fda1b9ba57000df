/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_DECODE_JSON_H
#define __DM_DECODE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "decode/fingerprint.h"
#include "decode/pdu.h"

/*
 * JSON renderings of decoded AE titles and fingerprints, for the association
 * record and `dicomon status`. Keys are snake_case and stable; absent fields
 * are left out. Every function returns a new object (the caller owns it) or
 * NULL on ENOMEM.
 */

/* {"str": "PACS", "raw": "5041435320...", "flags": ["ctrl", ...]} */
json_object *dm_ae_json(const struct dm_ae *ae);
json_object *dm_fingerprint_json(const struct dm_fingerprint *fp);

/* o[key] = s, left out when s is NULL. */
void dm_json_add_str(json_object *o, const char *key, const char *s);
void dm_json_add_int(json_object *o, const char *key, int64_t v);
/* o[key] = the first 64 bytes of p[0..n) in hex. */
void dm_json_add_hex(json_object *o, const char *key, const uint8_t *p, size_t n);

#endif /* __DM_DECODE_JSON_H */
