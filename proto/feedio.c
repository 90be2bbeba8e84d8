/*  proto/feedio.c - seal changes into a batch, open an envelope back into
 *  verified changes; see feedio.h.  */
#include "proto_prelude.h"

#include "feedio.h"

int
cs_feedio_seal(const struct cs_key *k,
               const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint64_t seq,
               const uint8_t prev[CS_HASH_BYTES], const struct cs_change *ch,
               size_t n, struct cs_writer *out, uint8_t hash[CS_HASH_BYTES],
               size_t *raw_len)
{
    struct cs_writer payload;
    struct cs_batch_head head;
    int r;

    if (n == 0 || n > CS_BATCH_CHANGES_MAX)
        return CS_ERR_INVALID;
    cs_writer_init(&payload, CS_PAYLOAD_RAW_MAX);
    memset(&head, 0, sizeof head);
    if ((r = cs_changeset_encode(ch, n, &payload)) != 0)
        goto out;
    memcpy(head.deployment, deployment, CS_DEPLOYMENT_BYTES);
    head.seq = seq;
    memcpy(head.prev_hash, prev, CS_HASH_BYTES);
    head.count = n;
    head.hlc_min = head.hlc_max = ch[0].hlc;
    for (size_t i = 1; i < n; i++) {
        if (ch[i].hlc.t < head.hlc_min.t)
            head.hlc_min = ch[i].hlc;
        if (ch[i].hlc.t > head.hlc_max.t)
            head.hlc_max = ch[i].hlc;
    }
    if (raw_len != NULL)
        *raw_len = cs_writer_len(&payload);
    r = cs_batch_seal(k, &head, cs_writer_data(&payload),
                      cs_writer_len(&payload), CS_BATCH_COMPRESSION_ZSTD, out,
                      hash);
out:
    cs_writer_wipe(&payload); /* the change list may hold personal data */
    return r;
}

void
cs_feedio_done(struct cs_feedio_in *in)
{
    cs_changeset_destroy(&in->cs);
    if (in->raw != NULL) {
        sodium_memzero(in->raw, in->raw_len); /* personal data */
        free(in->raw);
    }
    if (in->plain != NULL)
        cs_envelope_plain_free(in->plain, in->plain_len);
    memset(in, 0, sizeof *in);
}

int
cs_feedio_open(struct cs_feedio_in *in, const struct cs_key *me,
               const uint8_t deployment[CS_DEPLOYMENT_BYTES],
               const uint8_t *envelope, size_t len, cs_feedio_lookup_fn lookup,
               void *arg)
{
    struct cs_envelope env;
    int r;

    memset(in, 0, sizeof *in);
    if ((r = cs_envelope_parse(envelope, len, &env)) != 0)
        goto out;
    if (env.kind != CS_ENVELOPE_KIND_BATCH) {
        r = CS_ERR_FORMAT;
        goto out;
    }
    /* Know the sender before spending work on decryption. */
    if ((r = lookup(arg, &env.sender_id, &in->origin_pk)) != 0)
        goto out;
    if (sodium_memcmp(in->origin_pk.b, env.sender.b, sizeof env.sender.b) !=
        0) {
        r = CS_ERR_KEY;
        goto out;
    }
    if ((r = cs_envelope_open(&env, me, deployment, &in->plain,
                              &in->plain_len)) != 0 ||
        (r = cs_batch_parse(in->plain, in->plain_len, &in->batch)) != 0)
        goto out;
    if (memcmp(in->batch.origin.b, env.sender_id.b, CS_NODE_ID_BYTES) != 0)
        r = CS_ERR_KEY; /* a batch travels in its origin's envelope */
out:
    if (r != 0)
        cs_feedio_done(in);
    return r;
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
cs_feedio_verify(struct cs_feedio_in *in,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                 uint64_t head_seq, const uint8_t head_hash[CS_HASH_BYTES],
                 const struct cs_node_id *relay)
{
    const struct cs_batch *b = &in->batch;
    int r;

    if (b->seq <= head_seq) {
        /* Applied before: check the signature all the same, so a forged
           old batch is not mistaken for a harmless replay. */
        in->duplicate = true;
        return cs_batch_verify(b, &in->origin_pk, deployment, b->seq,
                               b->prev_hash);
    }
    if ((r = cs_batch_verify(b, &in->origin_pk, deployment, head_seq + 1,
                             head_hash)) != 0 ||
        (r = cs_batch_payload(b, &in->raw, &in->raw_len)) != 0 ||
        (r = cs_changeset_decode(in->raw, in->raw_len, &in->cs)) != 0)
        return r;
    return s_match_header(b, in->cs, relay);
}

const struct cs_change *
cs_feedio_changes(const struct cs_feedio_in *in, size_t *n)
{
    if (in->cs == NULL) {
        *n = 0;
        return NULL;
    }
    *n = cs_changeset_count(in->cs);
    return cs_changeset_changes(in->cs);
}
