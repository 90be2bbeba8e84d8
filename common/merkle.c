/*  common/merkle.c - RFC 6962 Merkle trees; see merkle.h.  */
#include "prelude.h"

#include "err.h"
#include "merkle.h"

void
cs_merkle_leaf(const void *p, size_t len, struct cs_merkle_hash *out)
{
    static const uint8_t prefix = 0x00;
    crypto_hash_sha256_state st;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    if (len > 0)
        crypto_hash_sha256_update(&st, p, len);
    crypto_hash_sha256_final(&st, out->b);
}

void
cs_merkle_node(const struct cs_merkle_hash *left,
               const struct cs_merkle_hash *right, struct cs_merkle_hash *out)
{
    static const uint8_t prefix = 0x01;
    crypto_hash_sha256_state st;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, left->b, CS_MERKLE_HASH_BYTES);
    crypto_hash_sha256_update(&st, right->b, CS_MERKLE_HASH_BYTES);
    crypto_hash_sha256_final(&st, out->b);
}

/* The largest power of two below n (n >= 2). */
static uint64_t
s_split(uint64_t n)
{
    uint64_t k = 1;

    while (k < n - k)
        k <<= 1;
    return k;
}

/* MTH of leaves[0..n), n >= 1. */
static void
s_mth(const struct cs_merkle_hash *leaves, uint64_t n,
      struct cs_merkle_hash *out)
{
    struct cs_merkle_hash l, r;
    uint64_t k;

    if (n == 1) {
        *out = leaves[0];
        return;
    }
    k = s_split(n);
    s_mth(leaves, k, &l);
    s_mth(leaves + k, n - k, &r);
    cs_merkle_node(&l, &r, out);
}

void
cs_merkle_root(const struct cs_merkle_hash *leaves, uint64_t n,
               struct cs_merkle_hash *out)
{
    if (n == 0) {
        crypto_hash_sha256(out->b, NULL, 0);
        return;
    }
    s_mth(leaves, n, out);
}

/* PATH(m, D[n]) of RFC 6962 2.1.1, appended at proof[*len]. */
static void
s_path(const struct cs_merkle_hash *leaves, uint64_t n, uint64_t m,
       struct cs_merkle_hash *proof, size_t *len)
{
    uint64_t k;

    if (n <= 1)
        return;
    k = s_split(n);
    if (m < k) {
        s_path(leaves, k, m, proof, len);
        s_mth(leaves + k, n - k, &proof[(*len)++]);
    } else {
        s_path(leaves + k, n - k, m - k, proof, len);
        s_mth(leaves, k, &proof[(*len)++]);
    }
}

int
cs_merkle_inclusion(const struct cs_merkle_hash *leaves, uint64_t n, uint64_t m,
                    struct cs_merkle_hash *proof, size_t *len)
{
    *len = 0;
    if (m >= n)
        return CS_ERR_INVALID;
    s_path(leaves, n, m, proof, len);
    return 0;
}

/* SUBPROOF(m, D[n], b) of RFC 6962 2.1.2, appended at proof[*len]. */
static void
s_subproof(const struct cs_merkle_hash *leaves, uint64_t n, uint64_t m,
           bool whole, struct cs_merkle_hash *proof, size_t *len)
{
    uint64_t k;

    if (m == n) {
        if (!whole)
            s_mth(leaves, n, &proof[(*len)++]);
        return;
    }
    k = s_split(n);
    if (m <= k) {
        s_subproof(leaves, k, m, whole, proof, len);
        s_mth(leaves + k, n - k, &proof[(*len)++]);
    } else {
        s_subproof(leaves + k, n - k, m - k, false, proof, len);
        s_mth(leaves, k, &proof[(*len)++]);
    }
}

int
cs_merkle_consistency(const struct cs_merkle_hash *leaves, uint64_t n,
                      uint64_t m, struct cs_merkle_hash *proof, size_t *len)
{
    *len = 0;
    if (m == 0 || m > n)
        return CS_ERR_INVALID;
    s_subproof(leaves, n, m, true, proof, len);
    return 0;
}

bool
cs_merkle_inclusion_verify(const struct cs_merkle_hash *leaf, uint64_t index,
                           uint64_t n, const struct cs_merkle_hash *proof,
                           size_t len, const struct cs_merkle_hash *root)
{
    struct cs_merkle_hash r = *leaf;
    uint64_t fn = index, sn;

    if (index >= n || len > CS_MERKLE_PROOF_MAX || (len > 0 && proof == NULL))
        return false;
    sn = n - 1;
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) != 0 || fn == sn) {
            cs_merkle_node(&proof[i], &r, &r);
            if ((fn & 1) == 0)
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cs_merkle_node(&r, &proof[i], &r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r.b, root->b, CS_MERKLE_HASH_BYTES) == 0;
}

bool
cs_merkle_consistency_verify(uint64_t m, uint64_t n,
                             const struct cs_merkle_hash *old_root,
                             const struct cs_merkle_hash *new_root,
                             const struct cs_merkle_hash *proof, size_t len)
{
    struct cs_merkle_hash fr, sr;
    uint64_t fn, sn;
    size_t i = 0;

    if (m == 0 || m > n || len > CS_MERKLE_PROOF_MAX ||
        (len > 0 && proof == NULL))
        return false;
    if (m == n)
        return len == 0 && sodium_memcmp(old_root->b, new_root->b,
                                         CS_MERKLE_HASH_BYTES) == 0;
    if (len == 0)
        return false;
    fn = m - 1;
    sn = n - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    /* A power-of-two old tree is itself the first node of the path. */
    if ((m & (m - 1)) == 0) {
        fr = sr = *old_root;
    } else {
        fr = sr = proof[0];
        i = 1;
    }
    for (; i < len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) != 0 || fn == sn) {
            cs_merkle_node(&proof[i], &fr, &fr);
            cs_merkle_node(&proof[i], &sr, &sr);
            if ((fn & 1) == 0)
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cs_merkle_node(&sr, &proof[i], &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 &&
           sodium_memcmp(fr.b, old_root->b, CS_MERKLE_HASH_BYTES) == 0 &&
           sodium_memcmp(sr.b, new_root->b, CS_MERKLE_HASH_BYTES) == 0;
}
