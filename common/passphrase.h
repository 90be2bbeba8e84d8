/*  common/passphrase.h - reading a passphrase from the terminal or from a
 *  file descriptor.
 *
 *  A person types a passphrase at the controlling terminal (/dev/tty, not
 *  stdin, so it works with redirected input, as ssh does) with echo off;
 *  a daemon or script hands it over on a file descriptor instead
 *  (`--passphrase-fd N`, as gpg does).  Either way the result is in
 *  sodium_malloc() memory (guard pages, locked, wiped on free) and must be
 *  given back with cs_passphrase_free().
 *
 *  The terminal's settings are restored on every path out, also when a
 *  signal arrives while echo is off: the signals that would stop or end
 *  the program (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGPIPE, and
 *  the job-control SIGTSTP, SIGTTIN, SIGTTOU) are caught, the terminal is
 *  restored, and the signal is raised again with the program's own
 *  handling; after a job-control stop the prompt is shown again, as
 *  OpenBSD's readpassphrase(3) does.
 *
 *  This module does not know what the passphrase protects (key.h) and does
 *  not print errors: callers turn the codes into messages.  Passphrases
 *  are bytes, not normalised; a passphrase is one line, so it cannot hold
 *  a newline.
 */
#ifndef CS_PASSPHRASE_H
#define CS_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#include "attr.h"

#define CS_PASSPHRASE_MAX 1024 /* longest passphrase accepted, bytes */

/* Asks for a passphrase on the controlling terminal with echo off.
     prompt   shown first, e.g. "Passphrase for node/node.key: "
     confirm  ask a second time and insist on the same answer (for new
              passphrases)
     out      receives the passphrase, NUL-terminated, in sodium_malloc()
              memory owned by the caller (cs_passphrase_free())
     len      receives its length in bytes, without the NUL
   Returns 0; CS_ERR_NOT_FOUND when there is no terminal to ask (no
   controlling terminal: a daemon, a cron job, `setsid`); CS_ERR_INVALID
   for an empty passphrase; CS_ERR_BAD_VALUE when the two answers differ;
   CS_ERR_TOO_BIG above CS_PASSPHRASE_MAX bytes; CS_ERR_IO when the
   terminal fails or a signal interrupted the reading (errno tells);
   CS_ERR_NOMEM.  On failure *out is NULL and *len 0. */
CS_MUST_CHECK int cs_passphrase_read_tty(const char *prompt, bool confirm,
                                         char **out, size_t *len)
    CS_NONNULL(1, 3, 4);

/* Reads a passphrase from file descriptor fd: one line, up to the first
   newline (not part of the passphrase) or the end of input, read a byte at
   a time so nothing after the line is consumed.  fd stays open.
     fd   the descriptor, e.g. a pipe or file the caller opened
     out  as for cs_passphrase_read_tty()
     len  as for cs_passphrase_read_tty()
   Returns 0; CS_ERR_INVALID for an empty passphrase (or nothing at all);
   CS_ERR_TOO_BIG above CS_PASSPHRASE_MAX bytes; CS_ERR_IO when read()
   fails, e.g. fd is not open (errno tells); CS_ERR_NOMEM.  On failure *out
   is NULL and *len 0. */
CS_MUST_CHECK int cs_passphrase_read_fd(int fd, char **out, size_t *len)
    CS_NONNULL(2, 3);

/* Wipes and frees a passphrase from the functions above; does nothing when
   p is NULL.  len is its length, as they returned it. */
void cs_passphrase_free(char *p, size_t len);

#endif
