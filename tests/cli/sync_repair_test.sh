# tests/cli/sync_repair_test.sh - the end-of-session digest: what differs
# is noticed and repaired, not ignored.
#
#  1. A row changed behind cigsync's back at an office (capture off, so no
#     change is logged): sync notices the digest mismatch, the server
#     resends the office's scope, the office rebuilds its rows from its log,
#     and the row is back to the synced value; sync exits 0.
#  2. Central moves a record from Isfana to Kochkor: Isfana's copy is
#     deleted at its next sync (it would never hear of the record again),
#     and Kochkor gets the record whole (its earlier history arrives through
#     the repair).
#  3. A row inserted behind cigsync's back cannot be rebuilt away: sync
#     exits 5 and says the content differs.
#  4. With the server stopped, sync exits 3 and says it cannot reach it.
. "$CS_TEST_LIB"
need_sync_tools

hub_setup
node_setup isf site ISF
node_setup koc site KOC
node_setup cen central
hub_start

expect_ok cs -C "$TMP/isf" add cig name='Жаштар' status=active
cig=$(out)
expect_ok cs -C "$TMP/isf" add cig name='Second' status=forming
cig2=$(out)
sync_ok isf
sync_ok cen
sync_ok koc

# ---- 1. a value changed behind the log's back -------------------------------
sqlite3 "$TMP/isf/replica.db" "UPDATE zz_state SET capture = 0;
    UPDATE cig SET name = 'tampered' WHERE id = '$cig';
    UPDATE zz_state SET capture = 1;" || fail "sqlite3"
sync_ok isf
[ "$(sqlite3 "$TMP/isf/replica.db" "SELECT name FROM cig WHERE id = '$cig'")" = 'Жаштар' ] ||
    fail "the tampered value was not repaired"
grep -q "node isf: its content differs" "$TMP/hub.log" ||
    fail "the server did not log the mismatch"
grep -q "rebuilding its rows" "$TMP/err" || fail "sync did not say it rebuilt"
# Repaired means in step now: a second sync needs no repair.
sync_ok isf
grep -q "rebuilding" "$TMP/err" && fail "a second sync rebuilt again"

# ---- 2. a record moves to another office --------------------------------------
expect_ok cs -C "$TMP/cen" set cig "$cig2" office_id=KOC
sync_ok cen
sync_ok isf
[ "$(sqlite3 "$TMP/isf/replica.db" "SELECT count(*) FROM cig WHERE id = '$cig2'")" = 0 ] ||
    fail "Isfana kept the record that moved to Kochkor"
sync_ok koc
[ "$(sqlite3 -separator '|' "$TMP/koc/replica.db" \
    "SELECT office_id, name, status FROM cig WHERE id = '$cig2'")" = 'KOC|Second|forming' ] ||
    fail "Kochkor did not get the whole record: $(sqlite3 "$TMP/koc/replica.db" "SELECT * FROM cig")"
[ "$(sqlite3 "$TMP/koc/replica.db" "SELECT * FROM cig ORDER BY id")" = \
  "$(sqlite3 "$TMP/cen/replica.db" "SELECT * FROM cig WHERE office_id = 'KOC' ORDER BY id")" ] ||
    fail "Kochkor's cigs differ from central's"

# ---- 3. a row no change accounts for: reported, exit 5 -------------------------
sqlite3 "$TMP/koc/replica.db" "UPDATE zz_state SET capture = 0;
    INSERT INTO cig(id, office_id, name) VALUES ('stray-1', 'KOC', 'stray');
    UPDATE zz_state SET capture = 1;" || fail "sqlite3"
cs -C "$TMP/koc" sync --quiet --timeout 30 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 5 ] || fail "sync with a stray row exited $rc, not 5: $(cat "$TMP/err")"
grep -q "differs from the server's" "$TMP/err" || fail "no message: $(cat "$TMP/err")"
hub_stop

# ---- 4. no server: exit 3 with a message, nothing changed ---------------------
before=$(sqlite3 "$TMP/isf/replica.db" "SELECT count(*) FROM zz_log")
cs -C "$TMP/isf" sync --quiet --timeout 2 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 3 ] || fail "sync without a server exited $rc, not 3: $(cat "$TMP/err")"
grep -q "cannot reach the server" "$TMP/err" || fail "no message: $(cat "$TMP/err")"
[ "$(sqlite3 "$TMP/isf/replica.db" "SELECT count(*) FROM zz_log")" = "$before" ] ||
    fail "a failed sync changed the log"
