/*  audit/verify.c - checks and replays an audit log archive; see
 *  verify.h.
 *
 *  One pass over the archive: leaf hashes are collected for the tree,
 *  ENROLL/REVOKE leaves keep the table of node keys, a BATCH leaf's batch
 *  is checked and held until the leaves after it say which of its changes
 *  were refused, then applied to the replay replica.  Tree heads come
 *  last; their roots are computed from perfect subtrees built once from
 *  the leaf hashes (2n hashes in all), so checking every head costs
 *  O(log n) each.  Then the replay is compared with the replica, table by
 *  table, with the replay attached to the replica's connection.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "auditlog.h"
#include "batch.h"
#include "changeset.h"
#include "err.h"
#include "mem.h"
#include "merkle.h"
#include "verify.h"

#define S_DIFFS_MAX 50   /* differences said before the rest are counted */
#define S_VALUE_SHOWN 60 /* bytes of a value shown */

/* A node as the log describes it. */
struct s_node {
    struct cs_node_id id;
    struct cs_pubkey pk;
    char name[CS_AUDIT_TEXT_MAX + 1];
    bool revoked;
    uint64_t seq;                /* last batch seen */
    uint8_t hash[CS_HASH_BYTES]; /* its hash */
};

/* Which leaf wrote which changes: for naming where histories part. */
struct s_span {
    struct cs_node_id origin;
    uint64_t last_oseq; /* the highest origin number in it */
    uint64_t leaf;
};

/* A checked batch waiting for its refusals. */
struct s_pending {
    bool have;
    uint64_t leaf;
    struct cs_batch_ref ref;
    uint8_t *raw;
    struct cs_changeset *cs;
    bool *refused;
    size_t n;
};

struct s_v {
    const uint8_t *deployment;
    struct cs_store *replay;
    cs_verify_say_fn say;
    void *arg;
    struct cs_verify_report *rep;
    struct cs_merkle_hash *leaves;
    size_t nleaves, capleaves;
    struct s_node *nodes;
    size_t nnodes;
    struct s_span *spans;
    size_t nspans, capspans;
    struct cs_sth *heads;
    size_t nheads, capheads;
    struct s_pending pend;
    struct cs_merkle_hash **levels; /* levels[l][i]: perfect subtrees */
    unsigned nlevels;
};

static void s_say(struct s_v *v, const char *fmt, ...) CS_PRINTF(2, 3);

static void
s_say(struct s_v *v, const char *fmt, ...)
{
    char line[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    v->rep->problems++;
    v->say(v->arg, line);
}

static double
s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Makes room for one more element in *p (n used of *cap). */
#define S_ROOM(p, n, cap)                                                      \
    do {                                                                       \
        if ((p) == NULL || (n) == (cap)) {                                     \
            (cap) = (cap) ? (cap)*2 : 64;                                      \
            (p) = cs_xrealloc((p), (cap) * sizeof *(p));                       \
        }                                                                      \
    } while (0)

static struct s_node *
s_node_find(struct s_v *v, const struct cs_node_id *id)
{
    for (size_t i = 0; i < v->nnodes; i++)
        if (memcmp(v->nodes[i].id.b, id->b, CS_NODE_ID_BYTES) == 0)
            return &v->nodes[i];
    return NULL;
}

/* "name" of a node for messages, or its hex id. */
static const char *
s_node_name(struct s_v *v, const struct cs_node_id *id, char *buf, size_t len)
{
    struct s_node *n = s_node_find(v, id);
    char hex[CS_NODE_ID_HEX_LEN + 1];

    if (n != NULL)
        return n->name;
    cs_node_id_hex(id, hex);
    snprintf(buf, len, "%s", hex);
    return buf;
}

static void
s_span_add(struct s_v *v, const struct cs_change *ch, size_t n, uint64_t leaf)
{
    for (size_t i = 0; i < n; i++) {
        struct s_span *spans = v->spans, sp;
        size_t last = v->nspans;
        if (spans != NULL && last > 0 && spans[last - 1].leaf == leaf &&
            memcmp(spans[last - 1].origin.b, ch[i].origin.b,
                   CS_NODE_ID_BYTES) == 0) {
            if (ch[i].origin_seq > spans[last - 1].last_oseq)
                spans[last - 1].last_oseq = ch[i].origin_seq;
            continue;
        }
        sp.origin = ch[i].origin;
        sp.last_oseq = ch[i].origin_seq;
        sp.leaf = leaf;
        S_ROOM(v->spans, v->nspans, v->capspans);
        v->spans[v->nspans++] = sp;
    }
}

/* The leaf that carried change (origin, oseq), or UINT64_MAX. */
static uint64_t
s_span_leaf(const struct s_v *v, const struct cs_node_id *origin, uint64_t oseq)
{
    for (size_t i = 0; i < v->nspans; i++)
        if (memcmp(v->spans[i].origin.b, origin->b, CS_NODE_ID_BYTES) == 0 &&
            v->spans[i].last_oseq >= oseq)
            return v->spans[i].leaf;
    return UINT64_MAX;
}

static void
s_pending_free(struct s_pending *p)
{
    free(p->raw);
    cs_changeset_destroy(&p->cs);
    free(p->refused);
    memset(p, 0, sizeof *p);
}

/* Applies the held batch's accepted changes to the replay. */
static int
s_flush(struct s_v *v)
{
    struct s_pending *p = &v->pend;
    const struct cs_change *ch;
    struct cs_change *ok;
    size_t nok = 0;
    int r;

    if (!p->have)
        return 0;
    ch = cs_changeset_changes(p->cs);
    ok = cs_xcalloc(p->n ? p->n : 1, sizeof *ok);
    for (size_t i = 0; i < p->n; i++)
        if (!p->refused[i])
            ok[nok++] = ch[i];
    r = v->replay ? cs_store_apply_batch(v->replay, &p->ref, ok, nok, NULL) : 0;
    if (r == 0) {
        s_span_add(v, ok, nok, p->leaf);
        v->rep->changes += nok;
    } else {
        char nb[64];
        s_say(v,
              "leaf %" PRIu64 " (batch %" PRIu64
              " of node %s): its changes cannot be replayed: %s: %s",
              p->leaf, p->ref.seq,
              s_node_name(v, &p->ref.origin, nb, sizeof nb), cs_strerror(r),
              cs_store_errmsg(v->replay));
        r = 0;
    }
    free(ok);
    s_pending_free(p);
    return r;
}

/* Checks a BATCH leaf against its signed batch and holds it. */
static void
s_batch(struct s_v *v, uint64_t leaf, const struct cs_leaf *l,
        const struct cs_view *bytes)
{
    struct s_node *n = s_node_find(v, &l->node);
    struct cs_batch b;
    char nb[64];
    const char *who = s_node_name(v, &l->node, nb, sizeof nb);
    const struct cs_change *ch;
    uint8_t *raw = NULL;
    size_t raw_len = 0, count;
    struct cs_changeset *cs = NULL;
    int r;

    v->rep->batches++;
    if (n == NULL) {
        s_say(v,
              "leaf %" PRIu64 ": batch %" PRIu64 " of node %s, which was "
              "never enrolled",
              leaf, l->seq, who);
        return;
    }
    if (n->revoked)
        s_say(v,
              "leaf %" PRIu64 ": batch %" PRIu64 " of node %s, accepted "
              "after the node was revoked",
              leaf, l->seq, who);
    if (bytes == NULL) {
        s_say(v,
              "leaf %" PRIu64 ": batch %" PRIu64 " of node %s is missing "
              "from the log (zz_srv_batch)",
              leaf, l->seq, who);
        goto skip;
    }
    if ((r = cs_batch_parse(bytes->p, bytes->len, &b)) != 0) {
        s_say(v,
              "leaf %" PRIu64 ": batch %" PRIu64 " of node %s is "
              "damaged: %s",
              leaf, l->seq, who, cs_strerror(r));
        goto skip;
    }
    if (memcmp(b.hash, l->hash, CS_HASH_BYTES) != 0 || b.seq != l->seq ||
        memcmp(b.origin.b, l->node.b, CS_NODE_ID_BYTES) != 0) {
        s_say(v,
              "leaf %" PRIu64 ": the stored batch %" PRIu64 " of node %s "
              "is not the one the leaf names (its hash differs)",
              leaf, l->seq, who);
        goto skip;
    }
    if ((r = cs_batch_verify(&b, &n->pk, v->deployment, n->seq + 1, n->hash)) !=
        0) {
        s_say(v, "leaf %" PRIu64 ": batch %" PRIu64 " of node %s: %s", leaf,
              l->seq, who, cs_strerror(r));
        goto skip;
    }
    if ((r = cs_batch_payload(&b, &raw, &raw_len)) != 0 ||
        (r = cs_changeset_decode(raw, raw_len, &cs)) != 0) {
        s_say(v,
              "leaf %" PRIu64 ": batch %" PRIu64 " of node %s: its "
              "changes do not decode: %s",
              leaf, l->seq, who, cs_strerror(r));
        free(raw);
        goto skip;
    }
    count = cs_changeset_count(cs);
    ch = cs_changeset_changes(cs);
    for (size_t i = 0; i < count; i++)
        if (memcmp(ch[i].origin.b, l->node.b, CS_NODE_ID_BYTES) != 0) {
            s_say(v,
                  "leaf %" PRIu64 ": batch %" PRIu64 " of node %s "
                  "carries a change of another origin",
                  leaf, l->seq, who);
            break;
        }
    if (count != b.count || count != l->count)
        s_say(v,
              "leaf %" PRIu64 ": batch %" PRIu64 " of node %s holds %zu "
              "changes; it says %" PRIu64 ", the leaf %" PRIu64,
              leaf, l->seq, who, count, b.count, l->count);
    v->pend.have = true;
    v->pend.leaf = leaf;
    v->pend.ref.origin = l->node;
    v->pend.ref.seq = l->seq;
    memcpy(v->pend.ref.prev, b.prev_hash, CS_HASH_BYTES);
    memcpy(v->pend.ref.hash, b.hash, CS_HASH_BYTES);
    v->pend.raw = raw;
    v->pend.cs = cs;
    v->pend.n = count;
    v->pend.refused = cs_xcalloc(count ? count : 1, sizeof *v->pend.refused);
skip:
    /* Go on from the leaf's claim, so one bad batch is said once. */
    n->seq = l->seq;
    memcpy(n->hash, l->hash, CS_HASH_BYTES);
}

static void
s_refusal(struct s_v *v, uint64_t leaf, const struct cs_leaf *l)
{
    struct s_pending *p = &v->pend;

    v->rep->refusals++;
    if (!p->have || p->ref.seq != l->seq ||
        memcmp(p->ref.origin.b, l->node.b, CS_NODE_ID_BYTES) != 0 ||
        l->index >= p->n) {
        s_say(v,
              "leaf %" PRIu64 ": a refusal of change %" PRIu64
              " of batch %" PRIu64 " that does not follow that batch",
              leaf, l->index, l->seq);
        return;
    }
    p->refused[l->index] = true;
}

static void
s_correction(struct s_v *v, uint64_t leaf, const struct cs_leaf *l)
{
    struct cs_changeset *cs = NULL;
    int r;

    v->rep->corrections++;
    if ((r = cs_changeset_decode(l->changeset.p, l->changeset.len, &cs)) != 0) {
        s_say(v, "leaf %" PRIu64 ": a correction that does not decode: %s",
              leaf, cs_strerror(r));
        return;
    }
    if (v->replay != NULL &&
        (r = cs_store_apply(v->replay, cs_changeset_changes(cs),
                            cs_changeset_count(cs), NULL)) != 0)
        s_say(v, "leaf %" PRIu64 ": a correction cannot be replayed: %s", leaf,
              cs_strerror(r));
    else
        s_span_add(v, cs_changeset_changes(cs), cs_changeset_count(cs), leaf);
    cs_changeset_destroy(&cs);
}

static void
s_enroll(struct s_v *v, uint64_t leaf, const struct cs_leaf *l)
{
    struct cs_node_id id;
    struct s_node *n;

    v->rep->enrolments++;
    cs_node_id_from_pubkey(&l->pubkey, &id);
    if (s_node_find(v, &id) != NULL) {
        s_say(v, "leaf %" PRIu64 ": a key enrolled twice", leaf);
        return;
    }
    v->nodes = cs_xrealloc(v->nodes, (v->nnodes + 1) * sizeof *v->nodes);
    n = &v->nodes[v->nnodes++];
    memset(n, 0, sizeof *n);
    n->id = id;
    n->pk = l->pubkey;
    snprintf(n->name, sizeof n->name, "%.*s", (int)l->name.len,
             (const char *)l->name.p);
}

static void
s_revoke(struct s_v *v, uint64_t leaf, const struct cs_leaf *l)
{
    struct s_node *n = s_node_find(v, &l->node);

    v->rep->revocations++;
    if (n == NULL) {
        s_say(v, "leaf %" PRIu64 ": revokes a node never enrolled", leaf);
        return;
    }
    n->revoked = true;
}

/* One leaf; next is the record after it when it is a batch (else NULL). */
static int
s_leaf(struct s_v *v, const struct cs_view *bytes, const struct cs_view *batch)
{
    uint64_t leaf = v->nleaves;
    struct cs_leaf l;
    int r;

    S_ROOM(v->leaves, v->nleaves, v->capleaves);
    cs_merkle_leaf(bytes->p, bytes->len, &v->leaves[v->nleaves++]);
    v->rep->leaves++;
    if ((r = cs_leaf_decode(bytes->p, bytes->len, &l)) != 0) {
        s_say(v, "leaf %" PRIu64 " is malformed: %s", leaf, cs_strerror(r));
        return 0;
    }
    if (l.kind != CS_LEAF_REFUSAL && (r = s_flush(v)) != 0)
        return r;
    switch (l.kind) {
    case CS_LEAF_BATCH:
        s_batch(v, leaf, &l, batch);
        break;
    case CS_LEAF_REFUSAL:
        s_refusal(v, leaf, &l);
        break;
    case CS_LEAF_CORRECTION:
        s_correction(v, leaf, &l);
        break;
    case CS_LEAF_ENROLL:
        s_enroll(v, leaf, &l);
        break;
    case CS_LEAF_REVOKE:
        s_revoke(v, leaf, &l);
        break;
    }
    return 0;
}

/* ---- tree heads -------------------------------------------------------- */

static int
s_level_node(void *arg, unsigned level, uint64_t idx,
             struct cs_merkle_hash *out)
{
    struct s_v *v = arg;

    if (level >= v->nlevels || idx >= (v->nleaves >> level))
        return CS_ERR_NOT_FOUND;
    *out = v->levels[level][idx];
    return 0;
}

static void
s_build_levels(struct s_v *v)
{
    unsigned n = 1;

    for (uint64_t w = v->nleaves; w > 1; w >>= 1)
        n++;
    v->levels = cs_xcalloc(n, sizeof(struct cs_merkle_hash *));
    v->nlevels = n;
    v->levels[0] = v->leaves;
    for (unsigned l = 1; l < n; l++) {
        uint64_t w = v->nleaves >> l;
        v->levels[l] = cs_xcalloc(w ? w : 1, sizeof **v->levels);
        for (uint64_t i = 0; i < w; i++)
            cs_merkle_node(&v->levels[l - 1][2 * i],
                           &v->levels[l - 1][2 * i + 1], &v->levels[l][i]);
    }
}

static void
s_heads(struct s_v *v, const struct cs_pubkey *server)
{
    uint64_t good = 0, last_size = 0, last_time = 0;
    struct cs_merkle_hash root;

    s_build_levels(v);
    for (size_t i = 0; i < v->nheads; i++) {
        const struct cs_sth *h = &v->heads[i];
        v->rep->heads++;
        if (!cs_sth_verify(server, v->deployment, h)) {
            s_say(v,
                  "tree head of size %" PRIu64 ": the server's signature "
                  "does not verify (zz_srv_head)",
                  h->size);
            continue;
        }
        if (i > 0 && (h->size <= last_size || h->time_ms < last_time))
            s_say(v,
                  "tree head of size %" PRIu64 " comes after one of size "
                  "%" PRIu64 ": the log went back",
                  h->size, last_size);
        last_size = h->size;
        last_time = h->time_ms;
        if (h->size > v->nleaves) {
            s_say(v,
                  "tree head of size %" PRIu64 " signs more leaves than "
                  "the log holds (%zu): leaves were deleted",
                  h->size, v->nleaves);
            continue;
        }
        if (cs_merkle_nodes_root(s_level_node, v, h->size, &root) != 0 ||
            sodium_memcmp(root.b, h->root, sizeof h->root) != 0) {
            s_say(v,
                  "tree head of size %" PRIu64 ": the leaves do not give "
                  "its root; a leaf from %" PRIu64 " to %" PRIu64
                  " was changed",
                  h->size, good, h->size - 1);
            continue;
        }
        good = h->size;
    }
    if (v->nleaves > 0 && last_size != v->nleaves)
        s_say(v,
              "leaves %" PRIu64 " to %zu are not covered by a signed tree "
              "head (the server signs leaves that enroll or revoke added "
              "while it was stopped when it next runs)",
              last_size, v->nleaves - 1);
}

/* ---- comparing the replay with the replica ------------------------------ */

static void
s_value_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        snprintf(out, len, "NULL");
        break;
    case SQLITE_BLOB:
        snprintf(out, len, "<%d bytes>", sqlite3_column_bytes(st, col));
        break;
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        snprintf(out, len, "'%.*s%s'", n > S_VALUE_SHOWN ? S_VALUE_SHOWN : n, t,
                 n > S_VALUE_SHOWN ? "..." : "");
        break;
    }
    default:
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, col));
        break;
    }
}

/* Where the replay's value of (table, row, col) came from. */
static void
s_origin_of(struct s_v *v, sqlite3 *db, const struct cs_table *t,
            const char *row, const char *col, char *out, size_t len)
{
    sqlite3_stmt *st = NULL;
    uint64_t leaf = UINT64_MAX;

    snprintf(out, len, "no leaf wrote it");
    if (sqlite3_prepare_v2(
            db,
            "SELECT o.node, l.oseq FROM v.zz_cell c JOIN v.zz_log l ON l.tid "
            "= c.tid AND l.row_id = c.row_id AND l.col = c.col AND l.hlc = "
            "c.hlc AND l.oid = c.oid JOIN v.zz_origin o ON o.oid = c.oid JOIN "
            "v.zz_table z ON z.tid = c.tid WHERE z.name = ? AND c.row_id = ? "
            "AND c.col = ?",
            -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        struct cs_node_id id;
        if (cs_node_id_parse((const char *)sqlite3_column_text(st, 0), &id) ==
            0)
            leaf = s_span_leaf(v, &id, (uint64_t)sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    if (leaf != UINT64_MAX)
        snprintf(out, len, "written by leaf %" PRIu64, leaf);
}

/* Compares one table; returns rows compared. */
static uint64_t
s_compare_table(struct s_v *v, sqlite3 *db, const struct cs_table *t,
                uint64_t *diffs)
{
    char *sql = NULL, *cond = cs_xstrdup("1");
    sqlite3_stmt *st = NULL;
    uint64_t rows = 0;
    int rc;

    for (size_t c = 1; c < t->ncols; c++) {
        char *next = cs_xasprintf("%s AND a.\"%s\" IS b.\"%s\"", cond,
                                  t->cols[c], t->cols[c]);
        free(cond);
        cond = next;
    }
    /* Rows of either side, the other side's beside them. */
    sql = cs_xasprintf(
        "SELECT a.id, b.id, a.*, b.* FROM main.\"%s\" a LEFT JOIN v.\"%s\" "
        "b ON a.id = b.id WHERE b.id IS NULL OR NOT (%s) UNION ALL SELECT "
        "NULL, b.id, a.*, b.* FROM v.\"%s\" b LEFT JOIN main.\"%s\" a ON "
        "a.id = b.id WHERE a.id IS NULL",
        t->name, t->name, cond, t->name, t->name);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        s_say(v, "table %s: cannot compare: %s", t->name, sqlite3_errmsg(db));
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *aid = (const char *)sqlite3_column_text(st, 0);
        const char *bid = (const char *)sqlite3_column_text(st, 1);
        char where[96], va[S_VALUE_SHOWN + 16], vb[S_VALUE_SHOWN + 16];
        if ((*diffs)++ >= S_DIFFS_MAX)
            continue;
        if (bid == NULL) {
            s_say(v,
                  "table %s, row %s: in the replica but not in the log "
                  "(added behind the log's back)",
                  t->name, aid);
            continue;
        }
        if (aid == NULL) {
            s_origin_of(v, db, t, bid, "", where, sizeof where);
            s_say(v,
                  "table %s, row %s: in the log (%s) but not in the "
                  "replica (deleted behind the log's back)",
                  t->name, bid, where);
            continue;
        }
        for (size_t c = 1; c < t->ncols; c++) {
            int ia = 2 + (int)c, ib = 2 + (int)(t->ncols + c);
            sqlite3_value *x = sqlite3_column_value(st, ia);
            sqlite3_value *y = sqlite3_column_value(st, ib);
            int tx = sqlite3_value_type(x), ty = sqlite3_value_type(y);
            bool same = tx == ty &&
                        (tx == SQLITE_NULL ||
                         (sqlite3_value_bytes(x) == sqlite3_value_bytes(y) &&
                          memcmp(sqlite3_value_blob(x), sqlite3_value_blob(y),
                                 (size_t)sqlite3_value_bytes(x)) == 0));
            if (same)
                continue;
            s_value_text(st, ia, va, sizeof va);
            s_value_text(st, ib, vb, sizeof vb);
            s_origin_of(v, db, t, aid, t->cols[c], where, sizeof where);
            s_say(v,
                  "table %s, row %s, field %s: the replica has %s, the log "
                  "gives %s (%s)",
                  t->name, aid, t->cols[c], va, vb, where);
        }
    }
    if (rc != SQLITE_DONE)
        s_say(v, "table %s: comparing failed: %s", t->name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    st = NULL;
    free(sql);
    sql = cs_xasprintf("SELECT count(*) FROM main.\"%s\"", t->name);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        rows = (uint64_t)sqlite3_column_int64(st, 0);
out:
    sqlite3_finalize(st);
    free(sql);
    free(cond);
    return rows;
}

static void
s_compare(struct s_v *v, struct cs_store *compare, const char *replay_path)
{
    sqlite3 *db = cs_store_db(compare);
    sqlite3_stmt *st = NULL;
    uint64_t diffs = 0;

    if (sqlite3_prepare_v2(db, "ATTACH ? AS v", -1, &st, NULL) != SQLITE_OK) {
        s_say(v, "cannot open the replay to compare: %s", sqlite3_errmsg(db));
        return;
    }
    sqlite3_bind_text(st, 1, replay_path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        s_say(v, "cannot open the replay to compare: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return;
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < cs_store_table_count(compare); i++)
        v->rep->rows +=
            s_compare_table(v, db, cs_store_table_at(compare, i), &diffs);
    if (diffs > S_DIFFS_MAX)
        s_say(v, "... and %" PRIu64 " more differences", diffs - S_DIFFS_MAX);
    if (sqlite3_exec(db, "DETACH v", NULL, NULL, NULL) != SQLITE_OK)
        s_say(v, "cannot close the replay: %s", sqlite3_errmsg(db));
}

/* ---- the whole ---------------------------------------------------------- */

static int
s_read(struct s_v *v, struct cs_audit_archive *a)
{
    struct cs_audit_rec rec, next;
    bool have_next = false;
    int r;

    for (;;) {
        if (have_next) {
            rec = next;
            have_next = false;
        } else if ((r = cs_audit_archive_next(a, &rec)) != 0) {
            if (r == CS_ERR_NOT_FOUND)
                return 0;
            s_say(v, "the archive is damaged after %zu leaves: %s", v->nleaves,
                  cs_strerror(r));
            return 0;
        }
        switch (rec.type) {
        case CS_AUDIT_REC_LEAF: {
            const struct cs_view *batch = NULL;
            r = cs_audit_archive_next(a, &next);
            if (r == 0) {
                have_next = true;
                if (next.type == CS_AUDIT_REC_BATCH) {
                    batch = &next.bytes;
                    have_next = false;
                }
            }
            if ((r = s_leaf(v, &rec.bytes, batch)) != 0)
                return r;
            break;
        }
        case CS_AUDIT_REC_BATCH:
            s_say(v, "a signed batch after leaf %zu that no leaf names",
                  v->nleaves);
            break;
        case CS_AUDIT_REC_HEAD:
            S_ROOM(v->heads, v->nheads, v->capheads);
            v->heads[v->nheads++] = rec.head;
            break;
        }
    }
}

int
cs_verify_archive(const uint8_t *p, size_t len,
                  const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                  const struct cs_pubkey *server, struct cs_store *compare,
                  const char *scratch, cs_verify_say_fn say, void *arg,
                  struct cs_verify_report *rep)
{
    struct cs_audit_archive a;
    struct s_v v;
    struct cs_node_id self;
    char *path = NULL;
    double t0 = s_now();
    int r;

    memset(rep, 0, sizeof *rep);
    memset(&v, 0, sizeof v);
    v.deployment = deployment;
    v.say = say;
    v.arg = arg;
    v.rep = rep;
    if ((r = cs_audit_archive_open(&a, p, len)) != 0) {
        s_say(&v, "not an audit log archive: %s", cs_strerror(r));
        goto out;
    }
    if (memcmp(a.deployment, deployment, CS_DEPLOYMENT_BYTES) != 0)
        s_say(&v, "the log belongs to another deployment");
    if (sodium_memcmp(a.server.b, server->b, sizeof server->b) != 0)
        s_say(&v, "the log names another server key than this node's");
    if (compare != NULL) {
        randombytes_buf(self.b, sizeof self.b);
        path = cs_xasprintf("%s/audit-replay-%d.db", scratch, (int)getpid());
        (void)unlink(path);
        if ((r = cs_store_create(path, &self, cs_store_office(compare),
                                 &v.replay)) != 0)
            goto out;
        if (sqlite3_exec(cs_store_db(v.replay),
                         "PRAGMA synchronous = OFF; PRAGMA journal_mode = "
                         "MEMORY; PRAGMA cache_size = -65536",
                         NULL, NULL, NULL) != SQLITE_OK) {
            r = CS_ERR_DB;
            goto out;
        }
    }
    /* The replay is one transaction: nothing reaches its file until the
       end, and then once.  Rows are recomputed once, at the end, from all
       the changes logged (cs_store_defer_rows()), not once per batch. */
    if (v.replay != NULL) {
        cs_store_defer_rows(v.replay, true);
        if ((r = cs_store_begin(v.replay)) != 0)
            goto out;
    }
    if ((r = s_read(&v, &a)) != 0 || (r = s_flush(&v)) != 0)
        goto out;
    if (v.replay != NULL) {
        uint64_t rows;
        cs_store_defer_rows(v.replay, false);
        if ((r = cs_store_rebuild(v.replay, &rows)) != 0 ||
            (r = cs_store_commit(v.replay)) != 0)
            goto out;
    }
    s_heads(&v, server);
    if (compare != NULL) {
        cs_store_destroy(&v.replay);
        s_compare(&v, compare, path);
    }
    r = rep->problems > 0 ? CS_ERR_AUDIT : 0;
out:
    cs_store_destroy(&v.replay);
    if (path != NULL) {
        (void)unlink(path);
        free(path);
    }
    s_pending_free(&v.pend);
    if (v.levels != NULL)
        for (unsigned l = 1; l < v.nlevels; l++)
            free(v.levels[l]);
    free(v.levels);
    free(v.leaves);
    free(v.nodes);
    free(v.spans);
    free(v.heads);
    rep->seconds = s_now() - t0;
    return r;
}

void
cs_verify_print(FILE *f, const struct cs_verify_report *rep, const char *what)
{
    fprintf(f,
            "checked %" PRIu64 " log entries: %" PRIu64 " batches (%" PRIu64
            " changes replayed), %" PRIu64 " refusals, %" PRIu64
            " corrections, %" PRIu64 " enrolments, %" PRIu64
            " revocations; %" PRIu64 " signed tree heads; compared %" PRIu64
            " rows of %s; %.2f s\n",
            rep->leaves, rep->batches, rep->changes, rep->refusals,
            rep->corrections, rep->enrolments, rep->revocations, rep->heads,
            rep->rows, what, rep->seconds);
}
