/*
 * receiver/status.h - the one place where a receiver's decision becomes a protocol
 * answer: every refusal, whether the ingest path or the receiver itself made it
 * (unknown path, wrong method or content type, unsupported encoding, in-flight caps,
 * draining, deadlines), is named by an enum xb_refusal and mapped here to gRPC status
 * code + message (+ RetryInfo), or HTTP status + body, and counted once in
 * xraybridge_receiver_refused_requests_total{transport,reason}. Also writes the
 * response bodies themselves (ExportTraceServiceResponse, google.rpc.Status) in
 * protobuf or OTLP/JSON.
 *
 * Mapping (OTLP specification "OTLP/gRPC Response", "OTLP/HTTP Response", "Failures",
 * "Throttling"; gRPC doc/statuscodes.md, doc/compression.md, doc/PROTOCOL-HTTP2.md;
 * RFC 9110 15.5.16). docs/observability.md has the same table.
 *   reason                  HTTP                     gRPC (HTTP/2 :status 200 unless said)
 *   bad_request             400                      INVALID_ARGUMENT (3)
 *   too_large               413                      RESOURCE_EXHAUSTED (8), not retryable
 *   queue_full              503 + Retry-After        UNAVAILABLE (14) + RetryInfo
 *   out_of_memory           503 + Retry-After        UNAVAILABLE (14) + RetryInfo
 *   busy                    503 + Retry-After        UNAVAILABLE (14) + RetryInfo
 *   draining                503 + Retry-After        UNAVAILABLE (14) + RetryInfo
 *   unsupported_encoding    415 + Accept-Encoding    UNIMPLEMENTED (12) + grpc-accept-encoding
 *   unsupported_media_type  415                      INVALID_ARGUMENT (3), :status 415
 *   unknown_path            404                      UNIMPLEMENTED (12)
 *   method_not_allowed      405 + Allow: POST        UNIMPLEMENTED (12)
 *   timeout                 408                      DEADLINE_EXCEEDED (4)
 *   internal                500                      INTERNAL (13)
 *   memory_limited          503 + Retry-After        UNAVAILABLE (14) + RetryInfo
 * An ingest outcome's rc names its reason when the outcome does not (xb_refusal_of_rc).
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

/* Codings a receiver decompresses, as advertised in Accept-Encoding (HTTP) and
 * grpc-accept-encoding (gRPC) when refusing any other. */
#define XB_ACCEPT_ENCODING "identity,gzip"

/* Protocol answer for one outcome. message is static or points into the outcome. */
struct xb_reply {
    int http_status;             /* OTLP/HTTP status */
    const char *http_reason;     /* its reason phrase (static) */
    enum xb_grpc_code grpc_code; /* OTLP/gRPC status */
    int grpc_http_status;        /* HTTP/2 :status of the gRPC answer: 200, or 415 for a
                                    content type that is not application/grpc */
    int retry_after_s;           /* 0 = none; else Retry-After / RetryInfo seconds */
    int accept_encoding;         /* advertise XB_ACCEPT_ENCODING (unsupported encoding) */
    int allow_post;              /* HTTP: send Allow: POST (method not allowed) */
    const char *message;
};

/* Maps refusal |reason| with |message| (borrowed; NULL = a generic text for the
 * reason) to |r|. An out-of-range reason maps as XB_REFUSAL_INTERNAL. */
void xb_reply_refusal(enum xb_refusal reason, const char *message, struct xb_reply *r);

/* The refusal reason of a failed ingest outcome code (XB_ERR_INVALID -> bad_request,
 * _TOO_LARGE -> too_large, _FULL -> queue_full, _NOMEM -> out_of_memory, _AGAIN ->
 * busy, _UNSUPPORTED -> unsupported_encoding, anything else -> internal). */
enum xb_refusal xb_refusal_of_rc(int rc);

/* The reason of a failed outcome: o->refusal when set, else xb_refusal_of_rc(o->rc). */
enum xb_refusal xb_refusal_of(const struct xb_ingest_outcome *o);

/*
 * Counts one refused request in xraybridge_receiver_refused_requests_total
 * (receiver/receiver_metrics.h). xb_ingest_account() calls it for every failed export
 * outcome; receivers call it (through xb_reply_refuse) for the requests they refuse
 * before they are export requests.
 */
void xb_refusal_count(enum xb_transport transport, enum xb_refusal reason);

/* The refused-requests counters, [transport][reason] (read-only; for tests). */
uint64_t xb_refusal_counted(enum xb_transport transport, enum xb_refusal reason);

/* Refuses a request that never reached the ingest path (unknown path, method or
 * content type; timeout): counts it (xb_refusal_count) and maps it (xb_reply_refusal). */
void xb_reply_refuse(enum xb_transport transport, enum xb_refusal reason, const char *message,
                     struct xb_reply *r);

/* Maps |o| (borrowed; |r|->message may point into it) to |r|: 200 for XB_OK, else
 * xb_reply_refusal(xb_refusal_of(o), o->err_desc). */
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
int xb_reply_status_body(enum xb_grpc_code code, const char *message, int retry_after_s, int json,
                         struct xb_buf *out);

#endif
