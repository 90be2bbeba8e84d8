#!/usr/bin/env bash
# bench/sync_bench.sh - end-to-end sync figures on loopback, each next to a
# baseline measured in the same run (not a test: it prints, it asserts
# nothing).
#
#   bench/sync_bench.sh [BUILD_DIR] [ROWS]
#
# A server, an office (site ISF) and the central office on 127.0.0.1.  The
# office inserts ROWS cigs (default 10000; name and focus text, as typed)
# with the sqlite3 shell; then:
#   - initial sync of the office: seconds, envelope bytes, rows/s, against
#     the same rows inserted into a plain SQLite table in one transaction
#     (the floor: what any store must pay to write them once);
#   - central receives them: seconds and rows/s, same baseline;
#   - wire bytes per row against gzip -6 of the same rows as JSON lines;
#   - an edit phase: ROWS/10 field updates at the office, synced;
#   - idle sync: one more `sync` when nothing changed: bytes and time.
# The figures for issue 6's full benchmark (shaped links, 100 offices,
# RSS) come later; this one is the loopback part.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/release}
ROWS=${2:-10000}
cs=$B/client/cigsync
srv=$B/server/cigsync-server
[ -x "$cs" ] && [ -x "$srv" ] || {
    echo "build first: cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release && cmake --build $B" >&2
    exit 2
}
W=$(mktemp -d /tmp/cigsync-bench.XXXXXX)
SRV_PID=
trap '[ -n "$SRV_PID" ] && kill $SRV_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
now() { date +%s.%N; }
since() { python3 -c "import sys; print(float(sys.argv[1]) - float(sys.argv[2]))" "$(now)" "$1"; }
field() { sed -n 's/^in step with the server: sent \([0-9]*\) batches (\([0-9]*\) bytes, \([0-9]*\) resent), received \([0-9]*\) (\([0-9]*\) changes, \([0-9]*\) bytes).*/\1 \2 \3 \4 \5 \6/p' "$1" | cut -d' ' -f"$2"; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ep=tcp://127.0.0.1:$port
key=$("$srv" init "$W/hub" --listen "$ep" 2>/dev/null)
isf=$("$cs" init "$W/isf" --name isf --office ISF --server "$ep" --server-key "$key" 2>/dev/null)
cen=$("$cs" init "$W/cen" --name cen --office CEN --server "$ep" --server-key "$key" 2>/dev/null)
"$srv" enroll "$W/hub" isf --role site --office ISF --key "$isf" >/dev/null 2>&1
"$srv" enroll "$W/hub" cen --role central --key "$cen" >/dev/null 2>&1
CIGSYNC_LOG=warn "$srv" run "$W/hub" 2>"$W/hub.log" &
SRV_PID=$!
sleep 0.5

# The rows, as SQL and as JSON lines (the baseline encoding).
python3 - "$ROWS" "$W" <<'EOF'
import json, random, sys
n, w = int(sys.argv[1]), sys.argv[2]
random.seed(7)
words = ["Жаштар", "демилгеси", "аялдар", "кеңеши", "суу", "жол", "мектеп",
         "Исфана", "Кочкор", "street", "lighting", "water", "school"]
with open(w + "/rows.sql", "w") as s, open(w + "/rows.jsonl", "w") as j:
    s.write("BEGIN;\n")
    for i in range(n):
        name = " ".join(random.choice(words) for _ in range(3))
        focus = " ".join(random.choice(words) for _ in range(8))
        rid = "ISF-cig-%06d" % i
        s.write("INSERT INTO cig(id, name, focus, status) VALUES "
                "('%s', '%s', '%s', 'active');\n" % (rid, name, focus))
        j.write(json.dumps({"table": "cig", "id": rid, "office_id": "ISF",
                            "name": name, "focus": focus, "status": "active"},
                           ensure_ascii=False) + "\n")
    s.write("COMMIT;\n")
EOF

t=$(now)
sqlite3 "$W/plain.db" "CREATE TABLE cig(id TEXT PRIMARY KEY, office_id TEXT, name TEXT, settlement TEXT, formed_on TEXT, status TEXT, focus TEXT);"
sqlite3 "$W/plain.db" <"$W/rows.sql"
base=$(since "$t")
t=$(now)
sqlite3 "$W/isf/replica.db" <"$W/rows.sql"
capture=$(since "$t")

t=$(now)
"$cs" -C "$W/isf" sync --quiet >"$W/up.out"
up=$(since "$t")
t=$(now)
"$cs" -C "$W/cen" sync --quiet >"$W/down.out"
down=$(since "$t")
gz=$(gzip -6 -c "$W/rows.jsonl" | wc -c)
upb=$(field "$W/up.out" 2)
downb=$(field "$W/down.out" 6)

# Edit phase: ROWS/10 updates of one field.
edits=$((ROWS / 10))
python3 - "$edits" "$W" <<'EOF'
import json, sys
n, w = int(sys.argv[1]), sys.argv[2]
with open(w + "/edits.sql", "w") as s, open(w + "/edits.jsonl", "w") as j:
    s.write("BEGIN;\n")
    for i in range(n):
        rid = "ISF-cig-%06d" % (i * 7 % (n * 10))
        s.write("UPDATE cig SET status = 'dormant' WHERE id = '%s';\n" % rid)
        j.write(json.dumps({"table": "cig", "id": rid, "status": "dormant"}) + "\n")
    s.write("COMMIT;\n")
EOF
sqlite3 "$W/isf/replica.db" <"$W/edits.sql"
t=$(now)
"$cs" -C "$W/isf" sync --quiet >"$W/e1.out"
"$cs" -C "$W/cen" sync --quiet >"$W/e2.out"
edit=$(since "$t")
egz=$(gzip -6 -c "$W/edits.jsonl" | wc -c)
eb=$(field "$W/e1.out" 2)

t=$(now)
"$cs" -C "$W/isf" sync --quiet >"$W/idle.out"
idle=$(since "$t")
idleb=$(($(field "$W/idle.out" 2) + $(field "$W/idle.out" 6)))

r() { python3 -c "import sys; print('%.2f' % eval(sys.argv[1]))" "$1"; }
echo "sync_bench: $ROWS rows, commit $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(nproc) cores"
echo "| figure | cigsync | baseline | ratio |"
echo "|---|---|---|---|"
echo "| insert $ROWS rows (sqlite3 shell, one transaction) | $(r "$capture") s (with capture) | $(r "$base") s (plain table) | $(r "$capture / $base") |"
echo "| initial sync up: office -> server | $(r "$up") s, $(r "$ROWS / $up") rows/s | $(r "$base") s plain insert | $(r "$up / $base") |"
echo "| initial sync down: server -> central | $(r "$down") s, $(r "$ROWS / $down") rows/s | $(r "$base") s plain insert | $(r "$down / $base") |"
echo "| initial bytes up (envelopes) | $upb B, $(r "$upb / $ROWS") B/row | $gz B gzip -6 JSON lines | $(r "$upb / $gz") |"
echo "| initial bytes down (envelopes) | $downb B | $gz B gzip -6 JSON lines | $(r "$downb / $gz") |"
echo "| edit phase: $edits updates, up and down | $(r "$edit") s, $eb B up | $egz B gzip -6 JSON lines | $(r "$eb / $egz") |"
echo "| idle sync (nothing changed) | $(r "$idle") s, $idleb B envelopes | - | - |"
