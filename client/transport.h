/*  client/transport.h - the office's end of the link: a CurveZMQ DEALER.
 *
 *  One DEALER connects to the server's ROUTER (server/transport.h) over
 *  TCP with CURVE (RFC 26): it authenticates the server by the server's
 *  identity (its Ed25519 key mapped to Curve25519) and itself by the
 *  node's key, which the server's ZAP handler checks.  A message is one
 *  frame of at most CS_FRAME_MAX bytes (proto.h); what it means is the
 *  session's business.
 *
 *  Socket options, and why:
 *    ZMQ_MAXMSGSIZE = CS_FRAME_MAX + CURVE's 33 bytes  a larger frame
 *        drops the connection before it is buffered (STYLE.md 27); see
 *        CS_CLI_TRANSPORT_CURVE_OVERHEAD
 *    ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL  10 s / 60 s / 60 s, for 64 kbit/s
 *        links; TTL at most 65,535 ms, which libzmq 4.3 wraps above
 *        (CS_CLI_TRANSPORT_HEARTBEAT_* below, as the server's)
 *    ZMQ_RECONNECT_IVL = 1 s, ZMQ_RECONNECT_IVL_MAX = 60 s  libzmq's
 *        default (max 0) retries every 100 ms for ever; this doubles the
 *        wait up to a minute, so a dead link costs little battery or data
 *    ZMQ_IMMEDIATE = 1  nothing is queued while no connection is up, so a
 *        send to a dead link fails (times out) instead of piling up
 *    ZMQ_LINGER = 2 s  cs_cli_transport_destroy() never hangs on a link
 *        that is down (the default, -1, waits for ever); anything unsent
 *        was not acknowledged, and the session sends it again
 *
 *  Not thread-safe: one thread uses a transport.
 */
#ifndef CS_CLI_TRANSPORT_H
#define CS_CLI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "err.h"
#include "key.h"
#include "proto.h"

#define CS_CLI_TRANSPORT_HEARTBEAT_IVL_MS 10000     /* PING after 10 s */
#define CS_CLI_TRANSPORT_HEARTBEAT_TIMEOUT_MS 60000 /* dead after 60 s */
#define CS_CLI_TRANSPORT_HEARTBEAT_TTL_MAX_MS 65535 /* 4.3 wraps above */
#define CS_CLI_TRANSPORT_HEARTBEAT_TTL_MS 60000     /* clamped to it */
#define CS_CLI_TRANSPORT_RECONNECT_MS 1000          /* first retry */
#define CS_CLI_TRANSPORT_RECONNECT_MAX_MS 60000     /* back-off ceiling */
#define CS_CLI_TRANSPORT_LINGER_MS 2000 /* unsent data kept on close */

/* ZMQ_MAXMSGSIZE counts the CURVE MESSAGE command on the wire: 8 bytes of
   command name, an 8-byte nonce, a 16-byte tag and a flags byte around
   the payload (RFC 26; measured with libzmq 4.3.4), so the limit that
   passes exactly CS_FRAME_MAX bytes is CS_FRAME_MAX + 33. */
#define CS_CLI_TRANSPORT_CURVE_OVERHEAD 33 /* bytes around a payload */
#define CS_CLI_TRANSPORT_MAXMSGSIZE                                            \
    (CS_FRAME_MAX + CS_CLI_TRANSPORT_CURVE_OVERHEAD) /* ZMQ_MAXMSGSIZE */

/* Result of send and recv when the time is up. */
#define CS_CLI_TRANSPORT_ERR_TIMEOUT CS_ERR_TIMEOUT

/* A connecting client socket; opaque. */
struct cs_cli_transport;

/* Creates the DEALER and starts connecting (in the background: the
   connection comes and goes by itself, with back-off).
     endpoint  the server, e.g. "tcp://hub.example.org:7711"
     key       this node's key pair; not kept
     server    the server's identity (public key); not kept
     out       receives the transport, owned by the caller
   Returns 0; CS_ERR_KEY if a key has no Curve25519 form; CS_ERR_IO if
   libzmq fails or refuses the endpoint (logged).  On failure *out is
   NULL. */
CS_MUST_CHECK int cs_cli_transport_new(const char *endpoint,
                                       const struct cs_key *key,
                                       const struct cs_pubkey *server,
                                       struct cs_cli_transport **out)
    CS_NONNULL(1, 2, 3, 4);

/* As cs_cli_transport_new(), with another back-off ceiling: `sync` runs
   for a bounded time and should not sleep a minute between attempts.
     reconnect_max_ms  ZMQ_RECONNECT_IVL_MAX, at least
                       CS_CLI_TRANSPORT_RECONNECT_MS */
CS_MUST_CHECK int cs_cli_transport_new_backoff(const char *endpoint,
                                               const struct cs_key *key,
                                               const struct cs_pubkey *server,
                                               int reconnect_max_ms,
                                               struct cs_cli_transport **out)
    CS_NONNULL(1, 2, 3, 5);

/* Closes the socket, waiting at most CS_CLI_TRANSPORT_LINGER_MS to flush
   what is queued, frees *t and sets *t to NULL; does nothing if *t is
   NULL.  Never hangs, whatever the link. */
void cs_cli_transport_destroy(struct cs_cli_transport **t) CS_NONNULL(1);

/* Returns the DEALER socket, for a zmq_poll() set or getsockopt(). */
void *cs_cli_transport_socket(const struct cs_cli_transport *t) CS_NONNULL(1);

/* Queues one frame for the server.
     t           the transport
     p           the frame (NULL allowed when len is 0)
     len         its length, at most CS_FRAME_MAX
     timeout_ms  how long to wait for a connection or queue room; 0: not
                 at all; -1: for ever
   Returns 0; CS_CLI_TRANSPORT_ERR_TIMEOUT; CS_ERR_TOO_BIG if len >
   CS_FRAME_MAX; CS_ERR_IO if libzmq fails. */
CS_MUST_CHECK int cs_cli_transport_send(struct cs_cli_transport *t,
                                        const uint8_t *p, size_t len,
                                        int timeout_ms) CS_NONNULL(1);

/* Receives one frame from the server.
     t           the transport
     buf         receives it; CS_FRAME_MAX bytes
     len         receives its length
     timeout_ms  as for send
   Returns 0; CS_CLI_TRANSPORT_ERR_TIMEOUT (*len is 0); CS_ERR_FORMAT for
   a message of more than one frame (dropped); CS_ERR_IO. */
CS_MUST_CHECK int cs_cli_transport_recv(struct cs_cli_transport *t,
                                        uint8_t buf[CS_FRAME_MAX], size_t *len,
                                        int timeout_ms) CS_NONNULL(1, 2, 3);

/* Returns the socket that receives connection events, for a zmq_poll()
   set (ZMQ_POLLIN). */
void *cs_cli_transport_monitor(const struct cs_cli_transport *t) CS_NONNULL(1);

/* Reads one connection event without waiting: *event is a ZMQ_EVENT_*
   (HANDSHAKE_SUCCEEDED: a session can start; DISCONNECTED: it ended;
   HANDSHAKE_FAILED_AUTH: the server refused this node's key, *value the
   ZAP status code; HANDSHAKE_FAILED_PROTOCOL / NO_DETAIL: the handshake
   failed otherwise, e.g. a wrong server key).  Returns 0,
   CS_CLI_TRANSPORT_ERR_TIMEOUT when none is waiting, CS_ERR_FORMAT,
   CS_ERR_IO. */
CS_MUST_CHECK int cs_cli_transport_event(struct cs_cli_transport *t, int *event,
                                         int *value) CS_NONNULL(1, 2, 3);

#endif
