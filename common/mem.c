/*  common/mem.c - aborting allocators; see mem.h.  */
#include "prelude.h"

#include "mem.h"

static void CS_NORETURN
s_oom(size_t size)
{
    fprintf(stderr, "cigsync: out of memory allocating %zu bytes\n", size);
    abort();
}

void *
cs_xmalloc(size_t size)
{
    void *p = malloc(size == 0 ? 1 : size);
    if (p == NULL)
        s_oom(size);
    return p;
}

void *
cs_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
    if (p == NULL)
        s_oom(n * size);
    return p;
}

void *
cs_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size == 0 ? 1 : size);
    if (q == NULL)
        s_oom(size);
    return q;
}

char *
cs_xstrdup(const char *s)
{
    return cs_xstrndup(s, strlen(s));
}

char *
cs_xstrndup(const char *s, size_t n)
{
    char *p = cs_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
cs_xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        s_oom(0);
    p = cs_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
