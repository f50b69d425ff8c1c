/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The capture source (-r): feeds a capture through the same pipeline as the
 * live source, on the capture's clock, with no root and no BPF.
 */
#ifndef TT_REPLAY_H
#define TT_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include "capture.h"
#include "opts.h"

/*
 * Replay o->read_path to stdout.  Returns the exit status: 0, or 1 after a
 * one-line message when the capture cannot be read, or is damaged or cut
 * short (then everything before the damage has been replayed, with the
 * final summary).  *stop, if set by a signal, ends the replay early;
 * *reopen (SIGHUP), if set, reopens -o by its name (NULL: neither).
 */
int replay__run(const struct tt_opts *o, bool color, volatile sig_atomic_t *stop,
		volatile sig_atomic_t *reopen);

/* The same, from a reader the caller made (and frees): the fuzzer's way in. */
int replay__reader(struct tt_capreader *r, const struct tt_opts *o, bool color,
		   volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen);

#endif /* TT_REPLAY_H */
