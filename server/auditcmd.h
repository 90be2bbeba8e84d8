/*  server/auditcmd.h - `cigsync-server audit DIR log|verify`: what the
 *  auditor reads (who changed what, old value to new, when, from which
 *  node and batch, accepted or refused and why) and the proof that the
 *  log and the consolidated replica were not altered (audit/verify.h).
 */
#ifndef CS_AUDITCMD_H
#define CS_AUDITCMD_H

#include <stdint.h>

#include "attr.h"

/* What `audit log` lists; NULL fields do not filter. */
struct cs_auditcmd_filter {
    const char *office, *node, *table, *id, *field;
    uint64_t since_ms, until_ms; /* 0: no bound */
    const char *format;          /* "text", "csv" or "json" */
};

/* Verifies the log of server directory dir and prints a summary; exit
   code as for every command: 0, or the error (printed). */
CS_MUST_CHECK int cs_auditcmd_verify(const char *dir) CS_NONNULL(1);

/* Lists the log of server directory dir, filtered, on stdout. */
CS_MUST_CHECK int cs_auditcmd_log(const char *dir,
                                  const struct cs_auditcmd_filter *f)
    CS_NONNULL(1, 2);

/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]" (UTC) into ms since the
   epoch; end_of_day: a date alone means its last millisecond.  Returns 0
   or CS_ERR_INVALID. */
CS_MUST_CHECK int cs_auditcmd_time(const char *text, bool end_of_day,
                                   uint64_t *ms) CS_NONNULL(1, 3);

#endif
