/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_TEXTESC_H
#define __DM_TEXTESC_H

/*
 * Values in dicomon's text output (`key="value"` in the event lines, the cells of
 * `dicomon status`): a value from the wire (an AE title may hold any byte) must not
 * end its quotes, start a field of its own or break the line. One escape for all:
 * `"` as \", `\` as \\, every byte below 0x20 and from 0x7f on as \xNN (lower-case
 * hex); everything else as it is. A reader undoes it with those three rules.
 */
#include <stddef.h>
#include <stdio.h>

/* The most an escaped value of n bytes takes, its NUL included. */
#define DM_TEXT_ESC_MAX(n) ((n) * 4 + 1)

/*
 * n bytes of in, escaped, into out (size > 0: always NUL-terminated; an escape is
 * never cut in half: what does not fit whole is left off). Returns the length the
 * whole escaped value has (like snprintf), so >= size means it was cut.
 */
size_t dm_text_escape(char *out, size_t size, const void *in, size_t n);
/* s escaped and in double quotes: "s". */
void dm_text_put_quoted(FILE *f, const char *s);
/*
 * s as a bare word when it is one (not empty; no space, quote, backslash, '=' or
 * byte outside 0x21..0x7e), otherwise quoted as dm_text_put_quoted does.
 */
void dm_text_put_word(FILE *f, const char *s);
/*
 * What dm_text_put_word writes, into buf (size >= 3), for a table's cell: cut at a
 * whole escape if it does not fit, a quoted value keeping its closing quote. buf.
 */
const char *dm_text_word(char *buf, size_t size, const char *s);

#endif /* __DM_TEXTESC_H */
