# tests/cli/sync_test.sh - offices syncing through a real cigsync-server on
# loopback: edits made with the CLI and with the sqlite3 shell at two sites,
# central and an auditor converge, each site holding exactly its office's
# part of central's replica; a field edited concurrently ends with one
# winner and a listed conflict on both sides; changes outside a site's
# scope are refused and corrected at the site and never reach anyone;
# restricted rows (vulnerability) never reach another site's files; an
# unenrolled node is refused; revoking a node stops its daemon (exit 4).
# The parts build on each other (one hub, one set of nodes, so the test
# stays short); revocation comes last since it ends koc.
# shellcheck source=tests/cli/lib.sh
. "${CS_TEST_LIB:?set CS_TEST_LIB to tests/cli/lib.sh}"

need_sync_tools
cd "$TMP" || exit 1

hub_setup
node_setup isf site ISF
node_setup koc site KOC
node_setup cen central
node_setup aud auditor
hub_start

# sq NAME SQL: runs SQL on node NAME's replica with the sqlite3 shell,
# waiting for locks (a daemon may hold one), rows separated by '|'.
sq() {
    sqlite3 -cmd '.timeout 20000' -separator '|' "$TMP/$1/replica.db" "$2"
}

# sq_ok NAME SQL: sq, which must succeed; its output is left in $TMP/out.
sq_ok() {
    expect_ok sq "$1" "$2"
}

# field NAME TABLE ID FIELD: prints one field of one visible row.
field() {
    sq "$1" "SELECT \"$4\" FROM \"$2\" WHERE id = '$3'"
}

# rows NAME TABLE ID: prints how many visible rows of TABLE have id ID.
rows() {
    sq "$1" "SELECT count(*) FROM \"$2\" WHERE id = '$3'"
}

# sync_all NAME...: syncs each node once, in order; each must end in step.
sync_all() {
    local n
    for n in "$@"; do
        sync_ok "$n"
        out | grep -q '^in step with the server' ||
            fail "sync of $n: no summary: $(out)"
    done
}

# office_part NAME OFFICE: prints the synced tables of node NAME restricted
# to rows of office OFFICE, in the format of synced_content.
office_part() {
    local t
    for t in $(sq "$1" "SELECT name FROM zz_table ORDER BY name"); do
        echo "== $t"
        sq "$1" "SELECT * FROM \"$t\" WHERE office_id = '$2' ORDER BY id"
    done
}

# expect_same_text WHAT A B: the two texts must be equal.
expect_same_text() {
    [ "$2" = "$3" ] ||
        fail "$1 differ: $(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3"))"
}

# expect_converged: central and auditor hold the same content; each site
# holds exactly central's rows of its office.
expect_converged() {
    local cen aud
    cen=$(synced_content cen)
    aud=$(synced_content aud)
    expect_same_text "central's and the auditor's replicas" "$cen" "$aud"
    expect_same_text "isf's replica and central's ISF rows" \
        "$(office_part cen ISF)" "$(synced_content isf)"
    expect_same_text "koc's replica and central's KOC rows" \
        "$(office_part cen KOC)" "$(synced_content koc)"
}

# files_with NAME TEXT: prints how many of node NAME's files (replica.db,
# its -wal, -shm or -journal, config, key) hold the bytes TEXT.
files_with() {
    grep -rlaF -- "$2" "$TMP/$1" | wc -l
}

# ---- 1. convergence of CLI and sqlite3 edits at every node ---------------------

# Records made at each office, with the CLI and with the sqlite3 shell.
expect_ok cs -C isf add cig name='Жаш Муун' settlement='Исфана' status=forming
isf_cig=$(out)
expect_ok cs -C isf add person family_name='Токтогулова' given_name='Айгүл' \
    sex=female birth_year=1987
isf_person=$(out)
expect_ok cs -C isf add need cig_id="$isf_cig" title='Таза суу' priority_rank=1
isf_need=$(out)
# No office_id: the engine gives the row the node's office.
sq_ok isf "INSERT INTO authority(kind, name) VALUES ('aiyl_okmotu',
    'Исфана айыл өкмөтү') RETURNING id"
isf_auth=$(out)
sq_ok isf "INSERT INTO event(kind, title, cig_id, start_on) VALUES
    ('training', 'Адвокация боюнча тренинг', '$isf_cig', '2024-05-14')
    RETURNING id"
isf_event=$(out)

expect_ok cs -C koc add cig name='Кочкор аялдары' status=active
koc_cig=$(out)
expect_ok cs -C koc add plan cig_id="$koc_cig" objective='Жол оңдоо' \
    status=draft
koc_plan=$(out)
sq_ok koc "INSERT INTO letter(office_id, cig_id, subject, language, status)
    VALUES ('KOC', '$koc_cig', 'Суу түтүгү жөнүндө', 'ky', 'draft')
    RETURNING id"
koc_letter=$(out)

expect_ok cs -C cen add authority kind=ministry name='Министерство финансов'
cen_auth=$(out)
# Central writes any office's rows: this one is for ISF.
expect_ok cs -C cen add comment office_id=ISF target_table=cig \
    target_id="$isf_cig" author='Central' body='Отличная работа'
cen_comment=$(out)
for v in "$isf_cig" "$isf_person" "$isf_need" "$isf_auth" "$isf_event" \
    "$koc_cig" "$koc_plan" "$koc_letter" "$cen_auth" "$cen_comment"; do
    [ -n "$v" ] || fail "a record was added without printing its id"
done

sync_all isf koc cen aud
sync_all isf koc cen aud
expect_converged
[ "$(field cen authority "$isf_auth" office_id)" = ISF ] ||
    fail "a row inserted by sqlite3 without office_id is not ISF's at central"
[ "$(field koc letter "$koc_letter" subject)" = 'Суу түтүгү жөнүндө' ] ||
    fail "koc's letter changed"
[ "$(field aud event "$isf_event" title)" = 'Адвокация боюнча тренинг' ] ||
    fail "isf's event did not reach the auditor"
[ "$(field isf comment "$cen_comment" body)" = 'Отличная работа' ] ||
    fail "central's comment for ISF did not reach isf"
[ "$(rows koc comment "$cen_comment")" = 0 ] ||
    fail "central's comment for ISF reached koc"
[ "$(rows isf authority "$cen_auth")" = 0 ] ||
    fail "central's own authority reached isf"

# Edits of synced rows: updates, deletes, Cyrillic, CLI and sqlite3; the
# auditor tries an edit too, which is refused and undone at the auditor.
expect_ok cs -C isf set cig "$isf_cig" status=active focus='Суу жана жолдор'
sq_ok isf "UPDATE person SET settlement = 'Исфана', phone = '+996 555 12 34 56'
    WHERE id = '$isf_person'"
sq_ok isf "DELETE FROM event WHERE id = '$isf_event'"
expect_ok cs -C koc rm plan "$koc_plan"
sq_ok koc "UPDATE letter SET subject = 'Суу түтүгү жөнүндө (2-вариант)',
    status = 'in_review' WHERE id = '$koc_letter'"
expect_ok cs -C cen set need "$isf_need" status=prioritised votes=12
sq_ok cen "UPDATE cig SET settlement = 'Кочкор' WHERE id = '$koc_cig'"
sq_ok aud "UPDATE cig SET name = 'Аудитор өзгөрттү' WHERE id = '$koc_cig'"

sync_all isf koc cen aud
grep -q "^cigsync: warning: the server refused a change to cig $koc_cig name: " \
    "$TMP/err" || fail "the auditor's sync: no refusal: $(cat "$TMP/err")"
sync_all isf koc cen aud
expect_converged
[ "$(field cen cig "$isf_cig" focus)" = 'Суу жана жолдор' ] ||
    fail "isf's CLI edit did not reach central"
[ "$(field aud person "$isf_person" phone)" = '+996 555 12 34 56' ] ||
    fail "isf's sqlite3 edit did not reach the auditor"
[ "$(rows cen event "$isf_event")" = 0 ] ||
    fail "isf's sqlite3 delete did not reach central"
[ "$(rows aud plan "$koc_plan")" = 0 ] ||
    fail "koc's CLI delete did not reach the auditor"
[ "$(field cen letter "$koc_letter" subject)" = \
    'Суу түтүгү жөнүндө (2-вариант)' ] ||
    fail "koc's sqlite3 edit did not reach central"
[ "$(field isf need "$isf_need" votes)" = 12 ] ||
    fail "central's CLI edit of an ISF row did not reach isf"
[ "$(field koc cig "$koc_cig" settlement)" = 'Кочкор' ] ||
    fail "central's sqlite3 edit of a KOC row did not reach koc"
[ "$(field aud cig "$koc_cig" name)" = 'Кочкор аялдары' ] ||
    fail "the auditor's edit was not undone at the auditor"
[ "$(field koc cig "$koc_cig" name)" = 'Кочкор аялдары' ] ||
    fail "the auditor's edit reached koc"

# ---- 2. the same field edited at a site and at central ------------------------
expect_ok cs -C isf set cig "$isf_cig" name='Жаш Муун (Исфана)'
sq_ok cen "UPDATE cig SET name = 'Жаш Муун (борбор)' WHERE id = '$isf_cig'"
sync_all isf cen isf aud
winner=$(field cen cig "$isf_cig" name)
case $winner in
'Жаш Муун (Исфана)') loser='Жаш Муун (борбор)' ;;
'Жаш Муун (борбор)') loser='Жаш Муун (Исфана)' ;;
*) fail "the concurrently edited name is '$winner' at central" ;;
esac
for n in isf aud; do
    [ "$(field "$n" cig "$isf_cig" name)" = "$winner" ] ||
        fail "$n shows '$(field "$n" cig "$isf_cig" name)', central '$winner'"
done
for n in isf cen; do
    expect_ok cs -C "$n" conflicts --json
    out | json_check
    c=$(out | json_get "[c for c in d if c['table'] == 'cig' and
        c['id'] == '$isf_cig' and c['field'] == 'name']")
    [ "$(printf '%s' "$c" | json_get 'len(d)')" = 1 ] ||
        fail "$n does not list one conflict on the name: $(out)"
    [ "$(printf '%s' "$c" | json_get 'd[0]["won"]["value"]')" = "$winner" ] ||
        fail "$n: the conflict's winner: $c"
    [ "$(printf '%s' "$c" | json_get 'd[0]["lost"]["value"]')" = "$loser" ] ||
        fail "$n: the conflict's loser: $c"
done

# ---- 5. changes outside a site's scope -----------------------------------------
# In one sqlite3 session: a row for another office and a row of its own;
# then the CLI gives one of its own rows away.
sq_ok isf "INSERT INTO cig(office_id, name) VALUES ('KOC', 'SNEAKY-CIG-5521')
    RETURNING id;
    INSERT INTO cig(name, status) VALUES ('Ынтымак', 'forming') RETURNING id"
sneaky=$(out | sed -n 1p)
normal=$(out | sed -n 2p)
[ -n "$sneaky" ] || fail "sqlite3 inserts: $(out)"
[ -n "$normal" ] || fail "sqlite3 inserts: $(out)"
expect_ok cs -C isf set cig "$isf_cig" office_id=KOC
expect_ok cs -C isf sync --quiet --timeout 30
grep -q "^cigsync: warning: the server refused a change to cig $sneaky" \
    "$TMP/err" || fail "no refusal of the other office's row: $(cat "$TMP/err")"
grep -q "^cigsync: warning: the server refused a change to cig $isf_cig office_id: " \
    "$TMP/err" || fail "no refusal of giving a row away: $(cat "$TMP/err")"
grep -q "refused from node isf.*cig $sneaky" hub.log ||
    fail "the server did not log the refusal: $(tail -5 hub.log)"
grep -q "refused from node isf.*cig $isf_cig office_id" hub.log ||
    fail "the server did not log the refusal: $(tail -5 hub.log)"
expect_ok cs -C isf list cig --json
out | json_check
[ "$(out | json_get "[r['id'] for r in d if r['id'] == '$sneaky']")" = '[]' ] ||
    fail "isf still lists the other office's row: $(out)"
[ "$(out | json_get "[r['office_id'] for r in d if r['id'] == '$isf_cig']")" = \
    '["ISF"]' ] || fail "isf's cig did not get its office back: $(out)"
[ "$(out | json_get "[r['office_id'] for r in d if r['id'] == '$normal']")" = \
    '["ISF"]' ] || fail "isf's new cig is missing: $(out)"
sync_all cen koc aud isf
[ "$(field cen cig "$normal" name)" = 'Ынтымак' ] ||
    fail "the in-scope row of the refused batch did not reach central"
[ "$(field cen cig "$isf_cig" office_id)" = ISF ] ||
    fail "central's copy of isf's cig changed office"
for n in cen koc aud; do
    [ "$(rows "$n" cig "$sneaky")" = 0 ] || fail "the sneaky row reached $n"
    [ "$(files_with "$n" SNEAKY-CIG-5521)" = 0 ] ||
        fail "the sneaky row's name is in $n's files"
done
expect_converged

# ---- 6. restricted rows never reach another site's files -----------------------
expect_ok cs -C isf add person family_name='Асанова' given_name='Бурул'
isf_vp=$(out)
expect_ok cs -C isf add vulnerability id=SECRET-ISF-VULN-7431 \
    person_id="$isf_vp" category=disability recorded_on=2024-03-01
sq_ok koc "INSERT INTO person(family_name, given_name) VALUES ('Жумабеков',
    'Нурлан') RETURNING id"
koc_vp=$(out)
sq_ok koc "INSERT INTO vulnerability(id, person_id, category, recorded_on)
    VALUES ('SECRET-KOC-VULN-9266', '$koc_vp', 'returning_migrant',
    '2024-04-02')"
sync_all isf koc cen aud
sync_all isf koc cen aud
expect_converged
for m in SECRET-ISF-VULN-7431 SECRET-KOC-VULN-9266; do
    [ "$(files_with cen "$m")" -gt 0 ] ||
        fail "$m is not in central's files (the search would miss it)"
done
[ "$(files_with isf SECRET-KOC-VULN-9266)" = 0 ] ||
    fail "koc's vulnerability is in isf's files: $(grep -rlaF SECRET-KOC isf)"
[ "$(files_with koc SECRET-ISF-VULN-7431)" = 0 ] ||
    fail "isf's vulnerability is in koc's files: $(grep -rlaF SECRET-ISF koc)"
[ "$(files_with koc "$isf_vp")" = 0 ] ||
    fail "isf's vulnerable person is in koc's files"
[ "$(files_with isf "$koc_vp")" = 0 ] ||
    fail "koc's vulnerable person is in isf's files"

# ---- 3. a node the server does not know ---------------------------------------
cs init "$TMP/str" --name str --office STR --server "$HUB_EP" \
    --server-key "$HUB_KEY" >/dev/null 2>"$TMP/str.init" ||
    fail "init str: $(cat "$TMP/str.init")"
expect_fail 4 'not enrolled|revoked' cs -C str sync --timeout 10
ok=
for _ in $(seq 300); do
    grep -q 'refused a connection: its key is not enrolled' hub.log && {
        ok=1
        break
    }
    sleep 0.1
done
[ -n "$ok" ] || fail "the server did not log the refusal: $(tail -5 hub.log)"

# ---- 4. revoking a node ends its daemon ------------------------------------------
bg "$CIGSYNC" -C "$TMP/koc" daemon 2>"$TMP/daemon.log"
daemon=$BG_PID
expect_ok cs -C koc add cig name='Жаңы топ' status=forming
live_cig=$(out)
sq_ok koc "UPDATE cig SET focus = 'Мектеп' WHERE id = '$koc_cig'"
ok=
for _ in $(seq 120); do
    sync_ok cen
    [ "$(field cen cig "$live_cig" name)" = 'Жаңы топ' ] &&
        [ "$(field cen cig "$koc_cig" focus)" = 'Мектеп' ] && {
        ok=1
        break
    }
    kill -0 "$daemon" 2>/dev/null ||
        fail "the daemon died: $(cat "$TMP/daemon.log")"
    sleep 0.5
done
[ -n "$ok" ] || fail "the daemon did not send koc's edits: $(cat "$TMP/daemon.log")"
# And it applies what the server sends while it runs.
expect_ok cs -C cen set cig "$koc_cig" status=dormant
sync_ok cen
ok=
for _ in $(seq 120); do
    [ "$(field koc cig "$koc_cig" status)" = dormant ] && {
        ok=1
        break
    }
    sleep 0.5
done
[ -n "$ok" ] ||
    fail "the daemon did not apply central's edit: $(cat "$TMP/daemon.log")"

expect_ok srv revoke "$HUB" koc
ok=
for _ in $(seq 600); do
    kill -0 "$daemon" 2>/dev/null || {
        ok=1
        break
    }
    sleep 0.1
done
[ -n "$ok" ] || fail "the daemon still runs 60 s after koc was revoked"
wait "$daemon"
rc=$?
BG_PIDS=${BG_PIDS/ $daemon/}
[ "$rc" -eq 4 ] ||
    fail "the revoked daemon exited $rc: $(cat "$TMP/daemon.log")"
grep -q 'revoked' "$TMP/daemon.log" ||
    fail "the daemon did not say it was revoked: $(cat "$TMP/daemon.log")"
expect_fail 4 'not enrolled|revoked' cs -C koc sync --timeout 10
expect_ok srv nodes "$HUB" --json
[ "$(out | json_get "[n['name'] for n in d if n['status'] == 'revoked']")" = \
    '["koc"]' ] ||
    fail "nodes does not show koc alone as revoked: $(out)"

# The others still sync.
sync_all isf cen aud

hub_stop
echo "sync_test: ok"
