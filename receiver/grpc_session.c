#include "receiver/grpc_session.h"

#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "receiver/grpc_frame.h"
#include "receiver/status.h"

#define EXPORT_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
/* Non-standard plural spelling some clients use (accepted by Fluent Bit too). */
#define EXPORT_PATH_ALIAS "/opentelemetry.proto.collector.traces.v1.TracesService/Export"
#define STREAM_WINDOW (1 << 20)
#define CONN_WINDOW (16 << 20)
/* HEADERS + CONTINUATION frames accepted for one header block (CVE-2024-28182). */
#define MAX_CONTINUATIONS 8
/* Incoming RST_STREAM token bucket: burst and refill per second (CVE-2023-44487, rapid
 * reset); past it nghttp2 sends GOAWAY and the connection closes. */
#define RST_BURST 200
#define RST_RATE 33
/* Per-entry overhead added to name + value when sizing a header list (RFC 9113 6.5.2). */
#define HEADER_ENTRY_OVERHEAD 32
/* Largest google.rpc.Status sent in grpc-status-details-bin, and its base64 text with
 * the NUL that EVP_EncodeBlock writes (4 characters per 3 bytes, rounded up). */
#define DETAILS_MAX 96
#define DETAILS_B64_LEN (4 * ((DETAILS_MAX + 2) / 3) + 1)

struct stream {
    int32_t id;
    struct xb_grpc_session *ss;
    struct stream *prev, *next; /* the session's open streams */
    uint64_t opened_ms;         /* HEADERS received (monotonic ms) */
    size_t header_bytes;        /* header list size so far (name + value + 32 each) */
    int headers_too_big;        /* over max_header_list_size */
    int expired;                /* answered DEADLINE_EXCEEDED */
    int path_ok;                /* :path is the Export method */
    int ct_ok;                  /* content-type is application/grpc[+proto] */
    int gzip;                   /* grpc-encoding: gzip */
    int bad_encoding;           /* grpc-encoding we do not support */
    int responded;              /* an answer has been submitted */
    size_t charged;             /* bytes of body storage charged to the in-flight budget:
                                   its capacity, so buffer growth is counted too */
    int remote_done;            /* the client sent END_STREAM */
    int rst_pending;            /* reset the upload once our trailers-only answer is sent */
    struct xb_buf body;
    /* response */
    struct xb_buf resp; /* gRPC-framed response message */
    size_t resp_off;
    char status_str[8];
    char message[512];
    char details[DETAILS_B64_LEN]; /* base64 google.rpc.Status, grpc-status-details-bin */
};

struct xb_grpc_session {
    nghttp2_session *h2;
    struct xb_grpc_session_limits lim;
    struct xb_grpc_session_env env;
    struct stream *streams; /* open streams (freed with the session) */
    size_t n_answering;     /* streams whose upload is complete, answer pending */
    struct xb_grpc_conn_times times;
    uint64_t now_ms;             /* time of the current recv/service call */
    int rearm;                   /* deadlines changed: a stream opened or the last closed */
    enum xb_conn_refused reason; /* why it ends; XB_CONN_REFUSED_COUNT = normal */
};

/* ---- streams -------------------------------------------------------------- */

/* Adjusts the request bytes held across all sessions, and its gauge. */
static void inflight_add(struct xb_grpc_session *ss, int64_t delta)
{
    /* Atomic: the ingest workers' servers may share one budget (app/workers.h). */
    __atomic_fetch_add(ss->env.inflight, (size_t)delta, __ATOMIC_RELAXED);
    XB_METRIC_ADD(xb_receiver_metrics.receiver_inflight_bytes[XB_TRANSPORT_GRPC], delta);
}

static void progress(struct xb_grpc_session *ss)
{
    if (ss->env.progress)
        ss->env.progress(ss->env.ud, ss->now_ms);
}

static void stream_free(struct stream *st)
{
    struct xb_grpc_session *ss = st->ss;

    if (st->prev)
        st->prev->next = st->next;
    else
        ss->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    if (st->remote_done && ss->n_answering > 0)
        ss->n_answering--;
    if (--ss->times.open_streams == 0) {
        ss->times.idle_since_ms = ss->now_ms;
        ss->rearm = 1;
    }
    inflight_add(ss, -(int64_t)st->charged);
    xb_buf_cleanup(&st->body);
    xb_buf_cleanup(&st->resp);
    free(st);
}

/* ---- responses ------------------------------------------------------------ */

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

/* Trailers-only answer for refusal |r| (receiver/status.h decided it): one HEADERS
 * frame with END_STREAM. */
static void respond_error(struct stream *st, const struct xb_reply *r)
{
    char http_str[8];
    nghttp2_nv nva[6];
    size_t n = 0;

    if (st->responded)
        return;
    st->responded = 1;
    snprintf(http_str, sizeof(http_str), "%d", r->grpc_http_status);
    snprintf(st->status_str, sizeof(st->status_str), "%d", (int)r->grpc_code);
    xb_grpc_percent_encode(r->message, st->message, sizeof(st->message));
    nva[n++] = (nghttp2_nv)NV(":status", http_str);
    nva[n++] = (nghttp2_nv)NV("content-type", "application/grpc");
    nva[n++] = (nghttp2_nv)NV("grpc-status", st->status_str);
    nva[n++] = (nghttp2_nv)NV("grpc-message", st->message);
    if (r->accept_encoding)
        nva[n++] = (nghttp2_nv)NV("grpc-accept-encoding", XB_ACCEPT_ENCODING);
    if (r->retry_after_s > 0) {
        struct xb_buf sb;
        xb_buf_init(&sb, DETAILS_MAX);
        if (xb_reply_status_body(r->grpc_code, r->message, r->retry_after_s, 0, &sb) == XB_OK) {
            int len = EVP_EncodeBlock((unsigned char *)st->details, (const unsigned char *)sb.data,
                                      (int)sb.len);
            while (len > 0 && st->details[len - 1] == '=') /* gRPC emits unpadded */
                st->details[--len] = '\0';
            nva[n++] = (nghttp2_nv)NV("grpc-status-details-bin", st->details);
        }
        xb_buf_cleanup(&sb);
    }
    nghttp2_submit_response(st->ss->h2, st->id, nva, n, NULL);
    stop_upload(st);
}

/* Answers an export request refused before or by the ingest path: counted once
 * (xb_ingest_account) and mapped once (xb_reply_from_outcome). |reason| names the
 * refusal when |rc| alone does not (XB_REFUSAL_NONE: derived from |rc|). */
static void respond_refusal(struct stream *st, int rc, enum xb_refusal reason, const char *desc)
{
    struct xb_ingest_outcome o = {.rc = rc, .err_desc = desc, .refusal = reason};
    struct xb_reply r;

    if (st->responded)
        return;
    xb_ingest_account(XB_TRANSPORT_GRPC, &o);
    xb_reply_from_outcome(&o, &r);
    respond_error(st, &r);
}

/* Answers a call that is not an export request (unknown method, content type,
 * deadline): counted and mapped by xb_reply_refuse. */
static void respond_refused_call(struct stream *st, enum xb_refusal reason, const char *desc)
{
    struct xb_reply r;

    if (st->responded)
        return;
    xb_reply_refuse(XB_TRANSPORT_GRPC, reason, desc, &r);
    respond_error(st, &r);
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
        struct xb_reply r;
        st->responded = 0;
        xb_reply_refusal(XB_REFUSAL_OUT_OF_MEMORY, "out of memory", &r);
        respond_error(st, &r); /* already counted as accepted: not counted again */
        return;
    }
    xb_grpc_frame_header(hdr, 0, (uint32_t)(st->resp.len - XB_GRPC_FRAME_HDR));
    memcpy(st->resp.data, hdr, sizeof(hdr));
    dp.source.ptr = st;
    dp.read_callback = resp_read;
    nghttp2_submit_response(st->ss->h2, st->id, nva, 2, &dp);
}

/* ---- request processing --------------------------------------------------- */

static void process(struct stream *st)
{
    struct xb_grpc_session *ss = st->ss;
    struct xb_ingest_outcome o;
    struct xb_grpc_msg msg;
    struct xb_reply r;
    const char *desc = "malformed gRPC message";
    size_t used = 0;
    int rc;

    if (st->responded)
        return;
    if (st->headers_too_big) {
        respond_refusal(st, XB_ERR_TOO_LARGE, XB_REFUSAL_NONE,
                        "request headers larger than max_header_list_size");
        return;
    }
    if (!st->path_ok) {
        respond_refused_call(st, XB_REFUSAL_UNKNOWN_PATH, "unknown service or method");
        return;
    }
    if (!st->ct_ok) {
        respond_refused_call(st, XB_REFUSAL_UNSUPPORTED_MEDIA_TYPE,
                             "content-type must be application/grpc");
        return;
    }
    rc = xb_grpc_frame_parse((const uint8_t *)st->body.data, st->body.len, ss->lim.max_msg_bytes,
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
        respond_refusal(st, rc, XB_REFUSAL_NONE, desc);
        return; /* the body is released when the stream closes */
    }
    ss->env.export_msg(ss->env.ud, msg.compressed, msg.data, msg.len, &o);
    /* The body is no longer needed; release it before answering. */
    inflight_add(ss, -(int64_t)st->charged);
    st->charged = 0;
    xb_buf_cleanup(&st->body);
    xb_reply_from_outcome(&o, &r);
    if (o.rc == XB_OK)
        respond_ok(st, &o);
    else
        respond_error(st, &r);
}

/* ---- nghttp2 callbacks ---------------------------------------------------- */

static ssize_t on_send(nghttp2_session *sess, const uint8_t *data, size_t len, int flags, void *ud)
{
    struct xb_grpc_session *ss = ud;
    ssize_t n = ss->env.write(ss->env.ud, data, len);

    if (n < 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (n == 0)
        return NGHTTP2_ERR_WOULDBLOCK;
    return n;
}

static int on_begin_headers(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    struct xb_grpc_session *ss = ud;
    struct stream *st;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    st->id = frame->hd.stream_id;
    st->ss = ss;
    st->opened_ms = ss->now_ms;
    xb_buf_init(&st->body, ss->lim.max_msg_bytes + XB_GRPC_FRAME_HDR);
    nghttp2_session_set_stream_user_data(sess, st->id, st);
    st->next = ss->streams;
    if (ss->streams)
        ss->streams->prev = st;
    ss->streams = st;
    ss->times.open_streams++;
    ss->times.had_request = 1;
    ss->rearm = 1;
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
    if (st->header_bytes > st->ss->lim.max_header_list_size) {
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

/* Sizes the body for the whole message once its length prefix is in (the first DATA
 * bytes), so that it is stored with one allocation and no regrowth copies. Only when
 * the declared size is within max_msg_bytes and fits the in-flight budget now;
 * otherwise the body grows with the bytes received as before, and the checks in
 * on_data_chunk and process() decide. A client declaring more than it sends holds the
 * reservation until the upload deadline, within the same budget. */
static void reserve_message(struct stream *st, const uint8_t *data, size_t len)
{
    struct xb_grpc_session *ss = st->ss;
    size_t whole = xb_grpc_frame_whole_size((const uint8_t *)st->body.data, st->body.len, data, len,
                                            ss->lim.max_msg_bytes);
    size_t cap = whole + 1; /* xb_buf keeps a NUL after the data */
    char *p;

    if (!whole || cap <= st->body.cap)
        return;
    if (ss->lim.max_inflight_bytes &&
        __atomic_load_n(ss->env.inflight, __ATOMIC_RELAXED) + (cap - st->charged) >
            ss->lim.max_inflight_bytes)
        return;
    p = realloc(st->body.data, cap);
    if (!p)
        return; /* xb_buf_append reports the shortage */
    st->body.data = p;
    st->body.cap = cap;
}

static int on_data_chunk(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    struct stream *st = nghttp2_session_get_stream_user_data(sess, id);
    struct xb_grpc_session *ss;
    struct xb_grpc_msg msg;
    const char *desc = NULL;
    size_t used;
    int rc;

    if (!st || st->responded)
        return 0; /* answered early: discard the rest of the upload */
    ss = st->ss;
    if (ss->lim.max_inflight_bytes &&
        __atomic_load_n(ss->env.inflight, __ATOMIC_RELAXED) + len > ss->lim.max_inflight_bytes) {
        respond_refusal(st, XB_ERR_FULL, XB_REFUSAL_BUSY,
                        "too many requests in progress, retry later");
        return 0;
    }
    reserve_message(st, data, len);
    rc = xb_buf_append(&st->body, data, len);
    if (st->body.cap > st->charged) {
        /* Charge what the buffer holds, growth slack included (the check above uses
         * the bytes received, so one buffer's growth may pass the cap: app/budget.c
         * counts that slack). */
        inflight_add(ss, (int64_t)(st->body.cap - st->charged));
        st->charged = st->body.cap;
    }
    if (rc == XB_OK) {
        /* Refuse an oversize message as soon as its header says so. */
        rc = xb_grpc_frame_parse((const uint8_t *)st->body.data, st->body.len,
                                 ss->lim.max_msg_bytes, &msg, &used, &desc);
        if (rc == XB_ERR_AGAIN || rc == XB_OK || rc == XB_ERR_INVALID)
            return 0; /* decided at END_STREAM */
    }
    if (rc == XB_ERR_NOMEM)
        respond_refusal(st, XB_ERR_NOMEM, XB_REFUSAL_NONE, "out of memory");
    else
        respond_refusal(st, XB_ERR_TOO_LARGE, XB_REFUSAL_NONE,
                        "request message larger than max_recv_msg_size");
    return 0;
}

static int on_frame_recv(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    struct xb_grpc_session *ss = ud;
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
        ss->n_answering++;
        progress(ss);
    }
    process(st);
    return 0;
}

static int on_frame_send(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    struct xb_grpc_session *ss = ud;
    struct stream *st;

    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
        /* nghttp2 gave up on the client: RST_STREAM or other flood, bad frames */
        if (ss->reason == XB_CONN_REFUSED_COUNT)
            ss->reason = XB_CONN_REFUSED_PROTOCOL_ABUSE;
        XB_DEBUG("grpc", "closing connection: GOAWAY %s",
                 nghttp2_http2_strerror(frame->goaway.error_code));
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    progress(ss); /* an answer has left */
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

/* ---- deadlines ------------------------------------------------------------ */

/* GOAWAY and close once it has left, or after XB_GRPC_CLOSE_FLUSH_MS at the latest. */
static void terminate(struct xb_grpc_session *ss, enum xb_conn_refused reason)
{
    uint64_t by = ss->now_ms + XB_GRPC_CLOSE_FLUSH_MS;

    if (ss->times.closing)
        return;
    ss->times.closing = 1;
    if (ss->reason == XB_CONN_REFUSED_COUNT)
        ss->reason = reason;
    nghttp2_session_terminate_session(ss->h2, NGHTTP2_NO_ERROR);
    if (!ss->times.close_by_ms || by < ss->times.close_by_ms)
        ss->times.close_by_ms = by; /* an age grace may have set a later one */
}

/* Acts on expired deadlines; returns -1 when the connection must close now. Sets
 * |*next| to the next deadline. */
static int deadlines(struct xb_grpc_session *ss, uint64_t *next)
{
    const struct xb_grpc_timeouts *to = &ss->lim.timeouts;
    uint64_t now = ss->now_ms, cnext;
    enum xb_grpc_deadline dl;

    *next = UINT64_MAX;
    for (struct stream *st = ss->streams, *nx; st; st = nx) {
        nx = st->next;
        switch (xb_grpc_stream_deadline(st->opened_ms, !st->remote_done && !st->responded,
                                        st->expired, to->upload_ms, now, next)) {
        case XB_GRPC_STREAM_EXPIRE:
            st->expired = 1;
            XB_METRIC_ADD(xb_receiver_metrics.timed_out_requests[XB_TRANSPORT_GRPC], 1);
            respond_refused_call(st, XB_REFUSAL_TIMEOUT,
                                 "request not received within upload_timeout");
            break;
        case XB_GRPC_STREAM_CLOSE_CONN:
            XB_DEBUG("grpc", "closing connection: a call is still open %u ms after its deadline",
                     XB_GRPC_STREAM_CLOSE_GRACE_MS);
            if (ss->reason == XB_CONN_REFUSED_COUNT)
                ss->reason = XB_CONN_REFUSED_TIMEOUT;
            return -1;
        case XB_GRPC_STREAM_OK:
            break;
        }
    }
    while ((dl = xb_grpc_conn_deadline(&ss->times, to, now, &cnext)) != XB_GRPC_DL_NONE) {
        if (dl == XB_GRPC_DL_CLOSE)
            return -1;
        if (dl == XB_GRPC_DL_AGE) {
            ss->times.aged = 1;
            xb_grpc_session_goaway(ss);
            if (to->age_grace_ms && !ss->times.close_by_ms)
                ss->times.close_by_ms = now + to->age_grace_ms;
            continue;
        }
        XB_DEBUG("grpc", "closing connection: %s",
                 dl == XB_GRPC_DL_IDLE ? "max_connection_idle" : "connection_timeout");
        terminate(ss, XB_CONN_REFUSED_TIMEOUT);
    }
    if (cnext < *next)
        *next = cnext;
    return 0;
}

/* ---- public --------------------------------------------------------------- */

int xb_grpc_session_new(const struct xb_grpc_session_limits *lim,
                        const struct xb_grpc_session_env *env, uint64_t now_ms,
                        struct xb_grpc_session **out)
{
    struct xb_grpc_session *ss = calloc(1, sizeof(*ss));
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    nghttp2_settings_entry iv[3];
    int rc = XB_ERR_NOMEM;

    xb_receiver_metrics_register(); /* idempotent */
    if (!ss)
        return XB_ERR_NOMEM;
    ss->lim = *lim;
    if (!ss->lim.max_header_list_size)
        ss->lim.max_header_list_size = XB_GRPC_DEFAULT_MAX_HEADER_LIST;
    ss->env = *env;
    ss->now_ms = now_ms;
    ss->times.accepted_ms = ss->times.idle_since_ms = now_ms;
    ss->reason = XB_CONN_REFUSED_COUNT;
    if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
        goto out;
    nghttp2_session_callbacks_set_send_callback(cbs, on_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_option_set_max_continuations(opt, MAX_CONTINUATIONS);
    nghttp2_option_set_stream_reset_rate_limit(opt, RST_BURST, RST_RATE);
    if (nghttp2_session_server_new2(&ss->h2, cbs, ss, opt) != 0)
        goto out;
    iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
    iv[0].value = ss->lim.max_concurrent_streams;
    iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
    iv[1].value = STREAM_WINDOW;
    iv[2].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
    iv[2].value = (uint32_t)ss->lim.max_header_list_size;
    if (nghttp2_submit_settings(ss->h2, NGHTTP2_FLAG_NONE, iv, 3) != 0 ||
        nghttp2_session_set_local_window_size(ss->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW) != 0)
        goto out;
    *out = ss;
    ss = NULL;
    rc = XB_OK;
out:
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    xb_grpc_session_free(ss);
    return rc;
}

void xb_grpc_session_free(struct xb_grpc_session *s)
{
    if (!s)
        return;
    /* nghttp2_session_del() does not run on_stream_close: free the open streams (and
     * give back their in-flight bytes) here. */
    while (s->streams)
        stream_free(s->streams);
    nghttp2_session_del(s->h2);
    free(s);
}

int xb_grpc_session_recv(struct xb_grpc_session *s, const uint8_t *data, size_t len,
                         uint64_t now_ms)
{
    ssize_t n;

    s->now_ms = now_ms;
    n = nghttp2_session_mem_recv(s->h2, data, len);
    if (n < 0) {
        XB_DEBUG("grpc", "closing connection: %s", nghttp2_strerror((int)n));
        return XB_ERR_INVALID;
    }
    return XB_OK;
}

enum xb_grpc_session_status xb_grpc_session_service(struct xb_grpc_session *s, uint64_t now_ms,
                                                    uint64_t *next_ms)
{
    s->now_ms = now_ms;
    s->rearm = 0;
    if (deadlines(s, next_ms))
        return XB_GRPC_SESSION_CLOSE;
    /* Sending can close streams; then the deadlines change (idle starts) and acting on
     * them can queue frames (GOAWAY), hence a second round. */
    for (int round = 0; round < 2; round++) {
        if (nghttp2_session_send(s->h2) != 0)
            return XB_GRPC_SESSION_CLOSE;
        if (!s->rearm)
            break;
        s->rearm = 0;
        if (deadlines(s, next_ms))
            return XB_GRPC_SESSION_CLOSE;
    }
    if (!nghttp2_session_want_read(s->h2) && !nghttp2_session_want_write(s->h2))
        return XB_GRPC_SESSION_FINISHED;
    return XB_GRPC_SESSION_OPEN;
}

void xb_grpc_session_goaway(struct xb_grpc_session *s)
{
    nghttp2_submit_goaway(s->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->h2),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

int xb_grpc_session_busy(const struct xb_grpc_session *s)
{
    return s->n_answering > 0;
}

enum xb_conn_refused xb_grpc_session_close_reason(const struct xb_grpc_session *s)
{
    return s->reason;
}
