/*  proto/chunk.c - chunking and resumable reassembly; see chunk.h.
 *
 *  Design notes.  Neither side does pointer arithmetic on envelope bytes
 *  (STYLE.md 21): the splitter walks the envelope with a cs_reader, and the
 *  reassembler keeps what it holds in a cs_writer whose hard maximum is the
 *  envelope's total.  The writer grows geometrically from 64 bytes with
 *  what arrives, so a peer that declares a 64 MiB total and sends one chunk
 *  costs at most twice that chunk, never the declared size; and the total
 *  itself was checked against the reassembler's maximum first.
 *
 *  The reassembler holds only a contiguous prefix.  Accepting chunks out of
 *  order would need a map of holes and gives nothing on a single ordered
 *  ZeroMQ connection, where the only disorder is a resend after a
 *  reconnect; those resends start at or before the held offset, and the
 *  already-held part of them is ignored (not compared: the id check at the
 *  end covers every byte kept, and bytes not kept cannot matter).
 *
 *  The id is checked once, over the assembled envelope, when its last byte
 *  arrives.  A mismatch drops everything: we cannot tell which chunk was
 *  bad, so the only safe resume point is 0.
 */
#include "proto_prelude.h"

#include "chunk.h"
#include "err.h"
#include "mem.h"
#include "reader.h"
#include "writer.h"

/* Stands in for the bytes of an empty envelope given as NULL, so that no
   reader ever offsets a NULL pointer. */
static const uint8_t s_empty[1];

void
cs_chunk_id_from_bytes(const uint8_t *p, size_t len, struct cs_chunk_id *id)
{
    int r;

    assert(p != NULL || len == 0);
    r = crypto_generichash(id->b, sizeof id->b, p != NULL ? p : s_empty, len,
                           NULL, 0);
    /* Fails only for output or key sizes outside BLAKE2b's range. */
    assert(r == 0);
    (void)r;
}

void
cs_splitter_init(struct cs_splitter *sp, const uint8_t *p, size_t len,
                 size_t data_max)
{
    assert(p != NULL || len == 0);
    assert(len <= CS_ENVELOPE_MAX);
    assert(data_max > 0 && data_max <= CS_CHUNK_DATA_MAX);
    sp->p = p != NULL ? p : s_empty;
    sp->len = len;
    cs_reader_init(&sp->rd, sp->p, sp->len);
    sp->data_max = data_max;
    sp->pulled = false;
    cs_chunk_id_from_bytes(p, len, &sp->id);
}

int
cs_splitter_seek(struct cs_splitter *sp, uint64_t offset)
{
    struct cs_reader rd;
    struct cs_view skipped;

    /* The offset comes from the peer: compare before narrowing it. */
    if (offset > sp->len)
        return CS_ERR_INVALID;
    cs_reader_init(&rd, sp->p, sp->len);
    if (cs_reader_bytes(&rd, &skipped, (size_t)offset) != 0)
        return CS_ERR_INVALID;
    sp->rd = rd;
    sp->pulled = false;
    return 0;
}

bool
cs_splitter_done(const struct cs_splitter *sp)
{
    return cs_reader_left(&sp->rd) == 0 && (sp->len > 0 || sp->pulled);
}

void
cs_splitter_pull(struct cs_splitter *sp, struct cs_chunk *c)
{
    size_t left, n;
    int r;

    assert(!cs_splitter_done(sp));
    left = cs_reader_left(&sp->rd);
    n = left < sp->data_max ? left : sp->data_max;
    c->id = sp->id;
    c->total = sp->len;
    c->offset = sp->len - left;
    r = cs_reader_bytes(&sp->rd, &c->data, n);
    assert(r == 0); /* n <= left */
    (void)r;
    sp->pulled = true;
}

/* One envelope being reassembled. */
struct cs_reasm {
    size_t max_total;      /* largest envelope accepted, bytes */
    bool active;           /* an envelope is in progress (or complete) */
    bool complete;         /* all of it held and its id verified */
    struct cs_chunk_id id; /* of the envelope, from its first chunk */
    size_t total;          /* its length, from its first chunk */
    struct cs_writer held; /* the prefix held; its max is total */
};

struct cs_reasm *
cs_reasm_new(size_t max_total)
{
    struct cs_reasm *reasm = cs_xcalloc(1, sizeof *reasm);

    reasm->max_total =
        max_total < CS_ENVELOPE_MAX ? max_total : CS_ENVELOPE_MAX;
    cs_writer_init(&reasm->held, 0);
    return reasm;
}

void
cs_reasm_destroy(struct cs_reasm **reasm)
{
    if (*reasm == NULL)
        return;
    cs_writer_free(&(*reasm)->held);
    free(*reasm);
    *reasm = NULL;
}

/* Checks what a chunk says about itself, before any state is consulted. */
static int
s_chunk_check(const struct cs_reasm *reasm, const struct cs_chunk *c)
{
    if (c->data.len > CS_CHUNK_DATA_MAX || c->total > reasm->max_total)
        return CS_ERR_TOO_BIG;
    if (c->offset > c->total || c->data.len > c->total - c->offset)
        return CS_ERR_FORMAT;
    if (c->data.len == 0 && c->total != 0)
        return CS_ERR_FORMAT; /* no progress possible; the splitter never
                                 sends one */
    return 0;
}

/* Appends the part of c's data past the held offset; the caller checked
   that c starts at or before it. */
static int
s_append_tail(struct cs_reasm *reasm, const struct cs_chunk *c)
{
    size_t skip = cs_writer_len(&reasm->held) - (size_t)c->offset;
    struct cs_reader rd;
    struct cs_view v;
    int r;

    if (c->data.len <= skip)
        return 0; /* nothing new (only the empty envelope gets here) */
    cs_reader_init(&rd, c->data.p, c->data.len);
    if ((r = cs_reader_bytes(&rd, &v, skip)) != 0)
        return r;
    if ((r = cs_reader_bytes(&rd, &v, cs_reader_left(&rd))) != 0)
        return r;
    return cs_writer_put(&reasm->held, v.p, v.len);
}

/* Checks the id of the complete envelope: sets reasm->complete, or drops it. */
static int
s_verify(struct cs_reasm *reasm)
{
    struct cs_chunk_id got;

    cs_chunk_id_from_bytes(cs_writer_data(&reasm->held),
                           cs_writer_len(&reasm->held), &got);
    if (sodium_memcmp(got.b, reasm->id.b, sizeof got.b) != 0) {
        cs_reasm_reset(reasm);
        return CS_ERR_CRYPTO;
    }
    reasm->complete = true;
    return 0;
}

int
cs_reasm_push(struct cs_reasm *reasm, const struct cs_chunk *c,
              enum cs_reasm_status *status)
{
    bool started = false;
    int r;

    assert(c->data.p != NULL || c->data.len == 0);
    *status = CS_REASM_NONE;
    if ((r = s_chunk_check(reasm, c)) != 0)
        return r;
    if (reasm->active &&
        sodium_memcmp(c->id.b, reasm->id.b, sizeof reasm->id.b) != 0)
        return CS_REASM_ERR_OTHER;
    if (reasm->active && c->total != reasm->total)
        return CS_ERR_FORMAT;
    if (c->offset > cs_writer_len(&reasm->held))
        return CS_REASM_ERR_GAP; /* also: idle and offset > 0 */
    if (!reasm->active) {
        /* c->total <= reasm->max_total was checked: safe to narrow. */
        reasm->active = true;
        reasm->id = c->id;
        reasm->total = (size_t)c->total;
        cs_writer_init(&reasm->held, reasm->total);
        started = true;
    }
    if (!started && c->data.len <= cs_writer_len(&reasm->held) - c->offset) {
        *status = CS_REASM_DUPLICATE;
        return 0;
    }
    if ((r = s_append_tail(reasm, c)) != 0) {
        cs_reasm_reset(reasm); /* cannot happen: held + new <= total = max */
        return r;
    }
    if (cs_writer_len(&reasm->held) < reasm->total) {
        *status = CS_REASM_MORE;
        return 0;
    }
    if ((r = s_verify(reasm)) != 0)
        return r;
    *status = CS_REASM_COMPLETE;
    return 0;
}

bool
cs_reasm_active(const struct cs_reasm *reasm)
{
    return reasm->active;
}

bool
cs_reasm_complete(const struct cs_reasm *reasm)
{
    return reasm->complete;
}

uint64_t
cs_reasm_offset(const struct cs_reasm *reasm)
{
    return cs_writer_len(&reasm->held);
}

void
cs_reasm_id(const struct cs_reasm *reasm, struct cs_chunk_id *id)
{
    *id = reasm->id;
}

int
cs_reasm_take(struct cs_reasm *reasm, uint8_t **p, size_t *len)
{
    int r;

    *p = NULL;
    *len = 0;
    if (!reasm->complete)
        return CS_ERR_INVALID;
    if ((r = cs_writer_take(&reasm->held, p, len)) != 0)
        return r;
    cs_reasm_reset(reasm);
    return 0;
}

void
cs_reasm_reset(struct cs_reasm *reasm)
{
    cs_writer_free(&reasm->held);
    cs_writer_init(&reasm->held, 0);
    reasm->active = false;
    reasm->complete = false;
    reasm->total = 0;
    memset(&reasm->id, 0, sizeof reasm->id);
}
