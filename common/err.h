/*  common/err.h - the one table of cigsync error codes.
 *
 *  Every fallible function returns 0 or one of the negative CS_ERR_* codes
 *  below (STYLE.md 14).  cs_strerror() turns a code into a sentence for
 *  people.  Codes are stable: they travel in protocol ERROR messages later,
 *  so never renumber one; add new codes at the end of the list.
 */
#ifndef CS_ERR_H
#define CS_ERR_H

#define CS_ERR_LIST(X)                                                         \
    X(CS_OK, 0, "success")                                                     \
    X(CS_ERR_INTERNAL, -1, "internal error")                                   \
    X(CS_ERR_NOMEM, -2, "out of memory")                                       \
    X(CS_ERR_TRUNCATED, -3, "input ends early")                                \
    X(CS_ERR_FORMAT, -4, "malformed input")                                    \
    X(CS_ERR_TOO_BIG, -5, "input exceeds a limit")                             \
    X(CS_ERR_TRAILING, -6, "unexpected bytes after the end of input")          \
    X(CS_ERR_IO, -7, "input/output error")                                     \
    X(CS_ERR_NOT_FOUND, -8, "not found")                                       \
    X(CS_ERR_EXISTS, -9, "already exists")                                     \
    X(CS_ERR_INVALID, -10, "invalid argument")                                 \
    X(CS_ERR_DB, -11, "database error")                                        \
    X(CS_ERR_LOCKED, -12, "the replica is locked by another program")          \
    X(CS_ERR_SCHEMA, -13, "the replica's schema does not match")               \
    X(CS_ERR_CLOCK_AHEAD, -14, "a remote clock is too far ahead")              \
    X(CS_ERR_NO_TABLE, -15, "no such table")                                   \
    X(CS_ERR_NO_FIELD, -16, "no such field")                                   \
    X(CS_ERR_BAD_VALUE, -17, "bad value")                                      \
    X(CS_ERR_CRYPTO, -18, "cryptographic operation failed")                    \
    X(CS_ERR_KEY, -19, "bad key or key file")                                  \
    X(CS_ERR_PERM, -20, "permission denied")                                   \
    X(CS_ERR_DELETED, -21, "the record is deleted")                            \
    X(CS_ERR_USAGE, -22, "bad command line")                                   \
    X(CS_ERR_SIGNATURE, -23, "bad signature")                                  \
    X(CS_ERR_CHAIN, -24, "does not follow the previous batch of its origin")   \
    X(CS_ERR_SEQUENCE, -25, "out of sequence")                                 \
    X(CS_ERR_DEPLOYMENT, -26, "belongs to another deployment")                 \
    X(CS_ERR_VERSION, -27, "unsupported protocol version")                     \
    X(CS_ERR_NOT_FOR_US, -28, "addressed to another node")                     \
    X(CS_ERR_DECRYPT, -29, "cannot be decrypted: tampered or wrong key")       \
    X(CS_ERR_PASSPHRASE, -30, "wrong passphrase")                              \
    X(CS_ERR_NEED_PASSPHRASE, -31, "the key is protected by a passphrase")     \
    X(CS_ERR_TIMEOUT, -32, "timed out")                                        \
    X(CS_ERR_REVOKED, -33, "the node is not (or no longer) enrolled")          \
    X(CS_ERR_PEER_GONE, -34, "the other side has gone")                        \
    X(CS_ERR_AUDIT, -35, "the audit log does not verify")

enum cs_err {
#define CS_ERR_ENUM(name, code, text) name = code,
    CS_ERR_LIST(CS_ERR_ENUM)
#undef CS_ERR_ENUM
};

/* Returns a static, human-readable sentence for code r (0 or CS_ERR_*).
   Unknown codes give "unknown error"; never returns NULL. */
const char *cs_strerror(int r);

/* Returns the symbolic name of code r, e.g. "CS_ERR_FORMAT" (static). */
const char *cs_errname(int r);

#endif
