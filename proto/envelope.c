/*  proto/envelope.c - envelopes; see envelope.h for the format.
 *
 *  Design notes.  The header is written and read field by field through
 *  cs_writer/cs_reader (STYLE.md 21), never as a struct overlay.  Sealing
 *  writes the header into out first and uses those very bytes as the
 *  associated data, so what is authenticated is by construction what is
 *  sent.  Parsing takes the header as one view first (the AD for opening)
 *  and then reads its fields from a second reader over that view.
 *
 *  Secrets: the 32-byte AEAD key from cs_key_shared() and every decrypted
 *  payload live in sodium_malloc() memory (STYLE.md 29) and are wiped on
 *  every path out.  The ciphertext is built in a plain heap buffer: it is
 *  what goes on the wire.
 *
 *  Order of refusals in cs_envelope_open(): recipient, then deployment,
 *  then the tag.  The first two are public header fields, so checking them
 *  first costs nothing and gives the operator a precise reason ("this
 *  bundle is for Kochkor", "this is a test deployment's bundle") instead of
 *  a bare decryption failure.  Both fields are also in the AD, so a forger
 *  who edits them to pass these checks still fails the tag.
 */
#include "proto_prelude.h"

#include "envelope.h"
#include "err.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "reader.h"
#include "writer.h"

_Static_assert(CS_ENVELOPE_NONCE_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "nonce size");
_Static_assert(CS_ENVELOPE_TAG_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "tag size");
_Static_assert(CS_KEY_SHARED_BYTES ==
                   crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
               "key size");
_Static_assert(CS_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "pubkey size");
_Static_assert(CS_ENVELOPE_HEADER_BYTES == 94, "header size (PROTOCOL.md)");

int
cs_envelope_seal(const struct cs_key *sender, const struct cs_pubkey *recipient,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint8_t kind,
                 const uint8_t *payload, size_t len, struct cs_writer *out)
{
    uint8_t nonce[CS_ENVELOPE_NONCE_BYTES];
    int r;

    /* randombytes_buf() needs an initialised libsodium. */
    if ((r = cs_crypto_init()) != 0)
        goto out;
    randombytes_buf(nonce, sizeof nonce);
    r = cs_envelope_seal_with_nonce(sender, recipient, deployment, kind,
                                    payload, len, nonce, out);
out:
    if (r != 0)
        cs_writer_free(out);
    return r;
}

/* Writes the 94-byte header into the empty writer out. */
static int
s_write_header(const struct cs_key *sender, const struct cs_pubkey *recipient,
               const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint8_t kind,
               const uint8_t nonce[CS_ENVELOPE_NONCE_BYTES],
               struct cs_writer *out)
{
    struct cs_node_id recipient_id;
    int r;

    cs_node_id_from_pubkey(recipient, &recipient_id);
    if ((r = cs_writer_put(out, CS_ENVELOPE_MAGIC, CS_ENVELOPE_MAGIC_LEN)) != 0)
        return r;
    if ((r = cs_writer_u8(out, CS_ENVELOPE_VERSION)) != 0)
        return r;
    if ((r = cs_writer_u8(out, kind)) != 0)
        return r;
    if ((r = cs_writer_put(out, deployment, CS_DEPLOYMENT_BYTES)) != 0)
        return r;
    if ((r = cs_writer_put(out, cs_key_public(sender)->b, CS_PUBKEY_BYTES)) !=
        0)
        return r;
    if ((r = cs_writer_put(out, recipient_id.b, sizeof recipient_id.b)) != 0)
        return r;
    return cs_writer_put(out, nonce, CS_ENVELOPE_NONCE_BYTES);
}

/* Returns true for the kinds version 1 defines. */
static bool
s_kind_known(uint8_t kind)
{
    return kind == CS_ENVELOPE_KIND_BATCH || kind == CS_ENVELOPE_KIND_CONTROL;
}

/* Returns a fresh CS_KEY_SHARED_BYTES block of secure memory, or NULL. */
static uint8_t *
s_key_alloc(void)
{
    uint8_t *key = sodium_malloc(CS_KEY_SHARED_BYTES);
    if (key == NULL)
        cs_log_err(CS_ERR_NOMEM, "sodium_malloc(%u)",
                   (unsigned)CS_KEY_SHARED_BYTES);
    return key;
}

/* Wipes and frees a block from s_key_alloc(); NULL is fine. */
static void
s_key_free(uint8_t *key)
{
    if (key == NULL)
        return;
    sodium_memzero(key, CS_KEY_SHARED_BYTES);
    sodium_free(key);
}

/* libsodium reads the message pointer even for 0 bytes; give it one. */
static const uint8_t s_empty[1];

int
cs_envelope_seal_with_nonce(const struct cs_key *sender,
                            const struct cs_pubkey *recipient,
                            const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                            uint8_t kind, const uint8_t *payload, size_t len,
                            const uint8_t nonce[CS_ENVELOPE_NONCE_BYTES],
                            struct cs_writer *out)
{
    uint8_t *key = NULL;
    uint8_t *ciphertext = NULL;
    unsigned long long ciphertext_len = 0;
    int r;

    assert(payload != NULL || len == 0);
    if (len > CS_ENVELOPE_PAYLOAD_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (cs_writer_len(out) != 0 || cs_writer_status(out) != 0 ||
        !s_kind_known(kind)) {
        r = CS_ERR_INVALID;
        goto out;
    }
    if ((r = cs_crypto_init()) != 0)
        goto out;
    if ((key = s_key_alloc()) == NULL) {
        r = CS_ERR_NOMEM;
        goto out;
    }
    if ((r = cs_key_shared(sender, recipient, key)) != 0)
        goto out;
    if ((r = s_write_header(sender, recipient, deployment, kind, nonce, out)) !=
        0)
        goto out;
    /* len + TAG cannot overflow: len <= CS_ENVELOPE_PAYLOAD_MAX. */
    ciphertext = cs_xmalloc(len + CS_ENVELOPE_TAG_BYTES);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(
            ciphertext, &ciphertext_len, payload != NULL ? payload : s_empty,
            len, cs_writer_data(out), cs_writer_len(out), NULL, nonce,
            key) != 0) {
        r = CS_ERR_CRYPTO;
        goto out;
    }
    if ((r = cs_writer_put(out, ciphertext, (size_t)ciphertext_len)) != 0)
        goto out;
    r = 0;
out:
    s_key_free(key);
    free(ciphertext);
    if (r != 0)
        cs_writer_free(out);
    return r;
}

/* Reads the fields of the CS_ENVELOPE_HEADER_BYTES bytes in hdr (complete,
   checked by the caller) into env.  Follows envelope.h's table. */
static int
s_read_header(const struct cs_view *hdr, struct cs_envelope *env)
{
    struct cs_reader rd;
    struct cs_view v;
    int r;

    cs_reader_init(&rd, hdr->p, hdr->len);
    if ((r = cs_reader_bytes(&rd, &v, CS_ENVELOPE_MAGIC_LEN)) != 0)
        return r;
    if (memcmp(v.p, CS_ENVELOPE_MAGIC, CS_ENVELOPE_MAGIC_LEN) != 0)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_u8(&rd, &env->version)) != 0)
        return r;
    if (env->version != CS_ENVELOPE_VERSION)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_u8(&rd, &env->kind)) != 0)
        return r;
    if (!s_kind_known(env->kind))
        return CS_ERR_FORMAT;
    if ((r = cs_reader_bytes(&rd, &v, CS_DEPLOYMENT_BYTES)) != 0)
        return r;
    env->deployment = v.p;
    if ((r = cs_reader_bytes(&rd, &v, sizeof env->sender.b)) != 0)
        return r;
    memcpy(env->sender.b, v.p, sizeof env->sender.b);
    cs_node_id_from_pubkey(&env->sender, &env->sender_id);
    if ((r = cs_reader_bytes(&rd, &v, sizeof env->recipient.b)) != 0)
        return r;
    memcpy(env->recipient.b, v.p, sizeof env->recipient.b);
    if ((r = cs_reader_bytes(&rd, &v, sizeof env->nonce)) != 0)
        return r;
    memcpy(env->nonce, v.p, sizeof env->nonce);
    return cs_reader_end(&rd);
}

int
cs_envelope_parse(const uint8_t *p, size_t len, struct cs_envelope *env)
{
    struct cs_reader rd;
    int r;

    assert(p != NULL || len == 0);
    memset(env, 0, sizeof *env);
    /* The limit first, before a single byte is read (PROTOCOL.md). */
    if (len > CS_ENVELOPE_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (len < CS_ENVELOPE_OVERHEAD) {
        r = CS_ERR_TRUNCATED;
        goto out;
    }
    cs_reader_init(&rd, p, len);
    if ((r = cs_reader_bytes(&rd, &env->header, CS_ENVELOPE_HEADER_BYTES)) != 0)
        goto out;
    if ((r = s_read_header(&env->header, env)) != 0)
        goto out;
    if ((r = cs_reader_bytes(&rd, &env->ciphertext, cs_reader_left(&rd))) != 0)
        goto out;
    r = 0;
out:
    if (r != 0)
        memset(env, 0, sizeof *env);
    return r;
}

int
cs_envelope_open(const struct cs_envelope *env, const struct cs_key *recipient,
                 const uint8_t deployment[CS_DEPLOYMENT_BYTES], uint8_t **plain,
                 size_t *plain_len)
{
    struct cs_node_id ours;
    uint8_t *key = NULL;
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    unsigned long long got = 0;
    int r;

    *plain = NULL;
    *plain_len = 0;
    if (env->header.len != CS_ENVELOPE_HEADER_BYTES ||
        env->deployment == NULL ||
        env->ciphertext.len < CS_ENVELOPE_TAG_BYTES) {
        r = CS_ERR_INVALID; /* not from cs_envelope_parse() */
        goto out;
    }
    cs_key_node_id(recipient, &ours);
    if (sodium_memcmp(env->recipient.b, ours.b, sizeof ours.b) != 0) {
        r = CS_ENVELOPE_ERR_RECIPIENT;
        goto out;
    }
    if (sodium_memcmp(env->deployment, deployment, CS_DEPLOYMENT_BYTES) != 0) {
        r = CS_ENVELOPE_ERR_DEPLOYMENT;
        goto out;
    }
    if ((r = cs_crypto_init()) != 0)
        goto out;
    if ((key = s_key_alloc()) == NULL) {
        r = CS_ERR_NOMEM;
        goto out;
    }
    if ((r = cs_key_shared(recipient, &env->sender, key)) != 0)
        goto out;
    buf_len = env->ciphertext.len - CS_ENVELOPE_TAG_BYTES;
    /* sodium_malloc(0) is not promised to succeed; keep one byte. */
    if ((buf = sodium_malloc(buf_len != 0 ? buf_len : 1)) == NULL) {
        r = CS_ERR_NOMEM;
        cs_log_err(r, "sodium_malloc(%zu)", buf_len);
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            buf, &got, NULL, env->ciphertext.p, env->ciphertext.len,
            env->header.p, env->header.len, env->nonce, key) != 0 ||
        got != buf_len) {
        r = CS_ERR_CRYPTO;
        goto out;
    }
    *plain = buf;
    *plain_len = buf_len;
    buf = NULL;
    r = 0;
out:
    s_key_free(key);
    cs_envelope_plain_free(buf, buf_len);
    return r;
}

void
cs_envelope_plain_free(uint8_t *plain, size_t len)
{
    if (plain == NULL)
        return;
    sodium_memzero(plain, len);
    sodium_free(plain); /* wipes the whole block again, then unmaps */
}
