#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The test runner behind `make test`:
#
#	OUTPUT=.output tests/run.sh [unit] [kernel] [vm] [soak]	(default: the first three)
#
# unit    $OUTPUT/unit_tests, tests/prometheus/rules.sh (promtool test rules
#         on the shipped alert rules), tests/package/completion.sh (bash
#         completion) and tests/package/examples.sh (the Vector and Fluent
#         Bit examples' fields against the JSON schema), no root needed
# kernel  every tests/kernel/*.sh but lib.sh, as root, against ./tcptrail
# vm      `make vmtest`, the kernel tests inside qemu guests (skipped, with the
#         reason, under SANITIZE=1: the guest runs the static, unsanitized build);
#         with the kernel tier asked for too, the guests run beside it
# soak    tests/soak/*.sh (`make soak`): SOAK_SECONDS (60) of load each, as root
#
# Prints "ok   TIER/NAME", "FAIL TIER/NAME" or "skip TIER/NAME: REASON" per
# test and closes with one line "N passed, N failed, N skipped"; exits 1 if
# anything failed.  A test skips by exiting 77 with its reason as the last
# line of its output (a test of something this host truly lacks, such as a
# container runtime that cannot start a container); a test that skips
# without a reason fails, and so does any skip under CI (CI set and not
# empty, as .ci/run sets it: CI runs as root with every package of
# tests/deps.sh, so what skips there is broken).  The unit tier's own
# skips (SKIP in tests/unit/tt_test.h) come in its closing line.  A tier that cannot run here says why and counts
# as a failure, never as a silent skip.  Each test gets TEST_TIMEOUT
# seconds (120), or what a line "# test-timeout: SECS" in it asks for;
# `make vmtest` gets VM_TIMEOUT (1200).

OUTPUT=${OUTPUT:-.output}
TCPTRAIL=${TCPTRAIL:-./tcptrail}
DRIVE=${DRIVE:-$OUTPUT/drivers/ttdrive}
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
VM_TIMEOUT=${VM_TIMEOUT:-1200}
export TCPTRAIL DRIVE

passed=0
failed=0
skipped=0
LOGS=$(mktemp -d) || exit 1
vm_pid=
trap '[ -z "$vm_pid" ] || vm_stop; rm -rf "$LOGS"' EXIT
trap 'exit 1' HUP INT PIPE TERM

pass() {
	passed=$((passed + 1))
	echo "ok   $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $1${2:+: $2}"
}

# skip NAME REASON...
skip() {
	skipped=$((skipped + 1))
	_name=$1
	shift
	echo "skip $_name: $*"
}

# test_result NAME LOG STATUS: one test's line, from its exit status: 0
# passed, 77 skipped (the reason is the last line of LOG, "skip: " or the
# test's own name before it taken off), anything else failed.
test_result() {
	case $3 in
	0)
		pass "$1"
		;;
	77)
		why=$(sed -n '$p' "$2" | sed 's/^skip[^:]*: *//')
		if [ -n "$why" ] && [ -n "${CI:-}" ]; then
			fail "$1" "skipped under CI, which can run it: $why"
		elif [ -n "$why" ]; then
			skip "$1" "$why"
		else
			fail "$1" "exit 77 (skip) without a reason"
		fi
		;;
	*)
		fail "$1"
		tail -n "$4" "$2" | sed 's/^/    /'
		;;
	esac
}

# stop TARGET PID: SIGTERM to TARGET (PID, or -PGID for a process group),
# 5 s for PID to end, then SIGKILL.
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	n=50
	while kill -0 "$2" 2>/dev/null && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	kill -KILL "$1" 2>/dev/null
}

# run_bounded SECS LOG COMMAND...: COMMAND's exit status, output in LOG; after
# SECS seconds it gets SIGTERM (the kernel tests then kill what they started),
# 5 s later SIGKILL, and the status is 124.
run_bounded() {
	secs=$1
	log=$2
	shift 2
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	n=$((secs * 10))
	while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		stop "$pid" "$pid"
		wait "$pid"
		echo "timed out after $secs s" >>"$log"
		return 124
	fi
	wait "$pid"
}

# add_counts TIER LOG STATUS: adds the "TIER: N passed, N failed[, N skipped]"
# line that LOG ends with; a missing line, or a failed run that counted no
# failure, is one failure more.
add_counts() {
	line=$(grep "^$1: [0-9]* passed, [0-9]* failed" "$2" | sed -n '$p')
	if [ -z "$line" ]; then
		fail "$1" "exit status $3 without a '$1: N passed, N failed' line"
		return
	fi
	p=$(echo "$line" | sed 's/^[^:]*: \([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
	s=0
	case $line in
	*", "[0-9]*" skipped"*) s=$(echo "$line" | sed 's/.* \([0-9]*\) skipped.*/\1/') ;;
	esac
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	# a harness that ran nothing is no pass
	[ $((p + f + s)) -gt 0 ] || fail "$1" "counted no test at all: $line"
	[ "$3" -eq 0 ] || [ "$f" -gt 0 ] || fail "$1" "exit status $3 with no test failed"
	# as test_result(): under CI a skip is a failure (a guest's, say)
	[ -z "${CI:-}" ] || [ "$s" -eq 0 ] || fail "$1" "$s skipped under CI, which can run them"
}

tier_unit() {
	if [ ! -x "$OUTPUT/unit_tests" ]; then
		fail unit "$OUTPUT/unit_tests is not built (make $OUTPUT/unit_tests)"
		return
	fi
	run_bounded "$TEST_TIMEOUT" "$LOGS/unit" "$OUTPUT/unit_tests"
	st=$?
	cat "$LOGS/unit"
	add_counts unit "$LOGS/unit" "$st"
	# the shipped files: Prometheus rules (promtool test rules), bash completion,
	# log shipper examples
	for t in prometheus/rules package/completion package/examples; do
		if run_bounded "$TEST_TIMEOUT" "$LOGS/${t##*/}" sh "tests/$t.sh"; then
			pass "unit/${t##*/}"
		else
			fail "unit/${t##*/}"
			tail -n 5 "$LOGS/${t##*/}" | sed 's/^/    /'
		fi
	done
}

# Why the kernel tests cannot run here, or nothing.
kernel_blocker() {
	if [ "$(id -u)" != 0 ]; then
		echo "not root (tcptrail loads BPF, ttdrive makes network namespaces)"
	elif [ ! -r /sys/kernel/btf/vmlinux ]; then
		echo "no /sys/kernel/btf/vmlinux: this kernel has no BTF"
	elif ! "$TCPTRAIL" --version >/dev/null 2>&1; then
		echo "'$TCPTRAIL --version' failed (make tcptrail)"
	elif [ ! -x "$DRIVE" ]; then
		echo "$DRIVE is not built (make $DRIVE)"
	fi
}

tier_kernel() {
	why=$(kernel_blocker)
	if [ -n "$why" ]; then
		fail kernel "cannot run: $why"
		return
	fi
	for t in tests/kernel/*.sh; do
		name=${t##*/}
		name=${name%.sh}
		[ "$name" != lib ] || continue
		# a test that needs longer says so in a line "# test-timeout: SECS"
		secs=$(sed -n 's/^# test-timeout: *\([0-9][0-9]*\)$/\1/p' "$t" | sed -n 1p)
		run_bounded "${secs:-$TEST_TIMEOUT}" "$LOGS/$name" sh "$t"
		test_result "kernel/$name" "$LOGS/$name" $? 5
	done
}

# Why the vm tier is skipped here, or nothing.
vm_skip_reason() {
	if [ "$SANITIZE" = 1 ]; then
		echo "SANITIZE=1: the qemu guest runs the static build" \
			"($OUTPUT/tcptrail-static), which has no sanitizers to check"
	elif ! grep -q '^vmtest:' Makefile; then
		echo "the Makefile has no vmtest target yet"
	fi
}

# `make vmtest` in the background, in a session of its own: the process
# group of make, tests/vm/vmtest.sh and the guests, stopped as one.
vm_start() {
	[ -z "$vm_pid" ] && [ -z "$(vm_skip_reason)" ] || return 0
	setsid make vmtest >"$LOGS/vm" 2>&1 </dev/null &
	vm_pid=$!
	vm_deadline=$(($(date +%s) + VM_TIMEOUT))
}

# Stop the guests' process group.
vm_stop() {
	stop "-$vm_pid" "$vm_pid"
}

tier_vm() {
	why=$(vm_skip_reason)
	if [ -n "$why" ]; then
		skip vm "$why"
		return
	fi
	vm_start
	while kill -0 "$vm_pid" 2>/dev/null && [ "$(date +%s)" -lt "$vm_deadline" ]; do
		sleep 1
	done
	if kill -0 "$vm_pid" 2>/dev/null; then
		vm_stop
		wait "$vm_pid"
		echo "timed out after $VM_TIMEOUT s" >>"$LOGS/vm"
		st=124
	else
		wait "$vm_pid"
		st=$?
	fi
	vm_pid=
	cat "$LOGS/vm"
	add_counts vm "$LOGS/vm" "$st"
}

# Long runs, kept out of the default tiers: `make soak`.
tier_soak() {
	why=$(kernel_blocker)
	if [ -n "$why" ]; then
		fail soak "cannot run: $why"
		return
	fi
	for t in tests/soak/*.sh; do
		name=${t##*/}
		name=${name%.sh}
		run_bounded $((${SOAK_SECONDS:-60} + 120)) "$LOGS/soak-$name" sh "$t"
		st=$?
		test_result "soak/$name" "$LOGS/soak-$name" $st 8
		[ "$st" -ne 0 ] || grep '^soak: ' "$LOGS/soak-$name" | sed 's/^/    /'
	done
}

[ $# -gt 0 ] || set -- unit kernel vm
# The guests are emulated (no KVM here) and the kernel tests mostly wait:
# with both tiers asked for, the guests start first and run beside the
# kernel tier (about 15 minutes one after the other on 2 CPUs, 11.5 together).
# Their lines come at the vm tier's turn.
case " $* " in
*" kernel "*)
	case " $* " in
	*" vm "*) [ -n "$(kernel_blocker)" ] || vm_start ;;
	esac ;;
esac
for tier; do
	case $tier in
	unit | kernel | vm | soak)
		"tier_$tier"
		;;
	*)
		echo "usage: OUTPUT=DIR tests/run.sh [unit] [kernel] [vm] [soak]" >&2
		exit 2
		;;
	esac
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
