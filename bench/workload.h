/*  bench/workload.h - a deterministic generator of realistic changes.
 *
 *  Benchmarks need data that looks like the programme's: Kyrgyz and Russian
 *  names in Cyrillic, letters to local authorities of 300 to 2,000
 *  characters, status changes, dates, small integers.  Given the same seed
 *  the generator produces the same changes, so figures from two runs are
 *  comparable.  It produces struct cs_change (common/change.h) whose
 *  strings it owns; it does not touch SQLite.
 */
#ifndef CS_BENCH_WORKLOAD_H
#define CS_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "change.h"

struct cs_workload;

/* Returns a generator seeded with seed; never NULL. */
struct cs_workload *cs_workload_new(uint64_t seed);

/* Frees *w and sets it to NULL. */
void cs_workload_destroy(struct cs_workload **w);

/* Appends n changes of one office's typical work to *w's buffer: new
   records (all their fields) about a third of the time, field updates
   (statuses, dates, counts, a new letter text now and then) otherwise.
   Returns the array of all changes generated so far (owned by w, valid
   until the next call) and its length in *count. */
const struct cs_change *cs_workload_office_day(struct cs_workload *w, size_t n,
                                               size_t *count);

#endif
