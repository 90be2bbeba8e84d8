/*  tests/fuzz/chunk_fuzz.c - fuzz target for chunk reassembly.
 *
 *  Targets: cs_reasm_push(), _take(), _reset() and cs_splitter_seek(),
 *  _pull() (proto/chunk.c), with a reassembler whose maximum is small
 *  (S_MAX_TOTAL) so that both sides of the limit are reached.
 *  Input: a u16be length L and the L bytes of an envelope E (fewer if the
 *  input ends), then operations of S_OP_BYTES each: an opcode byte and two
 *  u16be arguments a and b:
 *      0  push a chunk of E: offset a, b bytes (both unchecked)
 *      1  the same under the id of E without its last byte, total L - 1
 *      2  the same with total b instead of L
 *      3  the same with one byte of the data changed
 *      4  cs_reasm_reset()
 *      5  cs_reasm_take()
 *      6  a chunk with total and offset built from a and b above 16 bits
 *      7  a sender restarting: splitter over E, seek(a), chunks of b % max
 *         + 1 bytes, pushed until the first refusal
 *  Properties checked besides memory safety: a push returns 0 exactly when
 *  its status is not NONE; the held offset never passes the total, grows
 *  only on MORE/COMPLETE, stays on refusals and drops to 0 only on a
 *  CS_ERR_CRYPTO or reset; a taken envelope hashes to the id it was
 *  assembled under and is E or E without its last byte.  Deterministic.
 *  Seed corpus: tests/fuzz/corpus/chunk/.
 */
#include "proto_prelude.h"

#include "chunk.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_TOTAL 2048 /* the reassembler's limit: E may exceed it */
#define S_OP_BYTES 5     /* opcode, a, b */
#define S_OPS 8          /* opcodes, taken modulo */
#define S_U16 65536u     /* values of a u16 */
#define S_SHIFT 16       /* to build values above 16 bits */
#define S_SPLIT_MAX 64   /* bytes per chunk of opcode 7, at most */

/* E at the start, zeros after: any offset a plus length b stays inside. */
static uint8_t s_scratch[2 * S_U16];
static uint8_t s_changed[2 * S_U16]; /* a copy of s_scratch for opcode 3 */

struct s_state {
    struct cs_reasm *r;      /* the reassembler under test */
    size_t len;              /* L */
    struct cs_chunk_id id;   /* of E */
    struct cs_chunk_id id_1; /* of E without its last byte */
};

static uint16_t
s_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Pushes c and checks the properties that hold for every push. */
static int
s_push(struct s_state *st, const struct cs_chunk *c)
{
    uint64_t before = cs_reasm_offset(st->r);
    enum cs_reasm_status status = CS_REASM_COMPLETE;
    int r = cs_reasm_push(st->r, c, &status);
    uint64_t after = cs_reasm_offset(st->r);

    if ((r == 0) != (status != CS_REASM_NONE))
        abort();
    if (after > S_MAX_TOTAL)
        abort();
    if (r == CS_ERR_CRYPTO) {
        if (after != 0 || cs_reasm_active(st->r))
            abort();
        return r;
    }
    if (r != 0 || status == CS_REASM_DUPLICATE) {
        if (after != before)
            abort();
        return r;
    }
    if (status == CS_REASM_MORE && after <= before)
        abort();
    if (status == CS_REASM_COMPLETE && !cs_reasm_complete(st->r))
        abort();
    return 0;
}

/* Takes the envelope if complete; checks what comes out. */
static void
s_take(struct s_state *st)
{
    struct cs_chunk_id want, got;
    uint8_t *p = NULL;
    size_t len = 0;
    bool complete = cs_reasm_complete(st->r);

    cs_reasm_id(st->r, &want);
    if (cs_reasm_take(st->r, &p, &len) != 0) {
        if (complete || p != NULL || len != 0)
            abort();
        return;
    }
    cs_chunk_id_from_bytes(p, len, &got);
    if (memcmp(got.b, want.b, sizeof got.b) != 0)
        abort();
    /* Only E and E without its last byte have ids a chunk can name. */
    if (memcmp(got.b, st->id.b, sizeof got.b) == 0) {
        if (len != st->len)
            abort();
    } else if (memcmp(got.b, st->id_1.b, sizeof got.b) != 0 ||
               len + 1 != st->len) {
        abort();
    }
    if (len > 0 && memcmp(p, s_scratch, len) != 0)
        abort();
    if (cs_reasm_active(st->r) || cs_reasm_offset(st->r) != 0)
        abort();
    free(p);
}

/* Opcode 7: a sender restarting at a with chunks of b % max + 1 bytes. */
static void
s_resend(struct s_state *st, uint16_t a, uint16_t b)
{
    struct cs_splitter sp;
    struct cs_chunk c;
    uint64_t next = a;
    size_t split = (size_t)b % S_SPLIT_MAX + 1;

    cs_splitter_init(&sp, s_scratch, st->len, split);
    if (cs_splitter_seek(&sp, a) != 0) {
        if (a <= st->len)
            abort();
        return;
    }
    while (!cs_splitter_done(&sp)) {
        cs_splitter_pull(&sp, &c);
        if (c.offset != next || c.total != st->len || c.data.len > split)
            abort();
        next += c.data.len;
        if (s_push(st, &c) != 0)
            return;
    }
    if (next != st->len)
        abort();
}

static void
s_op(struct s_state *st, const uint8_t *op)
{
    uint16_t a = s_u16(op + 1), b = s_u16(op + 3);
    struct cs_chunk c;

    c.id = st->id;
    c.total = st->len;
    c.offset = a;
    c.data.p = s_scratch + a;
    c.data.len = b;
    switch (op[0] % S_OPS) {
    case 0:
        break;
    case 1:
        c.id = st->id_1;
        c.total = st->len > 0 ? st->len - 1 : 0;
        break;
    case 2:
        c.total = b;
        break;
    case 3:
        memcpy(s_changed, s_scratch, sizeof s_changed);
        s_changed[a + (b > 0 ? (size_t)(a ^ b) % b : 0)] ^= 1;
        c.data.p = s_changed + a;
        break;
    case 4:
        cs_reasm_reset(st->r);
        return;
    case 5:
        s_take(st);
        return;
    case 6:
        c.total = (uint64_t)a << S_SHIFT | b;
        c.offset = (uint64_t)b << S_SHIFT | a;
        c.data.p = s_scratch;
        c.data.len = a;
        break;
    case 7:
        s_resend(st, a, b);
        return;
    default:
        abort();
    }
    (void)s_push(st, &c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct s_state st;
    size_t off = 2;

    if (size < 2)
        return 0;
    memset(&st, 0, sizeof st);
    st.len = s_u16(data);
    if (st.len > size - off)
        st.len = size - off;
    memset(s_scratch, 0, sizeof s_scratch);
    memcpy(s_scratch, data + off, st.len);
    off += st.len;
    cs_chunk_id_from_bytes(s_scratch, st.len, &st.id);
    cs_chunk_id_from_bytes(s_scratch, st.len > 0 ? st.len - 1 : 0, &st.id_1);
    st.r = cs_reasm_new(S_MAX_TOTAL);
    while (size - off >= S_OP_BYTES) {
        s_op(&st, data + off);
        off += S_OP_BYTES;
    }
    cs_reasm_destroy(&st.r);
    return 0;
}
