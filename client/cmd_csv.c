/*  client/cmd_csv.c - export and import: one table's records as a file.
 *
 *  export writes every row of a synced table, columns in schema order, as
 *  CSV for spreadsheets (UTF-8 with a byte order mark, CRLF, RFC 4180
 *  quoting, a header row of column names: Excel and LibreOffice open it
 *  with Cyrillic intact) or as a JSON array of objects.  BLOB columns
 *  (attachment.content) are left out of CSV, with a note on stderr: a
 *  base64 photo in a cell is useless in a spreadsheet and larger than
 *  Excel's 32,767 characters per cell.  JSON carries them as base64, as
 *  `list --json` does.  -o FILE is written atomically (fileio.h).
 *
 *  Exporting personal data is itself an audited event (DOMAIN.md): when
 *  the table is restricted or a personal column (zz_table) is exported,
 *  a data_export row is written in the same transaction that reads the
 *  rows, so its row count is exactly what left.  It is an ordinary synced
 *  record: it reaches the central replica and the server's batch log.
 *  With -o the file is saved before that transaction commits and removed
 *  if the commit fails, so there is no file without its audit row; on
 *  stdout the row is committed first (what is printed cannot be taken
 *  back, so the audit errs on the side of recording).
 *
 *  import reads a CSV file (common/csv.h, bounded) and validates every
 *  row before any is kept: all rows are written inside one transaction
 *  and, if any problem was found, rolled back.  Each problem is printed as
 *  "FILE:LINE:COLUMN: NAME: message" (LINE the physical line, the header
 *  being line 1; COLUMN the field's number; NAME its header), then one
 *  summary line.  Checks, per field: UTF-8; the schema's CHECK rules,
 *  found by inserting the value alone into a TEMP copy of the table (its
 *  CREATE TABLE text, so the rules and type affinities are exactly the
 *  replica's, and only the one rule of that column can fail: every rule
 *  allows NULL), and named by kind (enum, date, integer); ids; office
 *  codes and whether this node may write that office's rows; references
 *  (a <table>_id column must name a live row of <table> in the replica or
 *  earlier in the file).  A row with an id that is live here is updated
 *  (only the columns in the file; an empty field clears one), any other
 *  row is inserted, with the file's id or a new one.  Writes go through
 *  cs_store_insert/update, so the capture triggers record them and they
 *  sync like any edit.
 *
 *  Which offices a node may write: its own; every office if its config
 *  says `role = central`; none if `role = auditor`.  The server enforces
 *  the real scope (a site's out-of-scope rows would be refused and deleted
 *  back at the site); this check stops such a file before it does harm.
 */
#include "prelude.h"

#include "cmd.h"
#include "csv.h"
#include "fileio.h"
#include "json.h"
#include "nodedir.h"
#include "out.h"
#include "text.h"

#define S_AUDIT_TABLE "data_export" /* the personal-data export log */
#define S_PROBLEMS_SHOWN 200        /* problem lines one import prints */
#define S_UTC_TEXT_MAX 24           /* "YYYY-MM-DDTHH:MM:SSZ" and a NUL */
#define S_REAL_SHORT 15             /* digits tried first for a REAL */
#define S_REAL_EXACT 17             /* digits that always read back */
#define S_NUMBER_TEXT_MAX 32        /* a printed integer or REAL */
#define S_NAME_SHOWN 40             /* header names cut to this, columns */
#define S_VALUE_SHOWN 60            /* values in messages cut to this */
#define S_CHECK_PREFIX "CHECK constraint failed: "
#define S_CHECK_TABLE "cs_import_check" /* TEMP copy of the table's rules */
#define S_IDS_TABLE "cs_import_ids"     /* TEMP: ids met in the file */
#define S_MAIN_DB "main"                /* schema of the replica's tables */

/* ---- shared ------------------------------------------------------------ */

/* Finds table name for command cmd; an unknown table is a bad command
   line, named with the alternatives. */
static int
s_table(const char *cmd, struct cs_store *s, const char *name,
        const struct cs_table **out)
{
    return cs_cmd_table(cmd, s, name, out) == 0 ? 0 : CS_ERR_USAGE;
}

static bool
s_is_blob(const struct cs_table *t, size_t col)
{
    return strcasecmp(t->types[col], "BLOB") == 0;
}

/* ---- export ------------------------------------------------------------ */

/* Output formats. */
enum s_format {
    S_CSV, /* RFC 4180, for spreadsheets */
    S_JSON /* an array of objects */
};

static const char *
s_format_name(enum s_format format)
{
    switch (format) {
    case S_CSV:
        return "csv";
    case S_JSON:
        return "json";
    default:
        return "unknown";
    }
}

/* Writes text as a CSV field, each byte that is not UTF-8 replaced by
   U+FFFD (as json.h does), so the file is always valid UTF-8. */
static void
s_csv_text(FILE *f, const char *p, size_t len, bool first)
{
    struct cs_out_buf b;
    char *clean;
    uint32_t cp;

    if (cs_utf8_valid((const uint8_t *)p, len)) {
        cs_csv_put(f, p, len, first);
        return;
    }
    cs_out_buf_open(&b);
    for (size_t i = 0; i < len;) {
        size_t n = cs_text_next(p, len, i, &cp);
        if (n == 0) {
            fputs("\xef\xbf\xbd", b.f); /* U+FFFD */
            i++;
            continue;
        }
        fwrite(p + i, 1, n, b.f);
        i += n;
    }
    clean = cs_out_buf_close(&b);
    cs_csv_put(f, clean, b.len, first);
    free(clean);
}

/* Writes one value as a CSV field: NULL as an empty field, numbers in
   decimal (a REAL with the fewest digits that read back exactly). */
static void
s_csv_value(FILE *f, const struct cs_value *v, bool first)
{
    char num[S_NUMBER_TEXT_MAX];

    switch (v->type) {
    case SQLITE_INTEGER:
        snprintf(num, sizeof num, "%lld", (long long)v->i);
        cs_csv_put(f, num, strlen(num), first);
        break;
    case SQLITE_FLOAT:
        snprintf(num, sizeof num, "%.*g", S_REAL_SHORT, v->d);
        if (strtod(num, NULL) != v->d)
            snprintf(num, sizeof num, "%.*g", S_REAL_EXACT, v->d);
        cs_csv_put(f, num, strlen(num), first);
        break;
    case SQLITE_TEXT:
        s_csv_text(f, (const char *)v->p, v->len, first);
        break;
    default: /* NULL; BLOBs are not exported as CSV */
        cs_csv_put(f, NULL, 0, first);
        break;
    }
}

/* What one export writes. */
struct s_export {
    const struct cs_table *t; /* the table */
    enum s_format format;     /* csv or json */
    const char *dest;         /* -o FILE, or NULL for stdout */
    bool *include;            /* per column of t: exported */
    char *personal;           /* personal columns exported, comma-separated */
    char *left_out;           /* BLOB columns left out, comma-separated */
    bool audited;             /* a data_export row is due */
    uint64_t rows;            /* rows written */
};

/* Writes the rows of st (the exported columns of every row) to f. */
static int
s_export_rows(sqlite3 *db, sqlite3_stmt *st, struct s_export *e, FILE *f)
{
    const struct cs_table *t = e->t;
    struct cs_json j;
    int rc;

    if (e->format == S_JSON) {
        cs_json_init(&j, f);
        cs_json_array_begin(&j);
    } else {
        bool first = true;
        cs_csv_put_bom(f);
        for (size_t i = 0; i < t->ncols; i++) {
            if (!e->include[i])
                continue;
            cs_csv_put(f, t->cols[i], strlen(t->cols[i]), first);
            first = false;
        }
        cs_csv_put_end(f);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = 0;
        if (e->format == S_JSON)
            cs_json_object_begin(&j);
        for (size_t i = 0; i < t->ncols; i++) {
            struct cs_value v;
            if (!e->include[i])
                continue;
            cs_store_column_value(st, k, &v);
            if (e->format == S_JSON) {
                cs_json_key(&j, t->cols[i]);
                cs_json_value(&j, &v);
            } else {
                s_csv_value(f, &v, k == 0);
            }
            k++;
        }
        if (e->format == S_JSON)
            cs_json_object_end(&j);
        else
            cs_csv_put_end(f);
        e->rows++;
    }
    if (rc != SQLITE_DONE)
        return cs_out_read_error(db, rc, t->name);
    if (e->format == S_JSON) {
        cs_json_array_end(&j);
        cs_json_finish(&j);
    }
    return 0;
}

/* Decides the columns: all of them, but BLOBs not in CSV; collects the
   personal ones exported and whether the export is audited. */
static void
s_export_columns(struct s_export *e)
{
    const struct cs_table *t = e->t;
    struct cs_out_buf personal, left_out;

    cs_out_buf_open(&personal);
    cs_out_buf_open(&left_out);
    e->include = cs_xcalloc(t->ncols, sizeof *e->include);
    for (size_t i = 0; i < t->ncols; i++) {
        e->include[i] = e->format == S_JSON || !s_is_blob(t, i);
        if (!e->include[i]) {
            fprintf(left_out.f, "%s%s", ftell(left_out.f) ? "," : "",
                    t->cols[i]);
            continue;
        }
        if (t->personal[i])
            fprintf(personal.f, "%s%s", ftell(personal.f) ? "," : "",
                    t->cols[i]);
    }
    e->personal = cs_out_buf_close(&personal);
    e->left_out = cs_out_buf_close(&left_out);
    e->audited = t->restricted || e->personal[0] != '\0';
}

/* Writes the data_export row of e (inside the caller's transaction). */
static int
s_export_audit(struct cs_nodedir *d, const struct s_export *e)
{
    struct cs_store *s = cs_nodedir_store(d);
    char when[S_UTC_TEXT_MAX], node[CS_NODE_ID_HEX_LEN + 1];
    char rows[S_NUMBER_TEXT_MAX], id[CS_ID_MAX + 1];
    time_t now = time(NULL);
    struct tm tm;
    int r;

    if (gmtime_r(&now, &tm) == NULL ||
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        cs_out_error("export: cannot read the clock");
        return CS_ERR_INTERNAL;
    }
    cs_node_id_hex(cs_nodedir_node(d), node);
    snprintf(rows, sizeof rows, "%" PRIu64, e->rows);
    const struct cs_field fields[] = {
        {"office_id", cs_store_office(s)},
        {"exported_at", when},
        {"node", node},
        {"table_name", e->t->name},
        {"columns", e->personal},
        {"rows", rows},
        {"format", s_format_name(e->format)},
        {"destination", e->dest != NULL ? e->dest : "stdout"},
    };
    if ((r = cs_store_insert(s, S_AUDIT_TABLE, fields,
                             sizeof fields / sizeof *fields, id)) != 0)
        return cs_out_store_error(s, r, "recording the export");
    return 0;
}

/* Hands the export's text over: saved as -o FILE, or on stdout. */
static int
s_export_write(const struct s_export *e, const char *data, size_t len)
{
    int r;

    if (e->dest == NULL) {
        fwrite(data, 1, len, stdout);
        return 0;
    }
    if ((r = cs_file_save(e->dest, data, len)) != 0) {
        char *q = cs_out_quote(e->dest);
        cs_out_error("export: cannot write %s: %s", q,
                     r == CS_ERR_EXISTS ? "a temporary file is in the way"
                                        : strerror(errno));
        free(q);
        return CS_ERR_IO;
    }
    return 0;
}

static int
s_export(struct cs_nodedir *d, struct s_export *e)
{
    struct cs_store *s = cs_nodedir_store(d);
    sqlite3 *db = cs_store_db(s);
    const struct cs_table *t = e->t;
    sqlite3_stmt *st = NULL;
    struct cs_out_buf sql, text;
    bool in_txn = false, saved = false;
    char *data = NULL, *q;
    int r, rc;

    s_export_columns(e);
    cs_out_buf_open(&sql);
    fputs("SELECT ", sql.f);
    for (size_t i = 0, k = 0; i < t->ncols; i++)
        if (e->include[i])
            fprintf(sql.f, "%s\"%s\"", k++ ? ", " : "", t->cols[i]);
    fprintf(sql.f, " FROM \"%s\" ORDER BY id", t->name);
    q = cs_out_buf_close(&sql);
    if (e->audited) {
        if ((r = cs_store_begin(s)) != 0) {
            free(q);
            return cs_out_store_error(s, r, "export");
        }
        in_txn = true;
    }
    rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
    free(q);
    if (rc != SQLITE_OK) {
        r = cs_out_read_error(db, rc, t->name);
        goto out;
    }
    cs_out_buf_open(&text);
    r = s_export_rows(db, st, e, text.f);
    data = cs_out_buf_close(&text);
    if (r != 0 || (e->audited && (r = s_export_audit(d, e)) != 0))
        goto out;
    /* To a file: saved before the audit row commits, removed if it does
       not; to stdout: printed once the audit row is committed. */
    if (e->dest != NULL && (r = s_export_write(e, data, text.len)) != 0)
        goto out;
    saved = e->dest != NULL;
    if (in_txn) {
        in_txn = false;
        if ((r = cs_store_commit(s)) != 0) {
            if (saved)
                (void)unlink(e->dest);
            cs_out_store_error(s, r, "recording the export");
            goto out;
        }
    }
    if (e->dest == NULL)
        (void)s_export_write(e, data, text.len);
    if (e->left_out[0] != '\0')
        fprintf(stderr,
                "cigsync: note: left out %s (BLOB: not for spreadsheets; "
                "--format json carries it as base64)\n",
                e->left_out);
    if (e->audited)
        fprintf(stderr,
                "cigsync: note: personal data exported (%" PRIu64
                " rows of %s); recorded in %s\n",
                e->rows, t->name, S_AUDIT_TABLE);
    r = 0;
out:
    sqlite3_finalize(st);
    if (in_txn)
        cs_store_rollback(s);
    free(data);
    return r;
}

int
cs_cmd_export(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct s_export e = {NULL, S_CSV, NULL, NULL, NULL, NULL, false, 0};
    struct cs_nodedir *d = NULL;
    const char *table = NULL;
    char *value;
    int r;

    for (int i = 0; i < argc; i++) {
        if ((r = cs_cmd_option(argc, argv, &i, "--format", &value)) < 0)
            return r;
        if (r == 1) {
            if (strcmp(value, "csv") != 0 && strcmp(value, "json") != 0) {
                char *q = cs_out_quote(value);
                cs_out_error("export: unknown format %s (formats: csv, json)",
                             q);
                free(q);
                return CS_ERR_USAGE;
            }
            e.format = strcmp(value, "csv") == 0 ? S_CSV : S_JSON;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "-o", &value)) < 0)
            return r;
        if (r == 1) {
            if (value[0] == '\0')
                return cs_cmd_bad_args("export", "-o needs a file name");
            e.dest = value;
            continue;
        }
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("export", argv[i]);
        if (table != NULL)
            return cs_cmd_bad_args("export", "expected one TABLE");
        table = argv[i];
    }
    if (table == NULL)
        return cs_cmd_bad_args("export", "expected TABLE");
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    if ((r = s_table("export", cs_nodedir_store(d), table, &e.t)) == 0)
        r = s_export(d, &e);
    free(e.include);
    free(e.personal);
    free(e.left_out);
    cs_nodedir_destroy(&d);
    return r;
}

/* ---- import: the problems found ---------------------------------------- */

/* One field of the header. */
struct s_column {
    char *name;                 /* as shown in messages (cut, malloc'd) */
    int col;                    /* index in the table's cols, or -1 */
    const struct cs_table *ref; /* table it references, or NULL */
    int ref_by;                 /* field naming that table per row, or -1 */
    sqlite3_stmt *check;        /* INSERT of the value alone into the copy */
};

/* A table that references may point at. */
struct s_target {
    const struct cs_table *t; /* the table */
    sqlite3_stmt *exists;     /* SELECT of a live id */
};

/* One import: the file, the header's mapping onto the table, the checks
   prepared for it and what was found. */
struct s_import {
    struct cs_store *s;       /* the replica */
    sqlite3 *db;              /* its handle */
    const struct cs_table *t; /* the table imported into */
    const char *file;         /* the file, as given (for messages) */
    const char *office;       /* this node's office */
    bool any_office;          /* role central: may write every office */
    size_t nfields;           /* fields in the header */
    struct s_column *cols;    /* per header field */
    size_t ntables;           /* synced tables */
    struct s_target *targets; /* per synced table, for references */
    sqlite3_stmt *clear;      /* empties the TEMP copy */
    sqlite3_stmt *id_seen;    /* line of an id met earlier in the file */
    sqlite3_stmt *id_add;     /* records an id met in the file */
    sqlite3_stmt *row_office; /* office_id of a live row of t */
    int id_field;             /* header field of id, or -1 */
    int office_field;         /* header field of office_id, or -1 */
    struct cs_field *fields;  /* one row's assignments (nfields) */
    size_t problems;          /* found so far */
    uint64_t inserted;        /* rows inserted */
    uint64_t updated;         /* rows updated */
};

/* Prints one problem, "FILE:LINE:FIELD: NAME: message", escaped (text.h)
   so that nothing in the file can drive the terminal; after
   S_PROBLEMS_SHOWN of them, only counts. */
static void s_problem(struct s_import *im, size_t line, size_t field,
                      const char *fmt, ...) CS_PRINTF(4, 5);

static void
s_problem(struct s_import *im, size_t line, size_t field, const char *fmt, ...)
{
    struct cs_out_buf b;
    va_list ap;
    char *text;

    if (im->problems++ >= S_PROBLEMS_SHOWN)
        return;
    cs_out_buf_open(&b);
    fprintf(b.f, "%s:%zu:%zu: ", im->file, line, field);
    if (field >= 1 && field <= im->nfields && im->cols != NULL &&
        im->cols[field - 1].name[0] != '\0')
        fprintf(b.f, "%s: ", im->cols[field - 1].name);
    va_start(ap, fmt);
    vfprintf(b.f, fmt, ap);
    va_end(ap);
    text = cs_out_buf_close(&b);
    cs_text_escape(stderr, text, b.len, false);
    fputc('\n', stderr);
    free(text);
}

/* Returns text quoted and escaped for a message, cut to S_VALUE_SHOWN
   columns; malloc'd. */
static char *
s_shown(const char *text)
{
    char *cut = cs_text_truncate(text, S_VALUE_SHOWN);
    char *q = cs_out_quote(cut);

    free(cut);
    return q;
}

/* ---- import: setting up ------------------------------------------------ */

static int
s_prepare(struct s_import *im, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(im->db, sql, -1, st, NULL);

    if (rc == SQLITE_OK)
        return 0;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        cs_out_error("%s", CS_OUT_LOCKED_MSG);
        return CS_ERR_LOCKED;
    }
    cs_out_error("import: cannot prepare a check: %s", sqlite3_errmsg(im->db));
    return CS_ERR_DB;
}

static int
s_exec(struct s_import *im, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(im->db, sql, NULL, NULL, &err);

    if (rc == SQLITE_OK)
        return 0;
    cs_out_error("import: %s", err != NULL ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? CS_ERR_LOCKED : CS_ERR_DB;
}

/* Makes the TEMP tables: a copy of t's definition (its CHECK rules and
   affinities, no triggers) and the ids met in the file. */
static int
s_temp_tables(struct s_import *im)
{
    sqlite3_stmt *st = NULL;
    const char *sql, *open;
    char *create;
    int r;

    if ((r = s_exec(im, "DROP TABLE IF EXISTS temp." S_CHECK_TABLE
                        "; DROP TABLE IF EXISTS temp." S_IDS_TABLE
                        "; CREATE TEMP TABLE " S_IDS_TABLE
                        "(id TEXT PRIMARY KEY, line INTEGER)")) != 0 ||
        (r = s_prepare(im,
                       "SELECT sql FROM " S_MAIN_DB ".sqlite_master WHERE "
                       "type = 'table' AND name = ?",
                       &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, im->t->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW ||
        (sql = (const char *)sqlite3_column_text(st, 0)) == NULL ||
        (open = strchr(sql, '(')) == NULL) {
        sqlite3_finalize(st);
        cs_out_error("import: cannot read the definition of table %s",
                     im->t->name);
        return CS_ERR_DB;
    }
    create = cs_xasprintf("CREATE TEMP TABLE " S_CHECK_TABLE " %s", open);
    sqlite3_finalize(st);
    r = s_exec(im, create);
    free(create);
    return r;
}

/* The table a reference column points at: X_id where the table has a
   column X_table (comment.target_id, attachment.owner_id) names its
   table per row (*by gets that column); else X_id -> table X, or the
   longest tail of X after a '_' that is a table (responsible_person_id ->
   person); based_on_version_id -> letter_version. */
static const struct cs_table *
s_ref_table(const struct s_import *im, const char *col, int *by)
{
    static const char *const special[][2] = {
        {"based_on_version_id", "letter_version"},
    };
    const struct cs_table *t = NULL;
    size_t len = strlen(col);
    char *base;

    *by = -1;
    if (len <= 3 || strcmp(col + len - 3, "_id") != 0 ||
        strcmp(col, "office_id") == 0)
        return NULL;
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        if (strcmp(col, special[i][0]) == 0)
            return cs_store_table(im->s, special[i][1]);
    base = cs_xstrndup(col, len - 3);
    char *kind = cs_xasprintf("%s_table", base);
    for (size_t k = 0; k < im->nfields; k++)
        if (im->cols[k].col >= 0 &&
            strcmp(im->t->cols[im->cols[k].col], kind) == 0)
            *by = (int)k;
    free(kind);
    for (const char *p = base; *by < 0 && p != NULL;
         p = strchr(p, '_') ? strchr(p, '_') + 1 : NULL)
        if ((t = cs_store_table(im->s, p)) != NULL)
            break;
    free(base);
    return t;
}

/* Reads the header: every name a column of t, none twice, no BLOB. */
static void
s_header(struct s_import *im, const struct cs_csv_record *rec)
{
    const struct cs_table *t = im->t;

    im->nfields = rec->n;
    im->cols = cs_xcalloc(rec->n, sizeof *im->cols);
    im->fields = cs_xcalloc(rec->n, sizeof *im->fields);
    for (size_t k = 0; k < rec->n; k++) {
        const struct cs_csv_field *f = &rec->fields[k];
        im->cols[k].name = cs_text_truncate(f->text, S_NAME_SHOWN);
        im->cols[k].col = -1;
        im->cols[k].ref_by = -1;
        if (f->len == 0) {
            s_problem(im, f->line, k + 1, "empty column name");
            continue;
        }
        int col = cs_table_col(t, f->text);
        if (col < 0) {
            struct cs_out_buf b;
            char *list;
            cs_out_buf_open(&b);
            for (size_t i = 0; i < t->ncols; i++)
                if (!s_is_blob(t, i))
                    fprintf(b.f, "%s%s", i ? ", " : "", t->cols[i]);
            list = cs_out_buf_close(&b);
            s_problem(im, f->line, k + 1, "no such column in %s (columns: %s)",
                      t->name, list);
            free(list);
            continue;
        }
        if (s_is_blob(t, (size_t)col)) {
            s_problem(im, f->line, k + 1,
                      "BLOB columns cannot be imported from CSV");
            continue;
        }
        bool twice = false;
        for (size_t j = 0; j < k && !twice; j++) {
            if (im->cols[j].col != col)
                continue;
            s_problem(im, f->line, k + 1, "column given twice (also field %zu)",
                      j + 1);
            twice = true;
        }
        if (twice)
            continue;
        im->cols[k].col = col;
        if (col == 0)
            im->id_field = (int)k;
        else if (strcmp(t->cols[col], "office_id") == 0)
            im->office_field = (int)k;
    }
}

/* Prepares the per-field checks once the header is known. */
static int
s_checks_prepare(struct s_import *im)
{
    size_t ntables = cs_store_table_count(im->s);
    char *sql;
    int r;

    im->targets = cs_xcalloc(ntables, sizeof *im->targets);
    im->ntables = ntables;
    for (size_t i = 0; i < ntables; i++) {
        im->targets[i].t = cs_store_table_at(im->s, i);
        sql = cs_xasprintf("SELECT 1 FROM " S_MAIN_DB ".\"%s\" WHERE id = ?",
                           im->targets[i].t->name);
        r = s_prepare(im, sql, &im->targets[i].exists);
        free(sql);
        if (r != 0)
            return r;
    }
    for (size_t k = 0; k < im->nfields; k++) {
        if (im->cols[k].col <= 0)
            continue;
        sql = cs_xasprintf("INSERT INTO temp." S_CHECK_TABLE "(\"%s\") "
                           "VALUES (?)",
                           im->t->cols[im->cols[k].col]);
        r = s_prepare(im, sql, &im->cols[k].check);
        free(sql);
        if (r != 0)
            return r;
        im->cols[k].ref =
            s_ref_table(im, im->t->cols[im->cols[k].col], &im->cols[k].ref_by);
    }
    sql = cs_xasprintf("SELECT office_id FROM " S_MAIN_DB ".\"%s\" WHERE "
                       "id = ?",
                       im->t->name);
    r = s_prepare(im, sql, &im->row_office);
    free(sql);
    if (r != 0 ||
        (r = s_prepare(im, "DELETE FROM temp." S_CHECK_TABLE, &im->clear)) !=
            0 ||
        (r = s_prepare(im, "SELECT line FROM temp." S_IDS_TABLE " WHERE id = ?",
                       &im->id_seen)) != 0 ||
        (r = s_prepare(im,
                       "INSERT INTO temp." S_IDS_TABLE "(id, line) VALUES "
                       "(?, ?)",
                       &im->id_add)) != 0)
        return r;
    return 0;
}

static void
s_import_free(struct s_import *im)
{
    for (size_t k = 0; im->cols != NULL && k < im->nfields; k++) {
        free(im->cols[k].name);
        sqlite3_finalize(im->cols[k].check);
    }
    for (size_t i = 0; i < im->ntables; i++)
        sqlite3_finalize(im->targets[i].exists);
    sqlite3_finalize(im->clear);
    sqlite3_finalize(im->id_seen);
    sqlite3_finalize(im->id_add);
    sqlite3_finalize(im->row_office);
    free(im->cols);
    free(im->targets);
    free(im->fields);
    sqlite3_exec(im->db,
                 "DROP TABLE IF EXISTS temp." S_CHECK_TABLE
                 "; DROP TABLE IF EXISTS temp." S_IDS_TABLE,
                 NULL, NULL, NULL);
}

/* ---- import: one row --------------------------------------------------- */

/* Says what a failed CHECK rule (the shapes schema.sql uses) wanted. */
static void
s_rule_problem(struct s_import *im, const struct cs_csv_field *f, size_t k,
               const char *rule)
{
    char *q = s_shown(f->text);
    const char *in = strstr(rule, " IN ("), *between, *and, *min;

    if (in != NULL) {
        struct cs_out_buf b;
        const char *end = strrchr(in, ')');
        char *list;
        cs_out_buf_open(&b);
        for (const char *p = in + strlen(" IN ("); end != NULL && p < end; p++)
            if (*p != '\'')
                fputc(*p, b.f);
        list = cs_out_buf_close(&b);
        s_problem(im, f->line, k + 1, "bad value %s (allowed: %s)", q, list);
        free(list);
    } else if (strstr(rule, "date(") != NULL) {
        s_problem(im, f->line, k + 1,
                  "bad date %s (expected a real date written YYYY-MM-DD)", q);
    } else if (strstr(rule, "'integer'") != NULL) {
        between = strstr(rule, " BETWEEN ");
        and = between != NULL ? strstr(between, " AND ") : NULL;
        min = strstr(rule, " >= ");
        if (and != NULL)
            s_problem(im, f->line, k + 1,
                      "bad integer %s (expected a whole number from %lld to "
                      "%lld)",
                      q, strtoll(between + strlen(" BETWEEN "), NULL, 10),
                      strtoll(and+strlen(" AND "), NULL, 10));
        else if (min != NULL)
            s_problem(im, f->line, k + 1,
                      "bad integer %s (expected a whole number, %lld or more)",
                      q, strtoll(min + strlen(" >= "), NULL, 10));
        else
            s_problem(im, f->line, k + 1,
                      "bad integer %s (expected a whole number)", q);
    } else {
        s_problem(im, f->line, k + 1, "bad value %s (the rule is: %s)", q,
                  rule);
    }
    free(q);
}

/* Runs field k's value through the TEMP copy's CHECK rules. */
static int
s_check_rules(struct s_import *im, const struct cs_csv_field *f, size_t k)
{
    sqlite3_stmt *st = im->cols[k].check;
    const char *msg, *rule;
    int rc;

    sqlite3_bind_text(st, 1, f->text, (int)f->len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    msg = sqlite3_errmsg(im->db);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return 0;
    }
    if ((rc & 0xff) != SQLITE_CONSTRAINT ||
        (rule = strstr(msg, S_CHECK_PREFIX)) == NULL) {
        sqlite3_reset(st);
        return cs_out_read_error(im->db, rc, im->t->name);
    }
    s_rule_problem(im, f, k, rule + strlen(S_CHECK_PREFIX));
    sqlite3_reset(st);
    return 0;
}

/* True if id is a live row of table t, or (t being the table imported
   into) met earlier in the file. */
static bool
s_ref_found(struct s_import *im, const struct cs_table *t, const char *id)
{
    sqlite3_stmt *st = NULL;
    bool found;

    for (size_t i = 0; i < im->ntables; i++)
        if (im->targets[i].t == t)
            st = im->targets[i].exists;
    if (st == NULL)
        return false;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (found || t != im->t)
        return found;
    sqlite3_bind_text(im->id_seen, 1, id, -1, SQLITE_STATIC);
    found = sqlite3_step(im->id_seen) == SQLITE_ROW;
    sqlite3_reset(im->id_seen);
    return found;
}

/* Checks a reference field k (non-empty) of rec. */
static void
s_check_ref(struct s_import *im, const struct cs_csv_record *rec, size_t k)
{
    const struct cs_csv_field *f = &rec->fields[k];
    const struct cs_table *target = im->cols[k].ref;
    char *q;

    if (im->cols[k].ref_by >= 0)
        target = cs_store_table(im->s, rec->fields[im->cols[k].ref_by].text);
    if (target == NULL || s_ref_found(im, target, f->text))
        return;
    q = s_shown(f->text);
    s_problem(im, f->line, k + 1,
              "no %s with id %s in the replica or earlier in the file",
              target->name, q);
    free(q);
}

/* True if this node may write rows of office. */
static bool
s_office_writable(const struct s_import *im, const char *office)
{
    return im->any_office ||
           (office != NULL && strcmp(office, im->office) == 0);
}

/* Checks an office_id field: a valid code this node may write; empty only
   for a new row (which then gets this node's office). */
static void
s_check_office(struct s_import *im, const struct cs_csv_field *f, size_t k,
               bool exists)
{
    char *q;

    if (f->len == 0) {
        if (exists)
            s_problem(im, f->line, k + 1,
                      "empty, but a record must belong to an office");
        return;
    }
    q = s_shown(f->text);
    if (!cs_store_office_valid(f->text))
        s_problem(im, f->line, k + 1, "bad office code %s (2 to 8 of A-Z 0-9)",
                  q);
    else if (!s_office_writable(im, f->text))
        s_problem(im, f->line, k + 1,
                  "office %s: this node (office %s) may write only its own "
                  "office's rows",
                  q, im->office);
    free(q);
}

/* Checks the id field of rec: valid, not twice in the file, not a deleted
   row, and if live, of an office this node may write.  *exists is set
   when the row is live here (the import updates it). */
static int
s_check_id(struct s_import *im, const struct cs_csv_record *rec, bool *exists)
{
    size_t k = (size_t)im->id_field;
    const struct cs_csv_field *f = &rec->fields[k];
    char *q = s_shown(f->text);
    int rc;

    *exists = false;
    if (!cs_id_valid(f->text)) {
        s_problem(im, f->line, k + 1,
                  "bad id %s (1 to %d of A-Z a-z 0-9 _ . : -)", q, CS_ID_MAX);
        free(q);
        return 0;
    }
    sqlite3_bind_text(im->id_seen, 1, f->text, -1, SQLITE_STATIC);
    if (sqlite3_step(im->id_seen) == SQLITE_ROW) {
        s_problem(im, f->line, k + 1,
                  "id %s is in the file twice (first on "
                  "line %lld)",
                  q, (long long)sqlite3_column_int64(im->id_seen, 0));
        sqlite3_reset(im->id_seen);
        free(q);
        return 0;
    }
    sqlite3_reset(im->id_seen);
    sqlite3_bind_text(im->id_add, 1, f->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(im->id_add, 2, (sqlite3_int64)f->line);
    rc = sqlite3_step(im->id_add);
    sqlite3_reset(im->id_add);
    if (rc != SQLITE_DONE) {
        free(q);
        return cs_out_read_error(im->db, rc, S_IDS_TABLE);
    }
    sqlite3_bind_text(im->row_office, 1, f->text, -1, SQLITE_STATIC);
    if (sqlite3_step(im->row_office) == SQLITE_ROW) {
        const char *office =
            (const char *)sqlite3_column_text(im->row_office, 0);
        *exists = true;
        if (!s_office_writable(im, office))
            s_problem(im, f->line, k + 1,
                      "%s %s belongs to office %s: this node (office %s) "
                      "may write only its own office's rows",
                      im->t->name, q, office != NULL ? office : "(none)",
                      im->office);
    } else if (cs_store_is_deleted(im->s, im->t, f->text)) {
        s_problem(im, f->line, k + 1,
                  "%s %s is deleted; restore it first (cigsync restore %s "
                  "ID)",
                  im->t->name, q, im->t->name);
    }
    sqlite3_reset(im->row_office);
    free(q);
    return 0;
}

/* Writes a row that passed every check. */
static void
s_row_write(struct s_import *im, const struct cs_csv_record *rec,
            const char *id, bool exists)
{
    char new_id[CS_ID_MAX + 1];
    size_t n = 0;
    int r;

    for (size_t k = 0; k < im->nfields; k++) {
        if (im->cols[k].col < 0 || (exists && im->cols[k].col == 0))
            continue;
        im->fields[n].name = im->t->cols[im->cols[k].col];
        im->fields[n].value =
            rec->fields[k].len > 0 ? rec->fields[k].text : NULL;
        n++;
    }
    if (exists) {
        r = n == 0 ? 0 : cs_store_update(im->s, im->t->name, id, im->fields, n);
        if (r == 0)
            im->updated++;
    } else {
        r = cs_store_insert(im->s, im->t->name, im->fields, n, new_id);
        if (r == 0)
            im->inserted++;
    }
    if (r != 0)
        s_problem(im, rec->line, 1, "%s", cs_store_errmsg(im->s));
}

/* Checks one data row and, if it passed, writes it. */
static int
s_row(struct s_import *im, const struct cs_csv_record *rec)
{
    size_t before = im->problems;
    const char *id = NULL;
    bool exists = false;
    int r;

    if (rec->n != im->nfields) {
        size_t at = rec->n < im->nfields ? rec->n : im->nfields;
        s_problem(im, rec->line, at + 1,
                  "wrong number of fields: %zu, but the header has %zu", rec->n,
                  im->nfields);
        return 0;
    }
    if (im->id_field >= 0 && rec->fields[im->id_field].len > 0) {
        id = rec->fields[im->id_field].text;
        if ((r = s_check_id(im, rec, &exists)) != 0)
            return r;
    }
    for (size_t k = 0; k < im->nfields; k++) {
        const struct cs_csv_field *f = &rec->fields[k];
        if (im->cols[k].col <= 0)
            continue;
        if (!cs_utf8_valid((const uint8_t *)f->text, f->len)) {
            s_problem(im, f->line, k + 1, "not valid UTF-8 text");
            continue;
        }
        if ((int)k == im->office_field)
            s_check_office(im, f, k, exists);
        if (f->len == 0)
            continue;
        if ((r = s_check_rules(im, f, k)) != 0)
            return r;
        if (im->cols[k].ref != NULL || im->cols[k].ref_by >= 0)
            s_check_ref(im, rec, k);
    }
    if ((r = sqlite3_step(im->clear)) != SQLITE_DONE) {
        sqlite3_reset(im->clear);
        return cs_out_read_error(im->db, r, S_CHECK_TABLE);
    }
    sqlite3_reset(im->clear);
    if (im->problems == before)
        s_row_write(im, rec, id, exists);
    return 0;
}

/* ---- import: the file -------------------------------------------------- */

/* Reads every record of the file's text: the header, then each row. */
static int
s_import_records(struct s_import *im, const uint8_t *data, size_t len)
{
    struct cs_csv_record *rec = cs_xmalloc(sizeof *rec);
    struct cs_csv c;
    bool header = true;
    const char *what;
    size_t line, field;
    int r = 0;

    cs_csv_init(&c, data, len);
    if (cs_csv_at_end(&c))
        s_problem(im, 1, 1,
                  "the file is empty: expected a header row of "
                  "column names");
    while (!cs_csv_at_end(&c)) {
        if (cs_csv_next(&c, rec) != 0) {
            what = cs_csv_error(&c, &line, &field);
            s_problem(im, line, field, "%s", what);
            break;
        }
        if (header) {
            header = false;
            if (rec->n == 0) {
                s_problem(im, rec->line, 1,
                          "expected a header row of column names on the "
                          "first line");
                break;
            }
            s_header(im, rec);
            if ((r = s_checks_prepare(im)) != 0)
                break;
            continue;
        }
        if (rec->n == 0)
            continue; /* a blank line */
        if ((r = s_row(im, rec)) != 0)
            break;
    }
    free(rec);
    return r;
}

/* Works out which offices this node may write (config "role"). */
static int
s_import_role(struct cs_nodedir *d, struct s_import *im)
{
    const char *role = cs_nodedir_get(d, "role");

    im->any_office = false;
    if (role == NULL || strcmp(role, "site") == 0)
        return 0;
    if (strcmp(role, "central") == 0) {
        im->any_office = true;
        return 0;
    }
    if (strcmp(role, "auditor") == 0) {
        cs_out_error("import: this node's role is auditor, which writes "
                     "nothing");
        return CS_ERR_PERM;
    }
    cs_out_error("import: config: role must be site, central or auditor");
    return CS_ERR_FORMAT;
}

static int
s_import(struct cs_nodedir *d, const struct cs_table *t, const char *file)
{
    struct s_import im;
    uint8_t *data = NULL;
    size_t len = 0;
    char *q;
    int r;

    memset(&im, 0, sizeof im);
    im.s = cs_nodedir_store(d);
    im.db = cs_store_db(im.s);
    im.t = t;
    im.file = file;
    im.office = cs_store_office(im.s);
    im.id_field = -1;
    im.office_field = -1;
    if ((r = s_import_role(d, &im)) != 0)
        return r;
    errno = 0;
    if ((r = cs_file_load(file, CS_CSV_FILE_MAX, &data, &len)) != 0) {
        q = cs_out_quote(file);
        if (r == CS_ERR_NOT_FOUND)
            cs_out_error("import: no file %s", q);
        else if (r == CS_ERR_TOO_BIG)
            cs_out_error("import: %s is larger than %u MiB", q,
                         CS_CSV_FILE_MAX >> 20);
        else
            cs_out_error("import: cannot read %s: %s", q,
                         errno != 0 ? strerror(errno) : "not a regular file");
        free(q);
        return r == CS_ERR_NOT_FOUND ? CS_ERR_USAGE : r;
    }
    if ((r = s_temp_tables(&im)) != 0)
        goto out;
    if ((r = cs_store_begin(im.s)) != 0) {
        cs_out_store_error(im.s, r, "import");
        goto out;
    }
    r = s_import_records(&im, data, len);
    if (r != 0 || im.problems > 0) {
        cs_store_rollback(im.s);
        if (r != 0)
            goto out;
        q = cs_out_quote(file);
        cs_out_error("import: %zu problem%s in %s%s; nothing was imported",
                     im.problems, im.problems == 1 ? "" : "s", q,
                     im.problems > S_PROBLEMS_SHOWN ? " (the first ones shown)"
                                                    : "");
        free(q);
        r = CS_ERR_BAD_VALUE;
        goto out;
    }
    if ((r = cs_store_commit(im.s)) != 0) {
        cs_out_store_error(im.s, r, "import");
        goto out;
    }
    printf("imported %" PRIu64 " rows (%" PRIu64 " inserted, %" PRIu64
           " updated)\n",
           im.inserted + im.updated, im.inserted, im.updated);
out:
    s_import_free(&im);
    free(data);
    return r;
}

int
cs_cmd_import(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    const struct cs_table *t;
    int r;

    for (int i = 0; i < argc; i++)
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("import", argv[i]);
    if (argc != 2)
        return cs_cmd_bad_args("import", "expected TABLE FILE.csv");
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    if ((r = s_table("import", cs_nodedir_store(d), argv[0], &t)) == 0) {
        if (strcmp(t->name, S_AUDIT_TABLE) == 0) {
            cs_out_error("import: %s is written by cigsync itself (see "
                         "cigsync export --help)",
                         S_AUDIT_TABLE);
            r = CS_ERR_USAGE;
        } else {
            r = s_import(d, t, argv[1]);
        }
    }
    cs_nodedir_destroy(&d);
    return r;
}
