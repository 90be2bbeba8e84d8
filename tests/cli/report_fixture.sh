# tests/cli/report_fixture.sh - a small, fixed data set for the report
# tests, made with the cigsync CLI, and the numbers it must give.
#
# Sourced (after lib.sh) by report_test.sh and report_html_test.sh; not a
# test itself (its name does not end in _test.sh).  report_make DIR makes
# node directory DIR (office CEN, as the central office's replica would
# be) holding two regional offices' records, ISF and KOC, with Cyrillic
# names.  The numbers below are counted by hand for the period
# 2024-01-01..2024-12-31 (ages reckoned in 2024, report date 2024-12-31).
#
# People (office, sex, birth year, age in 2024, vulnerability):
#   P1 ISF female 1990 34 (30-44)  disability (recorded twice),
#                                  female-headed household
#   P2 ISF male   2000 24 (18-29)  -            trained twice: counts once
#   P3 KOC female -    unknown     returning migrant
#   P4 KOC male   1960 64 (60+)    -
#   P9 KOC -      1975 49 (45-59)  -            sex unknown
#   not counted: P5 KOC (its attendance deleted with rm), P6 ISF (only a
#   workshop), P7 ISF (did not complete), P8 KOC (trained in 2023: counts
#   only without a period).
# Trained: ISF 2, KOC 3, total 5; female 2, male 2, unknown 1; each age
# band 1 but under 18 (0); disability 1, female-headed household 1,
# returning migrant 1, none recorded 3.
#
# CIGs engaged (plan active or later, dates overlapping the period):
# C1 ISF (two plans: counts once), C3 KOC; not C2 (draft plan), not C4
# (its plan ended in 2022).  ISF 1, KOC 1, total 2.
# Letters sent in the period: L1, L2 (ISF), L6 (KOC): 3; not L3 (draft),
# L4 (approved, not sent), L5 (sent in 2023).
# Responses received in the period: ISF positive 1, no response 1; KOC
# refusal 1; total 3 (R3, in 2023, not).
# Outcomes adopted in the period: ISF budget allocation 1, KOC decision 1;
# total 2 (O3 undated and O4 of 2023 not).
# Plans in the period, in report order, actions planned/done/overdue:
#   PL1 ISF C1 "Көчө жарыгы"   3/1/1  (a cancelled action not counted)
#   PL2 ISF C1 "Мектепке жол"  1/1/0  (done by done_on, status in_progress)
#   PL3 ISF C2 (draft)         1/0/1
#   PL4 KOC C3                 3/1/1  (a deleted action not counted)
# Actions: ISF 5/2/2, KOC 3/1/1, total 8/3/3.

REPORT_PERIOD=2024-01-01..2024-12-31

# s_add DIR TABLE FIELD=VALUE...: adds a record; its id goes to $ID.
s_add() {
    local dir=$1
    shift
    expect_ok cs -C "$dir" add "$@"
    ID=$(out)
}

report_make() {
    local d=$1 p1 p2 p3 p4 p5 p6 p7 p8 p9 e1 e2 e3 e4 e5 c1 c2 c3 c4
    local pl1 pl2 pl3 pl4 pl5 l1 l2 l5 l6 gone
    new_node "$d" 'Борбордук кеңсе' CEN

    s_add "$d" office code=CEN office_id=CEN name_ru='Центральный офис' kind=central
    s_add "$d" office code=ISF office_id=ISF name_ru='Исфана' \
        name_ky='Исфана' kind=regional
    s_add "$d" office code=KOC office_id=KOC name_ru='Кочкор' kind=regional

    s_add "$d" person office_id=ISF family_name=Токтогулова given_name=Айгүл \
        sex=female birth_year=1990
    p1=$ID
    s_add "$d" person office_id=ISF family_name=Асанов given_name=Бакыт \
        sex=male birth_year=2000
    p2=$ID
    s_add "$d" person office_id=KOC family_name=Осмонова given_name=Гүлнара \
        sex=female
    p3=$ID
    s_add "$d" person office_id=KOC family_name=Бекмуратов given_name=Эрмек \
        sex=male birth_year=1960
    p4=$ID
    s_add "$d" person office_id=KOC family_name=Жумабаева given_name=Чолпон \
        sex=female birth_year=2008
    p5=$ID
    s_add "$d" person office_id=ISF family_name=Сыдыков given_name=Азамат \
        sex=male birth_year=1985
    p6=$ID
    s_add "$d" person office_id=ISF family_name=Абдыкадырова \
        given_name=Динара sex=female birth_year=1995
    p7=$ID
    s_add "$d" person office_id=KOC family_name=Түлөбердиева \
        given_name=Жылдыз sex=female birth_year=1970
    p8=$ID
    s_add "$d" person office_id=KOC family_name=Карыпов given_name=Нурбек \
        birth_year=1975
    p9=$ID

    s_add "$d" vulnerability office_id=ISF person_id="$p1" category=disability
    s_add "$d" vulnerability office_id=ISF person_id="$p1" category=disability
    s_add "$d" vulnerability office_id=ISF person_id="$p1" \
        category=female_headed_household
    s_add "$d" vulnerability office_id=KOC person_id="$p3" \
        category=returning_migrant
    s_add "$d" vulnerability office_id=KOC person_id="$p5" category=disability

    s_add "$d" event office_id=ISF kind=training start_on=2024-03-01 \
        title='Жамааттык деңгээлдеги адвокатура'
    e1=$ID
    s_add "$d" event office_id=ISF kind=training start_on=2024-04-10 \
        title='Адвокатура, 2-бөлүк'
    e2=$ID
    s_add "$d" event office_id=ISF kind=workshop start_on=2024-03-05 \
        title='Уюштуруучулук өнүгүү'
    e3=$ID
    s_add "$d" event office_id=KOC kind=training start_on=2024-05-20 \
        title='Адвокатура Кочкордо'
    e4=$ID
    s_add "$d" event office_id=KOC kind=training start_on=2023-11-15 \
        title='Мурунку окуу'
    e5=$ID

    s_add "$d" attendance office_id=ISF event_id="$e1" person_id="$p1" completed=1
    s_add "$d" attendance office_id=ISF event_id="$e1" person_id="$p2" completed=1
    s_add "$d" attendance office_id=ISF event_id="$e2" person_id="$p2" completed=1
    s_add "$d" attendance office_id=KOC event_id="$e4" person_id="$p3" completed=1
    s_add "$d" attendance office_id=KOC event_id="$e4" person_id="$p4" completed=1
    s_add "$d" attendance office_id=KOC event_id="$e4" person_id="$p5" completed=1
    gone=$ID
    expect_ok cs -C "$d" rm attendance "$gone"
    s_add "$d" attendance office_id=ISF event_id="$e3" person_id="$p6" completed=1
    s_add "$d" attendance office_id=ISF event_id="$e2" person_id="$p7" completed=0
    s_add "$d" attendance office_id=KOC event_id="$e5" person_id="$p8" completed=1
    s_add "$d" attendance office_id=KOC event_id="$e4" person_id="$p9" completed=1

    s_add "$d" cig office_id=ISF name='Жаштар демилгеси' status=active
    c1=$ID
    s_add "$d" cig office_id=ISF name='Таза суу, "Булак"' status=forming
    c2=$ID
    s_add "$d" cig office_id=KOC name='Кочкор аялдары' status=active
    c3=$ID
    s_add "$d" cig office_id=KOC name='Мектеп' status=dormant
    c4=$ID

    s_add "$d" plan office_id=ISF cig_id="$c1" objective='Көчө жарыгы' \
        status=active start_on=2024-02-01 end_on=2024-12-31
    pl1=$ID
    s_add "$d" plan office_id=ISF cig_id="$c1" objective='Мектепке жол' \
        status=achieved start_on=2024-01-10
    pl2=$ID
    s_add "$d" plan office_id=ISF cig_id="$c2" status=draft \
        objective='=SUM(1) <script>alert(1)</script> суу'
    pl3=$ID
    s_add "$d" plan office_id=KOC cig_id="$c3" objective='Бала бакча' \
        status=in_progress start_on=2024-03-01
    pl4=$ID
    s_add "$d" plan office_id=KOC cig_id="$c4" objective='Спорт зал' \
        status=not_achieved start_on=2022-01-01 end_on=2022-12-31
    pl5=$ID

    s_add "$d" action office_id=ISF plan_id="$pl1" kind=meeting \
        planned_on=2024-03-01 done_on=2024-03-01 status=done
    s_add "$d" action office_id=ISF plan_id="$pl1" kind=letter \
        planned_on=2024-05-01 status=planned
    s_add "$d" action office_id=ISF plan_id="$pl1" kind=hearing \
        planned_on=2025-02-01 status=planned
    s_add "$d" action office_id=ISF plan_id="$pl1" kind=media \
        planned_on=2024-04-01 status=cancelled
    s_add "$d" action office_id=ISF plan_id="$pl2" kind=meeting \
        planned_on=2024-02-01 done_on=2024-02-15 status=in_progress
    s_add "$d" action office_id=ISF plan_id="$pl3" kind=petition \
        planned_on=2024-06-01
    s_add "$d" action office_id=KOC plan_id="$pl4" kind=meeting \
        planned_on=2024-07-01 status=done
    s_add "$d" action office_id=KOC plan_id="$pl4" kind=letter \
        planned_on=2024-08-01 status=planned
    s_add "$d" action office_id=KOC plan_id="$pl4" kind=hearing status=planned
    s_add "$d" action office_id=KOC plan_id="$pl4" kind=media \
        planned_on=2024-09-01 status=planned
    expect_ok cs -C "$d" rm action "$ID"
    s_add "$d" action office_id=KOC plan_id="$pl5" kind=meeting \
        planned_on=2022-05-01 status=planned

    s_add "$d" letter office_id=ISF cig_id="$c1" plan_id="$pl1" status=sent \
        sent_on=2024-04-02 subject='Көчө жарыгы жөнүндө'
    l1=$ID
    s_add "$d" letter office_id=ISF cig_id="$c1" plan_id="$pl2" \
        status=answered sent_on=2024-05-10 subject='Жол'
    l2=$ID
    s_add "$d" letter office_id=ISF cig_id="$c2" status=draft subject='Суу'
    s_add "$d" letter office_id=KOC cig_id="$c3" status=approved subject='Бакча'
    s_add "$d" letter office_id=KOC cig_id="$c3" status=closed \
        sent_on=2023-12-01 subject='Мурунку кат'
    l5=$ID
    s_add "$d" letter office_id=KOC cig_id="$c3" plan_id="$pl4" status=sent \
        sent_on=2024-06-01 subject='Бала бакча'
    l6=$ID

    s_add "$d" letter_response office_id=ISF letter_id="$l2" kind=positive \
        received_on=2024-06-01
    s_add "$d" letter_response office_id=KOC letter_id="$l6" kind=refusal \
        received_on=2024-07-01
    s_add "$d" letter_response office_id=KOC letter_id="$l5" kind=partial \
        received_on=2023-12-20
    s_add "$d" letter_response office_id=ISF letter_id="$l1" \
        kind=no_response received_on=2024-08-01

    s_add "$d" outcome office_id=ISF plan_id="$pl2" kind=budget_allocation \
        adopted_on=2024-09-01
    s_add "$d" outcome office_id=KOC plan_id="$pl4" kind=decision \
        adopted_on=2024-10-15
    s_add "$d" outcome office_id=KOC plan_id="$pl4" kind=decision
    s_add "$d" outcome office_id=ISF plan_id="$pl1" kind=local_regulation \
        adopted_on=2023-05-01
}
