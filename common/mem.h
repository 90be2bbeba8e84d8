/*  common/mem.h - allocation that never returns NULL.
 *
 *  All cigsync code allocates through these (STYLE.md 19): on exhaustion they
 *  log the size asked for and abort, so callers need no NULL checks.  Sizes
 *  that come from outside must be bounded before they reach here.  Secrets
 *  do not use these: they live in sodium_malloc() memory (see key.h).
 */
#ifndef CS_MEM_H
#define CS_MEM_H

#include <stddef.h>

/* The allocators below never return NULL (static analysers rely on it). */
#define CS_ALLOC __attribute__((returns_nonnull, warn_unused_result))

/* Returns size bytes of uninitialised memory; aborts on exhaustion. */
void *cs_xmalloc(size_t size) CS_ALLOC;

/* Returns n * size zeroed bytes; aborts on exhaustion or overflow. */
void *cs_xcalloc(size_t n, size_t size) CS_ALLOC;

/* Resizes p to size bytes; aborts on exhaustion. */
void *cs_xrealloc(void *p, size_t size) CS_ALLOC;

/* Returns a malloc'd copy of the NUL-terminated string s. */
char *cs_xstrdup(const char *s) CS_ALLOC;

/* Returns a malloc'd NUL-terminated copy of the first n bytes of s. */
char *cs_xstrndup(const char *s, size_t n) CS_ALLOC;

/* Returns a malloc'd string formatted like printf. */
char *cs_xasprintf(const char *fmt, ...) CS_ALLOC
    __attribute__((format(printf, 1, 2)));

#endif
