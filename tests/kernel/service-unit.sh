#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# user/tcptrail.service as systemd would run it: Type=notify (tcptrail sends
# READY=1: tests/kernel/journal.sh), a usage error not restarted
# (RestartPreventExitStatus=2, and a bad option does exit 2), its ExecStart
# accepted by tcptrail's option parser, and -o suggested only where
# ProtectSystem=strict lets it write (LogsDirectory=), and the --metrics-file
# directory made by user/tcptrail.tmpfiles where missing, an existing one
# left alone; under the unit's capability bounding set, the TIME-WAIT count
# covers another namespace (a container's).  systemd-analyze verify too,
# where systemd is installed.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the unit file is not in the qemu guest"; exit 77; }

UNIT=user/tcptrail.service
[ -r "$UNIT" ] || fail "no $UNIT (run from the top of the tree)"
# key=value settings of [Service], continuation lines joined
settings=$(awk '/^\[/ { sec = $0 } sec == "[Service]" && !/^#/ && NF {
	line = line $0; if (sub(/\\$/, "", line)) next; print line; line = "" }' "$UNIT")
setting() {
	printf '%s\n' "$settings" | sed -n "s/^$1=//p"
}
expect_eq "Type" "$(setting Type)" notify
expect_eq "RestartPreventExitStatus" "$(setting RestartPreventExitStatus)" 2
expect_eq "Restart" "$(setting Restart)" on-failure
expect_eq "LogsDirectory" "$(setting LogsDirectory)" tcptrail
expect_eq "ProtectSystem" "$(setting ProtectSystem)" strict

exec_start=$(setting ExecStart)
case $exec_start in
*--journal*) ;;
*) fail "ExecStart does not send to the journal: $exec_start" ;;
esac
case $exec_start in
*--syslog*) fail "ExecStart sends to syslog and the journal both: $exec_start" ;;
esac

# the options ExecStart gives are accepted (--version: parse, then exit 0);
# the metrics file goes to a directory that exists here
args=$(printf '%s\n' "$exec_start" | sed 's|^@SBINDIR@/tcptrail||; s|/var/lib/prometheus/node-exporter/|'"$DIR"'/|')
# shellcheck disable=SC2086 # a list of options
"$TCPTRAIL" $args --version >"$DIR/version.out" 2>"$DIR/version.err" ||
	fail "ExecStart's options refused: $(last_line "$DIR/version.err")"

# the unit's --metrics-file directory is the one its tmpfiles.d entry makes
# where it is missing (tcptrail refuses a file in a missing directory), and
# ReadWritePaths= opens it under ProtectSystem=strict
mdir=$(printf '%s\n' "$exec_start" | sed -n 's|.*--metrics-file \(/[^ ]*\)/[^/ ]*.*|\1|p')
[ -n "$mdir" ] || fail "no --metrics-file in ExecStart: $exec_start"
TMPF=user/tcptrail.tmpfiles
grep -q "^d $mdir " "$TMPF" || fail "$TMPF makes no $mdir: $(grep -v '^#' "$TMPF")"
expect_eq "ReadWritePaths" "$(setting ReadWritePaths)" "-$mdir"
command -v systemd-tmpfiles >/dev/null ||
	fail "systemd-tmpfiles not found (Debian package systemd; make deps INSTALL=1)"
mkdir "$DIR/troot"
systemd-tmpfiles --root="$DIR/troot" --create "$PWD/$TMPF" >"$DIR/tmpfiles.out" 2>&1 ||
	fail "systemd-tmpfiles --create $TMPF: $(last_line "$DIR/tmpfiles.out")"
[ -d "$DIR/troot$mdir" ] || fail "systemd-tmpfiles --create $TMPF made no $mdir"
# an existing directory (node_exporter's) keeps its owner and mode
mkdir -p "$DIR/troot2$mdir" && chmod 0750 "$DIR/troot2$mdir" && chown 65534 "$DIR/troot2$mdir" ||
	fail "mkdir in $DIR failed"
systemd-tmpfiles --root="$DIR/troot2" --create "$PWD/$TMPF" >"$DIR/tmpfiles.out" 2>&1 ||
	fail "systemd-tmpfiles --create $TMPF: $(last_line "$DIR/tmpfiles.out")"
expect_eq "an existing $mdir after tmpfiles" "$(stat -c '%u %a' "$DIR/troot2$mdir")" "65534 750"

# a usage error exits 2, which the unit does not restart
"$TCPTRAIL" $args -N /etc/passwd --version >/dev/null 2>"$DIR/usage.err"
expect_eq "exit status of a usage error" "$?" 2

# -o suggested only under /var/log/tcptrail, the unit's LogsDirectory
bad=$(grep -n -e '-o /var/log/' README.md user/tcptrail.8 "$UNIT" | grep -v '/var/log/tcptrail/' | sed -n 1p)
[ -z "$bad" ] || fail "an -o that ProtectSystem=strict forbids: $bad"

# Under the unit's capabilities (its bounding set, no new privileges), a
# container's existing TIME-WAIT sockets are counted: the count enters other
# namespaces (setns, CAP_SYS_ADMIN), and the packaged service is for
# container hosts.
bset=$(setting CapabilityBoundingSet | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\1/p' |
	tr 'A-Z' 'a-z' | paste -sd, -)
[ -n "$bset" ] || fail "no CapabilityBoundingSet= in $UNIT"
command -v setpriv >/dev/null || fail "setpriv not found (util-linux; make deps INSTALL=1)"
# 600 toward 127.0.0.1:8000 (half of them): its port pressure must make the
# host's top five, over what other tests' namespaces left for 60 s (ttload's
# 110 a peer in seed-under-load's)
drive_begin "tw-load 1200"
drive_paused tw-load
tw=$(fact ss.time_wait)
setpriv --bounding-set "-all,$bset" --inh-caps=-all --no-new-privs \
	"$TCPTRAIL" --quiet-flows -i 0 -d 2 --metrics-file "$DIR/unit.prom" \
	>"$DIR/unit.out" 2>"$DIR/unit.err" ||
	fail "tcptrail under the unit's capabilities ($bset) exited $?: $(last_line "$DIR/unit.err")"
resume
drive_wait
bad=$(grep -e 'cannot enter' -e 'own from now on' "$DIR/unit.err" | sed -n 1p)
[ -z "$bad" ] || fail "under the unit's capabilities: $bad"
got=$(sed -n 's/^tcptrail_timewait_sockets //p' "$DIR/unit.prom")
[ -n "$got" ] && [ "$got" -ge "$tw" ] ||
	fail "under the unit's capabilities: tcptrail_timewait_sockets '$got', but netns $NETNS alone holds $tw"
# that namespace's own: its clients' ports toward 127.0.0.1:8000
grep -q "^tcptrail_timewait_port_pressure_ratio{addr=\"127.0.0.1\",port=\"8000\",netns=\"$NETNS\"} 0\.[0-9]" \
	"$DIR/unit.prom" || fail "under the unit's capabilities: no port pressure of netns $NETNS:" \
	"$(grep '^tcptrail_timewait_port_pressure_ratio' "$DIR/unit.prom" | tr '\n' ' ')"
note_caps="; under its capabilities the TIME-WAIT count is host-wide ($got, $tw of them and their port pressure in the test's namespace)"

command -v systemd-analyze >/dev/null ||
	fail "systemd-analyze not found (Debian package systemd; make deps INSTALL=1)"
sed "s|@SBINDIR@|$(cd "${TCPTRAIL%/*}" && pwd)|" "$UNIT" >"$DIR/tcptrail.service"
# the man page is not installed here: that one complaint is no fault
systemd-analyze verify "$DIR/tcptrail.service" 2>&1 |
	grep -v -e "man tcptrail(8)" -e "^$" >"$DIR/verify.out"
[ ! -s "$DIR/verify.out" ] || fail "systemd-analyze verify: $(sed -n 1p "$DIR/verify.out")"
note="; systemd-analyze verify clean"
echo "service: Type=notify, RestartPreventExitStatus=2, LogsDirectory=tcptrail, ExecStart parses, tmpfiles.d makes $mdir$note_caps$note"
pass
