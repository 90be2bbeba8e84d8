/*  server/srvout.h - what `cigsync-server` prints for people and scripts:
 *  error lines, quoted arguments, JSON strings.
 *
 *  The contract of every server/ function that main.c's dispatcher calls
 *  and that returns a CS_ERR_* code: it has already printed exactly one
 *  line on stderr, through cs_srvout_error(), saying what is wrong; the
 *  dispatcher only turns the code into the exit status.  (registry.h does
 *  not print: it is also for the sync session, and hands its reasons back.)
 *
 *  A stop-gap, kept small on purpose.  client/out.c, text.c and json.c do
 *  the same with Unicode-aware escaping and a full JSON writer, but they
 *  live in client/, which the server may not use (ARCHITECTURE.md).  Until
 *  they move to common/, this module does what the admin commands need:
 *  what they print from the registry is ASCII checked on the way in
 *  (registry.h), so escaping C0 controls, DEL, '"' and '\' is enough.
 */
#ifndef CS_SRVOUT_H
#define CS_SRVOUT_H

#include <stdio.h>

#include "attr.h"

#define CS_SRVOUT_PROGRAM "cigsync-server" /* first word of error lines */

/* Prints "cigsync-server: MESSAGE" and a newline on stderr, with control
   bytes in the message escaped as \xNN, so it is always one line. */
void cs_srvout_error(const char *fmt, ...) CS_PRINTF(1, 2);

/* Returns s in double quotes, with '"' and '\' escaped by a backslash and
   control bytes as \xNN; malloc'd, the caller frees it. */
char *cs_srvout_quote(const char *s) CS_NONNULL(1);

/* Writes s to f as a JSON string (RFC 8259): '"' and '\' escaped, control
   bytes as \u00NN, everything else as it is (s must be UTF-8). */
void cs_srvout_json_str(FILE *f, const char *s) CS_NONNULL(1, 2);

#endif
