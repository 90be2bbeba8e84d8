/*  proto/bundle.c - files of envelopes; see bundle.h.  */
#include "proto_prelude.h"

#include "bundle.h"

#define S_ACKED_AT 58 /* offset of the acknowledgement */
#define S_COUNT_AT 66 /* offset of the count */

static const uint8_t s_magic[CS_BUNDLE_MAGIC_LEN] = {'C', 'S', 'B', 'U',
                                                     'N', 'D', 'L', 'E'};

static void
s_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
s_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

int
cs_bundle_begin(struct cs_writer *w, const struct cs_bundle_head *h)
{
    uint8_t head[CS_BUNDLE_HEAD_BYTES];

    memcpy(head, s_magic, sizeof s_magic);
    head[8] = CS_BUNDLE_VERSION;
    head[9] = h->kind;
    memcpy(head + 10, h->sender.b, CS_NODE_ID_BYTES);
    memcpy(head + 26, h->recipient.b, CS_NODE_ID_BYTES);
    memcpy(head + 42, h->deployment, CS_DEPLOYMENT_BYTES);
    s_put_u32(head + S_ACKED_AT, (uint32_t)(h->acked >> 32));
    s_put_u32(head + S_ACKED_AT + 4, (uint32_t)h->acked);
    s_put_u32(head + S_COUNT_AT, 0);
    return cs_writer_put(w, head, sizeof head);
}

int
cs_bundle_add(struct cs_writer *w, const uint8_t *env, size_t len)
{
    uint8_t n[4];
    const uint8_t *p = cs_writer_data(w);
    uint32_t count;
    int r;

    if (len == 0 || len > CS_ENVELOPE_MAX ||
        cs_writer_len(w) < CS_BUNDLE_HEAD_BYTES ||
        cs_writer_len(w) + 4 + len + CS_BUNDLE_TRAILER_BYTES > CS_BUNDLE_MAX)
        return CS_ERR_TOO_BIG;
    count = s_get_u32(p + S_COUNT_AT);
    if (count >= CS_BUNDLE_ENVELOPES_MAX)
        return CS_ERR_TOO_BIG;
    s_put_u32(n, (uint32_t)len);
    if ((r = cs_writer_put(w, n, sizeof n)) != 0 ||
        (r = cs_writer_put(w, env, len)) != 0)
        return r;
    /* The count lives in the header: rewrite it in place. */
    s_put_u32(n, count + 1);
    return cs_writer_patch(w, S_COUNT_AT, n, sizeof n);
}

/* The signed message: the domain, NUL included, then the hash. */
static void
s_signed(const uint8_t hash[CS_BUNDLE_HASH_BYTES],
         uint8_t msg[sizeof CS_BUNDLE_SIG_DOMAIN + CS_BUNDLE_HASH_BYTES])
{
    memcpy(msg, CS_BUNDLE_SIG_DOMAIN, sizeof CS_BUNDLE_SIG_DOMAIN);
    memcpy(msg + sizeof CS_BUNDLE_SIG_DOMAIN, hash, CS_BUNDLE_HASH_BYTES);
}

int
cs_bundle_finish(struct cs_writer *w, const struct cs_key *k)
{
    uint8_t hash[CS_BUNDLE_HASH_BYTES], sig[CS_BUNDLE_SIG_BYTES];
    uint8_t msg[sizeof CS_BUNDLE_SIG_DOMAIN + CS_BUNDLE_HASH_BYTES];
    int r;

    if (cs_writer_len(w) < CS_BUNDLE_HEAD_BYTES)
        return CS_ERR_INVALID;
    crypto_generichash(hash, sizeof hash, cs_writer_data(w), cs_writer_len(w),
                       NULL, 0);
    s_signed(hash, msg);
    if ((r = cs_key_sign(k, msg, sizeof msg, sig)) != 0 ||
        (r = cs_writer_put(w, hash, sizeof hash)) != 0)
        return r;
    return cs_writer_put(w, sig, sizeof sig);
}

bool
cs_bundle_verify(const struct cs_bundle *b, const struct cs_pubkey *pk)
{
    uint8_t msg[sizeof CS_BUNDLE_SIG_DOMAIN + CS_BUNDLE_HASH_BYTES];

    s_signed(b->hash, msg);
    return cs_key_verify(pk, msg, sizeof msg, b->signature);
}

int
cs_bundle_parse(const uint8_t *p, size_t len, struct cs_bundle *b)
{
    uint8_t hash[CS_BUNDLE_HASH_BYTES];
    size_t at, end;
    uint32_t seen = 0;

    memset(b, 0, sizeof *b);
    if (len < CS_BUNDLE_MAGIC_LEN || memcmp(p, s_magic, sizeof s_magic) != 0)
        return CS_ERR_FORMAT;
    if (len > CS_BUNDLE_MAX)
        return CS_ERR_TOO_BIG;
    if (len < CS_BUNDLE_HEAD_BYTES + CS_BUNDLE_TRAILER_BYTES)
        return CS_ERR_TRUNCATED;
    if (p[8] != CS_BUNDLE_VERSION)
        return CS_ERR_VERSION;
    if (p[9] != CS_BUNDLE_KIND_UP && p[9] != CS_BUNDLE_KIND_DOWN)
        return CS_ERR_FORMAT;
    b->head.kind = p[9];
    memcpy(b->head.sender.b, p + 10, CS_NODE_ID_BYTES);
    memcpy(b->head.recipient.b, p + 26, CS_NODE_ID_BYTES);
    memcpy(b->head.deployment, p + 42, CS_DEPLOYMENT_BYTES);
    b->head.acked = (uint64_t)s_get_u32(p + S_ACKED_AT) << 32 |
                    s_get_u32(p + S_ACKED_AT + 4);
    b->head.count = s_get_u32(p + S_COUNT_AT);
    if (b->head.count > CS_BUNDLE_ENVELOPES_MAX)
        return CS_ERR_FORMAT;
    end = len - CS_BUNDLE_TRAILER_BYTES;
    at = CS_BUNDLE_HEAD_BYTES;
    while (seen < b->head.count) {
        uint32_t n;
        if (end - at < 4)
            return CS_ERR_TRUNCATED;
        n = s_get_u32(p + at);
        if (n == 0 || n > CS_ENVELOPE_MAX)
            return CS_ERR_FORMAT;
        if (end - at - 4 < n)
            return CS_ERR_TRUNCATED;
        at += 4 + (size_t)n;
        seen++;
    }
    if (at != end)
        return CS_ERR_TRAILING;
    crypto_generichash(hash, sizeof hash, p, end, NULL, 0);
    if (sodium_memcmp(hash, p + end, sizeof hash) != 0)
        return CS_ERR_CRYPTO;
    memcpy(b->hash, hash, sizeof hash);
    memcpy(b->signature, p + end + CS_BUNDLE_HASH_BYTES, CS_BUNDLE_SIG_BYTES);
    b->entries = p + CS_BUNDLE_HEAD_BYTES;
    b->entries_len = end - CS_BUNDLE_HEAD_BYTES;
    return 0;
}

int
cs_bundle_next(struct cs_bundle *b, struct cs_view *env)
{
    uint32_t n;

    if (b->taken >= b->head.count || b->entries_len - b->next < 4)
        return CS_ERR_NOT_FOUND;
    n = s_get_u32(b->entries + b->next);
    env->p = b->entries + b->next + 4;
    env->len = n;
    b->next += 4 + (size_t)n;
    b->taken++;
    return 0;
}

const char *
cs_bundle_strerror(int r)
{
    switch (r) {
    case CS_ERR_FORMAT:
        return "not a cigsync bundle";
    case CS_ERR_VERSION:
        return "a bundle of another version";
    case CS_ERR_TOO_BIG:
        return "too large to be a bundle";
    default:
        return "damaged or truncated: nothing was applied";
    }
}
