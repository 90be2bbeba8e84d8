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

int
cs_file_save(const char *path, const void *p, size_t n)
{
    char *tmp = cs_xasprintf("%s.tmp%ld", path, (long)getpid());
    int fd, r = 0;

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = errno == EEXIST ? CS_ERR_EXISTS : CS_ERR_IO;
        goto out;
    }
    if (cs_file_write_all(fd, p, n) != 0 || fsync(fd) != 0) {
        r = CS_ERR_IO;
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        r = CS_ERR_IO;
        unlink(tmp);
        goto out;
    }
    r = cs_file_sync_dir(path);
out:
    free(tmp);
    return r;
}

int
cs_file_load(const char *path, size_t max, uint8_t **p, size_t *n)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t done = 0;
    int fd, r = 0;

    *p = NULL;
    *n = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CS_ERR_NOT_FOUND : CS_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        r = CS_ERR_IO;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    buf = cs_xmalloc((size_t)st.st_size + 1);
    while (done <= (size_t)st.st_size) {
        ssize_t k = read(fd, buf + done, (size_t)st.st_size + 1 - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = CS_ERR_IO;
            goto out;
        }
        if (k == 0)
            break;
        done += (size_t)k;
    }
    if (done > (size_t)st.st_size) {
        r = CS_ERR_TOO_BIG; /* grew while read */
        goto out;
    }
    *p = buf;
    *n = done;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return r;
}
