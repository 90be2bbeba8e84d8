/*  server/down.h - what the server keeps per node: the batches it signs
 *  for the node (its downstream feed), the batches it received, refused
 *  changes, and corrections meant for one node only.
 *
 *  Downstream (ARCHITECTURE.md "Sync"): the server sends each node the
 *  changes in its read scope, in batches the server signs, each change
 *  still naming its origin and HLC.  Each node has its own chain of such
 *  batches (seq 1, 2, 3 ... of origin "server", as that node sees it), kept
 *  in the consolidated replica:
 *
 *    zz_srv_downpos  per node: the last log position (zz_log.lid) looked
 *                    at for it, and the seq and hash of the last batch
 *                    signed for it
 *    zz_srv_down     per node the signed batches not yet acknowledged, so
 *                    that a batch is resent byte for byte (a node that
 *                    applied it and lost the ACK must see the same hash);
 *                    deleted once the node acknowledges them
 *    zz_srv_batch    every batch received from a node, as signed by it,
 *                    stored in the transaction that applies it (the audit
 *                    log builds on it)
 *    zz_srv_refused  every change refused from a node, and why
 *    zz_srv_outbox   corrections for one node only: a row the node wrote
 *                    but may not read (another office's, or one the server
 *                    does not have) is deleted at that node by a change of
 *                    the node's correction origin (cs_down_fix_origin())
 *
 *  Packing reads zz_log after the node's position, keeps the changes the
 *  node may read (scope.h) and did not make itself, and signs them into
 *  the node's next batch; the position, the batch and the chain head are
 *  written in one transaction.
 */
#ifndef CS_DOWN_H
#define CS_DOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "change.h"
#include "key.h"
#include "proto.h"
#include "scope.h"
#include "store.h"

/* Changes per downstream batch: as many as a node's own batches
   (client/feed.h CS_FEED_BATCH_CHANGES, which says why); at 2,000 the same
   changes took about 10% more bytes than at 5,000, and 5,000 about 8% more
   than 20,000. */
#define CS_DOWN_BATCH_CHANGES 20000
#define CS_DOWN_BATCH_BYTES (512u << 10) /* ... or about this many bytes */
#define CS_DOWN_SCAN_MAX 20000           /* log entries looked at per pack */

/* Creates the tables above if missing.  Returns 0 or a store error. */
int cs_down_install(struct cs_store *s) CS_MUST_CHECK CS_NONNULL(1);

/* The id of the origin that signs nothing and names node's corrections:
   BLAKE2b-128 of "cigsync correction" and the node id. */
void cs_down_fix_origin(const struct cs_node_id *node, struct cs_node_id *out)
    CS_NONNULL(1, 2);

/* Reads the last batch signed for node: *seq (0 if none) and its hash. */
int cs_down_head(struct cs_store *s, const struct cs_node_id *node,
                 uint64_t *seq, uint8_t hash[CS_HASH_BYTES]) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* Gets batch seq of node's downstream feed: a stored one, or, when seq is
   the next to sign, a new one packed from the log (and, first, the node's
   corrections).  Writes nothing when there is nothing new for the node.
     s, k, deployment  the consolidated replica, the server's key
     node, sc          the node and its scope
     seq               the batch wanted
     bytes, len        receive the signed batch (malloc'd), or NULL/0 when
                       there is nothing to send
   Returns 0; CS_ERR_NOT_FOUND when seq is neither stored nor next (the
   node is ahead of the server, or asks for one already dropped); a store
   or sealing error. */
int cs_down_get(struct cs_store *s, const struct cs_key *k,
                const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                const struct cs_node_id *node, const struct cs_scope *sc,
                uint64_t seq, uint8_t **bytes, size_t *len) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4, 5, 7, 8);

/* The node acknowledged its downstream batches up to seq: forget them. */
int cs_down_acked(struct cs_store *s, const struct cs_node_id *node,
                  uint64_t seq) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Makes the next packing for node start again from the beginning of the
   log (repair after a digest mismatch): changes the node has are
   duplicates there, the ones it lacks fill the gap. */
int cs_down_rescan(struct cs_store *s,
                   const struct cs_node_id *node) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Records a received batch (its signed bytes), inside the caller's
   transaction. */
int cs_down_keep_batch(struct cs_store *s, const struct cs_node_id *origin,
                       uint64_t seq, const uint8_t hash[CS_HASH_BYTES],
                       const uint8_t *bytes, size_t len,
                       uint64_t now_ms) CS_MUST_CHECK CS_NONNULL(1, 2, 4, 5);

/* Records a refused change of node's batch seq and queues its correction:
   re-asserting the authoritative version when the node may read the row
   (a change of the server that all nodes get), else deleting the row at
   that node only.  Inside the caller's transaction.
     s      the consolidated replica
     node   the node, sc its scope
     seq    the batch
     ch     the refused change
     code   why (CS_ERR_PERM, CS_ERR_NO_TABLE ...), reason for people
     now_ms time */
int cs_down_refuse(struct cs_store *s, const struct cs_node_id *node,
                   const struct cs_scope *sc, uint64_t seq,
                   const struct cs_change *ch, int code, const char *reason,
                   uint64_t now_ms) CS_MUST_CHECK CS_NONNULL(1, 2, 3, 5, 7);

#endif
