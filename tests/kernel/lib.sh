# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=sh
#
# Sourced by every kernel test; its own variables start with _ so a test's
# may not collide with them.  Plain POSIX sh with grep, awk and sed, so the
# same tests run under busybox in the qemu guest.
#
# A test runs one ttdrive scenario (tests/drivers/ttdrive.c) under tcptrail
# and compares tcptrail's JSON records with what ttdrive says it did:
#
#	. "${0%/*}/lib.sh"
#	trace active			# ttdrive active, under tcptrail --json --netns N
#	expect_count active 1
#	expect_flow "client flow" "$(flows active)" pid="$(fact client_pid)"
#	pass
#
# Every failed check prints one line saying why and exits 1.  KEEP=1 keeps
# the test's directory (ttdrive's and tcptrail's output) and prints its path.
#
# TCPTRAIL and DRIVE locate the binaries (run from the top of the tree by
# default).  Runs as root: ttdrive makes a network namespace, tcptrail loads BPF.

TCPTRAIL=${TCPTRAIL:-./tcptrail}
DRIVE=${DRIVE:-.output/drivers/ttdrive}
TEST=${0##*/}
TEST=${TEST%.sh}

DIR=$(mktemp -d) || { echo "FAIL $TEST: mktemp -d failed"; exit 1; }
OUT=$DIR/trace.out		# tcptrail's stdout: the JSON records
DRIVE_PID=
TRACE_PID=

# Kills only what this test started, and only if it is still running.
cleanup() {
	for _p in $DRIVE_PID $TRACE_PID; do
		kill -KILL "$_p" 2>/dev/null
	done
	if [ -n "$KEEP" ]; then
		echo "kept $DIR"
	else
		rm -rf "$DIR"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL $TEST: $*"
	exit 1
}

pass() {
	echo "ok $TEST"
	exit 0
}

# last_line FILE: a program's last word on stderr, for a failure message.
last_line() {
	if [ -s "$1" ]; then
		sed -n '$p' "$1"
	else
		echo "(nothing on stderr)"
	fi
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# wait_until SECS COMMAND...: retries COMMAND every 0.1 s; false if it never succeeds.
wait_until() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	"$@"
}

not_alive() {
	! alive "$1"
}

drive_started() {
	grep -q '^pid=' "$DIR/drive.out" || not_alive "$DRIVE_PID"
}

trace_attached() {
	grep -q '^tcptrail: tracing' "$DIR/trace.err" || not_alive "$TRACE_PID"
}

# fact KEY: what ttdrive printed as KEY=VALUE.
fact() {
	sed -n "s/^$1=//p" "$DIR/drive.out" | sed -n 1p
}

# trace "SCENARIO [ARG]" [TCPTRAIL OPTIONS...]
#
# Starts ttdrive (which makes the namespace and waits), traces that namespace
# with tcptrail, lets ttdrive go, stops tcptrail with SIGINT once ttdrive is
# done, and checks what every trace must satisfy.  Sets NETNS.
trace() {
	_scenario=$1
	shift
	: >"$DIR/drive.out"
	: >"$DIR/trace.err"
	# shellcheck disable=SC2086 # "SCENARIO ARG" is split on purpose
	"$DRIVE" --go-file "$DIR/go" --timeout 30 $_scenario >"$DIR/drive.out" 2>"$DIR/drive.err" &
	DRIVE_PID=$!
	wait_until 10 drive_started
	if ! grep -q '^pid=' "$DIR/drive.out"; then
		alive "$DRIVE_PID" && fail "ttdrive $_scenario printed no pid= within 10 s"
		fail "ttdrive $_scenario failed to start: $(last_line "$DIR/drive.err")"
	fi
	NETNS=$(fact netns)

	# A background job of a non-interactive shell starts with SIGINT
	# ignored; tcptrail installs its own handler, which undoes that.
	"$TCPTRAIL" $TCPTRAIL_ARGS --json --netns "$NETNS" "$@" >"$OUT" 2>"$DIR/trace.err" &
	TRACE_PID=$!
	wait_until 20 trace_attached
	if ! grep -q '^tcptrail: tracing' "$DIR/trace.err"; then
		alive "$TRACE_PID" && fail "tcptrail did not attach within 20 s"
		fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"
	fi
	# EXPECT_HOOKS="transitions=fentry time-wait=fentry": a forced mode must
	# really be in use, not quietly fallen back from.
	for _h in $EXPECT_HOOKS; do
		grep '^tcptrail: tracing' "$DIR/trace.err" | grep -q " $_h\( \|\$\)" ||
		grep '^tcptrail: tracing' "$DIR/trace.err" | grep -q ": $_h " ||
			fail "expected hook $_h: $(grep '^tcptrail: tracing' "$DIR/trace.err")"
	done

	: >"$DIR/go"
	wait_until 60 not_alive "$DRIVE_PID" ||
		fail "ttdrive $_scenario still running after 60 s"
	wait "$DRIVE_PID"
	_st=$?
	DRIVE_PID=
	[ "$_st" -eq 0 ] || fail "ttdrive $_scenario exited $_st: $(last_line "$DIR/drive.err")"

	sleep 0.3	# for tcptrail to drain what the ring buffer still holds
	alive "$TRACE_PID" || fail "tcptrail exited before SIGINT: $(last_line "$DIR/trace.err")"
	kill -INT "$TRACE_PID"
	if ! wait_until 10 not_alive "$TRACE_PID"; then
		kill -KILL "$TRACE_PID"
		wait "$TRACE_PID"
		TRACE_PID=
		fail "tcptrail still running 10 s after SIGINT"
	fi
	wait "$TRACE_PID"
	_st=$?
	TRACE_PID=
	[ "$_st" -eq 0 ] || fail "tcptrail exited $_st after SIGINT: $(last_line "$DIR/trace.err")"

	check_trace
}

# What holds for any trace of a ttdrive namespace.
check_trace() {
	_bad=$(grep -v '^{"type":"[a-z_]*",' "$OUT" | sed -n 1p)
	[ -z "$_bad" ] || fail "stdout line is not a JSON record: $_bad"
	_bad=$(flows | grep -v "\"netns\":$NETNS," | sed -n 1p)
	[ -z "$_bad" ] || fail "flow from outside netns $NETNS: $_bad"
	# every socket was made after tracing started
	_bad=$(flows | grep -e '"seeded":true' -e '"partial":true' | sed -n 1p)
	[ -z "$_bad" ] || fail "seeded or partial flow: $_bad"
	_n=$(grep -c '^{"type":"summary",.*"final":true' "$OUT")
	[ "$_n" = 1 ] || fail "want 1 final summary, got $_n"
	_lost=$(grep '^{"type":"summary",.*"final":true' "$OUT" | jget lost)
	[ "$_lost" = 0 ] || fail "final summary: lost is '$_lost', want 0"
}

# flows [ROLE]: the finished-flow records, all or of one role.
flows() {
	grep '^{"type":"flow",' "$OUT" | grep "\"role\":\"${1:-[a-z]*}\""
}

# jget KEY: for each record on stdin, the value of its first "KEY" (unquoted).
# Top-level keys come before "states", so the first one is the record's own.
jget() {
	awk -v k="\"$1\":" '{
		i = index($0, k)
		if (!i) { print ""; next }
		s = substr($0, i + length(k))
		if (substr(s, 1, 1) == "\"") {
			s = substr(s, 2)
			print substr(s, 1, index(s, "\"") - 1)
		} else {
			match(s, /^[^],}]*/)
			print substr(s, 1, RLENGTH)
		}
	}'
}

# states: for each flow record on stdin, its state names joined by commas.
states() {
	awk '{
		s = $0; out = ""
		while ((i = index(s, "\"state\":\"")) > 0) {
			s = substr(s, i + 9)
			j = index(s, "\"")
			out = out (out == "" ? "" : ",") substr(s, 1, j - 1)
			s = substr(s, j)
		}
		print out
	}'
}

# expect_count ROLE N: exactly N flows of ROLE.
expect_count() {
	_n=$(flows "$1" | grep -c .)
	[ "$_n" = "$2" ] || fail "want $2 $1 flows, got $_n"
}

# expect_flow WHAT LINE KEY=VALUE...: the flow record LINE has each KEY equal
# to VALUE; the key "states" stands for its state names joined by commas.
expect_flow() {
	_what=$1
	_line=$2
	shift 2
	[ -n "$_line" ] || fail "$_what: no such flow"
	for _kv; do
		_k=${_kv%%=*}
		_want=${_kv#*=}
		if [ "$_k" = states ]; then
			_got=$(printf '%s\n' "$_line" | states)
		else
			_got=$(printf '%s\n' "$_line" | jget "$_k")
		fi
		[ "$_got" = "$_want" ] || fail "$_what: $_k is '$_got', want '$_want'"
	done
}

# expect_closed_first WHAT LINE OPENING: the end that closed first went
# OPENING,FIN_WAIT1,FIN_WAIT2 and then either CLOSE (the kernel hands the
# orphaned socket to a timewait sock: end close) or TIME_WAIT (end time_wait).
expect_closed_first() {
	_s=$(printf '%s\n' "$2" | states)
	_e=$(printf '%s\n' "$2" | jget end)
	case "$_s/$_e" in
	"$3,FIN_WAIT1,FIN_WAIT2,CLOSE/close" | "$3,FIN_WAIT1,FIN_WAIT2,TIME_WAIT/time_wait")
		;;
	*)
		fail "$1: states $_s, end $_e; want $3,FIN_WAIT1,FIN_WAIT2 then CLOSE (end close) or TIME_WAIT (end time_wait)"
		;;
	esac
}

# expect_none WHAT PATTERN: no flow record matches the grep PATTERN.
expect_none() {
	_bad=$(flows | grep -e "$2" | sed -n 1p)
	[ -z "$_bad" ] || fail "$1: $_bad"
}

# expect_all ROLE PATTERN WHAT: every ROLE flow matches the grep PATTERN.
expect_all() {
	_bad=$(flows "$1" | grep -v -e "$2" | sed -n 1p)
	[ -z "$_bad" ] || fail "$3: $_bad"
}
