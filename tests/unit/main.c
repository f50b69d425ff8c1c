// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include "tt_test.h"

static struct tt_test *head, **tail = &head;
char tt_skip_why[256];

void tt_test_register(struct tt_test *t)
{
	*tail = t;
	tail = &t->next;
}

/* Usage: unit_tests [SUBSTRING]: run the tests whose name contains it. */
int main(int argc, char **argv)
{
	const char *ci = getenv("CI");
	int passed = 0, failed = 0, skipped = 0;

	for (struct tt_test *t = head; t; t = t->next) {
		int f = 0;

		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		tt_skip_why[0] = '\0';
		t->fn(&f);
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
