/*  common/config.h - a node's configuration file.
 *
 *  The config file of a node directory is plain text that an office
 *  administrator may edit with any editor:
 *
 *      # cigsync node configuration
 *      server.endpoint = tcp://hub.example.org:5560
 *      office.id = isfana
 *      office.name = Исфана
 *
 *  Rules (the parser and cs_config_set() enforce the same ones):
 *    - lines end with LF or CRLF; a UTF-8 byte order mark at the very start
 *      is skipped (Windows Notepad writes both);
 *    - blank lines, and lines whose first non-blank character is '#', are
 *      ignored; '#' anywhere else is part of the value;
 *    - every other line is `key = value`; blanks (space, tab) around the
 *      key, the '=' and the value are dropped;
 *    - a key matches [a-z][a-z0-9_.]* and has at most CS_CONFIG_KEY_MAX
 *      bytes; a key may appear once per file;
 *    - a value is the rest of the line (may be empty, may contain '=' and
 *      '#'), at most CS_CONFIG_VALUE_MAX bytes of well-formed UTF-8 with no
 *      control characters (C0, DEL, C1) -- a tab inside a value included;
 *    - the whole file is at most CS_CONFIG_FILE_MAX bytes.
 *  Pairs keep the order of the file; cs_config_save() writes them back in
 *  that order.  Comments are not kept: save writes its own header.
 *
 *  This module knows nothing about what the keys mean; the programs check
 *  the values they use.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stddef.h>

#include "attr.h"

#define CS_CONFIG_KEY_MAX 64     /* longest key, in bytes */
#define CS_CONFIG_VALUE_MAX 1024 /* longest value, in bytes */
#define CS_CONFIG_FILE_MAX 65536 /* largest config file, in bytes */

/* An ordered list of unique key/value pairs; opaque. */
struct cs_config;

/* Returns a new, empty config; never NULL (aborts on exhaustion). */
struct cs_config *cs_config_new(void);

/* Frees *c and sets *c to NULL; does nothing if *c is NULL. */
void cs_config_destroy(struct cs_config **c) CS_NONNULL(1);

/* Parses config text, which may be anything (untrusted input).
     text      the bytes; need not be NUL-terminated, NUL bytes in it are
               errors
     len       their number
     out       receives the config, owned by the caller
     err_line  if not NULL, receives the 1-based line of the first error,
               or 0 on success and for errors of the whole file
   Returns 0; CS_ERR_TOO_BIG if len exceeds CS_CONFIG_FILE_MAX, or a key or
   value exceeds its maximum; CS_ERR_FORMAT for any other malformed line,
   including a duplicate key.  Logs the reason.  On failure *out is NULL. */
CS_MUST_CHECK int cs_config_parse(const char *text, size_t len,
                                  struct cs_config **out, size_t *err_line)
    CS_NONNULL(1, 3);

/* Reads and parses the config file at path; arguments, returns and
   ownership as cs_config_parse(), and also CS_ERR_NOT_FOUND if there is no
   such file, CS_ERR_PERM if it may not be read, CS_ERR_IO. */
CS_MUST_CHECK int cs_config_load(const char *path, struct cs_config **out,
                                 size_t *err_line) CS_NONNULL(1, 2);

/* Returns the value of key, or NULL if c has no such key.  The string
   belongs to c and is valid until key is set again or c is destroyed. */
const char *cs_config_get(const struct cs_config *c, const char *key)
    CS_NONNULL(1, 2);

/* Returns the number of pairs in c. */
size_t cs_config_count(const struct cs_config *c) CS_NONNULL(1);

/* Returns the key of the i-th pair in file order (i < cs_config_count(),
   asserted); the string belongs to c. */
const char *cs_config_key(const struct cs_config *c, size_t i) CS_NONNULL(1);

/* Sets key to value, replacing an existing value in place (the pair keeps
   its position) or appending a new pair.  Both are copied.  Returns 0;
   CS_ERR_FORMAT or CS_ERR_TOO_BIG if key or value break the rules above
   (a value with leading or trailing blanks is refused, as it could not be
   read back); then c is unchanged. */
CS_MUST_CHECK int cs_config_set(struct cs_config *c, const char *key,
                                const char *value) CS_NONNULL(1, 2, 3);

/* Writes c as text: each line of header_comment (split at '\n') as
   "# line", then one "key = value" line per pair, each ending in '\n'.
     c               the config
     header_comment  NULL for none
     text            receives the NUL-terminated text, owned by the caller
                     (free())
     len             receives its length without the NUL
   Returns 0; CS_ERR_INVALID if header_comment holds a control character
   other than '\n'; CS_ERR_TOO_BIG if the text would exceed
   CS_CONFIG_FILE_MAX.  On failure *text is NULL and *len 0. */
CS_MUST_CHECK int cs_config_format(const struct cs_config *c,
                                   const char *header_comment, char **text,
                                   size_t *len) CS_NONNULL(1, 3, 4);

/* Writes c to path atomically, as cs_config_format() lays it out: into a
   new temporary file (mode 0600) in the same directory, fsync(), rename()
   over path, fsync() of the directory.  A crash leaves either the old or
   the new file, never a mix.
     c               the config
     path            the file to replace or create
     header_comment  NULL for none
   Returns 0; CS_ERR_INVALID or CS_ERR_TOO_BIG as cs_config_format();
   CS_ERR_PERM if the directory refuses; CS_ERR_IO.  On failure path is
   untouched and no temporary file is left behind. */
CS_MUST_CHECK int cs_config_save(const struct cs_config *c, const char *path,
                                 const char *header_comment) CS_NONNULL(1, 2);

#endif
