/*  server/scope.c - write and read scopes of nodes; see scope.h.  */
#include "prelude.h"

#include "scope.h"

int
cs_scope_role_parse(const char *text, enum cs_role *role)
{
    if (strcmp(text, "site") == 0)
        *role = CS_ROLE_SITE;
    else if (strcmp(text, "central") == 0)
        *role = CS_ROLE_CENTRAL;
    else if (strcmp(text, "auditor") == 0)
        *role = CS_ROLE_AUDITOR;
    else
        return CS_ERR_INVALID;
    return 0;
}

bool
cs_scope_readable(const struct cs_scope *sc, const char *office)
{
    if (sc->role == CS_ROLE_CENTRAL || sc->role == CS_ROLE_AUDITOR)
        return true;
    return sc->role == CS_ROLE_SITE && sc->office[0] != '\0' &&
           strcmp(sc->office, office) == 0;
}

/* True if change c sets office_id to a text value; *value gets it. */
static bool
s_sets_office(const struct cs_change *c, char *value, size_t len)
{
    if (c->op != CS_OP_SET || strcmp(c->col, "office_id") != 0 ||
        c->value.type != CS_VALUE_TEXT || c->value.len >= len)
        return false;
    memcpy(value, c->value.p, c->value.len);
    value[c->value.len] = '\0';
    return true;
}

/* A change of a batch and its position, sorted by row for
   cs_scope_check(): the changes of one row become neighbours. */
struct s_pos {
    const struct cs_change *c; /* the change */
    size_t i;                  /* its index in the batch */
};

static int
s_row_cmp(const void *a, const void *b)
{
    const struct s_pos *x = a, *y = b;
    int c = strcmp(x->c->table, y->c->table);

    if (c == 0)
        c = strcmp(x->c->row_id, y->c->row_id);
    if (c == 0)
        c = x->i < y->i ? -1 : x->i > y->i;
    return c;
}

static bool
s_same_row(const struct s_pos *x, const struct s_pos *y)
{
    return strcmp(x->c->table, y->c->table) == 0 &&
           strcmp(x->c->row_id, y->c->row_id) == 0;
}

/* The office the batch itself gives one row: the office_id SET with the
   greatest HLC among its changes p[0..n), if any. */
static bool
s_batch_office(const struct s_pos *p, size_t n, char *office, size_t len)
{
    uint64_t best = 0;
    bool found = false;
    char value[CS_SCOPE_OFFICE_MAX + 2];

    for (size_t k = 0; k < n; k++) {
        const struct cs_change *c = p[k].c;
        if (!s_sets_office(c, value, sizeof value))
            continue;
        if (!found || c->hlc.t >= best) {
            best = c->hlc.t;
            snprintf(office, len, "%s", value);
            found = true;
        }
    }
    return found;
}

static void
s_refuse(struct cs_scope_refusal *out, size_t *nout, size_t index,
         const char *fmt, const char *arg)
{
    struct cs_scope_refusal *f = &out[(*nout)++];
    f->index = index;
    f->code = CS_ERR_PERM;
    snprintf(f->reason, sizeof f->reason, fmt, arg);
}

static int
s_refusal_cmp(const void *a, const void *b)
{
    const struct cs_scope_refusal *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Checks the changes p[0..m) of one row of a site's batch. */
static int
s_check_row(struct cs_store *s, const struct cs_scope *sc,
            const struct s_pos *p, size_t m, struct cs_scope_refusal *refused,
            size_t *nrefused)
{
    char office[CS_SCOPE_OFFICE_MAX + 2], value[CS_SCOPE_OFFICE_MAX + 2];
    const char *why = NULL, *arg = "";
    bool known = false;
    int r;

    r = cs_store_row_office(s, p[0].c->table, p[0].c->row_id, office,
                            sizeof office, &known);
    if (r != 0 && r != CS_ERR_NO_TABLE)
        return r;
    if (r == CS_ERR_NO_TABLE) {
        why = "no table %s";
        arg = p[0].c->table;
    } else if (!known && !s_batch_office(p, m, office, sizeof office)) {
        why = "the record has no office%s";
    } else if (strcmp(office, sc->office) != 0) {
        why = "the record belongs to office %s";
        arg = office;
    }
    for (size_t k = 0; k < m; k++) {
        const struct cs_change *c = p[k].c;
        if (why != NULL)
            s_refuse(refused, nrefused, p[k].i, why, arg);
        else if (s_sets_office(c, value, sizeof value) &&
                 strcmp(value, sc->office) != 0)
            s_refuse(refused, nrefused, p[k].i,
                     "a site cannot give a record to office %s", value);
        else if (c->op == CS_OP_SET && strcmp(c->col, "office_id") == 0 &&
                 !s_sets_office(c, value, sizeof value))
            s_refuse(refused, nrefused, p[k].i,
                     "a site cannot take a record out of its office%s", "");
    }
    return 0;
}

int
cs_scope_check(struct cs_store *s, const struct cs_scope *sc,
               const struct cs_change *ch, size_t n,
               struct cs_scope_refusal *refused, size_t *nrefused)
{
    struct s_pos *p = NULL;
    int r = 0;

    *nrefused = 0;
    if (sc->role == CS_ROLE_CENTRAL || n == 0)
        return 0;
    if (sc->role != CS_ROLE_SITE) {
        for (size_t i = 0; i < n; i++)
            s_refuse(refused, nrefused, i, "%s nodes write nothing", "auditor");
        return 0;
    }
    /* One look at the replica per row, not per change: the changes of a
       row are made neighbours (a batch of new records has one row per
       handful of changes). */
    p = cs_xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i].c = &ch[i];
        p[i].i = i;
    }
    qsort(p, n, sizeof *p, s_row_cmp);
    for (size_t k = 0, m; k < n && r == 0; k += m) {
        for (m = 1; k + m < n && s_same_row(&p[k], &p[k + m]); m++)
            ;
        r = s_check_row(s, sc, p + k, m, refused, nrefused);
    }
    free(p);
    if (r == 0 && *nrefused > 1)
        qsort(refused, *nrefused, sizeof *refused, s_refusal_cmp);
    return r;
}

void
cs_scope_of(const struct cs_registry_node *n, struct cs_scope *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->role = n->role == CS_REGISTRY_CENTRAL   ? CS_ROLE_CENTRAL
               : n->role == CS_REGISTRY_AUDITOR ? CS_ROLE_AUDITOR
                                                : CS_ROLE_SITE;
    snprintf(sc->office, sizeof sc->office, "%s", n->office);
}
