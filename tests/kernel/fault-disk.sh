#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A full disk: -w and stdout on a 64 KiB tmpfs (mounted in a mount namespace
# of the test's own) under steady traffic.  tcptrail says which write failed
# and why, exits non-zero within moments of the disk filling (no busy loop,
# no hang), and the capture replays up to where it stopped: the same
# transitions, in the same order, as the live output showed (-e).  Then the
# capture alone fills it, and tcptrail does not blame the kernel for the
# traffic it stopped reading.
if [ -z "$TT_FAULT_MNTNS" ]; then
	command -v unshare >/dev/null 2>&1 || { echo "skip: no unshare here"; exit 77; }
	TT_FAULT_MNTNS=1 exec unshare -m sh "$0" "$@"
fi
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

# kilobytes free on the small disk
avail_kb() {
	df -k "$FULL" | awk 'NR == 2 { print $4 }'
}

FULL=$DIR/full
mkdir "$FULL" && mount --make-rprivate / && mount -t tmpfs -o size=64k tmpfs "$FULL" ||
	fail "cannot mount a 64 KiB tmpfs on $FULL"
FAULT_CLEANUP='umount "$FULL" 2>/dev/null'

stress_start rate 30 1
TT_STDOUT=$FULL/out tt_start --json -e --netns "$NETNS" -i 1 -w "$FULL/cap.ttcap"
t_start=$(now_ds)
go
# watch until it exits: when the disk filled, and the CPU it used meanwhile
t_full=
ticks_full=
ticks=0
n=0
while alive "$TRACE_PID" && [ "$n" -lt 300 ]; do
	t=$(cpu_ticks "$TRACE_PID")
	[ -z "$t" ] || ticks=$t
	if [ -z "$t_full" ] && [ "$(avail_kb)" = 0 ]; then
		t_full=$(now_ds)
		ticks_full=$ticks
	fi
	sleep 0.1
	n=$((n + 1))
done
alive "$TRACE_PID" && fail "tcptrail still running 30 s into traffic on a full 64 KiB disk"
t_exit=$(now_ds)
tt_reap
st=$TT_STATUS
cp "$FULL/cap.ttcap" "$DIR/cap.ttcap"	# for KEEP=1: the tmpfs goes with the test
cp "$FULL/out" "$DIR/live.out"
stress_stop	# the traffic has done its part

[ -n "$t_full" ] || t_full=$t_exit
note "the 64 KiB disk filled $((t_full - t_start))00 ms into the traffic; tcptrail exited" \
	"$((t_exit - t_full))00 ms later with status $st, having used $((ticks - ${ticks_full:-ticks}))" \
	"clock ticks of CPU since the disk filled"
note "stderr: $(grep -v '^tcptrail: tracing' "$DIR/trace.err" | tr '\n' '|')"
[ "$st" != 0 ] || fail "tcptrail exited 0 on a full disk"
[ "$st" -lt 128 ] || fail "tcptrail died of signal $((st - 128)) on a full disk"
[ $((t_exit - t_full)) -le 50 ] || fail "tcptrail took $((t_exit - t_full))00 ms to stop on a full disk"
grep -q '^tcptrail: .*No space left on device' "$DIR/trace.err" ||
	fail "no message naming ENOSPC: $(last_line "$DIR/trace.err")"
grep -q -e '^tcptrail: write output: ' -e "^tcptrail: write capture $FULL/cap.ttcap: " \
	"$DIR/trace.err" || fail "the message names no write step: $(last_line "$DIR/trace.err")"
# 100 ticks a second, 10 in each 100 ms: more than 90% of one CPU from the
# disk filling on is a spin (a second tick of slack for the sampling)
[ $((ticks - ${ticks_full:-ticks})) -le $(( (t_exit - t_full) * 9 + 1 )) ] ||
	fail "tcptrail used $((ticks - ticks_full)) ticks in $((t_exit - t_full))00 ms: a busy loop?"

# The capture replays, up to where it stopped, what the live run showed.
"$TCPTRAIL" -r "$DIR/cap.ttcap" --json -e >"$DIR/replay.out" 2>"$DIR/replay.err"
rst=$?
note "replay: status $rst, $(grep -c '"type":"transition"' "$DIR/replay.out") transitions," \
	"$(grep -c '"type":"flow"' "$DIR/replay.out") flows;" \
	"$(grep -v '^tcptrail: replaying' "$DIR/replay.err" | tr '\n' ' ')"
# 0 when the capture's end still fit on the disk; 2, as any cut capture
# (README), when it did not
case $rst in
0) ;;
2) grep -q 'truncated at offset' "$DIR/replay.err" ||
	fail "replay failed, and not for a truncated file: $(last_line "$DIR/replay.err")" ;;
*) fail "replay exited $rst: $(last_line "$DIR/replay.err")" ;;
esac
# Both sides' transitions, complete lines only, without "time" (each side
# read the wall clock offset separately): the replay's must be the live
# run's, as far as the shorter goes.
for side in live replay; do
	grep '^{"type":"transition",.*}$' "$DIR/$side.out" | sed 's/"time":"[^"]*",//' \
		>"$DIR/$side.tr"
done
nl=$(grep -c . "$DIR/live.tr")
nr=$(grep -c . "$DIR/replay.tr")
[ "$nr" -gt 0 ] || fail "the capture replays no transition"
[ "$nl" -gt 0 ] || fail "the live output holds no transition: nothing to compare the replay with"
replay_starts_live "$DIR/live.tr" "$DIR/replay.tr"
note "the first $SAME_N transitions of the replay ($nr) and of the live output ($nl) are the" \
	"same, and $SAME_TW TIME-WAIT the replay settled at its end are in the live output later"

# The capture alone fills the disk, tcptrail running in the namespace it
# traces, where it checks the namespace's own counters at exit: the stop is
# its own doing, so the traffic it did not read after is no hook the kernel
# skipped, and it must not say so.  (The busybox guest has no nsenter.)
if [ "${TT_GUEST:-}" = 1 ]; then
	note "the counters check after a full disk is left out: no nsenter in the guest"
	pass
fi
umount "$FULL" && mount -t tmpfs -o size=64k tmpfs "$FULL" ||
	fail "cannot mount a fresh 64 KiB tmpfs on $FULL"
stress_start rate 30 1
TT=$TCPTRAIL
TCPTRAIL=nsenter
TCPTRAIL_ARGS="--net=/proc/$DRIVE_PID/ns/net $TT $TCPTRAIL_ARGS"
tt_start --json --netns "$NETNS" -w "$FULL/cap2.ttcap"
TCPTRAIL=$TT
go
wait_until 30 not_alive "$TRACE_PID" ||
	fail "tcptrail in the namespace still running 30 s into traffic on a full 64 KiB disk"
tt_reap
st=$TT_STATUS
stress_stop
note "capture alone on the full disk: status $st, $(grep -v '^tcptrail: tracing' "$DIR/trace.err" | tr '\n' '|')"
[ "$st" = 1 ] || fail "tcptrail exited $st when the capture filled the disk (1 expected)"
grep -q "^tcptrail: write capture $FULL/cap2.ttcap: No space left on device" "$DIR/trace.err" ||
	fail "no message naming the capture's ENOSPC: $(last_line "$DIR/trace.err")"
! grep -q 'that tcptrail did not see' "$DIR/trace.err" ||
	fail "a stop on a full disk blamed on the kernel: $(grep 'did not see' "$DIR/trace.err")"

# Existing files on a read-only mount: -w and -o are refused with one line
# and 2, before anything is attached (they failed with 1, after attaching
# every hook, so a service restarted them in a loop)
: >"$FULL/ro.ttcap"
: >"$FULL/ro.out"
mount -o remount,ro "$FULL" || fail "cannot remount $FULL read-only"
for _a in "-w $FULL/ro.ttcap" "-o $FULL/ro.out"; do
	# shellcheck disable=SC2086 # the option and its file are two words
	"$TCPTRAIL" -P 9 -d 1 $_a >/dev/null 2>"$DIR/ro.err"
	_st=$?
	[ "$_st" = 2 ] && [ "$(wc -l <"$DIR/ro.err")" -eq 1 ] &&
		grep -q 'cannot write to it: Read-only file system' "$DIR/ro.err" ||
		fail "$_a on a read-only mount: exit $_st, want 2 and one line: $(cat "$DIR/ro.err")"
done
note "existing files on a read-only mount: $(cat "$DIR/ro.err")"
pass
