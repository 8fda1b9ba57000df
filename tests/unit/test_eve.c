// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * EVE JSON records: the field names and JSON types of both kinds (a fixed
 * association), the alert's merge of details and association fields, and
 * hostile bytes from the wire (AE titles, UIDs, version names, rule details)
 * giving strict JSON in valid UTF-8.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/eve.h"
#include "recfix.h"

struct field {
	const char *name;
	enum json_type type;
};

/* o has exactly these keys (in this order when ordered), each of its type. */
static void check_fields(json_object *o, const struct field *want, int n, bool ordered)
{
	json_object *v;
	int i = 0, k;

	json_object_object_foreach(o, key, val)
	{
		for (k = 0; k < n && strcmp(want[k].name, key); k++)
			;
		if (k == n)
			fail_msg("unexpected field %s", key);
		if (ordered && k != i)
			fail_msg("field %s at %d, expected at %d", key, i, k);
		if (!json_object_is_type(val, want[k].type))
			fail_msg("field %s is %s, expected %s", key,
				 json_type_to_name(json_object_get_type(val)),
				 json_type_to_name(want[k].type));
		i++;
	}
	for (k = 0; k < n; k++)
		if (!json_object_object_get_ex(o, want[k].name, &v))
			fail_msg("missing field %s", want[k].name);
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static json_object *obj(json_object *o, const char *k)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static void check_timestamp(const char *t)
{
	/* 2026-11-22T01:02:03.123456+0000 */
	assert_int_equal(strlen(t), 31);
	assert_true(t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':' &&
		    t[19] == '.');
	assert_string_equal(t + 26, "+0000");
}

static const struct field common[] = {
    {"timestamp", json_type_string},  {"flow_id", json_type_int},   {"in_iface", json_type_string},
    {"event_type", json_type_string}, {"src_ip", json_type_string}, {"src_port", json_type_int},
    {"dest_ip", json_type_string},    {"dest_port", json_type_int}, {"proto", json_type_string},
    {"app_proto", json_type_string},  {"dicom", json_type_object},
};

static void test_dicom_record(void **state)
{
	static const struct field dicom[] = {
	    {"calling_ae", json_type_string},
	    {"called_ae", json_type_string},
	    {"transport", json_type_string},
	    {"tls_version", json_type_null},
	    {"outcome", json_type_string},
	    {"reject", json_type_null},
	    {"abort", json_type_null},
	    {"implementation", json_type_object},
	    {"max_pdu", json_type_object},
	    {"fingerprint", json_type_object},
	    {"user_identity", json_type_null},
	    {"presentation_contexts", json_type_array},
	    {"statuses", json_type_object},
	    {"move_destinations", json_type_array},
	    {"move_originators", json_type_array},
	    {"violations", json_type_array},
	    {"violations_total", json_type_int},
	    {"decode_incomplete", json_type_null},
	    {"candidate", json_type_boolean},
	    {"commands", json_type_object},
	    {"midstream", json_type_boolean},
	    {"end_reason", json_type_string},
	    {"pdus", json_type_object},
	    {"bytes_toserver", json_type_int},
	    {"bytes_toclient", json_type_int},
	    {"start", json_type_string},
	    {"end", json_type_string},
	    {"duration", json_type_double},
	};
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r = rf_echo(t, 1882514689884162ULL);
	json_object *o, *d, *x;

	(void)state;
	assert_non_null(r);
	o = dm_eve_dicom(r, "eth0");
	check_fields(o, common, sizeof(common) / sizeof(common[0]), true);
	check_timestamp(str(o, "timestamp"));
	assert_int_equal(json_object_get_int64(obj(o, "flow_id")), 1882514689884162LL);
	assert_string_equal(str(o, "in_iface"), "eth0");
	assert_string_equal(str(o, "event_type"), "dicom");
	assert_string_equal(str(o, "src_ip"), "10.0.0.1");
	assert_int_equal(json_object_get_int(obj(o, "src_port")), 40000);
	assert_string_equal(str(o, "dest_ip"), "10.0.0.2");
	assert_int_equal(json_object_get_int(obj(o, "dest_port")), 11112);
	assert_string_equal(str(o, "proto"), "TCP");
	assert_string_equal(str(o, "app_proto"), "dicom");
	d = obj(o, "dicom");
	check_fields(d, dicom, sizeof(dicom) / sizeof(dicom[0]), false);
	assert_string_equal(str(d, "calling_ae"), "MODALITY");
	assert_string_equal(str(d, "called_ae"), "PACS");
	assert_string_equal(str(d, "transport"), "cleartext");
	assert_string_equal(str(d, "outcome"), "released");
	assert_string_equal(str(d, "end_reason"), "fin");
	check_timestamp(str(d, "start"));
	check_timestamp(str(d, "end"));
	assert_int_equal(json_object_get_int(obj(obj(d, "commands"), "C-ECHO-RQ")), 1);
	assert_int_equal(json_object_get_int(obj(obj(d, "commands"), "C-ECHO-RSP")), 1);
	assert_int_equal(json_object_get_int(obj(obj(d, "statuses"), "success")), 1);
	x = obj(d, "pdus");
	assert_int_equal(json_object_get_int(obj(obj(x, "toserver"), "A-ASSOCIATE-RQ")), 1);
	assert_int_equal(json_object_get_int(obj(obj(x, "toclient"), "A-RELEASE-RP")), 1);
	assert_int_equal(json_object_get_int(obj(d, "bytes_toserver")), 301);
	assert_int_equal(json_object_get_int(obj(d, "bytes_toclient")), 212);
	x = obj(obj(d, "implementation"), "orig");
	assert_string_equal(str(x, "class_uid"), PDU_DCMTK_IMPL_UID);
	assert_string_equal(str(x, "version"), PDU_DCMTK_IMPL_VER);
	assert_false(json_object_object_get_ex(o, "vlan", NULL)); /* omitted when empty */
	json_object_put(o);
	dm_table_free(t);
}

static void test_vlan_and_ipv6(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	struct dm_event_hdr h = rf_hdr(9, 0, 5);
	struct dm_rec *r;
	json_object *o, *v;

	(void)state;
	h.key.family = 6;
	memset(h.key.addr, 0, sizeof(h.key.addr));
	h.key.addr[0][0] = htonl(0xfd000000);
	h.key.addr[0][3] = htonl(1);
	h.key.addr[1][0] = htonl(0xfd000000);
	h.key.addr[1][3] = htonl(2);
	h.key.vlan[0] = 100;
	h.key.vlan[1] = 20;
	h.init_side = 1; /* the initiator is key side 1: src */
	r = dm_table_get(t, &h);
	o = dm_eve_dicom(r, NULL);
	assert_string_equal(str(o, "src_ip"), "fd00::2");
	assert_int_equal(json_object_get_int(obj(o, "src_port")), 11112);
	assert_string_equal(str(o, "dest_ip"), "fd00::1");
	v = obj(o, "vlan");
	assert_int_equal(json_object_array_length(v), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 0)), 100);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 1)), 20);
	assert_false(json_object_object_get_ex(o, "in_iface", NULL));
	assert_true(json_object_is_type(obj(obj(o, "dicom"), "end"), json_type_null));
	json_object_put(o);
	dm_table_free(t);
}

static void test_alert_record(void **state)
{
	static const struct field alert[] = {
	    {"action", json_type_string},    {"gid", json_type_int},
	    {"signature_id", json_type_int}, {"rev", json_type_int},
	    {"signature", json_type_string}, {"category", json_type_string},
	    {"severity", json_type_int},
	};
	static const struct field afields[] = {
	    {"timestamp", json_type_string}, {"flow_id", json_type_int},
	    {"in_iface", json_type_string},  {"event_type", json_type_string},
	    {"src_ip", json_type_string},    {"src_port", json_type_int},
	    {"dest_ip", json_type_string},   {"dest_port", json_type_int},
	    {"proto", json_type_string},     {"app_proto", json_type_string},
	    {"alert", json_type_object},     {"dicom", json_type_object},
	};
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r = rf_echo(t, 77);
	json_object *d = json_object_new_object(), *o, *a, *x;
	struct dm_alert al = {.sid = 9100001,
			      .rev = 2,
			      .signature = "DICOM cleartext association",
			      .category = "Potential Corporate Privacy Violation",
			      .severity = 3,
			      .details = d,
			      .src_key = "10.0.0.1"};

	(void)state;
	json_object_object_add(d, "threshold", json_object_new_int(5));
	json_object_object_add(d, "calling_ae", json_object_new_string("not this"));
	o = dm_eve_alert(r, "eth1", &al);
	check_fields(o, afields, sizeof(afields) / sizeof(afields[0]), true);
	assert_string_equal(str(o, "event_type"), "alert");
	assert_int_equal(json_object_get_int64(obj(o, "flow_id")), 77);
	a = obj(o, "alert");
	check_fields(a, alert, sizeof(alert) / sizeof(alert[0]), true);
	assert_string_equal(str(a, "action"), "allowed");
	assert_int_equal(json_object_get_int(obj(a, "gid")), 1);
	assert_int_equal(json_object_get_int(obj(a, "signature_id")), 9100001);
	assert_int_equal(json_object_get_int(obj(a, "rev")), 2);
	assert_string_equal(str(a, "signature"), "DICOM cleartext association");
	assert_int_equal(json_object_get_int(obj(a, "severity")), 3);
	x = obj(o, "dicom");
	assert_int_equal(json_object_get_int(obj(x, "threshold")), 5);
	assert_string_equal(str(x, "calling_ae"), "MODALITY"); /* the association's wins */
	assert_string_equal(str(x, "called_ae"), "PACS");
	assert_string_equal(str(x, "transport"), "cleartext");
	assert_true(json_object_object_get_ex(x, "tls_version", NULL));
	json_object_put(o);

	/* No association (an alert about a source), no details. */
	al.details = NULL;
	o = dm_eve_alert(NULL, NULL, &al);
	assert_false(json_object_object_get_ex(o, "flow_id", NULL));
	assert_false(json_object_object_get_ex(o, "src_ip", NULL));
	assert_true(json_object_is_type(obj(o, "dicom"), json_type_object));
	check_timestamp(str(o, "timestamp"));
	json_object_put(o);
	dm_table_free(t);
}

static void test_utf8_fix(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"caf\xc3\xa9", "caf\xc3\xa9"},			  /* valid 2-byte */
	    {"\xe2\x82\xac", "\xe2\x82\xac"},			  /* valid 3-byte */
	    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},		  /* valid 4-byte */
	    {"\xff", "\\u00ff"},				  /* never valid */
	    {"\xc3", "\\u00c3"},				  /* truncated */
	    {"\xc3(", "\\u00c3("},				  /* bad continuation */
	    {"\xc0\xaf", "\\u00c0\\u00af"},			  /* overlong */
	    {"\xe0\x80\xaf", "\\u00e0\\u0080\\u00af"},		  /* overlong 3-byte */
	    {"\xed\xa0\x80", "\\u00ed\\u00a0\\u0080"},		  /* surrogate */
	    {"\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080"}, /* > U+10FFFF */
	    {"\xe2\x82", "\\u00e2\\u0082"},
	};
	char out[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dm_eve_utf8_fix(cases[i].in, strlen(cases[i].in), out);
		assert_string_equal(out, cases[i].out);
	}
}

/* Every line must parse strictly; returns it for more checks. */
static json_object *strict(json_object *rec)
{
	size_t n;
	char *line = dm_eve_line(rec, &n);
	json_object *back;

	assert_non_null(line);
	assert_int_equal(strlen(line), n);
	assert_null(strchr(line, '\n'));
	back = rf_strict_parse(line, n);
	if (!back)
		fail_msg("not strict JSON / UTF-8: %s", line);
	free(line);
	return back;
}

static void test_hostile_strings(void **state)
{
	struct dm_table *t = dm_table_new(16, 60);
	const struct dm_rec *r = rf_evil(t, 5);
	json_object *o, *back, *d = json_object_new_object(), *arr;
	char raw[sizeof(rf_evil_str) + 1];
	struct dm_alert al = {.sid = 9100003,
			      .rev = 1,
			      .signature = "DICOM invalid AE title",
			      .category = "Protocol Command Decode",
			      .severity = 2};

	(void)state;
	assert_non_null(r);
	assert_non_null(r->rq);
	assert_non_null(r->ac);
	o = dm_eve_dicom(r, "eth0");
	back = strict(o);
	/* The AE titles come through as dm_ae_string's \xHH text. */
	assert_non_null(strstr(str(obj(back, "dicom"), "calling_ae"), "\\x01"));
	assert_non_null(strstr(str(obj(back, "dicom"), "called_ae"), "\\xc0"));
	json_object_put(back);
	json_object_put(o);

	/* A rule's details may hold anything: raw bytes in values and in keys. */
	memcpy(raw, rf_evil_str, sizeof(rf_evil_str));
	raw[sizeof(rf_evil_str)] = 0;
	json_object_object_add(d, "value", json_object_new_string_len(raw, sizeof(rf_evil_str)));
	json_object_object_add(d, "\xff\x01key\"", json_object_new_string("\xc3\xa9\xc3"));
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string((const char *)"\x80\x80\\"));
	json_object_object_add(d, "list", arr);
	al.details = d;
	o = dm_eve_alert(r, "eth\xff", &al);
	back = strict(o);
	assert_string_equal(str(obj(back, "dicom"), "\xc3\xbf\x01key\""), "\xc3\xa9\xc3\x83");
	json_object_put(back);
	json_object_put(o);
	dm_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dicom_record),    cmocka_unit_test(test_vlan_and_ipv6),
	    cmocka_unit_test(test_alert_record),    cmocka_unit_test(test_utf8_fix),
	    cmocka_unit_test(test_hostile_strings),
	};

	return cmocka_run_group_tests_name("unit_eve", tests, NULL, NULL);
}
