/*  proto/changeset.h - the compact encoding of a list of changes.
 *
 *  A changeset is the payload of a batch before compression: the changes a
 *  batch carries (common/change.h), as one msgpack value in which repeated
 *  table and column names, origin ids and row ids are not spelled out per
 *  change.  They are listed once, in four dictionaries ordered by first
 *  appearance, and each change names them by index; UUIDv7 row ids travel
 *  as their 16 bytes; HLC times and origin sequence numbers are written as
 *  differences from the previous change of the same origin, which are
 *  small.  The changes travel as columns, one array per field (format 2),
 *  so that the batch's zstd finds runs of alike bytes.  The byte-level
 *  format, its validation rules, the measurements behind it and the test
 *  vectors are in PROTOCOL.md "Change lists".
 *
 *  This module is not the batch: it knows nothing of signatures, hashes,
 *  compression or origins' feeds, and it does not check changes against a
 *  replica's schema (the store does).  It checks everything a change must
 *  satisfy on any replica: names, row ids, ops, value types and sizes,
 *  UTF-8, sequence numbers and clock ranges, so the encoder never produces
 *  what a decoder refuses and the decoder hands on only well-formed
 *  changes.
 */
#ifndef CS_CHANGESET_H
#define CS_CHANGESET_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "change.h"
#include "proto.h"
#include "writer.h"

/* The format written and the only one read: 2, parallel columns.  Format
   1 (one array per change) was never deployed and is refused. */
#define CS_CHANGESET_FORMAT 2

/* Entries accepted in any one dictionary of a changeset.  An encoder lists
   only names and ids its changes use, and a change names at most two
   origins, so no valid changeset needs more. */
#define CS_CHANGESET_DICT_MAX (2u * CS_BATCH_CHANGES_MAX)

/* A decoded changeset; opaque.  It owns its changes and every byte they
   point to. */
struct cs_changeset;

/* Appends the changeset encoding of ch[0..n) to w (PROTOCOL.md).
     ch  the changes, in the order they are to travel; NULL allowed when n
         is 0.  Only read.
     n   their number, at most CS_BATCH_CHANGES_MAX
     w   the writer appended to
   The output depends only on ch and n: the same changes always give the
   same bytes.  Returns 0; CS_ERR_INVALID when a change could not be
   decoded by a peer (a bad name, row id, op, value, sequence number or
   clock; the rules of cs_changeset_decode()), and then nothing has been
   appended; CS_ERR_TOO_BIG when n exceeds CS_BATCH_CHANGES_MAX (nothing
   appended) or the writer reaches its maximum (then w holds its sticky
   error, see writer.h); CS_ERR_CRYPTO if libsodium cannot start. */
CS_MUST_CHECK int cs_changeset_encode(const struct cs_change *ch, size_t n,
                                      struct cs_writer *w) CS_NONNULL(3);

/* Decodes a changeset from untrusted bytes.
     p    the encoding; NULL allowed when len is 0.  Only read, and not
          referenced afterwards: the result holds copies.
     len  its length, at most CS_PAYLOAD_RAW_MAX
     out  receives the changeset, owned by the caller
          (cs_changeset_destroy()); NULL on failure
   Memory used is bounded by a small multiple of len (about 18 bytes per
   byte, and by CS_BATCH_CHANGES_MAX changes), whatever the bytes claim.
   Returns 0; CS_ERR_TRUNCATED when the bytes end early; CS_ERR_TRAILING
   when bytes follow the changeset; CS_ERR_TOO_BIG when len, a count, a
   name, a row id or a value exceeds its limit; CS_ERR_FORMAT for any other
   violation of PROTOCOL.md, including an unknown format number, a column
   not as long as the changes, an index or row reference out of range and
   an invalid change; CS_ERR_INTERNAL only if this module's own arithmetic
   is wrong (never expected: the fuzz target treats it as a bug).  Decoded
   changes pass every check of cs_changeset_encode(). */
CS_MUST_CHECK int cs_changeset_decode(const uint8_t *p, size_t len,
                                      struct cs_changeset **out) CS_NONNULL(3);

/* Frees *cs and everything its changes point to, and sets *cs to NULL;
   does nothing if *cs is NULL. */
void cs_changeset_destroy(struct cs_changeset **cs) CS_NONNULL(1);

/* Returns the number of changes in cs. */
size_t cs_changeset_count(const struct cs_changeset *cs) CS_NONNULL(1);

/* Returns change i of cs (i < cs_changeset_count(cs), asserted), in
   encoding order.  Its table, row_id and col are NUL-terminated; a TEXT
   value is followed by a NUL byte not counted in its len (the value may
   itself contain U+0000).  Valid, like everything it points to, until cs
   is destroyed. */
const struct cs_change *cs_changeset_at(const struct cs_changeset *cs, size_t i)
    CS_NONNULL(1);

/* Returns the array of all cs_changeset_count(cs) changes, as
   cs_changeset_at(cs, 0) onwards, for cs_store_apply(); never NULL.  Valid
   until cs is destroyed. */
const struct cs_change *cs_changeset_changes(const struct cs_changeset *cs)
    CS_NONNULL(1);

#endif
