/*  server/zap.c - the ZAP handler (RFC 27): see zap.h.
 *
 *  A request is at most CS_ZAP_REQUEST_FRAMES frames: version "1.0",
 *  request id, domain, address, routing id, mechanism, and for CURVE one
 *  credentials frame, the client's 32-byte public key.  The reply is six
 *  frames: version, request id, status code, status text, User-Id and
 *  (empty) metadata.  A REP socket must answer every request it read,
 *  even a malformed one, or it stops reading: so every request gets a
 *  reply, "400" unless allow() said yes.
 *
 *  Stopping: cs_zap_destroy() sends one message on an inproc PAIR that
 *  the thread polls beside the REP socket, then joins the thread, which
 *  closes its sockets itself.  The thread never unbinds on any other
 *  condition, since an unbound handler means "admit everyone" to libzmq
 *  4.3 (zap.h); a failing zmq_poll() is retried after a short pause.
 */
#include "prelude.h"

#include "zap.h"

#define CS_ZAP_ENDPOINT "inproc://zeromq.zap.01"      /* fixed by RFC 27 */
#define CS_ZAP_CONTROL "inproc://cigsync.zap.control" /* stop channel */
#define CS_ZAP_VERSION "1.0"     /* the only ZAP version, RFC 27 */
#define CS_ZAP_MECHANISM "CURVE" /* the only mechanism we serve */
#define CS_ZAP_REQUEST_FRAMES 7  /* a CURVE request, frames */
#define CS_ZAP_READ_MAX 16       /* frames read before dropping */
#define CS_ZAP_RETRY_MS 100      /* pause after a failed zmq_poll() */
#define CS_ZAP_LINGER_MS 0       /* inproc: nothing worth flushing */
#define CS_ZAP_STATUS_OK "200"   /* RFC 27 status codes */
#define CS_ZAP_STATUS_DENIED "400"
#define CS_ZAP_TEXT_OK "OK" /* and their texts */
#define CS_ZAP_TEXT_DENIED "refused"

/* Request frames, by position (RFC 27 "Request"). */
enum {
    S_VERSION = 0,
    S_REQUEST_ID = 1,
    S_DOMAIN = 2,
    S_MECHANISM = 5,
    S_CREDENTIALS = 6
};

struct cs_zap {
    void *ctx;         /* the server's context; not owned */
    void *handler;     /* REP at CS_ZAP_ENDPOINT, used by the thread */
    void *control_in;  /* PAIR the thread polls for "stop" */
    void *control_out; /* PAIR cs_zap_destroy() writes to */
    bool (*allow)(void *arg, const uint8_t curve_pk[CS_KEY_CURVE_BYTES],
                  char user_id[CS_ZAP_USER_ID_MAX]); /* the decision */
    void *arg;                                       /* passed to allow */
    pthread_t thread;                                /* runs s_run() */
    bool running; /* thread was started and not yet joined */
};

/* Creates a socket of type with the options every cigsync socket has:
   MAXMSGSIZE (STYLE.md 27) and a bounded linger.  NULL on failure. */
static void *
s_socket(void *ctx, int type)
{
    void *sock = zmq_socket(ctx, type);
    int64_t max = CS_FRAME_MAX;
    int linger = CS_ZAP_LINGER_MS;

    if (sock == NULL)
        return NULL;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

/* Returns true if frame m holds exactly the text s. */
static bool
s_frame_is(zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/* Sends one reply frame; more is ZMQ_SNDMORE or 0. */
static void
s_send(void *sock, const void *p, size_t len, int more)
{
    if (zmq_send(sock, p, len, more) < 0)
        cs_log_warn("zap: cannot send a reply: %s", zmq_strerror(errno));
}

/* Decides one request of n frames in parts and sends the reply. */
static void
s_answer(struct cs_zap *z, zmq_msg_t *parts, int n)
{
    char user_id[CS_ZAP_USER_ID_MAX] = "";
    const char *status;
    const char *text;
    bool ok = false;

    if (n == CS_ZAP_REQUEST_FRAMES &&
        s_frame_is(&parts[S_VERSION], CS_ZAP_VERSION) &&
        s_frame_is(&parts[S_DOMAIN], CS_ZAP_DOMAIN) &&
        s_frame_is(&parts[S_MECHANISM], CS_ZAP_MECHANISM) &&
        zmq_msg_size(&parts[S_CREDENTIALS]) == CS_KEY_CURVE_BYTES) {
        ok = z->allow(z->arg, zmq_msg_data(&parts[S_CREDENTIALS]), user_id);
        user_id[CS_ZAP_USER_ID_MAX - 1] = '\0';
        /* An empty User-Id would name nobody: refuse rather than admit
           a connection no message of which could be attributed. */
        ok = ok && user_id[0] != '\0';
    }
    if (!ok) {
        user_id[0] = '\0';
        cs_log_info("zap: refused a client key");
    }
    s_send(z->handler, CS_ZAP_VERSION, strlen(CS_ZAP_VERSION), ZMQ_SNDMORE);
    if (n > S_REQUEST_ID)
        s_send(z->handler, zmq_msg_data(&parts[S_REQUEST_ID]),
               zmq_msg_size(&parts[S_REQUEST_ID]), ZMQ_SNDMORE);
    else
        s_send(z->handler, "", 0, ZMQ_SNDMORE);
    status = ok ? CS_ZAP_STATUS_OK : CS_ZAP_STATUS_DENIED;
    text = ok ? CS_ZAP_TEXT_OK : CS_ZAP_TEXT_DENIED;
    s_send(z->handler, status, strlen(status), ZMQ_SNDMORE);
    s_send(z->handler, text, strlen(text), ZMQ_SNDMORE);
    s_send(z->handler, user_id, strlen(user_id), ZMQ_SNDMORE);
    s_send(z->handler, "", 0, 0);
}

/* Reads one request (all of its frames, keeping the first
   CS_ZAP_READ_MAX) and answers it. */
static void
s_serve(struct cs_zap *z)
{
    zmq_msg_t parts[CS_ZAP_READ_MAX];
    zmq_msg_t extra;
    int n = 0;
    int more = 1;

    while (more) {
        zmq_msg_t *m = n < CS_ZAP_READ_MAX ? &parts[n] : &extra;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, z->handler, 0) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(m);
        else
            n++;
    }
    if (n > 0)
        s_answer(z, parts, n);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

static void *
s_run(void *arg)
{
    struct cs_zap *z = arg;
    zmq_pollitem_t items[] = {{z->handler, 0, ZMQ_POLLIN, 0},
                              {z->control_in, 0, ZMQ_POLLIN, 0}};

    for (;;) {
        items[0].revents = 0;
        items[1].revents = 0;
        if (zmq_poll(items, 2, -1) < 0) {
            if (errno == ETERM)
                break;
            if (errno != EINTR)
                usleep(CS_ZAP_RETRY_MS * 1000);
            continue;
        }
        if (items[1].revents & ZMQ_POLLIN)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            s_serve(z);
    }
    zmq_close(z->handler);
    zmq_close(z->control_in);
    return NULL;
}

int
cs_zap_new(void *ctx,
           bool (*allow)(void *arg, const uint8_t curve_pk[CS_KEY_CURVE_BYTES],
                         char user_id[CS_ZAP_USER_ID_MAX]),
           void *arg, struct cs_zap **out)
{
    struct cs_zap *z = cs_xcalloc(1, sizeof *z);
    int r = CS_ERR_IO;

    assert(ctx != NULL);
    assert(allow != NULL);
    *out = NULL;
    z->ctx = ctx;
    z->allow = allow;
    z->arg = arg;
    z->handler = s_socket(ctx, ZMQ_REP);
    z->control_in = s_socket(ctx, ZMQ_PAIR);
    z->control_out = s_socket(ctx, ZMQ_PAIR);
    if (z->handler == NULL || z->control_in == NULL || z->control_out == NULL) {
        cs_log_err(r, "zap: zmq_socket: %s", zmq_strerror(errno));
        goto out;
    }
    if (zmq_bind(z->handler, CS_ZAP_ENDPOINT) != 0) {
        r = errno == EADDRINUSE ? CS_ERR_EXISTS : CS_ERR_IO;
        cs_log_err(r, "zap: bind %s: %s", CS_ZAP_ENDPOINT, zmq_strerror(errno));
        goto out;
    }
    if (zmq_bind(z->control_in, CS_ZAP_CONTROL) != 0 ||
        zmq_connect(z->control_out, CS_ZAP_CONTROL) != 0) {
        cs_log_err(r, "zap: control: %s", zmq_strerror(errno));
        goto out;
    }
    /* pthread_create() is a full barrier: the sockets move to the thread
       safely (zmq(7) "Thread safety"). */
    if (pthread_create(&z->thread, NULL, s_run, z) != 0) {
        cs_log_err(r, "zap: cannot start the handler thread");
        goto out;
    }
    z->running = true;
    *out = z;
    z = NULL;
    r = 0;
out:
    cs_zap_destroy(&z);
    return r;
}

void
cs_zap_destroy(struct cs_zap **z)
{
    struct cs_zap *zap = *z;

    if (zap == NULL)
        return;
    if (zap->running) {
        /* The PAIR is connected and holds up to its HWM: this cannot
           block. */
        if (zmq_send(zap->control_out, "", 0, 0) < 0)
            cs_log_warn("zap: cannot stop the handler: %s",
                        zmq_strerror(errno));
        pthread_join(zap->thread, NULL);
    } else {
        if (zap->handler != NULL)
            zmq_close(zap->handler);
        if (zap->control_in != NULL)
            zmq_close(zap->control_in);
    }
    if (zap->control_out != NULL)
        zmq_close(zap->control_out);
    free(zap);
    *z = NULL;
}

void *
cs_zap_socket(const struct cs_zap *z)
{
    return z->handler;
}
