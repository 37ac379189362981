#include "exporter/xray_exporter.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "exporter/batcher.h"
#include "exporter/credentials.h"
#include "exporter/curl_loop.h"
#include "exporter/sigv4.h"
#include "xb_version.h"

#define MAX_DOCS_PER_CALL 50 /* PutTraceSegments limit */
#define BACKOFF_BASE_MS 200u
#define BACKOFF_MAX_MS 10000u
#define MAX_RESPONSE_BYTES (1u << 20)

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
    struct event_base *base;
    struct xb_queue *q;
    struct xb_batcher batcher;
    struct xb_curl_loop *curl;
    struct xb_creds_owned creds;
    char *region;
    char *url;
    char *host; /* Host header value, signed */
    struct xb_xray_opts opts;
    struct request *inflight;
    size_t n_inflight;
    uint64_t backoff_until_ms; /* monotonic; no new sends before it */
    uint32_t consecutive_failures;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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

/* Extracts the value of the top-level "id" or "trace_id" key of a document. */
static void doc_field(const struct xb_qdoc *d, const char *key, char *out, size_t out_len)
{
    char pat[24];
    const char *p, *e;
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    out[0] = '\0';
    p = strstr(d->json, pat);
    if (!p)
        return;
    p += strlen(pat);
    e = strchr(p, '"');
    if (e && (size_t)(e - p) < out_len) {
        memcpy(out, p, (size_t)(e - p));
        out[e - p] = '\0';
    }
}

static struct xb_qdoc *find_doc(struct request *r, const char *id)
{
    char did[40];
    for (size_t i = 0; i < r->n; i++) {
        if (!r->docs[i])
            continue;
        doc_field(r->docs[i], "id", did, sizeof(did));
        if (strcmp(did, id) == 0)
            return r->docs[i];
    }
    return NULL;
}

/* Counts and logs UnprocessedTraceSegments; returns how many matched our docs. */
static size_t handle_unprocessed(struct request *r)
{
    cJSON *root = cJSON_ParseWithLength(r->resp.data ? r->resp.data : "", r->resp.len);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "UnprocessedTraceSegments");
    cJSON *item;
    size_t n = 0;

    cJSON_ArrayForEach(item, list)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Id"));
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "ErrorCode"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Message"));
        struct xb_qdoc *d = id ? find_doc(r, id) : NULL;
        char trace[40] = "";
        if (d)
            doc_field(d, "trace_id", trace, sizeof(trace));
        XB_WARN("xray", "segment %s (trace %s) unprocessed: %s %s", id ? id : "?",
                trace[0] ? trace : "?", code ? code : "?", msg ? msg : "");
        n++;
    }
    cJSON_Delete(root);
    return n;
}

static void flush(void *ud);

static void finish(struct request *r, CURLcode res)
{
    struct xb_xray_exporter *x = r->x;
    long status = 0;
    int retryable;

    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    unlink_request(x, r);
    xb_metrics.export_requests++;
    if (res == CURLE_OK && status == 200) {
        size_t unprocessed = handle_unprocessed(r);
        if (unprocessed > r->n)
            unprocessed = r->n;
        xb_metrics.unprocessed_documents += unprocessed;
        xb_metrics.sent_documents += r->n - unprocessed;
        xb_metrics.send_failed_documents += unprocessed;
        for (size_t i = 0; i < r->n; i++)
            xb_queue_done(x->q, r->docs[i]);
        x->consecutive_failures = 0;
        goto out;
    }
    xb_metrics.export_request_errors++;
    retryable = res != CURLE_OK || status == 429 || status >= 500;
    if (res != CURLE_OK)
        XB_WARN("xray", "PutTraceSegments failed: %s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
    else
        XB_WARN("xray", "PutTraceSegments answered HTTP %ld: %.300s", status,
                r->resp.data ? r->resp.data : "");
    if (retryable) {
        uint32_t delay;
        /* Put the batch back at the head, in its original order. */
        for (size_t i = r->n; i-- > 0;) {
            struct xb_qdoc *d = r->docs[i];
            if (++d->attempts > x->opts.max_retries) {
                char trace[40];
                doc_field(d, "trace_id", trace, sizeof(trace));
                XB_ERROR("xray", "giving up on a segment of trace %s after %u attempts", trace,
                         d->attempts);
                xb_metrics.send_failed_documents++;
                xb_queue_done(x->q, d);
            } else {
                xb_queue_requeue(x->q, d);
            }
        }
        x->consecutive_failures++;
        delay = BACKOFF_BASE_MS << (x->consecutive_failures < 6 ? x->consecutive_failures - 1 : 5);
        if (delay > BACKOFF_MAX_MS)
            delay = BACKOFF_MAX_MS;
        delay = delay / 2 + (uint32_t)(rand() % (int)(delay / 2 + 1)); /* jitter */
        if (!x->batcher.draining)
            x->backoff_until_ms = now_ms() + delay;
        xb_batcher_kick_after(&x->batcher, x->batcher.draining ? 0 : delay);
    } else {
        char trace[40];
        doc_field(r->docs[0], "trace_id", trace, sizeof(trace));
        XB_ERROR("xray", "dropping %zu documents rejected with HTTP %ld (first trace %s)", r->n,
                 status, trace);
        xb_metrics.send_failed_documents += r->n;
        for (size_t i = 0; i < r->n; i++)
            xb_queue_done(x->q, r->docs[i]);
    }
out:
    request_free(r, 0);
    xb_batcher_kick(&x->batcher);
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    finish(ud, result);
}

static int start_request(struct xb_xray_exporter *x)
{
    struct request *r = calloc(1, sizeof(*r));
    struct xb_sigv4_header sh[3];
    struct xb_sigv4_request sreq;
    struct xb_sigv4_result sig;
    struct xb_aws_creds creds = xb_creds_view(&x->creds);
    size_t nsh = 0;
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
        r->docs[r->n++] = d;
    }
    if (build_body(r))
        goto fail;

    sh[nsh++] = (struct xb_sigv4_header){"host", x->host};
    sh[nsh++] = (struct xb_sigv4_header){"content-type", "application/json"};
    if (creds.session_token)
        sh[nsh++] = (struct xb_sigv4_header){"x-amz-security-token", creds.session_token};
    sreq = (struct xb_sigv4_request){"POST", "/TraceSegments", NULL, sh, nsh, r->body.data,
                                     r->body.len};
    rc = xb_sigv4_sign(&sreq, x->region, "xray", &creds, time(NULL), &sig);
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
    if (creds.session_token) {
        struct curl_slist *t;
        size_t tl = strlen(creds.session_token) + 32;
        char *tok = malloc(tl);
        if (!tok)
            goto fail;
        snprintf(tok, tl, "X-Amz-Security-Token: %s", creds.session_token);
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
    return XB_OK;
fail:
    /* Nothing was sent: return the documents to the head of the queue. */
    for (size_t i = r->n; i-- > 0;)
        xb_queue_requeue(x->q, r->docs[i]);
    if (r->easy) {
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    request_free(r, 0);
    XB_ERROR("xray", "cannot build a PutTraceSegments request: %s", xb_strerror(rc));
    return rc;
}

static void flush(void *ud)
{
    struct xb_xray_exporter *x = ud;
    uint64_t now = now_ms();

    if (!x->batcher.draining && now < x->backoff_until_ms) {
        xb_batcher_kick_after(&x->batcher, (uint32_t)(x->backoff_until_ms - now));
        return;
    }
    while (x->n_inflight < x->opts.num_workers && xb_queue_waiting(x->q) > 0) {
        /* Partial batches go only when the timer fired or we are draining; flush is
         * called for exactly those cases or for a full batch. */
        if (start_request(x) != XB_OK) {
            xb_batcher_kick_after(&x->batcher, BACKOFF_BASE_MS);
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
        snprintf(err, err_len, "awsxray exporter: invalid endpoint \"%s\"", b.data);
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
    char akid[16];
    int rc;

    x = calloc(1, sizeof(*x));
    if (!x)
        return XB_ERR_NOMEM;
    x->base = base;
    x->q = q;
    x->opts = *opts;
    x->opts.ca_file = NULL; /* borrowed strings copied below where kept */
    x->opts.proxy = NULL;
    x->opts.endpoint = NULL;
    if (x->opts.num_workers == 0)
        x->opts.num_workers = 1;
    if (x->opts.batch_max_docs == 0 || x->opts.batch_max_docs > MAX_DOCS_PER_CALL)
        x->opts.batch_max_docs = MAX_DOCS_PER_CALL;
    rc = xb_creds_from_env(&x->creds);
    if (rc == XB_ERR_NOT_FOUND) {
        snprintf(err, err_len,
                 "awsxray exporter: no AWS credentials: set AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY (shared files, IRSA, container and instance "
                 "credentials are not supported yet)");
        rc = XB_ERR_CONFIG;
        goto fail;
    }
    if (rc)
        goto fail;
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
    rc = xb_batcher_init(&x->batcher, base, q, x->opts.batch_max_docs, x->opts.batch_timeout_ms,
                         flush, x);
    if (rc)
        goto fail;
    XB_INFO("xray", "awsxray exporter sending to %s (region %s, access key %s, %u workers)",
            x->url, x->region, xb_log_redact(x->creds.access_key_id, akid, sizeof(akid)),
            x->opts.num_workers);
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

size_t xb_xray_exporter_inflight(const struct xb_xray_exporter *x)
{
    return x ? x->n_inflight : 0;
}

void xb_xray_exporter_free(struct xb_xray_exporter *x)
{
    if (!x)
        return;
    while (x->inflight) {
        struct request *r = x->inflight;
        x->inflight = r->next;
        xb_metrics.send_failed_documents += r->n;
        for (size_t i = 0; i < r->n; i++)
            xb_queue_done(x->q, r->docs[i]);
        request_free(r, 1);
    }
    xb_batcher_cleanup(&x->batcher);
    xb_curl_loop_free(x->curl);
    xb_creds_cleanup(&x->creds);
    free(x->region);
    free(x->url);
    free(x->host);
    free((char *)x->opts.ca_file);
    free((char *)x->opts.proxy);
    free(x);
}
