#include "aws/credentials.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/chain.h"
#include "aws/creds_parse.h"
#include "aws/imds.h"
#include "aws/region.h"
#include "aws/request.h"
#include "aws/url.h"
#include "aws/util.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#define LOG_WHO "creds"
#define REFRESH_MARGIN_S 300 /* refresh 5 minutes before expiry */
#define MAX_RESPONSE 65536   /* bytes accepted from any credential endpoint */
#define MAX_TOKEN_FILE 16384 /* web identity / container token files */
#define BACKOFF_MAX_S 60
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define USER_AGENT "xraybridge-credentials"

/* ======================================================================== */
/* Provider state                                                           */
/* ======================================================================== */

enum step { ST_IDLE, ST_WEBID, ST_CONTAINER, ST_IMDS_TOKEN, ST_IMDS_ROLE, ST_IMDS_CREDS, ST_HOP };

struct waiter {
    struct waiter *next;
    xb_creds_cb cb;
    void *ud;
    int rc;
    char why[384];
};

struct xb_creds_provider {
    struct xb_curl_loop *curl;
    char *region, *role_arn, *role_session, *profile, *ca_file, *proxy;

    struct xb_creds_parsed cur; /* current credentials, when have */
    struct xb_aws_creds view;
    int have;
    const char *source;
    enum xb_creds_source pinned; /* source that worked first; later refreshes use it only */

    int refreshing;
    struct xb_creds_plan plan;
    struct xb_creds_parsed work; /* credentials being built by the refresh */
    size_t hop_idx;
    enum step step;
    int imds_retried;
    char *imds_token; /* "" = IMDSv1 fallback */
    uint64_t imds_token_until_ns;

    CURL *easy;
    struct curl_slist *hdrs;
    char *post;
    struct xb_buf resp;
    char curl_err[CURL_ERROR_SIZE];

    int last_rc;
    char last_err[384];
    uint64_t backoff_until_ns;
    unsigned backoff_s;

    struct waiter *pending, **pending_tail; /* waiting for the refresh in flight */
    struct waiter *ready, **ready_tail;     /* answered, delivered by |notify| */
    struct event *notify;
    struct event *retry;
    int dispatching, free_requested;

    uint64_t refreshes, failures;
};

/* ======================================================================== */
/* Delivery                                                                 */
/* ======================================================================== */

static void really_free(struct xb_creds_provider *p);

static void on_notify(evutil_socket_t fd, short what, void *ud)
{
    struct xb_creds_provider *p = ud;
    struct waiter *w = p->ready, *next;

    p->ready = NULL;
    p->ready_tail = &p->ready;
    p->dispatching = 1;
    for (; w; w = next) {
        next = w->next;
        if (!p->free_requested) {
            if (w->rc == XB_OK)
                w->cb(w->ud, XB_OK, &p->view, NULL);
            else
                w->cb(w->ud, w->rc, NULL, w->why);
        }
        free(w);
    }
    p->dispatching = 0;
    if (p->free_requested)
        really_free(p);
}

static void answer(struct xb_creds_provider *p, struct waiter *w, int rc, const char *why)
{
    w->rc = rc;
    w->why[0] = 0;
    if (rc != XB_OK)
        snprintf(w->why, sizeof(w->why), "%s", why && *why ? why : xb_strerror(rc));
    w->next = NULL;
    *p->ready_tail = w;
    p->ready_tail = &w->next;
    event_active(p->notify, EV_READ, 0);
}

static int usable_now(const struct xb_creds_provider *p, int64_t margin_s)
{
    return p->have &&
           (p->cur.expiration == 0 || p->cur.expiration - (int64_t)time(NULL) > margin_s);
}

/* Ends a refresh: success installs |p->work|; answers every pending caller. */
static void finish(struct xb_creds_provider *p, int rc, const char *why)
{
    struct waiter *w, *next;
    int ok_old = 0;
    char akid[16];

    if (rc == XB_OK) {
        xb_creds_parsed_cleanup(&p->cur);
        p->cur = p->work;
        memset(&p->work, 0, sizeof(p->work));
        p->view.access_key_id = p->cur.access_key_id;
        p->view.secret_access_key = p->cur.secret_access_key;
        p->view.session_token = p->cur.session_token;
        p->have = 1;
        p->pinned = p->plan.origin;
        p->source = p->plan.n_hops ? "assume-role" : xb_creds_plan_source_name(p->plan.kind);
        p->refreshes++;
        p->backoff_s = 0;
        p->backoff_until_ns = 0;
        p->last_rc = XB_OK;
        p->last_err[0] = 0;
        evtimer_del(p->retry);
        XB_INFO(LOG_WHO, "AWS credentials from %s (chain link %s, access key %s, %s)", p->source,
                xb_creds_plan_source_name(p->plan.origin),
                xb_log_redact(p->cur.access_key_id, akid, sizeof(akid)),
                p->cur.expiration ? "expiring" : "static");
    } else {
        struct timeval tv;
        xb_creds_parsed_cleanup(&p->work);
        p->failures++;
        p->last_rc = rc;
        snprintf(p->last_err, sizeof(p->last_err), "%s", why && *why ? why : xb_strerror(rc));
        p->backoff_s = p->backoff_s ? p->backoff_s * 2 : 1;
        if (p->backoff_s > BACKOFF_MAX_S)
            p->backoff_s = BACKOFF_MAX_S;
        p->backoff_until_ns = xb_clock_mono_ns() + (uint64_t)p->backoff_s * 1000000000ull;
        ok_old = usable_now(p, 0);
        XB_WARN(LOG_WHO, "credential refresh failed: %s%s", p->last_err,
                ok_old ? " (still using the previous, unexpired credentials)" : "");
        if (ok_old) {
            tv.tv_sec = (time_t)p->backoff_s;
            tv.tv_usec = 0;
            evtimer_add(p->retry, &tv);
        }
    }
    xb_creds_plan_cleanup(&p->plan);
    p->refreshing = 0;
    p->step = ST_IDLE;
    w = p->pending;
    p->pending = NULL;
    p->pending_tail = &p->pending;
    for (; w; w = next) {
        next = w->next;
        if (rc == XB_OK || ok_old)
            answer(p, w, XB_OK, NULL);
        else
            answer(p, w, rc, p->last_err);
    }
}

/* ======================================================================== */
/* HTTP                                                                     */
/* ======================================================================== */

static void http_reset(struct xb_creds_provider *p)
{
    if (p->easy) {
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
    }
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
    xb_creds_wipe_free(p->post);
    p->post = NULL;
    if (p->resp.data)
        memset(p->resp.data, 0, p->resp.len);
    xb_buf_cleanup(&p->resp);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xb_creds_provider *p = ud;
    size_t n = size * nmemb;
    return xb_buf_append(&p->resp, ptr, n) == XB_OK ? n : 0;
}

static void step_done(struct xb_creds_provider *p, CURLcode res, long status);

static void on_http_done(void *ud, CURL *easy, CURLcode res)
{
    struct xb_creds_provider *p = ud;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    step_done(p, res, status);
}

/*
 * Starts the request |r| for |step| (answer to on_body, errors to p->curl_err).
 * Takes ownership of |post| (heap, may be NULL: |r->body| points into it), also on
 * failure. Returns 0, XB_ERR_NOMEM, or the build error (|why| says it).
 */
static int http_start(struct xb_creds_provider *p, enum step step, struct xb_aws_request *r,
                      char *post, char *why, size_t why_len)
{
    int rc;
    http_reset(p);
    p->post = post;
    xb_buf_init(&p->resp, MAX_RESPONSE);
    r->on_body = on_body;
    r->on_body_ud = p;
    r->errbuf = p->curl_err;
    rc = xb_aws_request_build(r, &p->easy, &p->hdrs, why, why_len);
    if (rc != XB_OK)
        return rc;
    p->step = step;
    rc = xb_curl_loop_add(p->curl, p->easy, on_http_done, p);
    if (rc != XB_OK) {
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
    }
    return rc;
}

/* Form parameter "&name=<encoded value>" appended to |b|. */
static int form_add(struct xb_buf *b, const char *name, const char *value)
{
    int rc = xb_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
    return rc != XB_OK ? rc : xb_sigv4_uri_encode(b, value, strlen(value));
}

static void sts_url(const struct xb_creds_provider *p, char *out, size_t out_len)
{
    const char *ov = xb_aws_getenv("AWS_ENDPOINT_URL_STS");
    if (ov)
        snprintf(out, out_len, "%s", ov);
    else if (p->region)
        snprintf(out, out_len, "https://sts.%s.amazonaws.com/", p->region);
    else
        snprintf(out, out_len, "https://sts.amazonaws.com/");
}

/*
 * Form body of an STS Query API call: Action, Version, RoleArn, RoleSessionName
 * (|session|, or "xraybridge-<unix time>" when NULL), then |extra_name|=|extra| when
 * |extra| is set. Heap string (may hold a token: xb_creds_wipe_free it), or NULL when
 * out of memory.
 */
static char *sts_body(const char *action, const char *role_arn, const char *session,
                      const char *extra_name, const char *extra)
{
    struct xb_buf b;
    char gen[48];
    char *body = NULL;

    xb_buf_init(&b, 0);
    if (!session) {
        snprintf(gen, sizeof(gen), "xraybridge-%lld", (long long)time(NULL));
        session = gen;
    }
    if (form_add(&b, "Action", action) == XB_OK && form_add(&b, "Version", "2011-06-15") == XB_OK &&
        form_add(&b, "RoleArn", role_arn) == XB_OK &&
        form_add(&b, "RoleSessionName", session) == XB_OK &&
        (!extra || form_add(&b, extra_name, extra) == XB_OK))
        body = xb_buf_steal(&b, NULL); /* non-empty, so never NULL */
    if (b.data)
        memset(b.data, 0, b.len);
    xb_buf_cleanup(&b);
    return body;
}

/*
 * POSTs the form |body| (heap, taken also on failure) to the STS endpoint, signed
 * with |sign| when its service is set. STS requests always verify TLS certificates,
 * whatever other endpoints are configured to do: they carry the web-identity token or
 * signed credentials, and their answer becomes our credentials.
 */
static int sts_post(struct xb_creds_provider *p, enum step step,
                    const struct xb_aws_request_sign *sign, char *body, char *why, size_t why_len)
{
    static const struct xb_sigv4_header ct = {"Content-Type", STS_CONTENT_TYPE};
    struct xb_aws_request r;
    char url[1024];

    sts_url(p, url, sizeof(url));
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.url = url;
    r.headers = &ct;
    r.n_headers = 1;
    r.body = body;
    r.body_len = strlen(body);
    if (sign)
        r.sign = *sign;
    r.connect_timeout_ms = 5000;
    r.timeout_ms = 10000;
    r.user_agent = USER_AGENT;
    r.ca_file = p->ca_file;
    r.proxy = p->proxy;
    return http_start(p, step, &r, body, why, why_len);
}

/* ======================================================================== */
/* Steps                                                                    */
/* ======================================================================== */

static int start_webid(struct xb_creds_provider *p, char *why, size_t why_len)
{
    char *token = NULL, *body;
    int rc;

    /* The token is re-read on every refresh: kubelet rotates it. */
    rc = xb_aws_read_file(p->plan.url, MAX_TOKEN_FILE, 1, &token, NULL);
    if (rc != XB_OK || !*token) {
        xb_aws_errf(why, why_len, "web-identity: cannot read token file %s: %s", p->plan.url,
                    rc == XB_OK ? "empty" : xb_strerror(rc));
        rc = rc == XB_OK ? XB_ERR_INVALID : rc;
        goto out;
    }
    body = sts_body("AssumeRoleWithWebIdentity", p->plan.webid_role, p->plan.webid_session,
                    "WebIdentityToken", token);
    rc = body ? sts_post(p, ST_WEBID, NULL, body, why, why_len) : XB_ERR_NOMEM;
    if (rc != XB_OK)
        xb_aws_errf(why, why_len, "web-identity: out of memory");
out:
    xb_creds_wipe_free(token);
    return rc;
}

static int start_container(struct xb_creds_provider *p, char *why, size_t why_len)
{
    const char *tf = xb_aws_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tv = xb_aws_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct xb_sigv4_header h[2];
    struct xb_aws_request r;
    char *token = NULL;
    size_t nh = 0;
    int rc = XB_OK;

    if (tf) {
        /* Read per request: EKS Pod Identity rotates it. */
        rc = xb_aws_read_file(tf, MAX_TOKEN_FILE, 1, &token, NULL);
        if (rc != XB_OK) {
            xb_aws_errf(why, why_len,
                        "container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                        "%s: %s",
                        tf, xb_strerror(rc));
            goto out;
        }
    } else if (tv && !(token = strdup(tv))) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (token && strpbrk(token, "\r\n")) {
        rc = XB_ERR_INVALID;
        xb_aws_errf(why, why_len, "container: authorization token contains a line break");
        goto out;
    }
    if (token)
        h[nh++] = (struct xb_sigv4_header){"Authorization", token};
    h[nh++] = (struct xb_sigv4_header){"Accept", "application/json"};
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.url = p->plan.url;
    r.headers = h;
    r.n_headers = nh;
    r.connect_timeout_ms = 2000;
    r.timeout_ms = 5000;
    r.user_agent = USER_AGENT;
    r.proxy = ""; /* a local or link-local endpoint: never through a proxy */
    rc = http_start(p, ST_CONTAINER, &r, NULL, why, why_len);
out:
    if (rc == XB_ERR_NOMEM)
        xb_aws_errf(why, why_len, "container: out of memory");
    xb_creds_wipe_free(token);
    return rc;
}

/* Token-authenticated metadata GET of |path| (no token header in IMDSv1 fallback). */
static int imds_get(struct xb_creds_provider *p, enum step step, const char *path)
{
    struct xb_imds_call c;
    int rc = xb_imds_get_call(&c, p->plan.url, path, p->imds_token);
    if (rc != XB_OK)
        return rc;
    c.req.user_agent = USER_AGENT;
    return http_start(p, step, &c.req, NULL, NULL, 0);
}

static int start_imds(struct xb_creds_provider *p, char *why, size_t why_len)
{
    struct xb_imds_call c;
    int rc;

    if (p->imds_token && xb_clock_mono_ns() < p->imds_token_until_ns) {
        rc = imds_get(p, ST_IMDS_ROLE, "/latest/meta-data/iam/security-credentials/");
    } else {
        xb_creds_wipe_free(p->imds_token);
        p->imds_token = NULL;
        rc = xb_imds_token_call(&c, p->plan.url);
        if (rc == XB_OK) {
            c.req.user_agent = USER_AGENT;
            rc = http_start(p, ST_IMDS_TOKEN, &c.req, NULL, NULL, 0);
        }
    }
    if (rc == XB_ERR_TOO_LARGE)
        xb_aws_errf(why, why_len, "imds: endpoint URL too long");
    else if (rc != XB_OK)
        xb_aws_errf(why, why_len, "imds: out of memory");
    return rc;
}

/* AssumeRole hop |p->hop_idx|, signed with |p->work|. */
static int start_hop(struct xb_creds_provider *p, char *why, size_t why_len)
{
    const struct xb_creds_hop *hop = &p->plan.hops[p->hop_idx];
    struct xb_aws_creds c = {p->work.access_key_id, p->work.secret_access_key,
                             p->work.session_token};
    struct xb_aws_request_sign sign = {"sts", p->region ? p->region : "us-east-1", &c, time(NULL)};
    char *body, bwhy[384];
    int rc;

    body = sts_body("AssumeRole", hop->role_arn, hop->session_name, "ExternalId", hop->external_id);
    if (!body) {
        xb_aws_errf(why, why_len, "assume-role: out of memory");
        return XB_ERR_NOMEM;
    }
    bwhy[0] = 0;
    rc = sts_post(p, ST_HOP, &sign, body, bwhy, sizeof(bwhy));
    if (rc == XB_ERR_NOMEM)
        xb_aws_errf(why, why_len, "assume-role: out of memory");
    else if (rc == XB_ERR_CONFIG)
        xb_aws_errf(why, why_len, "assume-role: STS endpoint %s", bwhy);
    else if (rc != XB_OK)
        xb_aws_errf(why, why_len, "assume-role: cannot sign the STS request: %s", xb_strerror(rc));
    return rc;
}

/* After the base credentials are in |p->work|: next hop, or done. */
static void advance(struct xb_creds_provider *p)
{
    char why[384];
    int rc;
    if (p->hop_idx < p->plan.n_hops) {
        why[0] = 0;
        rc = start_hop(p, why, sizeof(why));
        if (rc != XB_OK)
            finish(p, rc, why);
        return;
    }
    finish(p, XB_OK, NULL);
}

/* Plans this refresh: the whole chain, or only the link pinned after a success. */
static int build_plan(struct xb_creds_provider *p, char *why, size_t why_len)
{
    struct xb_creds_plan_opts o = {p->profile, p->role_arn, p->role_session, p->pinned};
    return xb_creds_plan_build(&o, &p->plan, why, why_len);
}

static void start_refresh(struct xb_creds_provider *p)
{
    char why[384];
    int rc;

    why[0] = 0;
    p->refreshing = 1;
    p->hop_idx = 0;
    p->imds_retried = 0;
    memset(&p->work, 0, sizeof(p->work));
    rc = build_plan(p, why, sizeof(why));
    if (rc != XB_OK) {
        finish(p, rc, why);
        return;
    }
    switch (p->plan.kind) {
    case XB_CREDS_SRC_ENV:
    case XB_CREDS_SRC_FILES:
        rc = xb_creds_parsed_copy(&p->work, &p->plan.base_static);
        if (rc != XB_OK) {
            finish(p, rc, "out of memory");
            return;
        }
        advance(p);
        return;
    case XB_CREDS_SRC_WEBID:
        rc = start_webid(p, why, sizeof(why));
        break;
    case XB_CREDS_SRC_CONTAINER:
        rc = start_container(p, why, sizeof(why));
        break;
    case XB_CREDS_SRC_IMDS:
        rc = start_imds(p, why, sizeof(why));
        break;
    default:
        rc = XB_ERR_INVALID;
        xb_aws_errf(why, sizeof(why), "internal error: no source");
        break;
    }
    if (rc != XB_OK)
        finish(p, rc, why);
}

/* Describes a failed transfer in |why|. */
static void describe_failure(struct xb_creds_provider *p, const char *what, CURLcode res,
                             long status, char *why, size_t why_len)
{
    if (res != CURLE_OK)
        xb_aws_errf(why, why_len, "%s: request failed: %s", what,
                    p->curl_err[0] ? p->curl_err : curl_easy_strerror(res));
    else
        xb_aws_errf(why, why_len, "%s: HTTP %ld", what, status);
}

static void step_done(struct xb_creds_provider *p, CURLcode res, long status)
{
    char why[384];
    struct xb_creds_parsed got;
    const char *body;
    int rc = XB_OK;
    enum step st = p->step;

    why[0] = 0;
    memset(&got, 0, sizeof(got));
    if (xb_buf_reserve(&p->resp, 0) != XB_OK) {
        rc = XB_ERR_NOMEM;
        xb_aws_errf(why, sizeof(why), "out of memory");
        goto fail;
    }
    body = p->resp.data ? p->resp.data : "";
    switch (st) {
    case ST_WEBID:
    case ST_HOP: {
        const char *what = st == ST_WEBID ? "web-identity: STS AssumeRoleWithWebIdentity"
                                          : "assume-role: STS AssumeRole";
        char xwhy[256];
        if (res != CURLE_OK) {
            rc = XB_ERR_IO;
            describe_failure(p, what, res, status, why, sizeof(why));
            goto fail;
        }
        xwhy[0] = 0;
        rc = xb_creds_parse_sts(body, p->resp.len, &got, xwhy, sizeof(xwhy));
        if (rc != XB_OK || status != 200) {
            if (rc == XB_OK)
                xb_creds_parsed_cleanup(&got);
            xb_aws_errf(why, sizeof(why), "%s: HTTP %ld%s%s%s", what, status, xwhy[0] ? " (" : "",
                        xwhy, xwhy[0] ? ")" : "");
            rc = rc == XB_ERR_NOMEM ? rc : XB_ERR_IO;
            goto fail;
        }
        if (st == ST_HOP)
            p->hop_idx++;
        break;
    }
    case ST_CONTAINER:
    case ST_IMDS_CREDS: {
        const char *what = st == ST_CONTAINER ? "container" : "imds";
        char jwhy[256];
        if (res != CURLE_OK || status != 200) {
            rc = XB_ERR_IO;
            describe_failure(p, what, res, status, why, sizeof(why));
            goto fail;
        }
        jwhy[0] = 0;
        rc = xb_creds_parse_json(body, p->resp.len, st == ST_CONTAINER, &got, jwhy, sizeof(jwhy));
        if (rc != XB_OK) {
            xb_aws_errf(why, sizeof(why), "%s: %s", what, jwhy);
            goto fail;
        }
        break;
    }
    case ST_IMDS_TOKEN: {
        enum xb_imds_token_answer tok = res == CURLE_OK
                                            ? xb_imds_token_classify(status, body, p->resp.len)
                                            : XB_IMDS_TOKEN_FAIL;
        if (tok == XB_IMDS_TOKEN_FAIL) {
            rc = XB_ERR_IO;
            describe_failure(p, "imds: token request", res, status, why, sizeof(why));
            goto fail;
        }
        /* "" = IMDSv1 fallback: the following requests carry no token. */
        p->imds_token = strdup(tok == XB_IMDS_TOKEN_V2 ? body : "");
        if (!p->imds_token)
            goto fail_nomem;
        p->imds_token_until_ns = xb_clock_mono_ns() + XB_IMDS_TOKEN_REUSE_S * 1000000000ull;
        if ((rc = imds_get(p, ST_IMDS_ROLE, "/latest/meta-data/iam/security-credentials/")))
            goto fail_nomem;
        return;
    }
    case ST_IMDS_ROLE: {
        char path[400];
        size_t n;
        if (res == CURLE_OK && status == 401 && !p->imds_retried) {
            /* Token expired or required: fetch a new one once. */
            p->imds_retried = 1;
            xb_creds_wipe_free(p->imds_token);
            p->imds_token = NULL;
            if ((rc = start_imds(p, why, sizeof(why))))
                goto fail;
            return;
        }
        if (res != CURLE_OK || status != 200) {
            rc = XB_ERR_IO;
            describe_failure(
                p, status == 404 ? "imds: no instance role attached" : "imds: role name request",
                res, status, why, sizeof(why));
            goto fail;
        }
        n = strcspn(body, "\r\n");
        while (n && isspace((unsigned char)body[n - 1]))
            n--;
        if (n == 0 || n > 128) {
            rc = XB_ERR_INVALID;
            xb_aws_errf(why, sizeof(why), "imds: no instance role name in the answer");
            goto fail;
        }
        for (size_t i = 0; i < n; i++)
            if (!(isalnum((unsigned char)body[i]) || strchr("+=,.@_-", body[i]))) {
                rc = XB_ERR_INVALID;
                xb_aws_errf(why, sizeof(why), "imds: malformed instance role name");
                goto fail;
            }
        snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%.*s", (int)n,
                 body);
        if ((rc = imds_get(p, ST_IMDS_CREDS, path)))
            goto fail_nomem;
        return;
    }
    default:
        rc = XB_ERR_INVALID;
        xb_aws_errf(why, sizeof(why), "internal error: unexpected answer");
        goto fail;
    }
    http_reset(p);
    xb_creds_parsed_cleanup(&p->work);
    p->work = got;
    advance(p);
    return;
fail_nomem:
    rc = XB_ERR_NOMEM;
    xb_aws_errf(why, sizeof(why), "out of memory");
fail:
    http_reset(p);
    xb_creds_parsed_cleanup(&got);
    finish(p, rc, why);
}

static void on_retry(evutil_socket_t fd, short what, void *ud)
{
    struct xb_creds_provider *p = ud;
    if (!p->refreshing)
        start_refresh(p);
}

/* ======================================================================== */
/* Public API                                                               */
/* ======================================================================== */

int xb_creds_provider_new(struct event_base *base, struct xb_curl_loop *curl,
                          const struct xb_creds_provider_opts *o, struct xb_creds_provider **out,
                          char *err_desc, size_t err_desc_len)
{
    struct xb_creds_provider *p;
    int rc = XB_ERR_NOMEM;

    *out = NULL;
    if (o->region && *o->region && !xb_region_valid(o->region)) {
        xb_aws_errf(err_desc, err_desc_len, "credentials: region \"%s\" is malformed", o->region);
        return XB_ERR_CONFIG;
    }
    if (o->role_arn && *o->role_arn && strncmp(o->role_arn, "arn:", 4) != 0) {
        xb_aws_errf(err_desc, err_desc_len,
                    "credentials: role_arn must be an ARN (arn:aws:iam::<account>:role/<name>)");
        return XB_ERR_CONFIG;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        goto fail;
    p->curl = curl;
    p->source = "none";
    p->pending_tail = &p->pending;
    p->ready_tail = &p->ready;
    xb_buf_init(&p->resp, MAX_RESPONSE);
    if (xb_aws_dup_opt(o->region, &p->region) || xb_aws_dup_opt(o->role_arn, &p->role_arn) ||
        xb_aws_dup_opt(o->role_session_name ? o->role_session_name : "xraybridge",
                       &p->role_session) ||
        xb_aws_dup_opt(o->profile, &p->profile) || xb_aws_dup_opt(o->ca_file, &p->ca_file) ||
        xb_aws_dup_opt(o->proxy, &p->proxy))
        goto fail;
    /* Once, at start-up: a clear-text STS endpoint would carry the web-identity token. */
    xb_url_warn_if_cleartext(LOG_WHO, "STS endpoint (AWS_ENDPOINT_URL_STS)",
                             xb_aws_getenv("AWS_ENDPOINT_URL_STS"));
    p->notify = event_new(base, -1, 0, on_notify, p);
    p->retry = evtimer_new(base, on_retry, p);
    if (!p->notify || !p->retry)
        goto fail;
    *out = p;
    return XB_OK;
fail:
    xb_aws_errf(err_desc, err_desc_len, "credentials: out of memory");
    really_free(p);
    return rc;
}

static void really_free(struct xb_creds_provider *p)
{
    struct waiter *w, *next;
    if (!p)
        return;
    if (p->easy) {
        xb_curl_loop_remove(p->curl, p->easy);
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
    }
    http_reset(p);
    for (w = p->pending; w; w = next) {
        next = w->next;
        free(w);
    }
    for (w = p->ready; w; w = next) {
        next = w->next;
        free(w);
    }
    if (p->notify)
        event_free(p->notify);
    if (p->retry)
        event_free(p->retry);
    xb_creds_plan_cleanup(&p->plan);
    xb_creds_parsed_cleanup(&p->work);
    xb_creds_parsed_cleanup(&p->cur);
    xb_creds_wipe_free(p->imds_token);
    free(p->region);
    free(p->role_arn);
    free(p->role_session);
    free(p->profile);
    free(p->ca_file);
    free(p->proxy);
    free(p);
}

void xb_creds_provider_free(struct xb_creds_provider *p)
{
    if (!p)
        return;
    if (p->dispatching) {
        p->free_requested = 1;
        return;
    }
    really_free(p);
}

const struct xb_aws_creds *xb_creds_provider_current(struct xb_creds_provider *p)
{
    return usable_now(p, REFRESH_MARGIN_S) ? &p->view : NULL;
}

int xb_creds_provider_get(struct xb_creds_provider *p, xb_creds_cb cb, void *ud)
{
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return XB_ERR_NOMEM;
    w->cb = cb;
    w->ud = ud;
    if (usable_now(p, REFRESH_MARGIN_S)) {
        answer(p, w, XB_OK, NULL);
        return XB_OK;
    }
    if (!p->refreshing && p->backoff_until_ns && xb_clock_mono_ns() < p->backoff_until_ns) {
        if (usable_now(p, 0))
            answer(p, w, XB_OK, NULL);
        else
            answer(p, w, p->last_rc ? p->last_rc : XB_ERR_AGAIN, p->last_err);
        return XB_OK;
    }
    *p->pending_tail = w;
    p->pending_tail = &w->next;
    if (!p->refreshing)
        start_refresh(p);
    return XB_OK;
}

const char *xb_creds_provider_source(const struct xb_creds_provider *p)
{
    return p->source;
}

uint64_t xb_creds_provider_refreshes(const struct xb_creds_provider *p)
{
    return p->refreshes;
}

uint64_t xb_creds_provider_refresh_failures(const struct xb_creds_provider *p)
{
    return p->failures;
}

int64_t xb_creds_provider_expiration(const struct xb_creds_provider *p)
{
    return p->have ? p->cur.expiration : 0;
}
