/*
 * bench/request_builder.c - builds the synthetic benchmark request (see the header).
 *
 * Everything is allocated from one arena and released after packing. Attribute
 * helpers use a sticky error (ctx->rc): once an allocation fails they do nothing, and
 * the builder checks ctx->rc before packing. That keeps the long attribute lists
 * readable without an error check on every line.
 */
#include "bench/request_builder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "proto/otlp.h"

#define ATTRS_PER_SPAN 15
#define MS 1000000ull /* ns per ms */

struct builder {
    struct xb_arena *arena;
    uint64_t rng;
    int rc; /* first error; helpers become no-ops once set */
};

struct attr_list {
    xb_pb_kv **items;
    size_t n, cap;
};

static const xb_pb_kv kv_init = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
static const xb_pb_any any_init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
static const xb_pb_array array_init = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
static const xb_pb_span span_init = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
static const xb_pb_event event_init = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
static const xb_pb_status status_init = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
static const xb_pb_resource resource_init = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
static const xb_pb_scope scope_init = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
static const xb_pb_scope_spans scope_spans_init =
    OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
static const xb_pb_resource_spans resource_spans_init =
    OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
static const xb_pb_export_req req_init =
    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;

/* ------------------------------------------------------------------------- */
/* Allocation and ids                                                         */
/* ------------------------------------------------------------------------- */

static void *b_alloc(struct builder *b, size_t n)
{
    void *p;

    if (b->rc)
        return NULL;
    p = xb_arena_calloc(b->arena, n);
    if (!p)
        b->rc = XB_ERR_NOMEM;
    return p;
}

static char *b_strf(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *b_strf(struct builder *b, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->rc = b->rc ? b->rc : XB_ERR_INVALID;
        return NULL;
    }
    s = b_alloc(b, (size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* xorshift64*: deterministic, good enough for ids. */
static uint64_t next_rand(struct builder *b)
{
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return b->rng * 0x2545F4914F6CDD1Dull;
}

static void random_id(struct builder *b, ProtobufCBinaryData *id, size_t len)
{
    uint8_t *p = b_alloc(b, len);
    uint64_t r = 0;
    size_t i;

    if (!p)
        return;
    for (i = 0; i < len; i++) {
        if (i % 8 == 0)
            r = next_rand(b);
        p[i] = (uint8_t)(r >> (8 * (i % 8)));
    }
    id->data = p;
    id->len = len;
}

/* ------------------------------------------------------------------------- */
/* Attributes                                                                 */
/* ------------------------------------------------------------------------- */

static void attrs_init(struct builder *b, struct attr_list *l, size_t cap)
{
    l->items = b_alloc(b, cap * sizeof(*l->items));
    l->n = 0;
    l->cap = l->items ? cap : 0;
}

/* Appends a key with an empty value; returns the value to fill, or NULL. */
static xb_pb_any *attr_add(struct builder *b, struct attr_list *l, const char *key)
{
    xb_pb_kv *kv;
    xb_pb_any *v;

    if (b->rc || l->n == l->cap)
        return NULL;
    kv = b_alloc(b, sizeof(*kv));
    v = b_alloc(b, sizeof(*v));
    if (!kv || !v)
        return NULL;
    *kv = kv_init;
    *v = any_init;
    kv->key = (char *)key; /* static strings: protobuf-c only reads them */
    kv->value = v;
    l->items[l->n++] = kv;
    return v;
}

static void attr_str(struct builder *b, struct attr_list *l, const char *key, char *val)
{
    xb_pb_any *v = val ? attr_add(b, l, key) : NULL;

    if (v) {
        v->value_case = XB_ANY_STRING;
        v->string_value = val;
    }
}

static void attr_int(struct builder *b, struct attr_list *l, const char *key, int64_t val)
{
    xb_pb_any *v = attr_add(b, l, key);

    if (v) {
        v->value_case = XB_ANY_INT;
        v->int_value = val;
    }
}

static void attr_bool(struct builder *b, struct attr_list *l, const char *key, int val)
{
    xb_pb_any *v = attr_add(b, l, key);

    if (v) {
        v->value_case = XB_ANY_BOOL;
        v->bool_value = val != 0;
    }
}

static void attr_double(struct builder *b, struct attr_list *l, const char *key, double val)
{
    xb_pb_any *v = attr_add(b, l, key);

    if (v) {
        v->value_case = XB_ANY_DOUBLE;
        v->double_value = val;
    }
}

static void attr_str_array(struct builder *b, struct attr_list *l, const char *key,
                           const char *const *vals, size_t n)
{
    xb_pb_any *v = attr_add(b, l, key);
    xb_pb_array *arr = b_alloc(b, sizeof(*arr));
    xb_pb_any **items = b_alloc(b, n * sizeof(*items));
    size_t i;

    if (!v || !arr || !items)
        return;
    *arr = array_init;
    for (i = 0; i < n; i++) {
        items[i] = b_alloc(b, sizeof(**items));
        if (!items[i])
            return;
        *items[i] = any_init;
        items[i]->value_case = XB_ANY_STRING;
        items[i]->string_value = (char *)vals[i];
    }
    arr->values = items;
    arr->n_values = n;
    v->value_case = XB_ANY_ARRAY;
    v->array_value = arr;
}

/* ------------------------------------------------------------------------- */
/* Resource and spans                                                         */
/* ------------------------------------------------------------------------- */

static xb_pb_resource *build_resource(struct builder *b)
{
    xb_pb_resource *r = b_alloc(b, sizeof(*r));
    struct attr_list l;

    if (!r)
        return NULL;
    *r = resource_init;
    attrs_init(b, &l, 20);
    attr_str(b, &l, "service.name", "checkout");
    attr_str(b, &l, "service.namespace", "shop");
    attr_str(b, &l, "service.version", "2.14.3");
    attr_str(b, &l, "deployment.environment", "production");
    attr_str(b, &l, "cloud.provider", "aws");
    attr_str(b, &l, "cloud.platform", "aws_eks");
    attr_str(b, &l, "cloud.region", "us-west-2");
    attr_str(b, &l, "cloud.account.id", "123456789012");
    attr_str(b, &l, "k8s.cluster.name", "prod-usw2-a");
    attr_str(b, &l, "k8s.namespace.name", "shop");
    attr_str(b, &l, "k8s.deployment.name", "checkout");
    attr_str(b, &l, "k8s.pod.name", "checkout-7d9f8b6c5d-x2k4q");
    attr_str(b, &l, "k8s.node.name", "ip-10-0-12-34.us-west-2.compute.internal");
    attr_str(b, &l, "container.name", "checkout");
    attr_str(b, &l, "host.id", "i-0abc1234def567890");
    attr_str(b, &l, "telemetry.sdk.name", "opentelemetry");
    attr_str(b, &l, "telemetry.sdk.language", "java");
    r->attributes = l.items;
    r->n_attributes = l.n;
    return r;
}

/* The 6 attributes every span carries. */
static void common_attrs(struct builder *b, struct attr_list *l, size_t trace_no)
{
    attr_str(b, l, "enduser.id", b_strf(b, "user-%06zu", trace_no % 50000));
    attr_str(b, l, "app.user.id", b_strf(b, "u%08zx", trace_no * 2654435761u));
    attr_str(b, l, "app.tenant.id", b_strf(b, "tenant-%02zu", trace_no % 37));
    attr_str(b, l, "app.session.id", b_strf(b, "sess-%016llx", (unsigned long long)next_rand(b)));
    attr_str(b, l, "app.request.id", b_strf(b, "req-%zu", trace_no));
    attr_bool(b, l, "app.feature.beta", trace_no % 3 == 0);
}

static void server_attrs(struct builder *b, struct attr_list *l, size_t trace_no)
{
    attr_str(b, l, "http.request.method", trace_no % 4 ? "GET" : "POST");
    attr_str(b, l, "url.scheme", "https");
    attr_str(b, l, "url.path", b_strf(b, "/api/cart/%zu", trace_no));
    attr_str(b, l, "http.route", "/api/cart/{cartId}");
    attr_str(b, l, "server.address", "shop.example.com");
    attr_int(b, l, "server.port", 443);
    attr_int(b, l, "http.response.status_code", trace_no % 10 == 9 ? 500 : 200);
    attr_str(b, l, "user_agent.original",
             "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)");
    attr_str(b, l, "client.address", b_strf(b, "10.1.%zu.%zu", trace_no % 250, trace_no % 199));
}

static void http_client_attrs(struct builder *b, struct attr_list *l, size_t trace_no)
{
    attr_str(b, l, "http.request.method", "GET");
    attr_str(b, l, "url.full",
             b_strf(b, "https://inventory.shop.svc.cluster.local:8443/v1/items/%zu?verbose=1",
                    trace_no % 9973));
    attr_str(b, l, "server.address", "inventory.shop.svc.cluster.local");
    attr_int(b, l, "server.port", 8443);
    attr_int(b, l, "http.response.status_code", 200);
    attr_str(b, l, "network.protocol.version", "1.1");
    attr_str(b, l, "peer.service", "inventory");
    attr_int(b, l, "http.request.body.size", 0);
    attr_int(b, l, "http.response.body.size", (int64_t)(512 + trace_no % 2048));
}

static void db_client_attrs(struct builder *b, struct attr_list *l, size_t trace_no)
{
    attr_str(b, l, "db.system", "postgresql");
    attr_str(b, l, "db.name", "orders");
    attr_str(b, l, "db.statement",
             "SELECT id, status, total FROM orders WHERE cart_id = $1 AND tenant_id = $2");
    attr_str(b, l, "db.operation", "SELECT");
    attr_str(b, l, "db.user", "checkout_app");
    attr_str(b, l, "db.sql.table", "orders");
    attr_str(b, l, "server.address", "orders-db.cluster-abc.us-west-2.rds.amazonaws.com");
    attr_int(b, l, "server.port", 5432);
    attr_str(b, l, "network.peer.address", b_strf(b, "10.0.3.%zu", 1 + trace_no % 250));
}

static void aws_client_attrs(struct builder *b, struct attr_list *l, size_t trace_no)
{
    static const char *const tables[] = {"Carts", "CartItems"};

    attr_str(b, l, "rpc.system", "aws-api");
    attr_str(b, l, "rpc.service", "DynamoDB");
    attr_str(b, l, "rpc.method", "GetItem");
    attr_str(b, l, "aws.region", "us-west-2");
    attr_str_array(b, l, "aws.dynamodb.table_names", tables, 2);
    attr_bool(b, l, "aws.dynamodb.consistent_read", 1);
    attr_str(b, l, "aws.request_id",
             b_strf(b, "%016llX%016llX", (unsigned long long)next_rand(b),
                    (unsigned long long)trace_no));
    attr_int(b, l, "http.response.status_code", 200);
    attr_str(b, l, "server.address", "dynamodb.us-west-2.amazonaws.com");
}

static void internal_attrs(struct builder *b, struct attr_list *l, size_t trace_no)
{
    attr_str(b, l, "code.function", "computeTotals");
    attr_str(b, l, "code.namespace", "com.example.shop.checkout.CartService");
    attr_str(b, l, "code.filepath", "src/main/java/com/example/shop/checkout/CartService.java");
    attr_int(b, l, "code.lineno", 214);
    attr_int(b, l, "thread.id", (int64_t)(40 + trace_no % 16));
    attr_str(b, l, "thread.name", b_strf(b, "http-nio-8080-exec-%zu", 1 + trace_no % 16));
    attr_int(b, l, "app.cart.items", (int64_t)(1 + trace_no % 12));
    attr_double(b, l, "app.cart.total", 19.99 + (double)(trace_no % 500));
    attr_str(b, l, "app.currency", "USD");
}

/* The exception event recorded on the failing database span. */
static xb_pb_event *exception_event(struct builder *b, uint64_t time_ns)
{
    xb_pb_event *ev = b_alloc(b, sizeof(*ev));
    struct attr_list l;

    if (!ev)
        return NULL;
    *ev = event_init;
    ev->time_unix_nano = time_ns;
    ev->name = "exception";
    attrs_init(b, &l, 4);
    attr_str(b, &l, "exception.type", "org.postgresql.util.PSQLException");
    attr_str(b, &l, "exception.message", "ERROR: canceling statement due to statement timeout");
    attr_str(b, &l, "exception.stacktrace",
             "org.postgresql.util.PSQLException: ERROR: canceling statement due to "
             "statement timeout\n"
             "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse("
             "QueryExecutorImpl.java:2713)\n"
             "\tat org.postgresql.jdbc.PgPreparedStatement.executeQuery("
             "PgPreparedStatement.java:134)\n"
             "\tat com.example.shop.checkout.OrderRepository.findByCart("
             "OrderRepository.java:88)\n"
             "\tat com.example.shop.checkout.CartService.computeTotals("
             "CartService.java:214)\n");
    ev->attributes = l.items;
    ev->n_attributes = l.n;
    return ev;
}

/*
 * Span |role| (0..4) of trace |trace_no|. |root| is the trace's server span (NULL
 * when building it); children share its trace id and use it as parent.
 */
static xb_pb_span *build_span(struct builder *b, const xb_pb_span *root, size_t trace_no,
                              unsigned role, uint64_t trace_start_ns)
{
    static const char *const names[] = {"GET /api/cart/{cartId}", "GET", "SELECT orders",
                                        "DynamoDB.GetItem", "computeTotals"};
    static const int kinds[] = {XB_KIND_SERVER, XB_KIND_CLIENT, XB_KIND_CLIENT, XB_KIND_CLIENT,
                                XB_KIND_INTERNAL};
    xb_pb_span *s = b_alloc(b, sizeof(*s));
    xb_pb_status *st = b_alloc(b, sizeof(*st));
    struct attr_list l;

    if (!s || !st)
        return NULL;
    *s = span_init;
    *st = status_init;
    if (root) {
        s->trace_id = root->trace_id;
        s->parent_span_id = root->span_id;
    } else {
        random_id(b, &s->trace_id, 16);
    }
    random_id(b, &s->span_id, 8);
    s->flags = 0x101; /* sampled, parent-is-remote known */
    s->name = (char *)names[role];
    s->kind = kinds[role];
    if (role == 0) {
        s->start_time_unix_nano = trace_start_ns;
        s->end_time_unix_nano = trace_start_ns + 48 * MS + trace_no % 7 * MS;
    } else {
        s->start_time_unix_nano = trace_start_ns + role * 9 * MS;
        s->end_time_unix_nano = s->start_time_unix_nano + 7 * MS + trace_no % 3 * MS;
    }

    attrs_init(b, &l, ATTRS_PER_SPAN);
    common_attrs(b, &l, trace_no);
    switch (role) {
    case 0:
        server_attrs(b, &l, trace_no);
        break;
    case 1:
        http_client_attrs(b, &l, trace_no);
        break;
    case 2:
        db_client_attrs(b, &l, trace_no);
        break;
    case 3:
        aws_client_attrs(b, &l, trace_no);
        break;
    default:
        internal_attrs(b, &l, trace_no);
        break;
    }
    s->attributes = l.items;
    s->n_attributes = l.n;

    if (role == 2) {
        xb_pb_event **evs = b_alloc(b, sizeof(*evs));

        if (evs) {
            evs[0] = exception_event(b, s->end_time_unix_nano - MS);
            s->events = evs;
            s->n_events = evs[0] ? 1 : 0;
        }
        st->code = XB_STATUS_ERROR;
        st->message = "statement timeout";
    }
    s->status = st;
    return b->rc ? NULL : s;
}

/* ------------------------------------------------------------------------- */
/* Public API                                                                 */
/* ------------------------------------------------------------------------- */

void xb_bench_request_opts_defaults(struct xb_bench_request_opts *opts)
{
    opts->spans = 100;
    opts->seed = 1;
    opts->start_unix_ns = xb_clock_wall_ns();
}

int xb_bench_build_request(const struct xb_bench_request_opts *opts, uint8_t **out, size_t *out_len)
{
    struct builder b = {NULL, 0, XB_OK};
    xb_pb_export_req *req;
    xb_pb_resource_spans *rs, **rs_list;
    xb_pb_scope_spans *ss, **ss_list;
    xb_pb_scope *scope;
    xb_pb_span **spans, *root = NULL;
    uint8_t *packed = NULL;
    size_t i, len;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (!opts || opts->spans == 0 || opts->spans > XB_BENCH_MAX_SPANS) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    b.arena = xb_arena_new(256 * 1024, 0);
    if (!b.arena) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    b.rng = opts->seed ? opts->seed : 0x9E3779B97F4A7C15ull;

    req = b_alloc(&b, sizeof(*req));
    rs = b_alloc(&b, sizeof(*rs));
    rs_list = b_alloc(&b, sizeof(*rs_list));
    ss = b_alloc(&b, sizeof(*ss));
    ss_list = b_alloc(&b, sizeof(*ss_list));
    scope = b_alloc(&b, sizeof(*scope));
    spans = b_alloc(&b, opts->spans * sizeof(*spans));
    if (b.rc) {
        rc = b.rc;
        goto out;
    }
    *req = req_init;
    *rs = resource_spans_init;
    *ss = scope_spans_init;
    *scope = scope_init;
    scope->name = "io.opentelemetry.spring-webmvc-6.0";
    scope->version = "2.10.0-alpha";
    rs->resource = build_resource(&b);
    rs->schema_url = "https://opentelemetry.io/schemas/1.24.0";
    for (i = 0; i < opts->spans; i++) {
        size_t trace_no = i / XB_BENCH_SPANS_PER_TRACE;
        unsigned role = (unsigned)(i % XB_BENCH_SPANS_PER_TRACE);
        uint64_t trace_start = opts->start_unix_ns + (uint64_t)trace_no * 10 * MS;

        spans[i] = build_span(&b, role ? root : NULL, trace_no, role, trace_start);
        if (!spans[i]) {
            rc = b.rc ? b.rc : XB_ERR_NOMEM;
            goto out;
        }
        if (role == 0)
            root = spans[i];
    }
    if (b.rc) {
        rc = b.rc;
        goto out;
    }
    ss->scope = scope;
    ss->spans = spans;
    ss->n_spans = opts->spans;
    ss_list[0] = ss;
    rs->scope_spans = ss_list;
    rs->n_scope_spans = 1;
    rs_list[0] = rs;
    req->resource_spans = rs_list;
    req->n_resource_spans = 1;

    len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
        req);
    packed = malloc(len ? len : 1);
    if (!packed) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
            req, packed) != len) {
        free(packed);
        packed = NULL;
        rc = XB_ERR_INVALID;
        goto out;
    }
    *out = packed;
    *out_len = len;
    rc = XB_OK;
out:
    xb_arena_free(b.arena);
    return rc;
}

int xb_bench_grpc_frame(const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t *p = NULL;
    int rc;

    *out = NULL;
    *out_len = 0;
    if ((uint64_t)len > 0xFFFFFFFFull) {
        rc = XB_ERR_TOO_LARGE;
        goto out;
    }
    p = malloc(len + 5);
    if (!p) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    p[0] = 0; /* not compressed */
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    if (len)
        memcpy(p + 5, msg, len);
    *out = p;
    *out_len = len + 5;
    rc = XB_OK;
out:
    return rc;
}

int xb_bench_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}
