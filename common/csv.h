/*  common/csv.h - bounded reader and writer of CSV text (RFC 4180).
 *
 *  The reader parses a CSV file that came from outside (a spreadsheet, a
 *  colleague's e-mail) one record at a time, with fixed limits on the file,
 *  each field, each record and the number of fields: nothing is allocated,
 *  let alone sized by what the input says.  The caller supplies one
 *  struct cs_csv_record (fixed size) that each record is unquoted into.
 *  Bytes are read through common/reader.h (STYLE.md 21).
 *
 *  What it accepts: an optional UTF-8 byte order mark at the very start;
 *  records ended by CRLF or LF (or by the end of the input); fields
 *  separated by ','; a field either unquoted (no '"', CR or LF in it) or
 *  wholly in double quotes, with '"' written as '""' and commas, CR and LF
 *  taken literally.  A blank line is a record with no fields.  Refused as
 *  malformed: a quote inside an unquoted field, text after a closing
 *  quote, a quoted field that never closes, a CR not followed by LF
 *  outside quotes, and a NUL byte anywhere (fields come out as C
 *  strings).  It does not check UTF-8 or trim spaces: that is the
 *  caller's business.
 *
 *  Line numbers are physical lines of the file, 1-based, counting LF
 *  bytes, so that a field after a quoted field spanning three lines is
 *  reported where a text editor shows it.
 *
 *  The writer quotes a field only when it must (it holds ',', '"', CR or
 *  LF), and ends records with CRLF, which is what spreadsheets expect.
 */
#ifndef CS_CSV_H
#define CS_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attr.h"
#include "reader.h"

#define CS_CSV_FILE_MAX (64u << 20)  /* largest input, bytes */
#define CS_CSV_FIELD_MAX (64u << 10) /* largest field once unquoted, bytes */
#define CS_CSV_COLUMNS_MAX 64        /* most fields in one record */
#define CS_CSV_RECORD_MAX (1u << 20) /* unquoted fields of a record, bytes */
#define CS_CSV_BOM "\xef\xbb\xbf"    /* UTF-8 byte order mark */
#define CS_CSV_BOM_BYTES 3           /* its length */

/* A read position in one CSV text; a value type for stack use (STYLE.md
   10).  Fields are touched only through the functions below. */
struct cs_csv {
    struct cs_reader rd;  /* the bytes, past the byte order mark */
    size_t line;          /* physical line of the next byte, 1-based */
    size_t err_line;      /* where the last failure was, 0 if none */
    size_t err_field;     /* its field number, 1-based */
    const char *err_what; /* what was wrong, static text */
};

/* One field of a record. */
struct cs_csv_field {
    const char *text; /* unquoted, NUL-terminated, in the record's buf */
    size_t len;       /* bytes, without the NUL */
    size_t line;      /* physical line where the field starts */
    bool quoted;      /* it was written in double quotes */
};

/* One record, filled by cs_csv_next().  Fixed size (about 1 MiB): allocate
   it once and reuse it for every record. */
struct cs_csv_record {
    size_t n;                                       /* fields; 0: blank */
    size_t line;                                    /* where it starts */
    size_t used;                                    /* bytes of buf used */
    struct cs_csv_field fields[CS_CSV_COLUMNS_MAX]; /* fields[0..n) */
    char buf[CS_CSV_RECORD_MAX];                    /* their text */
};

/* Starts reading the len bytes at p (NULL allowed when len is 0), skipping
   a byte order mark.  The caller keeps p alive and unchanged while
   reading.  Cannot fail; the caller bounds len (CS_CSV_FILE_MAX). */
void cs_csv_init(struct cs_csv *c, const void *p, size_t len) CS_NONNULL(1);

/* Returns true when every byte has been read: no record is left. */
bool cs_csv_at_end(const struct cs_csv *c) CS_NONNULL(1);

/* Reads the next record into *rec (which is overwritten, also on failure).
   Call only while !cs_csv_at_end().  Returns 0; CS_ERR_FORMAT for
   malformed input; CS_ERR_TOO_BIG when a field, the record or the number
   of fields exceeds its limit.  On failure cs_csv_error() says where and
   why, and the caller stops: the input cannot be resynchronised. */
CS_MUST_CHECK int cs_csv_next(struct cs_csv *c, struct cs_csv_record *rec)
    CS_NONNULL(1, 2);

/* Returns what the last failure of cs_csv_next() was (static text, e.g. "a
   quoted field does not end"), or NULL if none.
     c      the reader
     line   receives the physical line, 1-based
     field  receives the field number within its record, 1-based */
const char *cs_csv_error(const struct cs_csv *c, size_t *line, size_t *field)
    CS_NONNULL(1, 2, 3);

/* Writes the byte order mark that makes spreadsheets read the text as
   UTF-8.  Write errors stay in f's error flag, here and below. */
void cs_csv_put_bom(FILE *f) CS_NONNULL(1);

/* Writes one field of a record, after a ',' unless it is the first.
     f      where
     p      its bytes (NULL allowed when len is 0)
     len    how many
     first  it starts a record */
void cs_csv_put(FILE *f, const void *p, size_t len, bool first) CS_NONNULL(1);

/* Ends a record: CRLF. */
void cs_csv_put_end(FILE *f) CS_NONNULL(1);

#endif
