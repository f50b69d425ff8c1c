#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Record and replay: a live run with -w writes a capture; tcptrail -r on it
# prints the very same flow records, byte for byte, and the same final
# summary but for when it was made (t_ns, time, interval_ns).  Also the
# overflow records (ttdrive mix has none; overflow records carry no timing
# of their own beyond t_ns, which comes from the capture).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace mix -w "$DIR/cap.ttcap" -i 0
[ -s "$DIR/cap.ttcap" ] || fail "no capture written"
"$TCPTRAIL" -r "$DIR/cap.ttcap" --json -i 0 >"$DIR/replay.out" 2>"$DIR/replay.err" ||
	fail "tcptrail -r exited $?: $(last_line "$DIR/replay.err")"

grep '^{"type":"flow",' "$OUT" >"$DIR/live.flows"
grep '^{"type":"flow",' "$DIR/replay.out" >"$DIR/replay.flows"
[ -s "$DIR/live.flows" ] || fail "no flows traced"
if ! cmp -s "$DIR/live.flows" "$DIR/replay.flows"; then
	nostart() {
		sed 's/"start":"[^"]*",//' "$1"
	}
	[ "$(nostart "$DIR/live.flows")" != "$(nostart "$DIR/replay.flows")" ] ||
		fail "replayed flows differ from the live ones in \"start\" alone: the capture's" \
			"wall-clock offset is not the one the live run printed with; first difference:
$(first_diff "$DIR/live.flows" "$DIR/replay.flows" | sed 's/"t_ns".*"start"/... "start"/; s/\("start":"[^"]*"\).*/\1 .../')"
	fail "replayed flows differ from the live ones ($(count_lines <"$DIR/live.flows") live," \
		"$(count_lines <"$DIR/replay.flows") replayed); first difference:
$(first_diff "$DIR/live.flows" "$DIR/replay.flows")"
fi

untimed() {
	grep "^{\"type\":\"$1\"," | sed 's/"t_ns":[0-9]*,"time":"[^"]*",\("interval_ns":[0-9]*,\)\{0,1\}//'
}
expect_eq "final summary, replayed (less its timing)" \
	"$(untimed summary <"$DIR/replay.out")" "$(untimed summary <"$OUT")"
expect_eq "overflow records, replayed" \
	"$(grep '^{"type":"overflow",' "$DIR/replay.out")" "$(grep '^{"type":"overflow",' "$OUT")"
echo "replay: $(count_lines <"$DIR/live.flows") flows, identical"
pass
