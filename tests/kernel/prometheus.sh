#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The shipped alert rules against a real Prometheus (Debian's prometheus):
# it scrapes tcptrail -i 0 --metrics-listen every second while ttdrive makes
# a CLOSE-WAIT leak in its namespace, evaluates contrib/prometheus's rules
# with every `for:` cut to 1s, and TcptrailCloseWaitLeakGrowing fires for
# comm ttleak, as its own /api/v1/alerts says.  Every query of the Grafana
# dashboard runs on that Prometheus without an error, too.
#
# Prometheus starts before the leak, and the leak waits for its first
# sample of CLOSE_WAIT flows at 0: "growing" is what it must see.  Every
# wait is bounded (the alert: 90 s); only the Prometheus started here is
# stopped, by its pid.  Host only: the qemu guest has no Prometheus.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no Prometheus"; exit 77; }

RULES=contrib/prometheus/tcptrail-rules.yml
DASH=contrib/grafana/tcptrail-dashboard.json
PROM_PID=
stop_prom() {
	if [ -n "$PROM_PID" ]; then
		kill -TERM "$PROM_PID" 2>/dev/null
		wait_until 10 not_alive "$PROM_PID" || kill -KILL "$PROM_PID" 2>/dev/null
		wait "$PROM_PID" 2>/dev/null
		PROM_PID=
	fi
}
trap 'stop_prom; cleanup' EXIT

command -v prometheus >/dev/null 2>&1 ||
	fail "prometheus not found (Debian package prometheus; make deps INSTALL=1)"
command -v curl >/dev/null 2>&1 || fail "curl not found (Debian package curl; make deps INSTALL=1)"
tport=$("$DRIVE" --free-port) || fail "ttdrive --free-port failed"
pport=$("$DRIVE" --free-port) || fail "ttdrive --free-port failed"
[ "$tport" != "$pport" ] || pport=$("$DRIVE" --free-port) || fail "ttdrive --free-port failed"

# the shipped rules, each `for:` 1s; the scrape job named as they expect
sed 's/^\( *for:\).*/\1 1s/' "$RULES" >"$DIR/rules.yml"
grep -q 'for: 1s' "$DIR/rules.yml" || fail "no for: in $RULES to shorten"
cat >"$DIR/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [ "$DIR/rules.yml" ]
scrape_configs:
  - job_name: tcptrail
    static_configs:
      - targets: [ "127.0.0.1:$tport" ]
EOC
API=http://127.0.0.1:$pport/api/v1

# query PROMQL: the JSON answer of an instant query
query() {
	curl -sf -m 5 "$API/query" --data-urlencode "query=$1"
}

DRIVE_TIMEOUT=120 TRACE_NO_GO=1 trace_begin "close-wait 5" -i 0 --close-wait-age 1 \
	--metrics-listen "127.0.0.1:$tport"
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$DIR/prom.log" 2>&1 &
PROM_PID=$!

_zero_sample() {
	alive "$PROM_PID" || return 0
	query 'tcptrail_flows{job="tcptrail",state="CLOSE_WAIT"} == 0' 2>/dev/null |
		grep -q '"state":"CLOSE_WAIT"'
}
wait_until 30 _zero_sample
alive "$PROM_PID" || fail "prometheus exited: $(last_line "$DIR/prom.log")"
_zero_sample || fail "prometheus had no tcptrail_flows{state=\"CLOSE_WAIT\"} 0 within 30 s"

# now the leak, for Prometheus to watch grow
: >"$DIR/go"
wait_paused close-wait
leaked=$(fact leaked)

_firing() {
	curl -sf -m 5 "$API/alerts" >"$DIR/alerts.json" 2>/dev/null || return 1
	tr '{' '\n' <"$DIR/alerts.json" | grep '"alertname":"TcptrailCloseWaitLeakGrowing"' |
		grep -q '"comm":"ttleak"' || return 1
	grep -q '"state":"firing"' "$DIR/alerts.json"
}
wait_until 90 _firing || fail "TcptrailCloseWaitLeakGrowing not firing within 90 s of the leak: $(cat "$DIR/alerts.json")"
cat "$DIR/alerts.json" >"$DIR/alerts-firing.json"
echo "alerts: $(cat "$DIR/alerts-firing.json")"
# the alert's value is the suspected leaks of ttleak: all that ttdrive made
expect_eq "TcptrailCloseWaitLeakGrowing value" \
	"$(sed 's/.*"alertname":"TcptrailCloseWaitLeakGrowing"//' "$DIR/alerts-firing.json" |
		sed -n 's/^[^}]*}[^}]*},"state":"firing","activeAt":"[^"]*","value":"\([^"]*\)".*/\1/p')" \
	"$(printf '%se+00' "$leaked")"
grep -q '"alertname":"TcptrailDown"' "$DIR/alerts-firing.json" && fail "TcptrailDown fired while tcptrail was up"

# every dashboard query is one Prometheus takes
n=0
sed -n 's/^ *"expr": "\(.*\)",\{0,1\}$/\1/p' "$DASH" | sed 's/\\"/"/g' |
	sed -e 's/\$__rate_interval/1m/g' -e 's/\$job/tcptrail/g' -e 's/\$instance/.*/g' >"$DIR/exprs"
[ -s "$DIR/exprs" ] || fail "no \"expr\" in $DASH"
while IFS= read -r e; do
	query "$e" >"$DIR/q.out" 2>&1 && grep -q '"status":"success"' "$DIR/q.out" ||
		fail "dashboard query fails on Prometheus: $e: $(cat "$DIR/q.out")"
	n=$((n + 1))
done <"$DIR/exprs"
[ "$n" -ge 10 ] || fail "only $n dashboard queries checked"

resume
stop_prom
trace_end
pass
