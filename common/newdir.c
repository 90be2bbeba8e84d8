/*  common/newdir.c - set up and undo a private directory; see newdir.h.  */
#include "prelude.h"

#include <dirent.h>

#include "err.h"
#include "log.h"
#include "mem.h"
#include "newdir.h"

#define S_MODE_BITS 07777 /* permission bits of st_mode */

void
cs_newdir_init(struct cs_newdir *nd, const char *path)
{
    memset(nd, 0, sizeof *nd);
    nd->path = path;
}

int
cs_newdir_check(struct cs_newdir *nd, char *err, size_t errlen)
{
    struct stat st;
    struct dirent *e;
    DIR *dir;
    int r = 0;

    nd->existed = false;
    if (lstat(nd->path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot use %s: %s", nd->path, strerror(errno));
        return CS_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s already exists and is not a directory",
                 nd->path);
        return CS_ERR_EXISTS;
    }
    if ((dir = opendir(nd->path)) == NULL) {
        snprintf(err, errlen, "cannot read directory %s: %s", nd->path,
                 strerror(errno));
        return CS_ERR_IO;
    }
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(err, errlen, "%s already exists and is not empty", nd->path);
        r = CS_ERR_EXISTS;
        break;
    }
    closedir(dir);
    nd->existed = true;
    nd->old_mode = st.st_mode & (mode_t)S_MODE_BITS;
    return r;
}

int
cs_newdir_make(struct cs_newdir *nd, char *err, size_t errlen)
{
    if (!nd->existed) {
        if (mkdir(nd->path, CS_NEWDIR_MODE) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", nd->path,
                     strerror(errno));
            return CS_ERR_IO;
        }
        nd->made = true;
    }
    /* mkdir() is subject to the umask; chmod() is not. */
    if (chmod(nd->path, CS_NEWDIR_MODE) != 0) {
        snprintf(err, errlen, "cannot make %s private: %s", nd->path,
                 strerror(errno));
        return CS_ERR_IO;
    }
    nd->chmoded = !nd->made;
    return 0;
}

void
cs_newdir_note(struct cs_newdir *nd, const char *name)
{
    for (size_t i = 0; i < nd->nfiles; i++)
        if (strcmp(nd->files[i], name) == 0)
            return;
    assert(nd->nfiles < CS_NEWDIR_FILES_MAX);
    if (nd->nfiles < CS_NEWDIR_FILES_MAX)
        nd->files[nd->nfiles++] = name;
}

void
cs_newdir_undo(const struct cs_newdir *nd)
{
    for (size_t i = nd->nfiles; i > 0; i--) {
        char *path = cs_xasprintf("%s/%s", nd->path, nd->files[i - 1]);
        if (unlink(path) != 0 && errno != ENOENT)
            cs_log_warn("could not remove %s: %s", path, strerror(errno));
        free(path);
    }
    if (nd->made && rmdir(nd->path) != 0)
        cs_log_warn("could not remove %s: %s", nd->path, strerror(errno));
    if (nd->chmoded && chmod(nd->path, nd->old_mode) != 0)
        cs_log_warn("could not restore the mode of %s: %s", nd->path,
                    strerror(errno));
}
