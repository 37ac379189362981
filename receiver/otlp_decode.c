#include "receiver/otlp_decode.h"

#include "core/err.h"
#include "receiver/otlp_wire.h"
#include "receiver/pb_scan.h"

/* protobuf-c allocator backed by the request arena: frees are no-ops, the arena
 * releases everything when the request is done. */
static void *arena_alloc(void *ud, size_t size)
{
    return xb_arena_alloc(ud, size);
}

static void arena_nofree(void *ud, void *p)
{
    (void)ud;
    (void)p;
}

int xb_otlp_decode_protobuf_ref(const void *data, size_t len, struct xb_arena *arena,
                                xb_pb_export_req **out, const char **err_desc)
{
    ProtobufCAllocator alloc = {arena_alloc, arena_nofree, arena};
    xb_pb_export_req *req;
    int rc;

    /* protobuf-c recurses per nested message: refuse deep or malformed input first. */
    rc = xb_pb_scan_export_request(data, len, err_desc);
    if (rc != XB_OK)
        return rc;
    req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        &alloc, len, data);
    if (!req) {
        /* protobuf-c reports allocation failure and bad input alike; the arena knows. */
        if (xb_arena_exhausted(arena)) {
            *err_desc = "request decodes to more memory than the receiver allows";
            return XB_ERR_NOMEM;
        }
        *err_desc = "malformed protobuf: not a valid ExportTraceServiceRequest";
        return XB_ERR_INVALID;
    }
    *out = req;
    return XB_OK;
}

int xb_otlp_decode_protobuf(const void *data, size_t len, struct xb_arena *arena,
                            xb_pb_export_req **out, const char **err_desc)
{
    struct xb_arena_mark mark;

    xb_arena_mark(arena, &mark);
    if (xb_otlp_wire_decode(data, len, arena, out) == XB_OK)
        return XB_OK;
    /* Unusual or malformed input: the reference decoder decides, from the arena as
     * it was before the attempt. */
    xb_arena_release(arena, &mark);
    return xb_otlp_decode_protobuf_ref(data, len, arena, out, err_desc);
}

size_t xb_otlp_count_spans(const xb_pb_export_req *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const xb_pb_resource_spans *rs = req->resource_spans[i];
        for (size_t j = 0; j < rs->n_scope_spans; j++)
            n += rs->scope_spans[j]->n_spans;
    }
    return n;
}
