// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The exporter-toolkit web configuration (webcfg.h): libyaml's document API,
 * every error at the node it is about, files read and checked with GnuTLS at
 * load time so a bad certificate stops the start instead of the first scrape.
 */
#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "config/webcfg.h"

#define PEM_MAX (1 << 20)

struct wwalk {
	yaml_document_t *doc;
	struct dm_webcfg *w;
	const char *file, *dir;
	char *err;
	size_t errlen;
	char min_v[8], max_v[8];
	char *ca_file_at; /* set when client_ca_file was given (for the cross-checks) */
};

static int werr(struct wwalk *ww, const yaml_node_t *n, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int werr(struct wwalk *ww, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len =
	    snprintf(ww->err, ww->errlen, "%s:%lu:%lu: %s%s", ww->file,
		     (unsigned long)n->start_mark.line + 1, (unsigned long)n->start_mark.column + 1,
		     field ? field : "", field ? ": " : "");
	if (len < ww->errlen) {
		va_start(ap, fmt);
		vsnprintf(ww->err + len, ww->errlen - len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static yaml_node_t *wnode(struct wwalk *ww, int id)
{
	return yaml_document_get_node(ww->doc, id);
}

static const char *wscalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool wnull(const yaml_node_t *n)
{
	const char *s = wscalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

/* The whole file, NUL-terminated, or NULL with errno set. */
static char *slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "re");
	size_t len = 0, n;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(PEM_MAX + 1);
	while (buf && (n = fread(buf + len, 1, PEM_MAX - len, f)) > 0)
		len += n;
	if (buf && (ferror(f) || len == PEM_MAX)) {
		errno = ferror(f) ? EIO : EFBIG;
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
}

/* A <filename> field's contents; relative names are next to the config file. */
static int read_named(struct wwalk *ww, const yaml_node_t *v, const char *field, char **out)
{
	const char *s = wscalar(v);
	char path[4096];
	int e;

	if (!s || wnull(v) || !*s)
		return werr(ww, v, field, "expected a file name");
	if (*out)
		return werr(ww, v, field, "given twice");
	if (s[0] == '/' || !ww->dir[0])
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), "%s/%s", ww->dir, s);
	*out = slurp(path, NULL);
	if (!*out) {
		e = errno;
		return werr(ww, v, field, "cannot read '%s': %s", path, strerror(e));
	}
	return 0;
}

static const char *const auth_names[] = {
    [DM_CLIENT_NO_CERT] = "NoClientCert",
    [DM_CLIENT_VERIFY_IF_GIVEN] = "VerifyClientCertIfGiven",
    [DM_CLIENT_REQUIRE_VERIFY] = "RequireAndVerifyClientCert",
};

static int set_client_auth(struct wwalk *ww, const yaml_node_t *v)
{
	const char *s = wscalar(v);
	size_t i;

	for (i = 0; s && i < sizeof(auth_names) / sizeof(auth_names[0]); i++)
		if (!strcmp(s, auth_names[i])) {
			ww->w->client_auth = i;
			return 0;
		}
	if (s && (!strcmp(s, "RequestClientCert") || !strcmp(s, "RequireAnyClientCert")))
		return werr(ww, v, "client_auth_type",
			    "'%s' accepts unverified certificates; dicomon supports NoClientCert, "
			    "VerifyClientCertIfGiven and RequireAndVerifyClientCert",
			    s);
	return werr(
	    ww, v, "client_auth_type",
	    "'%s' is not NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert",
	    s ? s : "(not a value)");
}

static const char *const versions[] = {"TLS10", "TLS11", "TLS12", "TLS13", NULL};
static const char *const gnutls_versions[] = {"+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2",
					      "+VERS-TLS1.3"};

static int version_index(const char *s)
{
	int i;

	for (i = 0; s && versions[i]; i++)
		if (!strcmp(s, versions[i]))
			return i;
	return -1;
}

static int set_version(struct wwalk *ww, const yaml_node_t *v, const char *field, char *dst)
{
	const char *s = wscalar(v);

	if (version_index(s) < 0)
		return werr(ww, v, field, "'%s' is not TLS10, TLS11, TLS12 or TLS13",
			    s ? s : "(not a value)");
	snprintf(dst, 8, "%s", s);
	return 0;
}

/* Fields of the toolkit's format that dicomon does not implement: said, not ignored. */
static const char *const tls_unsupported[] = {"cert",
					      "key",
					      "client_ca",
					      "client_allowed_sans",
					      "cipher_suites",
					      "prefer_server_cipher_suites",
					      "curve_preferences",
					      NULL};

static int is_listed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int tls_field(struct wwalk *ww, const yaml_node_t *k, const yaml_node_t *v)
{
	const char *name = wscalar(k);
	struct dm_webcfg *w = ww->w;

	if (!strcmp(name, "cert_file"))
		return read_named(ww, v, name, &w->cert_pem);
	if (!strcmp(name, "key_file"))
		return read_named(ww, v, name, &w->key_pem);
	if (!strcmp(name, "client_ca_file")) {
		ww->ca_file_at = (char *)k;
		return read_named(ww, v, name, &w->ca_pem);
	}
	if (!strcmp(name, "client_auth_type"))
		return set_client_auth(ww, v);
	if (!strcmp(name, "min_version"))
		return set_version(ww, v, name, ww->min_v);
	if (!strcmp(name, "max_version"))
		return set_version(ww, v, name, ww->max_v);
	if (is_listed(tls_unsupported, name))
		return werr(ww, k, NULL,
			    "tls_server_config.%s is not supported by dicomon (use cert_file, "
			    "key_file, client_ca_file)",
			    name);
	return werr(ww, k, NULL, "unknown field 'tls_server_config.%s'", name);
}

/* Duplicate keys in one mapping: libyaml keeps both, the toolkit's parser refuses them. */
static int check_mapping(struct wwalk *ww, const yaml_node_t *m, const char *what)
{
	const yaml_node_pair_t *p, *q;
	const char *a, *b;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		a = wscalar(wnode(ww, p->key));
		if (!a)
			return werr(ww, wnode(ww, p->key), what, "a key must be a plain name");
		for (q = m->data.mapping.pairs.start; q < p; q++) {
			b = wscalar(wnode(ww, q->key));
			if (b && !strcmp(a, b))
				return werr(ww, wnode(ww, p->key), what, "'%s' given twice", a);
		}
	}
	return 0;
}

/* The GnuTLS priority string: NORMAL with only the versions from min to max. */
static int make_priorities(struct wwalk *ww, const yaml_node_t *sect)
{
	int lo = version_index(ww->min_v[0] ? ww->min_v : "TLS12");
	int hi = version_index(ww->max_v[0] ? ww->max_v : "TLS13"), i;
	size_t n;

	if (lo > hi)
		return werr(ww, sect, "tls_server_config", "min_version %s is above max_version %s",
			    versions[lo], versions[hi]);
	n = snprintf(ww->w->priorities, sizeof(ww->w->priorities), "NORMAL:-VERS-ALL");
	for (i = lo; i <= hi; i++)
		n += snprintf(ww->w->priorities + n, sizeof(ww->w->priorities) - n, ":%s",
			      gnutls_versions[i]);
	return 0;
}

/* The certificate, key and CA as GnuTLS will take them in libmicrohttpd. */
static int check_pems(struct wwalk *ww, const yaml_node_t *sect)
{
	struct dm_webcfg *w = ww->w;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert, key, ca;
	int r;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return werr(ww, sect, "tls_server_config", "out of memory");
	cert = (gnutls_datum_t){(unsigned char *)w->cert_pem, strlen(w->cert_pem)};
	key = (gnutls_datum_t){(unsigned char *)w->key_pem, strlen(w->key_pem)};
	r = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		gnutls_certificate_free_credentials(cred);
		return werr(ww, sect, "tls_server_config",
			    "cert_file/key_file: not a PEM certificate and its unencrypted key: %s",
			    gnutls_strerror(r));
	}
	r = 1;
	if (w->ca_pem) {
		ca = (gnutls_datum_t){(unsigned char *)w->ca_pem, strlen(w->ca_pem)};
		r = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
	}
	gnutls_certificate_free_credentials(cred);
	if (r <= 0)
		return werr(ww, (const yaml_node_t *)ww->ca_file_at, "client_ca_file",
			    "no PEM certificate in it%s%s", r < 0 ? ": " : "",
			    r < 0 ? gnutls_strerror(r) : "");
	return 0;
}

/* The rules between fields, as the toolkit has them. */
static int tls_cross_checks(struct wwalk *ww, const yaml_node_t *sect)
{
	struct dm_webcfg *w = ww->w;

	if (!w->cert_pem || !w->key_pem)
		return werr(ww, sect, "tls_server_config", "cert_file and key_file are required");
	if (w->client_auth != DM_CLIENT_NO_CERT && !w->ca_pem)
		return werr(ww, sect, "tls_server_config",
			    "client_auth_type %s needs client_ca_file", auth_names[w->client_auth]);
	if (w->client_auth == DM_CLIENT_NO_CERT && w->ca_pem)
		return werr(ww, (const yaml_node_t *)ww->ca_file_at, "client_ca_file",
			    "unused with client_auth_type NoClientCert (set "
			    "RequireAndVerifyClientCert)");
	return make_priorities(ww, sect) ?: check_pems(ww, sect);
}

static int tls_section(struct wwalk *ww, const yaml_node_t *sect)
{
	const yaml_node_pair_t *p;
	int err;

	if (wnull(sect))
		return werr(ww, sect, "tls_server_config",
			    "empty: cert_file and key_file are required");
	if (sect->type != YAML_MAPPING_NODE)
		return werr(ww, sect, "tls_server_config", "expected a mapping");
	err = check_mapping(ww, sect, "tls_server_config");
	for (p = sect->data.mapping.pairs.start; !err && p < sect->data.mapping.pairs.top; p++)
		err = tls_field(ww, wnode(ww, p->key), wnode(ww, p->value));
	if (err)
		return err;
	ww->w->tls = true;
	return tls_cross_checks(ww, sect);
}

static bool bcrypt_b64(char c)
{
	return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9');
}

/* "$2a$", "$2b$" or "$2y$", a cost 04..31, "$", 53 characters of bcrypt's base64. */
static bool is_bcrypt(const char *h)
{
	struct crypt_data cd;
	const char *r;
	int i, cost;

	if (strlen(h) != DM_BCRYPT_LEN || strncmp(h, "$2", 2) || !strchr("aby", h[2]) ||
	    h[3] != '$' || h[6] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9')
		return false;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	for (i = 7; i < DM_BCRYPT_LEN; i++)
		if (!bcrypt_b64(h[i]))
			return false;
	/* libcrypt has the last word: the same salt must come back. */
	memset(&cd, 0, sizeof(cd));
	r = crypt_r("", h, &cd);
	return r && strlen(r) == DM_BCRYPT_LEN && !strncmp(r + 3, h + 3, 29 - 3);
}

static int users_section(struct wwalk *ww, const yaml_node_t *sect)
{
	const yaml_node_pair_t *p;
	const yaml_node_t *k, *v;
	struct dm_webuser *u;
	const char *name, *h;
	int err;

	if (wnull(sect))
		return 0; /* as the toolkit: empty = no authentication */
	if (sect->type != YAML_MAPPING_NODE)
		return werr(ww, sect, "basic_auth_users", "expected a mapping USER: BCRYPT-HASH");
	err = check_mapping(ww, sect, "basic_auth_users");
	for (p = sect->data.mapping.pairs.start; !err && p < sect->data.mapping.pairs.top; p++) {
		k = wnode(ww, p->key);
		v = wnode(ww, p->value);
		name = wscalar(k);
		h = wscalar(v);
		if (!*name || strchr(name, ':') || strlen(name) >= DM_WEB_NAME_MAX)
			return werr(ww, k, "basic_auth_users",
				    "a user name is 1-%d characters without ':'",
				    DM_WEB_NAME_MAX - 1);
		if (ww->w->n_users == DM_WEB_USERS_MAX)
			return werr(ww, k, "basic_auth_users", "at most %d users",
				    DM_WEB_USERS_MAX);
		if (!h || wnull(v) || !is_bcrypt(h))
			return werr(ww, v, "basic_auth_users",
				    "user '%s': not a bcrypt hash ($2y$10$ and 53 characters; "
				    "htpasswd -nBC 10 \"\" makes one)",
				    name);
		u = &ww->w->users[ww->w->n_users++];
		snprintf(u->name, sizeof(u->name), "%s", name);
		memcpy(u->hash, h, DM_BCRYPT_LEN + 1);
	}
	return err;
}

static const char *const top_unsupported[] = {"http_server_config", "rate_limit", NULL};

static int walk_top(struct wwalk *ww, const yaml_node_t *root)
{
	const yaml_node_pair_t *p;
	const yaml_node_t *k, *v;
	const char *name;
	int err;

	if (!root || wnull(root))
		return 0; /* an empty file: plain HTTP, no authentication (as the toolkit) */
	if (root->type != YAML_MAPPING_NODE)
		return werr(ww, root, NULL,
			    "expected a mapping (tls_server_config, basic_auth_users)");
	err = check_mapping(ww, root, NULL);
	for (p = root->data.mapping.pairs.start; !err && p < root->data.mapping.pairs.top; p++) {
		k = wnode(ww, p->key);
		v = wnode(ww, p->value);
		name = wscalar(k);
		if (!strcmp(name, "tls_server_config"))
			err = tls_section(ww, v);
		else if (!strcmp(name, "basic_auth_users"))
			err = users_section(ww, v);
		else if (is_listed(top_unsupported, name))
			err = werr(ww, k, NULL, "%s is not supported by dicomon", name);
		else
			err = werr(ww, k, NULL,
				   "unknown field '%s' (expected tls_server_config, "
				   "basic_auth_users)",
				   name);
	}
	return err;
}

void dm_webcfg_free(struct dm_webcfg *w)
{
	if (!w)
		return;
	free(w->cert_pem);
	if (w->key_pem) {
		explicit_bzero(w->key_pem, strlen(w->key_pem));
		free(w->key_pem);
	}
	free(w->ca_pem);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

int dm_webcfg_parse(const char *name, const char *dir, const char *text, size_t len,
		    struct dm_webcfg **out, char *err, size_t errlen)
{
	struct wwalk ww = {.file = name, .dir = dir, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	*out = NULL;
	ww.w = calloc(1, sizeof(*ww.w));
	if (!ww.w)
		return -ENOMEM;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu:%lu: %s", name,
			 (unsigned long)parser.problem_mark.line + 1,
			 (unsigned long)parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		dm_webcfg_free(ww.w);
		return -EINVAL;
	}
	ww.doc = &doc;
	rc = walk_top(&ww, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc) {
		dm_webcfg_free(ww.w);
		return rc;
	}
	*out = ww.w;
	return 0;
}

int dm_webcfg_load(const char *path, struct dm_webcfg **out, char *err, size_t errlen)
{
	char dir[4096], *slash, *text;
	size_t len;
	int rc;

	*out = NULL;
	text = slurp(path, &len);
	if (!text) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read the web config: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		dir[0] = 0;
	rc = dm_webcfg_parse(path, slash && !dir[0] ? "/" : dir, text, len, out, err, errlen);
	free(text);
	return rc;
}

/* Equal in time independent of where they differ. */
static bool same_bytes(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static void digest(const struct dm_webuser *u, const char *pass, unsigned char out[32])
{
	gnutls_hash_hd_t h;

	memset(out, 0, 32);
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return;
	gnutls_hash(h, u->hash, DM_BCRYPT_LEN);
	gnutls_hash(h, pass, strlen(pass) + 1);
	gnutls_hash_deinit(h, out);
}

/* Costs a bcrypt of the same cost as the real ones when the user is unknown. */
static const char dummy_hash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPe7Z3CHYNdn59lTEPoqRwhXj0e1m.TDA.";

int dm_webcfg_check_user(struct dm_webcfg *w, const char *user, const char *pass, bool may_bcrypt)
{
	struct dm_webuser *u = NULL;
	unsigned char d[32];
	struct crypt_data cd;
	const char *r;
	int i, ok;

	for (i = 0; i < w->n_users && !u; i++)
		if (!strcmp(w->users[i].name, user))
			u = &w->users[i];
	if (u) {
		digest(u, pass, d);
		if (u->cached && same_bytes(d, u->ok_digest, sizeof(d)))
			return 1;
	}
	if (!may_bcrypt)
		return -EAGAIN;
	memset(&cd, 0, sizeof(cd));
	r = crypt_r(pass, u ? u->hash : dummy_hash, &cd);
	ok = u && r && strlen(r) == DM_BCRYPT_LEN && same_bytes(r, u->hash, DM_BCRYPT_LEN);
	if (ok) {
		memcpy(u->ok_digest, d, sizeof(d));
		u->cached = true;
	}
	explicit_bzero(&cd, sizeof(cd));
	return ok;
}
