/*  server/srvdb.h - the three SQLite helpers the server's own tables use
 *  (down.c, audit.c): an error logged once with what was being done, a
 *  statement prepared, a one-shot statement run and finalized.
 */
#ifndef CS_SRVDB_H
#define CS_SRVDB_H

#include <sqlite3.h>

#include "attr.h"
#include "store.h"

/* Logs the failure rc of doing what; returns CS_ERR_LOCKED (busy or
   locked) or CS_ERR_DB. */
int cs_srvdb_err(struct cs_store *s, int rc, const char *what) CS_NONNULL(1, 3);

/* Prepares sql on s's connection into *st.  Returns 0 or the error. */
CS_MUST_CHECK int cs_srvdb_prep(struct cs_store *s, const char *sql,
                                sqlite3_stmt **st) CS_NONNULL(1, 2, 3);

/* Steps st once, finalizes it, and returns 0 if it was done, else the
   error of doing what. */
CS_MUST_CHECK int cs_srvdb_done(struct cs_store *s, sqlite3_stmt *st,
                                const char *what) CS_NONNULL(1, 3);

#endif
