# tests/cli/merge_test.sh - concurrent edits of the same field on two nodes
# converge after merging both ways, the losing edit is listed as a
# conflict on both, and editing the field again settles it everywhere.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

cd "$TMP" || exit 1
new_node a 'Isfana office' ISF
new_node b 'Kochkor office' KOC

# expect_converged TABLE: both replicas list the same rows and values.
expect_converged() {
    cs -C a list "$1" --json >"$TMP/a.json" || fail "list on a"
    cs -C b list "$1" --json >"$TMP/b.json" || fail "list on b"
    json_check <"$TMP/a.json"
    cmp -s "$TMP/a.json" "$TMP/b.json" ||
        fail "replicas differ on $1: $(diff "$TMP/a.json" "$TMP/b.json")"
}

# expect_conflicts DIR N: `conflicts` on DIR lists N conflicts.
expect_conflicts() {
    local n
    expect_ok cs -C "$1" conflicts --json
    out | json_check
    if have_python; then
        n=$(out | json_get 'len(d)')
    else
        n=$(out | grep -c '"field":')
    fi
    [ "$n" = "$2" ] || fail "$1 lists $n conflicts, expected $2: $(out)"
    [ "$(status_field "$1" conflicts)" = "$2" ] ||
        fail "$1: status shows $(status_field "$1" conflicts) conflicts"
}

merge_both() {
    expect_ok cs -C a merge b
    expect_ok cs -C b merge a
}

expect_ok cs -C a add cig name='Жаш Муун' status=active
id=$(out)
expect_ok cs -C b merge a
expect_converged cig
expect_conflicts a 0
expect_conflicts b 0
expect_ok cs -C a conflicts
out | grep -qx 'no conflicts' || fail "conflicts text with none: $(out)"

# --- the same field, concurrently: a via the CLI, b via the sqlite3 shell ------
expect_ok cs -C a set cig "$id" status=dormant
sqlite3 b/replica.db "UPDATE cig SET status = 'closed' WHERE id = '$id'" ||
    fail "sqlite3 update on b"
merge_both
expect_converged cig
expect_conflicts a 1
expect_conflicts b 1
final=$(sqlite3 a/replica.db "SELECT status FROM cig WHERE id = '$id'")
case $final in
dormant) lost=closed won_by='Isfana office' lost_by='Kochkor office' ;;
closed) lost=dormant won_by='Kochkor office' lost_by='Isfana office' ;;
*) fail "status is $final after the merge" ;;
esac
for n in a b; do
    expect_ok cs -C "$n" conflicts
    out | grep -qx "cig $id status" || fail "$n: conflict title: $(out)"
    out | grep -q "^    lost: \"$lost\"  by $lost_by at " ||
        fail "$n: lost line: $(out)"
    out | grep -q "^    kept: \"$final\"  by $won_by at " ||
        fail "$n: kept line: $(out)"
    out | grep -q 'set the field' || fail "$n: no advice on settling"
    if have_python; then
        expect_ok cs -C "$n" conflicts --json
        [ "$(out | json_get 'd[0]["lost"]["value"]')" = "$lost" ] ||
            fail "$n: json lost value"
        [ "$(out | json_get 'd[0]["won"]["who"]')" = "$won_by" ] ||
            fail "$n: json won by"
        [ "$(out | json_get 'd[0]["deleted"]')" = false ] ||
            fail "$n: json deleted"
    fi
done

# Merging again changes nothing.
merge_both
expect_converged cig
expect_conflicts a 1

# --- settling: set the field again on one node, then merge ---------------------
expect_ok cs -C b set cig "$id" status=active
expect_conflicts b 0
merge_both
expect_converged cig
expect_conflicts a 0
expect_conflicts b 0
[ "$(sqlite3 a/replica.db "SELECT status FROM cig WHERE id = '$id'")" = \
    active ] || fail "the settling value did not win"

# --- a delete against a concurrent edit: the delete wins, the edit is a
# conflict on both nodes, and restoring the row settles it ------------------------
expect_ok cs -C a add cig name=Ынтымак focus=roads
id2=$(out)
merge_both
expect_ok cs -C a rm cig "$id2"
expect_ok cs -C b set cig "$id2" focus='roads and water'
merge_both
expect_converged cig
expect_ok cs -C b show cig "$id2"
out | head -1 | grep -q '(deleted)$' || fail "the delete did not win"
expect_conflicts a 1
expect_conflicts b 1
expect_ok cs -C a conflicts
out | grep -q 'kept: (the row was deleted)' || fail "delete conflict: $(out)"
if have_python; then
    expect_ok cs -C b conflicts --json
    [ "$(out | json_get 'd[0]["deleted"]')" = true ] || fail "json deleted"
    [ "$(out | json_get 'd[0]["won"]["value"]')" = null ] || fail "json won"
fi
expect_ok cs -C a restore cig "$id2"
merge_both
expect_converged cig
expect_conflicts a 0
expect_conflicts b 0
expect_ok cs -C a list cig --where focus='roads and water'
out | grep -q "$id2" || fail "restore did not bring b's edit back"

# --- merge refusals ---------------------------------------------------------------
before=$(dump_db a)
expect_fail 1 'is this node.s own directory' cs -C a merge a
expect_fail 1 'nowhere: No such file or directory' cs -C a merge nowhere
expect_fail 2 'merge: expected OTHERDIR' cs -C a merge
expect_fail 2 'no node directory' cs merge b
expect_same_db a "$before"

echo "merge_test: ok"
