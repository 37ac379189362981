#include "exporter/xray_exporter.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stddef.h>
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
#include "core/jsonw.h"
#include "core/log.h"
#include "exporter/batcher.h"
#include "exporter/creds_cache.h"
#include "exporter/export_policy.h"
#include "exporter/exporter_metrics.h"
#include "exporter/http_call.h"
#include "exporter/outcome.h"
#include "exporter/send_pace.h"
#include "exporter/xray_body.h"
#include "xb_version.h"

#define MAX_DOCS_PER_CALL 50 /* PutTraceSegments limit */
#define MAX_RESPONSE_BYTES (1u << 20)
#define DRAIN_MAX_BACKOFF_MS 1000u         /* while shutting down, retry at least this often */
#define BODY_SPARE_MAX_BYTES (256u * 1024) /* larger bodies are freed after their call */
#define RESP_SPARE_MAX_BYTES 4096u         /* larger response buffers are freed after their call */

_Static_assert(MAX_DOCS_PER_CALL <= XB_OUTCOME_MAX_DOCS, "a call's documents fit one outcome");

struct request {
    struct xb_xray_exporter *x;
    struct xb_http_call http; /* body, response, libcurl handle */
    struct xb_qdoc *docs[MAX_DOCS_PER_CALL];
    size_t n;
    size_t n_pieces;
    /* The body as |n_pieces| pieces pointing into |docs| (exporter/xray_body.h), when
     * it is sent that way: then |http.body| stays empty. Last, and not zeroed when the
     * request is allocated (1.6 KB; only the first n_pieces are ever read). */
    struct xb_piece pieces[XB_XRAY_BODY_PIECES(MAX_DOCS_PER_CALL)];
};

struct xb_xray_exporter {
    struct xb_queue *q;
    struct xb_batcher batcher;
    struct xb_curl_loop *curl;
    struct xb_creds_provider *creds;
    /* Lets short-lived credentials (less than the provider's 5-minute margin) be used
     * instead of refetching every flush; its pending flag holds sending during a fetch. */
    struct xb_creds_cache cache;
    char *region;
    char *url;
    struct xb_xray_opts opts;
    struct xb_http_calls inflight;
    struct xb_retry_opts retry;   /* retry_on_failure, from opts */
    struct xb_backoff backoff;    /* shared by every call */
    struct xb_rng rng;            /* retry jitter, seeded per process */
    struct xb_retry_book book;    /* retry state of documents that failed, by address */
    struct xb_easy_spares spares; /* finished libcurl handles, set up again per call */
    struct xb_body_spares bodies; /* finished calls' body buffers, written again */
    /* Finished request records (with their response buffers) kept for the next calls,
     * at most num_workers: no more are ever in flight at once. */
    struct request **req_spares;
    size_t n_req_spares;
};

static uint64_t now_ms(void)
{
    return xb_clock_mono_ns() / 1000000u;
}

/* ---- request body -------------------------------------------------------- */

static int build_body(struct request *r)
{
    struct xb_buf *body = &r->http.body;
    size_t want = 32;
    int rc;

    /* Room for every document plus a typical share of escapes (about one '"' in ten
     * bytes) for plain ones: the body is usually allocated once. */
    for (size_t i = 0; i < r->n; i++)
        want += r->docs[i]->len + (r->docs[i]->embedded ? 0 : r->docs[i]->len / 8) + 3;
    rc = xb_buf_reserve(body, want);
    if (rc == XB_OK)
        rc = xb_buf_puts(body, "{\"TraceSegmentDocuments\":[");
    for (size_t i = 0; i < r->n && rc == XB_OK; i++) {
        rc = xb_buf_puts(body, i ? ",\"" : "\"");
        /* An embedded document (translated for this body, core/queue.h) goes as it is;
         * a plain one (X-Ray daemon datagrams, a log written before) is escaped here. */
        if (rc == XB_OK && r->docs[i]->embedded)
            rc = xb_buf_append(body, r->docs[i]->json, r->docs[i]->len);
        else if (rc == XB_OK)
            rc = xb_jsonw_embed(body, r->docs[i]->json, r->docs[i]->len);
        if (rc == XB_OK)
            rc = xb_buf_putc(body, '"');
    }
    if (rc == XB_OK)
        rc = xb_buf_puts(body, "]}");
    return rc;
}

/* ---- request lifecycle --------------------------------------------------- */

/* Frees |r|; an unfinished transfer is removed from the loop first. */
static void request_free(struct request *r, int in_loop)
{
    if (!r)
        return;
    xb_http_call_cleanup(&r->http, in_loop);
    free(r);
}

/* A request record for a new call: a kept one (its response buffer emptied, its
 * allocation kept) or a new one; NULL when out of memory. */
static struct request *request_take(struct xb_xray_exporter *x)
{
    struct xb_buf resp = {0};
    struct request *r;

    if (x->n_req_spares) {
        r = x->req_spares[--x->n_req_spares];
        resp = r->http.resp;
    } else if (!(r = malloc(sizeof(*r)))) {
        return NULL;
    }
    memset(r, 0, offsetof(struct request, pieces)); /* the pieces are written before use */
    r->x = x;
    xb_http_call_init(&r->http, x->curl, r, MAX_RESPONSE_BYTES);
    if (resp.data) {
        r->http.resp = resp;
        xb_buf_clear(&r->http.resp);
    }
    return r;
}

/* Keeps the finished |r| (its libcurl handle and body already handed back) for
 * request_take, or frees it when num_workers are kept already. */
static void request_recycle(struct xb_xray_exporter *x, struct request *r)
{
    if (!x->req_spares || x->n_req_spares >= x->opts.num_workers) {
        request_free(r, 0);
        return;
    }
    curl_slist_free_all(r->http.headers);
    r->http.headers = NULL;
    xb_buf_cleanup(&r->http.body);
    if (r->http.resp.cap > RESP_SPARE_MAX_BYTES)
        xb_buf_cleanup(&r->http.resp);
    x->req_spares[x->n_req_spares++] = r;
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

/* Pauses sending for an exponential, jittered delay after a failure. */
static void back_off(struct xb_xray_exporter *x, uint64_t now)
{
    xb_send_back_off(&x->batcher, &x->backoff, &x->retry, &x->rng, now, DRAIN_MAX_BACKOFF_MS, 0);
}

/* Log text for a document dropped by |a|. */
static void drop_why(const struct xb_doc_action *a, const struct xb_call_result *res,
                     const struct xb_buf *resp, char *why, size_t why_len)
{
    const struct xb_unprocessed_entry *u;

    switch (a->why) {
    case XB_DROP_RETRY_DISABLED:
        snprintf(why, why_len, "retry_on_failure is disabled");
        break;
    case XB_DROP_MAX_ELAPSED:
        snprintf(why, why_len, "retry_on_failure.max_elapsed_time passed");
        break;
    case XB_DROP_UNPROCESSED:
        u = &res->unprocessed[a->entry];
        snprintf(why, why_len < 256 ? why_len : 256, "UnprocessedTraceSegments %s: %s",
                 u->code ? u->code : "?", u->message ? u->message : "");
        break;
    case XB_DROP_HTTP:
        snprintf(why, why_len, "HTTP %ld: %.300s", res->status, resp->data ? resp->data : "");
        break;
    }
}

/* Puts popped |d| back at the head of the queue. The queue may requeue a copy instead
 * (xb_queue_requeue); the retry book's entry, kept by address, follows it (no entry: an
 * all-zero state, which the book does not record). */
static void requeue_doc(struct xb_xray_exporter *x, struct xb_qdoc *d)
{
    struct xb_retry_state st = xb_retry_book_get(&x->book, d);
    struct xb_qdoc *now = xb_queue_requeue(x->q, d);

    if (now != d) {
        /* The slot |d| frees takes |now|: the book does not grow, so this cannot fail. */
        xb_retry_book_forget(&x->book, d);
        xb_retry_book_put(&x->book, now, &st);
    }
}

/* requeue_doc() for |n| documents, last first, so that they keep their order. */
static void requeue_docs(struct xb_xray_exporter *x, struct xb_qdoc *const *docs, size_t n)
{
    for (size_t i = n; i-- > 0;)
        requeue_doc(x, docs[i]);
}

/* Carries out the decisions of |o| on the documents of |r|, in order. */
static void carry_out(struct request *r, const struct xb_outcome *o,
                      const struct xb_call_result *res, const struct xb_retry_state *st)
{
    struct xb_xray_exporter *x = r->x;
    struct xb_qdoc *delivered[MAX_DOCS_PER_CALL];
    size_t n_delivered = 0;
    char why[400];

    for (size_t k = 0; k < o->n_actions; k++) {
        const struct xb_doc_action *a = &o->actions[k];
        struct xb_qdoc *d = r->docs[a->doc];

        switch (a->kind) {
        case XB_DOC_DELIVERED:
            xb_retry_book_forget(&x->book, d);
            xb_exporter_metrics.sent_documents[XB_EXPORTER_AWSXRAY]++;
            if (n_delivered < MAX_DOCS_PER_CALL)
                delivered[n_delivered++] = d;
            else
                xb_queue_done(x->q, d);
            break;
        case XB_DOC_RETRY:
        case XB_DOC_SOLO:
            /* Without memory for the entry the document goes back as if fresh. */
            xb_retry_book_put(&x->book, d, &st[a->doc]);
            requeue_doc(x, d);
            break;
        case XB_DOC_DROP:
            xb_retry_book_forget(&x->book, d);
            drop_why(a, res, &r->http.resp, why, sizeof(why));
            give_up(x, d, a->reason, why);
            break;
        }
    }
    xb_queue_done_n(x->q, delivered, n_delivered); /* one lock for the call */
}

/* The UnprocessedTraceSegments entries of a 200 answer |root| (cJSON, owned by the
 * caller) as an array the caller frees; *n is set to its length. Counts each entry in
 * the unprocessed metric by its ErrorCode. NULL with *n = 0 when there are none, or
 * when out of memory (then, as when the body cannot be parsed, all count as accepted). */
static struct xb_unprocessed_entry *parse_unprocessed(const cJSON *root, size_t *n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "UnprocessedTraceSegments");
    int count = list ? cJSON_GetArraySize(list) : 0; /* children, as ArrayForEach walks */
    struct xb_unprocessed_entry *e;
    const cJSON *item;
    size_t i = 0;

    *n = 0;
    if (count <= 0)
        return NULL;
    e = calloc((size_t)count, sizeof(*e));
    cJSON_ArrayForEach(item, list)
    {
        const char *code =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "ErrorCode"));
        xb_exporter_metrics.unprocessed_by_code[xb_xray_error_classify(code).label]++;
        if (!e || i >= (size_t)count)
            continue;
        e[i].id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Id"));
        e[i].code = code;
        e[i].message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Message"));
        i++;
    }
    *n = e ? i : 0;
    return e;
}

static void finish(struct request *r, CURLcode res)
{
    struct xb_xray_exporter *x = r->x;
    uint64_t now = now_ms();
    struct xb_call_result cr = {0};
    struct xb_retry_state st[MAX_DOCS_PER_CALL];
    const char *ids[MAX_DOCS_PER_CALL];
    struct xb_unprocessed_entry *entries = NULL;
    struct xb_outcome o;
    cJSON *root = NULL;

    cr.status = xb_http_call_status(&r->http);
    xb_http_calls_unlink(&x->inflight, &r->http);
    cr.transport_failed = res != CURLE_OK;
    if (!cr.transport_failed && cr.status == 200) {
        /* The usual answer, no UnprocessedTraceSegments, is told without a parser. */
        if (!xb_xray_answer_all_accepted(r->http.resp.data, r->http.resp.len)) {
            root =
                cJSON_ParseWithLength(r->http.resp.data ? r->http.resp.data : "", r->http.resp.len);
            entries = parse_unprocessed(root, &cr.n_unprocessed);
            cr.unprocessed = entries;
        }
    } else if (cr.transport_failed) {
        XB_WARN("xray", "PutTraceSegments failed: %s", xb_http_call_error(&r->http, res));
    } else {
        XB_WARN("xray", "PutTraceSegments answered HTTP %ld: %.300s", cr.status,
                r->http.resp.data ? r->http.resp.data : "");
    }
    for (size_t i = 0; i < r->n; i++) {
        ids[i] = r->docs[i]->id;
        st[i] = xb_retry_book_get(&x->book, r->docs[i]);
    }
    xb_outcome_decide(&cr, ids, st, r->n, now, &x->retry, &o); /* r->n <= XB_OUTCOME_MAX_DOCS */
    if (o.request_error)
        xb_exporter_metrics.export_request_errors++;
    xb_exporter_metrics.export_throttled += o.throttled;
    carry_out(r, &o, &cr, st);
    free(entries);
    cJSON_Delete(root);
    if (o.back_off)
        back_off(x, now);
    else if (o.reset_failures)
        x->backoff.failures = 0;
    xb_easy_spares_put(&x->spares, r->http.easy, res);
    r->http.easy = NULL;
    xb_body_spares_put(&x->bodies, &r->http.body);
    request_recycle(x, r);
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

    xb_creds_cache_done(&x->cache, rc, creds, now_ms());
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
    static const struct xb_sigv4_header content_type = {"Content-Type", "application/json"};
    struct request *r = request_take(x);
    struct xb_aws_request req;
    int retry = 0;
    int rc = XB_ERR_NOMEM;

    if (!r)
        return XB_ERR_NOMEM;
    r->http.easy = xb_easy_spares_take(&x->spares);
    {
        /* One lock for the whole call; what does not go in this call goes back, in
         * order, to the head of the queue. */
        struct xb_qdoc *got[MAX_DOCS_PER_CALL];
        size_t n_got = xb_queue_pop_n(x->q, got, x->opts.batch_max_docs), i;

        for (i = 0; i < n_got; i++) {
            struct xb_qdoc *d = got[i];
            struct xb_retry_state st = xb_retry_book_get(&x->book, d);
            if (st.solo && r->n > 0)
                break; /* goes alone, in the next call */
            r->docs[r->n++] = d;
            retry |= st.attempts > 0;
            if (st.solo) {
                i++;
                break;
            }
        }
        requeue_docs(x, got + i, n_got - i);
    }
    if (retry)
        xb_exporter_metrics.export_retries++;
    /* Embedded documents of a body of 64 KiB or more are sent from where they are
     * (hashed and read by libcurl piece by piece); plain ones are escaped into one body,
     * and a shorter body is copied into one (exporter/xray_body.h). */
    r->n_pieces = xb_xray_body_pieces(r->docs, r->n, r->pieces);
    if (!xb_xray_body_as_pieces(r->n_pieces, xb_pieces_total(r->pieces, r->n_pieces)))
        r->n_pieces = 0; /* short: one buffer, sent with the headers */
    if (!r->n_pieces) {
        xb_body_spares_take(&x->bodies, &r->http.body);
        if (build_body(r))
            goto fail;
    }

    req = (struct xb_aws_request){
        .method = "POST",
        .url = x->url,
        .headers = &content_type,
        .n_headers = 1,
        .sign = {"xray", x->region, creds, time(NULL)},
        .connect_timeout_ms = 10000,
        .timeout_ms = (long)x->opts.request_timeout_s * 1000,
        .user_agent = "xraybridge/" XB_VERSION,
        .ca_file = x->opts.ca_file,
        .tls_no_verify = x->opts.no_verify_ssl,
        .proxy = x->opts.proxy,
        .pieces = r->pieces,
        .n_pieces = r->n_pieces,
    };
    rc = xb_http_call_build(&r->http, &req, NULL, NULL);
    if (rc)
        goto fail;
    rc = xb_http_call_add(&r->http, &x->inflight, on_done, r);
    if (rc)
        goto fail;
    xb_exporter_metrics.export_requests++;
    return XB_OK;
fail:
    /* Nothing was sent: return the documents to the head of the queue. */
    requeue_docs(x, r->docs, r->n);
    request_free(r, 0);
    XB_ERROR("xray", "cannot build a PutTraceSegments request: %s", xb_strerror(rc));
    return rc;
}

static void flush(void *ud)
{
    struct xb_xray_exporter *x = ud;
    const struct xb_aws_creds *creds;
    uint64_t now = now_ms();

    if (!xb_send_may_flush(&x->batcher, &x->backoff, x->q, x->cache.pending, now))
        return;
    creds = xb_creds_cache_pick(&x->cache, now);
    if (!creds) {
        /* Fetch or refresh without blocking; on_creds kicks the batcher again. */
        if (xb_creds_cache_fetch(&x->cache, on_creds, x) != XB_OK)
            back_off(x, now);
        return;
    }
    while (x->inflight.n < x->opts.num_workers && xb_queue_waiting(x->q) > 0) {
        if (start_request(x, creds) != XB_OK) {
            back_off(x, now);
            return;
        }
    }
}

/* ---- public -------------------------------------------------------------- */

static int set_endpoint(struct xb_xray_exporter *x, const char *endpoint, char *err, size_t err_len)
{
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL;
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
    rc = XB_ERR_NOMEM;
    if (xb_buf_puts(&b, "/TraceSegments"))
        goto out;
    x->url = xb_buf_steal(&b, NULL);
    rc = XB_OK;
out:
    curl_free(host);
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
    xb_queue_set_takes_embedded(q, 1); /* sent as they are (xb_xray_body_pieces) */
    xb_rng_seed(&x->rng);
    x->opts = *opts;
    x->opts.ca_file = NULL; /* borrowed strings copied below where kept */
    x->opts.proxy = NULL;
    x->opts.endpoint = NULL;
    if (x->opts.num_workers == 0)
        x->opts.num_workers = 1;
    if (x->opts.batch_max_docs == 0 || x->opts.batch_max_docs > MAX_DOCS_PER_CALL)
        x->opts.batch_max_docs = MAX_DOCS_PER_CALL;
    x->retry = (struct xb_retry_opts){opts->retry_enabled, opts->retry_initial_ms,
                                      opts->retry_max_ms, opts->retry_max_elapsed_ms};
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
    if (xb_easy_spares_init(&x->spares, x->opts.num_workers) != XB_OK ||
        xb_body_spares_init(&x->bodies, x->opts.num_workers, BODY_SPARE_MAX_BYTES) != XB_OK ||
        !(x->req_spares = calloc(x->opts.num_workers, sizeof(*x->req_spares))))
        goto fail;
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
        x->cache.provider = x->creds;
    }
    rc = xb_batcher_init(&x->batcher, base, q, x->opts.batch_max_docs, x->opts.batch_timeout_ms,
                         flush, x);
    if (rc)
        goto fail;
    /* Fetch credentials now, so a broken chain shows in the log at start-up; sending
     * waits for this fetch (cache.pending). */
    (void)xb_creds_cache_fetch(&x->cache, on_start_creds, x);
    {
        char url[512], proxy[512];
        XB_INFO("xray", "awsxray exporter sending to %s (region %s, %u workers%s%s)",
                xb_url_redact(x->url, url, sizeof(url)), x->region, x->opts.num_workers,
                x->opts.proxy ? ", proxy " : "",
                x->opts.proxy ? xb_url_redact(x->opts.proxy, proxy, sizeof(proxy)) : "");
        xb_url_warn_if_cleartext("xray", "X-Ray endpoint", x->url);
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
    xb_send_drain(&x->batcher, &x->backoff);
}

void xb_xray_exporter_free(struct xb_xray_exporter *x)
{
    if (!x)
        return;
    while (x->inflight.head) {
        struct request *r = x->inflight.head->owner;
        xb_http_calls_unlink(&x->inflight, &r->http);
        xb_exporter_metrics.send_failed_documents[XB_EXPORTER_AWSXRAY] += r->n;
        xb_docs_done(x->q, r->docs, r->n);
        request_free(r, 1);
    }
    xb_batcher_cleanup(&x->batcher);
    xb_retry_book_cleanup(&x->book);
    xb_creds_provider_free(x->creds);
    xb_sigv4_forget_keys();             /* the derived signing keys are secrets too */
    xb_easy_spares_cleanup(&x->spares); /* before the loop: libcurl's global state */
    xb_body_spares_cleanup(&x->bodies);
    while (x->n_req_spares)
        request_free(x->req_spares[--x->n_req_spares], 0);
    free(x->req_spares);
    xb_curl_loop_free(x->curl);
    free(x->region);
    free(x->url);
    free((char *)x->opts.ca_file);
    free((char *)x->opts.proxy);
    free(x);
}
