/*  proto/proto.h - protocol-wide constants: versions and size limits.
 *
 *  Every limit a decoder enforces is named here, with its unit, so that
 *  PROTOCOL.md, the encoders and the decoders agree (STYLE.md 7).  A frame
 *  larger than CS_FRAME_MAX is refused before any parsing; ZeroMQ sockets
 *  set ZMQ_MAXMSGSIZE to it.
 */
#ifndef CS_PROTO_H
#define CS_PROTO_H

#include <stdint.h>

#include "attr.h"

#define CS_PROTO_MAJOR 1 /* incompatible changes bump this */
#define CS_PROTO_MINOR 1 /* compatible additions bump this */

#define CS_HASH_BYTES 32       /* BLAKE2b-256: batch hashes, chain links */
#define CS_DEPLOYMENT_BYTES 16 /* a deployment id (random, per programme) */
#define CS_SIG_BYTES 64        /* Ed25519 signature */
#define CS_PUBKEY_BYTES 32     /* Ed25519 public key */

#define CS_CHUNK_DATA_MAX (16u * 1024)          /* envelope bytes per chunk */
#define CS_FRAME_MAX (CS_CHUNK_DATA_MAX + 1024) /* any one message, bytes */
#define CS_ENVELOPE_MAX (64u * 1024 * 1024)     /* one envelope, bytes */
#define CS_BATCH_MAX (CS_ENVELOPE_MAX - 1024)   /* one signed batch, bytes */
#define CS_PAYLOAD_RAW_MAX (64u * 1024 * 1024)  /* decompressed payload */
#define CS_BATCH_CHANGES_MAX 200000u            /* changes in one batch */
#define CS_NAME_MAX 64                          /* table/field name, bytes */
#define CS_TEXT_MAX (16u * 1024 * 1024)         /* one field value, bytes */
#define CS_HEADS_MAX 4096                       /* origins in one HELLO */
#define CS_REFUSED_MAX 4096                     /* refusals in one message */
#define CS_MESSAGE_TEXT_MAX 1024                /* ERROR/REFUSED text, bytes */

/* Returns "MAJOR.MINOR" of this implementation (static). */
const char *cs_proto_version(void);

#endif
