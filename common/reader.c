/*  common/reader.c - bounded reader of msgpack and big-endian fields; see
 *  reader.h.
 *
 *  Design: every msgpack read goes through s_head(), which decodes the
 *  header of the next value (tag byte plus its fixed-width fields) into a
 *  struct s_head without moving the reader.  The public functions then check
 *  the type, compare lengths and counts against the caller's maximum and the
 *  bytes left, and only then advance.  So there is one place that turns wire
 *  bytes into numbers, and every bounds check has the subtracting form
 *  "n > rd->len - rd->off" (STYLE.md 23), which cannot overflow because
 *  off <= len always holds.
 *
 *  Tag values are from the msgpack specification
 *  (github.com/msgpack/msgpack/blob/master/spec.md, "Formats").
 */
#include "prelude.h"

#include "err.h"
#include "reader.h"

/* msgpack tag bytes and ranges (spec.md "Overview"). */
enum s_tag {
    S_POSFIXINT_MAX = 0x7f, /* 0x00..0x7f: positive fixint */
    S_FIXMAP_MIN = 0x80,    /* 0x80..0x8f: fixmap, count in low 4 bits */
    S_FIXMAP_MAX = 0x8f,
    S_FIXARRAY_MIN = 0x90, /* 0x90..0x9f: fixarray, count in low 4 bits */
    S_FIXARRAY_MAX = 0x9f,
    S_FIXSTR_MIN = 0xa0, /* 0xa0..0xbf: fixstr, length in low 5 bits */
    S_FIXSTR_MAX = 0xbf,
    S_NIL = 0xc0,
    S_NEVER_USED = 0xc1,
    S_FALSE = 0xc2,
    S_TRUE = 0xc3,
    S_BIN8 = 0xc4,
    S_BIN16 = 0xc5,
    S_BIN32 = 0xc6,
    S_EXT8 = 0xc7,
    S_EXT16 = 0xc8,
    S_EXT32 = 0xc9,
    S_FLOAT32 = 0xca,
    S_FLOAT64 = 0xcb,
    S_UINT8 = 0xcc,
    S_UINT16 = 0xcd,
    S_UINT32 = 0xce,
    S_UINT64 = 0xcf,
    S_INT8 = 0xd0,
    S_INT16 = 0xd1,
    S_INT32 = 0xd2,
    S_INT64 = 0xd3,
    S_FIXEXT1 = 0xd4,
    S_FIXEXT2 = 0xd5,
    S_FIXEXT4 = 0xd6,
    S_FIXEXT8 = 0xd7,
    S_FIXEXT16 = 0xd8,
    S_STR8 = 0xd9,
    S_STR16 = 0xda,
    S_STR32 = 0xdb,
    S_ARRAY16 = 0xdc,
    S_ARRAY32 = 0xdd,
    S_MAP16 = 0xde,
    S_MAP32 = 0xdf,
    S_NEGFIXINT_MIN = 0xe0 /* 0xe0..0xff: negative fixint -32..-1 */
};

#define S_FIXMAP_COUNT_MASK 0x0f   /* count bits of a fixmap tag */
#define S_FIXARRAY_COUNT_MASK 0x0f /* count bits of a fixarray tag */
#define S_FIXSTR_LEN_MASK 0x1f     /* length bits of a fixstr tag */
#define S_TAG_BYTES 1              /* every value starts with one tag byte */
#define S_EXT_TYPE_BYTES 1         /* the application type of an ext */
#define S_FLOAT32_BYTES 4          /* IEEE 754 binary32 */
#define S_FLOAT64_BYTES 8          /* IEEE 754 binary64 */
#define S_BITS_PER_BYTE 8

/* Returns the n bytes at p as a big-endian unsigned number (n <= 8). */
static uint64_t
s_load_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << S_BITS_PER_BYTE) | p[i];
    return v;
}

/* Returns v, a width-byte two's complement number, as an int64_t without
   relying on implementation-defined conversions. */
static int64_t
s_sign_extend(uint64_t v, size_t width)
{
    uint64_t sign = (uint64_t)1 << (width * S_BITS_PER_BYTE - 1);
    if ((v & sign) == 0)
        return (int64_t)v;
    /* -(magnitude) = -(~v & low bits) - 1; cannot overflow */
    return -(int64_t)(~v & (sign - 1)) - 1;
}

void
cs_reader_init(struct cs_reader *rd, const void *p, size_t len)
{
    assert(p != NULL || len == 0);
    rd->p = p;
    rd->len = len;
    rd->off = 0;
}

size_t
cs_reader_left(const struct cs_reader *rd)
{
    return rd->len - rd->off;
}

/* Returns 0 when n more bytes are available, else CS_ERR_TRUNCATED. */
static int
s_need(const struct cs_reader *rd, size_t n)
{
    if (n > rd->len - rd->off)
        return CS_ERR_TRUNCATED;
    return 0;
}

/* The decoded header of the next msgpack value. */
struct s_head {
    enum cs_mp_type type; /* kind of value */
    size_t hdr;           /* bytes of tag and fixed fields, all present */
    uint64_t u;           /* UINT value, ARRAY/MAP count, FLOAT raw bits */
    int64_t i;            /* INT value (negative) */
    uint64_t len;         /* STR/BIN/EXT payload bytes following hdr */
    int8_t ext_type;      /* EXT application type */
    bool flag;            /* BOOL value */
};

/* How the fixed-width field after a tag byte is to be read. */
enum s_field {
    S_FIELD_NONE,   /* nothing follows the tag */
    S_FIELD_UINT,   /* unsigned value */
    S_FIELD_SINT,   /* two's complement value */
    S_FIELD_LEN,    /* payload length (str, bin) */
    S_FIELD_EXT,    /* payload length, then the ext type byte */
    S_FIELD_FIXEXT, /* ext type byte; payload length fixed by the tag */
    S_FIELD_COUNT,  /* element count (array, map) */
    S_FIELD_FLOAT   /* raw IEEE 754 bits */
};

/* Sets type, field kind and field width for the tags 0xc0..0xdf; returns
   CS_ERR_FORMAT for 0xc1. */
static int
s_classify(uint8_t tag, struct s_head *h, enum s_field *field, size_t *width)
{
    *field = S_FIELD_NONE;
    *width = 0;
    switch (tag) {
    case S_NIL:
        h->type = CS_MP_NIL;
        return 0;
    case S_FALSE:
    case S_TRUE:
        h->type = CS_MP_BOOL;
        h->flag = tag == S_TRUE;
        return 0;
    case S_BIN8:
    case S_BIN16:
    case S_BIN32:
        h->type = CS_MP_BIN;
        *field = S_FIELD_LEN;
        *width = (size_t)1 << (tag - S_BIN8); /* 1, 2, 4 */
        return 0;
    case S_EXT8:
    case S_EXT16:
    case S_EXT32:
        h->type = CS_MP_EXT;
        *field = S_FIELD_EXT;
        *width = (size_t)1 << (tag - S_EXT8); /* 1, 2, 4 */
        return 0;
    case S_FLOAT32:
        h->type = CS_MP_FLOAT;
        *field = S_FIELD_FLOAT;
        *width = S_FLOAT32_BYTES;
        return 0;
    case S_FLOAT64:
        h->type = CS_MP_FLOAT;
        *field = S_FIELD_FLOAT;
        *width = S_FLOAT64_BYTES;
        return 0;
    case S_UINT8:
    case S_UINT16:
    case S_UINT32:
    case S_UINT64:
        h->type = CS_MP_UINT;
        *field = S_FIELD_UINT;
        *width = (size_t)1 << (tag - S_UINT8); /* 1, 2, 4, 8 */
        return 0;
    case S_INT8:
    case S_INT16:
    case S_INT32:
    case S_INT64:
        h->type = CS_MP_INT; /* or CS_MP_UINT, decided by the value */
        *field = S_FIELD_SINT;
        *width = (size_t)1 << (tag - S_INT8); /* 1, 2, 4, 8 */
        return 0;
    case S_FIXEXT1:
    case S_FIXEXT2:
    case S_FIXEXT4:
    case S_FIXEXT8:
    case S_FIXEXT16:
        h->type = CS_MP_EXT;
        *field = S_FIELD_FIXEXT;
        h->len = (uint64_t)1 << (tag - S_FIXEXT1); /* 1, 2, 4, 8, 16 */
        return 0;
    case S_STR8:
    case S_STR16:
    case S_STR32:
        h->type = CS_MP_STR;
        *field = S_FIELD_LEN;
        *width = (size_t)1 << (tag - S_STR8); /* 1, 2, 4 */
        return 0;
    case S_ARRAY16:
    case S_ARRAY32:
        h->type = CS_MP_ARRAY;
        *field = S_FIELD_COUNT;
        *width = (size_t)2 << (tag - S_ARRAY16); /* 2, 4 */
        return 0;
    case S_MAP16:
    case S_MAP32:
        h->type = CS_MP_MAP;
        *field = S_FIELD_COUNT;
        *width = (size_t)2 << (tag - S_MAP16); /* 2, 4 */
        return 0;
    case S_NEVER_USED:
        return CS_ERR_FORMAT;
    default:
        return CS_ERR_INTERNAL; /* the caller handled the fix ranges */
    }
}

/* Decodes the header of the next value into *h without consuming it.
   Payloads (str/bin/ext bytes) are not checked here: h->len says how long
   they claim to be.  Returns 0, CS_ERR_TRUNCATED or CS_ERR_FORMAT. */
static int
s_head(const struct cs_reader *rd, struct s_head *h)
{
    enum s_field field;
    size_t width;
    int r;

    memset(h, 0, sizeof *h);
    h->type = CS_MP_INVALID;
    if ((r = s_need(rd, S_TAG_BYTES)) != 0)
        return r;
    const uint8_t *p = rd->p + rd->off;
    uint8_t tag = p[0];
    h->hdr = S_TAG_BYTES;

    if (tag <= S_POSFIXINT_MAX) {
        h->type = CS_MP_UINT;
        h->u = tag;
        return 0;
    }
    if (tag >= S_NEGFIXINT_MIN) {
        h->type = CS_MP_INT;
        h->i = s_sign_extend(tag, 1);
        return 0;
    }
    if (tag <= S_FIXMAP_MAX) {
        h->type = CS_MP_MAP;
        h->u = tag & S_FIXMAP_COUNT_MASK;
        return 0;
    }
    if (tag <= S_FIXARRAY_MAX) {
        h->type = CS_MP_ARRAY;
        h->u = tag & S_FIXARRAY_COUNT_MASK;
        return 0;
    }
    if (tag <= S_FIXSTR_MAX) {
        h->type = CS_MP_STR;
        h->len = tag & S_FIXSTR_LEN_MASK;
        return 0;
    }
    if ((r = s_classify(tag, h, &field, &width)) != 0) {
        h->type = CS_MP_INVALID;
        return r;
    }

    size_t extra =
        field == S_FIELD_EXT || field == S_FIELD_FIXEXT ? S_EXT_TYPE_BYTES : 0;
    if ((r = s_need(rd, S_TAG_BYTES + width + extra)) != 0) {
        h->type = CS_MP_INVALID;
        return r;
    }
    uint64_t value = s_load_be(p + S_TAG_BYTES, width);
    h->hdr = S_TAG_BYTES + width + extra;
    if (extra != 0)
        h->ext_type = (int8_t)s_sign_extend(p[S_TAG_BYTES + width], 1);

    switch (field) {
    case S_FIELD_NONE:
    case S_FIELD_FIXEXT:
        return 0;
    case S_FIELD_UINT:
    case S_FIELD_COUNT:
    case S_FIELD_FLOAT:
        h->u = value;
        return 0;
    case S_FIELD_SINT: {
        int64_t sv = s_sign_extend(value, width);
        if (sv >= 0) {
            h->type = CS_MP_UINT;
            h->u = (uint64_t)sv;
            return 0;
        }
        h->i = sv;
        return 0;
    }
    case S_FIELD_LEN:
    case S_FIELD_EXT:
        h->len = value;
        return 0;
    default:
        return CS_ERR_INTERNAL;
    }
}

int
cs_reader_peek_type(const struct cs_reader *rd, enum cs_mp_type *t)
{
    struct s_head h;
    int r;

    *t = CS_MP_INVALID;
    if ((r = s_head(rd, &h)) != 0)
        return r;
    *t = h.type;
    return 0;
}

/* Reads the header of the next value and checks it is of type want. */
static int
s_head_of(const struct cs_reader *rd, enum cs_mp_type want, struct s_head *h)
{
    int r;

    if ((r = s_head(rd, h)) != 0)
        return r;
    if (h->type != want)
        return CS_ERR_FORMAT;
    return 0;
}

int
cs_reader_uint(struct cs_reader *rd, uint64_t *v)
{
    struct s_head h;
    int r;

    *v = 0;
    if ((r = s_head_of(rd, CS_MP_UINT, &h)) != 0)
        return r;
    *v = h.u;
    rd->off += h.hdr;
    return 0;
}

int
cs_reader_int(struct cs_reader *rd, int64_t *v)
{
    struct s_head h;
    int r;

    *v = 0;
    if ((r = s_head(rd, &h)) != 0)
        return r;
    switch (h.type) {
    case CS_MP_UINT:
        if (h.u > INT64_MAX)
            return CS_ERR_TOO_BIG;
        *v = (int64_t)h.u;
        break;
    case CS_MP_INT:
        *v = h.i;
        break;
    default:
        return CS_ERR_FORMAT;
    }
    rd->off += h.hdr;
    return 0;
}

int
cs_reader_bool(struct cs_reader *rd, bool *v)
{
    struct s_head h;
    int r;

    *v = false;
    if ((r = s_head_of(rd, CS_MP_BOOL, &h)) != 0)
        return r;
    *v = h.flag;
    rd->off += h.hdr;
    return 0;
}

int
cs_reader_nil(struct cs_reader *rd)
{
    struct s_head h;
    int r;

    if ((r = s_head_of(rd, CS_MP_NIL, &h)) != 0)
        return r;
    rd->off += h.hdr;
    return 0;
}

bool
cs_reader_peek_nil(const struct cs_reader *rd)
{
    return s_need(rd, S_TAG_BYTES) == 0 && rd->p[rd->off] == S_NIL;
}

int
cs_reader_double(struct cs_reader *rd, double *v)
{
    struct s_head h;
    int r;

    *v = 0.0;
    if ((r = s_head_of(rd, CS_MP_FLOAT, &h)) != 0)
        return r;
    if (h.hdr == S_TAG_BYTES + S_FLOAT32_BYTES) {
        uint32_t bits = (uint32_t)h.u;
        float f;
        memcpy(&f, &bits, sizeof f);
        *v = f;
    } else {
        memcpy(v, &h.u, sizeof *v);
    }
    rd->off += h.hdr;
    return 0;
}

/* Takes the payload of a str/bin/ext whose header h is at the reader's
   position: checks h->len against max and the bytes left, then fills *v and
   advances past header and payload. */
static int
s_take_payload(struct cs_reader *rd, const struct s_head *h, struct cs_view *v,
               size_t max)
{
    if (h->len > max)
        return CS_ERR_TOO_BIG;
    /* h->hdr bytes are known present, so the subtraction cannot wrap */
    if (h->len > rd->len - rd->off - h->hdr)
        return CS_ERR_TRUNCATED;
    v->p = rd->p + rd->off + h->hdr;
    v->len = (size_t)h->len;
    rd->off += h->hdr + (size_t)h->len;
    return 0;
}

/* Shared body of cs_reader_str() and cs_reader_bin(). */
static int
s_read_blob(struct cs_reader *rd, enum cs_mp_type want, struct cs_view *v,
            size_t max)
{
    struct s_head h;
    int r;

    v->p = NULL;
    v->len = 0;
    if ((r = s_head_of(rd, want, &h)) != 0)
        return r;
    return s_take_payload(rd, &h, v, max);
}

int
cs_reader_str(struct cs_reader *rd, struct cs_view *v, size_t max)
{
    return s_read_blob(rd, CS_MP_STR, v, max);
}

int
cs_reader_bin(struct cs_reader *rd, struct cs_view *v, size_t max)
{
    return s_read_blob(rd, CS_MP_BIN, v, max);
}

/* Shared body of cs_reader_array() and cs_reader_map(); per_item is the
   number of values each counted item consists of (1 or 2), each taking at
   least one byte. */
static int
s_read_count(struct cs_reader *rd, enum cs_mp_type want, size_t per_item,
             size_t *n, size_t max)
{
    struct s_head h;
    int r;

    *n = 0;
    if ((r = s_head_of(rd, want, &h)) != 0)
        return r;
    if (h.u > max)
        return CS_ERR_TOO_BIG;
    /* count * per_item > left, written without multiplying */
    if (h.u > (rd->len - rd->off - h.hdr) / per_item)
        return CS_ERR_TRUNCATED;
    *n = (size_t)h.u;
    rd->off += h.hdr;
    return 0;
}

int
cs_reader_array(struct cs_reader *rd, size_t *n, size_t max)
{
    return s_read_count(rd, CS_MP_ARRAY, 1, n, max);
}

int
cs_reader_map(struct cs_reader *rd, size_t *n, size_t max)
{
    return s_read_count(rd, CS_MP_MAP, 2, n, max);
}

int
cs_reader_ext(struct cs_reader *rd, int8_t *type, struct cs_view *v, size_t max)
{
    struct s_head h;
    int r;

    *type = 0;
    v->p = NULL;
    v->len = 0;
    if ((r = s_head_of(rd, CS_MP_EXT, &h)) != 0)
        return r;
    if ((r = s_take_payload(rd, &h, v, max)) != 0)
        return r;
    *type = h.ext_type;
    return 0;
}

/* Reads a width-byte big-endian number into *v and advances. */
static int
s_read_be(struct cs_reader *rd, size_t width, uint64_t *v)
{
    int r;

    *v = 0;
    if ((r = s_need(rd, width)) != 0)
        return r;
    *v = s_load_be(rd->p + rd->off, width);
    rd->off += width;
    return 0;
}

int
cs_reader_u8(struct cs_reader *rd, uint8_t *v)
{
    uint64_t x;
    int r = s_read_be(rd, sizeof *v, &x);
    *v = (uint8_t)x;
    return r;
}

int
cs_reader_u16be(struct cs_reader *rd, uint16_t *v)
{
    uint64_t x;
    int r = s_read_be(rd, sizeof *v, &x);
    *v = (uint16_t)x;
    return r;
}

int
cs_reader_u32be(struct cs_reader *rd, uint32_t *v)
{
    uint64_t x;
    int r = s_read_be(rd, sizeof *v, &x);
    *v = (uint32_t)x;
    return r;
}

int
cs_reader_u64be(struct cs_reader *rd, uint64_t *v)
{
    return s_read_be(rd, sizeof *v, v);
}

int
cs_reader_bytes(struct cs_reader *rd, struct cs_view *v, size_t n)
{
    int r;

    v->p = NULL;
    v->len = 0;
    if ((r = s_need(rd, n)) != 0)
        return r;
    v->p = rd->p + rd->off;
    v->len = n;
    rd->off += n;
    return 0;
}

int
cs_reader_skip(struct cs_reader *rd, size_t max_depth)
{
    /* pending[d] = values still to skip in the container opened at depth d
       once the one opened inside it is done; remaining = values still to
       skip at the current depth (the single top-level value at first). */
    uint64_t pending[CS_READER_DEPTH_MAX];
    uint64_t remaining = 1;
    size_t depth = 0;
    struct cs_reader tmp = *rd; /* commit to rd only on success */
    struct s_head h;
    struct cs_view payload;
    int r;

    if (max_depth > CS_READER_DEPTH_MAX)
        return CS_ERR_INVALID;
    for (;;) {
        while (remaining == 0) {
            if (depth == 0) {
                *rd = tmp;
                return 0;
            }
            remaining = pending[--depth];
        }
        if ((r = s_head(&tmp, &h)) != 0)
            return r;
        remaining--;
        switch (h.type) {
        case CS_MP_ARRAY:
        case CS_MP_MAP: {
            size_t per_item = h.type == CS_MP_MAP ? 2 : 1;
            if (h.u > (tmp.len - tmp.off - h.hdr) / per_item)
                return CS_ERR_TRUNCATED;
            if (depth == max_depth)
                return CS_ERR_TOO_BIG;
            pending[depth++] = remaining;
            remaining = h.u * per_item; /* <= bytes left: no overflow */
            tmp.off += h.hdr;
            break;
        }
        case CS_MP_STR:
        case CS_MP_BIN:
        case CS_MP_EXT:
            if ((r = s_take_payload(&tmp, &h, &payload, SIZE_MAX)) != 0)
                return r;
            break;
        default:
            tmp.off += h.hdr;
            break;
        }
    }
}

int
cs_reader_end(const struct cs_reader *rd)
{
    if (rd->off != rd->len)
        return CS_ERR_TRAILING;
    return 0;
}

/* One row per UTF-8 sequence length (RFC 3629 section 4). */
struct s_utf8_form {
    uint8_t lead_mask;  /* bits of the lead byte that identify the form */
    uint8_t lead_bits;  /* their value */
    size_t cont;        /* continuation bytes that follow */
    uint32_t min_point; /* smallest code point not overlong in this form */
};

static const struct s_utf8_form s_utf8_forms[] = {
    {0xe0, 0xc0, 1, 0x80},    /* 110xxxxx 10xxxxxx */
    {0xf0, 0xe0, 2, 0x800},   /* 1110xxxx 10xxxxxx x2 */
    {0xf8, 0xf0, 3, 0x10000}, /* 11110xxx 10xxxxxx x3 */
};

#define S_UTF8_ASCII_MAX 0x7f
#define S_UTF8_CONT_MASK 0xc0 /* a continuation byte is 10xxxxxx */
#define S_UTF8_CONT_BITS 0x80
#define S_UTF8_CONT_PAYLOAD 0x3f
#define S_UTF8_CONT_SHIFT 6
#define S_UNICODE_MAX 0x10ffff
#define S_SURROGATE_MIN 0xd800
#define S_SURROGATE_MAX 0xdfff

bool
cs_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t lead = p[i];
        if (lead <= S_UTF8_ASCII_MAX) {
            i++;
            continue;
        }
        const struct s_utf8_form *form = NULL;
        for (size_t k = 0; k < sizeof s_utf8_forms / sizeof *s_utf8_forms;
             k++) {
            if ((lead & s_utf8_forms[k].lead_mask) == s_utf8_forms[k].lead_bits)
                form = &s_utf8_forms[k];
        }
        if (form == NULL)
            return false; /* stray continuation byte or 0xf8..0xff */
        if (form->cont > n - i - 1)
            return false; /* sequence cut short */
        uint32_t point = lead & (uint8_t)~form->lead_mask;
        for (size_t k = 1; k <= form->cont; k++) {
            uint8_t cont = p[i + k];
            if ((cont & S_UTF8_CONT_MASK) != S_UTF8_CONT_BITS)
                return false;
            point = (point << S_UTF8_CONT_SHIFT) | (cont & S_UTF8_CONT_PAYLOAD);
        }
        if (point < form->min_point || point > S_UNICODE_MAX ||
            (point >= S_SURROGATE_MIN && point <= S_SURROGATE_MAX))
            return false;
        i += 1 + form->cont;
    }
    return true;
}

int
cs_reader_bin_exact(struct cs_reader *rd, uint8_t *out, size_t len)
{
    struct cs_view v;
    int r;

    if ((r = cs_reader_bin(rd, &v, len)) != 0)
        return r;
    if (v.len != len)
        return CS_ERR_FORMAT;
    memcpy(out, v.p, len);
    return 0;
}
