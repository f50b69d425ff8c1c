// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <unistd.h>
#include "tt_test.h"

static struct tt_test *head, **tail = &head;
char tt_skip_why[256];

void tt_test_register(struct tt_test *t)
{
	*tail = t;
	tail = &t->next;
}

/*
 * fd 2 into a file while a test runs: tests of error paths make the
 * program print the errors they expect.  Returns the file, or NULL (then
 * fd 2 is left alone); *saved is the real stderr.
 */
static FILE *hold_stderr(int *saved)
{
	FILE *f;

	*saved = -1;
	fflush(stderr);
#ifdef __SANITIZE_ADDRESS__
	/* a sanitizer's report ends the process: it must reach the real stderr */
	return NULL;
#endif
	f = tmpfile();
	if (!f)
		return NULL;
	*saved = dup(2);
	if (*saved < 0 || dup2(fileno(f), 2) < 0) {
		if (*saved >= 0)
			close(*saved);
		*saved = -1;
		fclose(f);
		return NULL;
	}
	return f;
}

/* The real stderr back; what the test printed goes to it if shown. */
static void release_stderr(FILE *f, int saved, int show)
{
	char buf[4096];
	size_t n;

	if (!f)
		return;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (show) {
		rewind(f);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stderr);
		fflush(stderr);
	}
	fclose(f);
}

/*
 * Usage: unit_tests [SUBSTRING]: run the tests whose name contains it.  A
 * test's stderr is shown only when it fails or is skipped (TT_UNIT_STDERR=1: always;
 * a sanitizer build: always).  A test that crashes the runner loses it:
 * run it again with TT_UNIT_STDERR=1.
 */
int main(int argc, char **argv)
{
	const char *ci = getenv("CI"), *all = getenv("TT_UNIT_STDERR");
	int passed = 0, failed = 0, skipped = 0;

	for (struct tt_test *t = head; t; t = t->next) {
		int f = 0, saved;
		FILE *err;

		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		tt_skip_why[0] = '\0';
		err = hold_stderr(&saved);
		t->fn(&f);
		release_stderr(err, saved, f || (all && *all == '1'));
		if (f == TT_SKIPPED && ci && *ci) {
			printf("FAIL unit/%s: skipped under CI, which can run it: %s\n",
			       t->name, tt_skip_why);
			failed++;
		} else if (f == TT_SKIPPED) {
			printf("skip unit/%s: %s\n", t->name, tt_skip_why);
			skipped++;
		} else if (f) {
			printf("FAIL unit/%s\n", t->name);
			failed++;
		} else {
			printf("ok   unit/%s\n", t->name);
			passed++;
		}
		fflush(stdout);
	}
	printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
