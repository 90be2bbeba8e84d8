/*  common/newdir.h - making a private directory for a node or a server,
 *  and undoing it when setting it up fails half way.
 *
 *  `cigsync init` and `cigsync-server init` both create a directory that
 *  will hold a secret key, a config and a replica.  It must not exist, or
 *  be empty; it is made (or made) mode 0700; and if any later step fails,
 *  what was made is removed and an existing directory gets its old mode
 *  back, so the person can simply run init again.  Messages are written to
 *  a buffer: each program prints them its own way.
 */
#ifndef CS_NEWDIR_H
#define CS_NEWDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "attr.h"

#define CS_NEWDIR_MODE 0700   /* holds a secret key: owner only */
#define CS_NEWDIR_FILES_MAX 8 /* files noted for undo */

/* A directory being set up; a value type for stack use. */
struct cs_newdir {
    const char *path;                       /* borrowed */
    bool existed;                           /* an empty one was there */
    mode_t old_mode;                        /* its permission bits then */
    bool made;                              /* cs_newdir_make created it */
    bool chmoded;                           /* ... or changed its mode */
    const char *files[CS_NEWDIR_FILES_MAX]; /* names made inside it */
    size_t nfiles;                          /* how many */
};

/* Starts setting up path (borrowed: it must outlive nd).  Cannot fail. */
void cs_newdir_init(struct cs_newdir *nd, const char *path) CS_NONNULL(1, 2);

/* Checks that the path does not exist or is an empty directory.  Returns
   0, CS_ERR_EXISTS (not empty, or not a directory) or CS_ERR_IO; err gets
   a sentence naming the path. */
int cs_newdir_check(struct cs_newdir *nd, char *err,
                    size_t errlen) CS_MUST_CHECK CS_NONNULL(1, 2);

/* Creates the directory mode 0700, or gives the empty one there that mode.
   Call after cs_newdir_check().  Returns 0 or CS_ERR_IO (err says why). */
int cs_newdir_make(struct cs_newdir *nd, char *err, size_t errlen) CS_MUST_CHECK
    CS_NONNULL(1, 2);

/* Notes that file name (a string that outlives nd) was made in it. */
void cs_newdir_note(struct cs_newdir *nd, const char *name) CS_NONNULL(1, 2);

/* Removes every noted file and the directory if it was made here, or
   gives an existing one its old mode back.  Quiet: it runs after the
   failure was told; problems are logged as warnings. */
void cs_newdir_undo(const struct cs_newdir *nd) CS_NONNULL(1);

#endif
