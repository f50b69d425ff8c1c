#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Boot other kernels under qemu (Debian's 6.12 and 6.1 cloud kernels by
# default, both at once, one qemu each) and run tcptrail's kernel tests inside
# each, once per attach mode.  See tests/vm/README.md.
#
#   tests/vm/vmtest.sh [--kernel-pkg NAME|FILE.deb] [--keep]
#
# Each result line names its kernel: "ok   6.12/fentry/active".  The last line
# is "vm: N passed, N failed" over all kernels; the exit status is non-zero on
# any failed test, a guest that did not finish (no GUEST-EXIT line), or a
# timeout.

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$ROOT/$OUTPUT ;; esac
VM_CACHE=${VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/tcptrail-vm}
VM_KERNEL_PKG=${VM_KERNEL_PKG:-}
# The kernels booted when no --kernel-pkg is given: meta-packages, each
# followed to its current versioned image.  6.12 comes from bookworm-security
# (Debian 12's own sources.list has it), 6.1 is Debian 12's kernel.  META:A,B
# runs only tests/kernel/A.sh and B.sh on that kernel (the Makefile's short
# list for 6.1), META alone the tests of VM_TESTS (or all).  META@M,N runs
# only attach modes M and N there: the same kernel given twice with other
# modes boots two guests, which share the work (the Makefile's 6.12).
# SUITE/META takes META from another Debian release's suites, SUITE and
# SUITE-security: bullseye/linux-image-cloud-amd64 is Debian 11's 5.10.
VM_KERNELS=${VM_KERNELS:-linux-image-6.12-cloud-amd64 linux-image-cloud-amd64}
VM_KERNEL_META=${VM_KERNEL_META:-}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_MEM=${VM_MEM:-512}
VM_SMP=${VM_SMP:-2}
VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-180}
# inet_diag/tcp_diag: sock_diag seeding of existing sockets; veth: netns pairs;
# tun: connect-fail's network, which the driver answers for.
VM_MODULES=${VM_MODULES-inet_diag tcp_diag veth tun}
VM_TCPTRAIL=${VM_TCPTRAIL:-$OUTPUT/tcptrail-static}
VM_DRIVERS=${VM_DRIVERS:-$OUTPUT/drivers}
VM_BUSYBOX=${VM_BUSYBOX:-/bin/busybox}
ATTACH_MODES=${ATTACH_MODES:-fentry kprobe tp_btf tracepoint}
# 1: boot with threadirqs, so that softirqs never run nested inside a BPF
# program an interrupt landed in (see tests/vm/README.md, "threadirqs").
VM_THREADIRQS=${VM_THREADIRQS:-1}
KEEP=0

die() { echo "vmtest: $*" >&2; exit 2; }

usage() {
	cat <<EOF
usage: tests/vm/vmtest.sh [--kernel-pkg NAME|FILE.deb] [--keep]

  --kernel-pkg NAME   one Debian kernel image package (or its meta-package, or
                      a local .deb) instead of the kernels of VM_KERNELS
  --keep              keep the initramfs tree (its path is printed)

environment: OUTPUT VM_CACHE VM_KERNELS VM_KERNEL_PKG VM_ACCEL(tcg|kvm) VM_MEM VM_SMP
  VM_TIMEOUT VM_TEST_TIMEOUT VM_MODULES VM_TESTS ATTACH_MODES VM_TCPTRAIL
  VM_DRIVERS VM_THREADIRQS(1|0) VM_APPEND
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel-pkg) [ $# -ge 2 ] || die "--kernel-pkg needs a package name"
		      VM_KERNEL_PKG=$2; shift 2 ;;
	--kernel-pkg=*) VM_KERNEL_PKG=${1#*=}; shift ;;
	--keep) KEEP=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

case $ATTACH_MODES in *[!a-z_\ ]*|"") die "bad ATTACH_MODES '$ATTACH_MODES'" ;; esac
case $VM_THREADIRQS in 0|1) ;; *) die "VM_THREADIRQS must be 0 or 1" ;; esac
for n in "$VM_MEM" "$VM_SMP" "$VM_TIMEOUT" "$VM_TEST_TIMEOUT"; do
	case $n in ''|0|*[!0-9]*) die "VM_MEM, VM_SMP, VM_TIMEOUT, VM_TEST_TIMEOUT: not a positive number: '$n'" ;; esac
done

# --- 0. more than one kernel: one qemu each, at once ------------------------

# A guest spends most of its time waiting (for traffic, timeouts, tcptrail's
# intervals): one uses about half a host CPU under TCG, so two guests side by
# side take little longer than one.  Each runs this script for its kernel;
# their output goes to files, and their result lines are printed when all are
# done, then the total.
if [ -z "$VM_KERNEL_PKG" ] && [ -z "$VM_KERNEL_META" ]; then
	set -- $VM_KERNELS
	[ $# -gt 0 ] || die "VM_KERNELS is empty"
	# every spec first: a bad one must not leave the guests before it running
	for spec in "$@"; do
		k=${spec%%:*}
		case $k in *@*)
			modes=${k#*@}
			case ${modes//,/ } in *[!a-z_\ ]*|"") die "bad modes in '$spec' (META@MODE,MODE)" ;; esac ;;
		esac
	done
	mkdir -p "$OUTPUT/vm" "$VM_CACHE" || die "cannot create $OUTPUT/vm or $VM_CACHE"
	# apt's binary cache, (re)built here once rather than by the guests at once
	first=${1%%:*}
	apt-cache -o Dir::Cache::pkgcache="$VM_CACHE/pkgcache.bin" show "${first%%@*}" >/dev/null 2>&1
	pids=
	for spec in "$@"; do
		k=${spec%%:*}
		tests=${VM_TESTS:-}
		case $spec in *:*)
			tests=
			for t in $(echo "${spec#*:}" | tr ',' ' '); do
				tests="$tests $ROOT/tests/kernel/$t.sh"
			done ;;
		esac
		modes=$ATTACH_MODES part=
		case $k in *@*)
			part=${k#*@}
			modes=${part//,/ } ;;
		esac
		VM_KERNEL_META=${k%%@*} VM_PART=$part VM_TESTS=$tests ATTACH_MODES=$modes \
			"$0" $([ "$KEEP" = 1 ] && echo --keep) >"$OUTPUT/vm/run-${k//\//-}.out" 2>&1 &
		pids="$pids $!"
	done
	# stopped (tests/run.sh's bound): the guests' runs stop too
	trap 'kill $pids 2>/dev/null; exit 130' INT TERM
	echo "vmtest: $# kernels at once: $* (output in $OUTPUT/vm/run-*.out)" >&2
	rc=0
	for p in $pids; do wait "$p" || rc=1; done
	tpass=0 tfail=0 tskip=0
	for spec in "$@"; do
		k=${spec%%:*}
		out=$OUTPUT/vm/run-${k//\//-}.out
		grep -E '^(ok   |FAIL |skip )' "$out"
		grep -E '^vmtest: ' "$out" >&2
		line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)
		grep -E '^vm: ' "$out" | grep -v -E '^vm: [0-9]+ passed' | sed "s|^vm: |vm: $k: |"
		if [ -z "$line" ]; then
			echo "vm: $k: no result line (see $out)"
			tfail=$((tfail + 1))
			continue
		fi
		echo "vm $k: ${line#vm: }"
		tpass=$((tpass + $(echo "$line" | sed 's/^vm: \([0-9]*\) passed.*/\1/')))
		tfail=$((tfail + $(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')))
		case $line in *" skipped"*)
			tskip=$((tskip + $(echo "$line" | sed 's/.* \([0-9]*\) skipped.*/\1/'))) ;;
		esac
	done
	[ "$rc" = 0 ] || [ "$tfail" -gt 0 ] || { echo "vm: a guest run failed with no failed test"; tfail=1; }
	echo "vm: $tpass passed, $tfail failed$([ "$tskip" = 0 ] || echo ", $tskip skipped")"
	[ "$tfail" = 0 ]
	exit
fi

# A dynamically linked binary would fail inside the busybox-only guest with a
# bare "not found", so refuse it here with a message that says why.
require_static() {
	[ -x "$1" ] || die "$2 $1: missing or not executable${3:+ ($3)}"
	if ldd "$1" 2>/dev/null | grep -q '=>'; then
		die "$2 $1 is dynamically linked; the guest has no libc"
	fi
}

# --- 1. the kernel ----------------------------------------------------------

# Debian's container images turn apt's binary cache off, which makes every
# apt-cache call parse all package lists (a second each); keep one of our own.
# apt rebuilds it by itself when the lists change.
APT_OPTS=(-o Dir::Cache::pkgcache="$VM_CACHE/pkgcache.bin")
apt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

# SUITE/META: apt set up in the cache for SUITE and SUITE-security alone, from
# the Debian mirrors the host's apt already uses (its index targets for its
# own release), and Debian's archive keyring, which holds the older
# releases' keys too.  The lists are fetched once a day.
suite_apt() {
	local suite=$1 dir=$VM_CACHE/apt-$1 host
	host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$host" ] || die "cannot tell this host's Debian release (/etc/os-release) for $suite"
	case $suite in *[!a-z]*) die "bad suite '$suite' (SUITE/META, e.g. bullseye/linux-image-cloud-amd64)" ;; esac
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" || die "cannot create $dir"
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null | sort -u |
		while read -r uri rel; do
			case $rel in
			"$host") echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" ;;
			"$host-security") echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite-security main" ;;
			esac
		done > "$dir/sources.list.new"
	[ -s "$dir/sources.list.new" ] ||
		die "no Debian mirror for $host in this host's apt sources to take $suite from"
	mv "$dir/sources.list.new" "$dir/sources.list"
	APT_OPTS=(-o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=-
		  -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache"
		  -o APT::Sandbox::User=root)
	if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
		echo "vmtest: fetching the package lists of $suite" >&2
		apt-get "${APT_OPTS[@]}" -q update >&2 ||
			echo "vmtest: apt-get update for $suite failed; using the lists there are" >&2
	fi
}

# The image package a name stands for: a meta-package (linux-image-cloud-amd64)
# depends on the versioned one, which has an -unsigned twin holding the same
# kernel without the Secure Boot signature; qemu boots either.
resolve_pkg() {
	local pkg=$1 dep
	for _ in 1 2 3; do
		dep=$(apt_cache depends "$pkg" 2>/dev/null |
		      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
		[ -n "$dep" ] || break
		pkg=$dep
	done
	apt_cache show "$pkg" >/dev/null 2>&1 || return 1
	case $pkg in *-unsigned) ;; *)
		apt_cache show "$pkg-unsigned" >/dev/null 2>&1 && pkg=$pkg-unsigned ;;
	esac
	echo "$pkg"
}

fetch_kernel() {
	local pkg=$1 dir=$2 tmp deb
	mkdir -p "$VM_CACHE" || die "cannot create cache $VM_CACHE"
	tmp=$(mktemp -d "$VM_CACHE/.fetch.XXXXXX") || die "mktemp in $VM_CACHE failed"
	if [ -f "$pkg" ]; then
		deb=$pkg
	else
		echo "vmtest: downloading $pkg" >&2
		# As root, apt hands downloads to the _apt user, which cannot
		# write here; downloading as root is fine for a file we only unpack.
		# An -unsigned image can be listed and yet not be in the pool
		# (bullseye-security): the signed one holds the same kernel.
		(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${APT_OPTS[@]}" "$pkg" ||
		 { case $pkg in *-unsigned)
			apt-get download -q -o APT::Sandbox::User=root "${APT_OPTS[@]}" "${pkg%-unsigned}" ;;
		   *) false ;; esac; }) >&2 ||
			{ rm -rf "$tmp"; die "apt-get download $pkg failed (run apt-get update?)"; }
		deb=$(ls "$tmp"/*.deb)
	fi
	# Unpacked next to the cache, never installed: /boot stays untouched.
	dpkg -x "$deb" "$tmp/root" || { rm -rf "$tmp"; die "dpkg -x $deb failed"; }
	rm -f "$tmp"/*.deb
	rm -rf "$tmp/root/usr/share"
	ls "$tmp"/root/boot/vmlinuz-* >/dev/null 2>&1 ||
		{ rm -rf "$tmp"; die "$pkg has no /boot/vmlinuz-*: not a kernel image package?"; }
	chmod 755 "$tmp"
	rm -rf "$dir" && mv "$tmp" "$dir" || die "cannot move kernel into $dir"
}

# Two guests of one kernel start at once: one fetches, the other waits for it.
mkdir -p "$VM_CACHE" || die "cannot create cache $VM_CACHE"
exec 9>>"$VM_CACHE/.fetch.lock" || die "cannot open $VM_CACHE/.fetch.lock"
flock 9 || die "cannot lock $VM_CACHE/.fetch.lock"
if [ -n "$VM_KERNEL_PKG" ] && [ -f "$VM_KERNEL_PKG" ]; then
	PKG=$(readlink -f "$VM_KERNEL_PKG")
	KDIR=$VM_CACHE/$(basename "$PKG" .deb)
	[ -d "$KDIR/root/boot" ] || fetch_kernel "$PKG" "$KDIR"
else
	want=${VM_KERNEL_PKG:-$VM_KERNEL_META}
	case $want in */*)
		suite_apt "${want%%/*}"
		want=${want#*/} ;;
	esac
	# the package used most recently for this meta-package
	LAST=$VM_CACHE/last.${VM_KERNEL_META//\//-}
	mkdir -p "$VM_CACHE" || die "cannot create cache $VM_CACHE"
	if PKG=$(resolve_pkg "$want"); then
		:
	elif [ -z "$VM_KERNEL_PKG" ] && [ -f "$LAST" ]; then
		# No package lists (apt-get update not run): reuse what we have.
		PKG=$(cat "$LAST")
		echo "vmtest: cannot resolve $want, using cached $PKG" >&2
	else
		die "no package $want (run apt-get update; see apt-cache search linux-image-)"
	fi
	KDIR=$VM_CACHE/$PKG
	[ -d "$KDIR/root/boot" ] || fetch_kernel "$PKG" "$KDIR"
	[ -n "$VM_KERNEL_PKG" ] || echo "$PKG" > "$LAST"
fi
exec 9>&-	# and the lock with it
VMLINUZ=$(ls "$KDIR"/root/boot/vmlinuz-* | head -n1)
KREL=${VMLINUZ##*/vmlinuz-}
MODDIR=$KDIR/root/lib/modules/$KREL
# results are named by the kernel's version: "6.12/fentry/active"
KLABEL=$(echo "$KREL" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$KLABEL" ] || KLABEL=$KREL

# --- 2. the initramfs -------------------------------------------------------

require_static "$VM_BUSYBOX" busybox "apt-get install busybox-static"
require_static "$VM_TCPTRAIL" tcptrail "make $OUTPUT/tcptrail-static"

if [ -n "${VM_TESTS:-}" ]; then
	TESTS=$VM_TESTS
else
	# Every tests/kernel/*.sh is a test, except shared helpers sourced by them.
	TESTS=
	for t in "$ROOT"/tests/kernel/*.sh; do
		[ -f "$t" ] || continue
		case ${t##*/} in lib*.sh|common*.sh|_*) continue ;; esac
		TESTS="$TESTS $t"
	done
fi
set -- $TESTS
[ $# -gt 0 ] || die "no kernel tests (tests/kernel/*.sh, or VM_TESTS)"
NTESTS=$#
set -- $ATTACH_MODES
NMODES=$#

mkdir -p "$OUTPUT/vm" || die "cannot create $OUTPUT/vm"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcptrail-vm.XXXXXX") || die "mktemp failed"
cleanup() {
	if [ "$KEEP" = 1 ]; then echo "vmtest: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,root} \
	 "$R"/tt/{bin,drivers,kernel,modules} || die "mkdir in $WORK failed"
cp "$VM_BUSYBOX" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list-full); do
	[ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
cp "$VM_TCPTRAIL" "$R/tt/bin/tcptrail"
# libbpf resolves __kconfig externs (CONFIG_HZ) from /boot/config-$(uname -r),
# as on any Debian system; this kernel has no /proc/config.gz.
mkdir -p "$R/boot" && cp "$KDIR/root/boot/config-$KREL" "$R/boot/" ||
	die "no config-$KREL in $KDIR/root/boot"

if [ -d "$VM_DRIVERS" ]; then
	for d in "$VM_DRIVERS"/*; do
		[ -f "$d" ] || continue
		case $d in *.d) continue ;; esac	# the compiler's header dependencies
		require_static "$d" driver
		cp "$d" "$R/tt/drivers/"
	done
fi
# Helpers next to the tests come along, so a test can source them.
[ -d "$ROOT/tests/kernel" ] && cp -r "$ROOT/tests/kernel/." "$R/tt/kernel/"
list=
for t in $TESTS; do
	[ -f "$t" ] || die "no test $t"
	cp "$t" "$R/tt/kernel/"
	list="$list ${t##*/}"
done

# Modules in load order (dependencies first); .modinfo's depends= names them.
# busybox insmod takes only plain .ko files, and kernels from 6.12 on ship .ko.xz.
mods=
add_module() {
	local m=${1//-/_} f dep out=$R/tt/modules/${1//-/_}.ko
	case " $mods " in *" $m "*) return 0 ;; esac
	f=$(find "$MODDIR/kernel" \( -name "$m.ko*" -o -name "${m//_/-}.ko*" \) -print -quit 2>/dev/null)
	if [ -z "$f" ]; then
		grep -q "/$m\.ko" "$MODDIR/modules.builtin" 2>/dev/null && return 0
		die "module $m not in $MODDIR (VM_MODULES)"
	fi
	case $f in
	*.ko) cp "$f" "$out" ;;
	*.ko.xz) "$VM_BUSYBOX" unxz -c "$f" > "$out" ;;
	*.ko.gz) gzip -dc "$f" > "$out" ;;
	*.ko.zst) zstd -qdc "$f" > "$out" ;;
	*) false ;;
	esac || die "cannot unpack module $f"
	for dep in $(tr '\0' '\n' < "$out" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep"
	done
	mods="$mods $m"
}
for m in $VM_MODULES; do add_module "$m"; done

cp "$HERE/init" "$R/init"
cp "$HERE/guest-run.sh" "$R/tt/guest-run.sh"
chmod 755 "$R/init" "$R/tt/guest-run.sh" "$R"/tt/kernel/*.sh
cat > "$R/tt/config" <<EOF
ATTACH_MODES='$ATTACH_MODES'
TESTS='${list# }'
MODULES='${mods# }'
TEST_TIMEOUT=$VM_TEST_TIMEOUT
KLABEL='$KLABEL'
EOF

INITRD=$WORK/initrd.cpio.gz
# busybox's cpio writes newc, the format the kernel unpacks; -R 0:0 because the
# guest's files belong to root whoever built them.
(cd "$R" && find . | "$R/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) \
	> "$INITRD" || die "building the initramfs failed"

# --- 3. boot ----------------------------------------------------------------

case $VM_ACCEL in
kvm) ACCEL=(-accel kvm -cpu host) ;;
# One host thread for all vCPUs (round-robin): with a thread per vCPU, a 6.12
# guest on a busy host once died of "Oops: int3" in
# syscall_exit_to_user_mode_prepare, a breakpoint of the kernel's own code
# patching (text_poke_bp) still seen by the other vCPU after it was gone:
# multi-threaded TCG and code that modifies itself across CPUs.  A guest waits
# more than it computes, so one thread costs little; the guest keeps 2 CPUs.
tcg) ACCEL=(-accel tcg,thread=single) ;;
*) die "VM_ACCEL must be tcg or kvm" ;;
esac

# Softirqs pending when an interrupt ends run right there, nested inside
# whatever the interrupt hit.  If that was a kprobe or tracepoint BPF program,
# the kernel skips every kprobe and tracepoint program the softirq triggers
# (one per CPU at a time: bpf_prog_active), silently on 6.1; in the guest that
# loses a few percent of the transitions of a 1000-connection run, at random.
# threadirqs hands those softirqs to ksoftirqd instead.
IRQ_APPEND=
[ "$VM_THREADIRQS" = 1 ] && IRQ_APPEND="threadirqs "

LOG=$OUTPUT/vm/console-$KREL${VM_PART:+@$VM_PART}.log
QEMU=(qemu-system-x86_64 "${ACCEL[@]}" -m "$VM_MEM" -smp "$VM_SMP"
      -nodefaults -no-user-config -display none -serial stdio -no-reboot
      -kernel "$VMLINUZ" -initrd "$INITRD"
      -append "console=ttyS0 quiet panic=-1 ${IRQ_APPEND}${VM_APPEND:-}")

{
	echo "# tcptrail vmtest $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# kernel package: $PKG"
	echo "# tcptrail: $VM_TCPTRAIL"
	echo "# ${QEMU[*]}"
} > "$LOG"
echo "vmtest: booting $KREL ($VM_ACCEL, ${VM_MEM}M, $VM_SMP cpu), log $LOG" >&2

start=$(date +%s)
# The guest's tty turns \n into \r\n; the log keeps plain lines.  qemu stays
# in our process group (--foreground), which tests/run.sh stops as one.
timeout --foreground -k 10 "$VM_TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 | sed -u 's/\r$//' | tee -a "$LOG"
st=("${PIPESTATUS[@]}")
qrc=${st[0]}
secs=$(( $(date +%s) - start ))
echo "# qemu exit $qrc after ${secs}s" >> "$LOG"

# --- 4. judge by what the guest printed -------------------------------------

# qemu exits 0 on any guest poweroff, so only the guest's own lines count.
pass=$(grep -c '^ok   ' "$LOG")
fail=$(grep -c '^FAIL ' "$LOG")
skip=$(grep -c '^skip ' "$LOG")
grc=$(sed -n 's/^GUEST-EXIT rc=\([0-9][0-9]*\)$/\1/p' "$LOG" | tail -n1)
expect=$((NTESTS * NMODES))
reason=
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	reason="timed out after ${VM_TIMEOUT}s (VM_TIMEOUT)"
elif [ "$qrc" != 0 ]; then
	reason="qemu exited $qrc"
elif [ -z "$grc" ]; then
	reason="guest did not print GUEST-EXIT (panic or crash? see the log)"
elif [ $((pass + fail + skip)) != "$expect" ]; then
	reason="expected $expect results ($NTESTS tests x $NMODES modes), got $((pass + fail + skip))"
elif [ "$grc" != 0 ] && [ "$fail" = 0 ]; then
	reason="guest exited rc=$grc"
fi
echo >&2
echo "vmtest: $KREL in ${secs}s, log $LOG" >&2
if [ -n "$reason" ]; then
	echo "vm: $reason" | tee -a "$LOG"
	fail=$((fail + 1))
fi
tail=
[ "$skip" != 0 ] && tail=", $skip skipped"
echo "vm: $pass passed, $fail failed$tail" | tee -a "$LOG"
[ "$fail" = 0 ]
