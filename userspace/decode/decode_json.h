/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_DECODE_JSON_H
#define __DM_DECODE_JSON_H

#include <json-c/json.h>
#include "decode/assoc_decode.h"
#include "decode/dimse.h"
#include "decode/fingerprint.h"

/*
 * JSON renderings of the decoders' results, for events, the association
 * table and `dicomon status`. Keys are snake_case and stable; UIDs carry
 * their registry name where there is one; absent fields are left out.
 * Every function returns a new object (the caller owns it) or NULL on ENOMEM.
 */

/* {"code": "pc_duplicate", "text": "..."}, ... plus "violations_total" by the caller. */
json_object *dm_violations_json(const struct dm_violations *v);
/* {"str": "PACS", "raw": "5041435320...", "flags": ["ctrl", ...]} */
json_object *dm_ae_json(const struct dm_ae *ae);
json_object *dm_assoc_json(const struct dm_assoc_info *a);
json_object *dm_dimse_json(const struct dm_dimse_cmd *c);
json_object *dm_fingerprint_json(const struct dm_fingerprint *fp);

#endif /* __DM_DECODE_JSON_H */
