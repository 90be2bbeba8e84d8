/*  proto/batch.h - signed, hash-chained, compressed batches of changes.
 *
 *  A batch is what a node seals from its pending local changes: the
 *  payload (the change list, opaque here; proto/changeset.h encodes it),
 *  compressed with zstd when that shrinks it, wrapped in a body that names
 *  the deployment, the origin node, the sequence number and the hash of the
 *  origin's previous batch, and signed by the origin's Ed25519 key.  The
 *  batches of one origin form a hash chain: seq 1, 2, 3, ... with no gaps,
 *  each naming the BLAKE2b-256 of the previous body, so that a missing,
 *  reordered or altered batch is detected (ARCHITECTURE.md "Change logs,
 *  batches, envelopes").  Byte-level spec and vectors: PROTOCOL.md
 *  (PROTOCOL.md "Batches"), tests/vectors/batch-*.vec.
 *
 *  Wire form, a msgpack array of 2: [body (bin), signature (bin 64)], where
 *  body is the msgpack array of 12 described in the spec and the signature
 *  is Ed25519 over CS_BATCH_SIG_DOMAIN (17 bytes, NUL included) || body.
 *
 *  Receiving is three steps, in this order, so that the caller can look up
 *  the origin's key and its chain head between them:
 *      cs_batch_parse()    bytes -> struct cs_batch (no crypto, no alloc)
 *      cs_batch_verify()   origin key, signature, deployment, seq, chain
 *      cs_batch_payload()  bounded decompression of the payload
 *  Not here: encryption for a recipient (envelope.h), splitting into chunks
 *  (chunk.h), the change list inside the payload (changeset.h), storing
 *  batches or advancing a feed head (common/store.h).
 */
#ifndef CS_BATCH_H
#define CS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "err.h"
#include "hlc.h"
#include "key.h"
#include "proto.h"
#include "reader.h"
#include "writer.h"

#define CS_BATCH_MAGIC "CSB"    /* first element of every body */
#define CS_BATCH_MAGIC_LEN 3    /* strlen(CS_BATCH_MAGIC) */
#define CS_BATCH_VERSION 1      /* body layout version, second element */
#define CS_BATCH_BODY_FIELDS 12 /* elements of the body array */
#define CS_BATCH_WIRE_FIELDS 2  /* elements of the wire array */
/* Signed-message prefix: the 16 ASCII bytes "cigsync batch v1" and one NUL
   byte, so no other signed cigsync object can be taken for a batch. */
#define CS_BATCH_SIG_DOMAIN "cigsync batch v1"
#define CS_BATCH_SIG_DOMAIN_BYTES 17 /* sizeof(CS_BATCH_SIG_DOMAIN), NUL in */
/* zstd levels of cs_batch_seal(): the strongest for the payloads of daily
   work, where bytes on a 64 kbit/s link cost far more than CPU (measured
   by bench/proto_bench with change lists of format 2: 14.6 bytes per
   change at 19, 17.0 at 12, 20.6 at 3, for 31k, 318k and 1.5M changes
   packed per second; level 22 or a larger window gain nothing, PROTOCOL.md
   "Why this layout"); a faster one above CS_BATCH_ZSTD_BIG bytes, so that
   a large payload seals in about a second. */
#define CS_BATCH_ZSTD_LEVEL 19
#define CS_BATCH_ZSTD_LEVEL_BIG 12
#define CS_BATCH_ZSTD_BIG (1024u * 1024) /* payload bytes */

/* Payload compression, the body's "compression" field. */
enum cs_batch_compression {
    CS_BATCH_COMPRESSION_NONE = 0, /* payload stored as it is */
    CS_BATCH_COMPRESSION_ZSTD = 1  /* payload is one zstd frame (RFC 8878) */
};

/* What the sealer says about a batch besides its payload; the origin comes
   from the signing key. */
struct cs_batch_head {
    uint8_t deployment[CS_DEPLOYMENT_BYTES]; /* deployment the batch is for */
    uint64_t seq;                            /* 1, 2, 3, ... per origin */
    uint8_t prev_hash[CS_HASH_BYTES];        /* hash of batch seq - 1; zeros
                                                for seq 1 */
    struct cs_hlc hlc_min; /* earliest HLC time of a change inside */
    struct cs_hlc hlc_max; /* latest HLC time of a change inside */
    uint64_t count;        /* changes in the payload, <=
                              CS_BATCH_CHANGES_MAX */
};

/* A parsed batch: plain fields and views into the bytes given to
   cs_batch_parse(), valid while those are. */
struct cs_batch {
    struct cs_view body;                     /* the signed body bytes */
    uint8_t signature[CS_SIG_BYTES];         /* Ed25519 over domain || body */
    uint8_t hash[CS_HASH_BYTES];             /* BLAKE2b-256 of body */
    uint64_t version;                        /* CS_BATCH_VERSION */
    uint8_t deployment[CS_DEPLOYMENT_BYTES]; /* deployment it claims */
    struct cs_node_id origin;                /* node it claims to be from */
    uint64_t seq;                            /* >= 1 */
    uint8_t prev_hash[CS_HASH_BYTES];        /* zeros when seq is 1 */
    struct cs_hlc hlc_min;                   /* <= hlc_max */
    struct cs_hlc hlc_max;                   /* latest change time */
    uint64_t count;                          /* changes in the payload */
    enum cs_batch_compression compression;   /* how payload is stored */
    uint64_t raw_len;                        /* payload bytes once
                                                decompressed */
    struct cs_view payload;                  /* stored payload bytes */
};

/* Seals one batch and appends its wire form to out.
     origin       the origin's key pair; its node id becomes the origin
     head         deployment, seq, prev_hash, HLC range and change count
     payload      the change list (may be NULL when len is 0)
     len          its length, at most CS_PAYLOAD_RAW_MAX
     compression  CS_BATCH_COMPRESSION_ZSTD to compress at level
                  CS_BATCH_ZSTD_LEVEL or, above CS_BATCH_ZSTD_BIG bytes,
                  CS_BATCH_ZSTD_LEVEL_BIG (the payload is then stored as it is
                  if zstd does not make it smaller), or
                  CS_BATCH_COMPRESSION_NONE
     out          receives the wire form, appended
     hash         receives the batch hash, the next batch's prev_hash
   Returns 0; CS_ERR_INVALID for a seq of 0, a seq of 1 with a non-zero
   prev_hash, hlc_min > hlc_max, a count above CS_BATCH_CHANGES_MAX or an
   unknown compression; CS_ERR_TOO_BIG when len exceeds CS_PAYLOAD_RAW_MAX
   or the wire form would exceed CS_BATCH_MAX, or out's own maximum (out is
   then in error, as cs_writer_put() leaves it); CS_ERR_NOMEM when zstd
   cannot get memory; CS_ERR_CRYPTO.  On failure out gets nothing and hash
   is zeroed. */
CS_MUST_CHECK int
cs_batch_seal(const struct cs_key *origin, const struct cs_batch_head *head,
              const uint8_t *payload, size_t len, int compression,
              struct cs_writer *out, uint8_t hash[CS_HASH_BYTES])
    CS_NONNULL(1, 2, 6, 7);

/* Decodes the wire form of a batch (untrusted bytes) into *b, checks the
   body's own consistency and computes b->hash.  Does no cryptography: the
   caller looks up the key of b->origin and calls cs_batch_verify().
     p    the bytes (NULL allowed when len is 0)
     len  their number
     b    receives the fields, with views into p
   Returns 0; CS_ERR_TOO_BIG when len exceeds CS_BATCH_MAX, or a length,
   count or value exceeds its limit (raw_len above CS_PAYLOAD_RAW_MAX,
   count above CS_BATCH_CHANGES_MAX); CS_ERR_TRUNCATED; CS_ERR_TRAILING for
   bytes after the wire array or the body array; CS_ERR_VERSION for a
   body version other than CS_BATCH_VERSION; CS_ERR_FORMAT for anything
   else the spec does not allow (wrong types or element counts, wrong magic,
   seq 0, non-zero prev_hash at seq 1, hlc_min > hlc_max, unknown
   compression, a stored payload whose length contradicts raw_len).  On
   failure *b is zeroed. */
CS_MUST_CHECK int cs_batch_parse(const uint8_t *p, size_t len,
                                 struct cs_batch *b) CS_NONNULL(3);

/* Checks a parsed batch against what the receiver expects, in the order
   below.  Allocates a copy of the body to hold the signed message.
     b            the batch from cs_batch_parse()
     origin_pk    the public key the receiver holds for b->origin
     deployment   the receiver's deployment id
     expect_seq   the next seq the receiver needs from this origin
     expect_prev  the hash of the receiver's batch expect_seq - 1 of this
                  origin (zeros when expect_seq is 1)
   Returns 0 when all hold; CS_ERR_KEY when origin_pk's node id
   is not b->origin; CS_ERR_SIGNATURE when the signature does not
   verify; CS_ERR_DEPLOYMENT when the batch is for another
   deployment; CS_ERR_SEQUENCE when b->seq != expect_seq (the caller
   compares b->seq itself to tell a replay, seq < expect_seq, from a gap);
   CS_ERR_CHAIN when b->prev_hash != expect_prev (a fork or a
   rewritten history). */
CS_MUST_CHECK int
cs_batch_verify(const struct cs_batch *b, const struct cs_pubkey *origin_pk,
                const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                uint64_t expect_seq, const uint8_t expect_prev[CS_HASH_BYTES])
    CS_NONNULL(1, 2, 3, 5);

/* Returns the payload of b decompressed, in exactly b->raw_len bytes.
   Call it after cs_batch_verify(): it allocates b->raw_len bytes (at most
   CS_PAYLOAD_RAW_MAX), which only the signer chose.  Safe on any parsed
   batch all the same: a zstd payload must be exactly one frame that
   declares its content size, equal to raw_len, and is decompressed into a
   buffer of that size, so a decompression bomb fails instead of growing.
     b        the parsed batch
     raw      receives a buffer the caller free()s (never NULL on success,
              even when raw_len is 0)
     raw_len  receives b->raw_len
   Returns 0; CS_ERR_FORMAT when the stored payload is not one well-formed
   zstd frame, does not declare its content size, or declares one other
   than raw_len, or its data does not decompress to exactly raw_len bytes;
   CS_ERR_TOO_BIG when raw_len exceeds CS_PAYLOAD_RAW_MAX; CS_ERR_NOMEM
   when zstd cannot get memory.  On failure *raw is NULL and *raw_len 0. */
CS_MUST_CHECK int cs_batch_payload(const struct cs_batch *b, uint8_t **raw,
                                   size_t *raw_len) CS_NONNULL(1, 2, 3);

#endif
