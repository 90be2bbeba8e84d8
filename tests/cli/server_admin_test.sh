# tests/cli/server_admin_test.sh - `cigsync-server init`, `enroll`, `revoke`,
# `nodes`, help and errors (issue 4, item 1: the administration half).
# Offices are made with the real `cigsync init`, and their identities taken
# from its stdout, as an administrator would.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

: "${CIGSYNC_SERVER:?set CIGSYNC_SERVER to the path of cigsync-server}"

cd "$TMP" || exit 1

# srv ARGS: runs cigsync-server.
srv() {
    "$CIGSYNC_SERVER" "$@"
}

# srv_fail_at MESSAGE: fail, naming the line that called srv_fail.
srv_fail_at() {
    echo "FAIL (${BASH_SOURCE[2]##*/}:${BASH_LINENO[1]}): $*" >&2
    exit 1
}

# srv_fail CODE REGEX CMD...: as lib.sh's expect_fail, for cigsync-server's
# "cigsync-server: " error lines.
srv_fail() {
    local code=$1 re=$2 rc lines
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq "$code" ] ||
        srv_fail_at "expected exit $code, got $rc from: $* (stderr: $(cat "$TMP/err"))"
    lines=$(wc -l <"$TMP/err")
    [ "$lines" -eq 1 ] ||
        srv_fail_at "expected one line on stderr from: $*, got: $(cat "$TMP/err")"
    grep -q '^cigsync-server: ' "$TMP/err" ||
        srv_fail_at "stderr does not start with 'cigsync-server: ': $(cat "$TMP/err")"
    grep -Eq -- "$re" "$TMP/err" ||
        srv_fail_at "stderr of: $* does not match /$re/: $(cat "$TMP/err")"
    [ ! -s "$TMP/out" ] || srv_fail_at "unexpected stdout from: $*: $(cat "$TMP/out")"
}

# config_get DIR KEY: prints a value of DIR/config.
config_get() {
    sed -n "s/^$2 = //p" "$1/config"
}

# --- init ------------------------------------------------------------------
expect_ok srv init hub
[ "$(out | wc -l)" -eq 1 ] || fail "init printed more than one line: $(out)"
server_id=$(out)
echo "$server_id" | grep -Eqx 'cs1:[0-9a-f]{64}' || fail "identity: $server_id"
grep -q 'deployment' "$TMP/err" || fail "init tells no deployment on stderr"
grep -q 'enroll' "$TMP/err" || fail "init does not tell how to enrol"

[ "$(stat -c %a hub)" = 700 ] || fail "hub mode $(stat -c %a hub)"
[ "$(stat -c %a hub/server.key)" = 600 ] ||
    fail "key mode $(stat -c %a hub/server.key)"
[ "$(stat -c %s hub/server.key)" = 69 ] || fail "plain key size"
[ "$(od -An -tu1 -j4 -N1 hub/server.key | tr -d ' ')" = 0 ] ||
    fail "key kind is not plain"
[ "$(stat -c %a hub/replica.db)" = 600 ] || fail "replica mode"
[ "$(cd hub && echo *)" = 'config replica.db server.key' ] ||
    fail "hub holds: $(cd hub && echo *)"

grep -qx 'format = 1' hub/config || fail "config: format"
grep -qx 'name = cigsync server' hub/config || fail "config: name"
grep -qx 'listen = tcp://127.0.0.1:7701' hub/config || fail "config: listen"
grep -Eqx 'deployment = [0-9a-f]{32}' hub/config || fail "config: deployment"
grep -Eqx 'node_id = [0-9a-f]{32}' hub/config || fail "config: node_id"
grep -qx "identity = $server_id" hub/config || fail "config: identity"
grep -Eqx 'created = [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z' hub/config ||
    fail "config: created"
server_node=$(config_get hub node_id)
deployment=$(config_get hub deployment)

# the consolidated replica: a cigsync replica of office HUB, with the
# registry in the same file
sq() {
    sqlite3 hub/replica.db "$@"
}
[ "$(sq "SELECT value FROM zz_meta WHERE key = 'office'")" = HUB ] ||
    fail "replica office"
[ "$(sq "SELECT value FROM zz_meta WHERE key = 'node_id'")" = "$server_node" ] ||
    fail "replica node id"
[ "$(sq "SELECT value FROM zz_meta WHERE key = 'registry_version'")" = 1 ] ||
    fail "registry version"
[ "$(sq 'PRAGMA integrity_check')" = ok ] || fail "replica integrity"
for t in zz_srv_node zz_srv_event zz_log zz_cell cig; do
    [ "$(sq "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$t'")" = 1 ] ||
        fail "replica has no table $t"
done
[ "$(sq 'SELECT count(*) FROM zz_srv_node')" = 0 ] || fail "nodes at init"

# a second server gets its own key and deployment
expect_ok srv init hub2 --listen 'tcp://*:7702' --name 'Борбордук сервер'
other_server_id=$(out)
[ "$other_server_id" != "$server_id" ] || fail "two servers, one identity"
[ "$(config_get hub2 deployment)" != "$deployment" ] ||
    fail "two servers, one deployment"
grep -qx 'listen = tcp://\*:7702' hub2/config || fail "config: --listen"
grep -qx 'name = Борбордук сервер' hub2/config || fail "config: --name"
grep -q 'this machine only' "$TMP/err" && fail "tcp://* called local"
expect_ok srv init hub3 --listen=ipc:///tmp/cigsync-test.sock
grep -qx 'listen = ipc:///tmp/cigsync-test.sock' hub3/config ||
    fail "config: ipc listen"
mkdir empty && chmod 755 empty
expect_ok srv init empty --listen 'tcp://[::1]:7701'
[ "$(stat -c %a empty)" = 700 ] || fail "empty dir not made 0700"

# --- init refusals leave things as they were --------------------------------
before=$(dump_db hub)
listing=$(ls -la hub)
srv_fail 1 'hub already exists and is not empty' srv init hub
expect_same_db hub "$before"
[ "$(ls -la hub)" = "$listing" ] || fail "init touched an existing server"
mkdir full && echo keep >full/notes.txt
srv_fail 1 'full already exists and is not empty' srv init full
[ "$(ls full)" = notes.txt ] || fail "init touched a non-empty dir"
echo data >afile
srv_fail 1 'afile already exists and is not a directory' srv init afile
[ "$(cat afile)" = data ] || fail "init touched a file"
for bad in tcp://127.0.0.1 tcp://:7701 tcp://host:0 tcp://host:65536 \
    tcp://host:07701 'tcp://a b:1' http://host:80 udp://host:1 ipc:// \
    127.0.0.1:7701 ''; do
    srv_fail 2 'bad --listen endpoint' srv init bad --listen "$bad"
    [ ! -e bad ] || fail "init with --listen '$bad' left bad/ behind"
done
for name in '' ' lead' 'trail ' "$(printf 'a\tb')" \
    "$(printf 'x%.0s' $(seq 65))"; do
    srv_fail 2 'bad server name' srv init bad --name "$name"
    [ ! -e bad ] || fail "init with a bad name left bad/ behind"
done
srv_fail 1 'cannot create nodir/deeper' srv init nodir/deeper
[ ! -e nodir ] || fail "init made parents"

# --- offices to enrol, made by the office program -----------------------------
cs init isf --name 'Isfana office' --office ISF >isf.id 2>/dev/null ||
    fail "cigsync init isf"
cs init koc --name 'Kochkor office' --office KOC >koc.id 2>/dev/null ||
    fail "cigsync init koc"
cs init cen --name 'Central office' --office CEN >cen.id 2>/dev/null ||
    fail "cigsync init cen"
cs init aud --name 'Auditor' --office AUD >aud.id 2>/dev/null ||
    fail "cigsync init aud"
isf_id=$(cat isf.id) koc_id=$(cat koc.id) cen_id=$(cat cen.id)
aud_id=$(cat aud.id)
isf_node=$(config_get isf node_id)

expect_ok srv nodes hub
[ "$(out)" = 'no nodes enrolled' ] || fail "nodes of an empty registry: $(out)"
expect_ok srv nodes hub --json
[ "$(out)" = '[]' ] || fail "nodes --json of an empty registry: $(out)"

# --- enroll --------------------------------------------------------------------
expect_ok srv enroll hub isfana --role site --office ISF --key "$isf_id"
[ "$(out)" = "enrolled isfana (site, ISF) node id $isf_node" ] ||
    fail "enroll said: $(out)"
grep -q 'writes and reads ISF' "$TMP/err" || fail "enroll tells no scope"
expect_ok srv enroll hub kochkor --role=site --office=KOC --key="$koc_id"
expect_ok srv enroll hub 'central office' --key "$cen_id" --role central
[ "$(out)" = "enrolled central office (central, CEN) node id $(config_get cen node_id)" ] ||
    fail "enroll central said: $(out)"
expect_ok srv enroll hub audit --role auditor --key "$aud_id"
[ "$(out)" = "enrolled audit (auditor) node id $(config_get aud node_id)" ] ||
    fail "enroll auditor said: $(out)"
[ "$(sq 'SELECT count(*) FROM zz_srv_node')" = 4 ] || fail "4 nodes"
[ "$(sq "SELECT role || ' ' || office || ' ' || node_id || ' ' || status FROM zz_srv_node WHERE name = 'isfana'")" = "site ISF $isf_node active" ] ||
    fail "isfana's row"
[ "$(sq "SELECT hex(pubkey) FROM zz_srv_node WHERE name = 'isfana'")" = \
    "$(echo "${isf_id#cs1:}" | tr a-f A-F)" ] || fail "isfana's key"
[ "$(sq "SELECT office IS NULL FROM zz_srv_node WHERE name = 'audit'")" = 1 ] ||
    fail "an auditor has an office"
[ "$(sq "SELECT office FROM zz_srv_node WHERE name = 'central office'")" = CEN ] ||
    fail "central's default office"
[ "$(sq "SELECT group_concat(kind || ':' || node, ' ') FROM zz_srv_event")" = \
    'enroll:isfana enroll:kochkor enroll:central office enroll:audit' ] ||
    fail "events: $(sq 'SELECT * FROM zz_srv_event')"

# --- enroll refusals: one line each, the replica unchanged -------------------------
cs init new --name 'New office' --office NEW >new.id 2>/dev/null ||
    fail "cigsync init new"
new_id=$(cat new.id)
before=$(dump_db hub)
srv_fail 2 'a site needs --office' \
    srv enroll hub newsite --role site --key "$new_id"
expect_same_db hub "$before"
for code in isf I ABCDEFGHI 'IS F' ISF-1 ''; do
    srv_fail 2 "bad office code \"$code\"" \
        srv enroll hub newsite --role site --office "$code" --key "$new_id"
    expect_same_db hub "$before"
done
srv_fail 2 'bad office code "cen"' \
    srv enroll hub newcen --role central --office cen --key "$new_id"
srv_fail 2 'an auditor has no --office' \
    srv enroll hub newaud --role auditor --office AUD --key "$new_id"
expect_same_db hub "$before"
for key in '' cs1: "${new_id#cs1:}" "cs2:${new_id#cs1:}" "${new_id}0" \
    "$(echo "$new_id" | tr a-f A-F)" "cs1:$(printf '0%.0s' $(seq 64))"; do
    srv_fail 2 'bad --key .*expected an identity' \
        srv enroll hub newsite --role site --office NEW --key "$key"
    expect_same_db hub "$before"
done
srv_fail 1 'a node named "isfana" is already enrolled \(site, ISF, active\)' \
    srv enroll hub isfana --role site --office NEW --key "$new_id"
expect_same_db hub "$before"
srv_fail 1 'this key is already enrolled as node "isfana" \(site, ISF, active\)' \
    srv enroll hub isfana2 --role site --office ISF --key "$isf_id"
expect_same_db hub "$before"
srv_fail 1 'already enrolled as node "kochkor"' \
    srv enroll hub kochkor-central --role central --key "$koc_id"
expect_same_db hub "$before"
srv_fail 1 "this key is the server's own identity" \
    srv enroll hub myself --role auditor --key "$server_id"
expect_same_db hub "$before"
for name in '' ' lead' 'trail ' -dash "$(printf 'a\tb')" 'Исфана' \
    "$(printf 'x%.0s' $(seq 65))"; do
    srv_fail 2 'bad node name|unknown option' \
        srv enroll hub "$name" --role site --office NEW --key "$new_id"
    expect_same_db hub "$before"
done
srv_fail 2 'bad role "boss"' srv enroll hub x --role boss --key "$new_id"
srv_fail 2 'expected --role' srv enroll hub x --key "$new_id"
srv_fail 2 'expected --key' srv enroll hub x --role site --office NEW
srv_fail 2 'enroll: expected DIR NAME' srv enroll hub
srv_fail 2 'enroll: expected DIR NAME' srv enroll hub a b --role auditor \
    --key "$new_id"
srv_fail 2 '--key needs a value' srv enroll hub x --role auditor --key
srv_fail 2 'unknown option "--bogus"' srv enroll hub x --bogus
expect_same_db hub "$before"
# not a server directory
srv_fail 1 'isf is not a cigsync-server directory' \
    srv enroll isf x --role auditor --key "$new_id"
srv_fail 1 'nowhere' srv enroll nowhere x --role auditor --key "$new_id"
# a locked replica: refused, nothing written
hold_lock hub
srv_fail 1 'locked by another program' \
    srv enroll hub newsite --role site --office NEW --key "$new_id"
release_lock
expect_same_db hub "$before"
# the same node, enrolled right, goes in
expect_ok srv enroll hub newsite --role site --office NEW --key "$new_id"

# --- revoke ----------------------------------------------------------------------
expect_ok srv revoke hub kochkor
[ "$(out)" = "revoked kochkor (site, KOC) node id $(config_get koc node_id)" ] ||
    fail "revoke said: $(out)"
[ "$(sq "SELECT status, revoked > 0 FROM zz_srv_node WHERE name = 'kochkor'")" = 'revoked|1' ] ||
    fail "kochkor's row after revoke"
[ "$(sq "SELECT kind FROM zz_srv_event ORDER BY id DESC LIMIT 1")" = revoke ] ||
    fail "no revoke event"
before=$(dump_db hub)
srv_fail 1 'node "kochkor" was already revoked at 20' srv revoke hub kochkor
srv_fail 1 'no node named "nobody"' srv revoke hub nobody
srv_fail 2 'revoke: expected DIR NAME' srv revoke hub
srv_fail 2 'unknown option "--now"' srv revoke hub kochkor --now
expect_same_db hub "$before"
# a revoked node's name and key stay taken
srv_fail 1 'a node named "kochkor" is already enrolled \(site, KOC, revoked\)' \
    srv enroll hub kochkor --role site --office KOC --key "$new_id"
srv_fail 1 'already enrolled as node "kochkor" \(site, KOC, revoked\)' \
    srv enroll hub kochkor2 --role site --office KOC --key "$koc_id"
expect_same_db hub "$before"
# the event record is append-only
sq "UPDATE zz_srv_event SET kind = 'x'" 2>/dev/null &&
    fail "zz_srv_event accepted an UPDATE"
sq "DELETE FROM zz_srv_event" 2>/dev/null &&
    fail "zz_srv_event accepted a DELETE"
expect_same_db hub "$before"

# --- nodes -----------------------------------------------------------------------
expect_ok srv nodes hub
out | head -1 | grep -Eq '^NAME +ROLE +SCOPE +STATUS +LAST SEEN +RECEIVED +BYTES IN +BYTES OUT$' ||
    fail "nodes header: $(out | head -1)"
[ "$(out | wc -l)" -eq 6 ] || fail "nodes lines: $(out)"
out | grep -Eq '^isfana +site +writes and reads ISF +active +never +nothing +0 +0$' ||
    fail "nodes isfana: $(out)"
out | grep -Eq '^kochkor +site +writes and reads KOC +revoked +never ' ||
    fail "nodes kochkor: $(out)"
out | grep -Eq '^central office +central +writes and reads all +active ' ||
    fail "nodes central: $(out)"
out | grep -Eq '^audit +auditor +reads all, writes nothing +active ' ||
    fail "nodes auditor: $(out)"
[ "$(out | sed -n 2p | cut -d' ' -f1)" = audit ] || fail "nodes not by name"
expect_ok srv nodes hub --json
out | json_check
if have_python; then
    [ "$(out | json_get 'len(d)')" = 5 ] || fail "json: node count"
    [ "$(out | json_get '[n["name"] for n in d]')" = \
        '["audit", "central office", "isfana", "kochkor", "newsite"]' ] ||
        fail "json names: $(out | json_get '[n["name"] for n in d]')"
    k='[n for n in d if n["name"] == "kochkor"][0]'
    [ "$(out | json_get "${k}[\"status\"]")" = revoked ] || fail "json status"
    [ "$(out | json_get "${k}[\"revoked\"] is not None")" = true ] ||
        fail "json revoked time"
    i='[n for n in d if n["name"] == "isfana"][0]'
    [ "$(out | json_get "${i}[\"identity\"]")" = "$isf_id" ] || fail "json key"
    [ "$(out | json_get "${i}[\"node_id\"]")" = "$isf_node" ] || fail "json id"
    [ "$(out | json_get "${i}[\"scope\"]")" = 'writes and reads ISF' ] ||
        fail "json scope"
    [ "$(out | json_get "${i}[\"last_seen\"]")" = null ] || fail "json seen"
    [ "$(out | json_get "${i}[\"last_seq\"], ${i}[\"bytes_in\"], ${i}[\"bytes_out\"]")" = \
        '[0, 0, 0]' ] || fail "json counters"
    a='[n for n in d if n["name"] == "audit"][0]'
    [ "$(out | json_get "${a}[\"office\"]")" = null ] || fail "json office"
fi
srv_fail 2 'nodes: expected DIR' srv nodes
srv_fail 2 'unknown option "--csv"' srv nodes hub --csv

# a damaged row is reported, not printed
sq "UPDATE zz_srv_node SET name = 'bad' || char(27) || '[2J' WHERE name = 'newsite'"
srv_fail 1 'zz_srv_node holds a row with a bad name' srv nodes hub

# --- a key sealed with a passphrase ---------------------------------------------
expect_ok srv init hubp --passphrase-fd 3 3<<<'server words'
sealed_id=$(out)
grep -q 'sealed with your passphrase' "$TMP/err" ||
    fail "init does not say the key is sealed"
[ "$(od -An -tu1 -j4 -N1 hubp/server.key | tr -d ' ')" = 1 ] ||
    fail "sealed key kind"
[ "$(stat -c %s hubp/server.key)" = 141 ] || fail "sealed key size"
[ "$(stat -c %a hubp/server.key)" = 600 ] || fail "sealed key mode"
# The office program checks key files the same way (common/key.c); a copy
# laid out as a node directory shows that the passphrase opens this key.
if ! mkdir -m 700 keycheck || ! cp hubp/config hubp/replica.db keycheck/ ||
    ! cp -p hubp/server.key keycheck/node.key; then
    fail "copying hubp/ to keycheck/"
fi
expect_ok cs -C keycheck --passphrase-fd 3 key check 3<<<'server words'
[ "$(out)" = "key ok: $sealed_id" ] || fail "key check: $(out)"
expect_fail 1 'wrong passphrase' \
    cs -C keycheck --passphrase-fd 3 key check 3<<<'server word'
srv_fail 2 'give one of --passphrase and --passphrase-fd N' \
    srv init hubq --passphrase --passphrase-fd 3 3<<<'x'
srv_fail 1 'empty passphrase refused' srv init hubq --passphrase-fd 3 3<<<''
srv_fail 1 'cannot read the passphrase from file descriptor 7' \
    srv init hubq --passphrase-fd 7 7<&-
srv_fail 2 '--passphrase-fd needs a file descriptor number, not "x"' \
    srv init hubq --passphrase-fd x
if command -v setsid >/dev/null 2>&1; then
    srv_fail 1 '--passphrase needs a terminal' \
        setsid -w "$CIGSYNC_SERVER" init hubq --passphrase </dev/null
fi
[ ! -e hubq ] || fail "a refused init left hubq/ behind"
# an empty directory refused for its passphrase keeps its mode
mkdir keepmode && chmod 751 keepmode
srv_fail 1 'empty passphrase refused' srv init keepmode --passphrase-fd 3 3<<<''
[ "$(stat -c %a keepmode)" = 751 ] || fail "init changed a dir it refused"

# --- help, version, usage ------------------------------------------------------------
expect_ok srv --version
out | grep -Eqx 'cigsync-server [0-9]+\.[0-9]+\.[0-9]+' || fail "--version: $(out)"
for args in '' help --help -h; do
    # shellcheck disable=SC2086
    expect_ok srv $args
    out | grep -q '^commands:' || fail "'cigsync-server $args' prints no list"
    out | grep -q '^  enroll ' || fail "'cigsync-server $args' lacks enroll"
    out | grep -q "^  run " || fail "the list lacks run"
done
for cmd in init enroll revoke nodes run; do
    expect_ok srv "$cmd" --help
    out | grep -q "^usage: cigsync-server $cmd" || fail "$cmd --help: $(out)"
    expect_ok srv "$cmd" hub -h
    out | grep -q "^usage: cigsync-server $cmd" || fail "$cmd -h: $(out)"
    expect_ok srv help "$cmd"
    out | grep -q "^usage: cigsync-server $cmd" || fail "help $cmd"
done
srv_fail 2 'run: expected DIR' srv run
srv_fail 2 'unknown command "frobnicate"' srv help frobnicate
srv_fail 2 'unknown option "--frob"' srv --frob nodes hub
srv_fail 2 'init: expected DIR' srv init
srv_fail 2 'init: expected one DIR' srv init a b
srv_fail 2 '--listen needs a value' srv init a --listen
[ ! -e a ] || fail "a refused init left a/ behind"

echo "server_admin_test: ok"
