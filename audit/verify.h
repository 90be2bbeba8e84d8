/*  audit/verify.h - `audit verify`: checks an audit log archive
 *  (proto/auditlog.h) and replays it into a fresh replica.
 *
 *  The same code runs on the server (`cigsync-server audit DIR verify`,
 *  over an archive of its own store) and on an auditor node (`cigsync
 *  audit verify`, over an archive fetched from the server), so an
 *  auditor trusts nothing the server says that it cannot check:
 *
 *    - the archive is the deployment's and signed by the server's key
 *      the node was configured with;
 *    - every leaf decodes; the keys of nodes come from ENROLL leaves, and
 *      a batch of a node that was never enrolled, or was revoked, is a
 *      problem;
 *    - every BATCH leaf is followed by its signed batch, whose hash is
 *      the leaf's, whose signature is its origin's, and which follows the
 *      origin's previous batch (seq and chain link);
 *    - every signed tree head carries the server's signature and the root
 *      of the first size leaves, sizes grow, times do not go back, and
 *      the last head covers every leaf;
 *    - the replay: the accepted changes of every batch (those not named
 *      by a REFUSAL leaf) and the server's corrections, applied in log
 *      order to a fresh replica with the store's own merge, give exactly
 *      the rows and values of the replica compared; each difference names
 *      the table, row and field, both values, and the leaf that wrote the
 *      value the log gives.
 *
 *  Each problem is said as one line; the verification goes on after a
 *  problem, so one run lists them all (up to a cap on differences).
 */
#ifndef CS_VERIFY_H
#define CS_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attr.h"
#include "key.h"
#include "proto.h"
#include "store.h"

/* Called with one line per problem. */
typedef void (*cs_verify_say_fn)(void *arg, const char *line);

/* What a verification looked at. */
struct cs_verify_report {
    uint64_t leaves, batches, changes, refusals, corrections;
    uint64_t enrolments, revocations, heads;
    uint64_t rows;     /* rows compared */
    uint64_t problems; /* lines said */
    double seconds;    /* wall time */
};

/* Verifies the archive at p (untrusted bytes).
     deployment  the deployment it must belong to
     server      the server key that must sign it
     compare     the replica the replay must equal (NULL: no replay)
     scratch     a directory for the replay's temporary replica
     say, arg    told every problem
     rep         receives the counts
   Returns 0 when there is no problem; CS_ERR_AUDIT when there is any;
   another error when the verification itself could not run. */
CS_MUST_CHECK int
cs_verify_archive(const uint8_t *p, size_t len,
                  const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                  const struct cs_pubkey *server, struct cs_store *compare,
                  const char *scratch, cs_verify_say_fn say, void *arg,
                  struct cs_verify_report *rep) CS_NONNULL(3, 4, 6, 7, 9);

/* Prints the one-line summary of rep to f: entries, batches, changes,
   refusals, corrections, enrolments, revocations, heads, rows compared
   (of what: "the consolidated replica", "this replica") and the time. */
void cs_verify_print(FILE *f, const struct cs_verify_report *rep,
                     const char *what) CS_NONNULL(1, 2, 3);

#endif
