#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Record and replay: a live run with -w writes a capture; tcptrail -r on it
# prints the very same flow records, byte for byte, and the same final
# summary but for when it was made (t_ns, time, interval_ns); overflow
# records are replayed in overflow-accept.sh (ttdrive mix makes none).
# Then a leak over
# a stretch the capture holds no record of: the replay's summaries are
# live's, and -d ends the replay at the capture's start plus d.
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
echo "replay: $(count_lines <"$DIR/live.flows") flows, identical"

# A quiet stretch: a CLOSE-WAIT leak held about 6 s, in which the capture gets
# no record at all.  Live summarised every 0.5 s and reported the leak in each
# summary past its age; the replay makes the same summaries, each at its own
# interval boundary, and no zero-length final one (it once made one summary
# for the whole stretch).  Live's summaries come at the first 50 ms tick
# after a boundary, so the counts may differ by a summary or two.
trace_begin close-wait -w "$DIR/cw.ttcap" -i 0.5 --close-wait-age 0.5
wait_paused close-wait
sleep 4
resume
trace_end
"$TCPTRAIL" -r "$DIR/cw.ttcap" --json -i 0.5 --close-wait-age 0.5 >"$DIR/cw.out" 2>"$DIR/cw.err" ||
	fail "tcptrail -r (close-wait) exited $?: $(last_line "$DIR/cw.err")"
_live=$(records close_wait | count_lines)
_replay=$(grep -c '^{"type":"close_wait",' "$DIR/cw.out")
[ "$_replay" -ge 10 ] && [ "$_replay" -le $((_live + 2)) ] && [ "$_replay" -ge $((_live - 2)) ] ||
	fail "close_wait reports: $_live live, $_replay replayed"
_bad=$(grep '^{"type":"summary",' "$DIR/cw.out" | grep '"final":false' |
	grep -v '"interval_ns":500000000,' | sed -n 1p)
[ -z "$_bad" ] || fail "replayed summary of another interval than 0.5 s: $_bad"
_final=$(grep '^{"type":"summary",.*"final":true' "$DIR/cw.out" | jget interval_ns)
[ "$_final" -gt 0 ] && [ "$_final" -le 500000000 ] ||
	fail "replayed final summary's interval: $_final ns"
expect_eq "replayed close_wait trends, first and last" \
	"$(grep '^{"type":"close_wait",' "$DIR/cw.out" | jget trend | sed -n '1p;$p' | tr '\n' ' ')" \
	"new stable "
# -d: the replay ends exactly that long after the capture's start
"$TCPTRAIL" -r "$DIR/cw.ttcap" --json -i 0 -d 3 >"$DIR/cw-d.out" 2>"$DIR/cw-d.err" ||
	fail "tcptrail -r -d 3 exited $?: $(last_line "$DIR/cw-d.err")"
expect_eq "replay -d 3 -i 0: the final summary's interval" \
	"$(grep '^{"type":"summary",' "$DIR/cw-d.out" | jget interval_ns)" 3000000000
echo "replay: quiet stretch: $_live close_wait reports live, $_replay replayed"
pass
