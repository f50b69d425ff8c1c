#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make bench-scaling`: tcptrail's connection-rate overhead as the load grows
# from 1+1 to N+N processes (client + server), on any machine.  Root.
#
#	sudo make bench-scaling			# builds the two static pieces first
#	sudo PROCS="1 2 4 8 16 32" make bench-scaling
#
# On a host with no compiler and no packages, copy three files and run there:
#
#	make .output/tcptrail-static .output/bench/ttload
#	scp .output/tcptrail-static .output/bench/ttload tests/bench/scaling.sh HOST:
#	ssh HOST sudo sh scaling.sh		# finds the binaries beside itself
#
# What it runs (the sweep of issue 16): for each process count P, ttload makes
# short loopback connections (the client closes first) with P client and P
# server processes, in a network namespace of its own, as fast as it can,
# alternately untraced (U) and under tcptrail (T: --json -i 0 -v >/dev/null,
# the default flow records) and tcptrail -e (E: the per-transition stream as
# well): U T U E U.  A traced run is divided by the mean of the untraced runs
# either side of it.  tcptrail traces the whole host (no --netns), as in
# production; it needs nothing but a BTF kernel and a network namespace.
#
# Prints one line per process count:
#
#	procs  untraced  tcptrail  ratio  lost  rec/conn  -e conn/s  ratio  lost
#
# "lost" is the tracer's own count at exit ("N events were lost"; 0 if it
# said nothing), rec/conn the ring-buffer records it read (its -v "records by
# hook" line) per connection made.  The table also goes to $SCALING_OUT.
#
# Knobs (environment): PROCS ("1 2 4 8 16", leaving out counts above the
# number of CPUs unless given), SCALING_SECS (4, measured seconds per run),
# SCALING_WARMUP (1), SCALING_ROUNDS (1: more repeats U T U E U and takes the
# median ratio), SCALING_EVENTS (1: the E runs; 0: none), SCALING_ALSO
# (tcptrail options for a third traced variant, X, e.g. "--no-sock-ops"),
# TT (tcptrail, static or not), LOAD (ttload), SCALING_OUT (scaling.txt
# beside TT).
# Exit: 0 when every run ran, 1 when one failed (after the table), 2 for a
# bad knob.

set -u
D=$(cd "$(dirname "$0")" && pwd)
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

# the binaries: given, beside this script (a copied kit), or the build's
first_of() {
	for _f in "$@"; do
		[ -x "$_f" ] && { echo "$_f"; return; }
	done
	echo "$1"
}
TT=${TT:-$(first_of "$D/tcptrail-static" "$D/../../.output/tcptrail-static")}
LOAD=${LOAD:-$(first_of "$D/ttload" "$D/../../.output/bench/ttload")}
SECS=${SCALING_SECS:-4}
WARMUP=${SCALING_WARMUP:-1}
ROUNDS=${SCALING_ROUNDS:-1}
EVENTS=${SCALING_EVENTS:-1}
ALSO=${SCALING_ALSO:-}
OUT=${SCALING_OUT:-$(dirname "$TT")/scaling.txt}

die() {
	echo "scaling: $1" >&2
	exit "${2:-1}"
}

is_num() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
}

for _k in "SCALING_SECS=$SECS" "SCALING_WARMUP=$WARMUP" "SCALING_ROUNDS=$ROUNDS"; do
	is_num "${_k#*=}" || die "${_k%%=*}: '${_k#*=}' is not a whole number" 2
done
[ "$SECS" -ge 1 ] && [ "$SECS" -le 600 ] || die "SCALING_SECS: '$SECS' is not from 1 to 600" 2
[ "$WARMUP" -le 60 ] || die "SCALING_WARMUP: '$WARMUP' is not from 0 to 60" 2
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 20 ] || die "SCALING_ROUNDS: '$ROUNDS' is not from 1 to 20" 2
case $EVENTS in 0 | 1) ;; *) die "SCALING_EVENTS: '$EVENTS' is not 0 or 1" 2 ;; esac

NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 1)
if [ -n "${PROCS:-}" ]; then
	for _p in $PROCS; do
		# ttload's own limit: 64 processes each side
		is_num "$_p" && [ "$_p" -ge 1 ] && [ "$_p" -le 64 ] ||
			die "PROCS: '$_p' is not a process count from 1 to 64" 2
	done
else
	# past one process per CPU each side the CPUs are saturated: the 16-core
	# sweep of the issue stops at 16+16
	PROCS=
	for _p in 1 2 4 8 16; do
		[ "$_p" -le "$NCPU" ] || [ "$_p" = 1 ] || break
		PROCS="$PROCS $_p"
	done
fi

[ "$(id -u)" = 0 ] || die "needs root (BPF and network namespaces): run it with sudo"
[ -x "$TT" ] || die "no tcptrail at $TT: make .output/tcptrail-static (or set TT=)"
[ -x "$LOAD" ] || die "no ttload at $LOAD: make .output/bench/ttload (or set LOAD=)"
[ -r /sys/kernel/btf/vmlinux ] || die "this kernel has no BTF (/sys/kernel/btf/vmlinux): tcptrail needs CONFIG_DEBUG_INFO_BTF"

DIR=$(mktemp -d /tmp/ttscaling.XXXXXX) || die "mktemp -d failed"
TR_PID=
LOAD_PID=
cleanup() {
	for _p in $TR_PID $LOAD_PID; do
		kill -KILL "$_p" 2>/dev/null
	done
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

alive() {
	kill -0 "$1" 2>/dev/null
}

# wait_until SECS COMMAND...: every 0.1 s until COMMAND succeeds (bounded).
wait_until() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	"$@"
}

kv() {
	sed -n "s/^$1=//p" "$2" | sed -n 1p
}

# the load alone first: a machine that cannot make the namespace says so here
"$LOAD" rate -d 1 -w 0 -p 1 >"$DIR/load" 2>"$DIR/load.err" </dev/null ||
	die "ttload cannot run here: $(tail -n 1 "$DIR/load.err")"

# other tracers make "untraced" runs traced: say so (by /proc, no pgrep needed)
for _c in /proc/[0-9]*/comm; do
	case $(cat "$_c" 2>/dev/null) in
	tcptrail* | tcpstates*) echo "scaling: WARNING: $(cat "$_c") is running (pid $(basename "$(dirname "$_c")")): untraced runs are traced by it" >&2 ;;
	esac
done

# other work on the CPUs makes every ratio noisy: say so before the sweep
_busy=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat; sleep 1
	awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
_busy=$(echo "$_busy" | tr '\n' ' ' | awk '{ t = $3 - $1; printf "%.0f", (t > 0 ? 100 * (t - ($4 - $2)) / t : 0) }')
[ "$_busy" -le 10 ] ||
	echo "scaling: WARNING: the CPUs are ${_busy}% busy before the sweep: the ratios will be noisy" >&2

# ---- one run --------------------------------------------------------------

ready() {
	grep -q 'tracing: ' "$DIR/tr.err" || ! alive "$TR_PID"
}

# load P: one ttload run; prints its rate, empty on failure
load() {
	"$LOAD" rate -d "$SECS" -w "$WARMUP" -p "$1" >"$DIR/load" 2>"$DIR/load.err" </dev/null &
	LOAD_PID=$!
	wait "$LOAD_PID" || { LOAD_PID=; echo "scaling: ttload failed: $(tail -n 1 "$DIR/load.err")" >&2; return 1; }
	LOAD_PID=
	_o=$(kv listen_overflows "$DIR/load")
	[ "${_o:-0}" = 0 ] || echo "scaling: WARNING: $_o accept-queue overflows in a $1+$1 run" >&2
	kv rate "$DIR/load"
}

# traced P OPTIONS...: a run under tcptrail; prints "rate lost records"
traced() {
	_p=$1
	shift
	: >"$DIR/tr.err"
	"$TT" --json -i 0 -v "$@" >/dev/null 2>"$DIR/tr.err" </dev/null &
	TR_PID=$!
	wait_until 60 ready
	if ! alive "$TR_PID"; then
		wait "$TR_PID"
		TR_PID=
		echo "scaling: tcptrail $* exited at start: $(grep -v '^  ' "$DIR/tr.err" | tail -n 1)" >&2
		return 1
	fi
	_r=$(load "$_p") || _r=
	_total=$(kv total "$DIR/load")
	# what is queued is read before the summary
	sleep 0.3
	kill -INT "$TR_PID"
	wait_until 20 sh -c "! kill -0 $TR_PID 2>/dev/null"
	kill -KILL "$TR_PID" 2>/dev/null
	wait "$TR_PID"
	_st=$?
	TR_PID=
	[ "$_st" = 0 ] || echo "scaling: tcptrail $* exited with status $_st: $(tail -n 1 "$DIR/tr.err")" >&2
	cat "$DIR/tr.err" >>"$DIR/tracers.log"
	[ -n "$_r" ] || return 1
	_lost=$(sed -n 's/.*warning: \([0-9]*\) events were lost.*/\1/p' "$DIR/tr.err" | tail -n 1)
	_rec=$(sed -n 's/.*records by hook:\(.*\)/\1/p' "$DIR/tr.err" | tail -n 1 |
		tr ' ' '\n' | awk -F= -v t="${_total:-0}" '$2 ~ /^[0-9]+$/ { s += $2 }
			END { if (t > 0 && s > 0) printf "%.2f", s / t; else print "-" }')
	echo "$_r ${_lost:-0} $_rec"
}

# num FORMAT: the number on stdin in FORMAT, or "-" for none
num() {
	awk -v f="$1" '$1 ~ /^[0-9.e+-]+$/ { printf f, $1; n++ } END { if (!n) printf "-" }'
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR) printf "%.6g", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- the sweep ------------------------------------------------------------

# the traced variants, each with its tcptrail options
VARS="T"
[ "$EVENTS" = 0 ] || VARS="$VARS E"
[ -z "$ALSO" ] || VARS="$VARS X"
opts_of() {
	case $1 in
	T) ;;
	E) printf '%s\n' -e ;;
	X) echo "$ALSO" ;;
	esac
}

{
	echo "machine: Linux $(uname -r), $NCPU CPUs; $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
	echo "runs: U$(for _v in $VARS; do printf ' %s U' "$_v"; done) x $ROUNDS per row, ${SECS} s each after ${WARMUP} s warm-up"
	echo "      T = tcptrail --json -i 0 >/dev/null$([ "$EVENTS" = 0 ] || echo ", E = the same with -e")${ALSO:+, X = the same with $ALSO}"
	echo
	printf '%-6s %10s %10s %6s %8s %8s' procs untraced tcptrail ratio lost rec/conn
	[ "$EVENTS" = 0 ] || printf ' %10s %6s %8s %8s' "-e conn/s" ratio lost rec/conn
	[ -z "$ALSO" ] || printf ' %10s %6s %8s %8s' "X conn/s" ratio lost rec/conn
	echo
} | tee "$OUT"
FAIL=0
for P in $PROCS; do
	: >"$DIR/row"
	_i=0
	while [ "$_i" -lt "$ROUNDS" ] && [ "$FAIL" = 0 ]; do
		_i=$((_i + 1))
		# U V1 U V2 U ...: each traced run between two untraced ones
		_ua=$(load "$P") || { FAIL=1; break; }
		echo "U $_ua" >>"$DIR/row"
		for _v in $VARS; do
			# shellcheck disable=SC2046 # the options are words
			_t=$(traced "$P" $(opts_of "$_v")) || { FAIL=1; break; }
			_ub=$(load "$P") || { FAIL=1; break; }
			echo "U $_ub" >>"$DIR/row"
			echo "$_v $(echo "$_t" | awk -v a="$_ua" -v b="$_ub" '{ print $1 / ((a + b) / 2), $0 }')" >>"$DIR/row"
			_ua=$_ub
		done
	done
	# columns of a traced line: variant ratio rate lost rec/conn
	col() { awk -v v="$1" -v c="$2" '$1 == v { print $c }' "$DIR/row" | median; }
	maxlost() { awk -v v="$1" '$1 == v { if ($4 > m) m = $4; n++ } END { print n ? m + 0 : "-" }' "$DIR/row"; }
	{
		printf '%-6s %10s' "$P+$P" "$(awk '$1 == "U" { print $2 }' "$DIR/row" | median | num %.0f)"
		for _v in $VARS; do
			printf ' %10s %6s %8s %8s' "$(col "$_v" 3 | num %.0f)" "$(col "$_v" 2 | num %.3f)" \
				"$(maxlost "$_v")" "$(col "$_v" 5 | num %.2f)"
		done
		echo
	} | tee -a "$OUT"
	[ "$FAIL" = 0 ] || break
done
{
	echo
	# the hooks the tracer chose, and what it said was lost or missed
	grep -m 1 'tracing: ' "$DIR/tracers.log" 2>/dev/null
	grep -h 'missed\|were lost' "$DIR/tracers.log" 2>/dev/null | sort | uniq -c | sort -rn | head -n 6
} | tee -a "$OUT"
echo "table also in $OUT"
exit "$FAIL"
