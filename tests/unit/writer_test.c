/*  tests/unit/writer_test.c - unit tests of common/writer.c.
 *
 *  Checks that every msgpack encoder writes the exact bytes of the smallest
 *  standard encoding at each size class boundary, that raw fields are
 *  big-endian, and the buffer rules: the hard maximum, the sticky error
 *  that frees memory, reset, take and free.  Reading values back is
 *  reader_test.c's job.
 */
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "test.h"
#include "writer.h"

#define WRITER_MAX (1024u * 1024) /* enough for every test value */

/* Checks that w holds exactly the n bytes of want. */
static void
check_bytes(const struct cs_writer *w, const uint8_t *want, size_t n)
{
    CS_CHECK_INT(cs_writer_status(w), 0);
    CS_CHECK_INT(cs_writer_len(w), n);
    if (cs_writer_len(w) == n)
        CS_CHECK(memcmp(cs_writer_data(w), want, n) == 0);
}

static void
test_uint_bytes(void)
{
    static const struct {
        uint64_t v;       /* value */
        uint8_t bytes[9]; /* its smallest encoding */
        size_t size;      /* length of bytes */
    } cases[] = {
        {0, {0x00}, 1},
        {127, {0x7f}, 1},
        {128, {0xcc, 0x80}, 2},
        {255, {0xcc, 0xff}, 2},
        {256, {0xcd, 0x01, 0x00}, 3},
        {65535, {0xcd, 0xff, 0xff}, 3},
        {65536, {0xce, 0x00, 0x01, 0x00, 0x00}, 5},
        {UINT32_MAX, {0xce, 0xff, 0xff, 0xff, 0xff}, 5},
        {(uint64_t)UINT32_MAX + 1, {0xcf, 0, 0, 0, 1, 0, 0, 0, 0}, 9},
        {UINT64_MAX, {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_writer w;
        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(cs_writer_mp_uint(&w, cases[i].v), 0);
        check_bytes(&w, cases[i].bytes, cases[i].size);
        /* the same value through the signed encoder, where it fits */
        if (cases[i].v <= INT64_MAX) {
            cs_writer_reset(&w);
            CS_CHECK_INT(cs_writer_mp_int(&w, (int64_t)cases[i].v), 0);
            check_bytes(&w, cases[i].bytes, cases[i].size);
        }
        cs_writer_free(&w);
    }
}

static void
test_int_bytes(void)
{
    static const struct {
        int64_t v;        /* value */
        uint8_t bytes[9]; /* its smallest encoding */
        size_t size;      /* length of bytes */
    } cases[] = {
        {-1, {0xff}, 1},
        {-32, {0xe0}, 1},
        {-33, {0xd0, 0xdf}, 2},
        {-128, {0xd0, 0x80}, 2},
        {-129, {0xd1, 0xff, 0x7f}, 3},
        {-32768, {0xd1, 0x80, 0x00}, 3},
        {-32769, {0xd2, 0xff, 0xff, 0x7f, 0xff}, 5},
        {INT32_MIN, {0xd2, 0x80, 0x00, 0x00, 0x00}, 5},
        {(int64_t)INT32_MIN - 1,
         {0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff},
         9},
        {INT64_MIN, {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9},
        {INT64_MAX, {0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_writer w;
        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(cs_writer_mp_int(&w, cases[i].v), 0);
        check_bytes(&w, cases[i].bytes, cases[i].size);
        cs_writer_free(&w);
    }
}

static void
test_scalar_bytes(void)
{
    static const uint8_t want[] = {
        0xc0,                                           /* nil */
        0xc3,                                           /* true */
        0xc2,                                           /* false */
        0xcb, 0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1.5 */
        0x00,                                           /* ... */
        0xa0,                                           /* "" */
        0xa2, 'h',  'i',                                /* "hi" */
        0xa3, 'a',  0x00, 'b',                          /* "a\0b" */
        0xc4, 0x00,                                     /* bin "" */
        0xc4, 0x01, 0xff,                               /* bin ff */
    };
    struct cs_writer w;

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_mp_nil(&w), 0);
    CS_CHECK_INT(cs_writer_mp_bool(&w, true), 0);
    CS_CHECK_INT(cs_writer_mp_bool(&w, false), 0);
    CS_CHECK_INT(cs_writer_mp_double(&w, 1.5), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, ""), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "hi"), 0);
    CS_CHECK_INT(cs_writer_mp_str(&w, "a\0b", 3), 0);
    CS_CHECK_INT(cs_writer_mp_bin(&w, NULL, 0), 0);
    CS_CHECK_INT(cs_writer_mp_bin(&w, "\xff", 1), 0);
    check_bytes(&w, want, sizeof want);
    cs_writer_free(&w);
}

/* Checks the header bytes of a str, bin, array or map of size n. */
static void
check_header(int (*write)(struct cs_writer *w, size_t n), size_t n,
             const uint8_t *hdr, size_t hdr_len, size_t body)
{
    struct cs_writer w;

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(write(&w, n), 0);
    CS_CHECK_INT(cs_writer_len(&w), hdr_len + body);
    if (cs_writer_len(&w) >= hdr_len) {
        if (memcmp(cs_writer_data(&w), hdr, hdr_len) != 0)
            fprintf(stderr, "  size %zu\n", n);
        CS_CHECK(memcmp(cs_writer_data(&w), hdr, hdr_len) == 0);
    }
    cs_writer_free(&w);
}

static uint8_t s_payload[70000]; /* zeroes: content of test strings */

static int
write_str(struct cs_writer *w, size_t n)
{
    return cs_writer_mp_str(w, s_payload, n);
}

static int
write_bin(struct cs_writer *w, size_t n)
{
    return cs_writer_mp_bin(w, s_payload, n);
}

static int
write_array(struct cs_writer *w, size_t n)
{
    return cs_writer_mp_array(w, (uint32_t)n);
}

static int
write_map(struct cs_writer *w, size_t n)
{
    return cs_writer_mp_map(w, (uint32_t)n);
}

static void
test_size_classes(void)
{
    static const struct {
        size_t n;        /* size */
        uint8_t str[5];  /* str header */
        size_t str_len;  /* its length */
        uint8_t bin[5];  /* bin header */
        size_t bin_len;  /* its length */
        uint8_t arr[5];  /* array header */
        uint8_t map[5];  /* map header */
        size_t cont_len; /* length of either */
    } cases[] = {
        {0, {0xa0}, 1, {0xc4, 0x00}, 2, {0x90}, {0x80}, 1},
        {15, {0xaf}, 1, {0xc4, 0x0f}, 2, {0x9f}, {0x8f}, 1},
        {16, {0xb0}, 1, {0xc4, 0x10}, 2, {0xdc, 0, 16}, {0xde, 0, 16}, 3},
        {31, {0xbf}, 1, {0xc4, 31}, 2, {0xdc, 0, 31}, {0xde, 0, 31}, 3},
        {32, {0xd9, 32}, 2, {0xc4, 32}, 2, {0xdc, 0, 32}, {0xde, 0, 32}, 3},
        {255,
         {0xd9, 0xff},
         2,
         {0xc4, 0xff},
         2,
         {0xdc, 0, 0xff},
         {0xde, 0, 0xff},
         3},
        {256, {0xda, 1, 0}, 3, {0xc5, 1, 0}, 3, {0xdc, 1, 0}, {0xde, 1, 0}, 3},
        {65535,
         {0xda, 0xff, 0xff},
         3,
         {0xc5, 0xff, 0xff},
         3,
         {0xdc, 0xff, 0xff},
         {0xde, 0xff, 0xff},
         3},
        {65536,
         {0xdb, 0, 1, 0, 0},
         5,
         {0xc6, 0, 1, 0, 0},
         5,
         {0xdd, 0, 1, 0, 0},
         {0xdf, 0, 1, 0, 0},
         5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = cases[i].n;
        check_header(write_str, n, cases[i].str, cases[i].str_len, n);
        check_header(write_bin, n, cases[i].bin, cases[i].bin_len, n);
        check_header(write_array, n, cases[i].arr, cases[i].cont_len, 0);
        check_header(write_map, n, cases[i].map, cases[i].cont_len, 0);
    }
    static const uint8_t arr_max[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map_max[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    check_header(write_array, UINT32_MAX, arr_max, sizeof arr_max, 0);
    check_header(write_map, UINT32_MAX, map_max, sizeof map_max, 0);
}

static void
test_raw_bytes(void)
{
    static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05,
                                   0x06, 0x07, 0x08, 0x09, 0x0a,
                                   0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    struct cs_writer w;

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_u8(&w, 0x01), 0);
    CS_CHECK_INT(cs_writer_u16be(&w, 0x0203), 0);
    CS_CHECK_INT(cs_writer_u32be(&w, 0x04050607), 0);
    CS_CHECK_INT(cs_writer_u64be(&w, 0x08090a0b0c0d0e0f), 0);
    check_bytes(&w, want, sizeof want);
    cs_writer_free(&w);
}

static void
test_empty(void)
{
    struct cs_writer w;

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK(cs_writer_data(&w) != NULL);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    CS_CHECK_INT(cs_writer_status(&w), 0);
    CS_CHECK_INT(cs_writer_put(&w, NULL, 0), 0);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    cs_writer_free(&w);
    cs_writer_free(&w); /* safe twice */
    CS_CHECK_INT(cs_writer_len(&w), 0);
}

static void
test_max_exact(void)
{
    struct cs_writer w;
    uint8_t bytes[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    cs_writer_init(&w, sizeof bytes);
    CS_CHECK_INT(cs_writer_put(&w, bytes, 4), 0);
    CS_CHECK_INT(cs_writer_put(&w, bytes + 4, 6), 0);
    check_bytes(&w, bytes, sizeof bytes);
    CS_CHECK_INT(cs_writer_put(&w, NULL, 0), 0); /* nothing more is fine */
    CS_CHECK_INT(cs_writer_u8(&w, 10), CS_ERR_TOO_BIG);
    cs_writer_free(&w);

    cs_writer_init(&w, 0);
    CS_CHECK_INT(cs_writer_mp_nil(&w), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
}

static void
test_sticky(void)
{
    struct cs_writer w;
    uint8_t *p;
    size_t len;

    cs_writer_init(&w, 8);
    CS_CHECK_INT(cs_writer_mp_uint(&w, 1), 0);
    /* a 9-byte value does not fit in the 7 bytes left */
    CS_CHECK_INT(cs_writer_mp_uint(&w, UINT64_MAX), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_status(&w), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0); /* memory released */
    CS_CHECK(cs_writer_data(&w) != NULL);
    /* every later append fails, even one that would fit */
    CS_CHECK_INT(cs_writer_put(&w, NULL, 0), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_u8(&w, 1), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_mp_nil(&w), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "x"), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_mp_bin(&w, "x", 1), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_mp_array(&w, 1), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    /* reset keeps the error; take reports it */
    cs_writer_reset(&w);
    CS_CHECK_INT(cs_writer_status(&w), CS_ERR_TOO_BIG);
    p = (uint8_t *)&len;
    len = 5;
    CS_CHECK_INT(cs_writer_take(&w, &p, &len), CS_ERR_TOO_BIG);
    CS_CHECK(p == NULL);
    CS_CHECK_INT(len, 0);
    /* free clears it, with the same max */
    cs_writer_free(&w);
    CS_CHECK_INT(cs_writer_status(&w), 0);
    CS_CHECK_INT(cs_writer_u64be(&w, 1), 0);
    CS_CHECK_INT(cs_writer_u8(&w, 1), CS_ERR_TOO_BIG);
    cs_writer_free(&w);

    /* a header that fits but a body that does not: still sticky */
    cs_writer_init(&w, 4);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "four"), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_status(&w), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    cs_writer_free(&w);
}

/* Lengths msgpack cannot express are refused before any byte is read. */
static void
test_length_over_32_bits(void)
{
#if SIZE_MAX > UINT32_MAX
    struct cs_writer w;
    size_t huge = (size_t)UINT32_MAX + 1;

    cs_writer_init(&w, SIZE_MAX);
    CS_CHECK_INT(cs_writer_mp_str(&w, s_payload, huge), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_status(&w), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
    CS_CHECK_INT(cs_writer_mp_bin(&w, s_payload, huge), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
#endif
}

static void
test_growth(void)
{
    struct cs_writer w;
    size_t n = 100000;

    cs_writer_init(&w, n);
    for (size_t i = 0; i < n; i++) {
        if (cs_writer_u8(&w, (uint8_t)i) != 0) {
            CS_CHECK(false);
            break;
        }
    }
    CS_REQUIRE(cs_writer_len(&w) == n);
    const uint8_t *data = cs_writer_data(&w);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        wrong += data[i] != (uint8_t)i;
    CS_CHECK_INT(wrong, 0);
    CS_CHECK_INT(cs_writer_u8(&w, 0), CS_ERR_TOO_BIG);
    cs_writer_free(&w);

    /* one put far larger than the first allocation */
    cs_writer_init(&w, sizeof s_payload);
    CS_CHECK_INT(cs_writer_put(&w, s_payload, sizeof s_payload), 0);
    CS_CHECK_INT(cs_writer_len(&w), sizeof s_payload);
    cs_writer_free(&w);
}

static void
test_reset(void)
{
    struct cs_writer w;
    static const uint8_t want[] = {0xa1, 'b'};

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "a long enough string"), 0);
    const uint8_t *before = cs_writer_data(&w);
    cs_writer_reset(&w);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "b"), 0);
    CS_CHECK(cs_writer_data(&w) == before); /* memory kept */
    check_bytes(&w, want, sizeof want);
    cs_writer_free(&w);
}

static void
test_take(void)
{
    struct cs_writer w;
    uint8_t *p;
    size_t len;
    static const uint8_t want[] = {0x92, 0x01, 0xc0};

    cs_writer_init(&w, 16);
    CS_CHECK_INT(cs_writer_mp_array(&w, 2), 0);
    CS_CHECK_INT(cs_writer_mp_uint(&w, 1), 0);
    CS_CHECK_INT(cs_writer_mp_nil(&w), 0);
    CS_CHECK_INT(cs_writer_take(&w, &p, &len), 0);
    if (p == NULL) { /* spelled out for the static analyser */
        CS_CHECK(p != NULL);
        cs_writer_free(&w);
        return;
    }
    CS_CHECK_INT(len, sizeof want);
    CS_CHECK(memcmp(p, want, sizeof want) == 0);
    free(p);
    /* the writer is empty and usable, with the same max */
    CS_CHECK_INT(cs_writer_len(&w), 0);
    CS_CHECK_INT(cs_writer_put(&w, s_payload, 16), 0);
    CS_CHECK_INT(cs_writer_u8(&w, 0), CS_ERR_TOO_BIG);
    cs_writer_free(&w);

    /* taking from an empty writer still gives a buffer to free */
    cs_writer_init(&w, 16);
    CS_CHECK_INT(cs_writer_take(&w, &p, &len), 0);
    CS_CHECK(p != NULL);
    CS_CHECK_INT(len, 0);
    free(p);
    cs_writer_free(&w);
}

static const struct cs_test_case cases[] = {
    {"uint_bytes", test_uint_bytes},
    {"int_bytes", test_int_bytes},
    {"scalar_bytes", test_scalar_bytes},
    {"size_classes", test_size_classes},
    {"raw_bytes", test_raw_bytes},
    {"empty", test_empty},
    {"max_exact", test_max_exact},
    {"sticky", test_sticky},
    {"length_over_32_bits", test_length_over_32_bits},
    {"growth", test_growth},
    {"reset", test_reset},
    {"take", test_take},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
