/*  tests/fuzz/bundle_fuzz.c - fuzz target for the bundle parser.
 *
 *  Target: cs_bundle_parse() and cs_bundle_next() (proto/bundle.c) over the
 *  input as a whole file, and again with the hash trailer recomputed so
 *  that the framing behind the hash gets explored too.
 *  Properties checked besides memory safety: a parsed bundle yields
 *  exactly head.count envelopes, each of 1..CS_ENVELOPE_MAX bytes and
 *  inside the input, and then CS_ERR_NOT_FOUND; re-encoding them with
 *  cs_bundle_begin/add/finish (signed with a fixed key) gives the input
 *  back byte for byte up to the signature; a signature check with that key
 *  does not crash.
 *  Seed corpus: tests/fuzz/corpus/bundle/.
 */
#include "proto_prelude.h"

#include "bundle.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cs_key *s_key; /* a fixed key, made once */

static void
s_check(const struct cs_key *k, const uint8_t *p, size_t len)
{
    struct cs_bundle b;
    struct cs_view env;
    struct cs_writer w;
    uint32_t n = 0;

    if (cs_bundle_parse(p, len, &b) != 0)
        return;
    cs_writer_init(&w, CS_BUNDLE_MAX);
    if (cs_bundle_begin(&w, &b.head) != 0)
        abort();
    while (cs_bundle_next(&b, &env) == 0) {
        if (env.len == 0 || env.len > CS_ENVELOPE_MAX || env.p < p ||
            env.p + env.len > p + len)
            abort();
        if (cs_bundle_add(&w, env.p, env.len) != 0)
            abort();
        n++;
    }
    if (n != b.head.count || cs_bundle_finish(&w, k) != 0 ||
        cs_writer_len(&w) != len ||
        memcmp(cs_writer_data(&w), p, len - CS_BUNDLE_SIG_BYTES) != 0)
        abort();
    (void)cs_bundle_verify(&b, cs_key_public(k));
    cs_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t seed[CS_KEY_SEED_BYTES] = {1};
    uint8_t *copy;

    if (s_key == NULL &&
        (sodium_init() < 0 || cs_key_from_seed(seed, &s_key) != 0))
        abort();
    s_check(s_key, data, size);
    if (size < CS_BUNDLE_HEAD_BYTES + CS_BUNDLE_TRAILER_BYTES ||
        size > (1u << 20))
        return 0;
    copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    crypto_generichash(copy + size - CS_BUNDLE_TRAILER_BYTES,
                       CS_BUNDLE_HASH_BYTES, copy,
                       size - CS_BUNDLE_TRAILER_BYTES, NULL, 0);
    s_check(s_key, copy, size);
    free(copy);
    return 0;
}
