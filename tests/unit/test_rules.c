// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Detection rules: each fires on a scenario made for it and stays quiet on
 * benign traffic. Records are built by feeding crafted PDUs through the
 * association table, as the daemon does; times are explicit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config/config.h"
#include "decode/dicomweb.h"
#include "output/eve.h"
#include "pktbuild.h"
#include "detect/policy.h"
#include "assoc/integrity.h"
#include "detect/rules.h"
#include "assoc/table.h"
#include "config/yaml_config.h"
#include "lib/names.h"

#define S(n) ((uint64_t)(n)*1000000000ull)

struct got {
	uint32_t sid;
	int sev;
	char details[512];
	char eve[1024]; /* alerts without a record: the whole EVE alert */
};

static struct got alerts[256];
static int n_alerts;

static void emit(void *ctx, const struct dm_rec *rec, const struct dm_alert *a)
{
	(void)ctx;
	(void)rec;
	assert_non_null(a->signature);
	assert_non_null(a->category);
	assert_true(a->severity >= 1 && a->severity <= 3);
	assert_non_null(a->src_key);
	if (n_alerts < 256) {
		alerts[n_alerts].sid = a->sid;
		alerts[n_alerts].sev = a->severity;
		snprintf(alerts[n_alerts].details, sizeof(alerts[0].details), "%s",
			 a->details ? json_object_to_json_string(a->details) : "");
		alerts[n_alerts].eve[0] = 0;
		if (!rec && a->pkt_key) {
			json_object *o = dm_eve_alert(NULL, "eth0", a);

			snprintf(alerts[n_alerts].eve, sizeof(alerts[0].eve), "%s",
				 json_object_to_json_string(o));
			json_object_put(o);
			n_alerts++;
			return;
		}
		n_alerts++;
	}
	json_object_put(a->details);
}

static int count(uint32_t sid)
{
	int i, n = 0;

	for (i = 0; i < n_alerts; i++)
		n += alerts[i].sid == sid;
	return n;
}

static const struct got *find(uint32_t sid)
{
	int i;

	for (i = n_alerts - 1; i >= 0; i--)
		if (alerts[i].sid == sid)
			return &alerts[i];
	return NULL;
}

static int worst(void)
{
	int i, w = 9;

	for (i = 0; i < n_alerts; i++)
		if (alerts[i].sev < w)
			w = alerts[i].sev;
	return w;
}

struct env {
	struct dm_config cfg;
	struct dm_table *t;
	struct dm_rules *r;
	char allow[64];
};

/* One connection: initiator src:sport -> acceptor dst:dport. */
struct conn {
	uint64_t id;
	const char *src, *dst;
	uint16_t sport, dport;
	int swap; /* put the initiator at key endpoint 1 (init_side 1) */
};

static struct dm_event_hdr hdr(const struct conn *c, uint8_t dir, uint64_t ts)
{
	struct dm_event_hdr h = {.type = DM_EV_PDU, .assoc_id = c->id, .dir = dir, .ts_ns = ts};
	int v6 = strchr(c->src, ':') != NULL, i = c->swap ? 1 : 0;

	h.key.family = v6 ? 6 : 4;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, c->src, h.key.addr[i]), 1);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, c->dst, h.key.addr[!i]), 1);
	h.key.port[i] = c->sport;
	h.key.port[!i] = c->dport;
	h.init_side = i;
	return h;
}

static struct dm_rec *feed(struct env *e, const struct conn *c, uint8_t dir, uint32_t ev,
			   const uint8_t *pdu, size_t len, struct dm_dimse_cmd *d)
{
	struct dm_event_piece *p = calloc(1, sizeof(*p) + DM_PIECE_MAX);
	const uint8_t *whole;
	struct dm_rec *r;
	size_t wlen;

	assert_true(len <= DM_PIECE_MAX);
	p->hdr = hdr(c, dir, 1000);
	p->hdr.type = ev;
	p->hdr.len = len;
	p->hdr.flags = DM_EF_FIRST | DM_EF_LAST;
	p->pdu_type = pdu[0];
	memcpy(p->data, pdu, len);
	r = dm_table_get(e->t, &p->hdr);
	assert_non_null(r);
	assert_int_equal(dm_table_piece(e->t, r, p, &whole, &wlen), 1);
	if (ev == DM_EV_DIMSE)
		dm_table_dimse(e->t, r, dir, whole, wlen, d);
	else
		dm_table_control_pdu(e->t, r, dir, whole, wlen);
	free(p);
	return r;
}

static struct dm_rec *rq(struct env *e, const struct conn *c, const char *called,
			 const char *calling, uint64_t now)
{
	struct pdu_pc pc = {1, PDU_UID_CT_STORAGE, {PDU_UID_IMPLICIT_LE}, 1};
	uint8_t p[1024];
	struct dm_rec *r;

	r = feed(e, c, 0, DM_EV_PDU, p,
		 pdu_assoc_rq(p, sizeof(p), called, calling, &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			      PDU_DCMTK_IMPL_VER),
		 NULL);
	dm_rules_assoc_rq(e->r, r, now);
	return r;
}

static struct dm_rec *ac(struct env *e, const struct conn *c, const char *called,
			 const char *calling, uint64_t now)
{
	uint8_t p[1024], ids[1] = {1}, res[1] = {0};
	struct dm_rec *r;

	r = feed(e, c, 1, DM_EV_PDU, p,
		 pdu_assoc_ac(p, sizeof(p), called, calling, ids, res, 1, 16384), NULL);
	dm_rules_assoc_ac(e->r, r, now);
	return r;
}

static void rj(struct env *e, const struct conn *c, uint8_t source, uint8_t reason, uint64_t now)
{
	uint8_t p[64];

	dm_rules_reject(
	    e->r, feed(e, c, 1, DM_EV_PDU, p, pdu_assoc_rj(p, sizeof(p), 1, source, reason), NULL),
	    now);
}

static void cmd(struct env *e, const struct conn *c, uint8_t dir, uint16_t command, uint16_t status,
		const char *move_dest, uint64_t now)
{
	struct dm_dimse_cmd d;
	uint8_t p[1024];
	struct dm_rec *r;

	r = feed(e, c, dir, DM_EV_DIMSE, p,
		 pdu_pdata_command(p, sizeof(p), 1, command, PDU_UID_STUDY_MOVE, 1, status,
				   move_dest, command == DIMSE_C_STORE),
		 &d);
	dm_rules_dimse(e->r, r, &d, now);
}

static void release(struct env *e, const struct conn *c)
{
	uint8_t p[64];

	feed(e, c, 0, DM_EV_PDU, p, pdu_release_rq(p, sizeof(p)), NULL);
	feed(e, c, 1, DM_EV_PDU, p, pdu_release_rp(p, sizeof(p)), NULL);
}

static int force_scanner; /* end(): as if the end-of-association fingerprint said nmap */

static void end(struct env *e, const struct conn *c, uint8_t state, uint64_t now)
{
	struct dm_event_flow f = {.hdr = hdr(c, 0, now), .reason = DM_END_FIN};
	struct dm_rec *r;

	f.hdr.type = DM_EV_FLOW_END;
	f.assoc.state = state;
	f.assoc.transport = DM_TRANSPORT_CLEARTEXT;
	r = dm_table_get(e->t, &f.hdr);
	dm_table_end(e->t, r, &f);
	if (force_scanner) {
		r->have_fp = true;
		r->fp.kind = DM_FP_SCANNER;
		snprintf(r->fp.name, sizeof(r->fp.name), "nmap (DICOM NSE scripts)");
	}
	dm_rules_end(e->r, r, now);
}

static void tls(struct env *e, const struct conn *c, uint8_t hs, uint16_t version, uint64_t now)
{
	struct dm_event_tls t = {.hdr = hdr(c, hs == 1 ? 0 : 1, now), .hs_type = hs};
	struct dm_rec *r;

	t.hdr.type = DM_EV_TLS;
	t.version = version;
	r = dm_table_get(e->t, &t.hdr);
	dm_table_tls(e->t, r, &t);
	dm_rules_tls(e->r, r, now);
}

static size_t put_el(uint8_t *p, uint16_t elem, const void *v, uint32_t len)
{
	p[0] = p[1] = 0;
	p[2] = elem & 0xff;
	p[3] = elem >> 8;
	memcpy(p + 4, &len, 4); /* little-endian host: the unit tests run on x86/arm64 LE */
	memcpy(p + 8, v, len);
	return 8 + len;
}

/*
 * A complete C-STORE-RQ (pdu_pdata_command leaves out the Affected SOP
 * Instance UID, which the decoder rightly calls a violation).
 */
static size_t store_rq(uint8_t *out)
{
	static const char cls[] = PDU_UID_CT_STORAGE, inst[] = "1.2.3.4.5.6.7.8";
	uint16_t field = DIMSE_C_STORE, id = 1, prio = 0, dst = 0;
	uint8_t cmd[256];
	uint32_t n = 12, gl, pdv;

	n += put_el(cmd + n, 0x0002, cls, (sizeof(cls) - 1 + 1) & ~1u);
	n += put_el(cmd + n, 0x0100, &field, 2);
	n += put_el(cmd + n, 0x0110, &id, 2);
	n += put_el(cmd + n, 0x0700, &prio, 2);
	n += put_el(cmd + n, 0x0800, &dst, 2);
	n += put_el(cmd + n, 0x1000, inst, (sizeof(inst) - 1 + 1) & ~1u);
	gl = n - 12;
	put_el(cmd, 0x0000, &gl, 4);
	pdv = n + 2;
	out[0] = 0x04;
	out[1] = 0;
	out[2] = (pdv + 4) >> 24, out[3] = (pdv + 4) >> 16, out[4] = (pdv + 4) >> 8;
	out[5] = pdv + 4;
	out[6] = pdv >> 24, out[7] = pdv >> 16, out[8] = pdv >> 8, out[9] = pdv;
	out[10] = 1;	/* presentation context */
	out[11] = 0x03; /* command, last fragment */
	memcpy(out + 12, cmd, n);
	return 12 + n;
}

/* A C-STORE association, released: what a modality does all day. */
static void store(struct env *e, const struct conn *c, const char *called, const char *calling,
		  uint64_t now)
{
	struct dm_dimse_cmd d;
	uint8_t p[512];

	rq(e, c, called, calling, now);
	ac(e, c, called, calling, now);
	dm_rules_dimse(e->r, feed(e, c, 0, DM_EV_DIMSE, p, store_rq(p), &d), &d, now);
	assert_int_equal(d.viol.total, 0);
	cmd(e, c, 1, DIMSE_C_STORE | DIMSE_RSP, 0, NULL, now);
	release(e, c);
	end(e, c, DM_STATE_RELEASED, now);
}

static const char *allow_yaml = "ae_titles:\n"
				"  - title: PACS\n"
				"    addresses: [10.0.0.2]\n"
				"  - title: MODALITY\n"
				"    addresses: [10.0.0.0/24, \"fd00::/64\"]\n"
				"  - title: STORESCP\n"
				"pairs:\n"
				"  - {calling: MODALITY, called: PACS}\n"
				"  - {calling: PACS, called: STORESCP}\n";

static void env_start(struct env *e, const char *set, const char *allow)
{
	char err[256];
	FILE *f;
	int fd;

	n_alerts = 0;
	dm_config_defaults(&e->cfg);
	e->allow[0] = 0;
	if (allow) {
		snprintf(e->allow, sizeof(e->allow), "/tmp/dm_allow_XXXXXX");
		fd = mkstemp(e->allow);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		fputs(allow, f);
		fclose(f);
		snprintf(e->cfg.ae_allowlist, sizeof(e->cfg.ae_allowlist), "%s", e->allow);
	}
	if (set)
		assert_int_equal(
		    dm_config_parse_yaml(&e->cfg, "t.yaml", set, strlen(set), err, sizeof(err)), 0);
	e->t = dm_table_new(DM_TABLE_DEFAULT_MAX, 60);
	e->r = dm_rules_new(&e->cfg, emit, NULL, err, sizeof(err));
	if (!e->r)
		fail_msg("%s", err);
}

static void env_stop(struct env *e)
{
	dm_rules_free(e->r);
	dm_table_free(e->t);
	if (e->allow[0])
		unlink(e->allow);
}

/* Benign: a store inside the imaging network between allow-listed titles. */
static void test_benign_store(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct env e;
	int i;

	(void)state;
	env_start(&e, NULL, allow_yaml);
	store(&e, &c, "PACS", "MODALITY", S(1));
	assert_int_equal(n_alerts, 1); /* the informational cleartext one only */
	assert_int_equal(find(DM_SID_CLEARTEXT)->sev, 3);
	assert_int_equal(worst(), 3);
	/* Many of them, from one modality, for a long time: still nothing above severity 3. */
	for (i = 0; i < 50; i++) {
		c.id = 100 + i;
		c.sport = 40001 + i;
		store(&e, &c, "PACS", "MODALITY", S(2 + i));
	}
	assert_int_equal(worst(), 3);
	assert_int_equal(count(DM_SID_CLEARTEXT), 51);
	env_stop(&e);
	/* With rule 1's informational alert disabled: silence. */
	env_start(&e, "rules: {disabled: [9100010]}\n", allow_yaml);
	c.id = 1;
	store(&e, &c, "PACS", "MODALITY", S(1));
	assert_int_equal(n_alerts, 0);
	env_stop(&e);
}

static void test_cleartext_policy(void **state)
{
	struct conn out = {1, "203.0.113.9", "10.0.0.2", 40000, 104, 0};
	struct conn in = {2, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct conn v6 = {3, "fd00::1", "2001:db8::7", 40000, 104, 1};
	struct env e;

	(void)state;
	env_start(&e, NULL, NULL);
	rq(&e, &out, "PACS", "MODALITY", S(1));
	assert_int_equal(find(DM_SID_CLEARTEXT)->sev, 1);
	assert_non_null(
	    strstr(find(DM_SID_CLEARTEXT)->details, "\"crosses_imaging_boundary\": true"));
	n_alerts = 0;
	rq(&e, &v6, "PACS", "MODALITY", S(1)); /* IPv6, initiator at key endpoint 1 */
	assert_int_equal(find(DM_SID_CLEARTEXT)->sev, 1);
	assert_int_equal(find(DM_SID_EXTERNAL)->sev, 2);
	assert_non_null(strstr(find(DM_SID_EXTERNAL)->details, "2001:db8::7"));
	assert_non_null(strstr(find(DM_SID_EXTERNAL)->details, "acceptor"));
	env_stop(&e);
	env_start(&e, "policy: {require_tls: true}\n", NULL);
	rq(&e, &in, "PACS", "MODALITY", S(1));
	assert_int_equal(find(DM_SID_CLEARTEXT)->sev, 2);
	env_stop(&e);
}

static void test_credentials(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct dm_rec *r;
	struct env e;
	uint8_t p[1024];
	struct pdu_pc pc = {1, PDU_UID_CT_STORAGE, {PDU_UID_IMPLICIT_LE}, 1};

	(void)state;
	env_start(&e, NULL, NULL);
	r = feed(&e, &c, 0, DM_EV_PDU, p,
		 pdu_assoc_rq(p, sizeof(p), "PACS", "MODALITY", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			      PDU_DCMTK_IMPL_VER),
		 NULL);
	r->rq->ui.has |= DM_UI_IDENTITY_RQ; /* username + passcode, as decoded */
	r->rq->ui.id_type = DM_ID_USERNAME_PASSCODE;
	r->rq->ui.id_secondary = 1;
	r->rq->ui.id_primary_len = 5;
	dm_rules_assoc_rq(e.r, r, S(1));
	assert_int_equal(count(DM_SID_CLEARTEXT_CREDS), 1);
	assert_int_equal(find(DM_SID_CLEARTEXT_CREDS)->sev, 1);
	assert_string_equal(find(DM_SID_CLEARTEXT_CREDS)->details,
			    "{ \"identity_type\": \"username-passcode\", \"passcode\": true }");
	/* Without identity negotiation: nothing. */
	c.id = 2;
	n_alerts = 0;
	rq(&e, &c, "PACS", "MODALITY", S(2));
	assert_int_equal(count(DM_SID_CLEARTEXT_CREDS), 0);
	env_stop(&e);
}

static void test_invalid_ae(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct env e;

	(void)state;
	env_start(&e, NULL, NULL);
	rq(&e, &c, "PACS", "EVIL\\AE", S(1));
	assert_int_equal(count(DM_SID_INVALID_AE), 1);
	assert_non_null(strstr(find(DM_SID_INVALID_AE)->details, "backslash"));
	c.id = 2;
	rq(&e, &c, "\x01PACS", "OK", S(1));
	assert_int_equal(count(DM_SID_INVALID_AE), 2);
	assert_non_null(strstr(find(DM_SID_INVALID_AE)->details, "ctrl"));
	c.id = 3;
	rq(&e, &c, "                ", "OK", S(1));
	assert_int_equal(count(DM_SID_INVALID_AE), 3);
	c.id = 4;
	rq(&e, &c, "PACS", "MODALITY", S(1));
	assert_int_equal(count(DM_SID_INVALID_AE), 3);
	env_stop(&e);
}

static void test_allowlist_rules(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct env e;

	(void)state;
	env_start(&e, NULL, allow_yaml);
	store(&e, &c, "PACS", "MODALITY", S(1));
	assert_int_equal(count(DM_SID_UNKNOWN_AE) + count(DM_SID_AE_SPOOF), 0);
	c.id = 2;
	store(&e, &c, "PACS", "INTRUDER", S(2));
	assert_int_equal(count(DM_SID_UNKNOWN_AE), 1);
	assert_non_null(strstr(find(DM_SID_UNKNOWN_AE)->details, "INTRUDER"));
	/* A known title from an address it is not bound to. */
	c = (struct conn){3, "10.9.9.9", "10.0.0.2", 40000, 104, 0};
	store(&e, &c, "PACS", "MODALITY", S(3));
	assert_int_equal(count(DM_SID_AE_SPOOF), 1);
	assert_int_equal(find(DM_SID_AE_SPOOF)->sev, 1);
	/* IPv6 binding. */
	c = (struct conn){4, "fd00::5", "10.0.0.2", 40000, 104, 0};
	c.dst = "fd00::2";
	n_alerts = 0;
	store(&e, &c, "STORESCP", "MODALITY", S(4)); /* STORESCP: any address; pair not allowed */
	assert_int_equal(count(DM_SID_AE_SPOOF), 0);
	assert_int_equal(count(DM_SID_UNKNOWN_PAIR), 1);
	/* C-MOVE to a destination outside the list, and to one inside. */
	c = (struct conn){5, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	n_alerts = 0;
	rq(&e, &c, "PACS", "MODALITY", S(5));
	ac(&e, &c, "PACS", "MODALITY", S(5));
	cmd(&e, &c, 0, DIMSE_C_MOVE, 0, "STORESCP", S(5));
	assert_int_equal(count(DM_SID_MOVE_UNKNOWN), 0);
	cmd(&e, &c, 0, DIMSE_C_MOVE, 0, "EXFIL", S(5));
	assert_int_equal(count(DM_SID_MOVE_UNKNOWN), 1);
	assert_non_null(strstr(find(DM_SID_MOVE_UNKNOWN)->details, "EXFIL"));
	env_stop(&e);
}

static void test_learning(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct dm_ae_reg g;
	char *text = NULL, err[256];
	size_t len = 0;
	struct env e;
	FILE *f;

	(void)state;
	env_start(&e, "rules: {learn_seconds: 100}\n", NULL);
	store(&e, &c, "PACS", "MODALITY", S(1));
	c.id = 2;
	rq(&e, &c, "PACS", "MODALITY", S(2));
	ac(&e, &c, "PACS", "MODALITY", S(2));
	cmd(&e, &c, 0, DIMSE_C_MOVE, 0, "WORKSTATION", S(2));
	c.id = 3;
	store(&e, &c, "PACS", "NEWCOMER", S(50)); /* still learning */
	assert_int_equal(count(DM_SID_UNKNOWN_AE) + count(DM_SID_MOVE_UNKNOWN), 0);
	assert_int_equal(dm_rules_stats(e.r)->learned_titles, 4);
	/* After the learning period. */
	c.id = 4;
	store(&e, &c, "PACS", "MODALITY", S(200));
	assert_int_equal(count(DM_SID_UNKNOWN_AE) + count(DM_SID_AE_SPOOF), 0);
	c.id = 5;
	store(&e, &c, "PACS", "STRANGER", S(201));
	assert_int_equal(count(DM_SID_UNKNOWN_AE), 1);
	c.id = 6;
	rq(&e, &c, "PACS", "MODALITY", S(202));
	ac(&e, &c, "PACS", "MODALITY", S(202));
	cmd(&e, &c, 0, DIMSE_C_MOVE, 0, "WORKSTATION", S(202));
	assert_int_equal(count(DM_SID_MOVE_UNKNOWN), 0);
	cmd(&e, &c, 0, DIMSE_C_MOVE, 0, "ELSEWHERE", S(202));
	assert_int_equal(count(DM_SID_MOVE_UNKNOWN), 1);
	/* The learned list, written and read back. */
	f = open_memstream(&text, &len);
	assert_int_equal(dm_rules_write_allowlist(e.r, f), 0);
	fclose(f);
	assert_int_equal(dm_ae_reg_init(&g), 0);
	if (dm_ae_reg_parse(&g, "learned.yaml", text, len, err, sizeof(err)))
		fail_msg("%s\n%s", err, text);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.n_pairs, 2);
	assert_non_null(dm_ae_reg_find(&g, "MODALITY"));
	assert_int_equal(dm_ae_reg_find(&g, "MODALITY")->n_bind, 1);
	assert_non_null(strstr(text, "\"10.0.0.1\""));
	assert_true(
	    dm_ae_reg_has_pair(&g, dm_ae_reg_find(&g, "MODALITY"), dm_ae_reg_find(&g, "PACS")));
	assert_int_equal(dm_ae_reg_find(&g, "WORKSTATION")->n_bind, 0);
	dm_ae_reg_free(&g);
	free(text);
	env_stop(&e);
	/* learn_seconds 0 and no list: rule 4 is off. */
	env_start(&e, NULL, NULL);
	c.id = 1;
	store(&e, &c, "PACS", "ANYONE", S(1000));
	assert_int_equal(count(DM_SID_UNKNOWN_AE), 0);
	env_stop(&e);
}

static void test_allowlist_file(void **state)
{
	struct dm_ae_reg g, back;
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f;
	static const struct {
		const char *doc, *where, *what;
	} bad[] = {
	    {"ae_titles:\n  - title: A\n    addresses: [10.0.0.300]\n",
	     "x.yaml:3:17:", "not an address"},
	    {"ae_titles:\n  - title: A\n  - title: A\n",
	     "x.yaml:3:12:", "listed twice (first on line 2)"},
	    {"ae_titles:\n  - title: "
	     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n",
	     "x.yaml:2:12:", "longer than 16"},
	    {"ae_titles:\n  - titel: A\n", "x.yaml:2:5:", "unknown key 'titel'"},
	    {"pairs:\n  - {calling: A}\n", "x.yaml:2:5:", "needs both"},
	    {"ae_title: []\n", "x.yaml:1:1:", "unknown key 'ae_title'"},
	    {"ae_titles: [\n", "x.yaml:2:1:", "YAML syntax error"},
	    {"- a\n", "x.yaml:1:1:", "expected a mapping"},
	    {"ae_titles:\n  - title: \" PAD\"\n", "x.yaml:2:12:", "spaces"},
	};
	size_t i;

	(void)state;
	assert_int_equal(dm_ae_reg_init(&g), 0);
	assert_int_equal(dm_ae_reg_init(&back), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(
		    dm_ae_reg_parse(&g, "x.yaml", bad[i].doc, strlen(bad[i].doc), err, sizeof(err)),
		    -EINVAL);
		if (strncmp(err, bad[i].where, strlen(bad[i].where)) || !strstr(err, bad[i].what))
			fail_msg("case %zu: got '%s', want '%s ... %s'", i, err, bad[i].where,
				 bad[i].what);
		assert_int_equal(g.n, 0); /* a failed load leaves nothing half-loaded */
	}
	assert_int_equal(dm_ae_reg_load(&g, "/nonexistent/allow.yaml", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/allow.yaml"));
	/* Titles with quotes, '#', ':' and escaped bytes survive the round trip. */
	const char *doc = "ae_titles:\n"
			  "  - title: 'Q\"T#1: x'\n"
			  "    addresses: [192.0.2.0/24, 2001:db8::/32, 192.0.2.9]\n"
			  "  - title: \"B\\\\x5cS\"\n"
			  "pairs: [{calling: 'Q\"T#1: x', called: \"B\\\\x5cS\"}]\n";
	if (dm_ae_reg_parse(&g, "x.yaml", doc, strlen(doc), err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(g.n, 2);
	assert_non_null(dm_ae_reg_find(&g, "B\\x5cS"));
	f = open_memstream(&text, &len);
	assert_int_equal(dm_ae_reg_write(&g, f), 0);
	fclose(f);
	if (dm_ae_reg_parse(&back, "w.yaml", text, len, err, sizeof(err)))
		fail_msg("%s\n%s", err, text);
	assert_int_equal(back.n, 2);
	assert_int_equal(dm_ae_reg_find(&back, "Q\"T#1: x")->n_bind, 3);
	assert_true(dm_ae_reg_has_pair(&back, dm_ae_reg_find(&back, "Q\"T#1: x"),
				       dm_ae_reg_find(&back, "B\\x5cS")));
	free(text);
	dm_ae_reg_free(&g);
	dm_ae_reg_free(&back);
}

static void test_enumeration(void **state)
{
	struct conn c = {1, "10.0.0.66", "10.0.0.2", 40000, 104, 0};
	char called[17];
	struct env e;
	int i;

	(void)state;
	env_start(&e, "rules: {enum_called_aes: 32}\n", NULL);
	/* nmap dicom-brute: rejects "called AE title not recognized" (1/1/7). */
	for (i = 0; i < 9; i++) {
		c.id = 10 + i;
		rq(&e, &c, "PACS", "ECHOSCU", S(1 + i));
		rj(&e, &c, 1, 7, S(1 + i));
	}
	assert_int_equal(count(DM_SID_ENUM_REJECTS), 0);
	c.id = 19;
	rq(&e, &c, "PACS", "ECHOSCU", S(10));
	rj(&e, &c, 1, 7, S(10));
	assert_int_equal(count(DM_SID_ENUM_REJECTS), 1);
	c.id = 20;
	rj(&e, &c, 1, 3, S(11)); /* fired once per window */
	assert_int_equal(count(DM_SID_ENUM_REJECTS), 1);
	/* Rejects for other reasons (congestion) are not enumeration. */
	c.src = "10.0.0.67";
	for (i = 0; i < 30; i++) {
		c.id = 100 + i;
		rj(&e, &c, 3, 1, S(20));
	}
	assert_int_equal(count(DM_SID_ENUM_REJECTS), 1);
	/* Slow rejects, one every 10 s: never 10 in 60 s. */
	c.src = "10.0.0.68";
	for (i = 0; i < 30; i++) {
		c.id = 200 + i;
		rj(&e, &c, 1, 7, S(100 + 10 * i));
	}
	assert_int_equal(count(DM_SID_ENUM_REJECTS), 1);
	env_stop(&e);
	/* Distinct called AE titles from one source. */
	env_start(&e, NULL, NULL);
	c.src = "10.0.0.66";
	for (i = 0; i < 10; i++) {
		snprintf(called, sizeof(called), "GUESS%d", i);
		c.id = 300 + i;
		rq(&e, &c, called, "ECHOSCU", S(1));
	}
	assert_int_equal(count(DM_SID_ENUM_CALLED), 1);
	assert_non_null(strstr(find(DM_SID_ENUM_CALLED)->details, "\"count\": 10"));
	env_stop(&e);
}

static void test_scanning(void **state)
{
	struct conn c = {1, "10.0.0.66", "10.0.0.2", 40000, 104, 0};
	char dst[32];
	struct env e;
	int i;

	(void)state;
	env_start(&e, NULL, NULL);
	for (i = 0; i < 10; i++) {
		snprintf(dst, sizeof(dst), "10.0.1.%d", i + 1);
		c.dst = dst;
		c.id = 10 + i;
		rq(&e, &c, "ANY-SCP", "ECHOSCU", S(1));
	}
	assert_int_equal(count(DM_SID_SCAN_TARGETS), 1);
	assert_int_equal(find(DM_SID_SCAN_TARGETS)->sev, 2);
	/* dicom-ping: accepted, then closed with neither a command nor a release. */
	c.src = "10.0.0.77";
	c.dst = "10.0.0.2";
	for (i = 0; i < 3; i++) {
		c.id = 100 + i;
		rq(&e, &c, "ANY-SCP", "ECHOSCU", S(10 + i));
		ac(&e, &c, "ANY-SCP", "ECHOSCU", S(10 + i));
		end(&e, &c, DM_STATE_ACCEPTED, S(10 + i));
	}
	assert_int_equal(count(DM_SID_SCAN_SILENT), 1);
	assert_int_equal(find(DM_SID_SCAN_SILENT)->sev, 2);
	/* An echo that releases is no ping. */
	c.src = "10.0.0.78";
	for (i = 0; i < 5; i++) {
		c.id = 200 + i;
		store(&e, &c, "PACS", "MODALITY", S(20 + i));
	}
	assert_int_equal(count(DM_SID_SCAN_SILENT), 1);
	env_stop(&e);
	/* The scanner fingerprint raises the severity. */
	env_start(&e, NULL, NULL);
	c.src = "10.0.0.77";
	force_scanner = 1;
	for (i = 0; i < 3; i++) {
		c.id = 100 + i;
		rq(&e, &c, "ANY-SCP", "ECHOSCU", S(10 + i));
		ac(&e, &c, "ANY-SCP", "ECHOSCU", S(10 + i));
		end(&e, &c, DM_STATE_ACCEPTED, S(10 + i));
	}
	force_scanner = 0;
	assert_int_equal(count(DM_SID_SCAN_SILENT), 1);
	assert_int_equal(find(DM_SID_SCAN_SILENT)->sev, 1);
	assert_non_null(strstr(find(DM_SID_SCAN_SILENT)->details, "nmap"));
	env_stop(&e);
}

static void test_any_ae(void **state)
{
	struct conn c = {1, "10.0.0.66", "10.0.0.2", 40000, 4242, 0};
	char called[17];
	struct env e;
	int i;

	(void)state;
	env_start(&e, NULL, NULL);
	for (i = 0; i < 5; i++) {
		snprintf(called, sizeof(called), "WORD%d", i);
		c.id = 10 + i;
		rq(&e, &c, called, "ECHOSCU", S(1 + i));
		ac(&e, &c, called, "ECHOSCU", S(1 + i));
	}
	assert_int_equal(count(DM_SID_ANY_AE), 1);
	assert_non_null(strstr(find(DM_SID_ANY_AE)->details, "\"server_port\": 4242"));
	env_stop(&e);
	/* Four AE titles on one archive port: fine. */
	env_start(&e, NULL, NULL);
	for (i = 0; i < 40; i++) {
		snprintf(called, sizeof(called), "ARCH%d", i % 4);
		c.id = 10 + i;
		rq(&e, &c, called, "MODALITY", S(1 + i));
		ac(&e, &c, called, "MODALITY", S(1 + i));
	}
	assert_int_equal(count(DM_SID_ANY_AE), 0);
	env_stop(&e);
}

static void test_external(void **state)
{
	struct conn c = {1, "198.51.100.7", "10.0.0.2", 40000, 104, 0};
	struct env e;

	(void)state;
	env_start(&e, NULL, NULL);
	store(&e, &c, "PACS", "REMOTE", S(1));
	assert_int_equal(count(DM_SID_EXTERNAL), 1);
	assert_int_equal(count(DM_SID_EXTERNAL_INBOUND), 1);
	assert_int_equal(find(DM_SID_EXTERNAL_INBOUND)->sev, 1);
	/* Outbound to an outside archive, rejected: the lower one only. */
	n_alerts = 0;
	c = (struct conn){2, "10.0.0.1", "198.51.100.7", 40000, 104, 0};
	rq(&e, &c, "CLOUD", "MODALITY", S(2));
	rj(&e, &c, 1, 7, S(2));
	assert_int_equal(count(DM_SID_EXTERNAL), 1);
	assert_int_equal(count(DM_SID_EXTERNAL_INBOUND), 0);
	env_stop(&e);
	/* A trusted partner network. */
	env_start(&e, "policy:\n  trusted_networks:\n    - 198.51.100.0/24\n", NULL);
	c = (struct conn){1, "198.51.100.7", "10.0.0.2", 40000, 104, 0};
	store(&e, &c, "PACS", "REMOTE", S(1));
	assert_int_equal(count(DM_SID_EXTERNAL) + count(DM_SID_EXTERNAL_INBOUND), 0);
	env_stop(&e);
}

static void test_bulk_retrieval(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 104, 0};
	struct dm_dimse_cmd d = {.command = 0x8021, .present = DM_DC_REMAINING | DM_DC_COMPLETED};
	struct dm_rec *r;
	struct env e;
	int i;

	(void)state;
	env_start(&e, "rules: {find_results_max: 100}\n", NULL);
	rq(&e, &c, "PACS", "WORKSTATION", S(1));
	ac(&e, &c, "PACS", "WORKSTATION", S(1));
	cmd(&e, &c, 0, DIMSE_C_FIND, 0, NULL, S(1));
	for (i = 0; i < 100; i++)
		cmd(&e, &c, 1, DIMSE_C_FIND | DIMSE_RSP, 0xFF00, NULL, S(1));
	assert_int_equal(count(DM_SID_BULK_FIND), 0);
	for (i = 0; i < 50; i++)
		cmd(&e, &c, 1, DIMSE_C_FIND | DIMSE_RSP, 0xFF00, NULL, S(1));
	assert_int_equal(count(DM_SID_BULK_FIND), 1);
	/* C-MOVE sub-operations above rules.subops_max (5000), once per association. */
	r = dm_table_get(e.t, &(struct dm_event_hdr){.assoc_id = 1});
	d.remaining = 4000;
	d.completed = 1;
	dm_rules_dimse(e.r, r, &d, S(2));
	assert_int_equal(count(DM_SID_BULK_SUBOPS), 0);
	d.remaining = 5999;
	dm_rules_dimse(e.r, r, &d, S(2));
	d.remaining = 5998;
	d.completed = 2;
	dm_rules_dimse(e.r, r, &d, S(2));
	assert_int_equal(count(DM_SID_BULK_SUBOPS), 1);
	assert_non_null(strstr(find(DM_SID_BULK_SUBOPS)->details, "\"sub_operations\": 6000"));
	env_stop(&e);
}

static void test_tls_policy(void **state)
{
	struct conn c = {1, "10.0.0.1", "10.0.0.2", 40000, 2762, 0};
	char want[64];
	struct env e;

	(void)state;
	env_start(&e, NULL, NULL);
	rq(&e, &c, "PACS", "MODALITY", S(1));
	assert_int_equal(count(DM_SID_TLS_PORT_CLEARTEXT), 1);
	/* TLS 1.3 on a fresh port: silent. */
	c = (struct conn){2, "10.0.0.1", "10.0.0.3", 40001, 2762, 0};
	n_alerts = 0;
	tls(&e, &c, 1, 0x0304, S(2));
	tls(&e, &c, 2, 0x0304, S(2));
	assert_int_equal(n_alerts, 0);
	/* A client offering TLS 1.1 at most. */
	c = (struct conn){3, "10.0.0.1", "10.0.0.3", 40002, 2762, 0};
	tls(&e, &c, 1, 0x0302, S(3));
	tls(&e, &c, 2, 0x0302, S(3));
	assert_int_equal(count(DM_SID_TLS_OLD), 1);
	/* Spelled as the EVE tls_version field and the metrics label spell it (names.c). */
	assert_non_null(strstr(find(DM_SID_TLS_OLD)->details, "\"offered_max\": \"TLS1.1\""));
	/* A server picking TLS 1.0 although the client offered 1.2. */
	c = (struct conn){4, "10.0.0.1", "10.0.0.3", 40003, 2762, 0};
	tls(&e, &c, 1, 0x0303, S(4));
	tls(&e, &c, 2, 0x0301, S(4));
	assert_int_equal(count(DM_SID_TLS_OLD), 2);
	assert_non_null(strstr(find(DM_SID_TLS_OLD)->details, "\"selected\": \"TLS1.0\""));
	/* SSL 3.0 offered: the one table's name, nothing else. */
	c = (struct conn){6, "10.0.0.1", "10.0.0.3", 40005, 2762, 0};
	tls(&e, &c, 1, 0x0300, S(4));
	assert_int_equal(count(DM_SID_TLS_OLD), 3);
	snprintf(want, sizeof(want), "\"offered_max\": \"%s\"", dm_tls_version_name(0x0300));
	assert_string_equal(dm_tls_version_name(0x0300), "SSL3.0");
	assert_non_null(strstr(find(DM_SID_TLS_OLD)->details, want));
	assert_null(strstr(find(DM_SID_TLS_OLD)->details, "SSL 3.0"));
	/* TLS on 10.0.0.2:2762, where cleartext was seen. */
	c = (struct conn){5, "10.0.0.1", "10.0.0.2", 40004, 2762, 0};
	tls(&e, &c, 1, 0x0304, S(5));
	assert_int_equal(count(DM_SID_TLS_MIXED_PORT), 1);
	env_stop(&e);
	/* No TLS-only ports: cleartext on 2762 is fine. */
	env_start(&e, "policy: {tls_ports: []}\n", NULL);
	c = (struct conn){1, "10.0.0.1", "10.0.0.2", 40000, 2762, 0};
	rq(&e, &c, "PACS", "MODALITY", S(1));
	assert_int_equal(count(DM_SID_TLS_PORT_CLEARTEXT), 0);
	env_stop(&e);
}

static void test_violations_aborts(void **state)
{
	struct conn c = {1, "10.0.0.66", "10.0.0.2", 40000, 104, 0};
	uint8_t p[1024];
	struct pdu_pc pc = {2, PDU_UID_CT_STORAGE, {PDU_UID_IMPLICIT_LE}, 1}; /* even id */
	struct dm_rec *r;
	struct env e;
	int i;

	(void)state;
	env_start(&e, NULL, NULL);
	r = feed(&e, &c, 0, DM_EV_PDU, p,
		 pdu_assoc_rq(p, sizeof(p), "PACS", "FUZZER", &pc, 1, 16384, PDU_DCMTK_IMPL_UID,
			      PDU_DCMTK_IMPL_VER),
		 NULL);
	assert_true(r->n_viol > 0);
	dm_rules_assoc_rq(e.r, r, S(1));
	assert_int_equal(count(DM_SID_PROTOCOL_VIOLATION), 1);
	assert_non_null(strstr(find(DM_SID_PROTOCOL_VIOLATION)->details, "pc_id"));
	end(&e, &c, DM_STATE_ABORTED, S(1)); /* once per association */
	assert_int_equal(count(DM_SID_PROTOCOL_VIOLATION), 1);
	/* An abort storm: 20 aborted associations in a minute. */
	for (i = 0; i < 20; i++) {
		c.id = 100 + i;
		rq(&e, &c, "PACS", "FUZZER", S(10 + i));
		feed(&e, &c, 0, DM_EV_PDU, p, pdu_abort(p, sizeof(p), 0, 0), NULL);
		end(&e, &c, DM_STATE_ABORTED, S(10 + i));
	}
	/* Both ends reached 20 (the fuzzer and the server it hit). */
	assert_int_equal(count(DM_SID_ABORT_STORM), 2);
	assert_non_null(strstr(find(DM_SID_ABORT_STORM)->details, "10.0.0."));
	env_stop(&e);
}

/*
 * Rule 12 and the datapath's anomalies: loss on the monitor's side (a gap, a
 * full ring) raises nothing; what the peer sent (overlapping retransmissions
 * with other bytes) does, once.
 */
static void test_stream_anomalies(void **state)
{
	struct conn c = {1, "10.0.0.66", "10.0.0.2", 40000, 104, 0};
	struct dm_event_anomaly an = {.hdr = hdr(&c, 0, S(1))};
	struct dm_rec *r;
	struct env e;

	(void)state;
	env_start(&e, NULL, NULL);
	r = rq(&e, &c, "PACS", "MODALITY", S(1));
	an.hdr.type = DM_EV_ANOMALY;
	an.code = DM_AN_GAP;
	an.value = 100;
	dm_table_anomaly(e.t, r, &an);
	ac(&e, &c, "PACS", "MODALITY", S(1));
	an.code = DM_AN_RING_LOST;
	dm_table_anomaly(e.t, r, &an);
	end(&e, &c, DM_STATE_RELEASED, S(2));
	assert_int_equal(r->n_viol, 2);
	assert_int_equal(count(DM_SID_PROTOCOL_VIOLATION), 0);
	c.id = 2;
	c.sport = 40001;
	an.hdr = hdr(&c, 0, S(3));
	an.hdr.type = DM_EV_ANOMALY;
	r = rq(&e, &c, "PACS", "MODALITY", S(3));
	an.code = DM_AN_OVERLAP;
	dm_table_anomaly(e.t, r, &an);
	an.code = DM_AN_GAP;
	dm_table_anomaly(e.t, r, &an);
	end(&e, &c, DM_STATE_RELEASED, S(4));
	assert_int_equal(count(DM_SID_PROTOCOL_VIOLATION), 1);
	assert_non_null(strstr(find(DM_SID_PROTOCOL_VIOLATION)->details, "stream_overlap_conflict"));
	env_stop(&e);
}

/* Rule 11: DICOMweb over plain HTTP; PHI keys named, values never. */
static void http(struct env *e, const struct conn *c, const char *req, uint64_t now)
{
	struct dm_event_hdr h = hdr(c, DM_DIR_ORIG, now);
	uint8_t buf[DM_HTTP_SNAP];
	struct dm_http_req q;
	size_t n = strlen(req);

	h.type = DM_EV_HTTP;
	h.assoc_id = 0;
	memcpy(buf, req, n);
	assert_int_equal(dm_http_parse(&q, buf, n), 0);
	dm_rules_http(e->r, &q, &h, now);
}

static void test_dicomweb(void **state)
{
	struct conn c = {0, "10.0.0.7", "10.0.0.2", 51000, 8042, 1};
	const struct got *g;
	struct env e;

	(void)state;
	env_start(&e, NULL, NULL);
	n_alerts = 0;
	http(&e, &c, "GET /dicom-web/studies?PatientName=PHIVALUE&limit=10 HTTP/1.1\r\n", S(1));
	assert_int_equal(count(DM_SID_DICOMWEB_CLEARTEXT), 1);
	assert_int_equal(count(DM_SID_DICOMWEB_PHI), 1);
	g = find(DM_SID_DICOMWEB_PHI);
	assert_int_equal(g->sev, 1);
	assert_int_equal(find(DM_SID_DICOMWEB_CLEARTEXT)->sev, 2);
	assert_non_null(strstr(g->details, "\"phi_keys\": [ \"PatientName\" ]"));
	assert_non_null(strstr(g->details, "\"resource\": \"studies\""));
	assert_non_null(strstr(g->details, "\"method\": \"GET\""));
	assert_non_null(strstr(g->details, "\"query_keys_count\": 2"));
	/* The EVE alert: flow fields from the packet, the client is src; no value. */
	assert_null(strstr(g->eve, "PHIVALUE"));
	assert_null(strstr(find(DM_SID_DICOMWEB_CLEARTEXT)->eve, "PHIVALUE"));
	assert_non_null(strstr(g->eve, "\"src_ip\": \"10.0.0.7\""));
	assert_non_null(strstr(g->eve, "\"dest_port\": 8042"));
	assert_non_null(strstr(g->eve, "\"app_proto\": \"http\""));
	assert_non_null(strstr(g->eve, "\"signature\": \"DICOMweb PHI in URL\""));
	/* A UID in the path is never copied. */
	n_alerts = 0;
	http(&e, &c, "GET /dicom-web/studies/1.2.840.99.1/series/1.2.840.99.2/instances HTTP/1.1\r\n",
	     S(2));
	assert_int_equal(count(DM_SID_DICOMWEB_CLEARTEXT), 1);
	assert_int_equal(count(DM_SID_DICOMWEB_PHI), 0);
	assert_non_null(strstr(find(DM_SID_DICOMWEB_CLEARTEXT)->details, "instances"));
	assert_null(strstr(find(DM_SID_DICOMWEB_CLEARTEXT)->eve, "1.2.840.99"));
	/* WADO-URI with a tag key. */
	n_alerts = 0;
	http(&e, &c, "GET /wado?requestType=WADO&00100020=X&studyUID=1.2 HTTP/1.1\r\n", S(3));
	assert_int_equal(count(DM_SID_DICOMWEB_PHI), 1);
	assert_non_null(strstr(find(DM_SID_DICOMWEB_PHI)->details, "wado-uri"));
	assert_non_null(strstr(find(DM_SID_DICOMWEB_PHI)->details, "PatientID"));
	/* Not DICOMweb: nothing. */
	n_alerts = 0;
	http(&e, &c, "GET /index.html?PatientName=X HTTP/1.1\r\n", S(4));
	assert_int_equal(n_alerts, 0);
	env_stop(&e);
}

/* Bounded state: more sources than entries evict the least recently used. */
static void test_bounded_state(void **state)
{
	struct dm_rec rec;
	struct env e;
	uint32_t i;

	(void)state;
	env_start(&e, NULL, NULL);
	memset(&rec, 0, sizeof(rec));
	rec.key.family = 4;
	rec.aborted = true;
	rec.key.addr[1][0] = htonl(0x0a000002);
	for (i = 0; i < DM_RULES_PEERS + 100; i++) {
		rec.id = i;
		rec.key.addr[0][0] = htonl(0x0b000000 + i);
		dm_rules_end(e.r, &rec, S(1) + i);
	}
	assert_int_equal(dm_rules_stats(e.r)->peers, DM_RULES_PEERS);
	assert_true(dm_rules_stats(e.r)->peers_evicted >= 100);
	/* The server's entry, touched every time, was never evicted: it stormed once. */
	assert_int_equal(count(DM_SID_ABORT_STORM), 1);
	env_stop(&e);
}

static void test_config_keys(void **state)
{
	struct dm_config c;
	char err[256], buf[DM_LIST_MAX];
	struct dm_rules *r;
	const char *y = "policy:\n"
			"  imaging_networks: [10.1.0.0/16, \"fd12::/16\"]\n"
			"  trusted_networks: 192.0.2.0/24, 198.51.100.1\n"
			"  tls_ports: [2762, 11113]\n"
			"rules:\n"
			"  disabled: [9100010, 9100080]\n";

	(void)state;
	dm_config_defaults(&c);
	assert_int_equal(dm_config_parse_yaml(&c, "t.yaml", y, strlen(y), err, sizeof(err)), 0);
	dm_key_format(&c, dm_key_find("policy.imaging_networks"), buf, sizeof(buf));
	assert_string_equal(buf, "10.1.0.0/16,fd12::/16");
	assert_string_equal(c.trusted_networks, "192.0.2.0/24,198.51.100.1");
	assert_string_equal(c.rules_disabled, "9100010,9100080");
	dm_config_defaults(&c);
	y = "policy:\n  imaging_networks:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n";
	assert_int_equal(dm_config_parse_yaml(&c, "t.yaml", y, strlen(y), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.yaml:4:7: policy.imaging_networks: '10.0.0.0/33'"));
	y = "rules: {disabled: [42]}\n";
	assert_int_equal(dm_config_parse_yaml(&c, "t.yaml", y, strlen(y), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "signature id"));
	/* A broken allow-list: no rules object, the line in the message. */
	dm_config_defaults(&c);
	snprintf(c.ae_allowlist, sizeof(c.ae_allowlist), "/nonexistent/a.yaml");
	assert_null(dm_rules_new(&c, emit, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/a.yaml"));
	/* Reload keeps the running policy on error. */
	dm_config_defaults(&c);
	r = dm_rules_new(&c, emit, NULL, err, sizeof(err));
	assert_non_null(r);
	snprintf(c.ae_allowlist, sizeof(c.ae_allowlist), "/nonexistent/a.yaml");
	assert_true(dm_rules_configure(r, &c, err, sizeof(err)) < 0);
	dm_config_defaults(&c);
	c.require_tls = true;
	assert_int_equal(dm_rules_configure(r, &c, err, sizeof(err)), 0);
	dm_rules_free(r);
	/* Every signature id is unique and in the range rules.disabled takes. */
	for (size_t i = 0; i < dm_n_rules; i++) {
		assert_true(dm_rule_table[i].sid >= DM_SID_MIN && dm_rule_table[i].sid <= DM_SID_MAX);
		for (size_t j = i + 1; j < dm_n_rules; j++)
			assert_int_not_equal(dm_rule_table[i].sid, dm_rule_table[j].sid);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_benign_store),    cmocka_unit_test(test_cleartext_policy),
	    cmocka_unit_test(test_credentials),	    cmocka_unit_test(test_invalid_ae),
	    cmocka_unit_test(test_allowlist_rules), cmocka_unit_test(test_learning),
	    cmocka_unit_test(test_allowlist_file),  cmocka_unit_test(test_enumeration),
	    cmocka_unit_test(test_scanning),	    cmocka_unit_test(test_any_ae),
	    cmocka_unit_test(test_external),	    cmocka_unit_test(test_bulk_retrieval),
	    cmocka_unit_test(test_tls_policy),	    cmocka_unit_test(test_violations_aborts),
	    cmocka_unit_test(test_bounded_state),   cmocka_unit_test(test_config_keys),
	    cmocka_unit_test(test_dicomweb),	    cmocka_unit_test(test_stream_anomalies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
