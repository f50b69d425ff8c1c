#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The replay path leaks nothing and touches no memory it should not, under
# valgrind: every capture of tests/captures through the JSON, text, events
# and ladder sinks, and the error paths (a capture cut short, a file that is
# no capture).  Under SANITIZE=1 ./tcptrail carries ASan and LeakSanitizer,
# which check the same at exit; valgrind cannot run such a binary.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

CAPTURES=${0%/*}/../captures
ls "$CAPTURES"/*.ttcap >/dev/null 2>&1 || skip "no captures in $CAPTURES"
if [ "$SANITIZE" = 1 ]; then
	check="LeakSanitizer"
	set --
elif command -v valgrind >/dev/null 2>&1; then
	check="valgrind"
	set -- valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode=99
else
	skip "no valgrind here (tests/deps.sh installs it)"
fi

n=0
for cap in "$CAPTURES"/*.ttcap; do
	for args in "--json" "-e" "--ladder -i 0" "--json -e -p 1 -P 80"; do
		# shellcheck disable=SC2086 # a list of words
		"$@" "$TCPTRAIL" -r "$cap" $args >"$DIR/out" 2>"$DIR/err"
		st=$?
		[ "$st" = 0 ] || fail "$check: tcptrail -r $cap $args exited $st: $(last_line "$DIR/err")"
		bad=$(grep -e '^==[0-9]*==' -e 'Sanitizer' -e 'runtime error' "$DIR/err" | sed -n 1p)
		[ -z "$bad" ] || fail "$check: tcptrail -r $cap $args: $bad"
		n=$((n + 1))
	done
done

# the error paths: a capture cut in half, and a file that is no capture
first=$(ls "$CAPTURES"/*.ttcap | sed -n 1p)
size=$(wc -c <"$first")
head -c $((size / 2)) "$first" >"$DIR/cut.ttcap"
echo "not a capture" >"$DIR/junk.ttcap"
for bad_cap in "$DIR/cut.ttcap" "$DIR/junk.ttcap"; do
	"$@" "$TCPTRAIL" -r "$bad_cap" --json >"$DIR/out" 2>"$DIR/err"
	st=$?
	[ "$st" = 2 ] || fail "$check: tcptrail -r ${bad_cap##*/} exited $st, want 2: $(last_line "$DIR/err")"
	bad=$(grep -e '^==[0-9]*==' -e 'Sanitizer' -e 'runtime error' "$DIR/err" | sed -n 1p)
	[ -z "$bad" ] || fail "$check: tcptrail -r ${bad_cap##*/}: $bad"
	n=$((n + 1))
done
note "$n replays under $check: no leak, no invalid access"
pass
