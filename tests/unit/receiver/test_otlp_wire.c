/*
 * Unit tests for receiver/otlp_wire.c (schema-specific protobuf decoder) and its use
 * in xb_otlp_decode_protobuf(): inputs whose protobuf-c meaning is not plain are left
 * to the reference decoder (merged singular messages, a repeated oneof, a bool with a
 * fixed64 wire type), unknown fields are skipped, malformed input gets the reference's
 * description, and an allocation failure in the fast path falls back cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "proto/otlp.h"
#include "receiver/otlp_decode.h"
#include "receiver/otlp_limits.h"
#include "receiver/otlp_wire.h"
#include "tests/unit/receiver/pb_build.h"

static int setup(void **state)
{
    *state = xb_arena_new(64 * 1024, 256u << 20);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    xb_arena_free(*state);
    return 0;
}

/* Request{ResourceSpans{ScopeSpans{Span{attributes: KeyValue "k" = |any|}}}} around an
 * AnyValue body of |n| (< 100) bytes. */
static size_t span_with_value(uint8_t *out, const uint8_t *any, size_t n)
{
    size_t kv = 5 + n, span = 2 + kv, ss = 2 + span, rs = 2 + ss, o = 0;

    out[o++] = 0x0a, out[o++] = (uint8_t)rs;   /* resource_spans */
    out[o++] = 0x12, out[o++] = (uint8_t)ss;   /* scope_spans */
    out[o++] = 0x12, out[o++] = (uint8_t)span; /* spans */
    out[o++] = 0x4a, out[o++] = (uint8_t)kv;   /* attributes */
    out[o++] = 0x0a, out[o++] = 1, out[o++] = 'k';
    out[o++] = 0x12, out[o++] = (uint8_t)n; /* value */
    memcpy(out + o, any, n);
    return o + n;
}

static const xb_pb_any *first_value(const xb_pb_export_req *r)
{
    return r->resource_spans[0]->scope_spans[0]->spans[0]->attributes[0]->value;
}

/* Fast decoder refuses, the combined decoder accepts what protobuf-c makes of it, and
 * the fast path's partial result was released: the arena holds what the reference
 * alone uses. */
static xb_pb_export_req *expect_fallback(void **state, const uint8_t *p, size_t n)
{
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    size_t ref_used;

    xb_arena_reset(*state);
    assert_int_equal(xb_otlp_decode_protobuf_ref(p, n, *state, &req, &err), XB_OK);
    ref_used = xb_arena_used(*state);
    xb_arena_reset(*state);
    req = NULL;
    assert_int_equal(xb_otlp_wire_decode(p, n, *state, &req), XB_ERR_INVALID);
    assert_null(req);
    xb_arena_reset(*state);
    assert_int_equal(xb_otlp_decode_protobuf(p, n, *state, &req, &err), XB_OK);
    assert_non_null(req);
    assert_int_equal(xb_arena_used(*state), ref_used);
    return req;
}

static void test_repeated_oneof_left_to_reference(void **state)
{
    /* string_value "a", then int_value 5: protobuf-c keeps the last member. */
    static const uint8_t any[] = {0x0a, 0x01, 'a', 0x18, 0x05};
    uint8_t buf[128];
    size_t n = span_with_value(buf, any, sizeof(any));
    const xb_pb_any *v = first_value(expect_fallback(state, buf, n));

    assert_int_equal(v->value_case, XB_ANY_INT);
    assert_int_equal(v->int_value, 5);
}

static void test_bool_with_fixed64_wire_type_left_to_reference(void **state)
{
    /* bool_value (field 2) sent as fixed64: protobuf-c reads any non-zero byte as true. */
    static const uint8_t any[] = {0x11, 0, 0, 0, 0, 0, 0, 0x01, 0};
    uint8_t buf[128];
    size_t n = span_with_value(buf, any, sizeof(any));
    const xb_pb_any *v = first_value(expect_fallback(state, buf, n));

    assert_int_equal(v->value_case, XB_ANY_BOOL);
    assert_true(v->bool_value);
}

static void test_repeated_resource_merged_by_reference(void **state)
{
    /* Two Resource fields in one ResourceSpans: protobuf-c merges their attributes. */
    static const uint8_t req[] = {
        0x0a, 0x18,                                                           /* resource_spans */
        0x0a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 'k', 0x12, 0x03, 0x0a, 0x01, 'a', /* resource */
        0x0a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 'j', 0x12, 0x03, 0x0a, 0x01, 'b', /* resource */
    };
    xb_pb_export_req *r = expect_fallback(state, req, sizeof(req));
    const xb_pb_resource *res = r->resource_spans[0]->resource;

    assert_int_equal(res->n_attributes, 2);
    assert_string_equal(res->attributes[0]->key, "k");
    assert_string_equal(res->attributes[1]->key, "j");
}

static void test_plain_values_and_unknown_fields(void **state)
{
    /* int_value 300 followed by unknown field 99 (varint) and 100 (bytes) inside the
     * AnyValue: skipped by both decoders. */
    static const uint8_t any[] = {0x18, 0xac, 0x02, 0x98, 0x06, 0x01, 0xa2, 0x06, 0x02, 'x', 'x'};
    uint8_t buf[128];
    size_t n = span_with_value(buf, any, sizeof(any));
    xb_pb_export_req *fast = NULL, *ref = NULL;
    const char *err = NULL;

    assert_int_equal(xb_otlp_wire_decode(buf, n, *state, &fast), XB_OK);
    assert_int_equal(xb_otlp_decode_protobuf_ref(buf, n, *state, &ref, &err), XB_OK);
    assert_int_equal(first_value(fast)->value_case, XB_ANY_INT);
    assert_int_equal(first_value(fast)->int_value, 300);
    assert_int_equal(first_value(ref)->int_value, 300);
    assert_string_equal(fast->resource_spans[0]->scope_spans[0]->spans[0]->attributes[0]->key, "k");
    assert_null(fast->resource_spans[0]->resource);
}

/* Both ends of the field table: unknown numbers below and above the highest known one
 * are skipped, the highest (Span.flags, 16) and singular sub-messages (Span.status,
 * AnyValue.array_value) are read like the reference reads them. */
static void test_field_table_edges_match_reference(void **state)
{
    /* AnyValue: unknown 8 (varint), unknown 16 (bytes), array_value {values: {}}. */
    static const uint8_t any[] = {0x40, 0x01, 0x82, 0x01, 0x01, 'x', 0x2a, 0x02, 0x0a, 0x00};
    /* Span: flags 0x301 (fixed32), unknown 17 (varint), status {code: 2}. */
    static const uint8_t span_req[] = {
        0x0a, 0x11,                               /* resource_spans */
        0x12, 0x0f,                               /* scope_spans */
        0x12, 0x0d,                               /* spans */
        0x85, 0x01, 0x01, 0x03, 0x00, 0x00,       /* flags */
        0x88, 0x01, 0x07, 0x7a, 0x02, 0x18, 0x02, /* field 17, status */
    };
    uint8_t buf[128];
    size_t n = span_with_value(buf, any, sizeof(any));
    xb_pb_export_req *fast = NULL, *ref = NULL;
    const xb_pb_span *fs, *rsp;
    const char *err = NULL;

    assert_int_equal(xb_otlp_wire_decode(buf, n, *state, &fast), XB_OK);
    assert_int_equal(xb_otlp_decode_protobuf_ref(buf, n, *state, &ref, &err), XB_OK);
    assert_int_equal(first_value(fast)->value_case, XB_ANY_ARRAY);
    assert_int_equal(first_value(ref)->value_case, XB_ANY_ARRAY);
    assert_int_equal(first_value(fast)->array_value->n_values, 1);
    assert_int_equal(first_value(ref)->array_value->n_values, 1);
    assert_int_equal(first_value(fast)->array_value->values[0]->value_case, XB_ANY_NONE);

    fast = ref = NULL;
    assert_int_equal(xb_otlp_wire_decode(span_req, sizeof(span_req), *state, &fast), XB_OK);
    assert_int_equal(xb_otlp_decode_protobuf_ref(span_req, sizeof(span_req), *state, &ref, &err),
                     XB_OK);
    fs = fast->resource_spans[0]->scope_spans[0]->spans[0];
    rsp = ref->resource_spans[0]->scope_spans[0]->spans[0];
    assert_int_equal(fs->flags, 0x301);
    assert_int_equal(rsp->flags, 0x301);
    assert_non_null(fs->status);
    assert_int_equal(fs->status->code, 2);
    assert_int_equal(rsp->status->code, 2);
}

static void test_malformed_gets_reference_description(void **state)
{
    static const uint8_t any[] = {0x0a, 0x01, 'a'};
    uint8_t buf[128];
    size_t n = span_with_value(buf, any, sizeof(any));
    xb_pb_export_req *req = NULL;
    const char *err = NULL, *ref_err = NULL;

    for (size_t cut = 1; cut < n; cut++) {
        xb_arena_reset(*state);
        int rc = xb_otlp_decode_protobuf(buf, cut, *state, &req, &err);
        int ref = xb_otlp_decode_protobuf_ref(buf, cut, *state, &req, &ref_err);
        assert_int_equal(rc, ref);
        assert_int_equal(rc, XB_ERR_INVALID);
        assert_string_equal(err, ref_err);
    }
}

static void test_nomem_in_fast_path_falls_back(void **state)
{
    static const uint8_t any[] = {0x0a, 0x01, 'a'};
    uint8_t buf[128];
    size_t n = span_with_value(buf, any, sizeof(any));
    xb_pb_export_req *req = NULL;
    const char *err = NULL;

    /* The first or second allocation fails (and every later one): the fast path
     * (which takes the string pool, then one block for the messages) gives up and the
     * reference reports NOMEM with a description. */
    for (size_t k = 1; k <= 2; k++) {
        xb_arena_reset(*state);
        xb_arena_fail_after(*state, k);
        err = NULL;
        assert_int_equal(xb_otlp_decode_protobuf(buf, n, *state, &req, &err), XB_ERR_NOMEM);
        assert_non_null(err);
    }
    xb_arena_reset(*state);
    assert_int_equal(xb_otlp_decode_protobuf(buf, n, *state, &req, &err), XB_OK);
    assert_string_equal(first_value(req)->string_value, "a");
}

/* Wraps what was written since |mark| as span -> ScopeSpans -> ResourceSpans. */
static void wrap_span(struct xb_pbb *b, size_t mark)
{
    xb_pbb_wrap(b, 2, mark); /* ScopeSpans.spans */
    xb_pbb_wrap(b, 2, mark); /* ResourceSpans.scope_spans */
    xb_pbb_wrap(b, 1, mark); /* request.resource_spans */
}

/* Prepends KeyValue |i| ("k<i>" = string "v<i>") as field |field| of its message. */
static void put_kv(struct xb_pbb *b, unsigned field, size_t i)
{
    char key[24], val[24];
    size_t mark = xb_pbb_len(b), vmark;
    int kn = snprintf(key, sizeof(key), "k%zu", i), vn = snprintf(val, sizeof(val), "v%zu", i);

    vmark = xb_pbb_len(b);
    xb_pbb_bytes(b, 1, val, (size_t)vn); /* AnyValue.string_value */
    xb_pbb_wrap(b, 2, vmark);            /* KeyValue.value */
    xb_pbb_bytes(b, 1, key, (size_t)kn); /* KeyValue.key */
    xb_pbb_wrap(b, field, mark);
}

/*
 * One span with |n| attributes, |n| events (event i named "e<i>" with i attributes,
 * at most 9) and an attribute "arr" holding an array of |n| int values: every
 * repeated field of the standard shape at |n| elements.
 */
static void build_n(struct xb_pbb *b, size_t n)
{
    size_t span = xb_pbb_len(b), m, a;

    for (size_t i = n; i-- > 0;) { /* events (field 11), back to front */
        char name[24];
        int nn = snprintf(name, sizeof(name), "e%zu", i);
        m = xb_pbb_len(b);
        for (size_t j = i < 9 ? i : 9; j-- > 0;)
            put_kv(b, 3, j);
        xb_pbb_bytes(b, 2, name, (size_t)nn);
        xb_pbb_wrap(b, 11, m);
    }
    m = xb_pbb_len(b); /* attribute "arr" = array_value {values: 0..n-1} */
    a = xb_pbb_len(b);
    for (size_t i = n; i-- > 0;) {
        size_t v = xb_pbb_len(b);
        xb_pbb_varint(b, i);
        xb_pbb_tag(b, 3, 0);  /* AnyValue.int_value */
        xb_pbb_wrap(b, 1, v); /* ArrayValue.values */
    }
    xb_pbb_wrap(b, 5, a); /* AnyValue.array_value */
    xb_pbb_wrap(b, 2, a); /* KeyValue.value */
    xb_pbb_bytes(b, 1, "arr", 3);
    xb_pbb_wrap(b, 9, m);
    for (size_t i = n; i-- > 0;)
        put_kv(b, 9, i);
    wrap_span(b, span);
}

/* Repeated fields of 0, 1, and around each doubling of the pointer arrays' room (8,
 * 16, 32, 64 and 512 pointers, the last past the size carved from shared blocks):
 * every element is there, in wire order, as the reference has it. */
static void test_repeated_sizes_match_reference(void **state)
{
    static const size_t sizes[] = {0,  1,  2,  7,  8,  9,  15,  16,  17,
                                   31, 32, 33, 63, 64, 65, 511, 512, 513};

    for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
        size_t n = sizes[t];
        struct xb_pbb b;
        xb_pb_export_req *fast = NULL, *ref = NULL;
        const xb_pb_span *fs, *rsp;
        const char *err = NULL;

        xb_pbb_init(&b);
        build_n(&b, n);
        xb_arena_reset(*state);
        assert_int_equal(xb_otlp_wire_decode(xb_pbb_data(&b), xb_pbb_len(&b), *state, &fast),
                         XB_OK);
        assert_int_equal(
            xb_otlp_decode_protobuf_ref(xb_pbb_data(&b), xb_pbb_len(&b), *state, &ref, &err),
            XB_OK);
        fs = fast->resource_spans[0]->scope_spans[0]->spans[0];
        rsp = ref->resource_spans[0]->scope_spans[0]->spans[0];
        assert_int_equal(fs->n_attributes, n + 1);
        assert_int_equal(rsp->n_attributes, n + 1);
        assert_int_equal(fs->n_events, n);
        assert_int_equal(rsp->n_events, n);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(fs->attributes[i]->key, rsp->attributes[i]->key);
            assert_string_equal(fs->attributes[i]->value->string_value,
                                rsp->attributes[i]->value->string_value);
            assert_string_equal(fs->events[i]->name, rsp->events[i]->name);
            assert_int_equal(fs->events[i]->n_attributes, rsp->events[i]->n_attributes);
            for (size_t j = 0; j < fs->events[i]->n_attributes; j++)
                assert_string_equal(fs->events[i]->attributes[j]->key,
                                    rsp->events[i]->attributes[j]->key);
        }
        assert_string_equal(fs->attributes[n]->key, "arr");
        assert_int_equal(fs->attributes[n]->value->array_value->n_values, n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(fs->attributes[n]->value->array_value->values[i]->int_value,
                             rsp->attributes[n]->value->array_value->values[i]->int_value);
        xb_pbb_free(&b);
    }
}

/* Asserts that two decoded AnyValues (either may be NULL) are equal. */
static void assert_any_equal(const xb_pb_any *a, const xb_pb_any *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_int_equal(a->value_case, b->value_case);
    switch (a->value_case) {
    case XB_ANY_STRING:
        assert_string_equal(a->string_value, b->string_value);
        break;
    case XB_ANY_BOOL:
        assert_int_equal(a->bool_value, b->bool_value);
        break;
    case XB_ANY_INT:
        assert_int_equal(a->int_value, b->int_value);
        break;
    case XB_ANY_DOUBLE:
        assert_memory_equal(&a->double_value, &b->double_value, sizeof(double));
        break;
    case XB_ANY_BYTES:
        assert_int_equal(a->bytes_value.len, b->bytes_value.len);
        if (a->bytes_value.len)
            assert_memory_equal(a->bytes_value.data, b->bytes_value.data, a->bytes_value.len);
        else
            assert_null(a->bytes_value.data);
        break;
    case XB_ANY_ARRAY:
        assert_int_equal(a->array_value->n_values, b->array_value->n_values);
        for (size_t i = 0; i < a->array_value->n_values; i++)
            assert_any_equal(a->array_value->values[i], b->array_value->values[i]);
        break;
    case XB_ANY_KVLIST:
        assert_int_equal(a->kvlist_value->n_values, b->kvlist_value->n_values);
        for (size_t i = 0; i < a->kvlist_value->n_values; i++) {
            assert_string_equal(a->kvlist_value->values[i]->key, b->kvlist_value->values[i]->key);
            assert_any_equal(a->kvlist_value->values[i]->value, b->kvlist_value->values[i]->value);
        }
        break;
    default:
        break;
    }
}

/* Decodes |p| with both decoders and asserts that the first span's attributes are
 * equal; returns their count. */
static size_t attrs_match_reference(void **state, const uint8_t *p, size_t n)
{
    xb_pb_export_req *fast = NULL, *ref = NULL;
    const xb_pb_span *fs, *rsp;
    const char *err = NULL;

    xb_arena_reset(*state);
    assert_int_equal(xb_otlp_wire_decode(p, n, *state, &fast), XB_OK);
    assert_int_equal(xb_otlp_decode_protobuf_ref(p, n, *state, &ref, &err), XB_OK);
    fs = fast->resource_spans[0]->scope_spans[0]->spans[0];
    rsp = ref->resource_spans[0]->scope_spans[0]->spans[0];
    assert_int_equal(fs->n_attributes, rsp->n_attributes);
    for (size_t i = 0; i < fs->n_attributes; i++) {
        assert_string_equal(fs->attributes[i]->key, rsp->attributes[i]->key);
        assert_any_equal(fs->attributes[i]->value, rsp->attributes[i]->value);
    }
    return fs->n_attributes;
}

/* Prepends an attribute (Span field 9) with key |key| and the AnyValue bytes |v|
 * (|vn| == SIZE_MAX: no value field at all). */
static void put_attr(struct xb_pbb *b, const char *key, const uint8_t *v, size_t vn)
{
    size_t m = xb_pbb_len(b);

    if (vn != SIZE_MAX)
        xb_pbb_bytes(b, 2, v, vn);
    xb_pbb_bytes(b, 1, key, strlen(key));
    xb_pbb_wrap(b, 9, m);
}

/*
 * Attributes decoded in one run (the common KeyValue shape) mixed with every shape the
 * run leaves to the general path, which then resumes the run: each value type, no
 * value, an empty value, a multi-byte bool and a 10-byte negative int, a long key and
 * value (two-byte lengths), the value before the key, a nested array, unknown fields,
 * and strings of every length up to 40 bytes ending at the input's last byte.
 */
static void test_kv_shapes_match_reference(void **state)
{
    static const uint8_t str[] = {0x0a, 0x03, 'a', 'b', 'c'};
    static const uint8_t byt[] = {0x3a, 0x02, 0x00, 0xff};
    static const uint8_t nobytes[] = {0x3a, 0x00};
    static const uint8_t bool1[] = {0x10, 0x01};
    static const uint8_t bool_long[] = {0x10, 0x80, 0x00};
    static const uint8_t i300[] = {0x18, 0xac, 0x02};
    static const uint8_t ineg[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t dbl[] = {0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    static const uint8_t arr[] = {0x2a, 0x04, 0x0a, 0x02, 0x18, 0x07};
    static const uint8_t unk[] = {0x0a, 0x01, 'x', 0x40, 0x01};
    char longkey[200];
    uint8_t longval[140];
    struct xb_pbb b;
    size_t span;

    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    longval[0] = 0x0a, longval[1] = 0x89, longval[2] = 0x01; /* string of 137 bytes */
    memset(longval + 3, 'v', sizeof(longval) - 3);

    xb_pbb_init(&b);
    span = xb_pbb_len(&b);
    put_attr(&b, "s2", str, sizeof(str));
    put_attr(&b, "unknown", unk, sizeof(unk));
    put_attr(&b, "arr", arr, sizeof(arr));
    put_attr(&b, "s1", str, sizeof(str));
    put_attr(&b, "longval", longval, sizeof(longval));
    put_attr(&b, longkey, str, sizeof(str));
    put_attr(&b, "double", dbl, sizeof(dbl));
    put_attr(&b, "ineg", ineg, sizeof(ineg));
    put_attr(&b, "i300", i300, sizeof(i300));
    put_attr(&b, "bool_long", bool_long, sizeof(bool_long));
    put_attr(&b, "bool", bool1, sizeof(bool1));
    put_attr(&b, "nobytes", nobytes, sizeof(nobytes));
    put_attr(&b, "bytes", byt, sizeof(byt));
    put_attr(&b, "empty", NULL, 0);
    put_attr(&b, "none", NULL, SIZE_MAX);
    { /* value (field 2) before key (field 1) */
        size_t m = xb_pbb_len(&b);
        xb_pbb_bytes(&b, 1, "k", 1);
        xb_pbb_bytes(&b, 2, str, sizeof(str));
        xb_pbb_wrap(&b, 9, m);
    }
    wrap_span(&b, span);
    assert_int_equal(attrs_match_reference(state, xb_pbb_data(&b), xb_pbb_len(&b)), 16);
    xb_pbb_free(&b);

    /* The last attribute's key or value ends the input: every length up to 40, so that
     * short copies near the end cannot read past it. */
    for (size_t len = 0; len <= 40; len++) {
        uint8_t v[64];
        char key[48];
        memset(key, 'a' + (int)(len % 26), len);
        key[len] = '\0';
        v[0] = 0x0a, v[1] = (uint8_t)len;
        memset(v + 2, 'z', len);
        for (int where = 0; where < 2; where++) {
            size_t n;
            uint8_t *copy;
            xb_pbb_init(&b);
            span = xb_pbb_len(&b);
            if (where)
                put_attr(&b, key, NULL, SIZE_MAX);
            else
                put_attr(&b, "k", v, len + 2);
            put_attr(&b, "first", str, sizeof(str));
            wrap_span(&b, span);
            /* an exact-size heap copy, so that a read past the end is caught by ASan */
            n = xb_pbb_len(&b);
            copy = malloc(n);
            assert_non_null(copy);
            memcpy(copy, xb_pbb_data(&b), n);
            assert_int_equal(attrs_match_reference(state, copy, n), 2);
            free(copy);
            xb_pbb_free(&b);
        }
    }
}

/* Arena bytes one decoder takes for |n| input bytes. */
static size_t used_by(void **state, int wire, const uint8_t *p, size_t n)
{
    xb_pb_export_req *req = NULL;
    const char *err = NULL;

    xb_arena_reset(*state);
    if (wire)
        assert_int_equal(xb_otlp_wire_decode(p, n, *state, &req), XB_OK);
    else
        assert_int_equal(xb_otlp_decode_protobuf_ref(p, n, *state, &req, &err), XB_OK);
    return xb_arena_used(*state);
}

/*
 * The arena the decoder needs stays within the reference's on the shapes that cost
 * most per input byte (many tiny repeated elements; one long pointer array; arrays of
 * one region interleaved, which move once), so the request arena's cap
 * (receiver/ingest.c: xb_ingest_arena_bytes) still covers every request the
 * reference could decode.
 */
static void test_arena_bound_on_worst_shapes(void **state)
{
    enum { N = 20000 };
    struct xb_pbb b;

    for (int shape = 0; shape < 8; shape++) {
        size_t mark, wire, ref, len;

        xb_pbb_init(&b);
        mark = xb_pbb_len(&b);
        for (size_t i = 0; i < N; i++) {
            size_t m = xb_pbb_len(&b);
            switch (shape) {
            case 0: /* empty attributes of one span */
                xb_pbb_bytes(&b, 9, "", 0);
                break;
            case 1: /* empty spans */
                xb_pbb_bytes(&b, 2, "", 0);
                break;
            case 2: /* spans with one empty attribute each */
                xb_pbb_bytes(&b, 9, "", 0);
                xb_pbb_wrap(&b, 2, m);
                break;
            case 3: /* events with one empty attribute each */
                xb_pbb_bytes(&b, 3, "", 0);
                xb_pbb_wrap(&b, 11, m);
                break;
            case 6: /* attributes and events with one attribute, alternating */
                xb_pbb_bytes(&b, 3, "", 0);
                xb_pbb_wrap(&b, 11, m);
                xb_pbb_bytes(&b, 9, "", 0);
                break;
            case 7: /* attributes of the common shape (one run) */
                xb_pbb_bytes(&b, 1, "k", 1);
                xb_pbb_wrap(&b, 9, m);
                break;
            case 4: /* empty ResourceSpans */
                xb_pbb_bytes(&b, 1, "", 0);
                break;
            default: /* empty values of one array */
                xb_pbb_bytes(&b, 1, "", 0);
                break;
            }
        }
        switch (shape) {
        case 0:
        case 3:
        case 6:
        case 7:
            wrap_span(&b, mark);
            break;
        case 1:
        case 2:
            xb_pbb_wrap(&b, 2, mark);
            xb_pbb_wrap(&b, 1, mark);
            break;
        case 4:
            break;
        default:
            xb_pbb_wrap(&b, 5, mark); /* AnyValue.array_value */
            xb_pbb_wrap(&b, 2, mark); /* KeyValue.value */
            xb_pbb_wrap(&b, 9, mark); /* Span.attributes */
            wrap_span(&b, mark);
            break;
        }
        len = xb_pbb_len(&b);
        wire = used_by(state, 1, xb_pbb_data(&b), len);
        ref = used_by(state, 0, xb_pbb_data(&b), len);
        print_message("shape %d: %zu input bytes, arena %zu (reference %zu)\n", shape, len, wire,
                      ref);
        assert_true(wire <= ref);
        xb_pbb_free(&b);
    }
}

/* The AnyValue depth limit holds in the decoder itself, for values nested through
 * KeyValueLists (whose KeyValues go through the run of common-shape KeyValues),
 * ArrayValues and both alternating, at every place an attribute can be. */
static void test_depth_limit_in_fast_path(void **state)
{
    static const enum xb_pbb_where wheres[] = {XB_PBB_SPAN_ATTR, XB_PBB_RESOURCE_ATTR,
                                               XB_PBB_EVENT_ATTR, XB_PBB_LINK_ATTR};

    for (int kvlist = 0; kvlist <= 2; kvlist++) {
        for (size_t w = 0; w < sizeof(wheres) / sizeof(wheres[0]); w++) {
            for (int levels = XB_OTLP_MAX_ANYVALUE_DEPTH - 1;
                 levels <= XB_OTLP_MAX_ANYVALUE_DEPTH + 1; levels++) {
                struct xb_pbb b;
                xb_pb_export_req *req = NULL;
                int rc;
                xb_pbb_init(&b);
                xb_pbb_nested_request(&b, levels, kvlist, wheres[w]);
                xb_arena_reset(*state);
                rc = xb_otlp_wire_decode(xb_pbb_data(&b), xb_pbb_len(&b), *state, &req);
                assert_int_equal(rc, levels <= XB_OTLP_MAX_ANYVALUE_DEPTH ? XB_OK : XB_ERR_INVALID);
                xb_pbb_free(&b);
            }
        }
    }
}

static void assert_bin_equal(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.data, b.data, a.len);
    else
        assert_true(a.data == NULL && b.data == NULL);
}

/* Asserts that two decoded Spans are equal in every field the span fast path reads
 * and in the counts of the rest. */
static void assert_span_equal(const xb_pb_span *a, const xb_pb_span *b)
{
    assert_bin_equal(a->trace_id, b->trace_id);
    assert_bin_equal(a->span_id, b->span_id);
    assert_bin_equal(a->parent_span_id, b->parent_span_id);
    assert_string_equal(a->trace_state, b->trace_state);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->start_time_unix_nano, b->start_time_unix_nano);
    assert_int_equal(a->end_time_unix_nano, b->end_time_unix_nano);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->dropped_attributes_count, b->dropped_attributes_count);
    assert_int_equal(a->dropped_events_count, b->dropped_events_count);
    assert_int_equal(a->dropped_links_count, b->dropped_links_count);
    assert_int_equal(a->n_events, b->n_events);
    assert_int_equal(a->n_links, b->n_links);
    assert_int_equal(a->n_attributes, b->n_attributes);
    for (size_t i = 0; i < a->n_attributes; i++) {
        assert_string_equal(a->attributes[i]->key, b->attributes[i]->key);
        assert_int_equal(a->attributes[i]->value == NULL, b->attributes[i]->value == NULL);
        if (a->attributes[i]->value && a->attributes[i]->value->value_case == XB_ANY_STRING)
            assert_string_equal(a->attributes[i]->value->string_value,
                                b->attributes[i]->value->string_value);
    }
    for (size_t i = 0; i < a->n_events; i++) {
        assert_string_equal(a->events[i]->name, b->events[i]->name);
        assert_int_equal(a->events[i]->time_unix_nano, b->events[i]->time_unix_nano);
        assert_int_equal(a->events[i]->n_attributes, b->events[i]->n_attributes);
    }
    assert_int_equal(a->status == NULL, b->status == NULL);
    if (a->status) {
        assert_int_equal(a->status->code, b->status->code);
        assert_string_equal(a->status->message, b->status->message);
    }
}

/*
 * Decodes one span whose body is |body| with both decoders. When the schema-specific
 * decoder accepts it (|fast_ok|), the spans must be equal; when it does not, the
 * combined decoder must return the reference's status.
 */
static void check_span_body(void **state, const uint8_t *body, size_t n, int fast_ok)
{
    struct xb_pbb b;
    xb_pb_export_req *fast = NULL, *ref = NULL, *comb = NULL;
    const char *err = NULL, *err2 = NULL;
    int rref, rfast;

    xb_pbb_init(&b);
    xb_pbb_raw(&b, body, n);
    wrap_span(&b, 0);
    xb_arena_reset(*state);
    rref = xb_otlp_decode_protobuf_ref(xb_pbb_data(&b), xb_pbb_len(&b), *state, &ref, &err);
    rfast = xb_otlp_wire_decode(xb_pbb_data(&b), xb_pbb_len(&b), *state, &fast);
    assert_int_equal(rfast, fast_ok ? XB_OK : XB_ERR_INVALID);
    if (rfast == XB_OK) {
        assert_int_equal(rref, XB_OK);
        assert_span_equal(fast->resource_spans[0]->scope_spans[0]->spans[0],
                          ref->resource_spans[0]->scope_spans[0]->spans[0]);
    } else {
        assert_int_equal(
            xb_otlp_decode_protobuf(xb_pbb_data(&b), xb_pbb_len(&b), *state, &comb, &err2), rref);
    }
    xb_pbb_free(&b);
}

#define TID16 0x0a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define SID8 0x12, 0x08, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28
#define PID8 0x22, 0x08, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38
#define START 0x39, 1, 2, 3, 4, 5, 6, 7, 8
#define END 0x41, 9, 10, 11, 12, 13, 14, 15, 16
#define ATTR(c) 0x4a, 0x07, 0x0a, 0x01, (c), 0x12, 0x02, 0x10, 0x01
#define STATUS 0x7a, 0x05, 0x12, 0x01, 'm', 0x18, 0x02
#define FLAGS 0x85, 0x01, 0x01, 0x03, 0x00, 0x00
#define EVENT 0x5a, 0x0b, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x00

/*
 * The span fast path (span_run) against the reference: the order SDKs write, every
 * field out of order, repeated singular fields (the last one wins), unknown fields
 * and wrong wire types inside a span, longer lengths and varints, a status of another
 * shape or given twice, and attributes and events interleaved: each shape it hands
 * back to the general path decodes as before.
 */
static void test_span_fields_match_reference(void **state)
{
    static const uint8_t sdk[] = {TID16, SID8,      0x1a,      0x03,  'a',    '=',  'b',
                                  PID8,  0x2a,      0x01,      'n',   0x30,   0x02, START,
                                  END,   ATTR('a'), ATTR('b'), EVENT, STATUS, FLAGS};
    static const uint8_t reversed[] = {FLAGS, STATUS, EVENT, ATTR('b'), ATTR('a'), END,
                                       START, 0x30,   0x03,  0x2a,      0x01,      'n',
                                       PID8,  0x1a,   0x00,  SID8,      TID16};
    static const uint8_t repeated[] = {TID16, 0x0a,  0x02,  7,    7,    SID8, SID8, 0x2a, 0x01,
                                       'x',   0x2a,  0x01,  'y',  0x30, 0x02, 0x30, 0x05, START,
                                       END,   START, FLAGS, 0x85, 0x01, 9,    9,    9,    9,
                                       0x0a,  0x00,  0x50,  0x03, 0x60, 0x04, 0x70, 0x05};
    static const uint8_t unknown[] = {
        TID16, 0x88, 0x01, 0x07, SID8, 0x8a, 0x01,  0x02,
        'z',   'z',  0x85, 0x02, 1,    2,    3,     4, /* field 32, fixed32 */
        0xfd,  0x7f, 1,    2,    3,    4,    START, END};
    static const uint8_t long_varints[] = {TID16, 0x30, 0x82, 0x01, 0x2a, 0x81, 0x00,
                                           'n',   0x7a, 0x03, 0x18, 0x82, 0x01, FLAGS};
    static const uint8_t status_other[] = {TID16, 0x7a, 0x04, 0x18, 0x01, 0x28, 0x01, SID8};
    static const uint8_t status_twice[] = {TID16, STATUS, STATUS};
    static const uint8_t status_empty[] = {TID16, 0x7a, 0x00, SID8};
    static const uint8_t status_bad[] = {TID16, 0x7a, 0x02, 0x12, 0x05};
    static const uint8_t wrong_wt[][4] = {
        {0x08, 0x05},       /* trace_id as a varint */
        {0x2d, 1, 2, 3},    /* name as fixed32 */
        {0x32, 0x01, 0x02}, /* kind as bytes */
        {0x38, 0x05},       /* start time as a varint */
        {0x7d, 1, 2, 3},    /* status as fixed32 */
        {0x85, 0x01, 1, 2}, /* flags cut short */
        {0x39, 1, 2, 3},    /* start time cut short */
        {0x0a, 0x05, 1, 2}, /* trace_id cut short */
    };
    static const int wrong_wt_len[] = {2, 4, 3, 2, 4, 4, 4, 4};
    static const int wrong_wt_ok[] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t mixed[512];
    size_t m = 0;

    static const uint8_t start_only[] = {TID16, SID8, START, 0x50, 0x01, END, 0x41, 0x00};
    static const uint8_t seq_breaks[] = {TID16, 0x2a, 0x81, 0x00, 'n', SID8, 0x30, 0x80, 0x01};
    static const uint8_t last_field_cut[] = {TID16, SID8, 0x2a, 0x01, 'n', 0x30, 0x01, START};

    check_span_body(state, sdk, sizeof(sdk), 1);
    check_span_body(state, start_only, sizeof(start_only), 0); /* END cut short */
    check_span_body(state, start_only, sizeof(start_only) - 2, 1);
    check_span_body(state, seq_breaks, sizeof(seq_breaks), 1);
    check_span_body(state, last_field_cut, sizeof(last_field_cut), 1);
    check_span_body(state, last_field_cut, sizeof(last_field_cut) - 1, 0);
    check_span_body(state, reversed, sizeof(reversed), 1);
    check_span_body(state, repeated, sizeof(repeated), 1);
    check_span_body(state, unknown, sizeof(unknown), 1);
    check_span_body(state, long_varints, sizeof(long_varints), 1);
    check_span_body(state, status_other, sizeof(status_other), 1);
    check_span_body(state, status_twice, sizeof(status_twice), 0);
    check_span_body(state, status_empty, sizeof(status_empty), 1);
    check_span_body(state, status_bad, sizeof(status_bad), 0);
    for (size_t i = 0; i < sizeof(wrong_wt) / sizeof(wrong_wt[0]); i++) {
        uint8_t body[sizeof(sdk) + 4];
        memcpy(body, sdk, sizeof(sdk));
        memcpy(body + sizeof(sdk), wrong_wt[i], (size_t)wrong_wt_len[i]);
        check_span_body(state, body, sizeof(sdk) + (size_t)wrong_wt_len[i], wrong_wt_ok[i]);
        /* the same field first, before the fast path ran */
        memcpy(body, wrong_wt[i], (size_t)wrong_wt_len[i]);
        memcpy(body + wrong_wt_len[i], sdk, sizeof(sdk));
        check_span_body(state, body, sizeof(sdk) + (size_t)wrong_wt_len[i], 0);
    }
    /* A 200-byte name and a 150-byte trace state (two-byte lengths), a KeyValue the
     * run leaves to the general path between common ones, then the run again. */
    mixed[m++] = 0x2a, mixed[m++] = 0xc8, mixed[m++] = 0x01;
    memset(mixed + m, 'n', 200), m += 200;
    mixed[m++] = 0x1a, mixed[m++] = 0x96, mixed[m++] = 0x01;
    memset(mixed + m, 's', 150), m += 150;
    {
        static const uint8_t tail[] = {ATTR('a'), 0x4a, 0x05,      0x0a,  0x01,  'q',
                                       0x18,      0x01, ATTR('c'), TID16, EVENT, ATTR('d')};
        memcpy(mixed + m, tail, sizeof(tail));
        m += sizeof(tail);
    }
    assert_true(m <= sizeof(mixed));
    check_span_body(state, mixed, m, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_repeated_oneof_left_to_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool_with_fixed64_wire_type_left_to_reference, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_repeated_resource_merged_by_reference, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plain_values_and_unknown_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_table_edges_match_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_gets_reference_description, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nomem_in_fast_path_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_sizes_match_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_bound_on_worst_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_shapes_match_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit_in_fast_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_span_fields_match_reference, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
