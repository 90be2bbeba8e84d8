/*  tests/fuzz/keyfile_fuzz.c - fuzz target for key file parsing.
 *
 *  Target: cs_key_decode() (common/key.c), the parser of key file bytes.
 *  Property checked besides memory safety: whatever it accepts encodes
 *  back to exactly the same 69 bytes, and the key it yields signs messages
 *  its own public key verifies.  Deterministic: no clock, no randomness.
 *  Seed corpus: tests/fuzz/corpus/keyfile/ (a valid file, truncated, wrong
 *  magic, wrong kind, seed and public key that do not match).
 */
#include "prelude.h"

#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_key *k = NULL;
    uint8_t back[CS_KEY_FILE_LEN];
    uint8_t sig[CS_KEY_SIG_BYTES];

    if (cs_crypto_init() != 0)
        abort();
    if (cs_key_decode(data, size, &k) != 0) {
        if (k != NULL)
            abort(); /* failure must leave no key behind */
        return 0;
    }
    if (size != CS_KEY_FILE_LEN || cs_key_encode(k, back) != 0 ||
        memcmp(back, data, size) != 0)
        abort();
    if (cs_key_sign(k, data, size, sig) != 0 ||
        !cs_key_verify(cs_key_public(k), data, size, sig))
        abort();
    sodium_memzero(back, sizeof back);
    cs_key_destroy(&k);
    return 0;
}
