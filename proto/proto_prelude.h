/*  proto/proto_prelude.h - the one internal header every proto/ module includes
 *  first (STYLE.md 2): system and library includes, and common/'s attribute
 *  macros.  proto/ uses libc, libsodium, msgpack-c (encoding only) and
 *  libzstd; never SQLite or ZeroMQ.
 */
#ifndef CS_PROTO_PRELUDE_H
#define CS_PROTO_PRELUDE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>
#include <zstd.h>

#include "attr.h"

#endif
