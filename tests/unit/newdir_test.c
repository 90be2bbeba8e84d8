/*  tests/unit/newdir_test.c - setting up a node's private directory and
 *  undoing it (common/newdir.c), as `cigsync init` and `cigsync-server
 *  init` do when a step fails half way.
 */
#define _GNU_SOURCE
#include "test.h"

#include "err.h"
#include "newdir.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[] = "/tmp/cs_newdir_test_XXXXXX";

static void
touch(const char *dir, const char *name)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f != NULL)
        fclose(f);
}

static bool
exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void
test_make_and_undo(void)
{
    char dir[256], err[256];
    struct cs_newdir nd;
    struct stat st;
    snprintf(dir, sizeof dir, "%s/node", base);
    cs_newdir_init(&nd, dir);
    CS_CHECK_INT(cs_newdir_check(&nd, err, sizeof err), 0);
    CS_CHECK_INT(cs_newdir_make(&nd, err, sizeof err), 0);
    CS_REQUIRE(stat(dir, &st) == 0);
    CS_CHECK_INT(st.st_mode & 0777, 0700);
    touch(dir, "node.key");
    cs_newdir_note(&nd, "node.key");
    touch(dir, "not-ours"); /* never noted: undo must not remove it */
    cs_newdir_undo(&nd);
    CS_CHECK(!exists(dir, "node.key"));
    CS_CHECK(exists(dir, "not-ours"));
    {
        char path[512];
        snprintf(path, sizeof path, "%s/not-ours", dir);
        unlink(path);
        rmdir(dir);
    }
}

static void
test_existing_empty_dir_gets_mode_back(void)
{
    char dir[256], err[256];
    struct cs_newdir nd;
    struct stat st;
    snprintf(dir, sizeof dir, "%s/empty", base);
    CS_REQUIRE(mkdir(dir, 0755) == 0 && chmod(dir, 0755) == 0);
    cs_newdir_init(&nd, dir);
    CS_CHECK_INT(cs_newdir_check(&nd, err, sizeof err), 0);
    CS_CHECK_INT(cs_newdir_make(&nd, err, sizeof err), 0);
    CS_REQUIRE(stat(dir, &st) == 0);
    CS_CHECK_INT(st.st_mode & 0777, 0700);
    touch(dir, "config");
    cs_newdir_note(&nd, "config");
    cs_newdir_undo(&nd);
    CS_REQUIRE(stat(dir, &st) == 0); /* it was there before: kept */
    CS_CHECK_INT(st.st_mode & 0777, 0755);
    CS_CHECK(!exists(dir, "config"));
    rmdir(dir);
}

static void
test_refuses_non_empty_and_files(void)
{
    char dir[256], file[512], err[256];
    struct cs_newdir nd;
    snprintf(dir, sizeof dir, "%s/full", base);
    CS_REQUIRE(mkdir(dir, 0700) == 0);
    touch(dir, "something");
    cs_newdir_init(&nd, dir);
    CS_CHECK_INT(cs_newdir_check(&nd, err, sizeof err), CS_ERR_EXISTS);
    CS_CHECK(strstr(err, "not empty") != NULL);
    CS_CHECK(exists(dir, "something"));
    snprintf(file, sizeof file, "%s/something", dir);
    cs_newdir_init(&nd, file);
    CS_CHECK_INT(cs_newdir_check(&nd, err, sizeof err), CS_ERR_EXISTS);
    CS_CHECK(strstr(err, "not a directory") != NULL);
    unlink(file);
    rmdir(dir);
}

static const struct cs_test_case cases[] = {
    {"make_and_undo", test_make_and_undo},
    {"existing_empty_dir_gets_mode_back",
     test_existing_empty_dir_gets_mode_back},
    {"refuses_non_empty_and_files", test_refuses_non_empty_and_files},
    {NULL, NULL}};

int
main(int argc, char **argv)
{
    int r;
    if (mkdtemp(base) == NULL)
        return 1;
    r = cs_test_run(cases, argc, argv);
    rmdir(base);
    return r;
}
