/*  tests/fuzz/envelope_fuzz.c - fuzz target for envelopes.
 *
 *  Targets: cs_envelope_parse() on the input, then cs_envelope_open() with
 *  the fixed recipient key and deployment of tests/vectors/envelope-1.vec
 *  (proto/envelope.c); and cs_envelope_seal_with_nonce() with the input as
 *  payload, followed by a parse and an open that must give it back.
 *  Properties checked besides memory safety: a refusal leaves every output
 *  zeroed; a parsed sender id is the hash of the parsed sender key; an
 *  envelope that opens has exactly CS_ENVELOPE_OVERHEAD bytes more than
 *  its payload, and if its sender is the fixed sender key, resealing the
 *  payload with its nonce gives back the very same bytes.  Deterministic:
 *  fixed keys and nonces, no clock.  Seed corpus: tests/fuzz/corpus/
 *  envelope/ (envelope-1, an empty control envelope, and broken ones:
 *  truncated, wrong magic, version or kind, other recipient or deployment,
 *  a flipped tag, an unusable sender key).
 */
#include "proto_prelude.h"

#include "envelope.h"
#include "err.h"
#include "key.h"
#include "writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keys of envelope-1.vec: seeds 00..1f (sender) and 20..3f (recipient). */
#define S_SEED_SENDER 0x00
#define S_SEED_RECIPIENT 0x20
#define S_ROUND_TRIP_MAX 4096 /* payload bytes sealed per input */

static const uint8_t s_deployment[CS_DEPLOYMENT_BYTES] = {
    'c', 'i', 'g', 's', 'y', 'n', 'c', ' ',
    'v', 'e', 'c', 't', 'o', 'r', ' ', '1'};
static const uint8_t s_nonce[CS_ENVELOPE_NONCE_BYTES] = {1, 2, 3};
static struct cs_key *s_sender;    /* made once, never freed */
static struct cs_key *s_recipient; /* made once, never freed */

static struct cs_key *
s_key(uint8_t first)
{
    uint8_t seed[CS_KEY_SEED_BYTES];
    struct cs_key *k = NULL;

    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(first + i);
    if (cs_key_from_seed(seed, &k) != 0)
        abort();
    return k;
}

/* Parses and opens the input; checks the properties above. */
static void
s_open(const uint8_t *data, size_t size)
{
    struct cs_envelope env, zero;
    struct cs_node_id id;
    struct cs_writer w;
    uint8_t *plain = (uint8_t *)&env;
    size_t plain_len = 1;

    memset(&zero, 0, sizeof zero);
    if (cs_envelope_parse(data, size, &env) != 0) {
        if (memcmp(&env, &zero, sizeof env) != 0)
            abort();
        return;
    }
    cs_node_id_from_pubkey(&env.sender, &id);
    if (memcmp(id.b, env.sender_id.b, sizeof id.b) != 0 ||
        env.header.len != CS_ENVELOPE_HEADER_BYTES ||
        env.ciphertext.len != size - CS_ENVELOPE_HEADER_BYTES)
        abort();
    if (cs_envelope_open(&env, s_recipient, s_deployment, &plain, &plain_len) !=
        0) {
        if (plain != NULL || plain_len != 0)
            abort();
        return;
    }
    if (plain == NULL || plain_len != size - CS_ENVELOPE_OVERHEAD)
        abort();
    if (memcmp(env.sender.b, cs_key_public(s_sender)->b, sizeof env.sender.b) ==
        0) {
        cs_writer_init(&w, CS_ENVELOPE_MAX);
        if (cs_envelope_seal_with_nonce(s_sender, cs_key_public(s_recipient),
                                        env.deployment, env.kind, plain,
                                        plain_len, env.nonce, &w) != 0 ||
            cs_writer_len(&w) != size ||
            memcmp(cs_writer_data(&w), data, size) != 0)
            abort();
        cs_writer_free(&w);
    }
    cs_envelope_plain_free(plain, plain_len);
}

/* Seals (a prefix of) the input and opens it again. */
static void
s_round_trip(const uint8_t *data, size_t size)
{
    size_t n = size < S_ROUND_TRIP_MAX ? size : S_ROUND_TRIP_MAX;
    uint8_t kind = size > 0 && (data[0] & 1) ? CS_ENVELOPE_KIND_CONTROL
                                             : CS_ENVELOPE_KIND_BATCH;
    struct cs_writer w;
    struct cs_envelope env;
    uint8_t *plain = NULL;
    size_t plain_len = 0;

    cs_writer_init(&w, CS_ENVELOPE_MAX);
    if (cs_envelope_seal_with_nonce(s_sender, cs_key_public(s_recipient),
                                    s_deployment, kind, data, n, s_nonce,
                                    &w) != 0 ||
        cs_writer_len(&w) != n + CS_ENVELOPE_OVERHEAD)
        abort();
    if (cs_envelope_parse(cs_writer_data(&w), cs_writer_len(&w), &env) != 0 ||
        env.kind != kind ||
        cs_envelope_open(&env, s_recipient, s_deployment, &plain, &plain_len) !=
            0 ||
        plain_len != n || (n > 0 && memcmp(plain, data, n) != 0))
        abort();
    cs_envelope_plain_free(plain, plain_len);
    cs_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (s_sender == NULL) {
        if (cs_crypto_init() != 0)
            abort();
        s_sender = s_key(S_SEED_SENDER);
        s_recipient = s_key(S_SEED_RECIPIENT);
    }
    s_open(data, size);
    s_round_trip(data, size);
    return 0;
}
