# tests/cli/passphrase_test.sh - node keys sealed with a passphrase (issue 3
# item 8): init --passphrase-fd and --passphrase, `key check`, status, the
# three ways a passphrase arrives (--passphrase-fd, $CIGSYNC_PASSPHRASE_FD,
# the terminal) and the errors.  The terminal part drives cigsync on a
# pseudo-terminal with python3 (skipped without it); a key sealed by init
# costs Argon2id at the default cost, about half a second per use.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

cd "$TMP" || exit 1

# kind FILE: prints the kind byte of a key file (0 plain, 1 protected).
kind() {
    od -An -tu1 -j4 -N1 "$1" | tr -d ' '
}

# no_tty CMD...: runs CMD in a new session, without a controlling terminal.
have_setsid=false
command -v setsid >/dev/null 2>&1 && have_setsid=true
no_tty() {
    setsid -w "$@" </dev/null
}

# --- init with the passphrase on a file descriptor ----------------------------
expect_ok cs init node --name 'Исфана офиси' --office ISF --passphrase-fd 3 \
    3<<<'secret words'
identity=$(out)
echo "$identity" | grep -Eq '^cs1:[0-9a-f]{64}$' || fail "identity: $identity"
grep -q 'sealed with your passphrase' "$TMP/err" ||
    fail "init does not say the key is sealed: $(cat "$TMP/err")"
[ "$(kind node/node.key)" = 1 ] || fail "key kind $(kind node/node.key)"
[ "$(stat -c %a node/node.key)" = 600 ] ||
    fail "key mode $(stat -c %a node/node.key)"
[ "$(stat -c %s node/node.key)" = 141 ] ||
    fail "key size $(stat -c %s node/node.key)"
saved_key=$TMP/node.key.saved
cp -p node/node.key "$saved_key"

# --- key check: the passphrase by option, by environment ----------------------
expect_ok cs -C node --passphrase-fd 3 key check 3<<<'secret words'
[ "$(out)" = "key ok: $identity" ] || fail "key check said: $(out)"
expect_ok cs -C node --passphrase-fd=0 key check <<<'secret words'
expect_ok cs -C node --passphrase-fd 3 key check 3< <(printf 'secret words')
# after the command too, for the commands that need the key
expect_ok cs -C node key check --passphrase-fd 3 3<<<'secret words'
[ "$(out)" = "key ok: $identity" ] || fail "key check said: $(out)"
expect_ok cs -C node key --passphrase-fd=3 check 3<<<'secret words'
expect_fail 2 'status: unknown option "--passphrase-fd"' \
    cs -C node status --passphrase-fd 3
expect_ok env CIGSYNC_PASSPHRASE_FD=4 "$CIGSYNC" -C node key check \
    4<<<'secret words'
[ "$(out)" = "key ok: $identity" ] || fail "key check (env) said: $(out)"
# the option beats the environment
expect_ok env CIGSYNC_PASSPHRASE_FD=9 "$CIGSYNC" -C node --passphrase-fd 3 \
    key check 3<<<'secret words'

# --- wrong or unusable passphrases: exit 1, one clear line --------------------
expect_fail 1 '^cigsync: wrong passphrase for node/node\.key$' \
    cs -C node --passphrase-fd 3 key check 3<<<'Secret words'
expect_fail 1 '^cigsync: wrong passphrase for node/node\.key$' \
    cs -C node --passphrase-fd 3 key check 3<<<'secret words '
expect_fail 1 '^cigsync: wrong passphrase for node/node\.key$' \
    env CIGSYNC_PASSPHRASE_FD=4 "$CIGSYNC" -C node key check 4<<<'secret'
expect_fail 1 'empty passphrase refused' \
    cs -C node --passphrase-fd 3 key check 3<<<''
expect_fail 1 'empty passphrase refused' \
    cs -C node --passphrase-fd 3 key check 3</dev/null
expect_fail 1 'passphrase refused: longer than 1024 bytes' \
    cs -C node --passphrase-fd 3 key check 3< <(head -c 1025 /dev/zero | tr '\0' a)
expect_fail 1 'cannot read the passphrase from file descriptor 7: Bad file' \
    cs -C node --passphrase-fd 7 key check 7<&-

# --- bad descriptor numbers are usage errors ----------------------------------
for bad in x -1 3x ' 3' '' 99999999999; do
    expect_fail 2 "--passphrase-fd needs a file descriptor number" \
        cs -C node --passphrase-fd "$bad" key check
done
expect_fail 2 '--passphrase-fd needs a value' cs --passphrase-fd
expect_fail 2 'CIGSYNC_PASSPHRASE_FD needs a file descriptor number, not "abc"' \
    env CIGSYNC_PASSPHRASE_FD=abc "$CIGSYNC" -C node key check
expect_fail 2 'key: expected check' cs -C node key
expect_fail 2 'key: expected check' cs -C node key frob
expect_fail 2 'unknown option "--frob"' cs -C node key --frob

# --- no passphrase and no terminal: the clear error ---------------------------
if $have_setsid; then
    expect_fail 1 '^cigsync: node/node\.key is protected by a passphrase: give --passphrase-fd N or run from a terminal$' \
        no_tty "$CIGSYNC" -C node key check
    # commands that do not need the key never ask for it
    expect_ok no_tty "$CIGSYNC" -C node status
    expect_ok no_tty "$CIGSYNC" -C node conflicts
fi

# --- status tells whether the key is protected, without asking ----------------
expect_ok cs -C node status
out | grep -q '^key  *node/node\.key (protected by a passphrase)$' ||
    fail "status key line: $(out)"
expect_ok cs -C node status --json
out | json_check
if have_python; then
    [ "$(out | json_get 'd["key_protected"]')" = true ] ||
        fail "json key_protected: $(out)"
    [ "$(out | json_get 'd["key"]')" = node/node.key ] || fail "json key"
fi

# --- plain keys still work, and need no passphrase ----------------------------
expect_ok cs init plain --name Plain --office KOC
[ "$(kind plain/node.key)" = 0 ] || fail "plain key kind $(kind plain/node.key)"
[ "$(stat -c %s plain/node.key)" = 69 ] || fail "plain key size"
plain_identity=$(out)
if $have_setsid; then
    expect_ok no_tty "$CIGSYNC" -C plain key check
    [ "$(out)" = "key ok: $plain_identity" ] || fail "plain key check: $(out)"
fi
expect_ok cs -C plain --passphrase-fd 3 key check 3<<<'not needed'
expect_ok cs -C plain status
out | grep -q '^key  *plain/node\.key (no passphrase)$' ||
    fail "status key line (plain): $(out)"
if have_python; then
    expect_ok cs -C plain status --json
    [ "$(out | json_get 'd["key_protected"]')" = false ] ||
        fail "json key_protected (plain)"
fi

# --- damaged, foreign, missing, exposed and hostile key files ------------------
cp -p plain/node.key node/node.key
expect_fail 1 "node/node\.key is not this node's key: it is $plain_identity, but node/config says $identity" \
    cs -C node key check
head -c 100 "$saved_key" >node/node.key
expect_fail 1 'node/node\.key is damaged or not a cigsync key file' \
    env CIGSYNC_LOG=none "$CIGSYNC" -C node --passphrase-fd 3 key check \
    3<<<'secret words'
# a sealed byte changed: indistinguishable from a wrong passphrase
cp -p "$saved_key" node/node.key
printf '\x00\x00' | dd of=node/node.key bs=1 seek=70 conv=notrunc 2>/dev/null
printf '\xff\xff' | dd of=node/node.key bs=1 seek=72 conv=notrunc 2>/dev/null
expect_fail 1 'wrong passphrase for node/node\.key' \
    cs -C node --passphrase-fd 3 key check 3<<<'secret words'
# a file asking Argon2id for 100 GiB is refused at once, before any work
cp -p "$saved_key" node/node.key
printf '\x00\x00\x00\x19\x00\x00\x00\x00' |
    dd of=node/node.key bs=1 seek=29 conv=notrunc 2>/dev/null
expect_fail 1 'node/node\.key is damaged or not a cigsync key file' \
    timeout 10 env CIGSYNC_LOG=none "$CIGSYNC" -C node --passphrase-fd 3 \
    key check 3<<<'secret words'
cp -p "$saved_key" node/node.key
chmod 644 node/node.key
expect_fail 1 'cannot use node/node\.key: permission denied' \
    env CIGSYNC_LOG=none "$CIGSYNC" -C node --passphrase-fd 3 key check \
    3<<<'secret words'
rm node/node.key
expect_fail 1 'node/node\.key is missing' cs -C node key check
expect_ok cs -C node status
out | grep -q '^key  *node/node\.key (missing)$' || fail "status, no key: $(out)"
cp -p "$saved_key" node/node.key
expect_ok cs -C node --passphrase-fd 3 key check 3<<<'secret words'

# --- init: how the passphrase is asked for, and refusals ----------------------
expect_fail 1 'empty passphrase refused' \
    cs init e1 --name E --office ISF --passphrase-fd 3 3</dev/null
[ ! -e e1 ] || fail "a refused init left e1/ behind"
expect_fail 2 'give one of --passphrase and --passphrase-fd N' \
    cs init e2 --name E --office ISF --passphrase --passphrase-fd 3
expect_fail 2 'give one of --passphrase and --passphrase-fd N' \
    cs --passphrase-fd 3 init e2 --name E --office ISF --passphrase-fd 3
expect_fail 2 'unknown option "--passphrase=secret"' \
    cs init e2 --name E --office ISF --passphrase=secret
expect_fail 2 '--passphrase-fd needs a file descriptor number' \
    cs init e2 --name E --office ISF --passphrase-fd x
[ ! -e e2 ] || fail "a refused init left e2/ behind"
if $have_setsid; then
    expect_fail 1 '^cigsync: --passphrase needs a terminal to ask on; give the passphrase with --passphrase-fd N$' \
        no_tty "$CIGSYNC" init e3 --name E --office ISF --passphrase
    [ ! -e e3 ] || fail "a refused init left e3/ behind"
fi
# the node is checked before the passphrase is read
expect_fail 1 'node already exists and is not empty' \
    cs init node --name X --office ISF --passphrase-fd 3 3<<<'x'
# --passphrase-fd before the command works for init too
expect_ok cs --passphrase-fd 3 init g1 --name G --office ISF 3<<<'g secret'
[ "$(kind g1/node.key)" = 1 ] || fail "global --passphrase-fd: plain key"
expect_ok cs -C g1 --passphrase-fd 3 key check 3<<<'g secret'
# $CIGSYNC_PASSPHRASE_FD is for loading keys; alone it does not seal one
expect_ok env CIGSYNC_PASSPHRASE_FD=3 "$CIGSYNC" init g2 --name G --office ISF \
    3<<<'x'
[ "$(kind g2/node.key)" = 0 ] || fail "init sealed a key from the environment"

# --- the terminal ---------------------------------------------------------------
if ! have_python; then
    echo "passphrase_test: ok (terminal part skipped: no python3)"
    exit 0
fi
# tty.py ACTION... -- CMD...: runs CMD on a new pseudo-terminal as its
# controlling terminal.  Before each ACTION it waits for the next prompt
# (text ending in ": "); ACTION is say:TEXT (type TEXT and Enter) or
# kill:SIG (send the signal; after TSTP also CONT).  Prints the transcript,
# exits with CMD's status (128 + N for signal N), or 3 if CMD left the
# terminal's echo off, or 124 on a timeout.
cat >"$TMP/tty.py" <<'EOF'
import fcntl, os, select, signal, sys, termios, time

args = sys.argv[1:]
cut = args.index("--")
actions, cmd = args[:cut], args[cut + 1:]
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(slave)
    os.execv(cmd[0], cmd)
out = b""
status = None

def pump(timeout):
    global out, status
    r, _, _ = select.select([master], [], [], timeout)
    if r:
        out += os.read(master, 4096)
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st

deadline = time.time() + 60
for n, action in enumerate(actions, 1):
    while out.count(b": ") < n and status is None and time.time() < deadline:
        pump(0.1)
    if status is not None or time.time() >= deadline:
        break
    verb, _, arg = action.partition(":")
    if verb == "say":
        os.write(master, arg.encode() + b"\n")
    else:
        sig = getattr(signal, "SIG" + arg)
        os.kill(pid, sig)
        if sig == signal.SIGTSTP:
            time.sleep(0.2)
            os.kill(pid, signal.SIGCONT)
while status is None and time.time() < deadline:
    pump(0.1)
while select.select([master], [], [], 0.1)[0]:
    chunk = os.read(master, 4096)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode("utf-8", "replace"))
if status is None:
    os.kill(pid, signal.SIGKILL)
    sys.exit(124)
if not termios.tcgetattr(slave)[3] & termios.ECHO:
    sys.stderr.write("tty.py: the terminal's echo was left off\n")
    sys.exit(3)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status)
         else 128 + os.WTERMSIG(status))
EOF
# on_tty CODE ACTION... -- CMD...: runs tty.py, which must exit with CODE;
# the transcript is left in $TMP/out.
on_tty() {
    local code=$1 rc
    shift
    python3 "$TMP/tty.py" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq "$code" ] ||
        fail "expected exit $code, got $rc from: $* ($(cat "$TMP/err"); transcript: $(out))"
}

# init --passphrase asks twice, with echo off, and seals the key
on_tty 0 'say:tty words' 'say:tty words' -- \
    "$CIGSYNC" init t1 --name T --office ISF --passphrase
out | grep -q 'New passphrase for t1/node\.key: ' || fail "init prompt: $(out)"
out | grep -q 'Same passphrase again: ' || fail "init confirm prompt: $(out)"
! out | grep -q 'tty words' || fail "the passphrase was echoed: $(out)"
[ "$(kind t1/node.key)" = 1 ] || fail "init --passphrase: plain key"
on_tty 1 say:one say:two -- \
    "$CIGSYNC" init t2 --name T --office ISF --passphrase
out | grep -q 'cigsync: the two passphrases differ' || fail "mismatch: $(out)"
[ ! -e t2 ] || fail "a refused init left t2/ behind"
on_tty 1 say: -- "$CIGSYNC" init t3 --name T --office ISF --passphrase
out | grep -q 'cigsync: empty passphrase refused' || fail "empty: $(out)"
[ ! -e t3 ] || fail "a refused init left t3/ behind"

# key check on the terminal: right; wrong then right; wrong three times
on_tty 0 'say:tty words' -- "$CIGSYNC" -C t1 key check
out | grep -q 'Passphrase for t1/node\.key: ' || fail "prompt: $(out)"
out | grep -q '^key ok: cs1:' || fail "key check on the terminal: $(out)"
! out | grep -q 'tty words' || fail "the passphrase was echoed: $(out)"
on_tty 0 say:nope 'say:tty words' -- "$CIGSYNC" -C t1 key check
out | grep -q 'Wrong passphrase; try again for t1/node\.key: ' ||
    fail "second try: $(out)"
on_tty 1 say:a say:b say:c -- "$CIGSYNC" -C t1 key check
out | grep -q 'cigsync: wrong passphrase for t1/node\.key' ||
    fail "three wrong: $(out)"
[ "$(out | grep -c 'passphrase\|Passphrase' )" -ge 3 ] || fail "tries: $(out)"
# a descriptor, when given, is used instead of the terminal
echo 'tty words' >"$TMP/pass.txt"
# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
on_tty 0 -- /bin/sh -c 'exec "$0" -C t1 --passphrase-fd 3 key check 3<"$1"' \
    "$CIGSYNC" "$TMP/pass.txt"
! out | grep -q 'Passphrase for' || fail "asked despite --passphrase-fd"

# signals while echo is off: the terminal gets its echo back
on_tty 130 kill:INT -- "$CIGSYNC" -C t1 key check
on_tty 143 kill:TERM -- "$CIGSYNC" -C t1 key check
on_tty 129 kill:HUP -- "$CIGSYNC" -C t1 key check
# a job-control stop: asked again once continued
on_tty 0 kill:TSTP 'say:tty words' -- "$CIGSYNC" -C t1 key check
out | grep -q '^key ok: cs1:' || fail "after a stop: $(out)"

echo "passphrase_test: ok"
