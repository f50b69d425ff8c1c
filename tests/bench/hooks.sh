#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make bench-hooks`: tests/bench/hookcost.sh in the qemu guests, once per
# kernel and attach mode, so that the hooks this machine cannot load (fentry,
# kprobes) are measured too.  Prints each run's table under its kernel and
# mode.  Under TCG (no /dev/kvm, as on the CI machine) the nanoseconds are
# emulated: compare programs and modes with each other.  VM_ACCEL=kvm, where
# the host has KVM, makes them real.
#
# Knobs: HOOKS_KERNELS (Debian 12's 6.12 and 6.1, Debian 11's 5.10), HOOKS_MODES
# (fentry kprobe tp_btf tracepoint), HOOKS_SECS and HOOKS_ROUNDS (passed to
# the guest), VM_ACCEL, OUTPUT.  Exit: 0 when every run printed its table, 1
# otherwise.

set -u
OUTPUT=${OUTPUT:-.output}
KERNELS=${HOOKS_KERNELS:-linux-image-6.12-cloud-amd64 linux-image-cloud-amd64 bullseye/linux-image-cloud-amd64}
MODES=${HOOKS_MODES:-fentry kprobe tp_btf tracepoint}
STAGE=$OUTPUT/bench/guest		# the guest's tools: static binaries only
SCRIPT=$OUTPUT/bench/hookcost/hookcost.sh

die() {
	echo "bench-hooks: $*" >&2
	exit 1
}

for _b in "$OUTPUT/tcptrail-static" "$OUTPUT/bench/ttload" "$OUTPUT/bench/progstat"; do
	[ -x "$_b" ] || die "$_b is not built (make bench-hooks builds it)"
done
# the guest's tools: vmtest copies every file of VM_DRIVERS
rm -rf "$STAGE" "${SCRIPT%/*}" && mkdir -p "$STAGE" "${SCRIPT%/*}" || die "cannot make $STAGE"
cp "$OUTPUT/bench/ttload" "$OUTPUT/bench/progstat" "$STAGE/" || die "cannot stage the tools"
case ${HOOKS_SECS:-4}/${HOOKS_ROUNDS:-2} in
*[!0-9/]* | /* | */) die "HOOKS_SECS and HOOKS_ROUNDS must be positive integers" ;;
esac
# the guest gets no environment of ours: the knobs ride in the script
{
	echo '#!/bin/sh'
	echo "HOOKS_SECS=${HOOKS_SECS:-4} HOOKS_ROUNDS=${HOOKS_ROUNDS:-2}"
	tail -n +2 tests/bench/hookcost.sh
} >"$SCRIPT" || die "cannot stage hookcost.sh"

echo "bench-hooks: $KERNELS; modes $MODES; ${VM_ACCEL:-tcg}"
OUTPUT=$OUTPUT VM_DRIVERS=$STAGE VM_TESTS=$SCRIPT VM_KERNELS=$KERNELS \
	ATTACH_MODES=$MODES VM_ACCEL=${VM_ACCEL:-tcg} VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-900} \
	tests/vm/vmtest.sh >"$OUTPUT/bench/hooks.log" 2>&1
st=$?
# each run's table, from this run's guest consoles: the lines under
# "--- KERNEL/MODE/hookcost"
for _log in $(find "$OUTPUT/vm" -name 'console-*.log' -newer "$SCRIPT" | sort); do
	awk '
		/^--- [^ ]*\/hookcost$/ { m = $2; sub(/\/hookcost$/, "", m); on = 1; print ""; print m; next }
		on && /^    \[exit/ { on = 0; next }
		on { sub(/^    /, ""); print }' "$_log"
done
grep '^vm: ' "$OUTPUT/bench/hooks.log" || tail -n 5 "$OUTPUT/bench/hooks.log"
[ "$st" = 0 ] || die "a guest run failed (exit $st): $OUTPUT/bench/hooks.log and $OUTPUT/vm/ say why"
