/*  client/text.c - UTF-8 text for the terminal; see text.h.  */
#include "prelude.h"

#include "text.h"

#define S_ASCII_MAX 0x7f /* last one-byte code point */
#define S_C0_END 0x20    /* code points below are C0 controls */
#define S_DEL 0x7f       /* the DEL control */
#define S_C1_MIN 0x80    /* C1 controls: U+0080 .. U+009F */
#define S_C1_MAX 0x9f
#define S_LEAD2_MIN 0xc2 /* lead bytes of two-byte sequences */
#define S_LEAD2_MAX 0xdf
#define S_LEAD3_MIN 0xe0 /* lead bytes of three-byte sequences */
#define S_LEAD3_MAX 0xef
#define S_LEAD4_MIN 0xf0 /* lead bytes of four-byte sequences */
#define S_LEAD4_MAX 0xf4
#define S_CONT_BITS 6           /* payload bits of a continuation byte */
#define S_CONT_PAYLOAD 0x3f     /* their mask */
#define S_LSEP 0x2028           /* LINE SEPARATOR */
#define S_PSEP 0x2029           /* PARAGRAPH SEPARATOR */
#define S_BIDI_EMBED_MIN 0x202a /* LRE .. RLO: bidirectional overrides */
#define S_BIDI_EMBED_MAX 0x202e
#define S_BIDI_ISO_MIN 0x2066 /* LRI .. PDI: bidirectional isolates */
#define S_BIDI_ISO_MAX 0x2069
#define S_ELLIPSIS "\xe2\x80\xa6" /* U+2026, ends truncated text */

size_t
cs_text_next(const char *s, size_t len, size_t i, uint32_t *cp)
{
    const uint8_t *u = (const uint8_t *)s;
    uint8_t lead;
    uint32_t point;
    size_t n;

    assert(i < len);
    lead = u[i];
    *cp = lead;
    if (lead <= S_ASCII_MAX)
        return 1;
    if (lead >= S_LEAD2_MIN && lead <= S_LEAD2_MAX)
        n = 2;
    else if (lead >= S_LEAD3_MIN && lead <= S_LEAD3_MAX)
        n = 3;
    else if (lead >= S_LEAD4_MIN && lead <= S_LEAD4_MAX)
        n = 4;
    else
        return 0;
    /* cs_utf8_valid() is the one definition of well-formed; it checks
       overlongs, surrogates and the U+10FFFF bound. */
    if (n > len - i || !cs_utf8_valid(u + i, n))
        return 0;
    point = lead & (S_CONT_PAYLOAD >> (n - 1));
    for (size_t k = 1; k < n; k++)
        point = (point << S_CONT_BITS) | (u[i + k] & S_CONT_PAYLOAD);
    *cp = point;
    return n;
}

bool
cs_text_unsafe(uint32_t cp)
{
    return cp < S_C0_END || cp == S_DEL || (cp >= S_C1_MIN && cp <= S_C1_MAX) ||
           cp == S_LSEP || cp == S_PSEP ||
           (cp >= S_BIDI_EMBED_MIN && cp <= S_BIDI_EMBED_MAX) ||
           (cp >= S_BIDI_ISO_MIN && cp <= S_BIDI_ISO_MAX);
}

void
cs_text_escape(FILE *f, const void *p, size_t len, bool quoted)
{
    const char *s = p;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = cs_text_next(s, len, i, &cp);
        if (n == 0) {
            fprintf(f, "\\x%02x", (unsigned)cp);
            i++;
            continue;
        }
        if (cp == '\n')
            fputs("\\n", f);
        else if (cp == '\r')
            fputs("\\r", f);
        else if (cp == '\t')
            fputs("\\t", f);
        else if (cp <= S_ASCII_MAX && cs_text_unsafe(cp))
            fprintf(f, "\\x%02x", (unsigned)cp);
        else if (cs_text_unsafe(cp))
            fprintf(f, "\\u{%04" PRIx32 "}", cp);
        else if (quoted && (cp == '"' || cp == '\\'))
            fprintf(f, "\\%c", (char)cp);
        else
            fwrite(s + i, 1, n, f);
        i += n;
    }
}

size_t
cs_text_width(const char *s)
{
    size_t len = strlen(s), width = 0, i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = cs_text_next(s, len, i, &cp);
        i += n == 0 ? 1 : n;
        width++;
    }
    return width;
}

char *
cs_text_truncate(const char *s, size_t cols)
{
    size_t len = strlen(s), width = 0, i = 0, cut = 0;

    assert(cols >= 1);
    while (i < len) {
        uint32_t cp;
        size_t n = cs_text_next(s, len, i, &cp);
        if (width == cols - 1)
            cut = i; /* where "…" goes if the text is too wide */
        i += n == 0 ? 1 : n;
        width++;
    }
    if (width <= cols)
        return cs_xstrdup(s);
    return cs_xasprintf("%.*s%s", (int)cut, s, S_ELLIPSIS);
}
