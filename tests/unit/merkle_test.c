/*  tests/unit/merkle_test.c - RFC 6962 Merkle trees (common/merkle.c).
 *
 *  The roots of RFC 6962's test data (the eight leaves of the Certificate
 *  Transparency reference tests) for every size 0..8, published audit
 *  paths and consistency proofs among them, then for every tree size up to
 *  S_SIZES and every leaf or older size (a sample of them above S_ALL):
 *  generated proofs verify, and a
 *  proof with one bit flipped, one hash dropped or added, or checked
 *  against another index, another root, or the smaller tree (its size and
 *  its root) is refused.  (A size alone is not bound by a proof: a signed
 *  tree head binds it to its root.)  An auditor relies on
 *  exactly this: a proof that verifies means the log holds what it says.
 */
#include "prelude.h"

#include "err.h"
#include "merkle.h"
#include "test.h"

#define S_SIZES 300 /* every tree size up to this many leaves */
#define S_ALL                                                                  \
    100 /* up to this size every leaf and older size; above, a                 \
           sample (S_PICKS of them), to keep the test short */
#define S_PICKS 8

/* Whether leaf or size m of a tree of n is checked. */
static bool
s_pick(uint64_t n, uint64_t m)
{
    return n <= S_ALL || m < 2 || m + 2 >= n || m % (n / S_PICKS) == 0;
}

static const char *const s_leaves[8] = {"",
                                        "00",
                                        "10",
                                        "2021",
                                        "3031",
                                        "40414243",
                                        "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"};

static const char *const s_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

static void
s_unhex(const char *hex, uint8_t *out, size_t *len)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
    *len = n;
}

static void
s_hash(const char *hex, struct cs_merkle_hash *h)
{
    size_t n;

    s_unhex(hex, h->b, &n);
}

static void
s_rfc_leaves(struct cs_merkle_hash leaves[8])
{
    for (int i = 0; i < 8; i++) {
        uint8_t b[32];
        size_t n;
        s_unhex(s_leaves[i], b, &n);
        cs_merkle_leaf(b, n, &leaves[i]);
    }
}

static void
test_rfc6962_roots(void)
{
    struct cs_merkle_hash leaves[8], root, want;

    s_rfc_leaves(leaves);
    for (uint64_t n = 0; n <= 8; n++) {
        cs_merkle_root(leaves, n, &root);
        s_hash(s_roots[n], &want);
        CS_CHECK(memcmp(root.b, want.b, CS_MERKLE_HASH_BYTES) == 0);
    }
}

static void
test_rfc6962_proofs(void)
{
    struct cs_merkle_hash leaves[8], proof[CS_MERKLE_PROOF_MAX], want[3];
    size_t len = 0;

    s_rfc_leaves(leaves);
    /* Audit path of leaf 0 in the tree of 8 (CT reference data). */
    s_hash("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           &want[0]);
    s_hash("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           &want[1]);
    s_hash("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
           &want[2]);
    CS_REQUIRE(cs_merkle_inclusion(leaves, 8, 0, proof, &len) == 0);
    CS_CHECK_INT(len, 3);
    CS_CHECK(memcmp(proof, want, sizeof want) == 0);
    /* Consistency of 6 in 8. */
    s_hash("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           &want[0]);
    s_hash("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           &want[1]);
    s_hash("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
           &want[2]);
    CS_REQUIRE(cs_merkle_consistency(leaves, 8, 6, proof, &len) == 0);
    CS_CHECK_INT(len, 3);
    CS_CHECK(memcmp(proof, want, sizeof want) == 0);
    /* Consistency of 2 in 5. */
    s_hash("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           &want[0]);
    s_hash("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           &want[1]);
    CS_REQUIRE(cs_merkle_consistency(leaves, 5, 2, proof, &len) == 0);
    CS_CHECK_INT(len, 2);
    CS_CHECK(memcmp(proof, want, 2 * sizeof want[0]) == 0);
    CS_CHECK_INT(cs_merkle_inclusion(leaves, 8, 8, proof, &len),
                 CS_ERR_INVALID);
    CS_CHECK_INT(cs_merkle_consistency(leaves, 8, 0, proof, &len),
                 CS_ERR_INVALID);
    CS_CHECK_INT(cs_merkle_consistency(leaves, 8, 9, proof, &len),
                 CS_ERR_INVALID);
}

static struct cs_merkle_hash s_many[S_SIZES];
static struct cs_merkle_hash s_roots_of[S_SIZES + 1];

static void
s_many_init(void)
{
    for (uint32_t i = 0; i < S_SIZES; i++) {
        uint8_t b[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16),
                        (uint8_t)(i >> 8), (uint8_t)i};
        cs_merkle_leaf(b, sizeof b, &s_many[i]);
    }
    for (uint64_t n = 0; n <= S_SIZES; n++)
        cs_merkle_root(s_many, n, &s_roots_of[n]);
}

static void
test_every_inclusion_proof(void)
{
    struct cs_merkle_hash proof[CS_MERKLE_PROOF_MAX + 1];
    size_t len, bad = 0, good = 0;

    s_many_init();
    for (uint64_t n = 1; n <= S_SIZES; n++) {
        const struct cs_merkle_hash *root = &s_roots_of[n];
        for (uint64_t m = 0; m < n; m++) {
            if (!s_pick(n, m))
                continue;
            if (cs_merkle_inclusion(s_many, n, m, proof, &len) != 0) {
                bad++;
                continue;
            }
            if (cs_merkle_inclusion_verify(&s_many[m], m, n, proof, len, root))
                good++;
            else
                bad++;
            /* Mutations: each must be refused. */
            if (cs_merkle_inclusion_verify(&s_many[m], m + 1, n, proof, len,
                                           root) &&
                m + 1 < n)
                bad++;
            if (m < n - 1 &&
                cs_merkle_inclusion_verify(&s_many[m], m, n - 1, proof, len,
                                           &s_roots_of[n - 1]))
                bad++;
            if (cs_merkle_inclusion_verify(&s_many[m], m, n, proof, len,
                                           &s_roots_of[n - 1]))
                bad++;
            if (len > 0) {
                proof[m % len].b[m % 32] ^= 1;
                if (cs_merkle_inclusion_verify(&s_many[m], m, n, proof, len,
                                               root))
                    bad++;
                proof[m % len].b[m % 32] ^= 1;
                if (cs_merkle_inclusion_verify(&s_many[m], m, n, proof, len - 1,
                                               root))
                    bad++;
            }
            proof[len] = s_many[0];
            if (cs_merkle_inclusion_verify(&s_many[m], m, n, proof, len + 1,
                                           root))
                bad++;
        }
    }
    CS_CHECK_INT(bad, 0);
    CS_CHECK(good >= (size_t)S_ALL * (S_ALL + 1) / 2 + S_SIZES - S_ALL);
}

static void
test_every_consistency_proof(void)
{
    struct cs_merkle_hash proof[CS_MERKLE_PROOF_MAX + 1];
    size_t len, bad = 0, good = 0;

    s_many_init();
    for (uint64_t n = 1; n <= S_SIZES; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            if (!s_pick(n, m))
                continue;
            const struct cs_merkle_hash *o = &s_roots_of[m],
                                        *w = &s_roots_of[n];
            if (cs_merkle_consistency(s_many, n, m, proof, &len) != 0) {
                bad++;
                continue;
            }
            if (cs_merkle_consistency_verify(m, n, o, w, proof, len))
                good++;
            else
                bad++;
            if (m == n)
                continue;
            /* A rewritten history: another old root, another new one. */
            if (cs_merkle_consistency_verify(m, n, &s_roots_of[m - 1], w, proof,
                                             len) &&
                m > 1)
                bad++;
            if (cs_merkle_consistency_verify(m, n, o, &s_roots_of[n - 1], proof,
                                             len))
                bad++;
            if (n - 1 >= m && cs_merkle_consistency_verify(
                                  m, n - 1, o, &s_roots_of[n - 1], proof, len))
                bad++;
            if (len > 0) {
                proof[n % len].b[n % 32] ^= 0x80;
                if (cs_merkle_consistency_verify(m, n, o, w, proof, len))
                    bad++;
                proof[n % len].b[n % 32] ^= 0x80;
                if (cs_merkle_consistency_verify(m, n, o, w, proof, len - 1))
                    bad++;
            }
            proof[len] = s_many[1];
            if (cs_merkle_consistency_verify(m, n, o, w, proof, len + 1))
                bad++;
        }
    }
    CS_CHECK_INT(bad, 0);
    CS_CHECK(good >= (size_t)S_ALL * (S_ALL + 1) / 2 + S_SIZES - S_ALL);
    /* A tree that shrank proves nothing. */
    CS_CHECK(!cs_merkle_consistency_verify(5, 4, &s_roots_of[5], &s_roots_of[4],
                                           proof, 0));
}

/* Perfect subtree (level, idx) of s_many, as a store would keep it; counts
   the lookups. */
static int
s_node_of_many(void *arg, unsigned level, uint64_t idx,
               struct cs_merkle_hash *out)
{
    uint64_t from = idx << level, n = UINT64_C(1) << level;

    (*(size_t *)arg)++;
    if (from + n > S_SIZES)
        return CS_ERR_NOT_FOUND;
    cs_merkle_root(s_many + from, n, out);
    return 0;
}

/* Proofs from stored perfect subtrees are the array's, for every size and
   index, and cost O(log n) lookups; a missing subtree is an error. */
static void
test_proofs_from_stored_nodes(void)
{
    struct cs_merkle_hash a[CS_MERKLE_PROOF_MAX], b[CS_MERKLE_PROOF_MAX], root;
    size_t la, lb, lookups = 0, most = 0, bad = 0;

    s_many_init();
    for (uint64_t n = 1; n <= S_SIZES; n++) {
        size_t before;
        CS_CHECK_INT(cs_merkle_nodes_root(s_node_of_many, &lookups, n, &root),
                     0);
        if (memcmp(root.b, s_roots_of[n].b, sizeof root.b) != 0)
            bad++;
        for (uint64_t m = 0; m <= n; m++) {
            if (m < n) {
                CS_CHECK_INT(cs_merkle_inclusion(s_many, n, m, a, &la), 0);
                before = lookups;
                CS_CHECK_INT(cs_merkle_nodes_inclusion(s_node_of_many, &lookups,
                                                       n, m, b, &lb),
                             0);
                if (lookups - before > most)
                    most = lookups - before;
                if (la != lb || memcmp(a, b, la * sizeof *a) != 0)
                    bad++;
            }
            if (m > 0) {
                CS_CHECK_INT(cs_merkle_consistency(s_many, n, m, a, &la), 0);
                before = lookups;
                CS_CHECK_INT(cs_merkle_nodes_consistency(
                                 s_node_of_many, &lookups, n, m, b, &lb),
                             0);
                if (lookups - before > most)
                    most = lookups - before;
                if (la != lb || memcmp(a, b, la * sizeof *a) != 0)
                    bad++;
            }
        }
    }
    CS_CHECK_INT(bad, 0);
    CS_CHECK(most <= 2 * 9 * 2); /* 2 log2(300) subtrees, each at most
                                    log2 lookups: never one per leaf */
    CS_CHECK_INT(
        cs_merkle_nodes_inclusion(s_node_of_many, &lookups, 4, 4, b, &lb),
        CS_ERR_INVALID);
    CS_CHECK_INT(
        cs_merkle_nodes_root(s_node_of_many, &lookups, S_SIZES + 1, &root),
        CS_ERR_NOT_FOUND);
}

static const struct cs_test_case cases[] = {
    {"rfc6962_roots", test_rfc6962_roots},
    {"rfc6962_proofs", test_rfc6962_proofs},
    {"every_inclusion_proof", test_every_inclusion_proof},
    {"every_consistency_proof", test_every_consistency_proof},
    {"proofs_from_stored_nodes", test_proofs_from_stored_nodes},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
