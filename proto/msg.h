/*  proto/msg.h - the messages of a sync session: decoding and encoding.
 *
 *  A sync session (ARCHITECTURE.md "Sync") is a conversation of frames,
 *  one message each, between a node and the server.  Every message is a
 *  msgpack array whose first element is its type (enum cs_msg_type); the
 *  elements after it are fixed per type and listed, with their msgpack
 *  types and limits, in PROTOCOL.md (PROTOCOL.md "Messages"),
 *  whose vectors are tests/vectors/msg-*.vec.
 *
 *  cs_msg_decode() is the one decoder of untrusted frames: it refuses a
 *  frame over CS_FRAME_MAX before parsing, reads only through the bounded
 *  reader, allocates nothing, and fills a tagged union of plain structs
 *  whose variable parts are views into the frame.  Lists (heads, refusals)
 *  are validated whole by cs_msg_decode() and then read one entry at a
 *  time with an iterator, so no count from the wire sizes anything.
 *  Encoders, one per message, append one frame to a writer and refuse to
 *  write what the decoder would refuse.
 *
 *  Compatibility: peers with the same major version talk; a later minor
 *  version may append elements to a message array, which this decoder
 *  skips (after reading the ones it knows).  HELLO starts with [type,
 *  major, minor] in every version, so a peer of another major is told so
 *  (cs_msg_check_version()) rather than refused as garbage.
 *
 *  Not here: what a session does with messages (server/, client/), the
 *  batch inside an envelope (batch.h), envelope encryption (envelope.h),
 *  chunk reassembly (chunk.h), sockets.
 */
#ifndef CS_MSG_H
#define CS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "chunk.h"
#include "err.h"
#include "id.h"
#include "key.h"
#include "merkle.h"
#include "proto.h"
#include "reader.h"
#include "writer.h"

#define CS_MSG_FIELDS_MAX 32 /* elements of one message array, type in */
#define CS_MSG_SKIP_DEPTH 8  /* nesting of an unknown appended element */
#define CS_MSG_BATCH_MAX CS_CHUNK_DATA_MAX /* envelope bytes in a BATCH */
#define CS_MSG_ROW_MAX CS_ID_MAX           /* row id bytes in a refusal */
#define CS_MSG_VERSION_TEXT_MAX 96         /* cs_msg_check_version() text */

/* Message types: the first element of every message array.  0 is never a
   type; numbers are never reused. */
enum cs_msg_type {
    CS_MSG_HELLO = 1,   /* who I am and what I have, per origin */
    CS_MSG_STATUS = 2,  /* what I have now, and a digest of my content */
    CS_MSG_BATCH = 3,   /* one whole envelope */
    CS_MSG_CHUNK = 4,   /* a piece of an envelope */
    CS_MSG_ACK = 5,     /* what I have durably committed */
    CS_MSG_CREDIT = 6,  /* how much more you may send */
    CS_MSG_REFUSED = 7, /* changes of a batch I did not apply, and why */
    CS_MSG_ERROR = 8,   /* the session ends: code and text */
    CS_MSG_PING = 9,    /* please answer with PONG and this token */
    CS_MSG_PONG = 10,   /* the answer to PING */
    /* 1.1: the audit log (auditlog.h) */
    CS_MSG_SINCE = 11,   /* node: the tree head I kept has this size */
    CS_MSG_TREE = 12,    /* server: a signed tree head, consistency proof */
    CS_MSG_RECEIPT = 13, /* server: your batch is this leaf of the tree */
    CS_MSG_LOG_GET = 14, /* auditor: send the log archive from offset */
    CS_MSG_LOG = 15      /* server: a piece of the log archive */
};

#define CS_MSG_LEAF_MAX 2048 /* leaf bytes in a RECEIPT */

/* One origin's position in a feed: in HELLO and STATUS what the sender
   has, in ACK what it has durably committed. */
struct cs_msg_head {
    struct cs_node_id origin;    /* the origin node */
    uint64_t seq;                /* its last batch held, >= 1 */
    uint8_t hash[CS_HASH_BYTES]; /* that batch's hash (batch.h) */
};

/* One change of a batch that the receiver refused. */
struct cs_msg_refusal {
    struct cs_view table;  /* table name, 1..CS_NAME_MAX bytes, UTF-8 */
    struct cs_view row;    /* row id, 1..CS_MSG_ROW_MAX bytes, UTF-8 */
    struct cs_view field;  /* field name, 0..CS_NAME_MAX bytes (empty: the
                              whole row), UTF-8 */
    int code;              /* why: a negative CS_ERR_* code */
    struct cs_view reason; /* why, for people, 0..CS_MESSAGE_TEXT_MAX
                              bytes, UTF-8 */
};

/* A list inside a decoded message: its n entries, already validated, as
   the bytes that follow the array header.  Read with struct cs_msg_iter. */
struct cs_msg_list {
    struct cs_view items; /* the encoded entries, a view into the frame */
    size_t n;             /* number of entries */
};

/* Reads a struct cs_msg_list entry by entry; a value type for stack use.
   Fields are touched only through the functions below. */
struct cs_msg_iter {
    struct cs_reader rd;    /* position in the entries */
    size_t left;            /* entries not yet pulled */
    struct cs_node_id last; /* origin of the last head pulled */
    bool started;           /* whether a head was pulled yet */
};

/* HELLO: the first message each side sends. */
struct cs_msg_hello {
    uint64_t major;                          /* sender's protocol major */
    uint64_t minor;                          /* sender's protocol minor */
    uint64_t schema;                         /* sender's schema version */
    uint8_t deployment[CS_DEPLOYMENT_BYTES]; /* deployment it belongs to */
    struct cs_node_id node;                  /* the sender */
    struct cs_msg_list heads;                /* struct cs_msg_head, sorted
                                                by origin, at most
                                                CS_HEADS_MAX */
};

/* STATUS: what the sender has at the end of an exchange. */
struct cs_msg_status {
    struct cs_msg_list heads;      /* as in HELLO */
    uint64_t pending;              /* local changes not yet in a batch */
    uint8_t digest[CS_HASH_BYTES]; /* digest of the content in scope */
};

/* BATCH: one envelope that fits in a frame. */
struct cs_msg_batch {
    struct cs_view envelope; /* 1..CS_MSG_BATCH_MAX bytes (envelope.h) */
};

/* ACK: cumulative acknowledgement, sent only after a durable commit. */
struct cs_msg_ack {
    struct cs_msg_list heads;    /* struct cs_msg_head per origin, sorted */
    bool has_resume;             /* whether an envelope is half received */
    struct cs_chunk_id envelope; /* that envelope (chunk.h) */
    uint64_t offset;             /* its bytes durably held; resend from here,
                                    at most CS_ENVELOPE_MAX */
};

/* CREDIT: more the receiver lets the sender send (added to what is left). */
struct cs_msg_credit {
    uint64_t bytes;   /* envelope bytes (BATCH envelopes, CHUNK data) */
    uint64_t batches; /* envelopes (a BATCH, or a CHUNK ending one) */
};

/* REFUSED: changes of one batch that were not applied. */
struct cs_msg_refused {
    struct cs_node_id origin;    /* origin of the batch */
    uint64_t seq;                /* its seq, >= 1 */
    struct cs_msg_list refusals; /* struct cs_msg_refusal, 1..
                                    CS_REFUSED_MAX */
};

/* ERROR: the sender ends the session. */
struct cs_msg_error {
    int code;               /* a negative CS_ERR_* code */
    struct cs_view message; /* for people, 0..CS_MESSAGE_TEXT_MAX bytes,
                               UTF-8 */
};

/* PING and PONG. */
struct cs_msg_ping {
    uint64_t token; /* chosen by the PING's sender, echoed by PONG */
};

/* A Merkle proof: up to CS_MERKLE_PROOF_MAX SHA-256 hashes, copied. */
struct cs_msg_proof {
    size_t n;                                             /* hashes */
    uint8_t h[CS_MERKLE_PROOF_MAX][CS_MERKLE_HASH_BYTES]; /* in order */
};

/* SINCE: the size of the tree head the node keeps (0: none yet). */
struct cs_msg_since {
    uint64_t size;
};

/* TREE: the server's current signed tree head, and the consistency proof
   from the tree of size from (the node's SINCE, or the last TREE of the
   session; 0: no proof). */
struct cs_msg_tree {
    uint64_t size, time_ms;             /* the head ... */
    uint8_t root[CS_MERKLE_HASH_BYTES]; /* ... */
    uint8_t sig[CS_SIG_BYTES];          /* ... signed (auditlog.h) */
    uint64_t from;                      /* proof from this size */
    struct cs_msg_proof proof;          /* consistency proof */
};

/* RECEIPT: leaf (its bytes: a BATCH leaf of the receiver's batch) is leaf
   number index of the tree of size size, by the inclusion proof. */
struct cs_msg_receipt {
    struct cs_view leaf;       /* 1..CS_MSG_LEAF_MAX bytes */
    uint64_t index, size;      /* index < size */
    struct cs_msg_proof proof; /* inclusion proof */
};

/* LOG_GET: send the archive from this offset. */
struct cs_msg_log_get {
    uint64_t offset;
};

/* LOG: bytes [offset, offset + data.len) of an archive of total bytes. */
struct cs_msg_log {
    uint64_t offset, total;
    struct cs_view data; /* 0..CS_CHUNK_DATA_MAX bytes, inside total */
};

/* One decoded message. */
struct cs_msg {
    enum cs_msg_type type; /* which member of u is filled */
    union {
        struct cs_msg_hello hello;     /* CS_MSG_HELLO */
        struct cs_msg_status status;   /* CS_MSG_STATUS */
        struct cs_msg_batch batch;     /* CS_MSG_BATCH */
        struct cs_chunk chunk;         /* CS_MSG_CHUNK (chunk.h) */
        struct cs_msg_ack ack;         /* CS_MSG_ACK */
        struct cs_msg_credit credit;   /* CS_MSG_CREDIT */
        struct cs_msg_refused refused; /* CS_MSG_REFUSED */
        struct cs_msg_error error;     /* CS_MSG_ERROR */
        struct cs_msg_ping ping;       /* CS_MSG_PING and CS_MSG_PONG */
        struct cs_msg_since since;     /* CS_MSG_SINCE */
        struct cs_msg_tree tree;       /* CS_MSG_TREE */
        struct cs_msg_receipt receipt; /* CS_MSG_RECEIPT */
        struct cs_msg_log_get log_get; /* CS_MSG_LOG_GET */
        struct cs_msg_log log;         /* CS_MSG_LOG */
    } u;                               /* the message's fields */
};

/* Decodes one frame (untrusted bytes) into *m.
     p    the frame (NULL allowed when len is 0)
     len  its length
     m    receives the message, with views into p
   Returns 0; CS_ERR_TOO_BIG for a frame over CS_FRAME_MAX (checked before
   anything is read) or a length, count or value over its limit;
   CS_ERR_TRUNCATED; CS_ERR_TRAILING for bytes after the message array;
   CS_ERR_FORMAT for an unknown type, a wrong msgpack type, too few
   elements, or a value the spec does not allow (invalid UTF-8, unsorted
   heads, seq 0, a chunk past its envelope's end ...).  A HELLO of another
   major version returns CS_ERR_VERSION with m->type CS_MSG_HELLO and
   only m->u.hello.major and .minor set, for cs_msg_check_version(); on
   every other failure *m is zeroed. */
CS_MUST_CHECK int cs_msg_decode(const uint8_t *p, size_t len, struct cs_msg *m)
    CS_NONNULL(3);

/* Says whether this node can talk to a peer of version major.minor: the
   majors must be equal; any minor is accepted.
     major   the peer's major version
     minor   the peer's minor version
     err     receives, on failure, a sentence naming both versions, e.g.
             "protocol version 2.0 is not supported; this node speaks
             1.0" (truncated to fit; "" on success); may be NULL when
             errlen is 0
     errlen  size of err; CS_MSG_VERSION_TEXT_MAX always suffices
   Returns 0 or CS_ERR_VERSION. */
CS_MUST_CHECK int cs_msg_check_version(uint64_t major, uint64_t minor,
                                       char *err, size_t errlen);

/* Starts reading the entries of l (from a decoded message). */
void cs_msg_iter_init(struct cs_msg_iter *it, const struct cs_msg_list *l)
    CS_NONNULL(1, 2);

/* Reads the next entry of a heads list into *h.  Returns 0;
   CS_ERR_NOT_FOUND when every entry was read; a decode error if the list
   is not a heads list of a successfully decoded message.  On failure *h
   is zeroed. */
CS_MUST_CHECK int cs_msg_iter_pull_head(struct cs_msg_iter *it,
                                        struct cs_msg_head *h) CS_NONNULL(1, 2);

/* Reads the next entry of a refusals list into *f, with views into the
   frame.  Returns as cs_msg_iter_pull_head(). */
CS_MUST_CHECK int cs_msg_iter_pull_refusal(struct cs_msg_iter *it,
                                           struct cs_msg_refusal *f)
    CS_NONNULL(1, 2);

/* Encoders.  Each appends one whole frame to w, or nothing: it returns 0;
   CS_ERR_TOO_BIG when a length or count exceeds its limit or the frame
   would exceed CS_FRAME_MAX; CS_ERR_INVALID for any other value the
   decoder would refuse; or w's error when w cannot take the frame (w is
   then in error, see writer.h).  Lists are passed as arrays; the list
   fields of m (heads, refusals) are the decoder's and are not read. */

/* Appends HELLO.
     w      the writer
     m      major, minor (normally CS_PROTO_MAJOR and CS_PROTO_MINOR),
            schema, deployment, node
     heads  what the sender has, sorted by origin (memcmp order), one per
            origin (NULL allowed when n is 0)
     n      number of heads, at most CS_HEADS_MAX */
CS_MUST_CHECK int cs_msg_hello_encode(struct cs_writer *w,
                                      const struct cs_msg_hello *m,
                                      const struct cs_msg_head *heads, size_t n)
    CS_NONNULL(1, 2);

/* Appends STATUS: m->pending and m->digest, and heads as for HELLO.
     w      the writer
     m      pending count and digest
     heads  sorted by origin, one per origin (NULL allowed when n is 0)
     n      number of heads, at most CS_HEADS_MAX */
CS_MUST_CHECK int cs_msg_status_encode(struct cs_writer *w,
                                       const struct cs_msg_status *m,
                                       const struct cs_msg_head *heads,
                                       size_t n) CS_NONNULL(1, 2);

/* Appends BATCH carrying m->envelope. */
CS_MUST_CHECK int cs_msg_batch_encode(struct cs_writer *w,
                                      const struct cs_msg_batch *m)
    CS_NONNULL(1, 2);

/* Appends CHUNK carrying c (from cs_splitter_pull()); c->data.len may be
   0 only when c->total is 0 (the one chunk of an empty envelope). */
CS_MUST_CHECK int cs_msg_chunk_encode(struct cs_writer *w,
                                      const struct cs_chunk *c)
    CS_NONNULL(1, 2);

/* Appends ACK.
     w      the writer
     m      the resume point (has_resume, envelope, offset)
     heads  per origin the last batch durably committed, sorted by origin
            (NULL allowed when n is 0)
     n      number of heads, at most CS_HEADS_MAX */
CS_MUST_CHECK int cs_msg_ack_encode(struct cs_writer *w,
                                    const struct cs_msg_ack *m,
                                    const struct cs_msg_head *heads, size_t n)
    CS_NONNULL(1, 2);

/* Appends CREDIT. */
CS_MUST_CHECK int cs_msg_credit_encode(struct cs_writer *w,
                                       const struct cs_msg_credit *m)
    CS_NONNULL(1, 2);

/* Appends REFUSED.
     w         the writer
     m         origin and seq of the batch
     refusals  the refused changes
     n         their number, 1..CS_REFUSED_MAX (and what fits a frame:
               split a long list over several REFUSED) */
CS_MUST_CHECK int cs_msg_refused_encode(struct cs_writer *w,
                                        const struct cs_msg_refused *m,
                                        const struct cs_msg_refusal *refusals,
                                        size_t n) CS_NONNULL(1, 2, 3);

/* Appends ERROR. */
CS_MUST_CHECK int cs_msg_error_encode(struct cs_writer *w,
                                      const struct cs_msg_error *m)
    CS_NONNULL(1, 2);

/* Appends PING. */
CS_MUST_CHECK int cs_msg_ping_encode(struct cs_writer *w,
                                     const struct cs_msg_ping *m)
    CS_NONNULL(1, 2);

/* Appends PONG. */
CS_MUST_CHECK int cs_msg_pong_encode(struct cs_writer *w,
                                     const struct cs_msg_ping *m)
    CS_NONNULL(1, 2);

/* Appends SINCE, TREE, RECEIPT, LOG_GET, LOG (1.1, the audit log). */
CS_MUST_CHECK int cs_msg_since_encode(struct cs_writer *w,
                                      const struct cs_msg_since *m)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_msg_tree_encode(struct cs_writer *w,
                                     const struct cs_msg_tree *m)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_msg_receipt_encode(struct cs_writer *w,
                                        const struct cs_msg_receipt *m)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_msg_log_get_encode(struct cs_writer *w,
                                        const struct cs_msg_log_get *m)
    CS_NONNULL(1, 2);
CS_MUST_CHECK int cs_msg_log_encode(struct cs_writer *w,
                                    const struct cs_msg_log *m)
    CS_NONNULL(1, 2);

#endif
