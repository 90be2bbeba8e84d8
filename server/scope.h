/*  server/scope.h - who may write and read which records.
 *
 *  A node's role and office decide its scope (ARCHITECTURE.md "Sync"):
 *  a site writes and reads its own office's rows only; central writes and
 *  reads all; an auditor reads all and writes nothing.  A row belongs to
 *  the office in its office_id, so restricted tables (vulnerability) and
 *  personal fields never reach another regional office: a site reads only
 *  its own office's rows.  The server checks every change of every batch
 *  with cs_scope_check() before it applies any; refused changes are
 *  reported back (REFUSED) and the rest of the batch still applies.
 */
#ifndef CS_SCOPE_H
#define CS_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "attr.h"
#include "change.h"
#include "registry.h"
#include "store.h"

#define CS_SCOPE_OFFICE_MAX 8   /* office code, bytes */
#define CS_SCOPE_REASON_MAX 160 /* a refusal's text, bytes */

enum cs_role {
    CS_ROLE_SITE = 1,    /* a regional office */
    CS_ROLE_CENTRAL = 2, /* the central office */
    CS_ROLE_AUDITOR = 3  /* reads everything, writes nothing */
};

/* A node's scope. */
struct cs_scope {
    enum cs_role role;                    /* what it is */
    char office[CS_SCOPE_OFFICE_MAX + 1]; /* its office, "" if none */
};

/* A change refused by cs_scope_check(). */
struct cs_scope_refusal {
    size_t index;                     /* which change of the batch */
    int code;                         /* CS_ERR_PERM */
    char reason[CS_SCOPE_REASON_MAX]; /* for people */
};

/* Parses "site", "central" or "auditor".  Returns 0 or CS_ERR_INVALID. */
int cs_scope_role_parse(const char *text, enum cs_role *role) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Checks the n changes of one batch from a node of scope sc against the
   consolidated replica s: a change is in scope when the node may write the
   row it touches, the row's office being its office_id in s or, for a row
   s does not know yet, the office_id this batch gives it.  Fills
   refused[0..*nrefused) (room for n) with the changes out of scope.
   Returns 0 or a store error. */
int cs_scope_check(struct cs_store *s, const struct cs_scope *sc,
                   const struct cs_change *ch, size_t n,
                   struct cs_scope_refusal *refused,
                   size_t *nrefused) CS_MUST_CHECK CS_NONNULL(1, 2, 6);

/* Returns true if a node of scope sc may read a row of office office. */
bool cs_scope_readable(const struct cs_scope *sc, const char *office)
    CS_NONNULL(1, 2);

/* The scope of an enrolled node: its role and office from the registry. */
void cs_scope_of(const struct cs_registry_node *n, struct cs_scope *sc)
    CS_NONNULL(1, 2);

#endif
