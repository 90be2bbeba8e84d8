/*  bench/audit_bench.c - `cigsync-server audit DIR verify` over a big log.
 *
 *      audit_bench [BATCHES [CHANGES_PER_BATCH [NODES]]]
 *
 *  (defaults 10000, 100, 10: a log of 1,000,000 changes).  Makes a server
 *  directory in a temporary place and logs BATCHES signed batches of
 *  realistic changes (bench/workload.h) from NODES enrolled offices, the
 *  way the server does for each batch it receives: one transaction that
 *  applies the batch to the consolidated replica, keeps it, appends its
 *  leaf and signs the new tree head.  Then runs `cigsync-server audit DIR
 *  verify` as a child process and prints its wall time and peak RSS (the
 *  child's alone, from wait4(), run by a launcher forked while this
 *  process was small).
 *
 *  Baseline, from the same run: the time the server took to take in the
 *  same batches (apply, keep, log, sign), so "verify / ingest" says what
 *  an audit costs against what the log cost to make.  Figures vary with
 *  the machine; the ratio less.  CS_BENCH_KEEP=1 keeps the server
 *  directory (for profiling) and prints where it is.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit.h"
#include "auditlog.h"
#include "batch.h"
#include "down.h"
#include "err.h"
#include "feedio.h"
#include "hlc.h"
#include "key.h"
#include "mem.h"
#include "registry.h"
#include "srvdir.h"
#include "workload.h"

#define S_NODES_MAX 64

static double
s_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct s_node {
    struct cs_key *key;
    struct cs_node_id id;
    struct cs_workload *w;
    size_t used; /* changes of w already sealed */
    uint64_t seq;
    uint8_t prev[CS_HASH_BYTES];
};

/* Seals and logs one batch of node n, as the server's s_apply() does. */
static int
s_one(struct cs_srvdir *d, const struct cs_key *server, struct s_node *n,
      size_t per, uint64_t *changes)
{
    struct cs_store *s = cs_srvdir_store(d);
    const struct cs_change *all;
    struct cs_change *ch;
    struct cs_writer out;
    struct cs_batch_ref ref;
    struct cs_leaf l;
    uint8_t hash[CS_HASH_BYTES];
    uint64_t now = cs_hlc_wall_ms();
    size_t count, k;
    int r;

    all = cs_workload_office_day(n->w, per, &count);
    k = count - n->used;
    ch = cs_xcalloc(k ? k : 1, sizeof *ch);
    for (size_t i = 0; i < k; i++) {
        ch[i] = all[n->used + i];
        ch[i].origin = n->id;
        if (ch[i].has_base)
            ch[i].base_origin = n->id;
    }
    n->used = count;
    cs_writer_init(&out, CS_BATCH_MAX);
    if ((r = cs_feedio_seal(n->key, cs_srvdir_deployment(d), n->seq + 1,
                            n->prev, ch, k, &out, hash, NULL)) != 0)
        goto out;
    memset(&ref, 0, sizeof ref);
    ref.origin = n->id;
    ref.seq = n->seq + 1;
    memcpy(ref.prev, n->prev, CS_HASH_BYTES);
    memcpy(ref.hash, hash, CS_HASH_BYTES);
    memset(&l, 0, sizeof l);
    l.kind = CS_LEAF_BATCH;
    l.at_ms = now;
    l.node = n->id;
    l.seq = ref.seq;
    memcpy(l.hash, hash, CS_HASH_BYTES);
    l.count = k;
    if ((r = cs_store_begin(s)) != 0)
        goto out;
    if ((r = cs_store_apply_batch(s, &ref, ch, k, NULL)) != 0 ||
        (r = cs_down_keep_batch(s, &n->id, ref.seq, hash, cs_writer_data(&out),
                                cs_writer_len(&out), now)) != 0 ||
        (r = cs_audit_append(s, &l, NULL)) != 0 ||
        (r = cs_audit_sign(s, server, cs_srvdir_deployment(d), now, NULL)) !=
            0) {
        cs_store_rollback(s);
        goto out;
    }
    if ((r = cs_store_commit(s)) != 0)
        goto out;
    n->seq++;
    memcpy(n->prev, hash, CS_HASH_BYTES);
    *changes += k;
out:
    cs_writer_free(&out);
    free(ch);
    return r;
}

/* The launcher: forked at the start, while this process is small, so
   that the verify it runs does not inherit our peak RSS (Linux counts the
   high-water mark of the memory an exec replaces in the new program's
   ru_maxrss).  It reads a directory name from fd in, runs
   `cigsync-server audit DIR verify`, and writes back its exit status,
   wall time and peak RSS. */
struct s_result {
    int status;
    double secs;
    long rss_kib;
};

static void
s_launcher(const char *server_bin, int in, int out)
{
    char dir[4096];
    struct s_result res;
    struct rusage ru;
    ssize_t n = read(in, dir, sizeof dir - 1);
    double t0;
    pid_t pid;

    memset(&res, 0, sizeof res);
    res.status = -1;
    if (n > 0) {
        dir[n] = '\0';
        t0 = s_now();
        pid = fork();
        if (pid == 0) {
            if (freopen("/dev/null", "w", stdout) == NULL)
                _exit(127);
            execl(server_bin, server_bin, "audit", dir, "verify", (char *)NULL);
            _exit(127);
        }
        if (pid > 0 && wait4(pid, &res.status, 0, &ru) == pid) {
            res.secs = s_now() - t0;
            res.rss_kib = ru.ru_maxrss;
            res.status = WIFEXITED(res.status) ? WEXITSTATUS(res.status) : -1;
        }
    }
    if (write(out, &res, sizeof res) != (ssize_t)sizeof res)
        _exit(1);
    _exit(0);
}

/* Asks the launcher to verify dir. */
static int
s_verify(int to, int from, const char *dir, double *secs, long *rss_kib)
{
    struct s_result res;

    if (write(to, dir, strlen(dir)) != (ssize_t)strlen(dir) ||
        read(from, &res, sizeof res) != (ssize_t)sizeof res)
        return -1;
    *secs = res.secs;
    *rss_kib = res.rss_kib;
    return res.status;
}

int
main(int argc, char **argv)
{
    unsigned long batches = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    unsigned long per = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    unsigned long nnodes = argc > 3 ? strtoul(argv[3], NULL, 10) : 10;
    struct s_node nodes[S_NODES_MAX];
    struct cs_srvdir *d = NULL;
    struct cs_key *server = NULL;
    char tmpl[] = "/tmp/cs-audit-bench-XXXXXX", *dir = NULL, *bin = NULL;
    char self[4096];
    uint64_t changes = 0;
    double t0, ingest, verify;
    long rss;
    ssize_t n;
    int down[2], up[2];
    pid_t launcher;
    int r = 1, rc;

    memset(nodes, 0, sizeof nodes);
    if (batches == 0 || per == 0 || nnodes == 0 || nnodes > S_NODES_MAX) {
        fprintf(stderr, "usage: audit_bench [BATCHES [CHANGES [NODES<=64]]]\n");
        return 2;
    }
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    bin = cs_xasprintf("%s/../server/cigsync-server", self);
    if (pipe(down) != 0 || pipe(up) != 0)
        return 1;
    launcher = fork();
    if (launcher < 0)
        return 1;
    if (launcher == 0) {
        close(down[1]);
        close(up[0]);
        s_launcher(bin, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    if (cs_crypto_init() != 0 || mkdtemp(tmpl) == NULL)
        return 1;
    dir = cs_xasprintf("%s/srv", tmpl);
    if (cs_srvdir_init(dir, "bench", "tcp://127.0.0.1:1", -1, &d) != 0 ||
        cs_srvdir_key(d, -1, &server) != 0 ||
        cs_down_install(cs_srvdir_store(d)) != 0 ||
        cs_audit_install(cs_srvdir_store(d)) != 0)
        goto out;
    for (unsigned long i = 0; i < nnodes; i++) {
        struct cs_registry_node rn, other;
        if (cs_key_generate(&nodes[i].key) != 0)
            goto out;
        cs_key_node_id(nodes[i].key, &nodes[i].id);
        nodes[i].w = cs_workload_new(1000 + i);
        memset(&rn, 0, sizeof rn);
        snprintf(rn.name, sizeof rn.name, "office-%lu", i);
        rn.role = CS_REGISTRY_SITE;
        snprintf(rn.office, sizeof rn.office, "ISF");
        rn.key = *cs_key_public(nodes[i].key);
        if (cs_registry_enroll(cs_srvdir_registry(d), &rn, cs_hlc_wall_ms(),
                               &other) != 0)
            goto out;
    }
    if (sqlite3_exec(cs_store_db(cs_srvdir_store(d)),
                     "PRAGMA synchronous = NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK)
        goto out;
    t0 = s_now();
    for (unsigned long b = 0; b < batches; b++) {
        if ((rc = s_one(d, server, &nodes[b % nnodes], per, &changes)) != 0) {
            fprintf(stderr, "audit_bench: batch %lu: %s: %s\n", b,
                    cs_strerror(rc), cs_store_errmsg(cs_srvdir_store(d)));
            goto out;
        }
    }
    ingest = s_now() - t0;
    cs_srvdir_destroy(&d);
    rc = s_verify(down[1], up[0], dir, &verify, &rss);
    if (rc != 0) {
        fprintf(stderr, "audit_bench: audit verify exited %d\n", rc);
        goto out;
    }
    printf("audit log: %lu batches of %lu changes from %lu offices = %" PRIu64
           " changes\n",
           batches, per, nnodes, changes);
    printf("ingest (baseline: apply, keep, log, sign per batch): %.2f s "
           "(%.0f changes/s)\n",
           ingest, (double)changes / ingest);
    printf("audit verify: %.2f s (%.0f changes/s), peak RSS %.1f MiB\n", verify,
           (double)changes / verify, (double)rss / 1024.0);
    printf("ratio verify / ingest: %.2f\n", verify / ingest);
    r = 0;
out:
    for (unsigned long i = 0; i < nnodes; i++) {
        cs_key_destroy(&nodes[i].key);
        cs_workload_destroy(&nodes[i].w);
    }
    cs_key_destroy(&server);
    cs_srvdir_destroy(&d);
    if (dir != NULL && getenv("CS_BENCH_KEEP") != NULL) {
        fprintf(stderr, "audit_bench: kept %s\n", dir);
    } else if (dir != NULL) {
        char *cmd = cs_xasprintf("rm -rf '%s'", tmpl);
        if (system(cmd) != 0)
            fprintf(stderr, "audit_bench: could not remove %s\n", tmpl);
        free(cmd);
    }
    free(dir);
    free(bin);
    close(down[1]); /* the launcher reads nothing and ends */
    close(up[0]);
    (void)waitpid(launcher, NULL, 0);
    return r;
}
