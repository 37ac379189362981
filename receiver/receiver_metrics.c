#include "receiver/receiver_metrics.h"

#include <stddef.h>

struct xb_receiver_metrics xb_receiver_metrics;

static const char *const transport_values[XB_TRANSPORT_COUNT] = {
    [XB_TRANSPORT_GRPC] = "grpc",
    [XB_TRANSPORT_HTTP] = "http",
};

static const char *const conn_refused_values[XB_CONN_REFUSED_COUNT] = {
    [XB_CONN_REFUSED_MAX_CONNECTIONS] = "max_connections",
    [XB_CONN_REFUSED_EVICTED_STALLED] = "evicted_stalled",
    [XB_CONN_REFUSED_FD_EXHAUSTED] = "fd_exhausted",
    [XB_CONN_REFUSED_ACCEPT_ERROR] = "accept_error",
    [XB_CONN_REFUSED_TIMEOUT] = "timeout",
    [XB_CONN_REFUSED_PROTOCOL_ABUSE] = "protocol_abuse",
};

/* Every refusal reason but XB_REFUSAL_NONE, indexed reason - 1. */
static const char *const refusal_values[XB_REFUSAL_COUNT - 1] = {
    [XB_REFUSAL_BAD_REQUEST - 1] = "bad_request",
    [XB_REFUSAL_TOO_LARGE - 1] = "too_large",
    [XB_REFUSAL_QUEUE_FULL - 1] = "queue_full",
    [XB_REFUSAL_OUT_OF_MEMORY - 1] = "out_of_memory",
    [XB_REFUSAL_BUSY - 1] = "busy",
    [XB_REFUSAL_DRAINING - 1] = "draining",
    [XB_REFUSAL_UNSUPPORTED_ENCODING - 1] = "unsupported_encoding",
    [XB_REFUSAL_UNSUPPORTED_MEDIA_TYPE - 1] = "unsupported_media_type",
    [XB_REFUSAL_UNKNOWN_PATH - 1] = "unknown_path",
    [XB_REFUSAL_METHOD_NOT_ALLOWED - 1] = "method_not_allowed",
    [XB_REFUSAL_TIMEOUT - 1] = "timeout",
    [XB_REFUSAL_INTERNAL - 1] = "internal",
    [XB_REFUSAL_MEMORY_LIMITED - 1] = "memory_limited",
};

static const struct xb_metric_label by_transport[] = {
    {"transport", transport_values, XB_TRANSPORT_COUNT},
};
static const struct xb_metric_label by_transport_conn_reason[] = {
    {"transport", transport_values, XB_TRANSPORT_COUNT},
    {"reason", conn_refused_values, XB_CONN_REFUSED_COUNT},
};
static const struct xb_metric_label by_transport_refusal[] = {
    {"transport", transport_values, XB_TRANSPORT_COUNT},
    {"reason", refusal_values, XB_REFUSAL_COUNT - 1},
};

#define OTLP "receiver=\"otlp\""
#define M xb_receiver_metrics

/* A family of one receiver="otlp" sample per transport. */
#define PER_TRANSPORT(n, t, h, field)                                                              \
    {                                                                                              \
        .name = (n), .help = (h), .type = (t), .const_labels = OTLP, .labels = by_transport,       \
        .n_labels = 1, .values = M.field                                                           \
    }

/* In /metrics order. */
static struct xb_metric_family families[] = {
    PER_TRANSPORT("otelcol_receiver_accepted_spans_total", XB_METRIC_COUNTER,
                  "Spans accepted and queued for export.", accepted_spans),
    PER_TRANSPORT("otelcol_receiver_refused_spans_total", XB_METRIC_COUNTER,
                  "Spans refused with a retryable error (queue full, out of memory).",
                  refused_spans),
    PER_TRANSPORT("xraybridge_receiver_rejected_spans_total", XB_METRIC_COUNTER,
                  "Spans dropped for good and reported in partial_success.", rejected_spans),
    PER_TRANSPORT("xraybridge_receiver_requests_total", XB_METRIC_COUNTER,
                  "Export requests received.", requests),
    PER_TRANSPORT("xraybridge_receiver_bad_requests_total", XB_METRIC_COUNTER,
                  "Export requests rejected as malformed.", bad_requests),
    PER_TRANSPORT("xraybridge_receiver_oversize_requests_total", XB_METRIC_COUNTER,
                  "Export requests rejected as too large.", oversize_requests),
    PER_TRANSPORT("xraybridge_receiver_queue_full_requests_total", XB_METRIC_COUNTER,
                  "Export requests refused because the queue was full.", queue_full_requests),
    PER_TRANSPORT("xraybridge_receiver_timed_out_requests_total", XB_METRIC_COUNTER,
                  "Export requests whose upload did not finish within its deadline.",
                  timed_out_requests),
    {.name = "xraybridge_receiver_refused_requests_total",
     .help = "Requests refused by a receiver, by reason (receiver/status.h).",
     .type = XB_METRIC_COUNTER,
     .const_labels = OTLP,
     .labels = by_transport_refusal,
     .n_labels = 2,
     .values = &M.refused_requests[0][0]},
    PER_TRANSPORT("xraybridge_receiver_connections", XB_METRIC_GAUGE,
                  "Client connections open now.", receiver_connections),
    PER_TRANSPORT("xraybridge_receiver_inflight_bytes", XB_METRIC_GAUGE,
                  "Request bytes received and held while their upload completes.",
                  receiver_inflight_bytes),
    {.name = "xraybridge_receiver_connections_refused_total",
     .help = "Client connections refused at accept or closed by the receiver, by reason.",
     .type = XB_METRIC_COUNTER,
     .const_labels = OTLP,
     .labels = by_transport_conn_reason,
     .n_labels = 2,
     .values = &M.connections_refused[0][0]},
    {.name = "xraybridge_translator_documents_total",
     .help = "Segment documents built.",
     .type = XB_METRIC_COUNTER,
     .values = &M.documents_built},
    {.name = "xraybridge_translator_trimmed_documents_total",
     .help = "Documents trimmed to fit the document size limit.",
     .type = XB_METRIC_COUNTER,
     .values = &M.documents_trimmed},
};

void xb_receiver_metrics_register(void)
{
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        (void)xb_metrics_register(&families[i]); /* valid static families: cannot fail */
}

const char *xb_conn_refused_label(enum xb_conn_refused reason)
{
    if ((unsigned)reason >= XB_CONN_REFUSED_COUNT)
        return "other";
    return conn_refused_values[reason];
}

const char *xb_refusal_label(enum xb_refusal reason)
{
    if ((unsigned)reason >= XB_REFUSAL_COUNT || reason == XB_REFUSAL_NONE)
        reason = XB_REFUSAL_INTERNAL;
    return refusal_values[reason - 1];
}
