/*  client/nodedir.c - node directories; see nodedir.h.
 *
 *  Design note: init undoes itself.  Each step of cs_nodedir_init() records
 *  what it made (the directory, the key file, the replica and its -wal and
 *  -shm companions, the config); the one `out:` path removes exactly those
 *  on failure.  Nothing is removed that existed before, so running init on
 *  an existing node by mistake cannot hurt it: the emptiness check refuses
 *  first.
 */
#include "prelude.h"

#include "newdir.h"
#include "nodedir.h"
#include "out.h"
#include "passphrase.h"
#include "text.h"

#define S_ERR_MAX 512 /* a message from cs_newdir_*() */

#define S_TIME_TEXT_MAX 32 /* "2026-11-27T05:38:01Z" and a NUL, with room */
#define S_CONFIG_HEADER                                                        \
    "cigsync node configuration, written by `cigsync init`.\n"                 \
    "The secret key is in node.key; the replica is replica.db."

struct cs_nodedir {
    char *path;               /* the directory, as given */
    char *replica_path;       /* DIR/replica.db */
    char *key_path;           /* DIR/node.key */
    struct cs_config *config; /* DIR/config */
    struct cs_store *store;   /* the open replica */
    struct cs_node_id node;   /* config node_id */
};

bool
cs_nodedir_name_valid(const char *name)
{
    size_t len = strlen(name), i = 0;

    if (len == 0 || len > CS_NODEDIR_NAME_MAX)
        return false;
    if (name[0] == ' ' || name[len - 1] == ' ')
        return false;
    while (i < len) {
        uint32_t cp;
        size_t n = cs_text_next(name, len, i, &cp);
        if (n == 0 || cs_text_unsafe(cp))
            return false;
        i += n;
    }
    return true;
}

static struct cs_nodedir *
s_new(const char *path)
{
    struct cs_nodedir *d = cs_xcalloc(1, sizeof *d);

    d->path = cs_xstrdup(path);
    d->replica_path = cs_xasprintf("%s/%s", path, CS_NODEDIR_REPLICA);
    d->key_path = cs_xasprintf("%s/%s", path, CS_NODEDIR_KEY);
    return d;
}

void
cs_nodedir_destroy(struct cs_nodedir **dp)
{
    struct cs_nodedir *d;

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

/* ---- passphrases ------------------------------------------------------- */

/* Gets a passphrase: from fd when it is >= 0, else on the terminal.
     fd       the descriptor, or negative
     prompt   shown on the terminal
     confirm  ask twice on the terminal (a new passphrase)
     no_tty   the error line when there is no terminal to ask on
     pass     receives the passphrase (cs_passphrase_free())
     len      receives its length
   Prints the error line on failure. */
static int
s_pass_get(int fd, const char *prompt, bool confirm, const char *no_tty,
           char **pass, size_t *len)
{
    int r;

    if (fd >= 0)
        r = cs_passphrase_read_fd(fd, pass, len);
    else
        r = cs_passphrase_read_tty(prompt, confirm, pass, len);
    switch (r) {
    case 0:
        break;
    case CS_ERR_NOT_FOUND:
        cs_out_error("%s", no_tty);
        break;
    case CS_ERR_INVALID:
        cs_out_error("empty passphrase refused");
        break;
    case CS_ERR_BAD_VALUE:
        cs_out_error("the two passphrases differ");
        break;
    case CS_ERR_TOO_BIG:
        cs_out_error("passphrase refused: longer than %d bytes",
                     CS_PASSPHRASE_MAX);
        break;
    case CS_ERR_IO:
        if (fd >= 0)
            cs_out_error("cannot read the passphrase from file descriptor "
                         "%d: %s",
                         fd, strerror(errno));
        else
            cs_out_error("cannot read the passphrase from the terminal: %s",
                         strerror(errno));
        break;
    default:
        cs_out_error("cannot read the passphrase: %s", cs_strerror(r));
        break;
    }
    return r;
}

/* ---- init -------------------------------------------------------------- */

/* Writes the current UTC time as "2026-11-27T05:38:01Z". */
static int
s_now_utc(char buf[S_TIME_TEXT_MAX])
{
    time_t now = time(NULL);
    struct tm tm;

    if (now == (time_t)-1 || gmtime_r(&now, &tm) == NULL ||
        strftime(buf, S_TIME_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        cs_out_error("cannot read the clock");
        return CS_ERR_IO;
    }
    return 0;
}

/* Fills and writes DIR/config. */
static int
s_config_write(struct cs_nodedir *d, const char *name, const char *office,
               const char *identity, struct cs_newdir *nd)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    char created[S_TIME_TEXT_MAX];
    char *path = NULL;
    int r;

    cs_node_id_hex(&d->node, hex);
    if ((r = s_now_utc(created)) != 0)
        return r;
    d->config = cs_config_new();
    if ((r = cs_config_set(d->config, "format", CS_NODEDIR_FORMAT)) != 0 ||
        (r = cs_config_set(d->config, "name", name)) != 0 ||
        (r = cs_config_set(d->config, "office", office)) != 0 ||
        (r = cs_config_set(d->config, "node_id", hex)) != 0 ||
        (r = cs_config_set(d->config, "identity", identity)) != 0 ||
        (r = cs_config_set(d->config, "created", created)) != 0) {
        cs_out_error("cannot put the name %s in a config file: %s", name,
                     cs_strerror(r));
        return r;
    }
    path = cs_xasprintf("%s/%s", d->path, CS_NODEDIR_CONFIG);
    r = cs_config_save(d->config, path, S_CONFIG_HEADER);
    if (r == 0) /* a failed save leaves nothing behind */
        cs_newdir_note(nd, CS_NODEDIR_CONFIG);
    if (r != 0)
        cs_out_error("cannot write %s: %s", path, cs_strerror(r));
    free(path);
    return r;
}

/* Asks for the passphrase of a new key, if init was asked to seal it. */
static int
s_init_pass(const char *path, int pass_fd, char **pass, size_t *len)
{
    char *prompt;
    int r;

    *pass = NULL;
    *len = 0;
    if (pass_fd == CS_NODEDIR_PASS_NONE)
        return 0;
    prompt = cs_xasprintf("New passphrase for %s/%s: ", path, CS_NODEDIR_KEY);
    r = s_pass_get(pass_fd, prompt, true,
                   "--passphrase needs a terminal to ask on; give the "
                   "passphrase with --passphrase-fd N",
                   pass, len);
    free(prompt);
    return r;
}

int
cs_nodedir_init(const char *path, const char *name, const char *office,
                int pass_fd, struct cs_nodedir **out)
{
    struct cs_nodedir *d = NULL;
    struct cs_key *key = NULL;
    char *pass = NULL;
    size_t pass_len = 0;
    struct cs_newdir nd;
    char identity[CS_IDENTITY_TEXT_LEN + 1];
    char err[S_ERR_MAX];
    int r;

    *out = NULL;
    if (!cs_nodedir_name_valid(name)) {
        cs_out_error("bad node name \"%s\": use 1 to %d bytes of text, no "
                     "control characters, no leading or trailing space",
                     name, CS_NODEDIR_NAME_MAX);
        return CS_ERR_USAGE;
    }
    if (!cs_store_office_valid(office)) {
        cs_out_error("bad office code \"%s\": use %d to %d of A-Z 0-9, "
                     "e.g. ISF",
                     office, CS_NODEDIR_OFFICE_MIN, CS_NODEDIR_OFFICE_MAX);
        return CS_ERR_USAGE;
    }
    cs_newdir_init(&nd, path);
    if ((r = cs_newdir_check(&nd, err, sizeof err)) != 0) {
        cs_out_error("%s", err);
        return r;
    }
    if ((r = s_init_pass(path, pass_fd, &pass, &pass_len)) != 0)
        return r;
    if ((r = cs_crypto_init()) != 0 || (r = cs_key_generate(&key)) != 0) {
        cs_out_error("cannot make a key: %s", cs_strerror(r));
        goto out;
    }
    d = s_new(path);
    cs_key_node_id(key, &d->node);
    if ((r = cs_identity_format(cs_key_public(key), identity,
                                sizeof identity)) != 0) {
        cs_out_error("cannot format the identity: %s", cs_strerror(r));
        goto out;
    }
    if ((r = cs_newdir_make(&nd, err, sizeof err)) != 0) {
        cs_out_error("%s", err);
        goto out;
    }
    /* Sealing runs Argon2id with the default cost (key.h). */
    if (pass != NULL)
        r = cs_key_save_protected(key, d->key_path, pass, pass_len, NULL);
    else
        r = cs_key_save(key, d->key_path);
    cs_passphrase_free(pass, pass_len); /* done with it: wipe it now */
    pass = NULL;
    if (r != CS_ERR_EXISTS)
        cs_newdir_note(&nd, CS_NODEDIR_KEY);
    if (r != 0) {
        cs_out_error("cannot write %s: %s", d->key_path, cs_strerror(r));
        goto out;
    }
    if ((r = cs_store_create(d->replica_path, &d->node, office, &d->store)) !=
        0) {
        /* cs_store_create removes its own partial files */
        cs_out_error("cannot create %s: %s", d->replica_path, cs_strerror(r));
        goto out;
    }
    cs_newdir_note(&nd, CS_NODEDIR_REPLICA);
    cs_newdir_note(&nd, CS_NODEDIR_REPLICA "-wal");
    cs_newdir_note(&nd, CS_NODEDIR_REPLICA "-shm");
    cs_newdir_note(&nd, CS_NODEDIR_REPLICA "-journal");
    if ((r = cs_store_origin_name(d->store, &d->node, name)) != 0) {
        cs_out_store_error(d->store, r, "recording the node name");
        goto out;
    }
    if ((r = s_config_write(d, name, office, identity, &nd)) != 0)
        goto out;
    *out = d;
    d = NULL;
out:
    if (d != NULL) {
        cs_store_destroy(&d->store);
        cs_newdir_undo(&nd);
        cs_nodedir_destroy(&d);
    }
    cs_key_destroy(&key);
    cs_passphrase_free(pass, pass_len);
    return r;
}

/* ---- open -------------------------------------------------------------- */

static int
s_config_read(struct cs_nodedir *d)
{
    char *path = cs_xasprintf("%s/%s", d->path, CS_NODEDIR_CONFIG);
    const char *format, *node;
    size_t line = 0;
    struct stat st;
    int r;

    if (stat(d->path, &st) != 0) {
        cs_out_error("%s: %s", d->path, strerror(errno));
        r = CS_ERR_NOT_FOUND;
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        cs_out_error("%s is not a cigsync node directory (not a directory)",
                     d->path);
        r = CS_ERR_NOT_FOUND;
        goto out;
    }
    r = cs_config_load(path, &d->config, &line);
    if (r == CS_ERR_NOT_FOUND) {
        cs_out_error("%s is not a cigsync node directory (no config)", d->path);
        goto out;
    }
    if (r != 0 && line > 0) {
        cs_out_error("%s:%zu: %s", path, line, cs_strerror(r));
        goto out;
    }
    if (r != 0) {
        cs_out_error("cannot read %s: %s", path, cs_strerror(r));
        goto out;
    }
    format = cs_config_get(d->config, "format");
    if (format == NULL || strcmp(format, CS_NODEDIR_FORMAT) != 0) {
        cs_out_error("%s: format \"%s\" is not one this program reads "
                     "(format = %s)",
                     path, format ? format : "", CS_NODEDIR_FORMAT);
        r = CS_ERR_FORMAT;
        goto out;
    }
    node = cs_config_get(d->config, "node_id");
    if (node == NULL || cs_node_id_parse(node, &d->node) != 0) {
        cs_out_error("%s: node_id is missing or not 32 hex digits", path);
        r = CS_ERR_FORMAT;
        goto out;
    }
out:
    free(path);
    return r;
}

static int
s_replica_open(struct cs_nodedir *d)
{
    char want[CS_NODE_ID_HEX_LEN + 1], have[CS_NODE_ID_HEX_LEN + 1];
    int r = cs_store_open(d->replica_path, &d->store);

    switch (r) {
    case 0:
        break;
    case CS_ERR_NOT_FOUND:
        cs_out_error("%s has no replica (%s is missing)", d->path,
                     d->replica_path);
        return r;
    case CS_ERR_LOCKED:
        cs_out_error("%s", CS_OUT_LOCKED_MSG);
        return r;
    case CS_ERR_SCHEMA:
        cs_out_error("%s is not a cigsync replica, or one of another "
                     "version",
                     d->replica_path);
        return r;
    default:
        cs_out_error("cannot open %s: %s", d->replica_path, cs_strerror(r));
        return r;
    }
    if (memcmp(cs_store_self(d->store)->b, d->node.b, CS_NODE_ID_BYTES) != 0) {
        cs_node_id_hex(&d->node, want);
        cs_node_id_hex(cs_store_self(d->store), have);
        cs_out_error("%s belongs to node %s, but %s/%s says node %s",
                     d->replica_path, have, d->path, CS_NODEDIR_CONFIG, want);
        return CS_ERR_SCHEMA;
    }
    return 0;
}

int
cs_nodedir_open(const char *path, struct cs_nodedir **out)
{
    struct cs_nodedir *d = s_new(path);
    int r;

    *out = NULL;
    if ((r = s_config_read(d)) != 0 || (r = s_replica_open(d)) != 0)
        goto out;
    *out = d;
    d = NULL;
out:
    cs_nodedir_destroy(&d);
    return r;
}

struct cs_store *
cs_nodedir_store(struct cs_nodedir *d)
{
    return d->store;
}

const char *
cs_nodedir_get(const struct cs_nodedir *d, const char *key)
{
    return cs_config_get(d->config, key);
}

const char *
cs_nodedir_path(const struct cs_nodedir *d)
{
    return d->path;
}

const char *
cs_nodedir_replica_path(const struct cs_nodedir *d)
{
    return d->replica_path;
}

const char *
cs_nodedir_key_path(const struct cs_nodedir *d)
{
    return d->key_path;
}

const struct cs_node_id *
cs_nodedir_node(const struct cs_nodedir *d)
{
    return &d->node;
}

/* ---- the secret key ---------------------------------------------------- */

/* Prints the error line for a key file that cannot be loaded. */
static int
s_key_error(const struct cs_nodedir *d, int r)
{
    switch (r) {
    case CS_ERR_NOT_FOUND:
        cs_out_error("%s is missing: this node cannot sign without it; "
                     "restore it from a backup",
                     d->key_path);
        break;
    case CS_KEY_ERR_WRONG_PASSPHRASE:
        cs_out_error("wrong passphrase for %s", d->key_path);
        break;
    case CS_ERR_PERM:
        cs_out_error("cannot use %s: %s (it must be yours, mode 0600)",
                     d->key_path, cs_strerror(r));
        break;
    case CS_ERR_KEY:
        cs_out_error("%s is damaged or not a cigsync key file", d->key_path);
        break;
    default:
        cs_out_error("cannot read %s: %s", d->key_path, cs_strerror(r));
        break;
    }
    return r;
}

/* Loads the protected key of d with a passphrase from pass_fd, or asked
   on the terminal (again after a wrong one, CS_NODEDIR_PASS_TRIES in
   all). */
static int
s_key_unlock(const struct cs_nodedir *d, int pass_fd, struct cs_key **out)
{
    int tries = pass_fd >= 0 ? 1 : CS_NODEDIR_PASS_TRIES;
    char *no_tty, *prompt, *pass = NULL;
    size_t len = 0;
    int r = 0;

    no_tty = cs_xasprintf("%s is protected by a passphrase: give "
                          "--passphrase-fd N or run from a terminal",
                          d->key_path);
    for (int i = 0; i < tries; i++) {
        if (i == 0)
            prompt = cs_xasprintf("Passphrase for %s: ", d->key_path);
        else
            prompt = cs_xasprintf("Wrong passphrase; try again for %s: ",
                                  d->key_path);
        r = s_pass_get(pass_fd, prompt, false, no_tty, &pass, &len);
        free(prompt);
        if (r != 0)
            goto out; /* printed */
        r = cs_key_load(d->key_path, pass, len, out);
        cs_passphrase_free(pass, len);
        pass = NULL;
        if (r != CS_KEY_ERR_WRONG_PASSPHRASE)
            break;
    }
    if (r != 0)
        s_key_error(d, r);
out:
    free(no_tty);
    return r;
}

/* Checks that k is the key the config of d names. */
static int
s_key_matches(const struct cs_nodedir *d, const struct cs_key *k)
{
    const char *want = cs_config_get(d->config, "identity");
    char have[CS_IDENTITY_TEXT_LEN + 1];
    struct cs_node_id id;
    int r;

    cs_key_node_id(k, &id);
    if ((r = cs_identity_format(cs_key_public(k), have, sizeof have)) != 0) {
        cs_out_error("cannot format the identity: %s", cs_strerror(r));
        return r;
    }
    if (memcmp(id.b, d->node.b, CS_NODE_ID_BYTES) != 0 || want == NULL ||
        strcmp(want, have) != 0) {
        cs_out_error("%s is not this node's key: it is %s, but %s/%s says "
                     "%s",
                     d->key_path, have, d->path, CS_NODEDIR_CONFIG,
                     want != NULL ? want : "no identity");
        return CS_ERR_KEY;
    }
    return 0;
}

int
cs_nodedir_key(const struct cs_nodedir *d, int pass_fd, struct cs_key **out)
{
    struct cs_key *k = NULL;
    int r;

    *out = NULL;
    r = cs_key_load(d->key_path, NULL, 0, &k);
    if (r == CS_KEY_ERR_NEED_PASSPHRASE)
        r = s_key_unlock(d, pass_fd, &k);
    else if (r != 0)
        s_key_error(d, r);
    if (r != 0 || (r = s_key_matches(d, k)) != 0)
        goto out;
    *out = k;
    k = NULL;
out:
    cs_key_destroy(&k);
    return r;
}

int
cs_nodedir_set_server(struct cs_nodedir *d, const char *endpoint,
                      const char *identity)
{
    struct cs_pubkey pk;
    char *path;
    int r;

    if (cs_identity_parse(identity, &pk) != 0) {
        cs_out_error("--server-key needs the server's identity (cs1:..., "
                     "what cigsync-server init printed)");
        return CS_ERR_USAGE;
    }
    if (strncmp(endpoint, "tcp://", 6) != 0 &&
        strncmp(endpoint, "ipc://", 6) != 0) {
        cs_out_error("--server needs tcp://HOST:PORT or ipc://PATH");
        return CS_ERR_USAGE;
    }
    if ((r = cs_config_set(d->config, "server", endpoint)) != 0 ||
        (r = cs_config_set(d->config, "server_key", identity)) != 0) {
        cs_out_error("cannot put the server in a config file: %s",
                     cs_strerror(r));
        return r;
    }
    path = cs_xasprintf("%s/%s", d->path, CS_NODEDIR_CONFIG);
    r = cs_config_save(d->config, path, S_CONFIG_HEADER);
    if (r != 0)
        cs_out_error("cannot write %s: %s", path, cs_strerror(r));
    free(path);
    return r;
}
