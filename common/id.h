/*  common/id.h - row ids.
 *
 *  Every synced row has a TEXT primary key that is unique without any
 *  coordination between offices (ARCHITECTURE.md "Data").  New rows get a
 *  UUIDv7 (RFC 9562 section 5.7) in its canonical lowercase text form:
 *
 *      tttttttt-tttt-7rrr-Vrrr-rrrrrrrrrrrr
 *
 *  t: the 48-bit creation time in ms since the Unix epoch, big-endian hex,
 *  so ids sort by creation time as plain strings (good for SQLite's b-tree
 *  and for people); 7: the version; V: 8, 9, a or b (the RFC 9562 variant
 *  bits 10); r: 74 random bits from libsodium.  SQL elsewhere (ids made by
 *  triggers or other SQLite clients) generates the same format.
 *
 *  Rows made by other tools may carry other ids; those are accepted if they
 *  pass cs_id_valid(), a conservative alphabet that is safe in file names,
 *  URLs, CSV and log lines.  This module does not look ids up anywhere.
 */
#ifndef CS_ID_H
#define CS_ID_H

#include <stdbool.h>
#include <stdint.h>

#define CS_ID_TEXT_LEN 36     /* characters of a UUIDv7 in text form */
#define CS_ID_MAX 64          /* longest row id accepted, in bytes */
#define CS_ID_RANDOM_BYTES 10 /* cs_id_new_at() input; 74 bits used */

/* Writes a fresh UUIDv7 for the current wall clock into out (36 characters
   and a NUL).  Aborts, as cs_xmalloc() does on exhaustion, if libsodium
   cannot be initialised (no source of randomness). */
void cs_id_new(char out[CS_ID_TEXT_LEN + 1]);

/* Writes the UUIDv7 for time ms and random bytes rnd into out (36
   characters and a NUL); deterministic, for tests and vectors.
     out  receives the id
     ms   ms since the Unix epoch, at most 2^48 - 1 (asserted)
     rnd  random input: the low 4 bits of rnd[0] and all of rnd[1] fill
          rand_a, the low 6 bits of rnd[2] and rnd[3..9] fill rand_b */
void cs_id_new_at(char out[CS_ID_TEXT_LEN + 1], uint64_t ms,
                  const uint8_t rnd[CS_ID_RANDOM_BYTES]);

/* Returns true when s is a UUIDv7 in the canonical form above: 36
   characters, dashes at 8, 13, 18, 23, lowercase hex elsewhere, version 7,
   variant 8/9/a/b.  Uppercase forms are refused so that one id has one
   spelling. */
bool cs_id_is_uuid7(const char *s);

/* Returns true when s is an acceptable row id: 1 to CS_ID_MAX bytes, each
   one of [0-9A-Za-z_.:-].  Every UUIDv7 is one. */
bool cs_id_valid(const char *s);

/* Returns the creation time in ms encoded in a UUIDv7, or 0 if uuid7 is not
   one (cs_id_is_uuid7() false). */
uint64_t cs_id_ms(const char *uuid7);

#endif
