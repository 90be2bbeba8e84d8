/*  tests/fuzz/keyfile_fuzz.c - fuzz target for key file parsing.
 *
 *  Target: cs_key_decode() (common/key.c), the parser of key file bytes,
 *  both kinds: plain (kind 0) and protected by a passphrase (kind 1).
 *  Every input is decoded without a passphrase and with S_PASS, the
 *  passphrase of the protected seeds, with the Argon2id cost bounded to
 *  libsodium's minimum (1 pass, 8 KiB) so each run stays fast: a file that
 *  asks for more is refused before Argon2 runs, which is itself the code
 *  under test.
 *
 *  Properties checked besides memory safety:
 *    - a plain file that is accepted encodes back to exactly the same 69
 *      bytes, whether or not a passphrase was given;
 *    - a protected file is never accepted without a passphrase (it needs
 *      one), and one accepted with S_PASS carries the key's public key in
 *      its last 32 bytes and is refused with another passphrase;
 *    - every key accepted signs messages its own public key verifies;
 *    - a failure leaves no key behind.
 *  Deterministic: no clock, no randomness.
 *  Seed corpus: tests/fuzz/corpus/keyfile/ (plain: valid, truncated, wrong
 *  magic, wrong kind, seed and public key that do not match; protected
 *  with S_PASS: valid, another passphrase, truncated, trailing byte,
 *  absurd and zero limits, flipped salt, ciphertext and public key, and a
 *  sealed seed whose public key is another key's).
 */
#include "prelude.h"

#include "key.h"

#define S_PASS "fuzz"        /* passphrase of the protected seeds */
#define S_OTHER_PASS "fuzz!" /* any other passphrase */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cs_key_kdf s_kdf_min = {CS_KEY_KDF_OPSLIMIT_MIN,
                                            CS_KEY_KDF_MEMLIMIT_MIN};

/* Aborts unless k signs what its public key verifies. */
static void
s_check_signs(const struct cs_key *k, const uint8_t *data, size_t size)
{
    uint8_t sig[CS_KEY_SIG_BYTES];

    if (cs_key_sign(k, data, size, sig) != 0 ||
        !cs_key_verify(cs_key_public(k), data, size, sig))
        abort();
}

/* Aborts unless k encodes back to exactly the size bytes at data. */
static void
s_check_plain(const struct cs_key *k, const uint8_t *data, size_t size)
{
    uint8_t back[CS_KEY_FILE_LEN];

    if (size != CS_KEY_FILE_LEN || cs_key_encode(k, back) != 0 ||
        memcmp(back, data, size) != 0)
        abort();
    sodium_memzero(back, sizeof back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_key *k = NULL, *other = NULL;
    int bare, with;

    if (cs_crypto_init() != 0)
        abort();
    bare = cs_key_decode(data, size, NULL, 0, &s_kdf_min, &k);
    if ((bare != 0) != (k == NULL))
        abort(); /* failure must leave no key behind, success one */
    if (bare == 0) {
        s_check_plain(k, data, size);
        s_check_signs(k, data, size);
        cs_key_destroy(&k);
    }
    with = cs_key_decode(data, size, S_PASS, strlen(S_PASS), &s_kdf_min, &k);
    if ((with != 0) != (k == NULL) || with == CS_KEY_ERR_NEED_PASSPHRASE)
        abort();
    if (with != 0)
        return 0;
    s_check_signs(k, data, size);
    if (bare == 0) {
        s_check_plain(k, data, size); /* the passphrase was not needed */
        cs_key_destroy(&k);
        return 0;
    }
    /* Protected, and S_PASS opened it. */
    if (bare != CS_KEY_ERR_NEED_PASSPHRASE ||
        size != CS_KEY_FILE_PROTECTED_LEN ||
        memcmp(data + size - crypto_sign_PUBLICKEYBYTES, cs_key_public(k)->b,
               crypto_sign_PUBLICKEYBYTES) != 0)
        abort();
    if (cs_key_decode(data, size, S_OTHER_PASS, strlen(S_OTHER_PASS),
                      &s_kdf_min, &other) != CS_KEY_ERR_WRONG_PASSPHRASE ||
        other != NULL)
        abort();
    cs_key_destroy(&k);
    return 0;
}
