#include "core/metrics.h"

#include <inttypes.h>

#include "core/err.h"

struct xb_metrics xb_metrics;

static int counter(struct xb_buf *out, const char *name, const char *help, uint64_t v)
{
    return xb_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help,
                         name, name, v);
}

static int by_transport(struct xb_buf *out, const char *name, const char *help,
                        const uint64_t *v)
{
    int rc = xb_buf_printf(out,
                           "# HELP %s %s\n# TYPE %s counter\n"
                           "%s{receiver=\"otlp\",transport=\"grpc\"} %" PRIu64 "\n"
                           "%s{receiver=\"otlp\",transport=\"http\"} %" PRIu64 "\n",
                           name, help, name, name, v[XB_TRANSPORT_GRPC], name,
                           v[XB_TRANSPORT_HTTP]);
    return rc;
}

int xb_metrics_render(struct xb_buf *out, uint64_t queue_docs, uint64_t queue_bytes,
                      uint64_t queue_capacity_bytes)
{
    const struct xb_metrics *m = &xb_metrics;
    int rc = 0;

    rc |= by_transport(out, "otelcol_receiver_accepted_spans",
                       "Spans accepted and queued for export.", m->accepted_spans);
    rc |= by_transport(out, "otelcol_receiver_refused_spans",
                       "Spans refused with a retryable error (queue full).", m->refused_spans);
    rc |= by_transport(out, "xraybridge_receiver_rejected_spans",
                       "Spans dropped for good and reported in partial_success.",
                       m->rejected_spans);
    rc |= by_transport(out, "xraybridge_receiver_requests", "Export requests received.",
                       m->requests);
    rc |= by_transport(out, "xraybridge_receiver_bad_requests",
                       "Export requests rejected as malformed.", m->bad_requests);
    rc |= by_transport(out, "xraybridge_receiver_oversize_requests",
                       "Export requests rejected as too large.", m->oversize_requests);
    rc |= by_transport(out, "xraybridge_receiver_queue_full_requests",
                       "Export requests refused because the queue was full.",
                       m->queue_full_requests);
    rc |= counter(out, "xraybridge_translator_documents", "Segment documents built.",
                  m->documents_built);
    rc |= counter(out, "xraybridge_translator_trimmed_documents",
                  "Documents trimmed to fit the 64 KB limit.", m->documents_trimmed);
    rc |= counter(out, "otelcol_exporter_sent_spans", "Segment documents delivered.",
                  m->sent_documents);
    rc |= counter(out, "otelcol_exporter_send_failed_spans",
                  "Segment documents given up on.", m->send_failed_documents);
    rc |= counter(out, "xraybridge_exporter_unprocessed_documents",
                  "Documents returned in UnprocessedTraceSegments.", m->unprocessed_documents);
    rc |= counter(out, "xraybridge_exporter_requests", "PutTraceSegments calls made.",
                  m->export_requests);
    rc |= counter(out, "xraybridge_exporter_request_errors", "PutTraceSegments calls that failed.",
                  m->export_request_errors);
    rc |= xb_buf_printf(out,
                        "# HELP otelcol_exporter_queue_size Documents held by the queue.\n"
                        "# TYPE otelcol_exporter_queue_size gauge\n"
                        "otelcol_exporter_queue_size %" PRIu64 "\n"
                        "# HELP xraybridge_queue_bytes Bytes held by the queue.\n"
                        "# TYPE xraybridge_queue_bytes gauge\nxraybridge_queue_bytes %" PRIu64 "\n"
                        "# HELP otelcol_exporter_queue_capacity Queue capacity in bytes.\n"
                        "# TYPE otelcol_exporter_queue_capacity gauge\n"
                        "otelcol_exporter_queue_capacity %" PRIu64 "\n",
                        queue_docs, queue_bytes, queue_capacity_bytes);
    return rc ? XB_ERR_NOMEM : XB_OK;
}
