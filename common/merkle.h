/*  common/merkle.h - an append-only Merkle tree hashed as in RFC 6962.
 *
 *  The audit log (ARCHITECTURE.md "Audit log") is a list of leaves: every
 *  accepted batch, refused change, enrolment, revocation and key change.
 *  The tree over them is RFC 6962's (section 2.1), with SHA-256:
 *
 *      leaf hash   SHA-256(0x00 || leaf bytes)
 *      node hash   SHA-256(0x01 || left || right)
 *      MTH(D[n])   for n > 1, k the largest power of two below n:
 *                  node(MTH(D[0:k]), MTH(D[k:n])); MTH of one leaf is its
 *                  leaf hash; MTH of no leaves is SHA-256("")
 *
 *  so its roots are the RFC's (tests/unit/merkle_test.c checks the
 *  published ones).  Proofs are RFC 6962's audit paths (2.1.1) and
 *  consistency proofs (2.1.2); verification follows RFC 9162 2.1.3.2 and
 *  2.1.4.2 and needs nothing but the proof, the sizes and the roots, so a
 *  node checks the server without trusting it.
 *
 *  The functions here work on an array of leaf hashes held by the caller,
 *  or (cs_merkle_nodes_*) on the perfect subtrees a store keeps;
 *  they allocate nothing, and recurse at most 64 levels deep.
 */
#ifndef CS_MERKLE_H
#define CS_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"

#define CS_MERKLE_HASH_BYTES 32 /* SHA-256 */
#define CS_MERKLE_PROOF_MAX 64  /* hashes in any proof of a 64-bit tree */

/* One hash. */
struct cs_merkle_hash {
    uint8_t b[CS_MERKLE_HASH_BYTES];
};

/* The leaf hash of len bytes at p (NULL allowed when len is 0). */
void cs_merkle_leaf(const void *p, size_t len, struct cs_merkle_hash *out)
    CS_NONNULL(3);

/* The hash of an inner node. */
void cs_merkle_node(const struct cs_merkle_hash *left,
                    const struct cs_merkle_hash *right,
                    struct cs_merkle_hash *out) CS_NONNULL(1, 2, 3);

/* MTH of the n leaf hashes at leaves (NULL allowed when n is 0). */
void cs_merkle_root(const struct cs_merkle_hash *leaves, uint64_t n,
                    struct cs_merkle_hash *out) CS_NONNULL(3);

/* The audit path of leaf m in the tree of the first n leaves.
     proof  receives up to CS_MERKLE_PROOF_MAX hashes
     len    receives their number
   Returns 0, or CS_ERR_INVALID when m >= n. */
CS_MUST_CHECK int cs_merkle_inclusion(const struct cs_merkle_hash *leaves,
                                      uint64_t n, uint64_t m,
                                      struct cs_merkle_hash *proof, size_t *len)
    CS_NONNULL(1, 4, 5);

/* The consistency proof from the tree of the first m leaves to that of
   the first n.  Returns 0, or CS_ERR_INVALID unless 0 < m <= n. */
CS_MUST_CHECK int cs_merkle_consistency(const struct cs_merkle_hash *leaves,
                                        uint64_t n, uint64_t m,
                                        struct cs_merkle_hash *proof,
                                        size_t *len) CS_NONNULL(1, 4, 5);

/* The same, from stored perfect subtrees instead of an array of leaves
   (the server keeps them: a proof then costs O(log n) lookups).  fn
   returns in *out the hash of the perfect subtree of 2^level leaves that
   starts at leaf idx << level, or an error, which is returned. */
typedef int (*cs_merkle_node_fn)(void *arg, unsigned level, uint64_t idx,
                                 struct cs_merkle_hash *out);

/* MTH of the first n leaves (SHA-256("") for n = 0). */
CS_MUST_CHECK int cs_merkle_nodes_root(cs_merkle_node_fn fn, void *arg,
                                       uint64_t n, struct cs_merkle_hash *out)
    CS_NONNULL(1, 4);

/* As cs_merkle_inclusion(). */
CS_MUST_CHECK int cs_merkle_nodes_inclusion(cs_merkle_node_fn fn, void *arg,
                                            uint64_t n, uint64_t m,
                                            struct cs_merkle_hash *proof,
                                            size_t *len) CS_NONNULL(1, 5, 6);

/* As cs_merkle_consistency(). */
CS_MUST_CHECK int cs_merkle_nodes_consistency(cs_merkle_node_fn fn, void *arg,
                                              uint64_t n, uint64_t m,
                                              struct cs_merkle_hash *proof,
                                              size_t *len) CS_NONNULL(1, 5, 6);

/* True when proof shows that leaf (a leaf hash) is leaf number index of
   the tree of size n whose root is root. */
bool cs_merkle_inclusion_verify(const struct cs_merkle_hash *leaf,
                                uint64_t index, uint64_t n,
                                const struct cs_merkle_hash *proof, size_t len,
                                const struct cs_merkle_hash *root)
    CS_NONNULL(1, 6);

/* True when proof shows that the tree of size m with root old_root is a
   prefix of the tree of size n with root new_root (0 < m <= n). */
bool cs_merkle_consistency_verify(uint64_t m, uint64_t n,
                                  const struct cs_merkle_hash *old_root,
                                  const struct cs_merkle_hash *new_root,
                                  const struct cs_merkle_hash *proof,
                                  size_t len) CS_NONNULL(3, 4);

#endif
