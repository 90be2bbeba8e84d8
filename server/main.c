/*  server/main.c - `cigsync-server`, the hub: command dispatch and the
 *  administration commands.
 *
 *      cigsync-server COMMAND DIR [ARGS]
 *
 *  This file knows the commands, their usage text, their arguments and what
 *  they print; the server directory is srvdir.h's and the nodes are
 *  registry.h's.  Exit status: 0 success, 1 failure, 2 bad command line.
 *  Every failure prints one line on stderr starting "cigsync-server: "
 *  (srvout.h); results go to stdout, notes for people to stderr.
 */
#include "prelude.h"

#include "auditcmd.h"
#include "hub.h"
#include "key.h"
#include "log.h"
#include "registry.h"
#include "srvbundle.h"
#include "srvdir.h"
#include "srvout.h"

#define S_EXIT_OK 0      /* success */
#define S_EXIT_FAILURE 1 /* the command failed */
#define S_EXIT_USAGE 2   /* bad command line */
#define S_NAME_WIDTH 8   /* command names are padded to this in the list */
#define S_DECIMAL 10     /* base of descriptor numbers */
#define S_NUMBER_MAX 27  /* "batch " and a uint64 in decimal, NUL */
#define S_LOCKED_MSG                                                           \
    "the replica is locked by another program; close it and try again"

/* ---- arguments ----------------------------------------------------------- */

/* Returns true if arg looks like an option ("-x", "--xyz"); "-" does not. */
static bool
s_is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

/* Matches one argument against an option that takes a value.
     argc   number of arguments
     argv   the arguments
     i      index of the one to match; moved past the value if that is
            the next argument
     name   the option, e.g. "--role"
     value  receives the value: after '=' or the next argument
   Returns 1 when it matched, 0 when it did not, CS_ERR_USAGE (told) when
   the value is missing. */
static int
s_option(int argc, char **argv, int *i, const char *name, char **value)
{
    char *arg = argv[*i];
    size_t n = strlen(name);

    *value = NULL;
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cs_srvout_error("%s needs a value (see --help)", name);
        return CS_ERR_USAGE;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

static int
s_usage_error(const char *cmd, const char *what)
{
    cs_srvout_error("%s: %s (see cigsync-server %s --help)", cmd, what, cmd);
    return CS_ERR_USAGE;
}

static int
s_unknown_option(const char *cmd, const char *arg)
{
    char *q = cs_srvout_quote(arg);

    cs_srvout_error("%s: unknown option %s (see cigsync-server %s --help)", cmd,
                    q, cmd);
    free(q);
    return CS_ERR_USAGE;
}

/* Parses a file descriptor number. */
static int
s_fd(const char *what, const char *value, int *fd)
{
    char *end = NULL;
    long n = -1;

    *fd = -1;
    errno = 0;
    if (value[0] >= '0' && value[0] <= '9')
        n = strtol(value, &end, S_DECIMAL);
    if (n < 0 || n > INT_MAX || errno != 0 || end == NULL || *end != '\0') {
        char *q = cs_srvout_quote(value);
        cs_srvout_error("%s needs a file descriptor number, not %s", what, q);
        free(q);
        return CS_ERR_USAGE;
    }
    *fd = (int)n;
    return 0;
}

/* Writes ms as UTC text ("2026-11-27T05:38:01.123Z") into buf. */
static void
s_time(uint64_t ms, char buf[CS_HLC_TEXT_MAX])
{
    if (ms > CS_HLC_MS_MAX ||
        cs_hlc_format(cs_hlc_make(ms, 0), buf, CS_HLC_TEXT_MAX) != 0)
        snprintf(buf, CS_HLC_TEXT_MAX, "?");
}

/* ---- init ---------------------------------------------------------------- */

/* Tells whether the endpoint is reachable only from this machine. */
static bool
s_loopback(const char *endpoint)
{
    static const char *const local[] = {
        "tcp://127.", "tcp://localhost:", "tcp://[::1]:", "ipc://"};

    for (size_t i = 0; i < sizeof local / sizeof *local; i++)
        if (strncmp(endpoint, local[i], strlen(local[i])) == 0)
            return true;
    return false;
}

static void
s_init_report(struct cs_srvdir *d, bool sealed)
{
    const char *listen = cs_srvdir_get(d, "listen");
    char node[CS_NODE_ID_HEX_LEN + 1];

    cs_node_id_hex(cs_srvdir_node(d), node);
    fprintf(stderr,
            "Created cigsync server \"%s\" in %s\n"
            "  deployment: %s\n"
            "  listen:     %s%s\n"
            "  node id:    %s\n"
            "  replica:    %s (with the node registry)\n"
            "  key:        %s (secret: keep it, back it up, never share "
            "it)\n",
            cs_srvdir_get(d, "name"), cs_srvdir_path(d),
            cs_srvdir_get(d, "deployment"), listen,
            s_loopback(listen) ? " (this machine only)" : "", node,
            cs_srvdir_replica_path(d), cs_srvdir_key_path(d));
    if (sealed)
        fprintf(stderr, "              sealed with your passphrase: without "
                        "it the key cannot be used\n");
    fprintf(stderr,
            "Offices need the endpoint and the identity printed above.  Enrol "
            "each\noffice with the identity its `cigsync init` printed:\n"
            "  cigsync-server enroll %s NAME --role site --office CODE --key "
            "IDENTITY\n",
            cs_srvdir_path(d));
}

static int
s_cmd_init(int argc, char **argv)
{
    const char *dir = NULL, *name = CS_SRVDIR_NAME_DEFAULT;
    const char *listen = CS_SRVDIR_LISTEN_DEFAULT;
    char *fd_arg = NULL, *value;
    struct cs_srvdir *d = NULL;
    bool prompt = false;
    int pass_fd = CS_SRVDIR_PASS_NONE, r;

    for (int i = 0; i < argc; i++) {
        if ((r = s_option(argc, argv, &i, "--listen", &value)) != 0) {
            if (r < 0)
                return r;
            listen = value;
            continue;
        }
        if ((r = s_option(argc, argv, &i, "--name", &value)) != 0) {
            if (r < 0)
                return r;
            name = value;
            continue;
        }
        if ((r = s_option(argc, argv, &i, "--passphrase-fd", &value)) != 0) {
            if (r < 0)
                return r;
            fd_arg = value;
            continue;
        }
        if (strcmp(argv[i], "--passphrase") == 0) {
            prompt = true;
            continue;
        }
        if (s_is_option(argv[i]))
            return s_unknown_option("init", argv[i]);
        if (dir != NULL)
            return s_usage_error("init", "expected one DIR");
        dir = argv[i];
    }
    if (dir == NULL)
        return s_usage_error("init", "expected DIR");
    if (prompt && fd_arg != NULL)
        return s_usage_error("init", "give one of --passphrase and "
                                     "--passphrase-fd N");
    if (prompt)
        pass_fd = CS_SRVDIR_PASS_TTY;
    if (fd_arg != NULL && (r = s_fd("--passphrase-fd", fd_arg, &pass_fd)) != 0)
        return r;
    if ((r = cs_srvdir_init(dir, name, listen, pass_fd, &d)) != 0)
        return r;
    printf("%s\n", cs_srvdir_get(d, "identity"));
    s_init_report(d, pass_fd != CS_SRVDIR_PASS_NONE);
    cs_srvdir_destroy(&d);
    return 0;
}

/* ---- enroll -------------------------------------------------------------- */

/* Writes "role, office" or "role" for n into buf. */
static void
s_role_office(const struct cs_registry_node *n, char *buf, size_t size)
{
    if (n->office[0] != '\0')
        snprintf(buf, size, "%s, %s", cs_registry_role_name(n->role),
                 n->office);
    else
        snprintf(buf, size, "%s", cs_registry_role_name(n->role));
}

#define S_ROLE_OFFICE_MAX 32 /* "central, ABCDEFGH" with room */

/* The arguments of enroll, checked. */
struct s_enroll_args {
    const char *dir;              /* the server directory */
    struct cs_registry_node node; /* name, role, office, key */
};

/* Checks enroll's arguments and fills a->node; NULL for what was not
   given.
     name    the node name
     role    --role
     office  --office
     key     --key
     a       receives the checked node
   Prints the error line on failure (CS_ERR_USAGE). */
static int
s_enroll_check(const char *name, const char *role, const char *office,
               const char *key, struct s_enroll_args *a)
{
    char *q;

    if (!cs_registry_name_valid(name)) {
        q = cs_srvout_quote(name);
        cs_srvout_error("bad node name %s: 1-%d printable ASCII characters, "
                        "not starting with '-' or a blank, not ending with "
                        "a blank",
                        q, CS_REGISTRY_NAME_MAX);
        free(q);
        return CS_ERR_USAGE;
    }
    snprintf(a->node.name, sizeof a->node.name, "%s", name);
    if (role == NULL)
        return s_usage_error("enroll", "expected --role site|central|auditor");
    if (cs_registry_role_parse(role, &a->node.role) != 0) {
        q = cs_srvout_quote(role);
        cs_srvout_error("bad role %s: expected site, central or auditor", q);
        free(q);
        return CS_ERR_USAGE;
    }
    if (a->node.role == CS_REGISTRY_SITE && office == NULL)
        return s_usage_error("enroll", "a site needs --office CODE, the "
                                       "office whose records it writes and "
                                       "reads");
    if (a->node.role == CS_REGISTRY_AUDITOR && office != NULL)
        return s_usage_error("enroll", "an auditor has no --office: it "
                                       "reads all and writes nothing");
    if (a->node.role == CS_REGISTRY_CENTRAL && office == NULL)
        office = CS_REGISTRY_CENTRAL_OFFICE;
    if (office != NULL && !cs_store_office_valid(office)) {
        q = cs_srvout_quote(office);
        cs_srvout_error("bad office code %s: 2-8 of A-Z 0-9", q);
        free(q);
        return CS_ERR_USAGE;
    }
    if (office != NULL)
        snprintf(a->node.office, sizeof a->node.office, "%s", office);
    if (key == NULL)
        return s_usage_error("enroll", "expected --key IDENTITY");
    if (cs_identity_parse(key, &a->node.key) != 0) {
        q = cs_srvout_quote(key);
        cs_srvout_error("bad --key %s: expected an identity, cs1: and 64 hex "
                        "digits, as `cigsync init` prints it",
                        q);
        free(q);
        return CS_ERR_USAGE;
    }
    return 0;
}

static int
s_enroll_args(int argc, char **argv, struct s_enroll_args *a)
{
    const char *name = NULL, *role = NULL, *office = NULL, *key = NULL;
    char *value;
    int r;

    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        if ((r = s_option(argc, argv, &i, "--role", &value)) != 0) {
            if (r < 0)
                return r;
            role = value;
            continue;
        }
        if ((r = s_option(argc, argv, &i, "--office", &value)) != 0) {
            if (r < 0)
                return r;
            office = value;
            continue;
        }
        if ((r = s_option(argc, argv, &i, "--key", &value)) != 0) {
            if (r < 0)
                return r;
            key = value;
            continue;
        }
        if (s_is_option(argv[i]))
            return s_unknown_option("enroll", argv[i]);
        if (name != NULL)
            return s_usage_error("enroll", "expected DIR NAME");
        if (a->dir == NULL)
            a->dir = argv[i];
        else
            name = argv[i];
    }
    if (name == NULL)
        return s_usage_error("enroll", "expected DIR NAME");
    return s_enroll_check(name, role, office, key, a);
}

/* Prints why the registry refused or failed to enrol a node.
     d      the open server directory
     a      what was to be enrolled
     other  the node holding the name or the key, for CS_REGISTRY_ERR_TAKEN
     r      cs_registry_enroll()'s code, returned */
static int
s_enroll_refused(struct cs_srvdir *d, const struct s_enroll_args *a,
                 const struct cs_registry_node *other, int r)
{
    char what[S_ROLE_OFFICE_MAX];
    char *q = cs_srvout_quote(other->name);

    s_role_office(other, what, sizeof what);
    if (r == CS_REGISTRY_ERR_TAKEN && strcmp(other->name, a->node.name) == 0)
        cs_srvout_error("a node named %s is already enrolled (%s, %s)", q, what,
                        other->revoked ? "revoked" : "active");
    else if (r == CS_REGISTRY_ERR_TAKEN)
        cs_srvout_error("this key is already enrolled as node %s (%s, %s): "
                        "one key is one node",
                        q, what, other->revoked ? "revoked" : "active");
    else if (r == CS_REGISTRY_ERR_SELF)
        cs_srvout_error("this key is the server's own identity: enrol the "
                        "identity that the office's `cigsync init` printed");
    else if (r == CS_ERR_LOCKED)
        cs_srvout_error("%s", S_LOCKED_MSG);
    else
        cs_srvout_error("cannot enroll %s: %s", a->node.name,
                        cs_registry_errmsg(cs_srvdir_registry(d))[0]
                            ? cs_registry_errmsg(cs_srvdir_registry(d))
                            : cs_strerror(r));
    free(q);
    return r;
}

static int
s_cmd_enroll(int argc, char **argv)
{
    struct cs_registry_node other, n;
    char what[S_ROLE_OFFICE_MAX], scope[CS_REGISTRY_SCOPE_MAX];
    char hex[CS_NODE_ID_HEX_LEN + 1];
    struct cs_srvdir *d = NULL;
    struct s_enroll_args a;
    int r;

    if ((r = s_enroll_args(argc, argv, &a)) != 0)
        return r;
    if ((r = cs_srvdir_open(a.dir, &d)) != 0)
        return r;
    r = cs_registry_enroll(cs_srvdir_registry(d), &a.node, cs_hlc_wall_ms(),
                           &other);
    if (r != 0) {
        s_enroll_refused(d, &a, &other, r);
        goto out;
    }
    n = a.node;
    cs_node_id_from_pubkey(&n.key, &n.node);
    cs_node_id_hex(&n.node, hex);
    s_role_office(&n, what, sizeof what);
    cs_registry_scope(&n, scope);
    printf("enrolled %s (%s) node id %s\n", n.name, what, hex);
    fprintf(stderr, "%s %s.\n", n.name, scope);
out:
    cs_srvdir_destroy(&d);
    return r;
}

/* ---- revoke -------------------------------------------------------------- */

static int
s_cmd_revoke(int argc, char **argv)
{
    const char *dir = NULL, *name = NULL;
    struct cs_registry_node n;
    char what[S_ROLE_OFFICE_MAX], when[CS_HLC_TEXT_MAX];
    char hex[CS_NODE_ID_HEX_LEN + 1];
    struct cs_srvdir *d = NULL;
    char *q = NULL;
    int r;

    for (int i = 0; i < argc; i++) {
        if (s_is_option(argv[i]))
            return s_unknown_option("revoke", argv[i]);
        if (name != NULL)
            return s_usage_error("revoke", "expected DIR NAME");
        if (dir == NULL)
            dir = argv[i];
        else
            name = argv[i];
    }
    if (name == NULL)
        return s_usage_error("revoke", "expected DIR NAME");
    if ((r = cs_srvdir_open(dir, &d)) != 0)
        return r;
    r = cs_registry_revoke(cs_srvdir_registry(d), name, cs_hlc_wall_ms(), &n);
    q = cs_srvout_quote(name);
    switch (r) {
    case 0:
        break;
    case CS_ERR_NOT_FOUND:
        cs_srvout_error("no node named %s (see cigsync-server nodes %s)", q,
                        dir);
        goto out;
    case CS_REGISTRY_ERR_REVOKED:
        s_time(n.revoked_ms, when);
        cs_srvout_error("node %s was already revoked at %s", q, when);
        goto out;
    case CS_ERR_LOCKED:
        cs_srvout_error("%s", S_LOCKED_MSG);
        goto out;
    default:
        cs_srvout_error("cannot revoke %s: %s", q,
                        cs_registry_errmsg(cs_srvdir_registry(d))[0]
                            ? cs_registry_errmsg(cs_srvdir_registry(d))
                            : cs_strerror(r));
        goto out;
    }
    cs_node_id_hex(&n.node, hex);
    s_role_office(&n, what, sizeof what);
    printf("revoked %s (%s) node id %s\n", n.name, what, hex);
out:
    free(q);
    cs_srvdir_destroy(&d);
    return r;
}

/* ---- nodes --------------------------------------------------------------- */

/* The nodes, copied out of the registry before printing. */
struct s_nodes {
    struct cs_registry_node *v; /* the nodes, in name order */
    size_t n;                   /* how many */
};

static int
s_nodes_collect(void *arg, const struct cs_registry_node *node)
{
    struct s_nodes *all = arg;

    all->v = cs_xrealloc(all->v, (all->n + 1) * sizeof *all->v);
    all->v[all->n++] = *node;
    return 0;
}

/* The columns of the text table. */
enum s_column {
    S_NODE_NAME,
    S_NODE_ROLE,
    S_NODE_SCOPE,
    S_NODE_STATUS,
    S_NODE_SEEN,
    S_NODE_RECEIVED,
    S_NODE_IN,
    S_NODE_OUT,
    S_NODE_COLUMNS
};

#define S_CELL_MAX (CS_REGISTRY_NAME_MAX + 1) /* a cell's text, with NUL */
_Static_assert(S_CELL_MAX >= CS_REGISTRY_SCOPE_MAX &&
                   S_CELL_MAX >= CS_HLC_TEXT_MAX && S_CELL_MAX >= S_NUMBER_MAX,
               "a table cell holds a name, a scope, a time and a number");

/* One row of the table, as text. */
struct s_row {
    char cell[S_NODE_COLUMNS][S_CELL_MAX]; /* the row's cells */
};

/* Prints one cell padded to width, or the last one and the newline. */
static void
s_cell(const char *text, size_t width, bool last)
{
    if (last)
        printf("%s\n", text);
    else
        printf("%-*s  ", (int)width, text);
}

static void
s_row_fill(const struct cs_registry_node *n, struct s_row *row)
{
    const size_t size = sizeof row->cell[0];

    snprintf(row->cell[S_NODE_NAME], size, "%s", n->name);
    snprintf(row->cell[S_NODE_ROLE], size, "%s",
             cs_registry_role_name(n->role));
    cs_registry_scope(n, row->cell[S_NODE_SCOPE]);
    snprintf(row->cell[S_NODE_STATUS], size, "%s",
             n->revoked ? "revoked" : "active");
    if (n->last_seen_ms == 0)
        snprintf(row->cell[S_NODE_SEEN], size, "never");
    else
        s_time(n->last_seen_ms, row->cell[S_NODE_SEEN]);
    if (n->last_seq == 0)
        snprintf(row->cell[S_NODE_RECEIVED], size, "nothing");
    else
        snprintf(row->cell[S_NODE_RECEIVED], size, "batch %" PRIu64,
                 n->last_seq);
    snprintf(row->cell[S_NODE_IN], size, "%" PRIu64, n->bytes_in);
    snprintf(row->cell[S_NODE_OUT], size, "%" PRIu64, n->bytes_out);
}

static void
s_nodes_text(const struct s_nodes *all)
{
    static const char *const heads[S_NODE_COLUMNS] = {
        "NAME",      "ROLE",     "SCOPE",    "STATUS",
        "LAST SEEN", "RECEIVED", "BYTES IN", "BYTES OUT"};
    struct s_row *rows;
    size_t width[S_NODE_COLUMNS];

    if (all->n == 0) {
        printf("no nodes enrolled\n");
        return;
    }
    rows = cs_xcalloc(all->n, sizeof *rows);
    for (size_t c = 0; c < S_NODE_COLUMNS; c++)
        width[c] = strlen(heads[c]);
    for (size_t i = 0; i < all->n; i++) {
        s_row_fill(&all->v[i], &rows[i]);
        for (size_t c = 0; c < S_NODE_COLUMNS; c++)
            if (strlen(rows[i].cell[c]) > width[c])
                width[c] = strlen(rows[i].cell[c]);
    }
    for (size_t c = 0; c < S_NODE_COLUMNS; c++)
        s_cell(heads[c], width[c], c + 1 == S_NODE_COLUMNS);
    for (size_t i = 0; i < all->n; i++)
        for (size_t c = 0; c < S_NODE_COLUMNS; c++)
            s_cell(rows[i].cell[c], width[c], c + 1 == S_NODE_COLUMNS);
    free(rows);
}

/* Writes "key": "value" (or null when value is NULL) and a separator. */
static void
s_json_member(const char *key, const char *value, bool last)
{
    printf("    \"%s\": ", key);
    if (value != NULL)
        cs_srvout_json_str(stdout, value);
    else
        fputs("null", stdout);
    fputs(last ? "\n" : ",\n", stdout);
}

static void
s_json_number(const char *key, uint64_t value, bool last)
{
    printf("    \"%s\": %" PRIu64 "%s\n", key, value, last ? "" : ",");
}

static void
s_nodes_json(const struct s_nodes *all)
{
    char hex[CS_NODE_ID_HEX_LEN + 1], identity[CS_IDENTITY_TEXT_LEN + 1];
    char scope[CS_REGISTRY_SCOPE_MAX], enrolled[CS_HLC_TEXT_MAX];
    char revoked[CS_HLC_TEXT_MAX], seen[CS_HLC_TEXT_MAX];

    fputs(all->n == 0 ? "[]\n" : "[\n", stdout);
    for (size_t i = 0; i < all->n; i++) {
        const struct cs_registry_node *n = &all->v[i];
        cs_node_id_hex(&n->node, hex);
        if (cs_identity_format(&n->key, identity, sizeof identity) != 0)
            snprintf(identity, sizeof identity, "?");
        cs_registry_scope(n, scope);
        s_time(n->enrolled_ms, enrolled);
        s_time(n->revoked_ms, revoked);
        s_time(n->last_seen_ms, seen);
        fputs("  {\n", stdout);
        s_json_member("name", n->name, false);
        s_json_member("role", cs_registry_role_name(n->role), false);
        s_json_member("office", n->office[0] ? n->office : NULL, false);
        s_json_member("scope", scope, false);
        s_json_member("status", n->revoked ? "revoked" : "active", false);
        s_json_member("node_id", hex, false);
        s_json_member("identity", identity, false);
        s_json_member("enrolled", enrolled, false);
        s_json_member("revoked", n->revoked ? revoked : NULL, false);
        s_json_member("last_seen", n->last_seen_ms ? seen : NULL, false);
        s_json_number("last_seq", n->last_seq, false);
        s_json_number("bytes_in", n->bytes_in, false);
        s_json_number("bytes_out", n->bytes_out, true);
        fputs(i + 1 < all->n ? "  },\n" : "  }\n]\n", stdout);
    }
}

static int
s_cmd_nodes(int argc, char **argv)
{
    struct s_nodes all = {NULL, 0};
    struct cs_srvdir *d = NULL;
    const char *dir = NULL;
    bool json = false;
    int r;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        if (s_is_option(argv[i]))
            return s_unknown_option("nodes", argv[i]);
        if (dir != NULL)
            return s_usage_error("nodes", "expected one DIR");
        dir = argv[i];
    }
    if (dir == NULL)
        return s_usage_error("nodes", "expected DIR");
    if ((r = cs_srvdir_open(dir, &d)) != 0)
        return r;
    r = cs_registry_list(cs_srvdir_registry(d), s_nodes_collect, &all);
    if (r == CS_ERR_LOCKED) {
        cs_srvout_error("%s", S_LOCKED_MSG);
        goto out;
    }
    if (r != 0) {
        cs_srvout_error("cannot read the nodes: %s",
                        cs_registry_errmsg(cs_srvdir_registry(d))[0]
                            ? cs_registry_errmsg(cs_srvdir_registry(d))
                            : cs_strerror(r));
        goto out;
    }
    if (json)
        s_nodes_json(&all);
    else
        s_nodes_text(&all);
out:
    free(all.v);
    cs_srvdir_destroy(&d);
    return r;
}

/* ---- run ----------------------------------------------------------------- */

static volatile sig_atomic_t s_stop; /* set by SIGTERM and SIGINT */

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static int
s_cmd_run(int argc, char **argv)
{
    const char *dir = NULL, *listen = NULL, *fd_arg = NULL;
    struct cs_srvdir *d = NULL;
    struct cs_key *k = NULL;
    struct sigaction sa;
    char *value;
    int pass_fd = -1, r;

    for (int i = 0; i < argc; i++) {
        if ((r = s_option(argc, argv, &i, "--listen", &value)) != 0) {
            if (r < 0)
                return r;
            listen = value;
            continue;
        }
        if ((r = s_option(argc, argv, &i, "--passphrase-fd", &value)) != 0) {
            if (r < 0)
                return r;
            fd_arg = value;
            continue;
        }
        if (s_is_option(argv[i]))
            return s_unknown_option("run", argv[i]);
        if (dir != NULL)
            return s_usage_error("run", "expected one DIR");
        dir = argv[i];
    }
    if (dir == NULL)
        return s_usage_error("run", "expected DIR");
    if (listen != NULL && !cs_srvdir_endpoint_valid(listen))
        return s_usage_error("run", "--listen needs tcp://HOST:PORT or "
                                    "ipc://PATH");
    if (fd_arg != NULL && (r = s_fd("--passphrase-fd", fd_arg, &pass_fd)) != 0)
        return r;
    if (getenv("CIGSYNC_LOG") == NULL)
        cs_log_set_level(CS_LOG_INFO); /* a line per session and refusal */
    if ((r = cs_srvdir_open(dir, &d)) != 0)
        return r;
    if ((r = cs_srvdir_key(d, pass_fd, &k)) != 0)
        goto out;
    if (listen == NULL)
        listen = cs_srvdir_get(d, "listen");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    r = cs_hub_run(d, k, listen != NULL ? listen : CS_SRVDIR_LISTEN_DEFAULT,
                   &s_stop);
    if (r != 0)
        cs_srvout_error("cannot serve %s: %s", dir, cs_strerror(r));
out:
    cs_key_destroy(&k);
    cs_srvdir_destroy(&d);
    return r;
}

/* ---- audit --------------------------------------------------------------- */

static int
s_cmd_audit(int argc, char **argv)
{
    struct cs_auditcmd_filter f;
    const char *dir, *what;
    char *value;
    int r;

    if (argc < 2 || s_is_option(argv[0]) ||
        (strcmp(argv[1], "log") != 0 && strcmp(argv[1], "verify") != 0))
        return s_usage_error("audit", "expected DIR log or DIR verify");
    dir = argv[0];
    what = argv[1];
    memset(&f, 0, sizeof f);
    f.format = "text";
    for (int i = 2; i < argc; i++) {
        static const char *const names[] = {"--office", "--node", "--table",
                                            "--id", "--field"};
        const char **slots[] = {&f.office, &f.node, &f.table, &f.id, &f.field};
        bool done = false;
        if (strcmp(what, "verify") == 0)
            return s_is_option(argv[i])
                       ? s_unknown_option("audit verify", argv[i])
                       : s_usage_error("audit", "verify takes no arguments");
        for (size_t k = 0; k < sizeof names / sizeof *names && !done; k++) {
            if ((r = s_option(argc, argv, &i, names[k], &value)) < 0)
                return r;
            if (r > 0) {
                *slots[k] = value;
                done = true;
            }
        }
        if (done)
            continue;
        for (int k = 0; k < 2 && !done; k++) {
            if ((r = s_option(argc, argv, &i, k == 0 ? "--since" : "--until",
                              &value)) < 0)
                return r;
            if (r == 0)
                continue;
            if (cs_auditcmd_time(value, k == 1,
                                 k == 0 ? &f.since_ms : &f.until_ms) != 0)
                return s_usage_error("audit", "--since and --until take "
                                              "YYYY-MM-DD or "
                                              "YYYY-MM-DDTHH:MM[:SS] (UTC)");
            done = true;
        }
        if (done)
            continue;
        if ((r = s_option(argc, argv, &i, "--format", &value)) != 0) {
            if (r < 0)
                return r;
            if (strcmp(value, "text") != 0 && strcmp(value, "csv") != 0 &&
                strcmp(value, "json") != 0)
                return s_usage_error("audit", "--format is text, csv or json");
            f.format = value;
            continue;
        }
        if (s_is_option(argv[i]))
            return s_unknown_option("audit log", argv[i]);
        return s_usage_error("audit", "unexpected argument");
    }
    if (strcmp(what, "verify") == 0)
        return cs_auditcmd_verify(dir);
    return cs_auditcmd_log(dir, &f);
}

/* ---- bundle -------------------------------------------------------------- */

static int
s_cmd_bundle(int argc, char **argv)
{
    const char *dir = NULL, *file = NULL, *name = NULL, *fd_arg = NULL;
    char *value;
    int pass_fd = -1, r;
    bool exporting;

    if (argc < 1 ||
        (strcmp(argv[0], "export") != 0 && strcmp(argv[0], "import") != 0))
        return s_usage_error("bundle", "expected export or import");
    exporting = strcmp(argv[0], "export") == 0;
    for (int i = 1; i < argc; i++) {
        if (exporting && (r = s_option(argc, argv, &i, "--for", &value)) != 0) {
            if (r < 0)
                return r;
            name = value;
            continue;
        }
        if ((r = s_option(argc, argv, &i, "--passphrase-fd", &value)) != 0) {
            if (r < 0)
                return r;
            fd_arg = value;
            continue;
        }
        if (s_is_option(argv[i]))
            return s_unknown_option("bundle", argv[i]);
        if (dir == NULL)
            dir = argv[i];
        else if (file == NULL)
            file = argv[i];
        else
            return s_usage_error("bundle", "expected DIR and FILE");
    }
    if (dir == NULL || file == NULL)
        return s_usage_error("bundle", "expected DIR and FILE");
    if (exporting && name == NULL)
        return s_usage_error("bundle", "export needs --for NAME");
    if (fd_arg != NULL && (r = s_fd("--passphrase-fd", fd_arg, &pass_fd)) != 0)
        return r;
    return exporting ? cs_srvbundle_export(dir, name, file, pass_fd)
                     : cs_srvbundle_import(dir, file, pass_fd);
}

/* ---- dispatch ------------------------------------------------------------ */

/* One command. */
struct s_command {
    const char *name;                  /* as typed */
    int (*run)(int argc, char **argv); /* its arguments after the name */
    const char *args;                  /* synopsis after the name */
    const char *summary;               /* one line for the command list */
    const char *help;                  /* details for `NAME --help` */
};

static const struct s_command s_commands[] = {
    {"init", s_cmd_init,
     "DIR [--listen ENDPOINT] [--name NAME] [--passphrase | --passphrase-fd "
     "N]",
     "create a server directory",
     "Creates DIR (which must not exist, or be empty) with mode 0700 and in\n"
     "it the server's secret key (server.key, mode 0600), the consolidated\n"
     "replica with an empty node registry (replica.db), and the config: its\n"
     "name, endpoint, a new random deployment id, node id and identity.\n"
     "Prints the server's identity (cs1:...) on stdout; offices are given it\n"
     "with the endpoint.  Other details go to stderr.\n"
     "\n"
     "--listen ENDPOINT  where the server will listen: tcp://HOST:PORT or\n"
     "                   ipc://PATH (default " CS_SRVDIR_LISTEN_DEFAULT ")\n"
     "--name NAME        display name (default \"" CS_SRVDIR_NAME_DEFAULT
     "\")\n"
     "--passphrase       ask twice on the terminal for a passphrase and\n"
     "                   seal the key with it (Argon2id)\n"
     "--passphrase-fd N  read that passphrase from file descriptor N, one\n"
     "                   line\n"
     "A forgotten passphrase cannot be recovered.  Without either option the\n"
     "key is stored unsealed, guarded only by its file mode.\n"},
    {"enroll", s_cmd_enroll,
     "DIR NAME --role site|central|auditor [--office CODE] --key IDENTITY",
     "admit a node",
     "Enrols the node whose identity (cs1:..., what its `cigsync init`\n"
     "printed) is IDENTITY under NAME (1-64 printable ASCII characters).\n"
     "Its secret key never leaves the office.  Roles:\n"
     "  site     writes and reads the rows of office CODE (--office needed)\n"
     "  central  writes and reads all; CODE is the office of the rows it\n"
     "           creates (default " CS_REGISTRY_CENTRAL_OFFICE ")\n"
     "  auditor  reads all, writes nothing (no --office)\n"
     "A name or a key enrolled before, even if revoked since, is refused, as\n"
     "is the server's own key.  Prints \"enrolled NAME (ROLE, CODE) node id\n"
     "HEX\".\n"},
    {"revoke", s_cmd_revoke, "DIR NAME", "refuse a node from now on",
     "Marks node NAME revoked and records when.  A revoked node is refused;\n"
     "its name and key cannot be enrolled again.  Prints \"revoked NAME\n"
     "(ROLE, CODE) node id HEX\".\n"},
    {"run", s_cmd_run, "DIR [--listen ENDPOINT] [--passphrase-fd N]",
     "serve the nodes until stopped",
     "Serves the enrolled nodes in the foreground until SIGTERM or SIGINT\n"
     "(Ctrl-C), then stops cleanly.  Binds the config's listen endpoint\n"
     "unless --listen gives another.  Logs one line per session and per\n"
     "refusal on stderr (CIGSYNC_LOG=warn|info|debug sets how much).  A\n"
     "node revoked meanwhile is cut off within a second.  A key sealed with\n"
     "a passphrase is asked for on the terminal, or read from\n"
     "--passphrase-fd N.\n"},
    {"audit", s_cmd_audit,
     "DIR log [--office O] [--node N] [--table T] [--id ID] [--field F] "
     "[--since T] [--until T] [--format text|csv|json] | DIR verify",
     "review and prove the audit log",
     "log lists who changed what: every change of every batch the server\n"
     "received, with the value it replaced and the new one, when (as the\n"
     "server logged it and by the writer's clock), from which node and\n"
     "batch, and whether it was accepted, superseded by a later value, or\n"
     "refused and why; enrolments and revocations too.  Filters combine;\n"
     "--since and --until take YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC).\n"
     "verify re-checks every batch signature and chain link, every signed\n"
     "tree head and the tree, replays the log into a fresh replica and\n"
     "compares it with the consolidated replica; it lists every problem\n"
     "(naming the table, row and field, or the log entry) and exits 1 if\n"
     "there is any, 0 when the log verifies.\n"},
    {"bundle", s_cmd_bundle,
     "export DIR --for NAME FILE | import DIR FILE [--passphrase-fd N]",
     "carry batches by file when there is no link",
     "export writes FILE for node NAME: the server's batches it has not\n"
     "acknowledged and everything new in its scope, sealed for it; the\n"
     "office applies it with `cigsync bundle import FILE`.  import applies\n"
     "FILE, made by an office's `cigsync bundle export`, exactly as if its\n"
     "batches had come over the network: checked, refused where out of\n"
     "scope, recorded.  Importing a bundle twice applies nothing the second\n"
     "time.  A bundle for another server or node, of another deployment,\n"
     "damaged or truncated is refused and nothing of it is applied.\n"},
    {"nodes", s_cmd_nodes, "DIR [--json]", "list the enrolled nodes",
     "Lists every node, revoked ones included, by name: role, scope,\n"
     "status, when it was last seen, the last batch received from it, and\n"
     "the bytes received from and sent to it.  --json prints an array of\n"
     "objects with these and its office, node id, identity and times of\n"
     "enrolment and revocation (UTC text, null when none).\n"},
};

#define S_NCOMMANDS (sizeof s_commands / sizeof *s_commands)

static void
s_print_list(void)
{
    printf("usage: cigsync-server COMMAND DIR [ARGS]\n\n"
           "The hub that keeps the programme's consolidated replica and the\n"
           "nodes it admits.\n\n"
           "commands:\n");
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        printf("  %-*s %s\n", S_NAME_WIDTH, s_commands[i].name,
               s_commands[i].summary);
    printf("  %-*s %s\n", S_NAME_WIDTH, "help",
           "show this list, or a command's usage");
    printf("\noptions:\n"
           "  --version    print the version\n"
           "  -h, --help   print this list\n"
           "\nExit status: 0 success, 1 failure, 2 bad command line.\n"
           "Run `cigsync-server COMMAND --help` for a command's usage.\n");
}

static void
s_print_usage(const struct s_command *c)
{
    printf("usage: cigsync-server %s %s\n\n%s.\n\n%s", c->name, c->args,
           c->summary, c->help);
}

static const struct s_command *
s_find(const char *name)
{
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (strcmp(s_commands[i].name, name) == 0)
            return &s_commands[i];
    return NULL;
}

static int
s_unknown_command(const char *name)
{
    char *q = cs_srvout_quote(name);

    cs_srvout_error("unknown command %s (see cigsync-server help)", q);
    free(q);
    return S_EXIT_USAGE;
}

static int
s_help(int argc, char **argv)
{
    const struct s_command *c;

    if (argc == 0) {
        s_print_list();
        return S_EXIT_OK;
    }
    if (argc > 1) {
        cs_srvout_error("help: expected at most one COMMAND");
        return S_EXIT_USAGE;
    }
    if ((c = s_find(argv[0])) == NULL)
        return s_unknown_command(argv[0]);
    s_print_usage(c);
    return S_EXIT_OK;
}

/* Runs command c, or prints its usage when --help or -h is among its
   arguments. */
static int
s_run(const struct s_command *c, int argc, char **argv)
{
    int r;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_print_usage(c);
            return S_EXIT_OK;
        }
    }
    if ((r = c->run(argc, argv)) == 0)
        return S_EXIT_OK;
    return r == CS_ERR_USAGE ? S_EXIT_USAGE : S_EXIT_FAILURE;
}

static int
s_main(int argc, char **argv)
{
    const struct s_command *c;
    char *q;
    int i = 1;

    for (; i < argc && s_is_option(argv[i]); i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("cigsync-server %s\n", CS_VERSION);
            return S_EXIT_OK;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_print_list();
            return S_EXIT_OK;
        }
        q = cs_srvout_quote(argv[i]);
        cs_srvout_error("unknown option %s (see cigsync-server --help)", q);
        free(q);
        return S_EXIT_USAGE;
    }
    if (i == argc) {
        s_print_list();
        return S_EXIT_OK;
    }
    if (strcmp(argv[i], "help") == 0)
        return s_help(argc - i - 1, argv + i + 1);
    if ((c = s_find(argv[i])) == NULL)
        return s_unknown_command(argv[i]);
    return s_run(c, argc - i - 1, argv + i + 1);
}

int
main(int argc, char **argv)
{
    int code;

    cs_log_set_program(CS_SRVOUT_PROGRAM);
    code = s_main(argc, argv);
    /* A full disk or a closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cs_srvout_error("cannot write the output: %s", strerror(errno));
        return S_EXIT_FAILURE;
    }
    return code;
}
