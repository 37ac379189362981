/*
 * exporter/exporter_metrics.h - the exporters' own metrics, declared to core's registry
 * (core/metrics.h): documents delivered and given up on, PutTraceSegments calls,
 * documents dropped for good by reason, and the AWS credentials in use. Plain integers
 * updated on the event-loop thread.
 *
 * The exporter counters with the collector's *_spans_total names count segment
 * documents: one per span, except that a local root CLIENT/PRODUCER/CONSUMER span gives
 * two (docs/translation.md). docs/observability.md lists every family and its labels.
 */
#ifndef XB_EXPORTER_EXPORTER_METRICS_H
#define XB_EXPORTER_EXPORTER_METRICS_H

#include <stdint.h>

#include "core/metrics.h"

/*
 * ErrorCode of an entry in PutTraceSegments' UnprocessedTraceSegments, folded into a
 * fixed set so the label has bounded cardinality. Label values: "InvalidTraceId",
 * "InvalidSegment", "ThrottledException", "other". The exporter classifies a code
 * (xb_xray_error_classify() in exporter/outcome.h).
 */
enum xb_unprocessed_code {
    XB_UNPROCESSED_INVALID_TRACE_ID = 0,
    XB_UNPROCESSED_INVALID_SEGMENT = 1,
    XB_UNPROCESSED_THROTTLED = 2,
    XB_UNPROCESSED_OTHER = 3,
    XB_UNPROCESSED_COUNT
};

/* Exporter instances, for the exporter="..." label. */
enum xb_exporter_kind {
    XB_EXPORTER_AWSXRAY = 0,
    XB_EXPORTER_FILE = 1,
    XB_EXPORTER_OTLPHTTP = 2,      /* counts spans (OTLP records), not documents */
    XB_EXPORTER_LOADBALANCING = 3, /* counts spans too */
    XB_EXPORTER_COUNT
};

/*
 * Why the awsxray exporter dropped a document for good (never sent again).
 * Label values: "http_4xx" (the whole batch was answered with a non-retryable 4xx),
 * "unprocessed_non_retryable" (listed in UnprocessedTraceSegments with an error that
 * retrying cannot fix), "given_up_max_elapsed" (a retryable failure that is not retried:
 * retry_on_failure.max_elapsed_time passed, or retry_on_failure is disabled).
 */
enum xb_reject_reason {
    XB_REJECT_HTTP_4XX = 0,
    XB_REJECT_UNPROCESSED_NON_RETRYABLE = 1,
    XB_REJECT_GIVEN_UP_MAX_ELAPSED = 2,
    XB_REJECT_COUNT
};

struct xb_exporter_metrics {
    /* by exporter */
    uint64_t sent_documents[XB_EXPORTER_COUNT];        /* accepted by X-Ray / written */
    uint64_t send_failed_documents[XB_EXPORTER_COUNT]; /* given up on (all reasons) */
    /* awsxray exporter */
    uint64_t rejected_documents[XB_REJECT_COUNT]; /* dropped for good, by reason */
    uint64_t export_requests;       /* PutTraceSegments calls made (first tries and retries) */
    uint64_t export_request_errors; /* calls that failed (HTTP >= 400 or transport) */
    uint64_t export_retries;        /* calls that were retries of an earlier failed call */
    uint64_t export_throttled;      /* responses HTTP 429 or ThrottledException */
    uint64_t unprocessed_by_code[XB_UNPROCESSED_COUNT]; /* UnprocessedTraceSegments
                                                           entries, by ErrorCode bucket */
    /* AWS credentials (filled by the awsxray exporter from its credential provider) */
    uint64_t credential_refreshes;        /* successful fetches/refreshes */
    uint64_t credential_refresh_failures; /* failed attempts */
    uint64_t credential_expiry_unix_s;    /* gauge: expiry of the credentials in use, UNIX
                                             seconds; 0 = none or no expiry (static keys) */
    /* otlphttp and loadbalancing: export calls that failed (any reason, retried or not);
     * read by the health check's exporter rule (app/telemetry.h), not exported */
    uint64_t failed_calls[XB_EXPORTER_COUNT];
};

/* The process-wide exporter metrics; zero at start, zeroed by xb_metrics_reset() once
 * registered. */
extern struct xb_exporter_metrics xb_exporter_metrics;

/*
 * Registers the exporters' families with core/metrics.h, in their /metrics order.
 * Idempotent. The metrics endpoint calls it at start-up.
 */
void xb_exporter_metrics_register(void);

/* Label value of |code| ("InvalidTraceId", ...); "other" when out of range. Static. */
const char *xb_exporter_unprocessed_label(enum xb_unprocessed_code code);

/* Label value of |reason| ("http_4xx", ...); "other" when out of range. Static. */
const char *xb_exporter_reject_label(enum xb_reject_reason reason);

#endif
