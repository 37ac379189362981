/*
 * receiver/status.h - the one place where an ingest outcome becomes a protocol
 * answer: gRPC status code + message (+ RetryInfo), or HTTP status + body, and the
 * response bodies themselves (ExportTraceServiceResponse, google.rpc.Status) in
 * protobuf or OTLP/JSON.
 *
 * Mapping (OTLP spec "Failures", "Throttling"; shared/reference A6-A7):
 *   ok                -> gRPC OK / HTTP 200, partial_success when spans were rejected
 *   XB_ERR_INVALID    -> INVALID_ARGUMENT (3) / 400
 *   XB_ERR_TOO_LARGE  -> RESOURCE_EXHAUSTED (8, no RetryInfo: not retryable) / 413
 *   XB_ERR_FULL       -> UNAVAILABLE (14) + RetryInfo / 503 + Retry-After
 *   XB_ERR_NOMEM      -> UNAVAILABLE (14) + RetryInfo / 503 + Retry-After
 *   XB_ERR_UNSUPPORTED-> UNIMPLEMENTED (12) / 415
 */
#ifndef XB_RECEIVER_STATUS_H
#define XB_RECEIVER_STATUS_H

#include "core/buf.h"
#include "receiver/ingest.h"

/* gRPC status codes used here (grpc/doc/statuscodes.md). */
enum xb_grpc_code {
    XB_GRPC_OK = 0,
    XB_GRPC_INVALID_ARGUMENT = 3,
    XB_GRPC_DEADLINE_EXCEEDED = 4,
    XB_GRPC_RESOURCE_EXHAUSTED = 8,
    XB_GRPC_UNIMPLEMENTED = 12,
    XB_GRPC_INTERNAL = 13,
    XB_GRPC_UNAVAILABLE = 14,
};

/* Seconds clients are asked to wait before retrying when the queue is full. */
#define XB_RETRY_AFTER_S 1

/* Protocol answer for one outcome. message is static or points into the outcome. */
struct xb_reply {
    int http_status;
    enum xb_grpc_code grpc_code;
    int retry_after_s; /* 0 = none */
    const char *message;
};

/* Maps |o| (borrowed; |r|->message may point into it) to |r|. */
void xb_reply_from_outcome(const struct xb_ingest_outcome *o, struct xb_reply *r);

/*
 * Appends the success body for |o| to |out|: an ExportTraceServiceResponse, with
 * partial_success set only when spans were rejected. |json| selects OTLP/JSON.
 * Returns 0 or XB_ERR_NOMEM.
 */
int xb_reply_success_body(const struct xb_ingest_outcome *o, int json, struct xb_buf *out);

/*
 * Appends a google.rpc.Status for |code| and |message| to |out|, with a RetryInfo
 * detail when |retry_after_s| > 0. |json| selects OTLP/JSON (the Any detail is then
 * omitted; Retry-After carries it). Returns 0 or XB_ERR_NOMEM.
 */
int xb_reply_status_body(enum xb_grpc_code code, const char *message, int retry_after_s,
                         int json, struct xb_buf *out);

#endif
