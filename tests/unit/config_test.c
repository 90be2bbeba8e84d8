/*  tests/unit/config_test.c - tests of common/config.c.
 *
 *  Well-formed files (comments, blanks, CRLF, BOM, UTF-8), every kind of
 *  malformed line with the line number reported, the size limits at and
 *  one past each bound, duplicates, cs_config_set() rules, and an atomic
 *  save/load round trip that leaves no temporary file behind.
 */
#include "prelude.h"

#include <dirent.h>

#include "config.h"
#include "err.h"
#include "mem.h"
#include "test.h"

/* Silences stderr (refusals log one line each). */
static int
quiet_begin(void)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (saved < 0 || devnull < 0)
        abort();
    dup2(devnull, STDERR_FILENO);
    close(devnull);
    return saved;
}

static void
quiet_end(int saved)
{
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

/* Parses a string literal (its NUL excluded). */
static int
parse_str(const char *text, struct cs_config **out, size_t *line)
{
    return cs_config_parse(text, strlen(text), out, line);
}

static void
test_parse_good(void)
{
    static const char text[] =
        "\xef\xbb\xbf# cigsync node configuration\r\n"
        "\n"
        "   \t  \n"
        "  # indented comment = not a pair\n"
        "server.endpoint = tcp://hub.example.org:5560\n"
        "office.id=isfana\r\n"
        "\toffice.name \t=\t \xd0\x98\xd1\x81\xd1\x84\xd0\xb0\xd0\xbd\xd0\xb0 "
        "\n"
        "empty =\n"
        "a.b_c9 = x = y # not a comment\n"
        "z = \"quoted\" stays   as is\n"
        "last = no newline at end";
    struct cs_config *c = NULL;
    size_t line = 99;

    CS_REQUIRE(cs_config_parse(text, sizeof text - 1, &c, &line) == 0);
    CS_CHECK_INT(line, 0);
    CS_CHECK_INT(cs_config_count(c), 7);
    CS_CHECK_STR(cs_config_get(c, "server.endpoint"),
                 "tcp://hub.example.org:5560");
    CS_CHECK_STR(cs_config_get(c, "office.id"), "isfana");
    CS_CHECK_STR(cs_config_get(c, "office.name"),
                 "\xd0\x98\xd1\x81\xd1\x84\xd0\xb0\xd0\xbd\xd0\xb0");
    CS_CHECK_STR(cs_config_get(c, "empty"), "");
    CS_CHECK_STR(cs_config_get(c, "a.b_c9"), "x = y # not a comment");
    CS_CHECK_STR(cs_config_get(c, "z"), "\"quoted\" stays   as is");
    CS_CHECK_STR(cs_config_get(c, "last"), "no newline at end");
    CS_CHECK(cs_config_get(c, "missing") == NULL);
    CS_CHECK(cs_config_get(c, "office") == NULL);
    CS_CHECK(cs_config_get(c, "office.id.x") == NULL);
    CS_CHECK_STR(cs_config_key(c, 0), "server.endpoint");
    CS_CHECK_STR(cs_config_key(c, 6), "last");
    cs_config_destroy(&c);
    CS_CHECK(c == NULL);
    cs_config_destroy(&c);

    /* Empty input, only comments, only a BOM. */
    static const char *const empties[] = {"", "\n\n", "# x\n#\n",
                                          "\xef\xbb\xbf", "\r\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        CS_CHECK_INT(parse_str(empties[i], &c, &line), 0);
        CS_REQUIRE(c != NULL);
        CS_CHECK_INT(cs_config_count(c), 0);
        cs_config_destroy(&c);
    }
}

static void
test_parse_bad(void)
{
    static const struct {
        const char *text;
        int r;
        size_t line;
    } cases[] = {
        {"novalue\n", CS_ERR_FORMAT, 1},
        {"a = 1\nnovalue\n", CS_ERR_FORMAT, 2},
        {"a = 1\n\n# c\nb 2\n", CS_ERR_FORMAT, 4},
        {"= value\n", CS_ERR_FORMAT, 1},
        {"Key = v\n", CS_ERR_FORMAT, 1},
        {"kEy = v\n", CS_ERR_FORMAT, 1},
        {"1key = v\n", CS_ERR_FORMAT, 1},
        {"_key = v\n", CS_ERR_FORMAT, 1},
        {".key = v\n", CS_ERR_FORMAT, 1},
        {"a-b = v\n", CS_ERR_FORMAT, 1},
        {"a b = v\n", CS_ERR_FORMAT, 1},
        {"\xd0\xba = v\n", CS_ERR_FORMAT, 1},              /* Cyrillic key */
        {"a = 1\r\nb = 2\r\na = 3\r\n", CS_ERR_FORMAT, 3}, /* duplicate */
        {"a = v\x01w\n", CS_ERR_FORMAT, 1},
        {"a = v\tw\n", CS_ERR_FORMAT, 1},
        {"a = v\x7fw\n", CS_ERR_FORMAT, 1},
        {"a = v\xc2\x85w\n", CS_ERR_FORMAT, 1},            /* C1 NEL */
        {"a = v\xc2\x9f\n", CS_ERR_FORMAT, 1},             /* C1, last one */
        {"a = v\xffw\n", CS_ERR_FORMAT, 1},                /* not UTF-8 */
        {"a = v\xd0\n", CS_ERR_FORMAT, 1},                 /* truncated UTF-8 */
        {"a = \xc0\xaf\n", CS_ERR_FORMAT, 1},              /* overlong */
        {"a = \xed\xa0\x80\n", CS_ERR_FORMAT, 1},          /* surrogate */
        {"a = v\rw\n", CS_ERR_FORMAT, 1},                  /* bare CR inside */
        {"a = 1\n\xef\xbb\xbf b = 2\n", CS_ERR_FORMAT, 2}, /* BOM not first */
        {"a = 1\r\r\n", CS_ERR_FORMAT, 1},
        {"a = 1\n\n\n\n\n\n\n\n\nx\n", CS_ERR_FORMAT, 10},
    };
    struct cs_config *c = NULL;
    size_t line;

    int saved = quiet_begin();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        line = 0;
        c = (struct cs_config *)1;
        int r = parse_str(cases[i].text, &c, &line);
        if (r != cases[i].r || line != cases[i].line)
            fprintf(stdout, "case %zu: r=%d line=%zu\n", i, r, line);
        CS_CHECK_INT(r, cases[i].r);
        CS_CHECK_INT(line, cases[i].line);
        CS_CHECK(c == NULL);
    }
    /* NUL bytes are errors, not string ends. */
    static const char nul[] = "a = 1\nb = x\0y\n";
    CS_CHECK_INT(cs_config_parse(nul, sizeof nul - 1, &c, &line),
                 CS_ERR_FORMAT);
    CS_CHECK_INT(line, 2);
    static const char nul_key[] = "a = 1\n\0 = 2\n";
    CS_CHECK_INT(cs_config_parse(nul_key, sizeof nul_key - 1, &c, &line),
                 CS_ERR_FORMAT);
    CS_CHECK_INT(line, 2);
    /* err_line may be NULL. */
    CS_CHECK_INT(parse_str("bad\n", &c, NULL), CS_ERR_FORMAT);
    quiet_end(saved);
    /* The input is bounded by len, not by a NUL: a prefix that ends
       before the bad part parses. */
    static const char prefix[] = "a = 1\nb = 2\nbad";
    CS_CHECK_INT(cs_config_parse(prefix, sizeof prefix - 4, &c, &line), 0);
    CS_CHECK_INT(cs_config_count(c), 2);
    cs_config_destroy(&c);
}

static void
test_limits(void)
{
    struct cs_config *c = NULL;
    size_t line;
    char key[CS_CONFIG_KEY_MAX + 2];
    char *text;

    memset(key, 'k', sizeof key);
    key[CS_CONFIG_KEY_MAX] = '\0';
    text = cs_xasprintf("a = 1\n%s = v\n", key);
    CS_CHECK_INT(parse_str(text, &c, &line), 0);
    CS_CHECK_STR(cs_config_get(c, key), "v");
    cs_config_destroy(&c);
    free(text);

    int saved = quiet_begin();
    key[CS_CONFIG_KEY_MAX] = 'k';
    key[CS_CONFIG_KEY_MAX + 1] = '\0';
    text = cs_xasprintf("a = 1\n%s = v\n", key);
    CS_CHECK_INT(parse_str(text, &c, &line), CS_ERR_TOO_BIG);
    CS_CHECK_INT(line, 2);
    free(text);
    quiet_end(saved);

    char *value = cs_xmalloc(CS_CONFIG_VALUE_MAX + 2);
    memset(value, 'v', CS_CONFIG_VALUE_MAX + 1);
    value[CS_CONFIG_VALUE_MAX] = '\0';
    text = cs_xasprintf("\n\nx = %s\n", value);
    CS_CHECK_INT(parse_str(text, &c, &line), 0);
    CS_CHECK_INT(strlen(cs_config_get(c, "x")), CS_CONFIG_VALUE_MAX);
    cs_config_destroy(&c);
    free(text);
    saved = quiet_begin();
    value[CS_CONFIG_VALUE_MAX] = 'v';
    value[CS_CONFIG_VALUE_MAX + 1] = '\0';
    text = cs_xasprintf("\n\nx = %s\n", value);
    CS_CHECK_INT(parse_str(text, &c, &line), CS_ERR_TOO_BIG);
    CS_CHECK_INT(line, 3);
    free(text);
    quiet_end(saved);
    free(value);

    /* Whole file: exactly the maximum passes, one byte more does not. */
    char *big = cs_xmalloc(CS_CONFIG_FILE_MAX + 1);
    memset(big, '#', CS_CONFIG_FILE_MAX + 1);
    big[0] = 'a';
    big[1] = '=';
    big[2] = '\n';
    CS_CHECK_INT(cs_config_parse(big, CS_CONFIG_FILE_MAX, &c, &line), 0);
    CS_CHECK_INT(cs_config_count(c), 1);
    cs_config_destroy(&c);
    saved = quiet_begin();
    CS_CHECK_INT(cs_config_parse(big, CS_CONFIG_FILE_MAX + 1, &c, &line),
                 CS_ERR_TOO_BIG);
    quiet_end(saved);
    CS_CHECK_INT(line, 0);
    CS_CHECK(c == NULL);
    free(big);
}

static void
test_set(void)
{
    struct cs_config *c = cs_config_new();
    CS_CHECK_INT(cs_config_count(c), 0);
    CS_CHECK_INT(cs_config_set(c, "b", "2"), 0);
    CS_CHECK_INT(cs_config_set(c, "a", "1"), 0);
    CS_CHECK_INT(cs_config_set(c, "c.d", "\xd0\x98 x=y #z"), 0);
    CS_CHECK_INT(cs_config_set(c, "b", "two"), 0); /* replaced in place */
    CS_CHECK_INT(cs_config_count(c), 3);
    CS_CHECK_STR(cs_config_key(c, 0), "b");
    CS_CHECK_STR(cs_config_get(c, "b"), "two");
    CS_CHECK_STR(cs_config_key(c, 1), "a");
    CS_CHECK_STR(cs_config_key(c, 2), "c.d");
    CS_CHECK_INT(cs_config_set(c, "e", ""), 0);

    static const char *const bad_keys[] = {"",    "B",   "1a", "a b",
                                           "a=b", "a-b", " a", "a\n"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        CS_CHECK_INT(cs_config_set(c, bad_keys[i], "v"), CS_ERR_FORMAT);
    static const char *const bad_values[] = {" v",   "v ",   "\tv",     "a\nb",
                                             "a\rb", "\xff", "\xc2\x80"};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        CS_CHECK_INT(cs_config_set(c, "a", bad_values[i]), CS_ERR_FORMAT);
    char key[CS_CONFIG_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    CS_CHECK_INT(cs_config_set(c, key, "v"), CS_ERR_TOO_BIG);
    char value[CS_CONFIG_VALUE_MAX + 2];
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    CS_CHECK_INT(cs_config_set(c, "a", value), CS_ERR_TOO_BIG);
    /* Refusals changed nothing. */
    CS_CHECK_INT(cs_config_count(c), 4);
    CS_CHECK_STR(cs_config_get(c, "a"), "1");
    cs_config_destroy(&c);
}

static void
test_format(void)
{
    struct cs_config *c = cs_config_new();
    char *text = NULL;
    size_t len = 0;

    CS_CHECK_INT(cs_config_format(c, NULL, &text, &len), 0);
    CS_CHECK_STR(text, "");
    CS_CHECK_INT(len, 0);
    free(text);
    CS_REQUIRE(cs_config_set(c, "office.id", "kochkor") == 0);
    CS_REQUIRE(cs_config_set(c, "empty", "") == 0);
    CS_CHECK_INT(
        cs_config_format(c, "cigsync node\n\nedit with care\n", &text, &len),
        0);
    CS_CHECK_STR(text, "# cigsync node\n#\n# edit with care\n"
                       "office.id = kochkor\nempty = \n");
    CS_CHECK_INT(len, strlen(text));
    free(text);
    CS_CHECK_INT(cs_config_format(c, "tab\there", &text, &len), CS_ERR_INVALID);
    CS_CHECK(text == NULL);
    CS_CHECK_INT(len, 0);

    /* More pairs than a file may hold. */
    char value[CS_CONFIG_VALUE_MAX + 1];
    memset(value, 'v', CS_CONFIG_VALUE_MAX);
    value[CS_CONFIG_VALUE_MAX] = '\0';
    for (int i = 0; i < 64; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        CS_REQUIRE(cs_config_set(c, key, value) == 0);
    }
    int saved = quiet_begin();
    CS_CHECK_INT(cs_config_format(c, NULL, &text, &len), CS_ERR_TOO_BIG);
    quiet_end(saved);
    CS_CHECK(text == NULL);
    cs_config_destroy(&c);
}

static char *
make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = cs_xasprintf("%s/cs_config_test.XXXXXX", base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
    return dir;
}

static size_t
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    if (d == NULL)
        abort();
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void
test_save_load(void)
{
    char *dir = make_tmpdir();
    char *path = cs_xasprintf("%s/cigsync.conf", dir);
    char *missing = cs_xasprintf("%s/missing.conf", dir);
    char *nodir = cs_xasprintf("%s/no/such.conf", dir);
    struct cs_config *c = cs_config_new(), *back = NULL;
    size_t line = 99;
    struct stat st;

    CS_REQUIRE(cs_config_set(c, "server.endpoint", "tcp://10.0.0.1:5560") == 0);
    CS_REQUIRE(cs_config_set(c, "office.name",
                             "\xd0\x9a\xd0\xbe\xd1\x87\xd0\xba\xd0\xbe\xd1"
                             "\x80") == 0);
    CS_REQUIRE(cs_config_set(c, "note", "a = b # c") == 0);
    CS_CHECK_INT(cs_config_save(c, path, "written by config_test"), 0);
    CS_REQUIRE(stat(path, &st) == 0);
    CS_CHECK_INT(st.st_mode & 07777, 0600);
    CS_CHECK_INT(count_entries(dir), 1); /* no temporary left */
    CS_CHECK_INT(cs_config_load(path, &back, &line), 0);
    CS_CHECK_INT(line, 0);
    CS_REQUIRE(back != NULL);
    CS_CHECK_INT(cs_config_count(back), cs_config_count(c));
    for (size_t i = 0; i < cs_config_count(c); i++) {
        CS_CHECK_STR(cs_config_key(back, i), cs_config_key(c, i));
        CS_CHECK_STR(cs_config_get(back, cs_config_key(c, i)),
                     cs_config_get(c, cs_config_key(c, i)));
    }
    cs_config_destroy(&back);

    /* Save replaces the file as a whole. */
    CS_REQUIRE(cs_config_set(c, "note", "changed") == 0);
    CS_CHECK_INT(cs_config_save(c, path, NULL), 0);
    CS_CHECK_INT(cs_config_load(path, &back, NULL), 0);
    CS_REQUIRE(back != NULL);
    CS_CHECK_STR(cs_config_get(back, "note"), "changed");
    cs_config_destroy(&back);
    CS_CHECK_INT(count_entries(dir), 1);

    CS_CHECK_INT(cs_config_load(missing, &back, &line), CS_ERR_NOT_FOUND);
    CS_CHECK(back == NULL);
    int saved = quiet_begin();
    CS_CHECK_INT(cs_config_save(c, nodir, NULL), CS_ERR_IO);
    CS_CHECK_INT(cs_config_save(c, path, "bad\x01header"), CS_ERR_INVALID);
    CS_CHECK_INT(cs_config_load(dir, &back, &line), CS_ERR_IO);

    /* A malformed file reports its line; an oversized one is refused. */
    FILE *f = fopen(missing, "w");
    CS_REQUIRE(f != NULL);
    fputs("# c\na = 1\nb 2\n", f);
    fclose(f);
    CS_CHECK_INT(cs_config_load(missing, &back, &line), CS_ERR_FORMAT);
    CS_CHECK_INT(line, 3);
    f = fopen(missing, "w");
    CS_REQUIRE(f != NULL);
    for (size_t i = 0; i <= CS_CONFIG_FILE_MAX; i++)
        fputc('#', f);
    fclose(f);
    CS_CHECK_INT(cs_config_load(missing, &back, &line), CS_ERR_TOO_BIG);
    CS_CHECK_INT(line, 0);
    quiet_end(saved);
    CS_CHECK_INT(cs_config_load(path, &back, NULL), 0); /* untouched */
    cs_config_destroy(&back);

    unlink(missing);
    unlink(path);
    CS_CHECK(rmdir(dir) == 0);
    cs_config_destroy(&c);
    free(nodir);
    free(missing);
    free(path);
    free(dir);
}

static const struct cs_test_case cases[] = {
    {"parse_good", test_parse_good},
    {"parse_bad", test_parse_bad},
    {"limits", test_limits},
    {"set", test_set},
    {"format", test_format},
    {"save_load", test_save_load},
    {NULL, NULL},
};

CS_TEST_MAIN(cases)
