# tests/cli/capture_test.sh - edits made by another SQLite client (the
# sqlite3 shell) are captured as local changes, and changes merged in from
# another node are not.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

cd "$TMP" || exit 1
new_node a 'Isfana office' ISF
new_node b 'Kochkor office' KOC

# expect_pending DIR N: `cigsync status` must show N pending changes.
expect_pending() {
    local n
    n=$(status_field "$1" pending)
    [ "$n" = "$2" ] || fail "$1: $n pending changes, expected $2"
}

expect_pending a 0

# An INSERT without id and office_id: the row gets both, and the log gets
# one row event plus one change per non-NULL field (name, status, and the
# office_id the engine filled in).
sqlite3 a/replica.db "INSERT INTO cig(name, status) VALUES ('Ынтымак', 'active')" ||
    fail "sqlite3 insert"
expect_pending a 4
id=$(sqlite3 a/replica.db "SELECT id FROM cig WHERE name = 'Ынтымак'")
echo "$id" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-7' || fail "no id made: $id"
expect_ok cs -C a list cig --where name=Ынтымак
out | grep -q "^$id  *ISF  *Ынтымак " || fail "office_id not filled: $(out)"

# An UPDATE of one field is one change; an UPDATE that changes nothing is
# none.
sqlite3 a/replica.db "UPDATE cig SET focus = 'water' WHERE id = '$id'" ||
    fail "sqlite3 update"
expect_pending a 5
sqlite3 a/replica.db "UPDATE cig SET focus = 'water' WHERE id = '$id'"
expect_pending a 5
expect_ok cs -C a show cig "$id"
out | grep -q 'Isfana office  set focus = "water"$' ||
    fail "show lacks the shell's update: $(out)"
out | grep -q 'Isfana office  set name = "Ынтымак"$' ||
    fail "show lacks the shell's insert: $(out)"

# A second row, deleted from the shell: the row event plus one
# acknowledgement of each field version it removed (office_id, name,
# status: 3).
sqlite3 a/replica.db "INSERT INTO cig(name, status) VALUES ('Gone', 'forming')"
gone=$(sqlite3 a/replica.db "SELECT id FROM cig WHERE name = 'Gone'")
expect_pending a 9
sqlite3 a/replica.db "DELETE FROM cig WHERE id = '$gone'" || fail "delete"
expect_pending a 13
expect_ok cs -C a show cig "$gone"
out | head -1 | grep -q '(deleted)$' || fail "shell delete not seen: $(out)"
out | grep -q 'Isfana office  deleted$' || fail "show: deleted"

# The CLI's own edits count the same way.
expect_ok cs -C a add person given_name=Айгүл
p1=$(out)
expect_pending a 16 # insert + office_id + given_name
expect_ok cs -C a set person "$p1" sex=female
expect_pending a 17

# --- merge: remote changes arrive but are not captured again ---------------
log_a=$(status_field a log_entries)
expect_pending b 0
before_log_b=$(status_field b log_entries)
expect_ok cs -C b merge a
out | grep -Eq "^merged $log_a changes \($log_a new\) from Isfana office$" ||
    fail "merge output: $(out)"
expect_pending b 0
[ "$(status_field b log_entries)" = $((before_log_b + log_a)) ] ||
    fail "b's log did not grow by $log_a"
expect_ok cs -C b list cig
out | grep -q "^$id  *ISF  *Ынтымак  .*water" || fail "data did not arrive"
out | grep -q "$gone" && fail "a deleted row arrived alive"
expect_ok cs -C b show cig "$id"
out | grep -q 'Isfana office  set focus = "water"$' ||
    fail "b's history does not name Isfana: $(out)"

# Merging again brings nothing new and still captures nothing.
expect_ok cs -C b merge a
out | grep -q "(0 new)" || fail "second merge: $(out)"
expect_pending b 0

# An edit on b after the merge is b's own, and only it is pending there.
sqlite3 b/replica.db "UPDATE cig SET status = 'dormant' WHERE id = '$id'" ||
    fail "sqlite3 update on b"
expect_pending b 1
expect_ok cs -C a merge b
expect_pending a 17
expect_ok cs -C a list cig --where status=dormant
out | grep -q "$id" || fail "b's edit did not reach a"

echo "capture_test: ok"
