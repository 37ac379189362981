/*
 * bench/request_json.c - the benchmark request as an OTLP/JSON body (see
 * request_json.h), written with jansson from the protobuf-c structures.
 */
#include "bench/request_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/otlp.h"

/* Sets |key| to |v| in |obj| (steals |v|); returns -1 when |v| is NULL or on error. */
static int put(json_t *obj, const char *key, json_t *v)
{
    return v ? json_object_set_new(obj, key, v) : -1;
}

static int put_str(json_t *obj, const char *key, const char *s)
{
    return (s && *s) ? put(obj, key, json_string(s)) : 0;
}

static int put_u64(json_t *obj, const char *key, uint64_t v)
{
    char buf[24];
    if (v == 0)
        return 0;
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return put(obj, key, json_string(buf));
}

static int put_uint(json_t *obj, const char *key, uint32_t v)
{
    return v ? put(obj, key, json_integer((json_int_t)v)) : 0;
}

static int put_hex(json_t *obj, const char *key, ProtobufCBinaryData id)
{
    static const char digits[] = "0123456789abcdef";
    char buf[2 * 32 + 1];
    if (id.len == 0)
        return 0;
    if (id.len > 32)
        return -1;
    for (size_t i = 0; i < id.len; i++) {
        buf[2 * i] = digits[id.data[i] >> 4];
        buf[2 * i + 1] = digits[id.data[i] & 15];
    }
    buf[2 * id.len] = '\0';
    return put(obj, key, json_string(buf));
}

static json_t *any_value(const xb_pb_any *v);

static json_t *kv_list(xb_pb_kv *const *kvs, size_t n)
{
    json_t *arr = json_array();
    int rc = !arr;

    /* Each object is attached before it is filled, so |arr| owns everything built. */
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *kv = json_object();
        rc = !kv || json_array_append_new(arr, kv) || put(kv, "key", json_string(kvs[i]->key)) ||
             put(kv, "value", kvs[i]->value ? any_value(kvs[i]->value) : json_object());
    }
    if (rc) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static int put_attrs(json_t *obj, xb_pb_kv *const *kvs, size_t n, uint32_t dropped)
{
    if (n && put(obj, "attributes", kv_list(kvs, n)))
        return -1;
    return put_uint(obj, "droppedAttributesCount", dropped);
}

static json_t *any_value(const xb_pb_any *v)
{
    json_t *o = json_object(), *inner;
    char buf[24];
    int rc = 0;

    if (!o)
        return NULL;
    switch (v->value_case) {
    case XB_ANY_NONE:
        break;
    case XB_ANY_STRING:
        rc = put(o, "stringValue", json_string(v->string_value));
        break;
    case XB_ANY_BOOL:
        rc = put(o, "boolValue", json_boolean(v->bool_value));
        break;
    case XB_ANY_INT:
        snprintf(buf, sizeof buf, "%" PRId64, v->int_value);
        rc = put(o, "intValue", json_string(buf));
        break;
    case XB_ANY_DOUBLE:
        rc = put(o, "doubleValue", json_real(v->double_value));
        break;
    case XB_ANY_ARRAY:
        inner = json_object();
        rc = !inner || !v->array_value || put(o, "arrayValue", inner);
        if (!rc) {
            json_t *vals = json_array();
            rc = !vals || put(inner, "values", vals);
            for (size_t i = 0; !rc && i < v->array_value->n_values; i++)
                rc = json_array_append_new(vals, any_value(v->array_value->values[i]));
        } else if (inner && v->array_value == NULL) {
            json_decref(inner);
        }
        inner = NULL;
        break;
    case XB_ANY_KVLIST:
        rc = !v->kvlist_value || put(o, "kvlistValue", (inner = json_object())) ||
             put(inner, "values", kv_list(v->kvlist_value->values, v->kvlist_value->n_values));
        inner = NULL;
        break;
    default: /* bytesValue: not in the benchmark request */
        rc = -1;
        break;
    }
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *span_json(const xb_pb_span *s)
{
    json_t *o = json_object();
    int rc = !o;

    rc = rc || put_hex(o, "traceId", s->trace_id) || put_hex(o, "spanId", s->span_id) ||
         put_str(o, "traceState", s->trace_state) ||
         put_hex(o, "parentSpanId", s->parent_span_id) || put_uint(o, "flags", s->flags) ||
         put_str(o, "name", s->name) || put_uint(o, "kind", (uint32_t)s->kind) ||
         put_u64(o, "startTimeUnixNano", s->start_time_unix_nano) ||
         put_u64(o, "endTimeUnixNano", s->end_time_unix_nano) ||
         put_attrs(o, s->attributes, s->n_attributes, s->dropped_attributes_count);
    if (!rc && s->n_events) {
        json_t *evs = json_array();
        rc = put(o, "events", evs);
        for (size_t i = 0; !rc && i < s->n_events; i++) {
            const xb_pb_event *e = s->events[i];
            json_t *ev = json_object();
            rc = !ev || json_array_append_new(evs, ev) ||
                 put_u64(ev, "timeUnixNano", e->time_unix_nano) || put_str(ev, "name", e->name) ||
                 put_attrs(ev, e->attributes, e->n_attributes, e->dropped_attributes_count);
        }
    }
    rc = rc || put_uint(o, "droppedEventsCount", s->dropped_events_count);
    if (!rc && s->n_links) {
        json_t *ls = json_array();
        rc = put(o, "links", ls);
        for (size_t i = 0; !rc && i < s->n_links; i++) {
            const xb_pb_link *l = s->links[i];
            json_t *lj = json_object();
            rc = !lj || json_array_append_new(ls, lj) || put_hex(lj, "traceId", l->trace_id) ||
                 put_hex(lj, "spanId", l->span_id) || put_str(lj, "traceState", l->trace_state) ||
                 put_attrs(lj, l->attributes, l->n_attributes, l->dropped_attributes_count) ||
                 put_uint(lj, "flags", l->flags);
        }
    }
    rc = rc || put_uint(o, "droppedLinksCount", s->dropped_links_count);
    if (!rc && s->status) { /* present even when empty, as in the protobuf */
        json_t *st = json_object();
        rc = put(o, "status", st) || put_str(st, "message", s->status->message) ||
             put_uint(st, "code", (uint32_t)s->status->code);
    }
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *request_json(const xb_pb_export_req *req)
{
    json_t *root = json_object(), *rss = json_array();
    int rc = !root || put(root, "resourceSpans", rss);

    for (size_t i = 0; !rc && i < req->n_resource_spans; i++) {
        const xb_pb_resource_spans *rs = req->resource_spans[i];
        json_t *rsj = json_object(), *sss = json_array();
        rc = !rsj || json_array_append_new(rss, rsj);
        if (!rc && rs->resource) {
            json_t *res = json_object();
            rc = !res || put(rsj, "resource", res) ||
                 put_attrs(res, rs->resource->attributes, rs->resource->n_attributes,
                           rs->resource->dropped_attributes_count);
        }
        rc = rc || put(rsj, "scopeSpans", sss) || put_str(rsj, "schemaUrl", rs->schema_url);
        for (size_t j = 0; !rc && j < rs->n_scope_spans; j++) {
            const xb_pb_scope_spans *ss = rs->scope_spans[j];
            json_t *ssj = json_object(), *spans = json_array();
            rc = !ssj || json_array_append_new(sss, ssj);
            if (!rc && ss->scope) {
                json_t *sc = json_object();
                rc = !sc || put(ssj, "scope", sc) || put_str(sc, "name", ss->scope->name) ||
                     put_str(sc, "version", ss->scope->version) ||
                     put_attrs(sc, ss->scope->attributes, ss->scope->n_attributes,
                               ss->scope->dropped_attributes_count);
            }
            rc = rc || put(ssj, "spans", spans) || put_str(ssj, "schemaUrl", ss->schema_url);
            for (size_t k = 0; !rc && k < ss->n_spans; k++)
                rc = json_array_append_new(spans, span_json(ss->spans[k]));
        }
    }
    if (rc) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int xb_bench_request_to_json(const uint8_t *pb, size_t len, char **out, size_t *out_len)
{
    xb_pb_export_req *req;
    json_t *root = NULL;
    int rc = XB_OK;

    *out = NULL;
    *out_len = 0;
    req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL,
                                                                                           len, pb);
    if (!req)
        return XB_ERR_INVALID;
    root = request_json(req);
    if (!root) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    *out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!*out) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    *out_len = strlen(*out);
out:
    json_decref(root);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    return rc;
}
