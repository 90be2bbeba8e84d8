/*  client/feed.h - sealing this node's pending changes into batches.
 *
 *  Takes the changes the triggers captured and no batch carries yet,
 *  encodes them compactly (proto/changeset.h), seals them into the next
 *  signed, hash-chained, compressed batch of this node (proto/batch.h) and
 *  records the batch and its changes in the store in one transaction
 *  (cs_store_feed_append), so a crash never leaves two batches with one
 *  number.  Sending them is the session's job (issue 4) or a bundle's.
 */
#ifndef CS_FEED_H
#define CS_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "feedio.h"
#include "key.h"
#include "proto.h"
#include "store.h"

/* Changes per batch by default.  zstd compresses what it sees at once:
   bench/bench.sh's first sync took 0.69x the gzip JSON baseline in
   batches of 5,000 changes and 0.63x in batches of 20,000.  A batch is
   applied in one transaction and decoded in memory (a daemon taking in
   100,000 changes stays near 26 MiB), and its envelope travels in 16 KiB
   chunks that resume after a drop, so a bigger one costs no resending. */
#define CS_FEED_BATCH_CHANGES 20000
#define CS_FEED_RETRIES 3 /* when another program sealed first */

/* What cs_feed_seal did. */
struct cs_feed_stats {
    uint64_t batches;   /* batches sealed */
    uint64_t changes;   /* changes they carry */
    uint64_t raw_bytes; /* encoded change lists, before compression */
    uint64_t bytes;     /* signed batches, as stored */
};

/* Seals every pending change of s into batches of at most max_changes,
   signed with k for deployment.  Returns 0 (also when nothing was
   pending), CS_ERR_INVALID for a change the protocol cannot carry (the
   store's message names it), CS_ERR_EXISTS if another program kept
   sealing at the same time, or a store error.  st may be NULL. */
int cs_feed_seal(struct cs_store *s, const struct cs_key *k,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                 size_t max_changes, struct cs_feed_stats *st) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3);

/* Finds the public key of a node id; returns 0, or CS_ERR_NOT_FOUND for
   a node this side does not know. */
typedef cs_feedio_lookup_fn cs_feed_lookup_fn;

/* Takes in one envelope holding a batch: opens it with me (it must be for
   me and for deployment), checks that its sender is the batch's origin and
   a node lookup knows, that every change is the origin's own unless the
   origin is relay (the server, which passes on other nodes' changes; NULL
   when there is none), verifies the batch (signature, deployment, and that
   it follows the last batch applied from that origin), decompresses and
   decodes its changes, checks them against the batch's count and HLC
   range, and applies them with cs_store_apply_batch.  All or nothing: on
   any error nothing is applied.  A batch applied before is counted as
   duplicates and applies nothing.
   Returns 0 or the first refusal: CS_ERR_FORMAT / TRUNCATED / TOO_BIG
   (malformed), CS_ERR_NOT_FOR_US, CS_ERR_DEPLOYMENT, CS_ERR_CRYPTO (does
   not decrypt), CS_ERR_NOT_FOUND (unknown sender), CS_ERR_KEY (sender is
   not the origin), CS_ERR_SIGNATURE, CS_ERR_SEQUENCE, CS_ERR_CHAIN, or a
   store error.  st may be NULL. */
int cs_feed_accept(struct cs_store *s, const struct cs_key *me,
                   const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                   const uint8_t *envelope, size_t len,
                   const struct cs_node_id *relay, cs_feed_lookup_fn lookup,
                   void *arg, struct cs_apply_stats *st) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 7);

#endif
