/*  tests/unit/chunk_test.c - tests of proto/chunk.c.
 *
 *  Splitting and reassembly of every size from 0 to 3 chunks + 1 byte;
 *  resuming after a simulated drop, where the sender restarts from
 *  cs_reasm_offset() and resends at most the chunk that was in flight;
 *  duplicates, overlaps, gaps, another envelope's chunks, inconsistent and
 *  oversized chunks (refused before anything is allocated, and memory that
 *  grows with the bytes received, not the total declared), and corruption
 *  caught by the id check.  Ids are checked against BLAKE2b-128 computed
 *  independently (Python hashlib.blake2b(data, digest_size=16)).
 */
#include "proto_prelude.h"

#include <malloc.h>

#include "chunk.h"
#include "envelope.h"
#include "err.h"
#include "key.h"
#include "mem.h"
#include "test.h"
#include "writer.h"

#define D CS_CHUNK_DATA_MAX /* chunk size used by the protocol */
#define EMPTY_ID "cae66941d9efbd404e4d88758ea67670"   /* of "" */
#define ABC_ID "cf4ab791c62b8d2b2109c90275287816"     /* of "abc" */
#define PATTERN_ID "4a417e077750fe93d32a3fec93148478" /* pattern(100000, 0) */

/* Sanitizers replace malloc, and mallinfo2() then sees nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_MEASURABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define HEAP_MEASURABLE 0
#endif
#endif
#ifndef HEAP_MEASURABLE
#define HEAP_MEASURABLE 1
#endif

static void
id_hex(const struct cs_chunk_id *id, char out[2 * CS_CHUNK_ID_BYTES + 1])
{
    sodium_bin2hex(out, 2 * CS_CHUNK_ID_BYTES + 1, id->b, sizeof id->b);
}

/* Returns n bytes of a deterministic pattern (malloc'd, never NULL). */
static uint8_t *
pattern(size_t n, unsigned seed)
{
    uint8_t *p = cs_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 131u + seed + (i >> 8));
    return p;
}

/* Pushes c into r; returns the status and checks the call succeeded. */
static enum cs_reasm_status
push_ok(struct cs_reasm *r, const struct cs_chunk *c)
{
    enum cs_reasm_status st = CS_REASM_NONE;
    int ret = cs_reasm_push(r, c, &st);
    if (ret != 0)
        fprintf(stderr, "push offset %" PRIu64 " len %zu: %s\n", c->offset,
                c->data.len, cs_errname(ret));
    CS_CHECK_INT(ret, 0);
    return st;
}

/* Pushes c into r and expects error want; checks *status is NONE. */
static void
push_err(struct cs_reasm *r, const struct cs_chunk *c, int want)
{
    enum cs_reasm_status st = CS_REASM_COMPLETE;
    CS_CHECK_INT(cs_reasm_push(r, c, &st), want);
    CS_CHECK_INT(st, CS_REASM_NONE);
}

/* Takes the complete envelope out of r and checks it equals p[0..n). */
static void
take_check(struct cs_reasm *r, const uint8_t *p, size_t n)
{
    uint8_t *got = NULL;
    size_t len = 0;

    CS_CHECK(cs_reasm_complete(r));
    CS_CHECK_INT(cs_reasm_take(r, &got, &len), 0);
    CS_CHECK(got != NULL);
    CS_CHECK_INT(len, n);
    CS_CHECK(len == n && (n == 0 || (got != NULL && memcmp(got, p, n) == 0)));
    free(got);
    CS_CHECK(!cs_reasm_active(r));
    CS_CHECK(!cs_reasm_complete(r));
    CS_CHECK_INT(cs_reasm_offset(r), 0);
}

static void
test_id(void)
{
    struct cs_chunk_id id;
    char hex[2 * CS_CHUNK_ID_BYTES + 1];
    uint8_t *p = pattern(100000, 0);

    cs_chunk_id_from_bytes(NULL, 0, &id);
    id_hex(&id, hex);
    CS_CHECK_STR(hex, EMPTY_ID);
    cs_chunk_id_from_bytes((const uint8_t *)"abc", 3, &id);
    id_hex(&id, hex);
    CS_CHECK_STR(hex, ABC_ID);
    cs_chunk_id_from_bytes(p, 100000, &id);
    id_hex(&id, hex);
    CS_CHECK_STR(hex, PATTERN_ID);
    /* A splitter names its chunks by the same id. */
    struct cs_splitter sp;
    struct cs_chunk c;
    cs_splitter_init(&sp, p, 100000, CS_CHUNK_DATA_MAX);
    cs_splitter_pull(&sp, &c);
    CS_CHECK(memcmp(c.id.b, id.b, sizeof id.b) == 0);
    free(p);
}

/* Splits n bytes into chunks of data_max, pushes them all, checks them. */
static void
split_reassemble(size_t n, size_t data_max)
{
    uint8_t *env = pattern(n, (unsigned)n);
    struct cs_reasm *r = cs_reasm_new(n);
    struct cs_splitter sp;
    struct cs_chunk c;
    size_t chunks = 0, want_chunks = n == 0 ? 1 : (n + data_max - 1) / data_max;
    uint64_t next = 0;

    cs_splitter_init(&sp, n == 0 ? NULL : env, n, data_max);
    while (!cs_splitter_done(&sp)) {
        cs_splitter_pull(&sp, &c);
        chunks++;
        CS_CHECK_INT(c.total, n);
        CS_CHECK_INT(c.offset, next);
        CS_CHECK(c.data.len <= data_max);
        CS_CHECK(c.data.p != NULL);
        CS_CHECK(c.data.len > 0 || n == 0);
        next += c.data.len;
        enum cs_reasm_status st = push_ok(r, &c);
        CS_CHECK_INT(st, next == n ? CS_REASM_COMPLETE : CS_REASM_MORE);
        CS_CHECK_INT(cs_reasm_offset(r), next);
    }
    CS_CHECK_INT(next, n);
    CS_CHECK_INT(chunks, want_chunks);
    take_check(r, env, n);
    cs_reasm_destroy(&r);
    CS_CHECK(r == NULL);
    cs_reasm_destroy(&r); /* no-op */
    free(env);
}

static void
test_split_reassemble(void)
{
    /* Every size around the boundaries, up to 3 chunks + 1 byte. */
    static const size_t sizes[] = {0,         1,         2,         D - 1,
                                   D,         D + 1,     2 * D - 1, 2 * D,
                                   2 * D + 1, 3 * D - 1, 3 * D,     3 * D + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        split_reassemble(sizes[i], D);
    /* Every size 0..3 chunks + 1 with small chunks, and 1-byte chunks. */
    for (size_t n = 0; n <= 3 * 7 + 1; n++) {
        split_reassemble(n, 7);
        split_reassemble(n, 1);
    }
    split_reassemble(1024 * 1024 + 3, D);
}

/* A link between a sender and a receiver that can drop. */
struct link {
    struct cs_reasm *r; /* the receiver */
    size_t sent;        /* data bytes the sender put on the wire */
    size_t chunks;      /* chunks the sender put on the wire */
};

/* Sends chunks from the splitter until done or until `budget` chunks went
   out; the chunk after the last one is "in flight" and lost if drop_next,
   delivered otherwise.  Returns the last status. */
static enum cs_reasm_status
run(struct link *l, struct cs_splitter *sp, size_t budget, bool drop_next)
{
    enum cs_reasm_status st = CS_REASM_NONE;
    struct cs_chunk c;

    for (size_t i = 0; !cs_splitter_done(sp); i++) {
        cs_splitter_pull(sp, &c);
        l->sent += c.data.len;
        l->chunks++;
        if (i == budget) {
            if (!drop_next)
                st = push_ok(l->r, &c);
            return st; /* the link drops here */
        }
        st = push_ok(l->r, &c);
    }
    return st;
}

static void
test_resume(void)
{
    size_t n = 10 * D + 5;
    uint8_t *env = pattern(n, 7);
    struct cs_splitter sp;

    /* (a) The chunk in flight is lost: resent once, nothing else. */
    struct link l = {cs_reasm_new(n), 0, 0};
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(run(&l, &sp, 3, true), CS_REASM_MORE);
    CS_CHECK_INT(cs_reasm_offset(l.r), 3 * D);
    /* The sender restarts (a new process: a new splitter) and asks. */
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(cs_splitter_seek(&sp, cs_reasm_offset(l.r)), 0);
    CS_CHECK_INT(run(&l, &sp, SIZE_MAX, false), CS_REASM_COMPLETE);
    CS_CHECK_INT(l.sent, n + D);
    CS_CHECK_INT(l.chunks, 11 + 1);
    take_check(l.r, env, n);

    /* (b) The chunk in flight arrived (only the ack was lost): nothing is
       resent. */
    l.sent = 0;
    l.chunks = 0;
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(run(&l, &sp, 5, false), CS_REASM_MORE);
    CS_CHECK_INT(cs_reasm_offset(l.r), 6 * D);
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(cs_splitter_seek(&sp, cs_reasm_offset(l.r)), 0);
    CS_CHECK_INT(run(&l, &sp, SIZE_MAX, false), CS_REASM_COMPLETE);
    CS_CHECK_INT(l.sent, n);
    CS_CHECK_INT(l.chunks, 11);
    take_check(l.r, env, n);

    /* (c) A link that drops after every chunk it delivers, so the next
       chunk is always lost in flight, and a sender that restarts with
       another chunk size each time: at most one chunk resent per drop,
       and the bytes come out right. */
    l.sent = 0;
    l.chunks = 0;
    size_t drops = 0;
    for (;;) {
        cs_splitter_init(&sp, env, n, drops % 2 == 0 ? D : 5000);
        CS_CHECK_INT(cs_splitter_seek(&sp, cs_reasm_offset(l.r)), 0);
        if (run(&l, &sp, 1, true) == CS_REASM_COMPLETE)
            break;
        drops++;
        CS_REQUIRE(drops < 100);
    }
    CS_CHECK(drops >= 10);
    CS_CHECK(l.sent <= n + drops * D);
    take_check(l.r, env, n);

    /* (d) The receiver restarts and loses what it held: it asks for 0,
       and the sender starts over. */
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(run(&l, &sp, 4, true), CS_REASM_MORE);
    cs_reasm_destroy(&l.r);
    l.r = cs_reasm_new(n);
    CS_CHECK_INT(cs_reasm_offset(l.r), 0);
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(cs_splitter_seek(&sp, cs_reasm_offset(l.r)), 0);
    CS_CHECK_INT(run(&l, &sp, SIZE_MAX, false), CS_REASM_COMPLETE);
    take_check(l.r, env, n);
    cs_reasm_destroy(&l.r);

    /* Seeking: anywhere up to the end, never past it. */
    cs_splitter_init(&sp, env, n, D);
    CS_CHECK_INT(cs_splitter_seek(&sp, n + 1), CS_ERR_INVALID);
    CS_CHECK_INT(cs_splitter_seek(&sp, UINT64_MAX), CS_ERR_INVALID);
    CS_CHECK(!cs_splitter_done(&sp)); /* unchanged */
    struct cs_chunk c;
    CS_CHECK_INT(cs_splitter_seek(&sp, 12345), 0);
    cs_splitter_pull(&sp, &c);
    CS_CHECK_INT(c.offset, 12345);
    CS_CHECK_INT(c.data.len, D);
    CS_CHECK_INT(cs_splitter_seek(&sp, n), 0);
    CS_CHECK(cs_splitter_done(&sp));
    /* An empty envelope: seeking to 0 again sends its one chunk again. */
    cs_splitter_init(&sp, NULL, 0, D);
    CS_CHECK(!cs_splitter_done(&sp));
    cs_splitter_pull(&sp, &c);
    CS_CHECK(cs_splitter_done(&sp));
    CS_CHECK_INT(cs_splitter_seek(&sp, 0), 0);
    CS_CHECK(!cs_splitter_done(&sp));
    CS_CHECK_INT(cs_splitter_seek(&sp, 1), CS_ERR_INVALID);
    free(env);
}

/* The chunks of env (n bytes, data_max each) in an array of *count. */
static struct cs_chunk *
chunks_of(const uint8_t *env, size_t n, size_t data_max, size_t *count)
{
    struct cs_splitter sp;
    struct cs_chunk *cs = cs_xcalloc(n / data_max + 2, sizeof *cs);

    *count = 0;
    cs_splitter_init(&sp, env, n, data_max);
    while (!cs_splitter_done(&sp))
        cs_splitter_pull(&sp, &cs[(*count)++]);
    return cs;
}

static void
test_duplicates(void)
{
    size_t n = 100, count = 0;
    uint8_t *env = pattern(n, 1);
    struct cs_chunk *cs = chunks_of(env, n, 10, &count);
    struct cs_reasm *r = cs_reasm_new(n);

    CS_REQUIRE(count == 10);
    CS_CHECK_INT(push_ok(r, &cs[0]), CS_REASM_MORE);
    CS_CHECK_INT(push_ok(r, &cs[0]), CS_REASM_DUPLICATE);
    CS_CHECK_INT(push_ok(r, &cs[1]), CS_REASM_MORE);
    CS_CHECK_INT(push_ok(r, &cs[2]), CS_REASM_MORE);
    CS_CHECK_INT(push_ok(r, &cs[0]), CS_REASM_DUPLICATE);
    CS_CHECK_INT(push_ok(r, &cs[2]), CS_REASM_DUPLICATE);
    CS_CHECK_INT(cs_reasm_offset(r), 30);

    /* Overlap: bytes 25..39 when 0..29 are held keeps only 30..39. */
    struct cs_chunk over = cs[2];
    over.offset = 25;
    over.data.p = env + 25;
    over.data.len = 15;
    CS_CHECK_INT(push_ok(r, &over), CS_REASM_MORE);
    CS_CHECK_INT(cs_reasm_offset(r), 40);
    /* An overlap ending exactly at what is held is a duplicate. */
    over.offset = 35;
    over.data.p = env + 35;
    over.data.len = 5;
    CS_CHECK_INT(push_ok(r, &over), CS_REASM_DUPLICATE);
    /* A duplicate whose bytes differ is ignored, not stored. */
    uint8_t junk[10];
    memset(junk, 0xee, sizeof junk);
    over = cs[1];
    over.data.p = junk;
    CS_CHECK_INT(push_ok(r, &over), CS_REASM_DUPLICATE);
    for (size_t i = 4; i < count; i++)
        CS_CHECK_INT(push_ok(r, &cs[i]),
                     i + 1 == count ? CS_REASM_COMPLETE : CS_REASM_MORE);
    /* Complete and not yet taken: any chunk of it is a duplicate. */
    for (size_t i = 0; i < count; i++)
        CS_CHECK_INT(push_ok(r, &cs[i]), CS_REASM_DUPLICATE);
    take_check(r, env, n);

    /* The empty envelope: its one chunk, then duplicates of it. */
    size_t zero_count = 0;
    struct cs_chunk *zero = chunks_of(NULL, 0, 10, &zero_count);
    CS_REQUIRE(zero_count == 1);
    CS_CHECK_INT(push_ok(r, &zero[0]), CS_REASM_COMPLETE);
    CS_CHECK_INT(push_ok(r, &zero[0]), CS_REASM_DUPLICATE);
    take_check(r, NULL, 0);
    free(zero);
    cs_reasm_destroy(&r);
    free(cs);
    free(env);
}

static void
test_gaps_and_other_envelopes(void)
{
    size_t n = 50, count = 0, other_count = 0;
    uint8_t *env = pattern(n, 2), *env2 = pattern(n, 3);
    struct cs_chunk *cs = chunks_of(env, n, 10, &count);
    struct cs_chunk *other = chunks_of(env2, n, 10, &other_count);
    struct cs_reasm *r = cs_reasm_new(1000);
    struct cs_chunk_id id;

    /* Idle: only an offset-0 chunk starts an envelope. */
    push_err(r, &cs[1], CS_REASM_ERR_GAP);
    CS_CHECK_INT(cs_reasm_offset(r), 0);
    CS_CHECK(!cs_reasm_active(r));
    cs_reasm_id(r, &id);
    CS_CHECK(sodium_is_zero(id.b, sizeof id.b));

    CS_CHECK_INT(push_ok(r, &cs[0]), CS_REASM_MORE);
    CS_CHECK(cs_reasm_active(r));
    cs_reasm_id(r, &id);
    CS_CHECK(memcmp(id.b, cs[0].id.b, sizeof id.b) == 0);
    push_err(r, &cs[2], CS_REASM_ERR_GAP);
    push_err(r, &cs[4], CS_REASM_ERR_GAP);
    CS_CHECK_INT(cs_reasm_offset(r), 10);
    /* Another envelope while one is in progress, even at offset 0. */
    push_err(r, &other[0], CS_REASM_ERR_OTHER);
    push_err(r, &other[1], CS_REASM_ERR_OTHER);
    CS_CHECK_INT(cs_reasm_offset(r), 10);
    for (size_t i = 1; i < count; i++)
        CS_CHECK_INT(push_ok(r, &cs[i]),
                     i + 1 == count ? CS_REASM_COMPLETE : CS_REASM_MORE);
    /* Complete, not taken: still refused. */
    push_err(r, &other[0], CS_REASM_ERR_OTHER);
    take_check(r, env, n);
    /* Taken: the other one may start now. */
    CS_CHECK_INT(push_ok(r, &other[0]), CS_REASM_MORE);
    /* Or be abandoned half way. */
    cs_reasm_reset(r);
    CS_CHECK(!cs_reasm_active(r));
    CS_CHECK_INT(cs_reasm_offset(r), 0);
    for (size_t i = 0; i < count; i++)
        CS_CHECK_INT(push_ok(r, &cs[i]),
                     i + 1 == count ? CS_REASM_COMPLETE : CS_REASM_MORE);
    take_check(r, env, n);
    /* Nothing to take. */
    uint8_t *p = env;
    size_t len = 1;
    CS_CHECK_INT(cs_reasm_take(r, &p, &len), CS_ERR_INVALID);
    CS_CHECK(p == NULL && len == 0);
    CS_CHECK_INT(push_ok(r, &cs[0]), CS_REASM_MORE);
    CS_CHECK_INT(cs_reasm_take(r, &p, &len), CS_ERR_INVALID);
    CS_CHECK_INT(cs_reasm_offset(r), 10); /* unchanged */
    cs_reasm_destroy(&r);                 /* with an envelope in progress */
    free(cs);
    free(other);
    free(env);
    free(env2);
}

static void
test_bad_chunks(void)
{
    uint8_t data[D + 1];
    struct cs_reasm *r = cs_reasm_new(1000);
    struct cs_chunk c;

    memset(data, 'd', sizeof data);
    memset(&c, 0, sizeof c);
    c.data.p = data;

    /* Sizes: data over the chunk maximum, total over the reassembler's. */
    c.total = 1000;
    c.data.len = D + 1;
    push_err(r, &c, CS_ERR_TOO_BIG);
    c.total = 1001;
    c.data.len = 1;
    push_err(r, &c, CS_ERR_TOO_BIG);
    c.total = UINT64_MAX;
    push_err(r, &c, CS_ERR_TOO_BIG);
    /* Self-contradictions. */
    c.total = 100;
    c.offset = 101;
    push_err(r, &c, CS_ERR_FORMAT);
    c.offset = 95;
    c.data.len = 6;
    push_err(r, &c, CS_ERR_FORMAT);
    c.offset = UINT64_MAX;
    c.data.len = 1;
    push_err(r, &c, CS_ERR_FORMAT);
    c.offset = 0;
    c.data.len = 0;
    push_err(r, &c, CS_ERR_FORMAT); /* empty chunk of 100 bytes */
    c.data.p = NULL;
    push_err(r, &c, CS_ERR_FORMAT);
    c.data.p = data;
    CS_CHECK(!cs_reasm_active(r));
    /* The total is fixed by the first chunk. */
    c.data.len = 10;
    CS_CHECK_INT(push_ok(r, &c), CS_REASM_MORE);
    c.offset = 10;
    c.total = 200;
    push_err(r, &c, CS_ERR_FORMAT);
    c.total = 99;
    push_err(r, &c, CS_ERR_FORMAT);
    CS_CHECK_INT(cs_reasm_offset(r), 10);
    cs_reasm_destroy(&r);

    /* A maximum above the protocol's is lowered to it. */
    r = cs_reasm_new(SIZE_MAX);
    c.offset = 0;
    c.total = (uint64_t)CS_ENVELOPE_MAX + 1;
    push_err(r, &c, CS_ERR_TOO_BIG);
    c.total = CS_ENVELOPE_MAX;
    CS_CHECK_INT(push_ok(r, &c), CS_REASM_MORE);
    cs_reasm_destroy(&r);
}

/* Bytes the process has asked malloc for and not freed (glibc). */
static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void
test_memory_follows_data(void)
{
    static uint8_t data[D];
    struct cs_reasm *r = cs_reasm_new(CS_ENVELOPE_MAX);
    struct cs_chunk c;
    size_t before, after;

    memset(&c, 0, sizeof c);
    c.total = CS_ENVELOPE_MAX; /* a peer claims 64 MiB ... */
    c.data.p = data;
    c.data.len = 1; /* ... and sends one byte */
    before = heap_in_use();
    CS_CHECK_INT(push_ok(r, &c), CS_REASM_MORE);
    after = heap_in_use();
    if (HEAP_MEASURABLE)
        CS_CHECK(after - before < 4096);
    /* Then 100 full chunks: memory stays within twice what arrived. */
    for (size_t i = 0; i < 100; i++) {
        c.offset = cs_reasm_offset(r);
        c.data.len = D;
        CS_CHECK_INT(push_ok(r, &c), CS_REASM_MORE);
    }
    after = heap_in_use();
    if (HEAP_MEASURABLE)
        CS_CHECK(after - before <= 2 * (100 * D + 1) + 4096);
    cs_reasm_destroy(&r);
}

static void
test_corruption(void)
{
    size_t n = 3 * D + 1, count = 0;
    uint8_t *env = pattern(n, 4);
    struct cs_chunk *cs = chunks_of(env, n, D, &count);
    struct cs_reasm *r = cs_reasm_new(n);
    uint8_t bad[D];

    CS_REQUIRE(count == 4);
    /* One byte changed in transit, in each chunk in turn. */
    for (size_t k = 0; k < count; k++) {
        struct cs_chunk changed = cs[k];
        memcpy(bad, cs[k].data.p, cs[k].data.len);
        bad[cs[k].data.len / 2] ^= 0x20;
        changed.data.p = bad;
        for (size_t i = 0; i + 1 < count; i++)
            CS_CHECK_INT(push_ok(r, i == k ? &changed : &cs[i]), CS_REASM_MORE);
        push_err(r, k + 1 == count ? &changed : &cs[count - 1], CS_ERR_CRYPTO);
        /* Everything dropped: resume from 0, and then it works. */
        CS_CHECK(!cs_reasm_active(r));
        CS_CHECK_INT(cs_reasm_offset(r), 0);
        for (size_t i = 0; i < count; i++)
            CS_CHECK_INT(push_ok(r, &cs[i]),
                         i + 1 == count ? CS_REASM_COMPLETE : CS_REASM_MORE);
        take_check(r, env, n);
    }
    /* Right bytes under a wrong id. */
    for (size_t i = 0; i < count; i++) {
        cs[i].id.b[0] ^= 1;
        if (i + 1 < count)
            CS_CHECK_INT(push_ok(r, &cs[i]), CS_REASM_MORE);
        else
            push_err(r, &cs[i], CS_ERR_CRYPTO);
    }
    CS_CHECK(!cs_reasm_active(r));
    cs_reasm_destroy(&r);
    free(cs);
    free(env);
}

/* A real envelope through the chunk layer, then opened. */
static void
test_envelope_through_chunks(void)
{
    static const uint8_t dep[CS_DEPLOYMENT_BYTES] = "deployment-prod";
    struct cs_key *a = NULL, *b = NULL;
    size_t n = 100 * 1000, len = 0, plain_len = 0;
    uint8_t *payload = pattern(n, 5), *env = NULL, *got = NULL, *plain;
    struct cs_writer w;
    struct cs_splitter sp;
    struct cs_chunk c;
    struct cs_reasm *r = cs_reasm_new(CS_ENVELOPE_MAX);
    struct cs_envelope parsed;
    enum cs_reasm_status st = CS_REASM_NONE;

    CS_REQUIRE(cs_key_generate(&a) == 0 && cs_key_generate(&b) == 0);
    cs_writer_init(&w, CS_ENVELOPE_MAX);
    CS_REQUIRE(cs_envelope_seal(a, cs_key_public(b), dep,
                                CS_ENVELOPE_KIND_BATCH, payload, n, &w) == 0);
    CS_REQUIRE(cs_writer_take(&w, &env, &len) == 0);
    cs_splitter_init(&sp, env, len, D);
    while (!cs_splitter_done(&sp)) {
        cs_splitter_pull(&sp, &c);
        st = push_ok(r, &c);
    }
    CS_CHECK_INT(st, CS_REASM_COMPLETE);
    CS_CHECK_INT(cs_reasm_take(r, &got, &len), 0);
    CS_CHECK_INT(cs_envelope_parse(got, len, &parsed), 0);
    CS_CHECK_INT(cs_envelope_open(&parsed, b, dep, &plain, &plain_len), 0);
    CS_CHECK(plain_len == n && memcmp(plain, payload, n) == 0);
    cs_envelope_plain_free(plain, plain_len);
    free(got);
    free(env);
    free(payload);
    cs_reasm_destroy(&r);
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static const struct cs_test_case cases[] = {
    {"id", test_id},
    {"split_reassemble", test_split_reassemble},
    {"resume", test_resume},
    {"duplicates", test_duplicates},
    {"gaps_and_other_envelopes", test_gaps_and_other_envelopes},
    {"bad_chunks", test_bad_chunks},
    {"memory_follows_data", test_memory_follows_data},
    {"corruption", test_corruption},
    {"envelope_through_chunks", test_envelope_through_chunks},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
