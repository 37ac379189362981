/*
 * app/telemetry.c - Prometheus /metrics and health_check endpoints on evhttp.
 *
 * Both endpoints are tiny GET-only HTTP/1.1 servers on the app's event loop. A response
 * is built in one reusable buffer and handed to evhttp in one piece; nothing here blocks
 * and nothing outlives the request except the server itself.
 */
#include "app/telemetry.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/metrics.h"
#include "exporter/exporter_metrics.h"
#include "receiver/listen.h"
#include "receiver/receiver_metrics.h"
#include "xb_version.h"

#define NS_PER_S ((uint64_t)1000000000)
#define IDLE_TIMEOUT_S 10
#define MAX_HEADERS_BYTES (16 * 1024)
#define CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON "application/json"

struct endpoint {
    struct evhttp *http;
    struct xb_listen_guard *guard; /* pauses accepting on EMFILE instead of spinning */
    char bound[128];               /* "ip:port"; empty when not listening */
};

struct xb_telemetry {
    struct xb_telemetry_opts opts; /* endpoint strings not kept (borrowed for start only) */
    struct endpoint metrics, health;
    uint64_t start_mono_ns, start_wall_ns;
    int ready;
    struct xb_buf out; /* response body under construction */
};

/* ------------------------------------------------------------ formatting --- */

/* ".ddd" of |frac| written with |digits| digits, trailing zeros removed; "" for 0. */
static void fraction(uint64_t frac, int digits, char *out, size_t out_len)
{
    size_t n;

    out[0] = '\0';
    if (frac == 0)
        return;
    snprintf(out, out_len, ".%0*" PRIu64, digits, frac);
    n = strlen(out);
    while (n > 1 && out[n - 1] == '0')
        out[--n] = '\0';
}

char *xb_telemetry_format_duration(uint64_t ns, char *out, size_t out_len)
{
    char frac[24]; /* '.', up to 20 digits, NUL */

    if (out_len == 0)
        return out;
    if (ns == 0) {
        snprintf(out, out_len, "0s");
    } else if (ns < 1000) {
        snprintf(out, out_len, "%" PRIu64 "ns", ns);
    } else if (ns < 1000000) {
        fraction(ns % 1000, 3, frac, sizeof(frac));
        snprintf(out, out_len, "%" PRIu64 "%s\xc2\xb5s", ns / 1000, frac); /* U+00B5 */
    } else if (ns < NS_PER_S) {
        fraction(ns % 1000000, 6, frac, sizeof(frac));
        snprintf(out, out_len, "%" PRIu64 "%sms", ns / 1000000, frac);
    } else {
        uint64_t s = ns / NS_PER_S;
        fraction(ns % NS_PER_S, 9, frac, sizeof(frac));
        if (s >= 3600)
            snprintf(out, out_len, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", s / 3600,
                     (s / 60) % 60, s % 60, frac);
        else if (s >= 60)
            snprintf(out, out_len, "%" PRIu64 "m%" PRIu64 "%ss", s / 60, s % 60, frac);
        else
            snprintf(out, out_len, "%" PRIu64 "%ss", s, frac);
    }
    return out;
}

/* |wall_ns| as RFC 3339 UTC with trimmed fractional seconds (Go's RFC3339Nano). */
static void format_rfc3339(uint64_t wall_ns, char *out, size_t out_len)
{
    time_t secs = (time_t)(wall_ns / NS_PER_S);
    struct tm tm;
    char frac[24]; /* '.', up to 20 digits, NUL */

    memset(&tm, 0, sizeof(tm));
    gmtime_r(&secs, &tm);
    fraction(wall_ns % NS_PER_S, 9, frac, sizeof(frac));
    snprintf(out, out_len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* ------------------------------------------------------------ responses --- */

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                  const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0) {
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    evhttp_send_reply(req, code, reason, NULL);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
    reply(req, code, reason, "text/plain; charset=utf-8", text, strlen(text));
}

/* Path of |req| ("/" when absent). */
static const char *req_path(struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *p = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    return p != NULL && p[0] != '\0' ? p : "/";
}

/* Answers 405 unless the method is GET or HEAD; returns 1 when it answered. */
static int refuse_method(struct evhttp_request *req)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

    if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
        return 0;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
    reply_text(req, 405, "Method Not Allowed", "method not allowed: use GET\n");
    return 1;
}

/* ------------------------------------------------------------ /metrics --- */

/* Resident set size from /proc/self/statm, bytes; 0 when unavailable. */
static uint64_t rss_bytes(void)
{
    unsigned long long size = 0, resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    uint64_t v = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) == 2 && page > 0)
        v = (uint64_t)resident * (uint64_t)page;
    fclose(f);
    return v;
}

static int render_process(struct xb_telemetry *t, struct xb_buf *b)
{
    uint64_t up = xb_clock_mono_ns() - t->start_mono_ns;
    uint64_t rss = rss_bytes();
    int rc = 0;

    rc |= xb_buf_printf(b,
                        "# HELP otelcol_process_uptime_seconds_total Seconds since xraybridge "
                        "started serving telemetry.\n"
                        "# TYPE otelcol_process_uptime_seconds_total counter\n"
                        "otelcol_process_uptime_seconds_total %" PRIu64 ".%03" PRIu64 "\n",
                        up / NS_PER_S, (up % NS_PER_S) / 1000000);
    if (rss != 0)
        rc |= xb_buf_printf(b,
                            "# HELP otelcol_process_memory_rss_bytes Resident set size of the "
                            "process, bytes.\n"
                            "# TYPE otelcol_process_memory_rss_bytes gauge\n"
                            "otelcol_process_memory_rss_bytes %" PRIu64 "\n",
                            rss);
    rc |= xb_buf_printf(b,
                        "# HELP xraybridge_build_info Build of the running binary (value 1).\n"
                        "# TYPE xraybridge_build_info gauge\n"
                        "xraybridge_build_info{version=\"%s\"} 1\n",
                        XB_VERSION);
    return rc ? XB_ERR_NOMEM : XB_OK;
}

static void on_metrics(struct evhttp_request *req, void *ud)
{
    struct xb_telemetry *t = ud;
    struct xb_metrics_queue q[XB_TELEMETRY_MAX_QUEUES];
    size_t nq = 0;
    int rc;

    if (strcmp(req_path(req), "/metrics") != 0) {
        reply_text(req, 404, "Not Found", "not found: metrics are at /metrics\n");
        return;
    }
    if (refuse_method(req))
        return;
    memset(q, 0, sizeof(q));
    if (t->opts.queues != NULL) {
        nq = t->opts.queues(t->opts.queues_ud, q, XB_TELEMETRY_MAX_QUEUES);
        if (nq > XB_TELEMETRY_MAX_QUEUES)
            nq = XB_TELEMETRY_MAX_QUEUES;
    }
    xb_buf_clear(&t->out);
    rc = xb_metrics_render(&t->out, q, nq);
    if (rc == XB_OK)
        rc = render_process(t, &t->out);
    if (rc != XB_OK) {
        reply_text(req, 500, "Internal Server Error", "out of memory\n");
        return;
    }
    reply(req, 200, "OK", CT_PROMETHEUS, t->out.data, t->out.len);
}

/* ------------------------------------------------------------ health --- */

static void on_health(struct evhttp_request *req, void *ud)
{
    struct xb_telemetry *t = ud;
    const char *path = req_path(req);
    char why[256] = "";
    char since[64], uptime[64];
    struct xb_jsonw w;
    int ok;

    if (strcmp(path, "/") != 0 && strcmp(path, "/health") != 0) {
        reply_text(req, 404, "Not Found", "not found: health is at / and /health\n");
        return;
    }
    if (refuse_method(req))
        return;
    if (!t->ready) {
        ok = 0;
        snprintf(why, sizeof(why), "not ready");
    } else {
        ok = t->opts.healthy != NULL ? t->opts.healthy(t->opts.healthy_ud, why, sizeof(why)) : 1;
        why[sizeof(why) - 1] = '\0';
    }
    format_rfc3339(t->start_wall_ns, since, sizeof(since));
    xb_telemetry_format_duration(xb_clock_mono_ns() - t->start_mono_ns, uptime, sizeof(uptime));
    xb_buf_clear(&t->out);
    xb_jsonw_init(&w, &t->out);
    xb_jsonw_obj_begin(&w);
    xb_jsonw_ckey(&w, "status");
    xb_jsonw_cstr(&w, ok ? "Server available" : "Server not available");
    xb_jsonw_ckey(&w, "upSince");
    xb_jsonw_cstr(&w, since);
    xb_jsonw_ckey(&w, "uptime");
    xb_jsonw_cstr(&w, uptime);
    if (!ok && why[0] != '\0') {
        xb_jsonw_ckey(&w, "reason");
        xb_jsonw_cstr(&w, why);
    }
    xb_jsonw_obj_end(&w);
    if (w.err != XB_OK || xb_buf_putc(&t->out, '\n') != XB_OK) {
        reply_text(req, 500, "Internal Server Error", "out of memory\n");
        return;
    }
    if (ok)
        reply(req, 200, "OK", CT_JSON, t->out.data, t->out.len);
    else
        reply(req, 503, "Service Unavailable", CT_JSON, t->out.data, t->out.len);
}

/* ------------------------------------------------------------ lifecycle --- */

static void endpoint_cleanup(struct endpoint *ep)
{
    xb_listen_guard_free(ep->guard);
    ep->guard = NULL;
    if (ep->http != NULL)
        evhttp_free(ep->http); /* closes bound sockets and open connections */
    ep->http = NULL;
    ep->bound[0] = '\0';
}

static int endpoint_start(struct xb_telemetry *t, struct event_base *base, struct endpoint *ep,
                          const char *what, const char *endpoint,
                          void (*cb)(struct evhttp_request *, void *), char *err, size_t err_len)
{
    struct evconnlistener *l;
    char bound[128];
    int rc = XB_OK;

    ep->http = evhttp_new(base);
    if (ep->http == NULL) {
        snprintf(err, err_len, "%s endpoint: out of memory", what);
        rc = XB_ERR_NOMEM;
        goto fail;
    }
    /* Let every method reach the callback so that wrong ones get 405, not 501. */
    evhttp_set_allowed_methods(ep->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                             EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(ep->http, 4096);
    evhttp_set_max_headers_size(ep->http, MAX_HEADERS_BYTES);
    evhttp_set_timeout(ep->http, IDLE_TIMEOUT_S);
    evhttp_set_gencb(ep->http, cb, t);
    l = xb_listen(base, endpoint, NULL, NULL, bound, sizeof(bound));
    if (l == NULL) {
        snprintf(err, err_len, "%s endpoint: %s", what, bound);
        rc = XB_ERR_IO;
        goto fail;
    }
    if (evhttp_bind_listener(ep->http, l) == NULL) {
        evconnlistener_free(l);
        snprintf(err, err_len, "%s endpoint: cannot attach listener", what);
        rc = XB_ERR_IO;
        goto fail;
    }
    ep->guard = xb_listen_guard_new(base, l, XB_TRANSPORT_COUNT, what, 0);
    if (ep->guard == NULL) {
        snprintf(err, err_len, "%s endpoint: out of memory", what);
        rc = XB_ERR_NOMEM;
        goto fail;
    }
    snprintf(ep->bound, sizeof(ep->bound), "%s", bound);
    XB_INFO("telemetry", "%s endpoint listening on %s", what, ep->bound);
    return XB_OK;
fail:
    endpoint_cleanup(ep);
    return rc;
}

static int is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

int xb_telemetry_start(struct event_base *base, const struct xb_telemetry_opts *opts,
                       struct xb_telemetry **out, char *err, size_t err_len)
{
    struct xb_telemetry *t = calloc(1, sizeof(*t));
    int rc = XB_OK;

    *out = NULL;
    if (t == NULL) {
        snprintf(err, err_len, "telemetry: out of memory");
        rc = XB_ERR_NOMEM;
        goto fail;
    }
    t->opts = *opts;
    t->opts.metrics_endpoint = NULL;
    t->opts.health_endpoint = NULL;
    t->ready = 1;
    t->start_mono_ns = xb_clock_mono_ns();
    t->start_wall_ns = xb_clock_wall_ns();
    xb_buf_init(&t->out, 0);
    /* The modules that declare their own families: registered before the first render,
     * in /metrics order. */
    xb_receiver_metrics_register();
    xb_exporter_metrics_register();
    if (is_set(opts->metrics_endpoint)) {
        rc = endpoint_start(t, base, &t->metrics, "metrics", opts->metrics_endpoint, on_metrics,
                            err, err_len);
        if (rc != XB_OK)
            goto fail;
    }
    if (is_set(opts->health_endpoint)) {
        rc = endpoint_start(t, base, &t->health, "health", opts->health_endpoint, on_health, err,
                            err_len);
        if (rc != XB_OK)
            goto fail;
    }
    *out = t;
    return XB_OK;
fail:
    xb_telemetry_free(t);
    return rc;
}

const char *xb_telemetry_metrics_address(const struct xb_telemetry *t)
{
    return t != NULL && t->metrics.bound[0] != '\0' ? t->metrics.bound : NULL;
}

const char *xb_telemetry_health_address(const struct xb_telemetry *t)
{
    return t != NULL && t->health.bound[0] != '\0' ? t->health.bound : NULL;
}

void xb_telemetry_set_ready(struct xb_telemetry *t, int ready)
{
    if (t != NULL)
        t->ready = ready != 0;
}

void xb_telemetry_free(struct xb_telemetry *t)
{
    if (t == NULL)
        return;
    endpoint_cleanup(&t->metrics);
    endpoint_cleanup(&t->health);
    xb_buf_cleanup(&t->out);
    free(t);
}

/* ------------------------------------------------------------ exporter health --- */

static const struct {
    enum xb_exporter_kind e;
    const char *name, *unit;
} watched[] = {{XB_EXPORTER_AWSXRAY, "awsxray", "document"},
               {XB_EXPORTER_OTLPHTTP, "otlphttp", "span"},
               {XB_EXPORTER_LOADBALANCING, "loadbalancing", "span"}};

static void sample_all(struct xb_export_sample *s)
{
    const struct xb_exporter_metrics *m = &xb_exporter_metrics;

    memset(s, 0, XB_EXPORTER_COUNT * sizeof(*s));
    for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
        enum xb_exporter_kind e = watched[i].e;
        s[e].sent = m->sent_documents[e];
        s[e].failed = m->send_failed_documents[e] + m->failed_calls[e];
    }
    s[XB_EXPORTER_AWSXRAY].failed += m->export_request_errors;
}

void xb_export_health_init(struct xb_export_health *h, uint64_t threshold_ns)
{
    struct xb_export_sample s[XB_EXPORTER_COUNT];

    memset(h, 0, sizeof(*h));
    h->threshold_ns = threshold_ns;
    sample_all(s);
    for (int e = 0; e < XB_EXPORTER_COUNT; e++) {
        h->seen_sent[e] = s[e].sent;
        h->seen_failed[e] = s[e].failed;
    }
}

int xb_export_health_step(struct xb_export_health *h, const struct xb_export_sample *s,
                          uint64_t now_ns, char *why, size_t why_len)
{
    uint64_t worst = 0;
    size_t worst_i = 0;
    char dur[64];

    for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
        enum xb_exporter_kind e = watched[i].e;
        if (s[e].sent != h->seen_sent[e])
            h->failing_since_ns[e] = 0; /* a delivery since the last look: not failing */
        else if (s[e].failed != h->seen_failed[e] && h->failing_since_ns[e] == 0)
            h->failing_since_ns[e] = now_ns != 0 ? now_ns : 1; /* 0 means "not failing" */
        h->seen_sent[e] = s[e].sent;
        h->seen_failed[e] = s[e].failed;
        if (h->failing_since_ns[e] != 0 && now_ns > h->failing_since_ns[e] &&
            now_ns - h->failing_since_ns[e] > worst) {
            worst = now_ns - h->failing_since_ns[e];
            worst_i = i;
        }
    }
    if (h->threshold_ns == 0 || worst <= h->threshold_ns)
        return 1;
    if (why != NULL && why_len != 0)
        snprintf(why, why_len, "exporter %s failing for %s with no %s delivered",
                 watched[worst_i].name, xb_telemetry_format_duration(worst, dur, sizeof(dur)),
                 watched[worst_i].unit);
    return 0;
}

int xb_export_health_eval(struct xb_export_health *h, uint64_t now_ns, char *why, size_t why_len)
{
    struct xb_export_sample s[XB_EXPORTER_COUNT];

    sample_all(s);
    return xb_export_health_step(h, s, now_ns, why, why_len);
}

int xb_export_health_cb(void *ud, char *why, size_t why_len)
{
    return xb_export_health_eval(ud, xb_clock_mono_ns(), why, why_len);
}
