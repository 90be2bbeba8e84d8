/*  common/fileio.c - durable-file helpers; see fileio.h.  */
#include "prelude.h"

#include "err.h"
#include "fileio.h"
#include "log.h"
#include "mem.h"

int
cs_file_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *bytes = p;
    size_t done = 0;

    while (done < n) {
        ssize_t w = write(fd, bytes + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO; /* no progress: report it as an I/O error */
        if (w <= 0)
            return CS_ERR_IO;
        done += (size_t)w;
    }
    return 0;
}

int
cs_file_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, r = 0;

    if (slash == NULL)
        dir = cs_xstrdup(".");
    else
        dir = cs_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        r = CS_ERR_IO;
        cs_log_err(r, "%s: %s", dir, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    return r;
}
