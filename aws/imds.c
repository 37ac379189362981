#include "aws/imds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

const char *xb_imds_endpoint(void)
{
    const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (ep && *ep)
        return ep;
    if (mode && *mode && strcasecmp(mode, "IPv6") == 0)
        return "http://[fd00:ec2::254]";
    return "http://169.254.169.254";
}

enum xb_imds_token_answer xb_imds_token_classify(long status, const char *body, size_t len)
{
    if (status == 200 && len > 0 && len < 512 && !strpbrk(body, "\r\n"))
        return XB_IMDS_TOKEN_V2;
    if (status == 403 || status == 404 || status == 405)
        return XB_IMDS_TOKEN_V1;
    return XB_IMDS_TOKEN_FAIL;
}

static void call_init(struct xb_imds_call *c, const char *method)
{
    memset(&c->req, 0, sizeof(c->req));
    c->req.method = method;
    c->req.url = c->url;
    c->req.connect_timeout_ms = XB_IMDS_CONNECT_TIMEOUT_MS;
    c->req.timeout_ms = XB_IMDS_TIMEOUT_MS;
    c->req.proxy = ""; /* link-local: never through a proxy */
}

int xb_imds_token_call(struct xb_imds_call *c, const char *endpoint)
{
    int n = snprintf(c->url, sizeof(c->url), "%s/latest/api/token", endpoint);
    if (n < 0 || (size_t)n >= sizeof(c->url))
        return XB_ERR_TOO_LARGE;
    call_init(c, "PUT");
    snprintf(c->ttl, sizeof(c->ttl), "%d", XB_IMDS_TOKEN_TTL_S);
    c->header = (struct xb_sigv4_header){"X-aws-ec2-metadata-token-ttl-seconds", c->ttl};
    c->req.headers = &c->header;
    c->req.n_headers = 1;
    return XB_OK;
}

int xb_imds_get_call(struct xb_imds_call *c, const char *endpoint, const char *path,
                     const char *token)
{
    int n = snprintf(c->url, sizeof(c->url), "%s%s", endpoint, path);
    if (n < 0 || (size_t)n >= sizeof(c->url))
        return XB_ERR_TOO_LARGE;
    call_init(c, "GET");
    if (token && *token) {
        c->header = (struct xb_sigv4_header){"X-aws-ec2-metadata-token", token};
        c->req.headers = &c->header;
        c->req.n_headers = 1;
    }
    return XB_OK;
}

/* ---- blocking use (start-up) -------------------------------------------------- */

struct membuf {
    char data[512];
    size_t len;
};

static size_t membuf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct membuf *m = ud;
    size_t n = size * nmemb;
    if (m->len + n >= sizeof(m->data))
        return 0; /* too long for any metadata value we read: fail the transfer */
    memcpy(m->data + m->len, ptr, n);
    m->len += n;
    m->data[m->len] = 0;
    return n;
}

/* Runs |c| to completion. Returns the HTTP status, or -1 on a transport failure
 * (|curl_err| filled), or -2 when out of memory. */
static long perform(struct xb_imds_call *c, struct membuf *m, char *curl_err)
{
    CURL *e = NULL;
    struct curl_slist *h = NULL;
    long status = -1;

    memset(m, 0, sizeof(*m));
    /* One request bounded by 1 s in all, so the whole lookup stays near 2 s. */
    c->req.timeout_ms = XB_IMDS_CONNECT_TIMEOUT_MS;
    c->req.on_body = membuf_write;
    c->req.on_body_ud = m;
    c->req.errbuf = curl_err;
    if (xb_aws_request_build(&c->req, &e, &h, NULL, 0) != XB_OK)
        return -2;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    else if (!curl_err[0])
        snprintf(curl_err, CURL_ERROR_SIZE, "transfer failed");
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return status;
}

int xb_imds_get_blocking(const char *what, const char *path, char *out, size_t out_len,
                         char *err_desc, size_t err_desc_len)
{
    const char *ep = xb_imds_endpoint();
    char cerr[CURL_ERROR_SIZE], token[512];
    struct xb_imds_call c;
    struct membuf m;
    enum xb_imds_token_answer tok;
    long st;
    int rc = XB_ERR_NOT_FOUND;
    size_t n;

    token[0] = 0;
    if (xb_imds_token_call(&c, ep) != XB_OK) {
        snprintf(err_desc, err_desc_len, "endpoint %s is too long", ep);
        return XB_ERR_NOT_FOUND;
    }
    st = perform(&c, &m, cerr);
    if (st == -2)
        return XB_ERR_NOMEM;
    tok = st < 0 ? XB_IMDS_TOKEN_FAIL : xb_imds_token_classify(st, m.data, m.len);
    if (tok == XB_IMDS_TOKEN_FAIL) {
        snprintf(err_desc, err_desc_len, "token request to %s failed (%s)", ep,
                 st < 0 ? cerr : "unexpected HTTP status");
        goto out;
    }
    if (tok == XB_IMDS_TOKEN_V2)
        memcpy(token, m.data, m.len + 1);
    if (xb_imds_get_call(&c, ep, path, token) != XB_OK) {
        snprintf(err_desc, err_desc_len, "endpoint %s is too long", ep);
        goto out;
    }
    st = perform(&c, &m, cerr);
    if (st == -2) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (st < 0) {
        snprintf(err_desc, err_desc_len, "%s request to %s failed (%s)", what, ep, cerr);
        goto out;
    }
    if (st != 200) {
        snprintf(err_desc, err_desc_len, "%s request to %s failed (HTTP %ld)", what, ep, st);
        goto out;
    }
    n = m.len;
    while (n && isspace((unsigned char)m.data[n - 1]))
        m.data[--n] = 0;
    if (n + 1 > out_len) {
        rc = XB_ERR_TOO_LARGE;
        snprintf(err_desc, err_desc_len, "%s buffer too small", what);
        goto out;
    }
    memcpy(out, m.data, n + 1);
    rc = XB_OK;
out:
    memset(token, 0, sizeof(token));
    memset(&m, 0, sizeof(m));
    return rc;
}
