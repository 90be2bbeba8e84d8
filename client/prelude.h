/*  client/prelude.h - the one internal header every client/ module includes
 *  first (STYLE.md 2).
 *
 *  It holds all system and library includes of the `cigsync` program and the
 *  common/ headers the client builds on.  It is not part of any interface:
 *  client headers include only what their prototypes need.
 */
#ifndef CS_CLIENT_PRELUDE_H
#define CS_CLIENT_PRELUDE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>
#include <zmq.h>

#include "attr.h"
#include "config.h"
#include "err.h"
#include "hlc.h"
#include "id.h"
#include "key.h"
#include "log.h"
#include "mem.h"
#include "reader.h"
#include "store.h"

#endif
