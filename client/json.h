/*  client/json.h - writing JSON (RFC 8259) for `--json` output.
 *
 *  A struct cs_json streams one JSON document to a FILE, indented by two
 *  spaces per level, so that scripts can parse it and people can read it.
 *  It only writes; the CLI never parses JSON.
 *
 *  Strings are escaped for any consumer: '"', '\' and every control
 *  character (U+0000..U+001F, U+007F) are escaped, and so are U+2028 and
 *  U+2029 (which break JavaScript string literals).  Text that is not valid
 *  UTF-8 (a replica may hold some, written by another SQLite tool) has each
 *  bad byte replaced by U+FFFD, so the output is always valid UTF-8.
 *
 *  Field values (cs_json_value) map as: INTEGER -> number, REAL -> number
 *  (an infinity as 1e999 / -1e999, which JSON parsers read back as one),
 *  TEXT -> string, NULL -> null, BLOB -> string holding the bytes in
 *  standard base64 with padding (RFC 4648 section 4).
 *
 *  The caller is responsible for nesting: every begin has its end, and
 *  inside an object every value is preceded by cs_json_key().  Write
 *  errors are left in the FILE's error flag for the caller to check once.
 */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attr.h"
#include "store.h"

/* A JSON writer; a value type for stack use (STYLE.md 10). */
struct cs_json {
    FILE *f;        /* where the document goes */
    size_t depth;   /* containers open */
    bool empty;     /* the innermost container has no element yet */
    bool after_key; /* a key was written; its value comes next */
};

/* Starts a document on f.  Cannot fail. */
void cs_json_init(struct cs_json *j, FILE *f) CS_NONNULL(1, 2);

/* Opens and closes objects and arrays. */
void cs_json_object_begin(struct cs_json *j) CS_NONNULL(1);
void cs_json_object_end(struct cs_json *j) CS_NONNULL(1);
void cs_json_array_begin(struct cs_json *j) CS_NONNULL(1);
void cs_json_array_end(struct cs_json *j) CS_NONNULL(1);

/* Writes the key of the next member of the open object. */
void cs_json_key(struct cs_json *j, const char *key) CS_NONNULL(1, 2);

/* Writes a string: s (NUL-terminated), or the len bytes at p (NULL allowed
   when len is 0), escaped as described at the top of this file. */
void cs_json_str(struct cs_json *j, const char *s) CS_NONNULL(1, 2);
void cs_json_strn(struct cs_json *j, const void *p, size_t len) CS_NONNULL(1);

/* Writes a number, a boolean or null. */
void cs_json_int(struct cs_json *j, int64_t n) CS_NONNULL(1);
void cs_json_uint(struct cs_json *j, uint64_t n) CS_NONNULL(1);
void cs_json_double(struct cs_json *j, double d) CS_NONNULL(1);
void cs_json_bool(struct cs_json *j, bool b) CS_NONNULL(1);
void cs_json_null(struct cs_json *j) CS_NONNULL(1);

/* Writes a field value as described at the top of this file. */
void cs_json_value(struct cs_json *j, const struct cs_value *v)
    CS_NONNULL(1, 2);

/* Ends the document with a newline; all containers must be closed. */
void cs_json_finish(struct cs_json *j) CS_NONNULL(1);

#endif
