# tests/cli/bundle_test.sh - sync by file, with no server running: offices
# that never connect carry bundles to the server and back.  Isfana's edits
# reach central through the server, central's edit of an Isfana row reaches
# Isfana; a site's change to another office's row is refused, logged and
# corrected at the site; importing any bundle twice changes nothing; a
# bundle for another node, going the wrong way, damaged, truncated, forged,
# not a bundle, or for another server is refused with a line saying why
# and changes nothing; a node that does not know its deployment cannot
# export; and once the server runs, a normal sync finds every node in step
# with nothing left to send.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

need_sync_tools
cd "$TMP" || exit 1

hub_setup
DEP=$(sed -n 's/^ *deployment: *\([0-9a-f]*\) *$/\1/p' "$TMP/hub.init")
[ "${#DEP}" -eq 32 ] ||
    fail "no deployment id in cigsync-server init's output: $(cat "$TMP/hub.init")"

# node_setup_dep NAME ROLE [OFFICE]: node_setup, but the node is told the
# deployment at init, so it can make bundles before it ever syncs.
node_setup_dep() {
    local name=$1 role=$2 office=${3:-} id
    id=$(cs init "$TMP/$name" --name "$name" --office "${office:-CEN}" \
        --server "$HUB_EP" --server-key "$HUB_KEY" --deployment "$DEP" \
        2>"$TMP/$name.init") || fail "init $name: $(cat "$TMP/$name.init")"
    if [ -n "$office" ]; then
        srv enroll "$HUB" "$name" --role "$role" --office "$office" \
            --key "$id" >/dev/null 2>&1 || fail "enroll $name"
    else
        srv enroll "$HUB" "$name" --role "$role" --key "$id" >/dev/null 2>&1 ||
            fail "enroll $name"
    fi
}

node_setup_dep isf site ISF
node_setup_dep koc site KOC
node_setup_dep cen central
node_setup new site ISF # no --deployment: learns it at its first sync

# hub_run: hub_start, but HUB_PID is the server itself, not a subshell
# running lib.sh's srv function (killing that subshell, as hub_stop and the
# cleanup do, would leave the server running).
hub_run() {
    CIGSYNC_LOG=info "$CIGSYNC_SERVER" run "$HUB" >>"$TMP/hub.log" 2>&1 &
    HUB_PID=$!
    for _ in $(seq 100); do
        grep -q "serving on $HUB_EP" "$TMP/hub.log" 2>/dev/null && return 0
        kill -0 "$HUB_PID" 2>/dev/null ||
            fail "the server died: $(tail -5 "$TMP/hub.log")"
        sleep 0.1
    done
    fail "the server did not start: $(tail -5 "$TMP/hub.log")"
}

# sq NAME SQL: runs SQL on node NAME's replica, rows separated by '|'.
sq() {
    sqlite3 -separator '|' "$TMP/$1/replica.db" "$2"
}

# field NAME TABLE ID FIELD: prints one field of one visible row.
field() {
    sq "$1" "SELECT \"$4\" FROM \"$2\" WHERE id = '$3'"
}

# rows NAME TABLE ID: prints how many visible rows of TABLE have id ID.
rows() {
    sq "$1" "SELECT count(*) FROM \"$2\" WHERE id = '$3'"
}

# content NAME [OFFICE]: node NAME's synced tables as synced_content
# prints them, restricted to the rows of OFFICE if given; one sqlite3 run.
content() {
    local t where=
    [ -z "${2:-}" ] || where="WHERE office_id = '$2'"
    for t in $(sq "$1" "SELECT name FROM zz_table ORDER BY name"); do
        echo "SELECT '== $t';"
        echo "SELECT * FROM \"$t\" $where ORDER BY id;"
    done | sqlite3 -separator '|' "$TMP/$1/replica.db"
}

# expect_same_text WHAT A B: the two texts must be equal.
expect_same_text() {
    [ "$2" = "$3" ] ||
        fail "$1 differ: $(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3"))"
}

# refused PROG CODES REGEX CMD...: like expect_fail, for either program:
# CMD must exit with a status matching the extended regex CODES, print
# nothing on stdout, and on stderr exactly one line starting "PROG: " and
# matching REGEX.
refused() {
    local prog=$1 codes=$2 re=$3 rc
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    echo "$rc" | grep -Eqx -- "$codes" ||
        fail "expected exit $codes, got $rc from: $* (stderr: $(cat "$TMP/err"))"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
        fail "expected one line on stderr from: $*, got: $(cat "$TMP/err")"
    grep -q "^$prog: " "$TMP/err" ||
        fail "stderr does not start with '$prog: ': $(cat "$TMP/err")"
    grep -Eq -- "$re" "$TMP/err" ||
        fail "stderr of: $* does not match /$re/: $(cat "$TMP/err")"
    [ ! -s "$TMP/out" ] || fail "unexpected stdout from: $*: $(cat "$TMP/out")"
}

# srv_refused REGEX CMD...: a cigsync-server command that refuses (exit 1).
srv_refused() {
    refused cigsync-server 1 "$@"
}

# node_export NAME FILE: `cigsync bundle export`; sets N to the batches
# written, which must be at least one.
node_export() {
    expect_ok cs -C "$TMP/$1" bundle export "$TMP/$2"
    N=$(out | sed -n "s|^wrote $TMP/$2 for the server: \([0-9][0-9]*\) batches ([0-9]* to [0-9]*), [0-9][0-9]* bytes\$|\1|p")
    [ -n "$N" ] || fail "export of $1: unexpected output: $(out)"
    [ "$N" -ge 1 ] || fail "export of $1 wrote no batch: $(out)"
    [ -s "$TMP/$2" ] || fail "export of $1: $2 is empty or missing"
    [ "$(status_field "$TMP/$1" pending)" = 0 ] ||
        fail "export of $1 left changes pending: $(cs -C "$TMP/$1" status)"
}

# srv_import FILE NAME BATCHES REFUSED BEFORE: `cigsync-server bundle
# import` of FILE from node NAME must apply BATCHES batches, refuse
# REFUSED changes ('*' for any number above 0) and count BEFORE batches
# applied before; sets C to the changes applied.
srv_import() {
    local line
    srv bundle import "$HUB" "$TMP/$1" >"$TMP/out" 2>"$TMP/err" ||
        fail "import of $1 into the server: $(cat "$TMP/err")"
    line=$(out)
    C=$(echo "$line" | sed -n "s|^imported $TMP/$1 from node $2: $3 batches applied (\([0-9][0-9]*\) changes, \([0-9][0-9]*\) refused), $5 applied before\$|\1 \2|p")
    [ -n "$C" ] || fail "import of $1 into the server: $line"
    if [ "$4" = '*' ]; then
        [ "${C#* }" -gt 0 ] || fail "import of $1: nothing refused: $line"
    else
        [ "${C#* }" = "$4" ] || fail "import of $1: refusals: $line"
    fi
    C=${C% *}
}

# srv_export NAME FILE: `cigsync-server bundle export --for NAME`; sets N
# to the batches written.
srv_export() {
    expect_ok srv bundle export "$HUB" --for "$1" "$TMP/$2"
    N=$(out | sed -n "s|^wrote $TMP/$2 for node $1: \([0-9][0-9]*\) batches, [0-9][0-9]* bytes\$|\1|p")
    [ -n "$N" ] || fail "server export for $1: unexpected output: $(out)"
}

# node_import NAME FILE BATCHES BEFORE: `cigsync bundle import` must apply
# BATCHES batches and hold BEFORE from before; sets C to the changes.
node_import() {
    expect_ok cs -C "$TMP/$1" bundle import "$TMP/$2"
    C=$(out | sed -n "s|^imported $TMP/$2: $3 batches (\([0-9][0-9]*\) changes applied), $4 held before\$|\1|p")
    [ -n "$C" ] || fail "import of $2 into $1: $(out)"
}

# flip FILE OUT: copies FILE to OUT with one bit of its middle byte flipped.
flip() {
    python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)' "$1" "$2" || fail "flip $1"
}

# forge FILE OUT: copies FILE to OUT with one bit of its first envelope
# flipped and the whole-file hash recomputed (PROTOCOL.md "Bundles"), so
# only the envelope's own authentication can catch it.
forge() {
    python3 -c 'import hashlib, struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
assert struct.unpack(">I", b[66:70])[0] >= 1
n = struct.unpack(">I", b[70:74])[0]
b[74 + n // 2] ^= 1
b[-96:-64] = hashlib.blake2b(bytes(b[:-96]), digest_size=32).digest()
open(sys.argv[2], "wb").write(b)' "$1" "$2" || fail "forge $1"
}

# ---- 1. without the deployment id there is no bundle --------------------------
expect_ok cs -C new add cig name='Жаңы топ'
refused cigsync '1|2' 'deployment' cs -C new bundle export "$TMP/new.bundle"
[ ! -e "$TMP/new.bundle" ] || fail "a failed export left new.bundle behind"

# ---- 2. offices -> server, no server running ----------------------------------
expect_ok cs -C isf add cig name='Жаш Муун' settlement='Исфана' status=forming
isf_cig=$(out)
expect_ok cs -C isf add person family_name='Токтогулова' given_name='Айгүл' \
    sex=female birth_year=1987
isf_person=$(out)
expect_ok sq isf "INSERT INTO authority(kind, name) VALUES ('aiyl_okmotu',
    'Исфана айыл өкмөтү') RETURNING id"
isf_auth=$(out)
[ -n "$isf_cig" ] && [ -n "$isf_person" ] && [ -n "$isf_auth" ] ||
    fail "isf's records were not added"

node_export isf isf1.bundle
isf_batches=$N
content isf | grep -q "^$isf_cig|ISF|Жаш Муун|" ||
    fail "content does not show isf's cig: $(content isf)"
hub0=$(content hub)
srv_import isf1.bundle isf "$isf_batches" 0 0
[ "$C" -gt 0 ] || fail "isf's bundle applied no change: $(out)"
expect_same_text "the server's ISF rows and isf's replica" \
    "$(content hub ISF)" "$(content isf)"
[ "$hub0" != "$(content hub)" ] || fail "the server did not change"

# Twice: nothing is applied the second time and the server is unchanged.
hub1=$(content hub)
srv_import isf1.bundle isf 0 0 "$isf_batches"
[ "$C" = 0 ] || fail "the second import applied changes: $(out)"
expect_same_text "the server's replica before and after a second import" \
    "$hub1" "$(content hub)"

# A site's change to another office's row is refused and logged; its own
# rows in the same bundle are applied.
expect_ok cs -C koc add cig name='Кочкор аялдары' status=active
koc_cig=$(out)
expect_ok sq koc "INSERT INTO cig(office_id, name) VALUES ('ISF',
    'SNEAKY-CIG-8817') RETURNING id"
sneaky=$(out)
[ -n "$koc_cig" ] && [ -n "$sneaky" ] || fail "koc's records were not added"
node_export koc koc1.bundle
srv_import koc1.bundle koc "$N" '*' 0
grep -q "^cigsync-server: warning: refused from node koc.*cig $sneaky" \
    "$TMP/err" || fail "the refusal was not logged: $(cat "$TMP/err")"
[ "$(rows hub cig "$sneaky")" = 0 ] || fail "koc's ISF row reached the server"
[ "$(field hub cig "$koc_cig" name)" = 'Кочкор аялдары' ] ||
    fail "koc's own row did not reach the server"
expect_same_text "the server's ISF rows and isf's replica" \
    "$(content hub ISF)" "$(content isf)"

# The server's bundle for koc corrects koc: the refused row goes away.
srv_export koc koc-down.bundle
koc_down=$N
node_import koc koc-down.bundle "$koc_down" 0
[ "$(rows koc cig "$sneaky")" = 0 ] || fail "koc still has the refused row"
expect_same_text "the server's KOC rows and koc's replica" \
    "$(content hub KOC)" "$(content koc)"

# ---- 3. server -> central ------------------------------------------------------
srv_export cen cen-down.bundle
cen_down=$N
[ "$cen_down" -ge 1 ] || fail "the server's bundle for cen holds no batch"
node_import cen cen-down.bundle "$cen_down" 0
[ "$C" -gt 0 ] || fail "cen's import applied no change: $(out)"
expect_same_text "isf's replica and central's ISF rows" \
    "$(content isf)" "$(content cen ISF)"
expect_same_text "koc's replica and central's KOC rows" \
    "$(content koc)" "$(content cen KOC)"
expect_same_text "the server's and central's replicas" \
    "$(content hub)" "$(content cen)"
[ "$(field cen person "$isf_person" given_name)" = 'Айгүл' ] ||
    fail "isf's person did not reach central"
[ "$(rows cen cig "$sneaky")" = 0 ] || fail "the refused row reached central"

# Twice is harmless.
before=$(dump_db cen)
node_import cen cen-down.bundle 0 "$cen_down"
[ "$C" = 0 ] || fail "the second import into cen applied changes: $(out)"
expect_same_db cen "$before"

# ---- 4. the way back: central edits an ISF row ---------------------------------
expect_ok cs -C cen set cig "$isf_cig" status=active focus='Суу жана жолдор'
expect_ok cs -C cen add comment office_id=ISF target_table=cig \
    target_id="$isf_cig" author='Central' body='Отличная работа'
cen_comment=$(out)
node_export cen cen1.bundle
srv_import cen1.bundle cen "$N" 0 0
srv_export isf isf-down.bundle
isf_down=$N
[ "$isf_down" -ge 1 ] || fail "the server's bundle for isf holds no batch"

# Before isf takes it: bundles that must be refused, each leaving isf's
# replica (and the server's) as it was.
isf_before=$(dump_db isf)
hub_before=$(content hub)
expect_fail 1 'not for this node' cs -C isf bundle import "$TMP/koc-down.bundle"
expect_same_db isf "$isf_before"
expect_fail 1 'not for this node|for the server' \
    cs -C isf bundle import "$TMP/cen1.bundle"
expect_same_db isf "$isf_before"
flip "$TMP/isf-down.bundle" "$TMP/flipped.bundle"
expect_fail 1 'damaged|truncated' cs -C isf bundle import "$TMP/flipped.bundle"
expect_same_db isf "$isf_before"
size=$(wc -c <"$TMP/isf-down.bundle")
for cut in $((size - 1)) $((size / 2)) 40; do
    head -c "$cut" "$TMP/isf-down.bundle" >"$TMP/cut.bundle"
    expect_fail 1 'damaged|truncated|not a cigsync bundle' \
        cs -C isf bundle import "$TMP/cut.bundle"
    expect_same_db isf "$isf_before"
done
forge "$TMP/isf-down.bundle" "$TMP/forged.bundle"
expect_fail 1 'not signed|does not open|refused|damaged' cs -C isf bundle import "$TMP/forged.bundle"
expect_same_db isf "$isf_before"
printf 'id,name\n1,not a bundle\n' >"$TMP/notes.csv"
expect_fail 1 'not a cigsync bundle' cs -C isf bundle import "$TMP/notes.csv"
expect_same_db isf "$isf_before"
: >"$TMP/empty.bundle"
expect_fail 1 'not a cigsync bundle' cs -C isf bundle import "$TMP/empty.bundle"
expect_same_db isf "$isf_before"

# The server refuses a node's bundle that was damaged, truncated, is not a
# bundle, or goes the wrong way.
flip "$TMP/cen1.bundle" "$TMP/flipped-up.bundle"
srv_refused 'damaged|truncated' srv bundle import "$HUB" "$TMP/flipped-up.bundle"
head -c $(($(wc -c <"$TMP/cen1.bundle") - 1)) "$TMP/cen1.bundle" \
    >"$TMP/cut-up.bundle"
srv_refused 'damaged|truncated' srv bundle import "$HUB" "$TMP/cut-up.bundle"
srv_refused 'not a cigsync bundle' srv bundle import "$HUB" "$TMP/notes.csv"
srv_refused 'not for this server' \
    srv bundle import "$HUB" "$TMP/isf-down.bundle"
expect_same_text "the server's replica before and after refused bundles" \
    "$hub_before" "$(content hub)"

# A forged envelope (whole-file hash made to match) is not applied either.
# (The server logs the refusal as a warning before its error line.)
forge "$TMP/cen1.bundle" "$TMP/forged-up.bundle"
srv bundle import "$HUB" "$TMP/forged-up.bundle" >"$TMP/out" 2>"$TMP/err" &&
    fail "the server imported a forged bundle: $(out)"
[ "$(grep -vc '^cigsync-server: ' "$TMP/err")" = 0 ] ||
    fail "stderr of the forged import: $(cat "$TMP/err")"
[ ! -s "$TMP/out" ] || fail "stdout of the forged import: $(out)"
expect_same_text "the server's replica before and after a forged bundle" \
    "$hub_before" "$(content hub)"

# A second server: refuses isf's bundle, and its bundle is refused by isf.
HUB2=$TMP/hub2
srv init "$HUB2" --listen "tcp://127.0.0.1:$(free_port)" >/dev/null \
    2>"$TMP/hub2.init" || fail "init hub2: $(cat "$TMP/hub2.init")"
hub2_before=$(sqlite3 "$HUB2/replica.db" .dump)
srv_refused 'not for this server|another server' \
    srv bundle import "$HUB2" "$TMP/isf1.bundle"
[ "$(sqlite3 "$HUB2/replica.db" .dump)" = "$hub2_before" ] ||
    fail "the second server's replica changed"
isf_id=$(cs -C isf status | sed -n 's/^identity  *//p')
srv enroll "$HUB2" isf --role site --office ISF --key "$isf_id" \
    >/dev/null 2>&1 || fail "enroll isf at hub2"
expect_ok srv bundle export "$HUB2" --for isf "$TMP/hub2-isf.bundle"
expect_fail 1 'another server|another deployment|not for this node' \
    cs -C isf bundle import "$TMP/hub2-isf.bundle"
expect_same_db isf "$isf_before"

# Now the real one: isf sees central's values, twice is harmless.
node_import isf isf-down.bundle "$isf_down" 0
[ "$C" -gt 0 ] || fail "isf's import applied no change: $(out)"
[ "$(field isf cig "$isf_cig" focus)" = 'Суу жана жолдор' ] ||
    fail "central's edit of isf's cig did not reach isf"
[ "$(field isf comment "$cen_comment" body)" = 'Отличная работа' ] ||
    fail "central's comment for ISF did not reach isf"
expect_same_text "isf's replica and central's ISF rows" \
    "$(content isf)" "$(content cen ISF)"
before=$(dump_db isf)
node_import isf isf-down.bundle 0 "$isf_down"
expect_same_db isf "$before"

# ---- 5. the server starts: every node is in step, with nothing to send ---------
hub_run
for n in isf koc cen; do
    expect_ok cs -C "$n" sync --timeout 30
    out | grep -q '^in step with the server: sent 0 batches' ||
        fail "sync of $n after the bundles: $(out) $(cat "$TMP/err")"
done
expect_same_text "isf's replica and central's ISF rows" \
    "$(content isf)" "$(content cen ISF)"
expect_same_text "koc's replica and central's KOC rows" \
    "$(content koc)" "$(content cen KOC)"
# The node without a deployment id learns it at its first sync, and can
# then make bundles.
sync_ok new
hub_stop
expect_ok cs -C new add cig name='Кийинки топ'
node_export new new.bundle
exit 0
