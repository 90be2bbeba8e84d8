/*  proto/feedio.h - from changes to a sealed batch, and from a received
 *  envelope back to verified changes.
 *
 *  The two ends of every feed, shared by the office (its own feed, and
 *  the server's batches it receives), the server (offices' batches it
 *  receives, and the batches it signs for each node) and bundles:
 *
 *    cs_feedio_seal()   encodes changes (changeset.h), fills the batch
 *                       header (seq, prev, HLC range, count) and signs
 *                       and compresses it (batch.h);
 *    cs_feedio_open()   parses an envelope, looks its sender up, opens it
 *                       (envelope.h) and parses the batch inside;
 *    cs_feedio_verify() checks the batch against the receiver's head of
 *                       that origin (signature, deployment, chain),
 *                       decompresses and decodes it, and checks the
 *                       changes against the signed header.
 *
 *  Between open and verify the caller reads its head of the batch's
 *  origin from its store; after verify it applies (or refuses) the
 *  changes.  Nothing here touches SQLite.
 */
#ifndef CS_FEEDIO_H
#define CS_FEEDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "batch.h"
#include "change.h"
#include "changeset.h"
#include "envelope.h"
#include "key.h"
#include "proto.h"
#include "writer.h"

/* Finds the public key of a node id; returns 0, or CS_ERR_NOT_FOUND for a
   node this side does not know. */
typedef int (*cs_feedio_lookup_fn)(void *arg, const struct cs_node_id *node,
                                   struct cs_pubkey *pk);

/* Seals n changes as batch seq of k's feed and appends its wire form to
   out.
     k           the origin's key pair
     deployment  the deployment id
     seq         the batch's number, >= 1
     prev        hash of batch seq - 1 (zeros for seq 1)
     ch, n       the changes, 1..CS_BATCH_CHANGES_MAX
     out         receives the signed batch
     hash        receives its hash
     raw_len     receives the encoded change list's length; may be NULL
   Returns 0, or an error of cs_changeset_encode() or cs_batch_seal()
   (CS_ERR_TOO_BIG when the batch would not fit: seal fewer changes). */
CS_MUST_CHECK int
cs_feedio_seal(const struct cs_key *k,
               const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint64_t seq,
               const uint8_t prev[CS_HASH_BYTES], const struct cs_change *ch,
               size_t n, struct cs_writer *out, uint8_t hash[CS_HASH_BYTES],
               size_t *raw_len) CS_NONNULL(1, 2, 4, 5, 7, 8);

/* A received batch on its way in; a value type for stack use.  Zero it
   (or let cs_feedio_open() do it), read its fields, and always
   cs_feedio_done() it. */
struct cs_feedio_in {
    struct cs_batch batch;      /* the parsed batch: origin, seq, hash ... */
    struct cs_pubkey origin_pk; /* the origin's key, from lookup */
    bool duplicate;             /* verify: applied before (seq <= head) */
    uint8_t *plain;             /* the opened envelope, owned */
    size_t plain_len;           /* its length */
    uint8_t *raw;               /* the decompressed change list, owned */
    size_t raw_len;             /* its length */
    struct cs_changeset *cs;    /* the decoded changes, owned */
};

/* Opens one envelope holding a batch: parses the header, checks that the
   sender is known (lookup) and is the batch's origin, opens it for me and
   deployment, parses the batch.
   Returns 0, or CS_ERR_FORMAT / TRUNCATED / TOO_BIG (malformed, or not a
   batch envelope), CS_ERR_NOT_FOR_US, CS_ERR_DEPLOYMENT, CS_ERR_CRYPTO,
   lookup's CS_ERR_NOT_FOUND, CS_ERR_KEY (sender is not the origin, or
   its key is not the one lookup knows).  On failure in is cleaned up. */
CS_MUST_CHECK int cs_feedio_open(struct cs_feedio_in *in,
                                 const struct cs_key *me,
                                 const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                                 const uint8_t *envelope, size_t len,
                                 cs_feedio_lookup_fn lookup, void *arg)
    CS_NONNULL(1, 2, 3, 6);

/* Verifies an opened batch against the receiver's head of its origin:
   head_seq (0 if none) and head_hash.  A batch at or before the head is a
   duplicate: its signature is checked and in->duplicate set, and nothing
   is decoded (the caller still lets its store recognise a fork).  A batch
   right after the head is checked (signature, deployment, chain),
   decompressed and decoded, and its changes are checked against the
   header's count and HLC range, and to be the origin's own unless the
   origin is relay (the server; NULL when none).
   Returns 0, or CS_ERR_SIGNATURE, CS_ERR_DEPLOYMENT, CS_ERR_SEQUENCE (a
   gap), CS_ERR_CHAIN, CS_ERR_KEY (changes in another node's name), or a
   decoding error. */
CS_MUST_CHECK int
cs_feedio_verify(struct cs_feedio_in *in,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                 uint64_t head_seq, const uint8_t head_hash[CS_HASH_BYTES],
                 const struct cs_node_id *relay) CS_NONNULL(1, 2, 4);

/* Returns the decoded changes and their number (NULL and 0 before a
   successful verify of a new batch). */
const struct cs_change *cs_feedio_changes(const struct cs_feedio_in *in,
                                          size_t *n) CS_NONNULL(1, 2);

/* Frees and wipes what in holds; in may be used again. */
void cs_feedio_done(struct cs_feedio_in *in) CS_NONNULL(1);

#endif
