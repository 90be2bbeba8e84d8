/*  common/log.c - levelled logging to stderr; see log.h.  */
#include "prelude.h"

#include "err.h"
#include "log.h"

static int s_level = -1;                  /* -1: not yet read from env */
static const char *s_program = "cigsync"; /* prefix of every line */

static const char *const s_names[] = {"error", "warning", "info", "debug"};

static void
s_init_level(void)
{
    const char *env = getenv("CIGSYNC_LOG");
    s_level = CS_LOG_WARN;
    if (env == NULL)
        return;
    if (strcmp(env, "none") == 0)
        s_level = -2;
    else if (strcmp(env, "error") == 0)
        s_level = CS_LOG_ERROR;
    else if (strcmp(env, "info") == 0)
        s_level = CS_LOG_INFO;
    else if (strcmp(env, "debug") == 0)
        s_level = CS_LOG_DEBUG;
}

void
cs_log_set_level(enum cs_log_level level)
{
    s_level = (int)level;
}

void
cs_log_set_program(const char *name)
{
    s_program = name;
}

bool
cs_log_enabled(enum cs_log_level level)
{
    if (s_level == -1)
        s_init_level();
    return (int)level <= s_level;
}

static void
s_vlog(enum cs_log_level level, const char *func, int r, const char *fmt,
       va_list ap)
{
    char line[1024];
    int n;

    if (!cs_log_enabled(level))
        return;
    n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        line[0] = '\0';
    if (func != NULL)
        fprintf(stderr, "%s: %s: %s: %s: %s\n", s_program, s_names[level], func,
                line, cs_strerror(r));
    else
        fprintf(stderr, "%s: %s: %s\n", s_program, s_names[level], line);
}

void
cs_log(enum cs_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void
cs_log_err_at(const char *func, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vlog(CS_LOG_ERROR, func, r, fmt, ap);
    va_end(ap);
}
