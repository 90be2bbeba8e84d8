/*  tests/unit/envelope_test.c - tests of proto/envelope.c.
 *
 *  The vector tests/vectors/envelope-1.vec was computed without libsodium
 *  (Python hashlib + `cryptography`); resealing it from its seeds and nonce
 *  must give the same bytes, and opening it the same header and payload.
 *  Then the tamper suite: every byte flipped (four masks each),
 *  every truncation, appended bytes, wrong recipient key, other deployment,
 *  another sender key in the header; each variant is refused with the
 *  error its position calls for, and leaves every output zeroed.  Round
 *  trips cover 0 B to 10 MiB and an envelope of exactly CS_ENVELOPE_MAX.
 */
#include "proto_prelude.h"

#include "chunk.h"
#include "envelope.h"
#include "err.h"
#include "key.h"
#include "mem.h"
#include "test.h"
/* vectors.h's snprintf of the error line trips gcc's -Wformat-truncation
   at -O2 (reported to the lead); silence it for that header only. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "vectors.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "writer.h"

/* envelope-1.vec's inputs (also listed in its comments). */
#define V1_SENDER_SEED                                                         \
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define V1_RECIPIENT_SEED                                                      \
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define V1_DEPLOYMENT "cigsync vector 1" /* 16 bytes, no NUL used */
#define V1_NONCE "404142434445464748494a4b4c4d4e4f5051525354555657"
#define V1_PAYLOAD "hello Kochkor, this is Isfana"
#define V1_ENVELOPE_ID "6a37b7d926cfb05ce3c1b4f90ffd7e6c" /* BLAKE2b-128 */
#define V1_AEAD_KEY                                                            \
    "7e1a55f19460d9f10df5119c694da8afa866ee5131f16540b3abfb437a99018c"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* Header field offsets (envelope.h's table). */
#define OFF_VERSION 4
#define OFF_KIND 5
#define OFF_DEPLOYMENT 6
#define OFF_SENDER 22
#define OFF_RECIPIENT 54
#define OFF_NONCE 70

static const uint8_t dep_a[CS_DEPLOYMENT_BYTES] = "deployment-prod";
static const uint8_t dep_b[CS_DEPLOYMENT_BYTES] = "deployment-test";

static void
unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t bin_len = 0;
    int r = sodium_hex2bin(out, n, hex, strlen(hex), NULL, &bin_len, NULL);
    if (r != 0 || bin_len != n)
        abort();
}

static struct cs_key *
seed_key(const char *hex)
{
    uint8_t seed[CS_KEY_SEED_BYTES];
    struct cs_key *k = NULL;
    unhex(hex, seed, sizeof seed);
    if (cs_key_from_seed(seed, &k) != 0)
        abort();
    return k;
}

static struct cs_key *
gen_key(void)
{
    struct cs_key *k = NULL;
    if (cs_key_generate(&k) != 0 || k == NULL)
        abort();
    return k;
}

/* Seals payload from a to b in dep_a; aborts on failure (not under test).
   Returns the envelope, malloc'd, and its length in *len. */
static uint8_t *
seal(const struct cs_key *a, const struct cs_key *b, const uint8_t *payload,
     size_t n, size_t *len)
{
    struct cs_writer w;
    uint8_t *p = NULL;

    cs_writer_init(&w, CS_ENVELOPE_MAX);
    if (cs_envelope_seal(a, cs_key_public(b), dep_a, CS_ENVELOPE_KIND_BATCH,
                         payload, n, &w) != 0 ||
        cs_writer_take(&w, &p, len) != 0)
        abort();
    return p;
}

/* Parses and opens len bytes at p as k in dep; returns the first error.
   Checks that a failure leaves every output zeroed, and that a success
   gives back want (want_len bytes) when want is not NULL. */
static int
try_open(const uint8_t *p, size_t len, const struct cs_key *k,
         const uint8_t *dep, const uint8_t *want, size_t want_len)
{
    struct cs_envelope env, zero;
    uint8_t *plain = (uint8_t *)&env; /* anything but NULL */
    size_t plain_len = 1;
    int r;

    memset(&zero, 0, sizeof zero);
    memset(&env, 0xaa, sizeof env);
    if ((r = cs_envelope_parse(p, len, &env)) != 0) {
        CS_CHECK(memcmp(&env, &zero, sizeof env) == 0);
        return r;
    }
    if ((r = cs_envelope_open(&env, k, dep, &plain, &plain_len)) != 0) {
        CS_CHECK(plain == NULL);
        CS_CHECK_INT(plain_len, 0);
        return r;
    }
    CS_CHECK(plain != NULL);
    CS_CHECK_INT(plain_len, len - CS_ENVELOPE_OVERHEAD);
    if (plain != NULL && want != NULL) {
        CS_CHECK_INT(plain_len, want_len);
        CS_CHECK(plain_len == want_len &&
                 (want_len == 0 || memcmp(plain, want, want_len) == 0));
    }
    cs_envelope_plain_free(plain, plain_len);
    return 0;
}

static void
hex_line(char **line, const char *field, const uint8_t *p, size_t n)
{
    char hex[2 * CS_PUBKEY_BYTES + 1];
    if (2 * n + 1 > sizeof hex)
        abort();
    sodium_bin2hex(hex, sizeof hex, p, n);
    *line = cs_xasprintf("%s = %s", field, hex);
}

static void
test_vector(void)
{
    struct vector v;
    struct cs_key *sender = seed_key(V1_SENDER_SEED);
    struct cs_key *recipient = seed_key(V1_RECIPIENT_SEED);
    uint8_t nonce[CS_ENVELOPE_NONCE_BYTES];
    uint8_t dep[CS_DEPLOYMENT_BYTES];
    struct cs_writer w;
    struct cs_envelope env;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    char *got[8] = {NULL};
    size_t n = 0;

    CS_REQUIRE(vector_load("envelope-1", &v) == 0);
    unhex(V1_NONCE, nonce, sizeof nonce);
    memcpy(dep, V1_DEPLOYMENT, sizeof dep);

    /* Resealing from the listed inputs gives exactly the vector. */
    cs_writer_init(&w, CS_ENVELOPE_MAX);
    CS_CHECK_INT(cs_envelope_seal_with_nonce(sender, cs_key_public(recipient),
                                             dep, CS_ENVELOPE_KIND_BATCH,
                                             (const uint8_t *)V1_PAYLOAD,
                                             strlen(V1_PAYLOAD), nonce, &w),
                 0);
    CS_CHECK_INT(cs_writer_len(&w), v.len);
    CS_CHECK(cs_writer_len(&w) == v.len &&
             memcmp(cs_writer_data(&w), v.input, v.len) == 0);
    cs_writer_free(&w);

    /* Parsing and opening the vector gives its expect lines. */
    CS_CHECK_INT(cs_envelope_parse(v.input, v.len, &env), 0);
    got[n++] = cs_xasprintf("version = %u", env.version);
    got[n++] = cs_xasprintf("kind = %u", env.kind);
    hex_line(&got[n++], "deployment", env.deployment, CS_DEPLOYMENT_BYTES);
    hex_line(&got[n++], "sender", env.sender.b, sizeof env.sender.b);
    hex_line(&got[n++], "sender_id", env.sender_id.b, sizeof env.sender_id.b);
    hex_line(&got[n++], "recipient", env.recipient.b, sizeof env.recipient.b);
    CS_CHECK_INT(cs_envelope_open(&env, recipient, dep, &plain, &plain_len), 0);
    got[n++] = cs_xasprintf("payload = %.*s", (int)plain_len,
                            plain != NULL ? (const char *)plain : "");
    CS_CHECK_INT(vector_check(&v, got, n), 0);
    cs_envelope_plain_free(plain, plain_len);

    /* The envelope id quoted in the vector and PROTOCOL.md. */
    struct cs_chunk_id id;
    char id_hex[2 * CS_CHUNK_ID_BYTES + 1];
    cs_chunk_id_from_bytes(v.input, v.len, &id);
    sodium_bin2hex(id_hex, sizeof id_hex, id.b, sizeof id.b);
    CS_CHECK_STR(id_hex, V1_ENVELOPE_ID);

    /* The AEAD key quoted in the vector, from either side. */
    uint8_t key[CS_KEY_SHARED_BYTES], want_key[CS_KEY_SHARED_BYTES];
    unhex(V1_AEAD_KEY, want_key, sizeof want_key);
    CS_CHECK_INT(cs_key_shared(sender, cs_key_public(recipient), key), 0);
    CS_CHECK(memcmp(key, want_key, sizeof key) == 0);
    CS_CHECK_INT(cs_key_shared(recipient, cs_key_public(sender), key), 0);
    CS_CHECK(memcmp(key, want_key, sizeof key) == 0);
    sodium_memzero(key, sizeof key);

    /* The parsed sender is the sender's key; the sender cannot open. */
    CS_CHECK(memcmp(env.sender.b, cs_key_public(sender)->b,
                    sizeof env.sender.b) == 0);
    CS_CHECK_INT(try_open(v.input, v.len, sender, dep, NULL, 0),
                 CS_ENVELOPE_ERR_RECIPIENT);

    for (size_t i = 0; i < n; i++)
        free(got[i]);
    vector_free(&v);
    cs_key_destroy(&sender);
    cs_key_destroy(&recipient);
}

static void
test_round_trip(void)
{
    static const size_t sizes[] = {0, 1, 16 * KIB, MIB, 10 * MIB};
    struct cs_key *a = gen_key(), *b = gen_key();
    struct cs_node_id a_id, b_id;

    cs_key_node_id(a, &a_id);
    cs_key_node_id(b, &b_id);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i], len = 0;
        uint8_t *payload = cs_xmalloc(n + 1);
        uint8_t kind =
            i % 2 == 0 ? CS_ENVELOPE_KIND_BATCH : CS_ENVELOPE_KIND_CONTROL;
        struct cs_writer w;
        struct cs_envelope env;
        uint8_t *p = NULL;

        randombytes_buf(payload, n);
        cs_writer_init(&w, CS_ENVELOPE_MAX);
        CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a, kind,
                                      n == 0 ? NULL : payload, n, &w),
                     0);
        CS_CHECK_INT(cs_writer_take(&w, &p, &len), 0);
        CS_CHECK_INT(len, n + CS_ENVELOPE_OVERHEAD);
        CS_CHECK_INT(cs_envelope_parse(p, len, &env), 0);
        CS_CHECK_INT(env.version, CS_ENVELOPE_VERSION);
        CS_CHECK_INT(env.kind, kind);
        CS_CHECK(memcmp(env.deployment, dep_a, sizeof dep_a) == 0);
        CS_CHECK(memcmp(env.sender.b, cs_key_public(a)->b,
                        sizeof env.sender.b) == 0);
        CS_CHECK(memcmp(env.sender_id.b, a_id.b, sizeof a_id.b) == 0);
        CS_CHECK(memcmp(env.recipient.b, b_id.b, sizeof b_id.b) == 0);
        CS_CHECK_INT(env.header.len, CS_ENVELOPE_HEADER_BYTES);
        CS_CHECK_INT(env.ciphertext.len, n + CS_ENVELOPE_TAG_BYTES);
        CS_CHECK_INT(try_open(p, len, b, dep_a, payload, n), 0);
        free(p);
        free(payload);
    }

    /* Random nonces: the same payload twice gives different envelopes. */
    size_t len1 = 0, len2 = 0;
    uint8_t *e1 = seal(a, b, (const uint8_t *)"x", 1, &len1);
    uint8_t *e2 = seal(a, b, (const uint8_t *)"x", 1, &len2);
    CS_CHECK(len1 == len2 && memcmp(e1, e2, len1) != 0);
    free(e1);
    free(e2);

    /* A node may seal for itself (the server's own bundles). */
    e1 = seal(a, a, (const uint8_t *)"self", 4, &len1);
    CS_CHECK_INT(try_open(e1, len1, a, dep_a, (const uint8_t *)"self", 4), 0);
    free(e1);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

/* The error a one-byte change at pos (to value now) must give. */
static int
flip_expect(const uint8_t *env, size_t pos, uint8_t now)
{
    uint8_t curve[crypto_scalarmult_curve25519_BYTES];

    if (pos < OFF_KIND) /* magic, version */
        return CS_ERR_FORMAT;
    if (pos == OFF_KIND)
        return now == CS_ENVELOPE_KIND_BATCH || now == CS_ENVELOPE_KIND_CONTROL
                   ? CS_ERR_CRYPTO
                   : CS_ERR_FORMAT;
    if (pos < OFF_SENDER)
        return CS_ENVELOPE_ERR_DEPLOYMENT;
    if (pos < OFF_RECIPIENT) {
        /* Another sender key: unusable (KEY) or just wrong (CRYPTO). */
        return crypto_sign_ed25519_pk_to_curve25519(curve, env + OFF_SENDER) ==
                       0
                   ? CS_ERR_CRYPTO
                   : CS_ERR_KEY;
    }
    if (pos < OFF_NONCE)
        return CS_ENVELOPE_ERR_RECIPIENT;
    return CS_ERR_CRYPTO; /* nonce, ciphertext, tag */
}

static void
test_tamper_flip(void)
{
    static const uint8_t masks[] = {0x01, 0x03, 0x80, 0xff};
    static const char payload[] =
        "ДОПОЛНЕНИЕ: letter 17 answered by ayil okmotu";
    struct cs_key *a = gen_key(), *b = gen_key();
    size_t len = 0, refused = 0, keys = 0;
    uint8_t *env = seal(a, b, (const uint8_t *)payload, sizeof payload, &len);

    CS_REQUIRE(try_open(env, len, b, dep_a, (const uint8_t *)payload,
                        sizeof payload) == 0);
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            env[pos] ^= masks[m];
            int want = flip_expect(env, pos, env[pos]);
            int got = try_open(env, len, b, dep_a, NULL, 0);
            if (got != want)
                fprintf(stderr, "byte %zu ^ 0x%02x: %s, expected %s\n", pos,
                        masks[m], cs_errname(got), cs_errname(want));
            CS_CHECK_INT(got, want);
            refused += got != 0;
            keys += got == CS_ERR_KEY;
            env[pos] ^= masks[m];
        }
    }
    CS_CHECK_INT(refused, len * sizeof masks);
    CS_CHECK(keys > 0); /* some flips made the sender key unusable */
    /* Undone flips leave a good envelope. */
    CS_CHECK_INT(
        try_open(env, len, b, dep_a, (const uint8_t *)payload, sizeof payload),
        0);
    free(env);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static void
test_tamper_truncate_append(void)
{
    struct cs_key *a = gen_key(), *b = gen_key();
    size_t len = 0;
    uint8_t *env = seal(a, b, (const uint8_t *)"status: sent", 12, &len);

    /* Every truncation: the header or tag missing, or a shorter body. */
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = cs_xmalloc(n + 1);
        memcpy(cut, env, n);
        CS_CHECK_INT(try_open(n == 0 ? NULL : cut, n, b, dep_a, NULL, 0),
                     n < CS_ENVELOPE_OVERHEAD ? CS_ERR_TRUNCATED
                                              : CS_ERR_CRYPTO);
        free(cut);
    }
    /* Appended bytes, of any value, become ciphertext and fail the tag. */
    static const size_t extra[] = {1, 2, 16, 17, 1000};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        uint8_t *longer = cs_xcalloc(1, len + extra[i]);
        memcpy(longer, env, len);
        CS_CHECK_INT(try_open(longer, len + extra[i], b, dep_a, NULL, 0),
                     CS_ERR_CRYPTO);
        free(longer);
    }
    free(env);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static void
test_wrong_recipient_deployment(void)
{
    struct cs_key *a = gen_key(), *b = gen_key(), *c = gen_key();
    size_t len = 0;
    uint8_t *env = seal(a, b, (const uint8_t *)"plan", 4, &len);

    CS_CHECK_INT(try_open(env, len, c, dep_a, NULL, 0),
                 CS_ENVELOPE_ERR_RECIPIENT);
    CS_CHECK_INT(try_open(env, len, a, dep_a, NULL, 0),
                 CS_ENVELOPE_ERR_RECIPIENT);
    CS_CHECK_INT(try_open(env, len, b, dep_b, NULL, 0),
                 CS_ENVELOPE_ERR_DEPLOYMENT);
    /* Recipient is checked before deployment. */
    CS_CHECK_INT(try_open(env, len, c, dep_b, NULL, 0),
                 CS_ENVELOPE_ERR_RECIPIENT);

    /* Readdressed: an envelope for c, its recipient id edited to b's. */
    size_t len_c = 0;
    uint8_t *for_c = seal(a, c, (const uint8_t *)"plan", 4, &len_c);
    struct cs_node_id b_id;
    cs_key_node_id(b, &b_id);
    memcpy(for_c + OFF_RECIPIENT, b_id.b, sizeof b_id.b);
    CS_CHECK_INT(try_open(for_c, len_c, b, dep_a, NULL, 0), CS_ERR_CRYPTO);

    /* Moved to another deployment by editing the header: the tag fails. */
    memcpy(env + OFF_DEPLOYMENT, dep_b, sizeof dep_b);
    CS_CHECK_INT(try_open(env, len, b, dep_b, NULL, 0), CS_ERR_CRYPTO);
    free(for_c);
    free(env);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
    cs_key_destroy(&c);
}

static void
test_sender_swapped(void)
{
    struct cs_key *a = gen_key(), *b = gen_key(), *c = gen_key();
    size_t len = 0;
    uint8_t *env = seal(a, b, (const uint8_t *)"need", 4, &len);
    struct cs_envelope parsed;
    struct cs_node_id c_id;

    /* c's key in the header: parses, names c, but does not open. */
    memcpy(env + OFF_SENDER, cs_key_public(c)->b, CS_PUBKEY_BYTES);
    CS_CHECK_INT(cs_envelope_parse(env, len, &parsed), 0);
    cs_key_node_id(c, &c_id);
    CS_CHECK(memcmp(parsed.sender_id.b, c_id.b, sizeof c_id.b) == 0);
    CS_CHECK_INT(try_open(env, len, b, dep_a, NULL, 0), CS_ERR_CRYPTO);
    /* The recipient's own key as sender. */
    memcpy(env + OFF_SENDER, cs_key_public(b)->b, CS_PUBKEY_BYTES);
    CS_CHECK_INT(try_open(env, len, b, dep_a, NULL, 0), CS_ERR_CRYPTO);
    /* Unusable keys: small order (0 and 1 as y), y >= p. */
    static const uint8_t small[2][CS_PUBKEY_BYTES] = {{0}, {1}};
    for (size_t i = 0; i < 2; i++) {
        memcpy(env + OFF_SENDER, small[i], CS_PUBKEY_BYTES);
        CS_CHECK_INT(try_open(env, len, b, dep_a, NULL, 0), CS_ERR_KEY);
    }
    memset(env + OFF_SENDER, 0xff, CS_PUBKEY_BYTES);
    CS_CHECK_INT(try_open(env, len, b, dep_a, NULL, 0), CS_ERR_KEY);
    free(env);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
    cs_key_destroy(&c);
}

static void
test_parse_refusals(void)
{
    struct cs_key *a = gen_key(), *b = gen_key();
    size_t len = 0;
    uint8_t *env = seal(a, b, NULL, 0, &len);
    struct cs_envelope parsed;

    CS_REQUIRE(len == CS_ENVELOPE_OVERHEAD);
    CS_CHECK_INT(try_open(env, len, b, dep_a, NULL, 0), 0);
    /* Versions and kinds other than the defined ones. */
    for (unsigned v = 0; v <= UINT8_MAX; v++) {
        env[OFF_VERSION] = (uint8_t)v;
        CS_CHECK_INT(cs_envelope_parse(env, len, &parsed),
                     v == CS_ENVELOPE_VERSION ? 0 : CS_ERR_FORMAT);
    }
    env[OFF_VERSION] = CS_ENVELOPE_VERSION;
    for (unsigned k = 0; k <= UINT8_MAX; k++) {
        env[OFF_KIND] = (uint8_t)k;
        CS_CHECK_INT(cs_envelope_parse(env, len, &parsed),
                     k == CS_ENVELOPE_KIND_BATCH ||
                             k == CS_ENVELOPE_KIND_CONTROL
                         ? 0
                         : CS_ERR_FORMAT);
    }
    CS_CHECK_INT(cs_envelope_parse(NULL, 0, &parsed), CS_ERR_TRUNCATED);
    /* Opening a struct that did not come from a successful parse. */
    uint8_t *plain = env;
    size_t plain_len = 1;
    memset(&parsed, 0, sizeof parsed);
    CS_CHECK_INT(cs_envelope_open(&parsed, b, dep_a, &plain, &plain_len),
                 CS_ERR_INVALID);
    CS_CHECK(plain == NULL && plain_len == 0);
    cs_envelope_plain_free(NULL, 0); /* no-op */
    free(env);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static void
test_limits(void)
{
    struct cs_key *a = gen_key(), *b = gen_key();
    struct cs_writer w;
    struct cs_envelope env;
    uint8_t *payload = NULL, *p = NULL;
    size_t len = 0;

    /* One byte over CS_ENVELOPE_MAX: refused before reading it (the
       buffer is untouched calloc memory, so this costs no RSS). */
    uint8_t *huge = cs_xcalloc(1, CS_ENVELOPE_MAX + 1);
    CS_CHECK_INT(cs_envelope_parse(huge, CS_ENVELOPE_MAX + 1, &env),
                 CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_envelope_parse(huge, CS_ENVELOPE_MAX, &env), CS_ERR_FORMAT);
    cs_writer_init(&w, SIZE_MAX);
    CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a,
                                  CS_ENVELOPE_KIND_BATCH, huge,
                                  CS_ENVELOPE_PAYLOAD_MAX + 1, &w),
                 CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    free(huge);

    /* The largest payload makes an envelope of exactly CS_ENVELOPE_MAX. */
    payload = cs_xmalloc(CS_ENVELOPE_PAYLOAD_MAX);
    memset(payload, 'x', CS_ENVELOPE_PAYLOAD_MAX);
    cs_writer_init(&w, CS_ENVELOPE_MAX);
    CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a,
                                  CS_ENVELOPE_KIND_BATCH, payload,
                                  CS_ENVELOPE_PAYLOAD_MAX, &w),
                 0);
    CS_CHECK_INT(cs_writer_take(&w, &p, &len), 0);
    CS_CHECK_INT(len, CS_ENVELOPE_MAX);
    CS_CHECK_INT(try_open(p, len, b, dep_a, payload, CS_ENVELOPE_PAYLOAD_MAX),
                 0);
    free(p);
    free(payload);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static void
test_seal_refusals(void)
{
    struct cs_key *a = gen_key(), *b = gen_key();
    static const uint8_t kinds[] = {0, 3, 0x80, 0xff};
    struct cs_writer w;
    struct cs_pubkey bad;

    cs_writer_init(&w, CS_ENVELOPE_MAX);
    for (size_t i = 0; i < sizeof kinds; i++) {
        CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a, kinds[i],
                                      (const uint8_t *)"x", 1, &w),
                     CS_ERR_INVALID);
        CS_CHECK_INT(cs_writer_len(&w), 0);
    }
    /* A writer that is not empty. */
    CS_CHECK_INT(cs_writer_u8(&w, 1), 0);
    CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a,
                                  CS_ENVELOPE_KIND_BATCH, NULL, 0, &w),
                 CS_ERR_INVALID);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    CS_CHECK_INT(cs_writer_status(&w), 0);
    /* A writer whose maximum is one byte short. */
    cs_writer_init(&w, CS_ENVELOPE_OVERHEAD + 4 - 1);
    CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a,
                                  CS_ENVELOPE_KIND_BATCH,
                                  (const uint8_t *)"four", 4, &w),
                 CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    CS_CHECK_INT(cs_writer_status(&w), 0);
    /* ... and exactly enough. */
    cs_writer_init(&w, CS_ENVELOPE_OVERHEAD + 4);
    CS_CHECK_INT(cs_envelope_seal(a, cs_key_public(b), dep_a,
                                  CS_ENVELOPE_KIND_CONTROL,
                                  (const uint8_t *)"four", 4, &w),
                 0);
    cs_writer_free(&w);
    /* Unusable recipient keys. */
    memset(&bad, 0, sizeof bad);
    cs_writer_init(&w, CS_ENVELOPE_MAX);
    CS_CHECK_INT(
        cs_envelope_seal(a, &bad, dep_a, CS_ENVELOPE_KIND_BATCH, NULL, 0, &w),
        CS_ERR_KEY);
    memset(&bad, 0xff, sizeof bad);
    CS_CHECK_INT(
        cs_envelope_seal(a, &bad, dep_a, CS_ENVELOPE_KIND_BATCH, NULL, 0, &w),
        CS_ERR_KEY);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static const struct cs_test_case cases[] = {
    {"vector", test_vector},
    {"round_trip", test_round_trip},
    {"tamper_flip", test_tamper_flip},
    {"tamper_truncate_append", test_tamper_truncate_append},
    {"wrong_recipient_deployment", test_wrong_recipient_deployment},
    {"sender_swapped", test_sender_swapped},
    {"parse_refusals", test_parse_refusals},
    {"limits", test_limits},
    {"seal_refusals", test_seal_refusals},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
