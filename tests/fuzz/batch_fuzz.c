/*  tests/fuzz/batch_fuzz.c - libFuzzer target for proto/batch.c.
 *
 *  Targets: cs_batch_parse(), cs_batch_verify() and cs_batch_payload().
 *  Arbitrary bytes are parsed as the wire form of a batch; whatever parses
 *  is verified with the fixed key of tests/vectors/batch-*.vec (seed
 *  00 01 .. 1f) and its payload decompressed, signature or not: the
 *  decompressor must be safe on any parsed batch (batch.h), so it is
 *  fuzzed directly rather than only behind a signature nobody can forge.
 *  Besides memory safety, the contract is checked and any breach
 *  abort()s: a refused parse leaves the struct zeroed; views lie inside
 *  the input; the hash is BLAKE2b-256 of the body; a refused payload
 *  leaves nothing allocated; an accepted one has exactly raw_len bytes;
 *  only the vector key's own batches verify.  Deterministic: no clock, no
 *  randomness.  Seed corpus: tests/fuzz/corpus/batch/ (the vectors and
 *  damaged copies of them).
 */
#include "proto_prelude.h"

#include "batch.h"
#include "err.h"
#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool cond)
{
    if (!cond)
        abort();
}

/* A view must be inside [data, data + size). */
static void
check_view(const struct cs_view *v, const uint8_t *data, size_t size)
{
    uintptr_t lo = (uintptr_t)data, p = (uintptr_t)v->p;
    require(v->p != NULL || v->len == 0);
    if (v->p != NULL)
        require(p >= lo && v->len <= size && p - lo <= size - v->len);
}

/* The key of the vectors, made once. */
static struct cs_key *
vector_key(void)
{
    static struct cs_key *k;
    uint8_t seed[CS_KEY_SEED_BYTES];

    if (k != NULL)
        return k;
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)i;
    require(cs_key_from_seed(seed, &k) == 0);
    return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct cs_key *k = vector_key();
    struct cs_batch b, zero;
    uint8_t hash[CS_HASH_BYTES];
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    struct cs_node_id id;
    int r;

    memset(&zero, 0, sizeof zero);
    if (cs_batch_parse(data, size, &b) != 0) {
        require(memcmp(&b, &zero, sizeof b) == 0);
        return 0;
    }
    check_view(&b.body, data, size);
    check_view(&b.payload, data, size);
    require(b.seq >= 1 && b.hlc_min.t <= b.hlc_max.t);
    require(b.raw_len <= CS_PAYLOAD_RAW_MAX);
    crypto_generichash(hash, sizeof hash, b.body.p, b.body.len, NULL, 0);
    require(memcmp(hash, b.hash, sizeof hash) == 0);

    r = cs_batch_verify(&b, cs_key_public(k), b.deployment, b.seq, b.prev_hash);
    cs_key_node_id(k, &id);
    if (memcmp(id.b, b.origin.b, sizeof id.b) != 0)
        require(r == CS_ERR_KEY);
    else
        require(r == 0 || r == CS_ERR_SIGNATURE);

    r = cs_batch_payload(&b, &raw, &raw_len);
    if (r != 0) {
        require(raw == NULL && raw_len == 0);
        return 0;
    }
    require(raw != NULL && raw_len == b.raw_len);
    if (b.compression == CS_BATCH_COMPRESSION_NONE)
        require(memcmp(raw, b.payload.p, raw_len) == 0);
    free(raw);
    return 0;
}
