/*  tests/unit/hlc_test.c - tests of common/hlc.c.
 *
 *  Checks the packing, that ticks are strictly increasing whatever the wall
 *  clock does, the counter behaviour within and across milliseconds, the
 *  bound on remote clocks in cs_hlc_recv(), and the text form.
 */
#include "prelude.h"

#include "err.h"
#include "hlc.h"
#include "test.h"

#define HOUR_MS (60ULL * 60 * 1000)
#define T0_MS 1795757881123ULL /* 2026-11-27T05:38:01.123Z */

static void
test_packing(void)
{
    struct cs_hlc h = cs_hlc_make(T0_MS, 7);
    CS_CHECK(h.t == (T0_MS << 16 | 7));
    CS_CHECK(cs_hlc_ms(h) == T0_MS);
    CS_CHECK_INT(cs_hlc_counter(h), 7);
    h = cs_hlc_make(CS_HLC_MS_MAX, UINT16_MAX);
    CS_CHECK(h.t == UINT64_MAX);
    CS_CHECK(cs_hlc_ms(h) == CS_HLC_MS_MAX);
    CS_CHECK_INT(cs_hlc_counter(h), UINT16_MAX);
    CS_CHECK(cs_hlc_make(0, 0).t == 0);
}

/* The expression the SQL triggers use, written independently. */
static uint64_t
sql_tick(uint64_t hlc, uint64_t now_ms)
{
    uint64_t a = hlc + 1, b = now_ms << 16;
    return a > b ? a : b;
}

static void
test_tick_matches_sql(void)
{
    static const uint64_t lasts[] = {0, 1, T0_MS << 16, (T0_MS << 16) + 65535,
                                     (T0_MS + 5) << 16};
    static const uint64_t walls[] = {0,         T0_MS - 1, T0_MS,
                                     T0_MS + 1, T0_MS + 5, T0_MS + HOUR_MS};
    for (size_t i = 0; i < sizeof lasts / sizeof lasts[0]; i++)
        for (size_t j = 0; j < sizeof walls / sizeof walls[0]; j++) {
            struct cs_hlc last = {.t = lasts[i]};
            CS_CHECK(cs_hlc_tick(last, walls[j]).t ==
                     sql_tick(lasts[i], walls[j]));
        }
}

static void
test_monotonic_wall_jumps_back(void)
{
    /* Forward, same ms, back by hours, forward again, back a little... */
    static const uint64_t walls[] = {
        T0_MS,
        T0_MS,
        T0_MS + 1,
        T0_MS + 1,
        T0_MS + 1,
        T0_MS - 3 * HOUR_MS,
        T0_MS - 3 * HOUR_MS,
        T0_MS - 3 * HOUR_MS + 10,
        T0_MS - 26 * HOUR_MS,
        T0_MS + 2,
        T0_MS + 2,
        T0_MS - 1,
        T0_MS + HOUR_MS,
        T0_MS + HOUR_MS - 12 * HOUR_MS,
        0,
        T0_MS + HOUR_MS + 1,
    };
    struct cs_hlc clock = {0};
    for (size_t i = 0; i < sizeof walls / sizeof walls[0]; i++) {
        struct cs_hlc next = cs_hlc_tick(clock, walls[i]);
        CS_CHECK_INT(cs_hlc_compare(next, clock), 1);
        CS_CHECK(cs_hlc_ms(next) >= walls[i]);
        clock = next;
    }
    /* While the wall clock lags, the ms part stays at the last high-water
       mark and only the counter moves. */
    struct cs_hlc high = cs_hlc_make(T0_MS + 2, 0);
    clock = cs_hlc_tick(high, T0_MS - 3 * HOUR_MS);
    CS_CHECK(cs_hlc_ms(clock) == T0_MS + 2);
    CS_CHECK_INT(cs_hlc_counter(clock), 1);
}

static void
test_counter(void)
{
    struct cs_hlc c = cs_hlc_tick((struct cs_hlc){0}, T0_MS);
    CS_CHECK(cs_hlc_ms(c) == T0_MS);
    CS_CHECK_INT(cs_hlc_counter(c), 0);
    for (unsigned i = 1; i <= 5; i++) {
        c = cs_hlc_tick(c, T0_MS);
        CS_CHECK(cs_hlc_ms(c) == T0_MS);
        CS_CHECK_INT(cs_hlc_counter(c), i);
    }
    c = cs_hlc_tick(c, T0_MS + 1);
    CS_CHECK(cs_hlc_ms(c) == T0_MS + 1);
    CS_CHECK_INT(cs_hlc_counter(c), 0);
    /* A full counter carries into the ms part, still increasing. */
    c = cs_hlc_make(T0_MS, UINT16_MAX);
    struct cs_hlc d = cs_hlc_tick(c, T0_MS);
    CS_CHECK_INT(cs_hlc_compare(d, c), 1);
    CS_CHECK(cs_hlc_ms(d) == T0_MS + 1);
    CS_CHECK_INT(cs_hlc_counter(d), 0);
    /* The end of time saturates instead of wrapping to 0. */
    c.t = UINT64_MAX;
    CS_CHECK(cs_hlc_tick(c, T0_MS).t == UINT64_MAX);
    CS_CHECK(cs_hlc_tick((struct cs_hlc){0}, UINT64_MAX).t == CS_HLC_MS_MAX
                                                                  << 16);
}

static void
test_recv(void)
{
    uint64_t bound = CS_HLC_MAX_AHEAD_MS_DEFAULT;
    struct cs_hlc clock = cs_hlc_make(T0_MS, 3);
    struct cs_hlc later = cs_hlc_make(T0_MS + 10, 1);
    struct cs_hlc older = cs_hlc_make(T0_MS - HOUR_MS, 9);

    CS_CHECK_INT(cs_hlc_recv(&clock, later, T0_MS, bound), 0);
    CS_CHECK(clock.t == later.t);
    CS_CHECK_INT(cs_hlc_recv(&clock, older, T0_MS, bound), 0);
    CS_CHECK(clock.t == later.t);
    /* The next local event is after what we received. */
    CS_CHECK_INT(cs_hlc_compare(cs_hlc_tick(clock, T0_MS), later), 1);

    /* Exactly at the bound: accepted. */
    struct cs_hlc at = cs_hlc_make(T0_MS + bound, UINT16_MAX);
    CS_CHECK_INT(cs_hlc_recv(&clock, at, T0_MS, bound), 0);
    CS_CHECK(clock.t == at.t);
    /* One ms beyond: refused, clock unchanged. */
    clock = cs_hlc_make(T0_MS, 3);
    struct cs_hlc beyond = cs_hlc_make(T0_MS + bound + 1, 0);
    CS_CHECK_INT(cs_hlc_recv(&clock, beyond, T0_MS, bound), CS_ERR_CLOCK_AHEAD);
    CS_CHECK(clock.t == cs_hlc_make(T0_MS, 3).t);
    /* Far beyond, and bounds that would overflow an addition. */
    struct cs_hlc end = {.t = UINT64_MAX};
    CS_CHECK_INT(cs_hlc_recv(&clock, end, T0_MS, bound), CS_ERR_CLOCK_AHEAD);
    CS_CHECK_INT(cs_hlc_recv(&clock, end, T0_MS, 0), CS_ERR_CLOCK_AHEAD);
    CS_CHECK(clock.t == cs_hlc_make(T0_MS, 3).t);
    CS_CHECK_INT(cs_hlc_recv(&clock, end, T0_MS, UINT64_MAX), 0);
    CS_CHECK(clock.t == UINT64_MAX);
    /* Bound 0: same ms accepted, next ms refused. */
    clock.t = 0;
    CS_CHECK_INT(cs_hlc_recv(&clock, cs_hlc_make(T0_MS, 5), T0_MS, 0), 0);
    CS_CHECK_INT(cs_hlc_recv(&clock, cs_hlc_make(T0_MS + 1, 0), T0_MS, 0),
                 CS_ERR_CLOCK_AHEAD);
    CS_CHECK(clock.t == cs_hlc_make(T0_MS, 5).t);
    /* A remote time when our wall clock reads 0 (broken clock). */
    CS_CHECK_INT(cs_hlc_recv(&clock, cs_hlc_make(T0_MS, 6), 0, bound),
                 CS_ERR_CLOCK_AHEAD);
}

static void
test_compare(void)
{
    struct cs_hlc a = cs_hlc_make(T0_MS, 1), b = cs_hlc_make(T0_MS, 2);
    struct cs_hlc c = cs_hlc_make(T0_MS + 1, 0);
    CS_CHECK_INT(cs_hlc_compare(a, b), -1);
    CS_CHECK_INT(cs_hlc_compare(b, a), 1);
    CS_CHECK_INT(cs_hlc_compare(a, a), 0);
    CS_CHECK_INT(cs_hlc_compare(b, c), -1);
    CS_CHECK_INT(cs_hlc_compare((struct cs_hlc){UINT64_MAX}, a), 1);
}

static void
test_wall_ms(void)
{
    uint64_t a = cs_hlc_wall_ms();
    uint64_t b = cs_hlc_wall_ms();
    CS_CHECK(a > 1577836800000ULL); /* after 2020-01-01 */
    CS_CHECK(a <= CS_HLC_MS_MAX);
    CS_CHECK(b + 1000 >= a); /* no big step between two reads */
}

static void
test_format(void)
{
    static const struct {
        uint64_t ms;
        uint16_t counter;
        const char *text;
    } vectors[] = {
        {T0_MS, 0, "2026-11-27T05:38:01.123Z"},
        {T0_MS, 1, "2026-11-27T05:38:01.123Z+1"},
        {T0_MS, 65535, "2026-11-27T05:38:01.123Z+65535"},
        {0, 0, "1970-01-01T00:00:00.000Z"},
        {951868799999ULL, 2, "2000-02-29T23:59:59.999Z+2"},
        {CS_HLC_MS_MAX, 65535, "10889-08-02T05:31:50.655Z+65535"},
    };
    char buf[CS_HLC_TEXT_MAX];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        struct cs_hlc h = cs_hlc_make(vectors[i].ms, vectors[i].counter);
        CS_CHECK_INT(cs_hlc_format(h, buf, sizeof buf), 0);
        CS_CHECK_STR(buf, vectors[i].text);
    }

    /* Exact fit, one byte short, zero-sized. */
    struct cs_hlc h = cs_hlc_make(T0_MS, 12);
    size_t need = strlen("2026-11-27T05:38:01.123Z+12") + 1;
    char small[sizeof "2026-11-27T05:38:01.123Z+12"];
    CS_CHECK_INT(cs_hlc_format(h, small, need), 0);
    CS_CHECK_STR(small, "2026-11-27T05:38:01.123Z+12");
    CS_CHECK_INT(cs_hlc_format(h, small, need - 1), CS_ERR_TOO_BIG);
    CS_CHECK_STR(small, "");
    CS_CHECK_INT(cs_hlc_format(cs_hlc_make(T0_MS, 0), small, 24),
                 CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_hlc_format(h, small, 0), CS_ERR_TOO_BIG);
}

static const struct cs_test_case cases[] = {
    {"packing", test_packing},
    {"tick_matches_sql", test_tick_matches_sql},
    {"monotonic_wall_jumps_back", test_monotonic_wall_jumps_back},
    {"counter", test_counter},
    {"recv", test_recv},
    {"compare", test_compare},
    {"wall_ms", test_wall_ms},
    {"format", test_format},
    {NULL, NULL},
};

CS_TEST_MAIN(cases)
