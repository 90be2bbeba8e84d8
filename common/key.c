/*  common/key.c - node identity, signing keys and key files; see key.h.
 *
 *  Secrets: the 64-byte libsodium secret key (seed || public key) sits in a
 *  sodium_malloc() block made read-only right after the key pair is
 *  derived; sodium_free() makes it writable again, wipes and frees it.  Key
 *  file bytes read or written, seeds in clear and keys derived from
 *  passphrases live in sodium_malloc() blocks too (guard pages, mlock()ed,
 *  wiped on free), never on the stack; only sealed bytes do.
 *
 *  Key files are parsed with cs_reader (STYLE.md 21) after an exact length
 *  check per kind; the public key check after derivation is what makes
 *  every single corrupted byte of a plain file detectable, and the AEAD tag
 *  over the whole file does it for a protected one.  The Argon2id cost a
 *  file asks for is bounded before any work, so a hostile file costs at
 *  most CS_KEY_KDF_MEMLIMIT_MAX bytes and a few seconds.  Files are created
 *  with O_EXCL and never overwritten: losing a node's key means
 *  re-enrolling the node.
 */
#include "prelude.h"

#include "err.h"
#include "fileio.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "reader.h"
#include "writer.h"

#define S_HEX_LETTER_BASE 10                  /* value of hex digit 'a' */
#define S_NIBBLE_BITS 4                       /* bits per hex digit */
#define S_NIBBLE_MASK 0x0f                    /* low hex digit of a byte */
#define S_KEY_FILE_MODE (S_IRUSR | S_IWUSR)   /* 0600 */
#define S_KEY_FILE_OTHERS (S_IRWXG | S_IRWXO) /* bits a key file must lack */
#define S_MODE_BITS (S_ISUID | S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO)
#define S_WRAP_KEY_BYTES                                                       \
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES /* Argon2id output, 32 */
#define S_SEALED_BYTES                                                         \
    (CS_KEY_SEED_BYTES + CS_KEY_MAC_BYTES) /* sealed seed and its tag, 48 */
#define S_AD_LEN                                                               \
    (CS_KEY_FILE_PROTECTED_HEAD_LEN +                                          \
     crypto_sign_PUBLICKEYBYTES) /* associated data of the seal, 93 bytes */

/* A key pair: the public half in plain memory, the secret in sodium's. */
struct cs_key {
    unsigned char *sk;   /* crypto_sign_SECRETKEYBYTES, sodium_malloc, r/o */
    struct cs_pubkey pk; /* public half, copy of sk's last 32 bytes */
};

static const char s_hex[] = "0123456789abcdef";

int
cs_crypto_init(void)
{
    if (sodium_init() < 0)
        return CS_ERR_CRYPTO;
    return 0;
}

/* Writes the n bytes at p as 2n lowercase hex digits and a NUL. */
static void
s_hex_encode(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = s_hex[p[i] >> S_NIBBLE_BITS];
        out[2 * i + 1] = s_hex[p[i] & S_NIBBLE_MASK];
    }
    out[2 * n] = '\0';
}

/* Returns the value of a lowercase hex digit, or -1. */
static int
s_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + S_HEX_LETTER_BASE;
    return -1;
}

/* Decodes s, which must be exactly 2n lowercase hex digits and a NUL, into
   the n bytes at out.  Returns false (out partly written) otherwise. */
static bool
s_hex_decode(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if ((hi = s_hex_value(s[2 * i])) < 0)
            return false;
        if ((lo = s_hex_value(s[2 * i + 1])) < 0)
            return false;
        out[i] = (uint8_t)(hi << S_NIBBLE_BITS | lo);
    }
    return s[2 * n] == '\0';
}

void
cs_node_id_from_pubkey(const struct cs_pubkey *pk, struct cs_node_id *id)
{
    int r =
        crypto_generichash(id->b, sizeof id->b, pk->b, sizeof pk->b, NULL, 0);
    /* Fails only for output or key sizes outside BLAKE2b's range. */
    assert(r == 0);
    (void)r;
}

void
cs_node_id_hex(const struct cs_node_id *id, char out[CS_NODE_ID_HEX_LEN + 1])
{
    s_hex_encode(id->b, sizeof id->b, out);
}

int
cs_node_id_parse(const char *hex, struct cs_node_id *id)
{
    if (!s_hex_decode(hex, id->b, sizeof id->b)) {
        memset(id, 0, sizeof *id);
        return CS_ERR_FORMAT;
    }
    return 0;
}

int
cs_identity_format(const struct cs_pubkey *pk, char *out, size_t len)
{
    if (len < CS_IDENTITY_TEXT_LEN + 1) {
        if (len > 0)
            out[0] = '\0';
        return CS_ERR_TOO_BIG;
    }
    memcpy(out, CS_IDENTITY_PREFIX, CS_IDENTITY_PREFIX_LEN);
    s_hex_encode(pk->b, sizeof pk->b, out + CS_IDENTITY_PREFIX_LEN);
    return 0;
}

int
cs_identity_parse(const char *s, struct cs_pubkey *pk)
{
    unsigned char curve[crypto_scalarmult_curve25519_BYTES];
    int r;

    memset(pk, 0, sizeof *pk);
    if ((r = cs_crypto_init()) != 0)
        goto out;
    r = CS_ERR_KEY;
    if (strncmp(s, CS_IDENTITY_PREFIX, CS_IDENTITY_PREFIX_LEN) != 0)
        goto out;
    if (!s_hex_decode(s + CS_IDENTITY_PREFIX_LEN, pk->b, sizeof pk->b))
        goto out;
    /* The conversion checks the point: on the curve, not of small order,
       in the prime-order subgroup.  Its result is public and unused. */
    if (crypto_sign_ed25519_pk_to_curve25519(curve, pk->b) != 0)
        goto out;
    r = 0;
out:
    if (r != 0)
        memset(pk, 0, sizeof *pk);
    return r;
}

/* Makes a key pair from seed, or a random one when seed is NULL. */
static int
s_key_new(const uint8_t *seed, struct cs_key **out)
{
    struct cs_key *k = NULL;
    int r;

    *out = NULL;
    if ((r = cs_crypto_init()) != 0)
        goto out;
    k = cs_xcalloc(1, sizeof *k);
    k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (k->sk == NULL) {
        r = CS_ERR_NOMEM;
        cs_log_err(r, "sodium_malloc(%u)",
                   (unsigned)crypto_sign_SECRETKEYBYTES);
        goto out;
    }
    if (seed != NULL)
        r = crypto_sign_seed_keypair(k->pk.b, k->sk, seed);
    else
        r = crypto_sign_keypair(k->pk.b, k->sk);
    if (r != 0) {
        r = CS_ERR_CRYPTO;
        goto out;
    }
    if (sodium_mprotect_readonly(k->sk) != 0) {
        r = CS_ERR_CRYPTO;
        cs_log_err(r, "sodium_mprotect_readonly: %s", strerror(errno));
        goto out;
    }
    *out = k;
    k = NULL;
    r = 0;
out:
    cs_key_destroy(&k);
    return r;
}

int
cs_key_generate(struct cs_key **out)
{
    return s_key_new(NULL, out);
}

int
cs_key_from_seed(const uint8_t seed[CS_KEY_SEED_BYTES], struct cs_key **out)
{
    return s_key_new(seed, out);
}

void
cs_key_destroy(struct cs_key **k)
{
    if (*k == NULL)
        return;
    if ((*k)->sk != NULL)
        sodium_free((*k)->sk); /* unprotects, wipes, frees */
    free(*k);
    *k = NULL;
}

const struct cs_pubkey *
cs_key_public(const struct cs_key *k)
{
    return &k->pk;
}

void
cs_key_node_id(const struct cs_key *k, struct cs_node_id *id)
{
    cs_node_id_from_pubkey(&k->pk, id);
}

/* libsodium hashes msg; give it a real pointer even for an empty one. */
static const unsigned char s_empty[1];

int
cs_key_sign(const struct cs_key *k, const void *msg, size_t len,
            uint8_t sig[CS_KEY_SIG_BYTES])
{
    assert(msg != NULL || len == 0);
    if (msg == NULL)
        msg = s_empty;
    if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0) {
        sodium_memzero(sig, CS_KEY_SIG_BYTES);
        return CS_ERR_CRYPTO;
    }
    return 0;
}

bool
cs_key_verify(const struct cs_pubkey *pk, const void *msg, size_t len,
              const uint8_t sig[CS_KEY_SIG_BYTES])
{
    assert(msg != NULL || len == 0);
    if (cs_crypto_init() != 0)
        return false;
    if (msg == NULL)
        msg = s_empty;
    return crypto_sign_verify_detached(sig, msg, len, pk->b) == 0;
}

int
cs_key_encode(const struct cs_key *k, uint8_t out[CS_KEY_FILE_LEN])
{
    size_t off = 0;

    memcpy(out, CS_KEY_FILE_MAGIC, CS_KEY_FILE_MAGIC_LEN);
    off += CS_KEY_FILE_MAGIC_LEN;
    out[off++] = CS_KEY_FILE_KIND_PLAIN;
    /* libsodium's secret key is seed || public key. */
    crypto_sign_ed25519_sk_to_seed(out + off, k->sk);
    off += CS_KEY_SEED_BYTES;
    assert(off + sizeof k->pk.b == CS_KEY_FILE_LEN);
    memcpy(out + off, k->pk.b, sizeof k->pk.b);
    return 0;
}

/* Bounds of the Argon2id cost (key.h). */
static const struct cs_key_kdf s_kdf_default = {CS_KEY_KDF_OPSLIMIT_DEFAULT,
                                                CS_KEY_KDF_MEMLIMIT_DEFAULT};
static const struct cs_key_kdf s_kdf_max = {CS_KEY_KDF_OPSLIMIT_MAX,
                                            CS_KEY_KDF_MEMLIMIT_MAX};

/* Returns true when kdf lies within [CS_KEY_KDF_*_MIN, max]. */
static bool
s_kdf_within(const struct cs_key_kdf *kdf, const struct cs_key_kdf *max)
{
    return kdf->opslimit >= CS_KEY_KDF_OPSLIMIT_MIN &&
           kdf->opslimit <= max->opslimit &&
           kdf->memlimit >= CS_KEY_KDF_MEMLIMIT_MIN &&
           kdf->memlimit <= max->memlimit;
}

/* The secrets of one seal or unseal, in one sodium_malloc() block: guard
   pages, locked, wiped by sodium_free(). */
struct s_secrets {
    uint8_t wrap[S_WRAP_KEY_BYTES];  /* Argon2id output, the AEAD key */
    uint8_t seed[CS_KEY_SEED_BYTES]; /* the Ed25519 seed in clear */
};

static int
s_secrets_new(struct s_secrets **out)
{
    *out = sodium_malloc(sizeof **out);
    if (*out == NULL) {
        cs_log_err(CS_ERR_NOMEM, "sodium_malloc(%zu)", sizeof **out);
        return CS_ERR_NOMEM;
    }
    return 0;
}

static void
s_secrets_destroy(struct s_secrets **s)
{
    if (*s != NULL)
        sodium_free(*s); /* wipes */
    *s = NULL;
}

/* Derives the AEAD key of a protected file: Argon2id 1.3 (key.h).
     pass      the passphrase
     pass_len  its length
     salt      CS_KEY_SALT_BYTES from the file
     kdf       the cost, already bounded by the caller
     wrap      receives the key, in the caller's secret memory */
static int
s_derive(const char *pass, size_t pass_len, const uint8_t *salt,
         const struct cs_key_kdf *kdf, uint8_t wrap[S_WRAP_KEY_BYTES])
{
    /* With the cost bounded, crypto_pwhash() fails only when it cannot
       allocate memlimit bytes. */
    if (crypto_pwhash(wrap, S_WRAP_KEY_BYTES, pass, pass_len, salt,
                      (unsigned long long)kdf->opslimit, (size_t)kdf->memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        cs_log_err(CS_ERR_NOMEM, "Argon2id over %" PRIu64 " bytes",
                   kdf->memlimit);
        return CS_ERR_NOMEM;
    }
    return 0;
}

/* Appends bytes 0..60 of a protected file (magic to nonce) to w. */
static int
s_put_head(struct cs_writer *w, const uint8_t *salt,
           const struct cs_key_kdf *kdf, const uint8_t *nonce)
{
    if (cs_writer_put(w, CS_KEY_FILE_MAGIC, CS_KEY_FILE_MAGIC_LEN) != 0 ||
        cs_writer_u8(w, CS_KEY_FILE_KIND_PROTECTED) != 0 ||
        cs_writer_put(w, salt, CS_KEY_SALT_BYTES) != 0 ||
        cs_writer_u64be(w, kdf->opslimit) != 0 ||
        cs_writer_u64be(w, kdf->memlimit) != 0 ||
        cs_writer_put(w, nonce, CS_KEY_NONCE_BYTES) != 0)
        return CS_ERR_INTERNAL; /* the writers are sized for the file */
    return 0;
}

int
cs_key_encode_protected(const struct cs_key *k, const char *pass,
                        size_t pass_len, const struct cs_key_kdf *kdf,
                        uint8_t out[CS_KEY_FILE_PROTECTED_LEN])
{
    uint8_t salt[CS_KEY_SALT_BYTES], nonce[CS_KEY_NONCE_BYTES];
    uint8_t sealed[S_SEALED_BYTES];
    unsigned long long sealed_len = 0;
    struct s_secrets *sec = NULL;
    struct cs_writer head, ad, file;
    int r;

    memset(out, 0, CS_KEY_FILE_PROTECTED_LEN);
    cs_writer_init(&head, CS_KEY_FILE_PROTECTED_HEAD_LEN);
    cs_writer_init(&ad, S_AD_LEN);
    cs_writer_init(&file, CS_KEY_FILE_PROTECTED_LEN);
    if (kdf == NULL)
        kdf = &s_kdf_default;
    if (pass_len == 0 || !s_kdf_within(kdf, &s_kdf_max)) {
        r = CS_ERR_INVALID;
        cs_log_err(r,
                   "a protected key needs a passphrase and an Argon2id cost "
                   "within bounds (got %zu bytes, %" PRIu64 " passes, %" PRIu64
                   " bytes of memory)",
                   pass_len, kdf->opslimit, kdf->memlimit);
        goto out;
    }
    if ((r = cs_crypto_init()) != 0 || (r = s_secrets_new(&sec)) != 0)
        goto out;
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if ((r = s_derive(pass, pass_len, salt, kdf, sec->wrap)) != 0)
        goto out;
    crypto_sign_ed25519_sk_to_seed(sec->seed, k->sk);
    if ((r = s_put_head(&head, salt, kdf, nonce)) != 0)
        goto out;
    /* AD: everything before the sealed seed, and the public key after. */
    if (cs_writer_put(&ad, cs_writer_data(&head), cs_writer_len(&head)) != 0 ||
        cs_writer_put(&ad, k->pk.b, sizeof k->pk.b) != 0) {
        r = CS_ERR_INTERNAL;
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(
            sealed, &sealed_len, sec->seed, sizeof sec->seed,
            cs_writer_data(&ad), cs_writer_len(&ad), NULL, nonce,
            sec->wrap) != 0 ||
        sealed_len != sizeof sealed) {
        r = CS_ERR_CRYPTO;
        goto out;
    }
    if (cs_writer_put(&file, cs_writer_data(&head), cs_writer_len(&head)) !=
            0 ||
        cs_writer_put(&file, sealed, sizeof sealed) != 0 ||
        cs_writer_put(&file, k->pk.b, sizeof k->pk.b) != 0 ||
        cs_writer_len(&file) != CS_KEY_FILE_PROTECTED_LEN) {
        r = CS_ERR_INTERNAL;
        goto out;
    }
    memcpy(out, cs_writer_data(&file), CS_KEY_FILE_PROTECTED_LEN);
    r = 0;
out:
    s_secrets_destroy(&sec);
    cs_writer_free(&head);
    cs_writer_free(&ad);
    cs_writer_free(&file);
    return r;
}

/* A key file split into its fields (key.h), as views into its bytes. */
struct s_file {
    uint8_t kind;          /* CS_KEY_FILE_KIND_* */
    struct cs_view head;   /* protected: bytes 0..60, first part of AD */
    struct cs_view salt;   /* protected: Argon2id salt */
    struct cs_key_kdf kdf; /* protected: Argon2id cost, within bounds */
    struct cs_view nonce;  /* protected: XChaCha20 nonce */
    struct cs_view sealed; /* protected: sealed seed, tag last */
    struct cs_view seed;   /* plain: the seed */
    struct cs_view pk;     /* the public key as stored */
};

static int
s_parse_plain(const uint8_t *p, size_t len, struct s_file *f)
{
    struct cs_reader rd;
    struct cs_view skip;

    if (len != CS_KEY_FILE_LEN) {
        cs_log_err(CS_ERR_KEY, "plain key file is %zu bytes, expected %u", len,
                   (unsigned)CS_KEY_FILE_LEN);
        return CS_ERR_KEY;
    }
    cs_reader_init(&rd, p, len);
    if (cs_reader_bytes(&rd, &skip, CS_KEY_FILE_MAGIC_LEN + 1) != 0 ||
        cs_reader_bytes(&rd, &f->seed, CS_KEY_SEED_BYTES) != 0 ||
        cs_reader_bytes(&rd, &f->pk, crypto_sign_PUBLICKEYBYTES) != 0 ||
        cs_reader_end(&rd) != 0)
        return CS_ERR_KEY; /* cannot happen after the length check */
    return 0;
}

static int
s_parse_protected(const uint8_t *p, size_t len, const struct cs_key_kdf *max,
                  struct s_file *f)
{
    struct cs_reader rd, hd;
    struct cs_view skip;

    if (len != CS_KEY_FILE_PROTECTED_LEN) {
        cs_log_err(CS_ERR_KEY, "protected key file is %zu bytes, expected %u",
                   len, (unsigned)CS_KEY_FILE_PROTECTED_LEN);
        return CS_ERR_KEY;
    }
    cs_reader_init(&rd, p, len);
    if (cs_reader_bytes(&rd, &f->head, CS_KEY_FILE_PROTECTED_HEAD_LEN) != 0)
        return CS_ERR_KEY; /* cannot happen after the length check */
    cs_reader_init(&hd, f->head.p, f->head.len);
    if (cs_reader_bytes(&hd, &skip, CS_KEY_FILE_MAGIC_LEN + 1) != 0 ||
        cs_reader_bytes(&hd, &f->salt, CS_KEY_SALT_BYTES) != 0 ||
        cs_reader_u64be(&hd, &f->kdf.opslimit) != 0 ||
        cs_reader_u64be(&hd, &f->kdf.memlimit) != 0 ||
        cs_reader_bytes(&hd, &f->nonce, CS_KEY_NONCE_BYTES) != 0 ||
        cs_reader_end(&hd) != 0 ||
        cs_reader_bytes(&rd, &f->sealed, S_SEALED_BYTES) != 0 ||
        cs_reader_bytes(&rd, &f->pk, crypto_sign_PUBLICKEYBYTES) != 0 ||
        cs_reader_end(&rd) != 0)
        return CS_ERR_KEY; /* cannot happen after the length check */
    /* Before any work: a hostile file must not make us allocate 100 GiB
       or loop for days. */
    if (!s_kdf_within(&f->kdf, max)) {
        cs_log_err(
            CS_ERR_KEY,
            "key file asks for Argon2id with %" PRIu64 " passes and %" PRIu64
            " bytes; at most %" PRIu64 " and %" PRIu64 " are accepted",
            f->kdf.opslimit, f->kdf.memlimit, max->opslimit, max->memlimit);
        return CS_ERR_KEY;
    }
    return 0;
}

/* Splits the len bytes at p into *f, refusing anything that is not a key
   file of a known kind with a cost within [CS_KEY_KDF_*_MIN, max]. */
static int
s_parse(const uint8_t *p, size_t len, const struct cs_key_kdf *max,
        struct s_file *f)
{
    struct cs_reader rd;
    struct cs_view magic;

    memset(f, 0, sizeof *f);
    cs_reader_init(&rd, p, len);
    if (cs_reader_bytes(&rd, &magic, CS_KEY_FILE_MAGIC_LEN) != 0 ||
        cs_reader_u8(&rd, &f->kind) != 0) {
        cs_log_err(CS_ERR_KEY, "key file is %zu bytes, too short", len);
        return CS_ERR_KEY;
    }
    if (memcmp(magic.p, CS_KEY_FILE_MAGIC, CS_KEY_FILE_MAGIC_LEN) != 0) {
        cs_log_err(CS_ERR_KEY, "not a cigsync key file (bad magic)");
        return CS_ERR_KEY;
    }
    switch (f->kind) {
    case CS_KEY_FILE_KIND_PLAIN:
        return s_parse_plain(p, len, f);
    case CS_KEY_FILE_KIND_PROTECTED:
        return s_parse_protected(p, len, max, f);
    default:
        cs_log_err(CS_ERR_KEY, "unsupported key file kind %u",
                   (unsigned)f->kind);
        return CS_ERR_KEY;
    }
}

/* Opens the sealed seed of protected file f with pass; *out the key. */
static int
s_unseal(const struct s_file *f, const char *pass, size_t pass_len,
         struct cs_key **out)
{
    struct s_secrets *sec = NULL;
    unsigned long long seed_len = 0;
    struct cs_writer ad;
    int r;

    *out = NULL;
    cs_writer_init(&ad, S_AD_LEN);
    if ((r = cs_crypto_init()) != 0 || (r = s_secrets_new(&sec)) != 0)
        goto out;
    if (cs_writer_put(&ad, f->head.p, f->head.len) != 0 ||
        cs_writer_put(&ad, f->pk.p, f->pk.len) != 0) {
        r = CS_ERR_INTERNAL; /* the writer is sized for the AD */
        goto out;
    }
    if ((r = s_derive(pass, pass_len, f->salt.p, &f->kdf, sec->wrap)) != 0)
        goto out;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            sec->seed, &seed_len, NULL, f->sealed.p, f->sealed.len,
            cs_writer_data(&ad), cs_writer_len(&ad), f->nonce.p,
            sec->wrap) != 0 ||
        seed_len != sizeof sec->seed) {
        r = CS_KEY_ERR_WRONG_PASSPHRASE; /* not logged: callers tell */
        goto out;
    }
    r = cs_key_from_seed(sec->seed, out);
out:
    s_secrets_destroy(&sec);
    cs_writer_free(&ad);
    return r;
}

int
cs_key_decode(const uint8_t *p, size_t len, const char *pass, size_t pass_len,
              const struct cs_key_kdf *max, struct cs_key **out)
{
    struct cs_key_kdf bound = s_kdf_max;
    struct cs_key *k = NULL;
    struct s_file f;
    int r;

    *out = NULL;
    /* A caller may lower the bound, never raise it. */
    if (max != NULL && max->opslimit < bound.opslimit)
        bound.opslimit = max->opslimit;
    if (max != NULL && max->memlimit < bound.memlimit)
        bound.memlimit = max->memlimit;
    if ((r = s_parse(p, len, &bound, &f)) != 0)
        goto out;
    if (f.kind == CS_KEY_FILE_KIND_PROTECTED && pass == NULL) {
        r = CS_KEY_ERR_NEED_PASSPHRASE; /* not logged: callers tell */
        goto out;
    }
    if (f.kind == CS_KEY_FILE_KIND_PROTECTED)
        r = s_unseal(&f, pass, pass_len, &k);
    else
        r = cs_key_from_seed(f.seed.p, &k);
    if (r != 0)
        goto out;
    if (sodium_memcmp(k->pk.b, f.pk.p, sizeof k->pk.b) != 0) {
        r = CS_ERR_KEY;
        cs_log_err(r, "key file public key does not match its seed");
        goto out;
    }
    *out = k;
    k = NULL;
    r = 0;
out:
    cs_key_destroy(&k);
    return r;
}

/* Writes the n bytes at p to a new file at path: O_EXCL, mode 0600,
   fsync()ed with its directory; on failure no partial file is left. */
static int
s_file_write(const char *path, const uint8_t *p, size_t n)
{
    bool created = false;
    int fd = -1;
    int r;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              S_KEY_FILE_MODE);
    if (fd < 0) {
        r = errno == EEXIST                     ? CS_ERR_EXISTS
            : errno == EACCES || errno == EPERM ? CS_ERR_PERM
                                                : CS_ERR_IO;
        cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    created = true;
    if (cs_file_write_all(fd, p, n) != 0 || fsync(fd) != 0) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    r = close(fd);
    fd = -1;
    if (r != 0) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    r = cs_file_sync_dir(path);
out:
    if (fd >= 0)
        close(fd);
    if (r != 0 && created)
        unlink(path);
    return r;
}

int
cs_key_save(const struct cs_key *k, const char *path)
{
    uint8_t *buf;
    int r;

    /* The plain form holds the seed: secret memory, wiped by sodium_free. */
    if ((r = cs_crypto_init()) != 0)
        return r;
    if ((buf = sodium_malloc(CS_KEY_FILE_LEN)) == NULL) {
        r = CS_ERR_NOMEM;
        cs_log_err(r, "sodium_malloc(%u)", (unsigned)CS_KEY_FILE_LEN);
        return r;
    }
    if ((r = cs_key_encode(k, buf)) == 0)
        r = s_file_write(path, buf, CS_KEY_FILE_LEN);
    sodium_free(buf);
    return r;
}

int
cs_key_save_protected(const struct cs_key *k, const char *path,
                      const char *pass, size_t pass_len,
                      const struct cs_key_kdf *kdf)
{
    uint8_t buf[CS_KEY_FILE_PROTECTED_LEN]; /* sealed: nothing secret */
    int r;

    if ((r = cs_key_encode_protected(k, pass, pass_len, kdf, buf)) != 0)
        return r;
    return s_file_write(path, buf, sizeof buf);
}

/* Reads the key file at path into a new sodium_malloc() block *buf of
   CS_KEY_FILE_MAX + 1 bytes (one more, to see a file that is too long),
   *len the bytes read, after checking that it is a regular file that only
   its owner may use.  The caller sodium_free()s *buf, also on failure. */
static int
s_file_read(const char *path, uint8_t **buf, size_t *len)
{
    size_t size = CS_KEY_FILE_MAX + 1, n = 0;
    struct stat st;
    int fd = -1;
    int r;

    *len = 0;
    *buf = NULL;
    if ((r = cs_crypto_init()) != 0) /* sodium_malloc() needs it */
        goto out;
    if ((*buf = sodium_malloc(size)) == NULL) {
        r = CS_ERR_NOMEM;
        cs_log_err(r, "sodium_malloc(%zu)", size);
        goto out;
    }
    /* O_NONBLOCK: a FIFO planted at path must not hang us before fstat. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        r = errno == ENOENT                     ? CS_ERR_NOT_FOUND
            : errno == EACCES || errno == EPERM ? CS_ERR_PERM
                                                : CS_ERR_IO;
        if (r != CS_ERR_NOT_FOUND)
            cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = CS_ERR_KEY;
        cs_log_err(r, "%s: not a regular file", path);
        goto out;
    }
    if ((st.st_mode & S_KEY_FILE_OTHERS) != 0) {
        r = CS_ERR_PERM;
        cs_log_err(r,
                   "%s: mode %04o lets others read or change the key; "
                   "it must be 0600 (chmod 600)",
                   path, (unsigned)(st.st_mode & S_MODE_BITS));
        goto out;
    }
    while (n < size) {
        ssize_t got = read(fd, *buf + n, size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = CS_ERR_IO;
            cs_log_err(r, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *len = n;
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

int
cs_key_load(const char *path, const char *pass, size_t pass_len,
            struct cs_key **out)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    int r;

    *out = NULL;
    if ((r = s_file_read(path, &buf, &n)) != 0)
        goto out;
    r = cs_key_decode(buf, n, pass, pass_len, NULL, out);
    if (r != 0 && r != CS_KEY_ERR_NEED_PASSPHRASE &&
        r != CS_KEY_ERR_WRONG_PASSPHRASE)
        cs_log_err(r, "%s: cannot use this key file", path);
out:
    if (buf != NULL)
        sodium_free(buf); /* wipes */
    return r;
}

int
cs_key_info(const char *path, struct cs_key_info *info)
{
    uint8_t *buf = NULL;
    struct s_file f;
    size_t n = 0;
    int r;

    memset(info, 0, sizeof *info);
    if ((r = s_file_read(path, &buf, &n)) != 0)
        goto out;
    if ((r = s_parse(buf, n, &s_kdf_max, &f)) != 0) {
        cs_log_err(r, "%s: cannot use this key file", path);
        goto out;
    }
    info->kind = f.kind;
    info->kdf = f.kdf;
out:
    if (buf != NULL)
        sodium_free(buf); /* wipes */
    return r;
}

int
cs_key_shared(const struct cs_key *k, const struct cs_pubkey *peer,
              uint8_t out[CS_KEY_SHARED_BYTES])
{
    unsigned char my_x[crypto_scalarmult_curve25519_BYTES];
    unsigned char peer_x[crypto_scalarmult_curve25519_BYTES];
    int r = 0;

    sodium_memzero(out, CS_KEY_SHARED_BYTES);
    if (crypto_sign_ed25519_pk_to_curve25519(peer_x, peer->b) != 0) {
        r = CS_ERR_KEY;
        goto out;
    }
    if (crypto_sign_ed25519_sk_to_curve25519(my_x, k->sk) != 0 ||
        crypto_box_curve25519xchacha20poly1305_beforenm(out, peer_x, my_x) !=
            0) {
        sodium_memzero(out, CS_KEY_SHARED_BYTES);
        r = CS_ERR_KEY;
    }
out:
    sodium_memzero(my_x, sizeof my_x);
    return r;
}

int
cs_key_curve(const struct cs_key *k, uint8_t pk[CS_KEY_CURVE_BYTES],
             uint8_t sk[CS_KEY_CURVE_BYTES])
{
    if (crypto_sign_ed25519_pk_to_curve25519(pk, k->pk.b) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(sk, k->sk) != 0) {
        sodium_memzero(pk, CS_KEY_CURVE_BYTES);
        sodium_memzero(sk, CS_KEY_CURVE_BYTES);
        return CS_ERR_KEY;
    }
    return 0;
}

int
cs_pubkey_curve(const struct cs_pubkey *pk, uint8_t out[CS_KEY_CURVE_BYTES])
{
    if (crypto_sign_ed25519_pk_to_curve25519(out, pk->b) != 0) {
        sodium_memzero(out, CS_KEY_CURVE_BYTES);
        return CS_ERR_KEY;
    }
    return 0;
}
