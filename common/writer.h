/*  common/writer.h - growable byte buffer with a hard maximum, and msgpack
 *  encoding into it.
 *
 *  A struct cs_writer collects the bytes of one outgoing frame, file
 *  header or record: raw big-endian fields and msgpack values, always in
 *  msgpack's smallest encoding.  It is curl's dynbuf (docs/internals/
 *  DYNBUF.md): the maximum is fixed at init, the buffer grows geometrically
 *  up to it, and the first append that would pass it frees the memory and
 *  makes the writer fail every later append with the same error (a sticky
 *  error, so an encoder may append a whole message and check once, with
 *  cs_writer_status() or the result of cs_writer_take()).
 *
 *  It is not a reader (see reader.h) and not for secrets: its memory is
 *  plain heap, released with free() without wiping (STYLE.md 29).  Like the
 *  reader, it is one of the two places allowed to do pointer arithmetic on
 *  wire bytes (STYLE.md 21).
 */
#ifndef CS_WRITER_H
#define CS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"

/* A growable buffer; a value type for stack use (STYLE.md 10).  Fields are
   touched only through the functions below. */
struct cs_writer {
    uint8_t *p; /* the bytes, NULL until the first append */
    size_t len; /* bytes written */
    size_t cap; /* bytes allocated at p */
    size_t max; /* hard limit on len, fixed at init */
    int err;    /* 0, or the sticky error of a failed append */
};

/* Starts an empty writer that will never hold more than max bytes.
   Allocates nothing; cannot fail. */
void cs_writer_init(struct cs_writer *w, size_t max) CS_NONNULL(1);

/* Frees the buffer and re-initialises w, empty and without error, with the
   same max.  Safe to call twice. */
void cs_writer_free(struct cs_writer *w) CS_NONNULL(1);

/* Overwrites n bytes at offset (already written) with p: for a count in
   a header that is known only at the end.  Returns 0, or CS_ERR_INVALID
   when the range is not written yet or w is in error. */
CS_MUST_CHECK int cs_writer_patch(struct cs_writer *w, size_t offset,
                                  const void *p, size_t n) CS_NONNULL(1, 3);

/* As cs_writer_free(), zeroing the buffer first (personal data). */
void cs_writer_wipe(struct cs_writer *w) CS_NONNULL(1);

/* Appends the n bytes at p (p may be NULL when n is 0).  Returns 0, or
   CS_ERR_TOO_BIG when the writer would pass its max: the buffer is then
   freed and this and every later append fail with CS_ERR_TOO_BIG until
   cs_writer_free().  A writer already in error returns its error. */
CS_MUST_CHECK int cs_writer_put(struct cs_writer *w, const void *p, size_t n)
    CS_NONNULL(1);

/* Append one byte, or a big-endian 16, 32 or 64-bit unsigned integer (raw
   fields of binary headers, not msgpack).  Return as cs_writer_put(). */
CS_MUST_CHECK int cs_writer_u8(struct cs_writer *w, uint8_t v) CS_NONNULL(1);
CS_MUST_CHECK int cs_writer_u16be(struct cs_writer *w, uint16_t v)
    CS_NONNULL(1);
CS_MUST_CHECK int cs_writer_u32be(struct cs_writer *w, uint32_t v)
    CS_NONNULL(1);
CS_MUST_CHECK int cs_writer_u64be(struct cs_writer *w, uint64_t v)
    CS_NONNULL(1);

/* msgpack encoders.  Each appends one value in its smallest encoding
   (integers: fixint, then 8, 16, 32, 64 bits, with non-negative values of
   cs_writer_mp_int() written as unsigned; doubles: float64 always) and
   returns as cs_writer_put(). */

/* Appends nil. */
CS_MUST_CHECK int cs_writer_mp_nil(struct cs_writer *w) CS_NONNULL(1);

/* Appends true or false. */
CS_MUST_CHECK int cs_writer_mp_bool(struct cs_writer *w, bool v) CS_NONNULL(1);

/* Appends an unsigned integer. */
CS_MUST_CHECK int cs_writer_mp_uint(struct cs_writer *w, uint64_t v)
    CS_NONNULL(1);

/* Appends a signed integer. */
CS_MUST_CHECK int cs_writer_mp_int(struct cs_writer *w, int64_t v)
    CS_NONNULL(1);

/* Appends a float64. */
CS_MUST_CHECK int cs_writer_mp_double(struct cs_writer *w, double v)
    CS_NONNULL(1);

/* Appends a string of n bytes at p (p may be NULL when n is 0); the bytes
   are copied as they are, the caller vouches for UTF-8.  n above
   UINT32_MAX fails with CS_ERR_TOO_BIG (sticky) as msgpack cannot say it. */
CS_MUST_CHECK int cs_writer_mp_str(struct cs_writer *w, const void *p, size_t n)
    CS_NONNULL(1);

/* Appends the NUL-terminated string s, without the NUL. */
CS_MUST_CHECK int cs_writer_mp_cstr(struct cs_writer *w, const char *s)
    CS_NONNULL(1, 2);

/* Appends n bytes of binary (p may be NULL when n is 0); n above
   UINT32_MAX fails with CS_ERR_TOO_BIG (sticky). */
CS_MUST_CHECK int cs_writer_mp_bin(struct cs_writer *w, const void *p, size_t n)
    CS_NONNULL(1);

/* Appends an array header; the caller then appends the n elements. */
CS_MUST_CHECK int cs_writer_mp_array(struct cs_writer *w, uint32_t n)
    CS_NONNULL(1);

/* Appends a map header; the caller then appends n keys and values,
   alternating. */
CS_MUST_CHECK int cs_writer_mp_map(struct cs_writer *w, uint32_t n)
    CS_NONNULL(1);

/* Returns 0, or the sticky error that made the writer fail. */
CS_MUST_CHECK int cs_writer_status(const struct cs_writer *w) CS_NONNULL(1);

/* Returns the bytes written so far (never NULL, even when empty); valid
   until the next append, reset, take or free.  The writer keeps them. */
const uint8_t *cs_writer_data(const struct cs_writer *w) CS_NONNULL(1);

/* Returns the number of bytes written so far (0 after an error). */
size_t cs_writer_len(const struct cs_writer *w) CS_NONNULL(1);

/* Empties the writer but keeps its memory for reuse.  A sticky error
   stays: only cs_writer_free() clears it. */
void cs_writer_reset(struct cs_writer *w) CS_NONNULL(1);

/* Hands the bytes to the caller and leaves w empty (same max).
   w:   the writer
   p:   receives the buffer, never NULL on success; the caller free()s it
   len: receives the number of bytes
   Returns 0, or the sticky error (then *p is NULL, *len 0, w unchanged). */
CS_MUST_CHECK int cs_writer_take(struct cs_writer *w, uint8_t **p, size_t *len)
    CS_NONNULL(1, 2, 3);

#endif
