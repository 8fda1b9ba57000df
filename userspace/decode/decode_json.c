// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * JSON renderings of decoded AE titles and fingerprints, and the helpers they
 * are written with. What the product shows of an A-ASSOCIATE-RQ/AC or a DIMSE
 * command set is the association record's (assoc/table.c) and the events'
 * (core/events.c); the full renderings of the decoders' structs are the tests'
 * (tests/unit/decode_views.c).
 */
#include <stdio.h>
#include "decode/decode_json.h"

void dm_json_add_str(json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, json_object_new_string(s));
}

void dm_json_add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void dm_json_add_hex(json_object *o, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	size_t i;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * n] = 0;
	dm_json_add_str(o, key, buf);
}

json_object *dm_ae_json(const struct dm_ae *ae)
{
	json_object *o = json_object_new_object(), *f = json_object_new_array();

	dm_json_add_str(o, "str", ae->str);
	dm_json_add_hex(o, "raw", ae->raw, sizeof(ae->raw));
	for (unsigned int i = 0; i < DM_AE_FLAG_BITS; i++)
		if (ae->flags & (1u << i))
			json_object_array_add(f, json_object_new_string(dm_ae_flag_name(i)));
	json_object_object_add(o, "flags", f);
	return o;
}

json_object *dm_fingerprint_json(const struct dm_fingerprint *fp)
{
	json_object *o = json_object_new_object(), *r = json_object_new_array();

	dm_json_add_str(o, "name", fp->name);
	if (fp->version[0])
		dm_json_add_str(o, "version", fp->version);
	dm_json_add_str(o, "kind", dm_fp_kind_name(fp->kind));
	dm_json_add_int(o, "confidence", fp->confidence);
	for (unsigned int i = 0; i < fp->n_reasons && i < DM_FP_REASONS; i++)
		json_object_array_add(r, json_object_new_string(fp->reasons[i]));
	json_object_object_add(o, "reasons", r);
	return o;
}
