#include "receiver/status.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/otlp.h"

/* The answer of each refusal reason; the table in status.h. */
static const struct refusal_row {
    int http_status;
    const char *http_reason;
    enum xb_grpc_code grpc_code;
    int grpc_http_status;
    int retry;
    const char *message; /* when the caller gives none */
} refusals[XB_REFUSAL_COUNT] = {
    [XB_REFUSAL_BAD_REQUEST] = {400, "Bad Request", XB_GRPC_INVALID_ARGUMENT, 200, 0,
                                "malformed request"},
    [XB_REFUSAL_TOO_LARGE] = {413, "Content Too Large", XB_GRPC_RESOURCE_EXHAUSTED, 200, 0,
                              "request too large"},
    [XB_REFUSAL_QUEUE_FULL] = {503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1,
                               "queue full, retry later"},
    [XB_REFUSAL_OUT_OF_MEMORY] = {503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1,
                                  "out of memory"},
    [XB_REFUSAL_BUSY] = {503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1,
                         "receiver busy, retry later"},
    [XB_REFUSAL_DRAINING] = {503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1,
                             "shutting down, retry on another connection"},
    [XB_REFUSAL_UNSUPPORTED_ENCODING] = {415, "Unsupported Media Type", XB_GRPC_UNIMPLEMENTED, 200,
                                         0, "unsupported encoding (use gzip or none)"},
    [XB_REFUSAL_UNSUPPORTED_MEDIA_TYPE] = {415, "Unsupported Media Type", XB_GRPC_INVALID_ARGUMENT,
                                           415, 0, "unsupported content type"},
    [XB_REFUSAL_UNKNOWN_PATH] = {404, "Not Found", XB_GRPC_UNIMPLEMENTED, 200, 0,
                                 "unknown service or method"},
    [XB_REFUSAL_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed", XB_GRPC_UNIMPLEMENTED, 200, 0,
                                       "method not allowed, supported: [POST]"},
    [XB_REFUSAL_TIMEOUT] = {408, "Request Timeout", XB_GRPC_DEADLINE_EXCEEDED, 200, 0,
                            "request not received in time"},
    [XB_REFUSAL_MEMORY_LIMITED] = {503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1,
                                   "memory limit reached, retry later"},
    [XB_REFUSAL_INTERNAL] = {500, "Internal Server Error", XB_GRPC_INTERNAL, 200, 0,
                             "internal error"},
};

static enum xb_refusal valid(enum xb_refusal reason)
{
    if ((unsigned)reason >= XB_REFUSAL_COUNT || reason == XB_REFUSAL_NONE)
        return XB_REFUSAL_INTERNAL;
    return reason;
}

enum xb_refusal xb_refusal_of_rc(int rc)
{
    switch (rc) {
    case XB_ERR_INVALID:
        return XB_REFUSAL_BAD_REQUEST;
    case XB_ERR_TOO_LARGE:
        return XB_REFUSAL_TOO_LARGE;
    case XB_ERR_FULL:
        return XB_REFUSAL_QUEUE_FULL;
    case XB_ERR_NOMEM:
        return XB_REFUSAL_OUT_OF_MEMORY;
    case XB_ERR_AGAIN:
        return XB_REFUSAL_BUSY;
    case XB_ERR_UNSUPPORTED:
        return XB_REFUSAL_UNSUPPORTED_ENCODING;
    default:
        return XB_REFUSAL_INTERNAL;
    }
}

enum xb_refusal xb_refusal_of(const struct xb_ingest_outcome *o)
{
    return o->refusal != XB_REFUSAL_NONE ? valid(o->refusal) : xb_refusal_of_rc(o->rc);
}

void xb_refusal_count(enum xb_transport transport, enum xb_refusal reason)
{
    if ((unsigned)transport < XB_TRANSPORT_COUNT)
        XB_METRIC_ADD(xb_receiver_metrics.refused_requests[transport][valid(reason) - 1], 1);
}

uint64_t xb_refusal_counted(enum xb_transport transport, enum xb_refusal reason)
{
    if ((unsigned)transport >= XB_TRANSPORT_COUNT)
        return 0;
    return XB_METRIC_GET(xb_receiver_metrics.refused_requests[transport][valid(reason) - 1]);
}

void xb_reply_refusal(enum xb_refusal reason, const char *message, struct xb_reply *r)
{
    enum xb_refusal k = valid(reason);
    const struct refusal_row *row = &refusals[k];

    memset(r, 0, sizeof(*r));
    r->http_status = row->http_status;
    r->http_reason = row->http_reason;
    r->grpc_code = row->grpc_code;
    r->grpc_http_status = row->grpc_http_status;
    r->retry_after_s = row->retry ? XB_RETRY_AFTER_S : 0;
    r->accept_encoding = k == XB_REFUSAL_UNSUPPORTED_ENCODING;
    r->allow_post = k == XB_REFUSAL_METHOD_NOT_ALLOWED;
    r->message = message ? message : row->message;
}

void xb_reply_refuse(enum xb_transport transport, enum xb_refusal reason, const char *message,
                     struct xb_reply *r)
{
    xb_refusal_count(transport, reason);
    xb_reply_refusal(reason, message, r);
}

void xb_reply_from_outcome(const struct xb_ingest_outcome *o, struct xb_reply *r)
{
    if (o->rc != XB_OK) {
        xb_reply_refusal(xb_refusal_of(o), o->err_desc ? o->err_desc : xb_strerror(o->rc), r);
        return;
    }
    memset(r, 0, sizeof(*r));
    r->http_status = 200;
    r->http_reason = "OK";
    r->grpc_code = XB_GRPC_OK;
    r->grpc_http_status = 200;
    r->message = o->reject_msg;
}

/* Packs any protobuf-c message onto the end of |out|. */
static int pack_into(const ProtobufCMessage *m, struct xb_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    int rc = xb_buf_reserve(out, n);
    if (rc)
        return rc;
    protobuf_c_message_pack(m, (uint8_t *)out->data + out->len);
    out->len += n;
    out->data[out->len] = '\0';
    return XB_OK;
}

/* Serialises a jansson value compactly onto |out| and releases it. */
static int dump_json(json_t *v, struct xb_buf *out)
{
    char *s;
    int rc;
    if (!v)
        return XB_ERR_NOMEM;
    s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!s)
        return XB_ERR_NOMEM;
    rc = xb_buf_puts(out, s);
    free(s);
    return rc;
}

int xb_reply_success_body(const struct xb_ingest_outcome *o, int json, struct xb_buf *out)
{
    xb_pb_export_resp resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    xb_pb_partial ps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    char count[32];

    if (json) {
        if (!o->rejected_spans)
            return xb_buf_puts(out, "{}");
        /* proto3 JSON mapping writes int64 as a decimal string. */
        snprintf(count, sizeof(count), "%zu", o->rejected_spans);
        return dump_json(json_pack("{s:{s:s,s:s}}", "partialSuccess", "rejectedSpans", count,
                                   "errorMessage", o->reject_msg),
                         out);
    }
    if (o->rejected_spans) {
        ps.rejected_spans = (int64_t)o->rejected_spans;
        ps.error_message = (char *)o->reject_msg;
        resp.partial_success = &ps;
    }
    return pack_into(&resp.base, out);
}

int xb_reply_status_body(enum xb_grpc_code code, const char *message, int retry_after_s, int json,
                         struct xb_buf *out)
{
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
    Google__Protobuf__Duration delay = GOOGLE__PROTOBUF__DURATION__INIT;
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    Google__Protobuf__Any *details[1] = {&any};
    uint8_t packed[64];
    size_t n;

    if (json)
        return dump_json(json_pack("{s:i,s:s}", "code", (int)code, "message", message), out);
    st.code = (int32_t)code;
    st.message = (char *)message;
    if (retry_after_s > 0) {
        delay.seconds = retry_after_s;
        ri.retry_delay = &delay;
        n = google__rpc__retry_info__get_packed_size(&ri);
        if (n > sizeof(packed))
            return XB_ERR_TOO_LARGE;
        google__rpc__retry_info__pack(&ri, packed);
        any.type_url = "type.googleapis.com/google.rpc.RetryInfo";
        any.value.data = packed;
        any.value.len = n;
        st.n_details = 1;
        st.details = details;
    }
    return pack_into(&st.base, out);
}
