// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * DIMSE command set decoding: every command field, every kept element,
 * status names and classes, fragments, truncation at every byte, hostile
 * element lists, and the guarantee that instance UIDs and error comments
 * are not kept.
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
#include "decode/cmdkeep.h"
#include "decode/decode_json.h"
#include "decode/dimse.h"
#include "lib/names.h"
#include "pktbuild.h"
#include "ulbuild.h"
#include "decode_views.h"

#define ERROR_COMMENT "DOE^JOHN MRN 4711"

static uint8_t buf[16384];
static struct ub b;
static struct ub_cmd c;
static struct dm_dimse_cmd d;

static void begin(uint8_t pcid, uint8_t mch)
{
	ub_init(&b, buf, sizeof(buf));
	ub_cmd_begin(&b, &c, pcid, mch, 1);
}

static size_t end(void)
{
	size_t n = ub_cmd_end(&b, &c);

	assert_int_equal(b.bad, 0);
	return n;
}

static void dump(void)
{
	for (unsigned int i = 0; i < d.viol.n; i++)
		print_message("  %s: %s\n", dm_viol_name(d.viol.v[i].code), d.viol.v[i].text);
}

static int has(enum dm_viol code, const char *needle)
{
	for (unsigned int i = 0; i < d.viol.n; i++)
		if (d.viol.v[i].code == code && strstr(d.viol.v[i].text, needle))
			return 1;
	return 0;
}

static void expect_n(size_t n, enum dm_viol code, const char *needle)
{
	(void)dm_dimse_decode(buf, n, &d);
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

static void expect_clean_n(size_t n)
{
	assert_int_equal(dm_dimse_decode(buf, n, &d), 0);
	if (d.viol.total)
		dump();
	assert_int_equal(d.viol.total, 0);
}

static void test_every_command(void **state)
{
	static const uint16_t fields[] = {0x0001, 0x0010, 0x0020, 0x0021, 0x0030, 0x0100,
					  0x0110, 0x0120, 0x0130, 0x0140, 0x0150};
	static const char *const names[] = {"C-STORE",	"C-GET",	  "C-FIND",  "C-MOVE",
					    "C-ECHO",	"N-EVENT-REPORT", "N-GET",   "N-SET",
					    "N-ACTION", "N-CREATE",	  "N-DELETE"};
	char want[32];

	(void)state;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (int rsp = 0; rsp < 2; rsp++) {
			uint16_t cmd = fields[i] | (rsp ? 0x8000 : 0);

			begin(1, 0x03);
			ub_cmd_valid(&b, cmd);
			expect_clean_n(end());
			assert_int_equal(d.command, cmd);
			assert_true(d.present & DM_DC_COMMAND);
			assert_true(d.complete);
			assert_false(d.truncated);
			snprintf(want, sizeof(want), "%s-%s", names[i], rsp ? "RSP" : "RQ");
			assert_string_equal(dm_dimse_name(cmd), want);
			assert_int_equal(rsp ? d.responded_to : d.message_id, 7);
			assert_int_equal(d.present & DM_DC_GROUP_LENGTH, DM_DC_GROUP_LENGTH);
			assert_int_equal(d.group_length, d.cmd_len - 12);
		}
	}
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0fff);
	expect_clean_n(end());
	assert_string_equal(dm_dimse_name(d.command), "C-CANCEL-RQ");
	assert_int_equal(d.responded_to, 7);
}

static void test_pktbuild_commands(void **state)
{
	static const uint16_t cmds[] = {DIMSE_C_ECHO, DIMSE_C_FIND, DIMSE_C_GET, DIMSE_C_MOVE,
					DIMSE_C_STORE};
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		n = pdu_pdata_command(buf, sizeof(buf), 5, cmds[i], PDU_UID_STUDY_MOVE, 42, 0,
				      cmds[i] == DIMSE_C_MOVE ? "EVIL_AE" : NULL,
				      cmds[i] != DIMSE_C_ECHO);
		assert_int_equal(dm_dimse_decode(buf, n, &d), 0);
		assert_int_equal(d.pc_id, 5);
		assert_int_equal(d.mch, 3);
		assert_int_equal(d.message_id, 42);
		assert_string_equal(d.affected_sop_class, PDU_UID_STUDY_MOVE);
		if (cmds[i] == DIMSE_C_STORE) {
			/* pktbuild's C-STORE-RQ has no Affected SOP Instance UID: say so. */
			assert_int_equal(d.viol.total, 1);
			assert_true(
			    has(DM_V_CMD_REQUIRED, "C-STORE-RQ without affected SOP instance UID"));
		} else {
			if (d.viol.total)
				dump();
			assert_int_equal(d.viol.total, 0);
		}
		if (cmds[i] != DIMSE_C_ECHO) {
			assert_int_equal(d.priority, DM_PRIORITY_MEDIUM);
			assert_string_equal(dm_priority_name(d.priority), "medium");
			assert_true(dm_dimse_has_data_set(&d));
		} else {
			assert_false(d.present & DM_DC_PRIORITY);
			assert_false(dm_dimse_has_data_set(&d));
		}
		n = pdu_pdata_command(buf, sizeof(buf), 5, cmds[i] | DIMSE_RSP, NULL, 42, 0xff00,
				      NULL, 0);
		expect_clean_n(n);
		assert_int_equal(d.responded_to, 42);
		assert_int_equal(d.status, 0xff00);
	}
	n = pdu_pdata_command(buf, sizeof(buf), 3, DIMSE_C_MOVE, PDU_UID_STUDY_MOVE, 1, 0,
			      "EVIL_AE", 1);
	expect_clean_n(n);
	assert_string_equal(d.move_destination.str, "EVIL_AE");
	assert_memory_equal(d.move_destination.raw, "EVIL_AE         ", 16);
	assert_int_equal(d.move_destination.flags, 0);
}

static void test_all_fields(void **state)
{
	json_object *o;
	const char *js;

	(void)state;
	/* C-MOVE-RSP pending, with every sub-operation counter. */
	begin(3, 0x03);
	ub_elem_str(&b, 0x0002, "1.2.840.10008.5.1.4.1.2.2.2", 0);
	ub_elem_us(&b, 0x0100, 0x8021);
	ub_elem_us(&b, 0x0120, 9);
	ub_elem_us(&b, 0x0800, 0x0101);
	ub_elem_us(&b, 0x0900, 0xff00);
	ub_elem_us(&b, 0x1020, 10);
	ub_elem_us(&b, 0x1021, 5);
	ub_elem_us(&b, 0x1022, 1);
	ub_elem_us(&b, 0x1023, 2);
	expect_clean_n(end());
	assert_int_equal(d.remaining, 10);
	assert_int_equal(d.completed, 5);
	assert_int_equal(d.failed, 1);
	assert_int_equal(d.warning, 2);
	assert_string_equal(dm_status_class(d.status), "pending");
	assert_string_equal(dm_status_name(d.command, d.status),
			    "Pending: Sub-operations are continuing");

	/* A C-STORE-RQ sub-operation of a C-MOVE: originator AE and message id. */
	begin(1, 0x03);
	ub_elem_str(&b, 0x0002, "1.2.840.10008.5.1.4.1.1.2", 0);
	ub_elem_us(&b, 0x0100, 0x0001);
	ub_elem_us(&b, 0x0110, 100);
	ub_elem_us(&b, 0x0700, DM_PRIORITY_LOW);
	ub_elem_us(&b, 0x0800, 0x0000);
	ub_elem_str(&b, 0x1000, UB_INSTANCE_UID, 0);
	ub_elem_str(&b, 0x1030, "MOVESCU", ' ');
	ub_elem_us(&b, 0x1031, 9);
	expect_clean_n(end());
	assert_string_equal(d.move_originator.str, "MOVESCU");
	assert_int_equal(d.move_orig_msg_id, 9);
	assert_string_equal(dm_priority_name(d.priority), "low");
	assert_string_equal(dm_priority_name(DM_PRIORITY_HIGH), "high");
	assert_null(dm_priority_name(3));
	assert_true(d.present & DM_DC_AFFECTED_INST);

	/* A failed C-STORE-RSP with error elements: presence and lengths only (allow-list). */
	begin(1, 0x03);
	ub_elem_str(&b, 0x0002, "1.2.840.10008.5.1.4.1.1.2", 0);
	ub_elem_us(&b, 0x0100, 0x8001);
	ub_elem_us(&b, 0x0120, 100);
	ub_elem_us(&b, 0x0800, 0x0101);
	ub_elem_us(&b, 0x0900, 0xa700);
	ub_elem(&b, 0x0901, "\x10\x00\x10\x00", 4);
	ub_elem_str(&b, 0x0902, ERROR_COMMENT, ' ');
	ub_elem_us(&b, 0x0903, 0xbeef);
	ub_elem_str(&b, 0x1000, UB_INSTANCE_UID, 0);
	expect_clean_n(end());
	assert_true(d.present & DM_DC_OFFENDING);
	assert_int_equal(d.error_comment_len, 18);
	assert_true(d.present & DM_DC_ERROR_ID);
	assert_null(memmem(&d, sizeof(d), "\xef\xbe", 2)); /* the error id: off the allow-list */
	assert_string_equal(dm_status_name(d.command, d.status), "Refused: Out of resources");
	/* Not kept: the instance UID and the comment appear nowhere, JSON included. */
	assert_null(memmem(&d, sizeof(d), UB_INSTANCE_UID, strlen(UB_INSTANCE_UID)));
	assert_null(memmem(&d, sizeof(d), "4711", 4));
	assert_null(memmem(&d, sizeof(d), "DOE", 3));
	o = dm_dimse_json(&d);
	js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_null(strstr(js, "12345678"));
	assert_null(strstr(js, "DOE"));
	assert_non_null(strstr(js, "\"error_comment_length\":18"));
	json_object_put(o);

	/* N-EVENT-REPORT and N-ACTION ids. */
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0100);
	expect_clean_n(end());
	assert_true(d.present & DM_DC_EVENT_TYPE);
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0130);
	expect_clean_n(end());
	assert_true(d.present & DM_DC_ACTION_TYPE);
	assert_string_equal(d.requested_sop_class, "1.2.840.10008.5.1.4.1.1.2");
}

/* The allow-list (issue 14): exactly these command elements' values may be shown. */
static void test_allow_list(void **state)
{
	static const uint16_t kept[] = {0x0000, 0x0002, 0x0003, 0x0100, 0x0110, 0x0120,
					0x0600, 0x0700, 0x0800, 0x0900, 0x1000, 0x1001,
					0x1020, 0x1021, 0x1022, 0x1023, 0x1030, 0x1031};
	uint32_t e, n = 0;

	(void)state;
	for (e = 0; e <= 0xffff; e++)
		n += dm_cmd_value_max((uint16_t)e) != 0;
	assert_int_equal(n, sizeof(kept) / sizeof(kept[0]));
	for (e = 0; e < sizeof(kept) / sizeof(kept[0]); e++)
		assert_true(dm_cmd_value_max(kept[e]) >= 2);
	assert_int_equal(dm_cmd_value_max(0x0902), 0); /* Error Comment */
	assert_int_equal(dm_cmd_value_max(0x0901), 0); /* Offending Element */
	assert_int_equal(dm_cmd_value_max(0x0903), 0); /* Error ID */
	assert_int_equal(dm_cmd_value_max(0x1005), 0); /* Attribute Identifier List */
	assert_int_equal(dm_cmd_value_max(0x0002), 64);
	assert_int_equal(dm_cmd_value_max(0x0600), 16);
	assert_int_equal(dm_cmd_value_max(0x0000), 4);
}

static void test_status(void **state)
{
	static const struct {
		uint16_t cmd, status;
		const char *cls, *name;
	} cases[] = {
	    {0x8030, 0x0000, "success", "Success"},
	    {0x8001, 0x0001, "warning", "Warning: Requested optional attributes are not supported"},
	    {0x8001, 0x0107, "warning", "Warning: Attribute list error"},
	    {0x8001, 0x0116, "warning", "Warning: Attribute value out of range"},
	    {0x8001, 0x0110, "failure", "Failure: Processing failure"},
	    {0x8001, 0x0122, "failure", "Refused: SOP class not supported"},
	    {0x8021, 0x0124, "failure", "Refused: Not authorized"},
	    {0x8001, 0x0211, "failure", "Failure: Unrecognized operation"},
	    {0x8001, 0xa700, "failure", "Refused: Out of resources"},
	    {0x8001, 0xa7ff, "failure", "Refused: Out of resources"},
	    {0x8001, 0xa900, "failure", "Error: Data set does not match SOP class"},
	    {0x8001, 0xb000, "warning", "Warning: Coercion of data elements"},
	    {0x8001, 0xb006, "warning", "Warning: Elements discarded"},
	    {0x8001, 0xb007, "warning", "Warning: Data set does not match SOP class"},
	    {0x8001, 0xc000, "failure", "Error: Cannot understand"},
	    {0x8001, 0xcfff, "failure", "Error: Cannot understand"},
	    {0x8020, 0xa700, "failure", "Refused: Out of resources"},
	    {0x8020, 0xc123, "failure", "Failed: Unable to process"},
	    {0x8020, 0xfe00, "cancel", "Cancel: Matching terminated due to cancel request"},
	    {0x8020, 0xff00, "pending", "Pending: Matches are continuing"},
	    {0x8020, 0xff01, "pending",
	     "Pending: Matches are continuing, optional keys not supported"},
	    {0x8021, 0xa701, "failure",
	     "Refused: Out of resources, unable to calculate number of matches"},
	    {0x8021, 0xa702, "failure",
	     "Refused: Out of resources, unable to perform sub-operations"},
	    {0x8021, 0xa801, "failure", "Refused: Move destination unknown"},
	    {0x8021, 0xb000, "warning", "Warning: Sub-operations complete, one or more failures"},
	    {0x8021, 0xff00, "pending", "Pending: Sub-operations are continuing"},
	    {0x8021, 0xfe00, "cancel",
	     "Cancel: Sub-operations terminated due to cancel indication"},
	    {0x8010, 0xa801, "failure", NULL}, /* no move destination in C-GET */
	    {0x8010, 0xaa02, "failure", "Failed: Unable to extract frames"},
	    {0x8030, 0xfe00, "cancel", "Cancel"},
	    {0x8030, 0xa801, "failure", NULL},
	    {0x8130, 0x4242, "failure", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *n = dm_status_name(cases[i].cmd, cases[i].status);

		assert_string_equal(dm_status_class(cases[i].status), cases[i].cls);
		if (cases[i].name)
			assert_string_equal(n, cases[i].name);
		else
			assert_null(n);
	}
}

static void test_hostile_elements(void **state)
{
	(void)state;
	begin(1, 0x03);
	ub_elem_us(&b, 0x0110, 1);
	ub_elem_us(&b, 0x0100, 0x0030);
	expect(DM_V_CMD_ORDER, "(0000,0100) after (0000,0110)");

	begin(1, 0x03);
	ub_elem_us(&b, 0x0100, 0x0030);
	ub_elem_us(&b, 0x0110, 1);
	ub_elem_us(&b, 0x0110, 2);
	ub_elem_us(&b, 0x0100, 0x0001);
	expect(DM_V_CMD_DUPLICATE, "(0000,0110) repeated");
	assert_true(has(DM_V_CMD_DUPLICATE, "(0000,0100) repeated"));
	assert_int_equal(d.message_id, 1); /* the first value stands */
	assert_int_equal(d.command, 0x0030);

	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	ub_le16(&b, 0x0008);
	ub_le16(&b, 0x0016);
	ub_le32(&b, 2);
	ub_str(&b, "12");
	expect(DM_V_CMD_ELEMENT, "(0008,0016) outside group 0000");

	begin(1, 0x03);
	ub_elem(&b, 0x0001, "\0\0\0\0", 4);
	ub_cmd_valid(&b, 0x0030);
	ub_elem(&b, 0x4000, "ab", 2);
	ub_elem(&b, 0x5555, "ab", 2);
	expect(DM_V_CMD_ELEMENT, "(0000,0001) is a retired ACR-NEMA element");
	assert_true(has(DM_V_CMD_ELEMENT, "(0000,4000) is a retired"));
	assert_true(has(DM_V_CMD_ELEMENT, "(0000,5555) is not a command element"));

	begin(1, 0x03);
	ub_elem(&b, 0x0002, "1.2.3", 5);
	ub_elem_us(&b, 0x0100, 0x0030);
	expect(DM_V_CMD_ELEMENT, "(0000,0002) odd length 5");

	begin(1, 0x03);
	ub_elem(&b, 0x0100, "\x30\x00\x00\x00", 4);
	ub_elem(&b, 0x0110, "\x01", 1);
	expect(DM_V_CMD_ELEMENT, "(0000,0100) length 4, US needs 2");
	assert_true(has(DM_V_CMD_ELEMENT, "(0000,0110) length 1, US needs 2"));
	assert_true(has(DM_V_CMD_FIELD, "no command field"));

	begin(1, 0x03);
	ub_elem(&b, 0x0901, "\x10\x00\x10\x00\x10\x00", 6);
	{
		char comment[66];

		memset(comment, 'A', sizeof(comment));
		ub_elem(&b, 0x0902, comment, sizeof(comment));
	}
	expect(DM_V_CMD_ELEMENT, "(0000,0901) length 6 not a multiple of 4");
	assert_true(has(DM_V_CMD_ELEMENT, "error comment length 66 exceeds 64"));

	/* An element whose length runs past the command set. */
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	ub_le16(&b, 0);
	ub_le16(&b, 0x0903);
	ub_le32(&b, 1000);
	ub_le16(&b, 1);
	expect(DM_V_CMD_ELEMENT, "(0000,0903) length 1000 exceeds the command set (2 left)");

	/* Undefined length (0xFFFFFFFF) of the first element. */
	begin(1, 0x03);
	ub_le16(&b, 0);
	ub_le16(&b, 0x0002);
	ub_le32(&b, 0xffffffff);
	ub_str(&b, "1.2");
	expect(DM_V_CMD_ELEMENT, "length 4294967295 exceeds");

	/* UIDs and AE titles. */
	begin(1, 0x03);
	ub_elem_str(&b, 0x0002, "1.2.840.10008.5.1.4.1.2.2.2.x", 0);
	ub_elem_us(&b, 0x0100, 0x0021);
	ub_elem_us(&b, 0x0110, 1);
	ub_elem_str(&b, 0x0600, "EVIL\x1b[0m\\AE", ' ');
	ub_elem_us(&b, 0x0700, 0);
	ub_elem_us(&b, 0x0800, 0);
	ub_elem_str(&b, 0x1030, "ORIGINATOR_LONGER", ' ');
	expect(DM_V_UID, "(0000,0002): UID byte not a digit or dot");
	assert_true(has(DM_V_AE_TITLE, "move destination AE title: ctrl,backslash"));
	assert_true(has(DM_V_CMD_ELEMENT, "move originator AE title length 18 exceeds 16"));
	assert_string_equal(d.move_destination.str, "EVIL\\x1b[0m\\x5cAE");
	assert_string_equal(d.move_originator.str, "ORIGINATOR_LONGE");
}

static void test_group_length(void **state)
{
	size_t n;

	(void)state;
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	n = end();
	buf[12 + 8] += 2;
	expect_n(n, DM_V_CMD_GROUP_LENGTH, "bytes of command follow it");

	ub_init(&b, buf, sizeof(buf));
	ub_cmd_begin(&b, &c, 1, 0x03, 0);
	ub_cmd_valid(&b, 0x0030);
	expect(DM_V_CMD_GROUP_LENGTH, "no command group length");

	ub_init(&b, buf, sizeof(buf));
	ub_cmd_begin(&b, &c, 1, 0x03, 0);
	ub_elem_str(&b, 0x0002, "1.2.840.10008.1.1", 0);
	ub_elem(&b, 0x0000, "\0\0\0\0", 4);
	ub_elem_us(&b, 0x0100, 0x0030);
	expect(DM_V_CMD_GROUP_LENGTH, "group length is not the first element");
	assert_true(has(DM_V_CMD_ORDER, "(0000,0000) after (0000,0002)"));

	ub_init(&b, buf, sizeof(buf));
	ub_cmd_begin(&b, &c, 1, 0x03, 0);
	ub_elem(&b, 0x0000, "\0\0", 2);
	expect(DM_V_CMD_ELEMENT, "(0000,0000) length 2, UL needs 4");
}

static void test_command_rules(void **state)
{
	size_t n;

	(void)state;
	begin(1, 0x03);
	ub_elem_us(&b, 0x0100, 0x1234);
	ub_elem_us(&b, 0x0800, 0x0101);
	expect(DM_V_CMD_FIELD, "command field 0x1234 unknown");

	begin(1, 0x03);
	ub_elem_str(&b, 0x0002, "1.2.840.10008.5.1.4.1.2.2.2", 0);
	ub_elem_us(&b, 0x0100, 0x0021);
	ub_elem_us(&b, 0x0110, 1);
	ub_elem_us(&b, 0x0700, 7);
	ub_elem_us(&b, 0x0800, 0x0101);
	expect(DM_V_CMD_REQUIRED, "C-MOVE-RQ without move destination");
	assert_true(has(DM_V_CMD_VALUE, "priority 0x0007 (0, 1 or 2)"));
	assert_true(has(DM_V_CMD_VALUE, "C-MOVE-RQ announces no identifier"));

	begin(1, 0x03);
	ub_elem_us(&b, 0x0100, 0x0030);
	ub_elem_us(&b, 0x0800, 0x0000);
	expect(DM_V_CMD_VALUE, "C-ECHO-RQ with a data set");
	assert_true(has(DM_V_CMD_REQUIRED, "C-ECHO-RQ without message ID"));
	assert_true(has(DM_V_CMD_REQUIRED, "C-ECHO-RQ without affected SOP class UID"));

	begin(1, 0x03);
	ub_elem_us(&b, 0x0100, 0x8030);
	expect(DM_V_CMD_REQUIRED, "C-ECHO-RSP without status");
	assert_true(has(DM_V_CMD_REQUIRED, "C-ECHO-RSP without message ID being responded to"));
	assert_true(has(DM_V_CMD_REQUIRED, "C-ECHO-RSP without command data set type"));

	begin(1, 0x03);
	ub_elem_us(&b, 0x0100, 0x0120);
	ub_elem_us(&b, 0x0110, 1);
	ub_elem_us(&b, 0x0800, 0x0101);
	expect(DM_V_CMD_REQUIRED, "N-SET-RQ without requested SOP class UID");
	assert_true(has(DM_V_CMD_REQUIRED, "N-SET-RQ without requested SOP instance UID"));

	/* A data set PDV after a command that announced none, in the same PDU. */
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	n = end();
	ub_be32(&b, 4);
	ub_u8(&b, 1);
	ub_u8(&b, 0x02);
	ub_be16(&b, 0);
	n = ub_pdu_end(&b, c.pdu);
	expect_n(n, DM_V_CMD_VALUE, "data set fragment after a command announcing none");
	assert_int_equal(d.data_pdvs_after, 1);
	assert_int_equal(d.n_pdvs, 2);
}

static void test_pdv(void **state)
{
	size_t n;

	(void)state;
	begin(1, 0x07);
	ub_cmd_valid(&b, 0x0030);
	expect(DM_V_PDATA, "message control header 0x07 has reserved bits set");
	assert_true(d.complete);

	begin(2, 0x03);
	ub_cmd_valid(&b, 0x0030);
	expect(DM_V_PDATA, "even presentation context id 2 in a PDV");

	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	n = end();
	ub_patch_be(&b, 6, 1, 4);
	expect_n(n, DM_V_PDATA, "PDV length 1 at offset 6 shorter than 2");
	assert_int_equal(dm_dimse_decode(buf, n, &d), -EINVAL);

	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	n = end();
	ub_patch_be(&b, 6, 5000, 4);
	expect_n(n, DM_V_PDATA, "PDV length 5000 at offset 6 exceeds the PDU");
	assert_true(d.present & DM_DC_COMMAND);

	/* A data set PDV first: not a command. */
	n = pdu_pdata_data(buf, sizeof(buf), 1, 64, 1);
	assert_int_equal(dm_dimse_decode(buf, n, &d), -ENODATA);
	assert_int_equal(d.viol.total, 0);

	/* Not a P-DATA-TF, too short, no room for a PDV, trailing bytes. */
	n = pdu_release_rq(buf, sizeof(buf));
	expect_n(n, DM_V_PDU_TYPE, "PDU type 0x05 is not P-DATA-TF");
	assert_int_equal(dm_dimse_decode(buf, n, &d), -EINVAL);
	expect_n(3, DM_V_PDU_SHORT, "3 bytes, not even a PDU header");
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	n = end();
	expect_n(11, DM_V_PDU_SHORT, "11 bytes, the first PDV header needs 12");
	ub_patch_be(&b, 2, 4, 4);
	expect_n(n, DM_V_PDU_LENGTH, "P-DATA-TF PDU-length 4 holds no PDV");
	ub_patch_be(&b, 2, (uint32_t)(n - 6), 4);
	expect_n(n + 3, DM_V_PDU_TRAILING, "3 bytes after the PDU");
	/* A PDV header cut by the PDU end after a complete command. */
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	n = end();
	ub_u8(&b, 0);
	ub_u8(&b, 0);
	n = ub_pdu_end(&b, c.pdu);
	expect_n(n, DM_V_PDATA, "PDV header cut by the PDU end at offset");
}

/* A command fragmented over PDVs of one PDU, and fragments out of sequence. */
static void test_fragments(void **state)
{
	uint8_t whole[512];
	size_t n, body, half, pdu;
	struct dm_dimse_cmd ref;

	(void)state;
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0021);
	n = end();
	assert_int_equal(dm_dimse_decode(buf, n, &ref), 0);
	memcpy(whole, buf + 12, n - 12);
	body = n - 12;
	half = body / 2 + 1;

	ub_init(&b, buf, sizeof(buf));
	pdu = ub_pdu_begin(&b, 4);
	ub_be32(&b, (uint32_t)(half + 2));
	ub_u8(&b, 1);
	ub_u8(&b, 0x01);
	ub_mem(&b, whole, half);
	ub_be32(&b, (uint32_t)(body - half + 2));
	ub_u8(&b, 1);
	ub_u8(&b, 0x03);
	ub_mem(&b, whole + half, body - half);
	n = ub_pdu_end(&b, pdu);
	expect_clean_n(n);
	assert_int_equal(d.n_pdvs, 2);
	assert_int_equal(d.cmd_len, body);
	assert_string_equal(d.move_destination.str, "STORESCP");
	assert_int_equal(d.present, ref.present);

	/* Only the first fragment in this PDU: incomplete, judged on what is there. */
	n = 6 + 6 + half;
	ub_patch_be(&b, 2, (uint32_t)(n - 6), 4);
	expect_clean_n(n);
	assert_false(d.complete);
	assert_int_equal(d.cmd_len, half);
	assert_true(d.present & DM_DC_AFFECTED_SOP); /* the command field is in the second half */
	assert_false(d.present & DM_DC_COMMAND);

	/* The second fragment on another context; a data fragment before the last. */
	ub_patch_be(&b, 2, (uint32_t)(b.n - 6), 4);
	buf[12 + half + 4] = 3;
	expect_n(b.n, DM_V_CMD_FRAGMENT, "command fragment on context 3 after 1");
	buf[12 + half + 4] = 1;
	buf[12 + half + 5] = 0x02;
	expect_n(b.n, DM_V_CMD_FRAGMENT, "data set fragment before the command's last fragment");
	/* A command fragment after the last one. */
	buf[12 + half + 5] = 0x03;
	buf[11] = 0x03;
	expect_n(b.n, DM_V_CMD_FRAGMENT, "command fragment after the command's last");
}

/* Every prefix of a well-formed head decodes without a violation. */
static void test_truncated_every_byte(void **state)
{
	static const uint16_t cmds[] = {0x0001, 0x8001, 0x0021, 0x8021, 0x0030, 0x0100, 0x0fff};
	struct dm_dimse old;
	size_t n;
	int err;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		begin(1, 0x03);
		ub_cmd_valid(&b, cmds[i]);
		n = end();
		for (size_t cut = 0; cut <= n; cut++) {
			err = dm_dimse_decode(buf, cut, &d);
			(void)dm_dimse_parse(buf, cut, &old);
			if (cut < 12) {
				assert_int_equal(err, -EINVAL);
				continue;
			}
			assert_int_equal(err, 0);
			assert_int_equal(d.truncated, cut < n);
			if (d.viol.total) {
				print_message("cut %zu of %zu\n", cut, n);
				dump();
			}
			assert_int_equal(d.viol.total, 0);
		}
	}
}

static void test_oversize(void **state)
{
	size_t n;

	(void)state;
	begin(1, 0x03);
	ub_cmd_valid(&b, 0x0030);
	for (int i = 0; i < 600; i++)
		ub_elem(&b, 0x5555, "12345678", 8);
	n = end();
	assert_true(n > DM_DIMSE_CMD_MAX + 12);
	assert_int_equal(dm_dimse_decode(buf, n, &d), 0);
	assert_true(d.truncated);
	assert_int_equal(d.cmd_len, DM_DIMSE_CMD_MAX);
	assert_int_equal(d.viol.n, DM_VIOL_KEEP);
}

static void test_parse_compat(void **state)
{
	struct dm_dimse old;
	size_t n;

	(void)state;
	n = pdu_pdata_command(buf, sizeof(buf), 7, 0x8021, NULL, 3, 0xa801, NULL, 0);
	assert_int_equal(dm_dimse_parse(buf, n, &old), 0);
	assert_int_equal(old.pc_id, 7);
	assert_int_equal(old.command, 0x8021);
	assert_int_equal(old.responded_to, 3);
	assert_int_equal(old.status, 0xa801);
	assert_int_equal(old.present, DM_DIMSE_HAS_RESP_TO | DM_DIMSE_HAS_STATUS);
	/* Cut before the command field: nothing yet. */
	assert_int_equal(dm_dimse_parse(buf, 20, &old), -ENODATA);
	n = pdu_pdata_data(buf, sizeof(buf), 1, 16, 0);
	assert_int_equal(dm_dimse_parse(buf, n, &old), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_command),    cmocka_unit_test(test_pktbuild_commands),
	    cmocka_unit_test(test_all_fields),	     cmocka_unit_test(test_status),
	    cmocka_unit_test(test_allow_list),
	    cmocka_unit_test(test_hostile_elements), cmocka_unit_test(test_group_length),
	    cmocka_unit_test(test_command_rules),    cmocka_unit_test(test_pdv),
	    cmocka_unit_test(test_fragments),	     cmocka_unit_test(test_truncated_every_byte),
	    cmocka_unit_test(test_oversize),	     cmocka_unit_test(test_parse_compat),
	};

	return cmocka_run_group_tests_name("unit_dimse", tests, NULL, NULL);
}
