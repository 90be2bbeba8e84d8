/*  bench/workload.c - realistic change generator; see workload.h.  */
#include "prelude.h"

#include "id.h"
#include "mem.h"
#include "workload.h"

#define S_TEXT_MIN 300  /* letters: characters, at least */
#define S_TEXT_MAX 2000 /* letters: characters, at most */
#define S_ROWS_MAX 4096 /* rows kept for later updates */

static const char *const s_family[] = {
    "Абдыкадырова", "Токтосунов", "Жумабаева", "Исмаилов", "Мамытова",
    "Осмонов",      "Сыдыкова",   "Бакиров",   "Алиева",   "Эсенгулов"};
static const char *const s_given[] = {"Гүлмира", "Нурлан", "Айгүл",  "Бакыт",
                                      "Жылдыз",  "Эрлан",  "Чолпон", "Азамат",
                                      "Мээрим",  "Талант"};
static const char *const s_words[] = {
    "уважаемый", "глава",   "айыл",         "окмоту", "просим", "рассмотреть",
    "вопрос",    "ремонта", "водопровода",  "в",      "селе",   "Кочкор",
    "жители",    "улицы",   "освещение",    "бюджет", "на",     "2019",
    "год",       "община",  "инициативная", "группа", "кыргыз", "эл",
    "суу",       "жол",     "мектеп",       "балдар", "үчүн",   "керек"};
static const char *const s_status[] = {"forming", "active", "dormant",
                                       "closed"};
static const char *const s_letter_status[] = {
    "draft", "in_review", "changes_requested", "approved", "sent", "answered"};
static const char *const s_settlements[] = {"Isfana", "Kochkor", "Исфана",
                                            "Кочкор", "Ак-Кыя"};

/* A row the generator made, for later updates. */
struct s_row {
    char id[CS_ID_TEXT_LEN + 1]; /* its id */
    int kind;                    /* 0 cig, 1 person, 2 letter */
    uint64_t field_hlc;          /* the version of the field updates change */
};

struct cs_workload {
    uint64_t rng;                  /* xorshift64* state */
    uint64_t hlc;                  /* next HLC */
    uint64_t seq;                  /* next origin_seq */
    struct cs_node_id origin;      /* the office's node */
    struct cs_change *ch;          /* generated so far */
    size_t n, cap;                 /* how many, room */
    char **strings;                /* owned strings the changes point to */
    size_t nstrings, capstrings;   /* how many, room */
    struct s_row rows[S_ROWS_MAX]; /* rows for updates */
    size_t nrows;                  /* how many */
};

static uint64_t
s_rand(struct cs_workload *w)
{
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 2685821657736338717ULL;
}

static size_t
s_pick(struct cs_workload *w, size_t n)
{
    return (size_t)(s_rand(w) % n);
}

static const char *
s_keep(struct cs_workload *w, char *s)
{
    if (w->nstrings == w->capstrings) {
        w->capstrings = w->capstrings ? w->capstrings * 2 : 256;
        w->strings =
            cs_xrealloc(w->strings, w->capstrings * sizeof *w->strings);
    }
    w->strings[w->nstrings++] = s;
    return s;
}

static struct cs_change *
s_add(struct cs_workload *w, const char *table, const char *row,
      const char *col, enum cs_op op)
{
    struct cs_change *c;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->ch = cs_xrealloc(w->ch, w->cap * sizeof *w->ch);
    }
    c = &w->ch[w->n++];
    memset(c, 0, sizeof *c);
    c->table = table;
    c->row_id = row;
    c->col = col;
    c->op = op;
    c->value.type = CS_VALUE_NULL;
    c->hlc.t = w->hlc;
    w->hlc += 1 + s_pick(w, 3) * 65536;
    c->origin = w->origin;
    c->origin_seq = w->seq++;
    return c;
}

static void
s_text(struct cs_change *c, const char *text)
{
    c->value.type = CS_VALUE_TEXT;
    c->value.p = text;
    c->value.len = strlen(text);
}

static void
s_int(struct cs_change *c, int64_t v)
{
    c->value.type = CS_VALUE_INTEGER;
    c->value.i = v;
}

/* A letter body of S_TEXT_MIN..S_TEXT_MAX characters. */
static const char *
s_letter(struct cs_workload *w)
{
    size_t want = S_TEXT_MIN + s_pick(w, S_TEXT_MAX - S_TEXT_MIN);
    size_t chars = 0, len = 0, cap = want * 2 + 64;
    char *buf = cs_xmalloc(cap);
    while (chars < want) {
        const char *word = s_words[s_pick(w, sizeof s_words / sizeof *s_words)];
        size_t n = strlen(word);
        if (len + n + 2 >= cap)
            break;
        memcpy(buf + len, word, n);
        len += n;
        buf[len++] = chars % 97 == 96 ? '.' : ' ';
        for (size_t i = 0; i < n; i++) /* count code points */
            chars += ((unsigned char)word[i] & 0xc0) != 0x80;
        chars++;
    }
    buf[len] = '\0';
    return s_keep(w, buf);
}

static const char *
s_date(struct cs_workload *w)
{
    return s_keep(w, cs_xasprintf("2019-%02zu-%02zu", 1 + s_pick(w, 12),
                                  1 + s_pick(w, 28)));
}

/* A fresh UUIDv7 row id at the generator's clock. */
static const char *
s_new_id(struct cs_workload *w)
{
    uint8_t rnd[CS_ID_RANDOM_BYTES];
    char *id = cs_xmalloc(CS_ID_TEXT_LEN + 1);
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)s_rand(w);
    cs_id_new_at(id, w->hlc >> 16, rnd);
    return s_keep(w, id);
}

/* A new version of letter letter_id, with a body. */
static void
s_letter_version(struct cs_workload *w, const char *letter_id, int64_t no)
{
    const char *vid = s_new_id(w);
    s_add(w, "letter_version", vid, "", CS_OP_INS);
    s_text(s_add(w, "letter_version", vid, "office_id", CS_OP_SET), "ISF");
    s_text(s_add(w, "letter_version", vid, "letter_id", CS_OP_SET), letter_id);
    s_int(s_add(w, "letter_version", vid, "version_no", CS_OP_SET), no);
    s_text(s_add(w, "letter_version", vid, "body", CS_OP_SET), s_letter(w));
}

static void
s_new_row(struct cs_workload *w)
{
    struct s_row *row =
        &w->rows[w->nrows < S_ROWS_MAX ? w->nrows++ : s_pick(w, S_ROWS_MAX)];
    struct cs_change *c;
    const char *id;
    row->kind = (int)s_pick(w, 3);
    snprintf(row->id, sizeof row->id, "%s", s_new_id(w));
    id = s_keep(w, cs_xstrdup(row->id));
    switch (row->kind) {
    case 0:
        s_add(w, "cig", id, "", CS_OP_INS);
        s_text(s_add(w, "cig", id, "office_id", CS_OP_SET), "ISF");
        s_text(s_add(w, "cig", id, "name", CS_OP_SET),
               s_keep(w, cs_xasprintf("Демилге %zu", s_pick(w, 1000))));
        s_text(s_add(w, "cig", id, "settlement", CS_OP_SET),
               s_settlements[s_pick(w, 5)]);
        c = s_add(w, "cig", id, "status", CS_OP_SET);
        s_text(c, "forming");
        row->field_hlc = c->hlc.t;
        s_text(s_add(w, "cig", id, "formed_on", CS_OP_SET), s_date(w));
        break;
    case 1:
        s_add(w, "person", id, "", CS_OP_INS);
        s_text(s_add(w, "person", id, "office_id", CS_OP_SET), "ISF");
        s_text(s_add(w, "person", id, "family_name", CS_OP_SET),
               s_family[s_pick(w, 10)]);
        s_text(s_add(w, "person", id, "given_name", CS_OP_SET),
               s_given[s_pick(w, 10)]);
        s_text(s_add(w, "person", id, "sex", CS_OP_SET),
               s_pick(w, 2) ? "female" : "male");
        s_int(s_add(w, "person", id, "birth_year", CS_OP_SET),
              1950 + (int64_t)s_pick(w, 55));
        c = s_add(w, "person", id, "phone", CS_OP_SET);
        s_text(c, s_keep(w, cs_xasprintf("+996 55%07zu", s_pick(w, 10000000))));
        row->field_hlc = c->hlc.t;
        break;
    default:
        s_add(w, "letter", id, "", CS_OP_INS);
        s_text(s_add(w, "letter", id, "office_id", CS_OP_SET), "ISF");
        s_text(s_add(w, "letter", id, "subject", CS_OP_SET),
               "О ремонте водопровода");
        s_text(s_add(w, "letter", id, "language", CS_OP_SET), "ru");
        c = s_add(w, "letter", id, "status", CS_OP_SET);
        s_text(c, "draft");
        row->field_hlc = c->hlc.t;
        s_letter_version(w, id, 1);
        break;
    }
}

static void
s_update(struct cs_workload *w)
{
    struct s_row *row = &w->rows[s_pick(w, w->nrows)];
    const char *id = s_keep(w, cs_xstrdup(row->id));
    struct cs_change *c;
    switch (row->kind) {
    case 0:
        c = s_add(w, "cig", id, "status", CS_OP_SET);
        s_text(c, s_status[s_pick(w, 4)]);
        break;
    case 1:
        c = s_add(w, "person", id, "phone", CS_OP_SET);
        s_text(c, s_keep(w, cs_xasprintf("+996 70%07zu", s_pick(w, 10000000))));
        break;
    default:
        if (s_pick(w, 8) == 0) {
            s_letter_version(w, id, 2 + (int64_t)s_pick(w, 3));
            return;
        } else {
            c = s_add(w, "letter", id, "status", CS_OP_SET);
            s_text(c, s_letter_status[s_pick(w, 6)]);
        }
        break;
    }
    /* An update replaces the version the writer had: the field's last. */
    c->has_base = true;
    c->base_hlc.t = row->field_hlc;
    c->base_origin = w->origin;
    row->field_hlc = c->hlc.t;
}

struct cs_workload *
cs_workload_new(uint64_t seed)
{
    struct cs_workload *w = cs_xcalloc(1, sizeof *w);
    w->rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    w->hlc = 1551398400000ULL << 16; /* 1 March 2019 */
    w->seq = 1;
    for (size_t i = 0; i < sizeof w->origin.b; i++)
        w->origin.b[i] = (uint8_t)s_rand(w);
    return w;
}

void
cs_workload_destroy(struct cs_workload **wp)
{
    struct cs_workload *w;
    if (wp == NULL || *wp == NULL)
        return;
    w = *wp;
    for (size_t i = 0; i < w->nstrings; i++)
        free(w->strings[i]);
    free(w->strings);
    free(w->ch);
    free(w);
    *wp = NULL;
}

const struct cs_change *
cs_workload_office_day(struct cs_workload *w, size_t n, size_t *count)
{
    size_t target = w->n + n;
    while (w->n < target) {
        if (w->nrows == 0 || s_pick(w, 10) < 3)
            s_new_row(w);
        else
            s_update(w);
    }
    /* Strings moved nowhere (each is its own allocation); nothing to fix. */
    *count = w->n;
    return w->ch;
}
