/*  tests/unit/id_test.c - tests of common/id.c.
 *
 *  The RFC 9562 Appendix A.6 vector, the shape of fresh ids, ordering by
 *  time as plain strings, uniqueness over 100k ids, and the two predicates.
 */
#include "prelude.h"

#include "hlc.h"
#include "id.h"
#include "mem.h"
#include "test.h"

#define MANY_IDS 100000

static void
test_rfc9562_vector(void)
{
    /* RFC 9562 A.6: 017F22E2-79B0-7CC3-98C4-DC0C0C07398F, unix_ts_ms
       0x017F22E279B0, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F. */
    static const uint8_t rnd[CS_ID_RANDOM_BYTES] = {
        0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
    char id[CS_ID_TEXT_LEN + 1];
    cs_id_new_at(id, 0x017F22E279B0ULL, rnd);
    CS_CHECK_STR(id, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
    CS_CHECK(cs_id_is_uuid7(id));
    CS_CHECK(cs_id_ms(id) == 0x017F22E279B0ULL);

    /* Version and variant bits are forced whatever the random input. */
    static const uint8_t ones[CS_ID_RANDOM_BYTES] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zeros[CS_ID_RANDOM_BYTES] = {0};
    cs_id_new_at(id, 0, ones);
    CS_CHECK_STR(id, "00000000-0000-7fff-bfff-ffffffffffff");
    cs_id_new_at(id, (1ULL << 48) - 1, zeros);
    CS_CHECK_STR(id, "ffffffff-ffff-7000-8000-000000000000");
    CS_CHECK(cs_id_ms(id) == (1ULL << 48) - 1);
}

static void
test_format(void)
{
    char id[CS_ID_TEXT_LEN + 1];
    uint64_t before = cs_hlc_wall_ms();
    cs_id_new(id);
    uint64_t after = cs_hlc_wall_ms();

    CS_CHECK_INT(strlen(id), CS_ID_TEXT_LEN);
    CS_CHECK(cs_id_is_uuid7(id));
    CS_CHECK(cs_id_valid(id));
    CS_CHECK(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
    CS_CHECK(id[14] == '7');
    CS_CHECK(strchr("89ab", id[19]) != NULL);
    CS_CHECK(cs_id_ms(id) >= before && cs_id_ms(id) <= after);
    for (size_t i = 0; i < CS_ID_TEXT_LEN; i++)
        CS_CHECK(id[i] == '-' || (id[i] >= '0' && id[i] <= '9') ||
                 (id[i] >= 'a' && id[i] <= 'f'));
}

static void
test_time_order(void)
{
    /* Increasing ms, including across every hex-digit boundary, sort
       increasing as strings whatever the random part. */
    static const uint64_t times[] = {0,
                                     1,
                                     15,
                                     16,
                                     255,
                                     256,
                                     4095,
                                     4096,
                                     65535,
                                     65536,
                                     1ULL << 32,
                                     (1ULL << 32) + 1,
                                     1795757881123ULL,
                                     1795757881124ULL,
                                     (1ULL << 48) - 2,
                                     (1ULL << 48) - 1};
    char prev[CS_ID_TEXT_LEN + 1], id[CS_ID_TEXT_LEN + 1];
    uint8_t rnd[CS_ID_RANDOM_BYTES];

    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        /* Worst case: previous id has all-ones random, this one zeros. */
        memset(rnd, i % 2 ? 0x00 : 0xff, sizeof rnd);
        cs_id_new_at(id, times[i], rnd);
        CS_CHECK(cs_id_ms(id) == times[i]);
        if (i > 0)
            CS_CHECK(strcmp(prev, id) < 0);
        memcpy(prev, id, sizeof id);
    }
    /* Fresh ids made in different milliseconds sort by time. */
    cs_id_new(prev);
    uint64_t ms = cs_id_ms(prev);
    while (cs_hlc_wall_ms() <= ms)
        ;
    cs_id_new(id);
    CS_CHECK(strcmp(prev, id) < 0);
}

static int
cmp_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_unique(void)
{
    char **ids = cs_xcalloc(MANY_IDS, sizeof *ids);
    for (size_t i = 0; i < MANY_IDS; i++) {
        ids[i] = cs_xmalloc(CS_ID_TEXT_LEN + 1);
        cs_id_new(ids[i]);
    }
    qsort(ids, MANY_IDS, sizeof *ids, cmp_ids);
    size_t dups = 0;
    for (size_t i = 1; i < MANY_IDS; i++)
        dups += strcmp(ids[i - 1], ids[i]) == 0;
    CS_CHECK_INT(dups, 0);
    for (size_t i = 0; i < MANY_IDS; i++)
        free(ids[i]);
    free(ids);
}

static void
test_is_uuid7(void)
{
    static const char *const good[] = {
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-88c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-a8c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-b8c4-dc0c0c07398f",
    };
    static const char *const bad[] = {
        "",
        "017F22E2-79B0-7CC3-98C4-DC0C0C07398F",  /* uppercase */
        "017f22e2-79b0-4cc3-98c4-dc0c0c07398f",  /* version 4 */
        "017f22e2-79b0-7cc3-c8c4-dc0c0c07398f",  /* variant c */
        "017f22e2-79b0-7cc3-78c4-dc0c0c07398f",  /* variant 7 */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398",   /* short */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", /* long */
        "017f22e279b07cc398c4dc0c0c07398f",      /* no dashes */
        "017f22e2_79b0-7cc3-98c4-dc0c0c07398f",  /* wrong separator */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398g",  /* non-hex */
        "017f22e2-79b0-7cc3-98c4-dc0c0c0739-8f", /* dash misplaced */
        "{17f22e2-79b0-7cc3-98c4-dc0c0c07398f",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CS_CHECK(cs_id_is_uuid7(good[i]));
        CS_CHECK(cs_id_valid(good[i]));
        CS_CHECK(cs_id_ms(good[i]) == 0x017F22E279B0ULL);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CS_CHECK(!cs_id_is_uuid7(bad[i]));
        CS_CHECK(cs_id_ms(bad[i]) == 0);
    }
}

static void
test_valid(void)
{
    char longest[CS_ID_MAX + 2];
    static const char *const good[] = {
        "a", "Z", "0", "office:isfana", "cig_12.3-b", "___", "-", "a.b:c-d_E9",
    };
    static const char *const bad[] = {
        "",     " ",   "a b",  "a/b", "a\\b", "\xd0\xb0" /* Cyrillic a */,
        "a\tb", "a'b", "a\"b", "a;b", "a,b",  "a\nb",
        "%",    "a+b", "a@b",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CS_CHECK(cs_id_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CS_CHECK(!cs_id_valid(bad[i]));

    memset(longest, 'x', CS_ID_MAX);
    longest[CS_ID_MAX] = '\0';
    CS_CHECK(cs_id_valid(longest));
    longest[CS_ID_MAX] = 'x';
    longest[CS_ID_MAX + 1] = '\0';
    CS_CHECK(!cs_id_valid(longest));
}

static const struct cs_test_case cases[] = {
    {"rfc9562_vector", test_rfc9562_vector},
    {"format", test_format},
    {"time_order", test_time_order},
    {"unique", test_unique},
    {"is_uuid7", test_is_uuid7},
    {"valid", test_valid},
    {NULL, NULL},
};

CS_TEST_MAIN(cases)
