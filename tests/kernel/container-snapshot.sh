#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --snapshot of a host with two real podman containers leaking CLOSE-WAIT
# sockets: each container's leaked sockets are grouped under it, named by
# its full id in JSON and its 12-digit short id in the human view, with the
# leaking process's HOST pid as owner and an age, as many as ss counts
# inside the container; --container ID keeps one container's sockets, also
# a third container's TIME-WAIT sockets (named by its namespace).  No
# BPF.  Skips, saying why, only where podman cannot start a container.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/container.inc
. "${0%/*}/container.inc"

N=6
M=3
container_setup
container_leak "$N"
A=$CID A_PID=$CPID A_NS=$CNETNS A_LEAK=$LEAK_PID
container_leak "$M"
B=$CID B_PID=$CPID B_NS=$CNETNS B_LEAK=$LEAK_PID

"$TCPTRAIL" --snapshot --json >"$OUT" 2>"$DIR/snap.err" ||
	fail "--snapshot exited $?: $(last_line "$DIR/snap.err")"
snap=$(records snapshot)

# check NAME ID HOSTPID NETNS LEAKPID K
check() {
	_cw=$(records socket | grep "\"state\":\"CLOSE_WAIT\",\"netns\":$4,")
	_ss=$(cns_ss "$3" -Htanp state close-wait) || fail "$1: nsenter -t $3 -n ss failed"
	expect_eq "$1: ss -tan state close-wait in the container" \
		"$(printf '%s\n' "$_ss" | count_lines)" "$6"
	expect_eq "$1: CLOSE_WAIT sockets in netns $4" "$(printf '%s\n' "$_cw" | count_lines)" "$6"
	expect_eq "$1: CLOSE_WAIT sockets of container $2, ttleak host pid $5" \
		"$(printf '%s\n' "$_cw" | grep "\"container\":\"$2\"" |
			grep -c "\"pid\":$5,\"comm\":\"ttleak\"")" "$6"
	expect_eq "$1: CLOSE_WAIT sockets with an age" \
		"$(printf '%s\n' "$_cw" | grep -c '"age_ms":[0-9]')" "$6"
	_g=$(printf '%s\n' "$snap" | json_array groups | grep '"state":"CLOSE_WAIT"' |
		grep "\"container\":\"$2\"")
	expect_flow "$1: the snapshot's CLOSE_WAIT group" "$_g" count="$6" pid="$5" netns="$4"
	echo "$1: $6 CLOSE-WAIT sockets in container ${2%"${2#????????????}"}, ttleak host pid $5"
}
check A "$A" "$A_PID" "$A_NS" "$A_LEAK" "$N"
check B "$B" "$B_PID" "$B_NS" "$B_LEAK" "$M"

# --container: one container's sockets, and every one of them its own
"$TCPTRAIL" --snapshot --json --container "${B%"${B#????????}"}" >"$OUT" 2>"$DIR/snap.err" ||
	fail "--snapshot --container exited $?: $(last_line "$DIR/snap.err")"
_bad=$(records socket | grep -v "\"container\":\"$B\"" | sed -n 1p)
[ -z "$_bad" ] || fail "--container $B: a socket of another: $_bad"
expect_eq "--container B: CLOSE_WAIT sockets" \
	"$(records socket | grep -c '"state":"CLOSE_WAIT"')" "$M"
# B's prefix names one running container: no warning
_w=$(grep 'warning: --container' "$DIR/snap.err")
[ -z "$_w" ] || fail "--container ${B%"${B#????????}"}: $_w"
# a prefix no running container has: said, and the run goes on (exit 0)
_none=0000000000000000
case "$A$B" in *"$_none"*) _none=ffffffffffffffff ;; esac
"$TCPTRAIL" --snapshot --json --container "$_none" >"$OUT" 2>"$DIR/snap.err" ||
	fail "--snapshot --container $_none exited $?: $(last_line "$DIR/snap.err")"
grep -q "warning: --container $_none: no running container's id starts with $_none" \
	"$DIR/snap.err" || fail "--container $_none: no warning: $(last_line "$DIR/snap.err")"

# a container whose sockets are all in TIME-WAIT (its listeners closed): a
# timewait sock keeps no cgroup, so its namespace names it, through the
# container's process; --container keeps them
container_start /bin/ttdrive --no-netns --resume-file /tmp/resume --timeout 120 tw-load 40 \
	2>"$DIR/run.err" || fail "podman run: $(podman_err "$DIR/run.err")"
C=$CID C_PID=$CPID
_c_paused() {
	clogs "$C" | grep -q '^paused=tw-load'
}
wait_until 30 _c_paused || fail "tw-load in container $C did not pause: $(clogs "$C" | sed -n '$p')"
C_NS=$(netns_of "$C_PID")
_ss=$(cns_ss "$C_PID" -Htan state time-wait) || fail "C: nsenter -t $C_PID -n ss failed"
expect_eq "C: ss -tan state time-wait in the container" "$(printf '%s\n' "$_ss" | count_lines)" 40
"$TCPTRAIL" --snapshot --json --container "${C%"${C#????????}"}" >"$OUT" 2>"$DIR/snap.err" ||
	fail "--snapshot --container C exited $?: $(last_line "$DIR/snap.err")"
expect_eq "--container C: TIME_WAIT sockets in its namespace, named C" \
	"$(records socket | grep "\"state\":\"TIME_WAIT\",\"netns\":$C_NS," |
		grep -c "\"container\":\"$C\"")" 40
_bad=$(records socket | grep -v "\"container\":\"$C\"" | sed -n 1p)
[ -z "$_bad" ] || fail "--container $C: a socket of another: $_bad"
echo "C: 40 TIME-WAIT sockets named by container ${C%"${C#????????????}"}'s namespace"
# the same with -N, that namespace alone (before, -N named none, and
# --container then kept none)
"$TCPTRAIL" --snapshot --json -N "/proc/$C_PID/ns/net" --container "${C%"${C#????????}"}" \
	>"$OUT" 2>"$DIR/snap.err" || fail "--snapshot -N --container C exited $?: $(last_line "$DIR/snap.err")"
expect_eq "-N C's --container C: TIME_WAIT sockets named C" \
	"$(records socket | grep "\"state\":\"TIME_WAIT\",\"netns\":$C_NS," |
		grep -c "\"container\":\"$C\"")" 40

# human: the group line names the container by its short id
"$TCPTRAIL" --snapshot --quiet-flows --state close-wait >"$DIR/human.out" 2>"$DIR/snap.err" ||
	fail "--snapshot (human) exited $?: $(last_line "$DIR/snap.err")"
for _c in "A $A $A_LEAK $N $A_NS" "B $B $B_LEAK $M $B_NS"; do
	# shellcheck disable=SC2086 # split on purpose
	set -- $_c
	_line=$(awk -v pid="$3" '$1 == "CLOSE_WAIT" && $4 == pid' "$DIR/human.out")
	printf '%s\n' "$_line" | awk -v k="$4" -v ns="$5" -v c="${2%"${2#????????????}"}" \
		'$2 == k && $3 ~ /^>=/ && $5 == "ttleak" && $6 == ns && $7 == c { ok = 1 } END { exit !ok }' ||
		fail "human: container $1's line '$_line', want CLOSE_WAIT $4 >=AGE $3 ttleak $5 ${2%"${2#????????????}"}"
	echo "human: $_line"
done
pass
