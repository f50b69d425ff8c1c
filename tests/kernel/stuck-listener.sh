#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A server that stopped calling accept(), as on-call finds it: tcptrail
# starts after its accept queue filled with connections whose clients gave
# up (CLOSE_WAIT, held by no process), and sees it turn more away.  The
# listener is known only from the seed, filed by its tuple, not its address.
# The overflow records and the summaries' listeners must name its owner,
# and the CLOSE-WAIT report must name that owner too, with every socket
# counted as unaccepted.  Twice: the whole namespace, then with -p and the
# listener's owner, which must keep its queue's sockets too (no process
# holds them; before, -p left them out, and the report with them).
# Meanwhile --snapshot, as on-call looks: the queue's sockets under the
# listener's owner, marked unaccepted, and kept by -p; two orphans at the
# listener's port (connections it accepted and closed, in LAST_ACK and
# FIN_WAIT1), which no file holds either, with no owner, as ss shows them,
# and not -p's (before, the queue's sockets had no owner, and -p hid them).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# snapshot_check [-p PID]: --snapshot of the namespace, JSON and human
snapshot_check() {
	"$TCPTRAIL" --snapshot --json -N "$NETNS" "$@" >"$DIR/snap.json" 2>"$DIR/snap.err" ||
		fail "--snapshot $* exited $?: $(last_line "$DIR/snap.err")"
	_socks=$(grep '^{"type":"socket",' "$DIR/snap.json" | grep "\"sport\":$port,")
	_cw=$(printf '%s\n' "$_socks" | grep '"state":"CLOSE_WAIT"')
	expect_eq "--snapshot $*: CLOSE_WAIT sockets at port $port" \
		"$(printf '%s\n' "$_cw" | count_lines)" "$queued"
	expect_eq "--snapshot $*: of them, unaccepted under the listener's owner $pid" \
		"$(printf '%s\n' "$_cw" | grep -c "\"pid\":$pid,\"comm\":\"ttdrive\",\"holders\":0,\"unaccepted\":true,")" \
		"$queued"
	_g=$(grep '^{"type":"snapshot",' "$DIR/snap.json" | json_array groups |
		grep '"state":"CLOSE_WAIT"')
	expect_flow "--snapshot $*: CLOSE_WAIT group" "$_g" count="$queued" \
		unaccepted="$queued" pid="$pid" comm=ttdrive
	_orph=$(printf '%s\n' "$_socks" | grep -e '"state":"LAST_ACK"' -e '"state":"FIN_WAIT1"')
	if [ -n "$1" ]; then
		[ -z "$_orph" ] || fail "--snapshot $*: an orphan is the listener owner's: $_orph"
	else
		expect_eq "--snapshot: orphans (LAST_ACK, FIN_WAIT1) at port $port" \
			"$(printf '%s\n' "$_orph" | count_lines)" "$(fact orphans)"
		expect_eq "--snapshot: orphans with no owner, not unaccepted" \
			"$(printf '%s\n' "$_orph" | grep -c '"pid":0,"comm":"","holders":0,"unaccepted":false,')" \
			"$(fact orphans)"
		# as ss shows them: no process for either
		if ss_here; then
			_ss=$(ns_ss -Htanp state last-ack state fin-wait-1 "( sport = :$port )") ||
				fail "ss in the namespace failed"
			expect_eq "ss: orphans at port $port" "$(printf '%s\n' "$_ss" | count_lines)" \
				"$(fact orphans)"
			! printf '%s\n' "$_ss" | grep -q 'users:' ||
				fail "ss names a process for an orphan: $_ss"
		fi
	fi
	"$TCPTRAIL" --snapshot --state close-wait -N "$NETNS" "$@" >"$DIR/snap.out" 2>"$DIR/snap.err" ||
		fail "--snapshot (human) $* exited $?: $(last_line "$DIR/snap.err")"
	_line=$(grep '^CLOSE_WAIT ' "$DIR/snap.out")
	printf '%s\n' "$_line" | awk -v k="$queued" -v pid="$pid" -v ns="$NETNS" \
		'$2 == k && $4 == pid && $5 == "ttdrive" && $6 == ns && $8 == k && $9 == "unaccepted" { ok = 1 }
		END { exit !ok }' ||
		fail "human group line: '$_line', want CLOSE_WAIT $queued AGE $pid ttdrive $NETNS - $queued unaccepted"
	expect_eq "--snapshot (human) $*: rows marked unaccepted" \
		"$(grep -c "^    127.0.0.1:$port .*  unaccepted\$" "$DIR/snap.out")" "$queued"
}

SEEDED_OK=1
for TRACE_PID_FACT in "" listener_pid; do
trace_begin stuck-listener -i 1 --close-wait-age 1
wait_paused stuck-listener
pid=$(fact listener_pid)
port=$(fact port)
queued=$(fact queued)
n0=$(records close_wait | count_lines)
wait_until 5 _more_than "$n0" close_wait || fail "no close_wait report within 5 s of the pause"
CW=$(records close_wait | sed -n '$p')
snapshot_check ${TRACE_PID_FACT:+-p "$pid"}
resume
trace_end

expect_flow "close_wait report" "$CW" pid="$pid" comm=ttdrive count="$queued" \
	seeded="$queued" unaccepted="$queued" service=local service_port="$port"

stuck_overflows "$port" "$pid" ttdrive first
recs=$RECS
l=$LISTENER
kacc=$KACC
# and its cgroup, as the overflow records name it (the schema wants the field)
ocg=$(printf '%s\n' "$recs" | sed -n '1s/.*"cgroup":\("[^"]*"\|null\).*/\1/p')
lcg=$(printf '%s\n' "$l" | sed -n 's/.*"cgroup":\("[^"]*"\|null\).*/\1/p')
[ -n "$ocg" ] && [ "$ocg" != null ] || fail "the overflow record names no cgroup: $(printf '%s\n' "$recs" | sed -n 1p)"
expect_eq "summary's listener cgroup, as its overflow records'" "$lcg" "$ocg"
echo "stuck-listener${TRACE_PID_FACT:+ -p $pid}: $queued unaccepted in CLOSE_WAIT and $kacc overflows, named after pid $pid, in the trace and by --snapshot"
done
pass
