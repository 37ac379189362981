#include "exporter/xray_exporter.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "exporter/batcher.h"
#include "exporter/credentials.h"
#include "exporter/curl_loop.h"
#include "exporter/export_policy.h"
#include "exporter/exporter_metrics.h"
#include "exporter/sigv4.h"
#include "xb_version.h"

#define MAX_DOCS_PER_CALL 50 /* PutTraceSegments limit */
#define MAX_RESPONSE_BYTES (1u << 20)
#define DRAIN_MAX_BACKOFF_MS 1000u /* while shutting down, retry at least this often */
#define CREDS_REUSE_MS 30000u       /* refetch short-lived credentials at most this often */
#define CREDS_MIN_LEFT_S 60         /* ... and only while they have this long left */

struct request {
    struct xb_xray_exporter *x;
    CURL *easy;
    struct curl_slist *headers;
    struct xb_buf body;
    struct xb_buf resp;
    struct xb_qdoc *docs[MAX_DOCS_PER_CALL];
    size_t n;
    char errbuf[CURL_ERROR_SIZE];
    struct request *next;
};

struct xb_xray_exporter {
    struct xb_queue *q;
    struct xb_batcher batcher;
    struct xb_curl_loop *curl;
    struct xb_creds_provider *creds;
    int creds_pending;       /* a credential fetch is under way; sending waits for it */
    /* View from the last successful fetch: valid until our next xb_creds_provider_get()
     * (only this exporter refreshes its provider). Lets short-lived credentials (less
     * than the provider's 5-minute margin) be used instead of refetching every flush. */
    const struct xb_aws_creds *last_creds;
    uint64_t last_fetch_ms;
    char *region;
    char *url;
    char *host; /* Host header value, signed */
    struct xb_xray_opts opts;
    struct request *inflight;
    size_t n_inflight;
    uint64_t backoff_until_ms; /* monotonic; no new sends before it */
    uint32_t consecutive_failures;
    struct xb_rng rng; /* retry jitter, seeded per process */
};

static uint64_t now_ms(void)
{
    return xb_clock_mono_ns() / 1000000u;
}

/* ---- request body -------------------------------------------------------- */

/* Appends |s| as the contents of a JSON string (without quotes). */
static int append_json_escaped(struct xb_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    int rc;

    rc = xb_buf_reserve(b, len + len / 8 + 16);
    if (rc)
        return rc;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t el;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = xb_buf_append(b, s + start, i - start)))
            return rc;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            el = 2;
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        if ((rc = xb_buf_append(b, esc, el)))
            return rc;
        start = i + 1;
    }
    return xb_buf_append(b, s + start, len - start);
}

static int build_body(struct request *r)
{
    int rc = xb_buf_puts(&r->body, "{\"TraceSegmentDocuments\":[");
    for (size_t i = 0; i < r->n && rc == XB_OK; i++) {
        rc = xb_buf_puts(&r->body, i ? ",\"" : "\"");
        if (rc == XB_OK)
            rc = append_json_escaped(&r->body, r->docs[i]->json, r->docs[i]->len);
        if (rc == XB_OK)
            rc = xb_buf_putc(&r->body, '"');
    }
    if (rc == XB_OK)
        rc = xb_buf_puts(&r->body, "]}");
    return rc;
}

/* ---- request lifecycle --------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct request *r = ud;
    size_t n = size * nmemb;
    if (r->resp.len + n > MAX_RESPONSE_BYTES)
        return n; /* ignore an absurd response rather than fail the transfer */
    if (xb_buf_append(&r->resp, p, n))
        return 0;
    return n;
}

/* Frees |r|; an unfinished transfer is removed from the loop first. */
static void request_free(struct request *r, int in_loop)
{
    if (!r)
        return;
    if (r->easy) {
        if (in_loop)
            xb_curl_loop_remove(r->x->curl, r->easy);
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->headers);
    xb_buf_cleanup(&r->body);
    xb_buf_cleanup(&r->resp);
    free(r);
}

static void unlink_request(struct xb_xray_exporter *x, struct request *r)
{
    for (struct request **pp = &x->inflight; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            x->n_inflight--;
            return;
        }
    }
}

/* The document of |r| whose own segment id is |id| (never a match in its text). */
static struct xb_qdoc *find_doc(struct request *r, const char *id)
{
    long i = xb_qdoc_find_id(r->docs, r->n, id);
    return i < 0 ? NULL : r->docs[i];
}

/* ---- outcomes ------------------------------------------------------------- */

/* X-Ray refused |d| for good: count it by |reason| and log it with its trace id. */
static void give_up(struct xb_xray_exporter *x, struct xb_qdoc *d, enum xb_reject_reason reason,
                    const char *why)
{
    XB_WARN("xray", "dropping segment %s of trace %s (%s): %s", d->id[0] ? d->id : "?",
            d->trace_id[0] ? d->trace_id : "?", xb_exporter_reject_label(reason), why);
    xb_exporter_metrics.rejected_documents[reason]++;
    xb_exporter_metrics.send_failed_documents[XB_EXPORTER_AWSXRAY]++;
    xb_queue_done(x->q, d);
}

/*
 * A retryable failure of |d|: back to the head of the queue, unless retrying is off or
 * it has been failing for longer than retry_max_elapsed_ms.
 */
static void retry_later(struct xb_xray_exporter *x, struct xb_qdoc *d, uint64_t now)
{
    d->attempts++;
    if (!d->failing_since_ms)
        d->failing_since_ms = now;
    if (!x->opts.retry_enabled) {
        give_up(x, d, XB_REJECT_GIVEN_UP_MAX_ELAPSED, "retry_on_failure is disabled");
        return;
    }
    if (x->opts.retry_max_elapsed_ms && now - d->failing_since_ms > x->opts.retry_max_elapsed_ms) {
        give_up(x, d, XB_REJECT_GIVEN_UP_MAX_ELAPSED, "retry_on_failure.max_elapsed_time passed");
        return;
    }
    xb_queue_requeue(x->q, d);
}

/* Pauses sending for an exponential, jittered delay after a failure. */
static void back_off(struct xb_xray_exporter *x, uint64_t now)
{
    uint64_t delay;

    /* Calls that were in flight together fail together: only the first failure of a
     * round grows the delay, or one short blip would push it straight to the max. */
    if (now < x->backoff_until_ms)
        return;

    delay = xb_backoff_ms(x->opts.retry_initial_ms, x->opts.retry_max_ms, x->consecutive_failures,
                          x->batcher.draining ? DRAIN_MAX_BACKOFF_MS : 0, xb_rng_next(&x->rng));
    x->consecutive_failures++;
    if (delay > UINT32_MAX)
        delay = UINT32_MAX;
    x->backoff_until_ms = now + delay;
    xb_batcher_kick_after(&x->batcher, (uint32_t)delay);
}

/* UnprocessedTraceSegments error codes worth another attempt. */
static int unprocessed_retryable(const char *code)
{
    static const char *const retryable[] = {"Throttl", "Internal", "Unavailable", "Timeout",
                                            "TooMany", "SlowDown"};
    if (!code)
        return 0;
    for (size_t i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++)
        if (strstr(code, retryable[i]))
            return 1;
    /* Numeric codes: 429 and 5xx are transient. */
    return strcmp(code, "429") == 0 || (code[0] == '5' && strlen(code) == 3);
}

/*
 * Successful call: documents listed in UnprocessedTraceSegments are retried or
 * dropped by error code, the rest are delivered. Returns non-zero when X-Ray asked us
 * to slow down (a throttling code), so the caller backs off.
 */
static int handle_success(struct request *r, uint64_t now)
{
    struct xb_xray_exporter *x = r->x;
    cJSON *root = cJSON_ParseWithLength(r->resp.data ? r->resp.data : "", r->resp.len);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "UnprocessedTraceSegments");
    cJSON *item;
    int throttled = 0;

    cJSON_ArrayForEach(item, list)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Id"));
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "ErrorCode"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Message"));
        struct xb_qdoc *d = id ? find_doc(r, id) : NULL;
        char why[256];

        xb_metrics_count_unprocessed(code ? code : "", 1); /* total and by code */
        if (!d)
            continue; /* an id we did not send: nothing to account for */
        for (size_t i = 0; i < r->n; i++)
            if (r->docs[i] == d)
                r->docs[i] = NULL; /* handled here, not delivered */
        if (unprocessed_retryable(code)) {
            if (code && strstr(code, "Throttl")) {
                xb_exporter_metrics.export_throttled++;
                throttled = 1;
            }
            retry_later(x, d, now);
        } else {
            snprintf(why, sizeof(why), "UnprocessedTraceSegments %s: %s", code ? code : "?",
                     msg ? msg : "");
            give_up(x, d, XB_REJECT_UNPROCESSED_NON_RETRYABLE, why);
        }
    }
    cJSON_Delete(root);
    for (size_t i = 0; i < r->n; i++) {
        if (!r->docs[i])
            continue;
        xb_exporter_metrics.sent_documents[XB_EXPORTER_AWSXRAY]++;
        xb_queue_done(x->q, r->docs[i]);
    }
    return throttled;
}

/* HTTP statuses that retrying can fix: throttling, server errors, and 401/403, which
 * are usually expired or not-yet-valid credentials or clock skew. */
static int status_retryable(long status)
{
    return status == 429 || status >= 500 || status == 401 || status == 403 || status == 408;
}

static void finish(struct request *r, CURLcode res)
{
    struct xb_xray_exporter *x = r->x;
    uint64_t now = now_ms();
    long status = 0;

    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    unlink_request(x, r);
    if (res == CURLE_OK && status == 200) {
        if (handle_success(r, now))
            back_off(x, now);
        else
            x->consecutive_failures = 0;
        goto out;
    }
    xb_exporter_metrics.export_request_errors++;
    if (res != CURLE_OK)
        XB_WARN("xray", "PutTraceSegments failed: %s",
                r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
    else
        XB_WARN("xray", "PutTraceSegments answered HTTP %ld: %.300s", status,
                r->resp.data ? r->resp.data : "");
    if (res != CURLE_OK || status_retryable(status)) {
        if (status == 429)
            xb_exporter_metrics.export_throttled++;
        /* Back at the head of the queue, in their original order. */
        for (size_t i = r->n; i-- > 0;)
            retry_later(x, r->docs[i], now);
        back_off(x, now);
    } else if (r->n > 1) {
        /* 400/413 for a batch: one document is probably at fault. Resend each alone
         * so only the one X-Ray refuses is dropped. */
        for (size_t i = r->n; i-- > 0;) {
            r->docs[i]->solo = 1;
            xb_queue_requeue(x->q, r->docs[i]);
        }
    } else {
        char why[400];
        snprintf(why, sizeof(why), "HTTP %ld: %.300s", status, r->resp.data ? r->resp.data : "");
        give_up(x, r->docs[0], XB_REJECT_HTTP_4XX, why);
    }
out:
    request_free(r, 0);
    xb_batcher_kick(&x->batcher);
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    finish(ud, result);
}

/* ---- sending -------------------------------------------------------------- */

static void on_creds(void *ud, int rc, const struct xb_aws_creds *creds, const char *why)
{
    struct xb_xray_exporter *x = ud;

    x->creds_pending = 0;
    if (rc == XB_OK) {
        x->last_creds = creds;
        x->last_fetch_ms = now_ms();
    }
    xb_exporter_metrics.credential_refreshes = xb_creds_provider_refreshes(x->creds);
    xb_exporter_metrics.credential_refresh_failures = xb_creds_provider_refresh_failures(x->creds);
    xb_exporter_metrics.credential_expiry_unix_s = (uint64_t)xb_creds_provider_expiration(x->creds);
    if (rc != XB_OK) {
        XB_ERROR("xray", "no AWS credentials: %s", why ? why : xb_strerror(rc));
        xb_exporter_metrics.export_request_errors++;
        back_off(x, now_ms());
        return;
    }
    XB_DEBUG("xray", "credentials from %s", xb_creds_provider_source(x->creds));
    xb_batcher_kick(&x->batcher);
}

/* First fetch at start-up: also says where the credentials came from. */
static void on_start_creds(void *ud, int rc, const struct xb_aws_creds *creds, const char *why)
{
    struct xb_xray_exporter *x = ud;
    char akid[16];

    if (rc == XB_OK)
        XB_INFO("xray", "AWS credentials from %s (access key %s)",
                xb_creds_provider_source(x->creds),
                xb_log_redact(creds->access_key_id, akid, sizeof(akid)));
    on_creds(ud, rc, creds, why);
}

/* Signs and starts one PutTraceSegments call with |creds|. Returns 0, or an error with
 * the documents back in the queue. */
static int start_request(struct xb_xray_exporter *x, const struct xb_aws_creds *creds)
{
    struct request *r = calloc(1, sizeof(*r));
    struct xb_sigv4_header sh[3];
    struct xb_sigv4_request sreq;
    struct xb_sigv4_result sig;
    size_t nsh = 0;
    int retry = 0;
    char line[1200];
    int rc = XB_ERR_NOMEM;

    if (!r)
        return XB_ERR_NOMEM;
    r->x = x;
    xb_buf_init(&r->body, 0);
    xb_buf_init(&r->resp, 0);
    while (r->n < x->opts.batch_max_docs) {
        struct xb_qdoc *d = xb_queue_pop(x->q);
        if (!d)
            break;
        if (d->solo && r->n > 0) {
            xb_queue_requeue(x->q, d); /* goes alone, in the next call */
            break;
        }
        r->docs[r->n++] = d;
        retry |= d->attempts > 0;
        if (d->solo)
            break;
    }
    if (retry)
        xb_exporter_metrics.export_retries++;
    if (build_body(r))
        goto fail;

    sh[nsh++] = (struct xb_sigv4_header){"host", x->host};
    sh[nsh++] = (struct xb_sigv4_header){"content-type", "application/json"};
    if (creds->session_token && *creds->session_token)
        sh[nsh++] = (struct xb_sigv4_header){"x-amz-security-token", creds->session_token};
    sreq = (struct xb_sigv4_request){"POST", "/TraceSegments", NULL, sh, nsh, r->body.data,
                                     r->body.len};
    rc = xb_sigv4_sign(&sreq, x->region, "xray", creds, time(NULL), &sig);
    if (rc)
        goto fail;
    rc = XB_ERR_NOMEM;
#define ADD_HEADER(...)                                                                            \
    do {                                                                                           \
        struct curl_slist *t;                                                                      \
        snprintf(line, sizeof(line), __VA_ARGS__);                                                 \
        t = curl_slist_append(r->headers, line);                                                   \
        if (!t)                                                                                    \
            goto fail;                                                                             \
        r->headers = t;                                                                            \
    } while (0)
    ADD_HEADER("Host: %s", x->host);
    ADD_HEADER("Content-Type: application/json");
    ADD_HEADER("X-Amz-Date: %s", sig.amz_date);
    if (creds->session_token && *creds->session_token) {
        struct curl_slist *t;
        size_t tl = strlen(creds->session_token) + 32;
        char *tok = malloc(tl);
        if (!tok)
            goto fail;
        snprintf(tok, tl, "X-Amz-Security-Token: %s", creds->session_token);
        t = curl_slist_append(r->headers, tok);
        free(tok);
        if (!t)
            goto fail;
        r->headers = t;
    }
    ADD_HEADER("Authorization: %s", sig.authorization);
    ADD_HEADER("Expect:"); /* no 100-continue round trip */
#undef ADD_HEADER

    r->easy = curl_easy_init();
    if (!r->easy)
        goto fail;
    curl_easy_setopt(r->easy, CURLOPT_URL, x->url);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body.data);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, (long)x->opts.request_timeout_s);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "xraybridge/" XB_VERSION);
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (x->opts.no_verify_ssl) {
        curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (x->opts.ca_file && *x->opts.ca_file)
        curl_easy_setopt(r->easy, CURLOPT_CAINFO, x->opts.ca_file);
    if (x->opts.proxy && *x->opts.proxy)
        curl_easy_setopt(r->easy, CURLOPT_PROXY, x->opts.proxy);
    if (xb_curl_loop_add(x->curl, r->easy, on_done, r) != XB_OK)
        goto fail;
    r->next = x->inflight;
    x->inflight = r;
    x->n_inflight++;
    xb_exporter_metrics.export_requests++;
    return XB_OK;
fail:
    /* Nothing was sent: return the documents to the head of the queue. */
    for (size_t i = r->n; i-- > 0;)
        xb_queue_requeue(x->q, r->docs[i]);
    request_free(r, 0);
    XB_ERROR("xray", "cannot build a PutTraceSegments request: %s", xb_strerror(rc));
    return rc;
}

static void flush(void *ud)
{
    struct xb_xray_exporter *x = ud;
    const struct xb_aws_creds *creds;
    uint64_t now = now_ms();

    if (now < x->backoff_until_ms) {
        xb_batcher_kick_after(&x->batcher, (uint32_t)(x->backoff_until_ms - now));
        return;
    }
    if (xb_queue_waiting(x->q) == 0 || x->creds_pending)
        return;
    creds = xb_creds_provider_current(x->creds);
    if (!creds && x->last_creds && now - x->last_fetch_ms < CREDS_REUSE_MS &&
        xb_creds_provider_expiration(x->creds) > (int64_t)time(NULL) + CREDS_MIN_LEFT_S)
        creds = x->last_creds; /* fetched a moment ago, just short-lived: use it */
    if (!creds) {
        /* Fetch or refresh without blocking; on_creds kicks the batcher again. */
        x->last_creds = NULL; /* the refresh invalidates the old view */
        x->creds_pending = 1;
        if (xb_creds_provider_get(x->creds, on_creds, x) != XB_OK) {
            x->creds_pending = 0;
            back_off(x, now);
        }
        return;
    }
    while (x->n_inflight < x->opts.num_workers && xb_queue_waiting(x->q) > 0) {
        if (start_request(x, creds) != XB_OK) {
            back_off(x, now);
            return;
        }
    }
}

/* ---- public -------------------------------------------------------------- */

static int set_endpoint(struct xb_xray_exporter *x, const char *endpoint, char *err,
                        size_t err_len)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *scheme = NULL;
    struct xb_buf b;
    int rc = XB_ERR_CONFIG;

    xb_buf_init(&b, 0);
    if (!u)
        return XB_ERR_NOMEM;
    if (endpoint && *endpoint) {
        xb_buf_puts(&b, endpoint);
    } else {
        xb_buf_printf(&b, "https://xray.%s.amazonaws.com", x->region);
    }
    while (b.len && b.data[b.len - 1] == '/')
        b.data[--b.len] = '\0';
    if (curl_url_set(u, CURLUPART_URL, b.data, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        char shown[512];
        snprintf(err, err_len, "awsxray exporter: invalid endpoint \"%s\"",
                 xb_url_redact(b.data, shown, sizeof(shown)));
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(err, err_len, "awsxray exporter: endpoint must be http:// or https://");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* only when given explicitly */
    rc = XB_ERR_NOMEM;
    x->host = malloc(strlen(host) + (port ? strlen(port) + 2 : 1));
    if (!x->host)
        goto out;
    sprintf(x->host, port ? "%s:%s" : "%s", host, port);
    if (xb_buf_puts(&b, "/TraceSegments"))
        goto out;
    x->url = xb_buf_steal(&b, NULL);
    rc = XB_OK;
out:
    curl_free(host);
    curl_free(port);
    curl_free(scheme);
    curl_url_cleanup(u);
    xb_buf_cleanup(&b);
    return rc;
}

int xb_xray_exporter_start(struct event_base *base, struct xb_queue *q,
                           const struct xb_xray_opts *opts, struct xb_xray_exporter **out,
                           char *err, size_t err_len)
{
    struct xb_xray_exporter *x;
    int rc;

    x = calloc(1, sizeof(*x));
    if (!x)
        return XB_ERR_NOMEM;
    x->q = q;
    xb_rng_seed(&x->rng);
    x->opts = *opts;
    x->opts.ca_file = NULL; /* borrowed strings copied below where kept */
    x->opts.proxy = NULL;
    x->opts.endpoint = NULL;
    if (x->opts.num_workers == 0)
        x->opts.num_workers = 1;
    if (x->opts.batch_max_docs == 0 || x->opts.batch_max_docs > MAX_DOCS_PER_CALL)
        x->opts.batch_max_docs = MAX_DOCS_PER_CALL;
    rc = XB_ERR_NOMEM;
    x->region = strdup(opts->region);
    if (opts->ca_file && *opts->ca_file && !(x->opts.ca_file = strdup(opts->ca_file)))
        goto fail;
    if (opts->proxy && *opts->proxy && !(x->opts.proxy = strdup(opts->proxy)))
        goto fail;
    if (!x->region)
        goto fail;
    rc = set_endpoint(x, opts->endpoint, err, err_len);
    if (rc)
        goto fail;
    rc = XB_ERR_NOMEM;
    x->curl = xb_curl_loop_new(base, (long)x->opts.num_workers);
    if (!x->curl)
        goto fail;
    {
        struct xb_creds_provider_opts co = {
            .region = x->region,
            .role_arn = opts->role_arn,
            .profile = opts->profile,
            .ca_file = opts->ca_file,
            .proxy = opts->proxy,
        };
        rc = xb_creds_provider_new(base, x->curl, &co, &x->creds, err, err_len);
        if (rc)
            goto fail;
    }
    rc = xb_batcher_init(&x->batcher, base, q, x->opts.batch_max_docs, x->opts.batch_timeout_ms,
                         flush, x);
    if (rc)
        goto fail;
    /* Fetch credentials now, so a broken chain shows in the log at start-up; sending
     * waits for this fetch (creds_pending). */
    x->creds_pending = 1;
    if (xb_creds_provider_get(x->creds, on_start_creds, x) != XB_OK)
        x->creds_pending = 0;
    {
        char url[512], proxy[512];
        XB_INFO("xray", "awsxray exporter sending to %s (region %s, %u workers%s%s)",
                xb_url_redact(x->url, url, sizeof(url)), x->region, x->opts.num_workers,
                x->opts.proxy ? ", proxy " : "",
                x->opts.proxy ? xb_url_redact(x->opts.proxy, proxy, sizeof(proxy)) : "");
        xb_warn_if_cleartext("xray", "X-Ray endpoint", x->url);
        if (x->opts.no_verify_ssl)
            XB_WARN("xray", "no_verify_ssl: the X-Ray endpoint's TLS certificate is not "
                            "verified (STS and credential endpoints still are)");
    }
    *out = x;
    return XB_OK;
fail:
    xb_xray_exporter_free(x);
    return rc;
}

void xb_xray_exporter_drain(struct xb_xray_exporter *x)
{
    if (!x)
        return;
    x->backoff_until_ms = 0;
    xb_batcher_drain(&x->batcher);
}

void xb_xray_exporter_free(struct xb_xray_exporter *x)
{
    if (!x)
        return;
    while (x->inflight) {
        struct request *r = x->inflight;
        x->inflight = r->next;
        xb_exporter_metrics.send_failed_documents[XB_EXPORTER_AWSXRAY] += r->n;
        for (size_t i = 0; i < r->n; i++)
            xb_queue_done(x->q, r->docs[i]);
        request_free(r, 1);
    }
    xb_batcher_cleanup(&x->batcher);
    xb_creds_provider_free(x->creds);
    xb_curl_loop_free(x->curl);
    free(x->region);
    free(x->url);
    free(x->host);
    free((char *)x->opts.ca_file);
    free((char *)x->opts.proxy);
    free(x);
}
