#include "core/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "core/err.h"

struct xb_metrics xb_metrics;

/* Families declared by modules (xb_metrics_register), in registration order. */
static struct xb_metric_family *registry_head, **registry_tail = &registry_head;

#define XRAY_LABEL "exporter=\"awsxray\""

static const char *const unprocessed_labels[XB_UNPROCESSED_COUNT] = {
    [XB_UNPROCESSED_INVALID_TRACE_ID] = "InvalidTraceId",
    [XB_UNPROCESSED_INVALID_SEGMENT] = "InvalidSegment",
    [XB_UNPROCESSED_THROTTLED] = "ThrottledException",
    [XB_UNPROCESSED_OTHER] = "other",
};

static const char *const reject_labels[XB_REJECT_COUNT] = {
    [XB_REJECT_HTTP_4XX] = "http_4xx",
    [XB_REJECT_UNPROCESSED_NON_RETRYABLE] = "unprocessed_non_retryable",
    [XB_REJECT_GIVEN_UP_MAX_ELAPSED] = "given_up_max_elapsed",
};

void xb_metrics_reset(void)
{
    memset(&xb_metrics, 0, sizeof(xb_metrics));
    for (struct xb_metric_family *f = registry_head; f; f = f->next)
        memset(f->values, 0, xb_metric_family_size(f) * sizeof(f->values[0]));
}

size_t xb_metric_family_size(const struct xb_metric_family *f)
{
    size_t n = 1;

    for (size_t i = 0; i < f->n_labels; i++)
        n *= f->labels[i].n_values;
    return n;
}

int xb_metrics_register(struct xb_metric_family *f)
{
    if (!f || !f->name || !f->help || !f->values || f->n_labels > XB_METRIC_MAX_LABELS ||
        (f->n_labels && !f->labels))
        return XB_ERR_INVALID;
    for (size_t i = 0; i < f->n_labels; i++)
        if (!f->labels[i].name || !f->labels[i].values || f->labels[i].n_values == 0)
            return XB_ERR_INVALID;
    if (f->registered)
        return XB_OK;
    f->registered = 1;
    f->next = NULL;
    *registry_tail = f;
    registry_tail = &f->next;
    return XB_OK;
}

enum xb_unprocessed_code xb_metrics_unprocessed_code(const char *error_code)
{
    enum xb_unprocessed_code code = XB_UNPROCESSED_OTHER;

    if (error_code == NULL)
        return code;
    for (int i = 0; i < XB_UNPROCESSED_OTHER; i++) {
        if (strcmp(error_code, unprocessed_labels[i]) == 0) {
            code = (enum xb_unprocessed_code)i;
            break;
        }
    }
    return code;
}

void xb_metrics_count_unprocessed(const char *error_code, uint64_t n)
{
    xb_metrics.unprocessed_by_code[xb_metrics_unprocessed_code(error_code)] += n;
}

const char *xb_metrics_unprocessed_label(enum xb_unprocessed_code code)
{
    if ((unsigned)code >= XB_UNPROCESSED_COUNT)
        return "other";
    return unprocessed_labels[code];
}

const char *xb_metrics_reject_label(enum xb_reject_reason reason)
{
    if ((unsigned)reason >= XB_REJECT_COUNT)
        return "other";
    return reject_labels[reason];
}

/* ------------------------------------------------------------ writers --- */

/* "# HELP" and "# TYPE" lines of one family. */
static int family(struct xb_buf *out, const char *name, const char *type, const char *help)
{
    return xb_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; |labels| is the text inside the braces, or NULL for none. */
static int sample(struct xb_buf *out, const char *name, const char *labels, uint64_t v)
{
    if (labels == NULL)
        return xb_buf_printf(out, "%s %" PRIu64 "\n", name, v);
    return xb_buf_printf(out, "%s{%s} %" PRIu64 "\n", name, labels, v);
}

/* Sample labels of the per-exporter counter arrays, by index. */
static const char *const exporter_labels[XB_EXPORTER_COUNT] = {
    [XB_EXPORTER_AWSXRAY] = XRAY_LABEL,
    [XB_EXPORTER_FILE] = "exporter=\"file\"",
};

/* A counter family with |n| samples: |v[i]| labelled |labels[i]| (NULL = no labels). */
static int counters(struct xb_buf *out, const char *name, const char *help,
                    const char *const *labels, const uint64_t *v, size_t n)
{
    int rc = family(out, name, "counter", help);

    for (size_t i = 0; i < n; i++)
        rc |= sample(out, name, labels[i], v[i]);
    return rc;
}

/* A counter family with one sample. */
static int counter(struct xb_buf *out, const char *name, const char *labels, const char *help,
                   uint64_t v)
{
    return counters(out, name, help, &labels, &v, 1);
}

static int by_exporter(struct xb_buf *out, const char *name, const char *help,
                       const uint64_t *v)
{
    return counters(out, name, help, exporter_labels, v, XB_EXPORTER_COUNT);
}

static int unprocessed(struct xb_buf *out, const struct xb_metrics *m)
{
    static const char name[] = "xraybridge_exporter_unprocessed_documents_total";
    int rc = family(out, name, "counter",
                    "Documents returned in UnprocessedTraceSegments, by X-Ray error code.");

    for (int i = 0; i < XB_UNPROCESSED_COUNT; i++)
        rc |= xb_buf_printf(out, "%s{" XRAY_LABEL ",error_code=\"%s\"} %" PRIu64 "\n", name,
                            unprocessed_labels[i], m->unprocessed_by_code[i]);
    return rc;
}

static int rejected(struct xb_buf *out, const struct xb_metrics *m)
{
    static const char name[] = "xraybridge_exporter_rejected_documents_total";
    int rc = family(out, name, "counter",
                    "Documents dropped for good without a further attempt, by reason.");

    for (int i = 0; i < XB_REJECT_COUNT; i++)
        rc |= xb_buf_printf(out, "%s{" XRAY_LABEL ",reason=\"%s\"} %" PRIu64 "\n", name,
                            reject_labels[i], m->rejected_documents[i]);
    return rc;
}

/* One gauge family with one sample per exporter queue; |field| picks the value. */
enum queue_field { Q_DOCS, Q_BYTES, Q_CAP_DOCS, Q_CAP_BYTES };

static int queue_gauge(struct xb_buf *out, const char *name, const char *help,
                       const struct xb_metrics_queue *q, size_t n, enum queue_field f)
{
    int rc = family(out, name, "gauge", help);

    for (size_t i = 0; i < n; i++) {
        uint64_t v = f == Q_DOCS        ? q[i].docs
                     : f == Q_BYTES     ? q[i].bytes
                     : f == Q_CAP_DOCS  ? q[i].capacity_docs
                                        : q[i].capacity_bytes;
        rc |= xb_buf_printf(out, "%s{exporter=\"%s\"} %" PRIu64 "\n", name,
                            q[i].exporter ? q[i].exporter : "unknown", v);
    }
    return rc;
}

/* The samples of registered family |f|, one per combination of label values. */
static int registered(struct xb_buf *out, const struct xb_metric_family *f)
{
    size_t idx[XB_METRIC_MAX_LABELS] = {0}, n = xb_metric_family_size(f);
    int rc = family(out, f->name, f->type == XB_METRIC_GAUGE ? "gauge" : "counter", f->help);

    for (size_t k = 0; k < n; k++) {
        const char *sep = "";

        rc |= xb_buf_puts(out, f->name);
        if (f->const_labels || f->n_labels)
            rc |= xb_buf_putc(out, '{');
        if (f->const_labels) {
            rc |= xb_buf_puts(out, f->const_labels);
            sep = ",";
        }
        for (size_t i = 0; i < f->n_labels; i++) {
            rc |= xb_buf_printf(out, "%s%s=\"%s\"", sep, f->labels[i].name,
                                f->labels[i].values[idx[i]]);
            sep = ",";
        }
        rc |= xb_buf_printf(out, "%s %" PRIu64 "\n", f->const_labels || f->n_labels ? "}" : "",
                            f->values[k]);
        /* next combination: the last label varies fastest */
        for (size_t i = f->n_labels; i-- > 0;) {
            if (++idx[i] < f->labels[i].n_values)
                break;
            idx[i] = 0;
        }
    }
    return rc;
}

int xb_metrics_render(struct xb_buf *out, const struct xb_metrics_queue *queues,
                      size_t n_queues)
{
    const struct xb_metrics *m = &xb_metrics;
    int rc = 0;

    if (queues == NULL)
        n_queues = 0;
    for (const struct xb_metric_family *f = registry_head; f; f = f->next)
        rc |= registered(out, f);
    /* exporters */
    rc |= by_exporter(out, "otelcol_exporter_sent_spans_total",
                      "Segment documents delivered (accepted by X-Ray, or written).",
                      m->sent_documents);
    rc |= by_exporter(out, "otelcol_exporter_send_failed_spans_total",
                      "Segment documents given up on, for any reason.",
                      m->send_failed_documents);
    rc |= counter(out, "xraybridge_exporter_requests_total", XRAY_LABEL,
                  "PutTraceSegments calls made, retries included.", m->export_requests);
    rc |= counter(out, "xraybridge_exporter_request_errors_total", XRAY_LABEL,
                  "PutTraceSegments calls that failed (HTTP status >= 400 or transport).",
                  m->export_request_errors);
    rc |= counter(out, "xraybridge_exporter_retries_total", XRAY_LABEL,
                  "PutTraceSegments calls that retried an earlier failed call.",
                  m->export_retries);
    rc |= counter(out, "xraybridge_exporter_throttled_total", XRAY_LABEL,
                  "Responses that were throttling (HTTP 429 or ThrottledException).",
                  m->export_throttled);
    rc |= unprocessed(out, m);
    rc |= rejected(out, m);
    /* credentials */
    rc |= counter(out, "xraybridge_credentials_refreshes_total", NULL,
                  "AWS credentials fetched or refreshed successfully.", m->credential_refreshes);
    rc |= counter(out, "xraybridge_credentials_refresh_failures_total", NULL,
                  "Failed attempts to fetch or refresh AWS credentials.",
                  m->credential_refresh_failures);
    rc |= family(out, "xraybridge_credentials_expiry_timestamp_seconds", "gauge",
                 "Expiry of the AWS credentials in use, UNIX seconds; 0 = none or no expiry.");
    rc |= sample(out, "xraybridge_credentials_expiry_timestamp_seconds", NULL,
                 m->credential_expiry_unix_s);
    /* queues */
    rc |= queue_gauge(out, "otelcol_exporter_queue_size", "Documents held by the queue.",
                      queues, n_queues, Q_DOCS);
    rc |= queue_gauge(out, "otelcol_exporter_queue_capacity",
                      "Queue capacity in documents (sending_queue.max_documents).", queues,
                      n_queues, Q_CAP_DOCS);
    rc |= queue_gauge(out, "xraybridge_exporter_queue_bytes", "Bytes held by the queue.",
                      queues, n_queues, Q_BYTES);
    rc |= queue_gauge(out, "xraybridge_exporter_queue_capacity_bytes",
                      "Queue capacity in bytes (sending_queue.max_bytes).", queues, n_queues,
                      Q_CAP_BYTES);
    return rc ? XB_ERR_NOMEM : XB_OK;
}
