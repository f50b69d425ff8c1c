#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The Debian package: `dpkg-buildpackage -us -uc -b` in a copy of the tree
# (it writes to the parent directory, so the worktree stays clean; the
# build runs the unit tests), lintian finds no error in the .deb or the
# .changes, and `dpkg -i` installs it on this host: /usr/sbin/tcptrail runs
# --version and --probe, systemd-analyze verify accepts the unit, and the
# man page, unit, bash completion, alert rules, dashboard and examples are
# where the README says.  The package's tmpfiles.d entry makes the unit's
# --metrics-file directory at install where it is missing (a host without
# prometheus-node-exporter), and the installed binary writes a metrics file
# there.  Then
# `dpkg --purge` takes it all away again (and the directory, if this test
# made it), with the metrics file the unit writes and its /var/log/tcptrail.  The maintainer scripts
# do what the README says of an upgrade and a removal: an upgrade restarts a
# running tcptrail, a removal stops it first, and an install starts nothing
# that is not enabled.  A tcptrail package already
# installed here is left alone: the test fails instead.  Host only.
# A whole build, beside the guests of the vm tier (tests/run.sh):
# test-timeout: 300
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no dpkg-buildpackage"; exit 77; }

for c in dpkg-buildpackage dh lintian systemd-analyze; do
	command -v "$c" >/dev/null 2>&1 ||
		fail "$c not found (Debian packages dpkg-dev, debhelper, lintian, systemd; make deps INSTALL=1)"
done
if dpkg-query -W -f '${Status}' tcptrail 2>/dev/null | grep -q 'installed$'; then
	fail "a tcptrail package is installed already; not replacing it (dpkg --purge tcptrail)"
fi
INSTALLED=
# the unit's --metrics-file directory: made by the package where missing
MDIR=/var/lib/prometheus/node-exporter
[ -e "$MDIR/tcptrail.prom" ] &&
	fail "$MDIR/tcptrail.prom exists (a tcptrail runs here?); not letting dpkg --purge remove it"
# the unit's LogsDirectory=: a purge removes it
LOGDIR=/var/log/tcptrail
[ -e "$LOGDIR" ] && fail "$LOGDIR exists (a tcptrail ran here?); not letting dpkg --purge remove it"
MDIR_MADE=
[ -d "$MDIR" ] || MDIR_MADE=1
[ -d "${MDIR%/*}" ] || MDIR_MADE=2
PROM_MADE=
LOGDIR_MADE=
purge() {
	[ -n "$INSTALLED" ] && dpkg --purge tcptrail >"$DIR/purge.out" 2>&1
	INSTALLED=
	# the test's own tcptrail.prom, if a failure left it (the purge removes it)
	[ -n "$PROM_MADE" ] && rm -f "$MDIR/tcptrail.prom"
	PROM_MADE=
	[ -n "$LOGDIR_MADE" ] && rm -rf "$LOGDIR"
	LOGDIR_MADE=
	# what this test made, if nothing has been put in it since
	[ -n "$MDIR_MADE" ] && rmdir "$MDIR" 2>/dev/null
	[ "$MDIR_MADE" = 2 ] && rmdir "${MDIR%/*}" 2>/dev/null
	MDIR_MADE=
}
trap 'purge; cleanup' EXIT

# the tree as a fresh checkout has it: no build output
mkdir "$DIR/src" || fail "mkdir failed"
tar -cf - --exclude=./.git --exclude=./.output --exclude=./.output-san --exclude=./tcptrail \
	--exclude='./debian/tcptrail' --exclude='./debian/.debhelper' . | tar -xf - -C "$DIR/src" ||
	fail "copying the tree failed"
start=$(date +%s)
# as a package builder would, not as part of `make test SANITIZE=1`
(cd "$DIR/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u OUTPUT -u TCPTRAIL \
	dpkg-buildpackage -us -uc -b -j2) >"$DIR/build.log" 2>&1 ||
	fail "dpkg-buildpackage failed: $(grep -e '^FAIL' -e '^    ' -e 'error:' "$DIR/build.log" |
		head -n 6 | tr '\n' ' ') $(grep -v '^ *$' "$DIR/build.log" | tail -n 3 | tr '\n' ' ')"
echo "package: built in $(($(date +%s) - start)) s"
grep -q '^unit: [1-9][0-9]* passed, 0 failed' "$DIR/build.log" ||
	fail "the build ran no unit tests, or they failed: $(grep '^unit:' "$DIR/build.log")"
deb=$(ls "$DIR"/tcptrail_*_*.deb 2>/dev/null | sed -n 1p)
changes=$(ls "$DIR"/tcptrail_*_*.changes 2>/dev/null | sed -n 1p)
[ -f "$deb" ] && [ -f "$changes" ] || fail "no .deb and .changes in $DIR: $(ls "$DIR")"

# the maintainer scripts (dh_installsystemd's, with --no-enable only)
dpkg-deb -e "$deb" "$DIR/ctrl" || fail "dpkg-deb -e $deb failed"
grep -q "deb-systemd-invoke stop 'tcptrail.service'" "$DIR/ctrl/prerm" 2>/dev/null ||
	fail "the prerm does not stop tcptrail.service before a removal"
grep -q '_dh_action=restart' "$DIR/ctrl/postinst" &&
	grep -q "deb-systemd-invoke \$_dh_action 'tcptrail.service'" "$DIR/ctrl/postinst" ||
	fail "the postinst does not restart tcptrail.service after an upgrade"
grep -q 'rm -f /var/lib/prometheus/node-exporter/tcptrail.prom' "$DIR/ctrl/postrm" ||
	fail "the postrm leaves the unit's metrics file"

lintian --fail-on error "$changes" "$deb" >"$DIR/lintian.out" 2>&1 ||
	fail "lintian: $(grep '^E:' "$DIR/lintian.out" | sed -n 1,3p | tr '\n' ' ')"
grep '^[EW]:' "$DIR/lintian.out" | sed 's/^/lintian: /'
grep -q '^E:' "$DIR/lintian.out" && fail "lintian reports errors"

# dpkg takes a lock that apt-get elsewhere may hold a while: bounded retries
_install() {
	dpkg -i "$deb" >"$DIR/install.out" 2>&1 && return 0
	grep -q 'lock' "$DIR/install.out" || fail "dpkg -i failed: $(tail -n 2 "$DIR/install.out" | tr '\n' ' ')"
	return 1
}
INSTALLED=1
wait_until 60 _install || fail "dpkg -i: $(tail -n 1 "$DIR/install.out")"

# not enabled (deb-systemd-invoke starts only enabled units: nothing started)
WANTS=/etc/systemd/system/multi-user.target.wants/tcptrail.service
[ ! -e "$WANTS" ] && [ ! -L "$WANTS" ] || fail "dpkg -i enabled tcptrail.service: $WANTS"
/usr/sbin/tcptrail --version >"$DIR/version.out" 2>&1 ||
	fail "/usr/sbin/tcptrail --version failed: $(last_line "$DIR/version.out")"
v=$(sed -n 's/^tcptrail \([^ ]*\)$/\1/p' "$DIR/version.out")
expect_eq "installed version" "$v" "$(dpkg-parsechangelog -l debian/changelog -S Version)"
/usr/sbin/tcptrail --probe >"$DIR/probe.out" 2>&1 ||
	fail "/usr/sbin/tcptrail --probe failed: $(last_line "$DIR/probe.out")"
grep -q 'transitions' "$DIR/probe.out" || fail "--probe said nothing of the transitions hook"
for f in /usr/share/man/man8/tcptrail.8.gz /lib/systemd/system/tcptrail.service \
	/usr/share/bash-completion/completions/tcptrail \
	/usr/share/tcptrail/prometheus/tcptrail-rules.yml \
	/usr/share/tcptrail/grafana/tcptrail-dashboard.json \
	/usr/share/doc/tcptrail/examples/logrotate/tcptrail \
	/usr/share/doc/tcptrail/examples/vector/tcptrail.yaml \
	/usr/share/doc/tcptrail/examples/fluent-bit/tcptrail.yaml \
	/usr/lib/tmpfiles.d/tcptrail.conf \
	/usr/share/doc/tcptrail/copyright; do
	dpkg -L tcptrail | grep -qx "$f" || fail "the package holds no $f"
	[ -s "$f" ] || fail "$f is not installed"
done
grep -q '^ExecStart=/usr/sbin/tcptrail ' /lib/systemd/system/tcptrail.service ||
	fail "the unit does not run /usr/sbin/tcptrail: $(grep ExecStart /lib/systemd/system/tcptrail.service)"
# the postinst applied the tmpfiles.d entry: the unit's metrics directory is there
[ -d "$MDIR" ] || fail "$MDIR is missing after dpkg -i (tmpfiles.d not applied?)"
grep -q -- "--metrics-file $MDIR/" /lib/systemd/system/tcptrail.service ||
	fail "the unit's --metrics-file is not in $MDIR: $(grep -A1 ExecStart /lib/systemd/system/tcptrail.service | tr '\n' ' ')"
# and the installed binary can write its metrics file there (a replay's)
/usr/sbin/tcptrail -r tests/captures/close.ttcap -i 0 --quiet-flows \
	--metrics-file "$MDIR/tcptrail-package-test.prom" >"$DIR/mfile.out" 2>&1 ||
	fail "tcptrail --metrics-file in $MDIR failed: $(last_line "$DIR/mfile.out")"
grep -q '^tcptrail_build_info' "$MDIR/tcptrail-package-test.prom" ||
	fail "no tcptrail_build_info in the metrics file written to $MDIR"
rm -f "$MDIR/tcptrail-package-test.prom"
# the unit's own file, as a run of the service leaves it: dpkg --purge removes it
cp /dev/null "$MDIR/tcptrail.prom" || fail "cannot make $MDIR/tcptrail.prom"
PROM_MADE=1
# and its logs, as a run with the README's -o leaves them: kept by a removal,
# removed by a purge
LOGDIR_MADE=1
mkdir -p "$LOGDIR" && cp /dev/null "$LOGDIR/flows.log" || fail "cannot make $LOGDIR/flows.log"
zcat /usr/share/man/man8/tcptrail.8.gz | grep -q '^\.TH TCPTRAIL' || fail "the man page has no .TH TCPTRAIL"
# the unit as installed: directives systemd knows, a binary that is there
systemd-analyze verify --man=no /lib/systemd/system/tcptrail.service >"$DIR/verify.out" 2>&1 ||
	fail "systemd-analyze verify tcptrail.service: $(sed -n 1,2p "$DIR/verify.out" | tr '\n' ' ')"

# a removal takes the metrics file and keeps the logs; then the purge's own
# work, before the trap's clean-up
dpkg -r tcptrail >"$DIR/remove.out" 2>&1 || fail "dpkg -r failed: $(last_line "$DIR/remove.out")"
[ ! -e "$MDIR/tcptrail.prom" ] || fail "dpkg -r left $MDIR/tcptrail.prom"
[ -e "$LOGDIR/flows.log" ] || fail "dpkg -r removed $LOGDIR/flows.log: logs go only with a purge"
dpkg --purge tcptrail >"$DIR/purge.out" 2>&1 || fail "dpkg --purge failed: $(last_line "$DIR/purge.out")"
INSTALLED=
[ ! -e /usr/sbin/tcptrail ] || fail "dpkg --purge left /usr/sbin/tcptrail"
[ ! -e "$MDIR/tcptrail.prom" ] || fail "dpkg --purge left $MDIR/tcptrail.prom"
PROM_MADE=
[ ! -e "$LOGDIR" ] || fail "dpkg --purge left $LOGDIR"
LOGDIR_MADE=
purge
pass
