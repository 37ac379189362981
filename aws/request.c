#include "aws/request.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/proxy_env.h"
#include "aws/url.h"
#include "aws/util.h"
#include "core/err.h"

#define MAX_SIGNED_HEADERS 16
/* libcurl's upload buffer for a body sent as pieces (CURLOPT_UPLOAD_BUFFERSIZE): one
 * read and one send() for a body up to this size. Bytes; one per handle in use. */
#define UPLOAD_BUFFER_BYTES (128 * 1024)

/* Appends "Name: value" to |*l|. The temporary line (on the stack when it fits, as
 * every header of a call does unless a session token is long) is wiped: values may be
 * secrets. Returns 0 or XB_ERR_NOMEM (|*l| unchanged). */
static int header_add(struct curl_slist **l, const char *name, const char *value)
{
    char small[512];
    size_t name_len = strlen(name), value_len = strlen(value);
    size_t n = name_len + value_len + 3;
    char *line = n <= sizeof(small) ? small : malloc(n);
    struct curl_slist *nl;
    if (!line)
        return XB_ERR_NOMEM;
    memcpy(line, name, name_len);
    memcpy(line + name_len, ": ", 2);
    memcpy(line + name_len + 2, value, value_len + 1);
    nl = curl_slist_append(*l, line);
    OPENSSL_cleanse(line, n); /* not optimised away, unlike a memset of a dead buffer */
    if (line != small)
        free(line);
    if (!nl)
        return XB_ERR_NOMEM;
    *l = nl;
    return XB_OK;
}

/* Host (with the port when the URL names one), path and query of |url| as signed. */
struct url_parts {
    char *host, *port, *path, *query;
    char hostport[600];
};

static void url_parts_free(struct url_parts *u)
{
    curl_free(u->host);
    curl_free(u->port);
    curl_free(u->path);
    curl_free(u->query);
}

static int url_split(const char *url, struct url_parts *out, char *err_desc, size_t err_desc_len)
{
    CURLU *u = curl_url();
    int rc = XB_ERR_CONFIG;
    char shown[512];

    memset(out, 0, sizeof(*out));
    if (!u)
        return XB_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &out->host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &out->path, 0) != CURLUE_OK) {
        xb_aws_errf(err_desc, err_desc_len, "%s is not a valid URL",
                    xb_url_redact(url, shown, sizeof(shown)));
        goto out;
    }
    /* Port and query only when the URL gives them. */
    curl_url_get(u, CURLUPART_PORT, &out->port, 0);
    curl_url_get(u, CURLUPART_QUERY, &out->query, 0);
    if (out->port)
        snprintf(out->hostport, sizeof(out->hostport), "%s:%s", out->host, out->port);
    else
        snprintf(out->hostport, sizeof(out->hostport), "%s", out->host);
    rc = XB_OK;
out:
    curl_url_cleanup(u);
    if (rc != XB_OK)
        url_parts_free(out);
    return rc;
}

/* The parts of the URL last signed on this thread, as copies: an exporter signs the same
 * URL on every call, and splitting it with libcurl's URL API (a parse and four
 * allocated copies) cost about as much as the rest of building the header list.
 * Thread-local, so no lock; URLs or parts too long for it are split every time. */
struct url_memo {
    char url[512];
    char hostport[sizeof(((struct url_parts *)0)->hostport)];
    char path[512];
    char query[512];
    int has_query;
};
static _Thread_local struct url_memo memo;

/* What signing needs of a URL; points into a url_parts or into the memo. */
struct url_view {
    const char *hostport, *path, *query;
};

static void memo_store(const char *url, const struct url_parts *u)
{
    size_t n = strlen(url);
    memo.url[0] = '\0';
    if (n >= sizeof(memo.url) || strlen(u->path) >= sizeof(memo.path) ||
        (u->query && strlen(u->query) >= sizeof(memo.query)))
        return;
    memcpy(memo.hostport, u->hostport, sizeof(memo.hostport));
    strcpy(memo.path, u->path);
    memo.has_query = u->query != NULL;
    strcpy(memo.query, u->query ? u->query : "");
    memcpy(memo.url, url, n + 1);
}

/* Splits |url| (or finds it in the memo) into |*v|; |*u| holds what must be freed
 * with url_parts_free afterwards (nothing when the memo answered). */
static int url_view(const char *url, struct url_parts *u, struct url_view *v, char *err_desc,
                    size_t err_desc_len)
{
    int rc;
    memset(u, 0, sizeof(*u));
    if (memo.url[0] && strcmp(memo.url, url) == 0) {
        *v = (struct url_view){memo.hostport, memo.path, memo.has_query ? memo.query : NULL};
        return XB_OK;
    }
    rc = url_split(url, u, err_desc, err_desc_len);
    if (rc != XB_OK)
        return rc;
    memo_store(url, u);
    *v = (struct url_view){u->hostport, u->path, u->query};
    return XB_OK;
}

static int has_token(const struct xb_aws_creds *c)
{
    return c && c->session_token && *c->session_token;
}

/* Signs |r| and builds its full header list into |*l|. */
static int signed_headers(const struct xb_aws_request *r, struct curl_slist **l, char *err_desc,
                          size_t err_desc_len)
{
    struct xb_sigv4_header sh[MAX_SIGNED_HEADERS + 1];
    struct xb_sigv4_request sreq;
    struct xb_sigv4_result sig;
    struct url_parts u;
    struct url_view v;
    size_t nsh = 0;
    int rc;

    if (r->n_headers > MAX_SIGNED_HEADERS) {
        xb_aws_errf(err_desc, err_desc_len, "too many headers to sign");
        return XB_ERR_TOO_LARGE;
    }
    rc = url_view(r->url, &u, &v, err_desc, err_desc_len);
    if (rc != XB_OK)
        return rc;
    sh[nsh++] = (struct xb_sigv4_header){"host", v.hostport};
    for (size_t i = 0; i < r->n_headers; i++)
        sh[nsh++] = r->headers[i];
    sreq = (struct xb_sigv4_request){
        r->method, v.path, v.query, sh, nsh, r->body ? r->body : "", r->body ? r->body_len : 0};
    if (r->n_pieces)
        rc = xb_sigv4_sign_pieces(&sreq, r->pieces, r->n_pieces, r->sign.region, r->sign.service,
                                  r->sign.creds, r->sign.now, &sig);
    else
        rc =
            xb_sigv4_sign(&sreq, r->sign.region, r->sign.service, r->sign.creds, r->sign.now, &sig);
    if (rc != XB_OK) {
        xb_aws_errf(err_desc, err_desc_len, "cannot sign the request: %s", xb_strerror(rc));
        goto out;
    }
    rc = XB_ERR_NOMEM;
    if (header_add(l, "Host", v.hostport) != XB_OK)
        goto out;
    for (size_t i = 0; i < r->n_headers; i++)
        if (header_add(l, r->headers[i].name, r->headers[i].value) != XB_OK)
            goto out;
    if (header_add(l, "X-Amz-Date", sig.amz_date) != XB_OK ||
        (has_token(r->sign.creds) &&
         header_add(l, "X-Amz-Security-Token", r->sign.creds->session_token) != XB_OK) ||
        header_add(l, "Authorization", sig.authorization) != XB_OK)
        goto out;
    rc = XB_OK;
out:
    memset(&sig, 0, sizeof(sig));
    url_parts_free(&u);
    return rc;
}

/* Whether |r| sends a body (every method but GET). */
static int has_body(const struct xb_aws_request *r)
{
    return strcmp(r->method, "GET") != 0;
}

/* The header list of |r|: signed when |r->sign.service| is set, "Expect:" after a body. */
static int header_list(const struct xb_aws_request *r, struct curl_slist **out, char *err_desc,
                       size_t err_desc_len)
{
    struct curl_slist *l = NULL, *t;
    int rc;

    if (r->n_pieces && !r->reader) {
        xb_aws_errf(err_desc, err_desc_len, "a body of pieces needs a reader");
        return XB_ERR_INVALID;
    }
    if (r->sign.service) {
        rc = signed_headers(r, &l, err_desc, err_desc_len);
        if (rc != XB_OK)
            goto fail;
    } else {
        for (size_t i = 0; i < r->n_headers; i++)
            if ((rc = header_add(&l, r->headers[i].name, r->headers[i].value)) != XB_OK)
                goto nomem;
    }
    if (has_body(r)) {
        if (!(t = curl_slist_append(l, "Expect:"))) /* no 100-continue round trip */
            goto nomem;
        l = t;
    }
    *out = l;
    return XB_OK;
nomem:
    rc = XB_ERR_NOMEM;
    xb_aws_errf(err_desc, err_desc_len, "out of memory");
fail:
    curl_slist_free_all(l);
    return rc;
}

/* libcurl's read callback for a body of pieces: the next bytes of |ud|'s body. */
static size_t read_pieces(char *buf, size_t size, size_t nitems, void *ud)
{
    return xb_pieces_read(ud, buf, size * nitems);
}

/* libcurl's seek callback for a body of pieces: it rewinds (offset 0) to send the
 * request again, e.g. when a reused connection turned out closed. */
static int seek_pieces(void *ud, curl_off_t offset, int origin)
{
    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    return xb_pieces_seek(ud, (size_t)offset) == XB_OK ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
}

/* No read or seek callback (libcurl's defaults, which a POSTFIELDS body never calls):
 * nothing points to an earlier call's pieces reader. */
static void clear_reader(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_READFUNCTION, NULL);
    curl_easy_setopt(e, CURLOPT_READDATA, NULL);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, NULL);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, NULL);
}

/* The options that change from one call to the next: headers, body, response sink. */
static void set_per_call(CURL *e, const struct xb_aws_request *r, struct curl_slist *l)
{
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
    if (has_body(r) && r->n_pieces) {
        xb_pieces_reader_init(r->reader, r->pieces, r->n_pieces);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL); /* read through the callback */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->reader->total);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_pieces);
        curl_easy_setopt(e, CURLOPT_READDATA, r->reader);
        /* A 50-document PutTraceSegments body (about 80 KB) read and sent at once: with
         * libcurl's 64 KiB default it took two reads and two send() calls. */
        curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_BUFFER_BYTES);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_pieces);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, r->reader);
    } else if (has_body(r)) {
        clear_reader(e);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
    }
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r->on_body_ud);
    if (r->errbuf) {
        r->errbuf[0] = 0;
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    }
}

int xb_aws_request_build(const struct xb_aws_request *r, CURL **easy, struct curl_slist **hdrs,
                         char *err_desc, size_t err_desc_len)
{
    struct curl_slist *l = NULL;
    const char *proxy, *noproxy;
    CURL *e = NULL;
    int rc;

    *easy = NULL;
    *hdrs = NULL;
    rc = header_list(r, &l, err_desc, err_desc_len);
    if (rc != XB_OK)
        return rc;
    if (!(e = curl_easy_init())) {
        xb_aws_errf(err_desc, err_desc_len, "out of memory");
        curl_slist_free_all(l);
        return XB_ERR_NOMEM;
    }
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    if (has_body(r) && strcmp(r->method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, r->on_body);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : 0L);
    if (r->user_agent)
        curl_easy_setopt(e, CURLOPT_USERAGENT, r->user_agent);
    if (r->tls_no_verify) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r->ca_file && *r->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
    /* Pinned when libcurl's per-transfer environment look-ups cannot change the outcome
     * (aws/proxy_env.h). */
    xb_proxy_env_opts(xb_proxy_env_process(), r->proxy, &proxy, &noproxy);
    if (proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    if (noproxy)
        curl_easy_setopt(e, CURLOPT_NOPROXY, noproxy);
    set_per_call(e, r, l);
    *easy = e;
    *hdrs = l;
    return XB_OK;
}

int xb_aws_request_rearm(const struct xb_aws_request *r, CURL *easy, struct curl_slist **hdrs,
                         char *err_desc, size_t err_desc_len)
{
    struct curl_slist *l = NULL;
    int rc;

    *hdrs = NULL;
    rc = header_list(r, &l, err_desc, err_desc_len);
    if (rc != XB_OK)
        return rc;
    set_per_call(easy, r, l);
    *hdrs = l;
    return XB_OK;
}

int xb_easy_spare_keeps(CURLcode res, size_t n, size_t cap)
{
    return res == CURLE_OK && n < cap;
}

int xb_easy_spares_init(struct xb_easy_spares *s, size_t cap)
{
    s->n = 0;
    s->cap = 0;
    s->h = NULL;
    if (cap == 0)
        return XB_OK;
    s->h = calloc(cap, sizeof(*s->h));
    if (!s->h)
        return XB_ERR_NOMEM;
    s->cap = cap;
    return XB_OK;
}

CURL *xb_easy_spares_take(struct xb_easy_spares *s)
{
    return s->n ? s->h[--s->n] : NULL;
}

void xb_easy_spares_put(struct xb_easy_spares *s, CURL *easy, CURLcode res)
{
    if (!easy)
        return;
    if (!xb_easy_spare_keeps(res, s->n, s->cap)) {
        curl_easy_cleanup(easy);
        return;
    }
    /* Nothing of the finished call is pointed to while the handle waits. */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    clear_reader(easy);
    s->h[s->n++] = easy;
}

void xb_easy_spares_cleanup(struct xb_easy_spares *s)
{
    while (s->n)
        curl_easy_cleanup(s->h[--s->n]);
    free(s->h);
    s->h = NULL;
    s->cap = 0;
}
