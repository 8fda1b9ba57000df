/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The /metrics web configuration file (metrics.web_config_file), in the format
 * of the Prometheus exporter-toolkit (its docs/web-configuration.md), so one
 * file serves dicomon and the node exporter next to it:
 *
 *   tls_server_config:
 *     cert_file: server.crt          # relative names: next to this file
 *     key_file: server.key
 *     client_auth_type: RequireAndVerifyClientCert
 *     client_ca_file: clients-ca.crt
 *     min_version: TLS12
 *   basic_auth_users:
 *     prometheus: $2y$10$...         # bcrypt (htpasswd -nBC 10 "")
 *
 * Read once at startup: the certificate, key and CA are loaded and checked
 * here (GnuTLS parses them, the key must match the certificate), each hash
 * is checked to be bcrypt. Unknown fields and the toolkit's fields dicomon
 * does not implement are errors naming the line and column.
 */
#ifndef __DM_WEBCFG_H
#define __DM_WEBCFG_H

#include <stdbool.h>
#include <stddef.h>

#define DM_WEB_USERS_MAX 32
#define DM_WEB_NAME_MAX	 64
#define DM_BCRYPT_LEN	 60

enum dm_client_auth {
	DM_CLIENT_NO_CERT,	   /* NoClientCert */
	DM_CLIENT_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
	DM_CLIENT_REQUIRE_VERIFY,  /* RequireAndVerifyClientCert */
};

struct dm_webuser {
	char name[DM_WEB_NAME_MAX];
	char hash[DM_BCRYPT_LEN + 1];
	/* SHA-256 of the last password bcrypt accepted: later scrapes skip bcrypt */
	unsigned char ok_digest[32];
	bool cached;
};

struct dm_webcfg {
	bool tls;
	char *cert_pem, *key_pem, *ca_pem; /* file contents, NUL-terminated; ca_pem may be NULL */
	enum dm_client_auth client_auth;
	char priorities[160]; /* GnuTLS priority string from min_version/max_version */
	int n_users;	      /* 0: no basic auth */
	struct dm_webuser users[DM_WEB_USERS_MAX];
};

/*
 * Read path; *out is NULL-free on success. Errors: err holds
 * "FILE:LINE:COLUMN: field: what is wrong" (or "FILE: ..." if it cannot be
 * read); returns -EINVAL or -errno.
 */
int dm_webcfg_load(const char *path, struct dm_webcfg **out, char *err, size_t errlen);
/* The same from memory; relative file names are taken from dir. */
int dm_webcfg_parse(const char *name, const char *dir, const char *text, size_t len,
		    struct dm_webcfg **out, char *err, size_t errlen);
void dm_webcfg_free(struct dm_webcfg *w);

/*
 * 1 if user/pass match a basic_auth_users entry, else 0. bcrypt through
 * libcrypt, its result compared in constant time; an unknown user costs a
 * bcrypt too. A match is remembered as a digest so the next scrape with the
 * same password skips bcrypt (as the toolkit caches). -EAGAIN when the
 * answer needs a bcrypt and may_bcrypt is false (the caller's budget).
 */
int dm_webcfg_check_user(struct dm_webcfg *w, const char *user, const char *pass, bool may_bcrypt);

#endif /* __DM_WEBCFG_H */
