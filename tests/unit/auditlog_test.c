/*  tests/unit/auditlog_test.c - the audit log's leaves, signed tree heads
 *  and archives (proto/auditlog.h).
 *
 *  Every kind of leaf round-trips; what the spec forbids is refused by the
 *  decoder (and the encoder); a tree head verifies with the server's key
 *  and deployment and fails when any of its fields or the signature
 *  changes; an archive reads back in order, and damage stops the reader
 *  with an error instead of a wrong record.
 */
#include "proto_prelude.h"

#include "auditlog.h"
#include "err.h"
#include "key.h"
#include "test.h"

static const uint8_t s_dep[CS_DEPLOYMENT_BYTES] = {1, 2,  3,  4,  5,  6,  7, 8,
                                                   9, 10, 11, 12, 13, 14, 15};

static struct cs_view
s_v(const char *s)
{
    struct cs_view v = {(const uint8_t *)s, strlen(s)};
    return v;
}

/* Encodes l, decodes it again into *out; returns the decoder's result. */
static int
s_round(const struct cs_leaf *l, struct cs_leaf *out, struct cs_writer *w)
{
    int r;

    cs_writer_reset(w);
    if ((r = cs_leaf_encode(w, l)) != 0)
        return r;
    return cs_leaf_decode(cs_writer_data(w), cs_writer_len(w), out);
}

static void
test_leaves_round_trip(void)
{
    struct cs_writer w;
    struct cs_leaf l, d;

    cs_writer_init(&w, CS_AUDIT_LEAF_MAX + 64);
    memset(&d, 0, sizeof d);
    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_BATCH;
    l.at_ms = 1795000000123;
    memset(l.node.b, 0x11, sizeof l.node.b);
    l.seq = 7;
    memset(l.hash, 0x22, sizeof l.hash);
    l.count = 250;
    CS_CHECK_INT(s_round(&l, &d, &w), 0);
    CS_CHECK(d.kind == CS_LEAF_BATCH && d.at_ms == l.at_ms && d.seq == 7 &&
             d.count == 250 && memcmp(d.hash, l.hash, sizeof l.hash) == 0 &&
             memcmp(d.node.b, l.node.b, sizeof l.node.b) == 0);

    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_REFUSAL;
    l.at_ms = 5;
    l.seq = 3;
    l.index = 2;
    l.table = s_v("cig");
    l.row = s_v("01a2-row");
    l.field = s_v("");
    l.code = CS_ERR_PERM;
    l.reason = s_v("запись принадлежит офису KOC");
    CS_CHECK_INT(s_round(&l, &d, &w), 0);
    CS_CHECK(d.kind == CS_LEAF_REFUSAL && d.index == 2 &&
             d.code == CS_ERR_PERM && d.field.len == 0 &&
             d.reason.len == l.reason.len &&
             memcmp(d.reason.p, l.reason.p, l.reason.len) == 0);

    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_ENROLL;
    l.name = s_v("isfana");
    l.role = s_v("site");
    l.office = s_v("ISF");
    memset(l.pubkey.b, 0x33, sizeof l.pubkey.b);
    CS_CHECK_INT(s_round(&l, &d, &w), 0);
    CS_CHECK(d.kind == CS_LEAF_ENROLL && d.office.len == 3 &&
             memcmp(d.pubkey.b, l.pubkey.b, sizeof l.pubkey.b) == 0);

    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_REVOKE;
    l.name = s_v("isfana");
    memset(l.node.b, 0x44, sizeof l.node.b);
    CS_CHECK_INT(s_round(&l, &d, &w), 0);
    CS_CHECK(d.kind == CS_LEAF_REVOKE && d.node.b[15] == 0x44);

    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_CORRECTION;
    l.changeset = s_v("\x90");
    CS_CHECK_INT(s_round(&l, &d, &w), 0);
    CS_CHECK(d.kind == CS_LEAF_CORRECTION && d.changeset.len == 1);
    cs_writer_free(&w);
}

static void
test_leaves_refused(void)
{
    struct cs_writer w;
    struct cs_leaf l, d;
    uint8_t seq0[64];
    size_t n;
    static const uint8_t unknown_kind[] = {0x92, 0x09, 0x05};
    static const uint8_t too_short[] = {0x93, 0x05, 0x05, 0xa1, 'x'};

    /* [1, 5, node, 1, hash, 1], then its seq (after the 16-byte node:
       array, kind, time, bin header) made 0. */
    cs_writer_init(&w, CS_AUDIT_LEAF_MAX + 64);
    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_BATCH;
    l.at_ms = 5;
    l.seq = 1;
    l.count = 1;
    CS_REQUIRE(cs_leaf_encode(&w, &l) == 0 && cs_writer_len(&w) <= sizeof seq0);
    n = cs_writer_len(&w);
    memcpy(seq0, cs_writer_data(&w), n);
    CS_CHECK_INT(cs_leaf_decode(seq0, n, &d), 0);
    CS_CHECK_INT(cs_leaf_decode(seq0, n - 1, &d), CS_ERR_TRUNCATED);
    CS_REQUIRE(seq0[3 + 2 + 16] == 0x01);
    seq0[3 + 2 + 16] = 0x00;
    CS_CHECK_INT(cs_leaf_decode(seq0, n, &d), CS_ERR_FORMAT);
    CS_CHECK_INT(cs_leaf_decode(unknown_kind, sizeof unknown_kind, &d),
                 CS_ERR_FORMAT);
    CS_CHECK_INT(cs_leaf_decode(too_short, sizeof too_short, &d),
                 CS_ERR_FORMAT);
    CS_CHECK(d.kind == 0); /* zeroed on failure */

    cs_writer_reset(&w);
    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_REFUSAL;
    l.seq = 1;
    l.code = 0; /* a refusal needs a negative code */
    CS_CHECK_INT(cs_leaf_encode(&w, &l), CS_ERR_INVALID);
    l.code = CS_ERR_PERM;
    l.reason = s_v("\xff\xfe"); /* not UTF-8 */
    cs_writer_reset(&w);
    CS_CHECK_INT(cs_leaf_encode(&w, &l), CS_ERR_INVALID);
    l.kind = 99;
    cs_writer_reset(&w);
    CS_CHECK_INT(cs_leaf_encode(&w, &l), CS_ERR_INVALID);
    cs_writer_free(&w);
}

static void
test_tree_heads(void)
{
    struct cs_key *k = NULL, *other = NULL;
    struct cs_sth h, t;
    uint8_t dep2[CS_DEPLOYMENT_BYTES];

    CS_REQUIRE(cs_crypto_init() == 0);
    CS_REQUIRE(cs_key_generate(&k) == 0 && cs_key_generate(&other) == 0);
    memset(&h, 0, sizeof h);
    h.size = 12;
    h.time_ms = 1795000000000;
    memset(h.root, 0x5a, sizeof h.root);
    CS_CHECK_INT(cs_sth_sign(k, s_dep, &h), 0);
    CS_CHECK(cs_sth_verify(cs_key_public(k), s_dep, &h));
    CS_CHECK(!cs_sth_verify(cs_key_public(other), s_dep, &h));
    memcpy(dep2, s_dep, sizeof dep2);
    dep2[0] ^= 1;
    CS_CHECK(!cs_sth_verify(cs_key_public(k), dep2, &h));
    t = h;
    t.size++;
    CS_CHECK(!cs_sth_verify(cs_key_public(k), s_dep, &t));
    t = h;
    t.time_ms--;
    CS_CHECK(!cs_sth_verify(cs_key_public(k), s_dep, &t));
    t = h;
    t.root[31] ^= 1;
    CS_CHECK(!cs_sth_verify(cs_key_public(k), s_dep, &t));
    t = h;
    t.sig[0] ^= 1;
    CS_CHECK(!cs_sth_verify(cs_key_public(k), s_dep, &t));
    cs_key_destroy(&k);
    cs_key_destroy(&other);
}

static void
test_archive(void)
{
    struct cs_writer w;
    struct cs_audit_archive a;
    struct cs_audit_rec rec;
    struct cs_pubkey pk;
    struct cs_sth h;
    uint8_t copy[512];
    size_t len;

    memset(&pk, 0x77, sizeof pk);
    memset(&h, 0, sizeof h);
    h.size = 2;
    h.time_ms = 9;
    h.root[0] = 0xab;
    cs_writer_init(&w, 1 << 20);
    CS_CHECK_INT(cs_audit_archive_begin(&w, s_dep, &pk), 0);
    CS_CHECK_INT(
        cs_audit_archive_bytes(&w, CS_AUDIT_REC_LEAF, (const uint8_t *)"L1", 2),
        0);
    CS_CHECK_INT(cs_audit_archive_bytes(&w, CS_AUDIT_REC_BATCH,
                                        (const uint8_t *)"BATCH", 5),
                 0);
    CS_CHECK_INT(
        cs_audit_archive_bytes(&w, CS_AUDIT_REC_LEAF, (const uint8_t *)"L2", 2),
        0);
    CS_CHECK_INT(cs_audit_archive_head(&w, &h), 0);
    CS_CHECK_INT(
        cs_audit_archive_bytes(&w, CS_AUDIT_REC_HEAD, (const uint8_t *)"x", 1),
        CS_ERR_INVALID);

    CS_REQUIRE(
        cs_audit_archive_open(&a, cs_writer_data(&w), cs_writer_len(&w)) == 0);
    CS_CHECK(memcmp(a.deployment, s_dep, sizeof s_dep) == 0 &&
             a.server.b[0] == 0x77);
    CS_CHECK_INT(cs_audit_archive_next(&a, &rec), 0);
    CS_CHECK(rec.type == CS_AUDIT_REC_LEAF && rec.bytes.len == 2 &&
             memcmp(rec.bytes.p, "L1", 2) == 0);
    CS_CHECK_INT(cs_audit_archive_next(&a, &rec), 0);
    CS_CHECK(rec.type == CS_AUDIT_REC_BATCH && rec.bytes.len == 5);
    CS_CHECK_INT(cs_audit_archive_next(&a, &rec), 0);
    CS_CHECK(rec.type == CS_AUDIT_REC_LEAF);
    CS_CHECK_INT(cs_audit_archive_next(&a, &rec), 0);
    CS_CHECK(rec.type == CS_AUDIT_REC_HEAD && rec.head.size == 2 &&
             rec.head.time_ms == 9 && rec.head.root[0] == 0xab);
    CS_CHECK_INT(cs_audit_archive_next(&a, &rec), CS_ERR_NOT_FOUND);

    /* Cut short: the last record fails, the ones before still read. */
    len = cs_writer_len(&w) - 3;
    CS_REQUIRE(len <= sizeof copy);
    memcpy(copy, cs_writer_data(&w), len);
    CS_REQUIRE(cs_audit_archive_open(&a, copy, len) == 0);
    for (int i = 0; i < 3; i++)
        CS_CHECK_INT(cs_audit_archive_next(&a, &rec), 0);
    CS_CHECK_INT(cs_audit_archive_next(&a, &rec), CS_ERR_TRUNCATED);
    /* Another magic: not an archive. */
    copy[0] = 'X';
    CS_CHECK_INT(cs_audit_archive_open(&a, copy, len), CS_ERR_FORMAT);
    cs_writer_free(&w);
}

static const struct cs_test_case cases[] = {
    {"leaves_round_trip", test_leaves_round_trip},
    {"leaves_refused", test_leaves_refused},
    {"tree_heads", test_tree_heads},
    {"archive", test_archive},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
