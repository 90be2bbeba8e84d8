# tests/cli/audit_test.sh - the audit log: review, proof, and tampering
# caught (issue 5).
#
#  1. Offices edit and sync; a site's change outside its scope is refused
#     (and corrected).  `cigsync-server audit DIR log` shows who changed
#     what, old value to new, from which node and batch, accepted or
#     refused and why, with filters and CSV/JSON.  `audit verify` passes,
#     on the server and independently on an auditor node.  Every node
#     kept a verified tree head and holds a receipt for its last batch.
#  2. Tampering with the server's store, each on its own copy, makes
#     `audit verify` fail and name the place: one byte of a stored batch,
#     a tree node, a signed head, a deleted log entry, a consolidated row
#     edited with the sqlite3 shell.
#  3. A server whose log was rewritten (rebuilt with one entry changed,
#     properly signed with its own key) is caught by a node at its next
#     sync: exit 6 and an ALARM, at every sync after.
. "$CS_TEST_LIB"
need_sync_tools

hub_setup
node_setup isf site ISF
node_setup koc site KOC
node_setup cen central
node_setup aud auditor
hub_start

# ---- 1. edits, a refusal, the log, verify ---------------------------------------
expect_ok cs -C "$TMP/isf" add cig name='Жаштар' status=forming
cig=$(out)
sync_ok isf
expect_ok cs -C "$TMP/isf" set cig "$cig" status=active
expect_ok cs -C "$TMP/isf" add person family_name='Асанова' given_name='Айгүл' sex=female
sync_ok isf
expect_ok cs -C "$TMP/koc" add cig name='Кочкор жаштары'
koc_cig=$(out)
sync_ok koc
sync_ok cen
expect_ok cs -C "$TMP/cen" set cig "$cig" focus='Суу'
sync_ok cen
# A row for another office, written by a site: refused and corrected.
sqlite3 "$TMP/isf/replica.db" \
    "INSERT INTO cig(office_id, name) VALUES ('KOC', 'SNEAKY') RETURNING id" \
    >"$TMP/sneaky" || fail "sqlite3 insert"
sneaky=$(cat "$TMP/sneaky")
sync_ok isf
sync_ok koc
sync_ok aud
# An auditor writes nothing: its edit is refused, and the server re-asserts
# the value (a correction, which the log must hold for the replay).
sqlite3 "$TMP/aud/replica.db" "UPDATE cig SET name = 'Аудитор' WHERE id = '$koc_cig'" ||
    fail "sqlite3 update"
sync_ok aud
[ "$(sqlite3 "$TMP/aud/replica.db" "SELECT name FROM cig WHERE id = '$koc_cig'")" = 'Кочкор жаштары' ] ||
    fail "the auditor's edit was not undone"

srv audit "$HUB" log >"$TMP/log" 2>"$TMP/log.err" || fail "audit log: $(cat "$TMP/log.err")"
grep -q "isf batch 2 (written [0-9T:.Z-]*)  cig $cig status  forming -> active  accepted" "$TMP/log" ||
    fail "the log does not show isf's status change: $(cat "$TMP/log")"
grep -q "cen batch 1 (written [0-9T:.Z-]*)  cig $cig focus  (unset) -> Суу  accepted" "$TMP/log" ||
    fail "the log does not show central's edit: $(cat "$TMP/log")"
grep -q "isf batch 3 (written [0-9T:.Z-]*)  cig $sneaky office_id  (unset) -> KOC  refused: " "$TMP/log" ||
    fail "the log does not show the refusal: $(cat "$TMP/log")"
grep -q " isf  enrolled (site of ISF)" "$TMP/log" ||
    fail "the log does not show the enrolment: $(cat "$TMP/log")"
# Filters: one row; one node; one office; a field.
srv audit "$HUB" log --id "$cig" >"$TMP/log" 2>/dev/null || fail "audit log --id"
[ "$(grep -c " cig $cig " "$TMP/log")" = "$(wc -l <"$TMP/log")" ] ||
    fail "--id shows other rows: $(cat "$TMP/log")"
grep -q "focus" "$TMP/log" || fail "--id lost central's edit"
srv audit "$HUB" log --node koc >"$TMP/log" 2>/dev/null || fail "audit log --node"
grep -q "$koc_cig" "$TMP/log" || fail "--node koc lost koc's row"
grep -q " isf " "$TMP/log" && fail "--node koc shows isf: $(cat "$TMP/log")"
srv audit "$HUB" log --office KOC --table cig --field name >"$TMP/log" 2>/dev/null ||
    fail "audit log --office"
grep -q "Кочкор жаштары" "$TMP/log" || fail "--office KOC lost koc's name"
grep -q " Жаштар  accepted" "$TMP/log" && fail "--office KOC shows ISF's row"
grep -q " status " "$TMP/log" && fail "--field name shows status"
srv audit "$HUB" log --until 2000-01-01 >"$TMP/log" 2>/dev/null || fail "audit log --until"
[ ! -s "$TMP/log" ] || fail "--until 2000 shows entries: $(cat "$TMP/log")"
srv audit "$HUB" log --format csv --table person >"$TMP/log.csv" || fail "audit log csv"
head -c 3 "$TMP/log.csv" | od -An -tx1 | grep -q "ef bb bf" || fail "csv: no BOM"
grep -q '"family_name","(unset)","Асанова","accepted"' "$TMP/log.csv" ||
    fail "csv: $(cat "$TMP/log.csv")"
srv audit "$HUB" log --format json --id "$sneaky" >"$TMP/log.json" || fail "audit log json"
[ "$(sqlite3 :memory: "SELECT json_extract(readfile('$TMP/log.json'), '\$[0].status')")" = refused ] ||
    fail "json: $(cat "$TMP/log.json")"
srv audit "$HUB" log --since yesterday >"$TMP/out" 2>"$TMP/err"
[ $? = 2 ] && grep -q "YYYY-MM-DD" "$TMP/err" || fail "a bad --since: $(cat "$TMP/err")"
srv audit "$HUB" verify extra >"$TMP/out" 2>"$TMP/err"
[ $? = 2 ] && grep -q "verify takes no arguments" "$TMP/err" ||
    fail "verify with an argument: $(cat "$TMP/err")"
srv audit "$HUB" log --format xml >"$TMP/out" 2>"$TMP/err"
[ $? = 2 ] && grep -q "format is text, csv or json" "$TMP/err" ||
    fail "a bad --format: $(cat "$TMP/err")"
expect_fail 2 "audit: expected verify" cs -C "$TMP/aud" audit frobnicate
srv audit "$HUB" frobnicate >"$TMP/out" 2>"$TMP/err"
[ $? = 2 ] && grep -q "expected DIR log or DIR verify" "$TMP/err" ||
    fail "a bad subcommand: $(cat "$TMP/err")"

srv audit "$HUB" verify >"$TMP/verify" 2>&1 || fail "audit verify: $(cat "$TMP/verify")"
grep -q "the audit log verifies" "$TMP/verify" || fail "verify: $(cat "$TMP/verify")"
grep -q "checked .* 4 refusals, 1 corrections, 4 enrolments" "$TMP/verify" ||
    fail "verify counts: $(cat "$TMP/verify")"
cs -C "$TMP/aud" audit verify >"$TMP/verify" 2>&1 ||
    fail "auditor's audit verify: $(cat "$TMP/verify")"
grep -q "verifies, independently of the server" "$TMP/verify" ||
    fail "auditor verify: $(cat "$TMP/verify")"
# A site may not fetch the log.
cs -C "$TMP/isf" audit verify >"$TMP/out" 2>"$TMP/err" &&
    fail "a site fetched the audit log"
grep -q "only auditor and central nodes" "$TMP/err" ||
    fail "no reason for the site: $(cat "$TMP/err")"
# Every node kept a verified head; isf holds a receipt for its last batch.
size=$(sqlite3 "$HUB/replica.db" "SELECT max(size) FROM zz_srv_head")
for n in isf koc cen aud; do
    kept=$(sqlite3 "$TMP/$n/replica.db" "SELECT value FROM zz_meta WHERE key = 'audit_tree_size'")
    [ -n "$kept" ] && [ "$kept" -gt 0 ] && [ "$kept" -le "$size" ] ||
        fail "$n kept tree head of size '$kept' (server: $size)"
done
[ "$(sqlite3 "$TMP/isf/replica.db" "SELECT value FROM zz_meta WHERE key = 'audit_receipt_seq'")" = 3 ] ||
    fail "isf has no receipt for batch 3"
hub_stop

# ---- 2. tampering with the server's store ---------------------------------------
# tamper NAME SQL PATTERN: on a copy of the server, SQL makes verify fail
# with a line matching PATTERN.
tamper() {
    local name=$1 sql=$2 pattern=$3
    cp -a "$HUB" "$TMP/$name"
    sqlite3 "$TMP/$name/replica.db" "$sql" || fail "$name: sqlite3"
    srv audit "$TMP/$name" verify >"$TMP/$name.out" 2>&1 &&
        fail "$name: verify passed: $(cat "$TMP/$name.out")"
    grep -q -- "$pattern" "$TMP/$name.out" ||
        fail "$name: verify did not say '$pattern': $(cat "$TMP/$name.out")"
}
tamper batch-byte \
    "UPDATE zz_srv_batch SET bytes = substr(bytes, 1, 40) ||
        CASE WHEN substr(bytes, 41, 1) = x'41' THEN x'42' ELSE x'41' END ||
        substr(bytes, 42)
     WHERE origin = (SELECT node_id FROM zz_srv_node WHERE name = 'isf') AND seq = 2" \
    "batch 2 of node isf"
tamper batch-sig \
    "UPDATE zz_srv_batch SET bytes = substr(bytes, 1, length(bytes) - 1) ||
        CASE WHEN substr(bytes, -1) = x'00' THEN x'01' ELSE x'00' END
     WHERE origin = (SELECT node_id FROM zz_srv_node WHERE name = 'koc') AND seq = 1" \
    "batch 1 of node koc"
tamper tree-node \
    "DROP TRIGGER zz_srv_tree_no_update;
     UPDATE zz_srv_tree SET hash = zeroblob(32) WHERE level = 1 AND idx = 1" \
    "subtree 1/1 (zz_srv_tree) is wrong"
tamper head-sig \
    "DROP TRIGGER zz_srv_head_no_update;
     UPDATE zz_srv_head SET root = zeroblob(32) WHERE size = (SELECT min(size) FROM zz_srv_head)" \
    "tree head of size .*signature does not verify"
tamper leaf-deleted \
    "DROP TRIGGER zz_srv_audit_no_delete; DELETE FROM zz_srv_audit WHERE leaf = 5" \
    "leaves 5 to 5 are missing"
tamper leaf-changed \
    "DROP TRIGGER zz_srv_audit_no_update;
     UPDATE zz_srv_audit SET data = data || x'00' WHERE leaf = 4" \
    "leaf 4"
tamper replica-row \
    "UPDATE cig SET name = 'Подделка' WHERE id = '$cig'" \
    "table cig, row $cig, field name: the replica has 'Подделка', the log gives 'Жаштар' (written by leaf"
tamper replica-delete \
    "DELETE FROM person" \
    "table person, row .*: in the log (written by leaf .*) but not in the replica"

# ---- 3. a rewritten log is caught at the next sync --------------------------------
"$CS_AUDIT_REWRITE" "$HUB" 3 >"$TMP/out" 2>&1 || fail "rewrite: $(cat "$TMP/out")"
srv audit "$HUB" verify >"$TMP/out" 2>&1 ||
    fail "the rewritten log does not verify on its own: $(cat "$TMP/out")"
hub_start
expect_ok cs -C "$TMP/isf" set cig "$cig" focus='Жол'
cs -C "$TMP/isf" sync --quiet --timeout 30 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 6 ] || fail "sync against a rewritten log exited $rc, not 6: $(cat "$TMP/err")"
grep -q "ALARM: the server's audit log does not agree" "$TMP/err" ||
    fail "no alarm: $(cat "$TMP/err")"
grep -q "is not an extension of the" "$TMP/err" || fail "no reason: $(cat "$TMP/err")"
# Again: still refused (the node keeps the head it verified).
cs -C "$TMP/koc" sync --quiet --timeout 30 >"$TMP/out" 2>"$TMP/err"
[ $? = 6 ] || fail "koc synced against the rewritten log: $(cat "$TMP/err")"
cs -C "$TMP/aud" audit verify >"$TMP/out" 2>"$TMP/err"
[ $? = 6 ] || fail "the auditor accepted the rewritten log: $(cat "$TMP/err")"
hub_stop
