// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Values in text output, escaped so that they stay one value (see textesc.h). */
#include <string.h>
#include "lib/textesc.h"

/* One byte's escaped form into e (at most 4 bytes, no NUL); its length. */
static size_t esc_byte(unsigned char c, char e[4])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		e[0] = '\\';
		e[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c >= 0x7f) {
		e[0] = '\\';
		e[1] = 'x';
		e[2] = hex[c >> 4];
		e[3] = hex[c & 15];
		return 4;
	}
	e[0] = (char)c;
	return 1;
}

size_t dm_text_escape(char *out, size_t size, const void *in, size_t n)
{
	const unsigned char *p = in;
	size_t i, len = 0, at = 0, k;
	char e[4];

	for (i = 0; i < n; i++) {
		k = esc_byte(p[i], e);
		/* Whole escapes only, and room for the NUL: once one does not fit, none does. */
		if (at == len && size && len + k < size) {
			memcpy(out + at, e, k);
			at += k;
		}
		len += k;
	}
	if (size)
		out[at] = 0;
	return len;
}

static void put_escaped(FILE *f, const char *s)
{
	char e[4];

	for (; *s; s++)
		fwrite(e, 1, esc_byte((unsigned char)*s, e), f);
}

void dm_text_put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	put_escaped(f, s);
	fputc('"', f);
}

static int is_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' ||
		    *s == '\\' || *s == '=')
			return 0;
	return 1;
}

void dm_text_put_word(FILE *f, const char *s)
{
	if (is_word(s))
		fputs(s, f);
	else
		dm_text_put_quoted(f, s);
}

const char *dm_text_word(char *buf, size_t size, const char *s)
{
	size_t n;

	if (is_word(s)) {
		dm_text_escape(buf, size, s, strlen(s)); /* a word escapes to itself */
		return buf;
	}
	buf[0] = '"';
	dm_text_escape(buf + 1, size - 2, s, strlen(s));
	n = strlen(buf);
	buf[n] = '"';
	buf[n + 1] = 0;
	return buf;
}
