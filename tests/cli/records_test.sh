# tests/cli/records_test.sh - add, set, rm, restore, list, show, and what
# every failing record command says (while leaving the replica alone).
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

cd "$TMP" || exit 1
new_node a 'Isfana office' ISF
uuid='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# --- add and list, with Cyrillic text ---------------------------------------
expect_ok cs -C a add person given_name=Айгүл family_name=Токтогулова \
    sex=female birth_year=1987
p1=$(out)
echo "$p1" | grep -Eq "$uuid" || fail "add printed '$p1', not an id"
expect_ok cs -C a add person given_name=Бакыт family_name=Асанов sex=male
p2=$(out)
[ "$p1" \< "$p2" ] || fail "ids are not time-ordered: $p1 $p2"

expect_ok cs -C a list person
out | head -1 | grep -q '^id  *office_id  *family_name  *given_name' ||
    fail "list header: $(out | head -1)"
out | sed -n 2p | grep -Eq '^-+  -+' || fail "list underline"
out | grep -q "^$p1  *ISF  *Токтогулова  *Айгүл  *female  *1987" ||
    fail "list row of $p1: $(out)"
[ "$(out | wc -l)" -eq 4 ] || fail "list has $(out | wc -l) lines"
# ordered by id
[ "$(out | sed -n 3p | cut -c1-36)" = "$p1" ] || fail "list order"

expect_ok cs -C a list person --json
out | json_check
if have_python; then
    [ "$(out | json_get 'len(d)')" = 2 ] || fail "json list length"
    [ "$(out | json_get 'd[0]["given_name"]')" = Айгүл ] || fail "json name"
    [ "$(out | json_get 'd[0]["birth_year"]')" = 1987 ] || fail "json int"
    [ "$(out | json_get 'type(d[0]["birth_year"]).__name__')" = int ] ||
        fail "birth_year is not a JSON number"
    [ "$(out | json_get 'd[1]["birth_year"]')" = null ] || fail "json null"
    [ "$(out | json_get 'sorted(d[0].keys())')" = \
        '["birth_year", "family_name", "given_name", "id", "office_id", "patronymic", "phone", "settlement", "sex"]' ] ||
        fail "json list lacks fields: $(out | json_get 'sorted(d[0].keys())')"
fi
# --json before the command works too
expect_ok cs --json -C a list person
out | json_check

# --- --where -----------------------------------------------------------------
expect_ok cs -C a list person --where sex=male
out | grep -q "$p2" || fail "--where lost a row"
out | grep -q "$p1" && fail "--where kept a row"
expect_ok cs -C a list person --where birth_year=1987 --where=sex=female
out | grep -q "$p1" || fail "two --where"
[ "$(out | wc -l)" -eq 3 ] || fail "two --where: $(out)"
expect_ok cs -C a list person --where birth_year=
out | grep -q "$p2" || fail "--where FIELD= (NULL)"
out | grep -q "$p1" && fail "--where FIELD= kept a non-NULL row"
expect_ok cs -C a list person --where given_name=Айгүл --json
if have_python; then
    [ "$(out | json_get 'd[0]["id"]')" = "$p1" ] || fail "--where Cyrillic"
fi

# --- set, '=' in values, empty means NULL -------------------------------------
expect_ok cs -C a add cig name='Жаш Муун' status=active formed_on=2019-03-01
c1=$(out)
expect_ok cs -C a set cig "$c1" focus='roads=1, water=2' status=dormant
[ ! -s "$TMP/out" ] || fail "set printed something"
expect_ok cs -C a set cig "$c1" settlement=Исфана
expect_ok cs -C a set cig "$c1" settlement=
expect_ok cs -C a list cig --json
if have_python; then
    [ "$(out | json_get 'd[0]["focus"]')" = 'roads=1, water=2' ] ||
        fail "value with '='"
    [ "$(out | json_get 'd[0]["status"]')" = dormant ] || fail "set status"
    [ "$(out | json_get 'd[0]["settlement"]')" = null ] || fail "empty -> NULL"
else
    out | grep -q '"focus": "roads=1, water=2"' || fail "value with '='"
fi

# --- show: fields and history ---------------------------------------------------
expect_ok cs -C a show cig "$c1"
out | head -1 | grep -qx "cig $c1" || fail "show title: $(out | head -1)"
out | grep -q '^  name  *Жаш Муун$' || fail "show name"
out | grep -q '^  status  *dormant$' || fail "show status"
out | grep -q '^history:$' || fail "show has no history"
out | grep -Eq '^  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z(\+[0-9]+)?  Isfana office  inserted$' ||
    fail "show: inserted line: $(out)"
out | grep -q 'Isfana office  set name = "Жаш Муун"$' || fail "show: set name"
out | grep -q 'set status = "dormant"$' || fail "show: set status"
out | grep -q 'set focus = "roads=1, water=2"$' || fail "show: set focus"
out | grep -q 'cleared settlement$' || fail "show: cleared"
expect_ok cs -C a show cig "$c1" --json
out | json_check
if have_python; then
    [ "$(out | json_get 'd["state"]')" = live ] || fail "json state"
    [ "$(out | json_get 'd["fields"]["name"]')" = 'Жаш Муун' ] ||
        fail "json fields"
    [ "$(out | json_get '[h["op"] for h in d["history"]][0]')" = insert ] ||
        fail "json history"
    [ "$(out | json_get '[h["who"] for h in d["history"]][0]')" = \
        'Isfana office' ] || fail "json who"
fi

# --- rm and restore -------------------------------------------------------------
expect_ok cs -C a rm cig "$c1"
expect_ok cs -C a list cig
out | grep -q "$c1" && fail "a deleted row is listed"
expect_ok cs -C a show cig "$c1"
out | head -1 | grep -qx "cig $c1 (deleted)" || fail "show deleted: $(out)"
out | grep -q 'Isfana office  deleted$' || fail "show: deleted line"
out | grep -q 'set name = "Жаш Муун"$' || fail "deleted row lost history"
expect_ok cs -C a show cig "$c1" --json
if have_python; then
    [ "$(out | json_get 'd["state"]')" = deleted ] || fail "json deleted"
    [ "$(out | json_get 'd["fields"]')" = null ] || fail "json fields"
fi
before=$(dump_db a)
expect_fail 1 "cig $c1 is already deleted" cs -C a rm cig "$c1"
expect_fail 1 "cig $c1 is deleted" cs -C a set cig "$c1" status=active
expect_same_db a "$before"
expect_ok cs -C a restore cig "$c1"
expect_ok cs -C a show cig "$c1"
out | head -1 | grep -qx "cig $c1" || fail "restored row still deleted"
out | grep -q '^  focus  *roads=1, water=2$' || fail "restore lost a value"
out | grep -q 'Isfana office  restored$' || fail "show: restored line"
before=$(dump_db a)
expect_fail 1 "cig $c1 is not deleted" cs -C a restore cig "$c1"
expect_same_db a "$before"

# --- escaping: JSON and the terminal ---------------------------------------------
body=$(printf 'line1\nline2 "q" \\ \t tab \033[31mred\001 end')
expect_ok cs -C a add comment target_table=cig "target_id=$c1" "body=$body"
k1=$(out)
expect_ok cs -C a list comment --json
out | json_check
if have_python; then
    printf '%s' "$body" >"$TMP/body"
    out | python3 -c 'import json, sys
d = json.load(sys.stdin)
want = open(sys.argv[1], encoding="utf-8").read()
sys.exit(0 if d[0]["body"] == want else 1)' "$TMP/body" ||
        fail "JSON round trip of control characters"
fi
expect_ok cs -C a list comment
grep -q "$(printf '\033')" "$TMP/out" && fail "raw ESC reached the terminal"
out | grep -qF 'line1\nline2 "q" \ \t tab \x1b[31mred\x…' ||
    fail "text escaping in list: $(out)"
expect_ok cs -C a show comment "$k1"
grep -q "$(printf '\033')" "$TMP/out" && fail "raw ESC in show"
out | grep -qF '  body          line1\nline2 "q" \ \t tab \x1b[31mred\x01 end' ||
    fail "text escaping in show: $(out)"
out | grep -qF 'set body = "line1\nline2 \"q\" \\ \t tab \x1b[31mred\x01 end"' ||
    fail "quoted escaping in history: $(out)"
# long cells are cut in text mode, whole in JSON
long=$(printf 'x%.0s' $(seq 100))
expect_ok cs -C a set comment "$k1" "body=$long"
expect_ok cs -C a list comment
out | grep -q "$(printf 'x%.0s' $(seq 39))…" || fail "long cell not cut"
out | grep -q "$long" && fail "long cell not cut"
expect_ok cs -C a list comment --json
out | grep -q "$long" || fail "JSON cut a long value"

# --- blobs and reals (only other SQLite tools can write them) --------------------
expect_ok cs -C a add attachment kind=photo mime=image/jpeg caption=Фото
att=$(out)
sqlite3 a/replica.db "UPDATE attachment SET content = x'00ff10fb' WHERE id = '$att'" ||
    fail "sqlite3 blob update"
expect_ok cs -C a list attachment --json
out | json_check
out | grep -q '"content": "AP8Q+w=="' || fail "blob is not base64: $(out)"
expect_ok cs -C a list attachment
out | grep -q '<4 bytes>' || fail "blob in text: $(out)"
expect_ok cs -C a show attachment "$att"
out | grep -q '^  content  *<4 bytes>$' || fail "blob in show: $(out)"
sqlite3 a/replica.db "UPDATE attachment SET content = 1.5 WHERE id = '$att'"
expect_ok cs -C a list attachment --json
out | grep -q '"content": 1.5$' || fail "real in JSON: $(out)"

# --- errors: one line, the right exit code, the replica untouched -----------------
before=$(dump_db a)
expect_fail 1 'no table "cigs" \(tables: office, authority, cig, ' \
    cs -C a add cigs name=X
expect_fail 1 'no table "cigs"' cs -C a list cigs
expect_fail 1 'no table "cigs"' cs -C a show cigs "$c1"
expect_fail 1 'table cig has no field "nmae" \(fields: id, office_id, name' \
    cs -C a add cig nmae=X
expect_fail 1 'table cig has no field "nmae"' cs -C a set cig "$c1" nmae=X
expect_fail 1 'table cig has no field "nmae"' cs -C a list cig --where nmae=X
expect_fail 1 'bad value for cig\.status: "foo"' cs -C a add cig status=foo
expect_fail 1 'bad value for cig\.status: "foo"' \
    cs -C a set cig "$c1" name=Y status=foo
expect_fail 1 'bad value for cig\.formed_on: "2026-02-30"' \
    cs -C a add cig formed_on=2026-02-30
expect_fail 1 'bad value for person\.birth_year: "old"' \
    cs -C a add person birth_year=old
expect_fail 1 'bad value for cig\.name: it is not valid UTF-8' \
    cs -C a add cig "name=$(printf 'caf\351')"
expect_fail 1 'no cig with id "nosuchid"' cs -C a show cig nosuchid
expect_fail 1 'no cig with id nosuchid' cs -C a set cig nosuchid name=X
expect_fail 1 'no cig with id nosuchid' cs -C a rm cig nosuchid
expect_fail 1 'no cig with id nosuchid' cs -C a restore cig nosuchid
expect_fail 1 'the id of a record cannot be changed' \
    cs -C a set cig "$c1" id=other
expect_fail 1 "already in use|already exists" cs -C a add cig "id=$c1"
expect_fail 2 'add: expected TABLE' cs -C a add
expect_fail 2 'set: expected TABLE ID field=value' cs -C a set cig "$c1"
expect_fail 2 'rm: expected TABLE ID' cs -C a rm cig
expect_fail 2 'rm: expected TABLE ID' cs -C a rm cig "$c1" extra
expect_fail 2 'show: expected TABLE ID' cs -C a show cig
expect_fail 2 'list: expected TABLE' cs -C a list
expect_fail 2 'expected field=value, got "name"' cs -C a add cig name
expect_fail 2 'expected field=value, got "=x"' cs -C a add cig =x
expect_fail 2 '--where needs field=value' cs -C a list cig --where name
expect_fail 2 'unknown option "--bogus"' cs -C a add cig --bogus
expect_fail 2 'unknown option "--json"' cs -C a add cig name=X --json
expect_fail 2 'unknown option "--json"' cs --json -C a rm cig "$c1"
expect_same_db a "$before"

# no node directory; CIGSYNC_DIR; not a node directory
expect_fail 2 'no node directory: use -C DIR or set CIGSYNC_DIR' \
    cs add cig name=X
expect_fail 2 'no node directory' cs list cig
CIGSYNC_DIR='' expect_fail 2 'no node directory' cs list cig
expect_same_db a "$before"
CIGSYNC_DIR=$TMP/a expect_ok cs list cig
out | grep -q "$c1" || fail "CIGSYNC_DIR not used"
CIGSYNC_DIR=$TMP/a expect_ok cs add cig name=ViaEnv
c2=$(out)
CIGSYNC_DIR=$TMP/nowhere expect_ok cs -C a show cig "$c2"  # -C wins
expect_fail 1 "$TMP/nowhere: No such file or directory" \
    cs -C "$TMP/nowhere" list cig
mkdir notnode
expect_fail 1 'notnode is not a cigsync node directory \(no config\)' \
    cs -C notnode list cig
[ -z "$(ls notnode)" ] || fail "a failed command wrote into notnode"

# a replica locked by another program
before=$(dump_db a)
hold_lock a
expect_fail 1 'the replica is locked by another program; close it and try again' \
    cs -C a add cig name=Locked
expect_fail 1 'locked by another program' cs -C a set cig "$c1" name=Locked
expect_fail 1 'locked by another program' cs -C a rm cig "$c1"
release_lock
expect_same_db a "$before"
expect_ok cs -C a add cig name=AfterLock

echo "records_test: ok"
