#include "exporter/http_call.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

void xb_http_call_init(struct xb_http_call *c, struct xb_curl_loop *loop, void *owner,
                       size_t resp_max)
{
    memset(c, 0, sizeof(*c));
    c->loop = loop;
    c->owner = owner;
    c->resp_max = resp_max;
    xb_buf_init(&c->body, 0);
    xb_buf_init(&c->resp, 0);
}

void xb_http_call_cleanup(struct xb_http_call *c, int in_loop)
{
    if (c->easy) {
        if (in_loop)
            xb_curl_loop_remove(c->loop, c->easy);
        curl_easy_cleanup(c->easy);
        c->easy = NULL;
    }
    curl_slist_free_all(c->headers);
    c->headers = NULL;
    xb_buf_cleanup(&c->body);
    xb_buf_cleanup(&c->resp);
}

size_t xb_http_call_take_body(struct xb_http_call *c, const char *p, size_t n)
{
    if (c->resp.len + n > c->resp_max)
        return n;
    if (xb_buf_append(&c->resp, p, n))
        return 0;
    return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    return xb_http_call_take_body(ud, p, size * nmemb);
}

int xb_http_call_build(struct xb_http_call *c, const struct xb_aws_request *req,
                       curl_write_callback on_header, void *header_ud)
{
    struct xb_aws_request r = *req;
    int rc;

    if (r.n_pieces) {
        r.reader = &c->reader;
    } else {
        r.body = c->body.data;
        r.body_len = c->body.len;
    }
    r.on_body = on_body;
    r.on_body_ud = c;
    r.errbuf = c->errbuf;
    if (c->easy)
        rc = xb_aws_request_rearm(&r, c->easy, &c->headers, NULL, 0);
    else
        rc = xb_aws_request_build(&r, &c->easy, &c->headers, NULL, 0);
    if (rc == XB_OK && on_header) {
        curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, header_ud);
    }
    return rc;
}

int xb_http_call_add(struct xb_http_call *c, struct xb_http_calls *list, xb_curl_done_cb done,
                     void *ud)
{
    if (xb_curl_loop_add(c->loop, c->easy, done, ud) != XB_OK)
        return XB_ERR_NOMEM;
    c->next = list->head;
    list->head = c;
    list->n++;
    return XB_OK;
}

void xb_http_calls_unlink(struct xb_http_calls *list, struct xb_http_call *c)
{
    for (struct xb_http_call **pp = &list->head; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            c->next = NULL;
            list->n--;
            return;
        }
    }
}

long xb_http_call_status(const struct xb_http_call *c)
{
    long status = 0;
    if (c->easy)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

const char *xb_http_call_error(const struct xb_http_call *c, CURLcode res)
{
    return c->errbuf[0] ? c->errbuf : curl_easy_strerror(res);
}

int xb_http_header_value(const char *line, size_t n, const char *name, char *out, size_t out_len)
{
    size_t name_len = strlen(name);
    size_t len;

    if (n <= name_len || strncasecmp(line, name, name_len) != 0)
        return 0;
    len = n - name_len;
    if (len >= out_len)
        len = out_len - 1;
    memcpy(out, line + name_len, len);
    out[len] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return 1;
}

int xb_body_spare_keeps(size_t buf_cap, size_t n, size_t cap, size_t max_bytes)
{
    return buf_cap > 0 && buf_cap <= max_bytes && n < cap;
}

int xb_body_spares_init(struct xb_body_spares *s, size_t cap, size_t max_bytes)
{
    memset(s, 0, sizeof(*s));
    s->max_bytes = max_bytes;
    if (cap == 0)
        return XB_OK;
    s->b = calloc(cap, sizeof(*s->b));
    if (!s->b)
        return XB_ERR_NOMEM;
    s->cap = cap;
    return XB_OK;
}

void xb_body_spares_take(struct xb_body_spares *s, struct xb_buf *out)
{
    size_t max = out->max;
    if (!s->n)
        return;
    *out = s->b[--s->n];
    out->max = max;
    xb_buf_clear(out);
}

void xb_body_spares_put(struct xb_body_spares *s, struct xb_buf *b)
{
    if (xb_body_spare_keeps(b->data ? b->cap : 0, s->n, s->cap, s->max_bytes)) {
        s->b[s->n++] = *b;
        xb_buf_init(b, b->max);
        return;
    }
    xb_buf_cleanup(b);
}

void xb_body_spares_cleanup(struct xb_body_spares *s)
{
    while (s->n)
        xb_buf_cleanup(&s->b[--s->n]);
    free(s->b);
    s->b = NULL;
    s->cap = 0;
}
