/*
 * tests/fuzz/fuzz_wire.c - differential target for the schema-specific protobuf
 * decoder (receiver/otlp_wire.h) against the reference (pre-scan + protobuf-c):
 *  - whatever the fast decoder accepts, the reference accepts too, into an equal
 *    structure (every field the schema has, compared value by value) and into the
 *    same documents byte for byte;
 *  - xb_otlp_decode_protobuf() (fast path with fallback) and the reference return
 *    the same status and the same error description for every input.
 * Runs only when neither side ran out of memory (the two use different amounts).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "receiver/otlp_wire.h"
#include "tests/fuzz/fuzz_common.h"

/* Where the first difference was found (a static description). */
struct cmp {
    const char *what;
};

static int fail(struct cmp *c, const char *what)
{
    if (!c->what)
        c->what = what;
    return -1;
}

static int str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0 && (a == NULL) == (b == NULL);
}

static int bin_eq(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && (a->data == NULL) == (b->data == NULL) &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static int cmp_any(struct cmp *c, const xb_pb_any *a, const xb_pb_any *b);

static int cmp_kvs(struct cmp *c, size_t na, xb_pb_kv *const *a, size_t nb, xb_pb_kv *const *b)
{
    if (na != nb || (a == NULL) != (b == NULL))
        return fail(c, "attribute count or array");
    for (size_t i = 0; i < na; i++) {
        if (!str_eq(a[i]->key, b[i]->key))
            return fail(c, "attribute key");
        if ((a[i]->value == NULL) != (b[i]->value == NULL))
            return fail(c, "attribute value presence");
        if (a[i]->value && cmp_any(c, a[i]->value, b[i]->value) != 0)
            return -1;
    }
    return 0;
}

/* Recursion is bounded: both decoders refuse AnyValues nested deeper than 64. */
static int cmp_any(struct cmp *c, const xb_pb_any *a, const xb_pb_any *b)
{
    if (a->value_case != b->value_case)
        return fail(c, "AnyValue case");
    switch (a->value_case) {
    case XB_ANY_STRING:
        return str_eq(a->string_value, b->string_value) ? 0 : fail(c, "string_value");
    case XB_ANY_BOOL:
        return a->bool_value == b->bool_value ? 0 : fail(c, "bool_value");
    case XB_ANY_INT:
        return a->int_value == b->int_value ? 0 : fail(c, "int_value");
    case XB_ANY_DOUBLE:
        return memcmp(&a->double_value, &b->double_value, 8) == 0 ? 0 : fail(c, "double_value");
    case XB_ANY_BYTES:
        return bin_eq(&a->bytes_value, &b->bytes_value) ? 0 : fail(c, "bytes_value");
    case XB_ANY_ARRAY:
        if ((a->array_value == NULL) != (b->array_value == NULL) ||
            a->array_value->n_values != b->array_value->n_values)
            return fail(c, "array_value");
        for (size_t i = 0; i < a->array_value->n_values; i++)
            if (cmp_any(c, a->array_value->values[i], b->array_value->values[i]) != 0)
                return -1;
        return 0;
    case XB_ANY_KVLIST:
        if ((a->kvlist_value == NULL) != (b->kvlist_value == NULL))
            return fail(c, "kvlist_value");
        return cmp_kvs(c, a->kvlist_value->n_values, a->kvlist_value->values,
                       b->kvlist_value->n_values, b->kvlist_value->values);
    default:
        return 0;
    }
}

static int cmp_span(struct cmp *c, const xb_pb_span *a, const xb_pb_span *b)
{
    if (!bin_eq(&a->trace_id, &b->trace_id) || !bin_eq(&a->span_id, &b->span_id) ||
        !bin_eq(&a->parent_span_id, &b->parent_span_id))
        return fail(c, "span ids");
    if (!str_eq(a->trace_state, b->trace_state) || !str_eq(a->name, b->name))
        return fail(c, "span name or trace_state");
    if (a->flags != b->flags || a->kind != b->kind ||
        a->start_time_unix_nano != b->start_time_unix_nano ||
        a->end_time_unix_nano != b->end_time_unix_nano ||
        a->dropped_attributes_count != b->dropped_attributes_count ||
        a->dropped_events_count != b->dropped_events_count ||
        a->dropped_links_count != b->dropped_links_count)
        return fail(c, "span scalar field");
    if ((a->status == NULL) != (b->status == NULL))
        return fail(c, "status presence");
    if (a->status &&
        (a->status->code != b->status->code || !str_eq(a->status->message, b->status->message)))
        return fail(c, "status");
    if (cmp_kvs(c, a->n_attributes, a->attributes, b->n_attributes, b->attributes) != 0)
        return -1;
    if (a->n_events != b->n_events || a->n_links != b->n_links)
        return fail(c, "event or link count");
    for (size_t i = 0; i < a->n_events; i++) {
        const xb_pb_event *x = a->events[i], *y = b->events[i];
        if (x->time_unix_nano != y->time_unix_nano || !str_eq(x->name, y->name) ||
            x->dropped_attributes_count != y->dropped_attributes_count)
            return fail(c, "event");
        if (cmp_kvs(c, x->n_attributes, x->attributes, y->n_attributes, y->attributes) != 0)
            return -1;
    }
    for (size_t i = 0; i < a->n_links; i++) {
        const xb_pb_link *x = a->links[i], *y = b->links[i];
        if (!bin_eq(&x->trace_id, &y->trace_id) || !bin_eq(&x->span_id, &y->span_id) ||
            !str_eq(x->trace_state, y->trace_state) || x->flags != y->flags ||
            x->dropped_attributes_count != y->dropped_attributes_count)
            return fail(c, "link");
        if (cmp_kvs(c, x->n_attributes, x->attributes, y->n_attributes, y->attributes) != 0)
            return -1;
    }
    return 0;
}

static int cmp_request(struct cmp *c, const xb_pb_export_req *a, const xb_pb_export_req *b)
{
    if (a->n_resource_spans != b->n_resource_spans)
        return fail(c, "resource_spans count");
    for (size_t i = 0; i < a->n_resource_spans; i++) {
        const xb_pb_resource_spans *x = a->resource_spans[i], *y = b->resource_spans[i];
        if (!str_eq(x->schema_url, y->schema_url) || (x->resource == NULL) != (y->resource == NULL))
            return fail(c, "resource_spans fields");
        if (x->resource &&
            (x->resource->dropped_attributes_count != y->resource->dropped_attributes_count ||
             x->resource->n_entity_refs != y->resource->n_entity_refs ||
             cmp_kvs(c, x->resource->n_attributes, x->resource->attributes,
                     y->resource->n_attributes, y->resource->attributes) != 0))
            return fail(c, "resource");
        if (x->n_scope_spans != y->n_scope_spans)
            return fail(c, "scope_spans count");
        for (size_t j = 0; j < x->n_scope_spans; j++) {
            const xb_pb_scope_spans *s = x->scope_spans[j], *t = y->scope_spans[j];
            if (!str_eq(s->schema_url, t->schema_url) || (s->scope == NULL) != (t->scope == NULL))
                return fail(c, "scope_spans fields");
            if (s->scope &&
                (!str_eq(s->scope->name, t->scope->name) ||
                 !str_eq(s->scope->version, t->scope->version) ||
                 s->scope->dropped_attributes_count != t->scope->dropped_attributes_count ||
                 cmp_kvs(c, s->scope->n_attributes, s->scope->attributes, t->scope->n_attributes,
                         t->scope->attributes) != 0))
                return fail(c, "scope");
            if (s->n_spans != t->n_spans)
                return fail(c, "span count");
            for (size_t k = 0; k < s->n_spans; k++)
                if (cmp_span(c, s->spans[k], t->spans[k]) != 0)
                    return -1;
        }
    }
    return 0;
}

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    struct xb_arena *ra = xb_arena_new(64 * 1024, XB_FUZZ_ARENA_CAP);
    struct xb_arena *fa = xb_arena_new(64 * 1024, XB_FUZZ_ARENA_CAP);
    struct xb_translator_config cfg;
    struct xb_buf docs_ref, docs_fast;
    xb_pb_export_req *ref = NULL, *fast = NULL, *comb = NULL;
    const char *ref_desc = NULL, *comb_desc = NULL;
    struct cmp c = {NULL};
    int rc = 0, rrc, frc, crc, t1, t2;

    xb_buf_init(&docs_ref, 0);
    xb_buf_init(&docs_fast, 0);
    if (!ra || !fa)
        goto out;
    xb_fuzz_config(size ? data[size - 1] : 0, &cfg);
    rrc = xb_otlp_decode_protobuf_ref(data, size, ra, &ref, &ref_desc);

    /* The combined decoder: same status and description as the reference. */
    crc = xb_otlp_decode_protobuf(data, size, fa, &comb, &comb_desc);
    if (rrc != XB_ERR_NOMEM && crc != XB_ERR_NOMEM &&
        (rrc != crc || (rrc != XB_OK && !str_eq(ref_desc, comb_desc)))) {
        snprintf(err, errlen, "combined decoder returned %d (%s), reference %d (%s)", crc,
                 comb_desc ? comb_desc : "-", rrc, ref_desc ? ref_desc : "-");
        rc = -1;
        goto out;
    }
    xb_arena_reset(fa);

    frc = xb_otlp_wire_decode(data, size, fa, &fast);
    if (frc != XB_OK || rrc == XB_ERR_NOMEM)
        goto out; /* left to the reference, or no reference result to compare */
    if (rrc != XB_OK) {
        snprintf(err, errlen, "fast decoder accepted what the reference refused: %s",
                 ref_desc ? ref_desc : "-");
        rc = -1;
        goto out;
    }
    if (cmp_request(&c, ref, fast) != 0) {
        snprintf(err, errlen, "decoded requests differ: %s", c.what);
        rc = -1;
        goto out;
    }
    t1 = xb_fuzz_translate(ref, &cfg, ra, &docs_ref, err, errlen, documents);
    if (t1 != 0) {
        rc = t1 < 0 ? -1 : 0;
        goto out;
    }
    t2 = xb_fuzz_translate(fast, &cfg, fa, &docs_fast, err, errlen, NULL);
    if (t2 != 0) {
        rc = t2 < 0 ? -1 : 0;
        goto out;
    }
    if (docs_ref.len != docs_fast.len ||
        (docs_ref.len && memcmp(docs_ref.data, docs_fast.data, docs_ref.len) != 0)) {
        snprintf(err, errlen, "documents differ (%zu vs %zu bytes)", docs_ref.len, docs_fast.len);
        rc = -1;
    }
out:
    xb_buf_cleanup(&docs_ref);
    xb_buf_cleanup(&docs_fast);
    xb_arena_free(ra);
    xb_arena_free(fa);
    return rc;
}
