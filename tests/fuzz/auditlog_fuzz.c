/*  tests/fuzz/auditlog_fuzz.c - fuzz target for the audit log decoders.
 *
 *  Target: cs_leaf_decode() (proto/auditlog.c) over the input as one leaf,
 *  and cs_audit_archive_open()/next() over the input as an archive (an
 *  auditor fetches it from the server, or is handed it on a stick).
 *  Properties checked besides memory safety: a decoded leaf re-encodes,
 *  and that encoding decodes to the same encoding again (a fixed point:
 *  appended elements of later versions are dropped once); every archive
 *  record's bytes lie inside the input, the reader always advances, and
 *  iteration ends with CS_ERR_NOT_FOUND or an error, never a loop.  Any
 *  breach abort()s.
 *  Seed corpus: tests/fuzz/corpus/auditlog/.
 */
#include "proto_prelude.h"

#include "auditlog.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool ok)
{
    if (!ok)
        abort();
}

static void
s_leaf(const uint8_t *data, size_t size)
{
    struct cs_leaf l, l2;
    struct cs_writer w1, w2;

    if (cs_leaf_decode(data, size, &l) != 0)
        return;
    cs_writer_init(&w1, CS_AUDIT_LEAF_MAX + 64);
    cs_writer_init(&w2, CS_AUDIT_LEAF_MAX + 64);
    require(cs_leaf_encode(&w1, &l) == 0);
    require(cs_writer_len(&w1) <= size);
    require(cs_leaf_decode(cs_writer_data(&w1), cs_writer_len(&w1), &l2) == 0);
    require(l2.kind == l.kind && l2.at_ms == l.at_ms);
    require(cs_leaf_encode(&w2, &l2) == 0);
    require(cs_writer_len(&w1) == cs_writer_len(&w2) &&
            memcmp(cs_writer_data(&w1), cs_writer_data(&w2),
                   cs_writer_len(&w1)) == 0);
    cs_writer_free(&w1);
    cs_writer_free(&w2);
}

static void
s_archive(const uint8_t *data, size_t size)
{
    struct cs_audit_archive a;
    struct cs_audit_rec rec;
    size_t left;
    int r;

    if (cs_audit_archive_open(&a, data, size) != 0)
        return;
    for (;;) {
        left = cs_reader_left(&a.rd);
        r = cs_audit_archive_next(&a, &rec);
        if (r != 0)
            break;
        require(cs_reader_left(&a.rd) < left);
        if (rec.type != CS_AUDIT_REC_HEAD)
            require(rec.bytes.len == 0 ||
                    (rec.bytes.p >= data &&
                     rec.bytes.p + rec.bytes.len <= data + size));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_leaf(data, size);
    s_archive(data, size);
    return 0;
}
