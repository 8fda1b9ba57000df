// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The YAML config file, read with libyaml's document API: the whole file is
 * loaded into a node tree, then walked section by section. Every node carries
 * its start mark, so each error names the line and column it is about.
 *
 *   interfaces: [eth0, {name: eth1, xdp_mode: off, tc_ingress: true}]
 *   attach:    {xdp_mode: auto, ...}       detection: {ports: [104, 11112], ...}
 *   maps:      {flow_slots: 16384, ...}    state:     {pin_root: ..., ...}
 *   output:    {json: false, ...}          table:     {max_associations: 65536, ...}
 *
 * Values are plain scalars; libyaml does not resolve types, so "yes", "on",
 * "true" are all text to dm_key_set(), which decides what they mean.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "config/yaml_config.h"

struct ywalk {
	yaml_document_t *doc;
	struct dm_config *cfg;
	const char *file;
	char *err;
	size_t errlen;
	unsigned char
	    seen[128]; /* dm_keys[] indices already set by this file (unit-tested >= dm_n_keys) */
};

static int yerr(struct ywalk *w, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int yerr(struct ywalk *w, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len = snprintf(w->err, w->errlen, "%s:%lu:%lu: %s%s", w->file,
		       (unsigned long)n->start_mark.line + 1,
		       (unsigned long)n->start_mark.column + 1, key ? key : "", key ? ": " : "");
	if (len < w->errlen) {
		va_start(ap, fmt);
		vsnprintf(w->err + len, w->errlen - len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static yaml_node_t *node(struct ywalk *w, int id)
{
	return yaml_document_get_node(w->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* `key:` with nothing after it, or an explicit null. */
static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static const char *type_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE    ? "a mapping"
	       : n->type == YAML_SEQUENCE_NODE ? "a list"
					       : "a value";
}

/* Edit distance, for "did you mean"; names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[33], cur[33];

	if (la > 32 || lb > 32)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t n = 0;

	while (a[n] && a[n] == b[n])
		n++;
	return n;
}

/* The key closest to `name` (a full "section.key" or a bare "key"), or NULL. */
static const char *suggest(const char *section, const char *name)
{
	const char *best = NULL, *dot;
	size_t i, d, bd = 3;
	char full[96];

	snprintf(full, sizeof(full), "%s%s%s", section ? section : "", section ? "." : "", name);
	for (i = 0; i < dm_n_keys; i++) {
		dot = strchr(dm_keys[i].name, '.');
		d = distance(full, dm_keys[i].name);
		/* A key put in the wrong section, or at the top level. */
		if (dot && !strcmp(dot + 1, name))
			d = 1;
		/* Most of the name right, in the right section: max_assocs. */
		else if (dot && section && strlen(section) == (size_t)(dot - dm_keys[i].name) &&
			 !strncmp(dm_keys[i].name, section, dot - dm_keys[i].name) &&
			 common_prefix(dot + 1, name) >= 4 &&
			 2 * common_prefix(dot + 1, name) >= strlen(name))
			d = 2;
		if (d < bd) {
			bd = d;
			best = dm_keys[i].name;
		}
	}
	return best;
}

static int unknown_key(struct ywalk *w, const yaml_node_t *k, const char *section, const char *name)
{
	const char *s = suggest(section, name);
	char full[96];

	snprintf(full, sizeof(full), "%s%s%s", section ? section : "", section ? "." : "", name);
	if (s)
		return yerr(w, k, NULL, "unknown key '%s' (did you mean '%s'?)", full, s);
	return yerr(w, k, NULL, "unknown key '%s'", full);
}

static int set_ports_list(struct ywalk *w, const struct dm_key *k, const yaml_node_t *v)
{
	uint64_t *map = (uint64_t *)((char *)w->cfg + k->off), one[DM_PORT_WORDS];
	const yaml_node_item_t *it;
	const yaml_node_t *e;
	const char *bad, *s;
	size_t i;

	memset(map, 0, sizeof(one));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		e = node(w, *it);
		s = scalar(e);
		if (!s || is_null(e))
			return yerr(w, e, k->name, "a list element is %s, expected a port or A-B",
				    s ? "empty" : type_name(e));
		if (dm_parse_ports(s, one, &bad))
			return yerr(w, e, k->name,
				    "'%s': expected a port 1-65535 or a range A-B (A <= B)", s);
		for (i = 0; i < DM_PORT_WORDS; i++)
			map[i] |= one[i];
	}
	if (k->max && dm_ports_count(map) > k->max)
		return yerr(w, v, k->name, "at most %u ports", k->max);
	return 0;
}

/* A LIST key as a YAML list: each item checked where it stands, then joined. */
static int set_list_seq(struct ywalk *w, const struct dm_key *k, const yaml_node_t *v)
{
	char *joined = calloc(1, k->size + 1), why[160];
	const yaml_node_item_t *it;
	const yaml_node_t *e;
	size_t n = 0;
	const char *s;
	int err = 0;

	if (!joined)
		return yerr(w, v, k->name, "out of memory");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top && !err; it++) {
		e = node(w, *it);
		s = scalar(e);
		if (!s || is_null(e) || strchr(s, ','))
			err = yerr(w, e, k->name, "a list element is %s",
				   !s ? type_name(e) : *s ? "not a single value" : "empty");
		else if (k->check && k->check(s, why, sizeof(why)))
			err = yerr(w, e, k->name, "%s", why);
		else if (n + strlen(s) + 2 > k->size)
			err = yerr(w, e, k->name, "the list is longer than %zu characters",
				   k->size - 1);
		else
			n += snprintf(joined + n, k->size + 1 - n, "%s%s", n ? "," : "", s);
	}
	if (!err && dm_key_set(w->cfg, k, joined, why, sizeof(why)))
		err = yerr(w, v, k->name, "%s", why);
	free(joined);
	return err;
}

static int set_key(struct ywalk *w, const yaml_node_t *kn, const char *section, const char *name,
		   const yaml_node_t *v)
{
	const struct dm_key *k;
	char full[96], why[160];
	const char *s;
	size_t idx;

	snprintf(full, sizeof(full), "%s.%s", section, name);
	k = dm_key_find(full);
	if (!k)
		return unknown_key(w, kn, section, name);
	idx = k - dm_keys;
	if (idx >= sizeof(w->seen))
		return yerr(w, kn, full, "internal error: too many keys");
	if (w->seen[idx])
		return yerr(w, kn, full, "set twice in this file");
	w->seen[idx] = 1;
	if (k->type == DM_KT_PORTS && v->type == YAML_SEQUENCE_NODE)
		return set_ports_list(w, k, v);
	if (k->type == DM_KT_LIST && v->type == YAML_SEQUENCE_NODE)
		return set_list_seq(w, k, v);
	s = scalar(v);
	if (!s)
		return yerr(w, v, full, "is %s, expected a single value", type_name(v));
	if (is_null(v))
		return yerr(w, v, full, "needs a value");
	if (dm_key_set(w->cfg, k, s, why, sizeof(why)))
		return yerr(w, v, full, "'%s': %s", s, why);
	return 0;
}

static int walk_section(struct ywalk *w, const char *section, const yaml_node_t *v)
{
	const yaml_node_pair_t *p;
	const yaml_node_t *kn;
	const char *name;
	int err;

	if (is_null(v))
		return 0; /* an empty section: all defaults */
	if (v->type != YAML_MAPPING_NODE)
		return yerr(w, v, section, "is %s, expected a mapping of keys", type_name(v));
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		kn = node(w, p->key);
		name = scalar(kn);
		if (!name)
			return yerr(w, kn, section, "keys must be plain names");
		err = set_key(w, kn, section, name, node(w, p->value));
		if (err)
			return err;
	}
	return 0;
}

/* Per-interface hook keys: name -> field of struct dm_iface_cfg. */
static int iface_key(struct ywalk *w, struct dm_iface_cfg *ic, const yaml_node_t *kn,
		     const char *name, const yaml_node_t *v)
{
	const char *s = scalar(v);
	char what[64];
	int b;

	snprintf(what, sizeof(what), "interfaces[%s].%s", ic->name[0] ? ic->name : "?", name);
	if (!s || is_null(v))
		return yerr(w, v, what, "needs a single value");
	if (!strcmp(name, "xdp_mode")) {
		b = dm_parse_enum(s, dm_xdp_mode_names);
		if (b < 0)
			return yerr(w, v, what, "'%s': expected auto, native, generic or off", s);
		ic->xdp_mode = b;
		return 0;
	}
	b = dm_parse_bool(s);
	if (!strcmp(name, "tc_ingress") || !strcmp(name, "tc_egress") ||
	    !strcmp(name, "vlan_meta")) {
		if (b < 0)
			return yerr(w, v, what, "'%s': expected true or false", s);
		if (!strcmp(name, "vlan_meta"))
			ic->vlan_meta = b;
		else if (!strcmp(name, "tc_ingress"))
			ic->tc_ingress = b;
		else
			ic->tc_egress = b;
		return 0;
	}
	return yerr(w, kn, NULL,
		    "unknown key '%s' (an interface takes name, xdp_mode, tc_ingress, tc_egress, "
		    "vlan_meta)",
		    what);
}

static int add_iface(struct ywalk *w, const yaml_node_t *at, const char *name)
{
	int err = dm_config_add_iface(w->cfg, name, at->start_mark.line + 1);

	if (err == -EEXIST)
		return yerr(w, at, "interfaces", "%s is listed twice", name);
	if (err == -E2BIG)
		return yerr(w, at, "interfaces", "more than %d interfaces", DM_MAX_IFACES - 1);
	if (err)
		return yerr(w, at, "interfaces", "'%s' is not an interface name", name);
	return 0;
}

static int walk_iface_map(struct ywalk *w, const yaml_node_t *e)
{
	const yaml_node_pair_t *p;
	const yaml_node_t *kn, *v, *name = NULL;
	struct dm_iface_cfg *ic;
	int err;

	for (p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++)
		if (scalar(node(w, p->key)) && !strcmp(scalar(node(w, p->key)), "name"))
			name = node(w, p->value);
	if (!name)
		return yerr(w, e, "interfaces", "an entry without 'name'");
	if (!scalar(name) || is_null(name))
		return yerr(w, name, "interfaces", "name needs a single value");
	err = add_iface(w, name, scalar(name));
	if (err)
		return err;
	ic = &w->cfg->ifaces[w->cfg->n_ifaces - 1];
	for (p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		kn = node(w, p->key);
		v = node(w, p->value);
		if (!scalar(kn))
			return yerr(w, kn, "interfaces", "keys must be plain names");
		if (!strcmp(scalar(kn), "name"))
			continue;
		err = iface_key(w, ic, kn, scalar(kn), v);
		if (err)
			return err;
	}
	return 0;
}

static int walk_ifaces(struct ywalk *w, const yaml_node_t *v)
{
	const yaml_node_item_t *it;
	const yaml_node_t *e;
	int err;

	w->cfg->n_ifaces = 0;
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return yerr(w, v, "interfaces", "is %s, expected a list (interfaces: [eth0, eth1])",
			    type_name(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		e = node(w, *it);
		if (e->type == YAML_MAPPING_NODE)
			err = walk_iface_map(w, e);
		else if (scalar(e) && !is_null(e))
			err = add_iface(w, e, scalar(e));
		else
			err = yerr(w, e, "interfaces", "a list element is %s",
				   scalar(e) ? "empty" : type_name(e));
		if (err)
			return err;
	}
	return 0;
}

static int walk_root(struct ywalk *w, const yaml_node_t *root)
{
	const yaml_node_pair_t *p;
	const yaml_node_t *kn;
	unsigned int seen = 0, bit;
	const char *name;
	int i, err;

	if (is_null(root))
		return 0; /* an empty file (or only comments): all defaults */
	if (root->type != YAML_MAPPING_NODE)
		return yerr(w, root, NULL,
			    "the file is %s, expected a mapping (interfaces:, %s:, ...)",
			    type_name(root), dm_sections[0]);
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		kn = node(w, p->key);
		name = scalar(kn);
		if (!name)
			return yerr(w, kn, NULL, "keys must be plain names");
		for (i = 0; dm_sections[i] && strcmp(dm_sections[i], name); i++)
			;
		bit = dm_sections[i] ? 1u << i : !strcmp(name, "interfaces") ? 1u << 31 : 0;
		if (!bit)
			return unknown_key(w, kn, NULL, name);
		if (seen & bit)
			return yerr(w, kn, name, "set twice in this file");
		seen |= bit;
		err = dm_sections[i] ? walk_section(w, name, node(w, p->value))
				     : walk_ifaces(w, node(w, p->value));
		if (err)
			return err;
	}
	return 0;
}

static int load(struct dm_config *cfg, const char *name, yaml_parser_t *parser, char *err,
		size_t errlen)
{
	struct ywalk w = {.cfg = cfg, .file = name, .err = err, .errlen = errlen};
	yaml_document_t doc, extra;
	yaml_node_t *root;
	int ret;

	if (!yaml_parser_load(parser, &doc)) {
		snprintf(err, errlen, "%s:%lu:%lu: YAML syntax error: %s%s%s", name,
			 (unsigned long)parser->problem_mark.line + 1,
			 (unsigned long)parser->problem_mark.column + 1,
			 parser->problem ? parser->problem : "unknown", parser->context ? " " : "",
			 parser->context ? parser->context : "");
		return -EINVAL;
	}
	w.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	ret = root ? walk_root(&w, root) : 0;
	if (!ret && root) {
		if (!yaml_parser_load(parser, &extra)) {
			ret = -EINVAL;
			snprintf(err, errlen, "%s:%lu:%lu: YAML syntax error: %s", name,
				 (unsigned long)parser->problem_mark.line + 1,
				 (unsigned long)parser->problem_mark.column + 1,
				 parser->problem ? parser->problem : "unknown");
		} else {
			if (yaml_document_get_root_node(&extra))
				ret = yerr(&w, yaml_document_get_root_node(&extra), NULL,
					   "a second YAML document; one per file");
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	return ret;
}

int dm_config_parse_yaml(struct dm_config *cfg, const char *name, const char *text, size_t len,
			 char *err, size_t errlen)
{
	yaml_parser_t parser;
	int ret;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	ret = load(cfg, name, &parser, err, errlen);
	yaml_parser_delete(&parser);
	return ret;
}

int dm_config_load_yaml(struct dm_config *cfg, const char *path, char *err, size_t errlen)
{
	yaml_parser_t parser;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
		return ret;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	ret = load(cfg, path, &parser, err, errlen);
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}
