/*
 * exporter/otlp_outcome.h - pure decisions of the otlphttp exporter: what a finished
 * OTLP/HTTP export call means for the records it carried, the Retry-After delay, the
 * partial_success of a 200 answer, and how many spans a queued record holds.
 *
 * Retry rules are the OTLP specification's ("OTLP/HTTP Response", "Failures",
 * "Retryable Response Codes", "OTLP/HTTP Throttling":
 * https://opentelemetry.io/docs/specs/otlp/): only 429, 502, 503 and 504 (and calls
 * without an HTTP answer) are retried, honouring Retry-After (delta-seconds or an
 * HTTP-date); every other 4xx/5xx is final. A 2xx answer may carry an
 * ExportTraceServiceResponse whose partial_success counts spans the server rejected
 * for good: they are dropped, never retried. Back-off and retry bookkeeping are shared
 * with the awsxray exporter (exporter/outcome.h).
 */
#ifndef XB_EXPORTER_OTLP_OUTCOME_H
#define XB_EXPORTER_OTLP_OUTCOME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "exporter/outcome.h"

/* The answer to one export call, as the exporter parsed it. */
struct xb_otlp_call {
    int transport_failed;   /* no complete HTTP answer (connection error, timeout) */
    long status;            /* HTTP status; 0 when none */
    int64_t retry_after_ms; /* parsed Retry-After, -1 when absent or unparsable */
    int64_t rejected_spans; /* partial_success.rejected_spans of a 2xx answer, else 0 */
};

enum xb_otlp_verdict {
    XB_OTLP_DELIVERED = 0, /* accepted (rejected_spans of them dropped by the server) */
    XB_OTLP_RETRY = 1,     /* back to the head of the queue, after the back-off */
    XB_OTLP_DROP = 2,      /* given up: count the spans as send_failed and log */
};

struct xb_otlp_decision {
    enum xb_otlp_verdict verdict;
    enum xb_drop_why why;  /* XB_OTLP_DROP: XB_DROP_HTTP, _RETRY_DISABLED, _MAX_ELAPSED */
    int throttled;         /* 429, or 503 with Retry-After: count as throttled */
    int request_error;     /* the call failed (transport or HTTP >= 300) */
    int back_off;          /* grow the shared back-off (xb_backoff_step()) */
    uint64_t min_delay_ms; /* the server's Retry-After: wait at least this long */
    uint64_t rejected;     /* spans the server refused in a partial success */
};

/*
 * Decides the fate of the records of one call answered with |c| at monotonic |now_ms|,
 * with retry settings |opts|. |st| is the retry state of the call's first record
 * (all records of a call share one fate); a retry updates it (attempts, first failure).
 * A retry becomes a drop when retrying is disabled or the call has been failing longer
 * than opts->max_elapsed_ms. Retry-After delays are capped at opts->max_ms.
 */
void xb_otlp_outcome_decide(const struct xb_otlp_call *c, struct xb_retry_state *st,
                            uint64_t now_ms, const struct xb_retry_opts *opts,
                            struct xb_otlp_decision *out);

/*
 * Parses a Retry-After header value |v| (borrowed, NUL-terminated, surrounding blanks
 * allowed): delta-seconds, or an IMF-fixdate HTTP-date taken relative to |now| (UNIX
 * seconds; a date in the past gives 0). Returns the delay in ms, or -1 when |v| is
 * neither (RFC 9110 section 10.2.3).
 */
int64_t xb_otlp_retry_after_ms(const char *v, time_t now);

/*
 * Reads the partial_success of an ExportTraceServiceResponse in |body| (|len| bytes,
 * binary protobuf). Sets |*rejected| (0 when absent) and copies error_message into
 * |msg| (|msg_len| bytes, NUL-terminated, truncated; "" when none). An empty body is a
 * full success. Returns 0, or XB_ERR_INVALID when the body does not decode (then
 * |*rejected| is 0: the spans count as delivered, as the 2xx said).
 */
int xb_otlp_parse_response(const void *body, size_t len, int64_t *rejected, char *msg,
                           size_t msg_len);

/*
 * Spans in the serialised ExportTraceServiceRequest |rec| (|len| bytes): counts
 * resource_spans.scope_spans.spans without decoding the spans. Returns -1 when the
 * bytes are not a well-formed request at those three levels.
 */
int64_t xb_otlp_record_spans(const void *rec, size_t len);

struct xb_qdoc;
struct xb_buf;

/*
 * Appends to |out| the body of one export call carrying |recs| (|n| queued records,
 * each a serialised ExportTraceServiceRequest): their bytes concatenated, which is one
 * ExportTraceServiceRequest holding all their resource_spans (protobuf encoding:
 * repeated fields concatenate), gzipped when |gzip|. Used by the otlphttp and
 * loadbalancing exporters. Returns 0, XB_ERR_NOMEM or xb_gzip's error; |out| may then
 * hold part of the body.
 */
int xb_otlp_records_body(struct xb_qdoc *const *recs, size_t n, int gzip, struct xb_buf *out);

/* What a finished OTLP/gRPC call to one loadbalancing gateway means. */
enum xb_grpc_verdict {
    XB_GRPC_DELIVERED = 0, /* grpc-status 0 */
    XB_GRPC_RETRY = 1,     /* the gateway answered with a retryable code: back off, retry */
    XB_GRPC_REROUTE = 2,   /* the gateway could not be reached or did not speak gRPC: take
                              it off the ring for a while and send to the next owner */
    XB_GRPC_DROP = 3,      /* a final code (INVALID_ARGUMENT, ...): give the spans up */
};

/*
 * Classifies a call: |transport_failed| (no HTTP answer), the HTTP |status| and the
 * |grpc_status| from the trailers (or headers; -1 when none arrived). Retryable codes
 * are the OTLP specification's ("Failures", OTLP/gRPC): CANCELLED 1, DEADLINE_EXCEEDED 4,
 * RESOURCE_EXHAUSTED 8, ABORTED 10, OUT_OF_RANGE 11, UNAVAILABLE 14, DATA_LOSS 15.
 * A transport failure, an HTTP status other than 200, or a missing grpc-status reroutes.
 */
enum xb_grpc_verdict xb_grpc_call_verdict(int transport_failed, long status, int grpc_status);

#endif
