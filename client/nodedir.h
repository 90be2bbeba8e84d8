/*  client/nodedir.h - a node directory: one office's config, key, replica.
 *
 *  A node directory DIR holds three files (ARCHITECTURE.md "Programs and
 *  their homes"):
 *
 *      DIR/config      text, `key = value` lines (common/config.h):
 *                        format    CS_NODEDIR_FORMAT
 *                        name      the node's display name
 *                        office    its office code
 *                        node_id   32 hex digits, BLAKE2b of the public key
 *                        identity  "cs1:" + public key, what admins enrol
 *                        created   UTC time of `cigsync init`
 *      DIR/node.key    the secret signing key, mode 0600 (common/key.h),
 *                      optionally sealed with a passphrase
 *      DIR/replica.db  the SQLite replica (common/store.h)
 *
 *  DIR itself is made mode 0700.  The config is written last, so a
 *  directory with a config is a complete node; `init` removes whatever it
 *  made when any step fails, so it can simply be run again.
 *
 *  The secret key is not loaded by cs_nodedir_open(): most commands do
 *  not sign, and a protected key costs a passphrase and about a second of
 *  Argon2id.  Whatever needs it calls cs_nodedir_key(), the one way in,
 *  which asks for the passphrase when the key has one and checks that the
 *  key is the node's.
 *
 *  This module does not sync and does not interpret records; commands use
 *  the open store it hands out.  Like every client/ function returning a
 *  CS_ERR_*, its functions print the one error line themselves (out.h).
 */
#ifndef CS_NODEDIR_H
#define CS_NODEDIR_H

#include <stdbool.h>

#include "attr.h"
#include "key.h"
#include "store.h"

#define CS_NODEDIR_FORMAT "1"   /* value of config "format" we write */
#define CS_NODEDIR_NAME_MAX 64  /* longest node name, bytes */
#define CS_NODEDIR_OFFICE_MIN 2 /* office codes: 2..8 of [A-Z0-9] */
#define CS_NODEDIR_OFFICE_MAX 8
#define CS_NODEDIR_CONFIG "config" /* file names inside DIR */
#define CS_NODEDIR_KEY "node.key"
#define CS_NODEDIR_REPLICA "replica.db"
#define CS_NODEDIR_PASS_NONE (-1) /* init: a plain key, no passphrase */
#define CS_NODEDIR_PASS_TTY (-2)  /* ask for the passphrase on the terminal */
#define CS_NODEDIR_PASS_TRIES 3   /* passphrase attempts on a terminal */

struct cs_nodedir;

/* Returns true if name is a usable node name: 1..CS_NODEDIR_NAME_MAX bytes
   of UTF-8 with no control characters (text.h's unsafe set) and no
   leading or trailing space. */
bool cs_nodedir_name_valid(const char *name) CS_NONNULL(1);

/* Makes a new node directory at path (which must not exist, or be an
   empty directory): a fresh key, an empty replica for office recording
   name as this node's display name, and the config.
     path     the directory
     name     the node's display name (cs_nodedir_name_valid())
     office   its office code (cs_store_office_valid())
     pass_fd  CS_NODEDIR_PASS_NONE for a plain key; CS_NODEDIR_PASS_TTY to
              ask twice on the terminal for a passphrase that seals it; a
              file descriptor to read that passphrase from (one line).
              The passphrase is read after the other checks passed and
              before anything is made.
     out      receives the open node directory, owned by the caller
   Returns 0; CS_ERR_USAGE for a bad name or office, CS_ERR_EXISTS,
   CS_ERR_NOT_FOUND (a passphrase but no terminal to ask on), the
   passphrase reading's CS_ERR_INVALID, CS_ERR_BAD_VALUE, CS_ERR_TOO_BIG
   (passphrase.h), CS_ERR_IO, CS_ERR_CRYPTO, CS_ERR_DB...  On failure
   nothing that init made is left behind and *out is NULL. */
int cs_nodedir_init(const char *path, const char *name, const char *office,
                    int pass_fd, struct cs_nodedir **out) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 5);

/* Opens the node directory at path: reads its config and opens its
   replica, checking that they belong to the same node.  Returns 0 and
   *out, owned by the caller; CS_ERR_NOT_FOUND (no directory or no config),
   CS_ERR_FORMAT (bad config), CS_ERR_LOCKED, CS_ERR_SCHEMA, CS_ERR_DB...;
   on failure *out is NULL. */
int cs_nodedir_open(const char *path, struct cs_nodedir **out) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Closes the replica, frees d and sets *d to NULL; nothing if *d NULL. */
void cs_nodedir_destroy(struct cs_nodedir **d);

/* Returns the open replica, owned by d. */
struct cs_store *cs_nodedir_store(struct cs_nodedir *d) CS_NONNULL(1);

/* Returns a config value ("name", "identity", ...), or NULL if absent. */
const char *cs_nodedir_get(const struct cs_nodedir *d, const char *key)
    CS_NONNULL(1, 2);

/* Returns the directory's path, the replica's and the key's, as given. */
const char *cs_nodedir_path(const struct cs_nodedir *d) CS_NONNULL(1);
const char *cs_nodedir_replica_path(const struct cs_nodedir *d) CS_NONNULL(1);
const char *cs_nodedir_key_path(const struct cs_nodedir *d) CS_NONNULL(1);

/* Loads the node's secret key: the one function for everything that
   signs.  A plain key is simply read.  A protected one needs its
   passphrase: read from pass_fd (one line) when it is >= 0, else asked on
   the terminal, up to CS_NODEDIR_PASS_TRIES times.  The key must be the
   one the config names (node_id and identity).
     d        the open node directory
     pass_fd  where the passphrase comes from, or negative: the terminal
     out      receives the key, owned by the caller (cs_key_destroy())
   Returns 0; CS_ERR_NOT_FOUND for a missing key file, or a protected key
   with no descriptor and no terminal; CS_KEY_ERR_WRONG_PASSPHRASE;
   CS_ERR_KEY for a damaged key file or another node's key; CS_ERR_PERM;
   the passphrase reading's CS_ERR_INVALID, CS_ERR_TOO_BIG, CS_ERR_IO...
   On failure *out is NULL. */
int cs_nodedir_key(const struct cs_nodedir *d, int pass_fd,
                   struct cs_key **out) CS_MUST_CHECK CS_NONNULL(1, 3);

/* Returns the node id the config names (and the replica agrees with). */
const struct cs_node_id *cs_nodedir_node(const struct cs_nodedir *d)
    CS_NONNULL(1);

/* Records the server this node syncs with: config "server" (its
   endpoint, tcp://HOST:PORT or ipc://PATH) and "server_key" (its
   identity, cs1:...).  Returns 0, CS_ERR_USAGE for a bad endpoint or
   identity, or CS_ERR_IO. */
int cs_nodedir_set_server(struct cs_nodedir *d, const char *endpoint,
                          const char *identity) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3);

#endif
