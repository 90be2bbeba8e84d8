/*  common/prelude.h - the one internal header every common/ module includes
 *  first.
 *
 *  It holds all system and library includes of common/, the attribute macros
 *  (CS_MUST_CHECK, CS_NONNULL, CS_PRINTF) and nothing else.  It is not part of
 *  the public interface of any module: headers include only what their
 *  prototypes need.
 */
#ifndef CS_PRELUDE_H
#define CS_PRELUDE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <sodium.h>
#include <sqlite3.h>

#include "attr.h"

#endif
