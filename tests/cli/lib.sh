# tests/cli/lib.sh - helpers for the shell tests of `cigsync`.
#
# Sourced by tests/cli/<name>_test.sh, which CTest runs with
#   CIGSYNC     path of the built cigsync binary
#   CS_TEST_LIB path of this file
# A test exits 0 on success, 1 on the first failed check (fail), and 77
# (CTest's SKIP_RETURN_CODE) when a tool it needs is missing.  Every test
# works in its own temporary directory, removed on exit.

set -u

: "${CIGSYNC:?set CIGSYNC to the path of the cigsync binary}"

if ! command -v sqlite3 >/dev/null 2>&1; then
    echo "SKIP: the sqlite3 shell is not installed" >&2
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cigsync-test.XXXXXX") || exit 1
LOCK_PID=
unset CIGSYNC_DIR

BG_PIDS=
HUB_PID=

cleanup() {
    local p
    for p in $BG_PIDS ${HUB_PID:-}; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$LOCK_PID" ]; then
        exec 9>&- 2>/dev/null
        wait "$LOCK_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# fail MESSAGE: reports a failed check (with the caller's line) and exits 1.
fail() {
    echo "FAIL (${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]}): $*" >&2
    exit 1
}

# cs ARGS: runs cigsync.
cs() {
    "$CIGSYNC" "$@"
}

# expect_ok CMD...: runs CMD, which must exit 0; its stdout is left in
# $TMP/out, its stderr in $TMP/err.  (Not for use inside $(...): a failure
# there would only end the subshell.)
expect_ok() {
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "exit $rc from: $* (stderr: $(cat "$TMP/err"))"
}

# out: prints the stdout of the last expect_ok or expect_fail.
out() {
    cat "$TMP/out"
}

# expect_fail CODE REGEX CMD...: runs CMD, which must exit with CODE and
# print exactly one line on stderr, starting "cigsync: " and matching the
# extended regular expression REGEX; stdout must be empty.
expect_fail() {
    local code=$1 re=$2 rc lines
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq "$code" ] ||
        fail "expected exit $code, got $rc from: $* (stderr: $(cat "$TMP/err"))"
    lines=$(wc -l <"$TMP/err")
    [ "$lines" -eq 1 ] ||
        fail "expected one line on stderr from: $*, got: $(cat "$TMP/err")"
    grep -q '^cigsync: ' "$TMP/err" ||
        fail "stderr does not start with 'cigsync: ': $(cat "$TMP/err")"
    grep -Eq -- "$re" "$TMP/err" ||
        fail "stderr of: $* does not match /$re/: $(cat "$TMP/err")"
    [ ! -s "$TMP/out" ] || fail "unexpected stdout from: $*: $(cat "$TMP/out")"
}

# dump_db DIR: prints the whole replica of node directory DIR as SQL, for
# comparing before and after a command that must not change it.
dump_db() {
    sqlite3 "$1/replica.db" .dump
}

# expect_same_db DIR BEFORE: the replica's dump must equal BEFORE.
expect_same_db() {
    local now
    now=$(dump_db "$1")
    [ "$now" = "$2" ] || fail "the replica in $1 changed"
}

# have_python: true if python3 can be used to check JSON.
have_python() {
    command -v python3 >/dev/null 2>&1
}

# json_check < FILE: the input must be one valid JSON document (checked
# with python3 if present, else roughly with grep).
json_check() {
    if have_python; then
        python3 -c 'import json, sys; json.load(sys.stdin)' ||
            fail "output is not valid JSON"
    else
        grep -Eq '^[[{]' || fail "output does not look like JSON"
    fi
}

# json_get EXPR < FILE: prints the Python expression EXPR evaluated on the
# parsed JSON document `d` (strings printed bare); needs python3.
json_get() {
    python3 -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))' "$1"
}

# status_field DIR FIELD: prints one number from `cigsync status`.
status_field() {
    local label
    case "$2" in
    pending) label='pending' ;;
    log_entries) label='log entries' ;;
    conflicts) label='conflicts' ;;
    *) fail "status_field: unknown field $2" ;;
    esac
    cs -C "$1" status | sed -n "s/^$label  *\([0-9][0-9]*\).*/\1/p"
}

# hold_lock DIR: starts an sqlite3 shell holding an exclusive transaction on
# the replica of DIR, and returns once the lock is taken; release_lock
# ends it.
hold_lock() {
    mkfifo "$TMP/lock.fifo" || fail "mkfifo"
    sqlite3 "$1/replica.db" <"$TMP/lock.fifo" >/dev/null 2>&1 &
    LOCK_PID=$!
    exec 9>"$TMP/lock.fifo"
    echo 'BEGIN EXCLUSIVE;' >&9
    for _ in $(seq 100); do
        if ! sqlite3 "$1/replica.db" 'BEGIN IMMEDIATE; ROLLBACK;' \
            >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    fail "could not take a lock on $1/replica.db"
}

release_lock() {
    echo 'ROLLBACK;' >&9
    exec 9>&-
    wait "$LOCK_PID"
    LOCK_PID=
    rm -f "$TMP/lock.fifo"
}

# new_node DIR NAME OFFICE: makes a node directory, quietly.
new_node() {
    cs init "$1" --name "$2" --office "$3" >/dev/null 2>"$TMP/init.err" ||
        fail "init $1: $(cat "$TMP/init.err")"
}

# ---- sync fixtures: a server and nodes on loopback -------------------------
# Need $CIGSYNC_SERVER (the built cigsync-server) and python3.

# need_sync_tools: skips the test (77) without cigsync-server or python3.
need_sync_tools() {
    [ -n "${CIGSYNC_SERVER:-}" ] || { echo "SKIP: no CIGSYNC_SERVER" >&2; exit 77; }
    have_python || { echo "SKIP: python3 is not installed" >&2; exit 77; }
}

# srv ARGS: runs cigsync-server.
srv() {
    "$CIGSYNC_SERVER" "$@"
}

# free_port: prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# hub_setup: makes the server directory $TMP/hub on a free port and sets
# HUB (its directory), HUB_PORT, HUB_EP (its endpoint) and HUB_KEY (its
# identity).
hub_setup() {
    HUB=$TMP/hub
    HUB_PORT=$(free_port)
    HUB_EP=tcp://127.0.0.1:$HUB_PORT
    HUB_KEY=$(srv init "$HUB" --listen "$HUB_EP" 2>"$TMP/hub.init") ||
        fail "cigsync-server init: $(cat "$TMP/hub.init")"
}

# bg CMD...: runs CMD in the background, killed when the test ends; sets
# BG_PID.
bg() {
    "$@" &
    BG_PID=$!
    BG_PIDS="$BG_PIDS $BG_PID"
}

# node_setup NAME ROLE [OFFICE]: makes node directory $TMP/NAME pointing at
# the hub and enrols it with ROLE (site, central, auditor) and OFFICE
# (sites: needed; central: its office, default CEN; auditor: none).
node_setup() {
    local name=$1 role=$2 office=${3:-} id
    id=$(cs init "$TMP/$name" --name "$name" --office "${office:-CEN}" \
        --server "$HUB_EP" --server-key "$HUB_KEY" 2>"$TMP/$name.init") ||
        fail "init $name: $(cat "$TMP/$name.init")"
    if [ "$role" = auditor ]; then
        srv enroll "$HUB" "$name" --role auditor --key "$id" >/dev/null 2>&1 ||
            fail "enroll $name"
    elif [ -n "$office" ]; then
        srv enroll "$HUB" "$name" --role "$role" --office "$office" --key "$id" \
            >/dev/null 2>&1 || fail "enroll $name"
    else
        srv enroll "$HUB" "$name" --role "$role" --key "$id" >/dev/null 2>&1 ||
            fail "enroll $name"
    fi
}

# hub_start: starts `cigsync-server run` in the background (log appended
# to $TMP/hub.log) and waits until it serves; sets HUB_PID.
hub_start() {
    # The binary itself, not the srv function: $! must be the server.
    CIGSYNC_LOG=${CIGSYNC_LOG:-info} "$CIGSYNC_SERVER" run "$HUB" \
        >>"$TMP/hub.log" 2>&1 &
    HUB_PID=$!
    local i
    for i in $(seq 100); do
        grep -q "serving on $HUB_EP" "$TMP/hub.log" 2>/dev/null && return 0
        kill -0 "$HUB_PID" 2>/dev/null || fail "the server died: $(tail -5 "$TMP/hub.log")"
        sleep 0.1
    done
    fail "the server did not start: $(tail -5 "$TMP/hub.log")"
}

# hub_stop: stops the server with SIGTERM and waits for it.
hub_stop() {
    [ -n "${HUB_PID:-}" ] || return 0
    kill -TERM "$HUB_PID" 2>/dev/null
    wait "$HUB_PID" 2>/dev/null
    HUB_PID=
}

# sync_ok NAME: runs one `cigsync sync` of node NAME, which must exit 0.
sync_ok() {
    expect_ok cs -C "$TMP/$1" sync --quiet --timeout 30
}

# synced_content NAME: prints every synced table's visible content of
# node NAME's replica, sorted, for comparing replicas.
synced_content() {
    local db=$TMP/$1/replica.db t
    for t in $(sqlite3 "$db" "SELECT name FROM zz_table ORDER BY name"); do
        echo "== $t"
        sqlite3 -separator '|' "$db" "SELECT * FROM \"$t\" ORDER BY id"
    done
}
