#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make bench-locks` (and a section of `make bench`): is any lock or map that
# all CPUs share still on tcptrail's per-transition path?  Root, perf.
#
#	sudo make bench-locks
#	OUTPUT=.output sh tests/bench/locks.sh
#
# Three loopback load runs (tests/bench/ttload, short connections in a
# network namespace of its own), each under `perf record -e cpu-clock -a -g`:
# untraced (U), under tcptrail --json >/dev/null (T, the flow records) and
# under tcptrail -e (E, the per-transition stream as well).  From every
# sample's call chain it prints, as a share of all samples:
#
#   - time spinning or locking: the sample's own function is a spinlock
#     (_raw_spin_lock*, queued_spin_lock_slowpath, _raw_spin_unlock_irqrestore,
#     where the samples of an irq-off critical section land, the resilient
#     res_spin_lock of BPF maps since Linux 6.15, ...), split by the first
#     caller that names who took it: the BPF ring buffer (bpf_ringbuf_*),
#     hash and LRU maps (htab_*, bpf_lru_*), per-CPU freelists
#     (pcpu_freelist_*), socket storage (bpf_local_storage_*, bpf_sk_storage_*),
#     other BPF code, or the kernel's own (no BPF caller);
#   - time in BPF programs and what they call, and in the map code itself;
#   - the BPF call sites that took a lock, program > helper > lock.
#
# What the traced runs add over U is tcptrail's; on a 2-CPU machine a shared
# lock shows as time, not as contention, so look at who takes a lock at all.
# Socket storage takes the socket's own lock and one of its map's buckets'
# (roundup_pow_of_two(possible CPUs) buckets, picked by a pointer hash) when a
# socket's storage is made (bpf_local_storage_alloc, _update) and when the
# socket is freed (bpf_local_storage_destroy): per connection, not per
# transition, and spread over the buckets.
#
# Knobs: LOCKS_SECS (5), LOCKS_PROCS (client and server processes each;
# default: the CPU count), LOCKS_EVENTS (1: the E run; 0: none), LOCKS_FREQ
# (sampling Hz, 999), TCPTRAIL (./tcptrail), LOAD ($OUTPUT/bench/ttload).
# Exit 1 if a run failed.

OUTPUT=${OUTPUT:-.output}
TCPTRAIL=${TCPTRAIL:-./tcptrail}
LOAD=${LOAD:-$OUTPUT/bench/ttload}
SECS=${LOCKS_SECS:-5}
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
PROCS=${LOCKS_PROCS:-$NCPU}
EVENTS=${LOCKS_EVENTS:-1}
FREQ=${LOCKS_FREQ:-999}
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

die() {
	echo "locks: $1" >&2
	exit "${2:-1}"
}

for _k in "LOCKS_SECS=$SECS" "LOCKS_PROCS=$PROCS" "LOCKS_FREQ=$FREQ"; do
	case ${_k#*=} in '' | *[!0-9]* | 0) die "${_k%%=*}: '${_k#*=}' is not a positive whole number" 2 ;; esac
done
[ "$SECS" -le 600 ] || die "LOCKS_SECS: '$SECS' is more than 600" 2
[ "$PROCS" -le 64 ] || die "LOCKS_PROCS: '$PROCS' is more than ttload's 64" 2
case $EVENTS in 0 | 1) ;; *) die "LOCKS_EVENTS: '$EVENTS' is not 0 or 1" 2 ;; esac
[ "$(id -u)" = 0 ] || die "needs root (BPF, perf -a, network namespaces)"
command -v perf >/dev/null 2>&1 || die "no perf (Debian package linux-perf; make deps INSTALL=1)"
[ -x "$TCPTRAIL" ] || die "$TCPTRAIL is not built (make tcptrail)"
[ -x "$LOAD" ] || die "$LOAD is not built (make $LOAD)"

DIR=$(mktemp -d /tmp/ttlocks.XXXXXX) || die "mktemp -d failed"
TR_PID=
cleanup() {
	[ -z "$TR_PID" ] || kill -KILL "$TR_PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
# a rebuild of ./tcptrail meanwhile must not change the program under test
cp "$TCPTRAIL" "$DIR/tcptrail" || die "copy $TCPTRAIL"

alive() {
	kill -0 "$1" 2>/dev/null
}

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

ready() {
	grep -q 'tracing: ' "$DIR/tr.err" || ! alive "$TR_PID"
}

gone() {
	! alive "$TR_PID"
}

# one TAG [tcptrail options]: a load run under perf, untraced if no options
FAIL=0
one() {
	_tag=$1
	shift
	if [ "$#" -gt 0 ]; then
		: >"$DIR/tr.err"
		"$DIR/tcptrail" "$@" >/dev/null 2>"$DIR/tr.err" </dev/null &
		TR_PID=$!
		wait_until 60 ready
		if ! alive "$TR_PID"; then
			echo "locks: tcptrail $* exited at start: $(tail -n 1 "$DIR/tr.err")" >&2
			TR_PID=
			FAIL=1
			return 1
		fi
	fi
	perf record -q -e cpu-clock -F "$FREQ" -a -g -o "$DIR/perf.$_tag" -- \
		"$LOAD" rate -d "$SECS" -w 1 -p "$PROCS" >"$DIR/load.$_tag" 2>"$DIR/load.err" </dev/null ||
		{ echo "locks: perf record or ttload failed: $(tail -n 1 "$DIR/load.err")" >&2; FAIL=1; }
	if [ -n "$TR_PID" ]; then
		kill -INT "$TR_PID"
		wait_until 10 gone || kill -TERM "$TR_PID"
		wait_until 5 gone || kill -KILL "$TR_PID"
		wait "$TR_PID" 2>/dev/null
		TR_PID=
	fi
	[ -s "$DIR/perf.$_tag" ] || return 1
	# the call chains, leaf first, one blank line between samples
	perf script -i "$DIR/perf.$_tag" -F ip,sym 2>/dev/null >"$DIR/script.$_tag" ||
		{ echo "locks: perf script failed" >&2; FAIL=1; return 1; }
	classify "$_tag"
}

# classify TAG: key=count lines in $DIR/class.TAG, call sites in $DIR/sites.TAG
classify() {
	awk -v sites="$DIR/sites.$1" '
	function lockfn(s) { return s ~ /spin_lock|spin_trylock|queued_spin|res_spin|_raw_spin/ }
	function who(s) {
		if (s ~ /ringbuf/) return "ringbuf"
		if (s ~ /local_storage|sk_storage|selem/) return "storage"
		if (s ~ /pcpu_freelist/) return "freelist"
		if (s ~ /^(__)?(htab_|bpf_lru|prealloc_lru|bpf_percpu_lru|bpf_common_lru)/) return "htab"
		if (s ~ /^bpf_prog_|^bpf_|^__bpf_/) return "otherbpf"
		return ""
	}
	function flush(   i, w, prog, site, k) {
		if (!n) return
		total++
		inbpf = 0
		for (i = 1; i <= n; i++) if (f[i] ~ /^bpf_prog_/) { inbpf = 1; prog = f[i]; break }
		if (inbpf) {
			bpf++
			w = who(f[1])
			if (w != "" && w != "otherbpf") mapcode++
		}
		if (lockfn(f[1])) {
			locks++
			w = ""
			for (i = 2; i <= n && w == ""; i++) if (!lockfn(f[i])) { w = who(f[i]); k = i }
			if (w == "") {
				w = "kernel"
				# the first caller that is no lock function names it
				for (i = 2; i <= n; i++) if (!lockfn(f[i])) { kc[f[i]]++; break }
			} else {
				site = (prog != "" ? prog " > " : "") f[k] " > " f[1]
				sub(/^bpf_prog_[0-9a-f]+_/, "", site)
				ss[site]++
			}
			by[w]++
		}
		n = 0
	}
	/^$/ { flush(); next }
	{
		s = $2
		sub(/\+0x[0-9a-f]+$/, "", s)
		f[++n] = s
	}
	END {
		flush()
		printf "total=%d\nlocks=%d\nbpf=%d\nmapcode=%d\n", total, locks, bpf, mapcode
		split("ringbuf htab freelist storage otherbpf kernel", w, " ")
		for (i = 1; i in w; i++) printf "%s=%d\n", w[i], by[w[i]]
		for (s in ss) printf "%d\t%s\n", ss[s], s > sites
		for (s in kc) printf "%d\tkernel: %s\n", kc[s], s > (sites ".kernel")
	}' "$DIR/script.$1" >"$DIR/class.$1"
	kv rate "$DIR/load.$1" | sed 's/^/rate=/' >>"$DIR/class.$1"
}

kv() {
	sed -n "s/^$1=//p" "$2" | sed -n 1p
}

# another tracer makes the untraced run traced, and its programs (the same
# code has the same tag, so the same symbol) count with ours
for _c in /proc/[0-9]*/comm; do
	case $(cat "$_c" 2>/dev/null) in
	tcptrail* | tcpstates*) echo "locks: WARNING: $(cat "$_c") is running (pid $(basename "$(dirname "$_c")")): its BPF programs are in every run's figures" >&2 ;;
	esac
done

TAGS="U T"
one U || FAIL=1
one T --json -i 10 || FAIL=1
if [ "$EVENTS" = 1 ]; then
	TAGS="$TAGS E"
	one E --json -i 10 -e || FAIL=1
fi

# pct TAG KEY: KEY's share of TAG's samples
pct() {
	[ -f "$DIR/class.$1" ] || { echo -; return; }
	awk -F= -v k="$2" '{ v[$1] = $2 } END { printf "%.2f%%", v["total"] ? 100 * v[k] / v["total"] : 0 }' "$DIR/class.$1"
}

line() {
	printf '  %-44s' "$1"
	for _t in $TAGS; do
		printf ' %12s' "$(if [ "$2" = raw ]; then kv "$3" "$DIR/class.$_t" 2>/dev/null; else pct "$_t" "$3"; fi)"
	done
	echo
}

echo "Locks and maps on the per-transition path: perf -e cpu-clock -F $FREQ -a -g, $PROCS+$PROCS load processes, $SECS s per run"
printf '  %-44s' ""
for _t in $TAGS; do
	case $_t in U) _h=untraced ;; T) _h=tcptrail ;; E) _h="tcptrail -e" ;; esac
	printf ' %12s' "$_h"
done
echo
line "conn/s (under perf)" raw rate
line "samples" raw total
line "spinlock time (share of all samples)" pct locks
line "  under the BPF ring buffer" pct ringbuf
line "  under BPF hash and LRU maps" pct htab
line "  under BPF per-CPU freelists" pct freelist
line "  under BPF socket storage (create, free)" pct storage
line "  under other BPF code" pct otherbpf
line "  the kernel's own (no BPF caller)" pct kernel
line "in BPF programs and what they call" pct bpf
line "  of which in map and ring-buffer code" pct mapcode
for _t in $TAGS; do
	[ "$_t" != U ] || continue
	if [ -s "$DIR/sites.$_t" ]; then
		echo "  $_t: BPF call sites that took a lock (samples; program > caller > lock):"
		sort -rn "$DIR/sites.$_t" | head -n 8 | awk -F'\t' '{ printf "    %6d  %s\n", $1, $2 }'
	elif [ -f "$DIR/class.$_t" ]; then
		echo "  $_t: no BPF call site took a lock in $(kv total "$DIR/class.$_t") samples"
	fi
done
if [ -s "$DIR/sites.T.kernel" ]; then
	echo "  T: the kernel's own lock takers, top 5 (samples):"
	sort -rn "$DIR/sites.T.kernel" | head -n 5 | awk -F'\t' '{ printf "    %6d  %s\n", $1, $2 }'
fi
exit "$FAIL"
