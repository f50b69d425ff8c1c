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

# note TEXT: a line the runner keeps with the test's result (what it measured)
note() {
	echo "note $TEST: $*"
}

# rmdirs_gone TOP DIR...: remove the DIRs, in order, until TOP is gone (a
# cgroup goes once its last process has): bounded, 5 s, then a warning.
rmdirs_gone() {
	_top=$1
	shift
	_i=50
	while [ -d "$_top" ] && [ "$_i" -gt 0 ]; do
		rmdir "$@" 2>/dev/null
		sleep 0.1
		_i=$((_i - 1))
	done
	[ -d "$_top" ] && echo "warning: could not remove $_top"
}

# skip WHY: this host cannot run the test: exit 77, which tests/run.sh and
# the qemu guest count as a skip (and CI as a failure, since it can run them
# all).
skip() {
	echo "skip $TEST: $*"
	exit 77
}

# The tools some checks compare tcptrail with (ss inside the test's
# namespace; capsh to drop a capability): only the busybox qemu guest
# (TT_GUEST=1) lacks them, and there those checks are left out.  On a host
# they are packages of tests/deps.sh, and a check left out for want of one
# would let a test pass that checked less than it says.
if [ "${TT_GUEST:-}" != 1 ]; then
	for _c in ss nsenter capsh; do
		command -v "$_c" >/dev/null 2>&1 ||
			fail "$_c not found, which the kernel tests need on a host (make deps INSTALL=1)"
	done
fi

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

# preload_tcptrail NAME [VAR=VALUE...]: from here on TCPTRAIL runs under
# the LD_PRELOAD shim $OUTPUT/tools/NAME.so (tests/tools/NAME.c), with the
# variables given; REAL is the binary it runs.  An ASan build (make test
# SANITIZE=1) wants its runtime first: the shims take one libc or zlib call
# each, which ASan leaves alone, so the order does not matter to them.
preload_tcptrail() {
	_shim=${OUTPUT:-.output}/tools/$1.so
	shift
	[ -f "$_shim" ] || fail "no $_shim (make $_shim)"
	case $_shim in /*) ;; *) _shim=$PWD/$_shim ;; esac
	REAL=$TCPTRAIL
	case $REAL in /*) ;; *) REAL=$PWD/$REAL ;; esac
	cat >"$DIR/tcptrail" <<SH
#!/bin/sh
ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS
$* LD_PRELOAD=$_shim exec $REAL "\$@"
SH
	chmod +x "$DIR/tcptrail"
	TCPTRAIL=$DIR/tcptrail
}

# expect_hooks: EXPECT_HOOKS="transitions=fentry time-wait=fentry" (the
# guest sets it for each forced mode): those hooks are really in use, not
# quietly fallen back from, as the tracing line of trace.err says.
expect_hooks() {
	for _h in $EXPECT_HOOKS; do
		grep '^tcptrail: tracing' "$DIR/trace.err" | grep -q " $_h\( \|\$\)" ||
		grep '^tcptrail: tracing' "$DIR/trace.err" | grep -q ": $_h " ||
			fail "expected hook $_h: $(grep '^tcptrail: tracing' "$DIR/trace.err")"
	done
}

# trace "SCENARIO [ARG]" [TCPTRAIL OPTIONS...]
#
# Starts ttdrive (which makes the namespace and waits), traces that namespace
# with tcptrail, lets ttdrive go, stops tcptrail with SIGINT once ttdrive is
# done, and checks what every trace must satisfy.  Sets NETNS.
# TRACE_PID_FACT=KEY adds -p VALUE, as trace_begin does.
trace() {
	_scenario=$1
	shift
	: >"$DIR/drive.out"
	: >"$DIR/trace.err"
	# a test may trace twice: the last run's go must not start this one
	rm -f "$DIR/go"
	# shellcheck disable=SC2086 # "SCENARIO ARG" is split on purpose
	"$DRIVE" --go-file "$DIR/go" --timeout 30 $_scenario >"$DIR/drive.out" 2>"$DIR/drive.err" &
	DRIVE_PID=$!
	wait_until 10 drive_started
	if ! grep -q '^pid=' "$DIR/drive.out"; then
		alive "$DRIVE_PID" && fail "ttdrive $_scenario printed no pid= within 10 s"
		fail "ttdrive $_scenario failed to start: $(last_line "$DIR/drive.err")"
	fi
	NETNS=$(fact netns)
	# -p for a process the scenario made before tracing (a fact it printed)
	if [ -n "$TRACE_PID_FACT" ]; then
		_p=$(fact "$TRACE_PID_FACT")
		[ -n "$_p" ] || fail "ttdrive $_scenario printed no $TRACE_PID_FACT="
		set -- "$@" -p "$_p"
	fi

	# A background job of a non-interactive shell starts with SIGINT
	# ignored; tcptrail installs its own handler, which undoes that.
	"$TCPTRAIL" $TCPTRAIL_ARGS --json --netns "$NETNS" "$@" >"$OUT" 2>"$DIR/trace.err" &
	TRACE_PID=$!
	wait_until 20 trace_attached
	if ! grep -q '^tcptrail: tracing' "$DIR/trace.err"; then
		alive "$TRACE_PID" && fail "tcptrail did not attach within 20 s"
		fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"
	fi
	expect_hooks

	: >"$DIR/go"
	drive_wait
	trace_stop

	check_trace
}

# drive_wait: ttdrive runs to its end and exits 0.
drive_wait() {
	wait_until 60 not_alive "$DRIVE_PID" ||
		fail "ttdrive $_scenario still running after 60 s"
	wait "$DRIVE_PID"
	_st=$?
	DRIVE_PID=
	[ "$_st" -eq 0 ] || fail "ttdrive $_scenario exited $_st: $(last_line "$DIR/drive.err")"
}

# tt_stop: SIGINT after the ring buffer had time to drain; TT_STATUS is
# tcptrail's exit status.
tt_stop() {
	sleep 0.3
	alive "$TRACE_PID" || fail "tcptrail exited before SIGINT: $(last_line "$DIR/trace.err")"
	kill -INT "$TRACE_PID"
	if ! wait_until 10 not_alive "$TRACE_PID"; then
		kill -KILL "$TRACE_PID"
		wait "$TRACE_PID"
		TRACE_PID=
		fail "tcptrail still running 10 s after SIGINT"
	fi
	wait "$TRACE_PID"
	TT_STATUS=$?
	TRACE_PID=
}

# trace_stop: tt_stop, and tcptrail must have exited 0.
trace_stop() {
	tt_stop
	[ "$TT_STATUS" -eq 0 ] ||
		fail "tcptrail exited $TT_STATUS after SIGINT: $(last_line "$DIR/trace.err")"
}

# What holds for any trace of a ttdrive namespace.
check_trace() {
	# tcptrail's exit check against the namespace's own counters
	_bad=$(grep "own counters show" "$DIR/trace.err" | sed -n 1p)
	[ -z "$_bad" ] || fail "$_bad"
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

# expect_count ROLE N [WHAT]: exactly N flows of ROLE (WHAT names the case in a failure).
expect_count() {
	_n=$(flows "$1" | grep -c .)
	[ "$_n" = "$2" ] && return
	# the flows themselves, for a failure seen once (in a guest, say)
	flows "$1" | sed 's/^/    got: /'
	fail "${3:+$3: }want $2 $1 flows, got $_n"
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

# ---- Helpers for the scenarios that pause, and for counting records ----
#
# trace_begin and trace_end split trace() in two, for a scenario that stops
# at a pause point (ttdrive prints paused=NAME and waits for $DIR/resume):
#
#	trace_begin close-wait -i 1 --close-wait-age 1
#	wait_paused close-wait
#	...look at the namespace and at $OUT while tcptrail runs...
#	resume
#	trace_end
#
# TRACE_STDOUT names where tcptrail's stdout goes (default $OUT), for a test
# that sends the records elsewhere with -o.  TRACE_NO_GO=1 leaves ttdrive
# waiting for the test's own `: >"$DIR/go"`; DRIVE_TIMEOUT (30) is its
# --timeout, which bounds its pauses too.  SEEDED_OK=1 lets trace_end
# accept flows seeded at start.  TRACE_PID_FACT=KEY adds -p VALUE, where
# ttdrive printed KEY=VALUE before tracing (a process it made).

# trace_begin "SCENARIO [ARG]" [TCPTRAIL OPTIONS...]: as trace(), up to the go.
trace_begin() {
	_scenario=$1
	shift
	: >"$DIR/drive.out"
	: >"$DIR/trace.err"
	rm -f "$DIR/go" "$DIR/resume"
	# shellcheck disable=SC2086 # "SCENARIO ARG" is split on purpose
	"$DRIVE" --go-file "$DIR/go" --resume-file "$DIR/resume" --timeout "${DRIVE_TIMEOUT:-30}" \
		$_scenario >"$DIR/drive.out" 2>"$DIR/drive.err" &
	DRIVE_PID=$!
	wait_until 10 drive_started
	if ! grep -q '^pid=' "$DIR/drive.out"; then
		alive "$DRIVE_PID" && fail "ttdrive $_scenario printed no pid= within 10 s"
		fail "ttdrive $_scenario failed to start: $(last_line "$DIR/drive.err")"
	fi
	NETNS=$(fact netns)
	# -p for a process the scenario made before tracing (a fact it printed)
	if [ -n "$TRACE_PID_FACT" ]; then
		_p=$(fact "$TRACE_PID_FACT")
		[ -n "$_p" ] || fail "ttdrive $_scenario printed no $TRACE_PID_FACT="
		set -- "$@" -p "$_p"
	fi

	# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of options
	"$TCPTRAIL" $TCPTRAIL_ARGS --json --netns "$NETNS" "$@" >"${TRACE_STDOUT:-$OUT}" \
		2>"$DIR/trace.err" &
	TRACE_PID=$!
	wait_until 20 trace_attached
	if ! grep -q '^tcptrail: tracing' "$DIR/trace.err"; then
		alive "$TRACE_PID" && fail "tcptrail did not attach within 20 s"
		fail "tcptrail failed to start: $(last_line "$DIR/trace.err")"
	fi
	expect_hooks
	[ "$TRACE_NO_GO" = 1 ] || : >"$DIR/go"
}

_paused() {
	grep -q "^paused=$_pause\$" "$DIR/drive.out" || not_alive "$DRIVE_PID"
}

# wait_paused NAME: until ttdrive stops at its pause point NAME.
wait_paused() {
	_pause=$1
	wait_until 30 _paused
	grep -q "^paused=$_pause\$" "$DIR/drive.out" ||
		fail "ttdrive never paused at $_pause: $(last_line "$DIR/drive.err")"
	alive "$TRACE_PID" || fail "tcptrail exited early: $(last_line "$DIR/trace.err")"
}

# resume: lets ttdrive go on from its pause point.
resume() {
	: >"$DIR/resume"
}

# trace_end: as the end of trace(): ttdrive finishes, tcptrail is stopped
# with SIGINT, and the trace is checked.
trace_end() {
	drive_wait
	trace_stop

	if [ "$SEEDED_OK" = 1 ]; then
		check_trace_seeded_ok
	else
		check_trace
	fi
}

# check_trace, but flows seeded at start (sockets older than the trace) are
# expected; partial flows are still not.
check_trace_seeded_ok() {
	_bad=$(grep -v '^{"type":"[a-z_]*",' "$OUT" | sed -n 1p)
	[ -z "$_bad" ] || fail "stdout line is not a JSON record: $_bad"
	_bad=$(flows | grep -v "\"netns\":$NETNS," | sed -n 1p)
	[ -z "$_bad" ] || fail "flow from outside netns $NETNS: $_bad"
	_bad=$(flows | grep '"partial":true' | grep -v '"seeded":true' | sed -n 1p)
	[ -z "$_bad" ] || fail "partial flow that was not seeded: $_bad"
	_n=$(grep -c '^{"type":"summary",.*"final":true' "$OUT")
	[ "$_n" = 1 ] || fail "want 1 final summary, got $_n"
	_lost=$(grep '^{"type":"summary",.*"final":true' "$OUT" | jget lost)
	[ "$_lost" = 0 ] || fail "final summary: lost is '$_lost', want 0"
}

# records TYPE: the records of one type ("summary", "overflow", "time_wait"...).
records() {
	grep "^{\"type\":\"$1\"," "$OUT"
}

# count_lines: how many lines stdin has.
count_lines() {
	grep -c . || true
}

# sum_of TYPE KEY: KEY summed over every record of TYPE (0 if none).
sum_of() {
	records "$1" | jget "$2" | awk '{ s += $1 } END { print s + 0 }'
}

# per_flow_records: true if the last trace sent one record per connection
# (its flows carry stats), false if one per transition where that is right:
# a transitions hook with no typed socket (tracepoint, kprobe: --attach in
# the qemu guest), or a kernel before 5.11 (no socket storage for the typed
# ones).  Fails otherwise: a typed hook that fell back, or a start-up line
# that names neither.
per_flow_records() {
	_hooks=$(sed -n 's/^tcptrail: tracing: //p' "$DIR/trace.err")
	case " $_hooks " in
	*" records=per-flow "*) return 0 ;;
	*" records=per-transition "*)
		case " $_hooks " in
		*" transitions=tp_btf "* | *" transitions=fentry "*)
			kernel_before 5.11 ||
				fail "one record per transition with a typed transitions hook:" \
					"$_hooks ($(grep -m1 'flow records' "$DIR/trace.err"))" ;;
		esac
		return 1 ;;
	esac
	fail "the tracing line says no records=per-flow or per-transition: $_hooks"
}

# kernel_before MAJOR.MINOR: true if the running kernel is older than that.
kernel_before() {
	_kv=$(uname -r | sed -n 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
	[ -n "$_kv" ] || fail "cannot read the kernel's version from '$(uname -r)'"
	set -- "${1%%.*}" "${1#*.}" $_kv
	[ "$3" -lt "$1" ] || { [ "$3" -eq "$1" ] && [ "$4" -lt "$2" ]; }
}

# tw_made: the timewait socks the kernel made while ttdrive ran.  From Linux
# 5.18 on, TW + TWKilled count each as it is made (__inet_twsk_schedule);
# before, they count each as its timer fires, 60 s later, and never one
# killed early, so the count of timewait socks alive right after the closes
# (tw.sockets, from sock_diag) stands in.  That is exact only where none dies
# early, as in tw-clean, the one TIME-WAIT scenario the 5.10 guest runs.
tw_made() {
	if kernel_before 5.18; then
		kfact tw.sockets
	else
		kfact kernel.TW kernel.TWKilled
	fi
}

# kfact KEY...: the sum of ttdrive's facts KEY..., e.g. kfact kernel.TW kernel.TWKilled
kfact() {
	_s=0
	for _k; do
		_v=$(fact "$_k")
		[ -n "$_v" ] || fail "ttdrive printed no $_k"
		_s=$((_s + _v))
	done
	echo "$_s"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# json_array KEY: for each record on stdin, the objects of its array KEY
# (flat objects only), one per line: {"family":"ipv4","addr":...}.
json_array() {
	awk -v k="\"$1\":[" '{
		i = index($0, k)
		if (!i) next
		s = substr($0, i + length(k))
		while (substr(s, 1, 1) == "{") {
			j = index(s, "}")
			if (!j) { print "json_array: a cut-off object in " k > "/dev/stderr"; exit 1 }
			print substr(s, 1, j)
			s = substr(s, j + 1)
			if (substr(s, 1, 1) == ",") s = substr(s, 2)
		}
	}'
}

# ss_here: whether the checks against ss run: on a host always (the tools
# are required above), in the busybox guest (no ss, no nsenter) never.
ss_here() {
	[ "${TT_GUEST:-}" != 1 ]
}

# ns_ss ARGS...: the host's ss inside the traced namespace.  Callers check
# ss_here first, and fail if this fails: a check against ss that could not
# run must not pass for one that agreed.
ns_ss() {
	[ -n "$DRIVE_PID" ] || { echo "ns_ss: no ttdrive running, whose namespace ss would read" >&2; return 1; }
	nsenter --net="/proc/$DRIVE_PID/ns/net" ss "$@"
}

# The TIME-WAIT entry check, shared by tests/kernel/tw-*.sh:
#
#	check_tw_entries CASE [SUBSTATE...]
#
# runs ttdrive tw-CASE and requires that tcptrail's TIME-WAIT entries (flows
# with "end":"time_wait"), and the summaries' time_wait counts summed, both
# equal the kernel's own count of timewait socks made: TW + TWKilled (the
# kernel files one made with a timeout of 4 s or less under TWKilled).
# Every such flow has a tw_substate; with SUBSTATEs given (TIME_WAIT or
# FIN_WAIT2) every one has one of them, and where ttdrive saw the timewait
# socks still alive (tw.time_wait, tw.fin_wait2) the counts by substate
# must equal it too.
check_tw_entries() {
	_case=$1
	shift
	trace "tw-$_case"
	_kernel=$(tw_made)
	_entries=$(flows | grep -c '"end":"time_wait"')
	_summed=$(sum_of summary time_wait)
	echo "tw-$_case: kernel TW=$(fact kernel.TW) TWKilled=$(fact kernel.TWKilled)" \
		"TCPTimeWaitOverflow=$(fact kernel.TCPTimeWaitOverflow);" \
		"tcptrail entries=$_entries, summaries=$_summed"
	kernel_before 5.18 &&
		echo "tw-$_case: this kernel counts TW as timewait socks expire: compared with" \
			"the $_kernel alive after the closes"
	expect_eq "TIME-WAIT entries (flows with end time_wait) vs the kernel's timewait socks made" \
		"$_entries" "$_kernel"
	expect_eq "summaries' time_wait summed vs TIME-WAIT flows" "$_summed" "$_entries"
	# each TIME-WAIT report of one namespace names it, as the journal's do
	_bad=$(records time_wait | grep -v "\],\"netns\":$NETNS[,}]" | cut -c1-160 | sed -n 1p)
	[ -z "$_bad" ] || fail "time_wait report without \"netns\":$NETNS: $_bad"
	# every connection's client end was traced to its end, with or without
	# a timewait sock (nothing traced at all would pass the counts above)
	expect_count active "$(fact connections)"
	expect_eq "client flows that did not end" "$(flows active | grep -c '"end":"open"')" 0
	_bad=$(flows | grep '"end":"time_wait"' | grep -v '"tw_substate":"' | sed -n 1p)
	[ -z "$_bad" ] || fail "TIME-WAIT flow without tw_substate: $_bad"
	_bad=$(flows | grep -v '"end":"time_wait"' | grep '"tw_substate":"' | sed -n 1p)
	[ -z "$_bad" ] || fail "tw_substate on a flow that did not end in TIME-WAIT: $_bad"
	if [ $# -gt 0 ]; then
		_re=$(echo "$*" | sed 's/ /\\|/g')
		_bad=$(flows | grep '"end":"time_wait"' | grep -v "\"tw_substate\":\"\\($_re\\)\"" |
			sed -n 1p)
		[ -z "$_bad" ] || fail "tw_substate not $*: $_bad"
	fi
	# timewait socks ttdrive saw alive after the closes: their substates
	_tw=$(fact tw.sockets)
	if [ "$_tw" = "$_kernel" ] && [ "$_tw" -gt 0 ]; then
		expect_eq "tw_substate TIME_WAIT flows vs the kernel's timewait socks in TIME_WAIT" \
			"$(flows | grep -c '"tw_substate":"TIME_WAIT"')" "$(fact tw.time_wait)"
		expect_eq "tw_substate FIN_WAIT2 flows vs the kernel's timewait socks in FIN_WAIT2" \
			"$(flows | grep -c '"tw_substate":"FIN_WAIT2"')" "$(fact tw.fin_wait2)"
	fi
}

# check_overflow_cases QUEUE [CASE...]: after trace overflow-QUEUE, for each
# CASE (by default ttdrive's six: syncookies 1 and 0; IPv4, IPv6, and IPv4
# clients of a dual-stack IPv6 listener; a listener port each), the
# overflow records at that port against the case's own kernel counter
# deltas: "accept" == ListenOverflows, "syn" without a cookie ==
# TCPReqQFullDrop, "syn" with one, and the "syncookie" records of
# --events (syncookies 2), == SyncookiesSent.  Not TCPReqQFullDoCookies:
# the kernel counts there too a SYN it meant to answer with a cookie, then
# dropped for a full accept queue (ListenOverflows) before sending one.
# The summaries' "listeners" entries for the port must carry the same
# counts (policy cookies are no listener's), and name it.
check_overflow_cases() {
	_q=$1
	shift
	[ $# -gt 0 ] || set -- ipv4.cookies1 ipv4.cookies0 ipv6.cookies1 ipv6.cookies0 \
		ipv6dual.cookies1 ipv6dual.cookies0
	_all=
	_bad_case=
	for _c; do
		_p=$(fact "$_q.$_c.port")
		[ -n "$_p" ] || fail "ttdrive printed no $_q.$_c.port"
		_recs=$(records overflow | grep "\"sport\":$_p,")
		_acc=$(printf '%s\n' "$_recs" | grep -c '"queue":"accept"')
		_drop=$(printf '%s\n' "$_recs" | grep '"queue":"syn"' | grep -c '"syncookie":false')
		_cook=$(printf '%s\n' "$_recs" | grep '"queue":"syn"' | grep -c '"syncookie":true')
		_pol=$(records syncookie | grep -c "\"sport\":$_p,")
		_kacc=$(fact "$_q.$_c.kernel.ListenOverflows")
		_kdrop=$(fact "$_q.$_c.kernel.TCPReqQFullDrop")
		_ksent=$(fact "$_q.$_c.kernel.SyncookiesSent")
		_kfull=$(fact "$_q.$_c.kernel.TCPReqQFullDoCookies")
		[ "$((_kacc + _kdrop + _kfull))" -gt 0 ] ||
			fail "$_q.$_c: the kernel counted no overflow: the scenario did not work here"
		echo "$_q.$_c (port $_p): kernel ListenOverflows=$_kacc TCPReqQFullDrop=$_kdrop" \
			"SyncookiesSent=$_ksent TCPReqQFullDoCookies=$_kfull;" \
			"tcptrail accept=$_acc syn=$_drop syn+cookie=$_cook policy=$_pol"
		_all="$_all
$_q.$_c: accept $_acc/$_kacc, syn $_drop/$_kdrop, cookie $((_cook + _pol))/$_ksent"
		[ "$_acc" = "$_kacc" ] && [ "$_drop" = "$_kdrop" ] &&
			[ "$((_cook + _pol))" = "$_ksent" ] || _bad_case="$_bad_case $_q.$_c"
		# the listener named in the summaries, with the same counts
		_l=$(records summary | json_array listeners | grep "\"sport\":$_p,")
		[ -n "$_l" ] || [ "$((_acc + _drop + _cook))" = 0 ] ||
			fail "$_q.$_c: no summary's listeners names port $_p"
		_lacc=$(printf '%s\n' "$_l" | jget accept_overflows | awk '{ s += $1 } END { print s + 0 }')
		_ldrop=$(printf '%s\n' "$_l" | jget syn_drops | awk '{ s += $1 } END { print s + 0 }')
		_lcook=$(printf '%s\n' "$_l" | jget syn_cookies | awk '{ s += $1 } END { print s + 0 }')
		[ "$_lacc/$_ldrop/$_lcook" = "$_acc/$_drop/$_cook" ] ||
			fail "$_q.$_c: summaries' listener $_p says accept/syn/cookie $_lacc/$_ldrop/$_lcook," \
				"the overflow records $_acc/$_drop/$_cook"
		_bad=$(printf '%s\n' "$_recs" | grep . | grep -v "\"pid\":$(fact listener_pid)," | sed -n 1p)
		[ -z "$_bad" ] || fail "$_q.$_c: overflow not owned by the listener's process: $_bad"
	done
	[ -z "$_bad_case" ] || fail "overflow counts differ from the kernel's in$_bad_case (tcptrail/kernel):$_all"
	expect_eq "summaries' accept_overflows vs accept records" "$(sum_of summary accept_overflows)" \
		"$(records overflow | grep -c '"queue":"accept"')"
	expect_eq "summaries' syn_drops vs syn records without a cookie" "$(sum_of summary syn_drops)" \
		"$(records overflow | grep '"queue":"syn"' | grep -c '"syncookie":false')"
	expect_eq "summaries' syn_cookies vs syn records with a cookie" "$(sum_of summary syn_cookies)" \
		"$(records overflow | grep '"queue":"syn"' | grep -c '"syncookie":true')"
}

# _more_than N TYPE: there are more than N records of TYPE.
_more_than() {
	[ "$(records "$2" | count_lines)" -gt "$1" ]
}

# endpoints KEY: for each object of the array KEY of the record on stdin,
# "ADDR:PORT=COUNT" (top_remote) or "ADDR=COUNT" (top_local), sorted.
endpoints() {
	json_array "$1" | awk '{
		a = $0; sub(/.*"addr":"/, "", a); sub(/".*/, "", a)
		c = $0; sub(/.*"count":/, "", c); sub(/[,}].*/, "", c)
		p = ""
		if (index($0, "\"port\":")) { p = $0; sub(/.*"port":/, "", p); sub(/[,}].*/, "", p); p = ":" p }
		print a p "=" c
	}' | sort
}

# check_tw_population SCENARIO CLOSER: ttdrive SCENARIO builds TIME-WAIT
# and pauses with the population stable (a timewait sock lives 60 s).  The
# time_wait report of a summary made during the pause must count what the
# kernel has: its population equals ttdrive's count of timewait socks in
# the TIME_WAIT substate (ss -tan state time-wait, also asked of the host's
# ss where there is one), its top_remote and top_local equal ttdrive's
# counts per endpoint, and over the run its entries equal the TIME-WAIT
# flows, all closed by CLOSER (client or server).
check_tw_population() {
	trace_begin "$1" -i 1
	wait_paused tw-load
	_n0=$(records time_wait | count_lines)
	wait_until 5 _more_than "$_n0" time_wait ||
		fail "no time_wait report within 5 s of the pause"
	_last=$(records time_wait | sed -n '$p')
	_want=$(fact ss.time_wait)
	expect_eq "population_source" "$(printf '%s\n' "$_last" | jget population_source)" sock_diag
	expect_eq "time_wait population vs the namespace's TIME-WAIT sockets" \
		"$(printf '%s\n' "$_last" | jget population)" "$_want"
	if ss_here; then
		_ss=$(ns_ss -Htan state time-wait) || fail "ss -Htan state time-wait in the namespace failed"
		expect_eq "ss -tan state time-wait in the namespace" \
			"$(printf '%s\n' "$_ss" | count_lines)" "$_want"
		_note=", ss agrees"
	fi
	expect_eq "top_remote" "$(printf '%s\n' "$_last" | endpoints top_remote | tr '\n' ' ')" \
		"$(sed -n 's/^tw\.remote\.//p' "$DIR/drive.out" | sort | tr '\n' ' ')"
	expect_eq "top_local" "$(printf '%s\n' "$_last" | endpoints top_local | tr '\n' ' ')" \
		"$(sed -n 's/^tw\.local\.//p' "$DIR/drive.out" | sort | tr '\n' ' ')"
	resume
	trace_end

	_entries=$(flows | grep -c '"end":"time_wait"')
	expect_eq "TIME-WAIT flows vs the kernel's TW" "$_entries" "$(tw_made)"
	expect_eq "time_wait reports' entries summed" "$(sum_of time_wait entries)" "$_entries"
	if [ "$2" = client ]; then
		_role=active
		_other=by_server
	else
		_role=passive
		_other=by_client
	fi
	expect_eq "time_wait reports' by_$2 summed" "$(sum_of time_wait "by_$2")" \
		"$(flows "$_role" | grep -c '"end":"time_wait"')"
	expect_eq "time_wait reports' $_other summed" "$(sum_of time_wait "$_other")" 0
	_bad=$(records time_wait | grep -v '"entries":0,' | grep -v "\"closer\":\"$2\"" | sed -n 1p)
	[ -z "$_bad" ] || fail "time_wait report with entries not closed by the $2: $_bad"
	echo "$1: population $_want$_note; $_entries entries, closer $2"
}

# check_close_wait SCENARIO: ttdrive SCENARIO leaves `leaked` sockets in
# CLOSE_WAIT in a server process of its own (comm ttleak) and pauses.  With
# --close-wait-age 1 -i 1, a close_wait report made during the pause names
# that process and counts exactly the leaked sockets, which is also the
# namespace's CLOSE-WAIT count (ttdrive's from /proc/net/tcp, and the
# host's ss -tanp, which must name the same owner).  Sets CW to that report.
check_close_wait() {
	trace_begin "$1" -i 1 --close-wait-age 1
	wait_paused close-wait
	_n0=$(records close_wait | count_lines)
	wait_until 5 _more_than "$_n0" close_wait ||
		fail "no close_wait report within 5 s of the pause"
	CW=$(records close_wait | sed -n '$p')
	_leak=$(fact leaked)
	expect_eq "ttdrive's CLOSE-WAIT sockets in the namespace" "$(fact ss.close_wait)" "$_leak"
	expect_eq "ttdrive's CLOSE-WAIT sockets of the server" "$(fact ss.close_wait.server)" "$_leak"
	expect_flow "close_wait report" "$CW" pid="$(fact server_pid)" comm="$(fact server_comm)" \
		count="$_leak" service=local service_port="$(fact port)" netns="$NETNS"
	if ss_here; then
		_ss=$(ns_ss -Htanp state close-wait) || fail "ss -Htanp state close-wait in the namespace failed"
		expect_eq "ss -tan state close-wait in the namespace" \
			"$(printf '%s\n' "$_ss" | count_lines)" "$_leak"
		expect_eq "ss -tanp: CLOSE-WAIT sockets of $(fact server_comm) pid $(fact server_pid)" \
			"$(printf '%s\n' "$_ss" | grep -c "(\"$(fact server_comm)\",pid=$(fact server_pid),")" "$_leak"
		_note=", ss agrees"
	fi
	resume
	trace_end
	echo "$1: $_leak leaked, reported as $(printf '%s\n' "$CW" | jget count)" \
		"(seeded $(printf '%s\n' "$CW" | jget seeded))$_note"
}

# first_diff FILE1 FILE2: the first line where the two differ, from each
# (busybox diff prints unified diffs only, so no diff here).
first_diff() {
	awk 'NR == FNR { a[FNR] = $0; n = FNR; next }
		a[FNR] != $0 { print "  < " a[FNR]; print "  > " $0; d = 1; exit }
		END { if (!d && FNR != n) print "  (one ends after line " (FNR < n ? FNR : n) ")" }' "$1" "$2"
}

# drive_begin "SCENARIO [ARG]": starts ttdrive and lets it go, with no tcptrail
# tracing it (for --snapshot and --top, which read the socket table); sets
# NETNS.  End with resume (at a pause point) and drive_wait.
drive_begin() {
	_scenario=$1
	: >"$DIR/drive.out"
	rm -f "$DIR/go" "$DIR/resume"
	# shellcheck disable=SC2086 # "SCENARIO ARG" is split on purpose
	"$DRIVE" --go-file "$DIR/go" --resume-file "$DIR/resume" --timeout 30 $_scenario \
		>"$DIR/drive.out" 2>"$DIR/drive.err" &
	DRIVE_PID=$!
	wait_until 10 drive_started
	grep -q '^pid=' "$DIR/drive.out" ||
		fail "ttdrive $_scenario failed to start: $(last_line "$DIR/drive.err")"
	NETNS=$(fact netns)
	: >"$DIR/go"
}

# drive_paused NAME: as wait_paused, for a ttdrive that tcptrail is not tracing.
drive_paused() {
	_pause=$1
	wait_until 30 _paused
	grep -q "^paused=$_pause\$" "$DIR/drive.out" ||
		fail "ttdrive never paused at $_pause: $(last_line "$DIR/drive.err")"
}

# stuck_overflows PORT PID COMM WHICH: a stuck listener's accept overflows
# (ttdrive's stuck.kernel.ListenOverflows, more than 0) are each an overflow
# record at PORT naming PID and COMM, and a summary's listener at PORT (its
# first, or with WHICH last its last) names them too.  Sets KACC, RECS (the
# records) and LISTENER (that summary's listener).
stuck_overflows() {
	KACC=$(fact stuck.kernel.ListenOverflows)
	[ "${KACC:-0}" -gt 0 ] ||
		fail "the kernel counted no accept-queue overflow: the scenario did not work here"
	RECS=$(records overflow | grep "\"sport\":$1,")
	expect_eq "accept overflow records at port $1 against ListenOverflows" \
		"$(printf '%s\n' "$RECS" | grep -c '"queue":"accept"')" "$KACC"
	_bad=$(printf '%s\n' "$RECS" | grep -v "\"pid\":$2,\"comm\":\"$3\"}" | sed -n 1p)
	[ -z "$_bad" ] || fail "an overflow record does not name the listener's holder $2: $_bad"
	if [ "$4" = last ]; then _which='$p'; else _which=1p; fi
	LISTENER=$(records summary | json_array listeners | grep "\"sport\":$1," | sed -n "$_which")
	[ -n "$LISTENER" ] || fail "no summary's listeners names port $1"
	expect_flow "summary's listener" "$LISTENER" pid="$2" comm="$3"
}
