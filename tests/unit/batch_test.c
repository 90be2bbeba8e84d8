/*  tests/unit/batch_test.c - tests of proto/batch.c.
 *
 *  The vectors tests/vectors/batch-1.vec (stored payload) and batch-2.vec
 *  (zstd, chained to batch-1) decode to their expect lines, verify with
 *  the public key of their seed, and batch-1 reseals to the same bytes
 *  (Ed25519 is deterministic; zstd output may differ between zstd
 *  versions, so batch-2 is checked by decoding only).  Round trips cover
 *  payloads of 0 B to 10 MiB, compressed or not.  Then the tamper
 *  suite: every byte flipped, every truncation, appended bytes, seq or
 *  prev_hash changed under the old signature or re-signed with another
 *  key, replay into another deployment, and decompression bombs; each is
 *  refused with its own error.  Bodies that the sealer would never write
 *  are built here by an encoder of the spec table written independently
 *  of batch.c (s_tb_*).
 */
#include "proto_prelude.h"

#include "batch.h"
#include "err.h"
#include "key.h"
#include "mem.h"
#include "test.h"
/* vectors.h's snprintf of the error line trips gcc's -Wformat-truncation
   at -O2; silence it for that header only (as envelope_test.c does). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "vectors.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "writer.h"

/* The vectors' inputs (also listed in their comments). */
#define V_SEED                                                                 \
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define V_OTHER_SEED                                                           \
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define V_DEPLOYMENT "cigsync vector 1" /* 16 bytes, no NUL used */
#define V1_PAYLOAD "opaque change list, 36 bytes long..."
#define V_HLC_MS 1795737600000ull /* 2026-11-27T00:00:00Z */
#define V2_REPEAT 12              /* copies of V2_LINE in batch-2's payload */
#define V2_LINE "Инициативная группа Исфана: письмо в айыл окмоту. "

#define KIB 1024u
#define MIB (1024u * 1024u)
#define WIRE_MAX (CS_BATCH_MAX)

static const uint8_t dep_a[CS_DEPLOYMENT_BYTES] = "cigsync vector 1";
static const uint8_t dep_b[CS_DEPLOYMENT_BYTES] = "cigsync vector 2";
static const uint8_t zeros[CS_HASH_BYTES];

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

/* Fills p with n bytes of text-like data (compressible) or noise. */
static void
fill(uint8_t *p, size_t n, bool text, uint64_t seed)
{
    static const char *const words[] = {"Isfana ",   "Kochkor ", "letter ",
                                        "answered ", "group ",   "plan ",
                                        "Батken ",   "письмо ",  "жалоба "};
    uint64_t x = seed | 1;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (!text) {
            p[i++] = (uint8_t)(x >> 24);
            continue;
        }
        const char *w = words[x % (sizeof words / sizeof *words)];
        for (size_t k = 0; w[k] != '\0' && i < n; k++)
            p[i++] = (uint8_t)w[k];
    }
}

static struct cs_batch_head
head_of(uint64_t seq, const uint8_t prev[CS_HASH_BYTES], uint64_t count)
{
    struct cs_batch_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.deployment, dep_a, sizeof h.deployment);
    h.seq = seq;
    memcpy(h.prev_hash, prev, CS_HASH_BYTES);
    h.hlc_min = cs_hlc_make(V_HLC_MS, 0);
    h.hlc_max = cs_hlc_make(V_HLC_MS + 1500, 2);
    h.count = count;
    return h;
}

/* Seals into a fresh writer; aborts on failure (not under test here). */
static void
seal(const struct cs_key *k, const struct cs_batch_head *h, const uint8_t *p,
     size_t len, int compression, struct cs_writer *w,
     uint8_t hash[CS_HASH_BYTES])
{
    cs_writer_init(w, WIRE_MAX);
    if (cs_batch_seal(k, h, p, len, compression, w, hash) != 0)
        abort();
}

/* ---- an independent encoder of the body table (PROTOCOL.md) ---------- */

/* Every body field, plus ways to break the layout. */
struct tb {
    const char *magic;                /* "CSB" */
    uint64_t version;                 /* 1 */
    uint8_t deployment[16];           /* bin 16 */
    uint8_t origin[16];               /* bin 16 */
    uint64_t seq;                     /* uint */
    uint8_t prev[32];                 /* bin 32 */
    uint64_t hlc_min, hlc_max, count; /* uints */
    uint64_t compression, raw_len;    /* uints */
    const uint8_t *payload;           /* bin */
    size_t payload_len;               /* its length */
    int nil_at;                       /* field written as nil, or -1 */
    int extra;                        /* fields appended */
};

static struct tb
tb_from(const struct cs_key *k, const struct cs_batch_head *h,
        const uint8_t *payload, size_t len)
{
    struct tb t;
    struct cs_node_id id;
    memset(&t, 0, sizeof t);
    cs_key_node_id(k, &id);
    t.magic = "CSB";
    t.version = 1;
    memcpy(t.deployment, h->deployment, 16);
    memcpy(t.origin, id.b, 16);
    t.seq = h->seq;
    memcpy(t.prev, h->prev_hash, 32);
    t.hlc_min = h->hlc_min.t;
    t.hlc_max = h->hlc_max.t;
    t.count = h->count;
    t.compression = 0;
    t.raw_len = len;
    t.payload = payload;
    t.payload_len = len;
    t.nil_at = -1;
    return t;
}

/* Writes the body of t into w (fresh). */
static void
tb_body(const struct tb *t, struct cs_writer *w)
{
    int r = 0;
    cs_writer_init(w, WIRE_MAX);
    r |= cs_writer_mp_array(w, (uint32_t)(12 + t->extra));
    for (int i = 0; i < 12; i++) {
        if (i == t->nil_at) {
            r |= cs_writer_mp_nil(w);
            continue;
        }
        switch (i) {
        case 0:
            r |= cs_writer_mp_cstr(w, t->magic);
            break;
        case 1:
            r |= cs_writer_mp_uint(w, t->version);
            break;
        case 2:
            r |= cs_writer_mp_bin(w, t->deployment, 16);
            break;
        case 3:
            r |= cs_writer_mp_bin(w, t->origin, 16);
            break;
        case 4:
            r |= cs_writer_mp_uint(w, t->seq);
            break;
        case 5:
            r |= cs_writer_mp_bin(w, t->prev, 32);
            break;
        case 6:
            r |= cs_writer_mp_uint(w, t->hlc_min);
            break;
        case 7:
            r |= cs_writer_mp_uint(w, t->hlc_max);
            break;
        case 8:
            r |= cs_writer_mp_uint(w, t->count);
            break;
        case 9:
            r |= cs_writer_mp_uint(w, t->compression);
            break;
        case 10:
            r |= cs_writer_mp_uint(w, t->raw_len);
            break;
        default:
            r |= cs_writer_mp_bin(w, t->payload, t->payload_len);
            break;
        }
    }
    for (int i = 0; i < t->extra; i++)
        r |= cs_writer_mp_uint(w, 0);
    if (r != 0)
        abort();
}

/* Signs domain || body with k. */
static void
tb_sign(const struct cs_key *k, const struct cs_writer *body,
        uint8_t sig[CS_SIG_BYTES])
{
    struct cs_writer m;
    cs_writer_init(&m, WIRE_MAX);
    if (cs_writer_put(&m, "cigsync batch v1", 17) != 0 ||
        cs_writer_put(&m, cs_writer_data(body), cs_writer_len(body)) != 0 ||
        cs_key_sign(k, cs_writer_data(&m), cs_writer_len(&m), sig) != 0)
        abort();
    cs_writer_free(&m);
}

/* Writes the wire form [body, sig] of t signed by k into w (fresh). */
static void
tb_wire(const struct tb *t, const struct cs_key *k, struct cs_writer *w)
{
    struct cs_writer body;
    uint8_t sig[CS_SIG_BYTES];
    tb_body(t, &body);
    tb_sign(k, &body, sig);
    cs_writer_init(w, WIRE_MAX);
    if (cs_writer_mp_array(w, 2) != 0 ||
        cs_writer_mp_bin(w, cs_writer_data(&body), cs_writer_len(&body)) != 0 ||
        cs_writer_mp_bin(w, sig, sizeof sig) != 0)
        abort();
    cs_writer_free(&body);
}

/* Parses w's bytes; returns the result, *b filled. */
static int
parse_w(const struct cs_writer *w, struct cs_batch *b)
{
    return cs_batch_parse(cs_writer_data(w), cs_writer_len(w), b);
}

/* ---- vectors ------------------------------------------------------------ */

static void
hexline(char **out, size_t *n, const char *name, const uint8_t *p, size_t len)
{
    char *hex = cs_xmalloc(2 * len + 1);
    sodium_bin2hex(hex, 2 * len + 1, p, len);
    out[(*n)++] = cs_xasprintf("%s = %s", name, hex);
    free(hex);
}

/* Renders a parsed batch as the vector's expect lines. */
static size_t
render(const struct cs_batch *b, const struct cs_pubkey *pk, char **out)
{
    size_t n = 0;
    uint8_t *raw = NULL;
    size_t raw_len = 0;

    out[n++] = cs_xasprintf("magic = %s", CS_BATCH_MAGIC);
    out[n++] = cs_xasprintf("version = %" PRIu64, b->version);
    hexline(out, &n, "deployment", b->deployment, sizeof b->deployment);
    hexline(out, &n, "origin", b->origin.b, sizeof b->origin.b);
    out[n++] = cs_xasprintf("seq = %" PRIu64, b->seq);
    hexline(out, &n, "prev_hash", b->prev_hash, sizeof b->prev_hash);
    out[n++] = cs_xasprintf("hlc_min = %" PRIu64, b->hlc_min.t);
    out[n++] = cs_xasprintf("hlc_max = %" PRIu64, b->hlc_max.t);
    out[n++] = cs_xasprintf("count = %" PRIu64, b->count);
    out[n++] = cs_xasprintf("compression = %d", (int)b->compression);
    out[n++] = cs_xasprintf("raw_len = %" PRIu64, b->raw_len);
    hexline(out, &n, "payload", b->payload.p, b->payload.len);
    hexline(out, &n, "hash", b->hash, sizeof b->hash);
    out[n++] = cs_xasprintf(
        "signature = %s",
        cs_batch_verify(b, pk, b->deployment, b->seq, b->prev_hash) == 0
            ? "valid"
            : "invalid");
    if (cs_batch_payload(b, &raw, &raw_len) == 0)
        hexline(out, &n, "raw", raw, raw_len);
    else
        out[n++] = cs_xasprintf("raw = (refused)");
    free(raw);
    return n;
}

/* Decodes vector name and compares; returns the parsed batch's hash. */
static void
check_vector(const char *name, uint8_t hash[CS_HASH_BYTES], struct vector *v)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_batch b;
    char *got[32];
    size_t n;

    if (vector_load(name, v) != 0) {
        CS_CHECK(0);
        cs_key_destroy(&k);
        return;
    }
    CS_CHECK_INT(cs_batch_parse(v->input, v->len, &b), 0);
    n = render(&b, cs_key_public(k), got);
    CS_CHECK_INT(vector_check(v, got, n), 0);
    memcpy(hash, b.hash, CS_HASH_BYTES);
    for (size_t i = 0; i < n; i++)
        free(got[i]);
    cs_key_destroy(&k);
}

static void
test_vector_1(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_batch_head h = head_of(1, zeros, 2);
    struct vector v;
    struct cs_writer w;
    uint8_t hash[CS_HASH_BYTES], hash2[CS_HASH_BYTES];

    check_vector("batch-1", hash, &v);
    /* Resealing from the listed inputs gives the very same bytes. */
    seal(k, &h, (const uint8_t *)V1_PAYLOAD, strlen(V1_PAYLOAD),
         CS_BATCH_COMPRESSION_ZSTD, &w, hash2);
    CS_CHECK_INT(cs_writer_len(&w), v.len);
    CS_CHECK(cs_writer_len(&w) == v.len &&
             memcmp(cs_writer_data(&w), v.input, v.len) == 0);
    CS_CHECK(memcmp(hash, hash2, sizeof hash) == 0);
    cs_writer_free(&w);
    vector_free(&v);
    cs_key_destroy(&k);
}

static void
test_vector_2(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct vector v1, v2;
    struct cs_batch b1, b2;
    uint8_t hash1[CS_HASH_BYTES], hash2[CS_HASH_BYTES];

    check_vector("batch-1", hash1, &v1);
    check_vector("batch-2", hash2, &v2);
    /* batch-2 continues batch-1's chain. */
    CS_REQUIRE(cs_batch_parse(v1.input, v1.len, &b1) == 0);
    CS_REQUIRE(cs_batch_parse(v2.input, v2.len, &b2) == 0);
    CS_CHECK_INT(cs_batch_verify(&b2, cs_key_public(k), dep_a, 2, b1.hash), 0);
    CS_CHECK_INT(cs_batch_verify(&b2, cs_key_public(k), dep_a, 2, zeros),
                 CS_ERR_CHAIN);
    vector_free(&v1);
    vector_free(&v2);
    cs_key_destroy(&k);
}

/* ---- round trips -------------------------------------------------------- */

static void
round_trip(size_t len, bool text, int compression)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_batch_head h = head_of(1, zeros, len / 100);
    uint8_t *p = cs_xmalloc(len + 1);
    uint8_t hash[CS_HASH_BYTES];
    struct cs_writer w;
    struct cs_batch b;
    uint8_t *raw = NULL;
    size_t raw_len = 0;

    fill(p, len, text, len);
    seal(k, &h, p, len, compression, &w, hash);
    CS_REQUIRE(parse_w(&w, &b) == 0);
    CS_CHECK(memcmp(b.hash, hash, sizeof hash) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 1, zeros), 0);
    CS_CHECK_INT(b.seq, 1);
    CS_CHECK_INT(b.count, len / 100);
    CS_CHECK_INT(b.raw_len, len);
    CS_CHECK_INT(b.hlc_min.t, h.hlc_min.t);
    CS_CHECK_INT(b.hlc_max.t, h.hlc_max.t);
    /* zstd only when asked for and it shrinks the payload: never for
       noise, always for text of a kilobyte or more. */
    if (compression == CS_BATCH_COMPRESSION_NONE || !text)
        CS_CHECK_INT(b.compression, CS_BATCH_COMPRESSION_NONE);
    if (compression == CS_BATCH_COMPRESSION_ZSTD && text && len >= 1000)
        CS_CHECK_INT(b.compression, CS_BATCH_COMPRESSION_ZSTD);
    if (b.compression == CS_BATCH_COMPRESSION_ZSTD)
        CS_CHECK(b.payload.len < len);
    CS_REQUIRE(cs_batch_payload(&b, &raw, &raw_len) == 0);
    CS_REQUIRE(raw != NULL);
    CS_CHECK_INT(raw_len, len);
    CS_CHECK(raw_len == len && memcmp(raw, p, len) == 0);
    free(raw);
    free(p);
    cs_writer_free(&w);
    cs_key_destroy(&k);
}

static void
test_round_trip_sizes(void)
{
    static const size_t sizes[] = {0,    1,        2,        63,      64,
                                   1000, 16 * KIB, 64 * KIB, 1 * MIB, 10 * MIB};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        round_trip(sizes[i], true, CS_BATCH_COMPRESSION_ZSTD);
        round_trip(sizes[i], true, CS_BATCH_COMPRESSION_NONE);
        round_trip(sizes[i], false, CS_BATCH_COMPRESSION_ZSTD);
    }
}

static void
test_chain(void)
{
    struct cs_key *k = seed_key(V_SEED);
    uint8_t prev[CS_HASH_BYTES], hash[CS_HASH_BYTES];
    uint8_t payload[100];
    struct cs_writer w[3];
    struct cs_batch b;

    memset(prev, 0, sizeof prev);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        struct cs_batch_head h = head_of(seq, prev, 1);
        fill(payload, sizeof payload, true, seq);
        seal(k, &h, payload, sizeof payload, CS_BATCH_COMPRESSION_ZSTD,
             &w[seq - 1], hash);
        CS_REQUIRE(parse_w(&w[seq - 1], &b) == 0);
        CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, seq, prev),
                     0);
        memcpy(prev, hash, sizeof prev);
    }
    /* Out of order: batch 3 where 2 is expected, batch 1 again (replay). */
    CS_REQUIRE(parse_w(&w[2], &b) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 2, b.prev_hash),
                 CS_ERR_SEQUENCE);
    CS_REQUIRE(parse_w(&w[0], &b) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 4, prev),
                 CS_ERR_SEQUENCE);
    for (int i = 0; i < 3; i++)
        cs_writer_free(&w[i]);
    cs_key_destroy(&k);
}

static void
test_seal_refuses(void)
{
    struct cs_key *k = seed_key(V_SEED);
    uint8_t one[CS_HASH_BYTES], hash[CS_HASH_BYTES];
    uint8_t payload[8] = {0};
    struct cs_writer w;
    struct cs_batch_head h;

    memset(one, 1, sizeof one);
    cs_writer_init(&w, WIRE_MAX);
    h = head_of(0, zeros, 1);
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 0, &w, hash), CS_ERR_INVALID);
    h = head_of(1, one, 1); /* seq 1 links to nothing */
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 0, &w, hash), CS_ERR_INVALID);
    h = head_of(2, zeros, 1); /* seq 2 must link */
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 0, &w, hash), CS_ERR_INVALID);
    h = head_of(1, zeros, 1);
    h.hlc_min.t = h.hlc_max.t + 1;
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 0, &w, hash), CS_ERR_INVALID);
    h = head_of(1, zeros, CS_BATCH_CHANGES_MAX + 1);
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 0, &w, hash), CS_ERR_INVALID);
    h = head_of(1, zeros, 1);
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 2, &w, hash), CS_ERR_INVALID);
    /* Checked before a byte is read: the length alone is refused. */
    CS_CHECK_INT(
        cs_batch_seal(k, &h, payload, CS_PAYLOAD_RAW_MAX + 1u, 0, &w, hash),
        CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    CS_CHECK(sodium_is_zero(hash, sizeof hash));
    /* A writer too small for the batch: nothing sealed. */
    cs_writer_free(&w);
    cs_writer_init(&w, 16);
    CS_CHECK_INT(cs_batch_seal(k, &h, payload, 8, 0, &w, hash), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
    cs_key_destroy(&k);
}

static void
test_seal_too_big(void)
{
    /* Noise does not compress: a payload just over what a batch can carry
       is refused by the sealer, whatever compression was asked for. */
    struct cs_key *k = seed_key(V_SEED);
    struct cs_batch_head h = head_of(1, zeros, 1);
    size_t len = CS_BATCH_MAX;
    uint8_t *p = cs_xmalloc(len);
    uint8_t hash[CS_HASH_BYTES];
    struct cs_writer w;

    fill(p, len, false, 7);
    cs_writer_init(&w, WIRE_MAX);
    CS_CHECK_INT(
        cs_batch_seal(k, &h, p, len, CS_BATCH_COMPRESSION_NONE, &w, hash),
        CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    cs_writer_free(&w);
    free(p);
    cs_key_destroy(&k);
}

/* ---- the tamper suite --------------------------------------------------- */

/* Seals the small batch every tamper case starts from. */
static void
small_batch(const struct cs_key *k, struct cs_writer *w)
{
    struct cs_batch_head h = head_of(1, zeros, 2);
    uint8_t hash[CS_HASH_BYTES];
    seal(k, &h, (const uint8_t *)V1_PAYLOAD, strlen(V1_PAYLOAD),
         CS_BATCH_COMPRESSION_NONE, w, hash);
}

/* Parses and verifies p as seq 1 of k in dep_a; returns the first error. */
static int
receive(const struct cs_key *k, const uint8_t *p, size_t len)
{
    struct cs_batch b;
    int r;

    if ((r = cs_batch_parse(p, len, &b)) != 0) {
        /* A refused parse leaves nothing behind. */
        CS_CHECK(b.body.p == NULL && b.payload.p == NULL && b.seq == 0);
        return r;
    }
    return cs_batch_verify(&b, cs_key_public(k), dep_a, 1, zeros);
}

/* Whether r is one of the refusals a damaged batch may get. */
static bool
known_refusal(int r)
{
    return r == CS_ERR_TRUNCATED || r == CS_ERR_FORMAT || r == CS_ERR_TOO_BIG ||
           r == CS_ERR_TRAILING || r == CS_ERR_KEY || r == CS_ERR_SIGNATURE ||
           r == CS_ERR_DEPLOYMENT || r == CS_ERR_SEQUENCE ||
           r == CS_ERR_CHAIN || r == CS_ERR_VERSION;
}

static void
test_tamper_flip_every_byte(void)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    struct cs_key *k = seed_key(V_SEED);
    struct cs_writer w;
    int sig_errors = 0;

    small_batch(k, &w);
    size_t len = cs_writer_len(&w);
    uint8_t *copy = cs_xmalloc(len);
    CS_REQUIRE(receive(k, cs_writer_data(&w), len) == 0);
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, cs_writer_data(&w), len);
            copy[i] ^= masks[m];
            int r = receive(k, copy, len);
            if (r == 0 || !known_refusal(r))
                fprintf(stderr, "byte %zu mask %02x: %s\n", i, masks[m],
                        cs_errname(r));
            CS_CHECK(r != 0 && known_refusal(r));
            sig_errors += r == CS_ERR_SIGNATURE;
        }
    }
    /* Most flips land in bytes that still parse: the signature says no. */
    CS_CHECK(sig_errors > (int)len);
    free(copy);
    cs_writer_free(&w);
    cs_key_destroy(&k);
}

static void
test_tamper_truncate_and_append(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_writer w;

    small_batch(k, &w);
    size_t len = cs_writer_len(&w);
    for (size_t cut = 0; cut < len; cut++) {
        /* An exact-size copy, so ASan sees any read past the end. */
        uint8_t *copy = cs_xmalloc(cut + 1);
        memcpy(copy, cs_writer_data(&w), cut);
        int r = receive(k, copy, cut);
        CS_CHECK(r == CS_ERR_TRUNCATED || r == CS_ERR_FORMAT);
        free(copy);
    }
    for (size_t extra = 1; extra <= 3; extra++) {
        uint8_t *copy = cs_xmalloc(len + extra);
        memcpy(copy, cs_writer_data(&w), len);
        memset(copy + len, 0xc0, extra);
        CS_CHECK_INT(receive(k, copy, len + extra), CS_ERR_TRAILING);
        free(copy);
    }
    cs_writer_free(&w);
    cs_key_destroy(&k);
}

/* Swaps the body of a sealed batch for t's, keeping the old signature. */
static int
receive_with_old_signature(const struct cs_key *k, const struct tb *t)
{
    struct cs_writer orig, body, w;
    struct cs_batch b;
    int r;

    small_batch(k, &orig);
    if (parse_w(&orig, &b) != 0)
        abort();
    tb_body(t, &body);
    cs_writer_init(&w, WIRE_MAX);
    if (cs_writer_mp_array(&w, 2) != 0 ||
        cs_writer_mp_bin(&w, cs_writer_data(&body), cs_writer_len(&body)) !=
            0 ||
        cs_writer_mp_bin(&w, b.signature, sizeof b.signature) != 0)
        abort();
    r = parse_w(&w, &b);
    if (r == 0)
        r = cs_batch_verify(&b, cs_key_public(k), dep_a, t->seq, t->prev);
    cs_writer_free(&w);
    cs_writer_free(&body);
    cs_writer_free(&orig);
    return r;
}

static void
test_tamper_fields(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_key *other = seed_key(V_OTHER_SEED);
    struct cs_batch_head h = head_of(1, zeros, 2);
    const uint8_t *payload = (const uint8_t *)V1_PAYLOAD;
    size_t len = strlen(V1_PAYLOAD);
    struct tb t = tb_from(k, &h, payload, len);
    struct cs_writer w;
    struct cs_batch b;

    /* The independent encoder agrees with the sealer. */
    struct cs_writer sealed;
    small_batch(k, &sealed);
    tb_wire(&t, k, &w);
    CS_CHECK(cs_writer_len(&w) == cs_writer_len(&sealed) &&
             memcmp(cs_writer_data(&w), cs_writer_data(&sealed),
                    cs_writer_len(&w)) == 0);
    cs_writer_free(&w);
    cs_writer_free(&sealed);

    /* seq, prev_hash, deployment, count or payload changed under the old
       signature: the signature no longer verifies. */
    struct tb x = t;
    x.seq = 2;
    memset(x.prev, 7, sizeof x.prev);
    CS_CHECK_INT(receive_with_old_signature(k, &x), CS_ERR_SIGNATURE);
    x = t;
    x.count = 3;
    CS_CHECK_INT(receive_with_old_signature(k, &x), CS_ERR_SIGNATURE);
    x = t;
    x.hlc_max++;
    CS_CHECK_INT(receive_with_old_signature(k, &x), CS_ERR_SIGNATURE);
    x = t;
    x.payload = (const uint8_t *)"opaque change list, 36 bytes long!!!";
    CS_CHECK_INT(receive_with_old_signature(k, &x), CS_ERR_SIGNATURE);

    /* Re-signed by another key: wrong signature for the claimed origin;
       and claiming the other key's origin, not the origin expected. */
    tb_wire(&t, other, &w);
    CS_REQUIRE(parse_w(&w, &b) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 1, zeros),
                 CS_ERR_SIGNATURE);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(other), dep_a, 1, zeros),
                 CS_ERR_KEY);
    cs_writer_free(&w);
    x = t;
    {
        struct cs_node_id oid;
        cs_key_node_id(other, &oid);
        memcpy(x.origin, oid.b, sizeof x.origin);
    }
    tb_wire(&x, other, &w);
    CS_REQUIRE(parse_w(&w, &b) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 1, zeros),
                 CS_ERR_KEY);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(other), dep_a, 1, zeros), 0);
    cs_writer_free(&w);

    /* Validly signed, but for another deployment, seq or chain. */
    tb_wire(&t, k, &w);
    CS_REQUIRE(parse_w(&w, &b) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_b, 1, zeros),
                 CS_ERR_DEPLOYMENT);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 2, zeros),
                 CS_ERR_SEQUENCE);
    cs_writer_free(&w);
    x = t;
    x.seq = 5;
    memset(x.prev, 9, sizeof x.prev);
    tb_wire(&x, k, &w);
    CS_REQUIRE(parse_w(&w, &b) == 0);
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 5, zeros),
                 CS_ERR_CHAIN);
    cs_writer_free(&w);
    cs_key_destroy(&other);
    cs_key_destroy(&k);
}

/* Parses the wire form of t signed by k; returns the result. */
static int
parse_tb(const struct cs_key *k, const struct tb *t)
{
    struct cs_writer w;
    struct cs_batch b;
    int r;

    tb_wire(t, k, &w);
    r = parse_w(&w, &b);
    cs_writer_free(&w);
    return r;
}

static void
test_body_refusals(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_batch_head h = head_of(1, zeros, 2);
    struct tb t =
        tb_from(k, &h, (const uint8_t *)V1_PAYLOAD, strlen(V1_PAYLOAD));
    struct tb x;

    CS_CHECK_INT(parse_tb(k, &t), 0);
    /* Wrong type in every position. */
    for (int i = 0; i < 12; i++) {
        x = t;
        x.nil_at = i;
        CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    }
    x = t;
    x.extra = 1;
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.magic = "CSX";
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.magic = "CSBB";
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_TOO_BIG);
    x = t;
    x.version = 2;
    x.extra = 3; /* another layout: still reported as a version */
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_VERSION);
    x = t;
    x.seq = 0;
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.prev[31] = 1; /* seq 1 links to nothing */
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.seq = 2; /* seq 2 must link */
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.hlc_min = x.hlc_max + 1;
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.count = CS_BATCH_CHANGES_MAX + 1;
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_TOO_BIG);
    x = t;
    x.compression = 2;
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.raw_len = t.raw_len - 1; /* a stored payload is exactly raw_len */
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.compression = 1; /* zstd that did not shrink */
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_FORMAT);
    x = t;
    x.compression = 1;
    x.raw_len = CS_PAYLOAD_RAW_MAX + 1u;
    CS_CHECK_INT(parse_tb(k, &x), CS_ERR_TOO_BIG);
    cs_key_destroy(&k);
}

static void
test_wire_refusals(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_writer w;
    struct cs_batch b;
    uint8_t sig[CS_SIG_BYTES + 1] = {0};

    /* [body] alone, [body, sig, extra], a 63- and 65-byte signature. */
    cs_writer_init(&w, WIRE_MAX);
    CS_REQUIRE(cs_writer_mp_array(&w, 1) == 0 &&
               cs_writer_mp_bin(&w, sig, 1) == 0);
    CS_CHECK_INT(parse_w(&w, &b), CS_ERR_FORMAT);
    cs_writer_free(&w);
    CS_REQUIRE(cs_writer_mp_array(&w, 3) == 0 &&
               cs_writer_mp_bin(&w, sig, 1) == 0 &&
               cs_writer_mp_bin(&w, sig, 64) == 0 && cs_writer_mp_nil(&w) == 0);
    CS_CHECK_INT(parse_w(&w, &b), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
    for (size_t n = 63; n <= 65; n += 2) {
        small_batch(k, &w);
        CS_REQUIRE(parse_w(&w, &b) == 0);
        struct cs_writer x;
        cs_writer_init(&x, WIRE_MAX);
        CS_REQUIRE(cs_writer_mp_array(&x, 2) == 0 &&
                   cs_writer_mp_bin(&x, b.body.p, b.body.len) == 0 &&
                   cs_writer_mp_bin(&x, sig, n) == 0);
        CS_CHECK_INT(parse_w(&x, &b),
                     n < CS_SIG_BYTES ? CS_ERR_FORMAT : CS_ERR_TOO_BIG);
        cs_writer_free(&x);
        cs_writer_free(&w);
    }
    /* Not an array; and a frame over CS_BATCH_MAX, refused unread. */
    CS_CHECK_INT(cs_batch_parse((const uint8_t *)"\xc0", 1, &b), CS_ERR_FORMAT);
    uint8_t *huge = calloc(1, (size_t)CS_BATCH_MAX + 1);
    CS_REQUIRE(huge != NULL);
    CS_CHECK_INT(cs_batch_parse(huge, (size_t)CS_BATCH_MAX + 1, &b),
                 CS_ERR_TOO_BIG);
    free(huge);
    cs_key_destroy(&k);
}

/* ---- decompression bombs ------------------------------------------------ */

/* Compresses n zero bytes into w (fresh) as one zstd frame, with or
   without the content size in its header. */
static void
zstd_zeros(size_t n, bool content_size, struct cs_writer *w)
{
    uint8_t *src = calloc(1, n + 1);
    size_t cap = ZSTD_compressBound(n);
    uint8_t *dst = cs_xmalloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_outBuffer out = {dst, cap, 0};
    ZSTD_inBuffer in = {src, n, 0};

    if (src == NULL || cctx == NULL ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag,
                                            content_size ? 1 : 0)))
        abort();
    /* Streaming without a pledged size leaves the content size out. */
    if (content_size) {
        size_t got = ZSTD_compress2(cctx, dst, cap, src, n);
        if (ZSTD_isError(got))
            abort();
        out.pos = got;
    } else if (ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end) != 0) {
        abort();
    }
    cs_writer_init(w, WIRE_MAX);
    if (cs_writer_put(w, dst, out.pos) != 0)
        abort();
    ZSTD_freeCCtx(cctx);
    free(dst);
    free(src);
}

/* Seals (validly signed) a body whose zstd payload is z and whose raw_len
   is raw_len, parses it and returns what cs_batch_payload() says. */
static int
payload_of(const struct cs_key *k, const uint8_t *z, size_t z_len,
           uint64_t raw_len)
{
    struct cs_batch_head h = head_of(1, zeros, 1);
    struct tb t = tb_from(k, &h, z, z_len);
    struct cs_writer w;
    struct cs_batch b;
    uint8_t *raw = (uint8_t *)&t; /* must come back NULL on failure */
    size_t got = 1;
    int r;

    t.compression = 1;
    t.raw_len = raw_len;
    tb_wire(&t, k, &w);
    if ((r = parse_w(&w, &b)) != 0) {
        cs_writer_free(&w);
        return r;
    }
    CS_CHECK_INT(cs_batch_verify(&b, cs_key_public(k), dep_a, 1, zeros), 0);
    r = cs_batch_payload(&b, &raw, &got);
    if (r != 0)
        CS_CHECK(raw == NULL && got == 0);
    free(raw);
    cs_writer_free(&w);
    return r;
}

static void
test_decompression_bombs(void)
{
    struct cs_key *k = seed_key(V_SEED);
    struct cs_writer z, two;

    /* 1 MiB of zeros declared as such: fine when raw_len says 1 MiB. */
    zstd_zeros(MIB, true, &z);
    CS_CHECK(cs_writer_len(&z) < 1024);
    CS_CHECK_INT(payload_of(k, cs_writer_data(&z), cs_writer_len(&z), MIB), 0);
    /* raw_len says 1000 bytes, the frame declares 1 MiB. */
    CS_CHECK_INT(payload_of(k, cs_writer_data(&z), cs_writer_len(&z), 1000),
                 CS_ERR_FORMAT);
    /* The frame's declared size patched down to raw_len: zstd stops at the
       end of the raw_len buffer.  Single-segment frames of 1 MiB carry a
       4-byte content size right after magic and descriptor (RFC 8878
       3.1.1.1), which is where the patch goes. */
    {
        uint8_t *p = cs_xmalloc(cs_writer_len(&z));
        memcpy(p, cs_writer_data(&z), cs_writer_len(&z));
        uint8_t fhd = p[4];
        CS_REQUIRE((fhd >> 6) == 2 && (fhd & 0x20) != 0 && (fhd & 3) == 0);
        p[5] = 0xe8; /* 1000, little-endian */
        p[6] = 0x03;
        p[7] = 0;
        p[8] = 0;
        CS_CHECK_INT(ZSTD_getFrameContentSize(p, cs_writer_len(&z)), 1000);
        CS_CHECK_INT(payload_of(k, p, cs_writer_len(&z), 1000), CS_ERR_FORMAT);
        free(p);
    }
    cs_writer_free(&z);
    /* No content size in the frame: refused, whatever raw_len says. */
    zstd_zeros(MIB, false, &z);
    CS_CHECK_INT(
        ZSTD_getFrameContentSize(cs_writer_data(&z), cs_writer_len(&z)),
        (long long)ZSTD_CONTENTSIZE_UNKNOWN);
    CS_CHECK_INT(payload_of(k, cs_writer_data(&z), cs_writer_len(&z), MIB),
                 CS_ERR_FORMAT);
    cs_writer_free(&z);
    /* Two frames, or a frame and junk, where one frame belongs. */
    zstd_zeros(1000, true, &z);
    cs_writer_init(&two, WIRE_MAX);
    CS_REQUIRE(cs_writer_put(&two, cs_writer_data(&z), cs_writer_len(&z)) ==
                   0 &&
               cs_writer_put(&two, cs_writer_data(&z), cs_writer_len(&z)) == 0);
    CS_CHECK_INT(payload_of(k, cs_writer_data(&two), cs_writer_len(&two), 2000),
                 CS_ERR_FORMAT);
    CS_CHECK_INT(
        payload_of(k, cs_writer_data(&two), cs_writer_len(&z) + 1, 1000),
        CS_ERR_FORMAT);
    /* Not zstd at all. */
    CS_CHECK_INT(payload_of(k, (const uint8_t *)"garbage!", 8, 1000),
                 CS_ERR_FORMAT);
    /* raw_len beyond the limit is refused by the parser already. */
    CS_CHECK_INT(payload_of(k, cs_writer_data(&z), cs_writer_len(&z),
                            (uint64_t)CS_PAYLOAD_RAW_MAX + 1),
                 CS_ERR_TOO_BIG);
    cs_writer_free(&two);
    cs_writer_free(&z);
    cs_key_destroy(&k);
}

static const struct cs_test_case cases[] = {
    {"vector_1", test_vector_1},
    {"vector_2", test_vector_2},
    {"round_trip_sizes", test_round_trip_sizes},
    {"chain", test_chain},
    {"seal_refuses", test_seal_refuses},
    {"seal_too_big", test_seal_too_big},
    {"tamper_flip_every_byte", test_tamper_flip_every_byte},
    {"tamper_truncate_and_append", test_tamper_truncate_and_append},
    {"tamper_fields", test_tamper_fields},
    {"body_refusals", test_body_refusals},
    {"wire_refusals", test_wire_refusals},
    {"decompression_bombs", test_decompression_bombs},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
