/*  proto/batch.c - signed, hash-chained, compressed batches; see batch.h.
 *
 *  Design notes.
 *
 *  Sealing writes CS_BATCH_SIG_DOMAIN and the body into one writer, so the
 *  bytes signed are exactly domain || body without a second pass; a reader
 *  then cuts the body out of it as a view (only reader.c and writer.c do
 *  arithmetic on wire bytes, STYLE.md 21).  The hash covers the body alone:
 *  it names the batch in the chain independent of who checks it.
 *
 *  Parsing reads top to bottom like the table in PROTOCOL.md
 *  (STYLE.md 25) and copies fixed-size fields into the struct; variable
 *  ones (body, payload) stay views.  The body's array header is read before
 *  its count is checked so that a body of another layout version is still
 *  reported as a version problem, not as a malformed one.
 *
 *  Compression is refused unless it pays: the zstd output buffer is one
 *  byte shorter than the input, so "did not shrink" is zstd's own
 *  dstSize_tooSmall and never costs more memory than the payload.  The
 *  parser holds the sealer to that (a zstd payload is shorter than
 *  raw_len; a stored one is exactly raw_len), so one payload has one form.
 *
 *  Decompression trusts nothing but raw_len, itself bounded: the payload
 *  must be exactly one zstd frame whose header declares raw_len as its
 *  content size, and it is decompressed in one shot into a buffer of
 *  exactly that size, where zstd stops at the end of the buffer.
 */
#include "proto_prelude.h"

#include "batch.h"
#include "log.h"
#include "mem.h"

static_assert(sizeof(CS_BATCH_SIG_DOMAIN) == CS_BATCH_SIG_DOMAIN_BYTES,
              "the signature domain is 16 characters and a NUL");
static_assert(CS_SIG_BYTES == CS_KEY_SIG_BYTES, "one Ed25519 signature size");

/* Most bytes the wire form adds around the body: array header (1), bin32
   header of the body (5), bin8 header (2) and the signature (64). */
#define S_WIRE_OVERHEAD_MAX (1 + 5 + 2 + CS_SIG_BYTES)
/* Largest body cs_batch_seal() writes, so the wire form fits CS_BATCH_MAX. */
#define S_BODY_MAX (CS_BATCH_MAX - S_WIRE_OVERHEAD_MAX)

/* Checks what the sealer is told (head, payload length len, compression)
   before anything is written. */
static int
s_head_check(const struct cs_batch_head *head, size_t len, int compression)
{
    if (head->seq == 0)
        return CS_ERR_INVALID;
    if (head->seq == 1 &&
        !sodium_is_zero(head->prev_hash, sizeof head->prev_hash))
        return CS_ERR_INVALID;
    if (head->seq > 1 &&
        sodium_is_zero(head->prev_hash, sizeof head->prev_hash))
        return CS_ERR_INVALID;
    if (head->hlc_min.t > head->hlc_max.t)
        return CS_ERR_INVALID;
    if (head->count > CS_BATCH_CHANGES_MAX)
        return CS_ERR_INVALID;
    if (compression != CS_BATCH_COMPRESSION_NONE &&
        compression != CS_BATCH_COMPRESSION_ZSTD)
        return CS_ERR_INVALID;
    if (len > CS_PAYLOAD_RAW_MAX)
        return CS_ERR_TOO_BIG;
    return 0;
}

/* Compresses with zstd when that makes the payload shorter.
     p        the payload
     len      its length
     out      receives the frame (the caller free()s it), or NULL when zstd
              does not shrink the payload
     out_len  receives the frame's length
   Returns 0, CS_ERR_NOMEM or CS_ERR_INTERNAL. */
static int
s_compress(const uint8_t *p, size_t len, uint8_t **out, size_t *out_len)
{
    ZSTD_CCtx *cctx = NULL;
    uint8_t *dst = NULL;
    size_t n;
    int r;

    *out = NULL;
    *out_len = 0;
    if (len <= 1)
        return 0; /* no zstd frame is shorter than one byte */
    if ((cctx = ZSTD_createCCtx()) == NULL) {
        r = CS_ERR_NOMEM;
        goto out;
    }
    /* The content size in the frame header is what cs_batch_payload()
       demands; ZSTD_compress2() writes it by default, this says so. */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
                                            len > CS_BATCH_ZSTD_BIG
                                                ? CS_BATCH_ZSTD_LEVEL_BIG
                                                : CS_BATCH_ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1))) {
        r = CS_ERR_INTERNAL;
        goto out;
    }
    dst = cs_xmalloc(len - 1);
    n = ZSTD_compress2(cctx, dst, len - 1, p, len);
    if (ZSTD_isError(n)) {
        r = 0; /* dstSize_tooSmall: not worth it; store as it is */
        goto out;
    }
    *out = dst;
    *out_len = n;
    dst = NULL;
    r = 0;
out:
    free(dst);
    ZSTD_freeCCtx(cctx);
    return r;
}

/* Appends the body (PROTOCOL.md "Body", fields in order) to w.
     w           the writer, after the signature domain
     origin      node id of the signing key
     head        deployment, seq, prev_hash, HLC range, count
     compression how the payload is stored
     raw_len     payload length before compression
     stored      the payload as stored
     stored_len  its length */
static int
s_body_write(struct cs_writer *w, const struct cs_node_id *origin,
             const struct cs_batch_head *head, int compression, size_t raw_len,
             const uint8_t *stored, size_t stored_len)
{
    int r;

    if ((r = cs_writer_mp_array(w, CS_BATCH_BODY_FIELDS)) != 0 ||
        (r = cs_writer_mp_str(w, CS_BATCH_MAGIC, CS_BATCH_MAGIC_LEN)) != 0 ||
        (r = cs_writer_mp_uint(w, CS_BATCH_VERSION)) != 0 ||
        (r = cs_writer_mp_bin(w, head->deployment, sizeof head->deployment)) !=
            0 ||
        (r = cs_writer_mp_bin(w, origin->b, sizeof origin->b)) != 0 ||
        (r = cs_writer_mp_uint(w, head->seq)) != 0 ||
        (r = cs_writer_mp_bin(w, head->prev_hash, sizeof head->prev_hash)) !=
            0 ||
        (r = cs_writer_mp_uint(w, head->hlc_min.t)) != 0 ||
        (r = cs_writer_mp_uint(w, head->hlc_max.t)) != 0 ||
        (r = cs_writer_mp_uint(w, head->count)) != 0 ||
        (r = cs_writer_mp_uint(w, (uint64_t)compression)) != 0 ||
        (r = cs_writer_mp_uint(w, raw_len)) != 0 ||
        (r = cs_writer_mp_bin(w, stored, stored_len)) != 0)
        return r;
    return 0;
}

int
cs_batch_seal(const struct cs_key *origin, const struct cs_batch_head *head,
              const uint8_t *payload, size_t len, int compression,
              struct cs_writer *out, uint8_t hash[CS_HASH_BYTES])
{
    struct cs_writer signed_msg;
    struct cs_reader rd;
    struct cs_view domain, body;
    struct cs_node_id id;
    uint8_t sig[CS_SIG_BYTES];
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    int stored_as = CS_BATCH_COMPRESSION_NONE;
    int r;

    assert(payload != NULL || len == 0);
    memset(hash, 0, CS_HASH_BYTES);
    cs_writer_init(&signed_msg, CS_BATCH_SIG_DOMAIN_BYTES + S_BODY_MAX);
    if ((r = s_head_check(head, len, compression)) != 0)
        goto out;
    if (compression == CS_BATCH_COMPRESSION_ZSTD) {
        if ((r = s_compress(payload, len, &packed, &packed_len)) != 0)
            goto out;
        if (packed != NULL)
            stored_as = CS_BATCH_COMPRESSION_ZSTD;
    }
    cs_key_node_id(origin, &id);
    if ((r = cs_writer_put(&signed_msg, CS_BATCH_SIG_DOMAIN,
                           CS_BATCH_SIG_DOMAIN_BYTES)) != 0)
        goto out;
    if (packed != NULL)
        r = s_body_write(&signed_msg, &id, head, stored_as, len, packed,
                         packed_len);
    else
        r = s_body_write(&signed_msg, &id, head, stored_as, len, payload, len);
    if (r != 0)
        goto out;
    if ((r = cs_key_sign(origin, cs_writer_data(&signed_msg),
                         cs_writer_len(&signed_msg), sig)) != 0)
        goto out;
    cs_reader_init(&rd, cs_writer_data(&signed_msg),
                   cs_writer_len(&signed_msg));
    if ((r = cs_reader_bytes(&rd, &domain, CS_BATCH_SIG_DOMAIN_BYTES)) != 0 ||
        (r = cs_reader_bytes(&rd, &body, cs_reader_left(&rd))) != 0)
        goto out;
    if ((r = cs_writer_mp_array(out, CS_BATCH_WIRE_FIELDS)) != 0 ||
        (r = cs_writer_mp_bin(out, body.p, body.len)) != 0 ||
        (r = cs_writer_mp_bin(out, sig, sizeof sig)) != 0)
        goto out;
    crypto_generichash(hash, CS_HASH_BYTES, body.p, body.len, NULL, 0);
    r = 0;
out:
    if (r != 0)
        cs_log_err(r, "cannot seal batch %" PRIu64, head->seq);
    free(packed);
    cs_writer_free(&signed_msg);
    return r;
}

/* Reads an array header that must announce exactly want elements.
   Returns 0; CS_ERR_TOO_BIG for more, CS_ERR_FORMAT for fewer, or the
   reader's error. */
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

/* Reads from rd the magic and version, the first two elements of every
   body layout, into b, after the array header announced n elements;
   then checks n for this version. */
static int
s_body_version(struct cs_reader *rd, size_t n, struct cs_batch *b)
{
    struct cs_view magic;
    int r;

    if (n < 2)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_str(rd, &magic, CS_BATCH_MAGIC_LEN)) != 0)
        return r;
    if (magic.len != CS_BATCH_MAGIC_LEN ||
        memcmp(magic.p, CS_BATCH_MAGIC, CS_BATCH_MAGIC_LEN) != 0)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_uint(rd, &b->version)) != 0)
        return r;
    if (b->version != CS_BATCH_VERSION)
        return CS_ERR_VERSION;
    if (n != CS_BATCH_BODY_FIELDS)
        return CS_ERR_FORMAT;
    return 0;
}

/* Decodes the body (PROTOCOL.md "Body", top to bottom) into b. */
static int
s_body_parse(const struct cs_view *body, struct cs_batch *b)
{
    struct cs_reader rd;
    uint64_t compression;
    size_t n;
    int r;

    cs_reader_init(&rd, body->p, body->len);
    /* The count is checked once the version says which layout this is. */
    if ((r = cs_reader_array(&rd, &n, SIZE_MAX)) != 0 ||
        (r = s_body_version(&rd, n, b)) != 0)
        return r;
    if ((r = cs_reader_bin_exact(&rd, b->deployment, sizeof b->deployment)) !=
            0 ||
        (r = cs_reader_bin_exact(&rd, b->origin.b, sizeof b->origin.b)) != 0)
        return r;
    if ((r = cs_reader_uint(&rd, &b->seq)) != 0)
        return r;
    if (b->seq == 0)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_bin_exact(&rd, b->prev_hash, sizeof b->prev_hash)) != 0)
        return r;
    /* seq 1 starts the chain; any later batch links to a real hash. */
    if ((b->seq == 1) != sodium_is_zero(b->prev_hash, sizeof b->prev_hash))
        return CS_ERR_FORMAT;
    if ((r = cs_reader_uint(&rd, &b->hlc_min.t)) != 0 ||
        (r = cs_reader_uint(&rd, &b->hlc_max.t)) != 0)
        return r;
    if (b->hlc_min.t > b->hlc_max.t)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_uint(&rd, &b->count)) != 0)
        return r;
    if (b->count > CS_BATCH_CHANGES_MAX)
        return CS_ERR_TOO_BIG;
    if ((r = cs_reader_uint(&rd, &compression)) != 0)
        return r;
    if (compression != CS_BATCH_COMPRESSION_NONE &&
        compression != CS_BATCH_COMPRESSION_ZSTD)
        return CS_ERR_FORMAT;
    b->compression = (enum cs_batch_compression)compression;
    if ((r = cs_reader_uint(&rd, &b->raw_len)) != 0)
        return r;
    if (b->raw_len > CS_PAYLOAD_RAW_MAX)
        return CS_ERR_TOO_BIG;
    if ((r = cs_reader_bin(&rd, &b->payload, S_BODY_MAX)) != 0)
        return r;
    /* One payload, one form: stored means exact, zstd means it shrank. */
    if (b->compression == CS_BATCH_COMPRESSION_NONE &&
        b->payload.len != b->raw_len)
        return CS_ERR_FORMAT;
    if (b->compression == CS_BATCH_COMPRESSION_ZSTD &&
        b->payload.len >= b->raw_len)
        return CS_ERR_FORMAT;
    return cs_reader_end(&rd);
}

int
cs_batch_parse(const uint8_t *p, size_t len, struct cs_batch *b)
{
    struct cs_reader rd;
    struct cs_view sig;
    int r;

    assert(p != NULL || len == 0);
    memset(b, 0, sizeof *b);
    if (len > CS_BATCH_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    cs_reader_init(&rd, p, len);
    if ((r = s_array_of(&rd, CS_BATCH_WIRE_FIELDS)) != 0 ||
        (r = cs_reader_bin(&rd, &b->body, S_BODY_MAX)) != 0 ||
        (r = cs_reader_bin(&rd, &sig, CS_SIG_BYTES)) != 0)
        goto out;
    if (sig.len != CS_SIG_BYTES) {
        r = CS_ERR_FORMAT;
        goto out;
    }
    memcpy(b->signature, sig.p, sizeof b->signature);
    if ((r = cs_reader_end(&rd)) != 0 || (r = s_body_parse(&b->body, b)) != 0)
        goto out;
    crypto_generichash(b->hash, sizeof b->hash, b->body.p, b->body.len, NULL,
                       0);
    r = 0;
out:
    if (r != 0)
        memset(b, 0, sizeof *b);
    return r;
}

/* Returns true when pk signed domain || body of b. */
static bool
s_signature_valid(const struct cs_batch *b, const struct cs_pubkey *pk)
{
    struct cs_writer msg;
    bool ok;

    cs_writer_init(&msg, CS_BATCH_SIG_DOMAIN_BYTES + b->body.len);
    if (cs_writer_put(&msg, CS_BATCH_SIG_DOMAIN, CS_BATCH_SIG_DOMAIN_BYTES) !=
            0 ||
        cs_writer_put(&msg, b->body.p, b->body.len) != 0) {
        cs_writer_free(&msg);
        return false;
    }
    ok = cs_key_verify(pk, cs_writer_data(&msg), cs_writer_len(&msg),
                       b->signature);
    cs_writer_free(&msg);
    return ok;
}

int
cs_batch_verify(const struct cs_batch *b, const struct cs_pubkey *origin_pk,
                const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                uint64_t expect_seq, const uint8_t expect_prev[CS_HASH_BYTES])
{
    struct cs_node_id id;

    cs_node_id_from_pubkey(origin_pk, &id);
    if (sodium_memcmp(id.b, b->origin.b, sizeof id.b) != 0)
        return CS_ERR_KEY;
    if (!s_signature_valid(b, origin_pk))
        return CS_ERR_SIGNATURE;
    /* From here on every field is the origin's own word. */
    if (sodium_memcmp(b->deployment, deployment, CS_DEPLOYMENT_BYTES) != 0)
        return CS_ERR_DEPLOYMENT;
    if (b->seq != expect_seq)
        return CS_ERR_SEQUENCE;
    if (sodium_memcmp(b->prev_hash, expect_prev, CS_HASH_BYTES) != 0)
        return CS_ERR_CHAIN;
    return 0;
}

/* Checks the zstd frame header of b's payload before anything is
   allocated for it: exactly one frame (no second frame, no skippable frame
   after it) that declares b->raw_len as its content size. */
static int
s_frame_check(const struct cs_batch *b)
{
    unsigned long long declared;
    size_t frame;

    frame = ZSTD_findFrameCompressedSize(b->payload.p, b->payload.len);
    if (ZSTD_isError(frame) || frame != b->payload.len)
        return CS_ERR_FORMAT;
    declared = ZSTD_getFrameContentSize(b->payload.p, b->payload.len);
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN ||
        declared == ZSTD_CONTENTSIZE_ERROR || declared != b->raw_len)
        return CS_ERR_FORMAT;
    return 0;
}

/* Decompresses the checked zstd payload of b into raw, which has room for
   exactly b->raw_len bytes; zstd stops there, so a frame that holds more
   than it declared fails instead of growing. */
static int
s_decompress(const struct cs_batch *b, uint8_t *raw)
{
    ZSTD_DCtx *dctx;
    size_t n;
    int r;

    if ((dctx = ZSTD_createDCtx()) == NULL)
        return CS_ERR_NOMEM;
    n = ZSTD_decompressDCtx(dctx, raw, (size_t)b->raw_len, b->payload.p,
                            b->payload.len);
    r = ZSTD_isError(n) || n != b->raw_len ? CS_ERR_FORMAT : 0;
    ZSTD_freeDCtx(dctx);
    return r;
}

int
cs_batch_payload(const struct cs_batch *b, uint8_t **raw, size_t *raw_len)
{
    uint8_t *buf = NULL;
    int r;

    *raw = NULL;
    *raw_len = 0;
    if (b->raw_len > CS_PAYLOAD_RAW_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    switch (b->compression) {
    case CS_BATCH_COMPRESSION_NONE:
        r = b->payload.len == b->raw_len ? 0 : CS_ERR_FORMAT;
        break;
    case CS_BATCH_COMPRESSION_ZSTD:
        r = s_frame_check(b);
        break;
    default:
        r = CS_ERR_FORMAT;
        break;
    }
    if (r != 0)
        goto out;
    /* One byte more than needed so that an empty payload is not NULL. */
    buf = cs_xmalloc((size_t)b->raw_len + 1);
    if (b->compression == CS_BATCH_COMPRESSION_ZSTD) {
        if ((r = s_decompress(b, buf)) != 0)
            goto out;
    } else if (b->raw_len > 0) {
        memcpy(buf, b->payload.p, b->payload.len);
    }
    *raw = buf;
    *raw_len = (size_t)b->raw_len;
    buf = NULL;
    r = 0;
out:
    free(buf);
    return r;
}
