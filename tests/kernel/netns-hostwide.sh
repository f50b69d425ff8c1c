#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# PID_x, NS_x and NS_path_x are set and read through eval, one per namespace:
# shellcheck disable=SC2034,SC2154
# Host-wide (no -N): every network namespace is seeded and counted.
#
# Before tcptrail starts: namespaces a and b leak 4 and 6 CLOSE-WAIT sockets,
# t holds 30 TIME-WAIT sockets under a port range of its own (40000-40999),
# and p holds 12 with no process left, pinned by a bind mount in /run/netns
# as `ip netns add` pins one.  After the start: c leaks 3, and u, a namespace
# born after the start, holds 8 TIME-WAIT sockets.
#
# A close_wait report names each leak with its namespace, the leaking
# server's host pid and the count ttdrive (and ss, inside the namespace)
# sees; a and b as seeded.  The time_wait report's by_netns gives each
# namespace's population as ttdrive and ss count it, and t's own port range.
# The daemon's main thread keeps no capability, its census thread only
# CAP_SYS_ADMIN and CAP_SYS_PTRACE; without CAP_SYS_ADMIN it says so once and
# keeps to its own namespace.  A second run with -N sees one namespace only.  Other namespaces on the host
# (other tests') may show up in the reports: only ours are checked.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

BIND=/run/netns/tt-hw-$$
PIDS=
# shellcheck disable=SC2317 # called through the EXIT trap
ns_cleanup() {
	for _p in $PIDS; do
		kill -KILL "$_p" 2>/dev/null
	done
	# another host-wide tcptrail may hold it open for a moment: then lazily
	umount "$BIND" 2>/dev/null || umount -l "$BIND" 2>/dev/null
	rm -f "$BIND"
}
trap 'ns_cleanup; cleanup' EXIT

# drv NAME SCENARIO [ARG]: ttdrive in a namespace of its own, files $DIR/NAME.*
drv() {
	_name=$1
	shift
	"$DRIVE" --go-file "$DIR/$_name.go" --resume-file "$DIR/$_name.resume" --timeout 90 "$@" \
		>"$DIR/$_name.out" 2>"$DIR/$_name.err" &
	eval "PID_$_name=\$!"
	PIDS="$PIDS $!"
	wait_until 20 grep -qs '^pid=' "$DIR/$_name.out" ||
		fail "ttdrive $* ($_name) did not start: $(last_line "$DIR/$_name.err")"
}

# f NAME KEY: what ttdrive NAME printed as KEY=VALUE
f() {
	sed -n "s/^$2=//p" "$DIR/$1.out" | sed -n 1p
}

go() {
	: >"$DIR/$1.go"
}

paused() {
	wait_until 30 grep -qs '^paused=' "$DIR/$1.out" ||
		fail "ttdrive $1 never paused: $(last_line "$DIR/$1.err")"
}

pid_of() {
	eval "echo \$PID_$1"
}

# in_ns NETNS_PATH COMMAND...: COMMAND inside that network namespace
in_ns() {
	_path=$1
	shift
	nsenter --net="$_path" "$@"
}

has_ss() {
	command -v ss >/dev/null 2>&1
}

# ---- before tcptrail starts ----
drv a close-wait-seeded 4
drv b close-wait-seeded 6
drv t tw-load 30
in_ns "/proc/$PID_t/ns/net" sh -c 'echo "40000 40999" >/proc/sys/net/ipv4/ip_local_port_range' ||
	fail "set t's ip_local_port_range"
go t
paused t
drv p tw-load 12
go p
paused p
if ! { mkdir -p /run/netns && : >"$BIND" && mount --bind "/proc/$PID_p/ns/net" "$BIND"; }; then
	fail "bind-mount p's namespace at $BIND"
fi
: >"$DIR/p.resume"
wait_until 20 not_alive "$PID_p" || fail "ttdrive p did not exit"
wait "$PID_p" || fail "ttdrive p failed: $(last_line "$DIR/p.err")"
for n in a b t p; do
	eval "NS_$n=\$(f $n netns)"
done
NS_path_a=/proc/$PID_a/ns/net
NS_path_b=/proc/$PID_b/ns/net
NS_path_t=/proc/$PID_t/ns/net
NS_path_p=$BIND
[ "$(stat -L -c %i "$BIND")" = "$NS_p" ] || fail "$BIND is not namespace $NS_p"

# ---- tcptrail, host-wide ----
: >"$DIR/trace.err"
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 --close-wait-age 1 >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"

# ---- after the start ----
drv c close-wait 3
go c
drv u tw-load 8
go u
go a
go b
for n in a b c u; do
	paused $n
done
NS_c=$(f c netns)
NS_u=$(f u netns)
NS_path_c=/proc/$PID_c/ns/net
NS_path_u=/proc/$PID_u/ns/net

# two more reports after every pause: the second counts what is there now
_n0=$(records time_wait | count_lines)
wait_until 10 _more_than $((_n0 + 1)) time_wait ||
	fail "no two time_wait reports within 10 s of the pauses"
_cw0=$(records close_wait | count_lines)
wait_until 10 _more_than "$_cw0" close_wait || fail "no close_wait report within 10 s"
TW=$(records time_wait | sed -n '$p')

# ---- CLOSE-WAIT: a and b from before the start, c from after ----
for n in a b c; do
	eval "_ns=\$NS_$n; _path=\$NS_path_$n"
	_leak=$(f $n leaked)
	_server=$(f $n server_pid)
	expect_eq "$n: ttdrive's CLOSE-WAIT count in its namespace" "$(f $n ss.close_wait)" "$_leak"
	_cw=$(records close_wait | grep "\"netns\":$_ns," | sed -n '$p')
	[ -n "$_cw" ] || fail "$n: no close_wait report for netns $_ns"
	_seeded=0
	[ $n = c ] || _seeded=$_leak
	expect_flow "$n: close_wait report" "$_cw" netns="$_ns" count="$_leak" pid="$_server" \
		comm=ttleak seeded="$_seeded"
	# a host pid: the process ps shows on the host, in that namespace
	[ "$(cat "/proc/$_server/comm" 2>/dev/null)" = ttleak ] ||
		fail "$n: pid $_server is not ttleak on the host"
	[ "$(stat -L -c %i "/proc/$_server/ns/net")" = "$_ns" ] ||
		fail "$n: pid $_server is not in netns $_ns"
	if has_ss; then
		expect_eq "$n: ss -tan state close-wait in netns $_ns" \
			"$(in_ns "$_path" ss -Htan state close-wait | count_lines)" "$_leak"
		expect_eq "$n: ss -tanp: sockets of ttleak pid $_server" \
			"$(in_ns "$_path" ss -Htanp state close-wait | grep -c "pid=$_server,")" "$_leak"
	fi
	echo "$n: netns $_ns, $_leak CLOSE-WAIT of pid $_server (seeded $_seeded)"
done

# ---- TIME-WAIT population, namespace by namespace ----
_namespaces=$(printf '%s\n' "$TW" | jget namespaces)
[ "${_namespaces:-0}" -ge 6 ] || fail "time_wait report counted '$_namespaces' namespaces, want >= 6"
expect_eq "population_source" "$(printf '%s\n' "$TW" | jget population_source)" sock_diag
for n in t p u; do
	eval "_ns=\$NS_$n; _path=\$NS_path_$n"
	_want=$(f $n ss.time_wait)
	[ "${_want:-0}" -gt 0 ] || fail "$n: ttdrive counted '$_want' TIME-WAIT sockets"
	_entry=$(printf '%s\n' "$TW" | json_array by_netns | grep "\"netns\":$_ns,")
	[ -n "$_entry" ] || fail "$n: netns $_ns not in the time_wait report's by_netns: $TW"
	expect_eq "$n: population of netns $_ns" "$(printf '%s\n' "$_entry" | jget population)" "$_want"
	if has_ss; then
		expect_eq "$n: ss -tan state time-wait in netns $_ns" \
			"$(in_ns "$_path" ss -Htan state time-wait | count_lines)" "$_want"
	fi
	echo "$n: netns $_ns, TIME-WAIT $_want"
done
_range=$(printf '%s\n' "$TW" | json_array by_netns | grep "\"netns\":$NS_t," |
	sed 's/.*"port_range":\[\([0-9]*\),\([0-9]*\)\].*/\1-\2/')
expect_eq "t: its own port range" "$_range" 40000-40999
# pressure toward t's destinations counts against t's 1000 ports, in t
_p=$(printf '%s\n' "$TW" | json_array pressure | grep "\"netns\":$NS_t," | sed -n 1p)
[ -n "$_p" ] || fail "no port pressure entry in netns $NS_t: $TW"
expect_eq "t: pressure range" "$(printf '%s\n' "$_p" | jget range)" 1000

# ---- privileges: none for the main thread; the census thread keeps three ----
# CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19) and CAP_SYS_ADMIN (21): 0x280004
_main=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$TRACE_PID/status")
expect_eq "main thread's CapEff" "$_main" 0000000000000000
_others=
for _t in "/proc/$TRACE_PID"/task/*; do
	[ "${_t##*/}" = "$TRACE_PID" ] && continue
	_others="$_others $(awk '$1 == "CapEff:" || $1 == "CapBnd:" { printf "%s ", $2 }' "$_t/status")"
done
expect_eq "the census thread's CapEff and CapBnd" "$_others" " 0000000000280004 0000000000280004 "

# ---- -N: one namespace only ----
ONE=$DIR/one.out
# shellcheck disable=SC2086
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 --close-wait-age 1 -N "$NS_b" >"$ONE" 2>"$DIR/one.err" &
ONE_PID=$!
PIDS="$PIDS $ONE_PID"
wait_until 20 grep -qs '"type":"close_wait"' "$ONE" || fail "-N $NS_b: no close_wait report in 20 s"
kill -INT "$ONE_PID"
wait_until 10 not_alive "$ONE_PID" || fail "-N run still running 10 s after SIGINT"
wait "$ONE_PID" || fail "-N run exited $?: $(last_line "$DIR/one.err")"
_bad=$(grep -e '"type":"close_wait"' -e '"type":"flow"' "$ONE" | grep -v "\"netns\":$NS_b," | sed -n 1p)
[ -z "$_bad" ] || fail "-N $NS_b: a record of another namespace: $_bad"
expect_eq "-N $NS_b: close_wait count" \
	"$(grep '"type":"close_wait"' "$ONE" | sed -n '$p' | jget count)" "$(f b leaked)"
_bad=$(grep '"by_netns"' "$ONE" | sed -n 1p)
[ -z "$_bad" ] || fail "-N $NS_b: a host-wide time_wait report: $_bad"

# ---- no CAP_SYS_ADMIN: told once, and ours only (capsh: not in the guest) ----
if command -v capsh >/dev/null 2>&1; then
	NOADM=$DIR/noadmin.out
	# shellcheck disable=SC2086
	capsh --drop=cap_sys_admin -- -c "exec $TCPTRAIL $TCPTRAIL_ARGS --json -i 1 -d 3" \
		>"$NOADM" 2>"$DIR/noadmin.err" || fail "no CAP_SYS_ADMIN: exit $?: $(last_line "$DIR/noadmin.err")"
	expect_eq "no CAP_SYS_ADMIN: the seed's warning" \
		"$(grep -c 'seed: cannot enter the other network namespaces' "$DIR/noadmin.err")" 1
	expect_eq "no CAP_SYS_ADMIN: the census's warning" \
		"$(grep -c 'TIME-WAIT counts cover our own from now on' "$DIR/noadmin.err")" 1
	_bad=$(grep -c 'setns into' "$DIR/noadmin.err")
	[ "$_bad" = 0 ] || fail "no CAP_SYS_ADMIN: $_bad setns error lines besides the two warnings"
	_bad=$(grep '"seeded":true' "$NOADM" | grep -e "\"netns\":$NS_a," -e "\"netns\":$NS_b," | sed -n 1p)
	[ -z "$_bad" ] || fail "no CAP_SYS_ADMIN: a seeded flow of another namespace: $_bad"
	_bad=$(grep '"by_netns"' "$NOADM" | grep -e "\"netns\":$NS_t," | sed -n 1p)
	[ -z "$_bad" ] || fail "no CAP_SYS_ADMIN: another namespace counted: $_bad"
	echo "no CAP_SYS_ADMIN: one warning each, our own namespace only"
fi

# ---- the end: seeded flows carry their namespace and owner ----
for n in a b c u t; do
	: >"$DIR/$n.resume"
done
for n in a b c u t; do
	_p=$(pid_of $n)
	wait_until 30 not_alive "$_p" || fail "ttdrive $n still running"
	wait "$_p" || fail "ttdrive $n failed: $(last_line "$DIR/$n.err")"
done
tt_stop
[ "$TT_STATUS" -eq 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"
for n in a b; do
	eval "_ns=\$NS_$n"
	expect_eq "$n: seeded flows of netns $_ns, pid $(f $n server_pid), CLOSE_WAIT > LAST_ACK > CLOSE" \
		"$(flows | grep '"seeded":true' | grep "\"netns\":$_ns," |
			grep "\"pid\":$(f $n server_pid)," | states |
			grep -c '^CLOSE_WAIT,LAST_ACK,CLOSE$')" "$(f $n leaked)"
done
pass
