/*  client/report.h - the programme's indicators, computed from a replica.
 *
 *  `cigsync report` (cmd_report.c) asks this module for the indicators of
 *  DOMAIN.md "What the central office reports" and hands the result to
 *  report_out.h, which prints it as text, CSV, JSON or HTML.  All the
 *  counting is here, in SQL over the replica's plain tables, so that the
 *  four formats cannot disagree; nothing here formats for people.
 *
 *  The replica is all there is: a regional office reports on what it
 *  holds, the central office on everything.  Deleted records are gone from
 *  the tables (`cigsync rm` removes the row; its tombstone lives in zz_*),
 *  so they never count.  References are plain text and may dangle.
 *
 *  The definitions (README.md "Reports" says the same for people):
 *
 *    period     FROM..TO, both days included.  Without one, every record
 *               counts whatever its date; with one, a record whose date is
 *               missing does not count.
 *    as of      the report date: TO, or today without a period.
 *    trained    distinct persons with an attendance with completed = 1 at
 *               an event of kind training whose start_on is in the period.
 *               A person counts once in the total and once in each cell
 *               of each breakdown, however many trainings they completed:
 *               sex (female, male, unknown); age band from birth_year, age
 *               = year of the report date - birth_year; vulnerability
 *               category (once in each category recorded for them, or in
 *               "none recorded"); office: the person's office_id, or the
 *               attendance's when the person record is missing.
 *    cigs       distinct cig_id of plans whose status is active or later
 *               (active, in_progress, achieved, partially_achieved,
 *               not_achieved: schema.sql; not draft, not dropped) and
 *               whose start_on..end_on overlaps the period (a missing end
 *               is open); office: the CIG's, else the plan's.
 *    letters    letters that reached `sent`: sent_on set, or status sent,
 *               answered or closed; with a period, sent_on in it.
 *    responses  letter_response rows with received_on in the period, by
 *               kind (NULL kind: unknown).
 *    outcomes   outcome rows with adopted_on in the period, by kind.
 *    actions    of the plans whose dates overlap the period (any status):
 *               planned = actions not cancelled; done = those with status
 *               done or a done_on; overdue = planned, not done, planned_on
 *               before the report date.  Per plan and per plan's office.
 *
 *  Office codes in the result: every office row's code, every office_id
 *  met while counting and this node's own office; "?" stands for a
 *  missing office_id.
 */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "store.h"

#define CS_REPORT_DATE_LEN 10   /* "YYYY-MM-DD", bytes without the NUL */
#define CS_REPORT_NO_OFFICE "?" /* office code of rows with no office_id */

/* The breakdowns, each a closed list of keys (cs_report_key()). */
enum cs_report_dim {
    CS_REPORT_SEX,      /* person.sex */
    CS_REPORT_AGE,      /* age band */
    CS_REPORT_VULN,     /* vulnerability.category, or none recorded */
    CS_REPORT_RESPONSE, /* letter_response.kind */
    CS_REPORT_OUTCOME,  /* outcome.kind */
    CS_REPORT_DIMS      /* number of breakdowns */
};

/* Number of keys of each breakdown: the sizes of the arrays below. */
#define CS_REPORT_SEXES 3     /* female, male, unknown */
#define CS_REPORT_AGES 6      /* under 18, 18-29, 30-44, 45-59, 60+, unknown */
#define CS_REPORT_VULNS 8     /* schema's 7 categories, none recorded */
#define CS_REPORT_RESPONSES 6 /* schema's 5 kinds, unknown */
#define CS_REPORT_OUTCOMES 5  /* schema's 4 kinds, unknown */

/* What one office (or all of them) counts. */
struct cs_report_counts {
    uint64_t trained;                       /* distinct persons trained */
    uint64_t trained_sex[CS_REPORT_SEXES];  /* ... by sex */
    uint64_t trained_age[CS_REPORT_AGES];   /* ... by age band */
    uint64_t trained_vuln[CS_REPORT_VULNS]; /* ... by category */
    uint64_t cigs;                          /* CIGs engaged in advocacy */
    uint64_t letters;                       /* letters sent */
    uint64_t responses;                     /* responses received */
    uint64_t response[CS_REPORT_RESPONSES]; /* ... by kind */
    uint64_t outcomes;                      /* outcomes adopted */
    uint64_t outcome[CS_REPORT_OUTCOMES];   /* ... by kind */
    uint64_t actions_planned;               /* actions not cancelled */
    uint64_t actions_done;                  /* ... done */
    uint64_t actions_overdue;               /* ... due before as_of, not done */
};

/* One office's line. */
struct cs_report_office {
    char *code;                /* office code, or CS_REPORT_NO_OFFICE */
    char *name;                /* its name (office row), NULL if unknown */
    struct cs_report_counts n; /* its numbers */
};

/* One plan's progress. */
struct cs_report_plan {
    char *id;         /* plan id */
    char *office;     /* plan's office code */
    char *cig;        /* its CIG's name, NULL if unknown */
    char *objective;  /* its objective, NULL if none */
    char *status;     /* its status, NULL if none */
    uint64_t planned; /* actions not cancelled */
    uint64_t done;    /* ... done */
    uint64_t overdue; /* ... overdue */
};

/* What to report on. */
struct cs_report_query {
    char from[CS_REPORT_DATE_LEN + 1];  /* first day, "" for no period */
    char to[CS_REPORT_DATE_LEN + 1];    /* last day, "" for no period */
    char as_of[CS_REPORT_DATE_LEN + 1]; /* report date: to, or today */
    const char *office; /* report on this office code only, or NULL */
    const char *home;   /* this node's office code, always known, or NULL */
};

/* The indicators; filled by cs_report_new(), read by report_out.h. */
struct cs_report {
    struct cs_report_query q;         /* as asked (office, home: NULL) */
    char *office;                     /* the --office code, or NULL */
    int age_year;                     /* ages are reckoned in this year */
    struct cs_report_office *offices; /* by code; only --office if given */
    size_t noffices;                  /* their number */
    struct cs_report_counts total;    /* sums of offices[] */
    struct cs_report_plan *plans;     /* by office, CIG, objective, id */
    size_t nplans;                    /* their number */
};

/* Returns the number of keys of breakdown dim (CS_REPORT_SEXES, ...). */
size_t cs_report_dim_size(enum cs_report_dim dim);

/* Returns key i of breakdown dim: the schema's value ("female",
   "budget_allocation"), or "unknown", "none", "under_18", "18_29", ...
   Static text; i must be below cs_report_dim_size(dim) (asserted). */
const char *cs_report_key(enum cs_report_dim dim, size_t i);

/* Returns key i's label for people ("under 18", "none recorded",
   "budget allocation"); static text, i as for cs_report_key(). */
const char *cs_report_label(enum cs_report_dim dim, size_t i);

/* Returns the counts of breakdown dim in n: an array of
   cs_report_dim_size(dim) numbers, owned by n. */
const uint64_t *cs_report_counts_of(const struct cs_report_counts *n,
                                    enum cs_report_dim dim) CS_NONNULL(1);

/* Returns true if s is a calendar date written YYYY-MM-DD (ISO 8601, the
   form every date in the replica has). */
bool cs_report_date_valid(const char *s) CS_NONNULL(1);

/* Parses a period "FROM..TO" into q->from, q->to and q->as_of (= TO).
   Prints nothing.  Returns 0; CS_ERR_FORMAT if it is not two dates
   YYYY-MM-DD joined by ".."; CS_ERR_INVALID if FROM is after TO.  On
   failure q is unchanged. */
int cs_report_period(const char *arg, struct cs_report_query *q) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Writes today's local date as YYYY-MM-DD into out. */
void cs_report_today(char out[CS_REPORT_DATE_LEN + 1]) CS_NONNULL(1);

/* Computes the indicators from the replica in one read transaction.
     s    the open replica
     q    what to report on; q->as_of must be a date (cs_report_today())
     out  receives the report, owned by the caller (cs_report_destroy())
   Returns 0; CS_ERR_USAGE if q->office is not an office of the replica;
   CS_ERR_LOCKED; CS_ERR_DB.  Prints the one error line (out.h) on
   failure; *out is then NULL. */
int cs_report_new(struct cs_store *s, const struct cs_report_query *q,
                  struct cs_report **out) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Frees the report and sets *rep to NULL; nothing if *rep is NULL. */
void cs_report_destroy(struct cs_report **rep);

#endif
