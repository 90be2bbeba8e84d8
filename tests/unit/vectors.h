/*  tests/unit/vectors.h - reads protocol test vectors (STYLE.md 38).
 *
 *  A vector is a text file tests/vectors/<name>.vec quoted by PROTOCOL.md:
 *      # comment lines
 *      input 93 01 a3 66 6f 6f      (hex, spaces allowed, may repeat: the
 *      input c0                      lines are concatenated)
 *      expect field = value          (the decode, one line each, in order)
 *      error CS_ERR_FORMAT           (or: decoding must fail with this)
 *  A test decodes the input, renders what it decoded as "field = value"
 *  lines, and compares them with the expect lines (vector_check).
 */
#ifndef CS_TEST_VECTORS_H
#define CS_TEST_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CS_VECTOR_DIR
#error "CS_VECTOR_DIR must name tests/vectors (set by tests/CMakeLists.txt)"
#endif

#define VECTOR_LINES_MAX 64    /* expect lines per vector */
#define VECTOR_LINE_MAX 4096   /* bytes per input line */
#define VECTOR_EXPECT_MAX 4096 /* bytes per expect line */

struct vector {
    char name[256]; /* file name without .vec */
    uint8_t *input; /* decoded hex (malloc'd) */
    size_t len;     /* bytes of input */
    char expect[VECTOR_LINES_MAX][VECTOR_EXPECT_MAX]; /* expected lines */
    size_t nexpect;                                   /* how many */
    char error[64]; /* expected error name, or "" */
};

static int
vector_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void
vector_free(struct vector *v)
{
    free(v->input);
    memset(v, 0, sizeof *v);
}

/* Loads tests/vectors/<name>.vec.  Returns 0, or -1 (and prints why). */
static int
vector_load(const char *name, struct vector *v)
{
    char path[1024], line[VECTOR_LINE_MAX];
    FILE *f;

    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(path, sizeof path, "%s/%s.vec", CS_VECTOR_DIR, name);
    if ((f = fopen(path, "r")) == NULL) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (strncmp(line, "input ", 6) == 0) {
            int hi = -1;
            for (const char *p = line + 6; *p; p++) {
                int d = vector_hex((unsigned char)*p);
                if (d < 0)
                    continue;
                if (hi < 0) {
                    hi = d;
                    continue;
                }
                v->input = realloc(v->input, v->len + 1);
                if (v->input == NULL)
                    abort();
                v->input[v->len++] = (uint8_t)(hi << 4 | d);
                hi = -1;
            }
        } else if (strncmp(line, "expect ", 7) == 0 &&
                   v->nexpect < VECTOR_LINES_MAX) {
            snprintf(v->expect[v->nexpect++], VECTOR_EXPECT_MAX, "%s",
                     line + 7);
        } else if (strncmp(line, "error ", 6) == 0) {
            snprintf(v->error, sizeof v->error, "%s", line + 6);
        }
    }
    fclose(f);
    if (v->input == NULL)
        v->input = malloc(1); /* an empty input is a valid vector */
    return 0;
}

/* Compares rendered lines got[0..n) with the vector's expect lines; prints
   each difference.  Returns the number of differences. */
static int
vector_check(const struct vector *v, char *const *got, size_t n)
{
    int diffs = 0;
    size_t max = n > v->nexpect ? n : v->nexpect;
    for (size_t i = 0; i < max; i++) {
        const char *want = i < v->nexpect ? v->expect[i] : "(nothing)";
        const char *have = i < n ? got[i] : "(nothing)";
        if (strcmp(want, have) != 0) {
            fprintf(stderr, "%s: line %zu: expected \"%s\", decoded \"%s\"\n",
                    v->name, i + 1, want, have);
            diffs++;
        }
    }
    return diffs;
}

#endif
