/*  common/config.c - a node's configuration file; see config.h.
 *
 *  The parser walks the text by index, one line at a time, and never reads
 *  past len: the input need not be NUL-terminated and may hold anything.
 *  Every line is checked by the same two predicates cs_config_set() uses
 *  (s_key_check, s_value_check), so whatever is set can be saved and loaded
 *  back, and whatever loads can be saved.  Pairs are a small array searched
 *  linearly: a config has tens of keys, and the file size bounds them.
 */
#include "prelude.h"

#include "config.h"
#include "err.h"
#include "fileio.h"
#include "log.h"
#include "mem.h"
#include "reader.h"

#define S_BOM "\xef\xbb\xbf"       /* UTF-8 byte order mark */
#define S_BOM_LEN 3                /* its length */
#define S_ASCII_DEL 0x7f           /* the one control character above 0x1f */
#define S_ASCII_CONTROL_END 0x20   /* bytes below this are C0 controls */
#define S_C1_LEAD 0xc2             /* lead byte of U+0080..U+00BF */
#define S_C1_SECOND_MAX 0x9f       /* U+0080..U+009F are the C1 controls */
#define S_PAIRS_INITIAL 8          /* first capacity of the pair array */
#define S_SEPARATOR " = "          /* written between key and value */
#define S_COMMENT "# "             /* written before each header line */
#define S_COMMENT_EMPTY "#"        /* written for an empty header line */
#define S_TMP_SUFFIX ".tmp.XXXXXX" /* mkstemp() template after the path */

/* One key/value pair; both strings are owned. */
struct s_pair {
    char *key;   /* [a-z][a-z0-9_.]*, at most CS_CONFIG_KEY_MAX bytes */
    char *value; /* checked by s_value_check() */
};

struct cs_config {
    struct s_pair *pairs; /* in file order */
    size_t count;         /* pairs in use */
    size_t cap;           /* pairs allocated */
};

struct cs_config *
cs_config_new(void)
{
    return cs_xcalloc(1, sizeof(struct cs_config));
}

void
cs_config_destroy(struct cs_config **c)
{
    if (*c == NULL)
        return;
    for (size_t i = 0; i < (*c)->count; i++) {
        free((*c)->pairs[i].key);
        free((*c)->pairs[i].value);
    }
    free((*c)->pairs);
    free(*c);
    *c = NULL;
}

static bool
s_is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool
s_is_key_start(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

static bool
s_is_key_char(char ch)
{
    return s_is_key_start(ch) || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '.';
}

/* Checks the n bytes at key against the key rules.  Returns 0,
   CS_ERR_TOO_BIG or CS_ERR_FORMAT. */
static int
s_key_check(const char *key, size_t n)
{
    if (n > CS_CONFIG_KEY_MAX)
        return CS_ERR_TOO_BIG;
    if (n == 0 || !s_is_key_start(key[0]))
        return CS_ERR_FORMAT;
    for (size_t i = 1; i < n; i++)
        if (!s_is_key_char(key[i]))
            return CS_ERR_FORMAT;
    return 0;
}

/* Checks the n bytes at value against the value rules.  Returns 0,
   CS_ERR_TOO_BIG or CS_ERR_FORMAT. */
static int
s_value_check(const char *value, size_t n)
{
    const uint8_t *u = (const uint8_t *)value;

    if (n > CS_CONFIG_VALUE_MAX)
        return CS_ERR_TOO_BIG;
    if (!cs_utf8_valid(u, n))
        return CS_ERR_FORMAT;
    for (size_t i = 0; i < n; i++) {
        if (u[i] < S_ASCII_CONTROL_END || u[i] == S_ASCII_DEL)
            return CS_ERR_FORMAT;
        /* In valid UTF-8, 0xc2 is always a lead byte with a successor. */
        if (u[i] == S_C1_LEAD && u[i + 1] <= S_C1_SECOND_MAX)
            return CS_ERR_FORMAT;
    }
    if (n > 0 && (s_is_blank(value[0]) || s_is_blank(value[n - 1])))
        return CS_ERR_FORMAT; /* would be trimmed away on reading */
    return 0;
}

/* Returns the index of key in c, or c->count if absent. */
static size_t
s_find(const struct cs_config *c, const char *key, size_t n)
{
    for (size_t i = 0; i < c->count; i++)
        if (strlen(c->pairs[i].key) == n &&
            memcmp(c->pairs[i].key, key, n) == 0)
            return i;
    return c->count;
}

/* Appends a pair made of copies of the given bytes; they are checked. */
static void
s_append(struct cs_config *c, const char *key, size_t key_len,
         const char *value, size_t value_len)
{
    if (c->count == c->cap) {
        c->cap = c->cap == 0 ? S_PAIRS_INITIAL : 2 * c->cap;
        c->pairs = cs_xrealloc(c->pairs, c->cap * sizeof *c->pairs);
    }
    c->pairs[c->count].key = cs_xstrndup(key, key_len);
    c->pairs[c->count].value = cs_xstrndup(value, value_len);
    c->count++;
}

/* Parses one line (no line end) of n bytes into c.  Returns 0 or
   CS_ERR_FORMAT / CS_ERR_TOO_BIG after logging why. */
static int
s_parse_line(struct cs_config *c, const char *line, size_t n, size_t line_no)
{
    size_t start = 0, end = n, key_end, value_start;
    int r;

    while (start < end && s_is_blank(line[start]))
        start++;
    while (end > start && s_is_blank(line[end - 1]))
        end--;
    if (start == end || line[start] == '#')
        return 0;
    key_end = start;
    while (key_end < end && s_is_key_char(line[key_end]))
        key_end++;
    if ((r = s_key_check(line + start, key_end - start)) != 0) {
        if (r == CS_ERR_TOO_BIG)
            cs_log_err(r, "line %zu: key longer than %d bytes", line_no,
                       CS_CONFIG_KEY_MAX);
        else
            cs_log_err(r, "line %zu: expected a key [a-z][a-z0-9_.]*", line_no);
        return r;
    }
    value_start = key_end;
    while (value_start < end && s_is_blank(line[value_start]))
        value_start++;
    if (value_start == end || line[value_start] != '=') {
        r = CS_ERR_FORMAT;
        cs_log_err(r, "line %zu: expected '=' after the key", line_no);
        return r;
    }
    value_start++;
    while (value_start < end && s_is_blank(line[value_start]))
        value_start++;
    if ((r = s_value_check(line + value_start, end - value_start)) != 0) {
        if (r == CS_ERR_TOO_BIG)
            cs_log_err(r, "line %zu: value longer than %d bytes", line_no,
                       CS_CONFIG_VALUE_MAX);
        else
            cs_log_err(r,
                       "line %zu: value is not UTF-8 text or holds a "
                       "control character",
                       line_no);
        return r;
    }
    if (s_find(c, line + start, key_end - start) != c->count) {
        r = CS_ERR_FORMAT;
        cs_log_err(r, "line %zu: key '%.*s' appears twice", line_no,
                   (int)(key_end - start), line + start);
        return r;
    }
    s_append(c, line + start, key_end - start, line + value_start,
             end - value_start);
    return 0;
}

int
cs_config_parse(const char *text, size_t len, struct cs_config **out,
                size_t *err_line)
{
    struct cs_config *c = NULL;
    size_t pos = 0, line_no = 0;
    int r;

    *out = NULL;
    if (err_line != NULL)
        *err_line = 0;
    if (len > CS_CONFIG_FILE_MAX) {
        r = CS_ERR_TOO_BIG;
        cs_log_err(r, "config is %zu bytes, at most %d allowed", len,
                   CS_CONFIG_FILE_MAX);
        goto out;
    }
    c = cs_config_new();
    if (len >= S_BOM_LEN && memcmp(text, S_BOM, S_BOM_LEN) == 0)
        pos = S_BOM_LEN;
    while (pos < len) {
        size_t end = pos, next;
        while (end < len && text[end] != '\n')
            end++;
        next = end < len ? end + 1 : end;
        if (end > pos && text[end - 1] == '\r')
            end--;
        line_no++;
        if ((r = s_parse_line(c, text + pos, end - pos, line_no)) != 0) {
            if (err_line != NULL)
                *err_line = line_no;
            goto out;
        }
        pos = next;
    }
    *out = c;
    c = NULL;
    r = 0;
out:
    cs_config_destroy(&c);
    return r;
}

/* Reads all of fd, at most max bytes; more is CS_ERR_TOO_BIG.  *buf is
   cs_xmalloc()ed, NUL-terminated, owned by the caller. */
static int
s_read_bounded(int fd, size_t max, char **buf, size_t *len)
{
    char *p = cs_xmalloc(max + 2); /* one byte to detect excess, one NUL */
    size_t n = 0;
    int r;

    *buf = NULL;
    *len = 0;
    while (n < max + 1) {
        ssize_t got = read(fd, p + n, max + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = CS_ERR_IO;
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    p = NULL;
    r = 0;
out:
    free(p);
    return r;
}

int
cs_config_load(const char *path, struct cs_config **out, size_t *err_line)
{
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    int fd = -1;
    int r;

    *out = NULL;
    if (err_line != NULL)
        *err_line = 0;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        r = errno == ENOENT                     ? CS_ERR_NOT_FOUND
            : errno == EACCES || errno == EPERM ? CS_ERR_PERM
                                                : CS_ERR_IO;
        if (r != CS_ERR_NOT_FOUND)
            cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: not a regular file", path);
        goto out;
    }
    if ((r = s_read_bounded(fd, CS_CONFIG_FILE_MAX, &text, &len)) != 0) {
        cs_log_err(r, "%s: cannot read (at most %d bytes)", path,
                   CS_CONFIG_FILE_MAX);
        goto out;
    }
    if ((r = cs_config_parse(text, len, out, err_line)) != 0)
        cs_log_err(r, "%s: not a valid config file", path);
out:
    free(text);
    if (fd >= 0)
        close(fd);
    return r;
}

const char *
cs_config_get(const struct cs_config *c, const char *key)
{
    size_t i = s_find(c, key, strlen(key));
    return i < c->count ? c->pairs[i].value : NULL;
}

size_t
cs_config_count(const struct cs_config *c)
{
    return c->count;
}

const char *
cs_config_key(const struct cs_config *c, size_t i)
{
    assert(i < c->count);
    return c->pairs[i].key;
}

int
cs_config_set(struct cs_config *c, const char *key, const char *value)
{
    size_t key_len = strlen(key), value_len = strlen(value);
    size_t i;
    int r;

    if ((r = s_key_check(key, key_len)) != 0)
        return r;
    if ((r = s_value_check(value, value_len)) != 0)
        return r;
    i = s_find(c, key, key_len);
    if (i == c->count) {
        s_append(c, key, key_len, value, value_len);
        return 0;
    }
    free(c->pairs[i].value);
    c->pairs[i].value = cs_xstrndup(value, value_len);
    return 0;
}

/* A growable text buffer with the config file maximum as its hard limit
   (STYLE.md 28). */
struct s_text {
    char *p;    /* CS_CONFIG_FILE_MAX + 1 bytes */
    size_t len; /* bytes used, NUL excluded */
    bool full;  /* something did not fit */
};

static void
s_text_add(struct s_text *t, const char *s, size_t n)
{
    if (t->full || n > CS_CONFIG_FILE_MAX - t->len) {
        t->full = true;
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void
s_text_str(struct s_text *t, const char *s)
{
    s_text_add(t, s, strlen(s));
}

int
cs_config_format(const struct cs_config *c, const char *header_comment,
                 char **text, size_t *len)
{
    struct s_text t = {NULL, 0, false};
    int r;

    *text = NULL;
    *len = 0;
    if (header_comment != NULL) {
        for (const char *s = header_comment; *s != '\0'; s++) {
            unsigned char ch = (unsigned char)*s;
            if (ch != '\n' && (ch < S_ASCII_CONTROL_END || ch == S_ASCII_DEL))
                return CS_ERR_INVALID;
        }
    }
    /* Sized once at the maximum: a config file is small and short-lived. */
    t.p = cs_xmalloc(CS_CONFIG_FILE_MAX + 1);
    /* "a\n\nb\n" gives "# a", "#", "# b": a final '\n' ends the last
       line rather than starting an empty one. */
    for (const char *s = header_comment; s != NULL && *s != '\0';) {
        const char *nl = strchr(s, '\n');
        size_t n = nl != NULL ? (size_t)(nl - s) : strlen(s);
        s_text_str(&t, n > 0 ? S_COMMENT : S_COMMENT_EMPTY);
        s_text_add(&t, s, n);
        s_text_str(&t, "\n");
        s = nl != NULL ? nl + 1 : NULL;
    }
    for (size_t i = 0; i < c->count; i++) {
        s_text_str(&t, c->pairs[i].key);
        s_text_str(&t, S_SEPARATOR);
        s_text_str(&t, c->pairs[i].value);
        s_text_str(&t, "\n");
    }
    if (t.full) {
        r = CS_ERR_TOO_BIG;
        cs_log_err(r, "config text would exceed %d bytes", CS_CONFIG_FILE_MAX);
        goto out;
    }
    t.p[t.len] = '\0';
    *text = t.p;
    *len = t.len;
    t.p = NULL;
    r = 0;
out:
    free(t.p);
    return r;
}

int
cs_config_save(const struct cs_config *c, const char *path,
               const char *header_comment)
{
    char *text = NULL, *tmp = NULL;
    size_t len = 0;
    int fd = -1;
    int r;

    if ((r = cs_config_format(c, header_comment, &text, &len)) != 0)
        goto out;
    tmp = cs_xasprintf("%s%s", path, S_TMP_SUFFIX);
    fd = mkstemp(tmp); /* O_EXCL, mode 0600 */
    if (fd < 0) {
        r = errno == EACCES || errno == EPERM ? CS_ERR_PERM : CS_ERR_IO;
        cs_log_err(r, "%s: %s", tmp, strerror(errno));
        free(tmp);
        tmp = NULL; /* nothing to remove */
        goto out;
    }
    if (cs_file_write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    r = close(fd);
    fd = -1;
    if (r != 0 || rename(tmp, path) != 0) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL; /* renamed: nothing to remove */
    r = cs_file_sync_dir(path);
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    free(text);
    return r;
}
