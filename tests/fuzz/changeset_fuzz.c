/*  tests/fuzz/changeset_fuzz.c - libFuzzer target for proto/changeset.c.
 *
 *  Targets: cs_changeset_decode, cs_changeset_encode, cs_changeset_count,
 *  cs_changeset_at, cs_changeset_changes, cs_changeset_destroy.
 *
 *  Arbitrary bytes are decoded.  Besides "no crash, no leak, no sanitizer
 *  report", the contract is checked and any breach abort()s: a failed
 *  decode returns one of the four decoding errors and no changeset; a
 *  successful one holds only changes the encoder accepts (it refuses
 *  exactly what a decoder would), and their encoding decodes again to the
 *  same changes and re-encodes to the same bytes (the encoder's output is
 *  canonical even when the input was not: other integer widths, float32,
 *  repeated dictionary entries).  Deterministic: the encoder's random hash
 *  key never shows in its output.  Logging is silenced with
 *  CIGSYNC_LOG=none.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "changeset.h"
#include "err.h"
#include "proto.h"
#include "writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool cond)
{
    if (!cond)
        abort();
}

static bool
same_value(const struct cs_value *a, const struct cs_value *b)
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
same_change(const struct cs_change *a, const struct cs_change *b)
{
    return strcmp(a->table, b->table) == 0 &&
           strcmp(a->row_id, b->row_id) == 0 && strcmp(a->col, b->col) == 0 &&
           a->op == b->op && same_value(&a->value, &b->value) &&
           a->hlc.t == b->hlc.t &&
           memcmp(&a->origin, &b->origin, sizeof a->origin) == 0 &&
           a->origin_seq == b->origin_seq && a->has_base == b->has_base &&
           a->base_hlc.t == b->base_hlc.t &&
           memcmp(&a->base_origin, &b->base_origin, sizeof a->base_origin) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_changeset *cs = NULL, *again = NULL;
    struct cs_writer w, w2;
    size_t n;
    int r;

    r = cs_changeset_decode(size ? data : NULL, size, &cs);
    if (r != 0) {
        require(cs == NULL);
        require(r == CS_ERR_TRUNCATED || r == CS_ERR_FORMAT ||
                r == CS_ERR_TOO_BIG || r == CS_ERR_TRAILING);
        return 0;
    }
    require(cs != NULL);
    n = cs_changeset_count(cs);
    require(n <= size);
    cs_writer_init(&w, CS_PAYLOAD_RAW_MAX);
    cs_writer_init(&w2, CS_PAYLOAD_RAW_MAX);
    require(cs_changeset_encode(cs_changeset_changes(cs), n, &w) == 0);
    require(cs_changeset_decode(cs_writer_data(&w), cs_writer_len(&w),
                                &again) == 0);
    require(cs_changeset_count(again) == n);
    for (size_t i = 0; i < n; i++)
        require(same_change(cs_changeset_at(cs, i), cs_changeset_at(again, i)));
    require(cs_changeset_encode(cs_changeset_changes(again), n, &w2) == 0);
    require(cs_writer_len(&w2) == cs_writer_len(&w) &&
            memcmp(cs_writer_data(&w2), cs_writer_data(&w),
                   cs_writer_len(&w)) == 0);
    cs_writer_free(&w);
    cs_writer_free(&w2);
    cs_changeset_destroy(&again);
    cs_changeset_destroy(&cs);
    require(cs == NULL && again == NULL);
    return 0;
}
