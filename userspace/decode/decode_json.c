// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* JSON renderings of decoded A-ASSOCIATE-RQ/AC, DIMSE command sets and fingerprints. */
#include <stdio.h>
#include <string.h>
#include "dicomon.h"
#include "decode/decode_json.h"
#include "lib/names.h"
#include "decode/uids.h"

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static void add_str(json_object *o, const char *key, const char *s)
{
	if (s)
		add(o, key, json_object_new_string(s));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	add(o, key, json_object_new_int64(v));
}

static void add_hex(json_object *o, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	size_t i;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	buf[2 * n] = 0;
	add_str(o, key, buf);
}

/* {"uid": "...", "name": "..."} for a UID, the name when the registry knows it. */
static json_object *uid_json(const char *uid)
{
	json_object *o;

	if (!uid)
		return NULL;
	o = json_object_new_object();
	add_str(o, "uid", uid);
	add_str(o, "name", dm_uid_name(uid));
	return o;
}

json_object *dm_violations_json(const struct dm_violations *v)
{
	json_object *a = json_object_new_array(), *e;

	for (unsigned int i = 0; i < v->n && i < DM_VIOL_KEEP; i++) {
		e = json_object_new_object();
		add_str(e, "code", dm_viol_name(v->v[i].code));
		add_str(e, "text", v->v[i].text);
		json_object_array_add(a, e);
	}
	return a;
}

json_object *dm_ae_json(const struct dm_ae *ae)
{
	json_object *o = json_object_new_object(), *f = json_object_new_array();

	add_str(o, "str", ae->str);
	add_hex(o, "raw", ae->raw, sizeof(ae->raw));
	for (unsigned int i = 0; i < DM_AE_FLAG_BITS; i++)
		if (ae->flags & (1u << i))
			json_object_array_add(f, json_object_new_string(dm_ae_flag_name(i)));
	add(o, "flags", f);
	return o;
}

static json_object *pc_json(const struct dm_assoc_info *a, const struct dm_assoc_pc *pc)
{
	json_object *o = json_object_new_object(), *ts = json_object_new_array();

	add_int(o, "id", pc->id);
	add_hex(o, "reserved", pc->rsv, sizeof(pc->rsv));
	if (a->type == DM_PDU_ASSOC_AC) {
		add_int(o, "result", pc->result);
		add_str(o, "result_name", dm_pc_result_name(pc->result));
	} else {
		add(o, "abstract_syntax", uid_json(dm_assoc_str(a, pc->abstract)));
	}
	for (unsigned int t = 0; t < pc->n_ts; t++)
		json_object_array_add(ts, uid_json(dm_assoc_str(a, pc->ts[t])));
	add(o, "transfer_syntaxes", ts);
	if (pc->n_ts_seen > pc->n_ts)
		add_int(o, "transfer_syntaxes_seen", pc->n_ts_seen);
	return o;
}

static json_object *unknown_json(const uint8_t *types, unsigned int n)
{
	json_object *a = json_object_new_array();
	char buf[8];

	for (unsigned int i = 0; i < n && i < DM_ASSOC_UNKNOWN_KEEP; i++) {
		snprintf(buf, sizeof(buf), "0x%02x", types[i]);
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

static json_object *user_info_json(const struct dm_assoc_info *a)
{
	const struct dm_user_info *ui = &a->ui;
	json_object *o = json_object_new_object(), *arr, *e;
	unsigned int i, r;

	if (ui->has & DM_UI_MAX_LENGTH)
		add_int(o, "max_length", ui->max_length);
	add_str(o, "implementation_class_uid", dm_assoc_str(a, ui->impl_uid));
	add_str(o, "implementation_version_name", dm_assoc_str(a, ui->impl_version));
	if (ui->has & DM_UI_ASYNC) {
		add_int(o, "async_ops_invoked", ui->async_invoked);
		add_int(o, "async_ops_performed", ui->async_performed);
	}
	if (ui->n_roles_seen) {
		arr = json_object_new_array();
		for (i = 0; i < ui->n_roles; i++) {
			e = uid_json(dm_assoc_str(a, ui->roles[i].sop_class));
			if (!e)
				e = json_object_new_object();
			add_int(e, "scu", ui->roles[i].scu);
			add_int(e, "scp", ui->roles[i].scp);
			json_object_array_add(arr, e);
		}
		add(o, "roles", arr);
	}
	if (ui->n_extneg_seen) {
		arr = json_object_new_array();
		for (i = 0; i < ui->n_extneg; i++) {
			e = uid_json(dm_assoc_str(a, ui->extneg[i].sop_class));
			if (!e)
				e = json_object_new_object();
			add_int(e, "info_length", ui->extneg[i].info_len);
			add_hex(e, "info_head", ui->extneg[i].info, ui->extneg[i].info_kept);
			json_object_array_add(arr, e);
		}
		add(o, "extended_negotiation", arr);
	}
	if (ui->n_cextneg_seen) {
		arr = json_object_new_array();
		for (i = 0; i < ui->n_cextneg; i++) {
			const struct dm_cextneg *c = &ui->cextneg[i];
			json_object *rel = json_object_new_array();

			e = json_object_new_object();
			add(e, "sop_class", uid_json(dm_assoc_str(a, c->sop_class)));
			add(e, "service_class", uid_json(dm_assoc_str(a, c->service_class)));
			add_int(e, "version", c->version);
			for (r = 0; r < c->n_related; r++)
				json_object_array_add(rel,
						      uid_json(dm_assoc_str(a, c->related[r])));
			add(e, "related", rel);
			json_object_array_add(arr, e);
		}
		add(o, "common_extended_negotiation", arr);
	}
	if (ui->has & DM_UI_IDENTITY_RQ) {
		e = json_object_new_object();
		add_int(e, "type", ui->id_type);
		add_str(e, "type_name", dm_identity_type_name(ui->id_type));
		add(e, "positive_response_requested",
		    json_object_new_boolean(ui->id_positive_response != 0));
		add_int(e, "primary_length", ui->id_primary_len);
		add(e, "secondary_present", json_object_new_boolean(ui->id_secondary));
		add(o, "user_identity", e);
	}
	if (ui->has & DM_UI_IDENTITY_AC) {
		e = json_object_new_object();
		add_int(e, "server_response_length", ui->id_server_response_len);
		add(o, "user_identity_response", e);
	}
	if (ui->n_unknown) {
		add_int(o, "unknown_subitems", ui->n_unknown);
		add(o, "unknown_subitem_types", unknown_json(ui->unknown_types, ui->n_unknown));
	}
	return o;
}

json_object *dm_assoc_json(const struct dm_assoc_info *a)
{
	json_object *o = json_object_new_object(), *pcs = json_object_new_array();

	add_str(o, "pdu", dm_pdu_name(a->type));
	add_int(o, "pdu_length", a->pdu_len);
	add(o, "truncated", json_object_new_boolean(a->truncated));
	add_int(o, "protocol_version", a->protocol_version);
	add(o, "called_ae", dm_ae_json(&a->called));
	add(o, "calling_ae", dm_ae_json(&a->calling));
	if (!a->reserved_zero)
		add(o, "reserved_nonzero", json_object_new_boolean(1));
	add(o, "application_context", uid_json(dm_assoc_str(a, a->app_context)));
	for (unsigned int i = 0; i < a->n_pcs; i++)
		json_object_array_add(pcs, pc_json(a, &a->pcs[i]));
	add(o, "presentation_contexts", pcs);
	if (a->n_pcs_seen > a->n_pcs)
		add_int(o, "presentation_contexts_seen", a->n_pcs_seen);
	add(o, "user_info", user_info_json(a));
	if (a->n_unknown_items) {
		add_int(o, "unknown_items", a->n_unknown_items);
		add(o, "unknown_item_types",
		    unknown_json(a->unknown_item_types, a->n_unknown_items));
	}
	add(o, "violations", dm_violations_json(&a->viol));
	add_int(o, "violations_total", a->viol.total);
	return o;
}

json_object *dm_dimse_json(const struct dm_dimse_cmd *c)
{
	json_object *o = json_object_new_object(), *so;
	uint32_t p = c->present;
	char buf[8];

	add_int(o, "pc_id", c->pc_id);
	add(o, "complete", json_object_new_boolean(c->complete));
	add(o, "truncated", json_object_new_boolean(c->truncated));
	if (p & DM_DC_COMMAND) {
		add_str(o, "command", dm_dimse_name(c->command));
		add_int(o, "command_field", c->command);
	}
	if (p & DM_DC_AFFECTED_SOP)
		add(o, "affected_sop_class", uid_json(c->affected_sop_class));
	if (p & DM_DC_REQUESTED_SOP)
		add(o, "requested_sop_class", uid_json(c->requested_sop_class));
	if (p & DM_DC_MESSAGE_ID)
		add_int(o, "message_id", c->message_id);
	if (p & DM_DC_RESPONDED_TO)
		add_int(o, "responded_to", c->responded_to);
	if (p & DM_DC_MOVE_DEST)
		add(o, "move_destination", dm_ae_json(&c->move_destination));
	if (p & DM_DC_PRIORITY) {
		add_int(o, "priority", c->priority);
		add_str(o, "priority_name", dm_priority_name(c->priority));
	}
	if (p & DM_DC_DATA_SET_TYPE)
		add(o, "data_set", json_object_new_boolean(dm_dimse_has_data_set(c)));
	if (p & DM_DC_STATUS) {
		so = json_object_new_object();
		snprintf(buf, sizeof(buf), "0x%04x", c->status);
		add_str(so, "code", buf);
		add_str(so, "class", dm_status_class(c->status));
		add_str(so, "name", dm_status_name(c->command, c->status));
		add(o, "status", so);
	}
	if (p & DM_DC_ERROR_ID)
		add_int(o, "error_id", c->error_id);
	if (p & DM_DC_ERROR_COMMENT)
		add_int(o, "error_comment_length", c->error_comment_len);
	if (p & DM_DC_EVENT_TYPE)
		add_int(o, "event_type_id", c->event_type);
	if (p & DM_DC_ACTION_TYPE)
		add_int(o, "action_type_id", c->action_type);
	if (p & DM_DC_REMAINING)
		add_int(o, "remaining", c->remaining);
	if (p & DM_DC_COMPLETED)
		add_int(o, "completed", c->completed);
	if (p & DM_DC_FAILED)
		add_int(o, "failed", c->failed);
	if (p & DM_DC_WARNING)
		add_int(o, "warning", c->warning);
	if (p & DM_DC_MOVE_ORIG_AE)
		add(o, "move_originator", dm_ae_json(&c->move_originator));
	if (p & DM_DC_MOVE_ORIG_ID)
		add_int(o, "move_originator_message_id", c->move_orig_msg_id);
	add(o, "violations", dm_violations_json(&c->viol));
	add_int(o, "violations_total", c->viol.total);
	return o;
}

json_object *dm_fingerprint_json(const struct dm_fingerprint *fp)
{
	json_object *o = json_object_new_object(), *r = json_object_new_array();

	add_str(o, "name", fp->name);
	if (fp->version[0])
		add_str(o, "version", fp->version);
	add_str(o, "kind", dm_fp_kind_name(fp->kind));
	add_int(o, "confidence", fp->confidence);
	for (unsigned int i = 0; i < fp->n_reasons && i < DM_FP_REASONS; i++)
		json_object_array_add(r, json_object_new_string(fp->reasons[i]));
	add(o, "reasons", r);
	return o;
}
