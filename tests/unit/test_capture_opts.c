// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -w, -r, --rotate-size, --rotate-count and --ladder: good values, and each bad one's line. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include "opts.h"
#include "tt_test.h"

/* Parse a NULL-terminated argument list; what went to stderr comes back in err. */
static int parse(struct tt_opts *o, char *err, size_t errlen, ...)
{
	char *argv[32] = { "tcptrail" };
	char path[] = "/tmp/tt_opts_err_XXXXXX";
	int argc = 1, saved, fd, status;
	ssize_t n;
	bool exit_now;
	va_list ap;

	va_start(ap, errlen);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	fflush(stderr);
	fd = mkstemp(path);
	saved = dup(2);
	dup2(fd, 2);
	status = tt_opts_parse(argc, argv, o, &exit_now);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return status;
}

/* Exactly one line, naming the option. */
static bool one_line_naming(const char *err, const char *option)
{
	const char *nl = strchr(err, '\n');

	return nl && !nl[1] && strstr(err, option) && !strncmp(err, "tcptrail: ", 10);
}

TEST(capture_opts_good_values)
{
	struct tt_opts o;
	char err[512];

	CHECK_EQ_INT(parse(&o, err, sizeof(err), "-w", "/tmp/x.ttcap", "--rotate-size", "100M",
			   "--rotate-count", "5", "--ladder", NULL), 0);
	CHECK_STR(o.write_path, "/tmp/x.ttcap");
	CHECK(!o.read_path);
	CHECK_EQ_INT(o.rotate_bytes, 100ull << 20);
	CHECK_EQ_INT(o.rotate_count, 5);
	CHECK(o.ladder);
	CHECK_STR(err, "");

	CHECK_EQ_INT(parse(&o, err, sizeof(err), "--read", "-", "-j", "-e", "-P", "80", NULL), 0);
	CHECK_STR(o.read_path, "-");
	CHECK(!o.write_path && !o.ladder && !o.rotate_bytes && !o.rotate_count);

	CHECK_EQ_INT(parse(&o, err, sizeof(err), "--write=/tmp/y", "--rotate-size", "4K", NULL), 0);
	CHECK_EQ_INT(o.rotate_bytes, 4096);
	CHECK_EQ_INT(o.rotate_count, 0);
}

TEST(capture_opts_bad_values)
{
	static const struct {
		const char *args[4];
		const char *names;
	} cases[] = {
		{ { "-w", "" }, "-w/--write" },
		{ { "-w", "-" }, "-w/--write" },
		{ { "-r", "" }, "-r/--read" },
		{ { "-w", "f", "--rotate-size", "0" }, "--rotate-size" },
		{ { "-w", "f", "--rotate-size", "4095" }, "--rotate-size" },
		{ { "-w", "f", "--rotate-size", "10X" }, "--rotate-size" },
		{ { "-w", "f", "--rotate-size", "-1M" }, "--rotate-size" },
		{ { "-w", "f", "--rotate-count", "0" }, "--rotate-count" },
		{ { "-w", "f", "--rotate-count", "1000001" }, "--rotate-count" },
		{ { "-w", "f", "--rotate-count", "3x" }, "--rotate-count" },
	};
	struct tt_opts o;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		int status = parse(&o, err, sizeof(err), a[0], a[1], a[2], a[3], NULL);

		CHECK_EQ_INT(status, 2);
		if (!one_line_naming(err, cases[i].names)) {
			fprintf(stderr, "    case %zu: \"%s\"\n", i, err);
			CHECK(0);
		}
	}
}

TEST(capture_opts_combinations)
{
	static const struct {
		const char *args[5];
		const char *names;
	} cases[] = {
		{ { "-w", "a", "-r", "b" }, "-w/-r" },
		{ { "-r", "b", "--probe" }, "-r/--read" },
		{ { "--probe", "-r", "b" }, "-r/--read" },
		{ { "--rotate-size", "1M" }, "--rotate-size" },
		{ { "-r", "b", "--rotate-size", "1M" }, "--rotate-size" },
		{ { "--rotate-count", "3" }, "--rotate-count" },
		{ { "-w", "a", "--rotate-count", "3" }, "--rotate-count" },
		{ { "--ladder", "--json" }, "--ladder" },
		{ { "-j", "-r", "x", "--ladder" }, "--ladder" },
	};
	struct tt_opts o;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		int status = parse(&o, err, sizeof(err), a[0], a[1], a[2], a[3], a[4], NULL);

		CHECK_EQ_INT(status, 2);
		if (!one_line_naming(err, cases[i].names)) {
			fprintf(stderr, "    case %zu: \"%s\"\n", i, err);
			CHECK(0);
		}
	}
	/* and the ones that go together */
	CHECK_EQ_INT(parse(&o, err, sizeof(err), "-r", "x", "--ladder", "-e", "-4", "-p", "7", NULL), 0);
	CHECK_EQ_INT(parse(&o, err, sizeof(err), "-w", "x", "--ladder", "-d", "5", NULL), 0);
}
