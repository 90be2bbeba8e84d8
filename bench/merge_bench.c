/*  bench/merge_bench.c - merge throughput against raw SQLite upserts.
 *
 *      merge_bench [CHANGES [PER_BATCH]]      (defaults 100000, 5000)
 *
 *  Generates CHANGES changes of an office's work (bench/workload.h: new
 *  CIGs, persons and letters, field updates, letters of 300-2,000
 *  characters), seals them the way an office does (change list, zstd,
 *  Ed25519 signature, chained) into batches of PER_BATCH, each in an
 *  envelope for the receiver, and then times, in this one process:
 *
 *    office   cs_feed_accept() of every envelope into a fresh replica
 *             (decrypt, verify, decompress, decode, merge, commit): what
 *             a regional office or the central office does per batch
 *             received;
 *    server   what the server does per batch received (server/hub.c
 *             s_apply): open, verify, decode, the store's checks, the
 *             scope check of a site, apply, keep the batch for the
 *             other nodes, append the audit leaf and sign a tree head,
 *             in one transaction per batch;
 *    raw      the baseline: the same changes as plain SQLite upserts
 *             (INSERT ... ON CONFLICT(id) DO UPDATE of the one field, or
 *             DELETE) into tables of the same columns without triggers,
 *             indexes or constraints, one prepared statement per table
 *             and field, all in one transaction.
 *
 *  Every database is on disk with the settings its program uses
 *  (synchronous = FULL for the replicas, as shipped).  Prints changes per
 *  second of each and the ratios against raw; with --json, one JSON
 *  object instead.  Figures vary with the machine; the ratios less.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit.h"
#include "auditlog.h"
#include "down.h"
#include "envelope.h"
#include "err.h"
#include "feed.h"
#include "feedio.h"
#include "hlc.h"
#include "key.h"
#include "mem.h"
#include "registry.h"
#include "scope.h"
#include "srvdir.h"
#include "store.h"
#include "workload.h"
#include "writer.h"

static double
s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The sealed batches: one envelope per receiver. */
struct s_env {
    uint8_t *p;
    size_t len;
};

struct s_bench {
    struct cs_key *office;   /* the origin */
    struct cs_key *receiver; /* the office-side receiver */
    struct cs_key *server;   /* the server's key (its directory's) */
    struct cs_node_id office_id;
    uint8_t deployment[CS_DEPLOYMENT_BYTES];
    struct s_env *to_node;   /* envelopes for the receiver */
    struct s_env *to_server; /* the same batches for the server */
    size_t nenv;
    const struct cs_change *ch;
    size_t n;
};

static int
s_lookup(void *arg, const struct cs_node_id *node, struct cs_pubkey *pk)
{
    const struct s_bench *b = arg;

    if (memcmp(node->b, b->office_id.b, CS_NODE_ID_BYTES) != 0)
        return CS_ERR_NOT_FOUND;
    *pk = *cs_key_public(b->office);
    return 0;
}

static int
s_envelope(const struct s_bench *b, const struct cs_key *to,
           const struct cs_writer *batch, struct s_env *e)
{
    struct cs_writer w;
    int r;

    cs_writer_init(&w, CS_ENVELOPE_MAX);
    r = cs_envelope_seal(b->office, cs_key_public(to), b->deployment,
                         CS_ENVELOPE_KIND_BATCH, cs_writer_data(batch),
                         cs_writer_len(batch), &w);
    if (r == 0) {
        e->len = cs_writer_len(&w);
        e->p = cs_xmalloc(e->len);
        memcpy(e->p, cs_writer_data(&w), e->len);
    }
    cs_writer_free(&w);
    return r;
}

/* Seals b->ch into batches of per, an envelope for each receiver. */
static int
s_seal_all(struct s_bench *b, size_t per)
{
    uint8_t prev[CS_HASH_BYTES], hash[CS_HASH_BYTES];
    struct cs_change *ch = cs_xcalloc(per + 64, sizeof *ch);
    size_t cap = b->n / per + 1;
    int r = 0;

    memset(prev, 0, sizeof prev);
    b->to_node = cs_xcalloc(cap, sizeof *b->to_node);
    b->to_server = cs_xcalloc(cap, sizeof *b->to_server);
    for (size_t at = 0, k = 0; at < b->n && r == 0; at += k) {
        struct cs_writer out;

        k = b->n - at < per ? b->n - at : per;
        /* An office never ends a batch inside one edit (store.h
           cs_store_pending()); here: inside one row's run of changes. */
        while (at + k < b->n && k < per + 64 &&
               strcmp(b->ch[at + k].row_id, b->ch[at + k - 1].row_id) == 0)
            k++;

        for (size_t i = 0; i < k; i++) {
            ch[i] = b->ch[at + i];
            ch[i].origin = b->office_id;
            if (ch[i].has_base)
                ch[i].base_origin = b->office_id;
        }
        cs_writer_init(&out, CS_BATCH_MAX);
        r = cs_feedio_seal(b->office, b->deployment, b->nenv + 1, prev, ch, k,
                           &out, hash, NULL);
        if (r == 0)
            r = s_envelope(b, b->receiver, &out, &b->to_node[b->nenv]);
        if (r == 0)
            r = s_envelope(b, b->server, &out, &b->to_server[b->nenv]);
        cs_writer_free(&out);
        if (r == 0) {
            memcpy(prev, hash, CS_HASH_BYTES);
            b->nenv++;
        }
    }
    free(ch);
    return r;
}

/* Office side: every envelope through cs_feed_accept(). */
static int
s_office(struct s_bench *b, const char *dir, double *secs)
{
    struct cs_store *s = NULL;
    struct cs_node_id self;
    char *path = cs_xasprintf("%s/office.db", dir);
    double t0;
    int r;

    cs_key_node_id(b->receiver, &self);
    if ((r = cs_store_create(path, &self, "CEN", &s)) != 0)
        goto out;
    t0 = s_now();
    for (size_t i = 0; i < b->nenv && r == 0; i++)
        r = cs_feed_accept(s, b->receiver, b->deployment, b->to_node[i].p,
                           b->to_node[i].len, NULL, s_lookup, b, NULL);
    *secs = s_now() - t0;
    if (r != 0)
        fprintf(stderr, "merge_bench: office: %s: %s\n", cs_strerror(r),
                cs_store_errmsg(s));
out:
    cs_store_destroy(&s);
    free(path);
    return r;
}

/* Server side: s_apply() of server/hub.c, step by step. */
static int
s_server_one(struct s_bench *b, struct cs_srvdir *d, const struct s_env *e,
             const struct cs_scope *sc)
{
    struct cs_store *s = cs_srvdir_store(d);
    struct cs_feedio_in in;
    struct cs_scope_refusal *sr = NULL;
    struct cs_batch_ref ref;
    struct cs_leaf l;
    const struct cs_change *ch;
    uint8_t hash[CS_HASH_BYTES];
    uint64_t head, now = cs_hlc_wall_ms();
    size_t n, nsr = 0;
    int r;

    if ((r = cs_feedio_open(&in, b->server, b->deployment, e->p, e->len,
                            s_lookup, b)) != 0)
        return r;
    if ((r = cs_store_head(s, &in.batch.origin, &head, hash)) != 0 ||
        (r = cs_feedio_verify(&in, b->deployment, head, hash, NULL)) != 0)
        goto out;
    ch = cs_feedio_changes(&in, &n);
    for (size_t i = 0; i < n && r == 0; i++)
        r = cs_store_change_check(s, &ch[i]);
    sr = cs_xcalloc(n ? n : 1, sizeof *sr);
    if (r != 0 || (r = cs_scope_check(s, sc, ch, n, sr, &nsr)) != 0)
        goto out;
    if (nsr != 0) {
        fprintf(stderr,
                "merge_bench: server refused %zu changes: %s %s %s: %s\n", nsr,
                ch[sr[0].index].table, ch[sr[0].index].row_id,
                ch[sr[0].index].col, sr[0].reason);
        r = CS_ERR_PERM;
        goto out;
    }
    memset(&ref, 0, sizeof ref);
    ref.origin = in.batch.origin;
    ref.seq = in.batch.seq;
    memcpy(ref.prev, in.batch.prev_hash, CS_HASH_BYTES);
    memcpy(ref.hash, in.batch.hash, CS_HASH_BYTES);
    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_BATCH;
    l.at_ms = now;
    l.node = in.batch.origin;
    l.seq = ref.seq;
    memcpy(l.hash, ref.hash, CS_HASH_BYTES);
    l.count = n;
    if ((r = cs_store_begin(s)) != 0)
        goto out;
    if ((r = cs_store_apply_batch(s, &ref, ch, n, NULL)) != 0 ||
        (r = cs_down_keep_batch(s, &ref.origin, ref.seq, ref.hash, in.plain,
                                in.plain_len, now)) != 0 ||
        (r = cs_audit_append(s, &l, NULL)) != 0 ||
        (r = cs_audit_sign(s, b->server, b->deployment, now, NULL)) != 0) {
        cs_store_rollback(s);
        goto out;
    }
    r = cs_store_commit(s);
out:
    free(sr);
    cs_feedio_done(&in);
    return r;
}

static int
s_server(struct s_bench *b, const char *dir, size_t per, double *secs)
{
    struct cs_srvdir *d = NULL;
    struct cs_registry_node rn, other;
    struct cs_scope sc;
    char *path = cs_xasprintf("%s/srv", dir);
    double t0;
    int r;

    if ((r = cs_srvdir_init(path, "bench", "tcp://127.0.0.1:1", -1, &d)) != 0 ||
        (r = cs_srvdir_key(d, -1, &b->server)) != 0 ||
        (r = cs_down_install(cs_srvdir_store(d))) != 0 ||
        (r = cs_audit_install(cs_srvdir_store(d))) != 0)
        goto out;
    memcpy(b->deployment, cs_srvdir_deployment(d), CS_DEPLOYMENT_BYTES);
    memset(&rn, 0, sizeof rn);
    snprintf(rn.name, sizeof rn.name, "isf");
    rn.role = CS_REGISTRY_SITE;
    snprintf(rn.office, sizeof rn.office, "ISF");
    rn.key = *cs_key_public(b->office);
    if ((r = cs_registry_enroll(cs_srvdir_registry(d), &rn, cs_hlc_wall_ms(),
                                &other)) != 0 ||
        (r = s_seal_all(b, per)) != 0)
        goto out;
    cs_scope_of(&rn, &sc);
    t0 = s_now();
    for (size_t i = 0; i < b->nenv && r == 0; i++)
        r = s_server_one(b, d, &b->to_server[i], &sc);
    *secs = s_now() - t0;
    if (r != 0)
        fprintf(stderr, "merge_bench: server: %s: %s\n", cs_strerror(r),
                cs_store_errmsg(cs_srvdir_store(d)));
out:
    cs_srvdir_destroy(&d);
    free(path);
    return r;
}

/* Creates, for the baseline, a plain table of the columns the changes
   name for each table they name. */
static int
s_raw_tables(const struct s_bench *b, sqlite3 *db)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct cs_change *c = &b->ch[i];
        char *sql;
        int rc;

        sql = sqlite3_mprintf("CREATE TABLE IF NOT EXISTS \"%w\"("
                              "id TEXT PRIMARY KEY)",
                              c->table);
        rc = sql ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        if (rc != SQLITE_OK || c->col[0] == '\0')
            continue;
        sql = sqlite3_mprintf("ALTER TABLE \"%w\" ADD COLUMN \"%w\"", c->table,
                              c->col);
        /* fails, as wanted, when the column is there already */
        if (sql != NULL)
            (void)sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_free(sql);
    }
    return 0;
}

/* The baseline: plain upserts of the same changes. */
static int
s_raw(const struct s_bench *b, const char *dir, double *secs)
{
    sqlite3 *db = NULL;
    char *path = cs_xasprintf("%s/raw.db", dir);
    char *sql = NULL;
    struct s_stmt {
        char key[160];
        sqlite3_stmt *st;
    } *cache = NULL;
    size_t ncache = 0, cap = 0;
    double t0;
    int r = 1;

    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        s_raw_tables(b, db) != 0)
        goto out;
    t0 = s_now();
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < b->n; i++) {
        const struct cs_change *c = &b->ch[i];
        char key[160];
        sqlite3_stmt *st = NULL;
        int rc;

        if (c->op == CS_OP_ACK || c->op == CS_OP_RST)
            continue;
        snprintf(key, sizeof key, "%s.%s.%d", c->table, c->col, (int)c->op);
        for (size_t k = 0; k < ncache && st == NULL; k++)
            if (strcmp(cache[k].key, key) == 0)
                st = cache[k].st;
        if (st == NULL) {
            if (c->op == CS_OP_DEL)
                sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE id = ?1",
                                      c->table);
            else if (c->op == CS_OP_INS)
                sql = sqlite3_mprintf("INSERT INTO \"%w\"(id) VALUES (?1) "
                                      "ON CONFLICT(id) DO NOTHING",
                                      c->table);
            else
                sql = sqlite3_mprintf(
                    "INSERT INTO \"%w\"(id, \"%w\") VALUES (?1, ?2) "
                    "ON CONFLICT(id) DO UPDATE SET \"%w\" = excluded.\"%w\"",
                    c->table, c->col, c->col, c->col);
            if (sql == NULL ||
                sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
                fprintf(stderr, "merge_bench: raw: %s\n", sqlite3_errmsg(db));
                goto out;
            }
            sqlite3_free(sql);
            sql = NULL;
            if (ncache == cap) {
                cap = cap ? cap * 2 : 32;
                cache = cs_xrealloc(cache, cap * sizeof *cache);
            }
            snprintf(cache[ncache].key, sizeof cache[ncache].key, "%s", key);
            cache[ncache++].st = st;
        }
        sqlite3_bind_text(st, 1, c->row_id, -1, SQLITE_STATIC);
        if (c->op == CS_OP_SET) {
            switch (c->value.type) {
            case CS_VALUE_INTEGER:
                sqlite3_bind_int64(st, 2, c->value.i);
                break;
            case CS_VALUE_FLOAT:
                sqlite3_bind_double(st, 2, c->value.d);
                break;
            case CS_VALUE_TEXT:
                sqlite3_bind_text64(st, 2, c->value.p, c->value.len,
                                    SQLITE_STATIC, SQLITE_UTF8);
                break;
            case CS_VALUE_BLOB:
                sqlite3_bind_blob64(st, 2, c->value.p, c->value.len,
                                    SQLITE_STATIC);
                break;
            default:
                sqlite3_bind_null(st, 2);
                break;
            }
        }
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "merge_bench: raw: %s\n", sqlite3_errmsg(db));
            goto out;
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    *secs = s_now() - t0;
    r = 0;
out:
    sqlite3_free(sql);
    for (size_t k = 0; k < ncache; k++)
        sqlite3_finalize(cache[k].st);
    free(cache);
    sqlite3_close(db);
    free(path);
    return r;
}

int
main(int argc, char **argv)
{
    bool json = false;
    unsigned long n = 100000, per = 5000;
    struct s_bench b;
    struct cs_workload *w = NULL;
    char tmpl[] = "/tmp/cs-merge-bench-XXXXXX";
    double office = 0, server = 0, raw = 0;
    size_t count = 0, bytes = 0;
    int ai = 1, r = 1;

    memset(&b, 0, sizeof b);
    if (ai < argc && strcmp(argv[ai], "--json") == 0) {
        json = true;
        ai++;
    }
    if (ai < argc)
        n = strtoul(argv[ai++], NULL, 10);
    if (ai < argc)
        per = strtoul(argv[ai++], NULL, 10);
    if (n == 0 || per == 0 || per > CS_BATCH_CHANGES_MAX || ai != argc) {
        fprintf(stderr, "usage: merge_bench [--json] [CHANGES [PER_BATCH]]\n");
        return 2;
    }
    if (cs_crypto_init() != 0 || mkdtemp(tmpl) == NULL ||
        cs_key_generate(&b.office) != 0 || cs_key_generate(&b.receiver) != 0)
        goto out;
    cs_key_node_id(b.office, &b.office_id);
    w = cs_workload_new(1);
    b.ch = cs_workload_office_day(w, n, &count);
    b.n = count;
    /* s_server makes the server's key and deployment, then seals. */
    if (s_server(&b, tmpl, per, &server) != 0 ||
        s_office(&b, tmpl, &office) != 0 || s_raw(&b, tmpl, &raw) != 0)
        goto out;
    for (size_t i = 0; i < b.nenv; i++)
        bytes += b.to_node[i].len;
    if (json) {
        printf("{\"changes\": %zu, \"batches\": %zu, \"envelope_bytes\": %zu, "
               "\"office_s\": %.4f, \"server_s\": %.4f, \"raw_s\": %.4f, "
               "\"office_per_s\": %.0f, \"server_per_s\": %.0f, "
               "\"raw_per_s\": %.0f, \"office_ratio\": %.3f, "
               "\"server_ratio\": %.3f}\n",
               b.n, b.nenv, bytes, office, server, raw, (double)b.n / office,
               (double)b.n / server, (double)b.n / raw, raw / office,
               raw / server);
    } else {
        printf("merge_bench: %zu changes in %zu batches (%zu envelope "
               "bytes)\n",
               b.n, b.nenv, bytes);
        printf("%-44s %12s %8s\n", "", "changes/s", "vs raw");
        printf("%-44s %12.0f %8.2f\n", "raw SQLite upserts, one transaction",
               (double)b.n / raw, 1.0);
        printf("%-44s %12.0f %8.3f\n", "server: open, check, merge, keep, log",
               (double)b.n / server, raw / server);
        printf("%-44s %12.0f %8.3f\n", "office: open, verify, decode, merge",
               (double)b.n / office, raw / office);
    }
    r = 0;
out:
    for (size_t i = 0; i < b.nenv; i++) {
        free(b.to_node[i].p);
        free(b.to_server[i].p);
    }
    free(b.to_node);
    free(b.to_server);
    cs_workload_destroy(&w);
    cs_key_destroy(&b.office);
    cs_key_destroy(&b.receiver);
    cs_key_destroy(&b.server);
    if (getenv("CS_BENCH_KEEP") != NULL) {
        fprintf(stderr, "merge_bench: kept %s\n", tmpl);
    } else {
        char *cmd = cs_xasprintf("rm -rf '%s'", tmpl);
        if (system(cmd) != 0)
            fprintf(stderr, "merge_bench: could not remove %s\n", tmpl);
        free(cmd);
    }
    return r;
}
