#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Least privilege (user/privs.h): once tracing, tcptrail holds no capability
# in any set, has no_new_privs, and lives in the namespace it traces; and
# what it does from then on still works without privileges: the ring
# buffer, SIGHUP reopening -o, the metrics file, and the TIME-WAIT count of
# that namespace through sock_diag.  Its files are not world-writable.
# Root without CAP_SYS_ADMIN, which cannot mount tracefs, is told that a
# hook wants tracefs, not that the kernel lacks it.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# The one capability a host like this one may keep: kernels before 5.19
# refuse even a lookup on a held map fd while unprivileged BPF is disabled.
# -o, --metrics-file (here in a directory of ours) and /proc without
# hidepid= need none.
want=0000000000000000
_r=$(uname -r)
_major=${_r%%.*}
_minor=${_r#*.}
_minor=${_minor%%[!0-9]*}
if [ "$_major" -lt 5 ] || { [ "$_major" -eq 5 ] && [ "$_minor" -lt 19 ]; }; then
	[ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null)" = 0 ] ||
		want=0000008000000000	# CAP_BPF
fi

# Without the privileges: one line that says so, and 1 (a runtime problem a
# service manager may retry), not 2 and "this kernel has no BPF ring buffer".
# Said before -o makes its file: a start that never traced leaves none.
command -v setpriv >/dev/null || fail "setpriv not found (util-linux; make deps INSTALL=1)"
# a directory nobody may write -o into, as an unprivileged caller's own would be
chmod o+x "$DIR" && mkdir "$DIR/open" && chmod 1777 "$DIR/open" || fail "cannot make $DIR/open"
for _how in "--reuid=nobody --regid=nogroup --clear-groups" "--inh-caps=-all --bounding-set=-all"; do
	for _what in "-d 1" --probe; do
		# shellcheck disable=SC2086 # the setpriv and tcptrail options are lists of words
		setpriv $_how "$TCPTRAIL" $_what -o "$DIR/open/unpriv.out" >/dev/null 2>"$DIR/unpriv.err"
		_st=$?
		[ "$_st" -eq 1 ] && [ "$(wc -l <"$DIR/unpriv.err")" -eq 1 ] &&
			grep -q '^tcptrail: not allowed to use BPF: this process lacks CAP_BPF (run as root' "$DIR/unpriv.err" ||
			fail "setpriv $_how tcptrail $_what: exit $_st, want 1 and one line: $(cat "$DIR/unpriv.err")"
		[ ! -e "$DIR/open/unpriv.out" ] || fail "setpriv $_how tcptrail $_what -o: left the -o file"
	done
done
# CAP_BPF without CAP_PERFMON: every hook refuses with EPERM, which is the
# caller's privileges, not the kernel's hooks ("no hook ... works on this
# kernel", 2, before).  That is found once -o is open: the file it made is
# removed, and a file that was there before is kept, empty or not.
: >"$DIR/kept-empty.out"
echo '{"type":"kept"}' >"$DIR/kept.out"
for _out in unpriv.out kept-empty.out kept.out; do
	setpriv --inh-caps=-all --bounding-set=-all,+bpf,+net_admin "$TCPTRAIL" -d 1 \
		-o "$DIR/$_out" >/dev/null 2>"$DIR/unpriv.err"
	_st=$?
	[ "$_st" -eq 1 ] && [ "$(wc -l <"$DIR/unpriv.err")" -eq 1 ] &&
		grep -q '^tcptrail: not allowed to load BPF tracing programs: this process lacks CAP_PERFMON' \
			"$DIR/unpriv.err" ||
		fail "CAP_BPF without CAP_PERFMON: exit $_st, want 1 and one line: $(cat "$DIR/unpriv.err")"
done
[ ! -e "$DIR/unpriv.out" ] || fail "CAP_BPF without CAP_PERFMON, -o: left the file it made"
# CAP_BPF and CAP_PERFMON without CAP_NET_ADMIN: it traces, without the
# cgroup hooks, and says the process's privileges are why (it said "on this
# kernel", though root gets them here)
setpriv --inh-caps=-all --bounding-set=-all,+bpf,+perfmon "$TCPTRAIL" -d 1 >/dev/null \
	2>"$DIR/unpriv.err" || fail "CAP_BPF and CAP_PERFMON alone: exit $?: $(cat "$DIR/unpriv.err")"
grep -q ' sock-ops=UNAVAILABLE' "$DIR/unpriv.err" ||
	fail "CAP_BPF and CAP_PERFMON alone: sock_ops attached: $(cat "$DIR/unpriv.err")"
# overflow, where its fentry hook is refused too (this VM; not where fentry works)
for _cap in overflow sock-ops; do
	grep -q " $_cap=UNAVAILABLE" "$DIR/unpriv.err" || continue
	grep -q "^tcptrail: warning: $_cap unavailable to this process, which lacks CAP_NET_ADMIN" \
		"$DIR/unpriv.err" ||
		fail "CAP_BPF and CAP_PERFMON alone: no word that $_cap lacks CAP_NET_ADMIN: $(cat "$DIR/unpriv.err")"
done
! grep -q 'on this kernel' "$DIR/unpriv.err" ||
	fail "CAP_BPF and CAP_PERFMON alone: blamed the kernel: $(cat "$DIR/unpriv.err")"
# root without CAP_SYS_ADMIN, where tracefs is not mounted: it cannot mount it,
# and a capability whose only hook left is a tracepoint (owner, on a kernel
# that denies fexit and has no kprobes) is said to want tracefs, not blamed
# on the kernel
setpriv --inh-caps=-all --bounding-set=-sys_admin "$TCPTRAIL" -d 1 >/dev/null \
	2>"$DIR/nosysadmin.err" || fail "without CAP_SYS_ADMIN: exit $?: $(cat "$DIR/nosysadmin.err")"
if grep -q ' owner=UNAVAILABLE' "$DIR/nosysadmin.err"; then
	grep -q '^tcptrail: warning: owner unavailable: its tracepoint needs tracefs, which is not mounted and could not be mounted (Operation not permitted: that needs CAP_SYS_ADMIN' \
		"$DIR/nosysadmin.err" ||
		fail "without CAP_SYS_ADMIN: no word that owner needs tracefs: $(cat "$DIR/nosysadmin.err")"
	! grep -q 'on this kernel' "$DIR/nosysadmin.err" ||
		fail "without CAP_SYS_ADMIN: blamed the kernel: $(cat "$DIR/nosysadmin.err")"
else
	note "without CAP_SYS_ADMIN: owner has a hook here (tracefs mounted, fexit or kprobes): nothing to say"
fi
[ -e "$DIR/kept-empty.out" ] || fail "CAP_BPF without CAP_PERFMON, -o: removed an empty file it did not make"
[ "$(cat "$DIR/kept.out")" = '{"type":"kept"}' ] || fail "CAP_BPF without CAP_PERFMON, -o: changed a file it did not make"

: >"$DIR/drive.out"
"$DRIVE" --go-file "$DIR/go" --timeout 30 active >"$DIR/drive.out" 2>"$DIR/drive.err" &
DRIVE_PID=$!
wait_until 10 drive_started
grep -q '^pid=' "$DIR/drive.out" ||
	fail "ttdrive active failed to start: $(last_line "$DIR/drive.err")"
NETNS=$(fact netns)

# under a soft limit of 256 open files, which it raises to the hard one
# (a descriptor per namespace while it counts them all)
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of words
sh -c 'ulimit -S -n 256 && exec "$0" "$@"' "$TCPTRAIL" $TCPTRAIL_ARGS -v --json -i 0 \
	--netns "$NETNS" -o "$OUT" --metrics-file "$DIR/metrics.prom" >/dev/null 2>"$DIR/trace.err" &
TRACE_PID=$!
# shellcheck disable=SC2317 # called through wait_until
dropped() {
	grep -q '^tcptrail: dropped privileges' "$DIR/trace.err" || not_alive "$TRACE_PID"
}
wait_until 20 dropped
grep -q '^tcptrail: dropped privileges' "$DIR/trace.err" ||
	fail "tcptrail did not drop privileges: $(last_line "$DIR/trace.err")"

# status KEY: the value of KEY in tcptrail's /proc/PID/status
status() {
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$TRACE_PID/status"
}
for _set in CapEff CapPrm CapBnd; do
	[ "$(status $_set)" = "$want" ] ||
		fail "$_set is $(status $_set), want $want ($(grep '^tcptrail: dropped' "$DIR/trace.err"))"
done
for _set in CapInh CapAmb; do
	[ "$(status $_set)" = 0000000000000000 ] || fail "$_set is $(status $_set), want none"
done
[ "$(status NoNewPrivs)" = 1 ] || fail "NoNewPrivs is '$(status NoNewPrivs)', want 1"
_nofile=$(awk '/^Max open files/ { print $4, $5 }' "/proc/$TRACE_PID/limits")
[ "${_nofile% *}" = "${_nofile#* }" ] && [ "${_nofile% *}" != 256 ] ||
	fail "open files soft and hard limits: $_nofile, want the soft one raised to the hard one"
_ns=$(readlink "/proc/$TRACE_PID/ns/net")
[ "$_ns" = "net:[$NETNS]" ] || fail "tcptrail is in $_ns, want the traced net:[$NETNS]"

# logrotate's way: move the file, then SIGHUP makes a new one, unprivileged
mv "$OUT" "$OUT.1"
kill -HUP "$TRACE_PID"
wait_until 5 test -e "$OUT" || fail "no new $OUT 5 s after SIGHUP: $(last_line "$DIR/trace.err")"

: >"$DIR/go"
wait_until 60 not_alive "$DRIVE_PID" || fail "ttdrive active still running after 60 s"
wait "$DRIVE_PID"
_st=$?
DRIVE_PID=
[ "$_st" -eq 0 ] || fail "ttdrive active exited $_st: $(last_line "$DIR/drive.err")"

sleep 0.3
alive "$TRACE_PID" || fail "tcptrail exited before SIGINT: $(last_line "$DIR/trace.err")"
kill -INT "$TRACE_PID"
wait_until 10 not_alive "$TRACE_PID" || fail "tcptrail still running 10 s after SIGINT"
wait "$TRACE_PID"
_st=$?
TRACE_PID=
[ "$_st" -eq 0 ] || fail "tcptrail exited $_st after SIGINT: $(last_line "$DIR/trace.err")"

# rw-r----- from 0640 under any umask: nobody else may write, the world may not read
# shellcheck disable=SC2012 # busybox has ls -l; its find may lack -perm
_mode=$(ls -l "$OUT" | cut -c2-10)
case $_mode in ????-?--?) ;; *) fail "-o file $OUT is $_mode" ;; esac
[ -s "$DIR/metrics.prom" ] || fail "no metrics file written after the drop"
# shellcheck disable=SC2012
_mode=$(ls -l "$DIR/metrics.prom" | cut -c2-10)
case $_mode in ????-??-?) ;; *) fail "metrics file is $_mode" ;; esac

cat "$OUT.1" "$OUT" >"$DIR/all" && mv "$DIR/all" "$OUT"
check_trace
expect_count active 1
expect_count passive 1
# the client closed first: its TIME-WAIT sock is still there, counted by a
# sock_diag dump made inside the namespace with no CAP_SYS_ADMIN left
tw=$(grep '^{"type":"time_wait",' "$OUT" | sed -n '$p')
expect_flow "time_wait report" "$tw" population_source=sock_diag population=1
pass
