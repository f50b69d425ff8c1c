#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Each --attach mode in turn (or the one the qemu guest forces): where this
# kernel has no working hook of that kind for a capability that has one, the
# fallback is taken and a warning names the capability and the hook used;
# either way the traffic is traced whole.  On a host that denies fentry and
# kprobes, the fentry and kprobe runs are the fallback's test.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

# capabilities that have a hook of kind $1 (user/modes.c)
caps_of() {
	case $1 in
	fentry | kprobe) echo "transitions time-wait overflow" ;;
	tp_btf) echo "transitions retransmits" ;;
	tracepoint) echo "transitions owner retransmits" ;;
	esac
}

if [ -n "$TCPTRAIL_ARGS" ]; then
	modes=${TCPTRAIL_ARGS#--attach }
else
	modes="fentry kprobe tp_btf tracepoint"
fi
for mode in $modes; do
	TCPTRAIL_ARGS="--attach $mode"
	rm -f "$DIR/go"		# trace() leaves the last run's go-file behind
	trace active
	line=$(grep '^tcptrail: tracing' "$DIR/trace.err")
	for cap in $(caps_of "$mode"); do
		used=$(echo "$line" | sed -n "s/.* $cap=\([a-z_]*\).*/\1/p; s/.*: $cap=\([a-z_]*\).*/\1/p" |
			sed -n 1p)
		[ -n "$used" ] || fail "--attach $mode: no $cap= on the start-up line: $line"
		warning=$(grep "^tcptrail: warning: --attach $mode: no $mode hook works for $cap here (.*); using " \
			"$DIR/trace.err")
		if [ "$used" = "$mode" ]; then
			[ -z "$warning" ] || fail "--attach $mode: $cap uses $mode, yet: $warning"
			note "--attach $mode: $cap=$mode as asked"
			continue
		fi
		[ "$used" != UNAVAILABLE ] || fail "--attach $mode: $cap unavailable: $line"
		[ -n "$warning" ] ||
			fail "--attach $mode: $cap fell back to $used without a warning: $line"
		echo "$warning" | grep -q "; using [^ ]*" ||
			fail "--attach $mode: the warning does not name the hook used: $warning"
		hook=$(echo "$warning" | sed 's/.*; using //')
		# the hook named is the one in use: its kind is what the start-up line shows
		case $used in
		rule) echo "$hook" | grep -q '^rule ' ;;
		*) echo "$hook" | grep -q "^$used/" ;;
		esac || fail "--attach $mode: warns '$hook', but $cap=$used is in use"
		note "--attach $mode: $cap fell back to $hook; stderr: ${warning#tcptrail: }"
	done
	expect_count active 1
	expect_count passive 1
	expect_closed_first "--attach $mode: client flow" "$(flows active)" SYN_SENT,ESTABLISHED
	expect_flow "--attach $mode: server flow" "$(flows passive)" \
		states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
	note "--attach $mode: traced whole: $line"
done
pass
