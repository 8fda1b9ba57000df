// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Detection rules over association records (rules.h, docs/rules.md). Each
 * hook looks at what the record holds at that point and at bounded
 * per-address state; every alert says what crossed which threshold. No
 * alert carries a byte of a data set or of a user identity: only AE titles
 * (escaped by dm_ae_string), codes, counts and addresses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "decode/dimse.h"
#include "lib/lru.h"
#include "detect/policy.h"
#include "detect/rules.h"
#include "lib/netaddr.h"
#include "lib/names.h"

#define CAT_POLICY   "Potential Corporate Privacy Violation"
#define CAT_LEAK     "Attempted Information Leak"
#define CAT_SCAN     "Detection of a Network Scan"
#define CAT_BAD	     "Potentially Bad Traffic"
#define CAT_MISC     "Misc activity"
#define CAT_DECODE   "Generic Protocol Command Decode"
#define CAT_PRIVGAIN "Attempted User Privilege Gain"

const struct dm_rule_info dm_rule_table[] = {
    {DM_SID_CLEARTEXT, 1, 1, "DICOM cleartext association", CAT_POLICY, 3},
    {DM_SID_CLEARTEXT_CREDS, 1, 2, "DICOM user identity in cleartext", CAT_POLICY, 1},
    {DM_SID_INVALID_AE, 1, 3, "DICOM invalid AE title", CAT_BAD, 2},
    {DM_SID_UNKNOWN_AE, 1, 4, "DICOM unknown AE title", CAT_MISC, 2},
    {DM_SID_AE_SPOOF, 1, 4, "DICOM AE title from an unbound address", CAT_PRIVGAIN, 1},
    {DM_SID_UNKNOWN_PAIR, 1, 4, "DICOM unknown AE title pair", CAT_MISC, 3},
    {DM_SID_ENUM_REJECTS, 1, 5, "DICOM AE title enumeration (rejects)", CAT_LEAK, 2},
    {DM_SID_ENUM_CALLED, 1, 5, "DICOM AE title enumeration (called AE titles)", CAT_LEAK, 2},
    {DM_SID_SCAN_TARGETS, 1, 6, "DICOM scanning (targets)", CAT_SCAN, 2},
    {DM_SID_SCAN_SILENT, 1, 6, "DICOM scanning (associations without commands)", CAT_SCAN, 2},
    {DM_SID_ANY_AE, 1, 7, "DICOM SCP accepts any called AE title", CAT_BAD, 2},
    {DM_SID_EXTERNAL, 1, 8, "DICOM association with an external peer", CAT_POLICY, 2},
    {DM_SID_EXTERNAL_INBOUND, 1, 8, "DICOM association from an external peer accepted", CAT_POLICY,
     1},
    {DM_SID_MOVE_UNKNOWN, 1, 9, "DICOM C-MOVE to an unknown destination", CAT_LEAK, 1},
    {DM_SID_BULK_FIND, 1, 9, "DICOM bulk query (C-FIND results)", CAT_LEAK, 2},
    {DM_SID_BULK_SUBOPS, 1, 9, "DICOM bulk retrieval (C-MOVE/C-GET sub-operations)", CAT_LEAK, 2},
    {DM_SID_TLS_PORT_CLEARTEXT, 1, 10, "DICOM cleartext on a TLS-only port", CAT_POLICY, 1},
    {DM_SID_TLS_OLD, 1, 10, "DICOM TLS below 1.2", CAT_POLICY, 2},
    {DM_SID_TLS_MIXED_PORT, 1, 10, "DICOM TLS on a port that also carries cleartext", CAT_POLICY,
     3},
    {DM_SID_DICOMWEB_CLEARTEXT, 1, 11, "DICOMweb over plain HTTP", CAT_POLICY, 2},
    {DM_SID_DICOMWEB_PHI, 1, 11, "DICOMweb PHI in URL", CAT_POLICY, 1},
    {DM_SID_PROTOCOL_VIOLATION, 1, 12, "DICOM protocol violation", CAT_DECODE, 2},
    {DM_SID_ABORT_STORM, 1, 12, "DICOM abort storm", CAT_BAD, 2},
};
const size_t dm_n_rules = sizeof(dm_rule_table) / sizeof(dm_rule_table[0]);

/* Windowed rules: each re-arms one window after it fired for an entry. */
enum { W_ENUM_REJ, W_ENUM_CALLED, W_SCAN, W_SILENT, W_ANY_AE, W_ABORT, W_MAX };

/* An address (port 0) or a server (address and port). */
struct peer {
	struct dm_lru_node node; /* by (family, address, port), least recently used first */
	uint32_t a[4];
	uint16_t port;
	uint8_t family;
	uint8_t cleartext_seen, tls_seen;
	struct dm_win rejects, silent, aborts;
	struct dm_distinct called, targets; /* server: called = accepted called AE titles */
	uint64_t fired_ns[W_MAX];
};

/* dm_rules memo bits: what already fired (or ran) for an association. */
#define M_START	     0x001
#define M_VIOL	     0x002
#define M_FIND	     0x004
#define M_SUBOPS     0x008
#define M_TLS_CLIENT 0x010
#define M_TLS_SERVER 0x020
#define M_AC	     0x040

struct memo {
	uint64_t id; /* association id + 1; 0 = free */
	uint32_t bits;
};

struct dm_rules {
	dm_alert_fn emit;
	void *ctx;
	struct dm_config cfg;
	struct dm_netset imaging, trusted;
	uint32_t disabled[64];
	int n_disabled;
	struct dm_ae_reg allow, learned;
	bool have_allow;
	uint64_t start_ns;
	bool started;
	struct dm_lru peers;
	struct peer *pool, *spare; /* spare: the entry just evicted, to be reused */
	uint32_t n_peers;	   /* pool entries ever used */
	struct memo memo[DM_RULES_MEMO];
	struct dm_rules_stats st;
};

/* ---- helpers ---- */

static const struct dm_rule_info *rule(uint32_t sid)
{
	size_t i;

	for (i = 0; i < dm_n_rules; i++)
		if (dm_rule_table[i].sid == sid)
			return &dm_rule_table[i];
	return NULL;
}

static bool enabled(const struct dm_rules *r, uint32_t sid)
{
	int i;

	for (i = 0; i < r->n_disabled; i++)
		if (r->disabled[i] == sid)
			return false;
	return true;
}

/* The initiator (SCU) and acceptor (SCP) ends of the record's key. */
static const uint32_t *init_addr(const struct dm_rec *rec)
{
	return rec->key.addr[rec->init_side & 1];
}

static const uint32_t *resp_addr(const struct dm_rec *rec)
{
	return rec->key.addr[!(rec->init_side & 1)];
}

static uint16_t resp_port(const struct dm_rec *rec)
{
	return rec->key.port[!(rec->init_side & 1)];
}

static void jint(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* Emits sid with severity sev (0: the default); details is consumed either way. */
static void fire(struct dm_rules *r, const struct dm_rec *rec, uint32_t sid, int sev,
		 json_object *details, const char *src)
{
	const struct dm_rule_info *ri = rule(sid);
	struct dm_alert a;
	char buf[INET6_ADDRSTRLEN];

	if (!ri || !enabled(r, sid)) {
		json_object_put(details);
		return;
	}
	if (!src) {
		dm_addr_format(rec->key.family, init_addr(rec), buf, sizeof(buf));
		src = buf;
	}
	a = (struct dm_alert){
	    .sid = ri->sid,
	    .rev = ri->rev,
	    .signature = ri->signature,
	    .category = ri->category,
	    .severity = sev ? sev : ri->severity,
	    .details = details,
	    .src_key = src,
	};
	r->st.alerts++;
	if (r->emit)
		r->emit(r->ctx, rec, &a);
	else
		json_object_put(details);
}

static struct memo *memo(struct dm_rules *r, const struct dm_rec *rec)
{
	struct memo *m = &r->memo[(rec->id * 0x9e3779b97f4a7c15ull >> 40) % DM_RULES_MEMO];

	if (m->id != rec->id + 1) {
		if (m->id)
			r->st.memo_reused++;
		m->id = rec->id + 1;
		m->bits = 0;
	}
	return m;
}

/* True the first time bit is asked for this association. */
static bool once(struct dm_rules *r, const struct dm_rec *rec, uint32_t bit)
{
	struct memo *m = memo(r, rec);

	if (m->bits & bit)
		return false;
	m->bits |= bit;
	return true;
}

/* ---- per-address state: hash + LRU, DM_RULES_PEERS entries ---- */

struct peer_key {
	const uint32_t *a;
	uint16_t port;
	uint8_t family;
};

static uint32_t peer_hash(const void *key)
{
	const struct peer_key *k = key;
	uint32_t v[6] = {k->a[0], k->a[1], k->a[2], k->a[3], k->port, k->family};

	return dm_hash32(v, sizeof(v), 0x7e1);
}

static bool peer_match(const struct dm_lru_node *n, const void *key)
{
	const struct peer *p = dm_container_of(n, struct peer, node);
	const struct peer_key *k = key;

	return p->family == k->family && p->port == k->port && !memcmp(p->a, k->a, sizeof(p->a));
}

/* The least recently used entry goes; its windows start again. */
static void peer_evicted(void *ctx, struct dm_lru_node *n)
{
	struct dm_rules *r = ctx;

	r->st.peers_evicted++;
	r->spare = dm_container_of(n, struct peer, node);
}

static const struct dm_lru_ops peer_ops = {
    .hash = peer_hash, .match = peer_match, .evict = peer_evicted};

static struct peer *peer_get(struct dm_rules *r, uint8_t family, const uint32_t a[4], uint16_t port)
{
	struct peer_key k = {.a = a, .port = port, .family = family};
	struct dm_lru_node *n = dm_lru_find(&r->peers, &k);
	struct peer *p;

	if (n) {
		dm_lru_touch(&r->peers, n);
		return dm_container_of(n, struct peer, node);
	}
	dm_lru_make_room(&r->peers);
	if (r->spare) {
		p = r->spare;
		r->spare = NULL;
	} else {
		p = &r->pool[r->n_peers++];
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->a, a, sizeof(p->a));
	p->family = family;
	p->port = port;
	dm_lru_insert(&r->peers, &p->node, &k);
	r->st.peers = dm_lru_count(&r->peers);
	return p;
}

static struct peer *src_peer(struct dm_rules *r, const struct dm_rec *rec)
{
	return peer_get(r, rec->key.family, init_addr(rec), 0);
}

static struct peer *srv_peer(struct dm_rules *r, const struct dm_rec *rec)
{
	return peer_get(r, rec->key.family, resp_addr(rec), resp_port(rec));
}

/* A threshold reached: fire once, then again only a window later. */
static bool armed(struct peer *p, int w, uint32_t count, uint32_t threshold, uint64_t now,
		  uint32_t window_s)
{
	if (count < threshold)
		return false;
	if (p->fired_ns[w] && now - p->fired_ns[w] < (uint64_t)window_s * 1000000000ull)
		return false;
	p->fired_ns[w] = now ? now : 1;
	return true;
}

static json_object *threshold_json(uint32_t count, uint32_t threshold, uint32_t window_s)
{
	json_object *d = json_object_new_object();

	jint(d, "count", count);
	jint(d, "threshold", threshold);
	jint(d, "window_seconds", window_s);
	return d;
}

/* ---- configuration ---- */

static int apply(struct dm_rules *r, const struct dm_config *cfg, char *err, size_t errlen)
{
	struct dm_netset imaging, trusted;
	struct dm_ae_reg allow = {};
	uint32_t disabled[64];
	const char *p;
	int n = 0, ret;

	if (dm_netset_parse(&imaging, cfg->imaging_networks) ||
	    dm_netset_parse(&trusted, cfg->trusted_networks)) {
		snprintf(err, errlen, "policy: a network list is invalid or longer than %d",
			 DM_NETS_MAX);
		return -EINVAL;
	}
	for (p = cfg->rules_disabled; *p && n < 64; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
		disabled[n++] = strtoul(p, NULL, 10);
	if (cfg->ae_allowlist[0]) {
		ret = dm_ae_reg_init(&allow);
		if (!ret)
			ret = dm_ae_reg_load(&allow, cfg->ae_allowlist, err, errlen);
		if (ret) {
			dm_ae_reg_free(&allow);
			return ret;
		}
	}
	r->imaging = imaging;
	r->trusted = trusted;
	memcpy(r->disabled, disabled, sizeof(disabled));
	r->n_disabled = n;
	dm_ae_reg_free(&r->allow);
	r->allow = allow;
	r->have_allow = cfg->ae_allowlist[0] != 0;
	r->st.allowlist_titles = r->have_allow ? allow.n : 0;
	r->cfg = *cfg;
	return 0;
}

struct dm_rules *dm_rules_new(const struct dm_config *cfg, dm_alert_fn emit, void *ctx, char *err,
			      size_t errlen)
{
	struct dm_rules *r = calloc(1, sizeof(*r));

	if (!r)
		goto err_nomem;
	r->emit = emit;
	r->ctx = ctx;
	r->pool = calloc(DM_RULES_PEERS, sizeof(*r->pool));
	if (!r->pool || dm_lru_init(&r->peers, &peer_ops, r, DM_RULES_PEERS) ||
	    dm_ae_reg_init(&r->learned))
		goto err_free;
	if (apply(r, cfg, err, errlen)) {
		dm_rules_free(r);
		return NULL;
	}
	return r;
err_free:
	dm_rules_free(r);
err_nomem:
	snprintf(err, errlen, "rules: out of memory");
	return NULL;
}

int dm_rules_configure(struct dm_rules *r, const struct dm_config *cfg, char *err, size_t errlen)
{
	return apply(r, cfg, err, errlen);
}

void dm_rules_free(struct dm_rules *r)
{
	if (!r)
		return;
	dm_ae_reg_free(&r->allow);
	dm_ae_reg_free(&r->learned);
	dm_lru_fini(&r->peers);
	free(r->pool);
	free(r);
}

const struct dm_rules_stats *dm_rules_stats(const struct dm_rules *r)
{
	return &r->st;
}

int dm_rules_write_allowlist(const struct dm_rules *r, FILE *f)
{
	return dm_ae_reg_write(r->have_allow ? &r->allow : &r->learned, f);
}

/* ---- AE title knowledge (rule 4, 9) ---- */

static void clock_start(struct dm_rules *r, uint64_t now)
{
	if (!r->started) {
		r->started = true;
		r->start_ns = now;
	}
}

static bool learning(const struct dm_rules *r, uint64_t now)
{
	return !r->have_allow && r->cfg.learn_s &&
	       now - r->start_ns < (uint64_t)r->cfg.learn_s * 1000000000ull;
}

/* The registry to judge against, or NULL: no allow-list and still (or never) learning. */
static const struct dm_ae_reg *judge(const struct dm_rules *r, uint64_t now)
{
	if (r->have_allow)
		return &r->allow;
	if (r->cfg.learn_s && !learning(r, now))
		return &r->learned;
	return NULL;
}

static void host_cidr(struct dm_cidr *c, uint8_t family, const uint32_t a[4])
{
	memset(c, 0, sizeof(*c));
	memcpy(c->a, a, sizeof(c->a));
	c->family = family;
	c->plen = family == 4 ? 32 : 128;
}

static void learn(struct dm_rules *r, const struct dm_rec *rec)
{
	const struct dm_ae *cg = &rec->rq->calling, *cd = &rec->rq->called;
	struct dm_ae_entry *a, *b;
	struct dm_ae_reg *g = &r->learned;
	uint64_t before = g->dropped_titles + g->dropped_binds + g->dropped_pairs;
	struct dm_cidr c;

	if ((cg->flags | cd->flags) & DM_AE_BAD)
		return; /* rule 3 reports them; they are no one's identity */
	a = dm_ae_reg_add(g, cg->str, 0);
	b = dm_ae_reg_add(g, cd->str, 0);
	if (a) {
		host_cidr(&c, rec->key.family, init_addr(rec));
		dm_ae_reg_bind(g, a, &c);
	}
	if (b) {
		host_cidr(&c, rec->key.family, resp_addr(rec));
		dm_ae_reg_bind(g, b, &c);
	}
	if (a && b)
		dm_ae_reg_add_pair(g, a, b);
	r->st.learned_titles = g->n;
	r->st.learn_dropped += g->dropped_titles + g->dropped_binds + g->dropped_pairs - before;
}

static void check_title(struct dm_rules *r, const struct dm_rec *rec, const struct dm_ae_reg *g,
			const struct dm_ae *ae, const char *role, const uint32_t *addr,
			const struct dm_ae_entry **out)
{
	const struct dm_ae_entry *e = dm_ae_reg_find(g, ae->str);
	char buf[INET6_ADDRSTRLEN];
	json_object *d;

	*out = e;
	if (ae->flags & DM_AE_BAD)
		return; /* rule 3's */
	d = json_object_new_object();
	jstr(d, "role", role);
	jstr(d, "ae_title", ae->str);
	jstr(d, "source", r->have_allow ? "allow-list" : "learned");
	if (!e) {
		fire(r, rec, DM_SID_UNKNOWN_AE, 0, d, NULL);
	} else if (!dm_ae_reg_bound(e, rec->key.family, addr)) {
		dm_addr_format(rec->key.family, addr, buf, sizeof(buf));
		jstr(d, "address", buf);
		jint(d, "bound_addresses", e->n_bind);
		fire(r, rec, DM_SID_AE_SPOOF, 0, d, NULL);
	} else {
		json_object_put(d);
	}
}

static void rule_known_aes(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	const struct dm_ae_entry *a, *b;
	const struct dm_ae_reg *g;
	json_object *d;

	if (!rec->rq)
		return;
	if (learning(r, now)) {
		learn(r, rec);
		return;
	}
	g = judge(r, now);
	if (!g)
		return;
	check_title(r, rec, g, &rec->rq->calling, "calling", init_addr(rec), &a);
	check_title(r, rec, g, &rec->rq->called, "called", resp_addr(rec), &b);
	if (a && b && g->n_pairs && !dm_ae_reg_has_pair(g, a, b)) {
		d = json_object_new_object();
		jstr(d, "calling_ae", a->title);
		jstr(d, "called_ae", b->title);
		fire(r, rec, DM_SID_UNKNOWN_PAIR, 0, d, NULL);
	}
}

/* ---- rules at the start of an association (cleartext RQ or TLS ClientHello) ---- */

static bool inside(const struct dm_rules *r, uint8_t family, const uint32_t *a)
{
	return dm_netset_match(&r->imaging, family, a);
}

static bool external(const struct dm_rules *r, uint8_t family, const uint32_t *a)
{
	return !inside(r, family, a) && !dm_netset_match(&r->trusted, family, a);
}

static void rule_external(struct dm_rules *r, const struct dm_rec *rec)
{
	bool ei = external(r, rec->key.family, init_addr(rec));
	bool er = external(r, rec->key.family, resp_addr(rec));
	char buf[INET6_ADDRSTRLEN];
	json_object *d;

	if (!ei && !er)
		return;
	d = json_object_new_object();
	dm_addr_format(rec->key.family, ei ? init_addr(rec) : resp_addr(rec), buf, sizeof(buf));
	jstr(d, "external_address", buf);
	jstr(d, "external_side", ei && er ? "both" : ei ? "initiator" : "acceptor");
	fire(r, rec, DM_SID_EXTERNAL, 0, d, NULL);
}

static void on_start(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	struct peer *p;
	uint32_t h[5], n;
	json_object *d;
	bool scanner = rec->have_fp && rec->fp.kind == DM_FP_SCANNER;

	if (!once(r, rec, M_START))
		return;
	rule_external(r, rec);
	/* Rule 6: distinct acceptor address:port from one initiator. */
	memcpy(h, resp_addr(rec), 16);
	h[4] = resp_port(rec);
	p = src_peer(r, rec);
	n = dm_distinct_add(&p->targets, dm_hash32(h, sizeof(h), 0), now, r->cfg.scan_s);
	if (armed(p, W_SCAN, n, r->cfg.scan_targets, now, r->cfg.scan_s)) {
		d = threshold_json(n, r->cfg.scan_targets, r->cfg.scan_s);
		if (scanner)
			jstr(d, "fingerprint", rec->fp.name);
		fire(r, rec, DM_SID_SCAN_TARGETS, scanner ? 1 : 0, d, NULL);
	}
}

/* ---- hooks ---- */

static void rule_violations(struct dm_rules *r, const struct dm_rec *rec)
{
	json_object *d, *codes;
	uint32_t i;

	/* Loss on the monitor's side (stream gaps, a full ring) says nothing of the peer. */
	if (rec->n_viol <= rec->n_viol_capture || !once(r, rec, M_VIOL))
		return;
	d = json_object_new_object();
	codes = json_object_new_array();
	for (i = 0; i < rec->n_viol && i < DM_REC_MAX_VIOL; i++)
		json_object_array_add(codes,
				      json_object_new_string(dm_viol_name(rec->viol[i].code)));
	json_object_object_add(d, "violations", codes);
	jint(d, "violations_total", rec->n_viol);
	fire(r, rec, DM_SID_PROTOCOL_VIOLATION, 0, d, NULL);
}

static void rule_cleartext(struct dm_rules *r, const struct dm_rec *rec)
{
	bool ii = inside(r, rec->key.family, init_addr(rec));
	bool ri = inside(r, rec->key.family, resp_addr(rec));
	int sev = ii != ri ? 1 : r->cfg.require_tls ? 2 : 3;
	json_object *d = json_object_new_object();

	json_object_object_add(d, "crosses_imaging_boundary", json_object_new_boolean(ii != ri));
	json_object_object_add(d, "require_tls", json_object_new_boolean(r->cfg.require_tls));
	fire(r, rec, DM_SID_CLEARTEXT, sev, d, NULL);

	if (r->cfg.tls_ports[resp_port(rec) >> 6] >> (resp_port(rec) & 63) & 1) {
		d = json_object_new_object();
		jint(d, "port", resp_port(rec));
		fire(r, rec, DM_SID_TLS_PORT_CLEARTEXT, 0, d, NULL);
	}
}

static void rule_identity(struct dm_rules *r, const struct dm_rec *rec)
{
	const struct dm_user_info *ui = &rec->rq->ui;
	json_object *d;

	if (!(ui->has & DM_UI_IDENTITY_RQ))
		return;
	/* The type only: never a byte or the length of what was sent. */
	d = json_object_new_object();
	jstr(d, "identity_type", dm_identity_type_name(ui->id_type));
	json_object_object_add(d, "passcode", json_object_new_boolean(ui->id_secondary));
	fire(r, rec, DM_SID_CLEARTEXT_CREDS, ui->id_type == DM_ID_USERNAME ? 2 : 1, d, NULL);
}

static void invalid_ae(struct dm_rules *r, const struct dm_rec *rec, const struct dm_ae *ae,
		       const char *role)
{
	char flags[96];
	json_object *d;

	if (!(ae->flags & DM_AE_BAD))
		return;
	dm_ae_flags_string(ae->flags & DM_AE_BAD, flags, sizeof(flags));
	d = json_object_new_object();
	jstr(d, "role", role);
	jstr(d, "ae_title", ae->str);
	jstr(d, "problems", flags);
	fire(r, rec, DM_SID_INVALID_AE, 0, d, NULL);
}

void dm_rules_assoc_rq(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	struct peer *p;
	uint32_t n;

	clock_start(r, now);
	rule_violations(r, rec);
	if (!rec->rq)
		return;
	on_start(r, rec, now);
	rule_cleartext(r, rec);
	rule_identity(r, rec);
	invalid_ae(r, rec, &rec->rq->calling, "calling");
	invalid_ae(r, rec, &rec->rq->called, "called");
	srv_peer(r, rec)->cleartext_seen = 1;
	/* Rule 5: distinct called AE titles tried from one source. */
	p = src_peer(r, rec);
	n = dm_distinct_add(&p->called, dm_hash32(rec->rq->called.raw, 16, 0), now, r->cfg.enum_s);
	if (armed(p, W_ENUM_CALLED, n, r->cfg.enum_called_aes, now, r->cfg.enum_s))
		fire(r, rec, DM_SID_ENUM_CALLED, 0,
		     threshold_json(n, r->cfg.enum_called_aes, r->cfg.enum_s), NULL);
}

void dm_rules_assoc_ac(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct peer *p;
	json_object *d;
	uint32_t n;

	clock_start(r, now);
	rule_violations(r, rec);
	if (!rec->rq || !once(r, rec, M_AC))
		return;
	rule_known_aes(r, rec, now);
	/* Rule 8: an outside party initiated and was let in. */
	if (external(r, rec->key.family, init_addr(rec))) {
		d = json_object_new_object();
		dm_addr_format(rec->key.family, init_addr(rec), buf, sizeof(buf));
		jstr(d, "external_address", buf);
		fire(r, rec, DM_SID_EXTERNAL_INBOUND, 0, d, NULL);
	}
	/* Rule 7: one server, many called AE titles accepted. */
	p = srv_peer(r, rec);
	n = dm_distinct_add(&p->called, dm_hash32(rec->rq->called.raw, 16, 0), now,
			    r->cfg.any_ae_s);
	if (armed(p, W_ANY_AE, n, r->cfg.any_ae_called, now, r->cfg.any_ae_s)) {
		d = threshold_json(n, r->cfg.any_ae_called, r->cfg.any_ae_s);
		dm_addr_format(rec->key.family, resp_addr(rec), buf, sizeof(buf));
		jstr(d, "server", buf);
		jint(d, "server_port", resp_port(rec));
		fire(r, rec, DM_SID_ANY_AE, 0, d, buf);
	}
}

void dm_rules_reject(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	struct peer *p;
	json_object *d;
	uint32_t n;

	clock_start(r, now);
	rule_violations(r, rec);
	/* Rule 5: "calling/called AE title not recognized" (PS3.8 Table 9-21, source 1). */
	if (!rec->rejected || rec->reject.source != 1 ||
	    (rec->reject.reason != 3 && rec->reject.reason != 7))
		return;
	p = src_peer(r, rec);
	n = dm_win_add(&p->rejects, now, r->cfg.enum_s, 1);
	if (armed(p, W_ENUM_REJ, n, r->cfg.enum_rejects, now, r->cfg.enum_s)) {
		d = threshold_json(n, r->cfg.enum_rejects, r->cfg.enum_s);
		jstr(d, "last_reason", dm_reject_reason_name(1, rec->reject.reason));
		fire(r, rec, DM_SID_ENUM_REJECTS, 0, d, NULL);
	}
}

static uint32_t cmd_count(const struct dm_rec *rec, uint16_t field)
{
	int i;

	for (i = 0; i < rec->n_cmds; i++)
		if (rec->cmds[i].field == field)
			return rec->cmds[i].count;
	return 0;
}

void dm_rules_dimse(struct dm_rules *r, const struct dm_rec *rec, const struct dm_dimse_cmd *c,
		    uint64_t now)
{
	const struct dm_ae_reg *g;
	uint32_t n;
	json_object *d;

	clock_start(r, now);
	rule_violations(r, rec);
	if (c->command == 0x0021 && (c->present & DM_DC_MOVE_DEST)) {
		invalid_ae(r, rec, &c->move_destination, "move_destination");
		if (learning(r, now) && !(c->move_destination.flags & DM_AE_BAD)) {
			dm_ae_reg_add(&r->learned, c->move_destination.str, 0);
		} else if ((g = judge(r, now)) && !(c->move_destination.flags & DM_AE_BAD) &&
			   !dm_ae_reg_find(g, c->move_destination.str)) {
			d = json_object_new_object();
			jstr(d, "move_destination", c->move_destination.str);
			jstr(d, "source", r->have_allow ? "allow-list" : "learned");
			fire(r, rec, DM_SID_MOVE_UNKNOWN, 0, d, NULL);
		}
	}
	/* Rule 9: the query is in the data set, never seen; the result count is. */
	if (c->command == 0x8020) {
		n = cmd_count(rec, 0x8020);
		if (n > r->cfg.find_results_max && once(r, rec, M_FIND)) {
			d = json_object_new_object();
			jint(d, "find_responses", n);
			jint(d, "threshold", r->cfg.find_results_max);
			fire(r, rec, DM_SID_BULK_FIND, 0, d, NULL);
		}
	}
	if ((c->command == 0x8021 || c->command == 0x8010) &&
	    (c->present & (DM_DC_REMAINING | DM_DC_COMPLETED))) {
		n = (uint32_t)c->remaining + c->completed + c->failed + c->warning;
		if (n > r->cfg.subops_max && once(r, rec, M_SUBOPS)) {
			d = json_object_new_object();
			jstr(d, "command", dm_dimse_name(c->command)); /* C-MOVE-RSP, C-GET-RSP */
			jint(d, "sub_operations", n);
			jint(d, "remaining", c->remaining);
			jint(d, "completed", c->completed);
			jint(d, "threshold", r->cfg.subops_max);
			fire(r, rec, DM_SID_BULK_SUBOPS, 0, d, NULL);
		}
	}
}

static void tls_old(struct dm_rules *r, const struct dm_rec *rec, const char *what, uint16_t v)
{
	const char *name = dm_tls_version_name(v); /* the EVE tls_version's spelling */
	json_object *d = json_object_new_object();

	jstr(d, what, name ? name : "unknown");
	jint(d, "version_code", v);
	fire(r, rec, DM_SID_TLS_OLD, 0, d, NULL);
}

void dm_rules_tls(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	struct peer *srv;
	json_object *d;

	clock_start(r, now);
	on_start(r, rec, now);
	srv = srv_peer(r, rec);
	if (rec->tls_offered && once(r, rec, M_TLS_CLIENT)) {
		if (srv->cleartext_seen) {
			d = json_object_new_object();
			jint(d, "port", resp_port(rec));
			fire(r, rec, DM_SID_TLS_MIXED_PORT, 0, d, NULL);
		}
		/* BCP 195 (PS3.15 B.10-B.13): no TLS 1.0 or 1.1. */
		if (rec->tls_offered < 0x0303)
			tls_old(r, rec, "offered_max", rec->tls_offered);
	}
	if (rec->tls_selected && once(r, rec, M_TLS_SERVER) && rec->tls_selected < 0x0303 &&
	    !(rec->tls_offered && rec->tls_offered < 0x0303))
		tls_old(r, rec, "selected", rec->tls_selected);
	srv->tls_seen = 1;
}

void dm_rules_end(struct dm_rules *r, const struct dm_rec *rec, uint64_t now)
{
	char buf[INET6_ADDRSTRLEN];
	struct peer *p;
	json_object *d;
	uint32_t n;
	int side;

	clock_start(r, now);
	rule_violations(r, rec);
	/* Rule 6: accepted, then neither a command nor a release (dicom-ping). */
	if (rec->ac && !rec->n_commands && !rec->release_rq && !rec->release_rp) {
		bool scanner = rec->have_fp && rec->fp.kind == DM_FP_SCANNER;

		p = src_peer(r, rec);
		n = dm_win_add(&p->silent, now, r->cfg.scan_s, 1);
		if (armed(p, W_SILENT, n, r->cfg.scan_silent, now, r->cfg.scan_s)) {
			d = threshold_json(n, r->cfg.scan_silent, r->cfg.scan_s);
			if (scanner)
				jstr(d, "fingerprint", rec->fp.name);
			fire(r, rec, DM_SID_SCAN_SILENT, scanner ? 1 : 0, d, NULL);
		}
	}
	/* Rule 12: A-ABORTs from or to one address. */
	if (!rec->aborted)
		return;
	for (side = 0; side < 2; side++) {
		p = peer_get(r, rec->key.family, rec->key.addr[side], 0);
		n = dm_win_add(&p->aborts, now, r->cfg.abort_s, 1);
		if (!armed(p, W_ABORT, n, r->cfg.abort_storm, now, r->cfg.abort_s))
			continue;
		d = threshold_json(n, r->cfg.abort_storm, r->cfg.abort_s);
		dm_addr_format(rec->key.family, rec->key.addr[side], buf, sizeof(buf));
		jstr(d, "address", buf);
		fire(r, rec, DM_SID_ABORT_STORM, 0, d, buf);
	}
}

/* ---- rule 11: DICOMweb over plain HTTP ---- */

/* The alert's dicom object: names and counts only (dicomweb.h keeps nothing else). */
static json_object *http_details(const struct dm_http_req *req)
{
	json_object *d = json_object_new_object(), *k;
	unsigned int b;

	jstr(d, "method", req->method);
	jstr(d, "resource", dm_dw_resource_name(req->resource));
	k = json_object_new_array();
	for (b = 0; b < DM_PHI_MAX; b++)
		if (req->phi & 1u << b)
			json_object_array_add(k, json_object_new_string(dm_dw_phi_name(b)));
	json_object_object_add(d, "phi_keys", k);
	jint(d, "query_keys_count", req->n_query_keys);
	return d;
}

static void fire_http(struct dm_rules *r, const struct dm_event_hdr *h, uint32_t sid,
		      json_object *details)
{
	const struct dm_rule_info *ri = rule(sid);
	char src[INET6_ADDRSTRLEN];
	struct dm_alert a;

	if (!ri || !enabled(r, sid)) {
		json_object_put(details);
		return;
	}
	dm_addr_format(h->key.family, h->key.addr[h->init_side & 1], src, sizeof(src));
	a = (struct dm_alert){
	    .sid = ri->sid,
	    .rev = ri->rev,
	    .signature = ri->signature,
	    .category = ri->category,
	    .severity = ri->severity,
	    .details = details,
	    .src_key = src,
	    .pkt_key = &h->key,
	    .pkt_src = h->init_side & 1,
	    .pkt_ifindex = h->ifindex,
	    .app_proto = "http",
	};
	r->st.alerts++;
	if (r->emit)
		r->emit(r->ctx, NULL, &a);
	else
		json_object_put(details);
}

void dm_rules_http(struct dm_rules *r, const struct dm_http_req *req, const struct dm_event_hdr *h,
		   uint64_t now)
{
	clock_start(r, now);
	if (!req || req->resource == DM_DW_NONE)
		return;
	fire_http(r, h, DM_SID_DICOMWEB_CLEARTEXT, http_details(req));
	if (req->phi)
		fire_http(r, h, DM_SID_DICOMWEB_PHI, http_details(req));
}

const char *dm_rules_ae_label(const struct dm_rules *r, const char *title)
{
	if (!r || !title || !title[0])
		return "other";
	return dm_ae_reg_find(r->have_allow ? &r->allow : &r->learned, title) ? title : "other";
}
