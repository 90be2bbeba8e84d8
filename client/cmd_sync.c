/*  client/cmd_sync.c - the sync commands: sync (one round) and daemon.  */
#include "prelude.h"

#include "cmd.h"
#include "log.h"
#include "mem.h"
#include "nodedir.h"
#include "out.h"
#include "sync.h"
#include "verify.h"

#define S_DECIMAL 10
#define S_TIMEOUT_MAX_S 86400 /* a day */

static volatile sig_atomic_t s_stop; /* set by SIGTERM and SIGINT */

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void
s_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Takes DIR/sync.lock: one sync or daemon per node at a time (two would
   hold two sessions of one node, and the server could end only one). */
static int
s_lock(const struct cs_nodedir *d, int *fd)
{
    char *path = cs_xasprintf("%s/sync.lock", cs_nodedir_path(d));
    int r = 0;

    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        cs_out_error("cannot open %s: %s", path, strerror(errno));
        r = CS_ERR_IO;
    } else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        cs_out_error("another cigsync sync or daemon is running for %s",
                     cs_nodedir_path(d));
        close(*fd);
        *fd = -1;
        r = CS_ERR_LOCKED;
    }
    free(path);
    return r;
}

/* Runs sync or daemon on the node directory of ctx. */
static int
s_run(const struct cs_cmd_ctx *ctx, struct cs_sync_opts *o)
{
    struct cs_nodedir *d = NULL;
    struct cs_key *k = NULL;
    struct cs_sync_result res;
    int lock_fd = -1, r;

    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    if ((r = s_lock(d, &lock_fd)) != 0 ||
        (r = cs_cmd_load_key(ctx, d, &k)) != 0)
        goto out;
    s_signals();
    o->stop = &s_stop;
    r = cs_sync_run(d, k, o, &res);
    if (r == 0 && !o->daemon && res.in_step) {
        printf("in step with the server: sent %" PRIu64 " batches (%" PRIu64
               " bytes, %" PRIu64 " resent), received %" PRIu64 " (%" PRIu64
               " changes, %" PRIu64 " bytes), %" PRIu64 " refused, %" PRIu64
               " sessions\n",
               res.batches_sent, res.bytes_sent, res.bytes_resent,
               res.batches_received, res.changes_received, res.bytes_received,
               res.refused, res.sessions);
    } else if (r == 0 && !o->daemon) {
        cs_out_error("interrupted before this replica was in step");
        r = CS_ERR_TIMEOUT;
    }
out:
    if (lock_fd >= 0)
        close(lock_fd); /* releases the lock */
    cs_key_destroy(&k);
    cs_nodedir_destroy(&d);
    return r;
}

int
cs_cmd_sync(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_sync_opts o;
    char *value, *end = NULL;
    int r;

    memset(&o, 0, sizeof o);
    o.timeout_ms = CS_SYNC_TIMEOUT_MS;
    o.progress = isatty(STDERR_FILENO) != 0;
    for (int i = 0; i < argc; i++) {
        if ((r = cs_cmd_option(argc, argv, &i, "--timeout", &value)) < 0)
            return r;
        if (r == 1) {
            long n = -1;
            errno = 0;
            if (value[0] >= '0' && value[0] <= '9')
                n = strtol(value, &end, S_DECIMAL);
            if (n < 1 || n > S_TIMEOUT_MAX_S || errno != 0 || *end != '\0')
                return cs_cmd_bad_args("sync", "--timeout needs a number of "
                                               "seconds, 1 to 86400");
            o.timeout_ms = (int)n * 1000;
            continue;
        }
        if (strcmp(argv[i], "--quiet") == 0) {
            o.progress = false;
            continue;
        }
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("sync", argv[i]);
        return cs_cmd_bad_args("sync", "takes no arguments");
    }
    return s_run(ctx, &o);
}

int
cs_cmd_daemon(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_sync_opts o;

    memset(&o, 0, sizeof o);
    o.daemon = true;
    for (int i = 0; i < argc; i++) {
        if (cs_cmd_is_option(argv[i]))
            return cs_cmd_unknown_option("daemon", argv[i]);
        return cs_cmd_bad_args("daemon", "takes no arguments");
    }
    if (getenv("CIGSYNC_LOG") == NULL)
        cs_log_set_level(CS_LOG_INFO);
    return s_run(ctx, &o);
}

/* ---- audit verify ----------------------------------------------------------
 */

static void
s_say(void *arg, const char *line)
{
    (void)arg;
    printf("problem: %s\n", line);
}

int
cs_cmd_audit(const struct cs_cmd_ctx *ctx, int argc, char **argv)
{
    struct cs_nodedir *d = NULL;
    struct cs_key *k = NULL;
    struct cs_sync_opts o;
    struct cs_sync_result res;
    struct cs_verify_report rep;
    struct cs_pubkey server;
    struct cs_node_id server_id;
    uint8_t dep[CS_DEPLOYMENT_BYTES];
    bool known;
    int lock_fd = -1, r;

    if (argc != 1 || strcmp(argv[0], "verify") != 0)
        return cs_cmd_bad_args("audit", "expected verify");
    memset(&o, 0, sizeof o);
    memset(&res, 0, sizeof res);
    o.timeout_ms = CS_SYNC_TIMEOUT_MS;
    o.fetch_log = true;
    if ((r = cs_cmd_open(ctx, &d)) != 0)
        return r;
    if ((r = s_lock(d, &lock_fd)) != 0 ||
        (r = cs_cmd_load_key(ctx, d, &k)) != 0)
        goto out;
    s_signals();
    o.stop = &s_stop;
    if ((r = cs_sync_run(d, k, &o, &res)) != 0)
        goto out;
    if (res.log == NULL) {
        cs_out_error("interrupted before the audit log was fetched");
        r = CS_ERR_TIMEOUT;
        goto out;
    }
    if ((r = cs_sync_server(d, &server, &server_id)) != 0 ||
        (r = cs_sync_deployment(cs_nodedir_store(d), dep, &known)) != 0)
        goto out;
    fprintf(stderr,
            "fetched the audit log (%zu bytes); verifying it against "
            "this replica\n",
            res.log_len);
    r = cs_verify_archive(res.log, res.log_len, dep, &server,
                          cs_nodedir_store(d), cs_nodedir_path(d), s_say, NULL,
                          &rep);
    if (r != 0 && r != CS_ERR_AUDIT) {
        cs_out_error("cannot verify the audit log: %s", cs_strerror(r));
        goto out;
    }
    cs_verify_print(stdout, &rep, "this replica");
    if (r == CS_ERR_AUDIT)
        cs_out_error("the audit log does not verify: %" PRIu64
                     " problems (listed above)",
                     rep.problems);
    else
        printf("the audit log verifies, independently of the server: every "
               "signature, chain link and tree head holds, it extends the "
               "head this node kept, and replaying it gives this replica "
               "exactly\n");
out:
    free(res.log);
    if (lock_fd >= 0)
        close(lock_fd);
    cs_key_destroy(&k);
    cs_nodedir_destroy(&d);
    return r;
}
