/*
 * receiver/pb_scan.h - non-recursive wire-format check of an ExportTraceServiceRequest.
 *
 * protobuf-c recurses once per nested message with no depth limit, so a request with
 * an attribute value nested a few thousand array_value levels deep overflows the
 * stack inside protobuf_c_message_unpack(). This pass runs first: one linear walk of
 * the protobuf wire format (https://protobuf.dev/programming-guides/encoding/) with an
 * explicit fixed-size stack, no allocation and no recursion. It follows only the
 * length-delimited fields that are OTLP sub-messages (proto/opentelemetry/proto/...:
 * request -> ResourceSpans -> Resource / ScopeSpans -> Scope / Span -> Event / Link /
 * KeyValue -> AnyValue -> ArrayValue / KeyValueList -> ...); every other field, known
 * or not, is skipped by its wire type without being looked into.
 */
#ifndef XB_RECEIVER_PB_SCAN_H
#define XB_RECEIVER_PB_SCAN_H

#include <stddef.h>

/*
 * Checks the |len| bytes at |data| (borrowed; NULL allowed when |len| is 0) as a
 * binary ExportTraceServiceRequest. Returns XB_OK when every field is well formed
 * and no AnyValue is nested deeper than XB_OTLP_MAX_ANYVALUE_DEPTH
 * (receiver/otlp_limits.h). Otherwise returns XB_ERR_INVALID and sets |*err_desc| to
 * a static string: XB_OTLP_DEPTH_ERROR for the nesting limit, or one naming the
 * malformation (truncated or over-long varint, a length past the end of its
 * enclosing message, field number 0, a group or reserved wire type). XB_OK does not
 * promise protobuf-c will accept the bytes (wrong wire type for a known field, bad
 * UTF-8...), only that unpacking them cannot recurse deeper than the limit allows.
 */
int xb_pb_scan_export_request(const void *data, size_t len, const char **err_desc);

#endif
