/* translator/http.c - see http.h. */
#include "translator/http.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/err.h"

/* Every key this block reads and consumes (but the last), as (local index, known key);
 * the local index names its place in xb_tr_http_build()'s |e|. */
#define HTTP_KEYS(X)                                                                               \
    X(K_METHOD, XB_TK_HTTP_METHOD)                                                                 \
    X(K_REQ_METHOD, XB_TK_HTTP_REQUEST_METHOD)                                                     \
    X(K_CLIENT_IP, XB_TK_HTTP_CLIENT_IP)                                                           \
    X(K_USER_AGENT, XB_TK_HTTP_USER_AGENT)                                                         \
    X(K_UA_ORIGINAL, XB_TK_USER_AGENT_ORIGINAL)                                                    \
    X(K_STATUS, XB_TK_HTTP_STATUS_CODE)                                                            \
    X(K_RESP_STATUS, XB_TK_HTTP_RESPONSE_STATUS_CODE)                                              \
    X(K_URL, XB_TK_HTTP_URL)                                                                       \
    X(K_URL_FULL, XB_TK_URL_FULL)                                                                  \
    X(K_SCHEME, XB_TK_HTTP_SCHEME)                                                                 \
    X(K_URL_SCHEME, XB_TK_URL_SCHEME)                                                              \
    X(K_HOST, XB_TK_HTTP_HOST)                                                                     \
    X(K_TARGET, XB_TK_HTTP_TARGET)                                                                 \
    X(K_SERVER_NAME, XB_TK_HTTP_SERVER_NAME)                                                       \
    X(K_HOST_PORT, XB_TK_NET_HOST_PORT)                                                            \
    X(K_HOST_NAME, XB_TK_HOST_NAME)                                                                \
    X(K_NET_HOST_NAME, XB_TK_NET_HOST_NAME)                                                        \
    X(K_PEER_NAME, XB_TK_NET_PEER_NAME)                                                            \
    X(K_PEER_PORT, XB_TK_NET_PEER_PORT)                                                            \
    X(K_PEER_IP, XB_TK_NET_PEER_IP)                                                                \
    X(K_NET_PEER_ADDR, XB_TK_NETWORK_PEER_ADDRESS)                                                 \
    X(K_CLIENT_ADDR, XB_TK_CLIENT_ADDRESS)                                                         \
    X(K_URL_PATH, XB_TK_URL_PATH)                                                                  \
    X(K_URL_QUERY, XB_TK_URL_QUERY)                                                                \
    X(K_SERVER_ADDR, XB_TK_SERVER_ADDRESS)                                                         \
    X(K_SERVER_PORT, XB_TK_SERVER_PORT)

enum {
#define HTTP_KEY_ENUM(l, tk) l,
    HTTP_KEYS(HTTP_KEY_ENUM)
#undef HTTP_KEY_ENUM
        N_KEYS,
    /* read only with read_new_semantic_conventions */
    K_NET_PEER_PORT = N_KEYS,
    N_ALL_KEYS
};

_Static_assert(N_ALL_KEYS <= 64, "one bit per key in xb_tr_http_build's found mask");
_Static_assert(XB_TR_PRESENT_WORDS == 2, "http_present_mask has one word per present word");

/* The known keys of HTTP_KEYS as xb_tr_attrs.present words, and each one's local index
 * plus 1 (0: not read by this block). */
#define HTTP_KEY_BIT(l, tk, w) | ((unsigned)(tk) / 64 == (w) ? 1ull << ((unsigned)(tk) % 64) : 0)
#define HTTP_KEY_BIT0(l, tk) HTTP_KEY_BIT(l, tk, 0)
#define HTTP_KEY_BIT1(l, tk) HTTP_KEY_BIT(l, tk, 1)
static const uint64_t http_present_mask[XB_TR_PRESENT_WORDS] = {
    0 HTTP_KEYS(HTTP_KEY_BIT0),
    0 HTTP_KEYS(HTTP_KEY_BIT1),
};
#undef HTTP_KEY_BIT1
#undef HTTP_KEY_BIT0
#undef HTTP_KEY_BIT

static const uint8_t http_local[XB_TK_COUNT] = {
#define HTTP_KEY_LOCAL(l, tk) [tk] = (l) + 1,
    HTTP_KEYS(HTTP_KEY_LOCAL)
#undef HTTP_KEY_LOCAL
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

/* Live attribute |k| as pdata Str(), or NULL when absent. */
static const char *part(struct xb_tr_attr *const *e, int k)
{
    return e[k] ? xb_tr_any_str(e[k]->val) : NULL;
}

/* Live port attribute |k| as pdata AsString(), or NULL when absent. */
static const char *port_part(struct xb_tr_attr *const *e, int k, struct xb_arena *arena)
{
    return e[k] ? xb_tr_any_as_string(e[k]->val, arena) : NULL;
}

/* The payload size when the message type is RECEIVED, else 0. */
static int64_t received_size(const xb_pb_any *type, const xb_pb_any *size)
{
    if (type && strcmp(xb_tr_any_str(type), "RECEIVED") == 0 && size)
        return xb_tr_any_int(size);
    return 0;
}

/* |new_semconv|: messaging.message.body.size stands in for a missing
 * messaging.message_payload_size_bytes. */
static int64_t size_from(xb_pb_kv *const *kv, size_t n, int new_semconv)
{
    const xb_pb_any *type = NULL, *size = NULL, *body = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (!kv[i] || !kv[i]->key)
            continue;
        if (!type && strcmp(kv[i]->key, "message.type") == 0)
            type = kv[i]->value;
        else if (!size && strcmp(kv[i]->key, "messaging.message_payload_size_bytes") == 0)
            size = kv[i]->value;
        else if (new_semconv && !body && strcmp(kv[i]->key, "messaging.message.body.size") == 0)
            body = kv[i]->value;
    }
    return received_size(type, size ? size : body);
}

/* Span attributes (through the index: first occurrence wins) first, then the events. */
static int64_t response_size(const struct xb_tr_attrs *a, const xb_pb_span *span, int new_semconv)
{
    const xb_pb_any *size = xb_tr_attrs_val_k(a, XB_TK_MESSAGING_PAYLOAD_SIZE);
    int64_t v;
    size_t i;

    if (!size && new_semconv)
        size = xb_tr_attrs_val_k(a, XB_TK_MESSAGING_BODY_SIZE);
    v = received_size(xb_tr_attrs_val_k(a, XB_TK_MESSAGE_TYPE), size);
    for (i = 0; v == 0 && i < span->n_events; i++)
        if (span->events[i])
            v = size_from(span->events[i]->attributes, span->events[i]->n_attributes, new_semconv);
    return v;
}

int xb_tr_http_build(struct xb_tr_attrs *a, const xb_pb_span *span, int new_semconv,
                     struct xb_arena *arena, struct xb_tr_xhttp **out)
{
    struct xb_tr_xhttp *h;
    const char *method, *ua, *url, *scheme, *host = NULL, *port = NULL, *target, *path, *query;
    const char *client_ip = NULL, *peer_ip, *net_peer_addr = NULL, *client_addr;
    struct xb_tr_attr *e[N_ALL_KEYS], *st;
    uint64_t found = 0; /* bit i: e[i] != NULL */
    int has_http = 0, has_host_attrs = 0, has_peer_addr = 0, server;
    size_t len;
    char *u;
    int rc = XB_OK;

    *out = NULL;
    memset(e, 0, sizeof(e));
    /* only the block's keys the span has (usually a few of them) */
    for (unsigned w = 0; w < XB_TR_PRESENT_WORDS; w++) {
        for (uint64_t bits = a->present[w] & http_present_mask[w]; bits; bits &= bits - 1) {
            unsigned k = w * 64 + (unsigned)__builtin_ctzll(bits), l = http_local[k] - 1u;
            e[l] = xb_tr_attrs_live_k(a, (enum xb_tr_key)k);
            found |= (uint64_t)(e[l] != NULL) << l;
        }
    }
    e[K_NET_PEER_PORT] = new_semconv ? xb_tr_attrs_live_k(a, XB_TK_NETWORK_PEER_PORT) : NULL;
    found |= (uint64_t)(e[K_NET_PEER_PORT] != NULL) << K_NET_PEER_PORT;
    method = part(e, K_METHOD);
    if (!method)
        method = part(e, K_REQ_METHOD);
    ua = part(e, K_USER_AGENT);
    if (!ua)
        ua = part(e, K_UA_ORIGINAL);
    st = e[K_STATUS] ? e[K_STATUS] : e[K_RESP_STATUS];
    url = part(e, K_URL);
    if (!url)
        url = part(e, K_URL_FULL);
    scheme = part(e, K_SCHEME);
    if (!scheme)
        scheme = part(e, K_URL_SCHEME);
    target = part(e, K_TARGET);
    path = part(e, K_URL_PATH);
    query = part(e, K_URL_QUERY);
    peer_ip = part(e, K_PEER_IP);
    client_addr = part(e, K_CLIENT_ADDR);
    if (client_addr && !is_ip(client_addr))
        client_addr = NULL;
    net_peer_addr = part(e, K_NET_PEER_ADDR);
    if (net_peer_addr && !is_ip(net_peer_addr))
        net_peer_addr = NULL;

    has_http = method || ua || st || url || scheme || e[K_CLIENT_IP] || e[K_HOST] || target ||
               e[K_SERVER_NAME] || e[K_HOST_PORT] || path || query;
    has_host_attrs = url || e[K_HOST] || e[K_SERVER_NAME] || e[K_HOST_NAME] || e[K_NET_HOST_NAME] ||
                     e[K_PEER_NAME] || peer_ip || net_peer_addr || e[K_SERVER_ADDR];
    has_peer_addr = peer_ip || net_peer_addr;

    /* client_ip: http.client_ip, then an IP client.address, then the peer address. */
    client_ip = part(e, K_CLIENT_IP);
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
        h->status = xb_tr_any_int(st->val);
    }
    h->content_length = response_size(a, span, new_semconv);

    if (url) {
        h->url = cs(url);
    } else if (has_host_attrs) {
        server = span->kind == XB_KIND_SERVER;
        if (!scheme)
            scheme = "http";
        host = part(e, K_HOST);
        if (!host) {
            if (server) {
                host = part(e, K_SERVER_NAME);
                if (!host)
                    host = part(e, K_NET_HOST_NAME);
                if (!host)
                    host = part(e, K_HOST_NAME);
                if (!host)
                    host = part(e, K_SERVER_ADDR);
                port = port_part(e, K_HOST_PORT, arena);
                if (!port)
                    port = port_part(e, K_SERVER_PORT, arena);
            } else {
                /* server.address is a deliberate addition (upstream consumes it but
                 * leaves the host empty: "https:///users"). */
                host = part(e, K_PEER_NAME);
                if (!host)
                    host = peer_ip;
                port = port_part(e, K_PEER_PORT, arena);
                if (!port)
                    port = port_part(e, K_NET_PEER_PORT, arena);
                if (!host && (host = part(e, K_SERVER_ADDR)) && e[K_SERVER_PORT])
                    port = port_part(e, K_SERVER_PORT, arena);
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
    for (; found; found &= found - 1) /* the keys present only (usually a few) */
        e[__builtin_ctzll(found)]->consumed = 1;
out:
    return rc;
}
