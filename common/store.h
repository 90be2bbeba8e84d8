/*  common/store.h - the replica store: schema, change capture, merge.
 *
 *  A replica is a plain SQLite file.  The user's tables (the programme
 *  schema, common/schema.sql) hold the current records and may be edited by
 *  any SQLite client.  Bookkeeping lives in tables named zz_* (so that they
 *  list after the user's data in any SQLite tool):
 *
 *    zz_meta      key/value facts about this replica (node id, office, ...)
 *    zz_state     one row: the hybrid logical clock, the capture switch and
 *                 the test-only clock override
 *    zz_table     which tables are synced (filled by schema.sql)
 *    zz_origin    node ids seen in the log, interned as small integers;
 *                 oid 1 is always this node
 *    zz_log       every change ever made or received: the write set
 *    zz_cell      the winning version of every field, and of every row's
 *                 life (inserted, deleted, restored)
 *    zz_conflict  concurrent edits that lost, derived from zz_log
 *
 *  Change capture.  Triggers generated from zz_table record each local
 *  insert, update (changed fields only) and delete in zz_log, computing the
 *  HLC in SQL from zz_state and the wall clock, so edits by any SQLite
 *  client are captured with no cigsync code loaded.  Applying remote
 *  changes turns capture off inside the applying transaction.
 *
 *  Merge rules (see the design note in store.c for the full argument):
 *  - every field is last-writer-wins on (HLC, origin node id);
 *  - a row's life is last-writer-wins among insert / delete / restore, so a
 *    delete wins over concurrent updates and an update never resurrects a
 *    row; restoring is an explicit operation (cs_store_restore, or an
 *    INSERT of the deleted id from any SQLite client);
 *  - every change names the version it replaced (its base).  A version that
 *    lost and was never the base of a later change was overwritten by
 *    someone who had not seen it: it is listed as a conflict.  Editing the
 *    field again, or deleting the row, settles its conflicts.
 *  The visible state and the conflicts are a pure function of the set of
 *  changes, so any order of arrival and any duplicates give the same result.
 */
#ifndef CS_STORE_H
#define CS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "attr.h"
#include "change.h"
#include "hlc.h"
#include "key.h"

#define CS_STORE_SCHEMA_VERSION 2      /* of common/schema.sql */
#define CS_STORE_ENGINE_VERSION 1      /* of the zz_* tables and triggers */
#define CS_STORE_BUSY_TIMEOUT_MS 2000  /* wait this long for a lock */
#define CS_STORE_SELF_OID 1            /* zz_origin id of this node */
#define CS_STORE_VALUE_MAX (16u << 20) /* largest field value, bytes */
#define CS_STORE_HASH_BYTES 32         /* batch hash (BLAKE2b-256) */

struct cs_store;

/* Counters filled by cs_store_apply. */
struct cs_apply_stats {
    uint64_t received;   /* changes handed in */
    uint64_t applied;    /* new to this replica, now in the log */
    uint64_t duplicates; /* already known, ignored */
    uint64_t rows;       /* rows recomputed */
};

/* What `cigsync status` shows. */
struct cs_store_status {
    uint64_t pending;     /* local changes not yet sent */
    uint64_t log_entries; /* changes in the log, local and remote */
    uint64_t conflicts;   /* listed conflicts */
    struct cs_hlc clock;  /* the replica's clock */
};

/* A synced table and its fields, from zz_table and PRAGMA table_info. */
struct cs_table {
    int tid;         /* zz_table id (local to this replica) */
    char *name;      /* table name */
    bool restricted; /* never leaves the owning and central offices */
    size_t ncols;    /* number of fields, including id */
    char **cols;     /* field names; cols[0] is "id" */
    char **types;    /* declared types, "" when none */
    bool *personal;  /* field is personal data */
};

/* Returns true if office is a valid office code: 2 to 8 of A-Z 0-9. */
bool cs_store_office_valid(const char *office) CS_NONNULL(1);

/* Creates a new replica at path (which must not exist) for node self
   (hex node id) of office, installs the bookkeeping tables, the programme
   schema and the capture triggers.  On success *out owns the open store.
   Returns 0, CS_ERR_EXISTS, CS_ERR_INVALID (bad office code) or CS_ERR_DB. */
int cs_store_create(const char *path, const struct cs_node_id *self,
                    const char *office, struct cs_store **out) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* Like cs_store_create, but runs schema_sql instead of the programme schema
   (tests use small schemas).  schema_sql must declare its tables in
   zz_table as common/schema.sql does. */
int cs_store_create_with_schema(const char *path, const struct cs_node_id *self,
                                const char *office, const char *schema_sql,
                                struct cs_store **out) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4, 5);

/* Opens an existing replica.  Returns 0, CS_ERR_NOT_FOUND (no file),
   CS_ERR_SCHEMA (not a cigsync replica, or of another engine version),
   CS_ERR_LOCKED or CS_ERR_DB. */
int cs_store_open(const char *path, struct cs_store **out) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Closes the store and sets *s to NULL; does nothing if *s is NULL. */
void cs_store_destroy(struct cs_store **s);

/* Returns the SQLite handle for read queries by the CLI.  Writes to synced
   tables through it are captured like any other client's. */
sqlite3 *cs_store_db(struct cs_store *s) CS_NONNULL(1);

/* Reads column i of st's current row into *v, with SQLite's type numbers
   (change.h); text and blob pointers are borrowed until st steps again. */
void cs_store_column_value(sqlite3_stmt *st, int i, struct cs_value *v)
    CS_NONNULL(1, 3);

/* Returns a sentence describing the last failure of a store call (names the
   table, field or value at fault), or "" if none. */
const char *cs_store_errmsg(const struct cs_store *s) CS_NONNULL(1);

/* Returns this replica's node id and office. */
const struct cs_node_id *cs_store_self(const struct cs_store *s) CS_NONNULL(1);
const char *cs_store_office(const struct cs_store *s) CS_NONNULL(1);

/* Synced tables: by name (NULL if not synced), count, and by index. */
const struct cs_table *cs_store_table(const struct cs_store *s,
                                      const char *name) CS_NONNULL(1, 2);
size_t cs_store_table_count(const struct cs_store *s) CS_NONNULL(1);
const struct cs_table *cs_store_table_at(const struct cs_store *s, size_t i)
    CS_NONNULL(1);

/* Returns the index of field name in t->cols, or -1. */
int cs_table_col(const struct cs_table *t, const char *name) CS_NONNULL(1, 2);

/* One field assignment from the command line.  value NULL means NULL. */
struct cs_field {
    const char *name;  /* field name */
    const char *value; /* text; SQLite's column affinity converts it */
};

/* Inserts a row into table with the given fields; the id is generated
   unless a field named "id" is given; office_id defaults to this node's
   office.  Writes the id to id_out (CS_ID_MAX + 1 bytes).  Returns 0,
   CS_ERR_NO_TABLE, CS_ERR_NO_FIELD, CS_ERR_BAD_VALUE, CS_ERR_EXISTS (id in
   use), CS_ERR_LOCKED or CS_ERR_DB; cs_store_errmsg() says which. */
int cs_store_insert(struct cs_store *s, const char *table,
                    const struct cs_field *fields, size_t n,
                    char *id_out) CS_MUST_CHECK CS_NONNULL(1, 2, 5);

/* Sets fields of row id.  Returns 0, CS_ERR_NO_TABLE, CS_ERR_NO_FIELD,
   CS_ERR_BAD_VALUE, CS_ERR_NOT_FOUND, CS_ERR_DELETED, CS_ERR_INVALID (tries
   to change id), CS_ERR_LOCKED or CS_ERR_DB. */
int cs_store_update(struct cs_store *s, const char *table, const char *id,
                    const struct cs_field *fields, size_t n) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3);

/* Deletes row id (a tombstone that syncs).  Returns 0, CS_ERR_NO_TABLE,
   CS_ERR_NOT_FOUND, CS_ERR_DELETED (already), CS_ERR_LOCKED or CS_ERR_DB. */
int cs_store_delete(struct cs_store *s, const char *table,
                    const char *id) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Restores deleted row id with the latest value of every field, including
   edits that arrived while it was deleted.  Returns 0, CS_ERR_NO_TABLE,
   CS_ERR_NOT_FOUND (never existed here), CS_ERR_EXISTS (not deleted),
   CS_ERR_LOCKED or CS_ERR_DB. */
int cs_store_restore(struct cs_store *s, const char *table,
                     const char *id) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Reads the office a row belongs to: the winning value of its office_id,
   also for a deleted row.  *known is false when this replica has no
   office_id for it.  Returns 0, CS_ERR_NO_TABLE or CS_ERR_DB. */
int cs_store_row_office(struct cs_store *s, const char *table, const char *id,
                        char *office, size_t len, bool *known) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4, 6);

/* Returns true if row id of table was deleted (and not restored). */
bool cs_store_is_deleted(struct cs_store *s, const struct cs_table *t,
                         const char *id) CS_NONNULL(1, 2, 3);

/* Applies remote changes in one transaction: per-field last-writer-wins,
   row life, conflicts, as described above.  Changes of this node's own
   origin and changes already known are ignored.  Advances the clock to the
   latest HLC seen.  All or nothing: on error nothing is applied.  Returns 0,
   CS_ERR_NO_TABLE / CS_ERR_NO_FIELD (change for a table or field this
   replica does not have), CS_ERR_INVALID (bad op, id or value),
   CS_ERR_CLOCK_AHEAD (an HLC beyond the allowed bound), CS_ERR_LOCKED or
   CS_ERR_DB.  stats may be NULL. */
int cs_store_apply(struct cs_store *s, const struct cs_change *changes,
                   size_t n, struct cs_apply_stats *stats) CS_MUST_CHECK
    CS_NONNULL(1);

/* A batch of some origin, as the receiver tracks it. */
struct cs_batch_ref {
    struct cs_node_id origin;          /* whose batch */
    uint64_t seq;                      /* its number in the origin's feed */
    uint8_t prev[CS_STORE_HASH_BYTES]; /* hash of the one before */
    uint8_t hash[CS_STORE_HASH_BYTES]; /* its own hash */
};

/* Applies the changes of one verified batch (see cs_store_apply) and
   records it as the last applied from its origin, in one transaction: the
   caller may acknowledge the batch once this returns 0.  A batch already
   applied (seq at or below the last one) changes nothing and returns 0 with
   every change counted as a duplicate.  Returns CS_ERR_SEQUENCE if batches
   of the origin are missing before it, CS_ERR_CHAIN if its prev is not the
   hash of the last one applied, or any error of cs_store_apply; nothing is
   written on error. */
int cs_store_apply_batch(struct cs_store *s, const struct cs_batch_ref *ref,
                         const struct cs_change *changes, size_t n,
                         struct cs_apply_stats *stats) CS_MUST_CHECK
    CS_NONNULL(1);

/* Reads the last batch applied from origin: *seq (0 if none) and its
   hash (zeros if none).  Returns 0 or CS_ERR_DB. */
int cs_store_head(struct cs_store *s, const struct cs_node_id *origin,
                  uint64_t *seq,
                  uint8_t hash[CS_STORE_HASH_BYTES]) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* Calls fn for the last batch applied from each origin (prev is zeros):
   what HELLO tells the other side this replica has. */
int cs_store_heads(struct cs_store *s,
                   int (*fn)(void *arg, const struct cs_batch_ref *head),
                   void *arg) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Callback for cs_store_changes / cs_store_history: return 0 to go on, or
   a negative code to stop (it is returned). */
typedef int (*cs_change_fn)(void *arg, const struct cs_change *ch);

/* Calls fn for every change in the log after log position after (0 = from
   the start), in log order; only this node's own changes if local_only.
   *last is set to the position of each change before fn sees it, so a
   caller may stop early (fn returns non-zero) and go on later from *last. */
int cs_store_changes(struct cs_store *s, uint64_t after, bool local_only,
                     cs_change_fn fn, void *arg, uint64_t *last) CS_MUST_CHECK
    CS_NONNULL(1, 4, 6);

/* Calls fn for every change of one row, oldest first. */
int cs_store_history(struct cs_store *s, const char *table, const char *id,
                     cs_change_fn fn, void *arg) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* ---- this node's feed: its own changes sealed into numbered batches ---- */

/* Reads this node's last sealed batch: *seq (0 if none) and its hash
   (zeros if none).  Returns 0 or CS_ERR_DB. */
int cs_store_feed_head(struct cs_store *s, uint64_t *seq,
                       uint8_t hash[CS_STORE_HASH_BYTES]) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3);

/* Calls fn for up to max of this node's changes not yet in a batch, in log
   order, and then for the rest of the edit the last of them belongs to
   (the changes of one row's insert, update or delete are never split
   between two batches, so a batch may hold a few more than max).  *first and
   *last get the log positions of the first and last change visited (0 if none),
   *count how many.  Returns 0, fn's code, or CS_ERR_DB. */
int cs_store_pending(struct cs_store *s, size_t max, cs_change_fn fn, void *arg,
                     uint64_t *first, uint64_t *last,
                     size_t *count) CS_MUST_CHECK CS_NONNULL(1, 3, 5, 6, 7);

/* A sealed batch to record in the feed. */
struct cs_feed_entry {
    uint64_t seq;                      /* head + 1 */
    uint8_t prev[CS_STORE_HASH_BYTES]; /* head's hash */
    uint8_t hash[CS_STORE_HASH_BYTES]; /* this batch's hash */
    uint64_t first_lid;                /* log positions it carries ... */
    uint64_t last_lid;                 /* ... from first to last */
    uint64_t count;                    /* how many changes */
    const uint8_t *bytes;              /* the signed batch */
    size_t len;                        /* its length */
};

/* Records a sealed batch and marks its changes as carried, in one
   transaction, so that a crash never leaves two different batches with
   one sequence number.  Returns 0; CS_ERR_EXISTS if the feed head is no
   longer e->seq - 1 with hash e->prev, or the pending changes in the range
   are not e->count (another program sealed first: read the head and seal
   again); CS_ERR_LOCKED or CS_ERR_DB.  Nothing is written on error. */
int cs_store_feed_append(struct cs_store *s,
                         const struct cs_feed_entry *e) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Reads batch seq of this node's feed into a malloc'd copy.  Returns 0,
   CS_ERR_NOT_FOUND or CS_ERR_DB. */
int cs_store_feed_get(struct cs_store *s, uint64_t seq, uint8_t **bytes,
                      size_t *len) CS_MUST_CHECK CS_NONNULL(1, 3, 4);

/* A listed conflict: the version that lost, and what it lost to. */
struct cs_conflict {
    const char *table;         /* table name */
    const char *row_id;        /* row id */
    const char *col;           /* field name */
    bool deleted;              /* lost to a delete, not to another value */
    struct cs_value lost;      /* the losing value */
    struct cs_hlc lost_hlc;    /* when it was written */
    struct cs_node_id lost_by; /* by whom */
    struct cs_value won;       /* the current value (NULL if deleted) */
    struct cs_hlc won_hlc;     /* when the winner (or delete) was written */
    struct cs_node_id won_by;  /* by whom */
};

/* Calls fn for every listed conflict, ordered by table, row, field. */
int cs_store_conflicts(struct cs_store *s,
                       int (*fn)(void *arg, const struct cs_conflict *c),
                       void *arg) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Fills *st.  Returns 0 or CS_ERR_DB. */
int cs_store_status(struct cs_store *s,
                    struct cs_store_status *st) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Reads zz_meta key into a malloc'd string (*value NULL if absent). */
int cs_store_meta_get(struct cs_store *s, const char *key,
                      char **value) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Writes zz_meta key (value NULL removes it). */
int cs_store_meta_set(struct cs_store *s, const char *key,
                      const char *value) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Records a display name for a node id (shown by history and conflicts). */
int cs_store_origin_name(struct cs_store *s, const struct cs_node_id *node,
                         const char *name) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Looks up the display name of a node id; NULL if none. Returned string is
   valid until the next store call. */
const char *cs_store_origin_label(struct cs_store *s,
                                  const struct cs_node_id *node)
    CS_NONNULL(1, 2);

/* Sets the bound on how far ahead of the wall clock a remote HLC may be
   (default CS_HLC_MAX_AHEAD_MS_DEFAULT). */
void cs_store_set_max_ahead(struct cs_store *s, uint64_t ms) CS_NONNULL(1);

/* Test hook: makes the triggers and the store use ms as the wall clock
   (0 returns to the real clock).  Stored in the replica. */
int cs_store_set_clock_override(struct cs_store *s, uint64_t ms) CS_MUST_CHECK
    CS_NONNULL(1);

/* Recomputes every row's visible state and conflicts from the log and
   compares them with what the replica holds.  Returns 0 when they agree,
   CS_ERR_FORMAT when they differ (cs_store_errmsg names the first
   difference), or CS_ERR_DB. */
int cs_store_check(struct cs_store *s) CS_MUST_CHECK CS_NONNULL(1);

/* ---- for the server ------------------------------------------------------ */

/* Opens a transaction that the store calls made until cs_store_commit()
   join (each in a savepoint of its own), so that several of them become
   durable together.  Returns 0, CS_ERR_INVALID if one is open already, or
   CS_ERR_DB / CS_ERR_LOCKED. */
int cs_store_begin(struct cs_store *s) CS_MUST_CHECK CS_NONNULL(1);

/* Commits the transaction of cs_store_begin(); on failure it is rolled
   back.  Returns 0, CS_ERR_INVALID when none is open, or CS_ERR_DB. */
int cs_store_commit(struct cs_store *s) CS_MUST_CHECK CS_NONNULL(1);

/* Rolls back the transaction of cs_store_begin(), if one is open. */
void cs_store_rollback(struct cs_store *s) CS_NONNULL(1);

/* Checks that this replica can take change ch at all: a table it syncs, a
   field it has, a valid id, kind and value.  Returns 0, or
   CS_ERR_NO_TABLE, CS_ERR_NO_FIELD, CS_ERR_INVALID, CS_ERR_TOO_BIG, with
   the reason in cs_store_errmsg(). */
int cs_store_change_check(struct cs_store *s,
                          const struct cs_change *ch) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Writes, as this node's own change, the current winning state of one
   field (col) or of the row's life (col ""), with a clock later than
   after and than any change seen: the value does not change here, but
   the new version wins over a concurrent change made before it, such as
   one refused from a node (the server's correction).  Returns 0,
   CS_ERR_NO_TABLE, CS_ERR_NO_FIELD, CS_ERR_NOT_FOUND (no such row), or a
   store error. */
int cs_store_reassert(struct cs_store *s, const char *table, const char *id,
                      const char *col, struct cs_hlc after) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 4);

/* Computes a digest of the visible content: per synced table, its rows
   (of office only, unless office is NULL) in id order with every value,
   then every field's winning version (HLC and origin).  Two replicas that
   show the same rows and hold the same versions of them have the same
   digest.  *rows gets the number of rows.  Returns 0 or a store error. */
int cs_store_digest(struct cs_store *s, const char *office,
                    uint8_t digest[CS_STORE_HASH_BYTES],
                    uint64_t *rows) CS_MUST_CHECK CS_NONNULL(1, 3, 4);

/* With on, cs_store_apply() and cs_store_apply_batch() only log the
   changes and leave rows, winners and conflicts as they were, until
   cs_store_rebuild() recomputes them all at once: for a replay of many
   batches (audit verify) that would otherwise recompute a row once per
   batch that touches it.  The merge is the same, so the result is too. */
void cs_store_defer_rows(struct cs_store *s, bool on) CS_NONNULL(1);

/* Recomputes every row's visible state, winners and conflicts from the
   log and writes them, in one transaction: the repair for a replica whose
   tables were changed behind the log's back.  *rows gets the number of
   rows recomputed.  Returns 0 or a store error. */
int cs_store_rebuild(struct cs_store *s, uint64_t *rows) CS_MUST_CHECK
    CS_NONNULL(1, 2);

#endif
