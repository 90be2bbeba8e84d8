/*  client/cmd.c - argument helpers shared by the commands; see cmd.h.  */
#include "prelude.h"

#include "cmd.h"
#include "nodedir.h"
#include "out.h"

bool
cs_cmd_is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

int
cs_cmd_option(int argc, char **argv, int *i, const char *name, char **value)
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
        cs_out_error("%s needs a value (see --help)", name);
        return CS_ERR_USAGE;
    }
    *i += 1;
    *value = argv[*i];
    return 1;
}

int
cs_cmd_fd(const char *what, const char *value, int *fd)
{
    char *end = NULL;
    long n;

    *fd = -1;
    errno = 0;
    n = value[0] >= '0' && value[0] <= '9' ? strtol(value, &end, 10) : -1;
    if (n < 0 || n > INT_MAX || errno != 0 || end == NULL || *end != '\0') {
        char *q = cs_out_quote(value);
        cs_out_error("%s needs a file descriptor number, not %s", what, q);
        free(q);
        return CS_ERR_USAGE;
    }
    *fd = (int)n;
    return 0;
}

int
cs_cmd_unknown_option(const char *cmd, const char *arg)
{
    char *q = cs_out_quote(arg);

    cs_out_error("%s: unknown option %s (see cigsync %s --help)", cmd, q, cmd);
    free(q);
    return CS_ERR_USAGE;
}

int
cs_cmd_bad_args(const char *cmd, const char *what)
{
    cs_out_error("%s: %s (see cigsync %s --help)", cmd, what, cmd);
    return CS_ERR_USAGE;
}

int
cs_cmd_open(const struct cs_cmd_ctx *ctx, struct cs_nodedir **out)
{
    *out = NULL;
    if (ctx->dir == NULL) {
        cs_out_error("no node directory: use -C DIR or set CIGSYNC_DIR");
        return CS_ERR_USAGE;
    }
    return cs_nodedir_open(ctx->dir, out);
}

int
cs_cmd_load_key(const struct cs_cmd_ctx *ctx, const struct cs_nodedir *d,
                struct cs_key **out)
{
    const char *env = getenv(CS_CMD_PASSPHRASE_FD_ENV);
    int fd = ctx->pass_fd;
    int r;

    *out = NULL;
    if (fd < 0 && env != NULL && env[0] != '\0' &&
        (r = cs_cmd_fd(CS_CMD_PASSPHRASE_FD_ENV, env, &fd)) != 0)
        return r;
    return cs_nodedir_key(d, fd, out);
}

int
cs_cmd_table(const char *cmd, struct cs_store *s, const char *name,
             const struct cs_table **out)
{
    struct cs_out_buf b;
    char *list, *q;

    *out = cs_store_table(s, name);
    if (*out != NULL)
        return 0;
    cs_out_buf_open(&b);
    for (size_t i = 0; i < cs_store_table_count(s); i++)
        fprintf(b.f, "%s%s", i ? ", " : "", cs_store_table_at(s, i)->name);
    list = cs_out_buf_close(&b);
    q = cs_out_quote(name);
    cs_out_error("%s%sno table %s (tables: %s)", cmd ? cmd : "",
                 cmd ? ": " : "", q, list);
    free(q);
    free(list);
    return CS_ERR_NO_TABLE;
}
