#include "exporter/exporter_metrics.h"

#include <stddef.h>

struct xb_exporter_metrics xb_exporter_metrics;

static const char *const exporter_values[XB_EXPORTER_COUNT] = {
    [XB_EXPORTER_AWSXRAY] = "awsxray",
    [XB_EXPORTER_FILE] = "file",
    [XB_EXPORTER_OTLPHTTP] = "otlphttp",
    [XB_EXPORTER_LOADBALANCING] = "loadbalancing",
};

static const char *const reject_values[XB_REJECT_COUNT] = {
    [XB_REJECT_HTTP_4XX] = "http_4xx",
    [XB_REJECT_UNPROCESSED_NON_RETRYABLE] = "unprocessed_non_retryable",
    [XB_REJECT_GIVEN_UP_MAX_ELAPSED] = "given_up_max_elapsed",
};

static const char *const unprocessed_values[XB_UNPROCESSED_COUNT] = {
    [XB_UNPROCESSED_INVALID_TRACE_ID] = "InvalidTraceId",
    [XB_UNPROCESSED_INVALID_SEGMENT] = "InvalidSegment",
    [XB_UNPROCESSED_THROTTLED] = "ThrottledException",
    [XB_UNPROCESSED_OTHER] = "other",
};

static const struct xb_metric_label by_exporter[] = {
    {"exporter", exporter_values, XB_EXPORTER_COUNT},
};
static const struct xb_metric_label by_reason[] = {
    {"reason", reject_values, XB_REJECT_COUNT},
};

#define XRAY "exporter=\"awsxray\""
#define M xb_exporter_metrics

/* A family of one sample, optionally with constant labels |cl|. */
#define ONE(n, t, cl, h, field)                                                                    \
    {                                                                                              \
        .name = (n), .help = (h), .type = (t), .const_labels = (cl), .values = &M.field            \
    }

static struct xb_metric_family sent = {
    .name = "otelcol_exporter_sent_spans_total",
    .help = "Segment documents delivered (accepted by X-Ray, or written).",
    .type = XB_METRIC_COUNTER,
    .labels = by_exporter,
    .n_labels = 1,
    .values = M.sent_documents};
static struct xb_metric_family failed = {.name = "otelcol_exporter_send_failed_spans_total",
                                         .help = "Segment documents given up on, for any reason.",
                                         .type = XB_METRIC_COUNTER,
                                         .labels = by_exporter,
                                         .n_labels = 1,
                                         .values = M.send_failed_documents};
static struct xb_metric_family calls[] = {
    ONE("xraybridge_exporter_requests_total", XB_METRIC_COUNTER, XRAY,
        "PutTraceSegments calls made, retries included.", export_requests),
    ONE("xraybridge_exporter_request_errors_total", XB_METRIC_COUNTER, XRAY,
        "PutTraceSegments calls that failed (HTTP status >= 400 or transport).",
        export_request_errors),
    ONE("xraybridge_exporter_retries_total", XB_METRIC_COUNTER, XRAY,
        "PutTraceSegments calls that retried an earlier failed call.", export_retries),
    ONE("xraybridge_exporter_throttled_total", XB_METRIC_COUNTER, XRAY,
        "Responses that were throttling (HTTP 429 or ThrottledException).", export_throttled),
};
static struct xb_metric_family rejected = {
    .name = "xraybridge_exporter_rejected_documents_total",
    .help = "Documents dropped for good without a further attempt, by reason.",
    .type = XB_METRIC_COUNTER,
    .const_labels = XRAY,
    .labels = by_reason,
    .n_labels = 1,
    .values = M.rejected_documents};
static const struct xb_metric_label by_unprocessed_code[] = {
    {"error_code", unprocessed_values, XB_UNPROCESSED_COUNT},
};
static struct xb_metric_family unprocessed = {
    .name = "xraybridge_exporter_unprocessed_documents_total",
    .help = "Documents returned in UnprocessedTraceSegments, by X-Ray error code.",
    .type = XB_METRIC_COUNTER,
    .const_labels = XRAY,
    .labels = by_unprocessed_code,
    .n_labels = 1,
    .values = M.unprocessed_by_code};
static struct xb_metric_family credentials[] = {
    ONE("xraybridge_credentials_refreshes_total", XB_METRIC_COUNTER, NULL,
        "AWS credentials fetched or refreshed successfully.", credential_refreshes),
    ONE("xraybridge_credentials_refresh_failures_total", XB_METRIC_COUNTER, NULL,
        "Failed attempts to fetch or refresh AWS credentials.", credential_refresh_failures),
    ONE("xraybridge_credentials_expiry_timestamp_seconds", XB_METRIC_GAUGE, NULL,
        "Expiry of the AWS credentials in use, UNIX seconds; 0 = none or no expiry.",
        credential_expiry_unix_s),
};

void xb_exporter_metrics_register(void)
{
    /* valid static families: registering cannot fail */
    (void)xb_metrics_register(&sent);
    (void)xb_metrics_register(&failed);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        (void)xb_metrics_register(&calls[i]);
    (void)xb_metrics_register(&unprocessed);
    (void)xb_metrics_register(&rejected);
    for (size_t i = 0; i < sizeof(credentials) / sizeof(credentials[0]); i++)
        (void)xb_metrics_register(&credentials[i]);
}

const char *xb_exporter_unprocessed_label(enum xb_unprocessed_code code)
{
    if ((unsigned)code >= XB_UNPROCESSED_COUNT)
        return "other";
    return unprocessed_values[code];
}

const char *xb_exporter_reject_label(enum xb_reject_reason reason)
{
    if ((unsigned)reason >= XB_REJECT_COUNT)
        return "other";
    return reject_values[reason];
}
