#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The shipped alerting rules (contrib/prometheus/tcptrail-rules.yml), no root
# needed: promtool accepts them, their unit tests pass (each alert fires on
# its series and not on the near misses: tcptrail-rules.test.yml), and every
# tcptrail_ metric they or the Grafana dashboard name is one tcptrail
# exports (as a replay's --metrics-file shows: a renamed metric fails here).
# Prints "ok prometheus-rules" or "FAIL prometheus-rules: why"; exits 0 or 1.

TCPTRAIL=${TCPTRAIL:-./tcptrail}
RULES=contrib/prometheus/tcptrail-rules.yml
DASH=contrib/grafana/tcptrail-dashboard.json
DIR=$(mktemp -d) || { echo "FAIL prometheus-rules: mktemp -d failed"; exit 1; }
trap 'rm -rf "$DIR"' EXIT

fail() {
	echo "FAIL prometheus-rules: $*"
	exit 1
}

command -v promtool >/dev/null 2>&1 ||
	fail "promtool not found (Debian package prometheus; make deps INSTALL=1)"
promtool check rules "$RULES" >"$DIR/check.out" 2>&1 ||
	fail "promtool check rules: $(grep -v '^Checking' "$DIR/check.out" | sed -n 1,3p | tr '\n' ' ')"
(cd tests/prometheus && promtool test rules tcptrail-rules.test.yml) >"$DIR/test.out" 2>&1 ||
	fail "promtool test rules: $(sed -n 2,12p "$DIR/test.out" | tr '\n' ' ')"

# the names tcptrail exports, from the TYPE lines of a replay's metrics file
"$TCPTRAIL" -r tests/captures/close.ttcap -i 0 --metrics-file "$DIR/m.prom" >/dev/null 2>"$DIR/tt.err" ||
	fail "tcptrail -r ... --metrics-file failed: $(sed -n '$p' "$DIR/tt.err")"
sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$DIR/m.prom" | sort -u >"$DIR/exported"
[ -s "$DIR/exported" ] || fail "no # TYPE line in tcptrail's metrics file"
for f in "$RULES" "$DASH"; do
	[ -f "$f" ] || fail "$f is missing"
	# a histogram's samples are NAME_bucket, NAME_sum, NAME_count
	grep -o 'tcptrail_[a-z_]*' "$f" | sed 's/_bucket$//' | sort -u >"$DIR/named"
	[ -s "$DIR/named" ] || fail "$f names no tcptrail_ metric"
	unknown=$(comm -23 "$DIR/named" "$DIR/exported" | tr '\n' ' ')
	[ -z "$unknown" ] || fail "$f names metrics tcptrail does not export: $unknown"
done
echo "ok prometheus-rules"
