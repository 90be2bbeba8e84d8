/*  client/main.c - `cigsync`, the office program: global options and
 *  command dispatch.
 *
 *      cigsync [-C DIR] [--passphrase-fd N] [--json] COMMAND [ARGS]
 *
 *  This file knows the list of commands, their usage text and the exit
 *  codes; the commands themselves live in cmd_*.c (cmd.h).  Exit status:
 *  0 success, 1 failure, 2 bad command line.  Every failure prints one
 *  line on stderr starting "cigsync: " (out.h).
 */
#include "prelude.h"

#include "cmd.h"
#include "out.h"

#define S_EXIT_OK 0          /* success */
#define S_EXIT_FAILURE 1     /* the command failed */
#define S_EXIT_USAGE 2       /* bad command line */
#define S_EXIT_UNREACHABLE 3 /* sync: the server could not be reached */
#define S_EXIT_REFUSED 4     /* sync: the server refused this node */
#define S_EXIT_DIFFERS 5     /* sync: content differs after a repair */
#define S_EXIT_AUDIT 6       /* sync: the server's audit log is inconsistent */
#define S_NAME_WIDTH 10      /* command names are padded to this in the list */

/* One command. */
struct s_command {
    const char *name; /* as typed */
    int (*run)(const struct cs_cmd_ctx *ctx, int argc, char **argv);
    const char *args;    /* synopsis after the name */
    const char *summary; /* one line for the command list */
    const char *help;    /* details for `cigsync NAME --help` */
    bool json;           /* takes --json */
    bool secret;         /* needs the secret key: takes --passphrase-fd */
};

static const struct s_command s_commands[] = {
    {"init", cs_cmd_init,
     "DIR --name NAME --office CODE [--server ENDPOINT --server-key "
     "IDENTITY]\n"
     "               [--deployment HEX] [--passphrase | --passphrase-fd N]",
     "create a node directory",
     "Creates DIR (which must not exist, or be empty) with mode 0700 and in\n"
     "it a new secret key (node.key, mode 0600), an empty replica\n"
     "(replica.db) and the config.  NAME is the node's display name (1-64\n"
     "bytes, no control characters); CODE its office code (2-8 of A-Z 0-9).\n"
     "Prints the node's identity (cs1:...) on stdout: the server's\n"
     "administrator enrols it.  Other details go to stderr.\n"
     "\n"
     "--server and --server-key name the server to sync with: its endpoint\n"
     "(tcp://HOST:PORT) and its identity (cs1:..., what cigsync-server init\n"
     "printed).  --deployment HEX (also printed there) lets the node make\n"
     "bundles before its first sync; otherwise the first sync learns it.\n"
     "\n"
     "--passphrase asks twice on the terminal for a passphrase and seals the\n"
     "key with it (Argon2id, about half a second); --passphrase-fd N reads\n"
     "it from file descriptor N instead, one line.  Every command that needs\n"
     "the key then asks for it (see cigsync key).  A forgotten passphrase\n"
     "cannot be recovered: the node must be made and enrolled again.\n"
     "Without either option the key is stored unsealed, guarded only by its\n"
     "file mode.\n",
     false, false},
    {"add", cs_cmd_add, "TABLE FIELD=VALUE ...", "add a record",
     "Adds a record to TABLE and prints its new id.  VALUE is everything\n"
     "after the first '='; an empty VALUE means NULL.  office_id defaults\n"
     "to this node's office; give id=... to choose the id yourself.\n",
     false, false},
    {"set", cs_cmd_set, "TABLE ID FIELD=VALUE ...", "change fields of a record",
     "Sets the given fields of record ID.  An empty VALUE means NULL.\n"
     "Setting a field again settles its conflicts (see conflicts).\n",
     false, false},
    {"rm", cs_cmd_rm, "TABLE ID", "delete a record",
     "Deletes record ID.  The delete syncs to other offices and wins over\n"
     "their concurrent edits; `cigsync restore` brings the record back.\n",
     false, false},
    {"restore", cs_cmd_restore, "TABLE ID", "restore a deleted record",
     "Restores deleted record ID with the latest value of every field,\n"
     "including edits that arrived while it was deleted.\n",
     false, false},
    {"list", cs_cmd_list, "TABLE [--where FIELD=VALUE]... [--json]",
     "list records",
     "Lists the records of TABLE in id order, all fields.  --where keeps\n"
     "records whose FIELD equals VALUE (empty VALUE: FIELD is NULL); several\n"
     "--where must all hold.  As text, cells longer than 40 columns are cut\n"
     "with \"...\"; with --json, prints an array of objects with every field\n"
     "in full: integers and reals as numbers, NULL as null, text as strings,\n"
     "blobs as strings of standard base64 (RFC 4648, with padding).\n",
     true, false},
    {"show", cs_cmd_show, "TABLE ID [--json]", "show a record and its history",
     "Shows every field of record ID, then its history: when, by whom and\n"
     "what (inserted, set FIELD = VALUE, deleted, restored, acknowledged\n"
     "conflict).  A deleted record shows \"(deleted)\" and its history.\n"
     "--json prints an object: table, id, state (live, deleted or\n"
     "incomplete), fields (null unless live) and history.\n",
     true, false},
    {"export", cs_cmd_export, "TABLE [--format csv|json] [-o FILE]",
     "write a table's records to a file",
     "Writes every record of TABLE, all fields in schema order, to FILE\n"
     "(replaced atomically) or to stdout.  csv (the default) is for\n"
     "spreadsheets: UTF-8 with a byte order mark, CRLF line ends, RFC 4180\n"
     "quoting, a header row of field names, NULL as an empty field; BLOB\n"
     "fields (attachment.content) are left out, with a note.  json is an\n"
     "array of objects as `list --json` prints (blobs as base64).\n"
     "Exporting personal data (a restricted table, or a personal field:\n"
     "see zz_table) is recorded as a data_export record, which syncs.\n",
     false, false},
    {"import", cs_cmd_import, "TABLE FILE.csv",
     "add and change records from a CSV file",
     "Reads FILE.csv (a header row of field names of TABLE, then one\n"
     "record per row; UTF-8, byte order mark optional, CRLF or LF) and\n"
     "checks every row before writing any: all rows are imported or none.\n"
     "A row whose id is a record here updates the fields given (an empty\n"
     "field clears one); other rows are added, with their id or a new one.\n"
     "Each problem is printed as FILE:LINE:COLUMN: FIELD: what is wrong\n"
     "(lines of the file, the header being line 1): unknown fields, wrong\n"
     "number of fields, bad quoting, values the schema refuses, ids of\n"
     "missing records in *_id fields, rows of an office this node may not\n"
     "write (a node writes its own office's rows; every office's with\n"
     "`role = central` in DIR/config).  Prints \"imported N rows (I\n"
     "inserted, U updated)\".\n",
     false, false},
    {"status", cs_cmd_status, "[--json]", "show this node's state",
     "Shows the node's name, id, office, identity and paths, whether its\n"
     "key is protected by a passphrase (never asking for it), the local\n"
     "changes not yet sent, the size of the change log, the number of\n"
     "conflicts, the replica's clock and the time of the last sync.\n",
     true, false},
    {"conflicts", cs_cmd_conflicts, "[--json]",
     "list concurrent edits that lost",
     "Lists every conflict: a value written without its writer having seen\n"
     "the value that now wins (or the delete that removed the row).  Both\n"
     "are shown with who wrote them and when.  Set the field again to\n"
     "settle a conflict, or restore the row.\n",
     true, false},
    {"sync", cs_cmd_sync, "[--timeout SECONDS] [--quiet]",
     "sync with the server once",
     "Connects to the server (config: server, server_key), sends this\n"
     "node's changes the server lacks, applies the server's, and exits 0\n"
     "once this replica and the server are in step (their digests of the\n"
     "content in this node's scope agree).  On a terminal it shows what it\n"
     "sent and received; --quiet turns that off.  Exit status: 0 in step;\n"
     "1 failure (a message says what); 2 bad command line; 3 the server\n"
     "could not be reached for --timeout seconds (default 15); 4 the server\n"
     "refused this node (not enrolled, or revoked); 5 the content still\n"
     "differs from the server's after a repair; 6 the server's audit log\n"
     "is not consistent with the signed tree head this node kept (an\n"
     "ALARM: the server's history may have been rewritten).  A dropped\n"
     "link is resumed where it stopped.\n",
     false, true},
    {"daemon", cs_cmd_daemon, "", "keep syncing while the server is reachable",
     "Syncs in the foreground until SIGTERM or SIGINT: connects whenever the\n"
     "server is reachable (retrying with back-off up to a minute), sends\n"
     "local edits, made with cigsync or any SQLite tool, within about a\n"
     "second, and applies what the server sends as it arrives.  Logs one\n"
     "line per session on stderr (CIGSYNC_LOG=warn|info|debug).  Exits 4\n"
     "if the server revokes this node.\n",
     false, true},
    {"bundle", cs_cmd_bundle, "export FILE | import FILE",
     "carry changes by file when there is no link",
     "export writes FILE with every batch of this node that the server has\n"
     "not acknowledged (pending changes are sealed first), encrypted for the\n"
     "server: carry it to the server, which applies it with\n"
     "`cigsync-server bundle import`.  import applies FILE, made by\n"
     "`cigsync-server bundle export --for NAME`, as a sync would.\n"
     "Importing a bundle twice applies nothing new.  A bundle for another\n"
     "node, from another server, damaged or truncated is refused.\n",
     false, true},
    {"audit", cs_cmd_audit, "verify",
     "verify the server's audit log independently",
     "Syncs, then fetches the server's whole audit log (auditor and\n"
     "central nodes only) and checks it here, trusting nothing the server\n"
     "says that can be checked: every batch signature (with the keys the\n"
     "log's enrolments name) and chain link, every signed tree head (with\n"
     "the server key in DIR/config), that the log extends the tree head\n"
     "this node kept, and that replaying the log gives this replica\n"
     "exactly.  Lists every problem and exits 1 if there is any; 6 if the\n"
     "server's log contradicts the head this node kept.\n",
     false, true},
    {"merge", cs_cmd_merge, "OTHERDIR", "take in another node's changes",
     "Applies every change held by the replica in node directory OTHERDIR\n"
     "to this one, as a sync would, and prints how many were new.  For\n"
     "demonstrations and tests; it is not a sync and does not change the\n"
     "last sync time.\n",
     false, false},
    {"report", cs_cmd_report,
     "[--period FROM..TO] [--office CODE] [--format text|csv|json|html]\n"
     "               [-o FILE]",
     "compute the programme's indicators",
     "Computes, from this replica alone, the indicators the central office\n"
     "reports (README.md \"Reports\" defines each exactly): people trained\n"
     "(by sex, age band, vulnerability and office), CIGs engaged in\n"
     "advocacy, letters sent, responses and outcomes by kind, and plan\n"
     "progress (actions done, planned, overdue).\n"
     "\n"
     "--period FROM..TO counts what happened on those days, both included\n"
     "(dates YYYY-MM-DD); without it every record counts.  Overdue means\n"
     "planned before TO (without a period: before today).  --office CODE\n"
     "reports on that office only.  --format: text (default; tables),\n"
     "csv (UTF-8 with BOM, CRLF, one section per indicator, for Excel and\n"
     "LibreOffice), json (one object, as --json) or html (one page with\n"
     "charts, no scripts, printable).  -o FILE writes FILE atomically\n"
     "instead of stdout.  The replica is only read.\n",
     true, false},
    {"key", cs_cmd_key, "check", "check the node's secret key",
     "Loads the node's secret key (DIR/node.key), checks that it is the key\n"
     "of the identity in DIR/config, and prints \"key ok: IDENTITY\".\n"
     "A key protected by a passphrase needs it, as every command that signs\n"
     "does: from --passphrase-fd N, else from the file descriptor in\n"
     "$CIGSYNC_PASSPHRASE_FD, else asked on the terminal (three tries).\n"
     "Fails with one line on stderr if the key is missing, unreadable, not\n"
     "this node's, or the passphrase is wrong.\n",
     false, true},
};

#define S_NCOMMANDS (sizeof s_commands / sizeof *s_commands)

static void
s_print_list(FILE *f)
{
    fprintf(f, "usage: cigsync [-C DIR] [--passphrase-fd N] [--json] COMMAND "
               "[ARGS]\n\n"
               "Keeps this office's replica of the programme's records.\n\n"
               "commands:\n");
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        fprintf(f, "  %-*s %s\n", S_NAME_WIDTH, s_commands[i].name,
                s_commands[i].summary);
    fprintf(f, "  %-*s %s\n", S_NAME_WIDTH, "help",
            "show this list, or a command's usage");
    fprintf(f, "\noptions:\n"
               "  -C DIR       the node directory (default: $CIGSYNC_DIR)\n"
               "  --passphrase-fd N\n"
               "               read the passphrase of a protected key from\n"
               "               file descriptor N, one line (default:\n"
               "               $CIGSYNC_PASSPHRASE_FD, else ask on the\n"
               "               terminal)\n"
               "  --json       machine-readable output (list, show, status,\n"
               "               conflicts, report)\n"
               "  --version    print the version\n"
               "  -h, --help   print this list\n"
               "\nExit status: 0 success, 1 failure, 2 bad command line.\n"
               "Run `cigsync COMMAND --help` for a command's usage.\n");
}

static void
s_print_usage(const struct s_command *c)
{
    printf("usage: cigsync [-C DIR] %s %s\n\n%s.\n\n%s", c->name, c->args,
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
    char *q = cs_out_quote(name);

    cs_out_error("unknown command %s (see cigsync help)", q);
    free(q);
    return S_EXIT_USAGE;
}

static int
s_help(int argc, char **argv)
{
    const struct s_command *c;

    if (argc == 0) {
        s_print_list(stdout);
        return S_EXIT_OK;
    }
    if (argc > 1) {
        cs_out_error("help: expected at most one COMMAND");
        return S_EXIT_USAGE;
    }
    if ((c = s_find(argv[0])) == NULL)
        return s_unknown_command(argv[0]);
    s_print_usage(c);
    return S_EXIT_OK;
}

/* Runs command c with its arguments, after taking out --help, --json and,
   for commands that need the secret key, --passphrase-fd N. */
static int
s_run(const struct s_command *c, struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    char **args = cs_xcalloc((size_t)argc + 1, sizeof *args);
    char *value;
    int nargs = 0, r;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            free(args);
            s_print_usage(c);
            return S_EXIT_OK;
        }
    }
    for (int i = 0; i < argc; i++) {
        if (c->secret && (r = cs_cmd_option(argc, argv, &i, "--passphrase-fd",
                                            &value)) != 0) {
            if (r < 0 ||
                cs_cmd_fd("--passphrase-fd", value, &ctx->pass_fd) != 0) {
                free(args);
                return S_EXIT_USAGE;
            }
            continue;
        }
        if (strcmp(argv[i], "--json") != 0) {
            args[nargs++] = argv[i];
            continue;
        }
        if (!c->json) {
            free(args);
            cs_cmd_unknown_option(c->name, argv[i]);
            return S_EXIT_USAGE;
        }
        ctx->json = true;
    }
    r = c->run(ctx, nargs, args);
    free(args);
    if (r == 0)
        return S_EXIT_OK;
    if (c->run == cs_cmd_sync || c->run == cs_cmd_daemon ||
        c->run == cs_cmd_audit) {
        if (r == CS_ERR_TIMEOUT)
            return S_EXIT_UNREACHABLE;
        if (r == CS_ERR_REVOKED)
            return S_EXIT_REFUSED;
        if (r == CS_ERR_CHAIN)
            return S_EXIT_DIFFERS;
        if (r == CS_ERR_AUDIT)
            return S_EXIT_AUDIT;
    }
    return r == CS_ERR_USAGE ? S_EXIT_USAGE : S_EXIT_FAILURE;
}

static int
s_main(int argc, char **argv)
{
    struct cs_cmd_ctx ctx = {NULL, false, -1};
    const struct s_command *c;
    const char *env;
    char *q, *value;
    int i = 1, r;

    for (; i < argc && cs_cmd_is_option(argv[i]); i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-C") == 0 && i + 1 < argc) {
            ctx.dir = argv[++i];
            continue;
        }
        if (strcmp(arg, "-C") == 0) {
            cs_out_error("-C needs a directory (see cigsync --help)");
            return S_EXIT_USAGE;
        }
        if (strncmp(arg, "-C", 2) == 0) {
            ctx.dir = arg + 2;
            continue;
        }
        if (strcmp(arg, "--json") == 0) {
            ctx.json = true;
            continue;
        }
        if ((r = cs_cmd_option(argc, argv, &i, "--passphrase-fd", &value)) !=
            0) {
            if (r < 0 || cs_cmd_fd("--passphrase-fd", value, &ctx.pass_fd) != 0)
                return S_EXIT_USAGE;
            continue;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("cigsync %s\n", CS_VERSION);
            return S_EXIT_OK;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_print_list(stdout);
            return S_EXIT_OK;
        }
        q = cs_out_quote(arg);
        cs_out_error("unknown option %s (see cigsync --help)", q);
        free(q);
        return S_EXIT_USAGE;
    }
    if (i == argc) {
        s_print_list(stdout);
        return S_EXIT_OK;
    }
    if (strcmp(argv[i], "help") == 0)
        return s_help(argc - i - 1, argv + i + 1);
    if ((c = s_find(argv[i])) == NULL)
        return s_unknown_command(argv[i]);
    if (ctx.json && !c->json) {
        cs_cmd_unknown_option(c->name, "--json");
        return S_EXIT_USAGE;
    }
    if (ctx.dir == NULL && (env = getenv("CIGSYNC_DIR")) != NULL &&
        env[0] != '\0')
        ctx.dir = env;
    if (ctx.dir != NULL && ctx.dir[0] == '\0') {
        cs_out_error("-C needs a directory (see cigsync --help)");
        return S_EXIT_USAGE;
    }
    return s_run(c, &ctx, argc - i - 1, argv + i + 1);
}

int
main(int argc, char **argv)
{
    int code = s_main(argc, argv);

    /* A full disk or a closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cs_out_error("cannot write the output: %s", strerror(errno));
        return S_EXIT_FAILURE;
    }
    return code;
}
