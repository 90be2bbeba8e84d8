/*  tests/unit/replicas.h - helpers for tests that run several replicas.
 *
 *  Replicas live in memory with a small test schema (the engine is
 *  generic).  Changes are copied out of one replica's log into owned
 *  memory and applied to another, in any order, with duplicates, as the
 *  sync will do.  dump() renders everything a replica shows a person - its
 *  rows and its conflicts, with node ids instead of local numbers - so two
 *  replicas converged iff their dumps are equal.
 */
#ifndef CS_TEST_REPLICAS_H
#define CS_TEST_REPLICAS_H

#include "err.h"
#include "key.h"
#include "mem.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not every test uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

static const char test_schema[] =
    "CREATE TABLE item(id TEXT PRIMARY KEY NOT NULL DEFAULT"
    " (lower(hex(randomblob(16)))), office_id TEXT,"
    " a TEXT, b INTEGER, c TEXT CHECK (c IS NULL OR c <> 'forbidden'));\n"
    "CREATE TABLE note(id TEXT PRIMARY KEY NOT NULL, office_id TEXT,"
    " x TEXT, y REAL);\n"
    "INSERT INTO zz_table(name) VALUES ('item'), ('note');\n";

/* An owned copy of a change. */
struct owned_change {
    struct cs_change ch; /* pointers below point into this struct's copies */
    char *table, *row_id, *col;
    void *value;
};

struct change_set {
    struct owned_change *v;
    size_t n;
};

static int
collect_cb(void *arg, const struct cs_change *ch)
{
    struct change_set *set = arg;
    struct owned_change *o;
    set->v = cs_xrealloc(set->v, (set->n + 1) * sizeof *set->v);
    o = &set->v[set->n++];
    o->ch = *ch;
    o->table = cs_xstrdup(ch->table);
    o->row_id = cs_xstrdup(ch->row_id);
    o->col = cs_xstrdup(ch->col);
    o->value = NULL;
    if (ch->value.type == SQLITE_TEXT || ch->value.type == SQLITE_BLOB) {
        o->value = cs_xmalloc(ch->value.len + 1);
        memcpy(o->value, ch->value.p, ch->value.len);
    }
    return 0;
}

/* Re-points the borrowed pointers after the array has moved. */
static void
change_set_fix(struct change_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct owned_change *o = &set->v[i];
        o->ch.table = o->table;
        o->ch.row_id = o->row_id;
        o->ch.col = o->col;
        o->ch.value.p = o->value;
    }
}

static int
collect(struct cs_store *s, bool local_only, struct change_set *set)
{
    uint64_t last;
    int r = cs_store_changes(s, 0, local_only, collect_cb, set, &last);
    change_set_fix(set);
    return r;
}

static void
change_set_free(struct change_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->v[i].table);
        free(set->v[i].row_id);
        free(set->v[i].col);
        free(set->v[i].value);
    }
    free(set->v);
    set->v = NULL;
    set->n = 0;
}

/* Applies every change of from to to, in log order. */
static int
exchange(struct cs_store *from, struct cs_store *to)
{
    struct change_set set = {NULL, 0};
    struct cs_change *flat;
    int r = collect(from, false, &set);
    if (r != 0)
        return r;
    flat = cs_xcalloc(set.n, sizeof *flat);
    for (size_t i = 0; i < set.n; i++)
        flat[i] = set.v[i].ch;
    r = cs_store_apply(to, flat, set.n, NULL);
    free(flat);
    change_set_free(&set);
    return r;
}

static struct cs_store *
replica_new(uint8_t node_byte, const char *office)
{
    struct cs_node_id id;
    struct cs_store *s = NULL;
    memset(&id, node_byte, sizeof id);
    if (cs_store_create_with_schema(":memory:", &id, office, test_schema, &s) !=
        0)
        return NULL;
    return s;
}

static void
dump_append(char **buf, size_t *len, const char *text)
{
    size_t n = strlen(text);
    *buf = cs_xrealloc(*buf, *len + n + 1);
    memcpy(*buf + *len, text, n + 1);
    *len += n;
}

static void
dump_value(char **buf, size_t *len, const struct cs_value *v)
{
    char tmp[64];
    switch (v->type) {
    case SQLITE_INTEGER:
        snprintf(tmp, sizeof tmp, "i%lld", (long long)v->i);
        dump_append(buf, len, tmp);
        break;
    case SQLITE_FLOAT:
        snprintf(tmp, sizeof tmp, "f%.17g", v->d);
        dump_append(buf, len, tmp);
        break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        char *s = cs_xstrndup(v->p ? v->p : "", v->len);
        dump_append(buf, len, v->type == SQLITE_TEXT ? "t'" : "b'");
        dump_append(buf, len, s);
        dump_append(buf, len, "'");
        free(s);
        break;
    }
    default:
        dump_append(buf, len, "null");
        break;
    }
}

struct dump_ctx {
    char *buf;
    size_t len;
};

static int
dump_conflict_cb(void *arg, const struct cs_conflict *c)
{
    struct dump_ctx *d = arg;
    char tmp[256], lost[CS_NODE_ID_HEX_LEN + 1], won[CS_NODE_ID_HEX_LEN + 1];
    cs_node_id_hex(&c->lost_by, lost);
    cs_node_id_hex(&c->won_by, won);
    snprintf(tmp, sizeof tmp, "conflict %s %s %s %s lost=%llu/%s won=%llu/%s ",
             c->table, c->row_id, c->col, c->deleted ? "deleted" : "field",
             (unsigned long long)c->lost_hlc.t, lost,
             (unsigned long long)c->won_hlc.t, won);
    dump_append(&d->buf, &d->len, tmp);
    dump_value(&d->buf, &d->len, &c->lost);
    dump_append(&d->buf, &d->len, " -> ");
    dump_value(&d->buf, &d->len, &c->won);
    dump_append(&d->buf, &d->len, "\n");
    return 0;
}

/* Returns a malloc'd rendering of the replica's rows and conflicts. */
static char *
dump(struct cs_store *s)
{
    struct dump_ctx d = {NULL, 0};
    dump_append(&d.buf, &d.len, "");
    for (size_t i = 0; i < cs_store_table_count(s); i++) {
        const struct cs_table *t = cs_store_table_at(s, i);
        char *sql = cs_xasprintf("SELECT * FROM \"%s\" ORDER BY id", t->name);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(cs_store_db(s), sql, -1, &st, NULL) != 0) {
            free(sql);
            continue;
        }
        free(sql);
        while (sqlite3_step(st) == SQLITE_ROW) {
            dump_append(&d.buf, &d.len, t->name);
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                struct cs_value v;
                memset(&v, 0, sizeof v);
                v.type = sqlite3_column_type(st, c);
                if (v.type == SQLITE_INTEGER)
                    v.i = sqlite3_column_int64(st, c);
                else if (v.type == SQLITE_FLOAT)
                    v.d = sqlite3_column_double(st, c);
                else if (v.type == SQLITE_TEXT || v.type == SQLITE_BLOB) {
                    v.p = sqlite3_column_blob(st, c);
                    v.len = (size_t)sqlite3_column_bytes(st, c);
                }
                dump_append(&d.buf, &d.len, " ");
                dump_value(&d.buf, &d.len, &v);
            }
            dump_append(&d.buf, &d.len, "\n");
        }
        sqlite3_finalize(st);
    }
    if (cs_store_conflicts(s, dump_conflict_cb, &d) != 0)
        dump_append(&d.buf, &d.len, "(conflicts unreadable)\n");
    return d.buf;
}

/* Runs one SQL statement as "any SQLite client" would. */
static int
sql(struct cs_store *s, const char *text)
{
    char *err = NULL;
    int rc = sqlite3_exec(cs_store_db(s), text, NULL, NULL, &err);
    if (rc != SQLITE_OK && getenv("CS_TEST_VERBOSE"))
        fprintf(stderr, "sql: %s: %s\n", text, err);
    sqlite3_free(err);
    return rc;
}

static long long
sql_int(struct cs_store *s, const char *text)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(cs_store_db(s), text, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#endif
