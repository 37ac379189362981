#include "receiver/status.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/otlp.h"

void xb_reply_from_outcome(const struct xb_ingest_outcome *o, struct xb_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->message = o->err_desc ? o->err_desc : xb_strerror(o->rc);
    switch (o->rc) {
    case XB_OK:
        r->http_status = 200;
        r->grpc_code = XB_GRPC_OK;
        r->message = o->reject_msg;
        break;
    case XB_ERR_INVALID:
        r->http_status = 400;
        r->grpc_code = XB_GRPC_INVALID_ARGUMENT;
        break;
    case XB_ERR_TOO_LARGE:
        r->http_status = 413;
        r->grpc_code = XB_GRPC_RESOURCE_EXHAUSTED;
        break;
    case XB_ERR_FULL:
    case XB_ERR_NOMEM:
    case XB_ERR_AGAIN:
        r->http_status = 503;
        r->grpc_code = XB_GRPC_UNAVAILABLE;
        r->retry_after_s = XB_RETRY_AFTER_S;
        break;
    case XB_ERR_UNSUPPORTED:
        r->http_status = 415;
        r->grpc_code = XB_GRPC_UNIMPLEMENTED;
        break;
    default:
        r->http_status = 500;
        r->grpc_code = XB_GRPC_INTERNAL;
        break;
    }
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
    xb_pb_export_resp resp = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    xb_pb_partial ps = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
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

int xb_reply_status_body(enum xb_grpc_code code, const char *message, int retry_after_s,
                         int json, struct xb_buf *out)
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
