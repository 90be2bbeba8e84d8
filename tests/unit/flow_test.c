/*  tests/unit/flow_test.c - tests of proto/flow.c.
 *
 *  A sender (struct cs_flow_out) and a receiver (struct cs_flow_in) joined
 *  by a simulated link, without sockets: every BATCH and CHUNK the sender
 *  writes, and every CREDIT and ACK the receiver answers with, is encoded
 *  and passed through cs_msg_decode() on the way; the link can lose the
 *  frames in flight and start a new session.  Envelopes are random bytes
 *  (flow does not open them).  Checked, as a user of a slow, dropping link
 *  would care: envelopes arrive whole, in order, once; nothing is sent
 *  without credit, and never more than CS_FLOW_WINDOW_BYTES of envelope
 *  data or CS_FLOW_WINDOW_BATCHES envelopes are in flight; small envelopes
 *  go as BATCH, several at a time, large ones as CHUNKs, the next envelope
 *  waiting for the large one's ACK; after a dropped link the sender goes on
 *  at the receiver's resume point and resends at most the chunk that was
 *  lost, and its bytes_resent says so; a receiver that lost its state, or
 *  a sender that sealed the batch again, still ends with one whole
 *  envelope, never a mix; acknowledgements never go back and credit
 *  saturates instead of wrapping.
 */
#include "proto_prelude.h"

#include "err.h"
#include "flow.h"
#include "mem.h"
#include "msg.h"
#include "test.h"
#include "writer.h"

#define D CS_CHUNK_DATA_MAX         /* bytes per chunk */
#define WINDOW CS_FLOW_WINDOW_BYTES /* envelope bytes a receiver grants */
#define FEED_MAX 64                 /* envelopes in one test feed */
#define QUEUE_MAX 64                /* frames on the link at once */
#define STEPS_MAX 100000            /* bound on any delivery loop */
#define BIG 100000                  /* a large envelope: 7 chunks */

/* ---- random bytes -------------------------------------------------------- */

static uint64_t rng; /* splitmix64 state; each case seeds it */

static uint64_t
rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Returns a number in [lo, hi]. */
static size_t
rnd_in(size_t lo, size_t hi)
{
    return lo + (size_t)(rnd() % (hi - lo + 1));
}

/* Returns n random bytes (malloc'd, never NULL). */
static uint8_t *
random_bytes(size_t n)
{
    uint8_t *p = cs_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
    return p;
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *q = cs_xmalloc(n + 1);
    memcpy(q, p, n);
    return q;
}

/* ---- the link ------------------------------------------------------------ */

/* One message on the link, sender to receiver. */
struct frame {
    uint8_t *p;      /* the encoded BATCH or CHUNK */
    size_t len;      /* its length */
    size_t data;     /* envelope bytes it carries */
    bool ends;       /* it ends an envelope (a BATCH, or a last CHUNK) */
    bool chunk;      /* it is a CHUNK */
    uint64_t offset; /* a CHUNK's offset */
};

/* A sender, a receiver, the feed of envelopes and what is on the link. */
struct link {
    struct cs_flow_out out;    /* the sender */
    struct cs_flow_in in;      /* the receiver */
    struct cs_writer w;        /* the frame being written */
    uint8_t *feed[FEED_MAX];   /* envelope of batch seq i + 1, owned */
    size_t feed_len[FEED_MAX]; /* its length */
    uint64_t feed_n;           /* envelopes in the feed */
    struct frame q[QUEUE_MAX]; /* frames on the link, oldest first */
    size_t q_n;                /* their number */
    uint8_t *got[FEED_MAX];    /* envelopes the receiver handed over */
    size_t got_len[FEED_MAX];  /* their lengths */
    uint64_t got_n;            /* their number: the receiver's head */
    bool auto_ack;             /* ACK each envelope once handed over */
    uint64_t granted_bytes;    /* credit granted this session */
    uint64_t granted_batches;  /* ... in envelopes */
    uint64_t sent_bytes;       /* envelope bytes sent this session */
    uint64_t sent_ends;        /* envelopes ended this session */
    size_t max_frames;         /* most frames ever on the link at once */
    uint64_t max_data;         /* most envelope bytes ever on the link */
    uint64_t max_ends;         /* most envelope ends ever on the link */
    uint64_t wire;             /* envelope bytes sent, all sessions */
    uint64_t batches;          /* BATCH frames sent */
    uint64_t chunks;           /* CHUNK frames sent */
    uint64_t session_frames;   /* frames sent this session */
    bool first_seen;           /* a frame was sent this session */
    uint64_t first_offset;     /* the first frame's offset this session
                                  (0 for a BATCH) */
};

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Sends CREDIT, receiver to sender. */
static void
give_credit(struct link *l, uint64_t bytes, uint64_t batches)
{
    struct cs_msg_credit c = {.bytes = bytes, .batches = batches};
    struct cs_writer w;
    struct cs_msg m;

    cs_writer_init(&w, CS_FRAME_MAX);
    CS_CHECK_INT(cs_msg_credit_encode(&w, &c), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK_INT(m.type, CS_MSG_CREDIT);
    if (m.type == CS_MSG_CREDIT) {
        cs_flow_out_credit(&l->out, m.u.credit.bytes, m.u.credit.batches);
        l->granted_bytes = add_sat(l->granted_bytes, m.u.credit.bytes);
        l->granted_batches = add_sat(l->granted_batches, m.u.credit.batches);
    }
    cs_writer_free(&w);
}

/* Sends ACK, receiver to sender: batches up to seq are committed, and the
   receiver's resume point. */
static void
send_ack(struct link *l, uint64_t seq)
{
    struct cs_msg_ack a;
    struct cs_writer w;
    struct cs_msg m;

    memset(&a, 0, sizeof a);
    cs_flow_in_resume(&l->in, &a);
    cs_writer_init(&w, CS_FRAME_MAX);
    CS_CHECK_INT(cs_msg_ack_encode(&w, &a, NULL, 0), 0);
    CS_CHECK_INT(cs_msg_decode(cs_writer_data(&w), cs_writer_len(&w), &m), 0);
    CS_CHECK_INT(m.type, CS_MSG_ACK);
    cs_flow_out_ack(&l->out, seq);
    if (m.type == CS_MSG_ACK && m.u.ack.has_resume)
        cs_flow_out_resume(&l->out, &m.u.ack.envelope, m.u.ack.offset);
    cs_writer_free(&w);
}

/* Loses every frame on the link. */
static void
lose_all(struct link *l)
{
    for (size_t i = 0; i < l->q_n; i++)
        free(l->q[i].p);
    l->q_n = 0;
}

/* The link comes (back) up: frames in flight are lost; the sender learns
   the receiver's head (HELLO) and resume point (ACK) and gets a window of
   credit. */
static void
new_session(struct link *l)
{
    lose_all(l);
    cs_flow_out_session(&l->out, l->got_n);
    l->granted_bytes = l->granted_batches = 0;
    l->sent_bytes = l->sent_ends = 0;
    l->session_frames = 0;
    l->first_seen = false;
    send_ack(l, l->got_n);
    give_credit(l, WINDOW, CS_FLOW_WINDOW_BATCHES);
}

/* Sets up a link over a feed of n random envelopes of the given sizes;
   no session yet. */
static void
link_init(struct link *l, const size_t *sizes, size_t n)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < n && i < FEED_MAX; i++) {
        l->feed[i] = random_bytes(sizes[i]);
        l->feed_len[i] = sizes[i];
    }
    l->feed_n = n;
    l->auto_ack = true;
    cs_flow_out_init(&l->out);
    cs_flow_in_init(&l->in, CS_ENVELOPE_MAX);
    cs_writer_init(&l->w, CS_FRAME_MAX);
}

static void
link_free(struct link *l)
{
    lose_all(l);
    for (uint64_t i = 0; i < l->feed_n; i++)
        free(l->feed[i]);
    for (uint64_t i = 0; i < l->got_n; i++)
        free(l->got[i]);
    cs_flow_out_free(&l->out);
    cs_flow_in_free(&l->in);
    cs_writer_free(&l->w);
}

/* Takes the frame the sender just wrote onto the link. */
static void
s_enqueue(struct link *l)
{
    struct frame f;
    struct cs_msg m;
    uint64_t data = 0, ends = 0;

    memset(&f, 0, sizeof f);
    f.len = cs_writer_len(&l->w);
    f.p = dup_bytes(cs_writer_data(&l->w), f.len);
    cs_writer_reset(&l->w);
    CS_CHECK_INT(cs_msg_decode(f.p, f.len, &m), 0);
    if (m.type == CS_MSG_BATCH) {
        f.data = m.u.batch.envelope.len;
        f.ends = true;
        l->batches++;
    } else if (m.type == CS_MSG_CHUNK) {
        f.data = m.u.chunk.data.len;
        f.offset = m.u.chunk.offset;
        f.chunk = true;
        f.ends = m.u.chunk.offset + m.u.chunk.data.len == m.u.chunk.total;
        CS_CHECK(f.data <= D);
        l->chunks++;
    } else {
        CS_CHECK(!"the sender wrote neither BATCH nor CHUNK");
    }
    if (!l->first_seen)
        l->first_offset = f.offset;
    l->first_seen = true;
    l->session_frames++;
    l->sent_bytes += f.data;
    l->sent_ends += f.ends;
    l->wire += f.data;
    /* Flow control, as the receiver sees it. */
    CS_CHECK(l->sent_bytes <= l->granted_bytes);
    CS_CHECK(l->sent_ends <= l->granted_batches);
    if (l->q_n == QUEUE_MAX) {
        CS_CHECK(!"more frames in flight than the test's queue");
        free(f.p);
        return;
    }
    l->q[l->q_n++] = f;
    for (size_t i = 0; i < l->q_n; i++) {
        data += l->q[i].data;
        ends += l->q[i].ends;
    }
    if (l->q_n > l->max_frames)
        l->max_frames = l->q_n;
    if (data > l->max_data)
        l->max_data = data;
    if (ends > l->max_ends)
        l->max_ends = ends;
}

/* Lets the sender send all its credit allows; returns the frames sent. */
static size_t
pump(struct link *l)
{
    size_t n = 0;

    for (;;) {
        uint64_t seq = cs_flow_out_wants(&l->out);
        bool sent = false;

        if (seq != 0 && seq <= l->feed_n)
            cs_flow_out_load(&l->out, seq,
                             dup_bytes(l->feed[seq - 1], l->feed_len[seq - 1]),
                             l->feed_len[seq - 1]);
        CS_CHECK_INT(cs_flow_out_next(&l->out, &l->w, &sent), 0);
        if (!sent)
            return n;
        s_enqueue(l);
        n++;
    }
}

/* Delivers the oldest frame on the link to the receiver, which commits a
   complete envelope (and ACKs it if auto_ack) and grants credit back. */
static void
deliver(struct link *l)
{
    struct frame f;
    struct cs_msg m;
    struct cs_msg_credit grant;
    uint8_t *env = NULL;
    size_t len = 0;

    if (l->q_n == 0)
        return;
    f = l->q[0];
    memmove(l->q, l->q + 1, (l->q_n - 1) * sizeof l->q[0]);
    l->q_n--;
    CS_CHECK_INT(cs_msg_decode(f.p, f.len, &m), 0);
    CS_CHECK_INT(cs_flow_in_push(&l->in, &m, &env, &len, &grant), 0);
    if (env != NULL && l->got_n < FEED_MAX) {
        l->got[l->got_n] = env;
        l->got_len[l->got_n] = len;
        l->got_n++;
        if (l->auto_ack)
            send_ack(l, l->got_n);
    } else if (env != NULL) {
        CS_CHECK(!"more envelopes than the feed holds");
        free(env);
    }
    if (grant.bytes > 0 || grant.batches > 0)
        give_credit(l, grant.bytes, grant.batches);
    free(f.p);
}

/* Pumps and delivers until nothing moves. */
static void
run(struct link *l)
{
    for (int i = 0; i < STEPS_MAX; i++) {
        pump(l);
        if (l->q_n == 0)
            return;
        deliver(l);
    }
    CS_CHECK(!"the link never went quiet");
}

/* The receiver holds exactly the feed's first n envelopes, in order. */
static void
check_got(const struct link *l, uint64_t n)
{
    CS_CHECK_INT(l->got_n, n);
    for (uint64_t i = 0; i < n && i < l->got_n; i++) {
        CS_CHECK_INT(l->got_len[i], l->feed_len[i]);
        CS_CHECK(l->got_len[i] == l->feed_len[i] &&
                 memcmp(l->got[i], l->feed[i], l->feed_len[i]) == 0);
    }
}

/* ---- (a) small envelopes ------------------------------------------------- */

static void
test_small_batches(void)
{
    size_t sizes[40];
    struct link l;

    rng = 1;
    for (size_t i = 0; i < 40; i++)
        sizes[i] = rnd_in(1, 4000);
    sizes[7] = CS_MSG_BATCH_MAX; /* the largest that goes whole */
    sizes[8] = 1;
    link_init(&l, sizes, 40);
    cs_flow_out_session(&l.out, 0);

    /* Nothing without credit: none, envelopes but no bytes, then bytes
       for only three envelopes. */
    CS_CHECK_INT(pump(&l), 0);
    give_credit(&l, 0, 3);
    CS_CHECK_INT(pump(&l), 0);
    give_credit(&l, WINDOW, 0);
    CS_CHECK_INT(pump(&l), 3); /* the first three fit 16 KiB */
    CS_CHECK_INT(l.q_n, 3);    /* several in flight at once */
    CS_CHECK_INT(pump(&l), 0); /* and no fourth */

    run(&l);
    check_got(&l, 40);
    CS_CHECK_INT(l.batches, 40); /* each whole, each once */
    CS_CHECK_INT(l.chunks, 0);
    CS_CHECK(l.max_frames >= 2);
    CS_CHECK(l.max_data <= WINDOW);
    CS_CHECK(l.max_ends <= CS_FLOW_WINDOW_BATCHES);
    CS_CHECK_INT(l.out.bytes_resent, 0);
    CS_CHECK(cs_flow_out_idle(&l.out, 40));
    link_free(&l);

    /* An envelope loaded but not sent when the link dropped waits, at the
       new session, for both kinds of credit again. */
    link_init(&l, sizes, 40);
    cs_flow_out_session(&l.out, 0);
    give_credit(&l, 1, 1);
    CS_CHECK_INT(pump(&l), 0); /* loaded; one byte is not enough */
    cs_flow_out_session(&l.out, 0);
    give_credit(&l, WINDOW, 0);
    CS_CHECK_INT(pump(&l), 0);
    give_credit(&l, 0, 1);
    CS_CHECK_INT(pump(&l), 1);
    link_free(&l);

    /* With ample byte credit, the envelope count still limits. */
    for (size_t i = 0; i < 40; i++)
        sizes[i] = 10;
    link_init(&l, sizes, 40);
    cs_flow_out_session(&l.out, 0);
    give_credit(&l, 1u << 20, CS_FLOW_WINDOW_BATCHES);
    CS_CHECK_INT(pump(&l), CS_FLOW_WINDOW_BATCHES);
    CS_CHECK_INT(pump(&l), 0);
    run(&l);
    check_got(&l, 40);
    CS_CHECK(l.max_ends <= CS_FLOW_WINDOW_BATCHES);
    link_free(&l);
}

/* ---- (b) a large envelope ------------------------------------------------ */

static void
test_large_chunked(void)
{
    const size_t sizes[] = {3000, BIG, 500, CS_MSG_BATCH_MAX + 1};
    struct link l;

    rng = 2;
    link_init(&l, sizes, 4);
    l.auto_ack = false;
    new_session(&l);
    CS_CHECK_INT(pump(&l), 1); /* the small one, as BATCH */
    CS_CHECK_INT(l.batches, 1);
    deliver(&l);
    check_got(&l, 1);
    send_ack(&l, 1);

    /* The large one, as chunks, never more than the window in flight. */
    for (int i = 0; i < STEPS_MAX && l.got_n < 2; i++) {
        pump(&l);
        CS_REQUIRE(l.q_n > 0);
        deliver(&l);
    }
    check_got(&l, 2);
    CS_CHECK_INT(l.batches, 1);
    CS_CHECK_INT(l.chunks, (BIG + D - 1) / D);
    CS_CHECK_INT(l.wire, 3000 + BIG); /* no byte twice */
    CS_CHECK(l.max_data <= WINDOW);
    CS_CHECK_INT(l.out.bytes_resent, 0);

    /* Until it is acknowledged, the next envelope waits, whatever the
       credit. */
    give_credit(&l, 1u << 20, 100);
    CS_CHECK_INT(pump(&l), 0);
    CS_CHECK(!cs_flow_out_idle(&l.out, 2));
    send_ack(&l, 2);
    CS_CHECK(pump(&l) >= 1);
    CS_REQUIRE(l.q_n >= 1);
    CS_CHECK(!l.q[0].chunk); /* the small one next, as BATCH */
    CS_CHECK_INT(l.batches, 2);
    /* Then one byte over CS_MSG_BATCH_MAX: two chunks. */
    l.auto_ack = true;
    deliver(&l);
    run(&l);
    check_got(&l, 4);
    CS_CHECK_INT(l.chunks, (BIG + D - 1) / D + 2);
    link_free(&l);

    /* A chunk needs byte credit; the one that ends an envelope needs an
       envelope's credit too (PROTOCOL.md CREDIT). */
    const size_t two[] = {2 * D};
    link_init(&l, two, 1);
    cs_flow_out_session(&l.out, 0);
    give_credit(&l, 1, 1);
    CS_CHECK_INT(pump(&l), 0); /* loaded, not started */
    cs_flow_out_session(&l.out, 0);
    give_credit(&l, 4 * D, 0);
    CS_CHECK_INT(pump(&l), 1);
    give_credit(&l, 0, 1);
    CS_CHECK_INT(pump(&l), 1);
    run(&l);
    check_got(&l, 1);
    link_free(&l);
}

/* A chunked envelope is the only one in flight: its chunks never share
   the link with another envelope's frames, before or after it. */
static void
test_chunked_alone(void)
{
    const size_t sizes[] = {3000, BIG, 200, 300, 2 * D + 5, 40};
    struct link l;

    rng = 3;
    link_init(&l, sizes, 6);
    new_session(&l);
    for (int i = 0; i < STEPS_MAX && l.got_n < 6; i++) {
        size_t chunks = 0;
        pump(&l);
        for (size_t j = 0; j < l.q_n; j++)
            chunks += l.q[j].chunk;
        CS_CHECK(chunks == 0 || chunks == l.q_n);
        CS_CHECK(chunks <= 1); /* the window is one chunk */
        CS_REQUIRE(l.q_n > 0);
        deliver(&l);
    }
    check_got(&l, 6);
    CS_CHECK(l.max_data <= WINDOW);
    link_free(&l);
}

/* ---- (c) a dropped link -------------------------------------------------- */

/* Delivers k chunks of one large envelope, loses the one in flight, and
   goes on in a new session. */
static void
drop_after(size_t k)
{
    const size_t sizes[] = {BIG};
    const size_t n_chunks = (BIG + D - 1) / D;
    struct cs_msg_ack a;
    struct link l;

    rng = 10 + k;
    link_init(&l, sizes, 1);
    new_session(&l);
    for (size_t i = 0; i < k; i++) {
        CS_CHECK_INT(pump(&l), 1); /* one chunk fills the window */
        deliver(&l);
    }
    pump(&l);
    CS_CHECK_INT(l.q_n, k < n_chunks ? 1 : 0);
    memset(&a, 0, sizeof a);
    cs_flow_in_resume(&l.in, &a);
    CS_CHECK(a.has_resume == (k > 0 && k < n_chunks));
    CS_CHECK_INT(a.offset, k < n_chunks ? k * D : 0);

    new_session(&l); /* loses the chunk in flight */
    run(&l);
    check_got(&l, 1);
    CS_CHECK(l.max_data <= WINDOW);
    if (k < n_chunks) {
        /* Resumed where the receiver stood: only the lost chunk again. */
        CS_CHECK_INT(l.first_offset, k * D);
        CS_CHECK(l.out.bytes_resent <= D);
        CS_CHECK_INT(l.out.bytes_resent, BIG - k * D < D ? BIG - k * D : D);
        CS_CHECK(l.wire <= (uint64_t)BIG + D);
    } else {
        /* Whole and acknowledged: nothing is sent again. */
        CS_CHECK_INT(l.session_frames, 0);
        CS_CHECK_INT(l.out.bytes_resent, 0);
        CS_CHECK_INT(l.wire, BIG);
    }
    link_free(&l);
}

static void
test_resume_after_drop(void)
{
    for (size_t k = 0; k <= (BIG + D - 1) / D; k++)
        drop_after(k);
}

/* Feeds of small and large envelopes over a link that drops at random:
   everything arrives once, whole and in order, and each drop costs at most
   the window that was in flight. */
static void
test_random_drops(void)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        size_t sizes[8];
        size_t n, drops = 0;
        uint64_t total = 0;
        struct link l;

        rng = 1000 + seed;
        n = rnd_in(1, 8);
        for (size_t i = 0; i < n; i++) {
            sizes[i] = rnd() % 2 ? rnd_in(1, D) : rnd_in(D + 1, 5 * D);
            total += sizes[i];
        }
        link_init(&l, sizes, n);
        new_session(&l);
        for (int i = 0; i < STEPS_MAX && l.got_n < n; i++) {
            pump(&l);
            if (rnd() % 6 == 0) {
                drops++;
                new_session(&l);
            } else {
                deliver(&l);
            }
        }
        check_got(&l, n);
        CS_CHECK(l.max_data <= WINDOW);
        CS_CHECK(l.out.bytes_resent <= drops * WINDOW);
        CS_CHECK(l.wire <= total + drops * WINDOW);
        if (l.wire > total + drops * WINDOW)
            fprintf(stderr,
                    "seed %" PRIu64 ": %" PRIu64 " bytes sent for %" PRIu64
                    " with %zu drops\n",
                    seed, l.wire, total, drops);
        link_free(&l);
    }
}

/* ---- (d) one side lost its state ----------------------------------------- */

static void
test_receiver_lost_state(void)
{
    const size_t sizes[] = {BIG};
    struct link l;

    rng = 20;
    link_init(&l, sizes, 1);
    new_session(&l);
    for (int i = 0; i < 3; i++) {
        pump(&l);
        deliver(&l);
    }
    /* The receiver restarts with nothing of the envelope. */
    cs_flow_in_free(&l.in);
    cs_flow_in_init(&l.in, CS_ENVELOPE_MAX);
    CS_CHECK(!cs_flow_in_busy(&l.in));
    new_session(&l);
    CS_CHECK(pump(&l) > 0);
    CS_CHECK_INT(l.first_offset, 0);
    run(&l);
    check_got(&l, 1);
    link_free(&l);
}

/* The sender restarts and seals the batch again: other bytes, another id.
   The receiver, holding part of the old envelope, names it in its resume
   point; the sender starts the new one from 0 and the receiver hands over
   the new envelope, not a mix of both. */
static void
test_sender_resealed(void)
{
    const size_t sizes[] = {BIG};
    struct link l;

    rng = 21;
    link_init(&l, sizes, 1);
    new_session(&l);
    for (int i = 0; i < 3; i++) {
        pump(&l);
        deliver(&l);
    }
    CS_CHECK(cs_flow_in_busy(&l.in));
    cs_flow_out_free(&l.out);
    cs_flow_out_init(&l.out);
    free(l.feed[0]);
    l.feed[0] = random_bytes(BIG);
    /* A short session: the new envelope is loaded, nothing of it sent. */
    cs_flow_out_session(&l.out, 0);
    give_credit(&l, 1, 1);
    CS_CHECK_INT(pump(&l), 0);
    /* The next one: the resume point names the old envelope. */
    new_session(&l);
    CS_CHECK(pump(&l) > 0);
    CS_CHECK_INT(l.first_offset, 0);
    run(&l);
    check_got(&l, 1);
    link_free(&l);
}

/* ---- (e) acknowledgements and credit ------------------------------------- */

static void
test_ack_never_back(void)
{
    size_t sizes[10];
    struct link l;

    rng = 30;
    for (size_t i = 0; i < 10; i++)
        sizes[i] = 100;
    link_init(&l, sizes, 10);
    new_session(&l);
    cs_flow_out_ack(&l.out, 5);
    cs_flow_out_ack(&l.out, 3); /* a late, older ACK */
    CS_CHECK_INT(cs_flow_out_wants(&l.out), 6);
    cs_flow_out_session(&l.out, 2); /* a stale head at a new session */
    give_credit(&l, WINDOW, CS_FLOW_WINDOW_BATCHES);
    CS_CHECK_INT(cs_flow_out_wants(&l.out), 6);
    CS_CHECK_INT(pump(&l), 5); /* 6 to 10, nothing acknowledged again */
    CS_CHECK(!cs_flow_out_idle(&l.out, 10));
    cs_flow_out_ack(&l.out, 10);
    cs_flow_out_ack(&l.out, 7);
    CS_CHECK(cs_flow_out_idle(&l.out, 10));
    link_free(&l);

    /* An older ACK does not drop the large envelope being sent. */
    const size_t big[] = {100, BIG};
    link_init(&l, big, 2);
    new_session(&l);
    CS_CHECK_INT(pump(&l), 1);
    deliver(&l); /* auto-ACK of 1 */
    pump(&l);
    deliver(&l); /* the large one's first chunk */
    send_ack(&l, 0);
    run(&l);
    check_got(&l, 2);
    CS_CHECK_INT(l.out.bytes_resent, 0);
    link_free(&l);
}

static void
test_credit_saturates(void)
{
    size_t sizes[40];
    struct link l;

    rng = 31;
    for (size_t i = 0; i < 40; i++)
        sizes[i] = 100;
    link_init(&l, sizes, 40);
    cs_flow_out_session(&l.out, 0);
    /* Wrapping would leave 9 bytes and 3 envelopes: none of these. */
    cs_flow_out_credit(&l.out, UINT64_MAX - 10, UINT64_MAX - 1);
    cs_flow_out_credit(&l.out, 20, 5);
    cs_flow_out_credit(&l.out, UINT64_MAX, UINT64_MAX);
    l.granted_bytes = l.granted_batches = UINT64_MAX;
    CS_CHECK_INT(pump(&l), 40);
    run(&l);
    check_got(&l, 40);
    link_free(&l);
}

/* The receiver takes only BATCH and CHUNK, and grants nothing for others. */
static void
test_receiver_other_types(void)
{
    struct cs_flow_in in;
    struct cs_msg m;
    struct cs_msg_credit grant;
    uint8_t *env = NULL;
    size_t len = 1;

    cs_flow_in_init(&in, CS_ENVELOPE_MAX);
    memset(&m, 0, sizeof m);
    m.type = CS_MSG_CREDIT;
    m.u.credit.bytes = 5;
    CS_CHECK_INT(cs_flow_in_push(&in, &m, &env, &len, &grant), CS_ERR_INVALID);
    CS_CHECK(env == NULL);
    CS_CHECK_INT(len, 0);
    CS_CHECK_INT(grant.bytes, 0);
    CS_CHECK_INT(grant.batches, 0);
    CS_CHECK_INT(in.bytes_in, 0);
    cs_flow_in_free(&in);
}

static const struct cs_test_case cases[] = {
    {"small_batches", test_small_batches},
    {"large_chunked", test_large_chunked},
    {"chunked_alone", test_chunked_alone},
    {"resume_after_drop", test_resume_after_drop},
    {"random_drops", test_random_drops},
    {"receiver_lost_state", test_receiver_lost_state},
    {"sender_resealed", test_sender_resealed},
    {"ack_never_back", test_ack_never_back},
    {"credit_saturates", test_credit_saturates},
    {"receiver_other_types", test_receiver_other_types},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
