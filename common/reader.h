/*  common/reader.h - bounded reader of msgpack and big-endian fields.
 *
 *  A struct cs_reader is a read-only view of one frame that arrived from
 *  outside: the network, a bundle file, a replica column.  It is the only
 *  code allowed to do pointer arithmetic on such bytes (STYLE.md 21); every
 *  decoder in proto/ reads through it, top to bottom like its PROTOCOL.md
 *  table.  It never allocates, never recurses on input, and checks every
 *  length and count against both the caller's maximum and the bytes that are
 *  actually left, before anything is trusted.  That is why it exists instead
 *  of msgpack_unpack(), which a 5-byte array32 header makes allocate ~96 GB
 *  (msgpack/msgpack-c#1013, STYLE.md 26).
 *
 *  It is not a generic msgpack decoder: there is no object tree and no
 *  "read anything" call.  The caller knows the schema and asks for each
 *  field by type; cs_reader_skip() exists only to step over fields a newer
 *  peer added.  Strings come back as views into the frame and are not
 *  checked for UTF-8: call cs_utf8_valid() where text matters.
 *
 *  Contract of every fallible read: it first zeroes its outputs, then
 *  returns 0 and advances past the value, or returns a negative CS_ERR_* and
 *  leaves the reader's offset where it was:
 *      CS_ERR_TRUNCATED  the value (or its header) runs past the end;
 *      CS_ERR_FORMAT     the next value is not of the asked type, or the
 *                        byte 0xc1 (never used by msgpack);
 *      CS_ERR_TOO_BIG    a length, count or value exceeds a limit.
 *  Views returned point into the frame and are valid while it is.
 */
#ifndef CS_READER_H
#define CS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"

/* Deepest container nesting cs_reader_skip() can step over. */
#define CS_READER_DEPTH_MAX 16

/* A read position in one frame; a value type for stack use (STYLE.md 10).
   Fields are touched only through the functions below. */
struct cs_reader {
    const uint8_t *p; /* first byte of the frame; NULL only if len is 0 */
    size_t len;       /* bytes in the frame */
    size_t off;       /* bytes already consumed, always <= len */
};

/* A run of bytes inside a frame; never owns them. */
struct cs_view {
    const uint8_t *p; /* first byte, NULL when a read failed */
    size_t len;       /* number of bytes */
};

/* Kind of the next msgpack value, as cs_reader_peek_type() reports it. */
enum cs_mp_type {
    CS_MP_NIL,    /* nil */
    CS_MP_BOOL,   /* true or false */
    CS_MP_UINT,   /* any integer encoding holding a value >= 0 */
    CS_MP_INT,    /* any integer encoding holding a value < 0 */
    CS_MP_FLOAT,  /* float32 or float64 */
    CS_MP_STR,    /* fixstr, str8, str16, str32 */
    CS_MP_BIN,    /* bin8, bin16, bin32 */
    CS_MP_ARRAY,  /* fixarray, array16, array32 */
    CS_MP_MAP,    /* fixmap, map16, map32 */
    CS_MP_EXT,    /* fixext1..16, ext8, ext16, ext32 */
    CS_MP_INVALID /* output of a failed peek */
};

/* Starts reading the len bytes at p (p may be NULL when len is 0).  The
   reader borrows p: the caller keeps it alive and unchanged while reading.
   Cannot fail. */
void cs_reader_init(struct cs_reader *rd, const void *p, size_t len)
    CS_NONNULL(1);

/* Returns the number of bytes not yet consumed. */
size_t cs_reader_left(const struct cs_reader *rd) CS_NONNULL(1);

/* Reports in *t the kind of the next value without consuming it.  Returns
   0; CS_ERR_TRUNCATED at the end or when the value's header is incomplete
   (telling a non-negative int8..int64 from a negative one needs its bytes);
   CS_ERR_FORMAT for 0xc1.  On failure *t is CS_MP_INVALID. */
CS_MUST_CHECK int cs_reader_peek_type(const struct cs_reader *rd,
                                      enum cs_mp_type *t) CS_NONNULL(1, 2);

/* Reads an unsigned integer into *v: positive fixint, uint8..uint64, or an
   int8..int64 holding a value >= 0.  Returns 0; CS_ERR_FORMAT for a
   negative integer or another type; CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_uint(struct cs_reader *rd, uint64_t *v)
    CS_NONNULL(1, 2);

/* Reads any msgpack integer into *v.  Returns 0; CS_ERR_TOO_BIG for a
   uint64 above INT64_MAX; CS_ERR_FORMAT for another type;
   CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_int(struct cs_reader *rd, int64_t *v)
    CS_NONNULL(1, 2);

/* Reads true or false into *v.  Returns 0, CS_ERR_FORMAT or
   CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_bool(struct cs_reader *rd, bool *v)
    CS_NONNULL(1, 2);

/* Consumes a nil.  Returns 0, CS_ERR_FORMAT or CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_nil(struct cs_reader *rd) CS_NONNULL(1);

/* Returns true when the next value is nil (false at the end); for optional
   fields.  Consumes nothing. */
bool cs_reader_peek_nil(const struct cs_reader *rd) CS_NONNULL(1);

/* Reads a float32 (widened) or float64 into *v.  Integers are not
   accepted.  Returns 0, CS_ERR_FORMAT or CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_double(struct cs_reader *rd, double *v)
    CS_NONNULL(1, 2);

/* Reads a string (fixstr, str8, str16, str32) as a view into the frame.
   rd:  the reader
   v:   receives the bytes, not NUL-terminated, not checked for UTF-8
   max: most bytes accepted
   Returns 0; CS_ERR_TOO_BIG when the length exceeds max; CS_ERR_TRUNCATED
   when it exceeds the bytes left; CS_ERR_FORMAT for another type. */
CS_MUST_CHECK int cs_reader_str(struct cs_reader *rd, struct cs_view *v,
                                size_t max) CS_NONNULL(1, 2);

/* Reads a bin8, bin16 or bin32 as a view into the frame; arguments and
   returns as for cs_reader_str(). */
CS_MUST_CHECK int cs_reader_bin(struct cs_reader *rd, struct cs_view *v,
                                size_t max) CS_NONNULL(1, 2);

/* Reads a bin of exactly len bytes and copies it to out (a key, a hash, an
   id).  Returns 0; CS_ERR_TOO_BIG when longer; CS_ERR_FORMAT when
   shorter; or cs_reader_bin()'s error. */
CS_MUST_CHECK int cs_reader_bin_exact(struct cs_reader *rd, uint8_t *out,
                                      size_t len) CS_NONNULL(1, 2);

/* Reads an array header; the n elements follow and are read by the caller.
   rd:  the reader
   n:   receives the element count
   max: most elements accepted
   Returns 0; CS_ERR_TOO_BIG when the count exceeds max; CS_ERR_TRUNCATED
   when it exceeds the bytes left (each element takes at least one byte), so
   a huge count fails before the caller can size anything by it;
   CS_ERR_FORMAT for another type. */
CS_MUST_CHECK int cs_reader_array(struct cs_reader *rd, size_t *n, size_t max)
    CS_NONNULL(1, 2);

/* Reads a map header; n key/value pairs follow (2 * n values).  As
   cs_reader_array(), with CS_ERR_TRUNCATED when 2 * n exceeds the bytes
   left. */
CS_MUST_CHECK int cs_reader_map(struct cs_reader *rd, size_t *n, size_t max)
    CS_NONNULL(1, 2);

/* Reads an extension value (fixext1..16, ext8, ext16, ext32).
   rd:   the reader
   type: receives the application type byte
   v:    receives the payload as a view into the frame
   max:  most payload bytes accepted
   Returns 0, CS_ERR_TOO_BIG, CS_ERR_TRUNCATED or CS_ERR_FORMAT as for
   cs_reader_str(). */
CS_MUST_CHECK int cs_reader_ext(struct cs_reader *rd, int8_t *type,
                                struct cs_view *v, size_t max)
    CS_NONNULL(1, 2, 3);

/* Raw fixed-width fields of binary headers (not msgpack): one byte, or a
   big-endian 16, 32 or 64-bit unsigned integer.  Return 0 or
   CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_u8(struct cs_reader *rd, uint8_t *v)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_reader_u16be(struct cs_reader *rd, uint16_t *v)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_reader_u32be(struct cs_reader *rd, uint32_t *v)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_reader_u64be(struct cs_reader *rd, uint64_t *v)
    CS_NONNULL(1, 2);

/* Reads exactly n raw bytes as a view into the frame.  Returns 0 or
   CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_reader_bytes(struct cs_reader *rd, struct cs_view *v,
                                  size_t n) CS_NONNULL(1, 2);

/* Steps over one msgpack value of any type, containers included, without
   recursion: an explicit stack holds the count still pending at each open
   container.  A scalar needs depth 0, an array or map (even empty) one more
   than its deepest element.
   rd:        the reader
   max_depth: deepest nesting accepted, at most CS_READER_DEPTH_MAX
   Returns 0; CS_ERR_TOO_BIG when nesting exceeds max_depth;
   CS_ERR_TRUNCATED; CS_ERR_FORMAT for 0xc1 anywhere inside;
   CS_ERR_INVALID when max_depth exceeds CS_READER_DEPTH_MAX. */
CS_MUST_CHECK int cs_reader_skip(struct cs_reader *rd, size_t max_depth)
    CS_NONNULL(1);

/* Returns 0 when every byte has been consumed, CS_ERR_TRAILING otherwise.
   Decoders call it last so that a frame with extra bytes is refused. */
CS_MUST_CHECK int cs_reader_end(const struct cs_reader *rd) CS_NONNULL(1);

/* Returns true when the n bytes at p are well-formed UTF-8 (RFC 3629):
   no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
   U+10FFFF, no truncated sequence.  p may be NULL when n is 0. */
bool cs_utf8_valid(const uint8_t *p, size_t n);

#endif
