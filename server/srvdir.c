/*  server/srvdir.c - the server's directory; see srvdir.h.
 *
 *  Design note: init undoes itself.  Each step of cs_srvdir_init() records
 *  what it made (the directory, the key file, the replica and its -wal and
 *  -shm companions, the config) in a struct cs_newdir (common/newdir.h);
 *  the one `out:` path removes exactly those on failure, and gives an empty
 *  directory that was there before its old mode back.  Nothing that existed
 * before is removed, so running init on an existing server by mistake cannot
 * hurt it: the emptiness check refuses first.
 */
#include "prelude.h"

#include "audit.h"
#include "key.h"
#include "newdir.h"
#include "passphrase.h"
#include "srvdir.h"
#include "srvout.h"

#define S_CONFIG_HEADER                                                        \
    "cigsync server configuration, written by `cigsync-server init`.\n"        \
    "The secret key is in server.key; the replica and the node registry\n"     \
    "are in replica.db."
#define S_TCP "tcp://" /* endpoint schemes */
#define S_IPC "ipc://"
#define S_PRINTABLE_MIN 0x20 /* ' ', first printable ASCII */
#define S_PRINTABLE_MAX 0x7e /* '~', last printable ASCII */
#define S_DECIMAL 10         /* base of port numbers */
#define S_ERR_MAX 512        /* a message from cs_newdir_*() */

struct cs_srvdir {
    char *path;                              /* the directory, as given */
    char *replica_path;                      /* DIR/replica.db */
    char *key_path;                          /* DIR/server.key */
    struct cs_config *config;                /* DIR/config */
    struct cs_store *store;                  /* the open replica */
    struct cs_registry registry;             /* over store's handle */
    struct cs_node_id node;                  /* config node_id */
    struct cs_pubkey pubkey;                 /* config identity */
    uint8_t deployment[CS_DEPLOYMENT_BYTES]; /* config deployment */
};

/* ---- checks of names and endpoints --------------------------------------- */

bool
cs_srvdir_name_valid(const char *name)
{
    size_t len = strlen(name);
    struct cs_config *c;
    bool ok;

    if (len == 0 || len > CS_SRVDIR_NAME_MAX)
        return false;
    /* Whatever the config accepts as a value can be saved and read back. */
    c = cs_config_new();
    ok = cs_config_set(c, "name", name) == 0;
    cs_config_destroy(&c);
    return ok;
}

static bool
s_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static bool
s_ipv6_char(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/* Checks the len bytes of host (before the last ':') of a tcp endpoint. */
static bool
s_host_valid(const char *host, size_t len)
{
    bool (*ok)(char) = s_host_char;

    if (len == 1 && host[0] == '*')
        return true;
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
        ok = s_ipv6_char;
    }
    if (len == 0 || len > CS_SRVDIR_HOST_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ok(host[i]))
            return false;
    return true;
}

static bool
s_port_valid(const char *port)
{
    char *end = NULL;
    long n;

    if (port[0] < '1' || port[0] > '9')
        return false; /* also refuses signs, blanks and leading zeros */
    errno = 0;
    n = strtol(port, &end, S_DECIMAL);
    return errno == 0 && end != NULL && *end == '\0' && n >= 1 &&
           n <= CS_SRVDIR_PORT_MAX;
}

bool
cs_srvdir_endpoint_valid(const char *endpoint)
{
    const char *rest, *colon;
    size_t len;

    if (strncmp(endpoint, S_IPC, strlen(S_IPC)) == 0) {
        rest = endpoint + strlen(S_IPC);
        len = strlen(rest);
        if (len == 0 || len > CS_SRVDIR_IPC_PATH_MAX)
            return false;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)rest[i];
            if (c < S_PRINTABLE_MIN || c > S_PRINTABLE_MAX)
                return false;
        }
        return true;
    }
    if (strncmp(endpoint, S_TCP, strlen(S_TCP)) != 0)
        return false;
    rest = endpoint + strlen(S_TCP);
    if ((colon = strrchr(rest, ':')) == NULL)
        return false;
    return s_host_valid(rest, (size_t)(colon - rest)) &&
           s_port_valid(colon + 1);
}

/* ---- new and destroy ----------------------------------------------------- */

static struct cs_srvdir *
s_new(const char *path)
{
    struct cs_srvdir *d = cs_xcalloc(1, sizeof *d);

    d->path = cs_xstrdup(path);
    d->replica_path = cs_xasprintf("%s/%s", path, CS_SRVDIR_REPLICA);
    d->key_path = cs_xasprintf("%s/%s", path, CS_SRVDIR_KEY);
    return d;
}

void
cs_srvdir_destroy(struct cs_srvdir **dp)
{
    struct cs_srvdir *d;

    if (dp == NULL || *dp == NULL)
        return;
    d = *dp;
    cs_store_destroy(&d->store);
    cs_config_destroy(&d->config);
    free(d->replica_path);
    free(d->key_path);
    free(d->path);
    free(d);
    *dp = NULL;
}

/* ---- init ---------------------------------------------------------------- */

/* Reads the passphrase of the new key, if init was asked to seal it.
     path     the directory, for the prompt
     pass_fd  CS_SRVDIR_PASS_NONE, CS_SRVDIR_PASS_TTY or a descriptor
     pass     receives the passphrase (cs_passphrase_free()), NULL if none
     len      receives its length
   Prints the error line on failure. */
static int
s_init_pass(const char *path, int pass_fd, char **pass, size_t *len)
{
    char *prompt;
    int r;

    *pass = NULL;
    *len = 0;
    if (pass_fd == CS_SRVDIR_PASS_NONE)
        return 0;
    if (pass_fd >= 0) {
        r = cs_passphrase_read_fd(pass_fd, pass, len);
    } else {
        prompt =
            cs_xasprintf("New passphrase for %s/%s: ", path, CS_SRVDIR_KEY);
        r = cs_passphrase_read_tty(prompt, true, pass, len);
        free(prompt);
    }
    switch (r) {
    case 0:
        break;
    case CS_ERR_NOT_FOUND:
        cs_srvout_error("--passphrase needs a terminal to ask on; give the "
                        "passphrase with --passphrase-fd N");
        break;
    case CS_ERR_INVALID:
        cs_srvout_error("empty passphrase refused");
        break;
    case CS_ERR_BAD_VALUE:
        cs_srvout_error("the two passphrases differ");
        break;
    case CS_ERR_TOO_BIG:
        cs_srvout_error("passphrase refused: longer than %d bytes",
                        CS_PASSPHRASE_MAX);
        break;
    case CS_ERR_IO:
        if (pass_fd >= 0)
            cs_srvout_error("cannot read the passphrase from file "
                            "descriptor %d: %s",
                            pass_fd, strerror(errno));
        else
            cs_srvout_error("cannot read the passphrase from the terminal: "
                            "%s",
                            strerror(errno));
        break;
    default:
        cs_srvout_error("cannot read the passphrase: %s", cs_strerror(r));
        break;
    }
    return r;
}

/* Makes the key and writes it.
     d         the directory being made
     pass      the passphrase that seals the key, or NULL for a plain key
     pass_len  its length
     key       receives the new key, owned by the caller
     nd        notes the key file once it is written */
static int
s_key_write(struct cs_srvdir *d, const char *pass, size_t pass_len,
            struct cs_key **key, struct cs_newdir *nd)
{
    int r;

    if ((r = cs_key_generate(key)) != 0) {
        cs_srvout_error("cannot make a key: %s", cs_strerror(r));
        return r;
    }
    if (pass != NULL)
        r = cs_key_save_protected(*key, d->key_path, pass, pass_len, NULL);
    else
        r = cs_key_save(*key, d->key_path);
    if (r == 0) /* a failed save leaves nothing behind */
        cs_newdir_note(nd, CS_SRVDIR_KEY);
    if (r != 0)
        cs_srvout_error("cannot write %s: %s", d->key_path, cs_strerror(r));
    return r;
}

/* Makes the consolidated replica and the registry in it. */
/* The registry's audit hook: a leaf for every enrolment and revocation,
   in the registry's own transaction. */
static int
s_audit_leaf(void *arg, const struct cs_registry_node *n, bool revoke,
             uint64_t now_ms)
{
    struct cs_srvdir *d = arg;
    const char *role = cs_registry_role_name(n->role);
    struct cs_leaf l;

    memset(&l, 0, sizeof l);
    l.kind = revoke ? CS_LEAF_REVOKE : CS_LEAF_ENROLL;
    l.at_ms = now_ms;
    l.name.p = (const uint8_t *)n->name;
    l.name.len = strlen(n->name);
    l.role.p = (const uint8_t *)role;
    l.role.len = strlen(role);
    l.office.p = (const uint8_t *)n->office;
    l.office.len = strlen(n->office);
    l.pubkey = n->key;
    cs_node_id_from_pubkey(&n->key, &l.node);
    return cs_audit_append(d->store, &l, NULL);
}

/* Installs the audit log's tables (if missing) and the registry's hook. */
static int
s_audit_hook(struct cs_srvdir *d)
{
    int r = cs_audit_install(d->store);

    if (r != 0)
        return r;
    d->registry.audit = s_audit_leaf;
    d->registry.audit_arg = d;
    return 0;
}

static int
s_replica_make(struct cs_srvdir *d, struct cs_newdir *nd)
{
    int r =
        cs_store_create(d->replica_path, &d->node, CS_SRVDIR_OFFICE, &d->store);

    if (r != 0) {
        cs_srvout_error("cannot create %s: %s", d->replica_path,
                        cs_strerror(r));
        return r;
    }
    cs_newdir_note(nd, CS_SRVDIR_REPLICA);
    cs_newdir_note(nd, CS_SRVDIR_REPLICA "-wal");
    cs_newdir_note(nd, CS_SRVDIR_REPLICA "-shm");
    cs_newdir_note(nd, CS_SRVDIR_REPLICA "-journal");
    cs_registry_init(&d->registry, cs_store_db(d->store), &d->node);
    if ((r = cs_registry_install(&d->registry)) != 0) {
        cs_srvout_error("cannot create the registry in %s: %s", d->replica_path,
                        cs_registry_errmsg(&d->registry));
        return r;
    }
    return s_audit_hook(d);
}

/* Fills and writes DIR/config.
     d         the directory being made: node id and deployment set
     name      the server's display name
     listen    its endpoint
     identity  its identity text
     nd        notes the config once it is written */
static int
s_config_write(struct cs_srvdir *d, const char *name, const char *listen,
               const char *identity, struct cs_newdir *nd)
{
    char node[CS_NODE_ID_HEX_LEN + 1];
    char deployment[CS_SRVDIR_DEPLOYMENT_HEX_LEN + 1];
    char created[CS_HLC_TEXT_MAX];
    char *path = NULL;
    int r;

    cs_node_id_hex(&d->node, node);
    sodium_bin2hex(deployment, sizeof deployment, d->deployment,
                   sizeof d->deployment);
    if ((r = cs_hlc_format(cs_hlc_make(cs_hlc_wall_ms(), 0), created,
                           sizeof created)) != 0) {
        cs_srvout_error("cannot read the clock");
        return r;
    }
    d->config = cs_config_new();
    if ((r = cs_config_set(d->config, "format", CS_SRVDIR_FORMAT)) != 0 ||
        (r = cs_config_set(d->config, "name", name)) != 0 ||
        (r = cs_config_set(d->config, "listen", listen)) != 0 ||
        (r = cs_config_set(d->config, "deployment", deployment)) != 0 ||
        (r = cs_config_set(d->config, "node_id", node)) != 0 ||
        (r = cs_config_set(d->config, "identity", identity)) != 0 ||
        (r = cs_config_set(d->config, "created", created)) != 0) {
        cs_srvout_error("cannot put the name and endpoint in a config file: "
                        "%s",
                        cs_strerror(r));
        return r;
    }
    path = cs_xasprintf("%s/%s", d->path, CS_SRVDIR_CONFIG);
    r = cs_config_save(d->config, path, S_CONFIG_HEADER);
    if (r == 0) /* a failed save leaves nothing behind */
        cs_newdir_note(nd, CS_SRVDIR_CONFIG);
    if (r != 0)
        cs_srvout_error("cannot write %s: %s", path, cs_strerror(r));
    free(path);
    return r;
}

int
cs_srvdir_init(const char *path, const char *name, const char *listen,
               int pass_fd, struct cs_srvdir **out)
{
    struct cs_newdir nd;
    char identity[CS_IDENTITY_TEXT_LEN + 1];
    char err[S_ERR_MAX];
    struct cs_srvdir *d = NULL;
    struct cs_key *key = NULL;
    char *pass = NULL;
    size_t pass_len = 0;
    int r;

    *out = NULL;
    cs_newdir_init(&nd, path);
    if (!cs_srvdir_name_valid(name)) {
        cs_srvout_error("bad server name: 1-%d bytes of text, no control "
                        "characters, no leading or trailing blanks",
                        CS_SRVDIR_NAME_MAX);
        return CS_ERR_USAGE;
    }
    if (!cs_srvdir_endpoint_valid(listen)) {
        char *q = cs_srvout_quote(listen);
        cs_srvout_error("bad --listen endpoint %s: expected tcp://HOST:PORT "
                        "(e.g. %s) or ipc://PATH",
                        q, CS_SRVDIR_LISTEN_DEFAULT);
        free(q);
        return CS_ERR_USAGE;
    }
    if ((r = cs_newdir_check(&nd, err, sizeof err)) != 0) {
        cs_srvout_error("%s", err);
        goto out;
    }
    if ((r = s_init_pass(path, pass_fd, &pass, &pass_len)) != 0)
        goto out;
    if ((r = cs_crypto_init()) != 0) {
        cs_srvout_error("cannot start libsodium: %s", cs_strerror(r));
        goto out;
    }
    d = s_new(path);
    randombytes_buf(d->deployment, sizeof d->deployment);
    if ((r = cs_newdir_make(&nd, err, sizeof err)) != 0) {
        cs_srvout_error("%s", err);
        goto out;
    }
    if ((r = s_key_write(d, pass, pass_len, &key, &nd)) != 0)
        goto out;
    cs_key_node_id(key, &d->node);
    d->pubkey = *cs_key_public(key);
    if ((r = cs_identity_format(&d->pubkey, identity, sizeof identity)) != 0) {
        cs_srvout_error("cannot format the identity: %s", cs_strerror(r));
        goto out;
    }
    if ((r = s_replica_make(d, &nd)) != 0 ||
        (r = s_config_write(d, name, listen, identity, &nd)) != 0)
        goto out;
    *out = d;
    d = NULL;
out:
    cs_passphrase_free(pass, pass_len);
    cs_key_destroy(&key);
    cs_srvdir_destroy(&d); /* closes the replica before undo removes it */
    if (r != 0)
        cs_newdir_undo(&nd);
    return r;
}

/* ---- open ---------------------------------------------------------------- */

/* Parses exactly 2 * CS_DEPLOYMENT_BYTES lowercase hex digits. */
static bool
s_deployment_parse(const char *hex, uint8_t out[CS_DEPLOYMENT_BYTES])
{
    size_t bin_len = 0;

    if (strlen(hex) != CS_SRVDIR_DEPLOYMENT_HEX_LEN)
        return false;
    for (size_t i = 0; i < CS_SRVDIR_DEPLOYMENT_HEX_LEN; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') ||
              (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    return sodium_hex2bin(out, CS_DEPLOYMENT_BYTES, hex,
                          CS_SRVDIR_DEPLOYMENT_HEX_LEN, NULL, &bin_len,
                          NULL) == 0 &&
           bin_len == CS_DEPLOYMENT_BYTES;
}

/* Checks the facts of the config that every command relies on. */
static int
s_config_check(struct cs_srvdir *d, const char *path)
{
    const char *format = cs_config_get(d->config, "format");
    const char *deployment = cs_config_get(d->config, "deployment");
    const char *listen = cs_config_get(d->config, "listen");
    const char *node = cs_config_get(d->config, "node_id");
    const char *identity = cs_config_get(d->config, "identity");
    struct cs_node_id derived;

    if (deployment == NULL || listen == NULL) {
        cs_srvout_error("%s is not a cigsync-server directory (its config "
                        "has no %s: an office's node directory?)",
                        d->path, deployment == NULL ? "deployment" : "listen");
        return CS_ERR_FORMAT;
    }
    if (format == NULL || strcmp(format, CS_SRVDIR_FORMAT) != 0) {
        cs_srvout_error("%s: format \"%s\" is not one this program reads "
                        "(format = %s)",
                        path, format ? format : "", CS_SRVDIR_FORMAT);
        return CS_ERR_FORMAT;
    }
    if (!s_deployment_parse(deployment, d->deployment)) {
        cs_srvout_error("%s: deployment is not 32 hex digits", path);
        return CS_ERR_FORMAT;
    }
    if (!cs_srvdir_endpoint_valid(listen)) {
        cs_srvout_error("%s: listen is not tcp://HOST:PORT or ipc://PATH",
                        path);
        return CS_ERR_FORMAT;
    }
    if (node == NULL || cs_node_id_parse(node, &d->node) != 0) {
        cs_srvout_error("%s: node_id is missing or not 32 hex digits", path);
        return CS_ERR_FORMAT;
    }
    if (identity == NULL || cs_identity_parse(identity, &d->pubkey) != 0) {
        cs_srvout_error("%s: identity is missing or not an identity", path);
        return CS_ERR_FORMAT;
    }
    cs_node_id_from_pubkey(&d->pubkey, &derived);
    if (memcmp(derived.b, d->node.b, CS_NODE_ID_BYTES) != 0) {
        cs_srvout_error("%s: node_id is not the node id of identity", path);
        return CS_ERR_FORMAT;
    }
    return 0;
}

static int
s_config_read(struct cs_srvdir *d)
{
    char *path = cs_xasprintf("%s/%s", d->path, CS_SRVDIR_CONFIG);
    struct stat st;
    size_t line = 0;
    int r;

    if (stat(d->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cs_srvout_error("no server directory %s", d->path);
        r = CS_ERR_NOT_FOUND;
        goto out;
    }
    r = cs_config_load(path, &d->config, &line);
    if (r == CS_ERR_NOT_FOUND)
        cs_srvout_error("%s is not a cigsync-server directory (no config)",
                        d->path);
    else if (r != 0 && line > 0)
        cs_srvout_error("%s:%zu: %s", path, line, cs_strerror(r));
    else if (r != 0)
        cs_srvout_error("cannot read %s: %s", path, cs_strerror(r));
    else
        r = s_config_check(d, path);
out:
    free(path);
    return r;
}

static int
s_replica_open(struct cs_srvdir *d)
{
    int r = cs_store_open(d->replica_path, &d->store);

    switch (r) {
    case 0:
        break;
    case CS_ERR_NOT_FOUND:
        cs_srvout_error("%s has no replica (%s is missing)", d->path,
                        d->replica_path);
        return r;
    case CS_ERR_LOCKED:
        cs_srvout_error("the replica is locked by another program; close it "
                        "and try again");
        return r;
    case CS_ERR_SCHEMA:
        cs_srvout_error("%s is not a cigsync replica, or one of another "
                        "version",
                        d->replica_path);
        return r;
    default:
        cs_srvout_error("cannot open %s: %s", d->replica_path, cs_strerror(r));
        return r;
    }
    if (memcmp(cs_store_self(d->store)->b, d->node.b, CS_NODE_ID_BYTES) != 0 ||
        strcmp(cs_store_office(d->store), CS_SRVDIR_OFFICE) != 0) {
        cs_srvout_error("%s is not this server's replica (%s/%s names "
                        "another node)",
                        d->replica_path, d->path, CS_SRVDIR_CONFIG);
        return CS_ERR_SCHEMA;
    }
    cs_registry_init(&d->registry, cs_store_db(d->store), &d->node);
    if ((r = cs_registry_check(&d->registry)) == 0)
        r = s_audit_hook(d);
    if (r != 0) {
        if (r == CS_ERR_LOCKED)
            cs_srvout_error("the replica is locked by another program; "
                            "close it and try again");
        else
            cs_srvout_error("%s: %s", d->replica_path,
                            cs_registry_errmsg(&d->registry));
        return r;
    }
    return 0;
}

int
cs_srvdir_open(const char *path, struct cs_srvdir **out)
{
    struct cs_srvdir *d = s_new(path);
    int r;

    *out = NULL;
    if ((r = s_config_read(d)) != 0 || (r = s_replica_open(d)) != 0)
        goto out;
    *out = d;
    d = NULL;
out:
    cs_srvdir_destroy(&d);
    return r;
}

/* ---- accessors ----------------------------------------------------------- */

struct cs_store *
cs_srvdir_store(struct cs_srvdir *d)
{
    return d->store;
}

struct cs_registry *
cs_srvdir_registry(struct cs_srvdir *d)
{
    return &d->registry;
}

const char *
cs_srvdir_get(const struct cs_srvdir *d, const char *key)
{
    return cs_config_get(d->config, key);
}

const char *
cs_srvdir_path(const struct cs_srvdir *d)
{
    return d->path;
}

const char *
cs_srvdir_replica_path(const struct cs_srvdir *d)
{
    return d->replica_path;
}

const char *
cs_srvdir_key_path(const struct cs_srvdir *d)
{
    return d->key_path;
}

const struct cs_node_id *
cs_srvdir_node(const struct cs_srvdir *d)
{
    return &d->node;
}

const struct cs_pubkey *
cs_srvdir_pubkey(const struct cs_srvdir *d)
{
    return &d->pubkey;
}

const uint8_t *
cs_srvdir_deployment(const struct cs_srvdir *d)
{
    return d->deployment;
}

int
cs_srvdir_key(const struct cs_srvdir *d, int pass_fd, struct cs_key **k)
{
    const char *path = cs_srvdir_key_path(d);
    char *pass = NULL;
    size_t len = 0;
    int r = cs_key_load(path, NULL, 0, k);

    if (r == CS_KEY_ERR_NEED_PASSPHRASE) {
        char prompt[PATH_MAX + 32];
        snprintf(prompt, sizeof prompt, "Passphrase for %s: ", path);
        r = pass_fd >= 0 ? cs_passphrase_read_fd(pass_fd, &pass, &len)
                         : cs_passphrase_read_tty(prompt, false, &pass, &len);
        if (r == CS_ERR_NOT_FOUND) {
            cs_srvout_error("%s is protected by a passphrase: give "
                            "--passphrase-fd N or run from a terminal",
                            path);
            return r;
        }
        if (r == 0)
            r = cs_key_load(path, pass, len, k);
        cs_passphrase_free(pass, len);
    }
    if (r == CS_KEY_ERR_WRONG_PASSPHRASE)
        cs_srvout_error("wrong passphrase for %s", path);
    else if (r != 0)
        cs_srvout_error("cannot load %s: %s", path, cs_strerror(r));
    return r;
}
