#include "exporter/otlp_exporter.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/credentials.h"
#include "aws/curl_loop.h"
#include "aws/request.h"
#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "exporter/batcher.h"
#include "exporter/creds_cache.h"
#include "exporter/export_policy.h"
#include "exporter/exporter_metrics.h"
#include "exporter/http_call.h"
#include "exporter/otlp_outcome.h"
#include "exporter/send_pace.h"
#include "xb_version.h"

#define MAX_RECORDS_PER_CALL 1000
#define MAX_HEADERS 32
#define MAX_RESPONSE_BYTES (1u << 20)
#define DRAIN_MAX_BACKOFF_MS 1000u
#define LOG_EVERY_MS 10000u /* rate limit of partial_success / drop log lines */

/* ---- metrics (exporter="otlphttp") ----------------------------------------- */

static uint64_t m_requests, m_request_errors, m_retries, m_throttled, m_partial_rejected;

#define OTLP "exporter=\"otlphttp\""
#define ONE(n, t, h, v)                                                                            \
    {                                                                                              \
        .name = (n), .help = (h), .type = (t), .const_labels = OTLP, .values = &(v)                \
    }
static struct xb_metric_family families[] = {
    ONE("xraybridge_exporter_requests_total", XB_METRIC_COUNTER,
        "PutTraceSegments calls made, retries included.", m_requests),
    ONE("xraybridge_exporter_request_errors_total", XB_METRIC_COUNTER,
        "PutTraceSegments calls that failed (HTTP status >= 400 or transport).", m_request_errors),
    ONE("xraybridge_exporter_retries_total", XB_METRIC_COUNTER,
        "PutTraceSegments calls that retried an earlier failed call.", m_retries),
    ONE("xraybridge_exporter_throttled_total", XB_METRIC_COUNTER,
        "Responses that were throttling (HTTP 429 or ThrottledException).", m_throttled),
    ONE("xraybridge_exporter_partial_success_rejected_spans_total", XB_METRIC_COUNTER,
        "Spans an OTLP endpoint refused in a partial_success answer.", m_partial_rejected),
};

/* ---- state ------------------------------------------------------------------ */

struct request {
    struct xb_otlp_exporter *x;
    struct xb_http_call http; /* body: the records, gzipped when compressing */
    char retry_after[64];
    struct xb_qdoc *recs[MAX_RECORDS_PER_CALL];
    size_t n;
    uint64_t spans;
};

struct xb_otlp_exporter {
    struct xb_queue *q;
    struct xb_batcher batcher;
    struct xb_curl_loop *curl;
    struct xb_creds_provider *creds; /* NULL when not signing */
    /* Credentials shorter-lived than the provider's 5-minute margin are used for
     * XB_CREDS_REUSE_MS instead of being fetched again for every call. */
    struct xb_creds_cache cache;
    struct xb_otlp_opts opts; /* strings below are owned copies */
    char *url;
    char *sign_service, *sign_region, *ca_file;
    struct xb_sigv4_header hdrs[MAX_HEADERS + 2];
    size_t n_hdrs;
    char *hdr_store[MAX_HEADERS]; /* "Name\0value" per user header */
    struct xb_http_calls inflight;
    struct xb_retry_opts retry;
    struct xb_backoff backoff;
    struct xb_rng rng;
    struct xb_retry_book book;
    uint64_t last_log_ms;
    uint64_t quiet_logs; /* log lines suppressed by the rate limit */
};

static uint64_t now_ms(void)
{
    return xb_clock_mono_ns() / 1000000u;
}

/* Rate-limited warning: at most one line per LOG_EVERY_MS. */
static int may_log(struct xb_otlp_exporter *x)
{
    uint64_t now = now_ms();
    if (x->last_log_ms && now - x->last_log_ms < LOG_EVERY_MS) {
        x->quiet_logs++;
        return 0;
    }
    x->last_log_ms = now;
    return 1;
}

/* ---- request lifecycle ------------------------------------------------------ */

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct request *r = ud;
    size_t n = size * nmemb;

    xb_http_header_value(p, n, "retry-after:", r->retry_after, sizeof(r->retry_after));
    return n;
}

static void request_free(struct request *r, int in_loop)
{
    if (!r)
        return;
    xb_http_call_cleanup(&r->http, in_loop);
    free(r);
}

static void back_off(struct xb_otlp_exporter *x, uint64_t now, uint64_t min_delay_ms)
{
    xb_send_back_off(&x->batcher, &x->backoff, &x->retry, &x->rng, now, DRAIN_MAX_BACKOFF_MS,
                     min_delay_ms);
}

static void finish(struct request *r, CURLcode res)
{
    struct xb_otlp_exporter *x = r->x;
    uint64_t now = now_ms();
    struct xb_otlp_call c = {.retry_after_ms = -1};
    struct xb_retry_state st;
    struct xb_otlp_decision d;
    char msg[256] = "";

    c.status = xb_http_call_status(&r->http);
    xb_http_calls_unlink(&x->inflight, &r->http);
    c.transport_failed = res != CURLE_OK;
    if (r->retry_after[0])
        c.retry_after_ms = xb_otlp_retry_after_ms(r->retry_after, time(NULL));
    if (!c.transport_failed && c.status >= 200 && c.status < 300 &&
        xb_otlp_parse_response(r->http.resp.data, r->http.resp.len, &c.rejected_spans, msg,
                               sizeof(msg)))
        XB_DEBUG("otlphttp", "2xx answer body is not an ExportTraceServiceResponse");
    st = xb_retry_book_get(&x->book, r->recs[0]);
    xb_otlp_outcome_decide(&c, &st, now, &x->retry, &d);
    if (d.request_error) {
        m_request_errors++;
        xb_exporter_metrics.failed_calls[XB_EXPORTER_OTLPHTTP]++;
    }
    m_throttled += d.throttled != 0;
    switch (d.verdict) {
    case XB_OTLP_DELIVERED: {
        uint64_t rejected = d.rejected > r->spans ? r->spans : d.rejected;
        for (size_t i = 0; i < r->n; i++) {
            xb_retry_book_forget(&x->book, r->recs[i]);
            xb_queue_done(x->q, r->recs[i]);
        }
        xb_exporter_metrics.sent_documents[XB_EXPORTER_OTLPHTTP] += r->spans - rejected;
        xb_exporter_metrics.send_failed_documents[XB_EXPORTER_OTLPHTTP] += rejected;
        m_partial_rejected += rejected;
        if ((rejected || msg[0]) && may_log(x))
            XB_WARN("otlphttp", "partial success: %llu of %llu spans rejected: %.200s",
                    (unsigned long long)rejected, (unsigned long long)r->spans, msg);
        x->backoff.failures = 0;
        break;
    }
    case XB_OTLP_RETRY:
        if (may_log(x))
            XB_WARN("otlphttp", "export of %llu spans failed (%s %ld%s%s), retrying",
                    (unsigned long long)r->spans, c.transport_failed ? "transport" : "HTTP",
                    c.transport_failed ? 0L : c.status, c.transport_failed ? ": " : "",
                    c.transport_failed ? xb_http_call_error(&r->http, res) : "");
        /* One state for the call, kept on every record: they fail and retry together. */
        for (size_t i = r->n; i-- > 0;) {
            xb_retry_book_put(&x->book, r->recs[i], &st);
            xb_queue_requeue(x->q, r->recs[i]);
        }
        break;
    case XB_OTLP_DROP:
        XB_WARN("otlphttp", "dropping %llu spans: %s%ld %.200s", (unsigned long long)r->spans,
                d.why == XB_DROP_HTTP             ? "HTTP "
                : d.why == XB_DROP_RETRY_DISABLED ? "retry_on_failure disabled, last status "
                                                  : "max_elapsed_time passed, last status ",
                c.status, r->http.resp.data && c.status >= 300 ? r->http.resp.data : "");
        for (size_t i = 0; i < r->n; i++) {
            xb_retry_book_forget(&x->book, r->recs[i]);
            xb_queue_done(x->q, r->recs[i]);
        }
        xb_exporter_metrics.send_failed_documents[XB_EXPORTER_OTLPHTTP] += r->spans;
        break;
    }
    if (d.back_off)
        back_off(x, now, d.min_delay_ms);
    request_free(r, 0);
    xb_batcher_kick(&x->batcher);
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    (void)easy;
    finish(ud, result);
}

/* ---- sending ---------------------------------------------------------------- */

static void on_creds(void *ud, int rc, const struct xb_aws_creds *creds, const char *why)
{
    struct xb_otlp_exporter *x = ud;

    xb_creds_cache_done(&x->cache, rc, creds, now_ms());
    if (rc != XB_OK) {
        XB_ERROR("otlphttp", "no AWS credentials: %s", why ? why : xb_strerror(rc));
        m_request_errors++;
        xb_exporter_metrics.failed_calls[XB_EXPORTER_OTLPHTTP]++;
        back_off(x, now_ms(), 0);
        return;
    }
    xb_batcher_kick(&x->batcher);
}

/* Pops records for one call: stops at batch_max_records, max_request_bytes, max_spans.
 * A record whose bytes do not parse is dropped (counted, logged). */
static void take_records(struct xb_otlp_exporter *x, struct request *r)
{
    size_t bytes = 0;
    int retry = 0;

    while (r->n < x->opts.batch_max_records && r->n < MAX_RECORDS_PER_CALL) {
        struct xb_qdoc *d = xb_queue_pop(x->q);
        int64_t spans;
        if (!d)
            break;
        spans = xb_otlp_record_spans(d->json, d->len);
        if (spans < 0) {
            XB_WARN("otlphttp", "dropping a queued record of %zu bytes: not an OTLP request",
                    d->len);
            xb_exporter_metrics.send_failed_documents[XB_EXPORTER_OTLPHTTP]++;
            xb_retry_book_forget(&x->book, d);
            xb_queue_done(x->q, d);
            continue;
        }
        if (r->n > 0 &&
            ((x->opts.max_request_bytes && bytes + d->len > x->opts.max_request_bytes) ||
             (x->opts.max_spans && r->spans + (uint64_t)spans > x->opts.max_spans))) {
            xb_queue_requeue(x->q, d); /* next call */
            break;
        }
        retry |= xb_retry_book_get(&x->book, d).attempts > 0;
        r->recs[r->n++] = d;
        r->spans += (uint64_t)spans;
        bytes += d->len;
    }
    if (retry)
        m_retries++;
}

static int start_request(struct xb_otlp_exporter *x, const struct xb_aws_creds *creds)
{
    struct request *r = calloc(1, sizeof(*r));
    struct xb_aws_request req;
    int rc = XB_ERR_NOMEM;

    if (!r)
        return XB_ERR_NOMEM;
    r->x = x;
    xb_http_call_init(&r->http, x->curl, r, MAX_RESPONSE_BYTES);
    take_records(x, r);
    if (r->n == 0) {
        request_free(r, 0);
        return XB_OK;
    }
    if (xb_otlp_records_body(r->recs, r->n, x->opts.gzip, &r->http.body))
        goto fail;
    req = (struct xb_aws_request){
        .method = "POST",
        .url = x->url,
        .headers = x->hdrs,
        .n_headers = x->n_hdrs,
        .sign = {x->creds ? x->sign_service : NULL, x->sign_region, creds, time(NULL)},
        .connect_timeout_ms = x->opts.timeout_ms < 10000 ? x->opts.timeout_ms : 10000,
        .timeout_ms = x->opts.timeout_ms,
        .user_agent = "xraybridge/" XB_VERSION,
        .ca_file = x->ca_file,
        .tls_no_verify = x->opts.insecure_skip_verify,
    };
    rc = xb_http_call_build(&r->http, &req, on_header, r);
    if (rc)
        goto fail;
    rc = xb_http_call_add(&r->http, &x->inflight, on_done, r);
    if (rc)
        goto fail;
    m_requests++;
    return XB_OK;
fail:
    xb_docs_requeue(x->q, r->recs, r->n);
    request_free(r, 0);
    XB_ERROR("otlphttp", "cannot build an export request: %s", xb_strerror(rc));
    return rc;
}

static void flush(void *ud)
{
    struct xb_otlp_exporter *x = ud;
    const struct xb_aws_creds *creds = NULL;
    uint64_t now = now_ms();

    if (!xb_send_may_flush(&x->batcher, &x->backoff, x->q, x->cache.pending, now))
        return;
    if (x->creds) {
        creds = xb_creds_cache_pick(&x->cache, now);
        if (!creds) {
            if (xb_creds_cache_fetch(&x->cache, on_creds, x) != XB_OK)
                back_off(x, now, 0);
            return;
        }
    }
    while (x->inflight.n < x->opts.num_consumers && xb_queue_waiting(x->q) > 0) {
        if (start_request(x, creds) != XB_OK) {
            back_off(x, now, 0);
            return;
        }
    }
}

/* ---- public ------------------------------------------------------------------- */

static int set_headers(struct xb_otlp_exporter *x, const struct xb_otlp_opts *o, char *err,
                       size_t err_len)
{
    x->hdrs[x->n_hdrs++] = (struct xb_sigv4_header){"Content-Type", "application/x-protobuf"};
    if (o->gzip)
        x->hdrs[x->n_hdrs++] = (struct xb_sigv4_header){"Content-Encoding", "gzip"};
    if (o->n_headers > MAX_HEADERS) {
        snprintf(err, err_len, "otlphttp exporter: at most %d headers", MAX_HEADERS);
        return XB_ERR_CONFIG;
    }
    for (size_t i = 0; i < o->n_headers; i++) {
        char *s = strdup(o->headers[i]);
        char *colon = s ? strchr(s, ':') : NULL;
        if (!s)
            return XB_ERR_NOMEM;
        x->hdr_store[i] = s;
        if (!colon) {
            snprintf(err, err_len, "otlphttp exporter: header without a value");
            return XB_ERR_CONFIG;
        }
        *colon = '\0';
        colon++;
        while (*colon == ' ')
            colon++;
        x->hdrs[x->n_hdrs++] = (struct xb_sigv4_header){s, colon};
    }
    return XB_OK;
}

int xb_otlp_exporter_start(struct event_base *base, struct xb_queue *q,
                           const struct xb_otlp_opts *opts, struct xb_otlp_exporter **out,
                           char *err, size_t err_len)
{
    struct xb_otlp_exporter *x = calloc(1, sizeof(*x));
    int rc = XB_ERR_NOMEM;

    if (!x)
        return XB_ERR_NOMEM;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        (void)xb_metrics_register(&families[i]);
    x->q = q;
    x->opts = *opts;
    x->opts.headers = NULL;
    if (x->opts.num_consumers == 0)
        x->opts.num_consumers = 1;
    if (x->opts.batch_max_records == 0 || x->opts.batch_max_records > MAX_RECORDS_PER_CALL)
        x->opts.batch_max_records = MAX_RECORDS_PER_CALL;
    x->retry = (struct xb_retry_opts){opts->retry_enabled, opts->retry_initial_ms,
                                      opts->retry_max_ms, opts->retry_max_elapsed_ms};
    xb_rng_seed(&x->rng);
    x->url = strdup(opts->url);
    if (!x->url)
        goto fail;
    if (opts->ca_file && *opts->ca_file && !(x->ca_file = strdup(opts->ca_file)))
        goto fail;
    if (strncmp(x->url, "http://", 7) != 0 && strncmp(x->url, "https://", 8) != 0) {
        snprintf(err, err_len, "otlphttp exporter: endpoint must be http:// or https://");
        rc = XB_ERR_CONFIG;
        goto fail;
    }
    rc = set_headers(x, opts, err, err_len);
    if (rc)
        goto fail;
    rc = XB_ERR_NOMEM;
    x->curl = xb_curl_loop_new(base, (long)x->opts.num_consumers);
    if (!x->curl)
        goto fail;
    if (opts->sign_service) {
        struct xb_creds_provider_opts co = {.region = opts->sign_region,
                                            .role_arn = opts->role_arn,
                                            .role_session_name = opts->role_session_name,
                                            .ca_file = opts->ca_file};
        x->sign_service = strdup(opts->sign_service);
        x->sign_region = strdup(opts->sign_region ? opts->sign_region : "");
        if (!x->sign_service || !x->sign_region)
            goto fail;
        rc = xb_creds_provider_new(base, x->curl, &co, &x->creds, err, err_len);
        if (rc)
            goto fail;
        x->cache.provider = x->creds;
    }
    rc = xb_batcher_init(&x->batcher, base, q, x->opts.batch_max_records, x->opts.batch_timeout_ms,
                         flush, x);
    if (rc)
        goto fail;
    {
        char shown[512];
        XB_INFO("otlphttp", "otlphttp exporter sending to %s (%s%s%s, %u in flight, %s)",
                xb_url_redact(x->url, shown, sizeof(shown)), x->creds ? "SigV4 " : "unsigned",
                x->creds ? x->sign_service : "", x->creds ? "" : "", x->opts.num_consumers,
                opts->gzip ? "gzip" : "uncompressed");
        xb_url_warn_if_cleartext("otlphttp", "OTLP endpoint", x->url);
    }
    *out = x;
    return XB_OK;
fail:
    xb_otlp_exporter_free(x);
    return rc;
}

void xb_otlp_exporter_drain(struct xb_otlp_exporter *x)
{
    if (!x)
        return;
    xb_send_drain(&x->batcher, &x->backoff);
}

void xb_otlp_exporter_free(struct xb_otlp_exporter *x)
{
    if (!x)
        return;
    while (x->inflight.head) {
        struct request *r = x->inflight.head->owner;
        xb_http_calls_unlink(&x->inflight, &r->http);
        xb_exporter_metrics.send_failed_documents[XB_EXPORTER_OTLPHTTP] += r->spans;
        xb_docs_done(x->q, r->recs, r->n);
        request_free(r, 1);
    }
    if (x->quiet_logs)
        XB_INFO("otlphttp", "%llu warnings were not logged (rate limit)",
                (unsigned long long)x->quiet_logs);
    xb_batcher_cleanup(&x->batcher);
    xb_retry_book_cleanup(&x->book);
    xb_creds_provider_free(x->creds);
    xb_curl_loop_free(x->curl);
    for (size_t i = 0; i < MAX_HEADERS; i++)
        free(x->hdr_store[i]);
    free(x->url);
    free(x->ca_file);
    free(x->sign_service);
    free(x->sign_region);
    free(x);
}
