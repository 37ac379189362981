/* translator/http.c - see http.h. */
#include "translator/http.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/err.h"

/* Every key this block consumes, in no particular order. */
static const char *const http_keys[] = {
    "http.method", "http.request.method", "http.client_ip", "http.user_agent",
    "user_agent.original", "http.status_code", "http.response.status_code", "http.url",
    "url.full", "http.scheme", "url.scheme", "http.host", "http.target", "http.server_name",
    "net.host.port", "host.name", "net.host.name", "net.peer.name", "net.peer.port",
    "net.peer.ip", "network.peer.address", "client.address", "url.path", "url.query",
    "server.address", "server.port",
};

static int is_ip(const char *s)
{
    unsigned char tmp[16];

    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

static struct xb_str cs(const char *s)
{
    struct xb_str r = {s, s ? strlen(s) : 0};
    return r;
}

/* Attribute value as pdata Str() (ports: AsString), or NULL when the key is absent. */
static const char *part(struct xb_attrs *a, const char *key)
{
    struct xb_attr *e = xb_attrs_live(a, key);

    return e ? xb_any_str(e->val) : NULL;
}

static const char *port_part(struct xb_attrs *a, const char *key, struct xb_arena *arena)
{
    struct xb_attr *e = xb_attrs_live(a, key);

    return e ? xb_any_as_string(e->val, arena) : NULL;
}

static int64_t size_from(xb_pb_kv *const *kv, size_t n)
{
    const xb_pb_any *type = NULL, *size = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (!kv[i] || !kv[i]->key)
            continue;
        if (!type && strcmp(kv[i]->key, "message.type") == 0)
            type = kv[i]->value;
        else if (!size && strcmp(kv[i]->key, "messaging.message_payload_size_bytes") == 0)
            size = kv[i]->value;
    }
    if (type && strcmp(xb_any_str(type), "RECEIVED") == 0 && size)
        return xb_any_int(size);
    return 0;
}

static int64_t response_size(const xb_pb_span *span)
{
    int64_t v = size_from(span->attributes, span->n_attributes);
    size_t i;

    for (i = 0; v == 0 && i < span->n_events; i++)
        if (span->events[i])
            v = size_from(span->events[i]->attributes, span->events[i]->n_attributes);
    return v;
}

int xb_http_build(struct xb_attrs *a, const xb_pb_span *span, struct xb_arena *arena,
                  struct xb_xhttp **out)
{
    struct xb_xhttp *h;
    const char *method, *ua, *url, *scheme, *host = NULL, *port = NULL, *target, *path, *query;
    const char *client_ip = NULL, *peer_ip, *net_peer_addr = NULL, *client_addr;
    struct xb_attr *st;
    int has_http = 0, has_host_attrs = 0, has_peer_addr = 0, server;
    size_t i, len;
    char *u;
    int rc = XB_OK;

    *out = NULL;
    method = part(a, "http.method");
    if (!method)
        method = part(a, "http.request.method");
    ua = part(a, "http.user_agent");
    if (!ua)
        ua = part(a, "user_agent.original");
    st = xb_attrs_live(a, "http.status_code");
    if (!st)
        st = xb_attrs_live(a, "http.response.status_code");
    url = part(a, "http.url");
    if (!url)
        url = part(a, "url.full");
    scheme = part(a, "http.scheme");
    if (!scheme)
        scheme = part(a, "url.scheme");
    target = part(a, "http.target");
    path = part(a, "url.path");
    query = part(a, "url.query");
    peer_ip = part(a, "net.peer.ip");
    client_addr = part(a, "client.address");
    if (client_addr && !is_ip(client_addr))
        client_addr = NULL;
    net_peer_addr = part(a, "network.peer.address");
    if (net_peer_addr && !is_ip(net_peer_addr))
        net_peer_addr = NULL;

    has_http = method || ua || st || url || scheme || part(a, "http.client_ip") ||
               part(a, "http.host") || target || part(a, "http.server_name") ||
               xb_attrs_live(a, "net.host.port") || path || query;
    has_host_attrs = url || part(a, "http.host") || part(a, "http.server_name") ||
                     part(a, "host.name") || part(a, "net.host.name") ||
                     part(a, "net.peer.name") || peer_ip || net_peer_addr ||
                     part(a, "server.address");
    has_peer_addr = peer_ip || net_peer_addr;

    /* client_ip: http.client_ip, then an IP client.address, then the peer address. */
    client_ip = part(a, "http.client_ip");
    if (!client_ip || !*client_ip)
        client_ip = client_addr;
    if (!client_ip || !*client_ip)
        client_ip = peer_ip;
    if (!client_ip || !*client_ip)
        client_ip = net_peer_addr;

    if (!has_http)
        goto consume;
    h = xb_arena_calloc(arena, sizeof(*h));
    if (!h) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    h->method = cs(method);
    h->user_agent = cs(ua);
    h->client_ip = cs(client_ip);
    if (client_ip && *client_ip && !has_peer_addr)
        h->x_forwarded_for = 1;
    if (st) {
        h->has_status = 1;
        h->status = xb_any_int(st->val);
    }
    h->content_length = response_size(span);

    if (url) {
        h->url = cs(url);
    } else if (has_host_attrs) {
        server = span->kind == XB_KIND_SERVER;
        if (!scheme)
            scheme = "http";
        host = part(a, "http.host");
        if (!host) {
            if (server) {
                host = part(a, "http.server_name");
                if (!host)
                    host = part(a, "net.host.name");
                if (!host)
                    host = part(a, "host.name");
                if (!host)
                    host = part(a, "server.address");
                port = port_part(a, "net.host.port", arena);
                if (!port)
                    port = port_part(a, "server.port", arena);
            } else {
                host = part(a, "net.peer.name");
                if (!host)
                    host = peer_ip;
                port = port_part(a, "net.peer.port", arena);
            }
            if (!host)
                host = "";
        }
        if (port && ((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                     (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0)))
            port = NULL;
        if (!target && !path)
            path = "/";
        len = strlen(scheme) + 3 + strlen(host) + (port ? strlen(port) + 1 : 0) +
              (target ? strlen(target) : strlen(path) + (query ? strlen(query) + 1 : 0));
        u = xb_arena_alloc(arena, len + 1);
        if (!u) {
            rc = XB_ERR_NOMEM;
            goto out;
        }
        u[0] = '\0';
        strcat(u, scheme);
        strcat(u, "://");
        strcat(u, host);
        if (port && *port) {
            strcat(u, ":");
            strcat(u, port);
        }
        if (target) {
            strcat(u, target);
        } else {
            strcat(u, path);
            if (query) {
                if (query[0] != '?')
                    strcat(u, "?");
                strcat(u, query);
            }
        }
        h->url = cs(u);
    }
    *out = h;
consume:
    for (i = 0; i < sizeof(http_keys) / sizeof(http_keys[0]); i++)
        xb_attrs_consume(a, http_keys[i]);
out:
    return rc;
}
