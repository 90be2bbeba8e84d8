/*  tests/unit/changeset_test.c - tests of proto/changeset.c.
 *
 *  Round trips of 0, 1, 10, 1000 and 100,000 changes of realistic data
 *  made by a seeded generator (an office's day: new CIGs and persons with
 *  Cyrillic names, status changes with bases, letters of 300-2000
 *  characters, NULLs, integers, floats, attachments, deletes with their
 *  ACKs, restores, several origins, a few non-UUID row ids); the same
 *  input always encodes to the same bytes; the compact form is measured
 *  against a naive one (every change spelled out) before and after zstd.
 *  The vectors changeset-1 and changeset-2-bad-index decode to their
 *  expect lines, and changeset-1 is exactly what the encoder writes for
 *  its changes; values travel grouped by column.  Then STYLE.md 37: every
 *  truncation, every byte flipped to every other value, and a table of
 *  hand-made encodings (wrong types, oversized counts and lengths,
 *  columns of the wrong length, indexes and row references out of range,
 *  base flags and base columns that disagree, bad names, ids, values,
 *  clocks and sequence numbers, trailing bytes), each with the error it
 *  must give; and changes the encoder must refuse.  Last, the fuzz seed
 *  corpus tests/fuzz/corpus/changeset/ is what this file makes of the
 *  generator and the vectors (CS_WRITE_CORPUS=DIR writes it anew).
 */
#include "proto_prelude.h"

#include <math.h>

#include "changeset.h"
#include "err.h"
#include "hlc.h"
#include "id.h"
#include "key.h"
#include "mem.h"
#include "test.h"
/* vectors.h's snprintf of the error line trips gcc's -Wformat-truncation
   at -O2; silence it for that header only (as envelope_test.c does). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "vectors.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "writer.h"

#define T0_MS 1795757881123ULL       /* 2026-11-27T05:38:01.123Z */
#define DAY_MS (24ULL * 3600 * 1000) /* ms in a day */
#define ORIGINS_MAX 4                /* origins a generated set uses */
#define HEX_MAX 1024                 /* bytes of a hand-made encoding */
#define VECTOR_CHANGES 4             /* changes of changeset-1.vec */
/* Bytes every changeset has whatever its changes: the array header of 16
   elements, the format and the headers of 4 dictionaries and 11 columns
   (PROTOCOL.md "Layout"), so a one-change list is no shorter than that
   change spelled out. */
#define FIXED_BYTES 19

/* ------------------------------------------------------------------ */
/* A deterministic generator of realistic changes.                     */

/* Who writes what, in percent of transactions (they add up to 100). */
struct mix {
    int new_cig;    /* INS + 6 SETs */
    int new_person; /* INS + up to 8 SETs, Cyrillic names */
    int status;     /* SET of a status with base */
    int letter;     /* INS of a letter_version with a long body */
    int attend;     /* SET attendance.completed = 1 with base */
    int del;        /* DEL + ACK of every field with base */
    int rst;        /* RST with base */
    int blob;       /* INS of an attachment with content */
    int real;       /* SET of a float */
    int null;       /* SET person.phone = NULL with base */
};

static const struct mix MIX_DAY = {5, 15, 30, 8, 20, 4, 1, 2, 5, 10};
static const struct mix MIX_STATUS = {0, 0, 85, 0, 10, 0, 0, 0, 0, 5};

/* A row the generator may change again. */
struct row {
    const char *table; /* its table */
    const char *id;    /* its id (owned by the set) */
    uint64_t hlc;      /* last change to it */
    int origin;        /* by whom */
    bool alive;        /* not deleted */
};

/* A generated set of changes; owns every string they point to. */
struct set {
    struct cs_change *ch;                  /* the changes */
    size_t n;                              /* how many */
    size_t cap;                            /* allocated */
    char **owned;                          /* strings to free */
    size_t nowned;                         /* how many */
    size_t capowned;                       /* allocated */
    struct row *row;                       /* rows known so far */
    size_t nrows;                          /* how many */
    size_t caprows;                        /* allocated */
    uint64_t rng;                          /* splitmix64 state */
    int norigins;                          /* origins in use, 1..ORIGINS_MAX */
    struct cs_node_id origin[ORIGINS_MAX]; /* their ids */
    uint64_t hlc[ORIGINS_MAX];             /* their clocks */
    uint64_t seq[ORIGINS_MAX];             /* their last origin_seq */
};

static uint64_t
rnd(struct set *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Returns a number in lo..hi. */
static size_t
rnd_in(struct set *s, size_t lo, size_t hi)
{
    return lo + (size_t)(rnd(s) % (hi - lo + 1));
}

static const char *
pick(struct set *s, const char *const *list, size_t n)
{
    return list[rnd(s) % n];
}

#define PICK(s, list) pick((s), (list), sizeof(list) / sizeof(list)[0])

static const char *const FAMILY[] = {
    "Абдыкадырова", "Токтосунов", "Жумабаева", "Исаков",     "Мамытова",
    "Осмонов",      "Турдубаева", "Кадыров",   "Эсенгулова", "Бообеков"};
static const char *const GIVEN[] = {"Айгүл",  "Бактыгүл", "Нурлан",
                                    "Эрмек",  "Гүлнара",  "Азамат",
                                    "Чолпон", "Жылдыз",   "Талант"};
static const char *const PATRONYMIC[] = {"Асановна", "Маратовна", "Бакытович",
                                         "Омурбек кызы", "Токтогул уулу"};
static const char *const SETTLEMENT[] = {"Исфана", "Кочкор", "Баткен",
                                         "Сулюкта", "Кызыл-Кия"};
static const char *const WORDS[] = {
    "жамаат", "суу",          "жол",     "мектеп",   "оорукана",
    "айыл",   "өкмөтү",       "кат",     "долбоор",  "бюджет",
    "балдар", "бакча",        "көпүрө",  "таза",     "ичүүчү",
    "просим", "рассмотреть",  "вопрос",  "ремонта",  "водопровода",
    "в",      "селе",         "и",       "выделить", "средства",
    "из",     "местного",     "бюджета", "на",       "2027",
    "год.",   "Инициативная", "группа",  "жителей",  "улицы"};
static const char *const CIG_STATUS[] = {"forming", "active", "dormant",
                                         "closed"};
static const char *const LETTER_STATUS[] = {"draft", "in_review", "approved",
                                            "sent",  "answered",  "closed"};

/* Keeps s, a malloc'd string, until the set is freed. */
static const char *
own(struct set *set, char *s)
{
    if (set->nowned == set->capowned) {
        set->capowned = set->capowned ? set->capowned * 2 : 64;
        set->owned =
            cs_xrealloc(set->owned, set->capowned * sizeof *set->owned);
    }
    set->owned[set->nowned++] = s;
    return s;
}

/* Returns Cyrillic prose of about chars characters (owned by set). */
static const char *
prose(struct set *s, size_t chars)
{
    size_t cap = chars * 4 + 64, len = 0, n = 0;
    char *out = cs_xmalloc(cap);

    while (n < chars) {
        const char *w = PICK(s, WORDS);
        size_t wl = strlen(w);
        if (len + wl + 2 > cap)
            break;
        if (len > 0)
            out[len++] = ' ';
        memcpy(out + len, w, wl);
        len += wl;
        for (size_t i = 0; i < wl; i++)
            n += ((unsigned char)w[i] & 0xc0) != 0x80; /* count characters */
        n++;
    }
    out[len] = '\0';
    return own(s, out);
}

static void
set_init(struct set *s, uint64_t seed, int norigins)
{
    memset(s, 0, sizeof *s);
    s->rng = seed;
    s->norigins = norigins;
    for (int o = 0; o < norigins; o++) {
        for (size_t i = 0; i < CS_NODE_ID_BYTES; i++)
            s->origin[o].b[i] = (uint8_t)rnd(s);
        s->hlc[o] = cs_hlc_make(T0_MS - DAY_MS, 0).t;
        s->seq[o] = rnd_in(s, 1, 50000);
    }
}

static void
set_free(struct set *s)
{
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s->ch);
    free(s->row);
    memset(s, 0, sizeof *s);
}

/* Adds a row of table (a UUIDv7 id, or now and then an imported one). */
static struct row *
new_row(struct set *s, const char *table, uint64_t hlc, int origin)
{
    struct row *r;
    uint8_t bytes[CS_ID_RANDOM_BYTES];
    char *id = cs_xmalloc(CS_ID_MAX + 1);

    if (s->nrows == s->caprows) {
        s->caprows = s->caprows ? s->caprows * 2 : 64;
        s->row = cs_xrealloc(s->row, s->caprows * sizeof *s->row);
    }
    r = &s->row[s->nrows++];
    memset(r, 0, sizeof *r);
    r->table = table;
    r->hlc = hlc;
    r->origin = origin;
    r->alive = true;
    r->id = own(s, id);
    if (rnd(s) % 20 == 0) {
        snprintf(id, CS_ID_MAX + 1, "KOC-%s-%04u", table,
                 (unsigned)(rnd(s) % 10000));
        return r;
    }
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)rnd(s);
    cs_id_new_at(id, hlc >> CS_HLC_COUNTER_BITS, bytes);
    return r;
}

/* Returns a living row of table, or NULL. */
static struct row *
find_row(struct set *s, const char *table)
{
    for (int tries = 0; tries < 16 && s->nrows > 0; tries++) {
        struct row *r = &s->row[rnd(s) % s->nrows];
        if (r->alive && strcmp(r->table, table) == 0)
            return r;
    }
    return NULL;
}

/* Appends one change of origin o at hlc to row r; returns it. */
static struct cs_change *
push(struct set *s, int o, uint64_t hlc, struct row *r, const char *col,
     enum cs_op op, bool base)
{
    struct cs_change *c;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ch = cs_xrealloc(s->ch, s->cap * sizeof *s->ch);
    }
    c = &s->ch[s->n++];
    memset(c, 0, sizeof *c);
    c->table = r->table;
    c->row_id = r->id;
    c->col = col;
    c->op = op;
    c->value.type = CS_VALUE_NULL;
    c->hlc.t = hlc;
    c->origin = s->origin[o];
    c->origin_seq = ++s->seq[o];
    c->has_base = base;
    if (base) {
        c->base_hlc.t = r->hlc;
        c->base_origin = s->origin[r->origin];
    }
    return c;
}

static void
set_text(struct cs_change *c, const char *text)
{
    c->value.type = CS_VALUE_TEXT;
    c->value.p = text;
    c->value.len = strlen(text);
}

static void
set_int(struct cs_change *c, int64_t i)
{
    c->value.type = CS_VALUE_INTEGER;
    c->value.i = i;
}

/* Adds one transaction of origin o, chosen by mix. */
static void
gen_txn(struct set *s, const struct mix *m, int o)
{
    static const char *const PERSON_TEXT[] = {"family_name", "given_name",
                                              "patronymic", "settlement"};
    static const char *const DEL_TABLES[] = {"person", "cig", "letter"};
    struct row *r;
    struct cs_change *c;
    uint64_t hlc;
    int roll = (int)(rnd(s) % 100);

    /* 2 s to 3 min since this origin's previous edit */
    s->hlc[o] += (uint64_t)rnd_in(s, 2000, 180000) << CS_HLC_COUNTER_BITS;
    hlc = s->hlc[o];
    if ((roll -= m->new_cig) < 0) {
        r = new_row(s, "cig", hlc, o);
        push(s, o, hlc, r, "", CS_OP_INS, false);
        set_text(push(s, o, hlc, r, "office_id", CS_OP_SET, false), "ISF");
        set_text(push(s, o, hlc, r, "name", CS_OP_SET, false), prose(s, 24));
        set_text(push(s, o, hlc, r, "settlement", CS_OP_SET, false),
                 PICK(s, SETTLEMENT));
        set_text(push(s, o, hlc, r, "formed_on", CS_OP_SET, false),
                 "2026-11-27");
        set_text(push(s, o, hlc, r, "status", CS_OP_SET, false), "forming");
        set_text(push(s, o, hlc, r, "focus", CS_OP_SET, false), prose(s, 80));
    } else if ((roll -= m->new_person) < 0) {
        r = new_row(s, "person", hlc, o);
        push(s, o, hlc, r, "", CS_OP_INS, false);
        set_text(push(s, o, hlc, r, "office_id", CS_OP_SET, false), "ISF");
        set_text(push(s, o, hlc, r, PERSON_TEXT[0], CS_OP_SET, false),
                 PICK(s, FAMILY));
        set_text(push(s, o, hlc, r, PERSON_TEXT[1], CS_OP_SET, false),
                 PICK(s, GIVEN));
        set_text(push(s, o, hlc, r, PERSON_TEXT[2], CS_OP_SET, false),
                 PICK(s, PATRONYMIC));
        set_text(push(s, o, hlc, r, "sex", CS_OP_SET, false),
                 rnd(s) % 3 ? "female" : "male");
        set_int(push(s, o, hlc, r, "birth_year", CS_OP_SET, false),
                (int64_t)rnd_in(s, 1950, 2008));
        if (rnd(s) % 2)
            set_text(push(s, o, hlc, r, "phone", CS_OP_SET, false),
                     own(s, cs_xasprintf("+996 %03u %06u",
                                         (unsigned)rnd_in(s, 500, 779),
                                         (unsigned)rnd_in(s, 0, 999999))));
        set_text(push(s, o, hlc, r, PERSON_TEXT[3], CS_OP_SET, false),
                 PICK(s, SETTLEMENT));
    } else if ((roll -= m->status) < 0) {
        bool cig = rnd(s) % 2;
        if ((r = find_row(s, cig ? "cig" : "letter")) == NULL)
            r = new_row(s, cig ? "cig" : "letter",
                        hlc - (rnd_in(s, 1, 30) * DAY_MS << 16),
                        (int)(rnd(s) % (uint64_t)s->norigins));
        set_text(push(s, o, hlc, r, "status", CS_OP_SET, true),
                 cig ? PICK(s, CIG_STATUS) : PICK(s, LETTER_STATUS));
        r->hlc = hlc;
        r->origin = o;
    } else if ((roll -= m->letter) < 0) {
        const char *letter = new_row(s, "letter", hlc, o)->id;
        r = new_row(s, "letter_version", hlc, o); /* moves s->row */
        push(s, o, hlc, r, "", CS_OP_INS, false);
        set_text(push(s, o, hlc, r, "office_id", CS_OP_SET, false), "ISF");
        set_text(push(s, o, hlc, r, "letter_id", CS_OP_SET, false), letter);
        set_int(push(s, o, hlc, r, "version_no", CS_OP_SET, false),
                (int64_t)rnd_in(s, 1, 4));
        set_text(push(s, o, hlc, r, "body", CS_OP_SET, false),
                 prose(s, rnd_in(s, 300, 2000)));
        set_text(push(s, o, hlc, r, "author", CS_OP_SET, false),
                 PICK(s, FAMILY));
    } else if ((roll -= m->attend) < 0) {
        if ((r = find_row(s, "attendance")) == NULL)
            r = new_row(s, "attendance", hlc - (DAY_MS << 16), o);
        set_int(push(s, o, hlc, r, "completed", CS_OP_SET, true), 1);
        r->hlc = hlc;
        r->origin = o;
    } else if ((roll -= m->del) < 0) {
        if ((r = find_row(s, PICK(s, DEL_TABLES))) == NULL)
            return;
        push(s, o, hlc, r, "", CS_OP_DEL, true);
        push(s, o, hlc, r, "status", CS_OP_ACK, true);
        push(s, o, hlc, r, "office_id", CS_OP_ACK, true);
        r->alive = false;
        r->hlc = hlc;
        r->origin = o;
    } else if ((roll -= m->rst) < 0) {
        for (size_t i = 0; i < s->nrows; i++) {
            r = &s->row[i];
            if (!r->alive) {
                push(s, o, hlc, r, "", CS_OP_RST, true);
                r->alive = true;
                r->hlc = hlc;
                r->origin = o;
                break;
            }
        }
    } else if ((roll -= m->blob) < 0) {
        size_t len = rnd_in(s, 200, 2000);
        uint8_t *bytes = cs_xmalloc(len);
        for (size_t i = 0; i < len; i++)
            bytes[i] = (uint8_t)rnd(s);
        own(s, (char *)bytes);
        r = new_row(s, "attachment", hlc, o);
        push(s, o, hlc, r, "", CS_OP_INS, false);
        set_text(push(s, o, hlc, r, "mime", CS_OP_SET, false), "image/jpeg");
        set_int(push(s, o, hlc, r, "bytes", CS_OP_SET, false), (int64_t)len);
        c = push(s, o, hlc, r, "content", CS_OP_SET, false);
        c->value.type = CS_VALUE_BLOB;
        c->value.p = bytes;
        c->value.len = len;
    } else if (roll < m->real) {
        if ((r = find_row(s, "cig")) == NULL)
            r = new_row(s, "cig", hlc - (DAY_MS << 16), o);
        c = push(s, o, hlc, r, "budget_som", CS_OP_SET, true);
        c->value.type = CS_VALUE_FLOAT;
        c->value.d = (double)rnd_in(s, 0, 5000000) / 100.0;
        r->hlc = hlc;
        r->origin = o;
    } else {
        if ((r = find_row(s, "person")) == NULL)
            r = new_row(s, "person", hlc - (DAY_MS << 16), o);
        push(s, o, hlc, r, "phone", CS_OP_SET, true);
        r->hlc = hlc;
        r->origin = o;
    }
}

/* Makes exactly n changes (a last transaction may be cut short). */
static void
gen(struct set *s, size_t n, const struct mix *m)
{
    while (s->n < n)
        gen_txn(s, m, (int)(rnd(s) % (uint64_t)s->norigins));
    s->n = n;
}

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

static bool
value_equal(const struct cs_value *a, const struct cs_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case CS_VALUE_INTEGER:
        return a->i == b->i;
    case CS_VALUE_FLOAT:
        return memcmp(&a->d, &b->d, sizeof a->d) == 0;
    case CS_VALUE_TEXT:
    case CS_VALUE_BLOB:
        return a->len == b->len &&
               (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
    default:
        return true;
    }
}

static bool
change_equal(const struct cs_change *a, const struct cs_change *b)
{
    return strcmp(a->table, b->table) == 0 &&
           strcmp(a->row_id, b->row_id) == 0 && strcmp(a->col, b->col) == 0 &&
           a->op == b->op && value_equal(&a->value, &b->value) &&
           a->hlc.t == b->hlc.t &&
           memcmp(&a->origin, &b->origin, sizeof a->origin) == 0 &&
           a->origin_seq == b->origin_seq && a->has_base == b->has_base &&
           (!a->has_base || (a->base_hlc.t == b->base_hlc.t &&
                             memcmp(&a->base_origin, &b->base_origin,
                                    sizeof a->base_origin) == 0));
}

/* Encodes ch[0..n) into a fresh writer w (caller frees). */
static int
encode(const struct cs_change *ch, size_t n, struct cs_writer *w)
{
    cs_writer_init(w, CS_PAYLOAD_RAW_MAX);
    return cs_changeset_encode(ch, n, w);
}

/* The naive encoding of one change, every field spelled out:
   [table, row_id, col, op, value, hlc, origin, seq, nil | [hlc, origin]]. */
static int
naive_change(struct cs_writer *w, const struct cs_change *c)
{
    int r = 0;

    r = r ? r : cs_writer_mp_array(w, 9);
    r = r ? r : cs_writer_mp_str(w, c->table, strlen(c->table));
    r = r ? r : cs_writer_mp_str(w, c->row_id, strlen(c->row_id));
    r = r ? r : cs_writer_mp_str(w, c->col, strlen(c->col));
    r = r ? r : cs_writer_mp_uint(w, (uint64_t)c->op);
    switch (c->value.type) {
    case CS_VALUE_INTEGER:
        r = r ? r : cs_writer_mp_int(w, c->value.i);
        break;
    case CS_VALUE_FLOAT:
        r = r ? r : cs_writer_mp_double(w, c->value.d);
        break;
    case CS_VALUE_TEXT:
        r = r ? r : cs_writer_mp_str(w, c->value.p, c->value.len);
        break;
    case CS_VALUE_BLOB:
        r = r ? r : cs_writer_mp_bin(w, c->value.p, c->value.len);
        break;
    default:
        r = r ? r : cs_writer_mp_nil(w);
        break;
    }
    r = r ? r : cs_writer_mp_uint(w, c->hlc.t);
    r = r ? r : cs_writer_mp_bin(w, c->origin.b, sizeof c->origin.b);
    r = r ? r : cs_writer_mp_uint(w, c->origin_seq);
    if (!c->has_base)
        return r ? r : cs_writer_mp_nil(w);
    r = r ? r : cs_writer_mp_array(w, 2);
    r = r ? r : cs_writer_mp_uint(w, c->base_hlc.t);
    return r ? r
             : cs_writer_mp_bin(w, c->base_origin.b, sizeof c->base_origin.b);
}

static size_t
naive_size(const struct cs_change *ch, size_t n)
{
    struct cs_writer w;
    size_t len;
    int r;

    cs_writer_init(&w, CS_PAYLOAD_RAW_MAX);
    r = cs_writer_mp_array(&w, (uint32_t)n);
    for (size_t i = 0; i < n && r == 0; i++)
        r = naive_change(&w, &ch[i]);
    len = r == 0 ? cs_writer_len(&w) : 0;
    cs_writer_free(&w);
    return len;
}

static size_t
zstd_size(const uint8_t *p, size_t len)
{
    size_t cap = ZSTD_compressBound(len);
    void *out = cs_xmalloc(cap);
    size_t n = ZSTD_compress(out, cap, p, len, ZSTD_CLEVEL_DEFAULT);
    free(out);
    return ZSTD_isError(n) ? 0 : n;
}

/* Decodes, re-encodes and compares; returns the encoded size or 0. */
static size_t
round_trip(const struct cs_change *ch, size_t n)
{
    struct cs_writer w, again;
    struct cs_changeset *cs = NULL;
    size_t len = 0, bad = 0;

    CS_CHECK_INT(encode(ch, n, &w), 0);
    CS_CHECK_INT(
        cs_changeset_decode(cs_writer_data(&w), cs_writer_len(&w), &cs), 0);
    if (cs == NULL)
        goto out;
    CS_CHECK(cs_changeset_count(cs) == n);
    CS_CHECK(cs_changeset_changes(cs) != NULL);
    for (size_t i = 0; i < n && i < cs_changeset_count(cs); i++)
        if (!change_equal(&ch[i], cs_changeset_at(cs, i)) && bad++ < 5)
            fprintf(stderr, "change %zu differs after the round trip\n", i);
    CS_CHECK(bad == 0);
    /* Encoding the decoded changes gives the same bytes. */
    CS_CHECK_INT(encode(cs_changeset_changes(cs), n, &again), 0);
    CS_CHECK(cs_writer_len(&again) == cs_writer_len(&w) &&
             memcmp(cs_writer_data(&again), cs_writer_data(&w),
                    cs_writer_len(&w)) == 0);
    cs_writer_free(&again);
    len = cs_writer_len(&w);
out:
    cs_changeset_destroy(&cs);
    CS_CHECK(cs == NULL);
    cs_writer_free(&w);
    return len;
}

static void
round_trip_n(size_t n, int norigins, uint64_t seed)
{
    struct set s;
    size_t len, naive;

    set_init(&s, seed, norigins);
    gen(&s, n, &MIX_DAY);
    len = round_trip(s.ch, s.n);
    naive = naive_size(s.ch, s.n);
    printf("  %zu changes, %d origins: %zu bytes (%.1f per change), naive "
           "%zu (%.1f)\n",
           n, norigins, len, n ? (double)len / (double)n : 0.0, naive,
           n ? (double)naive / (double)n : 0.0);
    CS_CHECK(len > 0 && len < naive + FIXED_BYTES);
    if (n >= 10)
        CS_CHECK(len < naive);
    set_free(&s);
}

static void
test_round_trip_0(void)
{
    size_t len = round_trip(NULL, 0);
    CS_CHECK_INT(len, FIXED_BYTES); /* dc 0010 02, then 90 15 times */
}

static void
test_round_trip_1(void)
{
    round_trip_n(1, 1, 1);
}

static void
test_round_trip_10(void)
{
    round_trip_n(10, 1, 10);
}

static void
test_round_trip_1000(void)
{
    round_trip_n(1000, 1, 1000);
    round_trip_n(1000, 3, 1001);
}

static void
test_round_trip_100000(void)
{
    round_trip_n(100000, 3, 100000);
}

/* Fills s with every op and value type, with and without base, and edge
   values: integers and floats, clocks and sequence numbers at their
   limits, base references clamped at INT64_MAX and at 0 (PROTOCOL.md
   "Differences").  name (CS_NAME_MAX + 1 bytes) receives the longest
   table name, which one change names. */
static void
edges_set(struct set *s, char *name)
{
    struct row *r;
    struct cs_change *c;
    static const int64_t ints[] = {0,   1,   -1,        127,      128,
                                   -32, -33, INT64_MAX, INT64_MIN};
    static const double reals[] = {0.0,      -0.0,      1.5,   -1e300,
                                   INFINITY, -INFINITY, 5e-324};

    set_init(s, 42, 2);
    r = new_row(s, "t", T0_MS << 16, 0);
    r->id = "x";
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        set_int(push(s, 0, r->hlc + i, r, "c", CS_OP_SET, i % 2), ints[i]);
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        c = push(s, 1, r->hlc - i, r, "c", CS_OP_SET, true);
        c->value.type = CS_VALUE_FLOAT;
        c->value.d = reals[i];
    }
    set_text(push(s, 0, 0, r, "c", CS_OP_SET, false), "");
    set_text(push(s, 0, INT64_MAX, r, "c", CS_OP_SET, false), "Ж");
    c = push(s, 0, 5, r, "c", CS_OP_SET, true);
    c->value.type = CS_VALUE_TEXT;
    c->value.p = "a\0b"; /* an embedded U+0000 travels */
    c->value.len = 3;
    c->base_hlc.t = INT64_MAX;
    c = push(s, 1, 7, r, "c", CS_OP_SET, false);
    c->value.type = CS_VALUE_BLOB;
    c->value.p = NULL;
    c->value.len = 0;
    push(s, 1, 7, r, "c", CS_OP_SET, false); /* NULL */
    push(s, 1, 8, r, "c", CS_OP_ACK, true);
    /* Base offsets of -INT64_MAX, then INT64_MAX: the references of the
       next bases are clamped to INT64_MAX, to 0, to INT64_MAX. */
    push(s, 0, INT64_MAX, r, "c", CS_OP_ACK, true)->base_hlc.t = 0;
    push(s, 1, 0, r, "c", CS_OP_ACK, true)->base_hlc.t = INT64_MAX;
    push(s, 1, INT64_MAX, r, "c", CS_OP_ACK, true)->base_hlc.t = INT64_MAX;
    push(s, 1, 9, r, "", CS_OP_INS, false);
    push(s, 1, 9, r, "", CS_OP_DEL, true);
    push(s, 1, 9, r, "", CS_OP_RST, true);
    c = push(s, 0, 9, r, "", CS_OP_DEL, true);
    c->origin_seq = INT64_MAX; /* then back down to 1 */
    c = push(s, 0, 9, r, "", CS_OP_RST, false);
    c->origin_seq = 1;
    memset(name, 'a', CS_NAME_MAX);
    name[CS_NAME_MAX] = '\0';
    c->table = name; /* the longest name */
}

static void
test_round_trip_edges(void)
{
    struct set s;
    char name[CS_NAME_MAX + 1];

    edges_set(&s, name);
    round_trip(s.ch, s.n);
    set_free(&s);
}

static void
test_deterministic(void)
{
    struct set a, b;
    struct cs_writer wa, wb;

    set_init(&a, 7, 3);
    set_init(&b, 7, 3);
    gen(&a, 2000, &MIX_DAY);
    gen(&b, 2000, &MIX_DAY);
    CS_CHECK_INT(encode(a.ch, a.n, &wa), 0);
    CS_CHECK_INT(encode(b.ch, b.n, &wb), 0);
    CS_CHECK(cs_writer_len(&wa) == cs_writer_len(&wb) &&
             memcmp(cs_writer_data(&wa), cs_writer_data(&wb),
                    cs_writer_len(&wa)) == 0);
    /* And again from the same array: nothing depends on the hash key. */
    cs_writer_free(&wb);
    CS_CHECK_INT(encode(a.ch, a.n, &wb), 0);
    CS_CHECK(cs_writer_len(&wa) == cs_writer_len(&wb) &&
             memcmp(cs_writer_data(&wa), cs_writer_data(&wb),
                    cs_writer_len(&wa)) == 0);
    cs_writer_free(&wa);
    cs_writer_free(&wb);
    set_free(&a);
    set_free(&b);
}

/* The issue: "repeated table and column names, origin ids and row ids are
   not spelled out per change".  A batch of status changes (the most common
   edit) against the same changes spelled out. */
static void
test_compact(void)
{
    struct set s;
    struct cs_writer w;
    size_t n = 1000, naive, len, zc, zn;
    double per, per_naive;
    struct cs_writer nw;

    set_init(&s, 2026, 1);
    gen(&s, n, &MIX_STATUS);
    CS_REQUIRE(encode(s.ch, s.n, &w) == 0);
    len = cs_writer_len(&w);
    naive = naive_size(s.ch, s.n);
    cs_writer_init(&nw, CS_PAYLOAD_RAW_MAX);
    CS_CHECK_INT(cs_writer_mp_array(&nw, (uint32_t)n), 0);
    for (size_t i = 0; i < n; i++)
        CS_CHECK_INT(naive_change(&nw, &s.ch[i]), 0);
    CS_CHECK(cs_writer_len(&nw) == naive);
    zc = zstd_size(cs_writer_data(&w), len);
    zn = zstd_size(cs_writer_data(&nw), naive);
    per = (double)len / (double)n;
    per_naive = (double)naive / (double)n;
    printf("  %zu status-heavy changes: %.1f bytes/change compact, %.1f "
           "naive (%.0f%%); after zstd -%d: %.1f vs %.1f\n",
           n, per, per_naive, 100.0 * per / per_naive, ZSTD_CLEVEL_DEFAULT,
           (double)zc / (double)n, (double)zn / (double)n);
    CS_CHECK(per < 0.5 * per_naive);
    CS_CHECK(per < 40.0);
    cs_writer_free(&w);
    cs_writer_free(&nw);
    set_free(&s);

    /* And an ordinary day, for the record. */
    set_init(&s, 2027, 1);
    gen(&s, 10000, &MIX_DAY);
    CS_REQUIRE(encode(s.ch, s.n, &w) == 0);
    len = cs_writer_len(&w);
    naive = naive_size(s.ch, s.n);
    printf("  10000 changes of a day: %.1f bytes/change compact, %.1f naive; "
           "after zstd: %.1f\n",
           (double)len / 10000.0, (double)naive / 10000.0,
           (double)zstd_size(cs_writer_data(&w), len) / 10000.0);
    CS_CHECK(len < naive);
    cs_writer_free(&w);
    set_free(&s);
}

/* ------------------------------------------------------------------ */
/* Vectors.                                                            */

static const char *const OP_NAMES[] = {"?", "set", "ack", "ins", "del", "rst"};

/* Renders change c as PROTOCOL.md "Test vectors" describes:
   TABLE ROW COL|- OP [VALUE] hlc=HLC origin=HEX seq=N base=none|HLC@HEX
   Returns a malloc'd line. */
static char *
render(size_t i, const struct cs_change *c)
{
    char hex[CS_NODE_ID_HEX_LEN + 1], when[CS_HLC_TEXT_MAX];
    const uint8_t *p = c->value.p;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    if (f == NULL)
        abort();
    fprintf(f, "change %zu = %s %s %s %s", i, c->table, c->row_id,
            c->col[0] ? c->col : "-",
            c->op >= CS_OP_SET && c->op <= CS_OP_RST ? OP_NAMES[c->op] : "?");
    if (c->op == CS_OP_SET) {
        switch (c->value.type) {
        case CS_VALUE_INTEGER:
            fprintf(f, " %" PRId64, c->value.i);
            break;
        case CS_VALUE_FLOAT:
            fprintf(f, " %.17g", c->value.d);
            break;
        case CS_VALUE_TEXT:
            fputs(" \"", f);
            for (size_t k = 0; k < c->value.len; k++) {
                if (p[k] == '"' || p[k] == '\\')
                    fprintf(f, "\\%c", p[k]);
                else if (p[k] < 0x20 || p[k] == 0x7f)
                    fprintf(f, "\\x%02x", p[k]);
                else
                    fputc(p[k], f);
            }
            fputc('"', f);
            break;
        case CS_VALUE_BLOB:
            fputs(" x'", f);
            for (size_t k = 0; k < c->value.len; k++)
                fprintf(f, "%02x", p[k]);
            fputc('\'', f);
            break;
        default:
            fputs(" null", f);
            break;
        }
    }
    if (cs_hlc_format(c->hlc, when, sizeof when) != 0)
        when[0] = '\0';
    cs_node_id_hex(&c->origin, hex);
    fprintf(f, " hlc=%s origin=%s seq=%" PRIu64, when, hex, c->origin_seq);
    if (c->has_base) {
        if (cs_hlc_format(c->base_hlc, when, sizeof when) != 0)
            when[0] = '\0';
        cs_node_id_hex(&c->base_origin, hex);
        fprintf(f, " base=%s@%s", when, hex);
    } else {
        fputs(" base=none", f);
    }
    if (fclose(f) != 0)
        abort();
    return buf;
}

/* Origins of the vectors: Isfana's office and the central office. */
#define V_ISFANA "5f1e0c7a9d3b4e2f8a6c1d0e9b7f3a25"
#define V_CENTRAL "c3a8e1f04b7d92c6e5a0f1b3d8c7e692"
#define V_PERSON "019ac3e5-7a2b-7c41-9d3e-5f1a2b3c4d5e"
#define V_CIG "019ac3d1-0f00-7a10-8b20-0123456789ab"

/* changeset-1.vec's changes, as listed in its comments. */
static size_t
vector_changes(struct cs_change ch[VECTOR_CHANGES])
{
    static const char family[] = "Абдыкадырова";
    struct cs_node_id isfana, central;

    memset(ch, 0, VECTOR_CHANGES * sizeof *ch);
    if (cs_node_id_parse(V_ISFANA, &isfana) != 0 ||
        cs_node_id_parse(V_CENTRAL, &central) != 0)
        return 0;
    ch[0].table = "person";
    ch[0].row_id = V_PERSON;
    ch[0].col = "family_name";
    ch[0].op = CS_OP_SET;
    ch[0].value.type = CS_VALUE_TEXT;
    ch[0].value.p = family;
    ch[0].value.len = sizeof family - 1;
    ch[0].hlc = cs_hlc_make(T0_MS, 0);
    ch[0].origin = isfana;
    ch[0].origin_seq = 41;
    ch[1].table = "cig";
    ch[1].row_id = V_CIG;
    ch[1].col = "status";
    ch[1].op = CS_OP_SET;
    ch[1].value.type = CS_VALUE_TEXT;
    ch[1].value.p = "active";
    ch[1].value.len = 6;
    ch[1].hlc = cs_hlc_make(T0_MS + 2500, 0);
    ch[1].origin = isfana;
    ch[1].origin_seq = 42;
    ch[1].has_base = true;
    ch[1].base_hlc = cs_hlc_make(T0_MS - 3 * DAY_MS, 1);
    ch[1].base_origin = central;
    ch[2].table = "letter";
    ch[2].row_id = "KOC-letter-0007";
    ch[2].col = "";
    ch[2].op = CS_OP_DEL;
    ch[2].value.type = CS_VALUE_NULL;
    ch[2].hlc = cs_hlc_make(T0_MS + 1000, 3);
    ch[2].origin = central;
    ch[2].origin_seq = 7;
    ch[2].has_base = true;
    ch[2].base_hlc = cs_hlc_make(T0_MS - 60000, 0);
    ch[2].base_origin = isfana;
    /* Central overrides the status Isfana set in change 1: the row and
       the column named again, the values out of change order. */
    ch[3].table = "cig";
    ch[3].row_id = V_CIG;
    ch[3].col = "status";
    ch[3].op = CS_OP_SET;
    ch[3].value.type = CS_VALUE_TEXT;
    ch[3].value.p = "dormant";
    ch[3].value.len = 7;
    ch[3].hlc = cs_hlc_make(T0_MS + 4000, 0);
    ch[3].origin = central;
    ch[3].origin_seq = 8;
    ch[3].has_base = true;
    ch[3].base_hlc = ch[1].hlc;
    ch[3].base_origin = isfana;
    return VECTOR_CHANGES;
}

/* Decodes vector name and compares with its expect or error line. */
static void
check_vector(const char *name)
{
    struct vector v;
    struct cs_changeset *cs = NULL;
    char *got[VECTOR_LINES_MAX];
    size_t n = 0;
    int r;

    CS_REQUIRE(vector_load(name, &v) == 0);
    r = cs_changeset_decode(v.input, v.len, &cs);
    if (v.error[0] != '\0') {
        CS_CHECK_STR(cs_errname(r), v.error);
        CS_CHECK(cs == NULL);
    } else {
        CS_CHECK_INT(r, 0);
    }
    if (cs != NULL) {
        got[n++] = cs_xasprintf("count = %zu", cs_changeset_count(cs));
        for (size_t i = 0; i < cs_changeset_count(cs) && n < VECTOR_LINES_MAX;
             i++)
            got[n++] = render(i, cs_changeset_at(cs, i));
        CS_CHECK_INT(vector_check(&v, got, n), 0);
        for (size_t i = 0; i < n; i++)
            free(got[i]);
    }
    cs_changeset_destroy(&cs);
    vector_free(&v);
}

static void
test_vector_1(void)
{
    struct cs_change ch[VECTOR_CHANGES];
    struct cs_writer w;
    struct vector v;
    size_t n = vector_changes(ch);

    CS_REQUIRE(n == VECTOR_CHANGES);
    check_vector("changeset-1");
    /* The frozen bytes are exactly what the encoder writes. */
    CS_REQUIRE(vector_load("changeset-1", &v) == 0);
    CS_CHECK_INT(encode(ch, n, &w), 0);
    CS_CHECK(cs_writer_len(&w) == v.len &&
             memcmp(cs_writer_data(&w), v.input, v.len) == 0);
    if (getenv("CS_PRINT_VECTOR") != NULL) {
        for (size_t i = 0; i < cs_writer_len(&w); i++)
            printf("%02x%s", cs_writer_data(&w)[i], i % 32 == 31 ? "\n" : " ");
        printf("\n");
    }
    cs_writer_free(&w);
    vector_free(&v);
}

static void
test_vector_2(void)
{
    check_vector("changeset-2-bad-index");
}

/* ------------------------------------------------------------------ */
/* Damaged and hand-made inputs (STYLE.md 37).                         */

/* Decodes p; if that succeeds, the result must re-encode and decode to
   as many changes.  Returns the decode status. */
static int
decode_check(const uint8_t *p, size_t len)
{
    struct cs_changeset *cs = NULL, *again = NULL;
    struct cs_writer w;
    int r = cs_changeset_decode(p, len, &cs);

    if (r != 0) {
        CS_CHECK(cs == NULL);
        CS_CHECK(r == CS_ERR_TRUNCATED || r == CS_ERR_FORMAT ||
                 r == CS_ERR_TOO_BIG || r == CS_ERR_TRAILING);
        return r;
    }
    CS_CHECK_INT(encode(cs_changeset_changes(cs), cs_changeset_count(cs), &w),
                 0);
    CS_CHECK_INT(
        cs_changeset_decode(cs_writer_data(&w), cs_writer_len(&w), &again), 0);
    CS_CHECK(again != NULL &&
             cs_changeset_count(again) == cs_changeset_count(cs));
    cs_writer_free(&w);
    cs_changeset_destroy(&again);
    cs_changeset_destroy(&cs);
    return 0;
}

static void
small_encoding(struct cs_writer *w)
{
    struct cs_change ch[VECTOR_CHANGES];
    size_t n = vector_changes(ch);
    CS_CHECK_INT(encode(ch, n, w), 0);
}

static void
test_truncated(void)
{
    struct cs_writer w;
    uint8_t *copy;

    small_encoding(&w);
    for (size_t cut = 0; cut < cs_writer_len(&w); cut++) {
        /* An exact-size copy, so ASan sees any read past the end. */
        copy = cs_xmalloc(cut + 1);
        memcpy(copy, cs_writer_data(&w), cut);
        CS_CHECK_INT(decode_check(cut ? copy : NULL, cut), CS_ERR_TRUNCATED);
        free(copy);
    }
    cs_writer_free(&w);
}

static void
test_flip_every_byte(void)
{
    struct cs_writer w;
    uint8_t *copy;
    size_t len, ok = 0, bad = 0;

    small_encoding(&w);
    len = cs_writer_len(&w);
    copy = cs_xmalloc(len);
    for (size_t i = 0; i < len; i++) {
        for (unsigned x = 1; x < 256; x++) {
            memcpy(copy, cs_writer_data(&w), len);
            copy[i] ^= (uint8_t)x;
            if (decode_check(copy, len) == 0)
                ok++;
            else
                bad++;
        }
    }
    printf("  %zu byte flips: %zu decode to valid changes, %zu refused\n",
           ok + bad, ok, bad);
    free(copy);
    cs_writer_free(&w);
}

static void
test_trailing(void)
{
    struct cs_writer w;
    uint8_t *copy;
    size_t len;

    small_encoding(&w);
    len = cs_writer_len(&w);
    copy = cs_xmalloc(len + 1);
    memcpy(copy, cs_writer_data(&w), len);
    copy[len] = 0xc0;
    CS_CHECK_INT(decode_check(copy, len + 1), CS_ERR_TRAILING);
    free(copy);
    cs_writer_free(&w);
}

/* The parts of a changeset of one or two changes; cases below replace
   some.  P_xCOL is a column's array header, the part after it its
   entries. */
enum part {
    P_TOP,
    P_FORMAT,
    P_TABLES,
    P_TABLE0,
    P_COLS,
    P_COL0,
    P_ORIGINS,
    P_ORIGIN0,
    P_ROWS,
    P_ROW0,
    P_TCOL,
    P_T,
    P_RCOL,
    P_R,
    P_CCOL,
    P_C,
    P_OPCOL,
    P_OP,
    P_OCOL,
    P_O,
    P_HCOL,
    P_HLC,
    P_SCOL,
    P_SEQ,
    P_BCOL,
    P_B,
    P_BHCOL,
    P_BHLC,
    P_BOCOL,
    P_BO,
    P_VCOL,
    P_VALUE,
    P_END,
    P_COUNT
};

/* [2, ["cig"], ["status"], [origin], [uuid7], table [0], row [0],
   column [0], op [SET], origin [0], hlc [hlc], seq [1], base [1],
   base hlc [one second earlier], base origin [0], value ["active"]] in
   hex, part by part. */
static const char *const TEMPLATE[P_COUNT] = {
    [P_TOP] = "dc 0010",
    [P_FORMAT] = "02",
    [P_TABLES] = "91",
    [P_TABLE0] = "a3 636967",
    [P_COLS] = "91",
    [P_COL0] = "a6 737461747573",
    [P_ORIGINS] = "91",
    [P_ORIGIN0] = "c410 5f1e0c7a9d3b4e2f8a6c1d0e9b7f3a25",
    [P_ROWS] = "91",
    [P_ROW0] = "c410 019ac3d10f007a108b200123456789ab",
    [P_TCOL] = "91",
    [P_T] = "00",
    [P_RCOL] = "91",
    [P_R] = "00",
    [P_CCOL] = "91",
    [P_C] = "00",
    [P_OPCOL] = "91",
    [P_OP] = "01",
    [P_OCOL] = "91",
    [P_O] = "00",
    [P_HCOL] = "91",
    [P_HLC] = "cf 019ac3e57a2b0000",
    [P_SCOL] = "91",
    [P_SEQ] = "01",
    [P_BCOL] = "91",
    [P_B] = "01",
    [P_BHCOL] = "91",
    [P_BHLC] = "d2 fc180000", /* -65536000: one second earlier */
    [P_BOCOL] = "91",
    [P_BO] = "00",
    [P_VCOL] = "91",
    [P_VALUE] = "a6 616374697665",
    [P_END] = "",
};

/* Two changes of the same row: its INS (column "", no base), then a SET
   of status with a base; the value column holds column 0's value (the
   SET's "active") before column 1's (the INS's nil). */
static const char *const TEMPLATE2[P_COUNT] = {
    [P_TOP] = "dc 0010",
    [P_FORMAT] = "02",
    [P_TABLES] = "91",
    [P_TABLE0] = "a3 636967",
    [P_COLS] = "92",
    [P_COL0] = "a6 737461747573 a0",
    [P_ORIGINS] = "91",
    [P_ORIGIN0] = "c410 5f1e0c7a9d3b4e2f8a6c1d0e9b7f3a25",
    [P_ROWS] = "91",
    [P_ROW0] = "c410 019ac3d10f007a108b200123456789ab",
    [P_TCOL] = "92",
    [P_T] = "00 00",
    [P_RCOL] = "92",
    [P_R] = "00 01", /* the next new row (0), then 1 below the next (0) */
    [P_CCOL] = "92",
    [P_C] = "01 00",
    [P_OPCOL] = "92",
    [P_OP] = "03 01",
    [P_OCOL] = "92",
    [P_O] = "00 00",
    [P_HCOL] = "92",
    [P_HLC] = "cf 019ac3e57a2b0000 00",
    [P_SCOL] = "92",
    [P_SEQ] = "01 01",
    [P_BCOL] = "92",
    [P_B] = "00 01",
    [P_BHCOL] = "91",
    [P_BHLC] = "d2 fc180000",
    [P_BOCOL] = "91",
    [P_BO] = "00",
    [P_VCOL] = "92",
    [P_VALUE] = "a6 616374697665 c0",
    [P_END] = "",
};

#define BAD_PARTS 5 /* parts one case may replace */

/* One hand-made input: a template with up to BAD_PARTS parts replaced,
   and the verdict. */
struct bad_case {
    const char *name;           /* what is wrong */
    enum part part[BAD_PARTS];  /* parts replaced (P_COUNT: none) */
    const char *hex[BAD_PARTS]; /* their new hex ("" removes the part) */
    int want;                   /* expected result */
};

static const struct bad_case BAD[] = {
    {"template", {P_COUNT, P_COUNT}, {"", ""}, 0},
    {"format 1 (one array per change)",
     {P_FORMAT, P_COUNT},
     {"01", ""},
     CS_ERR_FORMAT},
    {"format 3", {P_FORMAT, P_COUNT}, {"03", ""}, CS_ERR_FORMAT},
    {"format 0", {P_FORMAT, P_COUNT}, {"00", ""}, CS_ERR_FORMAT},
    {"format as str", {P_FORMAT, P_COUNT}, {"a131", ""}, CS_ERR_FORMAT},
    {"format negative", {P_FORMAT, P_COUNT}, {"ff", ""}, CS_ERR_FORMAT},
    {"top is a map", {P_TOP, P_COUNT}, {"de0010", ""}, CS_ERR_FORMAT},
    {"top of 15", {P_TOP, P_VCOL, P_VALUE}, {"9f", "", ""}, CS_ERR_FORMAT},
    {"top of 17", {P_TOP, P_END}, {"dc0011", "c0"}, CS_ERR_FORMAT},
    {"top count huge", {P_TOP, P_COUNT}, {"ddffffffff", ""}, CS_ERR_TRUNCATED},
    {"tables not array", {P_TABLES, P_COUNT}, {"81", ""}, CS_ERR_FORMAT},
    {"tables count huge",
     {P_TABLES, P_COUNT},
     {"ddffffffff", ""},
     CS_ERR_TOO_BIG},
    {"tables count past end",
     {P_TABLES, P_COUNT},
     {"dd00010000", ""},
     CS_ERR_TRUNCATED},
    {"table uppercase", {P_TABLE0, P_COUNT}, {"a3436967", ""}, CS_ERR_FORMAT},
    {"table empty", {P_TABLE0, P_COUNT}, {"a0", ""}, CS_ERR_FORMAT},
    {"table digit first", {P_TABLE0, P_COUNT}, {"a3316967", ""}, CS_ERR_FORMAT},
    {"table with NUL", {P_TABLE0, P_COUNT}, {"a3630067", ""}, CS_ERR_FORMAT},
    {"table as bin", {P_TABLE0, P_COUNT}, {"c403636967", ""}, CS_ERR_FORMAT},
    {"table 65 bytes",
     {P_TABLE0, P_COUNT},
     {"d941 61616161616161616161616161616161616161616161616161616161616161"
      "61616161616161616161616161616161616161616161616161616161616161616161",
      ""},
     CS_ERR_TOO_BIG},
    {"table _ ok", {P_TABLE0, P_COUNT}, {"a15f", ""}, 0},
    {"column with dash", {P_COL0, P_COUNT}, {"a3612d62", ""}, CS_ERR_FORMAT},
    {"column as int", {P_COL0, P_COUNT}, {"07", ""}, CS_ERR_FORMAT},
    {"origin 15 bytes",
     {P_ORIGIN0, P_COUNT},
     {"c40f 5f1e0c7a9d3b4e2f8a6c1d0e9b7f3a", ""},
     CS_ERR_FORMAT},
    {"origin 17 bytes",
     {P_ORIGIN0, P_COUNT},
     {"c411 5f1e0c7a9d3b4e2f8a6c1d0e9b7f3a2500", ""},
     CS_ERR_TOO_BIG},
    {"origin as str",
     {P_ORIGIN0, P_COUNT},
     {"b0 5f1e0c7a9d3b4e2f8a6c1d0e9b7f3a25", ""},
     CS_ERR_FORMAT},
    {"rows not array", {P_ROWS, P_COUNT}, {"c0", ""}, CS_ERR_FORMAT},
    {"row version 4",
     {P_ROW0, P_COUNT},
     {"c410 019ac3d10f004a108b200123456789ab", ""},
     CS_ERR_FORMAT},
    {"row variant 0",
     {P_ROW0, P_COUNT},
     {"c410 019ac3d10f007a100b200123456789ab", ""},
     CS_ERR_FORMAT},
    {"row bin 17",
     {P_ROW0, P_COUNT},
     {"c411 019ac3d10f007a108b200123456789abcd", ""},
     CS_ERR_TOO_BIG},
    {"row bin 15",
     {P_ROW0, P_COUNT},
     {"c40f 019ac3d10f007a108b200123456789", ""},
     CS_ERR_FORMAT},
    {"row UUIDv7 as text",
     {P_ROW0, P_COUNT},
     {"d924 30313961633364312d306630302d376131302d386232302d30313233343536"
      "3738396162",
      ""},
     CS_ERR_FORMAT},
    {"row UUIDv7 uppercase text ok",
     {P_ROW0, P_COUNT},
     {"d924 30313941433344312d304630302d374131302d384232302d30313233343536"
      "3738394142",
      ""},
     0},
    {"row other text ok", {P_ROW0, P_COUNT}, {"a3 4b2d31", ""}, 0},
    {"row with space", {P_ROW0, P_COUNT}, {"a3612062", ""}, CS_ERR_FORMAT},
    {"row empty", {P_ROW0, P_COUNT}, {"a0", ""}, CS_ERR_FORMAT},
    {"row 65 bytes",
     {P_ROW0, P_COUNT},
     {"d941 61616161616161616161616161616161616161616161616161616161616161"
      "61616161616161616161616161616161616161616161616161616161616161616161",
      ""},
     CS_ERR_TOO_BIG},
    {"row as int", {P_ROW0, P_COUNT}, {"05", ""}, CS_ERR_FORMAT},
    /* The table column gives the number of changes. */
    {"changes count huge",
     {P_TCOL, P_COUNT},
     {"ddffffffff", ""},
     CS_ERR_TOO_BIG},
    {"changes over the batch max",
     {P_TCOL, P_COUNT},
     {"dd00030d41", ""},
     CS_ERR_TOO_BIG},
    {"changes count past end",
     {P_TCOL, P_COUNT},
     {"dc0100", ""},
     CS_ERR_TRUNCATED},
    /* 5 changes need 45 bytes, at least one in each of 9 columns; 40 are
       left after the table column's header. */
    {"changes more than the bytes hold",
     {P_TCOL, P_COUNT},
     {"95", ""},
     CS_ERR_TRUNCATED},
    {"table column not array", {P_TCOL, P_COUNT}, {"a0", ""}, CS_ERR_FORMAT},
    {"no changes, columns of 1", {P_TCOL, P_T}, {"90", ""}, CS_ERR_FORMAT},
    {"table column of 2, others of 1",
     {P_TCOL, P_T},
     {"92", "0000"},
     CS_ERR_FORMAT},
    {"row column of 0", {P_RCOL, P_R}, {"90", ""}, CS_ERR_FORMAT},
    {"row column of 2", {P_RCOL, P_R}, {"92", "0000"}, CS_ERR_FORMAT},
    {"column column of 2", {P_CCOL, P_C}, {"92", "0000"}, CS_ERR_FORMAT},
    {"op column of 0", {P_OPCOL, P_OP}, {"90", ""}, CS_ERR_FORMAT},
    {"origin column of 2", {P_OCOL, P_O}, {"92", "0000"}, CS_ERR_FORMAT},
    {"hlc column of 0", {P_HCOL, P_HLC}, {"90", ""}, CS_ERR_FORMAT},
    {"seq column of 2", {P_SCOL, P_SEQ}, {"92", "0101"}, CS_ERR_FORMAT},
    {"base column of 0", {P_BCOL, P_B}, {"90", ""}, CS_ERR_FORMAT},
    {"value column of 0", {P_VCOL, P_VALUE}, {"90", ""}, CS_ERR_FORMAT},
    {"value column of 2",
     {P_VCOL, P_VALUE},
     {"92", "a6616374697665 c0"},
     CS_ERR_FORMAT},
    {"value column past end",
     {P_VCOL, P_COUNT},
     {"dc0100", ""},
     CS_ERR_TRUNCATED},
    {"base column over the batch max",
     {P_BCOL, P_COUNT},
     {"dd000f4241", ""},
     CS_ERR_TOO_BIG},
    {"column is a map", {P_OPCOL, P_COUNT}, {"81", ""}, CS_ERR_FORMAT},
    {"table index 1", {P_T, P_COUNT}, {"01", ""}, CS_ERR_FORMAT},
    {"table index negative", {P_T, P_COUNT}, {"ff", ""}, CS_ERR_FORMAT},
    {"table index as str", {P_T, P_COUNT}, {"a0", ""}, CS_ERR_FORMAT},
    {"table index uint64",
     {P_T, P_COUNT},
     {"cfffffffffffffffff", ""},
     CS_ERR_FORMAT},
    {"row reference before row 0", {P_R, P_COUNT}, {"01", ""}, CS_ERR_FORMAT},
    {"row reference negative", {P_R, P_COUNT}, {"ff", ""}, CS_ERR_FORMAT},
    {"row reference uint64",
     {P_R, P_COUNT},
     {"cfffffffffffffffff", ""},
     CS_ERR_FORMAT},
    {"column index 1", {P_C, P_COUNT}, {"01", ""}, CS_ERR_FORMAT},
    {"origin index 1", {P_O, P_COUNT}, {"01", ""}, CS_ERR_FORMAT},
    {"base origin index 1", {P_BO, P_COUNT}, {"01", ""}, CS_ERR_FORMAT},
    {"op 0", {P_OP, P_COUNT}, {"00", ""}, CS_ERR_FORMAT},
    {"op 6", {P_OP, P_COUNT}, {"06", ""}, CS_ERR_FORMAT},
    {"op as str", {P_OP, P_COUNT}, {"a131", ""}, CS_ERR_FORMAT},
    {"ack with a value", {P_OP, P_COUNT}, {"02", ""}, CS_ERR_FORMAT},
    {"ack ok", {P_OP, P_VALUE}, {"02", "c0"}, 0},
    {"del with a column", {P_OP, P_VALUE}, {"04", "c0"}, CS_ERR_FORMAT},
    {"del with a value", {P_OP, P_COL0}, {"04", "a0"}, CS_ERR_FORMAT},
    {"del ok", {P_OP, P_COL0, P_VALUE}, {"04", "a0", "c0"}, 0},
    {"set without a column", {P_COL0, P_COUNT}, {"a0", ""}, CS_ERR_FORMAT},
    {"value nil ok", {P_VALUE, P_COUNT}, {"c0", ""}, 0},
    {"value int ok", {P_VALUE, P_COUNT}, {"d0c0", ""}, 0},
    {"value uint64 too big",
     {P_VALUE, P_COUNT},
     {"cfffffffffffffffff", ""},
     CS_ERR_TOO_BIG},
    {"value float32 ok", {P_VALUE, P_COUNT}, {"ca3fc00000", ""}, 0},
    {"value NaN",
     {P_VALUE, P_COUNT},
     {"cb7ff8000000000000", ""},
     CS_ERR_FORMAT},
    {"value bool", {P_VALUE, P_COUNT}, {"c3", ""}, CS_ERR_FORMAT},
    {"value array", {P_VALUE, P_COUNT}, {"90", ""}, CS_ERR_FORMAT},
    {"value map", {P_VALUE, P_COUNT}, {"80", ""}, CS_ERR_FORMAT},
    {"value ext", {P_VALUE, P_COUNT}, {"d40100", ""}, CS_ERR_FORMAT},
    {"value 0xc1", {P_VALUE, P_COUNT}, {"c1", ""}, CS_ERR_FORMAT},
    {"value not UTF-8 kept", {P_VALUE, P_COUNT}, {"a2c328", ""}, 0},
    {"value surrogate kept", {P_VALUE, P_COUNT}, {"a3eda080", ""}, 0},
    {"value blob ok", {P_VALUE, P_COUNT}, {"c40200ff", ""}, 0},
    {"value text over the max",
     {P_VALUE, P_COUNT},
     {"db01000001", ""},
     CS_ERR_TOO_BIG},
    {"value text past end",
     {P_VALUE, P_COUNT},
     {"db00000100", ""},
     CS_ERR_TRUNCATED},
    {"hlc negative", {P_HLC, P_COUNT}, {"ff", ""}, CS_ERR_FORMAT},
    {"hlc over INT64_MAX",
     {P_HLC, P_COUNT},
     {"cf8000000000000000", ""},
     CS_ERR_TOO_BIG},
    {"hlc INT64_MAX, base ok", {P_HLC, P_COUNT}, {"cf7fffffffffffffff", ""}, 0},
    {"hlc as str", {P_HLC, P_COUNT}, {"a0", ""}, CS_ERR_FORMAT},
    {"hlc float", {P_HLC, P_COUNT}, {"cb3ff0000000000000", ""}, CS_ERR_FORMAT},
    {"seq 0", {P_SEQ, P_COUNT}, {"00", ""}, CS_ERR_FORMAT},
    {"seq negative", {P_SEQ, P_COUNT}, {"ff", ""}, CS_ERR_FORMAT},
    {"seq INT64_MAX ok", {P_SEQ, P_COUNT}, {"cf7fffffffffffffff", ""}, 0},
    {"base flag 2", {P_B, P_COUNT}, {"02", ""}, CS_ERR_FORMAT},
    {"base flag as bool", {P_B, P_COUNT}, {"c3", ""}, CS_ERR_FORMAT},
    {"base flag 0, base columns of 1",
     {P_B, P_COUNT},
     {"00", ""},
     CS_ERR_FORMAT},
    {"base flag 0, base columns empty ok",
     {P_B, P_BHCOL, P_BHLC, P_BOCOL, P_BO},
     {"00", "90", "", "90", ""},
     0},
    {"base hlc column of 0", {P_BHCOL, P_BHLC}, {"90", ""}, CS_ERR_FORMAT},
    {"base origin column of 2", {P_BOCOL, P_BO}, {"92", "0000"}, CS_ERR_FORMAT},
    {"base before 0",
     {P_BHLC, P_COUNT},
     {"d38000000000000000", ""},
     CS_ERR_FORMAT},
    {"base past INT64_MAX",
     {P_BHLC, P_COUNT},
     {"cf7fffffffffffffff", ""},
     CS_ERR_FORMAT},
    {"base equal ok", {P_BHLC, P_COUNT}, {"00", ""}, 0},
    {"base later ok", {P_BHLC, P_COUNT}, {"01", ""}, 0},
    {"base as nil", {P_BHLC, P_COUNT}, {"c0", ""}, CS_ERR_FORMAT},
    {"trailing nil", {P_END, P_COUNT}, {"c0", ""}, CS_ERR_TRAILING},
    {"trailing zero", {P_END, P_COUNT}, {"00", ""}, CS_ERR_TRAILING},
};

/* Cases on TEMPLATE2. */
static const struct bad_case BAD2[] = {
    {"template", {P_COUNT, P_COUNT}, {"", ""}, 0},
    {"second row new, past the rows",
     {P_R, P_COUNT},
     {"00 00", ""},
     CS_ERR_FORMAT},
    {"row reference 2 below next 1",
     {P_R, P_COUNT},
     {"00 02", ""},
     CS_ERR_FORMAT},
    {"row reference uint64",
     {P_R, P_COUNT},
     {"00 cfffffffffffffffff", ""},
     CS_ERR_FORMAT},
    {"values in change order",
     {P_VALUE, P_COUNT},
     {"c0 a6616374697665", ""},
     CS_ERR_FORMAT},
    {"column 0 for the INS", {P_C, P_COUNT}, {"00 00", ""}, CS_ERR_FORMAT},
    {"base flags 1 1, one base", {P_B, P_COUNT}, {"01 01", ""}, CS_ERR_FORMAT},
    {"base flags 0 0, one base", {P_B, P_COUNT}, {"00 00", ""}, CS_ERR_FORMAT},
    {"the base on the INS ok", {P_B, P_COUNT}, {"01 00", ""}, 0},
    {"base hlc column of 2",
     {P_BHCOL, P_BHLC},
     {"92", "d2fc180000 00"},
     CS_ERR_FORMAT},
    {"base origin column of 0", {P_BOCOL, P_BO}, {"90", ""}, CS_ERR_FORMAT},
    {"second seq 0", {P_SEQ, P_COUNT}, {"01 ff", ""}, CS_ERR_FORMAT},
    {"second hlc before 0",
     {P_HLC, P_COUNT},
     {"cf019ac3e57a2b0000 d38000000000000000", ""},
     CS_ERR_FORMAT},
    {"a column short by one", {P_OPCOL, P_OP}, {"91", "03"}, CS_ERR_FORMAT},
};

/* Appends the bytes of hex (spaces ignored) to buf. */
static void
hex_put(uint8_t *buf, size_t *len, const char *hex)
{
    int hi = -1;

    for (const char *c = hex; *c != '\0'; c++) {
        int d = vector_hex((unsigned char)*c);
        if (d < 0)
            continue;
        if (hi < 0) {
            hi = d;
            continue;
        }
        if (*len < HEX_MAX)
            buf[(*len)++] = (uint8_t)(hi << 4 | d);
        hi = -1;
    }
}

/* Builds each case of table from template and checks its verdict. */
static void
bad_inputs(const struct bad_case *table, size_t ncases,
           const char *const *template)
{
    uint8_t buf[HEX_MAX];

    for (size_t i = 0; i < ncases; i++) {
        const struct bad_case *b = &table[i];
        size_t len = 0;
        uint8_t *copy;
        int r;

        for (int p = 0; p < P_COUNT; p++) {
            const char *hex = template[p];
            for (int k = 0; k < BAD_PARTS; k++)
                if (b->part[k] == (enum part)p && b->hex[k] != NULL)
                    hex = b->hex[k];
            hex_put(buf, &len, hex);
        }
        copy = cs_xmalloc(len + 1);
        memcpy(copy, buf, len);
        r = decode_check(copy, len);
        if (r != b->want) {
            fprintf(stderr, "bad input \"%s\": %s, expected %s\n", b->name,
                    cs_errname(r), cs_errname(b->want));
            CS_CHECK(r == b->want);
        }
        free(copy);
    }
}

static void
test_bad_inputs(void)
{
    bad_inputs(BAD, sizeof BAD / sizeof BAD[0], TEMPLATE);
    bad_inputs(BAD2, sizeof BAD2 / sizeof BAD2[0], TEMPLATE2);
}

/* The encoder refuses what a decoder would, and appends nothing. */
static void
test_encode_refuses(void)
{
    struct cs_change ch[VECTOR_CHANGES], c;
    struct cs_writer w;
    char long_name[CS_NAME_MAX + 2];
    size_t n = vector_changes(ch);

    CS_REQUIRE(n == VECTOR_CHANGES);
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    for (int k = 0; k < 19; k++) {
        c = ch[1];
        switch (k) {
        case 0:
            c.table = "Cig";
            break;
        case 1:
            c.table = "";
            break;
        case 2:
            c.table = long_name;
            break;
        case 3:
            c.col = "a b";
            break;
        case 4:
            c.col = "";
            break;
        case 5:
            c.row_id = "a b";
            break;
        case 6:
            c.row_id = "";
            break;
        case 7:
            c.op = (enum cs_op)0;
            break;
        case 8:
            c.op = CS_OP_DEL;
            break;
        case 9:
            c.value.type = 0;
            break;
        case 10:
            c.value.len = CS_TEXT_MAX + 1;
            break;
        case 11:
            c.row_id = "id with spaces"; /* text not UTF-8 is allowed */
            break;
        case 12:
            c.value.type = CS_VALUE_FLOAT;
            c.value.d = NAN;
            break;
        case 13:
            c.hlc.t = (uint64_t)INT64_MAX + 1;
            break;
        case 14:
            c.base_hlc.t = UINT64_MAX;
            break;
        case 15:
            c.origin_seq = 0;
            break;
        case 16:
            c.origin_seq = (uint64_t)INT64_MAX + 1;
            break;
        case 17:
            c.table = NULL;
            break;
        default:
            c.op = CS_OP_ACK;
            break; /* with a value */
        }
        cs_writer_init(&w, CS_PAYLOAD_RAW_MAX);
        CS_CHECK_INT(cs_writer_mp_nil(&w), 0);
        CS_CHECK_INT(cs_changeset_encode(&c, 1, &w), CS_ERR_INVALID);
        CS_CHECK_INT(cs_writer_len(&w), 1); /* nothing appended */
        cs_writer_free(&w);
    }
    /* Too many changes: refused before any is read. */
    cs_writer_init(&w, CS_PAYLOAD_RAW_MAX);
    CS_CHECK_INT(cs_changeset_encode(ch, CS_BATCH_CHANGES_MAX + 1, &w),
                 CS_ERR_TOO_BIG);
    CS_CHECK_INT(cs_writer_len(&w), 0);
    cs_writer_free(&w);
    /* A writer too small. */
    cs_writer_init(&w, 20);
    CS_CHECK_INT(cs_changeset_encode(ch, n, &w), CS_ERR_TOO_BIG);
    cs_writer_free(&w);
}

static void
test_decode_args(void)
{
    struct cs_changeset *cs = NULL;
    /* Format 2 with four empty dictionaries and eleven empty columns. */
    static const uint8_t empty[FIXED_BYTES] = {
        0xdc, 0x00, 0x10, 0x02, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
        0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90};

    CS_CHECK_INT(cs_changeset_decode(NULL, 0, &cs), CS_ERR_TRUNCATED);
    CS_CHECK(cs == NULL);
    CS_CHECK_INT(cs_changeset_decode(empty, CS_PAYLOAD_RAW_MAX + 1, &cs),
                 CS_ERR_TOO_BIG); /* refused before any byte is read */
    CS_CHECK(cs == NULL);
    CS_CHECK_INT(cs_changeset_decode(empty, sizeof empty, &cs), 0);
    CS_REQUIRE(cs != NULL);
    CS_CHECK(cs_changeset_count(cs) == 0);
    CS_CHECK(cs_changeset_changes(cs) != NULL);
    cs_changeset_destroy(&cs);
    CS_CHECK(cs == NULL);
    cs_changeset_destroy(&cs); /* harmless twice */
}

/* Values travel grouped by column index, in change order within a
   column (PROTOCOL.md "Layout"): changes of columns a, b, a give the
   values of changes 0, 2, 1. */
static void
test_value_order(void)
{
    static const char *const cols[] = {"a", "b", "a"};
    static const char *const vals[] = {"1", "2", "3"};
    static const uint8_t tail[] = {0x93, 0xa1, '1', 0xa1, '3', 0xa1, '2'};
    struct cs_change ch[3];
    struct cs_writer w;
    size_t len;

    memset(ch, 0, sizeof ch);
    for (size_t i = 0; i < 3; i++) {
        ch[i].table = "t";
        ch[i].row_id = "x";
        ch[i].col = cols[i];
        ch[i].op = CS_OP_SET;
        set_text(&ch[i], vals[i]);
        ch[i].hlc = cs_hlc_make(T0_MS, 0);
        ch[i].origin_seq = i + 1;
    }
    CS_REQUIRE(encode(ch, 3, &w) == 0);
    len = cs_writer_len(&w);
    CS_CHECK(len > sizeof tail && memcmp(cs_writer_data(&w) + len - sizeof tail,
                                         tail, sizeof tail) == 0);
    cs_writer_free(&w);
    CS_CHECK(round_trip(ch, 3) > 0);
}

/* ------------------------------------------------------------------ */
/* The fuzz seed corpus.                                               */

#define CORPUS_DIR CS_VECTOR_DIR "/../fuzz/corpus/changeset"
#define CORPUS_MAX (1024 * 1024) /* bytes of one seed file */

/* Compares the seed name with p[0..len), or with CS_WRITE_CORPUS=DIR set
   writes it to DIR/name. */
static void
corpus_seed(const char *name, const uint8_t *p, size_t len)
{
    const char *dir = getenv("CS_WRITE_CORPUS");
    char *path = cs_xasprintf("%s/%s", dir != NULL ? dir : CORPUS_DIR, name);
    uint8_t *buf = cs_xmalloc(CORPUS_MAX);
    FILE *f = fopen(path, dir != NULL ? "wb" : "rb");
    size_t got;

    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        CS_CHECK(f != NULL);
        goto out;
    }
    if (dir != NULL) {
        CS_CHECK(fwrite(p, 1, len, f) == len);
    } else {
        got = fread(buf, 1, CORPUS_MAX, f);
        if (got != len || memcmp(buf, p, len) != 0)
            fprintf(stderr,
                    "%s: not what this test makes; regenerate with "
                    "CS_WRITE_CORPUS\n",
                    path);
        CS_CHECK(got == len && memcmp(buf, p, len) == 0);
    }
    CS_CHECK(fclose(f) == 0);
out:
    free(buf);
    free(path);
}

/* Makes the encoding of the changes of s and checks it as seed name. */
static void
corpus_set(const char *name, struct set *s)
{
    struct cs_writer w;

    CS_CHECK_INT(encode(s->ch, s->n, &w), 0);
    corpus_seed(name, cs_writer_data(&w), cs_writer_len(&w));
    cs_writer_free(&w);
    set_free(s);
}

/* tests/fuzz/corpus/changeset/ (STYLE.md 40): the vectors, damaged copies
   of vector 1, and lists of the generator that reach every column. */
static void
test_corpus(void)
{
    struct vector v1, v2;
    struct set s;
    uint8_t *copy;
    char name[CS_NAME_MAX + 1];

    CS_REQUIRE(vector_load("changeset-1", &v1) == 0);
    corpus_seed("vector_changeset_1", v1.input, v1.len);
    copy = cs_xmalloc(v1.len + 1);
    memcpy(copy, v1.input, v1.len);
    copy[v1.len] = 0xc0;
    corpus_seed("trailing_byte", copy, v1.len + 1);
    corpus_seed("truncated_vector_1", copy, v1.len / 2);
    free(copy);
    vector_free(&v1);
    CS_REQUIRE(vector_load("changeset-2-bad-index", &v2) == 0);
    corpus_seed("vector_changeset_2_bad_index", v2.input, v2.len);
    vector_free(&v2);
    set_init(&s, 1, 1);
    corpus_set("empty_changeset", &s);
    set_init(&s, 11, 3); /* a blob and a text over 255 bytes */
    gen(&s, 12, &MIX_DAY);
    corpus_set("day_12_changes_3_origins", &s);
    set_init(&s, 40, 2);
    gen(&s, 40, &MIX_STATUS);
    corpus_set("status_40_changes", &s);
    edges_set(&s, name);
    corpus_set("every_op_and_type", &s);
}

static const struct cs_test_case cases[] = {
    {"round_trip_0", test_round_trip_0},
    {"round_trip_1", test_round_trip_1},
    {"round_trip_10", test_round_trip_10},
    {"round_trip_1000", test_round_trip_1000},
    {"round_trip_100000", test_round_trip_100000},
    {"round_trip_edges", test_round_trip_edges},
    {"deterministic", test_deterministic},
    {"compact", test_compact},
    {"vector_1", test_vector_1},
    {"vector_2", test_vector_2},
    {"truncated", test_truncated},
    {"flip_every_byte", test_flip_every_byte},
    {"trailing", test_trailing},
    {"bad_inputs", test_bad_inputs},
    {"encode_refuses", test_encode_refuses},
    {"decode_args", test_decode_args},
    {"value_order", test_value_order},
    {"corpus", test_corpus},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
