/*  common/fileio.h - small durable-file helpers shared by modules that
 *  write files which must survive a crash (keys, configs, bundles).
 *
 *  Not a general file layer: just the two steps every careful writer in
 *  cigsync repeats.
 */
#ifndef CS_FILEIO_H
#define CS_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"

/* Writes all n bytes at p to fd, retrying short writes and EINTR.
   Returns 0 or CS_ERR_IO (errno says why). */
CS_MUST_CHECK int cs_file_write_all(int fd, const void *p, size_t n)
    CS_NONNULL(2);

/* fsync()s the directory holding path, so that a new name in it survives a
   crash.  File systems that cannot sync directories (EINVAL) pass.
   Returns 0 or CS_ERR_IO (logged). */
CS_MUST_CHECK int cs_file_sync_dir(const char *path) CS_NONNULL(1);

/* Writes n bytes at p as the file path, mode 0600, atomically: a
   temporary file beside it is written, synced and renamed over path, and
   the directory synced.  Returns 0, CS_ERR_EXISTS (a temporary file is in
   the way) or CS_ERR_IO (errno says why). */
CS_MUST_CHECK int cs_file_save(const char *path, const void *p, size_t n)
    CS_NONNULL(1);

/* Reads the regular file at path, of at most max bytes, into a malloc'd
   buffer *p of *n bytes.  Returns 0, CS_ERR_NOT_FOUND, CS_ERR_TOO_BIG, or
   CS_ERR_IO (not a regular file, or errno says why). */
CS_MUST_CHECK int cs_file_load(const char *path, size_t max, uint8_t **p,
                               size_t *n) CS_NONNULL(1, 3, 4);

#endif
