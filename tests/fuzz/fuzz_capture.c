// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target: bytes -> capture reader -> the whole replay pipeline
 * (engine, sinks, ladder), from memory, so a capture from anywhere can do
 * no worse than an error message.  `make fuzz` builds it with clang
 * -fsanitize=fuzzer,address,undefined, linked with every user/ source but
 * main.c, and runs it from tests/fuzz/corpus/capture for FUZZ_SECONDS.
 *
 * The seed corpus: the captures of tests/captures/ as recorded (*.ttcap)
 * and uncompressed by zcat (*.raw: the reader takes raw streams too, and
 * the fuzzer mutates those far better than deflate data), copies cut short
 * (cut-*), a synthetic capture with every record type (mix.raw: listener,
 * accept, SYN-ACK retransmit, overflow, seed, resets, TIME-WAIT, refused and
 * reset flows, lost events), a rotated file (rotated.raw), format 3 files of
 * flow records (flows-mix.raw: a CGROUP frame, a listener's early and last
 * records, a child's early record at CLOSE_WAIT, an accept event between,
 * end records with stats, a TIME-WAIT hand-over, a second task slot, a
 * refused IPv6 flow; flows.raw: `gencap -f -n 30`), and invalid ones
 * (newer-version.raw, newer-version-4.raw, bad-length.raw, flow-in-v2.raw:
 * a FLOW frame in a format 2 file, not-a-capture).  The second run's pid
 * and port filters take flow records through filter__pass_flow.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "capture.h"
#include "opts.h"
#include "replay.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tt_verbosity = -1;	/* the reader's messages are the expected outcome */
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	return 0;
}

static void run(const uint8_t *data, size_t size, const struct tt_opts *o)
{
	struct tt_capreader *r = capreader__new_mem(data, size, "fuzz");

	if (!r)
		return;
	replay__reader(r, o, false, NULL, NULL);
	capreader__free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tt_opts o;

	/* text with events and ladders, then JSON with a filter: every sink */
	memset(&o, 0, sizeof(o));
	o.events = true;
	o.ladder = true;
	o.interval_ns = 1000000000ull;
	o.max_flows = 16;	/* small enough to evict */
	run(data, size, &o);

	o.ladder = false;
	o.json = true;
	o.pid = 42;
	o.n_ports = 1;
	o.ports[0] = 80;
	run(data, size, &o);
	return 0;
}
