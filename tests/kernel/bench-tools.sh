#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The measuring tools of `make bench-scaling`, `make bench-locks` and `make
# bench-hooks` measure:
# no speed is checked here (that is `make bench`'s), only that each run
# produced its figures and that they mean what their headers say.
#
# - scaling.sh rejects a bad knob with one line naming it, exit 2;
# - one 1+1 row, 1 s runs: untraced and traced rates and ratios are
#   positive numbers, lost is a count, and the ring-buffer records per
#   connection are those of each mode: with -e at least the 10 transitions
#   of a connection's two ends (ttload's client closes first: 5 each), and
#   the default (flow records) never more than -e;
# - locks.sh: every column has samples, and the traced runs' samples show
#   tcptrail's BPF programs (perf names them), which a broken attribution
#   would not;
# - hookcost.sh (bench-hooks' part in the guests), here in this host's
#   mode: a row for the transitions program and sock_ops, and totals;
# - costs.awk (make bench's "by cause") sorts made-up stacks as it says:
#   the first cause from the leaf up, the daemon less its softirqs, and the
#   memory cgroup's charge as a part of the storage made only below it.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

LOAD=${LOAD:-${OUTPUT:-.output}/bench/ttload}
[ -x "$LOAD" ] || fail "no $LOAD (make test builds it)"
BENCH=${0%/*}/../bench

# costs.awk on six samples of `perf script -F comm,ip,sym`: leaf first
T=$(printf '\t')
printf '%s\n' \
	"ttload" "$T 1 __memcg_slab_post_alloc_hook" "$T 2 __kmalloc_noprof" "$T 3 bpf_map_kzalloc" \
	"$T 4 bpf_local_storage_update" "$T 5 bpf_prog_1_tp_btf_set_state" "$T 6 bpf_trace_run3" "" \
	"ttload" "$T 1 memset" "$T 2 bpf_local_storage_update" "$T 3 mem_cgroup_handle_over_high" "" \
	"ttload" "$T 1 bpf_prog_2_sockops_state" "$T 2 __cgroup_bpf_run_filter_sock_ops" "" \
	"tcptrail" "$T 1 json_flow" "$T 2 engine__feed" "" \
	"tcptrail" "$T 1 tcp_v4_rcv" "$T 2 handle_softirqs" "" \
	"ttload" "$T 1 tcp_ack" >"$DIR/stacks"
awk -f "$BENCH/costs.awk" "$DIR/stacks" | sort >"$DIR/costs"
cat >"$DIR/costs.want" <<EOT
16.667${T}sock_ops runs, all but the storage they make
16.667${T}socket storage made (a socket's first transition)${T}part
16.667${T}the daemon
33.333${T}socket storage made (a socket's first transition)
EOT
sort "$DIR/costs.want" | cmp -s - "$DIR/costs" ||
	fail "costs.awk: got $(cat "$DIR/costs"), want $(cat "$DIR/costs.want")"

# a bad knob: one line, exit 2, before anything runs
PROCS=0 TT=$TCPTRAIL LOAD=$LOAD sh "$BENCH/scaling.sh" >"$DIR/bad.out" 2>"$DIR/bad.err"
expect_eq "scaling.sh PROCS=0 exit status" "$?" 2
expect_eq "scaling.sh PROCS=0 stderr lines" "$(wc -l <"$DIR/bad.err")" 1
grep -q "PROCS: '0'" "$DIR/bad.err" || fail "PROCS=0 not named: $(cat "$DIR/bad.err")"

PROCS=1 SCALING_SECS=1 SCALING_WARMUP=0 SCALING_OUT=$DIR/scaling.txt TT=$TCPTRAIL LOAD=$LOAD \
	sh "$BENCH/scaling.sh" >"$DIR/scaling.out" 2>"$DIR/scaling.err" ||
	fail "scaling.sh exited $?: $(tail -n 1 "$DIR/scaling.err")"
row=$(grep '^1+1 ' "$DIR/scaling.txt")
[ -n "$row" ] || fail "no 1+1 row in $(cat "$DIR/scaling.txt")"
# 1+1 untraced | tcptrail ratio lost rec/conn | -e conn/s ratio lost rec/conn
# -e's records per connection: those read, and those lost (a loaded
# machine, the guests beside it in make test, loses some in a 1 s run)
echo "$row" | awk -v secs=1 '{
	for (i = 2; i <= 10; i++) if ($i !~ /^[0-9.]+$/) { print "field " i " is not a number: " $0; exit 1 }
	if ($2 <= 0 || $3 <= 0 || $7 <= 0) { print "a rate is 0: " $0; exit 1 }
	if ($4 <= 0 || $8 <= 0) { print "a ratio is 0: " $0; exit 1 }
	if ($5 !~ /^[0-9]+$/ || $9 !~ /^[0-9]+$/) { print "lost is no count: " $0; exit 1 }
	if ($10 + $9 / ($7 * secs) < 10) {
		print "-e read and lost fewer than 10 records per connection: " $0; exit 1 }
	if ($6 <= 0 || $6 > 1.1 * $10) { print "more records per connection than with -e: " $0; exit 1 }
}' >"$DIR/why" || fail "$(cat "$DIR/why")"
grep -q 'tracing: ' "$DIR/scaling.txt" || fail "scaling.txt names no hooks"

if ! command -v perf >/dev/null 2>&1; then
	fail "no perf (tests/deps.sh installs linux-perf)"
fi
LOCKS_SECS=1 LOCKS_PROCS=1 LOAD=$LOAD sh "$BENCH/locks.sh" >"$DIR/locks.out" 2>"$DIR/locks.err" ||
	fail "locks.sh exited $?: $(tail -n 1 "$DIR/locks.err")"
# "  samples   N N N", "  in BPF programs and what they call  U% T% E%"
samples=$(sed -n 's/^  samples  *//p' "$DIR/locks.out")
echo "$samples" | awk 'NF != 3 || $1 <= 0 || $2 <= 0 || $3 <= 0 { exit 1 }' ||
	fail "want samples in all three runs, got '$samples'"
bpf=$(sed -n 's/^  in BPF programs and what they call  *//p' "$DIR/locks.out" | tr -d '%')
echo "$bpf" | awk 'NF != 3 || $2 <= 0 || $3 <= 0 { exit 1 }' ||
	fail "want the traced runs' samples in BPF programs, got '$bpf'"
grep -q '^  spinlock time .*%' "$DIR/locks.out" || fail "no spinlock row: $(cat "$DIR/locks.out")"

# hookcost.sh, make bench-hooks' part in the guests, on this host: a bad
# knob, then one short round whose table has a row a program and totals
PROGSTAT=${PROGSTAT:-${OUTPUT:-.output}/bench/progstat}
[ -x "$PROGSTAT" ] || fail "no $PROGSTAT (make test builds it)"
HOOKS_ROUNDS=x TCPTRAIL=$TCPTRAIL LOAD=$LOAD PROGSTAT=$PROGSTAT sh "$BENCH/hookcost.sh" \
	>"$DIR/hbad.out" 2>"$DIR/hbad.err"
expect_eq "hookcost.sh HOOKS_ROUNDS=x exit status" "$?" 2
expect_eq "hookcost.sh HOOKS_ROUNDS=x stderr lines" "$(wc -l <"$DIR/hbad.err")" 1
HOOKS_SECS=1 HOOKS_ROUNDS=1 TCPTRAIL=$TCPTRAIL LOAD=$LOAD PROGSTAT=$PROGSTAT \
	sh "$BENCH/hookcost.sh" >"$DIR/hooks.out" 2>&1 ||
	fail "hookcost.sh exited $?: $(tail -n 1 "$DIR/hooks.out")"
grep -q '^tcptrail: tracing: ' "$DIR/hooks.out" || fail "hookcost.sh names no hooks"
# "  NAME  runs/conn  ns/run  ns/conn": the transitions program ran for each
# connection's transitions, sock_ops more often still
awk '$1 ~ /^(tp_btf_set_stat|tp_set_state|fentry_state_st|kprobe_state_st)$/ && $2 >= 5 { t = 1 }
	$1 == "sockops_state" && $2 >= 10 && $3 > 0 && $4 > 0 { s = 1 }
	END { exit !(t && s) }' "$DIR/hooks.out" ||
	fail "hookcost.sh: no transitions and sock_ops rows: $(cat "$DIR/hooks.out")"
tot=$(sed -n 's/^  all programs: \([0-9]*\) ns and \([0-9.]*\) runs a connection; \([0-9.]*\) records a connection; lost \([0-9]*\)$/\1 \2 \3 \4/p' "$DIR/hooks.out")
echo "$tot" | awk 'NF != 4 || $1 <= 0 || $2 < 10 || $3 <= 0 { exit 1 }' ||
	fail "hookcost.sh: totals '$tot' in $(cat "$DIR/hooks.out")"
grep -q '^  conn/s, mean of 1 runs each: untraced [1-9][0-9]*, traced [1-9][0-9]* (' "$DIR/hooks.out" ||
	fail "hookcost.sh: no rates: $(cat "$DIR/hooks.out")"
pass
