// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The decoders seen whole, for the tests only (decode_views.h): the product
 * shows what the association record and the events keep, never these.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "dicomon.h"
#include "decode/decode_json.h"
#include "decode/uids.h"
#include "lib/names.h"
#include "decode_views.h"

/* {"uid": "...", "name": "..."} for a UID, the name when the registry knows it. */
static json_object *uid_json(const char *uid)
{
	json_object *o;

	if (!uid)
		return NULL;
	o = json_object_new_object();
	dm_json_add_str(o, "uid", uid);
	dm_json_add_str(o, "name", dm_uid_name(uid));
	return o;
}

static json_object *violations_json(const struct dm_violations *v)
{
	json_object *a = json_object_new_array(), *e;

	for (unsigned int i = 0; i < v->n && i < DM_VIOL_KEEP; i++) {
		e = json_object_new_object();
		dm_json_add_str(e, "code", dm_viol_name(v->v[i].code));
		dm_json_add_str(e, "text", v->v[i].text);
		json_object_array_add(a, e);
	}
	return a;
}

static json_object *pc_json(const struct dm_assoc_info *a, const struct dm_assoc_pc *pc)
{
	json_object *o = json_object_new_object(), *ts = json_object_new_array();

	dm_json_add_int(o, "id", pc->id);
	dm_json_add_hex(o, "reserved", pc->rsv, sizeof(pc->rsv));
	if (a->type == DM_PDU_ASSOC_AC) {
		dm_json_add_int(o, "result", pc->result);
		dm_json_add_str(o, "result_name", dm_pc_result_name(pc->result));
	} else {
		json_object_object_add(o, "abstract_syntax",
				       uid_json(dm_assoc_str(a, pc->abstract)));
	}
	for (unsigned int t = 0; t < pc->n_ts; t++)
		json_object_array_add(ts, uid_json(dm_assoc_str(a, pc->ts[t])));
	json_object_object_add(o, "transfer_syntaxes", ts);
	if (pc->n_ts_seen > pc->n_ts)
		dm_json_add_int(o, "transfer_syntaxes_seen", pc->n_ts_seen);
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

/* Role selections, extended and common extended negotiation, each where it was sent. */
static void negotiation_json(const struct dm_assoc_info *a, json_object *o)
{
	const struct dm_user_info *ui = &a->ui;
	json_object *arr, *e;
	unsigned int i, r;

	if (ui->n_roles_seen) {
		arr = json_object_new_array();
		for (i = 0; i < ui->n_roles; i++) {
			e = uid_json(dm_assoc_str(a, ui->roles[i].sop_class));
			if (!e)
				e = json_object_new_object();
			dm_json_add_int(e, "scu", ui->roles[i].scu);
			dm_json_add_int(e, "scp", ui->roles[i].scp);
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "roles", arr);
	}
	if (ui->n_extneg_seen) {
		arr = json_object_new_array();
		for (i = 0; i < ui->n_extneg; i++) {
			e = uid_json(dm_assoc_str(a, ui->extneg[i].sop_class));
			if (!e)
				e = json_object_new_object();
			dm_json_add_int(e, "info_length", ui->extneg[i].info_len);
			dm_json_add_hex(e, "info_head", ui->extneg[i].info,
					ui->extneg[i].info_kept);
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "extended_negotiation", arr);
	}
	if (ui->n_cextneg_seen) {
		arr = json_object_new_array();
		for (i = 0; i < ui->n_cextneg; i++) {
			const struct dm_cextneg *c = &ui->cextneg[i];
			json_object *rel = json_object_new_array();

			e = json_object_new_object();
			json_object_object_add(e, "sop_class",
					       uid_json(dm_assoc_str(a, c->sop_class)));
			json_object_object_add(e, "service_class",
					       uid_json(dm_assoc_str(a, c->service_class)));
			dm_json_add_int(e, "version", c->version);
			for (r = 0; r < c->n_related; r++)
				json_object_array_add(rel,
						      uid_json(dm_assoc_str(a, c->related[r])));
			json_object_object_add(e, "related", rel);
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "common_extended_negotiation", arr);
	}
}

static json_object *user_info_json(const struct dm_assoc_info *a)
{
	const struct dm_user_info *ui = &a->ui;
	json_object *o = json_object_new_object(), *e;

	if (ui->has & DM_UI_MAX_LENGTH)
		dm_json_add_int(o, "max_length", ui->max_length);
	dm_json_add_str(o, "implementation_class_uid", dm_assoc_str(a, ui->impl_uid));
	dm_json_add_str(o, "implementation_version_name", dm_assoc_str(a, ui->impl_version));
	if (ui->has & DM_UI_ASYNC) {
		dm_json_add_int(o, "async_ops_invoked", ui->async_invoked);
		dm_json_add_int(o, "async_ops_performed", ui->async_performed);
	}
	negotiation_json(a, o);
	if (ui->has & DM_UI_IDENTITY_RQ) {
		e = json_object_new_object();
		dm_json_add_int(e, "type", ui->id_type);
		dm_json_add_str(e, "type_name", dm_identity_type_name(ui->id_type));
		json_object_object_add(e, "positive_response_requested",
				       json_object_new_boolean(ui->id_positive_response != 0));
		dm_json_add_int(e, "primary_length", ui->id_primary_len);
		json_object_object_add(e, "secondary_present",
				       json_object_new_boolean(ui->id_secondary));
		json_object_object_add(o, "user_identity", e);
	}
	if (ui->has & DM_UI_IDENTITY_AC) {
		e = json_object_new_object();
		dm_json_add_int(e, "server_response_length", ui->id_server_response_len);
		json_object_object_add(o, "user_identity_response", e);
	}
	if (ui->n_unknown) {
		dm_json_add_int(o, "unknown_subitems", ui->n_unknown);
		json_object_object_add(o, "unknown_subitem_types",
				       unknown_json(ui->unknown_types, ui->n_unknown));
	}
	return o;
}

json_object *dm_assoc_json(const struct dm_assoc_info *a)
{
	json_object *o = json_object_new_object(), *pcs = json_object_new_array();

	dm_json_add_str(o, "pdu", dm_pdu_name(a->type));
	dm_json_add_int(o, "pdu_length", a->pdu_len);
	json_object_object_add(o, "truncated", json_object_new_boolean(a->truncated));
	dm_json_add_int(o, "protocol_version", a->protocol_version);
	json_object_object_add(o, "called_ae", dm_ae_json(&a->called));
	json_object_object_add(o, "calling_ae", dm_ae_json(&a->calling));
	if (!a->reserved_zero)
		json_object_object_add(o, "reserved_nonzero", json_object_new_boolean(1));
	json_object_object_add(o, "application_context", uid_json(dm_assoc_str(a, a->app_context)));
	for (unsigned int i = 0; i < a->n_pcs; i++)
		json_object_array_add(pcs, pc_json(a, &a->pcs[i]));
	json_object_object_add(o, "presentation_contexts", pcs);
	if (a->n_pcs_seen > a->n_pcs)
		dm_json_add_int(o, "presentation_contexts_seen", a->n_pcs_seen);
	json_object_object_add(o, "user_info", user_info_json(a));
	if (a->n_unknown_items) {
		dm_json_add_int(o, "unknown_items", a->n_unknown_items);
		json_object_object_add(o, "unknown_item_types",
				       unknown_json(a->unknown_item_types, a->n_unknown_items));
	}
	json_object_object_add(o, "violations", violations_json(&a->viol));
	dm_json_add_int(o, "violations_total", a->viol.total);
	return o;
}

const char *dm_priority_name(uint16_t priority)
{
	switch (priority) {
	case DM_PRIORITY_MEDIUM:
		return "medium";
	case DM_PRIORITY_HIGH:
		return "high";
	case DM_PRIORITY_LOW:
		return "low";
	default:
		return NULL;
	}
}

json_object *dm_dimse_json(const struct dm_dimse_cmd *c)
{
	json_object *o = json_object_new_object(), *so;
	uint32_t p = c->present;
	char buf[8];

	dm_json_add_int(o, "pc_id", c->pc_id);
	json_object_object_add(o, "complete", json_object_new_boolean(c->complete));
	json_object_object_add(o, "truncated", json_object_new_boolean(c->truncated));
	if (p & DM_DC_COMMAND) {
		dm_json_add_str(o, "command", dm_dimse_name(c->command));
		dm_json_add_int(o, "command_field", c->command);
	}
	if (p & DM_DC_AFFECTED_SOP)
		json_object_object_add(o, "affected_sop_class", uid_json(c->affected_sop_class));
	if (p & DM_DC_REQUESTED_SOP)
		json_object_object_add(o, "requested_sop_class", uid_json(c->requested_sop_class));
	if (p & DM_DC_MESSAGE_ID)
		dm_json_add_int(o, "message_id", c->message_id);
	if (p & DM_DC_RESPONDED_TO)
		dm_json_add_int(o, "responded_to", c->responded_to);
	if (p & DM_DC_MOVE_DEST)
		json_object_object_add(o, "move_destination", dm_ae_json(&c->move_destination));
	if (p & DM_DC_PRIORITY) {
		dm_json_add_int(o, "priority", c->priority);
		dm_json_add_str(o, "priority_name", dm_priority_name(c->priority));
	}
	if (p & DM_DC_DATA_SET_TYPE)
		json_object_object_add(o, "data_set",
				       json_object_new_boolean(dm_dimse_has_data_set(c)));
	if (p & DM_DC_STATUS) {
		so = json_object_new_object();
		snprintf(buf, sizeof(buf), "0x%04x", c->status);
		dm_json_add_str(so, "code", buf);
		dm_json_add_str(so, "class", dm_status_class(c->status));
		dm_json_add_str(so, "name", dm_status_name(c->command, c->status));
		json_object_object_add(o, "status", so);
	}
	if (p & DM_DC_ERROR_ID)
		json_object_object_add(o, "error_id_present", json_object_new_boolean(1));
	if (p & DM_DC_ERROR_COMMENT)
		dm_json_add_int(o, "error_comment_length", c->error_comment_len);
	if (p & DM_DC_EVENT_TYPE)
		json_object_object_add(o, "event_type_id_present", json_object_new_boolean(1));
	if (p & DM_DC_ACTION_TYPE)
		json_object_object_add(o, "action_type_id_present", json_object_new_boolean(1));
	if (p & DM_DC_REMAINING)
		dm_json_add_int(o, "remaining", c->remaining);
	if (p & DM_DC_COMPLETED)
		dm_json_add_int(o, "completed", c->completed);
	if (p & DM_DC_FAILED)
		dm_json_add_int(o, "failed", c->failed);
	if (p & DM_DC_WARNING)
		dm_json_add_int(o, "warning", c->warning);
	if (p & DM_DC_MOVE_ORIG_AE)
		json_object_object_add(o, "move_originator", dm_ae_json(&c->move_originator));
	if (p & DM_DC_MOVE_ORIG_ID)
		dm_json_add_int(o, "move_originator_message_id", c->move_orig_msg_id);
	json_object_object_add(o, "violations", violations_json(&c->viol));
	dm_json_add_int(o, "violations_total", c->viol.total);
	return o;
}

/* ---- a command head's few fields, summarised from dm_dimse_decode() ---- */

int dm_dimse_parse(const uint8_t *pdu, size_t len, struct dm_dimse *out)
{
	struct dm_dimse_cmd c;
	int err = dm_dimse_decode(pdu, len, &c);

	memset(out, 0, sizeof(*out));
	out->pc_id = c.pc_id;
	if (err)
		return -EINVAL;
	if (!(c.present & DM_DC_COMMAND))
		return c.viol.n ? -EINVAL : -ENODATA;
	out->command = c.command;
	out->message_id = c.message_id;
	out->responded_to = c.responded_to;
	out->status = c.status;
	if (c.present & DM_DC_MESSAGE_ID)
		out->present |= DM_DIMSE_HAS_MSG_ID;
	if (c.present & DM_DC_RESPONDED_TO)
		out->present |= DM_DIMSE_HAS_RESP_TO;
	if (c.present & DM_DC_STATUS)
		out->present |= DM_DIMSE_HAS_STATUS;
	return 0;
}
