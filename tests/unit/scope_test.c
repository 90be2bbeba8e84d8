/*  tests/unit/scope_test.c - which node may write and read which rows
 *  (server/scope.c), checked against a real consolidated replica.
 */
#include "test.h"

#include "../../server/scope.h"
#include "replicas.h"

#define T0 1790000000000ULL

static struct cs_change
set_change(const char *row, const char *col, const char *value, uint64_t k)
{
    struct cs_change c;
    memset(&c, 0, sizeof c);
    c.table = "item";
    c.row_id = row;
    c.col = col;
    c.op = CS_OP_SET;
    c.value.type = CS_VALUE_TEXT;
    c.value.p = value;
    c.value.len = strlen(value);
    c.hlc.t = (T0 << 16) + k;
    memset(&c.origin, 0x11, sizeof c.origin);
    c.origin_seq = k;
    return c;
}

static bool
refused_has(const struct cs_scope_refusal *f, size_t n, size_t index)
{
    for (size_t i = 0; i < n; i++)
        if (f[i].index == index)
            return true;
    return false;
}

static void
test_site_central_auditor(void)
{
    struct cs_store *isf = replica_new(1, "ISF"), *koc = replica_new(2, "KOC");
    struct cs_store *hub = replica_new(3, "HUB");
    struct cs_scope site = {CS_ROLE_SITE, "ISF"};
    struct cs_scope central = {CS_ROLE_CENTRAL, "CEN"};
    struct cs_scope auditor = {CS_ROLE_AUDITOR, ""};
    struct cs_scope_refusal refused[8];
    struct cs_change ch[7];
    size_t n = 0;
    CS_REQUIRE(isf != NULL && koc != NULL && hub != NULL);
    CS_CHECK_INT(sql(isf, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(sql(koc, "INSERT INTO item(id, a) VALUES ('r2', 'y')"), 0);
    CS_CHECK_INT(exchange(isf, hub), 0);
    CS_CHECK_INT(exchange(koc, hub), 0);
    ch[0] = set_change("r1", "a", "own row", 1);     /* ok */
    ch[1] = set_change("r2", "a", "other's row", 2); /* refused */
    ch[2] = set_change("r3", "office_id", "ISF", 3); /* new, own: ok */
    ch[3] = set_change("r3", "a", "new", 4);         /* ok */
    ch[4] = set_change("r4", "office_id", "KOC", 5); /* new, other's */
    ch[5] = set_change("r4", "a", "sneaky", 6);      /* refused */
    ch[6] = set_change("r1", "office_id", "KOC", 7); /* give away */
    CS_REQUIRE(cs_scope_check(hub, &site, ch, 7, refused, &n) == 0);
    CS_CHECK_INT(n, 4);
    CS_CHECK(refused_has(refused, n, 1));
    CS_CHECK(refused_has(refused, n, 4));
    CS_CHECK(refused_has(refused, n, 5));
    CS_CHECK(refused_has(refused, n, 6));
    CS_CHECK(n > 0 && strstr(refused[0].reason, "KOC") != NULL);
    CS_REQUIRE(cs_scope_check(hub, &central, ch, 7, refused, &n) == 0);
    CS_CHECK_INT(n, 0);
    CS_REQUIRE(cs_scope_check(hub, &auditor, ch, 7, refused, &n) == 0);
    CS_CHECK_INT(n, 7);
    /* Reading. */
    CS_CHECK(cs_scope_readable(&site, "ISF"));
    CS_CHECK(!cs_scope_readable(&site, "KOC"));
    CS_CHECK(cs_scope_readable(&central, "KOC"));
    CS_CHECK(cs_scope_readable(&auditor, "ISF"));
    cs_store_destroy(&isf);
    cs_store_destroy(&koc);
    cs_store_destroy(&hub);
}

static void
test_deleted_row_keeps_its_office(void)
{
    struct cs_store *koc = replica_new(2, "KOC"), *hub = replica_new(3, "HUB");
    struct cs_scope site = {CS_ROLE_SITE, "ISF"};
    struct cs_scope_refusal refused[2];
    struct cs_change ch[1];
    size_t n = 0;
    CS_REQUIRE(koc != NULL && hub != NULL);
    CS_CHECK_INT(sql(koc, "INSERT INTO item(id, a) VALUES ('r2', 'y')"), 0);
    CS_CHECK_INT(sql(koc, "DELETE FROM item"), 0);
    CS_CHECK_INT(exchange(koc, hub), 0);
    /* Re-inserting another office's deleted row is still not ours. */
    ch[0] = set_change("r2", "office_id", "ISF", 9);
    CS_REQUIRE(cs_scope_check(hub, &site, ch, 1, refused, &n) == 0);
    CS_CHECK_INT(n, 1);
    cs_store_destroy(&koc);
    cs_store_destroy(&hub);
}

static void
test_site_cannot_clear_office(void)
{
    struct cs_store *isf = replica_new(1, "ISF"), *hub = replica_new(3, "HUB");
    struct cs_scope site = {CS_ROLE_SITE, "ISF"};
    struct cs_scope_refusal refused[2];
    struct cs_change ch[1];
    size_t n = 0;
    CS_REQUIRE(isf != NULL && hub != NULL);
    CS_CHECK_INT(sql(isf, "INSERT INTO item(id, a) VALUES ('r1', 'x')"), 0);
    CS_CHECK_INT(exchange(isf, hub), 0);
    /* NULL would take the row out of every site's scope. */
    ch[0] = set_change("r1", "office_id", "ISF", 9);
    ch[0].value.type = CS_VALUE_NULL;
    ch[0].value.p = NULL;
    ch[0].value.len = 0;
    CS_REQUIRE(cs_scope_check(hub, &site, ch, 1, refused, &n) == 0);
    CS_CHECK_INT(n, 1);
    CS_CHECK(n == 1 && strstr(refused[0].reason, "out of its office") != NULL);
    cs_store_destroy(&isf);
    cs_store_destroy(&hub);
}

static void
test_role_parse(void)
{
    enum cs_role r;
    CS_CHECK_INT(cs_scope_role_parse("site", &r), 0);
    CS_CHECK_INT(r, CS_ROLE_SITE);
    CS_CHECK_INT(cs_scope_role_parse("auditor", &r), 0);
    CS_CHECK_INT(r, CS_ROLE_AUDITOR);
    CS_CHECK_INT(cs_scope_role_parse("admin", &r), CS_ERR_INVALID);
}

static const struct cs_test_case cases[] = {
    {"site_central_auditor", test_site_central_auditor},
    {"deleted_row_keeps_its_office", test_deleted_row_keeps_its_office},
    {"site_cannot_clear_office", test_site_cannot_clear_office},
    {"role_parse", test_role_parse},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
