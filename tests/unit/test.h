/*  tests/unit/test.h - the unit test harness (STYLE.md 36).
 *
 *  A test file defines static void functions and one table:
 *      static const struct cs_test_case cases[] = {
 *          {"name", fn}, ... , {NULL, NULL}};
 *      CS_TEST_MAIN(cases)
 *  Run with no argument: every case; with names: just those.  The process
 *  exits 1 if any check failed, and prints each failure with file and line.
 */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cs_test_case {
    const char *name; /* printed on failure; selectable on the command line */
    void (*fn)(void); /* the test body */
};

static int cs_test_failures;        /* failed checks so far */
static const char *cs_test_current; /* name of the running case */

#define CS_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__,        \
                    __LINE__, cs_test_current, #cond);                         \
            cs_test_failures++;                                                \
        }                                                                      \
    } while (0)

#define CS_CHECK_INT(a, b)                                                     \
    do {                                                                       \
        long long cs_a_ = (long long)(a), cs_b_ = (long long)(b);              \
        if (cs_a_ != cs_b_) {                                                  \
            fprintf(stderr, "%s:%d: [%s] %s == %lld, expected %s == %lld\n",   \
                    __FILE__, __LINE__, cs_test_current, #a, cs_a_, #b,        \
                    cs_b_);                                                    \
            cs_test_failures++;                                                \
        }                                                                      \
    } while (0)

#define CS_CHECK_STR(a, b)                                                     \
    do {                                                                       \
        const char *cs_a_ = (a), *cs_b_ = (b);                                 \
        if (cs_a_ == NULL || cs_b_ == NULL || strcmp(cs_a_, cs_b_) != 0) {     \
            fprintf(stderr, "%s:%d: [%s] %s == \"%s\", expected \"%s\"\n",     \
                    __FILE__, __LINE__, cs_test_current, #a,                   \
                    cs_a_ ? cs_a_ : "(null)", cs_b_ ? cs_b_ : "(null)");       \
            cs_test_failures++;                                                \
        }                                                                      \
    } while (0)

/* Stops the current case (not the process) when cond fails: for checks that
   later checks depend on. */
#define CS_REQUIRE(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: [%s] required check failed: %s\n",         \
                    __FILE__, __LINE__, cs_test_current, #cond);               \
            cs_test_failures++;                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

static int
cs_test_run(const struct cs_test_case *cases, int argc, char **argv)
{
    int ran = 0;
    for (const struct cs_test_case *c = cases; c->name != NULL; c++) {
        int selected = argc <= 1;
        for (int i = 1; i < argc; i++)
            selected |= strcmp(argv[i], c->name) == 0;
        if (!selected)
            continue;
        int before = cs_test_failures;
        cs_test_current = c->name;
        c->fn();
        printf("%s %s\n", cs_test_failures == before ? "ok  " : "FAIL",
               c->name);
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no test case matched\n");
        return 1;
    }
    return cs_test_failures == 0 ? 0 : 1;
}

#define CS_TEST_MAIN(cases)                                                    \
    int main(int argc, char **argv) { return cs_test_run((cases), argc, argv); }

#endif
