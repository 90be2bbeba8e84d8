/*  proto/chunk.h - splitting an envelope into chunks and reassembling it,
 *  resumably (PROTOCOL.md § Chunks).
 *
 *  On a 64 kbit/s link a 16 KiB chunk takes about 2 s; libzmq's heartbeat
 *  only resets when a whole frame has arrived, and a 128 KiB frame was
 *  measured never to arrive under a 4 s heartbeat timeout.  So an envelope
 *  travels as chunks of at most CS_CHUNK_DATA_MAX bytes, each naming the
 *  envelope (its id: BLAKE2b-128 of all its bytes), its total length and
 *  where the chunk's bytes start.  The receiver keeps the contiguous
 *  prefix it holds; after a dropped link it tells the sender that offset
 *  (cs_reasm_offset()) and the sender continues from there
 *  (cs_splitter_seek()), so a drop costs at most the chunk in flight.
 *
 *  Rules the reassembler enforces (PROTOCOL.md § Reassembly):
 *    - chunks arrive in order: a chunk must start at or before the offset
 *      held; one that starts after it (a gap) is refused;
 *    - bytes already held are accepted again without effect (duplicates
 *      after a reconnect are normal), and only the new tail of a chunk
 *      that overlaps them is kept;
 *    - the first chunk fixes id and total; total is checked against the
 *      reassembler's maximum before a byte is stored, and memory grows
 *      with the bytes that actually arrive, never to a declared size;
 *    - one envelope at a time: a chunk of another envelope is refused
 *      until this one is taken or abandoned (cs_reasm_reset());
 *    - when the last byte arrives, BLAKE2b-128 of the whole must equal the
 *      id, or everything is dropped and the envelope starts again from 0.
 *
 *  Not here: the CHUNK message encoding (proto/msg.c, filled from and into
 *  struct cs_chunk), acknowledgements and flow control (the session), what
 *  an envelope contains (envelope.h).  Chunks are not authenticated: a
 *  forged chunk can make the receiver drop progress, never accept bytes
 *  that are not the envelope named by the id, and the envelope itself is
 *  authenticated when opened.
 */
#ifndef CS_CHUNK_H
#define CS_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "err.h"
#include "proto.h"
#include "reader.h"

#define CS_CHUNK_ID_BYTES 16 /* BLAKE2b-128 of the whole envelope */

/* Refusals that err.h has no code for yet (see the report on issue 3):
   these aliases keep callers and tests right when the codes arrive. */
#define CS_REASM_ERR_GAP CS_ERR_BAD_VALUE /* chunk starts past what is held */
#define CS_REASM_ERR_OTHER CS_ERR_EXISTS  /* another envelope in progress */

/* The id of a chunked envelope (STYLE.md 13: not a bare byte array). */
struct cs_chunk_id {
    uint8_t b[CS_CHUNK_ID_BYTES]; /* BLAKE2b-128, no key, of all its bytes */
};

/* One chunk, as the CHUNK message carries it (PROTOCOL.md § CHUNK). */
struct cs_chunk {
    struct cs_chunk_id id; /* envelope the bytes belong to */
    uint64_t total;        /* the envelope's length, bytes */
    uint64_t offset;       /* where data starts in the envelope */
    struct cs_view data;   /* the bytes, at most CS_CHUNK_DATA_MAX; a view */
};

/* Computes the chunk id of some bytes: BLAKE2b (crypto_generichash) with a
   16-byte output and no key.
     p    the bytes, usually a whole envelope; NULL allowed when len is 0
     len  their number
     id   receives the id */
void cs_chunk_id_from_bytes(const uint8_t *p, size_t len,
                            struct cs_chunk_id *id) CS_NONNULL(3);

/* Sender side: walks an envelope chunk by chunk; a value type for stack
   use (STYLE.md 10).  Fields are touched only through the functions below.
       struct cs_splitter sp;
       cs_splitter_init(&sp, env, env_len, CS_CHUNK_DATA_MAX);
       if ((r = cs_splitter_seek(&sp, peer_offset)) != 0) ...
       while (!cs_splitter_done(&sp)) {
           cs_splitter_pull(&sp, &chunk);
           ... send chunk ...
       } */
struct cs_splitter {
    const uint8_t *p;      /* the envelope, borrowed; never NULL */
    size_t len;            /* its length */
    struct cs_reader rd;   /* over p; its offset is the next chunk's */
    size_t data_max;       /* most bytes per chunk */
    bool pulled;           /* a chunk was pulled (ends an empty envelope) */
    struct cs_chunk_id id; /* of the envelope */
};

/* Starts splitting an envelope into chunks, from offset 0.  Hashes the
   whole envelope once, for the id.  Cannot fail.
     sp        the splitter to initialise
     p         the envelope, borrowed: keep it alive and unchanged while
               sp is used; NULL allowed when len is 0
     len       its length, at most CS_ENVELOPE_MAX (asserted)
     data_max  most bytes per chunk, 1..CS_CHUNK_DATA_MAX (asserted);
               CS_CHUNK_DATA_MAX except in tests */
void cs_splitter_init(struct cs_splitter *sp, const uint8_t *p, size_t len,
                      size_t data_max) CS_NONNULL(1);

/* Makes the next chunk start at offset, e.g. the receiver's
   cs_reasm_offset() after a reconnect (untrusted).  Any offset up to the
   length is allowed, not only chunk boundaries; offset == length leaves
   nothing to send.  Returns 0, or CS_ERR_INVALID when offset exceeds the
   length (the splitter is then unchanged). */
CS_MUST_CHECK int cs_splitter_seek(struct cs_splitter *sp, uint64_t offset)
    CS_NONNULL(1);

/* Returns true when every chunk has been pulled.  An empty envelope yields
   exactly one chunk, with no data. */
bool cs_splitter_done(const struct cs_splitter *sp) CS_NONNULL(1);

/* Fills *c with the next chunk (its data is a view into the envelope) and
   steps past it.  Must not be called once cs_splitter_done() is true. */
void cs_splitter_pull(struct cs_splitter *sp, struct cs_chunk *c)
    CS_NONNULL(1, 2);

/* Receiver side: one envelope being reassembled; opaque. */
struct cs_reasm;

/* What cs_reasm_push() did with a chunk it accepted. */
enum cs_reasm_status {
    CS_REASM_NONE = 0,  /* nothing: the push failed */
    CS_REASM_MORE,      /* new bytes kept; more are needed */
    CS_REASM_DUPLICATE, /* only bytes already held: nothing changed */
    CS_REASM_COMPLETE   /* envelope whole and its id verified: take it */
};

/* Returns a new, idle reassembler that accepts envelopes of at most
   max_total bytes (values above CS_ENVELOPE_MAX are lowered to it).
   Allocates nothing for data yet.  Never NULL (cs_xmalloc aborts). */
struct cs_reasm *cs_reasm_new(size_t max_total);

/* Frees *reasm, wiping nothing (envelopes are ciphertext), and sets
 *reasm to NULL; does nothing if *reasm is NULL. */
void cs_reasm_destroy(struct cs_reasm **reasm) CS_NONNULL(1);

/* Offers one received chunk (untrusted: every field is checked).
     reasm   the reassembler
     c       the chunk; its data is copied, c may go away afterwards
     status  receives what happened, CS_REASM_NONE on failure
   Returns 0; and refuses, keeping everything held unless said otherwise:
     CS_ERR_TOO_BIG      data longer than CS_CHUNK_DATA_MAX, or total above
                         the maximum (checked before any allocation);
     CS_ERR_FORMAT       data running past total, an empty chunk of a
                         non-empty envelope, or a total that differs from
                         the envelope's first chunk;
     CS_REASM_ERR_GAP    the chunk starts after the bytes held: resend
                         from cs_reasm_offset() (0 when idle);
     CS_REASM_ERR_OTHER  the chunk is of another envelope than the one in
                         progress (or completed and not yet taken);
     CS_ERR_CRYPTO       the last byte arrived but the bytes do not hash to
                         the id: everything is dropped, reasm is idle again. */
CS_MUST_CHECK int cs_reasm_push(struct cs_reasm *reasm,
                                const struct cs_chunk *c,
                                enum cs_reasm_status *status)
    CS_NONNULL(1, 2, 3);

/* Returns true while an envelope is in progress or complete and not taken.
 */
bool cs_reasm_active(const struct cs_reasm *reasm) CS_NONNULL(1);

/* Returns true when an envelope is complete and verified, waiting for
   cs_reasm_take(). */
bool cs_reasm_complete(const struct cs_reasm *reasm) CS_NONNULL(1);

/* Returns the number of bytes held: where the sender must resume.  0 when
   idle. */
uint64_t cs_reasm_offset(const struct cs_reasm *reasm) CS_NONNULL(1);

/* Writes in *id the id of the envelope in progress, zeroes when idle. */
void cs_reasm_id(const struct cs_reasm *reasm, struct cs_chunk_id *id)
    CS_NONNULL(1, 2);

/* Hands the complete envelope over and makes reasm idle.
     reasm  the reassembler
     p      receives the bytes, never NULL on success; the caller free()s
            them
     len    receives their number
   Returns 0, or CS_ERR_INVALID when no envelope is complete (then *p is
   NULL, *len 0, reasm unchanged). */
CS_MUST_CHECK int cs_reasm_take(struct cs_reasm *reasm, uint8_t **p,
                                size_t *len) CS_NONNULL(1, 2, 3);

/* Abandons the envelope in progress, if any: reasm is idle and holds nothing
   (e.g. the sender said it gave that envelope up). */
void cs_reasm_reset(struct cs_reasm *reasm) CS_NONNULL(1);

#endif
