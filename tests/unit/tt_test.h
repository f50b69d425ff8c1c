/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal unit-test harness: TEST(name) { ... } registers itself; CHECK
 * records a failure and goes on, REQUIRE stops the test, SKIP("why", ...)
 * ends it as skipped, with its reason: only for something this host truly
 * lacks (no sock_diag in a sandbox), never for a file of the tree.  The
 * runner prints "ok", "FAIL" or "skip unit/NAME: WHY" per test and closes
 * with "unit: N passed, N failed, N skipped".  Under CI (the environment
 * variable CI set and not empty, as .ci/run sets it) a skip is a failure:
 * CI has every package tests/deps.sh installs and runs as root.
 */
#ifndef TT_TEST_H
#define TT_TEST_H

#include <stdio.h>
#include <string.h>

struct tt_test {
	const char *name;
	const char *file;
	void (*fn)(int *failed);
	struct tt_test *next;
};

void tt_test_register(struct tt_test *t);

/* How many times what occurs in text (NULL: none). */
static inline int tt_count(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* A test's outcome in *tt_failed_: 0 passed, 1 failed, TT_SKIPPED skipped. */
#define TT_SKIPPED	77
extern char tt_skip_why[256];

#define TEST(name_)							\
	static void test_##name_(int *tt_failed_);			\
	static struct tt_test tt_test_##name_ = {			\
		.name = #name_, .file = __FILE__, .fn = test_##name_ };	\
	__attribute__((constructor)) static void reg_##name_(void)	\
	{ tt_test_register(&tt_test_##name_); }				\
	static void test_##name_(int *tt_failed_)

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "    %s:%d: CHECK(%s) failed\n",	\
				__FILE__, __LINE__, #cond);		\
			*tt_failed_ = 1;				\
		}							\
	} while (0)

#define REQUIRE(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "    %s:%d: REQUIRE(%s) failed\n",	\
				__FILE__, __LINE__, #cond);		\
			*tt_failed_ = 1;				\
			return;						\
		}							\
	} while (0)

/* Ends the test as skipped, unless a check already failed. */
#define SKIP(...)							\
	do {								\
		snprintf(tt_skip_why, sizeof(tt_skip_why), __VA_ARGS__);	\
		if (!*tt_failed_)					\
			*tt_failed_ = TT_SKIPPED;			\
		return;							\
	} while (0)

#define CHECK_EQ_INT(a, b)						\
	do {								\
		long long a_ = (long long)(a), b_ = (long long)(b);	\
		if (a_ != b_) {						\
			fprintf(stderr, "    %s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);	\
			*tt_failed_ = 1;				\
		}							\
	} while (0)

#define CHECK_STR(a, b)							\
	do {								\
		const char *a_ = (a), *b_ = (b);			\
		if (!a_ || !b_ || strcmp(a_, b_)) {			\
			fprintf(stderr, "    %s:%d: %s == %s failed:\n      got  \"%s\"\n      want \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
			*tt_failed_ = 1;				\
		}							\
	} while (0)

#endif /* TT_TEST_H */
