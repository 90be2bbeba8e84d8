/*  proto/msg.c - the messages of a sync session; see msg.h.
 *
 *  Design notes.
 *
 *  Each message has one s_<name>_decode() that reads the elements after
 *  the type top to bottom like its table in PROTOCOL.md
 *  (STYLE.md 25), and one cs_msg_<name>_encode() that writes the same
 *  elements in the same order.  The checks that a value must pass beyond
 *  its msgpack type and length (seq >= 1, sorted heads, UTF-8, a chunk
 *  inside its envelope) live in s_*_check() functions shared by both
 *  sides, so an encoder cannot write what a decoder refuses: they return
 *  CS_ERR_FORMAT, which the encoders report as CS_ERR_INVALID.
 *
 *  Lists are validated in full by the decoder with the very iterator the
 *  caller later uses, reading a copy of the reader; the bytes it consumed
 *  become the list's view.  So the decoder needs no memory per entry and
 *  the caller's iteration cannot meet anything the decoder did not accept.
 *  Heads must be sorted by origin: that makes "one head per origin" a
 *  check against the previous entry instead of a search.
 *
 *  Encoders build the frame in a writer of their own, bounded by
 *  CS_FRAME_MAX, and append it to the caller's writer only when whole.
 */
#include "proto_prelude.h"

#include "msg.h"

/* Elements of each message after its type, in this version (spec tables). */
enum s_fields {
    S_HELLO_FIELDS = 6,   /* major minor schema deployment node heads */
    S_STATUS_FIELDS = 3,  /* heads pending digest */
    S_BATCH_FIELDS = 1,   /* envelope */
    S_CHUNK_FIELDS = 4,   /* envelope total offset data */
    S_ACK_FIELDS = 2,     /* heads resume */
    S_CREDIT_FIELDS = 2,  /* bytes batches */
    S_REFUSED_FIELDS = 3, /* origin seq refusals */
    S_ERROR_FIELDS = 2,   /* code message */
    S_PING_FIELDS = 1,    /* token */
    S_SINCE_FIELDS = 1,   /* size */
    S_TREE_FIELDS = 6,    /* size time root sig from proof */
    S_RECEIPT_FIELDS = 4, /* leaf index size proof */
    S_LOG_GET_FIELDS = 1, /* offset */
    S_LOG_FIELDS = 3,     /* offset total data */
    S_HEAD_FIELDS = 3,    /* a head: origin seq hash */
    S_RESUME_FIELDS = 2,  /* ACK's resume point: envelope offset */
    S_REFUSAL_FIELDS = 5, /* a refusal: table row field code reason */
    S_VERSION_FIELDS = 2  /* HELLO's major and minor, in every version */
};

/* ---- shared checks ---------------------------------------------------- */

/* Checks a head, given the one before it in its list (NULL for the first):
   seq >= 1 and origins strictly increasing. */
static int
s_head_check(const struct cs_msg_head *h, const struct cs_node_id *last)
{
    if (h->seq == 0)
        return CS_ERR_FORMAT;
    if (last != NULL && memcmp(last->b, h->origin.b, sizeof last->b) >= 0)
        return CS_ERR_FORMAT;
    return 0;
}

/* Checks the text v: at least min bytes, at most max, UTF-8. */
static int
s_text_check(const struct cs_view *v, size_t min, size_t max)
{
    if (v->len > max)
        return CS_ERR_TOO_BIG;
    if (v->len < min || !cs_utf8_valid(v->p, v->len))
        return CS_ERR_FORMAT;
    return 0;
}

/* Checks an error code carried by ERROR or REFUSED: a negative int. */
static int
s_code_check(int64_t code)
{
    if (code >= 0 || code < INT_MIN)
        return CS_ERR_FORMAT;
    return 0;
}

/* Checks a refusal's fields, for the encoder (the decoder checks each
   field as it reads it). */
static int
s_refusal_check(const struct cs_msg_refusal *f)
{
    int r;

    if ((r = s_text_check(&f->table, 1, CS_NAME_MAX)) != 0 ||
        (r = s_text_check(&f->row, 1, CS_MSG_ROW_MAX)) != 0 ||
        (r = s_text_check(&f->field, 0, CS_NAME_MAX)) != 0 ||
        (r = s_code_check(f->code)) != 0 ||
        (r = s_text_check(&f->reason, 0, CS_MESSAGE_TEXT_MAX)) != 0)
        return r;
    return 0;
}

/* Checks a chunk's numbers: its bytes lie inside an envelope of at most
   CS_ENVELOPE_MAX bytes, and only the one chunk of an empty envelope is
   empty (chunk.h); subtraction only (STYLE.md 23). */
static int
s_chunk_check(const struct cs_chunk *c)
{
    if (c->data.len > CS_CHUNK_DATA_MAX || c->total > CS_ENVELOPE_MAX)
        return CS_ERR_TOO_BIG;
    if (c->offset > c->total || c->data.len > c->total - c->offset)
        return CS_ERR_FORMAT;
    if (c->data.len == 0 && c->total != 0)
        return CS_ERR_FORMAT;
    return 0;
}

/* ---- reading ---------------------------------------------------------- */

/* Reads an array header of exactly want elements. */
static int
s_array_of(struct cs_reader *rd, size_t want)
{
    size_t n;
    int r;

    if ((r = cs_reader_array(rd, &n, want)) != 0)
        return r;
    if (n != want)
        return CS_ERR_FORMAT;
    return 0;
}

/* Reads a str from rd into v, then checks it as s_text_check() does with
   min and max. */
static int
s_text(struct cs_reader *rd, struct cs_view *v, size_t min, size_t max)
{
    int r;

    if ((r = cs_reader_str(rd, v, max)) != 0)
        return r;
    return s_text_check(v, min, max);
}

/* Reads a negative int code. */
static int
s_code(struct cs_reader *rd, int *code)
{
    int64_t v;
    int r;

    *code = 0;
    if ((r = cs_reader_int(rd, &v)) != 0 || (r = s_code_check(v)) != 0)
        return r;
    *code = (int)v;
    return 0;
}

void
cs_msg_iter_init(struct cs_msg_iter *it, const struct cs_msg_list *l)
{
    memset(it, 0, sizeof *it);
    cs_reader_init(&it->rd, l->items.p, l->items.len);
    it->left = l->n;
}

int
cs_msg_iter_pull_head(struct cs_msg_iter *it, struct cs_msg_head *h)
{
    int r;

    memset(h, 0, sizeof *h);
    if (it->left == 0)
        return CS_ERR_NOT_FOUND;
    if ((r = s_array_of(&it->rd, S_HEAD_FIELDS)) != 0 ||
        (r = cs_reader_bin_exact(&it->rd, h->origin.b, sizeof h->origin.b)) !=
            0 ||
        (r = cs_reader_uint(&it->rd, &h->seq)) != 0 ||
        (r = cs_reader_bin_exact(&it->rd, h->hash, sizeof h->hash)) != 0 ||
        (r = s_head_check(h, it->started ? &it->last : NULL)) != 0)
        goto out;
    it->last = h->origin;
    it->started = true;
    it->left--;
    r = 0;
out:
    if (r != 0)
        memset(h, 0, sizeof *h);
    return r;
}

int
cs_msg_iter_pull_refusal(struct cs_msg_iter *it, struct cs_msg_refusal *f)
{
    int r;

    memset(f, 0, sizeof *f);
    if (it->left == 0)
        return CS_ERR_NOT_FOUND;
    if ((r = s_array_of(&it->rd, S_REFUSAL_FIELDS)) != 0 ||
        (r = s_text(&it->rd, &f->table, 1, CS_NAME_MAX)) != 0 ||
        (r = s_text(&it->rd, &f->row, 1, CS_MSG_ROW_MAX)) != 0 ||
        (r = s_text(&it->rd, &f->field, 0, CS_NAME_MAX)) != 0 ||
        (r = s_code(&it->rd, &f->code)) != 0 ||
        (r = s_text(&it->rd, &f->reason, 0, CS_MESSAGE_TEXT_MAX)) != 0)
        goto out;
    it->left--;
    r = 0;
out:
    if (r != 0)
        memset(f, 0, sizeof *f);
    return r;
}

/* Which entries a list holds. */
enum s_list_kind {
    S_LIST_HEADS,   /* struct cs_msg_head */
    S_LIST_REFUSALS /* struct cs_msg_refusal */
};

/* Reads a list: pulls every entry with the iterator, then takes the bytes
   it consumed as the list's view.
     rd    the reader, at the list's array header
     kind  what the entries are
     min   fewest entries allowed
     max   most entries allowed
     l     receives the list */
static int
s_list(struct cs_reader *rd, enum s_list_kind kind, size_t min, size_t max,
       struct cs_msg_list *l)
{
    struct cs_msg_iter it;
    struct cs_msg_head head;
    struct cs_msg_refusal refusal;
    size_t n;
    int r;

    memset(l, 0, sizeof *l);
    if ((r = cs_reader_array(rd, &n, max)) != 0)
        return r;
    if (n < min)
        return CS_ERR_FORMAT;
    memset(&it, 0, sizeof it);
    it.rd = *rd; /* a copy: rd moves only past a list that is whole */
    it.left = n;
    for (size_t i = 0; i < n; i++) {
        if (kind == S_LIST_HEADS)
            r = cs_msg_iter_pull_head(&it, &head);
        else
            r = cs_msg_iter_pull_refusal(&it, &refusal);
        if (r != 0)
            return r;
    }
    if ((r = cs_reader_bytes(rd, &l->items,
                             cs_reader_left(rd) - cs_reader_left(&it.rd))) != 0)
        return r;
    l->n = n;
    return 0;
}

/* Checks that a message has (have) at least want elements after its
   type, and sets *extra to how many more, appended by a later minor
   version, are to be skipped. */
static int
s_fields(size_t have, size_t want, size_t *extra)
{
    *extra = 0;
    if (have < want)
        return CS_ERR_FORMAT;
    *extra = have - want;
    return 0;
}

/* Steps over n elements this version does not know. */
static int
s_skip(struct cs_reader *rd, size_t n)
{
    int r;

    for (size_t i = 0; i < n; i++) {
        if ((r = cs_reader_skip(rd, CS_MSG_SKIP_DEPTH)) != 0)
            return r;
    }
    return 0;
}

/* HELLO: major minor | schema deployment node heads.  The version comes
   first and is checked before the rest, whose layout it decides.
     rd     the reader, after the type
     have   elements after the type
     m      receives the fields
     other  set when the failure is another major version */
static int
s_hello_decode(struct cs_reader *rd, size_t have, struct cs_msg_hello *m,
               bool *other)
{
    uint64_t major, minor;
    size_t extra;
    int r;

    if (have < S_VERSION_FIELDS)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_uint(rd, &major)) != 0 ||
        (r = cs_reader_uint(rd, &minor)) != 0)
        return r;
    m->major = major;
    m->minor = minor;
    if (major != CS_PROTO_MAJOR) {
        *other = true;
        return CS_ERR_VERSION;
    }
    if ((r = s_fields(have, S_HELLO_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->schema)) != 0 ||
        (r = cs_reader_bin_exact(rd, m->deployment, sizeof m->deployment)) !=
            0 ||
        (r = cs_reader_bin_exact(rd, m->node.b, sizeof m->node.b)) != 0 ||
        (r = s_list(rd, S_LIST_HEADS, 0, CS_HEADS_MAX, &m->heads)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* STATUS: heads pending digest. */
static int
s_status_decode(struct cs_reader *rd, size_t have, struct cs_msg_status *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_STATUS_FIELDS, &extra)) != 0 ||
        (r = s_list(rd, S_LIST_HEADS, 0, CS_HEADS_MAX, &m->heads)) != 0 ||
        (r = cs_reader_uint(rd, &m->pending)) != 0 ||
        (r = cs_reader_bin_exact(rd, m->digest, sizeof m->digest)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* BATCH: envelope. */
static int
s_batch_decode(struct cs_reader *rd, size_t have, struct cs_msg_batch *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_BATCH_FIELDS, &extra)) != 0 ||
        (r = cs_reader_bin(rd, &m->envelope, CS_MSG_BATCH_MAX)) != 0)
        return r;
    if (m->envelope.len == 0)
        return CS_ERR_FORMAT;
    return s_skip(rd, extra);
}

/* CHUNK: envelope total offset data. */
static int
s_chunk_decode(struct cs_reader *rd, size_t have, struct cs_chunk *c)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_CHUNK_FIELDS, &extra)) != 0 ||
        (r = cs_reader_bin_exact(rd, c->id.b, sizeof c->id.b)) != 0 ||
        (r = cs_reader_uint(rd, &c->total)) != 0 ||
        (r = cs_reader_uint(rd, &c->offset)) != 0 ||
        (r = cs_reader_bin(rd, &c->data, CS_CHUNK_DATA_MAX)) != 0 ||
        (r = s_chunk_check(c)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* ACK's resume point: nil, or [envelope offset]. */
static int
s_resume_decode(struct cs_reader *rd, struct cs_msg_ack *m)
{
    int r;

    if (cs_reader_peek_nil(rd))
        return cs_reader_nil(rd);
    if ((r = s_array_of(rd, S_RESUME_FIELDS)) != 0 ||
        (r = cs_reader_bin_exact(rd, m->envelope.b, sizeof m->envelope.b)) !=
            0 ||
        (r = cs_reader_uint(rd, &m->offset)) != 0)
        return r;
    if (m->offset > CS_ENVELOPE_MAX)
        return CS_ERR_TOO_BIG;
    m->has_resume = true;
    return 0;
}

/* ACK: heads resume. */
static int
s_ack_decode(struct cs_reader *rd, size_t have, struct cs_msg_ack *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_ACK_FIELDS, &extra)) != 0 ||
        (r = s_list(rd, S_LIST_HEADS, 0, CS_HEADS_MAX, &m->heads)) != 0 ||
        (r = s_resume_decode(rd, m)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* CREDIT: bytes batches. */
static int
s_credit_decode(struct cs_reader *rd, size_t have, struct cs_msg_credit *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_CREDIT_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->bytes)) != 0 ||
        (r = cs_reader_uint(rd, &m->batches)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* REFUSED: origin seq refusals. */
static int
s_refused_decode(struct cs_reader *rd, size_t have, struct cs_msg_refused *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_REFUSED_FIELDS, &extra)) != 0 ||
        (r = cs_reader_bin_exact(rd, m->origin.b, sizeof m->origin.b)) != 0 ||
        (r = cs_reader_uint(rd, &m->seq)) != 0)
        return r;
    if (m->seq == 0)
        return CS_ERR_FORMAT;
    if ((r = s_list(rd, S_LIST_REFUSALS, 1, CS_REFUSED_MAX, &m->refusals)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* ERROR: code message. */
static int
s_error_decode(struct cs_reader *rd, size_t have, struct cs_msg_error *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_ERROR_FIELDS, &extra)) != 0 ||
        (r = s_code(rd, &m->code)) != 0 ||
        (r = s_text(rd, &m->message, 0, CS_MESSAGE_TEXT_MAX)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* PING and PONG: token. */
static int
s_ping_decode(struct cs_reader *rd, size_t have, struct cs_msg_ping *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_PING_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->token)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* A proof: an array of at most CS_MERKLE_PROOF_MAX 32-byte bins. */
static int
s_proof_decode(struct cs_reader *rd, struct cs_msg_proof *p)
{
    size_t n;
    int r;

    if ((r = cs_reader_array(rd, &n, CS_MERKLE_PROOF_MAX)) != 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = cs_reader_bin_exact(rd, p->h[i], CS_MERKLE_HASH_BYTES)) != 0)
            return r;
    p->n = n;
    return 0;
}

/* SINCE: size. */
static int
s_since_decode(struct cs_reader *rd, size_t have, struct cs_msg_since *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_SINCE_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->size)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* TREE: size time root sig from proof. */
static int
s_tree_decode(struct cs_reader *rd, size_t have, struct cs_msg_tree *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_TREE_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->size)) != 0 ||
        (r = cs_reader_uint(rd, &m->time_ms)) != 0 ||
        (r = cs_reader_bin_exact(rd, m->root, sizeof m->root)) != 0 ||
        (r = cs_reader_bin_exact(rd, m->sig, sizeof m->sig)) != 0 ||
        (r = cs_reader_uint(rd, &m->from)) != 0 ||
        (r = s_proof_decode(rd, &m->proof)) != 0)
        return r;
    if (m->from > m->size)
        return CS_ERR_FORMAT;
    return s_skip(rd, extra);
}

/* RECEIPT: leaf index size proof. */
static int
s_receipt_decode(struct cs_reader *rd, size_t have, struct cs_msg_receipt *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_RECEIPT_FIELDS, &extra)) != 0 ||
        (r = cs_reader_bin(rd, &m->leaf, CS_MSG_LEAF_MAX)) != 0 ||
        (r = cs_reader_uint(rd, &m->index)) != 0 ||
        (r = cs_reader_uint(rd, &m->size)) != 0 ||
        (r = s_proof_decode(rd, &m->proof)) != 0)
        return r;
    if (m->leaf.len == 0 || m->index >= m->size)
        return CS_ERR_FORMAT;
    return s_skip(rd, extra);
}

/* LOG_GET: offset. */
static int
s_log_get_decode(struct cs_reader *rd, size_t have, struct cs_msg_log_get *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_LOG_GET_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->offset)) != 0)
        return r;
    return s_skip(rd, extra);
}

/* LOG: offset total data. */
static int
s_log_decode(struct cs_reader *rd, size_t have, struct cs_msg_log *m)
{
    size_t extra;
    int r;

    if ((r = s_fields(have, S_LOG_FIELDS, &extra)) != 0 ||
        (r = cs_reader_uint(rd, &m->offset)) != 0 ||
        (r = cs_reader_uint(rd, &m->total)) != 0 ||
        (r = cs_reader_bin(rd, &m->data, CS_CHUNK_DATA_MAX)) != 0)
        return r;
    if (m->offset > m->total || m->data.len > m->total - m->offset)
        return CS_ERR_FORMAT;
    return s_skip(rd, extra);
}

/* Decodes the message body.
     rd     the reader, after the type
     type   the message type
     have   elements after the type
     m      receives the fields in m->u
     other  as for s_hello_decode() */
static int
s_body_decode(struct cs_reader *rd, uint64_t type, size_t have,
              struct cs_msg *m, bool *other)
{
    switch (type) {
    case CS_MSG_HELLO:
        return s_hello_decode(rd, have, &m->u.hello, other);
    case CS_MSG_STATUS:
        return s_status_decode(rd, have, &m->u.status);
    case CS_MSG_BATCH:
        return s_batch_decode(rd, have, &m->u.batch);
    case CS_MSG_CHUNK:
        return s_chunk_decode(rd, have, &m->u.chunk);
    case CS_MSG_ACK:
        return s_ack_decode(rd, have, &m->u.ack);
    case CS_MSG_CREDIT:
        return s_credit_decode(rd, have, &m->u.credit);
    case CS_MSG_REFUSED:
        return s_refused_decode(rd, have, &m->u.refused);
    case CS_MSG_ERROR:
        return s_error_decode(rd, have, &m->u.error);
    case CS_MSG_PING:
    case CS_MSG_PONG:
        return s_ping_decode(rd, have, &m->u.ping);
    case CS_MSG_SINCE:
        return s_since_decode(rd, have, &m->u.since);
    case CS_MSG_TREE:
        return s_tree_decode(rd, have, &m->u.tree);
    case CS_MSG_RECEIPT:
        return s_receipt_decode(rd, have, &m->u.receipt);
    case CS_MSG_LOG_GET:
        return s_log_get_decode(rd, have, &m->u.log_get);
    case CS_MSG_LOG:
        return s_log_decode(rd, have, &m->u.log);
    default:
        return CS_ERR_FORMAT; /* unknown type */
    }
}

int
cs_msg_decode(const uint8_t *p, size_t len, struct cs_msg *m)
{
    struct cs_reader rd;
    uint64_t type = 0;
    bool other = false;
    size_t n;
    int r;

    assert(p != NULL || len == 0);
    memset(m, 0, sizeof *m);
    if (len > CS_FRAME_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    cs_reader_init(&rd, p, len);
    if ((r = cs_reader_array(&rd, &n, CS_MSG_FIELDS_MAX)) != 0)
        goto out;
    if (n == 0) {
        r = CS_ERR_FORMAT;
        goto out;
    }
    if ((r = cs_reader_uint(&rd, &type)) != 0 ||
        (r = s_body_decode(&rd, type, n - 1, m, &other)) != 0 ||
        (r = cs_reader_end(&rd)) != 0)
        goto out;
    m->type = (enum cs_msg_type)type;
    r = 0;
out:
    if (r == 0)
        return 0;
    /* Another major's HELLO: keep its version for cs_msg_check_version(). */
    if (other) {
        uint64_t major = m->u.hello.major, minor = m->u.hello.minor;
        memset(m, 0, sizeof *m);
        m->type = CS_MSG_HELLO;
        m->u.hello.major = major;
        m->u.hello.minor = minor;
        return r;
    }
    memset(m, 0, sizeof *m);
    return r;
}

int
cs_msg_check_version(uint64_t major, uint64_t minor, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    if (major == CS_PROTO_MAJOR)
        return 0;
    if (errlen > 0)
        snprintf(err, errlen,
                 "protocol version %" PRIu64 ".%" PRIu64
                 " is not supported; this node speaks %d.%d",
                 major, minor, CS_PROTO_MAJOR, CS_PROTO_MINOR);
    return CS_ERR_VERSION;
}

/* ---- writing ---------------------------------------------------------- */

/* Maps a shared check's CS_ERR_FORMAT to the encoders' CS_ERR_INVALID. */
static int
s_invalid(int r)
{
    return r == CS_ERR_FORMAT ? CS_ERR_INVALID : r;
}

/* Starts a frame in f (initialised, bounded by CS_FRAME_MAX): the array
   header for the type and its fields elements, then the type. */
static int
s_begin(struct cs_writer *f, enum cs_msg_type type, uint32_t fields)
{
    int r;

    if ((r = cs_writer_mp_array(f, 1 + fields)) != 0 ||
        (r = cs_writer_mp_uint(f, (uint64_t)type)) != 0)
        return r;
    return 0;
}

/* Finishes a frame: appends f to w if r (the encoder's result so far) is
   0 and f is whole, and frees f.  Returns the first error. */
static int
s_end(struct cs_writer *w, struct cs_writer *f, int r)
{
    if (r == 0)
        r = cs_writer_status(f);
    if (r == 0)
        r = cs_writer_put(w, cs_writer_data(f), cs_writer_len(f));
    cs_writer_free(f);
    return r;
}

/* Writes a heads list after checking every entry. */
static int
s_heads_write(struct cs_writer *f, const struct cs_msg_head *heads, size_t n)
{
    int r;

    if (n > CS_HEADS_MAX)
        return CS_ERR_TOO_BIG;
    if ((r = cs_writer_mp_array(f, (uint32_t)n)) != 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct cs_msg_head *h = &heads[i];
        if ((r = s_head_check(h, i > 0 ? &heads[i - 1].origin : NULL)) != 0)
            return s_invalid(r);
        if ((r = cs_writer_mp_array(f, S_HEAD_FIELDS)) != 0 ||
            (r = cs_writer_mp_bin(f, h->origin.b, sizeof h->origin.b)) != 0 ||
            (r = cs_writer_mp_uint(f, h->seq)) != 0 ||
            (r = cs_writer_mp_bin(f, h->hash, sizeof h->hash)) != 0)
            return r;
    }
    return 0;
}

int
cs_msg_hello_encode(struct cs_writer *w, const struct cs_msg_hello *m,
                    const struct cs_msg_head *heads, size_t n)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    assert(heads != NULL || n == 0);
    if ((r = s_begin(&f, CS_MSG_HELLO, S_HELLO_FIELDS)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->major)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->minor)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->schema)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->deployment, sizeof m->deployment)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->node.b, sizeof m->node.b)) != 0 ||
        (r = s_heads_write(&f, heads, n)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_status_encode(struct cs_writer *w, const struct cs_msg_status *m,
                     const struct cs_msg_head *heads, size_t n)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    assert(heads != NULL || n == 0);
    if ((r = s_begin(&f, CS_MSG_STATUS, S_STATUS_FIELDS)) != 0 ||
        (r = s_heads_write(&f, heads, n)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->pending)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->digest, sizeof m->digest)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_batch_encode(struct cs_writer *w, const struct cs_msg_batch *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if (m->envelope.len > CS_MSG_BATCH_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (m->envelope.len == 0) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_BATCH, S_BATCH_FIELDS)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->envelope.p, m->envelope.len)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_chunk_encode(struct cs_writer *w, const struct cs_chunk *c)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if ((r = s_chunk_check(c)) != 0) {
        r = s_invalid(r);
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_CHUNK, S_CHUNK_FIELDS)) != 0 ||
        (r = cs_writer_mp_bin(&f, c->id.b, sizeof c->id.b)) != 0 ||
        (r = cs_writer_mp_uint(&f, c->total)) != 0 ||
        (r = cs_writer_mp_uint(&f, c->offset)) != 0 ||
        (r = cs_writer_mp_bin(&f, c->data.p, c->data.len)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

/* Writes ACK's resume point: nil, or [envelope offset]. */
static int
s_resume_write(struct cs_writer *f, const struct cs_msg_ack *m)
{
    int r;

    if (!m->has_resume)
        return cs_writer_mp_nil(f);
    if (m->offset > CS_ENVELOPE_MAX)
        return CS_ERR_TOO_BIG;
    if ((r = cs_writer_mp_array(f, S_RESUME_FIELDS)) != 0 ||
        (r = cs_writer_mp_bin(f, m->envelope.b, sizeof m->envelope.b)) != 0 ||
        (r = cs_writer_mp_uint(f, m->offset)) != 0)
        return r;
    return 0;
}

int
cs_msg_ack_encode(struct cs_writer *w, const struct cs_msg_ack *m,
                  const struct cs_msg_head *heads, size_t n)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    assert(heads != NULL || n == 0);
    if ((r = s_begin(&f, CS_MSG_ACK, S_ACK_FIELDS)) != 0 ||
        (r = s_heads_write(&f, heads, n)) != 0 ||
        (r = s_resume_write(&f, m)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_credit_encode(struct cs_writer *w, const struct cs_msg_credit *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if ((r = s_begin(&f, CS_MSG_CREDIT, S_CREDIT_FIELDS)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->bytes)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->batches)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

/* Writes one refusal after checking it. */
static int
s_refusal_write(struct cs_writer *f, const struct cs_msg_refusal *x)
{
    int r;

    if ((r = s_refusal_check(x)) != 0)
        return s_invalid(r);
    if ((r = cs_writer_mp_array(f, S_REFUSAL_FIELDS)) != 0 ||
        (r = cs_writer_mp_str(f, x->table.p, x->table.len)) != 0 ||
        (r = cs_writer_mp_str(f, x->row.p, x->row.len)) != 0 ||
        (r = cs_writer_mp_str(f, x->field.p, x->field.len)) != 0 ||
        (r = cs_writer_mp_int(f, x->code)) != 0 ||
        (r = cs_writer_mp_str(f, x->reason.p, x->reason.len)) != 0)
        return r;
    return 0;
}

int
cs_msg_refused_encode(struct cs_writer *w, const struct cs_msg_refused *m,
                      const struct cs_msg_refusal *refusals, size_t n)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if (n > CS_REFUSED_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (n == 0 || m->seq == 0) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_REFUSED, S_REFUSED_FIELDS)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->origin.b, sizeof m->origin.b)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->seq)) != 0 ||
        (r = cs_writer_mp_array(&f, (uint32_t)n)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((r = s_refusal_write(&f, &refusals[i])) != 0)
            goto out;
    }
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_error_encode(struct cs_writer *w, const struct cs_msg_error *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if ((r = s_code_check(m->code)) != 0 ||
        (r = s_text_check(&m->message, 0, CS_MESSAGE_TEXT_MAX)) != 0) {
        r = s_invalid(r);
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_ERROR, S_ERROR_FIELDS)) != 0 ||
        (r = cs_writer_mp_int(&f, m->code)) != 0 ||
        (r = cs_writer_mp_str(&f, m->message.p, m->message.len)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

/* Shared body of the PING and PONG encoders: appends to w the message of
   type type carrying m's token. */
static int
s_ping_write(struct cs_writer *w, enum cs_msg_type type,
             const struct cs_msg_ping *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if ((r = s_begin(&f, type, S_PING_FIELDS)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->token)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_ping_encode(struct cs_writer *w, const struct cs_msg_ping *m)
{
    return s_ping_write(w, CS_MSG_PING, m);
}

int
cs_msg_pong_encode(struct cs_writer *w, const struct cs_msg_ping *m)
{
    return s_ping_write(w, CS_MSG_PONG, m);
}

/* Writes a proof. */
static int
s_proof_write(struct cs_writer *f, const struct cs_msg_proof *p)
{
    int r;

    if (p->n > CS_MERKLE_PROOF_MAX)
        return CS_ERR_TOO_BIG;
    if ((r = cs_writer_mp_array(f, (uint32_t)p->n)) != 0)
        return r;
    for (size_t i = 0; i < p->n; i++)
        if ((r = cs_writer_mp_bin(f, p->h[i], CS_MERKLE_HASH_BYTES)) != 0)
            return r;
    return 0;
}

int
cs_msg_since_encode(struct cs_writer *w, const struct cs_msg_since *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    r = s_begin(&f, CS_MSG_SINCE, S_SINCE_FIELDS);
    if (r == 0)
        r = cs_writer_mp_uint(&f, m->size);
    return s_end(w, &f, r);
}

int
cs_msg_tree_encode(struct cs_writer *w, const struct cs_msg_tree *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if (m->from > m->size) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_TREE, S_TREE_FIELDS)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->size)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->time_ms)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->root, sizeof m->root)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->sig, sizeof m->sig)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->from)) != 0 ||
        (r = s_proof_write(&f, &m->proof)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_receipt_encode(struct cs_writer *w, const struct cs_msg_receipt *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if (m->leaf.len > CS_MSG_LEAF_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (m->leaf.len == 0 || m->index >= m->size) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_RECEIPT, S_RECEIPT_FIELDS)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->leaf.p, m->leaf.len)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->index)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->size)) != 0 ||
        (r = s_proof_write(&f, &m->proof)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}

int
cs_msg_log_get_encode(struct cs_writer *w, const struct cs_msg_log_get *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    r = s_begin(&f, CS_MSG_LOG_GET, S_LOG_GET_FIELDS);
    if (r == 0)
        r = cs_writer_mp_uint(&f, m->offset);
    return s_end(w, &f, r);
}

int
cs_msg_log_encode(struct cs_writer *w, const struct cs_msg_log *m)
{
    struct cs_writer f;
    int r;

    cs_writer_init(&f, CS_FRAME_MAX);
    if (m->data.len > CS_CHUNK_DATA_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (m->offset > m->total || m->data.len > m->total - m->offset) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if ((r = s_begin(&f, CS_MSG_LOG, S_LOG_FIELDS)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->offset)) != 0 ||
        (r = cs_writer_mp_uint(&f, m->total)) != 0 ||
        (r = cs_writer_mp_bin(&f, m->data.len ? m->data.p : (const uint8_t *)"",
                              m->data.len)) != 0)
        goto out;
    r = 0;
out:
    return s_end(w, &f, r);
}
