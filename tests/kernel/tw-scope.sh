#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --cgroup narrows the TIME-WAIT report to the namespaces its sockets live
# in.  A TIME-WAIT socket has no cgroup (the kernel's timewait socks keep
# none), so the report can only count namespaces: two cgroups of our own,
# each with a namespace of its own.  In a's, 20 TIME-WAIT sockets are made
# before tcptrail starts and 30 after (two ttdrive tw-load runs, --no-netns
# in one unshare -n); in b's, 40 after.  tcptrail --cgroup /PARENT/a must
# report a's 50, and no other namespace, in its population, by_netns, top
# remote endpoints and top local addresses (those equal ttdrive's count of
# the namespace).  Before, it counted every namespace on the host (80 and
# more here), while its top_containers, from the filtered entries, said
# otherwise; and its top local addresses were the 30 entries it saw, not
# the 50 sockets there.  Before the 30, with no flow of a's in its table,
# the report must count a's 20 already.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# shellcheck source=tests/kernel/cgroups.inc
. "${0%/*}/cgroups.inc"
cg_make a b
command -v unshare >/dev/null || fail "unshare not found (util-linux; make deps INSTALL=1)"

# a's namespace: 20 TIME-WAIT sockets before tracing, then (at a.go) 30 more
# shellcheck disable=SC2016 # $$ and $1.. are the inner shell's
sh -c 'echo $$ >"$1/cgroup.procs" && exec unshare -n sh -c "
	\"\$1\" --no-netns tw-load 20 >\"\$2/a0.out\" 2>\"\$2/a0.err\" || exit 1
	: >\"\$2/a0.done\"
	exec \"\$1\" --no-netns --go-file \"\$2/a.go\" --resume-file \"\$2/a.resume\" \
		--timeout 60 tw-load 30" sh "$2" "$3"' sh "$MNT/$CG/a" "$DRIVE" "$DIR" \
	>"$DIR/a.out" 2>"$DIR/a.err" &
DA=$!
_a0_done() {
	[ -e "$DIR/a0.done" ] || not_alive "$DA"
}
wait_until 30 _a0_done
[ -e "$DIR/a0.done" ] ||
	fail "ttdrive tw-load 20 in cgroup a did not finish: $(last_line "$DIR/a0.err") $(last_line "$DIR/a.err")"
[ "$(sed -n 's/^ss.time_wait=//p' "$DIR/a0.out")" = 20 ] || fail "ss in a's namespace: not 20 TIME-WAIT"

"$TCPTRAIL" $TCPTRAIL_ARGS --json --quiet-flows -i 1 --cgroup "/$CG/a" >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail did not start: $(last_line "$DIR/trace.err")"

# Before a.go, a's namespace holds its 20 TIME-WAIT sockets and a process of
# a's waiting, and no socket tcptrail keeps a flow of: the report counts
# them all the same, by the namespaces of the cgroup's processes at start.
# (Before, it had no namespace to count: no time_wait report, or 0.)
first_tw() {
	grep -q '^{"type":"time_wait",' "$OUT"
}
wait_until 10 first_tw || fail "no time_wait report within 10 s of the start"
tw0=$(grep '^{"type":"time_wait",' "$OUT" | sed -n 1p)
expect_flow "the first time_wait report, before a's traffic" "$tw0" population=20

# start_load NAME N: ttdrive tw-load N in cgroup NAME, paused until NAME.resume
start_load() {
	# shellcheck disable=SC2016 # $$ is the inner shell's
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --resume-file "$3" --timeout 60 tw-load "$4"' \
		sh "$MNT/$CG/$1" "$DRIVE" "$DIR/$1.resume" "$2" >"$DIR/$1.out" 2>"$DIR/$1.err" &
}
paused() {
	grep -q '^paused=' "$DIR/$1.out"
}
: >"$DIR/a.go"
start_load b 40
DB=$!
wait_until 30 paused a || fail "ttdrive in cgroup a did not pause: $(last_line "$DIR/a.err")"
wait_until 30 paused b || fail "ttdrive in cgroup b did not pause: $(last_line "$DIR/b.err")"
NA=$(sed -n 's/^netns=//p' "$DIR/a.out")
NB=$(sed -n 's/^netns=//p' "$DIR/b.out")
[ "$(sed -n 's/^netns=//p' "$DIR/a0.out")" = "$NA" ] || fail "a's two ttdrive runs are in two namespaces"
[ "$(sed -n 's/^ss.time_wait=//p' "$DIR/a.out")" = 50 ] || fail "ss in a's namespace: not 50 TIME-WAIT"
[ "$(sed -n 's/^ss.time_wait=//p' "$DIR/b.out")" = 40 ] || fail "ss in b's namespace: not 40 TIME-WAIT"

# two summaries after both paused: the second's census has both namespaces
sleep 2.5
trace_stop
: >"$DIR/a.resume"
: >"$DIR/b.resume"
for _p in $DA $DB; do
	wait_until 20 not_alive "$_p" || fail "ttdrive $_p still running"
done
DA= DB=

tw=$(grep '^{"type":"time_wait",' "$OUT" | sed -n '$p')
[ -n "$tw" ] || fail "no time_wait record"
pop=$(echo "$tw" | jget population)
[ "$pop" = 50 ] || fail "--cgroup /$CG/a: TIME-WAIT population $pop, want a's 50: $tw"
e=$(sum_of time_wait entries)
[ "$e" = 30 ] || fail "--cgroup /$CG/a: $e TIME-WAIT entries, want the 30 traced in a"
expect_eq "top_remote" "$(printf '%s\n' "$tw" | endpoints top_remote | tr '\n' ' ')" \
	"$(sed -n 's/^tw\.remote\.//p' "$DIR/a.out" | sort | tr '\n' ' ')"
expect_eq "top_local" "$(printf '%s\n' "$tw" | endpoints top_local | tr '\n' ' ')" \
	"$(sed -n 's/^tw\.local\.//p' "$DIR/a.out" | sort | tr '\n' ' ')"
echo "$tw" | grep -q "\"netns\":$NA," || fail "by_netns does not name a's namespace $NA: $tw"
echo "$tw" | grep -q "\"netns\":$NB," && fail "the record names b's namespace $NB: $tw"
n=$(echo "$tw" | grep -o '"netns":[0-9]*' | sort -u | wc -l)
[ "$n" = 1 ] || fail "$n namespaces named, want a's alone: $tw"
echo "tw-scope: population $pop of a's namespace $NA, 20 of them made before tracing, top endpoints and local addresses as ss counts them (b's $NB left out)"
pass
