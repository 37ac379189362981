/*
 * core/metrics.h - xraybridge's self-metrics: plain counters and gauges updated on the
 * event-loop thread. Names follow the OpenTelemetry Collector's own metrics where one
 * exists (otelcol_receiver_accepted_spans, ...); the Prometheus endpoint renders them.
 */
#ifndef XB_CORE_METRICS_H
#define XB_CORE_METRICS_H

#include <stdint.h>

#include "core/buf.h"

enum xb_transport { XB_TRANSPORT_GRPC = 0, XB_TRANSPORT_HTTP = 1, XB_TRANSPORT_COUNT };

struct xb_metrics {
    /* receivers, by transport */
    uint64_t accepted_spans[XB_TRANSPORT_COUNT];  /* spans queued for export */
    uint64_t refused_spans[XB_TRANSPORT_COUNT];   /* spans answered with a retryable error */
    uint64_t rejected_spans[XB_TRANSPORT_COUNT];  /* spans dropped for good (partial_success) */
    uint64_t requests[XB_TRANSPORT_COUNT];        /* export requests received */
    uint64_t bad_requests[XB_TRANSPORT_COUNT];    /* answered 400 / INVALID_ARGUMENT etc. */
    uint64_t oversize_requests[XB_TRANSPORT_COUNT]; /* answered 413 / RESOURCE_EXHAUSTED */
    uint64_t queue_full_requests[XB_TRANSPORT_COUNT]; /* answered 503 / UNAVAILABLE */
    /* translator */
    uint64_t documents_built;
    uint64_t documents_trimmed; /* documents cut down to fit 64 KB */
    /* exporters */
    uint64_t sent_documents;        /* accepted by X-Ray or written to file */
    uint64_t send_failed_documents; /* given up on */
    uint64_t unprocessed_documents; /* listed in UnprocessedTraceSegments */
    uint64_t export_requests;       /* PutTraceSegments calls made */
    uint64_t export_request_errors; /* calls that failed (HTTP >= 400 or transport) */
};

/* The process-wide metrics; zero at start. */
extern struct xb_metrics xb_metrics;

/*
 * Appends the metrics in Prometheus text exposition format (version 0.0.4) to |out|,
 * with the queue gauges given by the caller. Returns 0 or an xb_err code.
 */
int xb_metrics_render(struct xb_buf *out, uint64_t queue_docs, uint64_t queue_bytes,
                      uint64_t queue_capacity_bytes);

#endif
