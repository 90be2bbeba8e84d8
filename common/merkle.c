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

/* Where the hashes of subtrees come from: an array of leaf hashes, or the
   caller's stored perfect subtrees. */
struct s_src {
    const struct cs_merkle_hash *leaves; /* or NULL: ask fn */
    cs_merkle_node_fn fn;                /* perfect subtree by level, index */
    void *arg;                           /* fn's */
};

/* MTH(D[from:to]) for a subtree of the RFC's recursion (to > from; from
   is a multiple of the largest power of two not above to - from, so a
   power-of-two range is one stored perfect subtree). */
static int
s_range(const struct s_src *src, uint64_t from, uint64_t to,
        struct cs_merkle_hash *out)
{
    struct cs_merkle_hash l, r;
    uint64_t n = to - from, k;
    unsigned level = 0;
    int rc;

    if (src->leaves != NULL) {
        s_mth(src->leaves + from, n, out);
        return 0;
    }
    if ((n & (n - 1)) == 0) {
        while ((UINT64_C(1) << level) < n)
            level++;
        if ((from & (n - 1)) != 0)
            return CS_ERR_INTERNAL;
        return src->fn(src->arg, level, from >> level, out);
    }
    k = s_split(n);
    if ((rc = s_range(src, from, from + k, &l)) != 0 ||
        (rc = s_range(src, from + k, to, &r)) != 0)
        return rc;
    cs_merkle_node(&l, &r, out);
    return 0;
}

/* PATH(m, D[from:from+n]) of RFC 6962 2.1.1, appended at proof[*len]. */
static int
s_path(const struct s_src *src, uint64_t from, uint64_t n, uint64_t m,
       struct cs_merkle_hash *proof, size_t *len)
{
    uint64_t k;
    int r;

    if (n <= 1)
        return 0;
    k = s_split(n);
    if (m < k) {
        if ((r = s_path(src, from, k, m, proof, len)) != 0)
            return r;
        return s_range(src, from + k, from + n, &proof[(*len)++]);
    }
    if ((r = s_path(src, from + k, n - k, m - k, proof, len)) != 0)
        return r;
    return s_range(src, from, from + k, &proof[(*len)++]);
}

/* SUBPROOF(m, D[from:from+n], b) of RFC 6962 2.1.2, appended at
   proof[*len]. */
static int
s_subproof(const struct s_src *src, uint64_t from, uint64_t n, uint64_t m,
           bool whole, struct cs_merkle_hash *proof, size_t *len)
{
    uint64_t k;
    int r;

    if (m == n) {
        if (!whole)
            return s_range(src, from, from + n, &proof[(*len)++]);
        return 0;
    }
    k = s_split(n);
    if (m <= k) {
        if ((r = s_subproof(src, from, k, m, whole, proof, len)) != 0)
            return r;
        return s_range(src, from + k, from + n, &proof[(*len)++]);
    }
    if ((r = s_subproof(src, from + k, n - k, m - k, false, proof, len)) != 0)
        return r;
    return s_range(src, from, from + k, &proof[(*len)++]);
}

static int
s_inclusion(const struct s_src *src, uint64_t n, uint64_t m,
            struct cs_merkle_hash *proof, size_t *len)
{
    int r;

    *len = 0;
    if (m >= n)
        return CS_ERR_INVALID;
    if ((r = s_path(src, 0, n, m, proof, len)) != 0)
        *len = 0;
    return r;
}

static int
s_consistency(const struct s_src *src, uint64_t n, uint64_t m,
              struct cs_merkle_hash *proof, size_t *len)
{
    int r;

    *len = 0;
    if (m == 0 || m > n)
        return CS_ERR_INVALID;
    if ((r = s_subproof(src, 0, n, m, true, proof, len)) != 0)
        *len = 0;
    return r;
}

int
cs_merkle_inclusion(const struct cs_merkle_hash *leaves, uint64_t n, uint64_t m,
                    struct cs_merkle_hash *proof, size_t *len)
{
    struct s_src src = {leaves, NULL, NULL};

    return s_inclusion(&src, n, m, proof, len);
}

int
cs_merkle_consistency(const struct cs_merkle_hash *leaves, uint64_t n,
                      uint64_t m, struct cs_merkle_hash *proof, size_t *len)
{
    struct s_src src = {leaves, NULL, NULL};

    return s_consistency(&src, n, m, proof, len);
}

int
cs_merkle_nodes_root(cs_merkle_node_fn fn, void *arg, uint64_t n,
                     struct cs_merkle_hash *out)
{
    struct s_src src = {NULL, fn, arg};

    if (n == 0) {
        crypto_hash_sha256(out->b, NULL, 0);
        return 0;
    }
    return s_range(&src, 0, n, out);
}

int
cs_merkle_nodes_inclusion(cs_merkle_node_fn fn, void *arg, uint64_t n,
                          uint64_t m, struct cs_merkle_hash *proof, size_t *len)
{
    struct s_src src = {NULL, fn, arg};

    return s_inclusion(&src, n, m, proof, len);
}

int
cs_merkle_nodes_consistency(cs_merkle_node_fn fn, void *arg, uint64_t n,
                            uint64_t m, struct cs_merkle_hash *proof,
                            size_t *len)
{
    struct s_src src = {NULL, fn, arg};

    return s_consistency(&src, n, m, proof, len);
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
