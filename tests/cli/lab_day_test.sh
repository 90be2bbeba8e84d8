# tests/cli/lab_day_test.sh - a day of one office's work syncs over a poor
# link (issue 6, link lab; needs root and network namespaces, else skips).
#
# The server runs in its own namespace; the Isfana office in another,
# joined by a veth pair shaped to 64 kbit/s each way with 3% packet loss
# and 300 ms of added round trip (the lab's defaults), and the link goes
# down for LAB_DOWN_S seconds after every LAB_EVERY_S up (2 and 2 here, so
# a test this short sees drops; the lab's default is 10 after every 60).  The
# office records a day of work with the sqlite3 shell: 200 new records and
# 2,000 field edits.  One `cigsync sync` must bring the server in step:
# every row and value arrives, and every change of the office is in the
# server's log exactly once.
. "$CS_TEST_LIB"
. "$(dirname "$CS_TEST_LIB")/lablib.sh"
need_sync_tools
LAB_EVERY_S=${LAB_EVERY_S_TEST:-2}
LAB_DOWN_S=${LAB_DOWN_S_TEST:-2}
lab_init

hub_setup
lab_office 1
isf_ep=$(lab_proxy 1 "$HUB_PORT")
HUB_EP=$isf_ep node_setup isf site ISF
lab_hub_start

# A day at the office: 200 persons (Cyrillic names, 8 fields each), then
# 2,000 edits of single fields, as a colleague would make them one by one.
{
    echo "BEGIN;"
    for i in $(seq 200); do
        printf "INSERT INTO person(id, family_name, given_name, patronymic, sex, birth_year, phone, settlement) VALUES ('isf-p-%03d', 'Абдыкадырова-%d', 'Гүлмира', 'Асановна', 'female', %d, '+996 555 00 %03d', 'Исфана');\n" \
            "$i" "$i" $((1950 + i % 50)) "$i"
    done
    for k in $(seq 2000); do
        p=$(( (k * 7) % 200 + 1 ))
        case $((k % 3)) in
        0) printf "UPDATE person SET phone = '+996 700 %04d' WHERE id = 'isf-p-%03d';\n" "$k" "$p" ;;
        1) printf "UPDATE person SET settlement = 'Исфана, участок %d' WHERE id = 'isf-p-%03d';\n" "$k" "$p" ;;
        2) printf "UPDATE person SET birth_year = %d WHERE id = 'isf-p-%03d';\n" $((1940 + k % 60)) "$p" ;;
        esac
    done
    echo "COMMIT;"
} >"$TMP/day.sql"
sqlite3 "$TMP/isf/replica.db" <"$TMP/day.sql" || fail "sqlite3: the day's work"
local_changes=$(sqlite3 "$TMP/isf/replica.db" "SELECT count(*) FROM zz_log WHERE oid = 1")
[ "$local_changes" -ge 3000 ] || fail "only $local_changes changes were captured"

lab_drops 1
start=$(date +%s)
lab_in "$(lab_ns 1)" "$CIGSYNC" -C "$TMP/isf" sync --quiet --timeout 300 \
    >"$TMP/out" 2>"$TMP/err" ||
    fail "sync over the shaped link failed: $(cat "$TMP/err") $(tail -5 "$TMP/hub.log")"
took=$(( $(date +%s) - start ))
kill -TERM "$HUB_PID"
wait "$HUB_PID" 2>/dev/null
HUB_PID=

# Every row and value arrived ...
a=$(sqlite3 "$TMP/isf/replica.db" "SELECT * FROM person ORDER BY id")
b=$(sqlite3 "$HUB/replica.db" "SELECT * FROM person WHERE office_id = 'ISF' ORDER BY id")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "the server's persons differ from the office's"
# ... and every change of the office is in the server's log exactly once.
isf_node=$(sqlite3 "$TMP/isf/replica.db" "SELECT value FROM zz_meta WHERE key = 'node_id'")
at_server=$(sqlite3 "$HUB/replica.db" "SELECT count(*) FROM zz_log l JOIN zz_origin o
    ON o.oid = l.oid WHERE o.node = '$isf_node'")
distinct=$(sqlite3 "$HUB/replica.db" "SELECT count(DISTINCT l.oseq) FROM zz_log l
    JOIN zz_origin o ON o.oid = l.oid WHERE o.node = '$isf_node'")
[ "$at_server" = "$local_changes" ] && [ "$distinct" = "$local_changes" ] ||
    fail "the office made $local_changes changes; the server holds $at_server ($distinct distinct)"
echo "a day's work ($local_changes changes) synced in ${took}s over" \
    "$LAB_RATE, ${LAB_LOSS}% loss, ${LAB_RTT_MS} ms RTT, down ${LAB_DOWN_S}s" \
    "after every ${LAB_EVERY_S}s up: $(cat "$TMP/out")"
