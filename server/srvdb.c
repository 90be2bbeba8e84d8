/*  server/srvdb.c - SQLite helpers of the server's tables; see srvdb.h.  */
#include "prelude.h"

#include "srvdb.h"

int
cs_srvdb_err(struct cs_store *s, int rc, const char *what)
{
    int r =
        rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? CS_ERR_LOCKED : CS_ERR_DB;
    cs_log_err(r, "%s: %s", what, sqlite3_errmsg(cs_store_db(s)));
    return r;
}

int
cs_srvdb_prep(struct cs_store *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(cs_store_db(s), sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : cs_srvdb_err(s, rc, "preparing a statement");
}

int
cs_srvdb_done(struct cs_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : cs_srvdb_err(s, rc, what);
}
