// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The /metrics web config (config/webcfg.c): a good file in full, each error
 * with its line and column, and the password check. The certificates are made
 * by openssl in a scratch directory (no key in git); the bcrypt hashes by
 * libcrypt at cost 4.
 */
#include <crypt.h>
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
#include "config/webcfg.h"

static char dir[64], err[1024], hash[128];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int setup(void **state)
{
	struct crypt_data cd;
	char salt[64];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/dm-webcfg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* ca (self-signed, signs server.crt), other.key (matches nothing), junk.pem */
	if (sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout ca.key "
	       "-out ca.crt -subj /CN=ca 2>/dev/null && openssl req -newkey rsa:2048 -nodes "
	       "-keyout server.key -out server.csr -subj /CN=s 2>/dev/null && openssl x509 -req "
	       "-in server.csr -CA ca.crt -CAkey ca.key -set_serial 7 -days 1 -out server.crt "
	       "2>/dev/null && openssl genrsa -out other.key 2048 2>/dev/null && echo junk > "
	       "junk.pem",
	       dir))
		return -1;
	memset(&cd, 0, sizeof(cd));
	if (!crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof(salt)))
		return -1;
	snprintf(hash, sizeof(hash), "%s", crypt_r("right horse", salt, &cd));
	return strlen(hash) == DM_BCRYPT_LEN ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf %s", dir);
}

static struct dm_webcfg *w;

static int parse(const char *text)
{
	dm_webcfg_free(w);
	w = NULL;
	err[0] = 0;
	return dm_webcfg_parse("web.yml", dir, text, strlen(text), &w, err, sizeof(err));
}

/* text must fail with a message containing want. */
static void bad(const char *text, const char *want)
{
	int rc = parse(text);

	if (rc != -EINVAL || !strstr(err, want))
		fail_msg("rc %d, '%s' not in '%s' for:\n%s", rc, want, err, text);
	assert_null(w);
}

static void test_good_file(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text),
		 "tls_server_config:\n  cert_file: server.crt\n  key_file: %s/server.key\n"
		 "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
		 "  min_version: TLS13\nbasic_auth_users:\n  prometheus: %s\n  'alice': %s\n",
		 dir, hash, hash);
	assert_int_equal(parse(text), 0);
	assert_non_null(w);
	assert_true(w->tls);
	assert_non_null(strstr(w->cert_pem, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(w->key_pem, "PRIVATE KEY"));
	assert_non_null(strstr(w->ca_pem, "BEGIN CERTIFICATE"));
	assert_int_equal(w->client_auth, DM_CLIENT_REQUIRE_VERIFY);
	assert_string_equal(w->priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
	assert_int_equal(w->n_users, 2);
	assert_string_equal(w->users[1].name, "alice");
	assert_string_equal(w->users[0].hash, hash);
}

static void test_defaults_and_empty(void **state)
{
	char text[512];

	(void)state;
	assert_int_equal(parse(""), 0); /* as the toolkit: plain HTTP, anyone */
	assert_false(w->tls);
	assert_int_equal(w->n_users, 0);
	assert_int_equal(parse("basic_auth_users:\n"), 0);
	assert_int_equal(w->n_users, 0);
	snprintf(text, sizeof(text),
		 "tls_server_config:\n  cert_file: server.crt\n"
		 "  key_file: server.key\n");
	assert_int_equal(parse(text), 0);
	assert_int_equal(w->client_auth, DM_CLIENT_NO_CERT);
	assert_null(w->ca_pem);
	assert_string_equal(w->priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3");
	snprintf(text, sizeof(text), "basic_auth_users: {u: '%s'}\n", hash);
	assert_int_equal(parse(text), 0); /* basic auth without TLS is allowed */
	assert_false(w->tls);
	assert_int_equal(w->n_users, 1);
}

#define TLS_HEAD "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"

static void test_structure_errors(void **state)
{
	(void)state;
	bad("tls_server_config: [a\n", "web.yml:2:1: ");
	bad("- a\n- b\n", "web.yml:1:1: expected a mapping");
	bad("tls_config:\n  cert_file: x\n", "web.yml:1:1: unknown field 'tls_config'");
	bad("http_server_config:\n  http2: true\n",
	    "web.yml:1:1: http_server_config is not supported by dicomon");
	bad("rate_limit: {}\n", "web.yml:1:1: rate_limit is not supported");
	bad(TLS_HEAD "  cert_fiel: x\n",
	    "web.yml:4:3: unknown field 'tls_server_config.cert_fiel'");
	bad(TLS_HEAD "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
	    "web.yml:4:3: tls_server_config.cipher_suites is not supported");
	bad(TLS_HEAD "  key_file: server.key\n", "web.yml:4:3: tls_server_config: 'key_file' "
						 "given twice");
	bad("basic_auth_users: {}\nbasic_auth_users: {}\n", "web.yml:2:1: 'basic_auth_users' "
							    "given twice");
	bad("tls_server_config:\n", "web.yml:1:19: tls_server_config: empty");
	bad("tls_server_config: yes\n", "web.yml:1:20: tls_server_config: expected a mapping");
	bad("basic_auth_users: [a]\n", "web.yml:1:19: basic_auth_users: expected a mapping");
	bad("[a]: b\n", "a key must be a plain name");
}

static void test_tls_errors(void **state)
{
	(void)state;
	bad("tls_server_config:\n  cert_file: server.crt\n",
	    "web.yml:2:3: tls_server_config: cert_file and key_file are required");
	bad("tls_server_config:\n  cert_file: server.crt\n  key_file: nope.key\n",
	    "web.yml:3:13: key_file: cannot read '");
	bad("tls_server_config:\n  cert_file: server.crt\n  key_file: nope.key\n",
	    "nope.key': No such file or directory");
	bad("tls_server_config:\n  cert_file:\n  key_file: server.key\n",
	    "web.yml:2:13: cert_file: expected a file name");
	bad("tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n",
	    "web.yml:2:3: tls_server_config: cert_file/key_file: not a PEM certificate and its "
	    "unencrypted key");
	bad("tls_server_config:\n  cert_file: junk.pem\n  key_file: server.key\n",
	    "cert_file/key_file: not a PEM");
	bad(TLS_HEAD "  client_auth_type: Sometimes\n",
	    "web.yml:4:21: client_auth_type: 'Sometimes' is not NoClientCert");
	bad(TLS_HEAD "  client_auth_type: RequireAnyClientCert\n",
	    "'RequireAnyClientCert' accepts unverified certificates");
	bad(TLS_HEAD "  client_auth_type: RequireAndVerifyClientCert\n",
	    "web.yml:2:3: tls_server_config: client_auth_type RequireAndVerifyClientCert needs "
	    "client_ca_file");
	bad(TLS_HEAD "  client_ca_file: ca.crt\n",
	    "web.yml:4:3: client_ca_file: unused with client_auth_type NoClientCert");
	bad(TLS_HEAD "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: junk.pem\n",
	    "web.yml:5:3: client_ca_file: no PEM certificate in it");
	bad(TLS_HEAD "  min_version: TLS14\n",
	    "web.yml:4:16: min_version: 'TLS14' is not TLS10, TLS11, TLS12 or TLS13");
	bad(TLS_HEAD "  min_version: TLS13\n  max_version: TLS12\n",
	    "min_version TLS13 is above max_version TLS12");
}

static void test_user_errors(void **state)
{
	char text[512], h2[128];

	(void)state;
	bad("basic_auth_users:\n  prometheus: hunter2\n",
	    "web.yml:2:15: basic_auth_users: user 'prometheus': not a bcrypt hash");
	snprintf(h2, sizeof(h2), "%s", hash);
	h2[DM_BCRYPT_LEN - 1] = 0; /* one character short */
	snprintf(text, sizeof(text), "basic_auth_users:\n  u: '%s'\n", h2);
	bad(text, "web.yml:2:6: basic_auth_users: user 'u': not a bcrypt hash");
	snprintf(h2, sizeof(h2), "%s", hash);
	memcpy(h2 + 4, "03", 2); /* cost below bcrypt's 4 */
	snprintf(text, sizeof(text), "basic_auth_users:\n  u: '%s'\n", h2);
	bad(text, "not a bcrypt hash");
	snprintf(h2, sizeof(h2), "%s", hash);
	h2[2] = 'x'; /* $2x$: the buggy-variant prefix */
	snprintf(text, sizeof(text), "basic_auth_users:\n  u: '%s'\n", h2);
	bad(text, "not a bcrypt hash");
	snprintf(h2, sizeof(h2), "%s", hash);
	h2[20] = '!';
	snprintf(text, sizeof(text), "basic_auth_users:\n  u: '%s'\n", h2);
	bad(text, "not a bcrypt hash");
	snprintf(text, sizeof(text), "basic_auth_users:\n  'a:b': '%s'\n", hash);
	bad(text, "web.yml:2:3: basic_auth_users: a user name is 1-63 characters without ':'");
	bad("basic_auth_users:\n  u:\n", "user 'u': not a bcrypt hash");
}

static void test_load(void **state)
{
	char path[128];
	FILE *f;

	(void)state;
	assert_int_equal(dm_webcfg_load("/nonexistent/web.yml", &w, err, sizeof(err)), -ENOENT);
	assert_null(w);
	assert_non_null(strstr(err, "/nonexistent/web.yml: cannot read the web config"));
	/* relative names are next to the file, not in the working directory */
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(TLS_HEAD, f);
	fclose(f);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(dm_webcfg_load(path, &w, err, sizeof(err)), 0);
	assert_true(w->tls);
	dm_webcfg_free(w);
	w = NULL;
}

static void test_check_user(void **state)
{
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "basic_auth_users:\n  prometheus: '%s'\n  bob: '%s'\n", hash,
		 hash);
	assert_int_equal(parse(text), 0);
	assert_int_equal(dm_webcfg_check_user(w, "prometheus", "right horse", true), 1);
	assert_true(w->users[0].cached);
	assert_false(w->users[1].cached);
	assert_int_equal(dm_webcfg_check_user(w, "prometheus", "right horse", false),
			 1); /* cached */
	assert_int_equal(dm_webcfg_check_user(w, "prometheus", "right hors", true), 0);
	assert_int_equal(dm_webcfg_check_user(w, "prometheus", "right horse ", true), 0);
	assert_int_equal(dm_webcfg_check_user(w, "prometheus", "", true), 0);
	assert_int_equal(dm_webcfg_check_user(w, "Prometheus", "right horse", true), 0);
	assert_int_equal(dm_webcfg_check_user(w, "nobody", "right horse", true), 0);
	assert_int_equal(dm_webcfg_check_user(w, "bob", "right horse", true), 1);
	/* the cache holds only what bcrypt accepted: a wrong password is never remembered */
	assert_int_equal(dm_webcfg_check_user(w, "bob", "wrong", true), 0);
	assert_int_equal(dm_webcfg_check_user(w, "bob", "right horse", true), 1);
	/* without a bcrypt: only what the cache answers */
	assert_int_equal(dm_webcfg_check_user(w, "bob", "right horse", false), 1);
	assert_int_equal(dm_webcfg_check_user(w, "bob", "wrong", false), -EAGAIN);
	assert_int_equal(dm_webcfg_check_user(w, "nobody", "right horse", false), -EAGAIN);
	dm_webcfg_free(w);
	w = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_defaults_and_empty),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_tls_errors),
	    cmocka_unit_test(test_user_errors),
	    cmocka_unit_test(test_check_user),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
