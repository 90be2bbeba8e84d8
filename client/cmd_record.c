/*  client/cmd_record.c - the record commands: add, set, rm, restore, list,
 *  show.
 *
 *  Writes go through the store's record calls (cs_store_insert and
 *  friends), which validate against the schema and run in one SQLite
 *  statement or transaction each, so a refused command leaves the replica
 *  exactly as it was.  Reads (list, show) query the user's tables directly
 *  through cs_store_db(): they are plain tables, and the store's metadata
 *  (cs_store_table) names their fields.  Table and field names are checked
 *  here first only to name the alternatives in the error line.
 */
#include "prelude.h"

#include "changes.h"
#include "cmd.h"
#include "grid.h"
#include "json.h"
#include "nodedir.h"
#include "out.h"
#include "text.h"

/* ---- shared checks ----------------------------------------------------- */

/* Finds field name of t, or prints `table t has no field "x" (...)`. */
static int
s_field(const struct cs_table *t, const char *name, int *col)
{
    struct cs_out_buf b;
    char *list, *q;

    *col = cs_table_col(t, name);
    if (*col >= 0)
        return 0;
    cs_out_buf_open(&b);
    for (size_t i = 0; i < t->ncols; i++)
        fprintf(b.f, "%s%s", i ? ", " : "", t->cols[i]);
    list = cs_out_buf_close(&b);
    q = cs_out_quote(name);
    cs_out_error("table %s has no field %s (fields: %s)", t->name, q, list);
    free(q);
    free(list);
    return CS_ERR_NO_FIELD;
}

/* Refuses a value that is not UTF-8: the replica holds text for people,
   and other offices' tools expect UTF-8. */
static int
s_value_check(const struct cs_table *t, const char *field, const char *value)
{
    if (value == NULL || cs_utf8_valid((const uint8_t *)value, strlen(value)))
        return 0;
    cs_out_error("bad value for %s.%s: it is not valid UTF-8 text", t->name,
                 field);
    return CS_ERR_BAD_VALUE;
}

/* Checks each assignment's field and value. */
static int
s_fields_check(const struct cs_table *t, const struct cs_field *fields,
               size_t n)
{
    int r, col;

    for (size_t i = 0; i < n; i++) {
        if ((r = s_field(t, fields[i].name, &col)) != 0 ||
            (r = s_value_check(t, fields[i].name, fields[i].value)) != 0)
            return r;
    }
    return 0;
}

/* Splits "field=value" arguments in place (at the first '='); an empty
   value means NULL.  *out gets a malloc'd array the caller frees. */
static int
s_assignments(const char *cmd, int argc, char **argv, struct cs_field **out)
{
    struct cs_field *f = cs_xcalloc((size_t)argc, sizeof *f);

    *out = NULL;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        char *eq = strchr(arg, '=');
        if (cs_cmd_is_option(arg)) {
            (void)cs_cmd_unknown_option(cmd, arg);
            free(f);
            return CS_ERR_USAGE;
        }
        if (eq == NULL || eq == arg) {
            char *q = cs_out_quote(arg);
            cs_out_error("%s: expected field=value, got %s (see cigsync %s "
                         "--help)",
                         cmd, q, cmd);
            free(q);
            free(f);
            return CS_ERR_USAGE;
        }
        *eq = '\0';
        f[i].name = arg;
        f[i].value = eq[1] == '\0' ? NULL : eq + 1;
    }
    *out = f;
    return 0;
}

/* Writes `SELECT "id", "f1", ... FROM "t"` to f. */
static void
s_select_sql(FILE *f, const struct cs_table *t)
{
    fputs("SELECT ", f);
    for (size_t i = 0; i < t->ncols; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", t->cols[i]);
    fprintf(f, " FROM \"%s\"", t->name);
}

/* ---- add, set, rm, restore --------------------------------------------- */

/* Which write a command makes. */
enum s_write {
    S_ADD,    /* insert a row */
    S_SET,    /* update fields */
    S_RM,     /* delete */
    S_RESTORE /* undelete */
};

/* The store call of one write; prints its error. */
static int
s_write_run(struct cs_store *s, enum s_write op, const char *table,
            const char *id, const struct cs_field *fields, size_t n)
{
    char new_id[CS_ID_MAX + 1];
    int r;

    switch (op) {
    case S_ADD:
        r = cs_store_insert(s, table, fields, n, new_id);
        if (r == 0)
            printf("%s\n", new_id);
        break;
    case S_SET:
        r = cs_store_update(s, table, id, fields, n);
        break;
    case S_RM:
        r = cs_store_delete(s, table, id);
        if (r == CS_ERR_DELETED) {
            cs_out_error("%s %s is already deleted", table, id);
            return r;
        }
        break;
    case S_RESTORE:
        r = cs_store_restore(s, table, id);
        break;
    default:
        r = CS_ERR_INTERNAL;
        break;
    }
    if (r != 0)
        return cs_out_store_error(s, r, table);
    return 0;
}

static int
s_write_cmd(const struct cs_cmd_ctx *ctx, const char *cmd, enum s_write op,
            int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    struct cs_field *fields = NULL;
    const struct cs_table *t;
    int npos = op == S_ADD ? 1 : 2; /* TABLE, or TABLE ID */
    size_t n = 0;
    const char *expect;
    int r;

    switch (op) {
    case S_ADD:
        expect = "expected TABLE field=value ...";
        break;
    case S_SET:
        expect = "expected TABLE ID field=value ...";
        break;
    default:
        expect = "expected TABLE ID";
        break;
    }
    for (int i = 0; i < argc && i < npos; i++)
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option(cmd, argv[i]);
    if (argc < npos || ((op == S_RM || op == S_RESTORE) && argc != npos) ||
        (op == S_SET && argc == npos))
        return cs_cmd_bad_args(cmd, expect);
    if ((r = s_assignments(cmd, argc - npos, argv + npos, &fields)) != 0)
        return r;
    n = (size_t)(argc - npos);
    if ((r = cs_cmd_open(ctx, &d)) != 0 ||
        (r = cs_cmd_table(NULL, cs_nodedir_store(d), argv[0], &t)) != 0 ||
        (r = s_fields_check(t, fields, n)) != 0)
        goto out;
    r = s_write_run(cs_nodedir_store(d), op, t->name, npos > 1 ? argv[1] : NULL,
                    fields, n);
out:
    free(fields);
    cs_nodedir_destroy(&d);
    return r;
}

int
cs_cmd_add(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    return s_write_cmd(ctx, "add", S_ADD, argc, argv);
}

int
cs_cmd_set(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    return s_write_cmd(ctx, "set", S_SET, argc, argv);
}

int
cs_cmd_rm(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    return s_write_cmd(ctx, "rm", S_RM, argc, argv);
}

int
cs_cmd_restore(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    return s_write_cmd(ctx, "restore", S_RESTORE, argc, argv);
}

/* ---- list -------------------------------------------------------------- */

/* One --where condition. */
struct s_where {
    int col;           /* field index in the table */
    const char *value; /* NULL: the field is NULL */
};

/* Prints the rows of a prepared query as a table or a JSON array. */
static int
s_list_print(const struct cs_cmd_ctx *ctx, sqlite3 *db, sqlite3_stmt *st,
             const struct cs_table *t)
{
    struct cs_grid *g = NULL;
    struct cs_json j;
    int rc;

    if (ctx->json) {
        cs_json_init(&j, stdout);
        cs_json_array_begin(&j);
    } else {
        g = cs_grid_new(t->ncols);
        for (size_t i = 0; i < t->ncols; i++)
            cs_grid_add(g, t->cols[i]);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (ctx->json)
            cs_json_object_begin(&j);
        for (size_t i = 0; i < t->ncols; i++) {
            struct cs_value v;
            cs_store_column_value(st, (int)i, &v);
            if (ctx->json) {
                cs_json_key(&j, t->cols[i]);
                cs_json_value(&j, &v);
            } else {
                char *cell = cs_out_value_str(&v, "");
                cs_grid_add(g, cell);
                free(cell);
            }
        }
        if (ctx->json)
            cs_json_object_end(&j);
    }
    if (rc != SQLITE_DONE) {
        cs_grid_destroy(&g);
        return cs_out_read_error(db, rc, t->name);
    }
    if (ctx->json) {
        cs_json_array_end(&j);
        cs_json_finish(&j);
    } else {
        cs_grid_print(g, stdout);
        cs_grid_destroy(&g);
    }
    return 0;
}

static int
s_list(const struct cs_cmd_ctx *ctx, struct cs_store *s, const char *table,
       char **where_args, size_t nwhere)
{
    sqlite3 *db = cs_store_db(s);
    struct s_where *where = cs_xcalloc(nwhere, sizeof *where);
    const struct cs_table *t;
    sqlite3_stmt *st = NULL;
    struct cs_out_buf b;
    char *sql;
    int r, rc;

    if ((r = cs_cmd_table(NULL, s, table, &t)) != 0)
        goto out;
    for (size_t k = 0; k < nwhere; k++) {
        char *eq = strchr(where_args[k], '=');
        *eq = '\0'; /* checked by the caller */
        where[k].value = eq[1] == '\0' ? NULL : eq + 1;
        if ((r = s_field(t, where_args[k], &where[k].col)) != 0 ||
            (r = s_value_check(t, where_args[k], where[k].value)) != 0)
            goto out;
    }
    cs_out_buf_open(&b);
    s_select_sql(b.f, t);
    for (size_t k = 0; k < nwhere; k++) {
        fprintf(b.f, " %s \"%s\"", k ? "AND" : "WHERE", t->cols[where[k].col]);
        if (where[k].value == NULL)
            fputs(" IS NULL", b.f);
        else
            fprintf(b.f, " = ?%zu", k + 1);
    }
    fputs(" ORDER BY id", b.f);
    sql = cs_out_buf_close(&b);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        r = cs_out_read_error(db, rc, t->name);
        goto out;
    }
    for (size_t k = 0; k < nwhere; k++)
        if (where[k].value != NULL)
            sqlite3_bind_text(st, (int)k + 1, where[k].value, -1,
                              SQLITE_STATIC);
    r = s_list_print(ctx, db, st, t);
out:
    sqlite3_finalize(st);
    free(where);
    return r;
}

int
cs_cmd_list(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    char **where = cs_xcalloc((size_t)argc, sizeof *where);
    const char *table = NULL;
    char *value;
    size_t nwhere = 0;
    int r = 0;

    for (int i = 0; i < argc; i++) {
        if ((r = cs_cmd_option(argc, argv, &i, "--where", &value)) < 0)
            goto out;
        if (r == 1) {
            const char *eq = strchr(value, '=');
            if (eq == NULL || eq == value) {
                r = cs_cmd_bad_args("list", "--where needs field=value");
                goto out;
            }
            where[nwhere++] = value;
            continue;
        }
        if (cs_cmd_is_option(argv[i])) {
            r = cs_cmd_unknown_option("list", argv[i]);
            goto out;
        }
        if (table != NULL) {
            r = cs_cmd_bad_args("list", "expected one TABLE");
            goto out;
        }
        table = argv[i];
    }
    if (table == NULL) {
        r = cs_cmd_bad_args("list", "expected TABLE");
        goto out;
    }
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        goto out;
    r = s_list(ctx, cs_nodedir_store(d), table, where, nwhere);
out:
    cs_nodedir_destroy(&d);
    free(where);
    return r;
}

/* ---- show -------------------------------------------------------------- */

/* What state a row is in, for show. */
enum s_state {
    S_LIVE,      /* visible in its table */
    S_DELETED,   /* deleted, not restored */
    S_INCOMPLETE /* fields known, its insert not yet arrived */
};

static const char *
s_op_name(enum cs_op op)
{
    switch (op) {
    case CS_OP_SET:
        return "set";
    case CS_OP_ACK:
        return "acknowledge";
    case CS_OP_INS:
        return "insert";
    case CS_OP_DEL:
        return "delete";
    case CS_OP_RST:
        return "restore";
    default:
        return "unknown";
    }
}

static bool
s_same_version(const struct cs_change *a, const struct cs_change *b)
{
    return a->hlc.t == b->hlc.t &&
           memcmp(a->origin.b, b->origin.b, CS_NODE_ID_BYTES) == 0;
}

/* True for the acknowledgements a delete writes for every field it saw:
   they are part of "deleted", not news of their own. */
static bool
s_ack_of_delete(const struct cs_change *h, size_t n, size_t i)
{
    if (h[i].op != CS_OP_ACK)
        return false;
    for (size_t k = 0; k < n; k++)
        if (h[k].op == CS_OP_DEL && s_same_version(&h[k], &h[i]))
            return true;
    return false;
}

/* Writes what one change did, for people. */
static void
s_change_text(FILE *f, const struct cs_change *ch)
{
    switch (ch->op) {
    case CS_OP_SET:
        if (ch->value.type == SQLITE_NULL) {
            fprintf(f, "cleared %s", ch->col);
            break;
        }
        fprintf(f, "set %s = ", ch->col);
        cs_out_value(f, &ch->value, "NULL", true);
        break;
    case CS_OP_ACK:
        fprintf(f, "acknowledged conflict on %s", ch->col);
        break;
    case CS_OP_INS:
        fputs("inserted", f);
        break;
    case CS_OP_DEL:
        fputs("deleted", f);
        break;
    case CS_OP_RST:
        fputs("restored", f);
        break;
    default:
        fprintf(f, "unknown change %d", (int)ch->op);
        break;
    }
}

static void
s_show_history_text(struct cs_store *s, const struct cs_changes *hist)
{
    const struct cs_change *h = cs_changes_items(hist);
    size_t n = cs_changes_count(hist), who_width = 0;
    char **who = cs_xcalloc(n, sizeof *who);

    for (size_t i = 0; i < n; i++) {
        struct cs_out_buf b;
        char *raw = cs_out_who(s, &h[i].origin);
        cs_out_buf_open(&b);
        cs_text_escape(b.f, raw, strlen(raw), false);
        who[i] = cs_out_buf_close(&b);
        free(raw);
        if (cs_text_width(who[i]) > who_width)
            who_width = cs_text_width(who[i]);
    }
    printf("\nhistory:\n");
    for (size_t i = 0; i < n; i++) {
        char when[CS_HLC_TEXT_MAX];
        if (s_ack_of_delete(h, n, i))
            continue;
        cs_out_hlc(h[i].hlc, when);
        printf("  %s  %s%*s  ", when, who[i],
               (int)(who_width - cs_text_width(who[i])), "");
        s_change_text(stdout, &h[i]);
        putchar('\n');
    }
    for (size_t i = 0; i < n; i++)
        free(who[i]);
    free(who);
}

static void
s_show_history_json(struct cs_store *s, struct cs_json *j,
                    const struct cs_changes *hist)
{
    const struct cs_change *h = cs_changes_items(hist);

    cs_json_array_begin(j);
    for (size_t i = 0; i < cs_changes_count(hist); i++) {
        char when[CS_HLC_TEXT_MAX], hex[CS_NODE_ID_HEX_LEN + 1];
        const char *label;

        cs_out_hlc(h[i].hlc, when);
        cs_node_id_hex(&h[i].origin, hex);
        cs_json_object_begin(j);
        cs_json_key(j, "time");
        cs_json_str(j, when);
        cs_json_key(j, "hlc");
        cs_json_uint(j, h[i].hlc.t);
        cs_json_key(j, "node_id");
        cs_json_str(j, hex);
        cs_json_key(j, "who");
        if ((label = cs_store_origin_label(s, &h[i].origin)) != NULL)
            cs_json_str(j, label);
        else
            cs_json_null(j);
        cs_json_key(j, "op");
        cs_json_str(j, s_op_name(h[i].op));
        cs_json_key(j, "field");
        if (h[i].col[0] != '\0')
            cs_json_str(j, h[i].col);
        else
            cs_json_null(j);
        if (h[i].op == CS_OP_SET) {
            cs_json_key(j, "value");
            cs_json_value(j, &h[i].value);
        }
        cs_json_object_end(j);
    }
    cs_json_array_end(j);
}

static const char *
s_state_name(enum s_state state)
{
    switch (state) {
    case S_LIVE:
        return "live";
    case S_DELETED:
        return "deleted";
    case S_INCOMPLETE:
        return "incomplete";
    default:
        return "unknown";
    }
}

/* Prints the row (st on its row when live) and its history. */
static void
s_show_print(const struct cs_cmd_ctx *ctx, struct cs_store *s,
             const struct cs_table *t, const char *id, sqlite3_stmt *st,
             enum s_state state, const struct cs_changes *hist)
{
    struct cs_json j;
    size_t name_width = 0;

    if (ctx->json) {
        cs_json_init(&j, stdout);
        cs_json_object_begin(&j);
        cs_json_key(&j, "table");
        cs_json_str(&j, t->name);
        cs_json_key(&j, "id");
        cs_json_str(&j, id);
        cs_json_key(&j, "state");
        cs_json_str(&j, s_state_name(state));
        cs_json_key(&j, "fields");
        if (state == S_LIVE) {
            cs_json_object_begin(&j);
            for (size_t i = 0; i < t->ncols; i++) {
                struct cs_value v;
                cs_store_column_value(st, (int)i, &v);
                cs_json_key(&j, t->cols[i]);
                cs_json_value(&j, &v);
            }
            cs_json_object_end(&j);
        } else {
            cs_json_null(&j);
        }
        cs_json_key(&j, "history");
        s_show_history_json(s, &j, hist);
        cs_json_object_end(&j);
        cs_json_finish(&j);
        return;
    }
    printf("%s ", t->name);
    cs_text_escape(stdout, id, strlen(id), false);
    if (state == S_DELETED)
        printf(" (deleted)");
    else if (state == S_INCOMPLETE)
        printf(" (incomplete: its insert has not arrived yet)");
    putchar('\n');
    for (size_t i = 0; i < t->ncols; i++)
        if (strlen(t->cols[i]) > name_width)
            name_width = strlen(t->cols[i]);
    for (size_t i = 0; state == S_LIVE && i < t->ncols; i++) {
        struct cs_value v;
        cs_store_column_value(st, (int)i, &v);
        printf("  %s", t->cols[i]);
        if (v.type != SQLITE_NULL) {
            printf("%*s  ", (int)(name_width - strlen(t->cols[i])), "");
            cs_out_value(stdout, &v, "", false);
        }
        putchar('\n');
    }
    s_show_history_text(s, hist);
}

static int
s_show(const struct cs_cmd_ctx *ctx, struct cs_store *s, const char *table,
       const char *id)
{
    sqlite3 *db = cs_store_db(s);
    const struct cs_table *t;
    struct cs_changes hist;
    sqlite3_stmt *st = NULL;
    enum s_state state = S_LIVE;
    struct cs_out_buf b;
    char *sql;
    int r, rc;

    cs_changes_init(&hist);
    if ((r = cs_cmd_table(NULL, s, table, &t)) != 0)
        goto out;
    if ((r = cs_store_history(s, t->name, id, cs_changes_collect, &hist)) !=
        0) {
        cs_out_store_error(s, r, "reading the history");
        goto out;
    }
    cs_out_buf_open(&b);
    s_select_sql(b.f, t);
    fputs(" WHERE id = ?1", b.f);
    sql = cs_out_buf_close(&b);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        r = cs_out_read_error(db, rc, t->name);
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = cs_out_read_error(db, rc, t->name);
        goto out;
    }
    if (rc == SQLITE_DONE) {
        if (cs_changes_count(&hist) == 0) {
            char *q = cs_out_quote(id);
            cs_out_error("no %s with id %s", t->name, q);
            free(q);
            r = CS_ERR_NOT_FOUND;
            goto out;
        }
        state = cs_store_is_deleted(s, t, id) ? S_DELETED : S_INCOMPLETE;
    }
    s_show_print(ctx, s, t, id, st, state, &hist);
out:
    sqlite3_finalize(st);
    cs_changes_clear(&hist);
    return r;
}

int
cs_cmd_show(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    int r;

    for (int i = 0; i < argc; i++)
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("show", argv[i]);
    if (argc != 2)
        return cs_cmd_bad_args("show", "expected TABLE ID");
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    r = s_show(ctx, cs_nodedir_store(d), argv[0], argv[1]);
    cs_nodedir_destroy(&d);
    return r;
}
