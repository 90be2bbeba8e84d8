/*  common/hlc.c - hybrid logical clock times; see hlc.h.
 *
 *  Kulkarni et al. keep the physical part l and counter c apart and reset c
 *  when l advances.  Packed as ms << 16 | c, "max(last + 1, now << 16)" does
 *  both at once: within one millisecond (or while the wall clock lags behind
 *  last) the +1 bumps the counter; once the wall clock passes last, the
 *  shift starts a fresh millisecond with counter 0.  A counter that runs
 *  past 65535 carries into the millisecond part, i.e. the clock runs
 *  slightly ahead of the wall clock until it catches up; order is kept.
 *
 *  Receiving is a plain max: the next local tick will then be later than
 *  the received time.  Remote times far in the future are refused instead
 *  of adopted (CS_ERR_CLOCK_AHEAD), since adopting them could not be undone.
 */
#include "prelude.h"

#include "err.h"
#include "hlc.h"

#define S_MS_PER_S 1000               /* milliseconds per second */
#define S_NS_PER_MS 1000000           /* nanoseconds per millisecond */
#define S_TM_YEAR_BASE 1900           /* struct tm counts years from here */
#define S_SUFFIX_MAX sizeof("+65535") /* counter suffix, NUL included */

struct cs_hlc
cs_hlc_make(uint64_t ms, uint16_t counter)
{
    assert(ms <= CS_HLC_MS_MAX);
    return (struct cs_hlc){.t = ms << CS_HLC_COUNTER_BITS | counter};
}

uint64_t
cs_hlc_ms(struct cs_hlc h)
{
    return h.t >> CS_HLC_COUNTER_BITS;
}

uint16_t
cs_hlc_counter(struct cs_hlc h)
{
    return (uint16_t)(h.t & CS_HLC_COUNTER_MAX);
}

struct cs_hlc
cs_hlc_tick(struct cs_hlc last, uint64_t wall_ms)
{
    if (wall_ms > CS_HLC_MS_MAX)
        wall_ms = CS_HLC_MS_MAX;
    uint64_t wall = wall_ms << CS_HLC_COUNTER_BITS;
    uint64_t next = last.t == UINT64_MAX ? UINT64_MAX : last.t + 1;
    return (struct cs_hlc){.t = next > wall ? next : wall};
}

int
cs_hlc_recv(struct cs_hlc *clock, struct cs_hlc remote, uint64_t wall_ms,
            uint64_t max_ahead_ms)
{
    uint64_t remote_ms = cs_hlc_ms(remote);

    /* remote_ms > wall_ms + max_ahead_ms, without the overflowing add. */
    if (remote_ms > wall_ms && remote_ms - wall_ms > max_ahead_ms)
        return CS_ERR_CLOCK_AHEAD;
    if (remote.t > clock->t)
        clock->t = remote.t;
    return 0;
}

int
cs_hlc_compare(struct cs_hlc a, struct cs_hlc b)
{
    if (a.t < b.t)
        return -1;
    if (a.t > b.t)
        return 1;
    return 0;
}

uint64_t
cs_hlc_wall_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * S_MS_PER_S +
           (uint64_t)ts.tv_nsec / S_NS_PER_MS;
}

int
cs_hlc_format(struct cs_hlc h, char *buf, size_t len)
{
    uint64_t ms = cs_hlc_ms(h);
    uint16_t counter = cs_hlc_counter(h);
    time_t secs = (time_t)(ms / S_MS_PER_S);
    char suffix[S_SUFFIX_MAX] = "";
    struct tm tm;
    int n;

    if (len > 0)
        buf[0] = '\0';
    if (gmtime_r(&secs, &tm) == NULL)
        return CS_ERR_INTERNAL; /* cannot happen for 48-bit ms */
    if (counter != 0)
        snprintf(suffix, sizeof suffix, "+%u", (unsigned)counter);
    n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ%s",
                 tm.tm_year + S_TM_YEAR_BASE, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % S_MS_PER_S),
                 suffix);
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            buf[0] = '\0';
        return CS_ERR_TOO_BIG;
    }
    return 0;
}
