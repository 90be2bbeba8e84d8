/*  client/out.c - error lines and values for people; see out.h.  */
#include "prelude.h"

#include "out.h"
#include "text.h"

#define S_MSG_MAX 1024   /* longest error message, bytes; longer is cut */
#define S_REAL_DIGITS 15 /* significant digits of a real shown to people */

void
cs_out_error(const char *fmt, ...)
{
    char msg[S_MSG_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    fputs("cigsync: ", stderr);
    cs_text_escape(stderr, msg, strlen(msg), false);
    fputc('\n', stderr);
}

int
cs_out_store_error(const struct cs_store *s, int r, const char *what)
{
    const char *msg = cs_store_errmsg(s);

    if (r == CS_ERR_LOCKED)
        cs_out_error("%s", CS_OUT_LOCKED_MSG);
    else if (msg[0] != '\0')
        cs_out_error("%s", msg);
    else
        cs_out_error("%s: %s", what, cs_strerror(r));
    return r;
}

void
cs_out_buf_open(struct cs_out_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->f = open_memstream(&b->data, &b->len);
    if (b->f == NULL) {
        fprintf(stderr, "cigsync: out of memory opening a string\n");
        abort();
    }
}

char *
cs_out_buf_close(struct cs_out_buf *b)
{
    char *data;

    if (fclose(b->f) != 0 || b->data == NULL) {
        fprintf(stderr, "cigsync: out of memory building a string\n");
        abort();
    }
    data = b->data;
    b->f = NULL;
    b->data = NULL;
    return data;
}

char *
cs_out_quote(const char *s)
{
    struct cs_out_buf b;

    cs_out_buf_open(&b);
    fputc('"', b.f);
    cs_text_escape(b.f, s, strlen(s), true);
    fputc('"', b.f);
    return cs_out_buf_close(&b);
}

void
cs_out_value(FILE *f, const struct cs_value *v, const char *null,
             bool quote_text)
{
    switch (v->type) {
    case SQLITE_INTEGER:
        fprintf(f, "%" PRId64, v->i);
        break;
    case SQLITE_FLOAT:
        fprintf(f, "%.*g", S_REAL_DIGITS, v->d);
        break;
    case SQLITE_TEXT:
        if (quote_text)
            fputc('"', f);
        cs_text_escape(f, v->p, v->len, quote_text);
        if (quote_text)
            fputc('"', f);
        break;
    case SQLITE_BLOB:
        fprintf(f, "<%zu bytes>", v->len);
        break;
    default:
        fputs(null, f);
        break;
    }
}

char *
cs_out_value_str(const struct cs_value *v, const char *null)
{
    struct cs_out_buf b;

    cs_out_buf_open(&b);
    cs_out_value(b.f, v, null, false);
    return cs_out_buf_close(&b);
}

void
cs_out_hlc(struct cs_hlc h, char buf[CS_HLC_TEXT_MAX])
{
    if (cs_hlc_format(h, buf, CS_HLC_TEXT_MAX) != 0)
        snprintf(buf, CS_HLC_TEXT_MAX, "?");
}

char *
cs_out_who(struct cs_store *s, const struct cs_node_id *node)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    const char *label = cs_store_origin_label(s, node);

    if (label != NULL)
        return cs_xstrdup(label);
    cs_node_id_hex(node, hex);
    return cs_xstrndup(hex, CS_OUT_SHORT_ID_HEX);
}

int
cs_out_read_error(sqlite3 *db, int rc, const char *table)
{
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        cs_out_error("%s", CS_OUT_LOCKED_MSG);
        return CS_ERR_LOCKED;
    }
    cs_out_error("cannot read table %s: %s", table, sqlite3_errmsg(db));
    return CS_ERR_DB;
}
