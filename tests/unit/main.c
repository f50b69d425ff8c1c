// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include "tt_test.h"

static struct tt_test *head, **tail = &head;

void tt_test_register(struct tt_test *t)
{
	*tail = t;
	tail = &t->next;
}

/* Usage: unit_tests [SUBSTRING]: run the tests whose name contains it. */
int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (struct tt_test *t = head; t; t = t->next) {
		int f = 0;

		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		t->fn(&f);
		printf("%s unit/%s\n", f ? "FAIL" : "ok  ", t->name);
		fflush(stdout);
		if (f)
			failed++;
		else
			passed++;
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
