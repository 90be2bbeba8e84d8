/*  server/srvout.c - error lines, quoting, JSON strings; see srvout.h.  */
#include "prelude.h"

#include "srvout.h"

#define S_MSG_MAX 1024           /* longest error message, bytes; cut after */
#define S_CONTROL_END 0x20       /* bytes below this are C0 controls */
#define S_DEL 0x7f               /* the one control byte above them */
#define S_JSON_ESCAPE_LEN 6      /* "\u00NN" */
#define S_BYTE_ESCAPE_LEN 4      /* "\xNN" */
#define S_BACKSLASH_ESCAPE_LEN 2 /* "\"" or "\\" */
#define S_QUOTE_EXTRA 3          /* two quotes and the NUL */

static bool
s_is_control(unsigned char c)
{
    return c < S_CONTROL_END || c == S_DEL;
}

/* Writes s to f with control bytes as \xNN, and '"' and '\' behind a
   backslash if quoted. */
static void
s_escape(FILE *f, const char *s, bool quoted)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (s_is_control(*p))
            fprintf(f, "\\x%02x", *p);
        else if (quoted && (*p == '"' || *p == '\\'))
            fprintf(f, "\\%c", *p);
        else
            fputc(*p, f);
    }
}

void
cs_srvout_error(const char *fmt, ...)
{
    char msg[S_MSG_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    fputs(CS_SRVOUT_PROGRAM ": ", stderr);
    s_escape(stderr, msg, false);
    fputc('\n', stderr);
}

char *
cs_srvout_quote(const char *s)
{
    size_t len = strlen(s), size = S_QUOTE_EXTRA;
    char *out, *at;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_is_control(c))
            size += S_BYTE_ESCAPE_LEN;
        else if (c == '"' || c == '\\')
            size += S_BACKSLASH_ESCAPE_LEN;
        else
            size += 1;
    }
    out = at = cs_xmalloc(size);
    *at++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_is_control(c)) {
            snprintf(at, S_BYTE_ESCAPE_LEN + 1, "\\x%02x", c);
            at += S_BYTE_ESCAPE_LEN;
            continue;
        }
        if (c == '"' || c == '\\')
            *at++ = '\\';
        *at++ = (char)c;
    }
    *at++ = '"';
    *at = '\0';
    return out;
}

void
cs_srvout_json_str(FILE *f, const char *s)
{
    char esc[S_JSON_ESCAPE_LEN + 1];

    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < S_CONTROL_END) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            fputs(esc, f);
            continue;
        }
        if (*p == '"' || *p == '\\')
            fputc('\\', f);
        fputc(*p, f);
    }
    fputc('"', f);
}
