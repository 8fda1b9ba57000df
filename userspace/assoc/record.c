// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The association record (see record.h): its names, its JSON, freeing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode/decode_json.h"
#include "lib/names.h"
#include "assoc/record.h"
#include "decode/uids.h"

static const char *const outcome_names[DM_OUT_MAX] = {
    [DM_OUT_INCOMPLETE] = "incomplete", [DM_OUT_ACCEPTED] = "accepted",
    [DM_OUT_REJECTED] = "rejected",	[DM_OUT_ABORTED] = "aborted",
    [DM_OUT_RELEASED] = "released",
};

const char *dm_outcome_name(unsigned int o)
{
	return o < DM_OUT_MAX ? outcome_names[o] : "?";
}

static void decode_free(struct dm_assoc_info **a)
{
	if (!*a)
		return;
	dm_assoc_free(*a);
	free(*a);
	*a = NULL;
}

void dm_rec_free(struct dm_rec *r)
{
	dm_pdu_buf_free(&r->buf[0]);
	dm_pdu_buf_free(&r->buf[1]);
	dm_cmd_asm_free(&r->cmd[0]);
	dm_cmd_asm_free(&r->cmd[1]);
	decode_free(&r->rq);
	decode_free(&r->ac);
	free(r);
}

void dm_rec_add_violation(struct dm_rec *r, const struct dm_rec_viol *v, bool capture)
{
	if (r->n_viol < DM_REC_MAX_VIOL)
		r->viol[r->n_viol] = *v;
	r->n_viol++;
	if (capture)
		r->n_viol_capture++;
}

void dm_rec_count_violations(struct dm_rec *r, uint32_t n, bool capture)
{
	r->n_viol += n;
	if (capture)
		r->n_viol_capture += n;
}

const char *dm_rec_calling(const struct dm_rec *r)
{
	const struct dm_assoc_info *who = r->rq ? r->rq : r->ac;

	return who ? who->calling.str : "";
}

const char *dm_rec_called(const struct dm_rec *r)
{
	const struct dm_assoc_info *who = r->rq ? r->rq : r->ac;

	return who ? who->called.str : "";
}

static json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *uid_json(const struct dm_assoc_info *a, dm_str_t s)
{
	return str_or_null(dm_assoc_str(a, s));
}

static json_object *impl_json(const struct dm_assoc_info *a)
{
	json_object *o;

	if (!a)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "class_uid", uid_json(a, a->ui.impl_uid));
	json_object_object_add(o, "version", uid_json(a, a->ui.impl_version));
	return o;
}

/* Every context the RQ proposed, with the AC's answer. */
static json_object *contexts_json(const struct dm_assoc_info *rq, const struct dm_assoc_info *ac)
{
	json_object *arr = json_object_new_array(), *o, *ts;
	const struct dm_assoc_pc *pc, *ans;
	const char *name;
	int i, k;

	for (i = 0; rq && i < rq->n_pcs; i++) {
		pc = &rq->pcs[i];
		ans = ac ? dm_assoc_pc_find(ac, pc->id) : NULL;
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int(pc->id));
		json_object_object_add(o, "abstract_syntax", uid_json(rq, pc->abstract));
		name = dm_uid_name(dm_assoc_str(rq, pc->abstract));
		json_object_object_add(o, "abstract_syntax_name", str_or_null(name));
		ts = json_object_new_array();
		for (k = 0; k < pc->n_ts; k++)
			json_object_array_add(ts, uid_json(rq, pc->ts[k]));
		json_object_object_add(o, "transfer_syntaxes", ts);
		json_object_object_add(o, "result",
				       ans ? json_object_new_string(dm_pc_result_name(ans->result))
					   : NULL);
		json_object_object_add(o, "accepted_transfer_syntax",
				       ans && !ans->result && ans->n_ts ? uid_json(ac, ans->ts[0])
									: NULL);
		name = ans && !ans->result && ans->n_ts ? dm_uid_name(dm_assoc_str(ac, ans->ts[0]))
							: NULL;
		json_object_object_add(o, "accepted_transfer_syntax_name", str_or_null(name));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *ae_list_json(const char list[DM_REC_MAX_MOVE][DM_AE_STR], int n)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(list[i]));
	return a;
}

static json_object *code_json(const struct dm_reject *c, bool rj)
{
	json_object *x = json_object_new_object();

	if (rj)
		json_object_object_add(x, "result", json_object_new_int(c->result));
	json_object_object_add(x, "source", json_object_new_int(c->source));
	json_object_object_add(x, "reason", json_object_new_int(c->reason));
	json_object_object_add(
	    x, "reason_name",
	    json_object_new_string(rj ? dm_reject_reason_name(c->source, c->reason)
				      : dm_abort_reason_name(c->source, c->reason)));
	return x;
}

/* {code, text, dir, offset}: dir and offset null where unknown. */
static json_object *violations_json(const struct dm_rec *r)
{
	json_object *x = json_object_new_array(), *y;
	const struct dm_rec_viol *v;
	uint32_t i;

	for (i = 0; i < r->n_viol && i < DM_REC_MAX_VIOL; i++) {
		v = &r->viol[i];
		y = json_object_new_object();
		json_object_object_add(y, "code", json_object_new_string(dm_viol_name(v->code)));
		json_object_object_add(y, "text", json_object_new_string(v->text));
		json_object_object_add(y, "dir",
				       v->dir >= 0 ? json_object_new_string(dm_dir_name(v->dir))
						   : NULL);
		json_object_object_add(y, "offset",
				       v->has_offset ? json_object_new_int64((int64_t)v->offset)
						     : NULL);
		json_object_array_add(x, y);
	}
	return x;
}

void dm_rec_json(const struct dm_rec *r, json_object *o)
{
	const struct dm_assoc_info *who = r->rq ? r->rq : r->ac;
	json_object *x;
	char buf[16];
	int i;

	/* The RQ names both parties; an AC only echoes them (not authenticated). */
	json_object_object_add(o, "calling_ae", who ? str_or_null(who->calling.str) : NULL);
	json_object_object_add(o, "called_ae", who ? str_or_null(who->called.str) : NULL);
	if (who && (who->calling.flags || who->called.flags)) {
		x = json_object_new_object();
		json_object_object_add(x, "calling", dm_ae_json(&who->calling));
		json_object_object_add(x, "called", dm_ae_json(&who->called));
		json_object_object_add(o, "ae_anomalies", x);
	}
	/* Under TLS the set-up is not visible: no outcome rather than a made-up one. */
	json_object_object_add(o, "outcome",
			       r->transport == DM_TRANSPORT_TLS && r->outcome == DM_OUT_INCOMPLETE
				   ? NULL
				   : json_object_new_string(dm_outcome_name(r->outcome)));
	json_object_object_add(o, "reject", r->rejected ? code_json(&r->reject, true) : NULL);
	json_object_object_add(o, "abort", r->aborted ? code_json(&r->abort, false) : NULL);

	x = json_object_new_object();
	json_object_object_add(x, "orig", impl_json(r->rq));
	json_object_object_add(x, "reply", impl_json(r->ac));
	json_object_object_add(o, "implementation", x);
	x = json_object_new_object();
	json_object_object_add(x, "orig",
			       r->rq ? json_object_new_int64(r->rq->ui.max_length) : NULL);
	json_object_object_add(x, "reply",
			       r->ac ? json_object_new_int64(r->ac->ui.max_length) : NULL);
	json_object_object_add(o, "max_pdu", x);
	json_object_object_add(o, "fingerprint", r->have_fp ? dm_fingerprint_json(&r->fp) : NULL);
	if (r->rq && (r->rq->ui.has & DM_UI_IDENTITY_RQ)) {
		/* The type and whether a passcode was sent: never the fields themselves. */
		x = json_object_new_object();
		json_object_object_add(
		    x, "type", json_object_new_string(dm_identity_type_name(r->rq->ui.id_type)));
		json_object_object_add(x, "secondary_field",
				       json_object_new_boolean(r->rq->ui.id_secondary));
		json_object_object_add(o, "user_identity", x);
	} else {
		json_object_object_add(o, "user_identity", NULL);
	}
	json_object_object_add(o, "presentation_contexts", contexts_json(r->rq, r->ac));
	if (r->decode_cut)
		json_object_object_add(o, "decode_truncated", json_object_new_boolean(1));
	if (r->rq && r->rq->n_pcs_seen > r->rq->n_pcs)
		json_object_object_add(o, "presentation_contexts_dropped",
				       json_object_new_int(r->rq->n_pcs_seen - r->rq->n_pcs));

	x = json_object_new_object();
	for (i = 0; i < r->n_cmds; i++) {
		const char *n = dm_dimse_name(r->cmds[i].field);

		if (!n) {
			snprintf(buf, sizeof(buf), "0x%04x", r->cmds[i].field);
			n = buf;
		}
		json_object_object_add(x, n, json_object_new_int64(r->cmds[i].count));
	}
	json_object_object_add(o, "commands", x);
	x = json_object_new_object();
	for (i = 0; i < DM_SCLASS_MAX; i++)
		if (r->statuses[i])
			json_object_object_add(x, dm_sclass_name(i),
					       json_object_new_int64(r->statuses[i]));
	json_object_object_add(o, "statuses", x);
	json_object_object_add(o, "move_destinations", ae_list_json(r->move_dest, r->n_move_dest));
	json_object_object_add(o, "move_originators", ae_list_json(r->move_orig, r->n_move_orig));

	json_object_object_add(o, "violations", violations_json(r));
	json_object_object_add(o, "violations_total", json_object_new_int64(r->n_viol));
	json_object_object_add(o, "decode_incomplete", dm_incomplete_json(dm_rec_incomplete(r)));
	json_object_object_add(o, "candidate",
			       json_object_new_boolean(r->aflags & DM_AF_CANDIDATE));
}

static const char *const inc_names[DM_INC_MAX] = {
    [DM_INC_MIDSTREAM] = "midstream",
    [DM_INC_GAP] = "gap",
    [DM_INC_TRUNCATED] = "truncated",
    [DM_INC_PDU_LENGTH] = "pdu_length",
    [DM_INC_CTL_TRUNCATED] = "control_pdu_truncated",
    [DM_INC_IP_FRAGMENTS] = "ip_fragments",
    [DM_INC_RING_BUFFER] = "ring_buffer",
};

const char *dm_incomplete_name(unsigned int reason)
{
	return reason < DM_INC_MAX ? inc_names[reason] : "?";
}

json_object *dm_incomplete_json(unsigned int reasons)
{
	json_object *a;
	unsigned int i;

	if (!reasons)
		return NULL;
	a = json_object_new_array();
	for (i = 0; i < DM_INC_MAX; i++)
		if (reasons & (1u << i))
			json_object_array_add(a, json_object_new_string(inc_names[i]));
	return a;
}

/* Did direction d have a set-up PDU to decode? The RQ always; the answer if one came. */
static bool setup_expected(const struct dm_rec *r, int d)
{
	if (d == DM_DIR_ORIG)
		return true;
	return r->ac || r->rejected || r->dir[d].pdus[DM_PDU_ASSOC_AC] ||
	       r->dir[d].pdus[DM_PDU_ASSOC_RJ];
}

unsigned int dm_rec_incomplete(const struct dm_rec *r)
{
	unsigned int inc = r->inc;
	uint16_t codes;
	int d;

	/* Under TLS there is no set-up in the clear to decode (outcome is null there too). */
	if (r->transport == DM_TRANSPORT_TLS)
		return 0;
	if (r->aflags & DM_AF_IP_FRAG_LOST)
		inc |= 1u << DM_INC_IP_FRAGMENTS;
	/* Picked up mid-stream: the set-up was never seen; lost fragments may be why. */
	if (r->midstream)
		return (1u << DM_INC_MIDSTREAM) | (inc & (1u << DM_INC_IP_FRAGMENTS));
	if (!r->finished)
		return inc; /* what is known so far: the rest may still come */
	for (d = 0; d < DM_DIR_MAX; d++) {
		if (!setup_expected(r, d) || r->setup_done[d])
			continue;
		codes = r->dir[d].anomaly_codes | r->an_codes[d];
		if (codes & (1u << DM_AN_RING_LOST))
			inc |= 1u << DM_INC_RING_BUFFER;
		/* Not whole, and nothing said why: its bytes were not all seen. */
		if (!(inc & ~(1u << DM_INC_IP_FRAGMENTS)))
			inc |= 1u << DM_INC_GAP;
	}
	return inc;
}
