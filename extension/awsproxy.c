#include "extension/awsproxy.h"

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/credentials.h"
#include "aws/curl_loop.h"
#include "aws/region.h"
#include "aws/request.h"
#include "aws/url.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "extension/proxy_policy.h"
#include "receiver/listen.h"
#include "xb_version.h"

#define LOG "awsproxy"
#define MAX_HEADERS_BYTES 8192
#define IDLE_TIMEOUT_S 30
#define CACHE_LOG_INTERVAL_MS 60000
#define ERROR_LOG_INTERVAL_MS 10000

/* ------------------------------------------------------------ metrics --- */

/* Request outcomes, the "outcome" label. */
enum outcome {
    OUT_FORWARDED = 0,  /* X-Ray's answer relayed (any status) */
    OUT_CACHED,         /* the kept GetSamplingRules answer served */
    OUT_UPSTREAM_ERROR, /* 502/504: X-Ray unreachable, nothing kept */
    OUT_TOO_LARGE,      /* 413 */
    OUT_BUSY,           /* 503: max_concurrent_requests */
    OUT_BAD_PATH,       /* 404 */
    OUT_BAD_METHOD,     /* 405 */
    OUT_ABORTED,        /* 503 at shutdown */
    OUT_COUNT
};

/* How upstream calls ended, the "result" label. */
enum upstream_result { UP_2XX = 0, UP_4XX, UP_5XX, UP_TIMEOUT, UP_UNREACHABLE, UP_COUNT };

static const char *const component_values[XB_AWSPROXY_COMPONENT_COUNT] = {"awsproxy", "awsxray"};
static const char *const path_values[XB_PROXY_OP_COUNT] = {
    "GetSamplingRules", "SamplingTargets",  "SamplingStatisticSummaries",
    "TraceSegments",    "TelemetryRecords", "other"};
static const char *const outcome_values[OUT_COUNT] = {"forwarded",  "cached", "upstream_error",
                                                      "too_large",  "busy",   "bad_path",
                                                      "bad_method", "aborted"};
static const char *const result_values[UP_COUNT] = {"2xx", "4xx", "5xx", "timeout", "unreachable"};

static const struct xb_metric_label req_labels[] = {
    {"component", component_values, XB_AWSPROXY_COMPONENT_COUNT},
    {"path", path_values, XB_PROXY_OP_COUNT},
    {"outcome", outcome_values, OUT_COUNT},
};
static const struct xb_metric_label comp_label[] = {
    {"component", component_values, XB_AWSPROXY_COMPONENT_COUNT},
};
static const struct xb_metric_label up_labels[] = {
    {"component", component_values, XB_AWSPROXY_COMPONENT_COUNT},
    {"result", result_values, UP_COUNT},
};

static uint64_t m_requests[XB_AWSPROXY_COMPONENT_COUNT * XB_PROXY_OP_COUNT * OUT_COUNT];
static uint64_t m_cached[XB_AWSPROXY_COMPONENT_COUNT];
static uint64_t m_upstream[XB_AWSPROXY_COMPONENT_COUNT * UP_COUNT];
static uint64_t m_latency_ms[XB_AWSPROXY_COMPONENT_COUNT];
static uint64_t m_inflight[XB_AWSPROXY_COMPONENT_COUNT];

static struct xb_metric_family families[] = {
    {.name = "xraybridge_awsproxy_requests_total",
     .help = "Sampling proxy requests by X-Ray operation and outcome.",
     .type = XB_METRIC_COUNTER,
     .labels = req_labels,
     .n_labels = 3,
     .values = m_requests},
    {.name = "xraybridge_awsproxy_cached_responses_total",
     .help = "GetSamplingRules answered from the last good answer while X-Ray was unreachable.",
     .type = XB_METRIC_COUNTER,
     .labels = comp_label,
     .n_labels = 1,
     .values = m_cached},
    {.name = "xraybridge_awsproxy_upstream_requests_total",
     .help = "Calls to X-Ray by result (HTTP status class, timeout, unreachable).",
     .type = XB_METRIC_COUNTER,
     .labels = up_labels,
     .n_labels = 2,
     .values = m_upstream},
    {.name = "xraybridge_awsproxy_upstream_latency_milliseconds_total",
     .help = "Sum of the durations of the calls to X-Ray, ms (divide by "
             "xraybridge_awsproxy_upstream_requests_total for the mean).",
     .type = XB_METRIC_COUNTER,
     .labels = comp_label,
     .n_labels = 1,
     .values = m_latency_ms},
    {.name = "xraybridge_awsproxy_inflight_requests",
     .help = "Requests being forwarded to X-Ray now.",
     .type = XB_METRIC_GAUGE,
     .labels = comp_label,
     .n_labels = 1,
     .values = m_inflight},
};

void xb_awsproxy_metrics_register(void)
{
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        (void)xb_metrics_register(&families[i]); /* valid static families */
}

static void count(enum xb_awsproxy_component c, enum xb_proxy_op op, enum outcome o)
{
    m_requests[((size_t)c * XB_PROXY_OP_COUNT + (size_t)op) * OUT_COUNT + (size_t)o]++;
}

/* ------------------------------------------------------------ state --- */

struct preq;

struct xb_awsproxy {
    enum xb_awsproxy_component component;
    struct event_base *base;
    struct evhttp *http;
    struct xb_listen_guard *guard;
    struct xb_curl_loop *curl;
    struct xb_creds_provider *creds;
    char *urls[XB_PROXY_OP_OTHER]; /* upstream URL of each forwarded operation */
    char *region, *service, *proxy, *ca_file;
    int tls_insecure;
    int draining; /* xb_awsproxy_drain was called */
    size_t max_body;
    uint32_t max_inflight, timeout_ms, inflight;
    uint16_t port;
    struct xb_proxy_cache cache;
    struct xb_ratelimit cache_rl, error_rl;
    struct preq *reqs; /* requests being forwarded (doubly linked) */
};

/* One request being forwarded. The evhttp request stays valid until we reply: when
 * the client goes away first, libevent detaches it and frees it at our reply. */
struct preq {
    struct xb_awsproxy *p;
    struct evhttp_request *req;
    enum xb_proxy_op op;
    const char *body; /* the request's input buffer, made contiguous */
    size_t body_len;
    CURL *easy;
    struct curl_slist *hdrs;
    struct xb_buf resp;
    int resp_too_large;
    int creds_wait; /* an xb_creds_provider_get callback is pending */
    uint64_t start_ms;
    char errbuf[CURL_ERROR_SIZE];
    struct preq *prev, *next;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ replies --- */

static const char *reason_of(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return code < 400 ? "OK" : "Error";
    }
}

/* Answers |req| with |code| and |len| bytes of |body| (copied); frees |req| in libevent. */
static void reply(struct evhttp_request *req, int code, const char *ctype, const char *body,
                  size_t len, const char *extra_name, const char *extra_value)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", ctype && *ctype ? ctype : "application/json");
    if (extra_name)
        evhttp_add_header(h, extra_name, extra_value);
    if (len && evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0) {
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    evhttp_send_reply(req, code, reason_of(code), NULL);
}

/* A JSON error answer in X-Ray's shape ({"__type", "message"}) from the proxy itself. */
static void reply_error(struct evhttp_request *req, int code, const char *type, const char *msg,
                        const char *extra_name, const char *extra_value)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    reply(req, code, "application/json", body, n > 0 ? (size_t)n : 0, extra_name, extra_value);
}

/* ------------------------------------------------------------ forwarding --- */

static void preq_free(struct preq *r)
{
    struct xb_awsproxy *p = r->p;

    if (r->easy) {
        xb_curl_loop_remove(p->curl, r->easy);
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->hdrs);
    xb_buf_cleanup(&r->resp);
    if (r->prev)
        r->prev->next = r->next;
    else
        p->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    p->inflight--;
    m_inflight[p->component] = p->inflight;
    free(r);
}

/* Serves the kept GetSamplingRules answer for |r|'s body; logs at most once a minute. */
static void serve_cache(struct preq *r, const struct xb_proxy_cache_entry *e, const char *why)
{
    struct xb_awsproxy *p = r->p;
    uint64_t now = now_ms(), skipped;
    char age[32];

    snprintf(age, sizeof(age), "%llu", (unsigned long long)((now - e->stored_ms) / 1000u));
    m_cached[p->component]++;
    count(p->component, r->op, OUT_CACHED);
    if (xb_ratelimit_allow(&p->cache_rl, now, &skipped))
        XB_WARN(LOG,
                "X-Ray unreachable (%s): answering GetSamplingRules with the last good answer, "
                "kept %s s ago (%llu more such answers since the last line)",
                why, age, (unsigned long long)skipped);
    reply(r->req, 200, "application/json", e->val, e->val_len, "Age", age);
}

/* Carries out the decision once the upstream call ended as |up| (|status| when answered). */
static void finish(struct preq *r, enum xb_proxy_upstream up, long status, const char *ctype,
                   const char *why)
{
    struct xb_awsproxy *p = r->p;
    const struct xb_proxy_cache_entry *e = NULL;
    enum xb_proxy_reply d;
    uint64_t skipped;

    if (r->op == XB_PROXY_OP_GET_SAMPLING_RULES)
        e = xb_proxy_cache_get(&p->cache, r->body, r->body_len);
    d = xb_proxy_decide_reply(r->op, up, status, e != NULL);
    if (d != XB_PROXY_RELAY && d != XB_PROXY_RELAY_AND_STORE && d != XB_PROXY_SERVE_CACHE &&
        xb_ratelimit_allow(&p->error_rl, now_ms(), &skipped))
        XB_WARN(LOG, "%s to X-Ray failed: %s (%llu more failures since the last line)",
                xb_proxy_op_label(r->op), why, (unsigned long long)skipped);
    switch (d) {
    case XB_PROXY_RELAY_AND_STORE:
        if (!xb_proxy_rules_answer_ok(r->resp.data, r->resp.len))
            XB_WARN(LOG, "X-Ray's GetSamplingRules answer is not a rules document: "
                         "relayed, not kept");
        else if (xb_proxy_cache_put(&p->cache, r->body, r->body_len, r->resp.data, r->resp.len,
                                    now_ms()) != XB_OK)
            XB_DEBUG(LOG, "GetSamplingRules answer not kept (too large or out of memory)");
        /* fall through */
    case XB_PROXY_RELAY:
        count(p->component, r->op, OUT_FORWARDED);
        reply(r->req, (int)status, ctype, r->resp.data, r->resp.len, NULL, NULL);
        break;
    case XB_PROXY_SERVE_CACHE:
        serve_cache(r, e, why);
        break;
    case XB_PROXY_FAIL_GATEWAY_TIMEOUT:
        count(p->component, r->op, OUT_UPSTREAM_ERROR);
        reply_error(r->req, 504, "GatewayTimeout", "X-Ray did not answer in time", NULL, NULL);
        break;
    case XB_PROXY_FAIL_BAD_GATEWAY:
        count(p->component, r->op, OUT_UPSTREAM_ERROR);
        reply_error(r->req, 502, "BadGateway", "X-Ray could not be reached", NULL, NULL);
        break;
    }
    preq_free(r);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct preq *r = ud;
    size_t n = size * nmemb;

    if (r->resp.len + n > XB_PROXY_MAX_RESPONSE_BYTES || xb_buf_append(&r->resp, data, n)) {
        r->resp_too_large = 1;
        return 0; /* aborts the transfer */
    }
    return n;
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    struct preq *r = ud;
    struct xb_awsproxy *p = r->p;
    enum xb_awsproxy_component c = p->component;
    enum xb_proxy_upstream up = XB_PROXY_UP_ANSWERED;
    long status = 0;
    char *ct = NULL, ctype[128] = "";
    const char *why = "answered";

    m_latency_ms[c] += now_ms() - r->start_ms;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf(ctype, sizeof(ctype), "%s", ct);
    if (r->resp_too_large) {
        up = XB_PROXY_UP_TOO_LARGE;
        why = "answer too large";
    } else if (result == CURLE_OPERATION_TIMEDOUT) {
        up = XB_PROXY_UP_TIMEOUT;
        why = "timeout";
    } else if (result != CURLE_OK) {
        up = XB_PROXY_UP_UNREACHABLE;
        why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
    }
    if (up == XB_PROXY_UP_TIMEOUT)
        m_upstream[c * UP_COUNT + UP_TIMEOUT]++;
    else if (up != XB_PROXY_UP_ANSWERED)
        m_upstream[c * UP_COUNT + UP_UNREACHABLE]++;
    else if (status >= 500)
        m_upstream[c * UP_COUNT + UP_5XX]++;
    else if (status >= 400)
        m_upstream[c * UP_COUNT + UP_4XX]++;
    else
        m_upstream[c * UP_COUNT + UP_2XX]++;
    if (up == XB_PROXY_UP_ANSWERED && status >= 500)
        why = "HTTP 5xx from X-Ray";
    /* The loop gave the handle back to us: clean it up here, not in preq_free. */
    curl_easy_cleanup(easy);
    r->easy = NULL;
    finish(r, up, status, ctype, why);
}

/* Signs |r| with |creds| and starts the upstream call; on failure answers at once. */
static void start_upstream(struct preq *r, const struct xb_aws_creds *creds)
{
    static const struct xb_sigv4_header content_type = {"Content-Type", "application/json"};
    struct xb_awsproxy *p = r->p;
    struct xb_aws_request req = {
        .method = "POST",
        .url = p->urls[r->op],
        .headers = &content_type,
        .n_headers = 1,
        .body = r->body,
        .body_len = r->body_len,
        .sign = {p->service, p->region, creds, time(NULL)},
        .connect_timeout_ms = (long)p->timeout_ms,
        .timeout_ms = (long)p->timeout_ms,
        .user_agent = "xraybridge/" XB_VERSION,
        .ca_file = p->ca_file,
        .tls_no_verify = p->tls_insecure,
        .proxy = p->proxy,
        .on_body = on_body,
        .on_body_ud = r,
        .errbuf = r->errbuf,
    };
    char why[256] = "";

    r->start_ms = now_ms();
    if (xb_aws_request_build(&req, &r->easy, &r->hdrs, why, sizeof(why)) != XB_OK) {
        r->easy = NULL;
        finish(r, XB_PROXY_UP_UNREACHABLE, 0, NULL, why[0] ? why : "cannot build the request");
        return;
    }
    if (xb_curl_loop_add(p->curl, r->easy, on_done, r) != XB_OK) {
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
        finish(r, XB_PROXY_UP_UNREACHABLE, 0, NULL, "out of memory");
    }
}

static void on_creds(void *ud, int rc, const struct xb_aws_creds *creds, const char *why)
{
    struct preq *r = ud;

    r->creds_wait = 0;
    if (!r->req) { /* answered at shutdown while waiting */
        preq_free(r);
        return;
    }
    if (rc != XB_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "no AWS credentials: %s", why ? why : xb_strerror(rc));
        finish(r, XB_PROXY_UP_NO_CREDENTIALS, 0, NULL, msg);
        return;
    }
    start_upstream(r, creds);
}

/* ------------------------------------------------------------ serving --- */

static void on_request(struct evhttp_request *req, void *ud)
{
    struct xb_awsproxy *p = ud;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct xb_proxy_request_facts f = {
        .is_post = evhttp_request_get_command(req) == EVHTTP_REQ_POST,
        .op = xb_proxy_op_of_path(uri ? evhttp_uri_get_path(uri) : NULL),
        .body_len = evbuffer_get_length(in),
        .max_body = p->max_body,
        .inflight = p->inflight,
        .max_inflight = p->max_inflight,
    };
    const struct xb_aws_creds *creds;
    const char *body = "";
    struct preq *r;

    if (p->draining)
        f.max_inflight = 0; /* shutting down: refused as busy, with Retry-After */
    switch (xb_proxy_decide_request(&f)) {
    case XB_PROXY_REFUSE_METHOD:
        count(p->component, f.op, OUT_BAD_METHOD);
        reply_error(req, 405, "MethodNotAllowed", "only POST is forwarded", "Allow", "POST");
        return;
    case XB_PROXY_REFUSE_PATH:
        count(p->component, f.op, OUT_BAD_PATH);
        reply_error(req, 404, "UnknownOperationException",
                    "not forwarded: only GetSamplingRules, SamplingTargets, "
                    "SamplingStatisticSummaries, TraceSegments and TelemetryRecords",
                    NULL, NULL);
        return;
    case XB_PROXY_REFUSE_TOO_LARGE:
        count(p->component, f.op, OUT_TOO_LARGE);
        reply_error(req, 413, "RequestTooLarge", "request body over max_request_body_size", NULL,
                    NULL);
        return;
    case XB_PROXY_REFUSE_BUSY:
        count(p->component, f.op, OUT_BUSY);
        reply_error(req, 503, "ServiceUnavailable", "too many requests in flight", "Retry-After",
                    "1");
        return;
    case XB_PROXY_FORWARD:
        break;
    }
    if (f.body_len)
        body = (const char *)evbuffer_pullup(in, -1); /* owned by |req| until we reply */
    r = body ? calloc(1, sizeof(*r)) : NULL;
    if (!r) {
        count(p->component, f.op, OUT_BUSY);
        reply_error(req, 503, "ServiceUnavailable", "out of memory", "Retry-After", "1");
        return;
    }
    r->p = p;
    r->req = req;
    r->op = f.op;
    r->body_len = f.body_len;
    r->body = body;
    xb_buf_init(&r->resp, XB_PROXY_MAX_RESPONSE_BYTES);
    r->next = p->reqs;
    if (p->reqs)
        p->reqs->prev = r;
    p->reqs = r;
    p->inflight++;
    m_inflight[p->component] = p->inflight;
    creds = xb_creds_provider_current(p->creds);
    if (creds) {
        start_upstream(r, creds);
        return;
    }
    r->creds_wait = 1;
    if (xb_creds_provider_get(p->creds, on_creds, r) != XB_OK) {
        r->creds_wait = 0;
        finish(r, XB_PROXY_UP_NO_CREDENTIALS, 0, NULL, "out of memory");
    }
}

/* ------------------------------------------------------------ lifecycle --- */

static int set_urls(struct xb_awsproxy *p, const char *aws_endpoint, char *err, size_t err_len)
{
    struct xb_buf b;
    int rc = XB_ERR_NOMEM;

    xb_buf_init(&b, 0);
    if (aws_endpoint && *aws_endpoint)
        xb_buf_puts(&b, aws_endpoint);
    else
        xb_buf_printf(&b, "https://%s.%s.%s", p->service, p->region,
                      xb_proxy_dns_suffix(p->region));
    if (!b.data)
        goto out;
    while (b.len && b.data[b.len - 1] == '/')
        b.data[--b.len] = '\0';
    if (strncmp(b.data, "http://", 7) != 0 && strncmp(b.data, "https://", 8) != 0) {
        snprintf(err, err_len, "%s: aws_endpoint must be http:// or https://",
                 component_values[p->component]);
        rc = XB_ERR_CONFIG;
        goto out;
    }
    for (int i = 0; i < XB_PROXY_OP_OTHER; i++) {
        size_t n = b.len + strlen(xb_proxy_op_path((enum xb_proxy_op)i)) + 1;
        p->urls[i] = malloc(n);
        if (!p->urls[i])
            goto out;
        snprintf(p->urls[i], n, "%s%s", b.data, xb_proxy_op_path((enum xb_proxy_op)i));
    }
    rc = XB_OK;
out:
    xb_buf_cleanup(&b);
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

int xb_awsproxy_start(struct event_base *base, const struct xb_config_awsproxy *c,
                      enum xb_awsproxy_component component, struct xb_awsproxy **out, char *err,
                      size_t err_len)
{
    const char *name = component == XB_AWSPROXY_EXTENSION ? "extensions.awsproxy"
                                                          : "receivers.awsxray.proxy_server";
    struct xb_awsproxy *p;
    struct evconnlistener *l;
    char region[64], rerr[512], bound[128], shown[512];
    int rc = XB_ERR_NOMEM;

    xb_awsproxy_metrics_register();
    if (c->local_mode && !c->region) {
        /* As the collector: configuration, then the environment, never metadata. */
        const char *env = getenv("AWS_REGION");
        if (!env || !*env)
            env = getenv("AWS_DEFAULT_REGION");
        if (!env || !xb_region_valid(env)) {
            snprintf(err, err_len,
                     "%s: no region: local_mode is set, so set region (or AWS_REGION); "
                     "instance metadata is not read",
                     name);
            return XB_ERR_CONFIG;
        }
        snprintf(region, sizeof(region), "%s", env);
    } else if (xb_region_resolve_full(c->region, region, sizeof(region), rerr, sizeof(rerr)) !=
               XB_OK) {
        snprintf(err, err_len, "%s: no region: %s", name, rerr);
        return XB_ERR_CONFIG;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return XB_ERR_NOMEM;
    p->component = component;
    p->base = base;
    p->max_body = c->max_request_body_bytes;
    p->max_inflight = c->max_concurrent_requests ? c->max_concurrent_requests : 1;
    p->timeout_ms = c->timeout_ms;
    p->tls_insecure = c->tls_insecure;
    p->cache_rl.interval_ms = CACHE_LOG_INTERVAL_MS;
    p->error_rl.interval_ms = ERROR_LOG_INTERVAL_MS;
    p->region = strdup(region);
    p->service = strdup(c->service_name && *c->service_name ? c->service_name : "xray");
    p->proxy = dup_or_null(c->proxy_address);
    p->ca_file = dup_or_null(c->tls_ca_file);
    if (!p->region || !p->service || (c->proxy_address && *c->proxy_address && !p->proxy) ||
        (c->tls_ca_file && *c->tls_ca_file && !p->ca_file))
        goto fail;
    rc = set_urls(p, c->aws_endpoint, err, err_len);
    if (rc)
        goto fail;
    rc = XB_ERR_NOMEM;
    p->curl = xb_curl_loop_new(base, 4);
    if (!p->curl)
        goto fail;
    {
        struct xb_creds_provider_opts co = {
            .region = p->region,
            .role_arn = c->role_arn,
            .ca_file = p->ca_file,
            .proxy = p->proxy,
        };
        rc = xb_creds_provider_new(base, p->curl, &co, &p->creds, err, err_len);
        if (rc)
            goto fail;
    }
    rc = XB_ERR_NOMEM;
    p->http = evhttp_new(base);
    if (!p->http)
        goto fail;
    /* Every method reaches on_request, so that wrong ones get 405 rather than 501. */
    evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    /* Bodies over the limit are refused with 413 by libevent before they are read. */
    evhttp_set_max_body_size(p->http, (ev_ssize_t)p->max_body);
    evhttp_set_max_headers_size(p->http, MAX_HEADERS_BYTES);
    evhttp_set_timeout(p->http, IDLE_TIMEOUT_S);
    evhttp_set_gencb(p->http, on_request, p);
    l = xb_listen(base, c->endpoint, NULL, NULL, bound, sizeof(bound));
    if (!l) {
        snprintf(err, err_len, "%s: cannot listen on %s: %s", name, c->endpoint, bound);
        rc = XB_ERR_IO;
        goto fail;
    }
    if (!evhttp_bind_listener(p->http, l)) {
        evconnlistener_free(l);
        snprintf(err, err_len, "%s: cannot attach the listener", name);
        rc = XB_ERR_IO;
        goto fail;
    }
    p->guard = xb_listen_guard_new(base, l, XB_TRANSPORT_COUNT, LOG, 0);
    if (!p->guard)
        goto fail;
    {
        const char *colon = strrchr(bound, ':');
        p->port = colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
    }
    XB_INFO(LOG, "%s listening on %s (TCP): X-Ray sampling proxy to %s (region %s, service %s)",
            component == XB_AWSPROXY_EXTENSION ? "awsproxy" : "awsxray proxy_server", bound,
            xb_url_redact(p->urls[0], shown, sizeof(shown)), p->region, p->service);
    xb_url_warn_if_cleartext(LOG, "X-Ray endpoint", p->urls[0]);
    if (p->tls_insecure)
        XB_WARN(LOG, "%s: tls.insecure: X-Ray's TLS certificate is not verified", name);
    *out = p;
    return XB_OK;
fail:
    xb_awsproxy_free(p);
    return rc;
}

uint16_t xb_awsproxy_port(const struct xb_awsproxy *p)
{
    return p ? p->port : 0;
}

/* Answers every call in flight with 503 and frees it (its transfer is aborted). A call
 * still waiting for credentials stays allocated, answered (req NULL), until its callback
 * runs, unless |final| (the provider is freed next, dropping the callback). */
static void abort_all(struct xb_awsproxy *p, int final)
{
    struct preq *r, *next;

    for (r = p->reqs; r; r = next) {
        next = r->next;
        if (r->req) {
            count(p->component, r->op, OUT_ABORTED);
            reply_error(r->req, 503, "ServiceUnavailable", "shutting down", "Retry-After", "1");
            r->req = NULL;
        }
        if (final || !r->creds_wait)
            preq_free(r);
    }
}

void xb_awsproxy_drain(struct xb_awsproxy *p)
{
    if (!p)
        return;
    p->draining = 1;
    abort_all(p, 0);
}

void xb_awsproxy_free(struct xb_awsproxy *p)
{
    if (!p)
        return;
    abort_all(p, 1);
    xb_listen_guard_free(p->guard);
    if (p->http)
        evhttp_free(p->http);
    xb_creds_provider_free(p->creds); /* callbacks still queued are dropped */
    xb_curl_loop_free(p->curl);
    xb_proxy_cache_cleanup(&p->cache);
    for (int i = 0; i < XB_PROXY_OP_OTHER; i++)
        free(p->urls[i]);
    free(p->region);
    free(p->service);
    free(p->proxy);
    free(p->ca_file);
    free(p);
}
