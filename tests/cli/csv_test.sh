# tests/cli/csv_test.sh - export and import: the bytes spreadsheets need,
# a round trip with Cyrillic text into another node, every kind of bad row
# (its exact FILE:LINE:COLUMN message, and the replica left as it was), the
# audit record of a personal-data export, and bad command lines.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

cd "$TMP" || exit 1
new_node a 'Isfana office' ISF
new_node b 'Isfana laptop' ISF
CR=$(printf '\r') # (a CRLF line read with $(...) or grep ends in CR)
BOM=$(printf '\357\273\277')

# sq DIR SQL: runs SQL on the replica of node DIR.
sq() {
    sqlite3 "$1/replica.db" "$2"
}

# exports DIR: how many data_export records DIR holds.
exports() {
    sq "$1" 'SELECT count(*) FROM data_export'
}

# expect_import_fail DIR TABLE FILE LINE...: the import must exit 1, print
# nothing on stdout, print each LINE exactly on stderr (among the problem
# lines) and end with the summary line; the replica must not change.
expect_import_fail() {
    local dir=$1 table=$2 file=$3 before rc line n
    shift 3
    before=$(dump_db "$dir")
    cs -C "$dir" import "$table" "$file" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "import $file: exit $rc (stderr: $(cat "$TMP/err"))"
    [ ! -s "$TMP/out" ] || fail "import $file printed: $(cat "$TMP/out")"
    for line in "$@"; do
        grep -Fxq -- "$line" "$TMP/err" ||
            fail "import $file: no line '$line' in: $(cat "$TMP/err")"
    done
    n=$#
    [ "$(wc -l <"$TMP/err")" -eq $((n + 1)) ] ||
        fail "import $file: expected $n problem lines, got: $(cat "$TMP/err")"
    tail -n 1 "$TMP/err" | grep -Eq "^cigsync: import: $n problems? in \"$file\"; nothing was imported$" ||
        fail "import $file: summary line: $(tail -n 1 "$TMP/err")"
    expect_same_db "$dir" "$before"
}

# --- records with Cyrillic text, commas, quotes and a line break -----------
expect_ok cs -C a add person given_name=Айгүл family_name=Токтогулова \
    sex=female birth_year=1987 phone='+996 555 123 456'
p1=$(out)
expect_ok cs -C a add person given_name=Бакыт 'family_name=Асанов, "Бака"' \
    sex=male settlement="Исфана
Баткен"
p2=$(out)
expect_ok cs -C a add person given_name=Гүлнара family_name=Осмонова
p3=$(out)
expect_ok cs -C a add cig name='Жашыл Исфана' status=active formed_on=2019-03-01
c1=$(out)

# --- export: the bytes Excel and LibreOffice expect -------------------------
[ "$(exports a)" -eq 0 ] || fail "data_export not empty at the start"
pending0=$(status_field a pending)
expect_ok cs -C a export person -o p.csv
[ ! -s "$TMP/out" ] || fail "export -o printed on stdout: $(out)"
[ -f p.csv ] || fail "export -o wrote no file"
[ "$(head -c 3 p.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] ||
    fail "no UTF-8 byte order mark: $(head -c 3 p.csv | od -An -tx1)"
[ "$(head -n 1 p.csv)" = "${BOM}id,office_id,family_name,given_name,patronymic,sex,birth_year,phone,settlement$CR" ] ||
    fail "header row: $(head -n 1 p.csv | od -c | head -3)"
# every record ends with CRLF; the one LF without CR is inside quotes
[ "$(grep -c "$CR\$" p.csv)" -eq 4 ] || fail "CRLF line ends: $(od -c p.csv)"
[ "$(wc -l <p.csv)" -eq 5 ] || fail "lines in p.csv: $(wc -l <p.csv)"
grep -Fq "$p1,ISF,Токтогулова,Айгүл,,female,1987,+996 555 123 456,$CR" p.csv ||
    fail "row of $p1: $(cat p.csv)"
grep -Fq "$p2,ISF,\"Асанов, \"\"Бака\"\"\",Бакыт,,male,,,\"Исфана" p.csv ||
    fail "quoted row of $p2: $(cat p.csv)"
grep -Fq "$p3,ISF,Осмонова,Гүлнара,,,,,$CR" p.csv || fail "row of $p3"
# rows in id order
[ "$(sed -n 2p p.csv | cut -d, -f1)" = "$p1" ] || fail "row order"

# --- the export of personal data is recorded, once, and syncs --------------
[ "$(exports a)" -eq 1 ] || fail "expected 1 data_export record, got $(exports a)"
node_a=$(sed -n 's/^node_id = //p' a/config)
row=$(sq a "SELECT office_id, node, table_name, columns, rows, format, destination FROM data_export")
[ "$row" = "ISF|$node_a|person|family_name,given_name,patronymic,sex,birth_year,phone|3|csv|p.csv" ] ||
    fail "data_export record: $row"
sq a "SELECT exported_at FROM data_export" |
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
    fail "exported_at: $(sq a 'SELECT exported_at FROM data_export')"
[ "$(status_field a pending)" -gt "$pending0" ] ||
    fail "the data_export record is not pending for sync"
# to stdout: the same bytes, recorded with destination stdout
expect_ok cs -C a export person
cmp -s "$TMP/out" p.csv || fail "export to stdout differs from -o"
[ "$(exports a)" -eq 2 ] || fail "stdout export not recorded"
[ "$(sq a "SELECT count(*) FROM data_export WHERE destination = 'stdout'")" -eq 1 ] ||
    fail "stdout export: destination"
# not personal: no record
expect_ok cs -C a export cig -o c.csv
[ "$(exports a)" -eq 2 ] || fail "export of cig was recorded as personal"
[ "$(sed -n 2p c.csv)" = "$c1,ISF,Жашыл Исфана,,2019-03-01,active,$CR" ] ||
    fail "cig row: $(sed -n 2p c.csv | od -c | head)"
# restricted table, even empty: recorded
expect_ok cs -C a export vulnerability --format json -o v.json
[ "$(sq a "SELECT table_name, rows, format FROM data_export ORDER BY id DESC LIMIT 1")" = "vulnerability|0|json" ] ||
    fail "restricted export not recorded"
[ "$(exports a)" -eq 3 ] || fail "data_export count after vulnerability"

# --- JSON ---------------------------------------------------------------------
expect_ok cs -C a export person --format json
out | json_check
if have_python; then
    [ "$(out | json_get 'len(d)')" = 3 ] || fail "json rows"
    [ "$(out | json_get 'd[0]["given_name"]')" = Айгүл ] || fail "json name"
    [ "$(out | json_get 'd[0]["birth_year"]')" = 1987 ] || fail "json int"
    [ "$(out | json_get 'list(d[0].keys())')" = \
        '["id", "office_id", "family_name", "given_name", "patronymic", "sex", "birth_year", "phone", "settlement"]' ] ||
        fail "json keys: $(out | json_get 'list(d[0].keys())')"
fi

# --- BLOB columns: left out of CSV (not personal then), base64 in JSON -----
expect_ok cs -C a add attachment kind=photo caption='Исфана, 1 March' \
    owner_table=cig owner_id="$c1"
att=$(out)
sq a "UPDATE attachment SET content = x'00ff10' WHERE id = '$att'"
n0=$(exports a)
expect_ok cs -C a export attachment
grep -q 'note: left out content' "$TMP/err" || fail "no note: $(cat "$TMP/err")"
[ "$(out | head -n 1)" = "${BOM}id,office_id,owner_table,owner_id,kind,mime,bytes,sha256,caption,taken_on,place$CR" ] ||
    fail "content not left out: $(out | head -1)"
[ "$(exports a)" -eq "$n0" ] || fail "CSV without content was recorded"
expect_ok cs -C a export attachment --format json
[ "$(exports a)" -eq $((n0 + 1)) ] || fail "JSON with content not recorded"
if have_python; then
    [ "$(out | json_get 'd[0]["content"]')" = AP8Q ] || fail "base64 content"
fi

# --- round trip into another node -------------------------------------------
pending_b=$(status_field b pending)
expect_ok cs -C b import person p.csv
[ "$(out)" = "imported 3 rows (3 inserted, 0 updated)" ] || fail "import: $(out)"
[ "$(sq b 'SELECT * FROM person ORDER BY id')" = \
    "$(sq a 'SELECT * FROM person ORDER BY id')" ] ||
    fail "round trip differs: $(sq b 'SELECT * FROM person ORDER BY id')"
[ "$(sq b "SELECT settlement FROM person WHERE id = '$p2'")" = "Исфана
Баткен" ] || fail "line break lost"
[ "$(status_field b pending)" -gt "$pending_b" ] ||
    fail "imported rows are not pending for sync"
# importing the same file again: updates that change nothing
log_b=$(status_field b log_entries)
expect_ok cs -C b import person p.csv
[ "$(out)" = "imported 3 rows (0 inserted, 3 updated)" ] || fail "re-import: $(out)"
[ "$(status_field b log_entries)" -eq "$log_b" ] ||
    fail "an unchanged re-import logged changes"
# an update of the columns given only; an empty field clears
printf 'id,phone,settlement\n%s,0555 000 111,\n' "$p1" >upd.csv
expect_ok cs -C b import person upd.csv
[ "$(out)" = "imported 1 rows (0 inserted, 1 updated)" ] || fail "update: $(out)"
[ "$(sq b "SELECT family_name, phone, settlement IS NULL FROM person WHERE id = '$p1'")" = \
    "Токтогулова|0555 000 111|1" ] || fail "update result"
# rows without id (no column, or empty): new ids, this node's office; LF
# line ends and no BOM are fine too
printf 'id,family_name,given_name,sex\n,Садыкова,Нургүл,female\n' >new1.csv
printf 'given_name,birth_year\nЭрмек,1990\n' >new2.csv
expect_ok cs -C b import person new1.csv
[ "$(out)" = "imported 1 rows (1 inserted, 0 updated)" ] || fail "insert: $(out)"
expect_ok cs -C b import person new2.csv
[ "$(sq b "SELECT office_id, birth_year, typeof(birth_year) FROM person WHERE given_name = 'Эрмек'")" = \
    "ISF|1990|integer" ] || fail "inserted row"
[ "$(sq b "SELECT count(*) FROM person WHERE given_name = 'Нургүл' AND id GLOB '*-7*'")" -eq 1 ] ||
    fail "no generated id"
expect_ok cs -C b import cig c.csv

# --- bad rows: the exact message, and nothing written -----------------------
# (each file has good rows around the bad one: none of them may be kept)
printf 'family_name,nickname,sex\r\nA,x,female\r\n' >bad_col.csv
expect_import_fail b person bad_col.csv \
    'bad_col.csv:1:2: nickname: no such column in person (columns: id, office_id, family_name, given_name, patronymic, sex, birth_year, phone, settlement)'

printf 'cig_id,person_id,role,joined_on\r\n%s,%s,chair,2019-03-01\r\n%s,%s,member,2023-02-29\r\n' \
    "$c1" "$p1" "$c1" "$p2" >bad_date.csv
expect_import_fail b membership bad_date.csv \
    'bad_date.csv:3:4: joined_on: bad date "2023-02-29" (expected a real date written YYYY-MM-DD)'

printf 'family_name,sex\nA,female\nB,f\nC,male\n' >bad_enum.csv
expect_import_fail b person bad_enum.csv \
    'bad_enum.csv:3:2: sex: bad value "f" (allowed: female, male)'

printf 'family_name,birth_year\nA,1987\nB,nineteen\n' >bad_int.csv
expect_import_fail b person bad_int.csv \
    'bad_int.csv:3:2: birth_year: bad integer "nineteen" (expected a whole number from 1900 to 2100)'

printf 'cig_id,person_id,role\n%s,%s,chair\n%s,no-such-person,member\n' \
    "$c1" "$p1" "$c1" >bad_ref.csv
expect_import_fail b membership bad_ref.csv \
    'bad_ref.csv:3:2: person_id: no person with id "no-such-person" in the replica or earlier in the file'

printf 'family_name,given_name,sex\nA,B,female\nC,D\nE,F,male,x\n' >bad_count.csv
expect_import_fail b person bad_count.csv \
    'bad_count.csv:3:3: sex: wrong number of fields: 2, but the header has 3' \
    'bad_count.csv:4:4: wrong number of fields: 4, but the header has 3'

# a quoted field over two lines, then bad quoting on physical line 5
printf 'family_name,given_name\nA,"B\nB"\nC,D\nE,"F"x\nG,H\n' >bad_quote.csv
expect_import_fail b person bad_quote.csv \
    'bad_quote.csv:5:2: given_name: text after the closing quote of a field'
printf 'family_name,given_name\nA,"B\n' >open_quote.csv
expect_import_fail b person open_quote.csv \
    'open_quote.csv:2:2: given_name: a quoted field does not end (missing closing quote)'

printf 'office_id,family_name\nISF,A\nKOC,B\n' >bad_office.csv
expect_import_fail b person bad_office.csv \
    'bad_office.csv:3:1: office_id: office "KOC": this node (office ISF) may write only its own office'"'"'s rows'

# several problems in one file: every one is reported
printf 'family_name,sex,birth_year\nA,x,1800\nB,female,1990\nC,,abc\n' >many.csv
expect_import_fail b person many.csv \
    'many.csv:2:2: sex: bad value "x" (allowed: female, male)' \
    'many.csv:2:3: birth_year: bad integer "1800" (expected a whole number from 1900 to 2100)' \
    'many.csv:4:3: birth_year: bad integer "abc" (expected a whole number from 1900 to 2100)'

# ids: twice in a file; a deleted record
printf 'id,family_name\nx1,A\nx1,B\n' >dup.csv
expect_import_fail b person dup.csv \
    'dup.csv:3:1: id: id "x1" is in the file twice (first on line 2)'
expect_ok cs -C b rm person "$p3"
printf 'id,family_name\n%s,A\n' "$p3" >deleted.csv
expect_import_fail b person deleted.csv \
    "deleted.csv:2:1: id: person \"$p3\" is deleted; restore it first (cigsync restore person ID)"

# references to rows earlier in the same file are fine; later ones are not
expect_ok cs -C b add letter subject='Су түтүгү' cig_id="$c1"
l1=$(out)
printf 'id,letter_id,version_no,based_on_version_id\nv1,%s,1,\nv2,%s,2,v1\n' \
    "$l1" "$l1" >versions.csv
expect_ok cs -C b import letter_version versions.csv
[ "$(out)" = "imported 2 rows (2 inserted, 0 updated)" ] || fail "versions: $(out)"
printf 'id,letter_id,version_no,based_on_version_id\nv4,%s,4,v3\nv3,%s,3,v2\n' \
    "$l1" "$l1" >later.csv
expect_import_fail b letter_version later.csv \
    'later.csv:2:4: based_on_version_id: no letter_version with id "v3" in the replica or earlier in the file'
# a record of a table named per row (comment.target_table, target_id)
printf 'target_table,target_id,body\ncig,%s,ok\nperson,%s,missing\n' \
    "$c1" "$c1" >comments.csv
expect_import_fail b comment comments.csv \
    "comments.csv:3:2: target_id: no person with id \"$c1\" in the replica or earlier in the file"

# a row of another office already in the replica may not be updated
sq b "UPDATE person SET office_id = 'KOC' WHERE id = '$p2'"
printf 'id,phone\n%s,1\n' "$p2" >other.csv
expect_import_fail b person other.csv \
    "other.csv:2:1: id: person \"$p2\" belongs to office KOC: this node (office ISF) may write only its own office's rows"
# a central node writes every office's rows
echo 'role = central' >>b/config
expect_ok cs -C b import person other.csv
expect_ok cs -C b import person bad_office.csv
[ "$(out)" = "imported 2 rows (2 inserted, 0 updated)" ] || fail "central: $(out)"

# --- bad command lines: one line, exit 2 -------------------------------------
before=$(dump_db a)
expect_fail 2 'export: no table "nosuch" \(tables: office, ' cs -C a export nosuch
expect_fail 2 'export: unknown format "xlsx" \(formats: csv, json\)' \
    cs -C a export person --format xlsx
expect_fail 2 'export: expected TABLE' cs -C a export
expect_fail 2 'export: unknown option "--json"' cs -C a export person --json
expect_fail 2 'import: no table "nosuch"' cs -C a import nosuch p.csv
expect_fail 2 'import: expected TABLE FILE.csv' cs -C a import person
expect_fail 2 'import: no file "missing.csv"' cs -C a import person missing.csv
expect_fail 2 'import: data_export is written by cigsync itself' \
    cs -C a import data_export p.csv
expect_same_db a "$before"
# I/O failures: exit 1, and no audit record for a file never written
expect_fail 1 'export: cannot write "nodir/p.csv"' \
    cs -C a export person -o nodir/p.csv
expect_same_db a "$before"
expect_fail 1 'import: cannot read "\.": not a regular file' cs -C a import person .
printf '' >empty.csv
expect_import_fail a person empty.csv \
    'empty.csv:1:1: the file is empty: expected a header row of column names'

# --- the audit record reaches the server, as every synced record does -----
if [ -n "${CIGSYNC_SERVER:-}" ] && have_python; then
    hub_setup
    node_setup isf site ISF
    hub_start
    expect_ok cs -C isf add person given_name=Айгүл
    expect_ok cs -C isf export person -o "$TMP/isf.csv"
    sync_ok isf
    [ "$(sq "$HUB" "SELECT table_name, rows, destination FROM data_export")" = \
        "person|1|$TMP/isf.csv" ] ||
        fail "data_export not at the server: $(sq "$HUB" 'SELECT * FROM data_export')"
    [ "$(status_field isf pending)" -eq 0 ] || fail "isf: changes still pending"
    hub_stop
fi

echo "ok"
