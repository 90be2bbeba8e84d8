/*  tests/tools/cs-audit-rewrite.c - plays a server that rewrites its own
 *  history, for the test that nodes catch it.
 *
 *      cs-audit-rewrite SERVERDIR LEAF
 *
 *  Rebuilds the audit log of SERVERDIR with leaf LEAF changed (its time
 *  moved by one millisecond): every leaf appended again, the tree and one
 *  tree head made anew and signed with the server's own key.  The result
 *  is a well-formed, properly signed log that is not an extension of the
 *  one nodes saw: what an attacker holding the server key could make.
 *  Exit 0 when done, 1 on any failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "auditlog.h"
#include "err.h"
#include "hlc.h"
#include "mem.h"
#include "srvdir.h"
#include "writer.h"

struct s_leaves {
    uint8_t **p;
    size_t *len, n;
};

static int
s_read(sqlite3 *db, struct s_leaves *v)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT data FROM zz_srv_audit ORDER BY leaf",
                           -1, &st, NULL) != SQLITE_OK)
        return CS_ERR_DB;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        v->p = cs_xrealloc(v->p, (v->n + 1) * sizeof *v->p);
        v->len = cs_xrealloc(v->len, (v->n + 1) * sizeof *v->len);
        v->p[v->n] = cs_xmalloc(len ? len : 1);
        memcpy(v->p[v->n], sqlite3_column_blob(st, 0), len);
        v->len[v->n++] = len;
    }
    sqlite3_finalize(st);
    return 0;
}

int
main(int argc, char **argv)
{
    struct cs_srvdir *d = NULL;
    struct cs_key *k = NULL;
    struct s_leaves v = {NULL, NULL, 0};
    struct cs_store *s;
    sqlite3 *db;
    unsigned long long which;
    int r = CS_ERR_INVALID;

    char *end = NULL;

    if (argc == 3)
        which = strtoull(argv[2], &end, 10);
    if (argc != 3 || end == argv[2] || *end != '\0') {
        fprintf(stderr, "usage: cs-audit-rewrite SERVERDIR LEAF\n");
        return 1;
    }
    if (cs_crypto_init() != 0 || cs_srvdir_open(argv[1], &d) != 0 ||
        cs_srvdir_key(d, -1, &k) != 0)
        goto out;
    s = cs_srvdir_store(d);
    db = cs_store_db(s);
    if (s_read(db, &v) != 0 || which >= v.n) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE; DROP TRIGGER zz_srv_audit_no_delete; "
                     "DROP TRIGGER zz_srv_tree_no_delete; DROP TRIGGER "
                     "zz_srv_head_no_delete; DELETE FROM zz_srv_audit; DELETE "
                     "FROM zz_srv_tree; DELETE FROM zz_srv_head;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        r = CS_ERR_DB;
        goto out;
    }
    for (size_t i = 0; i < v.n; i++) {
        struct cs_leaf l;
        if ((r = cs_leaf_decode(v.p[i], v.len[i], &l)) != 0)
            goto out;
        if (i == which)
            l.at_ms++;
        if ((r = cs_audit_append(s, &l, NULL)) != 0)
            goto out;
    }
    if ((r = cs_audit_sign(s, k, cs_srvdir_deployment(d), cs_hlc_wall_ms(),
                           NULL)) != 0 ||
        (r = cs_audit_install(s)) != 0)
        goto out;
    r = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                  : CS_ERR_DB;
    if (r == 0)
        printf("rewrote the audit log of %s: %zu leaves, leaf %llu changed\n",
               argv[1], v.n, which);
out:
    if (r != 0)
        fprintf(stderr, "cs-audit-rewrite: %s\n", cs_strerror(r));
    for (size_t i = 0; i < v.n; i++)
        free(v.p[i]);
    free(v.p);
    free(v.len);
    cs_key_destroy(&k);
    cs_srvdir_destroy(&d);
    return r == 0 ? 0 : 1;
}
