/*  server/registry.h - the nodes the server admits, and a record of every
 *  enrolment and revocation.
 *
 *  The registry lives in the consolidated replica itself (DIR/replica.db,
 *  store.h), in two bookkeeping tables beside the store's own zz_* tables,
 *  so that applying a node's batch and recording what was received from it
 *  can later be one SQLite transaction:
 *
 *    zz_srv_node   one row per enrolled node, revoked ones included: its
 *                  name (what the administrator types), role, office,
 *                  Ed25519 public key and node id (both unique: one key is
 *                  one node), status, and the counters the sync session
 *                  keeps (last seen, last batch received, bytes in and out)
 *    zz_srv_event  append-only: one row per enrolment and revocation, with
 *                  its time; triggers refuse UPDATE and DELETE.  The
 *                  tamper-evident audit log (ARCHITECTURE.md "Audit log")
 *                  is a later, separate thing; this is the plain record.
 *
 *  Roles (ARCHITECTURE.md "Sync"): a `site` writes and reads its own
 *  office's rows; `central` writes and reads all, and has an office code
 *  for the rows it creates (CS_REGISTRY_CENTRAL_OFFICE unless given); an
 *  `auditor` reads all and writes nothing, and has no office.
 *
 *  Node names are what `enroll`, `revoke` and the logs show: 1 to
 *  CS_REGISTRY_NAME_MAX printable ASCII characters (space allowed inside),
 *  not starting with '-' (it would read as an option).  Rows are checked
 *  again when read, so what is printed from the registry is always such
 *  ASCII, even if someone edited the file with another SQLite tool.
 *
 *  Every write is one transaction (BEGIN IMMEDIATE ... COMMIT) that checks
 *  before it writes: on any error nothing is written.  This module prints
 *  nothing; failures leave a sentence in cs_registry_errmsg() where the
 *  code alone would not say enough.  Times are ms since the Unix epoch
 *  (cs_hlc_wall_ms()), passed in by the caller.
 */
#ifndef CS_REGISTRY_H
#define CS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "attr.h"
#include "err.h"
#include "key.h"

#define CS_REGISTRY_VERSION "1"          /* zz_meta registry_version we write */
#define CS_REGISTRY_NAME_MAX 64          /* longest node name, bytes */
#define CS_REGISTRY_OFFICE_MIN 2         /* office codes: 2..8 of [A-Z0-9], */
#define CS_REGISTRY_OFFICE_MAX 8         /* as the store's (store.h) */
#define CS_REGISTRY_CENTRAL_OFFICE "CEN" /* a central node's default */
#define CS_REGISTRY_SCOPE_MAX 64   /* cs_registry_scope() text, with NUL */
#define CS_REGISTRY_ERRMSG_MAX 256 /* cs_registry_errmsg(), with NUL */

/* Codes of the refusals, apart from CS_ERR_DB and CS_ERR_LOCKED. */
#define CS_REGISTRY_ERR_TAKEN CS_ERR_EXISTS    /* name or key enrolled */
#define CS_REGISTRY_ERR_SELF CS_ERR_KEY        /* the server's own key */
#define CS_REGISTRY_ERR_REVOKED CS_ERR_DELETED /* revoked already */

/* What a node may do. */
enum cs_registry_role {
    CS_REGISTRY_SITE = 0,    /* writes and reads its own office */
    CS_REGISTRY_CENTRAL = 1, /* writes and reads all */
    CS_REGISTRY_AUDITOR = 2  /* reads all, writes nothing */
};

/* One row of zz_srv_node. */
struct cs_registry_node {
    char name[CS_REGISTRY_NAME_MAX + 1];     /* cs_registry_name_valid() */
    enum cs_registry_role role;              /* what it may do */
    char office[CS_REGISTRY_OFFICE_MAX + 1]; /* its office; "" for auditor */
    struct cs_pubkey key;                    /* its Ed25519 public key */
    struct cs_node_id node;                  /* node id of key */
    bool revoked;                            /* refused from now on */
    uint64_t enrolled_ms;                    /* when enrolled */
    uint64_t revoked_ms;                     /* when revoked; 0 if active */
    uint64_t last_seen_ms;                   /* last session; 0 never */
    uint64_t last_seq;                       /* last batch received, or 0 */
    uint64_t bytes_in;                       /* received from it */
    uint64_t bytes_out;                      /* sent to it */
};

/* A registry over an open database; a value type for stack use (STYLE.md
   10), touched only through the functions below. */
struct cs_registry {
    sqlite3 *db;                         /* the replica's handle; not owned */
    struct cs_node_id self;              /* the server's own node id */
    char errmsg[CS_REGISTRY_ERRMSG_MAX]; /* last failure's sentence, or "" */
    /* Called inside the transaction of every enrolment and revocation,
       which it fails by returning an error (the audit log's leaf). */
    int (*audit)(void *arg, const struct cs_registry_node *n, bool revoke,
                 uint64_t now_ms);
    void *audit_arg; /* audit's */
};

/* Returns true if name is a usable node name (see the top of this file). */
bool cs_registry_name_valid(const char *name) CS_NONNULL(1);

/* Parses "site", "central" or "auditor" into *role.  Returns 0, or
   CS_ERR_INVALID for anything else. */
int cs_registry_role_parse(const char *text,
                           enum cs_registry_role *role) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Returns "site", "central" or "auditor" (static). */
const char *cs_registry_role_name(enum cs_registry_role role);

/* Writes node n's scope in words into out: "writes and reads ISF",
   "writes and reads all" or "reads all, writes nothing". */
void cs_registry_scope(const struct cs_registry_node *n,
                       char out[CS_REGISTRY_SCOPE_MAX]) CS_NONNULL(1, 2);

/* Starts a registry over the consolidated replica.  Cannot fail.
     reg   the registry
     db    the replica's handle (cs_store_db()); must outlive reg
     self  the server's node id (cs_store_self()), which no node may have */
void cs_registry_init(struct cs_registry *reg, sqlite3 *db,
                      const struct cs_node_id *self) CS_NONNULL(1, 2, 3);

/* Returns the sentence describing the last failure, or "" if none. */
const char *cs_registry_errmsg(const struct cs_registry *reg) CS_NONNULL(1);

/* Creates zz_srv_node, zz_srv_event and their triggers in the replica and
   records CS_REGISTRY_VERSION in zz_meta, in one transaction.  For a new
   server directory only.  Returns 0, CS_ERR_LOCKED or CS_ERR_DB (also when
   the tables exist already). */
int cs_registry_install(struct cs_registry *reg) CS_MUST_CHECK CS_NONNULL(1);

/* Checks that the replica holds a registry of CS_REGISTRY_VERSION.
   Returns 0; CS_ERR_SCHEMA if it has none or another version;
   CS_ERR_LOCKED or CS_ERR_DB. */
int cs_registry_check(struct cs_registry *reg) CS_MUST_CHECK CS_NONNULL(1);

/* Enrols node n (name, role, office, key; the node id is computed here,
   the counters start at zero) at time now_ms, and records the event, in
   one transaction.
     reg     the registry
     n       the node; n->office "" for an auditor, a code otherwise
     now_ms  the time of enrolment
     other   when the name or the key is taken, receives the node that
             holds it (name first: if both are taken, the name's holder)
   Returns 0; CS_ERR_INVALID if n breaks the rules above (name, office for
   the role); CS_REGISTRY_ERR_SELF if n->key is the server's own (its node
   id is the replica's); CS_REGISTRY_ERR_TAKEN with *other filled;
   CS_ERR_SCHEMA for a damaged row; CS_ERR_LOCKED; CS_ERR_DB. */
int cs_registry_enroll(struct cs_registry *reg,
                       const struct cs_registry_node *n, uint64_t now_ms,
                       struct cs_registry_node *other) CS_MUST_CHECK
    CS_NONNULL(1, 2, 4);

/* Revokes a node and records the event, in one transaction.
     reg     the registry
     name    the node's name
     now_ms  the time of revocation
     n       receives the node as it now is
   Returns 0;
   CS_ERR_NOT_FOUND if no node has that name; CS_REGISTRY_ERR_REVOKED if it
   is revoked already (*n tells when); CS_ERR_SCHEMA; CS_ERR_LOCKED;
   CS_ERR_DB. */
int cs_registry_revoke(struct cs_registry *reg, const char *name,
                       uint64_t now_ms,
                       struct cs_registry_node *n) CS_MUST_CHECK
    CS_NONNULL(1, 2, 4);

/* Reads the node called name into *n.  Returns 0, CS_ERR_NOT_FOUND,
   CS_ERR_SCHEMA (a damaged row), CS_ERR_LOCKED or CS_ERR_DB. */
int cs_registry_get(struct cs_registry *reg, const char *name,
                    struct cs_registry_node *n) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3);

/* Calls fn for every node, revoked ones included, in name order (byte
   order).
     reg  the registry
     fn   called with arg and each node (valid during the call); returns
          0 to go on, or a negative code to stop, which is returned.  It
          must not write the registry.
     arg  passed to fn
   Returns 0, fn's code, CS_ERR_SCHEMA (a damaged row),
   CS_ERR_LOCKED or CS_ERR_DB. */
int cs_registry_list(struct cs_registry *reg,
                     int (*fn)(void *arg, const struct cs_registry_node *n),
                     void *arg) CS_MUST_CHECK CS_NONNULL(1, 2);

#endif
