/*  server/transport.h - the server's end of the link: a CurveZMQ ROUTER.
 *
 *  One ROUTER socket, bound on an endpoint, speaks to every office's
 *  DEALER (client/transport.h) over TCP with CURVE (RFC 26).  Before it
 *  binds, a ZAP handler (zap.h) is started in the same context, so only
 *  keys the server's allow() admits complete a handshake.  A message is
 *  one frame of at most CS_FRAME_MAX bytes (proto.h); what it means is the
 *  session's business, not this module's.
 *
 *  Identity: the routing id libzmq gives a connection is only an address
 *  to reply to; any peer could pick it.  Who sent a message is the
 *  "User-Id" property that ZAP attached to its connection, read from the
 *  message itself (zmq_msg_gets()).  ZAP runs only at handshake, so every
 *  message is checked again with still_allowed(): the message of a node
 *  revoked since is dropped and reported (CS_SRV_TRANSPORT_ERR_REVOKED), so
 *  that the session can send ERROR and forget the peer.
 *
 *  Socket options, and why:
 *    ZMQ_MAXMSGSIZE = CS_FRAME_MAX + CURVE's 33 bytes (below)  a
 *        larger frame drops the connection before it is buffered
 *        (STYLE.md 27); the ZAP handler's sockets, without CURVE, get
 *        CS_FRAME_MAX
 *    ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL  see CS_SRV_TRANSPORT_HEARTBEAT_* below
 *    ZMQ_LINGER = CS_SRV_TRANSPORT_LINGER_MS  closing never hangs on a dead
 *        link (libzmq's default, -1, waits forever)
 *    ZMQ_ROUTER_MANDATORY = 1  a send to a peer that is gone fails
 *        instead of being silently dropped
 *
 *  Not thread-safe: one thread uses a transport.  Poll it with
 *  cs_srv_transport_poll() or put cs_srv_transport_socket() in a
 *  zmq_poll() set.
 */
#ifndef CS_SRV_TRANSPORT_H
#define CS_SRV_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "err.h"
#include "key.h"
#include "proto.h"

/* Heartbeats for 64 kbit/s links.  A full frame takes about 2.2 s on the
   wire there (17 KiB at 8 KB/s), and a PING waits behind whatever the TCP
   send buffer holds, so silence is only a dead link after a minute.  TTL
   tells the peer the same.  libzmq 4.3 sends TTL in deciseconds and the
   receiver multiplies them by 100 in a 16-bit variable
   (stream_engine.cpp), so a TTL above 65,535 ms wraps around to a short
   one: CS_SRV_TRANSPORT_HEARTBEAT_TTL_MS must stay at or below
   CS_SRV_TRANSPORT_HEARTBEAT_TTL_MAX_MS. */
#define CS_SRV_TRANSPORT_HEARTBEAT_IVL_MS 10000     /* PING after 10 s quiet */
#define CS_SRV_TRANSPORT_HEARTBEAT_TIMEOUT_MS 60000 /* dead after 60 s */
#define CS_SRV_TRANSPORT_HEARTBEAT_TTL_MAX_MS 65535 /* 4.3 wraps above */
#define CS_SRV_TRANSPORT_HEARTBEAT_TTL_MS 60000     /* clamped to the above */
#define CS_SRV_TRANSPORT_LINGER_MS 2000     /* unsent data kept on close, ms */
#define CS_SRV_TRANSPORT_ROUTING_ID_MAX 255 /* ZMTP routing ids, bytes */

/* libzmq applies ZMQ_MAXMSGSIZE to the ZMTP frame on the wire, which
   under CURVE is the MESSAGE command: "\x07MESSAGE" (8 bytes), an 8-byte
   nonce, the 16-byte Poly1305 tag and one flags byte around the payload
   (RFC 26 "MESSAGE"; measured with libzmq 4.3.4: a 1000-byte payload
   passes a limit of 1033 and not of 1032).  So a CURVE socket's limit is
   CS_FRAME_MAX plus that, to let exactly CS_FRAME_MAX bytes through. */
#define CS_SRV_TRANSPORT_CURVE_OVERHEAD 33 /* bytes around a payload */
#define CS_SRV_TRANSPORT_MAXMSGSIZE                                            \
    (CS_FRAME_MAX + CS_SRV_TRANSPORT_CURVE_OVERHEAD) /* ZMQ_MAXMSGSIZE */

/* Results of cs_srv_transport_recv() besides 0. */
#define CS_SRV_TRANSPORT_ERR_EMPTY CS_ERR_TIMEOUT   /* nothing waiting */
#define CS_SRV_TRANSPORT_ERR_REVOKED CS_ERR_REVOKED /* sender not allowed */
/* Result of cs_srv_transport_send(): the peer is gone. */
#define CS_SRV_TRANSPORT_ERR_GONE CS_ERR_PEER_GONE

/* Who may connect.  Both callbacks must be thread-safe: allow() runs in
   the ZAP handler's thread at each handshake, and returns true to admit
   a Curve25519 key after writing the node id in hex into user_id;
   still_allowed() runs on every message, with that node id, and returns
   false once the node is revoked. */
struct cs_srv_transport_auth {
    bool (*allow)(void *arg, const uint8_t curve_pk[CS_KEY_CURVE_BYTES],
                  char user_id[CS_NODE_ID_HEX_LEN + 1]);    /* handshake */
    bool (*still_allowed)(void *arg, const char *node_hex); /* messages */
    void *arg;                                              /* passed to both */
};

/* One message received. */
struct cs_srv_msg {
    uint8_t routing_id[CS_SRV_TRANSPORT_ROUTING_ID_MAX]; /* reply address */
    size_t routing_id_len;                 /* its length, 1..255 */
    char node_hex[CS_NODE_ID_HEX_LEN + 1]; /* sender (User-Id), or "" */
    uint8_t data[CS_FRAME_MAX];            /* the frame */
    size_t len;                            /* its length */
};

/* A bound server socket and its ZAP handler; opaque. */
struct cs_srv_transport;

/* Starts the ZAP handler, then binds a CURVE ROUTER.
     endpoint  e.g. "tcp://0.0.0.0:7711"; "tcp://127.0.0.1:*" picks a
               free port (cs_srv_transport_endpoint() tells which)
     key       the server's key pair; its Curve25519 form is the CURVE
               server key.  Not kept.
     auth      the callbacks; copied, arg must outlive the transport
     out       receives the transport, owned by the caller
   Returns 0; CS_ERR_KEY; CS_ERR_EXISTS if a handler is bound already;
   CS_ERR_IO if libzmq fails or the endpoint cannot be bound (logged).  On
   failure *out is NULL. */
CS_MUST_CHECK int cs_srv_transport_new(const char *endpoint,
                                       const struct cs_key *key,
                                       const struct cs_srv_transport_auth *auth,
                                       struct cs_srv_transport **out)
    CS_NONNULL(1, 2, 3, 4);

/* Closes the socket (waiting at most CS_SRV_TRANSPORT_LINGER_MS to flush),
   then stops the ZAP handler, frees *t and sets *t to NULL; does nothing
   if *t is NULL. */
void cs_srv_transport_destroy(struct cs_srv_transport **t) CS_NONNULL(1);

/* Returns the endpoint actually bound, with its port (valid as long as
   t). */
const char *cs_srv_transport_endpoint(const struct cs_srv_transport *t)
    CS_NONNULL(1);

/* Returns the ROUTER socket, for a zmq_poll() set or getsockopt(); use
   the functions below, not the socket, to read and write. */
void *cs_srv_transport_socket(const struct cs_srv_transport *t) CS_NONNULL(1);

/* Returns the ZAP handler's socket, for getsockopt() in tests only. */
void *cs_srv_transport_zap_socket(const struct cs_srv_transport *t)
    CS_NONNULL(1);

/* Waits up to timeout_ms (0: do not wait; -1: forever) for a message.
   Returns true when one is waiting; false on timeout or error. */
bool cs_srv_transport_poll(struct cs_srv_transport *t, int timeout_ms)
    CS_NONNULL(1);

/* Reads the next message, without waiting, into *msg.
   Returns 0 with all of *msg filled;
     CS_SRV_TRANSPORT_ERR_EMPTY when nothing is waiting;
     CS_SRV_TRANSPORT_ERR_REVOKED when the sender's User-Id is missing or
       still_allowed() refuses it: the frame is dropped (msg->len is 0),
       msg->routing_id and msg->node_hex tell who sent it;
     CS_ERR_FORMAT for a message of more than one frame (dropped, routing
       id and node filled);
     CS_ERR_IO if libzmq fails. */
CS_MUST_CHECK int cs_srv_transport_recv(struct cs_srv_transport *t,
                                        struct cs_srv_msg *msg)
    CS_NONNULL(1, 2);

/* Sends one frame to a peer, without waiting.
     t       the transport
     rid     routing id, as cs_srv_transport_recv() gave it
     rid_len its length
     p       the frame (NULL allowed when len is 0)
     len     its length, at most CS_FRAME_MAX
   Returns 0; CS_SRV_TRANSPORT_ERR_GONE if no such peer is connected;
   CS_ERR_TOO_BIG if len > CS_FRAME_MAX; CS_ERR_IO if its queue is full
   or libzmq fails. */
CS_MUST_CHECK int cs_srv_transport_send(struct cs_srv_transport *t,
                                        const uint8_t *rid, size_t rid_len,
                                        const uint8_t *p, size_t len)
    CS_NONNULL(1, 2);

#endif
