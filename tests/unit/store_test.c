/*  tests/unit/store_test.c - change capture and merge rules of the replica
 *  store, one rule per case, on in-memory replicas.
 */
#define _GNU_SOURCE
#include "test.h"

#include "hlc.h"
#include "id.h"
#include "replicas.h"

#include <unistd.h>

#define T0 1790000000000ULL /* a fixed wall clock, ms */

static struct cs_store *
fresh(uint8_t node, const char *office)
{
    struct cs_store *s = replica_new(node, office);
    if (s != NULL && cs_store_set_clock_override(s, T0) != 0)
        cs_store_destroy(&s);
    return s;
}

static void
test_capture_insert(void)
{
    struct cs_store *a = fresh(1, "ISF");
    struct cs_store_status st;
    CS_REQUIRE(a != NULL);
    /* No id and no office_id: both filled in, as for any SQLite client. */
    CS_CHECK_INT(sql(a, "INSERT INTO item(a, b) VALUES ('Айгүл', 7)"), 0);
    CS_CHECK_INT(sql_int(a, "SELECT length(id) FROM item"), 32);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item WHERE "
                            "office_id = 'ISF'"),
                 1);
    CS_REQUIRE(cs_store_status(a, &st) == 0);
    /* insert + office_id + a + b */
    CS_CHECK_INT(st.pending, 4);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log WHERE op = 3"), 1);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log WHERE col = 'c'"), 0);
    /* An id no other replica could accept is refused at the source. */
    CS_CHECK(sql(a, "INSERT INTO item(id, a) VALUES ('a b', 'x')") != 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item"), 1);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log"), 4);
    CS_CHECK(cs_store_check(a) == 0);
    cs_store_destroy(&a);
}

static void
test_capture_update_changed_only(void)
{
    struct cs_store *a = fresh(1, "ISF");
    struct cs_store_status st;
    CS_REQUIRE(a != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a, b) VALUES ('r1', 'x', 1)"), 0);
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'x', b = 2 WHERE id = 'r1'"), 0);
    CS_REQUIRE(cs_store_status(a, &st) == 0);
    CS_CHECK_INT(st.pending, 5); /* 4 for the insert, 1 for b */
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log WHERE col = 'b'"), 2);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log WHERE col = 'a'"), 1);
    /* The second change of b names the first as its base. */
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log l JOIN zz_log p ON "
                            "l.base_hlc = p.hlc AND l.base_oid = p.oid "
                            "WHERE l.col = 'b' AND p.col = 'b'"),
                 1);
    /* The id cannot change. */
    CS_CHECK(sql(a, "UPDATE item SET id = 'r2' WHERE id = 'r1'") != 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item WHERE id = 'r1'"), 1);
    CS_CHECK(cs_store_check(a) == 0);
    cs_store_destroy(&a);
}

static void
test_hlc_monotonic_clock_back(void)
{
    struct cs_store *a = fresh(1, "ISF");
    long long h1, h2, h3;
    CS_REQUIRE(a != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    h1 = sql_int(a, "SELECT hlc FROM zz_state");
    /* The wall clock jumps back an hour: the clock still moves forward. */
    CS_REQUIRE(cs_store_set_clock_override(a, T0 - 3600 * 1000) == 0);
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'y'"), 0);
    h2 = sql_int(a, "SELECT hlc FROM zz_state");
    CS_CHECK(h2 == h1 + 1);
    CS_REQUIRE(cs_store_set_clock_override(a, T0 + 5) == 0);
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'z'"), 0);
    h3 = sql_int(a, "SELECT hlc FROM zz_state");
    CS_CHECK((unsigned long long)h3 == (T0 + 5) << 16);
    cs_store_destroy(&a);
}

static void
test_remote_not_captured(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    struct cs_store_status st;
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    CS_REQUIRE(cs_store_status(b, &st) == 0);
    CS_CHECK_INT(st.pending, 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE a = 'x' AND "
                            "office_id = 'ISF'"),
                 1);
    CS_CHECK(cs_store_check(b) == 0);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_concurrent_field_conflict(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    char *da, *db;
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'start')"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    /* Both edit a, b later: b wins, a's value is a conflict on both. */
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'from-a'"), 0);
    CS_REQUIRE(cs_store_set_clock_override(b, T0 + 10) == 0);
    CS_CHECK_INT(sql(b, "UPDATE item SET a = 'from-b'"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    CS_CHECK_INT(exchange(b, a), 0);
    da = dump(a);
    db = dump(b);
    CS_CHECK_STR(da, db);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item WHERE a = 'from-b'"), 1);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_conflict WHERE "
                            "lost_value = 'from-a'"),
                 1);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_conflict"), 1);
    free(da);
    free(db);
    /* Setting the field again settles it everywhere. */
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'agreed'"), 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_conflict"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_conflict"), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE a = 'agreed'"), 1);
    CS_CHECK(cs_store_check(a) == 0);
    CS_CHECK(cs_store_check(b) == 0);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_sequential_edit_no_conflict(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'one')"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    CS_CHECK_INT(sql(b, "UPDATE item SET a = 'two'"), 0);
    CS_CHECK_INT(exchange(b, a), 0);
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'three'"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    /* Each writer saw the previous value: nothing was lost. */
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_conflict"), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_conflict"), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE a = 'three'"), 1);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_delete_wins_and_restore(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    char *da, *db;
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a, b) VALUES ('r1', 'x', 1)"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    /* b edits after a deletes (by the clock): the delete still wins. */
    CS_CHECK_INT(sql(a, "DELETE FROM item WHERE id = 'r1'"), 0);
    CS_REQUIRE(cs_store_set_clock_override(b, T0 + 100) == 0);
    CS_CHECK_INT(sql(b, "UPDATE item SET b = 2"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    CS_CHECK_INT(exchange(b, a), 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item"), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item"), 0);
    /* b's edit is not silently lost: a conflict lost to the delete. */
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_conflict WHERE kind = 2 "
                            "AND col = 'b' AND lost_value = 2"),
                 1);
    da = dump(a);
    db = dump(b);
    CS_CHECK_STR(da, db);
    free(da);
    free(db);
    /* An update of a deleted row through the store is refused. */
    {
        struct cs_field f = {"a", "again"};
        CS_CHECK_INT(cs_store_update(a, "item", "r1", &f, 1), CS_ERR_DELETED);
    }
    /* Explicit restore brings the row back with b's edit. */
    CS_CHECK_INT(cs_store_restore(b, "item", "r1"), 0);
    CS_CHECK_INT(cs_store_restore(b, "item", "r1"), CS_ERR_EXISTS);
    CS_CHECK_INT(cs_store_restore(b, "item", "nope"), CS_ERR_NOT_FOUND);
    CS_CHECK_INT(exchange(b, a), 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item WHERE b = 2 AND "
                            "a = 'x'"),
                 1);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_conflict"), 0);
    CS_CHECK(cs_store_check(a) == 0);
    CS_CHECK(cs_store_check(b) == 0);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_restore_by_sql_insert(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(sql(a, "DELETE FROM item"), 0);
    /* Any SQLite client restores by inserting the deleted id again. */
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'back')"), 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_log WHERE op = 5"), 1);
    CS_CHECK_INT(exchange(a, b), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE a = 'back'"), 1);
    CS_CHECK(cs_store_check(a) == 0);
    CS_CHECK(cs_store_check(b) == 0);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_duplicates_and_order(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    struct change_set set = {NULL, 0};
    struct cs_change *rev;
    struct cs_apply_stats stats;
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'y'"), 0);
    CS_CHECK_INT(sql(a, "INSERT INTO note(id, x, y) VALUES ('n1', 'q', 1.5)"),
                 0);
    CS_REQUIRE(collect(a, false, &set) == 0);
    rev = cs_xcalloc(set.n, sizeof *rev);
    for (size_t i = 0; i < set.n; i++)
        rev[i] = set.v[set.n - 1 - i].ch; /* newest first */
    CS_CHECK_INT(cs_store_apply(b, rev, set.n, &stats), 0);
    CS_CHECK_INT(stats.applied, set.n);
    CS_CHECK_INT(cs_store_apply(b, rev, set.n, &stats), 0);
    CS_CHECK_INT(stats.applied, 0);
    CS_CHECK_INT(stats.duplicates, set.n);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE a = 'y'"), 1);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM note WHERE y = 1.5"), 1);
    free(rev);
    change_set_free(&set);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_tie_broken_by_node_id(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(exchange(a, b), 0);
    /* Same wall clock, same counter: equal HLCs; node 0x02.. > 0x01... */
    CS_CHECK_INT(sql(a, "UPDATE zz_state SET hlc = 0"), 0);
    CS_CHECK_INT(sql(b, "UPDATE zz_state SET hlc = 0"), 0);
    CS_REQUIRE(cs_store_set_clock_override(a, T0 + 50) == 0);
    CS_REQUIRE(cs_store_set_clock_override(b, T0 + 50) == 0);
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'A'"), 0);
    CS_CHECK_INT(sql(b, "UPDATE item SET a = 'B'"), 0);
    CS_CHECK_INT(sql_int(a, "SELECT hlc FROM zz_state"),
                 sql_int(b, "SELECT hlc FROM zz_state"));
    CS_CHECK_INT(exchange(a, b), 0);
    CS_CHECK_INT(exchange(b, a), 0);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM item WHERE a = 'B'"), 1);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE a = 'B'"), 1);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_clock_ahead_refused(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    struct change_set set = {NULL, 0};
    CS_REQUIRE(a != NULL && b != NULL);
    CS_REQUIRE(cs_store_set_clock_override(a, T0 + 25ULL * 3600 * 1000) == 0);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(collect(a, false, &set) == 0);
    {
        struct cs_change *flat = cs_xcalloc(set.n, sizeof *flat);
        for (size_t i = 0; i < set.n; i++)
            flat[i] = set.v[i].ch;
        CS_CHECK_INT(cs_store_apply(b, flat, set.n, NULL), CS_ERR_CLOCK_AHEAD);
        CS_CHECK(strstr(cs_store_errmsg(b), "ahead") != NULL);
        CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_log"), 0);
        CS_CHECK_INT(sql_int(b, "SELECT hlc FROM zz_state"), 0);
        /* With a wider bound, the same changes are accepted. */
        cs_store_set_max_ahead(b, 48ULL * 3600 * 1000);
        CS_CHECK_INT(cs_store_apply(b, flat, set.n, NULL), 0);
        CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item"), 1);
        free(flat);
    }
    change_set_free(&set);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

static void
test_apply_all_or_nothing(void)
{
    struct cs_store *b = fresh(2, "KOC");
    struct cs_change ch[2];
    CS_REQUIRE(b != NULL);
    memset(ch, 0, sizeof ch);
    for (int i = 0; i < 2; i++) {
        ch[i].table = "item";
        ch[i].row_id = "r1";
        ch[i].col = "";
        ch[i].op = CS_OP_INS;
        ch[i].hlc.t = T0 << 16;
        memset(&ch[i].origin, 9, sizeof ch[i].origin);
        ch[i].origin_seq = (uint64_t)i + 1;
    }
    ch[1].table = "nosuch";
    CS_CHECK_INT(cs_store_apply(b, ch, 2, NULL), CS_ERR_NO_TABLE);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_log"), 0);
    ch[1].table = "item";
    ch[1].op = CS_OP_SET;
    ch[1].col = "nosuch";
    CS_CHECK_INT(cs_store_apply(b, ch, 2, NULL), CS_ERR_NO_FIELD);
    ch[1].col = "c";
    ch[1].value.type = SQLITE_TEXT;
    ch[1].value.p = "forbidden";
    ch[1].value.len = 9;
    CS_CHECK_INT(cs_store_apply(b, ch, 2, NULL), CS_ERR_BAD_VALUE);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_log"), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_origin"), 1);
    ch[1].value.p = "fine";
    ch[1].value.len = 4;
    CS_CHECK_INT(cs_store_apply(b, ch, 2, NULL), 0);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE c = 'fine'"), 1);
    /* A sequential edit of the live row (merged without reading its log)
       that breaks the schema is refused the same way, nothing written. */
    ch[1].has_base = true;
    ch[1].base_hlc = ch[1].hlc;
    ch[1].base_origin = ch[1].origin;
    ch[1].hlc.t = (T0 + 1) << 16;
    ch[1].origin_seq = 3;
    ch[1].value.p = "forbidden";
    ch[1].value.len = 9;
    CS_CHECK_INT(cs_store_apply(b, &ch[1], 1, NULL), CS_ERR_BAD_VALUE);
    CS_CHECK(strstr(cs_store_errmsg(b), "breaks a rule of this schema") !=
             NULL);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item WHERE c = 'fine'"), 1);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_log"), 2);
    cs_store_destroy(&b);
}

static void
test_store_commands(void)
{
    struct cs_store *a = fresh(1, "ISF");
    char id[CS_ID_MAX + 1];
    struct cs_field f[2] = {{"a", "hello"}, {"b", "12"}};
    struct cs_field bad = {"c", "forbidden"};
    struct cs_field unknown = {"zz", "1"};
    CS_REQUIRE(a != NULL);
    CS_CHECK_INT(cs_store_insert(a, "item", f, 2, id), 0);
    CS_CHECK_INT((long long)strlen(id), 36);
    CS_CHECK_INT(sql_int(a, "SELECT b FROM item"), 12);
    CS_CHECK_INT(cs_store_insert(a, "nosuch", f, 2, id), CS_ERR_NO_TABLE);
    CS_CHECK_INT(cs_store_insert(a, "item", &unknown, 1, id), CS_ERR_NO_FIELD);
    CS_CHECK_INT(cs_store_update(a, "item", id, &bad, 1), CS_ERR_BAD_VALUE);
    CS_CHECK(strstr(cs_store_errmsg(a), "item.c") != NULL);
    CS_CHECK_INT(cs_store_update(a, "item", "nosuch", f, 1), CS_ERR_NOT_FOUND);
    CS_CHECK_INT(cs_store_delete(a, "item", id), 0);
    CS_CHECK_INT(cs_store_delete(a, "item", id), CS_ERR_DELETED);
    CS_CHECK(cs_store_is_deleted(a, cs_store_table(a, "item"), id));
    CS_CHECK(cs_store_check(a) == 0);
    cs_store_destroy(&a);
}

static void
test_open_errors(void)
{
    char dir[] = "/tmp/cs_store_test_XXXXXX";
    char path[256];
    struct cs_store *s = NULL;
    struct cs_node_id id;
    FILE *f;
    CS_REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/none.db", dir);
    CS_CHECK_INT(cs_store_open(path, &s), CS_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/junk.db", dir);
    f = fopen(path, "w");
    CS_REQUIRE(f != NULL);
    fputs("this is not a database, just text that is long enough.......\n"
          "...............................................................\n",
          f);
    fclose(f);
    CS_CHECK_INT(cs_store_open(path, &s), CS_ERR_SCHEMA);
    unlink(path);
    memset(&id, 3, sizeof id);
    snprintf(path, sizeof path, "%s/real.db", dir);
    CS_CHECK_INT(cs_store_create(path, &id, "ISF", &s), 0);
    cs_store_destroy(&s);
    CS_CHECK_INT(cs_store_create(path, &id, "ISF", &s), CS_ERR_EXISTS);
    CS_CHECK_INT(cs_store_open(path, &s), 0);
    CS_CHECK(s != NULL && cs_store_table(s, "person") != NULL);
    CS_CHECK(s != NULL && strcmp(cs_store_office(s), "ISF") == 0);
    cs_store_destroy(&s);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CS_CHECK_INT(system(path), 0);
}

static void
test_check_finds_uncaptured_edit(void)
{
    struct cs_store *a = fresh(1, "ISF");
    CS_REQUIRE(a != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(cs_store_check(a), 0);
    /* An edit that bypassed capture is a difference the check names. */
    CS_CHECK_INT(sql(a, "UPDATE zz_state SET capture = 0; UPDATE item SET "
                        "a = 'evil'; UPDATE zz_state SET capture = 1"),
                 0);
    CS_CHECK_INT(cs_store_check(a), CS_ERR_FORMAT);
    CS_CHECK(strstr(cs_store_errmsg(a), "item r1 field a") != NULL);
    CS_CHECK_INT(sql(a, "UPDATE zz_state SET capture = 0; INSERT INTO item(id)"
                        " VALUES ('stray'); UPDATE item SET a = 'x';"
                        " UPDATE zz_state SET capture = 1"),
                 0);
    CS_CHECK_INT(cs_store_check(a), CS_ERR_FORMAT);
    CS_CHECK(strstr(cs_store_errmsg(a), "no change in the log") != NULL);
    cs_store_destroy(&a);
}

static int
count_cb(void *arg, const struct cs_change *ch)
{
    (void)ch;
    (*(size_t *)arg)++;
    return 0;
}

static void
test_feed_append(void)
{
    struct cs_store *a = fresh(1, "ISF");
    struct cs_feed_entry e;
    struct cs_store_status st;
    uint8_t hash[CS_STORE_HASH_BYTES], *bytes = NULL;
    uint64_t seq, first, last;
    size_t n = 0, seen = 0, len = 0;
    CS_REQUIRE(a != NULL);
    CS_REQUIRE(cs_store_feed_head(a, &seq, hash) == 0);
    CS_CHECK_INT(seq, 0);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(cs_store_pending(a, 100, count_cb, &seen, &first, &last, &n) ==
               0);
    CS_CHECK_INT(n, 3); /* insert, office_id, a */
    CS_CHECK_INT(seen, 3);
    memset(&e, 0, sizeof e);
    e.seq = 1;
    memset(e.hash, 0xab, sizeof e.hash);
    e.first_lid = first;
    e.last_lid = last;
    e.count = n;
    e.bytes = (const uint8_t *)"signed batch";
    e.len = 12;
    /* A wrong predecessor or count is refused and writes nothing. */
    e.prev[0] = 1;
    CS_CHECK_INT(cs_store_feed_append(a, &e), CS_ERR_EXISTS);
    e.prev[0] = 0;
    e.count = 2;
    CS_CHECK_INT(cs_store_feed_append(a, &e), CS_ERR_EXISTS);
    CS_CHECK_INT(sql_int(a, "SELECT count(*) FROM zz_batch"), 0);
    e.count = 3;
    CS_CHECK_INT(cs_store_feed_append(a, &e), 0);
    /* Sealing the same sequence again fails: the head moved. */
    CS_CHECK_INT(cs_store_feed_append(a, &e), CS_ERR_EXISTS);
    CS_REQUIRE(cs_store_feed_head(a, &seq, hash) == 0);
    CS_CHECK_INT(seq, 1);
    CS_CHECK(memcmp(hash, e.hash, sizeof hash) == 0);
    CS_REQUIRE(cs_store_status(a, &st) == 0);
    CS_CHECK_INT(st.pending, 0);
    CS_REQUIRE(cs_store_feed_get(a, 1, &bytes, &len) == 0);
    CS_CHECK(len == 12 && memcmp(bytes, "signed batch", 12) == 0);
    free(bytes);
    CS_CHECK_INT(cs_store_feed_get(a, 2, &bytes, &len), CS_ERR_NOT_FOUND);
    cs_store_destroy(&a);
}

static void
test_apply_batch_chain(void)
{
    struct cs_store *a = fresh(1, "ISF"), *b = fresh(2, "KOC");
    struct change_set set = {NULL, 0};
    struct cs_batch_ref ref;
    struct cs_apply_stats stats;
    struct cs_change *flat;
    CS_REQUIRE(a != NULL && b != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(collect(a, false, &set) == 0);
    flat = cs_xcalloc(set.n, sizeof *flat);
    for (size_t i = 0; i < set.n; i++)
        flat[i] = set.v[i].ch;
    memset(&ref, 0, sizeof ref);
    memset(&ref.origin, 1, sizeof ref.origin);
    ref.seq = 2; /* batch 1 is missing */
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats),
                 CS_ERR_SEQUENCE);
    ref.seq = 1;
    ref.prev[0] = 7; /* seq 1 must follow nothing */
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats),
                 CS_ERR_CHAIN);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_log"), 0);
    ref.prev[0] = 0;
    memset(ref.hash, 0x11, sizeof ref.hash);
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats), 0);
    CS_CHECK_INT(stats.applied, set.n);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM item"), 1);
    /* The same batch again: nothing is applied twice. */
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats), 0);
    CS_CHECK_INT(stats.applied, 0);
    CS_CHECK_INT(stats.duplicates, set.n);
    CS_CHECK_INT(sql_int(b, "SELECT seq FROM zz_head"), 1);
    /* Batch 2 must name batch 1's hash. */
    ref.seq = 2;
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats),
                 CS_ERR_CHAIN);
    memset(ref.prev, 0x11, sizeof ref.prev);
    memset(ref.hash, 0x22, sizeof ref.hash);
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats), 0);
    CS_CHECK_INT(sql_int(b, "SELECT seq FROM zz_head"), 2);
    /* A different batch 1 (a fork of the origin's history) is refused. */
    ref.seq = 1;
    memset(ref.prev, 0, sizeof ref.prev);
    memset(ref.hash, 0x33, sizeof ref.hash);
    CS_CHECK_INT(cs_store_apply_batch(b, &ref, flat, set.n, &stats),
                 CS_ERR_CHAIN);
    free(flat);
    change_set_free(&set);
    cs_store_destroy(&a);
    cs_store_destroy(&b);
}

/* An origin that numbers two different changes alike, or writes two values
   of one field at one HLC, is refused: replicas could otherwise disagree. */
static void
test_equivocation_refused(void)
{
    struct cs_store *b = fresh(2, "KOC");
    struct cs_change ch[3];
    CS_REQUIRE(b != NULL);
    memset(ch, 0, sizeof ch);
    for (int i = 0; i < 3; i++) {
        ch[i].table = "item";
        ch[i].row_id = "r1";
        ch[i].col = "a";
        ch[i].op = CS_OP_SET;
        ch[i].value.type = SQLITE_TEXT;
        ch[i].value.p = i == 0 ? "p" : "q";
        ch[i].value.len = 1;
        ch[i].hlc.t = (T0 << 16) + 5;
        memset(&ch[i].origin, 9, sizeof ch[i].origin);
        ch[i].origin_seq = 1 + (uint64_t)i;
    }
    CS_CHECK_INT(cs_store_apply(b, ch, 1, NULL), 0);
    CS_CHECK_INT(cs_store_apply(b, ch, 1, NULL), 0); /* a true duplicate */
    ch[2].origin_seq = 1;                            /* same number ... */
    ch[2].hlc.t += 1;                                /* ... other change */
    CS_CHECK_INT(cs_store_apply(b, &ch[2], 1, NULL), CS_ERR_CHAIN);
    CS_CHECK(strstr(cs_store_errmsg(b), "two different changes") != NULL);
    /* Same field, same time, another number. */
    CS_CHECK_INT(cs_store_apply(b, &ch[1], 1, NULL), CS_ERR_CHAIN);
    CS_CHECK(strstr(cs_store_errmsg(b), "at one time") != NULL);
    CS_CHECK_INT(sql_int(b, "SELECT count(*) FROM zz_log"), 1);
    cs_store_destroy(&b);
}

static void
test_replace_keeps_office_and_size_limit(void)
{
    struct cs_store *a = fresh(1, "ISF"), *c = fresh(3, "CEN");
    CS_REQUIRE(a != NULL && c != NULL);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(exchange(a, c), 0);
    /* REPLACE INTO a known row keeps its office (scope follows office). */
    CS_CHECK_INT(sql(c, "REPLACE INTO item(id, a) VALUES ('r1', 'y')"), 0);
    CS_CHECK_INT(sql_int(c, "SELECT count(*) FROM item WHERE office_id = "
                            "'ISF' AND a = 'y'"),
                 1);
    CS_CHECK(cs_store_check(c) == 0);
    /* A value no replica accepts is refused where it is typed. */
    CS_CHECK(sql(c, "INSERT INTO item(id, a) VALUES ('big', "
                    "zeroblob(16777217))") != 0);
    CS_CHECK(sql(c, "UPDATE item SET c = zeroblob(16777217)") != 0);
    CS_CHECK_INT(sql_int(c, "SELECT count(*) FROM item"), 1);
    CS_CHECK(cs_store_check(c) == 0);
    cs_store_destroy(&a);
    cs_store_destroy(&c);
}

/* A batch never ends inside one edit: a new row's life without its
   office_id would be refused by the server as a row of no office. */
static void
test_pending_keeps_edits_whole(void)
{
    struct cs_store *a = fresh(1, "ISF");
    uint64_t first, last;
    size_t n = 0, seen = 0;
    CS_REQUIRE(a != NULL);
    /* Two rows of four changes each: life, office_id, a, b. */
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a, b) VALUES ('r1', 'x', 1)"), 0);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a, b) VALUES ('r2', 'y', 2)"), 0);
    CS_REQUIRE(cs_store_pending(a, 2, count_cb, &seen, &first, &last, &n) == 0);
    CS_CHECK_INT(n, 4); /* asked for 2: the rest of r1's insert came too */
    CS_CHECK_INT(seen, 4);
    CS_CHECK_INT(last - first, 3);
    n = seen = 0;
    CS_REQUIRE(cs_store_pending(a, 4, count_cb, &seen, &first, &last, &n) == 0);
    CS_CHECK_INT(n, 4); /* exactly one edit: nothing added */
    n = seen = 0;
    CS_REQUIRE(cs_store_pending(a, 5, count_cb, &seen, &first, &last, &n) == 0);
    CS_CHECK_INT(n, 8); /* into r2's insert: all of it */
    n = seen = 0;
    CS_REQUIRE(cs_store_pending(a, 100, count_cb, &seen, &first, &last, &n) ==
               0);
    CS_CHECK_INT(n, 8); /* fewer pending than asked: all of them */
    cs_store_destroy(&a);
}

/* The digest is cached while the file is unchanged: it must still see a
   change made through this connection and one made by another program
   (any SQLite tool) in between. */
static void
test_digest_sees_every_change(void)
{
    char dir[] = "/tmp/cs-store-test-XXXXXX", *path = NULL;
    struct cs_store *a = NULL;
    struct cs_node_id id;
    uint8_t d1[CS_STORE_HASH_BYTES], d2[CS_STORE_HASH_BYTES];
    uint8_t d3[CS_STORE_HASH_BYTES], d4[CS_STORE_HASH_BYTES];
    uint64_t rows = 0;
    sqlite3 *other = NULL;

    CS_REQUIRE(mkdtemp(dir) != NULL);
    path = cs_xasprintf("%s/replica.db", dir);
    memset(&id, 1, sizeof id);
    CS_REQUIRE(cs_store_create_with_schema(path, &id, "ISF", test_schema, &a) ==
               0);
    CS_CHECK_INT(sql(a, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_REQUIRE(cs_store_digest(a, NULL, d1, &rows) == 0);
    CS_CHECK_INT(rows, 1);
    CS_REQUIRE(cs_store_digest(a, NULL, d2, &rows) == 0);
    CS_CHECK(memcmp(d1, d2, sizeof d1) == 0); /* unchanged: the same */
    /* Through this connection. */
    CS_CHECK_INT(sql(a, "UPDATE item SET a = 'y' WHERE id = 'r1'"), 0);
    CS_REQUIRE(cs_store_digest(a, NULL, d3, &rows) == 0);
    CS_CHECK(memcmp(d1, d3, sizeof d1) != 0);
    /* By another program. */
    CS_REQUIRE(sqlite3_open(path, &other) == SQLITE_OK);
    CS_CHECK_INT(sqlite3_exec(other, "UPDATE item SET a = 'z' WHERE id = 'r1'",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(other);
    CS_REQUIRE(cs_store_digest(a, NULL, d4, &rows) == 0);
    CS_CHECK(memcmp(d3, d4, sizeof d3) != 0);
    /* Per office: another office's digest is not the whole one's. */
    CS_REQUIRE(cs_store_digest(a, "KOC", d2, &rows) == 0);
    CS_CHECK_INT(rows, 0);
    CS_CHECK(memcmp(d2, d4, sizeof d2) != 0);
    cs_store_destroy(&a);
    free(path);
    path = cs_xasprintf("rm -rf '%s'", dir);
    CS_CHECK(system(path) == 0);
    free(path);
}

static const struct cs_test_case cases[] = {
    {"digest_sees_every_change", test_digest_sees_every_change},
    {"pending_keeps_edits_whole", test_pending_keeps_edits_whole},
    {"replace_keeps_office_and_size_limit",
     test_replace_keeps_office_and_size_limit},
    {"equivocation_refused", test_equivocation_refused},
    {"apply_batch_chain", test_apply_batch_chain},
    {"feed_append", test_feed_append},
    {"check_finds_uncaptured_edit", test_check_finds_uncaptured_edit},
    {"capture_insert", test_capture_insert},
    {"capture_update_changed_only", test_capture_update_changed_only},
    {"hlc_monotonic_clock_back", test_hlc_monotonic_clock_back},
    {"remote_not_captured", test_remote_not_captured},
    {"concurrent_field_conflict", test_concurrent_field_conflict},
    {"sequential_edit_no_conflict", test_sequential_edit_no_conflict},
    {"delete_wins_and_restore", test_delete_wins_and_restore},
    {"restore_by_sql_insert", test_restore_by_sql_insert},
    {"duplicates_and_order", test_duplicates_and_order},
    {"tie_broken_by_node_id", test_tie_broken_by_node_id},
    {"clock_ahead_refused", test_clock_ahead_refused},
    {"apply_all_or_nothing", test_apply_all_or_nothing},
    {"store_commands", test_store_commands},
    {"open_errors", test_open_errors},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
