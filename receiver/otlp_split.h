/*
 * receiver/otlp_split.h - cuts a decoded ExportTraceServiceRequest into requests that
 * an OTLP endpoint with size limits accepts, and re-encodes them with protobuf-c.
 *
 * X-Ray's OTLP endpoint refuses a request over 5 MB uncompressed or 10,000 spans, and a
 * span over 200 KB (Amazon CloudWatch User Guide, "OTLP Endpoints", endpoint limits and
 * restrictions:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-OTLPEndpoint.html). The
 * split keeps the OTLP structure: each part holds, per resource and scope, a run of the original
 * spans in order, with the resource and scope repeated in every part that needs them. Pure: no I/O;
 * the parts point into the input (nothing is copied but the part headers, allocated from the
 * caller's arena).
 */
#ifndef XB_RECEIVER_OTLP_SPLIT_H
#define XB_RECEIVER_OTLP_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "proto/otlp.h"

/* X-Ray's OTLP endpoint limits (see above), bytes and spans. */
#define XB_OTLP_XRAY_MAX_REQUEST_BYTES (5u * 1000 * 1000)
#define XB_OTLP_XRAY_MAX_SPANS 10000u
#define XB_OTLP_XRAY_MAX_SPAN_BYTES (200u * 1000)

/* Limits one part must respect; 0 = no limit for that field. */
struct xb_otlp_limits {
    size_t max_request_bytes; /* encoded ExportTraceServiceRequest, uncompressed */
    size_t max_spans;         /* spans per request */
    size_t max_span_bytes;    /* one encoded Span; larger spans are dropped */
    int by_trace;             /* xb_ingest_otlp_records(): one part per trace id
                                 (xb_otlp_split_by_trace()) instead of the size split */
};

/* The parts of one request. Arrays live in the arena passed to xb_otlp_split(). */
struct xb_otlp_split_result {
    xb_pb_export_req **parts;   /* n_parts requests, each within the limits */
    size_t *part_spans;         /* spans in each part */
    const uint8_t **part_trace; /* xb_otlp_split_by_trace(): each part's 16-byte trace id
                                   (points into the input); NULL for xb_otlp_split() */
    size_t n_parts;
    size_t dropped_spans; /* spans over max_span_bytes (or whose resource and scope alone
                             exceed max_request_bytes): sent nowhere */
};

/*
 * Splits |req| (borrowed; the parts point into it, so it must outlive them) into parts
 * within |lim|, allocating part headers from |arena|. Spans keep their order; a part is
 * closed when the next span would take it past a limit (sizes are computed with
 * protobuf_c_message_get_packed_size() and an upper bound for the length prefixes, so
 * the encoded part never exceeds max_request_bytes). A request without spans gives no
 * parts. Returns 0 and fills |out|; XB_ERR_NOMEM (arena or heap exhausted; |out| empty).
 */
int xb_otlp_split(const xb_pb_export_req *req, const struct xb_otlp_limits *lim,
                  struct xb_arena *arena, struct xb_otlp_split_result *out);

/*
 * Groups the spans of |req| by trace id: one part per distinct trace id, parts in the
 * order of each trace's first span, spans in their original order, resource and scope
 * kept (for trace-id routing: exporter/lb_exporter.h). Spans whose trace id is not 16
 * bytes are counted in dropped_spans. Same ownership and returns as xb_otlp_split().
 */
int xb_otlp_split_by_trace(const xb_pb_export_req *req, struct xb_arena *arena,
                           struct xb_otlp_split_result *out);

#endif
