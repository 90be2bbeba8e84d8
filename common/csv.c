/*  common/csv.c - bounded reader and writer of CSV text (see csv.h).
 *
 *  The reader is a small state machine over one byte at a time, taken from
 *  a struct cs_reader (so no pointer arithmetic on the input here).  Every
 *  byte that goes into a field is checked against the field's and the
 *  record's room before it is stored, so a hostile file can make it fail
 *  early but never write out of bounds or allocate.  Runs in time linear
 *  in the input: each byte is looked at once (plus one peek).
 */
#include "prelude.h"

#include "csv.h"
#include "err.h"

#define S_QUOTE '"'
#define S_COMMA ','
#define S_CR '\r'
#define S_LF '\n'

void
cs_csv_init(struct cs_csv *c, const void *p, size_t len)
{
    struct cs_reader bom;
    struct cs_view v;

    memset(c, 0, sizeof *c);
    cs_reader_init(&c->rd, p, len);
    c->line = 1;
    bom = c->rd;
    if (cs_reader_bytes(&bom, &v, CS_CSV_BOM_BYTES) == 0 &&
        memcmp(v.p, CS_CSV_BOM, CS_CSV_BOM_BYTES) == 0)
        c->rd = bom;
}

bool
cs_csv_at_end(const struct cs_csv *c)
{
    return cs_reader_left(&c->rd) == 0;
}

/* Looks at the next byte without taking it; false at the end. */
static bool
s_peek(const struct cs_csv *c, uint8_t *b)
{
    struct cs_reader ahead = c->rd;

    return cs_reader_u8(&ahead, b) == 0;
}

/* Takes the next byte (the caller has peeked it), counting lines. */
static void
s_take(struct cs_csv *c)
{
    uint8_t b = 0;

    if (cs_reader_u8(&c->rd, &b) == 0 && b == S_LF)
        c->line++;
}

/* Records a failure at the current line and field n + 1. */
static int
s_fail(struct cs_csv *c, int r, size_t line, const struct cs_csv_record *rec,
       const char *what)
{
    c->err_line = line;
    c->err_field = rec->n + 1;
    c->err_what = what;
    return r;
}

/* Appends byte b to the field being read (started at offset start of the
   record's buffer), keeping room for its NUL. */
static int
s_append(struct cs_csv *c, struct cs_csv_record *rec, size_t start, uint8_t b)
{
    if (rec->used - start >= CS_CSV_FIELD_MAX)
        return s_fail(c, CS_ERR_TOO_BIG, c->line, rec,
                      "a field is longer than the limit");
    if (rec->used >= CS_CSV_RECORD_MAX - 1)
        return s_fail(c, CS_ERR_TOO_BIG, c->line, rec,
                      "a record is longer than the limit");
    rec->buf[rec->used++] = (char)b;
    return 0;
}

/* Reads a quoted field, from its opening quote to just past the closing
   one. */
static int
s_quoted(struct cs_csv *c, struct cs_csv_record *rec, size_t start)
{
    size_t line = c->line;
    uint8_t b;
    int r;

    s_take(c); /* the opening quote */
    for (;;) {
        if (!s_peek(c, &b))
            return s_fail(c, CS_ERR_FORMAT, line, rec,
                          "a quoted field does not end (missing closing "
                          "quote)");
        if (b == '\0')
            return s_fail(c, CS_ERR_FORMAT, c->line, rec, "a NUL byte");
        s_take(c);
        if (b == S_QUOTE) {
            if (!s_peek(c, &b) || b != S_QUOTE)
                return 0; /* the closing quote */
            s_take(c);    /* "" stands for one quote */
        }
        if ((r = s_append(c, rec, start, b)) != 0)
            return r;
    }
}

/* Reads an unquoted field up to the next ',', CR, LF or the end. */
static int
s_unquoted(struct cs_csv *c, struct cs_csv_record *rec, size_t start)
{
    uint8_t b;
    int r;

    while (s_peek(c, &b) && b != S_COMMA && b != S_CR && b != S_LF) {
        if (b == S_QUOTE)
            return s_fail(c, CS_ERR_FORMAT, c->line, rec,
                          "a quote inside an unquoted field (quote the "
                          "whole field and double the quote)");
        if (b == '\0')
            return s_fail(c, CS_ERR_FORMAT, c->line, rec, "a NUL byte");
        if ((r = s_append(c, rec, start, b)) != 0)
            return r;
        s_take(c);
    }
    return 0;
}

/* After a field: takes the ',' (*more is then true) or the record's end
   (CRLF, LF or the end of the input). */
static int
s_separator(struct cs_csv *c, struct cs_csv_record *rec, bool *more)
{
    uint8_t b;

    *more = false;
    if (!s_peek(c, &b))
        return 0;
    if (b == S_COMMA) {
        s_take(c);
        *more = true;
        return 0;
    }
    if (b == S_LF) {
        s_take(c);
        return 0;
    }
    if (b != S_CR)
        return s_fail(c, CS_ERR_FORMAT, c->line, rec,
                      "text after the closing quote of a field");
    s_take(c);
    if (!s_peek(c, &b) || b != S_LF)
        return s_fail(c, CS_ERR_FORMAT, c->line, rec,
                      "a carriage return not followed by a line feed");
    s_take(c);
    return 0;
}

int
cs_csv_next(struct cs_csv *c, struct cs_csv_record *rec)
{
    bool more = true;
    uint8_t b = 0;
    int r;

    rec->n = 0;
    rec->used = 0;
    rec->line = c->line;
    c->err_line = 0;
    c->err_field = 0;
    c->err_what = NULL;
    if (s_peek(c, &b) && (b == S_LF || b == S_CR))
        return s_separator(c, rec, &more); /* a blank line */
    while (more) {
        struct cs_csv_field *f;
        size_t start = rec->used;
        bool quoted = s_peek(c, &b) && b == S_QUOTE;

        if (rec->n == CS_CSV_COLUMNS_MAX)
            return s_fail(c, CS_ERR_TOO_BIG, c->line, rec,
                          "more fields than the limit");
        f = &rec->fields[rec->n];
        f->line = c->line;
        if ((r = quoted ? s_quoted(c, rec, start)
                        : s_unquoted(c, rec, start)) != 0)
            return r;
        if (rec->used >= CS_CSV_RECORD_MAX)
            return s_fail(c, CS_ERR_TOO_BIG, c->line, rec,
                          "a record is longer than the limit");
        rec->buf[rec->used++] = '\0';
        f->text = &rec->buf[start];
        f->len = rec->used - 1 - start;
        f->quoted = quoted;
        if ((r = s_separator(c, rec, &more)) != 0)
            return r;
        rec->n++;
    }
    return 0;
}

const char *
cs_csv_error(const struct cs_csv *c, size_t *line, size_t *field)
{
    *line = c->err_line;
    *field = c->err_field;
    return c->err_what;
}

void
cs_csv_put_bom(FILE *f)
{
    fputs(CS_CSV_BOM, f);
}

void
cs_csv_put(FILE *f, const void *p, size_t len, bool first)
{
    const uint8_t *b = p;
    bool quote = false;

    if (!first)
        fputc(S_COMMA, f);
    for (size_t i = 0; i < len && !quote; i++)
        quote =
            b[i] == S_COMMA || b[i] == S_QUOTE || b[i] == S_CR || b[i] == S_LF;
    if (!quote) {
        if (len > 0)
            fwrite(b, 1, len, f);
        return;
    }
    fputc(S_QUOTE, f);
    for (size_t i = 0; i < len; i++) {
        if (b[i] == S_QUOTE)
            fputc(S_QUOTE, f);
        fputc(b[i], f);
    }
    fputc(S_QUOTE, f);
}

void
cs_csv_put_end(FILE *f)
{
    fputs("\r\n", f);
}
