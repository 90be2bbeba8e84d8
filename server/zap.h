/*  server/zap.h - the ZAP handler: who may complete a CurveZMQ handshake.
 *
 *  libzmq asks a ZeroMQ Authentication Protocol handler (RFC 27) about
 *  every CURVE client key during the handshake, over a REP socket bound at
 *  inproc://zeromq.zap.01 in the same context.  In libzmq 4.3, when no
 *  handler is bound there, a CURVE server admits ANY client key (the
 *  "Stonehouse" legacy mode of curve_server.cpp); so the handler must be
 *  bound before the server socket binds and must stay bound until that
 *  socket is closed.  cs_zap_new() binds in the caller's thread, before it
 *  returns, and only cs_zap_destroy() unbinds.
 *
 *  The handler runs in its own thread and answers each request by asking
 *  the server's allow() callback, which must therefore be thread-safe.
 *  Admitted clients get the User-Id allow() names (the node id in hex);
 *  every message from their connection carries it as the "User-Id"
 *  property (zmq_msg_gets()).  Malformed requests, other mechanisms or
 *  domains are refused ("400").
 *
 *  This module decides nothing itself; it is not the registry, and ZAP
 *  runs only at handshake: a live session of a revoked node is ended by
 *  the transport's per-message check (server/transport.h).
 */
#ifndef CS_ZAP_H
#define CS_ZAP_H

#include <stdbool.h>
#include <stdint.h>

#include "attr.h"
#include "key.h"

#define CS_ZAP_DOMAIN "cigsync" /* ZMQ_ZAP_DOMAIN of the server socket */
#define CS_ZAP_USER_ID_MAX (CS_NODE_ID_HEX_LEN + 1) /* allow()'s user_id */

/* A running ZAP handler; opaque. */
struct cs_zap;

/* Binds the handler in ctx and starts its thread.
     ctx    the libzmq context of the server socket; must outlive the
            handler
     allow  called from the handler's thread with arg and the client's
            Curve25519 public key; returns true to admit it, after
            writing the User-Id (a NUL-terminated string, at most
            CS_NODE_ID_HEX_LEN characters) into user_id
     arg    passed to allow
     out    receives the handler, owned by the caller (cs_zap_destroy())
   Returns 0; CS_ERR_EXISTS if a handler is bound in ctx already; CS_ERR_IO
   if libzmq or the thread cannot start.  On failure *out is NULL. */
CS_MUST_CHECK int
cs_zap_new(void *ctx,
           bool (*allow)(void *arg, const uint8_t curve_pk[CS_KEY_CURVE_BYTES],
                         char user_id[CS_ZAP_USER_ID_MAX]),
           void *arg, struct cs_zap **out) CS_NONNULL(1, 2, 4);

/* Stops the handler's thread, unbinds it and frees *z; sets *z to NULL;
   does nothing if *z is NULL.  Close every socket that relies on it
   first: once it is gone, libzmq 4.3 admits any CURVE key. */
void cs_zap_destroy(struct cs_zap **z) CS_NONNULL(1);

/* Returns the handler's REP socket, for tests to read its options with
   zmq_getsockopt() only (it belongs to the handler's thread). */
void *cs_zap_socket(const struct cs_zap *z) CS_NONNULL(1);

#endif
