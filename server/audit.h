/*  server/audit.h - the server's audit log (ARCHITECTURE.md "Audit log";
 *  leaves and heads: proto/auditlog.h), kept in the consolidated replica:
 *
 *    zz_srv_audit  one row per leaf, in order: kind, when, the batch it
 *                  names (origin, seq) and its bytes
 *    zz_srv_tree   the hash of every perfect subtree (level, index); level
 *                  0 holds the leaf hashes.  A proof or a root costs
 *                  O(log n) lookups (common/merkle.h, cs_merkle_nodes_*)
 *    zz_srv_head   every signed tree head, by size
 *
 *  All three are append-only (triggers refuse UPDATE and DELETE).  Leaves
 *  are appended inside the transaction that does what they record (a
 *  batch applied with its refusals and corrections; an enrolment), and
 *  the head is signed in that same transaction, so the log, the tree and
 *  the replica never disagree after a crash.
 */
#ifndef CS_AUDIT_H
#define CS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "auditlog.h"
#include "key.h"
#include "msg.h"
#include "store.h"
#include "writer.h"

/* Creates the tables if missing.  Returns 0 or CS_ERR_DB. */
CS_MUST_CHECK int cs_audit_install(struct cs_store *s) CS_NONNULL(1);

/* The number of leaves (one past the last leaf's number). */
CS_MUST_CHECK int cs_audit_size(struct cs_store *s, uint64_t *n)
    CS_NONNULL(1, 2);

/* Appends leaf l (at_ms set by the caller) and updates the tree.  *index
   (may be NULL) gets its number.  Call inside a transaction. */
CS_MUST_CHECK int cs_audit_append(struct cs_store *s, const struct cs_leaf *l,
                                  uint64_t *index) CS_NONNULL(1, 2);

/* Signs and stores the head of the tree as it is now, unless the last
   head has this size already; *out (may be NULL) gets the current head.
   Call inside the transaction that appended. */
CS_MUST_CHECK int cs_audit_sign(struct cs_store *s, const struct cs_key *k,
                                const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                                uint64_t now_ms, struct cs_sth *out)
    CS_NONNULL(1, 2, 3);

/* The last signed head (size 0 and zeros if none). */
CS_MUST_CHECK int cs_audit_head(struct cs_store *s, struct cs_sth *out)
    CS_NONNULL(1, 2);

/* The consistency proof from size from to size to (0 < from <= to). */
CS_MUST_CHECK int cs_audit_consistency(struct cs_store *s, uint64_t from,
                                       uint64_t to, struct cs_msg_proof *p)
    CS_NONNULL(1, 4);

/* The leaf of batch (origin, seq): its index and bytes (owned by the
   caller), for a receipt.  CS_ERR_NOT_FOUND if it has none. */
CS_MUST_CHECK int
cs_audit_batch_leaf(struct cs_store *s, const struct cs_node_id *origin,
                    uint64_t seq, uint64_t *index, uint8_t **leaf, size_t *len)
    CS_NONNULL(1, 2, 4, 5, 6);

/* The inclusion proof of leaf index in the tree of size size. */
CS_MUST_CHECK int cs_audit_inclusion(struct cs_store *s, uint64_t index,
                                     uint64_t size, struct cs_msg_proof *p)
    CS_NONNULL(1, 4);

/* Writes the whole log as an archive (auditlog.h) to out, from one read
   transaction: leaves with the batches they name, then every head. */
CS_MUST_CHECK int
cs_audit_archive(struct cs_store *s,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                 const struct cs_pubkey *server, struct cs_writer *out)
    CS_NONNULL(1, 2, 3, 4);

/* Called with one line per problem found. */
typedef void (*cs_audit_say_fn)(void *arg, const char *line);

/* The checks only the server's own store allows, beyond the archive's:
   leaves numbered without gaps, every stored subtree hash equal to the
   one recomputed from the leaves, and every received batch named by a
   leaf.  *problems gets how many were found (each said).  Returns 0 or a
   store error. */
CS_MUST_CHECK int cs_audit_check_store(struct cs_store *s, cs_audit_say_fn say,
                                       void *arg, uint64_t *problems)
    CS_NONNULL(1, 2, 4);

#endif
