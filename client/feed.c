/*  client/feed.c - seal pending changes into batches; see feed.h.  */
#include "prelude.h"

#include "changes.h"
#include "err.h"
#include "feed.h"
#include "feedio.h"
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
    struct cs_writer batch;
    struct cs_feed_entry entry;
    uint64_t first, last;
    size_t count, raw_len = 0;
    int r;

    *sealed = false;
    cs_changes_init(&pending);
    cs_writer_init(&batch, CS_BATCH_MAX);
    memset(&entry, 0, sizeof entry);
    if ((r = cs_store_feed_head(s, &entry.seq, entry.prev)) != 0 ||
        (r = cs_store_pending(s, max, cs_changes_collect, &pending, &first,
                              &last, &count)) != 0)
        goto out;
    if (count == 0)
        goto out;
    if ((r = cs_feedio_seal(k, deployment, entry.seq + 1, entry.prev,
                            cs_changes_items(&pending), count, &batch,
                            entry.hash, &raw_len)) != 0)
        goto out;
    entry.seq++;
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
    st->raw_bytes += raw_len;
    st->bytes += cs_writer_len(&batch);
out:
    cs_writer_free(&batch);
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

int
cs_feed_accept(struct cs_store *s, const struct cs_key *me,
               const uint8_t deployment[CS_DEPLOYMENT_BYTES],
               const uint8_t *envelope, size_t len,
               const struct cs_node_id *relay, cs_feed_lookup_fn lookup,
               void *arg, struct cs_apply_stats *st)
{
    struct cs_feedio_in in;
    struct cs_batch_ref ref;
    const struct cs_change *ch;
    size_t n;
    int r;

    if ((r = cs_feedio_open(&in, me, deployment, envelope, len, lookup, arg)) !=
        0)
        return r;
    memset(&ref, 0, sizeof ref);
    ref.origin = in.batch.origin;
    if ((r = cs_store_head(s, &ref.origin, &ref.seq, ref.prev)) != 0 ||
        (r = cs_feedio_verify(&in, deployment, ref.seq, ref.prev, relay)) != 0)
        goto out;
    /* A duplicate goes to the store all the same, with no changes: it
       counts it, or refuses it as a fork if its hash is not the one
       applied at that seq. */
    ref.seq = in.batch.seq;
    memcpy(ref.prev, in.batch.prev_hash, CS_HASH_BYTES);
    memcpy(ref.hash, in.batch.hash, CS_HASH_BYTES);
    ch = cs_feedio_changes(&in, &n);
    r = cs_store_apply_batch(s, &ref, ch, n, st);
out:
    cs_feedio_done(&in);
    return r;
}
