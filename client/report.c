/*  client/report.c - the programme's indicators; see report.h.
 *
 *  Each indicator is one SQL statement over the replica's tables that
 *  returns rows (office, what, key, count): "what" names the counter
 *  (trained, sex, age, vuln, cigs, letters, response, outcome) and key the
 *  breakdown cell.  s_tally() adds every row to its office's counts, so
 *  the C side knows nothing of the definitions and the SQL nothing of the
 *  result struct.  Plans come from one more statement, a row per plan,
 *  and their actions are summed per office in C.
 *
 *  Every statement gets the same parameters: ?1 first day of the period
 *  (NULL without one), ?2 last day, ?3 report date, ?4 the year ages are
 *  reckoned in.  Dates in the replica are ISO YYYY-MM-DD text (schema.sql
 *  CHECKs), so comparing them as text compares the days.
 *
 *  Offices are summed, not counted again for the total: every counted
 *  thing (person, CIG, letter, ...) belongs to exactly one office.
 */
#include "prelude.h"

#include "out.h"
#include "report.h"

#define S_DATE_DASH1 4 /* offsets of the '-' in YYYY-MM-DD */
#define S_DATE_DASH2 7
#define S_DATE_MONTH 5    /* offset of MM */
#define S_DATE_DAY 8      /* offset of DD */
#define S_MONTHS 12       /* months in a year */
#define S_FEBRUARY 2      /* the month with a leap day */
#define S_DECIMAL 10      /* base of the digits in a date */
#define S_PERIOD_SEP ".." /* between FROM and TO */
#define S_PLANS_FIRST 16  /* plans allocated at first */

/* SQL parameters of every statement (see the top of this file). */
#define S_P_FROM 1
#define S_P_TO 2
#define S_P_AS_OF 3
#define S_P_AGE_YEAR 4

/* ---- breakdowns -------------------------------------------------------- */

static const char *const s_sex_keys[CS_REPORT_SEXES] = {"female", "male",
                                                        "unknown"};
static const char *const s_sex_labels[CS_REPORT_SEXES] = {"female", "male",
                                                          "sex unknown"};
static const char *const s_age_keys[CS_REPORT_AGES] = {
    "under_18", "18_29", "30_44", "45_59", "60_plus", "unknown"};
static const char *const s_age_labels[CS_REPORT_AGES] = {
    "under 18", "18-29", "30-44", "45-59", "60+", "age unknown"};
static const char *const s_vuln_keys[CS_REPORT_VULNS] = {
    "disability",
    "youth",
    "older_person",
    "female_headed_household",
    "returning_migrant",
    "ethnic_minority",
    "other",
    "none"};
static const char *const s_vuln_labels[CS_REPORT_VULNS] = {
    "disability",
    "youth",
    "older person",
    "female-headed household",
    "returning migrant",
    "ethnic minority",
    "other",
    "none recorded"};
static const char *const s_response_keys[CS_REPORT_RESPONSES] = {
    "positive", "partial", "refusal", "referral", "no_response", "unknown"};
static const char *const s_response_labels[CS_REPORT_RESPONSES] = {
    "positive", "partial",     "refusal",
    "referral", "no response", "kind unknown"};
static const char *const s_outcome_keys[CS_REPORT_OUTCOMES] = {
    "budget_allocation", "decision", "local_regulation", "practice_change",
    "unknown"};
static const char *const s_outcome_labels[CS_REPORT_OUTCOMES] = {
    "budget allocation", "decision", "local regulation", "practice change",
    "kind unknown"};

size_t
cs_report_dim_size(enum cs_report_dim dim)
{
    switch (dim) {
    case CS_REPORT_SEX:
        return CS_REPORT_SEXES;
    case CS_REPORT_AGE:
        return CS_REPORT_AGES;
    case CS_REPORT_VULN:
        return CS_REPORT_VULNS;
    case CS_REPORT_RESPONSE:
        return CS_REPORT_RESPONSES;
    case CS_REPORT_OUTCOME:
        return CS_REPORT_OUTCOMES;
    default:
        return 0;
    }
}

/* Returns the key (labels false) or label table of dim. */
static const char *const *
s_names(enum cs_report_dim dim, bool labels)
{
    switch (dim) {
    case CS_REPORT_SEX:
        return labels ? s_sex_labels : s_sex_keys;
    case CS_REPORT_AGE:
        return labels ? s_age_labels : s_age_keys;
    case CS_REPORT_VULN:
        return labels ? s_vuln_labels : s_vuln_keys;
    case CS_REPORT_RESPONSE:
        return labels ? s_response_labels : s_response_keys;
    case CS_REPORT_OUTCOME:
        return labels ? s_outcome_labels : s_outcome_keys;
    default:
        return NULL;
    }
}

const char *
cs_report_key(enum cs_report_dim dim, size_t i)
{
    assert(i < cs_report_dim_size(dim));
    return s_names(dim, false)[i];
}

const char *
cs_report_label(enum cs_report_dim dim, size_t i)
{
    assert(i < cs_report_dim_size(dim));
    return s_names(dim, true)[i];
}

const uint64_t *
cs_report_counts_of(const struct cs_report_counts *n, enum cs_report_dim dim)
{
    switch (dim) {
    case CS_REPORT_SEX:
        return n->trained_sex;
    case CS_REPORT_AGE:
        return n->trained_age;
    case CS_REPORT_VULN:
        return n->trained_vuln;
    case CS_REPORT_RESPONSE:
        return n->response;
    case CS_REPORT_OUTCOME:
        return n->outcome;
    default:
        return NULL;
    }
}

/* Returns the index of key in dim; a key not in the list (NULL included)
   is the last one: unknown, or none for vulnerability (which the SQL
   never leaves unnamed). */
static size_t
s_key_index(enum cs_report_dim dim, const char *key)
{
    size_t n = cs_report_dim_size(dim);

    for (size_t i = 0; key != NULL && i < n; i++)
        if (strcmp(s_names(dim, false)[i], key) == 0)
            return i;
    return n - 1;
}

/* ---- dates and periods ------------------------------------------------- */

static bool
s_leap(long year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Returns the number at s[0..n-1], all decimal digits, or -1. */
static long
s_digits(const char *s, size_t n)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * S_DECIMAL + (s[i] - '0');
    }
    return v;
}

bool
cs_report_date_valid(const char *s)
{
    static const int days[S_MONTHS] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
    long year, month, day, last;

    if (strlen(s) != CS_REPORT_DATE_LEN || s[S_DATE_DASH1] != '-' ||
        s[S_DATE_DASH2] != '-')
        return false;
    year = s_digits(s, S_DATE_DASH1);
    month = s_digits(s + S_DATE_MONTH, S_DATE_DASH2 - S_DATE_MONTH);
    day = s_digits(s + S_DATE_DAY, CS_REPORT_DATE_LEN - S_DATE_DAY);
    if (year < 1 || month < 1 || month > S_MONTHS || day < 1)
        return false;
    last = days[month - 1] + (month == S_FEBRUARY && s_leap(year));
    return day <= last;
}

int
cs_report_period(const char *arg, struct cs_report_query *q)
{
    char from[CS_REPORT_DATE_LEN + 1], to[CS_REPORT_DATE_LEN + 1];
    const char *sep = strstr(arg, S_PERIOD_SEP);
    const char *rest;

    if (sep == NULL || sep - arg != CS_REPORT_DATE_LEN)
        return CS_ERR_FORMAT;
    rest = sep + strlen(S_PERIOD_SEP);
    if (strlen(rest) != CS_REPORT_DATE_LEN)
        return CS_ERR_FORMAT;
    memcpy(from, arg, CS_REPORT_DATE_LEN);
    from[CS_REPORT_DATE_LEN] = '\0';
    memcpy(to, rest, CS_REPORT_DATE_LEN + 1);
    if (!cs_report_date_valid(from) || !cs_report_date_valid(to))
        return CS_ERR_FORMAT;
    if (strcmp(from, to) > 0)
        return CS_ERR_INVALID;
    memcpy(q->from, from, sizeof q->from);
    memcpy(q->to, to, sizeof q->to);
    memcpy(q->as_of, to, sizeof q->as_of);
    return 0;
}

void
cs_report_today(char out[CS_REPORT_DATE_LEN + 1])
{
    time_t now = time(NULL);
    struct tm tm;

    if (localtime_r(&now, &tm) == NULL ||
        strftime(out, CS_REPORT_DATE_LEN + 1, "%Y-%m-%d", &tm) !=
            CS_REPORT_DATE_LEN)
        snprintf(out, CS_REPORT_DATE_LEN + 1, "1970-01-01");
}

/* ---- the statements ---------------------------------------------------- */

/* The period test for a date column d ("no period" lets every row in). */
#define S_IN_PERIOD(d) "(?1 IS NULL OR " d " BETWEEN ?1 AND ?2)"

/* A plan whose start_on..end_on overlaps the period; open ends. */
#define S_PLAN_OVERLAPS                                                        \
    "(?1 IS NULL OR ((p.start_on IS NULL OR p.start_on <= ?2) AND "            \
    "(p.end_on IS NULL OR p.end_on >= ?1)))"

/* People trained: distinct persons, their office, sex, age band; then one
   count per breakdown cell.  A person's office is their record's, or the
   attendance's when the person record is missing (MIN: any one, fixed). */
static const char s_sql_trained[] =
    "WITH t AS ("
    " SELECT a.person_id AS pid, MIN(COALESCE(a.office_id, '?')) AS aoff"
    " FROM attendance a JOIN event e ON e.id = a.event_id"
    " WHERE a.completed = 1 AND e.kind = 'training'"
    " AND a.person_id IS NOT NULL AND " S_IN_PERIOD(
        "e.start_on") " GROUP BY a.person_id),"
                      " tp AS ("
                      " SELECT t.pid AS pid, COALESCE(pe.office_id, t.aoff) AS "
                      "office,"
                      " pe.sex AS sex,"
                      " CASE WHEN pe.birth_year IS NULL THEN 'unknown'"
                      " WHEN ?4 - pe.birth_year < 18 THEN 'under_18'"
                      " WHEN ?4 - pe.birth_year < 30 THEN '18_29'"
                      " WHEN ?4 - pe.birth_year < 45 THEN '30_44'"
                      " WHEN ?4 - pe.birth_year < 60 THEN '45_59'"
                      " ELSE '60_plus' END AS band"
                      " FROM t LEFT JOIN person pe ON pe.id = t.pid)"
                      " SELECT office, 'trained', '', count(*) FROM tp GROUP "
                      "BY office"
                      " UNION ALL SELECT office, 'sex', sex, count(*) FROM tp"
                      " GROUP BY office, sex"
                      " UNION ALL SELECT office, 'age', band, count(*) FROM tp"
                      " GROUP BY office, band"
                      " UNION ALL SELECT tp.office, 'vuln', v.category, "
                      "count(*) FROM tp"
                      " JOIN (SELECT DISTINCT person_id, category FROM "
                      "vulnerability"
                      " WHERE category IS NOT NULL) v ON v.person_id = tp.pid"
                      " GROUP BY tp.office, v.category"
                      " UNION ALL SELECT office, 'vuln', 'none', count(*) FROM "
                      "tp"
                      " WHERE NOT EXISTS (SELECT 1 FROM vulnerability v"
                      " WHERE v.person_id = tp.pid AND v.category IS NOT NULL)"
                      " GROUP BY office";

/* CIGs engaged in advocacy: the plan statuses from active on
   (schema.sql, comment on table plan). */
static const char s_sql_cigs[] =
    "SELECT office, 'cigs', '', count(*) FROM ("
    " SELECT COALESCE(c.office_id, MIN(p.office_id), '?') AS office"
    " FROM plan p LEFT JOIN cig c ON c.id = p.cig_id"
    " WHERE p.cig_id IS NOT NULL AND p.status IN ('active', 'in_progress',"
    " 'achieved', 'partially_achieved', 'not_achieved')"
    " AND " S_PLAN_OVERLAPS " GROUP BY p.cig_id)"
    " GROUP BY office";

/* Letters that reached `sent`. */
static const char s_sql_letters[] =
    "SELECT COALESCE(office_id, '?'), 'letters', '', count(*) FROM letter"
    " WHERE (sent_on IS NOT NULL OR status IN ('sent', 'answered', 'closed'))"
    " AND " S_IN_PERIOD("sent_on") " GROUP BY 1";

static const char s_sql_responses[] =
    "SELECT COALESCE(office_id, '?'), 'response', kind, count(*)"
    " FROM letter_response WHERE " S_IN_PERIOD("received_on") " GROUP BY 1, 3";

static const char s_sql_outcomes[] =
    "SELECT COALESCE(office_id, '?'), 'outcome', kind, count(*)"
    " FROM outcome WHERE " S_IN_PERIOD("adopted_on") " GROUP BY 1, 3";

/* An action that counts (not cancelled) and one that is done. */
#define S_ACT_COUNTS "(a.id IS NOT NULL AND a.status IS NOT 'cancelled')"
#define S_ACT_DONE "(a.status IS 'done' OR a.done_on IS NOT NULL)"

/* Plans and their actions' progress, one row per plan. */
static const char s_sql_plans[] =
    "SELECT p.id, COALESCE(p.office_id, '?') AS office, c.name AS cig,"
    " p.objective AS objective, p.status,"
    " SUM(CASE WHEN " S_ACT_COUNTS " THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN " S_ACT_COUNTS " AND " S_ACT_DONE " THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN " S_ACT_COUNTS " AND NOT " S_ACT_DONE
    " AND a.planned_on < ?3 THEN 1 ELSE 0 END)"
    " FROM plan p LEFT JOIN cig c ON c.id = p.cig_id"
    " LEFT JOIN action a ON a.plan_id = p.id"
    " WHERE " S_PLAN_OVERLAPS
    " GROUP BY p.id ORDER BY office, cig, objective, p.id";

/* Every office row's code and name (Russian, else Kyrgyz, else English);
   the first row of a code wins. */
static const char s_sql_offices[] =
    "SELECT code, COALESCE(name_ru, name_ky, name_en) FROM office"
    " WHERE code IS NOT NULL ORDER BY code, id";

/* Plan columns of s_sql_plans. */
enum s_plan_col {
    S_PC_ID,
    S_PC_OFFICE,
    S_PC_CIG,
    S_PC_OBJECTIVE,
    S_PC_STATUS,
    S_PC_PLANNED,
    S_PC_DONE,
    S_PC_OVERDUE
};

/* Tally columns of the indicator statements. */
enum s_tally_col { S_TC_OFFICE, S_TC_WHAT, S_TC_KEY, S_TC_COUNT };

/* ---- building the report ----------------------------------------------- */

/* Returns a malloc'd copy of column i, or NULL for NULL. */
static char *
s_column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    if (t == NULL)
        return NULL;
    return cs_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

/* Returns column i as a count (negative or NULL: 0). */
static uint64_t
s_column_count(sqlite3_stmt *st, int i)
{
    sqlite3_int64 n = sqlite3_column_int64(st, i);

    return n > 0 ? (uint64_t)n : 0;
}

/* Returns office code's entry in rep, adding it (with name, may be NULL)
   if it is new. */
static struct cs_report_office *
s_office(struct cs_report *rep, const char *code, const char *name)
{
    struct cs_report_office *o;

    for (size_t i = 0; i < rep->noffices; i++)
        if (strcmp(rep->offices[i].code, code) == 0)
            return &rep->offices[i];
    rep->offices =
        cs_xrealloc(rep->offices, (rep->noffices + 1) * sizeof *rep->offices);
    o = &rep->offices[rep->noffices++];
    memset(o, 0, sizeof *o);
    o->code = cs_xstrdup(code);
    o->name = name != NULL ? cs_xstrdup(name) : NULL;
    return o;
}

/* Prints the error line for a failed query and returns its CS_ERR_*. */
static int
s_db_error(sqlite3 *db, int rc)
{
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        cs_out_error("%s", CS_OUT_LOCKED_MSG);
        return CS_ERR_LOCKED;
    }
    cs_out_error("cannot compute the report: %s", sqlite3_errmsg(db));
    return CS_ERR_DB;
}

/* Prepares sql with the parameters of rep's query bound. */
static int
s_prepare(sqlite3 *db, const struct cs_report *rep, const char *sql,
          sqlite3_stmt **out)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *out = NULL;
    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
        return s_db_error(db, rc);
    if (rep->q.from[0] != '\0') {
        sqlite3_bind_text(st, S_P_FROM, rep->q.from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, S_P_TO, rep->q.to, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, S_P_AS_OF, rep->q.as_of, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, S_P_AGE_YEAR, rep->age_year);
    *out = st;
    return 0;
}

/* Adds one (what, key, count) row to counts n. */
static void
s_tally_row(struct cs_report_counts *n, const char *what, const char *key,
            uint64_t count)
{
    if (strcmp(what, "trained") == 0)
        n->trained += count;
    else if (strcmp(what, "sex") == 0)
        n->trained_sex[s_key_index(CS_REPORT_SEX, key)] += count;
    else if (strcmp(what, "age") == 0)
        n->trained_age[s_key_index(CS_REPORT_AGE, key)] += count;
    else if (strcmp(what, "vuln") == 0)
        n->trained_vuln[s_key_index(CS_REPORT_VULN, key)] += count;
    else if (strcmp(what, "cigs") == 0)
        n->cigs += count;
    else if (strcmp(what, "letters") == 0)
        n->letters += count;
    else if (strcmp(what, "response") == 0) {
        n->responses += count;
        n->response[s_key_index(CS_REPORT_RESPONSE, key)] += count;
    } else if (strcmp(what, "outcome") == 0) {
        n->outcomes += count;
        n->outcome[s_key_index(CS_REPORT_OUTCOME, key)] += count;
    }
}

/* Runs one indicator statement and adds its rows to rep's offices. */
static int
s_tally(sqlite3 *db, struct cs_report *rep, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(db, rep, sql, &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *office = (const char *)sqlite3_column_text(st, S_TC_OFFICE);
        const char *what = (const char *)sqlite3_column_text(st, S_TC_WHAT);
        const char *key = (const char *)sqlite3_column_text(st, S_TC_KEY);
        struct cs_report_office *o =
            s_office(rep, office != NULL ? office : CS_REPORT_NO_OFFICE, NULL);
        if (what != NULL)
            s_tally_row(&o->n, what, key, s_column_count(st, S_TC_COUNT));
    }
    if (rc != SQLITE_DONE)
        r = s_db_error(db, rc);
    sqlite3_finalize(st);
    return r;
}

static int
s_offices(sqlite3 *db, struct cs_report *rep)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(db, rep, s_sql_offices, &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        (void)s_office(rep, (const char *)sqlite3_column_text(st, 0),
                       (const char *)sqlite3_column_text(st, 1));
    if (rc != SQLITE_DONE)
        r = s_db_error(db, rc);
    sqlite3_finalize(st);
    return r;
}

static int
s_plans(sqlite3 *db, struct cs_report *rep)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int r, rc;

    if ((r = s_prepare(db, rep, s_sql_plans, &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_report_plan *p;
        struct cs_report_office *o;
        if (rep->nplans == cap) {
            cap = cap ? cap * 2 : S_PLANS_FIRST;
            rep->plans = cs_xrealloc(rep->plans, cap * sizeof *rep->plans);
        }
        p = &rep->plans[rep->nplans++];
        p->id = s_column_dup(st, S_PC_ID);
        p->office = s_column_dup(st, S_PC_OFFICE);
        p->cig = s_column_dup(st, S_PC_CIG);
        p->objective = s_column_dup(st, S_PC_OBJECTIVE);
        p->status = s_column_dup(st, S_PC_STATUS);
        p->planned = s_column_count(st, S_PC_PLANNED);
        p->done = s_column_count(st, S_PC_DONE);
        p->overdue = s_column_count(st, S_PC_OVERDUE);
        if (p->id == NULL || p->office == NULL) {
            r = CS_ERR_DB; /* the primary key and COALESCE are not NULL */
            cs_out_error("cannot compute the report: a plan without id");
            break;
        }
        o = s_office(rep, p->office, NULL);
        o->n.actions_planned += p->planned;
        o->n.actions_done += p->done;
        o->n.actions_overdue += p->overdue;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_db_error(db, rc);
    sqlite3_finalize(st);
    return r;
}

static void
s_plan_free(struct cs_report_plan *p)
{
    free(p->id);
    free(p->office);
    free(p->cig);
    free(p->objective);
    free(p->status);
}

static void
s_office_free(struct cs_report_office *o)
{
    free(o->code);
    free(o->name);
}

static int
s_office_cmp(const void *a, const void *b)
{
    const struct cs_report_office *x = a, *y = b;

    return strcmp(x->code, y->code);
}

static void
s_add_array(uint64_t *dst, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
}

static void
s_counts_add(struct cs_report_counts *dst, const struct cs_report_counts *src)
{
    dst->trained += src->trained;
    s_add_array(dst->trained_sex, src->trained_sex, CS_REPORT_SEXES);
    s_add_array(dst->trained_age, src->trained_age, CS_REPORT_AGES);
    s_add_array(dst->trained_vuln, src->trained_vuln, CS_REPORT_VULNS);
    dst->cigs += src->cigs;
    dst->letters += src->letters;
    dst->responses += src->responses;
    s_add_array(dst->response, src->response, CS_REPORT_RESPONSES);
    dst->outcomes += src->outcomes;
    s_add_array(dst->outcome, src->outcome, CS_REPORT_OUTCOMES);
    dst->actions_planned += src->actions_planned;
    dst->actions_done += src->actions_done;
    dst->actions_overdue += src->actions_overdue;
}

/* Keeps only office code (which must be among rep's) and its plans. */
static void
s_keep_office(struct cs_report *rep, const char *code)
{
    size_t kept = 0;

    for (size_t i = 0; i < rep->noffices; i++) {
        if (strcmp(rep->offices[i].code, code) == 0)
            rep->offices[kept++] = rep->offices[i];
        else
            s_office_free(&rep->offices[i]);
    }
    rep->noffices = kept;
    kept = 0;
    for (size_t i = 0; i < rep->nplans; i++) {
        if (strcmp(rep->plans[i].office, code) == 0)
            rep->plans[kept++] = rep->plans[i];
        else
            s_plan_free(&rep->plans[i]);
    }
    rep->nplans = kept;
}

/* Prints the error for an --office that the replica does not know. */
static int
s_unknown_office(const struct cs_report *rep, const char *code)
{
    struct cs_out_buf b;
    char *list, *q = cs_out_quote(code);

    cs_out_buf_open(&b);
    for (size_t i = 0; i < rep->noffices; i++)
        fprintf(b.f, "%s%s", i ? ", " : "", rep->offices[i].code);
    list = cs_out_buf_close(&b);
    cs_out_error("report: unknown office %s (offices in this replica: %s)", q,
                 list[0] != '\0' ? list : "none");
    free(list);
    free(q);
    return CS_ERR_USAGE;
}

/* Runs every statement; the caller holds the read transaction. */
static int
s_compute(sqlite3 *db, struct cs_report *rep, const char *home)
{
    static const char *const tallies[] = {s_sql_trained, s_sql_cigs,
                                          s_sql_letters, s_sql_responses,
                                          s_sql_outcomes};
    int r;

    if ((r = s_offices(db, rep)) != 0)
        return r;
    if (home != NULL)
        (void)s_office(rep, home, NULL);
    for (size_t i = 0; i < sizeof tallies / sizeof *tallies; i++)
        if ((r = s_tally(db, rep, tallies[i])) != 0)
            return r;
    return s_plans(db, rep);
}

int
cs_report_new(struct cs_store *s, const struct cs_report_query *q,
              struct cs_report **out)
{
    sqlite3 *db = cs_store_db(s);
    struct cs_report *rep = cs_xcalloc(1, sizeof *rep);
    bool in_txn = false;
    int r, rc;

    *out = NULL;
    rep->q = *q;
    rep->q.office = NULL;
    rep->q.home = NULL;
    rep->office = q->office != NULL ? cs_xstrdup(q->office) : NULL;
    rep->age_year = (int)s_digits(q->as_of, S_DATE_DASH1);
    /* One read transaction: every indicator sees the same replica, even
       while a daemon applies changes. */
    if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
        r = s_db_error(db, rc);
        goto out;
    }
    in_txn = true;
    if ((r = s_compute(db, rep, q->home)) != 0)
        goto out;
    qsort(rep->offices, rep->noffices, sizeof *rep->offices, s_office_cmp);
    if (q->office != NULL) {
        bool known = false;
        for (size_t i = 0; i < rep->noffices; i++)
            known = known || strcmp(rep->offices[i].code, q->office) == 0;
        if (!known) {
            r = s_unknown_office(rep, q->office);
            goto out;
        }
        s_keep_office(rep, q->office);
    }
    for (size_t i = 0; i < rep->noffices; i++)
        s_counts_add(&rep->total, &rep->offices[i].n);
    *out = rep;
    rep = NULL;
    r = 0;
out:
    if (in_txn)
        (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    cs_report_destroy(&rep);
    return r;
}

void
cs_report_destroy(struct cs_report **repp)
{
    struct cs_report *rep;

    if (repp == NULL || *repp == NULL)
        return;
    rep = *repp;
    for (size_t i = 0; i < rep->noffices; i++)
        s_office_free(&rep->offices[i]);
    for (size_t i = 0; i < rep->nplans; i++)
        s_plan_free(&rep->plans[i]);
    free(rep->offices);
    free(rep->plans);
    free(rep->office);
    free(rep);
    *repp = NULL;
}
