/*  common/store.c - the replica store; see store.h for the interface.
 *
 *  Design note: why the state is a function of the log
 *  ---------------------------------------------------
 *  zz_log holds every change this replica knows: its own (captured by the
 *  triggers below) and every remote one (cs_store_apply).  Each change is
 *  identified by (origin, origin_seq), so a duplicate is recognised and
 *  dropped by a UNIQUE index.  What the user sees, the winner of every field
 *  (zz_cell) and the conflict list (zz_conflict) are derived from the set
 *  of changes of a row by s_derive(), which does not look at arrival order.
 *  Hence two replicas that hold the same set of changes hold the same rows
 *  and the same conflicts, whatever order the changes came in.
 *
 *  The derivation, for one row:
 *  - life: among INS / DEL / RST changes the greatest (HLC, origin) wins;
 *    the row is visible if that winner is INS or RST.  No life change yet
 *    (its fields arrived before its insert) means not visible yet.
 *  - field f: among SET changes of f the greatest (HLC, origin) wins; a
 *    field with no SET is NULL.
 *  - conflicts: every change names the version it replaced (its base: the
 *    field's winner on the writer's replica when it wrote).  A SET that lost
 *    and that no change names as its base was overwritten by a writer who
 *    never saw it: a conflict.  If the row is deleted, a field winner that
 *    no change names as base was never seen by the deleter: a conflict
 *    (lost to the delete).  ACK changes exist only to name a base: the
 *    triggers write them when a person edits a conflicted field or deletes
 *    a row, which settles those conflicts everywhere.
 *
 *  Local edits take the fast path in SQL (the triggers), which produces the
 *  same zz_cell and zz_conflict as s_derive() would, because a local change
 *  always carries the greatest HLC of the replica: it wins its field, its
 *  base is the previous winner, and it acknowledges the conflicts it
 *  settles.  cs_store_check() recomputes everything from the log and
 *  compares; the tests run it after every random history.
 *
 *  The HLC in SQL.  The triggers compute
 *      hlc = max(hlc + 1, now_ms << 16)
 *  from zz_state.hlc and the wall clock, exactly cs_hlc_tick(), so an edit
 *  made by the sqlite3 shell gets a proper timestamp with no cigsync code
 *  loaded.  Applying remote changes sets zz_state.capture = 0 inside the
 *  applying transaction, which the triggers' WHEN clause tests, so remote
 *  changes are never captured as local ones; no other connection can see
 *  capture = 0 because it is only ever committed as 1.
 */
#include "prelude.h"

#include "err.h"
#include "hlc.h"
#include "id.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "store.h"

extern const char cs_schema_sql[];

_Static_assert(CS_VALUE_INTEGER == SQLITE_INTEGER &&
                   CS_VALUE_FLOAT == SQLITE_FLOAT &&
                   CS_VALUE_TEXT == SQLITE_TEXT &&
                   CS_VALUE_BLOB == SQLITE_BLOB && CS_VALUE_NULL == SQLITE_NULL,
               "change.h value types must use SQLite's numbers");

#define S_NAME_MAX 64  /* longest table or field name */
#define S_OFFICE_MIN 2 /* office codes are 2..8 of [A-Z0-9] */
#define S_OFFICE_MAX 8
#define S_ERRMSG_MAX 512 /* cs_store_errmsg() buffer */
#define S_KIND_FIELD 1   /* zz_conflict.kind: lost to another value */
#define S_KIND_DELETED 2 /* zz_conflict.kind: lost to a delete */

/* Wall clock in ms, as SQLite sees it (same expression as schema.sql). */
#define S_SQL_NOW_MS                                                           \
    "(CAST(strftime('%s','now') AS INTEGER) * 1000"                            \
    " + CAST(substr(strftime('%f','now'), 4) AS INTEGER))"
#define S_SQL_TICK                                                             \
    "UPDATE zz_state SET hlc = max(hlc + 1, "                                  \
    "coalesce(now_override, " S_SQL_NOW_MS ") << 16)"

static const char s_engine_sql[] =
    "CREATE TABLE zz_meta(\n"
    "  key TEXT PRIMARY KEY NOT NULL, -- fact name\n"
    "  value                          -- its value\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE zz_state(\n"
    "  one INTEGER PRIMARY KEY CHECK (one = 1), -- a single row\n"
    "  hlc INTEGER NOT NULL DEFAULT 0, -- hybrid logical clock, ms<<16|n\n"
    "  capture INTEGER NOT NULL DEFAULT 1, -- 0 only while applying\n"
    "  now_override INTEGER -- tests only: wall clock in ms\n"
    ");\n"
    "INSERT INTO zz_state(one) VALUES (1);\n"
    "CREATE TABLE zz_table(\n"
    "  tid INTEGER PRIMARY KEY,\n"
    "  name TEXT UNIQUE NOT NULL,\n"
    "  restricted INTEGER NOT NULL DEFAULT 0,\n"
    "  personal TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE TABLE zz_origin(\n"
    "  oid INTEGER PRIMARY KEY, -- 1 is this node\n"
    "  node TEXT UNIQUE NOT NULL, -- node id, 32 hex digits\n"
    "  name TEXT -- display name, when known\n"
    ");\n"
    "CREATE TABLE zz_log(\n"
    "  lid INTEGER PRIMARY KEY AUTOINCREMENT, -- local log position\n"
    "  tid INTEGER NOT NULL, -- zz_table.tid\n"
    "  row_id TEXT NOT NULL, -- the row's id\n"
    "  col TEXT NOT NULL, -- field, '' for row life\n"
    "  op INTEGER NOT NULL, -- 1 set 2 ack 3 insert 4 delete 5 restore\n"
    "  value, -- op 1: the new value\n"
    "  hlc INTEGER NOT NULL, -- origin's clock\n"
    "  oid INTEGER NOT NULL, -- origin, zz_origin.oid\n"
    "  oseq INTEGER, -- origin's number; NULL for ours (it is lid)\n"
    "  base_hlc INTEGER, -- version replaced: hlc\n"
    "  base_oid INTEGER, -- version replaced: origin\n"
    "  batch INTEGER -- ours: the batch that carried it\n"
    ");\n"
    "CREATE INDEX zz_log_row ON zz_log(tid, row_id, col, hlc);\n"
    "CREATE UNIQUE INDEX zz_log_origin ON zz_log(oid, oseq);\n"
    "CREATE INDEX zz_log_unsent ON zz_log(lid)"
    " WHERE oid = 1 AND batch IS NULL;\n"
    "CREATE TABLE zz_cell(\n"
    "  tid INTEGER NOT NULL, row_id TEXT NOT NULL,\n"
    "  col TEXT NOT NULL, -- field, '' for row life\n"
    "  hlc INTEGER NOT NULL, oid INTEGER NOT NULL, -- winning version\n"
    "  dead INTEGER NOT NULL DEFAULT 0, -- row life: 1 if deleted\n"
    "  PRIMARY KEY (tid, row_id, col)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE zz_conflict(\n"
    "  tid INTEGER NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,\n"
    "  lost_hlc INTEGER NOT NULL, lost_oid INTEGER NOT NULL,\n"
    "  kind INTEGER NOT NULL, -- 1 lost to a value, 2 lost to a delete\n"
    "  lost_value, -- the value that lost\n"
    "  PRIMARY KEY (tid, row_id, col, lost_hlc, lost_oid)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE zz_head(\n"
    "  oid INTEGER PRIMARY KEY, -- an origin whose batches we applied\n"
    "  seq INTEGER NOT NULL, -- the last of them\n"
    "  hash BLOB NOT NULL -- and its hash\n"
    ");\n"
    "CREATE TABLE zz_applied(\n"
    "  oid INTEGER NOT NULL, seq INTEGER NOT NULL, -- every batch applied\n"
    "  hash BLOB NOT NULL, -- its hash, to recognise a forged older one\n"
    "  PRIMARY KEY (oid, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE zz_batch(\n"
    "  seq INTEGER PRIMARY KEY, -- this node's batches: 1, 2, 3, ...\n"
    "  hash BLOB NOT NULL, -- BLAKE2b-256 of the signed body\n"
    "  prev BLOB NOT NULL, -- hash of batch seq - 1 (zeros for 1)\n"
    "  first_lid INTEGER NOT NULL, last_lid INTEGER NOT NULL, -- changes\n"
    "  count INTEGER NOT NULL, -- how many changes it carries\n"
    "  bytes BLOB NOT NULL, -- the signed batch, as sent\n"
    "  created INTEGER NOT NULL -- wall clock, ms\n"
    ");\n";

/* One change of a row, read back from zz_log for s_derive(). */
struct s_entry {
    const char *col;           /* field, "" for row life */
    char *owned;               /* col when this entry owns it, else NULL */
    int op;                    /* enum cs_op */
    sqlite3_value *value;      /* CS_OP_SET: the value (owned), or NULL ... */
    const struct cs_value *cv; /* ... when read from a batch: not owned */
    uint64_t hlc;              /* version: clock */
    int64_t oid;               /* version: origin */
    bool has_base;             /* base present */
    uint64_t base_hlc;         /* version replaced: clock */
    int64_t base_oid;          /* version replaced: origin */
};

/* A conflict derived for one row. */
struct s_lost {
    size_t entry; /* index of the losing change in the entries */
    int kind;     /* S_KIND_* */
};

/* The derived state of one row. */
struct s_derived {
    bool has_life;       /* some life change is known */
    bool alive;          /* visible */
    size_t life;         /* index of the winning life change */
    size_t *winner;      /* per table column: entry index, or SIZE_MAX */
    struct s_lost *lost; /* conflicts */
    size_t nlost;        /* how many */
};

/* The last digest computed, and the state of the file it was computed
   on: a digest is a scan of every row in scope, and a node and the server
   ask for it again at every quiet point of a session, mostly of content
   that did not change. */
struct s_digest_cache {
    bool valid;                          /* the fields below hold one */
    int64_t data_version;                /* PRAGMA data_version then */
    int64_t changes;                     /* sqlite3_total_changes64() */
    char office[S_OFFICE_MAX + 1];       /* its office, "" for all */
    uint8_t digest[CS_STORE_HASH_BYTES]; /* the digest */
    uint64_t rows;                       /* and its row count */
};

/* A statement that writes one field of a visible row. */
struct s_colstmt {
    sqlite3_stmt *set; /* UPDATE t SET col = ? WHERE id = ?, or NULL */
};

/* Per-table cached statements. */
struct s_tstmt {
    sqlite3_stmt *upsert;      /* write a visible row */
    sqlite3_stmt *remove;      /* delete a row */
    sqlite3_stmt *select;      /* read a row, for checks */
    struct s_colstmt *set_col; /* per column, or NULL until needed */
};

struct cs_store {
    sqlite3 *db;                   /* the replica */
    char *path;                    /* its file */
    struct cs_node_id self;        /* this node */
    char office[S_OFFICE_MAX + 1]; /* this node's office code */
    struct cs_table *tables;       /* synced tables */
    struct s_tstmt *tstmts;        /* per table statements */
    size_t ntables;                /* how many */
    struct cs_node_id *origins;    /* oid - 1 -> node id */
    size_t norigins;               /* how many */
    uint64_t max_ahead_ms;         /* clock bound for remote HLCs */
    char errmsg[S_ERRMSG_MAX];     /* last failure, for people */
    char label[S_NAME_MAX * 2];    /* cs_store_origin_label() buffer */
    sqlite3_stmt *log_insert;      /* INSERT OR IGNORE INTO zz_log */
    sqlite3_stmt *log_row;         /* a row's changes */
    sqlite3_stmt *cell_upsert;     /* write a winner */
    sqlite3_stmt *conf_clear;      /* forget a row's conflicts */
    sqlite3_stmt *conf_insert;     /* add a conflict */
    sqlite3_stmt *origin_insert;   /* intern a node id */
    sqlite3_stmt *log_by_seq;      /* a change by (origin, origin_seq) */
    sqlite3_stmt *log_same_time;   /* a SET of one field at one HLC */
    sqlite3_stmt *row_office;      /* a row's winning office_id */
    sqlite3_stmt *log_count;       /* how many changes a row has */
    sqlite3_stmt *cell_get;        /* one field's winning version */
    bool nested;                   /* inside the caller's cs_store_begin() */
    bool defer_rows;               /* apply logs only (cs_store_defer_rows) */
    struct s_digest_cache dc;      /* the last cs_store_digest() */
};

static void s_set_errmsg(struct cs_store *s, const char *fmt, ...)
    CS_PRINTF(2, 3);

static void
s_set_errmsg(struct cs_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
}

/* Maps an SQLite result code to a CS_ERR_* and records the message. */
static int
s_db_err(struct cs_store *s, int rc, const char *what)
{
    int ext = sqlite3_extended_errcode(s->db);
    s_set_errmsg(s, "%s: %s", what, sqlite3_errmsg(s->db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || ext == SQLITE_BUSY)
        return CS_ERR_LOCKED;
    return CS_ERR_DB;
}

static int
s_exec(struct cs_store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return s_db_err(s, rc, "replica");
    return 0;
}

static int
s_prepare(struct cs_store *s, const char *sql, sqlite3_stmt **st)
{
    int rc =
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK)
        return s_db_err(s, rc, "replica");
    return 0;
}

/* Steps a statement that returns no rows, then resets it. */
static int
s_step_done(struct cs_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = s_db_err(s, rc, "replica");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

static bool
s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > S_NAME_MAX)
        return false;
    if (!(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return strncmp(name, "zz_", 3) != 0 && strncmp(name, "sqlite_", 7) != 0;
}

bool
cs_store_office_valid(const char *office)
{
    size_t n = strlen(office);
    if (n < S_OFFICE_MIN || n > S_OFFICE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((office[i] >= 'A' && office[i] <= 'Z') ||
              (office[i] >= '0' && office[i] <= '9')))
            return false;
    return true;
}

/* Returns the hex of a node id in a static buffer, for messages. */
static const char *
s_hex(const uint8_t b[CS_NODE_ID_BYTES])
{
    static char hex[CS_NODE_ID_HEX_LEN + 1];
    struct cs_node_id id;
    memcpy(id.b, b, CS_NODE_ID_BYTES);
    cs_node_id_hex(&id, hex);
    return hex;
}

/* ---- origins ----------------------------------------------------------- */

static int
s_origins_load(struct cs_store *s)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(s, "SELECT oid, node FROM zz_origin ORDER BY oid",
                       &st)) != 0)
        return r;
    s->norigins = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t oid = sqlite3_column_int64(st, 0);
        const char *hex = (const char *)sqlite3_column_text(st, 1);
        if (oid != (int64_t)s->norigins + 1 || hex == NULL) {
            r = CS_ERR_SCHEMA;
            s_set_errmsg(s, "zz_origin is not numbered 1, 2, 3, ...");
            goto out;
        }
        s->origins =
            cs_xrealloc(s->origins, (s->norigins + 1) * sizeof *s->origins);
        if ((r = cs_node_id_parse(hex, &s->origins[s->norigins])) != 0) {
            s_set_errmsg(s, "zz_origin holds a bad node id");
            goto out;
        }
        s->norigins++;
    }
    if (rc != SQLITE_DONE)
        r = s_db_err(s, rc, "reading origins");
out:
    sqlite3_finalize(st);
    return r;
}

/* Finds or interns node, giving its oid. */
static int
s_origin_oid(struct cs_store *s, const struct cs_node_id *node, int64_t *oid)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    int r;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->norigins; i++) {
            if (memcmp(s->origins[i].b, node->b, CS_NODE_ID_BYTES) == 0) {
                *oid = (int64_t)i + 1;
                return 0;
            }
        }
        /* Another program may have interned origins since we loaded them:
           read them again before adding one, so numbers never clash. */
        if (pass == 0 && (r = s_origins_load(s)) != 0)
            return r;
    }
    cs_node_id_hex(node, hex);
    sqlite3_bind_int64(s->origin_insert, 1, (int64_t)s->norigins + 1);
    sqlite3_bind_text(s->origin_insert, 2, hex, -1, SQLITE_TRANSIENT);
    if ((r = s_step_done(s, s->origin_insert)) != 0)
        return r;
    s->origins =
        cs_xrealloc(s->origins, (s->norigins + 1) * sizeof *s->origins);
    s->origins[s->norigins++] = *node;
    *oid = (int64_t)s->norigins;
    return 0;
}

static const struct cs_node_id *
s_origin_node(const struct cs_store *s, int64_t oid)
{
    static const struct cs_node_id unknown; /* all zero */
    if (oid < 1 || (size_t)oid > s->norigins)
        return &unknown;
    return &s->origins[oid - 1];
}

/* Makes sure oid is in the origin cache (another process may have added
   it since this store was opened). */
static int
s_origin_known(struct cs_store *s, int64_t oid)
{
    if (oid >= 1 && (size_t)oid <= s->norigins)
        return 0;
    return s_origins_load(s);
}

/* Orders versions by (hlc, origin node id): the merge's total order. */
static int
s_version_cmp(const struct cs_store *s, uint64_t hlc_a, int64_t oid_a,
              uint64_t hlc_b, int64_t oid_b)
{
    if (hlc_a != hlc_b)
        return hlc_a < hlc_b ? -1 : 1;
    if (oid_a == oid_b)
        return 0;
    return memcmp(s_origin_node(s, oid_a)->b, s_origin_node(s, oid_b)->b,
                  CS_NODE_ID_BYTES) < 0
               ? -1
               : 1;
}

/* ---- tables and triggers ----------------------------------------------- */

static void
s_tables_free(struct cs_store *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        struct cs_table *t = &s->tables[i];
        for (size_t j = 0; j < t->ncols; j++) {
            free(t->cols[j]);
            free(t->types[j]);
        }
        free(t->cols);
        free(t->types);
        free(t->personal);
        free(t->name);
        sqlite3_finalize(s->tstmts[i].upsert);
        sqlite3_finalize(s->tstmts[i].remove);
        sqlite3_finalize(s->tstmts[i].select);
        for (size_t j = 0; s->tstmts[i].set_col != NULL && j < t->ncols; j++)
            sqlite3_finalize(s->tstmts[i].set_col[j].set);
        free(s->tstmts[i].set_col);
    }
    free(s->tables);
    free(s->tstmts);
    s->tables = NULL;
    s->tstmts = NULL;
    s->ntables = 0;
}

static bool
s_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return false;
}

/* Reads one table's fields from PRAGMA table_info; id must come first and
   office_id must exist. */
static int
s_table_load_cols(struct cs_store *s, struct cs_table *t, const char *personal)
{
    sqlite3_stmt *st = NULL;
    char *sql = cs_xasprintf("PRAGMA table_info(\"%s\")", t->name);
    bool has_office = false;
    int r, rc;

    r = s_prepare(s, sql, &st);
    free(sql);
    if (r != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int pk = sqlite3_column_int(st, 5);
        if (name == NULL)
            continue;
        if (t->ncols == 0 && (strcmp(name, "id") != 0 || pk != 1)) {
            r = CS_ERR_SCHEMA;
            s_set_errmsg(s,
                         "synced table %s must start with id TEXT "
                         "PRIMARY KEY",
                         t->name);
            goto out;
        }
        if (t->ncols > 0 && (!s_name_ok(name) || pk != 0)) {
            r = CS_ERR_SCHEMA;
            s_set_errmsg(s, "synced table %s: bad field name or key %s",
                         t->name, name);
            goto out;
        }
        t->cols = cs_xrealloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
        t->types = cs_xrealloc(t->types, (t->ncols + 1) * sizeof *t->types);
        t->personal =
            cs_xrealloc(t->personal, (t->ncols + 1) * sizeof *t->personal);
        t->cols[t->ncols] = cs_xstrdup(name);
        t->types[t->ncols] = cs_xstrdup(type ? type : "");
        t->personal[t->ncols] = s_in_list(personal, name);
        has_office |= strcmp(name, "office_id") == 0;
        t->ncols++;
    }
    if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading table fields");
        goto out;
    }
    if (t->ncols == 0 || !has_office) {
        r = CS_ERR_SCHEMA;
        s_set_errmsg(s, "synced table %s needs id and office_id", t->name);
    }
out:
    sqlite3_finalize(st);
    return r;
}

static int
s_tables_load(struct cs_store *s)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(s,
                       "SELECT tid, name, restricted, personal "
                       "FROM zz_table ORDER BY tid",
                       &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *personal = (const char *)sqlite3_column_text(st, 3);
        struct cs_table *t;
        if (name == NULL || !s_name_ok(name)) {
            r = CS_ERR_SCHEMA;
            s_set_errmsg(s, "zz_table lists a bad table name");
            goto out;
        }
        s->tables =
            cs_xrealloc(s->tables, (s->ntables + 1) * sizeof *s->tables);
        s->tstmts =
            cs_xrealloc(s->tstmts, (s->ntables + 1) * sizeof *s->tstmts);
        t = &s->tables[s->ntables];
        memset(t, 0, sizeof *t);
        memset(&s->tstmts[s->ntables], 0, sizeof s->tstmts[0]);
        s->ntables++;
        t->tid = sqlite3_column_int(st, 0);
        t->name = cs_xstrdup(name);
        t->restricted = sqlite3_column_int(st, 2) != 0;
        if ((r = s_table_load_cols(s, t, personal ? personal : "")) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        r = s_db_err(s, rc, "reading zz_table");
out:
    sqlite3_finalize(st);
    return r;
}

/* Writes a statement refusing a field value larger than any replica
   accepts (CS_STORE_VALUE_MAX), so it is refused where it is typed rather
   than stalling this node's feed later. */
static void
s_size_check_sql(FILE *f, const struct cs_table *t)
{
    fprintf(f,
            " SELECT RAISE(ABORT, 'cigsync: a field value is larger than "
            "%u bytes') WHERE ",
            CS_STORE_VALUE_MAX);
    for (size_t i = 1; i < t->ncols; i++)
        fprintf(f, "%slength(CAST(NEW.\"%s\" AS BLOB)) > %u",
                i > 1 ? " OR " : "", t->cols[i], CS_STORE_VALUE_MAX);
    fprintf(f, ";\n");
}

/* Writes the three capture triggers of table t to f. */
static void
s_triggers_sql(FILE *f, const struct cs_table *t)
{
    const char *log_cols = "INSERT INTO zz_log(tid, row_id, col, op, value, "
                           "hlc, oid, base_hlc, base_oid)";
    int k = t->tid;

    /* Insert: fill office_id, then log the row's life and its fields. A
       re-insert of a deleted id is a restore; the fields logged are every
       non-NULL one and every one that had a value before. */
    fprintf(f,
            "CREATE TRIGGER \"zz_ins_%s\" AFTER INSERT ON \"%s\"\n"
            " WHEN (SELECT capture FROM zz_state) BEGIN\n"
            " SELECT RAISE(ABORT, 'cigsync: an id is 1 to 64 of A-Z a-z 0-9"
            " _ . : -') WHERE typeof(NEW.id) <> 'text' OR length(NEW.id)"
            " NOT BETWEEN 1 AND 64 OR NEW.id GLOB '*[^A-Za-z0-9_.:-]*';\n",
            t->name, t->name);
    s_size_check_sql(f, t);
    /* A row inserted without an office belongs to this node's office,
       unless its id is known: a re-insert (REPLACE INTO, or a restore by
       INSERT) keeps the office the row had. */
    fprintf(f,
            " UPDATE zz_state SET capture = 0;\n"
            " UPDATE \"%s\" SET office_id = coalesce((SELECT l.value FROM"
            " zz_cell c JOIN zz_log l ON l.tid = c.tid AND l.row_id ="
            " c.row_id AND l.col = c.col AND l.hlc = c.hlc AND l.oid = c.oid"
            " AND l.op = %d WHERE c.tid = %d AND c.row_id = NEW.id AND c.col ="
            " 'office_id'), (SELECT value FROM zz_meta WHERE key = 'office'))"
            " WHERE id = NEW.id AND office_id IS NULL;\n"
            " UPDATE zz_state SET capture = 1;\n %s;\n",
            t->name, CS_OP_SET, k, S_SQL_TICK);
    fprintf(f,
            " %s SELECT %d, NEW.id, '', CASE WHEN c.dead THEN %d ELSE %d END,"
            " NULL, s.hlc, 1, c.hlc, c.oid FROM zz_state s LEFT JOIN zz_cell c"
            " ON c.tid = %d AND c.row_id = NEW.id AND c.col = '';\n",
            log_cols, k, CS_OP_RST, CS_OP_INS, k);
    /* One statement per field: a compound SELECT would impose its first
       column's affinity on every value. */
    for (size_t i = 1; i < t->ncols; i++)
        fprintf(f,
                " %s SELECT %d, NEW.id, '%s', %d, r.\"%s\", s.hlc, 1, c.hlc,"
                " c.oid FROM \"%s\" r JOIN zz_state s LEFT JOIN zz_cell c ON"
                " c.tid = %d AND c.row_id = NEW.id AND c.col = '%s'"
                " WHERE r.id = NEW.id AND (r.\"%s\" IS NOT NULL OR"
                " c.hlc IS NOT NULL);\n",
                log_cols, k, t->cols[i], CS_OP_SET, t->cols[i], t->name, k,
                t->cols[i], t->cols[i]);
    fprintf(f,
            " %s SELECT %d, NEW.id, f.col, %d, NULL, s.hlc, 1, f.lost_hlc,"
            " f.lost_oid FROM zz_conflict f JOIN zz_state s"
            " WHERE f.tid = %d AND f.row_id = NEW.id;\n"
            " DELETE FROM zz_conflict WHERE tid = %d AND row_id = NEW.id;\n",
            log_cols, k, CS_OP_ACK, k, k);
    fprintf(f,
            " INSERT INTO zz_cell(tid, row_id, col, hlc, oid, dead)"
            " SELECT tid, row_id, col, hlc, 1, 0 FROM zz_log INDEXED BY "
            "zz_log_row WHERE tid = %d"
            " AND row_id = NEW.id AND hlc = (SELECT hlc FROM zz_state)"
            " AND oid = 1 AND op <> %d ON CONFLICT (tid, row_id, col)"
            " DO UPDATE SET hlc = excluded.hlc, oid = 1, dead = 0;\n"
            "END;\n",
            k, CS_OP_ACK);

    /* Update: log the changed fields, settle their conflicts. */
    fprintf(f,
            "CREATE TRIGGER \"zz_upd_%s\" AFTER UPDATE ON \"%s\"\n"
            " WHEN (SELECT capture FROM zz_state) BEGIN\n"
            " SELECT RAISE(ABORT, 'cigsync: the id of a record cannot be "
            "changed') WHERE NEW.id IS NOT OLD.id;\n",
            t->name, t->name);
    s_size_check_sql(f, t);
    fprintf(f, " %s;\n", S_SQL_TICK);
    for (size_t i = 1; i < t->ncols; i++)
        fprintf(f,
                " %s SELECT %d, NEW.id, '%s', %d, NEW.\"%s\", s.hlc, 1,"
                " c.hlc, c.oid FROM zz_state s LEFT JOIN zz_cell c ON"
                " c.tid = %d AND c.row_id = NEW.id AND c.col = '%s'"
                " WHERE NEW.\"%s\" IS NOT OLD.\"%s\";\n",
                log_cols, k, t->cols[i], CS_OP_SET, t->cols[i], k, t->cols[i],
                t->cols[i], t->cols[i]);
    fprintf(f,
            " %s SELECT %d, NEW.id, f.col, %d, NULL, s.hlc, 1, f.lost_hlc,"
            " f.lost_oid FROM zz_conflict f JOIN zz_state s"
            " WHERE f.tid = %d AND f.row_id = NEW.id AND f.col IN"
            " (SELECT col FROM zz_log INDEXED BY zz_log_row WHERE tid = %d AND "
            "row_id = NEW.id"
            " AND hlc = s.hlc AND oid = 1 AND op = %d);\n",
            log_cols, k, CS_OP_ACK, k, k, CS_OP_SET);
    fprintf(f,
            " DELETE FROM zz_conflict WHERE tid = %d AND row_id = NEW.id AND"
            " col IN (SELECT col FROM zz_log INDEXED BY zz_log_row WHERE tid = "
            "%d AND"
            " row_id = NEW.id AND hlc = (SELECT hlc FROM zz_state) AND"
            " oid = 1 AND op = %d);\n",
            k, k, CS_OP_SET);
    fprintf(f,
            " INSERT INTO zz_cell(tid, row_id, col, hlc, oid, dead)"
            " SELECT tid, row_id, col, hlc, 1, 0 FROM zz_log INDEXED BY "
            "zz_log_row WHERE tid = %d"
            " AND row_id = NEW.id AND hlc = (SELECT hlc FROM zz_state)"
            " AND oid = 1 AND op = %d ON CONFLICT (tid, row_id, col)"
            " DO UPDATE SET hlc = excluded.hlc, oid = 1;\n"
            "END;\n",
            k, CS_OP_SET);

    /* Delete: a tombstone that acknowledges every version it saw. */
    fprintf(f,
            "CREATE TRIGGER \"zz_del_%s\" AFTER DELETE ON \"%s\"\n"
            " WHEN (SELECT capture FROM zz_state) BEGIN\n %s;\n",
            t->name, t->name, S_SQL_TICK);
    fprintf(f,
            " %s SELECT %d, OLD.id, '', %d, NULL, s.hlc, 1, c.hlc, c.oid"
            " FROM zz_state s LEFT JOIN zz_cell c ON c.tid = %d AND"
            " c.row_id = OLD.id AND c.col = '';\n",
            log_cols, k, CS_OP_DEL, k);
    fprintf(f,
            " %s SELECT %d, OLD.id, c.col, %d, NULL, s.hlc, 1, c.hlc, c.oid"
            " FROM zz_cell c JOIN zz_state s WHERE c.tid = %d AND"
            " c.row_id = OLD.id AND c.col <> '';\n",
            log_cols, k, CS_OP_ACK, k);
    fprintf(f,
            " %s SELECT %d, OLD.id, f.col, %d, NULL, s.hlc, 1, f.lost_hlc,"
            " f.lost_oid FROM zz_conflict f JOIN zz_state s"
            " WHERE f.tid = %d AND f.row_id = OLD.id;\n"
            " DELETE FROM zz_conflict WHERE tid = %d AND row_id = OLD.id;\n",
            log_cols, k, CS_OP_ACK, k, k);
    fprintf(f,
            " INSERT INTO zz_cell(tid, row_id, col, hlc, oid, dead)"
            " SELECT %d, OLD.id, '', hlc, 1, 1 FROM zz_state WHERE true"
            " ON CONFLICT (tid, row_id, col) DO UPDATE SET"
            " hlc = excluded.hlc, oid = 1, dead = 1;\n"
            "END;\n",
            k);
}

static int
s_triggers_install(struct cs_store *s)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    int r;

    if (f == NULL)
        return CS_ERR_NOMEM;
    for (size_t i = 0; i < s->ntables; i++)
        s_triggers_sql(f, &s->tables[i]);
    fclose(f);
    r = s_exec(s, sql);
    free(sql);
    return r;
}

/* ---- open / create ----------------------------------------------------- */

/* The store's cached statements: prepared when it opens, finalized when
   it closes, from this one list. */
static const struct {
    size_t at;       /* offsetof(struct cs_store, the statement) */
    const char *sql; /* its text */
} s_stmts[] = {
    {offsetof(struct cs_store, log_insert),
     "INSERT OR IGNORE INTO zz_log(tid, row_id, col, op, "
     "value, hlc, oid, oseq, base_hlc, base_oid) VALUES "
     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {offsetof(struct cs_store, log_row),
     "SELECT col, op, value, hlc, oid, base_hlc, base_oid "
     "FROM zz_log INDEXED BY zz_log_row WHERE tid = ? AND row_id = ?"},
    {offsetof(struct cs_store, cell_upsert),
     "INSERT INTO zz_cell(tid, row_id, col, hlc, oid, dead)"
     " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tid, row_id, "
     "col) DO UPDATE SET hlc = excluded.hlc, "
     "oid = excluded.oid, dead = excluded.dead"},
    {offsetof(struct cs_store, conf_clear),
     "DELETE FROM zz_conflict WHERE tid = ? AND row_id = ?"},
    {offsetof(struct cs_store, conf_insert),
     "INSERT INTO zz_conflict(tid, row_id, col, lost_hlc, "
     "lost_oid, kind, lost_value) VALUES "
     "(?, ?, ?, ?, ?, ?, ?)"},
    {offsetof(struct cs_store, origin_insert),
     "INSERT INTO zz_origin(oid, node) VALUES (?, ?)"},
    {offsetof(struct cs_store, log_by_seq),
     "SELECT tid, row_id, col, op, value, hlc, base_hlc, "
     "base_oid FROM zz_log WHERE oid = ? AND oseq = ?"},
    {offsetof(struct cs_store, log_same_time),
     "SELECT 1 FROM zz_log INDEXED BY zz_log_row WHERE tid = "
     "? AND row_id = ? AND "
     "col = ? AND op = 1 AND hlc = ? AND oid = ? AND "
     "lid <> ?"},
    {offsetof(struct cs_store, row_office),
     "SELECT l.value FROM zz_cell c JOIN zz_log l ON "
     "l.tid = c.tid AND l.row_id = c.row_id AND l.col = "
     "c.col AND l.hlc = c.hlc AND l.oid = c.oid AND l.op = 1"
     " WHERE c.tid = ? AND c.row_id = ? AND "
     "c.col = 'office_id'"},
    {offsetof(struct cs_store, log_count),
     "SELECT count(*) FROM zz_log INDEXED BY zz_log_row "
     "WHERE tid = ? AND row_id = ?"},
    {offsetof(struct cs_store, cell_get),
     "SELECT hlc, oid, dead FROM zz_cell WHERE tid = ? AND "
     "row_id = ? AND col = ?"},
};

static sqlite3_stmt **
s_stmt_slot(struct cs_store *s, size_t i)
{
    return (sqlite3_stmt **)(void *)((char *)s + s_stmts[i].at);
}

static int
s_stmts_prepare(struct cs_store *s)
{
    int r = 0;

    for (size_t i = 0; i < sizeof s_stmts / sizeof s_stmts[0] && r == 0; i++)
        r = s_prepare(s, s_stmts[i].sql, s_stmt_slot(s, i));
    return r;
}

static int
s_meta_read_all(struct cs_store *s)
{
    char *engine = NULL, *node = NULL, *office = NULL;
    int r;

    if ((r = cs_store_meta_get(s, "engine_version", &engine)) != 0 ||
        (r = cs_store_meta_get(s, "node_id", &node)) != 0 ||
        (r = cs_store_meta_get(s, "office", &office)) != 0)
        goto out;
    if (engine == NULL || node == NULL || office == NULL) {
        r = CS_ERR_SCHEMA;
        s_set_errmsg(s, "%s is not a cigsync replica (no zz_meta facts)",
                     s->path);
        goto out;
    }
    if (strtol(engine, NULL, 10) != CS_STORE_ENGINE_VERSION) {
        r = CS_ERR_SCHEMA;
        s_set_errmsg(s,
                     "%s was made by replica engine version %s; this "
                     "program has version %d",
                     s->path, engine, CS_STORE_ENGINE_VERSION);
        goto out;
    }
    if ((r = cs_node_id_parse(node, &s->self)) != 0 ||
        !cs_store_office_valid(office)) {
        r = CS_ERR_SCHEMA;
        s_set_errmsg(s, "%s: bad node id or office in zz_meta", s->path);
        goto out;
    }
    snprintf(s->office, sizeof s->office, "%s", office);
out:
    free(engine);
    free(node);
    free(office);
    return r;
}

static int
s_connect(const char *path, int flags, struct cs_store **out)
{
    struct cs_store *s = cs_xcalloc(1, sizeof *s);
    int rc;

    s->path = cs_xstrdup(path);
    s->max_ahead_ms = CS_HLC_MAX_AHEAD_MS_DEFAULT;
    rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int r = s->db ? s_db_err(s, rc, path) : CS_ERR_NOMEM;
        cs_store_destroy(&s);
        return r;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, CS_STORE_BUSY_TIMEOUT_MS);
    *out = s;
    return 0;
}

/* Settings of every connection: durable commits (acknowledgements depend
   on them), no foreign keys (rows arrive in any order). */
static int
s_pragmas(struct cs_store *s)
{
    /* A batch of 5,000 changes writes its log rows, their three indexes,
       the winners and the rows: with SQLite's default 2 MB page cache the
       transaction spills to the WAL half way and reads pages back (10% of
       an apply in perf); 8 MiB holds a batch and keeps a daemon well under
       its 32 MiB (issue 6). */
    return s_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;"
                     " PRAGMA recursive_triggers = OFF;"
                     " PRAGMA cache_size = -8192;");
}

int
cs_store_create_with_schema(const char *path, const struct cs_node_id *self,
                            const char *office, const char *schema_sql,
                            struct cs_store **out)
{
    struct cs_store *s = NULL;
    char hex[CS_NODE_ID_HEX_LEN + 1];
    char *meta = NULL;
    bool created = false;
    struct stat st;
    int r;

    *out = NULL;
    if (!cs_store_office_valid(office))
        return CS_ERR_INVALID;
    if (strcmp(path, ":memory:") != 0 && stat(path, &st) == 0)
        return CS_ERR_EXISTS;
    if ((r = s_connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s)) !=
        0)
        return r;
    created = true;
    cs_node_id_hex(self, hex);
    s->self = *self;
    snprintf(s->office, sizeof s->office, "%s", office);
    if ((r = s_exec(s, "PRAGMA journal_mode = WAL")) != 0 ||
        (r = s_pragmas(s)) != 0 || (r = s_exec(s, "BEGIN")) != 0 ||
        (r = s_exec(s, s_engine_sql)) != 0)
        goto out;
    meta = sqlite3_mprintf(
        "INSERT INTO zz_meta VALUES ('engine_version', %d),"
        " ('schema_version', %d), ('node_id', %Q), ('office', %Q);"
        " INSERT INTO zz_origin(oid, node) VALUES (1, %Q);"
        " PRAGMA user_version = %d;",
        CS_STORE_ENGINE_VERSION, CS_STORE_SCHEMA_VERSION, hex, office, hex,
        CS_STORE_SCHEMA_VERSION);
    if ((r = s_exec(s, meta)) != 0)
        goto out;
    if (s_exec(s, schema_sql) != 0) {
        s_set_errmsg(s, "schema: %s", sqlite3_errmsg(s->db));
        r = CS_ERR_SCHEMA;
        goto out;
    }
    if (strcmp(path, ":memory:") != 0 && chmod(path, 0600) != 0) {
        /* The replica holds personal data: owner only. */
        r = CS_ERR_IO;
        s_set_errmsg(s, "%s: %s", path, strerror(errno));
        goto out;
    }
    if ((r = s_tables_load(s)) != 0 || (r = s_triggers_install(s)) != 0 ||
        (r = s_origins_load(s)) != 0 || (r = s_stmts_prepare(s)) != 0 ||
        (r = s_exec(s, "COMMIT")) != 0)
        goto out;
    *out = s;
    s = NULL;
out:
    sqlite3_free(meta);
    if (s != NULL) {
        cs_log_err(r, "creating replica %s: %s", path, s->errmsg);
        cs_store_destroy(&s);
        if (created && strcmp(path, ":memory:") != 0) {
            char *side = cs_xasprintf("%s-wal", path);
            unlink(side);
            free(side);
            side = cs_xasprintf("%s-shm", path);
            unlink(side);
            free(side);
            unlink(path);
        }
    }
    return r;
}

int
cs_store_create(const char *path, const struct cs_node_id *self,
                const char *office, struct cs_store **out)
{
    return cs_store_create_with_schema(path, self, office, cs_schema_sql, out);
}

int
cs_store_open(const char *path, struct cs_store **out)
{
    struct cs_store *s = NULL;
    struct stat st;
    int r;

    *out = NULL;
    if (stat(path, &st) != 0)
        return CS_ERR_NOT_FOUND;
    if ((r = s_connect(path, SQLITE_OPEN_READWRITE, &s)) != 0)
        return r;
    if ((r = s_pragmas(s)) != 0 || (r = s_meta_read_all(s)) != 0 ||
        (r = s_tables_load(s)) != 0 || (r = s_origins_load(s)) != 0 ||
        (r = s_stmts_prepare(s)) != 0)
        goto out;
    *out = s;
    s = NULL;
out:
    if (s != NULL) {
        /* A file that is not SQLite at all fails in s_pragmas/meta. */
        if (r == CS_ERR_DB && sqlite3_extended_errcode(s->db) == SQLITE_NOTADB)
            r = CS_ERR_SCHEMA;
        cs_log_debug("opening replica %s: %s", path, s->errmsg);
        cs_store_destroy(&s);
    }
    return r;
}

void
cs_store_destroy(struct cs_store **sp)
{
    struct cs_store *s;
    if (sp == NULL || *sp == NULL)
        return;
    s = *sp;
    s_tables_free(s);
    for (size_t i = 0; i < sizeof s_stmts / sizeof s_stmts[0]; i++)
        sqlite3_finalize(*s_stmt_slot(s, i));
    if (s->db != NULL)
        sqlite3_close_v2(s->db);
    free(s->origins);
    free(s->path);
    free(s);
    *sp = NULL;
}

sqlite3 *
cs_store_db(struct cs_store *s)
{
    return s->db;
}

const char *
cs_store_errmsg(const struct cs_store *s)
{
    return s->errmsg;
}

const struct cs_node_id *
cs_store_self(const struct cs_store *s)
{
    return &s->self;
}

const char *
cs_store_office(const struct cs_store *s)
{
    return s->office;
}

const struct cs_table *
cs_store_table(const struct cs_store *s, const char *name)
{
    for (size_t i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i].name, name) == 0)
            return &s->tables[i];
    return NULL;
}

size_t
cs_store_table_count(const struct cs_store *s)
{
    return s->ntables;
}

const struct cs_table *
cs_store_table_at(const struct cs_store *s, size_t i)
{
    return i < s->ntables ? &s->tables[i] : NULL;
}

int
cs_table_col(const struct cs_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0)
            return (int)i;
    return -1;
}

static const struct cs_table *
s_table_by_tid(const struct cs_store *s, int tid, size_t *index)
{
    for (size_t i = 0; i < s->ntables; i++) {
        if (s->tables[i].tid == tid) {
            if (index != NULL)
                *index = i;
            return &s->tables[i];
        }
    }
    return NULL;
}

/* ---- meta, clock ------------------------------------------------------- */

int
cs_store_meta_get(struct cs_store *s, const char *key, char **value)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *value = NULL;
    if ((r = s_prepare(s, "SELECT value FROM zz_meta WHERE key = ?", &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *value = cs_xstrdup((const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = s_db_err(s, rc, "reading zz_meta");
    sqlite3_finalize(st);
    return r;
}

int
cs_store_meta_set(struct cs_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int r;

    if ((r = s_prepare(s,
                       value ? "INSERT OR REPLACE INTO zz_meta VALUES (?, ?)"
                             : "DELETE FROM zz_meta WHERE key = ?",
                       &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    r = s_step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

void
cs_store_set_max_ahead(struct cs_store *s, uint64_t ms)
{
    s->max_ahead_ms = ms;
}

int
cs_store_set_clock_override(struct cs_store *s, uint64_t ms)
{
    sqlite3_stmt *st = NULL;
    int r;
    if ((r = s_prepare(s, "UPDATE zz_state SET now_override = ?", &st)) != 0)
        return r;
    if (ms == 0)
        sqlite3_bind_null(st, 1);
    else
        sqlite3_bind_int64(st, 1, (int64_t)ms);
    r = s_step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

/* Reads the clock and the wall time the triggers would use. */
static int
s_clock_read(struct cs_store *s, struct cs_hlc *clock, uint64_t *wall_ms)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(s, "SELECT hlc, now_override FROM zz_state", &st)) != 0)
        return r;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        r = s_db_err(s, rc, "reading zz_state");
        goto out;
    }
    clock->t = (uint64_t)sqlite3_column_int64(st, 0);
    *wall_ms = sqlite3_column_type(st, 1) == SQLITE_NULL
                   ? cs_hlc_wall_ms()
                   : (uint64_t)sqlite3_column_int64(st, 1);
out:
    sqlite3_finalize(st);
    return r;
}

int
cs_store_origin_name(struct cs_store *s, const struct cs_node_id *node,
                     const char *name)
{
    sqlite3_stmt *st = NULL;
    int64_t oid;
    int r;

    if ((r = s_origin_oid(s, node, &oid)) != 0)
        return r;
    if ((r = s_prepare(s, "UPDATE zz_origin SET name = ? WHERE oid = ?",
                       &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, oid);
    r = s_step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

const char *
cs_store_origin_label(struct cs_store *s, const struct cs_node_id *node)
{
    sqlite3_stmt *st = NULL;
    char hex[CS_NODE_ID_HEX_LEN + 1];
    const char *res = NULL;

    cs_node_id_hex(node, hex);
    if (s_prepare(s, "SELECT name FROM zz_origin WHERE node = ?", &st) != 0)
        return NULL;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        snprintf(s->label, sizeof s->label, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        res = s->label;
    }
    sqlite3_finalize(st);
    return res;
}

/* ---- derivation -------------------------------------------------------- */

static void
s_entries_free(struct s_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].owned);
        sqlite3_value_free(e[i].value);
    }
    free(e);
}

/* Reads every change of one row. */
static int
s_row_load(struct cs_store *s, int tid, const char *row_id,
           struct s_entry **out, size_t *nout)
{
    struct s_entry *e = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;

    sqlite3_bind_int(s->log_row, 1, tid);
    sqlite3_bind_text(s->log_row, 2, row_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s->log_row)) == SQLITE_ROW) {
        struct s_entry *x;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            e = cs_xrealloc(e, cap * sizeof *e);
        }
        x = &e[n++];
        memset(x, 0, sizeof *x);
        x->col = x->owned =
            cs_xstrdup((const char *)sqlite3_column_text(s->log_row, 0));
        x->op = sqlite3_column_int(s->log_row, 1);
        x->value = sqlite3_value_dup(sqlite3_column_value(s->log_row, 2));
        if (x->value == NULL) {
            fprintf(stderr, "cigsync: out of memory copying a value\n");
            abort();
        }
        x->hlc = (uint64_t)sqlite3_column_int64(s->log_row, 3);
        x->oid = sqlite3_column_int64(s->log_row, 4);
        x->has_base = sqlite3_column_type(s->log_row, 5) != SQLITE_NULL;
        x->base_hlc = (uint64_t)sqlite3_column_int64(s->log_row, 5);
        x->base_oid = sqlite3_column_int64(s->log_row, 6);
    }
    if (rc != SQLITE_DONE)
        r = s_db_err(s, rc, "reading the log");
    sqlite3_reset(s->log_row);
    sqlite3_clear_bindings(s->log_row);
    if (r != 0) {
        s_entries_free(e, n);
        return r;
    }
    *out = e;
    *nout = n;
    return 0;
}

/* True if some SET or ACK of field col names (hlc, oid) as its base. */
static bool
s_referenced(const struct s_entry *e, size_t n, const char *col, uint64_t hlc,
             int64_t oid)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].has_base && e[i].base_hlc == hlc && e[i].base_oid == oid &&
            (e[i].op == CS_OP_SET || e[i].op == CS_OP_ACK) &&
            strcmp(e[i].col, col) == 0)
            return true;
    return false;
}

static void
s_derived_free(struct s_derived *d)
{
    free(d->winner);
    free(d->lost);
    memset(d, 0, sizeof *d);
}

static void
s_lost_add(struct s_derived *d, size_t entry, int kind)
{
    d->lost = cs_xrealloc(d->lost, (d->nlost + 1) * sizeof *d->lost);
    d->lost[d->nlost].entry = entry;
    d->lost[d->nlost].kind = kind;
    d->nlost++;
}

/* The merge rules (see the design note at the top): a pure function of the
   row's set of changes. */
static void
s_derive(const struct cs_store *s, const struct cs_table *t,
         const struct s_entry *e, size_t n, struct s_derived *d)
{
    memset(d, 0, sizeof *d);
    d->winner = cs_xmalloc(t->ncols * sizeof *d->winner);
    for (size_t c = 0; c < t->ncols; c++)
        d->winner[c] = SIZE_MAX;

    for (size_t i = 0; i < n; i++) {
        if (e[i].col[0] == '\0') {
            if (e[i].op != CS_OP_INS && e[i].op != CS_OP_DEL &&
                e[i].op != CS_OP_RST)
                continue;
            if (!d->has_life ||
                s_version_cmp(s, e[i].hlc, e[i].oid, e[d->life].hlc,
                              e[d->life].oid) > 0) {
                d->has_life = true;
                d->life = i;
            }
            continue;
        }
        if (e[i].op != CS_OP_SET)
            continue;
        int c = cs_table_col(t, e[i].col);
        if (c <= 0)
            continue; /* a field this schema does not have */
        size_t w = d->winner[c];
        if (w == SIZE_MAX ||
            s_version_cmp(s, e[i].hlc, e[i].oid, e[w].hlc, e[w].oid) > 0)
            d->winner[c] = i;
    }
    d->alive = d->has_life && e[d->life].op != CS_OP_DEL;

    for (size_t i = 0; i < n; i++) {
        int c;
        if (e[i].op != CS_OP_SET || e[i].col[0] == '\0' ||
            (c = cs_table_col(t, e[i].col)) <= 0)
            continue;
        if (s_referenced(e, n, e[i].col, e[i].hlc, e[i].oid))
            continue;
        if (d->winner[c] != i)
            s_lost_add(d, i, S_KIND_FIELD);
        else if (d->has_life && !d->alive)
            s_lost_add(d, i, S_KIND_DELETED);
    }
}

static int
s_table_stmts(struct cs_store *s, size_t ti)
{
    const struct cs_table *t = &s->tables[ti];
    struct s_tstmt *ts = &s->tstmts[ti];
    char *sql = NULL;
    size_t len = 0;
    FILE *f;
    int r;

    if (ts->upsert != NULL && ts->remove != NULL && ts->select != NULL)
        return 0;
    sqlite3_finalize(ts->upsert);
    sqlite3_finalize(ts->remove);
    sqlite3_finalize(ts->select);
    ts->upsert = ts->remove = ts->select = NULL;
    if ((f = open_memstream(&sql, &len)) == NULL)
        return CS_ERR_NOMEM;
    fprintf(f, "INSERT INTO \"%s\"(", t->name);
    for (size_t i = 0; i < t->ncols; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", t->cols[i]);
    fprintf(f, ") VALUES (");
    for (size_t i = 0; i < t->ncols; i++)
        fprintf(f, "%s?", i ? ", " : "");
    fprintf(f, ") ON CONFLICT (id) DO UPDATE SET ");
    for (size_t i = 1; i < t->ncols; i++)
        fprintf(f, "%s\"%s\" = excluded.\"%s\"", i > 1 ? ", " : "", t->cols[i],
                t->cols[i]);
    fclose(f);
    r = s_prepare(s, sql, &ts->upsert);
    free(sql);
    if (r != 0)
        return r;
    sql = cs_xasprintf("DELETE FROM \"%s\" WHERE id = ?", t->name);
    r = s_prepare(s, sql, &ts->remove);
    free(sql);
    if (r != 0)
        return r;
    sql = cs_xasprintf("SELECT * FROM \"%s\" WHERE id = ?", t->name);
    r = s_prepare(s, sql, &ts->select);
    free(sql);
    return r;
}

static void s_bind_value(sqlite3_stmt *st, int i, const struct cs_value *v);

/* Binds the value of entry x (NULL for every op but SET). */
static void
s_bind_entry(sqlite3_stmt *st, int i, const struct s_entry *x)
{
    if (x->value != NULL)
        sqlite3_bind_value(st, i, x->value);
    else if (x->cv != NULL && x->op == CS_OP_SET)
        s_bind_value(st, i, x->cv);
    else
        sqlite3_bind_null(st, i);
}

/* The error of a failed write of merged state (rc): CS_ERR_BAD_VALUE, with
   the row named, when it breaks a rule of the schema (a CHECK another
   replica's schema did not have); else the store error. */
static int
s_merged_err(struct cs_store *s, int rc, const char *what,
             const struct cs_table *t, const char *row_id)
{
    int r = s_db_err(s, rc, what);

    if (r == CS_ERR_DB &&
        (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT) {
        r = CS_ERR_BAD_VALUE;
        s_set_errmsg(s, "merged row %s.%s breaks a rule of this schema: %s",
                     t->name, row_id, sqlite3_errmsg(s->db));
    }
    return r;
}

/* Writes a row's derived state: winners, conflicts, the visible row. */
static int
s_row_write(struct cs_store *s, size_t ti, const char *row_id,
            const struct s_entry *e, const struct s_derived *d)
{
    const struct cs_table *t = &s->tables[ti];
    struct s_tstmt *ts = &s->tstmts[ti];
    sqlite3_stmt *st;
    int r, rc;

    if ((r = s_table_stmts(s, ti)) != 0)
        return r;
    /* A row with no entries (e NULL) has no winners and nothing lost. */
    for (size_t c = 0; e != NULL && c <= t->ncols; c++) {
        /* c == ncols stands for the row's life */
        size_t w = c < t->ncols ? d->winner[c] : d->life;
        if (c == t->ncols ? !d->has_life : w == SIZE_MAX)
            continue;
        sqlite3_bind_int(s->cell_upsert, 1, t->tid);
        sqlite3_bind_text(s->cell_upsert, 2, row_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->cell_upsert, 3, e[w].col, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->cell_upsert, 4, (int64_t)e[w].hlc);
        sqlite3_bind_int64(s->cell_upsert, 5, e[w].oid);
        sqlite3_bind_int(s->cell_upsert, 6, c == t->ncols && !d->alive ? 1 : 0);
        if ((r = s_step_done(s, s->cell_upsert)) != 0)
            return r;
    }
    sqlite3_bind_int(s->conf_clear, 1, t->tid);
    sqlite3_bind_text(s->conf_clear, 2, row_id, -1, SQLITE_STATIC);
    if ((r = s_step_done(s, s->conf_clear)) != 0)
        return r;
    for (size_t i = 0; e != NULL && i < d->nlost; i++) {
        const struct s_entry *x = &e[d->lost[i].entry];
        sqlite3_bind_int(s->conf_insert, 1, t->tid);
        sqlite3_bind_text(s->conf_insert, 2, row_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->conf_insert, 3, x->col, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->conf_insert, 4, (int64_t)x->hlc);
        sqlite3_bind_int64(s->conf_insert, 5, x->oid);
        sqlite3_bind_int(s->conf_insert, 6, d->lost[i].kind);
        s_bind_entry(s->conf_insert, 7, x);
        if ((r = s_step_done(s, s->conf_insert)) != 0)
            return r;
    }
    if (e == NULL || !d->alive) {
        sqlite3_bind_text(ts->remove, 1, row_id, -1, SQLITE_STATIC);
        return s_step_done(s, ts->remove);
    }
    st = ts->upsert;
    sqlite3_bind_text(st, 1, row_id, -1, SQLITE_STATIC);
    for (size_t c = 1; c < t->ncols; c++) {
        if (d->winner[c] == SIZE_MAX)
            sqlite3_bind_null(st, (int)c + 1);
        else
            s_bind_entry(st, (int)c + 1, &e[d->winner[c]]);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return s_merged_err(s, rc, "writing a merged row", t, row_id);
    return 0;
}

/* Recomputes one row from the log and writes it. */
static int
s_row_recompute(struct cs_store *s, size_t ti, const char *row_id)
{
    struct s_entry *e = NULL;
    struct s_derived d;
    size_t n = 0;
    int r;

    if ((r = s_row_load(s, s->tables[ti].tid, row_id, &e, &n)) != 0)
        return r;
    s_derive(s, &s->tables[ti], e, n, &d);
    r = s_row_write(s, ti, row_id, e, &d);
    s_derived_free(&d);
    s_entries_free(e, n);
    return r;
}

/* ---- apply ------------------------------------------------------------- */

/* Transactions that nest: a store call inside the caller's transaction
   (cs_store_begin()) runs in a savepoint, so it still undoes only its own
   work on failure, and the caller's COMMIT makes everything durable at
   once. */
static int
s_txn_begin(struct cs_store *s)
{
    return s_exec(s, s->nested ? "SAVEPOINT cs_store" : "BEGIN IMMEDIATE");
}

static int
s_txn_commit(struct cs_store *s)
{
    /* RELEASE of a savepoint opened outside a transaction would commit;
       here it only ends the nested one. */
    return s_exec(s, s->nested ? "RELEASE cs_store" : "COMMIT");
}

static void
s_txn_rollback(struct cs_store *s)
{
    if (s->nested)
        sqlite3_exec(s->db, "ROLLBACK TO cs_store; RELEASE cs_store", NULL,
                     NULL, NULL);
    else
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int
cs_store_begin(struct cs_store *s)
{
    int r;

    if (s->nested) {
        s_set_errmsg(s, "a transaction is open already");
        return CS_ERR_INVALID;
    }
    if ((r = s_exec(s, "BEGIN IMMEDIATE")) != 0)
        return r;
    s->nested = true;
    return 0;
}

int
cs_store_commit(struct cs_store *s)
{
    int r;

    if (!s->nested)
        return CS_ERR_INVALID;
    r = s_exec(s, "COMMIT");
    if (r != 0)
        cs_store_rollback(s);
    s->nested = false;
    return r;
}

void
cs_store_rollback(struct cs_store *s)
{
    if (!s->nested)
        return;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->nested = false;
    if (s_origins_load(s) != 0)
        cs_log_warn("could not reload origins after a rollback");
}

/* A change an apply logged, kept to recompute its row. */
struct s_touch {
    size_t ti;                  /* table index */
    const char *row_id;         /* the change's, not owned */
    const struct cs_change *ch; /* the change */
    size_t i;                   /* its position in the batch */
    int64_t oid, base_oid;      /* its origin and base origin, interned */
};

/* Orders by row, then by position in the batch. */
static int
s_touch_cmp(const void *a, const void *b)
{
    const struct s_touch *x = a, *y = b;
    int c;
    if (x->ti != y->ti)
        return x->ti < y->ti ? -1 : 1;
    if ((c = strcmp(x->row_id, y->row_id)) != 0)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

static bool
s_touch_same_row(const struct s_touch *x, const struct s_touch *y)
{
    return x->ti == y->ti && strcmp(x->row_id, y->row_id) == 0;
}

/* Reads the winning version of field col of a row: *found is false when
   it has none. */
static int
s_cell_get(struct cs_store *s, int tid, const char *row_id, const char *col,
           bool *found, uint64_t *hlc, int64_t *oid, bool *dead)
{
    sqlite3_stmt *st = s->cell_get;
    int rc, r = 0;

    *found = false;
    sqlite3_bind_int(st, 1, tid);
    sqlite3_bind_text(st, 2, row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        *hlc = (uint64_t)sqlite3_column_int64(st, 0);
        *oid = sqlite3_column_int64(st, 1);
        *dead = sqlite3_column_int(st, 2) != 0;
    } else if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading a field's version");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* Writes field c of a visible row; *written is false when no row has that
   id. */
static int
s_field_write(struct cs_store *s, size_t ti, int c, const char *row_id,
              const struct cs_value *v, bool *written)
{
    const struct cs_table *t = &s->tables[ti];
    struct s_tstmt *ts = &s->tstmts[ti];
    sqlite3_stmt *st;
    int r, rc;

    *written = false;
    if (ts->set_col == NULL)
        ts->set_col = cs_xcalloc(t->ncols, sizeof *ts->set_col);
    if (ts->set_col[c].set == NULL) {
        char *sql = sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = ? WHERE id = ?",
                                    t->name, t->cols[c]);
        if (sql == NULL)
            return CS_ERR_NOMEM;
        r = s_prepare(s, sql, &ts->set_col[c].set);
        sqlite3_free(sql);
        if (r != 0)
            return r;
    }
    st = ts->set_col[c].set;
    s_bind_value(st, 1, v);
    sqlite3_bind_text(st, 2, row_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return s_merged_err(s, rc, "writing a merged field", t, row_id);
    *written = sqlite3_changes(s->db) == 1;
    return 0;
}

/* The changes t[0..m) of a row that had changes before this apply.  When
   each one is a SET of a field of a live row that replaces the field's
   winning version knowingly (its base is that version) and is later than
   it, the merge's outcome is known without reading the row's log: the
   field takes the new value and version, and no conflict appears or goes
   (the replaced version is named as a base, so it is not lost; the new
   one wins on a live row; nothing else changes its standing).  This is
   the common edit: one office changing its own records one after another.
   *done is false when a change is not like that; the caller then
   recomputes the row from its log, which overwrites anything written
   here. */
static int
s_row_fast(struct cs_store *s, const struct s_touch *t, size_t m, bool *done)
{
    const struct cs_table *tab = &s->tables[t[0].ti];
    uint64_t hlc;
    int64_t oid;
    bool found, dead, written;
    int r;

    *done = false;
    for (size_t k = 0; k < m; k++)
        if (t[k].ch->op != CS_OP_SET || cs_table_col(tab, t[k].ch->col) <= 0)
            return 0;
    if ((r = s_cell_get(s, tab->tid, t[0].row_id, "", &found, &hlc, &oid,
                        &dead)) != 0 ||
        !found || dead)
        return r;
    for (size_t k = 0; k < m; k++) {
        const struct cs_change *ch = t[k].ch;
        int c = cs_table_col(tab, ch->col);
        if ((r = s_cell_get(s, tab->tid, t[0].row_id, ch->col, &found, &hlc,
                            &oid, &dead)) != 0)
            return r;
        if (found ? !ch->has_base || ch->base_hlc.t != hlc ||
                        t[k].base_oid != oid ||
                        s_version_cmp(s, ch->hlc.t, t[k].oid, hlc, oid) <= 0
                  : ch->has_base)
            return 0;
        sqlite3_bind_int(s->cell_upsert, 1, tab->tid);
        sqlite3_bind_text(s->cell_upsert, 2, t[0].row_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->cell_upsert, 3, ch->col, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->cell_upsert, 4, (int64_t)ch->hlc.t);
        sqlite3_bind_int64(s->cell_upsert, 5, t[k].oid);
        sqlite3_bind_int(s->cell_upsert, 6, 0);
        if ((r = s_step_done(s, s->cell_upsert)) != 0 ||
            (r = s_field_write(s, t[0].ti, c, t[0].row_id, &ch->value,
                               &written)) != 0)
            return r;
        if (!written)
            return 0; /* live by its versions, yet no row: recompute */
    }
    *done = true;
    return 0;
}

/* Writes the row of the m changes t[0..m) of one apply.  When they are
   all the row has (a row new to this replica: a first sync is made of
   nothing else), the merge runs on them as they are in memory; otherwise
   the row is recomputed from its whole log.  Both give the same result:
   s_derive() sees the same set of changes. */
static int
s_row_touched(struct cs_store *s, const struct s_touch *t, size_t m)
{
    sqlite3_stmt *st = s->log_count;
    struct s_entry *e;
    struct s_derived d;
    int64_t have = -1;
    int rc, r = 0;

    sqlite3_bind_int(st, 1, s->tables[t[0].ti].tid);
    sqlite3_bind_text(st, 2, t[0].row_id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        have = sqlite3_column_int64(st, 0);
    else
        r = s_db_err(s, rc, "reading the log");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r != 0)
        return r;
    if (have != (int64_t)m) {
        bool done;
        if ((r = s_row_fast(s, t, m, &done)) != 0 || done)
            return r;
        return s_row_recompute(s, t[0].ti, t[0].row_id);
    }
    e = cs_xcalloc(m, sizeof *e);
    for (size_t k = 0; k < m; k++) {
        const struct cs_change *ch = t[k].ch;
        e[k].col = ch->col;
        e[k].op = (int)ch->op;
        e[k].cv = &ch->value;
        e[k].hlc = ch->hlc.t;
        e[k].oid = t[k].oid;
        e[k].has_base = ch->has_base;
        e[k].base_hlc = ch->base_hlc.t;
        e[k].base_oid = t[k].base_oid;
    }
    s_derive(s, &s->tables[t[0].ti], e, m, &d);
    r = s_row_write(s, t[0].ti, t[0].row_id, e, &d);
    s_derived_free(&d);
    free(e);
    return r;
}

static void
s_bind_value(sqlite3_stmt *st, int i, const struct cs_value *v)
{
    switch (v->type) {
    case SQLITE_INTEGER:
        sqlite3_bind_int64(st, i, v->i);
        break;
    case SQLITE_FLOAT:
        sqlite3_bind_double(st, i, v->d);
        break;
    case SQLITE_TEXT:
        sqlite3_bind_text64(st, i, v->p ? v->p : "", v->len, SQLITE_STATIC,
                            SQLITE_UTF8);
        break;
    case SQLITE_BLOB:
        sqlite3_bind_blob64(st, i, v->p ? v->p : "", v->len, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, i);
        break;
    }
}

/* Checks one remote change against this replica's schema. */
static int
s_change_check(struct cs_store *s, const struct cs_change *ch, size_t *ti)
{
    const struct cs_table *t;
    bool row_op;
    int c;

    if (ch->table == NULL || (t = cs_store_table(s, ch->table)) == NULL) {
        s_set_errmsg(s,
                     "a change names table \"%s\", which this replica "
                     "does not sync",
                     ch->table ? ch->table : "");
        return CS_ERR_NO_TABLE;
    }
    *ti = (size_t)(t - s->tables);
    if (ch->row_id == NULL || !cs_id_valid(ch->row_id)) {
        s_set_errmsg(s, "a change to %s has a bad row id", t->name);
        return CS_ERR_INVALID;
    }
    if (ch->op < CS_OP_SET || ch->op > CS_OP_RST || ch->col == NULL) {
        s_set_errmsg(s, "a change to %s %s has a bad kind", t->name,
                     ch->row_id);
        return CS_ERR_INVALID;
    }
    row_op = ch->op == CS_OP_INS || ch->op == CS_OP_DEL || ch->op == CS_OP_RST;
    c = row_op ? 0 : cs_table_col(t, ch->col);
    if (row_op ? ch->col[0] != '\0' : c <= 0) {
        s_set_errmsg(s,
                     "a change to %s %s names field \"%s\", which this "
                     "replica does not have",
                     t->name, ch->row_id, ch->col);
        return CS_ERR_NO_FIELD;
    }
    if (ch->origin_seq == 0 || ch->origin_seq > INT64_MAX ||
        ch->hlc.t > INT64_MAX || ch->base_hlc.t > INT64_MAX) {
        s_set_errmsg(s, "a change to %s %s has a bad sequence or clock",
                     t->name, ch->row_id);
        return CS_ERR_INVALID;
    }
    if ((ch->value.type == SQLITE_TEXT || ch->value.type == SQLITE_BLOB) &&
        ch->value.p == NULL && ch->value.len > 0) {
        s_set_errmsg(s, "a value for %s.%s has no bytes", t->name, ch->col);
        return CS_ERR_INVALID;
    }
    if ((ch->value.type == SQLITE_TEXT || ch->value.type == SQLITE_BLOB) &&
        ch->value.len > CS_STORE_VALUE_MAX) {
        s_set_errmsg(s, "a value for %s.%s is larger than %u bytes", t->name,
                     ch->col, CS_STORE_VALUE_MAX);
        return CS_ERR_TOO_BIG;
    }
    return 0;
}

/* True if column i of st holds value v (same type, same bytes). */
static bool
s_column_is(sqlite3_stmt *st, int i, const struct cs_value *v, int op)
{
    int type = sqlite3_column_type(st, i);
    int want =
        op == CS_OP_SET && v->type >= SQLITE_INTEGER && v->type <= SQLITE_BLOB
            ? v->type
            : SQLITE_NULL;
    if (type != want)
        return false;
    switch (type) {
    case SQLITE_INTEGER:
        return sqlite3_column_int64(st, i) == v->i;
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, i);
        return memcmp(&d, &v->d, sizeof d) == 0;
    }
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        const void *p = type == SQLITE_TEXT
                            ? (const void *)sqlite3_column_text(st, i)
                            : sqlite3_column_blob(st, i);
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        return n == v->len && (n == 0 || memcmp(p, v->p, n) == 0);
    }
    default:
        return true;
    }
}

/* An origin must never give one number to two different changes, nor two
   values to one field at one time: either would let replicas that saw the
   changes in different orders disagree.  Sets *known when this exact
   change is in the log already. */
static int
s_change_unique(struct cs_store *s, const struct cs_change *ch, size_t ti,
                int64_t oid, int64_t base_oid, bool fresh, bool *known)
{
    sqlite3_stmt *st = s->log_by_seq;
    int rc, r = 0;

    *known = false;
    if (fresh)
        goto same_time; /* the number was new: the change just logged */
    sqlite3_bind_int64(st, 1, oid);
    sqlite3_bind_int64(st, 2, (int64_t)ch->origin_seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bool same =
            sqlite3_column_int(st, 0) == s->tables[ti].tid &&
            strcmp((const char *)sqlite3_column_text(st, 1), ch->row_id) == 0 &&
            strcmp((const char *)sqlite3_column_text(st, 2), ch->col) == 0 &&
            sqlite3_column_int(st, 3) == (int)ch->op &&
            s_column_is(st, 4, &ch->value, ch->op) &&
            (uint64_t)sqlite3_column_int64(st, 5) == ch->hlc.t &&
            (sqlite3_column_type(st, 6) != SQLITE_NULL) == ch->has_base &&
            (!ch->has_base ||
             ((uint64_t)sqlite3_column_int64(st, 6) == ch->base_hlc.t &&
              sqlite3_column_int64(st, 7) == base_oid));
        if (!same) {
            r = CS_ERR_CHAIN;
            s_set_errmsg(s,
                         "origin %s gave number %" PRIu64 " to two "
                         "different changes",
                         s_hex(ch->origin.b), ch->origin_seq);
        }
        *known = same;
    } else if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading the log");
    }
    sqlite3_reset(st);
    if (r == 0 && !*known) {
        /* Not fresh yet not known: the insert was refused by something
           else than the number (never expected). */
        r = CS_ERR_INTERNAL;
        s_set_errmsg(s, "a change of origin %s could not be logged",
                     s_hex(ch->origin.b));
    }
    return r;
same_time:
    if (ch->op != CS_OP_SET)
        return 0;
    st = s->log_same_time;
    sqlite3_bind_int(st, 1, s->tables[ti].tid);
    sqlite3_bind_text(st, 2, ch->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ch->col, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)ch->hlc.t);
    sqlite3_bind_int64(st, 5, oid);
    sqlite3_bind_int64(st, 6, sqlite3_last_insert_rowid(s->db));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r = CS_ERR_CHAIN;
        s_set_errmsg(s, "origin %s wrote two values of %s.%s at one time",
                     s_hex(ch->origin.b), s->tables[ti].name, ch->col);
    } else if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading the log");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* Logs one remote change; *fresh is false for a duplicate.  *base_oid
   gets its base's origin, interned (0 without a base).  The insert comes
   first: the unique index on (origin, number) refuses a number the log
   has, and only then is the logged change read and compared (a fresh
   change, the common case, costs no look-up for it). */
static int
s_change_log(struct cs_store *s, const struct cs_change *ch, size_t ti,
             int64_t oid, bool *fresh, int64_t *base_oid)
{
    sqlite3_stmt *st = s->log_insert;
    bool known;
    int r;

    *fresh = false;
    *base_oid = 0;
    if (ch->has_base && (r = s_origin_oid(s, &ch->base_origin, base_oid)) != 0)
        return r;
    sqlite3_bind_int(st, 1, s->tables[ti].tid);
    sqlite3_bind_text(st, 2, ch->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ch->col, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)ch->op);
    if (ch->op == CS_OP_SET)
        s_bind_value(st, 5, &ch->value);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, (int64_t)ch->hlc.t);
    sqlite3_bind_int64(st, 7, oid);
    sqlite3_bind_int64(st, 8, (int64_t)ch->origin_seq);
    if (ch->has_base) {
        sqlite3_bind_int64(st, 9, (int64_t)ch->base_hlc.t);
        sqlite3_bind_int64(st, 10, *base_oid);
    }
    if ((r = s_step_done(s, st)) != 0)
        return r;
    *fresh = sqlite3_changes(s->db) > 0;
    return s_change_unique(s, ch, ti, oid, *base_oid, *fresh, &known);
}

/* Checks that batch ref follows the last batch applied from its origin.
 *dup is set when it was applied already (same seq and hash). */
static int
s_head_check(struct cs_store *s, const struct cs_batch_ref *ref, bool *dup)
{
    sqlite3_stmt *st = NULL;
    uint64_t seq = 0;
    uint8_t hash[CS_STORE_HASH_BYTES];
    int64_t oid;
    int r, rc;

    *dup = false;
    memset(hash, 0, sizeof hash);
    if ((r = s_origin_oid(s, &ref->origin, &oid)) != 0 ||
        (r = s_prepare(s, "SELECT seq, hash FROM zz_head WHERE oid = ?",
                       &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, oid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW &&
        sqlite3_column_bytes(st, 1) == CS_STORE_HASH_BYTES) {
        seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(hash, sqlite3_column_blob(st, 1), sizeof hash);
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        r = s_db_err(s, rc, "reading zz_head");
    }
    sqlite3_finalize(st);
    if (r != 0)
        return r;
    if (ref->seq <= seq) {
        /* Applied before, if it is the batch we applied under that
           number; another one is a fork of the origin's history. */
        uint8_t had[CS_STORE_HASH_BYTES];
        bool found = false;
        if ((r = s_prepare(s,
                           "SELECT hash FROM zz_applied WHERE oid = ? AND "
                           "seq = ?",
                           &st)) != 0)
            return r;
        sqlite3_bind_int64(st, 1, oid);
        sqlite3_bind_int64(st, 2, (int64_t)ref->seq);
        if (sqlite3_step(st) == SQLITE_ROW &&
            sqlite3_column_bytes(st, 0) == CS_STORE_HASH_BYTES) {
            memcpy(had, sqlite3_column_blob(st, 0), sizeof had);
            found = true;
        }
        sqlite3_finalize(st);
        if (found && sodium_memcmp(had, ref->hash, sizeof had) != 0) {
            s_set_errmsg(s,
                         "two different batches are numbered %" PRIu64
                         " by one origin",
                         ref->seq);
            return CS_ERR_CHAIN;
        }
        *dup = true;
        return 0;
    }
    if (ref->seq != seq + 1) {
        s_set_errmsg(s,
                     "batch %" PRIu64 " arrived, but the last applied from "
                     "its origin is %" PRIu64,
                     ref->seq, seq);
        return CS_ERR_SEQUENCE;
    }
    if (sodium_memcmp(ref->prev, hash, CS_STORE_HASH_BYTES) != 0) {
        s_set_errmsg(s,
                     "batch %" PRIu64 " does not follow batch %" PRIu64
                     " of its origin (hash chain broken)",
                     ref->seq, seq);
        return CS_ERR_CHAIN;
    }
    return 0;
}

int
cs_store_head(struct cs_store *s, const struct cs_node_id *origin,
              uint64_t *seq, uint8_t hash[CS_STORE_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    char hex[CS_NODE_ID_HEX_LEN + 1];
    int r, rc;

    *seq = 0;
    memset(hash, 0, CS_STORE_HASH_BYTES);
    cs_node_id_hex(origin, hex);
    if ((r = s_prepare(s,
                       "SELECT h.seq, h.hash FROM zz_head h JOIN zz_origin o "
                       "USING (oid) WHERE o.node = ?",
                       &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW &&
        sqlite3_column_bytes(st, 1) == CS_STORE_HASH_BYTES) {
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(hash, sqlite3_column_blob(st, 1), CS_STORE_HASH_BYTES);
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        r = s_db_err(s, rc, "reading zz_head");
    }
    sqlite3_finalize(st);
    return r;
}

static int
s_head_set(struct cs_store *s, const struct cs_batch_ref *ref)
{
    sqlite3_stmt *st = NULL;
    int64_t oid;
    int r;

    if ((r = s_origin_oid(s, &ref->origin, &oid)) != 0 ||
        (r = s_prepare(s, "INSERT OR REPLACE INTO zz_head VALUES (?, ?, ?)",
                       &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, oid);
    sqlite3_bind_int64(st, 2, (int64_t)ref->seq);
    sqlite3_bind_blob(st, 3, ref->hash, CS_STORE_HASH_BYTES, SQLITE_STATIC);
    r = s_step_done(s, st);
    sqlite3_finalize(st);
    st = NULL;
    if (r != 0 ||
        (r = s_prepare(s, "INSERT INTO zz_applied VALUES (?, ?, ?)", &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, oid);
    sqlite3_bind_int64(st, 2, (int64_t)ref->seq);
    sqlite3_bind_blob(st, 3, ref->hash, CS_STORE_HASH_BYTES, SQLITE_STATIC);
    r = s_step_done(s, st);
    sqlite3_finalize(st);
    return r;
}

int
cs_store_heads(struct cs_store *s,
               int (*fn)(void *arg, const struct cs_batch_ref *head), void *arg)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(s, "SELECT oid, seq, hash FROM zz_head ORDER BY oid",
                       &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_batch_ref h;
        int64_t oid = sqlite3_column_int64(st, 0);
        memset(&h, 0, sizeof h);
        if ((r = s_origin_known(s, oid)) != 0)
            break;
        h.origin = *s_origin_node(s, oid);
        h.seq = (uint64_t)sqlite3_column_int64(st, 1);
        if (sqlite3_column_bytes(st, 2) == CS_STORE_HASH_BYTES)
            memcpy(h.hash, sqlite3_column_blob(st, 2), CS_STORE_HASH_BYTES);
        if ((r = fn(arg, &h)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = s_db_err(s, rc, "reading zz_head");
    sqlite3_finalize(st);
    return r;
}

int
cs_store_apply(struct cs_store *s, const struct cs_change *changes, size_t n,
               struct cs_apply_stats *stats)
{
    return cs_store_apply_batch(s, NULL, changes, n, stats);
}

int
cs_store_apply_batch(struct cs_store *s, const struct cs_batch_ref *ref,
                     const struct cs_change *changes, size_t n,
                     struct cs_apply_stats *stats)
{
    struct cs_apply_stats tmp;
    struct s_touch *touched = NULL;
    size_t ntouched = 0, cap = 0;
    struct cs_hlc clock;
    uint64_t wall;
    sqlite3_stmt *st = NULL;
    bool in_txn = false;
    int r;

    if (stats == NULL)
        stats = &tmp;
    memset(stats, 0, sizeof *stats);
    s->errmsg[0] = '\0';
    if ((r = s_txn_begin(s)) != 0)
        return r;
    in_txn = true;
    if (ref != NULL) {
        bool dup;
        if ((r = s_head_check(s, ref, &dup)) != 0)
            goto out;
        if (dup) {
            stats->received = stats->duplicates = n;
            goto out; /* rolls back: nothing to write */
        }
    }
    if ((r = s_clock_read(s, &clock, &wall)) != 0 ||
        (r = s_exec(s, "UPDATE zz_state SET capture = 0")) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct cs_change *ch = &changes[i];
        size_t ti;
        int64_t oid, base_oid;
        bool fresh;

        stats->received++;
        if ((r = s_change_check(s, ch, &ti)) != 0)
            goto out;
        if ((r = s_origin_oid(s, &ch->origin, &oid)) != 0)
            goto out;
        if (oid == CS_STORE_SELF_OID) {
            stats->duplicates++; /* our own change, sent back */
            continue;
        }
        if ((r = cs_hlc_recv(&clock, ch->hlc, wall, s->max_ahead_ms)) != 0) {
            char when[CS_HLC_TEXT_MAX];
            if (cs_hlc_format(ch->hlc, when, sizeof when) != 0)
                when[0] = '\0';
            s_set_errmsg(s,
                         "a change to %s %s is dated %s, more than %" PRIu64
                         " ms ahead of this computer's clock",
                         ch->table, ch->row_id, when, s->max_ahead_ms);
            goto out;
        }
        if ((r = s_change_log(s, ch, ti, oid, &fresh, &base_oid)) != 0)
            goto out;
        if (!fresh) {
            stats->duplicates++;
            continue;
        }
        stats->applied++;
        if (ntouched == cap) {
            cap = cap ? cap * 2 : 64;
            touched = cs_xrealloc(touched, cap * sizeof *touched);
        }
        touched[ntouched].ti = ti;
        touched[ntouched].row_id = ch->row_id;
        touched[ntouched].ch = ch;
        touched[ntouched].i = i;
        touched[ntouched].oid = oid;
        touched[ntouched].base_oid = base_oid;
        ntouched++;
    }
    if (ntouched > 1 && !s->defer_rows)
        qsort(touched, ntouched, sizeof *touched, s_touch_cmp);
    for (size_t i = 0, m; i < ntouched && !s->defer_rows; i += m) {
        for (m = 1;
             i + m < ntouched && s_touch_same_row(&touched[i], &touched[i + m]);
             m++)
            ;
        if ((r = s_row_touched(s, &touched[i], m)) != 0)
            goto out;
        stats->rows++;
    }
    if ((r = s_prepare(s,
                       "UPDATE zz_state SET capture = 1, "
                       "hlc = max(hlc, ?)",
                       &st)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)clock.t);
    if ((r = s_step_done(s, st)) != 0 ||
        (ref != NULL && (r = s_head_set(s, ref)) != 0) ||
        (r = s_txn_commit(s)) != 0)
        goto out;
    in_txn = false;
out:
    sqlite3_finalize(st);
    if (in_txn) {
        s_txn_rollback(s);
        /* Origins interned in the rolled back transaction are gone. */
        if (s_origins_load(s) != 0)
            cs_log_warn("could not reload origins after a rollback");
    }
    free(touched);
    return r;
}

/* ---- record commands --------------------------------------------------- */

/* Checks the table and field names of a command. */
static int
s_fields_check(struct cs_store *s, const char *table,
               const struct cs_field *fields, size_t n,
               const struct cs_table **tout)
{
    const struct cs_table *t = cs_store_table(s, table);

    s->errmsg[0] = '\0';
    if (t == NULL) {
        s_set_errmsg(s, "no table \"%s\"", table);
        return CS_ERR_NO_TABLE;
    }
    for (size_t i = 0; i < n; i++) {
        if (cs_table_col(t, fields[i].name) < 0) {
            s_set_errmsg(s, "table %s has no field \"%s\"", t->name,
                         fields[i].name);
            return CS_ERR_NO_FIELD;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fields[i].name, fields[j].name) == 0) {
                s_set_errmsg(s, "field %s is given twice", fields[i].name);
                return CS_ERR_INVALID;
            }
        }
    }
    *tout = t;
    return 0;
}

/* Says what a schema CHECK rule (in the shapes schema.sql uses) allows. */
static void
s_rule_text(const char *rule, char *out, size_t len)
{
    const char *in = strstr(rule, " IN (");
    if (in != NULL) {
        const char *end = strrchr(in, ')');
        size_t n = end ? (size_t)(end - (in + 5)) : strlen(in + 5);
        char list[S_ERRMSG_MAX / 2];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 1 < sizeof list; i++)
            if (in[5 + i] != '\'')
                list[k++] = in[5 + i];
        list[k] = '\0';
        snprintf(out, len, "allowed: %.200s", list);
        return;
    }
    if (strstr(rule, "date(") != NULL) {
        snprintf(out, len, "expected a real date written YYYY-MM-DD");
        return;
    }
    if (strstr(rule, "'integer'") != NULL) {
        const char *between = strstr(rule, "BETWEEN ");
        const char *and = between ? strstr(between, " AND ") : NULL;
        if (and != NULL)
            snprintf(out, len, "expected a whole number from %lld to %lld",
                     strtoll(between + 8, NULL, 10), strtoll(and+5, NULL, 10));
        else
            snprintf(out, len, "expected a whole number");
        return;
    }
    snprintf(out, len, "the rule is: %s", rule);
}

/* Turns a failed write into a message naming the field and value. */
static int
s_write_err(struct cs_store *s, const struct cs_table *t, int rc,
            const struct cs_field *fields, size_t n)
{
    static const char check[] = "CHECK constraint failed: ";
    int ext = sqlite3_extended_errcode(s->db);
    const char *msg = sqlite3_errmsg(s->db);
    const char *rule;
    char col[S_NAME_MAX + 1];
    size_t len = 0;

    if (rc == SQLITE_BUSY || ext == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return s_db_err(s, rc, "replica");
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        s_set_errmsg(s, "%s: that id is already in use", t->name);
        return CS_ERR_EXISTS;
    }
    if (ext == SQLITE_CONSTRAINT_TRIGGER) {
        s_set_errmsg(s, "%s", msg);
        return CS_ERR_INVALID;
    }
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        return s_db_err(s, rc, "replica");
    rule = strstr(msg, check);
    rule = rule ? rule + sizeof check - 1 : msg;
    while (len < S_NAME_MAX &&
           (rule[len] == '_' || (rule[len] >= 'a' && rule[len] <= 'z') ||
            (rule[len] >= '0' && rule[len] <= '9')))
        len++;
    memcpy(col, rule, len);
    col[len] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].name, col) == 0) {
            char want[S_ERRMSG_MAX / 2];
            s_rule_text(rule, want, sizeof want);
            s_set_errmsg(s, "bad value for %s.%s: \"%s\" (%s)", t->name, col,
                         fields[i].value ? fields[i].value : "", want);
            return CS_ERR_BAD_VALUE;
        }
    }
    s_set_errmsg(s, "bad value for %s: %s", t->name, msg);
    return CS_ERR_BAD_VALUE;
}

/* Runs a prepared write, mapping failures to messages. */
static int
s_write_step(struct cs_store *s, const struct cs_table *t, sqlite3_stmt *st,
             const struct cs_field *fields, size_t n)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    return s_write_err(s, t, rc, fields, n);
}

/* Reads the life of a row: *known if it ever existed here, *dead if it is
   deleted now. */
static int
s_row_life(struct cs_store *s, const struct cs_table *t, const char *id,
           bool *known, bool *dead)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *known = *dead = false;
    if ((r = s_prepare(s,
                       "SELECT dead FROM zz_cell WHERE tid = ? AND "
                       "row_id = ? AND col = ''",
                       &st)) != 0)
        return r;
    sqlite3_bind_int(st, 1, t->tid);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *known = true;
        *dead = sqlite3_column_int(st, 0) != 0;
    } else if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "replica");
    }
    sqlite3_finalize(st);
    return r;
}

bool
cs_store_is_deleted(struct cs_store *s, const struct cs_table *t,
                    const char *id)
{
    bool known, dead;
    return s_row_life(s, t, id, &known, &dead) == 0 && dead;
}

/* Checks that row id is visible; names the problem otherwise. */
static int
s_row_visible(struct cs_store *s, const struct cs_table *t, const char *id)
{
    bool known, dead;
    int r;

    if ((r = s_row_life(s, t, id, &known, &dead)) != 0)
        return r;
    if (dead) {
        s_set_errmsg(s, "%s %s is deleted (restore it first)", t->name, id);
        return CS_ERR_DELETED;
    }
    if (!known) {
        s_set_errmsg(s, "no %s with id %s", t->name, id);
        return CS_ERR_NOT_FOUND;
    }
    return 0;
}

int
cs_store_insert(struct cs_store *s, const char *table,
                const struct cs_field *fields, size_t n, char *id_out)
{
    const struct cs_table *t;
    const char *id = NULL;
    char fresh[CS_ID_TEXT_LEN + 1];
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    size_t len = 0;
    bool known, dead;
    FILE *f;
    int r, k = 2;

    if ((r = s_fields_check(s, table, fields, n, &t)) != 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, "id") == 0)
            id = fields[i].value;
    if (id == NULL) {
        cs_id_new(fresh);
        id = fresh;
    } else if (!cs_id_valid(id)) {
        s_set_errmsg(s, "bad id \"%s\": use 1 to %d of A-Z a-z 0-9 _ . : -", id,
                     CS_ID_MAX);
        return CS_ERR_BAD_VALUE;
    }
    if ((r = s_row_life(s, t, id, &known, &dead)) != 0)
        return r;
    if (known) {
        s_set_errmsg(s, "%s %s already exists%s", t->name, id,
                     dead ? " (deleted: restore it instead)" : "");
        return CS_ERR_EXISTS;
    }
    if ((f = open_memstream(&sql, &len)) == NULL)
        return CS_ERR_NOMEM;
    fprintf(f, "INSERT INTO \"%s\"(id", t->name);
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, "id") != 0)
            fprintf(f, ", \"%s\"", fields[i].name);
    fprintf(f, ") VALUES (?");
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, "id") != 0)
            fprintf(f, ", ?");
    fprintf(f, ")");
    fclose(f);
    r = s_prepare(s, sql, &st);
    free(sql);
    if (r != 0)
        return r;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].name, "id") == 0)
            continue;
        if (fields[i].value == NULL)
            sqlite3_bind_null(st, k++);
        else
            sqlite3_bind_text(st, k++, fields[i].value, -1, SQLITE_STATIC);
    }
    r = s_write_step(s, t, st, fields, n);
    sqlite3_finalize(st);
    if (r != 0)
        return r;
    snprintf(id_out, CS_ID_MAX + 1, "%s", id);
    return 0;
}

int
cs_store_update(struct cs_store *s, const char *table, const char *id,
                const struct cs_field *fields, size_t n)
{
    const struct cs_table *t;
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    size_t len = 0;
    FILE *f;
    int r;

    if ((r = s_fields_check(s, table, fields, n, &t)) != 0)
        return r;
    if (n == 0) {
        s_set_errmsg(s, "no field to set");
        return CS_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].name, "id") == 0) {
            s_set_errmsg(s, "the id of a record cannot be changed");
            return CS_ERR_INVALID;
        }
    }
    if ((r = s_row_visible(s, t, id)) != 0)
        return r;
    if ((f = open_memstream(&sql, &len)) == NULL)
        return CS_ERR_NOMEM;
    fprintf(f, "UPDATE \"%s\" SET ", t->name);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\"%s\" = ?", i ? ", " : "", fields[i].name);
    fprintf(f, " WHERE id = ?");
    fclose(f);
    r = s_prepare(s, sql, &st);
    free(sql);
    if (r != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (fields[i].value == NULL)
            sqlite3_bind_null(st, (int)i + 1);
        else
            sqlite3_bind_text(st, (int)i + 1, fields[i].value, -1,
                              SQLITE_STATIC);
    }
    sqlite3_bind_text(st, (int)n + 1, id, -1, SQLITE_STATIC);
    r = s_write_step(s, t, st, fields, n);
    sqlite3_finalize(st);
    return r;
}

int
cs_store_delete(struct cs_store *s, const char *table, const char *id)
{
    const struct cs_table *t;
    sqlite3_stmt *st = NULL;
    char *sql;
    int r;

    if ((r = s_fields_check(s, table, NULL, 0, &t)) != 0)
        return r;
    if ((r = s_row_visible(s, t, id)) != 0)
        return r;
    sql = cs_xasprintf("DELETE FROM \"%s\" WHERE id = ?", t->name);
    r = s_prepare(s, sql, &st);
    free(sql);
    if (r != 0)
        return r;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    r = s_write_step(s, t, st, NULL, 0);
    sqlite3_finalize(st);
    return r;
}

int
cs_store_restore(struct cs_store *s, const char *table, const char *id)
{
    const struct cs_table *t;
    sqlite3_stmt *st = NULL;
    bool known, dead, in_txn = false;
    int r;

    if ((r = s_fields_check(s, table, NULL, 0, &t)) != 0)
        return r;
    if ((r = s_exec(s, "BEGIN IMMEDIATE")) != 0)
        return r;
    in_txn = true;
    if ((r = s_row_life(s, t, id, &known, &dead)) != 0)
        goto out;
    if (!known || !dead) {
        r = known ? CS_ERR_EXISTS : CS_ERR_NOT_FOUND;
        s_set_errmsg(s, known ? "%s %s is not deleted" : "no %s with id %s",
                     t->name, id);
        goto out;
    }
    /* A restore change only: the fields keep their latest values, including
       edits that arrived while the row was deleted. */
    if ((r = s_exec(s, S_SQL_TICK)) != 0 ||
        (r = s_prepare(s,
                       "INSERT INTO zz_log(tid, row_id, col, op, hlc, oid, "
                       "base_hlc, base_oid) SELECT ?1, ?2, '', ?3, s.hlc, 1,"
                       " c.hlc, c.oid FROM zz_state s LEFT JOIN zz_cell c ON"
                       " c.tid = ?1 AND c.row_id = ?2 AND c.col = ''",
                       &st)) != 0)
        goto out;
    sqlite3_bind_int(st, 1, t->tid);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, CS_OP_RST);
    if ((r = s_step_done(s, st)) != 0 ||
        (r = s_exec(s, "UPDATE zz_state SET capture = 0")) != 0 ||
        (r = s_row_recompute(s, (size_t)(t - s->tables), id)) != 0 ||
        (r = s_exec(s, "UPDATE zz_state SET capture = 1")) != 0 ||
        (r = s_exec(s, "COMMIT")) != 0)
        goto out;
    in_txn = false;
out:
    sqlite3_finalize(st);
    if (in_txn)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

/* ---- reading the log --------------------------------------------------- */

void
cs_store_column_value(sqlite3_stmt *st, int i, struct cs_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = sqlite3_column_type(st, i);
    switch (v->type) {
    case SQLITE_INTEGER:
        v->i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        v->d = sqlite3_column_double(st, i);
        break;
    case SQLITE_TEXT:
        v->p = sqlite3_column_text(st, i);
        v->len = (size_t)sqlite3_column_bytes(st, i);
        break;
    case SQLITE_BLOB:
        v->p = sqlite3_column_blob(st, i);
        v->len = (size_t)sqlite3_column_bytes(st, i);
        break;
    default:
        v->type = SQLITE_NULL;
        break;
    }
}

/* Runs a query whose columns are lid, tid, row_id, col, op, value, hlc,
   oid, oseq, base_hlc, base_oid and calls fn for each row. */
static int
s_changes_run(struct cs_store *s, sqlite3_stmt *st, cs_change_fn fn, void *arg,
              uint64_t *last, uint64_t *first, size_t *count)
{
    int rc, r = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_change ch;
        const struct cs_table *t;
        int64_t oid = sqlite3_column_int64(st, 7);
        int64_t base_oid = sqlite3_column_int64(st, 10);

        memset(&ch, 0, sizeof ch);
        t = s_table_by_tid(s, sqlite3_column_int(st, 1), NULL);
        if (t == NULL)
            continue; /* a table dropped from the schema */
        if ((r = s_origin_known(s, oid)) != 0 ||
            (r = s_origin_known(s, base_oid ? base_oid : 1)) != 0)
            break;
        ch.table = t->name;
        ch.row_id = (const char *)sqlite3_column_text(st, 2);
        ch.col = (const char *)sqlite3_column_text(st, 3);
        ch.op = (enum cs_op)sqlite3_column_int(st, 4);
        cs_store_column_value(st, 5, &ch.value);
        ch.hlc.t = (uint64_t)sqlite3_column_int64(st, 6);
        ch.origin = *s_origin_node(s, oid);
        ch.origin_seq = (uint64_t)sqlite3_column_int64(st, 8);
        ch.has_base = sqlite3_column_type(st, 9) != SQLITE_NULL;
        if (ch.has_base) {
            ch.base_hlc.t = (uint64_t)sqlite3_column_int64(st, 9);
            ch.base_origin = *s_origin_node(s, base_oid);
        }
        if (last != NULL)
            *last = (uint64_t)sqlite3_column_int64(st, 0);
        if (first != NULL && *first == 0)
            *first = (uint64_t)sqlite3_column_int64(st, 0);
        if (count != NULL)
            (*count)++;
        if ((r = fn(arg, &ch)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = s_db_err(s, rc, "reading the log");
    return r;
}

#define S_CHANGE_COLS                                                          \
    "SELECT lid, tid, row_id, col, op, value, hlc, oid, coalesce(oseq, lid),"  \
    " base_hlc, base_oid FROM zz_log "

int
cs_store_changes(struct cs_store *s, uint64_t after, bool local_only,
                 cs_change_fn fn, void *arg, uint64_t *last)
{
    sqlite3_stmt *st = NULL;
    int r;

    *last = after;
    if ((r = s_prepare(s,
                       local_only ? S_CHANGE_COLS
                           "WHERE lid > ? AND oid = 1 ORDER BY lid"
                                  : S_CHANGE_COLS "WHERE lid > ? ORDER BY lid",
                       &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, (int64_t)after);
    r = s_changes_run(s, st, fn, arg, last, NULL, NULL);
    sqlite3_finalize(st);
    return r;
}

int
cs_store_history(struct cs_store *s, const char *table, const char *id,
                 cs_change_fn fn, void *arg)
{
    const struct cs_table *t;
    sqlite3_stmt *st = NULL;
    int r;

    if ((r = s_fields_check(s, table, NULL, 0, &t)) != 0)
        return r;
    if ((r = s_prepare(s,
                       S_CHANGE_COLS "WHERE tid = ? AND row_id = ? "
                                     "ORDER BY hlc, lid",
                       &st)) != 0)
        return r;
    sqlite3_bind_int(st, 1, t->tid);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    r = s_changes_run(s, st, fn, arg, NULL, NULL, NULL);
    sqlite3_finalize(st);
    return r;
}

int
cs_store_conflicts(struct cs_store *s,
                   int (*fn)(void *arg, const struct cs_conflict *c), void *arg)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(
             s,
             "SELECT f.tid, f.row_id, f.col, f.kind, f.lost_value, f.lost_hlc,"
             " f.lost_oid, c.hlc, c.oid, CASE WHEN f.kind = 1 THEN"
             " (SELECT value FROM zz_log l WHERE l.tid = f.tid AND"
             " l.row_id = f.row_id AND l.col = f.col AND l.op = 1 AND"
             " l.hlc = c.hlc AND l.oid = c.oid) END"
             " FROM zz_conflict f LEFT JOIN zz_cell c ON c.tid = f.tid AND"
             " c.row_id = f.row_id AND c.col = CASE WHEN f.kind = 2 THEN ''"
             " ELSE f.col END ORDER BY f.tid, f.row_id, f.col, f.lost_hlc,"
             " (SELECT node FROM zz_origin o WHERE o.oid = f.lost_oid),"
             " f.kind",
             &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_conflict c;
        const struct cs_table *t =
            s_table_by_tid(s, sqlite3_column_int(st, 0), NULL);
        int64_t lost_oid = sqlite3_column_int64(st, 6);
        int64_t won_oid = sqlite3_column_int64(st, 8);

        if (t == NULL)
            continue;
        if ((r = s_origin_known(s, lost_oid)) != 0 ||
            (r = s_origin_known(s, won_oid ? won_oid : 1)) != 0)
            break;
        memset(&c, 0, sizeof c);
        c.table = t->name;
        c.row_id = (const char *)sqlite3_column_text(st, 1);
        c.col = (const char *)sqlite3_column_text(st, 2);
        c.deleted = sqlite3_column_int(st, 3) == S_KIND_DELETED;
        cs_store_column_value(st, 4, &c.lost);
        c.lost_hlc.t = (uint64_t)sqlite3_column_int64(st, 5);
        c.lost_by = *s_origin_node(s, lost_oid);
        c.won_hlc.t = (uint64_t)sqlite3_column_int64(st, 7);
        c.won_by = *s_origin_node(s, won_oid);
        cs_store_column_value(st, 9, &c.won);
        if ((r = fn(arg, &c)) != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = s_db_err(s, rc, "reading conflicts");
    sqlite3_finalize(st);
    return r;
}

static int
s_count(struct cs_store *s, const char *sql, uint64_t *n)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *n = 0;
    if ((r = s_prepare(s, sql, &st)) != 0)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(st, 0);
    else
        r = s_db_err(s, rc, "counting");
    sqlite3_finalize(st);
    return r;
}

int
cs_store_status(struct cs_store *s, struct cs_store_status *st)
{
    uint64_t wall;
    int r;

    memset(st, 0, sizeof *st);
    if ((r = s_count(s,
                     "SELECT count(*) FROM zz_log WHERE oid = 1 AND "
                     "batch IS NULL",
                     &st->pending)) != 0 ||
        (r = s_count(s, "SELECT count(*) FROM zz_log", &st->log_entries)) !=
            0 ||
        (r = s_count(s, "SELECT count(*) FROM zz_conflict", &st->conflicts)) !=
            0 ||
        (r = s_clock_read(s, &st->clock, &wall)) != 0)
        return r;
    return 0;
}

/* ---- check ------------------------------------------------------------- */

static bool
s_value_eq(sqlite3_value *a, sqlite3_value *b)
{
    int ta = sqlite3_value_type(a), tb = sqlite3_value_type(b);
    if (ta != tb)
        return false;
    switch (ta) {
    case SQLITE_INTEGER:
        return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    case SQLITE_FLOAT: {
        double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        int na = sqlite3_value_bytes(a), nb = sqlite3_value_bytes(b);
        const void *pa = ta == SQLITE_TEXT ? (const void *)sqlite3_value_text(a)
                                           : sqlite3_value_blob(a);
        const void *pb = ta == SQLITE_TEXT ? (const void *)sqlite3_value_text(b)
                                           : sqlite3_value_blob(b);
        return na == nb && (na == 0 || memcmp(pa, pb, (size_t)na) == 0);
    }
    default:
        return true;
    }
}

/* Renders a value for a message: type and a short prefix of it. Reads a
   copy so that the caller's value keeps its type. */
static const char *
s_value_text(sqlite3_value *v, char *buf, size_t len)
{
    static const char *const names[] = {"?",    "integer", "real",
                                        "text", "blob",    "null"};
    sqlite3_value *copy;
    int type;

    if (v == NULL) {
        snprintf(buf, len, "null");
        return buf;
    }
    type = sqlite3_value_type(v);
    copy = sqlite3_value_dup(v);
    snprintf(buf, len, "%s '%.40s'", names[type >= 1 && type <= 5 ? type : 0],
             copy && sqlite3_value_text(copy)
                 ? (const char *)sqlite3_value_text(copy)
                 : "");
    sqlite3_value_free(copy);
    return buf;
}

/* Compares one row's stored state with its derivation. */
static int
s_row_check(struct cs_store *s, size_t ti, const char *row_id)
{
    const struct cs_table *t = &s->tables[ti];
    struct s_tstmt *ts = &s->tstmts[ti];
    struct s_entry *e = NULL;
    struct s_derived d;
    sqlite3_stmt *st = NULL;
    uint64_t count = 0, want = 0;
    char have_text[64], want_text[64];
    size_t n = 0;
    char *sql;
    int r, rc;

    if ((r = s_table_stmts(s, ti)) != 0 ||
        (r = s_row_load(s, t->tid, row_id, &e, &n)) != 0)
        return r;
    if (e == NULL)
        return 0; /* no change of this row: nothing to derive */
    s_derive(s, t, e, n, &d);

    /* The visible row. */
    sqlite3_bind_text(ts->select, 1, row_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(ts->select);
    if (rc == SQLITE_ROW && !d.alive) {
        r = CS_ERR_FORMAT;
        s_set_errmsg(s, "%s %s is visible but the log says it is %s", t->name,
                     row_id, d.has_life ? "deleted" : "not inserted");
    } else if (rc == SQLITE_DONE && d.alive) {
        r = CS_ERR_FORMAT;
        s_set_errmsg(s, "%s %s is missing but the log says it exists", t->name,
                     row_id);
    } else if (rc == SQLITE_ROW) {
        for (size_t c = 1; c < t->ncols && r == 0; c++) {
            sqlite3_value *have = sqlite3_column_value(ts->select, (int)c);
            bool same = d.winner[c] == SIZE_MAX
                            ? sqlite3_value_type(have) == SQLITE_NULL
                            : s_value_eq(have, e[d.winner[c]].value);
            if (!same) {
                r = CS_ERR_FORMAT;
                s_set_errmsg(s, "%s %s field %s holds %s, the log says %s",
                             t->name, row_id, t->cols[c],
                             s_value_text(have, have_text, sizeof have_text),
                             s_value_text(d.winner[c] == SIZE_MAX
                                              ? NULL
                                              : e[d.winner[c]].value,
                                          want_text, sizeof want_text));
            }
        }
    } else if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading a row");
    }
    sqlite3_reset(ts->select);
    if (r != 0)
        goto out;

    /* The winners. */
    for (size_t c = 1; c <= t->ncols; c++) {
        size_t w = c < t->ncols ? d.winner[c] : d.life;
        bool dead = c == t->ncols && !d.alive;
        if (c == t->ncols ? !d.has_life : w == SIZE_MAX)
            continue;
        want++;
        sql = sqlite3_mprintf("SELECT count(*) FROM zz_cell WHERE tid = %d "
                              "AND row_id = %Q AND col = %Q AND hlc = %lld "
                              "AND oid = %lld AND dead = %d",
                              t->tid, row_id, e[w].col, (long long)e[w].hlc,
                              (long long)e[w].oid, dead ? 1 : 0);
        r = s_count(s, sql, &count);
        sqlite3_free(sql);
        if (r == 0 && count != 1) {
            r = CS_ERR_FORMAT;
            s_set_errmsg(s, "%s %s: the winner of %s is not the log's", t->name,
                         row_id, e[w].col[0] ? e[w].col : "(life)");
        }
        if (r != 0)
            goto out;
    }
    sql = sqlite3_mprintf("SELECT count(*) FROM zz_cell WHERE tid = %d AND "
                          "row_id = %Q",
                          t->tid, row_id);
    r = s_count(s, sql, &count);
    sqlite3_free(sql);
    if (r == 0 && count != want) {
        r = CS_ERR_FORMAT;
        s_set_errmsg(s,
                     "%s %s: zz_cell has %" PRIu64 " versions, the log "
                     "%" PRIu64,
                     t->name, row_id, count, want);
    }
    if (r != 0)
        goto out;

    /* The conflicts. */
    for (size_t i = 0; i < d.nlost && r == 0; i++) {
        const struct s_entry *x = &e[d.lost[i].entry];
        sql = sqlite3_mprintf("SELECT count(*) FROM zz_conflict WHERE tid = %d"
                              " AND row_id = %Q AND col = %Q AND lost_hlc = "
                              "%lld AND lost_oid = %lld AND kind = %d",
                              t->tid, row_id, x->col, (long long)x->hlc,
                              (long long)x->oid, d.lost[i].kind);
        r = s_count(s, sql, &count);
        sqlite3_free(sql);
        if (r == 0 && count != 1) {
            r = CS_ERR_FORMAT;
            s_set_errmsg(s, "%s %s: conflict on %s is not listed", t->name,
                         row_id, x->col);
        }
    }
    if (r != 0)
        goto out;
    sql = sqlite3_mprintf("SELECT count(*) FROM zz_conflict WHERE tid = %d "
                          "AND row_id = %Q",
                          t->tid, row_id);
    r = s_count(s, sql, &count);
    sqlite3_free(sql);
    if (r == 0 && count != d.nlost) {
        r = CS_ERR_FORMAT;
        s_set_errmsg(s,
                     "%s %s: %" PRIu64 " conflicts listed, the log gives "
                     "%zu",
                     t->name, row_id, count, d.nlost);
    }
out:
    sqlite3_finalize(st);
    s_derived_free(&d);
    s_entries_free(e, n);
    return r;
}

int
cs_store_check(struct cs_store *s)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    s->errmsg[0] = '\0';
    if ((r = s_exec(s, "SAVEPOINT cs_check")) != 0)
        return r;
    if ((r = s_prepare(s, "SELECT DISTINCT tid, row_id FROM zz_log", &st)) != 0)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t ti;
        if (s_table_by_tid(s, sqlite3_column_int(st, 0), &ti) == NULL)
            continue;
        if ((r = s_row_check(s, ti,
                             (const char *)sqlite3_column_text(st, 1))) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading the log");
        goto out;
    }
    /* Rows no change accounts for (written while capture was off). */
    for (size_t i = 0; i < s->ntables; i++) {
        uint64_t stray;
        char *sql = sqlite3_mprintf(
            "SELECT count(*) FROM \"%w\" WHERE id NOT IN (SELECT row_id FROM "
            "zz_cell WHERE tid = %d AND col = '' AND dead = 0)",
            s->tables[i].name, s->tables[i].tid);
        r = s_count(s, sql, &stray);
        sqlite3_free(sql);
        if (r != 0)
            goto out;
        if (stray != 0) {
            r = CS_ERR_FORMAT;
            s_set_errmsg(s,
                         "%s has %" PRIu64 " rows that no change in the "
                         "log accounts for",
                         s->tables[i].name, stray);
            goto out;
        }
    }
out:
    sqlite3_finalize(st);
    sqlite3_exec(s->db, "RELEASE cs_check", NULL, NULL, NULL);
    return r;
}

/* ---- this node's feed of batches --------------------------------------- */

int
cs_store_feed_head(struct cs_store *s, uint64_t *seq,
                   uint8_t hash[CS_STORE_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *seq = 0;
    memset(hash, 0, CS_STORE_HASH_BYTES);
    if ((r = s_prepare(s,
                       "SELECT seq, hash FROM zz_batch ORDER BY seq DESC "
                       "LIMIT 1",
                       &st)) != 0)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != CS_STORE_HASH_BYTES) {
            r = CS_ERR_SCHEMA;
            s_set_errmsg(s, "zz_batch holds a hash of the wrong size");
        } else {
            *seq = (uint64_t)sqlite3_column_int64(st, 0);
            memcpy(hash, sqlite3_column_blob(st, 1), CS_STORE_HASH_BYTES);
        }
    } else if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading zz_batch");
    }
    sqlite3_finalize(st);
    return r;
}

int
cs_store_pending(struct cs_store *s, size_t max, cs_change_fn fn, void *arg,
                 uint64_t *first, uint64_t *last, size_t *count)
{
    sqlite3_stmt *st = NULL;
    int64_t end = INT64_MAX;
    int r, rc;

    *first = *last = 0;
    *count = 0;
    /* Up to max changes, and then the rest of the edit the last of them
       belongs to: the changes of one row's insert, update or delete share
       one HLC (the capture triggers give each its own), and a batch that
       ended inside one would carry, say, a new row's life without its
       office_id, which the server refuses as a row of no office.  First
       the end: the first pending change after the max-th with another
       HLC (none: every pending change goes). */
    if ((r = s_prepare(
             s,
             "WITH cut(lid, hlc) AS (SELECT lid, hlc FROM zz_log "
             "INDEXED BY zz_log_unsent WHERE oid = 1 AND batch IS NULL "
             "ORDER BY lid LIMIT 1 OFFSET ?1 - 1) "
             "SELECT (SELECT l.lid FROM zz_log l INDEXED BY zz_log_unsent "
             "WHERE l.oid = 1 AND l.batch IS NULL AND l.lid > cut.lid AND "
             "l.hlc <> cut.hlc ORDER BY l.lid LIMIT 1) FROM cut",
             &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        end = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = s_db_err(s, rc, "reading the pending changes");
    sqlite3_finalize(st);
    st = NULL;
    if (r != 0 ||
        (r = s_prepare(s,
                       S_CHANGE_COLS "INDEXED BY zz_log_unsent WHERE oid = 1 "
                                     "AND batch IS NULL AND lid < ? "
                                     "ORDER BY lid",
                       &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, end);
    r = s_changes_run(s, st, fn, arg, last, first, count);
    sqlite3_finalize(st);
    return r;
}

int
cs_store_feed_append(struct cs_store *s, const struct cs_feed_entry *e)
{
    sqlite3_stmt *st = NULL;
    uint8_t head_hash[CS_STORE_HASH_BYTES];
    uint64_t head_seq, marked;
    bool in_txn = false;
    int r;

    s->errmsg[0] = '\0';
    if ((r = s_exec(s, "BEGIN IMMEDIATE")) != 0)
        return r;
    in_txn = true;
    if ((r = cs_store_feed_head(s, &head_seq, head_hash)) != 0)
        goto out;
    if (e->seq != head_seq + 1 ||
        sodium_memcmp(e->prev, head_hash, CS_STORE_HASH_BYTES) != 0) {
        r = CS_ERR_EXISTS;
        s_set_errmsg(s,
                     "batch %" PRIu64 " does not follow this node's "
                     "feed head %" PRIu64 " (another program sealed one?)",
                     e->seq, head_seq);
        goto out;
    }
    if ((r = s_prepare(s,
                       "UPDATE zz_log SET batch = ?1 WHERE oid = 1 AND "
                       "batch IS NULL AND lid BETWEEN ?2 AND ?3",
                       &st)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)e->seq);
    sqlite3_bind_int64(st, 2, (int64_t)e->first_lid);
    sqlite3_bind_int64(st, 3, (int64_t)e->last_lid);
    if ((r = s_step_done(s, st)) != 0)
        goto out;
    marked = (uint64_t)sqlite3_changes(s->db);
    if (marked != e->count) {
        r = CS_ERR_EXISTS;
        s_set_errmsg(s,
                     "batch %" PRIu64 " carries %" PRIu64 " changes but "
                     "%" PRIu64 " are pending in its range",
                     e->seq, e->count, marked);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if ((r = s_prepare(s,
                       "INSERT INTO zz_batch(seq, hash, prev, first_lid, "
                       "last_lid, count, bytes, created) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?)",
                       &st)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)e->seq);
    sqlite3_bind_blob(st, 2, e->hash, CS_STORE_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, e->prev, CS_STORE_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)e->first_lid);
    sqlite3_bind_int64(st, 5, (int64_t)e->last_lid);
    sqlite3_bind_int64(st, 6, (int64_t)e->count);
    sqlite3_bind_blob64(st, 7, e->bytes, e->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, (int64_t)cs_hlc_wall_ms());
    if ((r = s_step_done(s, st)) != 0 || (r = s_exec(s, "COMMIT")) != 0)
        goto out;
    in_txn = false;
out:
    sqlite3_finalize(st);
    if (in_txn)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

int
cs_store_feed_get(struct cs_store *s, uint64_t seq, uint8_t **bytes,
                  size_t *len)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *bytes = NULL;
    *len = 0;
    if ((r = s_prepare(s, "SELECT bytes FROM zz_batch WHERE seq = ?", &st)) !=
        0)
        return r;
    sqlite3_bind_int64(st, 1, (int64_t)seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *bytes = cs_xmalloc(*len);
        if (*len > 0)
            memcpy(*bytes, sqlite3_column_blob(st, 0), *len);
    } else if (rc == SQLITE_DONE) {
        r = CS_ERR_NOT_FOUND;
        s_set_errmsg(s, "this node has no batch %" PRIu64, seq);
    } else {
        r = s_db_err(s, rc, "reading zz_batch");
    }
    sqlite3_finalize(st);
    return r;
}

int
cs_store_row_office(struct cs_store *s, const char *table, const char *id,
                    char *office, size_t len, bool *known)
{
    const struct cs_table *t = cs_store_table(s, table);
    sqlite3_stmt *st = s->row_office;
    int r = 0, rc;

    *known = false;
    if (len > 0)
        office[0] = '\0';
    if (t == NULL) {
        s_set_errmsg(s, "no table \"%s\"", table);
        return CS_ERR_NO_TABLE;
    }
    sqlite3_bind_int(st, 1, t->tid);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        *known = true;
        snprintf(office, len, "%s", (const char *)sqlite3_column_text(st, 0));
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading a row's office");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ---- server support: checks, corrections, digests ----------------------- */

int
cs_store_change_check(struct cs_store *s, const struct cs_change *ch)
{
    size_t ti;

    s->errmsg[0] = '\0';
    return s_change_check(s, ch, &ti);
}

int
cs_store_reassert(struct cs_store *s, const char *table, const char *id,
                  const char *col, struct cs_hlc after)
{
    const struct cs_table *t = cs_store_table(s, table);
    sqlite3_stmt *st = NULL;
    bool known, dead, in_txn = false;
    int r;

    if (t == NULL) {
        s_set_errmsg(s, "no table \"%s\"", table);
        return CS_ERR_NO_TABLE;
    }
    if (col[0] != '\0' && cs_table_col(t, col) <= 0) {
        s_set_errmsg(s, "%s has no field \"%s\"", table, col);
        return CS_ERR_NO_FIELD;
    }
    if (after.t > INT64_MAX)
        return CS_ERR_INVALID;
    if ((r = s_txn_begin(s)) != 0)
        return r;
    in_txn = true;
    if ((r = s_row_life(s, t, id, &known, &dead)) != 0)
        goto out;
    if (!known) {
        s_set_errmsg(s, "no %s with id %s", t->name, id);
        r = CS_ERR_NOT_FOUND;
        goto out;
    }
    /* The clock passes the change being corrected, then ticks. */
    if ((r = s_prepare(s, "UPDATE zz_state SET hlc = max(hlc, ?)", &st)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)after.t);
    if ((r = s_step_done(s, st)) != 0 || (r = s_exec(s, S_SQL_TICK)) != 0)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    if (col[0] == '\0')
        r = s_prepare(s,
                      "INSERT INTO zz_log(tid, row_id, col, op, hlc, oid, "
                      "base_hlc, base_oid) SELECT ?1, ?2, '', ?3, s.hlc, 1,"
                      " c.hlc, c.oid FROM zz_state s LEFT JOIN zz_cell c ON"
                      " c.tid = ?1 AND c.row_id = ?2 AND c.col = ''",
                      &st);
    else
        r = s_prepare(s,
                      "INSERT INTO zz_log(tid, row_id, col, op, value, hlc, "
                      "oid, base_hlc, base_oid) SELECT ?1, ?2, ?4, 1, "
                      "(SELECT l.value FROM zz_log l WHERE l.tid = c.tid AND"
                      " l.row_id = c.row_id AND l.col = c.col AND l.hlc ="
                      " c.hlc AND l.oid = c.oid AND l.op = 1), s.hlc, 1,"
                      " c.hlc, c.oid FROM zz_state s LEFT JOIN zz_cell c ON"
                      " c.tid = ?1 AND c.row_id = ?2 AND c.col = ?4",
                      &st);
    if (r != 0)
        goto out;
    sqlite3_bind_int(st, 1, t->tid);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, dead ? CS_OP_DEL : CS_OP_RST);
    if (col[0] != '\0')
        sqlite3_bind_text(st, 4, col, -1, SQLITE_STATIC);
    if ((r = s_step_done(s, st)) != 0 ||
        (r = s_exec(s, "UPDATE zz_state SET capture = 0")) != 0 ||
        (r = s_row_recompute(s, (size_t)(t - s->tables), id)) != 0 ||
        (r = s_exec(s, "UPDATE zz_state SET capture = 1")) != 0 ||
        (r = s_txn_commit(s)) != 0)
        goto out;
    in_txn = false;
out:
    sqlite3_finalize(st);
    if (in_txn)
        s_txn_rollback(s);
    return r;
}

/* Feeds one 64-bit number to a hash, big-endian. */
static void
s_hash_u64(crypto_generichash_state *h, uint64_t v)
{
    uint8_t b[8];

    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    crypto_generichash_update(h, b, sizeof b);
}

/* Feeds one SQLite value to a hash: its type, then its bytes. */
static void
s_hash_value(crypto_generichash_state *h, sqlite3_stmt *st, int i)
{
    int type = sqlite3_column_type(st, i);
    uint8_t t = (uint8_t)type;
    union {
        double d;
        uint64_t u;
    } f;

    crypto_generichash_update(h, &t, 1);
    switch (type) {
    case SQLITE_INTEGER:
        s_hash_u64(h, (uint64_t)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        f.d = sqlite3_column_double(st, i);
        s_hash_u64(h, f.u);
        break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        const void *p = type == SQLITE_TEXT
                            ? (const void *)sqlite3_column_text(st, i)
                            : sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        s_hash_u64(h, (uint64_t)n);
        if (n > 0 && p != NULL)
            crypto_generichash_update(h, p, (size_t)n);
        break;
    }
    default:
        break;
    }
}

/* Reads PRAGMA data_version: it changes when another connection commits
   (this connection's own changes show in sqlite3_total_changes64()). */
static int
s_data_version(struct cs_store *s, int64_t *version)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_prepare(s, "PRAGMA data_version", &st)) != 0)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        r = 0;
    } else {
        r = s_db_err(s, rc, "reading the data version");
    }
    sqlite3_finalize(st);
    return r;
}

/* Hashes the rows of table t (of office, unless NULL): first every
   value of every row, then every winning version. */
static int
s_digest_table(struct cs_store *s, const struct cs_table *t, const char *office,
               crypto_generichash_state *h, uint64_t *rows)
{
    static const char *const sql[2] = {
        "SELECT * FROM \"%w\" %s ORDER BY id",
        "SELECT c.row_id, c.col, c.hlc, o.node FROM \"%w\" r"
        " JOIN zz_cell c ON c.tid = %d AND c.row_id = r.id"
        " JOIN zz_origin o ON o.oid = c.oid %s ORDER BY c.row_id, c.col"};
    const char *where = office != NULL ? "WHERE office_id = ?1" : "";
    int r = 0;

    crypto_generichash_update(h, (const uint8_t *)t->name, strlen(t->name) + 1);
    for (int pass = 0; pass < 2 && r == 0; pass++) {
        sqlite3_stmt *st = NULL;
        char *q = pass == 0 ? sqlite3_mprintf(sql[0], t->name, where)
                            : sqlite3_mprintf(sql[1], t->name, t->tid, where);
        int rc;

        if (q == NULL)
            return CS_ERR_NOMEM;
        r = s_prepare(s, q, &st);
        sqlite3_free(q);
        if (r != 0)
            break;
        if (office != NULL)
            sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int n = sqlite3_column_count(st);
            if (pass == 0)
                (*rows)++;
            for (int i = 0; i < n; i++)
                s_hash_value(h, st, i);
        }
        if (rc != SQLITE_DONE)
            r = s_db_err(s, rc, "computing the digest");
        sqlite3_finalize(st);
    }
    return r;
}

int
cs_store_digest(struct cs_store *s, const char *office,
                uint8_t digest[CS_STORE_HASH_BYTES], uint64_t *rows)
{
    struct s_digest_cache *dc = &s->dc;
    crypto_generichash_state h;
    int64_t version = -1;
    bool cacheable;
    int r = 0;

    *rows = 0;
    /* Only committed content is cached (a transaction open here may
       still roll back), and only while no connection, this one included,
       has changed the file since. */
    cacheable = sqlite3_get_autocommit(s->db) &&
                (office == NULL || strlen(office) < sizeof dc->office) &&
                s_data_version(s, &version) == 0;
    if (cacheable && dc->valid && dc->data_version == version &&
        dc->changes == sqlite3_total_changes64(s->db) &&
        strcmp(dc->office, office != NULL ? office : "") == 0) {
        memcpy(digest, dc->digest, CS_STORE_HASH_BYTES);
        *rows = dc->rows;
        return 0;
    }
    dc->valid = false;
    crypto_generichash_init(&h, NULL, 0, CS_STORE_HASH_BYTES);
    for (size_t ti = 0; ti < s->ntables && r == 0; ti++)
        r = s_digest_table(s, &s->tables[ti], office, &h, rows);
    crypto_generichash_final(&h, digest, CS_STORE_HASH_BYTES);
    if (r == 0 && cacheable) {
        dc->valid = true;
        dc->data_version = version;
        dc->changes = sqlite3_total_changes64(s->db);
        snprintf(dc->office, sizeof dc->office, "%s",
                 office != NULL ? office : "");
        memcpy(dc->digest, digest, CS_STORE_HASH_BYTES);
        dc->rows = *rows;
    }
    return r;
}

void
cs_store_defer_rows(struct cs_store *s, bool on)
{
    s->defer_rows = on;
}

int
cs_store_rebuild(struct cs_store *s, uint64_t *rows)
{
    sqlite3_stmt *st = NULL;
    bool in_txn = false;
    int r, rc;

    *rows = 0;
    s->errmsg[0] = '\0';
    if ((r = s_txn_begin(s)) != 0)
        return r;
    in_txn = true;
    if ((r = s_exec(s, "UPDATE zz_state SET capture = 0")) != 0 ||
        (r = s_prepare(s, "SELECT DISTINCT tid, row_id FROM zz_log", &st)) != 0)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t ti;
        if (s_table_by_tid(s, sqlite3_column_int(st, 0), &ti) == NULL)
            continue;
        if ((r = s_row_recompute(
                 s, ti, (const char *)sqlite3_column_text(st, 1))) != 0)
            goto out;
        (*rows)++;
    }
    if (rc != SQLITE_DONE) {
        r = s_db_err(s, rc, "reading the log");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if ((r = s_exec(s, "UPDATE zz_state SET capture = 1")) != 0 ||
        (r = s_txn_commit(s)) != 0)
        goto out;
    in_txn = false;
out:
    sqlite3_finalize(st);
    if (in_txn)
        s_txn_rollback(s);
    return r;
}
