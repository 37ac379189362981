/*
 * core/metrics.h - xraybridge's self-metrics: a registry of metric families that the
 * modules declare themselves (receiver/receiver_metrics.h, exporter/exporter_metrics.h),
 * and their rendering in the Prometheus text exposition format 0.0.4
 * (xb_metrics_render). Values are plain counters and gauges updated on the event-loop
 * thread (no atomics: every writer runs on the one loop thread).
 *
 * Names follow the OpenTelemetry Collector's own metrics where one exists, in the form
 * newer collectors expose over Prometheus (otelcol_receiver_accepted_spans_total, ...);
 * everything else is xraybridge_*. docs/observability.md lists every metric and its
 * labels. Still here: the per-exporter queue gauges the caller of xb_metrics_render()
 * gathers.
 */
#ifndef XB_CORE_METRICS_H
#define XB_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/*
 * Updates of a metric value (a uint64_t lvalue) that may run on any thread: the ingest
 * workers (app/workers.h) update the receiver metrics concurrently, so writers use these
 * relaxed atomics and xb_metrics_render() reads with XB_METRIC_GET. A family's values
 * are independent counters: a render taken while requests run may see one before
 * another (as with any scrape), never a torn value.
 */
#define XB_METRIC_ADD(v, n) ((void)__atomic_fetch_add(&(v), (uint64_t)(n), __ATOMIC_RELAXED))
#define XB_METRIC_SUB(v, n) ((void)__atomic_fetch_sub(&(v), (uint64_t)(n), __ATOMIC_RELAXED))
#define XB_METRIC_GET(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)

/*
 * Queue gauges of one exporter, gathered by the caller of xb_metrics_render().
 * |exporter| is the exporter id used as label value ("awsxray", "file"; borrowed,
 * must be a Prometheus-safe string: no '"', '\\' or newline).
 */
struct xb_metrics_queue {
    const char *exporter;
    uint64_t docs;           /* documents held now */
    uint64_t bytes;          /* bytes held now */
    uint64_t capacity_docs;  /* sending_queue.max_documents */
    uint64_t capacity_bytes; /* sending_queue.max_bytes */
};

/*
 * Metric families a module declares itself (the registry). A module keeps one static
 * struct xb_metric_family per family, registers it at start-up with
 * xb_metrics_register(), and then updates its own values array directly; core renders
 * every registered family in registration order, then the queue gauges. One sample
 * per combination of label values: the values array is indexed row-major, the first
 * label outermost (for labels {transport: 2 values, reason: 3 values}, the sample
 * transport=i, reason=j is values[i * 3 + j]).
 */
enum xb_metric_type { XB_METRIC_COUNTER = 0, XB_METRIC_GAUGE = 1 };

/* Most labels one family may have (besides its constant labels). */
#define XB_METRIC_MAX_LABELS 4

/* One label of a family: its name and its bounded set of values (static strings,
 * Prometheus-safe: no '"', '\\' or newline). */
struct xb_metric_label {
    const char *name;
    const char *const *values;
    size_t n_values;
};

struct xb_metric_family {
    const char *name;         /* full name; counters end in _total */
    const char *help;         /* one line, no newline */
    enum xb_metric_type type; /* TYPE line */
    /* Label text put first in every sample, e.g. receiver="otlp"; NULL = none. */
    const char *const_labels;
    /* The labels, |n_labels| entries (borrowed), 0..XB_METRIC_MAX_LABELS; none = one
     * sample. */
    const struct xb_metric_label *labels;
    size_t n_labels;
    /* xb_metric_family_size() values, owned by the module; zeroed by xb_metrics_reset(). */
    uint64_t *values;
    struct xb_metric_family *next; /* registry link, managed by core */
    int registered;                /* managed by core */
};

/* Number of samples (entries of |f|->values) of family |f|. */
size_t xb_metric_family_size(const struct xb_metric_family *f);

/*
 * Adds |f| (borrowed; must outlive every render, normally static) to the families
 * rendered by xb_metrics_render(). Registering a family again is a no-op. Families
 * sharing a name (told apart by const_labels) are rendered as one group, HELP and TYPE
 * from the first. Returns
 * XB_OK, or XB_ERR_INVALID when |f| has no name, help or values, more than
 * XB_METRIC_MAX_LABELS labels, or a label without values.
 */
int xb_metrics_register(struct xb_metric_family *f);

/* Zeroes the values of every registered family (for tests; the process never
 * resets). */
void xb_metrics_reset(void);

/*
 * Appends the metrics in Prometheus text exposition format (version 0.0.4: "# HELP" and
 * "# TYPE" before each family, counters named *_total) to |out|: every registered
 * family (xb_metrics_register) in registration order, then the queue gauges of the
 * |n_queues| exporters in |queues| (borrowed; NULL when |n_queues| is 0).
 * Returns XB_OK, or XB_ERR_NOMEM when |out| cannot grow (|out| then holds a prefix).
 */
int xb_metrics_render(struct xb_buf *out, const struct xb_metrics_queue *queues, size_t n_queues);

#endif
