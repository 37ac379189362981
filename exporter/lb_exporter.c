#include "exporter/lb_exporter.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/dns.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/curl_loop.h"
#include "aws/request.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "exporter/batcher.h"
#include "exporter/export_policy.h"
#include "exporter/exporter_metrics.h"
#include "exporter/http_call.h"
#include "exporter/lb_ring.h"
#include "exporter/otlp_outcome.h"
#include "xb_version.h"

#define MAX_ENDPOINTS 64
#define MAX_RECORDS 1000
#define MAX_RESPONSE_BYTES (64u << 10)
#define DOWN_MIN_MS 500u
#define DOWN_MAX_MS 30000u
#define GRPC_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

struct endpoint {
    char *hostport;
    char *url;
    int up;
    int busy;               /* a call to it is in flight */
    uint32_t failures;      /* consecutive unreachable calls */
    uint64_t down_until_ms; /* while down */
};

struct call {
    struct xb_lb_exporter *x;
    struct xb_http_call http; /* body: one gRPC message (prefix + records) */
    char *hostport;           /* copy: the endpoint list may change while the call runs */
    int grpc_status;
    char grpc_message[200];
    struct xb_qdoc *recs[MAX_RECORDS];
    size_t n;
    uint64_t spans;
};

struct xb_lb_exporter {
    struct event_base *base;
    struct xb_queue *q;
    struct xb_batcher batcher;
    struct xb_curl_loop *curl;
    struct xb_lb_opts opts;
    char *dns_hostname;
    struct evdns_base *dns;
    struct evdns_getaddrinfo_request *dns_req;
    struct event *dns_timer;
    struct endpoint eps[MAX_ENDPOINTS];
    size_t n_eps;
    struct xb_lb_ring ring;
    struct xb_http_calls inflight;
    struct xb_retry_opts retry;
    struct xb_backoff backoff;
    struct xb_rng rng;
    struct xb_retry_book book;
};

static uint64_t now_ms(void)
{
    return xb_clock_mono_ns() / 1000000u;
}

/* ---- endpoints and the ring ------------------------------------------------- */

static int rebuild_ring(struct xb_lb_exporter *x)
{
    const char *names[MAX_ENDPOINTS];
    int up[MAX_ENDPOINTS];
    for (size_t i = 0; i < x->n_eps; i++) {
        names[i] = x->eps[i].hostport;
        up[i] = x->eps[i].up;
    }
    return xb_lb_ring_build(&x->ring, names, up, x->n_eps);
}

static void endpoint_clear(struct endpoint *e)
{
    free(e->hostport);
    free(e->url);
    memset(e, 0, sizeof(*e));
}

/* Sets the endpoint list to |names| (|n| of them), keeping the state of endpoints that
 * stay. Returns 0 or XB_ERR_NOMEM (the list is then unchanged). */
static int set_endpoints(struct xb_lb_exporter *x, char **names, size_t n)
{
    struct endpoint next[MAX_ENDPOINTS];
    size_t k = 0;

    memset(next, 0, sizeof(next));
    for (size_t i = 0; i < n && k < MAX_ENDPOINTS; i++) {
        struct endpoint *old = NULL;
        for (size_t j = 0; j < x->n_eps && !old; j++)
            if (x->eps[j].hostport && strcmp(x->eps[j].hostport, names[i]) == 0)
                old = &x->eps[j];
        if (old) {
            next[k++] = *old;
            memset(old, 0, sizeof(*old)); /* moved */
            continue;
        }
        next[k].hostport = strdup(names[i]);
        next[k].url = malloc(strlen(names[i]) + sizeof("https://" GRPC_PATH));
        if (!next[k].hostport || !next[k].url) {
            endpoint_clear(&next[k]);
            for (size_t j = 0; j < k; j++) /* put moved entries back is not possible: */
                endpoint_clear(&next[j]);  /* callers treat NOMEM as fatal for the list */
            return XB_ERR_NOMEM;
        }
        sprintf(next[k].url, "%s%s" GRPC_PATH, x->opts.insecure ? "http://" : "https://", names[i]);
        next[k].up = 1;
        k++;
    }
    for (size_t j = 0; j < x->n_eps; j++)
        endpoint_clear(&x->eps[j]);
    memcpy(x->eps, next, sizeof(next));
    x->n_eps = k;
    return rebuild_ring(x);
}

/* Endpoints whose down time is over rejoin the ring. */
static void revive(struct xb_lb_exporter *x, uint64_t now)
{
    int changed = 0;
    for (size_t i = 0; i < x->n_eps; i++) {
        if (!x->eps[i].up && now >= x->eps[i].down_until_ms) {
            x->eps[i].up = 1;
            changed = 1;
        }
    }
    if (changed)
        rebuild_ring(x);
}

static struct endpoint *find_endpoint(struct xb_lb_exporter *x, const char *hostport)
{
    for (size_t i = 0; i < x->n_eps; i++)
        if (strcmp(x->eps[i].hostport, hostport) == 0)
            return &x->eps[i];
    return NULL;
}

/* The gateway could not be reached: off the ring for an exponential, capped time. */
static void mark_down(struct xb_lb_exporter *x, const char *hostport, uint64_t now, const char *why)
{
    struct endpoint *e = find_endpoint(x, hostport);
    uint64_t d;
    if (!e || !e->up)
        return;
    d = (uint64_t)DOWN_MIN_MS << (e->failures < 6 ? e->failures : 6);
    if (d > DOWN_MAX_MS)
        d = DOWN_MAX_MS;
    e->failures++;
    e->up = 0;
    e->down_until_ms = now + d;
    XB_WARN("loadbalancing", "gateway %s unreachable (%s): off the ring for %llu ms", hostport, why,
            (unsigned long long)d);
    rebuild_ring(x);
}

/* ---- calls ------------------------------------------------------------------ */

/* grpc-status and grpc-message come as trailers, which libcurl passes here too. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct call *c = ud;
    size_t n = size * nmemb;
    char status[16];

    if (xb_http_header_value(p, n, "grpc-status:", status, sizeof(status)))
        c->grpc_status = atoi(status);
    else
        xb_http_header_value(p, n, "grpc-message:", c->grpc_message, sizeof(c->grpc_message));
    return n;
}

static void call_free(struct call *c, int in_loop)
{
    if (!c)
        return;
    xb_http_call_cleanup(&c->http, in_loop);
    free(c->hostport);
    free(c);
}

static void back_off(struct xb_lb_exporter *x, uint64_t now)
{
    uint64_t d =
        xb_backoff_step(&x->backoff, now, &x->retry, x->batcher.draining ? 1000u : 0, &x->rng);
    if (d)
        xb_batcher_kick_after(&x->batcher, (uint32_t)(d > UINT32_MAX ? UINT32_MAX : d));
}

static void give_up(struct xb_lb_exporter *x, struct call *c, const char *why)
{
    XB_WARN("loadbalancing", "dropping %llu spans sent to %s: %s", (unsigned long long)c->spans,
            c->hostport, why);
    for (size_t i = 0; i < c->n; i++) {
        xb_retry_book_forget(&x->book, c->recs[i]);
        xb_queue_done(x->q, c->recs[i]);
    }
    xb_exporter_metrics.send_failed_documents[XB_EXPORTER_LOADBALANCING] += c->spans;
}

static void on_done(void *ud, CURL *easy, CURLcode res)
{
    struct call *c = ud;
    struct xb_lb_exporter *x = c->x;
    uint64_t now = now_ms();
    long status = 0;
    enum xb_grpc_verdict v;
    char why[300];

    (void)easy;
    status = xb_http_call_status(&c->http);
    xb_http_calls_unlink(&x->inflight, &c->http);
    {
        struct endpoint *e = find_endpoint(x, c->hostport);
        if (e)
            e->busy = 0;
    }
    v = xb_grpc_call_verdict(res != CURLE_OK, status, c->grpc_status);
    if (v != XB_GRPC_DELIVERED)
        xb_exporter_metrics.failed_calls[XB_EXPORTER_LOADBALANCING]++; /* health check */
    switch (v) {
    case XB_GRPC_DELIVERED: {
        struct endpoint *e = find_endpoint(x, c->hostport);
        if (e)
            e->failures = 0;
        for (size_t i = 0; i < c->n; i++) {
            xb_retry_book_forget(&x->book, c->recs[i]);
            xb_queue_done(x->q, c->recs[i]);
        }
        xb_exporter_metrics.sent_documents[XB_EXPORTER_LOADBALANCING] += c->spans;
        x->backoff.failures = 0;
        break;
    }
    case XB_GRPC_REROUTE:
        /* Not the spans' fault: they go back unchanged and route again. */
        if (res != CURLE_OK)
            snprintf(why, sizeof(why), "%s", xb_http_call_error(&c->http, res));
        else
            snprintf(why, sizeof(why), "HTTP %ld, grpc-status %d", status, c->grpc_status);
        mark_down(x, c->hostport, now, why);
        for (size_t i = c->n; i-- > 0;)
            xb_queue_requeue(x->q, c->recs[i]);
        break;
    case XB_GRPC_RETRY: {
        struct xb_retry_state st = xb_retry_book_get(&x->book, c->recs[0]);
        struct xb_otlp_call oc = {0, 503, -1, 0};
        struct xb_otlp_decision d;
        xb_otlp_outcome_decide(&oc, &st, now, &x->retry, &d); /* elapsed-time rules */
        if (d.verdict == XB_OTLP_DROP) {
            snprintf(why, sizeof(why), "grpc-status %d (%s), retry given up", c->grpc_status,
                     c->grpc_message);
            give_up(x, c, why);
        } else {
            for (size_t i = c->n; i-- > 0;) {
                xb_retry_book_put(&x->book, c->recs[i], &st);
                xb_queue_requeue(x->q, c->recs[i]);
            }
            back_off(x, now);
        }
        break;
    }
    case XB_GRPC_DROP:
        snprintf(why, sizeof(why), "grpc-status %d: %s", c->grpc_status, c->grpc_message);
        give_up(x, c, why);
        break;
    }
    call_free(c, 0);
    xb_batcher_kick(&x->batcher);
}

/* Starts one Export call to |e| carrying |recs| (|n| records, |spans| spans). On failure
 * the records are requeued. */
static int start_call(struct xb_lb_exporter *x, struct endpoint *e, struct xb_qdoc **recs, size_t n,
                      uint64_t spans)
{
    static const struct xb_sigv4_header plain[] = {
        {"Content-Type", "application/grpc"}, {"TE", "trailers"}, {"grpc-accept-encoding", "gzip"}};
    static const struct xb_sigv4_header zipped[] = {{"Content-Type", "application/grpc"},
                                                    {"TE", "trailers"},
                                                    {"grpc-accept-encoding", "gzip"},
                                                    {"grpc-encoding", "gzip"}};
    struct call *c = calloc(1, sizeof(*c));
    struct xb_buf raw;
    struct xb_aws_request req;
    uint8_t prefix[5];
    int rc = XB_ERR_NOMEM;

    xb_buf_init(&raw, 0);
    if (!c)
        goto fail;
    xb_http_call_init(&c->http, x->curl, c, MAX_RESPONSE_BYTES);
    c->x = x;
    c->grpc_status = -1;
    memcpy(c->recs, recs, n * sizeof(*recs));
    c->n = n;
    c->spans = spans;
    c->hostport = strdup(e->hostport);
    if (!c->hostport)
        goto fail;
    if (xb_otlp_records_body(recs, n, x->opts.gzip, &raw))
        goto fail;
    prefix[0] = x->opts.gzip ? 1 : 0; /* gRPC message: compressed flag, 4-byte length */
    prefix[1] = (uint8_t)(raw.len >> 24);
    prefix[2] = (uint8_t)(raw.len >> 16);
    prefix[3] = (uint8_t)(raw.len >> 8);
    prefix[4] = (uint8_t)raw.len;
    if (xb_buf_append(&c->http.body, prefix, 5) || xb_buf_append(&c->http.body, raw.data, raw.len))
        goto fail;
    req = (struct xb_aws_request){
        .method = "POST",
        .url = e->url,
        .headers = x->opts.gzip ? zipped : plain,
        .n_headers = x->opts.gzip ? 4 : 3,
        .connect_timeout_ms = x->opts.timeout_ms < 5000 ? x->opts.timeout_ms : 5000,
        .timeout_ms = x->opts.timeout_ms,
        .user_agent = "xraybridge/" XB_VERSION,
        .proxy = "",
    };
    rc = xb_http_call_build(&c->http, &req, on_header, c);
    if (rc)
        goto fail;
    curl_easy_setopt(c->http.easy, CURLOPT_HTTP_VERSION,
                     x->opts.insecure ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                      : (long)CURL_HTTP_VERSION_2TLS);
    /* One connection per call, one call per gateway at a time: Debian's libcurl 7.88
     * fails a gRPC call on a reused or shared (multiplexed) h2c connection with
     * CURLE_HTTP2 before sending it (seen in the loadbalancing test), so calls never
     * share a connection (docs/otlp-export.md). */
    curl_easy_setopt(c->http.easy, CURLOPT_FORBID_REUSE, 1L);
    rc = xb_http_call_add(&c->http, &x->inflight, on_done, c);
    if (rc)
        goto fail;
    xb_buf_cleanup(&raw);
    e->busy = 1;
    return XB_OK;
fail:
    xb_buf_cleanup(&raw);
    for (size_t i = n; i-- > 0;)
        xb_queue_requeue(x->q, recs[i]);
    if (c)
        c->n = 0;
    call_free(c, 0);
    XB_ERROR("loadbalancing", "cannot build an Export call: %s", xb_strerror(rc));
    return rc;
}

/* Record bucket of one endpoint during a flush. */
struct bucket {
    struct xb_qdoc *recs[MAX_RECORDS];
    size_t n, bytes;
    uint64_t spans;
};

static int hex_id(const char *hex, uint8_t id[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        id[i] = (uint8_t)v;
    }
    return 0;
}

static void flush(void *ud)
{
    struct xb_lb_exporter *x = ud;
    uint64_t now = now_ms();
    struct bucket *b;
    struct xb_qdoc **later; /* records whose gateway is busy or full: back at the head */
    size_t taken = 0, n_later = 0;
    int failed = 0;

    if (now < x->backoff.until_ms) {
        xb_batcher_kick_after(&x->batcher, (uint32_t)(x->backoff.until_ms - now));
        return;
    }
    revive(x, now);
    if (xb_queue_waiting(x->q) == 0 || x->inflight.n >= XB_LB_MAX_INFLIGHT)
        return;
    if (x->ring.n == 0) { /* every gateway down (or none resolved yet): wait */
        uint64_t soonest = now + DOWN_MAX_MS;
        for (size_t i = 0; i < x->n_eps; i++)
            if (!x->eps[i].up && x->eps[i].down_until_ms < soonest)
                soonest = x->eps[i].down_until_ms;
        xb_batcher_kick_after(&x->batcher, (uint32_t)(soonest > now ? soonest - now : 1));
        return;
    }
    b = calloc(x->n_eps, sizeof(*b));
    later = malloc(MAX_RECORDS * sizeof(*later));
    if (!b || !later) {
        free(b);
        free(later);
        back_off(x, now);
        return;
    }
    while (taken < x->opts.batch_max_records * x->n_eps && n_later < MAX_RECORDS) {
        struct xb_qdoc *d = xb_queue_pop(x->q);
        uint8_t id[16];
        int64_t spans;
        int e;
        if (!d)
            break;
        spans = xb_otlp_record_spans(d->json, d->len);
        if (spans < 0 || hex_id(d->trace_id, id) != 0) {
            XB_WARN("loadbalancing", "dropping a queued record: not a per-trace OTLP request");
            xb_exporter_metrics.send_failed_documents[XB_EXPORTER_LOADBALANCING]++;
            xb_queue_done(x->q, d);
            continue;
        }
        e = xb_lb_ring_pick(&x->ring, id);
        if (x->eps[e].busy || b[e].n >= x->opts.batch_max_records ||
            b[e].bytes + d->len > XB_LB_MAX_CALL_BYTES) {
            later[n_later++] = d; /* its gateway is busy or this call is full */
            continue;
        }
        b[e].recs[b[e].n++] = d;
        b[e].bytes += d->len;
        b[e].spans += (uint64_t)spans;
        taken++;
    }
    while (n_later > 0) /* in reverse, so they keep their order at the head */
        xb_queue_requeue(x->q, later[--n_later]);
    for (size_t e = 0; e < x->n_eps; e++)
        if (b[e].n && start_call(x, &x->eps[e], b[e].recs, b[e].n, b[e].spans) != XB_OK)
            failed = 1;
    free(b);
    free(later);
    /* A call that could not be built requeued its records: look again after a back-off.
     * Workers' pushes in between do not wake the exporter unless a batch fills
     * (xb_queue_set_ready_min), so without this they could wait for the next batch. */
    if (failed)
        back_off(x, now);
}

/* ---- dns resolver --------------------------------------------------------------- */

static void resolve(struct xb_lb_exporter *x);

static void on_resolved(int result, struct evutil_addrinfo *res, void *ud)
{
    struct xb_lb_exporter *x = ud;
    char *names[MAX_ENDPOINTS];
    size_t n = 0;
    struct timeval tv = {x->opts.dns_interval_ms / 1000, (x->opts.dns_interval_ms % 1000) * 1000};

    x->dns_req = NULL;
    if (result != 0) {
        XB_WARN("loadbalancing", "resolving %s: %s (keeping %zu gateways)", x->dns_hostname,
                evutil_gai_strerror(result), x->n_eps);
    } else {
        for (struct evutil_addrinfo *a = res; a && n < MAX_ENDPOINTS; a = a->ai_next) {
            char ip[INET_ADDRSTRLEN], hp[INET_ADDRSTRLEN + 8];
            int dup = 0;
            if (a->ai_family != AF_INET)
                continue;
            inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, ip, sizeof(ip));
            snprintf(hp, sizeof(hp), "%s:%u", ip, x->opts.dns_port);
            for (size_t i = 0; i < n; i++)
                dup |= strcmp(names[i], hp) == 0;
            if (!dup && (names[n] = strdup(hp)) != NULL)
                n++;
        }
        evutil_freeaddrinfo(res);
        /* Sorted, so every agent builds the same list from the same answer. */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
                char *t = names[j];
                names[j] = names[j - 1];
                names[j - 1] = t;
            }
        {
            int same = n == x->n_eps;
            for (size_t i = 0; same && i < n; i++)
                same = strcmp(names[i], x->eps[i].hostport) == 0;
            if (!same && n > 0) {
                XB_INFO("loadbalancing", "%s resolved to %zu gateways", x->dns_hostname, n);
                set_endpoints(x, names, n);
                xb_batcher_kick(&x->batcher);
            }
        }
        for (size_t i = 0; i < n; i++)
            free(names[i]);
    }
    evtimer_add(x->dns_timer, &tv);
}

static void on_dns_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    resolve(ud);
}

static void resolve(struct xb_lb_exporter *x)
{
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    x->dns_req = evdns_getaddrinfo(x->dns, x->dns_hostname, NULL, &hints, on_resolved, x);
}

/* ---- public ------------------------------------------------------------------------ */

int xb_lb_exporter_start(struct event_base *base, struct xb_queue *q, const struct xb_lb_opts *o,
                         struct xb_lb_exporter **out, char *err, size_t err_len)
{
    struct xb_lb_exporter *x = calloc(1, sizeof(*x));
    int rc = XB_ERR_NOMEM;

    if (!x)
        return XB_ERR_NOMEM;
    x->base = base;
    x->q = q;
    x->opts = *o;
    x->opts.hostnames = NULL;
    x->opts.dns_hostname = NULL;
    if (x->opts.batch_max_records == 0 || x->opts.batch_max_records > MAX_RECORDS)
        x->opts.batch_max_records = MAX_RECORDS;
    x->retry = (struct xb_retry_opts){o->retry_enabled, o->retry_initial_ms, o->retry_max_ms,
                                      o->retry_max_elapsed_ms};
    xb_rng_seed(&x->rng);
    if (o->n_hostnames > MAX_ENDPOINTS || (o->n_hostnames == 0 && !o->dns_hostname)) {
        snprintf(err, err_len, "loadbalancing exporter: between 1 and %d gateways", MAX_ENDPOINTS);
        rc = XB_ERR_CONFIG;
        goto fail;
    }
    {
        char *names[MAX_ENDPOINTS];
        size_t n = 0;
        for (size_t i = 0; i < o->n_hostnames; i++) {
            const char *h = o->hostnames[i];
            size_t len = strlen(h) + 8;
            names[n] = malloc(len);
            if (!names[n])
                break;
            /* "host" -> "host:4317"; "[v6]:p" and "host:p" stay */
            if (strrchr(h, ':') && (h[0] != '[' || strstr(h, "]:")))
                snprintf(names[n], len, "%s", h);
            else
                snprintf(names[n], len, "%s:4317", h);
            n++;
        }
        rc = n == o->n_hostnames ? set_endpoints(x, names, n) : XB_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        if (rc)
            goto fail;
    }
    rc = XB_ERR_NOMEM;
    x->curl = xb_curl_loop_new(base, 4);
    if (!x->curl)
        goto fail;
    rc = xb_batcher_init(&x->batcher, base, q, x->opts.batch_max_records, x->opts.batch_timeout_ms,
                         flush, x);
    if (rc)
        goto fail;
    if (o->n_hostnames == 0) {
        rc = XB_ERR_NOMEM;
        x->dns_hostname = strdup(o->dns_hostname);
        x->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        x->dns_timer = evtimer_new(base, on_dns_timer, x);
        if (!x->dns_hostname || !x->dns || !x->dns_timer)
            goto fail;
        {
            char t[16];
            snprintf(t, sizeof(t), "%u.%03u", o->dns_timeout_ms / 1000, o->dns_timeout_ms % 1000);
            evdns_base_set_option(x->dns, "timeout:", t);
        }
        resolve(x);
    }
    XB_INFO("loadbalancing", "loadbalancing exporter: %zu gateways%s%s, OTLP/gRPC %s%s", x->n_eps,
            x->dns_hostname ? " from DNS name " : "", x->dns_hostname ? x->dns_hostname : "",
            o->insecure ? "h2c" : "TLS", o->gzip ? ", gzip" : "");
    *out = x;
    return XB_OK;
fail:
    xb_lb_exporter_free(x);
    return rc;
}

void xb_lb_exporter_drain(struct xb_lb_exporter *x)
{
    if (!x)
        return;
    x->backoff.until_ms = 0;
    xb_batcher_drain(&x->batcher);
}

void xb_lb_exporter_free(struct xb_lb_exporter *x)
{
    if (!x)
        return;
    while (x->inflight.head) {
        struct call *c = x->inflight.head->owner;
        xb_http_calls_unlink(&x->inflight, &c->http);
        xb_exporter_metrics.send_failed_documents[XB_EXPORTER_LOADBALANCING] += c->spans;
        for (size_t i = 0; i < c->n; i++)
            xb_queue_done(x->q, c->recs[i]);
        call_free(c, 1);
    }
    if (x->dns_req)
        evdns_getaddrinfo_cancel(x->dns_req); /* calls on_resolved with an error */
    if (x->dns_timer)
        event_free(x->dns_timer);
    if (x->dns)
        evdns_base_free(x->dns, 0);
    xb_batcher_cleanup(&x->batcher);
    xb_retry_book_cleanup(&x->book);
    xb_curl_loop_free(x->curl);
    for (size_t i = 0; i < x->n_eps; i++)
        endpoint_clear(&x->eps[i]);
    xb_lb_ring_cleanup(&x->ring);
    free(x->dns_hostname);
    free(x);
}
