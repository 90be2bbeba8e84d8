/*  tests/fuzz/reader_fuzz.c - libFuzzer target for common/reader.c.
 *
 *  Targets: cs_reader_peek_type, cs_reader_peek_nil, cs_reader_uint,
 *  cs_reader_int, cs_reader_bool, cs_reader_nil, cs_reader_double,
 *  cs_reader_str, cs_reader_bin, cs_reader_array, cs_reader_map,
 *  cs_reader_ext, cs_reader_skip, cs_reader_u8/u16be/u32be/u64be,
 *  cs_reader_bytes, cs_reader_end and cs_utf8_valid.
 *
 *  Arbitrary bytes are walked three ways: value by value with the typed
 *  read that peek_type names, with cs_reader_skip at every depth limit, and
 *  as raw big-endian fields.  Besides "no crash, no sanitizer report", the
 *  reader's contract is checked and any breach abort()s: a failed read
 *  leaves the offset alone and zeroes its outputs, views lie inside the
 *  input, the read that peek names succeeds unless the value is cut short
 *  or over a limit, and skip agrees with the typed read on scalar length.
 *  Deterministic: no clocks, no randomness, no global state.  It is not a
 *  test of any message decoder; those get targets of their own.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reader.h"

#define FUZZ_LIMIT 4096 /* max handed to str/bin/ext/array/map reads */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool cond)
{
    if (!cond)
        abort();
}

/* A view must be empty-and-NULL, or inside the input. */
static void
check_view(const struct cs_view *v, const uint8_t *data, size_t size, int r)
{
    if (r != 0) {
        require(v->p == NULL && v->len == 0);
        return;
    }
    require(v->len <= size);
    require(v->p >= data && (size_t)(v->p - data) <= size - v->len);
}

/* Reads the next value with the reader peek names; returns its result.
   Containers: only the header is read, the walk then goes on through the
   elements as if they were top-level values. */
static int
read_typed(struct cs_reader *rd, enum cs_mp_type t, const uint8_t *data,
           size_t size)
{
    uint64_t u = 1;
    int64_t s = 1;
    bool b = true;
    double d = 1.0;
    size_t n = 1;
    int8_t ext_type = 1;
    struct cs_view v = {data, 1};
    int r;

    switch (t) {
    case CS_MP_NIL:
        require(cs_reader_peek_nil(rd));
        r = cs_reader_nil(rd);
        require(r == 0);
        return r;
    case CS_MP_BOOL:
        r = cs_reader_bool(rd, &b);
        require(r == 0);
        return r;
    case CS_MP_UINT: {
        struct cs_reader copy = *rd;
        r = cs_reader_int(&copy, &s);
        require(r == 0 || (r == CS_ERR_TOO_BIG && s == 0));
        r = cs_reader_uint(rd, &u);
        require(r == 0);
        return r;
    }
    case CS_MP_INT:
        r = cs_reader_uint(rd, &u);
        require(r == CS_ERR_FORMAT && u == 0);
        r = cs_reader_int(rd, &s);
        require(r == 0 && s < 0);
        return r;
    case CS_MP_FLOAT:
        r = cs_reader_double(rd, &d);
        require(r == 0);
        return r;
    case CS_MP_STR:
        r = cs_reader_str(rd, &v, FUZZ_LIMIT);
        check_view(&v, data, size, r);
        if (r == 0)
            (void)cs_utf8_valid(v.p, v.len);
        return r;
    case CS_MP_BIN:
        r = cs_reader_bin(rd, &v, FUZZ_LIMIT);
        check_view(&v, data, size, r);
        return r;
    case CS_MP_ARRAY:
        r = cs_reader_array(rd, &n, FUZZ_LIMIT);
        require(r == 0 || n == 0);
        require(r != 0 || n <= cs_reader_left(rd));
        return r;
    case CS_MP_MAP:
        r = cs_reader_map(rd, &n, FUZZ_LIMIT);
        require(r == 0 || n == 0);
        require(r != 0 || n <= cs_reader_left(rd) / 2);
        return r;
    case CS_MP_EXT:
        r = cs_reader_ext(rd, &ext_type, &v, FUZZ_LIMIT);
        check_view(&v, data, size, r);
        require(r == 0 || ext_type == 0);
        return r;
    default:
        abort(); /* peek never reports CS_MP_INVALID with status 0 */
    }
}

/* Every typed reader but the one peek named must refuse the value with
   CS_ERR_FORMAT, without moving. */
static void
check_wrong_types(const struct cs_reader *at, enum cs_mp_type t)
{
    struct cs_reader rd = *at;
    size_t left = cs_reader_left(&rd);
    uint64_t u;
    int64_t s;
    bool b;
    double d;
    size_t n;
    int8_t ext_type;
    struct cs_view v;

    if (t != CS_MP_UINT && t != CS_MP_INT) {
        require(cs_reader_uint(&rd, &u) == CS_ERR_FORMAT && u == 0);
        require(cs_reader_int(&rd, &s) == CS_ERR_FORMAT && s == 0);
    }
    if (t != CS_MP_BOOL)
        require(cs_reader_bool(&rd, &b) == CS_ERR_FORMAT && !b);
    if (t != CS_MP_NIL)
        require(cs_reader_nil(&rd) == CS_ERR_FORMAT);
    if (t != CS_MP_FLOAT)
        require(cs_reader_double(&rd, &d) == CS_ERR_FORMAT && d == 0.0);
    if (t != CS_MP_STR)
        require(cs_reader_str(&rd, &v, FUZZ_LIMIT) == CS_ERR_FORMAT);
    if (t != CS_MP_BIN)
        require(cs_reader_bin(&rd, &v, FUZZ_LIMIT) == CS_ERR_FORMAT);
    if (t != CS_MP_ARRAY)
        require(cs_reader_array(&rd, &n, FUZZ_LIMIT) == CS_ERR_FORMAT);
    if (t != CS_MP_MAP)
        require(cs_reader_map(&rd, &n, FUZZ_LIMIT) == CS_ERR_FORMAT);
    if (t != CS_MP_EXT)
        require(cs_reader_ext(&rd, &ext_type, &v, FUZZ_LIMIT) == CS_ERR_FORMAT);
    require(cs_reader_left(&rd) == left);
}

/* Walk 1: value by value, typed.  A value that cannot be read is stepped
   over one byte at a time. */
static void
walk_typed(const uint8_t *data, size_t size)
{
    struct cs_reader rd;
    enum cs_mp_type t;
    uint8_t byte;

    cs_reader_init(&rd, data, size);
    while (cs_reader_left(&rd) > 0) {
        size_t left = cs_reader_left(&rd);
        int r = cs_reader_peek_type(&rd, &t);
        require(cs_reader_left(&rd) == left);
        if (r == 0) {
            struct cs_reader at = rd;
            check_wrong_types(&at, t);
            r = read_typed(&rd, t, data, size);
            if (r == 0 && t != CS_MP_ARRAY && t != CS_MP_MAP) {
                /* skip agrees with the typed read on a scalar's length */
                require(cs_reader_skip(&at, 0) == 0);
                require(cs_reader_left(&at) == cs_reader_left(&rd));
            }
        } else {
            require(t == CS_MP_INVALID);
            require(r == CS_ERR_TRUNCATED || r == CS_ERR_FORMAT);
        }
        if (r != 0) {
            require(r == CS_ERR_TRUNCATED || r == CS_ERR_TOO_BIG ||
                    r == CS_ERR_FORMAT);
            require(cs_reader_left(&rd) == left);
            require(cs_reader_u8(&rd, &byte) == 0);
        }
        require(cs_reader_left(&rd) < left);
    }
    require(cs_reader_end(&rd) == 0);
}

/* Walk 2: with cs_reader_skip at the depth limit named by the first byte;
   a shallower limit must never succeed where a deeper one fails. */
static void
walk_skip(const uint8_t *data, size_t size)
{
    struct cs_reader rd;
    uint8_t byte;
    size_t depth = size > 0 ? data[0] % (CS_READER_DEPTH_MAX + 1) : 0;

    cs_reader_init(&rd, data, size);
    while (cs_reader_left(&rd) > 0) {
        size_t left = cs_reader_left(&rd);
        struct cs_reader deep = rd;
        int r = cs_reader_skip(&rd, depth);
        int r_deep = cs_reader_skip(&deep, CS_READER_DEPTH_MAX);
        if (r == 0) {
            require(r_deep == 0);
            require(cs_reader_left(&deep) == cs_reader_left(&rd));
            require(cs_reader_left(&rd) < left);
            continue;
        }
        require(r == CS_ERR_TRUNCATED || r == CS_ERR_TOO_BIG ||
                r == CS_ERR_FORMAT);
        require(cs_reader_left(&rd) == left);
        require(cs_reader_u8(&rd, &byte) == 0);
    }
    require(cs_reader_skip(&rd, depth) == CS_ERR_TRUNCATED);
    require(cs_reader_skip(&rd, CS_READER_DEPTH_MAX + 1) == CS_ERR_INVALID);
}

/* Walk 3: raw fields; each byte picks the next field's width. */
static void
walk_raw(const uint8_t *data, size_t size)
{
    struct cs_reader rd;
    uint8_t op;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    struct cs_view v;

    cs_reader_init(&rd, data, size);
    while (cs_reader_u8(&rd, &op) == 0) {
        size_t left = cs_reader_left(&rd);
        int r;
        switch (op % 4) {
        case 0:
            r = cs_reader_u16be(&rd, &u16);
            require(r == 0 || u16 == 0);
            break;
        case 1:
            r = cs_reader_u32be(&rd, &u32);
            require(r == 0 || u32 == 0);
            break;
        case 2:
            r = cs_reader_u64be(&rd, &u64);
            require(r == 0 || u64 == 0);
            break;
        default:
            r = cs_reader_bytes(&rd, &v, op / 4);
            check_view(&v, data, size, r);
            break;
        }
        require(r == 0 ||
                (r == CS_ERR_TRUNCATED && cs_reader_left(&rd) == left));
        if (r != 0)
            break;
    }
    require((cs_reader_left(&rd) == 0) == (cs_reader_end(&rd) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk_typed(data, size);
    walk_skip(data, size);
    walk_raw(data, size);
    (void)cs_utf8_valid(data, size);
    return 0;
}
