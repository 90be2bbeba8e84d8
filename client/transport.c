/*  client/transport.c - the office's CurveZMQ DEALER: see transport.h.
 *
 *  Waiting is zmq_poll() on the one socket, then a non-blocking call, so
 *  every wait is bounded by its caller's timeout and no socket option
 *  changes between calls.  With ZMQ_IMMEDIATE the DEALER is writable only
 *  while a handshaken connection is up.
 */
#include "prelude.h"

#include "proto.h"
#include "transport.h"

struct cs_cli_transport {
    void *ctx;     /* libzmq context, owned */
    void *dealer;  /* the connecting DEALER */
    void *monitor; /* PAIR receiving the DEALER's connection events */
};

#define S_MONITOR_EVENTS                                                       \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |   \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
#define S_MONITOR_FRAME_MAX 1024 /* an event frame, or its endpoint */
#define S_MONITOR_EVENT_BYTES 6  /* uint16 event, uint32 value */

/* Sets an int option; returns 0 or CS_ERR_IO (logged). */
static int
s_set_int(void *sock, int option, int value)
{
    if (zmq_setsockopt(sock, option, &value, sizeof value) == 0)
        return 0;
    cs_log_err(CS_ERR_IO, "zmq_setsockopt(%d, %d): %s", option, value,
               zmq_strerror(errno));
    return CS_ERR_IO;
}

/* Gives the DEALER every option of transport.h, and CURVE client keys. */
static int
s_configure(void *sock, const struct cs_key *key,
            const struct cs_pubkey *server, int reconnect_max_ms)
{
    uint8_t server_pk[CS_KEY_CURVE_BYTES];
    uint8_t pk[CS_KEY_CURVE_BYTES];
    uint8_t sk[CS_KEY_CURVE_BYTES];
    int64_t max = CS_CLI_TRANSPORT_MAXMSGSIZE;
    int ttl = CS_CLI_TRANSPORT_HEARTBEAT_TTL_MS;
    int r;

    /* See CS_CLI_TRANSPORT_HEARTBEAT_TTL_MAX_MS: a larger TTL wraps. */
    if (ttl > CS_CLI_TRANSPORT_HEARTBEAT_TTL_MAX_MS)
        ttl = CS_CLI_TRANSPORT_HEARTBEAT_TTL_MAX_MS;
    if ((r = cs_pubkey_curve(server, server_pk)) != 0 ||
        (r = cs_key_curve(key, pk, sk)) != 0)
        goto out;
    r = CS_ERR_IO;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pk,
                       sizeof server_pk) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pk, sizeof pk) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sk, sizeof sk) != 0) {
        cs_log_err(r, "zmq_setsockopt: %s", zmq_strerror(errno));
        goto out;
    }
    if ((r = s_set_int(sock, ZMQ_LINGER, CS_CLI_TRANSPORT_LINGER_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_IMMEDIATE, 1)) != 0 ||
        (r = s_set_int(sock, ZMQ_RECONNECT_IVL,
                       CS_CLI_TRANSPORT_RECONNECT_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_RECONNECT_IVL_MAX, reconnect_max_ms)) != 0 ||
        (r = s_set_int(sock, ZMQ_HEARTBEAT_IVL,
                       CS_CLI_TRANSPORT_HEARTBEAT_IVL_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_HEARTBEAT_TIMEOUT,
                       CS_CLI_TRANSPORT_HEARTBEAT_TIMEOUT_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_HEARTBEAT_TTL, ttl)) != 0)
        goto out;
    r = 0;
out:
    sodium_memzero(sk, sizeof sk);
    return r;
}

int
cs_cli_transport_new(const char *endpoint, const struct cs_key *key,
                     const struct cs_pubkey *server,
                     struct cs_cli_transport **out)
{
    return cs_cli_transport_new_backoff(endpoint, key, server,
                                        CS_CLI_TRANSPORT_RECONNECT_MAX_MS, out);
}

int
cs_cli_transport_new_backoff(const char *endpoint, const struct cs_key *key,
                             const struct cs_pubkey *server,
                             int reconnect_max_ms,
                             struct cs_cli_transport **out)
{
    struct cs_cli_transport *t = cs_xcalloc(1, sizeof *t);
    int r = CS_ERR_IO;

    *out = NULL;
    if ((t->ctx = zmq_ctx_new()) == NULL) {
        cs_log_err(r, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto out;
    }
    if ((t->dealer = zmq_socket(t->ctx, ZMQ_DEALER)) == NULL) {
        cs_log_err(r, "zmq_socket: %s", zmq_strerror(errno));
        goto out;
    }
    if (reconnect_max_ms < CS_CLI_TRANSPORT_RECONNECT_MS)
        reconnect_max_ms = CS_CLI_TRANSPORT_RECONNECT_MS;
    if ((r = s_configure(t->dealer, key, server, reconnect_max_ms)) != 0)
        goto out;
    r = CS_ERR_IO;
    {
        char addr[64];
        int64_t max = S_MONITOR_FRAME_MAX;
        snprintf(addr, sizeof addr, "inproc://cs-monitor-%p", (void *)t);
        if (zmq_socket_monitor(t->dealer, addr, S_MONITOR_EVENTS) != 0 ||
            (t->monitor = zmq_socket(t->ctx, ZMQ_PAIR)) == NULL ||
            zmq_setsockopt(t->monitor, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
            s_set_int(t->monitor, ZMQ_LINGER, 0) != 0 ||
            zmq_connect(t->monitor, addr) != 0) {
            cs_log_err(r, "cannot watch the connection: %s",
                       zmq_strerror(errno));
            goto out;
        }
    }
    if (zmq_connect(t->dealer, endpoint) != 0) {
        cs_log_err(r, "cannot connect to %s: %s", endpoint,
                   zmq_strerror(errno));
        goto out;
    }
    *out = t;
    t = NULL;
    r = 0;
out:
    cs_cli_transport_destroy(&t);
    return r;
}

void
cs_cli_transport_destroy(struct cs_cli_transport **t)
{
    struct cs_cli_transport *tr = *t;

    if (tr == NULL)
        return;
    /* zmq_ctx_term() waits for the socket's linger, bounded above. */
    if (tr->dealer != NULL) {
        if (tr->monitor != NULL)
            zmq_socket_monitor(tr->dealer, NULL, 0);
        zmq_close(tr->dealer);
    }
    if (tr->monitor != NULL)
        zmq_close(tr->monitor);
    if (tr->ctx != NULL)
        zmq_ctx_term(tr->ctx);
    free(tr);
    *t = NULL;
}

void *
cs_cli_transport_socket(const struct cs_cli_transport *t)
{
    return t->dealer;
}

/* Waits up to timeout_ms for events on the DEALER.  Returns 0 when they
   are there, CS_CLI_TRANSPORT_ERR_TIMEOUT, or CS_ERR_IO. */
static int
s_wait(struct cs_cli_transport *t, short events, int timeout_ms)
{
    zmq_pollitem_t item = {t->dealer, 0, events, 0};
    int n = zmq_poll(&item, 1, timeout_ms);

    if (n < 0) {
        if (errno == EINTR)
            return CS_CLI_TRANSPORT_ERR_TIMEOUT;
        cs_log_err(CS_ERR_IO, "zmq_poll: %s", zmq_strerror(errno));
        return CS_ERR_IO;
    }
    if (n == 0 || (item.revents & events) == 0)
        return CS_CLI_TRANSPORT_ERR_TIMEOUT;
    return 0;
}

int
cs_cli_transport_send(struct cs_cli_transport *t, const uint8_t *p, size_t len,
                      int timeout_ms)
{
    int r;

    assert(p != NULL || len == 0);
    if (len > CS_FRAME_MAX)
        return CS_ERR_TOO_BIG;
    if ((r = s_wait(t, ZMQ_POLLOUT, timeout_ms)) != 0)
        return r;
    if (zmq_send(t->dealer, len > 0 ? p : (const void *)"", len, ZMQ_DONTWAIT) <
        0) {
        if (errno == EAGAIN)
            return CS_CLI_TRANSPORT_ERR_TIMEOUT;
        cs_log_err(CS_ERR_IO, "zmq_send: %s", zmq_strerror(errno));
        return CS_ERR_IO;
    }
    return 0;
}

int
cs_cli_transport_recv(struct cs_cli_transport *t, uint8_t buf[CS_FRAME_MAX],
                      size_t *len, int timeout_ms)
{
    zmq_msg_t m;
    size_t n;
    int r;

    *len = 0;
    if ((r = s_wait(t, ZMQ_POLLIN, timeout_ms)) != 0)
        return r;
    zmq_msg_init(&m);
    r = CS_ERR_IO;
    if (zmq_msg_recv(&m, t->dealer, ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN)
            r = CS_CLI_TRANSPORT_ERR_TIMEOUT;
        else
            cs_log_err(r, "zmq_msg_recv: %s", zmq_strerror(errno));
        goto out;
    }
    if (zmq_msg_more(&m)) {
        r = CS_ERR_FORMAT;
        cs_log_err(r, "the server sent a multi-frame message");
        while (zmq_msg_more(&m) &&
               zmq_msg_recv(&m, t->dealer, ZMQ_DONTWAIT) >= 0)
            ;
        goto out;
    }
    /* MAXMSGSIZE refused anything larger already; check again rather
       than overflow buf if the option were ever lost. */
    n = zmq_msg_size(&m);
    if (n > CS_FRAME_MAX) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    if (n > 0)
        memcpy(buf, zmq_msg_data(&m), n);
    *len = n;
    r = 0;
out:
    zmq_msg_close(&m);
    return r;
}

void *
cs_cli_transport_monitor(const struct cs_cli_transport *t)
{
    return t->monitor;
}

int
cs_cli_transport_event(struct cs_cli_transport *t, int *event, int *value)
{
    uint8_t buf[S_MONITOR_FRAME_MAX];
    uint16_t ev;
    uint32_t val;
    int more = 0, n;
    size_t len = sizeof more;

    *event = 0;
    *value = 0;
    n = zmq_recv(t->monitor, buf, sizeof buf, ZMQ_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN ? CS_CLI_TRANSPORT_ERR_TIMEOUT : CS_ERR_IO;
    if (n >= S_MONITOR_EVENT_BYTES) {
        memcpy(&ev, buf, sizeof ev); /* host order, as libzmq wrote it */
        memcpy(&val, buf + sizeof ev, sizeof val);
        *event = ev;
        *value = (int)val;
    }
    /* The second frame names the endpoint: not needed. */
    while (zmq_getsockopt(t->monitor, ZMQ_RCVMORE, &more, &len) == 0 && more)
        if (zmq_recv(t->monitor, buf, sizeof buf, ZMQ_DONTWAIT) < 0)
            break;
    return n >= S_MONITOR_EVENT_BYTES ? 0 : CS_ERR_FORMAT;
}
