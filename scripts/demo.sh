#!/usr/bin/env bash
# scripts/demo.sh - the main job: install what is missing, build, and show
# two office replicas on this machine being edited offline and merged.
#
# Until the server exists (issue 4) the offices exchange their change logs
# with `cigsync merge DIR`, the same merge the sync will run.  Everything
# happens in a temporary directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target cigsync >/dev/null
cs="$PWD/build/release/client/cigsync"

work=$(mktemp -d /tmp/cigsync-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "Two offices start their replicas (each prints its public identity)"
"$cs" init "$work/isfana" --name "Isfana office" --office ISF
"$cs" init "$work/central" --name "Central office" --office CEN
isf=(-C "$work/isfana")
cen=(-C "$work/central")

say "Isfana records a community initiative group and a member, offline"
cig=$("$cs" "${isf[@]}" add cig name="Жаштар демилгеси" settlement=Isfana \
      status=forming formed_on=2019-02-21 focus="street lighting")
person=$("$cs" "${isf[@]}" add person family_name=Абдыкадырова \
         given_name=Гүлмира sex=female birth_year=1986 settlement=Isfana)
"$cs" "${isf[@]}" add membership cig_id="$cig" person_id="$person" \
      role=chair joined_on=2019-03-01 >/dev/null
echo "cig $cig, person $person"

say "A colleague edits the replica with the plain sqlite3 shell"
sqlite3 "$work/isfana/replica.db" \
  "UPDATE cig SET focus = 'street lighting and water' WHERE id = '$cig';"
"$cs" "${isf[@]}" status

say "Central receives Isfana's changes"
"$cs" "${cen[@]}" merge "$work/isfana"

say "Both change the group's status at the same time, before merging again"
"$cs" "${isf[@]}" set cig "$cig" status=active
"$cs" "${cen[@]}" set cig "$cig" status=dormant
"$cs" "${isf[@]}" merge "$work/central"
"$cs" "${cen[@]}" merge "$work/isfana"

say "Both replicas now agree, field by field"
"$cs" "${isf[@]}" list cig
"$cs" "${cen[@]}" list cig
if [ "$("$cs" "${isf[@]}" list cig --json)" = "$("$cs" "${cen[@]}" list cig --json)" ]
then echo "converged: yes"; else echo "converged: NO"; exit 1; fi

say "The losing edit is kept as a conflict on both sides"
"$cs" "${cen[@]}" conflicts

say "History of the group at the central office"
"$cs" "${cen[@]}" show cig "$cig"

say "Consolidated summary (central replica)"
sqlite3 -header -column "$work/central/replica.db" "
  SELECT office_id AS office,
         (SELECT count(*) FROM cig c WHERE c.office_id = o.office_id) AS cigs,
         (SELECT count(*) FROM person p WHERE p.office_id = o.office_id)
           AS persons,
         (SELECT count(*) FROM membership m WHERE m.office_id = o.office_id)
           AS memberships
  FROM (SELECT DISTINCT office_id FROM cig) o ORDER BY office;"
