#!/usr/bin/env bash
# bench/bench.sh - the benchmark: a programme's offices against one server,
# every figure next to a baseline measured in the same run, the issue's
# target and whether it is met.  Not a test: it prints, it asserts nothing
# (but it says so when replicas do not converge or changes are refused).
#
#   bench/bench.sh [--build DIR] [--seed N] [--offices N] [--scale X]
#                  [--out DIR]
#       defaults: build/release, 1, 6, 1.0, build/bench-report
#
# Needs a release build (cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
# && cmake --build build/release), python3, sqlite3, gzip, ss (iproute2).
# Takes about 5 minutes at the defaults (the link lab, 100 daemons and the
# 100,000-change sync take most of it).  The three binaries are copied into the work directory at
# the start (once they are 5 s old), so a rebuild of BUILD during the run
# does not mix versions; lab_bench and many_bench get that copy too.
# Knobs (environment): IDLE_S (seconds of the idle daemon measurements,
# default 30), BENCH_SKIP ("lab", "many", "big", or several separated by
# spaces: leave those parts out), BIG_SCALE (step 5's workload scale,
# default 17), KEEP=1 (keep the work directory).
#
# What it does, on 127.0.0.1, in a temporary directory removed at the end:
#   0. bench/workload.py --seed --offices --scale writes the workload (SQL
#      per office and for the central office, the same operations as JSON
#      lines).  A server (`cigsync-server run`), OFFICES site nodes (ISF,
#      KOC, O03, ...), a central node (CEN, role central) and a second node
#      of the first office (a new laptop).  Every node reaches the server
#      through its own byte-counting TCP proxy (tests/tools/cs-faultproxy
#      --stats, no faults): the bytes are what TCP carries both ways
#      (ZMTP, CurveZMQ handshake and framing included; no TCP/IP headers),
#      read when the proxies stop at the end of each phase.
#   1. Initial phase: each office applies initial.sql with the sqlite3
#      shell, then syncs (`cigsync sync`, one office after the other: its
#      upload is timed on its own); then central syncs (it downloads every
#      office), then the new laptop of the first office (it downloads that
#      office).  Bytes up and down against gzip -6 of initial.jsonl (the
#      first office's lines for the laptop); merge throughput (changes
#      applied per second, the sync's wall time: pack, send, apply at the
#      server, acknowledge) against raw SQLite upserts of the same rows in
#      one transaction into plain tables (the schema's tables without
#      triggers or indexes, INSERT ... ON CONFLICT(id) DO UPDATE), timed in
#      this run.  Checks every replica against the server's rows.
#   2. Edit phase: every office applies edit.sql and central CEN/edit.sql
#      (after the first half of the offices, so the concurrent edits are won
#      by either side), all before any node syncs; then one daemon per
#      node (`cigsync -C NODE daemon`) starts; convergence time = from the
#      last edit's commit until every replica equals the server's rows of
#      its scope, nothing is unsent and the server has every node's last
#      batch.  Bytes against gzip -6 of edit.jsonl (up) and of what each
#      node needs to receive (down: the offices' lines for central, central's
#      lines on an office's rows for that office).  Conflicts recorded
#      against the workload's concurrent edits.  Peak RSS (VmHWM) of the
#      server and of the largest daemon.
#   3. Idle: one `cigsync sync` of the first office when nothing changed
#      (bytes; round trips: the same sync again through a proxy adding
#      100 ms each way, (time - time without) / 200 ms); a daemon idle on an
#      open session for IDLE_S seconds (bytes and TCP data segments of its
#      connection, from `ss -ti`: round trips = (segments in + out) / 2).
#   4. As root with ip, tc and nft: bench/lab_bench.sh (a shaped 64 kbit/s
#      link: goodput against plain TCP, bytes resent per cut connection);
#      always bench/many_bench.sh BUILD 100 20 (100 daemons: server and
#      daemon RSS).
#   5. A first sync of about 100,000 changes (one office at workload scale
#      BIG_SCALE, default 17) into a new central node's daemon: its peak
#      RSS, sampled every 0.1 s; then build/.../bench/merge_bench --json
#      100000: the server's and an office's merge in one process against
#      raw upserts of the same changes.
# Writes OUT/bench.json and OUT/bench.md (machine, commit, date,
# parameters, figures), OUT/workload-summary.json, OUT/bench-lab.* and
# OUT/many-bench.md when they ran, and prints bench.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=build/release
SEED=1
OFFICES=6
SCALE=1.0
OUT=build/bench-report
IDLE_S=${IDLE_S:-30}
BENCH_SKIP=${BENCH_SKIP:-}
usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit "${1:-2}"
}
while [ $# -gt 0 ]; do
    case "$1" in
    --build) B=${2:?--build DIR}; shift 2 ;;
    --seed) SEED=${2:?--seed N}; shift 2 ;;
    --offices) OFFICES=${2:?--offices N}; shift 2 ;;
    --scale) SCALE=${2:?--scale X}; shift 2 ;;
    --out) OUT=${2:?--out DIR}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "bench.sh: unknown argument: $1" >&2; usage 2 ;;
    esac
done
case "$SEED$OFFICES" in *[!0-9]*) echo "bench.sh: --seed and --offices take integers" >&2; exit 2 ;; esac
[ "$OFFICES" -ge 1 ] || { echo "bench.sh: --offices: at least 1" >&2; exit 2; }
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
case "$OUT" in /*) ;; *) OUT=$ROOT/$OUT ;; esac
cs=$B/client/cigsync
srv=$B/server/cigsync-server
fproxy=$B/tests/tools/cs-faultproxy
for x in "$cs" "$srv" "$fproxy"; do
    [ -x "$x" ] || {
        echo "bench.sh: $x missing; build first: cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release && cmake --build $B" >&2
        exit 2
    }
done
for t in python3 sqlite3 gzip ss; do
    command -v "$t" >/dev/null || { echo "bench.sh: needs $t" >&2; exit 2; }
done
mkdir -p "$OUT"

W=$(mktemp -d /tmp/cigsync-bench.XXXXXX)
PIDS=""        # every background process this script started
declare -A PX  # node name -> its proxy's pid
declare -A PP  # node name -> its proxy's port
declare -A DP  # node name -> its daemon's pid
cleanup() {
    local p
    trap - EXIT INT TERM
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in $PIDS; do
        wait "$p" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "bench.sh: work directory kept: $W" >&2
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Snapshot the binaries (BUILD_DIR's layout, for lab_bench and many_bench
# too): other people may rebuild BUILD while this runs.  A build in
# progress: wait until the binaries are 5 s old.
for i in $(seq 90); do
    newest=$(stat -c %Y "$cs" "$srv" "$fproxy" | sort -n | tail -1)
    [ $(($(date +%s) - newest)) -ge 5 ] && break
    sleep 2
done
BIN=$W/build
mkdir -p "$BIN/client" "$BIN/server" "$BIN/tests/tools"
cp -p "$cs" "$BIN/client/cigsync"
cp -p "$srv" "$BIN/server/cigsync-server"
cp -p "$fproxy" "$BIN/tests/tools/cs-faultproxy"
cs=$BIN/client/cigsync
srv=$BIN/server/cigsync-server
fproxy=$BIN/tests/tools/cs-faultproxy
say() { echo "bench: $*" >&2; }
now() { date +%s.%N; }
fact() { echo "$1 $2" >>"$W/facts"; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
forget() { # forget PID: it has ended
    local p keep=""
    for p in $PIDS; do [ "$p" = "$1" ] || keep="$keep $p"; done
    PIDS=$keep
}

# timed OUT IN STDOUT CMD...: runs CMD (stdin IN or /dev/null, stdout to
# STDOUT), writes "seconds peak_rss_kb exit_status" to OUT.
cat >"$W/timed.py" <<'EOF'
import resource, subprocess, sys, time
out, stdin, stdout, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with open(stdin or "/dev/null", "rb") as i, open(stdout, "wb") as o:
    t = time.monotonic()
    r = subprocess.run(cmd, stdin=i, stdout=o)
    d = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as f:
    f.write("%.6f %d %d\n" % (d, rss, r.returncode))
sys.exit(r.returncode)
EOF
timed() { python3 "$W/timed.py" "$@"; }

# compare.py [--wait T0 LIMIT] HUB NODE... (NODE = dir:name:office:role):
# exit 0 when every node is in step: nothing unsent, the server has its
# last batch, and its replica equals the server's rows of its scope (a
# site: its office's rows; central: all).  Otherwise prints why (the first
# difference) and exits 1.  With --wait it looks every 50 ms until in step
# (then prints the seconds since T0, an epoch time) or LIMIT seconds.
cat >"$W/compare.py" <<'EOF'
import sqlite3, sys, time

def ro(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)

def once(hubdir, nodes):
    hub = ro(hubdir + "/replica.db")
    tables = [r[0] for r in hub.execute("SELECT name FROM zz_table ORDER BY name")]
    last = dict(hub.execute("SELECT name, last_seq FROM zz_srv_node"))
    dbs = {}
    for d, name, office, role in nodes:
        db = dbs[name] = ro(d + "/replica.db")
        unsent = db.execute("SELECT count(*) FROM zz_log WHERE oid = 1 AND batch IS NULL").fetchone()[0]
        seq = db.execute("SELECT coalesce(max(seq), 0) FROM zz_batch").fetchone()[0]
        if unsent:
            return "%s: %d changes not yet sent" % (name, unsent)
        if seq != last.get(name, 0):
            return "%s: the server has batch %s of %s" % (name, last.get(name), seq)
    hubrows = {t: hub.execute('SELECT * FROM "%s" ORDER BY id' % t).fetchall() for t in tables}
    for d, name, office, role in nodes:
        for t in tables:
            mine = dbs[name].execute('SELECT * FROM "%s" ORDER BY id' % t).fetchall()
            theirs = hubrows[t] if role == "central" else [r for r in hubrows[t] if r[1] == office]
            if mine != theirs:
                a, b = set(mine), set(theirs)
                return "%s: %s differs: %d rows only here, %d only at the server" % (
                    name, t, len(a - b), len(b - a))
    return None

args = sys.argv[1:]
t0 = limit = None
if args[0] == "--wait":
    t0, limit, args = float(args[1]), float(args[2]), args[3:]
nodes = [a.split(":") for a in args[1:]]
while True:
    try:
        why = once(args[0], nodes)
    except sqlite3.OperationalError as e:  # a writer held the file too long
        why = "reading: %s" % e
    if why is None:
        print("%.3f" % (time.time() - t0) if t0 is not None else "in step")
        sys.exit(0)
    if t0 is None or time.time() - t0 > limit:
        print(why)
        sys.exit(1)
    time.sleep(0.05)
EOF

# ---- 0. workload, server, nodes, proxies -------------------------------------
commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
say "workload: seed $SEED, $OFFICES offices, scale $SCALE"
python3 "$ROOT/bench/workload.py" --seed "$SEED" --offices "$OFFICES" --scale "$SCALE" --out "$W/wl"
cp "$W/wl/summary.json" "$OUT/workload-summary.json"
mapfile -t CODES < <(python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["per_office"]))' "$W/wl/summary.json")
FIRST=${CODES[0]}
first=${FIRST,,}
declare -A OFF ROLE
NODES=()
for c in "${CODES[@]}"; do
    n=${c,,}
    NODES+=("$n"); OFF[$n]=$c; ROLE[$n]=site
done
NODES+=(cen); OFF[cen]=CEN; ROLE[cen]=central
TWIN=${first}2; OFF[$TWIN]=$FIRST; ROLE[$TWIN]=site # the first office's new laptop

HUB=$W/hub
HUB_PORT=$(free_port)
key=$("$srv" init "$HUB" --listen "tcp://127.0.0.1:$HUB_PORT" 2>"$W/hub.init")
mkdir -p "$W/nodes" "$W/px" "$W/phase"
for n in "${NODES[@]}" "$TWIN"; do
    PP[$n]=$(free_port)
    id=$("$cs" init "$W/nodes/$n" --name "$n" --office "${OFF[$n]}" \
        --server "tcp://127.0.0.1:${PP[$n]}" --server-key "$key" 2>"$W/nodes/$n.init")
    if [ "${ROLE[$n]}" = central ]; then
        "$srv" enroll "$HUB" "$n" --role central --key "$id" >/dev/null 2>>"$W/enroll.log"
    else
        "$srv" enroll "$HUB" "$n" --role site --office "${OFF[$n]}" --key "$id" >/dev/null 2>>"$W/enroll.log"
    fi
done
spec() { echo "$W/nodes/$1:$1:${OFF[$1]}:${ROLE[$1]}"; }
ALLSPEC=()
for n in "${NODES[@]}"; do ALLSPEC+=("$(spec "$n")"); done

CIGSYNC_LOG=info "$srv" run "$HUB" 2>"$W/hub.log" &
SRV_PID=$!
PIDS="$PIDS $SRV_PID"
for i in $(seq 100); do
    grep -q "serving on" "$W/hub.log" 2>/dev/null && break
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$W/hub.log" >&2; exit 1; }
    sleep 0.1
done

proxy_start() { # proxy_start NODE [cs-faultproxy options]
    local n=$1 i
    shift
    rm -f "$W/px/$n.port" "$W/px/$n.stats"
    "$fproxy" --listen "127.0.0.1:${PP[$n]}" --to "127.0.0.1:$HUB_PORT" \
        --port-file "$W/px/$n.port" --stats "$W/px/$n.stats" "$@" 2>>"$W/px/$n.log" &
    PX[$n]=$!
    PIDS="$PIDS ${PX[$n]}"
    for i in $(seq 200); do
        [ -s "$W/px/$n.port" ] && return 0
        sleep 0.02
    done
    echo "bench.sh: the proxy of $n did not start: $(tail -3 "$W/px/$n.log")" >&2
    exit 1
}
proxy_stop() { # proxy_stop NODE PHASE: stops it; its totals go to PHASE/NODE.stats
    local n=$1
    kill -TERM "${PX[$n]}"
    wait "${PX[$n]}" || true
    forget "${PX[$n]}"
    mkdir -p "$W/phase/$2"
    cp "$W/px/$n.stats" "$W/phase/$2/$n.stats"
}

# The baselines' inputs: gzip -6 sizes, raw upsert SQL, plain tables.
sqlite3 "$W/nodes/cen/replica.db" \
    "SELECT sql || ';' FROM sqlite_master WHERE type = 'table' AND name IN (SELECT name FROM zz_table)" \
    >"$W/plain-schema.sql"
python3 - "$W" "$FIRST" <<'EOF'
import json, subprocess, sys
w, first = sys.argv[1], sys.argv[2]

def gz(lines):
    return len(subprocess.run(["gzip", "-6", "-c"], input="".join(lines).encode(),
                              capture_output=True, check=True).stdout)

def q(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"

def upserts(lines):
    out = ["BEGIN;"]
    for line in lines:
        o = json.loads(line)
        t, i = o["table"], o["id"]
        if o["op"] == "insert":
            cols = list(o["row"])
            out.append("INSERT INTO %s(id, %s) VALUES (%s, %s) ON CONFLICT(id) DO UPDATE SET %s;" % (
                t, ", ".join(cols), q(i), ", ".join(q(v) for v in o["row"].values()),
                ", ".join("%s = excluded.%s" % (c, c) for c in cols)))
        elif o["op"] == "update":
            f = o["field"]
            out.append("INSERT INTO %s(id, %s) VALUES (%s, %s) ON CONFLICT(id) DO UPDATE SET %s = excluded.%s;" % (
                t, f, q(i), q(o["value"]), f, f))
        else:
            out.append("DELETE FROM %s WHERE id = %s;" % (t, q(i)))
    out.append("COMMIT;")
    return "\n".join(out) + "\n"

init = open(w + "/wl/initial.jsonl", encoding="utf-8").readlines()
edit = open(w + "/wl/edit.jsonl", encoding="utf-8").readlines()
node_of = {}  # row id -> owning office's node name
for line in init + edit:
    o = json.loads(line)
    if o["op"] == "insert":
        node_of[o["id"]] = o["by"]
mine = [l for l in init if json.loads(l)["by"] == first.lower()]
office_edits = [l for l in edit if json.loads(l)["by"] != "cen"]
down = gz(office_edits)  # what central must receive
for node in sorted({json.loads(l)["by"] for l in init}):
    part = [l for l in edit if json.loads(l)["by"] == "cen" and node_of[json.loads(l)["id"]] == node]
    if part:
        down += gz(part)  # what an office must receive from central
with open(w + "/facts", "a") as f:
    f.write("gz_initial %d\ngz_edit %d\ngz_edit_down %d\ngz_first_initial %d\n" % (
        gz(init), gz(edit), down, gz(mine)))
    f.write("jsonl_initial_bytes %d\njsonl_edit_bytes %d\n" % (
        sum(len(l.encode()) for l in init), sum(len(l.encode()) for l in edit)))
    f.write("ops_first_initial %d\n" % len(mine))
open(w + "/raw-initial.sql", "w", encoding="utf-8").write(upserts(init))
open(w + "/raw-first.sql", "w", encoding="utf-8").write(upserts(mine))
open(w + "/raw-edit.sql", "w", encoding="utf-8").write(upserts(edit))
EOF
sqlite3 "$W/plain.db" <"$W/plain-schema.sql"
sqlite3 "$W/plain-first.db" <"$W/plain-schema.sql"

pending() { sqlite3 "$W/nodes/$1/replica.db" "SELECT count(*) FROM zz_log WHERE oid = 1 AND batch IS NULL"; }
check() { # check PHASE: every node against the server
    if python3 "$W/compare.py" "$HUB" "${ALLSPEC[@]}" >"$W/phase/$1.check" 2>&1; then
        fact "converged_$1" 1
    else
        fact "converged_$1" 0
        say "$1: NOT in step: $(cat "$W/phase/$1.check")"
    fi
}

nodes_snap() { sqlite3 "$HUB/replica.db" "SELECT name, bytes_in, bytes_out FROM zz_srv_node ORDER BY name" >"$W/phase/$1.nodes"; }
nodes_snap start

# ---- 1. initial phase ---------------------------------------------------------
say "initial phase: raw upserts, capture, uploads, central and a new laptop download"
timed "$W/raw-initial.time" "$W/raw-initial.sql" /dev/null sqlite3 -bail "$W/plain.db"
timed "$W/raw-first.time" "$W/raw-first.sql" /dev/null sqlite3 -bail "$W/plain-first.db"
mkdir -p "$W/phase/initial"
t0=$(now)
for c in "${CODES[@]}"; do
    n=${c,,}
    sqlite3 -bail "$W/nodes/$n/replica.db" <"$W/wl/$c/initial.sql"
done
fact capture_initial_s "$(python3 -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(now)" "$t0")"
up_changes=0
for n in "${NODES[@]}"; do
    k=$(pending "$n")
    up_changes=$((up_changes + k))
    proxy_start "$n"
done
fact changes_up_initial "$up_changes"
c0=$(cpu_ticks "$SRV_PID")
for c in "${CODES[@]}"; do
    n=${c,,}
    timed "$W/phase/initial/$n.time" "" "$W/phase/initial/$n.out" \
        "$cs" -C "$W/nodes/$n" sync --quiet --timeout 300 || true
done
fact server_cpu_ticks_up "$(( $(cpu_ticks "$SRV_PID") - c0 ))"
timed "$W/phase/initial/cen.time" "" "$W/phase/initial/cen.out" \
    "$cs" -C "$W/nodes/cen" sync --quiet --timeout 300 || true
for n in "${NODES[@]}"; do proxy_stop "$n" initial; done
nodes_snap initial
proxy_start "$TWIN"
mkdir -p "$W/phase/twin"
timed "$W/phase/twin/$TWIN.time" "" "$W/phase/twin/$TWIN.out" \
    "$cs" -C "$W/nodes/$TWIN" sync --quiet --timeout 300 || true
proxy_stop "$TWIN" twin
nodes_snap twin
check initial
if ! python3 "$W/compare.py" "$HUB" "$(spec "$TWIN")" >"$W/phase/twin.check" 2>&1; then
    say "the new laptop is NOT in step: $(cat "$W/phase/twin.check")"
fi

# ---- 2. edit phase ------------------------------------------------------------
say "edit phase: raw upserts, every node edits offline, then daemons"
timed "$W/raw-edit.time" "$W/raw-edit.sql" /dev/null sqlite3 -bail "$W/plain.db"
for n in "${NODES[@]}"; do proxy_start "$n"; done
half=$(((${#CODES[@]} + 1) / 2))
i=0
for c in "${CODES[@]}"; do
    n=${c,,}
    sqlite3 -bail "$W/nodes/$n/replica.db" <"$W/wl/$c/edit.sql"
    i=$((i + 1))
    [ "$i" = "$half" ] && sqlite3 -bail "$W/nodes/cen/replica.db" <"$W/wl/CEN/edit.sql"
done
up_changes=0
for n in "${NODES[@]}"; do
    k=$(pending "$n")
    up_changes=$((up_changes + k))
done
fact changes_up_edit "$up_changes"
c0=$(cpu_ticks "$SRV_PID")
t0=$(now) # every edit is committed
for n in "${NODES[@]}"; do
    CIGSYNC_LOG=info "$cs" -C "$W/nodes/$n" daemon 2>"$W/phase/$n.daemon.log" &
    DP[$n]=$!
    PIDS="$PIDS ${DP[$n]}"
done
if python3 "$W/compare.py" --wait "$t0" 600 "$HUB" "${ALLSPEC[@]}" >"$W/phase/edit.poll" 2>&1; then
    fact convergence_edit_s "$(cat "$W/phase/edit.poll")"
else
    say "edit phase: not in step after 600 s: $(cat "$W/phase/edit.poll")"
fi
fact server_cpu_ticks_edit "$(( $(cpu_ticks "$SRV_PID") - c0 ))"
big=0
bign=""
for n in "${NODES[@]}"; do
    k=$(hwm "${DP[$n]}")
    fact "daemon_hwm_kb_$n" "$k"
    [ "$k" -gt "$big" ] && { big=$k; bign=$n; }
done
fact daemon_hwm_kb_max "$big"
fact daemon_hwm_node "$bign"
for n in "${NODES[@]}"; do
    kill -TERM "${DP[$n]}"
    wait "${DP[$n]}" || true
    forget "${DP[$n]}"
done
for n in "${NODES[@]}"; do proxy_stop "$n" edit; done
nodes_snap edit
check edit
for n in "${NODES[@]}"; do
    fact "conflicts_$n" "$(sqlite3 "$W/nodes/$n/replica.db" "SELECT count(*) FROM zz_conflict")"
done

# ---- 3. idle ------------------------------------------------------------------
say "idle: a sync when nothing changed, and a daemon on an open session for $IDLE_S s"
mkdir -p "$W/phase/idle" "$W/phase/idle-delay"
proxy_start "$first"
timed "$W/phase/idle/$first.time" "" "$W/phase/idle/$first.out" \
    "$cs" -C "$W/nodes/$first" sync --quiet --timeout 60 || true
proxy_stop "$first" idle
proxy_start "$first" --delay-ms 100
timed "$W/phase/idle-delay/$first.time" "" "$W/phase/idle-delay/$first.out" \
    "$cs" -C "$W/nodes/$first" sync --quiet --timeout 60 || true
proxy_stop "$first" idle-delay
proxy_start "$first"
CIGSYNC_LOG=info "$cs" -C "$W/nodes/$first" daemon 2>"$W/phase/idle.daemon.log" &
DP[$first]=$!
PIDS="$PIDS ${DP[$first]}"
for i in $(seq 300); do
    grep -q "in step with the server" "$W/phase/idle.daemon.log" && break
    sleep 0.1
done
sleep 2
sock() { ss -tinH state established "( dport = :${PP[$first]} )" >"$1"; }
sock "$W/phase/idle.ss0"
sleep "$IDLE_S"
sock "$W/phase/idle.ss1"
fact daemon_idle_hwm_kb "$(hwm "${DP[$first]}")"
kill -TERM "${DP[$first]}"
wait "${DP[$first]}" || true
forget "${DP[$first]}"
proxy_stop "$first" idle-daemon
fact server_hwm_kb "$(hwm "$SRV_PID")"
check final
kill -TERM "$SRV_PID"
wait "$SRV_PID" || true
forget "$SRV_PID"

# ---- 4. the link lab and 100 daemons --------------------------------------
mkdir -p "$W/lab"
lab_ok=1
case " $BENCH_SKIP " in *" lab "*) lab_ok=0 ;; esac
if [ "$lab_ok" = 1 ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null &&
    command -v tc >/dev/null && command -v nft >/dev/null; then
    say "link lab: bench/lab_bench.sh (a few minutes)"
    (cd "$W/lab" && IDLE_S=$IDLE_S exec bash "$ROOT/bench/lab_bench.sh" "$BIN") >"$W/lab.out" 2>&1 &
    p=$!
    PIDS="$PIDS $p"
    rc=0
    wait "$p" || rc=$?
    forget "$p"
    fact lab_rc "$rc"
    if [ -s "$W/lab/bench-lab.json" ]; then
        cp "$W/lab/bench-lab.json" "$W/lab/bench-lab.md" "$OUT/"
    else
        say "the link lab gave no figures (exit $rc): $(tail -3 "$W/lab.out")"
    fi
else
    fact lab_rc skipped
    say "link lab skipped (needs root, ip, tc and nft; BENCH_SKIP=$BENCH_SKIP)"
fi
case " $BENCH_SKIP " in
*" many "*) fact many_rc skipped ;;
*)
    say "100 offices: bench/many_bench.sh BUILD 100 20"
    bash "$ROOT/bench/many_bench.sh" "$BIN" 100 20 >"$W/many.out" 2>"$W/many.err" &
    p=$!
    PIDS="$PIDS $p"
    rc=0
    wait "$p" || rc=$?
    forget "$p"
    fact many_rc "$rc"
    cp "$W/many.out" "$OUT/many-bench.md"
    ;;
esac

# ---- 5. a first sync of 100,000 changes: the daemon's memory --------------
# One office records BIG_SCALE times the workload's office (about 100,000
# changes at the default 17), uploads it, and a new central node's daemon
# takes all of it in: its peak RSS is sampled every 0.1 s until its replica
# equals the server's.  Then merge_bench: merge throughput in one process
# (no network, no sync protocol), against raw upserts of the same changes.
case " $BENCH_SKIP " in
*" big "*) fact big_rc skipped ;;
*)
    BIG_SCALE=${BIG_SCALE:-17}
    say "a first sync of about 100,000 changes (workload scale $BIG_SCALE, one office)"
    python3 "$ROOT/bench/workload.py" --seed "$SEED" --offices 1 --scale "$BIG_SCALE" --out "$W/big"
    BIG_PORT=$(free_port)
    bkey=$("$srv" init "$W/bighub" --listen "tcp://127.0.0.1:$BIG_PORT" 2>>"$W/big.log")
    for n in bigsite bigcen; do
        id=$("$cs" init "$W/$n" --name "$n" --office "$([ "$n" = bigsite ] && echo "$FIRST" || echo CEN)" \
            --server "tcp://127.0.0.1:$BIG_PORT" --server-key "$bkey" 2>>"$W/big.log")
        if [ "$n" = bigsite ]; then
            "$srv" enroll "$W/bighub" "$n" --role site --office "$FIRST" --key "$id" >/dev/null 2>>"$W/big.log"
        else
            "$srv" enroll "$W/bighub" "$n" --role central --key "$id" >/dev/null 2>>"$W/big.log"
        fi
    done
    CIGSYNC_LOG=warn "$srv" run "$W/bighub" 2>>"$W/big.log" &
    BSRV=$!
    PIDS="$PIDS $BSRV"
    sqlite3 "$W/bigsite/replica.db" <"$W/big/$FIRST/initial.sql"
    "$cs" -C "$W/bigsite" sync --quiet --timeout 300 >>"$W/big.log" 2>&1
    t0=$(now)
    CIGSYNC_LOG=warn "$cs" -C "$W/bigcen" daemon 2>>"$W/big.log" &
    BD=$!
    PIDS="$PIDS $BD"
    bigmax=0
    big_ok=0
    for i in $(seq 3000); do
        k=$(hwm "$BD")
        [ "$k" -gt "$bigmax" ] && bigmax=$k
        if [ $((i % 10)) = 0 ] &&
            python3 "$W/compare.py" "$W/bighub" "$W/bigcen:bigcen:CEN:central" >/dev/null 2>&1; then
            big_ok=1
            break
        fi
        sleep 0.1
    done
    fact big_secs "$(python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$(now)" "$t0")"
    k=$(hwm "$BD")
    [ "$k" -gt "$bigmax" ] && bigmax=$k
    fact big_hwm_kb "$bigmax"
    fact big_ok "$big_ok"
    fact big_changes "$(sqlite3 "$W/bigcen/replica.db" "SELECT count(*) FROM zz_log")"
    fact big_rows "$(grep -c '^INSERT' "$W/big/$FIRST/initial.sql")"
    kill -TERM "$BD" "$BSRV" 2>/dev/null || true
    wait "$BD" "$BSRV" 2>/dev/null || true
    forget "$BD"
    forget "$BSRV"
    fact big_rc 0
    ;;
esac
if [ -x "$B/bench/merge_bench" ]; then
    say "merge_bench: 100,000 changes in one process"
    "$B/bench/merge_bench" --json 100000 >"$W/merge.json" 2>>"$W/merge.err" || true
    [ -s "$W/merge.json" ] && cp "$W/merge.json" "$OUT/merge-bench.json"
fi

# ---- report -------------------------------------------------------------------
python3 - "$W" "$OUT" "$commit" "$dirty" "$SEED" "$OFFICES" "$SCALE" "$IDLE_S" "$B" "$first" "$TWIN" "$BIN" <<'EOF'
import datetime, glob, json, os, platform, re, subprocess, sys

w, out, commit, dirty, seed, offices, scale, idle_s, build, first, twin, binsnap = sys.argv[1:13]
facts = {}
for line in open(w + "/facts"):
    k, v = line.split(None, 1)
    v = v.strip()
    try:
        facts[k] = float(v) if "." in v or "e" in v else int(v)
    except ValueError:
        facts[k] = v

def stats(phase):
    up = down = 0
    per = {}
    for p in sorted(glob.glob("%s/phase/%s/*.stats" % (w, phase))):
        d = dict(l.split() for l in open(p) if l.strip())
        n = os.path.basename(p)[:-6]
        per[n] = {"up": int(d["bytes_up"]), "down": int(d["bytes_down"])}
        up += per[n]["up"]
        down += per[n]["down"]
    return up, down, per

def timed(path):
    s, rss, rc = open(path).read().split()
    return float(s), int(rss), int(rc)

SYNC = re.compile(r"in step with the server: sent (\d+) batches \((\d+) bytes, (\d+) resent\), "
                  r"received (\d+) \((\d+) changes, (\d+) bytes\), (\d+) refused, (\d+) sessions")

def sync_out(path):
    m = SYNC.search(open(path, encoding="utf-8", errors="replace").read())
    if not m:
        return None
    k = ["batches_sent", "bytes_sent", "resent", "batches_received", "changes_received",
         "bytes_received", "refused", "sessions"]
    return dict(zip(k, map(int, m.groups())))

summary = json.load(open(w + "/wl/summary.json"))
tot = summary["totals"]
figs = []

def fig(group, name, value, unit, baseline=None, bunit="", bwhat="", ratio=None,
        target=None, met=None, note=""):
    figs.append({"group": group, "figure": name, "value": value, "unit": unit,
                 "baseline": baseline, "baseline_unit": bunit, "baseline_what": bwhat,
                 "ratio": ratio, "target": target, "met": met, "note": note})

def rnd(x, n=2):
    return None if x is None else round(x, n)

# 1. bytes
iu, idn, iper = stats("initial")
eu, edn, eper = stats("edit")
tu, tdn, _ = stats("twin")
gi, ge, ged, gf = facts["gz_initial"], facts["gz_edit"], facts["gz_edit_down"], facts["gz_first_initial"]
for name, v, base, bw, tgt, lim in [
        ("initial phase, upstream (offices -> server)", iu, gi, "gzip -6 of initial.jsonl", "<= 0.5x", 0.5),
        ("initial phase, downstream (server -> central and offices)", idn, gi, "gzip -6 of initial.jsonl, all of which central receives", "<= 0.5x", 0.5),
        ("edit phase, upstream (offices and central -> server)", eu, ge, "gzip -6 of edit.jsonl", "<= 0.6x", 0.6),
        ("edit phase, downstream (server -> every node)", edn, ged, "gzip -6 of each node's share of edit.jsonl, summed", "<= 0.6x", 0.6),
        ("new laptop's first sync of %s, downstream" % first.upper(), tdn, gf, "gzip -6 of %s's initial lines" % first.upper(), "<= 0.5x", 0.5)]:
    r = v / base if base else None
    fig("bytes on the wire (TCP payload at the proxies)", name, v, "B", base, "B", bw, rnd(r, 3), tgt,
        None if r is None else r <= lim)
fig("bytes on the wire (TCP payload at the proxies)", "upstream per operation of the workload, initial / edit phase",
    "%.1f / %.1f" % (iu / tot["initial_ops"], eu / tot["edit_ops"]), "B/op",
    "%.1f / %.1f" % (gi / tot["initial_ops"], ge / tot["edit_ops"]), "B/op", "gzip -6 JSON lines",
    None, None, None, "%d / %d operations = %d / %d changes (one per field, delete and acknowledgement): %.1f / %.1f B/change" % (
        tot["initial_ops"], tot["edit_ops"], facts["changes_up_initial"], facts["changes_up_edit"],
        iu / max(1, facts["changes_up_initial"]), eu / max(1, facts["changes_up_edit"])))
def envelopes(phase):
    path = "%s/phase/%s.nodes" % (w, phase)
    rows = {}
    for line in open(path):
        n, bi, bo = line.strip().split("|")
        rows[n] = (int(bi), int(bo))
    return rows
def env_delta(a, b):
    ea, eb = envelopes(a), envelopes(b)
    return (sum(eb[n][0] - ea.get(n, (0, 0))[0] for n in eb),
            sum(eb[n][1] - ea.get(n, (0, 0))[1] for n in eb))
for phase, prev, up, down in [("initial", "start", iu, idn), ("edit", "twin", eu, edn)]:
    ei, eo = env_delta(prev, phase)
    fig("bytes on the wire (TCP payload at the proxies)", "%s phase: envelopes (the server's count) / session overhead" % phase,
        "%d / %d" % (ei + eo, up + down - ei - eo), "B", None, "", "", None, None, None,
        "up %d B of envelopes, down %d B; the rest is ZMTP, CurveZMQ and session messages (HELLO, STATUS, tree heads, receipts, acks)" % (ei, eo))

# 2. merge throughput
rawi = timed(w + "/raw-initial.time")
rawf = timed(w + "/raw-first.time")
rawe = timed(w + "/raw-edit.time")
up_s = 0.0
up_rss = 0
for c in summary["per_office"]:
    s, rss, rc = timed("%s/phase/initial/%s.time" % (w, c.lower()))
    up_s += s
    up_rss = max(up_rss, rss)
cen_s, cen_rss, _ = timed(w + "/phase/initial/cen.time")
tw_s, tw_rss, _ = timed("%s/phase/twin/%s.time" % (w, twin))
cen_o = sync_out(w + "/phase/initial/cen.out") or {}
tw_o = sync_out("%s/phase/twin/%s.out" % (w, twin)) or {}
ch_up = facts["changes_up_initial"]
rows_i = tot["initial_records"]
rows_f = facts["ops_first_initial"]
hz = os.sysconf("SC_CLK_TCK")
srv_cpu = facts["server_cpu_ticks_up"] / hz
G = "merge throughput (changes applied per second)"
def thr(name, changes, secs, rows, raw_s, note):
    cs_rate = changes / secs
    raw_rate = changes / raw_s
    r = raw_s / secs
    fig(G, name, round(cs_rate), "changes/s", round(raw_rate), "changes/s",
        "raw SQLite upserts of the same %d rows, one transaction (%.3f s)" % (rows, raw_s),
        rnd(r, 3), ">= 0.5x", r >= 0.5,
        "%d changes (%d rows) in %.2f s; %s" % (changes, rows, secs, note))
thr("server, office uploads (initial phase)", ch_up, up_s, rows_i, rawi[0],
    "sum of the %d offices' `cigsync sync` wall times (pack, send, apply, acknowledge); "
    "server CPU %.2f s = %d changes per CPU-second" % (len(summary["per_office"]), srv_cpu, ch_up / max(srv_cpu, 1e-9)))
srv_rate = ch_up / max(srv_cpu, 1e-9)
fig(G, "server CPU, office uploads (initial phase)", round(srv_rate), "changes/CPU-s", round(ch_up / rawi[0]), "changes/s",
    "raw SQLite upserts, wall time", rnd(srv_rate / (ch_up / rawi[0]), 3), ">= 0.5x", srv_rate / (ch_up / rawi[0]) >= 0.5,
    "%.2f s of server CPU (utime + stime) while the offices synced: open, verify, decode, scope check, merge, audit log" % srv_cpu)
thr("central, download of every office (initial phase)", cen_o.get("changes_received", 0), cen_s, rows_i, rawi[0],
    "`cigsync sync` wall time at central")
thr("office, download of its own office on a new laptop", tw_o.get("changes_received", 0), tw_s, rows_f, rawf[0],
    "`cigsync sync` wall time at %s" % twin)

mb = None
try:
    mb = json.load(open(w + "/merge.json"))
except (OSError, ValueError):
    pass
if mb:
    for who, what in (("server", "open, verify, decode, store checks, scope check, merge, keep the batch, "
                                 "audit leaf and signed head, one transaction per batch"),
                      ("office", "cs_feed_accept: decrypt, verify, decompress, decode, merge, commit")):
        r = mb[who + "_ratio"]
        fig(G, "%s, in process (bench/merge_bench, %d changes in %d batches)" % (who, mb["changes"], mb["batches"]),
            round(mb[who + "_per_s"]), "changes/s", round(mb["raw_per_s"]), "changes/s",
            "raw SQLite upserts of the same changes, one transaction, same process", rnd(r, 3), ">= 0.5x", r >= 0.5,
            what)
else:
    fig(G, "in process (bench/merge_bench)", "not run", "", None, "", "", None, ">= 0.5x", None,
        "build bench/merge_bench (the release build does)")

cap = facts["capture_initial_s"]
fig(G, "capture: the offices' sqlite3 shells inserting the initial rows into their replicas",
    round(ch_up / cap), "changes/s", round(ch_up / rawi[0]), "changes/s",
    "the same rows into plain tables (%.3f s)" % rawi[0], rnd(rawi[0] / cap, 3), None, None,
    "%.2f s for %d rows with the capture triggers, one transaction per office" % (cap, rows_i))

# 3. convergence
conv = facts.get("convergence_edit_s")
ch_e = facts["changes_up_edit"]
fig("convergence (loopback)", "edit phase: last edit committed -> every replica equals the server",
    rnd(conv) if conv is not None else "did not converge", "s", rnd(rawe[0], 3), "s",
    "raw SQLite upserts of the same %d operations, one transaction" % tot["edit_ops"],
    rnd(conv / rawe[0], 1) if conv else None, None, None,
    "%d daemons started after the commit; %d changes uploaded (%.0f/s); server CPU %.2f s" % (
        len(summary["per_office"]) + 1, ch_e, ch_e / conv if conv else 0, facts["server_cpu_ticks_edit"] / hz))
conf_cen = facts.get("conflicts_cen", 0)
fig("convergence (loopback)", "conflicts recorded at central (concurrent edits resolved by the merge)",
    conf_cen, "conflicts", tot["central_concurrent_edits"], "edits",
    "concurrent edits in the workload", rnd(conf_cen / max(1, tot["central_concurrent_edits"]), 2))

# 4. idle
iu1, id1, _ = stats("idle")
s_plain, _, _ = timed("%s/phase/idle/%s.time" % (w, first))
s_delay, _, _ = timed("%s/phase/idle-delay/%s.time" % (w, first))
rts = (s_delay - s_plain) / 0.2
fig("idle", "one `cigsync sync` when nothing changed (new session)", iu1 + id1, "B", None, "", "",
    None, None, None, "%d B up, %d B down, %.2f s; %.1f round trips (%.2f s more through a proxy adding 100 ms each way)" % (
        iu1, id1, s_plain, rts, s_delay - s_plain))

def ss_sum(path):
    t = {"bytes_sent": 0, "bytes_received": 0, "data_segs_out": 0, "data_segs_in": 0}
    for line in open(path):
        for k in t:
            m = re.search(r"\b%s:(\d+)" % k, line)
            if m:
                t[k] += int(m.group(1))
    return t
a, b = ss_sum(w + "/phase/idle.ss0"), ss_sum(w + "/phase/idle.ss1")
d = {k: b[k] - a[k] for k in a}
idle_bytes = d["bytes_sent"] + d["bytes_received"]
idle_rt = (d["data_segs_out"] + d["data_segs_in"]) / 2
per_rt = idle_bytes / idle_rt if idle_rt else 0
fig("idle", "daemon idle on an open session, %s s: bytes per round trip" % idle_s,
    round(per_rt), "B/round trip", None, "", "", None, "<= 512 B", per_rt <= 512 if idle_rt else None,
    "%d B in %s s (%d out, %d in), %.0f round trips (TCP data segments %d out, %d in, from ss -ti)" % (
        idle_bytes, idle_s, d["bytes_sent"], d["bytes_received"], idle_rt, d["data_segs_out"], d["data_segs_in"]))

# 5. RSS
mib = lambda kb: round(kb / 1024, 1)
fig("peak RSS (VmHWM)", "server, %s offices + central, end of run" % offices, mib(facts["server_hwm_kb"]), "MiB",
    mib(rawi[1]), "MiB", "sqlite3 shell applying the raw upserts", None, None, None)
fig("peak RSS (VmHWM)", "largest daemon (%s), edit phase" % facts.get("daemon_hwm_node", "?"),
    mib(facts["daemon_hwm_kb_max"]), "MiB", mib(rawi[1]), "MiB", "sqlite3 shell applying the raw upserts",
    None, "< 32 MiB", facts["daemon_hwm_kb_max"] < 32 * 1024)
if facts.get("big_rc") == 0:
    fig("peak RSS (VmHWM)", "daemon during a first sync of %d changes (%d records)" % (facts["big_changes"], facts["big_rows"]),
        mib(facts["big_hwm_kb"]), "MiB", None, "", "", None, "< 32 MiB", mib(facts["big_hwm_kb"]) < 32,
        "central's daemon, new; sampled every 0.1 s; in step after %s s%s" % (
            facts["big_secs"], "" if facts.get("big_ok") == 1 else " (NOT in step: timed out)"))
fig("peak RSS (VmHWM)", "largest `cigsync sync` (initial phase: upload / central download / laptop)",
    "%s / %s / %s" % (mib(up_rss), mib(cen_rss), mib(tw_rss)), "MiB", None, "", "", None, None, None)

# lab
lab = None
if os.path.exists(w + "/lab/bench-lab.json"):
    try:
        lab = json.load(open(w + "/lab/bench-lab.json"))
    except ValueError:
        lab = None
if lab:
    g = lab["goodput_ratio"]
    fig("link lab (64 kbit/s, loss, 300 ms RTT; bench/lab_bench.sh)", "goodput of a first sync",
        "%d B in %.2f s" % (lab["first_sync"]["wire_bytes"], lab["first_sync"]["seconds"]), "",
        lab["plain_tcp"]["seconds"], "s", "plain TCP, the same bytes through the same link and proxy",
        g, ">= 0.8x", g >= 0.8, "%d records (persons) of a new office, one run with random loss" % lab["params"]["records"])
    cut = lab["cut_sync"]
    per = cut["extra_bytes"] / cut["cuts"] if cut["cuts"] else None
    fig("link lab (64 kbit/s, loss, 300 ms RTT; bench/lab_bench.sh)", "bytes resent per cut connection",
        round(per) if per is not None else "no cuts", "B", lab["first_sync"]["wire_bytes"], "B",
        "the clean first sync", None, "<= 16 KiB", per <= 16384 if per is not None else None,
        "%d cuts, %d B beyond the clean sync" % (cut["cuts"], cut["extra_bytes"]))
    fig("link lab (64 kbit/s, loss, 300 ms RTT; bench/lab_bench.sh)", "idle sync / idle daemon %ss (at the veth)" % lab["params"]["idle_s"],
        "%d / %d" % (lab["idle_sync"]["wire_bytes"], lab["daemon_idle"]["wire_bytes"]), "B", None, "", "", None, None, None)
else:
    tail = ""
    if os.path.exists(w + "/lab.out"):
        t = open(w + "/lab.out", encoding="utf-8", errors="replace").read().strip().splitlines()
        tail = ": " + t[-1] if t else ""
    fig("link lab", "goodput, resent per drop", "not run", "", None, "", "", None, ">= 0.8x, <= 16 KiB", None,
        "lab_bench exit %s%s" % (facts.get("lab_rc"), tail))

# many
many = None
if os.path.exists(w + "/many.out"):
    t = open(w + "/many.out", encoding="utf-8").read()
    def grab(pat):
        m = re.search(pat, t)
        return m.groups() if m else None
    m1 = grab(r"rows at the server \| (\d+) of (\d+) in ([\d.]+) s \| one office alone: ([\d.]+) s")
    m2 = grab(r"differs from the server's \| (\d+) of (\d+)")
    m3 = grab(r"server peak RSS \| (\d+) MiB")
    m4 = grab(r"largest daemon peak RSS \| (\d+) MiB")
    many = {"rows": m1, "differ": m2, "server_mib": m3, "daemon_mib": m4}
    G2 = "100 offices (bench/many_bench.sh BUILD 100 20, loopback)"
    if m1:
        fig(G2, "all offices' rows at the server, replicas equal", float(m1[2]), "s", float(m1[3]), "s",
            "one office alone", None, None, None, "%s of %s rows; %s of %s replicas differ" % (
                m1[0], m1[1], m2[0] if m2 else "?", m2[1] if m2 else "?"))
    if m3:
        fig(G2, "server peak RSS", int(m3[0]), "MiB", None, "", "", None, "< 64 MiB", int(m3[0]) < 64,
            "many_bench prints whole MiB")
    if m4:
        fig(G2, "largest daemon peak RSS", int(m4[0]), "MiB", None, "", "", None, "< 32 MiB", int(m4[0]) < 32)
    if not (m1 or m3 or m4):
        err = open(w + "/many.err", encoding="utf-8", errors="replace").read().strip().splitlines()
        fig(G2, "server and daemon RSS", "failed", "", None, "", "", None, "< 64 MiB, < 32 MiB", None,
            "many_bench exit %s: %s" % (facts.get("many_rc"), err[-1] if err else "no output"))
else:
    fig("100 offices", "server and daemon RSS", "not run", "", None, "", "", None, "< 64 MiB, < 32 MiB", None)

# checks
# refusals: the server's warnings, and the refused counts of its session lines
refused_log = 0
refused_lines = []
for line in open(w + "/hub.log", encoding="utf-8", errors="replace"):
    m = re.search(r"changes, (\d+) refused,", line)
    if m:
        refused_log += int(m.group(1))
    elif "refused" in line or "differs" in line:
        refused_lines.append(line.rstrip())
        refused_log += 1
refused_sync = 0
for p in glob.glob(w + "/phase/*/*.out"):
    o = sync_out(p)
    if o:
        refused_sync += o["refused"]
checks = {
    "converged_initial": bool(facts.get("converged_initial")),
    "converged_edit": bool(facts.get("converged_edit")),
    "converged_final": bool(facts.get("converged_final")),
    "refusals_in_server_log": refused_log,
    "refusals_reported_by_sync": refused_sync,
    "server_warnings": refused_lines[:20],
    "failed_syncs": sorted(p[len(w) + 7:] for p in glob.glob(w + "/phase/*/*.time") if timed(p)[2] != 0),
    "conflicts_per_node": {k[10:]: v for k, v in facts.items() if k.startswith("conflicts_")},
}

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
cpu = sh("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1")
ram = sh("awk '/^MemTotal/ {printf \"%.1f GiB\", $2 / 1048576}' /proc/meminfo")
machine = {"uname": " ".join(platform.uname()[i] for i in (0, 2, 4)), "nproc": os.cpu_count(),
           "cpu": cpu, "ram": ram}
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
built = datetime.datetime.fromtimestamp(os.path.getmtime(binsnap + "/client/cigsync"),
                                        datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
params = {"build": build, "binaries_built": built, "seed": int(seed), "offices": int(offices),
          "scale": float(scale), "idle_s": int(idle_s)}
doc = {"date": now, "commit": commit, "uncommitted_changes": int(dirty) > 0, "machine": machine,
       "parameters": params, "workload": tot, "checks": checks, "figures": figs,
       "details": {"facts": facts, "proxies_initial": iper, "proxies_edit": eper,
                   "central_initial_sync": cen_o, "laptop_sync": tw_o, "idle_ss_delta": d,
                   "lab": lab, "many": many}}
with open(out + "/bench.json", "w") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")

def cell(v, u):
    if v is None:
        return "-"
    return ("%s %s" % (v, u)).strip()
md = ["# cigsync benchmark", "",
      "- date: %s" % now,
      "- commit: %s%s" % (commit, " (with uncommitted changes in the work tree)" if int(dirty) else ""),
      "- machine: %s, %s CPUs (%s), %s RAM" % (machine["uname"], machine["nproc"], cpu, ram),
      "- parameters: seed %s, %s offices + central, scale %s, build %s (cigsync built %s), idle %s s" % (
          seed, offices, scale, build, built, idle_s),
      "- workload: %d records initially; edit phase %d field edits, %d new records, %d deletes at the offices; "
      "central %d field edits (%d concurrent with an office's), %d deletes" % (
          tot["initial_records"], tot["edit_field_edits"], tot["edit_records_inserted"], tot["edit_deletes"],
          tot["central_field_edits"], tot["central_concurrent_edits"], tot["central_deletes"]),
      "- checks: replicas equal the server after the initial phase: %s, after the edit phase: %s, at the end: %s; "
      "refusals: %d in the server log, %d reported by sync" % (
          "yes" if checks["converged_initial"] else "NO", "yes" if checks["converged_edit"] else "NO",
          "yes" if checks["converged_final"] else "NO", refused_log, refused_sync)
      + ("; FAILED syncs: " + ", ".join(checks["failed_syncs"]) if checks["failed_syncs"] else ""),
      ""]
group = None
for f in figs:
    if f["group"] != group:
        group = f["group"]
        md += ["", "## " + group, "", "| figure | cigsync | baseline | ratio | target | met | notes |",
               "|---|---|---|---|---|---|---|"]
    base = cell(f["baseline"], f["baseline_unit"])
    if f["baseline_what"]:
        base = base + " (" + f["baseline_what"] + ")" if f["baseline"] is not None else f["baseline_what"]
    met = "-" if f["met"] is None else ("met" if f["met"] else "**missed**")
    md.append("| %s | %s | %s | %s | %s | %s | %s |" % (
        f["figure"], cell(f["value"], f["unit"]), base, "-" if f["ratio"] is None else f["ratio"],
        f["target"] or "-", met, f["note"] or ""))
md.append("")
open(out + "/bench.md", "w").write("\n".join(md))
EOF
cat "$OUT/bench.md"
