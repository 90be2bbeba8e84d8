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

cleanup() {
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
