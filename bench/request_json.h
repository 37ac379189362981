/*
 * bench/request_json.h - the benchmark request as an OTLP/JSON body.
 */
#ifndef XB_BENCH_REQUEST_JSON_H
#define XB_BENCH_REQUEST_JSON_H

#include <stddef.h>
#include <stdint.h>

/*
 * Re-encodes the binary protobuf ExportTraceServiceRequest |pb| (|len| bytes, e.g.
 * from xb_bench_build_request()) as OTLP/JSON, the body of an OTLP/HTTP POST with
 * Content-Type application/json (OTLP specification, "JSON Protobuf Encoding":
 * lowerCamelCase keys, hex trace and span ids, enums as integers, 64-bit integers as
 * decimal strings, doubles with 17 significant digits so they read back exactly).
 * Fields left at their default are omitted. On success |*out| is a malloc'd,
 * NUL-terminated string of |*out_len| bytes that the caller frees. Returns XB_OK;
 * XB_ERR_INVALID when |pb| does not decode or holds a bytesValue (the benchmark
 * request has none); XB_ERR_NOMEM.
 */
int xb_bench_request_to_json(const uint8_t *pb, size_t len, char **out, size_t *out_len);

#endif
