#include "receiver/otlp_http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "receiver/http_conn.h"
#include "receiver/listen.h"
#include "receiver/status.h"
#include "receiver/tls.h"

#define TRACES_PATH "/v1/traces"
#define CT_PROTOBUF "application/x-protobuf"
#define CT_JSON "application/json"

/* Bytes read and discarded before closing a refused connection, so that the close does
 * not turn into a reset that could destroy the answer before the client reads it. */
#define REFUSE_DRAIN_MAX (256 * 1024)
/* Largest recv() when a plaintext body is read ahead (pull_body). */
#define PULL_CHUNK (256 * 1024)

struct xb_http_server;

/*
 * One client connection as the receiver tracks it. evhttp owns the connection
 * (struct evhttp_connection) and its bufferevent; we create that bufferevent (bevcb),
 * hold a reference on it so that it stays valid until we let go, watch its input
 * buffer, and learn the evhttp_connection from the bufferevent's callback argument
 * once evhttp has set it up ("adoption", deferred to the work event).
 */
struct http_conn {
    struct xb_conn_slot slot; /* accept guard entry */
    struct xb_http_server *s;
    struct bufferevent *bev;         /* referenced (bufferevent_incref) */
    struct evhttp_connection *evcon; /* NULL until adopted */
    struct evbuffer_cb_entry *in_cb; /* on the bufferevent's input buffer */
    struct event *timer;             /* the current deadline */
    struct xb_http_head head;        /* request head scanner (HEAD phase) */
    enum xb_http_phase phase;
    uint64_t since_ms; /* start of the phase's clock (http_conn.h) */
    uint64_t charged;  /* in-flight body budget held */
    int doomed;        /* to be closed by the work event */
    uint64_t body_in;  /* bytes that arrived after the head (BODY phase; may include the
                          next pipelined request) */
    int pulling;       /* inside pull_body (its commits call on_input again) */
    struct http_conn *prev, *next;
};

struct xb_http_server {
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct xb_listen_guard *guard; /* NULL once draining */
    struct event *work;            /* adopts new connections, closes doomed ones */
    struct http_conn *conns;
    struct http_conn *freeing; /* connection being freed by close_now() */
    uint64_t own_inflight;     /* body bytes charged across this server's connections */
    uint64_t *inflight;        /* the budget: &own_inflight, or shared between workers */
    char bound_addr[128];      /* the listening address, "ip:port" */
    struct xb_ingest *ing;
    struct xb_http_server_opts opts;
    struct xb_buf out; /* reused response body */
    int draining;
};

/* After the budget changed by |delta|: this server's own charge (when the budget is
 * shared; else the budget is own_inflight itself) and the gauge. */
static void note_inflight(struct xb_http_server *s, int64_t delta)
{
    if (s->inflight != &s->own_inflight)
        s->own_inflight += (uint64_t)delta;
    XB_METRIC_ADD(xb_receiver_metrics.receiver_inflight_bytes[XB_TRANSPORT_HTTP], delta);
}

/* Adjusts this server's charge, the (possibly shared) budget and the gauge by |delta|. */
static void add_inflight(struct xb_http_server *s, int64_t delta)
{
    __atomic_fetch_add(s->inflight, (uint64_t)delta, __ATOMIC_RELAXED);
    note_inflight(s, delta);
}

/* Charges |charge| bytes if the budget has room (xb_http_budget_admit), atomically with
 * respect to other workers sharing it. Returns 1 when charged. */
static int try_charge(struct xb_http_server *s, uint64_t charge)
{
    uint64_t used = __atomic_load_n(s->inflight, __ATOMIC_RELAXED);

    do {
        if (!xb_http_budget_admit(used, charge, s->opts.max_inflight_body_bytes))
            return 0;
    } while (!__atomic_compare_exchange_n(s->inflight, &used, used + charge, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    note_inflight(s, (int64_t)charge);
    return 1;
}

static void release_budget(struct http_conn *c)
{
    if (c->charged) {
        add_inflight(c->s, -(int64_t)c->charged);
        c->charged = 0;
    }
}

/* Drops our tracking of |c| (its connection is gone or going): slot, budget, buffer
 * callback, timer, reference on the bufferevent. */
static void forget(struct http_conn *c)
{
    struct xb_http_server *s = c->s;

    if (s->freeing == c)
        s->freeing = NULL;
    xb_listen_guard_release(&c->slot);
    release_budget(c);
    if (s->opts.open_connections) /* counted when accepted */
        __atomic_fetch_sub(s->opts.open_connections, 1, __ATOMIC_RELAXED);
    if (c->in_cb)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
    if (c->timer)
        event_free(c->timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_decref(c->bev);
    free(c);
}

/* evhttp is freeing the connection (client gone, error, keep-alive end, ours). */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    struct http_conn *c = arg;
    (void)evcon;
    c->evcon = NULL;
    forget(c);
}

/* Frees |c|'s connection now. Only from callbacks of our own events (never from inside
 * an evhttp or bufferevent callback of the same connection). */
static void close_now(struct http_conn *c)
{
    struct xb_http_server *s = c->s;

    s->freeing = c;
    evhttp_connection_free(c->evcon); /* runs on_close -> forget */
    if (s->freeing == c)              /* evhttp did not report the close */
        forget(c);
    s->freeing = NULL;
}

/* Marks |c| to be closed by the work event, and stops reading from it meanwhile. */
static void schedule_close(struct http_conn *c)
{
    c->doomed = 1;
    bufferevent_disable(c->bev, EV_READ);
    event_active(c->s->work, EV_TIMEOUT, 1);
}

/* The evhttp_connection that |c|'s bufferevent belongs to now: its callback argument,
 * NULL once evhttp has freed it (bufferevent_free() clears the callbacks; our
 * reference keeps the bufferevent itself readable). */
static struct evhttp_connection *evcon_of(struct http_conn *c)
{
    void *arg = NULL;

    bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
    return arg;
}

/* Learns |c|'s evhttp_connection from its bufferevent. Returns 0, or -1 when evhttp
 * has already freed it (then |c| is forgotten). */
static int adopt(struct http_conn *c)
{
    struct evhttp_connection *evcon = evcon_of(c);

    if (!evcon) {
        forget(c);
        return -1;
    }
    c->evcon = evcon;
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    return 0;
}

static void on_work(evutil_socket_t fd, short what, void *arg)
{
    struct xb_http_server *s = arg;
    struct http_conn *c, *next;
    (void)fd;
    (void)what;

    for (c = s->conns; c; c = next) {
        next = c->next;
        if (!c->evcon && adopt(c) != 0)
            continue;
        if (!c->doomed)
            continue;
        if (evcon_of(c) == c->evcon)
            close_now(c);
        else /* freed without reporting it: nothing left to close */
            forget(c);
    }
}

/* (Re)arms |c|'s timer for the deadline of its phase. */
static void arm_deadline(struct http_conn *c, uint64_t now_ms)
{
    struct xb_http_deadline d = xb_http_deadline_of(c->phase, c->since_ms, &c->s->opts.timeouts);
    uint64_t in_ms;
    struct timeval tv;

    if (d.kind == XB_HTTP_DL_NONE) {
        evtimer_del(c->timer);
        return;
    }
    in_ms = d.at_ms > now_ms ? d.at_ms - now_ms : 0;
    tv.tv_sec = (time_t)(in_ms / 1000);
    tv.tv_usec = (suseconds_t)(in_ms % 1000) * 1000;
    evtimer_add(c->timer, &tv);
}

/*
 * Writes a whole response straight to the socket (bypassing evhttp, which has not
 * seen this request yet or is reading its body), discards what the client already
 * sent, and half-closes. The connection must then be closed (schedule_close).
 */
static void raw_reply(struct http_conn *c, int code, const char *reason, const char *ctype,
                      int retry_after_s, const void *body, size_t body_len)
{
    char head[384], retry[48] = "", junk[4096];
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    struct iovec iov[2];
    struct msghdr msg;
    size_t drained = 0;
    int n;

    if (fd < 0)
        return;
    if (retry_after_s > 0)
        snprintf(retry, sizeof(retry), "Retry-After: %d\r\n", retry_after_s);
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                 "Connection: close\r\n\r\n",
                 code, reason, ctype, body_len, retry);
    if (n <= 0 || (size_t)n >= sizeof(head))
        return;
    iov[0] = (struct iovec){head, (size_t)n};
    iov[1] = (struct iovec){(void *)body, body_len};
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = body_len ? 2 : 1;
    (void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (drained < REFUSE_DRAIN_MAX) {
        ssize_t r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
        if (r <= 0)
            break;
        drained += (size_t)r;
    }
    shutdown(fd, SHUT_WR);
}

/* The request's body does not fit in max_inflight_body_size: 503 + Retry-After. */
static void refuse_busy(struct http_conn *c)
{
    struct xb_http_server *s = c->s;
    struct xb_ingest_outcome o = {
        .rc = XB_ERR_AGAIN,
        .refusal = XB_REFUSAL_BUSY,
        .err_desc = "receiver busy: request bodies in flight exceed max_inflight_body_size"};
    struct xb_reply r;

    xb_ingest_account(XB_TRANSPORT_HTTP, &o);
    xb_reply_from_outcome(&o, &r);
    xb_buf_clear(&s->out);
    if (xb_reply_status_body(r.grpc_code, r.message, 0, c->head.json, &s->out) != XB_OK)
        xb_buf_clear(&s->out);
    raw_reply(c, r.http_status, r.http_reason, c->head.json ? CT_JSON : CT_PROTOBUF,
              r.retry_after_s, s->out.data, s->out.len);
    schedule_close(c);
}

/* The head of the request on |c| is complete: charge its body to the budget. */
static void head_complete(struct http_conn *c, uint64_t now_ms)
{
    struct xb_http_server *s = c->s;
    uint64_t charge = xb_http_body_charge(&c->head, s->opts.max_body_bytes);

    c->phase = XB_HTTP_PHASE_BODY;
    arm_deadline(c, now_ms);
    if (!try_charge(s, charge)) {
        refuse_busy(c);
        return;
    }
    c->charged = charge;
}

/* Feeds the |n| bytes of |buf| from offset |from| to the head scanner. */
static void scan_head(struct http_conn *c, struct evbuffer *buf, size_t from, size_t n,
                      uint64_t now_ms)
{
    struct evbuffer_ptr pos;
    struct evbuffer_iovec v[8];

    if (evbuffer_ptr_set(buf, &pos, from, EVBUFFER_PTR_SET) != 0)
        return;
    while (n && !c->head.done) {
        int nv = evbuffer_peek(buf, (ev_ssize_t)n, &pos, v, 8);
        size_t took = 0;
        if (nv <= 0)
            break;
        for (int i = 0; i < nv && i < 8 && took < n && !c->head.done; i++) {
            size_t len = v[i].iov_len < n - took ? v[i].iov_len : n - took;
            took += xb_http_head_feed(&c->head, v[i].iov_base, len);
        }
        n -= took;
        from += took;
        if (took == 0 || evbuffer_ptr_set(buf, &pos, took, EVBUFFER_PTR_ADD) != 0)
            break;
    }
    if (c->head.done) {
        size_t len = evbuffer_get_length(buf);
        c->body_in = len > from ? len - from : 0; /* what followed the head's last byte */
        head_complete(c, now_ms);
    }
}

/*
 * Plaintext, head complete with a Content-Length that was charged: reads the rest of
 * the body straight into the input buffer with large recv() calls. libevent 2.1's
 * bufferevent reads at most 4096 bytes per event-loop round (EVBUFFER_MAX_READ), so a
 * 74 kB body otherwise takes 18 or more rounds and chains of 4 kB that evbuffer_pullup
 * then copies into one block. The bytes go where the bufferevent would have put them;
 * evhttp parses them when this callback returns. Never more than the body's missing
 * bytes are read (c->body_in counts what arrived after the head), so the next pipelined
 * request is read and scanned as before; end of file and errors are left for the
 * bufferevent's next read to report.
 */
static void pull_body(struct http_conn *c, struct evbuffer *buf)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    uint64_t left;

    if (fd < 0 || !c->s->opts.read_ahead)
        return;
    c->pulling = 1;
    while (
        (left = xb_http_body_pull_want(&c->head, c->charged, c->body_in, c->s->opts.tls != NULL))) {
        struct evbuffer_iovec v[1];
        size_t want = left < PULL_CHUNK ? (size_t)left : PULL_CHUNK;
        ssize_t n;
        if (evbuffer_reserve_space(buf, (ev_ssize_t)want, v, 1) != 1)
            break;
        n = recv(fd, v[0].iov_base, want < v[0].iov_len ? want : v[0].iov_len, MSG_DONTWAIT);
        if (n <= 0)
            break; /* nothing more yet, end of file or an error: the bufferevent sees it */
        v[0].iov_len = (size_t)n;
        if (evbuffer_commit_space(buf, v, 1) != 0)
            break;
        c->body_in += (uint64_t)n;
    }
    c->pulling = 0;
}

/* Bytes arrived on |c| (runs inside the bufferevent's read, before evhttp parses). */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct http_conn *c = arg;
    size_t len = evbuffer_get_length(buf);
    uint64_t now;

    if (info->n_added == 0 || c->doomed || c->pulling)
        return;
    now = xb_listen_now_ms();
    if (c->phase == XB_HTTP_PHASE_IDLE) { /* first byte of the next request */
        c->phase = XB_HTTP_PHASE_HEAD;
        c->since_ms = now;
        xb_http_head_init(&c->head);
        arm_deadline(c, now);
    }
    if (c->phase == XB_HTTP_PHASE_REPLY) {
        /* evhttp keeps reading while it sends a response and parses nothing until it is
         * sent: a client that does not read its answers could pile up input without
         * bound. Stop reading; evhttp enables it again for the next request. */
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (c->phase == XB_HTTP_PHASE_BODY) {
        c->body_in += info->n_added;
        pull_body(c, buf);
        return;
    }
    if (c->phase != XB_HTTP_PHASE_HEAD)
        return;
    scan_head(c, buf, info->n_added <= len ? len - info->n_added : 0,
              info->n_added <= len ? info->n_added : len, now);
    if (c->phase == XB_HTTP_PHASE_BODY && !c->doomed)
        pull_body(c, buf);
}

/* A deadline of |c| passed: close it (a body deadline is answered 408 first). */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    uint64_t now = xb_listen_now_ms();
    struct xb_http_deadline d = xb_http_deadline_of(c->phase, c->since_ms, &c->s->opts.timeouts);
    static const char body[] = "request not received within read_timeout\n";
    struct xb_reply r;
    (void)fd;
    (void)what;

    if (c->doomed || d.kind == XB_HTTP_DL_NONE)
        return;
    if (now < d.at_ms) { /* timer fired early (clock granularity) */
        arm_deadline(c, now);
        return;
    }
    XB_METRIC_ADD(
        xb_receiver_metrics.connections_refused[XB_TRANSPORT_HTTP][XB_CONN_REFUSED_TIMEOUT], 1);
    XB_DEBUG("http", "closing connection: %s passed", xb_http_deadline_name(d.kind));
    if (c->phase == XB_HTTP_PHASE_BODY) { /* a request was under way: refuse it */
        xb_reply_refuse(XB_TRANSPORT_HTTP, XB_REFUSAL_TIMEOUT, body, &r);
        raw_reply(c, r.http_status, r.http_reason, "text/plain; charset=utf-8", 0, body,
                  sizeof(body) - 1);
    }
    schedule_close(c);
}

/* Guard callback: |slot|'s connection is evicted to make room for a new one. */
static void on_evict(struct xb_conn_slot *slot, void *ud)
{
    struct http_conn *c = ud;

    xb_listen_guard_release(slot);
    schedule_close(c); /* not from inside evhttp's accept: the work event frees it */
}

/* evhttp's bufferevent factory: one call per accepted connection. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    struct xb_http_server *s = arg;
    struct bufferevent *bev = s->opts.tls ? xb_tls_bufferevent(s->opts.tls, base, -1)
                                          : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct http_conn *c;
    uint64_t now = xb_listen_now_ms();

    if (!bev)
        return NULL; /* evhttp makes its own; the connection is not tracked */
    c = calloc(1, sizeof(*c));
    if (!c)
        return bev;
    c->timer = evtimer_new(base, on_deadline, c);
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
    if (!c->timer || !c->in_cb) {
        if (c->in_cb)
            evbuffer_remove_cb_entry(bufferevent_get_input(bev), c->in_cb);
        if (c->timer)
            event_free(c->timer);
        free(c);
        return bev;
    }
    bufferevent_incref(bev);
    c->s = s;
    c->bev = bev;
    c->phase = XB_HTTP_PHASE_HEAD;
    c->since_ms = now;
    c->slot.evict = on_evict;
    c->slot.ud = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (s->opts.open_connections) /* until forget() */
        __atomic_fetch_add(s->opts.open_connections, 1, __ATOMIC_RELAXED);
    arm_deadline(c, now);
    if (s->guard && xb_listen_guard_admit(s->guard, &c->slot, now) != XB_OK)
        c->doomed = 1; /* every connection busy: this one is closed */
    event_active(s->work, EV_TIMEOUT, 1);
    return bev;
}

/* The tracked connection |req| arrived on, adopting it if needed; NULL if untracked. */
static struct http_conn *conn_of(struct xb_http_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

    for (struct http_conn *c = s->conns; c; c = c->next) {
        if (c->bev != bev)
            continue;
        if (!c->evcon && adopt(c) != 0)
            return NULL;
        return c;
    }
    return NULL;
}

/* The response on |c| has been written: back to keep-alive idle, budget released. */
static void on_complete(struct evhttp_request *req, void *arg)
{
    struct http_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    uint64_t now = xb_listen_now_ms();
    size_t pending;
    (void)req;

    release_budget(c);
    c->slot.busy = 0;
    xb_listen_guard_progress(&c->slot, now);
    c->phase = XB_HTTP_PHASE_IDLE;
    c->since_ms = now;
    xb_http_head_init(&c->head);
    pending = evbuffer_get_length(in);
    if (pending && !c->doomed) { /* a pipelined request already arrived */
        c->phase = XB_HTTP_PHASE_HEAD;
        arm_deadline(c, now);
        scan_head(c, in, 0, pending, now);
        return;
    }
    arm_deadline(c, now);
}

/* The whole request is in: start the write deadline, hold the connection busy. */
static int enter_reply(struct xb_http_server *s, struct evhttp_request *req)
{
    struct http_conn *c = conn_of(s, req);
    uint64_t now = xb_listen_now_ms();

    if (!c)
        return 0;
    if (c->doomed)
        return -1; /* refused or timed out: closed without an answer */
    if (c->phase != XB_HTTP_PHASE_BODY && !c->charged) {
        /* head not seen by the scanner (pipelined): charge what is buffered */
        c->charged = evbuffer_get_length(evhttp_request_get_input_buffer(req));
        add_inflight(s, (int64_t)c->charged);
    }
    c->phase = XB_HTTP_PHASE_REPLY;
    c->since_ms = now;
    c->slot.busy = 1;
    xb_listen_guard_progress(&c->slot, now);
    arm_deadline(c, now);
    evhttp_request_set_on_complete_cb(req, on_complete, c);
    return 0;
}

/* Case-insensitive match of a media type, ignoring parameters ("; charset=utf-8"). */
static int media_type_is(const char *value, const char *type)
{
    size_t n = strlen(type);
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, type, n) != 0)
        return 0;
    value += n;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value == '\0' || *value == ';';
}

/* Refuses a request that is not an OTLP export (|reason|: unknown path, method or
 * content type) with |text| as a plain-text body: the client's encoding is unknown. */
static void refuse_text(struct evhttp_request *req, enum xb_refusal reason, const char *text)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    struct xb_reply r;

    xb_reply_refuse(XB_TRANSPORT_HTTP, reason, text, &r);
    if (r.allow_post)
        evhttp_add_header(h, "Allow", "POST");
    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    if (b)
        evbuffer_add_printf(b, "%s\n", r.message);
    evhttp_send_reply(req, r.http_status, r.http_reason, b);
    if (b)
        evbuffer_free(b);
}

/* Sends |r| with a body in the request's encoding (|json|). */
static void send_reply(struct xb_http_server *s, struct evhttp_request *req, int json,
                       const struct xb_ingest_outcome *o, const struct xb_reply *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    char retry[16];
    int rc;

    xb_buf_clear(&s->out);
    if (r->http_status == 200)
        rc = xb_reply_success_body(o, json, &s->out);
    else
        rc = xb_reply_status_body(r->grpc_code, r->message, 0, json, &s->out);
    evhttp_add_header(h, "Content-Type", json ? CT_JSON : CT_PROTOBUF);
    if (r->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%d", r->retry_after_s);
        evhttp_add_header(h, "Retry-After", retry);
    }
    if (r->accept_encoding)
        evhttp_add_header(h, "Accept-Encoding", XB_ACCEPT_ENCODING);
    if (s->draining)
        evhttp_add_header(h, "Connection", "close");
    if (b && rc == XB_OK)
        evbuffer_add(b, s->out.data, s->out.len);
    evhttp_send_reply(req, r->http_status, r->http_reason, b);
    if (b)
        evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *ud)
{
    struct xb_http_server *s = ud;
    struct evkeyvalq *in_h = evhttp_request_get_input_headers(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *ct = evhttp_find_header(in_h, "Content-Type");
    const char *ce = evhttp_find_header(in_h, "Content-Encoding");
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    struct xb_ingest_outcome o;
    struct xb_reply r;
    int json, gzip = 0;
    size_t len;
    void *data;

    if (enter_reply(s, req) != 0)
        return;
    if (!path || strcmp(path, TRACES_PATH) != 0) {
        refuse_text(req, XB_REFUSAL_UNKNOWN_PATH,
                    "not found: OTLP traces are accepted at POST /v1/traces");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        refuse_text(req, XB_REFUSAL_METHOD_NOT_ALLOWED, "method not allowed, supported: [POST]");
        return;
    }
    if (ct && media_type_is(ct, CT_PROTOBUF)) {
        json = 0;
    } else if (ct && media_type_is(ct, CT_JSON)) {
        json = 1;
    } else {
        refuse_text(req, XB_REFUSAL_UNSUPPORTED_MEDIA_TYPE,
                    "unsupported content type, supported: [application/json, "
                    "application/x-protobuf]");
        return;
    }
    if (s->draining) {
        o = (struct xb_ingest_outcome){.rc = XB_ERR_AGAIN,
                                       .refusal = XB_REFUSAL_DRAINING,
                                       .err_desc = "shutting down, retry on another connection"};
        xb_ingest_account(XB_TRANSPORT_HTTP, &o);
        xb_reply_from_outcome(&o, &r);
        send_reply(s, req, json, &o, &r);
        return;
    }
    if (ce && strcasecmp(ce, "gzip") == 0) {
        gzip = 1;
    } else if (ce && *ce && strcasecmp(ce, "identity") != 0) {
        /* 415 + Accept-Encoding (RFC 9110 15.5.16), as gRPC answers UNIMPLEMENTED +
         * grpc-accept-encoding: receiver/status.h */
        o = (struct xb_ingest_outcome){.rc = XB_ERR_UNSUPPORTED,
                                       .err_desc =
                                           "unsupported Content-Encoding (use gzip or none)"};
        xb_ingest_account(XB_TRANSPORT_HTTP, &o);
        xb_reply_from_outcome(&o, &r);
        send_reply(s, req, json, &o, &r);
        return;
    }
    len = evbuffer_get_length(body);
    data = evbuffer_pullup(body, -1);
    xb_ingest_export(s->ing, XB_TRANSPORT_HTTP, json ? XB_BODY_JSON : XB_BODY_PROTOBUF, gzip,
                     data ? data : "", len, s->opts.max_body_bytes, &o);
    xb_reply_from_outcome(&o, &r);
    send_reply(s, req, json, &o, &r);
}

/* Longest configured deadline in whole seconds plus one: evhttp's own inactivity
 * timeout, a backstop behind ours (it restarts on every byte). 0 = none configured. */
static int backstop_s(const struct xb_http_timeouts *to)
{
    uint32_t m = to->read_header_ms;
    if (to->read_ms > m)
        m = to->read_ms;
    if (to->idle_ms > m)
        m = to->idle_ms;
    if (to->write_ms > m)
        m = to->write_ms;
    return m ? (int)(m / 1000 + 1) : 0;
}

int xb_http_server_start(struct event_base *base, struct xb_ingest *ing,
                         const struct xb_http_server_opts *opts, struct xb_http_server **out,
                         char *err, size_t err_len)
{
    struct xb_http_server *s = calloc(1, sizeof(*s));
    struct evconnlistener *l;
    char bound[128];
    int rc = XB_ERR_NOMEM;

    if (!s)
        return XB_ERR_NOMEM;
    s->ing = ing;
    s->opts = *opts;
    s->inflight = opts->shared_inflight ? opts->shared_inflight : &s->own_inflight;
    xb_buf_init(&s->out, 0);
    s->http = evhttp_new(base);
    s->work = event_new(base, -1, 0, on_work, s);
    if (!s->http || !s->work)
        goto fail;
    /* Let every method reach on_request so that wrong ones get 405, not 501. */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    /* libevent answers 413 itself for bodies over the limit, before buffering them. */
    evhttp_set_max_body_size(s->http, (ev_ssize_t)opts->max_body_bytes);
    evhttp_set_max_headers_size(s->http, 64 * 1024);
    if (backstop_s(&opts->timeouts))
        evhttp_set_timeout(s->http, backstop_s(&opts->timeouts));
    evhttp_set_bevcb(s->http, on_new_connection, s);
    evhttp_set_gencb(s->http, on_request, s);
    rc = XB_ERR_IO;
    l = xb_listen_opt(base, opts->endpoint, opts->reuse_port, NULL, NULL, bound, sizeof(bound));
    if (!l) {
        snprintf(err, err_len, "otlp http receiver: %s", bound);
        goto fail;
    }
    if (opts->tls)
        xb_tls_listener_nodelay(l);
    s->bound = evhttp_bind_listener(s->http, l);
    if (!s->bound) {
        snprintf(err, err_len, "otlp http receiver: cannot attach listener");
        evconnlistener_free(l);
        goto fail;
    }
    s->guard = xb_listen_guard_new(base, l, XB_TRANSPORT_HTTP, "http", opts->max_connections);
    if (!s->guard) {
        rc = XB_ERR_NOMEM;
        goto fail;
    }
    if (opts->shared_connections)
        xb_listen_guard_share(s->guard, opts->shared_connections);
    snprintf(s->bound_addr, sizeof(s->bound_addr), "%s", bound);
    if (!opts->quiet)
        XB_INFO("http", "otlp http receiver listening on %s", bound);
    *out = s;
    return XB_OK;
fail:
    xb_http_server_free(s);
    return rc;
}

const char *xb_http_server_bound(const struct xb_http_server *s)
{
    return s->bound_addr;
}

void xb_http_server_drain(struct xb_http_server *s)
{
    if (!s || s->draining)
        return;
    s->draining = 1;
    /* The guard borrows the listener that evhttp_del_accept_socket() frees. */
    xb_listen_guard_free(s->guard);
    s->guard = NULL;
    if (s->bound) {
        evhttp_del_accept_socket(s->http, s->bound);
        s->bound = NULL;
    }
}

void xb_http_server_free(struct xb_http_server *s)
{
    if (!s)
        return;
    xb_listen_guard_free(s->guard); /* before evhttp_free() frees its listener */
    s->guard = NULL;
    if (s->http)
        evhttp_free(s->http); /* closes every connection: on_close forgets each */
    while (s->conns)          /* accepted but never adopted */
        forget(s->conns);
    if (s->own_inflight) /* what connections never released */
        add_inflight(s, -(int64_t)s->own_inflight);
    if (s->work)
        event_free(s->work);
    xb_buf_cleanup(&s->out);
    free(s);
}
