/*  common/hlc.h - hybrid logical clock (HLC) times.
 *
 *  An HLC time (Kulkarni et al., "Logical Physical Clocks", 2014) orders
 *  every change a node makes or learns of: it stays close to the wall clock,
 *  yet never goes backwards, even when the wall clock is stepped back, and
 *  it is always later than any time the node has already accepted from
 *  others.  Merge compares changes by (HLC, origin node id).
 *
 *  A time is packed into one uint64_t so that plain integer comparison is
 *  the HLC order and SQLite can store it as an INTEGER:
 *
 *      bits 63..16  milliseconds since 1970-01-01T00:00:00Z (48 bits, good
 *                   until the year 10889)
 *      bits 15..0   logical counter within that millisecond
 *
 *  The change-capture triggers compute the very same value in SQL as
 *  `max(hlc + 1, now_ms << 16)`; cs_hlc_tick() is exactly that expression,
 *  so times made by C and by triggers interleave correctly.  Changing the
 *  packing changes the replica format.
 *
 *  This module is arithmetic on values plus one read of the system clock;
 *  it does not store the clock anywhere (the replica does).
 */
#ifndef CS_HLC_H
#define CS_HLC_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"

#define CS_HLC_COUNTER_BITS 16 /* low bits holding the logical counter */
#define CS_HLC_MS_BITS 48      /* high bits holding wall-clock milliseconds */
#define CS_HLC_MS_MAX ((UINT64_C(1) << CS_HLC_MS_BITS) - 1) /* last ms */
#define CS_HLC_COUNTER_MAX UINT16_MAX /* largest counter value */

/* Default bound on how far ahead of our wall clock a remote time may be
   before cs_hlc_recv() refuses it: one day, in milliseconds. */
#define CS_HLC_MAX_AHEAD_MS_DEFAULT (24ULL * 60 * 60 * 1000)

/* Buffer size that always holds cs_hlc_format() output, NUL included. */
#define CS_HLC_TEXT_MAX 40

/* One HLC time; a struct so that it cannot be confused with a sequence
   number or a plain millisecond count (STYLE.md 13). */
struct cs_hlc {
    uint64_t t; /* ms << CS_HLC_COUNTER_BITS | counter */
};

/* Returns the time with wall-clock part ms and logical part counter.
   ms must be at most CS_HLC_MS_MAX (asserted). */
struct cs_hlc cs_hlc_make(uint64_t ms, uint16_t counter);

/* Returns the millisecond part of h. */
uint64_t cs_hlc_ms(struct cs_hlc h);

/* Returns the logical counter part of h. */
uint16_t cs_hlc_counter(struct cs_hlc h);

/* Returns the time of a new local event, given the last time this node
   issued or accepted (last) and the wall clock now (wall_ms):
   max(last.t + 1, wall_ms << CS_HLC_COUNTER_BITS).  The result is always
   later than last, whatever the wall clock does.  A wall_ms beyond
   CS_HLC_MS_MAX is treated as CS_HLC_MS_MAX, and a last of UINT64_MAX is
   returned unchanged rather than wrapped; neither happens before the year
   10889. */
struct cs_hlc cs_hlc_tick(struct cs_hlc last, uint64_t wall_ms);

/* Takes in a time seen on a change from another node.
     clock         this node's clock; updated to max(*clock, remote)
     remote        the time received
     wall_ms       this node's wall clock now, in ms (cs_hlc_wall_ms())
     max_ahead_ms  how far ahead of wall_ms the ms part of remote may be,
                   usually CS_HLC_MAX_AHEAD_MS_DEFAULT
   Returns 0, or CS_ERR_CLOCK_AHEAD when cs_hlc_ms(remote) > wall_ms +
   max_ahead_ms; then *clock is left unchanged, so one node with a broken
   clock cannot drag every other clock into the future.  A remote exactly
   max_ahead_ms ahead is accepted. */
CS_MUST_CHECK int cs_hlc_recv(struct cs_hlc *clock, struct cs_hlc remote,
                              uint64_t wall_ms, uint64_t max_ahead_ms)
    CS_NONNULL(1);

/* Returns -1, 0 or 1 as a is earlier than, equal to, or later than b. */
int cs_hlc_compare(struct cs_hlc a, struct cs_hlc b);

/* Returns the wall clock (CLOCK_REALTIME) in ms since the Unix epoch, or 0
   if the clock reads before 1970 or cannot be read. */
uint64_t cs_hlc_wall_ms(void);

/* Writes h for people, in UTC: "2026-11-27T05:38:01.123Z", followed by
   "+N" when the counter N is not 0 ("2026-11-27T05:38:01.123Z+2").
     h    the time
     buf  receives the NUL-terminated text
     len  size of buf; CS_HLC_TEXT_MAX always suffices
   Returns 0, or CS_ERR_TOO_BIG if buf is too small (buf then holds "" when
   len > 0). */
CS_MUST_CHECK int cs_hlc_format(struct cs_hlc h, char *buf, size_t len)
    CS_NONNULL(2);

#endif
