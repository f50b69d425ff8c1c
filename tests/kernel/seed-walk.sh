#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Host-wide, the sockets that exist at start and the TIME-WAIT census come
# from one walk of the kernel's TCP hash tables (bpf/iter.bpf.c) where it
# loads, else from sock_diag, one namespace at a time (TCPTRAIL_SEED=diag
# forces that).  Both ways must tell the same: in a namespace that leaked
# CLOSE-WAIT sockets before tcptrail started, the same count, all seeded,
# owned by the same pid, the count ss shows; in one holding TIME-WAIT
# sockets, the same population (ss's), the same port pressure.  -v and
# --probe must name the way taken: where --probe says the walk works, a run
# that quietly fell back fails.  A namespace with an established table of
# its own (net.ipv4.tcp_child_ehash_entries) is not in the walk's table and
# is dumped with sock_diag: its leak must be counted all the same.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

PIDS=
# shellcheck disable=SC2317 # called through the EXIT trap
walk_cleanup() {
	for _p in $PIDS; do
		kill -KILL "$_p" 2>/dev/null
	done
}
trap 'walk_cleanup; cleanup' EXIT

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
	: >"$DIR/$_name.go"
	wait_until 30 grep -qs '^paused=' "$DIR/$_name.out" ||
		fail "ttdrive $_name never paused: $(last_line "$DIR/$_name.err")"
}

# f NAME KEY: what ttdrive NAME printed as KEY=VALUE
f() {
	sed -n "s/^$2=//p" "$DIR/$1.out" | sed -n 1p
}

# ---- before tcptrail starts: a leak, TIME-WAIT sockets, a leak behind a table of its own ----
drv a close-wait-seeded 5
drv t tw-load 40
NS_a=$(f a netns)
NS_t=$(f t netns)
# the child-ehash namespace: made by a namespace whose sysctl asks for it
# (Linux 6.1+; tcp_child_ehash_entries is per namespace, never the host's)
OWN=
if unshare --net sh -c 'echo 256 >/proc/sys/net/ipv4/tcp_child_ehash_entries' 2>/dev/null; then
	OWN=o
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --net sh -c 'echo 256 >/proc/sys/net/ipv4/tcp_child_ehash_entries && exec "$@"' sh \
		"$DRIVE" --go-file "$DIR/o.go" --resume-file "$DIR/o.resume" --timeout 90 \
		close-wait-seeded 3 >"$DIR/o.out" 2>"$DIR/o.err" &
	PID_o=$!
	PIDS="$PIDS $PID_o"
	wait_until 20 grep -qs '^pid=' "$DIR/o.out" ||
		fail "ttdrive o did not start: $(last_line "$DIR/o.err")"
	: >"$DIR/o.go"
	wait_until 30 grep -qs '^paused=' "$DIR/o.out" ||
		fail "ttdrive o never paused: $(last_line "$DIR/o.err")"
	NS_o=$(f o netns)
	_e=$(nsenter --net="/proc/$PID_o/ns/net" cat /proc/sys/net/ipv4/tcp_ehash_entries 2>/dev/null)
	[ "${_e:-0}" -gt 0 ] || fail "o's namespace has no table of its own: tcp_ehash_entries '$_e'"
else
	kernel_before 6.1 ||
		fail "net.ipv4.tcp_child_ehash_entries could not be set in a new namespace on Linux 6.1 or later"
	echo "note: no net.ipv4.tcp_child_ehash_entries (before Linux 6.1): no namespace with a table of its own"
fi

# ---- what this kernel offers ----
"$TCPTRAIL" --probe >"$DIR/probe.out" 2>"$DIR/probe.err" ||
	fail "tcptrail --probe exited $?: $(last_line "$DIR/probe.err")"
PROBE=$(grep '^  seed+census ' "$DIR/probe.out")
[ -n "$PROBE" ] || fail "--probe has no seed+census line: $(last_line "$DIR/probe.out")"
WALK=0
case $PROBE in
*"one walk of the TCP hash tables"*) WALK=1 ;;
*"sock_diag, one namespace at a time ("*) ;;
*) fail "--probe: seed+census line names no way: $PROBE" ;;
esac
# the walk (bpf/iter.bpf.c) loads from Linux 6.1 on
[ "$WALK" = 1 ] || kernel_before 6.1 || fail "--probe: no walk on Linux 6.1 or later: $PROBE"
_p=$(TCPTRAIL_SEED=diag "$TCPTRAIL" --probe 2>/dev/null | grep '^  seed+census ')
expect_eq "--probe with TCPTRAIL_SEED=diag" "$_p" \
	"  seed+census  sock_diag, one namespace at a time (TCPTRAIL_SEED=diag)"

# run NAME [VAR=VALUE]: tcptrail host-wide for 3 summaries, -v, into $DIR/NAME.*
run() {
	_n=$1
	shift
	# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
	env "$@" "$TCPTRAIL" $TCPTRAIL_ARGS --json -v -i 1 --close-wait-age 1 -d 3 \
		>"$DIR/$_n.json" 2>"$DIR/$_n.err" </dev/null ||
		fail "$_n: tcptrail exited $?: $(last_line "$DIR/$_n.err")"
}

# report NAME TYPE: the first record of TYPE in run NAME (of the first
# census, which walks where the walk works)
report() {
	grep "^{\"type\":\"$2\"," "$DIR/$1.json" | sed -n 1p
}

# close_wait NAME NETNS KEY: of run NAME's close_wait reports of NETNS, the last one's KEY
close_wait() {
	grep '^{"type":"close_wait",' "$DIR/$1.json" | grep "\"netns\":$2," | sed -n '$p' | jget "$3"
}

run walk
run diag TCPTRAIL_SEED=diag

# ---- which way each run took ----
_seed=$(grep 'seeded [0-9]* sockets .* namespaces' "$DIR/walk.err" | sed -n 1p)
# the first count walks; while fewer than 2 namespaces hold TIME-WAIT
# sockets, the next ones read sockstat instead (cheaper then)
_census=$(grep 'TIME-WAIT census: [0-9]' "$DIR/walk.err" | sed -n 1p)
if [ "$WALK" = 1 ]; then
	case $_seed in
	*"one walk of the TCP hash tables"*) ;;
	*) fail "--probe says the walk works, but the seed did not take it: $_seed" ;;
	esac
	case $_census in
	*"by one walk of the TCP hash tables"*) ;;
	*) fail "--probe says the walk works, but the census did not take it: $_census" ;;
	esac
	# o's sockets are in a table the walk does not read: its listener says so
	case $OWN$_seed in
	o*"(0 with a table of their own)"*)
		fail "the seed did not see o's namespace has a table of its own: $_seed" ;;
	esac
else
	echo "note: no walk on this kernel: $PROBE"
fi
case $(grep 'seeded [0-9]* sockets .* namespaces' "$DIR/diag.err" | sed -n 1p) in
*"sock_diag, one namespace at a time, as TCPTRAIL_SEED=diag"*) ;;
*) fail "TCPTRAIL_SEED=diag: the seed did not say it used sock_diag" ;;
esac
grep -q 'TIME-WAIT census: sock_diag, one namespace at a time (TCPTRAIL_SEED=diag)' "$DIR/diag.err" ||
	fail "TCPTRAIL_SEED=diag: the census did not say it used sock_diag"

# ---- the same answers, and ss's ----
for n in a $OWN; do
	eval "_ns=\$NS_$n"
	_want=$(f $n leaked)
	for r in walk diag; do
		expect_eq "$r: close_wait count in $n's namespace $_ns" "$(close_wait $r "$_ns" count)" "$_want"
		expect_eq "$r: seeded in $n's namespace" "$(close_wait $r "$_ns" seeded)" "$_want"
		expect_eq "$r: owner in $n's namespace" "$(close_wait $r "$_ns" pid)" "$(f $n server_pid)"
	done
	if command -v ss >/dev/null 2>&1; then
		eval "_pid=\$PID_$n"
		expect_eq "ss -tan state close-wait in $n's namespace" \
			"$(nsenter --net="/proc/$_pid/ns/net" ss -Htan state close-wait | count_lines)" "$_want"
	fi
done
_want=$(f t ss.time_wait)
[ "$_want" -gt 0 ] || fail "ttdrive t holds no TIME-WAIT socket"
for r in walk diag; do
	_tw=$(report $r time_wait)
	[ -n "$_tw" ] || fail "$r: no time_wait report"
	expect_eq "$r: TIME-WAIT population of t's namespace $NS_t" \
		"$(printf '%s\n' "$_tw" | json_array by_netns | grep "\"netns\":$NS_t," | jget population)" \
		"$_want"
	printf '%s\n' "$_tw" | json_array pressure | grep "\"netns\":$NS_t," >"$DIR/$r.pressure"
	[ -s "$DIR/$r.pressure" ] || fail "$r: no port pressure entry of t's namespace: $_tw"
done
# the report names the top 5 destinations of all namespaces, other tests' too:
# each of t's that both runs name must be the same
_common=0
while read -r _e; do
	_key=$(printf '%s\n' "$_e" | sed 's/"time_wait".*//')
	_d=$(grep -F "$_key" "$DIR/diag.pressure")
	[ -n "$_d" ] || continue
	expect_eq "port pressure toward $_key walk vs sock_diag" "$_e" "$_d"
	_common=$((_common + 1))
done <"$DIR/walk.pressure"
[ "$_common" -gt 0 ] || fail "no port pressure entry of t's namespace in both runs"
if command -v ss >/dev/null 2>&1; then
	expect_eq "ss -tan state time-wait in t's namespace" \
		"$(nsenter --net="/proc/$PID_t/ns/net" ss -Htan state time-wait | count_lines)" "$_want"
fi

for n in a t $OWN; do
	: >"$DIR/$n.resume"
done
for n in a t $OWN; do
	eval "_p=\$PID_$n"
	wait_until 30 not_alive "$_p" || fail "ttdrive $n still running"
	wait "$_p" || fail "ttdrive $n failed: $(last_line "$DIR/$n.err")"
done
echo "walk ($WALK) and sock_diag agree: $(f a leaked) CLOSE-WAIT seeded, $_want TIME-WAIT${OWN:+, and a namespace with a table of its own}"
pass
