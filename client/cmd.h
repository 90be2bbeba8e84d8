/*  client/cmd.h - the commands of `cigsync`, as main.c dispatches them.
 *
 *  Each command gets the global options and its own arguments (argv[0] is
 *  the first argument after the command's name; `--json` and `--help` have
 *  been taken out by main.c).  It returns 0, CS_ERR_USAGE for a bad
 *  command line, or another CS_ERR_* for a failure, having printed the
 *  one error line itself (out.h).  Results go to stdout; notes for people
 *  to stderr.
 *
 *  cmd_record.c: add, set, rm, restore, list, show (one table's records).
 *  cmd_node.c:   init, status, conflicts, merge, key (the node as a
 *                whole).
 *  cmd_csv.c:    export, import (one table's records as a CSV or JSON
 *                file).  import prints one line per problem found in
 *                the file ("FILE:LINE:COLUMN: ..."), then its one error
 *                line.
 *  cmd_report.c: report (the programme's indicators, report.h).
 */
#ifndef CS_CMD_H
#define CS_CMD_H

#include <stdbool.h>

#include "attr.h"
#include "key.h"

/* Options given before the command, and --json. */
struct cs_cmd_ctx {
    const char *dir; /* node directory (-C or CIGSYNC_DIR), NULL if none */
    bool json;       /* --json: machine-readable output */
    int pass_fd;     /* --passphrase-fd N before the command, or -1 */
};

/* Environment variable naming the passphrase descriptor when no
   --passphrase-fd was given (for daemons started by a service manager). */
#define CS_CMD_PASSPHRASE_FD_ENV "CIGSYNC_PASSPHRASE_FD"

/* Returns true if arg looks like an option ("-x", "--xyz"); a lone "-"
   does not. */
bool cs_cmd_is_option(const char *arg) CS_NONNULL(1);

/* Matches argv[*i] against the option name, which takes a value given as
   the next argument or after '='.
     argc, argv  the command's arguments
     i           index of the argument; advanced past a separate value
     name        e.g. "--where"
     value       receives the value (points into argv)
   Returns 1 if it matched, 0 if argv[*i] is another argument, or
   CS_ERR_USAGE (printed) if the value is missing. */
int cs_cmd_option(int argc, char **argv, int *i, const char *name,
                  char **value) CS_MUST_CHECK CS_NONNULL(2, 3, 4, 5);

/* Parses value, the argument of option (or environment variable) what,
   as a file descriptor number: decimal digits, 0 to INT_MAX, into *fd.
   Returns 0, or CS_ERR_USAGE (printed). */
int cs_cmd_fd(const char *what, const char *value, int *fd) CS_MUST_CHECK
    CS_NONNULL(1, 2, 3);

/* Prints and returns the usage error for an option the command lacks. */
int cs_cmd_unknown_option(const char *cmd, const char *arg) CS_NONNULL(1, 2);

/* Prints "CMD: WHAT (see cigsync CMD --help)"; returns CS_ERR_USAGE. */
int cs_cmd_bad_args(const char *cmd, const char *what) CS_NONNULL(1, 2);

struct cs_store;
struct cs_table;

/* Finds table name in s into *out, or prints "CMD: no table "x" (tables:
   ...)" (no "CMD: " when cmd is NULL).  Returns 0 or CS_ERR_NO_TABLE. */
int cs_cmd_table(const char *cmd, struct cs_store *s, const char *name,
                 const struct cs_table **out) CS_MUST_CHECK CS_NONNULL(2, 3, 4);

struct cs_nodedir;

/* Opens the node directory named by ctx->dir into *out (owned by the
   caller).  Returns 0; CS_ERR_USAGE when no directory was given; or
   cs_nodedir_open()'s failure.  Prints the error line either way. */
int cs_cmd_open(const struct cs_cmd_ctx *ctx,
                struct cs_nodedir **out) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Loads the secret key of node directory d for a command that signs: the
   one way commands get it.  The passphrase of a protected key comes from
   ctx->pass_fd, else the descriptor in $CIGSYNC_PASSPHRASE_FD, else the
   terminal (cs_nodedir_key()).  Returns 0 and *out, owned by the caller
   (cs_key_destroy()); CS_ERR_USAGE for a bad $CIGSYNC_PASSPHRASE_FD; or
   cs_nodedir_key()'s failure.  Prints the error line either way. */
int cs_cmd_load_key(const struct cs_cmd_ctx *ctx, const struct cs_nodedir *d,
                    struct cs_key **out) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* The commands.  Each takes:
     ctx   the global options
     argc  the number of its arguments
     argv  its arguments (may be modified: field=value is split in place)
   and returns as described at the top of this file.  Their usage text is
   in main.c. */
int cs_cmd_init(const struct cs_cmd_ctx *ctx, int argc,
                char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_status(const struct cs_cmd_ctx *ctx, int argc,
                  char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_sync(const struct cs_cmd_ctx *ctx, int argc,
                char **argv) CS_MUST_CHECK;
int cs_cmd_bundle(const struct cs_cmd_ctx *ctx, int argc,
                  char **argv) CS_MUST_CHECK;
int cs_cmd_daemon(const struct cs_cmd_ctx *ctx, int argc,
                  char **argv) CS_MUST_CHECK;
int cs_cmd_conflicts(const struct cs_cmd_ctx *ctx, int argc,
                     char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_merge(const struct cs_cmd_ctx *ctx, int argc,
                 char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_key(const struct cs_cmd_ctx *ctx, int argc,
               char **argv) CS_MUST_CHECK CS_NONNULL(1);

int cs_cmd_add(const struct cs_cmd_ctx *ctx, int argc,
               char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_set(const struct cs_cmd_ctx *ctx, int argc,
               char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_rm(const struct cs_cmd_ctx *ctx, int argc, char **argv) CS_MUST_CHECK
    CS_NONNULL(1);
int cs_cmd_restore(const struct cs_cmd_ctx *ctx, int argc,
                   char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_list(const struct cs_cmd_ctx *ctx, int argc,
                char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_show(const struct cs_cmd_ctx *ctx, int argc,
                char **argv) CS_MUST_CHECK CS_NONNULL(1);

int cs_cmd_export(const struct cs_cmd_ctx *ctx, int argc,
                  char **argv) CS_MUST_CHECK CS_NONNULL(1);
int cs_cmd_import(const struct cs_cmd_ctx *ctx, int argc,
                  char **argv) CS_MUST_CHECK CS_NONNULL(1);

int cs_cmd_report(const struct cs_cmd_ctx *ctx, int argc,
                  char **argv) CS_MUST_CHECK CS_NONNULL(1);

/* cmd_sync.c: audit verify (an auditor node checks the server's log). */
int cs_cmd_audit(const struct cs_cmd_ctx *ctx, int argc,
                 char **argv) CS_MUST_CHECK CS_NONNULL(1);

#endif
