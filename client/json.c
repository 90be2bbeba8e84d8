/*  client/json.c - streaming JSON writer; see json.h.  */
#include "prelude.h"

#include "json.h"
#include "text.h"

#define S_INDENT 2              /* spaces per nesting level */
#define S_CTRL_END 0x20         /* code points below are controls */
#define S_DEL 0x7f              /* also escaped */
#define S_LSEP 0x2028           /* LINE SEPARATOR, escaped for JavaScript */
#define S_PSEP 0x2029           /* PARAGRAPH SEPARATOR, likewise */
#define S_REPLACEMENT "\\ufffd" /* stands for an invalid byte */
#define S_DOUBLE_DIGITS 17      /* %.17g round-trips an IEEE double */
#define S_B64_CHUNK 3072        /* blob bytes encoded per step (of 3) */

void
cs_json_init(struct cs_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->empty = true;
    j->after_key = false;
}

static void
s_newline(struct cs_json *j)
{
    fputc('\n', j->f);
    for (size_t i = 0; i < j->depth * S_INDENT; i++)
        fputc(' ', j->f);
}

/* Separates the next value from what came before it. */
static void
s_before_value(struct cs_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    if (!j->empty)
        fputc(',', j->f);
    j->empty = false;
    s_newline(j);
}

static void
s_begin(struct cs_json *j, char open)
{
    s_before_value(j);
    fputc(open, j->f);
    j->depth++;
    j->empty = true;
}

static void
s_end(struct cs_json *j, char close)
{
    assert(j->depth > 0);
    j->depth--;
    if (!j->empty)
        s_newline(j);
    fputc(close, j->f);
    j->empty = false; /* the parent now holds this container */
}

void
cs_json_object_begin(struct cs_json *j)
{
    s_begin(j, '{');
}

void
cs_json_object_end(struct cs_json *j)
{
    s_end(j, '}');
}

void
cs_json_array_begin(struct cs_json *j)
{
    s_begin(j, '[');
}

void
cs_json_array_end(struct cs_json *j)
{
    s_end(j, ']');
}

/* Writes a quoted, escaped string. */
static void
s_string(FILE *f, const char *s, size_t len)
{
    size_t i = 0;

    fputc('"', f);
    while (i < len) {
        uint32_t cp;
        size_t n = cs_text_next(s, len, i, &cp);
        if (n == 0) {
            fputs(S_REPLACEMENT, f);
            i++;
            continue;
        }
        switch (cp) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\b':
            fputs("\\b", f);
            break;
        case '\f':
            fputs("\\f", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (cp < S_CTRL_END || cp == S_DEL || cp == S_LSEP || cp == S_PSEP)
                fprintf(f, "\\u%04" PRIx32, cp);
            else
                fwrite(s + i, 1, n, f);
            break;
        }
        i += n;
    }
    fputc('"', f);
}

void
cs_json_key(struct cs_json *j, const char *key)
{
    assert(j->depth > 0 && !j->after_key);
    s_before_value(j);
    s_string(j->f, key, strlen(key));
    fputs(": ", j->f);
    j->after_key = true;
}

void
cs_json_str(struct cs_json *j, const char *s)
{
    cs_json_strn(j, s, strlen(s));
}

void
cs_json_strn(struct cs_json *j, const void *p, size_t len)
{
    s_before_value(j);
    s_string(j->f, len > 0 ? p : "", len);
}

void
cs_json_int(struct cs_json *j, int64_t n)
{
    s_before_value(j);
    fprintf(j->f, "%" PRId64, n);
}

void
cs_json_uint(struct cs_json *j, uint64_t n)
{
    s_before_value(j);
    fprintf(j->f, "%" PRIu64, n);
}

void
cs_json_double(struct cs_json *j, double d)
{
    s_before_value(j);
    if (isnan(d))
        fputs("null", j->f);
    else if (isinf(d))
        fputs(d > 0 ? "1e999" : "-1e999", j->f);
    else
        fprintf(j->f, "%.*g", S_DOUBLE_DIGITS, d);
}

void
cs_json_bool(struct cs_json *j, bool b)
{
    s_before_value(j);
    fputs(b ? "true" : "false", j->f);
}

void
cs_json_null(struct cs_json *j)
{
    s_before_value(j);
    fputs("null", j->f);
}

/* Writes len bytes at p as a base64 string, a chunk at a time so that a
   large blob needs no large buffer. */
static void
s_base64(FILE *f, const uint8_t *p, size_t len)
{
    char out[sodium_base64_ENCODED_LEN(S_B64_CHUNK,
                                       sodium_base64_VARIANT_ORIGINAL)];
    size_t off = 0;

    fputc('"', f);
    while (off < len) {
        size_t n = len - off < S_B64_CHUNK ? len - off : S_B64_CHUNK;
        sodium_bin2base64(out, sizeof out, p + off, n,
                          sodium_base64_VARIANT_ORIGINAL);
        fputs(out, f);
        off += n;
    }
    fputc('"', f);
}

void
cs_json_value(struct cs_json *j, const struct cs_value *v)
{
    switch (v->type) {
    case SQLITE_INTEGER:
        cs_json_int(j, v->i);
        break;
    case SQLITE_FLOAT:
        cs_json_double(j, v->d);
        break;
    case SQLITE_TEXT:
        cs_json_strn(j, v->p, v->len);
        break;
    case SQLITE_BLOB:
        s_before_value(j);
        s_base64(j->f, v->p, v->len);
        break;
    default:
        cs_json_null(j);
        break;
    }
}

void
cs_json_finish(struct cs_json *j)
{
    assert(j->depth == 0);
    fputc('\n', j->f);
}
