/*  server/auditcmd.c - `cigsync-server audit DIR log|verify`; see
 *  auditcmd.h.
 *
 *  Both read the log the way an auditor node does: as an archive
 *  (proto/auditlog.h) made from the store in one read transaction.  `log`
 *  walks it leaf by leaf, keeping the value each field had so far (in an
 *  in-memory SQLite table, last writer wins by HLC as in the store), so
 *  each change is shown with the value it replaced.
 */
#include "prelude.h"

#include <time.h>

#include "audit.h"
#include "auditcmd.h"
#include "auditlog.h"
#include "batch.h"
#include "changeset.h"
#include "srvdir.h"
#include "srvout.h"
#include "verify.h"

#define S_SHOWN_MAX 200 /* bytes of a value shown */

/* Reads exactly n decimal digits at p into *v. */
static bool
s_digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

int
cs_auditcmd_time(const char *text, bool end_of_day, uint64_t *ms)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t len = strlen(text);
    time_t t;

    memset(&tm, 0, sizeof tm);
    if (len < 10 || !s_digits(text, 4, &y) || text[4] != '-' ||
        !s_digits(text + 5, 2, &mo) || text[7] != '-' ||
        !s_digits(text + 8, 2, &d))
        return CS_ERR_INVALID;
    if (len > 10) {
        /* THH:MM or THH:MM:SS */
        if ((len != 16 && len != 19) || (text[10] != 'T' && text[10] != ' ') ||
            !s_digits(text + 11, 2, &h) || text[13] != ':' ||
            !s_digits(text + 14, 2, &mi) ||
            (len == 19 && (text[16] != ':' || !s_digits(text + 17, 2, &sec))))
            return CS_ERR_INVALID;
        end_of_day = false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        y < 1970)
        return CS_ERR_INVALID;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t < 0)
        return CS_ERR_INVALID;
    *ms = (uint64_t)t * 1000 + (end_of_day ? 86399999 : 0);
    return 0;
}

static void
s_iso(uint64_t ms, char out[64])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL)
        snprintf(out, 64, "?");
    else
        snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Makes the archive of d's log. */
static int
s_archive(struct cs_srvdir *d, uint8_t **p, size_t *len)
{
    struct cs_writer w;
    int r;

    cs_writer_init(&w, SIZE_MAX / 2);
    r = cs_audit_archive(cs_srvdir_store(d), cs_srvdir_deployment(d),
                         cs_srvdir_pubkey(d), &w);
    if (r == 0)
        r = cs_writer_take(&w, p, len);
    cs_writer_free(&w);
    if (r != 0)
        cs_srvout_error("cannot read the audit log: %s", cs_strerror(r));
    return r;
}

/* ---- verify -------------------------------------------------------------- */

static void
s_say(void *arg, const char *line)
{
    (void)arg;
    printf("problem: %s\n", line);
}

int
cs_auditcmd_verify(const char *dir)
{
    struct cs_verify_report rep;
    struct cs_srvdir *d = NULL;
    uint8_t *archive = NULL;
    size_t len = 0;
    uint64_t store_problems = 0;
    int r;

    if ((r = cs_srvdir_open(dir, &d)) != 0)
        return r;
    if ((r = cs_audit_check_store(cs_srvdir_store(d), s_say, NULL,
                                  &store_problems)) != 0) {
        cs_srvout_error("cannot read the audit log: %s", cs_strerror(r));
        goto out;
    }
    if ((r = s_archive(d, &archive, &len)) != 0)
        goto out;
    r = cs_verify_archive(archive, len, cs_srvdir_deployment(d),
                          cs_srvdir_pubkey(d), cs_srvdir_store(d),
                          cs_srvdir_path(d), s_say, NULL, &rep);
    if (r != 0 && r != CS_ERR_AUDIT) {
        cs_srvout_error("cannot verify the audit log: %s", cs_strerror(r));
        goto out;
    }
    cs_verify_print(stdout, &rep, "the consolidated replica");
    if (rep.problems + store_problems > 0) {
        cs_srvout_error("the audit log does not verify: %" PRIu64
                        " problems (listed above)",
                        rep.problems + store_problems);
        r = CS_ERR_AUDIT;
    } else {
        printf("the audit log verifies: every signature, chain link and tree "
               "head holds, and replaying the log gives the consolidated "
               "replica exactly\n");
        r = 0;
    }
out:
    free(archive);
    cs_srvdir_destroy(&d);
    return r;
}

/* ---- log ----------------------------------------------------------------- */

struct s_log {
    const struct cs_auditcmd_filter *f;
    sqlite3 *mem;                                     /* cur and off */
    sqlite3_stmt *get, *put, *put_office, *is_office; /* on mem, kept */
    struct { /* nodes by id, from ENROLL leaves */
        struct cs_node_id id;
        char name[CS_REGISTRY_NAME_MAX + 1];
    } * nodes;
    size_t nnodes;
    uint64_t shown;
    bool csv, json;
};

/* The statements of s_log, prepared once. */
static const char *const s_log_sql[4] = {
    "SELECT hlc, origin, value FROM cur WHERE tbl = ? AND row = ? AND col = ?",
    "INSERT OR REPLACE INTO cur(tbl, row, col, hlc, origin, value) VALUES "
    "(?, ?, ?, ?, ?, ?)",
    "INSERT OR REPLACE INTO off(tbl, row, office) VALUES (?, ?, ?)",
    "SELECT 1 FROM off WHERE tbl = ? AND row = ? AND office = ?"};

/* Makes a kept statement ready for its next use. */
static void
s_release(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static const char *
s_name(struct s_log *lg, const struct cs_node_id *id, char *buf)
{
    for (size_t i = 0; i < lg->nnodes; i++)
        if (memcmp(lg->nodes[i].id.b, id->b, CS_NODE_ID_BYTES) == 0)
            return lg->nodes[i].name;
    cs_node_id_hex(id, buf);
    return buf;
}

/* A value as people read it: 'text', 12, 1.5, <n bytes>, NULL. */
static void
s_value(const struct cs_value *v, char *out, size_t len)
{
    switch (v->type) {
    case CS_VALUE_INTEGER:
        snprintf(out, len, "%" PRId64, v->i);
        break;
    case CS_VALUE_FLOAT:
        snprintf(out, len, "%.17g", v->d);
        break;
    case CS_VALUE_TEXT:
        snprintf(out, len, "%.*s",
                 v->len > S_SHOWN_MAX ? S_SHOWN_MAX : (int)v->len,
                 (const char *)v->p);
        break;
    case CS_VALUE_BLOB:
        snprintf(out, len, "<%zu bytes>", v->len);
        break;
    default:
        snprintf(out, len, "NULL");
        break;
    }
}

static void
s_bind_value(sqlite3_stmt *st, int i, const struct cs_value *v)
{
    switch (v->type) {
    case CS_VALUE_INTEGER:
        sqlite3_bind_int64(st, i, v->i);
        break;
    case CS_VALUE_FLOAT:
        sqlite3_bind_double(st, i, v->d);
        break;
    case CS_VALUE_TEXT:
        sqlite3_bind_text(st, i, (const char *)v->p, (int)v->len,
                          SQLITE_STATIC);
        break;
    case CS_VALUE_BLOB:
        sqlite3_bind_blob(st, i, v->p, (int)v->len, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, i);
        break;
    }
}

/* The value (table, row, col) has so far: *known, its text, hlc. */
static void
s_current(struct s_log *lg, const struct cs_change *c, bool *known, char *old,
          size_t len, uint64_t *hlc, uint8_t origin[16])
{
    sqlite3_stmt *st = lg->get;

    *known = false;
    snprintf(old, len, "%s", "");
    *hlc = 0;
    sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->col, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *known = true;
        *hlc = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == CS_NODE_ID_BYTES)
            memcpy(origin, sqlite3_column_blob(st, 1), CS_NODE_ID_BYTES);
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            snprintf(old, len, "NULL");
        else if (sqlite3_column_type(st, 2) == SQLITE_BLOB)
            snprintf(old, len, "<%d bytes>", sqlite3_column_bytes(st, 2));
        else
            snprintf(old, len, "%.*s", S_SHOWN_MAX,
                     (const char *)sqlite3_column_text(st, 2));
    }
    s_release(st);
}

static void
s_remember(struct s_log *lg, const struct cs_change *c)
{
    sqlite3_stmt *st = lg->put;

    sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->col, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)c->hlc.t);
    sqlite3_bind_blob(st, 5, c->origin.b, CS_NODE_ID_BYTES, SQLITE_STATIC);
    s_bind_value(st, 6, &c->value);
    (void)sqlite3_step(st);
    s_release(st);
    if (strcmp(c->col, "office_id") != 0 || c->value.type != CS_VALUE_TEXT)
        return;
    st = lg->put_office;
    sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, (const char *)c->value.p, (int)c->value.len,
                      SQLITE_STATIC);
    (void)sqlite3_step(st);
    s_release(st);
}

static bool
s_office_is(struct s_log *lg, const struct cs_change *c, const char *office)
{
    sqlite3_stmt *st = lg->is_office;
    bool yes;

    if (strcmp(c->col, "office_id") == 0 && c->value.type == CS_VALUE_TEXT &&
        c->value.len == strlen(office) &&
        memcmp(c->value.p, office, c->value.len) == 0)
        return true;
    sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, office, -1, SQLITE_STATIC);
    yes = sqlite3_step(st) == SQLITE_ROW;
    s_release(st);
    return yes;
}

static void
s_csv_field(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void
s_json_field(const char *key, const char *s, bool last)
{
    printf("\"%s\":", key);
    cs_srvout_json_str(stdout, s);
    if (!last)
        putchar(',');
}

/* Prints one line of the listing. */
static void
s_print(struct s_log *lg, const char *const v[12])
{
    static const char *const keys[12] = {
        "leaf", "logged_at", "changed_at", "node", "batch",  "table",
        "id",   "field",     "old",        "new",  "status", "reason"};

    if (lg->csv) {
        for (int i = 0; i < 12; i++) {
            if (i > 0)
                putchar(',');
            s_csv_field(v[i]);
        }
        fputs("\r\n", stdout);
    } else if (lg->json) {
        printf("%s{", lg->shown > 0 ? ",\n" : "");
        for (int i = 0; i < 12; i++)
            s_json_field(keys[i], v[i], i == 11);
        putchar('}');
    } else if (v[5][0] == '\0') {
        printf("%s leaf %s  %s  %s\n", v[1], v[0], v[3], v[10]);
    } else {
        printf("%s leaf %s  %s batch %s (written %s)  %s %s%s%s  %s%s%s  "
               "%s%s%s\n",
               v[1], v[0], v[3], v[4], v[2], v[5], v[6], v[7][0] ? " " : "",
               v[7], v[8], v[8][0] ? " -> " : "", v[9], v[10],
               v[11][0] ? ": " : "", v[11]);
    }
    lg->shown++;
}

static bool
s_time_ok(const struct cs_auditcmd_filter *f, uint64_t at)
{
    return (f->since_ms == 0 || at >= f->since_ms) &&
           (f->until_ms == 0 || at <= f->until_ms);
}

/* One change of a batch. */
static void
s_change(struct s_log *lg, uint64_t leaf, uint64_t at, uint64_t seq,
         const char *node, const struct cs_change *c, const char *refused)
{
    const struct cs_auditcmd_filter *f = lg->f;
    char leafs[24], ats[64], hlcs[64], seqs[24], old[S_SHOWN_MAX + 16];
    char nv[S_SHOWN_MAX + 16];
    const char *status = "accepted", *opname = NULL;
    uint8_t origin[CS_NODE_ID_BYTES] = {0};
    uint64_t hlc;
    bool known, match;

    if (c->op == CS_OP_ACK)
        return; /* bookkeeping: "I saw that version" */
    match = (f->table == NULL || strcmp(f->table, c->table) == 0) &&
            (f->id == NULL || strcmp(f->id, c->row_id) == 0) &&
            (f->field == NULL || strcmp(f->field, c->col) == 0) &&
            (f->node == NULL || strcmp(f->node, node) == 0) &&
            s_time_ok(f, at) &&
            (f->office == NULL || s_office_is(lg, c, f->office));
    s_current(lg, c, &known, old, sizeof old, &hlc, origin);
    if (refused == NULL && c->op == CS_OP_SET &&
        (!known || c->hlc.t > hlc ||
         (c->hlc.t == hlc &&
          memcmp(c->origin.b, origin, CS_NODE_ID_BYTES) > 0)))
        s_remember(lg, c);
    else if (refused == NULL && c->op == CS_OP_SET)
        status = "superseded (a later value stands)";
    if (!match)
        return;
    switch (c->op) {
    case CS_OP_INS:
        opname = "(created)";
        break;
    case CS_OP_DEL:
        opname = "(deleted)";
        break;
    case CS_OP_RST:
        opname = "(restored)";
        break;
    default:
        break;
    }
    if (opname != NULL) {
        snprintf(old, sizeof old, "%s", "");
        snprintf(nv, sizeof nv, "%s", opname);
    } else {
        s_value(&c->value, nv, sizeof nv);
        if (!known)
            snprintf(old, sizeof old, "(unset)");
    }
    snprintf(leafs, sizeof leafs, "%" PRIu64, leaf);
    snprintf(seqs, sizeof seqs, "%" PRIu64, seq);
    s_iso(at, ats);
    s_iso(c->hlc.t >> CS_HLC_COUNTER_BITS, hlcs);
    {
        const char *v[12] = {leafs,
                             ats,
                             hlcs,
                             node,
                             seqs,
                             c->table,
                             c->row_id,
                             c->col,
                             old,
                             nv,
                             refused ? "refused" : status,
                             refused ? refused : ""};
        s_print(lg, v);
    }
}

/* An enrolment or revocation, shown unless a record filter is given. */
static void
s_event(struct s_log *lg, uint64_t leaf, const struct cs_leaf *l)
{
    const struct cs_auditcmd_filter *f = lg->f;
    char leafs[24], ats[64], what[160], name[CS_REGISTRY_NAME_MAX + 1];

    snprintf(name, sizeof name, "%.*s", (int)l->name.len,
             (const char *)l->name.p);
    if (f->table || f->id || f->field || !s_time_ok(f, l->at_ms) ||
        (f->node && strcmp(f->node, name) != 0) ||
        (f->office && (l->office.len != strlen(f->office) ||
                       memcmp(l->office.p, f->office, l->office.len) != 0)))
        return;
    snprintf(leafs, sizeof leafs, "%" PRIu64, leaf);
    s_iso(l->at_ms, ats);
    if (l->kind == CS_LEAF_ENROLL)
        snprintf(what, sizeof what, "enrolled (%.*s%s%.*s)", (int)l->role.len,
                 (const char *)l->role.p, l->office.len ? " of " : "",
                 (int)l->office.len, (const char *)l->office.p);
    else
        snprintf(what, sizeof what, "revoked");
    {
        const char *v[12] = {leafs, ats, ats, name, "",   "",
                             "",    "",  "",  "",   what, ""};
        s_print(lg, v);
    }
}

/* A batch leaf: its changes, with the refusals that follow it. */
struct s_batchview {
    uint64_t leaf, at, seq;
    struct cs_node_id origin;
    struct cs_changeset *cs;
    uint8_t *raw;
    char **refused; /* per change: why, or NULL */
    size_t n;
};

static void
s_batch_flush(struct s_log *lg, struct s_batchview *b)
{
    char buf[CS_NODE_ID_HEX_LEN + 1];
    const char *node;

    if (b->cs == NULL)
        return;
    node = s_name(lg, &b->origin, buf);
    for (size_t i = 0; i < b->n; i++)
        s_change(lg, b->leaf, b->at, b->seq, node, cs_changeset_at(b->cs, i),
                 b->refused[i]);
    for (size_t i = 0; i < b->n; i++)
        free(b->refused[i]);
    free(b->refused);
    free(b->raw);
    cs_changeset_destroy(&b->cs);
    memset(b, 0, sizeof *b);
}

static void
s_batch_open(struct s_batchview *b, uint64_t leaf, const struct cs_leaf *l,
             const struct cs_view *bytes)
{
    struct cs_batch bt;
    size_t raw_len;

    memset(b, 0, sizeof *b);
    if (bytes == NULL || cs_batch_parse(bytes->p, bytes->len, &bt) != 0 ||
        cs_batch_payload(&bt, &b->raw, &raw_len) != 0 ||
        cs_changeset_decode(b->raw, raw_len, &b->cs) != 0) {
        free(b->raw);
        b->raw = NULL;
        printf("leaf %" PRIu64 ": its batch cannot be read (run `audit "
               "verify`)\n",
               leaf);
        return;
    }
    b->leaf = leaf;
    b->at = l->at_ms;
    b->seq = l->seq;
    b->origin = l->node;
    b->n = cs_changeset_count(b->cs);
    b->refused = cs_xcalloc(b->n ? b->n : 1, sizeof *b->refused);
}

int
cs_auditcmd_log(const char *dir, const struct cs_auditcmd_filter *f)
{
    struct cs_srvdir *d = NULL;
    struct cs_audit_archive a;
    struct cs_audit_rec rec, next;
    struct s_batchview bv;
    struct s_log lg;
    uint8_t *archive = NULL;
    size_t len = 0;
    uint64_t leaf = 0;
    bool have_next = false;
    int r;

    memset(&lg, 0, sizeof lg);
    memset(&bv, 0, sizeof bv);
    lg.f = f;
    lg.csv = strcmp(f->format, "csv") == 0;
    lg.json = strcmp(f->format, "json") == 0;
    if ((r = cs_srvdir_open(dir, &d)) != 0)
        return r;
    if ((r = s_archive(d, &archive, &len)) != 0)
        goto out;
    if (sqlite3_open(":memory:", &lg.mem) != SQLITE_OK ||
        sqlite3_exec(lg.mem,
                     "CREATE TABLE cur(tbl TEXT, row TEXT, col TEXT, hlc "
                     "INTEGER, origin BLOB, value, PRIMARY KEY (tbl, row, "
                     "col)) WITHOUT ROWID; CREATE TABLE off(tbl TEXT, row "
                     "TEXT, office TEXT, PRIMARY KEY (tbl, row)) WITHOUT "
                     "ROWID",
                     NULL, NULL, NULL) != SQLITE_OK) {
        cs_srvout_error("cannot make a scratch database");
        r = CS_ERR_DB;
        goto out;
    }
    {
        sqlite3_stmt **slots[4] = {&lg.get, &lg.put, &lg.put_office,
                                   &lg.is_office};
        for (int i = 0; i < 4; i++)
            if (sqlite3_prepare_v2(lg.mem, s_log_sql[i], -1, slots[i], NULL) !=
                SQLITE_OK) {
                cs_srvout_error("cannot make a scratch database");
                r = CS_ERR_DB;
                goto out;
            }
    }
    if ((r = cs_audit_archive_open(&a, archive, len)) != 0) {
        cs_srvout_error("cannot read the audit log: %s", cs_strerror(r));
        goto out;
    }
    if (lg.csv)
        fputs("\xEF\xBB\xBF\"leaf\",\"logged_at\",\"changed_at\",\"node\","
              "\"batch\",\"table\",\"id\",\"field\",\"old\",\"new\","
              "\"status\",\"reason\"\r\n",
              stdout);
    if (lg.json)
        putchar('[');
    for (;;) {
        struct cs_leaf l;
        const struct cs_view *batch = NULL;
        if (have_next) {
            rec = next;
            have_next = false;
        } else if (cs_audit_archive_next(&a, &rec) != 0) {
            break;
        }
        if (rec.type != CS_AUDIT_REC_LEAF)
            continue;
        if (cs_audit_archive_next(&a, &next) == 0) {
            if (next.type == CS_AUDIT_REC_BATCH)
                batch = &next.bytes;
            else
                have_next = true;
        }
        if (cs_leaf_decode(rec.bytes.p, rec.bytes.len, &l) != 0) {
            leaf++;
            continue;
        }
        if (l.kind == CS_LEAF_REFUSAL && bv.cs != NULL && l.seq == bv.seq &&
            l.index < bv.n &&
            memcmp(l.node.b, bv.origin.b, CS_NODE_ID_BYTES) == 0) {
            free(bv.refused[l.index]);
            bv.refused[l.index] = cs_xasprintf("%.*s", (int)l.reason.len,
                                               (const char *)l.reason.p);
            leaf++;
            continue;
        }
        s_batch_flush(&lg, &bv);
        switch (l.kind) {
        case CS_LEAF_BATCH:
            s_batch_open(&bv, leaf, &l, batch);
            break;
        case CS_LEAF_ENROLL:
            lg.nodes =
                cs_xrealloc(lg.nodes, (lg.nnodes + 1) * sizeof *lg.nodes);
            cs_node_id_from_pubkey(&l.pubkey, &lg.nodes[lg.nnodes].id);
            snprintf(lg.nodes[lg.nnodes].name, sizeof lg.nodes[lg.nnodes].name,
                     "%.*s", (int)l.name.len, (const char *)l.name.p);
            lg.nnodes++;
            s_event(&lg, leaf, &l);
            break;
        case CS_LEAF_REVOKE:
            s_event(&lg, leaf, &l);
            break;
        default:
            break; /* corrections re-assert values: not an edit */
        }
        leaf++;
    }
    s_batch_flush(&lg, &bv);
    if (lg.json)
        fputs("]\n", stdout);
    if (!lg.csv && !lg.json)
        fprintf(stderr,
                "%" PRIu64 " lines shown; the log holds %" PRIu64 " entries\n",
                lg.shown, leaf);
    r = 0;
out:
    sqlite3_finalize(lg.get);
    sqlite3_finalize(lg.put);
    sqlite3_finalize(lg.put_office);
    sqlite3_finalize(lg.is_office);
    sqlite3_close(lg.mem);
    free(lg.nodes);
    free(archive);
    cs_srvdir_destroy(&d);
    return r;
}
