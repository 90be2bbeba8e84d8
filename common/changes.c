/*  common/changes.c - owned copies of changes; see changes.h.  */
#include "prelude.h"

#include "changes.h"
#include "mem.h"

#define S_FIRST_CAP 64 /* slots allocated on the first push */

void
cs_changes_init(struct cs_changes *c)
{
    memset(c, 0, sizeof *c);
}

/* Copies s (NUL-terminated) to *at, returns the copy and advances *at. */
static const char *
s_put_str(char **at, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = *at;

    memcpy(copy, s, n);
    *at += n;
    return copy;
}

void
cs_changes_push(struct cs_changes *c, const struct cs_change *ch)
{
    bool has_bytes =
        ch->value.type == SQLITE_TEXT || ch->value.type == SQLITE_BLOB;
    size_t size = strlen(ch->table) + 1 + strlen(ch->row_id) + 1 +
                  strlen(ch->col) + 1 + (has_bytes ? ch->value.len : 0);
    struct cs_change *copy;
    char *block, *at;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : S_FIRST_CAP;
        c->v = cs_xrealloc(c->v, c->cap * sizeof *c->v);
        c->blocks = cs_xrealloc(c->blocks, c->cap * sizeof *c->blocks);
    }
    block = at = cs_xmalloc(size);
    copy = &c->v[c->n];
    *copy = *ch;
    copy->table = s_put_str(&at, ch->table);
    copy->row_id = s_put_str(&at, ch->row_id);
    copy->col = s_put_str(&at, ch->col);
    if (has_bytes) {
        if (ch->value.len > 0)
            memcpy(at, ch->value.p, ch->value.len);
        copy->value.p = at;
    }
    c->blocks[c->n] = block;
    c->n++;
    c->bytes += size;
}

void
cs_changes_clear(struct cs_changes *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->blocks[i]);
    free(c->blocks);
    free(c->v);
    cs_changes_init(c);
}

size_t
cs_changes_count(const struct cs_changes *c)
{
    return c->n;
}

size_t
cs_changes_bytes(const struct cs_changes *c)
{
    return c->bytes;
}

const struct cs_change *
cs_changes_items(const struct cs_changes *c)
{
    return c->v;
}

int
cs_changes_collect(void *arg, const struct cs_change *ch)
{
    cs_changes_push(arg, ch);
    return 0;
}
