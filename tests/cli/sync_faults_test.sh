# tests/cli/sync_faults_test.sh - syncs that survive faults end to end:
#
#  1. kill -9, at least 20 times, of the office's daemon (isf), of the
#     server and of the central office's daemon (cen) at random moments of
#     a large sync, with more edits at isf in between; none of them may
#     have exited on its own.  Then one `sync` of isf and of cen brings
#     every row everywhere with the same content; every change is applied
#     exactly once at the server and at cen (count = distinct (oid, oseq) =
#     what isf sealed); the server kept and applied isf's batches 1..N
#     without a gap; nothing is pending; a further sync moves nothing.
#  2. cs-faultproxy (tests/tools) between isf and the server resets the
#     link at random byte offsets, in one run alone and in one with stalls
#     of seconds: one `sync --timeout 60` still ends in step; the proxy did
#     cut (cuts >= 1, connections >= 2); the bytes sent again stay within
#     one chunk per cut; there were at least 2 sessions, and no more than
#     connections.  Then cen, syncing directly, has every row, and the
#     checks of 1 hold.
# The server must stop with exit 0 on SIGTERM after each part, and no log
# may hold a sanitizer report.  A sync still running after a generous
# deadline is a failure (a hang), not a retry.
#
# Knobs: CS_FAULTS_SEED seeds $RANDOM (printed; set it to replay the same
# kill schedule, sleeps and proxy seeds, if not the same timing);
# CS_FAULTS_ROWS, the rows of each large insert (default 2000, 1000 in a
# sanitizer build; a row is about 330 bytes of random hex, some 170 bytes
# of envelope, so hundreds of KB of envelopes in 16 KiB chunks);
# CS_FAULTS_ITER, the kills (default 24); CS_FAULTS_DEADLINE, the seconds
# one `sync` may take before it counts as hung (default 300).
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

: "${CS_FAULTPROXY:?set CS_FAULTPROXY to the path of cs-faultproxy}"
need_sync_tools

cd "$TMP" || exit 1

SEED=${CS_FAULTS_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
if [ -z "${CS_FAULTS_ROWS:-}" ] &&
    { ldd "$CIGSYNC" 2>/dev/null | grep -q 'libasan\|libubsan' ||
        nm -D "$CIGSYNC" 2>/dev/null | grep -q __asan_init; }; then
    ROWS=1000
else
    ROWS=${CS_FAULTS_ROWS:-2000}
fi
ITER=${CS_FAULTS_ITER:-24}
DEADLINE=${CS_FAULTS_DEADLINE:-300}
[ "$ITER" -ge 20 ] || fail "CS_FAULTS_ITER=$ITER: at least 20 are needed"
echo "sync_faults: seed $SEED, $ROWS rows, $ITER kills" \
    "(replay with CS_FAULTS_SEED=$SEED CS_FAULTS_ROWS=$ROWS)"

# CS_FLOW_WINDOW_BYTES (proto/flow.h): the envelope bytes that may be in
# flight, so the most a dropped link can make the sender send again.
CHUNK=16384

# ---- helpers ---------------------------------------------------------------

# say TEXT: a progress line, with the seconds since the start.
say() {
    echo "sync_faults: [${SECONDS}s] $*"
}

# forget PID: drops PID from the pids the cleanup kills, once it was
# reaped (so that a recycled pid is never killed).
forget() {
    local p keep=
    for p in $BG_PIDS; do
        [ "$p" = "$1" ] || keep="$keep $p"
    done
    BG_PIDS=$keep
}

# kill9 PID WHAT LOG: PID must still run (else its own exit is a failure:
# LOG says why); kills it with SIGKILL and reaps it.
kill9() {
    local pid=$1 rc
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    forget "$pid"
    [ "$rc" -eq 137 ] ||
        fail "$2 exited $rc before it was killed: $(tail -20 "$3")"
}

# hub_up: starts the server unless it runs, and waits until it serves;
# each start gets a fresh $TMP/hub.log, the earlier ones are kept in
# $TMP/hub.all.  (Not lib.sh's hub_start: that backgrounds the shell
# function srv, so HUB_PID is a subshell and kill -9 would miss the server.)
hub_up() {
    local i
    [ -z "${HUB_PID:-}" ] || return 0
    cat "$TMP/hub.log" >>"$TMP/hub.all" 2>/dev/null
    : >"$TMP/hub.log"
    CIGSYNC_LOG=info "$CIGSYNC_SERVER" run "$HUB" >>"$TMP/hub.log" 2>&1 &
    HUB_PID=$!
    for i in $(seq 300); do
        grep -q "serving on $HUB_EP" "$TMP/hub.log" && return 0
        kill -0 "$HUB_PID" 2>/dev/null ||
            fail "the server died: $(tail -5 "$TMP/hub.log")"
        sleep 0.1
    done
    fail "the server did not start: $(tail -5 "$TMP/hub.log")"
}

# hub_kill: kill -9 of the running server.
hub_kill() {
    local pid=$HUB_PID
    HUB_PID=
    kill9 "$pid" "the server" "$TMP/hub.log"
}

# hub_down: stops the server with SIGTERM; it must exit 0.
hub_down() {
    local pid=$HUB_PID rc
    HUB_PID=
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq 0 ] ||
        fail "the server exited $rc on SIGTERM: $(tail -5 "$TMP/hub.log")"
}

# daemon_start NAME: starts `cigsync daemon` of node NAME, its log
# appended to $TMP/NAME.daemon.log; prints nothing, sets DAEMON_PID.
daemon_start() {
    CIGSYNC_LOG=info "$CIGSYNC" -C "$TMP/$1" daemon \
        >>"$TMP/$1.daemon.log" 2>&1 &
    DAEMON_PID=$!
    BG_PIDS="$BG_PIDS $DAEMON_PID"
}

# sql NAME SQL...: runs SQL on node NAME's replica, waiting for its locks.
sql() {
    local db=$TMP/$1/replica.db
    shift
    sqlite3 -cmd '.timeout 30000' "$db" "$@" ||
        fail "sqlite3 on $db: $*"
}

# insert_rows NAME FROM TO: inserts rows r<FROM>..r<TO> of cig at node
# NAME in one transaction, with random hex text (zstd cannot shrink it
# below half) in name and focus.
insert_rows() {
    sql "$1" "WITH RECURSIVE n(i) AS (SELECT $2 UNION ALL
        SELECT i + 1 FROM n WHERE i < $3)
        INSERT INTO cig(id, name, settlement, focus)
        SELECT 'r' || i, 'group ' || i || ' ' || hex(randomblob(40)),
               'village ' || (i % 97), hex(randomblob(100)) FROM n"
}

# run_sync NAME: one `cigsync sync --timeout 60` of node NAME, waited for
# up to $DEADLINE s (its stdout in $TMP/out, stderr in $TMP/err; exit
# status in SYNC_RC).  A sync still running then is a failure: --timeout
# bounds only the time without a connection, and no step of these syncs
# takes more than a few seconds, so it waits for a server that will never
# answer.
run_sync() {
    local pid i
    CIGSYNC_LOG=info "$CIGSYNC" -C "$TMP/$1" sync --timeout 60 \
        >"$TMP/out" 2>"$TMP/err" &
    pid=$!
    BG_PIDS="$BG_PIDS $pid"
    for i in $(seq $((DEADLINE * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        forget "$pid"
        fail "the sync of $1 still runs after $DEADLINE s; its stderr:" \
            "$(tail -5 "$TMP/err"); the server's log: $(tail -8 "$TMP/hub.log")"
    fi
    wait "$pid"
    SYNC_RC=$?
    forget "$pid"
}

# sync_until_ok NAME: runs `cigsync sync` of NAME until it exits 0 (at most
# 3 times; a failed run is shown); its output is left in $TMP/out.
sync_until_ok() {
    local try
    for try in 1 2 3; do
        run_sync "$1"
        [ "$SYNC_RC" -eq 0 ] && return 0
        say "sync of $1 (try $try) exited $SYNC_RC: $(tail -5 "$TMP/err")" >&2
    done
    fail "no sync of $1 ended in step; last stderr: $(cat "$TMP/err")"
}

# parse_in_step: parses the "in step" line of the sync's output in
# $TMP/out into STEP: 0 batches sent, 1 their bytes, 2 bytes resent,
# 3 batches received, 4 changes, 5 bytes received, 6 refused, 7 sessions.
parse_in_step() {
    local re line
    re='^in step with the server: sent ([0-9]+) batches \(([0-9]+) bytes, '
    re+='([0-9]+) resent\), received ([0-9]+) \(([0-9]+) changes, '
    re+='([0-9]+) bytes\), ([0-9]+) refused, ([0-9]+) sessions$'
    line=$(grep '^in step with the server: ' "$TMP/out")
    [[ $line =~ $re ]] || fail "no or an unexpected 'in step' line: $(out)"
    STEP=("${BASH_REMATCH[@]:1}")
}

# q DB SQL: prints the result of one query on DB.
q() {
    sqlite3 -cmd '.timeout 30000' "$1" "$2" || fail "sqlite3 on $1: $2"
}

# check_converged ROWS: after isf and cen synced with the server, every
# row of isf (ROWS of cig) is at the server and at cen with the same
# content; each of isf's changes is applied exactly once at the server and
# at cen; the server kept isf's batches 1..N without a gap and applied
# each once; nothing is pending at isf or cen.
check_converged() {
    local rows=$1 hub_db=$TMP/hub/replica.db isf_db=$TMP/isf/replica.db
    local cen_db=$TMP/cen/replica.db node n sealed logged db oid seqs
    local a b
    [ "$(q "$isf_db" 'SELECT count(*) FROM cig')" = "$rows" ] ||
        fail "isf has $(q "$isf_db" 'SELECT count(*) FROM cig') rows, not $rows"
    synced_content isf >"$TMP/isf.content"
    synced_content hub >"$TMP/hub.content"
    synced_content cen >"$TMP/cen.content"
    for node in hub cen; do
        cmp -s "$TMP/isf.content" "$TMP/$node.content" ||
            fail "$node's replica differs from isf's:" \
                "$(diff "$TMP/isf.content" "$TMP/$node.content" | head -10)"
    done

    node=$(q "$isf_db" "SELECT value FROM zz_meta WHERE key = 'node_id'")
    sealed=$(q "$isf_db" 'SELECT coalesce(sum(count), 0) FROM zz_batch')
    logged=$(q "$isf_db" 'SELECT count(*) FROM zz_log WHERE oid = 1')
    n=$(q "$isf_db" 'SELECT coalesce(max(seq), 0) FROM zz_batch')
    [ "$sealed" = "$logged" ] ||
        fail "isf sealed $sealed changes in $n batches but logged $logged"
    for db in "$hub_db" "$cen_db"; do
        a=$(q "$db" 'SELECT count(*) FROM zz_log')
        b=$(q "$db" 'SELECT count(*) FROM
            (SELECT DISTINCT oid, oseq FROM zz_log)')
        [ "$a" = "$b" ] ||
            fail "$db: $a changes logged but only $b distinct (oid, oseq)"
        [ "$a" = "$sealed" ] ||
            fail "$db: $a changes logged, isf sealed $sealed"
        oid=$(q "$db" "SELECT oid FROM zz_origin WHERE node = '$node'")
        [ -n "$oid" ] || fail "$db does not know isf's origin $node"
        b=$(q "$db" "SELECT count(*) FROM zz_log WHERE oid = $oid")
        [ "$b" = "$sealed" ] ||
            fail "$db: $b changes from isf's origin, isf sealed $sealed"
    done
    seqs=$(q "$hub_db" "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq)
        FROM zz_srv_batch WHERE origin = '$node'")
    [ "$seqs" = "$n 1 $n" ] ||
        fail "zz_srv_batch of isf (count min max): $seqs, isf sealed 1..$n"
    oid=$(q "$hub_db" "SELECT oid FROM zz_origin WHERE node = '$node'")
    seqs=$(q "$hub_db" "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq)
        FROM zz_applied WHERE oid = $oid")
    [ "$seqs" = "$n 1 $n" ] ||
        fail "zz_applied of isf (count min max): $seqs, isf sealed 1..$n"
    for node in isf cen; do
        expect_ok cs -C "$TMP/$node" status --json
        [ "$(out | json_get 'd["pending"]')" = 0 ] ||
            fail "$node: status shows pending changes: $(out)"
    done
}

# resync_idle NAME: one more sync of NAME, which neither sends nor
# receives anything.
resync_idle() {
    sync_until_ok "$1"
    parse_in_step
    [ "${STEP[*]:0:7}" = '0 0 0 0 0 0 0' ] ||
        fail "$1: a sync after all was in step moved data: $(out)"
}

# check_no_sanitizer_report: no ASan/UBSan report in any log.
check_no_sanitizer_report() {
    local f
    for f in "$TMP"/*.log "$TMP"/hub.all; do
        [ -f "$f" ] || continue
        if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$f"; then
            fail "sanitizer report in $f:" \
                "$(grep -m1 -A15 'Sanitizer\|runtime error:' "$f")"
        fi
    done
}

# ---- 1. kill -9 of the daemons and the server during a large sync ----------
hub_setup
node_setup isf site ISF
node_setup cen central
insert_rows isf 1 "$ROWS"
total=$ROWS
say "isf has $ROWS rows to send"
kills_daemon=0 kills_server=0 kills_cen=0
ISF_D='' CEN_D=''
for i in $(seq "$ITER"); do
    hub_up
    if [ -z "$ISF_D" ]; then
        daemon_start isf
        ISF_D=$DAEMON_PID
    fi
    if [ -z "$CEN_D" ] && [ $((RANDOM % 2)) -eq 0 ]; then
        daemon_start cen
        CEN_D=$DAEMON_PID
    fi
    # some edits while the daemons run: new rows, and changes to old ones
    if [ $((i % 4)) -eq 0 ]; then
        insert_rows isf $((total + 1)) $((total + 40))
        total=$((total + 40))
        sql isf "UPDATE cig SET status = 'active', settlement = 'moved $i'
            WHERE id IN ('r$((RANDOM % ROWS + 1))', 'r$((RANDOM % ROWS + 1))')"
    fi
    ms=$((50 + RANDOM % 951))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    # the server's applying of a 5000-change batch takes seconds, so it is
    # the victim only one time in three, to let some batches through
    if [ $((RANDOM % 3)) -ne 0 ]; then
        kill9 "$ISF_D" "isf's daemon" "$TMP/isf.daemon.log"
        ISF_D=
        kills_daemon=$((kills_daemon + 1))
        what=isf
    else
        hub_kill
        kills_server=$((kills_server + 1))
        what=server
    fi
    if [ -n "$CEN_D" ] && [ $((RANDOM % 3)) -eq 0 ]; then
        kill9 "$CEN_D" "cen's daemon" "$TMP/cen.daemon.log"
        CEN_D=
        kills_cen=$((kills_cen + 1))
        what="$what+cen"
    fi
    say "kill $i after ${ms} ms: $what; the server holds" \
        "$(q "$TMP/hub/replica.db" 'SELECT count(*) FROM zz_srv_batch') batches"
done
[ -z "$ISF_D" ] || kill9 "$ISF_D" "isf's daemon" "$TMP/isf.daemon.log"
[ -z "$CEN_D" ] || kill9 "$CEN_D" "cen's daemon" "$TMP/cen.daemon.log"
say "killed isf's daemon $kills_daemon, the server" \
    "$kills_server, cen's daemon $kills_cen times; the server holds" \
    "$(q "$TMP/hub/replica.db" 'SELECT count(*) FROM zz_srv_batch') batches"

hub_up
sync_until_ok isf
say "isf: $(out)"
parse_in_step
[ "${STEP[6]}" = 0 ] || fail "isf: changes were refused: $(out)"
sync_until_ok cen
say "cen: $(out)"
check_converged "$total"
resync_idle isf
resync_idle cen
say "kills: every row everywhere, each change once"
hub_down
check_no_sanitizer_report

# ---- 2. a proxy that cuts and stalls the link -------------------------------
# Case 1's directories are set aside; a new server, isf and cen.
for d in hub isf cen hub.log hub.all isf.daemon.log cen.daemon.log; do
    [ -e "$TMP/$d" ] && mv "$TMP/$d" "$TMP/killed-$d"
done
hub_setup
node_setup isf site ISF
node_setup cen central
PROXY_PID=

# start_proxy NAME ARGS: starts cs-faultproxy in front of the server (log
# $TMP/NAME.log, stats $TMP/NAME.stats) and points isf at it.
start_proxy() {
    local name=$1 i
    shift
    "$CS_FAULTPROXY" --listen 127.0.0.1:0 --to "127.0.0.1:$HUB_PORT" \
        --port-file "$TMP/$name.port" --stats "$TMP/$name.stats" \
        --seed "$RANDOM" "$@" 2>"$TMP/$name.log" &
    PROXY_PID=$!
    BG_PIDS="$BG_PIDS $PROXY_PID"
    for i in $(seq 100); do
        [ -s "$TMP/$name.port" ] && break
        sleep 0.1
    done
    [ -s "$TMP/$name.port" ] ||
        fail "the proxy did not start: $(cat "$TMP/$name.log")"
    sed -i "s|^server = .*|server = tcp://127.0.0.1:$(cat "$TMP/$name.port")|" \
        "$TMP/isf/config" || fail "editing isf's config"
}

# stop_proxy NAME: stops the proxy (exit 0 on SIGTERM).
stop_proxy() {
    local rc
    kill -TERM "$PROXY_PID"
    wait "$PROXY_PID"
    rc=$?
    forget "$PROXY_PID"
    PROXY_PID=
    [ "$rc" -eq 0 ] || fail "$1: the proxy exited $rc: $(tail -5 "$TMP/$1.log")"
}

# stats_field NAME KEY: prints one number of $TMP/NAME.stats.
stats_field() {
    sed -n "s/^$2 \([0-9][0-9]*\)$/\1/p" "$TMP/$1.stats"
}

# proxied_sync NAME ARGS: one `sync --timeout 60` of isf through a proxy
# started with ARGS; checks the proxy cut the link and the sync resumed
# within one chunk per cut, in more than one session.
proxied_sync() {
    local name=$1 cuts conns resent sessions bound
    shift
    start_proxy "$name" "$@"
    run_sync isf
    [ "$SYNC_RC" -eq 0 ] ||
        fail "$name: sync exited $SYNC_RC: $(cat "$TMP/err")"
    stop_proxy "$name"
    cuts=$(stats_field "$name" cuts)
    conns=$(stats_field "$name" connections)
    parse_in_step
    resent=${STEP[2]}
    sessions=${STEP[7]}
    say "$name: $(out); proxy: $(tr '\n' ' ' <"$TMP/$name.stats")"
    if [ "${cuts:-0}" -lt 1 ] || [ "${conns:-0}" -lt 2 ]; then
        fail "$name: the proxy did not cut the link: $(cat "$TMP/$name.stats")"
    fi
    [ "${STEP[6]}" = 0 ] || fail "$name: changes were refused: $(out)"
    [ "${STEP[0]}" -ge 1 ] || fail "$name: no batch was sent: $(out)"
    # A dropped link loses at most the one window of envelope data in
    # flight (a chunk, or whole small envelopes adding up to no more);
    # 1024 bytes a cut is slack for a message's framing (CS_FRAME_MAX -
    # CS_CHUNK_DATA_MAX), should one count it with the data.
    bound=$((cuts * (CHUNK + 1024)))
    [ "$resent" -le "$bound" ] ||
        fail "$name: $resent bytes resent after $cuts cuts" \
            "(at most $bound): $(out)"
    [ "$sessions" -ge 2 ] || fail "$name: $sessions sessions after $cuts cuts"
    # each session is a handshake on a connection of its own
    [ "$sessions" -le "$conns" ] ||
        fail "$name: $sessions sessions on $conns connections"
}

# 2a: cuts at random offsets (20-90 KB each way together), 5 to 8 of them
insert_rows isf 1 "$ROWS"
hub_up
proxied_sync cuts --cut-every 20000:90000 --max-cuts $((5 + RANDOM % 4))

# 2b: cuts, and stalls of 1.5-2.5 s (well below the 60 s heartbeat
# timeout); a connection stalls (after 20-50 KB) before it is cut (after
# 60-100 KB: the new rows make more than 150 KB of envelopes, so at least
# one cut)
insert_rows isf $((ROWS + 1)) $((2 * ROWS))
proxied_sync stalls --cut-every 60000:100000 --max-cuts $((2 + RANDOM % 3)) \
    --stall-every 20000:50000 --stall-ms $((1500 + RANDOM % 1001))
grep -q 'stall connection' "$TMP/stalls.log" ||
    fail "the proxy never stalled: $(cat "$TMP/stalls.log")"

# the central office syncs directly and has every row; isf is checked
# against the server directly too
sed -i "s|^server = .*|server = $HUB_EP|" "$TMP/isf/config" ||
    fail "editing isf's config"
sync_until_ok isf
sync_until_ok cen
check_converged $((2 * ROWS))
resync_idle isf
resync_idle cen
say "proxy: every row everywhere, each change once"
hub_down
check_no_sanitizer_report

echo "sync_faults_test: ok"
