/*
 * tests/fuzz/otlp_json_enc.h - test-only OTLP/JSON writer for the differential fuzz
 * target: ExportTraceServiceRequest (protobuf-c structs) -> the OTLP "JSON Protobuf
 * Encoding" that receiver/otlp_json.c reads (lowerCamelCase keys, hex trace/span ids,
 * integer enums, 64-bit integers as decimal strings, bytesValue as base64, doubles as
 * numbers or "NaN"/"Infinity"/"-Infinity").
 */
#ifndef XB_TESTS_FUZZ_OTLP_JSON_ENC_H
#define XB_TESTS_FUZZ_OTLP_JSON_ENC_H

#include "core/buf.h"
#include "proto/otlp.h"

/*
 * Appends |req| as OTLP/JSON to |out|. Returns 0; 1 when the request cannot be
 * written as JSON with the same meaning (a string that is not valid UTF-8); -1 when
 * |out| cannot grow.
 */
int xb_fuzz_encode_json(const xb_pb_export_req *req, struct xb_buf *out);

#endif
