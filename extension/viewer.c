/*
 * extension/viewer.c - the viewer's HTTP server (evhttp): static pages embedded at build
 * time from extension/viewer_assets/, and the JSON API over the store. Every handler
 * runs on the loop thread; a response is built in one buffer and handed to evhttp by
 * reference, its bytes charged until evhttp frees them.
 */
#include "extension/viewer.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/metrics.h"
#include "extension/viewer_filter.h"
#include "extension/viewer_map.h"
#include "extension/viewer_store.h"
#include "extension/viewer_trace.h"
#include "receiver/listen.h"

#define IDLE_TIMEOUT_S 30
#define MAX_HEADERS_BYTES (16 * 1024)
#define SCRATCH_BYTES ((size_t)8 << 20) /* strings read from one trace */
#define CT_JSON "application/json"
#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

static const char index_html[] = {
#include "extension/index_html.inc"
    0};
static const char viewer_js[] = {
#include "extension/viewer_js.inc"
    0};
static const char viewer_css[] = {
#include "extension/viewer_css.inc"
    0};

struct xb_viewer {
    struct xb_viewer_store *store;
    struct evhttp *http;
    struct xb_listen_guard *guard;
    struct xb_arena *scratch;
    size_t max_traces, max_bytes;
    size_t inflight_bytes; /* response buffers handed to evhttp, not yet freed */
    int loopback;          /* bound to a loopback address: check the Host header */
    char url[160];
    char port[8];
};

/* /metrics families (docs/viewer.md), refreshed after every add. */
static uint64_t m_traces[1], m_bytes[1], m_evicted[1], m_refused[1];
static struct xb_metric_family families[] = {
    {.name = "xraybridge_viewer_traces",
     .help = "Traces held by the viewer's store.",
     .type = XB_METRIC_GAUGE,
     .values = m_traces},
    {.name = "xraybridge_viewer_bytes",
     .help = "Bytes held by the viewer's store (extensions.viewer.max_bytes caps it).",
     .type = XB_METRIC_GAUGE,
     .values = m_bytes},
    {.name = "xraybridge_viewer_evicted_traces_total",
     .help = "Traces the viewer's store evicted to stay within its caps.",
     .type = XB_METRIC_COUNTER,
     .values = m_evicted},
    {.name = "xraybridge_viewer_refused_documents_total",
     .help = "Documents the viewer's store refused (no trace id, or larger than max_bytes).",
     .type = XB_METRIC_COUNTER,
     .values = m_refused},
};

uint64_t xb_viewer_budget_bytes(size_t max_traces, size_t max_bytes)
{
    /* Store + its index; responses in flight (capacity charged, capped at max_bytes);
     * the scratch arena, the segment table of one trace and one parsed document. */
    /* The 10 MiB: one trace's segment table (65,536 entries) and one parsed document;
     * max_bytes / 8: the list of one trace's documents (each at least 64 bytes) and
     * the list of matching traces. */
    return (uint64_t)max_bytes + xb_viewer_store_index_bytes(max_traces) + (uint64_t)max_bytes +
           SCRATCH_BYTES + ((uint64_t)10 << 20) + max_bytes / 8 +
           (uint64_t)max_traces * 2 * sizeof(void *);
}

void xb_viewer_tap(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    struct xb_viewer *v = ud;
    struct xb_viewer_store_stats st;

    (void)xb_viewer_store_add(v->store, json, len, trace_id, id, xb_clock_wall_ns());
    xb_viewer_store_stats(v->store, &st);
    m_traces[0] = st.traces;
    m_bytes[0] = st.bytes;
    m_evicted[0] = st.evicted_traces;
    m_refused[0] = st.refused_documents;
}

const char *xb_viewer_url(const struct xb_viewer *v)
{
    return v->url;
}

/* ------------------------------------------------------------ responses --- */

static void common_headers(struct evhttp_request *req, const char *ctype)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Content-Security-Policy", CSP);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
}

/* Static bytes (embedded assets, short messages). */
static void reply_static(struct evhttp_request *req, int code, const char *reason,
                         const char *ctype, const char *body, size_t len)
{
    common_headers(req, ctype);
    if (evbuffer_add_reference(evhttp_request_get_output_buffer(req), body, len, NULL, NULL)) {
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    evhttp_send_reply(req, code, reason, NULL);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
    reply_static(req, code, reason, "text/plain; charset=utf-8", text, strlen(text));
}

struct held {
    struct xb_viewer *v;
    size_t charge;
};

static void release_buf(const void *data, size_t len, void *ud)
{
    struct held *h = ud;

    (void)len;
    h->v->inflight_bytes -= h->charge;
    free((void *)data);
    free(h);
}

/* Hands |b|'s storage to evhttp (|b| is left empty) and sends it. */
static void reply_buf(struct xb_viewer *v, struct evhttp_request *req, int code, const char *reason,
                      const char *ctype, struct xb_buf *b)
{
    struct held *h = malloc(sizeof(*h));
    size_t cap = b->cap, len = 0;
    char *data;

    if (!h) {
        xb_buf_cleanup(b);
        reply_text(req, 503, "Service Unavailable", "out of memory\n");
        return;
    }
    data = xb_buf_steal(b, &len);
    h->v = v;
    h->charge = cap;
    v->inflight_bytes += cap;
    common_headers(req, ctype);
    if (!data ||
        evbuffer_add_reference(evhttp_request_get_output_buffer(req), data, len, release_buf, h)) {
        release_buf(data, len, h);
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    evhttp_send_reply(req, code, reason, NULL);
}

/* JSON {"error": msg} with |code|. */
static void reply_error(struct xb_viewer *v, struct evhttp_request *req, int code,
                        const char *reason, const char *msg)
{
    struct xb_buf b;
    struct xb_jsonw w;

    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    xb_jsonw_obj_begin(&w);
    xb_jsonw_ckey(&w, "error");
    xb_jsonw_cstr(&w, msg);
    xb_jsonw_obj_end(&w);
    if (w.err) {
        xb_buf_cleanup(&b);
        reply_text(req, 500, "Internal Server Error", "out of memory\n");
        return;
    }
    reply_buf(v, req, code, reason, CT_JSON, &b);
}

/* A buffer for one response, capped so that responses in flight stay within max_bytes;
 * 0 when nothing is left (the caller answers 503). */
static int response_buf(struct xb_viewer *v, struct xb_buf *b)
{
    if (v->inflight_bytes + 2 > v->max_bytes) /* a max of 0 would mean "no cap" */
        return 0;
    xb_buf_init(b, v->max_bytes - v->inflight_bytes - 1);
    return 1;
}

static void reply_busy(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    reply_text(req, 503, "Service Unavailable",
               "viewer busy: too many bytes of responses being sent, retry\n");
}

/* ------------------------------------------------------------ API --- */

/* Value of query parameter |key| of |req| into |out| ("" when absent). 0, or -1 when the
 * query cannot be parsed. */
static int query_param(struct evhttp_request *req, const char *key, char *out, size_t out_len)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq params;
    const char *val;
    int rc = 0;

    out[0] = '\0';
    if (!q)
        return 0;
    memset(&params, 0, sizeof(params)); /* evhttp_parse_query_str initialises it */
    if (evhttp_parse_query_str(q, &params) != 0)
        return -1;
    val = evhttp_find_header(&params, key);
    if (val) {
        if (strlen(val) >= out_len)
            rc = -1;
        else
            snprintf(out, out_len, "%s", val);
    }
    evhttp_clear_headers(&params);
    return rc;
}

struct row {
    double start;
    const struct xb_viewer_trace *t;
};

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return (x->start < y->start) - (x->start > y->start); /* newest first */
}

/* Summary of |t| in the scratch arena (reset first); on XB_ERR_NOMEM the summary is
 * partial and marked truncated. */
static void summarize(struct xb_viewer *v, const struct xb_viewer_trace *t,
                      struct xb_viewer_summary *s)
{
    xb_arena_reset(v->scratch);
    if (xb_viewer_summarize(t, v->scratch, s) != XB_OK)
        s->truncated = 1;
}

static void api_traces(struct xb_viewer *v, struct evhttp_request *req)
{
    char text[XB_VIEWER_FILTER_MAX_TEXT + 2], lim[16], why[256];
    struct xb_viewer_filter *f = malloc(sizeof(*f));
    struct xb_viewer_store_stats st;
    struct xb_buf out;
    struct row *idx = NULL;
    size_t n = 0, limit = 1000;
    struct xb_jsonw w;
    int rc;

    xb_buf_init(&out, 0);
    if (!f) {
        reply_text(req, 503, "Service Unavailable", "out of memory\n");
        goto done;
    }
    if (query_param(req, "filter", text, sizeof(text)) != 0 ||
        query_param(req, "limit", lim, sizeof(lim)) != 0) {
        reply_error(v, req, 400, "Bad Request", "bad query string or filter too long");
        goto done;
    }
    if (lim[0]) {
        char *end;
        unsigned long l = strtoul(lim, &end, 10);
        if (*end || l == 0) {
            reply_error(v, req, 400, "Bad Request", "limit must be a positive integer");
            goto done;
        }
        limit = l;
    }
    rc = xb_viewer_filter_parse(text, f, why, sizeof(why));
    if (rc != XB_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "filter: %s", why);
        reply_error(v, req, 400, "Bad Request", msg);
        goto done;
    }
    xb_viewer_store_stats(v->store, &st);
    idx = malloc((st.traces ? st.traces : 1) * sizeof(*idx));
    if (!idx) {
        reply_text(req, 503, "Service Unavailable", "out of memory\n");
        goto done;
    }
    /* Pass 1: which traces match, and their start times; pass 2 writes the newest
     * |limit| of them (summarised again: nothing but the index is kept in between). */
    for (const struct xb_viewer_trace *t = xb_viewer_store_newest(v->store); t; t = t->older) {
        struct xb_viewer_summary s;
        summarize(v, t, &s);
        if (xb_viewer_filter_match(f, &s.facts))
            idx[n++] = (struct row){s.start, t};
    }
    qsort(idx, n, sizeof(*idx), cmp_row);
    if (!response_buf(v, &out)) {
        reply_busy(req);
        goto done;
    }
    rc = xb_buf_printf(&out, "{\"stored\":%zu,\"matched\":%zu,\"filter\":", st.traces, n);
    xb_jsonw_init(&w, &out);
    xb_jsonw_cstr(&w, text);
    rc |= w.err | xb_buf_puts(&out, ",\"traces\":[");
    for (size_t i = 0; i < n && i < limit && rc == 0; i++) {
        struct xb_viewer_summary s;
        summarize(v, idx[i].t, &s);
        rc |= xb_buf_puts(&out, i ? "," : "");
        xb_jsonw_init(&w, &out);
        xb_viewer_summary_json(&s, &w);
        rc |= w.err;
    }
    xb_arena_reset(v->scratch);
    rc |= xb_buf_puts(&out, "]}\n");
    if (rc) {
        xb_buf_cleanup(&out);
        reply_busy(req);
        goto done;
    }
    reply_buf(v, req, 200, "OK", CT_JSON, &out);
done:
    free(f);
    free(idx);
    xb_buf_cleanup(&out);
}

static int valid_trace_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= XB_VIEWER_TRACE_ID_SIZE)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') ||
              *s == '-'))
            return 0;
    return 1;
}

static void api_trace(struct xb_viewer *v, struct evhttp_request *req, const char *id)
{
    const struct xb_viewer_trace *t =
        valid_trace_id(id) ? xb_viewer_store_find(v->store, id) : NULL;
    struct xb_buf out;

    if (!t) {
        reply_error(v, req, 404, "Not Found", "no such trace in the store");
        return;
    }
    if (!response_buf(v, &out)) {
        reply_busy(req);
        return;
    }
    if (xb_viewer_trace_json(t, &out) != XB_OK || xb_buf_putc(&out, '\n') != XB_OK) {
        xb_buf_cleanup(&out);
        reply_busy(req);
        return;
    }
    reply_buf(v, req, 200, "OK", CT_JSON, &out);
}

static void api_map(struct xb_viewer *v, struct evhttp_request *req)
{
    char text[XB_VIEWER_FILTER_MAX_TEXT + 2], why[256];
    struct xb_viewer_filter *f = malloc(sizeof(*f));
    struct xb_viewer_map *m = xb_viewer_map_new();
    size_t traces = 0;
    struct xb_buf out;
    int rc = XB_OK;

    xb_buf_init(&out, 0);
    if (!f || !m) {
        reply_text(req, 503, "Service Unavailable", "out of memory\n");
        goto done;
    }
    if (query_param(req, "filter", text, sizeof(text)) != 0 ||
        xb_viewer_filter_parse(text, f, why, sizeof(why)) != XB_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "filter: %s", why[0] ? why : "bad query string");
        reply_error(v, req, 400, "Bad Request", msg);
        goto done;
    }
    for (const struct xb_viewer_trace *t = xb_viewer_store_newest(v->store); t && rc == XB_OK;
         t = t->older) {
        struct xb_viewer_summary s;
        xb_arena_reset(v->scratch);
        if (f->n && (xb_viewer_summarize(t, v->scratch, &s) != XB_OK ||
                     !xb_viewer_filter_match(f, &s.facts)))
            continue;
        xb_arena_reset(v->scratch);
        rc = xb_viewer_trace_calls(t, v->scratch, m);
        traces++;
    }
    xb_arena_reset(v->scratch);
    if (rc != XB_OK || !response_buf(v, &out)) {
        reply_busy(req);
        goto done;
    }
    rc = xb_buf_printf(&out, "{\"traces\":%zu,\"map\":", traces);
    rc |= xb_viewer_map_json(m, &out);
    rc |= xb_buf_puts(&out, "}\n");
    if (rc) {
        xb_buf_cleanup(&out);
        reply_busy(req);
        goto done;
    }
    reply_buf(v, req, 200, "OK", CT_JSON, &out);
done:
    free(f);
    xb_viewer_map_free(m);
    xb_buf_cleanup(&out);
}

static void api_stats(struct xb_viewer *v, struct evhttp_request *req)
{
    struct xb_viewer_store_stats st;
    struct xb_buf out;

    xb_viewer_store_stats(v->store, &st);
    if (!response_buf(v, &out)) {
        reply_busy(req);
        return;
    }
    if (xb_buf_printf(&out,
                      "{\"traces\":%zu,\"documents\":%zu,\"bytes\":%zu,\"max_traces\":%zu,"
                      "\"max_bytes\":%zu,\"stored_documents\":%llu,\"evicted_traces\":%llu,"
                      "\"evicted_documents\":%llu,\"refused_documents\":%llu,"
                      "\"responses_in_flight_bytes\":%zu}\n",
                      st.traces, st.documents, st.bytes, st.max_traces, st.max_bytes,
                      (unsigned long long)st.stored_documents,
                      (unsigned long long)st.evicted_traces,
                      (unsigned long long)st.evicted_documents,
                      (unsigned long long)st.refused_documents, v->inflight_bytes) != XB_OK) {
        xb_buf_cleanup(&out);
        reply_busy(req);
        return;
    }
    reply_buf(v, req, 200, "OK", CT_JSON, &out);
}

/* ------------------------------------------------------------ routing --- */

/* 1 when the Host header names this server by a loopback name (a page of another site
 * resolving its own name to 127.0.0.1 must not read the store: DNS rebinding). */
static int host_allowed(const struct xb_viewer *v, struct evhttp_request *req)
{
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};

    if (!v->loopback)
        return 1;
    if (!host)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(host, names[i], n) == 0 &&
            (host[n] == '\0' || (host[n] == ':' && strcmp(host + n + 1, v->port) == 0)))
            return 1;
    }
    return 0;
}

static void on_request(struct evhttp_request *req, void *ud)
{
    struct xb_viewer *v = ud;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply_text(req, 405, "Method Not Allowed", "method not allowed: the viewer is read-only\n");
        return;
    }
    if (!host_allowed(v, req)) {
        reply_text(req, 403, "Forbidden", "forbidden: use http://localhost:PORT/\n");
        return;
    }
    if (!path || !path[0])
        path = "/";
    if (strcmp(path, "/") == 0 || strcmp(path, "/map") == 0 ||
        (strncmp(path, "/trace/", 7) == 0 && valid_trace_id(path + 7)))
        reply_static(req, 200, "OK", "text/html; charset=utf-8", index_html,
                     sizeof(index_html) - 1);
    else if (strcmp(path, "/assets/viewer.js") == 0)
        reply_static(req, 200, "OK", "text/javascript; charset=utf-8", viewer_js,
                     sizeof(viewer_js) - 1);
    else if (strcmp(path, "/assets/viewer.css") == 0)
        reply_static(req, 200, "OK", "text/css; charset=utf-8", viewer_css, sizeof(viewer_css) - 1);
    else if (strcmp(path, "/api/traces") == 0)
        api_traces(v, req);
    else if (strncmp(path, "/api/traces/", 12) == 0)
        api_trace(v, req, path + 12);
    else if (strcmp(path, "/api/map") == 0)
        api_map(v, req);
    else if (strcmp(path, "/api/stats") == 0)
        api_stats(v, req);
    else
        reply_text(req, 404, "Not Found", "not found\n");
}

/* ------------------------------------------------------------ lifecycle --- */

int xb_viewer_start(struct event_base *base, const struct xb_viewer_opts *o, struct xb_viewer **out,
                    char *err, size_t err_len)
{
    struct xb_viewer *v = NULL;
    struct evconnlistener *l;
    char bound[128];
    const char *colon;
    int rc = XB_OK;

    *out = NULL;
    if (o->max_traces == 0 || o->max_bytes == 0) {
        snprintf(err, err_len, "viewer: max_traces and max_bytes must be at least 1");
        return XB_ERR_INVALID;
    }
    v = calloc(1, sizeof(*v));
    if (!v)
        goto nomem;
    v->max_traces = o->max_traces;
    v->max_bytes = o->max_bytes;
    v->store = xb_viewer_store_new(o->max_traces, o->max_bytes);
    v->scratch = xb_arena_new(64 * 1024, SCRATCH_BYTES);
    v->http = evhttp_new(base);
    if (!v->store || !v->scratch || !v->http)
        goto nomem;
    /* Let every method reach the callback so that wrong ones get 405, not 501. */
    evhttp_set_allowed_methods(v->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(v->http, 4096);
    evhttp_set_max_headers_size(v->http, MAX_HEADERS_BYTES);
    evhttp_set_timeout(v->http, IDLE_TIMEOUT_S);
    evhttp_set_gencb(v->http, on_request, v);
    l = xb_listen(base, o->endpoint, NULL, NULL, bound, sizeof(bound));
    if (!l) {
        snprintf(err, err_len, "viewer endpoint: %s", bound);
        rc = XB_ERR_IO;
        goto fail;
    }
    if (!evhttp_bind_listener(v->http, l)) {
        evconnlistener_free(l);
        snprintf(err, err_len, "viewer endpoint: cannot attach listener");
        rc = XB_ERR_IO;
        goto fail;
    }
    v->guard = xb_listen_guard_new(base, l, XB_TRANSPORT_COUNT, "viewer", 0);
    if (!v->guard)
        goto nomem;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        (void)xb_metrics_register(&families[i]); /* valid static families: cannot fail */
    colon = strrchr(bound, ':');
    snprintf(v->port, sizeof(v->port), "%s", colon ? colon + 1 : "");
    v->loopback = strncmp(bound, "127.", 4) == 0 || strncmp(bound, "[::1]", 5) == 0;
    if (strncmp(bound, "127.0.0.1:", 10) == 0)
        snprintf(v->url, sizeof(v->url), "http://localhost:%s/", v->port);
    else
        snprintf(v->url, sizeof(v->url), "http://%s/", bound);
    XB_INFO("viewer", "viewer listening on %s (bound %s; store: %zu traces, %zu MiB)", v->url,
            bound, o->max_traces, o->max_bytes >> 20);
    *out = v;
    return XB_OK;
nomem:
    snprintf(err, err_len, "viewer: out of memory");
    rc = XB_ERR_NOMEM;
fail:
    xb_viewer_free(v);
    return rc;
}

void xb_viewer_free(struct xb_viewer *v)
{
    if (!v)
        return;
    xb_listen_guard_free(v->guard);
    if (v->http)
        evhttp_free(v->http); /* frees pending responses: release_buf runs */
    xb_arena_free(v->scratch);
    xb_viewer_store_free(v->store);
    free(v);
}
