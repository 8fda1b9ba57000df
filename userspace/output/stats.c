// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <json-c/json.h>
#include <stdint.h>
#include "kern/loader.h"
#include "lib/names.h"
#include "output/stats.h"

typedef const char *(*name_fn)(unsigned int);

static json_object *json_counts(const __u64 *v, int n, name_fn name, bool all)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < n; i++)
		if (all || v[i])
			json_object_object_add(o, name(i), json_object_new_int64((int64_t)v[i]));
	return o;
}

json_object *dm_stats_json(const struct dm_stats *s)
{
	json_object *o = json_object_new_object(), *pk = json_object_new_object();
	int d;

	json_object_object_add(o, "packets",
			       json_counts(s->pkts, DM_CLASS_MAX, dm_class_name, true));
	json_object_object_add(o, "bytes",
			       json_counts(s->bytes, DM_CLASS_MAX, dm_class_name, true));
	for (d = 0; d < DM_DIR_MAX; d++)
		json_object_object_add(pk, dm_dir_name(d),
				       json_counts(s->pdus[d], DM_PDU_MAX, dm_pdu_name, false));
	json_object_object_add(o, "pdus", pk);
	json_object_object_add(o, "associations",
			       json_counts(s->assoc, DM_ASSOC_MAX, dm_assoc_counter_name, true));
	json_object_object_add(o, "errors", json_counts(s->err, DM_ERR_MAX, dm_err_name, false));
	json_object_object_add(o, "counters",
			       json_counts(s->cnt, DM_CNT_MAX, dm_counter_name, false));
	return o;
}

static void text_counts(FILE *out, const char *title, const __u64 *v, int n, name_fn name, bool all)
{
	int i, any = 0;

	for (i = 0; i < n; i++) {
		if (!all && !v[i])
			continue;
		fprintf(out, "%s%s=%llu", any ? " " : "  ", name(i), (unsigned long long)v[i]);
		any = 1;
	}
	if (any)
		fprintf(out, "   [%s]\n", title);
}

static void text_stats(FILE *out, const char *title, const struct dm_stats *s)
{
	int d;

	fprintf(out, "%s:\n", title);
	text_counts(out, "packets", s->pkts, DM_CLASS_MAX, dm_class_name, true);
	text_counts(out, "bytes", s->bytes, DM_CLASS_MAX, dm_class_name, true);
	for (d = 0; d < DM_DIR_MAX; d++)
		text_counts(out, d ? "PDUs acceptor->initiator" : "PDUs initiator->acceptor",
			    s->pdus[d], DM_PDU_MAX, dm_pdu_name, false);
	text_counts(out, "associations", s->assoc, DM_ASSOC_MAX, dm_assoc_counter_name, false);
	text_counts(out, "parse errors", s->err, DM_ERR_MAX, dm_err_name, false);
	text_counts(out, "counters", s->cnt, DM_CNT_MAX, dm_counter_name, false);
}

int dm_stats_kernel(const struct dm_loader *l, bool json, json_object *o, FILE *out)
{
	int fd = dm_loader_stats_fd(l), i, err;
	json_object *ifs = json ? json_object_new_object() : NULL;
	struct dm_stats s;
	char title[64];

	for (i = 0; i < l->n_ifaces; i++) {
		err = dm_stats_read(fd, l->ncpus, l->ifaces[i].slot, &s);
		if (err)
			goto out;
		if (json) {
			json_object_object_add(ifs, l->ifaces[i].name, dm_stats_json(&s));
		} else {
			snprintf(title, sizeof(title), "interface %s", l->ifaces[i].name);
			text_stats(out, title, &s);
		}
	}
	err = dm_stats_read(fd, l->ncpus, -1, &s);
	if (err)
		goto out;
	if (!json) {
		text_stats(out, "total", &s);
		return 0;
	}
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(o, "total", dm_stats_json(&s));
	return 0;
out:
	json_object_put(ifs);
	return err;
}
