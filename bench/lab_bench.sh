#!/usr/bin/env bash
# bench/lab_bench.sh - figures on a shaped link, each next to a baseline
# measured in the same run, in the link lab (tests/cli/lablib.sh; needs
# root and network namespaces).  Not a test: it prints, it asserts nothing.
#
#   sudo bench/lab_bench.sh [BUILD_DIR] [RECORDS]     (build/release, 20000)
#
# One office behind the lab's link (LAB_RATE 64kbit, LAB_LOSS 3%,
# LAB_RTT_MS 300; no scheduled drops unless LAB_EVERY_S is set), the
# server and central in the server's namespace.  Central records RECORDS
# persons of the office and syncs; then:
#   - goodput: the office's first sync (wire bytes, counted by the lab's
#     proxy, over seconds) against a plain TCP transfer of the same number
#     of bytes, in the same direction, through the same link and proxy;
#   - resume: the same first sync at a twin office whose connection is cut
#     three times: bytes beyond the clean sync, per cut;
#   - idle: one more sync when nothing changed: wire bytes (handshake
#     included) and seconds; and a daemon left idle on an open session for
#     IDLE_S seconds (default 30): bytes the office's veth carried in that
#     time (IP packets: heartbeats, their ACKs, headers included).
# Writes bench-lab.json and bench-lab.md in the current directory (with
# the machine, the commit and the parameters) and prints the table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
RECORDS=${2:-20000}
IDLE_S=${IDLE_S:-30}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
export CIGSYNC=$B/client/cigsync CIGSYNC_SERVER=$B/server/cigsync-server
export CS_FAULTPROXY=$B/tests/tools/cs-faultproxy
export CS_TEST_LIB=$ROOT/tests/cli/lib.sh
for x in "$CIGSYNC" "$CIGSYNC_SERVER" "$CS_FAULTPROXY"; do
    [ -x "$x" ] || {
        echo "build first: cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release && cmake --build $B" >&2
        exit 2
    }
done
LAB_EVERY_S=${LAB_EVERY_S:-100000}
. "$CS_TEST_LIB"
. "$ROOT/tests/cli/lablib.sh"
lab_init
# The cleanup runs under this script's errexit: a `wait` for a killed
# process returns non-zero, and the cleanup would stop before it removed
# the work directory.
trap 'set +e; lab_cleanup; cleanup' EXIT
now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$(now)" "$1"; }
wire() { # wire N: bytes both ways through office N's proxy so far (it
    # writes its stats when both sides of a connection have closed, which
    # over the shaped link can take seconds: wait until every connection it
    # logged as opened is logged as closed, reset or cut; at most 60 s)
    local i opened ended
    for i in $(seq 120); do
        sleep 0.5
        opened=$(grep -c '^cs-faultproxy: connection [0-9]* from ' "$TMP/proxy$1.log" || true)
        ended=$(grep -cE '^cs-faultproxy: (connection [0-9]* closed after |connection [0-9]*: .*; resetting|cut connection )' "$TMP/proxy$1.log" || true)
        [ "$ended" -ge "$opened" ] && { sleep 0.3; break; } # stats follow the line
    done
    awk '/^bytes_(up|down) /{s+=$2} END{print s+0}' "$TMP/proxy$1.stats"
}

hub_setup
direct=tcp://127.0.0.1:$HUB_PORT
lab_office 1
lab_office 2
ep1=$(lab_proxy 1 "$HUB_PORT")
ep2=$(lab_proxy 2 "$HUB_PORT" --cut-after-ms 4000:8000 --max-cuts 3 --seed 11)
HUB_EP=$direct node_setup cen central
HUB_EP=$ep1 node_setup koc site KOC
HUB_EP=$ep2 node_setup koc2 site KOC
lab_hub_start
# Years and phone numbers from bash's seeded generator: a counter
# compresses to almost nothing, and the transfer would be over before
# the link did anything to it.
RANDOM=6
{
    echo "BEGIN;"
    for i in $(seq "$RECORDS"); do
        printf "INSERT INTO person(id, office_id, family_name, given_name, patronymic, sex, birth_year, phone, settlement) VALUES ('koc-p-%06d', 'KOC', 'Токтогулов-%d', 'Азамат', 'Бакытович', 'male', %d, '+996 %03d %05d%02d', 'Кочкор');\n" \
            "$i" "$i" $((1950 + RANDOM % 55)) $((RANDOM % 1000)) "$RANDOM" $((RANDOM % 100))
    done
    echo "COMMIT;"
} | sqlite3 "$TMP/cen/replica.db"
lab_in "$LAB_SRV" "$CIGSYNC" -C "$TMP/cen" sync --quiet --timeout 120 >/dev/null

# Goodput: the first sync ...
t0=$(now)
lab_in "$(lab_ns 1)" "$CIGSYNC" -C "$TMP/koc" sync --quiet --timeout 900 >"$TMP/koc.out"
sync_s=$(secs "$t0")
sync_wire=$(wire 1)
# ... against plain TCP: the same bytes, server to office, same link and
# proxy.
tcp_port=$(free_port)
ip netns exec "$LAB_SRV" python3 - "$tcp_port" "$sync_wire" <<'EOF' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); n = int(sys.argv[2]); block = b"x" * 65536
while n > 0:
    k = c.sendall(block[:min(n, len(block))]); n -= min(n, len(block))
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
EOF
src_pid=$!
sleep 0.3
ip netns exec "$(lab_ns 1)" "$CS_FAULTPROXY" --listen 127.0.0.1:0 \
    --to "$(lab_server_ip 1):$tcp_port" --port-file "$TMP/tcp.port" \
    --delay-ms $((LAB_RTT_MS / 2)) >"$TMP/tcp.log" 2>&1 &
LAB_PIDS="$LAB_PIDS $!"
for i in $(seq 100); do [ -s "$TMP/tcp.port" ] && break; sleep 0.05; done
tcp_ep=127.0.0.1:$(cat "$TMP/tcp.port")
t0=$(now)
ip netns exec "$(lab_ns 1)" python3 - "$tcp_ep" <<'EOF'
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
c = socket.create_connection((h, int(p))); got = 0
while True:
    b = c.recv(65536)
    if not b: break
    got += len(b)
c.close()
EOF
tcp_s=$(secs "$t0")
wait "$src_pid" 2>/dev/null || true

# Resume: the twin's first sync through cuts.
lab_in "$(lab_ns 2)" "$CIGSYNC" -C "$TMP/koc2" sync --quiet --timeout 900 >"$TMP/koc2.out"
cut_wire=$(wire 2)
cuts=$(sed -n 's/^cuts //p' "$TMP/proxy2.stats")

# Idle: a sync when nothing changed; a daemon idle on an open session.
before=$(wire 1)
t0=$(now)
lab_in "$(lab_ns 1)" "$CIGSYNC" -C "$TMP/koc" sync --quiet --timeout 60 >/dev/null
idle_s=$(secs "$t0")
idle_wire=$(( $(wire 1) - before ))
lab_in "$(lab_ns 1)" "$CIGSYNC" -C "$TMP/koc" daemon 2>/dev/null &
dpid=$!
sleep 5 # the session is open and in step
# The office's veth counters (IP packets, TCP/IP headers and ACKs
# included: what the link carries), both ways, over IDLE_S seconds.
veth() {
    lab_in "$(lab_ns 1)" cat "/sys/class/net/${LAB_ID}b1/statistics/tx_bytes" \
        "/sys/class/net/${LAB_ID}b1/statistics/rx_bytes" | paste -sd' ' |
        awk '{print $1 + $2}'
}
b0=$(veth)
sleep "$IDLE_S"
daemon_wire=$(( $(veth) - b0 ))
kill -TERM "$dpid"; wait "$dpid" 2>/dev/null || true

goodput=$(python3 -c "print('%.2f' % ($tcp_s / $sync_s))")
extra=$(( cut_wire - sync_wire ))
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
cat >bench-lab.json <<EOF
{"commit": "$commit", "machine": "$(uname -srm), $(nproc) cpus",
 "params": {"records": $RECORDS, "rate": "$LAB_RATE", "loss_pct": $LAB_LOSS,
            "rtt_ms": $LAB_RTT_MS, "idle_s": $IDLE_S},
 "first_sync": {"seconds": $sync_s, "wire_bytes": $sync_wire},
 "plain_tcp": {"seconds": $tcp_s, "bytes": $sync_wire},
 "goodput_ratio": $goodput,
 "cut_sync": {"cuts": $cuts, "wire_bytes": $cut_wire, "extra_bytes": $extra},
 "idle_sync": {"seconds": $idle_s, "wire_bytes": $idle_wire},
 "daemon_idle": {"seconds": $IDLE_S, "wire_bytes": $daemon_wire}}
EOF
cat >bench-lab.md <<EOF
| figure ($RECORDS records, $LAB_RATE, ${LAB_LOSS}% loss, ${LAB_RTT_MS} ms RTT; commit $commit) | cigsync | baseline | ratio |
|---|---|---|---|
| first sync over the shaped link | $sync_wire B in $sync_s s | plain TCP, same bytes: $tcp_s s | goodput $goodput |
| first sync with $cuts cuts | $cut_wire B | clean: $sync_wire B | +$extra B |
| idle sync (handshake included) | $idle_wire B in $idle_s s | | |
| daemon idle on an open session, ${IDLE_S} s (at the veth, headers included) | $daemon_wire B | | |
EOF
cat bench-lab.md
