// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: JSON strings for the lines the sinks write.
 */
#include "json.h"
#include "linebuf.h"

void json_str(FILE *f, const char *s, size_t maxlen)
{
	struct linebuf lb;

	linebuf__init(&lb, f);
	linebuf__json_str(&lb, s, maxlen);
	linebuf__flush(&lb);
}
