/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TT_JSON_H
#define TT_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write s (at most maxlen bytes, stopping at NUL) as a JSON string with its
 * quotes.  Quotes, backslashes and control bytes are escaped, and bytes that
 * are not valid UTF-8 are written as \u00XX (read as Latin-1), so the output
 * is valid JSON whatever a task put in its comm.
 */
void json_str(FILE *f, const char *s, size_t maxlen);

#endif /* TT_JSON_H */
