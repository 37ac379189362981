/*
 * receiver/otlp_decode.h - request bodies -> ExportTraceServiceRequest.
 *
 * Both decoders build the same protobuf-c structures, entirely inside the caller's
 * per-request arena (nothing to free individually; the arena owns it all), so the
 * translator sees one input type whatever the wire encoding was.
 */
#ifndef XB_RECEIVER_OTLP_DECODE_H
#define XB_RECEIVER_OTLP_DECODE_H

#include <stddef.h>

#include "core/arena.h"
#include "proto/otlp.h"

/*
 * Decodes binary protobuf |data| (|len| bytes), allocating from |arena|. The
 * schema-specific decoder (receiver/otlp_wire.h) runs first; input outside the
 * subset it handles (including every malformed request) is rolled back out of the
 * arena and decoded by xb_otlp_decode_protobuf_ref(), so results and error classes
 * are the reference decoder's. Returns 0 and sets |*out|; XB_ERR_INVALID (malformed,
 * or an AnyValue nested deeper than XB_OTLP_MAX_ANYVALUE_DEPTH; |*err_desc| set);
 * XB_ERR_NOMEM (arena cap or heap exhausted; |*err_desc| set).
 */
int xb_otlp_decode_protobuf(const void *data, size_t len, struct xb_arena *arena,
                            xb_pb_export_req **out, const char **err_desc);

/*
 * The reference decoder: protobuf-c's unpacker, after xb_pb_scan_export_request()
 * has checked the wire format without recursion. Same contract as
 * xb_otlp_decode_protobuf(); kept for the fallback and for differential tests.
 */
int xb_otlp_decode_protobuf_ref(const void *data, size_t len, struct xb_arena *arena,
                                xb_pb_export_req **out, const char **err_desc);

/*
 * Decodes an OTLP/JSON ExportTraceServiceRequest (OTLP spec "JSON Protobuf Encoding"):
 * lowerCamelCase keys, hex trace/span ids (case-insensitive), integer enums, 64-bit
 * integers as decimal strings or JSON numbers without precision loss, bytesValue as
 * base64, unknown keys ignored. |data| need not be NUL-terminated.
 * Returns 0 and sets |*out|; XB_ERR_INVALID with |*err_desc| set to a static string
 * naming the problem (e.g. "invalid JSON", "spanId: invalid hex", "kind: enum must be
 * an integer"); XB_ERR_NOMEM.
 */
int xb_otlp_decode_json(const void *data, size_t len, struct xb_arena *arena,
                        xb_pb_export_req **out, const char **err_desc);

/*
 * xb_otlp_decode_json() with the parser choice exposed, for the differential tests
 * (tests/fuzz/fuzz_json_diff.c): |jansson_only| skips cJSON; *|used_cjson| (NULL-able)
 * is set to 1 when cJSON's tree produced the result, 0 when jansson's did.
 */
int xb_otlp_decode_json_ex(const void *data, size_t len, struct xb_arena *arena, int jansson_only,
                           xb_pb_export_req **out, const char **err_desc, int *used_cjson);

/* Number of spans in |req| (sum over resource and scope spans). */
size_t xb_otlp_count_spans(const xb_pb_export_req *req);

#endif
