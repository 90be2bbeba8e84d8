/*  common/fileio.h - small durable-file helpers shared by modules that
 *  write files which must survive a crash (keys, configs, bundles).
 *
 *  Not a general file layer: just the two steps every careful writer in
 *  cigsync repeats.
 */
#ifndef CS_FILEIO_H
#define CS_FILEIO_H

#include <stddef.h>

#include "attr.h"

/* Writes all n bytes at p to fd, retrying short writes and EINTR.
   Returns 0 or CS_ERR_IO (errno says why). */
CS_MUST_CHECK int cs_file_write_all(int fd, const void *p, size_t n)
    CS_NONNULL(2);

/* fsync()s the directory holding path, so that a new name in it survives a
   crash.  File systems that cannot sync directories (EINVAL) pass.
   Returns 0 or CS_ERR_IO (logged). */
CS_MUST_CHECK int cs_file_sync_dir(const char *path) CS_NONNULL(1);

#endif
