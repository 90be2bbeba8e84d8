/*  client/cmd_node.c - the node commands: init, status, conflicts, merge,
 *  key.
 *
 *  `merge` is a local stand-in for sync, for demos and tests until the
 *  server exists: it reads every change in another node directory's
 *  replica and applies them here with cs_store_apply(), exactly as changes
 *  from the network will be applied.  Changes are read in chunks of at
 *  most S_MERGE_CHUNK changes or S_MERGE_CHUNK_BYTES bytes, each applied
 *  in its own transaction: a failure part way leaves whole chunks applied,
 *  which is harmless because applying is idempotent and order-independent
 *  (store.h), and a second merge completes the work.  It does not set
 *  last_sync: nothing was exchanged with the server.
 */
#include "prelude.h"

#include "changes.h"
#include "cmd.h"
#include "json.h"
#include "nodedir.h"
#include "out.h"
#include "proto.h"
#include "sync.h"
#include "text.h"

#define S_MERGE_CHUNK 10000             /* changes applied per transaction */
#define S_MERGE_CHUNK_BYTES (64u << 20) /* ... or this many bytes of them */
#define S_MERGE_ORIGINS_MAX 4096        /* distinct origins named per merge */
#define S_LABEL_WIDTH 12 /* status: labels are padded to this width */

/* ---- init -------------------------------------------------------------- */

/* True for 32 lowercase hex digits. */
static bool
s_deployment_valid(const char *text)
{
    size_t n = 0;

    for (; text[n] != '\0'; n++)
        if (!((text[n] >= '0' && text[n] <= '9') ||
              (text[n] >= 'a' && text[n] <= 'f')))
            return false;
    return n == 2 * CS_DEPLOYMENT_BYTES;
}

/* Works out where init gets the passphrase of the new key: its own
   --passphrase or --passphrase-fd, else a --passphrase-fd given before the
   command; none of them: a plain key.  $CIGSYNC_PASSPHRASE_FD is for
   loading keys and does not make init seal one. */
static int
s_init_pass_fd(const struct cs_cmd_ctx *ctx, bool prompt, const char *fd_arg,
               int *pass_fd)
{
    int given = (prompt ? 1 : 0) + (fd_arg != NULL ? 1 : 0) +
                (ctx->pass_fd >= 0 ? 1 : 0);

    *pass_fd = CS_NODEDIR_PASS_NONE;
    if (given > 1)
        return cs_cmd_bad_args("init", "give one of --passphrase and "
                                       "--passphrase-fd N");
    if (prompt)
        *pass_fd = CS_NODEDIR_PASS_TTY;
    if (ctx->pass_fd >= 0)
        *pass_fd = ctx->pass_fd;
    if (fd_arg != NULL)
        return cs_cmd_fd("--passphrase-fd", fd_arg, pass_fd);
    return 0;
}

int
cs_cmd_init(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    const char *dir = NULL;
    char *name = NULL, *office = NULL, *fd_arg = NULL, *value;
    char *server = NULL, *server_key = NULL, *deployment = NULL;
    char hex[CS_NODE_ID_HEX_LEN + 1];
    bool prompt = false;
    int pass_fd, r;

    /* init makes DIR; -C and CIGSYNC_DIR do not apply */
    for (int i = 0; i < argc; i++) {
        if ((r = cs_cmd_option(argc, argv, &i, "--name", &value)) < 0)
            return r;
        if (r == 1) {
            name = value;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "--office", &value)) < 0)
            return r;
        if (r == 1) {
            office = value;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "--passphrase-fd", &value)) < 0)
            return r;
        if (r == 1) {
            fd_arg = value;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "--server", &value)) < 0)
            return r;
        if (r == 1) {
            server = value;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "--server-key", &value)) < 0)
            return r;
        if (r == 1) {
            server_key = value;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "--deployment", &value)) < 0)
            return r;
        if (r == 1) {
            deployment = value;
            continue;
        }
        if (strcmp(argv[i], "--passphrase") == 0) {
            prompt = true;
            continue;
        }
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("init", argv[i]);
        if (dir != NULL)
            return cs_cmd_bad_args("init", "expected one DIR");
        dir = argv[i];
    }
    if (dir == NULL || name == NULL || office == NULL)
        return cs_cmd_bad_args("init", "expected DIR --name NAME --office "
                                       "CODE");
    if ((server == NULL) != (server_key == NULL))
        return cs_cmd_bad_args("init", "--server and --server-key go "
                                       "together");
    if (deployment != NULL && !s_deployment_valid(deployment))
        return cs_cmd_bad_args("init", "--deployment needs the 32 hex digits "
                                       "that cigsync-server init printed");
    if ((r = s_init_pass_fd(ctx, prompt, fd_arg, &pass_fd)) != 0)
        return r;
    if ((r = cs_nodedir_init(dir, name, office, pass_fd, &d)) != 0)
        return r;
    if ((server != NULL &&
         (r = cs_nodedir_set_server(d, server, server_key)) != 0) ||
        (deployment != NULL &&
         (r = cs_store_meta_set(cs_nodedir_store(d), "deployment",
                                deployment)) != 0)) {
        /* The directory is complete but for this: say how to finish. */
        if (r != CS_ERR_USAGE)
            cs_out_error("%s was made, but recording the server failed; "
                         "edit %s/config",
                         dir, dir);
        cs_nodedir_destroy(&d);
        return r;
    }
    printf("%s\n", cs_nodedir_get(d, "identity"));
    cs_node_id_hex(cs_nodedir_node(d), hex);
    fprintf(stderr,
            "Created node \"%s\" of office %s in %s\n"
            "  node id:  %s\n"
            "  replica:  %s\n"
            "  key:      %s (secret: keep it, back it up, never share "
            "it)\n",
            name, office, dir, hex, cs_nodedir_replica_path(d),
            cs_nodedir_key_path(d));
    if (pass_fd != CS_NODEDIR_PASS_NONE)
        fprintf(stderr, "            sealed with your passphrase: without it "
                        "the key cannot be used\n");
    fprintf(stderr, "The identity printed above is what the server's "
                    "administrator enrols.\n");
    cs_nodedir_destroy(&d);
    return 0;
}

/* ---- status ------------------------------------------------------------ */

/* What status tells of the key file, read without its passphrase. */
struct s_key_state {
    char *text;    /* for people: "protected by a passphrase", ... */
    int protected; /* 1 sealed, 0 plain, -1 missing or unusable */
};

static void
s_key_state_read(const struct cs_nodedir *d, struct s_key_state *ks)
{
    struct cs_key_info info;
    int r = cs_key_info(cs_nodedir_key_path(d), &info);

    ks->protected = -1;
    if (r == CS_ERR_NOT_FOUND) {
        ks->text = cs_xstrdup("missing");
        return;
    }
    if (r != 0) {
        ks->text = cs_xasprintf("unusable: %s", cs_strerror(r));
        return;
    }
    ks->protected = info.kind == CS_KEY_FILE_KIND_PROTECTED;
    ks->text = cs_xstrdup(ks->protected ? "protected by a passphrase"
                                        : "no passphrase");
}

/* What status tells of the sync (zz_meta, kept by client/sync.c). */
struct s_sync_state {
    uint64_t sealed;         /* this node's batches */
    uint64_t acked;          /* of them, acknowledged by the server */
    uint64_t bytes_sent;     /* to the server, all sessions */
    uint64_t bytes_received; /* from the server, all sessions */
};

static int
s_sync_state_read(struct cs_store *s, struct s_sync_state *ss)
{
    uint8_t hash[CS_HASH_BYTES];
    int r;

    memset(ss, 0, sizeof *ss);
    if ((r = cs_store_feed_head(s, &ss->sealed, hash)) != 0 ||
        (r = cs_sync_meta_u64(s, "server_acked", &ss->acked)) != 0 ||
        (r = cs_sync_meta_u64(s, "bytes_sent", &ss->bytes_sent)) != 0 ||
        (r = cs_sync_meta_u64(s, "bytes_received", &ss->bytes_received)) != 0)
        return r;
    if (ss->acked > ss->sealed)
        ss->acked = ss->sealed;
    return 0;
}

static void
s_status_text(const struct cs_nodedir *d, const struct cs_store_status *st,
              const char *last_sync, const struct s_key_state *ks,
              const struct s_sync_state *ss)
{
    const char *server = cs_nodedir_get(d, "server");
    char clock[CS_HLC_TEXT_MAX], hex[CS_NODE_ID_HEX_LEN + 1];
    const char *name = cs_nodedir_get(d, "name");
    const char *identity = cs_nodedir_get(d, "identity");
    const char *office = cs_nodedir_get(d, "office");
    char *key = cs_xasprintf("%s (%s)", cs_nodedir_key_path(d), ks->text);
    const char *labels[] = {"name",      "node id", "office", "identity",
                            "directory", "replica", "key"};
    const char *values[] = {name ? name : "",
                            hex,
                            office ? office : "",
                            identity ? identity : "",
                            cs_nodedir_path(d),
                            cs_nodedir_replica_path(d),
                            key};

    cs_node_id_hex(cs_nodedir_node(d), hex);
    cs_out_hlc(st->clock, clock);
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
        printf("%-*s ", S_LABEL_WIDTH, labels[i]);
        cs_text_escape(stdout, values[i], strlen(values[i]), false);
        putchar('\n');
    }
    free(key);
    printf("%-*s %" PRIu64 " local changes not yet sent\n", S_LABEL_WIDTH,
           "pending", st->pending);
    printf("%-*s %" PRIu64 "\n", S_LABEL_WIDTH, "log entries", st->log_entries);
    printf("%-*s %" PRIu64 "%s\n", S_LABEL_WIDTH, "conflicts", st->conflicts,
           st->conflicts ? " (see cigsync conflicts)" : "");
    printf("%-*s %s\n", S_LABEL_WIDTH, "clock",
           st->clock.t ? clock : "not started");
    printf("%-*s %" PRIu64 " batches sealed, not yet acknowledged by the "
           "server\n",
           S_LABEL_WIDTH, "in flight", ss->sealed - ss->acked);
    printf("%-*s ", S_LABEL_WIDTH, "server");
    if (server != NULL)
        cs_text_escape(stdout, server, strlen(server), false);
    else
        fputs("none configured", stdout);
    putchar('\n');
    printf("%-*s ", S_LABEL_WIDTH, "last sync");
    if (last_sync != NULL)
        cs_text_escape(stdout, last_sync, strlen(last_sync), false);
    else
        fputs("never", stdout);
    putchar('\n');
    printf("%-*s %" PRIu64 " bytes sent, %" PRIu64 " received\n", S_LABEL_WIDTH,
           "traffic", ss->bytes_sent, ss->bytes_received);
}

static void
s_json_config(struct cs_json *j, const struct cs_nodedir *d, const char *key)
{
    const char *v = cs_nodedir_get(d, key);

    cs_json_key(j, key);
    if (v != NULL)
        cs_json_str(j, v);
    else
        cs_json_null(j);
}

static void
s_status_json(const struct cs_nodedir *d, const struct cs_store_status *st,
              const char *last_sync, const struct s_key_state *ks,
              const struct s_sync_state *ss)
{
    char clock[CS_HLC_TEXT_MAX], hex[CS_NODE_ID_HEX_LEN + 1];
    struct cs_json j;

    cs_node_id_hex(cs_nodedir_node(d), hex);
    cs_out_hlc(st->clock, clock);
    cs_json_init(&j, stdout);
    cs_json_object_begin(&j);
    s_json_config(&j, d, "name");
    cs_json_key(&j, "node_id");
    cs_json_str(&j, hex);
    s_json_config(&j, d, "office");
    s_json_config(&j, d, "identity");
    s_json_config(&j, d, "created");
    cs_json_key(&j, "directory");
    cs_json_str(&j, cs_nodedir_path(d));
    cs_json_key(&j, "replica");
    cs_json_str(&j, cs_nodedir_replica_path(d));
    cs_json_key(&j, "key");
    cs_json_str(&j, cs_nodedir_key_path(d));
    cs_json_key(&j, "key_protected");
    if (ks->protected >= 0)
        cs_json_bool(&j, ks->protected == 1);
    else
        cs_json_null(&j);
    cs_json_key(&j, "pending");
    cs_json_uint(&j, st->pending);
    cs_json_key(&j, "log_entries");
    cs_json_uint(&j, st->log_entries);
    cs_json_key(&j, "conflicts");
    cs_json_uint(&j, st->conflicts);
    cs_json_key(&j, "clock");
    if (st->clock.t != 0)
        cs_json_str(&j, clock);
    else
        cs_json_null(&j);
    cs_json_key(&j, "last_sync");
    if (last_sync != NULL)
        cs_json_str(&j, last_sync);
    else
        cs_json_null(&j);
    s_json_config(&j, d, "server");
    cs_json_key(&j, "batches_sealed");
    cs_json_uint(&j, ss->sealed);
    cs_json_key(&j, "in_flight");
    cs_json_uint(&j, ss->sealed - ss->acked);
    cs_json_key(&j, "bytes_sent");
    cs_json_uint(&j, ss->bytes_sent);
    cs_json_key(&j, "bytes_received");
    cs_json_uint(&j, ss->bytes_received);
    cs_json_object_end(&j);
    cs_json_finish(&j);
}

int
cs_cmd_status(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    struct cs_store_status st;
    struct s_key_state ks = {NULL, -1};
    struct s_sync_state ss;
    char *last_sync = NULL;
    struct cs_store *s;
    int r;

    if (argc > 0 && cs_cmd_is_option(argv[0]))
        return cs_cmd_unknown_option("status", argv[0]);
    if (argc > 0)
        return cs_cmd_bad_args("status", "takes no arguments");
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    s = cs_nodedir_store(d);
    if ((r = cs_store_status(s, &st)) != 0 ||
        (r = cs_store_meta_get(s, "last_sync", &last_sync)) != 0 ||
        (r = s_sync_state_read(s, &ss)) != 0) {
        cs_out_store_error(s, r, "reading the status");
        goto out;
    }
    s_key_state_read(d, &ks);
    if (ctx->json)
        s_status_json(d, &st, last_sync, &ks, &ss);
    else
        s_status_text(d, &st, last_sync, &ks, &ss);
out:
    free(ks.text);
    free(last_sync);
    cs_nodedir_destroy(&d);
    return r;
}

/* ---- conflicts --------------------------------------------------------- */

/* Owned copies of the conflicts, collected before printing (printing asks
   the store for names, which must not happen inside its callback). */
struct s_conflicts {
    struct cs_conflict *v; /* copies; pointers point into blocks */
    char **blocks;         /* one owned allocation per conflict */
    size_t n;              /* how many */
};

static size_t
s_value_bytes(const struct cs_value *v)
{
    return v->type == SQLITE_TEXT || v->type == SQLITE_BLOB ? v->len : 0;
}

static void
s_put_value(char **at, struct cs_value *v)
{
    size_t n = s_value_bytes(v);

    if (v->type != SQLITE_TEXT && v->type != SQLITE_BLOB)
        return;
    if (n > 0)
        memcpy(*at, v->p, n);
    v->p = *at;
    *at += n;
}

static const char *
s_put_str(char **at, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = *at;

    memcpy(copy, s, n);
    *at += n;
    return copy;
}

static int
s_conflict_collect(void *arg, const struct cs_conflict *c)
{
    struct s_conflicts *all = arg;
    size_t size = strlen(c->table) + 1 + strlen(c->row_id) + 1 +
                  strlen(c->col) + 1 + s_value_bytes(&c->lost) +
                  s_value_bytes(&c->won);
    struct cs_conflict *copy;
    char *at;

    all->v = cs_xrealloc(all->v, (all->n + 1) * sizeof *all->v);
    all->blocks = cs_xrealloc(all->blocks, (all->n + 1) * sizeof *all->blocks);
    all->blocks[all->n] = at = cs_xmalloc(size);
    copy = &all->v[all->n++];
    *copy = *c;
    copy->table = s_put_str(&at, c->table);
    copy->row_id = s_put_str(&at, c->row_id);
    copy->col = s_put_str(&at, c->col);
    s_put_value(&at, &copy->lost);
    s_put_value(&at, &copy->won);
    return 0;
}

static void
s_conflicts_free(struct s_conflicts *all)
{
    for (size_t i = 0; i < all->n; i++)
        free(all->blocks[i]);
    free(all->blocks);
    free(all->v);
}

/* Writes " by WHO at TIME". */
static void
s_by_at(struct cs_store *s, const struct cs_node_id *node, struct cs_hlc h)
{
    char when[CS_HLC_TEXT_MAX];
    char *who = cs_out_who(s, node);

    cs_out_hlc(h, when);
    fputs("  by ", stdout);
    cs_text_escape(stdout, who, strlen(who), false);
    printf(" at %s\n", when);
    free(who);
}

static void
s_conflicts_text(struct cs_store *s, const struct s_conflicts *all)
{
    if (all->n == 0) {
        printf("no conflicts\n");
        return;
    }
    for (size_t i = 0; i < all->n; i++) {
        const struct cs_conflict *c = &all->v[i];
        printf("%s ", c->table);
        cs_text_escape(stdout, c->row_id, strlen(c->row_id), false);
        printf(" %s\n    lost: ", c->col);
        cs_out_value(stdout, &c->lost, "NULL", true);
        s_by_at(s, &c->lost_by, c->lost_hlc);
        printf("    kept: ");
        if (c->deleted)
            printf("(the row was deleted)");
        else
            cs_out_value(stdout, &c->won, "NULL", true);
        s_by_at(s, &c->won_by, c->won_hlc);
    }
    printf("\n%zu conflict%s: concurrent edits where the kept value won and "
           "the lost one was\noverwritten by someone who had not seen it.  "
           "To settle one, set the field\nagain (cigsync set TABLE ID "
           "FIELD=VALUE), or restore the row if it lost to a\ndelete "
           "(cigsync restore TABLE ID).\n",
           all->n, all->n == 1 ? "" : "s");
}

static void
s_json_version(struct cs_json *j, struct cs_store *s, const char *key,
               const struct cs_value *v, const struct cs_node_id *node,
               struct cs_hlc h)
{
    char when[CS_HLC_TEXT_MAX], hex[CS_NODE_ID_HEX_LEN + 1];
    const char *label;

    cs_out_hlc(h, when);
    cs_node_id_hex(node, hex);
    cs_json_key(j, key);
    cs_json_object_begin(j);
    cs_json_key(j, "value");
    cs_json_value(j, v);
    cs_json_key(j, "time");
    cs_json_str(j, when);
    cs_json_key(j, "hlc");
    cs_json_uint(j, h.t);
    cs_json_key(j, "node_id");
    cs_json_str(j, hex);
    cs_json_key(j, "who");
    if ((label = cs_store_origin_label(s, node)) != NULL)
        cs_json_str(j, label);
    else
        cs_json_null(j);
    cs_json_object_end(j);
}

static void
s_conflicts_json(struct cs_store *s, const struct s_conflicts *all)
{
    struct cs_json j;

    cs_json_init(&j, stdout);
    cs_json_array_begin(&j);
    for (size_t i = 0; i < all->n; i++) {
        const struct cs_conflict *c = &all->v[i];
        cs_json_object_begin(&j);
        cs_json_key(&j, "table");
        cs_json_str(&j, c->table);
        cs_json_key(&j, "id");
        cs_json_str(&j, c->row_id);
        cs_json_key(&j, "field");
        cs_json_str(&j, c->col);
        cs_json_key(&j, "deleted");
        cs_json_bool(&j, c->deleted);
        s_json_version(&j, s, "lost", &c->lost, &c->lost_by, c->lost_hlc);
        s_json_version(&j, s, "won", &c->won, &c->won_by, c->won_hlc);
        cs_json_object_end(&j);
    }
    cs_json_array_end(&j);
    cs_json_finish(&j);
}

int
cs_cmd_conflicts(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    struct s_conflicts all = {NULL, NULL, 0};
    struct cs_store *s;
    int r;

    if (argc > 0 && cs_cmd_is_option(argv[0]))
        return cs_cmd_unknown_option("conflicts", argv[0]);
    if (argc > 0)
        return cs_cmd_bad_args("conflicts", "takes no arguments");
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    s = cs_nodedir_store(d);
    if ((r = cs_store_conflicts(s, s_conflict_collect, &all)) != 0) {
        cs_out_store_error(s, r, "reading the conflicts");
        goto out;
    }
    if (ctx->json)
        s_conflicts_json(s, &all);
    else
        s_conflicts_text(s, &all);
out:
    s_conflicts_free(&all);
    cs_nodedir_destroy(&d);
    return r;
}

/* ---- merge ------------------------------------------------------------- */

/* State of one merge while reading the other replica. */
struct s_merge {
    struct cs_changes chunk;    /* changes read, not yet applied */
    bool full;                  /* the chunk reached its limit */
    struct cs_node_id *origins; /* distinct origins seen */
    size_t norigins;            /* how many */
};

static void
s_origin_note(struct s_merge *m, const struct cs_node_id *node)
{
    for (size_t i = 0; i < m->norigins; i++)
        if (memcmp(m->origins[i].b, node->b, CS_NODE_ID_BYTES) == 0)
            return;
    if (m->norigins == S_MERGE_ORIGINS_MAX)
        return; /* names are a courtesy; the changes still merge */
    m->origins =
        cs_xrealloc(m->origins, (m->norigins + 1) * sizeof *m->origins);
    m->origins[m->norigins++] = *node;
}

/* cs_change_fn: copies a change; stops the read when the chunk is full,
   with CS_ERR_TOO_BIG and m->full set, so the caller can tell it apart
   from a real failure. */
static int
s_merge_collect(void *arg, const struct cs_change *ch)
{
    struct s_merge *m = arg;

    cs_changes_push(&m->chunk, ch);
    s_origin_note(m, &ch->origin);
    if (cs_changes_count(&m->chunk) >= S_MERGE_CHUNK ||
        cs_changes_bytes(&m->chunk) >= S_MERGE_CHUNK_BYTES) {
        m->full = true;
        return CS_ERR_TOO_BIG;
    }
    return 0;
}

/* Gives this replica the names the other one knows for the origins seen,
   and the other node's own name from its config. */
static int
s_merge_names(struct cs_store *self, struct cs_nodedir *other,
              const struct s_merge *m)
{
    struct cs_store *os = cs_nodedir_store(other);
    const char *name = cs_nodedir_get(other, "name");
    int r;

    for (size_t i = 0; i < m->norigins; i++) {
        const struct cs_node_id *node = &m->origins[i];
        const char *label;
        char *copy;

        if (memcmp(node->b, cs_store_self(self)->b, CS_NODE_ID_BYTES) == 0 ||
            (label = cs_store_origin_label(os, node)) == NULL ||
            !cs_nodedir_name_valid(label))
            continue;
        copy = cs_xstrdup(label);
        r = cs_store_origin_name(self, node, copy);
        free(copy);
        if (r != 0)
            return cs_out_store_error(self, r, "recording node names");
    }
    if (name == NULL || !cs_nodedir_name_valid(name))
        return 0;
    if ((r = cs_store_origin_name(self, cs_nodedir_node(other), name)) != 0)
        return cs_out_store_error(self, r, "recording node names");
    return 0;
}

static int
s_merge(struct cs_nodedir *here, struct cs_nodedir *other)
{
    struct cs_store *self = cs_nodedir_store(here);
    struct cs_store *os = cs_nodedir_store(other);
    struct s_merge m;
    uint64_t after = 0, last = 0, received = 0, applied = 0;
    const char *name = cs_nodedir_get(other, "name");
    int r;

    memset(&m, 0, sizeof m);
    cs_changes_init(&m.chunk);
    for (;;) {
        struct cs_apply_stats stats;

        m.full = false;
        r = cs_store_changes(os, after, false, s_merge_collect, &m, &last);
        if (r != 0 && !(r == CS_ERR_TOO_BIG && m.full)) {
            cs_out_error("cannot read the changes of %s: %s",
                         cs_nodedir_replica_path(other),
                         cs_store_errmsg(os)[0] ? cs_store_errmsg(os)
                                                : cs_strerror(r));
            goto out;
        }
        memset(&stats, 0, sizeof stats);
        if (cs_changes_count(&m.chunk) > 0 &&
            (r = cs_store_apply(self, cs_changes_items(&m.chunk),
                                cs_changes_count(&m.chunk), &stats)) != 0) {
            cs_out_store_error(self, r, "merging");
            goto out;
        }
        received += stats.received;
        applied += stats.applied;
        cs_changes_clear(&m.chunk);
        if (!m.full)
            break;
        after = last;
    }
    if ((r = s_merge_names(self, other, &m)) != 0)
        goto out;
    printf("merged %" PRIu64 " changes (%" PRIu64 " new) from ", received,
           applied);
    if (name != NULL) {
        cs_text_escape(stdout, name, strlen(name), false);
    } else {
        char hex[CS_NODE_ID_HEX_LEN + 1];
        cs_node_id_hex(cs_nodedir_node(other), hex);
        fputs(hex, stdout);
    }
    putchar('\n');
out:
    cs_changes_clear(&m.chunk);
    free(m.origins);
    return r;
}

int
cs_cmd_merge(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *here = NULL, *other = NULL;
    int r;

    if (argc > 0 && cs_cmd_is_option(argv[0]))
        return cs_cmd_unknown_option("merge", argv[0]);
    if (argc != 1)
        return cs_cmd_bad_args("merge", "expected OTHERDIR");
    if ((r = cs_cmd_open(ctx, &here)) != 0 ||
        (r = cs_nodedir_open(argv[0], &other)) != 0)
        goto out;
    if (memcmp(cs_nodedir_node(here)->b, cs_nodedir_node(other)->b,
               CS_NODE_ID_BYTES) == 0) {
        cs_out_error("%s is this node's own directory: nothing to merge",
                     argv[0]);
        r = CS_ERR_INVALID;
        goto out;
    }
    r = s_merge(here, other);
out:
    cs_nodedir_destroy(&other);
    cs_nodedir_destroy(&here);
    return r;
}

/* ---- key --------------------------------------------------------------- */

int
cs_cmd_key(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    char identity[CS_IDENTITY_TEXT_LEN + 1];
    struct cs_nodedir *d = NULL;
    struct cs_key *k = NULL;
    int r;

    if (argc > 0 && cs_cmd_is_option(argv[0]))
        return cs_cmd_unknown_option("key", argv[0]);
    if (argc != 1 || strcmp(argv[0], "check") != 0)
        return cs_cmd_bad_args("key", "expected check");
    if ((r = cs_cmd_open(ctx, &d)) != 0 ||
        (r = cs_cmd_load_key(ctx, d, &k)) != 0)
        goto out;
    /* cs_nodedir_key() checked k against the config's identity. */
    if ((r = cs_identity_format(cs_key_public(k), identity, sizeof identity)) !=
        0) {
        cs_out_error("cannot format the identity: %s", cs_strerror(r));
        goto out;
    }
    printf("key ok: %s\n", identity);
out:
    cs_key_destroy(&k);
    cs_nodedir_destroy(&d);
    return r;
}
