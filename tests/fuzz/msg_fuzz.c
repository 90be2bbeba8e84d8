/*  tests/fuzz/msg_fuzz.c - libFuzzer target for proto/msg.c.
 *
 *  Targets: cs_msg_decode(), the list iterators cs_msg_iter_pull_head()
 *  and cs_msg_iter_pull_refusal(), every cs_msg_*_encode() and
 *  cs_msg_check_version().  Arbitrary bytes are decoded; whatever decodes
 *  is re-encoded with the encoders, which must accept it (an encoder never
 *  refuses what the decoder accepts), decoded again, and re-encoded again:
 *  the two encodings must be the same bytes.  A refused frame must leave
 *  the message zeroed, except another major's HELLO, which keeps only its
 *  version.  Any breach abort()s.  Deterministic: no clock, no randomness.
 *  Seed corpus: tests/fuzz/corpus/msg/ (every msg-*.vec vector and damaged
 *  copies).
 */
#include "proto_prelude.h"

#include "err.h"
#include "msg.h"
#include "writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool cond)
{
    if (!cond)
        abort();
}

/* Pulls every head of l into a new array (the caller frees it). */
static struct cs_msg_head *
heads_of(const struct cs_msg_list *l)
{
    struct cs_msg_head *hs = calloc(l->n + 1, sizeof *hs);
    struct cs_msg_head extra;
    struct cs_msg_iter it;

    require(hs != NULL);
    cs_msg_iter_init(&it, l);
    for (size_t i = 0; i < l->n; i++)
        require(cs_msg_iter_pull_head(&it, &hs[i]) == 0);
    require(cs_msg_iter_pull_head(&it, &extra) == CS_ERR_NOT_FOUND);
    return hs;
}

/* Pulls every refusal of l into a new array (the caller frees it). */
static struct cs_msg_refusal *
refusals_of(const struct cs_msg_list *l)
{
    struct cs_msg_refusal *fs = calloc(l->n + 1, sizeof *fs);
    struct cs_msg_refusal extra;
    struct cs_msg_iter it;

    require(fs != NULL);
    cs_msg_iter_init(&it, l);
    for (size_t i = 0; i < l->n; i++)
        require(cs_msg_iter_pull_refusal(&it, &fs[i]) == 0);
    require(cs_msg_iter_pull_refusal(&it, &extra) == CS_ERR_NOT_FOUND);
    return fs;
}

/* Encodes m into w with its encoder; returns the encoder's result. */
static int
encode(const struct cs_msg *m, struct cs_writer *w)
{
    struct cs_msg_head *hs = NULL;
    struct cs_msg_refusal *fs = NULL;
    int r;

    switch (m->type) {
    case CS_MSG_HELLO:
        hs = heads_of(&m->u.hello.heads);
        r = cs_msg_hello_encode(w, &m->u.hello, hs, m->u.hello.heads.n);
        break;
    case CS_MSG_STATUS:
        hs = heads_of(&m->u.status.heads);
        r = cs_msg_status_encode(w, &m->u.status, hs, m->u.status.heads.n);
        break;
    case CS_MSG_BATCH:
        r = cs_msg_batch_encode(w, &m->u.batch);
        break;
    case CS_MSG_CHUNK:
        r = cs_msg_chunk_encode(w, &m->u.chunk);
        break;
    case CS_MSG_ACK:
        hs = heads_of(&m->u.ack.heads);
        r = cs_msg_ack_encode(w, &m->u.ack, hs, m->u.ack.heads.n);
        break;
    case CS_MSG_CREDIT:
        r = cs_msg_credit_encode(w, &m->u.credit);
        break;
    case CS_MSG_REFUSED:
        fs = refusals_of(&m->u.refused.refusals);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_msg m, m2, zero;
    struct cs_writer w1, w2;
    char text[CS_MSG_VERSION_TEXT_MAX];
    int r;

    memset(&zero, 0, sizeof zero);
    r = cs_msg_decode(data, size, &m);
    if (r != 0) {
        if (m.type == CS_MSG_HELLO) {
            /* Another major's HELLO: only the version is kept. */
            require(r == CS_ERR_VERSION);
            require(cs_msg_check_version(m.u.hello.major, m.u.hello.minor, text,
                                         sizeof text) == CS_ERR_VERSION &&
                    text[0] != '\0');
            m.u.hello.major = 0;
            m.u.hello.minor = 0;
            m.type = 0;
        }
        require(memcmp(&m, &zero, sizeof m) == 0);
        return 0;
    }
    require(size <= CS_FRAME_MAX);
    cs_writer_init(&w1, CS_FRAME_MAX);
    cs_writer_init(&w2, CS_FRAME_MAX);
    require(encode(&m, &w1) == 0);
    require(cs_writer_len(&w1) <= size); /* smallest encodings, no extras */
    require(cs_msg_decode(cs_writer_data(&w1), cs_writer_len(&w1), &m2) == 0);
    require(m2.type == m.type);
    require(encode(&m2, &w2) == 0);
    require(cs_writer_len(&w1) == cs_writer_len(&w2) &&
            memcmp(cs_writer_data(&w1), cs_writer_data(&w2),
                   cs_writer_len(&w1)) == 0);
    cs_writer_free(&w1);
    cs_writer_free(&w2);
    return 0;
}
