#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Every line of live --json output matches include/tcptrail.schema.json
# (python3-jsonschema, tests/tools/check-json.py): a CLOSE-WAIT leak traced
# with -e (flows, transitions, summaries, close_wait and time_wait reports),
# then accept-queue overflows (overflow records, listeners in summaries).
# Each run must hold the record types it is there for.  Host only: the qemu
# guest has no python3.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no python3 for the schema checker"; exit 77; }

command -v python3 >/dev/null || fail "python3 is missing (tests/deps.sh installs it)"
check_json() {
	python3 tests/tools/check-json.py include/tcptrail.schema.json --require "$1" "$2" \
		>"$DIR/check.out" 2>&1 || fail "$(cat "$DIR/check.out")"
	cat "$DIR/check.out"
}

TCPTRAIL_ARGS=-e
check_close_wait close-wait
check_json flow,transition,summary,close_wait,time_wait "$OUT"
cp "$OUT" "$DIR/leak.json"

TCPTRAIL_ARGS=
# trace() lets ttdrive go by creating $DIR/go: the first run left one
rm -f "$DIR/go" "$DIR/resume"
trace overflow-accept
check_json flow,overflow,summary "$OUT"
grep -q '"listeners":\[{' "$OUT" || fail "no summary named a listener"
pass
