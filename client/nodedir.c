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

#include "nodedir.h"
#include "out.h"
#include "text.h"

#define S_TIME_TEXT_MAX 32 /* "2026-11-27T05:38:01Z" and a NUL, with room */
#define S_CONFIG_HEADER                                                        \
    "cigsync node configuration, written by `cigsync init`.\n"                 \
    "The secret key is in node.key; the replica is replica.db."

struct cs_nodedir {
    char *path;               /* the directory, as given */
    char *replica_path;       /* DIR/replica.db */
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

bool
cs_nodedir_office_valid(const char *office)
{
    size_t len = strlen(office);

    if (len < CS_NODEDIR_OFFICE_MIN || len > CS_NODEDIR_OFFICE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = office[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static struct cs_nodedir *
s_new(const char *path)
{
    struct cs_nodedir *d = cs_xcalloc(1, sizeof *d);

    d->path = cs_xstrdup(path);
    d->replica_path = cs_xasprintf("%s/%s", path, CS_NODEDIR_REPLICA);
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
    free(d->path);
    free(d);
    *dp = NULL;
}

/* ---- init -------------------------------------------------------------- */

/* What cs_nodedir_init() has made so far, for undoing it. */
struct s_made {
    bool dir;     /* created the directory */
    bool key;     /* wrote node.key */
    bool replica; /* created replica.db */
    bool config;  /* wrote config */
};

/* Checks that path does not exist, or is an empty directory; sets *exists
   for the latter. */
static int
s_check_empty(const char *path, bool *exists)
{
    struct stat st;
    struct dirent *e;
    DIR *dir;
    int r = 0;

    *exists = false;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        cs_out_error("cannot use %s: %s", path, strerror(errno));
        return CS_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        cs_out_error("%s already exists and is not a directory", path);
        return CS_ERR_EXISTS;
    }
    if ((dir = opendir(path)) == NULL) {
        cs_out_error("cannot read directory %s: %s", path, strerror(errno));
        return CS_ERR_IO;
    }
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        cs_out_error("%s already exists and is not empty", path);
        r = CS_ERR_EXISTS;
        break;
    }
    closedir(dir);
    *exists = true;
    return r;
}

/* Removes path if we made it; quiet, it runs after the error was told. */
static void
s_unlink_made(bool made, const char *dir, const char *name)
{
    char *path;

    if (!made)
        return;
    path = cs_xasprintf("%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT)
        cs_log_warn("could not remove %s: %s", path, strerror(errno));
    free(path);
}

static void
s_undo(const char *path, const struct s_made *made)
{
    s_unlink_made(made->config, path, CS_NODEDIR_CONFIG);
    s_unlink_made(made->replica, path, CS_NODEDIR_REPLICA);
    s_unlink_made(made->replica, path, CS_NODEDIR_REPLICA "-wal");
    s_unlink_made(made->replica, path, CS_NODEDIR_REPLICA "-shm");
    s_unlink_made(made->replica, path, CS_NODEDIR_REPLICA "-journal");
    s_unlink_made(made->key, path, CS_NODEDIR_KEY);
    if (made->dir && rmdir(path) != 0)
        cs_log_warn("could not remove %s: %s", path, strerror(errno));
}

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
               const char *identity, struct s_made *made)
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
    made->config = r == 0; /* a failed save leaves nothing behind */
    if (r != 0)
        cs_out_error("cannot write %s: %s", path, cs_strerror(r));
    free(path);
    return r;
}

int
cs_nodedir_init(const char *path, const char *name, const char *office,
                struct cs_nodedir **out)
{
    struct cs_nodedir *d = NULL;
    struct cs_key *key = NULL;
    struct s_made made = {false, false, false, false};
    char identity[CS_IDENTITY_TEXT_LEN + 1];
    char *key_path = NULL;
    bool exists;
    int r;

    *out = NULL;
    if (!cs_nodedir_name_valid(name)) {
        cs_out_error("bad node name \"%s\": use 1 to %d bytes of text, no "
                     "control characters, no leading or trailing space",
                     name, CS_NODEDIR_NAME_MAX);
        return CS_ERR_USAGE;
    }
    if (!cs_nodedir_office_valid(office)) {
        cs_out_error("bad office code \"%s\": use %d to %d of A-Z 0-9, "
                     "e.g. ISF",
                     office, CS_NODEDIR_OFFICE_MIN, CS_NODEDIR_OFFICE_MAX);
        return CS_ERR_USAGE;
    }
    if ((r = s_check_empty(path, &exists)) != 0)
        return r;
    if ((r = cs_crypto_init()) != 0 || (r = cs_key_generate(&key)) != 0) {
        cs_out_error("cannot make a key: %s", cs_strerror(r));
        return r;
    }
    d = s_new(path);
    cs_key_node_id(key, &d->node);
    if ((r = cs_identity_format(cs_key_public(key), identity,
                                sizeof identity)) != 0) {
        cs_out_error("cannot format the identity: %s", cs_strerror(r));
        goto out;
    }
    if (!exists) {
        if (mkdir(path, CS_NODEDIR_DIR_MODE) != 0) {
            cs_out_error("cannot create %s: %s", path, strerror(errno));
            r = CS_ERR_IO;
            goto out;
        }
        made.dir = true;
    }
    key_path = cs_xasprintf("%s/%s", path, CS_NODEDIR_KEY);
    if ((r = cs_key_save(key, key_path)) != 0) {
        made.key = r != CS_ERR_EXISTS;
        cs_out_error("cannot write %s: %s", key_path, cs_strerror(r));
        goto out;
    }
    made.key = true;
    if ((r = cs_store_create(d->replica_path, &d->node, office, &d->store)) !=
        0) {
        /* cs_store_create removes its own partial files */
        cs_out_error("cannot create %s: %s", d->replica_path, cs_strerror(r));
        goto out;
    }
    made.replica = true;
    if ((r = cs_store_origin_name(d->store, &d->node, name)) != 0) {
        cs_out_store_error(d->store, r, "recording the node name");
        goto out;
    }
    if ((r = s_config_write(d, name, office, identity, &made)) != 0)
        goto out;
    if (exists && chmod(path, CS_NODEDIR_DIR_MODE) != 0) {
        cs_out_error("cannot set the permissions of %s: %s", path,
                     strerror(errno));
        r = CS_ERR_IO;
        goto out;
    }
    *out = d;
    d = NULL;
out:
    if (d != NULL) {
        cs_store_destroy(&d->store);
        s_undo(path, &made);
        cs_nodedir_destroy(&d);
    }
    cs_key_destroy(&key);
    free(key_path);
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

const struct cs_node_id *
cs_nodedir_node(const struct cs_nodedir *d)
{
    return &d->node;
}
