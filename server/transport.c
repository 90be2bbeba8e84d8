/*  server/transport.c - the server's CurveZMQ ROUTER: see transport.h.
 *
 *  The order of start and stop matters for security, not style: the ZAP
 *  handler is bound before the ROUTER binds and unbound only after the
 *  ROUTER is closed, because libzmq 4.3 lets any CURVE key in whenever no
 *  handler answers at inproc://zeromq.zap.01.
 */
#include "prelude.h"

#include "transport.h"
#include "zap.h"

#define CS_SRV_ENDPOINT_MAX 256 /* ZMQ_LAST_ENDPOINT text, with NUL */

struct cs_srv_transport {
    void *ctx;                          /* libzmq context, owned */
    struct cs_zap *zap;                 /* ZAP handler in ctx, owned */
    void *router;                       /* the bound ROUTER */
    struct cs_srv_transport_auth auth;  /* who may connect */
    char endpoint[CS_SRV_ENDPOINT_MAX]; /* bound endpoint, with port */
};

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

/* Gives the ROUTER every option of transport.h, and CURVE server keys. */
static int
s_configure(void *sock, const struct cs_key *key)
{
    uint8_t pk[CS_KEY_CURVE_BYTES];
    uint8_t sk[CS_KEY_CURVE_BYTES];
    int64_t max = CS_SRV_TRANSPORT_MAXMSGSIZE;
    int ttl = CS_SRV_TRANSPORT_HEARTBEAT_TTL_MS;
    int r;

    /* See CS_SRV_TRANSPORT_HEARTBEAT_TTL_MAX_MS: a larger TTL wraps. */
    if (ttl > CS_SRV_TRANSPORT_HEARTBEAT_TTL_MAX_MS)
        ttl = CS_SRV_TRANSPORT_HEARTBEAT_TTL_MAX_MS;
    if ((r = cs_key_curve(key, pk, sk)) != 0)
        goto out;
    r = CS_ERR_IO;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sk, sizeof sk) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, CS_ZAP_DOMAIN,
                       strlen(CS_ZAP_DOMAIN)) != 0) {
        cs_log_err(r, "zmq_setsockopt: %s", zmq_strerror(errno));
        goto out;
    }
    if ((r = s_set_int(sock, ZMQ_CURVE_SERVER, 1)) != 0 ||
        (r = s_set_int(sock, ZMQ_LINGER, CS_SRV_TRANSPORT_LINGER_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_ROUTER_MANDATORY, 1)) != 0 ||
        (r = s_set_int(sock, ZMQ_HEARTBEAT_IVL,
                       CS_SRV_TRANSPORT_HEARTBEAT_IVL_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_HEARTBEAT_TIMEOUT,
                       CS_SRV_TRANSPORT_HEARTBEAT_TIMEOUT_MS)) != 0 ||
        (r = s_set_int(sock, ZMQ_HEARTBEAT_TTL, ttl)) != 0)
        goto out;
    r = 0;
out:
    sodium_memzero(sk, sizeof sk);
    return r;
}

int
cs_srv_transport_new(const char *endpoint, const struct cs_key *key,
                     const struct cs_srv_transport_auth *auth,
                     struct cs_srv_transport **out)
{
    struct cs_srv_transport *t = cs_xcalloc(1, sizeof *t);
    size_t len = sizeof t->endpoint;
    int r = CS_ERR_IO;

    assert(auth->allow != NULL);
    assert(auth->still_allowed != NULL);
    *out = NULL;
    t->auth = *auth;
    if ((t->ctx = zmq_ctx_new()) == NULL) {
        cs_log_err(r, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto out;
    }
    /* ZAP first: see the top of this file. */
    if ((r = cs_zap_new(t->ctx, auth->allow, auth->arg, &t->zap)) != 0)
        goto out;
    r = CS_ERR_IO;
    if ((t->router = zmq_socket(t->ctx, ZMQ_ROUTER)) == NULL) {
        cs_log_err(r, "zmq_socket: %s", zmq_strerror(errno));
        goto out;
    }
    if ((r = s_configure(t->router, key)) != 0)
        goto out;
    r = CS_ERR_IO;
    if (zmq_bind(t->router, endpoint) != 0) {
        cs_log_err(r, "cannot listen on %s: %s", endpoint, zmq_strerror(errno));
        goto out;
    }
    if (zmq_getsockopt(t->router, ZMQ_LAST_ENDPOINT, t->endpoint, &len) != 0) {
        cs_log_err(r, "ZMQ_LAST_ENDPOINT: %s", zmq_strerror(errno));
        goto out;
    }
    t->endpoint[sizeof t->endpoint - 1] = '\0';
    *out = t;
    t = NULL;
    r = 0;
out:
    cs_srv_transport_destroy(&t);
    return r;
}

void
cs_srv_transport_destroy(struct cs_srv_transport **t)
{
    struct cs_srv_transport *tr = *t;

    if (tr == NULL)
        return;
    /* ROUTER before ZAP: see the top of this file. */
    if (tr->router != NULL)
        zmq_close(tr->router);
    cs_zap_destroy(&tr->zap);
    if (tr->ctx != NULL)
        zmq_ctx_term(tr->ctx);
    free(tr);
    *t = NULL;
}

const char *
cs_srv_transport_endpoint(const struct cs_srv_transport *t)
{
    return t->endpoint;
}

void *
cs_srv_transport_socket(const struct cs_srv_transport *t)
{
    return t->router;
}

void *
cs_srv_transport_zap_socket(const struct cs_srv_transport *t)
{
    return cs_zap_socket(t->zap);
}

bool
cs_srv_transport_poll(struct cs_srv_transport *t, int timeout_ms)
{
    zmq_pollitem_t item = {t->router, 0, ZMQ_POLLIN, 0};

    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return false;
    return (item.revents & ZMQ_POLLIN) != 0;
}

/* Reads and drops the rest of a multi-frame message. */
static void
s_drain(void *sock)
{
    int more = 1;
    size_t len = sizeof more;

    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0)
            more = 0;
        zmq_msg_close(&m);
        len = sizeof more;
    }
}

/* Copies the User-Id of m into msg->node_hex, if it is a node id; returns
   true then. */
static bool
s_user_id(zmq_msg_t *m, struct cs_srv_msg *msg)
{
    const char *user_id = zmq_msg_gets(m, "User-Id");
    struct cs_node_id id;

    if (user_id == NULL || cs_node_id_parse(user_id, &id) != 0)
        return false;
    cs_node_id_hex(&id, msg->node_hex);
    return true;
}

int
cs_srv_transport_recv(struct cs_srv_transport *t, struct cs_srv_msg *msg)
{
    zmq_msg_t rid;
    zmq_msg_t data;
    size_t n;
    int r = CS_ERR_IO;

    msg->routing_id_len = 0;
    msg->node_hex[0] = '\0';
    msg->len = 0;
    zmq_msg_init(&rid);
    zmq_msg_init(&data);
    if (zmq_msg_recv(&rid, t->router, ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN)
            r = CS_SRV_TRANSPORT_ERR_EMPTY;
        else
            cs_log_err(r, "zmq_msg_recv: %s", zmq_strerror(errno));
        goto out;
    }
    n = zmq_msg_size(&rid);
    if (n == 0 || n > sizeof msg->routing_id || !zmq_msg_more(&rid)) {
        cs_log_err(r, "ROUTER gave a routing id of %zu bytes", n);
        s_drain(t->router);
        goto out;
    }
    memcpy(msg->routing_id, zmq_msg_data(&rid), n);
    msg->routing_id_len = n;
    /* A ROUTER delivers the routing id and the frames after it as one
       atomic message: the rest is already here. */
    if (zmq_msg_recv(&data, t->router, ZMQ_DONTWAIT) < 0) {
        cs_log_err(r, "zmq_msg_recv: %s", zmq_strerror(errno));
        goto out;
    }
    /* The identity is the key ZAP admitted, never the routing id. */
    if (!s_user_id(&data, msg) ||
        !t->auth.still_allowed(t->auth.arg, msg->node_hex)) {
        r = CS_SRV_TRANSPORT_ERR_REVOKED;
        cs_log_info("dropped a message from %s: no longer allowed",
                    msg->node_hex[0] != '\0' ? msg->node_hex : "(no id)");
        s_drain(t->router);
        goto out;
    }
    if (zmq_msg_more(&data)) {
        r = CS_ERR_FORMAT;
        cs_log_err(r, "node %s sent a multi-frame message", msg->node_hex);
        s_drain(t->router);
        goto out;
    }
    /* MAXMSGSIZE already refused anything larger; check again rather than
       overflow msg->data if the option were ever lost. */
    n = zmq_msg_size(&data);
    if (n > sizeof msg->data) {
        r = CS_ERR_TOO_BIG;
        cs_log_err(r, "node %s sent %zu bytes", msg->node_hex, n);
        goto out;
    }
    if (n > 0)
        memcpy(msg->data, zmq_msg_data(&data), n);
    msg->len = n;
    r = 0;
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&data);
    return r;
}

int
cs_srv_transport_send(struct cs_srv_transport *t, const uint8_t *rid,
                      size_t rid_len, const uint8_t *p, size_t len)
{
    assert(p != NULL || len == 0);
    if (len > CS_FRAME_MAX)
        return CS_ERR_TOO_BIG;
    if (rid_len == 0 || rid_len > CS_SRV_TRANSPORT_ROUTING_ID_MAX)
        return CS_SRV_TRANSPORT_ERR_GONE;
    /* With ZMQ_ROUTER_MANDATORY an unknown routing id fails here, with
       EHOSTUNREACH, instead of vanishing. */
    if (zmq_send(t->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        goto fail;
    if (zmq_send(t->router, len > 0 ? p : (const void *)"", len, ZMQ_DONTWAIT) <
        0)
        goto fail;
    return 0;
fail:
    if (errno == EHOSTUNREACH)
        return CS_SRV_TRANSPORT_ERR_GONE;
    cs_log_err(CS_ERR_IO, "zmq_send: %s", zmq_strerror(errno));
    return CS_ERR_IO;
}
