/*  server/audit.c - the server's audit log; see audit.h.  */
#include "prelude.h"

#include "audit.h"
#include "merkle.h"
#include "srvdb.h"

static const char s_sql[] =
    "CREATE TABLE IF NOT EXISTS zz_srv_audit(\n"
    "  leaf INTEGER PRIMARY KEY, -- its number, from 0\n"
    "  kind INTEGER NOT NULL, at INTEGER NOT NULL, -- auditlog.h, ms\n"
    "  origin TEXT, seq INTEGER, -- the batch it names, if any\n"
    "  data BLOB NOT NULL -- the leaf's bytes\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS zz_srv_audit_batch ON zz_srv_audit(origin, "
    "seq) WHERE origin IS NOT NULL;\n"
    "CREATE TABLE IF NOT EXISTS zz_srv_tree(\n"
    "  level INTEGER NOT NULL, idx INTEGER NOT NULL, -- a perfect subtree\n"
    "  hash BLOB NOT NULL,\n"
    "  PRIMARY KEY (level, idx)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS zz_srv_head(\n"
    "  size INTEGER PRIMARY KEY, time INTEGER NOT NULL, -- leaves, ms\n"
    "  root BLOB NOT NULL, sig BLOB NOT NULL\n"
    ");\n"
    "CREATE TRIGGER IF NOT EXISTS zz_srv_audit_no_update BEFORE UPDATE ON "
    "zz_srv_audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS zz_srv_audit_no_delete BEFORE DELETE ON "
    "zz_srv_audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS zz_srv_tree_no_update BEFORE UPDATE ON "
    "zz_srv_tree BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS zz_srv_tree_no_delete BEFORE DELETE ON "
    "zz_srv_tree BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS zz_srv_head_no_update BEFORE UPDATE ON "
    "zz_srv_head BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
    "END;\n"
    "CREATE TRIGGER IF NOT EXISTS zz_srv_head_no_delete BEFORE DELETE ON "
    "zz_srv_head BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
    "END;\n";

int
cs_audit_install(struct cs_store *s)
{
    char *err = NULL;
    int rc = sqlite3_exec(cs_store_db(s), s_sql, NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        cs_log_err(CS_ERR_DB, "creating the audit log's tables: %s",
                   err ? err : "?");
        sqlite3_free(err);
        return CS_ERR_DB;
    }
    return 0;
}

/* Reads a count or a maximum: the one integer of a query (0 for NULL). */
static int
s_u64(struct cs_store *s, const char *sql, uint64_t *out)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *out = 0;
    if ((r = cs_srvdb_prep(s, sql, &st)) != 0)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? 0
               : cs_srvdb_err(s, rc, "reading");
}

int
cs_audit_size(struct cs_store *s, uint64_t *n)
{
    /* The last rowid, not count(*): one b-tree descent, not a scan. */
    return s_u64(s, "SELECT coalesce(max(leaf) + 1, 0) FROM zz_srv_audit", n);
}

/* The stored hash of subtree (level, idx): cs_merkle_node_fn. */
static int
s_node(void *arg, unsigned level, uint64_t idx, struct cs_merkle_hash *out)
{
    struct cs_store *s = arg;
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = cs_srvdb_prep(s,
                           "SELECT hash FROM zz_srv_tree WHERE level = ? AND "
                           "idx = ?",
                           &st)) != 0)
        return r;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (int64_t)idx);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW &&
        sqlite3_column_bytes(st, 0) == CS_MERKLE_HASH_BYTES) {
        memcpy(out->b, sqlite3_column_blob(st, 0), CS_MERKLE_HASH_BYTES);
        r = 0;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        cs_log_err(CS_ERR_NOT_FOUND, "the audit tree lacks subtree %u/%" PRIu64,
                   level, idx);
        r = CS_ERR_NOT_FOUND;
    } else {
        r = cs_srvdb_err(s, rc, "reading zz_srv_tree");
    }
    sqlite3_finalize(st);
    return r;
}

static int
s_node_put(struct cs_store *s, unsigned level, uint64_t idx,
           const struct cs_merkle_hash *h)
{
    sqlite3_stmt *st = NULL;
    int r;

    if ((r = cs_srvdb_prep(s,
                           "INSERT INTO zz_srv_tree(level, idx, hash) VALUES "
                           "(?, ?, ?)",
                           &st)) != 0)
        return r;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (int64_t)idx);
    sqlite3_bind_blob(st, 3, h->b, CS_MERKLE_HASH_BYTES, SQLITE_STATIC);
    return cs_srvdb_done(s, st, "writing zz_srv_tree");
}

int
cs_audit_append(struct cs_store *s, const struct cs_leaf *l, uint64_t *index)
{
    struct cs_writer w;
    struct cs_merkle_hash h, left;
    char hex[CS_NODE_ID_HEX_LEN + 1];
    sqlite3_stmt *st = NULL;
    uint64_t n, idx;
    unsigned level = 0;
    int r;

    cs_writer_init(&w, CS_AUDIT_LEAF_MAX + 64);
    if ((r = cs_leaf_encode(&w, l)) != 0 || (r = cs_writer_status(&w)) != 0)
        goto out;
    if ((r = cs_audit_size(s, &n)) != 0 ||
        (r = cs_srvdb_prep(
             s,
             "INSERT INTO zz_srv_audit(leaf, kind, at, origin, seq, "
             "data) VALUES (?, ?, ?, ?, ?, ?)",
             &st)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, (int64_t)n);
    sqlite3_bind_int(st, 2, (int)l->kind);
    sqlite3_bind_int64(st, 3, (int64_t)l->at_ms);
    if (l->kind == CS_LEAF_BATCH) {
        cs_node_id_hex(&l->node, hex);
        sqlite3_bind_text(st, 4, hex, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, (int64_t)l->seq);
    }
    sqlite3_bind_blob(st, 6, cs_writer_data(&w), (int)cs_writer_len(&w),
                      SQLITE_STATIC);
    if ((r = cs_srvdb_done(s, st, "writing zz_srv_audit")) != 0)
        goto out;
    /* The leaf, then every perfect subtree it completes. */
    cs_merkle_leaf(cs_writer_data(&w), cs_writer_len(&w), &h);
    idx = n;
    if ((r = s_node_put(s, 0, idx, &h)) != 0)
        goto out;
    while ((idx & 1) != 0) {
        if ((r = s_node(s, level, idx - 1, &left)) != 0)
            goto out;
        cs_merkle_node(&left, &h, &h);
        level++;
        idx >>= 1;
        if ((r = s_node_put(s, level, idx, &h)) != 0)
            goto out;
    }
    if (index != NULL)
        *index = n;
out:
    cs_writer_free(&w);
    return r;
}

static int
s_head_read(sqlite3_stmt *st, struct cs_sth *h)
{
    memset(h, 0, sizeof *h);
    if (sqlite3_column_bytes(st, 2) != CS_AUDIT_ROOT_BYTES ||
        sqlite3_column_bytes(st, 3) != CS_SIG_BYTES)
        return CS_ERR_FORMAT;
    h->size = (uint64_t)sqlite3_column_int64(st, 0);
    h->time_ms = (uint64_t)sqlite3_column_int64(st, 1);
    memcpy(h->root, sqlite3_column_blob(st, 2), CS_AUDIT_ROOT_BYTES);
    memcpy(h->sig, sqlite3_column_blob(st, 3), CS_SIG_BYTES);
    return 0;
}

int
cs_audit_head(struct cs_store *s, struct cs_sth *out)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    memset(out, 0, sizeof *out);
    if ((r = cs_srvdb_prep(
             s,
             "SELECT size, time, root, sig FROM zz_srv_head ORDER "
             "BY size DESC LIMIT 1",
             &st)) != 0)
        return r;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = s_head_read(st, out);
    else if (rc != SQLITE_DONE)
        r = cs_srvdb_err(s, rc, "reading zz_srv_head");
    sqlite3_finalize(st);
    if (r == CS_ERR_FORMAT)
        cs_log_err(r, "a malformed tree head in zz_srv_head");
    return r;
}

int
cs_audit_sign(struct cs_store *s, const struct cs_key *k,
              const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint64_t now_ms,
              struct cs_sth *out)
{
    struct cs_sth h, last;
    struct cs_merkle_hash root;
    sqlite3_stmt *st = NULL;
    uint64_t n;
    int r;

    if ((r = cs_audit_head(s, &last)) != 0 || (r = cs_audit_size(s, &n)) != 0)
        return r;
    if (n == last.size) {
        if (out != NULL)
            *out = last;
        return 0;
    }
    memset(&h, 0, sizeof h);
    if ((r = cs_merkle_nodes_root(s_node, s, n, &root)) != 0)
        return r;
    h.size = n;
    h.time_ms = now_ms > last.time_ms ? now_ms : last.time_ms;
    memcpy(h.root, root.b, sizeof h.root);
    if ((r = cs_sth_sign(k, deployment, &h)) != 0 ||
        (r = cs_srvdb_prep(s,
                           "INSERT INTO zz_srv_head(size, time, root, sig) "
                           "VALUES (?, ?, ?, ?)",
                           &st)) != 0)
        return r;
    sqlite3_bind_int64(st, 1, (int64_t)h.size);
    sqlite3_bind_int64(st, 2, (int64_t)h.time_ms);
    sqlite3_bind_blob(st, 3, h.root, sizeof h.root, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, h.sig, sizeof h.sig, SQLITE_STATIC);
    if ((r = cs_srvdb_done(s, st, "writing zz_srv_head")) != 0)
        return r;
    if (out != NULL)
        *out = h;
    return 0;
}

static void
s_proof_copy(const struct cs_merkle_hash *v, size_t n, struct cs_msg_proof *p)
{
    p->n = n;
    for (size_t i = 0; i < n; i++)
        memcpy(p->h[i], v[i].b, CS_MERKLE_HASH_BYTES);
}

int
cs_audit_consistency(struct cs_store *s, uint64_t from, uint64_t to,
                     struct cs_msg_proof *p)
{
    struct cs_merkle_hash v[CS_MERKLE_PROOF_MAX];
    size_t n;
    int r;

    memset(p, 0, sizeof *p);
    if ((r = cs_merkle_nodes_consistency(s_node, s, to, from, v, &n)) != 0)
        return r;
    s_proof_copy(v, n, p);
    return 0;
}

int
cs_audit_inclusion(struct cs_store *s, uint64_t index, uint64_t size,
                   struct cs_msg_proof *p)
{
    struct cs_merkle_hash v[CS_MERKLE_PROOF_MAX];
    size_t n;
    int r;

    memset(p, 0, sizeof *p);
    if ((r = cs_merkle_nodes_inclusion(s_node, s, size, index, v, &n)) != 0)
        return r;
    s_proof_copy(v, n, p);
    return 0;
}

int
cs_audit_batch_leaf(struct cs_store *s, const struct cs_node_id *origin,
                    uint64_t seq, uint64_t *index, uint8_t **leaf, size_t *len)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    sqlite3_stmt *st = NULL;
    int r, rc;

    *leaf = NULL;
    *len = 0;
    cs_node_id_hex(origin, hex);
    if ((r = cs_srvdb_prep(
             s,
             "SELECT leaf, data FROM zz_srv_audit WHERE origin = ? "
             "AND seq = ? AND kind = 1",
             &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        *index = (uint64_t)sqlite3_column_int64(st, 0);
        *leaf = cs_xmalloc(n ? n : 1);
        if (n > 0)
            memcpy(*leaf, sqlite3_column_blob(st, 1), n);
        *len = n;
        r = 0;
    } else {
        r = rc == SQLITE_DONE ? CS_ERR_NOT_FOUND
                              : cs_srvdb_err(s, rc, "reading zz_srv_audit");
    }
    sqlite3_finalize(st);
    return r;
}

/* Appends the signed batch (origin hex, seq) to the archive; a missing
   one is left out (the verifier names it). */
static int
s_archive_batch(struct cs_store *s, sqlite3_stmt *bt, const char *hex,
                uint64_t seq, struct cs_writer *out)
{
    int r = 0, rc;

    sqlite3_reset(bt);
    sqlite3_bind_text(bt, 1, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(bt, 2, (int64_t)seq);
    rc = sqlite3_step(bt);
    if (rc == SQLITE_ROW)
        r = cs_audit_archive_bytes(out, CS_AUDIT_REC_BATCH,
                                   sqlite3_column_blob(bt, 0),
                                   (size_t)sqlite3_column_bytes(bt, 0));
    else if (rc != SQLITE_DONE)
        r = cs_srvdb_err(s, rc, "reading zz_srv_batch");
    return r;
}

int
cs_audit_archive(struct cs_store *s,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                 const struct cs_pubkey *server, struct cs_writer *out)
{
    sqlite3_stmt *lt = NULL, *bt = NULL, *ht = NULL;
    sqlite3 *db = cs_store_db(s);
    int r, rc;

    if (sqlite3_exec(db, "SAVEPOINT zz_audit_archive", NULL, NULL, NULL) !=
        SQLITE_OK)
        return cs_srvdb_err(s, sqlite3_errcode(db), "starting a read");
    if ((r = cs_audit_archive_begin(out, deployment, server)) != 0 ||
        (r = cs_srvdb_prep(
             s,
             "SELECT origin, seq, data FROM zz_srv_audit ORDER BY "
             "leaf",
             &lt)) != 0 ||
        (r = cs_srvdb_prep(
             s,
             "SELECT bytes FROM zz_srv_batch WHERE origin = ? AND "
             "seq = ?",
             &bt)) != 0 ||
        (r = cs_srvdb_prep(
             s,
             "SELECT size, time, root, sig FROM zz_srv_head ORDER "
             "BY size",
             &ht)) != 0)
        goto out;
    while ((rc = sqlite3_step(lt)) == SQLITE_ROW) {
        if ((r = cs_audit_archive_bytes(
                 out, CS_AUDIT_REC_LEAF, sqlite3_column_blob(lt, 2),
                 (size_t)sqlite3_column_bytes(lt, 2))) != 0)
            goto out;
        if (sqlite3_column_type(lt, 0) == SQLITE_TEXT &&
            (r = s_archive_batch(
                 s, bt, (const char *)sqlite3_column_text(lt, 0),
                 (uint64_t)sqlite3_column_int64(lt, 1), out)) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        r = cs_srvdb_err(s, rc, "reading zz_srv_audit");
        goto out;
    }
    while ((rc = sqlite3_step(ht)) == SQLITE_ROW) {
        struct cs_sth h;
        if (s_head_read(ht, &h) != 0)
            continue; /* malformed: the verifier misses it */
        if ((r = cs_audit_archive_head(out, &h)) != 0)
            goto out;
    }
    r = rc == SQLITE_DONE ? cs_writer_status(out)
                          : cs_srvdb_err(s, rc, "reading zz_srv_head");
out:
    sqlite3_finalize(lt);
    sqlite3_finalize(bt);
    sqlite3_finalize(ht);
    if (sqlite3_exec(db, "RELEASE zz_audit_archive", NULL, NULL, NULL) !=
            SQLITE_OK &&
        r == 0)
        r = cs_srvdb_err(s, sqlite3_errcode(db), "ending a read");
    return r;
}

/* Says one problem. */
static void s_say(cs_audit_say_fn say, void *arg, uint64_t *problems,
                  const char *fmt, ...) CS_PRINTF(4, 5);

static void
s_say(cs_audit_say_fn say, void *arg, uint64_t *problems, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    (*problems)++;
    say(arg, line);
}

int
cs_audit_check_store(struct cs_store *s, cs_audit_say_fn say, void *arg,
                     uint64_t *problems)
{
    struct cs_merkle_hash *level = NULL, h;
    sqlite3_stmt *st = NULL, *nt = NULL;
    uint64_t n = 0, expect = 0, count;
    unsigned lv = 0;
    int r, rc;

    *problems = 0;
    if ((r = s_u64(s, "SELECT count(*) FROM zz_srv_audit", &count)) != 0 ||
        (r = cs_srvdb_prep(
             s, "SELECT leaf, data FROM zz_srv_audit ORDER BY leaf", &st)) != 0)
        goto out;
    level = cs_xcalloc(count ? count : 1, sizeof *level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t leaf = (uint64_t)sqlite3_column_int64(st, 0);
        if (leaf != expect) {
            s_say(say, arg, problems,
                  "audit log: leaves %" PRIu64 " to %" PRIu64
                  " are missing from zz_srv_audit",
                  expect, leaf - 1);
            expect = leaf;
        }
        if (n < count)
            cs_merkle_leaf(sqlite3_column_blob(st, 1),
                           (size_t)sqlite3_column_bytes(st, 1), &level[n++]);
        expect++;
    }
    if (rc != SQLITE_DONE) {
        r = cs_srvdb_err(s, rc, "reading zz_srv_audit");
        goto out;
    }
    /* Every stored subtree against the one recomputed, level by level. */
    if ((r = cs_srvdb_prep(s,
                           "SELECT hash FROM zz_srv_tree WHERE level = ? AND "
                           "idx = ?",
                           &nt)) != 0)
        goto out;
    for (uint64_t w = n; w > 0; w >>= 1, lv++) {
        for (uint64_t i = 0; i < w; i++) {
            sqlite3_reset(nt);
            sqlite3_bind_int(nt, 1, (int)lv);
            sqlite3_bind_int64(nt, 2, (int64_t)i);
            rc = sqlite3_step(nt);
            if (rc != SQLITE_ROW ||
                sqlite3_column_bytes(nt, 0) != CS_MERKLE_HASH_BYTES ||
                memcmp(sqlite3_column_blob(nt, 0), level[i].b,
                       CS_MERKLE_HASH_BYTES) != 0) {
                const char *what = rc == SQLITE_ROW ? "wrong" : "missing";
                if (lv == 0)
                    s_say(say, arg, problems,
                          "audit tree: the stored hash of leaf %" PRIu64
                          " (zz_srv_tree 0/%" PRIu64 ") is %s",
                          i, i, what);
                else
                    s_say(say, arg, problems,
                          "audit tree: the stored hash of subtree %u/%" PRIu64
                          " (zz_srv_tree) is %s",
                          lv, i, what);
            }
        }
        for (uint64_t i = 0; i + 1 < w; i += 2) {
            cs_merkle_node(&level[i], &level[i + 1], &h);
            level[i / 2] = h;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Every received batch is named by a leaf. */
    if ((r = cs_srvdb_prep(
             s,
             "SELECT origin, seq FROM zz_srv_batch b WHERE NOT "
             "EXISTS (SELECT 1 FROM zz_srv_audit a WHERE a.origin "
             "= b.origin AND a.seq = b.seq AND a.kind = 1)",
             &st)) != 0)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        s_say(say, arg, problems,
              "zz_srv_batch: batch %" PRId64 " of node %s is in no leaf",
              (int64_t)sqlite3_column_int64(st, 1), sqlite3_column_text(st, 0));
    r = rc == SQLITE_DONE ? 0 : cs_srvdb_err(s, rc, "reading zz_srv_batch");
out:
    sqlite3_finalize(st);
    sqlite3_finalize(nt);
    free(level);
    return r;
}
