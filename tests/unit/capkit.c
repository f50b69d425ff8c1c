// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Scratch directories and raw captures for the capture tests (capkit.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capkit.h"
#include "ttcap.h"

char *capkit_tmpdir(const char *who)
{
	char *d;

	if (asprintf(&d, "/tmp/tt_%s_XXXXXX", who) < 0)
		return NULL;
	if (mkdtemp(d))
		return d;
	free(d);
	return NULL;
}

void capkit_rmtree(char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "    (could not remove %s)\n", dir);
	free(dir);
}

char *capkit_join(const char *dir, const char *name)
{
	char *p;

	if (!dir)
		return NULL;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

char *capkit_killed_copy(const char *path)
{
	char buf[65536], *copy;
	FILE *in, *out;
	size_t n;
	bool ok = true;

	if (asprintf(&copy, "%s.killed", path) < 0)
		return NULL;
	in = fopen(path, "r");
	out = fopen(copy, "w");
	while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok &= fwrite(buf, 1, n, out) == n;
	ok &= in && out && !ferror(in);
	if (in)
		fclose(in);
	if (out)
		ok &= !fclose(out);
	if (!ok) {
		free(copy);
		return NULL;
	}
	return copy;
}

void capkit_rotated(char *buf, size_t len, const char *path, int i)
{
	if (i)
		snprintf(buf, len, "%s.%d", path, i);
	else
		snprintf(buf, len, "%s", path);
}

void raw_put(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

void raw_frame(struct raw *r, uint32_t kind, uint32_t len, const void *payload, size_t plen)
{
	struct ttcap_frame f = { .kind = kind, .len = len };

	r->frame_at[r->frames++] = r->n;
	raw_put(r, &f, sizeof(f));
	raw_put(r, payload, plen);
}

void raw_start(struct raw *r, uint32_t version, const void *tags, size_t tags_len)
{
	struct ttcap_file_header h = { .version = version, .record_size = 128,
				       .event_version = version == 1 ? 1 : TT_EVENT_VERSION };
	struct ttcap_meta m = { .version = version, .start_ns = 5 };
	unsigned char meta[sizeof(m) + 256];

	memcpy(h.magic, TTCAP_MAGIC, 8);
	memset(r, 0, sizeof(*r));
	raw_put(r, &h, sizeof(h));
	if (tags_len > sizeof(meta) - sizeof(m))
		tags_len = sizeof(meta) - sizeof(m);
	memcpy(meta, &m, sizeof(m));
	if (tags_len)
		memcpy(meta + sizeof(m), tags, tags_len);
	raw_frame(r, TTCAP_META, (uint32_t)(sizeof(m) + tags_len), meta, sizeof(m) + tags_len);
}

void raw_event(struct raw *r, const struct tt_event *e)
{
	raw_frame(r, TTCAP_EVENT, sizeof(*e), e, sizeof(*e));
}

void raw_flow(struct raw *r, const struct tt_flowrec *f)
{
	raw_frame(r, TTCAP_FLOW, sizeof(*f), f, sizeof(*f));
}

void raw_end(struct raw *r)
{
	struct ttcap_end end = { .reason = TTCAP_END_CLOSED };

	raw_frame(r, TTCAP_END, sizeof(end), &end, sizeof(end));
}
