/*  tests/unit/converge_test.c - the convergence property test.
 *
 *  For each seed: 3 to 5 in-memory replicas make random inserts, updates
 *  and deletes through SQL (as any SQLite client would) and through the
 *  store's commands, with wall clocks that drift, stall and jump back, so
 *  concurrent edits of one field, equal HLCs and update-vs-delete races
 *  happen often.  Between edits, random pairs exchange random parts of
 *  their logs in random order with duplicates.  At the end every replica
 *  receives every change, shuffled, some twice; then all replicas must
 *  show identical rows and identical conflicts, and each must agree with a
 *  recomputation from its own log (cs_store_check).
 *
 *  Usage: converge_test [SEEDS [FIRST]]   (default 1000 seeds from 1, or
 *  CS_CONVERGE_SEEDS: the sanitizer build runs fewer, the release build all)
 *  A failure prints its seed; `converge_test 1 SEED` replays it.
 */
#define _GNU_SOURCE
#include "test.h"

#include "id.h"
#include "replicas.h"

#define MAX_REPLICAS 5
#define MAX_ROWS 64
#define T0 1790000000000ULL

static uint64_t rng_state;

static uint64_t
rng(void)
{
    /* xorshift64*: deterministic per seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static unsigned
pick(unsigned n)
{
    return (unsigned)(rng() % n);
}

static const char *const values[] = {"red",    "green", "blue", "Айгүл",
                                     "Нурлан", "",      NULL};

/* Applies a random sample of from's log to to, shuffled, with duplicates. */
static int
partial_exchange(struct cs_store *from, struct cs_store *to, bool everything)
{
    struct change_set set = {NULL, 0};
    struct cs_change *flat;
    size_t n = 0, chunk;
    int r;

    if ((r = collect(from, false, &set)) != 0)
        return r;
    flat = cs_xcalloc(set.n * 2 + 1, sizeof *flat);
    for (size_t i = 0; i < set.n; i++) {
        if (everything || pick(3) != 0)
            flat[n++] = set.v[i].ch;
        if (pick(5) == 0)
            flat[n++] = set.v[i].ch; /* a duplicate */
    }
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = pick((unsigned)i);
        struct cs_change t = flat[i - 1];
        flat[i - 1] = flat[j];
        flat[j] = t;
    }
    for (size_t off = 0; off < n && r == 0; off += chunk) {
        chunk = 1 + pick(8);
        if (chunk > n - off)
            chunk = n - off;
        r = cs_store_apply(to, flat + off, chunk, NULL);
    }
    free(flat);
    change_set_free(&set);
    return r;
}

/* Picks a row id that replica s can see (or any known id if any_id). */
static bool
pick_row(struct cs_store *s, const char *table, bool deleted, char *id,
         size_t len)
{
    char *q = cs_xasprintf(
        deleted ? "SELECT row_id FROM zz_cell c JOIN zz_table t USING (tid) "
                  "WHERE t.name = '%s' AND c.col = '' AND c.dead = 1 "
                  "ORDER BY row_id"
                : "SELECT id FROM \"%s\" ORDER BY id",
        table);
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    char ids[MAX_ROWS][40];
    if (sqlite3_prepare_v2(cs_store_db(s), q, -1, &st, NULL) == SQLITE_OK) {
        while (n < MAX_ROWS && sqlite3_step(st) == SQLITE_ROW)
            snprintf(ids[n++], sizeof ids[0], "%s",
                     (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    free(q);
    if (n == 0)
        return false;
    snprintf(id, len, "%s", ids[pick((unsigned)n)]);
    return true;
}

static int
random_edit(struct cs_store *s, unsigned rep, unsigned *next_row)
{
    const char *table = pick(4) == 0 ? "note" : "item";
    bool item = table[0] == 'i';
    char id[40], stmt[512];
    const char *v = values[pick(7)];
    char quoted[64];
    unsigned what = pick(100);
    int r = 0;

    snprintf(quoted, sizeof quoted, v ? "'%s'" : "NULL", v ? v : "");
    if (what < 20) { /* insert */
        snprintf(id, sizeof id, "r%u-%u", rep, (*next_row)++);
        if (pick(2) == 0) {
            snprintf(stmt, sizeof stmt,
                     item ? "INSERT INTO item(id, a, b) VALUES ('%s', %s, %u)"
                          : "INSERT INTO note(id, x, y) VALUES ('%s', %s, "
                            "%u.5)",
                     id, quoted, pick(4));
            return sql(s, stmt) == SQLITE_OK ? 0 : -1;
        }
        struct cs_field f[2] = {{item ? "a" : "x", v}, {"id", id}};
        char out[CS_ID_MAX + 1];
        return cs_store_insert(s, table, f, 2, out);
    }
    if (what < 75) { /* update one or two fields */
        if (!pick_row(s, table, false, id, sizeof id))
            return 0;
        if (pick(2) == 0) {
            snprintf(stmt, sizeof stmt,
                     item ? (pick(2) ? "UPDATE item SET a = %s WHERE id = '%s'"
                                     : "UPDATE item SET c = %s, b = b + 1 "
                                       "WHERE id = '%s'")
                          : "UPDATE note SET x = %s WHERE id = '%s'",
                     quoted, id);
            return sql(s, stmt) == SQLITE_OK ? 0 : -1;
        }
        struct cs_field f = {item ? (pick(2) ? "a" : "c") : "x", v};
        r = cs_store_update(s, table, id, &f, 1);
        return r;
    }
    if (what < 90) { /* delete */
        if (!pick_row(s, table, false, id, sizeof id))
            return 0;
        if (pick(2) == 0) {
            snprintf(stmt, sizeof stmt, "DELETE FROM %s WHERE id = '%s'", table,
                     id);
            return sql(s, stmt) == SQLITE_OK ? 0 : -1;
        }
        return cs_store_delete(s, table, id);
    }
    /* restore, by the command or by inserting the id again */
    if (!pick_row(s, table, true, id, sizeof id))
        return 0;
    if (pick(2) == 0)
        return cs_store_restore(s, table, id);
    snprintf(stmt, sizeof stmt,
             item ? "INSERT INTO item(id, a) VALUES ('%s', %s)"
                  : "INSERT INTO note(id, x) VALUES ('%s', %s)",
             id, quoted);
    return sql(s, stmt) == SQLITE_OK ? 0 : -1;
}

static int
set_clock(struct cs_store *s, uint64_t ms)
{
    return cs_store_set_clock_override(s, ms);
}

/* Runs one seed; returns 0 if every replica converged. */
static int
run_seed(uint64_t seed)
{
    struct cs_store *rep[MAX_REPLICAS] = {NULL};
    unsigned nrep, next_row[MAX_REPLICAS] = {0};
    uint8_t nodes[MAX_REPLICAS] = {0};
    uint64_t now = T0;
    char *first = NULL;
    int fail = 0;

    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    nrep = 3 + pick(3);
    uint8_t base = (uint8_t)(1 + pick(200)); /* distinct node ids */
    for (unsigned i = 0; i < nrep; i++) {
        /* Node ids from the seed, so tie-breaks differ between seeds. */
        uint8_t node = (uint8_t)(base + (i * 7 + pick(3) * 2) % 50);
        for (unsigned j = 0; j < i; j++)
            if (nodes[j] == node)
                node = (uint8_t)(node + 53 + j);
        nodes[i] = node;
        rep[i] = replica_new(node, "ISF");
        if (rep[i] == NULL) {
            fail = 1;
            goto out;
        }
    }
    for (unsigned step = 0, steps = 20 + pick(40); step < steps; step++) {
        unsigned i = pick(nrep);
        /* Clocks: mostly together, sometimes stalled, skewed or back. */
        unsigned c = pick(10);
        if (c < 6)
            now += pick(3);
        uint64_t mine = c == 9 ? now - 1000 * pick(3600) : now;
        if (set_clock(rep[i], mine) != 0) {
            fail = 1;
            goto out;
        }
        if (pick(4) == 0) {
            unsigned j = pick(nrep);
            if (j != i && partial_exchange(rep[i], rep[j], false) != 0) {
                fprintf(stderr, "seed %llu: exchange failed: %s\n",
                        (unsigned long long)seed, cs_store_errmsg(rep[j]));
                fail = 1;
                goto out;
            }
            continue;
        }
        int r = random_edit(rep[i], i, &next_row[i]);
        if (r != 0 && r != CS_ERR_DELETED && r != CS_ERR_NOT_FOUND &&
            r != CS_ERR_EXISTS && r != CS_ERR_BAD_VALUE && r != -1) {
            fprintf(stderr, "seed %llu: edit failed: %s: %s\n",
                    (unsigned long long)seed, cs_strerror(r),
                    cs_store_errmsg(rep[i]));
            fail = 1;
            goto out;
        }
    }
    /* Everyone gets everything, in random order, with duplicates: the last
       sender has received from all the others before it sends. */
    for (unsigned round = 0; round < 1; round++)
        for (unsigned i = 0; i < nrep; i++)
            for (unsigned j = 0; j < nrep; j++)
                if (i != j && partial_exchange(rep[i], rep[j], true) != 0) {
                    fprintf(stderr, "seed %llu: final exchange failed: %s\n",
                            (unsigned long long)seed, cs_store_errmsg(rep[j]));
                    fail = 1;
                    goto out;
                }
    for (unsigned i = 0; i < nrep; i++) {
        char *d = dump(rep[i]);
        if (cs_store_check(rep[i]) != 0) {
            fprintf(stderr,
                    "seed %llu: replica %u disagrees with its log: "
                    "%s\n",
                    (unsigned long long)seed, i, cs_store_errmsg(rep[i]));
            fail = 1;
        }
        if (first == NULL) {
            first = d;
            continue;
        }
        if (strcmp(first, d) != 0) {
            fprintf(stderr,
                    "seed %llu: replica %u differs from replica 0\n--- 0:\n%s"
                    "--- %u:\n%s",
                    (unsigned long long)seed, i, first, i, d);
            fail = 1;
        }
        free(d);
    }
out:
    free(first);
    for (unsigned i = 0; i < MAX_REPLICAS; i++)
        cs_store_destroy(&rep[i]);
    return fail;
}

static unsigned long long arg_seeds = 1000, arg_first = 1;

static void
test_converge(void)
{
    unsigned long long failed = 0;
    for (unsigned long long s = arg_first; s < arg_first + arg_seeds; s++) {
        if (run_seed(s) != 0) {
            fprintf(stderr, "FAILED seed %llu (replay: converge_test 1 %llu)\n",
                    s, s);
            failed++;
        }
    }
    printf("%llu seeds from %llu, %llu failed\n", arg_seeds, arg_first, failed);
    CS_CHECK_INT(failed, 0);
}

static const struct cs_test_case cases[] = {{"converge", test_converge},
                                            {NULL, NULL}};

int
main(int argc, char **argv)
{
    char *end;
    const char *env = getenv("CS_CONVERGE_SEEDS");
    if (env != NULL) {
        arg_seeds = strtoull(env, &end, 10);
        if (*end != '\0' || arg_seeds == 0)
            return 2;
    }
    if (argc > 1) {
        arg_seeds = strtoull(argv[1], &end, 10);
        if (*end != '\0' || arg_seeds == 0)
            return 2;
    }
    if (argc > 2) {
        arg_first = strtoull(argv[2], &end, 10);
        if (*end != '\0')
            return 2;
    }
    return cs_test_run(cases, 1, argv);
}
