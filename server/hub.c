/*  server/hub.c - the sync sessions of `cigsync-server run`; see hub.h.  */
#include "prelude.h"

#include "audit.h"
#include "bundle.h"
#include "changeset.h"
#include "down.h"
#include "envelope.h"
#include "feedio.h"
#include "flow.h"
#include "hlc.h"
#include "hub.h"
#include "log.h"
#include "mem.h"
#include "msg.h"
#include "registry.h"
#include "scope.h"
#include "transport.h"

#define S_REFUSALS_PER_MSG 32 /* refusals per REFUSED message, at first */

/* A node as the snapshot of the registry holds it. */
struct s_node {
    struct cs_registry_node reg;       /* name, role, office, key ... */
    uint8_t curve[CS_KEY_CURVE_BYTES]; /* its CURVE key, for ZAP */
    char hex[CS_NODE_ID_HEX_LEN + 1];  /* node id */
};

/* One node's session state; kept across its reconnections. */
struct s_sess {
    struct s_node node;                           /* who */
    struct cs_scope scope;                        /* what it may do */
    uint8_t rid[CS_SRV_TRANSPORT_ROUTING_ID_MAX]; /* reply address */
    size_t rid_len;                               /* its length */
    bool live;                                    /* HELLO seen */
    struct cs_flow_in in;                         /* its batches */
    struct cs_flow_out out;                       /* ours to it */
    bool status_wanted;                 /* it said STATUS; not answered */
    uint8_t peer_digest[CS_HASH_BYTES]; /* its digest then */
    uint64_t peer_feed;                 /* its feed head then */
    uint64_t peer_down;                 /* its head of our feed then */
    uint64_t peer_pending;              /* its unsealed changes then */
    bool repaired;                      /* a repair was tried this session */
    bool news;                          /* the last look found a new batch */
    uint64_t batches_in, batches_out, changes_in, refused; /* this session */
    uint64_t duplicates;                                   /* this session */
    uint64_t bytes_in, bytes_out;                          /* this session */
    uint64_t bytes_out_unrecorded; /* not yet added to zz_srv_node */
    bool audit;                    /* it said SINCE: it checks our tree heads */
    uint64_t tree_sent; /* size of the last head it has (SINCE, TREE) */
    uint8_t *archive;   /* the log archive it is fetching (LOG_GET) */
    size_t archive_len; /* its length */
};

struct s_hub {
    struct cs_srvdir *dir;
    struct cs_store *store;
    struct cs_registry *reg;
    const struct cs_key *key;
    const uint8_t *deployment;
    struct cs_node_id self;
    struct cs_srv_transport *tr;
    pthread_mutex_t lock; /* guards nodes, nnodes (ZAP thread reads) */
    struct s_node *nodes;
    size_t nnodes;
    struct s_sess **sess;
    size_t nsess;
    struct cs_writer w;   /* one outgoing frame */
    struct cs_srv_msg *m; /* one incoming message (large: on the heap) */
};

/* ---- the registry snapshot ----------------------------------------------- */

struct s_collect {
    struct s_node *v;
    size_t n, cap;
};

static int
s_collect_node(void *arg, const struct cs_registry_node *n)
{
    struct s_collect *c = arg;
    struct s_node *x;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = cs_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    x = &c->v[c->n];
    memset(x, 0, sizeof *x);
    x->reg = *n;
    cs_node_id_hex(&n->node, x->hex);
    if (cs_pubkey_curve(&n->key, x->curve) != 0)
        return 0; /* a key with no Curve25519 form cannot connect */
    c->n++;
    return 0;
}

static struct s_sess *s_sess_find(struct s_hub *h, const char *hex);
static void s_sess_drop(struct s_hub *h, struct s_sess *s, int code,
                        const char *why);

/* Re-reads the registry; ends the live sessions of revoked nodes. */
static int
s_reload(struct s_hub *h)
{
    struct s_collect c;
    int r;

    memset(&c, 0, sizeof c);
    if ((r = cs_registry_list(h->reg, s_collect_node, &c)) != 0) {
        free(c.v);
        return r;
    }
    pthread_mutex_lock(&h->lock);
    free(h->nodes);
    h->nodes = c.v;
    h->nnodes = c.n;
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < c.n; i++) {
        struct s_sess *s;
        if (!c.v[i].reg.revoked || (s = s_sess_find(h, c.v[i].hex)) == NULL)
            continue;
        cs_log_warn("node %s was revoked: ending its session",
                    s->node.reg.name);
        s_sess_drop(h, s, CS_ERR_REVOKED, "this node was revoked");
    }
    return 0;
}

/* ZAP thread: admits an enrolled, unrevoked key. */
static bool
s_allow(void *arg, const uint8_t curve_pk[CS_KEY_CURVE_BYTES],
        char user_id[CS_NODE_ID_HEX_LEN + 1])
{
    struct s_hub *h = arg;
    bool ok = false;

    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nnodes && !ok; i++) {
        if (h->nodes[i].reg.revoked ||
            sodium_memcmp(h->nodes[i].curve, curve_pk, CS_KEY_CURVE_BYTES) != 0)
            continue;
        memcpy(user_id, h->nodes[i].hex, CS_NODE_ID_HEX_LEN + 1);
        ok = true;
    }
    pthread_mutex_unlock(&h->lock);
    if (!ok)
        cs_log_warn("refused a connection: its key is not enrolled, or "
                    "was revoked");
    return ok;
}

/* Looks a node up in the snapshot by id; copies it to *out. */
static bool
s_node_get(struct s_hub *h, const char *hex, struct s_node *out)
{
    bool found = false;

    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->nnodes && !found; i++) {
        if (strcmp(h->nodes[i].hex, hex) != 0)
            continue;
        *out = h->nodes[i];
        found = true;
    }
    pthread_mutex_unlock(&h->lock);
    return found;
}

static bool
s_still_allowed(void *arg, const char *node_hex)
{
    struct s_node n;

    return s_node_get(arg, node_hex, &n) && !n.reg.revoked;
}

/* Batch origins: an enrolled, unrevoked node's key. */
static int
s_lookup(void *arg, const struct cs_node_id *node, struct cs_pubkey *pk)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    struct s_node n;

    cs_node_id_hex(node, hex);
    if (!s_node_get(arg, hex, &n) || n.reg.revoked)
        return CS_ERR_NOT_FOUND;
    *pk = n.reg.key;
    return 0;
}

/* ---- sessions ---------------------------------------------------------- */

static struct s_sess *
s_sess_find(struct s_hub *h, const char *hex)
{
    for (size_t i = 0; i < h->nsess; i++)
        if (strcmp(h->sess[i]->node.hex, hex) == 0)
            return h->sess[i];
    return NULL;
}

static struct s_sess *
s_sess_get(struct s_hub *h, const struct s_node *n)
{
    struct s_sess *s = s_sess_find(h, n->hex);

    if (s == NULL) {
        s = cs_xcalloc(1, sizeof *s);
        cs_flow_in_init(&s->in, CS_ENVELOPE_MAX);
        cs_flow_out_init(&s->out);
        h->sess =
            cs_xrealloc(h->sess, (h->nsess + 1) * sizeof(struct s_sess *));
        h->sess[h->nsess++] = s;
    }
    s->node = *n;
    cs_scope_of(&n->reg, &s->scope);
    return s;
}

static void
s_sess_free(struct s_sess *s)
{
    cs_flow_in_free(&s->in);
    cs_flow_out_free(&s->out);
    free(s->archive);
    free(s);
}

/* Sends the frame in h->w to s; marks s not live when it is gone. */
static void
s_send(struct s_hub *h, struct s_sess *s)
{
    int r;

    if (cs_writer_len(&h->w) == 0 || h->tr == NULL) {
        cs_writer_reset(&h->w); /* a bundle: nobody to tell */
        return;
    }
    r = cs_srv_transport_send(h->tr, s->rid, s->rid_len, cs_writer_data(&h->w),
                              cs_writer_len(&h->w));
    if (r == 0) {
        s->bytes_out += cs_writer_len(&h->w);
        s->bytes_out_unrecorded += cs_writer_len(&h->w);
    } else {
        if (s->live)
            cs_log_info("node %s is gone (%s)", s->node.reg.name,
                        cs_strerror(r));
        s->live = false;
    }
    cs_writer_reset(&h->w);
}

/* Sends ERROR to a reply address. */
static void
s_send_error_to(struct s_hub *h, const uint8_t *rid, size_t rid_len, int code,
                const char *text)
{
    struct cs_msg_error e;

    if (h->tr == NULL)
        return;
    e.code = code;
    e.message.p = (const uint8_t *)text;
    e.message.len = strlen(text);
    cs_writer_reset(&h->w);
    if (cs_msg_error_encode(&h->w, &e) == 0 &&
        cs_srv_transport_send(h->tr, rid, rid_len, cs_writer_data(&h->w),
                              cs_writer_len(&h->w)) != 0)
        cs_log_debug("could not tell a node: %s", text);
    cs_writer_reset(&h->w);
}

/* Ends s's session with ERROR; its state stays for a next session unless
   the node was revoked. */
static void
s_sess_drop(struct s_hub *h, struct s_sess *s, int code, const char *why)
{
    if (s->live && s->rid_len > 0)
        s_send_error_to(h, s->rid, s->rid_len, code, why);
    s->live = false;
    if (code != CS_ERR_REVOKED)
        return;
    for (size_t i = 0; i < h->nsess; i++) {
        if (h->sess[i] != s)
            continue;
        h->sess[i] = h->sess[--h->nsess];
        s_sess_free(s);
        return;
    }
}

/* Adds one head to a sorted list of at most two. */
static void
s_head_add(struct cs_msg_head *v, size_t *n, const struct cs_node_id *origin,
           uint64_t seq, const uint8_t hash[CS_HASH_BYTES])
{
    size_t i = *n;

    if (seq == 0)
        return;
    while (i > 0 &&
           memcmp(v[i - 1].origin.b, origin->b, CS_NODE_ID_BYTES) > 0) {
        v[i] = v[i - 1];
        i--;
    }
    v[i].origin = *origin;
    v[i].seq = seq;
    memcpy(v[i].hash, hash, CS_HASH_BYTES);
    (*n)++;
}

/* The heads the server holds for s: the node's feed and ours to it. */
static int
s_heads(struct s_hub *h, struct s_sess *s, struct cs_msg_head v[2], size_t *n,
        bool with_down)
{
    uint8_t hash[CS_HASH_BYTES];
    uint64_t seq;
    int r;

    *n = 0;
    if ((r = cs_store_head(h->store, &s->node.reg.node, &seq, hash)) != 0)
        return r;
    s_head_add(v, n, &s->node.reg.node, seq, hash);
    if (!with_down)
        return 0;
    if ((r = cs_down_head(h->store, &s->node.reg.node, &seq, hash)) != 0)
        return r;
    s_head_add(v, n, &h->self, seq, hash);
    return 0;
}

static void
s_send_ack(struct s_hub *h, struct s_sess *s)
{
    struct cs_msg_head v[2];
    struct cs_msg_ack a;
    size_t n;

    memset(&a, 0, sizeof a);
    if (s_heads(h, s, v, &n, false) != 0)
        return;
    cs_flow_in_resume(&s->in, &a);
    if (cs_msg_ack_encode(&h->w, &a, v, n) == 0)
        s_send(h, s);
    cs_writer_reset(&h->w);
}

static void
s_send_credit(struct s_hub *h, struct s_sess *s, uint64_t bytes,
              uint64_t batches)
{
    struct cs_msg_credit c;

    if (bytes == 0 && batches == 0)
        return;
    c.bytes = bytes;
    c.batches = batches;
    if (cs_msg_credit_encode(&h->w, &c) == 0)
        s_send(h, s);
    cs_writer_reset(&h->w);
}

/* ---- downstream -------------------------------------------------------- */

static int s_seen(struct s_hub *h, struct s_sess *s, uint64_t seq,
                  uint64_t bytes_in);

/* Sends s what its credit allows of its feed. */
static void
s_pump(struct s_hub *h, struct s_sess *s)
{
    s->news = false;
    while (s->live) {
        uint64_t seq = cs_flow_out_wants(&s->out);
        bool sent = false;
        int r;

        if (seq != 0) {
            uint8_t *batch = NULL;
            size_t len = 0;
            struct cs_writer env;

            r = cs_down_get(h->store, h->key, h->deployment, &s->node.reg.node,
                            &s->scope, seq, &batch, &len);
            if (r != 0) {
                cs_log_err(r, "cannot get batch %" PRIu64 " for node %s", seq,
                           s->node.reg.name);
                s_sess_drop(h, s, r == CS_ERR_NOT_FOUND ? CS_ERR_SEQUENCE : r,
                            "the server cannot continue this node's feed");
                return;
            }
            if (batch != NULL) {
                s->news = true;
                cs_writer_init(&env, CS_ENVELOPE_MAX);
                r = cs_envelope_seal(h->key, &s->node.reg.key, h->deployment,
                                     CS_ENVELOPE_KIND_BATCH, batch, len, &env);
                free(batch);
                if (r != 0) {
                    cs_writer_free(&env);
                    cs_log_err(r, "cannot seal a batch for node %s",
                               s->node.reg.name);
                    return;
                }
                len = cs_writer_len(&env);
                batch = cs_xmalloc(len);
                memcpy(batch, cs_writer_data(&env), len);
                cs_writer_free(&env);
                cs_flow_out_load(&s->out, seq, batch, len);
            }
        }
        if ((r = cs_flow_out_next(&s->out, &h->w, &sent)) != 0) {
            cs_log_err(r, "cannot encode a message for node %s",
                       s->node.reg.name);
            cs_writer_reset(&h->w);
            return;
        }
        if (!sent)
            return;
        if (s->out.sent == s->out.env_seq && s->out.env_seq != 0)
            s->batches_out++;
        s_send(h, s);
    }
}

/* The node said STATUS: answer it if neither side lacks anything. */
static void
s_status(struct s_hub *h, struct s_sess *s)
{
    struct cs_msg_head v[2];
    struct cs_msg_status st;
    uint8_t hash[CS_HASH_BYTES];
    uint64_t head, down, rows;
    size_t n;
    int r;

    if (!s->status_wanted || !s->live || s->news)
        return;
    if (cs_store_head(h->store, &s->node.reg.node, &head, hash) != 0 ||
        cs_down_head(h->store, &s->node.reg.node, &down, hash) != 0)
        return;
    if (s->peer_feed != head || s->peer_pending != 0 || s->peer_down != down ||
        !cs_flow_out_idle(&s->out, down))
        return; /* batches are still on their way, one way or the other */
    if (cs_flow_in_busy(&s->in)) {
        /* The node has nothing we lack: a half envelope held here is of a
           batch that came another way (a bundle). */
        cs_flow_in_reset(&s->in);
    }
    memset(&st, 0, sizeof st);
    if ((r = cs_store_digest(
             h->store, s->scope.role == CS_ROLE_SITE ? s->scope.office : NULL,
             st.digest, &rows)) != 0) {
        cs_log_err(r, "cannot compute the digest for node %s",
                   s->node.reg.name);
        return;
    }
    if (sodium_memcmp(st.digest, s->peer_digest, CS_HASH_BYTES) != 0) {
        if (!s->repaired) {
            s->repaired = true;
            cs_log_warn("node %s: its content differs from the server's "
                        "(%" PRIu64 " rows in its scope here); repairing by "
                        "sending its whole scope again",
                        s->node.reg.name, rows);
            if (cs_down_rescan(h->store, &s->node.reg.node) == 0) {
                s_pump(h, s);
                if (s->news)
                    return; /* it will say STATUS again */
            }
        }
        cs_log_warn("node %s: its content still differs from the "
                    "server's after resending its scope; the node rebuilds "
                    "its rows from its log, or reports the difference",
                    s->node.reg.name);
    } else {
        cs_log_info("node %s in step: %" PRIu64 " rows; this session "
                    "received %" PRIu64 " batches (%" PRIu64
                    " changes, %" PRIu64 " refused, %" PRIu64
                    " bytes), sent %" PRIu64 " batches (%" PRIu64 " bytes)",
                    s->node.reg.name, rows, s->batches_in, s->changes_in,
                    s->refused, s->bytes_in, s->batches_out, s->bytes_out);
    }
    s->status_wanted = false;
    if (s_heads(h, s, v, &n, true) != 0)
        return;
    if (cs_msg_status_encode(&h->w, &st, v, n) == 0)
        s_send(h, s);
    cs_writer_reset(&h->w);
    if (s_seen(h, s, 0, 0) != 0)
        cs_log_warn("could not record the traffic of node %s",
                    s->node.reg.name);
}

/* Looks for news for every live session (after a batch was applied). */
static void
s_pump_all(struct s_hub *h)
{
    for (size_t i = 0; i < h->nsess; i++) {
        struct s_sess *s = h->sess[i];
        if (!s->live)
            continue;
        s_pump(h, s);
        s_status(h, s);
    }
}

/* ---- upstream ---------------------------------------------------------- */

/* Records in the registry what a session moved. */
static int
s_seen(struct s_hub *h, struct s_sess *s, uint64_t seq, uint64_t bytes_in)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sqlite3_prepare_v2(cs_store_db(h->store),
                            "UPDATE zz_srv_node SET last_seen = ?, last_seq "
                            "= max(last_seq, ?), bytes_in = bytes_in + ?, "
                            "bytes_out = bytes_out + ? WHERE node_id = ?",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return CS_ERR_DB;
    sqlite3_bind_int64(st, 1, (int64_t)cs_hlc_wall_ms());
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_int64(st, 3, (int64_t)bytes_in);
    sqlite3_bind_int64(st, 4, (int64_t)s->bytes_out_unrecorded);
    sqlite3_bind_text(st, 5, s->node.hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        s->bytes_out_unrecorded = 0;
    return rc == SQLITE_DONE ? 0 : CS_ERR_DB;
}

/* Sends the refusals of one batch, as many per REFUSED as fit. */
static void
s_send_refused(struct s_hub *h, struct s_sess *s, const struct cs_batch *b,
               const struct cs_msg_refusal *f, size_t n)
{
    struct cs_msg_refused m;
    size_t i = 0, per = S_REFUSALS_PER_MSG;

    m.origin = b->origin;
    m.seq = b->seq;
    while (i < n) {
        size_t k = n - i < per ? n - i : per;
        int r = cs_msg_refused_encode(&h->w, &m, f + i, k);
        if (r == CS_ERR_TOO_BIG && k > 1) {
            cs_writer_reset(&h->w);
            per = k / 2;
            continue;
        }
        if (r != 0) {
            cs_writer_reset(&h->w);
            i++; /* cannot be told; it is logged and recorded */
            continue;
        }
        s_send(h, s);
        i += k;
    }
}

/* ---- the audit log ---------------------------------------------------------
 */

/* The server's own changes made while correcting refusals, copied. */
struct s_fixes {
    struct cs_change *v;
    void **own; /* what v points to, 4 per change (table row col value) */
    size_t n, cap;
};

static int
s_fix_collect(void *arg, const struct cs_change *ch)
{
    struct s_fixes *f = arg;
    struct cs_change *c;

    char *t, *row, *col;
    void *val = NULL;

    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = cs_xrealloc(f->v, f->cap * sizeof *f->v);
        f->own = cs_xrealloc(f->own, f->cap * 4 * sizeof *f->own);
    }
    c = &f->v[f->n];
    *c = *ch;
    c->table = t = cs_xstrdup(ch->table);
    c->row_id = row = cs_xstrdup(ch->row_id);
    c->col = col = cs_xstrdup(ch->col);
    if (ch->value.type == CS_VALUE_TEXT || ch->value.type == CS_VALUE_BLOB) {
        val = cs_xmalloc(ch->value.len ? ch->value.len : 1);
        if (ch->value.len > 0)
            memcpy(val, ch->value.p, ch->value.len);
        c->value.p = val;
    }
    f->own[4 * f->n] = t;
    f->own[4 * f->n + 1] = row;
    f->own[4 * f->n + 2] = col;
    f->own[4 * f->n + 3] = val;
    f->n++;
    return 0;
}

static void
s_fixes_free(struct s_fixes *f)
{
    for (size_t i = 0; i < 4 * f->n; i++)
        free(f->own[i]);
    free(f->own);
    free(f->v);
}

/* The last log position of the consolidated replica. */
static int
s_last_lid(struct s_hub *h, uint64_t *lid)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *lid = 0;
    if (sqlite3_prepare_v2(cs_store_db(h->store),
                           "SELECT coalesce(max(lid), 0) FROM zz_log", -1, &st,
                           NULL) != SQLITE_OK)
        return CS_ERR_DB;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *lid = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : CS_ERR_DB;
}

/* Logs the server's own changes after log position after (the
   corrections just made) as CORRECTION leaves. */
static int
s_log_fixes(struct s_hub *h, uint64_t after, uint64_t now)
{
    struct s_fixes f;
    struct cs_writer w;
    struct cs_leaf l;
    uint64_t last = 0;
    size_t i = 0, per = 256;
    int r;

    memset(&f, 0, sizeof f);
    if ((r = cs_store_changes(h->store, after, true, s_fix_collect, &f,
                              &last)) != 0)
        goto out;
    while (i < f.n) {
        size_t k = f.n - i < per ? f.n - i : per;
        cs_writer_init(&w, CS_AUDIT_LEAF_MAX);
        r = cs_changeset_encode(f.v + i, k, &w);
        if (r == CS_ERR_TOO_BIG && k > 1) {
            cs_writer_free(&w);
            per = k / 2;
            continue;
        }
        if (r == 0) {
            memset(&l, 0, sizeof l);
            l.kind = CS_LEAF_CORRECTION;
            l.at_ms = now;
            l.changeset.p = cs_writer_data(&w);
            l.changeset.len = cs_writer_len(&w);
            r = cs_audit_append(h->store, &l, NULL);
        }
        cs_writer_free(&w);
        if (r != 0)
            goto out;
        i += k;
    }
out:
    s_fixes_free(&f);
    return r;
}

/* Logs batch in (applied) and its refusals; bad[i] marks a refused
   change, codes and reasons say why. */
static int
s_log_batch(struct s_hub *h, const struct cs_feedio_in *in,
            const struct cs_change *ch, size_t n, const bool *bad,
            const int *codes, char (*reasons)[CS_SCOPE_REASON_MAX],
            uint64_t now)
{
    struct cs_leaf l;
    int r;

    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_BATCH;
    l.at_ms = now;
    l.node = in->batch.origin;
    l.seq = in->batch.seq;
    memcpy(l.hash, in->batch.hash, CS_HASH_BYTES);
    l.count = n;
    if ((r = cs_audit_append(h->store, &l, NULL)) != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (!bad[i])
            continue;
        memset(&l, 0, sizeof l);
        l.kind = CS_LEAF_REFUSAL;
        l.at_ms = now;
        l.node = in->batch.origin;
        l.seq = in->batch.seq;
        l.index = i;
        l.table.p = (const uint8_t *)ch[i].table;
        l.table.len = strlen(ch[i].table);
        l.row.p = (const uint8_t *)ch[i].row_id;
        l.row.len = strlen(ch[i].row_id);
        l.field.p = (const uint8_t *)ch[i].col;
        l.field.len = strlen(ch[i].col);
        l.code = codes[i] < 0 ? codes[i] : CS_ERR_INVALID;
        l.reason.p = (const uint8_t *)reasons[i];
        l.reason.len = strlen(reasons[i]);
        if ((r = cs_audit_append(h->store, &l, NULL)) != 0)
            return r;
    }
    return 0;
}

/* Sends s the current tree head, with the consistency proof from the
   last one it has, if it checks them and has not seen this one. */
static void
s_send_tree(struct s_hub *h, struct s_sess *s, bool always)
{
    struct cs_msg_tree m;
    struct cs_sth head;

    if (!s->audit || cs_audit_head(h->store, &head) != 0)
        return;
    if (head.size == s->tree_sent && !always)
        return;
    memset(&m, 0, sizeof m);
    m.size = head.size;
    m.time_ms = head.time_ms;
    memcpy(m.root, head.root, sizeof m.root);
    memcpy(m.sig, head.sig, sizeof m.sig);
    if (s->tree_sent > 0 && s->tree_sent <= head.size) {
        if (cs_audit_consistency(h->store, s->tree_sent, head.size, &m.proof) !=
            0)
            return;
        m.from = s->tree_sent;
    }
    if (cs_msg_tree_encode(&h->w, &m) != 0) {
        cs_writer_reset(&h->w);
        return;
    }
    s_send(h, s);
    s->tree_sent = head.size;
}

/* Sends s the receipt of its batch seq: its leaf and inclusion proof in
   the head it has. */
static void
s_send_receipt(struct s_hub *h, struct s_sess *s, uint64_t seq)
{
    struct cs_msg_receipt m;
    uint8_t *leaf = NULL;
    size_t len;
    uint64_t index;

    if (!s->audit || cs_audit_batch_leaf(h->store, &s->node.reg.node, seq,
                                         &index, &leaf, &len) != 0)
        return;
    memset(&m, 0, sizeof m);
    m.leaf.p = leaf;
    m.leaf.len = len;
    m.index = index;
    m.size = s->tree_sent;
    if (index < m.size &&
        cs_audit_inclusion(h->store, index, m.size, &m.proof) == 0 &&
        cs_msg_receipt_encode(&h->w, &m) == 0)
        s_send(h, s);
    cs_writer_reset(&h->w);
    free(leaf);
}

/* Answers LOG_GET: the archive, made at the first request of the
   session, from offset. */
static void
s_send_log(struct s_hub *h, struct s_sess *s, uint64_t offset)
{
    struct cs_msg_log m;

    if (s->node.reg.role != CS_REGISTRY_AUDITOR &&
        s->node.reg.role != CS_REGISTRY_CENTRAL) {
        s_sess_drop(h, s, CS_ERR_PERM,
                    "only auditor and central nodes may fetch the audit log");
        return;
    }
    if (s->archive == NULL || offset == 0) {
        struct cs_writer w;
        free(s->archive);
        s->archive = NULL;
        cs_writer_init(&w, SIZE_MAX / 2);
        if (cs_audit_archive(h->store, h->deployment, cs_key_public(h->key),
                             &w) != 0 ||
            cs_writer_take(&w, &s->archive, &s->archive_len) != 0) {
            cs_writer_free(&w);
            s_sess_drop(h, s, CS_ERR_DB, "cannot read the audit log");
            return;
        }
        cs_log_info("node %s fetches the audit log (%zu bytes)",
                    s->node.reg.name, s->archive_len);
    }
    if (offset > s->archive_len)
        offset = s->archive_len;
    memset(&m, 0, sizeof m);
    m.offset = offset;
    m.total = s->archive_len;
    m.data.p = s->archive + offset;
    m.data.len = s->archive_len - offset < CS_CHUNK_DATA_MAX
                     ? s->archive_len - offset
                     : CS_CHUNK_DATA_MAX;
    if (cs_msg_log_encode(&h->w, &m) == 0)
        s_send(h, s);
    cs_writer_reset(&h->w);
}

/* Checks, applies and records one batch from s, in one transaction. */
static int
s_apply(struct s_hub *h, struct s_sess *s, struct cs_feedio_in *in,
        uint64_t env_len, char *why, size_t whylen)
{
    const struct cs_change *ch;
    struct cs_change *ok = NULL;
    struct cs_scope_refusal *sr = NULL;
    struct cs_msg_refusal *mf = NULL;
    int *codes = NULL;
    char(*reasons)[CS_SCOPE_REASON_MAX] = NULL;
    bool *bad = NULL;
    struct cs_batch_ref ref;
    struct cs_apply_stats st;
    size_t n, nok = 0, nsr = 0, nbad = 0;
    uint64_t now = cs_hlc_wall_ms(), lid;
    int r;

    memset(&ref, 0, sizeof ref);
    ref.origin = in->batch.origin;
    ref.seq = in->batch.seq;
    memcpy(ref.prev, in->batch.prev_hash, CS_HASH_BYTES);
    memcpy(ref.hash, in->batch.hash, CS_HASH_BYTES);
    ch = cs_feedio_changes(in, &n);
    if (in->duplicate)
        return cs_store_apply_batch(h->store, &ref, NULL, 0, NULL);
    bad = cs_xcalloc(n ? n : 1, sizeof *bad);
    reasons = cs_xcalloc(n ? n : 1, sizeof *reasons);
    sr = cs_xcalloc(n ? n : 1, sizeof *sr);
    ok = cs_xcalloc(n ? n : 1, sizeof *ok);
    mf = cs_xcalloc(n ? n : 1, sizeof *mf);
    codes = cs_xcalloc(n ? n : 1, sizeof *codes);
    /* What this replica cannot take at all, then what is out of scope. */
    for (size_t i = 0; i < n; i++) {
        int c = cs_store_change_check(h->store, &ch[i]);
        if (c == 0)
            continue;
        bad[i] = true;
        codes[i] = c;
        snprintf(reasons[i], sizeof reasons[i], "%s",
                 cs_store_errmsg(h->store)[0] ? cs_store_errmsg(h->store)
                                              : cs_strerror(c));
    }
    if ((r = cs_scope_check(h->store, &s->scope, ch, n, sr, &nsr)) != 0)
        goto out;
    for (size_t i = 0; i < nsr; i++) {
        size_t k = sr[i].index;
        if (bad[k])
            continue;
        bad[k] = true;
        codes[k] = sr[i].code;
        snprintf(reasons[k], sizeof reasons[k], "%s", sr[i].reason);
    }
    for (size_t i = 0; i < n; i++)
        if (!bad[i])
            ok[nok++] = ch[i];
    if ((r = cs_store_begin(h->store)) != 0)
        goto out;
    if ((r = cs_store_apply_batch(h->store, &ref, ok, nok, &st)) != 0 ||
        (r = cs_down_keep_batch(h->store, &ref.origin, ref.seq, ref.hash,
                                in->plain, in->plain_len, now)) != 0 ||
        (r = s_log_batch(h, in, ch, n, bad, codes, reasons, now)) != 0 ||
        (r = s_last_lid(h, &lid)) != 0)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        if (!bad[i])
            continue;
        if ((r = cs_down_refuse(h->store, &s->node.reg.node, &s->scope, ref.seq,
                                &ch[i], codes[i], reasons[i], now)) != 0)
            goto rollback;
    }
    if ((r = s_log_fixes(h, lid, now)) != 0 ||
        (r = cs_audit_sign(h->store, h->key, h->deployment, now, NULL)) != 0 ||
        (r = s_seen(h, s, ref.seq, env_len)) != 0)
        goto rollback;
    if ((r = cs_store_commit(h->store)) != 0)
        goto out; /* rolled back by cs_store_commit() */
    /* Durable: tell the node. */
    for (size_t i = 0; i < n; i++) {
        if (!bad[i])
            continue;
        cs_log_warn("refused from node %s, batch %" PRIu64 ": %s %s%s%s: %s",
                    s->node.reg.name, ref.seq, ch[i].table, ch[i].row_id,
                    ch[i].col[0] ? " " : "", ch[i].col, reasons[i]);
        mf[nbad].table.p = (const uint8_t *)ch[i].table;
        mf[nbad].table.len = strlen(ch[i].table);
        mf[nbad].row.p = (const uint8_t *)ch[i].row_id;
        mf[nbad].row.len = strlen(ch[i].row_id);
        mf[nbad].field.p = (const uint8_t *)ch[i].col;
        mf[nbad].field.len = strlen(ch[i].col);
        mf[nbad].code = codes[i];
        mf[nbad].reason.p = (const uint8_t *)reasons[i];
        mf[nbad].reason.len = strlen(reasons[i]);
        nbad++;
    }
    s->changes_in += nok;
    s->refused += nbad;
    if (nbad > 0)
        s_send_refused(h, s, &in->batch, mf, nbad);
    goto out;
rollback:
    snprintf(why, whylen, "%s", cs_store_errmsg(h->store));
    cs_store_rollback(h->store);
out:
    free(bad);
    free(reasons);
    free(sr);
    free(ok);
    free(mf);
    free(codes);
    return r;
}

/* A whole envelope arrived from s.  Returns 0 or why it was refused (the
   session is then ended). */
static int
s_upstream(struct s_hub *h, struct s_sess *s, const uint8_t *env, size_t len)
{
    struct cs_feedio_in in;
    uint8_t hash[CS_HASH_BYTES];
    char why[256] = "";
    uint64_t head;
    int r;

    r = cs_feedio_open(&in, h->key, h->deployment, env, len, s_lookup, h);
    if (r == 0 &&
        memcmp(in.batch.origin.b, s->node.reg.node.b, CS_NODE_ID_BYTES) != 0)
        r = CS_ERR_KEY; /* only its own batches */
    if (r == 0 &&
        (r = cs_store_head(h->store, &in.batch.origin, &head, hash)) == 0)
        r = cs_feedio_verify(&in, h->deployment, head, hash, NULL);
    if (r == 0)
        r = s_apply(h, s, &in, len, why, sizeof why);
    if (r != 0) {
        char text[CS_MESSAGE_TEXT_MAX];
        if (in.batch.seq > 0)
            snprintf(text, sizeof text, "batch %" PRIu64 " refused: %s%s%s",
                     in.batch.seq, cs_strerror(r), why[0] ? ": " : "", why);
        else
            snprintf(text, sizeof text, "an envelope refused: %s",
                     cs_strerror(r));
        cs_log_warn("node %s: %s", s->node.reg.name, text);
        cs_feedio_done(&in);
        s_sess_drop(h, s, r, text);
        return r;
    }
    if (!in.duplicate) {
        s->batches_in++;
        cs_log_debug("applied batch %" PRIu64 " of node %s", in.batch.seq,
                     s->node.reg.name);
    } else {
        s->duplicates++;
    }
    s_send_tree(h, s, false);
    s_send_receipt(h, s, in.batch.seq);
    cs_feedio_done(&in);
    s_send_ack(h, s);
    return 0;
}

/* ---- messages ---------------------------------------------------------- */

static void
s_on_hello(struct s_hub *h, struct s_sess *s, const struct cs_srv_msg *raw,
           const struct cs_msg_hello *m)
{
    struct cs_msg_iter it;
    struct cs_msg_head hd, v[2];
    struct cs_msg_hello me;
    uint64_t down_have = 0, down_head;
    uint8_t hash[CS_HASH_BYTES];
    size_t n;
    static const uint8_t unknown[CS_DEPLOYMENT_BYTES];

    /* All zeros: a new node that learns the deployment from our HELLO. */
    if (memcmp(m->deployment, h->deployment, CS_DEPLOYMENT_BYTES) != 0 &&
        memcmp(m->deployment, unknown, CS_DEPLOYMENT_BYTES) != 0) {
        s_send_error_to(h, raw->routing_id, raw->routing_id_len,
                        CS_ERR_DEPLOYMENT,
                        "this node belongs to another deployment");
        cs_log_warn("node %s: another deployment", s->node.reg.name);
        return;
    }
    if (m->schema != CS_STORE_SCHEMA_VERSION) {
        s_send_error_to(h, raw->routing_id, raw->routing_id_len, CS_ERR_SCHEMA,
                        "the node's schema version differs "
                        "from the server's");
        cs_log_warn("node %s: schema %" PRIu64 ", the server's is %d",
                    s->node.reg.name, m->schema, CS_STORE_SCHEMA_VERSION);
        return;
    }
    if (memcmp(m->node.b, s->node.reg.node.b, CS_NODE_ID_BYTES) != 0) {
        s_send_error_to(h, raw->routing_id, raw->routing_id_len, CS_ERR_KEY,
                        "HELLO names another node than the key");
        return;
    }
    cs_msg_iter_init(&it, &m->heads);
    while (cs_msg_iter_pull_head(&it, &hd) == 0)
        if (memcmp(hd.origin.b, h->self.b, CS_NODE_ID_BYTES) == 0)
            down_have = hd.seq;
    if (cs_down_head(h->store, &s->node.reg.node, &down_head, hash) != 0)
        return;
    if (down_have > down_head) {
        s_send_error_to(h, raw->routing_id, raw->routing_id_len,
                        CS_ERR_SEQUENCE,
                        "this node holds batches of the server that the "
                        "server does not: was the server restored from a "
                        "backup?");
        cs_log_err(CS_ERR_SEQUENCE,
                   "node %s holds batch %" PRIu64
                   " of ours; we signed %" PRIu64,
                   s->node.reg.name, down_have, down_head);
        return;
    }
    /* Answer first: a HELLO still queued from a connection that died
       cannot be answered, and must not take the session over. */
    memset(&me, 0, sizeof me);
    me.major = CS_PROTO_MAJOR;
    me.minor = CS_PROTO_MINOR;
    me.schema = CS_STORE_SCHEMA_VERSION;
    memcpy(me.deployment, h->deployment, CS_DEPLOYMENT_BYTES);
    me.node = h->self;
    if (s_heads(h, s, v, &n, true) != 0 ||
        cs_msg_hello_encode(&h->w, &me, v, n) != 0) {
        cs_writer_reset(&h->w);
        return;
    }
    if (h->tr != NULL &&
        cs_srv_transport_send(h->tr, raw->routing_id, raw->routing_id_len,
                              cs_writer_data(&h->w),
                              cs_writer_len(&h->w)) != 0) {
        cs_writer_reset(&h->w);
        cs_log_debug("node %s: a HELLO from a connection that is gone",
                     s->node.reg.name);
        return;
    }
    cs_writer_reset(&h->w);
    memcpy(s->rid, raw->routing_id, raw->routing_id_len);
    s->rid_len = raw->routing_id_len;
    s->live = true;
    s->status_wanted = false;
    s->repaired = false;
    s->batches_in = s->batches_out = s->changes_in = s->refused = 0;
    s->bytes_in = s->bytes_out = 0;
    cs_flow_out_session(&s->out, down_have);
    if (s_seen(h, s, 0, 0) != 0)
        cs_log_warn("could not record when node %s was seen", s->node.reg.name);
    if (cs_down_acked(h->store, &s->node.reg.node, down_have) != 0)
        cs_log_warn("could not forget acknowledged batches of node %s",
                    s->node.reg.name);
    cs_log_info("session: node %s (%s%s%s) connected; it holds %" PRIu64
                " of our %" PRIu64 " batches for it",
                s->node.reg.name, cs_registry_role_name(s->node.reg.role),
                s->node.reg.office[0] ? " " : "", s->node.reg.office, down_have,
                down_head);
    s_send_ack(h, s);
    s_send_credit(h, s, CS_FLOW_WINDOW_BYTES, CS_FLOW_WINDOW_BATCHES);
}

static void
s_on_message(struct s_hub *h, struct s_sess *s, const struct cs_srv_msg *raw,
             const struct cs_msg *m)
{
    struct cs_msg_iter it;
    struct cs_msg_head hd;
    struct cs_msg_credit grant;
    uint8_t *env = NULL;
    size_t len = 0;

    if (m->type == CS_MSG_HELLO) {
        s_on_hello(h, s, raw, &m->u.hello);
        s_pump(h, s);
        return;
    }
    if (!s->live) {
        /* From before its HELLO (queued across a reconnection): the node
           starts again with HELLO. */
        cs_log_debug("node %s: message %d outside a session", s->node.reg.name,
                     (int)m->type);
        return;
    }
    /* A session is bound to the connection of its HELLO: what comes from
       another connection of the node (one that died, its messages still
       queued) is not part of it. */
    if (raw->routing_id_len != s->rid_len ||
        memcmp(raw->routing_id, s->rid, s->rid_len) != 0) {
        cs_log_debug("node %s: message %d from an older connection",
                     s->node.reg.name, (int)m->type);
        return;
    }
    switch (m->type) {
    case CS_MSG_BATCH:
    case CS_MSG_CHUNK:
        s->bytes_in += raw->len;
        if (cs_flow_in_push(&s->in, m, &env, &len, &grant) != 0)
            return;
        if (cs_flow_in_resume_pending(&s->in)) {
            s_send_ack(h, s); /* a chunk was dropped: where to go on */
            cs_flow_in_resume_sent(&s->in);
        }
        if (env != NULL) {
            (void)s_upstream(h, s, env, len);
            free(env);
            if (!s->live)
                return;
        }
        s_send_credit(h, s, grant.bytes, grant.batches);
        if (env != NULL)
            s_pump_all(h);
        break;
    case CS_MSG_ACK:
        cs_msg_iter_init(&it, &m->u.ack.heads);
        while (cs_msg_iter_pull_head(&it, &hd) == 0) {
            uint8_t hash[CS_HASH_BYTES];
            uint64_t signed_seq;
            if (memcmp(hd.origin.b, h->self.b, CS_NODE_ID_BYTES) != 0)
                continue;
            if (cs_down_head(h->store, &s->node.reg.node, &signed_seq, hash) !=
                    0 ||
                hd.seq > signed_seq) {
                cs_log_warn("node %s acknowledged batch %" PRIu64
                            ", which the server never signed",
                            s->node.reg.name, hd.seq);
                continue;
            }
            cs_flow_out_ack(&s->out, hd.seq);
            if (cs_down_acked(h->store, &s->node.reg.node, hd.seq) != 0)
                cs_log_warn("could not forget acknowledged batches");
        }
        if (m->u.ack.has_resume)
            cs_flow_out_resume(&s->out, &m->u.ack.envelope, m->u.ack.offset);
        s_pump(h, s);
        s_status(h, s);
        break;
    case CS_MSG_SINCE:
        s->audit = true;
        s->tree_sent = m->u.since.size;
        s_send_tree(h, s, true);
        break;
    case CS_MSG_LOG_GET:
        s_send_log(h, s, m->u.log_get.offset);
        break;
    case CS_MSG_CREDIT:
        cs_flow_out_credit(&s->out, m->u.credit.bytes, m->u.credit.batches);
        s_pump(h, s);
        break;
    case CS_MSG_STATUS:
        s->status_wanted = true;
        memcpy(s->peer_digest, m->u.status.digest, CS_HASH_BYTES);
        s->peer_pending = m->u.status.pending;
        s->peer_feed = s->peer_down = 0;
        cs_msg_iter_init(&it, &m->u.status.heads);
        while (cs_msg_iter_pull_head(&it, &hd) == 0) {
            if (memcmp(hd.origin.b, h->self.b, CS_NODE_ID_BYTES) == 0)
                s->peer_down = hd.seq;
            else if (memcmp(hd.origin.b, s->node.reg.node.b,
                            CS_NODE_ID_BYTES) == 0)
                s->peer_feed = hd.seq;
        }
        s_pump(h, s);
        s_status(h, s);
        break;
    case CS_MSG_PING: {
        struct cs_msg_ping p = m->u.ping;
        if (cs_msg_pong_encode(&h->w, &p) == 0)
            s_send(h, s);
        cs_writer_reset(&h->w);
        break;
    }
    case CS_MSG_ERROR:
        cs_log_warn("node %s ended its session: %s (%.*s)", s->node.reg.name,
                    cs_strerror(m->u.error.code), (int)m->u.error.message.len,
                    (const char *)m->u.error.message.p);
        s->live = false;
        break;
    default:
        break; /* PONG, and what a server is not sent */
    }
}

/* Reads and handles one message. */
static void
s_receive(struct s_hub *h)
{
    struct cs_srv_msg *raw = h->m;
    struct s_node n;
    struct s_sess *s;
    struct cs_msg m;
    int r = cs_srv_transport_recv(h->tr, raw);

    if (r == CS_SRV_TRANSPORT_ERR_EMPTY)
        return;
    if (r == CS_SRV_TRANSPORT_ERR_REVOKED) {
        s_send_error_to(h, raw->routing_id, raw->routing_id_len, CS_ERR_REVOKED,
                        "this node was revoked");
        if ((s = s_sess_find(h, raw->node_hex)) != NULL) {
            cs_log_warn("node %s was revoked: ending its session",
                        s->node.reg.name);
            s->live = false;
            s_sess_drop(h, s, CS_ERR_REVOKED, "this node was revoked");
        }
        return;
    }
    if (r != 0)
        return;
    if (!s_node_get(h, raw->node_hex, &n))
        return; /* cannot happen: ZAP admitted it */
    if ((r = cs_msg_decode(raw->data, raw->len, &m)) != 0) {
        char text[CS_MSG_VERSION_TEXT_MAX];
        if (r == CS_ERR_VERSION &&
            cs_msg_check_version(m.u.hello.major, m.u.hello.minor, text,
                                 sizeof text) != 0) {
            s_send_error_to(h, raw->routing_id, raw->routing_id_len, r, text);
            cs_log_warn("node %s: %s", n.reg.name, text);
            return;
        }
        cs_log_warn("node %s sent a malformed message: %s", n.reg.name,
                    cs_strerror(r));
        s_send_error_to(h, raw->routing_id, raw->routing_id_len, r,
                        "malformed message");
        return;
    }
    s = s_sess_get(h, &n);
    s_on_message(h, s, raw, &m);
}

/* ---- the hub ------------------------------------------------------------- */

/* Sets h up over the open server directory d (for serving, or for a
   bundle), with the server's tables and the registry read.  h must be
   s_hub_close()d whatever this returns. */
/* Signs a head over leaves appended without one (enrolments and
   revocations made by the admin commands). */
static int
s_sign_pending(struct s_hub *h)
{
    struct cs_sth head;
    uint64_t n;
    int r;

    /* Read first: a write transaction only when there is something to
       sign (this runs every second). */
    if ((r = cs_audit_head(h->store, &head)) != 0 ||
        (r = cs_audit_size(h->store, &n)) != 0 || n == head.size)
        return r;
    if ((r = cs_store_begin(h->store)) != 0)
        return r;
    if ((r = cs_audit_sign(h->store, h->key, h->deployment, cs_hlc_wall_ms(),
                           NULL)) != 0) {
        cs_store_rollback(h->store);
        return r;
    }
    return cs_store_commit(h->store);
}

static int
s_hub_open(struct s_hub *h, struct cs_srvdir *d, const struct cs_key *k)
{
    int r;

    memset(h, 0, sizeof *h);
    h->dir = d;
    h->store = cs_srvdir_store(d);
    h->reg = cs_srvdir_registry(d);
    h->key = k;
    h->deployment = cs_srvdir_deployment(d);
    h->self = *cs_srvdir_node(d);
    pthread_mutex_init(&h->lock, NULL);
    cs_writer_init(&h->w, CS_FRAME_MAX);
    if ((r = cs_down_install(h->store)) != 0 ||
        (r = cs_audit_install(h->store)) != 0 || (r = s_sign_pending(h)) != 0)
        return r;
    return s_reload(h);
}

/* Frees what s_hub_open() and the sessions hold. */
static void
s_hub_close(struct s_hub *h)
{
    for (size_t i = 0; i < h->nsess; i++)
        s_sess_free(h->sess[i]);
    free(h->sess);
    free(h->nodes);
    cs_writer_free(&h->w);
    pthread_mutex_destroy(&h->lock);
}

/* ---- the loop ---------------------------------------------------------- */

int
cs_hub_run(struct cs_srvdir *d, const struct cs_key *k, const char *endpoint,
           volatile sig_atomic_t *stop)
{
    struct cs_srv_transport_auth auth;
    struct s_hub h;
    uint64_t next_reload = 0;
    int r;

    r = s_hub_open(&h, d, k);
    h.m = cs_xmalloc(sizeof *h.m);
    if (r != 0)
        goto out;
    auth.allow = s_allow;
    auth.still_allowed = s_still_allowed;
    auth.arg = &h;
    if ((r = cs_srv_transport_new(endpoint, k, &auth, &h.tr)) != 0)
        goto out;
    cs_log_info("serving on %s (%zu nodes enrolled)",
                cs_srv_transport_endpoint(h.tr), h.nnodes);
    while (!*stop) {
        uint64_t now = cs_hlc_wall_ms();
        if (now >= next_reload) {
            if ((r = s_reload(&h)) != 0)
                cs_log_err(r, "cannot re-read the registry");
            if ((r = s_sign_pending(&h)) != 0)
                cs_log_err(r, "cannot sign the audit log's tree head");
            next_reload = now + CS_HUB_RELOAD_MS;
        }
        if (!cs_srv_transport_poll(h.tr, CS_HUB_POLL_MS))
            continue;
        for (int i = 0; i < 256 && !*stop; i++) {
            if (!cs_srv_transport_poll(h.tr, 0))
                break;
            s_receive(&h);
        }
    }
    cs_log_info("stopping");
    for (size_t i = 0; i < h.nsess; i++)
        if (h.sess[i]->bytes_out_unrecorded > 0 &&
            s_seen(&h, h.sess[i], 0, 0) != 0)
            cs_log_warn("could not record the traffic of node %s",
                        h.sess[i]->node.reg.name);
    r = 0;
out:
    cs_srv_transport_destroy(&h.tr);
    free(h.m);
    s_hub_close(&h);
    return r;
}

/* ---- bundles ------------------------------------------------------------- */

int
cs_hub_import(struct cs_srvdir *d, const struct cs_key *k,
              const struct cs_bundle *bundle, struct cs_hub_import_stats *st)
{
    struct cs_bundle b = *bundle;
    struct cs_view env;
    struct s_node n;
    struct s_sess *s;
    struct s_hub h;
    char hex[CS_NODE_ID_HEX_LEN + 1];
    int r;

    memset(st, 0, sizeof *st);
    if ((r = s_hub_open(&h, d, k)) != 0)
        goto out;
    cs_node_id_hex(&b.head.sender, hex);
    if (!s_node_get(&h, hex, &n)) {
        r = CS_ERR_NOT_FOUND;
        goto out;
    }
    if (n.reg.revoked) {
        r = CS_ERR_REVOKED;
        goto out;
    }
    snprintf(st->node, sizeof st->node, "%s", n.reg.name);
    if (!cs_bundle_verify(&b, &n.reg.key)) {
        r = CS_ERR_SIGNATURE; /* the header is not the node's word */
        goto out;
    }
    /* Every envelope must open before any is applied. */
    while (cs_bundle_next(&b, &env) == 0) {
        struct cs_feedio_in in;
        r = cs_feedio_open(&in, k, h.deployment, env.p, env.len, s_lookup, &h);
        if (r == 0 &&
            memcmp(in.batch.origin.b, n.reg.node.b, CS_NODE_ID_BYTES) != 0)
            r = CS_ERR_KEY;
        cs_feedio_done(&in);
        if (r != 0) {
            st->bad_envelope = b.taken;
            goto out;
        }
    }
    b = *bundle;
    s = s_sess_get(&h, &n);
    while (cs_bundle_next(&b, &env) == 0) {
        if ((r = s_upstream(&h, s, env.p, env.len)) != 0)
            goto out;
    }
    if (b.head.acked > 0) {
        uint8_t hash[CS_HASH_BYTES];
        uint64_t signed_seq;
        if ((r = cs_down_head(h.store, &n.reg.node, &signed_seq, hash)) != 0)
            goto out;
        if (b.head.acked <= signed_seq &&
            (r = cs_down_acked(h.store, &n.reg.node, b.head.acked)) != 0)
            goto out;
    }
    st->batches = s->batches_in;
    st->duplicates = s->duplicates;
    st->changes = s->changes_in;
    st->refused = s->refused;
out:
    s_hub_close(&h);
    return r;
}
