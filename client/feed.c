/*  client/feed.c - seal pending changes into batches; see feed.h.  */
#include "prelude.h"

#include "batch.h"
#include "changes.h"
#include "changeset.h"
#include "envelope.h"
#include "err.h"
#include "feed.h"
#include "log.h"
#include "writer.h"

/* Seals one batch of at most max changes; *sealed is false when nothing
   was pending. */
static int
s_seal_one(struct cs_store *s, const struct cs_key *k,
           const uint8_t deployment[CS_DEPLOYMENT_BYTES], size_t max,
           struct cs_feed_stats *st, bool *sealed)
{
    struct cs_changes pending;
    struct cs_writer payload, batch;
    struct cs_batch_head head;
    struct cs_feed_entry entry;
    uint64_t first, last;
    size_t count;
    int r;

    *sealed = false;
    cs_changes_init(&pending);
    cs_writer_init(&payload, CS_PAYLOAD_RAW_MAX);
    cs_writer_init(&batch, CS_BATCH_MAX);
    memset(&head, 0, sizeof head);
    memset(&entry, 0, sizeof entry);
    if ((r = cs_store_feed_head(s, &entry.seq, entry.prev)) != 0 ||
        (r = cs_store_pending(s, max, cs_changes_collect, &pending, &first,
                              &last, &count)) != 0)
        goto out;
    if (count == 0)
        goto out;
    if ((r = cs_changeset_encode(cs_changes_items(&pending), count,
                                 &payload)) != 0)
        goto out;
    memcpy(head.deployment, deployment, CS_DEPLOYMENT_BYTES);
    head.seq = entry.seq + 1;
    memcpy(head.prev_hash, entry.prev, CS_HASH_BYTES);
    head.count = count;
    head.hlc_min = head.hlc_max = cs_changes_items(&pending)[0].hlc;
    for (size_t i = 1; i < count; i++) {
        struct cs_hlc h = cs_changes_items(&pending)[i].hlc;
        if (h.t < head.hlc_min.t)
            head.hlc_min = h;
        if (h.t > head.hlc_max.t)
            head.hlc_max = h;
    }
    if ((r = cs_batch_seal(k, &head, cs_writer_data(&payload),
                           cs_writer_len(&payload), CS_BATCH_COMPRESSION_ZSTD,
                           &batch, entry.hash)) != 0)
        goto out;
    entry.seq = head.seq;
    entry.first_lid = first;
    entry.last_lid = last;
    entry.count = count;
    entry.bytes = cs_writer_data(&batch);
    entry.len = cs_writer_len(&batch);
    if ((r = cs_store_feed_append(s, &entry)) != 0)
        goto out;
    *sealed = true;
    st->batches++;
    st->changes += count;
    st->raw_bytes += cs_writer_len(&payload);
    st->bytes += cs_writer_len(&batch);
out:
    cs_writer_free(&batch);
    cs_writer_free(&payload);
    cs_changes_clear(&pending);
    return r;
}

int
cs_feed_seal(struct cs_store *s, const struct cs_key *k,
             const uint8_t deployment[CS_DEPLOYMENT_BYTES], size_t max_changes,
             struct cs_feed_stats *st)
{
    struct cs_feed_stats tmp;
    unsigned retries = 0;
    bool sealed = true;
    int r = 0;

    if (st == NULL)
        st = &tmp;
    memset(st, 0, sizeof *st);
    if (max_changes == 0 || max_changes > CS_BATCH_CHANGES_MAX)
        max_changes = CS_FEED_BATCH_CHANGES;
    while (sealed) {
        r = s_seal_one(s, k, deployment, max_changes, st, &sealed);
        if (r == CS_ERR_TOO_BIG && max_changes > 1) {
            /* Large values: fewer changes per batch until they fit. */
            max_changes = (max_changes + 1) / 2;
            sealed = true;
            continue;
        }
        if (r == CS_ERR_EXISTS && retries++ < CS_FEED_RETRIES) {
            sealed = true; /* another program sealed first: read again */
            continue;
        }
        if (r != 0)
            return r;
    }
    return 0;
}

/* Checks the decoded changes against what the signed header says, and
   that a node other than the relay only sends its own changes. */
static int
s_match_header(const struct cs_batch *b, const struct cs_changeset *cs,
               const struct cs_node_id *relay)
{
    const struct cs_change *ch = cs_changeset_changes(cs);
    size_t n = cs_changeset_count(cs);
    bool may_relay =
        relay != NULL && memcmp(relay->b, b->origin.b, CS_NODE_ID_BYTES) == 0;

    if (n != b->count)
        return CS_ERR_FORMAT;
    for (size_t i = 0; i < n; i++) {
        if (ch[i].hlc.t < b->hlc_min.t || ch[i].hlc.t > b->hlc_max.t)
            return CS_ERR_FORMAT;
        if (!may_relay &&
            memcmp(ch[i].origin.b, b->origin.b, CS_NODE_ID_BYTES) != 0)
            return CS_ERR_KEY; /* changes in another node's name */
    }
    return 0;
}

int
cs_feed_accept(struct cs_store *s, const struct cs_key *me,
               const uint8_t deployment[CS_DEPLOYMENT_BYTES],
               const uint8_t *envelope, size_t len,
               const struct cs_node_id *relay, cs_feed_lookup_fn lookup,
               void *arg, struct cs_apply_stats *st)
{
    struct cs_envelope env;
    struct cs_batch b;
    struct cs_pubkey origin_pk;
    struct cs_changeset *cs = NULL;
    struct cs_batch_ref ref;
    uint8_t *plain = NULL, *raw = NULL;
    size_t plain_len = 0, raw_len = 0;
    int r;

    if ((r = cs_envelope_parse(envelope, len, &env)) != 0)
        goto out;
    if (env.kind != CS_ENVELOPE_KIND_BATCH) {
        r = CS_ERR_FORMAT;
        goto out;
    }
    /* Know the sender before spending work on decryption. */
    if ((r = lookup(arg, &env.sender_id, &origin_pk)) != 0)
        goto out;
    if (sodium_memcmp(origin_pk.b, env.sender.b, sizeof origin_pk.b) != 0) {
        r = CS_ERR_KEY;
        goto out;
    }
    if ((r = cs_envelope_open(&env, me, deployment, &plain, &plain_len)) != 0 ||
        (r = cs_batch_parse(plain, plain_len, &b)) != 0)
        goto out;
    if (memcmp(b.origin.b, env.sender_id.b, CS_NODE_ID_BYTES) != 0) {
        r = CS_ERR_KEY; /* a batch must travel in its origin's envelope */
        goto out;
    }
    memset(&ref, 0, sizeof ref);
    ref.origin = b.origin;
    if ((r = cs_store_head(s, &b.origin, &ref.seq, ref.prev)) != 0)
        goto out;
    if (b.seq <= ref.seq) {
        /* Applied before: verify the signature all the same, then let the
           store count it as duplicates without touching anything. */
        if ((r = cs_batch_verify(&b, &origin_pk, deployment, b.seq,
                                 b.prev_hash)) != 0)
            goto out;
        ref.seq = b.seq;
        memcpy(ref.hash, b.hash, CS_HASH_BYTES);
        r = cs_store_apply_batch(s, &ref, NULL, 0, st);
        goto out;
    }
    if ((r = cs_batch_verify(&b, &origin_pk, deployment, ref.seq + 1,
                             ref.prev)) != 0 ||
        (r = cs_batch_payload(&b, &raw, &raw_len)) != 0 ||
        (r = cs_changeset_decode(raw, raw_len, &cs)) != 0 ||
        (r = s_match_header(&b, cs, relay)) != 0)
        goto out;
    ref.seq = b.seq;
    memcpy(ref.prev, b.prev_hash, CS_HASH_BYTES);
    memcpy(ref.hash, b.hash, CS_HASH_BYTES);
    r = cs_store_apply_batch(s, &ref, cs_changeset_changes(cs),
                             cs_changeset_count(cs), st);
out:
    cs_changeset_destroy(&cs);
    if (raw != NULL) {
        sodium_memzero(raw, raw_len); /* personal data */
        free(raw);
    }
    if (plain != NULL)
        cs_envelope_plain_free(plain, plain_len);
    return r;
}
