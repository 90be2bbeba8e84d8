/*  proto/envelope.h - envelopes: a payload encrypted for one recipient,
 *  authenticating its sender (PROTOCOL.md § Envelopes).
 *
 *  Every signed batch and every bundle part that leaves a node, over the
 *  network or on a USB stick, travels in one envelope.  The payload is
 *  opaque here.  The sender's Ed25519 public key is in the clear, so a
 *  receiver can look the sender up among enrolled nodes (cs_envelope_parse)
 *  before spending any crypto on it; only the holder of the recipient's key
 *  can open it (cs_envelope_open), and a successful open proves that the
 *  holder of the sender's key sealed it for this recipient, this deployment
 *  and this kind, because the whole header is the AEAD's associated data.
 *
 *  Format, version 1 (all integers big-endian; header 94 bytes):
 *
 *      offset  size  field
 *      0       4     magic "CSE1" (0x43 0x53 0x45 0x31)
 *      4       1     version = 1
 *      5       1     kind: 1 = batch, 2 = control; others refused
 *      6       16    deployment id
 *      22      32    sender Ed25519 public key
 *      54      16    recipient node id (BLAKE2b-128 of its public key)
 *      70      24    nonce, random
 *      94      n+16  ciphertext: XChaCha20-Poly1305-IETF of the n-byte
 *                    payload, tag last
 *
 *  Key: cs_key_shared() (X25519 of the two keys mapped from Ed25519 to
 *  Curve25519, then HChaCha20 as crypto_box_curve25519xchacha20poly1305_
 *  beforenm()); associated data: the 94 header bytes.  The envelope has no
 *  length field: its container (a chunk's total, a bundle entry) frames it,
 *  and any byte added or removed at the end fails the tag.
 *
 *  Not here: signing (the batch inside is signed by its origin; an envelope
 *  authenticates only the hop), compression, chunking (chunk.h), replay
 *  protection (the batch's sequence number and hash chain provide it).
 */
#ifndef CS_ENVELOPE_H
#define CS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "err.h"
#include "key.h"
#include "proto.h"
#include "reader.h"
#include "writer.h"

#define CS_ENVELOPE_MAGIC "CSE1"   /* first bytes of every envelope */
#define CS_ENVELOPE_MAGIC_LEN 4    /* strlen(CS_ENVELOPE_MAGIC) */
#define CS_ENVELOPE_VERSION 1      /* the only version this code reads */
#define CS_ENVELOPE_KIND_BATCH 1   /* payload is a signed batch */
#define CS_ENVELOPE_KIND_CONTROL 2 /* payload is a control message */
#define CS_ENVELOPE_NONCE_BYTES 24 /* XChaCha20 nonce */
#define CS_ENVELOPE_TAG_BYTES 16   /* Poly1305 tag, after the ciphertext */
#define CS_ENVELOPE_HEADER_BYTES                                               \
    (CS_ENVELOPE_MAGIC_LEN + 1 + 1 + CS_DEPLOYMENT_BYTES + CS_PUBKEY_BYTES +   \
     CS_NODE_ID_BYTES + CS_ENVELOPE_NONCE_BYTES) /* 94, the AD */
#define CS_ENVELOPE_OVERHEAD                                                   \
    (CS_ENVELOPE_HEADER_BYTES + CS_ENVELOPE_TAG_BYTES) /* 110 bytes */
#define CS_ENVELOPE_PAYLOAD_MAX                                                \
    (CS_ENVELOPE_MAX - CS_ENVELOPE_OVERHEAD) /* largest payload, bytes */

/* The refusals specific to envelopes. */
#define CS_ENVELOPE_ERR_RECIPIENT CS_ERR_NOT_FOR_US  /* not addressed to us */
#define CS_ENVELOPE_ERR_DEPLOYMENT CS_ERR_DEPLOYMENT /* other deployment */

/* The header of an envelope, as cs_envelope_parse() read it; nothing in it
   is authenticated until cs_envelope_open() succeeds.  Views point into
   the envelope's bytes and are valid while they are. */
struct cs_envelope {
    uint8_t version;             /* format version, CS_ENVELOPE_VERSION */
    uint8_t kind;                /* CS_ENVELOPE_KIND_BATCH or _CONTROL */
    const uint8_t *deployment;   /* CS_DEPLOYMENT_BYTES, view */
    struct cs_pubkey sender;     /* sender's public key, as sent */
    struct cs_node_id sender_id; /* computed: BLAKE2b-128 of sender */
    struct cs_node_id recipient; /* recipient's node id, as sent */
    uint8_t nonce[CS_ENVELOPE_NONCE_BYTES]; /* AEAD nonce, as sent */
    struct cs_view header;     /* the header bytes: the associated data */
    struct cs_view ciphertext; /* ciphertext and tag, >= TAG_BYTES */
};

/* Seals len bytes at payload for recipient, from sender, with a random
   nonce, and writes the envelope into out.
     sender      the sender's key pair
     recipient   the recipient's public key
     deployment  the deployment id, CS_DEPLOYMENT_BYTES
     kind        CS_ENVELOPE_KIND_BATCH or CS_ENVELOPE_KIND_CONTROL
     payload     the bytes to seal; NULL allowed when len is 0
     len         their number, at most CS_ENVELOPE_PAYLOAD_MAX
     out         an empty writer without error; receives the envelope
   Returns 0; CS_ERR_TOO_BIG when len exceeds CS_ENVELOPE_PAYLOAD_MAX or
   the envelope exceeds out's max; CS_ERR_INVALID for another kind or an
   out that is not empty; CS_ERR_KEY when recipient is not a usable public
   key; CS_ERR_CRYPTO.  On failure out is freed (empty, no error). */
CS_MUST_CHECK int
cs_envelope_seal(const struct cs_key *sender, const struct cs_pubkey *recipient,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint8_t kind,
                 const uint8_t *payload, size_t len, struct cs_writer *out)
    CS_NONNULL(1, 2, 3, 7);

/* As cs_envelope_seal(), with the given nonce instead of a random one;
   arguments, returns and ownership as there, and
     nonce  the CS_ENVELOPE_NONCE_BYTES nonce to use
   FOR TEST VECTORS AND FUZZING ONLY: sealing two payloads with one nonce
   and key pair reveals their XOR and lets anyone forge envelopes between
   that pair. */
CS_MUST_CHECK int
cs_envelope_seal_with_nonce(const struct cs_key *sender,
                            const struct cs_pubkey *recipient,
                            const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                            uint8_t kind, const uint8_t *payload, size_t len,
                            const uint8_t nonce[CS_ENVELOPE_NONCE_BYTES],
                            struct cs_writer *out) CS_NONNULL(1, 2, 3, 7, 8);

/* Reads the header of the len bytes at p (untrusted) into *env, without
   any crypto: enough to find the sender's enrolment and refuse early.
   Checks, in order: len <= CS_ENVELOPE_MAX, the header is complete, magic,
   version, kind, and that a tag's worth of ciphertext follows.
     p    the envelope; NULL allowed when len is 0
     len  its length
     env  receives the header; its views point into p
   Returns 0; CS_ERR_TOO_BIG when len > CS_ENVELOPE_MAX; CS_ERR_TRUNCATED
   when len < CS_ENVELOPE_OVERHEAD; CS_ERR_FORMAT for another magic, version
   or kind.  On failure *env is zeroed. */
CS_MUST_CHECK int cs_envelope_parse(const uint8_t *p, size_t len,
                                    struct cs_envelope *env) CS_NONNULL(3);

/* Opens a parsed envelope: checks that it is addressed to recipient's node
   id, then that it belongs to deployment, then decrypts and authenticates
   it (which also proves env->sender sealed it and the header is intact).
     env         from cs_envelope_parse()
     recipient   our key pair
     deployment  our deployment id, CS_DEPLOYMENT_BYTES
     plain       receives the payload, in sodium_malloc() memory, never
                 NULL on success (even for 0 bytes); release it with
                 cs_envelope_plain_free()
     plain_len   receives its length
   Returns 0; CS_ENVELOPE_ERR_RECIPIENT when the envelope is for another
   node; CS_ENVELOPE_ERR_DEPLOYMENT when it is for another deployment;
   CS_ERR_KEY when env->sender is not a usable public key; CS_ERR_CRYPTO
   when the tag does not verify (tampered bytes, another sender key, a
   truncated or extended envelope); CS_ERR_NOMEM when secure memory is
   exhausted.  On failure *plain is NULL and *plain_len 0. */
CS_MUST_CHECK int
cs_envelope_open(const struct cs_envelope *env, const struct cs_key *recipient,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint8_t **plain,
                 size_t *plain_len) CS_NONNULL(1, 2, 3, 4, 5);

/* Wipes and frees a payload from cs_envelope_open(); len is the length it
   returned.  Does nothing when plain is NULL. */
void cs_envelope_plain_free(uint8_t *plain, size_t len);

#endif
