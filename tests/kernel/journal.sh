#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --journal and sd_notify against real receivers.  sd_journal_send writes to
# the fixed path /run/systemd/journal/socket, so tcptrail runs in a mount
# namespace of its own where that path is our datagram socket (a bind mount
# over /run/systemd, seen by nothing else on the host); $NOTIFY_SOCKET names
# a second one.  A CLOSE-WAIT leak (the close-wait scenario) must reach the
# journal as TCPTRAIL_EVENT=close_wait at warning priority, with the leaking
# server's PID, COMM, NETNS and COUNT as fields; summaries at info; READY=1
# once attached and STOPPING=1 at SIGINT.  An overflow of a listener in a
# container (a cgroup shaped as podman's) traced with --container and
# --cgroup: the overflow entries name the listener's container and cgroup,
# the summaries the ones tcptrail is limited to.  Without a journald socket,
# --journal exits 1 before attaching, with one line naming the socket.
# Host only: the qemu guest has no python3.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no python3 for the journal receiver"; exit 77; }

command -v python3 >/dev/null || fail "python3 is missing (tests/deps.sh installs it)"
command -v unshare >/dev/null || fail "unshare is missing (util-linux)"
REAL=$TCPTRAIL
case $REAL in /*) ;; *) REAL=$PWD/$REAL ;; esac
RECV=$PWD/tests/tools/dgramrecv.py
JREC=
NREC=
trap 'kill $JREC $NREC 2>/dev/null; cleanup' EXIT

# in_private_run DIR COMMAND...: COMMAND in a mount namespace of its own,
# where DIR is /run/systemd (or, on a host without /run/systemd, where a
# tmpfs on /run holds DIR's journal socket).
cat >"$DIR/in-private-run" <<'EOF'
#!/bin/sh
d=$1
shift
if [ -d /run/systemd ]; then
	exec unshare -m --propagation private sh -c \
		'mount --bind "$0" /run/systemd && exec "$@"' "$d" "$@"
fi
exec unshare -m --propagation private sh -c \
	'mount -t tmpfs tt /run && mkdir -p /run/systemd/journal &&
	 { [ ! -e "$0/journal/socket" ] || { : >/run/systemd/journal/socket &&
	   mount --bind "$0/journal/socket" /run/systemd/journal/socket; }; } &&
	 exec "$@"' "$d" "$@"
EOF
chmod +x "$DIR/in-private-run"

# 1. No journald: exit 1 before attaching, one line naming the socket.
mkdir "$DIR/empty"
"$DIR/in-private-run" "$DIR/empty" "$REAL" --journal -d 1 >/dev/null 2>"$DIR/nojournal.err"
st=$?
expect_eq "--journal without journald: exit status" "$st" 1
expect_eq "--journal without journald: lines on stderr" "$(count_lines <"$DIR/nojournal.err")" 1
grep -q -- '--journal: /run/systemd/journal/socket: ' "$DIR/nojournal.err" ||
	fail "--journal without journald said: $(cat "$DIR/nojournal.err")"
grep -q '^tcptrail: tracing' "$DIR/nojournal.err" && fail "--journal without journald attached first"
# and a socket file a journald that stopped left behind: nothing listens on it
mkdir -p "$DIR/stale/journal"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.close()' \
	"$DIR/stale/journal/socket" || fail "could not make a stale socket file"
"$DIR/in-private-run" "$DIR/stale" "$REAL" --journal -d 1 >/dev/null 2>"$DIR/stale.err"
st=$?
expect_eq "--journal, a stale socket file: exit status" "$st" 1
grep -q -- '--journal: /run/systemd/journal/socket: nothing listens on it: ' "$DIR/stale.err" ||
	fail "--journal with a stale socket file said: $(cat "$DIR/stale.err")"
grep -q '^tcptrail: tracing' "$DIR/stale.err" && fail "--journal with a stale socket file attached first"
# a stream socket: journald's protocol is datagrams, every entry would be lost
mkdir -p "$DIR/stream/journal"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen()
time.sleep(30)' "$DIR/stream/journal/socket" &
JREC=$!
wait_until 10 test -S "$DIR/stream/journal/socket" || fail "could not make a stream socket"
"$DIR/in-private-run" "$DIR/stream" "$REAL" --journal -d 1 >/dev/null 2>"$DIR/stream.err"
st=$?
kill "$JREC"
wait "$JREC" 2>/dev/null
JREC=
expect_eq "--journal, a stream socket: exit status" "$st" 1
grep -q -- '--journal: /run/systemd/journal/socket: a socket of another type' "$DIR/stream.err" ||
	fail "--journal with a stream socket said: $(cat "$DIR/stream.err")"

# 2. A leak, traced with --journal, the receivers bound first.
mkdir -p "$DIR/sd/journal"
python3 "$RECV" journal "$DIR/sd/journal/socket" "$DIR/journal.jsonl" 90 2>"$DIR/jrecv.err" &
JREC=$!
python3 "$RECV" raw "$DIR/notify.sock" "$DIR/notify.jsonl" 90 2>"$DIR/nrecv.err" &
NREC=$!
wait_until 10 test -e "$DIR/journal.jsonl" -a -e "$DIR/notify.jsonl" ||
	fail "receivers did not start: $(last_line "$DIR/jrecv.err") $(last_line "$DIR/nrecv.err")"

cat >"$DIR/tt-journal" <<EOF
#!/bin/sh
exec "$DIR/in-private-run" "$DIR/sd" "$REAL" "\$@"
EOF
chmod +x "$DIR/tt-journal"
TCPTRAIL=$DIR/tt-journal
TCPTRAIL_ARGS=--journal
NOTIFY_SOCKET=$DIR/notify.sock
export NOTIFY_SOCKET
check_close_wait close-wait
unset NOTIFY_SOCKET
# the final summary was sent before tcptrail exited: wait for the receiver to write it
final_received() {
	grep -q '"FINAL": "1"' "$DIR/journal.jsonl" && grep -q STOPPING "$DIR/notify.jsonl"
}
wait_until 5 final_received || fail "no final summary entry or STOPPING=1 received within 5 s"

# jq-like queries of the received entries, in python3
jq_entries() {
	python3 -c '
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
for line in open(sys.argv[1]):
    e = json.loads(line)
    if all(e.get(k) == v for k, v in want.items()):
        print(json.dumps(e, sort_keys=True))
' "$DIR/journal.jsonl" "$@"
}
jfield() {
	python3 -c 'import json, sys; print(json.loads(sys.stdin.readline()).get(sys.argv[1], ""))' "$1"
}

bad=$(grep -e _PARSE_ERROR -e _ANCILLARY "$DIR/journal.jsonl" | sed -n 1p)
[ -z "$bad" ] || fail "malformed journal entry: $bad"
bad=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "TCPTRAIL_EVENT"):
        if not e.get(k):
            print("no %s in %s" % (k, line.strip())); sys.exit()
    if e["SYSLOG_IDENTIFIER"] != "tcptrail" or "\n" in e["MESSAGE"]:
        print(line.strip()); sys.exit()
    # every MESSAGE a logfmt line, as README says: time= level= msg=
    if not e["MESSAGE"].startswith("time=") or " level=" not in e["MESSAGE"]:
        print("MESSAGE not time=... level=...: %s" % line.strip()); sys.exit()
' "$DIR/journal.jsonl") || fail "the journal entries' check failed to run: $bad"
[ -z "$bad" ] || fail "journal entry: $bad"

leak=$(fact leaked)
spid=$(fact server_pid)
cw=$(jq_entries TCPTRAIL_EVENT=close_wait PID="$(fact server_pid)" | sed -n '$p')
[ -n "$cw" ] || fail "no close_wait entry for pid $(fact server_pid): $(cut -c1-200 "$DIR/journal.jsonl" | sed -n 1,3p)"
for kv in PRIORITY=4 COMM="$(fact server_comm)" NETNS="$NETNS" COUNT="$leak" SERVICE=local \
	SERVICE_PORT="$(fact port)" SYSLOG_FACILITY=3; do
	got=$(printf '%s\n' "$cw" | jfield "${kv%%=*}")
	expect_eq "close_wait entry ${kv%%=*}" "$got" "${kv#*=}"
done
printf '%s\n' "$cw" | jfield MESSAGE | grep -q "msg=close_wait_leak pid=$(fact server_pid) " ||
	fail "close_wait MESSAGE: $(printf '%s\n' "$cw" | jfield MESSAGE)"
# another namespace than tcptrail's: named in the MESSAGE, as on stdout and in syslog
printf '%s\n' "$cw" | jfield MESSAGE | grep -q " netns=$NETNS " ||
	fail "close_wait MESSAGE names no netns=$NETNS: $(printf '%s\n' "$cw" | jfield MESSAGE)"

# every summary on stdout is in the journal too, at info (nothing was lost)
n_out=$(records summary | count_lines)
n_j=$(jq_entries TCPTRAIL_EVENT=summary PRIORITY=6 NETNS="$NETNS" | count_lines)
expect_eq "summaries in the journal (info, NETNS=$NETNS) vs on stdout" "$n_j" "$n_out"
expect_eq "final summaries in the journal" \
	"$(jq_entries TCPTRAIL_EVENT=summary FINAL=1 | count_lines)" 1
jq_entries TCPTRAIL_EVENT=summary FINAL=1 | jfield MESSAGE | grep -q '^time=.* msg=final_summary ' ||
	fail "final summary MESSAGE: $(jq_entries TCPTRAIL_EVENT=summary FINAL=1 | jfield MESSAGE)"

# 3. Entries that concern one container name it.  An accept-queue overflow
# by a listener in a cgroup shaped as podman's (/PARENT/libpod-<64 hex>),
# traced with --container and --cgroup: every overflow entry names the
# listener's container and cgroup (the listener's own), every summary the
# --container and --cgroup it is limited to.
MNT=$(sed -n 's/^[^ ]* [^ ]* [^ ]* \/ \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | sed -n 1p)
[ -n "$MNT" ] || fail "no cgroup v2 mount on this host (/proc/self/mountinfo)"
CID=$(echo "tcptrail-journal-$$" | sha256sum | cut -c1-64)
CG=/tcptrail-journal-$$/libpod-$CID
mkdir -p "$MNT$CG" || fail "cannot make cgroup $MNT$CG"
cg_cleanup() {
	kill $JREC $NREC 2>/dev/null
	[ -n "$DRIVE_PID" ] && kill -KILL "$DRIVE_PID" 2>/dev/null
	rmdirs_gone "$MNT${CG%/*}" "$MNT$CG" "$MNT${CG%/*}"
	cleanup
}
trap cg_cleanup EXIT
REAL_DRIVE=$DRIVE
case $REAL_DRIVE in /*) ;; *) REAL_DRIVE=$PWD/$REAL_DRIVE ;; esac
printf '#!/bin/sh\necho $$ >"%s/cgroup.procs" && exec "%s" "$@"\n' "$MNT$CG" "$REAL_DRIVE" >"$DIR/drive-in-cg"
chmod +x "$DIR/drive-in-cg"
n_before=$(count_lines <"$DIR/journal.jsonl")
DRIVE=$DIR/drive-in-cg
TCPTRAIL_ARGS="--journal --container $CID --cgroup $CG"
trace overflow-accept
DRIVE=$REAL_DRIVE
final2() {
	tail -n +"$((n_before + 1))" "$DIR/journal.jsonl" | grep -q '"FINAL": "1"'
}
wait_until 5 final2 || fail "no final summary entry of the container run within 5 s"
tail -n +"$((n_before + 1))" "$DIR/journal.jsonl" >"$DIR/journal3.jsonl"
scoped=$(python3 -c '
import json, sys
cid, cg, pid = sys.argv[2:5]
n = {"overflow": 0, "summary": 0}
for line in open(sys.argv[1]):
    e = json.loads(line)
    ev = e.get("TCPTRAIL_EVENT")
    if ev not in ("overflow", "summary", "time_wait", "port_pressure"):
        continue
    if e.get("CONTAINER") != cid or e.get("CGROUP") != cg:
        print("bad: %s entry with CONTAINER=%s CGROUP=%s" % (ev, e.get("CONTAINER"), e.get("CGROUP")))
        sys.exit()
    if ev == "overflow" and e.get("PID") != pid:
        print("bad: overflow entry of PID=%s, not the listener %s" % (e.get("PID"), pid))
        sys.exit()
    if not e.get("MESSAGE", "").startswith("time="):
        print("bad: %s MESSAGE not time=...: %s" % (ev, e.get("MESSAGE")))
        sys.exit()
    if ev in n:
        n[ev] += 1
print("%d %d" % (n["overflow"], n["summary"]))
' "$DIR/journal3.jsonl" "$CID" "$CG" "$(fact listener_pid)") ||
	fail "container run: the entries' check failed to run: $scoped"
case $scoped in
bad:*) fail "container run: $scoped" ;;
"0 "*) fail "container run: no overflow entry: $(cut -c1-200 "$DIR/journal3.jsonl" | sed -n 1,3p)" ;;
*" 0") fail "container run: no summary entry" ;;
*[!0-9\ ]* | "") fail "container run: the entries' check said '$scoped'" ;;
esac
echo "journal: container run: ${scoped% *} overflow and ${scoped#* } summary entries, each CONTAINER=$CID CGROUP=$CG"

# sd_notify: READY=1 once, then STOPPING=1
notes=$(python3 -c '
import json, sys
print(" ".join(json.loads(l)["data"].split("\n")[0] for l in open(sys.argv[1])))' "$DIR/notify.jsonl")
expect_eq "sd_notify messages" "$notes" "READY=1 STOPPING=1"
echo "journal: $(count_lines <"$DIR/journal.jsonl") entries; close_wait COUNT=$leak PID=$spid; $n_j summaries; notify: $notes"
pass
