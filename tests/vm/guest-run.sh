#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Runs inside the qemu guest, called by /init.  Prints tcptrail --version and
# --probe, then runs every kernel test once per attach mode and prints one line
# per run, which tests/vm/vmtest.sh counts:
#
#   ok   KERNEL/MODE/NAME   exit 0
#   FAIL KERNEL/MODE/NAME   any other exit, a timeout, or a kernel warning meanwhile
#   skip KERNEL/MODE/NAME   exit 77 (the test says this kernel cannot run it)
#
# KERNEL is the kernel's version, "6.12" (KLABEL).
#
# A test's own output is indented under a "--- MODE/NAME" line, so nothing it
# prints can pass for a result.  Exits 1 if any run failed.

. /tt/config

export TCPTRAIL=/tt/bin/tcptrail
export DRIVERS=/tt/drivers
# The traffic driver (tests/drivers/ttdrive.c); others are found through $DRIVERS.
if [ -x /tt/drivers/ttdrive ]; then
	export DRIVE=/tt/drivers/ttdrive
else
	for d in /tt/drivers/*; do [ -x "$d" ] && export DRIVE="$d"; done
fi

indent() { sed 's/^/    /'; }

# run CMD...: runs CMD with its output in a file, so a process it leaves
# behind cannot hold a pipe open; sets $rc.
run() {
	out=/tmp/out.$$
	"$@" > "$out" 2>&1 < /dev/null
	rc=$?
	indent < "$out"
	rm -f "$out"
}

read -r up _ < /proc/uptime
echo "--- guest, up ${up}s"
{
	uname -a
	echo "cpus $(nproc), $(free -m | awk '/^Mem:/ {print $2}') MiB"
	[ -r /sys/kernel/btf/vmlinux ] && echo "btf /sys/kernel/btf/vmlinux" || echo "btf: none"
	grep -E ' (tracefs|bpf|cgroup2|debugfs) ' /proc/mounts | cut -d' ' -f2,3
	echo "modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	echo "modes: $ATTACH_MODES"
	echo "tests: $TESTS"
} | indent

echo "--- tcptrail --version"
run "$TCPTRAIL" --version
echo "    [exit $rc]"
echo "--- tcptrail --probe"
run "$TCPTRAIL" --probe
echo "    [exit $rc]"

# Processes a test left behind (a tcptrail in the background, a driver stuck in
# connect) would skew the next one.  kill -1 spares init and this shell.
reap() {
	kill -s KILL -1 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null && mount -t bpf bpf /sys/fs/bpf
}

failed=0
dmesg -c > /dev/null
for mode in $ATTACH_MODES; do
	for t in $TESTS; do
		name=$mode/${t%.sh}
		echo "--- $KLABEL/$name"
		start=$(date +%s)
		mkdir -p "/tmp/$name" && cd "/tmp/$name"
		# TERM first, so a tcptrail under test can detach; KILL 10 s later.
		export TCPTRAIL_ARGS="--attach $mode" TT_GUEST=1
		# each mode must really run its own hooks, not fall back quietly
		case $mode in
		fentry) export EXPECT_HOOKS="transitions=fentry time-wait=fentry overflow=fentry owner=fentry" ;;
		kprobe) export EXPECT_HOOKS="transitions=kprobe time-wait=kprobe overflow=kprobe owner=kprobe" ;;
		tracepoint) export EXPECT_HOOKS="transitions=tracepoint time-wait=rule overflow=cgroup_skb owner=tracepoint" ;;
		tp_btf) export EXPECT_HOOKS="transitions=tp_btf time-wait=rule overflow=cgroup_skb" ;;
		*) export EXPECT_HOOKS= ;;
		esac
		run timeout -k 10 "$TEST_TIMEOUT" sh "/tt/kernel/$t"
		cd /tmp
		reap
		secs=$(( $(date +%s) - start ))
		kern=$(dmesg -c)
		[ -n "$kern" ] && printf '%s\n' "$kern" | sed 's/^/    dmesg: /'
		why=
		case $rc in
		0|77) ;;
		143|137) why="timed out after ${TEST_TIMEOUT}s" ;;
		*) why=failed ;;
		esac
		# A tracer that makes the kernel warn has failed, whatever the test saw.
		if printf '%s\n' "$kern" | grep -qE 'WARNING:|BUG:|Oops|Call Trace'; then
			why="${why:+$why, }kernel warning"
		fi
		echo "    [exit $rc, ${secs}s${why:+, $why}]"
		if [ -n "$why" ]; then
			echo "FAIL $KLABEL/$name"
			failed=$((failed + 1))
		elif [ "$rc" = 77 ]; then
			echo "skip $KLABEL/$name"
		else
			echo "ok   $KLABEL/$name"
		fi
	done
done
read -r up _ < /proc/uptime
echo "--- $failed failed, up ${up}s"
[ "$failed" = 0 ]
