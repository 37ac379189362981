/* tests/fuzz/otlp_json_enc.c - see otlp_json_enc.h. */
#include "tests/fuzz/otlp_json_enc.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/golden/doc_check.h"

/* Writer state: |rc| keeps the first failure (1 = not representable, -1 = no memory). */
struct w {
    struct xb_buf *out;
    int rc;
};

static void raw(struct w *w, const char *s)
{
    if (w->rc == 0 && xb_buf_puts(w->out, s) != 0)
        w->rc = -1;
}

static void str(struct w *w, const char *s)
{
    char esc[8];

    if (w->rc != 0)
        return;
    if (!s)
        s = "";
    if (!xb_doccheck_utf8_valid(s, strlen(s))) {
        w->rc = 1;
        return;
    }
    raw(w, "\"");
    for (const char *p = s; *p && w->rc == 0; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            esc[2] = '\0';
            raw(w, esc);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            raw(w, esc);
        } else if (xb_buf_putc(w->out, (char)c) != 0) {
            w->rc = -1;
        }
    }
    raw(w, "\"");
}

/* "key": (with a leading comma unless |first|) */
static void key(struct w *w, int *first, const char *k)
{
    if (!*first)
        raw(w, ",");
    *first = 0;
    raw(w, "\"");
    raw(w, k);
    raw(w, "\":");
}

static void kstr(struct w *w, int *first, const char *k, const char *v)
{
    key(w, first, k);
    str(w, v);
}

static void kuint(struct w *w, int *first, const char *k, uint64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "\"%" PRIu64 "\"", v);
    key(w, first, k);
    raw(w, num);
}

static void kint(struct w *w, int *first, const char *k, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRId64, v);
    key(w, first, k);
    raw(w, num);
}

static void khex(struct w *w, int *first, const char *k, ProtobufCBinaryData b)
{
    static const char digits[] = "0123456789abcdef";
    key(w, first, k);
    raw(w, "\"");
    for (size_t i = 0; i < b.len && w->rc == 0; i++) {
        char h[3] = {digits[b.data[i] >> 4], digits[b.data[i] & 15], '\0'};
        raw(w, h);
    }
    raw(w, "\"");
}

static void kbase64(struct w *w, int *first, const char *k, ProtobufCBinaryData b)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    key(w, first, k);
    raw(w, "\"");
    for (size_t i = 0; i < b.len && w->rc == 0; i += 3) {
        uint32_t v = (uint32_t)b.data[i] << 16;
        size_t n = b.len - i < 3 ? b.len - i : 3;
        char q[5] = {0};
        if (n > 1)
            v |= (uint32_t)b.data[i + 1] << 8;
        if (n > 2)
            v |= b.data[i + 2];
        q[0] = al[(v >> 18) & 63];
        q[1] = al[(v >> 12) & 63];
        q[2] = n > 1 ? al[(v >> 6) & 63] : '=';
        q[3] = n > 2 ? al[v & 63] : '=';
        raw(w, q);
    }
    raw(w, "\"");
}

static void kdouble(struct w *w, int *first, const char *k, double d)
{
    char num[40];
    key(w, first, k);
    if (isnan(d))
        raw(w, "\"NaN\"");
    else if (isinf(d))
        raw(w, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else {
        snprintf(num, sizeof num, "%.17g", d);
        /* A JSON number must not look like an integer jansson cannot hold. */
        if (!strpbrk(num, ".eE"))
            strcat(num, ".0");
        raw(w, num);
    }
}

static void any(struct w *w, const xb_pb_any *v);

static void kvs(struct w *w, int *first, const char *k, xb_pb_kv *const *kv, size_t n)
{
    key(w, first, k);
    raw(w, "[");
    for (size_t i = 0; i < n; i++) {
        int f = 1;
        raw(w, i ? ",{" : "{");
        kstr(w, &f, "key", kv[i]->key);
        if (kv[i]->value) {
            key(w, &f, "value");
            any(w, kv[i]->value);
        }
        raw(w, "}");
    }
    raw(w, "]");
}

static void any(struct w *w, const xb_pb_any *v)
{
    int f = 1;

    raw(w, "{");
    switch (v->value_case) {
    case XB_ANY_STRING:
        kstr(w, &f, "stringValue", v->string_value);
        break;
    case XB_ANY_BOOL:
        key(w, &f, "boolValue");
        raw(w, v->bool_value ? "true" : "false");
        break;
    case XB_ANY_INT: {
        char num[32];
        snprintf(num, sizeof num, "\"%" PRId64 "\"", v->int_value);
        key(w, &f, "intValue");
        raw(w, num);
        break;
    }
    case XB_ANY_DOUBLE:
        kdouble(w, &f, "doubleValue", v->double_value);
        break;
    case XB_ANY_BYTES:
        kbase64(w, &f, "bytesValue", v->bytes_value);
        break;
    case XB_ANY_ARRAY:
        key(w, &f, "arrayValue");
        raw(w, "{\"values\":[");
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
            if (i)
                raw(w, ",");
            any(w, v->array_value->values[i]);
        }
        raw(w, "]}");
        break;
    case XB_ANY_KVLIST:
        key(w, &f, "kvlistValue");
        raw(w, "{");
        {
            int g = 1;
            kvs(w, &g, "values", v->kvlist_value->values, v->kvlist_value->n_values);
        }
        raw(w, "}");
        break;
    default:
        break;
    }
    raw(w, "}");
}

static void strs(struct w *w, int *first, const char *k, char *const *s, size_t n)
{
    key(w, first, k);
    raw(w, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            raw(w, ",");
        str(w, s[i]);
    }
    raw(w, "]");
}

static void resource(struct w *w, const xb_pb_resource *r)
{
    int f = 1;
    raw(w, "{");
    kvs(w, &f, "attributes", r->attributes, r->n_attributes);
    kint(w, &f, "droppedAttributesCount", r->dropped_attributes_count);
    key(w, &f, "entityRefs");
    raw(w, "[");
    for (size_t i = 0; i < r->n_entity_refs; i++) {
        const Opentelemetry__Proto__Common__V1__EntityRef *e = r->entity_refs[i];
        int g = 1;
        raw(w, i ? ",{" : "{");
        kstr(w, &g, "schemaUrl", e->schema_url);
        kstr(w, &g, "type", e->type);
        strs(w, &g, "idKeys", e->id_keys, e->n_id_keys);
        strs(w, &g, "descriptionKeys", e->description_keys, e->n_description_keys);
        raw(w, "}");
    }
    raw(w, "]}");
}

static void span(struct w *w, const xb_pb_span *s)
{
    int f = 1;

    raw(w, "{");
    khex(w, &f, "traceId", s->trace_id);
    khex(w, &f, "spanId", s->span_id);
    kstr(w, &f, "traceState", s->trace_state);
    khex(w, &f, "parentSpanId", s->parent_span_id);
    kint(w, &f, "flags", s->flags);
    kstr(w, &f, "name", s->name);
    kint(w, &f, "kind", (int32_t)s->kind); /* open proto3 enum: the wire value */
    kuint(w, &f, "startTimeUnixNano", s->start_time_unix_nano);
    kuint(w, &f, "endTimeUnixNano", s->end_time_unix_nano);
    kvs(w, &f, "attributes", s->attributes, s->n_attributes);
    kint(w, &f, "droppedAttributesCount", s->dropped_attributes_count);
    key(w, &f, "events");
    raw(w, "[");
    for (size_t i = 0; i < s->n_events; i++) {
        const xb_pb_event *e = s->events[i];
        int g = 1;
        raw(w, i ? ",{" : "{");
        kuint(w, &g, "timeUnixNano", e->time_unix_nano);
        kstr(w, &g, "name", e->name);
        kvs(w, &g, "attributes", e->attributes, e->n_attributes);
        kint(w, &g, "droppedAttributesCount", e->dropped_attributes_count);
        raw(w, "}");
    }
    raw(w, "]");
    kint(w, &f, "droppedEventsCount", s->dropped_events_count);
    key(w, &f, "links");
    raw(w, "[");
    for (size_t i = 0; i < s->n_links; i++) {
        const xb_pb_link *l = s->links[i];
        int g = 1;
        raw(w, i ? ",{" : "{");
        khex(w, &g, "traceId", l->trace_id);
        khex(w, &g, "spanId", l->span_id);
        kstr(w, &g, "traceState", l->trace_state);
        kvs(w, &g, "attributes", l->attributes, l->n_attributes);
        kint(w, &g, "droppedAttributesCount", l->dropped_attributes_count);
        kint(w, &g, "flags", l->flags);
        raw(w, "}");
    }
    raw(w, "]");
    kint(w, &f, "droppedLinksCount", s->dropped_links_count);
    if (s->status) {
        int g = 1;
        key(w, &f, "status");
        raw(w, "{");
        kstr(w, &g, "message", s->status->message);
        kint(w, &g, "code", (int32_t)s->status->code);
        raw(w, "}");
    }
    raw(w, "}");
}

int xb_fuzz_encode_json(const xb_pb_export_req *req, struct xb_buf *out)
{
    struct w w = {out, 0};

    raw(&w, "{\"resourceSpans\":[");
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const xb_pb_resource_spans *rs = req->resource_spans[i];
        int f = 1;
        raw(&w, i ? ",{" : "{");
        if (rs->resource) {
            key(&w, &f, "resource");
            resource(&w, rs->resource);
        }
        kstr(&w, &f, "schemaUrl", rs->schema_url);
        key(&w, &f, "scopeSpans");
        raw(&w, "[");
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const xb_pb_scope_spans *ss = rs->scope_spans[j];
            int g = 1;
            raw(&w, j ? ",{" : "{");
            if (ss->scope) {
                int h = 1;
                key(&w, &g, "scope");
                raw(&w, "{");
                kstr(&w, &h, "name", ss->scope->name);
                kstr(&w, &h, "version", ss->scope->version);
                kvs(&w, &h, "attributes", ss->scope->attributes, ss->scope->n_attributes);
                kint(&w, &h, "droppedAttributesCount", ss->scope->dropped_attributes_count);
                raw(&w, "}");
            }
            kstr(&w, &g, "schemaUrl", ss->schema_url);
            key(&w, &g, "spans");
            raw(&w, "[");
            for (size_t k = 0; k < ss->n_spans; k++) {
                if (k)
                    raw(&w, ",");
                span(&w, ss->spans[k]);
            }
            raw(&w, "]}");
        }
        raw(&w, "]}");
    }
    raw(&w, "]}");
    return w.rc;
}
