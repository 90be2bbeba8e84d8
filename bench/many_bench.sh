#!/usr/bin/env bash
# bench/many_bench.sh - many offices against one server on loopback
# (issue 6).  Not a test: it prints, it asserts nothing.
#
#   bench/many_bench.sh [BUILD_DIR] [OFFICES] [RECORDS]   (build/release 100 20)
#
# Makes a server and OFFICES office nodes (site, office codes O001...),
# each with RECORDS groups recorded with the sqlite3 shell, starts a daemon
# per office and the server, and waits until every office's rows are at
# the server and every office's replica equals the server's rows of its
# office.  Prints the time to converge, the server's peak RSS (VmHWM) and
# the largest daemon's, next to the baseline of one office syncing alone
# (its time with `cigsync sync`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
N=${2:-100}
R=${3:-20}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
cs=$B/client/cigsync
srv=$B/server/cigsync-server
[ -x "$cs" ] && [ -x "$srv" ] || {
    echo "build first: cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release && cmake --build $B" >&2
    exit 2
}
W=$(mktemp -d /tmp/cigsync-many.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$(now)" "$1"; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ep=tcp://127.0.0.1:$port
key=$("$srv" init "$W/hub" --listen "$ep" 2>/dev/null)
for i in $(seq "$N"); do
    o=$(printf 'O%03d' "$i")
    id=$("$cs" init "$W/$o" --name "$o" --office "$o" --server "$ep" --server-key "$key" 2>/dev/null)
    "$srv" enroll "$W/hub" "$o" --role site --office "$o" --key "$id" >/dev/null 2>&1
    {
        echo "BEGIN;"
        for k in $(seq "$R"); do
            printf "INSERT INTO cig(name, settlement, status, focus) VALUES ('Жаштар %s-%d', 'Кочкор', 'active', 'суу жана жолдор');\n" "$o" "$k"
        done
        echo "COMMIT;"
    } | sqlite3 "$W/$o/replica.db"
done
"$srv" run "$W/hub" 2>"$W/hub.log" &
srv_pid=$!
PIDS="$srv_pid"
sleep 0.5

# Baseline: one office alone.
t0=$(now)
"$cs" -C "$W/O001" sync --quiet --timeout 60 >/dev/null
alone=$(secs "$t0")

# Every office at once, as daemons.
t0=$(now)
for i in $(seq 2 "$N"); do
    o=$(printf 'O%03d' "$i")
    CIGSYNC_LOG=warn "$cs" -C "$W/$o" daemon 2>>"$W/daemons.log" &
    PIDS="$PIDS $!"
done
want=$((N * R))
for t in $(seq 600); do
    have=$(sqlite3 "$W/hub/replica.db" "SELECT count(*) FROM cig" 2>/dev/null || echo 0)
    [ "$have" = "$want" ] && break
    sleep 0.5
done
differ=0
for i in $(seq "$N"); do
    o=$(printf 'O%03d' "$i")
    a=$(sqlite3 "$W/$o/replica.db" "SELECT id, name FROM cig ORDER BY id" 2>/dev/null)
    b=$(sqlite3 "$W/hub/replica.db" "SELECT id, name FROM cig WHERE office_id = '$o' ORDER BY id")
    [ "$a" = "$b" ] || differ=$((differ + 1))
done
all=$(secs "$t0")
srv_kb=$(hwm "$srv_pid")
d_kb=0
for p in $PIDS; do
    [ "$p" = "$srv_pid" ] && continue
    k=$(hwm "$p")
    [ "$k" -gt "$d_kb" ] && d_kb=$k
done
echo "| figure ($N offices x $R records, loopback; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)) | value | baseline |"
echo "|---|---|---|"
echo "| all offices' rows at the server | $have of $want in $all s | one office alone: $alone s |"
echo "| offices whose replica differs from the server's | $differ of $N | |"
echo "| server peak RSS | $((srv_kb / 1024)) MiB | |"
echo "| largest daemon peak RSS | $((d_kb / 1024)) MiB | |"
