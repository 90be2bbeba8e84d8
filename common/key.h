/*  common/key.h - node identity, signing keys and key files.
 *
 *  Every node (office or server) is identified by an Ed25519 signing key.
 *  Its public half is what an administrator enrols, written as an identity
 *  string "cs1:" + 64 lowercase hex digits; its node id, which tags every
 *  change and batch it originates, is the 16-byte BLAKE2b hash of that
 *  public key, so a node id cannot be claimed without the key.  The secret
 *  half lives only in sodium_malloc() memory (guard pages, locked, read-only
 *  after creation, wiped on free) and in a 0600 key file, optionally sealed
 *  with a key derived from a passphrase.
 *
 *  This module is not the envelope or session crypto (X25519, AEAD): those
 *  belong to the protocol.  It does not decide where key files live.
 *
 *  Key file format, version 1.  A key file is one of two kinds, told by
 *  its fifth byte; each has exactly one length, and nothing else is a key
 *  file.  Integers are big-endian.
 *
 *  Kind 0, plain (CS_KEY_FILE_LEN = 69 bytes):
 *
 *      offset  size  field
 *      0       4     magic "CSK1" (0x43 0x53 0x4b 0x31)
 *      4       1     kind = 0
 *      5       32    Ed25519 seed (RFC 8032 private key)
 *      37      32    Ed25519 public key derived from the seed
 *
 *  Kind 1, protected by a passphrase (CS_KEY_FILE_PROTECTED_LEN = 141):
 *
 *      offset  size  field
 *      0       4     magic "CSK1"
 *      4       1     kind = 1
 *      5       16    salt, random (crypto_pwhash_argon2id_SALTBYTES)
 *      21      8     opslimit: Argon2id passes, u64
 *      29      8     memlimit: Argon2id memory in bytes, u64
 *      37      24    nonce, random (XChaCha20)
 *      61      48    the 32-byte seed sealed with XChaCha20-Poly1305-IETF
 *                    (crypto_aead_xchacha20poly1305_ietf), 16-byte tag last
 *      109     32    Ed25519 public key derived from the seed
 *
 *  The sealing key is Argon2id version 1.3 (crypto_pwhash,
 *  crypto_pwhash_ALG_ARGON2ID13, one lane) of the passphrase with salt,
 *  opslimit and memlimit, 32 bytes long.  The associated data is bytes
 *  0..60 followed by the public key (bytes 109..140), so every byte of the
 *  file is authenticated: a changed limit, salt, nonce or public key fails
 *  like a wrong passphrase would, except that limits outside
 *  [CS_KEY_KDF_*_MIN, CS_KEY_KDF_*_MAX] are refused before Argon2 runs, so
 *  a hostile file cannot make us allocate 100 GiB.  The public key stays in
 *  clear so the node's identity can be shown without the passphrase.  The
 *  passphrase is bytes as typed (UTF-8 from a terminal), not normalised.
 *  Test vector: tests/unit/key_test.c (S_PROTECTED_VECTOR), computed
 *  independently of libsodium.
 *
 *  In both kinds the public key is recomputed from the seed on load and
 *  must match, so a corrupted seed or public key is detected rather than
 *  silently giving a different identity.  Any other length, magic or kind
 *  is refused with CS_ERR_KEY.
 *
 *  Text forms here are canonical: hex is lowercase on output and only
 *  lowercase is accepted on input, so one key has one spelling.
 */
#ifndef CS_KEY_H
#define CS_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "attr.h"
#include "err.h"

#define CS_NODE_ID_BYTES 16   /* binary node id: BLAKE2b-128 of the pubkey */
#define CS_NODE_ID_HEX_LEN 32 /* hex digits of a node id */
#define CS_IDENTITY_PREFIX "cs1:"     /* version tag of identity strings */
#define CS_IDENTITY_PREFIX_LEN 4      /* strlen(CS_IDENTITY_PREFIX) */
#define CS_IDENTITY_TEXT_LEN (4 + 64) /* prefix + hex of the public key */
#define CS_KEY_SEED_BYTES crypto_sign_SEEDBYTES /* Ed25519 seed, 32 */
#define CS_KEY_SIG_BYTES crypto_sign_BYTES      /* Ed25519 signature, 64 */
#define CS_KEY_FILE_MAGIC "CSK1" /* first bytes of every key file */
#define CS_KEY_FILE_MAGIC_LEN 4  /* strlen(CS_KEY_FILE_MAGIC) */
#define CS_KEY_FILE_KIND_PLAIN 0 /* kind byte of an unencrypted key file */
#define CS_KEY_FILE_LEN                                                        \
    (CS_KEY_FILE_MAGIC_LEN + 1 + CS_KEY_SEED_BYTES +                           \
     crypto_sign_PUBLICKEYBYTES) /* 69 bytes, the only valid size */

/* Protected key files (kind 1, format above). */
#define CS_KEY_FILE_KIND_PROTECTED 1 /* kind byte of a passphrase file */
#define CS_KEY_SALT_BYTES crypto_pwhash_argon2id_SALTBYTES         /* 16 */
#define CS_KEY_MAC_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES /* 16 */
/* XChaCha20 nonce, 24 bytes */
#define CS_KEY_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CS_KEY_LIMIT_BYTES 8 /* opslimit and memlimit, u64 each */
#define CS_KEY_FILE_PROTECTED_HEAD_LEN                                         \
    (CS_KEY_FILE_MAGIC_LEN + 1 + CS_KEY_SALT_BYTES + 2 * CS_KEY_LIMIT_BYTES +  \
     CS_KEY_NONCE_BYTES) /* 61: magic to nonce, the first part of the AD */
#define CS_KEY_FILE_PROTECTED_LEN                                              \
    (CS_KEY_FILE_PROTECTED_HEAD_LEN + CS_KEY_SEED_BYTES + CS_KEY_MAC_BYTES +   \
     crypto_sign_PUBLICKEYBYTES) /* 141 bytes, the only valid size */
#define CS_KEY_FILE_MAX CS_KEY_FILE_PROTECTED_LEN /* longest key file */

/* Argon2id cost.  The default is libsodium's MODERATE: 3 passes over 256
   MiB, 0.47-0.62 s on the 2-core AMD EPYC development machine (libsodium
   1.0.18, one lane), paid once per `cigsync init` and once per start of a
   command or daemon that needs the key; 256 MiB for that moment is fine
   on an office PC.  INTERACTIVE (2 passes, 64 MiB, 0.1 s) would make each
   guess against a stolen file about six times cheaper, for a saving of
   half a second nobody notices.  Files may ask for at most SENSITIVE's 1 GiB
   and 8 passes (5.5-6.1 s here); anything above, or below libsodium's
   minimum, is refused before Argon2 runs. */
#define CS_KEY_KDF_OPSLIMIT_DEFAULT crypto_pwhash_argon2id_OPSLIMIT_MODERATE
#define CS_KEY_KDF_MEMLIMIT_DEFAULT crypto_pwhash_argon2id_MEMLIMIT_MODERATE
#define CS_KEY_KDF_OPSLIMIT_MIN crypto_pwhash_argon2id_OPSLIMIT_MIN /* 1 */
#define CS_KEY_KDF_MEMLIMIT_MIN crypto_pwhash_argon2id_MEMLIMIT_MIN /* 8KiB */
#define CS_KEY_KDF_OPSLIMIT_MAX 8 /* passes a key file may ask for */
#define CS_KEY_KDF_MEMLIMIT_MAX                                                \
    crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE /* 1 GiB, bytes */

/* Results of the passphrase checks, distinct from a corrupt file
   (CS_ERR_KEY).  Neither is logged: the caller tells the person. */
#define CS_KEY_ERR_NEED_PASSPHRASE CS_ERR_NEED_PASSPHRASE /* none given */
#define CS_KEY_ERR_WRONG_PASSPHRASE CS_ERR_PASSPHRASE     /* seal refused */

/* A node id (STYLE.md 13): derived from, and bound to, a public key. */
struct cs_node_id {
    uint8_t b[CS_NODE_ID_BYTES]; /* BLAKE2b-128 of the Ed25519 public key */
};

/* An Ed25519 public key. */
struct cs_pubkey {
    uint8_t b[crypto_sign_PUBLICKEYBYTES]; /* RFC 8032 encoding */
};

/* Argon2id cost of a protected key file (crypto_pwhash's limits). */
struct cs_key_kdf {
    uint64_t opslimit; /* passes over memory */
    uint64_t memlimit; /* memory, bytes */
};

/* What a key file tells without its passphrase (cs_key_info()). */
struct cs_key_info {
    uint8_t kind;          /* CS_KEY_FILE_KIND_PLAIN or _PROTECTED */
    struct cs_key_kdf kdf; /* Argon2id cost; zero for a plain file */
};

/* A node's signing key pair; opaque.  The secret key is in sodium_malloc()
   memory, read-only after creation. */
struct cs_key;

/* Initialises libsodium; safe to call any number of times, from any
   thread.  Every function below that can fail calls it itself.  Returns 0,
   or CS_ERR_CRYPTO if libsodium cannot start (e.g. no randomness). */
CS_MUST_CHECK int cs_crypto_init(void);

/* Computes in *id the node id of pk: BLAKE2b (crypto_generichash) with a
   16-byte output and no key, over the 32 bytes of pk.  Cannot fail. */
void cs_node_id_from_pubkey(const struct cs_pubkey *pk, struct cs_node_id *id)
    CS_NONNULL(1, 2);

/* Writes id as 32 lowercase hex digits and a NUL into out. */
void cs_node_id_hex(const struct cs_node_id *id,
                    char out[CS_NODE_ID_HEX_LEN + 1]) CS_NONNULL(1, 2);

/* Parses exactly 32 lowercase hex digits into *id.  Returns 0, or
   CS_ERR_FORMAT for any other string (then *id is zeroed). */
CS_MUST_CHECK int cs_node_id_parse(const char *hex, struct cs_node_id *id)
    CS_NONNULL(1, 2);

/* Writes the identity string of pk ("cs1:" + 64 lowercase hex digits and
   a NUL, CS_IDENTITY_TEXT_LEN + 1 bytes) into out.
     pk   the public key
     out  receives the text
     len  size of out
   Returns 0, or CS_ERR_TOO_BIG if len < CS_IDENTITY_TEXT_LEN + 1 (out then
   holds "" when len > 0). */
CS_MUST_CHECK int cs_identity_format(const struct cs_pubkey *pk, char *out,
                                     size_t len) CS_NONNULL(1, 2);

/* Parses an identity string into *pk.  Returns 0, or CS_ERR_KEY when s
   lacks the "cs1:" prefix, has another length, has a character that is not
   lowercase hex, or does not encode a usable Ed25519 public key (not on the
   curve, small order, or outside the prime-order subgroup; libsodium's
   crypto_sign_ed25519_pk_to_curve25519() refuses those); then *pk is
   zeroed.  Also CS_ERR_CRYPTO if libsodium cannot start. */
CS_MUST_CHECK int cs_identity_parse(const char *s, struct cs_pubkey *pk)
    CS_NONNULL(1, 2);

/* Makes a fresh random key pair.  Returns 0 and *out, owned by the caller
   (cs_key_destroy()); or CS_ERR_NOMEM if secure memory is exhausted,
   CS_ERR_CRYPTO; then *out is NULL. */
CS_MUST_CHECK int cs_key_generate(struct cs_key **out) CS_NONNULL(1);

/* Makes the key pair of a given Ed25519 seed (RFC 8032), for key files and
   test vectors.  The caller keeps and wipes seed.  Returns and owns as
   cs_key_generate(). */
CS_MUST_CHECK int cs_key_from_seed(const uint8_t seed[CS_KEY_SEED_BYTES],
                                   struct cs_key **out) CS_NONNULL(1, 2);

/* Wipes and frees *k and sets *k to NULL; does nothing if *k is NULL. */
void cs_key_destroy(struct cs_key **k) CS_NONNULL(1);

/* Returns the public half of k, valid as long as k. */
const struct cs_pubkey *cs_key_public(const struct cs_key *k) CS_NONNULL(1);

#define CS_KEY_SHARED_BYTES 32 /* a shared secret from cs_key_shared() */

/* Computes the secret that k and the holder of peer share: X25519 between
   the two keys mapped to Curve25519 (libsodium's
   crypto_sign_ed25519_{pk,sk}_to_curve25519, RFC 7748), hashed as
   crypto_box_curve25519xchacha20poly1305_beforenm() does.  Either side
   gets the same 32 bytes; envelopes (proto/envelope.h) key their AEAD with
   it.  The caller wipes out after use (sodium_memzero).
   Returns 0, or CS_ERR_KEY if peer is not a usable public key. */
CS_MUST_CHECK int cs_key_shared(const struct cs_key *k,
                                const struct cs_pubkey *peer,
                                uint8_t out[CS_KEY_SHARED_BYTES])
    CS_NONNULL(1, 2, 3);

/* Computes in *id the node id of k's public key. */
void cs_key_node_id(const struct cs_key *k, struct cs_node_id *id)
    CS_NONNULL(1, 2);

/* Signs len bytes at msg (NULL allowed when len is 0) with k.
     k    the key pair
     msg  the message
     len  its length
     sig  receives the 64-byte Ed25519 signature (detached)
   Returns 0, or CS_ERR_CRYPTO (then sig is zeroed). */
CS_MUST_CHECK int cs_key_sign(const struct cs_key *k, const void *msg,
                              size_t len, uint8_t sig[CS_KEY_SIG_BYTES])
    CS_NONNULL(1, 4);

/* Returns true when sig is pk's Ed25519 signature of the len bytes at msg
   (NULL allowed when len is 0); false for any other signature, a malformed
   one, or if libsodium cannot start. */
bool cs_key_verify(const struct cs_pubkey *pk, const void *msg, size_t len,
                   const uint8_t sig[CS_KEY_SIG_BYTES]) CS_NONNULL(1, 4);

/* Writes the plain key file form of k (kind 0, format above) into out.
   Returns 0.  out holds the secret seed: wipe it with sodium_memzero()
   after use. */
CS_MUST_CHECK int cs_key_encode(const struct cs_key *k,
                                uint8_t out[CS_KEY_FILE_LEN]) CS_NONNULL(1, 2);

/* Writes the protected key file form of k (kind 1, format above) into out,
   with a fresh random salt and nonce, so no two encodings are alike.
     k         the key pair
     pass      the passphrase, pass_len bytes (need not be NUL-terminated)
     pass_len  its length, at least 1
     kdf       Argon2id cost, within [CS_KEY_KDF_*_MIN, CS_KEY_KDF_*_MAX];
               NULL for CS_KEY_KDF_*_DEFAULT (tests pass the minimum)
     out       receives CS_KEY_FILE_PROTECTED_LEN bytes, none of them secret
   Returns 0; CS_ERR_INVALID for an empty passphrase or a cost out of
   bounds (a file we would refuse to load); CS_ERR_NOMEM when secure memory
   or Argon2's memory cannot be had; CS_ERR_CRYPTO.  On failure out is
   zeroed. */
CS_MUST_CHECK int
cs_key_encode_protected(const struct cs_key *k, const char *pass,
                        size_t pass_len, const struct cs_key_kdf *kdf,
                        uint8_t out[CS_KEY_FILE_PROTECTED_LEN])
    CS_NONNULL(1, 2, 5);

/* Parses key file bytes, which may be anything (untrusted input).
     p         the bytes; NULL allowed when len is 0
     len       their number
     pass      the passphrase for a protected file, pass_len bytes; NULL
               when none was given.  Ignored for a plain file.
     pass_len  its length
     max       the highest Argon2id cost accepted; NULL for
               CS_KEY_KDF_*_MAX (fuzzers pass the minimum, to stay fast)
     out       receives the key pair, owned by the caller
   Returns 0;
     CS_ERR_KEY for a wrong length, magic or kind, Argon2id limits outside
       [CS_KEY_KDF_*_MIN, max] (refused before any work), or a public key
       that does not match the seed;
     CS_KEY_ERR_NEED_PASSPHRASE for a protected file when pass is NULL;
     CS_KEY_ERR_WRONG_PASSPHRASE when the seal does not open: the
       passphrase is wrong, or the salt, limits, nonce, sealed seed or
       public key were changed (the two cannot be told apart);
     CS_ERR_NOMEM or CS_ERR_CRYPTO.
   On failure *out is NULL.  The caller wipes p and pass. */
CS_MUST_CHECK int cs_key_decode(const uint8_t *p, size_t len, const char *pass,
                                size_t pass_len, const struct cs_key_kdf *max,
                                struct cs_key **out) CS_NONNULL(6);

/* Writes k to a new plain key file at path: created with O_CREAT |
   O_EXCL, mode 0600, then fsync()ed, as is its directory.  Never replaces
   a file.  Returns 0; CS_ERR_EXISTS if path exists (even as a dangling
   symlink); CS_ERR_PERM if the directory refuses; CS_ERR_IO for other
   failures, after which no partial file is left behind. */
CS_MUST_CHECK int cs_key_save(const struct cs_key *k, const char *path)
    CS_NONNULL(1, 2);

/* As cs_key_save(), but writes the protected form: see
   cs_key_encode_protected() for pass, pass_len and kdf, and for its
   CS_ERR_INVALID, CS_ERR_NOMEM and CS_ERR_CRYPTO. */
CS_MUST_CHECK int cs_key_save_protected(const struct cs_key *k,
                                        const char *path, const char *pass,
                                        size_t pass_len,
                                        const struct cs_key_kdf *kdf)
    CS_NONNULL(1, 2, 3);

/* Reads the key file at path (at most CS_KEY_FILE_MAX + 1 bytes, into
   sodium_malloc() memory) and decodes it as cs_key_decode() does with the
   default maximum cost; pass and pass_len as there.
   Returns 0 and *out, owned by the caller; CS_ERR_NOT_FOUND if there is no
   such file (not logged); CS_ERR_PERM if it is not ours to read, or if
   group or others have any permission on it (a key file must be 0600 or
   stricter, as ssh demands of private keys); CS_ERR_KEY if it is not a
   regular file or not a valid key file; CS_KEY_ERR_NEED_PASSPHRASE and
   CS_KEY_ERR_WRONG_PASSPHRASE (not logged); CS_ERR_IO, CS_ERR_NOMEM.  On
   failure *out is NULL. */
CS_MUST_CHECK int cs_key_load(const char *path, const char *pass,
                              size_t pass_len, struct cs_key **out)
    CS_NONNULL(1, 4);

/* Reads the key file at path, as cs_key_load() does, and reports its kind
   and Argon2id cost in *info without deriving anything: whether a
   passphrase will be needed.  Returns 0, or cs_key_load()'s CS_ERR_NOT_FOUND
   (not logged), CS_ERR_PERM, CS_ERR_KEY (also for limits out of bounds),
   CS_ERR_IO, CS_ERR_NOMEM; then *info is zeroed. */
CS_MUST_CHECK int cs_key_info(const char *path, struct cs_key_info *info)
    CS_NONNULL(1, 2);

#define CS_KEY_CURVE_BYTES crypto_scalarmult_curve25519_BYTES /* 32 */

/* Computes k's Curve25519 key pair for CurveZMQ (ZMQ_CURVE_PUBLICKEY and
   _SECRETKEY, RFC 26), mapped from the Ed25519 pair as libsodium's
   crypto_sign_ed25519_{pk,sk}_to_curve25519 do, so a node has one
   identity for signing and for its transport.
     k   the key pair
     pk  receives the Curve25519 public key
     sk  receives the Curve25519 secret key: the caller wipes it
         (sodium_memzero) as soon as libzmq has copied it
   Returns 0, or CS_ERR_KEY (then pk and sk are zeroed). */
CS_MUST_CHECK int cs_key_curve(const struct cs_key *k,
                               uint8_t pk[CS_KEY_CURVE_BYTES],
                               uint8_t sk[CS_KEY_CURVE_BYTES])
    CS_NONNULL(1, 2, 3);

/* Computes in out the Curve25519 public key of pk (the peer's
   ZMQ_CURVE_SERVERKEY, or what a ZAP request carries for it).  Returns 0,
   or CS_ERR_KEY if pk is not a usable Ed25519 key (then out is zeroed). */
CS_MUST_CHECK int cs_pubkey_curve(const struct cs_pubkey *pk,
                                  uint8_t out[CS_KEY_CURVE_BYTES])
    CS_NONNULL(1, 2);

#endif
