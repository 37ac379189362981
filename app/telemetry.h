/*
 * app/telemetry.h - self-observability endpoints on the app's event loop (evhttp):
 *
 *   metrics: GET /metrics -> 200, Prometheus text format 0.0.4 (core/metrics.h plus
 *            process uptime/RSS and build info). Collector key:
 *            service.telemetry.metrics.address.
 *   health:  GET / or /health -> 200 {"status":"Server available","upSince":...,
 *            "uptime":...} or 503 {"status":"Server not available",...,"reason":...},
 *            the shape of the collector's health_check extension. Collector key:
 *            extensions.health_check.endpoint.
 *
 * Each endpoint is optional and has its own listener (two evhttp instances). All
 * callbacks run on the loop thread. Reference: docs/observability.md.
 */
#ifndef XB_APP_TELEMETRY_H
#define XB_APP_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "core/metrics.h"
#include "exporter/exporter_metrics.h"

/* Most exporter queues a queue callback may report. */
#define XB_TELEMETRY_MAX_QUEUES 8

/*
 * Fills |out| (room for |max| entries) with the current queue gauges of each exporter
 * (|ud| is xb_telemetry_opts.queues_ud) and returns how many it wrote (values above
 * |max| are clamped). Called once per GET /metrics. Strings put in |out| must stay valid
 * until the callback is called again or the telemetry server is freed.
 */
typedef size_t (*xb_telemetry_queues_cb)(void *ud, struct xb_metrics_queue *out, size_t max);

/*
 * Returns 1 when the collector is healthy, 0 when not (|ud| is
 * xb_telemetry_opts.healthy_ud); on 0 it may write a short reason (plain text,
 * NUL-terminated, at most |why_len| bytes) into |why|. Called once per health request.
 */
typedef int (*xb_telemetry_healthy_cb)(void *ud, char *why, size_t why_len);

struct xb_telemetry_opts {
    const char *metrics_endpoint;  /* "host:port" (port 0 = any free port); NULL or ""
                                      = no metrics endpoint. Borrowed for the call. */
    const char *health_endpoint;   /* same, for the health endpoint */
    xb_telemetry_queues_cb queues; /* NULL = no queue gauges */
    void *queues_ud;
    xb_telemetry_healthy_cb healthy; /* NULL = healthy whenever ready */
    void *healthy_ud;
};

struct xb_telemetry;

/*
 * Starts the configured endpoints on |base| (borrowed; must outlive the server) and logs
 * "metrics endpoint listening on IP:PORT" / "health endpoint listening on IP:PORT".
 * The server starts ready (see xb_telemetry_set_ready()). With neither endpoint set it
 * still returns a server that listens nowhere.
 * Returns XB_OK and sets |*out| (free with xb_telemetry_free()); XB_ERR_NOMEM; or
 * XB_ERR_IO when an endpoint cannot be bound, with a reason in |err| (|err_len| bytes).
 * On failure |*out| is NULL and nothing is left listening.
 */
int xb_telemetry_start(struct event_base *base, const struct xb_telemetry_opts *opts,
                       struct xb_telemetry **out, char *err, size_t err_len);

/* Bound "ip:port" ("[v6]:port") of the metrics / health endpoint (owned by |t|), or NULL
 * when that endpoint is not enabled. */
const char *xb_telemetry_metrics_address(const struct xb_telemetry *t);
const char *xb_telemetry_health_address(const struct xb_telemetry *t);

/*
 * Marks the collector ready (1) or not (0). While not ready the health endpoint answers
 * 503 with reason "not ready" whatever the health callback says: call it with 0 when
 * draining on SIGTERM so that load balancers stop sending.
 */
void xb_telemetry_set_ready(struct xb_telemetry *t, int ready);

/* Closes the listeners and open connections and frees |t|. NULL is a no-op. */
void xb_telemetry_free(struct xb_telemetry *t);

/*
 * Writes |ns| nanoseconds as a Go time.Duration string ("0s", "850ms", "1.5µs",
 * "2m3.25s", "26h0m1s"), the form of the collector's "uptime" field, into |out|
 * (|out_len| bytes, NUL-terminated, truncated if too small). Returns |out|.
 */
char *xb_telemetry_format_duration(uint64_t ns, char *out, size_t out_len);

/* --------------------------------------------------------------------------------
 * Exporter failure tracker: a ready-made health callback for the app.
 *
 * It samples the exporters' global counters (exporter/exporter_metrics.h) each time it
 * is evaluated, separately for awsxray, otlphttp and loadbalancing: a rise of the
 * exporter's sent_documents is a success; a rise of its failed calls (awsxray:
 * export_request_errors; the others: failed_calls) or of its send_failed_documents,
 * with no success in the same interval, a failure. An exporter is "failing" from the
 * first failure seen after its last success; health turns 0 once any exporter has been
 * failing for longer than the threshold and back to 1 when none is. An exporter that
 * is not enabled never moves its counters, so it never counts. Granularity is the
 * evaluation interval (each health request). The file exporter is not watched.
 */
struct xb_export_health {
    uint64_t threshold_ns;                 /* 0 = never unhealthy */
    uint64_t seen_sent[XB_EXPORTER_COUNT]; /* counters at the previous evaluation */
    uint64_t seen_failed[XB_EXPORTER_COUNT];
    /* monotonic ns of each exporter's first failure; 0 = not failing */
    uint64_t failing_since_ns[XB_EXPORTER_COUNT];
};

/* One exporter's counters at an evaluation (xb_export_health_step()). */
struct xb_export_sample {
    uint64_t sent;   /* documents (awsxray) or spans delivered, ever */
    uint64_t failed; /* failed calls plus items given up, ever */
};

/*
 * The rule itself (pure): takes the counters |s| of every exporter (XB_EXPORTER_COUNT
 * entries indexed by enum xb_exporter_kind; awsxray, otlphttp and loadbalancing are looked
 * at) at monotonic time |now_ns| and returns 1 (healthy) or 0, writing "exporter NAME
 * failing for DURATION with no document delivered" ("span" for otlphttp and
 * loadbalancing) about the exporter failing longest into |why| (|why_len| bytes; may be
 * NULL) when 0.
 */
int xb_export_health_step(struct xb_export_health *h, const struct xb_export_sample *s,
                          uint64_t now_ns, char *why, size_t why_len);

/* Initialises |h| with |threshold_ns| (monotonic ns) and the current counter values. */
void xb_export_health_init(struct xb_export_health *h, uint64_t threshold_ns);

/* Samples the global counters and applies xb_export_health_step() at |now_ns|. */
int xb_export_health_eval(struct xb_export_health *h, uint64_t now_ns, char *why, size_t why_len);

/* xb_telemetry_healthy_cb over xb_export_health_eval() at the current monotonic time;
 * |ud| is a struct xb_export_health *. */
int xb_export_health_cb(void *ud, char *why, size_t why_len);

#endif
