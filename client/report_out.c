/*  client/report_out.c - `cigsync report` as text, CSV, JSON or HTML; see
 *  report_out.h.
 *
 *  Text, CSV and HTML print the same tables: s_tables_build() turns the
 *  report into rows of cells once (raw UTF-8, numbers marked), and each
 *  format escapes and lays them out its own way.  HTML adds the charts,
 *  drawn from the report itself.  JSON is written from the report struct.
 */
#include "prelude.h"

#include "grid.h"
#include "json.h"
#include "out.h"
#include "report_out.h"
#include "text.h"

#define S_BOM "\xef\xbb\xbf"         /* UTF-8 byte order mark, for Excel */
#define S_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, for invalid UTF-8 */
#define S_PERCENT 100                /* done / planned as a percentage */
#define S_CELLS_FIRST 32             /* cells allocated at first */
#define S_C0_END 0x20                /* code points below are controls */
#define S_DEL 0x7f                   /* the DEL control */
#define S_TOTAL_CODE "all"           /* office column of the total row */
#define S_TOTAL_NAME "all offices"   /* its name column */
#define S_NO_NAME "(no office)"      /* name shown for CS_REPORT_NO_OFFICE */

/* ---- text from the replica --------------------------------------------- */

/* Writes s with every byte that is not well-formed UTF-8 replaced by
   U+FFFD, so every format's output is valid UTF-8. */
static void
s_utf8(FILE *f, const char *s)
{
    size_t len = strlen(s), n;
    uint32_t cp;

    for (size_t i = 0; i < len; i += n ? n : 1) {
        n = cs_text_next(s, len, i, &cp);
        if (n == 0)
            fputs(S_REPLACEMENT, f);
        else
            fwrite(s + i, 1, n, f);
    }
}

/* Returns s made safe for a terminal (text.h), malloc'd. */
static char *
s_term(const char *s)
{
    struct cs_out_buf b;

    cs_out_buf_open(&b);
    cs_text_escape(b.f, s, strlen(s), false);
    return cs_out_buf_close(&b);
}

/* Writes s as HTML text or attribute value: & < > " ' as references,
   controls (but tab and line ends) and invalid UTF-8 as U+FFFD. */
static void
s_html(FILE *f, const char *s)
{
    size_t len = strlen(s), n;
    uint32_t cp;

    for (size_t i = 0; i < len; i += n ? n : 1) {
        n = cs_text_next(s, len, i, &cp);
        if (n == 0 || cp == S_DEL ||
            (cp < S_C0_END && cp != '\t' && cp != '\n' && cp != '\r')) {
            fputs(S_REPLACEMENT, f);
            continue;
        }
        switch (cp) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fwrite(s + i, 1, n, f);
            break;
        }
    }
}

/* ---- the tables -------------------------------------------------------- */

/* One cell: text, and whether it is a number (aligned right in HTML,
   never guarded against formulas in CSV). */
struct s_cell {
    char *text; /* UTF-8, owned; from the replica or ours */
    bool num;   /* a number we wrote */
};

/* One table: a header row, then rows. */
struct s_table {
    const char *key;      /* section name (CSV, HTML ids) */
    const char *title;    /* heading for people */
    size_t ncols;         /* cells per row */
    struct s_cell *cells; /* row-major, the header first */
    size_t ncells;        /* cells added */
    size_t cap;           /* cells allocated */
    bool total;           /* the last row is the total of the others */
};

/* The tables, in the order every format shows them. */
enum s_table_id {
    S_T_SEX,       /* people trained by office and sex */
    S_T_AGE,       /* ... and age band */
    S_T_VULN,      /* ... and vulnerability */
    S_T_CIGS,      /* CIGs engaged by office */
    S_T_LETTERS,   /* letters sent by office */
    S_T_RESPONSES, /* responses by office and kind */
    S_T_OUTCOMES,  /* outcomes by office and kind */
    S_T_ACTIONS,   /* actions by office */
    S_T_PLANS,     /* progress per plan */
    S_NTABLES      /* number of tables */
};

static void
s_cell(struct s_table *t, const char *text, bool num)
{
    if (t->ncells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : S_CELLS_FIRST;
        t->cells = cs_xrealloc(t->cells, t->cap * sizeof *t->cells);
    }
    t->cells[t->ncells].text = cs_xstrdup(text != NULL ? text : "");
    t->cells[t->ncells].num = num;
    t->ncells++;
}

static void
s_cell_uint(struct s_table *t, uint64_t n)
{
    char buf[sizeof "18446744073709551615"];

    snprintf(buf, sizeof buf, "%" PRIu64, n);
    s_cell(t, buf, true);
}

/* done / planned in whole percent, rounded; "-" when nothing is planned. */
static void
s_cell_percent(struct s_table *t, uint64_t done, uint64_t planned)
{
    char buf[sizeof "18446744073709551615%"];

    if (planned == 0) {
        s_cell(t, "-", true);
        return;
    }
    snprintf(buf, sizeof buf, "%" PRIu64 "%%",
             (done * S_PERCENT + planned / 2) / planned);
    s_cell(t, buf, true);
}

static size_t
s_table_rows(const struct s_table *t)
{
    return t->ncells / t->ncols;
}

static const struct s_cell *
s_table_at(const struct s_table *t, size_t row, size_t col)
{
    return &t->cells[row * t->ncols + col];
}

static void
s_table_free(struct s_table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i].text);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* Adds a breakdown's numbers, in its key order. */
static void
s_cells_dim(struct s_table *t, const struct cs_report_counts *n,
            enum cs_report_dim dim)
{
    const uint64_t *v = cs_report_counts_of(n, dim);

    for (size_t i = 0; i < cs_report_dim_size(dim); i++)
        s_cell_uint(t, v[i]);
}

static void
s_fill_sex(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->trained);
    s_cells_dim(t, n, CS_REPORT_SEX);
}

static void
s_fill_age(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->trained);
    s_cells_dim(t, n, CS_REPORT_AGE);
}

static void
s_fill_vuln(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->trained);
    s_cells_dim(t, n, CS_REPORT_VULN);
}

static void
s_fill_cigs(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->cigs);
}

static void
s_fill_letters(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->letters);
}

static void
s_fill_responses(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->responses);
    s_cells_dim(t, n, CS_REPORT_RESPONSE);
}

static void
s_fill_outcomes(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->outcomes);
    s_cells_dim(t, n, CS_REPORT_OUTCOME);
}

static void
s_fill_actions(struct s_table *t, const struct cs_report_counts *n)
{
    s_cell_uint(t, n->actions_planned);
    s_cell_uint(t, n->actions_done);
    s_cell_percent(t, n->actions_done, n->actions_planned);
    s_cell_uint(t, n->actions_overdue);
}

/* A table with a row per office and a total row. */
struct s_office_table {
    const char *key;   /* s_table.key */
    const char *title; /* s_table.title */
    const char *first; /* header of the first number column */
    int dim;           /* breakdown whose labels head the next ones, or -1 */
    const char *const *more; /* headers after those, NULL-terminated */
    void (*fill)(struct s_table *t, const struct cs_report_counts *n);
};

/* Actions' columns after "planned" (s_fill_actions()). */
static const char *const s_action_heads[] = {"done", "done %", "overdue", NULL};
/* Columns that name the office, before the numbers. */
static const char *const s_office_heads[] = {"office", "office name", NULL};

static const struct s_office_table s_office_tables[] = {
    [S_T_SEX] = {"trained_by_sex", "People trained, by sex", "trained",
                 CS_REPORT_SEX, NULL, s_fill_sex},
    [S_T_AGE] = {"trained_by_age", "People trained, by age band", "trained",
                 CS_REPORT_AGE, NULL, s_fill_age},
    [S_T_VULN] = {"trained_by_vulnerability",
                  "People trained, by vulnerability (a person counts once in "
                  "each category recorded for them)",
                  "trained", CS_REPORT_VULN, NULL, s_fill_vuln},
    [S_T_CIGS] = {"cigs_engaged",
                  "CIGs engaged in advocacy (a plan active or later)",
                  "CIGs engaged", -1, NULL, s_fill_cigs},
    [S_T_LETTERS] = {"letters_sent", "Letters sent to authorities",
                     "letters sent", -1, NULL, s_fill_letters},
    [S_T_RESPONSES] = {"responses", "Responses received, by kind", "responses",
                       CS_REPORT_RESPONSE, NULL, s_fill_responses},
    [S_T_OUTCOMES] = {"outcomes", "Outcomes adopted, by kind", "outcomes",
                      CS_REPORT_OUTCOME, NULL, s_fill_outcomes},
    [S_T_ACTIONS] = {"actions", "Plan actions", "planned", -1, s_action_heads,
                     s_fill_actions},
};

/* Adds the header cells heads (NULL-terminated). */
static void
s_heads(struct s_table *t, const char *const *heads)
{
    for (size_t i = 0; heads != NULL && heads[i] != NULL; i++)
        s_cell(t, heads[i], false);
}

static void
s_build_office_table(struct s_table *t, const struct cs_report *rep,
                     enum s_table_id id)
{
    const struct s_office_table *d = &s_office_tables[id];

    t->key = d->key;
    t->title = d->title;
    t->total = true;
    s_heads(t, s_office_heads);
    s_cell(t, d->first, false);
    for (size_t i = 0;
         d->dim >= 0 && i < cs_report_dim_size((enum cs_report_dim)d->dim); i++)
        s_cell(t, cs_report_label((enum cs_report_dim)d->dim, i), false);
    s_heads(t, d->more);
    t->ncols = t->ncells; /* the header row is complete */
    for (size_t i = 0; i < rep->noffices; i++) {
        const struct cs_report_office *o = &rep->offices[i];
        s_cell(t, o->code, false);
        s_cell(t,
               strcmp(o->code, CS_REPORT_NO_OFFICE) == 0 ? S_NO_NAME : o->name,
               false);
        d->fill(t, &o->n);
    }
    s_cell(t, S_TOTAL_CODE, false);
    s_cell(t, S_TOTAL_NAME, false);
    d->fill(t, &rep->total);
}

static void
s_build_plans(struct s_table *t, const struct cs_report *rep)
{
    static const char *const heads[] = {"office", "CIG",     "objective",
                                        "status", "planned", "done",
                                        "done %", "overdue", NULL};

    t->key = "plans";
    t->title = "Progress of each plan";
    s_heads(t, heads);
    t->ncols = t->ncells;
    for (size_t i = 0; i < rep->nplans; i++) {
        const struct cs_report_plan *p = &rep->plans[i];
        s_cell(t, p->office, false);
        s_cell(t, p->cig, false);
        s_cell(t, p->objective, false);
        s_cell(t, p->status, false);
        s_cell_uint(t, p->planned);
        s_cell_uint(t, p->done);
        s_cell_percent(t, p->done, p->planned);
        s_cell_uint(t, p->overdue);
    }
}

static void
s_tables_build(struct s_table tables[S_NTABLES], const struct cs_report *rep)
{
    memset(tables, 0, S_NTABLES * sizeof *tables);
    for (size_t i = 0; i < S_T_PLANS; i++)
        s_build_office_table(&tables[i], rep, (enum s_table_id)i);
    s_build_plans(&tables[S_T_PLANS], rep);
}

static void
s_tables_free(struct s_table tables[S_NTABLES])
{
    for (size_t i = 0; i < S_NTABLES; i++)
        s_table_free(&tables[i]);
}

/* ---- what the report is about ------------------------------------------ */

/* Writes the period for people: "FROM..TO" or "all dates". */
static void
s_period(FILE *f, const struct cs_report *rep)
{
    if (rep->q.from[0] == '\0')
        fputs("all dates", f);
    else
        fprintf(f, "%s..%s", rep->q.from, rep->q.to);
}

/* ---- text -------------------------------------------------------------- */

static void
s_text_table(FILE *f, const struct s_table *t)
{
    struct cs_grid *g = cs_grid_new(t->ncols);

    fprintf(f, "\n%s\n", t->title);
    for (size_t i = 0; i < t->ncells; i++) {
        char *cell = s_term(t->cells[i].text);
        cs_grid_add(g, cell);
        free(cell);
    }
    cs_grid_print(g, f);
    cs_grid_destroy(&g);
}

static void
s_text(const struct cs_report *rep, const struct s_table tables[S_NTABLES],
       FILE *f)
{
    fputs("cigsync report\nperiod   ", f);
    s_period(f, rep);
    fprintf(f, "\nas of    %s (ages reckoned in %d)\noffices  ", rep->q.as_of,
            rep->age_year);
    if (rep->office != NULL)
        fputs(rep->office, f); /* a checked code: A-Z 0-9 */
    else
        fputs("all", f);
    fputc('\n', f);
    for (size_t i = 0; i < S_NTABLES; i++)
        s_text_table(f, &tables[i]);
}

/* ---- CSV --------------------------------------------------------------- */

/* Writes one field (RFC 4180): quoted when it holds a comma, a quote or a
   line end, quotes doubled; text that would start a formula gets "'". */
static void
s_csv_field(FILE *f, const char *s, bool num, bool first)
{
    struct cs_out_buf b;
    bool quote;
    char *text;

    if (!first)
        fputc(',', f);
    cs_out_buf_open(&b);
    if (!num && strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
        fputc('\'', b.f);
    s_utf8(b.f, s);
    text = cs_out_buf_close(&b);
    quote = strpbrk(text, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    if (quote)
        fputc('"', f);
    free(text);
}

static void
s_csv_end(FILE *f)
{
    fputs("\r\n", f);
}

static void
s_csv(const struct cs_report *rep, const struct s_table tables[S_NTABLES],
      FILE *f)
{
    struct cs_out_buf b;
    char *period;

    cs_out_buf_open(&b);
    s_period(b.f, rep);
    period = cs_out_buf_close(&b);
    fputs(S_BOM, f);
    s_csv_field(f, "cigsync report", false, true);
    s_csv_end(f);
    s_csv_field(f, "item", false, true);
    s_csv_field(f, "value", false, false);
    s_csv_end(f);
    s_csv_field(f, "period", false, true);
    s_csv_field(f, period, false, false);
    s_csv_end(f);
    s_csv_field(f, "as of", false, true);
    s_csv_field(f, rep->q.as_of, false, false);
    s_csv_end(f);
    s_csv_field(f, "offices", false, true);
    s_csv_field(f, rep->office != NULL ? rep->office : "all", false, false);
    s_csv_end(f);
    free(period);
    for (size_t i = 0; i < S_NTABLES; i++) {
        const struct s_table *t = &tables[i];
        s_csv_end(f);
        s_csv_field(f, t->title, false, true);
        s_csv_end(f);
        for (size_t k = 0; k < t->ncells; k++) {
            s_csv_field(f, t->cells[k].text, t->cells[k].num,
                        k % t->ncols == 0);
            if (k % t->ncols == t->ncols - 1)
                s_csv_end(f);
        }
    }
}

/* ---- JSON -------------------------------------------------------------- */

static void
s_json_dim(struct cs_json *j, const char *key, const struct cs_report_counts *n,
           enum cs_report_dim dim)
{
    const uint64_t *v = cs_report_counts_of(n, dim);

    cs_json_key(j, key);
    cs_json_object_begin(j);
    for (size_t i = 0; i < cs_report_dim_size(dim); i++) {
        cs_json_key(j, cs_report_key(dim, i));
        cs_json_uint(j, v[i]);
    }
    cs_json_object_end(j);
}

static void
s_json_trained(struct cs_json *j, const struct cs_report_counts *n)
{
    cs_json_key(j, "total");
    cs_json_uint(j, n->trained);
    s_json_dim(j, "by_sex", n, CS_REPORT_SEX);
    s_json_dim(j, "by_age", n, CS_REPORT_AGE);
    s_json_dim(j, "by_vulnerability", n, CS_REPORT_VULN);
}

static void
s_json_kinds(struct cs_json *j, uint64_t total,
             const struct cs_report_counts *n, enum cs_report_dim dim)
{
    cs_json_key(j, "total");
    cs_json_uint(j, total);
    s_json_dim(j, "by_kind", n, dim);
}

static void
s_json_actions(struct cs_json *j, const struct cs_report_counts *n)
{
    cs_json_key(j, "planned");
    cs_json_uint(j, n->actions_planned);
    cs_json_key(j, "done");
    cs_json_uint(j, n->actions_done);
    cs_json_key(j, "overdue");
    cs_json_uint(j, n->actions_overdue);
}

/* Which indicator s_json_indicator() writes. */
enum s_json_part {
    S_J_TRAINED,
    S_J_CIGS,
    S_J_LETTERS,
    S_J_RESPONSES,
    S_J_OUTCOMES,
    S_J_ACTIONS
};

/* Writes one indicator's members for counts n (no enclosing object for
   plain numbers: returns false then, having written nothing). */
static bool
s_json_members(struct cs_json *j, enum s_json_part part,
               const struct cs_report_counts *n)
{
    switch (part) {
    case S_J_TRAINED:
        s_json_trained(j, n);
        return true;
    case S_J_RESPONSES:
        s_json_kinds(j, n->responses, n, CS_REPORT_RESPONSE);
        return true;
    case S_J_OUTCOMES:
        s_json_kinds(j, n->outcomes, n, CS_REPORT_OUTCOME);
        return true;
    case S_J_ACTIONS:
        s_json_actions(j, n);
        return true;
    default:
        return false;
    }
}

/* Writes the number of a plain-number indicator. */
static void
s_json_number(struct cs_json *j, enum s_json_part part,
              const struct cs_report_counts *n)
{
    cs_json_uint(j, part == S_J_CIGS ? n->cigs : n->letters);
}

/* Writes "key": {totals..., "by_office": {CODE: ..., ...}}. */
static void
s_json_indicator(struct cs_json *j, const struct cs_report *rep,
                 const char *key, enum s_json_part part)
{
    cs_json_key(j, key);
    cs_json_object_begin(j);
    if (!s_json_members(j, part, &rep->total)) {
        cs_json_key(j, "total");
        s_json_number(j, part, &rep->total);
    }
    cs_json_key(j, "by_office");
    cs_json_object_begin(j);
    for (size_t i = 0; i < rep->noffices; i++) {
        const struct cs_report_office *o = &rep->offices[i];
        cs_json_key(j, o->code);
        if (part == S_J_CIGS || part == S_J_LETTERS) {
            s_json_number(j, part, &o->n);
            continue;
        }
        cs_json_object_begin(j);
        (void)s_json_members(j, part, &o->n);
        cs_json_object_end(j);
    }
    cs_json_object_end(j);
    cs_json_object_end(j);
}

static void
s_json_str_or_null(struct cs_json *j, const char *key, const char *s)
{
    cs_json_key(j, key);
    if (s != NULL)
        cs_json_str(j, s);
    else
        cs_json_null(j);
}

static void
s_json(const struct cs_report *rep, FILE *f)
{
    struct cs_json j;

    cs_json_init(&j, f);
    cs_json_object_begin(&j);
    cs_json_key(&j, "period");
    if (rep->q.from[0] != '\0') {
        cs_json_object_begin(&j);
        cs_json_key(&j, "from");
        cs_json_str(&j, rep->q.from);
        cs_json_key(&j, "to");
        cs_json_str(&j, rep->q.to);
        cs_json_object_end(&j);
    } else {
        cs_json_null(&j);
    }
    cs_json_key(&j, "as_of");
    cs_json_str(&j, rep->q.as_of);
    cs_json_key(&j, "age_year");
    cs_json_int(&j, rep->age_year);
    s_json_str_or_null(&j, "office", rep->office);
    cs_json_key(&j, "offices");
    cs_json_array_begin(&j);
    for (size_t i = 0; i < rep->noffices; i++) {
        cs_json_object_begin(&j);
        s_json_str_or_null(&j, "code", rep->offices[i].code);
        s_json_str_or_null(&j, "name", rep->offices[i].name);
        cs_json_object_end(&j);
    }
    cs_json_array_end(&j);
    s_json_indicator(&j, rep, "trained", S_J_TRAINED);
    s_json_indicator(&j, rep, "cigs_engaged", S_J_CIGS);
    s_json_indicator(&j, rep, "letters_sent", S_J_LETTERS);
    s_json_indicator(&j, rep, "responses", S_J_RESPONSES);
    s_json_indicator(&j, rep, "outcomes", S_J_OUTCOMES);
    s_json_indicator(&j, rep, "actions", S_J_ACTIONS);
    cs_json_key(&j, "plans");
    cs_json_array_begin(&j);
    for (size_t i = 0; i < rep->nplans; i++) {
        const struct cs_report_plan *p = &rep->plans[i];
        cs_json_object_begin(&j);
        s_json_str_or_null(&j, "id", p->id);
        s_json_str_or_null(&j, "office", p->office);
        s_json_str_or_null(&j, "cig", p->cig);
        s_json_str_or_null(&j, "objective", p->objective);
        s_json_str_or_null(&j, "status", p->status);
        cs_json_key(&j, "planned");
        cs_json_uint(&j, p->planned);
        cs_json_key(&j, "done");
        cs_json_uint(&j, p->done);
        cs_json_key(&j, "overdue");
        cs_json_uint(&j, p->overdue);
        cs_json_object_end(&j);
    }
    cs_json_array_end(&j);
    cs_json_object_end(&j);
    cs_json_finish(&j);
}

/* ---- HTML -------------------------------------------------------------- */

/* The charts' geometry, in CSS pixels, and colours.  Each kind of bar has
   its own fill, unlike anything else on the page, so a test can find the
   bars in a screenshot (tests/cli/report_html_test.sh). */
#define S_SVG_LABEL_W 300       /* label column, right-aligned text */
#define S_SVG_BAR_W 400         /* the longest bar */
#define S_SVG_VALUE_W 200       /* room for the number after a bar */
#define S_SVG_ROW_H 28          /* one bar and its gap */
#define S_SVG_BAR_H 18          /* one bar */
#define S_SVG_PAD 8             /* margins and gaps */
#define S_SVG_BASELINE 5        /* text baseline above a bar's bottom */
#define S_SVG_LABEL_COLS 32     /* longer labels are cut (full text on hover) */
#define S_FILL_OFFICE "#1d6fa5" /* people trained by office */
#define S_FILL_SEX "#b0306a"    /* people trained by sex */
#define S_FILL_DONE "#2e8b57"   /* actions done */
#define S_FILL_TRACK "#d5dde8"  /* actions planned (the whole bar) */
#define S_FILL_OVERDUE "#c0392b" /* "N overdue" text */

static const char s_css[] =
    ":root{color-scheme:light}\n"
    "body{font:14px/1.4 system-ui,'DejaVu Sans',sans-serif;color:#222;"
    "background:#fff;max-width:1040px;margin:24px auto;padding:0 16px}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    "h2{font-size:18px;border-bottom:1px solid #bbb;margin:28px 0 8px}\n"
    ".meta{color:#555;margin:0 0 8px}\n"
    "table{border-collapse:collapse;margin:8px 0 18px}\n"
    "caption{text-align:left;font-weight:600;padding:4px 0}\n"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f2f2f2}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tr.total td{font-weight:600;background:#f7f7f7}\n"
    "figure{margin:8px 0 18px}\n"
    "figcaption{font-weight:600;margin-bottom:4px}\n"
    "svg text{font:13px system-ui,'DejaVu Sans',sans-serif;fill:#222}\n"
    "svg text.overdue{fill:" S_FILL_OVERDUE "}\n"
    "footer{color:#777;font-size:12px;margin-top:32px}\n"
    "@media print{\n"
    "@page{size:A4;margin:15mm}\n"
    "body{max-width:none;margin:0;padding:0;font-size:10pt}\n"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "h2{break-after:avoid}\n"
    "figure,table,tr{break-inside:avoid}\n"
    "}\n";

/* One bar of a chart. */
struct s_bar {
    char *label;    /* UTF-8, owned */
    uint64_t value; /* its length */
};

/* Returns the length in pixels of a bar of value v when max is the
   longest (at least 1). */
static uint64_t
s_bar_px(uint64_t v, uint64_t max)
{
    return (v * S_SVG_BAR_W + max / 2) / max;
}

/* Writes the label of the bar in row y, cut to fit, whole on hover. */
static void
s_svg_label(FILE *f, const char *label, uint64_t y)
{
    char *cut = cs_text_truncate(label, S_SVG_LABEL_COLS);

    fprintf(f, "<text x=\"%d\" y=\"%" PRIu64 "\" text-anchor=\"end\"><title>",
            S_SVG_LABEL_W - S_SVG_PAD, y + S_SVG_BAR_H - S_SVG_BASELINE);
    s_html(f, label);
    fputs("</title>", f);
    s_html(f, cut);
    fputs("</text>\n", f);
    free(cut);
}

/* Opens a figure with an SVG of nrows rows. */
static void
s_svg_begin(FILE *f, const char *id, const char *caption, size_t nrows)
{
    uint64_t w = S_SVG_LABEL_W + S_SVG_BAR_W + S_SVG_VALUE_W;
    uint64_t h = (uint64_t)nrows * S_SVG_ROW_H + 2 * S_SVG_PAD;

    fprintf(f, "<figure id=\"%s\"><figcaption>", id);
    s_html(f, caption);
    fprintf(f,
            "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%" PRIu64 "\" height=\"%" PRIu64 "\" viewBox=\"0 0 "
            "%" PRIu64 " %" PRIu64 "\" role=\"img\" aria-label=\"",
            w, h, w, h);
    s_html(f, caption);
    fputs("\">\n", f);
}

static void
s_svg_end(FILE *f)
{
    fputs("</svg></figure>\n", f);
}

/* A horizontal bar chart: one bar per entry, the longest S_SVG_BAR_W. */
static void
s_svg_bars(FILE *f, const char *id, const char *caption,
           const struct s_bar *bars, size_t n, const char *fill)
{
    uint64_t max = 1;

    for (size_t i = 0; i < n; i++)
        if (bars[i].value > max)
            max = bars[i].value;
    s_svg_begin(f, id, caption, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t y = S_SVG_PAD + (uint64_t)i * S_SVG_ROW_H;
        uint64_t w = s_bar_px(bars[i].value, max);
        s_svg_label(f, bars[i].label, y);
        if (w > 0)
            fprintf(f,
                    "<rect class=\"bar\" x=\"%d\" y=\"%" PRIu64 "\" "
                    "width=\"%" PRIu64 "\" height=\"%d\" fill=\"%s\" "
                    "shape-rendering=\"crispEdges\"/>\n",
                    S_SVG_LABEL_W, y, w, S_SVG_BAR_H, fill);
        fprintf(
            f, "<text x=\"%" PRIu64 "\" y=\"%" PRIu64 "\">%" PRIu64 "</text>\n",
            S_SVG_LABEL_W + w + S_SVG_PAD, y + S_SVG_BAR_H - S_SVG_BASELINE,
            bars[i].value);
    }
    s_svg_end(f);
}

static void
s_bars_free(struct s_bar *bars, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bars[i].label);
    free(bars);
}

/* Bars of people trained per office, then per sex. */
static void
s_html_trained_charts(FILE *f, const struct cs_report *rep)
{
    struct s_bar *bars = cs_xcalloc(rep->noffices + 1, sizeof *bars);

    for (size_t i = 0; i < rep->noffices; i++) {
        const struct cs_report_office *o = &rep->offices[i];
        bars[i].label = o->name != NULL
                            ? cs_xasprintf("%s %s", o->code, o->name)
                            : cs_xstrdup(o->code);
        bars[i].value = o->n.trained;
    }
    s_svg_bars(f, "chart-office", "People trained, by office", bars,
               rep->noffices, S_FILL_OFFICE);
    s_bars_free(bars, rep->noffices);
    bars = cs_xcalloc(CS_REPORT_SEXES, sizeof *bars);
    for (size_t i = 0; i < CS_REPORT_SEXES; i++) {
        bars[i].label = cs_xstrdup(cs_report_label(CS_REPORT_SEX, i));
        bars[i].value = rep->total.trained_sex[i];
    }
    s_svg_bars(f, "chart-sex", "People trained, by sex", bars, CS_REPORT_SEXES,
               S_FILL_SEX);
    s_bars_free(bars, CS_REPORT_SEXES);
}

/* One progress bar per plan: the track is all its actions, the filled
   part those done. */
static void
s_html_progress_chart(FILE *f, const struct cs_report *rep)
{
    if (rep->nplans == 0) {
        fputs("<p>No plans in this period.</p>\n", f);
        return;
    }
    s_svg_begin(f, "chart-progress", "Actions done of planned, per plan",
                rep->nplans);
    for (size_t i = 0; i < rep->nplans; i++) {
        const struct cs_report_plan *p = &rep->plans[i];
        uint64_t y = S_SVG_PAD + (uint64_t)i * S_SVG_ROW_H;
        uint64_t w = p->planned ? s_bar_px(p->done, p->planned) : 0;
        uint64_t ty = y + S_SVG_BAR_H - S_SVG_BASELINE;
        char *label = cs_xasprintf("%s: %s", p->cig ? p->cig : "?",
                                   p->objective ? p->objective : "?");
        s_svg_label(f, label, y);
        free(label);
        fprintf(f,
                "<rect class=\"track\" x=\"%d\" y=\"%" PRIu64 "\" width=\"%d\" "
                "height=\"%d\" fill=\"%s\" shape-rendering=\"crispEdges\"/>\n",
                S_SVG_LABEL_W, y, S_SVG_BAR_W, S_SVG_BAR_H, S_FILL_TRACK);
        if (w > 0)
            fprintf(f,
                    "<rect class=\"done\" x=\"%d\" y=\"%" PRIu64 "\" "
                    "width=\"%" PRIu64 "\" height=\"%d\" fill=\"%s\" "
                    "shape-rendering=\"crispEdges\"/>\n",
                    S_SVG_LABEL_W, y, w, S_SVG_BAR_H, S_FILL_DONE);
        fprintf(
            f,
            "<text x=\"%d\" y=\"%" PRIu64 "\">%" PRIu64 " of %" PRIu64 " done",
            S_SVG_LABEL_W + S_SVG_BAR_W + S_SVG_PAD, ty, p->done, p->planned);
        if (p->overdue > 0)
            fprintf(f,
                    ", <tspan class=\"overdue\" fill=\"%s\">%" PRIu64
                    " overdue</tspan>",
                    S_FILL_OVERDUE, p->overdue);
        fputs("</text>\n", f);
    }
    s_svg_end(f);
}

static void
s_html_table(FILE *f, const struct s_table *t)
{
    size_t rows = s_table_rows(t);

    fprintf(f, "<table id=\"%s\"><caption>", t->key);
    s_html(f, t->title);
    fputs("</caption>\n<thead><tr>", f);
    for (size_t c = 0; c < t->ncols; c++) {
        /* a column is numeric if its first data cell is */
        bool num = rows > 1 && s_table_at(t, 1, c)->num;
        fprintf(f, "<th%s>", num ? " class=\"n\"" : "");
        s_html(f, s_table_at(t, 0, c)->text);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t r = 1; r < rows; r++) {
        fputs(t->total && r == rows - 1 ? "<tr class=\"total\">" : "<tr>", f);
        for (size_t c = 0; c < t->ncols; c++) {
            const struct s_cell *cell = s_table_at(t, r, c);
            fputs(cell->num ? "<td class=\"n\">" : "<td>", f);
            s_html(f, cell->text);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void
s_html_page(const struct cs_report *rep, const struct s_table tables[S_NTABLES],
            FILE *f)
{
    struct cs_out_buf b;
    char *period;

    cs_out_buf_open(&b);
    s_period(b.f, rep);
    period = cs_out_buf_close(&b);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n<title>cigsync report: ",
          f);
    s_html(f, period);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", s_css);
    fputs("<header><h1>Programme indicators</h1>\n<p class=\"meta\">Period: ",
          f);
    s_html(f, period);
    fprintf(f, " &middot; as of %s (ages reckoned in %d) &middot; offices: ",
            rep->q.as_of, rep->age_year);
    s_html(f, rep->office != NULL ? rep->office : "all");
    fputs("</p></header>\n", f);
    free(period);

    fputs("<section id=\"trained\"><h2>People trained</h2>\n", f);
    s_html_trained_charts(f, rep);
    for (size_t i = S_T_SEX; i <= S_T_VULN; i++)
        s_html_table(f, &tables[i]);
    fputs("</section>\n<section id=\"advocacy\"><h2>CIGs engaged in "
          "advocacy</h2>\n",
          f);
    s_html_table(f, &tables[S_T_CIGS]);
    fputs("</section>\n<section id=\"letters\"><h2>Letters to "
          "authorities</h2>\n",
          f);
    for (size_t i = S_T_LETTERS; i <= S_T_OUTCOMES; i++)
        s_html_table(f, &tables[i]);
    fputs("</section>\n<section id=\"plans\"><h2>Plan progress</h2>\n", f);
    s_html_progress_chart(f, rep);
    s_html_table(f, &tables[S_T_ACTIONS]);
    s_html_table(f, &tables[S_T_PLANS]);
    fprintf(f,
            "</section>\n<footer>Computed by cigsync %s from this office's "
            "replica.</footer>\n</body>\n</html>\n",
            CS_VERSION);
}

/* ---- entry points ------------------------------------------------------ */

int
cs_report_out_format(const char *name, enum cs_report_out_format *fmt)
{
    static const struct {
        const char *name;              /* as given to --format */
        enum cs_report_out_format fmt; /* what it names */
    } formats[] = {{"text", CS_REPORT_OUT_TEXT},
                   {"csv", CS_REPORT_OUT_CSV},
                   {"json", CS_REPORT_OUT_JSON},
                   {"html", CS_REPORT_OUT_HTML}};

    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *fmt = formats[i].fmt;
            return 0;
        }
    }
    return CS_ERR_INVALID;
}

void
cs_report_out_write(const struct cs_report *rep, enum cs_report_out_format fmt,
                    FILE *f)
{
    struct s_table tables[S_NTABLES];

    if (fmt == CS_REPORT_OUT_JSON) {
        s_json(rep, f);
        return;
    }
    s_tables_build(tables, rep);
    switch (fmt) {
    case CS_REPORT_OUT_CSV:
        s_csv(rep, tables, f);
        break;
    case CS_REPORT_OUT_HTML:
        s_html_page(rep, tables, f);
        break;
    case CS_REPORT_OUT_TEXT:
    default:
        s_text(rep, tables, f);
        break;
    }
    s_tables_free(tables);
}
