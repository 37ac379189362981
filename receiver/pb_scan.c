/*
 * receiver/pb_scan.c - see pb_scan.h. Wire format:
 * https://protobuf.dev/programming-guides/encoding/ Field numbers:
 * proto/opentelemetry/proto/{collector/trace,trace,resource,common}/v1/.
 */
#include "receiver/pb_scan.h"

#include <stdint.h>

#include "core/err.h"
#include "receiver/otlp_limits.h"

/* The messages whose sub-message fields are followed. 0 means "not followed". */
enum msg {
    M_NONE = 0,
    M_REQUEST,        /* ExportTraceServiceRequest */
    M_RESOURCE_SPANS, /* ResourceSpans */
    M_RESOURCE,       /* Resource */
    M_SCOPE_SPANS,    /* ScopeSpans */
    M_SCOPE,          /* InstrumentationScope */
    M_SPAN,           /* Span */
    M_EVENT,          /* Span.Event */
    M_LINK,           /* Span.Link */
    M_KV,             /* KeyValue */
    M_ANY,            /* AnyValue */
    M_ARRAY,          /* ArrayValue */
    M_KVLIST,         /* KeyValueList */
    M_COUNT
};

/* Every OTLP sub-message field number is below 16. */
#define MAX_FOLLOWED_FIELD 16

/*
 * child[m][f]: the message type of field |f| of message |m| when it is a sub-message
 * that can (transitively) hold an AnyValue. Leaf sub-messages (Status, EntityRef)
 * contain no message fields, so protobuf-c recurses one level into them at most:
 * they are skipped like bytes.
 */
static const uint8_t child[M_COUNT][MAX_FOLLOWED_FIELD] = {
    [M_REQUEST] = {[1] = M_RESOURCE_SPANS},
    [M_RESOURCE_SPANS] = {[1] = M_RESOURCE, [2] = M_SCOPE_SPANS},
    [M_RESOURCE] = {[1] = M_KV},
    [M_SCOPE_SPANS] = {[1] = M_SCOPE, [2] = M_SPAN},
    [M_SCOPE] = {[3] = M_KV},
    [M_SPAN] = {[9] = M_KV, [11] = M_EVENT, [13] = M_LINK},
    [M_EVENT] = {[3] = M_KV},
    [M_LINK] = {[4] = M_KV},
    [M_KV] = {[2] = M_ANY},
    [M_ANY] = {[5] = M_ARRAY, [6] = M_KVLIST},
    [M_ARRAY] = {[1] = M_ANY},
    [M_KVLIST] = {[1] = M_KV},
};

/*
 * Deepest possible stack of accepted input: request, ResourceSpans, ScopeSpans, Span,
 * Event/Link, KeyValue (6), then per AnyValue level at most AnyValue + KeyValueList +
 * KeyValue (3). Anything deeper has already failed the AnyValue check.
 */
#define MAX_FRAMES (6 + 3 * XB_OTLP_MAX_ANYVALUE_DEPTH + 2)

/* One open message: where it ends and what it is. */
struct frame {
    size_t end;
    uint8_t type;
};

/* Protobuf wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/*
 * Reads a base-128 varint of at most |max_bytes| bytes at p[*pos] (below |end|) into
 * |*v| and advances |*pos|. Returns 0, or -1 when it is truncated or too long.
 */
static inline int read_varint(const uint8_t *p, size_t *pos, size_t end, unsigned max_bytes,
                              uint64_t *v)
{
    uint64_t r = 0;
    size_t i = *pos;

    for (unsigned n = 0; n < max_bytes && i < end; n++, i++) {
        r |= (uint64_t)(p[i] & 0x7f) << (7 * n);
        if (!(p[i] & 0x80)) {
            *pos = i + 1;
            *v = r;
            return 0;
        }
    }
    return -1;
}

int xb_pb_scan_export_request(const void *data, size_t len, const char **err_desc)
{
    const uint8_t *p = data;
    struct frame stack[MAX_FRAMES];
    unsigned top = 0;      /* index of the innermost open message */
    unsigned any_open = 0; /* AnyValue messages on the stack */
    size_t pos = 0;
    const char *desc = NULL;

    stack[0].end = len;
    stack[0].type = M_REQUEST;
    for (;;) {
        size_t end = stack[top].end;
        uint64_t tag, v;
        unsigned field;

        if (pos == end) {
            if (top == 0)
                break;
            if (stack[top].type == M_ANY)
                any_open--;
            top--;
            continue;
        }
        /* A tag is a uint32 varint (at most 5 bytes); field numbers are 1..2^29-1. */
        if (read_varint(p, &pos, end, 5, &tag) != 0 || tag > UINT32_MAX) {
            desc = "malformed protobuf: truncated or invalid field tag";
            goto fail;
        }
        if ((tag >> 3) == 0) {
            desc = "malformed protobuf: field number 0";
            goto fail;
        }
        field = (tag >> 3) < MAX_FOLLOWED_FIELD ? (unsigned)(tag >> 3) : 0;
        switch (tag & 7) {
        case WT_VARINT:
            if (read_varint(p, &pos, end, 10, &v) != 0) {
                desc = "malformed protobuf: truncated or over-long varint";
                goto fail;
            }
            break;
        case WT_I64:
        case WT_I32: {
            size_t n = (tag & 7) == WT_I64 ? 8 : 4;
            if (end - pos < n) {
                desc = "malformed protobuf: truncated fixed-width field";
                goto fail;
            }
            pos += n;
            break;
        }
        case WT_LEN: {
            uint8_t t;
            /* protobuf-c reads lengths as uint32 varints of at most 5 bytes too. */
            if (read_varint(p, &pos, end, 5, &v) != 0 || v > end - pos) {
                desc = "malformed protobuf: length runs past the end of its message";
                goto fail;
            }
            t = child[stack[top].type][field];
            if (t == M_NONE) {
                pos += (size_t)v;
                break;
            }
            if (t == M_ANY && ++any_open > XB_OTLP_MAX_ANYVALUE_DEPTH) {
                desc = XB_OTLP_DEPTH_ERROR;
                goto fail;
            }
            /* Cannot overflow while the AnyValue check holds (see MAX_FRAMES). */
            if (top + 1 >= MAX_FRAMES) {
                desc = XB_OTLP_DEPTH_ERROR;
                goto fail;
            }
            top++;
            stack[top].end = pos + (size_t)v;
            stack[top].type = t;
            break;
        }
        default: /* groups (deprecated, refused by protobuf-c) and wire types 6, 7 */
            desc = "malformed protobuf: unsupported wire type";
            goto fail;
        }
    }
    return XB_OK;
fail:
    *err_desc = desc;
    return XB_ERR_INVALID;
}
