/*  common/log.h - logging to stderr with levels.
 *
 *  One line per event: "cigsync: LEVEL: message".  cs_log_err() adds the
 *  calling function and cs_strerror(r), as openssh's error_fr() does, so a
 *  log line names both where and what.  This is for operators; messages for
 *  the person at the command line are printed by the CLI itself.
 */
#ifndef CS_LOG_H
#define CS_LOG_H

#include "attr.h"

enum cs_log_level {
    CS_LOG_ERROR = 0, /* something failed */
    CS_LOG_WARN = 1,  /* something is wrong but work goes on */
    CS_LOG_INFO = 2,  /* one line per notable event */
    CS_LOG_DEBUG = 3  /* details for developers */
};

/* Sets the most verbose level that is printed (default CS_LOG_WARN, or the
   value of the CIGSYNC_LOG environment variable: none|error|warn|info|debug;
   fuzz runs use none). */
void cs_log_set_level(enum cs_log_level level);

/* Sets the program name printed before each line (default "cigsync");
   name must outlive every later log call. */
void cs_log_set_program(const char *name);

/* Returns true when messages at level would be printed. */
bool cs_log_enabled(enum cs_log_level level);

/* Prints one line at level. */
void cs_log(enum cs_log_level level, const char *fmt, ...) CS_PRINTF(2, 3);

/* Prints an error line naming func and cs_strerror(r). */
void cs_log_err_at(const char *func, int r, const char *fmt, ...)
    CS_PRINTF(3, 4);

#define cs_log_err(r, ...) cs_log_err_at(__func__, (r), __VA_ARGS__)
#define cs_log_warn(...) cs_log(CS_LOG_WARN, __VA_ARGS__)
#define cs_log_info(...) cs_log(CS_LOG_INFO, __VA_ARGS__)
#define cs_log_debug(...) cs_log(CS_LOG_DEBUG, __VA_ARGS__)

#endif
