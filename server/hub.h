/*  server/hub.h - `cigsync-server run`: the sync sessions of every node.
 *
 *  One thread serves every node over one transport (transport.h), one
 *  message at a time, with the consolidated replica open in the same
 *  thread; the ZAP handler's thread only reads the snapshot of the
 *  registry (below), under a mutex.
 *
 *  A session (PROTOCOL.md "Session flow"):
 *    1. the node sends HELLO (what it has), ACK (where to resume our
 *       half-sent envelope) and CREDIT; the server answers likewise;
 *    2. upstream: each complete envelope from the node is opened,
 *       verified (signature, chain, deployment), checked change by change
 *       (the replica can take it; the node's write scope), and applied,
 *       stored and its refusals recorded and corrected, in one
 *       transaction; then REFUSED (if any), ACK and CREDIT go back;
 *    3. downstream: batches of the node's feed (down.h) go out under the
 *       node's credit, and are forgotten once it acknowledges them; every
 *       batch applied from any node makes the server look for news for
 *       every live session;
 *    4. when the node says STATUS and neither side lacks anything, the
 *       server compares the node's digest of its content with its own
 *       over the node's scope (store.h cs_store_digest()); equal, it
 *       answers STATUS; different, it logs it and repairs by sending the
 *       node's whole scope again, once; still different, it answers
 *       STATUS with its digest and logs an error.
 *  A session has no end of its own: a node that is done disconnects, and
 *  its state (half-received envelope, kept envelope) waits for its next
 *  HELLO.
 *
 *  The registry is re-read every CS_HUB_RELOAD_MS: a node revoked by
 *  `cigsync-server revoke` in another process is refused at its next
 *  handshake (ZAP), its next message (transport.h), and its live session is
 *  ended with ERROR right away.
 */
#ifndef CS_HUB_H
#define CS_HUB_H

#include <signal.h>

#include "attr.h"
#include "bundle.h"
#include "key.h"
#include "srvdir.h"

#define CS_HUB_RELOAD_MS 1000 /* registry re-read, ms */
#define CS_HUB_POLL_MS 250    /* longest wait for a message, ms */

/* Serves until *stop becomes non-zero (a signal handler sets it).
     d         the open server directory
     k         the server's key pair
     endpoint  what to bind (the config's "listen" unless overridden)
     stop      set by the caller's signal handler
   Returns 0 after a clean stop, or CS_ERR_IO (cannot bind), a store
   error. */
int cs_hub_run(struct cs_srvdir *d, const struct cs_key *k,
               const char *endpoint, volatile sig_atomic_t *stop) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* What cs_hub_import() did. */
struct cs_hub_import_stats {
    char node[CS_REGISTRY_NAME_MAX + 1]; /* the sender's name */
    uint64_t batches;                    /* batches applied */
    uint64_t duplicates;                 /* batches applied before */
    uint64_t changes;                    /* changes applied */
    uint64_t refused;                    /* changes refused (logged) */
    uint32_t bad_envelope; /* 1-based: the envelope that did not open */
};

/* Applies the envelopes of a parsed bundle from a node exactly as if they
   had come over the network (check, scope, apply, record, correct), one
   transaction per batch; batches applied before change nothing.  The
   caller checked the bundle's recipient, kind and deployment.
   Every envelope is opened first: if one does not open (it is not the
   sender's, or was altered), nothing is applied and st->bad_envelope
   says which.  The bundle's acknowledgement then lets the server forget
   its batches for the node that the node holds.
   Returns 0; CS_ERR_NOT_FOUND (sender not enrolled); CS_ERR_REVOKED; the
   refusal of the first batch that fails (nothing after it is applied). */
int cs_hub_import(struct cs_srvdir *d, const struct cs_key *k,
                  const struct cs_bundle *b,
                  struct cs_hub_import_stats *st) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

#endif
