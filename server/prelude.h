/*  server/prelude.h - the one internal header every server/ module includes
 *  first (STYLE.md 2).
 *
 *  It holds all system and library includes of `cigsync-server` and the
 *  common/ and proto/ headers the server builds on.  It is not part of any
 *  interface: server headers include only what their prototypes need.
 *  libzmq joins this list with the sync session.
 */
#ifndef CS_SERVER_PRELUDE_H
#define CS_SERVER_PRELUDE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>
#include <zmq.h>

#include "attr.h"
#include "config.h"
#include "err.h"
#include "hlc.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "passphrase.h"
#include "proto.h"
#include "store.h"

#endif
