// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A-ASSOCIATE-RQ/AC decoding of hostile PDUs, made by hand: lengths that lie,
 * items past the PDU end, zero-length items and sub-items, even, zero and
 * repeated context ids, 200 and 300 contexts, AE titles with control bytes,
 * backslashes and NULs, sub-items in the wrong PDU, and the memory bound.
 * Each case checks the violation code and the words of its reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "dicomon.h"
#include "decode/assoc_decode.h"
#include "ulbuild.h"

static const char *const TS1[] = {"1.2.840.10008.1.2"};

static uint8_t buf[1 << 20];
static struct ub b;
static size_t pdu_off;
static struct dm_assoc_info a;

/* Header and fixed part of an RQ (type 1) or AC (type 2). */
static void begin(uint8_t type)
{
	uint8_t cd[16], cg[16];

	ub_ae16(cd, "PACS");
	ub_ae16(cg, "MODALITY");
	ub_init(&b, buf, sizeof(buf));
	pdu_off = ub_pdu_begin(&b, type);
	ub_assoc_fixed(&b, cd, cg);
}

static void app_ctx(void)
{
	ub_item_str(&b, 0x10, DM_APP_CONTEXT_DICOM);
}

static void std_pc(uint8_t id)
{
	if (buf[0] == 1)
		ub_pc_rq(&b, id, 0xff, "1.2.840.10008.1.1", TS1, 1);
	else
		ub_pc_ac(&b, id, 0, TS1[0]);
}

static size_t ui_begin(void)
{
	size_t off = ub_item_begin(&b, 0x50, 0);

	ub_sub_u32(&b, 0x51, 16384);
	ub_item_str(&b, 0x52, "1.2.3.4");
	return off;
}

static void std_ui(void)
{
	ub_item_end(&b, ui_begin());
}

static size_t end(void)
{
	size_t n = ub_pdu_end(&b, pdu_off);

	assert_int_equal(b.bad, 0);
	return n;
}

static void dump(void)
{
	for (unsigned int i = 0; i < a.viol.n; i++)
		print_message("  %s: %s\n", dm_viol_name(a.viol.v[i].code), a.viol.v[i].text);
}

static int has(enum dm_viol code, const char *needle)
{
	for (unsigned int i = 0; i < a.viol.n; i++)
		if (a.viol.v[i].code == code && strstr(a.viol.v[i].text, needle))
			return 1;
	return 0;
}

/* Decode buf[0..n) and require a violation of code whose reason contains needle. */
static void expect_n(size_t n, enum dm_viol code, const char *needle)
{
	dm_assoc_free(&a);
	(void)dm_assoc_decode(buf, n, &a);
	if (!has(code, needle)) {
		print_message("wanted %s \"%s\", got:\n", dm_viol_name(code), needle);
		dump();
		fail();
	}
}

static void expect(enum dm_viol code, const char *needle)
{
	expect_n(end(), code, needle);
}

static void expect_clean(void)
{
	dm_assoc_free(&a);
	assert_int_equal(dm_assoc_decode(buf, end(), &a), 0);
	if (a.viol.total)
		dump();
	assert_int_equal(a.viol.total, 0);
}

static int teardown(void **state)
{
	(void)state;
	dm_assoc_free(&a);
	return 0;
}

static void test_lying_lengths(void **state)
{
	size_t pc, n;

	(void)state;
	/* A presentation context item claiming 300 bytes in a PDU that ends first. */
	begin(1);
	app_ctx();
	pc = b.n;
	std_pc(1);
	ub_patch_be(&b, pc + 2, 300, 2);
	expect(DM_V_ITEM_OVERRUN, "presentation context item at offset 99: length 300 exceeds");
	assert_int_equal(a.n_pcs, 1);
	assert_string_equal(dm_assoc_str(&a, a.pcs[0].abstract), "1.2.840.10008.1.1");

	/* A transfer syntax sub-item longer than its context. */
	begin(1);
	app_ctx();
	pc = b.n;
	std_pc(1);
	ub_patch_be(&b, b.n - 17 - 2, 200, 2);
	std_ui();
	expect(DM_V_ITEM_OVERRUN, "presentation context sub-item at offset");

	/* PDU-length larger than the bytes: a capture cut, not a violation. */
	begin(1);
	app_ctx();
	std_pc(1);
	std_ui();
	n = end();
	ub_patch_be(&b, 2, (uint32_t)(n - 6 + 1000), 4);
	dm_assoc_free(&a);
	assert_int_equal(dm_assoc_decode(buf, n, &a), 0);
	assert_true(a.truncated);
	assert_int_equal(a.viol.total, 0);

	/* PDU-length smaller than the items: trailing bytes, items cut. */
	ub_patch_be(&b, 2, (uint32_t)(n - 6 - 10), 4);
	expect_n(n, DM_V_PDU_TRAILING, "10 bytes after the PDU");
	assert_true(has(DM_V_ITEM_OVERRUN, "user information item"));

	/* PDU-length below the fixed part. */
	ub_patch_be(&b, 2, 20, 4);
	expect_n(n, DM_V_PDU_LENGTH, "PDU-length 20 shorter than the fixed part (68)");
	assert_int_equal(dm_assoc_decode(buf, n, &a), -EINVAL);
	assert_true(has(DM_V_PDU_SHORT, "26 bytes, the fixed part needs 74"));

	/* Too short for anything, wrong PDU type. */
	expect_n(5, DM_V_PDU_SHORT, "5 bytes, not even a PDU header");
	buf[0] = 3;
	expect_n(n, DM_V_PDU_TYPE, "PDU type 0x03 is not A-ASSOCIATE-RQ or -AC");
	assert_int_equal(a.type, 0);
	assert_int_equal(dm_assoc_decode(buf, n, &a), -EINVAL);
	assert_int_equal(dm_assoc_decode(NULL, 0, &a), -EINVAL);

	/* An item header cut by the PDU end. */
	begin(1);
	app_ctx();
	std_pc(1);
	std_ui();
	ub_u8(&b, 0x10);
	ub_u8(&b, 0);
	expect(DM_V_ITEM_HEADER, "item header at offset");

	/* A user information sub-item header cut inside its item. */
	begin(1);
	app_ctx();
	std_pc(1);
	pc = ui_begin();
	ub_u8(&b, 0x55);
	ub_item_end(&b, pc);
	expect(DM_V_ITEM_HEADER, "user information sub-item header cut");
}

static void test_zero_length(void **state)
{
	static const uint8_t subs[] = {0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58};
	static const char *const want[] = {"maximum length sub-item length 0",
					   "implementation class UID: empty UID",
					   "asynchronous operations window sub-item length 0",
					   "role selection: UID length 0",
					   "empty implementation version name",
					   "extended negotiation: UID length 0",
					   "common extended negotiation: SOP class UID",
					   "user identity sub-item length 0"};
	static const enum dm_viol codes[] = {DM_V_MAX_LENGTH, DM_V_UID,		 DM_V_SUBITEM,
					     DM_V_SUBITEM,    DM_V_IMPL_VERSION, DM_V_SUBITEM,
					     DM_V_SUBITEM,    DM_V_USER_IDENTITY};
	size_t off, ui;

	(void)state;
	begin(1);
	ub_item_str(&b, 0x10, "");
	std_pc(1);
	std_ui();
	expect(DM_V_UID, "application context name: empty UID");

	begin(1);
	app_ctx();
	ub_item_end(&b, ub_item_begin(&b, 0x20, 0));
	std_ui();
	expect(DM_V_PC_ITEM, "length 0 shorter than 4");

	begin(1);
	app_ctx();
	off = ub_item_begin(&b, 0x20, 0);
	ub_be32(&b, 0x01000000);
	ub_item_str(&b, 0x30, "");
	ub_item_str(&b, 0x40, "");
	ub_item_end(&b, off);
	std_ui();
	expect(DM_V_UID, "presentation context 1 abstract syntax: empty UID");
	assert_true(has(DM_V_UID, "presentation context 1 transfer syntax: empty UID"));

	begin(1);
	app_ctx();
	std_pc(1);
	ub_item_end(&b, ub_item_begin(&b, 0x50, 0));
	expect(DM_V_MAX_LENGTH, "no maximum length sub-item");
	assert_true(has(DM_V_IMPL_UID, "no implementation class UID sub-item"));

	for (size_t i = 0; i < sizeof(subs); i++) {
		begin(1);
		app_ctx();
		std_pc(1);
		ui = ub_item_begin(&b, 0x50, 0);
		if (subs[i] != 0x51)
			ub_sub_u32(&b, 0x51, 16384);
		if (subs[i] != 0x52)
			ub_item_str(&b, 0x52, "1.2.3.4");
		ub_item_end(&b, ub_item_begin(&b, subs[i], 0));
		ub_item_end(&b, ui);
		expect(codes[i], want[i]);
	}
	begin(2);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_item_end(&b, ub_item_begin(&b, 0x59, 0));
	ub_item_end(&b, ui);
	expect(DM_V_USER_IDENTITY, "user identity response length 0 shorter than 2");
}

static void test_pc_ids(void **state)
{
	(void)state;
	begin(1);
	app_ctx();
	std_pc(1);
	std_pc(4);
	std_pc(0);
	std_pc(3);
	std_pc(3);
	std_ui();
	expect(DM_V_PC_ID, "even presentation context id 4");
	assert_true(has(DM_V_PC_ID, "zero presentation context id 0"));
	assert_true(has(DM_V_PC_DUPLICATE, "duplicate presentation context id 3"));
	assert_int_equal(a.n_pcs, 5);
}

static void test_missing_and_repeated(void **state)
{
	size_t off;

	(void)state;
	begin(1);
	expect(DM_V_APP_CONTEXT, "no application context item");
	assert_true(has(DM_V_PC_MISSING, "no presentation context item"));
	assert_true(has(DM_V_USER_INFO, "no user information item"));

	begin(1);
	app_ctx();
	ub_item_str(&b, 0x10, "1.2.3.4");
	std_pc(1);
	std_ui();
	std_ui();
	expect(DM_V_APP_CONTEXT, "more than one application context item");
	assert_true(has(DM_V_USER_INFO, "more than one user information item"));

	begin(1);
	ub_item_str(&b, 0x10, "1.2.3.4");
	std_pc(1);
	std_ui();
	expect(DM_V_APP_CONTEXT, "not DICOM's 1.2.840.10008.3.1.1.1");

	/* A context without an abstract syntax, with two, without transfer syntax. */
	begin(1);
	app_ctx();
	ub_pc_rq(&b, 1, 0xff, NULL, TS1, 1);
	off = ub_item_begin(&b, 0x20, 0);
	ub_be32(&b, 0x03000000);
	ub_item_str(&b, 0x30, "1.2.840.10008.1.1");
	ub_item_str(&b, 0x30, "1.2.840.10008.1.1");
	ub_item_str(&b, 0x40, TS1[0]);
	ub_item_end(&b, off);
	ub_pc_rq(&b, 5, 0xff, "1.2.840.10008.1.1", NULL, 0);
	std_ui();
	expect(DM_V_PC_ITEM, "presentation context 1: no abstract syntax");
	assert_true(has(DM_V_PC_ITEM, "presentation context 3: more than one abstract syntax"));
	assert_true(has(DM_V_PC_ITEM, "presentation context 5: no transfer syntax"));
}

static void test_uids(void **state)
{
	static const char *const bad[] = {"1.2.840.10008.1.2a", "1.2.840.010008.1", "1..2"};
	char long_uid[80];

	(void)state;
	memset(long_uid, '1', 70);
	long_uid[1] = '.';
	long_uid[70] = 0;
	begin(1);
	app_ctx();
	ub_pc_rq(&b, 1, 0xff, long_uid, TS1, 1);
	ub_pc_rq(&b, 3, 0xff, "1.2.840.10008.1.1", bad, 3);
	std_ui();
	expect(DM_V_UID, "presentation context 1 abstract syntax: UID longer than 64 (length 70");
	assert_int_equal(strlen(dm_assoc_str(&a, a.pcs[0].abstract)), 64);
	assert_true(has(DM_V_UID, "UID byte not a digit or dot (length 18, at 17)"));
	assert_true(has(DM_V_UID, "leading zero"));
	assert_true(has(DM_V_UID, "empty UID component"));
	/* A NUL-padded UID is tolerated and stored without the pad. */
	begin(1);
	app_ctx();
	{
		size_t pc = ub_item_begin(&b, 0x20, 0), as;

		ub_be32(&b, 0x0100ff00);
		as = ub_item_begin(&b, 0x30, 0);
		ub_mem(&b, "1.2.840.10008.1.1\0", 18);
		ub_item_end(&b, as);
		ub_item_str(&b, 0x40, TS1[0]);
		ub_item_end(&b, pc);
	}
	std_ui();
	expect_clean();
	assert_string_equal(dm_assoc_str(&a, a.pcs[0].abstract), "1.2.840.10008.1.1");
	/* Bytes outside printable ASCII never reach the stored string. */
	begin(1);
	app_ctx();
	ub_pc_rq(&b, 1, 0xff, "1.2\x1b[31m\n", TS1, 1);
	std_ui();
	expect(DM_V_UID, "not a digit or dot");
	assert_string_equal(dm_assoc_str(&a, a.pcs[0].abstract), "1.2?[31m?");
}

static void test_protocol_version(void **state)
{
	(void)state;
	for (uint16_t v = 0; v < 4; v++) {
		begin(1);
		ub_patch_be(&b, 6, v, 2);
		app_ctx();
		std_pc(1);
		std_ui();
		dm_assoc_free(&a);
		assert_int_equal(dm_assoc_decode(buf, end(), &a), 0);
		assert_int_equal(a.protocol_version, v);
		assert_int_equal(has(DM_V_PROTOCOL_VERSION, "lacks bit 0"), !(v & 1));
	}
	/* Non-zero reserved bytes are recorded, not judged. */
	buf[50] = 0x41;
	expect_clean();
	assert_false(a.reserved_zero);
}

static void test_unknown_items(void **state)
{
	size_t ui;

	(void)state;
	begin(1);
	app_ctx();
	std_pc(1);
	ub_item_str(&b, 0x99, "x");
	ub_pc_ac(&b, 3, 0, TS1[0]);
	ui = ui_begin();
	ub_item_str(&b, 0x33, "x");
	for (int t = 0x5a; t <= 0x66; t++)
		ub_item_str(&b, (uint8_t)t, "future");
	ub_item_end(&b, ui);
	expect(DM_V_ITEM_UNKNOWN, "item type 0x99 at offset");
	assert_true(has(DM_V_ITEM_UNKNOWN, "item type 0x21 at offset"));
	assert_true(has(DM_V_ITEM_UNKNOWN, "user information sub-item type 0x33 (below 0x51)"));
	assert_int_equal(a.n_unknown_items, 2);
	assert_int_equal(a.unknown_item_types[0], 0x99);
	/* Types 0x5a..: counted, skipped, no violation. */
	assert_int_equal(a.ui.n_unknown, 14);
	assert_int_equal(a.ui.unknown_types[1], 0x5a);
	assert_int_equal(a.viol.total, 3);

	/* An unknown sub-item in a presentation context, and an RQ item in an AC. */
	begin(2);
	app_ctx();
	ub_pc_rq(&b, 1, 0xff, "1.2.840.10008.1.1", TS1, 1);
	ub_pc_ac(&b, 3, 0, TS1[0]);
	{
		size_t off = ub_item_begin(&b, 0x21, 0);

		ub_be32(&b, 0x05000000);
		ub_item_str(&b, 0x30, "1.2.840.10008.1.1");
		ub_item_str(&b, 0x41, "x");
		ub_item_str(&b, 0x40, TS1[0]);
		ub_item_end(&b, off);
	}
	std_ui();
	expect(DM_V_ITEM_UNKNOWN, "item type 0x20 at offset");
	assert_true(
	    has(DM_V_ITEM_UNKNOWN, "sub-item type 0x30 (abstract syntax) in an A-ASSOCIATE-AC"));
	assert_true(has(DM_V_ITEM_UNKNOWN, "presentation context 5: sub-item type 0x41"));
}

static void test_subitems_malformed(void **state)
{
	static const uint8_t info[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const char *const rel[] = {"1.2.3", "1.2.4"};
	size_t ui, off;

	(void)state;
	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_sub_u32(&b, 0x51, 1);			    /* repeated */
	ub_item_str(&b, 0x52, "1.2.5");			    /* repeated */
	ub_item_str(&b, 0x55, "NAME_LONGER_THAN_16_CHARS"); /* too long */
	ub_item_str(&b, 0x55, "X");			    /* repeated */
	ub_sub_u32(&b, 0x53, 1);
	ub_sub_u32(&b, 0x53, 1); /* repeated */
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.2", 2, 0);
	ub_role(&b, "1.2.840.10008.5.1.4.1.1.2", 1, 0); /* repeated for one class */
	ub_extneg(&b, "1.2.840.10008.5.1.4.1.2.2.1", info, sizeof(info));
	ub_extneg(&b, "1.2.840.10008.5.1.4.1.2.2.1", info, 1);
	ub_item_end(&b, ui);
	expect(DM_V_MAX_LENGTH, "maximum length sub-item repeated");
	assert_int_equal(a.ui.max_length, 16384); /* the first stands */
	assert_true(has(DM_V_IMPL_UID, "implementation class UID sub-item repeated"));
	assert_true(has(DM_V_IMPL_VERSION, "length 25 exceeds 16"));
	assert_string_equal(dm_assoc_str(&a, a.ui.impl_version), "NAME_LONGER_THAN");
	assert_true(has(DM_V_IMPL_VERSION, "implementation version name sub-item repeated"));
	assert_true(has(DM_V_SUBITEM, "asynchronous operations window sub-item repeated"));
	assert_true(has(DM_V_ROLE, "SCU/SCP values 2/0 (0 or 1)"));
	assert_true(has(DM_V_ROLE, "role selection repeated for one SOP class (0)"));
	assert_true(has(DM_V_SUBITEM, "extended negotiation repeated for one SOP class (0)"));
	assert_int_equal(a.ui.extneg[0].info_len, 20);
	assert_int_equal(a.ui.extneg[0].info_kept, DM_EXTNEG_INFO_KEEP);

	/* Lengths inside sub-items that lie. */
	begin(1);
	app_ctx();
	std_pc(1);
	ui = ub_item_begin(&b, 0x50, 0);
	ub_item_str(&b, 0x52, "1.2.3.4");
	off = ub_item_begin(&b, 0x51, 0);
	ub_be16(&b, 1);
	ub_item_end(&b, off);
	off = ub_item_begin(&b, 0x53, 0);
	ub_be16(&b, 1);
	ub_u8(&b, 1);
	ub_item_end(&b, off);
	off = ub_item_begin(&b, 0x54, 0);
	ub_be16(&b, 100);
	ub_str(&b, "1.2.3");
	ub_be16(&b, 0x0101);
	ub_item_end(&b, off);
	off = ub_item_begin(&b, 0x56, 0);
	ub_be16(&b, 100);
	ub_str(&b, "1.2.3");
	ub_item_end(&b, off);
	off = ub_item_begin(&b, 0x57, 0);
	ub_be16(&b, 3);
	ub_str(&b, "1.2");
	ub_be16(&b, 50);
	ub_item_end(&b, off);
	ub_item_end(&b, ui);
	expect(DM_V_MAX_LENGTH, "maximum length sub-item length 2 (4 expected)");
	assert_true(has(DM_V_SUBITEM, "asynchronous operations window sub-item length 3"));
	assert_true(
	    has(DM_V_SUBITEM, "role selection: UID length 100 does not fit sub-item length 9"));
	assert_true(
	    has(DM_V_SUBITEM, "extended negotiation: UID length 100 exceeds sub-item length 7"));
	assert_true(
	    has(DM_V_SUBITEM, "common extended negotiation: service class UID does not fit"));
	assert_false(a.ui.has & DM_UI_MAX_LENGTH);
	assert_false(a.ui.has & DM_UI_ASYNC);
	assert_int_equal(a.ui.n_roles, 0);
	assert_int_equal(a.ui.n_roles_seen, 1);

	/* Common extended negotiation: related classes length and entries that overrun. */
	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_cextneg(&b, "1.2.840.10008.5.1.4.1.1.88.22", "1.2.840.10008.4.2", rel, 2);
	b.p[b.n - 15] = 40; /* related length 14 -> 40 */
	off = ub_item_begin(&b, 0x57, 0);
	ub_be16(&b, 3);
	ub_str(&b, "1.2");
	ub_be16(&b, 3);
	ub_str(&b, "1.3");
	ub_be16(&b, 4);
	ub_be16(&b, 9);
	ub_str(&b, "1.");
	ub_item_end(&b, off);
	ub_item_end(&b, ui);
	expect(DM_V_SUBITEM, "related classes length 40, 14 bytes left");
	assert_true(has(DM_V_SUBITEM, "common extended negotiation: related class 0 overruns"));
	assert_int_equal(a.ui.cextneg[0].n_related, 2);

	/* 0x57 in an AC; 0x58 in an AC; 0x59 in an RQ. */
	begin(2);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_cextneg(&b, "1.2.3", "1.2.4", NULL, 0);
	ub_identity(&b, 1, 0, "x", NULL);
	ub_item_end(&b, ui);
	expect(DM_V_SUBITEM_PLACE, "common extended negotiation (0x57) in an A-ASSOCIATE-AC");
	assert_true(has(DM_V_SUBITEM_PLACE, "user identity request (0x58) in an A-ASSOCIATE-AC"));
	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_identity_ac(&b, "x");
	ub_item_end(&b, ui);
	expect(DM_V_SUBITEM_PLACE, "user identity response (0x59) in an A-ASSOCIATE-RQ");
}

static void test_identity_malformed(void **state)
{
	size_t ui, off;

	(void)state;
	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_identity(&b, 2, 2, "user", NULL);
	ub_identity(&b, 1, 0, "user", NULL);
	ub_item_end(&b, ui);
	expect(DM_V_USER_IDENTITY, "username-passcode identity without a passcode");
	assert_true(has(DM_V_USER_IDENTITY, "positive-response-requested 2 (0 or 1)"));
	assert_true(has(DM_V_USER_IDENTITY, "user identity sub-item repeated"));

	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	ub_identity(&b, 1, 0, "", "extra");
	ub_item_end(&b, ui);
	expect(DM_V_USER_IDENTITY, "secondary field with user identity type 1");
	assert_true(has(DM_V_USER_IDENTITY, "empty primary field"));

	/* A primary field length that runs past the sub-item. */
	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	off = ub_item_begin(&b, 0x58, 0);
	ub_u8(&b, 1);
	ub_u8(&b, 0);
	ub_be16(&b, 500);
	ub_str(&b, "user");
	ub_be16(&b, 0);
	ub_item_end(&b, off);
	ub_item_end(&b, ui);
	expect(DM_V_USER_IDENTITY, "primary field length 500 exceeds sub-item length 10");
	assert_int_equal(a.ui.id_primary_len, 500);
	assert_false(a.ui.id_secondary);

	/* Field lengths that do not add up; a response length that lies; repeated. */
	begin(2);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	off = ub_item_begin(&b, 0x59, 0);
	ub_be16(&b, 30);
	ub_str(&b, "short");
	ub_item_end(&b, off);
	ub_identity_ac(&b, "");
	ub_item_end(&b, ui);
	expect(DM_V_USER_IDENTITY, "server response length 30 does not match sub-item length 7");
	assert_true(has(DM_V_USER_IDENTITY, "user identity response sub-item repeated"));
	assert_int_equal(a.ui.id_server_response_len, 30);

	begin(1);
	app_ctx();
	std_pc(1);
	ui = ui_begin();
	off = ub_item_begin(&b, 0x58, 0);
	ub_u8(&b, 2);
	ub_u8(&b, 0);
	ub_be16(&b, 1);
	ub_u8(&b, 'u');
	ub_be16(&b, 1);
	ub_str(&b, "pw+junk");
	ub_item_end(&b, off);
	ub_item_end(&b, ui);
	expect(DM_V_USER_IDENTITY, "field lengths 1 + 1 do not match sub-item length 14");
}

static void test_ac_results(void **state)
{
	size_t off;

	(void)state;
	begin(2);
	app_ctx();
	ub_pc_ac(&b, 1, 5, TS1[0]);
	ub_pc_ac(&b, 3, 0, NULL);
	off = ub_item_begin(&b, 0x21, 0);
	ub_be32(&b, 0x05000000);
	ub_item_str(&b, 0x40, "1.2.840.10008.1.2");
	ub_item_str(&b, 0x40, "1.2.840.10008.1.2.1");
	ub_item_end(&b, off);
	off = ub_item_begin(&b, 0x21, 0);
	ub_be32(&b, 0x07000400);
	ub_item_str(&b, 0x40, "1.2.840.10008.1.2");
	ub_item_str(&b, 0x40, "1.2.840.10008.1.2.1");
	ub_item_end(&b, off);
	std_ui();
	expect(DM_V_PC_RESULT, "presentation context 1: result/reason 5 undefined");
	assert_true(
	    has(DM_V_PC_ITEM, "context 3 accepted with 0 transfer syntaxes (one required)"));
	assert_true(
	    has(DM_V_PC_ITEM, "context 5 accepted with 2 transfer syntaxes (one required)"));
	assert_true(has(DM_V_PC_ITEM, "context 7: 2 transfer syntaxes in an A-ASSOCIATE-AC"));

	/* A rejected context with an empty or absent transfer syntax is fine (Table 9-18). */
	begin(2);
	app_ctx();
	ub_pc_ac(&b, 1, 3, "");
	ub_pc_ac(&b, 3, 4, NULL);
	ub_pc_ac(&b, 5, 1, "garbage!");
	std_ui();
	expect_clean();
	assert_int_equal(a.pcs[0].n_ts, 0);
	assert_string_equal(dm_assoc_str(&a, a.pcs[2].ts[0]), "garbage!");
}

static void test_many_contexts(void **state)
{
	(void)state;
	/* 200 contexts: ids 1..255 then around again. */
	begin(1);
	app_ctx();
	for (int i = 0; i < 200; i++)
		std_pc((uint8_t)(2 * i + 1));
	std_ui();
	expect(DM_V_PC_TOO_MANY, "more than 128 presentation contexts");
	assert_true(has(DM_V_PC_DUPLICATE, "duplicate presentation context id 1"));
	assert_int_equal(a.n_pcs, 200);
	assert_int_equal(a.n_pcs_seen, 200);
	assert_int_equal(a.viol.total, 1 + 72);

	/* 300: 256 kept, the rest counted. One transfer syntax list of 20: 16 kept. */
	begin(1);
	app_ctx();
	for (int i = 0; i < 299; i++)
		std_pc((uint8_t)(2 * i + 1));
	{
		const char *ts[20];

		for (int i = 0; i < 20; i++)
			ts[i] = TS1[0];
		ub_pc_rq(&b, 99, 0xff, "1.2.840.10008.1.1", ts, 20);
	}
	std_ui();
	expect(DM_V_PC_TOO_MANY, "more than 128");
	assert_int_equal(a.n_pcs, DM_ASSOC_PC_KEEP);
	assert_int_equal(a.n_pcs_seen, 300);
	assert_int_equal(a.viol.n, DM_VIOL_KEEP);
	assert_true(a.viol.total > DM_VIOL_KEEP);

	begin(1);
	app_ctx();
	{
		const char *ts[20];

		for (int i = 0; i < 20; i++)
			ts[i] = TS1[0];
		ub_pc_rq(&b, 1, 0xff, "1.2.840.10008.1.1", ts, 20);
	}
	std_ui();
	expect_clean();
	assert_int_equal(a.pcs[0].n_ts, DM_ASSOC_TS_KEEP);
	assert_int_equal(a.pcs[0].n_ts_seen, 20);
}

static void test_ae_titles(void **state)
{
	static const struct {
		const char raw[17];
		const char *str, *why;
	} cases[] = {
	    {"EVIL\x1b[2J\r\n      ", "EVIL\\x1b[2J\\x0d\\x0a", "ctrl"},
	    {"PACS\\ADMIN      ", "PACS\\x5cADMIN", "backslash"},
	    {"\xff\xfe"
	     "PACS          ",
	     "\\xff\\xfePACS", "high"},
	    {"                ", "", "empty"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(strlen(cases[i].raw), 16);
		for (uint8_t type = 1; type <= 2; type++) {
			begin(type);
			memcpy(buf + 10, cases[i].raw, 16);
			memcpy(buf + 26, cases[i].raw, 16);
			app_ctx();
			std_pc(1);
			std_ui();
			dm_assoc_free(&a);
			assert_int_equal(dm_assoc_decode(buf, end(), &a), 0);
			assert_memory_equal(a.called.raw, cases[i].raw, 16);
			assert_string_equal(a.calling.str, cases[i].str);
			assert_true(a.called.flags & DM_AE_BAD);
			/* The AC's copies are "not tested" (PS3.8 Table 9-17). */
			assert_int_equal(has(DM_V_AE_TITLE, cases[i].why), type == 1);
			assert_int_equal(has(DM_V_AE_TITLE, "called AE title"), type == 1);
			assert_int_equal(has(DM_V_AE_TITLE, "calling AE title"), type == 1);
		}
	}
	/* NULs: embedded, and as padding. */
	begin(1);
	memcpy(buf + 10, "ADMIN\0\0\0EVIL    ", 16);
	memcpy(buf + 26, "MOD\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	app_ctx();
	std_pc(1);
	std_ui();
	expect(DM_V_AE_TITLE, "called AE title: nul");
	assert_true(has(DM_V_AE_TITLE, "calling AE title: nul_pad"));
	assert_string_equal(a.called.str, "ADMIN\\x00\\x00\\x00EVIL");
}

/*
 * Every cap filled with distinct 64-character UIDs, and as much again beyond
 * the caps: what is not kept takes no memory, and the total stays under the
 * bound assoc_decode.h documents.
 */
static void test_worst_case_memory(void **state)
{
	static char uids[8192][65];
	const char *ts[16];
	size_t ui, k = 0;
	int i, t;

	(void)state;
	for (i = 0; i < 8192; i++) {
		snprintf(uids[i], sizeof(uids[i]), "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.%d.",
			 i);
		memset(uids[i] + strlen(uids[i]), '9', 64 - strlen(uids[i]));
		uids[i][64] = 0;
	}
	begin(1);
	app_ctx();
	for (i = 0; i < 500; i++) {
		for (t = 0; t < 16; t++)
			ts[t] = uids[k++ % 8192];
		ub_pc_rq(&b, (uint8_t)(2 * i + 1), 0xff, uids[(i * 13 + 5) % 8192], ts, 16);
	}
	ui = ui_begin();
	for (i = 0; i < 200; i++) {
		ub_role(&b, uids[i], 1, 0);
		ub_extneg(&b, uids[1000 + i], (const uint8_t *)"abcdefghijkl", 12);
	}
	for (i = 0; i < 40; i++)
		ub_cextneg(&b, uids[2000 + i], uids[3000 + i], ts, 10);
	ub_item_end(&b, ui);
	dm_assoc_free(&a);
	assert_int_equal(dm_assoc_decode(buf, end(), &a), 0);
	assert_int_equal(a.n_pcs, DM_ASSOC_PC_KEEP);
	assert_int_equal(a.n_pcs_seen, 500);
	assert_int_equal(a.pcs[255].n_ts, DM_ASSOC_TS_KEEP);
	assert_int_equal(strlen(dm_assoc_str(&a, a.pcs[255].ts[15])), 64);
	assert_int_equal(a.ui.n_roles, DM_ASSOC_ROLE_KEEP);
	assert_int_equal(a.ui.n_roles_seen, 200);
	assert_int_equal(a.ui.n_extneg, DM_ASSOC_EXTNEG_KEEP);
	assert_int_equal(a.ui.n_cextneg, DM_ASSOC_CEXTNEG_KEEP);
	assert_int_equal(a.ui.n_cextneg_seen, 40);
	assert_int_equal(a.ui.cextneg[0].n_related, DM_ASSOC_RELATED_KEEP);
	assert_int_equal(a.ui.cextneg[0].n_related_seen, 10);
	if (getenv("DM_TEST_VERBOSE"))
		print_message("hostile RQ of %zu bytes: %zu heap bytes kept\n", b.n,
			      dm_assoc_mem(&a));
	assert_true(b.n > 600 * 1024);
	assert_true(dm_assoc_mem(&a) > 250 * 1024); /* the caps are really filled */
	assert_true(dm_assoc_mem(&a) < 330 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_lying_lengths, teardown),
	    cmocka_unit_test_teardown(test_zero_length, teardown),
	    cmocka_unit_test_teardown(test_pc_ids, teardown),
	    cmocka_unit_test_teardown(test_missing_and_repeated, teardown),
	    cmocka_unit_test_teardown(test_uids, teardown),
	    cmocka_unit_test_teardown(test_protocol_version, teardown),
	    cmocka_unit_test_teardown(test_unknown_items, teardown),
	    cmocka_unit_test_teardown(test_subitems_malformed, teardown),
	    cmocka_unit_test_teardown(test_identity_malformed, teardown),
	    cmocka_unit_test_teardown(test_ac_results, teardown),
	    cmocka_unit_test_teardown(test_many_contexts, teardown),
	    cmocka_unit_test_teardown(test_ae_titles, teardown),
	    cmocka_unit_test_teardown(test_worst_case_memory, teardown),
	};

	return cmocka_run_group_tests_name("unit_assoc_hostile", tests, NULL, NULL);
}
