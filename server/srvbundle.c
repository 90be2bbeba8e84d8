/*  server/srvbundle.c - bundles at the server; see srvbundle.h.  */
#include "prelude.h"

#include "bundle.h"
#include "down.h"
#include "envelope.h"
#include "fileio.h"
#include "hub.h"
#include "key.h"
#include "mem.h"
#include "registry.h"
#include "scope.h"
#include "srvbundle.h"
#include "srvdir.h"
#include "srvout.h"

/* The first batch of node's feed it has not acknowledged. */
static int
s_first_unacked(struct cs_store *s, const struct cs_node_id *node,
                uint64_t *seq)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    uint8_t hash[CS_HASH_BYTES];
    sqlite3_stmt *st = NULL;
    uint64_t head;
    int r;

    cs_node_id_hex(node, hex);
    if ((r = cs_down_head(s, node, &head, hash)) != 0)
        return r;
    *seq = head + 1;
    if (sqlite3_prepare_v2(cs_store_db(s),
                           "SELECT min(seq) FROM zz_srv_down WHERE node = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return CS_ERR_DB;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int
cs_srvbundle_export(const char *dir, const char *name, const char *file,
                    int pass_fd)
{
    struct cs_srvdir *d = NULL;
    struct cs_key *k = NULL;
    struct cs_registry_node n;
    struct cs_bundle_head bh;
    struct cs_scope sc;
    struct cs_writer w;
    struct cs_store *s;
    uint64_t seq, count = 0;
    char *q = cs_srvout_quote(name);
    int r;

    cs_writer_init(&w, CS_BUNDLE_MAX);
    if ((r = cs_srvdir_open(dir, &d)) != 0)
        goto out;
    s = cs_srvdir_store(d);
    if ((r = cs_registry_get(cs_srvdir_registry(d), name, &n)) != 0) {
        cs_srvout_error("no node named %s (see cigsync-server nodes %s)", q,
                        dir);
        goto out;
    }
    if (n.revoked) {
        cs_srvout_error("node %s is revoked: nothing is sent to it", q);
        r = CS_ERR_REVOKED;
        goto out;
    }
    if ((r = cs_srvdir_key(d, pass_fd, &k)) != 0 ||
        (r = cs_down_install(s)) != 0 ||
        (r = s_first_unacked(s, &n.node, &seq)) != 0)
        goto out;
    cs_scope_of(&n, &sc);
    memset(&bh, 0, sizeof bh);
    bh.kind = CS_BUNDLE_KIND_DOWN;
    bh.sender = *cs_srvdir_node(d);
    bh.recipient = n.node;
    memcpy(bh.deployment, cs_srvdir_deployment(d), CS_DEPLOYMENT_BYTES);
    {
        uint8_t hash[CS_HASH_BYTES];
        if ((r = cs_store_head(s, &n.node, &bh.acked, hash)) != 0)
            goto out;
    }
    if ((r = cs_bundle_begin(&w, &bh)) != 0)
        goto out;
    for (;; seq++) {
        struct cs_writer env;
        uint8_t *batch = NULL;
        size_t len = 0;

        r = cs_down_get(s, k, cs_srvdir_deployment(d), &n.node, &sc, seq,
                        &batch, &len);
        if (r != 0 || batch == NULL)
            break;
        cs_writer_init(&env, CS_ENVELOPE_MAX);
        r = cs_envelope_seal(k, &n.key, cs_srvdir_deployment(d),
                             CS_ENVELOPE_KIND_BATCH, batch, len, &env);
        free(batch);
        if (r == 0)
            r = cs_bundle_add(&w, cs_writer_data(&env), cs_writer_len(&env));
        cs_writer_free(&env);
        if (r != 0)
            break;
        count++;
    }
    if (r != 0) {
        cs_srvout_error("cannot gather the batches for %s: %s", q,
                        cs_strerror(r));
        goto out;
    }
    if ((r = cs_bundle_finish(&w, k)) != 0 ||
        (r = cs_file_save(file, cs_writer_data(&w), cs_writer_len(&w))) != 0) {
        cs_srvout_error("cannot write %s: %s", file, cs_strerror(r));
        goto out;
    }
    printf("wrote %s for node %s: %" PRIu64 " batches, %zu bytes\n", file,
           n.name, count, cs_writer_len(&w));
out:
    free(q);
    cs_writer_free(&w);
    cs_key_destroy(&k);
    cs_srvdir_destroy(&d);
    return r;
}

int
cs_srvbundle_import(const char *dir, const char *file, int pass_fd)
{
    struct cs_srvdir *d = NULL;
    struct cs_key *k = NULL;
    struct cs_hub_import_stats st;
    struct cs_bundle b;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int r;

    if ((r = cs_file_load(file, CS_BUNDLE_MAX, &bytes, &len)) != 0) {
        cs_srvout_error("cannot read %s: %s", file, cs_strerror(r));
        return r;
    }
    if ((r = cs_bundle_parse(bytes, len, &b)) != 0) {
        cs_srvout_error("%s is %s", file, cs_bundle_strerror(r));
        goto out;
    }
    if ((r = cs_srvdir_open(dir, &d)) != 0)
        goto out;
    if (b.head.kind != CS_BUNDLE_KIND_UP ||
        memcmp(b.head.recipient.b, cs_srvdir_node(d)->b, CS_NODE_ID_BYTES) !=
            0) {
        cs_srvout_error("%s is not for this server (it is a bundle %s)", file,
                        b.head.kind == CS_BUNDLE_KIND_UP
                            ? "for another server"
                            : "from a server, for a node");
        r = CS_ERR_NOT_FOR_US;
        goto out;
    }
    if (memcmp(b.head.deployment, cs_srvdir_deployment(d),
               CS_DEPLOYMENT_BYTES) != 0) {
        cs_srvout_error("%s belongs to another deployment", file);
        r = CS_ERR_DEPLOYMENT;
        goto out;
    }
    if ((r = cs_srvdir_key(d, pass_fd, &k)) != 0)
        goto out;
    r = cs_hub_import(d, k, &b, &st);
    if (r == CS_ERR_NOT_FOUND || r == CS_ERR_REVOKED) {
        cs_srvout_error("%s comes from a node that is %s", file,
                        r == CS_ERR_REVOKED ? "revoked" : "not enrolled");
        goto out;
    }
    if (r == CS_ERR_SIGNATURE) {
        cs_srvout_error("%s is not signed by node %s: nothing was applied",
                        file, st.node);
        goto out;
    }
    if (r != 0 && st.bad_envelope > 0) {
        cs_srvout_error("%s: envelope %u of %u does not open (%s): altered, "
                        "or not from node %s; nothing was applied",
                        file, st.bad_envelope, b.head.count, cs_strerror(r),
                        st.node);
        goto out;
    }
    if (r != 0) {
        cs_srvout_error("%s: a batch was refused (%s); the batches before it "
                        "were applied",
                        file, cs_strerror(r));
        goto out;
    }
    printf("imported %s from node %s: %" PRIu64 " batches applied (%" PRIu64
           " changes, %" PRIu64 " refused), %" PRIu64 " applied before\n",
           file, st.node, st.batches, st.changes, st.refused, st.duplicates);
out:
    free(bytes);
    cs_key_destroy(&k);
    cs_srvdir_destroy(&d);
    return r;
}
