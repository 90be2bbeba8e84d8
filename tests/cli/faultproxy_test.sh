# tests/cli/faultproxy_test.sh - tests/tools/cs-faultproxy, the fault-
# injecting TCP proxy of the end-to-end tests: it forwards bytes intact
# (one and many connections, with delay, rate cap and stalls), --cut-every
# and --cut-after-ms reset connections, --max-cuts stops the cuts, the
# stats and port files, SIGTERM, and bad command lines (exit 2).
# A python3 echo server stands behind the proxy and python3 clients send
# random bytes through it and compare SHA-256 digests.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

: "${CS_FAULTPROXY:?set CS_FAULTPROXY to the path of cs-faultproxy}"

if ! have_python; then
    echo "SKIP: python3 is not installed" >&2
    exit 77
fi

cd "$TMP" || exit 1

PIDS=()
finish() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    cleanup
}
trap finish EXIT

# The echo server and the clients.  Exit status of a client: 0 all bytes
# came back intact, 3 the connection was cut (EOF or reset before the
# end), 1 anything else (wrong bytes, timeout).
cat >fp.py <<'EOF'
import hashlib, os, socket, sys, threading, time

TIMEOUT = 30.0


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def echo(port_file):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    write_atomic(port_file, "%d\n" % srv.getsockname()[1])

    def serve(conn):
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def transfer(port, size):
    """Sends size random bytes, reads the echo; returns (status, received)."""
    data = os.urandom(size)
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    except ConnectionResetError:
        # reset by the proxy before connect() returned: a cut too
        return 3, 0
    failed = []

    def send():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            failed.append(e)

    sender = threading.Thread(target=send)
    sender.start()
    got = hashlib.sha256()
    n = 0
    status = 0
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got.update(chunk)
            n += len(chunk)
    except socket.timeout:
        status = 1
    except OSError:
        status = 3
    sender.join()
    s.close()
    if status == 0 and n < size:
        status = 3
    if status == 0 and (n != size or
                        got.digest() != hashlib.sha256(data).digest()):
        print("corrupt: %d of %d bytes, digest differs" % (n, size))
        status = 1
    return status, n


def main():
    cmd = sys.argv[1]
    if cmd == "echo":
        echo(sys.argv[2])
    port = int(sys.argv[2])
    if cmd == "client":
        status, n = transfer(port, int(sys.argv[3]))
        print("received %d" % n)
        sys.exit(status)
    if cmd == "parallel":
        count, size = int(sys.argv[3]), int(sys.argv[4])
        results = [None] * count

        def run(i):
            results[i] = transfer(port, size)

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bad = [r for r in results if r[0] != 0]
        print("%d of %d intact" % (count - len(bad), count))
        sys.exit(1 if bad else 0)
    if cmd == "retry":
        size, tries = int(sys.argv[3]), int(sys.argv[4])
        for attempt in range(1, tries + 1):
            status, _ = transfer(port, size)
            if status == 0:
                print("attempts %d" % attempt)
                sys.exit(0)
            if status != 3:
                sys.exit(1)
        print("no intact transfer in %d attempts" % tries)
        sys.exit(1)
    if cmd == "idle":
        start = time.monotonic()
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            data = s.recv(1)
        except OSError:
            data = b""
        print("closed after %d ms" % ((time.monotonic() - start) * 1000))
        sys.exit(3 if data == b"" else 1)
    if cmd == "rtt":
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.monotonic()
        s.sendall(b"x")
        data = s.recv(1)
        print("%d" % ((time.monotonic() - start) * 1000))
        sys.exit(0 if data == b"x" else 1)
    sys.exit("fp.py: unknown command " + cmd)


main()
EOF

# wait_file FILE: waits up to 10 s for FILE to exist.
wait_file() {
    for _ in $(seq 100); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    fail "$1 did not appear"
}

python3 fp.py echo echo.port 2>echo.err &
PIDS+=($!)
wait_file echo.port
echo_port=$(cat echo.port)

# start_proxy NAME ARGS: starts cs-faultproxy towards the echo server, with
# its stderr in NAME.log, stats in NAME.stats; sets PROXY_PID, PROXY_PORT.
start_proxy() {
    local name=$1
    shift
    "$CS_FAULTPROXY" --listen 127.0.0.1:0 --to "127.0.0.1:$echo_port" \
        --port-file "$name.port" --stats "$name.stats" "$@" \
        2>"$name.log" &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_file "$name.port"
    PROXY_PORT=$(cat "$name.port")
}

# stop_proxy NAME: SIGTERM; the proxy must exit 0 and log its stop.
stop_proxy() {
    kill -TERM "$PROXY_PID"
    wait "$PROXY_PID"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "$1: exit $rc after SIGTERM: $(cat "$1.log")"
    grep -q '^cs-faultproxy: stopping on signal' "$1.log" ||
        fail "$1: no stop line in: $(cat "$1.log")"
}

# stats_field NAME KEY: prints one number of NAME.stats.
stats_field() {
    sed -n "s/^$2 \([0-9][0-9]*\)$/\1/p" "$1.stats"
}

# wait_stat NAME KEY VALUE: waits up to 10 s for NAME.stats to say VALUE.
wait_stat() {
    for _ in $(seq 100); do
        [ "$(stats_field "$1" "$2")" = "$3" ] && return 0
        sleep 0.1
    done
    fail "$1.stats: $2 is not $3: $(cat "$1.stats")"
}

# --- forwarding: bytes come back intact ------------------------------------
start_proxy plain --seed 1
expect_ok python3 fp.py client "$PROXY_PORT" 300000
expect_ok python3 fp.py parallel "$PROXY_PORT" 70 50000
grep -q '^cs-faultproxy: listening on 127.0.0.1:[0-9]*, forwarding to' \
    plain.log || fail "no listening line: $(cat plain.log)"
closed='connection 1 closed after 600000 bytes (up 300000, down 300000)'
grep -qx "cs-faultproxy: $closed" plain.log ||
    fail "no close line: $(cat plain.log)"
stop_proxy plain
[ "$(stats_field plain connections)" = 71 ] ||
    fail "connections: $(cat plain.stats)"
[ "$(stats_field plain cuts)" = 0 ] || fail "cuts: $(cat plain.stats)"
[ "$(stats_field plain bytes_up)" = $((300000 + 70 * 50000)) ] ||
    fail "bytes_up: $(cat plain.stats)"
[ "$(stats_field plain bytes_down)" = $((300000 + 70 * 50000)) ] ||
    fail "bytes_down: $(cat plain.stats)"
[ ! -e plain.stats.tmp ] || fail "plain.stats.tmp left behind"

# --- delay, rate and stalls keep the bytes intact and slow them ------------
start_proxy delay --delay-ms 100 --seed 2
expect_ok python3 fp.py rtt "$PROXY_PORT"
rtt=$(out)
[ "$rtt" -ge 200 ] || fail "round trip $rtt ms through 2 x 100 ms of delay"
expect_ok python3 fp.py client "$PROXY_PORT" 300000
stop_proxy delay

start_proxy rate --rate 400000 --seed 3
start=$(date +%s%N)
expect_ok python3 fp.py client "$PROXY_PORT" 200000
ms=$((($(date +%s%N) - start) / 1000000))
# 200000 bytes at 400000 bytes/s: 500 ms, less the bucket's 20 ms of
# burst; 450 leaves slack for clocks
[ "$ms" -ge 450 ] || fail "200000 bytes at 400000 B/s took only $ms ms"
stop_proxy rate

start_proxy stall --stall-every 50000:50000 --stall-ms 150 --seed 4
start=$(date +%s%N)
expect_ok python3 fp.py client "$PROXY_PORT" 100000
ms=$((($(date +%s%N) - start) / 1000000))
stalls=$(grep -c '^cs-faultproxy: stall connection 1 for 150 ms' stall.log)
# 200000 bytes forwarded: stalls at 50000, 100000, 150000 (and 200000)
[ "$stalls" -ge 3 ] || fail "$stalls stalls: $(cat stall.log)"
[ "$ms" -ge 400 ] || fail "three 150 ms stalls took only $ms ms"
stop_proxy stall

# --- --cut-every resets a connection after MIN..MAX bytes -------------------
start_proxy cut --cut-every 10000:20000 --seed 5
python3 fp.py client "$PROXY_PORT" 300000 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 3 ] || fail "client exit $rc through a cutting proxy: $(out)"
line=$(grep '^cs-faultproxy: cut connection 1 after ' cut.log) ||
    fail "no cut line: $(cat cut.log)"
bytes=${line#* after }
bytes=${bytes%% bytes*}
if [ "$bytes" -lt 10000 ] || [ "$bytes" -gt 20000 ]; then
    fail "cut after $bytes bytes, not within 10000:20000"
fi
echo "$line" | grep -q '(byte limit; cut 1)' || fail "cut line: $line"
wait_stat cut cuts 1
[ "$(stats_field cut bytes_up)" -le 20000 ] || fail "bytes_up: $(cat cut.stats)"
# every new connection gets a new cut
python3 fp.py client "$PROXY_PORT" 300000 >"$TMP/out" 2>&1
[ $? -eq 3 ] || fail "second connection not cut: $(out)"
wait_stat cut cuts 2
stop_proxy cut

# --- --max-cuts: after N cuts the connections live -------------------------
start_proxy maxcuts --cut-every 5000:10000 --max-cuts 3 --seed 6
expect_ok python3 fp.py retry "$PROXY_PORT" 100000 10
[ "$(out)" = "attempts 4" ] || fail "max-cuts 3: $(out)"
stop_proxy maxcuts
[ "$(stats_field maxcuts cuts)" = 3 ] || fail "cuts: $(cat maxcuts.stats)"
[ "$(stats_field maxcuts connections)" = 4 ] ||
    fail "connections: $(cat maxcuts.stats)"
[ "$(grep -c 'cut connection' maxcuts.log)" = 3 ] ||
    fail "cut lines: $(cat maxcuts.log)"

# --max-cuts 0: nothing is cut
start_proxy nocuts --cut-every 0:10 --max-cuts 0
expect_ok python3 fp.py client "$PROXY_PORT" 100000
stop_proxy nocuts

# --- --cut-after-ms resets an idle connection -------------------------------
start_proxy timed --cut-after-ms 100:200 --seed 7
start=$(date +%s%N)
python3 fp.py idle "$PROXY_PORT" >"$TMP/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -eq 3 ] || fail "idle client exit $rc: $(out)"
if [ "$ms" -lt 100 ] || [ "$ms" -ge 10000 ]; then
    fail "cut after $ms ms"
fi
grep -q 'cut connection 1 after 0 bytes, .*(time limit; cut 1)' timed.log ||
    fail "no time cut line: $(cat timed.log)"
stop_proxy timed

# --- no server: the client is reset ----------------------------------------
# (port 1, tcpmux, is privileged and in practice never served)
"$CS_FAULTPROXY" --listen 127.0.0.1:0 --to 127.0.0.1:1 \
    --port-file down.port 2>down.log &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_file down.port
python3 fp.py client "$(cat down.port)" 1000 >"$TMP/out" 2>&1
[ $? -eq 3 ] || fail "client of a proxy without server: $(out)"
grep -q 'connection 1: cannot connect to' down.log ||
    fail "no connect failure line: $(cat down.log)"
stop_proxy down

# --- bad command lines: one clear line, exit 2 ------------------------------
# bad_args REGEX ARGS: cs-faultproxy ARGS must exit 2 with one stderr line
# matching REGEX.
bad_args() {
    local re=$1 rc
    shift
    "$CS_FAULTPROXY" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "exit $rc from: cs-faultproxy $*"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
        fail "expected one line from: cs-faultproxy $*: $(cat "$TMP/err")"
    grep -Eq "^cs-faultproxy: .*$re" "$TMP/err" ||
        fail "stderr of: cs-faultproxy $* not /$re/: $(cat "$TMP/err")"
}
to=(--to "127.0.0.1:$echo_port")
both=(--listen 127.0.0.1:0 "${to[@]}")
bad_args '--listen HOST:PORT is required' "${to[@]}"
bad_args '--to HOST:PORT is required' --listen 127.0.0.1:0
bad_args "MIN 5 is greater than MAX 1" "${both[@]}" --cut-every 5:1
bad_args "--rate: 'abc' is not a whole number" "${both[@]}" --rate abc
bad_args "--rate: '-1' is not a whole number" "${both[@]}" --rate -1
bad_args "--rate: '0' is not a whole number from 1" "${both[@]}" --rate 0
bad_args "--cut-every: '1:x' is not MIN:MAX" "${both[@]}" --cut-every 1:x
bad_args "--stall-every and --stall-ms go together" "${both[@]}" \
    --stall-every 10:20
bad_args "unknown option '--bogus'" "${both[@]}" --bogus 1
bad_args "--seed needs a value" "${both[@]}" --seed
bad_args "'127.0.0.1' is not HOST:PORT" --listen 127.0.0.1 "${to[@]}"
bad_args "has no valid port" --listen 127.0.0.1:0 --to 127.0.0.1:0
bad_args "has no valid port" --listen 127.0.0.1:70000 "${to[@]}"
bad_args "unexpected argument 'extra'" "${both[@]}" extra
expect_ok "$CS_FAULTPROXY" --help
out | grep -q -- '--cut-every MIN:MAX' || fail "--help: $(out)"

exit 0
