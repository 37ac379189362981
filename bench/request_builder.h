/*
 * bench/request_builder.h - synthetic but realistic OTLP ExportTraceServiceRequest.
 *
 * Shared by gen_request (writes the request to files) and bench_translate (builds it
 * in process). The shape is fixed so that runs are comparable:
 *   - one ResourceSpans whose resource carries service.*, cloud.*, k8s.*, container.*,
 *     host.* and telemetry.sdk.* attributes (17 attributes);
 *   - one ScopeSpans; spans come in traces of 5: an HTTP SERVER root, then a CLIENT
 *     HTTP call, a CLIENT database call (status ERROR, one "exception" event with
 *     exception.type/message/stacktrace), a CLIENT AWS SDK call (rpc.system aws-api)
 *     and an INTERNAL span; the last trace is cut short when the span count is not a
 *     multiple of 5;
 *   - every span has 15 attributes (6 shared application attributes plus 9 specific
 *     to its role, semantic conventions v1.2x names).
 * Ids come from a seeded xorshift generator, so the same options give the same bytes.
 */
#ifndef XB_BENCH_REQUEST_BUILDER_H
#define XB_BENCH_REQUEST_BUILDER_H

#include <stddef.h>
#include <stdint.h>

/* Spans per synthetic trace (server root + 4 children). */
#define XB_BENCH_SPANS_PER_TRACE 5

/* Largest span count xb_bench_build_request() accepts. */
#define XB_BENCH_MAX_SPANS 1000000u

/* Request shape options. */
struct xb_bench_request_opts {
    size_t spans;           /* number of spans, 1..XB_BENCH_MAX_SPANS */
    uint64_t seed;          /* id generator seed (0 is replaced by a fixed constant) */
    uint64_t start_unix_ns; /* start time of the first trace, ns since the UNIX epoch */
};

/* Fills |opts| with the defaults: 100 spans, seed 1, start = now (CLOCK_REALTIME). */
void xb_bench_request_opts_defaults(struct xb_bench_request_opts *opts);

/*
 * Builds the request described by |opts| and packs it as binary protobuf
 * (opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest).
 * On success |*out| is a malloc()ed buffer of |*out_len| bytes: the caller frees it.
 * Returns 0; XB_ERR_INVALID (span count 0 or above XB_BENCH_MAX_SPANS); XB_ERR_NOMEM.
 */
int xb_bench_build_request(const struct xb_bench_request_opts *opts, uint8_t **out,
                           size_t *out_len);

/*
 * Wraps |msg| (|len| bytes) in a gRPC length-prefixed message (gRPC over HTTP/2 spec,
 * "Length-Prefixed-Message"): compressed flag 0, 4-byte big-endian length, payload.
 * |*out| is malloc()ed, |*out_len| = len + 5; caller frees.
 * Returns 0; XB_ERR_TOO_LARGE (len >= 2^32); XB_ERR_NOMEM.
 */
int xb_bench_grpc_frame(const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len);

/* Parses a non-negative decimal integer (command-line options of the bench tools).
 * Returns 0 and sets |*out|, or -1 when |s| is empty, negative, not a number or too big. */
int xb_bench_parse_u64(const char *s, uint64_t *out);

#endif
