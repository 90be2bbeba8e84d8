/*  client/sync.h - the office's side of a sync session: `cigsync sync`
 *  (one round) and `cigsync daemon` (for ever).
 *
 *  The node connects to the server its config names (client/transport.h),
 *  and at every handshake starts a session (PROTOCOL.md "Session flow"):
 *  HELLO with what it has (its own feed, and the server's feed to it), ACK
 *  with where to resume an envelope it was receiving, CREDIT.  Then:
 *    - its own batches the server lacks go up, under the server's credit
 *      (proto/flow.h), sealed into envelopes for the server; pending local
 *      changes are sealed first (client/feed.h), and, in the daemon,
 *      whenever the replica changes (any SQLite client), within about a
 *      second;
 *    - the server's batches come down, are verified and applied
 *      (cs_feed_accept(), the server as relay) and acknowledged once
 *      committed;
 *    - REFUSED changes are reported on stderr (the server corrects them
 *      with batches of its own);
 *    - when nothing is left either way the node sends STATUS with the
 *      digest of its content; the server answers STATUS once it agrees
 *      (after a repair if needed).  Equal digests: in step.
 *  A dropped link ends the session; the next handshake starts another,
 *  and the resume points carry on where the last one stopped.
 *
 *  The deployment id is learnt from the server's first HELLO (the server
 *  is authenticated by its key) unless `init --deployment` gave it, and
 *  kept in zz_meta "deployment".  zz_meta also keeps, for `status`:
 *  last_sync (ms of the last time in step), server_acked (the last of our
 *  batches the server acknowledged), bytes_sent and bytes_received.
 */
#ifndef CS_SYNC_H
#define CS_SYNC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "attr.h"
#include "key.h"
#include "nodedir.h"
#include "proto.h"
#include "store.h"

#define CS_SYNC_TICK_MS 250           /* longest wait between looks */
#define CS_SYNC_LOCAL_MS 1000         /* daemon: look for local edits */
#define CS_SYNC_TIMEOUT_MS 15000      /* sync: default connect timeout */
#define CS_SYNC_RETRY_MS 10000        /* daemon: after a session error */
#define CS_SYNC_HELLO_MS 20000        /* HELLO unanswered: send it again */
#define CS_SYNC_RECONNECT_MAX_MS 4000 /* sync: back-off ceiling */
#define CS_SYNC_STALL_MS 60000        /* live, yet silent: start again */
#define CS_SYNC_PROGRESS_MS 250       /* progress line refresh */
#define CS_SYNC_DOWN_QUIET_MS 20      /* least wait for more after a batch */

/* How to run. */
struct cs_sync_opts {
    bool daemon;                 /* keep syncing until *stop */
    int timeout_ms;              /* sync: give up when not connected for
                                    this long */
    bool progress;               /* a progress line on stderr */
    volatile sig_atomic_t *stop; /* set by a signal handler; may be NULL */
    bool fetch_log;              /* sync, then fetch the audit log archive
                                    into res->log (auditor, central) */
};

/* What happened. */
struct cs_sync_result {
    bool in_step;              /* the last session ended in step */
    uint64_t batches_sent;     /* our batches the server acknowledged */
    uint64_t batches_received; /* the server's batches applied */
    uint64_t changes_received; /* changes in them, applied or duplicate */
    uint64_t bytes_sent;       /* envelope bytes sent */
    uint64_t bytes_received;   /* envelope bytes received */
    uint64_t bytes_resent;     /* of bytes_sent, sent again after a cut */
    uint64_t refused;          /* changes the server refused */
    uint64_t sessions;         /* handshakes */
    uint64_t tree_size;        /* the audit log's size, as last verified */
    uint64_t receipts;         /* our batches proven in the audit log */
    uint8_t *log;              /* fetch_log: the archive, owned by the
                                  caller (free()) */
    size_t log_len;            /* its length */
};

/* The zz_meta keys of the audit log's last verified tree head. */
#define CS_SYNC_TREE_SIZE "audit_tree_size"
#define CS_SYNC_TREE_ROOT "audit_tree_root"
#define CS_SYNC_TREE_TIME "audit_tree_time"
#define CS_SYNC_LOG_MAX ((size_t)1 << 32) /* archive bytes accepted */

/* Runs the sync of node directory d with key k.  Prints its errors (one
   line each, out.h).  Returns 0 (sync: in step; daemon: stopped);
   CS_ERR_TIMEOUT (not connected within opts->timeout_ms); CS_ERR_REVOKED
   (the server refused this node's key, or revoked it); CS_ERR_KEY (the
   handshake failed: wrong server key?); CS_ERR_CHAIN (the replica still
   differs from the server's after a repair, or the server's feed does
   not follow what we hold); CS_ERR_AUDIT (the server's audit log is not
   consistent with the head this node kept, or a receipt does not prove
   our batch: the alarm is printed); CS_ERR_USAGE (no server configured); an
   error the server sent; a store or protocol error. */
int cs_sync_run(struct cs_nodedir *d, const struct cs_key *k,
                const struct cs_sync_opts *opts,
                struct cs_sync_result *res) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* Reads the deployment id this node learnt or was given (zz_meta
   "deployment"); *known false if none.  Returns 0 or a store error. */
int cs_sync_deployment(struct cs_store *s, uint8_t dep[CS_DEPLOYMENT_BYTES],
                       bool *known) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Records the deployment id.  Returns 0 or a store error. */
int cs_sync_set_deployment(struct cs_store *s,
                           const uint8_t dep[CS_DEPLOYMENT_BYTES]) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Reads the server's identity from the config into *pk and its node id
   into *id.  Returns 0, or CS_ERR_USAGE (printed) when none is
   configured. */
int cs_sync_server(const struct cs_nodedir *d, struct cs_pubkey *pk,
                   struct cs_node_id *id) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Writes an unsigned number into zz_meta. */
int cs_sync_meta_set_u64(struct cs_store *s, const char *key,
                         uint64_t v) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Reads an unsigned number kept in zz_meta (0 when absent). */
int cs_sync_meta_u64(struct cs_store *s, const char *key,
                     uint64_t *v) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

#endif
