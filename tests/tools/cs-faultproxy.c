/*  tests/tools/cs-faultproxy.c - a fault-injecting TCP proxy for tests.
 *
 *      cs-faultproxy --listen HOST:PORT --to HOST:PORT [--port-file FILE]
 *                    [--cut-every MIN:MAX] [--cut-after-ms MIN:MAX]
 *                    [--stall-every MIN:MAX --stall-ms MS] [--delay-ms MS]
 *                    [--rate BYTES_PER_S] [--seed N] [--stats FILE]
 *                    [--max-cuts N]
 *
 *  It sits between a client and a server on loopback and forwards bytes
 *  both ways, breaking the link on purpose: it cuts connections (both
 *  sides closed with RST) after a random number of bytes or milliseconds,
 *  stalls them, delays every byte and caps the throughput, so end-to-end
 *  tests can check that cigsync survives a bad network, reproducibly
 *  (--seed).  It is not a general proxy: no TLS, no SOCKS, no protection
 *  against hostile peers beyond fixed bounds; it is meant for tests and for
 *  latency emulation in a link lab.  See usage() below for every option.
 *
 *  Design.  One thread, one poll(2) loop, non-blocking sockets.  Each
 *  connection has two directions (up = client to server, down = server to
 *  client); each direction is a ring buffer, allocated once when the
 *  connection opens (64 KiB, or 4 MiB with --delay-ms, whose untouched
 *  pages cost nothing), never per byte.  A direction reads while its ring
 *  has room and writes what it may: bytes that are due (--delay-ms), that
 *  the token bucket allows (--rate), and no more than the bytes left
 *  before the next cut or stall, so a cut happens after exactly the drawn
 *  number of forwarded bytes.  "Forwarded" means written to the other
 *  side; the byte counts of cuts, stalls and the stats file all count
 *  that.
 *
 *  Delay: each read appends an arrival mark (due time, end offset) to a
 *  fixed ring of marks; bytes become sendable when their mark is due.
 *  Reads close together share one mark (within max(1 ms, delay/1024)), so
 *  the marks never run out before the 4 MiB ring does, and every byte is
 *  delayed by at least the given time and at most that window more.  An
 *  end of stream is delayed like the bytes before it: shutdown(SHUT_WR)
 *  reaches the other side once the ring is empty and the delay has passed.
 *
 *  Errors.  A reset or error on either side of a connection resets the
 *  other (SO_LINGER 0), as a broken path would.  SIGTERM and SIGINT reach
 *  the loop through a self-pipe, so a signal between the check and poll()
 *  is not lost; the proxy then closes everything, writes the stats file and
 *  exits 0.  Exit 1: a run-time failure (bind, listen, the port file);
 *  exit 2: a bad command line.  Every event is one line on stderr,
 *  starting "cs-faultproxy: ".
 *
 *  This tool is built with the system's libc only (no cigsync libraries),
 *  so it uses malloc and stderr directly rather than cs_xmalloc and
 *  cs_log (STYLE.md 19, 20).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define S_PROGRAM "cs-faultproxy"
#define S_EXIT_OK 0      /* clean shutdown on a signal */
#define S_EXIT_FAILURE 1 /* a run-time failure */
#define S_EXIT_USAGE 2   /* bad command line */

#define S_CONN_MAX 256      /* concurrent connections (64 asked for) */
#define S_BACKLOG 128       /* listen(2) queue */
#define S_ACCEPT_ROUNDS 16  /* accepts per wakeup, then others get a turn */
#define S_PUMP_ROUNDS 16    /* read/write rounds per connection per wakeup */
#define S_RING_BYTES 65536u /* ring per direction without --delay-ms */
#define S_DELAY_RING_BYTES (4u * 1024 * 1024) /* with --delay-ms */
#define S_MARKS_MAX 2048u      /* arrival marks per direction, a power of two */
#define S_MARK_SHARE_DIV 1024u /* marks share a window of delay/this */
#define S_RATE_BURST_MS 20u    /* token bucket depth, in ms of --rate */
#define S_RATE_MAX 10000000000ull /* --rate bound, bytes/s (10 GB/s) */
#define S_MS_MAX 86400000ull      /* bound on every time option (1 day) */
#define S_BYTES_MAX (1ull << 62)  /* bound on every byte count option */
#define S_PATH_MAX 4096           /* longest --port-file / --stats path */
#define S_TMP_SUFFIX ".tmp"       /* atomic rewrite: FILE.tmp, rename */
#define S_LOG_LINE_MAX 512        /* one stderr line */
#define S_STATS_TEXT_MAX 256      /* the whole stats file */
#define S_ADDR_TEXT_MAX 128       /* "host:port" of a peer, for the log */
#define S_PORT_MAX 65535          /* largest TCP port */
#define S_PORT_TEXT_MAX 8         /* "65535" and its NUL */
#define S_NS_PER_MS 1000000ull    /* nanoseconds per millisecond */
#define S_NS_PER_S 1000000000ull  /* nanoseconds per second */
#define S_MS_PER_S 1000ull        /* milliseconds per second */
#define S_NEVER UINT64_MAX        /* a time or byte count never reached */

/* splitmix64 (Steele, Lea, Flood 2014; Vigna's reference code): a small
   generator that is good enough for test faults and fully determined by
   --seed. */
#define S_SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull
#define S_SPLITMIX_MUL1 0xbf58476d1ce4e5b9ull
#define S_SPLITMIX_MUL2 0x94d049bb133111ebull

/* An inclusive range MIN:MAX given on the command line. */
struct s_range {
    uint64_t min; /* smallest value drawn */
    uint64_t max; /* largest value drawn, >= min */
    bool set;     /* the option was given */
};

/* The command line, checked. */
struct s_opts {
    const char *listen;         /* --listen HOST:PORT */
    const char *to;             /* --to HOST:PORT */
    const char *port_file;      /* --port-file, or NULL */
    const char *stats_file;     /* --stats, or NULL */
    struct s_range cut_bytes;   /* --cut-every, bytes per connection */
    struct s_range cut_ms;      /* --cut-after-ms, ms per connection */
    struct s_range stall_bytes; /* --stall-every, bytes between stalls */
    uint64_t stall_ms;          /* --stall-ms, length of a stall */
    uint64_t delay_ms;          /* --delay-ms, 0 for none */
    uint64_t rate;              /* --rate in bytes/s, 0 for no cap */
    uint64_t seed;              /* --seed, or drawn from the clock */
    uint64_t max_cuts;          /* --max-cuts, S_NEVER for no limit */
};

/* Bytes of one read that become sendable together. */
struct s_mark {
    uint64_t first_ns; /* when the first of these bytes arrived + delay */
    uint64_t due_ns;   /* when the last of them arrived + delay */
    uint64_t end;      /* ring offset just past the last of them */
};

/* One direction of a connection: bytes read from src, not yet written to
   dst.  Offsets are totals since the connection opened; the ring index is
   the offset modulo cap. */
struct s_dir {
    uint8_t *ring;        /* cap bytes */
    size_t cap;           /* ring size, a power of two */
    uint64_t head;        /* bytes written to dst (forwarded) */
    uint64_t tail;        /* bytes read from src */
    uint64_t released;    /* bytes before this offset are due */
    struct s_mark *marks; /* S_MARKS_MAX arrival marks, NULL without delay */
    uint32_t mark_first;  /* index of the oldest mark */
    uint32_t mark_count;  /* marks in use */
    uint64_t credit;      /* token bucket: bytes times S_NS_PER_S */
    uint64_t credit_ns;   /* when credit was last topped up */
    uint64_t eof_due_ns;  /* when src's end of stream may reach dst */
    bool eof;             /* src has sent its end of stream */
    bool shut;            /* dst has been shut down for writing */
    const char *src_name; /* "client" or "server", for the log */
};

enum s_state {
    S_FREE = 0,       /* slot unused */
    S_CONNECTING = 1, /* client accepted, upstream connect in progress */
    S_OPEN = 2        /* forwarding */
};

/* One proxied connection: a client socket and its upstream socket. */
struct s_conn {
    enum s_state state;      /* see enum s_state */
    uint64_t id;             /* 1, 2, ... in order of accept */
    int client;              /* accepted socket */
    int server;              /* upstream socket */
    struct s_dir up;         /* client to server */
    struct s_dir down;       /* server to client */
    uint64_t opened_ns;      /* when the client was accepted */
    uint64_t forwarded;      /* bytes forwarded, both directions */
    uint64_t cut_at;         /* cut when forwarded reaches this */
    uint64_t cut_ns;         /* cut at this time */
    uint64_t stall_at;       /* stall when forwarded reaches this */
    uint64_t stall_until_ns; /* no forwarding before this time */
    uint64_t wake_ns;        /* earliest timer, from s_conn_plan() */
    size_t pfd;              /* index of the client's pollfd, or SIZE_MAX */
};

/* The whole proxy. */
struct s_proxy {
    struct s_opts opts;              /* the command line */
    int listener;                    /* listening socket */
    struct sockaddr_storage to;      /* upstream address */
    socklen_t to_len;                /* its length */
    uint64_t rng;                    /* splitmix64 state */
    uint64_t burst;                  /* token bucket depth in bytes */
    uint64_t mark_share_ns;          /* reads this close share a mark */
    uint64_t connections;            /* connections accepted */
    uint64_t cuts;                   /* connections cut */
    uint64_t bytes_up;               /* bytes forwarded client to server */
    uint64_t bytes_down;             /* bytes forwarded server to client */
    struct s_conn conns[S_CONN_MAX]; /* connection slots */
};

static volatile sig_atomic_t s_signal; /* the signal that asked us to stop */
static int s_signal_pipe = -1;         /* write end of the self-pipe */

static uint64_t
s_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static void s_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints one line on stderr, "cs-faultproxy: " first, in one write so
   lines of concurrent processes do not interleave. */
static void
s_log(const char *fmt, ...)
{
    char line[S_LOG_LINE_MAX];
    size_t len = sizeof S_PROGRAM + 1; /* "cs-faultproxy: " */
    memcpy(line, S_PROGRAM ": ", len);
    size_t room = sizeof line - len - 1; /* keeps a byte for the '\n' */
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, room, fmt, ap);
    va_end(ap);
    if (m > 0)
        len += s_min((size_t)m, room - 1);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

static void
s_usage(FILE *f)
{
    fprintf(
        f,
        "usage: " S_PROGRAM " --listen HOST:PORT --to HOST:PORT [options]\n"
        "\n"
        "Forwards TCP connections from --listen to --to, injecting faults.\n"
        "\n"
        "  --listen HOST:PORT      where to accept; port 0 picks a free one\n"
        "  --to HOST:PORT          the server each connection is sent to\n"
        "  --port-file FILE        write the listening port to FILE\n"
        "                          (atomically) once listening\n"
        "  --cut-every MIN:MAX     reset a connection (both sides) once MIN\n"
        "                          to MAX bytes, drawn per connection, have\n"
        "                          been forwarded in both directions\n"
        "  --cut-after-ms MIN:MAX  reset a connection MIN to MAX ms after it\n"
        "                          was accepted\n"
        "  --stall-every MIN:MAX   with --stall-ms: each time MIN to MAX more\n"
        "  --stall-ms MS           bytes have been forwarded, pause both\n"
        "                          directions of that connection for MS ms\n"
        "  --delay-ms MS           delay every byte by MS ms each way\n"
        "                          (buffers up to 4 MiB per direction, then\n"
        "                          stops reading)\n"
        "  --rate BYTES_PER_S      cap the throughput of each direction\n"
        "  --seed N                seed of the random draws (default: the\n"
        "                          clock; logged at start)\n"
        "  --stats FILE            rewrite FILE (atomically) at start, on\n"
        "                          every cut and close, and at exit with:\n"
        "                          connections N, cuts N, bytes_up N,\n"
        "                          bytes_down N (up = client to server)\n"
        "  --max-cuts N            cut no more than N connections\n"
        "  -h, --help              print this help\n"
        "\n"
        "A single N is accepted for MIN:MAX.  SIGTERM or SIGINT stop the\n"
        "proxy (exit 0); exit 1 is a run-time failure, 2 a bad command "
        "line.\n");
}

static void s_die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Reports a bad command line and exits 2. */
static void
s_die_usage(const char *fmt, ...)
{
    char msg[S_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s_log("%s (see --help)", msg);
    exit(S_EXIT_USAGE);
}

/* Parses a decimal number in [0, max] that is the whole of text; strtoull
   alone would take "-1", " 7" and "7x". */
static bool
s_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    *out = 0;
    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = (uint64_t)v;
    return true;
}

static uint64_t
s_opt_u64(const char *opt, const char *text, uint64_t min, uint64_t max)
{
    uint64_t v;
    if (!s_parse_u64(text, max, &v) || v < min)
        s_die_usage("%s: '%s' is not a whole number from %" PRIu64
                    " to %" PRIu64,
                    opt, text, min, max);
    return v;
}

/* Parses "MIN:MAX" or "N" into r. */
static void
s_opt_range(const char *opt, const char *text, uint64_t min, uint64_t max,
            struct s_range *r)
{
    char buf[S_LOG_LINE_MAX];
    size_t len = strlen(text);
    if (len >= sizeof buf)
        s_die_usage("%s: value too long", opt);
    memcpy(buf, text, len + 1);
    char *colon = strchr(buf, ':');
    if (colon != NULL)
        *colon = '\0';
    const char *hi = colon != NULL ? colon + 1 : buf;
    if (!s_parse_u64(buf, max, &r->min) || r->min < min ||
        !s_parse_u64(hi, max, &r->max) || r->max < min)
        s_die_usage("%s: '%s' is not MIN:MAX with whole numbers from %" PRIu64
                    " to %" PRIu64,
                    opt, text, min, max);
    if (r->min > r->max)
        s_die_usage("%s: MIN %" PRIu64 " is greater than MAX %" PRIu64, opt,
                    r->min, r->max);
    r->set = true;
}

static const char *
s_opt_path(const char *opt, const char *text)
{
    if (text[0] == '\0' || strlen(text) + sizeof S_TMP_SUFFIX > S_PATH_MAX)
        s_die_usage("%s: the path is empty or longer than %d bytes", opt,
                    S_PATH_MAX - (int)sizeof S_TMP_SUFFIX);
    return text;
}

/* Resolves "HOST:PORT" (HOST may be "[v6]") into addr. */
static void
s_opt_addr(const char *opt, const char *text, bool passive,
           struct sockaddr_storage *addr, socklen_t *addr_len)
{
    char host[S_ADDR_TEXT_MAX];
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= sizeof host)
        s_die_usage("%s: '%s' is not HOST:PORT", opt, text);
    size_t host_len = (size_t)(colon - text);
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        memmove(host, host + 1, host_len - 2);
        host[host_len - 2] = '\0';
    }
    uint64_t port;
    if (!s_parse_u64(colon + 1, S_PORT_MAX, &port) || (!passive && port == 0))
        s_die_usage("%s: '%s' has no valid port", opt, text);

    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    struct addrinfo *res = NULL;
    int r = getaddrinfo(host, colon + 1, &hints, &res);
    if (r != 0)
        s_die_usage("%s: cannot resolve '%s': %s", opt, host, gai_strerror(r));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

/* Fills opts from argv, or exits 2 (or 0 for --help). */
static void
s_parse_args(int argc, char **argv, struct s_opts *opts)
{
    bool stall_ms_set = false;
    bool seed_set = false;
    memset(opts, 0, sizeof *opts);
    opts->max_cuts = S_NEVER;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            s_usage(stdout);
            exit(S_EXIT_OK);
        }
        if (strncmp(arg, "--", 2) != 0)
            s_die_usage("unexpected argument '%s'", arg);
        /* --name VALUE or --name=VALUE */
        char name[S_LOG_LINE_MAX];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        if (name_len >= sizeof name)
            s_die_usage("unknown option '%s'", arg);
        memcpy(name, arg, name_len);
        name[name_len] = '\0';
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            s_die_usage("%s needs a value", name);
        }

        if (strcmp(name, "--listen") == 0) {
            opts->listen = value;
        } else if (strcmp(name, "--to") == 0) {
            opts->to = value;
        } else if (strcmp(name, "--port-file") == 0) {
            opts->port_file = s_opt_path(name, value);
        } else if (strcmp(name, "--stats") == 0) {
            opts->stats_file = s_opt_path(name, value);
        } else if (strcmp(name, "--cut-every") == 0) {
            s_opt_range(name, value, 0, S_BYTES_MAX, &opts->cut_bytes);
        } else if (strcmp(name, "--cut-after-ms") == 0) {
            s_opt_range(name, value, 0, S_MS_MAX, &opts->cut_ms);
        } else if (strcmp(name, "--stall-every") == 0) {
            /* 0 would stall forever: each stall would start the next */
            s_opt_range(name, value, 1, S_BYTES_MAX, &opts->stall_bytes);
        } else if (strcmp(name, "--stall-ms") == 0) {
            opts->stall_ms = s_opt_u64(name, value, 0, S_MS_MAX);
            stall_ms_set = true;
        } else if (strcmp(name, "--delay-ms") == 0) {
            opts->delay_ms = s_opt_u64(name, value, 0, S_MS_MAX);
        } else if (strcmp(name, "--rate") == 0) {
            opts->rate = s_opt_u64(name, value, 1, S_RATE_MAX);
        } else if (strcmp(name, "--seed") == 0) {
            opts->seed = s_opt_u64(name, value, 0, UINT64_MAX);
            seed_set = true;
        } else if (strcmp(name, "--max-cuts") == 0) {
            opts->max_cuts = s_opt_u64(name, value, 0, S_BYTES_MAX);
        } else {
            s_die_usage("unknown option '%s'", name);
        }
    }
    if (opts->listen == NULL)
        s_die_usage("--listen HOST:PORT is required");
    if (opts->to == NULL)
        s_die_usage("--to HOST:PORT is required");
    if (opts->stall_bytes.set != stall_ms_set)
        s_die_usage("--stall-every and --stall-ms go together");
    if (!seed_set) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        opts->seed = (uint64_t)ts.tv_sec * S_NS_PER_S + (uint64_t)ts.tv_nsec;
        opts->seed ^= (uint64_t)getpid() << 32;
    }
}

static uint64_t
s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * S_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
s_rand(struct s_proxy *px)
{
    uint64_t z = (px->rng += S_SPLITMIX_GAMMA);
    z = (z ^ (z >> 30)) * S_SPLITMIX_MUL1;
    z = (z ^ (z >> 27)) * S_SPLITMIX_MUL2;
    return z ^ (z >> 31);
}

/* Draws a value in [r->min, r->max]. */
static uint64_t
s_rand_range(struct s_proxy *px, const struct s_range *r)
{
    uint64_t span = r->max - r->min;
    /* the modulo bias is at most span / 2^64: irrelevant for tests */
    return r->min + s_rand(px) % (span + 1);
}

/* Writes text to path by writing path.tmp and renaming it, so a reader
   sees the old or the new file, never half of one.  Returns 0 or -1 (the
   failure is logged). */
static int
s_write_atomic(const char *path, const char *text)
{
    char tmp[S_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s%s", path, S_TMP_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1; /* s_opt_path() bounded the length */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        s_log("cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s_log("cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        s_log("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void
s_write_stats(const struct s_proxy *px)
{
    if (px->opts.stats_file == NULL)
        return;
    char text[S_STATS_TEXT_MAX];
    snprintf(text, sizeof text,
             "connections %" PRIu64 "\ncuts %" PRIu64 "\nbytes_up %" PRIu64
             "\nbytes_down %" PRIu64 "\n",
             px->connections, px->cuts, px->bytes_up, px->bytes_down);
    (void)s_write_atomic(px->opts.stats_file, text);
}

static int
s_set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

/* Small writes go out at once: Nagle would add its own delays to ours. */
static void
s_set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Closes fd so that the peer gets a RST rather than a FIN. */
static void
s_close_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void
s_dir_free(struct s_dir *d)
{
    free(d->ring);
    free(d->marks);
    memset(d, 0, sizeof *d);
}

/* Ends c: with reset, both sides get a RST, else a normal close. */
static void
s_conn_close(struct s_proxy *px, struct s_conn *c, bool reset)
{
    if (c->client >= 0) {
        if (reset)
            s_close_reset(c->client);
        else
            close(c->client);
    }
    if (c->server >= 0) {
        if (reset)
            s_close_reset(c->server);
        else
            close(c->server);
    }
    s_dir_free(&c->up);
    s_dir_free(&c->down);
    memset(c, 0, sizeof *c);
    c->state = S_FREE;
    c->client = -1;
    c->server = -1;
    c->pfd = SIZE_MAX;
    s_write_stats(px);
}

static uint64_t
s_conn_ms(const struct s_conn *c, uint64_t now)
{
    return (now - c->opened_ns) / S_NS_PER_MS;
}

/* Cuts c if it has reached its byte count or time; returns true if it was
   cut (c is then free). */
static bool
s_conn_check_cut(struct s_proxy *px, struct s_conn *c, uint64_t now)
{
    bool by_bytes = c->forwarded >= c->cut_at;
    bool by_time = now >= c->cut_ns;
    if (!by_bytes && !by_time)
        return false;
    if (px->cuts >= px->opts.max_cuts) {
        c->cut_at = S_NEVER;
        c->cut_ns = S_NEVER;
        return false;
    }
    px->cuts++;
    s_log("cut connection %" PRIu64 " after %" PRIu64 " bytes, %" PRIu64
          " ms (%s limit; cut %" PRIu64 ")",
          c->id, c->forwarded, s_conn_ms(c, now), by_bytes ? "byte" : "time",
          px->cuts);
    s_conn_close(px, c, true);
    return true;
}

/* Starts a stall if c has forwarded enough bytes since the last one. */
static void
s_conn_check_stall(struct s_proxy *px, struct s_conn *c, uint64_t now)
{
    if (c->forwarded < c->stall_at)
        return;
    c->stall_until_ns = now + px->opts.stall_ms * S_NS_PER_MS;
    c->stall_at = c->forwarded + s_rand_range(px, &px->opts.stall_bytes);
    s_log("stall connection %" PRIu64 " for %" PRIu64 " ms after %" PRIu64
          " bytes",
          c->id, px->opts.stall_ms, c->forwarded);
}

static bool
s_conn_stalled(const struct s_conn *c, uint64_t now)
{
    return now < c->stall_until_ns;
}

static int
s_dir_init(struct s_proxy *px, struct s_dir *d, const char *src_name,
           uint64_t now)
{
    memset(d, 0, sizeof *d);
    d->src_name = src_name;
    d->cap = px->opts.delay_ms > 0 ? S_DELAY_RING_BYTES : S_RING_BYTES;
    d->ring = malloc(d->cap);
    if (d->ring == NULL)
        return -1;
    if (px->opts.delay_ms > 0) {
        d->marks = malloc(S_MARKS_MAX * sizeof *d->marks);
        if (d->marks == NULL)
            return -1;
    }
    d->credit = px->burst * S_NS_PER_S;
    d->credit_ns = now;
    return 0;
}

/* Moves d->released past every mark that is due. */
static void
s_dir_release(struct s_dir *d, uint64_t now)
{
    if (d->marks == NULL) {
        d->released = d->tail;
        return;
    }
    while (d->mark_count > 0 && d->marks[d->mark_first].due_ns <= now) {
        d->released = d->marks[d->mark_first].end;
        d->mark_first = (d->mark_first + 1) & (S_MARKS_MAX - 1);
        d->mark_count--;
    }
}

/* Records that the bytes up to d->tail arrived at now. */
static void
s_dir_mark(struct s_proxy *px, struct s_dir *d, uint64_t now)
{
    if (d->marks == NULL)
        return;
    uint64_t due = now + px->opts.delay_ms * S_NS_PER_MS;
    if (d->mark_count > 0) {
        uint32_t last = (d->mark_first + d->mark_count - 1) & (S_MARKS_MAX - 1);
        struct s_mark *m = &d->marks[last];
        if (due - m->first_ns < px->mark_share_ns) {
            m->due_ns = due;
            m->end = d->tail;
            return;
        }
    }
    /* s_dir_can_read() keeps one mark free */
    uint32_t slot = (d->mark_first + d->mark_count) & (S_MARKS_MAX - 1);
    d->marks[slot].first_ns = due;
    d->marks[slot].due_ns = due;
    d->marks[slot].end = d->tail;
    d->mark_count++;
}

/* Tops up the token bucket of d. */
static void
s_dir_refill(struct s_proxy *px, struct s_dir *d, uint64_t now)
{
    uint64_t full = px->burst * S_NS_PER_S;
    uint64_t elapsed = now - d->credit_ns;
    d->credit_ns = now;
    /* compare times first: elapsed * rate could overflow */
    if (elapsed >= (full - d->credit) / px->opts.rate + 1) {
        d->credit = full;
        return;
    }
    d->credit = s_min(full, d->credit + elapsed * px->opts.rate);
}

static bool
s_dir_can_read(const struct s_conn *c, const struct s_dir *d, uint64_t now)
{
    return c->state == S_OPEN && !s_conn_stalled(c, now) && !d->eof &&
           d->tail - d->head < d->cap &&
           (d->marks == NULL || d->mark_count < S_MARKS_MAX);
}

/* Returns how many bytes d could write now, in one contiguous piece,
   leaving the token bucket aside: bytes that are due and not past the
   next cut or stall. */
static uint64_t
s_dir_ready(struct s_conn *c, struct s_dir *d, uint64_t now)
{
    if (c->state != S_OPEN || s_conn_stalled(c, now) || d->shut)
        return 0;
    s_dir_release(d, now);
    size_t off = (size_t)(d->head & (d->cap - 1));
    uint64_t n = s_min(d->released - d->head, d->cap - off);
    /* forwarded < cut_at and < stall_at: the checks after each write */
    if (c->cut_at != S_NEVER)
        n = s_min(n, c->cut_at - c->forwarded);
    if (c->stall_at != S_NEVER)
        n = s_min(n, c->stall_at - c->forwarded);
    return n;
}

/* Returns the credit d must hold before it writes ready bytes: all of
   them, or a quantum (half the bucket) if there are more.  Writing as soon
   as one byte's worth has trickled in would send a few bytes per wakeup
   and spin the loop. */
static uint64_t
s_dir_credit_needed(const struct s_proxy *px, uint64_t ready)
{
    uint64_t quantum = px->burst / 2 > 0 ? px->burst / 2 : 1;
    return s_min(ready, quantum) * S_NS_PER_S;
}

/* Returns how many bytes d may write now: s_dir_ready(), if the token
   bucket allows them. */
static size_t
s_dir_sendable(struct s_proxy *px, struct s_conn *c, struct s_dir *d,
               uint64_t now)
{
    uint64_t n = s_dir_ready(c, d, now);
    if (n == 0 || px->opts.rate == 0)
        return (size_t)n;
    s_dir_refill(px, d, now);
    if (d->credit < s_dir_credit_needed(px, n))
        return 0;
    return (size_t)s_min(n, d->credit / S_NS_PER_S);
}

static bool
s_errno_again(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Moves bytes of d from src to dst as far as it can without blocking.
   Sets *progress if anything happened; returns false if c was closed. */
static bool
s_dir_pump(struct s_proxy *px, struct s_conn *c, struct s_dir *d, int src,
           int dst, uint64_t now, bool *progress)
{
    if (s_dir_can_read(c, d, now)) {
        size_t off = (size_t)(d->tail & (d->cap - 1));
        size_t room = d->cap - (size_t)(d->tail - d->head);
        ssize_t r = recv(src, d->ring + off, s_min(room, d->cap - off), 0);
        if (r > 0) {
            d->tail += (uint64_t)r;
            s_dir_mark(px, d, now);
            *progress = true;
        } else if (r == 0) {
            d->eof = true;
            d->eof_due_ns = now + px->opts.delay_ms * S_NS_PER_MS;
            *progress = true;
        } else if (!s_errno_again()) {
            s_log("connection %" PRIu64 ": %s: %s; resetting", c->id,
                  d->src_name, strerror(errno));
            s_conn_close(px, c, true);
            return false;
        }
    }

    size_t n = s_dir_sendable(px, c, d, now);
    if (n > 0) {
        size_t off = (size_t)(d->head & (d->cap - 1));
        ssize_t w = send(dst, d->ring + off, n, MSG_NOSIGNAL);
        if (w < 0 && !s_errno_again()) {
            s_log("connection %" PRIu64 ": sending %s's bytes: %s; resetting",
                  c->id, d->src_name, strerror(errno));
            s_conn_close(px, c, true);
            return false;
        }
        if (w > 0) {
            d->head += (uint64_t)w;
            c->forwarded += (uint64_t)w;
            if (d == &c->up)
                px->bytes_up += (uint64_t)w;
            else
                px->bytes_down += (uint64_t)w;
            if (px->opts.rate > 0)
                d->credit -= (uint64_t)w * S_NS_PER_S;
            *progress = true;
            if (s_conn_check_cut(px, c, now))
                return false;
            s_conn_check_stall(px, c, now);
        }
    }

    /* pass the end of stream on once everything before it has gone */
    if (d->eof && !d->shut && d->head == d->tail && now >= d->eof_due_ns &&
        !s_conn_stalled(c, now)) {
        (void)shutdown(dst, SHUT_WR);
        d->shut = true;
        *progress = true;
    }
    return true;
}

/* Finishes the upstream connect of c; returns false while it is still in
   progress or if it failed (c is then closed). */
static bool
s_conn_connected(struct s_proxy *px, struct s_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->server, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == EINPROGRESS || err == EALREADY || err == EINTR)
        return false;
    if (err != 0) {
        s_log("connection %" PRIu64 ": cannot connect to %s: %s; resetting",
              c->id, px->opts.to, strerror(err));
        s_conn_close(px, c, true);
        return false;
    }
    /* SO_ERROR is 0 both before and after success: ask the socket */
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    if (getpeername(c->server, (struct sockaddr *)&peer, &peer_len) != 0)
        return false;
    c->state = S_OPEN;
    return true;
}

/* Does all the work c can do now without blocking. */
static void
s_conn_pump(struct s_proxy *px, struct s_conn *c, uint64_t now)
{
    if (s_conn_check_cut(px, c, now))
        return;
    if (c->state == S_CONNECTING && !s_conn_connected(px, c))
        return;
    for (int round = 0; round < S_PUMP_ROUNDS; round++) {
        bool progress = false;
        if (!s_dir_pump(px, c, &c->up, c->client, c->server, now, &progress))
            return;
        if (!s_dir_pump(px, c, &c->down, c->server, c->client, now, &progress))
            return;
        if (!progress)
            break;
    }
    if (c->up.shut && c->down.shut) {
        s_log("connection %" PRIu64 " closed after %" PRIu64
              " bytes (up %" PRIu64 ", down %" PRIu64 ")",
              c->id, c->forwarded, c->up.head, c->down.head);
        s_conn_close(px, c, false);
    }
}

/* Says what d waits for: poll events on src and dst, and a timer. */
static void
s_dir_plan(struct s_proxy *px, struct s_conn *c, struct s_dir *d, uint64_t now,
           short *src_events, short *dst_events, uint64_t *wake)
{
    if (s_dir_can_read(c, d, now))
        *src_events |= POLLIN;
    if (s_dir_sendable(px, c, d, now) > 0) {
        *dst_events |= POLLOUT;
        return;
    }
    if (d->shut)
        return;
    if (d->mark_count > 0)
        *wake = s_min(*wake, d->marks[d->mark_first].due_ns);
    uint64_t ready = s_dir_ready(c, d, now);
    if (px->opts.rate > 0 && ready > 0) {
        /* s_dir_sendable() refilled the bucket just now */
        uint64_t need = s_dir_credit_needed(px, ready) - d->credit;
        *wake = s_min(*wake, now + (need + px->opts.rate - 1) / px->opts.rate);
    }
    if (d->eof && d->head == d->tail)
        *wake = s_min(*wake, d->eof_due_ns);
}

/* Returns the earliest time c must be pumped without a poll event, and
   sets the events to poll its sockets for. */
static uint64_t
s_conn_plan(struct s_proxy *px, struct s_conn *c, uint64_t now,
            short *client_events, short *server_events)
{
    uint64_t wake = c->cut_ns;
    *client_events = 0;
    *server_events = 0;
    if (c->state == S_CONNECTING) {
        *server_events = POLLOUT;
        return wake;
    }
    if (s_conn_stalled(c, now))
        return s_min(wake, c->stall_until_ns);
    s_dir_plan(px, c, &c->up, now, client_events, server_events, &wake);
    s_dir_plan(px, c, &c->down, now, server_events, client_events, &wake);
    return wake;
}

static void
s_addr_text(const struct sockaddr_storage *addr, socklen_t len, char *text,
            size_t size)
{
    char host[INET6_ADDRSTRLEN];
    char serv[S_PORT_TEXT_MAX];
    if (getnameinfo((const struct sockaddr *)addr, len, host, sizeof host, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(text, size, "?");
        return;
    }
    snprintf(text, size, "%s:%s", host, serv);
}

/* Starts proxying the accepted socket fd in the free slot c. */
static void
s_conn_open(struct s_proxy *px, struct s_conn *c, int fd,
            const struct sockaddr_storage *peer, socklen_t peer_len,
            uint64_t now)
{
    char peer_text[S_ADDR_TEXT_MAX];
    s_addr_text(peer, peer_len, peer_text, sizeof peer_text);
    memset(c, 0, sizeof *c);
    c->id = ++px->connections;
    c->client = fd;
    c->server = -1;
    c->pfd = SIZE_MAX;
    c->opened_ns = now;
    c->state = S_CONNECTING;
    c->cut_at = S_NEVER;
    c->cut_ns = S_NEVER;
    c->stall_at = S_NEVER;
    if (px->opts.cut_bytes.set)
        c->cut_at = s_rand_range(px, &px->opts.cut_bytes);
    if (px->opts.cut_ms.set)
        c->cut_ns = now + s_rand_range(px, &px->opts.cut_ms) * S_NS_PER_MS;
    if (px->opts.stall_bytes.set)
        c->stall_at = s_rand_range(px, &px->opts.stall_bytes);
    s_log("connection %" PRIu64 " from %s", c->id, peer_text);

    if (s_dir_init(px, &c->up, "client", now) != 0 ||
        s_dir_init(px, &c->down, "server", now) != 0) {
        s_log("connection %" PRIu64 ": out of memory; resetting", c->id);
        s_conn_close(px, c, true);
        return;
    }
    s_set_nodelay(fd);
    c->server = socket(px->to.ss_family, SOCK_STREAM, 0);
    if (c->server < 0 || s_set_nonblock(c->server) != 0) {
        s_log("connection %" PRIu64 ": upstream socket: %s; resetting", c->id,
              strerror(errno));
        s_conn_close(px, c, true);
        return;
    }
    s_set_nodelay(c->server);
    if (connect(c->server, (const struct sockaddr *)&px->to, px->to_len) == 0) {
        c->state = S_OPEN;
        return;
    }
    if (errno != EINPROGRESS && errno != EINTR) {
        s_log("connection %" PRIu64 ": cannot connect to %s: %s; resetting",
              c->id, px->opts.to, strerror(errno));
        s_conn_close(px, c, true);
    }
}

/* Accepts waiting clients. */
static void
s_accept(struct s_proxy *px, uint64_t now)
{
    for (int round = 0; round < S_ACCEPT_ROUNDS; round++) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int fd = accept(px->listener, (struct sockaddr *)&peer, &peer_len);
        if (fd < 0) {
            if (errno == ECONNABORTED)
                continue;
            if (!s_errno_again())
                s_log("accept: %s", strerror(errno));
            return;
        }
        if (s_set_nonblock(fd) != 0) {
            s_log("accept: %s", strerror(errno));
            close(fd);
            continue;
        }
        struct s_conn *slot = NULL;
        for (size_t i = 0; i < S_CONN_MAX && slot == NULL; i++) {
            if (px->conns[i].state == S_FREE)
                slot = &px->conns[i];
        }
        if (slot == NULL) {
            s_log("refused a connection: %d are open, the most there can be",
                  S_CONN_MAX);
            s_close_reset(fd);
            continue;
        }
        s_conn_open(px, slot, fd, &peer, peer_len, now);
    }
}

static void
s_on_signal(int sig)
{
    int saved = errno;
    s_signal = sig;
    if (s_signal_pipe >= 0) {
        char byte = 0;
        ssize_t w = write(s_signal_pipe, &byte, 1);
        (void)w; /* a full pipe already wakes the loop */
    }
    errno = saved;
}

/* Sets up the self-pipe and the signal handlers; returns the read end of
   the pipe, or -1. */
static int
s_signals_init(void)
{
    int fds[2];
    if (pipe(fds) != 0 || s_set_nonblock(fds[0]) != 0 ||
        s_set_nonblock(fds[1]) != 0)
        return -1;
    s_signal_pipe = fds[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = s_on_signal;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    /* a peer that went away must give EPIPE, not kill the proxy */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    return fds[0];
}

/* Opens the listening socket and writes the port file; returns 0 or -1
   (logged). */
static int
s_listen(struct s_proxy *px, const struct sockaddr_storage *addr,
         socklen_t addr_len)
{
    px->listener = socket(addr->ss_family, SOCK_STREAM, 0);
    if (px->listener < 0) {
        s_log("socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(px->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(px->listener, (const struct sockaddr *)addr, addr_len) != 0 ||
        listen(px->listener, S_BACKLOG) != 0 ||
        s_set_nonblock(px->listener) != 0) {
        s_log("cannot listen on %s: %s", px->opts.listen, strerror(errno));
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    if (getsockname(px->listener, (struct sockaddr *)&bound, &bound_len) != 0) {
        s_log("getsockname: %s", strerror(errno));
        return -1;
    }
    char bound_text[S_ADDR_TEXT_MAX];
    s_addr_text(&bound, bound_len, bound_text, sizeof bound_text);
    unsigned port = 0;
    if (bound.ss_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)&bound)->sin_port);
    if (bound.ss_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)&bound)->sin6_port);
    s_log("listening on %s, forwarding to %s, seed %" PRIu64, bound_text,
          px->opts.to, px->opts.seed);
    if (px->opts.port_file != NULL) {
        char text[S_ADDR_TEXT_MAX];
        snprintf(text, sizeof text, "%u\n", port);
        if (s_write_atomic(px->opts.port_file, text) != 0)
            return -1;
    }
    return 0;
}

/* Runs the event loop until a signal; returns 0, or -1 on a poll
   failure. */
static int
s_run(struct s_proxy *px, int signal_fd)
{
    /* the pipe, the listener, and two sockets per connection */
    static struct pollfd pfds[2 + 2 * S_CONN_MAX];
    while (s_signal == 0) {
        uint64_t now = s_now_ns();
        uint64_t wake = S_NEVER;
        size_t nfds = 0;
        pfds[nfds++] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
        pfds[nfds++] = (struct pollfd){.fd = px->listener, .events = POLLIN};
        for (size_t i = 0; i < S_CONN_MAX; i++) {
            struct s_conn *c = &px->conns[i];
            if (c->state == S_FREE)
                continue;
            short client_events;
            short server_events;
            c->wake_ns =
                s_conn_plan(px, c, now, &client_events, &server_events);
            wake = s_min(wake, c->wake_ns);
            c->pfd = nfds;
            /* fd -1: poll ignores it, so no POLLHUP spins while we wait */
            pfds[nfds++] =
                (struct pollfd){.fd = client_events != 0 ? c->client : -1,
                                .events = client_events};
            pfds[nfds++] =
                (struct pollfd){.fd = server_events != 0 ? c->server : -1,
                                .events = server_events};
        }
        int timeout = -1;
        if (wake != S_NEVER) {
            uint64_t ms =
                wake <= now ? 0 : (wake - now + S_NS_PER_MS - 1) / S_NS_PER_MS;
            timeout = (int)s_min(ms, INT_MAX);
        }
        if (poll(pfds, (nfds_t)nfds, timeout) < 0) {
            if (errno == EINTR)
                continue;
            s_log("poll: %s", strerror(errno));
            return -1;
        }
        now = s_now_ns();
        if (pfds[0].revents != 0) {
            char drain[S_ACCEPT_ROUNDS];
            while (read(signal_fd, drain, sizeof drain) > 0) {
            }
        }
        for (size_t i = 0; i < S_CONN_MAX; i++) {
            struct s_conn *c = &px->conns[i];
            if (c->state == S_FREE || c->pfd == SIZE_MAX)
                continue;
            if (pfds[c->pfd].revents != 0 || pfds[c->pfd + 1].revents != 0 ||
                c->wake_ns <= now)
                s_conn_pump(px, c, now);
        }
        /* after the pumps: new connections have no pollfd yet */
        if (pfds[1].revents != 0)
            s_accept(px, now);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static struct s_proxy proxy;
    struct s_proxy *px = &proxy;
    struct sockaddr_storage listen_addr;
    socklen_t listen_len = 0;

    s_parse_args(argc, argv, &px->opts);
    s_opt_addr("--listen", px->opts.listen, true, &listen_addr, &listen_len);
    s_opt_addr("--to", px->opts.to, false, &px->to, &px->to_len);
    px->rng = px->opts.seed;
    px->listener = -1;
    px->burst = px->opts.rate * S_RATE_BURST_MS / S_MS_PER_S;
    if (px->burst == 0)
        px->burst = 1;
    px->mark_share_ns = px->opts.delay_ms * S_NS_PER_MS / S_MARK_SHARE_DIV;
    if (px->mark_share_ns < S_NS_PER_MS)
        px->mark_share_ns = S_NS_PER_MS;
    for (size_t i = 0; i < S_CONN_MAX; i++) {
        px->conns[i].client = -1;
        px->conns[i].server = -1;
        px->conns[i].pfd = SIZE_MAX;
    }

    int signal_fd = s_signals_init();
    if (signal_fd < 0) {
        s_log("cannot set up signals: %s", strerror(errno));
        return S_EXIT_FAILURE;
    }
    if (s_listen(px, &listen_addr, listen_len) != 0)
        return S_EXIT_FAILURE;
    s_write_stats(px);

    int r = s_run(px, signal_fd);

    if (s_signal != 0)
        s_log("stopping on signal %d", (int)s_signal);
    for (size_t i = 0; i < S_CONN_MAX; i++) {
        if (px->conns[i].state != S_FREE)
            s_conn_close(px, &px->conns[i], false);
    }
    close(px->listener);
    s_write_stats(px);
    s_log("%" PRIu64 " connections, %" PRIu64 " cuts, %" PRIu64
          " bytes up, %" PRIu64 " bytes down",
          px->connections, px->cuts, px->bytes_up, px->bytes_down);
    return r == 0 ? S_EXIT_OK : S_EXIT_FAILURE;
}
