#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What tcptrail's hooks cost a connection, program by program, in one attach
# mode on this kernel: `make bench-hooks` runs it in the qemu guests once per
# mode (tests/bench/hooks.sh), where fentry and kprobes load; on a host,
# `sudo sh tests/bench/hookcost.sh` measures the mode tcptrail picks there
# (TCPTRAIL_ARGS="--attach MODE" forces one).  Root.
#
# Rounds of U T (ttload rate -p 1, untraced, then under tcptrail --json -i 0
# -v >/dev/null, the default flow records) with kernel.bpf_stats_enabled on.
# Prints the start-up line, then per program its runs, ns a run and ns a
# connection (run_time_ns over the connections ttload made while traced),
# and the totals: BPF ns and runs a connection, ring-buffer records a
# connection (-v "records by hook"), lost events, and the traced rate over
# the untraced one.  Under qemu's TCG the nanoseconds are emulated: compare
# programs and modes with each other, not with a host's.
#
# Knobs: HOOKS_SECS (4, measured seconds a run), HOOKS_ROUNDS (2), TCPTRAIL,
# LOAD (ttload), PROGSTAT (progstat), DRIVERS (the guest's directory of both).
# Exit: 0 with the table, 1 with one line saying what failed, 2 (a line on
# stderr) for a bad knob.

set -u
TCPTRAIL=${TCPTRAIL:-./tcptrail}
LOAD=${LOAD:-${DRIVERS:-.output/bench}/ttload}
PROGSTAT=${PROGSTAT:-${DRIVERS:-.output/bench}/progstat}
SECS=${HOOKS_SECS:-4}
ROUNDS=${HOOKS_ROUNDS:-2}
STATS=/proc/sys/kernel/bpf_stats_enabled

die() {
	echo "hookcost: $*"
	exit 1
}

for _n in "$SECS" "$ROUNDS"; do
	case $_n in
	'' | *[!0-9]* | 0)
		echo "hookcost: HOOKS_SECS and HOOKS_ROUNDS must be positive integers, not '$_n'" >&2
		exit 2 ;;
	esac
done
for _b in "$TCPTRAIL" "$LOAD" "$PROGSTAT"; do
	[ -x "$_b" ] || die "$_b is not built (make .output/bench/ttload .output/bench/progstat)"
done
[ "$(id -u)" = 0 ] || die "run as root"

DIR=$(mktemp -d /tmp/hookcost.XXXXXX) || die "mktemp -d failed"
TR_PID=
OLD_STATS=$(cat "$STATS" 2>/dev/null) || die "no $STATS on this kernel"
cleanup() {
	[ -n "$TR_PID" ] && kill -KILL "$TR_PID" 2>/dev/null
	echo "$OLD_STATS" >"$STATS" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
echo 1 >"$STATS" || die "cannot turn kernel.bpf_stats_enabled on"

alive() {
	kill -0 "$1" 2>/dev/null
}

# wait_for SECS COMMAND...: every 0.1 s until COMMAND succeeds (bounded)
wait_for() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	"$@"
}

started() {
	grep -aqs '^tcptrail: tracing' "$DIR/t.err" || ! alive "$TR_PID"
}

gone() {
	! alive "$TR_PID"
}

kv() {
	sed -n "s/^$1=//p" "$2" | sed -n 1p
}

# load OUT: one ttload run into OUT, which must report its rate
load() {
	"$LOAD" rate -d "$SECS" -w 1 -p 1 >"$1" 2>"$1.err" </dev/null ||
		die "ttload failed: $(tail -n 1 "$1.err")"
	[ -n "$(kv rate "$1")" ] && [ -n "$(kv total "$1")" ] || die "ttload printed no rate"
}

: >"$DIR/progs"
u_sum=0
t_sum=0
conns=0
records=0
lost=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
	load "$DIR/u"
	u_sum=$((u_sum + $(kv rate "$DIR/u")))
	# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
	"$TCPTRAIL" ${TCPTRAIL_ARGS:-} --json -i 0 -v >/dev/null 2>"$DIR/t.err" </dev/null &
	TR_PID=$!
	wait_for 120 started
	grep -aq '^tcptrail: tracing' "$DIR/t.err" ||
		die "tcptrail did not start: $(tail -n 1 "$DIR/t.err")"
	[ "$r" = 1 ] && grep -a '^tcptrail: tracing' "$DIR/t.err" | sed 's/ (-v or --probe.*//'
	load "$DIR/t"
	"$PROGSTAT" "$TR_PID" >"$DIR/p" || die "progstat failed"
	kill -INT "$TR_PID"
	wait_for 60 gone || die "tcptrail did not stop within 60 s"
	wait "$TR_PID"
	st=$?
	TR_PID=
	[ "$st" = 0 ] || die "tcptrail exited $st: $(tail -n 1 "$DIR/t.err")"
	t_sum=$((t_sum + $(kv rate "$DIR/t")))
	conns=$((conns + $(kv total "$DIR/t")))
	cat "$DIR/p" >>"$DIR/progs"
	_rec=$(grep -a 'records by hook:' "$DIR/t.err" | sed 's/.*records by hook://' |
		tr ' ' '\n' | sed -n 's/^[a-z_0-9]*=\([0-9]*\)$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	records=$((records + _rec))
	_lost=$(sed -n 's/.*warning: \([0-9]*\) events were lost.*/\1/p' "$DIR/t.err" | sed -n 1p)
	lost=$((lost + ${_lost:-0}))
	r=$((r + 1))
done
[ "$conns" -gt 0 ] || die "no connection was made while traced"

# the table: programs summed over the rounds, in the order progstat listed them
awk -v c="$conns" -v rec="$records" -v lost="$lost" -v u="$u_sum" -v t="$t_sum" -v r="$ROUNDS" '
	!($1 in runs) { order[++n] = $1 }
	{ runs[$1] += $2; ns[$1] += $3 }
	END {
		printf "  %-18s %10s %10s %10s\n", "program", "runs/conn", "ns/run", "ns/conn"
		for (i = 1; i <= n; i++) {
			p = order[i]
			if (!runs[p])
				continue
			printf "  %-18s %10.2f %10.0f %10.0f\n", p, runs[p] / c, ns[p] / runs[p], ns[p] / c
			all += ns[p]; allruns += runs[p]
		}
		printf "  all programs: %.0f ns and %.1f runs a connection; %.2f records a connection; lost %d\n",
			all / c, allruns / c, rec / c, lost
		printf "  conn/s, mean of %d runs each: untraced %.0f, traced %.0f (%.3f)\n", r, u / r, t / r,
			(u ? t / u : 0)
	}' "$DIR/progs"
