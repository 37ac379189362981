#include "core/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "core/err.h"

/* Families declared by modules (xb_metrics_register), in registration order. */
static struct xb_metric_family *registry_head, **registry_tail = &registry_head;

void xb_metrics_reset(void)
{
    for (struct xb_metric_family *f = registry_head; f; f = f->next)
        for (size_t i = 0; i < xb_metric_family_size(f); i++)
            __atomic_store_n(&f->values[i], 0, __ATOMIC_RELAXED);
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
    /* Another family of the same name (other constant labels, e.g. another receiver):
     * keep them adjacent, the exposition format wants one group per name. */
    for (struct xb_metric_family **p = &registry_head; *p; p = &(*p)->next) {
        if (strcmp((*p)->name, f->name) == 0 &&
            (!(*p)->next || strcmp((*p)->next->name, f->name))) {
            f->next = (*p)->next;
            (*p)->next = f;
            if (!f->next)
                registry_tail = &f->next;
            return XB_OK;
        }
    }
    *registry_tail = f;
    registry_tail = &f->next;
    return XB_OK;
}

/* ------------------------------------------------------------ writers --- */

/* "# HELP" and "# TYPE" lines of one family. */
static int family(struct xb_buf *out, const char *name, const char *type, const char *help)
{
    return xb_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One gauge family with one sample per exporter queue; |field| picks the value. */
enum queue_field { Q_DOCS, Q_BYTES, Q_CAP_DOCS, Q_CAP_BYTES };

static int queue_gauge(struct xb_buf *out, const char *name, const char *help,
                       const struct xb_metrics_queue *q, size_t n, enum queue_field f)
{
    int rc = family(out, name, "gauge", help);

    for (size_t i = 0; i < n; i++) {
        uint64_t v = f == Q_DOCS       ? q[i].docs
                     : f == Q_BYTES    ? q[i].bytes
                     : f == Q_CAP_DOCS ? q[i].capacity_docs
                                       : q[i].capacity_bytes;
        rc |= xb_buf_printf(out, "%s{exporter=\"%s\"} %" PRIu64 "\n", name,
                            q[i].exporter ? q[i].exporter : "unknown", v);
    }
    return rc;
}

/* The samples of registered family |f|, one per combination of label values. */
static int registered(struct xb_buf *out, const struct xb_metric_family *f, int same_as_prev)
{
    size_t idx[XB_METRIC_MAX_LABELS] = {0}, n = xb_metric_family_size(f);
    int rc = same_as_prev
                 ? 0
                 : family(out, f->name, f->type == XB_METRIC_GAUGE ? "gauge" : "counter", f->help);

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
                            XB_METRIC_GET(f->values[k]));
        /* next combination: the last label varies fastest */
        for (size_t i = f->n_labels; i-- > 0;) {
            if (++idx[i] < f->labels[i].n_values)
                break;
            idx[i] = 0;
        }
    }
    return rc;
}

int xb_metrics_render(struct xb_buf *out, const struct xb_metrics_queue *queues, size_t n_queues)
{
    int rc = 0;

    if (queues == NULL)
        n_queues = 0;
    for (const struct xb_metric_family *f = registry_head, *prev = NULL; f; prev = f, f = f->next)
        rc |= registered(out, f, prev && strcmp(prev->name, f->name) == 0);
    /* queues */
    rc |= queue_gauge(out, "otelcol_exporter_queue_size", "Documents held by the queue.", queues,
                      n_queues, Q_DOCS);
    rc |= queue_gauge(out, "otelcol_exporter_queue_capacity",
                      "Queue capacity in documents (sending_queue.max_documents).", queues,
                      n_queues, Q_CAP_DOCS);
    rc |= queue_gauge(out, "xraybridge_exporter_queue_bytes", "Bytes held by the queue.", queues,
                      n_queues, Q_BYTES);
    rc |= queue_gauge(out, "xraybridge_exporter_queue_capacity_bytes",
                      "Queue capacity in bytes (sending_queue.max_bytes).", queues, n_queues,
                      Q_CAP_BYTES);
    return rc ? XB_ERR_NOMEM : XB_OK;
}
