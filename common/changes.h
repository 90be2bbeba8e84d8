/*  common/changes.h - owned copies of changes from the log.
 *
 *  cs_store_changes() and cs_store_history() lend each change only for the
 *  duration of a callback.  A struct cs_changes keeps deep copies (names
 *  and value bytes in one allocation per change), so the CLI can read a
 *  row's history before it prints it (printing asks the store for names),
 *  and `merge` can read another replica before it writes to this one.
 *  It holds no limit of its own: callers bound it by count or by
 *  cs_changes_bytes() as they collect.
 */
#ifndef CS_CHANGES_H
#define CS_CHANGES_H

#include <stddef.h>

#include "attr.h"
#include "store.h"

/* A list of owned changes; a value type for stack use (STYLE.md 10). */
struct cs_changes {
    struct cs_change *v; /* the copies; pointers point into blocks */
    char **blocks;       /* one owned allocation per change */
    size_t n;            /* changes held */
    size_t cap;          /* slots allocated */
    size_t bytes;        /* bytes held in blocks */
};

/* Makes c empty.  Cannot fail. */
void cs_changes_init(struct cs_changes *c) CS_NONNULL(1);

/* Appends a deep copy of ch (aborts on exhaustion, like cs_xmalloc). */
void cs_changes_push(struct cs_changes *c, const struct cs_change *ch)
    CS_NONNULL(1, 2);

/* Frees every copy; c is empty and may be used again. */
void cs_changes_clear(struct cs_changes *c) CS_NONNULL(1);

/* Returns the number of changes held, and the bytes their copies take. */
size_t cs_changes_count(const struct cs_changes *c) CS_NONNULL(1);
size_t cs_changes_bytes(const struct cs_changes *c) CS_NONNULL(1);

/* Returns the array of changes held (cs_changes_count() of them), valid
   until the next push or clear. */
const struct cs_change *cs_changes_items(const struct cs_changes *c)
    CS_NONNULL(1);

/* A cs_change_fn: pushes ch into the struct cs_changes at arg; returns 0. */
int cs_changes_collect(void *arg, const struct cs_change *ch) CS_NONNULL(1, 2);

#endif
