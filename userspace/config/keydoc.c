// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The key table and the option rows rendered as documents (keydoc.h): one
 * row of text per key (type, default, reload, help) built from keys.c, then
 * written as a markdown table, troff entries or plain text. The help texts
 * are markdown-ish: `code` and [text](link); troff and text keep the link's
 * text only.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "config/cli.h"
#include "config/config.h"
#include "config/keydoc.h"

const char *const dm_keydoc_fmt_names[] = {"text", "markdown",	  "markdown-options",
					   "man",  "man-options", NULL};

enum style {
	ST_MD,	 /* a markdown table cell: '|' escaped */
	ST_MAN,	 /* troff text */
	ST_MANQ, /* troff, inside a double-quoted macro argument */
	ST_TEXT, /* plain text */
};

/* A key as the documents show it; the strings are markdown-ish. */
struct row {
	const char *name;
	char type[160];
	char def[DM_LIST_MAX + 64];
	char reload[64];
	const char *help;
	const char *note; /* how a reload applies a live key, or NULL */
	bool restart;
};

/* One character of text in style st. */
static void put_char(FILE *out, const char *p, enum style st)
{
	if (st == ST_MD && *p == '|')
		fputs("\\|", out);
	else if ((st == ST_MAN || st == ST_MANQ) && (*p == '\\' || *p == '-'))
		fputs(*p == '\\' ? "\\e" : "\\-", out);
	else if (st == ST_MANQ && *p == '"')
		fputs("\\(dq", out);
	else
		fputc(*p, out);
}

/* s with its markup rendered in style st. */
static void put_inline(FILE *out, const char *s, enum style st)
{
	const char *p, *e, *close;

	for (p = s; *p; p++) {
		if (*p == '`' && (e = strchr(p + 1, '`'))) {
			fputs(st == ST_MD ? "`" : st == ST_TEXT ? "" : "\\fB", out);
			for (p++; p < e; p++)
				put_char(out, p, st);
			fputs(st == ST_MD ? "`" : st == ST_TEXT ? "" : "\\fP", out);
		} else if (*p == '[' && st != ST_MD && (close = strstr(p, "](")) &&
			   (e = strchr(close, ')')) && !memchr(p, '`', close - p)) {
			for (p++; p < close; p++) /* [text](link): the text */
				put_char(out, p, st);
			p = e;
		} else if ((st == ST_MAN || st == ST_MANQ) && !strncmp(p, "\u2013", 3)) {
			fputs("\\(en", out); /* an en dash, as groff spells it */
			p += 2;
		} else {
			put_char(out, p, st);
		}
	}
}

static void key_type(const struct dm_key *k, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	switch (k->type) {
	case DM_KT_BOOL:
		snprintf(buf, len, "bool");
		break;
	case DM_KT_U32:
		snprintf(buf, len, "%s%u..%u", k->flags & DM_KF_POW2 ? "power of two, " : "",
			 k->min, k->max);
		break;
	case DM_KT_ENUM:
		buf[0] = 0;
		for (i = 0; k->names[i] && n < len; i++)
			n += snprintf(buf + n, len - n, "%s`%s`", i ? " | " : "", k->names[i]);
		break;
	case DM_KT_PORTS:
		n = snprintf(buf, len,
			     "list of ports and `\"A-B\"` ranges, or a string `\"104,2000-2010\"`");
		if (k->max && n < len)
			snprintf(buf + n, len - n, ", at most %u", k->max);
		break;
	case DM_KT_PATH:
		snprintf(buf, len, "absolute path (< %zu bytes)%s", k->size,
			 k->flags & DM_KF_EMPTY ? " or `\"\"`" : "");
		break;
	case DM_KT_LIST:
		snprintf(buf, len, "list of %s", k->what);
		break;
	}
}

/* The default as YAML: lists as [a, b], a range or list item quoted. */
static void key_default(const struct dm_key *k, char *buf, size_t len)
{
	const char *p = k->def, *e;
	size_t n = 0, w;
	bool quote;

	if (k->type != DM_KT_PORTS && k->type != DM_KT_LIST) {
		snprintf(buf, len, "%s", *p || k->type != DM_KT_PATH ? p : "\"\"");
		return;
	}
	n = snprintf(buf, len, "[");
	for (; *p && n < len; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		w = e - p;
		quote = k->type == DM_KT_LIST || memchr(p, '-', w);
		n += snprintf(buf + n, len - n, "%s%s%.*s%s", n > 1 ? ", " : "", quote ? "\"" : "",
			      (int)w, p, quote ? "\"" : "");
	}
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

static void key_row(const struct dm_key *k, struct row *r)
{
	r->name = k->name;
	key_type(k, r->type, sizeof(r->type));
	key_default(k, r->def, sizeof(r->def));
	r->restart = k->flags & DM_KF_RESTART;
	r->note = k->note;
	snprintf(r->reload, sizeof(r->reload), "%s%s%s%s", r->restart ? "restart" : "live",
		 k->note ? " (" : "", k->note ? k->note : "", k->note ? ")" : "");
	r->help = k->help;
}

/* `interfaces`, a list of mappings, is no key of the table but is documented with them. */
static const struct row ifaces_row = {
    .name = "interfaces",
    .type = "list",
    .def = "[]",
    .reload = "live",
    .help = "interfaces to watch; an entry is a name or a mapping `{name, xdp_mode, tc_ingress, "
	    "tc_egress, vlan_meta}` whose hook keys override `attach.*` for that interface. `run` "
	    "needs at least one, each with at least one hook",
};

/* s wrapped at 78 columns, each line indented by four spaces. */
static void put_wrapped(FILE *out, const char *s)
{
	const int width = 74;
	const char *p = s, *sp, *brk;

	while (*p) {
		brk = NULL;
		for (sp = p; *sp && sp - p <= width; sp++)
			if (*sp == ' ')
				brk = sp;
		if (!*sp || !brk)
			brk = *sp ? strchr(sp, ' ') : NULL;
		fputs("    ", out);
		fprintf(out, "%.*s\n", brk ? (int)(brk - p) : (int)strlen(p), p);
		p = brk ? brk + 1 : p + strlen(p);
	}
}

static void write_row(FILE *out, const struct row *r, enum dm_keydoc_fmt fmt)
{
	char *help = NULL;
	size_t len = 0;
	FILE *f;

	switch (fmt) {
	case DM_KEYDOC_MD_KEYS:
		fprintf(out, "| `%s` | ", r->name);
		put_inline(out, r->type, ST_MD);
		fprintf(out, " | `%s` | %s | ", r->def, r->reload);
		put_inline(out, r->help, ST_MD);
		fprintf(out, " |\n");
		break;
	case DM_KEYDOC_MAN_KEYS:
		fprintf(out, ".TP\n.BR %s \" (", r->name);
		put_inline(out, r->def, ST_MANQ);
		fprintf(out, ")%s%s%s\"\n\\fI", r->restart || r->note ? " [" : "",
			r->restart ? "restart"
			: r->note  ? r->note
				   : "",
			r->restart || r->note ? "]" : "");
		put_inline(out, r->type, ST_MAN);
		fprintf(out, "\\fR \\(em ");
		put_inline(out, r->help, ST_MAN);
		fprintf(out, "\n");
		break;
	default: /* text */
		f = open_memstream(&help, &len);
		if (!f)
			return;
		put_inline(f, r->help, ST_TEXT);
		fclose(f);
		fprintf(out, "%s = %s  (", r->name, r->def);
		put_inline(out, r->type, ST_TEXT);
		fprintf(out, "; %s)\n", r->reload);
		put_wrapped(out, help);
		free(help);
		break;
	}
}

/* "-c, --config" and the commands that take o ("run, replay"). */
static void opt_names(const struct dm_opt *o, char *tag, size_t taglen, char *cmds, size_t cmdlen)
{
	size_t n = 0;
	int c;

	if (o->letter)
		snprintf(tag, taglen, "-%c, --%s", o->letter, o->name);
	else
		snprintf(tag, taglen, "--%s", o->name);
	cmds[0] = 0;
	for (c = 0; c < DM_CMD_MAX && n < cmdlen; c++)
		if (o->cmds & DM_CMD_BIT(c))
			n += snprintf(cmds + n, cmdlen - n, "%s%s", n ? ", " : "", dm_cmds[c].name);
}

/* What o sets, as "key" or "key: value", or "". */
static void opt_sets(const struct dm_opt *o, char *buf, size_t len)
{
	buf[0] = 0;
	if (o->key)
		snprintf(buf, len, "%s%s%s", o->key, o->value ? ": " : "",
			 o->value ? o->value : "");
}

static void write_opt(FILE *out, const struct dm_opt *o, enum dm_keydoc_fmt fmt)
{
	char tag[64], cmds[64], help[1024], sets[128], *nl;

	opt_names(o, tag, sizeof(tag), cmds, sizeof(cmds));
	dm_opt_help(o, help, sizeof(help));
	while ((nl = strchr(help, '\n')))
		*nl = ' ';
	opt_sets(o, sets, sizeof(sets));
	if (fmt == DM_KEYDOC_MD_OPTS) {
		fprintf(out, "| `%s%s", tag, o->arg ? " " : "");
		put_inline(out, o->arg ? o->arg : "", ST_MD); /* FILE|- */
		fprintf(out, "` | %s | %s%s%s | ", cmds, sets[0] ? "`" : "", sets,
			sets[0] ? "`" : "");
		put_inline(out, help, ST_MD);
		fprintf(out, " |\n");
		return;
	}
	fprintf(out, ".TP\n.%s \"", o->arg ? "BI" : "B");
	put_inline(out, tag, ST_MANQ);
	fprintf(out, "%s\"%s%s\n", o->arg ? " " : "", o->arg ? " " : "", o->arg ? o->arg : "");
	put_inline(out, help, ST_MAN);
	if (o->key && !strstr(help, o->key)) { /* unless its help names the key */
		fprintf(out, " [\\%%");	       /* \% : never hyphenated */
		put_inline(out, sets, ST_MAN);
		fprintf(out, "]");
	}
	fprintf(out, " \\fI(%s)\\fR\n", cmds);
}

void dm_keydoc_write(FILE *out, enum dm_keydoc_fmt fmt)
{
	struct row r;
	size_t i;

	if (fmt == DM_KEYDOC_MD_OPTS || fmt == DM_KEYDOC_MAN_OPTS) {
		if (fmt == DM_KEYDOC_MD_OPTS)
			fprintf(out, "| option | commands | sets | meaning |\n|---|---|---|---|\n");
		for (i = 0; i < dm_n_opts; i++)
			write_opt(out, &dm_opts[i], fmt);
		return;
	}
	if (fmt == DM_KEYDOC_MD_KEYS)
		fprintf(out,
			"| key | type | default | reload | meaning |\n|---|---|---|---|---|\n");
	write_row(out, &ifaces_row, fmt);
	for (i = 0; i < dm_n_keys; i++) {
		key_row(&dm_keys[i], &r);
		write_row(out, &r, fmt);
	}
}
