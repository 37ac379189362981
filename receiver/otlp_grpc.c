#include "receiver/otlp_grpc.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "receiver/grpc_deadline.h"
#include "receiver/grpc_frame.h"
#include "receiver/listen.h"
#include "receiver/status.h"

#define EXPORT_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
/* Non-standard plural spelling some clients use (accepted by Fluent Bit too). */
#define EXPORT_PATH_ALIAS "/opentelemetry.proto.collector.traces.v1.TracesService/Export"
#define STREAM_WINDOW (1 << 20)
#define CONN_WINDOW (16 << 20)
#define MAX_OUTPUT_BUFFERED (1 << 20)
/* HEADERS + CONTINUATION frames accepted for one header block (CVE-2024-28182). */
#define MAX_CONTINUATIONS 8
/* Incoming RST_STREAM token bucket: burst and refill per second (CVE-2023-44487, rapid
 * reset); past it nghttp2 sends GOAWAY and the connection closes. */
#define RST_BURST 200
#define RST_RATE 33
/* Per-entry overhead added to name + value when sizing a header list (RFC 9113 6.5.2). */
#define HEADER_ENTRY_OVERHEAD 32

struct conn;

struct stream {
    int32_t id;
    struct conn *conn;
    struct stream *prev, *next; /* the connection's open streams */
    uint64_t opened_ms;         /* HEADERS received (monotonic ms) */
    size_t header_bytes;        /* header list size so far (name + value + 32 each) */
    int headers_too_big;        /* over max_header_list_size */
    int expired;                /* answered DEADLINE_EXCEEDED */
    int path_ok;                /* :path is the Export method */
    int ct_ok;                  /* content-type is application/grpc[+proto] */
    int gzip;                   /* grpc-encoding: gzip */
    int bad_encoding;           /* grpc-encoding we do not support */
    int responded;              /* an answer has been submitted */
    int remote_done;            /* the client sent END_STREAM */
    int rst_pending;            /* reset the upload once our trailers-only answer is sent */
    struct xb_buf body;
    /* response */
    struct xb_buf resp; /* gRPC-framed response message */
    size_t resp_off;
    char status_str[8];
    char message[512];
    char details[128]; /* base64 google.rpc.Status for grpc-status-details-bin */
};

struct conn {
    struct xb_grpc_server *srv;
    struct bufferevent *bev;
    nghttp2_session *sess;
    struct conn *prev, *next;
    struct xb_conn_slot slot; /* accept guard entry */
    struct stream *streams;   /* open streams (freed with the connection) */
    size_t n_answering;       /* streams whose upload is complete, answer pending */
    struct event *timer;      /* next deadline */
    struct xb_grpc_conn_times times;
    int counted; /* closing reason already counted */
    int rearm;   /* deadlines changed (a stream opened or the last one closed) */
};

struct xb_grpc_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct xb_ingest *ing;
    struct xb_grpc_server_opts opts;
    struct xb_grpc_timeouts timeouts;
    struct xb_listen_guard *guard;
    nghttp2_option *h2opt;
    struct conn *conns;
    size_t n_conns;
    size_t inflight_bytes;
    int draining;
};

/* ---- connection lifetime ------------------------------------------------ */

/* Adjusts the request bytes held across all streams, and its gauge. */
static void inflight_add(struct xb_grpc_server *s, int64_t delta)
{
    s->inflight_bytes = (size_t)((int64_t)s->inflight_bytes + delta);
    xb_metrics.receiver_inflight_bytes[XB_TRANSPORT_GRPC] = s->inflight_bytes;
}

static void stream_free(struct stream *st);
static int conn_pump(struct conn *c);

static void conn_free(struct conn *c)
{
    struct xb_grpc_server *s = c->srv;
    /* nghttp2_session_del() does not run on_stream_close: free the open streams (and
     * give back their in-flight bytes) here. */
    while (c->streams)
        stream_free(c->streams);
    nghttp2_session_del(c->sess);
    bufferevent_free(c->bev);
    event_free(c->timer);
    xb_listen_guard_release(&c->slot);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c);
}

static void stream_free(struct stream *st)
{
    struct conn *c;

    if (!st)
        return;
    c = st->conn;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    if (st->remote_done && c->n_answering > 0)
        c->n_answering--;
    c->slot.busy = c->n_answering > 0;
    if (--c->times.open_streams == 0) {
        c->times.idle_since_ms = xb_listen_now_ms();
        c->rearm = 1;
    }
    inflight_add(c->srv, -(int64_t)st->body.len);
    xb_buf_cleanup(&st->body);
    xb_buf_cleanup(&st->resp);
    free(st);
}

/* ---- responses ----------------------------------------------------------- */

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NO_COPY_NAME     \
    }

static ssize_t resp_read(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    struct stream *st = src->ptr;
    size_t left = st->resp.len - st->resp_off;
    size_t n = left < length ? left : length;

    memcpy(buf, st->resp.data + st->resp_off, n);
    st->resp_off += n;
    if (st->resp_off == st->resp.len) {
        nghttp2_nv trailers[] = {NV("grpc-status", st->status_str)};
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (nghttp2_submit_trailer(sess, id, trailers, 1) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

/* Answered before the client finished uploading: once the answer has left (see
 * on_frame_send), RST_STREAM(NO_ERROR) tells the client to stop sending. Resetting
 * earlier would overtake the HEADERS frame and the client would see no status. */
static void stop_upload(struct stream *st)
{
    if (!st->remote_done)
        st->rst_pending = 1;
}

/* Trailers-only answer: one HEADERS frame with END_STREAM. */
static void respond_error(struct stream *st, int http_status, enum xb_grpc_code code,
                          const char *message, int retry_after_s)
{
    char http_str[8];
    nghttp2_nv nva[6];
    size_t n = 0;

    if (st->responded)
        return;
    st->responded = 1;
    snprintf(http_str, sizeof(http_str), "%d", http_status);
    snprintf(st->status_str, sizeof(st->status_str), "%d", (int)code);
    xb_grpc_percent_encode(message, st->message, sizeof(st->message));
    nva[n++] = (nghttp2_nv)NV(":status", http_str);
    nva[n++] = (nghttp2_nv)NV("content-type", "application/grpc");
    nva[n++] = (nghttp2_nv)NV("grpc-status", st->status_str);
    nva[n++] = (nghttp2_nv)NV("grpc-message", st->message);
    if (code == XB_GRPC_UNIMPLEMENTED && st->bad_encoding)
        nva[n++] = (nghttp2_nv)NV("grpc-accept-encoding", "identity,gzip");
    if (retry_after_s > 0) {
        struct xb_buf sb;
        xb_buf_init(&sb, 96);
        if (xb_reply_status_body(code, message, retry_after_s, 0, &sb) == XB_OK) {
            int len = EVP_EncodeBlock((unsigned char *)st->details, (const unsigned char *)sb.data,
                                      (int)sb.len);
            while (len > 0 && st->details[len - 1] == '=') /* gRPC emits unpadded */
                st->details[--len] = '\0';
            nva[n++] = (nghttp2_nv)NV("grpc-status-details-bin", st->details);
        }
        xb_buf_cleanup(&sb);
    }
    nghttp2_submit_response(st->conn->sess, st->id, nva, n, NULL);
    stop_upload(st);
}

/* Answers an export request refused before or by the ingest path: counted once
 * (xb_ingest_account) and mapped once (xb_reply_from_outcome). */
static void respond_refusal(struct stream *st, int rc, const char *desc)
{
    struct xb_ingest_outcome o = {.rc = rc, .err_desc = desc};
    struct xb_reply r;

    if (st->responded)
        return;
    xb_ingest_account(XB_TRANSPORT_GRPC, &o);
    xb_reply_from_outcome(&o, &r);
    respond_error(st, 200, r.grpc_code, r.message, r.retry_after_s);
}

static void respond_ok(struct stream *st, const struct xb_ingest_outcome *o)
{
    uint8_t hdr[XB_GRPC_FRAME_HDR];
    nghttp2_nv nva[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
    nghttp2_data_provider dp;

    st->responded = 1;
    snprintf(st->status_str, sizeof(st->status_str), "0");
    xb_buf_init(&st->resp, 0);
    if (xb_buf_append(&st->resp, "\0\0\0\0\0", XB_GRPC_FRAME_HDR) ||
        xb_reply_success_body(o, 0, &st->resp)) {
        st->responded = 0;
        respond_error(st, 200, XB_GRPC_UNAVAILABLE, "out of memory", XB_RETRY_AFTER_S);
        return;
    }
    xb_grpc_frame_header(hdr, 0, (uint32_t)(st->resp.len - XB_GRPC_FRAME_HDR));
    memcpy(st->resp.data, hdr, sizeof(hdr));
    dp.source.ptr = st;
    dp.read_callback = resp_read;
    nghttp2_submit_response(st->conn->sess, st->id, nva, 2, &dp);
}

/* ---- request processing ------------------------------------------------- */

static void process(struct stream *st)
{
    struct xb_grpc_server *s = st->conn->srv;
    struct xb_ingest_outcome o;
    struct xb_grpc_msg msg;
    struct xb_reply r;
    const char *desc = "malformed gRPC message";
    size_t used = 0;
    int rc;

    if (st->responded)
        return;
    if (st->headers_too_big) {
        respond_refusal(st, XB_ERR_TOO_LARGE, "request headers larger than max_header_list_size");
        return;
    }
    if (!st->path_ok) {
        respond_error(st, 200, XB_GRPC_UNIMPLEMENTED, "unknown service or method", 0);
        return;
    }
    if (!st->ct_ok) {
        respond_error(st, 415, XB_GRPC_INVALID_ARGUMENT, "content-type must be application/grpc",
                      0);
        return;
    }
    rc = xb_grpc_frame_parse((const uint8_t *)st->body.data, st->body.len, s->opts.max_msg_bytes,
                             &msg, &used, &desc);
    if (rc == XB_ERR_AGAIN) {
        rc = XB_ERR_INVALID;
        desc = st->body.len ? "truncated gRPC message" : "missing request message";
    }
    if (rc == XB_OK && used != st->body.len) {
        rc = XB_ERR_INVALID;
        desc = "unary Export call carries more than one message";
    }
    if (rc == XB_OK && msg.compressed && st->bad_encoding) {
        rc = XB_ERR_UNSUPPORTED; /* UNIMPLEMENTED + grpc-accept-encoding */
        desc = "unsupported grpc-encoding";
    }
    if (rc == XB_OK && msg.compressed && !st->gzip) {
        rc = XB_ERR_INVALID;
        desc = "compressed message without a grpc-encoding header";
    }
    if (rc) {
        respond_refusal(st, rc, desc);
        return; /* the body is released when the stream closes */
    }
    xb_ingest_export(s->ing, XB_TRANSPORT_GRPC, XB_BODY_PROTOBUF, msg.compressed, msg.data, msg.len,
                     s->opts.max_msg_bytes, &o);
    /* The body is no longer needed; release it before answering. */
    inflight_add(s, -(int64_t)st->body.len);
    xb_buf_cleanup(&st->body);
    xb_reply_from_outcome(&o, &r);
    if (o.rc == XB_OK)
        respond_ok(st, &o);
    else
        respond_error(st, 200, r.grpc_code, r.message, r.retry_after_s);
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static ssize_t on_send(nghttp2_session *sess, const uint8_t *data, size_t len, int flags, void *ud)
{
    struct conn *c = ud;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) >= MAX_OUTPUT_BUFFERED)
        return NGHTTP2_ERR_WOULDBLOCK;
    if (bufferevent_write(c->bev, data, len) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)len;
}

static int on_begin_headers(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    struct conn *c = ud;
    struct stream *st;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    st->id = frame->hd.stream_id;
    st->conn = c;
    st->opened_ms = xb_listen_now_ms();
    xb_buf_init(&st->body, c->srv->opts.max_msg_bytes + XB_GRPC_FRAME_HDR);
    nghttp2_session_set_stream_user_data(sess, st->id, st);
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    c->times.open_streams++;
    c->times.had_request = 1;
    c->rearm = 1;
    return 0;
}

static int on_header(nghttp2_session *sess, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    struct stream *st;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (!st || st->headers_too_big)
        return 0;
    st->header_bytes += namelen + valuelen + HEADER_ENTRY_OVERHEAD;
    if (st->header_bytes > st->conn->srv->opts.max_header_list_size) {
        st->headers_too_big = 1; /* answered once the header block is complete */
        return 0;
    }
    if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
        st->path_ok =
            (valuelen == sizeof(EXPORT_PATH) - 1 && memcmp(value, EXPORT_PATH, valuelen) == 0) ||
            (valuelen == sizeof(EXPORT_PATH_ALIAS) - 1 &&
             memcmp(value, EXPORT_PATH_ALIAS, valuelen) == 0);
    } else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
        st->ct_ok = valuelen >= 16 &&
                    strncasecmp((const char *)value, "application/grpc", 16) == 0 &&
                    (valuelen == 16 || value[16] == '+' || value[16] == ';');
    } else if (namelen == 13 && memcmp(name, "grpc-encoding", 13) == 0) {
        if (valuelen == 4 && memcmp(value, "gzip", 4) == 0)
            st->gzip = 1;
        else if (!(valuelen == 8 && memcmp(value, "identity", 8) == 0))
            st->bad_encoding = 1;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    struct stream *st = nghttp2_session_get_stream_user_data(sess, id);
    struct xb_grpc_server *s;
    struct xb_grpc_msg msg;
    const char *desc = NULL;
    size_t used;
    int rc;

    if (!st || st->responded)
        return 0; /* answered early: discard the rest of the upload */
    s = st->conn->srv;
    if (s->opts.max_inflight_bytes && s->inflight_bytes + len > s->opts.max_inflight_bytes) {
        respond_refusal(st, XB_ERR_FULL, "too many requests in progress, retry later");
        return 0;
    }
    rc = xb_buf_append(&st->body, data, len);
    if (rc == XB_OK) {
        inflight_add(s, (int64_t)len);
        /* Refuse an oversize message as soon as its header says so. */
        rc = xb_grpc_frame_parse((const uint8_t *)st->body.data, st->body.len,
                                 s->opts.max_msg_bytes, &msg, &used, &desc);
        if (rc == XB_ERR_AGAIN || rc == XB_OK || rc == XB_ERR_INVALID)
            return 0; /* decided at END_STREAM */
    }
    if (rc == XB_ERR_NOMEM)
        respond_refusal(st, XB_ERR_NOMEM, "out of memory");
    else
        respond_refusal(st, XB_ERR_TOO_LARGE, "request message larger than max_recv_msg_size");
    return 0;
}

static int on_frame_recv(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    struct conn *c = ud;
    struct stream *st;

    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (!st)
        return 0;
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        if (frame->hd.type == NGHTTP2_HEADERS && st->headers_too_big)
            process(st); /* refuses at once; the upload is reset */
        return 0;
    }
    if (!st->remote_done) {
        st->remote_done = 1;
        c->n_answering++;
        c->slot.busy = 1;
        xb_listen_guard_progress(&c->slot, xb_listen_now_ms());
    }
    process(st);
    return 0;
}

static int on_frame_send(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    struct conn *c = ud;
    struct stream *st;

    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
        /* nghttp2 gave up on the client: RST_STREAM or other flood, bad frames */
        xb_listen_guard_count_refused(c->srv->guard, XB_CONN_REFUSED_PROTOCOL_ABUSE);
        XB_DEBUG("grpc", "closing connection: GOAWAY %s",
                 nghttp2_http2_strerror(frame->goaway.error_code));
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    xb_listen_guard_progress(&c->slot, xb_listen_now_ms()); /* an answer has left */
    st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st && st->rst_pending && !st->remote_done) {
        st->rst_pending = 0;
        nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *sess, int32_t id, uint32_t error_code, void *ud)
{
    struct stream *st = nghttp2_session_get_stream_user_data(sess, id);
    if (st) {
        nghttp2_session_set_stream_user_data(sess, id, NULL);
        stream_free(st);
    }
    return 0;
}

/* ---- deadlines ----------------------------------------------------------- */

static void count_closed(struct conn *c, enum xb_conn_refused reason)
{
    if (c->counted)
        return;
    c->counted = 1;
    xb_listen_guard_count_refused(c->srv->guard, reason);
}

/* GOAWAY and close once it has left, or after XB_GRPC_CLOSE_FLUSH_MS at the latest. */
static void conn_terminate(struct conn *c, uint64_t now_ms)
{
    if (c->times.close_by_ms)
        return;
    nghttp2_session_terminate_session(c->sess, NGHTTP2_NO_ERROR);
    c->times.close_by_ms = now_ms + XB_GRPC_CLOSE_FLUSH_MS;
}

/* Acts on expired stream deadlines; returns -1 when |c| was freed. Lowers |*next|. */
static int check_streams(struct conn *c, uint64_t now, uint64_t *next)
{
    struct xb_grpc_server *s = c->srv;
    struct stream *st, *nx;

    for (st = c->streams; st; st = nx) {
        nx = st->next;
        switch (xb_grpc_stream_deadline(st->opened_ms, !st->remote_done && !st->responded,
                                        st->expired, s->timeouts.upload_ms, now, next)) {
        case XB_GRPC_STREAM_EXPIRE:
            st->expired = 1;
            xb_metrics.timed_out_requests[XB_TRANSPORT_GRPC]++;
            respond_error(st, 200, XB_GRPC_DEADLINE_EXCEEDED,
                          "request not received within upload_timeout", 0);
            break;
        case XB_GRPC_STREAM_CLOSE_CONN:
            XB_DEBUG("grpc", "closing connection: a call is still open %u ms after its deadline",
                     XB_GRPC_STREAM_CLOSE_GRACE_MS);
            count_closed(c, XB_CONN_REFUSED_TIMEOUT);
            conn_free(c);
            return -1;
        case XB_GRPC_STREAM_OK:
            break;
        }
    }
    return 0;
}

/* Applies every expired deadline of |c| and re-arms the timer for the next one.
 * Returns -1 when |c| was freed. */
static int conn_deadlines(struct conn *c)
{
    struct xb_grpc_server *s = c->srv;
    uint64_t now = xb_listen_now_ms(), next = UINT64_MAX, cnext;
    enum xb_grpc_deadline dl;
    struct timeval tv;

    if (check_streams(c, now, &next))
        return -1;
    while ((dl = xb_grpc_conn_deadline(&c->times, &s->timeouts, now, &cnext)) != XB_GRPC_DL_NONE) {
        if (dl == XB_GRPC_DL_CLOSE) {
            conn_free(c);
            return -1;
        }
        if (dl == XB_GRPC_DL_AGE) {
            c->times.aged = 1;
            nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->sess),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            if (s->timeouts.age_grace_ms && !c->times.close_by_ms)
                c->times.close_by_ms = now + s->timeouts.age_grace_ms;
            continue;
        }
        /* connection (no request in time) or idle */
        XB_DEBUG("grpc", "closing connection: %s",
                 dl == XB_GRPC_DL_IDLE ? "max_connection_idle" : "connection_timeout");
        count_closed(c, XB_CONN_REFUSED_TIMEOUT);
        conn_terminate(c, now);
    }
    if (cnext < next)
        next = cnext;
    if (next != UINT64_MAX) {
        uint64_t ms = next - now;
        tv.tv_sec = (time_t)(ms / 1000);
        tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
        evtimer_add(c->timer, &tv);
    }
    return 0;
}

/* conn_deadlines, then flush. Returns -1 when |c| was freed. */
static int conn_check(struct conn *c)
{
    c->rearm = 0;
    if (conn_deadlines(c))
        return -1;
    return conn_pump(c);
}

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    conn_check(ud);
}

/* ---- socket I/O ---------------------------------------------------------- */

/* Flushes nghttp2 output; closes the connection when the session is finished.
 * Returns -1 when |c| was freed. */
static int conn_pump(struct conn *c)
{
    /* Sending can close streams; then the deadlines change (idle starts) and acting on
     * them can queue frames (GOAWAY), hence a second round. */
    for (int round = 0; round < 2; round++) {
        if (nghttp2_session_send(c->sess) != 0) {
            conn_free(c);
            return -1;
        }
        if (!c->rearm)
            break;
        c->rearm = 0;
        if (conn_deadlines(c))
            return -1;
    }
    if (!nghttp2_session_want_read(c->sess) && !nghttp2_session_want_write(c->sess) &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_free(c);
        return -1;
    }
    return 0;
}

static void on_read(struct bufferevent *bev, void *ud)
{
    struct conn *c = ud;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    unsigned char *data = evbuffer_pullup(in, -1);
    ssize_t n = nghttp2_session_mem_recv(c->sess, data, len);

    if (n < 0) {
        XB_DEBUG("grpc", "closing connection: %s", nghttp2_strerror((int)n));
        count_closed(c, XB_CONN_REFUSED_PROTOCOL_ABUSE);
        conn_free(c);
        return;
    }
    evbuffer_drain(in, (size_t)n);
    conn_check(c);
}

static void on_write(struct bufferevent *bev, void *ud)
{
    conn_pump(ud);
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

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *ud)
{
    struct xb_grpc_server *s = ud;
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_settings_entry iv[3];
    uint64_t now = xb_listen_now_ms();
    struct conn *c;

    if (s->draining) {
        close(fd);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->slot.evict = on_evict;
    c->slot.ud = c;
    if (xb_listen_guard_admit(s->guard, &c->slot, now) != XB_OK) {
        free(c);
        close(fd);
        return;
    }
    c->times.accepted_ms = c->times.idle_since_ms = now;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(s->base, on_timer, c);
    if (!c->bev || !c->timer || nghttp2_session_callbacks_new(&cbs) != 0) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            close(fd);
        if (c->timer)
            event_free(c->timer);
        xb_listen_guard_release(&c->slot);
        free(c);
        return;
    }
    nghttp2_session_callbacks_set_send_callback(cbs, on_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    if (nghttp2_session_server_new2(&c->sess, cbs, c, s->h2opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        bufferevent_free(c->bev);
        event_free(c->timer);
        xb_listen_guard_release(&c->slot);
        free(c);
        return;
    }
    nghttp2_session_callbacks_del(cbs);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;

    iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
    iv[0].value = s->opts.max_concurrent_streams;
    iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
    iv[1].value = STREAM_WINDOW;
    iv[2].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
    iv[2].value = (uint32_t)s->opts.max_header_list_size;
    nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv, 3);
    nghttp2_session_set_local_window_size(c->sess, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    conn_check(c);
}

/* ---- public -------------------------------------------------------------- */

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
    if (!s->opts.max_header_list_size)
        s->opts.max_header_list_size = XB_GRPC_DEFAULT_MAX_HEADER_LIST;
    s->timeouts = opts->timeouts;
    if (nghttp2_option_new(&s->h2opt) != 0) {
        free(s);
        return XB_ERR_NOMEM;
    }
    nghttp2_option_set_max_continuations(s->h2opt, MAX_CONTINUATIONS);
    nghttp2_option_set_stream_reset_rate_limit(s->h2opt, RST_BURST, RST_RATE);
    s->listener = xb_listen(base, opts->endpoint, on_accept, s, bound, sizeof(bound));
    if (!s->listener) {
        snprintf(err, err_len, "otlp grpc receiver: %s", bound);
        nghttp2_option_del(s->h2opt);
        free(s);
        return XB_ERR_IO;
    }
    s->guard =
        xb_listen_guard_new(base, s->listener, XB_TRANSPORT_GRPC, "grpc", opts->max_connections);
    if (!s->guard) {
        evconnlistener_free(s->listener);
        nghttp2_option_del(s->h2opt);
        free(s);
        return XB_ERR_NOMEM;
    }
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
        nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(c->sess), NGHTTP2_NO_ERROR,
                              NULL, 0);
        conn_pump(c);
    }
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
    nghttp2_option_del(s->h2opt);
    free(s);
}
