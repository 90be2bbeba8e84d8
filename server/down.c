/*  server/down.c - downstream feeds, received batches, refusals and
 *  corrections; see down.h.
 *
 *  Every function runs its SQL on the store's handle (cs_store_db()); the
 *  writes of cs_down_get() are one transaction of their own, those of
 *  cs_down_keep_batch() and cs_down_refuse() join the caller's
 *  (cs_store_begin()).
 */
#include "prelude.h"

#include "changes.h"
#include "down.h"
#include "feedio.h"
#include "id.h"
#include "log.h"
#include "mem.h"
#include "srvdb.h"

#define S_FIX_DOMAIN "cigsync correction"

static const char s_sql[] =
    "CREATE TABLE IF NOT EXISTS zz_srv_downpos(\n"
    "  node TEXT PRIMARY KEY NOT NULL, -- node id, hex\n"
    "  lid INTEGER NOT NULL, -- last zz_log.lid looked at for it\n"
    "  seq INTEGER NOT NULL, -- last batch signed for it\n"
    "  hash BLOB NOT NULL -- and its hash\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS zz_srv_down(\n"
    "  node TEXT NOT NULL, seq INTEGER NOT NULL, -- unacknowledged batch\n"
    "  bytes BLOB NOT NULL, -- signed by the server\n"
    "  PRIMARY KEY (node, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS zz_srv_batch(\n"
    "  origin TEXT NOT NULL, seq INTEGER NOT NULL, -- a received batch\n"
    "  hash BLOB NOT NULL, bytes BLOB NOT NULL, -- as its origin signed it\n"
    "  received INTEGER NOT NULL, -- ms\n"
    "  PRIMARY KEY (origin, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS zz_srv_refused(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  node TEXT NOT NULL, seq INTEGER NOT NULL, -- whose batch\n"
    "  tbl TEXT NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,\n"
    "  op INTEGER NOT NULL, value, hlc INTEGER NOT NULL, -- the change\n"
    "  code INTEGER NOT NULL, reason TEXT NOT NULL, -- why\n"
    "  at INTEGER NOT NULL -- ms\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS zz_srv_outbox(\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, -- correction origin's seq\n"
    "  node TEXT NOT NULL, tbl TEXT NOT NULL, row_id TEXT NOT NULL,\n"
    "  hlc INTEGER NOT NULL -- a delete at this node only\n"
    ");\n";

int
cs_down_install(struct cs_store *s)
{
    char *err = NULL;
    int rc = sqlite3_exec(cs_store_db(s), s_sql, NULL, NULL, &err);

    if (rc != SQLITE_OK) {
        cs_log_err(CS_ERR_DB, "creating the server's tables: %s",
                   err ? err : "?");
        sqlite3_free(err);
        return CS_ERR_DB;
    }
    return 0;
}

void
cs_down_fix_origin(const struct cs_node_id *node, struct cs_node_id *out)
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, NULL, 0, CS_NODE_ID_BYTES);
    crypto_generichash_update(&h, (const uint8_t *)S_FIX_DOMAIN,
                              sizeof S_FIX_DOMAIN);
    crypto_generichash_update(&h, node->b, CS_NODE_ID_BYTES);
    crypto_generichash_final(&h, out->b, CS_NODE_ID_BYTES);
}

/* The node's position: last lid looked at, last seq and hash. */
static int
s_pos(struct cs_store *s, const char *hex, uint64_t *lid, uint64_t *seq,
      uint8_t hash[CS_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *lid = *seq = 0;
    memset(hash, 0, CS_HASH_BYTES);
    if ((r = cs_srvdb_prep(
             s, "SELECT lid, seq, hash FROM zz_srv_downpos WHERE node = ?",
             &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 2) == CS_HASH_BYTES) {
        *lid = (uint64_t)sqlite3_column_int64(st, 0);
        *seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(hash, sqlite3_column_blob(st, 2), CS_HASH_BYTES);
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        r = cs_srvdb_err(s, rc, "reading zz_srv_downpos");
    }
    sqlite3_finalize(st);
    return r;
}

int
cs_down_head(struct cs_store *s, const struct cs_node_id *node, uint64_t *seq,
             uint8_t hash[CS_HASH_BYTES])
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    uint64_t lid;

    cs_node_id_hex(node, hex);
    return s_pos(s, hex, &lid, seq, hash);
}

/* What packing collects. */
struct s_pack {
    struct cs_store *s;
    const char *hex; /* the node id, for zz_srv_outbox */
    const struct cs_scope *sc;
    struct cs_node_id node;
    struct cs_changes got;
    size_t max_changes;
    size_t scanned;
    /* one-row cache of the last row's office */
    char table[CS_NAME_MAX + 1];
    char row[CS_ID_MAX + 1];
    bool readable;
    sqlite3_stmt *was_ours; /* s_left_office()'s query, once prepared */
};

#define S_PACK_FULL 1 /* callback: stop, the batch is full */

static int s_outbox_add(struct cs_store *s, const char *hex,
                        const struct cs_change *ch, uint64_t now_ms);

/* A change the site may not read: if it moves the row out of the site's
   office, and the row was ever the site's, the site holds a copy that it
   must not keep (it would also never hear of the row again): queue a
   delete of the row at the site only. */
static int
s_left_office(struct s_pack *p, const struct cs_change *ch)
{
    sqlite3_stmt *st;
    const struct cs_table *t;
    bool was_ours;
    int rc;

    if (ch->op != CS_OP_SET || strcmp(ch->col, "office_id") != 0 ||
        (t = cs_store_table(p->s, ch->table)) == NULL)
        return 0;
    /* Every new row of every other office passes here: the query is
       prepared once per pack, not once per row (it was, with 100 offices,
       most of the server's time). */
    if (p->was_ours == NULL &&
        sqlite3_prepare_v2(cs_store_db(p->s),
                           "SELECT 1 FROM zz_log INDEXED BY zz_log_row WHERE "
                           "tid = ? AND row_id = ? AND col = 'office_id' AND "
                           "op = 1 AND value = ? LIMIT 1",
                           -1, &p->was_ours, NULL) != SQLITE_OK)
        return CS_ERR_DB;
    st = p->was_ours;
    sqlite3_bind_int(st, 1, t->tid);
    sqlite3_bind_text(st, 2, ch->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->sc->office, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    was_ours = rc == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return CS_ERR_DB;
    if (!was_ours)
        return 0;
    cs_log_info("a %s record left office %s: deleting its copy there",
                ch->table, p->sc->office);
    return s_outbox_add(p->s, p->hex, ch, 0);
}

static int
s_pack_one(void *arg, const struct cs_change *ch)
{
    struct s_pack *p = arg;

    p->scanned++;
    if (memcmp(ch->origin.b, p->node.b, CS_NODE_ID_BYTES) != 0) {
        if (p->sc->role != CS_ROLE_SITE) {
            p->readable = true;
        } else if (strcmp(p->table, ch->table) != 0 ||
                   strcmp(p->row, ch->row_id) != 0) {
            char office[CS_SCOPE_OFFICE_MAX + 2];
            bool known = false;
            int r = cs_store_row_office(p->s, ch->table, ch->row_id, office,
                                        sizeof office, &known);
            if (r != 0 && r != CS_ERR_NO_TABLE)
                return r;
            p->readable = r == 0 && known && cs_scope_readable(p->sc, office);
            snprintf(p->table, sizeof p->table, "%s", ch->table);
            snprintf(p->row, sizeof p->row, "%s", ch->row_id);
        }
        if (p->readable) {
            cs_changes_push(&p->got, ch);
        } else if (p->sc->role == CS_ROLE_SITE) {
            int r = s_left_office(p, ch);
            if (r != 0)
                return r;
        }
    }
    if (cs_changes_count(&p->got) >= p->max_changes ||
        cs_changes_bytes(&p->got) >= CS_DOWN_BATCH_BYTES ||
        p->scanned >= CS_DOWN_SCAN_MAX)
        return S_PACK_FULL;
    return 0;
}

/* Adds node's pending corrections to p; *last_id gets the last taken. */
static int
s_pack_outbox(struct s_pack *p, const char *hex, int64_t *last_id)
{
    struct cs_node_id fix;
    sqlite3_stmt *st = NULL;
    int r, rc;

    *last_id = 0;
    cs_down_fix_origin(&p->node, &fix);
    if ((r = cs_srvdb_prep(
             p->s,
             "SELECT id, tbl, row_id, hlc FROM zz_srv_outbox WHERE "
             "node = ? ORDER BY id LIMIT ?",
             &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)p->max_changes);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_change ch;
        memset(&ch, 0, sizeof ch);
        ch.table = (const char *)sqlite3_column_text(st, 1);
        ch.row_id = (const char *)sqlite3_column_text(st, 2);
        ch.col = "";
        ch.op = CS_OP_DEL;
        ch.value.type = CS_VALUE_NULL;
        ch.hlc.t = (uint64_t)sqlite3_column_int64(st, 3);
        ch.origin = fix;
        ch.origin_seq = (uint64_t)sqlite3_column_int64(st, 0);
        *last_id = sqlite3_column_int64(st, 0);
        if (ch.table != NULL && ch.row_id != NULL)
            cs_changes_push(&p->got, &ch);
    }
    if (rc != SQLITE_DONE)
        r = cs_srvdb_err(p->s, rc, "reading zz_srv_outbox");
    sqlite3_finalize(st);
    return r;
}

/* Copies a blob out of a row. */
static uint8_t *
s_blob_copy(sqlite3_stmt *st, int i, size_t *len)
{
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    uint8_t *p = cs_xmalloc(n ? n : 1);

    if (n > 0)
        memcpy(p, sqlite3_column_blob(st, i), n);
    *len = n;
    return p;
}

static int
s_stored(struct cs_store *s, const char *hex, uint64_t seq, uint8_t **bytes,
         size_t *len)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = cs_srvdb_prep(s,
                           "SELECT bytes FROM zz_srv_down WHERE node = ? AND "
                           "seq = ?",
                           &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *bytes = s_blob_copy(st, 0, len);
    else if (rc == SQLITE_DONE)
        r = CS_ERR_NOT_FOUND;
    else
        r = cs_srvdb_err(s, rc, "reading zz_srv_down");
    sqlite3_finalize(st);
    return r;
}

/* Writes a packed batch (or only the new position when bytes is NULL). */
static int
s_record(struct cs_store *s, const char *hex, uint64_t lid, uint64_t seq,
         const uint8_t hash[CS_HASH_BYTES], const uint8_t *bytes, size_t len,
         int64_t outbox_last)
{
    sqlite3_stmt *st = NULL;
    bool lazy = bytes == NULL && outbox_last <= 0 &&
                sqlite3_get_autocommit(cs_store_db(s));
    int r, rc;

    /* Only a new scan position (nothing packed for the node) is written
       without waiting for the disk: losing it to a power cut costs a
       rescan, nothing else, and every upload moves every other node's
       position (with 100 offices, 100 fsyncs per upload were most of the
       server's time).  A packed batch must be on disk before it is sent:
       made again after a crash, it would differ from the one the node
       holds. */
    if (lazy &&
        (rc = sqlite3_exec(cs_store_db(s), "PRAGMA synchronous = NORMAL", NULL,
                           NULL, NULL)) != SQLITE_OK)
        return cs_srvdb_err(s, rc, "setting synchronous");
    if ((r = cs_store_begin(s)) != 0)
        goto out_sync;
    if ((r = cs_srvdb_prep(
             s,
             "INSERT INTO zz_srv_downpos(node, lid, seq, hash) "
             "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (node) DO UPDATE "
             "SET lid = ?2, seq = ?3, hash = ?4",
             &st)) != 0)
        goto out;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)lid);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    sqlite3_bind_blob(st, 4, hash, CS_HASH_BYTES, SQLITE_STATIC);
    if ((r = cs_srvdb_done(s, st, "writing zz_srv_downpos")) != 0)
        goto out;
    if (bytes != NULL) {
        if ((r = cs_srvdb_prep(
                 s,
                 "INSERT INTO zz_srv_down(node, seq, bytes) VALUES "
                 "(?, ?, ?)",
                 &st)) != 0)
            goto out;
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)seq);
        sqlite3_bind_blob(st, 3, bytes, (int)len, SQLITE_STATIC);
        if ((r = cs_srvdb_done(s, st, "writing zz_srv_down")) != 0)
            goto out;
    }
    if (outbox_last > 0) {
        if ((r = cs_srvdb_prep(
                 s, "DELETE FROM zz_srv_outbox WHERE node = ? AND id <= ?",
                 &st)) != 0)
            goto out;
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, outbox_last);
        if ((r = cs_srvdb_done(s, st, "clearing zz_srv_outbox")) != 0)
            goto out;
    }
    r = cs_store_commit(s);
    goto out_sync;
out:
    cs_store_rollback(s);
out_sync:
    if (lazy &&
        (rc = sqlite3_exec(cs_store_db(s), "PRAGMA synchronous = FULL", NULL,
                           NULL, NULL)) != SQLITE_OK &&
        r == 0)
        r = cs_srvdb_err(s, rc, "setting synchronous");
    return r;
}

int
cs_down_get(struct cs_store *s, const struct cs_key *k,
            const uint8_t deployment[CS_DEPLOYMENT_BYTES],
            const struct cs_node_id *node, const struct cs_scope *sc,
            uint64_t seq, uint8_t **bytes, size_t *len)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    uint8_t hash[CS_HASH_BYTES], next_hash[CS_HASH_BYTES];
    uint64_t lid, head;
    struct s_pack p;
    int r;

    *bytes = NULL;
    *len = 0;
    cs_node_id_hex(node, hex);
    if ((r = s_pos(s, hex, &lid, &head, hash)) != 0)
        return r;
    if (seq <= head)
        return s_stored(s, hex, seq, bytes, len);
    if (seq != head + 1)
        return CS_ERR_NOT_FOUND;
    memset(&p, 0, sizeof p);
    p.s = s;
    p.sc = sc;
    p.node = *node;
    p.hex = hex;
    p.max_changes = CS_DOWN_BATCH_CHANGES;
    cs_changes_init(&p.got);
    for (;;) {
        struct cs_writer w;
        int64_t outbox_last = 0;
        uint64_t last = lid;
        bool more;

        p.scanned = 0;
        p.table[0] = p.row[0] = '\0';
        cs_changes_clear(&p.got);
        r = cs_store_changes(s, lid, false, s_pack_one, &p, &last);
        if (r != 0 && r != S_PACK_FULL)
            break;
        more = r == S_PACK_FULL;
        /* After the scan: it may have queued deletes (rows that left the
           node's office). */
        if ((r = s_pack_outbox(&p, hex, &outbox_last)) != 0)
            break;
        if (cs_changes_count(&p.got) == 0) {
            r = last != lid ? s_record(s, hex, last, head, hash, NULL, 0, 0)
                            : 0;
            if (r != 0 || !more)
                break;
            lid = last;
            continue;
        }
        cs_writer_init(&w, CS_BATCH_MAX);
        r = cs_feedio_seal(k, deployment, seq, hash, cs_changes_items(&p.got),
                           cs_changes_count(&p.got), &w, next_hash, NULL);
        if (r == CS_ERR_TOO_BIG && p.max_changes > 1) {
            cs_writer_free(&w);
            p.max_changes = (p.max_changes + 1) / 2;
            continue;
        }
        if (r == 0)
            r = s_record(s, hex, last, seq, next_hash, cs_writer_data(&w),
                         cs_writer_len(&w), outbox_last);
        if (r == 0) {
            *len = cs_writer_len(&w);
            *bytes = cs_xmalloc(*len);
            memcpy(*bytes, cs_writer_data(&w), *len);
        }
        cs_writer_free(&w);
        break;
    }
    sqlite3_finalize(p.was_ours);
    cs_changes_clear(&p.got);
    return r;
}

int
cs_down_acked(struct cs_store *s, const struct cs_node_id *node, uint64_t seq)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    sqlite3_stmt *st = NULL;
    int r;

    cs_node_id_hex(node, hex);
    if ((r = cs_srvdb_prep(
             s, "DELETE FROM zz_srv_down WHERE node = ? AND seq <= ?", &st)) !=
        0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    return cs_srvdb_done(s, st, "clearing zz_srv_down");
}

int
cs_down_rescan(struct cs_store *s, const struct cs_node_id *node)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    sqlite3_stmt *st = NULL;
    int r;

    cs_node_id_hex(node, hex);
    if ((r = cs_srvdb_prep(
             s, "UPDATE zz_srv_downpos SET lid = 0 WHERE node = ?", &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
    return cs_srvdb_done(s, st, "rewinding zz_srv_downpos");
}

int
cs_down_keep_batch(struct cs_store *s, const struct cs_node_id *origin,
                   uint64_t seq, const uint8_t hash[CS_HASH_BYTES],
                   const uint8_t *bytes, size_t len, uint64_t now_ms)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    sqlite3_stmt *st = NULL;
    int r;

    cs_node_id_hex(origin, hex);
    if ((r = cs_srvdb_prep(
             s,
             "INSERT OR IGNORE INTO zz_srv_batch(origin, seq, hash, "
             "bytes, received) VALUES (?, ?, ?, ?, ?)",
             &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_blob(st, 3, hash, CS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, bytes, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)now_ms);
    return cs_srvdb_done(s, st, "writing zz_srv_batch");
}

/* Queues a delete of (table, row) at node only, unless one is queued. */
static int
s_outbox_add(struct cs_store *s, const char *hex, const struct cs_change *ch,
             uint64_t now_ms)
{
    sqlite3_stmt *st = NULL;
    uint64_t hlc = ch->hlc.t + 1, now = now_ms << 16;
    int r;

    if (now > hlc)
        hlc = now;
    if (hlc > INT64_MAX)
        return CS_ERR_INVALID;
    if ((r = cs_srvdb_prep(
             s,
             "INSERT INTO zz_srv_outbox(node, tbl, row_id, hlc) "
             "SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM "
             "zz_srv_outbox WHERE node = ?1 AND tbl = ?2 AND "
             "row_id = ?3 AND hlc > ?5)",
             &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ch->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ch->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)hlc);
    sqlite3_bind_int64(st, 5, (int64_t)ch->hlc.t);
    return cs_srvdb_done(s, st, "writing zz_srv_outbox");
}

int
cs_down_refuse(struct cs_store *s, const struct cs_node_id *node,
               const struct cs_scope *sc, uint64_t seq,
               const struct cs_change *ch, int code, const char *reason,
               uint64_t now_ms)
{
    char hex[CS_NODE_ID_HEX_LEN + 1], office[CS_SCOPE_OFFICE_MAX + 2];
    sqlite3_stmt *st = NULL;
    bool known = false;
    int r;

    cs_node_id_hex(node, hex);
    if ((r = cs_srvdb_prep(
             s,
             "INSERT INTO zz_srv_refused(node, seq, tbl, row_id, col, "
             "op, value, hlc, code, reason, at) VALUES (?, ?, ?, ?, ?, "
             "?, ?, ?, ?, ?, ?)",
             &st)) != 0)
        return r;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_text(st, 3, ch->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ch->row_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ch->col, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, (int)ch->op);
    switch (ch->value.type) {
    case CS_VALUE_INTEGER:
        sqlite3_bind_int64(st, 7, ch->value.i);
        break;
    case CS_VALUE_FLOAT:
        sqlite3_bind_double(st, 7, ch->value.d);
        break;
    case CS_VALUE_TEXT:
        sqlite3_bind_text(st, 7, (const char *)ch->value.p, (int)ch->value.len,
                          SQLITE_STATIC);
        break;
    case CS_VALUE_BLOB:
        sqlite3_bind_blob(st, 7, ch->value.p, (int)ch->value.len,
                          SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, 7);
        break;
    }
    sqlite3_bind_int64(st, 8, (int64_t)ch->hlc.t);
    sqlite3_bind_int(st, 9, code);
    sqlite3_bind_text(st, 10, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, (int64_t)now_ms);
    if ((r = cs_srvdb_done(s, st, "writing zz_srv_refused")) != 0)
        return r;
    if (cs_store_table(s, ch->table) == NULL)
        return 0; /* nothing here can correct a table we do not have */
    r = cs_store_row_office(s, ch->table, ch->row_id, office, sizeof office,
                            &known);
    if (r != 0)
        return r;
    if (known && cs_scope_readable(sc, office)) {
        r = cs_store_reassert(
            s, ch->table, ch->row_id,
            ch->op == CS_OP_SET || ch->op == CS_OP_ACK ? ch->col : "", ch->hlc);
        if (r == CS_ERR_NO_FIELD)
            return 0; /* a field we do not have: nothing to correct */
        if (r != CS_ERR_NOT_FOUND)
            return r;
    }
    return s_outbox_add(s, hex, ch, now_ms);
}
