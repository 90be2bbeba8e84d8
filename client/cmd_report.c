/*  client/cmd_report.c - the report command: the programme's indicators.
 *
 *  Reads the command line, asks report.h for the numbers and report_out.h
 *  for the chosen format, and writes the result to stdout or, with -o,
 *  atomically to a file (fileio.h: a temporary file renamed over it, so a
 *  reader never sees half a report).  The whole report is built in memory
 *  first: a failure leaves no partial output anywhere.  The replica is
 *  only read.
 */
#include "prelude.h"

#include "cmd.h"
#include "fileio.h"
#include "nodedir.h"
#include "out.h"
#include "report.h"
#include "report_out.h"

/* The command line of report. */
struct s_args {
    const char *period; /* --period FROM..TO, or NULL */
    const char *office; /* --office CODE, or NULL */
    const char *format; /* --format NAME, or NULL */
    const char *output; /* -o FILE, or NULL: stdout */
};

/* Takes option name's value into *slot, refusing a second one. */
static int
s_once(const char *name, const char *value, const char **slot)
{
    char *msg;

    if (*slot == NULL) {
        *slot = value;
        return 0;
    }
    msg = cs_xasprintf("%s given twice", name);
    (void)cs_cmd_bad_args("report", msg);
    free(msg);
    return CS_ERR_USAGE;
}

static int
s_parse(int argc, char **argv, struct s_args *a)
{
    static const char *const names[] = {"--period", "--office", "--format",
                                        "-o"};
    const char **slots[] = {&a->period, &a->office, &a->format, &a->output};
    char *value;
    int r;

    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        bool matched = false;
        for (size_t k = 0; k < sizeof names / sizeof *names && !matched; k++) {
            if ((r = cs_cmd_option(argc, argv, &i, names[k], &value)) < 0)
                return r;
            if (r == 1) {
                if ((r = s_once(names[k], value, slots[k])) != 0)
                    return r;
                matched = true;
            }
        }
        if (matched)
            continue;
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("report", argv[i]);
        return cs_cmd_bad_args("report", "expected no arguments besides "
                                         "options");
    }
    return 0;
}

/* Checks the options and fills q and *fmt; prints the error. */
static int
s_check(const struct cs_cmd_ctx *ctx, const struct s_args *a,
        struct cs_report_query *q, enum cs_report_out_format *fmt)
{
    char *quoted, *msg;
    int r;

    memset(q, 0, sizeof *q);
    *fmt = ctx->json ? CS_REPORT_OUT_JSON : CS_REPORT_OUT_TEXT;
    if (a->format != NULL && cs_report_out_format(a->format, fmt) != 0) {
        quoted = cs_out_quote(a->format);
        msg = cs_xasprintf("unknown format %s (formats: %s)", quoted,
                           CS_REPORT_OUT_NAMES);
        goto bad;
    }
    if (ctx->json && *fmt != CS_REPORT_OUT_JSON)
        return cs_cmd_bad_args("report", "--json and --format disagree");
    if (a->period != NULL && (r = cs_report_period(a->period, q)) != 0) {
        quoted = cs_out_quote(a->period);
        msg = r == CS_ERR_INVALID
                  ? cs_xasprintf("--period %s starts after it ends", quoted)
                  : cs_xasprintf("bad --period %s: expected FROM..TO, two "
                                 "dates YYYY-MM-DD",
                                 quoted);
        goto bad;
    }
    if (a->period == NULL)
        cs_report_today(q->as_of);
    if (a->office != NULL && !cs_store_office_valid(a->office)) {
        quoted = cs_out_quote(a->office);
        msg = cs_xasprintf("bad --office %s: an office code is 2-8 of A-Z "
                           "0-9",
                           quoted);
        goto bad;
    }
    if (a->output != NULL && a->output[0] == '\0')
        return cs_cmd_bad_args("report", "-o needs a file name");
    q->office = a->office;
    return 0;
bad:
    (void)cs_cmd_bad_args("report", msg);
    free(msg);
    free(quoted);
    return CS_ERR_USAGE;
}

/* Writes the n bytes at p to path (atomically) or stdout. */
static int
s_emit(const char *path, const char *p, size_t n)
{
    char *q;
    int r;

    if (path == NULL) {
        fwrite(p, 1, n, stdout); /* main.c checks stdout's error flag */
        return 0;
    }
    if ((r = cs_file_save(path, p, n)) == 0)
        return 0;
    q = cs_out_quote(path);
    if (r == CS_ERR_EXISTS)
        cs_out_error("report: cannot write %s: a temporary file is in the "
                     "way",
                     q);
    else
        cs_out_error("report: cannot write %s: %s", q, strerror(errno));
    free(q);
    return r;
}

int
cs_cmd_report(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    struct cs_report *rep = NULL;
    enum cs_report_out_format fmt;
    struct cs_report_query q;
    struct cs_out_buf b;
    struct s_args a;
    char *text = NULL;
    int r;

    if ((r = s_parse(argc, argv, &a)) != 0 ||
        (r = s_check(ctx, &a, &q, &fmt)) != 0 ||
        (r = cs_cmd_open(ctx, &d)) != 0)
        goto out;
    q.home = cs_nodedir_get(d, "office");
    if ((r = cs_report_new(cs_nodedir_store(d), &q, &rep)) != 0)
        goto out;
    cs_out_buf_open(&b);
    cs_report_out_write(rep, fmt, b.f);
    text = cs_out_buf_close(&b);
    r = s_emit(a.output, text, b.len); /* b.len: set by the close */
out:
    free(text);
    cs_report_destroy(&rep);
    cs_nodedir_destroy(&d);
    return r;
}
