/*  tests/unit/msg_test.c - tests of proto/msg.c.
 *
 *  Every message type has a vector (tests/vectors/msg-*.vec, written by a
 *  msgpack encoder independent of cigsync's): it must decode to its expect
 *  lines and re-encode to the same bytes; msg-bad-type and msg-hello-v2
 *  must fail with their error.  Round trips cover every message through
 *  the encoders.  As STYLE.md 37 asks of every parser, each vector is then
 *  truncated at every length, given a trailing byte, each element replaced
 *  by a wrong type, and lists given oversized counts; a frame over
 *  CS_FRAME_MAX, unknown types, the values the spec forbids, and the
 *  version mismatch text are checked too.  Elements appended by a later
 *  minor version must be skipped.
 */
#include "proto_prelude.h"

#include "err.h"
#include "mem.h"
#include "msg.h"
#include "test.h"
/* vectors.h's snprintf of the error line trips gcc's -Wformat-truncation
   at -O2; silence it for that header only (as envelope_test.c does). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "vectors.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "writer.h"

#define LINES_MAX 64       /* rendered lines per message */
#define BIG (1024u * 1024) /* writer maximum for test frames */

/* The vectors that decode; then the ones that must fail. */
static const char *const good_vectors[] = {
    "msg-hello", "msg-status",  "msg-batch",  "msg-chunk",
    "msg-ack",   "msg-ack-nil", "msg-credit", "msg-refused",
    "msg-error", "msg-ping",    "msg-pong",   NULL};
static const char *const bad_vectors[] = {"msg-bad-type", "msg-hello-v2", NULL};

static const char *const type_names[] = {"(none)", "hello", "status", "batch",
                                         "chunk",  "ack",   "credit", "refused",
                                         "error",  "ping",  "pong"};

/* ---- rendering a decoded message as "field = value" lines ------------- */

struct lines {
    char *v[LINES_MAX]; /* malloc'd lines */
    size_t n;           /* how many */
};

static void
add(struct lines *l, char *s)
{
    if (l->n == LINES_MAX)
        abort();
    l->v[l->n++] = s;
}

static void
add_hex(struct lines *l, const char *name, const uint8_t *p, size_t len)
{
    char *hex = cs_xmalloc(2 * len + 1);
    sodium_bin2hex(hex, 2 * len + 1, p, len);
    add(l, cs_xasprintf("%s = %s", name, hex));
    free(hex);
}

static void
add_text(struct lines *l, const char *name, const struct cs_view *v)
{
    add(l, cs_xasprintf("%s = \"%.*s\"", name, (int)v->len,
                        v->len ? (const char *)v->p : ""));
}

static void
lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

static void
render_heads(struct lines *l, const struct cs_msg_list *list)
{
    struct cs_msg_iter it;
    struct cs_msg_head h;
    char name[64];

    add(l, cs_xasprintf("heads = %zu", list->n));
    cs_msg_iter_init(&it, list);
    for (size_t i = 0; i < list->n; i++) {
        CS_CHECK_INT(cs_msg_iter_pull_head(&it, &h), 0);
        snprintf(name, sizeof name, "head[%zu].origin", i);
        add_hex(l, name, h.origin.b, sizeof h.origin.b);
        add(l, cs_xasprintf("head[%zu].seq = %" PRIu64, i, h.seq));
        snprintf(name, sizeof name, "head[%zu].hash", i);
        add_hex(l, name, h.hash, sizeof h.hash);
    }
    CS_CHECK_INT(cs_msg_iter_pull_head(&it, &h), CS_ERR_NOT_FOUND);
}

static void
render_refusals(struct lines *l, const struct cs_msg_list *list)
{
    struct cs_msg_iter it;
    struct cs_msg_refusal f;
    char name[64];

    add(l, cs_xasprintf("refusals = %zu", list->n));
    cs_msg_iter_init(&it, list);
    for (size_t i = 0; i < list->n; i++) {
        CS_CHECK_INT(cs_msg_iter_pull_refusal(&it, &f), 0);
        snprintf(name, sizeof name, "refusal[%zu].table", i);
        add_text(l, name, &f.table);
        snprintf(name, sizeof name, "refusal[%zu].row", i);
        add_text(l, name, &f.row);
        snprintf(name, sizeof name, "refusal[%zu].field", i);
        add_text(l, name, &f.field);
        add(l, cs_xasprintf("refusal[%zu].code = %d", i, f.code));
        snprintf(name, sizeof name, "refusal[%zu].reason", i);
        add_text(l, name, &f.reason);
    }
    CS_CHECK_INT(cs_msg_iter_pull_refusal(&it, &f), CS_ERR_NOT_FOUND);
}

/* Renders m as the vectors' expect lines. */
static void
render(const struct cs_msg *m, struct lines *l)
{
    const struct cs_msg_hello *he = &m->u.hello;
    const struct cs_chunk *c = &m->u.chunk;
    const struct cs_msg_ack *a = &m->u.ack;

    add(l, cs_xasprintf("type = %s", type_names[m->type]));
    switch (m->type) {
    case CS_MSG_HELLO:
        add(l, cs_xasprintf("major = %" PRIu64, he->major));
        add(l, cs_xasprintf("minor = %" PRIu64, he->minor));
        add(l, cs_xasprintf("schema = %" PRIu64, he->schema));
        add_hex(l, "deployment", he->deployment, sizeof he->deployment);
        add_hex(l, "node", he->node.b, sizeof he->node.b);
        render_heads(l, &he->heads);
        break;
    case CS_MSG_STATUS:
        render_heads(l, &m->u.status.heads);
        add(l, cs_xasprintf("pending = %" PRIu64, m->u.status.pending));
        add_hex(l, "digest", m->u.status.digest, CS_HASH_BYTES);
        break;
    case CS_MSG_BATCH:
        add_hex(l, "envelope", m->u.batch.envelope.p, m->u.batch.envelope.len);
        break;
    case CS_MSG_CHUNK:
        add_hex(l, "id", c->id.b, sizeof c->id.b);
        add(l, cs_xasprintf("total = %" PRIu64, c->total));
        add(l, cs_xasprintf("offset = %" PRIu64, c->offset));
        add_hex(l, "data", c->data.p, c->data.len);
        break;
    case CS_MSG_ACK:
        render_heads(l, &a->heads);
        add(l, cs_xasprintf("resume = %s", a->has_resume ? "yes" : "no"));
        if (a->has_resume) {
            add_hex(l, "resume.id", a->envelope.b, sizeof a->envelope.b);
            add(l, cs_xasprintf("resume.offset = %" PRIu64, a->offset));
        }
        break;
    case CS_MSG_CREDIT:
        add(l, cs_xasprintf("bytes = %" PRIu64, m->u.credit.bytes));
        add(l, cs_xasprintf("batches = %" PRIu64, m->u.credit.batches));
        break;
    case CS_MSG_REFUSED:
        add_hex(l, "origin", m->u.refused.origin.b, CS_NODE_ID_BYTES);
        add(l, cs_xasprintf("seq = %" PRIu64, m->u.refused.seq));
        render_refusals(l, &m->u.refused.refusals);
        break;
    case CS_MSG_ERROR:
        add(l, cs_xasprintf("code = %d", m->u.error.code));
        add_text(l, "message", &m->u.error.message);
        break;
    case CS_MSG_PING:
    case CS_MSG_PONG:
        add(l, cs_xasprintf("token = %" PRIu64, m->u.ping.token));
        break;
    default:
        CS_CHECK(0);
        break;
    }
}

/* ---- re-encoding a decoded message ------------------------------------ */

static struct cs_msg_head *
collect_heads(const struct cs_msg_list *list)
{
    struct cs_msg_head *hs = cs_xcalloc(list->n + 1, sizeof *hs);
    struct cs_msg_iter it;
    cs_msg_iter_init(&it, list);
    for (size_t i = 0; i < list->n; i++)
        CS_CHECK_INT(cs_msg_iter_pull_head(&it, &hs[i]), 0);
    return hs;
}

/* Appends the encoding of m to w with the encoders; returns their result. */
static int
reencode(const struct cs_msg *m, struct cs_writer *w)
{
    struct cs_msg_head *hs = NULL;
    struct cs_msg_refusal *fs = NULL;
    struct cs_msg_iter it;
    int r;

    switch (m->type) {
    case CS_MSG_HELLO:
        hs = collect_heads(&m->u.hello.heads);
        r = cs_msg_hello_encode(w, &m->u.hello, hs, m->u.hello.heads.n);
        break;
    case CS_MSG_STATUS:
        hs = collect_heads(&m->u.status.heads);
        r = cs_msg_status_encode(w, &m->u.status, hs, m->u.status.heads.n);
        break;
    case CS_MSG_BATCH:
        r = cs_msg_batch_encode(w, &m->u.batch);
        break;
    case CS_MSG_CHUNK:
        r = cs_msg_chunk_encode(w, &m->u.chunk);
        break;
    case CS_MSG_ACK:
        hs = collect_heads(&m->u.ack.heads);
        r = cs_msg_ack_encode(w, &m->u.ack, hs, m->u.ack.heads.n);
        break;
    case CS_MSG_CREDIT:
        r = cs_msg_credit_encode(w, &m->u.credit);
        break;
    case CS_MSG_REFUSED:
        fs = cs_xcalloc(m->u.refused.refusals.n + 1, sizeof *fs);
        cs_msg_iter_init(&it, &m->u.refused.refusals);
        for (size_t i = 0; i < m->u.refused.refusals.n; i++)
            CS_CHECK_INT(cs_msg_iter_pull_refusal(&it, &fs[i]), 0);
        r = cs_msg_refused_encode(w, &m->u.refused, fs,
                                  m->u.refused.refusals.n);
        break;
    case CS_MSG_ERROR:
        r = cs_msg_error_encode(w, &m->u.error);
        break;
    case CS_MSG_PING:
        r = cs_msg_ping_encode(w, &m->u.ping);
        break;
    case CS_MSG_PONG:
        r = cs_msg_pong_encode(w, &m->u.ping);
        break;
    case CS_MSG_SINCE:
        r = cs_msg_since_encode(w, &m->u.since);
        break;
    case CS_MSG_TREE:
        r = cs_msg_tree_encode(w, &m->u.tree);
        break;
    case CS_MSG_RECEIPT:
        r = cs_msg_receipt_encode(w, &m->u.receipt);
        break;
    case CS_MSG_LOG_GET:
        r = cs_msg_log_get_encode(w, &m->u.log_get);
        break;
    case CS_MSG_LOG:
        r = cs_msg_log_encode(w, &m->u.log);
        break;
    default:
        r = CS_ERR_INVALID;
        break;
    }
    free(hs);
    free(fs);
    return r;
}

/* Decodes p and renders it into l; returns the decode result. */
static int
decode_render(const uint8_t *p, size_t len, struct lines *l)
{
    struct cs_msg m;
    int r = cs_msg_decode(p, len, &m);
    if (r == 0)
        render(&m, l);
    return r;
}

/* ---- vectors -------------------------------------------------------------
 */

static void
test_vectors(void)
{
    for (size_t i = 0; good_vectors[i] != NULL; i++) {
        struct vector v;
        struct lines l = {{0}, 0};
        struct cs_msg m;
        struct cs_writer w;

        CS_REQUIRE(vector_load(good_vectors[i], &v) == 0);
        CS_CHECK_STR(v.error, "");
        CS_CHECK_INT(cs_msg_decode(v.input, v.len, &m), 0);
        render(&m, &l);
        CS_CHECK_INT(vector_check(&v, l.v, l.n), 0);
        cs_writer_init(&w, BIG);
        CS_CHECK_INT(reencode(&m, &w), 0);
        if (cs_writer_len(&w) != v.len ||
            memcmp(cs_writer_data(&w), v.input, v.len) != 0) {
            fprintf(stderr, "%s: re-encoding differs\n", good_vectors[i]);
            CS_CHECK(0);
        }
        cs_writer_free(&w);
        lines_free(&l);
        vector_free(&v);
    }
}

static void
test_bad_vectors(void)
{
    char text[CS_MSG_VERSION_TEXT_MAX];

    for (size_t i = 0; bad_vectors[i] != NULL; i++) {
        struct vector v;
        struct lines l = {{0}, 0};
        struct cs_msg m;
        int r;

        CS_REQUIRE(vector_load(bad_vectors[i], &v) == 0);
        r = cs_msg_decode(v.input, v.len, &m);
        CS_CHECK_STR(cs_errname(r), v.error);
        /* Only another major's HELLO keeps anything: its version. */
        if (m.type == CS_MSG_HELLO) {
            add(&l, cs_xasprintf("type = hello"));
            add(&l, cs_xasprintf("major = %" PRIu64, m.u.hello.major));
            add(&l, cs_xasprintf("minor = %" PRIu64, m.u.hello.minor));
            CS_CHECK_INT(cs_msg_check_version(m.u.hello.major, m.u.hello.minor,
                                              text, sizeof text),
                         CS_ERR_VERSION);
            add(&l, cs_xasprintf("version = %s", text));
            CS_CHECK(m.u.hello.heads.n == 0 && m.u.hello.schema == 0);
        } else {
            CS_CHECK_INT(m.type, 0);
        }
        CS_CHECK_INT(vector_check(&v, l.v, l.n), 0);
        lines_free(&l);
        vector_free(&v);
    }
}

/* ---- round trips through the encoders ---------------------------------- */

static struct cs_msg_head
head(uint8_t origin, uint64_t seq)
{
    struct cs_msg_head h;
    memset(&h, 0, sizeof h);
    memset(h.origin.b, origin, sizeof h.origin.b);
    h.seq = seq;
    memset(h.hash, origin ^ 0x5a, sizeof h.hash);
    return h;
}

static struct cs_view
view(const char *s)
{
    struct cs_view v = {(const uint8_t *)s, strlen(s)};
    return v;
}

/* Decodes w's frame into m and checks it is of type t. */
static void
decode_w(const struct cs_writer *w, enum cs_msg_type t, struct cs_msg *m)
{
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(w), cs_writer_len(w), m), 0);
    CS_CHECK_INT(m->type, t);
}

static void
test_round_trip(void)
{
    struct cs_msg_head hs[3] = {head(1, 1), head(2, 99),
                                head(0xff, UINT64_C(1) << 40)};
    struct cs_writer w;
    struct cs_msg m;
    struct cs_msg_iter it;
    struct cs_msg_head h;

    cs_writer_init(&w, BIG);
    for (size_t n = 0; n <= 3; n++) {
        struct cs_msg_hello he;
        memset(&he, 0, sizeof he);
        he.major = CS_PROTO_MAJOR;
        he.minor = CS_PROTO_MINOR;
        he.schema = 7;
        memset(he.deployment, 0xd, sizeof he.deployment);
        memset(he.node.b, 0xe, sizeof he.node.b);
        cs_writer_reset(&w);
        CS_REQUIRE(cs_msg_hello_encode(&w, &he, hs, n) == 0);
        decode_w(&w, CS_MSG_HELLO, &m);
        CS_CHECK_INT(m.u.hello.schema, 7);
        CS_CHECK(memcmp(m.u.hello.node.b, he.node.b, 16) == 0);
        CS_CHECK_INT(m.u.hello.heads.n, n);
        cs_msg_iter_init(&it, &m.u.hello.heads);
        for (size_t i = 0; i < n; i++) {
            CS_CHECK_INT(cs_msg_iter_pull_head(&it, &h), 0);
            CS_CHECK(memcmp(&h, &hs[i], sizeof h) == 0);
        }
        CS_CHECK_INT(cs_msg_iter_pull_head(&it, &h), CS_ERR_NOT_FOUND);
    }

    struct cs_msg_status st = {.pending = 12345};
    memset(st.digest, 0xdd, sizeof st.digest);
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_status_encode(&w, &st, hs, 2) == 0);
    decode_w(&w, CS_MSG_STATUS, &m);
    CS_CHECK_INT(m.u.status.pending, 12345);
    CS_CHECK_INT(m.u.status.heads.n, 2);
    CS_CHECK(memcmp(m.u.status.digest, st.digest, CS_HASH_BYTES) == 0);

    static uint8_t env[CS_MSG_BATCH_MAX];
    for (size_t i = 0; i < sizeof env; i++)
        env[i] = (uint8_t)(i * 7);
    struct cs_msg_batch ba = {{env, sizeof env}};
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_batch_encode(&w, &ba) == 0);
    CS_CHECK(cs_writer_len(&w) <= CS_FRAME_MAX);
    decode_w(&w, CS_MSG_BATCH, &m);
    CS_CHECK(m.u.batch.envelope.len == sizeof env &&
             memcmp(m.u.batch.envelope.p, env, sizeof env) == 0);

    struct cs_chunk c = {.total = 100000, .offset = 99000};
    memset(c.id.b, 0xc, sizeof c.id.b);
    c.data.p = env;
    c.data.len = 1000; /* the last chunk, ending exactly at total */
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_chunk_encode(&w, &c) == 0);
    decode_w(&w, CS_MSG_CHUNK, &m);
    CS_CHECK_INT(m.u.chunk.total, 100000);
    CS_CHECK_INT(m.u.chunk.offset, 99000);
    CS_CHECK(m.u.chunk.data.len == 1000 &&
             memcmp(m.u.chunk.data.p, env, 1000) == 0);
    /* The one chunk of an empty envelope (chunk.h). */
    struct cs_chunk empty = {.total = 0, .offset = 0};
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_chunk_encode(&w, &empty) == 0);
    decode_w(&w, CS_MSG_CHUNK, &m);
    CS_CHECK_INT(m.u.chunk.data.len, 0);

    struct cs_msg_ack a = {.has_resume = true, .offset = 16384};
    memset(a.envelope.b, 0xa, sizeof a.envelope.b);
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_ack_encode(&w, &a, hs, 3) == 0);
    decode_w(&w, CS_MSG_ACK, &m);
    CS_CHECK(m.u.ack.has_resume);
    CS_CHECK_INT(m.u.ack.offset, 16384);
    CS_CHECK(memcmp(m.u.ack.envelope.b, a.envelope.b, 16) == 0);
    CS_CHECK_INT(m.u.ack.heads.n, 3);
    a.has_resume = false;
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_ack_encode(&w, &a, NULL, 0) == 0);
    decode_w(&w, CS_MSG_ACK, &m);
    CS_CHECK(!m.u.ack.has_resume);
    CS_CHECK_INT(m.u.ack.offset, 0);

    struct cs_msg_credit cr = {UINT64_MAX, 3};
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_credit_encode(&w, &cr) == 0);
    decode_w(&w, CS_MSG_CREDIT, &m);
    CS_CHECK(m.u.credit.bytes == UINT64_MAX && m.u.credit.batches == 3);

    struct cs_msg_refusal fs[2] = {
        {view("letter"), view("0193a0c4-6b2e-7c3d-8e4f-5a6b7c8d9e0f"),
         view("status"), CS_ERR_PERM, view("not yours")},
        {view("person"), view("p-1"), view(""), CS_ERR_BAD_VALUE, view("")}};
    struct cs_msg_refused rf = {.seq = 4};
    memset(rf.origin.b, 3, sizeof rf.origin.b);
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_refused_encode(&w, &rf, fs, 2) == 0);
    decode_w(&w, CS_MSG_REFUSED, &m);
    CS_CHECK_INT(m.u.refused.seq, 4);
    CS_CHECK_INT(m.u.refused.refusals.n, 2);
    struct cs_msg_refusal f;
    cs_msg_iter_init(&it, &m.u.refused.refusals);
    CS_CHECK_INT(cs_msg_iter_pull_refusal(&it, &f), 0);
    CS_CHECK(f.code == CS_ERR_PERM && f.reason.len == 9 &&
             memcmp(f.reason.p, "not yours", 9) == 0);
    CS_CHECK_INT(cs_msg_iter_pull_refusal(&it, &f), 0);
    CS_CHECK(f.code == CS_ERR_BAD_VALUE && f.field.len == 0);
    CS_CHECK_INT(cs_msg_iter_pull_refusal(&it, &f), CS_ERR_NOT_FOUND);
    /* The wrong pull for the list: refused, not misread. */
    cs_msg_iter_init(&it, &m.u.refused.refusals);
    CS_CHECK(cs_msg_iter_pull_head(&it, &h) != 0);

    struct cs_msg_error er = {CS_ERR_PERM, view("узел отозван")};
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_error_encode(&w, &er) == 0);
    decode_w(&w, CS_MSG_ERROR, &m);
    CS_CHECK_INT(m.u.error.code, CS_ERR_PERM);
    CS_CHECK_INT(m.u.error.message.len, strlen("узел отозван"));

    struct cs_msg_ping pg = {UINT64_MAX};
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_ping_encode(&w, &pg) == 0);
    decode_w(&w, CS_MSG_PING, &m);
    CS_CHECK(m.u.ping.token == UINT64_MAX);
    cs_writer_reset(&w);
    CS_REQUIRE(cs_msg_pong_encode(&w, &pg) == 0);
    decode_w(&w, CS_MSG_PONG, &m);
    CS_CHECK(m.u.ping.token == UINT64_MAX);
    cs_writer_free(&w);
}

/* ---- malformed frames ---------------------------------------------------- */

static void
test_truncated_and_trailing(void)
{
    for (size_t i = 0; good_vectors[i] != NULL; i++) {
        struct vector v;
        struct cs_msg m;

        CS_REQUIRE(vector_load(good_vectors[i], &v) == 0);
        for (size_t cut = 0; cut < v.len; cut++) {
            uint8_t *copy = cs_xmalloc(cut + 1); /* exact size for ASan */
            memcpy(copy, v.input, cut);
            int r = cs_msg_decode(copy, cut, &m);
            if (r != CS_ERR_TRUNCATED && r != CS_ERR_FORMAT)
                fprintf(stderr, "%s cut at %zu: %s\n", good_vectors[i], cut,
                        cs_errname(r));
            CS_CHECK(r == CS_ERR_TRUNCATED || r == CS_ERR_FORMAT);
            CS_CHECK_INT(m.type, 0);
            free(copy);
        }
        uint8_t *longer = cs_xmalloc(v.len + 1);
        memcpy(longer, v.input, v.len);
        longer[v.len] = 0;
        CS_CHECK_INT(cs_msg_decode(longer, v.len + 1, &m), CS_ERR_TRAILING);
        free(longer);
        vector_free(&v);
    }
}

/* Offsets of the top-level elements of a frame: off[0] is the type's. */
static size_t
elements(const struct vector *v, size_t *off, size_t max)
{
    struct cs_reader rd;
    size_t n;

    cs_reader_init(&rd, v->input, v->len);
    if (cs_reader_array(&rd, &n, max) != 0)
        abort();
    for (size_t i = 0; i < n; i++) {
        off[i] = v->len - cs_reader_left(&rd);
        if (cs_reader_skip(&rd, CS_READER_DEPTH_MAX) != 0)
            abort();
    }
    off[n] = v->len;
    return n;
}

static void
test_wrong_types(void)
{
    for (size_t i = 0; good_vectors[i] != NULL; i++) {
        struct vector v;
        struct cs_msg m;
        size_t off[CS_MSG_FIELDS_MAX + 1];

        CS_REQUIRE(vector_load(good_vectors[i], &v) == 0);
        size_t n = elements(&v, off, CS_MSG_FIELDS_MAX);
        for (size_t e = 0; e < n; e++) {
            /* Element e replaced by nil, then by a string. */
            static const uint8_t subs[][2] = {{0xc0, 0}, {0xa1, 'x'}};
            for (size_t s = 0; s < 2; s++) {
                size_t sub_len = s == 0 ? 1 : 2;
                size_t len = off[e] + sub_len + (v.len - off[e + 1]);
                uint8_t *p = cs_xmalloc(len);
                memcpy(p, v.input, off[e]);
                memcpy(p + off[e], subs[s], sub_len);
                memcpy(p + off[e] + sub_len, v.input + off[e + 1],
                       v.len - off[e + 1]);
                int r = cs_msg_decode(p, len, &m);
                /* ACK's resume point may be nil; ERROR's text a string. */
                bool ok = (s == 0 && e == 2 &&
                           strncmp(good_vectors[i], "msg-ack", 7) == 0) ||
                          (s == 1 && e == 2 &&
                           strcmp(good_vectors[i], "msg-error") == 0);
                CS_CHECK_INT(r, ok ? 0 : CS_ERR_FORMAT);
                free(p);
            }
        }
        vector_free(&v);
    }
}

static void
test_appended_elements(void)
{
    /* A later minor version appends [1, [2, "x"]]: skipped, same decode. */
    static const uint8_t extra[] = {0x92, 0x01, 0x92, 0x02, 0xa1, 'x'};
    for (size_t i = 0; good_vectors[i] != NULL; i++) {
        struct vector v;
        struct lines want = {{0}, 0}, got = {{0}, 0};
        size_t off[CS_MSG_FIELDS_MAX + 1];
        struct cs_writer w;

        CS_REQUIRE(vector_load(good_vectors[i], &v) == 0);
        size_t n = elements(&v, off, CS_MSG_FIELDS_MAX - 1);
        cs_writer_init(&w, BIG);
        CS_CHECK(cs_writer_mp_array(&w, (uint32_t)n + 1) == 0 &&
                 cs_writer_put(&w, v.input + off[0], v.len - off[0]) == 0 &&
                 cs_writer_put(&w, extra, sizeof extra) == 0);
        CS_CHECK_INT(decode_render(v.input, v.len, &want), 0);
        CS_CHECK_INT(decode_render(cs_writer_data(&w), cs_writer_len(&w), &got),
                     0);
        CS_CHECK(want.n == got.n);
        for (size_t k = 0; k < want.n && k < got.n; k++)
            CS_CHECK_STR(got.v[k], want.v[k]);
        cs_writer_free(&w);
        lines_free(&want);
        lines_free(&got);
        vector_free(&v);
    }
}

/* Decodes w's bytes and returns the result. */
static int
decode_of(const struct cs_writer *w)
{
    struct cs_msg m;
    int r = cs_msg_decode(cs_writer_data(w), cs_writer_len(w), &m);
    if (r != 0)
        CS_CHECK_INT(m.type, 0);
    return r;
}

/* Writes a head entry [origin, seq, hash] by hand. */
static void
put_head(struct cs_writer *w, uint8_t origin, uint64_t seq)
{
    uint8_t id[CS_NODE_ID_BYTES], hash[CS_HASH_BYTES];
    memset(id, origin, sizeof id);
    memset(hash, 0, sizeof hash);
    if (cs_writer_mp_array(w, 3) != 0 ||
        cs_writer_mp_bin(w, id, sizeof id) != 0 ||
        cs_writer_mp_uint(w, seq) != 0 ||
        cs_writer_mp_bin(w, hash, sizeof hash) != 0)
        abort();
}

/* Writes [ACK, [heads...], nil] with the given (origin, seq) pairs. */
static void
ack_frame(struct cs_writer *w, const uint8_t *origins, const uint64_t *seqs,
          size_t n)
{
    cs_writer_reset(w);
    if (cs_writer_mp_array(w, 3) != 0 ||
        cs_writer_mp_uint(w, CS_MSG_ACK) != 0 ||
        cs_writer_mp_array(w, (uint32_t)n) != 0)
        abort();
    for (size_t i = 0; i < n; i++)
        put_head(w, origins[i], seqs[i]);
    if (cs_writer_mp_nil(w) != 0)
        abort();
}

/* Writes [CHUNK, id, total, offset, data of len bytes]. */
static void
chunk_frame(struct cs_writer *w, uint64_t total, uint64_t offset, size_t len)
{
    static const uint8_t data[CS_CHUNK_DATA_MAX + 1];
    uint8_t id[CS_CHUNK_ID_BYTES] = {0};
    cs_writer_reset(w);
    if (cs_writer_mp_array(w, 5) != 0 ||
        cs_writer_mp_uint(w, CS_MSG_CHUNK) != 0 ||
        cs_writer_mp_bin(w, id, sizeof id) != 0 ||
        cs_writer_mp_uint(w, total) != 0 || cs_writer_mp_uint(w, offset) != 0 ||
        cs_writer_mp_bin(w, data, len) != 0)
        abort();
}

/* Writes [REFUSED, origin, 1, [n copies of the refusal]] or, with n 0, an
   empty list. */
static void
refused_frame(struct cs_writer *w, size_t n, const char *table, const char *row,
              int64_t code, const char *reason)
{
    uint8_t id[CS_NODE_ID_BYTES] = {0};
    cs_writer_reset(w);
    if (cs_writer_mp_array(w, 4) != 0 ||
        cs_writer_mp_uint(w, CS_MSG_REFUSED) != 0 ||
        cs_writer_mp_bin(w, id, sizeof id) != 0 ||
        cs_writer_mp_uint(w, 1) != 0 || cs_writer_mp_array(w, (uint32_t)n))
        abort();
    for (size_t i = 0; i < n; i++) {
        if (cs_writer_mp_array(w, 5) != 0 || cs_writer_mp_cstr(w, table) != 0 ||
            cs_writer_mp_cstr(w, row) != 0 || cs_writer_mp_cstr(w, "") != 0 ||
            cs_writer_mp_int(w, code) != 0 || cs_writer_mp_cstr(w, reason) != 0)
            abort();
    }
}

static void
test_forbidden_values(void)
{
    struct cs_writer w;
    uint8_t o[4] = {1, 2, 2, 1};
    uint64_t s[4] = {1, 1, 1, 1};
    uint64_t zero[1] = {0};
    char long_text[CS_MESSAGE_TEXT_MAX + 2];

    cs_writer_init(&w, BIG);
    ack_frame(&w, o, s, 2);
    CS_CHECK_INT(decode_of(&w), 0);
    ack_frame(&w, o + 1, s, 2); /* origins out of order */
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    ack_frame(&w, o + 1, s, 2 - 1);
    CS_CHECK_INT(decode_of(&w), 0);
    uint8_t dup[2] = {2, 2};
    ack_frame(&w, dup, s, 2); /* one origin twice */
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    ack_frame(&w, o, zero, 1); /* seq 0 */
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);

    chunk_frame(&w, 100, 90, 10);
    CS_CHECK_INT(decode_of(&w), 0);
    chunk_frame(&w, 100, 91, 10); /* runs past the envelope */
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    chunk_frame(&w, 100, UINT64_MAX, 10);
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    chunk_frame(&w, 100, 100, 0); /* empty piece of a non-empty envelope */
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    chunk_frame(&w, 0, 0, 0);
    CS_CHECK_INT(decode_of(&w), 0);
    chunk_frame(&w, (uint64_t)CS_ENVELOPE_MAX + 1, 0, 10);
    CS_CHECK_INT(decode_of(&w), CS_ERR_TOO_BIG);
    chunk_frame(&w, 1u << 20, 0, CS_CHUNK_DATA_MAX + 1);
    CS_CHECK_INT(decode_of(&w), CS_ERR_TOO_BIG);

    refused_frame(&w, 1, "cig", "id-1", -20, "why");
    CS_CHECK_INT(decode_of(&w), 0);
    refused_frame(&w, 0, "cig", "id-1", -20, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1, "", "id-1", -20, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1, "cig", "", -20, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1, "cig", "id-1", 0, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1, "cig", "id-1", 5, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1, "cig", "id-1", (int64_t)INT_MIN - 1, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1, "cig", "id-1", -20, "bad \xc3\x28 utf-8");
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    refused_frame(&w, 1,
                  "a_table_name_that_is_longer_than_sixty_four_bytes_"
                  "which_is_the_max",
                  "id-1", -20, "why");
    CS_CHECK_INT(decode_of(&w), CS_ERR_TOO_BIG);
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    refused_frame(&w, 1, "cig", "id-1", -20, long_text);
    CS_CHECK_INT(decode_of(&w), CS_ERR_TOO_BIG);
    long_text[CS_MESSAGE_TEXT_MAX] = '\0'; /* exactly the limit */
    refused_frame(&w, 1, "cig", "id-1", -20, long_text);
    CS_CHECK_INT(decode_of(&w), 0);

    /* ERROR: [8, code, message] */
    cs_writer_reset(&w);
    CS_REQUIRE(cs_writer_mp_array(&w, 3) == 0 &&
               cs_writer_mp_uint(&w, CS_MSG_ERROR) == 0 &&
               cs_writer_mp_int(&w, 1) == 0 &&
               cs_writer_mp_cstr(&w, "positive code") == 0);
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    /* BATCH with an empty envelope. */
    cs_writer_reset(&w);
    CS_REQUIRE(cs_writer_mp_array(&w, 2) == 0 &&
               cs_writer_mp_uint(&w, CS_MSG_BATCH) == 0 &&
               cs_writer_mp_bin(&w, NULL, 0) == 0);
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT);
    /* ACK resuming past any envelope. */
    cs_writer_reset(&w);
    CS_REQUIRE(cs_writer_mp_array(&w, 3) == 0 &&
               cs_writer_mp_uint(&w, CS_MSG_ACK) == 0 &&
               cs_writer_mp_array(&w, 0) == 0 &&
               cs_writer_mp_array(&w, 2) == 0 &&
               cs_writer_mp_bin(&w, o, 16 - 12) == 0);
    CS_CHECK_INT(decode_of(&w), CS_ERR_FORMAT); /* a 4-byte id */
    cs_writer_free(&w);
}

static void
test_oversized(void)
{
    struct cs_writer w;
    struct cs_msg m;

    /* Counts over the limits, announced by small frames. */
    static const uint8_t heads_4097[] = {0x93, CS_MSG_ACK, 0xdc, 0x10, 0x01};
    CS_CHECK_INT(cs_msg_decode(heads_4097, sizeof heads_4097, &m),
                 CS_ERR_TOO_BIG);
    /* [REFUSED, origin (16 zero bytes), seq 1, array16 of 4097] */
    uint8_t refusals_4097[4 + CS_NODE_ID_BYTES + 4] = {0x94, CS_MSG_REFUSED,
                                                       0xc4, CS_NODE_ID_BYTES};
    refusals_4097[4 + CS_NODE_ID_BYTES] = 1;
    refusals_4097[5 + CS_NODE_ID_BYTES] = 0xdc;
    refusals_4097[6 + CS_NODE_ID_BYTES] = 0x10;
    refusals_4097[7 + CS_NODE_ID_BYTES] = 0x01;
    CS_CHECK_INT(cs_msg_decode(refusals_4097, sizeof refusals_4097, &m),
                 CS_ERR_TOO_BIG);
    static const uint8_t fields_33[] = {0xdc, 0x00, 0x21, CS_MSG_PING};
    CS_CHECK_INT(cs_msg_decode(fields_33, sizeof fields_33, &m),
                 CS_ERR_TOO_BIG);
    /* A count that fits the limit but not the bytes left. */
    static const uint8_t heads_4096[] = {0x93, CS_MSG_ACK, 0xdc, 0x10, 0x00};
    CS_CHECK_INT(cs_msg_decode(heads_4096, sizeof heads_4096, &m),
                 CS_ERR_TRUNCATED);
    static const uint8_t array32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    CS_CHECK_INT(cs_msg_decode(array32, sizeof array32, &m), CS_ERR_TOO_BIG);

    /* A frame over CS_FRAME_MAX is refused before a byte is read, even if
       it starts like a good message. */
    uint8_t *big = calloc(1, CS_FRAME_MAX + 1);
    CS_REQUIRE(big != NULL);
    big[0] = 0x92;
    big[1] = CS_MSG_PING;
    CS_CHECK_INT(cs_msg_decode(big, CS_FRAME_MAX + 1, &m), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_msg_decode(big, CS_FRAME_MAX, &m), CS_ERR_TRAILING);
    free(big);

    /* BATCH one byte over its envelope limit (the frame itself fits). */
    static uint8_t env[CS_MSG_BATCH_MAX + 1];
    cs_writer_init(&w, BIG);
    CS_REQUIRE(cs_writer_mp_array(&w, 2) == 0 &&
               cs_writer_mp_uint(&w, CS_MSG_BATCH) == 0 &&
               cs_writer_mp_bin(&w, env, sizeof env) == 0);
    CS_CHECK(cs_writer_len(&w) <= CS_FRAME_MAX);
    CS_CHECK_INT(decode_of(&w), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
}

static void
test_unknown_types(void)
{
    static const struct {
        const char *name; /* what is wrong */
        uint8_t p[4];     /* the frame */
        size_t len;       /* its length */
        int want;         /* the refusal */
    } cases[] = {
        {"type 0", {0x91, 0x00}, 2, CS_ERR_FORMAT},
        {"type 11", {0x91, 0x0b}, 2, CS_ERR_FORMAT},
        {"type 255", {0x91, 0xcc, 0xff}, 3, CS_ERR_FORMAT},
        {"negative type", {0x91, 0xff}, 2, CS_ERR_FORMAT},
        {"string type", {0x91, 0xa1, 'h'}, 3, CS_ERR_FORMAT},
        {"empty array", {0x90}, 1, CS_ERR_FORMAT},
        {"not an array", {0x09}, 1, CS_ERR_FORMAT},
        {"a map", {0x81, 0x01, 0x01}, 3, CS_ERR_FORMAT},
        {"PING without token", {0x91, 0x09}, 2, CS_ERR_FORMAT},
        {"nothing", {0}, 0, CS_ERR_TRUNCATED},
        {"0xc1", {0xc1}, 1, CS_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cs_msg m;
        int r = cs_msg_decode(cases[i].p, cases[i].len, &m);
        if (r != cases[i].want)
            fprintf(stderr, "%s: %s\n", cases[i].name, cs_errname(r));
        CS_CHECK_INT(r, cases[i].want);
        CS_CHECK_INT(m.type, 0);
    }
}

static void
test_version(void)
{
    char text[CS_MSG_VERSION_TEXT_MAX];
    char small[12];
    struct cs_msg m;

    CS_CHECK_INT(cs_msg_check_version(2, 0, text, sizeof text), CS_ERR_VERSION);
    CS_CHECK_STR(text,
                 "protocol version 2.0 is not supported; this node speaks 1.1");
    CS_CHECK_INT(cs_msg_check_version(0, 9, text, sizeof text), CS_ERR_VERSION);
    CS_CHECK_STR(text,
                 "protocol version 0.9 is not supported; this node speaks 1.1");
    CS_CHECK_INT(
        cs_msg_check_version(UINT64_MAX, UINT64_MAX, text, sizeof text),
        CS_ERR_VERSION);
    CS_CHECK(strstr(text, "18446744073709551615.18446744073709551615") != NULL);
    CS_CHECK_INT(cs_msg_check_version(2, 0, small, sizeof small),
                 CS_ERR_VERSION);
    CS_CHECK_STR(small, "protocol ve");
    CS_CHECK_INT(cs_msg_check_version(2, 0, NULL, 0), CS_ERR_VERSION);
    /* Minor differences are accepted. */
    CS_CHECK_INT(cs_msg_check_version(1, 7, text, sizeof text), 0);
    CS_CHECK_STR(text, "");

    /* A HELLO of 1.7 decodes; one of 3.1 with any layout keeps only its
       version. */
    struct cs_msg_hello he;
    struct cs_writer w;
    memset(&he, 0, sizeof he);
    he.major = 1;
    he.minor = 7;
    cs_writer_init(&w, BIG);
    CS_REQUIRE(cs_msg_hello_encode(&w, &he, NULL, 0) == 0);
    CS_CHECK_INT(decode_of(&w), 0);
    static const uint8_t v3[] = {0x94, 0x01, 0x03, 0x01, 0xc0};
    CS_CHECK_INT(cs_msg_decode(v3, sizeof v3, &m), CS_ERR_VERSION);
    CS_CHECK_INT(m.type, CS_MSG_HELLO);
    CS_CHECK_INT(m.u.hello.major, 3);
    CS_CHECK_INT(m.u.hello.minor, 1);
    static const uint8_t v3_short[] = {0x93, 0x01, 0x03, 0x01};
    CS_CHECK_INT(cs_msg_decode(v3_short, sizeof v3_short, &m), CS_ERR_VERSION);
    CS_CHECK_INT(m.u.hello.major, 3);
    /* Too short to carry a version: just malformed. */
    static const uint8_t no_minor[] = {0x92, 0x01, 0x03};
    CS_CHECK_INT(cs_msg_decode(no_minor, sizeof no_minor, &m), CS_ERR_FORMAT);
    CS_CHECK_INT(m.type, 0);
    /* Same major, malformed rest: nothing kept. */
    static const uint8_t v1_bad[] = {0x94, 0x01, 0x01, 0x00, 0xc0};
    CS_CHECK_INT(cs_msg_decode(v1_bad, sizeof v1_bad, &m), CS_ERR_FORMAT);
    CS_CHECK_INT(m.type, 0);
    CS_CHECK_INT(m.u.hello.major, 0);
    cs_writer_free(&w);
}

static void
test_encoders_refuse(void)
{
    struct cs_writer w;
    struct cs_msg_head hs[2] = {head(2, 1), head(1, 1)};
    struct cs_msg_head *many = cs_xcalloc(CS_HEADS_MAX + 1, sizeof *many);
    struct cs_msg_hello he;
    struct cs_msg_ack a = {.has_resume = false};
    size_t fit = 0;

    memset(&he, 0, sizeof he);
    he.major = CS_PROTO_MAJOR;
    cs_writer_init(&w, BIG);
    CS_REQUIRE(cs_writer_put(&w, "x", 1) == 0); /* encoders append */
    CS_CHECK_INT(cs_msg_hello_encode(&w, &he, hs, 2), CS_ERR_INVALID);
    hs[1] = head(2, 1);
    CS_CHECK_INT(cs_msg_ack_encode(&w, &a, hs, 2), CS_ERR_INVALID);
    hs[1] = head(3, 0);
    CS_CHECK_INT(cs_msg_ack_encode(&w, &a, hs, 2), CS_ERR_INVALID);
    for (size_t i = 0; i < CS_HEADS_MAX + 1; i++) {
        memset(many[i].origin.b, 0, CS_NODE_ID_BYTES);
        many[i].origin.b[0] = (uint8_t)(i >> 8);
        many[i].origin.b[1] = (uint8_t)i;
        many[i].seq = UINT64_MAX; /* the longest encoding of a head */
    }
    CS_CHECK_INT(cs_msg_hello_encode(&w, &he, many, CS_HEADS_MAX + 1),
                 CS_ERR_TOO_BIG);
    /* CS_HEADS_MAX heads do not fit a frame; find how many do. */
    CS_CHECK_INT(cs_msg_hello_encode(&w, &he, many, CS_HEADS_MAX),
                 CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 1); /* nothing appended so far */
    he.minor = UINT64_MAX;
    he.schema = UINT64_MAX;
    for (size_t n = 1; n < CS_HEADS_MAX; n++) {
        struct cs_writer t;
        cs_writer_init(&t, BIG);
        int r = cs_msg_hello_encode(&t, &he, many, n);
        cs_writer_free(&t);
        if (r != 0)
            break;
        fit = n;
    }
    /* PROTOCOL.md: a frame holds at least 279 heads. */
    CS_CHECK_INT(fit, 279);

    struct cs_chunk c = {.total = 10, .offset = 5};
    c.data.p = (const uint8_t *)"0123456";
    c.data.len = 6;
    CS_CHECK_INT(cs_msg_chunk_encode(&w, &c), CS_ERR_INVALID);
    c.total = (uint64_t)CS_ENVELOPE_MAX + 1;
    CS_CHECK_INT(cs_msg_chunk_encode(&w, &c), CS_ERR_TOO_BIG);

    struct cs_msg_batch ba = {{NULL, 0}};
    CS_CHECK_INT(cs_msg_batch_encode(&w, &ba), CS_ERR_INVALID);
    ba.envelope.p = many[0].hash;
    ba.envelope.len = CS_MSG_BATCH_MAX + 1;
    CS_CHECK_INT(cs_msg_batch_encode(&w, &ba), CS_ERR_TOO_BIG);

    struct cs_msg_refused rf = {.seq = 1};
    struct cs_msg_refusal f = {view("cig"), view("r"), view(""), -1,
                               view("ok")};
    CS_CHECK_INT(cs_msg_refused_encode(&w, &rf, &f, 0), CS_ERR_INVALID);
    CS_CHECK_INT(cs_msg_refused_encode(&w, &rf, &f, CS_REFUSED_MAX + 1),
                 CS_ERR_TOO_BIG);
    f.code = 0;
    CS_CHECK_INT(cs_msg_refused_encode(&w, &rf, &f, 1), CS_ERR_INVALID);
    f.code = -1;
    f.reason = view("\xff");
    CS_CHECK_INT(cs_msg_refused_encode(&w, &rf, &f, 1), CS_ERR_INVALID);
    rf.seq = 0;
    f.reason = view("ok");
    CS_CHECK_INT(cs_msg_refused_encode(&w, &rf, &f, 1), CS_ERR_INVALID);

    struct cs_msg_error er = {0, view("code 0")};
    CS_CHECK_INT(cs_msg_error_encode(&w, &er), CS_ERR_INVALID);
    char long_text[CS_MESSAGE_TEXT_MAX + 2];
    memset(long_text, 'y', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    er.code = CS_ERR_FORMAT;
    er.message = view(long_text);
    CS_CHECK_INT(cs_msg_error_encode(&w, &er), CS_ERR_TOO_BIG);
    a.has_resume = true;
    a.offset = (uint64_t)CS_ENVELOPE_MAX + 1;
    CS_CHECK_INT(cs_msg_ack_encode(&w, &a, NULL, 0), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 1); /* still nothing appended */
    cs_writer_free(&w);

    /* A writer that cannot take the frame is left in error. */
    struct cs_msg_ping pg = {1u << 30};
    cs_writer_init(&w, 3);
    CS_CHECK_INT(cs_msg_ping_encode(&w, &pg), CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_status(&w), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
    free(many);
}

/* The audit log's messages (1.1) round-trip, and what the spec forbids is
   refused both ways: a proof of more than 64 hashes, a receipt whose leaf
   is not in its tree, a LOG piece outside its archive. */
static void
test_audit_messages(void)
{
    struct cs_writer w;
    struct cs_msg m;
    struct cs_msg_tree t;
    struct cs_msg_receipt rc;
    struct cs_msg_log lg;
    struct cs_msg_since since = {42};
    struct cs_msg_log_get get = {7};
    static const uint8_t leaf[3] = {0x91, 0x01, 0x02};

    cs_writer_init(&w, CS_FRAME_MAX);
    memset(&t, 0, sizeof t);
    t.size = 9;
    t.time_ms = 1795000000000;
    t.root[0] = 0xaa;
    t.sig[63] = 0xbb;
    t.from = 4;
    t.proof.n = 3;
    t.proof.h[2][31] = 0xcc;
    CS_CHECK_INT(cs_msg_tree_encode(&w, &t), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK_INT(m.type, CS_MSG_TREE);
    CS_CHECK(m.u.tree.size == 9 && m.u.tree.from == 4 &&
             m.u.tree.proof.n == 3 && m.u.tree.proof.h[2][31] == 0xcc &&
             m.u.tree.root[0] == 0xaa && m.u.tree.sig[63] == 0xbb &&
             m.u.tree.time_ms == 1795000000000);
    cs_writer_reset(&w);
    t.from = 10; /* beyond the head */
    CS_CHECK_INT(cs_msg_tree_encode(&w, &t), CS_ERR_INVALID);
    t.from = 4;
    t.proof.n = CS_MERKLE_PROOF_MAX + 1;
    CS_CHECK_INT(cs_msg_tree_encode(&w, &t), CS_ERR_TOO_BIG);
    cs_writer_reset(&w);

    memset(&rc, 0, sizeof rc);
    rc.leaf.p = leaf;
    rc.leaf.len = sizeof leaf;
    rc.index = 3;
    rc.size = 4;
    rc.proof.n = 2;
    CS_CHECK_INT(cs_msg_receipt_encode(&w, &rc), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK(m.type == CS_MSG_RECEIPT && m.u.receipt.index == 3 &&
             m.u.receipt.size == 4 && m.u.receipt.leaf.len == sizeof leaf &&
             m.u.receipt.proof.n == 2);
    cs_writer_reset(&w);
    rc.index = 4;
    CS_CHECK_INT(cs_msg_receipt_encode(&w, &rc), CS_ERR_INVALID);
    cs_writer_reset(&w);

    memset(&lg, 0, sizeof lg);
    lg.offset = 10;
    lg.total = 13;
    lg.data.p = leaf;
    lg.data.len = sizeof leaf;
    CS_CHECK_INT(cs_msg_log_encode(&w, &lg), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK(m.type == CS_MSG_LOG && m.u.log.offset == 10 &&
             m.u.log.total == 13 && m.u.log.data.len == 3);
    cs_writer_reset(&w);
    lg.total = 12; /* the piece would end past the archive */
    CS_CHECK_INT(cs_msg_log_encode(&w, &lg), CS_ERR_INVALID);
    cs_writer_reset(&w);

    CS_CHECK_INT(cs_msg_since_encode(&w, &since), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK(m.type == CS_MSG_SINCE && m.u.since.size == 42);
    cs_writer_reset(&w);
    CS_CHECK_INT(cs_msg_log_get_encode(&w, &get), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK(m.type == CS_MSG_LOG_GET && m.u.log_get.offset == 7);
    cs_writer_reset(&w);

    /* Decoder side of the same rules: [13, leaf, 4, 4, []] and a LOG
       piece past its end. */
    {
        static const uint8_t bad_receipt[] = {0x95, 0x0d, 0xc4, 0x01,
                                              0x00, 0x04, 0x04, 0x90};
        static const uint8_t bad_log[] = {0x94, 0x0f, 0x05, 0x06,
                                          0xc4, 0x02, 0x00, 0x00};
        CS_CHECK_INT(cs_msg_decode(bad_receipt, sizeof bad_receipt, &m),
                     CS_ERR_FORMAT);
        CS_CHECK_INT(cs_msg_decode(bad_log, sizeof bad_log, &m), CS_ERR_FORMAT);
    }
    cs_writer_free(&w);
}

static const struct cs_test_case cases[] = {
    {"audit_messages", test_audit_messages},
    {"vectors", test_vectors},
    {"bad_vectors", test_bad_vectors},
    {"round_trip", test_round_trip},
    {"truncated_and_trailing", test_truncated_and_trailing},
    {"wrong_types", test_wrong_types},
    {"appended_elements", test_appended_elements},
    {"forbidden_values", test_forbidden_values},
    {"oversized", test_oversized},
    {"unknown_types", test_unknown_types},
    {"version", test_version},
    {"encoders_refuse", test_encoders_refuse},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
