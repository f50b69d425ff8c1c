#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make bench`: tcptrail's overhead, throughput and memory, side by side with
# libbpf-tools' tcpstates.  Root; about 7 minutes on 2 cores.
#
#	OUTPUT=.output tests/bench/bench.sh
#
# Connection rate: tests/bench/ttload makes short loopback connections (the
# client closes first) in a network namespace of its own, as fast as it can,
# untraced and under each tracer in turn: U T U W U E U S U T ... so every
# traced run sits between two untraced ones and is divided by their mean;
# the row is the median of those ratios.  The tracers trace everything (no
# --netns), as they would in production; nothing else on the host makes TCP
# traffic, so what they see is ttload's.
#
#	U  untraced
#	T  tcptrail --json -i 10 -v > /dev/null	(full aggregation)
#	W  tcptrail --json -i 10 -v -w FILE > /dev/null	(if this tcptrail has --write)
#	E  tcptrail --json -i 10 -v -e > /dev/null	(the per-transition stream too)
#	S  tcpstates > /dev/null			(if libbpf-tools is installed)
#	F  tcptrail --json -i 10 -v > FILE on tmpfs	(only if BENCH_VARIANTS asks)
#
# -v makes tcptrail count at exit the ring-buffer records it read ("records
# by hook: ..."): records per connection.  The daemon's CPU (utime + stime)
# over every connection it saw gives its cost per connection.
#
# A run is noisy when other work took more than BENCH_NOISE percent (10) of
# the CPUs while it ran, or another tracer was loaded (then "untraced" is
# not): a ratio is taken from quiet triples (U X U) only, unless fewer than
# two are quiet, when all count and the row says "noisy".
#
# Then bpf_stats runs (kernel.bpf_stats_enabled=1 only for those, restored on
# exit) for ns per program run, the flow engine alone at 1M flows
# (flowmem), seeding from 100k sockets if this tcptrail seeds, and host-wide
# seeding and census of BENCH_NS namespaces (tests/bench/netns.sh).
#
# Then, unless BENCH_LOCKS=0, tests/bench/locks.sh: perf's share of spinlock
# and map-lock time in an untraced, a T and an E run, and who took them.
#
# Prints the table of issue 16 (conn/s ratios, BPF ns per transition, records
# and daemon CPU per connection, lost; target, pass/MISS; -e and tcpstates
# side by side), then every figure (value, target, pass/MISS, reference) and writes
# JSON to $BENCH_JSON (default $OUTPUT/bench.json); the previous file is kept
# as $BENCH_JSON.prev and the changes are listed.  Exits 1 if a target is
# missed or a run failed, 0 otherwise.
#
# Knobs: BENCH_SECS (5, measured seconds per run), BENCH_WARMUP (1),
# BENCH_ROUNDS (4), BENCH_PROCS (client and server processes each; default:
# the best of 1 2 4 8 in a quick calibration), BENCH_VARIANTS ("T W E S"; F
# too if named), BENCH_SEED_SOCKETS (100000), BENCH_NS (100) and
# BENCH_NS_SOCKETS (1000 each), BENCH_LOCKS (1: the locks section; 0: none),
# BENCH_PROFILE (1: when a tcptrail target is missed, profile one untraced
# and one traced run with perf and print where the CPU goes; 0: don't),
# TCPSTATES (path), INSTALL=1 (apt-get install libbpf-tools if it is missing).

OUTPUT=${OUTPUT:-.output}
TCPTRAIL=${TCPTRAIL:-./tcptrail}
LOAD=${LOAD:-$OUTPUT/bench/ttload}
FLOWMEM=${FLOWMEM:-$OUTPUT/bench/flowmem}
BPFTOOL=${BPFTOOL:-bpftool}
BENCH_SECS=${BENCH_SECS:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_ROUNDS=${BENCH_ROUNDS:-4}
BENCH_PROCS=${BENCH_PROCS:-}
BENCH_SEED_SOCKETS=${BENCH_SEED_SOCKETS:-100000}
BENCH_NS=${BENCH_NS:-100}
BENCH_NS_SOCKETS=${BENCH_NS_SOCKETS:-1000}
BENCH_PROFILE=${BENCH_PROFILE:-1}
BENCH_NOISE=${BENCH_NOISE:-10}
BENCH_VARIANTS=${BENCH_VARIANTS:-}
BENCH_LOCKS=${BENCH_LOCKS:-1}
BENCH_JSON=${BENCH_JSON:-$OUTPUT/bench.json}
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (BPF, network namespaces, sysctls)"
[ -x "$TCPTRAIL" ] || die "$TCPTRAIL is not built (make tcptrail)"
[ -x "$LOAD" ] || die "$LOAD is not built (make bench builds it)"
[ -x "$FLOWMEM" ] || die "$FLOWMEM is not built (make bench builds it)"
command -v "$BPFTOOL" >/dev/null 2>&1 || die "no $BPFTOOL (apt-get install bpftool)"

DIR=$(mktemp -d /tmp/ttbench.XXXXXX) || die "mktemp -d failed"
# tmpfs for the F runs' JSON, so writing it costs memory copies, not a disk
SHM=$(mktemp -d /dev/shm/ttbench.XXXXXX 2>/dev/null) || SHM=$DIR
RUNS=$DIR/runs			# one line per connection-rate run
STATS=$DIR/progstats		# variant prog run_time_ns run_cnt, bpf_stats runs
ROWS=$DIR/rows			# the table, one figure per line, tab-separated
: >"$RUNS"
: >"$STATS"
: >"$ROWS"
TR_PID=
LOAD_PID=
HOLD_PID=
STATS_OLD=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)
FAILED=0

# Stops only what this script started, puts bpf_stats back as it was.
cleanup() {
	for _p in $TR_PID $LOAD_PID $HOLD_PID; do
		kill -KILL "$_p" 2>/dev/null
	done
	[ -z "$STATS_OLD" ] || echo "$STATS_OLD" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$DIR"
	[ "$SHM" = "$DIR" ] || rm -rf "$SHM"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# A private copy: a rebuild of ./tcptrail during the bench (another make in
# the same tree) must not change the program half-way through.
cp "$TCPTRAIL" "$DIR/tcptrail" || die "copy $TCPTRAIL"
TCPTRAIL_SRC=$TCPTRAIL
TCPTRAIL=$DIR/tcptrail
# `make SANITIZE=1` links its build to the same ./tcptrail
SANITIZED=false
if grep -aq '__asan_init\|__ubsan_handle' "$TCPTRAIL" 2>/dev/null; then
	SANITIZED=true
	echo "bench: WARNING: $TCPTRAIL_SRC is a sanitizer build (SANITIZE=1): its CPU and memory figures are not tcptrail's" >&2
fi

# ---- helpers ---------------------------------------------------------------

now_ms() {
	_t=$(date +%s%N)
	echo $((_t / 1000000))
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# kv KEY FILE: the value of the first KEY=value line.
kv() {
	sed -n "s/^$1=//p" "$2" | sed -n 1p
}

# calc EXPR: awk arithmetic, printed with %.6g unless a format follows.
calc() {
	awk "BEGIN { printf \"${2:-%.6g}\", $1 }"
}

# median: of the numbers on stdin, one per line; empty for none.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR) printf "%.6g", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu_s PID: user+system seconds of PID so far; after the ")" of the comm,
# utime and stime are fields 12 and 13.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_s() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
		awk -v hz="$CLK_TCK" '{ printf "%.3f", ($12 + $13) / hz }'
}

status_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# bpf_ids PID prog|map: the BPF objects PID holds, from its fdinfo.
bpf_ids() {
	cat "/proc/$1/fdinfo/"* 2>/dev/null | awk -v k="$2_id:" '$1 == k { print $2 }' | sort -u
}

# prog_stats PID: "name run_time_ns run_cnt" for each program PID holds.
prog_stats() {
	for _id in $(bpf_ids "$1" prog); do
		"$BPFTOOL" prog show id "$_id" -j 2>/dev/null | awk '{
			name = $0; sub(/.*"name":"/, "", name); sub(/".*/, "", name)
			rt = 0; if (match($0, /"run_time_ns":[0-9]+/)) rt = substr($0, RSTART + 14, RLENGTH - 14)
			rc = 0; if (match($0, /"run_cnt":[0-9]+/)) rc = substr($0, RSTART + 10, RLENGTH - 10)
			print name, rt, rc }'
	done
}

# lost_map PID: the sum of tcptrail's per-CPU "lost" map, the same counter
# its summaries report as "lost" (live__lost()); empty if there is none.
lost_map() {
	for _id in $(bpf_ids "$1" map); do
		"$BPFTOOL" map show id "$_id" -j 2>/dev/null | grep -q '"name":"lost"' || continue
		"$BPFTOOL" map dump id "$_id" -j 2>/dev/null |
			grep -o '"cpu":[0-9]*,"value":[0-9]*' |
			awk -F: '{ s += $3 } END { print s + 0 }'
		return
	done
}

# wait_for SECS COMMAND...: retries every 20 ms; false if it never succeeds.
wait_for() {
	_n=$(($1 * 50))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.02
		_n=$((_n - 1))
	done
	"$@"
}

has_link() {
	for _f in "/proc/$1/fd/"*; do
		case $(readlink "$_f" 2>/dev/null) in
		*bpf_link* | *perf_event*) return 0 ;;
		esac
	done
	return 1
}

tcptrail_ready() {
	grep -q 'tracing: ' "$DIR/tracer.err" 2>/dev/null || ! alive "$TR_PID"
}

seed_said() {
	grep -qi 'seed' "$DIR/tracer.err" 2>/dev/null || ! alive "$TR_PID"
}

tcpstates_ready() {
	has_link "$TR_PID" || ! alive "$TR_PID"
}

NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)

# other_ticks: CPU ticks used so far by every process that is not ours (not
# this script or a descendant) and not a kernel thread.  Children's time
# counts (cutime, cstime), so work that starts and ends between two calls
# still shows, in whoever reaped it.
other_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v me="$$" '
		{
			r = $0; sub(/.*\) /, "", r); split(r, f, " ")
			pp[$1] = f[2]; t[$1] = f[12] + f[13] + f[14] + f[15]
		}
		END {
			for (p in t) {
				if (p == 2 || pp[p] == 2) continue
				q = p
				for (d = 0; d < 64 && q > 1 && q != me; d++) q = pp[q]
				if (q != me) s += t[p]
			}
			print s + 0
		}'
}

# Tracers not ours: another tcptrail or tcpstates, or any BPF program
# named like a set_state hook that our tracer ($TR_PID) does not hold.
# Prints how many; they make an "untraced" run traced.
foreign_tracers() {
	_mine=$( [ -z "$TR_PID" ] || bpf_ids "$TR_PID" prog)
	{
		pgrep -x tcptrail
		pgrep -x tcpstates
		"$BPFTOOL" prog show 2>/dev/null |
			awk '/^[0-9]+:/ && / name [^ ]*set_sta/ { sub(/:.*/, ""); print "prog" $1 }'
	} | awk -v me="$TR_PID" -v mine="$(echo "$_mine" | tr '\n' ' ')" '
		BEGIN { n = split(mine, m, " "); for (i = 1; i <= n; i++) own["prog" m[i]] = 1 }
		$1 != me && !($1 in own) { c++ } END { print c + 0 }'
}

# Host CPU busy percentage over SECS, from /proc/stat.
busy_pct() {
	_a=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
	sleep "$1"
	_b=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
	echo "$_a $_b" | awk '{ t = $3 - $1; i = $4 - $2; printf "%.0f", (t > 0 ? 100 * (t - i) / t : 0) }'
}

# ---- what this tcptrail and this host have ---------------------------------

"$TCPTRAIL" --help >"$DIR/help" 2>&1
# --help output, or for a tcptrail whose --help prints nothing, whether an
# option parses: "--OPT ARG --version" exits 0 only if --OPT is known.
has_opt() {
	grep -q -- "--$1\b" "$DIR/help" ||
		"$TCPTRAIL" "--$1" ${2:+"$2"} --version >/dev/null 2>&1
}

HAS_WRITE=0
has_opt write "$DIR/probe.ttcap" && HAS_WRITE=1
rm -f "$DIR/probe.ttcap"

SEED_OPT=
HAS_SEED=0
if grep -q -- '--no-seed' "$DIR/help" || has_opt no-seed; then
	HAS_SEED=1
elif grep -q -- '--seed\b' "$DIR/help" || has_opt seed; then
	HAS_SEED=1
	SEED_OPT=--seed
fi

if [ -z "$TCPSTATES" ]; then
	for _c in tcpstates bpf-tcpstates /usr/sbin/tcpstates /usr/sbin/bpf-tcpstates; do
		if command -v "$_c" >/dev/null 2>&1; then
			TCPSTATES=$(command -v "$_c")
			break
		fi
	done
fi
if [ -z "$TCPSTATES" ] && [ "$INSTALL" = 1 ]; then
	echo "bench: installing libbpf-tools for tcpstates" >&2
	apt-get install -y libbpf-tools >/dev/null 2>&1
	[ -x /usr/sbin/tcpstates ] && TCPSTATES=/usr/sbin/tcpstates
fi

HAS_EVENTS=0
has_opt events && HAS_EVENTS=1

# the variants asked for, less those this host or this tcptrail cannot run
if [ -z "$BENCH_VARIANTS" ]; then
	BENCH_VARIANTS="T W E S"
fi
VARIANTS=
for _v in $BENCH_VARIANTS; do
	case $_v in
	T | F) ;;
	W) [ "$HAS_WRITE" = 1 ] || { echo "bench: this tcptrail has no --write: no W runs" >&2; continue; } ;;
	E) [ "$HAS_EVENTS" = 1 ] || { echo "bench: this tcptrail has no --events: no E runs" >&2; continue; } ;;
	S) [ -n "$TCPSTATES" ] || { echo "bench: no tcpstates (INSTALL=1 make bench, or apt-get install libbpf-tools): no S runs" >&2; continue; } ;;
	*) die "BENCH_VARIANTS: '$_v' is not one of T W E S F" ;;
	esac
	VARIANTS="$VARIANTS $_v"
done
VARIANTS=${VARIANTS# }
case " $VARIANTS " in *" T "*) ;; *) VARIANTS="T${VARIANTS:+ $VARIANTS}" ;; esac

for _n in tcptrail tcpstates; do
	_o=$(pgrep -x "$_n" | tr '\n' ' ')
	[ -z "$_o" ] || echo "bench: WARNING: $_n already running (pid $_o): 'untraced' runs will be traced by it" >&2
done
BUSY=$(busy_pct 1)
if [ "$BUSY" -gt 10 ]; then
	echo "bench: WARNING: the host is ${BUSY}% busy before the bench starts; figures will be" \
	     "noisy. Busiest: $(ps -eo pcpu=,comm= --sort=-pcpu | head -3 | awk '{ printf "%s (%s%%) ", $2, $1 }')" >&2
fi

# bpf_stats adds two clock reads to every program run: off for the rate runs
echo 0 >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null

# ---- one run ---------------------------------------------------------------

# start_tracer VARIANT: starts it, waits until it traces; sets TR_PID and
# TR_START_MS (ms from exec to tracing).  False, with a message, on failure.
start_tracer() {
	: >"$DIR/tracer.err"
	_t0=$(now_ms)
	case $1 in
	T)
		"$TCPTRAIL" --json -i 10 -v >/dev/null 2>"$DIR/tracer.err" </dev/null &
		;;
	W)
		"$TCPTRAIL" --json -i 10 -v -w "$DIR/cap.ttcap" >/dev/null 2>"$DIR/tracer.err" </dev/null &
		;;
	E)
		"$TCPTRAIL" --json -i 10 -v -e >/dev/null 2>"$DIR/tracer.err" </dev/null &
		;;
	F)
		"$TCPTRAIL" --json -i 10 -v >"$SHM/out.json" 2>"$DIR/tracer.err" </dev/null &
		;;
	S)
		# libbpf-tools attaches by tracepoint id, which it reads from tracefs:
		# mount it in a private mount namespace if the host has not
		# shellcheck disable=SC2016  # $0 is for the inner shell
		unshare -m --propagation private sh -c '
			[ -d /sys/kernel/tracing/events ] ||
				mount -t tracefs tracefs /sys/kernel/tracing || exit 1
			exec "$0"' "$TCPSTATES" >/dev/null 2>"$DIR/tracer.err" </dev/null &
		;;
	esac
	TR_PID=$!
	if [ "$1" = S ]; then
		wait_for 30 tcpstates_ready
		sleep 0.2
	else
		wait_for 30 tcptrail_ready
	fi
	TR_START_MS=$(($(now_ms) - _t0))
	if ! alive "$TR_PID"; then
		echo "bench: $1 tracer exited at start: $(tail -n 1 "$DIR/tracer.err")" >&2
		wait "$TR_PID" 2>/dev/null
		TR_PID=
		return 1
	fi
	return 0
}

# Stops the tracer, and any child of it that would outlive it (a child
# holding the tracer's BPF fds keeps its programs attached: every later
# "untraced" run would be traced).
stop_tracer() {
	_kids=$(pgrep -P "$TR_PID" 2>/dev/null | tr '\n' ' ')
	kill -INT "$TR_PID" 2>/dev/null
	# the first tcptrail start tells whether it seeds by default
	[ -f "$DIR/first.err" ] || cp "$DIR/tracer.err" "$DIR/first.err"
	wait_for 10 sh -c "! kill -0 $TR_PID 2>/dev/null"
	kill -TERM "$TR_PID" 2>/dev/null
	wait_for 5 sh -c "! kill -0 $TR_PID 2>/dev/null"
	kill -KILL "$TR_PID" 2>/dev/null
	wait "$TR_PID" 2>/dev/null
	for _k in $_kids; do
		alive "$_k" || continue
		echo "bench: WARNING: the tracer left its child $_k running after it exited: killed it" >&2
		kill -KILL "$_k" 2>/dev/null
	done
	TR_PID=
}

# load SECS WARMUP PROCS: one ttload run; its key=value lines in $DIR/load.
load() {
	"$LOAD" rate -d "$1" -w "$2" -p "$3" >"$DIR/load" 2>"$DIR/load.err" </dev/null &
	LOAD_PID=$!
	wait "$LOAD_PID"
	_st=$?
	LOAD_PID=
	if [ "$_st" != 0 ] || [ -z "$(kv rate "$DIR/load")" ]; then
		echo "bench: ttload failed: $(tail -n 1 "$DIR/load.err")" >&2
		return 1
	fi
	_e=$(kv errors "$DIR/load")
	_o=$(kv listen_overflows "$DIR/load")
	[ "$_e" = 0 ] || echo "bench: WARNING: $_e connection errors ($(kv first_error "$DIR/load"))" >&2
	[ "$_o" = 0 ] || echo "bench: WARNING: $_o accept queue overflows: the rate includes SYN retries" >&2
	return 0
}

SEQ=0
# run VARIANT [stats]: one connection-rate run; appends to $RUNS:
#   seq variant rate total_conns lost daemon_cpu_s hwm_kb startup_ms transitions
#   other_cpu_pct other_tracers records	("-" where a field does not apply)
# total_conns counts the warm-up's as well: the tracer saw those too.
# records: the ring-buffer records the daemon read, from its -v line at exit
# ("records by hook: tp_btf_set_state=N ..."), all hooks and kinds added up.
# With "stats", also appends the programs' counters to $STATS, and the run
# is filed as variant Ts (Ws, Es, Ss): bpf_stats slows it, so no ratio,
# CPU or loss figure counts it.
run() {
	SEQ=$((SEQ + 1))
	_v=$1
	_lost=- _cpu=- _hwm=- _start=- _tr=- _rec=-
	if [ "$_v" != U ]; then
		start_tracer "$_v" || { FAILED=1; return 1; }
		_start=$TR_START_MS
		_c0=$(cpu_s "$TR_PID")
		# the thread that reads the ring buffer alone: -w compresses on others
		_m0=$(cpu_s "$TR_PID/task/$TR_PID")
	fi
	_ft=$(foreign_tracers)
	_k0=$(other_ticks)
	_w0=$(now_ms)
	if ! load "$BENCH_SECS" "$BENCH_WARMUP" "$PROCS"; then
		FAILED=1
		[ -z "$TR_PID" ] || stop_tracer
		return 1
	fi
	_k1=$(other_ticks)
	_w1=$(now_ms)
	_ft=$((_ft + $(foreign_tracers)))
	# other work's share of all CPUs while ttload ran: it makes the run noisy
	_fg=$(awk -v k=$((_k1 - _k0)) -v hz="$CLK_TCK" -v w=$((_w1 - _w0)) -v n="$NCPU" \
		'BEGIN { f = k / hz; if (f < 0) f = 0; printf "%.0f", 100 * f / (n * w / 1000) }')
	if [ "$_v" != U ]; then
		# tcptrail polls every 50 ms: let it drain what is queued
		sleep 0.3
		_c1=$(cpu_s "$TR_PID")
		_cpu=$(calc "$_c1 - $_c0" %.3f)
		_mcpu=$(calc "$(cpu_s "$TR_PID/task/$TR_PID") - $_m0" %.3f)
		_nthr=$(ls "/proc/$TR_PID/task" 2>/dev/null | wc -l)
		_hwm=$(status_kb "$TR_PID" VmHWM)
		[ "$_v" = S ] || _lost=$(lost_map "$TR_PID")
		[ "$2" = stats ] && prog_stats "$TR_PID" | sed "s/^/$_v /" >>"$STATS"
		stop_tracer
		if [ "$_v" != S ]; then
			# its own count at exit, where the map could not be read
			_l2=$(sed -n 's/.*warning: \([0-9]*\) events were lost.*/\1/p' "$DIR/tracer.err" | tail -n 1)
			[ -n "$_lost" ] || _lost=${_l2:-0}
			[ -z "$_l2" ] || [ "$_l2" -le "$_lost" ] || _lost=$_l2
			_rec=$(sed -n 's/.*records by hook:\(.*\)/\1/p' "$DIR/tracer.err" | tail -n 1 |
				tr ' ' '\n' | awk -F= '$2 ~ /^[0-9]+$/ { s += $2; n++ } END { print n ? s : "-" }')
		fi
		if [ "$_v" = F ]; then
			# the final summary's lost, and every summary's transitions
			_sum=$(grep '"type":"summary"' "$SHM/out.json" | grep '"final":true' | tail -n 1)
			_lost=$(echo "$_sum" | sed -n 's/.*"lost":\([0-9]*\).*/\1/p')
			_tr=$(grep '"type":"summary"' "$SHM/out.json" |
				sed 's/.*"transitions":{\([^}]*\)}.*/\1/' | tr ',' '\n' |
				awk -F: '{ s += $2 } END { print s + 0 }')
			[ -n "$_lost" ] || { echo "bench: F run: no final summary" >&2; _lost=-; FAILED=1; }
			rm -f "$SHM/out.json"
		fi
		if [ "$_v" = W ]; then
			_wsz=0
			[ ! -f "$DIR/cap.ttcap" ] || _wsz=$(wc -c <"$DIR/cap.ttcap")
			# size, reading thread's CPU s, connections, lost, threads
			echo "$SEQ $_wsz $_mcpu $(kv total "$DIR/load") $_lost $_nthr" >>"$DIR/capsizes"
			rm -f "$DIR/cap.ttcap" "$DIR/cap.ttcap".*
		fi
	fi
	[ "$2" != stats ] || _v=${_v}s
	echo "$SEQ $_v $(kv rate "$DIR/load") $(kv total "$DIR/load") $_lost $_cpu $_hwm $_start $_tr $_fg $_ft $_rec" >>"$RUNS"
	printf '  %-2s %8s conn/s  other CPU %3s%%%s%s\n' "$_v" "$(kv rate "$DIR/load")" "$_fg" \
		"$([ "$_ft" = 0 ] || echo "  OTHER TRACER RUNNING")" \
		"$([ "$_v" = U ] || echo "  (tracer: ${_start} ms to start, ${_cpu} s CPU, lost ${_lost}, records ${_rec})")" >&2
	# a netns going away frees its TIME-WAIT sockets in a kworker: not in the next run
	sleep 0.5
	return 0
}

# ---- calibration: how many processes give the most connections -------------

if [ -z "$BENCH_PROCS" ]; then
	_best=0
	for _p in 1 2 4 8; do
		load 2 1 "$_p" || die "calibration run failed"
		_r=$(kv rate "$DIR/load")
		echo "  calibration: $_p+$_p processes: $_r conn/s" >&2
		if [ "$_r" -gt "$_best" ]; then
			_best=$_r
			BENCH_PROCS=$_p
		fi
		sleep 0.5
	done
fi
PROCS=$BENCH_PROCS
echo "bench: $PROCS client + $PROCS server processes, ${BENCH_SECS} s per run after ${BENCH_WARMUP} s warm-up, $BENCH_ROUNDS rounds of U $(echo "$VARIANTS" | sed 's/ / U /g')" >&2

# ---- connection rate, alternating ------------------------------------------

run U
_r=1
while [ "$_r" -le "$BENCH_ROUNDS" ]; do
	for _v in $VARIANTS; do
		run "$_v"
		run U
	done
	_r=$((_r + 1))
done

# ---- BPF cost per program run ----------------------------------------------

echo 1 >/proc/sys/kernel/bpf_stats_enabled || echo "bench: cannot enable kernel.bpf_stats_enabled" >&2
echo "bench: bpf_stats runs (kernel.bpf_stats_enabled=1)" >&2
for _i in 1 2; do
	run T stats
	case " $VARIANTS " in *" E "*) run E stats ;; esac
	case " $VARIANTS " in *" S "*) run S stats ;; esac
done
echo 0 >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null

# ---- the flow engine at 1M flows -------------------------------------------

"$FLOWMEM" -n 1048576 >"$DIR/flowmem" 2>"$DIR/flowmem.err" ||
	{ echo "bench: flowmem failed: $(tail -n 1 "$DIR/flowmem.err")" >&2; FAILED=1; }

# ---- seeding from 100k sockets ---------------------------------------------

SEED_S=
SEED_INFO=
# A tcptrail that seeds by default says so on its first start.
if [ "$HAS_SEED" = 0 ] && grep -Eqi 'seed(ed|ing)?:? .*[0-9]+ (sockets?|flows?)|seeded [0-9]' \
	"$DIR"/first.err 2>/dev/null; then
	HAS_SEED=1
fi
if [ "$HAS_SEED" = 1 ]; then
	echo "bench: seeding: holding $BENCH_SEED_SOCKETS sockets in a namespace" >&2
	: >"$DIR/hold"
	"$LOAD" hold -n "$BENCH_SEED_SOCKETS" -t 300 >"$DIR/hold" 2>"$DIR/hold.err" </dev/null &
	HOLD_PID=$!
	if wait_for 120 sh -c "grep -q '^ready' '$DIR/hold' || ! kill -0 $HOLD_PID 2>/dev/null" &&
	   grep -q '^ready' "$DIR/hold"; then
		# --netns: tcptrail seeds the namespace it is told to trace
		_t0=$(now_ms)
		# -v: the line saying how many sockets were seeded and how long it took
		"$TCPTRAIL" --json -i 0 -v --netns "/proc/$HOLD_PID/ns/net" $SEED_OPT \
			>/dev/null 2>"$DIR/tracer.err" </dev/null &
		TR_PID=$!
		wait_for 60 tcptrail_ready
		# seeding may come after the "tracing" line: then time to its line
		wait_for 10 seed_said
		_ms=$(($(now_ms) - _t0))
		stop_tracer
		_line=$(grep -i 'seed' "$DIR/tracer.err" | head -n 1)
		_n=$(echo "$_line" | sed -n 's/[^0-9]*\([0-9][0-9]*\).*/\1/p')
		# tcptrail's own timing, if it gives one: the sum of the durations
		# on its line ("dump and records 8.6 ms, /proc 13.6 ms", "in 0.41 s")
		_own=$(echo "$_line" | tr ',;()' '    ' | awk '{
			for (i = 2; i <= NF; i++) {
				if ($i == "ms" && $(i - 1) ~ /^[0-9.]+$/) { t += $(i - 1) / 1000; n++ }
				if ($i == "s" && $(i - 1) ~ /^[0-9.]+$/) { t += $(i - 1); n++ }
			}
		} END { if (n) printf "%.3f", t }')
		_base=$(awk '$2 == "T" && $8 != "-" { print $8 }' "$RUNS" | median)
		if [ -n "$_own" ]; then
			SEED_S=$_own
			SEED_INFO="tcptrail's own timing (${_line##*: }); ${_n:-?} seeded; start to its line ${_ms} ms, unseeded start ${_base:-?} ms"
		else
			SEED_S=$(calc "($_ms - ${_base:-0}) / 1000" %.3f)
			SEED_INFO="start to its line ${_ms} ms minus ${_base:-0} ms unseeded start; ${_n:-?} seeded"
		fi
		[ -n "$_line" ] || SEED_INFO="$SEED_INFO (no line about seeding)"
		[ "${_n:-0}" -ge $((BENCH_SEED_SOCKETS * 9 / 10)) ] 2>/dev/null ||
			SEED_INFO="$SEED_INFO; WARNING: fewer than 90% of the sockets seeded"
	else
		echo "bench: ttload hold failed: $(tail -n 1 "$DIR/hold.err")" >&2
		FAILED=1
	fi
	kill -TERM "$HOLD_PID" 2>/dev/null
	wait_for 30 sh -c "! kill -0 $HOLD_PID 2>/dev/null"
	kill -KILL "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
fi

# ---- every network namespace: seeding them, and a summary's census ----------

echo "bench: namespaces: $BENCH_NS of $BENCH_NS_SOCKETS sockets each" >&2
if ! OUTPUT=$OUTPUT TCPTRAIL=$TCPTRAIL LOAD=$LOAD BENCH_NS=$BENCH_NS \
	BENCH_NS_SOCKETS=$BENCH_NS_SOCKETS sh "${0%/*}/netns.sh" >"$DIR/netns" 2>"$DIR/netns.err"; then
	echo "bench: namespaces: $(tail -n 1 "$DIR/netns.err")" >&2
	FAILED=1
fi

# ---- figures ---------------------------------------------------------------

# ratios VARIANT: each run's rate over the mean of the untraced runs on
# either side of it, one per line.
# With "quiet", only those whose three runs were all quiet.
ratios() {
	awk -v v="$1" -v quiet="$2" -v lim="$BENCH_NOISE" '
		{ seq[NR] = $2; rate[NR] = $3; ok[NR] = $10 <= lim && $11 == 0 }
		END {
			for (i = 1; i <= NR; i++) {
				if (seq[i] != v || (quiet && !ok[i])) continue
				a = b = ""
				for (j = i - 1; j >= 1 && a == ""; j--) if (seq[j] == "U") { a = rate[j]; qa = ok[j] }
				for (j = i + 1; j <= NR && b == ""; j++) if (seq[j] == "U") { b = rate[j]; qb = ok[j] }
				if (a == "" && b == "") continue
				if (quiet && ((a != "" && !qa) || (b != "" && !qb))) continue
				u = a == "" ? b : b == "" ? a : (a + b) / 2
				printf "%.4f\n", rate[i] / u
			}
		}' "$RUNS"
}

# ratio VARIANT: the median ratio, from quiet triples if two or more are;
# sets NOTE_<VARIANT> to say which.
ratio() {
	_q=$(ratios "$1" quiet | wc -l)
	_a=$(ratios "$1" | wc -l)
	if [ "$_q" -ge 2 ]; then
		eval "NOTE_$1=\"$_q of $_a quiet\""
		ratios "$1" quiet | median
	else
		[ "$_a" = 0 ] || eval "NOTE_$1=\"noisy: $_q of $_a quiet\""
		ratios "$1" | median
	fi
}

# row KEY LABEL VALUE UNIT TARGET_OP TARGET REFERENCE: one figure; TARGET_OP
# is ">=", "<=", "==" or "-" for none.
row() {
	_res=-
	if [ "$5" != - ] && [ -n "$3" ] && [ "$3" != n/a ]; then
		_res=$(awk -v v="$3" -v t="$6" -v op="$5" 'BEGIN {
			ok = op == ">=" ? v >= t : op == "<=" ? v <= t : v == t
			print ok ? "pass" : "MISS" }')
	elif [ "$5" != - ]; then
		_res=n/a
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${3:-n/a}" "$4" "$5" "$6" "$_res" "$7" >>"$ROWS"
}

fmt_rate() {
	awk -v r="$1" 'BEGIN { printf "%.0f", r }'
}

U_RATE=$(awk '$2 == "U" { print $3 }' "$RUNS" | median)
U_NOISY=$(awk -v lim="$BENCH_NOISE" '$10 > lim || $11 > 0 { n++ } END { print n + 0 }' "$RUNS")
N_RUNS=$(wc -l <"$RUNS")
U_RANGE=$(awk '$2 == "U" { if (!n++ || $3 < lo) lo = $3; if ($3 > hi) hi = $3 } END { print lo "-" hi }' "$RUNS")
row conn_rate_untraced "conn/s untraced" "$(fmt_rate "$U_RATE")" "conn/s" - - \
	"$PROCS+$PROCS procs, median of $(awk '$2 == "U"' "$RUNS" | wc -l) runs, range $U_RANGE; $U_NOISY of $N_RUNS runs noisy"

# round VALUE FORMAT: empty stays empty
round() {
	[ -z "$1" ] || calc "$1" "$2"
}

NOTE_T='' NOTE_S='' NOTE_W='' NOTE_F='' NOTE_E=''
# in the current shell, not a subshell: ratio sets NOTE_*
ratio T >"$DIR/r" && R_T=$(round "$(cat "$DIR/r")" %.3f)
ratio S >"$DIR/r" && R_S=$(round "$(cat "$DIR/r")" %.3f)
ratio W >"$DIR/r" && R_W=$(round "$(cat "$DIR/r")" %.3f)
ratio F >"$DIR/r" && R_F=$(round "$(cat "$DIR/r")" %.3f)
ratio E >"$DIR/r" && R_E=$(round "$(cat "$DIR/r")" %.3f)
has_v() {
	case " $VARIANTS " in *" $1 "*) return 0 ;; esac
	return 1
}
row conn_ratio_tcptrail "conn/s tcptrail --json >/dev/null / untraced" "$R_T" "" ">=" 0.95 \
	"${NOTE_T:+$NOTE_T; }-e: ${R_E:-n/a}; tcpstates: ${R_S:-n/a}"
if has_v W; then
	_csz=$(awk '{ print $2 }' "$DIR/capsizes" 2>/dev/null | median)
	row conn_ratio_tcptrail_write "conn/s tcptrail -w FILE / untraced" "$R_W" "" ">=" 0.93 \
		"${NOTE_W:+$NOTE_W; }capture $(calc "${_csz:-0} / 1048576" %.0f) MB per run, on $(df -P "$DIR" | awk 'NR == 2 { print $1 }')"
else
	row conn_ratio_tcptrail_write "conn/s tcptrail -w FILE / untraced" "" "" ">=" 0.93 \
		"no W runs (BENCH_VARIANTS, or this tcptrail has no --write)"
fi
has_v E && row conn_ratio_tcptrail_events "conn/s tcptrail -e >/dev/null / untraced" "$R_E" "" - - \
	"${NOTE_E:+$NOTE_E; }the per-transition stream as well"
has_v F && row conn_ratio_tcptrail_file "conn/s tcptrail --json >tmpfs file / untraced" "$R_F" "" - - \
	"${NOTE_F:+$NOTE_F; }JSON kept, not discarded"
if has_v S; then
	row conn_ratio_tcpstates "conn/s tcpstates >/dev/null / untraced" "$R_S" "" - - \
		"${NOTE_S:+$NOTE_S; }$TCPSTATES"
else
	row conn_ratio_tcpstates "conn/s tcpstates / untraced" "" "" - - \
		"not run (INSTALL=1 make bench, or apt-get install libbpf-tools)"
fi

# per program: variant name total_run_time total_run_cnt
awk '{ rt[$1 " " $2] += $3; rc[$1 " " $2] += $4 }
	END { for (k in rt) print k, rt[k], rc[k] }' "$STATS" | sort >"$DIR/progs"
# transitions: the transitions program runs once per transition (its second
# copy, set_state_nest, where the kernel has it, and sock_ops run for them
# as well: their time is the transitions' too).  tcpstates' one program runs
# once per transition too.
tr_cnt() {
	awk -v v="$1" '$1 == v && $2 ~ /set_sta/ && $2 !~ /nest/ { print $4 }' "$DIR/progs" | head -n 1
}
# bpf_ns VARIANT [all]: ns per transition, set_state and sock_ops programs,
# or all of them
bpf_ns() {
	awk -v v="$1" -v all="$2" -v n="$(tr_cnt "$1")" '$1 == v && (all || $2 ~ /set_sta|sockops/) { s += $3 }
		END { if (n > 0) printf "%.0f", s / n }' "$DIR/progs"
}
TR_CNT=$(tr_cnt T)
BPF_T=$(bpf_ns T)
BPF_ALL=$(bpf_ns T all)
BPF_E=$(bpf_ns E all)
BPF_S=$(awk '$1 == "S" { rt += $3; rc += $4 } END { if (rc > 0) printf "%.0f", rt / rc }' "$DIR/progs")
# transitions per connection: the program's runs over the connections made
# in the bpf_stats runs (both ends: 10 for ttload's)
STATS_CONNS=$(awk '$2 == "Ts" { s += $4 } END { print s + 0 }' "$RUNS")
TPC=$(awk -v n="${TR_CNT:-0}" -v c="$STATS_CONNS" 'BEGIN { if (n > 0 && c > 0) printf "%.2f", n / c }')
row bpf_ns_transition_all "BPF ns per transition, all tcptrail programs" "$BPF_ALL" ns "<=" 150 \
	"set_state and sock_ops alone: ${BPF_T:-n/a} ns; ${TPC:-n/a} transitions/conn; -e: ${BPF_E:-n/a} ns; tcpstates: ${BPF_S:-n/a} ns"
row bpf_ns_transition "BPF ns per transition (set_state, sock_ops progs)" "$BPF_T" ns - - \
	"the transitions' own programs"
has_v E && row bpf_ns_transition_events "BPF ns per transition, all programs, -e" "$BPF_E" ns - - \
	"the per-transition stream as well"
has_v S && row bpf_ns_tcpstates "BPF ns per transition (tcpstates)" "$BPF_S" ns - - "$TCPSTATES"

# max_lost VARIANT: the most events one run of VARIANT lost; empty if none ran
max_lost() {
	awk -v v="$1" '$2 == v && $5 != "-" { if ($5 > m) m = $5; n++ } END { if (n) print m + 0 }' "$RUNS"
}
LOST=$(max_lost T)
LOST_W=$(max_lost W)
LOST_F=$(max_lost F)
LOST_E=$(max_lost E)
row lost "lost events at full rate, --json >/dev/null" "$LOST" "" "==" 0 \
	"max of runs, kernel lost map; -w: ${LOST_W:-n/a}; -e: ${LOST_E:-n/a}${LOST_F:+; JSON to file: $LOST_F}"
has_v W && row lost_write "lost events at full rate, -w FILE" "$LOST_W" "" - - "max of runs"
has_v E && row lost_events "lost events at full rate, -e" "$LOST_E" "" - - "max of runs"

# records per connection: what the daemon read over the connections made
# (warm-up included: the tracer saw those too); tcpstates sends one per
# transition: its program's runs
rec_per_conn() {
	awk -v v="$1" '$2 == v && $12 != "-" && $12 != "" && $4 > 0 { printf "%.4f\n", $12 / $4 }' "$RUNS" | median
}
RPC=$(round "$(rec_per_conn T)" %.2f)
RPC_W=$(round "$(rec_per_conn W)" %.2f)
RPC_E=$(round "$(rec_per_conn E)" %.2f)
_sc=$(awk '$2 == "Ss" { s += $4 } END { print s + 0 }' "$RUNS")
RPC_S=$(awk -v n="$(awk '$1 == "S" { s += $4 } END { print s + 0 }' "$DIR/progs")" -v c="$_sc" \
	'BEGIN { if (n > 0 && c > 0) printf "%.2f", n / c }')
row records_per_conn "records per connection (both ends)" "$RPC" "" "<=" 4 \
	"ring-buffer records the daemon read (its -v count at exit); -w: ${RPC_W:-n/a}; -e: ${RPC_E:-n/a}; tcpstates: ${RPC_S:-n/a}"
has_v E && row records_per_conn_events "records per connection, -e" "$RPC_E" "" - - "the per-transition stream"
has_v S && row records_per_conn_tcpstates "records per connection (tcpstates)" "$RPC_S" "" - - "one per transition"

# daemon CPU per connection, over the runs that lost nothing (a run that
# lost records did not process them): user+system time from the tracer's
# start to the end of the load, over every connection it saw
cpu_per_conn() {
	awk -v v="$1" '$2 == v && $6 != "-" && ($5 == 0 || $5 == "-") && $4 > 0 {
		printf "%.4f\n", $6 * 1e6 / $4 }' "$RUNS" | median
}
# and per record read
cpu_per_rec() {
	awk -v v="$1" '$2 == v && $6 != "-" && $5 == 0 && $12 > 0 {
		printf "%.4f\n", $6 * 1e6 / $12 }' "$RUNS" | median
}
CPU_C=$(round "$(cpu_per_conn T)" %.2f)
CPU_C_W=$(round "$(cpu_per_conn W)" %.2f)
CPU_C_E=$(round "$(cpu_per_conn E)" %.2f)
CPU_C_F=$(round "$(cpu_per_conn F)" %.2f)
CPU_C_S=$(round "$(cpu_per_conn S)" %.2f)
CPU_R=$(round "$(cpu_per_rec T)" %.3f)
row daemon_cpu_us_per_conn "daemon CPU per connection (--json >/dev/null)" "$CPU_C" us "<=" 0.6 \
	"runs without loss; ${CPU_R:-n/a} us per record; -w: ${CPU_C_W:-n/a} us; -e: ${CPU_C_E:-n/a} us; tcpstates: ${CPU_C_S:-n/a} us${CPU_C_F:+; JSON to file: $CPU_C_F us}"
has_v W && row daemon_cpu_us_per_conn_write "daemon CPU per connection, -w FILE" "$CPU_C_W" us - - "runs without loss"
if has_v W; then
	# what one reading thread can keep up with: its CPU alone, the compression aside
	CPU_M_W=$(awk '$3 != "" && $4 > 0 && ($5 == 0 || $5 == "-") { printf "%.4f\n", $3 * 1e6 / $4 }' \
		"$DIR/capsizes" | median)
	row daemon_reader_us_per_conn_write "-w: the reading thread's CPU per connection" \
		"$(round "$CPU_M_W" %.2f)" us - - \
		"the rest on compression threads ($(awk '{ print $6 }' "$DIR/capsizes" | sort -n | tail -n 1) threads in all)${CPU_M_W:+; one reader keeps up to $(calc "1e6 / $CPU_M_W" %.0f) conn/s}"
fi
has_v E && row daemon_cpu_us_per_conn_events "daemon CPU per connection, -e" "$CPU_C_E" us - - "runs without loss"
has_v S && row daemon_cpu_us_per_conn_tcpstates "tcpstates CPU per connection" "$CPU_C_S" us - - "its own process, output to /dev/null"
HWM=$(awk '$2 ~ /^[TWFE]$/ && $7 != "-" { if ($7 > m) m = $7 } END { if (m) printf "%.1f", m / 1024 }' "$RUNS")
row daemon_peak_rss_mb "daemon peak RSS (VmHWM)" "$HWM" MB - - "max over tcptrail runs, default --max-flows"

MEM_RSS=$(kv rss_per_flow "$DIR/flowmem")
MEM_ACC=$(kv mem_per_flow "$DIR/flowmem")
row bytes_per_flow "bytes per tracked flow, 1M flows (RSS)" "$MEM_RSS" B "<=" 256 \
	"engine__mem_bytes ${MEM_ACC:-n/a} B; struct tt_flow $(kv entry_bytes "$DIR/flowmem") B; feed $(kv feed_ns_per_record "$DIR/flowmem") ns/record"

if [ "$HAS_SEED" = 1 ]; then
	row seeding_s "seeding $BENCH_SEED_SOCKETS sockets" "$SEED_S" s "<=" 1 "$SEED_INFO"
else
	row seeding_s "seeding $BENCH_SEED_SOCKETS sockets" "" s "<=" 1 \
		"not yet available: no seeding option and no 'seeded N' line at start"
fi

row seeding_netns_s "seeding $BENCH_NS namespaces of $BENCH_NS_SOCKETS sockets each" \
	"$(kv seed_s "$DIR/netns")" s "<=" 1 "$(kv seed_line "$DIR/netns")"
row census_netns_ms "census of all of them in a summary" "$(kv census_ms "$DIR/netns")" ms "<=" 100 \
	"$(kv census_line "$DIR/netns")"
row seeding_netns_own_ehash_s "... each with its own hash table (tcp_child_ehash_entries)" \
	"$(kv own_ehash_seed_s "$DIR/netns")" s - - "$(kv own_ehash_seed_line "$DIR/netns")"

# missed [KEY]: whether figure KEY (or any figure) missed its target.
missed() {
	awk -F'\t' -v k="$1" '($1 == k || k == "") && $7 == "MISS" { f = 1 } END { exit !f }' "$ROWS"
}

# ---- output ----------------------------------------------------------------

# The table of issue 16: tcptrail against its targets, with tcptrail -e and
# tcpstates side by side.  Each line: LABEL KEY KEY_E KEY_S ("-": none).
cat >"$DIR/issue" <<'EOT'
conn/s, --json >/dev/null / untraced	conn_ratio_tcptrail	conn_ratio_tcptrail_events	conn_ratio_tcpstates
conn/s, -w FILE / untraced	conn_ratio_tcptrail_write	-	-
BPF ns per transition, all programs	bpf_ns_transition_all	bpf_ns_transition_events	bpf_ns_tcpstates
records per connection (both ends)	records_per_conn	records_per_conn_events	records_per_conn_tcpstates
daemon CPU per connection	daemon_cpu_us_per_conn	daemon_cpu_us_per_conn_events	daemon_cpu_us_per_conn_tcpstates
lost events	lost	lost_events	-
EOT
echo
echo "untraced: $(awk -F'\t' '$1 == "conn_rate_untraced" { print $3 " conn/s, " $8 }' "$ROWS")"
awk -F'\t' 'NR == FNR { k = $1; v = $3 == "n/a" ? "n/a" : $3 ($4 == "" ? "" : " " $4)
		val[k] = v; tgt[k] = $5 == "-" ? "" : $5 " " $6; res[k] = $7 == "-" ? "" : $7; next }
	FNR == 1 {
		printf "%-40s %10s  %-8s %-5s %12s %12s\n", "figure", "tcptrail", "target", "", "tcptrail -e", "tcpstates"
		printf "%-40s %10s  %-8s %-5s %12s %12s\n", "------", "--------", "------", "", "-----------", "---------"
	}
	function g(k) { return k == "-" ? "" : (k in val) ? val[k] : "n/a" }
	{ printf "%-40s %10s  %-8s %-5s %12s %12s\n", $1, g($2), tgt[$2], res[$2], g($3), g($4) }' \
	"$ROWS" "$DIR/issue"
echo
echo "All figures:"
awk -F'\t' 'BEGIN {
		printf "%-46s %12s  %-9s %-6s %s\n", "figure", "value", "target", "", "reference"
		printf "%-46s %12s  %-9s %-6s %s\n", "------", "-----", "------", "", "---------"
	}
	{
		tgt = $5 == "-" ? "" : $5 " " $6
		val = $3 == "n/a" ? "n/a" : $3 ($4 == "" ? "" : " " $4)
		printf "%-46s %12s  %-9s %-6s %s\n", $2, val, tgt, ($7 == "-" ? "" : $7), $8
	}' "$ROWS"
echo

[ "$SANITIZED" = false ] || echo "note: $TCPTRAIL_SRC is a sanitizer build: tcptrail's CPU, RSS and rate figures do not stand for a release build"
BUSY_AFTER=$(busy_pct 1)
[ "$BUSY" -le 10 ] && [ "$BUSY_AFTER" -le 10 ] ||
	echo "note: the host was ${BUSY}% busy before the bench and ${BUSY_AFTER}% after: other work shared the CPUs, ratios and ns are noisy"
for _l in "T:$LOST" "W:$LOST_W" "E:$LOST_E" "F:$LOST_F"; do
	case ${_l#*:} in
	'' | 0) ;;
	*) echo "!!!!!!!! ${_l#*:} EVENTS LOST in one ${_l%%:*} run at the measured rate: that run's flows are incomplete and its rate and CPU figures flatter it !!!!!!!!" ;;
	esac
done

echo "BPF programs (bpf_stats runs, all runs added up):"
awk -v n="${TR_CNT:-0}" '
	{ printf "  %-2s %-28s %12s runs %8s ns/run %8s ns/transition\n", $1, $2, $4,
		($4 > 0 ? sprintf("%.0f", $3 / $4) : "-"),
		(n > 0 && $1 == "T" ? sprintf("%.0f", $3 / n) : "-") }' \
	"$DIR/progs"
# What running a program at all costs, before its work: cgroup_ingress
# leaves after two loads on every packet that is not at a full listener's
# queue, so its ns/run is about that price (bpf_stats' two clock reads and
# the dispatch); times the runs a connection makes, against the target.
awk -v c="${STATS_CONNS:-0}" -v t="${TPC:-0}" '
	$1 == "T" { runs += $4; if ($2 == "cgroup_ingress" && $4 > 0) fixed = $3 / $4 }
	END {
		if (c <= 0 || t <= 0 || !fixed)
			exit
		rpc = runs / c
		printf "  runs per connection, all tcptrail programs: %.1f; an early-exit run (cgroup_ingress) costs %.0f ns here,\n", rpc, fixed
		printf "  so being run at all is about %.0f ns of each transition'"'"'s BPF time, before any work (%.2f transitions/conn)\n", rpc * fixed / t, t
	}' "$DIR/progs"
echo

# JSON: one figure per line, so the next run (and a person) can diff it
[ ! -f "$BENCH_JSON" ] || cp "$BENCH_JSON" "$BENCH_JSON.prev"
{
	printf '{"version":1,"time":"%s","kernel":"%s","commit":"%s","procs":%s,"secs":%s,"rounds":%s,"busy_pct_before":%s,"busy_pct_after":%s,"sanitized":%s,\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(git rev-parse --short HEAD 2>/dev/null)" \
		"$PROCS" "$BENCH_SECS" "$BENCH_ROUNDS" "$BUSY" "$BUSY_AFTER" "$SANITIZED"
	echo '"figures":['
	awk -F'\t' '{
		v = $3 == "n/a" ? "null" : $3
		t = $5 == "-" ? "null" : $6
		gsub(/"/, "\\\"", $8)
		printf "%s{\"key\":\"%s\",\"label\":\"%s\",\"value\":%s,\"unit\":\"%s\",\"op\":\"%s\",\"target\":%s,\"result\":\"%s\",\"reference\":\"%s\"}\n",
			(NR > 1 ? "," : ""), $1, $2, v, $4, $5, t, $7, $8
	}' "$ROWS"
	echo '],"runs":['
	awk '{ printf "%s{\"seq\":%s,\"variant\":\"%s\",\"rate\":%s,\"conns\":%s,\"lost\":%s,\"cpu_s\":%s,\"hwm_kb\":%s,\"start_ms\":%s,\"transitions\":%s,\"other_cpu_pct\":%s,\"other_tracers\":%s,\"records\":%s}\n",
		(NR > 1 ? "," : ""), $1, $2, $3, $4, ($5 == "-" ? "null" : $5), ($6 == "-" ? "null" : $6),
		($7 == "-" ? "null" : $7), ($8 == "-" ? "null" : $8), ($9 == "-" ? "null" : $9), $10, $11,
		($12 == "-" || $12 == "" ? "null" : $12) }' "$RUNS"
	echo '],"programs":['
	awk '{ printf "%s{\"variant\":\"%s\",\"name\":\"%s\",\"run_time_ns\":%s,\"run_cnt\":%s}\n",
		(NR > 1 ? "," : ""), $1, $2, $3, $4 }' "$DIR/progs"
	echo ']}'
} >"$BENCH_JSON"
echo "JSON: $BENCH_JSON"

if [ -f "$BENCH_JSON.prev" ]; then
	echo "Changes since the last run ($BENCH_JSON.prev):"
	sed -n 's/^,\{0,1\}{"key":"\([^"]*\)",.*"value":\([^,]*\),.*/\1 \2/p' "$BENCH_JSON.prev" >"$DIR/prev"
	sed -n 's/^,\{0,1\}{"key":"\([^"]*\)",.*"value":\([^,]*\),.*/\1 \2/p' "$BENCH_JSON" |
		awk 'NR == FNR { old[$1] = $2; next }
		     ($1 in old) { printf "  %-28s %12s -> %s\n", $1, old[$1], $2 }' "$DIR/prev" -
fi

# ---- where the time goes, when a tcptrail target is missed -----------------

# perf_syms FILE [perf report options]: "pct<TAB>symbol" lines, no callers.
perf_syms() {
	_f=$1
	shift
	perf report -i "$_f" --no-children -g none --stdio "$@" 2>/dev/null |
		awk '/^ +[0-9.]+%/ { p = $1; $1 = ""; sub(/^ +/, ""); print p "\t" $0 }'
}

# share: "pct<TAB>name" lines rescaled so they add up to 100 over the input.
share() {
	awk -F'\t' '{ if (!($2 in p)) o[++n] = $2; p[$2] += $1; t += $1 } END {
		for (i = 1; i <= n; i++) printf "%.4f\t%s\n", t ? 100 * p[o[i]] / t : 0, o[i] }' |
		sort -t "$(printf '\t')" -k1,1 -g -r | head -n 12 |
		awk -F'\t' '{ printf "    %5.1f%%  %s\n", $1, $2 }'
}

if [ "$BENCH_PROFILE" = 1 ] && command -v perf >/dev/null 2>&1 &&
   { missed conn_ratio_tcptrail || missed conn_ratio_tcptrail_write || missed bpf_ns_transition_all ||
     missed daemon_cpu_us_per_conn || missed records_per_conn || missed lost; }; then
	echo
	echo "Where the time goes (a tcptrail target was missed): perf -e cpu-clock -a -g, one U and one T run"
	PROF_PID=
	PROF_TAG=
	for _v in U T; do
		if [ "$_v" = T ]; then
			start_tracer T || break
			# ours, not another tracer's: the daemon by pid, the program by tag
			PROF_PID=$TR_PID
			for _id in $(bpf_ids "$TR_PID" prog); do
				"$BPFTOOL" prog show id "$_id" 2>/dev/null | grep ' name [^ ]*set_sta' | grep -qv nest &&
					PROF_TAG=$("$BPFTOOL" prog show id "$_id" | sed -n 's/.* tag \([0-9a-f]*\).*/\1/p')
			done
		fi
		perf record -q -e cpu-clock -a -g -o "$DIR/perf.$_v" -- \
			"$LOAD" rate -d "$BENCH_SECS" -w "$BENCH_WARMUP" -p "$PROCS" >"$DIR/load" 2>/dev/null
		echo "  $_v: $(kv rate "$DIR/load") conn/s under perf"
		eval "PROF_RATE_$_v=\$(kv rate \"\$DIR/load\")"
		[ "$_v" = U ] || stop_tracer
		sleep 0.5
	done
	echo "  CPU by command, T run (share of both CPUs):"
	perf_syms "$DIR/perf.T" --sort comm | head -n 6 | awk -F'\t' '{ printf "    %7s  %s\n", $1, $2 }'
	echo "  hottest symbols, T run [U run]:"
	perf_syms "$DIR/perf.U" --sort sym >"$DIR/perf.U.txt"
	perf_syms "$DIR/perf.T" --sort sym | head -n 20 |
		awk -F'\t' 'NR == FNR { u[$2] = $1; next }
			{ printf "    %7s  [%7s]  %s\n", $1, (($2 in u) ? u[$2] : "-"), $2 }' "$DIR/perf.U.txt" -
	echo "  inside the tcptrail daemon (pid $PROF_PID; share of its samples):"
	perf_syms "$DIR/perf.T" --pid "$PROF_PID" --sort sym | share
	echo "  inside the transition program (tag $PROF_TAG), by function (share of its samples):"
	perf_syms "$DIR/perf.T" --parent "bpf_prog_${PROF_TAG:-[0-9a-f]*}_.*set_sta" --sort parent,sym |
		awk -F'\t' '{ split($2, w, " "); if (w[1] !~ /^bpf_prog_/) next
			s = $2; sub(/^[^ ]+ +/, "", s); print $1 "\t" s }' | share
	# the CPUs are busy throughout, so a connection costs NCPU / rate of CPU time
	echo "  what tracing adds, T run, by cause (share of all CPU; x $NCPU CPUs / conn/s = per connection):"
	perf script -i "$DIR/perf.T" -F comm,ip,sym 2>/dev/null | awk -f "${0%/*}/costs.awk" |
		sort -t "$(printf '\t')" -k1,1 -g -r |
		awk -F'\t' -v n="$NCPU" -v r="${PROF_RATE_T:-0}" -v u="${PROF_RATE_U:-0}" '
			function us(p) { return r > 0 ? p / 100 * n / r * 1e6 : 0 }
			# a part (the memory cgroup'"'"'s share of the storage) goes under its cause
			$3 == "part" { part[$2] = $1; next }
			{ t += $1; k++; share[k] = $1; cause[k] = $2 }
			END {
				for (i = 1; i <= k; i++) {
					printf "    %6.2f%%  %5.2f us  %s\n", share[i], us(share[i]), cause[i]
					if (cause[i] in part)
						printf "    %6.2f%%  %5.2f us    of which the memory cgroup'"'"'s charge\n",
						       part[cause[i]], us(part[cause[i]])
				}
				printf "    %6.2f%%  %5.2f us  in all\n", t, us(t)
				if (u > 0)
					printf "    for 0.95 of the untraced rate, all of it must fit in %.2f us" \
					       " (the U run: %.1f us of CPU a connection)\n",
					       n / u * 1e6 * (1 / 0.95 - 1), n / u * 1e6
			}'
fi

# ---- locks and maps that all CPUs share, on the per-transition path ---------

if [ "$BENCH_LOCKS" = 1 ]; then
	echo
	if command -v perf >/dev/null 2>&1; then
		OUTPUT=$OUTPUT TCPTRAIL=$TCPTRAIL LOAD=$LOAD LOCKS_SECS=$BENCH_SECS LOCKS_PROCS=$PROCS \
			LOCKS_EVENTS=$(has_v E && echo 1 || echo 0) sh "${0%/*}/locks.sh" ||
			{ echo "bench: locks.sh failed" >&2; FAILED=1; }
	else
		echo "Locks: not measured: no perf (Debian package linux-perf; make deps INSTALL=1)"
	fi
fi

if missed "" || [ "$FAILED" = 1 ]; then
	exit 1
fi
exit 0
