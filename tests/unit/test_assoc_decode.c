// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A-ASSOCIATE-RQ/AC decoding of well-formed PDUs: every item and sub-item
 * type, every presentation context result, 128 contexts, the RQ/AC check,
 * truncation at every byte, decoding after reassembly from pieces, and the
 * guarantee that user identity bytes are copied nowhere.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "dicomon.h"
#include "decode/assoc_decode.h"
#include "decode/decode_json.h"
#include "pktbuild.h"
#include "ulbuild.h"
#include "decode_views.h"

static const char *S(const struct dm_assoc_info *a, dm_str_t s)
{
	const char *v = dm_assoc_str(a, s);

	return v ? v : "(null)";
}

static void print_viol(const struct dm_violations *v)
{
	for (unsigned int i = 0; i < v->n; i++)
		print_message("violation %s: %s\n", dm_viol_name(v->v[i].code), v->v[i].text);
}

static void assert_clean(const struct dm_assoc_info *a)
{
	if (a->viol.total)
		print_viol(&a->viol);
	assert_int_equal(a->viol.total, 0);
}

static char *json_of(const struct dm_assoc_info *a)
{
	json_object *o = dm_assoc_json(a);
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

static void test_rq_pktbuild(void **state)
{
	struct pdu_pc pcs[2] = {
	    {1, PDU_UID_VERIFICATION, {PDU_UID_IMPLICIT_LE}, 1},
	    {3, PDU_UID_CT_STORAGE, {PDU_UID_EXPLICIT_LE, PDU_UID_IMPLICIT_LE}, 2},
	};
	struct dm_assoc_info a;
	uint8_t rq[1024];
	size_t n = pdu_assoc_rq(rq, sizeof(rq), "ANY-SCP", "ECHOSCU", pcs, 2, 16384,
				PDU_DCMTK_IMPL_UID, PDU_DCMTK_IMPL_VER);

	(void)state;
	assert_int_equal(dm_assoc_decode(rq, n, &a), 0);
	assert_clean(&a);
	assert_int_equal(a.type, DM_PDU_ASSOC_RQ);
	assert_int_equal(a.len, n);
	assert_int_equal(a.pdu_len, n - 6);
	assert_false(a.truncated);
	assert_int_equal(a.protocol_version, 1);
	assert_true(a.reserved_zero);
	assert_string_equal(a.called.str, "ANY-SCP");
	assert_memory_equal(a.called.raw, "ANY-SCP         ", 16);
	assert_string_equal(a.calling.str, "ECHOSCU");
	assert_int_equal(a.called.flags | a.calling.flags, 0);
	assert_string_equal(S(&a, a.app_context), DM_APP_CONTEXT_DICOM);
	assert_int_equal(a.n_pcs, 2);
	assert_int_equal(a.n_pcs_seen, 2);
	assert_int_equal(a.pcs[0].id, 1);
	/* DCMTK's marker in the middle reserved byte, as pktbuild writes it. */
	assert_memory_equal(a.pcs[0].rsv, "\x00\xff\x00", 3);
	assert_string_equal(S(&a, a.pcs[0].abstract), PDU_UID_VERIFICATION);
	assert_int_equal(a.pcs[0].n_ts, 1);
	assert_string_equal(S(&a, a.pcs[0].ts[0]), PDU_UID_IMPLICIT_LE);
	assert_int_equal(a.pcs[1].id, 3);
	assert_int_equal(a.pcs[1].n_ts, 2);
	assert_int_equal(a.pcs[1].n_ts_seen, 2);
	assert_string_equal(S(&a, a.pcs[1].ts[0]), PDU_UID_EXPLICIT_LE);
	assert_string_equal(S(&a, a.pcs[1].ts[1]), PDU_UID_IMPLICIT_LE);
	/* One copy per distinct string. */
	assert_int_equal(a.pcs[0].ts[0], a.pcs[1].ts[1]);
	assert_int_equal(a.ui.has, DM_UI_MAX_LENGTH | DM_UI_IMPL_UID | DM_UI_IMPL_VER);
	assert_int_equal(a.ui.max_length, 16384);
	assert_string_equal(S(&a, a.ui.impl_uid), PDU_DCMTK_IMPL_UID);
	assert_string_equal(S(&a, a.ui.impl_version), PDU_DCMTK_IMPL_VER);
	assert_ptr_equal(dm_assoc_pc_find(&a, 3), &a.pcs[1]);
	assert_null(dm_assoc_pc_find(&a, 5));
	assert_null(dm_assoc_str(&a, 0));
	assert_null(dm_assoc_str(&a, 1u << 30));
	dm_assoc_free(&a);
	/* Without the version name. */
	n = pdu_assoc_rq(rq, sizeof(rq), "A", "B", pcs, 1, 0, PDU_DCMTK_IMPL_UID, NULL);
	assert_int_equal(dm_assoc_decode(rq, n, &a), 0);
	assert_clean(&a);
	assert_false(a.ui.has & DM_UI_IMPL_VER);
	assert_int_equal(a.ui.max_length, 0); /* 0 = no limit */
	dm_assoc_free(&a);
}

static void test_rq_full(void **state)
{
	struct dm_assoc_info a;
	const struct dm_user_info *ui = &a.ui;
	uint8_t rq[2048];
	size_t n = ub_rq_full(rq, sizeof(rq));

	(void)state;
	assert_true(n > 0);
	assert_int_equal(dm_assoc_decode(rq, n, &a), 0);
	assert_clean(&a);
	assert_int_equal(a.n_pcs, 3);
	assert_int_equal(a.pcs[1].n_ts, 3);
	assert_string_equal(S(&a, a.pcs[1].ts[2]), "1.2.840.10008.1.2.4.50");
	assert_string_equal(S(&a, a.pcs[2].abstract), "1.2.840.10008.5.1.4.1.2.2.1");
	/* 0x51 */
	assert_int_equal(ui->max_length, 32768);
	/* 0x52, 0x55 */
	assert_string_equal(S(&a, ui->impl_uid), "1.2.826.0.1.3680043.9.3811.2.0.0");
	assert_string_equal(S(&a, ui->impl_version), "PYNETDICOM_200");
	/* 0x53 */
	assert_true(ui->has & DM_UI_ASYNC);
	assert_int_equal(ui->async_invoked, 5);
	assert_int_equal(ui->async_performed, 3);
	/* 0x54 */
	assert_int_equal(ui->n_roles, 2);
	assert_int_equal(ui->n_roles_seen, 2);
	assert_string_equal(S(&a, ui->roles[0].sop_class), "1.2.840.10008.5.1.4.1.1.2");
	assert_int_equal(ui->roles[0].scu, 1);
	assert_int_equal(ui->roles[0].scp, 1);
	assert_int_equal(ui->roles[1].scu, 0);
	assert_int_equal(ui->roles[1].scp, 1);
	/* 0x56: the UID, the length and a short head of the information */
	assert_int_equal(ui->n_extneg, 1);
	assert_string_equal(S(&a, ui->extneg[0].sop_class), "1.2.840.10008.5.1.4.1.2.2.1");
	assert_int_equal(ui->extneg[0].info_len, 4);
	assert_int_equal(ui->extneg[0].info_kept, 4);
	assert_memory_equal(ui->extneg[0].info, "\x01\x01\x00\x01", 4);
	/* 0x57 */
	assert_int_equal(ui->n_cextneg, 1);
	assert_string_equal(S(&a, ui->cextneg[0].sop_class), "1.2.840.10008.5.1.4.1.1.88.22");
	assert_string_equal(S(&a, ui->cextneg[0].service_class), "1.2.840.10008.4.2");
	assert_int_equal(ui->cextneg[0].n_related, 2);
	assert_int_equal(ui->cextneg[0].n_related_seen, 2);
	assert_string_equal(S(&a, ui->cextneg[0].related[1]), "1.2.840.10008.5.1.4.1.1.2");
	assert_int_equal(ui->cextneg[0].version, 0);
	/* 0x58: type, flag, primary length, secondary presence; nothing else. */
	assert_true(ui->has & DM_UI_IDENTITY_RQ);
	assert_int_equal(ui->id_type, DM_ID_USERNAME_PASSCODE);
	assert_string_equal(dm_identity_type_name(ui->id_type), "username-passcode");
	assert_int_equal(ui->id_positive_response, 1);
	assert_int_equal(ui->id_primary_len, strlen(UB_SECRET_USER));
	assert_true(ui->id_secondary);
	/* Unknown 0x7f: skipped and counted, not a violation (PS3.8 D.2). */
	assert_int_equal(ui->n_unknown, 1);
	assert_int_equal(ui->unknown_types[0], 0x7f);
	assert_true(dm_assoc_mem(&a) < 4096);
	dm_assoc_free(&a);
}

static void test_ac(void **state)
{
	static const uint8_t ids[5] = {1, 3, 5, 7, 9}, results[5] = {0, 1, 2, 3, 4};
	static const char *const names[5] = {"acceptance", "user-rejection", "no-reason",
					     "abstract-syntax-not-supported",
					     "transfer-syntaxes-not-supported"};
	struct dm_assoc_info a;
	uint8_t ac[1024];
	size_t n = pdu_assoc_ac(ac, sizeof(ac), "PACS", "MOD", ids, results, 5, 16384);

	(void)state;
	assert_int_equal(dm_assoc_decode(ac, n, &a), 0);
	assert_clean(&a);
	assert_int_equal(a.type, DM_PDU_ASSOC_AC);
	assert_int_equal(a.n_pcs, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(a.pcs[i].id, ids[i]);
		assert_int_equal(a.pcs[i].result, results[i]);
		assert_int_equal(a.pcs[i].rsv[1], results[i]);
		assert_string_equal(dm_pc_result_name(a.pcs[i].result), names[i]);
		/* A transfer syntax in a rejected context: not significant, kept, no violation. */
		assert_int_equal(a.pcs[i].n_ts, 1);
		assert_int_equal(a.pcs[i].abstract, 0);
	}
	assert_string_equal(dm_pc_result_name(5), "reserved");
	assert_string_equal(dm_pc_result_name(255), "reserved");
	assert_string_equal(S(&a, a.ui.impl_uid), PDU_DCMTK_IMPL_UID);
	dm_assoc_free(&a);
}

static void test_ac_full_and_match(void **state)
{
	struct dm_assoc_info rq, ac;
	struct dm_violations v = {0};
	uint8_t rb[2048], ab[2048];
	size_t rn = ub_rq_full(rb, sizeof(rb)), an = ub_ac_full(ab, sizeof(ab));

	(void)state;
	assert_int_equal(dm_assoc_decode(rb, rn, &rq), 0);
	assert_int_equal(dm_assoc_decode(ab, an, &ac), 0);
	assert_clean(&ac);
	assert_int_equal(ac.pcs[1].result, 3);
	assert_int_equal(ac.ui.n_roles, 1);
	assert_int_equal(ac.ui.roles[0].scu, 1);
	assert_int_equal(ac.ui.roles[0].scp, 0);
	assert_true(ac.ui.has & DM_UI_IDENTITY_AC);
	assert_int_equal(ac.ui.id_server_response_len, strlen(UB_SECRET_RESP));
	assert_int_equal(ac.ui.async_invoked, 1);
	assert_int_equal(ac.ui.n_extneg, 1);
	assert_int_equal(ac.ui.extneg[0].info_len, 1);
	dm_assoc_match(&rq, &ac, &v);
	if (v.total)
		print_viol(&v);
	assert_int_equal(v.total, 0);
	dm_assoc_free(&rq);
	dm_assoc_free(&ac);
}

static int has_text(const struct dm_violations *v, enum dm_viol code, const char *needle)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (v->v[i].code == code && strstr(v->v[i].text, needle))
			return 1;
	return 0;
}

static void test_match_mismatch(void **state)
{
	static const char *const ts[] = {"1.2.840.10008.1.2"};
	struct dm_assoc_info rq, ac;
	struct dm_violations v = {0};
	uint8_t rb[1024], ab[1024], cd[16], cg[16];
	struct ub b;
	size_t pdu, ui, rn, an;

	(void)state;
	ub_ae16(cd, "PACS");
	ub_ae16(cg, "MOD");
	ub_init(&b, rb, sizeof(rb));
	pdu = ub_pdu_begin(&b, 1);
	ub_assoc_fixed(&b, cd, cg);
	ub_item_str(&b, 0x10, DM_APP_CONTEXT_DICOM);
	ub_pc_rq(&b, 1, 0xff, "1.2.840.10008.1.1", ts, 1);
	ub_pc_rq(&b, 3, 0xff, "1.2.840.10008.5.1.4.1.1.2", ts, 1);
	ui = ub_item_begin(&b, 0x50, 0);
	ub_sub_u32(&b, 0x51, 0);
	ub_item_str(&b, 0x52, "1.2.3");
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.2", 1, 0);
	ub_item_end(&b, ui);
	rn = ub_pdu_end(&b, pdu);

	ub_init(&b, ab, sizeof(ab));
	pdu = ub_pdu_begin(&b, 2);
	ub_assoc_fixed(&b, cd, cg);
	ub_item_str(&b, 0x10, DM_APP_CONTEXT_DICOM);
	ub_pc_ac(&b, 1, 0, "1.2.840.10008.1.2.1"); /* not offered */
	ub_pc_ac(&b, 7, 0, "1.2.840.10008.1.2");   /* never proposed; 3 unanswered */
	ui = ub_item_begin(&b, 0x50, 0);
	ub_sub_u32(&b, 0x51, 0);
	ub_item_str(&b, 0x52, "1.2.3");
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.2", 1, 1); /* SCP not proposed */
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.4", 1, 0); /* never proposed */
	ub_identity_ac(&b, "");
	ub_item_end(&b, ui);
	an = ub_pdu_end(&b, pdu);

	assert_int_equal(dm_assoc_decode(rb, rn, &rq), 0);
	assert_int_equal(dm_assoc_decode(ab, an, &ac), 0);
	assert_clean(&rq);
	assert_clean(&ac);
	dm_assoc_match(&rq, &ac, &v);
	if (v.total != 6)
		print_viol(&v);
	assert_true(has_text(&v, DM_V_PC_ITEM, "context 1: accepted transfer syntax not proposed"));
	assert_true(has_text(&v, DM_V_PC_ITEM, "context 7 answered, never proposed"));
	assert_true(has_text(&v, DM_V_PC_ITEM, "context 3 proposed, not answered"));
	assert_true(has_text(&v, DM_V_ROLE, "grants a role not proposed"));
	assert_true(has_text(&v, DM_V_ROLE, "answered, never proposed"));
	assert_true(has_text(&v, DM_V_USER_IDENTITY, "response without a request"));
	assert_int_equal(v.total, 6);
	/* Wrong way round: nothing to say. */
	memset(&v, 0, sizeof(v));
	dm_assoc_match(&ac, &rq, &v);
	assert_int_equal(v.total, 0);
	dm_assoc_free(&rq);
	dm_assoc_free(&ac);
}

static void test_rq_128(void **state)
{
	struct dm_assoc_info a;
	uint8_t *rq = malloc(65536);
	size_t n = pdu_assoc_rq_n(rq, 65536, "PACS", "STORESCU", 128);

	(void)state;
	assert_int_equal(dm_assoc_decode(rq, n, &a), 0);
	assert_clean(&a);
	assert_int_equal(a.n_pcs, 128);
	assert_int_equal(a.pcs[127].id, 255);
	for (int i = 0; i < 128; i++)
		assert_int_equal(a.pcs[i].n_ts, 2);
	/* 10 abstract syntaxes, 2 transfer syntaxes, app context, impl UID and name: stored once.
	 */
	assert_true(a.strs_len < 15 * 65);
	assert_true(dm_assoc_mem(&a) < 20 * 1024);
	dm_assoc_free(&a);
	free(rq);
}

/* Every prefix of a well-formed PDU decodes without a single violation. */
static void truncations(const uint8_t *p, size_t n)
{
	struct dm_assoc_info a;
	int err;

	for (size_t cut = 0; cut <= n; cut++) {
		err = dm_assoc_decode(p, cut, &a);
		if (cut < 74) {
			assert_int_equal(err, -EINVAL);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(a.truncated, cut < n);
			if (a.viol.total) {
				print_message("cut at %zu of %zu\n", cut, n);
				print_viol(&a.viol);
			}
			assert_int_equal(a.viol.total, 0);
		}
		dm_assoc_free(&a);
	}
}

static void test_truncated_every_byte(void **state)
{
	uint8_t *p = malloc(65536);
	size_t n;

	(void)state;
	n = ub_rq_full(p, 65536);
	truncations(p, n);
	n = ub_ac_full(p, 65536);
	truncations(p, n);
	n = pdu_assoc_rq_n(p, 65536, "PACS", "STORESCU", 40);
	truncations(p, n);
	free(p);
}

/* Split into chunks of every size from 1 to 97 and rebuild: same decode as whole. */
static void pieces(const uint8_t *p, size_t n)
{
	struct dm_assoc_info whole, rebuilt;
	struct dm_pdu_buf b = {0};
	char *jw, *jr;

	assert_int_equal(dm_assoc_decode(p, n, &whole), 0);
	jw = json_of(&whole);
	for (size_t chunk = 1; chunk < 98; chunk += chunk < 8 ? 1 : 9) {
		int r = DM_PIECE_MORE;

		for (size_t off = 0; off < n; off += chunk) {
			size_t k = n - off < chunk ? n - off : chunk;

			r = dm_pdu_buf_add(&b, p[0], (uint32_t)off, p + off, k, off == 0,
					   off + k == n);
		}
		assert_int_equal(r, DM_PIECE_DONE);
		assert_int_equal(b.len, n);
		assert_int_equal(dm_assoc_decode(b.data, b.len, &rebuilt), 0);
		jr = json_of(&rebuilt);
		assert_string_equal(jr, jw);
		free(jr);
		dm_assoc_free(&rebuilt);
	}
	free(jw);
	dm_assoc_free(&whole);
	dm_pdu_buf_free(&b);
}

static void test_pieces(void **state)
{
	uint8_t *p = malloc(65536);
	size_t n;

	(void)state;
	pieces(p, ub_rq_full(p, 65536));
	pieces(p, ub_ac_full(p, 65536));
	n = pdu_assoc_rq_n(p, 65536, "PACS", "STORESCU", 120);
	pieces(p, n);
	free(p);
}

static int contains(const void *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void no_secret(const void *p, size_t n)
{
	assert_false(contains(p, n, UB_SECRET_USER));
	assert_false(contains(p, n, UB_SECRET_PASS));
	assert_false(contains(p, n, UB_SECRET_RESP));
	/* Not even a fragment of them. */
	assert_false(contains(p, n, "alice"));
	assert_false(contains(p, n, "Pa55"));
	assert_false(contains(p, n, "KRB5"));
}

/* Identity bytes are copied nowhere: not the struct, the arena, the JSON, the violations. */
static void test_identity_never_copied(void **state)
{
	uint8_t rb[2048], ab[2048];
	size_t n;
	struct dm_assoc_info a;
	char *j;

	(void)state;
	/* Hostile variants too: the violation path must not quote them either. */
	for (int variant = 0; variant < 3; variant++) {
		n = ub_rq_full(rb, sizeof(rb));
		/* The 0x58 sub-item ends 10 bytes before the PDU (the 0x7f sub-item follows). */
		size_t slen_at = n - 10 - strlen(UB_SECRET_PASS) - 2;
		size_t type_at = slen_at - strlen(UB_SECRET_USER) - 4;

		assert_int_equal(rb[type_at], DM_ID_USERNAME_PASSCODE);
		if (variant == 1)
			rb[type_at] = 9; /* undefined type */
		if (variant == 2)
			rb[slen_at] = 0x7f; /* secondary length lies */
		assert_int_equal(dm_assoc_decode(rb, n, &a), 0);
		if (variant)
			assert_true(a.viol.total > 0);
		no_secret(&a, sizeof(a));
		no_secret(a.strs, a.strs_len);
		no_secret(a.pcs, a.n_pcs * sizeof(*a.pcs));
		j = json_of(&a);
		no_secret(j, strlen(j));
		free(j);
		dm_assoc_free(&a);
	}
	n = ub_ac_full(ab, sizeof(ab));
	assert_int_equal(dm_assoc_decode(ab, n, &a), 0);
	no_secret(&a, sizeof(a));
	no_secret(a.strs, a.strs_len);
	j = json_of(&a);
	no_secret(j, strlen(j));
	free(j);
	dm_assoc_free(&a);
}

static void test_identity_types(void **state)
{
	static const char *const names[] = {"reserved", "username", "username-passcode", "kerberos",
					    "saml",	"jwt",	    "reserved"};
	uint8_t buf[512], cd[16], cg[16];
	struct dm_assoc_info a;
	struct ub b;
	size_t pdu, ui, n;

	(void)state;
	ub_ae16(cd, "PACS");
	ub_ae16(cg, "MOD");
	for (uint8_t type = 0; type <= 6; type++) {
		static const char *const ts[] = {"1.2.840.10008.1.2"};

		assert_string_equal(dm_identity_type_name(type), names[type]);
		ub_init(&b, buf, sizeof(buf));
		pdu = ub_pdu_begin(&b, 1);
		ub_assoc_fixed(&b, cd, cg);
		ub_item_str(&b, 0x10, DM_APP_CONTEXT_DICOM);
		ub_pc_rq(&b, 1, 0xff, "1.2.840.10008.1.1", ts, 1);
		ui = ub_item_begin(&b, 0x50, 0);
		ub_sub_u32(&b, 0x51, 0);
		ub_item_str(&b, 0x52, "1.2.3");
		ub_identity(&b, type, 0, "eyJhbGciOiJIUzI1NiJ9.e30.x",
			    type == DM_ID_USERNAME_PASSCODE ? "pw" : NULL);
		ub_item_end(&b, ui);
		n = ub_pdu_end(&b, pdu);
		assert_int_equal(dm_assoc_decode(buf, n, &a), 0);
		assert_int_equal(a.ui.id_type, type);
		assert_int_equal(a.ui.id_primary_len, 26);
		assert_int_equal(a.ui.id_secondary, type == DM_ID_USERNAME_PASSCODE);
		assert_int_equal(a.viol.total, type >= 1 && type <= 5 ? 0 : 1);
		assert_int_equal(a.ui.id_positive_response, 0);
		dm_assoc_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rq_pktbuild),
	    cmocka_unit_test(test_rq_full),
	    cmocka_unit_test(test_ac),
	    cmocka_unit_test(test_ac_full_and_match),
	    cmocka_unit_test(test_match_mismatch),
	    cmocka_unit_test(test_rq_128),
	    cmocka_unit_test(test_truncated_every_byte),
	    cmocka_unit_test(test_pieces),
	    cmocka_unit_test(test_identity_never_copied),
	    cmocka_unit_test(test_identity_types),
	};

	return cmocka_run_group_tests_name("unit_assoc_decode", tests, NULL, NULL);
}
