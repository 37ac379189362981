#include "receiver/otlp_http.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "receiver/listen.h"
#include "receiver/status.h"

#define TRACES_PATH "/v1/traces"
#define CT_PROTOBUF "application/x-protobuf"
#define CT_JSON "application/json"

struct xb_http_server {
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct xb_ingest *ing;
    struct xb_http_server_opts opts;
    struct xb_buf out; /* reused response body */
    int draining;
};

/* Case-insensitive match of a media type, ignoring parameters ("; charset=utf-8"). */
static int media_type_is(const char *value, const char *type)
{
    size_t n = strlen(type);
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, type, n) != 0)
        return 0;
    value += n;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value == '\0' || *value == ';';
}

static void send_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
    struct evbuffer *b = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    if (b)
        evbuffer_add_printf(b, "%s\n", text);
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

static const char *reason_of(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* Sends |r| with a body in the request's encoding (|json|). */
static void send_reply(struct xb_http_server *s, struct evhttp_request *req, int json,
                       const struct xb_ingest_outcome *o, const struct xb_reply *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    char retry[16];
    int rc;

    xb_buf_clear(&s->out);
    if (r->http_status == 200)
        rc = xb_reply_success_body(o, json, &s->out);
    else
        rc = xb_reply_status_body(r->grpc_code, r->message, 0, json, &s->out);
    evhttp_add_header(h, "Content-Type", json ? CT_JSON : CT_PROTOBUF);
    if (r->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%d", r->retry_after_s);
        evhttp_add_header(h, "Retry-After", retry);
    }
    if (s->draining)
        evhttp_add_header(h, "Connection", "close");
    if (b && rc == XB_OK)
        evbuffer_add(b, s->out.data, s->out.len);
    evhttp_send_reply(req, r->http_status, reason_of(r->http_status), b);
    if (b)
        evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *ud)
{
    struct xb_http_server *s = ud;
    struct evkeyvalq *in_h = evhttp_request_get_input_headers(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *ct = evhttp_find_header(in_h, "Content-Type");
    const char *ce = evhttp_find_header(in_h, "Content-Encoding");
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    struct xb_ingest_outcome o;
    struct xb_reply r;
    int json, gzip = 0;
    size_t len;
    void *data;

    if (!path || strcmp(path, TRACES_PATH) != 0) {
        send_text(req, 404, "Not Found", "not found: OTLP traces are accepted at POST /v1/traces");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
        send_text(req, 405, "Method Not Allowed", "method not allowed, supported: [POST]");
        return;
    }
    if (ct && media_type_is(ct, CT_PROTOBUF)) {
        json = 0;
    } else if (ct && media_type_is(ct, CT_JSON)) {
        json = 1;
    } else {
        send_text(req, 415, "Unsupported Media Type",
                  "unsupported content type, supported: [application/json, "
                  "application/x-protobuf]");
        return;
    }
    if (s->draining) {
        o = (struct xb_ingest_outcome){.rc = XB_ERR_AGAIN,
                                       .err_desc = "shutting down, retry on another connection"};
        xb_ingest_account(XB_TRANSPORT_HTTP, &o);
        xb_reply_from_outcome(&o, &r);
        send_reply(s, req, json, &o, &r);
        return;
    }
    if (ce && strcasecmp(ce, "gzip") == 0) {
        gzip = 1;
    } else if (ce && *ce && strcasecmp(ce, "identity") != 0) {
        o = (struct xb_ingest_outcome){.rc = XB_ERR_INVALID,
                                       .err_desc = "unsupported Content-Encoding (use gzip or none)"};
        xb_ingest_account(XB_TRANSPORT_HTTP, &o);
        xb_reply_from_outcome(&o, &r);
        send_reply(s, req, json, &o, &r);
        return;
    }
    len = evbuffer_get_length(body);
    data = evbuffer_pullup(body, -1);
    xb_ingest_export(s->ing, XB_TRANSPORT_HTTP, json ? XB_BODY_JSON : XB_BODY_PROTOBUF, gzip,
                     data ? data : "", len, s->opts.max_body_bytes, &o);
    xb_reply_from_outcome(&o, &r);
    send_reply(s, req, json, &o, &r);
}

int xb_http_server_start(struct event_base *base, struct xb_ingest *ing,
                         const struct xb_http_server_opts *opts, struct xb_http_server **out,
                         char *err, size_t err_len)
{
    struct xb_http_server *s = calloc(1, sizeof(*s));
    struct evconnlistener *l;
    char bound[128];

    if (!s)
        return XB_ERR_NOMEM;
    s->ing = ing;
    s->opts = *opts;
    xb_buf_init(&s->out, 0);
    s->http = evhttp_new(base);
    if (!s->http) {
        free(s);
        return XB_ERR_NOMEM;
    }
    /* Let every method reach on_request so that wrong ones get 405, not 501. */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    /* libevent answers 413 itself for bodies over the limit, before buffering them. */
    evhttp_set_max_body_size(s->http, (ev_ssize_t)opts->max_body_bytes);
    evhttp_set_max_headers_size(s->http, 64 * 1024);
    evhttp_set_timeout(s->http, (int)(opts->idle_timeout_s ? opts->idle_timeout_s : 60));
    evhttp_set_gencb(s->http, on_request, s);
    if (opts->tls)
        evhttp_set_bevcb(s->http, xb_tls_evhttp_bevcb, opts->tls);
    l = xb_listen(base, opts->endpoint, NULL, NULL, bound, sizeof(bound));
    if (!l) {
        snprintf(err, err_len, "otlp http receiver: %s", bound);
        evhttp_free(s->http);
        free(s);
        return XB_ERR_IO;
    }
    if (opts->tls)
        xb_tls_listener_nodelay(l);
    s->bound = evhttp_bind_listener(s->http, l);
    if (!s->bound) {
        snprintf(err, err_len, "otlp http receiver: cannot attach listener");
        evconnlistener_free(l);
        evhttp_free(s->http);
        free(s);
        return XB_ERR_IO;
    }
    XB_INFO("http", "otlp http receiver listening on %s", bound);
    *out = s;
    return XB_OK;
}

void xb_http_server_drain(struct xb_http_server *s)
{
    if (!s || s->draining)
        return;
    s->draining = 1;
    if (s->bound) {
        evhttp_del_accept_socket(s->http, s->bound);
        s->bound = NULL;
    }
}

void xb_http_server_free(struct xb_http_server *s)
{
    if (!s)
        return;
    evhttp_free(s->http);
    xb_buf_cleanup(&s->out);
    free(s);
}
