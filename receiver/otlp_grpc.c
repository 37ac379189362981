#include "receiver/otlp_grpc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "receiver/grpc_session.h"
#include "receiver/listen.h"

/* Output bytes buffered per connection before the session waits for the socket. */
#define MAX_OUTPUT_BUFFERED (1 << 20)
/* With opts.direct_reads (enum xb_grpc_reads), plaintext connections are read with
 * recv() straight into one buffer per server, handed to nghttp2 and reused: libevent
 * 2.1's bufferevent reads at most 4096 bytes per call (EVBUFFER_MAX_READ), so a 74 kB
 * request took 18 or more loop rounds, each copied into an evbuffer first. recv() calls
 * per readiness before the loop serves other connections: */
#define WORKER_READS_PER_EVENT 4
#define SHARED_READS_PER_EVENT 1

struct conn {
    struct xb_grpc_server *srv;
    struct bufferevent *bev;
    struct xb_grpc_session *sess;
    struct conn *prev, *next;
    struct xb_conn_slot slot; /* accept guard entry */
    struct event *timer;      /* next deadline */
    struct event *rd;         /* plaintext: our read event (the bufferevent only writes);
                                 NULL with TLS */
};

struct xb_grpc_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct xb_ingest *ing;
    struct xb_grpc_server_opts opts;
    struct xb_grpc_session_limits lim;
    struct xb_listen_guard *guard;
    struct conn *conns;
    size_t n_conns;
    size_t inflight_bytes;
    size_t *inflight;    /* &inflight_bytes, or opts.shared_inflight */
    size_t read_chunk;   /* bytes of rbuf: one direct recv() */
    int reads_per_event; /* direct recv() calls per readiness */
    uint8_t *rbuf;       /* read_chunk bytes for direct plaintext reads (NULL: the
                            bufferevent reads, as with TLS) */
    char bound[128];     /* the listening address, "ip:port" */
    int draining;
};

/* ---- connection lifetime ------------------------------------------------ */

/* A connection counted by the balance callback is gone (or was refused). */
static void uncount(struct xb_grpc_server *s)
{
    if (s->opts.closed)
        s->opts.closed(s->opts.balance_ud);
}

static void conn_free(struct conn *c)
{
    struct xb_grpc_server *s = c->srv;
    enum xb_conn_refused reason = xb_grpc_session_close_reason(c->sess);

    if (reason != XB_CONN_REFUSED_COUNT)
        xb_listen_guard_count_refused(s->guard, reason);
    xb_grpc_session_free(c->sess);
    if (c->rd)
        event_free(c->rd);
    bufferevent_free(c->bev);
    event_free(c->timer);
    xb_listen_guard_release(&c->slot);
    uncount(s);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c);
}

/* ---- session environment --------------------------------------------------- */

static ssize_t env_write(void *ud, const uint8_t *data, size_t len)
{
    struct conn *c = ud;

    if (evbuffer_get_length(bufferevent_get_output(c->bev)) >= MAX_OUTPUT_BUFFERED)
        return 0;
    if (bufferevent_write(c->bev, data, len) != 0)
        return -1;
    return (ssize_t)len;
}

static void env_export(void *ud, int gzip, const uint8_t *msg, size_t len,
                       struct xb_ingest_outcome *o)
{
    struct conn *c = ud;

    xb_ingest_export(c->srv->ing, XB_TRANSPORT_GRPC, XB_BODY_PROTOBUF, gzip, msg, len,
                     c->srv->opts.max_msg_bytes, o);
}

static void env_progress(void *ud, uint64_t now_ms)
{
    struct conn *c = ud;

    xb_listen_guard_progress(&c->slot, now_ms);
}

/* Lets the session act on deadlines and write, re-arms the timer, and closes the
 * connection when the session says so (a finished one once its output has left: on_write
 * runs when the output buffer drains). Returns -1 when |c| was freed. */
static int conn_service(struct conn *c)
{
    uint64_t now = xb_listen_now_ms(), next = UINT64_MAX;
    enum xb_grpc_session_status st = xb_grpc_session_service(c->sess, now, &next);

    if (st == XB_GRPC_SESSION_CLOSE || (st == XB_GRPC_SESSION_FINISHED &&
                                        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)) {
        conn_free(c);
        return -1;
    }
    c->slot.busy = xb_grpc_session_busy(c->sess);
    if (next != UINT64_MAX) {
        uint64_t ms = next > now ? next - now : 0;
        struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
                             .tv_usec = (suseconds_t)((ms % 1000) * 1000)};
        evtimer_add(c->timer, &tv);
    }
    return 0;
}

/* ---- socket I/O ---------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    conn_service(ud);
}

/* Hands |len| received bytes to the session. Returns -1 when it broke the protocol
 * (then |c| was freed). */
static int feed(struct conn *c, const uint8_t *data, size_t len)
{
    if (xb_grpc_session_recv(c->sess, data, len, xb_listen_now_ms()) != XB_OK) {
        if (xb_grpc_session_close_reason(c->sess) == XB_CONN_REFUSED_COUNT)
            xb_listen_guard_count_refused(c->srv->guard, XB_CONN_REFUSED_PROTOCOL_ABUSE);
        conn_free(c);
        return -1;
    }
    return 0;
}

/* Plaintext: the socket is readable. nghttp2 takes every byte it is given (it keeps
 * what it needs of a partial frame), so the buffer is free again after each feed. */
static void on_sock_read(evutil_socket_t fd, short what, void *ud)
{
    struct conn *c = ud;
    uint8_t *buf = c->srv->rbuf;

    for (int i = 0; i < c->srv->reads_per_event; i++) {
        ssize_t n = recv(fd, buf, c->srv->read_chunk, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (n <= 0) { /* the client closed, or the connection failed */
            conn_free(c);
            return;
        }
        /* Answer between reads: nghttp2's WINDOW_UPDATEs go out as data is consumed,
         * as they did when the bufferevent delivered 4 kB per round. */
        if (feed(c, buf, (size_t)n) != 0 || conn_service(c) != 0)
            return;
        if ((size_t)n < c->srv->read_chunk)
            return;
    }
}

/* TLS: the bufferevent read and decrypted into its input buffer; each of its chunks
 * goes to the session in place (no copy into one block). */
static void on_read(struct bufferevent *bev, void *ud)
{
    struct conn *c = ud;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec v[8];

    while (evbuffer_get_length(in) > 0) {
        int nv = evbuffer_peek(in, -1, NULL, v, 8);
        size_t took = 0;
        for (int i = 0; i < nv && i < 8; i++) {
            if (feed(c, v[i].iov_base, v[i].iov_len) != 0)
                return;
            took += v[i].iov_len;
        }
        if (took == 0)
            break;
        evbuffer_drain(in, took);
    }
    conn_service(c);
}

static void on_write(struct bufferevent *bev, void *ud)
{
    conn_service(ud);
}

static void on_event(struct bufferevent *bev, short events, void *ud)
{
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_free(ud);
}

/* Accept guard: make room for a newer connection. */
static void on_evict(struct xb_conn_slot *slot, void *ud)
{
    conn_free(ud);
}

/* Serves accepted (or adopted) connection |fd|, counted by the balance callback. */
static void conn_open(struct xb_grpc_server *s, evutil_socket_t fd)
{
    uint64_t now = xb_listen_now_ms();
    struct xb_grpc_session_env env;
    struct conn *c;

    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        uncount(s);
        return;
    }
    c->srv = s;
    c->slot.evict = on_evict;
    c->slot.ud = c;
    if (xb_listen_guard_admit(s->guard, &c->slot, now) != XB_OK) {
        free(c);
        close(fd);
        uncount(s);
        return;
    }
    env = (struct xb_grpc_session_env){.write = env_write,
                                       .export_msg = env_export,
                                       .progress = env_progress,
                                       .ud = c,
                                       .inflight = s->inflight};
    c->bev = s->opts.tls ? xb_tls_bufferevent(s->opts.tls, s->base, fd)
                         : bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(s->base, on_timer, c);
    if (s->rbuf)
        c->rd = event_new(s->base, fd, EV_READ | EV_PERSIST, on_sock_read, c);
    if (!c->bev || !c->timer || (s->rbuf && !c->rd) ||
        xb_grpc_session_new(&s->lim, &env, now, &c->sess) != XB_OK) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            close(fd);
        if (c->timer)
            event_free(c->timer);
        if (c->rd)
            event_free(c->rd);
        xb_listen_guard_release(&c->slot);
        free(c);
        uncount(s);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    if (c->rd) {
        bufferevent_enable(c->bev, EV_WRITE);
        event_add(c->rd, NULL);
    } else {
        bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    }
    conn_service(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *ud)
{
    struct xb_grpc_server *s = ud;

    if (s->draining) {
        close(fd);
        return;
    }
    if (s->opts.balance && s->opts.balance(s->opts.balance_ud, fd))
        return; /* another worker's server adopts it */
    conn_open(s, fd);
}

/* ---- public -------------------------------------------------------------- */

void xb_grpc_server_adopt(struct xb_grpc_server *s, int fd)
{
    if (s->draining) {
        close(fd);
        uncount(s);
        return;
    }
    conn_open(s, fd);
}

int xb_grpc_server_start(struct event_base *base, struct xb_ingest *ing,
                         const struct xb_grpc_server_opts *opts, struct xb_grpc_server **out,
                         char *err, size_t err_len)
{
    struct xb_grpc_server *s = calloc(1, sizeof(*s));
    char bound[128];

    if (!s)
        return XB_ERR_NOMEM;
    s->base = base;
    s->ing = ing;
    s->opts = *opts;
    s->inflight = opts->shared_inflight ? opts->shared_inflight : &s->inflight_bytes;
    if (opts->direct_reads == XB_GRPC_READS_SHARED) {
        s->read_chunk = XB_GRPC_SHARED_READ_BUFFER_BYTES;
        s->reads_per_event = SHARED_READS_PER_EVENT;
    } else {
        s->read_chunk = XB_GRPC_READ_BUFFER_BYTES;
        s->reads_per_event = WORKER_READS_PER_EVENT;
    }
    if (!opts->tls && opts->direct_reads != XB_GRPC_READS_BUFFEREVENT &&
        !(s->rbuf = malloc(s->read_chunk))) {
        free(s);
        return XB_ERR_NOMEM;
    }
    s->lim = (struct xb_grpc_session_limits){.max_msg_bytes = opts->max_msg_bytes,
                                             .max_concurrent_streams = opts->max_concurrent_streams,
                                             .max_header_list_size = opts->max_header_list_size,
                                             .max_inflight_bytes = opts->max_inflight_bytes,
                                             .timeouts = opts->timeouts};
    s->listener =
        xb_listen_opt(base, opts->endpoint, opts->reuse_port, on_accept, s, bound, sizeof(bound));
    if (!s->listener) {
        snprintf(err, err_len, "otlp grpc receiver: %s", bound);
        free(s->rbuf);
        free(s);
        return XB_ERR_IO;
    }
    s->guard =
        xb_listen_guard_new(base, s->listener, XB_TRANSPORT_GRPC, "grpc", opts->max_connections);
    if (!s->guard) {
        evconnlistener_free(s->listener);
        free(s->rbuf);
        free(s);
        return XB_ERR_NOMEM;
    }
    if (opts->shared_connections)
        xb_listen_guard_share(s->guard, opts->shared_connections);
    snprintf(s->bound, sizeof(s->bound), "%s", bound);
    if (!opts->quiet)
        XB_INFO("grpc", "otlp grpc receiver listening on %s", bound);
    *out = s;
    return XB_OK;
}

void xb_grpc_server_drain(struct xb_grpc_server *s)
{
    struct conn *c, *next;

    if (!s || s->draining)
        return;
    s->draining = 1;
    if (s->listener) {
        xb_listen_guard_free(s->guard);
        s->guard = NULL;
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    for (c = s->conns; c; c = next) {
        next = c->next;
        xb_grpc_session_goaway(c->sess);
        conn_service(c);
    }
}

const char *xb_grpc_server_bound(const struct xb_grpc_server *s)
{
    return s->bound;
}

size_t xb_grpc_server_connections(const struct xb_grpc_server *s)
{
    return s ? s->n_conns : 0;
}

void xb_grpc_server_free(struct xb_grpc_server *s)
{
    if (!s)
        return;
    while (s->conns)
        conn_free(s->conns);
    xb_listen_guard_free(s->guard);
    if (s->listener)
        evconnlistener_free(s->listener);
    free(s->rbuf);
    free(s);
}
