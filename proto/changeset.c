/*  proto/changeset.c - the compact encoding of a list of changes; see
 *  changeset.h, and PROTOCOL.md for the format.
 *
 *  Layout (format 2).  After the four dictionaries the changes travel as
 *  parallel columns, one msgpack array per field, not one array per
 *  change: zstd, which compresses the list inside a batch, then finds
 *  long runs of alike bytes (table indexes, ops, deltas of 0 and 1, the
 *  values of one column side by side) instead of small integers
 *  interleaved with text, and a batch shrinks by a fifth (a day of varied
 *  office work) to a half and more (many new rows, a run of edits)
 *  (PROTOCOL.md "Why this layout").  Row indexes are written as back
 *  references (0: the next new row), base HLCs against a reference that
 *  follows the previous base, values grouped by column.
 *
 *  Encoder.  One pass over the changes interns every table, column, row id
 *  and origin in a dictionary (struct s_dict: entries in first-appearance
 *  order, found through an open-addressing hash table), remembering the
 *  indexes per change (struct s_ref); then the dictionaries are written,
 *  and the columns one after the other, each a pass over the changes.  The
 *  output depends only on the input because dictionary order is first
 *  appearance; the hash function never shows.  It is SipHash
 *  (crypto_shorthash) with a random key per call, because row ids reach
 *  the server's encoder from other offices: with a fixed hash a hostile
 *  node could send ids that all collide and make every downstream encode
 *  quadratic.  Consecutive changes usually name the same row and table, so
 *  each dictionary first compares with the key it saw last.
 *
 *  Decoder.  Input is untrusted and every size it claims is checked
 *  against the bytes left before anything is sized by it (reader.h).  The
 *  result owns copies of every string and value in one arena, so its
 *  memory is bounded by the input: the dictionaries are read twice, first
 *  to validate them and add up the bytes their text needs, then, once the
 *  arena is allocated (that sum plus the bytes left for the changes, which
 *  bounds their values: a value of k bytes takes at least k + 1 bytes on
 *  the wire and k + 1 in the arena), to copy them.  The change array is
 *  allocated once the first column's count is known to fit the bytes left
 *  (a change takes at least one byte in each of the nine columns of one
 *  entry per change); each later column is read into it in turn, and what
 *  a column needs of an earlier one (the origin of each change for the
 *  deltas, its column for the order of the values) is kept per change in
 *  a struct s_ref.  Nesting is fixed by the format; nothing recurses.
 *  Failures are logged at debug level only: the input comes from a peer,
 *  and the caller, who knows which peer, decides what an operator sees.
 *
 *  The encoder checks every change against the decoder's rules (one set of
 *  helpers, s_*_problem()), so that it never writes what a peer refuses.
 */
#include "proto_prelude.h"

#include <math.h>

#include "changeset.h"
#include "err.h"
#include "id.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "reader.h"

#define S_TOP_FIELDS 16      /* elements of the changeset array */
#define S_CHANGE_COLUMNS 9   /* columns holding one entry per change */
#define S_BASE_NONE 0        /* base column: the change has no base */
#define S_BASE_SOME 1        /* base column: it has one (base columns) */
#define S_UUID_BYTES 16      /* a UUIDv7 row id packed to binary */
#define S_NIBBLE_BITS 4      /* bits per hex digit */
#define S_NIBBLE_MASK 0x0f   /* low hex digit of a byte */
#define S_HEX_LETTER_BASE 10 /* value of hex digit 'a' */
#define S_DICT_SLOTS_MIN 16  /* first hash table size, a power of two */

/* Text positions of the dashes of a UUID's 8-4-4-4-12 form (RFC 9562). */
static const size_t s_dash_pos[] = {8, 13, 18, 23};
#define S_DASHES (sizeof s_dash_pos / sizeof s_dash_pos[0])

static const char s_hex[] = "0123456789abcdef";

/* ------------------------------------------------------------------ */
/* Rules shared by the encoder and the decoder (PROTOCOL.md).     */

/* Returns true when the bytes are a table or column name:
   [a-z_][a-z0-9_]*, at most CS_NAME_MAX bytes; or "" if allowed.
     p         the bytes (any, not NUL-terminated)
     len       their number
     empty_ok  whether "" (the column of row life changes) is accepted */
static bool
s_name_ok(const uint8_t *p, size_t len, bool empty_ok)
{
    if (len == 0)
        return empty_ok;
    if (len > CS_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if ((c >= 'a' && c <= 'z') || c == '_' ||
            (i > 0 && c >= '0' && c <= '9'))
            continue;
        return false;
    }
    return true;
}

/* Returns true when the len bytes at p are a row id as cs_id_valid()
   defines it (checked on bytes, so an embedded NUL is refused). */
static bool
s_row_id_ok(const uint8_t *p, size_t len)
{
    if (len == 0 || len > CS_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
            (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == ':' ||
            c == '-')
            continue;
        return false;
    }
    return true;
}

/* Returns NULL when op may have a column named col (NUL-terminated):
   field changes (SET, ACK) name a column, row life changes (INS, DEL, RST)
   the empty one; else what is wrong. */
static const char *
s_shape_problem(enum cs_op op, const char *col)
{
    switch (op) {
    case CS_OP_SET:
    case CS_OP_ACK:
        return col[0] != '\0' ? NULL : "a field change without a column";
    case CS_OP_INS:
    case CS_OP_DEL:
    case CS_OP_RST:
        return col[0] == '\0' ? NULL : "a row change with a column";
    default:
        return "an unknown op";
    }
}

/* Returns NULL when v is a value op may carry, else what is wrong. */
static const char *
s_value_problem(enum cs_op op, const struct cs_value *v)
{
    if (op != CS_OP_SET)
        return v->type == CS_VALUE_NULL ? NULL : "a value on a change not SET";
    switch (v->type) {
    case CS_VALUE_NULL:
    case CS_VALUE_INTEGER:
        return NULL;
    case CS_VALUE_FLOAT:
        /* SQLite stores NaN as NULL, so no replica holds one. */
        return isnan(v->d) ? "a NaN value" : NULL;
    case CS_VALUE_TEXT:
    case CS_VALUE_BLOB:
        if (v->len > CS_TEXT_MAX)
            return "a value over CS_TEXT_MAX bytes";
        if (v->p == NULL && v->len > 0)
            return "a value without its bytes";
        /* TEXT is not checked for UTF-8: SQLite does not enforce it, any
           SQLite client can store such text, and refusing it here would
           stall its origin's feed.  Readers escape what they display. */
        return NULL;
    default:
        return "an unknown value type";
    }
}

/* Returns the value of a lowercase hex digit, or -1. */
CS_MUST_CHECK static int
s_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + S_HEX_LETTER_BASE;
    return -1;
}

/* Packs a UUIDv7 in canonical text form (cs_id_is_uuid7() true) into its
   16 bytes. */
static void
s_uuid_pack(const char *text, uint8_t out[S_UUID_BYTES])
{
    size_t n = 0;
    int hi = -1;

    for (const char *c = text; *c != '\0' && n < S_UUID_BYTES; c++) {
        int v = s_hex_value(*c);
        if (v < 0)
            continue; /* a dash */
        if (hi < 0) {
            hi = v;
            continue;
        }
        out[n++] = (uint8_t)(hi << S_NIBBLE_BITS | v);
        hi = -1;
    }
    assert(n == S_UUID_BYTES);
}

/* Writes the 16 bytes of a UUID as 36 characters of canonical text and a
   NUL into out. */
static void
s_uuid_text(const uint8_t b[S_UUID_BYTES], char out[CS_ID_TEXT_LEN + 1])
{
    size_t pos = 0, dash = 0;

    for (size_t i = 0; i < S_UUID_BYTES; i++) {
        if (dash < S_DASHES && pos == s_dash_pos[dash]) {
            out[pos++] = '-';
            dash++;
        }
        out[pos++] = s_hex[b[i] >> S_NIBBLE_BITS];
        out[pos++] = s_hex[b[i] & S_NIBBLE_MASK];
    }
    out[pos] = '\0';
}

/* Indexes of what one change names: the encoder's, as it interned them;
   the decoder's, as read (it keeps col and origin for later columns). */
struct s_ref {
    uint32_t table;       /* into the tables dictionary */
    uint32_t row;         /* into the rows dictionary */
    uint32_t col;         /* into the columns dictionary */
    uint32_t origin;      /* into the origins dictionary */
    uint32_t base_origin; /* ditto, when the change has a base */
};

/* Returns the reference a base HLC is written against (PROTOCOL.md
   "Differences"): the change's HLC plus the offset of the previous base
   in the list (that base's HLC minus its own change's HLC; 0 before the
   first), clamped to 0..INT64_MAX, so that any base differs from it by
   an int64.
     hlc     the change's HLC, at most INT64_MAX
     offset  the previous base's offset, in -INT64_MAX..INT64_MAX */
static uint64_t
s_base_ref(uint64_t hlc, int64_t offset)
{
    uint64_t mag;

    if (offset >= 0) {
        mag = (uint64_t)offset;
        return mag > (uint64_t)INT64_MAX - hlc ? (uint64_t)INT64_MAX
                                               : hlc + mag;
    }
    mag = (uint64_t)(-offset); /* offset >= -INT64_MAX: no overflow */
    return mag >= hlc ? 0 : hlc - mag;
}

/* Returns a base's offset from its change, base - hlc; both are at most
   INT64_MAX, so the difference is an int64. */
static int64_t
s_base_offset(uint64_t base, uint64_t hlc)
{
    return (int64_t)base - (int64_t)hlc;
}

/* Fills order[0..n) with 0..n-1 sorted by ref[i].col, in change order
   within one column: the order of the values column (PROTOCOL.md
   "Layout").  A counting sort, linear in n + ncols.
     ref    the changes' indexes; every col below ncols
     n      their number, at most CS_BATCH_CHANGES_MAX
     ncols  entries in the columns dictionary
     order  receives the change indexes */
static void
s_order_by_column(const struct s_ref *ref, size_t n, size_t ncols,
                  uint32_t *order)
{
    size_t *start = cs_xcalloc(ncols + 1, sizeof *start);

    for (size_t i = 0; i < n; i++)
        start[ref[i].col + 1]++;
    for (size_t k = 1; k <= ncols; k++)
        start[k] += start[k - 1];
    for (size_t i = 0; i < n; i++)
        order[start[ref[i].col]++] = (uint32_t)i;
    free(start);
}

/* ------------------------------------------------------------------ */
/* Encoder.                                                            */

/* One dictionary key: bytes borrowed from the changes. */
struct s_entry {
    const void *p; /* the key's bytes */
    size_t len;    /* their number */
    uint64_t hash; /* SipHash of them, kept for growing the table */
};

/* A dictionary being built: keys in first-appearance order. */
struct s_dict {
    struct s_entry *entry; /* the keys; entry[i] has index i */
    size_t n;              /* keys so far */
    size_t cap;            /* entries allocated */
    uint32_t *slot;        /* hash table: entry index + 1, or 0 if free */
    size_t nslots;         /* a power of two, kept above 2 * n */
    const uint8_t *key;    /* SipHash key (struct s_enc's) */
};

/* The encoder's working state. */
struct s_enc {
    uint8_t key[crypto_shorthash_KEYBYTES]; /* random, per call */
    struct s_dict table;                    /* table names */
    struct s_dict col;                      /* column names */
    struct s_dict row;                      /* row ids (text) */
    struct s_dict origin;                   /* origin node ids */
    struct s_ref *ref;                      /* one per change */
    uint64_t *last;                         /* per origin, s_put_deltas() */
    uint32_t *order;                        /* change indexes, values' order */
    size_t nbases;                          /* changes with a base */
};

static void
s_dict_free(struct s_dict *d)
{
    free(d->entry);
    free(d->slot);
    memset(d, 0, sizeof *d);
}

/* Puts entry index i into the first free slot on its probe path. */
static void
s_dict_place(struct s_dict *d, size_t i)
{
    size_t mask = d->nslots - 1;
    size_t s = (size_t)d->entry[i].hash & mask;

    while (d->slot[s] != 0)
        s = (s + 1) & mask;
    d->slot[s] = (uint32_t)(i + 1);
}

/* Doubles the hash table (or makes the first) and re-places every key. */
static void
s_dict_grow(struct s_dict *d)
{
    size_t nslots = d->nslots == 0 ? S_DICT_SLOTS_MIN : d->nslots * 2;

    free(d->slot);
    d->slot = cs_xcalloc(nslots, sizeof *d->slot);
    d->nslots = nslots;
    for (size_t i = 0; i < d->n; i++)
        s_dict_place(d, i);
}

/* Returns the index of a key in d, adding it if new.
     d    the dictionary
     p    the key's bytes, borrowed: they must outlive d
     len  their number
   At most CS_CHANGESET_DICT_MAX keys are ever added (the caller bounds the
   changes), so an index fits in 32 bits. */
static uint32_t
s_dict_intern(struct s_dict *d, const void *p, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t hash;
    size_t mask, s;

    crypto_shorthash(h, p, len, d->key);
    memcpy(&hash, h, sizeof hash);
    if (2 * (d->n + 1) > d->nslots)
        s_dict_grow(d);
    mask = d->nslots - 1;
    for (s = (size_t)hash & mask; d->slot[s] != 0; s = (s + 1) & mask) {
        const struct s_entry *e = &d->entry[d->slot[s] - 1];
        if (e->hash == hash && e->len == len && memcmp(e->p, p, len) == 0)
            return d->slot[s] - 1;
    }
    if (d->n == d->cap) {
        d->cap = d->cap == 0 ? S_DICT_SLOTS_MIN : d->cap * 2;
        d->entry = cs_xrealloc(d->entry, d->cap * sizeof *d->entry);
    }
    d->entry[d->n].p = p;
    d->entry[d->n].len = len;
    d->entry[d->n].hash = hash;
    d->slot[s] = (uint32_t)(d->n + 1);
    return (uint32_t)d->n++;
}

/* As s_dict_intern(), but first compares with the key at index last
   (consecutive changes mostly name the same row and table).
     d     the dictionary
     p     the key's bytes, borrowed
     len   their number
     last  the index this kind of key had in the previous change, or
           UINT32_MAX */
static uint32_t
s_dict_intern_near(struct s_dict *d, const void *p, size_t len, uint32_t last)
{
    if (last < d->n && d->entry[last].len == len &&
        memcmp(d->entry[last].p, p, len) == 0)
        return last;
    return s_dict_intern(d, p, len);
}

/* Returns NULL when c can be encoded and decoded, else what is wrong. */
static const char *
s_change_problem(const struct cs_change *c)
{
    const char *why;

    if (c->table == NULL || c->row_id == NULL || c->col == NULL)
        return "a NULL name";
    if (!s_name_ok((const uint8_t *)c->table,
                   strnlen(c->table, CS_NAME_MAX + 1), false))
        return "a bad table name";
    if (!s_name_ok((const uint8_t *)c->col, strnlen(c->col, CS_NAME_MAX + 1),
                   true))
        return "a bad column name";
    if (!cs_id_valid(c->row_id))
        return "a bad row id";
    if ((why = s_shape_problem(c->op, c->col)) != NULL ||
        (why = s_value_problem(c->op, &c->value)) != NULL)
        return why;
    if (c->hlc.t > INT64_MAX || (c->has_base && c->base_hlc.t > INT64_MAX))
        return "an HLC above INT64_MAX";
    if (c->origin_seq == 0 || c->origin_seq > INT64_MAX)
        return "an origin_seq outside 1..INT64_MAX";
    return NULL;
}

static void
s_enc_free(struct s_enc *e)
{
    s_dict_free(&e->table);
    s_dict_free(&e->col);
    s_dict_free(&e->row);
    s_dict_free(&e->origin);
    free(e->ref);
    free(e->last);
    free(e->order);
    memset(e, 0, sizeof *e);
}

/* Interns what every change names; fills e->ref. */
static void
s_enc_intern(struct s_enc *e, const struct cs_change *ch, size_t n)
{
    struct s_ref last = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
                         UINT32_MAX};

    e->table.key = e->col.key = e->row.key = e->origin.key = e->key;
    e->ref = cs_xcalloc(n == 0 ? 1 : n, sizeof *e->ref);
    for (size_t i = 0; i < n; i++) {
        const struct cs_change *c = &ch[i];
        struct s_ref *ref = &e->ref[i];

        ref->table = s_dict_intern_near(&e->table, c->table, strlen(c->table),
                                        last.table);
        ref->row =
            s_dict_intern_near(&e->row, c->row_id, strlen(c->row_id), last.row);
        ref->col =
            s_dict_intern_near(&e->col, c->col, strlen(c->col), last.col);
        ref->origin = s_dict_intern_near(&e->origin, c->origin.b,
                                         sizeof c->origin.b, last.origin);
        if (c->has_base)
            ref->base_origin =
                s_dict_intern_near(&e->origin, c->base_origin.b,
                                   sizeof c->base_origin.b, last.origin);
        last = *ref;
    }
}

/* Writes a dictionary of names (tables or columns) as an array of str. */
CS_MUST_CHECK static int
s_put_names(struct cs_writer *w, const struct s_dict *d)
{
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)d->n)) != 0)
        return r;
    for (size_t i = 0; i < d->n; i++)
        if ((r = cs_writer_mp_str(w, d->entry[i].p, d->entry[i].len)) != 0)
            return r;
    return 0;
}

/* Writes the origins dictionary as an array of bin 16. */
CS_MUST_CHECK static int
s_put_origins(struct cs_writer *w, const struct s_dict *d)
{
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)d->n)) != 0)
        return r;
    for (size_t i = 0; i < d->n; i++)
        if ((r = cs_writer_mp_bin(w, d->entry[i].p, d->entry[i].len)) != 0)
            return r;
    return 0;
}

/* Writes the rows dictionary: a UUIDv7 as bin 16, any other id as str. */
CS_MUST_CHECK static int
s_put_rows(struct cs_writer *w, const struct s_dict *d)
{
    uint8_t b[S_UUID_BYTES];
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)d->n)) != 0)
        return r;
    for (size_t i = 0; i < d->n; i++) {
        const char *id = d->entry[i].p;
        if (cs_id_is_uuid7(id)) {
            s_uuid_pack(id, b);
            r = cs_writer_mp_bin(w, b, sizeof b);
        } else {
            r = cs_writer_mp_str(w, id, d->entry[i].len);
        }
        if (r != 0)
            return r;
    }
    return 0;
}

/* Writes the value of c: nil unless SET. */
CS_MUST_CHECK static int
s_put_value(struct cs_writer *w, const struct cs_change *c)
{
    const struct cs_value *v = &c->value;

    if (c->op != CS_OP_SET)
        return cs_writer_mp_nil(w);
    switch (v->type) {
    case CS_VALUE_INTEGER:
        return cs_writer_mp_int(w, v->i);
    case CS_VALUE_FLOAT:
        return cs_writer_mp_double(w, v->d);
    case CS_VALUE_TEXT:
        return cs_writer_mp_str(w, v->p, v->len);
    case CS_VALUE_BLOB:
        return cs_writer_mp_bin(w, v->p, v->len);
    default:
        return cs_writer_mp_nil(w);
    }
}

/* The columns of one uint per change that come from struct s_ref or from
   the change itself (PROTOCOL.md "Layout"). */
enum s_uint_column {
    S_COLUMN_TABLE,  /* index into tables */
    S_COLUMN_COLUMN, /* index into columns */
    S_COLUMN_OP,     /* enum cs_op */
    S_COLUMN_ORIGIN, /* index into origins */
    S_COLUMN_BASE    /* S_BASE_NONE or S_BASE_SOME */
};

/* Returns the entry of column which for change c, named by ref. */
static uint64_t
s_uint_entry(const struct cs_change *c, const struct s_ref *ref,
             enum s_uint_column which)
{
    switch (which) {
    case S_COLUMN_TABLE:
        return ref->table;
    case S_COLUMN_COLUMN:
        return ref->col;
    case S_COLUMN_OP:
        return (uint64_t)c->op;
    case S_COLUMN_ORIGIN:
        return ref->origin;
    case S_COLUMN_BASE:
        return c->has_base ? S_BASE_SOME : S_BASE_NONE;
    default:
        return 0;
    }
}

/* Writes one of the columns of enum s_uint_column.
     w      the writer
     e      the encoder, its dictionaries interned
     ch     the changes
     n      their number
     which  the column */
CS_MUST_CHECK static int
s_put_uints(struct cs_writer *w, const struct s_enc *e,
            const struct cs_change *ch, size_t n, enum s_uint_column which)
{
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)n)) != 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = cs_writer_mp_uint(
                 w, s_uint_entry(&ch[i], &e->ref[i], which))) != 0)
            return r;
    return 0;
}

/* Writes the row column: for each change, how far its row's index lies
   below the next new one, which is 1 + the highest index named so far
   (PROTOCOL.md "Row references").  The rows dictionary is in
   first-appearance order, so no index lies above the next new one. */
CS_MUST_CHECK static int
s_put_row_refs(struct cs_writer *w, const struct s_enc *e, size_t n)
{
    uint32_t next = 0;
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)n)) != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if ((r = cs_writer_mp_uint(w, next - e->ref[i].row)) != 0)
            return r;
        if (e->ref[i].row == next)
            next++;
    }
    return 0;
}

/* Writes the hlc column (seq false) or the seq column (seq true): each
   change's HLC or origin_seq minus that of the previous change of its
   origin, 0 before the first (PROTOCOL.md "Differences"). */
CS_MUST_CHECK static int
s_put_deltas(struct cs_writer *w, struct s_enc *e, const struct cs_change *ch,
             size_t n, bool seq)
{
    int r;

    memset(e->last, 0, e->origin.n * sizeof *e->last);
    if ((r = cs_writer_mp_array(w, (uint32_t)n)) != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        uint64_t *last = &e->last[e->ref[i].origin];
        uint64_t v = seq ? ch[i].origin_seq : ch[i].hlc.t;
        /* Both are at most INT64_MAX (s_change_problem()), so the
           difference cannot overflow. */
        if ((r = cs_writer_mp_int(w, (int64_t)v - (int64_t)*last)) != 0)
            return r;
        *last = v;
    }
    return 0;
}

/* Writes the base hlc column: for each change with a base, its base HLC
   minus s_base_ref() (PROTOCOL.md "Differences"). */
CS_MUST_CHECK static int
s_put_base_hlcs(struct cs_writer *w, const struct s_enc *e,
                const struct cs_change *ch, size_t n)
{
    int64_t offset = 0;
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)e->nbases)) != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct cs_change *c = &ch[i];
        uint64_t ref;
        if (!c->has_base)
            continue;
        ref = s_base_ref(c->hlc.t, offset);
        /* Both at most INT64_MAX: the difference is an int64. */
        if ((r = cs_writer_mp_int(w, (int64_t)c->base_hlc.t - (int64_t)ref)) !=
            0)
            return r;
        offset = s_base_offset(c->base_hlc.t, c->hlc.t);
    }
    return 0;
}

/* Writes the base origin column: for each change with a base, the index
   of its base's origin. */
CS_MUST_CHECK static int
s_put_base_origins(struct cs_writer *w, const struct s_enc *e,
                   const struct cs_change *ch, size_t n)
{
    int r;

    if ((r = cs_writer_mp_array(w, (uint32_t)e->nbases)) != 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (ch[i].has_base &&
            (r = cs_writer_mp_uint(w, e->ref[i].base_origin)) != 0)
            return r;
    return 0;
}

/* Writes the value column: every change's value, in the order of
   s_order_by_column(). */
CS_MUST_CHECK static int
s_put_values(struct cs_writer *w, struct s_enc *e, const struct cs_change *ch,
             size_t n)
{
    int r;

    e->order = cs_xcalloc(n == 0 ? 1 : n, sizeof *e->order);
    s_order_by_column(e->ref, n, e->col.n, e->order);
    if ((r = cs_writer_mp_array(w, (uint32_t)n)) != 0)
        return r;
    for (size_t k = 0; k < n; k++)
        if ((r = s_put_value(w, &ch[e->order[k]])) != 0)
            return r;
    return 0;
}

int
cs_changeset_encode(const struct cs_change *ch, size_t n, struct cs_writer *w)
{
    struct s_enc e;
    const char *why;
    int r;

    assert(ch != NULL || n == 0);
    assert(w != NULL);
    memset(&e, 0, sizeof e);
    if (n > CS_BATCH_CHANGES_MAX) {
        r = CS_ERR_TOO_BIG;
        cs_log_err(r, "%zu changes, at most %u fit in a changeset", n,
                   CS_BATCH_CHANGES_MAX);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((why = s_change_problem(&ch[i])) != NULL) {
            r = CS_ERR_INVALID;
            cs_log_err(r, "change %zu: %s", i, why);
            goto out;
        }
        e.nbases += ch[i].has_base;
    }
    if ((r = cs_crypto_init()) != 0)
        goto out;
    randombytes_buf(e.key, sizeof e.key);
    s_enc_intern(&e, ch, n);
    e.last = cs_xcalloc(e.origin.n == 0 ? 1 : e.origin.n, sizeof *e.last);
    /* PROTOCOL.md "Layout", element by element. */
    if ((r = cs_writer_mp_array(w, S_TOP_FIELDS)) != 0 ||
        (r = cs_writer_mp_uint(w, CS_CHANGESET_FORMAT)) != 0 ||
        (r = s_put_names(w, &e.table)) != 0 ||
        (r = s_put_names(w, &e.col)) != 0 ||
        (r = s_put_origins(w, &e.origin)) != 0 ||
        (r = s_put_rows(w, &e.row)) != 0 ||
        (r = s_put_uints(w, &e, ch, n, S_COLUMN_TABLE)) != 0 ||
        (r = s_put_row_refs(w, &e, n)) != 0 ||
        (r = s_put_uints(w, &e, ch, n, S_COLUMN_COLUMN)) != 0 ||
        (r = s_put_uints(w, &e, ch, n, S_COLUMN_OP)) != 0 ||
        (r = s_put_uints(w, &e, ch, n, S_COLUMN_ORIGIN)) != 0 ||
        (r = s_put_deltas(w, &e, ch, n, false)) != 0 ||
        (r = s_put_deltas(w, &e, ch, n, true)) != 0 ||
        (r = s_put_uints(w, &e, ch, n, S_COLUMN_BASE)) != 0 ||
        (r = s_put_base_hlcs(w, &e, ch, n)) != 0 ||
        (r = s_put_base_origins(w, &e, ch, n)) != 0 ||
        (r = s_put_values(w, &e, ch, n)) != 0)
        goto out;
    r = 0;
out:
    s_enc_free(&e);
    return r;
}

/* ------------------------------------------------------------------ */
/* Decoder.                                                            */

struct cs_changeset {
    struct cs_change *change; /* the decoded changes, at least 1 allocated */
    size_t n;                 /* how many */
    char *arena;              /* every string and value they point to */
};

/* A decoded origin and its delta state. */
struct s_origin {
    struct cs_node_id id; /* the node id */
    uint64_t hlc;         /* HLC of its previous change, 0 before the first */
    uint64_t seq;         /* origin_seq of its previous change, or 0 */
};

/* The decoder's working state. */
struct s_dec {
    struct cs_reader rd;     /* the input */
    const char *why;         /* what was wrong, for the log */
    const char *column;      /* column being read, for the log; NULL
                                before the columns */
    size_t at;               /* change being read in it, for the log */
    const char **table;      /* tables dictionary, into the arena */
    size_t ntables;          /* entries */
    const char **col;        /* columns dictionary, into the arena */
    size_t ncols;            /* entries */
    const char **row;        /* rows dictionary (text), into the arena */
    size_t nrows;            /* entries */
    struct s_origin *origin; /* origins dictionary */
    size_t norigins;         /* entries */
    size_t text_bytes;       /* arena bytes the dictionaries need */
    char *arena;             /* NULL while only counting */
    size_t arena_len;        /* bytes at arena */
    size_t arena_used;       /* bytes handed out */
    struct s_ref *ref;       /* per change: its indexes as read */
    size_t nbases;           /* changes with a base */
    uint32_t *order;         /* change indexes in the values' order */
};
/* Records why decoding stops (the first reason only) and returns r.
     d    the decoder
     r    the error
     why  what was wrong, a static string for the log */
CS_MUST_CHECK static int
s_fail(struct s_dec *d, int r, const char *why)
{
    if (d->why == NULL)
        d->why = why;
    return r;
}

/* Copies bytes into the arena, with a NUL after them.
     d    the decoder, its arena allocated
     p    the bytes
     n    their number
     out  receives the copy
   The arena was sized so that this cannot run out; if it does, that is a
   bug here, refused with CS_ERR_INTERNAL rather than overflowed. */
CS_MUST_CHECK static int
s_arena_put(struct s_dec *d, const void *p, size_t n, const char **out)
{
    char *dst;

    *out = NULL;
    if (n >= d->arena_len - d->arena_used)
        return s_fail(d, CS_ERR_INTERNAL, "arena too small");
    dst = d->arena + d->arena_used;
    if (n > 0)
        memcpy(dst, p, n);
    dst[n] = '\0';
    d->arena_used += n + 1;
    *out = dst;
    return 0;
}

/* Reads the array header of a dictionary.
     d      the decoder
     count  receives the entry count; in the filling pass it holds the
            counting pass's, which must be the same
     what   the dictionary's name, for the log */
CS_MUST_CHECK static int
s_read_dict_head(struct s_dec *d, size_t *count, const char *what)
{
    size_t n;
    int r;

    if ((r = cs_reader_array(&d->rd, &n, CS_CHANGESET_DICT_MAX)) != 0)
        return s_fail(d, r, what);
    if (d->arena != NULL && n != *count)
        return s_fail(d, CS_ERR_INTERNAL, what);
    *count = n;
    return 0;
}

/* Reads the tables or columns dictionary.
     d         the decoder
     names     NULL in the counting pass, which adds up the bytes the
               names need; else receives them, copied into the arena
     count     the entry count (as s_read_dict_head())
     empty_ok  whether "" is a name (columns)
     what      the dictionary's name, for the log */
CS_MUST_CHECK static int
s_read_names(struct s_dec *d, const char **names, size_t *count, bool empty_ok,
             const char *what)
{
    struct cs_view v;
    int r;

    if ((r = s_read_dict_head(d, count, what)) != 0)
        return r;
    for (size_t i = 0; i < *count; i++) {
        if ((r = cs_reader_str(&d->rd, &v, CS_NAME_MAX)) != 0)
            return s_fail(d, r, what);
        if (!s_name_ok(v.p, v.len, empty_ok))
            return s_fail(d, CS_ERR_FORMAT, what);
        if (names == NULL)
            d->text_bytes += v.len + 1;
        else if ((r = s_arena_put(d, v.p, v.len, &names[i])) != 0)
            return r;
    }
    return 0;
}

/* Reads the origins dictionary; copies the ids in the filling pass, when
   d->origin is allocated. */
CS_MUST_CHECK static int
s_read_origins(struct s_dec *d)
{
    struct cs_view v;
    int r;

    if ((r = s_read_dict_head(d, &d->norigins, "origins")) != 0)
        return r;
    for (size_t i = 0; i < d->norigins; i++) {
        if ((r = cs_reader_bin(&d->rd, &v, CS_NODE_ID_BYTES)) != 0)
            return s_fail(d, r, "an origin");
        if (v.len != CS_NODE_ID_BYTES)
            return s_fail(d, CS_ERR_FORMAT, "an origin not 16 bytes");
        if (d->origin != NULL)
            memcpy(d->origin[i].id.b, v.p, CS_NODE_ID_BYTES);
    }
    return 0;
}

/* Reads one entry of the rows dictionary into *out, its text copied
   into the arena; or, when out is NULL (counting pass), adds up the bytes
   that text needs. */
CS_MUST_CHECK static int
s_read_row(struct s_dec *d, const char **out)
{
    enum cs_mp_type t;
    struct cs_view v;
    char text[CS_ID_TEXT_LEN + 1];
    int r;

    if ((r = cs_reader_peek_type(&d->rd, &t)) != 0)
        return s_fail(d, r, "a row id");
    if (t == CS_MP_BIN) {
        if ((r = cs_reader_bin(&d->rd, &v, S_UUID_BYTES)) != 0)
            return s_fail(d, r, "a row id");
        if (v.len != S_UUID_BYTES)
            return s_fail(d, CS_ERR_FORMAT, "a binary row id not 16 bytes");
        s_uuid_text(v.p, text);
        if (!cs_id_is_uuid7(text))
            return s_fail(d, CS_ERR_FORMAT, "a binary row id not a UUIDv7");
        if (out == NULL) {
            d->text_bytes += CS_ID_TEXT_LEN + 1;
            return 0;
        }
        return s_arena_put(d, text, CS_ID_TEXT_LEN, out);
    }
    if ((r = cs_reader_str(&d->rd, &v, CS_ID_MAX)) != 0)
        return s_fail(d, r, "a row id");
    if (!s_row_id_ok(v.p, v.len))
        return s_fail(d, CS_ERR_FORMAT, "a bad row id");
    if (v.len == CS_ID_TEXT_LEN) {
        /* One id, one spelling: a UUIDv7 travels as binary. */
        memcpy(text, v.p, CS_ID_TEXT_LEN);
        text[CS_ID_TEXT_LEN] = '\0';
        if (cs_id_is_uuid7(text))
            return s_fail(d, CS_ERR_FORMAT, "a UUIDv7 row id as text");
    }
    if (out == NULL) {
        d->text_bytes += v.len + 1;
        return 0;
    }
    return s_arena_put(d, v.p, v.len, out);
}

/* Reads the four dictionaries: counting them when d->arena is NULL,
   filling the arrays allocated by s_dec_alloc() otherwise. */
CS_MUST_CHECK static int
s_read_dicts(struct s_dec *d)
{
    int r;

    if ((r = s_read_names(d, d->table, &d->ntables, false, "tables")) != 0 ||
        (r = s_read_names(d, d->col, &d->ncols, true, "columns")) != 0 ||
        (r = s_read_origins(d)) != 0 ||
        (r = s_read_dict_head(d, &d->nrows, "rows")) != 0)
        return r;
    for (size_t i = 0; i < d->nrows; i++)
        if ((r = s_read_row(d, d->arena != NULL ? &d->row[i] : NULL)) != 0)
            return r;
    return 0;
}

/* Allocates the dictionaries and the arena once the counting pass has
   sized them: the arena holds the dictionaries' text and at most the
   bytes left after them (see the design note). */
static void
s_dec_alloc(struct s_dec *d, struct cs_changeset *cs)
{
    d->table = cs_xcalloc(d->ntables + 1, sizeof *d->table);
    d->col = cs_xcalloc(d->ncols + 1, sizeof *d->col);
    d->row = cs_xcalloc(d->nrows + 1, sizeof *d->row);
    d->origin = cs_xcalloc(d->norigins + 1, sizeof *d->origin);
    d->arena_len = d->text_bytes + cs_reader_left(&d->rd) + 1;
    cs->arena = cs_xmalloc(d->arena_len);
    d->arena = cs->arena;
}

static void
s_dec_free(struct s_dec *d)
{
    free(d->table);
    free(d->col);
    free(d->row);
    free(d->origin);
    free(d->ref);
    free(d->order);
    memset(d, 0, sizeof *d);
}

/* Reads an index into a dictionary.
     d      the decoder
     count  the dictionary's entries; the index must be below
     i      receives the index
     what   the field's name, for the log */
CS_MUST_CHECK static int
s_read_index(struct s_dec *d, size_t count, size_t *i, const char *what)
{
    uint64_t v;
    int r;

    *i = 0;
    if ((r = cs_reader_uint(&d->rd, &v)) != 0)
        return s_fail(d, r, what);
    if (v >= count)
        return s_fail(d, CS_ERR_FORMAT, what);
    *i = (size_t)v;
    return 0;
}

/* Adds a delta of the wire to a clock or sequence number.
     d      the decoder
     base   what the delta is relative to, at most INT64_MAX
     delta  the delta read
     out    receives base + delta
     what   the field's name, for the log
   Returns 0, or CS_ERR_FORMAT when the sum falls outside 0..INT64_MAX
   (computed without overflow). */
CS_MUST_CHECK static int
s_add_delta(struct s_dec *d, uint64_t base, int64_t delta, uint64_t *out,
            const char *what)
{
    *out = 0;
    if (delta > 0 && (uint64_t)delta > (uint64_t)INT64_MAX - base)
        return s_fail(d, CS_ERR_FORMAT, what);
    if (delta < 0 && (uint64_t)(-(delta + 1)) >= base)
        return s_fail(d, CS_ERR_FORMAT, what);
    *out = delta >= 0 ? base + (uint64_t)delta
                      : base - (uint64_t)(-(delta + 1)) - 1;
    return 0;
}

/* Reads a value into *v, its bytes into the arena. */
CS_MUST_CHECK static int
s_read_value(struct s_dec *d, struct cs_value *v)
{
    enum cs_mp_type t;
    struct cs_view view;
    const char *copy;
    int r;

    memset(v, 0, sizeof *v);
    v->type = CS_VALUE_NULL;
    if ((r = cs_reader_peek_type(&d->rd, &t)) != 0)
        return s_fail(d, r, "a value");
    switch (t) {
    case CS_MP_NIL:
        r = cs_reader_nil(&d->rd);
        break;
    case CS_MP_UINT:
    case CS_MP_INT:
        v->type = CS_VALUE_INTEGER;
        r = cs_reader_int(&d->rd, &v->i);
        break;
    case CS_MP_FLOAT:
        v->type = CS_VALUE_FLOAT;
        r = cs_reader_double(&d->rd, &v->d);
        break;
    case CS_MP_STR:
    case CS_MP_BIN:
        v->type = t == CS_MP_STR ? CS_VALUE_TEXT : CS_VALUE_BLOB;
        r = t == CS_MP_STR ? cs_reader_str(&d->rd, &view, CS_TEXT_MAX)
                           : cs_reader_bin(&d->rd, &view, CS_TEXT_MAX);
        if (r != 0)
            break;
        /* UTF-8 is checked with the other rules, by s_value_problem(). */
        if ((r = s_arena_put(d, view.p, view.len, &copy)) != 0)
            return r;
        v->p = copy;
        v->len = view.len;
        break;
    default:
        r = CS_ERR_FORMAT;
        break;
    }
    return r != 0 ? s_fail(d, r, "a value") : 0;
}

/* Reads the header of a column.
     d     the decoder
     want  the entries it must have: the number of changes, or for the
           base columns the number of changes with a base
     what  the column's name, for the log */
CS_MUST_CHECK static int
s_read_column(struct s_dec *d, size_t want, const char *what)
{
    size_t n;
    int r;

    d->column = what;
    d->at = 0;
    if ((r = cs_reader_array(&d->rd, &n, CS_BATCH_CHANGES_MAX)) != 0)
        return s_fail(d, r, "a column");
    if (n != want)
        return s_fail(d, CS_ERR_FORMAT, "a column of the wrong length");
    return 0;
}

/* Reads the table column, whose length is the number of changes, and
   allocates the changes once that number is known to fit the bytes left
   (PROTOCOL.md "Layout"). */
CS_MUST_CHECK static int
s_read_tables(struct s_dec *d, struct cs_changeset *cs)
{
    size_t ti;
    int r;

    d->column = "table";
    d->at = 0;
    if ((r = cs_reader_array(&d->rd, &cs->n, CS_BATCH_CHANGES_MAX)) != 0)
        return s_fail(d, r, "changes");
    /* A change takes at least one byte in each of the columns of one
       entry per change, this one included. */
    if (cs->n > cs_reader_left(&d->rd) / S_CHANGE_COLUMNS)
        return s_fail(d, CS_ERR_TRUNCATED, "columns too short for the changes");
    cs->change = cs_xcalloc(cs->n + 1, sizeof *cs->change);
    d->ref = cs_xcalloc(cs->n + 1, sizeof *d->ref);
    for (d->at = 0; d->at < cs->n; d->at++) {
        if ((r = s_read_index(d, d->ntables, &ti, "table index")) != 0)
            return r;
        d->ref[d->at].table = (uint32_t)ti;
        cs->change[d->at].table = d->table[ti];
    }
    return 0;
}

/* Reads the row column: each entry says how far the change's row index
   lies below the next new one, 1 + the highest index named so far
   (PROTOCOL.md "Row references"). */
CS_MUST_CHECK static int
s_read_row_refs(struct s_dec *d, struct cs_changeset *cs)
{
    size_t next = 0, ri;
    uint64_t back;
    int r;

    if ((r = s_read_column(d, cs->n, "row")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        if ((r = cs_reader_uint(&d->rd, &back)) != 0)
            return s_fail(d, r, "row reference");
        if (back > next)
            return s_fail(d, CS_ERR_FORMAT, "a row reference before row 0");
        ri = next - (size_t)back;
        if (ri >= d->nrows)
            return s_fail(d, CS_ERR_FORMAT, "a row reference past the rows");
        if (ri == next)
            next++;
        d->ref[d->at].row = (uint32_t)ri;
        cs->change[d->at].row_id = d->row[ri];
    }
    return 0;
}

/* Reads the column column: indexes into the columns dictionary. */
CS_MUST_CHECK static int
s_read_cols(struct s_dec *d, struct cs_changeset *cs)
{
    size_t ci;
    int r;

    if ((r = s_read_column(d, cs->n, "column")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        if ((r = s_read_index(d, d->ncols, &ci, "column index")) != 0)
            return r;
        d->ref[d->at].col = (uint32_t)ci;
        cs->change[d->at].col = d->col[ci];
    }
    return 0;
}

/* Reads the op column; an op must suit its change's column. */
CS_MUST_CHECK static int
s_read_ops(struct s_dec *d, struct cs_changeset *cs)
{
    uint64_t op;
    const char *why;
    int r;

    if ((r = s_read_column(d, cs->n, "op")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        struct cs_change *c = &cs->change[d->at];
        if ((r = cs_reader_uint(&d->rd, &op)) != 0)
            return s_fail(d, r, "op");
        if (op < CS_OP_SET || op > CS_OP_RST)
            return s_fail(d, CS_ERR_FORMAT, "an unknown op");
        c->op = (enum cs_op)op;
        if ((why = s_shape_problem(c->op, c->col)) != NULL)
            return s_fail(d, CS_ERR_FORMAT, why);
    }
    return 0;
}

/* Reads the origin column: indexes into the origins dictionary. */
CS_MUST_CHECK static int
s_read_origin_refs(struct s_dec *d, struct cs_changeset *cs)
{
    size_t oi;
    int r;

    if ((r = s_read_column(d, cs->n, "origin")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        if ((r = s_read_index(d, d->norigins, &oi, "origin index")) != 0)
            return r;
        d->ref[d->at].origin = (uint32_t)oi;
        cs->change[d->at].origin = d->origin[oi].id;
    }
    return 0;
}

/* Reads the hlc column (seq false) or the seq column (seq true): each
   entry is the difference from the previous change of the same origin
   (PROTOCOL.md "Differences"). */
CS_MUST_CHECK static int
s_read_deltas(struct s_dec *d, struct cs_changeset *cs, bool seq)
{
    const char *what = seq ? "origin_seq" : "hlc";
    int64_t delta;
    int r;

    if ((r = s_read_column(d, cs->n, what)) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        struct cs_change *c = &cs->change[d->at];
        struct s_origin *o = &d->origin[d->ref[d->at].origin];
        uint64_t *last = seq ? &o->seq : &o->hlc;
        uint64_t *v = seq ? &c->origin_seq : &c->hlc.t;
        if ((r = cs_reader_int(&d->rd, &delta)) != 0)
            return s_fail(d, r, what);
        if ((r = s_add_delta(d, *last, delta, v, what)) != 0)
            return r;
        if (seq && *v == 0)
            return s_fail(d, CS_ERR_FORMAT, "origin_seq 0");
        *last = *v;
    }
    return 0;
}

/* Reads the base column: S_BASE_SOME for a change with a base, else
   S_BASE_NONE; counts the bases. */
CS_MUST_CHECK static int
s_read_base_flags(struct s_dec *d, struct cs_changeset *cs)
{
    uint64_t flag;
    int r;

    if ((r = s_read_column(d, cs->n, "base")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        if ((r = cs_reader_uint(&d->rd, &flag)) != 0)
            return s_fail(d, r, "base flag");
        if (flag != S_BASE_NONE && flag != S_BASE_SOME)
            return s_fail(d, CS_ERR_FORMAT, "a base flag not 0 or 1");
        cs->change[d->at].has_base = flag == S_BASE_SOME;
        d->nbases += flag == S_BASE_SOME;
    }
    return 0;
}

/* Reads the base hlc column: one entry per change with a base, its base
   HLC minus s_base_ref() (PROTOCOL.md "Differences"). */
CS_MUST_CHECK static int
s_read_base_hlcs(struct s_dec *d, struct cs_changeset *cs)
{
    int64_t delta, offset = 0;
    int r;

    if ((r = s_read_column(d, d->nbases, "base hlc")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        struct cs_change *c = &cs->change[d->at];
        if (!c->has_base)
            continue;
        if ((r = cs_reader_int(&d->rd, &delta)) != 0)
            return s_fail(d, r, "base hlc");
        if ((r = s_add_delta(d, s_base_ref(c->hlc.t, offset), delta,
                             &c->base_hlc.t, "base hlc")) != 0)
            return r;
        offset = s_base_offset(c->base_hlc.t, c->hlc.t);
    }
    return 0;
}

/* Reads the base origin column: one index into origins per change with a
   base. */
CS_MUST_CHECK static int
s_read_base_origins(struct s_dec *d, struct cs_changeset *cs)
{
    size_t bi;
    int r;

    if ((r = s_read_column(d, d->nbases, "base origin")) != 0)
        return r;
    for (d->at = 0; d->at < cs->n; d->at++) {
        struct cs_change *c = &cs->change[d->at];
        if (!c->has_base)
            continue;
        if ((r = s_read_index(d, d->norigins, &bi, "base origin index")) != 0)
            return r;
        d->ref[d->at].base_origin = (uint32_t)bi;
        c->base_origin = d->origin[bi].id;
    }
    return 0;
}

/* Reads the value column: the changes' values grouped by column index,
   in change order within a column (s_order_by_column()); a value must
   suit its change's op. */
CS_MUST_CHECK static int
s_read_values(struct s_dec *d, struct cs_changeset *cs)
{
    const char *why;
    int r;

    if ((r = s_read_column(d, cs->n, "value")) != 0)
        return r;
    d->order = cs_xcalloc(cs->n + 1, sizeof *d->order);
    s_order_by_column(d->ref, cs->n, d->ncols, d->order);
    for (size_t k = 0; k < cs->n; k++) {
        struct cs_change *c = &cs->change[d->order[k]];
        d->at = d->order[k];
        if ((r = s_read_value(d, &c->value)) != 0)
            return r;
        if ((why = s_value_problem(c->op, &c->value)) != NULL)
            return s_fail(d, CS_ERR_FORMAT, why);
    }
    return 0;
}

int
cs_changeset_decode(const uint8_t *p, size_t len, struct cs_changeset **out)
{
    struct cs_changeset *cs = NULL;
    struct s_dec d;
    struct cs_reader dicts;
    size_t fields;
    uint64_t format;
    int r;

    assert(p != NULL || len == 0);
    assert(out != NULL);
    *out = NULL;
    memset(&d, 0, sizeof d);
    if (len > CS_PAYLOAD_RAW_MAX) {
        r = s_fail(&d, CS_ERR_TOO_BIG, "input over CS_PAYLOAD_RAW_MAX");
        goto out;
    }
    cs_reader_init(&d.rd, p, len);
    /* Any field count is read so that a later format, whatever its
       shape, is refused for its number (CS_ERR_FORMAT). */
    if ((r = cs_reader_array(&d.rd, &fields, SIZE_MAX)) != 0 ||
        (r = cs_reader_uint(&d.rd, &format)) != 0) {
        r = s_fail(&d, r, "changeset header");
        goto out;
    }
    if (format != CS_CHANGESET_FORMAT || fields != S_TOP_FIELDS) {
        r = s_fail(&d, CS_ERR_FORMAT, "unknown changeset format");
        goto out;
    }
    dicts = d.rd;
    if ((r = s_read_dicts(&d)) != 0)
        goto out;
    cs = cs_xcalloc(1, sizeof *cs);
    s_dec_alloc(&d, cs);
    d.rd = dicts;
    /* PROTOCOL.md "Layout", element by element. */
    if ((r = s_read_dicts(&d)) != 0 || (r = s_read_tables(&d, cs)) != 0 ||
        (r = s_read_row_refs(&d, cs)) != 0 || (r = s_read_cols(&d, cs)) != 0 ||
        (r = s_read_ops(&d, cs)) != 0 ||
        (r = s_read_origin_refs(&d, cs)) != 0 ||
        (r = s_read_deltas(&d, cs, false)) != 0 ||
        (r = s_read_deltas(&d, cs, true)) != 0 ||
        (r = s_read_base_flags(&d, cs)) != 0 ||
        (r = s_read_base_hlcs(&d, cs)) != 0 ||
        (r = s_read_base_origins(&d, cs)) != 0 ||
        (r = s_read_values(&d, cs)) != 0)
        goto out;
    d.column = NULL;
    if ((r = cs_reader_end(&d.rd)) != 0) {
        r = s_fail(&d, r, "bytes after the changeset");
        goto out;
    }
    *out = cs;
    cs = NULL;
    r = 0;
out:
    if (r != 0 && cs_log_enabled(CS_LOG_DEBUG)) {
        if (d.column != NULL)
            cs_log_debug("changeset refused at byte %zu, %s column, change "
                         "%zu: %s: %s",
                         len - cs_reader_left(&d.rd), d.column, d.at,
                         d.why ? d.why : "?", cs_strerror(r));
        else
            cs_log_debug("changeset refused at byte %zu: %s: %s",
                         len - cs_reader_left(&d.rd), d.why ? d.why : "?",
                         cs_strerror(r));
    }
    s_dec_free(&d);
    cs_changeset_destroy(&cs);
    return r;
}

void
cs_changeset_destroy(struct cs_changeset **cs)
{
    assert(cs != NULL);
    if (*cs == NULL)
        return;
    free((*cs)->change);
    free((*cs)->arena);
    free(*cs);
    *cs = NULL;
}

size_t
cs_changeset_count(const struct cs_changeset *cs)
{
    assert(cs != NULL);
    return cs->n;
}

const struct cs_change *
cs_changeset_at(const struct cs_changeset *cs, size_t i)
{
    assert(cs != NULL);
    assert(i < cs->n);
    return &cs->change[i];
}

const struct cs_change *
cs_changeset_changes(const struct cs_changeset *cs)
{
    assert(cs != NULL);
    return cs->change;
}
