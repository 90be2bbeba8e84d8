/*  tests/unit/csv_test.c - the bounded CSV reader and writer (common/csv.h).
 *
 *  Quoting, CRLF and LF, the byte order mark, fields spanning lines and the
 *  line numbers after them, every limit (at and one past it), malformed
 *  input of each kind with where it is reported, and writer output read
 *  back.  A parser test includes truncated, oversized and trailing-byte
 *  inputs (STYLE.md 37).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "test.h"

static struct cs_csv_record s_rec; /* ~1 MiB: one, reused */

/* Reads all records of text into s_rec one at a time, calling back with
   each; returns the first failure or 0, and the number read. */
static int
s_parse_all(const char *text, size_t len, size_t *count, struct cs_csv *c)
{
    int r;

    *count = 0;
    cs_csv_init(c, text, len);
    while (!cs_csv_at_end(c)) {
        if ((r = cs_csv_next(c, &s_rec)) != 0)
            return r;
        (*count)++;
    }
    return 0;
}

static void
test_simple(void)
{
    struct cs_csv c;

    cs_csv_init(&c, "a,b,c\r\n1,,3\r\n", 13);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.n, 3);
    CS_CHECK_INT(s_rec.line, 1);
    CS_CHECK_STR(s_rec.fields[0].text, "a");
    CS_CHECK_STR(s_rec.fields[2].text, "c");
    CS_CHECK(!s_rec.fields[0].quoted);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.n, 3);
    CS_CHECK_INT(s_rec.line, 2);
    CS_CHECK_STR(s_rec.fields[1].text, "");
    CS_CHECK_INT(s_rec.fields[1].len, 0);
    CS_CHECK_STR(s_rec.fields[2].text, "3");
    CS_CHECK(cs_csv_at_end(&c));
}

static void
test_lf_and_no_final_newline(void)
{
    struct cs_csv c;
    size_t n;

    CS_CHECK_INT(s_parse_all("a,b\nc,d", 7, &n, &c), 0);
    CS_CHECK_INT(n, 2);
    CS_CHECK_STR(s_rec.fields[1].text, "d");
    CS_CHECK_INT(s_rec.line, 2);
    /* mixed line ends */
    CS_CHECK_INT(s_parse_all("a\r\nb\nc\r\n", 8, &n, &c), 0);
    CS_CHECK_INT(n, 3);
    CS_CHECK_INT(s_rec.line, 3);
    CS_CHECK_STR(s_rec.fields[0].text, "c");
}

static void
test_quoting(void)
{
    static const char text[] = "\"a,b\",\"say \"\"hi\"\"\",\"\",plain\r\n";
    struct cs_csv c;

    cs_csv_init(&c, text, sizeof text - 1);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_REQUIRE(s_rec.n == 4);
    CS_CHECK_STR(s_rec.fields[0].text, "a,b");
    CS_CHECK(s_rec.fields[0].quoted);
    CS_CHECK_STR(s_rec.fields[1].text, "say \"hi\"");
    CS_CHECK_INT(s_rec.fields[1].len, 8);
    CS_CHECK_STR(s_rec.fields[2].text, "");
    CS_CHECK(s_rec.fields[2].quoted);
    CS_CHECK_STR(s_rec.fields[3].text, "plain");
    CS_CHECK(cs_csv_at_end(&c));
}

/* A quoted field holding newlines: its text keeps them as they are, and
   the line numbers after it count every physical line. */
static void
test_embedded_newlines(void)
{
    static const char text[] = "h1,h2\r\n"
                               "\"one\r\ntwo\nthree\",x\r\n"
                               "y,\"\n\"\r\n"
                               "z,w\r\n";
    struct cs_csv c;

    cs_csv_init(&c, text, sizeof text - 1);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.line, 2);
    CS_CHECK_STR(s_rec.fields[0].text, "one\r\ntwo\nthree");
    CS_CHECK_INT(s_rec.fields[0].line, 2);
    CS_CHECK_INT(s_rec.fields[1].line, 4); /* x sits on line 4 */
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.line, 5);
    CS_CHECK_STR(s_rec.fields[1].text, "\n");
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.line, 7);
    CS_CHECK_STR(s_rec.fields[0].text, "z");
    CS_CHECK(cs_csv_at_end(&c));
}

static void
test_bom(void)
{
    static const char text[] = CS_CSV_BOM "id,name\r\n";
    struct cs_csv c;

    cs_csv_init(&c, text, sizeof text - 1);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_STR(s_rec.fields[0].text, "id");
    CS_CHECK_INT(s_rec.fields[0].len, 2);
    /* only at the start: a second one is data */
    cs_csv_init(&c, CS_CSV_BOM CS_CSV_BOM "x\n", 8);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_STR(s_rec.fields[0].text, CS_CSV_BOM "x");
    /* a truncated BOM is data too */
    cs_csv_init(&c, "\xef\xbb", 2);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.fields[0].len, 2);
    /* a BOM alone: no records */
    cs_csv_init(&c, CS_CSV_BOM, CS_CSV_BOM_BYTES);
    CS_CHECK(cs_csv_at_end(&c));
}

static void
test_blank_and_empty(void)
{
    struct cs_csv c;
    size_t n;

    cs_csv_init(&c, NULL, 0);
    CS_CHECK(cs_csv_at_end(&c));
    CS_CHECK_INT(s_parse_all("a\r\n\r\n\nb\n", 8, &n, &c), 0);
    CS_CHECK_INT(n, 4);
    cs_csv_init(&c, "a\r\n\r\n", 5);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.n, 0); /* blank line */
    CS_CHECK_INT(s_rec.line, 2);
    /* trailing comma: a last empty field */
    cs_csv_init(&c, "a,\n", 3);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.n, 2);
    CS_CHECK_STR(s_rec.fields[1].text, "");
    cs_csv_init(&c, ",", 1);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.n, 2);
}

/* Expects text to fail with r at line and field, saying something that
   contains what. */
static void
s_expect_fail(const char *text, int r, size_t line, size_t field,
              const char *what)
{
    struct cs_csv c;
    size_t n, at_line = 0, at_field = 0;
    const char *why;

    CS_CHECK_INT(s_parse_all(text, strlen(text), &n, &c), r);
    why = cs_csv_error(&c, &at_line, &at_field);
    CS_CHECK_INT(at_line, line);
    CS_CHECK_INT(at_field, field);
    CS_CHECK(why != NULL && strstr(why, what) != NULL);
}

static void
test_malformed(void)
{
    /* truncated: the quote never closes; reported where it opened */
    s_expect_fail("a,b\r\nc,\"d\r\ne\r\n", CS_ERR_FORMAT, 2, 2, "does not end");
    s_expect_fail("\"", CS_ERR_FORMAT, 1, 1, "does not end");
    s_expect_fail("a,b\nc,d\"e\n", CS_ERR_FORMAT, 2, 2, "quote inside");
    s_expect_fail("x\n\"a\"b,c\n", CS_ERR_FORMAT, 2, 1, "after the closing");
    s_expect_fail("\"a\" ,b\n", CS_ERR_FORMAT, 1, 1, "after the closing");
    s_expect_fail("a,b\rc\n", CS_ERR_FORMAT, 1, 2, "carriage return");
    s_expect_fail("a\r", CS_ERR_FORMAT, 1, 1, "carriage return");
    s_expect_fail("\r", CS_ERR_FORMAT, 1, 1, "carriage return");
    /* line numbers after a multi-line field stay right in errors */
    s_expect_fail("\"1\n2\n3\",x\ny,z\"\n", CS_ERR_FORMAT, 4, 2, "quote");

    struct cs_csv c;
    size_t n, line, field;
    cs_csv_init(&c, "a\0b\n", 4);
    CS_CHECK_INT(cs_csv_next(&c, &s_rec), CS_ERR_FORMAT);
    CS_CHECK(strstr(cs_csv_error(&c, &line, &field), "NUL") != NULL);
    cs_csv_init(&c, "\"a\0\"\n", 5);
    CS_CHECK_INT(cs_csv_next(&c, &s_rec), CS_ERR_FORMAT);
    /* a good parse clears the last error */
    CS_CHECK_INT(s_parse_all("a\n", 2, &n, &c), 0);
    CS_CHECK(cs_csv_error(&c, &line, &field) == NULL);
    CS_CHECK_INT(line, 0);
}

/* Builds a text of one record: a field of len bytes of 'x' (quoted if
   asked), returned malloc'd. */
static char *
s_long_field(size_t len, bool quoted, size_t *total)
{
    char *t = malloc(len + 4);
    size_t k = 0;

    if (quoted)
        t[k++] = '"';
    memset(t + k, 'x', len);
    k += len;
    if (quoted)
        t[k++] = '"';
    t[k++] = '\n';
    *total = k;
    return t;
}

static void
test_field_limit(void)
{
    struct cs_csv c;
    size_t len, line, field;
    char *t;

    for (int quoted = 0; quoted < 2; quoted++) {
        t = s_long_field(CS_CSV_FIELD_MAX, quoted, &len);
        cs_csv_init(&c, t, len);
        CS_CHECK_INT(cs_csv_next(&c, &s_rec), 0);
        CS_CHECK_INT(s_rec.fields[0].len, CS_CSV_FIELD_MAX);
        free(t);
        t = s_long_field(CS_CSV_FIELD_MAX + 1, quoted, &len);
        cs_csv_init(&c, t, len);
        CS_CHECK_INT(cs_csv_next(&c, &s_rec), CS_ERR_TOO_BIG);
        CS_CHECK(strstr(cs_csv_error(&c, &line, &field), "field") != NULL);
        CS_CHECK_INT(field, 1);
        free(t);
    }
}

static void
test_columns_limit(void)
{
    char text[CS_CSV_COLUMNS_MAX * 2 + 4];
    struct cs_csv c;
    size_t k = 0, line, field;

    for (size_t i = 0; i < CS_CSV_COLUMNS_MAX; i++) {
        text[k++] = 'v';
        text[k++] = ',';
    }
    text[k - 1] = '\n'; /* exactly the limit */
    cs_csv_init(&c, text, k);
    CS_CHECK_INT(cs_csv_next(&c, &s_rec), 0);
    CS_CHECK_INT(s_rec.n, CS_CSV_COLUMNS_MAX);
    text[k - 1] = ','; /* one more (empty) field */
    text[k++] = '\n';
    cs_csv_init(&c, text, k);
    CS_CHECK_INT(cs_csv_next(&c, &s_rec), CS_ERR_TOO_BIG);
    CS_CHECK(strstr(cs_csv_error(&c, &line, &field), "fields") != NULL);
    CS_CHECK_INT(field, CS_CSV_COLUMNS_MAX + 1);
}

/* Fields under the field limit that together pass the record limit. */
static void
test_record_limit(void)
{
    size_t per = CS_CSV_FIELD_MAX, nfields = CS_CSV_RECORD_MAX / per + 1;
    size_t len = nfields * (per + 1), line, field;
    char *t = malloc(len);
    struct cs_csv c;

    CS_REQUIRE(nfields <= CS_CSV_COLUMNS_MAX);
    for (size_t i = 0; i < nfields; i++) {
        memset(t + i * (per + 1), 'y', per);
        t[i * (per + 1) + per] = i + 1 < nfields ? ',' : '\n';
    }
    cs_csv_init(&c, t, len);
    CS_CHECK_INT(cs_csv_next(&c, &s_rec), CS_ERR_TOO_BIG);
    CS_CHECK(strstr(cs_csv_error(&c, &line, &field), "record") != NULL);
    CS_CHECK_INT(field, CS_CSV_RECORD_MAX / (per + 1) + 1);
    free(t);
}

/* What the writer makes reads back as the same fields. */
static void
test_writer_round_trip(void)
{
    static const char *const fields[] = {
        "plain", "", "a,b", "say \"hi\"", "line\r\nbreak\n", "Айгүл", "\r"};
    size_t nf = sizeof fields / sizeof *fields, len = 0;
    char *text = NULL;
    struct cs_csv c;
    FILE *f = open_memstream(&text, &len);

    CS_REQUIRE(f != NULL);
    cs_csv_put_bom(f);
    for (size_t i = 0; i < nf; i++)
        cs_csv_put(f, fields[i], strlen(fields[i]), i == 0);
    cs_csv_put_end(f);
    cs_csv_put(f, "x", 1, true);
    cs_csv_put_end(f);
    fclose(f);
    CS_CHECK(memcmp(text, CS_CSV_BOM "plain,,\"a,b\",\"say \"\"hi\"\"\",",
                    CS_CSV_BOM_BYTES + 25) == 0);
    CS_CHECK(len >= 5 && memcmp(text + len - 5, "\r\nx\r\n", 5) == 0);
    cs_csv_init(&c, text, len);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_REQUIRE(s_rec.n == nf);
    for (size_t i = 0; i < nf; i++)
        CS_CHECK_STR(s_rec.fields[i].text, fields[i]);
    CS_REQUIRE(cs_csv_next(&c, &s_rec) == 0);
    CS_CHECK_INT(s_rec.line, 4); /* two LFs inside the first record */
    CS_CHECK(cs_csv_at_end(&c));
    free(text);
}

static const struct cs_test_case cases[] = {
    {"simple", test_simple},
    {"lf_and_no_final_newline", test_lf_and_no_final_newline},
    {"quoting", test_quoting},
    {"embedded_newlines", test_embedded_newlines},
    {"bom", test_bom},
    {"blank_and_empty", test_blank_and_empty},
    {"malformed", test_malformed},
    {"field_limit", test_field_limit},
    {"columns_limit", test_columns_limit},
    {"record_limit", test_record_limit},
    {"writer_round_trip", test_writer_round_trip},
    {NULL, NULL},
};

CS_TEST_MAIN(cases)
