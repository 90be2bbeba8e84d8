/*  tests/fuzz/config_fuzz.c - fuzz target for config file parsing.
 *
 *  Target: cs_config_parse() (common/config.c), the parser of config text;
 *  also exercises cs_config_set(), cs_config_format() and cs_config_get().
 *  Properties checked besides memory safety: every accepted config can be
 *  rebuilt pair by pair with cs_config_set(), and formats to text that
 *  parses back to the same pairs in the same order.  Deterministic.
 *  Seed corpus: tests/fuzz/corpus/config/.
 */
#include "prelude.h"

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_config *c = NULL, *copy = NULL, *back = NULL;
    size_t line = 0, len = 0;
    char *text = NULL;

    if (cs_config_parse((const char *)data, size, &c, &line) != 0) {
        if (c != NULL)
            abort(); /* failure must leave nothing behind */
        return 0;
    }
    if (line != 0)
        abort();
    copy = cs_config_new();
    for (size_t i = 0; i < cs_config_count(c); i++) {
        const char *key = cs_config_key(c, i);
        if (cs_config_set(copy, key, cs_config_get(c, key)) != 0)
            abort();
    }
    /* A parsed config is never bigger than its input, plus " = " per pair
       which may exceed the file limit: then formatting must say so. */
    int r = cs_config_format(c, NULL, &text, &len);
    if (r == 0) {
        if (cs_config_parse(text, len, &back, &line) != 0 ||
            cs_config_count(back) != cs_config_count(c))
            abort();
        for (size_t i = 0; i < cs_config_count(c); i++) {
            const char *key = cs_config_key(c, i);
            if (strcmp(cs_config_key(back, i), key) != 0 ||
                strcmp(cs_config_get(back, key), cs_config_get(c, key)) != 0)
                abort();
        }
    }
    free(text);
    cs_config_destroy(&back);
    cs_config_destroy(&copy);
    cs_config_destroy(&c);
    return 0;
}
