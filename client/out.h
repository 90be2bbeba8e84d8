/*  client/out.h - what the command line prints: error lines and values.
 *
 *  The contract of every client/ function that returns a CS_ERR_* code to
 *  the command dispatcher: it has already printed exactly one line on
 *  stderr, through cs_out_error(), saying what is wrong.  The dispatcher
 *  prints nothing more; it only turns the code into the exit status
 *  (CS_ERR_USAGE: 2, any other failure: 1).
 *
 *  Everything printed for people goes through text.h's escaping, so data
 *  from other offices cannot drive the terminal.  JSON output is json.h's.
 */
#ifndef CS_OUT_H
#define CS_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "attr.h"
#include "hlc.h"
#include "key.h"
#include "store.h"

/* Hex digits of a node id shown when a node has no display name. */
#define CS_OUT_SHORT_ID_HEX 12

/* The one line printed for a replica that another program holds. */
#define CS_OUT_LOCKED_MSG                                                      \
    "the replica is locked by another program; close it and try again"

/* Prints "cigsync: MESSAGE" and a newline on stderr; the message is
   escaped (text.h), so it is always exactly one line. */
void cs_out_error(const char *fmt, ...) CS_PRINTF(1, 2);

/* Prints the error line for a failed read query of table (rc: SQLite's
   code); returns CS_ERR_LOCKED or CS_ERR_DB. */
int cs_out_read_error(sqlite3 *db, int rc, const char *table) CS_MUST_CHECK
    CS_NONNULL(1, 3);

/* Prints the message for a failed store call: CS_OUT_LOCKED_MSG for
   CS_ERR_LOCKED, else cs_store_errmsg(s) or, when that is empty,
   "WHAT: cs_strerror(r)".  Returns r, so callers can `return
   cs_out_store_error(...)`. */
int cs_out_store_error(const struct cs_store *s, int r, const char *what)
    CS_NONNULL(1, 3);

/* A string built with stdio: open, write to .f, close to get the text. */
struct cs_out_buf {
    FILE *f;    /* write here between open and close */
    char *data; /* the text, once closed */
    size_t len; /* its length */
};

/* Opens b for writing; aborts like cs_xmalloc() when out of memory. */
void cs_out_buf_open(struct cs_out_buf *b) CS_NONNULL(1);

/* Closes b and returns its NUL-terminated text, which the caller frees. */
char *cs_out_buf_close(struct cs_out_buf *b) CS_NONNULL(1);

/* Returns s in double quotes, escaped (text.h) and malloc'd. */
char *cs_out_quote(const char *s) CS_NONNULL(1);

/* Writes value v for people:
     f       where
     v       the value; integers and reals as numbers, text escaped (in
             double quotes if quote_text), blobs as "<N bytes>"
     null    what to write for NULL
     quote_text  whether text goes in double quotes */
void cs_out_value(FILE *f, const struct cs_value *v, const char *null,
                  bool quote_text) CS_NONNULL(1, 2, 3);

/* Returns cs_out_value()'s text for v, malloc'd, unquoted. */
char *cs_out_value_str(const struct cs_value *v, const char *null)
    CS_NONNULL(1, 2);

/* Writes h as cs_hlc_format() does into buf (CS_HLC_TEXT_MAX bytes). */
void cs_out_hlc(struct cs_hlc h, char buf[CS_HLC_TEXT_MAX]) CS_NONNULL(2);

/* Returns who node is for people, malloc'd: its display name in s, or the
   first CS_OUT_SHORT_ID_HEX hex digits of its id. */
char *cs_out_who(struct cs_store *s, const struct cs_node_id *node)
    CS_NONNULL(1, 2);

#endif
