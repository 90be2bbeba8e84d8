/*  client/sync.c - the office's side of a sync session; see sync.h.  */
#include "prelude.h"

#include "auditlog.h"
#include "envelope.h"
#include "feed.h"
#include "flow.h"
#include "hlc.h"
#include "log.h"
#include "mem.h"
#include "merkle.h"
#include "msg.h"
#include "out.h"
#include "sync.h"
#include "transport.h"

#define S_HEX_DEPLOYMENT (2 * CS_DEPLOYMENT_BYTES)

struct s_sync {
    struct cs_nodedir *dir;
    struct cs_store *store;
    const struct cs_key *key;
    const struct cs_sync_opts *opts;
    struct cs_sync_result *res;
    const char *endpoint;
    struct cs_pubkey server_pk;
    struct cs_node_id server;
    struct cs_node_id self;
    uint8_t deployment[CS_DEPLOYMENT_BYTES];
    bool have_deployment;
    struct cs_cli_transport *tr;
    struct cs_writer w;
    uint8_t frame[CS_FRAME_MAX];
    struct cs_flow_out out; /* our feed to the server */
    struct cs_flow_in in;   /* the server's feed to us */
    bool connected;         /* a handshake succeeded, no disconnect since */
    bool live;              /* the server's HELLO arrived this session */
    bool status_sent;       /* STATUS sent since the last change of state */
    bool hello_seen;        /* a HELLO of the server came this run */
    uint64_t down_acked_at; /* ms we acknowledged a batch of the server's */
    uint64_t down_turn_ms;  /* then until its next batch came, last time */
    uint64_t feed_head;     /* our last sealed batch */
    uint64_t last_progress; /* ms */
    uint64_t started_ms;    /* when the run started */
    uint64_t retry_at;      /* ms to start a session again, or 0 */
    uint64_t hello_at;      /* ms our last HELLO went out */
    uint64_t rx_at;         /* ms the server's last message came */
    bool quiet;             /* in step, nothing moved since */
    bool rebuilt;           /* the replica was rebuilt this run */
    uint64_t tree_size;     /* the audit tree head we keep: size ... */
    uint8_t tree_root[CS_MERKLE_HASH_BYTES]; /* ... and root */
    struct cs_writer log;                    /* fetch_log: the archive so far */
    bool log_asked;                          /* a LOG_GET is unanswered */
    bool log_done;                           /* the whole archive is here */
    uint64_t handshake_failures;             /* neither refused nor done */
    bool ever_connected; /* a handshake succeeded this run */
};

/* ---- small helpers ------------------------------------------------------ */

static int
s_meta_u64(struct cs_store *s, const char *key, uint64_t *v)
{
    char *text = NULL, *end = NULL;
    int r = cs_store_meta_get(s, key, &text);

    *v = 0;
    if (r == 0 && text != NULL) {
        unsigned long long n = strtoull(text, &end, 10);
        if (end != NULL && *end == '\0')
            *v = (uint64_t)n;
    }
    free(text);
    return r;
}

static int
s_meta_set_u64(struct cs_store *s, const char *key, uint64_t v)
{
    char text[24];

    snprintf(text, sizeof text, "%" PRIu64, v);
    return cs_store_meta_set(s, key, text);
}

/* Writes ms as UTC text, as `status` shows it. */
static int
s_meta_set_time(struct cs_store *s, const char *key, uint64_t ms)
{
    char text[CS_HLC_TEXT_MAX];
    struct cs_hlc h;

    h.t = ms << 16;
    if (cs_hlc_format(h, text, sizeof text) != 0)
        return CS_ERR_INVALID;
    return cs_store_meta_set(s, key, text);
}

static int
s_meta_add_u64(struct cs_store *s, const char *key, uint64_t add)
{
    uint64_t v;
    int r;

    if (add == 0)
        return 0;
    if ((r = s_meta_u64(s, key, &v)) != 0)
        return r;
    return s_meta_set_u64(s, key, v + add);
}

/* Sends the frame in y->w. */
static int
s_send(struct s_sync *y)
{
    int r = cs_cli_transport_send(y->tr, cs_writer_data(&y->w),
                                  cs_writer_len(&y->w), CS_SYNC_TICK_MS);
    cs_writer_reset(&y->w);
    if (r != 0)
        cs_log_info("could not send to the server: %s", cs_strerror(r));
    return r;
}

/* Our heads: our own feed, and the server's feed to us. */
static int
s_heads(struct s_sync *y, struct cs_msg_head v[2], size_t *n, bool own)
{
    struct cs_msg_head a, b;
    uint8_t hash[CS_HASH_BYTES];
    uint64_t seq;
    int r;

    *n = 0;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (own) {
        if ((r = cs_store_feed_head(y->store, &seq, hash)) != 0)
            return r;
        if (seq > 0) {
            a.origin = y->self;
            a.seq = seq;
            memcpy(a.hash, hash, CS_HASH_BYTES);
        }
    }
    if ((r = cs_store_head(y->store, &y->server, &seq, hash)) != 0)
        return r;
    if (seq > 0) {
        b.origin = y->server;
        b.seq = seq;
        memcpy(b.hash, hash, CS_HASH_BYTES);
    }
    if (a.seq > 0 && b.seq > 0 &&
        memcmp(a.origin.b, b.origin.b, CS_NODE_ID_BYTES) > 0) {
        struct cs_msg_head t = a;
        a = b;
        b = t;
    }
    if (a.seq > 0)
        v[(*n)++] = a;
    if (b.seq > 0)
        v[(*n)++] = b;
    return 0;
}

/* Sends ACK: our head of the server's feed and our resume point.
   Returns 0, 1 when the link would not take it, or a store error
   (printed). */
static int
s_send_ack(struct s_sync *y)
{
    struct cs_msg_head v[2];
    struct cs_msg_ack a;
    size_t n;
    int r;

    memset(&a, 0, sizeof a);
    cs_flow_in_resume(&y->in, &a);
    if ((r = s_heads(y, v, &n, false)) != 0)
        return cs_out_store_error(y->store, r, "reading the heads");
    if (cs_msg_ack_encode(&y->w, &a, v, n) != 0) {
        cs_writer_reset(&y->w);
        return 1;
    }
    return s_send(y) != 0 ? 1 : 0;
}

static void
s_progress(struct s_sync *y, bool last)
{
    uint64_t now = cs_hlc_wall_ms(), elapsed;

    if (!y->opts->progress ||
        (!last && now - y->last_progress < CS_SYNC_PROGRESS_MS))
        return;
    y->last_progress = now;
    elapsed = now > y->started_ms ? now - y->started_ms : 1;
    fprintf(stderr,
            "\rsent %" PRIu64 " batches (%" PRIu64 " kB), received %" PRIu64
            " batches (%" PRIu64 " kB), %.1f kB/s%s",
            y->res->batches_sent, (y->res->bytes_sent + 1023) / 1024,
            y->res->batches_received, (y->res->bytes_received + 1023) / 1024,
            (double)(y->res->bytes_sent + y->res->bytes_received) /
                (double)elapsed * 1000.0 / 1024.0,
            last ? "\n" : "   ");
    fflush(stderr);
}

/* ---- sending ------------------------------------------------------------ */

/* Seals local changes into batches, if the deployment is known. */
static int
s_seal(struct s_sync *y)
{
    struct cs_feed_stats st;
    uint8_t hash[CS_HASH_BYTES];
    int r;

    if (!y->have_deployment)
        return 0;
    if ((r = cs_feed_seal(y->store, y->key, y->deployment, 0, &st)) != 0)
        return cs_out_store_error(y->store, r, "sealing local changes");
    if (st.batches > 0) {
        y->status_sent = false;
        y->quiet = false;
    }
    return cs_store_feed_head(y->store, &y->feed_head, hash);
}

/* Sends what the server's credit allows of our feed. */
static int
s_pump(struct s_sync *y)
{
    while (y->live && y->connected) {
        uint64_t seq = cs_flow_out_wants(&y->out);
        bool sent = false;
        int r;

        if (seq != 0 && seq <= y->feed_head) {
            uint8_t *batch = NULL;
            size_t len = 0;
            struct cs_writer env;

            if ((r = cs_store_feed_get(y->store, seq, &batch, &len)) != 0)
                return cs_out_store_error(y->store, r, "reading a batch");
            cs_writer_init(&env, CS_ENVELOPE_MAX);
            r = cs_envelope_seal(y->key, &y->server_pk, y->deployment,
                                 CS_ENVELOPE_KIND_BATCH, batch, len, &env);
            free(batch);
            if (r != 0) {
                cs_writer_free(&env);
                cs_out_error("cannot seal batch %" PRIu64 ": %s", seq,
                             cs_strerror(r));
                return r;
            }
            len = cs_writer_len(&env);
            batch = cs_xmalloc(len);
            memcpy(batch, cs_writer_data(&env), len);
            cs_writer_free(&env);
            cs_flow_out_load(&y->out, seq, batch, len);
        }
        if ((r = cs_flow_out_next(&y->out, &y->w, &sent)) != 0)
            return r;
        if (!sent)
            return 0;
        y->res->bytes_sent = y->out.bytes_sent;
        y->res->bytes_resent = y->out.bytes_resent;
        if (s_send(y) != 0)
            return 0; /* the link is down: the next session resends */
        s_progress(y, false);
    }
    return 0;
}

/* Returns how many ms to wait before saying STATUS, 0 for none.  While
   the server streams its feed we are idle between two of its batches
   (it builds the next one when our ACK gives it credit), yet not done:
   a STATUS then costs a digest of the whole replica per batch (a first
   sync of 50,000 changes took 27 digests), and the server would not
   answer it.  So after acknowledging one of its batches we wait twice
   the server's last turnaround (our ACK to its next batch), at least
   CS_SYNC_DOWN_QUIET_MS. */
static uint64_t
s_status_wait_ms(const struct s_sync *y)
{
    uint64_t now = cs_hlc_wall_ms(), quiet, since;

    if (y->down_acked_at == 0)
        return 0;
    quiet = 2 * y->down_turn_ms;
    if (quiet < CS_SYNC_DOWN_QUIET_MS)
        quiet = CS_SYNC_DOWN_QUIET_MS;
    if (quiet > CS_SYNC_TICK_MS * 4)
        quiet = CS_SYNC_TICK_MS * 4;
    since = now > y->down_acked_at ? now - y->down_acked_at : 0;
    return since >= quiet ? 0 : quiet - since;
}

/* Says STATUS when nothing is left to send or to receive. */
static int
s_maybe_status(struct s_sync *y)
{
    struct cs_msg_head v[2];
    struct cs_msg_status st;
    struct cs_store_status ss;
    uint64_t rows;
    size_t n;
    int r;

    if (!y->live || !y->connected || y->status_sent ||
        !cs_flow_out_idle(&y->out, y->feed_head) || cs_flow_in_busy(&y->in))
        return 0;
    if (s_status_wait_ms(y) > 0)
        return 0;
    if ((r = cs_store_status(y->store, &ss)) != 0)
        return cs_out_store_error(y->store, r, "reading the status");
    if (ss.pending > 0) {
        /* Edited meanwhile: send that first. */
        if ((r = s_seal(y)) != 0)
            return r;
        return s_pump(y);
    }
    memset(&st, 0, sizeof st);
    if ((r = cs_store_digest(y->store, NULL, st.digest, &rows)) != 0 ||
        (r = s_heads(y, v, &n, true)) != 0)
        return cs_out_store_error(y->store, r, "computing the digest");
    if ((r = cs_msg_status_encode(&y->w, &st, v, n)) != 0)
        return r;
    if (s_send(y) == 0)
        y->status_sent = true;
    return 0;
}

/* Starts a session: HELLO, ACK with our resume point, CREDIT. */
static int
s_start(struct s_sync *y)
{
    struct cs_msg_head v[2];
    struct cs_msg_hello h;
    struct cs_msg_credit c;
    size_t n;
    int r;

    y->live = false;
    y->status_sent = false;
    y->quiet = false;
    y->res->sessions++;
    memset(&h, 0, sizeof h);
    h.major = CS_PROTO_MAJOR;
    h.minor = CS_PROTO_MINOR;
    h.schema = CS_STORE_SCHEMA_VERSION;
    if (y->have_deployment)
        memcpy(h.deployment, y->deployment, CS_DEPLOYMENT_BYTES);
    h.node = y->self;
    if ((r = s_heads(y, v, &n, true)) != 0)
        return cs_out_store_error(y->store, r, "reading the heads");
    y->retry_at = 0;
    y->hello_at = y->rx_at = cs_hlc_wall_ms();
    y->down_acked_at = y->down_turn_ms = 0;
    if (cs_msg_hello_encode(&y->w, &h, v, n) != 0 || s_send(y) != 0) {
        y->retry_at = y->hello_at + CS_SYNC_TICK_MS * 4; /* try again */
        return 0;
    }
    if ((r = s_send_ack(y)) != 0)
        return r < 0 ? r : 0;
    {
        struct cs_msg_since since = {y->tree_size};
        if (cs_msg_since_encode(&y->w, &since) == 0)
            (void)s_send(y);
        cs_writer_reset(&y->w);
    }
    y->log_asked = false;
    c.bytes = CS_FLOW_WINDOW_BYTES;
    c.batches = CS_FLOW_WINDOW_BATCHES;
    if (cs_msg_credit_encode(&y->w, &c) == 0)
        (void)s_send(y);
    cs_writer_reset(&y->w);
    cs_log_info("session started with %s", y->endpoint);
    return 0;
}

/* ---- receiving ---------------------------------------------------------- */

static int
s_lookup(void *arg, const struct cs_node_id *node, struct cs_pubkey *pk)
{
    struct s_sync *y = arg;

    if (memcmp(node->b, y->server.b, CS_NODE_ID_BYTES) != 0)
        return CS_ERR_NOT_FOUND;
    *pk = y->server_pk;
    return 0;
}

static int
s_on_hello(struct s_sync *y, const struct cs_msg_hello *m)
{
    struct cs_msg_iter it;
    struct cs_msg_head hd;
    uint64_t acked = 0, server_head = 0;
    int r;

    if (memcmp(m->node.b, y->server.b, CS_NODE_ID_BYTES) != 0) {
        cs_out_error("the server at %s is not the one this node trusts",
                     y->endpoint);
        return CS_ERR_KEY;
    }
    if (!y->have_deployment) {
        memcpy(y->deployment, m->deployment, CS_DEPLOYMENT_BYTES);
        if ((r = cs_sync_set_deployment(y->store, y->deployment)) != 0)
            return cs_out_store_error(y->store, r, "recording the deployment");
        y->have_deployment = true;
    } else if (memcmp(y->deployment, m->deployment, CS_DEPLOYMENT_BYTES) != 0) {
        cs_out_error("the server belongs to another deployment than this "
                     "node");
        return CS_ERR_DEPLOYMENT;
    }
    if ((r = s_seal(y)) != 0)
        return r;
    cs_msg_iter_init(&it, &m->heads);
    while (cs_msg_iter_pull_head(&it, &hd) == 0) {
        if (memcmp(hd.origin.b, y->self.b, CS_NODE_ID_BYTES) == 0)
            acked = hd.seq;
        else if (memcmp(hd.origin.b, y->server.b, CS_NODE_ID_BYTES) == 0)
            server_head = hd.seq;
    }
    {
        uint8_t hash[CS_HASH_BYTES];
        uint64_t mine;
        if ((r = cs_store_head(y->store, &y->server, &mine, hash)) != 0)
            return cs_out_store_error(y->store, r, "reading the heads");
        if (server_head <= mine)
            cs_flow_in_reset(&y->in); /* a half envelope came another way */
    }
    if (acked > y->feed_head) {
        cs_out_error("the server holds batch %" PRIu64 " of this node, but "
                     "this replica has only %" PRIu64
                     ": was it restored from an old backup?",
                     acked, y->feed_head);
        return CS_ERR_CHAIN;
    }
    /* A batch of this run whose ACK was lost with the link shows here,
       in the next session's HELLO: it was sent all the same.  (The first
       HELLO of a run reports what earlier runs sent.) */
    if (y->hello_seen && acked > y->out.acked)
        y->res->batches_sent += acked - y->out.acked;
    y->hello_seen = true;
    cs_flow_out_session(&y->out, acked);
    y->live = true;
    return 0;
}

/* A whole envelope from the server. */
static int
s_downstream(struct s_sync *y, const uint8_t *env, size_t len)
{
    struct cs_apply_stats st;
    int r;

    r = cs_feed_accept(y->store, y->key, y->deployment, env, len, &y->server,
                       s_lookup, y, &st);
    if (r != 0) {
        cs_out_error("cannot apply a batch from the server: %s%s%s",
                     cs_strerror(r), cs_store_errmsg(y->store)[0] ? ": " : "",
                     cs_store_errmsg(y->store));
        return r;
    }
    y->res->batches_received++;
    y->res->changes_received += st.received;
    y->status_sent = false;
    y->quiet = false;
    if (y->down_acked_at != 0)
        y->down_turn_ms =
            y->rx_at > y->down_acked_at ? y->rx_at - y->down_acked_at : 0;
    r = s_send_ack(y);
    y->down_acked_at = cs_hlc_wall_ms();
    return r < 0 ? r : 0;
}

static void
s_on_refused(struct s_sync *y, const struct cs_msg_refused *m)
{
    struct cs_msg_iter it;
    struct cs_msg_refusal f;

    cs_msg_iter_init(&it, &m->refusals);
    while (cs_msg_iter_pull_refusal(&it, &f) == 0) {
        y->res->refused++;
        fprintf(stderr,
                "cigsync: warning: the server refused a change to %.*s "
                "%.*s%s%.*s: %.*s (it sends the authoritative value back)\n",
                (int)f.table.len, (const char *)f.table.p, (int)f.row.len,
                (const char *)f.row.p, f.field.len ? " " : "", (int)f.field.len,
                (const char *)f.field.p, (int)f.reason.len,
                (const char *)f.reason.p);
    }
}

static int
s_on_status(struct s_sync *y, const struct cs_msg_status *m)
{
    struct cs_msg_iter it;
    struct cs_msg_head hd;
    uint8_t digest[CS_HASH_BYTES], hash[CS_HASH_BYTES];
    uint64_t has_ours = 0, down = 0, mine, rows;
    int r;

    cs_msg_iter_init(&it, &m->heads);
    while (cs_msg_iter_pull_head(&it, &hd) == 0) {
        if (memcmp(hd.origin.b, y->self.b, CS_NODE_ID_BYTES) == 0)
            has_ours = hd.seq;
        else if (memcmp(hd.origin.b, y->server.b, CS_NODE_ID_BYTES) == 0)
            down = hd.seq;
    }
    if ((r = cs_store_head(y->store, &y->server, &mine, hash)) != 0)
        return cs_out_store_error(y->store, r, "reading the heads");
    if (has_ours != y->feed_head || down != mine)
        return 0; /* more is on its way */
    if ((r = cs_store_digest(y->store, NULL, digest, &rows)) != 0)
        return cs_out_store_error(y->store, r, "computing the digest");
    if (sodium_memcmp(digest, m->digest, CS_HASH_BYTES) != 0 && !y->rebuilt) {
        /* The server has sent us everything again: what still differs is
           here.  Rebuild the rows from the log and compare once more. */
        uint64_t n;
        y->rebuilt = true;
        cs_log_warn("this replica's content differs from the server's: "
                    "rebuilding its rows from its log");
        if ((r = cs_store_rebuild(y->store, &n)) != 0)
            return cs_out_store_error(y->store, r, "rebuilding the rows");
        y->status_sent = false;
        y->quiet = false;
        return 0;
    }
    if (sodium_memcmp(digest, m->digest, CS_HASH_BYTES) != 0) {
        cs_out_error("this replica's content differs from the server's even "
                     "after a repair (%" PRIu64 " rows here); the server's "
                     "log says more",
                     rows);
        return CS_ERR_CHAIN;
    }
    y->res->in_step = true;
    y->quiet = true;
    if ((r = s_meta_set_time(y->store, "last_sync", cs_hlc_wall_ms())) != 0 ||
        (r = s_meta_set_u64(y->store, "server_acked", has_ours)) != 0)
        return cs_out_store_error(y->store, r, "recording the sync");
    cs_log_info("in step with the server: %" PRIu64 " rows", rows);
    return 0;
}

/* ---- the audit log --------------------------------------------------------
 */

/* Says that the server's log is not what this node saw, and why. */
static int
s_alarm(struct s_sync *y, const char *why)
{
    cs_out_error("ALARM: the server's audit log does not agree with what this "
                 "node verified before (%s). The server's history may have "
                 "been rewritten; this node stops syncing. Tell the "
                 "programme's auditor, and keep %s as it is.",
                 why, cs_nodedir_path(y->dir));
    return CS_ERR_AUDIT;
}

/* Reads the tree head kept in zz_meta. */
static int
s_tree_load(struct s_sync *y)
{
    char *root = NULL;
    size_t len = 0;
    int r;

    if ((r = cs_sync_meta_u64(y->store, CS_SYNC_TREE_SIZE, &y->tree_size)) !=
            0 ||
        (r = cs_store_meta_get(y->store, CS_SYNC_TREE_ROOT, &root)) != 0)
        return cs_out_store_error(y->store, r, "reading the audit tree head");
    if (y->tree_size > 0 &&
        (root == NULL ||
         sodium_hex2bin(y->tree_root, sizeof y->tree_root, root, strlen(root),
                        NULL, &len, NULL) != 0 ||
         len != sizeof y->tree_root)) {
        free(root);
        cs_out_error("the audit tree head kept in the replica is damaged "
                     "(zz_meta %s)",
                     CS_SYNC_TREE_ROOT);
        return CS_ERR_FORMAT;
    }
    free(root);
    y->res->tree_size = y->tree_size;
    return 0;
}

/* TREE: a newer head must extend the one we keep. */
static int
s_on_tree(struct s_sync *y, const struct cs_msg_tree *m)
{
    struct cs_sth h;
    struct cs_merkle_hash old_root, new_root, proof[CS_MERKLE_PROOF_MAX];
    char hex[2 * CS_MERKLE_HASH_BYTES + 1];
    int r;

    memset(&h, 0, sizeof h);
    h.size = m->size;
    h.time_ms = m->time_ms;
    memcpy(h.root, m->root, sizeof h.root);
    memcpy(h.sig, m->sig, sizeof h.sig);
    if (!cs_sth_verify(&y->server_pk, y->deployment, &h))
        return s_alarm(y, "a tree head not signed by the server's key");
    if (m->from != y->tree_size) {
        /* A head answering an older SINCE of ours: a session that ended
           while it was on its way (ZeroMQ delivers it after the next
           session started, which may have moved us on).  Its proof starts
           where we no longer are, so it proves nothing either way; a head
           of the size we hold must still have our root.  The head that
           answers our current size follows. */
        if (m->size == y->tree_size &&
            sodium_memcmp(m->root, y->tree_root, sizeof y->tree_root) != 0) {
            char why[128];
            snprintf(why, sizeof why,
                     "two different logs of %" PRIu64 " entries were signed",
                     m->size);
            return s_alarm(y, why);
        }
        cs_log_debug("a tree head from %" PRIu64 " entries, not %" PRIu64
                     ": from an earlier session, set aside",
                     m->from, y->tree_size);
        return 0;
    }
    if (m->size < y->tree_size) {
        char why[128];
        snprintf(why, sizeof why,
                 "the log shrank from %" PRIu64 " to %" PRIu64 " entries",
                 y->tree_size, m->size);
        return s_alarm(y, why);
    }
    memcpy(old_root.b, y->tree_root, sizeof old_root.b);
    memcpy(new_root.b, m->root, sizeof new_root.b);
    for (size_t i = 0; i < m->proof.n; i++)
        memcpy(proof[i].b, m->proof.h[i], CS_MERKLE_HASH_BYTES);
    if (y->tree_size > 0 &&
        !cs_merkle_consistency_verify(y->tree_size, m->size, &old_root,
                                      &new_root, proof, m->proof.n)) {
        char why[160];
        snprintf(why, sizeof why,
                 "the log of %" PRIu64 " entries is not an extension of the "
                 "%" PRIu64 " this node saw",
                 m->size, y->tree_size);
        return s_alarm(y, why);
    }
    if (m->size == y->tree_size)
        return 0;
    sodium_bin2hex(hex, sizeof hex, m->root, sizeof m->root);
    if ((r = s_meta_set_u64(y->store, CS_SYNC_TREE_SIZE, m->size)) != 0 ||
        (r = cs_store_meta_set(y->store, CS_SYNC_TREE_ROOT, hex)) != 0 ||
        (r = s_meta_set_u64(y->store, CS_SYNC_TREE_TIME, m->time_ms)) != 0)
        return cs_out_store_error(y->store, r, "keeping the audit tree head");
    y->tree_size = m->size;
    memcpy(y->tree_root, m->root, sizeof y->tree_root);
    y->res->tree_size = m->size;
    cs_log_debug("the server's audit log: %" PRIu64 " entries, consistent",
                 m->size);
    return 0;
}

/* RECEIPT: our batch is in the log we keep the head of. */
static int
s_on_receipt(struct s_sync *y, const struct cs_msg_receipt *m)
{
    struct cs_merkle_hash leaf, root, proof[CS_MERKLE_PROOF_MAX];
    struct cs_leaf l;
    sqlite3_stmt *st = NULL;
    bool ours = false;
    int r;

    if (cs_leaf_decode(m->leaf.p, m->leaf.len, &l) != 0 ||
        l.kind != CS_LEAF_BATCH ||
        memcmp(l.node.b, y->self.b, CS_NODE_ID_BYTES) != 0)
        return s_alarm(y, "a receipt for something other than our batch");
    if (sqlite3_prepare_v2(cs_store_db(y->store),
                           "SELECT hash FROM zz_batch WHERE seq = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (int64_t)l.seq);
        ours = sqlite3_step(st) == SQLITE_ROW &&
               sqlite3_column_bytes(st, 0) == CS_HASH_BYTES &&
               memcmp(sqlite3_column_blob(st, 0), l.hash, CS_HASH_BYTES) == 0;
    }
    sqlite3_finalize(st);
    if (!ours)
        return s_alarm(y, "a receipt naming a batch this node did not send");
    if (m->size != y->tree_size) {
        /* In a head we do not hold (one set aside by s_on_tree(), or of
           an earlier session): nothing to check it against. */
        cs_log_debug("a receipt in a head of %" PRIu64 " entries, not %" PRIu64
                     ": set aside",
                     m->size, y->tree_size);
        return 0;
    }
    cs_merkle_leaf(m->leaf.p, m->leaf.len, &leaf);
    memcpy(root.b, y->tree_root, sizeof root.b);
    for (size_t i = 0; i < m->proof.n; i++)
        memcpy(proof[i].b, m->proof.h[i], CS_MERKLE_HASH_BYTES);
    if (!cs_merkle_inclusion_verify(&leaf, m->index, m->size, proof, m->proof.n,
                                    &root))
        return s_alarm(y, "a receipt whose proof does not hold");
    if ((r = s_meta_set_u64(y->store, "audit_receipt_seq", l.seq)) != 0 ||
        (r = s_meta_set_u64(y->store, "audit_receipt_leaf", m->index)) != 0)
        return cs_out_store_error(y->store, r, "keeping a receipt");
    y->res->receipts++;
    return 0;
}

/* LOG: the next piece of the archive; asks for the rest. */
static int
s_on_log(struct s_sync *y, const struct cs_msg_log *m)
{
    struct cs_msg_log_get g;

    if (!y->opts->fetch_log || y->log_done)
        return 0;
    y->log_asked = false;
    if (m->offset != cs_writer_len(&y->log) || m->total > CS_SYNC_LOG_MAX) {
        cs_out_error("the server sent a piece of the audit log out of order");
        return CS_ERR_FORMAT;
    }
    if (cs_writer_put(&y->log, m->data.p, m->data.len) != 0)
        return CS_ERR_NOMEM;
    if (cs_writer_len(&y->log) == m->total) {
        y->log_done = true;
        return 0;
    }
    if (m->data.len == 0) {
        cs_out_error("the server stopped sending the audit log");
        return CS_ERR_FORMAT;
    }
    g.offset = cs_writer_len(&y->log);
    if (cs_msg_log_get_encode(&y->w, &g) == 0 && s_send(y) == 0)
        y->log_asked = true;
    cs_writer_reset(&y->w);
    return 0;
}

static int
s_on_message(struct s_sync *y, const struct cs_msg *m)
{
    struct cs_msg_iter it;
    struct cs_msg_head hd;
    struct cs_msg_credit grant;
    uint8_t *env = NULL;
    size_t len = 0;
    int r = 0;

    if (m->type == CS_MSG_HELLO) {
        if ((r = s_on_hello(y, &m->u.hello)) != 0)
            return r;
        return s_pump(y);
    }
    if (m->type == CS_MSG_ERROR) {
        cs_out_error("the server ended the session: %.*s (%s)",
                     (int)m->u.error.message.len,
                     (const char *)m->u.error.message.p,
                     cs_errname(m->u.error.code));
        y->live = false;
        return m->u.error.code < 0 ? m->u.error.code : CS_ERR_FORMAT;
    }
    if (!y->live)
        return 0; /* left over from a session before */
    switch (m->type) {
    case CS_MSG_ACK:
        cs_msg_iter_init(&it, &m->u.ack.heads);
        while (cs_msg_iter_pull_head(&it, &hd) == 0) {
            if (memcmp(hd.origin.b, y->self.b, CS_NODE_ID_BYTES) != 0)
                continue;
            if (hd.seq > y->out.acked) {
                y->res->batches_sent += hd.seq - y->out.acked;
                y->status_sent = false;
                y->quiet = false;
                if ((r = s_meta_set_u64(y->store, "server_acked", hd.seq)) != 0)
                    return cs_out_store_error(y->store, r,
                                              "recording an "
                                              "acknowledgement");
            }
            cs_flow_out_ack(&y->out, hd.seq);
        }
        if (m->u.ack.has_resume)
            cs_flow_out_resume(&y->out, &m->u.ack.envelope, m->u.ack.offset);
        r = s_pump(y);
        break;
    case CS_MSG_CREDIT:
        cs_flow_out_credit(&y->out, m->u.credit.bytes, m->u.credit.batches);
        r = s_pump(y);
        break;
    case CS_MSG_BATCH:
    case CS_MSG_CHUNK:
        if ((r = cs_flow_in_push(&y->in, m, &env, &len, &grant)) != 0)
            return r;
        if (cs_flow_in_resume_pending(&y->in)) {
            /* A chunk was dropped: tell the server where to go on. */
            if ((r = s_send_ack(y)) < 0)
                return r;
            cs_flow_in_resume_sent(&y->in);
        }
        y->res->bytes_received = y->in.bytes_in;
        if (env != NULL) {
            r = s_downstream(y, env, len);
            free(env);
            if (r != 0)
                return r;
        }
        if (grant.bytes > 0 || grant.batches > 0) {
            if (cs_msg_credit_encode(&y->w, &grant) == 0)
                (void)s_send(y);
            cs_writer_reset(&y->w);
        }
        s_progress(y, false);
        break;
    case CS_MSG_REFUSED:
        s_on_refused(y, &m->u.refused);
        break;
    case CS_MSG_STATUS:
        r = s_on_status(y, &m->u.status);
        break;
    case CS_MSG_TREE:
        r = s_on_tree(y, &m->u.tree);
        break;
    case CS_MSG_RECEIPT:
        r = s_on_receipt(y, &m->u.receipt);
        break;
    case CS_MSG_LOG:
        r = s_on_log(y, &m->u.log);
        break;
    case CS_MSG_PING: {
        struct cs_msg_ping p = m->u.ping;
        if (cs_msg_pong_encode(&y->w, &p) == 0)
            (void)s_send(y);
        cs_writer_reset(&y->w);
        break;
    }
    default:
        break;
    }
    return r;
}

/* ---- the loop ----------------------------------------------------------- */

static int
s_on_event(struct s_sync *y, int event, int value)
{
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        y->connected = true;
        y->ever_connected = true;
        return s_start(y);
    case ZMQ_EVENT_DISCONNECTED:
        if (y->connected)
            cs_log_info("disconnected from %s", y->endpoint);
        y->connected = false;
        y->live = false;
        return 0;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        cs_out_error("the server at %s refused this node (status %d): its "
                     "key is not enrolled there, or was revoked",
                     y->endpoint, value);
        return CS_ERR_REVOKED;
    default:
        /* A handshake cut by the link looks like one with the wrong
           server key (the server cannot answer either): retry, and name
           the key only if no handshake ever succeeds. */
        y->handshake_failures++;
        cs_log_info("the handshake with %s failed (event %d); retrying",
                    y->endpoint, event);
        return 0;
    }
}

/* Reads the config's server, and the deployment if known. */
static int
s_setup(struct s_sync *y)
{
    const char *id = cs_nodedir_get(y->dir, "server_key");
    int r;

    y->endpoint = cs_nodedir_get(y->dir, "server");
    if (y->endpoint == NULL || id == NULL) {
        cs_out_error("no server configured for %s: give `cigsync init` "
                     "--server ENDPOINT --server-key IDENTITY, or add "
                     "server and server_key to %s/config",
                     cs_nodedir_path(y->dir), cs_nodedir_path(y->dir));
        return CS_ERR_USAGE;
    }
    if (cs_identity_parse(id, &y->server_pk) != 0) {
        cs_out_error("server_key in %s/config is not an identity (cs1:...)",
                     cs_nodedir_path(y->dir));
        return CS_ERR_FORMAT;
    }
    cs_node_id_from_pubkey(&y->server_pk, &y->server);
    y->self = *cs_nodedir_node(y->dir);
    if ((r = cs_sync_deployment(y->store, y->deployment,
                                &y->have_deployment)) != 0)
        return cs_out_store_error(y->store, r, "reading the deployment");
    return s_tree_load(y);
}

int
cs_sync_run(struct cs_nodedir *d, const struct cs_key *k,
            const struct cs_sync_opts *opts, struct cs_sync_result *res)
{
    struct s_sync *y = cs_xcalloc(1, sizeof *y);
    uint64_t started = cs_hlc_wall_ms(), last_link = started;
    uint64_t next_local = 0, data_version = 0;
    uint64_t sent_before, received_before;
    int r;

    memset(res, 0, sizeof *res);
    y->dir = d;
    y->store = cs_nodedir_store(d);
    y->key = k;
    y->opts = opts;
    y->res = res;
    y->started_ms = started;
    cs_writer_init(&y->w, CS_FRAME_MAX);
    cs_writer_init(&y->log, CS_SYNC_LOG_MAX);
    cs_flow_out_init(&y->out);
    cs_flow_in_init(&y->in, CS_ENVELOPE_MAX);
    if ((r = s_setup(y)) != 0)
        goto out;
    if ((r = cs_cli_transport_new_backoff(
             y->endpoint, k, &y->server_pk,
             opts->daemon ? CS_CLI_TRANSPORT_RECONNECT_MAX_MS
                          : CS_SYNC_RECONNECT_MAX_MS,
             &y->tr)) != 0) {
        cs_out_error("cannot connect to %s: %s", y->endpoint, cs_strerror(r));
        goto out;
    }
    if ((r = s_seal(y)) != 0)
        goto out;
    while (opts->stop == NULL || !*opts->stop) {
        zmq_pollitem_t items[2];
        uint64_t now, wait;
        size_t len = 0;
        int event, value;

        memset(items, 0, sizeof items);
        items[0].socket = cs_cli_transport_socket(y->tr);
        items[0].events = ZMQ_POLLIN;
        items[1].socket = cs_cli_transport_monitor(y->tr);
        items[1].events = ZMQ_POLLIN;
        wait = s_status_wait_ms(y);
        if (zmq_poll(items, 2,
                     wait > 0 && wait < CS_SYNC_TICK_MS
                         ? (long)wait + 1
                         : CS_SYNC_TICK_MS) < 0 &&
            errno != EINTR) {
            cs_out_error("waiting for the server: %s", zmq_strerror(errno));
            r = CS_ERR_IO;
            goto out;
        }
        while (r == 0 && cs_cli_transport_event(y->tr, &event, &value) == 0) {
            r = s_on_event(y, event, value);
            if (r == CS_ERR_KEY || (r == CS_ERR_REVOKED && !opts->daemon))
                goto out;
            r = 0;
        }
        while (r == 0 && cs_cli_transport_recv(y->tr, y->frame, &len, 0) == 0) {
            struct cs_msg m;
            if ((r = cs_msg_decode(y->frame, len, &m)) != 0) {
                cs_log_warn("a malformed message from the server: %s",
                            cs_strerror(r));
                r = 0;
                continue;
            }
            y->rx_at = cs_hlc_wall_ms();
            r = s_on_message(y, &m);
        }
        if (r == 0)
            r = s_maybe_status(y);
        if (r != 0) {
            if (!opts->daemon || r == CS_ERR_REVOKED || r == CS_ERR_AUDIT)
                goto out;
            /* The daemon waits and starts a new session. */
            y->live = false;
            y->retry_at = cs_hlc_wall_ms() + CS_SYNC_RETRY_MS;
            r = 0;
        }
        now = cs_hlc_wall_ms();
        if (y->connected)
            last_link = now;
        if (!opts->daemon && res->in_step && opts->fetch_log && y->live &&
            !y->log_done && !y->log_asked) {
            struct cs_msg_log_get g = {cs_writer_len(&y->log)};
            if (cs_msg_log_get_encode(&y->w, &g) == 0 && s_send(y) == 0)
                y->log_asked = true;
            cs_writer_reset(&y->w);
        }
        if (!opts->daemon && res->in_step && (!opts->fetch_log || y->log_done))
            break;
        if (!opts->daemon && now - last_link > (uint64_t)opts->timeout_ms &&
            y->handshake_failures > 0 && !y->ever_connected) {
            cs_out_error("every handshake with %s failed (%" PRIu64
                         " tries in %d s): is the server key in %s/config "
                         "(server_key) the server's identity?",
                         y->endpoint, y->handshake_failures,
                         opts->timeout_ms / 1000, cs_nodedir_path(y->dir));
            r = CS_ERR_KEY;
            goto out;
        }
        if (!opts->daemon && now - last_link > (uint64_t)opts->timeout_ms) {
            cs_out_error("cannot reach the server at %s (no connection for "
                         "%d s)",
                         y->endpoint, opts->timeout_ms / 1000);
            r = CS_ERR_TIMEOUT;
            goto out;
        }
        /* A session that stalls (the server stopped answering, yet the
           link looks up): start it again. */
        if (y->connected && y->live && !y->quiet &&
            now - y->rx_at > CS_SYNC_STALL_MS) {
            cs_log_warn("no word from the server for %d s: starting the "
                        "session again",
                        CS_SYNC_STALL_MS / 1000);
            y->rx_at = now;
            if ((r = s_start(y)) != 0)
                goto out;
        }
        /* A session that did not start (our HELLO could not be sent, or
           no answer came, or the daemon waits after an error): again. */
        if (y->connected && !y->live &&
            ((y->retry_at != 0 && now >= y->retry_at) ||
             (y->retry_at == 0 && now - y->hello_at > CS_SYNC_HELLO_MS))) {
            if ((r = s_start(y)) != 0)
                goto out;
        }
        if (opts->daemon && now >= next_local) {
            /* Edits by any SQLite client: PRAGMA data_version moves when
               another connection commits. */
            sqlite3_stmt *st = NULL;
            next_local = now + CS_SYNC_LOCAL_MS;
            if (sqlite3_prepare_v2(cs_store_db(y->store), "PRAGMA data_version",
                                   -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW) {
                uint64_t v = (uint64_t)sqlite3_column_int64(st, 0);
                if (v != data_version) {
                    data_version = v;
                    if (s_seal(y) != 0 || s_pump(y) != 0)
                        cs_log_warn("could not send local edits now");
                }
            }
            sqlite3_finalize(st);
        }
    }
    r = 0;
out:
    s_progress(y, true);
    sent_before = res->bytes_sent;
    received_before = res->bytes_received;
    if (s_meta_add_u64(y->store, "bytes_sent", sent_before) != 0 ||
        s_meta_add_u64(y->store, "bytes_received", received_before) != 0)
        cs_log_warn("could not record the bytes moved");
    cs_cli_transport_destroy(&y->tr);
    cs_flow_out_free(&y->out);
    cs_flow_in_free(&y->in);
    cs_writer_free(&y->w);
    if (r == 0 && y->log_done &&
        cs_writer_take(&y->log, &res->log, &res->log_len) != 0)
        r = CS_ERR_NOMEM;
    cs_writer_free(&y->log);
    free(y);
    return r;
}

int
cs_sync_deployment(struct cs_store *s, uint8_t dep[CS_DEPLOYMENT_BYTES],
                   bool *known)
{
    char *text = NULL;
    int r = cs_store_meta_get(s, "deployment", &text);

    size_t n = 0;
    const char *end = NULL;

    *known = false;
    if (r == 0 && text != NULL)
        *known = sodium_hex2bin(dep, CS_DEPLOYMENT_BYTES, text, strlen(text),
                                NULL, &n, &end) == 0 &&
                 n == CS_DEPLOYMENT_BYTES && *end == '\0';
    free(text);
    return r;
}

int
cs_sync_set_deployment(struct cs_store *s,
                       const uint8_t dep[CS_DEPLOYMENT_BYTES])
{
    char hex[S_HEX_DEPLOYMENT + 1];

    sodium_bin2hex(hex, sizeof hex, dep, CS_DEPLOYMENT_BYTES);
    return cs_store_meta_set(s, "deployment", hex);
}

int
cs_sync_server(const struct cs_nodedir *d, struct cs_pubkey *pk,
               struct cs_node_id *id)
{
    const char *text = cs_nodedir_get(d, "server_key");

    if (text == NULL || cs_identity_parse(text, pk) != 0) {
        cs_out_error("no server key in %s/config: give `cigsync init` "
                     "--server ENDPOINT --server-key IDENTITY, or add "
                     "server and server_key there",
                     cs_nodedir_path(d));
        return CS_ERR_USAGE;
    }
    cs_node_id_from_pubkey(pk, id);
    return 0;
}

int
cs_sync_meta_u64(struct cs_store *s, const char *key, uint64_t *v)
{
    return s_meta_u64(s, key, v);
}

int
cs_sync_meta_set_u64(struct cs_store *s, const char *key, uint64_t v)
{
    return s_meta_set_u64(s, key, v);
}
