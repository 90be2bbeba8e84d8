/*  tests/unit/transport_test.c - tests of server/transport.c, server/zap.c
 *  and client/transport.c over real libzmq on loopback TCP.
 *
 *  One case per libzmq 4.3 pitfall of issue 4 "Transport"; each fails if
 *  its protection is removed:
 *    zap_refuses_unknown_key  no ZAP handler: any CURVE key gets in
 *    revoke_ends_session      ZAP runs only at handshake
 *    send_to_gone_peer_fails  ROUTER drops sends to gone peers silently
 *    destroy_never_hangs      linger -1 hangs shutdown on a stalled link
 *    socket_options           back-off, MAXMSGSIZE, TTL wrap
 *    oversize_frame_dropped   MAXMSGSIZE on the server socket
 *  Servers bind tcp://127.0.0.1:* (an ephemeral port).  Every wait is a
 *  poll with a deadline, generous for a loaded 2-core machine.
 */
#include "prelude.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <zmq.h>

#include "../../client/transport.h"
#include "../../server/transport.h"
#include "err.h"
#include "key.h"
#include "test.h"

#define S_ENDPOINT "tcp://127.0.0.1:*" /* any free port */
#define S_WAIT_MS 5000   /* deadline for things that must happen */
#define S_QUIET_MS 700   /* how long "nothing arrives" is watched */
#define S_STEP_MS 50     /* poll step while waiting for a condition */
#define S_HANG_MS 5000   /* destroy must return well within this */
#define S_FLOOD_MAX 4000 /* frames queued at most in the hang check */

/* --- who may connect: the test's stand-in for the registry ----------- */

#define S_NODES_MAX 4 /* nodes the test enrols */

struct s_node {
    struct cs_pubkey key;             /* Ed25519 public key */
    char hex[CS_NODE_ID_HEX_LEN + 1]; /* node id */
    atomic_bool revoked;              /* refused from now on */
};

struct s_auth {
    struct s_node nodes[S_NODES_MAX]; /* enrolled nodes */
    int count;                        /* how many */
    atomic_int refused;               /* handshakes refused by allow() */
};

static bool
s_allow(void *arg, const uint8_t curve_pk[CS_KEY_CURVE_BYTES],
        char user_id[CS_NODE_ID_HEX_LEN + 1])
{
    struct s_auth *a = arg;
    for (int i = 0; i < a->count; i++) {
        uint8_t pk[CS_KEY_CURVE_BYTES];
        if (cs_pubkey_curve(&a->nodes[i].key, pk) != 0 ||
            memcmp(pk, curve_pk, sizeof pk) != 0 ||
            atomic_load(&a->nodes[i].revoked))
            continue;
        memcpy(user_id, a->nodes[i].hex, CS_NODE_ID_HEX_LEN + 1);
        return true;
    }
    atomic_fetch_add(&a->refused, 1);
    return false;
}

static bool
s_still_allowed(void *arg, const char *node_hex)
{
    struct s_auth *a = arg;
    for (int i = 0; i < a->count; i++)
        if (strcmp(a->nodes[i].hex, node_hex) == 0)
            return !atomic_load(&a->nodes[i].revoked);
    return false;
}

/* Enrols k; returns its index. */
static int
s_enrol(struct s_auth *a, const struct cs_key *k)
{
    struct s_node *n = &a->nodes[a->count];
    struct cs_node_id id;
    n->key = *cs_key_public(k);
    cs_key_node_id(k, &id);
    cs_node_id_hex(&id, n->hex);
    atomic_store(&n->revoked, false);
    return a->count++;
}

/* --- helpers ----------------------------------------------------------- */

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct cs_srv_transport *
s_server(struct s_auth *a, const struct cs_key *key)
{
    struct cs_srv_transport_auth auth = {s_allow, s_still_allowed, a};
    struct cs_srv_transport *t = NULL;
    int r = cs_srv_transport_new(S_ENDPOINT, key, &auth, &t);
    CS_CHECK_INT(r, 0);
    return t;
}

/* Waits up to timeout_ms for a message or a report; returns recv's code
   (CS_SRV_TRANSPORT_ERR_EMPTY if nothing came). */
static int
s_server_recv(struct cs_srv_transport *t, struct cs_srv_msg *msg,
              int timeout_ms)
{
    int64_t end = s_now_ms() + timeout_ms;
    int r = CS_SRV_TRANSPORT_ERR_EMPTY;
    do {
        int64_t left = end - s_now_ms();
        if (!cs_srv_transport_poll(t, left > 0 ? (int)left : 0))
            continue;
        r = cs_srv_transport_recv(t, msg);
        if (r != CS_SRV_TRANSPORT_ERR_EMPTY)
            return r;
    } while (s_now_ms() < end);
    return r;
}

/* Waits up to S_WAIT_MS for *counter to exceed before. */
static bool
s_wait_refused(struct s_auth *a, int before)
{
    int64_t end = s_now_ms() + S_WAIT_MS;
    while (atomic_load(&a->refused) <= before && s_now_ms() < end)
        usleep(S_STEP_MS * 1000);
    return atomic_load(&a->refused) > before;
}

static struct cs_cli_transport *
s_client(const char *endpoint, const struct cs_key *key,
         const struct cs_key *server)
{
    struct cs_cli_transport *c = NULL;
    int r = cs_cli_transport_new(endpoint, key, cs_key_public(server), &c);
    CS_CHECK_INT(r, 0);
    return c;
}

/* Sends text from c, answers it from the server and checks that both
   arrive and that the server saw node hex as User-Id. */
static bool
s_round_trip(struct cs_srv_transport *srv, struct cs_cli_transport *c,
             const char *hex, const char *text)
{
    static struct cs_srv_msg msg;
    uint8_t buf[CS_FRAME_MAX];
    size_t len = 0;
    size_t n = strlen(text);

    if (cs_cli_transport_send(c, (const uint8_t *)text, n, S_WAIT_MS) != 0)
        return false;
    if (s_server_recv(srv, &msg, S_WAIT_MS) != 0)
        return false;
    CS_CHECK_STR(msg.node_hex, hex);
    CS_CHECK(msg.len == n && memcmp(msg.data, text, n) == 0);
    if (cs_srv_transport_send(srv, msg.routing_id, msg.routing_id_len, msg.data,
                              msg.len) != 0)
        return false;
    if (cs_cli_transport_recv(c, buf, &len, S_WAIT_MS) != 0)
        return false;
    return len == n && memcmp(buf, text, n) == 0;
}

/* --- cases --------------------------------------------------------------- */

static void
test_curve_keys(void)
{
    struct cs_key *k = NULL;
    uint8_t pk[CS_KEY_CURVE_BYTES], sk[CS_KEY_CURVE_BYTES];
    uint8_t pk2[CS_KEY_CURVE_BYTES], derived[CS_KEY_CURVE_BYTES];

    CS_REQUIRE(cs_key_generate(&k) == 0);
    CS_CHECK_INT(cs_key_curve(k, pk, sk), 0);
    CS_CHECK_INT(cs_pubkey_curve(cs_key_public(k), pk2), 0);
    CS_CHECK(memcmp(pk, pk2, sizeof pk) == 0);
    /* The secret maps to the public: X25519 base point multiplication. */
    CS_CHECK_INT(crypto_scalarmult_base(derived, sk), 0);
    CS_CHECK(memcmp(derived, pk, sizeof pk) == 0);
    sodium_memzero(sk, sizeof sk);
    cs_key_destroy(&k);
}

static void
test_zap_refuses_unknown_key(void)
{
    static struct s_auth auth;
    static struct cs_srv_msg msg;
    struct cs_key *server_key = NULL, *good = NULL, *bad = NULL;
    struct cs_srv_transport *srv = NULL;
    struct cs_cli_transport *ok_cli = NULL, *bad_cli = NULL;
    uint8_t buf[CS_FRAME_MAX];
    size_t len;
    int good_index;

    memset(&auth, 0, sizeof auth);
    CS_REQUIRE(cs_key_generate(&server_key) == 0);
    CS_REQUIRE(cs_key_generate(&good) == 0);
    CS_REQUIRE(cs_key_generate(&bad) == 0);
    good_index = s_enrol(&auth, good);
    srv = s_server(&auth, server_key);
    CS_REQUIRE(srv != NULL);

    bad_cli = s_client(cs_srv_transport_endpoint(srv), bad, server_key);
    CS_REQUIRE(bad_cli != NULL);
    /* The handshake reaches ZAP and is refused... */
    CS_CHECK(s_wait_refused(&auth, 0));
    /* ...so nothing gets through either way. */
    CS_CHECK_INT(
        cs_cli_transport_send(bad_cli, (const uint8_t *)"x", 1, S_QUIET_MS),
        CS_CLI_TRANSPORT_ERR_TIMEOUT);
    CS_CHECK_INT(s_server_recv(srv, &msg, S_QUIET_MS),
                 CS_SRV_TRANSPORT_ERR_EMPTY);

    ok_cli = s_client(cs_srv_transport_endpoint(srv), good, server_key);
    CS_REQUIRE(ok_cli != NULL);
    CS_CHECK(s_round_trip(srv, ok_cli, auth.nodes[good_index].hex, "hello"));
    CS_CHECK_INT(cs_cli_transport_recv(bad_cli, buf, &len, S_STEP_MS),
                 CS_CLI_TRANSPORT_ERR_TIMEOUT);

    cs_cli_transport_destroy(&bad_cli);
    cs_cli_transport_destroy(&ok_cli);
    cs_srv_transport_destroy(&srv);
    cs_key_destroy(&server_key);
    cs_key_destroy(&good);
    cs_key_destroy(&bad);
}

static void
test_revoke_ends_session(void)
{
    static struct s_auth auth;
    static struct cs_srv_msg msg;
    struct cs_key *server_key = NULL, *node = NULL;
    struct cs_srv_transport *srv = NULL;
    struct cs_cli_transport *cli = NULL, *again = NULL;
    int64_t start;
    int i, before;

    memset(&auth, 0, sizeof auth);
    CS_REQUIRE(cs_key_generate(&server_key) == 0);
    CS_REQUIRE(cs_key_generate(&node) == 0);
    i = s_enrol(&auth, node);
    srv = s_server(&auth, server_key);
    CS_REQUIRE(srv != NULL);
    cli = s_client(cs_srv_transport_endpoint(srv), node, server_key);
    CS_REQUIRE(cli != NULL);
    CS_CHECK(s_round_trip(srv, cli, auth.nodes[i].hex, "before"));

    /* Revoked while connected: the next message is dropped and reported,
       well within a heartbeat timeout. */
    atomic_store(&auth.nodes[i].revoked, true);
    start = s_now_ms();
    CS_CHECK_INT(
        cs_cli_transport_send(cli, (const uint8_t *)"after", 5, S_WAIT_MS), 0);
    CS_CHECK_INT(s_server_recv(srv, &msg, S_WAIT_MS),
                 CS_SRV_TRANSPORT_ERR_REVOKED);
    CS_CHECK(s_now_ms() - start < CS_SRV_TRANSPORT_HEARTBEAT_TIMEOUT_MS);
    CS_CHECK_STR(msg.node_hex, auth.nodes[i].hex);
    CS_CHECK_INT(msg.len, 0);
    CS_CHECK(msg.routing_id_len > 0);

    /* A new connection with the same key is refused at handshake. */
    before = atomic_load(&auth.refused);
    again = s_client(cs_srv_transport_endpoint(srv), node, server_key);
    CS_REQUIRE(again != NULL);
    CS_CHECK(s_wait_refused(&auth, before));
    CS_CHECK_INT(
        cs_cli_transport_send(again, (const uint8_t *)"x", 1, S_QUIET_MS),
        CS_CLI_TRANSPORT_ERR_TIMEOUT);
    CS_CHECK_INT(s_server_recv(srv, &msg, S_QUIET_MS),
                 CS_SRV_TRANSPORT_ERR_EMPTY);

    cs_cli_transport_destroy(&again);
    cs_cli_transport_destroy(&cli);
    cs_srv_transport_destroy(&srv);
    cs_key_destroy(&server_key);
    cs_key_destroy(&node);
}

static void
test_send_to_gone_peer_fails(void)
{
    static struct s_auth auth;
    static struct cs_srv_msg msg;
    struct cs_key *server_key = NULL, *node = NULL;
    struct cs_srv_transport *srv = NULL;
    struct cs_cli_transport *cli = NULL;
    int64_t end;
    int i, r = 0;

    memset(&auth, 0, sizeof auth);
    CS_REQUIRE(cs_key_generate(&server_key) == 0);
    CS_REQUIRE(cs_key_generate(&node) == 0);
    i = s_enrol(&auth, node);
    srv = s_server(&auth, server_key);
    CS_REQUIRE(srv != NULL);
    cli = s_client(cs_srv_transport_endpoint(srv), node, server_key);
    CS_REQUIRE(cli != NULL);
    CS_CHECK_INT(
        cs_cli_transport_send(cli, (const uint8_t *)"hi", 2, S_WAIT_MS), 0);
    CS_CHECK_INT(s_server_recv(srv, &msg, S_WAIT_MS), 0);
    CS_CHECK_STR(msg.node_hex, auth.nodes[i].hex);
    cs_cli_transport_destroy(&cli);

    /* ZMQ_ROUTER_MANDATORY: once the server has seen the peer go, a send
       to it fails instead of vanishing. */
    end = s_now_ms() + S_WAIT_MS;
    while (s_now_ms() < end &&
           (r = cs_srv_transport_send(srv, msg.routing_id, msg.routing_id_len,
                                      (const uint8_t *)"x", 1)) == 0)
        usleep(S_STEP_MS * 1000);
    CS_CHECK_INT(r, CS_SRV_TRANSPORT_ERR_GONE);

    cs_srv_transport_destroy(&srv);
    cs_key_destroy(&server_key);
    cs_key_destroy(&node);
}

/* A TCP relay that can stall: it stops reading from either side, as a
   mobile link does when it drops without a FIN. */
struct s_proxy {
    int listen_fd;     /* bound to 127.0.0.1, ephemeral port */
    int port;          /* its port */
    int server_port;   /* where it relays to */
    atomic_bool stall; /* stop reading */
    atomic_bool quit;  /* end the thread */
    pthread_t thread;  /* runs s_proxy_run() */
};

/* Copies what fd from has to fd to; returns false at end or error. */
static bool
s_relay(int from, int to)
{
    uint8_t buf[CS_FRAME_MAX];
    ssize_t n = read(from, buf, sizeof buf);
    ssize_t off = 0;
    if (n <= 0)
        return false;
    while (off < n) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

static void *
s_proxy_run(void *arg)
{
    struct s_proxy *p = arg;
    struct sockaddr_in addr = {0};
    struct pollfd fds[2];
    int client = -1, server = -1;

    while (client < 0 && !atomic_load(&p->quit)) {
        struct pollfd l = {p->listen_fd, POLLIN, 0};
        if (poll(&l, 1, S_STEP_MS) > 0)
            client = accept(p->listen_fd, NULL, NULL);
    }
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)p->server_port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (client >= 0 && (server = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
        connect(server, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(server);
        server = -1;
    }
    while (client >= 0 && server >= 0 && !atomic_load(&p->quit)) {
        short events = atomic_load(&p->stall) ? 0 : POLLIN;
        fds[0] = (struct pollfd){client, events, 0};
        fds[1] = (struct pollfd){server, events, 0};
        if (poll(fds, 2, S_STEP_MS) <= 0)
            continue;
        if ((fds[0].revents & (POLLIN | POLLHUP)) && !s_relay(client, server))
            break;
        if ((fds[1].revents & (POLLIN | POLLHUP)) && !s_relay(server, client))
            break;
    }
    while (!atomic_load(&p->quit))
        usleep(S_STEP_MS * 1000);
    if (client >= 0)
        close(client);
    if (server >= 0)
        close(server);
    return NULL;
}

static bool
s_proxy_start(struct s_proxy *p, const char *server_endpoint)
{
    struct sockaddr_in addr = {0};
    socklen_t len = sizeof addr;
    const char *colon = strrchr(server_endpoint, ':');

    p->server_port = colon != NULL ? (int)strtol(colon + 1, NULL, 10) : 0;
    atomic_store(&p->stall, false);
    atomic_store(&p->quit, false);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->server_port <= 0 || p->listen_fd < 0 ||
        bind(p->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(p->listen_fd, 1) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return false;
    p->port = ntohs(addr.sin_port);
    return pthread_create(&p->thread, NULL, s_proxy_run, p) == 0;
}

static void
s_proxy_stop(struct s_proxy *p)
{
    atomic_store(&p->quit, true);
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
}

static void
test_destroy_never_hangs(void)
{
    static struct s_auth auth;
    static struct s_proxy proxy;
    static uint8_t frame[CS_FRAME_MAX];
    struct cs_key *server_key = NULL, *node = NULL;
    struct cs_srv_transport *srv = NULL;
    struct cs_cli_transport *cli = NULL;
    char endpoint[64];
    int64_t start, took;
    int i, queued = 0;

    memset(&auth, 0, sizeof auth);
    CS_REQUIRE(cs_key_generate(&server_key) == 0);
    CS_REQUIRE(cs_key_generate(&node) == 0);
    i = s_enrol(&auth, node);
    srv = s_server(&auth, server_key);
    CS_REQUIRE(srv != NULL);
    CS_REQUIRE(s_proxy_start(&proxy, cs_srv_transport_endpoint(srv)));
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", proxy.port);
    cli = s_client(endpoint, node, server_key);
    CS_REQUIRE(cli != NULL);
    CS_CHECK(s_round_trip(srv, cli, auth.nodes[i].hex, "up"));

    /* The link goes dead without closing; fill every buffer. */
    atomic_store(&proxy.stall, true);
    while (queued < S_FLOOD_MAX &&
           cs_cli_transport_send(cli, frame, sizeof frame, S_STEP_MS * 4) == 0)
        queued++;
    CS_CHECK(queued > 0);
    CS_CHECK(queued < S_FLOOD_MAX); /* the queue did fill up */

    start = s_now_ms();
    cs_cli_transport_destroy(&cli);
    took = s_now_ms() - start;
    printf("  destroy with %d frames stuck took %" PRId64 " ms\n", queued,
           took);
    CS_CHECK(took < S_HANG_MS);

    s_proxy_stop(&proxy);
    cs_srv_transport_destroy(&srv);
    cs_key_destroy(&server_key);
    cs_key_destroy(&node);
}

/* Reads an int option of sock. */
static int
s_opt_int(void *sock, int option)
{
    int value = -1;
    size_t len = sizeof value;
    if (zmq_getsockopt(sock, option, &value, &len) != 0)
        return INT_MIN;
    return value;
}

static int64_t
s_opt_max(void *sock)
{
    int64_t value = -1;
    size_t len = sizeof value;
    if (zmq_getsockopt(sock, ZMQ_MAXMSGSIZE, &value, &len) != 0)
        return -1;
    return value;
}

static void
test_socket_options(void)
{
    static struct s_auth auth;
    struct cs_key *server_key = NULL, *node = NULL;
    struct cs_srv_transport *srv = NULL;
    struct cs_cli_transport *cli = NULL;
    void *router, *dealer, *zap;

    memset(&auth, 0, sizeof auth);
    CS_REQUIRE(cs_key_generate(&server_key) == 0);
    CS_REQUIRE(cs_key_generate(&node) == 0);
    (void)s_enrol(&auth, node);
    srv = s_server(&auth, server_key);
    CS_REQUIRE(srv != NULL);
    cli = s_client(cs_srv_transport_endpoint(srv), node, server_key);
    CS_REQUIRE(cli != NULL);
    router = cs_srv_transport_socket(srv);
    dealer = cs_cli_transport_socket(cli);
    zap = cs_srv_transport_zap_socket(srv);

    /* MAXMSGSIZE on every socket (STYLE.md 27): CS_FRAME_MAX, plus the
       CURVE wrapping where there is one. */
    CS_CHECK_INT(s_opt_max(router), CS_SRV_TRANSPORT_MAXMSGSIZE);
    CS_CHECK_INT(s_opt_max(dealer), CS_CLI_TRANSPORT_MAXMSGSIZE);
    CS_CHECK_INT(CS_SRV_TRANSPORT_MAXMSGSIZE, CS_FRAME_MAX + 33);
    CS_CHECK_INT(s_opt_max(zap), CS_FRAME_MAX);
    /* Reconnect backs off; libzmq's default maximum, 0, never does. */
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_RECONNECT_IVL),
                 CS_CLI_TRANSPORT_RECONNECT_MS);
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_RECONNECT_IVL_MAX),
                 CS_CLI_TRANSPORT_RECONNECT_MAX_MS);
    CS_CHECK(s_opt_int(dealer, ZMQ_RECONNECT_IVL_MAX) >
             s_opt_int(dealer, ZMQ_RECONNECT_IVL));
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_IMMEDIATE), 1);
    /* Bounded linger: never -1. */
    CS_CHECK_INT(s_opt_int(router, ZMQ_LINGER), CS_SRV_TRANSPORT_LINGER_MS);
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_LINGER), CS_CLI_TRANSPORT_LINGER_MS);
    CS_CHECK(s_opt_int(zap, ZMQ_LINGER) >= 0);
    /* Heartbeats set, TTL where 4.3 does not wrap it. */
    CS_CHECK_INT(s_opt_int(router, ZMQ_HEARTBEAT_IVL),
                 CS_SRV_TRANSPORT_HEARTBEAT_IVL_MS);
    CS_CHECK_INT(s_opt_int(router, ZMQ_HEARTBEAT_TIMEOUT),
                 CS_SRV_TRANSPORT_HEARTBEAT_TIMEOUT_MS);
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_HEARTBEAT_IVL),
                 CS_CLI_TRANSPORT_HEARTBEAT_IVL_MS);
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_HEARTBEAT_TIMEOUT),
                 CS_CLI_TRANSPORT_HEARTBEAT_TIMEOUT_MS);
    CS_CHECK(s_opt_int(router, ZMQ_HEARTBEAT_TTL) > 0);
    CS_CHECK(s_opt_int(router, ZMQ_HEARTBEAT_TTL) <=
             CS_SRV_TRANSPORT_HEARTBEAT_TTL_MAX_MS);
    CS_CHECK(s_opt_int(dealer, ZMQ_HEARTBEAT_TTL) > 0);
    CS_CHECK(s_opt_int(dealer, ZMQ_HEARTBEAT_TTL) <=
             CS_CLI_TRANSPORT_HEARTBEAT_TTL_MAX_MS);
    /* CURVE on both ends, and the server asks ZAP. */
    CS_CHECK_INT(s_opt_int(router, ZMQ_MECHANISM), ZMQ_CURVE);
    CS_CHECK_INT(s_opt_int(router, ZMQ_CURVE_SERVER), 1);
    CS_CHECK_INT(s_opt_int(dealer, ZMQ_MECHANISM), ZMQ_CURVE);

    cs_cli_transport_destroy(&cli);
    cs_srv_transport_destroy(&srv);
    cs_key_destroy(&server_key);
    cs_key_destroy(&node);
}

/* Waits up to S_WAIT_MS for a ZMQ_EVENT_DISCONNECTED on monitor. */
static bool
s_wait_disconnected(void *monitor)
{
    int64_t end = s_now_ms() + S_WAIT_MS;
    while (s_now_ms() < end) {
        zmq_pollitem_t item = {monitor, 0, ZMQ_POLLIN, 0};
        uint8_t event[6];
        if (zmq_poll(&item, 1, S_STEP_MS) <= 0)
            continue;
        /* Two frames: 16-bit event and 32-bit value, then the address. */
        if (zmq_recv(monitor, event, sizeof event, 0) < 0)
            return false;
        while (s_opt_int(monitor, ZMQ_RCVMORE) == 1)
            (void)zmq_recv(monitor, event, 0, 0);
        if ((event[0] | (event[1] << 8)) == ZMQ_EVENT_DISCONNECTED)
            return true;
    }
    return false;
}

static void
test_oversize_frame_dropped(void)
{
    static struct s_auth auth;
    static struct cs_srv_msg msg;
    static uint8_t big[CS_FRAME_MAX + 1];
    struct cs_key *server_key = NULL, *node = NULL;
    struct cs_srv_transport *srv = NULL;
    uint8_t server_pk[CS_KEY_CURVE_BYTES], pk[CS_KEY_CURVE_BYTES];
    uint8_t sk[CS_KEY_CURVE_BYTES];
    void *ctx = zmq_ctx_new(), *raw = NULL, *monitor = NULL;
    int one = 1, linger = 0;

    memset(&auth, 0, sizeof auth);
    CS_REQUIRE(ctx != NULL);
    CS_REQUIRE(cs_key_generate(&server_key) == 0);
    CS_REQUIRE(cs_key_generate(&node) == 0);
    (void)s_enrol(&auth, node);
    srv = s_server(&auth, server_key);
    CS_REQUIRE(srv != NULL);

    /* A raw DEALER with an admitted key: cs_cli_transport_send() would
       refuse the big frame itself. */
    CS_REQUIRE(cs_pubkey_curve(cs_key_public(server_key), server_pk) == 0);
    CS_REQUIRE(cs_key_curve(node, pk, sk) == 0);
    raw = zmq_socket(ctx, ZMQ_DEALER);
    monitor = zmq_socket(ctx, ZMQ_PAIR);
    CS_REQUIRE(raw != NULL && monitor != NULL);
    CS_CHECK_INT(zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, server_pk, 32), 0);
    CS_CHECK_INT(zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, pk, 32), 0);
    CS_CHECK_INT(zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, sk, 32), 0);
    sodium_memzero(sk, sizeof sk);
    CS_CHECK_INT(zmq_setsockopt(raw, ZMQ_IMMEDIATE, &one, sizeof one), 0);
    CS_CHECK_INT(zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof linger), 0);
    CS_CHECK_INT(zmq_setsockopt(monitor, ZMQ_LINGER, &linger, sizeof linger),
                 0);
    CS_CHECK_INT(zmq_socket_monitor(raw, "inproc://transport-test-monitor",
                                    ZMQ_EVENT_DISCONNECTED),
                 0);
    CS_CHECK_INT(zmq_connect(monitor, "inproc://transport-test-monitor"), 0);
    CS_CHECK_INT(zmq_connect(raw, cs_srv_transport_endpoint(srv)), 0);

    /* A frame of the maximum size passes... */
    CS_CHECK_INT(zmq_send(raw, big, CS_FRAME_MAX, 0), CS_FRAME_MAX);
    CS_CHECK_INT(s_server_recv(srv, &msg, S_WAIT_MS), 0);
    CS_CHECK_INT(msg.len, CS_FRAME_MAX);
    /* ...one byte more ends the connection, and nothing is delivered. */
    CS_CHECK_INT(zmq_send(raw, big, sizeof big, 0), (int)sizeof big);
    CS_CHECK(s_wait_disconnected(monitor));
    CS_CHECK_INT(s_server_recv(srv, &msg, S_QUIET_MS),
                 CS_SRV_TRANSPORT_ERR_EMPTY);

    zmq_socket_monitor(raw, NULL, 0);
    zmq_close(raw);
    zmq_close(monitor);
    zmq_ctx_term(ctx);
    cs_srv_transport_destroy(&srv);
    cs_key_destroy(&server_key);
    cs_key_destroy(&node);
}

static const struct cs_test_case cases[] = {
    {"curve_keys", test_curve_keys},
    {"zap_refuses_unknown_key", test_zap_refuses_unknown_key},
    {"revoke_ends_session", test_revoke_ends_session},
    {"send_to_gone_peer_fails", test_send_to_gone_peer_fails},
    {"destroy_never_hangs", test_destroy_never_hangs},
    {"socket_options", test_socket_options},
    {"oversize_frame_dropped", test_oversize_frame_dropped},
    {NULL, NULL}};

CS_TEST_MAIN(cases)
