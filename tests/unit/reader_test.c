/*  tests/unit/reader_test.c - unit tests of common/reader.c.
 *
 *  Values are encoded with the writer and read back at every size class
 *  boundary; then, as STYLE.md 37 asks of every parser, each encoding is
 *  cut at every length (truncated), given a limit one below its size
 *  (oversized), read as every other type (wrong type) and followed by an
 *  extra byte (trailing).  Every failure must leave the reader where it was
 *  and its outputs zeroed.  Not tested here: the writer's own limits
 *  (writer_test.c).
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "mem.h"
#include "reader.h"
#include "test.h"
#include "writer.h"

#define WRITER_MAX (1024u * 1024) /* enough for every test value */
#define BIG_COUNT 65536u          /* first count needing 32 bits */

/* The read_* functions below each read one value of some type and discard
   it, so that one check can be run against every reader. */

static int
read_uint(struct cs_reader *rd)
{
    uint64_t v;
    return cs_reader_uint(rd, &v);
}

static int
read_int(struct cs_reader *rd)
{
    int64_t v;
    return cs_reader_int(rd, &v);
}

static int
read_bool(struct cs_reader *rd)
{
    bool v;
    return cs_reader_bool(rd, &v);
}

static int
read_nil(struct cs_reader *rd)
{
    return cs_reader_nil(rd);
}

static int
read_double(struct cs_reader *rd)
{
    double v;
    return cs_reader_double(rd, &v);
}

static int
read_str(struct cs_reader *rd)
{
    struct cs_view v;
    return cs_reader_str(rd, &v, SIZE_MAX);
}

static int
read_bin(struct cs_reader *rd)
{
    struct cs_view v;
    return cs_reader_bin(rd, &v, SIZE_MAX);
}

static int
read_array(struct cs_reader *rd)
{
    size_t n;
    return cs_reader_array(rd, &n, SIZE_MAX);
}

static int
read_map(struct cs_reader *rd)
{
    size_t n;
    return cs_reader_map(rd, &n, SIZE_MAX);
}

static int
read_ext(struct cs_reader *rd)
{
    int8_t type;
    struct cs_view v;
    return cs_reader_ext(rd, &type, &v, SIZE_MAX);
}

static int
read_skip(struct cs_reader *rd)
{
    return cs_reader_skip(rd, CS_READER_DEPTH_MAX);
}

/* Checks that reading every proper prefix of buf[0..n) with read fails
   with CS_ERR_TRUNCATED and consumes nothing; so does skipping it.  Each
   prefix is copied to a block of exactly its size so that ASan sees any
   read past the end. */
static void
check_truncated(const uint8_t *buf, size_t n, int (*read)(struct cs_reader *rd))
{
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = cs_xmalloc(k);
        memcpy(copy, buf, k);
        struct cs_reader rd;
        cs_reader_init(&rd, copy, k);
        int r = read(&rd);
        if (r != CS_ERR_TRUNCATED)
            fprintf(stderr, "  prefix %zu of %zu\n", k, n);
        CS_CHECK_INT(r, CS_ERR_TRUNCATED);
        CS_CHECK_INT(cs_reader_left(&rd), k);
        CS_CHECK_INT(read_skip(&rd), CS_ERR_TRUNCATED);
        CS_CHECK_INT(cs_reader_left(&rd), k);
        free(copy);
    }
}

/* As check_truncated() for long inputs: every prefix is read, but in
   place (no copies), and skip is tried only near both ends, where its
   cost is small. */
static void
check_truncated_long(const uint8_t *buf, size_t n,
                     int (*read)(struct cs_reader *rd))
{
    for (size_t k = 0; k < n; k++) {
        struct cs_reader rd;
        cs_reader_init(&rd, buf, k);
        CS_CHECK_INT(read(&rd), CS_ERR_TRUNCATED);
        CS_CHECK_INT(cs_reader_left(&rd), k);
        if (k < 64 || n - k < 64) {
            CS_CHECK_INT(read_skip(&rd), CS_ERR_TRUNCATED);
            CS_CHECK_INT(cs_reader_left(&rd), k);
        }
    }
}

/* Checks that skip steps over exactly buf[0..n) and then the end is
   reached, and that a trailing byte makes cs_reader_end() fail. */
static void
check_skip_and_trailing(const uint8_t *buf, size_t n)
{
    struct cs_reader rd;
    uint8_t *more = cs_xmalloc(n + 1);

    cs_reader_init(&rd, buf, n);
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX), 0);
    CS_CHECK_INT(cs_reader_left(&rd), 0);
    CS_CHECK_INT(cs_reader_end(&rd), 0);

    memcpy(more, buf, n);
    more[n] = 0x00;
    cs_reader_init(&rd, more, n + 1);
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX), 0);
    CS_CHECK_INT(cs_reader_end(&rd), CS_ERR_TRAILING);
    free(more);
}

static void
test_uint_classes(void)
{
    static const struct {
        uint64_t v;  /* value */
        size_t size; /* bytes of its smallest encoding */
    } cases[] = {
        {0, 1},
        {1, 1},
        {127, 1},
        {128, 2},
        {255, 2},
        {256, 3},
        {65535, 3},
        {65536, 5},
        {UINT32_MAX, 5},
        {(uint64_t)UINT32_MAX + 1, 9},
        {(uint64_t)INT64_MAX, 9},
        {(uint64_t)INT64_MAX + 1, 9},
        {UINT64_MAX, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_writer w;
        struct cs_reader rd;
        uint64_t u;
        int64_t s;
        enum cs_mp_type t;

        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(cs_writer_mp_uint(&w, cases[i].v), 0);
        CS_CHECK_INT(cs_writer_len(&w), cases[i].size);

        cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, CS_MP_UINT);
        CS_CHECK_INT(cs_reader_uint(&rd, &u), 0);
        CS_CHECK(u == cases[i].v);
        CS_CHECK_INT(cs_reader_end(&rd), 0);

        cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
        s = 7;
        if (cases[i].v > INT64_MAX) {
            CS_CHECK_INT(cs_reader_int(&rd, &s), CS_ERR_TOO_BIG);
            CS_CHECK_INT(s, 0);
            CS_CHECK_INT(cs_reader_left(&rd), cases[i].size);
        } else {
            CS_CHECK_INT(cs_reader_int(&rd, &s), 0);
            CS_CHECK(s == (int64_t)cases[i].v);
        }

        check_truncated(cs_writer_data(&w), cs_writer_len(&w), read_uint);
        check_truncated(cs_writer_data(&w), cs_writer_len(&w), read_int);
        check_skip_and_trailing(cs_writer_data(&w), cs_writer_len(&w));
        cs_writer_free(&w);
    }
}

static void
test_int_classes(void)
{
    static const struct {
        int64_t v;   /* value */
        size_t size; /* bytes of its smallest encoding */
    } cases[] = {
        {0, 1},         {127, 1},       {128, 2},
        {-1, 1},        {-32, 1},       {-33, 2},
        {-128, 2},      {-129, 3},      {-32768, 3},
        {-32769, 5},    {INT32_MIN, 5}, {(int64_t)INT32_MIN - 1, 9},
        {INT64_MIN, 9}, {INT64_MAX, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_writer w;
        struct cs_reader rd;
        int64_t s;
        uint64_t u;
        enum cs_mp_type t;

        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(cs_writer_mp_int(&w, cases[i].v), 0);
        CS_CHECK_INT(cs_writer_len(&w), cases[i].size);

        cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, cases[i].v < 0 ? CS_MP_INT : CS_MP_UINT);
        CS_CHECK_INT(cs_reader_int(&rd, &s), 0);
        CS_CHECK(s == cases[i].v);
        CS_CHECK_INT(cs_reader_end(&rd), 0);

        cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
        u = 7;
        if (cases[i].v < 0) {
            CS_CHECK_INT(cs_reader_uint(&rd, &u), CS_ERR_FORMAT);
            CS_CHECK(u == 0);
            CS_CHECK_INT(cs_reader_left(&rd), cases[i].size);
        } else {
            CS_CHECK_INT(cs_reader_uint(&rd, &u), 0);
            CS_CHECK(u == (uint64_t)cases[i].v);
        }

        check_truncated(cs_writer_data(&w), cs_writer_len(&w), read_int);
        check_skip_and_trailing(cs_writer_data(&w), cs_writer_len(&w));
        cs_writer_free(&w);
    }
}

/* Encodings a conforming peer may send although the writer never does:
   signed forms of non-negative values, and wider forms than needed. */
static void
test_int_other_encodings(void)
{
    static const struct {
        uint8_t bytes[9]; /* the encoding */
        size_t size;      /* its length */
        int64_t v;        /* its value */
    } cases[] = {
        {{0xd0, 0x00}, 2, 0},
        {{0xd0, 0x05}, 2, 5},
        {{0xd0, 0x80}, 2, -128},
        {{0xd0, 0xff}, 2, -1},
        {{0xd1, 0x7f, 0xff}, 3, 32767},
        {{0xd1, 0x80, 0x00}, 3, -32768},
        {{0xd2, 0x00, 0x00, 0x00, 0x01}, 5, 1},
        {{0xd2, 0x80, 0x00, 0x00, 0x00}, 5, INT32_MIN},
        {{0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9, INT64_MAX},
        {{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9, INT64_MIN},
        {{0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, 9, -2},
        {{0xcd, 0x00, 0x01}, 3, 1},
        {{0xcf, 0, 0, 0, 0, 0, 0, 0, 0x2a}, 9, 42},
        {{0xe0}, 1, -32},
        {{0xff}, 1, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_reader rd;
        int64_t s;
        uint64_t u;
        enum cs_mp_type t;

        cs_reader_init(&rd, cases[i].bytes, cases[i].size);
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, cases[i].v < 0 ? CS_MP_INT : CS_MP_UINT);
        CS_CHECK_INT(cs_reader_int(&rd, &s), 0);
        CS_CHECK(s == cases[i].v);
        CS_CHECK_INT(cs_reader_end(&rd), 0);

        cs_reader_init(&rd, cases[i].bytes, cases[i].size);
        CS_CHECK_INT(cs_reader_uint(&rd, &u),
                     cases[i].v < 0 ? CS_ERR_FORMAT : 0);
        CS_CHECK(u == (cases[i].v < 0 ? 0 : (uint64_t)cases[i].v));
        check_truncated(cases[i].bytes, cases[i].size, read_int);
    }
}

static void
test_nil_bool(void)
{
    struct cs_writer w;
    struct cs_reader rd;
    bool b;
    enum cs_mp_type t;

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_mp_nil(&w), 0);
    CS_CHECK_INT(cs_writer_mp_bool(&w, true), 0);
    CS_CHECK_INT(cs_writer_mp_bool(&w, false), 0);
    CS_REQUIRE(cs_writer_len(&w) == 3);

    cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
    CS_CHECK(cs_reader_peek_nil(&rd));
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
    CS_CHECK_INT(t, CS_MP_NIL);
    CS_CHECK_INT(cs_reader_nil(&rd), 0);
    CS_CHECK(!cs_reader_peek_nil(&rd));
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
    CS_CHECK_INT(t, CS_MP_BOOL);
    CS_CHECK_INT(cs_reader_bool(&rd, &b), 0);
    CS_CHECK(b);
    CS_CHECK_INT(cs_reader_bool(&rd, &b), 0);
    CS_CHECK(!b);
    CS_CHECK(!cs_reader_peek_nil(&rd));
    CS_CHECK_INT(cs_reader_nil(&rd), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_bool(&rd, &b), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_end(&rd), 0);
    cs_writer_free(&w);
}

static void
test_double(void)
{
    static const double values[] = {0.0,     -0.0,    1.5,      -2.25,    1e300,
                                    DBL_MIN, DBL_MAX, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        struct cs_writer w;
        struct cs_reader rd;
        double d;

        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(cs_writer_mp_double(&w, values[i]), 0);
        CS_CHECK_INT(cs_writer_len(&w), 9);
        cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
        CS_CHECK_INT(cs_reader_double(&rd, &d), 0);
        CS_CHECK(memcmp(&d, &values[i], sizeof d) == 0);
        CS_CHECK_INT(cs_reader_end(&rd), 0);
        check_truncated(cs_writer_data(&w), cs_writer_len(&w), read_double);
        check_skip_and_trailing(cs_writer_data(&w), cs_writer_len(&w));
        cs_writer_free(&w);
    }

    /* NaN survives as NaN */
    struct cs_writer w;
    struct cs_reader rd;
    double d;
    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_mp_double(&w, NAN), 0);
    cs_reader_init(&rd, cs_writer_data(&w), cs_writer_len(&w));
    CS_CHECK_INT(cs_reader_double(&rd, &d), 0);
    CS_CHECK(isnan(d));
    cs_writer_free(&w);

    /* float32 from another encoder: 1.5 and -0.25 */
    static const uint8_t f32[] = {0xca, 0x3f, 0xc0, 0x00, 0x00,
                                  0xca, 0xbe, 0x80, 0x00, 0x00};
    cs_reader_init(&rd, f32, sizeof f32);
    CS_CHECK_INT(cs_reader_double(&rd, &d), 0);
    CS_CHECK(d == 1.5);
    CS_CHECK_INT(cs_reader_double(&rd, &d), 0);
    CS_CHECK(d == -0.25);
    CS_CHECK_INT(cs_reader_end(&rd), 0);
    check_truncated(f32, 5, read_double);
}

/* Returns n pattern bytes to free(); any values do, as strings are not
   checked for UTF-8.  Never NULL: cs_xmalloc aborts instead. */
static uint8_t *
make_bytes(size_t n)
{
    uint8_t *p = cs_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + i % 26);
    return p;
}

/* Round trip of str or bin of every size class boundary. */
static void
check_blob_classes(bool is_str)
{
    static const struct {
        size_t n;   /* payload bytes */
        size_t hdr; /* header bytes of its smallest encoding */
    } str_cases[] = {{0, 1},   {1, 1},     {31, 1},    {32, 2},    {255, 2},
                     {256, 3}, {65535, 3}, {65536, 5}, {100000, 5}},
      bin_cases[] = {{0, 2},     {1, 2},     {255, 2},   {256, 3},
                     {65535, 3}, {65536, 5}, {100000, 5}};
    size_t count = is_str ? sizeof str_cases / sizeof *str_cases
                          : sizeof bin_cases / sizeof *bin_cases;
    int (*read)(struct cs_reader * rd) = is_str ? read_str : read_bin;

    for (size_t i = 0; i < count; i++) {
        size_t n = is_str ? str_cases[i].n : bin_cases[i].n;
        size_t hdr = is_str ? str_cases[i].hdr : bin_cases[i].hdr;
        uint8_t *payload = make_bytes(n);
        struct cs_writer w;
        struct cs_reader rd;
        struct cs_view v;
        enum cs_mp_type t;

        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(is_str ? cs_writer_mp_str(&w, payload, n)
                            : cs_writer_mp_bin(&w, payload, n),
                     0);
        CS_CHECK_INT(cs_writer_len(&w), hdr + n);
        const uint8_t *data = cs_writer_data(&w);
        size_t len = cs_writer_len(&w);

        cs_reader_init(&rd, data, len);
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, is_str ? CS_MP_STR : CS_MP_BIN);
        CS_CHECK_INT(
            is_str ? cs_reader_str(&rd, &v, n) : cs_reader_bin(&rd, &v, n), 0);
        CS_CHECK_INT(v.len, n);
        CS_CHECK(v.p == data + hdr);
        CS_CHECK(memcmp(v.p, payload, n) == 0);
        CS_CHECK_INT(cs_reader_end(&rd), 0);

        /* oversized: one byte over the caller's max */
        if (n > 0) {
            cs_reader_init(&rd, data, len);
            v.p = data;
            v.len = 9;
            CS_CHECK_INT(is_str ? cs_reader_str(&rd, &v, n - 1)
                                : cs_reader_bin(&rd, &v, n - 1),
                         CS_ERR_TOO_BIG);
            CS_CHECK(v.p == NULL && v.len == 0);
            CS_CHECK_INT(cs_reader_left(&rd), len);
        }

        if (len <= 300)
            check_truncated(data, len, read);
        else
            check_truncated_long(data, len, read);
        check_skip_and_trailing(data, len);
        cs_writer_free(&w);
        free(payload);
    }
}

static void
test_str_classes(void)
{
    check_blob_classes(true);
}

static void
test_bin_classes(void)
{
    check_blob_classes(false);
}

/* Round trip of array or map headers at every size class boundary, each
   element a nil. */
static void
check_container_classes(bool is_map)
{
    static const struct {
        uint32_t n; /* element or pair count */
        size_t hdr; /* header bytes of its smallest encoding */
    } cases[] = {{0, 1},     {1, 1},         {15, 1},   {16, 3},
                 {65535, 3}, {BIG_COUNT, 5}, {70000, 5}};
    size_t per = is_map ? 2 : 1;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_writer w;
        struct cs_reader rd;
        size_t n;
        enum cs_mp_type t;

        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(is_map ? cs_writer_mp_map(&w, cases[i].n)
                            : cs_writer_mp_array(&w, cases[i].n),
                     0);
        CS_CHECK_INT(cs_writer_len(&w), cases[i].hdr);
        for (size_t k = 0; k < cases[i].n * per; k++)
            CS_CHECK_INT(cs_writer_mp_nil(&w), 0);
        const uint8_t *data = cs_writer_data(&w);
        size_t len = cs_writer_len(&w);
        CS_REQUIRE(len == cases[i].hdr + cases[i].n * per);

        cs_reader_init(&rd, data, len);
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, is_map ? CS_MP_MAP : CS_MP_ARRAY);
        CS_CHECK_INT(is_map ? cs_reader_map(&rd, &n, cases[i].n)
                            : cs_reader_array(&rd, &n, cases[i].n),
                     0);
        CS_CHECK_INT(n, cases[i].n);
        CS_CHECK_INT(cs_reader_left(&rd), cases[i].n * per);
        for (size_t k = 0; k < n * per; k++)
            CS_CHECK_INT(cs_reader_nil(&rd), 0);
        CS_CHECK_INT(cs_reader_end(&rd), 0);

        /* oversized: count one over the caller's max */
        if (cases[i].n > 0) {
            cs_reader_init(&rd, data, len);
            n = 9;
            CS_CHECK_INT(is_map ? cs_reader_map(&rd, &n, cases[i].n - 1)
                                : cs_reader_array(&rd, &n, cases[i].n - 1),
                         CS_ERR_TOO_BIG);
            CS_CHECK_INT(n, 0);
            CS_CHECK_INT(cs_reader_left(&rd), len);
        }

        /* every prefix: the header claims more values than bytes left */
        if (len <= 300)
            check_truncated(data, len, is_map ? read_map : read_array);
        else
            check_truncated_long(data, len, is_map ? read_map : read_array);
        check_skip_and_trailing(data, len);
        cs_writer_free(&w);
    }
}

static void
test_array_classes(void)
{
    check_container_classes(false);
}

static void
test_map_classes(void)
{
    check_container_classes(true);
}

static void
test_ext(void)
{
    static const struct {
        uint8_t hdr[6]; /* header, type byte included */
        size_t hdr_len; /* its length */
        size_t n;       /* payload bytes */
    } cases[] = {
        {{0xd4, 0x01}, 2, 1},
        {{0xd5, 0xff}, 2, 2},
        {{0xd6, 0x7f}, 2, 4},
        {{0xd7, 0x80}, 2, 8},
        {{0xd8, 0x02}, 2, 16},
        {{0xc7, 0x00, 0x03}, 3, 0},
        {{0xc7, 0x03, 0xfe}, 3, 3},
        {{0xc7, 0xff, 0x05}, 3, 255},
        {{0xc8, 0x01, 0x00, 0x06}, 4, 256},
        {{0xc9, 0x00, 0x01, 0x00, 0x00, 0x07}, 6, 65536},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_writer w;
        struct cs_reader rd;
        struct cs_view v;
        int8_t type;
        enum cs_mp_type t;
        uint8_t *payload = make_bytes(cases[i].n);
        int8_t want_type = (int8_t)cases[i].hdr[cases[i].hdr_len - 1];

        cs_writer_init(&w, WRITER_MAX);
        CS_CHECK_INT(cs_writer_put(&w, cases[i].hdr, cases[i].hdr_len), 0);
        CS_CHECK_INT(cs_writer_put(&w, payload, cases[i].n), 0);
        const uint8_t *data = cs_writer_data(&w);
        size_t len = cs_writer_len(&w);

        cs_reader_init(&rd, data, len);
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, CS_MP_EXT);
        CS_CHECK_INT(cs_reader_ext(&rd, &type, &v, cases[i].n), 0);
        CS_CHECK_INT(type, want_type);
        CS_CHECK_INT(v.len, cases[i].n);
        CS_CHECK(memcmp(v.p, payload, cases[i].n) == 0);
        CS_CHECK_INT(cs_reader_end(&rd), 0);

        if (cases[i].n > 0) {
            cs_reader_init(&rd, data, len);
            type = 9;
            CS_CHECK_INT(cs_reader_ext(&rd, &type, &v, cases[i].n - 1),
                         CS_ERR_TOO_BIG);
            CS_CHECK_INT(type, 0);
            CS_CHECK(v.p == NULL && v.len == 0);
            CS_CHECK_INT(cs_reader_left(&rd), len);
        }
        if (len <= 300)
            check_truncated(data, len, read_ext);
        else
            check_truncated_long(data, len, read_ext);
        check_skip_and_trailing(data, len);
        cs_writer_free(&w);
        free(payload);
    }
}

/* One sample value of every type, and the type peek must report. */
static const struct {
    uint8_t bytes[5];     /* the encoding */
    size_t size;          /* its length */
    enum cs_mp_type type; /* its kind */
} samples[] = {
    {{0xc0}, 1, CS_MP_NIL},
    {{0xc3}, 1, CS_MP_BOOL},
    {{0x05}, 1, CS_MP_UINT},
    {{0xfb}, 1, CS_MP_INT},
    {{0xca, 0x3f, 0xc0, 0, 0}, 5, CS_MP_FLOAT},
    {{0xa1, 'a'}, 2, CS_MP_STR},
    {{0xc4, 0x01, 'a'}, 3, CS_MP_BIN},
    {{0x90}, 1, CS_MP_ARRAY},
    {{0x80}, 1, CS_MP_MAP},
    {{0xd4, 0x01, 0x02}, 3, CS_MP_EXT},
};

/* Which sample types each reader accepts. */
static bool
accepts(int (*read)(struct cs_reader *rd), enum cs_mp_type t)
{
    if (read == read_uint)
        return t == CS_MP_UINT;
    if (read == read_int)
        return t == CS_MP_UINT || t == CS_MP_INT;
    if (read == read_bool)
        return t == CS_MP_BOOL;
    if (read == read_nil)
        return t == CS_MP_NIL;
    if (read == read_double)
        return t == CS_MP_FLOAT;
    if (read == read_str)
        return t == CS_MP_STR;
    if (read == read_bin)
        return t == CS_MP_BIN;
    if (read == read_array)
        return t == CS_MP_ARRAY;
    if (read == read_map)
        return t == CS_MP_MAP;
    return t == CS_MP_EXT;
}

static void
test_wrong_type(void)
{
    static int (*const reads[])(struct cs_reader * rd) = {
        read_uint, read_int, read_bool,  read_nil, read_double,
        read_str,  read_bin, read_array, read_map, read_ext};
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        const uint8_t *bytes = samples[i].bytes;
        size_t size = samples[i].size;
        struct cs_reader rd;
        enum cs_mp_type t;
        cs_reader_init(&rd, bytes, size);
        CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
        CS_CHECK_INT(t, samples[i].type);

        for (size_t k = 0; k < sizeof reads / sizeof *reads; k++) {
            cs_reader_init(&rd, bytes, size);
            int r = reads[k](&rd);
            if (accepts(reads[k], samples[i].type)) {
                CS_CHECK_INT(r, 0);
                CS_CHECK_INT(cs_reader_left(&rd), 0);
                continue;
            }
            if (r != CS_ERR_FORMAT)
                fprintf(stderr, "  sample %zu reader %zu\n", i, k);
            CS_CHECK_INT(r, CS_ERR_FORMAT);
            CS_CHECK_INT(cs_reader_left(&rd), size);
        }
    }
}

/* A failed read zeroes every output, whatever it held before. */
static void
test_outputs_zeroed(void)
{
    static const uint8_t str[] = {0xa1, 'a'};
    struct cs_reader rd;
    uint64_t u = 1;
    int64_t s = 1;
    bool b = true;
    double d = 1.0;
    size_t n = 1;
    int8_t type = 1;
    struct cs_view v = {str, 1};
    uint8_t u8 = 1;
    uint16_t u16 = 1;
    uint32_t u32 = 1;
    enum cs_mp_type t = CS_MP_STR;

    cs_reader_init(&rd, str, sizeof str);
    CS_CHECK(cs_reader_uint(&rd, &u) != 0 && u == 0);
    CS_CHECK(cs_reader_int(&rd, &s) != 0 && s == 0);
    CS_CHECK(cs_reader_bool(&rd, &b) != 0 && !b);
    CS_CHECK(cs_reader_double(&rd, &d) != 0 && d == 0.0);
    CS_CHECK(cs_reader_array(&rd, &n, 10) != 0 && n == 0);
    n = 1;
    CS_CHECK(cs_reader_map(&rd, &n, 10) != 0 && n == 0);
    CS_CHECK(cs_reader_bin(&rd, &v, 10) != 0 && v.p == NULL && v.len == 0);
    v.p = str;
    v.len = 1;
    CS_CHECK(cs_reader_ext(&rd, &type, &v, 10) != 0 && type == 0 &&
             v.p == NULL && v.len == 0);

    cs_reader_init(&rd, NULL, 0);
    v.p = str;
    v.len = 1;
    CS_CHECK(cs_reader_str(&rd, &v, 10) != 0 && v.p == NULL && v.len == 0);
    CS_CHECK(cs_reader_peek_type(&rd, &t) != 0 && t == CS_MP_INVALID);
    CS_CHECK(cs_reader_u8(&rd, &u8) != 0 && u8 == 0);
    CS_CHECK(cs_reader_u16be(&rd, &u16) != 0 && u16 == 0);
    CS_CHECK(cs_reader_u32be(&rd, &u32) != 0 && u32 == 0);
    CS_CHECK(cs_reader_u64be(&rd, &u) != 0 && u == 0);
    v.p = str;
    CS_CHECK(cs_reader_bytes(&rd, &v, 1) != 0 && v.p == NULL);
}

static void
test_trailing(void)
{
    static const uint8_t bytes[] = {0x01, 0xc0};
    struct cs_reader rd;
    uint64_t u;

    cs_reader_init(&rd, bytes, sizeof bytes);
    CS_CHECK_INT(cs_reader_end(&rd), CS_ERR_TRAILING);
    CS_CHECK_INT(cs_reader_uint(&rd, &u), 0);
    CS_CHECK_INT(cs_reader_end(&rd), CS_ERR_TRAILING);
    CS_CHECK_INT(cs_reader_nil(&rd), 0);
    CS_CHECK_INT(cs_reader_end(&rd), 0);

    cs_reader_init(&rd, NULL, 0);
    CS_CHECK_INT(cs_reader_end(&rd), 0);
    CS_CHECK_INT(cs_reader_left(&rd), 0);
}

/* msgpack/msgpack-c#1013: a 5-byte header that claims 2^32-1 elements
   must fail at once, never leading anyone to size memory by it. */
static void
test_huge_headers(void)
{
    static const uint8_t array32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff,
                                    0xff, 0xc0, 0xc0, 0xc0};
    static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    static const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t ext32[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01};
    struct cs_reader rd;
    struct cs_view v;
    size_t n;
    int8_t type;
    enum cs_mp_type t;

    cs_reader_init(&rd, array32, sizeof array32);
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
    CS_CHECK_INT(t, CS_MP_ARRAY);
    CS_CHECK_INT(cs_reader_array(&rd, &n, SIZE_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(n, 0);
    CS_CHECK_INT(cs_reader_array(&rd, &n, 1000), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_left(&rd), sizeof array32);

    cs_reader_init(&rd, map32, sizeof map32);
    CS_CHECK_INT(cs_reader_map(&rd, &n, SIZE_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_map(&rd, &n, 1000), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_left(&rd), sizeof map32);

    cs_reader_init(&rd, str32, sizeof str32);
    CS_CHECK_INT(cs_reader_str(&rd, &v, SIZE_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_str(&rd, &v, 1000), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX), CS_ERR_TRUNCATED);

    cs_reader_init(&rd, bin32, sizeof bin32);
    CS_CHECK_INT(cs_reader_bin(&rd, &v, SIZE_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_bin(&rd, &v, 1000), CS_ERR_TOO_BIG);

    cs_reader_init(&rd, ext32, sizeof ext32);
    CS_CHECK_INT(cs_reader_ext(&rd, &type, &v, SIZE_MAX), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_ext(&rd, &type, &v, 1000), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_reader_left(&rd), sizeof ext32);
}

/* A map needs two values per pair: n pairs in fewer than 2n bytes fail. */
static void
test_map_count_vs_bytes(void)
{
    static const uint8_t three_pairs_short[] = {0x83, 0xc0, 0xc0,
                                                0xc0, 0xc0, 0xc0};
    struct cs_reader rd;
    size_t n;

    cs_reader_init(&rd, three_pairs_short, sizeof three_pairs_short);
    CS_CHECK_INT(cs_reader_map(&rd, &n, 10), CS_ERR_TRUNCATED);
    cs_reader_init(&rd, three_pairs_short, sizeof three_pairs_short);
    CS_CHECK_INT(cs_reader_array(&rd, &n, 10), CS_ERR_FORMAT);
}

static void
test_peek(void)
{
    static const uint8_t never[] = {0xc1};
    static const uint8_t int16_short[] = {0xd1, 0x80};
    static const uint8_t neg8[] = {0xd0, 0xfb};
    static const uint8_t pos8[] = {0xd0, 0x05};
    struct cs_reader rd;
    enum cs_mp_type t;

    cs_reader_init(&rd, NULL, 0);
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), CS_ERR_TRUNCATED);
    CS_CHECK_INT(t, CS_MP_INVALID);
    CS_CHECK(!cs_reader_peek_nil(&rd));

    cs_reader_init(&rd, never, sizeof never);
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), CS_ERR_FORMAT);
    CS_CHECK_INT(t, CS_MP_INVALID);
    CS_CHECK_INT(read_uint(&rd), CS_ERR_FORMAT);
    CS_CHECK_INT(read_skip(&rd), CS_ERR_FORMAT);
    CS_CHECK_INT(cs_reader_left(&rd), 1);

    cs_reader_init(&rd, int16_short, sizeof int16_short);
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), CS_ERR_TRUNCATED);

    cs_reader_init(&rd, neg8, sizeof neg8);
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
    CS_CHECK_INT(t, CS_MP_INT);
    cs_reader_init(&rd, pos8, sizeof pos8);
    CS_CHECK_INT(cs_reader_peek_type(&rd, &t), 0);
    CS_CHECK_INT(t, CS_MP_UINT);
    CS_CHECK_INT(cs_reader_left(&rd), 2);
}

/* Builds depth nested one-element arrays around the integer 1. */
static size_t
make_nested(uint8_t *buf, size_t depth)
{
    for (size_t i = 0; i < depth; i++)
        buf[i] = 0x91;
    buf[depth] = 0x01;
    return depth + 1;
}

static void
test_skip_depth(void)
{
    uint8_t buf[CS_READER_DEPTH_MAX + 8];
    struct cs_reader rd;

    for (size_t depth = 0; depth <= CS_READER_DEPTH_MAX + 1; depth++) {
        size_t n = make_nested(buf, depth);
        if (depth <= CS_READER_DEPTH_MAX) {
            cs_reader_init(&rd, buf, n);
            CS_CHECK_INT(cs_reader_skip(&rd, depth), 0);
            CS_CHECK_INT(cs_reader_end(&rd), 0);
        }
        if (depth > 0) {
            size_t limit = depth - 1 < CS_READER_DEPTH_MAX
                               ? depth - 1
                               : CS_READER_DEPTH_MAX;
            cs_reader_init(&rd, buf, n);
            CS_CHECK_INT(cs_reader_skip(&rd, limit), CS_ERR_TOO_BIG);
            CS_CHECK_INT(cs_reader_left(&rd), n);
        }
        check_truncated(buf, n, read_skip);
    }

    cs_reader_init(&rd, buf, make_nested(buf, 1));
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX + 1), CS_ERR_INVALID);
    CS_CHECK_INT(cs_reader_left(&rd), 2);

    /* an empty container still takes one level */
    static const uint8_t empty[] = {0x90, 0x80};
    cs_reader_init(&rd, empty, sizeof empty);
    CS_CHECK_INT(cs_reader_skip(&rd, 0), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_reader_skip(&rd, 1), 0);
    CS_CHECK_INT(cs_reader_skip(&rd, 1), 0);
    CS_CHECK_INT(cs_reader_end(&rd), 0);
}

static void
test_skip_structure(void)
{
    /* {"a": [1, {"b": nil}, bin"xy", ext1], "c": true, "d": -1.5} then 42 */
    struct cs_writer w;
    struct cs_reader rd;
    uint64_t u;
    static const uint8_t fixext1[] = {0xd4, 0x05, 0x00};

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_mp_map(&w, 3), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "a"), 0);
    CS_CHECK_INT(cs_writer_mp_array(&w, 4), 0);
    CS_CHECK_INT(cs_writer_mp_uint(&w, 1), 0);
    CS_CHECK_INT(cs_writer_mp_map(&w, 1), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "b"), 0);
    CS_CHECK_INT(cs_writer_mp_nil(&w), 0);
    CS_CHECK_INT(cs_writer_mp_bin(&w, "xy", 2), 0);
    CS_CHECK_INT(cs_writer_put(&w, fixext1, sizeof fixext1), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "c"), 0);
    CS_CHECK_INT(cs_writer_mp_bool(&w, true), 0);
    CS_CHECK_INT(cs_writer_mp_cstr(&w, "d"), 0);
    CS_CHECK_INT(cs_writer_mp_double(&w, -1.5), 0);
    size_t value_len = cs_writer_len(&w);
    CS_CHECK_INT(cs_writer_mp_uint(&w, 42), 0);
    const uint8_t *data = cs_writer_data(&w);

    cs_reader_init(&rd, data, cs_writer_len(&w));
    CS_CHECK_INT(cs_reader_skip(&rd, 1), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_reader_skip(&rd, 3), 0);
    CS_CHECK_INT(cs_reader_left(&rd), 1);
    CS_CHECK_INT(cs_reader_uint(&rd, &u), 0);
    CS_CHECK_INT(u, 42);
    CS_CHECK_INT(cs_reader_end(&rd), 0);

    check_truncated(data, value_len, read_skip);
    check_skip_and_trailing(data, value_len);

    /* 0xc1 deep inside fails the whole skip */
    uint8_t bad[64];
    CS_REQUIRE(value_len <= sizeof bad);
    memcpy(bad, data, value_len);
    bad[value_len - 9] = 0xc1; /* the tag of -1.5 */
    cs_reader_init(&rd, bad, value_len);
    CS_CHECK_INT(cs_reader_skip(&rd, CS_READER_DEPTH_MAX), CS_ERR_FORMAT);
    CS_CHECK_INT(cs_reader_left(&rd), value_len);
    cs_writer_free(&w);
}

static void
test_raw_fields(void)
{
    struct cs_writer w;
    struct cs_reader rd;
    struct cs_view v;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    static const uint8_t expect[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe,
                                     0xef, 0x01, 0x02, 0x03, 0x04, 0x05,
                                     0x06, 0x07, 0x08, 'x',  'y',  'z'};

    cs_writer_init(&w, WRITER_MAX);
    CS_CHECK_INT(cs_writer_u8(&w, 0xab), 0);
    CS_CHECK_INT(cs_writer_u16be(&w, 0x1234), 0);
    CS_CHECK_INT(cs_writer_u32be(&w, 0xdeadbeef), 0);
    CS_CHECK_INT(cs_writer_u64be(&w, 0x0102030405060708), 0);
    CS_CHECK_INT(cs_writer_put(&w, "xyz", 3), 0);
    CS_REQUIRE(cs_writer_len(&w) == sizeof expect);
    CS_CHECK(memcmp(cs_writer_data(&w), expect, sizeof expect) == 0);

    cs_reader_init(&rd, expect, sizeof expect);
    CS_CHECK_INT(cs_reader_u8(&rd, &u8), 0);
    CS_CHECK_INT(u8, 0xab);
    CS_CHECK_INT(cs_reader_u16be(&rd, &u16), 0);
    CS_CHECK_INT(u16, 0x1234);
    CS_CHECK_INT(cs_reader_u32be(&rd, &u32), 0);
    CS_CHECK_INT(u32, 0xdeadbeef);
    CS_CHECK_INT(cs_reader_u64be(&rd, &u64), 0);
    CS_CHECK(u64 == 0x0102030405060708);
    CS_CHECK_INT(cs_reader_bytes(&rd, &v, 4), CS_ERR_TRUNCATED);
    CS_CHECK_INT(cs_reader_left(&rd), 3);
    CS_CHECK_INT(cs_reader_bytes(&rd, &v, 0), 0);
    CS_CHECK_INT(v.len, 0);
    CS_CHECK_INT(cs_reader_bytes(&rd, &v, 3), 0);
    CS_CHECK(v.len == 3 && memcmp(v.p, "xyz", 3) == 0);
    CS_CHECK_INT(cs_reader_end(&rd), 0);

    /* every short length of each field */
    for (size_t k = 0; k < 8; k++) {
        cs_reader_init(&rd, expect + 7, k);
        CS_CHECK_INT(cs_reader_u64be(&rd, &u64), CS_ERR_TRUNCATED);
        CS_CHECK(u64 == 0);
        CS_CHECK_INT(cs_reader_left(&rd), k);
        if (k < 4) {
            CS_CHECK_INT(cs_reader_u32be(&rd, &u32), CS_ERR_TRUNCATED);
            CS_CHECK_INT(cs_reader_left(&rd), k);
        }
        if (k < 2) {
            CS_CHECK_INT(cs_reader_u16be(&rd, &u16), CS_ERR_TRUNCATED);
            CS_CHECK_INT(cs_reader_left(&rd), k);
        }
        if (k < 1) {
            CS_CHECK_INT(cs_reader_u8(&rd, &u8), CS_ERR_TRUNCATED);
            CS_CHECK_INT(cs_reader_left(&rd), k);
        }
    }
    cs_writer_free(&w);
}

static void
test_utf8(void)
{
    static const struct {
        const char *bytes; /* input */
        bool valid;        /* expected verdict */
    } cases[] = {
        {"", true},
        {"plain ascii", true},
        {"\xc3\xa9", true},         /* U+00E9 */
        {"\xc2\x80", true},         /* U+0080, smallest 2-byte */
        {"\xdf\xbf", true},         /* U+07FF */
        {"\xe0\xa0\x80", true},     /* U+0800 */
        {"\xed\x9f\xbf", true},     /* U+D7FF */
        {"\xee\x80\x80", true},     /* U+E000 */
        {"\xef\xbf\xbf", true},     /* U+FFFF */
        {"\xf0\x90\x80\x80", true}, /* U+10000 */
        {"\xf4\x8f\xbf\xbf", true}, /* U+10FFFF */
        {"\xd0\x9a\xd0\xbe\xd1\x87\xd0\xba\xd0\xbe\xd1\x80",
         true},                          /* Kochkor */
        {"\xc0\x80", false},             /* overlong NUL */
        {"\xc1\xbf", false},             /* overlong U+007F */
        {"\xe0\x80\x80", false},         /* overlong 3-byte */
        {"\xe0\x9f\xbf", false},         /* overlong U+07FF */
        {"\xf0\x80\x80\x80", false},     /* overlong 4-byte */
        {"\xf0\x8f\xbf\xbf", false},     /* overlong U+FFFF */
        {"\xed\xa0\x80", false},         /* U+D800 surrogate */
        {"\xed\xbf\xbf", false},         /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", false},     /* U+110000 */
        {"\xf5\x80\x80\x80", false},     /* lead above U+10FFFF */
        {"\xf8\x88\x80\x80\x80", false}, /* 5-byte form */
        {"\xfe", false},                 /* never in UTF-8 */
        {"\xff", false},                 /* never in UTF-8 */
        {"\x80", false},                 /* stray continuation */
        {"a\xbf", false},                /* stray continuation */
        {"\xc3", false},                 /* cut short */
        {"\xe2\x82", false},             /* cut short */
        {"\xf0\x90\x80", false},         /* cut short */
        {"\xc3\x28", false},             /* bad continuation */
        {"\xe2\x28\xa1", false},         /* bad continuation */
        {"ok\xc3\xa9then\xc3", false},   /* cut short at the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bool got = cs_utf8_valid((const uint8_t *)cases[i].bytes,
                                 strlen(cases[i].bytes));
        if (got != cases[i].valid)
            fprintf(stderr, "  utf8 case %zu\n", i);
        CS_CHECK(got == cases[i].valid);
    }
    CS_CHECK(cs_utf8_valid(NULL, 0));
    /* an embedded NUL is valid UTF-8 (U+0000) */
    CS_CHECK(cs_utf8_valid((const uint8_t *)"a\0b", 3));
}

/* A bin of exactly the size asked is copied; a shorter or longer one is
   refused, and a str is not a bin. */
static void
test_bin_exact(void)
{
    static const uint8_t three[] = {0xc4, 0x03, 'a', 'b', 'c'};
    static const uint8_t str3[] = {0xa3, 'a', 'b', 'c'};
    struct cs_reader rd;
    uint8_t out[4] = {0};

    cs_reader_init(&rd, three, sizeof three);
    CS_CHECK_INT(cs_reader_bin_exact(&rd, out, 3), 0);
    CS_CHECK(memcmp(out, "abc", 3) == 0 && cs_reader_left(&rd) == 0);
    cs_reader_init(&rd, three, sizeof three);
    CS_CHECK_INT(cs_reader_bin_exact(&rd, out, 4), CS_ERR_FORMAT);
    cs_reader_init(&rd, three, sizeof three);
    CS_CHECK_INT(cs_reader_bin_exact(&rd, out, 2), CS_ERR_TOO_BIG);
    cs_reader_init(&rd, str3, sizeof str3);
    CS_CHECK_INT(cs_reader_bin_exact(&rd, out, 3), CS_ERR_FORMAT);
}

static const struct cs_test_case cases[] = {
    {"bin_exact", test_bin_exact},
    {"uint_classes", test_uint_classes},
    {"int_classes", test_int_classes},
    {"int_other_encodings", test_int_other_encodings},
    {"nil_bool", test_nil_bool},
    {"double", test_double},
    {"str_classes", test_str_classes},
    {"bin_classes", test_bin_classes},
    {"array_classes", test_array_classes},
    {"map_classes", test_map_classes},
    {"ext", test_ext},
    {"wrong_type", test_wrong_type},
    {"outputs_zeroed", test_outputs_zeroed},
    {"trailing", test_trailing},
    {"huge_headers", test_huge_headers},
    {"map_count_vs_bytes", test_map_count_vs_bytes},
    {"peek", test_peek},
    {"skip_depth", test_skip_depth},
    {"skip_structure", test_skip_structure},
    {"raw_fields", test_raw_fields},
    {"utf8", test_utf8},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
