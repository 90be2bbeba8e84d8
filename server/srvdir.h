/*  server/srvdir.h - the server's directory: config, key, consolidated
 *  replica with the node registry.
 *
 *  A server directory DIR holds three files (ARCHITECTURE.md "Programs and
 *  their homes"):
 *
 *      DIR/config      text, `key = value` lines (common/config.h):
 *                        format      CS_SRVDIR_FORMAT
 *                        name        the server's display name
 *                        listen      the ZeroMQ endpoint it binds:
 *                                    tcp://HOST:PORT or ipc://PATH
 *                        deployment  32 hex digits: 16 random bytes that
 *                                    every batch and envelope of this
 *                                    programme carries (proto/batch.h)
 *                        node_id     32 hex digits, BLAKE2b of the key
 *                        identity    "cs1:" + public key, what offices
 *                                    are given to trust the server
 *                        created     UTC time of `cigsync-server init`
 *      DIR/server.key  the secret signing key, mode 0600 (common/key.h),
 *                      optionally sealed with a passphrase
 *      DIR/replica.db  the consolidated replica (common/store.h) of office
 *                      CS_SRVDIR_OFFICE, holding also the node registry
 *                      (registry.h) in the same file
 *
 *  DIR itself is made mode 0700.  The config is written last, so a
 *  directory with a config is a complete server; init removes whatever it
 *  made when any step fails, so it can simply be run again.  Opening a
 *  directory does not load the secret key: the admin commands do not sign.
 *
 *  Like every server/ function that main.c calls, these print the one
 *  error line themselves (srvout.h).
 */
#ifndef CS_SRVDIR_H
#define CS_SRVDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "attr.h"
#include "key.h"
#include "proto.h"
#include "registry.h"
#include "store.h"

#define CS_SRVDIR_FORMAT "1"      /* value of config "format" we write */
#define CS_SRVDIR_CONFIG "config" /* file names inside DIR */
#define CS_SRVDIR_KEY "server.key"
#define CS_SRVDIR_REPLICA "replica.db"
#define CS_SRVDIR_OFFICE "HUB" /* the replica's office code */
#define CS_SRVDIR_NAME_DEFAULT "cigsync server"
#define CS_SRVDIR_NAME_MAX 64 /* longest server name, bytes */
#define CS_SRVDIR_LISTEN_DEFAULT "tcp://127.0.0.1:7701"
#define CS_SRVDIR_HOST_MAX 253     /* longest tcp:// host (RFC 1035) */
#define CS_SRVDIR_PORT_MAX 65535   /* highest tcp:// port */
#define CS_SRVDIR_IPC_PATH_MAX 107 /* sun_path of sockaddr_un, less NUL */
#define CS_SRVDIR_DEPLOYMENT_HEX_LEN (2 * CS_DEPLOYMENT_BYTES)
#define CS_SRVDIR_PASS_NONE (-1) /* init: a plain key, no passphrase */
#define CS_SRVDIR_PASS_TTY (-2)  /* init: ask twice on the terminal */

struct cs_srvdir;

/* Returns true if name is a usable server name: 1..CS_SRVDIR_NAME_MAX
   bytes that a config value may hold (UTF-8, no control characters, no
   leading or trailing blank). */
bool cs_srvdir_name_valid(const char *name) CS_NONNULL(1);

/* Returns true if endpoint is one the server can bind: "tcp://HOST:PORT"
   with HOST a name or IPv4 address ([A-Za-z0-9._-]), "*" or a bracketed
   IPv6 address, and PORT 1..65535; or "ipc://PATH" with PATH 1 to
   CS_SRVDIR_IPC_PATH_MAX bytes of printable ASCII. */
bool cs_srvdir_endpoint_valid(const char *endpoint) CS_NONNULL(1);

/* Makes a new server directory at path (which must not exist, or be an
   empty directory): a fresh key, a fresh deployment id, the consolidated
   replica with an empty registry, and the config.
     path     the directory
     name     the server's display name (cs_srvdir_name_valid())
     listen   its endpoint (cs_srvdir_endpoint_valid())
     pass_fd  CS_SRVDIR_PASS_NONE for a plain key; CS_SRVDIR_PASS_TTY to
              ask twice on the terminal for a passphrase that seals it; a
              file descriptor to read that passphrase from (one line).
              It is read after the other checks passed and before
              anything is made.
     out      receives the open directory, owned by the caller
   Returns 0; CS_ERR_USAGE for a bad name or endpoint; CS_ERR_EXISTS;
   CS_ERR_NOT_FOUND (a passphrase but no terminal to ask on); the
   passphrase reading's CS_ERR_INVALID, CS_ERR_BAD_VALUE, CS_ERR_TOO_BIG;
   CS_ERR_IO, CS_ERR_CRYPTO, CS_ERR_DB...  On failure nothing that init
   made is left behind and *out is NULL. */
int cs_srvdir_init(const char *path, const char *name, const char *listen,
                   int pass_fd, struct cs_srvdir **out) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3, 5);

/* Opens the server directory at path: reads and checks its config, opens
   its replica and checks that it is this server's and holds a registry.
   Returns 0 and *out, owned by the caller; CS_ERR_NOT_FOUND (no directory
   or no config), CS_ERR_FORMAT (bad config, or an office's directory),
   CS_ERR_LOCKED, CS_ERR_SCHEMA, CS_ERR_DB...; on failure *out is NULL. */
int cs_srvdir_open(const char *path, struct cs_srvdir **out) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Closes the replica, frees d and sets *d to NULL; nothing if *d NULL. */
void cs_srvdir_destroy(struct cs_srvdir **d);

/* Returns the open replica, owned by d. */
struct cs_store *cs_srvdir_store(struct cs_srvdir *d) CS_NONNULL(1);

/* Returns the registry over the replica, owned by d. */
struct cs_registry *cs_srvdir_registry(struct cs_srvdir *d) CS_NONNULL(1);

/* Returns a config value ("name", "listen", "identity", ...), or NULL. */
const char *cs_srvdir_get(const struct cs_srvdir *d, const char *key)
    CS_NONNULL(1, 2);

/* Returns the directory's path, the replica's and the key's, as given. */
const char *cs_srvdir_path(const struct cs_srvdir *d) CS_NONNULL(1);
const char *cs_srvdir_replica_path(const struct cs_srvdir *d) CS_NONNULL(1);
const char *cs_srvdir_key_path(const struct cs_srvdir *d) CS_NONNULL(1);

/* Returns the server's node id and public key, as the config names them
   (and the replica agrees). */
const struct cs_node_id *cs_srvdir_node(const struct cs_srvdir *d)
    CS_NONNULL(1);
const struct cs_pubkey *cs_srvdir_pubkey(const struct cs_srvdir *d)
    CS_NONNULL(1);

/* Returns the deployment id, CS_DEPLOYMENT_BYTES bytes owned by d. */
const uint8_t *cs_srvdir_deployment(const struct cs_srvdir *d) CS_NONNULL(1);

/* Loads the server's secret key (for `run` and bundles): a plain key is
   read; a sealed one needs its passphrase, read from pass_fd when it is
   >= 0, else asked on the terminal.  Prints the error line on failure.
   Returns 0 and *k (cs_key_destroy()), or cs_key_load()'s or the
   passphrase reading's error. */
int cs_srvdir_key(const struct cs_srvdir *d, int pass_fd,
                  struct cs_key **k) CS_MUST_CHECK CS_NONNULL(1, 3);

#endif
