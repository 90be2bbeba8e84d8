/*  tests/unit/key_test.c - tests of common/key.c.
 *
 *  RFC 8032 test 1 pins the seed -> public key -> signature chain and the
 *  node id derivation (BLAKE2b-128 of the public key, computed
 *  independently with Python's hashlib.blake2b(pk, digest_size=16)).  Key
 *  files: round trip, mode, refusals, and every truncation and every
 *  single-byte change of an encoded file is refused.
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
    CS_CHECK_INT(cs_key_decode(file, sizeof file, &back), 0);
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
    CS_CHECK_INT(cs_key_decode(longer, sizeof longer, &back), CS_ERR_KEY);
    CS_CHECK(back == NULL);
    CS_CHECK_INT(cs_key_decode(NULL, 0, &back), CS_ERR_KEY);
    for (size_t n = 0; n < CS_KEY_FILE_LEN; n++) {
        uint8_t *exact = cs_xmalloc(n + 1);
        memcpy(exact, file, n);
        CS_CHECK_INT(cs_key_decode(exact, n, &back), CS_ERR_KEY);
        CS_CHECK(back == NULL);
        free(exact);
    }
    /* Every change of every single byte. */
    size_t accepted = 0;
    for (size_t i = 0; i < CS_KEY_FILE_LEN; i++) {
        for (unsigned x = 1; x <= UINT8_MAX; x++) {
            file[i] ^= (uint8_t)x;
            if (cs_key_decode(file, sizeof file, &back) != CS_ERR_KEY ||
                back != NULL)
                accepted++;
            cs_key_destroy(&back);
            file[i] ^= (uint8_t)x;
        }
    }
    /* Explicitly: the reserved kinds. */
    file[4] = 1;
    CS_CHECK_INT(cs_key_decode(file, sizeof file, &back), CS_ERR_KEY);
    file[4] = 0xff;
    CS_CHECK_INT(cs_key_decode(file, sizeof file, &back), CS_ERR_KEY);
    file[4] = 0;
    quiet_end(saved);
    CS_CHECK_INT(accepted, 0);
    CS_CHECK_INT(cs_key_decode(file, sizeof file, &back), 0);
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
    CS_CHECK_INT(cs_key_load(path, &back), 0);
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
    CS_CHECK_INT(cs_key_load(missing, &back), CS_ERR_NOT_FOUND);
    CS_CHECK(back == NULL);
    char *nodir = cs_xasprintf("%s/no/such/dir.key", dir);
    CS_CHECK_INT(cs_key_save(k, nodir), CS_ERR_IO);
    free(nodir);

    /* Mode checks: any permission for group or others is refused. */
    static const mode_t refused[] = {0644, 0640, 0604, 0660, 0606,
                                     0610, 0601, 0666, 0777};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CS_CHECK(chmod(path, refused[i]) == 0);
        CS_CHECK_INT(cs_key_load(path, &back), CS_ERR_PERM);
        CS_CHECK(back == NULL);
    }
    CS_CHECK(chmod(path, 0400) == 0);
    CS_CHECK_INT(cs_key_load(path, &back), 0);
    cs_key_destroy(&back);
    CS_CHECK(chmod(path, 0600) == 0);

    /* Not a key file. */
    CS_CHECK_INT(cs_key_load(dir, &back), CS_ERR_KEY);
    uint8_t file[CS_KEY_FILE_LEN + 10];
    CS_REQUIRE(cs_key_encode(k, file) == 0);
    write_file(other, file, CS_KEY_FILE_LEN + 1, 0600);
    CS_CHECK_INT(cs_key_load(other, &back), CS_ERR_KEY);
    write_file(other, file, CS_KEY_FILE_LEN - 1, 0600);
    CS_CHECK_INT(cs_key_load(other, &back), CS_ERR_KEY);
    write_file(other, "", 0, 0600);
    CS_CHECK_INT(cs_key_load(other, &back), CS_ERR_KEY);
    file[4] = 1;
    write_file(other, file, CS_KEY_FILE_LEN, 0600);
    CS_CHECK_INT(cs_key_load(other, &back), CS_ERR_KEY);
    file[4] = 0;
    write_file(other, file, CS_KEY_FILE_LEN, 0600);
    CS_CHECK_INT(cs_key_load(other, &back), 0);
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

static const struct cs_test_case cases[] = {
    {"rfc8032_vector", test_rfc8032_vector},
    {"sign_verify", test_sign_verify},
    {"identity", test_identity},
    {"node_id_parse", test_node_id_parse},
    {"encode_decode", test_encode_decode},
    {"save_load", test_save_load},
    {NULL, NULL},
};

CS_TEST_MAIN(cases)
