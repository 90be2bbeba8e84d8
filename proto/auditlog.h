/*  proto/auditlog.h - the audit log's leaves, signed tree heads and
 *  archives (ARCHITECTURE.md "Audit log"; PROTOCOL.md "Audit log").
 *
 *  The server appends a leaf for everything that changes what the
 *  consolidated replica holds or who may write to it:
 *
 *    BATCH       a node's batch it accepted: [1, at, origin, seq, hash,
 *                changes]; the signed batch itself is kept beside the log
 *                and found by (origin, seq), its hash bound by the leaf
 *    REFUSAL     one change of that batch it did not apply: [2, at,
 *                origin, seq, index, table, row, field, code, reason]
 *    CORRECTION  the server's own changes that re-assert what a refused
 *                change tried to overwrite: [3, at, changeset]
 *    ENROLL      a node enrolled: [4, at, name, role, office, pubkey]
 *    REVOKE      a node revoked: [5, at, name, node]
 *
 *  (at: ms since the epoch, the server's clock.)  The leaves are hashed
 *  into an RFC 6962 tree (common/merkle.h); the server signs each tree
 *  head it reaches: (size, time, root), under the domain "cigsync tree
 *  head v1\0" and the deployment id.  A node keeps the last head it
 *  verified and checks every newer one against it with a consistency
 *  proof, so a log rewritten behind its back is caught.
 *
 *  An archive is the whole log in one byte string, for an auditor: the
 *  magic "CSAUDIT1", a header [1, deployment, server key], then records
 *  [1, leaf] (in leaf order), [2, signed batch] (right after its BATCH
 *  leaf) and [3, size, time, root, sig] (tree heads, by size).  Every
 *  decoder here reads untrusted bytes through the bounded reader only
 *  and allocates nothing; tests/fuzz/auditlog_fuzz.c is its target.
 */
#ifndef CS_AUDITLOG_H
#define CS_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "key.h"
#include "proto.h"
#include "reader.h"
#include "writer.h"

#define CS_AUDIT_MAGIC "CSAUDIT1"
#define CS_AUDIT_MAGIC_LEN 8
#define CS_AUDIT_ARCHIVE_VERSION 1
#define CS_AUDIT_ROOT_BYTES 32  /* SHA-256 */
#define CS_AUDIT_LEAF_MAX 65536 /* bytes of one leaf */
#define CS_AUDIT_TEXT_MAX 1024  /* a name, table, row, field or reason */
#define CS_AUDIT_ROLE_MAX 16    /* "central", "site", "auditor" */
#define CS_AUDIT_OFFICE_MAX 64  /* an office code */

enum cs_leaf_kind {
    CS_LEAF_BATCH = 1,
    CS_LEAF_REFUSAL = 2,
    CS_LEAF_CORRECTION = 3,
    CS_LEAF_ENROLL = 4,
    CS_LEAF_REVOKE = 5
};

/* One decoded leaf; views point into the leaf bytes. */
struct cs_leaf {
    enum cs_leaf_kind kind;
    uint64_t at_ms;              /* when the server logged it */
    struct cs_node_id node;      /* BATCH, REFUSAL: origin; REVOKE */
    uint64_t seq;                /* BATCH, REFUSAL: the batch */
    uint8_t hash[CS_HASH_BYTES]; /* BATCH: the batch's hash */
    uint64_t count;              /* BATCH: changes in it */
    uint64_t index;              /* REFUSAL: which change of the batch */
    struct cs_view table, row;   /* REFUSAL */
    struct cs_view field;        /* REFUSAL: "" for the whole row */
    int64_t code;                /* REFUSAL: a negative CS_ERR_* */
    struct cs_view reason;       /* REFUSAL */
    struct cs_view changeset;    /* CORRECTION (changeset.h) */
    struct cs_view name;         /* ENROLL, REVOKE: the node's name */
    struct cs_view role;         /* ENROLL */
    struct cs_view office;       /* ENROLL: "" for an auditor */
    struct cs_pubkey pubkey;     /* ENROLL */
};

/* A signed tree head. */
struct cs_sth {
    uint64_t size;                     /* leaves in the tree */
    uint64_t time_ms;                  /* when signed */
    uint8_t root[CS_AUDIT_ROOT_BYTES]; /* RFC 6962 root of the leaves */
    uint8_t sig[CS_SIG_BYTES];         /* Ed25519 by the server */
};

/* Appends the encoding of leaf l (only the fields of its kind are read)
   to w.  Returns 0, CS_ERR_INVALID for an unknown kind or a text that is
   not UTF-8, CS_ERR_TOO_BIG, or w's error. */
CS_MUST_CHECK int cs_leaf_encode(struct cs_writer *w, const struct cs_leaf *l)
    CS_NONNULL(1, 2);

/* Decodes a leaf from untrusted bytes.  Returns 0, CS_ERR_FORMAT,
   CS_ERR_TRUNCATED, CS_ERR_TOO_BIG or CS_ERR_TRAILING; *l is zeroed on
   failure. */
CS_MUST_CHECK int cs_leaf_decode(const uint8_t *p, size_t len,
                                 struct cs_leaf *l) CS_NONNULL(3);

/* Signs h (size, time_ms, root filled in) with the server key k, for
   deployment: fills h->sig.  Returns 0 or CS_ERR_CRYPTO. */
CS_MUST_CHECK int cs_sth_sign(const struct cs_key *k,
                              const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                              struct cs_sth *h) CS_NONNULL(1, 2, 3);

/* True when h->sig is the server's (pk) signature of h for deployment. */
bool cs_sth_verify(const struct cs_pubkey *pk,
                   const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                   const struct cs_sth *h) CS_NONNULL(1, 2, 3);

/* Archive records. */
enum cs_audit_rec_type {
    CS_AUDIT_REC_LEAF = 1,
    CS_AUDIT_REC_BATCH = 2,
    CS_AUDIT_REC_HEAD = 3
};

/* Appends the archive's magic and header. */
CS_MUST_CHECK int
cs_audit_archive_begin(struct cs_writer *w,
                       const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                       const struct cs_pubkey *server) CS_NONNULL(1, 2, 3);

/* Appends a record: a leaf's or a signed batch's bytes. */
CS_MUST_CHECK int cs_audit_archive_bytes(struct cs_writer *w,
                                         enum cs_audit_rec_type type,
                                         const uint8_t *p, size_t len)
    CS_NONNULL(1, 3);

/* Appends a tree head record. */
CS_MUST_CHECK int cs_audit_archive_head(struct cs_writer *w,
                                        const struct cs_sth *h)
    CS_NONNULL(1, 2);

/* Reads an archive record by record; a value type for stack use. */
struct cs_audit_archive {
    struct cs_reader rd;                     /* position in the archive */
    uint8_t deployment[CS_DEPLOYMENT_BYTES]; /* from the header */
    struct cs_pubkey server;                 /* from the header */
};

/* One record. */
struct cs_audit_rec {
    enum cs_audit_rec_type type;
    struct cs_view bytes; /* LEAF, BATCH: a view into the archive */
    struct cs_sth head;   /* HEAD */
};

/* Parses the magic and header of the untrusted archive at p.  Returns 0,
   CS_ERR_FORMAT (not an archive, or another version), CS_ERR_TRUNCATED. */
CS_MUST_CHECK int cs_audit_archive_open(struct cs_audit_archive *a,
                                        const uint8_t *p, size_t len)
    CS_NONNULL(1);

/* Reads the next record.  Returns 0; CS_ERR_NOT_FOUND at the end; or a
   decode error (the rest cannot be read). */
CS_MUST_CHECK int cs_audit_archive_next(struct cs_audit_archive *a,
                                        struct cs_audit_rec *rec)
    CS_NONNULL(1, 2);

/* Names a leaf kind ("batch", "refusal", ...; "?" if unknown). */
const char *cs_leaf_kind_name(int kind);

#endif
