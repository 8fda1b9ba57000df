/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef __DM_KEYDOC_H
#define __DM_KEYDOC_H

/*
 * The config keys (keys.c) and the command-line options (options.c) as
 * documents: `dicomon --dump-keys [FORMAT]`, and the blocks of README.md and
 * packaging/dicomon.8 that tests/unit/test_keydoc.c holds to them (make keydoc
 * rewrites those blocks).
 */
#include <stdio.h>

enum dm_keydoc_fmt {
	DM_KEYDOC_TEXT,	    /* "text": every key, its default, limits, reload, help */
	DM_KEYDOC_MD_KEYS,  /* "markdown": the README's key table */
	DM_KEYDOC_MD_OPTS,  /* "markdown-options": the README's option table */
	DM_KEYDOC_MAN_KEYS, /* "man": the man page's CONFIGURATION entries */
	DM_KEYDOC_MAN_OPTS, /* "man-options": the man page's OPTIONS entries */
	DM_KEYDOC_MAX,
};
extern const char *const dm_keydoc_fmt_names[]; /* NULL-terminated */

void dm_keydoc_write(FILE *out, enum dm_keydoc_fmt fmt);

#endif /* __DM_KEYDOC_H */
