#include "app/app.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app_otlp.h"
#include "app/budget.h"
#include "app/heap.h"
#include "app/memory_limiter.h"
#include "app/reload.h"
#include "app/resourcedetection.h"
#include "app/sched.h"
#include "app/telemetry.h"
#include "app/translator_config.h"
#include "app/ts_app.h"
#include "app/worker_count.h"
#include "app/workers.h"
#include "aws/credentials.h"
#include "aws/curl_loop.h" /* XB_LOOP_PRIORITIES */
#include "aws/region.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/queue.h"
#include "exporter/exporter_metrics.h"
#include "exporter/file_exporter.h"
#include "exporter/lb_exporter.h"
#include "exporter/xray_exporter.h"
#include "extension/awsproxy.h"
#include "extension/file_storage.h"
#include "extension/viewer.h"
#include "receiver/awsxray_udp.h"
#include "receiver/ingest.h"
#include "receiver/json_tree.h"
#include "receiver/listen.h"
#include "receiver/otlp_grpc.h"
#include "receiver/otlp_http.h"
#include "receiver/tls.h"

#define DRAIN_CHECK_MS 50

struct app {
    const struct xb_config *cfg;
    struct event_base *base;
    struct xb_translator_config tc;
    struct xb_queue *queues[2];
    size_t n_queues;
    struct xb_queue *xray_q, *file_q;
    struct xb_xray_exporter *xray;
    struct xb_file_exporter *file;
    struct xb_file_storage *storage; /* extensions.file_storage, NULL when not used */
    struct xb_ingest *ing;
    struct xb_queue *otlp_q; /* exporters.otlphttp, NULL when not configured */
    struct xb_otlp_exporter *otlp;
    struct xb_queue *lb_q; /* exporters.loadbalancing, NULL when not configured */
    struct xb_lb_exporter *lb;
    struct xb_grpc_server *grpc;
    struct xb_xray_udp *xray_udp;              /* receivers.awsxray, NULL when not configured */
    struct xb_awsproxy *awsproxy, *xray_proxy; /* extensions.awsproxy, .proxy_server */
    struct xb_http_server *http;
    struct xb_telemetry *telemetry;
    struct xb_viewer *viewer;           /* extensions.viewer, NULL when not listed */
    struct xb_tls *grpc_tls, *http_tls; /* NULL = plaintext */
    struct xb_export_health health;
    struct xb_resdet *resdet;         /* processors: resourcedetection, NULL when off */
    struct xb_memlimiter *memlimiter; /* processors: memory_limiter, NULL when off */
    struct event *sig_term, *sig_int, *sig_hup, *drain_check, *deadline;
    int stopping;
    struct xb_ts *ts;           /* processors.tail_sampling, NULL when not in the pipeline */
    struct xb_reload *reload;   /* config file watch, NULL for the embedded default */
    struct xb_workers *workers; /* the OTLP receivers with service.workers > 1, else NULL */
};

static size_t charged_docs(const struct app *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_queues; i++)
        n += xb_queue_charged_docs(a->queues[i]);
    if (a->ts)
        n += xb_ts_docs_held(a->ts);
    if (a->otlp_q)
        n += xb_queue_charged_docs(a->otlp_q);
    if (a->lb_q)
        n += xb_queue_charged_docs(a->lb_q);
    return n;
}

static void on_drain_check(evutil_socket_t fd, short what, void *ud)
{
    struct app *a = ud;
    if (a->ts)
        xb_ts_flush(a->ts); /* spans of requests still in flight at SIGTERM: decide now */
    if (charged_docs(a) == 0 && xb_grpc_server_connections(a->grpc) == 0 &&
        xb_workers_drained(a->workers)) {
        /* A worker may admit on its own thread until this; documents it pushed since the
         * count above are sent before the loop ends (or counted at the deadline). */
        xb_ingest_close_admission(a->ing);
        if (charged_docs(a) == 0)
            event_base_loopbreak(a->base);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *ud)
{
    struct app *a = ud;
    event_base_loopbreak(a->base); /* stop() logs what was left undelivered */
}

static void on_signal(evutil_socket_t sig, short what, void *ud)
{
    struct app *a = ud;
    struct timeval check = {0, DRAIN_CHECK_MS * 1000};
    struct timeval dl = {a->cfg->shutdown_timeout_ms / 1000,
                         (a->cfg->shutdown_timeout_ms % 1000) * 1000};

    if (a->stopping) {
        XB_WARN("app", "second signal: exiting without waiting for the queue");
        event_base_loopbreak(a->base);
        return;
    }
    a->stopping = 1;
    xb_telemetry_set_ready(a->telemetry, 0);
    XB_INFO("app", "received %s: draining (deadline %u ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            a->cfg->shutdown_timeout_ms);
    xb_grpc_server_drain(a->grpc);
    xb_http_server_drain(a->http);
    xb_workers_drain(a->workers); /* their admissions still run on this loop */
    if (a->ts)
        xb_ts_flush(a->ts); /* decide every waiting trace now */
    xb_xray_exporter_drain(a->xray);
    xb_file_exporter_drain(a->file);
    xb_awsproxy_drain(a->xray_proxy);
    xb_awsproxy_drain(a->awsproxy);
    xb_otlp_exporter_drain(a->otlp);
    xb_lb_exporter_drain(a->lb);
    a->drain_check = event_new(a->base, -1, EV_PERSIST, on_drain_check, a);
    a->deadline = evtimer_new(a->base, on_deadline, a);
    if (!a->drain_check || !a->deadline) {
        event_base_loopbreak(a->base);
        return;
    }
    event_add(a->drain_check, &check);
    evtimer_add(a->deadline, &dl);
}

/* SIGHUP: reload the receivers' TLS certificate files (receiver/tls.h). */
static void on_sighup(evutil_socket_t sig, short what, void *ud)
{
    struct app *a = ud;

    (void)sig;
    (void)what;
    if (a->reload)
        xb_reload_now(a->reload, "SIGHUP");
    if (!a->grpc_tls && !a->http_tls) {
        XB_INFO("app", "received SIGHUP: no TLS receiver, no certificates to reload");
        return;
    }
    XB_INFO("app", "received SIGHUP: reloading TLS certificates");
    xb_tls_reload(a->grpc_tls);
    xb_tls_reload(a->http_tls);
}

/* A validated new configuration (app/reload.h): swaps in what can change safely. */
static void on_reload(void *ud, const struct xb_config *next)
{
    struct app *a = ud;
    enum xb_log_level level;

    xb_app_ts_apply(a->ts, a->cfg, next);
    if (next->log_level && xb_log_parse_level(next->log_level, &level) == XB_OK)
        xb_log_set_level(level);
}

/* TLS options of one receiver from its config block; |alpn| is the protocol it speaks. */
static struct xb_tls_opts tls_opts(const struct xb_config_tls *c, const char *prefix,
                                   const char *alpn, int alpn_required)
{
    struct xb_tls_opts o = {
        .cert_file = c->cert_file,
        .key_file = c->key_file,
        .client_ca_file = c->client_ca_file,
        .min_version = c->min_version,
        .max_version = c->max_version,
        .reload_interval_ms = c->reload_interval_ms,
        .alpn = alpn,
        .alpn_required = alpn_required,
        .key_prefix = prefix,
    };
    return o;
}

/* Queue gauges for /metrics: documents and bytes held, against the caps. */
static size_t queue_gauges(void *ud, struct xb_metrics_queue *out, size_t max)
{
    struct app *a = ud;
    size_t n = 0;

    if (a->xray_q && n < max)
        out[n++] = (struct xb_metrics_queue){
            "awsxray", xb_queue_charged_docs(a->xray_q), xb_queue_charged_bytes(a->xray_q),
            a->cfg->awsxray.queue.max_documents, a->cfg->awsxray.queue.max_bytes};
    if (a->file_q && n < max)
        out[n++] = (struct xb_metrics_queue){
            "file", xb_queue_charged_docs(a->file_q), xb_queue_charged_bytes(a->file_q),
            a->cfg->file.queue.max_documents, a->cfg->file.queue.max_bytes};
    if (a->otlp_q && n < max)
        out[n++] = (struct xb_metrics_queue){
            "otlphttp", xb_queue_charged_docs(a->otlp_q), xb_queue_charged_bytes(a->otlp_q),
            a->cfg->otlphttp.queue_size ? a->cfg->otlphttp.queue_size
                                        : a->cfg->otlphttp.queue.max_documents,
            a->cfg->otlphttp.queue.max_bytes};
    if (a->lb_q && n < max)
        out[n++] = (struct xb_metrics_queue){
            "loadbalancing", xb_queue_charged_docs(a->lb_q), xb_queue_charged_bytes(a->lb_q),
            a->cfg->lb.queue.max_documents, a->cfg->lb.queue.max_bytes};
    return n;
}

/* Logs the worst-case memory of the configuration and warns when it exceeds the
 * container's limit (an OOM kill loses every queued span on the node). */
static void log_budget(const struct xb_config *cfg, unsigned workers)
{
    static const char *const cgroup_files[] = {"/sys/fs/cgroup/memory.max",
                                               "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    struct xb_budget b;
    char line[512];
    uint64_t limit = 0;

    xb_budget_compute_workers(cfg, workers, &b);
    XB_INFO("app", "memory budget: %s", xb_budget_format(&b, line, sizeof(line)));
    for (size_t i = 0; i < sizeof(cgroup_files) / sizeof(cgroup_files[0]) && !limit; i++)
        limit = xb_budget_cgroup_limit(cgroup_files[i]);
    if (limit && b.total > limit)
        XB_WARN("app",
                "memory budget (%llu MiB) exceeds the container memory limit (%llu MiB): "
                "lower sending_queue.max_bytes, max_connections or the message size limits "
                "(docs/security.md)",
                (unsigned long long)(b.total >> 20), (unsigned long long)(limit >> 20));
}

/* File descriptors kept free of client connections: listeners, exporter and STS
 * connections, the telemetry server, files, libevent's internals. */
#define FD_RESERVE 64

/* Raises RLIMIT_NOFILE to its hard limit and warns when the receivers' max_connections
 * do not fit in it (accept then fails with EMFILE, which the accept guard survives). */
static void check_fd_budget(const struct xb_config *cfg)
{
    uint64_t needed = FD_RESERVE, limit = 0;

    if (cfg->grpc.enabled)
        needed += cfg->grpc.max_connections;
    if (cfg->http.enabled)
        needed += cfg->http.max_connections;
    if (xb_listen_raise_nofile(needed, &limit) == XB_ERR_FULL)
        XB_WARN("app",
                "open file limit %llu is below the receivers' max_connections plus %d "
                "reserved (%llu): connections past the limit are refused until others close",
                (unsigned long long)limit, FD_RESERVE, (unsigned long long)needed);
}

static int start(struct app *a)
{
    const struct xb_config *cfg = a->cfg;
    char err[512] = "";
    size_t max_body = 0;
    struct xb_grpc_server_opts grpc_opts;
    struct xb_http_server_opts http_opts;
    /* Resolved once: detection reads the affinity mask and cgroup files, and the gauge,
     * the logged budget and the receivers below must agree. After start() a->workers
     * tells whether worker threads run. */
    unsigned n_workers = xb_budget_workers(cfg);
    int rc;

    /* Before any thread starts: the workers inherit the main thread's policy. */
    rc = xb_sched_apply(cfg->sched_batch);
    if (rc)
        XB_WARN("app", "cannot set the %s scheduling policy (%s): threads keep their own",
                xb_sched_policy_name(xb_sched_policy(cfg->sched_batch)), strerror(rc));
    else
        XB_INFO("app", "threads run under %s (service.sched_batch)",
                xb_sched_policy_name(xb_sched_policy(cfg->sched_batch)));
    /* Also before the workers: they allocate the documents the main thread frees. */
    if (xb_heap_apply() < 0)
        XB_WARN("app", "the C allocator refused the trim and mmap thresholds (mallopt): "
                       "heaps are trimmed as by default (docs/performance.md, "
                       "\"Heap trimming\")");
    xb_app_translator_config(cfg, &a->tc);
    xb_workers_publish(n_workers);
    log_budget(cfg, n_workers);
    if (cfg->processors.resourcedetection.enabled) {
        rc = xb_resdet_run(&cfg->processors.resourcedetection, &a->resdet);
        if (rc)
            goto fail;
        a->tc.extra_resource = xb_resdet_kvs(a->resdet, &a->tc.n_extra_resource);
        a->tc.extra_resource_override = cfg->processors.resourcedetection.override;
    }
    if (cfg->file_storage.enabled) {
        rc = xb_file_storage_start(a->base, &cfg->file_storage, &a->storage, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->metrics.enabled || cfg->health_check.enabled) {
        struct xb_telemetry_opts to = {
            .metrics_endpoint = cfg->metrics.enabled ? cfg->metrics.address : NULL,
            .health_endpoint = cfg->health_check.enabled ? cfg->health_check.endpoint : NULL,
            .queues = queue_gauges,
            .queues_ud = a,
            .healthy = xb_export_health_cb,
            .healthy_ud = &a->health,
        };
        xb_export_health_init(&a->health,
                              (uint64_t)cfg->health_check.exporter_failure_threshold_ms * 1000000u);
        rc = xb_telemetry_start(a->base, &to, &a->telemetry, err, sizeof(err));
        if (rc)
            goto fail;
        /* Not ready until every receiver listens (set at the end of xb_app_run). */
        xb_telemetry_set_ready(a->telemetry, 0);
    }
    if (cfg->awsxray.enabled) {
        struct xb_xray_opts xo = {0};
        char region[64], rerr[512];
        if (xb_region_resolve_full(cfg->awsxray.region, region, sizeof(region), rerr,
                                   sizeof(rerr)) != XB_OK) {
            XB_ERROR("app", "awsxray exporter: no region: %s", rerr);
            return XB_ERR_CONFIG;
        }
        a->xray_q = xb_queue_new(cfg->awsxray.queue.max_bytes, cfg->awsxray.queue.max_documents);
        if (!a->xray_q)
            return XB_ERR_NOMEM;
        a->queues[a->n_queues++] = a->xray_q;
        if (cfg->awsxray.queue.storage) {
            rc = xb_file_storage_attach(a->storage, "awsxray", a->xray_q, err, sizeof(err));
            if (rc)
                goto fail;
        }
        xo.region = region;
        xo.endpoint = cfg->awsxray.endpoint;
        xo.num_workers = cfg->awsxray.num_workers;
        xo.request_timeout_s = cfg->awsxray.request_timeout_seconds;
        xo.retry_enabled = cfg->awsxray.retry.enabled;
        xo.retry_initial_ms = cfg->awsxray.retry.initial_interval_ms;
        xo.retry_max_ms = cfg->awsxray.retry.max_interval_ms;
        xo.retry_max_elapsed_ms = cfg->awsxray.retry.max_elapsed_ms;
        xo.role_arn = cfg->awsxray.role_arn;
        xo.profile = cfg->awsxray.profile;
        xo.batch_max_docs = cfg->awsxray.queue.batch_max_documents;
        xo.batch_timeout_ms = cfg->awsxray.queue.batch_timeout_ms;
        xo.no_verify_ssl = cfg->awsxray.no_verify_ssl;
        xo.ca_file = cfg->awsxray.ca_file;
        xo.proxy = cfg->awsxray.proxy_address;
        rc = xb_xray_exporter_start(a->base, a->xray_q, &xo, &a->xray, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->file.enabled) {
        a->file_q = xb_queue_new(cfg->file.queue.max_bytes, cfg->file.queue.max_documents);
        if (!a->file_q)
            return XB_ERR_NOMEM;
        a->queues[a->n_queues++] = a->file_q;
        if (cfg->file.queue.storage) {
            rc = xb_file_storage_attach(a->storage, "file", a->file_q, err, sizeof(err));
            if (rc)
                goto fail;
        }
        rc = xb_file_exporter_start(a->base, a->file_q, cfg->file.path,
                                    cfg->file.queue.batch_max_documents,
                                    cfg->file.queue.batch_timeout_ms, &a->file, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->grpc.enabled && cfg->grpc.max_recv_msg_bytes > max_body)
        max_body = cfg->grpc.max_recv_msg_bytes;
    if (cfg->http.enabled && cfg->http.max_request_body_bytes > max_body)
        max_body = cfg->http.max_request_body_bytes;
    if (cfg->otlphttp.enabled) {
        struct xb_otlp_limits lim;
        rc = xb_app_otlp_start(a->base, cfg, a->storage, &a->otlp_q, &a->otlp, &lim, err,
                               sizeof(err));
        if (rc)
            goto fail;
        a->ing = xb_ingest_new(&a->tc, a->queues, a->n_queues, max_body);
        if (a->ing)
            xb_ingest_set_otlp_queue(a->ing, a->otlp_q, &lim);
    } else {
        a->ing = xb_ingest_new(&a->tc, a->queues, a->n_queues, max_body);
    }
    if (!a->ing)
        return XB_ERR_NOMEM;
    if (cfg->processors.memory_limiter.enabled) {
        rc = xb_memlimiter_start(a->base, &cfg->processors.memory_limiter, a->ing, &a->memlimiter,
                                 err, sizeof(err));
        if (rc)
            goto fail;
    }
    rc = xb_app_ts_start(a->base, cfg, a->ing, &a->ts);
    if (rc)
        goto fail;
    if (cfg->source && access(cfg->source, R_OK) == 0 &&
        !(a->reload =
              xb_reload_new(a->base, cfg->source, cfg->config_watch_interval_ms, on_reload, a)))
        return XB_ERR_NOMEM;
    if (cfg->lb.enabled) {
        struct xb_otlp_limits lim;
        rc = xb_app_lb_start(a->base, cfg, &a->lb_q, &a->lb, &lim, err, sizeof(err));
        if (rc)
            goto fail;
        xb_ingest_set_otlp_queue(a->ing, a->lb_q, &lim);
    }
    if (cfg->viewer.enabled) {
        struct xb_viewer_opts vo = {.endpoint = cfg->viewer.endpoint,
                                    .max_traces = cfg->viewer.max_traces,
                                    .max_bytes = cfg->viewer.max_bytes};
        rc = xb_viewer_start(a->base, &vo, &a->viewer, err, sizeof(err));
        if (rc)
            goto fail;
        xb_ingest_set_tap(a->ing, xb_viewer_tap, a->viewer);
    }
    check_fd_budget(cfg);
    if (cfg->grpc.enabled) {
        /* gRPC needs HTTP/2: a client offering ALPN without "h2" is refused. */
        struct xb_tls_opts to =
            tls_opts(&cfg->grpc.tls, "receivers.otlp.protocols.grpc.tls", "h2", 1);
        rc = xb_tls_opts_check(&to, err, sizeof(err));
        if (rc == XB_OK && xb_tls_opts_enabled(&to))
            rc = xb_tls_new(a->base, &to, "grpc", &a->grpc_tls, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->http.enabled) {
        struct xb_tls_opts to =
            tls_opts(&cfg->http.tls, "receivers.otlp.protocols.http.tls", "http/1.1", 0);
        rc = xb_tls_opts_check(&to, err, sizeof(err));
        if (rc == XB_OK && xb_tls_opts_enabled(&to))
            rc = xb_tls_new(a->base, &to, "http", &a->http_tls, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->grpc.enabled) {
        struct xb_grpc_server_opts go = {
            .endpoint = cfg->grpc.endpoint,
            .max_msg_bytes = cfg->grpc.max_recv_msg_bytes,
            .max_concurrent_streams = cfg->grpc.max_concurrent_streams,
            .max_connections = cfg->grpc.max_connections,
            .tls = a->grpc_tls,
            .max_inflight_bytes = xb_budget_grpc_inflight_bytes(cfg),
            .max_header_list_size = cfg->grpc.max_header_list_size,
            .timeouts = {.connection_ms = cfg->grpc.connection_timeout_ms,
                         .upload_ms = cfg->grpc.upload_timeout_ms,
                         .idle_ms = cfg->grpc.max_connection_idle_ms,
                         .age_ms = cfg->grpc.max_connection_age_ms,
                         .age_grace_ms = cfg->grpc.max_connection_age_grace_ms},
        };
        if (n_workers > 1) {
            grpc_opts = go;
        } else {
            go.direct_reads = XB_GRPC_READS_SHARED; /* one loop reads and sends */
            rc = xb_grpc_server_start(a->base, a->ing, &go, &a->grpc, err, sizeof(err));
        }
        if (rc)
            goto fail;
    }
    if (cfg->http.enabled) {
        struct xb_http_server_opts ho = {
            .endpoint = cfg->http.endpoint,
            .max_body_bytes = cfg->http.max_request_body_bytes,
            .max_connections = cfg->http.max_connections,
            .timeouts = {.read_header_ms = cfg->http.read_header_timeout_ms,
                         .read_ms = cfg->http.read_timeout_ms,
                         .idle_ms = cfg->http.idle_timeout_ms,
                         .write_ms = cfg->http.write_timeout_ms},
            .max_inflight_body_bytes = cfg->http.max_inflight_body_bytes,
            .tls = a->http_tls,
        };
        if (n_workers > 1) {
            http_opts = ho;
        } else {
            ho.read_ahead = 1; /* at most the body the head announced, per round */
            rc = xb_http_server_start(a->base, a->ing, &ho, &a->http, err, sizeof(err));
        }
        if (rc)
            goto fail;
    }
    if (n_workers > 1) {
        struct xb_workers_opts wo = {
            .n = n_workers,
            .main_base = a->base,
            .ing = a->ing,
            .small_body_bytes = xb_worker_small_body_bytes(max_body),
            .grpc = cfg->grpc.enabled ? &grpc_opts : NULL,
            .http = cfg->http.enabled ? &http_opts : NULL,
        };
        rc = xb_workers_start(&wo, &a->workers, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->xray_udp.enabled) {
        struct xb_xray_udp_opts uo = {.endpoint = cfg->xray_udp.endpoint,
                                      .socket_buffer_size = cfg->xray_udp.socket_buffer_size};
        rc = xb_xray_udp_start(a->base, a->ing, &uo, &a->xray_udp, err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->xray_udp_proxy.enabled) {
        rc = xb_awsproxy_start(a->base, &cfg->xray_udp_proxy, XB_AWSPROXY_RECEIVER, &a->xray_proxy,
                               err, sizeof(err));
        if (rc)
            goto fail;
    }
    if (cfg->awsproxy.enabled) {
        rc = xb_awsproxy_start(a->base, &cfg->awsproxy, XB_AWSPROXY_EXTENSION, &a->awsproxy, err,
                               sizeof(err));
        if (rc)
            goto fail;
    }
    return XB_OK;
fail:
    XB_ERROR("app", "%s", err[0] ? err : xb_strerror(rc));
    return rc;
}

static void stop(struct app *a)
{
    size_t left;

    /* Workers may admit on their own threads: nothing more is taken once the loop that
     * sends has ended, so what is counted here is all that is left. */
    xb_ingest_close_admission(a->ing);
    left = charged_docs(a);

    if (left)
        XB_WARN("app", "%zu documents could not be delivered before the shutdown deadline", left);
    xb_workers_free(a->workers); /* first: their requests borrow the ingest path */
    xb_grpc_server_free(a->grpc);
    xb_http_server_free(a->http);
    xb_xray_udp_free(a->xray_udp);
    xb_awsproxy_free(a->xray_proxy);
    xb_awsproxy_free(a->awsproxy);
    xb_tls_free(a->grpc_tls); /* after the servers: their connections use it */
    xb_tls_free(a->http_tls);
    xb_telemetry_free(a->telemetry);
    xb_memlimiter_free(a->memlimiter);
    xb_reload_free(a->reload);
    xb_ts_free(a->ts); /* before the ingest path it releases into */
    xb_ingest_free(a->ing);
    xb_resdet_free(a->resdet);
    xb_file_storage_detach(a->storage); /* undelivered documents stay on disk */
    xb_viewer_free(a->viewer);
    xb_xray_exporter_free(a->xray);
    xb_file_exporter_free(a->file);
    xb_otlp_exporter_free(a->otlp);
    for (size_t i = 0; i < a->n_queues; i++)
        xb_queue_free(a->queues[i]);
    xb_file_storage_free(a->storage);
    xb_queue_free(a->otlp_q);
    xb_lb_exporter_free(a->lb);
    xb_queue_free(a->lb_q);
    if (a->sig_term)
        event_free(a->sig_term);
    if (a->sig_int)
        event_free(a->sig_int);
    if (a->sig_hup)
        event_free(a->sig_hup);
    if (a->drain_check)
        event_free(a->drain_check);
    if (a->deadline)
        event_free(a->deadline);
    if (a->base)
        event_base_free(a->base);
}

int xb_app_run(const struct xb_config *cfg)
{
    struct app a;
    const struct xb_receiver_metrics *rm = &xb_receiver_metrics;
    const struct xb_exporter_metrics *em = &xb_exporter_metrics;
    enum xb_log_level level;
    uint64_t unprocessed = 0;
    int rc;

    memset(&a, 0, sizeof(a));
    a.cfg = cfg;
    xb_json_hooks_init(); /* before any thread or JSON library call */
    if (cfg->log_level && xb_log_parse_level(cfg->log_level, &level) == XB_OK)
        xb_log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    a.base = event_base_new();
    if (a.base && event_base_priority_init(a.base, XB_LOOP_PRIORITIES) != 0) {
        event_base_free(a.base); /* before any event: cannot fail but for memory */
        a.base = NULL;
    }
    if (!a.base) {
        XB_ERROR("app", "cannot create the event loop");
        return 1;
    }
    rc = start(&a);
    if (rc == XB_OK) {
        a.sig_term = evsignal_new(a.base, SIGTERM, on_signal, &a);
        a.sig_int = evsignal_new(a.base, SIGINT, on_signal, &a);
        a.sig_hup = evsignal_new(a.base, SIGHUP, on_sighup, &a);
        if (!a.sig_term || !a.sig_int || !a.sig_hup || event_add(a.sig_term, NULL) ||
            event_add(a.sig_int, NULL) || event_add(a.sig_hup, NULL))
            rc = XB_ERR_NOMEM;
    }
    if (rc) {
        stop(&a);
        return 1;
    }
    xb_telemetry_set_ready(a.telemetry, 1);
    XB_INFO("app", "xraybridge ready (config: %s)", cfg->source ? cfg->source : "?");
    if (a.viewer)
        XB_INFO("app", "documents go to %s%s%s; see them at %s",
                cfg->file.enabled ? cfg->file.path : "",
                cfg->file.enabled && cfg->awsxray.enabled ? " and " : "",
                cfg->awsxray.enabled ? "AWS X-Ray" : "", xb_viewer_url(a.viewer));
    event_base_dispatch(a.base);
    stop(&a);
    for (int i = 0; i < XB_UNPROCESSED_COUNT; i++)
        unprocessed += em->unprocessed_by_code[i];
    XB_INFO("app",
            "xraybridge stopped: spans accepted grpc=%llu http=%llu, rejected=%llu, refused=%llu; "
            "documents built=%llu; awsxray sent=%llu failed=%llu unprocessed=%llu; "
            "file written=%llu failed=%llu; otlphttp spans sent=%llu failed=%llu",
            (unsigned long long)rm->accepted_spans[XB_TRANSPORT_GRPC],
            (unsigned long long)rm->accepted_spans[XB_TRANSPORT_HTTP],
            (unsigned long long)(rm->rejected_spans[0] + rm->rejected_spans[1]),
            (unsigned long long)(rm->refused_spans[0] + rm->refused_spans[1]),
            (unsigned long long)rm->documents_built,
            (unsigned long long)em->sent_documents[XB_EXPORTER_AWSXRAY],
            (unsigned long long)em->send_failed_documents[XB_EXPORTER_AWSXRAY],
            (unsigned long long)unprocessed,
            (unsigned long long)em->sent_documents[XB_EXPORTER_FILE],
            (unsigned long long)em->send_failed_documents[XB_EXPORTER_FILE],
            (unsigned long long)em->sent_documents[XB_EXPORTER_OTLPHTTP],
            (unsigned long long)em->send_failed_documents[XB_EXPORTER_OTLPHTTP]);
    return 0;
}
