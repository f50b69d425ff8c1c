#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# replay-compare-syslog.sh OLD NEW [CAPTURE...]: what tests/replay-compare.sh
# does not cover: replay every capture with both binaries with --syslog (a
# receiver at TCPTRAIL_SYSLOG_SOCKET) and compare stdout, stderr, the exit
# status and every line syslog got, byte for byte.  Without captures:
# tests/captures/*.ttcap plus a 1M-record gencap capture (GENCAP=path/to/gencap,
# default .output/bench/gencap; GENCAP_N=records).  No root; replay only.
#
#   git worktree add --detach /tmp/tt-oldsrc main && make -C /tmp/tt-oldsrc
#   make && make .output/bench/gencap
#   tests/replay-compare-syslog.sh /tmp/tt-oldsrc/tcptrail ./tcptrail
#
# Replay is deterministic: times come from the records and the capture's
# wall-clock offset, colour is off (NO_COLOR, not a terminal), TZ is fixed.
# Only the syslog header (the sender's clock at sending) is cut before the
# comparison.
set -u
OLD=${1:?usage: replay-compare-syslog.sh OLD NEW [CAPTURE...]}
NEW=${2:?usage: replay-compare-syslog.sh OLD NEW [CAPTURE...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/tt-compare.XXXXXX)
recv_pid=
cleanup() { [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
export NO_COLOR=1 TZ=UTC LC_ALL=C

if [ $# -eq 0 ]; then
	set -- "$here"/captures/*.ttcap
	gencap=${GENCAP:-$here/../.output/bench/gencap}
	if [ ! -x "$gencap" ]; then
		echo "replay-compare: no $gencap (make .output/bench/gencap)" >&2
		exit 2
	fi
	"$gencap" -n "${GENCAP_N:-1000000}" > "$tmp/gencap.ttcap" || exit 2
	set -- "$@" "$tmp/gencap.ttcap"
fi

FORMATS='-i 30 --syslog
--quiet-flows -i 5 --json --syslog
-e --ladder -i 5 --syslog'

fail=0 runs=0
# run BIN TAG ARGS...: outputs under $tmp/TAG.*
run() {
	bin=$1 tag=$2; shift 2
	metrics=$tmp/$tag.metrics
	rm -f "$metrics" "$tmp/$tag.syslog" "$tmp/$tag.syslog.raw"
	syslog=false
	args=
	for a in "$@"; do
		case $a in
		--metrics-file=METRICS) a=--metrics-file=$metrics ;;
		--syslog) syslog=true ;;
		esac
		args="$args $a"
	done
	if $syslog; then
		sock=$tmp/syslog.sock
		rm -f "$sock"
		python3 "$here/tools/dgramrecv.py" raw "$sock" "$tmp/$tag.syslog.raw" 600 &
		recv_pid=$!
		i=0
		while [ ! -e "$tmp/$tag.syslog.raw" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
		TCPTRAIL_SYSLOG_SOCKET=$sock "$bin" $args > "$tmp/$tag.out" 2> "$tmp/$tag.err"
		echo "status $?" >> "$tmp/$tag.err"
		sleep 0.3
		kill "$recv_pid" 2>/dev/null; wait "$recv_pid" 2>/dev/null; recv_pid=
		# <PRI>Mmm dd hh:mm:ss host tag[pid]: the sender's clock and pid
		sed -e 's/"data": "<[0-9]*>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* [^:]*: /"data": "/' \
			"$tmp/$tag.syslog.raw" > "$tmp/$tag.syslog"
	else
		"$bin" $args > "$tmp/$tag.out" 2> "$tmp/$tag.err" < /dev/null
		echo "status $?" >> "$tmp/$tag.err"
	fi
}

for cap in "$@"; do
	echo "$FORMATS" | while IFS= read -r fmt; do
		[ "$fmt" = - ] && fmt=
		# shellcheck disable=SC2086
		run "$OLD" old -r "$cap" $fmt
		# shellcheck disable=SC2086
		run "$NEW" new -r "$cap" $fmt
		bad=
		for x in out err metrics syslog; do
			[ -e "$tmp/old.$x" ] || [ -e "$tmp/new.$x" ] || continue
			cmp -s "$tmp/old.$x" "$tmp/new.$x" || bad="$bad $x"
		done
		size=$(wc -c < "$tmp/new.out")
		if [ -n "$bad" ]; then
			echo "DIFFER $(basename "$cap") [$fmt]:$bad"
			for x in $bad; do diff "$tmp/old.$x" "$tmp/new.$x" | head -8; done
			echo x >> "$tmp/failed"
		else
			echo "same   $(basename "$cap") [$fmt] ($size bytes)"
		fi
	done
done
if [ -e "$tmp/failed" ]; then
	echo "replay-compare: $(wc -l < "$tmp/failed") runs differ"
	exit 1
fi
echo "replay-compare: all identical"
