// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Windowed counters and the AE title registry (policy.h). The allow-list is
 * read with libyaml's document API, like the config file, so every error
 * names the line and column it is about.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "detect/policy.h"

uint32_t dm_win_add(struct dm_win *w, uint64_t now_ns, uint32_t window_s, uint32_t n)
{
	uint64_t width = (uint64_t)(window_s ? window_s : 1) * 1000000000ull / DM_WIN_BUCKETS;
	uint64_t e = now_ns / width, i;
	uint32_t sum = 0;
	int b;

	if (e > w->epoch) {
		if (e - w->epoch >= DM_WIN_BUCKETS)
			memset(w->cnt, 0, sizeof(w->cnt));
		else
			for (i = w->epoch + 1; i <= e; i++)
				w->cnt[i % DM_WIN_BUCKETS] = 0;
		w->epoch = e;
	}
	/* An event older than the newest bucket (out of order) counts in the newest. */
	w->cnt[w->epoch % DM_WIN_BUCKETS] += n;
	for (b = 0; b < DM_WIN_BUCKETS; b++)
		sum += w->cnt[b];
	return sum;
}

uint32_t dm_distinct_add(struct dm_distinct *d, uint32_t h, uint64_t now_ns, uint32_t window_s)
{
	uint32_t now = (uint32_t)(now_ns / 1000000000ull) + 1, n = 0;
	int i, slot = -1, oldest = 0;

	for (i = 0; i < DM_DISTINCT_CAP; i++) {
		if (d->last_s[i] && now - d->last_s[i] >= window_s && now >= d->last_s[i])
			d->last_s[i] = 0; /* out of the window */
		if (d->last_s[i] && d->h[i] == h)
			slot = i;
		if (d->last_s[i] < d->last_s[oldest])
			oldest = i;
	}
	/* A new value takes an empty slot, or the one seen longest ago. */
	if (slot < 0) {
		slot = oldest;
		d->h[slot] = h;
	}
	d->last_s[slot] = now;
	for (i = 0; i < DM_DISTINCT_CAP; i++)
		n += d->last_s[i] != 0;
	return n;
}

uint32_t dm_hash32(const void *p, size_t n, uint32_t seed)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u ^ seed;

	while (n--)
		h = (h ^ *b++) * 16777619u; /* FNV-1a */
	return h ^ (h >> 15);
}

/* ---- AE registry ---- */

#define IDX_SLOTS  (DM_AE_REG_MAX * 2)
#define PAIR_SLOTS (DM_AE_PAIRS_MAX * 2)

int dm_ae_reg_init(struct dm_ae_reg *g)
{
	memset(g, 0, sizeof(*g));
	g->e = calloc(DM_AE_REG_MAX, sizeof(*g->e));
	g->idx = calloc(IDX_SLOTS, sizeof(*g->idx));
	g->pairs = calloc(PAIR_SLOTS, sizeof(*g->pairs));
	if (!g->e || !g->idx || !g->pairs) {
		dm_ae_reg_free(g);
		return -ENOMEM;
	}
	return 0;
}

void dm_ae_reg_free(struct dm_ae_reg *g)
{
	free(g->e);
	free(g->idx);
	free(g->pairs);
	memset(g, 0, sizeof(*g));
}

void dm_ae_reg_clear(struct dm_ae_reg *g)
{
	memset(g->idx, 0, IDX_SLOTS * sizeof(*g->idx));
	memset(g->pairs, 0, PAIR_SLOTS * sizeof(*g->pairs));
	g->n = g->n_pairs = 0;
	g->dropped_titles = g->dropped_binds = g->dropped_pairs = 0;
}

static uint32_t *title_slot(const struct dm_ae_reg *g, const char *title)
{
	uint32_t h = dm_hash32(title, strlen(title), 0x41e) % IDX_SLOTS, i;

	/* Half full at most (DM_AE_REG_MAX entries in twice the slots): always ends. */
	for (i = 0; i < IDX_SLOTS; i++, h = (h + 1) % IDX_SLOTS)
		if (!g->idx[h] || !strcmp(g->e[g->idx[h] - 1].title, title))
			return &g->idx[h];
	return NULL;
}

struct dm_ae_entry *dm_ae_reg_find(const struct dm_ae_reg *g, const char *title)
{
	uint32_t *s = title_slot(g, title);

	return s && *s ? &g->e[*s - 1] : NULL;
}

struct dm_ae_entry *dm_ae_reg_add(struct dm_ae_reg *g, const char *title, int line)
{
	uint32_t *s = title_slot(g, title);
	struct dm_ae_entry *e;

	if (s && *s)
		return &g->e[*s - 1];
	if (!s || g->n >= DM_AE_REG_MAX) {
		g->dropped_titles++;
		return NULL;
	}
	e = &g->e[g->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->title, sizeof(e->title), "%s", title);
	e->line = line;
	*s = ++g->n;
	return e;
}

int dm_ae_reg_bind(struct dm_ae_reg *g, struct dm_ae_entry *e, const struct dm_cidr *c)
{
	int i;

	for (i = 0; i < e->n_bind; i++)
		if (!memcmp(&e->bind[i], c, sizeof(*c)))
			return 0;
	if (e->n_bind >= DM_AE_BIND_MAX) {
		g->dropped_binds++;
		return -ENOSPC;
	}
	e->bind[e->n_bind++] = *c;
	return 0;
}

int dm_ae_reg_bound(const struct dm_ae_entry *e, uint8_t family, const uint32_t a[4])
{
	int i;

	if (!e->n_bind)
		return 1;
	for (i = 0; i < e->n_bind; i++)
		if (dm_cidr_match(&e->bind[i], family, a))
			return 1;
	return 0;
}

static uint64_t pair_key(const struct dm_ae_reg *g, const struct dm_ae_entry *a,
			 const struct dm_ae_entry *b)
{
	return (uint64_t)(a - g->e + 1) << 32 | (uint64_t)(b - g->e + 1);
}

static uint64_t *pair_slot(const struct dm_ae_reg *g, uint64_t k)
{
	uint32_t h = dm_hash32(&k, sizeof(k), 0x9a1) % PAIR_SLOTS, i;

	for (i = 0; i < PAIR_SLOTS; i++, h = (h + 1) % PAIR_SLOTS)
		if (!g->pairs[h] || g->pairs[h] == k)
			return &g->pairs[h];
	return NULL;
}

int dm_ae_reg_add_pair(struct dm_ae_reg *g, const struct dm_ae_entry *calling,
		       const struct dm_ae_entry *called)
{
	uint64_t k = pair_key(g, calling, called), *s = pair_slot(g, k);

	if (s && *s)
		return 0;
	if (!s || g->n_pairs >= DM_AE_PAIRS_MAX) {
		g->dropped_pairs++;
		return -ENOSPC;
	}
	*s = k;
	g->n_pairs++;
	return 0;
}

bool dm_ae_reg_has_pair(const struct dm_ae_reg *g, const struct dm_ae_entry *calling,
			const struct dm_ae_entry *called)
{
	uint64_t *s = pair_slot(g, pair_key(g, calling, called));

	return s && *s;
}

/* ---- allow-list file ---- */

struct aload {
	yaml_document_t *doc;
	struct dm_ae_reg *g;
	const char *file;
	char *err;
	size_t errlen;
};

static int aerr(struct aload *l, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int aerr(struct aload *l, const yaml_node_t *n, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len = snprintf(l->err, l->errlen, "%s:%lu:%lu: ", l->file,
		       (unsigned long)n->start_mark.line + 1,
		       (unsigned long)n->start_mark.column + 1);
	if (len < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + len, l->errlen - len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static yaml_node_t *anode(struct aload *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

static const char *ascalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A title as an operator writes it: printable ASCII, at most 16 characters once unescaped. */
static int check_title(struct aload *l, const yaml_node_t *n, const char **out)
{
	const char *s = ascalar(n), *p;

	if (!s || !*s)
		return aerr(l, n, "an AE title must be a non-empty string");
	if (strlen(s) >= DM_AE_STR)
		return aerr(l, n, "AE title '%.20s...' is longer than 16 characters", s);
	for (p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return aerr(l, n,
				    "AE title has a byte outside printable ASCII "
				    "(write it as \\xHH, as dicomon prints it)");
	if (s[0] == ' ' || s[strlen(s) - 1] == ' ')
		return aerr(l, n, "AE title '%s': leading or trailing spaces are not significant",
			    s);
	*out = s;
	return 0;
}

static const yaml_node_t *map_get(struct aload *l, const yaml_node_t *m, const char *key)
{
	const yaml_node_pair_t *p;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
		if (ascalar(anode(l, p->key)) && !strcmp(ascalar(anode(l, p->key)), key))
			return anode(l, p->value);
	return NULL;
}

static int only_keys(struct aload *l, const yaml_node_t *m, const char *const *keys)
{
	const yaml_node_pair_t *p;
	const char *k;
	int i;

	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		k = ascalar(anode(l, p->key));
		for (i = 0; k && keys[i] && strcmp(k, keys[i]); i++)
			;
		if (!k || !keys[i])
			return aerr(l, anode(l, p->key), "unknown key '%s' here (expected %s%s%s)",
				    k ? k : "?", keys[0], keys[1] ? " or " : "",
				    keys[1] ? keys[1] : "");
	}
	return 0;
}

static int load_title(struct aload *l, const yaml_node_t *e)
{
	static const char *const keys[] = {"title", "addresses", NULL};
	const yaml_node_t *t, *a, *x;
	const yaml_node_item_t *it;
	struct dm_ae_entry *ent;
	struct dm_cidr c;
	const char *title;
	int err;

	if (e->type != YAML_MAPPING_NODE)
		return aerr(l, e,
			    "an ae_titles entry must be a mapping {title: ..., addresses: [...]}");
	err = only_keys(l, e, keys);
	if (err)
		return err;
	t = map_get(l, e, "title");
	if (!t)
		return aerr(l, e, "an ae_titles entry without 'title'");
	err = check_title(l, t, &title);
	if (err)
		return err;
	ent = dm_ae_reg_find(l->g, title);
	if (ent && ent->line)
		return aerr(l, t, "AE title '%s' is listed twice (first on line %d)", title,
			    ent->line);
	ent = dm_ae_reg_add(l->g, title, t->start_mark.line + 1);
	if (!ent)
		return aerr(l, t, "more than %d AE titles", DM_AE_REG_MAX);
	ent->line = t->start_mark.line + 1;
	a = map_get(l, e, "addresses");
	if (!a || (ascalar(a) && !*ascalar(a)))
		return 0;
	if (a->type != YAML_SEQUENCE_NODE)
		return aerr(l, a, "addresses must be a list [ADDRESS or ADDRESS/PREFIX, ...]");
	for (it = a->data.sequence.items.start; it < a->data.sequence.items.top; it++) {
		x = anode(l, *it);
		if (!ascalar(x) || dm_cidr_parse(ascalar(x), &c))
			return aerr(l, x, "'%s' is not an address or ADDRESS/PREFIX",
				    ascalar(x) ? ascalar(x) : "(not a value)");
		if (dm_ae_reg_bind(l->g, ent, &c))
			return aerr(l, x, "more than %d addresses for one AE title",
				    DM_AE_BIND_MAX);
	}
	return 0;
}

static int load_pair(struct aload *l, const yaml_node_t *e)
{
	static const char *const keys[] = {"calling", "called", NULL};
	const yaml_node_t *a, *b;
	struct dm_ae_entry *ea, *eb;
	const char *sa, *sb;
	int err;

	if (e->type != YAML_MAPPING_NODE)
		return aerr(l, e, "a pairs entry must be a mapping {calling: ..., called: ...}");
	err = only_keys(l, e, keys);
	if (err)
		return err;
	a = map_get(l, e, "calling");
	b = map_get(l, e, "called");
	if (!a || !b)
		return aerr(l, e, "a pairs entry needs both 'calling' and 'called'");
	err = check_title(l, a, &sa);
	if (!err)
		err = check_title(l, b, &sb);
	if (err)
		return err;
	/* A title only named in a pair is allowed from anywhere. */
	ea = dm_ae_reg_add(l->g, sa, 0);
	eb = dm_ae_reg_add(l->g, sb, 0);
	if (!ea || !eb)
		return aerr(l, e, "more than %d AE titles", DM_AE_REG_MAX);
	if (dm_ae_reg_add_pair(l->g, ea, eb))
		return aerr(l, e, "more than %d pairs", DM_AE_PAIRS_MAX);
	return 0;
}

static int load_list(struct aload *l, const yaml_node_t *v, const char *name,
		     int (*fn)(struct aload *, const yaml_node_t *))
{
	const yaml_node_item_t *it;
	int err;

	if (ascalar(v) && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!*ascalar(v) || !strcmp(ascalar(v), "~") || !strcmp(ascalar(v), "null")))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return aerr(l, v, "%s must be a list", name);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		err = fn(l, anode(l, *it));
		if (err)
			return err;
	}
	return 0;
}

static int load_doc(struct aload *l, const yaml_node_t *root)
{
	static const char *const keys[] = {"ae_titles", "pairs", NULL};
	const yaml_node_t *v;
	int err;

	if (ascalar(root) && !*ascalar(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return aerr(l, root, "expected a mapping with ae_titles: and pairs:");
	err = only_keys(l, root, keys);
	if (err)
		return err;
	/* Titles first, whatever the order in the file, so pairs never shadow a line number. */
	v = map_get(l, root, "ae_titles");
	if (v && (err = load_list(l, v, "ae_titles", load_title)))
		return err;
	v = map_get(l, root, "pairs");
	if (v && (err = load_list(l, v, "pairs", load_pair)))
		return err;
	return 0;
}

static int load_parser(struct dm_ae_reg *g, const char *name, yaml_parser_t *p, char *err,
		       size_t errlen)
{
	struct aload l = {.g = g, .file = name, .err = err, .errlen = errlen};
	yaml_document_t doc;
	yaml_node_t *root;
	int ret;

	dm_ae_reg_clear(g);
	if (!yaml_parser_load(p, &doc)) {
		snprintf(err, errlen, "%s:%lu:%lu: YAML syntax error: %s", name,
			 (unsigned long)p->problem_mark.line + 1,
			 (unsigned long)p->problem_mark.column + 1,
			 p->problem ? p->problem : "unknown");
		return -EINVAL;
	}
	l.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	ret = root ? load_doc(&l, root) : 0;
	yaml_document_delete(&doc);
	if (ret)
		dm_ae_reg_clear(g);
	return ret;
}

int dm_ae_reg_parse(struct dm_ae_reg *g, const char *name, const char *text, size_t len, char *err,
		    size_t errlen)
{
	yaml_parser_t p;
	int ret;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	ret = load_parser(g, name, &p, err, errlen);
	yaml_parser_delete(&p);
	return ret;
}

int dm_ae_reg_load(struct dm_ae_reg *g, const char *path, char *err, size_t errlen)
{
	yaml_parser_t p;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read AE allow-list %s: %s", path, strerror(errno));
		return ret;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&p, f);
	ret = load_parser(g, path, &p, err, errlen);
	yaml_parser_delete(&p);
	fclose(f);
	return ret;
}

static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fprintf(f, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
	fputc('"', f);
}

int dm_ae_reg_write(const struct dm_ae_reg *g, FILE *f)
{
	char net[INET6_ADDRSTRLEN + 8];
	uint32_t i, j;
	uint64_t k;

	fprintf(f, "# dicomon AE title allow-list (policy.ae_allowlist): review before use.\n"
		   "# A title with no addresses is allowed from anywhere.\n");
	fprintf(f, "ae_titles:%s\n", g->n ? "" : " []");
	for (i = 0; i < g->n; i++) {
		fprintf(f, "  - title: ");
		put_quoted(f, g->e[i].title);
		fprintf(f, "\n    addresses: [");
		for (j = 0; j < g->e[i].n_bind; j++) {
			dm_cidr_format(&g->e[i].bind[j], net, sizeof(net));
			fprintf(f, "%s\"%s\"", j ? ", " : "", net);
		}
		fprintf(f, "]\n");
	}
	fprintf(f, "pairs:%s\n", g->n_pairs ? "" : " []");
	for (i = 0; i < PAIR_SLOTS; i++) {
		k = g->pairs[i];
		if (!k)
			continue;
		fprintf(f, "  - {calling: ");
		put_quoted(f, g->e[(k >> 32) - 1].title);
		fprintf(f, ", called: ");
		put_quoted(f, g->e[(uint32_t)k - 1].title);
		fprintf(f, "}\n");
	}
	return ferror(f) ? -EIO : 0;
}
