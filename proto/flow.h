/*  proto/flow.h - one direction of a session's batch stream: the sender's
 *  credit, current envelope and resume point, and the receiver's
 *  reassembly and credit grants.
 *
 *  Both ends of a session (server/hub.c, client/sync.c) send a feed of
 *  numbered batches, each sealed in an envelope for the peer, and receive
 *  the peer's.  The rules are the same both ways (PROTOCOL.md "Session
 *  flow"), so they live here once:
 *
 *  Sender (struct cs_flow_out):
 *    - sends only within the credit the receiver granted (bytes of
 *      envelope data, and envelopes);
 *    - an envelope of at most CS_MSG_BATCH_MAX bytes goes whole in one
 *      BATCH, and several may be in flight; a larger one goes as CHUNKs,
 *      and is started only once every earlier batch was acknowledged, so
 *      that it is the only one in flight and is kept, with its id, until
 *      it is acknowledged: after a dropped link the receiver's resume
 *      point (ACK) says where to go on, and only the chunk that was in
 *      flight is sent again;
 *    - at a new session everything not acknowledged is sent again, from
 *      the resume point for the kept envelope.
 *
 *  Receiver (struct cs_flow_in):
 *    - reassembles chunks (chunk.h), keeping the prefix across sessions;
 *    - hands over each complete envelope, and says how much credit to
 *      grant back: the bytes and envelopes it has taken in.
 *
 *  The window (CS_FLOW_WINDOW_BYTES) is one chunk: on a link that drops,
 *  no more than one chunk is ever lost in flight, and at 64 kbit/s and
 *  300 ms round trip a chunk takes about 2 s to send, so waiting for its
 *  credit costs about 13% of the link.  Nothing here does I/O.
 */
#ifndef CS_FLOW_H
#define CS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "chunk.h"
#include "msg.h"
#include "writer.h"

#define CS_FLOW_WINDOW_BYTES CS_CHUNK_DATA_MAX /* envelope bytes in flight */
#define CS_FLOW_WINDOW_BATCHES 16              /* envelopes in flight */

/* The sending side of one direction; a value type, touched only through
   the functions below.  Zero-initialise with cs_flow_out_init(). */
struct cs_flow_out {
    uint64_t credit_bytes;   /* data the receiver lets us send */
    uint64_t credit_batches; /* envelopes it lets us finish */
    uint64_t acked;          /* the receiver's head of our feed */
    uint64_t sent;           /* last seq wholly sent this session */
    uint8_t *env;            /* current envelope, owned; NULL if none */
    size_t env_len;          /* its length */
    uint64_t env_seq;        /* the batch it carries */
    bool env_whole;          /* sent as one BATCH */
    bool env_started;        /* a part of it was sent this session */
    struct cs_splitter sp;   /* chunks of env */
    uint64_t bytes_sent;     /* envelope bytes sent, for progress */
    uint64_t bytes_resent;   /* ... of them sent before (after a resume) */
    uint64_t high_water;     /* highest env offset sent, for bytes_resent */
    uint64_t seq_high;       /* highest seq ever wholly sent */
};

/* Starts an idle sender: no credit, nothing acknowledged. */
void cs_flow_out_init(struct cs_flow_out *o) CS_NONNULL(1);

/* Frees the current envelope. */
void cs_flow_out_free(struct cs_flow_out *o) CS_NONNULL(1);

/* A new session starts: no credit; everything after acked is to be sent
   again; the kept envelope (if still unacknowledged) from its start,
   unless cs_flow_out_resume() says otherwise. */
void cs_flow_out_session(struct cs_flow_out *o, uint64_t acked) CS_NONNULL(1);

/* The receiver acknowledged our batches up to seq. */
void cs_flow_out_ack(struct cs_flow_out *o, uint64_t seq) CS_NONNULL(1);

/* The receiver holds offset bytes of envelope id: continue there if it
   is the kept envelope. */
void cs_flow_out_resume(struct cs_flow_out *o, const struct cs_chunk_id *id,
                        uint64_t offset) CS_NONNULL(1, 2);

/* The receiver granted more credit. */
void cs_flow_out_credit(struct cs_flow_out *o, uint64_t bytes, uint64_t batches)
    CS_NONNULL(1);

/* Returns the seq of the batch to load next (cs_flow_out_load()), or 0
   when the current envelope is still to be sent, or a chunked one is not
   acknowledged yet, or credit is exhausted. */
uint64_t cs_flow_out_wants(const struct cs_flow_out *o) CS_NONNULL(1);

/* Makes env (len bytes, malloc'd, ownership taken) the current envelope,
   carrying batch seq (what cs_flow_out_wants() returned). */
void cs_flow_out_load(struct cs_flow_out *o, uint64_t seq, uint8_t *env,
                      size_t len) CS_NONNULL(1, 3);

/* Appends to w the next message (BATCH or CHUNK) of the current envelope
   if credit allows, and sets *sent.  Returns 0 or an encoder's error. */
CS_MUST_CHECK int cs_flow_out_next(struct cs_flow_out *o, struct cs_writer *w,
                                   bool *sent) CS_NONNULL(1, 2, 3);

/* True when every batch up to last was acknowledged and nothing is being
   sent. */
bool cs_flow_out_idle(const struct cs_flow_out *o, uint64_t last) CS_NONNULL(1);

/* The receiving side of one direction. */
struct cs_flow_in {
    struct cs_reasm *reasm;     /* the envelope being reassembled */
    uint64_t bytes_in;          /* envelope bytes received */
    bool resume_wanted;         /* a chunk was dropped: send ACK now */
    struct cs_chunk_id want_id; /* ... naming this envelope */
    uint64_t want_offset;       /* ... and this resume point */
};

/* Starts a receiver taking envelopes of at most max_total bytes. */
void cs_flow_in_init(struct cs_flow_in *in, size_t max_total) CS_NONNULL(1);

/* Frees what the receiver holds. */
void cs_flow_in_free(struct cs_flow_in *in) CS_NONNULL(1);

/* Takes in a BATCH or CHUNK message.
     in      the receiver
     m       the decoded message (type BATCH or CHUNK)
     env     receives a complete envelope (malloc'd: the caller frees it)
             or NULL
     len     receives its length
     grant   receives the credit to grant back (bytes and batches)
   Returns 0, or CS_ERR_INVALID for another message type.  A chunk the
   reassembler refuses (a gap, another envelope, a bad total) is dropped,
   its credit granted back, and logged; the session's next resume point
   puts it right. */
CS_MUST_CHECK int cs_flow_in_push(struct cs_flow_in *in, const struct cs_msg *m,
                                  uint8_t **env, size_t *len,
                                  struct cs_msg_credit *grant)
    CS_NONNULL(1, 2, 3, 4, 5);

/* True when a chunk was dropped since the last cs_flow_in_resume_sent():
   the session sends ACK at once, whose resume point
   (cs_flow_in_resume()) tells the sender where to go on, so a refused
   chunk costs a round trip instead of the session. */
bool cs_flow_in_resume_pending(const struct cs_flow_in *in) CS_NONNULL(1);

/* The ACK asked for above went out. */
void cs_flow_in_resume_sent(struct cs_flow_in *in) CS_NONNULL(1);

/* Fills an ACK's resume point from the reassembler (or, after a dropped
   chunk, from where the sender must go on). */
void cs_flow_in_resume(const struct cs_flow_in *in, struct cs_msg_ack *ack)
    CS_NONNULL(1, 2);

/* Drops a half-received envelope (one that arrived another way). */
void cs_flow_in_reset(struct cs_flow_in *in) CS_NONNULL(1);

/* True while an envelope is half received. */
bool cs_flow_in_busy(const struct cs_flow_in *in) CS_NONNULL(1);

#endif
