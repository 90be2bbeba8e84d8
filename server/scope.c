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

/* The office the batch itself gives row (table, id): the office_id SET
   with the greatest HLC among its changes, if any. */
static bool
s_batch_office(const struct cs_change *ch, size_t n, const char *table,
               const char *id, char *office, size_t len)
{
    uint64_t best = 0;
    bool found = false;
    char value[CS_SCOPE_OFFICE_MAX + 2];

    for (size_t i = 0; i < n; i++) {
        if (strcmp(ch[i].table, table) != 0 || strcmp(ch[i].row_id, id) != 0 ||
            !s_sets_office(&ch[i], value, sizeof value))
            continue;
        if (!found || ch[i].hlc.t >= best) {
            best = ch[i].hlc.t;
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

int
cs_scope_check(struct cs_store *s, const struct cs_scope *sc,
               const struct cs_change *ch, size_t n,
               struct cs_scope_refusal *refused, size_t *nrefused)
{
    char office[CS_SCOPE_OFFICE_MAX + 2], value[CS_SCOPE_OFFICE_MAX + 2];
    int r;

    *nrefused = 0;
    for (size_t i = 0; i < n; i++) {
        bool known = false;

        if (sc->role == CS_ROLE_CENTRAL)
            continue;
        if (sc->role != CS_ROLE_SITE) {
            s_refuse(refused, nrefused, i, "%s nodes write nothing", "auditor");
            continue;
        }
        if ((r = cs_store_row_office(s, ch[i].table, ch[i].row_id, office,
                                     sizeof office, &known)) != 0 &&
            r != CS_ERR_NO_TABLE)
            return r;
        if (r == CS_ERR_NO_TABLE) {
            s_refuse(refused, nrefused, i, "no table %s", ch[i].table);
            continue;
        }
        if (!known && !s_batch_office(ch, n, ch[i].table, ch[i].row_id, office,
                                      sizeof office)) {
            s_refuse(refused, nrefused, i, "the record has no office%s", "");
            continue;
        }
        if (strcmp(office, sc->office) != 0) {
            s_refuse(refused, nrefused, i, "the record belongs to office %s",
                     office);
            continue;
        }
        if (s_sets_office(&ch[i], value, sizeof value) &&
            strcmp(value, sc->office) != 0)
            s_refuse(refused, nrefused, i,
                     "a site cannot give a record to office %s", value);
        else if (ch[i].op == CS_OP_SET && strcmp(ch[i].col, "office_id") == 0 &&
                 !s_sets_office(&ch[i], value, sizeof value))
            s_refuse(refused, nrefused, i,
                     "a site cannot take a record out of its office%s", "");
    }
    return 0;
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
