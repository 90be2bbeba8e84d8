/*  tests/unit/key_test.c - tests of common/key.c.
 *
 *  RFC 8032 test 1 pins the seed -> public key -> signature chain and the
 *  node id derivation (BLAKE2b-128 of the public key, computed
 *  independently with Python's hashlib.blake2b(pk, digest_size=16)).  Key
 *  files: round trip, mode, refusals, and every truncation and every
 *  single-byte change of an encoded file is refused.
 *
 *  Protected key files (kind 1): S_PROTECTED_VECTOR was computed without
 *  libsodium, with Python's cryptography 48 (Argon2id, lanes=1;
 *  ChaCha20Poly1305) and HChaCha20 written from draft-irtf-cfrg-xchacha-03
 *  2.2 (checked against its 2.2.1 vector): the RFC 8032 seed sealed with
 *  passphrase "correct horse battery staple", salt 00..0f, nonce 10..27,
 *  1 pass over 8 KiB.  Tests seal with that minimum cost so they stay
 *  fast; one round trip uses the default cost.
 */
#include "prelude.h"

#include "err.h"
#include "key.h"
#include "mem.h"
#include "test.h"

/* RFC 8032 section 7.1, TEST 1 (empty message). */
#define RFC_SEED                                                               \
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PK                                                                 \
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC_SIG                                                                \
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb882"   \
    "1590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
#define RFC_NODE_ID "d7108b422f25cc5edb865cc4ae184f55"

#define S_PASS "correct horse battery staple"
#define S_PROTECTED_VECTOR                                                     \
    "43534b3101"                                                               \
    "000102030405060708090a0b0c0d0e0f"                                         \
    "0000000000000001"                                                         \
    "0000000000002000"                                                         \
    "101112131415161718191a1b1c1d1e1f2021222324252627"                         \
    "1e4b1a7497b8b1163be2396884105d25c258bb28d9d9e91d21c4e4f64c942ed5"         \
    "4fb0fb4f94d44d51157a321943a97fac" RFC_PK

/* Offsets in a protected key file (key.h). */
#define S_OFF_KIND 4
#define S_OFF_SALT 5
#define S_OFF_OPS 21
#define S_OFF_MEM 29
#define S_OFF_NONCE 37
#define S_OFF_SEALED 61
#define S_OFF_PK 109

static const struct cs_key_kdf s_kdf_min = {CS_KEY_KDF_OPSLIMIT_MIN,
                                            CS_KEY_KDF_MEMLIMIT_MIN};

static void
unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t bin_len = 0;
    int r = sodium_hex2bin(out, n, hex, strlen(hex), NULL, &bin_len, NULL);
    if (r != 0 || bin_len != n)
        abort();
}

/* Silences stderr (the refusals below log one line each). */
static int
quiet_begin(void)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (saved < 0 || devnull < 0)
        abort();
    dup2(devnull, STDERR_FILENO);
    close(devnull);
    return saved;
}

static void
quiet_end(int saved)
{
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static struct cs_key *
rfc_key(void)
{
    uint8_t seed[CS_KEY_SEED_BYTES];
    struct cs_key *k = NULL;
    unhex(RFC_SEED, seed, sizeof seed);
    if (cs_key_from_seed(seed, &k) != 0)
        abort();
    return k;
}

/* Returns a fresh key pair; aborts if there is none (not under test). */
static struct cs_key *
gen_key(void)
{
    struct cs_key *k = NULL;
    if (cs_key_generate(&k) != 0 || k == NULL)
        abort();
    return k;
}

static void
test_rfc8032_vector(void)
{
    struct cs_key *k = rfc_key();
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], want_sig[CS_KEY_SIG_BYTES];
    uint8_t sig[CS_KEY_SIG_BYTES];
    char hex[CS_NODE_ID_HEX_LEN + 1];
    struct cs_node_id id, id2;

    unhex(RFC_PK, pk, sizeof pk);
    unhex(RFC_SIG, want_sig, sizeof want_sig);
    CS_CHECK(memcmp(cs_key_public(k)->b, pk, sizeof pk) == 0);
    CS_CHECK_INT(cs_key_sign(k, NULL, 0, sig), 0);
    CS_CHECK(memcmp(sig, want_sig, sizeof sig) == 0);
    CS_CHECK(cs_key_verify(cs_key_public(k), "", 0, sig));

    cs_key_node_id(k, &id);
    cs_node_id_hex(&id, hex);
    CS_CHECK_STR(hex, RFC_NODE_ID);
    cs_node_id_from_pubkey(cs_key_public(k), &id2);
    CS_CHECK(memcmp(id.b, id2.b, sizeof id.b) == 0);
    cs_key_destroy(&k);
    CS_CHECK(k == NULL);
    cs_key_destroy(&k); /* no-op */
}

static void
test_sign_verify(void)
{
    struct cs_key *a = gen_key(), *b = gen_key();
    static const char msg[] = "letter 17 sent to Isfana ayil okmotu";
    uint8_t sig[CS_KEY_SIG_BYTES];

    CS_CHECK(memcmp(cs_key_public(a)->b, cs_key_public(b)->b,
                    crypto_sign_PUBLICKEYBYTES) != 0);
    CS_CHECK_INT(cs_key_sign(a, msg, sizeof msg, sig), 0);
    CS_CHECK(cs_key_verify(cs_key_public(a), msg, sizeof msg, sig));
    CS_CHECK(!cs_key_verify(cs_key_public(b), msg, sizeof msg, sig));
    CS_CHECK(!cs_key_verify(cs_key_public(a), msg, sizeof msg - 1, sig));
    char changed[sizeof msg];
    memcpy(changed, msg, sizeof msg);
    changed[0] ^= 1;
    CS_CHECK(!cs_key_verify(cs_key_public(a), changed, sizeof msg, sig));
    for (size_t i = 0; i < sizeof sig; i++) {
        sig[i] ^= 0x10;
        CS_CHECK(!cs_key_verify(cs_key_public(a), msg, sizeof msg, sig));
        sig[i] ^= 0x10;
    }
    CS_CHECK(cs_key_verify(cs_key_public(a), msg, sizeof msg, sig));
    /* Empty messages, with and without a pointer. */
    CS_CHECK_INT(cs_key_sign(a, NULL, 0, sig), 0);
    CS_CHECK(cs_key_verify(cs_key_public(a), NULL, 0, sig));
    CS_CHECK(cs_key_verify(cs_key_public(a), msg, 0, sig));
    cs_key_destroy(&a);
    cs_key_destroy(&b);
}

static void
test_identity(void)
{
    struct cs_key *k = rfc_key();
    char text[CS_IDENTITY_TEXT_LEN + 1];
    struct cs_pubkey pk;

    CS_CHECK_INT(cs_identity_format(cs_key_public(k), text, sizeof text), 0);
    CS_CHECK_STR(text, "cs1:" RFC_PK);
    CS_CHECK_INT(strlen(text), CS_IDENTITY_TEXT_LEN);
    CS_CHECK_INT(cs_identity_parse(text, &pk), 0);
    CS_CHECK(memcmp(pk.b, cs_key_public(k)->b, sizeof pk.b) == 0);
    CS_CHECK_INT(cs_identity_format(cs_key_public(k), text, sizeof text - 1),
                 CS_ERR_TOO_BIG);
    CS_CHECK_STR(text, "");

    /* Fresh keys round-trip too. */
    struct cs_key *fresh = gen_key();
    CS_CHECK_INT(cs_identity_format(cs_key_public(fresh), text, sizeof text),
                 0);
    CS_CHECK_INT(cs_identity_parse(text, &pk), 0);
    CS_CHECK(memcmp(pk.b, cs_key_public(fresh)->b, sizeof pk.b) == 0);
    cs_key_destroy(&fresh);

    static const char *const bad[] = {
        "",
        "cs1:",
        "cs1",
        RFC_PK,             /* no prefix */
        "cs2:" RFC_PK,      /* wrong version */
        "CS1:" RFC_PK,      /* prefix case */
        "cs1 " RFC_PK,      /* separator */
        "cs1:" RFC_PK "0",  /* too long */
        "cs1:" RFC_PK "\n", /* trailing newline */
        " cs1:" RFC_PK,     /* leading blank */
        "cs1:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f70751",
        "cs1:D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A",
        "cs1:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511g",
        "cs1:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511 ",
        /* not usable public keys: zero (small order), identity, points
           off the curve, y >= p */
        "cs1:0000000000000000000000000000000000000000000000000000000000000000",
        "cs1:0100000000000000000000000000000000000000000000000000000000000000",
        "cs1:0200000000000000000000000000000000000000000000000000000000000000",
        "cs1:0500000000000000000000000000000000000000000000000000000000000000",
        "cs1:edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "cs1:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&pk, 0xaa, sizeof pk);
        CS_CHECK_INT(cs_identity_parse(bad[i], &pk), CS_ERR_KEY);
        CS_CHECK(sodium_is_zero(pk.b, sizeof pk.b));
    }
    cs_key_destroy(&k);
}

static void
test_node_id_parse(void)
{
    struct cs_node_id id;
    char hex[CS_NODE_ID_HEX_LEN + 1];

    CS_CHECK_INT(cs_node_id_parse(RFC_NODE_ID, &id), 0);
    cs_node_id_hex(&id, hex);
    CS_CHECK_STR(hex, RFC_NODE_ID);
    static const char *const bad[] = {
        "",
        "d7108b422f25cc5edb865cc4ae184f5",
        "d7108b422f25cc5edb865cc4ae184f550",
        "D7108B422F25CC5EDB865CC4AE184F55",
        "d7108b422f25cc5edb865cc4ae184f5z",
        "d7108b422f25cc5e-db865cc4ae184f5",
        "d7108b422f25cc5edb865cc4ae184f5 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&id, 0xaa, sizeof id);
        CS_CHECK_INT(cs_node_id_parse(bad[i], &id), CS_ERR_FORMAT);
        CS_CHECK(sodium_is_zero(id.b, sizeof id.b));
    }
}

static void
test_encode_decode(void)
{
    struct cs_key *k = rfc_key(), *back = NULL;
    uint8_t file[CS_KEY_FILE_LEN];
    uint8_t seed[CS_KEY_SEED_BYTES], pk[crypto_sign_PUBLICKEYBYTES];

    CS_REQUIRE(cs_key_encode(k, file) == 0);
    unhex(RFC_SEED, seed, sizeof seed);
    unhex(RFC_PK, pk, sizeof pk);
    CS_CHECK(memcmp(file, "CSK1", 4) == 0);
    CS_CHECK_INT(file[4], 0);
    CS_CHECK(memcmp(file + 5, seed, sizeof seed) == 0);
    CS_CHECK(memcmp(file + 37, pk, sizeof pk) == 0);
    CS_CHECK_INT(cs_key_decode(file, sizeof file, NULL, 0, NULL, &back), 0);
    if (back == NULL) {
        cs_key_destroy(&k);
        return;
    }
    CS_CHECK(memcmp(cs_key_public(back)->b, pk, sizeof pk) == 0);
    cs_key_destroy(&back);

    int saved = quiet_begin();
    /* Every truncation, and one byte too many. */
    uint8_t longer[CS_KEY_FILE_LEN + 1];
    memcpy(longer, file, sizeof file);
    longer[CS_KEY_FILE_LEN] = 0;
    CS_CHECK_INT(cs_key_decode(longer, sizeof longer, NULL, 0, NULL, &back),
                 CS_ERR_KEY);
    CS_CHECK(back == NULL);
    CS_CHECK_INT(cs_key_decode(NULL, 0, NULL, 0, NULL, &back), CS_ERR_KEY);
    for (size_t n = 0; n < CS_KEY_FILE_LEN; n++) {
        uint8_t *exact = cs_xmalloc(n + 1);
        memcpy(exact, file, n);
        CS_CHECK_INT(cs_key_decode(exact, n, NULL, 0, NULL, &back), CS_ERR_KEY);
        CS_CHECK(back == NULL);
        free(exact);
    }
    /* Every change of every single byte. */
    size_t accepted = 0;
    for (size_t i = 0; i < CS_KEY_FILE_LEN; i++) {
        for (unsigned x = 1; x <= UINT8_MAX; x++) {
            file[i] ^= (uint8_t)x;
            if (cs_key_decode(file, sizeof file, NULL, 0, NULL, &back) !=
                    CS_ERR_KEY ||
                back != NULL)
                accepted++;
            cs_key_destroy(&back);
            file[i] ^= (uint8_t)x;
        }
    }
    /* Explicitly: the other kinds, at the plain length. */
    file[4] = 1;
    CS_CHECK_INT(cs_key_decode(file, sizeof file, NULL, 0, NULL, &back),
                 CS_ERR_KEY);
    file[4] = 0xff;
    CS_CHECK_INT(cs_key_decode(file, sizeof file, NULL, 0, NULL, &back),
                 CS_ERR_KEY);
    file[4] = 0;
    quiet_end(saved);
    CS_CHECK_INT(accepted, 0);
    CS_CHECK_INT(cs_key_decode(file, sizeof file, NULL, 0, NULL, &back), 0);
    cs_key_destroy(&back);
    cs_key_destroy(&k);
}

static char *
make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = cs_xasprintf("%s/cs_key_test.XXXXXX", base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
    return dir;
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n || close(fd) != 0)
        abort();
    if (chmod(path, mode) != 0)
        abort();
}

static void
test_save_load(void)
{
    char *dir = make_tmpdir();
    char *path = cs_xasprintf("%s/node.key", dir);
    char *other = cs_xasprintf("%s/other.key", dir);
    char *missing = cs_xasprintf("%s/missing.key", dir);
    struct cs_key *k = gen_key(), *back = NULL;
    struct stat st;
    uint8_t sig[CS_KEY_SIG_BYTES];

    CS_CHECK_INT(cs_key_save(k, path), 0);
    CS_REQUIRE(stat(path, &st) == 0);
    CS_CHECK_INT(st.st_mode & 07777, 0600);
    CS_CHECK_INT(st.st_size, CS_KEY_FILE_LEN);
    CS_CHECK_INT(cs_key_load(path, NULL, 0, &back), 0);
    if (back == NULL)
        return;
    CS_CHECK(memcmp(cs_key_public(back)->b, cs_key_public(k)->b,
                    crypto_sign_PUBLICKEYBYTES) == 0);
    CS_CHECK_INT(cs_key_sign(back, "x", 1, sig), 0);
    CS_CHECK(cs_key_verify(cs_key_public(k), "x", 1, sig));
    cs_key_destroy(&back);

    int saved = quiet_begin();
    /* Never overwrites, not even through a symlink. */
    CS_CHECK_INT(cs_key_save(k, path), CS_ERR_EXISTS);
    CS_CHECK(symlink(missing, other) == 0);
    CS_CHECK_INT(cs_key_save(k, other), CS_ERR_EXISTS);
    CS_CHECK(access(missing, F_OK) != 0);
    CS_CHECK(unlink(other) == 0);
    CS_CHECK_INT(cs_key_load(missing, NULL, 0, &back), CS_ERR_NOT_FOUND);
    CS_CHECK(back == NULL);
    char *nodir = cs_xasprintf("%s/no/such/dir.key", dir);
    CS_CHECK_INT(cs_key_save(k, nodir), CS_ERR_IO);
    free(nodir);

    /* Mode checks: any permission for group or others is refused. */
    static const mode_t refused[] = {0644, 0640, 0604, 0660, 0606,
                                     0610, 0601, 0666, 0777};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CS_CHECK(chmod(path, refused[i]) == 0);
        CS_CHECK_INT(cs_key_load(path, NULL, 0, &back), CS_ERR_PERM);
        CS_CHECK(back == NULL);
    }
    CS_CHECK(chmod(path, 0400) == 0);
    CS_CHECK_INT(cs_key_load(path, NULL, 0, &back), 0);
    cs_key_destroy(&back);
    CS_CHECK(chmod(path, 0600) == 0);

    /* Not a key file. */
    CS_CHECK_INT(cs_key_load(dir, NULL, 0, &back), CS_ERR_KEY);
    uint8_t file[CS_KEY_FILE_LEN + 10];
    CS_REQUIRE(cs_key_encode(k, file) == 0);
    write_file(other, file, CS_KEY_FILE_LEN + 1, 0600);
    CS_CHECK_INT(cs_key_load(other, NULL, 0, &back), CS_ERR_KEY);
    write_file(other, file, CS_KEY_FILE_LEN - 1, 0600);
    CS_CHECK_INT(cs_key_load(other, NULL, 0, &back), CS_ERR_KEY);
    write_file(other, "", 0, 0600);
    CS_CHECK_INT(cs_key_load(other, NULL, 0, &back), CS_ERR_KEY);
    file[4] = 1;
    write_file(other, file, CS_KEY_FILE_LEN, 0600);
    CS_CHECK_INT(cs_key_load(other, NULL, 0, &back), CS_ERR_KEY);
    file[4] = 0;
    write_file(other, file, CS_KEY_FILE_LEN, 0600);
    CS_CHECK_INT(cs_key_load(other, NULL, 0, &back), 0);
    cs_key_destroy(&back);
    CS_CHECK(back == NULL);
    quiet_end(saved);
    sodium_memzero(file, sizeof file);

    unlink(other);
    unlink(path);
    rmdir(dir);
    cs_key_destroy(&k);
    free(missing);
    free(other);
    free(path);
    free(dir);
}

/* Writes v big-endian into the 8 bytes at p. */
static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t
get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seals k with S_PASS at the minimum cost; aborts on failure. */
static void
seal_min(const struct cs_key *k, uint8_t file[CS_KEY_FILE_PROTECTED_LEN])
{
    if (cs_key_encode_protected(k, S_PASS, strlen(S_PASS), &s_kdf_min, file) !=
        0)
        abort();
}

static void
test_protected_vector(void)
{
    uint8_t file[CS_KEY_FILE_PROTECTED_LEN], pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sig[CS_KEY_SIG_BYTES], want_sig[CS_KEY_SIG_BYTES];
    struct cs_key *back = NULL;

    CS_CHECK_INT(strlen(S_PROTECTED_VECTOR), 2 * CS_KEY_FILE_PROTECTED_LEN);
    unhex(S_PROTECTED_VECTOR, file, sizeof file);
    unhex(RFC_PK, pk, sizeof pk);
    unhex(RFC_SIG, want_sig, sizeof want_sig);
    CS_CHECK_INT(
        cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS), NULL, &back),
        0);
    CS_REQUIRE(back != NULL);
    CS_CHECK(memcmp(cs_key_public(back)->b, pk, sizeof pk) == 0);
    CS_CHECK_INT(cs_key_sign(back, NULL, 0, sig), 0);
    CS_CHECK(memcmp(sig, want_sig, sizeof sig) == 0);
    cs_key_destroy(&back);

    /* The three refusals a person can meet, told apart. */
    CS_CHECK_INT(cs_key_decode(file, sizeof file, NULL, 0, NULL, &back),
                 CS_KEY_ERR_NEED_PASSPHRASE);
    CS_CHECK(back == NULL);
    CS_CHECK_INT(cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS) - 1,
                               NULL, &back),
                 CS_KEY_ERR_WRONG_PASSPHRASE);
    CS_CHECK(back == NULL);
    CS_CHECK_INT(cs_key_decode(file, sizeof file, "", 0, NULL, &back),
                 CS_KEY_ERR_WRONG_PASSPHRASE);
    CS_CHECK_INT(cs_key_decode(file, sizeof file,
                               "Correct horse battery "
                               "staple",
                               strlen(S_PASS), NULL, &back),
                 CS_KEY_ERR_WRONG_PASSPHRASE);
    CS_CHECK(back == NULL);
    CS_CHECK(CS_KEY_ERR_NEED_PASSPHRASE != CS_ERR_KEY);
    CS_CHECK(CS_KEY_ERR_WRONG_PASSPHRASE != CS_ERR_KEY);
    CS_CHECK(CS_KEY_ERR_NEED_PASSPHRASE != CS_KEY_ERR_WRONG_PASSPHRASE);
}

static void
test_protected_round_trip(void)
{
    struct cs_key *k = gen_key(), *back = NULL;
    uint8_t a[CS_KEY_FILE_PROTECTED_LEN], b[CS_KEY_FILE_PROTECTED_LEN];
    uint8_t seed[CS_KEY_SEED_BYTES], plain[CS_KEY_FILE_LEN];
    uint8_t sig[CS_KEY_SIG_BYTES];

    seal_min(k, a);
    CS_CHECK(memcmp(a, "CSK1", 4) == 0);
    CS_CHECK_INT(a[S_OFF_KIND], CS_KEY_FILE_KIND_PROTECTED);
    CS_CHECK_INT(get_be64(a + S_OFF_OPS), CS_KEY_KDF_OPSLIMIT_MIN);
    CS_CHECK_INT(get_be64(a + S_OFF_MEM), CS_KEY_KDF_MEMLIMIT_MIN);
    CS_CHECK(memcmp(a + S_OFF_PK, cs_key_public(k)->b,
                    crypto_sign_PUBLICKEYBYTES) == 0);
    /* The seed is nowhere in clear. */
    CS_REQUIRE(cs_key_encode(k, plain) == 0);
    memcpy(seed, plain + 5, sizeof seed);
    for (size_t i = 0; i + sizeof seed <= sizeof a; i++)
        CS_CHECK(memcmp(a + i, seed, sizeof seed) != 0);
    CS_CHECK_INT(
        cs_key_decode(a, sizeof a, S_PASS, strlen(S_PASS), NULL, &back), 0);
    CS_REQUIRE(back != NULL);
    CS_CHECK(memcmp(cs_key_public(back)->b, cs_key_public(k)->b,
                    crypto_sign_PUBLICKEYBYTES) == 0);
    CS_CHECK_INT(cs_key_sign(back, "x", 1, sig), 0);
    CS_CHECK(cs_key_verify(cs_key_public(k), "x", 1, sig));
    cs_key_destroy(&back);

    /* Fresh salt and nonce each time: same key, other bytes. */
    seal_min(k, b);
    CS_CHECK(memcmp(a + S_OFF_SALT, b + S_OFF_SALT, CS_KEY_SALT_BYTES) != 0);
    CS_CHECK(memcmp(a + S_OFF_NONCE, b + S_OFF_NONCE, CS_KEY_NONCE_BYTES) != 0);
    CS_CHECK(memcmp(a + S_OFF_SEALED, b + S_OFF_SEALED,
                    CS_KEY_SEED_BYTES + CS_KEY_MAC_BYTES) != 0);
    CS_CHECK_INT(
        cs_key_decode(b, sizeof b, S_PASS, strlen(S_PASS), NULL, &back), 0);
    cs_key_destroy(&back);

    /* The default cost, once (about half a second). */
    CS_CHECK_INT(cs_key_encode_protected(k, "x", 1, NULL, b), 0);
    CS_CHECK_INT(get_be64(b + S_OFF_OPS), CS_KEY_KDF_OPSLIMIT_DEFAULT);
    CS_CHECK_INT(get_be64(b + S_OFF_MEM), CS_KEY_KDF_MEMLIMIT_DEFAULT);
    CS_CHECK_INT(cs_key_decode(b, sizeof b, "x", 1, NULL, &back), 0);
    CS_CHECK(back != NULL);
    cs_key_destroy(&back);

    /* What we would refuse to load, we refuse to write. */
    int saved = quiet_begin();
    static const struct cs_key_kdf bad[] = {
        {0, CS_KEY_KDF_MEMLIMIT_MIN},
        {CS_KEY_KDF_OPSLIMIT_MAX + 1, CS_KEY_KDF_MEMLIMIT_MIN},
        {CS_KEY_KDF_OPSLIMIT_MIN, CS_KEY_KDF_MEMLIMIT_MIN - 1},
        {CS_KEY_KDF_OPSLIMIT_MIN, (uint64_t)CS_KEY_KDF_MEMLIMIT_MAX + 1},
        {UINT64_MAX, UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(b, 0xaa, sizeof b);
        CS_CHECK_INT(
            cs_key_encode_protected(k, S_PASS, strlen(S_PASS), &bad[i], b),
            CS_ERR_INVALID);
        CS_CHECK(sodium_is_zero(b, sizeof b));
    }
    CS_CHECK_INT(cs_key_encode_protected(k, "", 0, &s_kdf_min, b),
                 CS_ERR_INVALID);
    quiet_end(saved);

    /* A passphrase given for a plain file is not needed, and ignored. */
    CS_CHECK_INT(
        cs_key_decode(plain, sizeof plain, S_PASS, strlen(S_PASS), NULL, &back),
        0);
    cs_key_destroy(&back);
    sodium_memzero(plain, sizeof plain);
    sodium_memzero(seed, sizeof seed);
    cs_key_destroy(&k);
}

/* Expected refusal of a protected file with byte i changed, decoded with
   the minimum cost as the bound: the header fields are refused as
   malformed before any work; every other byte is under the AEAD tag. */
static int
tamper_expect(size_t i)
{
    if (i < S_OFF_SALT || (i >= S_OFF_OPS && i < S_OFF_NONCE))
        return CS_ERR_KEY;
    return CS_KEY_ERR_WRONG_PASSPHRASE;
}

static void
test_protected_tamper(void)
{
    struct cs_key *k = rfc_key(), *back = NULL;
    uint8_t file[CS_KEY_FILE_PROTECTED_LEN];
    uint8_t longer[CS_KEY_FILE_PROTECTED_LEN + 1];
    static const uint8_t flips[] = {0x01, 0x02, 0x04, 0x08, 0x10,
                                    0x20, 0x40, 0x80, 0xff};
    size_t wrong = 0;

    seal_min(k, file);
    int saved = quiet_begin();
    /* Every truncation, and one byte too many. */
    for (size_t n = 0; n < sizeof file; n++) {
        uint8_t *exact = cs_xmalloc(n + 1);
        memcpy(exact, file, n);
        CS_CHECK_INT(
            cs_key_decode(exact, n, S_PASS, strlen(S_PASS), &s_kdf_min, &back),
            CS_ERR_KEY);
        CS_CHECK(back == NULL);
        free(exact);
    }
    memcpy(longer, file, sizeof file);
    longer[sizeof file] = 0;
    CS_CHECK_INT(cs_key_decode(longer, sizeof longer, S_PASS, strlen(S_PASS),
                               &s_kdf_min, &back),
                 CS_ERR_KEY);
    /* Every byte, changed in each of its bits and in all of them. */
    for (size_t i = 0; i < sizeof file; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            int r;
            file[i] ^= flips[f];
            r = cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS),
                              &s_kdf_min, &back);
            if (r != tamper_expect(i) || back != NULL) {
                fprintf(stderr, "byte %zu ^ 0x%02x: %d\n", i, flips[f], r);
                wrong++;
            }
            cs_key_destroy(&back);
            file[i] ^= flips[f];
        }
    }
    quiet_end(saved);
    CS_CHECK_INT(wrong, 0);

    /* Limits within bounds are authenticated too: another cost derives
       another key, and the seal does not open. */
    put_be64(file + S_OFF_OPS, 2);
    CS_CHECK_INT(
        cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS), NULL, &back),
        CS_KEY_ERR_WRONG_PASSPHRASE);
    put_be64(file + S_OFF_OPS, CS_KEY_KDF_OPSLIMIT_MIN);
    put_be64(file + S_OFF_MEM, 2 * CS_KEY_KDF_MEMLIMIT_MIN);
    CS_CHECK_INT(
        cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS), NULL, &back),
        CS_KEY_ERR_WRONG_PASSPHRASE);
    put_be64(file + S_OFF_MEM, CS_KEY_KDF_MEMLIMIT_MIN);
    CS_CHECK_INT(
        cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS), NULL, &back),
        0);
    cs_key_destroy(&back);
    cs_key_destroy(&k);
}

static void
test_protected_limits(void)
{
    struct cs_key *k = rfc_key(), *back = NULL;
    uint8_t file[CS_KEY_FILE_PROTECTED_LEN];
    static const struct cs_key_kdf absurd[] = {
        {1, 100ull << 30}, /* 100 GiB */
        {1, UINT64_MAX},
        {1, (uint64_t)CS_KEY_KDF_MEMLIMIT_MAX + 1},
        {1, CS_KEY_KDF_MEMLIMIT_MIN - 1},
        {1, 0},
        {0, CS_KEY_KDF_MEMLIMIT_MIN},
        {CS_KEY_KDF_OPSLIMIT_MAX + 1, CS_KEY_KDF_MEMLIMIT_MIN},
        {UINT32_MAX, CS_KEY_KDF_MEMLIMIT_MIN},
        {UINT64_MAX, UINT64_MAX},
    };
    /* A caller cannot raise the bound above the built-in one. */
    static const struct cs_key_kdf huge = {UINT64_MAX, UINT64_MAX};

    seal_min(k, file);
    int saved = quiet_begin();
    double t0 = now_seconds();
    for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        put_be64(file + S_OFF_OPS, absurd[i].opslimit);
        put_be64(file + S_OFF_MEM, absurd[i].memlimit);
        CS_CHECK_INT(cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS),
                                   NULL, &back),
                     CS_ERR_KEY);
        CS_CHECK_INT(cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS),
                                   &huge, &back),
                     CS_ERR_KEY);
        CS_CHECK(back == NULL);
    }
    double dt = now_seconds() - t0;
    quiet_end(saved);
    /* Refused before Argon2 ran: 18 refusals take microseconds; one
       Argon2id over even 1 GiB would take seconds. */
    CS_CHECK(dt < 0.5);
    cs_key_destroy(&k);
}

/* A file whose seal opens (whoever made it knew the passphrase) but whose
   public key is another key's: refused by the check after unsealing. */
static void
test_protected_pubkey_mismatch(void)
{
    struct cs_key *k = rfc_key(), *other = gen_key(), *back = NULL;
    uint8_t file[CS_KEY_FILE_PROTECTED_LEN], plain[CS_KEY_FILE_LEN];
    uint8_t ad[S_OFF_NONCE + CS_KEY_NONCE_BYTES + crypto_sign_PUBLICKEYBYTES];
    uint8_t wrap[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
    unsigned long long sealed_len = 0;

    seal_min(k, file);
    CS_REQUIRE(cs_key_encode(k, plain) == 0);
    memcpy(file + S_OFF_PK, cs_key_public(other)->b,
           crypto_sign_PUBLICKEYBYTES);
    memcpy(ad, file, S_OFF_SEALED);
    memcpy(ad + S_OFF_SEALED, file + S_OFF_PK, crypto_sign_PUBLICKEYBYTES);
    CS_REQUIRE(crypto_pwhash(wrap, sizeof wrap, S_PASS, strlen(S_PASS),
                             file + S_OFF_SALT, CS_KEY_KDF_OPSLIMIT_MIN,
                             CS_KEY_KDF_MEMLIMIT_MIN,
                             crypto_pwhash_ALG_ARGON2ID13) == 0);
    CS_REQUIRE(crypto_aead_xchacha20poly1305_ietf_encrypt(
                   file + S_OFF_SEALED, &sealed_len, plain + 5,
                   CS_KEY_SEED_BYTES, ad, sizeof ad, NULL, file + S_OFF_NONCE,
                   wrap) == 0);
    CS_CHECK_INT(sealed_len, CS_KEY_SEED_BYTES + CS_KEY_MAC_BYTES);
    int saved = quiet_begin();
    CS_CHECK_INT(
        cs_key_decode(file, sizeof file, S_PASS, strlen(S_PASS), NULL, &back),
        CS_ERR_KEY);
    quiet_end(saved);
    CS_CHECK(back == NULL);
    sodium_memzero(wrap, sizeof wrap);
    sodium_memzero(plain, sizeof plain);
    cs_key_destroy(&other);
    cs_key_destroy(&k);
}

static void
test_protected_save_load(void)
{
    char *dir = make_tmpdir();
    char *path = cs_xasprintf("%s/node.key", dir);
    char *plain = cs_xasprintf("%s/plain.key", dir);
    char *missing = cs_xasprintf("%s/missing.key", dir);
    struct cs_key *k = gen_key(), *back = NULL;
    struct cs_key_info info;
    struct stat st;

    CS_CHECK_INT(
        cs_key_save_protected(k, path, S_PASS, strlen(S_PASS), &s_kdf_min), 0);
    CS_REQUIRE(stat(path, &st) == 0);
    CS_CHECK_INT(st.st_mode & 07777, 0600);
    CS_CHECK_INT(st.st_size, CS_KEY_FILE_PROTECTED_LEN);
    CS_CHECK_INT(cs_key_info(path, &info), 0);
    CS_CHECK_INT(info.kind, CS_KEY_FILE_KIND_PROTECTED);
    CS_CHECK_INT(info.kdf.opslimit, CS_KEY_KDF_OPSLIMIT_MIN);
    CS_CHECK_INT(info.kdf.memlimit, CS_KEY_KDF_MEMLIMIT_MIN);
    CS_CHECK_INT(cs_key_load(path, NULL, 0, &back), CS_KEY_ERR_NEED_PASSPHRASE);
    CS_CHECK(back == NULL);
    CS_CHECK_INT(cs_key_load(path, "wrong", 5, &back),
                 CS_KEY_ERR_WRONG_PASSPHRASE);
    CS_CHECK(back == NULL);
    CS_CHECK_INT(cs_key_load(path, S_PASS, strlen(S_PASS), &back), 0);
    CS_REQUIRE(back != NULL);
    CS_CHECK(memcmp(cs_key_public(back)->b, cs_key_public(k)->b,
                    crypto_sign_PUBLICKEYBYTES) == 0);
    cs_key_destroy(&back);

    /* Plain files still load, with or without a passphrase. */
    CS_CHECK_INT(cs_key_save(k, plain), 0);
    CS_CHECK_INT(cs_key_info(plain, &info), 0);
    CS_CHECK_INT(info.kind, CS_KEY_FILE_KIND_PLAIN);
    CS_CHECK_INT(info.kdf.opslimit, 0);
    CS_CHECK_INT(info.kdf.memlimit, 0);
    CS_CHECK_INT(cs_key_load(plain, NULL, 0, &back), 0);
    cs_key_destroy(&back);
    CS_CHECK_INT(cs_key_load(plain, S_PASS, strlen(S_PASS), &back), 0);
    cs_key_destroy(&back);

    int saved = quiet_begin();
    /* Never overwrites; refuses to seal with nothing. */
    CS_CHECK_INT(
        cs_key_save_protected(k, path, S_PASS, strlen(S_PASS), &s_kdf_min),
        CS_ERR_EXISTS);
    CS_CHECK_INT(cs_key_save_protected(k, missing, "", 0, &s_kdf_min),
                 CS_ERR_INVALID);
    CS_CHECK(access(missing, F_OK) != 0);
    /* The mode rule holds for protected files too. */
    CS_CHECK(chmod(path, 0640) == 0);
    CS_CHECK_INT(cs_key_load(path, S_PASS, strlen(S_PASS), &back), CS_ERR_PERM);
    memset(&info, 0xaa, sizeof info);
    CS_CHECK_INT(cs_key_info(path, &info), CS_ERR_PERM);
    CS_CHECK_INT(info.kind, 0);
    CS_CHECK(chmod(path, 0600) == 0);
    CS_CHECK_INT(cs_key_info(missing, &info), CS_ERR_NOT_FOUND);
    CS_CHECK_INT(cs_key_info(dir, &info), CS_ERR_KEY);
    /* Absurd limits: cs_key_info refuses them as cs_key_load does. */
    uint8_t file[CS_KEY_FILE_PROTECTED_LEN];
    seal_min(k, file);
    put_be64(file + S_OFF_MEM, 100ull << 30);
    write_file(missing, file, sizeof file, 0600);
    CS_CHECK_INT(cs_key_info(missing, &info), CS_ERR_KEY);
    CS_CHECK_INT(cs_key_load(missing, S_PASS, strlen(S_PASS), &back),
                 CS_ERR_KEY);
    write_file(missing, file, sizeof file - 1, 0600);
    CS_CHECK_INT(cs_key_load(missing, S_PASS, strlen(S_PASS), &back),
                 CS_ERR_KEY);
    quiet_end(saved);

    unlink(missing);
    unlink(plain);
    unlink(path);
    rmdir(dir);
    cs_key_destroy(&k);
    free(missing);
    free(plain);
    free(path);
    free(dir);
}

static const struct cs_test_case cases[] = {
    {"rfc8032_vector", test_rfc8032_vector},
    {"sign_verify", test_sign_verify},
    {"identity", test_identity},
    {"node_id_parse", test_node_id_parse},
    {"encode_decode", test_encode_decode},
    {"save_load", test_save_load},
    {"protected_vector", test_protected_vector},
    {"protected_round_trip", test_protected_round_trip},
    {"protected_tamper", test_protected_tamper},
    {"protected_limits", test_protected_limits},
    {"protected_pubkey_mismatch", test_protected_pubkey_mismatch},
    {"protected_save_load", test_protected_save_load},
    {NULL, NULL},
};

CS_TEST_MAIN(cases)
