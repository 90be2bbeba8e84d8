/*  client/cmd_bundle.c - `cigsync bundle export|import`: sync by file.
 *
 *  export seals pending changes and writes every batch of this node that
 *  the server has not acknowledged, each in an envelope for the server
 *  (proto/bundle.h); import applies a bundle the server made for this
 *  node, batch by batch, as a sync would.  Both check before they write or
 *  apply anything: the node's server and deployment must be known; an
 *  imported bundle must be whole, from this node's server, for this node.
 */
#include "prelude.h"

#include "bundle.h"
#include "cmd.h"
#include "envelope.h"
#include "feed.h"
#include "feedio.h"
#include "fileio.h"
#include "mem.h"
#include "nodedir.h"
#include "out.h"
#include "sync.h"

static int
s_export(struct cs_nodedir *d, const struct cs_key *k, const char *file)
{
    struct cs_store *s = cs_nodedir_store(d);
    uint8_t dep[CS_DEPLOYMENT_BYTES], hash[CS_HASH_BYTES];
    struct cs_bundle_head bh;
    struct cs_pubkey server_pk;
    struct cs_node_id server;
    struct cs_writer w;
    uint64_t acked, head, count = 0;
    bool known;
    int r;

    cs_writer_init(&w, CS_BUNDLE_MAX);
    if ((r = cs_sync_server(d, &server_pk, &server)) != 0)
        goto out;
    if ((r = cs_sync_deployment(s, dep, &known)) != 0) {
        r = cs_out_store_error(s, r, "reading the deployment");
        goto out;
    }
    if (!known) {
        cs_out_error("this node does not know its deployment yet: sync once, "
                     "or make it with `cigsync init --deployment HEX` (the "
                     "id cigsync-server init printed)");
        r = CS_ERR_USAGE;
        goto out;
    }
    if ((r = cs_feed_seal(s, k, dep, 0, NULL)) != 0 ||
        (r = cs_store_feed_head(s, &head, hash)) != 0 ||
        (r = cs_sync_meta_u64(s, "server_acked", &acked)) != 0) {
        r = cs_out_store_error(s, r, "sealing local changes");
        goto out;
    }
    memset(&bh, 0, sizeof bh);
    bh.kind = CS_BUNDLE_KIND_UP;
    bh.sender = *cs_nodedir_node(d);
    bh.recipient = server;
    memcpy(bh.deployment, dep, CS_DEPLOYMENT_BYTES);
    if ((r = cs_store_head(s, &server, &bh.acked, hash)) != 0) {
        r = cs_out_store_error(s, r, "reading the server's feed");
        goto out;
    }
    if ((r = cs_bundle_begin(&w, &bh)) != 0)
        goto fail;
    for (uint64_t seq = acked + 1; seq <= head; seq++) {
        struct cs_writer env;
        uint8_t *batch = NULL;
        size_t len = 0;

        if ((r = cs_store_feed_get(s, seq, &batch, &len)) != 0) {
            r = cs_out_store_error(s, r, "reading a batch");
            goto out;
        }
        cs_writer_init(&env, CS_ENVELOPE_MAX);
        r = cs_envelope_seal(k, &server_pk, dep, CS_ENVELOPE_KIND_BATCH, batch,
                             len, &env);
        free(batch);
        if (r == 0)
            r = cs_bundle_add(&w, cs_writer_data(&env), cs_writer_len(&env));
        cs_writer_free(&env);
        if (r != 0)
            goto fail;
        count++;
    }
    if ((r = cs_bundle_finish(&w, k)) != 0)
        goto fail;
    if ((r = cs_file_save(file, cs_writer_data(&w), cs_writer_len(&w))) != 0) {
        cs_out_error("cannot write %s: %s", file, cs_strerror(r));
        goto out;
    }
    printf("wrote %s for the server: %" PRIu64 " batches (%" PRIu64
           " to %" PRIu64 "), %zu bytes\n",
           file, count, count ? acked + 1 : 0, count ? head : 0,
           cs_writer_len(&w));
    goto out;
fail:
    cs_out_error("cannot make the bundle: %s", cs_strerror(r));
out:
    cs_writer_free(&w);
    return r;
}

static int
s_lookup(void *arg, const struct cs_node_id *node, struct cs_pubkey *pk)
{
    const struct cs_pubkey *server_pk = arg;
    struct cs_node_id id;

    cs_node_id_from_pubkey(server_pk, &id);
    if (memcmp(id.b, node->b, CS_NODE_ID_BYTES) != 0)
        return CS_ERR_NOT_FOUND;
    *pk = *server_pk;
    return 0;
}

/* The server says it holds our batches up to acked: the next export
   starts after them.  Never backwards, never past what we sealed. */
static int
s_take_ack(struct cs_store *s, uint64_t acked)
{
    uint8_t hash[CS_HASH_BYTES];
    uint64_t had, head;
    int r;

    if ((r = cs_sync_meta_u64(s, "server_acked", &had)) != 0 ||
        (r = cs_store_feed_head(s, &head, hash)) != 0)
        return cs_out_store_error(s, r, "reading the feed");
    if (acked <= had || acked > head)
        return 0;
    if ((r = cs_sync_meta_set_u64(s, "server_acked", acked)) != 0)
        return cs_out_store_error(s, r, "recording the acknowledgement");
    return 0;
}

static int
s_import(struct cs_nodedir *d, const struct cs_key *k, const char *file)
{
    struct cs_store *s = cs_nodedir_store(d);
    uint8_t dep[CS_DEPLOYMENT_BYTES];
    struct cs_pubkey server_pk;
    struct cs_node_id server;
    struct cs_bundle b;
    struct cs_view env;
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint64_t applied = 0, dups = 0, changes = 0;
    bool known;
    int r;

    if ((r = cs_sync_server(d, &server_pk, &server)) != 0)
        return r;
    if ((r = cs_file_load(file, CS_BUNDLE_MAX, &bytes, &len)) != 0) {
        cs_out_error("cannot read %s: %s", file, cs_strerror(r));
        return r;
    }
    if ((r = cs_bundle_parse(bytes, len, &b)) != 0) {
        cs_out_error("%s is %s", file, cs_bundle_strerror(r));
        goto out;
    }
    if (b.head.kind != CS_BUNDLE_KIND_DOWN ||
        memcmp(b.head.recipient.b, cs_nodedir_node(d)->b, CS_NODE_ID_BYTES) !=
            0) {
        cs_out_error("%s is not for this node (%s)", file,
                     b.head.kind == CS_BUNDLE_KIND_DOWN
                         ? "it was made for another node"
                         : "it is an office's bundle for the server");
        r = CS_ERR_NOT_FOR_US;
        goto out;
    }
    if (memcmp(b.head.sender.b, server.b, CS_NODE_ID_BYTES) != 0) {
        cs_out_error("%s comes from another server than this node's", file);
        r = CS_ERR_KEY;
        goto out;
    }
    if (!cs_bundle_verify(&b, &server_pk)) {
        cs_out_error("%s is not signed by this node's server: nothing was "
                     "applied",
                     file);
        r = CS_ERR_SIGNATURE;
        goto out;
    }
    if ((r = cs_sync_deployment(s, dep, &known)) != 0) {
        r = cs_out_store_error(s, r, "reading the deployment");
        goto out;
    }
    if (known && memcmp(dep, b.head.deployment, CS_DEPLOYMENT_BYTES) != 0) {
        cs_out_error("%s belongs to another deployment", file);
        r = CS_ERR_DEPLOYMENT;
        goto out;
    }
    memcpy(dep, b.head.deployment, CS_DEPLOYMENT_BYTES);
    /* Every envelope must open before any is applied. */
    for (uint32_t i = 1; cs_bundle_next(&b, &env) == 0; i++) {
        struct cs_feedio_in in;
        r = cs_feedio_open(&in, k, dep, env.p, env.len, s_lookup, &server_pk);
        cs_feedio_done(&in);
        if (r != 0) {
            cs_out_error("%s: envelope %u of %u does not open (%s): altered, "
                         "or not from this node's server; nothing was "
                         "applied",
                         file, i, b.head.count, cs_strerror(r));
            goto out;
        }
    }
    if ((r = cs_bundle_parse(bytes, len, &b)) != 0)
        goto out;
    while (cs_bundle_next(&b, &env) == 0) {
        struct cs_apply_stats st;
        r = cs_feed_accept(s, k, dep, env.p, env.len, &server, s_lookup,
                           &server_pk, &st);
        if (r != 0) {
            cs_out_error("%s: batch %" PRIu64 " of %u refused (%s%s%s); the "
                         "ones before it were applied",
                         file, applied + dups + 1, b.head.count, cs_strerror(r),
                         cs_store_errmsg(s)[0] ? ": " : "", cs_store_errmsg(s));
            goto out;
        }
        if (st.applied == 0 && st.duplicates == st.received)
            dups++;
        else
            applied++;
        changes += st.applied;
    }
    if (!known && (r = cs_sync_set_deployment(s, dep)) != 0) {
        r = cs_out_store_error(s, r, "recording the deployment");
        goto out;
    }
    if ((r = s_take_ack(s, b.head.acked)) != 0)
        goto out;
    printf("imported %s: %" PRIu64 " batches (%" PRIu64
           " changes applied), %" PRIu64 " held before\n",
           file, applied, changes, dups);
out:
    free(bytes);
    return r;
}

int
cs_cmd_bundle(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    struct cs_key *k = NULL;
    bool exporting;
    int r;

    if (argc != 2 || cs_cmd_is_option(argv[1]) ||
        (strcmp(argv[0], "export") != 0 && strcmp(argv[0], "import") != 0))
        return cs_cmd_bad_args("bundle", "expected export FILE or import "
                                         "FILE");
    exporting = strcmp(argv[0], "export") == 0;
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    if ((r = cs_cmd_load_key(ctx, d, &k)) != 0)
        goto out;
    r = exporting ? s_export(d, k, argv[1]) : s_import(d, k, argv[1]);
out:
    cs_key_destroy(&k);
    cs_nodedir_destroy(&d);
    return r;
}
