# tests/cli/report_test.sh - `cigsync report`: the indicators of a fixed
# data set (report_fixture.sh, numbers counted by hand there) in text, CSV,
# JSON and HTML; --office; -o; and every bad command line.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"
# shellcheck source=tests/cli/report_fixture.sh
. "$(dirname "$CS_TEST_LIB")/report_fixture.sh"

have_python || { echo "SKIP: python3 is not installed" >&2; exit 77; }

cd "$TMP" || exit 1
report_make c
before=$(dump_db c)

# section TITLE < FILE: prints the text table under the line TITLE, up to
# the next empty line.
section() {
    awk -v t="$1" '$0 == t { on = 1; next } on && $0 == "" { exit } on'
}

# --- text -------------------------------------------------------------------
expect_ok cs -C c report --period "$REPORT_PERIOD"
out >text.out
grep -qx 'period   2024-01-01..2024-12-31' text.out || fail "text: period line"
grep -qx 'as of    2024-12-31 (ages reckoned in 2024)' text.out ||
    fail "text: as-of line"
sex=$(section 'People trained, by sex' <text.out)
echo "$sex" | grep -Eqx 'office +office name +trained +female +male +sex unknown' ||
    fail "text: sex header: $sex"
echo "$sex" | grep -Eqx 'CEN +Центральный офис +0 +0 +0 +0' || fail "text: CEN: $sex"
echo "$sex" | grep -Eqx 'ISF +Исфана +2 +1 +1 +0' || fail "text: ISF sex: $sex"
echo "$sex" | grep -Eqx 'KOC +Кочкор +3 +1 +1 +1' || fail "text: KOC sex: $sex"
echo "$sex" | grep -Eqx 'all +all offices +5 +2 +2 +1' || fail "text: total sex: $sex"
age=$(section 'People trained, by age band' <text.out)
echo "$age" | grep -Eqx 'all +all offices +5 +0 +1 +1 +1 +1 +1' ||
    fail "text: age bands: $age"
echo "$age" | grep -Eqx 'KOC +Кочкор +3 +0 +0 +0 +1 +1 +1' ||
    fail "text: KOC age bands: $age"
vuln=$(section 'People trained, by vulnerability (a person counts once in each category recorded for them)' <text.out)
echo "$vuln" | grep -Eqx 'all +all offices +5 +1 +0 +0 +1 +1 +0 +0 +3' ||
    fail "text: vulnerability: $vuln"
cigs=$(section 'CIGs engaged in advocacy (a plan active or later)' <text.out)
echo "$cigs" | grep -Eqx 'ISF +Исфана +1' || fail "text: ISF CIGs: $cigs"
echo "$cigs" | grep -Eqx 'all +all offices +2' || fail "text: CIGs: $cigs"
section 'Letters sent to authorities' <text.out | grep -Eqx 'all +all offices +3' ||
    fail "text: letters"
section 'Responses received, by kind' <text.out |
    grep -Eqx 'all +all offices +3 +1 +0 +1 +0 +1 +0' || fail "text: responses"
section 'Outcomes adopted, by kind' <text.out |
    grep -Eqx 'all +all offices +2 +1 +1 +0 +0 +0' || fail "text: outcomes"
acts=$(section 'Plan actions' <text.out)
echo "$acts" | grep -Eqx 'ISF +Исфана +5 +2 +40% +2' || fail "text: ISF actions: $acts"
echo "$acts" | grep -Eqx 'KOC +Кочкор +3 +1 +33% +1' || fail "text: KOC actions: $acts"
echo "$acts" | grep -Eqx 'all +all offices +8 +3 +38% +3' || fail "text: actions: $acts"
plans=$(section 'Progress of each plan' <text.out)
[ "$(echo "$plans" | wc -l)" -eq 6 ] || fail "text: plans: $plans"
echo "$plans" | sed -n 3p | grep -Eqx 'ISF +Жаштар демилгеси +Көчө жарыгы +active +3 +1 +33% +1' ||
    fail "text: first plan: $plans"
echo "$plans" | sed -n 4p | grep -Eqx 'ISF +Жаштар демилгеси +Мектепке жол +achieved +1 +1 +100% +0' ||
    fail "text: second plan: $plans"
echo "$plans" | sed -n 6p | grep -Eqx 'KOC +Кочкор аялдары +Бала бакча +in_progress +3 +1 +33% +1' ||
    fail "text: last plan: $plans"

# --- CSV --------------------------------------------------------------------
expect_ok cs -C c report --period "$REPORT_PERIOD" --format csv
out >report.csv
[ "$(head -c 3 report.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] ||
    fail "csv: no UTF-8 byte order mark"
lines=$(wc -l <report.csv)
crlf=$(grep -c $'\r$' report.csv)
[ "$lines" -gt 30 ] && [ "$lines" -eq "$crlf" ] ||
    fail "csv: $crlf of $lines lines end in CRLF"
[ "$(tr -d '\r' <report.csv | grep -c '^$')" -eq 9 ] ||
    fail "csv: expected 9 sections after the heading"
grep -qx $'office,office name,trained,female,male,sex unknown\r' report.csv ||
    fail "csv: sex header"
grep -qx $'ISF,Исфана,2,1,1,0\r' report.csv || fail "csv: ISF sex row"
grep -qx $'all,all offices,5,2,2,1\r' report.csv || fail "csv: total sex row"
grep -qx $'all,all offices,8,3,38%,3\r' report.csv || fail "csv: actions row"
# RFC 4180 quoting and the formula guard, on the draft plan's row
grep -qx $'ISF,"Таза суу, ""Булак""",\'=SUM(1) <script>alert(1)</script> суу,draft,1,0,0%,1\r' \
    report.csv || fail "csv: quoted row: $(grep draft report.csv)"
python3 - report.csv <<'EOF' || fail "csv: python's csv module disagrees"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
plan = [r for r in rows if len(r) == 8 and r[3] == 'draft'][0]
assert plan[1] == 'Таза суу, "Булак"', plan
assert rows[0] == ['cigsync report'], rows[0]
EOF

# --- JSON -------------------------------------------------------------------
expect_ok cs -C c report --period "$REPORT_PERIOD" --format json
out >report.json
json_check <report.json
jget() { json_get "$1" <report.json; }
[ "$(jget 'd["trained"]["total"]')" = 5 ] || fail "json: trained"
[ "$(jget 'd["period"]')" = '{"from": "2024-01-01", "to": "2024-12-31"}' ] ||
    fail "json: period: $(jget 'd["period"]')"
[ "$(jget 'd["trained"]["by_sex"]')" = '{"female": 2, "male": 2, "unknown": 1}' ] ||
    fail "json: by sex: $(jget 'd["trained"]["by_sex"]')"
[ "$(jget 'd["trained"]["by_age"]')" = '{"under_18": 0, "18_29": 1, "30_44": 1, "45_59": 1, "60_plus": 1, "unknown": 1}' ] ||
    fail "json: by age: $(jget 'd["trained"]["by_age"]')"
[ "$(jget 'd["trained"]["by_vulnerability"]["disability"]')" = 1 ] &&
    [ "$(jget 'd["trained"]["by_vulnerability"]["none"]')" = 3 ] ||
    fail "json: by vulnerability: $(jget 'd["trained"]["by_vulnerability"]')"
[ "$(jget 'd["trained"]["by_office"]["KOC"]["total"]')" = 3 ] ||
    fail "json: KOC trained"
[ "$(jget 'd["cigs_engaged"]')" = '{"total": 2, "by_office": {"CEN": 0, "ISF": 1, "KOC": 1}}' ] ||
    fail "json: cigs: $(jget 'd["cigs_engaged"]')"
[ "$(jget 'd["letters_sent"]["total"]')" = 3 ] || fail "json: letters"
[ "$(jget 'd["responses"]["by_kind"]')" = '{"positive": 1, "partial": 0, "refusal": 1, "referral": 0, "no_response": 1, "unknown": 0}' ] ||
    fail "json: responses: $(jget 'd["responses"]')"
[ "$(jget 'd["outcomes"]["by_office"]["KOC"]["by_kind"]["decision"]')" = 1 ] ||
    fail "json: outcomes"
[ "$(jget '[d["actions"][k] for k in ("planned", "done", "overdue")]')" = '[8, 3, 3]' ] ||
    fail "json: actions: $(jget 'd["actions"]')"
[ "$(jget '[(p["cig"], p["planned"], p["done"], p["overdue"]) for p in d["plans"]]')" = \
    '[["Жаштар демилгеси", 3, 1, 1], ["Жаштар демилгеси", 1, 1, 0], ["Таза суу, \"Булак\"", 1, 0, 1], ["Кочкор аялдары", 3, 1, 1]]' ] ||
    fail "json: plans: $(jget 'd["plans"]')"
[ "$(jget '[o["name"] for o in d["offices"]]')" = '["Центральный офис", "Исфана", "Кочкор"]' ] ||
    fail "json: offices"
# --json is --format json; sqlite3's JSON functions read the same document
expect_ok cs -C c --json report --period "$REPORT_PERIOD"
[ "$(out)" = "$(cat report.json)" ] || fail "--json differs from --format json"
[ "$(sqlite3 :memory: "SELECT json_extract(readfile('report.json'), '\$.trained.by_office.ISF.by_sex.male')")" = 1 ] ||
    fail "json: sqlite3 json_extract"

# --- no period: every record counts, whatever its date ----------------------
expect_ok cs -C c report --format json
out >all.json
[ "$(json_get '[d["period"], d["trained"]["total"], d["trained"]["by_office"]["KOC"]["total"], d["cigs_engaged"]["total"], d["letters_sent"]["total"], d["responses"]["total"], d["outcomes"]["total"], d["actions"]["planned"]]' <all.json)" = \
    '[null, 6, 4, 3, 4, 4, 4, 9]' ] || fail "no period: $(cat all.json)"
[ "$(json_get 'd["as_of"]' <all.json)" = "$(date +%Y-%m-%d)" ] ||
    fail "no period: as_of is not today"

# --- --office ---------------------------------------------------------------
expect_ok cs -C c report --period "$REPORT_PERIOD" --office KOC --format json
out >koc.json
[ "$(json_get '[d["office"], [o["code"] for o in d["offices"]], d["trained"]["total"], d["trained"]["by_sex"]["unknown"], d["cigs_engaged"]["total"], d["letters_sent"]["total"], len(d["plans"]), d["actions"]["planned"]]' <koc.json)" = \
    '["KOC", ["KOC"], 3, 1, 1, 1, 1, 3]' ] || fail "--office KOC: $(cat koc.json)"
expect_ok cs -C c report --period "$REPORT_PERIOD" --office=ISF
out | section 'People trained, by sex' | grep -Eqx 'all +all offices +2 +1 +1 +0' ||
    fail "--office ISF text: $(out)"
out | grep -q 'Кочкор' && fail "--office ISF shows KOC"

# --- HTML -------------------------------------------------------------------
expect_ok cs -C c report --period "$REPORT_PERIOD" --format html
out >report.html
head -1 report.html | grep -qx '<!DOCTYPE html>' || fail "html: doctype"
grep -q '<meta charset="utf-8">' report.html || fail "html: charset"
grep -q '@media print' report.html || fail "html: no print styles"
grep -q 'Content-Security-Policy' report.html || fail "html: no CSP"
[ "$(grep -c '<svg ' report.html)" -eq 3 ] || fail "html: expected 3 charts"
# bars: office chart ISF and KOC (CEN has none), sex chart three
[ "$(grep -c '<rect class="bar"' report.html)" -eq 5 ] || fail "html: bars"
[ "$(grep -c '<rect class="done"' report.html)" -eq 3 ] || fail "html: done bars"
[ "$(grep -c '<rect class="track"' report.html)" -eq 4 ] || fail "html: tracks"
grep -q '<td>Исфана</td>' report.html || fail "html: Cyrillic cell"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' report.html ||
    fail "html: text not escaped"
grep -qi '<script' report.html && fail "html: has a script"
grep -Eqi '<(link|img|iframe|object)|src=|url\(' report.html &&
    fail "html: refers to something outside the page"
grep -q 'Таза суу, &quot;Булак&quot;' report.html || fail "html: quotes"

# --- -o: written atomically, same bytes as stdout ---------------------------
expect_ok cs -C c report --period "$REPORT_PERIOD" --format csv -o out.csv
[ ! -s "$TMP/out" ] || fail "-o: something on stdout"
cmp -s out.csv report.csv || fail "-o: file differs from stdout"
ls out.csv.tmp* >/dev/null 2>&1 && fail "-o: temporary file left"
expect_ok cs -C c report --period "$REPORT_PERIOD" -o out.csv
cmp -s out.csv text.out || fail "-o: not replaced by the text report"
expect_fail 1 'cannot write "nodir/x.html"' cs -C c report -o nodir/x.html

# --- bad command lines: one line, exit 2, nothing written -------------------
expect_fail 2 'bad --period "2024-13-01..2024-12-31"' \
    cs -C c report --period 2024-13-01..2024-12-31
expect_fail 2 'bad --period "2023-02-29..2023-03-01"' \
    cs -C c report --period 2023-02-29..2023-03-01
expect_ok cs -C c report --period 2024-02-29..2024-03-01
expect_fail 2 'bad --period "2024-01-01"' cs -C c report --period 2024-01-01
expect_fail 2 'bad --period "2024-1-1..2024-12-31"' \
    cs -C c report --period 2024-1-1..2024-12-31
expect_fail 2 'bad --period "2024-01-01\.\.2024-12-31x"' \
    cs -C c report --period 2024-01-01..2024-12-31x
expect_fail 2 'starts after it ends' cs -C c report --period 2024-12-31..2024-01-01
expect_fail 2 'needs a value' cs -C c report --period
expect_fail 2 'unknown office "XYZ" \(offices in this replica: CEN, ISF, KOC\)' \
    cs -C c report --office XYZ
expect_fail 2 'bad --office "isf"' cs -C c report --office isf
expect_fail 2 'unknown format "pdf" \(formats: text, csv, json, html\)' \
    cs -C c report --format pdf
expect_fail 2 'json and --format disagree' cs -C c --json report --format csv
expect_fail 2 '--period given twice' \
    cs -C c report --period "$REPORT_PERIOD" --period "$REPORT_PERIOD"
expect_fail 2 'expected no arguments' cs -C c report person
expect_fail 2 'unknown option "--where"' cs -C c report --where x=1
expect_fail 2 'no node directory' cs report
ls out.csv.tmp* nodir >/dev/null 2>&1 && fail "a failed report left a file"
expect_ok cs report --help
out | grep -q 'usage: cigsync \[-C DIR\] report \[--period FROM..TO\]' ||
    fail "report --help: $(out)"

# --- a replica with nothing in it, and the replica is never changed --------
new_node empty 'Кочкор кеңсеси' KOC
expect_ok cs -C empty report --office KOC --format json
[ "$(out | json_get '[d["trained"]["total"], d["offices"]]')" = \
    '[0, [{"code": "KOC", "name": null}]]' ] || fail "empty replica: $(out)"
expect_ok cs -C empty report --format html
out | grep -q 'No plans in this period' || fail "empty replica: html"
expect_same_db c "$before"
exit 0
