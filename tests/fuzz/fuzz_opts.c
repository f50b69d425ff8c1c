// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for tt_opts_parse(): the input is split into argv words
 * (at NUL and newline bytes, so a word may hold blanks, '=' and anything
 * else) and parsed as a command line.  Whatever the words, the parser must
 * return 0 or 2 without crashing, and a command line it accepts must hold
 * only values the rest of tcptrail can use as they are: the checks below are
 * what live.c, the engine and the BPF config rely on.  `make fuzz` builds it
 * with clang -fsanitize=fuzzer,address,undefined and runs it from
 * tests/fuzz/corpus/opts for FUZZ_SECONDS.
 *
 * The seed corpus is one command line per file, a word per line: every
 * option alone and with the values the README shows, edge values (ports 0,
 * 1, 65535, 65536, seventeen ports, sizes 4K-1G, durations 0 and ten years)
 * and the combinations check_combinations() refuses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "opts.h"
#include "util.h"

#define MAX_WORDS	64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/*
	 * The parser's one-line errors and --help are the expected outcome.
	 * stderr the variable, not fd 2: libFuzzer took its own copy of the
	 * stream at start-up and goes on reporting on fd 2.
	 */
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	stderr = fopen("/dev/null", "w");
	return stderr ? 0 : 1;
}

static void check_ports(const uint16_t *ports, uint32_t n)
{
	if (n > TT_MAX_PORTS)
		abort();
	for (uint32_t i = 0; i < n; i++)
		if (ports[i] == 0)
			abort();
}

/* What an accepted command line promises the rest of tcptrail. */
static void check_opts(const struct tt_opts *o)
{
	check_ports(o->ports, o->n_ports);
	check_ports(o->lports, o->n_lports);
	check_ports(o->rports, o->n_rports);
	if (o->family && o->family != 2 && o->family != 10)
		abort();
	if (o->pid > 4194304)
		abort();
	/* the kernel takes a power-of-two multiple of the page size */
	if (o->ringbuf_bytes < 4096 || o->ringbuf_bytes > (1ull << 30) ||
	    (o->ringbuf_bytes & (o->ringbuf_bytes - 1)))
		abort();
	if (o->max_flows < 1 || o->max_flows > (1ull << 26))
		abort();
	if (o->attach > TT_ATTACH_TRACEPOINT || o->color > TT_COLOR_NEVER)
		abort();
	if (o->tw_warn_pct < 1 || o->tw_warn_pct > 100)
		abort();
	if (o->write_path && o->read_path)
		abort();
	if (o->ladder && o->json)
		abort();
	if ((o->rotate_bytes || o->rotate_count) && !o->write_path)
		abort();
	if (o->rotate_bytes && o->rotate_bytes < 4096)
		abort();
	/* strings point into argv: reading them lets ASan check they are whole */
	{
		const char *strs[] = { o->write_path, o->read_path, o->output_path,
				       o->metrics_path, o->metrics_listen };

		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
			if (strs[i] && strlen(strs[i]) > (size_t)1 << 20)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_WORDS + 2];
	struct tt_opts o;
	bool exit_now;
	int argc = 1, status;
	size_t start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = (char *)"tcptrail";
	for (size_t i = 0; i <= size && argc <= MAX_WORDS; i++) {
		if (i < size && buf[i] != '\0' && buf[i] != '\n')
			continue;
		buf[i] = '\0';
		argv[argc++] = buf + start;
		start = i + 1;
	}
	argv[argc] = NULL;
	/* an empty input is the bare command */
	if (size == 0)
		argc = 1;

	status = tt_opts_parse(argc, argv, &o, &exit_now);
	if (status != 0 && status != 2)
		abort();
	if (status == 0 && !exit_now)
		check_opts(&o);
	fflush(stdout);
	fflush(stderr);
	clearerr(stdout);
	clearerr(stderr);
	free(buf);
	return 0;
}
