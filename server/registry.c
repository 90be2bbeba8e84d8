/*  server/registry.c - enrolled nodes and the event record; see registry.h.
 *
 *  Design note: check, then write, inside one BEGIN IMMEDIATE.  The
 *  refusals (name taken, key taken) are looked up first so that they can
 *  name the node in the way; the UNIQUE constraints stay as the last word,
 *  should another program slip in between (it cannot: IMMEDIATE holds the
 *  write lock from the first read).  Every path out of a transaction that
 *  did not commit rolls it back, so an error writes nothing.
 *
 *  Rows are validated when read (s_row_read): the file is a plain SQLite
 *  database that any tool may open, and what the CLI prints from it must
 *  stay within the ASCII rules of registry.h.
 */
#include "prelude.h"

#include "registry.h"

#define S_ROLE_SITE "site"
#define S_ROLE_CENTRAL "central"
#define S_ROLE_AUDITOR "auditor"
#define S_STATUS_ACTIVE "active"
#define S_STATUS_REVOKED "revoked"
#define S_EVENT_ENROLL "enroll" /* zz_srv_event kinds */
#define S_EVENT_REVOKE "revoke"
#define S_PRINTABLE_MIN 0x20 /* ' ', first printable ASCII */
#define S_PRINTABLE_MAX 0x7e /* '~', last printable ASCII */
#define S_TABLES 2           /* zz_srv_node and zz_srv_event */

/* The registry's tables (registry.h).  CHECKs keep rows that the admin
   commands could not have written out of the file, whoever writes it. */
static const char s_install_sql[] =
    "CREATE TABLE zz_srv_node(\n"
    "  name TEXT PRIMARY KEY,           -- what the administrator types\n"
    "  role TEXT NOT NULL CHECK (role IN ('site', 'central', 'auditor')),\n"
    "  office TEXT,                     -- NULL for an auditor\n"
    "  pubkey BLOB NOT NULL UNIQUE      -- Ed25519 public key\n"
    "    CHECK (typeof(pubkey) = 'blob' AND length(pubkey) = 32),\n"
    "  node_id TEXT NOT NULL UNIQUE     -- hex BLAKE2b-128 of pubkey\n"
    "    CHECK (length(node_id) = 32),\n"
    "  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),\n"
    "  enrolled INTEGER NOT NULL,       -- ms since the epoch\n"
    "  revoked INTEGER,                 -- ms, when revoked\n"
    "  last_seen INTEGER,               -- ms of the last session\n"
    "  last_seq INTEGER NOT NULL DEFAULT 0,  -- last batch received\n"
    "  bytes_in INTEGER NOT NULL DEFAULT 0,  -- received from the node\n"
    "  bytes_out INTEGER NOT NULL DEFAULT 0, -- sent to the node\n"
    "  CHECK ((role = 'auditor') = (office IS NULL)),\n"
    "  CHECK ((status = 'revoked') = (revoked IS NOT NULL))\n"
    ");\n"
    "CREATE TABLE zz_srv_event(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  at INTEGER NOT NULL,             -- ms since the epoch\n"
    "  kind TEXT NOT NULL,              -- enroll, revoke\n"
    "  node TEXT,                       -- the node's name\n"
    "  detail TEXT                      -- role, office, ids\n"
    ");\n"
    "CREATE TRIGGER zz_srv_event_no_update BEFORE UPDATE ON zz_srv_event\n"
    "BEGIN SELECT RAISE(ABORT, 'zz_srv_event is append-only'); END;\n"
    "CREATE TRIGGER zz_srv_event_no_delete BEFORE DELETE ON zz_srv_event\n"
    "BEGIN SELECT RAISE(ABORT, 'zz_srv_event is append-only'); END;\n";

/* Columns s_row_read() expects, in its order. */
#define S_NODE_COLUMNS                                                         \
    "name, role, office, pubkey, node_id, status, enrolled, revoked, "         \
    "last_seen, last_seq, bytes_in, bytes_out"

enum s_col {
    S_COL_NAME,
    S_COL_ROLE,
    S_COL_OFFICE,
    S_COL_PUBKEY,
    S_COL_NODE_ID,
    S_COL_STATUS,
    S_COL_ENROLLED,
    S_COL_REVOKED,
    S_COL_LAST_SEEN,
    S_COL_LAST_SEQ,
    S_COL_BYTES_IN,
    S_COL_BYTES_OUT
};

bool
cs_registry_name_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > CS_REGISTRY_NAME_MAX)
        return false;
    if (name[0] == ' ' || name[0] == '-' || name[len - 1] == ' ')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < S_PRINTABLE_MIN || c > S_PRINTABLE_MAX)
            return false;
    }
    return true;
}

int
cs_registry_role_parse(const char *text, enum cs_registry_role *role)
{
    *role = CS_REGISTRY_SITE;
    if (strcmp(text, S_ROLE_SITE) == 0)
        return 0;
    if (strcmp(text, S_ROLE_CENTRAL) == 0) {
        *role = CS_REGISTRY_CENTRAL;
        return 0;
    }
    if (strcmp(text, S_ROLE_AUDITOR) == 0) {
        *role = CS_REGISTRY_AUDITOR;
        return 0;
    }
    return CS_ERR_INVALID;
}

const char *
cs_registry_role_name(enum cs_registry_role role)
{
    switch (role) {
    case CS_REGISTRY_SITE:
        return S_ROLE_SITE;
    case CS_REGISTRY_CENTRAL:
        return S_ROLE_CENTRAL;
    case CS_REGISTRY_AUDITOR:
        return S_ROLE_AUDITOR;
    default:
        return "?";
    }
}

void
cs_registry_scope(const struct cs_registry_node *n,
                  char out[CS_REGISTRY_SCOPE_MAX])
{
    switch (n->role) {
    case CS_REGISTRY_SITE:
        snprintf(out, CS_REGISTRY_SCOPE_MAX, "writes and reads %s", n->office);
        break;
    case CS_REGISTRY_CENTRAL:
        snprintf(out, CS_REGISTRY_SCOPE_MAX, "writes and reads all");
        break;
    case CS_REGISTRY_AUDITOR:
        snprintf(out, CS_REGISTRY_SCOPE_MAX, "reads all, writes nothing");
        break;
    default:
        snprintf(out, CS_REGISTRY_SCOPE_MAX, "nothing");
        break;
    }
}

void
cs_registry_init(struct cs_registry *reg, sqlite3 *db,
                 const struct cs_node_id *self)
{
    reg->db = db;
    reg->self = *self;
    reg->errmsg[0] = '\0';
    reg->audit = NULL;
    reg->audit_arg = NULL;
}

const char *
cs_registry_errmsg(const struct cs_registry *reg)
{
    return reg->errmsg;
}

/* ---- SQLite helpers ------------------------------------------------------ */

static int
s_db_err(struct cs_registry *reg, int rc, const char *what)
{
    int ext = sqlite3_extended_errcode(reg->db);

    snprintf(reg->errmsg, sizeof reg->errmsg, "%s: %s", what,
             sqlite3_errmsg(reg->db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || ext == SQLITE_BUSY)
        return CS_ERR_LOCKED;
    return CS_ERR_DB;
}

static int
s_exec(struct cs_registry *reg, const char *sql, const char *what)
{
    int rc = sqlite3_exec(reg->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return s_db_err(reg, rc, what);
    return 0;
}

static int
s_prepare(struct cs_registry *reg, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(reg->db, sql, -1, st, NULL);

    if (rc != SQLITE_OK)
        return s_db_err(reg, rc, "registry");
    return 0;
}

/* Ends a transaction that did not commit; the error is already told. */
static void
s_rollback(struct cs_registry *reg)
{
    if (!sqlite3_get_autocommit(reg->db))
        (void)sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Returns the value of a column that must be a non-negative integer, or
   sets *bad. */
static uint64_t
s_col_count(sqlite3_stmt *st, int col, bool *bad)
{
    int type = sqlite3_column_type(st, col);
    sqlite3_int64 v;

    if (type == SQLITE_NULL)
        return 0;
    if (type != SQLITE_INTEGER || (v = sqlite3_column_int64(st, col)) < 0) {
        *bad = true;
        return 0;
    }
    return (uint64_t)v;
}

/* Reads and checks the row at st (S_NODE_COLUMNS) into *n. */
static int
s_row_read(struct cs_registry *reg, sqlite3_stmt *st,
           struct cs_registry_node *n)
{
    const char *name = (const char *)sqlite3_column_text(st, S_COL_NAME);
    const char *role = (const char *)sqlite3_column_text(st, S_COL_ROLE);
    const char *office = (const char *)sqlite3_column_text(st, S_COL_OFFICE);
    const char *node = (const char *)sqlite3_column_text(st, S_COL_NODE_ID);
    const char *status = (const char *)sqlite3_column_text(st, S_COL_STATUS);
    const void *key = sqlite3_column_blob(st, S_COL_PUBKEY);
    int key_len = sqlite3_column_bytes(st, S_COL_PUBKEY);
    struct cs_node_id derived;
    const char *what = NULL;
    bool bad = false;

    memset(n, 0, sizeof *n);
    if (name == NULL || !cs_registry_name_valid(name)) {
        snprintf(reg->errmsg, sizeof reg->errmsg,
                 "zz_srv_node holds a row with a bad name");
        return CS_ERR_SCHEMA;
    }
    snprintf(n->name, sizeof n->name, "%s", name);
    if (role == NULL || cs_registry_role_parse(role, &n->role) != 0)
        what = "role";
    else if ((n->role == CS_REGISTRY_AUDITOR) != (office == NULL) ||
             (office != NULL && !cs_store_office_valid(office)))
        what = "office";
    else if (key == NULL || key_len != (int)sizeof n->key.b)
        what = "pubkey";
    else if (node == NULL || cs_node_id_parse(node, &n->node) != 0)
        what = "node_id";
    if (what == NULL) {
        if (office != NULL)
            snprintf(n->office, sizeof n->office, "%s", office);
        memcpy(n->key.b, key, sizeof n->key.b);
        cs_node_id_from_pubkey(&n->key, &derived);
        if (memcmp(derived.b, n->node.b, CS_NODE_ID_BYTES) != 0)
            what = "node_id";
    }
    if (what == NULL && status != NULL && strcmp(status, S_STATUS_REVOKED) == 0)
        n->revoked = true;
    else if (what == NULL &&
             (status == NULL || strcmp(status, S_STATUS_ACTIVE) != 0))
        what = "status";
    n->enrolled_ms = s_col_count(st, S_COL_ENROLLED, &bad);
    n->revoked_ms = s_col_count(st, S_COL_REVOKED, &bad);
    n->last_seen_ms = s_col_count(st, S_COL_LAST_SEEN, &bad);
    n->last_seq = s_col_count(st, S_COL_LAST_SEQ, &bad);
    n->bytes_in = s_col_count(st, S_COL_BYTES_IN, &bad);
    n->bytes_out = s_col_count(st, S_COL_BYTES_OUT, &bad);
    if (what == NULL && bad)
        what = "times or counters";
    if (what != NULL) {
        snprintf(reg->errmsg, sizeof reg->errmsg,
                 "zz_srv_node: the row of node \"%s\" has a bad %s", n->name,
                 what);
        return CS_ERR_SCHEMA;
    }
    return 0;
}

/* One parameter of a statement. */
struct s_param {
    int type;         /* SQLITE_TEXT, SQLITE_INTEGER, SQLITE_BLOB, _NULL */
    const char *s;    /* the text */
    sqlite3_int64 i;  /* the integer */
    const void *blob; /* the blob ... */
    size_t len;       /* ... and its length */
};

/* The parameter values of each type, for the arrays s_bind() takes. */
static struct s_param
s_text(const char *s)
{
    struct s_param p = {SQLITE_TEXT, s, 0, NULL, 0};
    return p;
}

static struct s_param
s_int(uint64_t i)
{
    struct s_param p = {SQLITE_INTEGER, NULL, (sqlite3_int64)i, NULL, 0};
    return p;
}

static struct s_param
s_blob(const void *blob, size_t len)
{
    struct s_param p = {SQLITE_BLOB, NULL, 0, blob, len};
    return p;
}

static struct s_param
s_null(void)
{
    struct s_param p = {SQLITE_NULL, NULL, 0, NULL, 0};
    return p;
}

/* Prepares a statement and binds its parameters.
     reg  the registry
     sql  the statement
     p    the values of ?1, ?2, ...
     n    how many
     st   receives the statement (sqlite3_finalize()); NULL on failure */
static int
s_bind(struct cs_registry *reg, const char *sql, const struct s_param *p,
       size_t n, sqlite3_stmt **st)
{
    int r, rc = SQLITE_OK;

    if ((r = s_prepare(reg, sql, st)) != 0)
        return r;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        int at = (int)i + 1;
        switch (p[i].type) {
        case SQLITE_TEXT:
            rc = sqlite3_bind_text(*st, at, p[i].s, -1, SQLITE_TRANSIENT);
            break;
        case SQLITE_INTEGER:
            rc = sqlite3_bind_int64(*st, at, p[i].i);
            break;
        case SQLITE_BLOB:
            rc = sqlite3_bind_blob(*st, at, p[i].blob, (int)p[i].len,
                                   SQLITE_TRANSIENT);
            break;
        default:
            rc = sqlite3_bind_null(*st, at);
            break;
        }
    }
    if (rc != SQLITE_OK) {
        r = s_db_err(reg, rc, "registry");
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return r;
}

/* Runs one INSERT or UPDATE.
     reg  the registry
     sql  the statement
     p    the values of its parameters
     n    how many */
static int
s_write(struct cs_registry *reg, const char *sql, const struct s_param *p,
        size_t n)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = s_bind(reg, sql, p, n, &st)) != 0)
        return r;
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        r = s_db_err(reg, rc, "registry");
    sqlite3_finalize(st);
    return r;
}

/* Looks a node up by a condition on one column.
     reg    the registry
     where  the condition, with one ?
     key    its value
     n      receives the node
   Returns 0, CS_ERR_NOT_FOUND, CS_ERR_SCHEMA, CS_ERR_LOCKED or
   CS_ERR_DB. */
static int
s_lookup(struct cs_registry *reg, const char *where, const struct s_param *key,
         struct cs_registry_node *n)
{
    sqlite3_stmt *st = NULL;
    char *sql = cs_xasprintf(
        "SELECT " S_NODE_COLUMNS " FROM zz_srv_node WHERE %s", where);
    int r, rc;

    memset(n, 0, sizeof *n);
    if ((r = s_bind(reg, sql, key, 1, &st)) != 0)
        goto out;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        r = CS_ERR_NOT_FOUND;
    else if (rc != SQLITE_ROW)
        r = s_db_err(reg, rc, "registry");
    else
        r = s_row_read(reg, st, n);
out:
    sqlite3_finalize(st);
    free(sql);
    return r;
}

static int
s_lookup_name(struct cs_registry *reg, const char *name,
              struct cs_registry_node *n)
{
    const struct s_param key = s_text(name);

    return s_lookup(reg, "name = ?", &key, n);
}

/* Appends one row to zz_srv_event.
     reg     the registry
     at_ms   when
     kind    S_EVENT_*
     name    the node's name
     detail  what else to keep */
static int
s_event(struct cs_registry *reg, uint64_t at_ms, const char *kind,
        const char *name, const char *detail)
{
    const struct s_param p[] = {s_int(at_ms), s_text(kind), s_text(name),
                                s_text(detail)};

    return s_write(reg,
                   "INSERT INTO zz_srv_event(at, kind, node, detail)"
                   " VALUES (?, ?, ?, ?)",
                   p, sizeof p / sizeof *p);
}

/* ---- install and check --------------------------------------------------- */

int
cs_registry_install(struct cs_registry *reg)
{
    char *meta = cs_xasprintf("INSERT INTO zz_meta(key, value) VALUES"
                              " ('registry_version', '%s')",
                              CS_REGISTRY_VERSION);
    int r;

    reg->errmsg[0] = '\0';
    if ((r = s_exec(reg, "BEGIN IMMEDIATE", "registry")) != 0 ||
        (r = s_exec(reg, s_install_sql, "creating the registry")) != 0 ||
        (r = s_exec(reg, meta, "creating the registry")) != 0 ||
        (r = s_exec(reg, "COMMIT", "creating the registry")) != 0)
        s_rollback(reg);
    free(meta);
    return r;
}

int
cs_registry_check(struct cs_registry *reg)
{
    sqlite3_stmt *st = NULL;
    const char *version;
    int r, rc;

    reg->errmsg[0] = '\0';
    if ((r = s_prepare(reg,
                       "SELECT (SELECT value FROM zz_meta"
                       "        WHERE key = 'registry_version'),"
                       " (SELECT count(*) FROM sqlite_master WHERE type ="
                       "  'table' AND name IN ('zz_srv_node', 'zz_srv_event'))",
                       &st)) != 0)
        return r;
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        r = s_db_err(reg, rc, "registry");
        goto out;
    }
    version = (const char *)sqlite3_column_text(st, 0);
    if (version == NULL || sqlite3_column_int(st, 1) != S_TABLES) {
        snprintf(reg->errmsg, sizeof reg->errmsg,
                 "the replica has no server registry (zz_srv_node)");
        r = CS_ERR_SCHEMA;
        goto out;
    }
    if (strcmp(version, CS_REGISTRY_VERSION) != 0) {
        snprintf(reg->errmsg, sizeof reg->errmsg,
                 "the replica's server registry has version %.16s; this "
                 "program reads version %s",
                 version, CS_REGISTRY_VERSION);
        r = CS_ERR_SCHEMA;
    }
out:
    sqlite3_finalize(st);
    return r;
}

/* ---- enroll and revoke --------------------------------------------------- */

/* Checks the fields of a node to enrol against registry.h's rules. */
static int
s_enroll_check(struct cs_registry *reg, const struct cs_registry_node *n)
{
    bool office_ok = n->role == CS_REGISTRY_AUDITOR
                         ? n->office[0] == '\0'
                         : cs_store_office_valid(n->office);

    if (!cs_registry_name_valid(n->name)) {
        snprintf(reg->errmsg, sizeof reg->errmsg, "bad node name");
        return CS_ERR_INVALID;
    }
    if (!office_ok) {
        snprintf(reg->errmsg, sizeof reg->errmsg, "bad office for a %s",
                 cs_registry_role_name(n->role));
        return CS_ERR_INVALID;
    }
    return 0;
}

/* Within the enrolment's transaction: is the name or the key taken?
     reg    the registry
     n      the node to enrol
     other  receives the node holding the name or the key */
static int
s_enroll_taken(struct cs_registry *reg, const struct cs_registry_node *n,
               struct cs_registry_node *other)
{
    const struct s_param key = s_blob(n->key.b, sizeof n->key.b);
    int r = s_lookup_name(reg, n->name, other);

    if (r == 0)
        return CS_REGISTRY_ERR_TAKEN;
    if (r != CS_ERR_NOT_FOUND)
        return r;
    r = s_lookup(reg, "pubkey = ?", &key, other);
    if (r == 0)
        return CS_REGISTRY_ERR_TAKEN;
    if (r != CS_ERR_NOT_FOUND)
        return r;
    memset(other, 0, sizeof *other);
    return 0;
}

int
cs_registry_enroll(struct cs_registry *reg, const struct cs_registry_node *n,
                   uint64_t now_ms, struct cs_registry_node *other)
{
    char hex[CS_NODE_ID_HEX_LEN + 1], identity[CS_IDENTITY_TEXT_LEN + 1];
    const char *role = cs_registry_role_name(n->role);
    const char *office = n->office[0] != '\0' ? n->office : NULL;
    /* hex is filled in below, before the statement runs */
    const struct s_param p[] = {s_text(n->name),
                                s_text(role),
                                office != NULL ? s_text(office) : s_null(),
                                s_blob(n->key.b, sizeof n->key.b),
                                s_text(hex),
                                s_int(now_ms)};
    struct cs_node_id node;
    char *detail = NULL;
    int r;

    memset(other, 0, sizeof *other);
    reg->errmsg[0] = '\0';
    if ((r = s_enroll_check(reg, n)) != 0)
        return r;
    cs_node_id_from_pubkey(&n->key, &node);
    if (memcmp(node.b, reg->self.b, CS_NODE_ID_BYTES) == 0)
        return CS_REGISTRY_ERR_SELF;
    cs_node_id_hex(&node, hex);
    if ((r = cs_identity_format(&n->key, identity, sizeof identity)) != 0)
        return r;
    detail = cs_xasprintf("role=%s office=%s node_id=%s identity=%s", role,
                          office != NULL ? office : "-", hex, identity);
    if ((r = s_exec(reg, "BEGIN IMMEDIATE", "registry")) != 0 ||
        (r = s_enroll_taken(reg, n, other)) != 0 ||
        (r = s_write(reg,
                     "INSERT INTO zz_srv_node(name, role, office, pubkey,"
                     " node_id, enrolled, status) VALUES"
                     " (?, ?, ?, ?, ?, ?, 'active')",
                     p, sizeof p / sizeof *p)) != 0 ||
        (r = s_event(reg, now_ms, S_EVENT_ENROLL, n->name, detail)) != 0 ||
        (reg->audit != NULL &&
         (r = reg->audit(reg->audit_arg, n, false, now_ms)) != 0) ||
        (r = s_exec(reg, "COMMIT", "registry")) != 0)
        s_rollback(reg);
    free(detail);
    return r;
}

int
cs_registry_revoke(struct cs_registry *reg, const char *name, uint64_t now_ms,
                   struct cs_registry_node *n)
{
    const struct s_param p[] = {s_int(now_ms), s_text(name)};
    char *detail = NULL;
    int r;

    reg->errmsg[0] = '\0';
    if ((r = s_exec(reg, "BEGIN IMMEDIATE", "registry")) != 0)
        return r;
    if ((r = s_lookup_name(reg, name, n)) != 0)
        goto out;
    if (n->revoked) {
        r = CS_REGISTRY_ERR_REVOKED;
        goto out;
    }
    detail = cs_xasprintf("role=%s office=%s", cs_registry_role_name(n->role),
                          n->office[0] ? n->office : "-");
    if ((r = s_write(reg,
                     "UPDATE zz_srv_node SET status = 'revoked', revoked = ?"
                     " WHERE name = ?",
                     p, sizeof p / sizeof *p)) != 0 ||
        (r = s_event(reg, now_ms, S_EVENT_REVOKE, name, detail)) != 0 ||
        (reg->audit != NULL &&
         (r = reg->audit(reg->audit_arg, n, true, now_ms)) != 0) ||
        (r = s_exec(reg, "COMMIT", "registry")) != 0)
        goto out;
    n->revoked = true;
    n->revoked_ms = now_ms;
out:
    if (r != 0)
        s_rollback(reg);
    free(detail);
    return r;
}

/* ---- reading ------------------------------------------------------------- */

int
cs_registry_get(struct cs_registry *reg, const char *name,
                struct cs_registry_node *n)
{
    reg->errmsg[0] = '\0';
    return s_lookup_name(reg, name, n);
}

int
cs_registry_list(struct cs_registry *reg,
                 int (*fn)(void *arg, const struct cs_registry_node *n),
                 void *arg)
{
    sqlite3_stmt *st = NULL;
    struct cs_registry_node n;
    int r, rc;

    reg->errmsg[0] = '\0';
    if ((r = s_prepare(reg,
                       "SELECT " S_NODE_COLUMNS
                       " FROM zz_srv_node ORDER BY name COLLATE BINARY",
                       &st)) != 0)
        return r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((r = s_row_read(reg, st, &n)) != 0 || (r = fn(arg, &n)) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        r = s_db_err(reg, rc, "registry");
out:
    sqlite3_finalize(st);
    return r;
}
