/*  common/key.c - node identity, signing keys and key files; see key.h.
 *
 *  Secrets: the 64-byte libsodium secret key (seed || public key) sits in a
 *  sodium_malloc() block made read-only right after the key pair is
 *  derived; sodium_free() makes it writable again, wipes and frees it.  Key
 *  file bytes and seeds pass through stack buffers that are wiped with
 *  sodium_memzero() on every path out.
 *
 *  Key files are parsed with cs_reader (STYLE.md 21) after an exact length
 *  check; the public key check after derivation is what makes every single
 *  corrupted byte detectable.  Files are created with O_EXCL and never
 *  overwritten: losing a node's key means re-enrolling the node.
 */
#include "prelude.h"

#include "err.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "reader.h"

#define S_HEX_LETTER_BASE 10                  /* value of hex digit 'a' */
#define S_NIBBLE_BITS 4                       /* bits per hex digit */
#define S_NIBBLE_MASK 0x0f                    /* low hex digit of a byte */
#define S_KEY_FILE_MODE (S_IRUSR | S_IWUSR)   /* 0600 */
#define S_KEY_FILE_OTHERS (S_IRWXG | S_IRWXO) /* bits a key file must lack */
#define S_MODE_BITS (S_ISUID | S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO)

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

int
cs_key_decode(const uint8_t *p, size_t len, struct cs_key **out)
{
    struct cs_reader rd;
    struct cs_view magic, seed, pk;
    struct cs_key *k = NULL;
    uint8_t kind;
    int r;

    *out = NULL;
    if (len != CS_KEY_FILE_LEN) {
        r = CS_ERR_KEY;
        cs_log_err(r, "key file is %zu bytes, expected %u", len,
                   (unsigned)CS_KEY_FILE_LEN);
        goto out;
    }
    cs_reader_init(&rd, p, len);
    if (cs_reader_bytes(&rd, &magic, CS_KEY_FILE_MAGIC_LEN) != 0 ||
        cs_reader_u8(&rd, &kind) != 0 ||
        cs_reader_bytes(&rd, &seed, CS_KEY_SEED_BYTES) != 0 ||
        cs_reader_bytes(&rd, &pk, crypto_sign_PUBLICKEYBYTES) != 0 ||
        cs_reader_end(&rd) != 0) {
        r = CS_ERR_KEY; /* cannot happen after the length check */
        goto out;
    }
    if (memcmp(magic.p, CS_KEY_FILE_MAGIC, CS_KEY_FILE_MAGIC_LEN) != 0) {
        r = CS_ERR_KEY;
        cs_log_err(r, "not a cigsync key file (bad magic)");
        goto out;
    }
    if (kind != CS_KEY_FILE_KIND_PLAIN) {
        r = CS_ERR_KEY;
        cs_log_err(r, "unsupported key file kind %u", (unsigned)kind);
        goto out;
    }
    if ((r = cs_key_from_seed(seed.p, &k)) != 0)
        goto out;
    if (sodium_memcmp(k->pk.b, pk.p, sizeof k->pk.b) != 0) {
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

/* Writes all n bytes at p to fd, retrying short writes and EINTR. */
static int
s_write_all(int fd, const uint8_t *p, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO; /* no progress: report it as an I/O error */
        if (w <= 0)
            return CS_ERR_IO;
        done += (size_t)w;
    }
    return 0;
}

/* fsync()s the directory holding path, so that a new name in it survives
   a crash.  File systems that cannot sync directories (EINVAL) pass. */
static int
s_fsync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, r = 0;

    if (slash == NULL)
        dir = cs_xstrdup(".");
    else
        dir = cs_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", dir, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    return r;
}

int
cs_key_save(const struct cs_key *k, const char *path)
{
    uint8_t buf[CS_KEY_FILE_LEN];
    bool created = false;
    int fd = -1;
    int r;

    if ((r = cs_key_encode(k, buf)) != 0)
        goto out;
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
    if (s_write_all(fd, buf, sizeof buf) != 0 || fsync(fd) != 0) {
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
    r = s_fsync_dir(path);
out:
    sodium_memzero(buf, sizeof buf);
    if (fd >= 0)
        close(fd);
    if (r != 0 && created)
        unlink(path);
    return r;
}

int
cs_key_load(const char *path, struct cs_key **out)
{
    uint8_t buf[CS_KEY_FILE_LEN + 1];
    size_t n = 0;
    struct stat st;
    int fd = -1;
    int r;

    *out = NULL;
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
    while (n < sizeof buf) {
        ssize_t got = read(fd, buf + n, sizeof buf - n);
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
    if ((r = cs_key_decode(buf, n, out)) != 0)
        cs_log_err(r, "%s: cannot use this key file", path);
out:
    sodium_memzero(buf, sizeof buf);
    if (fd >= 0)
        close(fd);
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
