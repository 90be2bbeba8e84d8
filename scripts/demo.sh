#!/usr/bin/env bash
# scripts/demo.sh - the main job: install what is missing, build, and run a
# central server with the Isfana and Kochkor offices and the central office
# on this machine: each edits offline (with cigsync and with the plain
# sqlite3 shell), they sync over CurveZMQ on loopback, a concurrent edit of
# one field is merged the same way everywhere, the central office prints the
# programme's indicators (text; CSV, JSON and HTML files are kept under
# build/demo/), and an auditor node verifies the server's audit log on its
# own.  Everything else happens in a temporary directory that is removed at
# the end.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -n "${CS_DEMO_NO_DEPS:-}" ] || bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target cigsync cigsync-server \
    >/dev/null
cs="$PWD/build/release/client/cigsync"
srv="$PWD/build/release/server/cigsync-server"

work=$(mktemp -d /tmp/cigsync-demo.XXXXXX)
server_pid=
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=tcp://127.0.0.1:$port

say "The central server is created; it prints its identity for the offices"
server_key=$("$srv" init "$work/server" --listen "$endpoint" --name "Bishkek hub")
echo "$server_key"

say "Three offices and an auditor create their nodes and are enrolled at the server"
isf_id=$("$cs" init "$work/isfana" --name "Isfana office" --office ISF \
         --server "$endpoint" --server-key "$server_key" 2>/dev/null)
koc_id=$("$cs" init "$work/kochkor" --name "Kochkor office" --office KOC \
         --server "$endpoint" --server-key "$server_key" 2>/dev/null)
cen_id=$("$cs" init "$work/central" --name "Central office" --office CEN \
         --server "$endpoint" --server-key "$server_key" 2>/dev/null)
aud_id=$("$cs" init "$work/auditor" --name "Auditor" --office CEN \
         --server "$endpoint" --server-key "$server_key" 2>/dev/null)
"$srv" enroll "$work/server" isfana --role site --office ISF --key "$isf_id"
"$srv" enroll "$work/server" kochkor --role site --office KOC --key "$koc_id"
"$srv" enroll "$work/server" central --role central --key "$cen_id"
"$srv" enroll "$work/server" auditor --role auditor --key "$aud_id"
isf=(-C "$work/isfana")
koc=(-C "$work/kochkor")
cen=(-C "$work/central")

say "The server runs (its log: one line per session and refusal)"
CIGSYNC_LOG=info "$srv" run "$work/server" 2>"$work/server.log" &
server_pid=$!
sleep 0.5

say "Isfana records a group, a member and a workshop, offline"
cig=$("$cs" "${isf[@]}" add cig name="Жаштар демилгеси" settlement=Isfana \
      status=forming formed_on=2019-02-21 focus="street lighting")
person=$("$cs" "${isf[@]}" add person family_name=Абдыкадырова \
         given_name=Гүлмира sex=female birth_year=1986 settlement=Isfana)
"$cs" "${isf[@]}" add membership cig_id="$cig" person_id="$person" \
      role=chair joined_on=2019-03-01 >/dev/null
event=$("$cs" "${isf[@]}" add event title="Advocacy workshop" kind=training \
        start_on=2026-11-20 settlement=Isfana)
"$cs" "${isf[@]}" add attendance event_id="$event" person_id="$person" completed=1 \
      >/dev/null
echo "cig $cig"

say "A Kochkor colleague works with the plain sqlite3 shell"
sqlite3 "$work/kochkor/replica.db" "
  INSERT INTO cig(id, name, settlement, status, formed_on)
    VALUES ('KOC-cig-0001', 'Аялдар кеңеши', 'Kochkor', 'active', '2020-05-04');
  INSERT INTO person(id, family_name, given_name, sex, birth_year, settlement)
    VALUES ('KOC-person-0001', 'Токтогулов', 'Азамат', 'male', 1979, 'Kochkor'),
           ('KOC-person-0002', 'Садыкова', 'Айгерим', 'female', 1992, 'Kochkor');
  INSERT INTO event(id, kind, title, start_on, settlement)
    VALUES ('KOC-event-0001', 'training', 'Community level advocacy', '2026-11-12', 'Kochkor');
  INSERT INTO attendance(event_id, person_id, completed)
    VALUES ('KOC-event-0001', 'KOC-person-0001', 1), ('KOC-event-0001', 'KOC-person-0002', 1);
  INSERT INTO vulnerability(person_id, category, recorded_on)
    VALUES ('KOC-person-0002', 'female_headed_household', '2026-11-12');
  INSERT INTO plan(id, cig_id, objective, start_on, end_on, status)
    VALUES ('KOC-plan-0001', 'KOC-cig-0001', 'Чистая вода для школы', '2026-10-01', '2027-03-31', 'active');
  INSERT INTO action(plan_id, kind, planned_on, done_on, status)
    VALUES ('KOC-plan-0001', 'meeting', '2026-10-15', '2026-10-15', 'done'),
           ('KOC-plan-0001', 'letter', '2026-11-01', '2026-11-03', 'done'),
           ('KOC-plan-0001', 'hearing', '2026-11-20', NULL, 'planned');
  INSERT INTO letter(id, cig_id, plan_id, subject, language, status, sent_on)
    VALUES ('KOC-letter-0001', 'KOC-cig-0001', 'KOC-plan-0001',
            'Мектепке таза суу', 'ky', 'answered', '2026-11-03');
  INSERT INTO letter_response(letter_id, received_on, kind, summary)
    VALUES ('KOC-letter-0001', '2026-11-18', 'partial', 'Funds in the 2027 budget');
  INSERT INTO outcome(plan_id, letter_id, kind, adopted_on)
    VALUES ('KOC-plan-0001', 'KOC-letter-0001', 'budget_allocation', '2026-11-25');"

say "Isfana and Kochkor sync"
"$cs" "${isf[@]}" sync
"$cs" "${koc[@]}" sync

say "Central records the offices, syncs and sees both regions"
"$cs" "${cen[@]}" add office office_id=ISF code=ISF name_en="Isfana office" \
    name_ru="Исфанинский офис" oblast=Batken settlement=Isfana kind=regional >/dev/null
"$cs" "${cen[@]}" add office office_id=KOC code=KOC name_en="Kochkor office" \
    name_ru="Кочкорский офис" oblast=Naryn settlement=Kochkor kind=regional >/dev/null
"$cs" "${cen[@]}" add office office_id=CEN code=CEN name_en="Central office" \
    oblast=Bishkek settlement=Bishkek kind=central >/dev/null
"$cs" "${cen[@]}" sync
"$cs" "${cen[@]}" list cig

say "Isfana keeps a daemon running; central and Isfana change the group's status at the same time"
CIGSYNC_LOG=warn "$cs" "${isf[@]}" daemon &
daemon_pid=$!
"$cs" "${cen[@]}" set cig "$cig" status=dormant
sqlite3 "$work/isfana/replica.db" "UPDATE cig SET status = 'active' WHERE id = '$cig';"
sleep 2 # the daemon notices the sqlite3 edit within about a second
"$cs" "${cen[@]}" sync
sleep 2 # and receives central's edit from the server
kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=
"$cs" "${isf[@]}" sync
"$cs" "${koc[@]}" sync

say "Both sides agree on the winner and list the losing edit as a conflict"
"$cs" "${isf[@]}" list cig
"$cs" "${cen[@]}" conflicts

say "Converged? each office's replica equals the central one for its region"
converged=yes
for node in isfana:ISF kochkor:KOC; do
    dir=${node%%:*}; office=${node##*:}
    for t in cig person membership event attendance; do
        a=$(sqlite3 "$work/$dir/replica.db" "SELECT * FROM $t ORDER BY id")
        b=$(sqlite3 "$work/central/replica.db" \
            "SELECT * FROM $t WHERE office_id = '$office' ORDER BY id")
        [ "$a" = "$b" ] || { echo "$dir differs in $t"; converged=no; }
    done
done
echo "converged: $converged"
[ "$converged" = yes ]

say "The central office's indicators for November 2026 (cigsync report)"
out="$PWD/build/demo"
mkdir -p "$out"
"$cs" "${cen[@]}" report --period 2026-11-01..2026-11-30
for f in csv json html; do
    "$cs" "${cen[@]}" report --period 2026-11-01..2026-11-30 --format "$f" \
        -o "$out/report.$f"
done
echo "also written: $out/report.csv (Excel, LibreOffice), $out/report.json, $out/report.html (charts)"

say "The auditor syncs, fetches the server's audit log and verifies it on its own"
"$cs" -C "$work/auditor" audit verify

say "The server verifies its own log, and shows the history of Isfana's group"
"$srv" audit "$work/server" verify
"$srv" audit "$work/server" log --id "$cig"

say "The server's view of its nodes"
"$srv" nodes "$work/server"
echo
echo "server log:"
sed 's/^/  /' "$work/server.log"
