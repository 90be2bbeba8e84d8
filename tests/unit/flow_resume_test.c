/*  tests/unit/flow_resume_test.c - a chunk the receiver drops mid-session
 *  (proto/flow.c): the receiver asks at once, with an ACK's resume point,
 *  for the sender to go on where it holds the envelope, and the envelope
 *  still arrives whole, without waiting for a new session.
 */
#include "proto_prelude.h"

#include "err.h"
#include "flow.h"
#include "mem.h"
#include "msg.h"
#include "test.h"
#include "writer.h"

#define ENV_LEN (3 * CS_CHUNK_DATA_MAX + 100) /* four chunks */

/* Sends the sender's next frame, decoded, into *m (frame kept in w). */
static bool
s_next(struct cs_flow_out *o, struct cs_writer *w, struct cs_msg *m)
{
    bool sent = false;

    cs_writer_reset(w);
    if (cs_flow_out_next(o, w, &sent) != 0 || !sent)
        return false;
    return cs_msg_decode(cs_writer_data(w), cs_writer_len(w), m) == 0;
}

/* Passes an ACK with the receiver's resume point to the sender. */
static void
s_ack(struct cs_flow_in *in, struct cs_flow_out *o)
{
    struct cs_msg_ack a;
    struct cs_writer w;
    struct cs_msg m;

    memset(&a, 0, sizeof a);
    cs_flow_in_resume(in, &a);
    cs_writer_init(&w, CS_FRAME_MAX);
    CS_REQUIRE(cs_msg_ack_encode(&w, &a, NULL, 0) == 0);
    CS_REQUIRE(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m) == 0);
    CS_CHECK(m.u.ack.has_resume);
    cs_flow_out_resume(o, &m.u.ack.envelope, m.u.ack.offset);
    cs_writer_free(&w);
}

static void
test_dropped_chunk_resumes_at_once(void)
{
    struct cs_flow_out o;
    struct cs_flow_in in;
    struct cs_writer w;
    struct cs_msg m;
    struct cs_msg_credit g;
    uint8_t *env = cs_xmalloc(ENV_LEN), *got = NULL;
    size_t got_len = 0, k = 0;

    for (size_t i = 0; i < ENV_LEN; i++)
        env[i] = (uint8_t)(i * 31 + 7);
    cs_flow_out_init(&o);
    cs_flow_in_init(&in, CS_ENVELOPE_MAX);
    cs_writer_init(&w, CS_FRAME_MAX);
    cs_flow_out_session(&o, 0);
    cs_flow_out_credit(&o, CS_FLOW_WINDOW_BYTES, CS_FLOW_WINDOW_BATCHES);
    CS_REQUIRE(cs_flow_out_wants(&o) == 1);
    {
        uint8_t *copy = cs_xmalloc(ENV_LEN);
        memcpy(copy, env, ENV_LEN);
        cs_flow_out_load(&o, 1, copy, ENV_LEN);
    }
    /* Chunk 0 arrives; chunk 1 is lost on the way; chunk 2 arrives. */
    for (int step = 0; step < 64 && got == NULL; step++) {
        uint8_t *e = NULL;
        size_t len = 0;
        if (!s_next(&o, &w, &m))
            break;
        CS_REQUIRE(m.type == CS_MSG_CHUNK);
        if (k++ == 1) {
            /* lost: its credit never comes back, so grant it here as a
               receiver does not; the next chunk then leaves a gap */
            cs_flow_out_credit(&o, m.u.chunk.data.len, 0);
            continue;
        }
        CS_REQUIRE(cs_flow_in_push(&in, &m, &e, &len, &g) == 0);
        cs_flow_out_credit(&o, g.bytes, g.batches);
        if (cs_flow_in_resume_pending(&in)) {
            s_ack(&in, &o);
            cs_flow_in_resume_sent(&in);
        }
        if (e != NULL) {
            got = e;
            got_len = len;
        }
    }
    CS_CHECK(got != NULL);
    CS_CHECK_INT(got_len, ENV_LEN);
    CS_CHECK(got != NULL && memcmp(got, env, ENV_LEN) == 0);
    /* Sent again: the lost chunk and the one that met the gap, no more. */
    CS_CHECK(o.bytes_resent <= 2 * CS_CHUNK_DATA_MAX);
    CS_CHECK(o.bytes_resent >= CS_CHUNK_DATA_MAX);
    free(got);
    free(env);
    cs_writer_free(&w);
    cs_flow_in_free(&in);
    cs_flow_out_free(&o);
}

static const struct cs_test_case cases[] = {
    {"dropped_chunk_resumes_at_once", test_dropped_chunk_resumes_at_once},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
