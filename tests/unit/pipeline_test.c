/*  tests/unit/pipeline_test.c - a batch from one replica to another, the
 *  whole way: capture, seal into the feed, envelope for the recipient,
 *  open, verify, decompress, decode, apply.  And the tamper suite
 *  at that level: every altered, truncated, extended, replayed, misdirected
 *  or re-signed variant is refused with a specific error and applies
 *  nothing.
 */
#include "test.h"

#include "batch.h"
#include "changeset.h"
#include "envelope.h"
#include "feed.h"
#include "replicas.h"
#include "workload.h"
#include "writer.h"

#define T0 1790000000000ULL

static const uint8_t deployment[CS_DEPLOYMENT_BYTES] = {
    0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
    0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0};

/* Two nodes with keys from fixed seeds, replicas in memory. */
struct pair {
    struct cs_key *ka, *kb, *kc; /* a sends, b receives, c is a stranger */
    struct cs_store *a, *b;      /* replicas of a and b */
};

static int
lookup(void *arg, const struct cs_node_id *node, struct cs_pubkey *pk)
{
    struct pair *p = arg;
    struct cs_node_id id;
    cs_key_node_id(p->ka, &id);
    if (memcmp(id.b, node->b, sizeof id.b) != 0)
        return CS_ERR_NOT_FOUND;
    *pk = *cs_key_public(p->ka);
    return 0;
}

static int
pair_new(struct pair *p)
{
    uint8_t seed[CS_KEY_SEED_BYTES];
    struct cs_node_id ida, idb;
    memset(p, 0, sizeof *p);
    memset(seed, 0xa1, sizeof seed);
    if (cs_key_from_seed(seed, &p->ka) != 0)
        return -1;
    memset(seed, 0xb2, sizeof seed);
    if (cs_key_from_seed(seed, &p->kb) != 0)
        return -1;
    memset(seed, 0xc3, sizeof seed);
    if (cs_key_from_seed(seed, &p->kc) != 0)
        return -1;
    cs_key_node_id(p->ka, &ida);
    cs_key_node_id(p->kb, &idb);
    if (cs_store_create_with_schema(":memory:", &ida, "ISF", test_schema,
                                    &p->a) != 0 ||
        cs_store_create_with_schema(":memory:", &idb, "CEN", test_schema,
                                    &p->b) != 0)
        return -1;
    if (cs_store_set_clock_override(p->a, T0) != 0 ||
        cs_store_set_clock_override(p->b, T0) != 0)
        return -1;
    return 0;
}

static void
pair_free(struct pair *p)
{
    cs_key_destroy(&p->ka);
    cs_key_destroy(&p->kb);
    cs_key_destroy(&p->kc);
    cs_store_destroy(&p->a);
    cs_store_destroy(&p->b);
}

/* Seals a's pending changes and wraps batch seq for b (sent by sender). */
static int
envelope_for(struct pair *p, const struct cs_key *sender, uint64_t seq,
             const uint8_t *dep, struct cs_writer *out)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int r;
    if ((r = cs_feed_seal(p->a, p->ka, deployment, 0, NULL)) != 0 ||
        (r = cs_store_feed_get(p->a, seq, &bytes, &len)) != 0)
        return r;
    cs_writer_init(out, CS_ENVELOPE_MAX);
    r = cs_envelope_seal(sender, cs_key_public(p->kb), dep,
                         CS_ENVELOPE_KIND_BATCH, bytes, len, out);
    free(bytes);
    return r;
}

static long long
log_count(struct cs_store *s)
{
    return sql_int(s, "SELECT count(*) FROM zz_log");
}

static void
test_round_trip(void)
{
    struct pair p;
    struct cs_writer env;
    struct cs_apply_stats st;
    char *da, *db;
    CS_REQUIRE(pair_new(&p) == 0);
    CS_CHECK_INT(sql(p.a, "INSERT INTO item(id, a, b) VALUES ('r1', "
                          "'Абдыкадырова', 3)"),
                 0);
    CS_CHECK_INT(sql(p.a, "UPDATE item SET c = 'ok'"), 0);
    CS_REQUIRE(envelope_for(&p, p.ka, 1, deployment, &env) == 0);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, &st),
                 0);
    CS_CHECK_INT(st.applied, 5);
    da = dump(p.a);
    db = dump(p.b);
    CS_CHECK_STR(da, db);
    free(da);
    free(db);
    /* The same envelope again applies nothing. */
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, &st),
                 0);
    CS_CHECK_INT(st.applied, 0);
    CS_CHECK_INT(log_count(p.b), 5);
    cs_writer_free(&env);
    pair_free(&p);
}

static void
test_order_and_chain(void)
{
    struct pair p;
    struct cs_writer e1, e2;
    CS_REQUIRE(pair_new(&p) == 0);
    CS_CHECK_INT(sql(p.a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(envelope_for(&p, p.ka, 1, deployment, &e1) == 0);
    CS_CHECK_INT(sql(p.a, "UPDATE item SET a = 'y'"), 0);
    CS_REQUIRE(envelope_for(&p, p.ka, 2, deployment, &e2) == 0);
    /* Batch 2 before batch 1 is refused; then both in order apply. */
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&e2),
                                cs_writer_len(&e2), NULL, lookup, &p, NULL),
                 CS_ERR_SEQUENCE);
    CS_CHECK_INT(log_count(p.b), 0);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&e1),
                                cs_writer_len(&e1), NULL, lookup, &p, NULL),
                 0);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&e2),
                                cs_writer_len(&e2), NULL, lookup, &p, NULL),
                 0);
    CS_CHECK_INT(sql_int(p.b, "SELECT count(*) FROM item WHERE a = 'y'"), 1);
    cs_writer_free(&e1);
    cs_writer_free(&e2);
    pair_free(&p);
}

static void
test_tamper_envelope(void)
{
    struct pair p;
    struct cs_writer env;
    uint8_t *copy;
    size_t len, refused = 0;
    CS_REQUIRE(pair_new(&p) == 0);
    CS_CHECK_INT(sql(p.a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(envelope_for(&p, p.ka, 1, deployment, &env) == 0);
    len = cs_writer_len(&env);
    copy = cs_xmalloc(len + 1);
    /* Every single flipped byte: refused, nothing applied. */
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, cs_writer_data(&env), len);
        copy[i] ^= 0x01;
        if (cs_feed_accept(p.b, p.kb, deployment, copy, len, NULL, lookup, &p,
                           NULL) != 0)
            refused++;
    }
    CS_CHECK_INT(refused, len);
    /* Every truncation, and one byte appended. */
    for (size_t n = 0; n < len; n++)
        CS_CHECK(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env), n,
                                NULL, lookup, &p, NULL) != 0);
    memcpy(copy, cs_writer_data(&env), len);
    copy[len] = 0;
    CS_CHECK(cs_feed_accept(p.b, p.kb, deployment, copy, len + 1, NULL, lookup,
                            &p, NULL) != 0);
    CS_CHECK_INT(log_count(p.b), 0);
    free(copy);
    cs_writer_free(&env);
    pair_free(&p);
}

static void
test_misdirected_and_forged(void)
{
    struct pair p;
    struct cs_writer env;
    uint8_t other[CS_DEPLOYMENT_BYTES];
    CS_REQUIRE(pair_new(&p) == 0);
    CS_CHECK_INT(sql(p.a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(envelope_for(&p, p.ka, 1, deployment, &env) == 0);
    /* Opened by the wrong node. */
    CS_CHECK_INT(cs_feed_accept(p.b, p.kc, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, NULL),
                 CS_ERR_NOT_FOR_US);
    /* Replayed into another deployment. */
    memcpy(other, deployment, sizeof other);
    other[0] ^= 0xff;
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, other, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, NULL),
                 CS_ERR_DEPLOYMENT);
    cs_writer_free(&env);
    /* Wrapped by a stranger: its key is not known. */
    CS_REQUIRE(envelope_for(&p, p.kc, 1, deployment, &env) == 0);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, NULL),
                 CS_ERR_NOT_FOUND);
    cs_writer_free(&env);
    CS_CHECK_INT(log_count(p.b), 0);
    pair_free(&p);
}

static void
test_resigned_by_another_key(void)
{
    struct pair p;
    struct cs_writer batch, env, payload;
    struct cs_batch_head head;
    uint8_t hash[CS_HASH_BYTES];
    uint8_t *bytes = NULL;
    size_t len = 0;
    struct cs_batch b;
    CS_REQUIRE(pair_new(&p) == 0);
    CS_CHECK_INT(sql(p.a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(cs_feed_seal(p.a, p.ka, deployment, 0, NULL) == 0);
    CS_REQUIRE(cs_store_feed_get(p.a, 1, &bytes, &len) == 0);
    CS_REQUIRE(cs_batch_parse(bytes, len, &b) == 0);
    /* The same payload signed by c, wrapped by a: origin is not the sender. */
    memset(&head, 0, sizeof head);
    memcpy(head.deployment, deployment, sizeof head.deployment);
    head.seq = 1;
    head.hlc_min = b.hlc_min;
    head.hlc_max = b.hlc_max;
    head.count = b.count;
    cs_writer_init(&payload, CS_PAYLOAD_RAW_MAX);
    cs_writer_init(&batch, CS_BATCH_MAX);
    cs_writer_init(&env, CS_ENVELOPE_MAX);
    CS_REQUIRE(cs_writer_put(&payload, b.payload.p, b.payload.len) == 0);
    CS_REQUIRE(cs_batch_seal(p.kc, &head, cs_writer_data(&payload),
                             cs_writer_len(&payload), CS_BATCH_COMPRESSION_NONE,
                             &batch, hash) == 0);
    CS_REQUIRE(cs_envelope_seal(p.ka, cs_key_public(p.kb), deployment,
                                CS_ENVELOPE_KIND_BATCH, cs_writer_data(&batch),
                                cs_writer_len(&batch), &env) == 0);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, NULL),
                 CS_ERR_KEY);
    CS_CHECK_INT(log_count(p.b), 0);
    free(bytes);
    cs_writer_free(&payload);
    cs_writer_free(&batch);
    cs_writer_free(&env);
    pair_free(&p);
}

static bool
same_change(const struct cs_change *a, const struct cs_change *b)
{
    if (strcmp(a->table, b->table) != 0 || strcmp(a->row_id, b->row_id) != 0 ||
        strcmp(a->col, b->col) != 0 || a->op != b->op || a->hlc.t != b->hlc.t ||
        a->origin_seq != b->origin_seq ||
        memcmp(&a->origin, &b->origin, sizeof a->origin) != 0 ||
        a->has_base != b->has_base || a->value.type != b->value.type)
        return false;
    if (a->has_base &&
        (a->base_hlc.t != b->base_hlc.t ||
         memcmp(&a->base_origin, &b->base_origin, sizeof a->base_origin) != 0))
        return false;
    switch (a->value.type) {
    case CS_VALUE_INTEGER:
        return a->value.i == b->value.i;
    case CS_VALUE_TEXT:
    case CS_VALUE_BLOB:
        return a->value.len == b->value.len &&
               (a->value.len == 0 ||
                memcmp(a->value.p, b->value.p, a->value.len) == 0);
    default:
        return true;
    }
}

/* A node may only send its own changes; only the relay (the server) may
   pass on other nodes' changes. */
static void
test_foreign_origin(void)
{
    struct pair p;
    struct change_set set = {NULL, 0};
    struct cs_writer list, batch, env;
    struct cs_batch_head head;
    struct cs_change *flat;
    struct cs_node_id ida;
    uint8_t hash[CS_HASH_BYTES];
    CS_REQUIRE(pair_new(&p) == 0);
    CS_CHECK_INT(sql(p.a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(collect(p.a, true, &set) == 0 && set.n > 1);
    flat = cs_xcalloc(set.n, sizeof *flat);
    for (size_t i = 0; i < set.n; i++)
        flat[i] = set.v[i].ch;
    cs_key_node_id(p.kc, &flat[1].origin); /* in c's name */
    memset(&head, 0, sizeof head);
    memcpy(head.deployment, deployment, sizeof head.deployment);
    head.seq = 1;
    head.count = set.n;
    head.hlc_min = head.hlc_max = flat[0].hlc;
    for (size_t i = 0; i < set.n; i++)
        if (flat[i].hlc.t > head.hlc_max.t)
            head.hlc_max = flat[i].hlc;
    cs_writer_init(&list, CS_PAYLOAD_RAW_MAX);
    cs_writer_init(&batch, CS_BATCH_MAX);
    cs_writer_init(&env, CS_ENVELOPE_MAX);
    CS_REQUIRE(cs_changeset_encode(flat, set.n, &list) == 0);
    CS_REQUIRE(cs_batch_seal(p.ka, &head, cs_writer_data(&list),
                             cs_writer_len(&list), CS_BATCH_COMPRESSION_ZSTD,
                             &batch, hash) == 0);
    CS_REQUIRE(cs_envelope_seal(p.ka, cs_key_public(p.kb), deployment,
                                CS_ENVELOPE_KIND_BATCH, cs_writer_data(&batch),
                                cs_writer_len(&batch), &env) == 0);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), NULL, lookup, &p, NULL),
                 CS_ERR_KEY);
    CS_CHECK_INT(log_count(p.b), 0);
    cs_key_node_id(p.ka, &ida);
    CS_CHECK_INT(cs_feed_accept(p.b, p.kb, deployment, cs_writer_data(&env),
                                cs_writer_len(&env), &ida, lookup, &p, NULL),
                 0);
    CS_CHECK_INT(log_count(p.b), (long long)set.n);
    free(flat);
    change_set_free(&set);
    cs_writer_free(&list);
    cs_writer_free(&batch);
    cs_writer_free(&env);
    pair_free(&p);
}

/* Batches of 1 to 100,000 realistic changes survive every layer intact. */
static void
test_batch_sizes(void)
{
    static const size_t sizes[] = {1, 10, 1000, 100000};
    struct pair p;
    CS_REQUIRE(pair_new(&p) == 0);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        struct cs_workload *w = cs_workload_new(k + 1);
        struct cs_writer list, batch, env;
        struct cs_batch_head head;
        struct cs_envelope e;
        struct cs_batch b;
        struct cs_changeset *cs = NULL;
        uint8_t hash[CS_HASH_BYTES], zero[CS_HASH_BYTES] = {0};
        uint8_t *plain = NULL, *raw = NULL;
        size_t n, plain_len = 0, raw_len = 0, same = 0;
        const struct cs_change *ch = cs_workload_office_day(w, sizes[k], &n);
        n = sizes[k]; /* the generator may overshoot by a record */
        cs_writer_init(&list, CS_PAYLOAD_RAW_MAX);
        cs_writer_init(&batch, CS_BATCH_MAX);
        cs_writer_init(&env, CS_ENVELOPE_MAX);
        memset(&head, 0, sizeof head);
        memcpy(head.deployment, deployment, sizeof head.deployment);
        head.seq = 1;
        head.count = n;
        head.hlc_min = ch[0].hlc;
        head.hlc_max = ch[n - 1].hlc;
        CS_CHECK_INT(cs_changeset_encode(ch, n, &list), 0);
        CS_CHECK_INT(cs_batch_seal(p.ka, &head, cs_writer_data(&list),
                                   cs_writer_len(&list),
                                   CS_BATCH_COMPRESSION_ZSTD, &batch, hash),
                     0);
        CS_CHECK_INT(cs_envelope_seal(p.ka, cs_key_public(p.kb), deployment,
                                      CS_ENVELOPE_KIND_BATCH,
                                      cs_writer_data(&batch),
                                      cs_writer_len(&batch), &env),
                     0);
        if (cs_envelope_parse(cs_writer_data(&env), cs_writer_len(&env), &e) ==
                0 &&
            cs_envelope_open(&e, p.kb, deployment, &plain, &plain_len) == 0 &&
            cs_batch_parse(plain, plain_len, &b) == 0 &&
            cs_batch_verify(&b, cs_key_public(p.ka), deployment, 1, zero) ==
                0 &&
            cs_batch_payload(&b, &raw, &raw_len) == 0 &&
            cs_changeset_decode(raw, raw_len, &cs) == 0 &&
            cs_changeset_count(cs) == n) {
            for (size_t i = 0; i < n; i++)
                same += same_change(&ch[i], cs_changeset_at(cs, i));
        }
        CS_CHECK_INT(same, n);
        printf("  %zu changes: %zu bytes enveloped (%.1f per change)\n", n,
               cs_writer_len(&env), (double)cs_writer_len(&env) / (double)n);
        cs_changeset_destroy(&cs);
        free(raw);
        if (plain != NULL)
            cs_envelope_plain_free(plain, plain_len);
        cs_writer_free(&list);
        cs_writer_free(&batch);
        cs_writer_free(&env);
        cs_workload_destroy(&w);
    }
    pair_free(&p);
}

static const struct cs_test_case cases[] = {
    {"batch_sizes", test_batch_sizes},
    {"foreign_origin", test_foreign_origin},
    {"round_trip", test_round_trip},
    {"order_and_chain", test_order_and_chain},
    {"tamper_envelope", test_tamper_envelope},
    {"misdirected_and_forged", test_misdirected_and_forged},
    {"resigned_by_another_key", test_resigned_by_another_key},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
