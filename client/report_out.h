/*  client/report_out.h - `cigsync report` in its four formats.
 *
 *  Prints a struct cs_report (report.h) as:
 *
 *    text  aligned tables for a terminal (grid.h); text from the replica
 *          escaped (text.h) so that it cannot drive the terminal.
 *    csv   for spreadsheets: UTF-8 with a byte order mark (so Excel and
 *          LibreOffice read Cyrillic right), CRLF line ends, fields quoted
 *          as RFC 4180 says.  One section per indicator: a title row, a
 *          header row naming the columns, the rows, an empty row.  Text
 *          from the replica that a spreadsheet would take for a formula
 *          (starting with = + - @ or a tab) gets a leading "'" (OWASP
 *          "CSV injection").
 *    json  one object with fixed keys for scripts (json.h); README.md
 *          "Reports" lists them.
 *    html  one self-contained page: inline CSS (with @media print), inline
 *          SVG bar charts (people trained by office, by sex, progress of
 *          each plan), the tables; no script, no external resource, and
 *          a Content-Security-Policy that forbids both.  All text from the
 *          replica is escaped.
 *
 *  In every format invalid UTF-8 from the replica becomes U+FFFD.  The
 *  tables are built once (the same rows in text, CSV and HTML); JSON is
 *  written from the struct directly.  This module only writes: the
 *  numbers are report.c's.
 */
#ifndef CS_REPORT_OUT_H
#define CS_REPORT_OUT_H

#include <stdio.h>

#include "attr.h"
#include "report.h"

/* The output formats. */
enum cs_report_out_format {
    CS_REPORT_OUT_TEXT, /* aligned tables */
    CS_REPORT_OUT_CSV,  /* RFC 4180 with BOM and CRLF */
    CS_REPORT_OUT_JSON, /* one object */
    CS_REPORT_OUT_HTML  /* one self-contained page */
};

/* The formats' names, for usage and error text. */
#define CS_REPORT_OUT_NAMES "text, csv, json, html"

/* Sets *fmt to the format called name ("text", "csv", "json", "html").
   Returns 0, or CS_ERR_INVALID (nothing printed) for another name. */
int cs_report_out_format(const char *name,
                         enum cs_report_out_format *fmt) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Writes a report in one format.
     rep  the report (cs_report_new()), only read
     fmt  the format
     f    where to write, e.g. stdout or a cs_out_buf
   Cannot fail: write errors stay in f's error flag for the caller to
   check once. */
void cs_report_out_write(const struct cs_report *rep,
                         enum cs_report_out_format fmt, FILE *f)
    CS_NONNULL(1, 3);

#endif
