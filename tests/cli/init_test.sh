# tests/cli/init_test.sh - `cigsync init`, global options and help.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

cd "$TMP" || exit 1

# --- a new node -----------------------------------------------------------
expect_ok cs init node --name 'Исфана офиси' --office ISF
[ "$(out | wc -l)" -eq 1 ] || fail "init printed more than one line: $(out)"
identity=$(out)
echo "$identity" | grep -Eq '^cs1:[0-9a-f]{64}$' ||
    fail "identity line: $identity"
grep -q 'node id' "$TMP/err" || fail "init tells no node id on stderr"

[ "$(stat -c %a node)" = 700 ] || fail "node dir mode $(stat -c %a node)"
[ "$(stat -c %a node/node.key)" = 600 ] ||
    fail "key mode $(stat -c %a node/node.key)"
# without --passphrase the key is plain (kind 0, 69 bytes; passphrase_test.sh
# covers sealed keys)
[ "$(od -An -tu1 -j4 -N1 node/node.key | tr -d ' ')" = 0 ] ||
    fail "key kind is not plain"
[ "$(stat -c %s node/node.key)" = 69 ] || fail "key size"
[ -f node/replica.db ] || fail "no replica.db"

grep -qx 'format = 1' node/config || fail "config: format"
grep -qx 'name = Исфана офиси' node/config || fail "config: name"
grep -qx 'office = ISF' node/config || fail "config: office"
grep -Eqx 'node_id = [0-9a-f]{32}' node/config || fail "config: node_id"
grep -qx "identity = $identity" node/config || fail "config: identity"
grep -Eqx 'created = [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z' \
    node/config || fail "config: created"
node_id=$(sed -n 's/^node_id = //p' node/config)

# status agrees with the config; a new node has nothing pending
expect_ok cs -C node status
out | grep -q "^node id  *$node_id\$" || fail "status node id: $(out)"
out | grep -q '^office  *ISF$' || fail "status office"
out | grep -q "^identity  *$identity\$" || fail "status identity"
out | grep -q '^pending  *0 ' || fail "status pending: $(out)"
out | grep -q '^last sync  *never$' || fail "status last sync"
out | grep -q '^key  *node/node\.key (no passphrase)$' || fail "status key"
expect_ok cs -C node key check
[ "$(out)" = "key ok: $identity" ] || fail "key check: $(out)"
expect_ok cs -C node status --json
out | json_check
if have_python; then
    [ "$(out | json_get 'd["node_id"]')" = "$node_id" ] || fail "json node_id"
    [ "$(out | json_get 'd["last_sync"]')" = null ] || fail "json last_sync"
    [ "$(out | json_get 'd["name"]')" = 'Исфана офиси' ] || fail "json name"
fi

# --- refusals leave things as they were ------------------------------------
before=$(dump_db node)
listing=$(ls -la node)
expect_fail 1 'node already exists and is not empty' \
    cs init node --name Other --office KOC
expect_same_db node "$before"
[ "$(ls -la node)" = "$listing" ] || fail "init touched an existing node"
grep -qx "identity = $identity" node/config || fail "config changed"

mkdir full && echo keep >full/notes.txt
expect_fail 1 'full already exists and is not empty' \
    cs init full --name X --office ISF
[ "$(ls full)" = notes.txt ] || fail "init touched a non-empty dir"

echo data >afile
expect_fail 1 'afile already exists and is not a directory' \
    cs init afile --name X --office ISF
[ "$(cat afile)" = data ] || fail "init touched a file"

for code in isf I ABCDEFGHI 'IS F' 'ISF-1' ''; do
    expect_fail 2 'bad office code' cs init bad --name X --office "$code"
    [ ! -e bad ] || fail "init with office '$code' left bad/ behind"
done
for name in '' ' lead' 'trail ' "$(printf 'a\tb')" "$(printf 'a\033[2Jb')" \
    "$(printf 'x%.0s' $(seq 65))" "$(printf '\377')"; do
    expect_fail 2 'bad node name' cs init bad --name "$name" --office ISF
    [ ! -e bad ] || fail "init with a bad name left bad/ behind"
done
expect_fail 1 'cannot create nodir/deeper' \
    cs init nodir/deeper --name X --office ISF
[ ! -e nodir ] || fail "init made parents"

# --- missing or wrong arguments: usage errors, exit 2 ----------------------
expect_fail 2 'init: expected DIR --name NAME --office CODE' cs init
expect_fail 2 'expected DIR' cs init new --name X
expect_fail 2 'expected DIR' cs init new --office ISF
expect_fail 2 'expected DIR' cs init --name X --office ISF
expect_fail 2 '--office needs a value' cs init new --name X --office
expect_fail 2 'expected one DIR' cs init new other --name X --office ISF
expect_fail 2 'unknown option "--bogus"' cs init new --name X --office ISF \
    --bogus
expect_fail 2 'unknown option "--json"' cs init new --name X --office ISF \
    --json
[ ! -e new ] || fail "a refused init left new/ behind"

# --- an empty existing directory is fine; --name=X form ---------------------
mkdir empty && chmod 755 empty
expect_ok cs init empty --name=Kochkor --office=KOC
out | grep -Eq '^cs1:[0-9a-f]{64}$' || fail "init into empty dir"
[ "$(stat -c %a empty)" = 700 ] || fail "empty dir not made 0700"
[ "$(out)" != "$identity" ] || fail "two nodes got the same identity"

# --- global options, help, unknown commands ---------------------------------
expect_ok cs --version
out | grep -Eqx 'cigsync [0-9]+\.[0-9]+\.[0-9]+' || fail "--version: $(out)"
for args in '' help --help -h; do
    # shellcheck disable=SC2086
    expect_ok cs $args
    out | grep -q '^commands:' || fail "'cigsync $args' prints no list"
    out | grep -q '^  conflicts ' || fail "'cigsync $args' lacks conflicts"
done
for cmd in init add set rm restore list show status conflicts merge key; do
    expect_ok cs "$cmd" --help
    out | grep -q "^usage: cigsync .*$cmd" || fail "$cmd --help: $(out)"
    expect_ok cs help "$cmd"
    out | grep -q "^usage: cigsync .*$cmd" || fail "help $cmd"
done
expect_fail 2 'unknown command "frobnicate"' cs frobnicate
expect_fail 2 'unknown command "frobnicate"' cs help frobnicate
expect_fail 2 'unknown option "--frob"' cs --frob status
expect_fail 2 'unknown option "--frob"' cs -C node status --frob
expect_fail 2 '-C needs a directory' cs -C
expect_fail 2 '--passphrase-fd needs a value' cs --passphrase-fd
expect_fail 2 'no node directory: use -C DIR or set CIGSYNC_DIR' cs status

echo "init_test: ok"
