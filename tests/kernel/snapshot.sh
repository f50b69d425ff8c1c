#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --snapshot, host-wide, while ttdrive holds a CLOSE-WAIT leak in a namespace
# of its own: the namespace's sockets are all there, as many as ss counts,
# in each state; the leaked ones are owned by the leaking server (pid and
# comm, as ss -tanp names it), accepted (none unaccepted), and have an age
# of at least the time since the leak.  --state close-wait and -N show only those; the human view groups them
# on one line.  No BPF is loaded.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

drive_begin close-wait
drive_paused close-wait
k=$(fact leaked)
server=$(fact server_pid)
[ "$k" -gt 0 ] || fail "ttdrive leaked no socket"
sleep 1.2

"$TCPTRAIL" --snapshot --json >"$OUT" 2>"$DIR/snap.err" ||
	fail "--snapshot exited $?: $(last_line "$DIR/snap.err")"
_bad=$(grep -v '^{"type":"\(socket\|snapshot\)",' "$OUT" | sed -n 1p)
[ -z "$_bad" ] || fail "stdout line is not a socket or snapshot record: $_bad"
expect_eq "snapshot records" "$(records snapshot | count_lines)" 1
snap=$(records snapshot)
[ "$(printf '%s\n' "$snap" | jget namespaces)" -ge 2 ] ||
	fail "host-wide snapshot read fewer than 2 namespaces: $snap"
mine() {
	records socket | grep "\"netns\":$NETNS,"
}
cw=$(mine | grep '"state":"CLOSE_WAIT"')
expect_eq "CLOSE_WAIT sockets in the namespace" "$(printf '%s\n' "$cw" | count_lines)" "$k"
expect_eq "CLOSE_WAIT sockets owned by the server $server" \
	"$(printf '%s\n' "$cw" | grep -c "\"pid\":$server,\"comm\":\"ttleak\"")" "$k"
# it accepted every one: none waits in an accept queue
expect_eq "sockets in the namespace marked unaccepted" "$(mine | grep -c '"unaccepted":true')" 0
# ages: at least the 1.2 s slept since the leak, a lower bound, under ttdrive's timeout
for age in $(printf '%s\n' "$cw" | jget age_ms); do
	if [ "$age" -lt 1000 ] || [ "$age" -gt 30000 ]; then
		fail "CLOSE_WAIT age_ms $age, want 1000..30000"
	fi
done
expect_eq "CLOSE_WAIT ages that are lower bounds" \
	"$(printf '%s\n' "$cw" | grep -c '"age_exact":false')" "$k"
_g=$(printf '%s\n' "$snap" | json_array groups | grep "\"netns\":$NETNS," |
	grep '"state":"CLOSE_WAIT"')
expect_flow "snapshot's CLOSE_WAIT group" "$_g" count="$k" pid="$server" comm=ttleak

# every state as ss counts it in that namespace (ss -tan: all states)
if ss_here; then
	_ss=$(ns_ss -Htanp) || fail "ss -Htanp in the namespace failed"
	for st in ESTAB:ESTABLISHED CLOSE-WAIT:CLOSE_WAIT FIN-WAIT-2:FIN_WAIT2 LISTEN:LISTEN \
		TIME-WAIT:TIME_WAIT; do
		expect_eq "${st#*:} sockets vs ss's ${st%%:*}" \
			"$(mine | grep -c "\"state\":\"${st#*:}\"")" \
			"$(printf '%s\n' "$_ss" | grep -c "^${st%%:*} ")"
	done
	expect_eq "sockets in the namespace vs ss -tan" "$(mine | count_lines)" \
		"$(printf '%s\n' "$_ss" | count_lines)"
	expect_eq "ss -tanp: CLOSE-WAIT sockets of ttleak pid $server" \
		"$(printf '%s\n' "$_ss" | grep "^CLOSE-WAIT " | grep -c "(\"ttleak\",pid=$server,")" "$k"
	_note=", ss agrees on every state"
	# --cgroup / is the whole tree: timewait socks, which no cgroup names,
	# too (the closed clients' FIN_WAIT2 is one: tcp_fin_timeout is 60 s)
	[ "$(printf '%s\n' "$_ss" | grep -c "^FIN-WAIT-2 ")" -gt 0 ] ||
		fail "ss shows no FIN-WAIT-2 socket in the namespace: nothing for --cgroup / to keep"
	"$TCPTRAIL" --snapshot --json --cgroup / -N "$NETNS" >"$OUT" 2>"$DIR/snap.err" ||
		fail "--snapshot --cgroup / -N exited $?: $(last_line "$DIR/snap.err")"
	expect_eq "--cgroup / -N: FIN_WAIT2 sockets vs ss's FIN-WAIT-2" \
		"$(records socket | grep -c '"state":"FIN_WAIT2"')" \
		"$(printf '%s\n' "$_ss" | grep -c "^FIN-WAIT-2 ")"
	expect_eq "--cgroup / -N: sockets vs ss -tan" "$(records socket | count_lines)" \
		"$(printf '%s\n' "$_ss" | count_lines)"
fi

# --state and -N: the leak alone
"$TCPTRAIL" --snapshot --json --state close-wait -N "$NETNS" >"$OUT" 2>"$DIR/snap.err" ||
	fail "--snapshot --state close-wait -N exited $?: $(last_line "$DIR/snap.err")"
expect_eq "--state close-wait -N: sockets" "$(records socket | count_lines)" "$k"
expect_eq "--state close-wait -N: sockets in CLOSE_WAIT" \
	"$(records socket | grep -c "\"state\":\"CLOSE_WAIT\",\"netns\":$NETNS,")" "$k"

# human: one group line naming the owner, then its sockets
"$TCPTRAIL" --snapshot --state CLOSE_WAIT -N "$NETNS" >"$DIR/human.out" 2>"$DIR/snap.err" ||
	fail "--snapshot (human) exited $?: $(last_line "$DIR/snap.err")"
_line=$(grep '^CLOSE_WAIT ' "$DIR/human.out")
printf '%s\n' "$_line" | awk -v k="$k" -v pid="$server" -v ns="$NETNS" \
	'$2 == k && $3 ~ /^>=/ && $4 == pid && $5 == "ttleak" && $6 == ns { ok = 1 } END { exit !ok }' ||
	fail "human group line: '$_line', want CLOSE_WAIT $k >=AGE $server ttleak $NETNS"
expect_eq "human socket lines" "$(grep -c "^    127.0.0.1:$(fact port) " "$DIR/human.out")" "$k"

resume
drive_wait
echo "snapshot: $k CLOSE-WAIT sockets of ttleak ($server) with ages$_note"
pass
