/*  client/text.h - UTF-8 text as the command line shows it.
 *
 *  Values in a replica come from every office and from any SQLite tool, so
 *  the CLI never prints them raw: a stray escape sequence in a name could
 *  repaint or hide what is on the person's terminal.  This module decodes
 *  UTF-8 one code point at a time, escapes what a terminal would act on
 *  (C0 and C1 controls, DEL, bidirectional overrides, line separators,
 *  invalid bytes), measures display width and truncates for tables.
 *
 *  Display width counts code points, which is right for the Latin and
 *  Cyrillic text the programme holds and only approximate for wide (CJK)
 *  or combining characters.  JSON output has its own escaping (json.h).
 */
#ifndef CS_TEXT_H
#define CS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attr.h"

/* Longest UTF-8 encoding of one code point, in bytes. */
#define CS_TEXT_UTF8_MAX 4

/* Decodes the code point at byte i of the len bytes at s.
     s    the text (need not be NUL-terminated)
     len  its length in bytes; i < len
     i    where to decode
     cp   receives the code point
   Returns the length of its encoding (1..CS_TEXT_UTF8_MAX), or 0 if the
   byte at i does not start a well-formed UTF-8 sequence (RFC 3629); *cp is
   then the byte's value. */
size_t cs_text_next(const char *s, size_t len, size_t i, uint32_t *cp)
    CS_NONNULL(1, 4);

/* Returns true if code point cp must not reach a terminal as it is. */
bool cs_text_unsafe(uint32_t cp);

/* Writes text to a terminal safely, escaping what cs_text_unsafe() names:
   \n \r \t, \xNN for other C0 controls, DEL and invalid bytes, \u{NNNN}
   for other unsafe code points.
     f       where to write
     p       the text (need not be NUL-terminated; NULL if len is 0)
     len     its length in bytes
     quoted  also escape '"' and '\', so the result can stand inside
             double quotes and be read back */
void cs_text_escape(FILE *f, const void *p, size_t len, bool quoted)
    CS_NONNULL(1);

/* Returns the display width of the NUL-terminated text s, in columns:
   one per code point (one per byte of a malformed sequence). */
size_t cs_text_width(const char *s) CS_NONNULL(1);

/* Returns a malloc'd copy of s cut to at most cols display columns; text
   that does not fit keeps its first cols - 1 columns and ends with "…".
   cols must be at least 1 (asserted).  The caller frees the result. */
char *cs_text_truncate(const char *s, size_t cols) CS_NONNULL(1);

#endif
