#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# kill -9 of tcptrail in the middle of traffic: the kernel takes back every
# program, link and map it held (it pins nothing, so closing its descriptors
# is the whole cleanup), and /sys/fs/bpf is as it was.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

BPFTOOL=${BPFTOOL:-bpftool}
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
command -v "$BPFTOOL" >/dev/null 2>&1 || skip "no $BPFTOOL here to list programs and links"

# ids the kernel lists now: "prog", "link" or "map"; fails with bpftool
ids() {
	_list=$("$BPFTOOL" "$1" show 2>&1) || { echo "$BPFTOOL $1 show: $_list" >&2; return 1; }
	printf '%s\n' "$_list" | sed -n 's/^\([0-9][0-9]*\): .*/\1/p'
}

# what /sys/fs/bpf holds, if it is mounted
pinned() {
	find /sys/fs/bpf 2>/dev/null | sort
}

# ids of one kind among tcptrail's descriptors: "prog_id", "link_id", "map_id"
held() {
	for _f in /proc/"$TRACE_PID"/fdinfo/*; do
		sed -n "s/^$1:[[:space:]]*//p" "$_f" 2>/dev/null
	done | sort -un
}

# none of the ids in $2 is listed by "$BPFTOOL $1 show" (an empty list
# of those is no answer: listing nothing would pass for all gone)
gone() {
	_now=$(ids "$1") || fail "$BPFTOOL $1 show failed"
	for _id in $2; do
		echo "$_now" | grep -qx "$_id" && return 1
	done
	return 0
}

pins_before=$(pinned)
stress_start rate 10 1
tt_start --json --netns "$NETNS" -i 1
progs=$(held prog_id)
links=$(held link_id)
maps=$(held map_id)
[ -n "$progs" ] || fail "no BPF program among tcptrail's descriptors"
[ -n "$links" ] || fail "no BPF link among tcptrail's descriptors"
[ -n "$maps" ] || fail "no BPF map among tcptrail's descriptors"
# what gone() looks for must be listed while tcptrail runs
gone prog "$progs" && fail "$BPFTOOL prog show lists none of tcptrail's programs"
gone link "$links" && fail "$BPFTOOL link show lists none of tcptrail's links"
gone map "$maps" && fail "$BPFTOOL map show lists none of tcptrail's maps"
names=$(for id in $progs; do
	"$BPFTOOL" prog show id "$id" 2>/dev/null | sed -n 's/^[0-9]*: [a-z_]*  *name \([^ ]*\) .*/\1/p'
done | tr '\n' ' ')
echo "$names" | grep -q 'set_stat' ||
	fail "tcptrail's programs have no set_state among them: $names"
note "tcptrail held programs $(echo $progs) ($names), links $(echo $links), maps $(echo $maps)"

go
sleep 2		# in the middle of the traffic
alive "$TRACE_PID" || fail "tcptrail exited early: $(last_line "$DIR/trace.err")"
kill -KILL "$TRACE_PID"
wait "$TRACE_PID"
TRACE_PID=
t0=$(now_ds)
# the kernel frees programs after an RCU grace period: allow it a moment
wait_until 10 gone prog "$progs" ||
	fail "programs of the killed tcptrail still loaded 10 s on: $(ids prog | tr '\n' ' ')"
wait_until 10 gone link "$links" || fail "links of the killed tcptrail still there 10 s on"
wait_until 10 gone map "$maps" || fail "maps of the killed tcptrail still there 10 s on"
note "$(( $(now_ds) - t0 ))00 ms after kill -9, bpftool lists none of its programs, links" \
	"or maps"
[ "$(pinned)" = "$pins_before" ] || fail "/sys/fs/bpf changed: $(pinned | tr '\n' ' ')"
note "/sys/fs/bpf as before: $(pinned | grep -c .) entries"
stress_wait 30
pass
