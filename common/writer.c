/*  common/writer.c - growable byte buffer with a hard maximum, and msgpack
 *  encoding into it; see writer.h.
 *
 *  Design: cs_writer_put() is the only function that touches memory; the
 *  fixed-width and msgpack appenders build their bytes elsewhere and hand
 *  them to it.  msgpack encodings come from msgpack-c's msgpack_packer
 *  (STYLE.md 26), whose write callback is cs_writer_put(): the packer
 *  already chooses the smallest encoding, and it returns the callback's
 *  result, so our CS_ERR_TOO_BIG comes back unchanged.  The packer never
 *  sees input, only values we chose to write.  One gap in it is closed
 *  here: msgpack_pack_str()/_bin() silently truncate lengths above
 *  UINT32_MAX to 32 bits, so those are refused before the packer runs.
 *
 *  Growth doubles the capacity, clamped to max, so appending n bytes one by
 *  one costs O(n) copies and the buffer never exceeds max.  On failure the
 *  buffer is freed at once (curl lib/curlx/dynbuf.c "toobig"), so an
 *  attacker who makes us exceed a limit does not also keep the memory.
 */
#include "prelude.h"

#include "err.h"
#include "mem.h"
#include "writer.h"

#define CS_WRITER_FIRST_BYTES 64 /* first allocation; then it doubles */
#define S_BITS_PER_BYTE 8

/* Returned by cs_writer_data() for a writer that never allocated. */
static const uint8_t s_empty[1];

void
cs_writer_init(struct cs_writer *w, size_t max)
{
    w->p = NULL;
    w->len = 0;
    w->cap = 0;
    w->max = max;
    w->err = 0;
}

void
cs_writer_free(struct cs_writer *w)
{
    free(w->p);
    cs_writer_init(w, w->max);
}

int
cs_writer_patch(struct cs_writer *w, size_t offset, const void *p, size_t n)
{
    if (w->err != 0 || offset > w->len || n > w->len - offset)
        return CS_ERR_INVALID;
    memcpy(w->p + offset, p, n);
    return 0;
}

void
cs_writer_wipe(struct cs_writer *w)
{
    if (w->p != NULL)
        sodium_memzero(w->p, w->cap);
    cs_writer_free(w);
}

/* Records the sticky error r and releases the memory (dynbuf "toobig"). */
static int
s_fail(struct cs_writer *w, int r)
{
    free(w->p);
    w->p = NULL;
    w->len = 0;
    w->cap = 0;
    w->err = r;
    return r;
}

/* Makes room for n more bytes; the caller checked n <= max - len. */
static void
s_grow(struct cs_writer *w, size_t n)
{
    size_t cap = w->cap != 0 ? w->cap : CS_WRITER_FIRST_BYTES;

    while (n > cap - w->len)
        cap = cap > w->max / 2 ? w->max : cap * 2;
    if (cap > w->max)
        cap = w->max; /* a first allocation larger than max */
    w->p = cs_xrealloc(w->p, cap);
    w->cap = cap;
}

int
cs_writer_put(struct cs_writer *w, const void *p, size_t n)
{
    assert(p != NULL || n == 0);
    if (w->err != 0)
        return w->err;
    if (n > w->max - w->len)
        return s_fail(w, CS_ERR_TOO_BIG);
    if (n == 0)
        return 0;
    if (n > w->cap - w->len)
        s_grow(w, n);
    memcpy(w->p + w->len, p, n);
    w->len += n;
    return 0;
}

/* Appends v as a width-byte big-endian number. */
static int
s_put_be(struct cs_writer *w, uint64_t v, size_t width)
{
    uint8_t buf[sizeof(uint64_t)];

    for (size_t i = 0; i < width; i++)
        buf[i] = (uint8_t)(v >> (S_BITS_PER_BYTE * (width - 1 - i)));
    return cs_writer_put(w, buf, width);
}

int
cs_writer_u8(struct cs_writer *w, uint8_t v)
{
    return s_put_be(w, v, sizeof v);
}

int
cs_writer_u16be(struct cs_writer *w, uint16_t v)
{
    return s_put_be(w, v, sizeof v);
}

int
cs_writer_u32be(struct cs_writer *w, uint32_t v)
{
    return s_put_be(w, v, sizeof v);
}

int
cs_writer_u64be(struct cs_writer *w, uint64_t v)
{
    return s_put_be(w, v, sizeof v);
}

/* The msgpack_packer write callback: appends to the cs_writer in data. */
static int
s_pack_write(void *data, const char *buf, size_t len)
{
    return cs_writer_put(data, buf, len);
}

/* Points a packer at w; packers hold no state besides these two fields. */
static void
s_packer(struct cs_writer *w, msgpack_packer *pk)
{
    msgpack_packer_init(pk, w, s_pack_write);
}

/* Maps a packer result to ours: the packer's only failures are those of
   s_pack_write(), which the writer has recorded. */
static int
s_packed(const struct cs_writer *w, int r)
{
    if (r == 0)
        return 0;
    return w->err != 0 ? w->err : CS_ERR_INTERNAL;
}

int
cs_writer_mp_nil(struct cs_writer *w)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_nil(&pk));
}

int
cs_writer_mp_bool(struct cs_writer *w, bool v)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, v ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk));
}

int
cs_writer_mp_uint(struct cs_writer *w, uint64_t v)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_uint64(&pk, v));
}

int
cs_writer_mp_int(struct cs_writer *w, int64_t v)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_int64(&pk, v));
}

int
cs_writer_mp_double(struct cs_writer *w, double v)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_double(&pk, v));
}

int
cs_writer_mp_str(struct cs_writer *w, const void *p, size_t n)
{
    msgpack_packer pk;

    if (w->err != 0)
        return w->err;
    if (n > UINT32_MAX)
        return s_fail(w, CS_ERR_TOO_BIG);
    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_str_with_body(&pk, p, n));
}

int
cs_writer_mp_cstr(struct cs_writer *w, const char *s)
{
    return cs_writer_mp_str(w, s, strlen(s));
}

int
cs_writer_mp_bin(struct cs_writer *w, const void *p, size_t n)
{
    msgpack_packer pk;

    if (w->err != 0)
        return w->err;
    if (n > UINT32_MAX)
        return s_fail(w, CS_ERR_TOO_BIG);
    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_bin_with_body(&pk, p, n));
}

int
cs_writer_mp_array(struct cs_writer *w, uint32_t n)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_array(&pk, n));
}

int
cs_writer_mp_map(struct cs_writer *w, uint32_t n)
{
    msgpack_packer pk;

    s_packer(w, &pk);
    return s_packed(w, msgpack_pack_map(&pk, n));
}

int
cs_writer_status(const struct cs_writer *w)
{
    return w->err;
}

const uint8_t *
cs_writer_data(const struct cs_writer *w)
{
    return w->p != NULL ? w->p : s_empty;
}

size_t
cs_writer_len(const struct cs_writer *w)
{
    return w->len;
}

void
cs_writer_reset(struct cs_writer *w)
{
    w->len = 0;
}

int
cs_writer_take(struct cs_writer *w, uint8_t **p, size_t *len)
{
    *p = NULL;
    *len = 0;
    if (w->err != 0)
        return w->err;
    if (w->p == NULL)
        w->p = cs_xmalloc(1); /* so that *p is never NULL */
    *p = w->p;
    *len = w->len;
    cs_writer_init(w, w->max);
    return 0;
}
