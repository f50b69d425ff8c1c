#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# CLOSE-WAIT leaks in real podman containers, tcptrail run host-wide (no -N;
# -P keeps the test's own port).
# Container A leaks 6 sockets BEFORE tcptrail starts, container B leaks 4
# after.  Each container's close_wait report must count what `ss` shows in
# that container's network namespace, name the leaking process by its HOST
# pid (the one ss -p and ps on the host show), and name the container by
# its full 64-hex id and its cgroup; the human output names it by its
# 12-character short id.  Skips, saying why, only where podman cannot start
# a container.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/container.inc
. "${0%/*}/container.inc"

N=6
M=4
# A port of this test's own for the leaks, and tcptrail told to keep it
# alone (-P, in the kernel, and on the seeded sockets): still every
# namespace, but other tests' leaks (ttdrive's 8000) stay out of the report.
PORT=$((20000 + $$ % 20000))
CONTAINER_DRIVE_ARGS="--port $PORT"
container_setup

container_leak "$N"
A=$CID A_PID=$CPID A_NS=$CNETNS A_LEAK=$LEAK_PID
echo "A: container $A, host pid $A_PID, netns $A_NS, ttleak host pid $A_LEAK" \
	"(pid $(cfact "$A" server_pid) inside)"

: >"$DIR/trace.err"
MPORT=$("$DRIVE" --free-port) || fail "ttdrive --free-port failed"
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 --close-wait-age 1 -P "$PORT" \
	--metrics-listen "127.0.0.1:$MPORT" >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"

container_leak "$M"
B=$CID B_PID=$CPID B_NS=$CNETNS B_LEAK=$LEAK_PID
echo "B: container $B, host pid $B_PID, netns $B_NS, ttleak host pid $B_LEAK" \
	"(pid $(cfact "$B" server_pid) inside)"

# cw_of NETNS: the latest close_wait report of that namespace.
cw_of() {
	records close_wait | grep "\"netns\":$1[,}]" | sed -n '$p'
}

_both_reported() {
	[ "$(cw_of "$A_NS" | jget count)" = "$N" ] && [ "$(cw_of "$B_NS" | jget count)" = "$M" ]
}
wait_until 15 _both_reported
alive "$TRACE_PID" || fail "tcptrail exited: $(last_line "$DIR/trace.err")"

# check_container NAME ID HOSTPID NETNS LEAKPID K SEEDED
check_container() {
	_cw=$(cw_of "$4")
	[ -n "$_cw" ] || fail "$1: no close_wait report for netns $4 (container $2)" \
		"within 15 s; reports seen: $(records close_wait | count_lines)"
	_ss=$(cns_ss "$3" -Htanp state close-wait) || fail "$1: nsenter -t $3 -n ss failed"
	expect_eq "$1: ss -tan state close-wait in the container" \
		"$(printf '%s\n' "$_ss" | count_lines)" "$6"
	expect_eq "$1: ss -tanp: CLOSE-WAIT sockets of ttleak, host pid $5" \
		"$(printf '%s\n' "$_ss" | grep -c "((\"ttleak\",pid=$5,")" "$6"
	_cg=$(sed -n 's/^0:://p' "/proc/$3/cgroup")
	expect_flow "$1: close_wait report" "$_cw" count="$6" pid="$5" comm=ttleak \
		service=local service_port="$(cfact "$2" port)" seeded="$7" netns="$4" \
		container="$2" cgroup="$_cg"
	echo "$1: $6 leaked, ss in the container $6; reported count $6, pid $5," \
		"container ${2%"${2#????????????}"}..., cgroup $_cg, seeded $7"
}
check_container "A (leaked before tcptrail started)" "$A" "$A_PID" "$A_NS" "$A_LEAK" "$N" "$N"
check_container "B (leaked after)" "$B" "$B_PID" "$B_NS" "$B_LEAK" "$M" 0

# /metrics names the containers as the report does
"$DRIVE" --http-get "127.0.0.1:$MPORT/metrics" >"$DIR/get.out" 2>"$DIR/get.err" ||
	fail "GET /metrics failed: $(last_line "$DIR/get.err")"
for _c in "$A $N" "$B $M"; do
	set -- $_c
	grep -q "^tcptrail_container_close_wait_suspected_leaks{container=\"$1\",service=\"local:$PORT\"} $2" \
		"$DIR/get.out" || fail "GET /metrics: no container series of $1 with $2:" \
		"$(grep '^tcptrail_container_close_wait' "$DIR/get.out" | tr '\n' ' ')"
done

trace_stop
_bad=$(grep -v '^{"type":"[a-z_]*",' "$OUT" | sed -n 1p)
[ -z "$_bad" ] || fail "stdout line is not a JSON record: $_bad"
expect_eq "final summaries" "$(grep -c '^{"type":"summary",.*"final":true' "$OUT")" 1

# The human output: the leak line names each container by its short id,
# 12 hex digits standing alone (not the start of the full id).
# shellcheck disable=SC2086
"$TCPTRAIL" $TCPTRAIL_ARGS --quiet-flows -i 1 --close-wait-age 1 -d 3 -P "$PORT" \
	>"$DIR/human.out" 2>"$DIR/human.err" ||
	fail "tcptrail (human output) exited $?: $(last_line "$DIR/human.err")"
for _c in "A $A $A_LEAK $N" "B $B $B_LEAK $M"; do
	# shellcheck disable=SC2086 # "NAME ID PID COUNT", split on purpose
	set -- $_c
	_short=${2%"${2#????????????}"}
	_line=$(grep "close_wait" "$DIR/human.out" | grep "pid=$3 " | sed -n '$p')
	[ -n "$_line" ] || fail "human output: no CLOSE-WAIT line for pid $3 (container $1)"
	printf '%s\n' "$_line" | grep -q "\(^\|[^0-9a-f]\)$_short\([^0-9a-f]\|\$\)" ||
		fail "human output: container $1's short id $_short is not on its line: $_line"
	printf '%s\n' "$_line" | grep -q " count=$4 " ||
		fail "human output: container $1's line does not say count=$4: $_line"
	echo "human: $_line"
done
pass
