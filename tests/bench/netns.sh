#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Every network namespace, for `make bench` (bench.sh runs it and makes two
# rows of it), or alone:
#
#	OUTPUT=.output sh tests/bench/netns.sh
#
# ttload hold-ns makes BENCH_NS (100) namespaces of BENCH_NS_SOCKETS (1000)
# sockets each (ESTABLISHED, a tenth CLOSE_WAIT and FIN_WAIT2), then
# tcptrail runs host-wide (no -N) with -i 1 -v for BENCH_NS_SUMMARIES (5)
# summaries.  It prints key=value lines:
#
#	seed_s        tcptrail's own timing of its start-up seed of every
#	              namespace: "dump and records" plus "/proc" on its line
#	seed_line     that line
#	census_ms     the median of its "TIME-WAIT census ... in N ms" lines, one
#	              per summary: the rescan of the namespaces and the count
#	census_line   the last of them
#
# Root.  Exits 1 (after a message) if a step fails; kills what it started.

OUTPUT=${OUTPUT:-.output}
TCPTRAIL=${TCPTRAIL:-./tcptrail}
LOAD=${LOAD:-$OUTPUT/bench/ttload}
BENCH_NS=${BENCH_NS:-100}
BENCH_NS_SOCKETS=${BENCH_NS_SOCKETS:-1000}
BENCH_NS_SUMMARIES=${BENCH_NS_SUMMARIES:-5}

DIR=$(mktemp -d) || exit 1
HOLD_PID=
TR_PID=
cleanup() {
	for _p in $TR_PID $HOLD_PID; do
		kill -KILL "$_p" 2>/dev/null
	done
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

die() {
	echo "netns bench: $*" >&2
	exit 1
}

# wait_for SECS COMMAND...: every 0.1 s until COMMAND succeeds; its last status.
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

alive() {
	kill -0 "$1" 2>/dev/null
}

held() {
	grep -q '^ready' "$DIR/hold" || ! alive "$HOLD_PID"
}

censuses() {
	[ "$(grep -c 'TIME-WAIT census' "$DIR/tracer.err")" -ge "$BENCH_NS_SUMMARIES" ] ||
		! alive "$TR_PID"
}

[ -x "$LOAD" ] || die "no $LOAD (make $LOAD)"
"$LOAD" hold-ns -N "$BENCH_NS" -n "$BENCH_NS_SOCKETS" -t 600 >"$DIR/hold" 2>"$DIR/hold.err" \
	</dev/null &
HOLD_PID=$!
wait_for 300 held
grep -q '^ready' "$DIR/hold" || die "ttload hold-ns failed: $(tail -n 1 "$DIR/hold.err")"

"$TCPTRAIL" --json -i 1 -v >/dev/null 2>"$DIR/tracer.err" </dev/null &
TR_PID=$!
wait_for $((60 + 10 * BENCH_NS_SUMMARIES)) censuses
kill -INT "$TR_PID"
wait_for 20 sh -c "! kill -0 $TR_PID 2>/dev/null"
wait "$TR_PID" || die "tcptrail exited $?: $(tail -n 1 "$DIR/tracer.err")"
TR_PID=
kill -TERM "$HOLD_PID"
wait_for 30 sh -c "! kill -0 $HOLD_PID 2>/dev/null"
wait "$HOLD_PID"
HOLD_PID=

# "seeded 100107 sockets (...) of 100112 dumped from 102 namespaces (0 with no
# TCP socket): dump and records 3356.3 ms, /proc 370.8 ms"
_line=$(grep 'seeded [0-9]* sockets .* namespaces' "$DIR/tracer.err" | sed -n 1p)
[ -n "$_line" ] || die "no line about seeding: $(tail -n 1 "$DIR/tracer.err")"
echo "seed_s=$(echo "$_line" | awk '{
	for (i = 2; i <= NF; i++)
		if ($i ~ /^ms,?$/ && $(i - 1) ~ /^[0-9.]+$/) t += $(i - 1)
} END { printf "%.3f", t / 1000 }')"
echo "seed_line=${_line#tcptrail: }"
grep 'TIME-WAIT census' "$DIR/tracer.err" >"$DIR/census"
[ -s "$DIR/census" ] || die "no census line: $(tail -n 1 "$DIR/tracer.err")"
echo "census_ms=$(sed 's/.* in \([0-9.]*\) ms$/\1/' "$DIR/census" | sort -g |
	awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
echo "census_line=$(sed -n '$s/^tcptrail: //p' "$DIR/census")"
