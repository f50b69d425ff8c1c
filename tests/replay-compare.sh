#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Byte-for-byte replay comparison of two tcptrail binaries:
#
#	tests/replay-compare.sh OLD_BIN NEW_BIN
#
# Replays every capture in tests/captures, a synthetic capture of BIG_EVENTS
# records (1000000; tests/bench/gencap.c, built as $OUTPUT/bench/gencap if
# missing), the same compressed and read from stdin, the same connections as
# FLOW_RECORDS flow records (250000; gencap -f, capture format 3; left out,
# with a note, when either binary cannot read format 3), and two broken files
# (a truncated stream, bytes that are no capture), with each binary, in every
# output format and view replay has: human, --json, -e, --ladder, -i
# summaries, --quiet-flows, --state/--remote/--local/port filters,
# --snapshot and --top views, -o FILE and --metrics-file.  Compares stdout,
# stderr, the exit status and every file written; prints "same" or "DIFF"
# per run (with the first lines of the diff) and exits 1 if anything
# differs, 2 on a usage error.  No root, no network: replay only.
#
# Environment: OUTPUT (.output), BIG_EVENTS, FLOW_RECORDS, KEEP=1 keeps the scratch
# directory (named at the end) to look at, ONLY=SUBSTRING runs only the
# option sets whose text contains it.  Runs take TZ=UTC and LC_ALL=C.

set -u

usage() {
	echo "usage: tests/replay-compare.sh OLD_BIN NEW_BIN" >&2
	exit 2
}

[ $# -eq 2 ] || usage
OLD=$1
NEW=$2
for b in "$OLD" "$NEW"; do
	if [ ! -x "$b" ] || [ -d "$b" ]; then
		echo "replay-compare: $b: not an executable file" >&2
		exit 2
	fi
done
case $OLD in /*) ;; *) OLD=$PWD/$OLD ;; esac
case $NEW in /*) ;; *) NEW=$PWD/$NEW ;; esac

cd "$(dirname "$0")/.." || exit 2
OUTPUT=${OUTPUT:-.output}
BIG_EVENTS=${BIG_EVENTS:-1000000}
FLOW_RECORDS=${FLOW_RECORDS:-250000}
ONLY=${ONLY:-}
TZ=UTC
LC_ALL=C
export TZ LC_ALL
unset NO_COLOR

W=$(mktemp -d /tmp/replay-compare.XXXXXX) || exit 2
if [ "${KEEP:-0}" = 1 ]; then
	trap 'echo "replay-compare: kept $W"' EXIT
else
	trap 'rm -rf "$W"' EXIT
fi
trap 'exit 2' INT TERM

# The synthetic capture: gencap's stream as it is, gzipped (the inflate
# path), and its first MiB (a stream cut off mid-record).
GENCAP=$OUTPUT/bench/gencap
if [ ! -x "$GENCAP" ]; then
	make --no-print-directory "$GENCAP" >&2 || {
		echo "replay-compare: cannot build $GENCAP" >&2
		exit 2
	}
fi
"$GENCAP" -n "$BIG_EVENTS" >"$W/big.ttcap" || {
	echo "replay-compare: $GENCAP -n $BIG_EVENTS failed" >&2
	exit 2
}
gzip -1 -c "$W/big.ttcap" >"$W/big-gz.ttcap" || exit 2
head -c 1048576 "$W/big.ttcap" >"$W/cut.ttcap" || exit 2
printf 'this is no capture\n' >"$W/garbage.ttcap"

# Flow records (format 3), if both binaries read them: an older one says
# the format is newer than it reads, which is no difference worth a DIFF.
FLOWCAPS=
"$GENCAP" -f -n "$FLOW_RECORDS" >"$W/flows.ttcap" || {
	echo "replay-compare: $GENCAP -f -n $FLOW_RECORDS failed" >&2
	exit 2
}
"$GENCAP" -f -n 50 >"$W/flows-probe.ttcap" || exit 2
if "$OLD" -r "$W/flows-probe.ttcap" -i 0 --quiet-flows >/dev/null 2>&1 &&
   "$NEW" -r "$W/flows-probe.ttcap" -i 0 --quiet-flows >/dev/null 2>&1; then
	FLOWCAPS=$W/flows.ttcap
else
	echo "replay-compare: a binary reads no capture format 3: flow records left out" >&2
fi

# One option set a line.  METRICS and OUTFILE stand for a path of the
# run's own, compared after the run.
OPTSETS='
-
--json
-e
-e --json
--ladder
--ladder -e
-i 0
-i 1
-i 1 --json
-i 1 --quiet-flows
-i 1 --json --quiet-flows
--quiet-flows --close-wait-age 1
--color=always -e
--state close-wait
--state close-wait,time-wait -e
--state connected --json -e
--remote 127.0.0.0/8 --json
--local ::1 -e
--remote 10.0.0.0/8,::1/128 --local 127.0.0.1
-4 -e
-6 --json
-P 47001,8080
-L 47001,443 --json
-D 47001,8443
-p 15843
--snapshot
--snapshot --json
--snapshot --quiet-flows
--snapshot --state close-wait
--top
--top --json
-i 1 --metrics-file METRICS
--json -e -o OUTFILE
--max-flows 100 -i 1
'

n_same=0
n_diff=0

# show A B: the first lines of their difference
show() {
	diff "$1" "$2" | head -n 8 | cut -c 1-200 | sed "s/^/    /"
}

# run BIN TAG CAPTURE STDIN OPTS: one replay into $W/TAG.{out,err,rc,metrics,file}
run() {
	_bin=$1
	_tag=$2
	_cap=$3
	_stdin=$4
	shift 4
	rm -f "$W/$_tag".*
	set -- $(echo "$*" | sed -e "s|METRICS|$W/$_tag.metrics|" -e "s|OUTFILE|$W/$_tag.file|")
	[ "$1" != - ] || shift
	if [ "$_stdin" = 1 ]; then
		"$_bin" -r - "$@" <"$_cap" >"$W/$_tag.out" 2>"$W/$_tag.err"
	else
		"$_bin" -r "$_cap" "$@" </dev/null >"$W/$_tag.out" 2>"$W/$_tag.err"
	fi
	echo $? >"$W/$_tag.rc"
	# the files name their own path nowhere, but the messages may: one name
	sed -i "s|$W/$_tag\.|SCRATCH.|g" "$W/$_tag.out" "$W/$_tag.err"
}

# compare NAME CAPTURE STDIN OPTS
compare() {
	_name=$1
	shift
	run "$OLD" old "$@"
	run "$NEW" new "$@"
	_bad=
	for x in rc out err metrics file; do
		if [ -e "$W/old.$x" ] || [ -e "$W/new.$x" ]; then
			if ! cmp -s "$W/old.$x" "$W/new.$x"; then
				_bad="$_bad $x"
			fi
		fi
	done
	if [ -z "$_bad" ]; then
		n_same=$((n_same + 1))
		echo "same $_name ($(wc -l <"$W/old.out") lines, exit $(cat "$W/old.rc"))"
	else
		n_diff=$((n_diff + 1))
		echo "DIFF $_name:$_bad"
		for x in $_bad; do
			echo "  $x: --- $OLD  +++ $NEW"
			if [ -e "$W/old.$x" ] && [ -e "$W/new.$x" ]; then
				show "$W/old.$x" "$W/new.$x"
			else
				echo "    written by one binary only"
			fi
		done
	fi
}

CAPTURES=$(ls tests/captures/*.ttcap) || exit 2
set -f
for cap in $CAPTURES "$W/big.ttcap" "$W/big-gz.ttcap" "$W/cut.ttcap" \
	$FLOWCAPS "$W/garbage.ttcap"; do
	capname=${cap##*/}
	echo "$n_same $n_diff" >"$W/counts"
	echo "$OPTSETS" | while IFS= read -r opts; do
		[ -n "$opts" ] || continue
		case $opts in *"$ONLY"*) ;; *) continue ;; esac
		compare "$capname $opts" "$cap" 0 $opts
		echo "$n_same $n_diff" >"$W/counts"
	done
	read -r n_same n_diff <"$W/counts"
done
# stdin: the plain and the gzipped stream
for cap in tests/captures/close.ttcap "$W/big-gz.ttcap"; do
	for opts in "--json -e" "-i 1"; do
		case $opts in *"$ONLY"*) ;; *) continue ;; esac
		compare "${cap##*/} (stdin) $opts" "$cap" 1 $opts
	done
done
set +f

echo "replay-compare: $n_same same, $n_diff different"
[ "$n_diff" -eq 0 ]
