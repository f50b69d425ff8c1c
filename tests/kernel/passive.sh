#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One IPv4 connection that the server closes first: the client goes through
# CLOSE_WAIT, the server (the process that called accept()) through FIN_WAIT.
# The listener's flow names the process that closed it.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace passive -w "$DIR/passive.ttcap"
port=$(fact port)
client=$(fact client_pid)
acceptor=$(fact accept_pid)

expect_count active 1
expect_count passive 1
expect_count unknown 0

a=$(flows active)
expect_flow "client flow" "$a" dport="$port" pid="$client" owner_known=true \
	closer_pid="$client" states=SYN_SENT,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close

p=$(flows passive)
expect_flow "server flow" "$p" sport="$port" pid="$acceptor" owner_known=true \
	closer_pid="$acceptor"
expect_closed_first "server flow" "$p" SYN_RECV,ESTABLISHED

# the listener is ttdrive's; the server's exit closes its last descriptor
expect_count listener 1
expect_flow "listener flow" "$(flows listener)" sport="$port" pid="$client" \
	closer_pid="$acceptor" states=LISTEN,CLOSE end=close

# Replayed with -p, the server adopted its one connection at accept() from
# the listener's process (the client), as a live run with -p sees it: once,
# from ESTABLISHED.  Its accept comes before its one flow record, and it was
# printed twice, once ended "superseded" with no states.  (The listener's
# flow is the server's too: its exit closed it.)
"$TCPTRAIL" -r "$DIR/passive.ttcap" --json -p "$acceptor" >"$DIR/replay.json" \
	2>"$DIR/replay.err" || fail "tcptrail -r -p $acceptor exited $?: $(last_line "$DIR/replay.err")"
rp=$(grep '^{"type":"flow",' "$DIR/replay.json" | grep '"role":"passive"')
expect_eq "replay -p $acceptor: passive flows" "$(printf '%s\n' "$rp" | count_lines)" 1
bad=$(grep '^{"type":"flow",' "$DIR/replay.json" | grep '"end":"superseded"' | sed -n 1p)
[ -z "$bad" ] || fail "replay -p $acceptor: a flow ended superseded: $bad"
live_states=$(printf '%s\n' "$p" | states)
case $live_states in SYN_RECV,ESTABLISHED,*) ;; *) fail "server flow: states $live_states" ;; esac
expect_flow "replay -p $acceptor: server flow" "$rp" sport="$port" pid="$acceptor" \
	closer_pid="$acceptor" states="${live_states#SYN_RECV,}"
pass
