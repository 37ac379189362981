/*
 * receiver/receiver_metrics.h - the receivers' own metrics, declared to core's registry
 * (core/metrics.h): export requests and spans by outcome, refusals by reason,
 * connections, in-flight bytes, and the documents the ingest path built. Counters and
 * gauges are plain integers, updated with XB_METRIC_ADD / XB_METRIC_SUB (core/metrics.h)
 * because the ingest workers' loops (app/workers.h) update them too.
 *
 * Names follow the OpenTelemetry Collector's own metrics where one exists
 * (otelcol_receiver_accepted_spans_total, ...); everything else is xraybridge_*.
 * docs/observability.md lists every family and its labels.
 */
#ifndef XB_RECEIVER_RECEIVER_METRICS_H
#define XB_RECEIVER_RECEIVER_METRICS_H

#include <stdint.h>

#include "core/metrics.h"

/* The receiver's transports, for the transport="grpc"|"http" label. */
enum xb_transport { XB_TRANSPORT_GRPC = 0, XB_TRANSPORT_HTTP = 1, XB_TRANSPORT_COUNT };

/*
 * Why a receiver closed or refused a connection (receiver/listen.h), for
 * xraybridge_receiver_connections_refused_total. Label values: "max_connections" (at
 * the cap with every connection busy), "evicted_stalled" (closed to make room for a new
 * one: it had gone longest without progress), "fd_exhausted" (accept failed with
 * EMFILE/ENFILE/ENOBUFS/ENOMEM), "accept_error" (any other accept failure), "timeout"
 * (a connection, header, upload or idle deadline expired), "protocol_abuse" (closed for
 * abusing the protocol, e.g. a flood of stream resets).
 */
enum xb_conn_refused {
    XB_CONN_REFUSED_MAX_CONNECTIONS = 0,
    XB_CONN_REFUSED_EVICTED_STALLED = 1,
    XB_CONN_REFUSED_FD_EXHAUSTED = 2,
    XB_CONN_REFUSED_ACCEPT_ERROR = 3,
    XB_CONN_REFUSED_TIMEOUT = 4,
    XB_CONN_REFUSED_PROTOCOL_ABUSE = 5,
    XB_CONN_REFUSED_COUNT
};

/*
 * Why a request was refused (receiver/status.h maps each to its answer). Label values
 * of xraybridge_receiver_refused_requests_total{reason}: see xb_refusal_label().
 */
enum xb_refusal {
    XB_REFUSAL_NONE = 0,               /* not refused, or: derive the reason from rc */
    XB_REFUSAL_BAD_REQUEST,            /* "bad_request": malformed body or framing */
    XB_REFUSAL_TOO_LARGE,              /* "too_large": body, message or headers too big */
    XB_REFUSAL_QUEUE_FULL,             /* "queue_full": an exporter queue has no room */
    XB_REFUSAL_OUT_OF_MEMORY,          /* "out_of_memory": an allocation failed */
    XB_REFUSAL_BUSY,                   /* "busy": request bytes in flight over the cap */
    XB_REFUSAL_DRAINING,               /* "draining": shutting down */
    XB_REFUSAL_UNSUPPORTED_ENCODING,   /* "unsupported_encoding": not gzip or identity */
    XB_REFUSAL_UNSUPPORTED_MEDIA_TYPE, /* "unsupported_media_type": wrong content type */
    XB_REFUSAL_UNKNOWN_PATH,           /* "unknown_path": not the traces Export path */
    XB_REFUSAL_METHOD_NOT_ALLOWED,     /* "method_not_allowed": HTTP method not POST */
    XB_REFUSAL_TIMEOUT,                /* "timeout": upload not received in time */
    XB_REFUSAL_INTERNAL,               /* "internal": anything else */
    XB_REFUSAL_MEMORY_LIMITED,         /* "memory_limited": RSS over the memory_limiter's
                                          soft limit (app/memory_limiter.h) */
    XB_REFUSAL_COUNT
};

struct xb_receiver_metrics {
    /* by transport */
    uint64_t accepted_spans[XB_TRANSPORT_COUNT];      /* spans queued for export */
    uint64_t refused_spans[XB_TRANSPORT_COUNT];       /* spans answered with a retryable error */
    uint64_t rejected_spans[XB_TRANSPORT_COUNT];      /* spans dropped for good (partial_success) */
    uint64_t requests[XB_TRANSPORT_COUNT];            /* export requests received */
    uint64_t bad_requests[XB_TRANSPORT_COUNT];        /* answered 400 / INVALID_ARGUMENT etc. */
    uint64_t oversize_requests[XB_TRANSPORT_COUNT];   /* answered 413 / RESOURCE_EXHAUSTED */
    uint64_t queue_full_requests[XB_TRANSPORT_COUNT]; /* answered 503 / UNAVAILABLE */
    uint64_t timed_out_requests[XB_TRANSPORT_COUNT];  /* upload not finished in time */
    /* every refusal, by transport and reason (index reason - 1; receiver/status.c) */
    uint64_t refused_requests[XB_TRANSPORT_COUNT][XB_REFUSAL_COUNT - 1];
    /* connections (receiver/listen.c), by transport */
    uint64_t receiver_connections[XB_TRANSPORT_COUNT];    /* gauge: connections open now */
    uint64_t receiver_inflight_bytes[XB_TRANSPORT_COUNT]; /* gauge: request bytes held */
    uint64_t connections_refused[XB_TRANSPORT_COUNT][XB_CONN_REFUSED_COUNT]; /* by reason */
    /* the translator, as the ingest path runs it */
    uint64_t documents_built;   /* documents built and queued (refused requests excluded) */
    uint64_t documents_trimmed; /* of those, documents cut down to fit the size limit */
};

/* The process-wide receiver metrics; zero at start, zeroed by xb_metrics_reset() once
 * registered. */
extern struct xb_receiver_metrics xb_receiver_metrics;

/*
 * Registers the receivers' families with core/metrics.h, in their /metrics order, so
 * that they are rendered (at zero) from start-up. Idempotent; the receivers' start
 * functions and the ingest path call it.
 */
void xb_receiver_metrics_register(void);

/* Label value of |reason| ("max_connections", ...); "other" when out of range. Static. */
const char *xb_conn_refused_label(enum xb_conn_refused reason);

/* Label value of |reason| ("bad_request", ...); "internal" for XB_REFUSAL_NONE or out
 * of range. Static. */
const char *xb_refusal_label(enum xb_refusal reason);

#endif
