/*
 * tests/unit/receiver/test_otlp_json.c - OTLP/JSON decoder (receiver/otlp_json.c) and
 * the protobuf decoder it must agree with (receiver/otlp_decode.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "proto/otlp.h"
#include "receiver/otlp_decode.h"
#include "receiver/otlp_limits.h"

#define FULL_JSON XB_TEST_DATA_DIR "/otlp_json/full.json"

/* ---- helpers -------------------------------------------------------------------- */

static int setup_arena(void **state)
{
    *state = xb_arena_new(4096, 0);
    return *state ? 0 : -1;
}

static int teardown_arena(void **state)
{
    xb_arena_free(*state);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static int decode(struct xb_arena *a, const char *json, xb_pb_export_req **req, const char **err)
{
    *req = NULL;
    *err = NULL;
    return xb_otlp_decode_json(json, strlen(json), a, req, err);
}

/* Decodes |json|, which must succeed. */
static xb_pb_export_req *decode_ok(struct xb_arena *a, const char *json)
{
    xb_pb_export_req *req;
    const char *err;
    int rc = decode(a, json, &req, &err);

    if (rc != XB_OK)
        print_error("unexpected failure: %s\n", err ? err : "(null)");
    assert_int_equal(rc, XB_OK);
    assert_non_null(req);
    return req;
}

/* Decodes |json|, which must fail with XB_ERR_INVALID and an err_desc containing |want|. */
static void expect_invalid(struct xb_arena *a, const char *json, const char *want)
{
    xb_pb_export_req *req;
    const char *err;
    int rc = decode(a, json, &req, &err);

    if (rc != XB_ERR_INVALID || !err || !strstr(err, want))
        print_error("input %s\n  rc=%d err=%s (wanted \"%s\")\n", json, rc, err ? err : "(null)",
                    want);
    assert_int_equal(rc, XB_ERR_INVALID);
    assert_non_null(err);
    assert_non_null(strstr(err, want));
}

/* Wraps one span object (JSON text) into a full request. */
static char *wrap_span(const char *span)
{
    static char buf[8192];
    int n = snprintf(buf, sizeof(buf), "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[%s]}]}]}",
                     span);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return buf;
}

/* Wraps one AnyValue object (JSON text) as the value of span attribute "k". */
static char *wrap_value(const char *value)
{
    static char buf[8192];
    int n = snprintf(buf, sizeof(buf),
                     "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":"
                     "[{\"key\":\"k\",\"value\":%s}]}]}]}]}",
                     value);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return buf;
}

static xb_pb_span *span0(const xb_pb_export_req *req)
{
    assert_int_equal(req->n_resource_spans, 1);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
    assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 1);
    return req->resource_spans[0]->scope_spans[0]->spans[0];
}

static xb_pb_any *value0(const xb_pb_export_req *req)
{
    xb_pb_span *s = span0(req);
    assert_int_equal(s->n_attributes, 1);
    assert_string_equal(s->attributes[0]->key, "k");
    assert_non_null(s->attributes[0]->value);
    return s->attributes[0]->value;
}

static void assert_bin(ProtobufCBinaryData b, const void *want, size_t len)
{
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, want, len);
}

static xb_pb_any *attr(xb_pb_kv **kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kvs[i]->key, key) == 0)
            return kvs[i]->value;
    fail_msg("attribute %s missing", key);
    return NULL;
}

static uint8_t *pack_req(const xb_pb_export_req *req, size_t *len)
{
    uint8_t *buf;

    *len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            req);
    buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, buf),
        *len);
    return buf;
}

/* ---- successful decoding ---------------------------------------------------------- */

static void test_full_request_every_field(void **state)
{
    static const uint8_t trace_id[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                         0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
    static const uint8_t span_id[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
    static const uint8_t parent_id[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73};
    static const uint8_t link_trace[16] = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                                           0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
    static const uint8_t link_span[8] = {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31};
    size_t len;
    char *json = read_file(FULL_JSON, &len);
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    xb_pb_resource_spans *rs;
    xb_pb_scope_spans *ss;
    xb_pb_span *s;
    xb_pb_any *v;

    assert_int_equal(xb_otlp_decode_json(json, len, *state, &req, &err), XB_OK);
    free(json);
    assert_int_equal(req->n_resource_spans, 2);
    assert_int_equal(xb_otlp_count_spans(req), 3);

    rs = req->resource_spans[0];
    assert_string_equal(rs->schema_url, "https://opentelemetry.io/schemas/1.24.0");
    assert_non_null(rs->resource);
    assert_int_equal(rs->resource->n_attributes, 3);
    assert_int_equal(rs->resource->dropped_attributes_count, 1);
    assert_int_equal(rs->resource->n_entity_refs, 0);
    v = attr(rs->resource->attributes, 3, "service.name");
    assert_int_equal(v->value_case, XB_ANY_STRING);
    assert_string_equal(v->string_value, "checkout");
    v = attr(rs->resource->attributes, 3, "host.cpus");
    assert_int_equal(v->value_case, XB_ANY_INT);
    assert_int_equal(v->int_value, 8);

    assert_int_equal(rs->n_scope_spans, 1);
    ss = rs->scope_spans[0];
    assert_string_equal(ss->schema_url, "https://opentelemetry.io/schemas/1.21.0");
    assert_string_equal(ss->scope->name, "io.opentelemetry.http");
    assert_string_equal(ss->scope->version, "1.2.3");
    assert_int_equal(ss->scope->dropped_attributes_count, 7);
    assert_int_equal(ss->scope->n_attributes, 1);
    assert_int_equal(ss->scope->attributes[0]->value->value_case, XB_ANY_BOOL);
    assert_true(ss->scope->attributes[0]->value->bool_value);
    assert_int_equal(ss->n_spans, 2);

    s = ss->spans[0];
    assert_bin(s->trace_id, trace_id, 16);
    assert_bin(s->span_id, span_id, 8);
    assert_bin(s->parent_span_id, parent_id, 8);
    assert_string_equal(s->trace_state, "vendor=abc");
    assert_int_equal(s->flags, 257);
    assert_string_equal(s->name, "GET /api/cart");
    assert_int_equal(s->kind, XB_KIND_SERVER);
    assert_true(s->start_time_unix_nano == UINT64_C(1700000000123456789));
    assert_true(s->end_time_unix_nano == UINT64_C(1700000000987654321));
    assert_int_equal(s->dropped_attributes_count, 2);
    assert_int_equal(s->dropped_events_count, 4);
    assert_int_equal(s->dropped_links_count, 6);
    assert_int_equal(s->n_attributes, 8);

    v = attr(s->attributes, s->n_attributes, "http.request.method");
    assert_int_equal(v->value_case, XB_ANY_STRING);
    assert_string_equal(v->string_value, "GET");
    v = attr(s->attributes, s->n_attributes, "http.response.status_code");
    assert_int_equal(v->value_case, XB_ANY_INT);
    assert_int_equal(v->int_value, 200);
    v = attr(s->attributes, s->n_attributes, "retry");
    assert_int_equal(v->value_case, XB_ANY_BOOL);
    assert_false(v->bool_value);
    v = attr(s->attributes, s->n_attributes, "ratio");
    assert_int_equal(v->value_case, XB_ANY_DOUBLE);
    assert_true(v->double_value == 0.25);
    v = attr(s->attributes, s->n_attributes, "payload");
    assert_int_equal(v->value_case, XB_ANY_BYTES);
    assert_bin(v->bytes_value, "hello", 5);
    v = attr(s->attributes, s->n_attributes, "tags");
    assert_int_equal(v->value_case, XB_ANY_ARRAY);
    assert_int_equal(v->array_value->n_values, 2);
    assert_int_equal(v->array_value->values[0]->value_case, XB_ANY_STRING);
    assert_string_equal(v->array_value->values[0]->string_value, "a");
    assert_int_equal(v->array_value->values[1]->value_case, XB_ANY_INT);
    assert_int_equal(v->array_value->values[1]->int_value, -5);
    v = attr(s->attributes, s->n_attributes, "user");
    assert_int_equal(v->value_case, XB_ANY_KVLIST);
    assert_int_equal(v->kvlist_value->n_values, 2);
    assert_string_equal(v->kvlist_value->values[0]->key, "id");
    assert_string_equal(v->kvlist_value->values[0]->value->string_value, "u1");
    assert_string_equal(v->kvlist_value->values[1]->key, "premium");
    assert_true(v->kvlist_value->values[1]->value->bool_value);
    v = attr(s->attributes, s->n_attributes, "empty");
    assert_int_equal(v->value_case, XB_ANY_NONE);

    assert_int_equal(s->n_events, 1);
    assert_true(s->events[0]->time_unix_nano == UINT64_C(1700000000500000000));
    assert_string_equal(s->events[0]->name, "exception");
    assert_int_equal(s->events[0]->n_attributes, 2);
    assert_int_equal(s->events[0]->dropped_attributes_count, 3);
    v = attr(s->events[0]->attributes, 2, "exception.type");
    assert_string_equal(v->string_value, "java.lang.IllegalStateException");

    assert_int_equal(s->n_links, 1);
    assert_bin(s->links[0]->trace_id, link_trace, 16);
    assert_bin(s->links[0]->span_id, link_span, 8);
    assert_string_equal(s->links[0]->trace_state, "x=1");
    assert_int_equal(s->links[0]->n_attributes, 1);
    assert_int_equal(s->links[0]->dropped_attributes_count, 5);
    assert_int_equal(s->links[0]->flags, 1);

    assert_non_null(s->status);
    assert_string_equal(s->status->message, "cart empty");
    assert_int_equal(s->status->code, XB_STATUS_ERROR);

    s = ss->spans[1];
    assert_bin(s->trace_id, trace_id, 16);
    assert_bin(s->parent_span_id, span_id, 8);
    assert_int_equal(s->kind, XB_KIND_CLIENT);
    assert_string_equal(s->trace_state, "");
    assert_int_equal(s->flags, 0);
    assert_int_equal(s->n_events, 0);
    assert_null(s->events);
    assert_int_equal(s->status->code, XB_STATUS_OK);
    assert_string_equal(s->status->message, "");

    rs = req->resource_spans[1];
    assert_string_equal(rs->schema_url, "");
    s = rs->scope_spans[0]->spans[0];
    assert_bin(s->trace_id, link_trace, 16);
    assert_bin(s->span_id, link_span, 8);
    assert_int_equal(s->parent_span_id.len, 0);
    assert_int_equal(s->kind, XB_KIND_CONSUMER);
    assert_null(s->status);
    assert_string_equal(rs->scope_spans[0]->scope->version, "");
}

static void test_hex_ids_any_case(void **state)
{
    static const uint8_t want[8] = {0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89};
    xb_pb_span *s;

    s = span0(decode_ok(*state, wrap_span("{\"spanId\":\"ABCDEF0123456789\","
                                          "\"parentSpanId\":\"abcdef0123456789\","
                                          "\"traceId\":\"AbCdEf0123456789abcdef0123456789\"}")));
    assert_bin(s->span_id, want, 8);
    assert_bin(s->parent_span_id, want, 8);
    assert_int_equal(s->trace_id.len, 16);
    assert_memory_equal(s->trace_id.data, want, 8);
    assert_memory_equal(s->trace_id.data + 8, want, 8);
}

static void test_hex_ids_empty_is_absent(void **state)
{
    xb_pb_span *s = span0(decode_ok(*state, wrap_span("{\"traceId\":\"\",\"spanId\":\"\","
                                                      "\"parentSpanId\":\"\"}")));
    assert_int_equal(s->trace_id.len, 0);
    assert_null(s->trace_id.data);
    assert_int_equal(s->span_id.len, 0);
    assert_int_equal(s->parent_span_id.len, 0);
}

static void test_hex_ids_length_not_checked(void **state)
{
    /* Wrong-size ids are the translator's business (per-span partial success). */
    xb_pb_span *s = span0(decode_ok(*state, wrap_span("{\"traceId\":\"abcd\",\"spanId\":\"00\"}")));
    assert_int_equal(s->trace_id.len, 2);
    assert_int_equal(s->span_id.len, 1);
}

static void test_timestamps_exact_strings_and_numbers(void **state)
{
    xb_pb_span *s;

    /* 1700000000123456789 > 2^53: a double would round it. */
    s = span0(decode_ok(*state, wrap_span("{\"startTimeUnixNano\":1700000000123456789,"
                                          "\"endTimeUnixNano\":\"1700000000123456791\"}")));
    assert_true(s->start_time_unix_nano == UINT64_C(1700000000123456789));
    assert_true(s->end_time_unix_nano == UINT64_C(1700000000123456791));

    /* fixed64 above INT64_MAX only fits as a string. */
    s = span0(decode_ok(*state, wrap_span("{\"startTimeUnixNano\":\"18446744073709551615\","
                                          "\"endTimeUnixNano\":9223372036854775807}")));
    assert_true(s->start_time_unix_nano == UINT64_MAX);
    assert_true(s->end_time_unix_nano == (uint64_t)INT64_MAX);

    s = span0(decode_ok(*state, wrap_span("{\"events\":[{\"timeUnixNano\":\"0\"},"
                                          "{\"timeUnixNano\":1700000000000000001}]}")));
    assert_int_equal(s->n_events, 2);
    assert_true(s->events[0]->time_unix_nano == 0);
    assert_true(s->events[1]->time_unix_nano == UINT64_C(1700000000000000001));
}

static void test_int_value_forms(void **state)
{
    xb_pb_any *v;

    v = value0(decode_ok(*state, wrap_value("{\"intValue\":\"9007199254740993\"}")));
    assert_int_equal(v->value_case, XB_ANY_INT);
    assert_true(v->int_value == INT64_C(9007199254740993));
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":9007199254740993}")));
    assert_true(v->int_value == INT64_C(9007199254740993));
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":-42}")));
    assert_true(v->int_value == -42);
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":\"-9223372036854775808\"}")));
    assert_true(v->int_value == INT64_MIN);
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":\"9223372036854775807\"}")));
    assert_true(v->int_value == INT64_MAX);
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":-9223372036854775808}")));
    assert_true(v->int_value == INT64_MIN);
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":\"-0\"}")));
    assert_true(v->int_value == 0);
    v = value0(decode_ok(*state, wrap_value("{\"intValue\":12.0}")));
    assert_true(v->int_value == 12);
}

static void test_double_value_forms(void **state)
{
    xb_pb_any *v;

    v = value0(decode_ok(*state, wrap_value("{\"doubleValue\":\"NaN\"}")));
    assert_int_equal(v->value_case, XB_ANY_DOUBLE);
    assert_true(isnan(v->double_value));
    v = value0(decode_ok(*state, wrap_value("{\"doubleValue\":\"Infinity\"}")));
    assert_true(isinf(v->double_value) && v->double_value > 0);
    v = value0(decode_ok(*state, wrap_value("{\"doubleValue\":\"-Infinity\"}")));
    assert_true(isinf(v->double_value) && v->double_value < 0);
    v = value0(decode_ok(*state, wrap_value("{\"doubleValue\":3}")));
    assert_true(v->double_value == 3.0);
    v = value0(decode_ok(*state, wrap_value("{\"doubleValue\":-1.5e3}")));
    assert_true(v->double_value == -1500.0);
    v = value0(decode_ok(*state, wrap_value("{\"doubleValue\":\"2.5\"}")));
    assert_true(v->double_value == 2.5);
}

static void test_bytes_value_base64(void **state)
{
    static const uint8_t bin[] = {0xfb, 0xff, 0xbf};
    xb_pb_any *v;

    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"aGVsbG8=\"}")));
    assert_int_equal(v->value_case, XB_ANY_BYTES);
    assert_bin(v->bytes_value, "hello", 5);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"aGVsbG8\"}")));
    assert_bin(v->bytes_value, "hello", 5);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"aGk=\"}")));
    assert_bin(v->bytes_value, "hi", 2);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"aA==\"}")));
    assert_bin(v->bytes_value, "h", 1);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"aGVsbG8h\"}")));
    assert_bin(v->bytes_value, "hello!", 6);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"+/+/\"}")));
    assert_bin(v->bytes_value, bin, 3);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"-_-_\"}")));
    assert_bin(v->bytes_value, bin, 3);
    v = value0(decode_ok(*state, wrap_value("{\"bytesValue\":\"\"}")));
    assert_int_equal(v->value_case, XB_ANY_BYTES);
    assert_int_equal(v->bytes_value.len, 0);
}

static void test_nested_arrays_and_kvlists(void **state)
{
    xb_pb_any *v, *inner;

    v = value0(decode_ok(
        *state,
        wrap_value("{\"arrayValue\":{\"values\":[{\"arrayValue\":{\"values\":[{\"intValue\":1},"
                   "{\"kvlistValue\":{\"values\":[{\"key\":\"deep\",\"value\":{\"arrayValue\":"
                   "{\"values\":[{\"boolValue\":true}]}}}]}}]}},{\"kvlistValue\":{}},"
                   "{\"arrayValue\":{}},{}]}}")));
    assert_int_equal(v->value_case, XB_ANY_ARRAY);
    assert_int_equal(v->array_value->n_values, 4);
    inner = v->array_value->values[0];
    assert_int_equal(inner->value_case, XB_ANY_ARRAY);
    assert_int_equal(inner->array_value->n_values, 2);
    assert_int_equal(inner->array_value->values[0]->int_value, 1);
    inner = inner->array_value->values[1];
    assert_int_equal(inner->value_case, XB_ANY_KVLIST);
    assert_string_equal(inner->kvlist_value->values[0]->key, "deep");
    inner = inner->kvlist_value->values[0]->value;
    assert_int_equal(inner->value_case, XB_ANY_ARRAY);
    assert_true(inner->array_value->values[0]->bool_value);
    assert_int_equal(v->array_value->values[1]->value_case, XB_ANY_KVLIST);
    assert_int_equal(v->array_value->values[1]->kvlist_value->n_values, 0);
    assert_int_equal(v->array_value->values[2]->value_case, XB_ANY_ARRAY);
    assert_int_equal(v->array_value->values[2]->array_value->n_values, 0);
    assert_int_equal(v->array_value->values[3]->value_case, XB_ANY_NONE);
}

static void test_unknown_fields_ignored_everywhere(void **state)
{
    const char *json =
        "{\"x\":1,\"resourceSpans\":[{\"u\":[1,2],\"resource\":{\"u\":{\"a\":1},"
        "\"attributes\":[{\"key\":\"a\",\"u\":\"x\",\"value\":{\"u\":1,\"stringValue\":\"b\"}}]},"
        "\"instrumentationLibrarySpans\":[{\"spans\":[{}]}],"
        "\"scopeSpans\":[{\"u\":true,\"scope\":{\"name\":\"s\",\"u\":null},\"spans\":[{"
        "\"spanId\":\"0102030405060708\",\"future\":{\"nested\":[1,{\"a\":\"b\"}]},"
        "\"events\":[{\"u\":1,\"name\":\"e\"}],\"links\":[{\"u\":1,\"spanId\":\"01\"}],"
        "\"status\":{\"u\":\"x\",\"code\":2},"
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"arrayValue\":{\"u\":1,\"values\":[]},"
        "\"u\":2}}]}]}]}],\"trailer\":\"ignored\"}";
    xb_pb_export_req *req = decode_ok(*state, json);
    xb_pb_span *s = span0(req);

    assert_string_equal(req->resource_spans[0]->resource->attributes[0]->value->string_value, "b");
    assert_string_equal(req->resource_spans[0]->scope_spans[0]->scope->name, "s");
    assert_int_equal(s->span_id.len, 8);
    assert_string_equal(s->events[0]->name, "e");
    assert_int_equal(s->links[0]->span_id.len, 1);
    assert_int_equal(s->status->code, XB_STATUS_ERROR);
    assert_int_equal(s->attributes[0]->value->value_case, XB_ANY_ARRAY);
}

static void test_null_fields_are_absent(void **state)
{
    const char *json =
        "{\"resourceSpans\":[{\"resource\":null,\"schemaUrl\":null,\"scopeSpans\":[{\"scope\":"
        "null,\"spans\":[{\"traceId\":null,\"name\":null,\"kind\":null,\"startTimeUnixNano\":null,"
        "\"attributes\":null,\"events\":null,\"links\":null,\"status\":null,\"flags\":null,"
        "\"droppedAttributesCount\":null}]}]}]}";
    xb_pb_export_req *req = decode_ok(*state, json);
    xb_pb_span *s = span0(req);

    assert_null(req->resource_spans[0]->resource);
    assert_null(req->resource_spans[0]->scope_spans[0]->scope);
    assert_string_equal(req->resource_spans[0]->schema_url, "");
    assert_int_equal(s->trace_id.len, 0);
    assert_string_equal(s->name, "");
    assert_int_equal(s->kind, XB_KIND_UNSPECIFIED);
    assert_int_equal(s->n_attributes, 0);
    assert_null(s->status);

    /* A null KeyValue.value leaves the value unset; a null AnyValue member is skipped. */
    s = span0(decode_ok(*state, wrap_span("{\"attributes\":[{\"key\":\"a\",\"value\":null},"
                                          "{\"key\":\"b\",\"value\":{\"stringValue\":null}}]}")));
    assert_null(s->attributes[0]->value);
    assert_int_equal(s->attributes[1]->value->value_case, XB_ANY_NONE);

    req = decode_ok(*state, "{\"resourceSpans\":null}");
    assert_int_equal(req->n_resource_spans, 0);
}

static void test_snake_case_accepted(void **state)
{
    const char *json =
        "{\"resource_spans\":[{\"schema_url\":\"su\",\"resource\":{\"dropped_attributes_count\":3,"
        "\"entity_refs\":[{\"schema_url\":\"e\",\"type\":\"k8s.pod\",\"id_keys\":[\"k8s.pod.uid\"],"
        "\"description_keys\":[\"k8s.pod.name\",\"x\"]}]},"
        "\"scope_spans\":[{\"spans\":[{\"trace_id\":\"0102\",\"span_id\":\"0a\","
        "\"parent_span_id\":\"0b\",\"trace_state\":\"ts\",\"start_time_unix_nano\":\"5\","
        "\"end_time_unix_nano\":6,\"dropped_attributes_count\":1,\"dropped_events_count\":2,"
        "\"dropped_links_count\":3,\"events\":[{\"time_unix_nano\":\"7\"}],"
        "\"attributes\":[{\"key\":\"a\",\"value\":{\"string_value\":\"s\"}},"
        "{\"key\":\"b\",\"value\":{\"int_value\":\"-1\"}},{\"key\":\"c\",\"value\":{\"double_"
        "value\":1}},"
        "{\"key\":\"d\",\"value\":{\"bool_value\":true}},{\"key\":\"e\",\"value\":{\"bytes_value\":"
        "\"AQ==\"}},"
        "{\"key\":\"f\",\"value\":{\"array_value\":{\"values\":[{}]}}},"
        "{\"key\":\"g\",\"value\":{\"kvlist_value\":{\"values\":[{\"key\":\"x\"}]}}}]}]}]}]}";
    xb_pb_export_req *req = decode_ok(*state, json);
    xb_pb_resource *r = req->resource_spans[0]->resource;
    xb_pb_span *s = span0(req);

    assert_string_equal(req->resource_spans[0]->schema_url, "su");
    assert_int_equal(r->dropped_attributes_count, 3);
    assert_int_equal(r->n_entity_refs, 1);
    assert_string_equal(r->entity_refs[0]->schema_url, "e");
    assert_string_equal(r->entity_refs[0]->type, "k8s.pod");
    assert_int_equal(r->entity_refs[0]->n_id_keys, 1);
    assert_string_equal(r->entity_refs[0]->id_keys[0], "k8s.pod.uid");
    assert_int_equal(r->entity_refs[0]->n_description_keys, 2);
    assert_string_equal(r->entity_refs[0]->description_keys[1], "x");
    assert_int_equal(s->trace_id.len, 2);
    assert_int_equal(s->span_id.len, 1);
    assert_int_equal(s->parent_span_id.len, 1);
    assert_string_equal(s->trace_state, "ts");
    assert_true(s->start_time_unix_nano == 5 && s->end_time_unix_nano == 6);
    assert_int_equal(s->dropped_attributes_count, 1);
    assert_int_equal(s->dropped_events_count, 2);
    assert_int_equal(s->dropped_links_count, 3);
    assert_true(s->events[0]->time_unix_nano == 7);
    assert_int_equal(s->n_attributes, 7);
    assert_int_equal(s->attributes[0]->value->value_case, XB_ANY_STRING);
    assert_true(s->attributes[1]->value->int_value == -1);
    assert_int_equal(s->attributes[2]->value->value_case, XB_ANY_DOUBLE);
    assert_int_equal(s->attributes[3]->value->value_case, XB_ANY_BOOL);
    assert_int_equal(s->attributes[4]->value->bytes_value.len, 1);
    assert_int_equal(s->attributes[5]->value->array_value->n_values, 1);
    assert_int_equal(s->attributes[6]->value->kvlist_value->n_values, 1);
}

static void test_camel_case_entity_refs(void **state)
{
    xb_pb_export_req *req = decode_ok(
        *state, "{\"resourceSpans\":[{\"resource\":{\"entityRefs\":[{\"type\":\"service\","
                "\"idKeys\":[\"service.name\",\"service.namespace\"],\"descriptionKeys\":[]}]}}]}");
    xb_pb_resource *r = req->resource_spans[0]->resource;

    assert_int_equal(r->n_entity_refs, 1);
    assert_string_equal(r->entity_refs[0]->type, "service");
    assert_int_equal(r->entity_refs[0]->n_id_keys, 2);
    assert_string_equal(r->entity_refs[0]->id_keys[1], "service.namespace");
    assert_int_equal(r->entity_refs[0]->n_description_keys, 0);
    assert_string_equal(r->entity_refs[0]->schema_url, "");
}

static void test_empty_object_is_empty_request(void **state)
{
    xb_pb_export_req *req = decode_ok(*state, "{}");

    assert_int_equal(req->n_resource_spans, 0);
    assert_null(req->resource_spans);
    assert_int_equal(xb_otlp_count_spans(req), 0);
    req = decode_ok(*state, " {\"resourceSpans\":[]} \n");
    assert_int_equal(req->n_resource_spans, 0);
    req = decode_ok(*state, "{\"resourceSpans\":[{}]}");
    assert_int_equal(req->n_resource_spans, 1);
    assert_null(req->resource_spans[0]->resource);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 0);
}

static void test_integral_reals_for_counts(void **state)
{
    xb_pb_span *s = span0(decode_ok(*state, wrap_span("{\"droppedAttributesCount\":1.0,"
                                                      "\"droppedEventsCount\":\"12\","
                                                      "\"flags\":4294967295,"
                                                      "\"startTimeUnixNano\":1e3}")));
    assert_int_equal(s->dropped_attributes_count, 1);
    assert_int_equal(s->dropped_events_count, 12);
    assert_true(s->flags == UINT32_MAX);
    assert_true(s->start_time_unix_nano == 1000);

    expect_invalid(*state, wrap_span("{\"droppedAttributesCount\":1.5}"),
                   "droppedAttributesCount: invalid integer");
}

static void test_enum_values_any_int32(void **state)
{
    xb_pb_span *s = span0(decode_ok(*state, wrap_span("{\"kind\":0,\"status\":{\"code\":0}}")));
    assert_int_equal(s->kind, XB_KIND_UNSPECIFIED);
    assert_int_equal(s->status->code, XB_STATUS_UNSET);
    /* proto3 enums are open: an unknown number is kept, as protobuf-c unpack keeps it. */
    s = span0(decode_ok(*state, wrap_span("{\"kind\":9}")));
    assert_int_equal((int)s->kind, 9);
    expect_invalid(*state, wrap_span("{\"kind\":4294967296}"), "kind: enum out of range");
}

static void test_oneof_last_member_wins(void **state)
{
    xb_pb_any *v = value0(decode_ok(*state, wrap_value("{\"stringValue\":\"a\",\"intValue\":5}")));
    assert_int_equal(v->value_case, XB_ANY_INT);
    assert_int_equal(v->int_value, 5);
}

static void test_nul_inside_string_value(void **state)
{
    xb_pb_any *v = value0(decode_ok(*state, wrap_value("{\"stringValue\":\"ab\\u0000cd\"}")));
    assert_int_equal(v->value_case, XB_ANY_STRING);
    assert_string_equal(v->string_value, "ab");
    expect_invalid(*state, "{\"a\\u0000b\":1}", "invalid JSON");
}

static void test_unicode_strings(void **state)
{
    xb_pb_span *s = span0(
        decode_ok(*state, wrap_span("{\"name\":\"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00\"}")));
    assert_string_equal(s->name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* ---- rejected input --------------------------------------------------------------- */

static void test_rejects_invalid_json(void **state)
{
    xb_pb_export_req *req = NULL;
    const char *err = NULL;

    expect_invalid(*state, "", "invalid JSON");
    expect_invalid(*state, "{", "invalid JSON");
    expect_invalid(*state, "{\"resourceSpans\":[}", "invalid JSON");
    expect_invalid(*state, "{} {}", "invalid JSON");
    expect_invalid(*state, "{'a':1}", "invalid JSON");
    /* A JSON number jansson cannot hold exactly is refused, not rounded. */
    expect_invalid(*state, wrap_span("{\"startTimeUnixNano\":18446744073709551615}"),
                   "number out of range");
    assert_int_equal(xb_otlp_decode_json(NULL, 0, *state, &req, &err), XB_ERR_INVALID);
    assert_non_null(err);
    assert_null(req);
}

static void test_rejects_non_object_top_level(void **state)
{
    expect_invalid(*state, "[]", "top level must be a JSON object");
    expect_invalid(*state, "[{\"resourceSpans\":[]}]", "top level must be a JSON object");
    expect_invalid(*state, "42", "top level must be a JSON object");
    expect_invalid(*state, "\"x\"", "top level must be a JSON object");
    expect_invalid(*state, "null", "top level must be a JSON object");
}

static void test_rejects_invalid_utf8(void **state)
{
    expect_invalid(*state, wrap_span("{\"name\":\"\xff\xfe\"}"), "invalid UTF-8");
    expect_invalid(*state, wrap_span("{\"name\":\"\xc3\"}"), "invalid");
    /* Lone surrogate escape. */
    expect_invalid(*state, wrap_span("{\"name\":\"\\ud800\"}"), "invalid JSON");
}

static void test_rejects_bad_hex(void **state)
{
    expect_invalid(*state, wrap_span("{\"spanId\":\"zz11223344556677\"}"), "spanId: invalid hex");
    expect_invalid(*state, wrap_span("{\"spanId\":\"0011223344556\"}"), "spanId: invalid hex");
    expect_invalid(*state, wrap_span("{\"traceId\":\"0x11223344556677\"}"), "traceId: invalid hex");
    expect_invalid(*state, wrap_span("{\"parentSpanId\":\"00112233 4455667\"}"),
                   "parentSpanId: invalid hex");
    expect_invalid(*state, wrap_span("{\"links\":[{\"traceId\":\"g0\"}]}"), "traceId: invalid hex");
    expect_invalid(*state, wrap_span("{\"links\":[{\"spanId\":\"abc\"}]}"), "spanId: invalid hex");
    /* Base64 (the generic proto3 mapping for bytes) is not what OTLP ids use. */
    expect_invalid(*state, wrap_span("{\"spanId\":\"AAECAwQFBgc=\"}"), "spanId: invalid hex");
    expect_invalid(*state, wrap_span("{\"spanId\":1234}"), "spanId: must be a hex string");
}

static void test_rejects_string_enums(void **state)
{
    expect_invalid(*state, wrap_span("{\"kind\":\"SPAN_KIND_SERVER\"}"),
                   "kind: enum must be an integer");
    expect_invalid(*state, wrap_span("{\"kind\":\"2\"}"), "kind: enum must be an integer");
    expect_invalid(*state, wrap_span("{\"kind\":2.0}"), "kind: enum must be an integer");
    expect_invalid(*state, wrap_span("{\"status\":{\"code\":\"STATUS_CODE_ERROR\"}}"),
                   "code: enum must be an integer");
}

static void test_rejects_bad_64bit_integers(void **state)
{
    expect_invalid(*state, wrap_span("{\"startTimeUnixNano\":-1}"), "startTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"startTimeUnixNano\":\"-1\"}"),
                   "startTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":\"12a\"}"), "endTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":\"\"}"), "endTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":\" 12\"}"), "endTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":\"+12\"}"), "endTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":\"18446744073709551616\"}"),
                   "endTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":1.5}"), "endTimeUnixNano: invalid");
    expect_invalid(*state, wrap_span("{\"endTimeUnixNano\":true}"),
                   "endTimeUnixNano: must be an integer");
    expect_invalid(*state, wrap_span("{\"events\":[{\"timeUnixNano\":\"soon\"}]}"),
                   "timeUnixNano: invalid");
    expect_invalid(*state, wrap_value("{\"intValue\":\"9223372036854775808\"}"),
                   "intValue: invalid");
    expect_invalid(*state, wrap_value("{\"intValue\":\"-9223372036854775809\"}"),
                   "intValue: invalid");
    expect_invalid(*state, wrap_value("{\"intValue\":\"1e3\"}"), "intValue: invalid");
    expect_invalid(*state, wrap_value("{\"intValue\":\"-\"}"), "intValue: invalid");
    expect_invalid(*state, wrap_value("{\"intValue\":1e300}"), "intValue: invalid");
    expect_invalid(*state, wrap_value("{\"intValue\":[1]}"), "intValue: must be an integer");
}

static void test_rejects_bad_32bit_integers(void **state)
{
    expect_invalid(*state, wrap_span("{\"droppedAttributesCount\":4294967296}"),
                   "droppedAttributesCount: invalid");
    expect_invalid(*state, wrap_span("{\"droppedEventsCount\":-1}"), "droppedEventsCount: invalid");
    expect_invalid(*state, wrap_span("{\"droppedLinksCount\":\"x\"}"),
                   "droppedLinksCount: invalid");
    expect_invalid(*state, wrap_span("{\"flags\":-1}"), "flags: invalid");
    expect_invalid(*state, wrap_span("{\"links\":[{\"flags\":\"4294967296\"}]}"), "flags: invalid");
    expect_invalid(*state, "{\"resourceSpans\":[{\"resource\":{\"droppedAttributesCount\":{}}}]}",
                   "droppedAttributesCount: must be an integer");
}

static void test_rejects_wrong_json_types(void **state)
{
    expect_invalid(*state, "{\"resourceSpans\":{}}", "resourceSpans: must be an array");
    expect_invalid(*state, "{\"resourceSpans\":[1]}",
                   "resourceSpans: array elements must be objects");
    expect_invalid(*state, "{\"resourceSpans\":[null]}", "resourceSpans: array elements");
    expect_invalid(*state, "{\"resourceSpans\":[{\"resource\":[]}]}",
                   "resource: must be an object");
    expect_invalid(*state, "{\"resourceSpans\":[{\"scopeSpans\":\"x\"}]}",
                   "scopeSpans: must be an array");
    expect_invalid(*state, "{\"resourceSpans\":[{\"schemaUrl\":5}]}",
                   "schemaUrl: must be a string");
    expect_invalid(*state, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":{}}]}]}",
                   "spans: must be an array");
    expect_invalid(*state, "{\"resourceSpans\":[{\"scopeSpans\":[{\"scope\":\"s\"}]}]}",
                   "scope: must be an object");
    expect_invalid(*state, "{\"resourceSpans\":[{\"scopeSpans\":[{\"scope\":{\"version\":1}}]}]}",
                   "version: must be a string");
    expect_invalid(*state, wrap_span("{\"attributes\":\"x\"}"), "attributes: must be an array");
    expect_invalid(*state, wrap_span("{\"attributes\":[\"k=v\"]}"),
                   "attributes: array elements must be objects");
    expect_invalid(*state, wrap_span("{\"name\":[]}"), "name: must be a string");
    expect_invalid(*state, wrap_span("{\"traceState\":1}"), "traceState: must be a string");
    expect_invalid(*state, wrap_span("{\"events\":{}}"), "events: must be an array");
    expect_invalid(*state, wrap_span("{\"events\":[[]]}"),
                   "events: array elements must be objects");
    expect_invalid(*state, wrap_span("{\"links\":\"l\"}"), "links: must be an array");
    expect_invalid(*state, wrap_span("{\"status\":\"ok\"}"), "status: must be an object");
    expect_invalid(*state, wrap_span("{\"status\":{\"message\":false}}"),
                   "message: must be a string");
    expect_invalid(*state, wrap_span("{\"attributes\":[{\"key\":1}]}"), "key: must be a string");
    expect_invalid(*state, wrap_value("\"v\""), "value: must be an object");
    expect_invalid(*state, wrap_value("{\"stringValue\":1}"), "stringValue: must be a string");
    expect_invalid(*state, wrap_value("{\"boolValue\":\"true\"}"),
                   "boolValue: must be true or false");
    expect_invalid(*state, wrap_value("{\"arrayValue\":[]}"), "arrayValue: must be an object");
    expect_invalid(*state, wrap_value("{\"arrayValue\":{\"values\":{}}}"),
                   "arrayValue.values: must be an array");
    expect_invalid(*state, wrap_value("{\"arrayValue\":{\"values\":[1]}}"),
                   "arrayValue.values: array elements must be objects");
    expect_invalid(*state, wrap_value("{\"kvlistValue\":\"x\"}"), "kvlistValue: must be an object");
    expect_invalid(*state, wrap_value("{\"kvlistValue\":{\"values\":[\"x\"]}}"),
                   "kvlistValue.values: array elements must be objects");
    expect_invalid(*state,
                   "{\"resourceSpans\":[{\"resource\":{\"entityRefs\":[{\"idKeys\":[1]}]}}]}",
                   "idKeys: array elements must be strings");
    expect_invalid(*state, "{\"resourceSpans\":[{\"resource\":{\"entityRefs\":{}}}]}",
                   "entityRefs: must be an array");
}

static void test_rejects_bad_base64(void **state)
{
    expect_invalid(*state, wrap_value("{\"bytesValue\":\"a\"}"), "bytesValue: invalid base64");
    expect_invalid(*state, wrap_value("{\"bytesValue\":\"aGVsbG8*\"}"),
                   "bytesValue: invalid base64");
    expect_invalid(*state, wrap_value("{\"bytesValue\":\"aGk=aGk=\"}"),
                   "bytesValue: invalid base64");
    expect_invalid(*state, wrap_value("{\"bytesValue\":\"aG=\"}"), "bytesValue: invalid base64");
    expect_invalid(*state, wrap_value("{\"bytesValue\":\"aGVsbG8===\"}"),
                   "bytesValue: invalid base64");
    expect_invalid(*state, wrap_value("{\"bytesValue\":\"aGVs bG8=\"}"),
                   "bytesValue: invalid base64");
    expect_invalid(*state, wrap_value("{\"bytesValue\":[1,2]}"),
                   "bytesValue: must be a base64 string");
}

static void test_rejects_bad_doubles(void **state)
{
    expect_invalid(*state, wrap_value("{\"doubleValue\":\"abc\"}"), "doubleValue: invalid number");
    expect_invalid(*state, wrap_value("{\"doubleValue\":\"inf\"}"), "doubleValue: invalid number");
    expect_invalid(*state, wrap_value("{\"doubleValue\":\"nan\"}"), "doubleValue: invalid number");
    expect_invalid(*state, wrap_value("{\"doubleValue\":\"0x10\"}"), "doubleValue: invalid number");
    expect_invalid(*state, wrap_value("{\"doubleValue\":\"1e999\"}"),
                   "doubleValue: invalid number");
    expect_invalid(*state, wrap_value("{\"doubleValue\":\"\"}"), "doubleValue: invalid number");
    expect_invalid(*state, wrap_value("{\"doubleValue\":true}"), "doubleValue: must be a number");
}

/* Builds an attribute value nested |levels| arrayValues (or kvlistValues) deep. */
static char *nested_value(int levels, int kvlist)
{
    const char *open = kvlist ? "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
                              : "{\"arrayValue\":{\"values\":[";
    const char *close = kvlist ? "}]}}" : "]}}";
    const char *leaf = "{\"stringValue\":\"leaf\"}";
    size_t cap = (size_t)levels * (strlen(open) + strlen(close)) + strlen(leaf) + 1;
    char *buf = malloc(cap), *p = buf;

    assert_non_null(buf);
    for (int i = 0; i < levels; i++)
        p = stpcpy(p, open);
    p = stpcpy(p, leaf);
    for (int i = 0; i < levels; i++)
        p = stpcpy(p, close);
    return buf;
}

static void test_nesting_depth_bounded(void **state)
{
    char *v;
    xb_pb_any *a;
    int depth = 0;

    /* 63 containers + the leaf = 64 AnyValue levels: accepted. */
    v = nested_value(63, 0);
    a = value0(decode_ok(*state, wrap_value(v)));
    free(v);
    while (a->value_case == XB_ANY_ARRAY) {
        a = a->array_value->values[0];
        depth++;
    }
    assert_int_equal(depth, 63);
    assert_string_equal(a->string_value, "leaf");

    v = nested_value(64, 0);
    expect_invalid(*state, wrap_value(v), XB_OTLP_DEPTH_ERROR);
    free(v);
    v = nested_value(63, 1);
    value0(decode_ok(*state, wrap_value(v)));
    free(v);
    v = nested_value(64, 1);
    expect_invalid(*state, wrap_value(v), XB_OTLP_DEPTH_ERROR);
    free(v);
}

static void test_jansson_depth_limit_no_crash(void **state)
{
    /* Far deeper than jansson's parser limit (2048): must fail cleanly. */
    const int n = 100000;
    char *buf = malloc(2 * (size_t)n + 16);
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    int rc;

    assert_non_null(buf);
    strcpy(buf, "{\"x\":");
    memset(buf + 5, '[', (size_t)n);
    memset(buf + 5 + n, ']', (size_t)n);
    strcpy(buf + 5 + 2 * n, "}");
    rc = xb_otlp_decode_json(buf, strlen(buf), *state, &req, &err);
    free(buf);
    assert_int_equal(rc, XB_ERR_INVALID);
    assert_non_null(strstr(err, "invalid JSON"));
}

/* ---- resource limits -------------------------------------------------------------- */

static void test_parse_tree_counts_against_arena_and_allocator_restored(void **state)
{
    /* 20,000 empty objects under an unknown key: a 60 KB body whose parse tree needs
     * megabytes. With a 1 MiB arena the parse stops at the cap (it used to build the
     * whole tree with malloc and succeed), and jansson's allocator is the caller's
     * again afterwards, on failure and on success. */
    const size_t n = 20000;
    char *buf = malloc(3 * n + 16), *p = buf;
    struct xb_arena *small = xb_arena_new(4096, 1u << 20);
    json_malloc_t m0, m1;
    json_free_t f0, f1;
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    json_t *probe;

    (void)state;
    assert_non_null(buf);
    assert_non_null(small);
    p = stpcpy(p, "{\"zz\":[");
    for (size_t i = 0; i < n; i++)
        p = stpcpy(p, i ? ",{}" : "{}");
    p = stpcpy(p, "]}");
    json_get_alloc_funcs(&m0, &f0);
    assert_int_equal(xb_otlp_decode_json(buf, (size_t)(p - buf), small, &req, &err), XB_ERR_NOMEM);
    assert_true(xb_arena_exhausted(small));
    assert_true(xb_arena_used(small) <= 1u << 20);
    assert_null(req);
    json_get_alloc_funcs(&m1, &f1);
    assert_ptr_equal(m0, m1);
    assert_ptr_equal(f0, f1);
    /* Other jansson users (receiver/status.c) still allocate from the heap. */
    probe = json_pack("{s:s}", "k", "v");
    assert_non_null(probe);
    json_decref(probe);

    xb_arena_reset(*state);
    assert_int_equal(xb_otlp_decode_json("{}", 2, *state, &req, &err), XB_OK);
    json_get_alloc_funcs(&m1, &f1);
    assert_ptr_equal(m0, m1);
    assert_ptr_equal(f0, f1);
    xb_arena_free(small);
    free(buf);
}

static void test_allocation_failure_loop(void **state)
{
    size_t len;
    char *json = read_file(FULL_JSON, &len);
    size_t n, failures = 0;
    int rc = XB_ERR_NOMEM;

    (void)state;
    for (n = 1; n < 100000 && rc != XB_OK; n++) {
        struct xb_arena *a = xb_arena_new(256, 0);
        xb_pb_export_req *req = NULL;
        const char *err = NULL;

        assert_non_null(a);
        xb_arena_fail_after(a, n);
        rc = xb_otlp_decode_json(json, len, a, &req, &err);
        if (rc == XB_ERR_NOMEM) {
            assert_non_null(err);
            assert_null(req);
            failures++;
        } else {
            assert_int_equal(rc, XB_OK);
            assert_int_equal(xb_otlp_count_spans(req), 3);
        }
        xb_arena_free(a);
    }
    free(json);
    assert_int_equal(rc, XB_OK);
    /* Every allocation before the successful run was a distinct failure point. */
    assert_true(failures > 50);
    assert_int_equal(failures, n - 2);
}

static void test_arena_cap_is_nomem(void **state)
{
    size_t len;
    char *json = read_file(FULL_JSON, &len);
    struct xb_arena *a = xb_arena_new(256, 1024);
    xb_pb_export_req *req = NULL;
    const char *err = NULL;

    (void)state;
    assert_non_null(a);
    assert_int_equal(xb_otlp_decode_json(json, len, a, &req, &err), XB_ERR_NOMEM);
    assert_non_null(strstr(err, "out of memory"));
    assert_null(req);
    xb_arena_free(a);
    free(json);
}

/* ---- protobuf equivalence and the protobuf decoder -------------------------------- */

static struct xb_arena *g_arena; /* arena the builders below allocate from */

static void *galloc(size_t n)
{
    void *p = xb_arena_calloc(g_arena, n);
    assert_non_null(p);
    return p;
}

static ProtobufCBinaryData hexbin(const char *hex)
{
    ProtobufCBinaryData b = {strlen(hex) / 2, NULL};
    b.data = galloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
        unsigned x;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
        b.data[i] = (uint8_t)x;
    }
    return b;
}

static xb_pb_any *any_new(void)
{
    xb_pb_any *a = galloc(sizeof(*a));
    opentelemetry__proto__common__v1__any_value__init(a);
    return a;
}

static xb_pb_any *any_str(const char *s)
{
    xb_pb_any *a = any_new();
    a->value_case = XB_ANY_STRING;
    a->string_value = (char *)s;
    return a;
}

static xb_pb_any *any_int(int64_t i)
{
    xb_pb_any *a = any_new();
    a->value_case = XB_ANY_INT;
    a->int_value = i;
    return a;
}

static xb_pb_any *any_bool(int b)
{
    xb_pb_any *a = any_new();
    a->value_case = XB_ANY_BOOL;
    a->bool_value = b;
    return a;
}

static xb_pb_kv *kv(const char *key, xb_pb_any *value)
{
    xb_pb_kv *k = galloc(sizeof(*k));
    opentelemetry__proto__common__v1__key_value__init(k);
    k->key = (char *)key;
    k->value = value;
    return k;
}

/* NULL-terminated list of KeyValue pointers -> arena array; returns the count. */
static size_t kvs(xb_pb_kv ***out, ...)
{
    va_list ap;
    size_t n = 0;
    xb_pb_kv *k;

    va_start(ap, out);
    while (va_arg(ap, xb_pb_kv *))
        n++;
    va_end(ap);
    *out = galloc(n * sizeof(**out));
    va_start(ap, out);
    for (size_t i = 0; (k = va_arg(ap, xb_pb_kv *)) != NULL; i++)
        (*out)[i] = k;
    va_end(ap);
    return n;
}

static xb_pb_span *span_new(void)
{
    xb_pb_span *s = galloc(sizeof(*s));
    opentelemetry__proto__trace__v1__span__init(s);
    return s;
}

static xb_pb_status *status_new(int code, const char *msg)
{
    xb_pb_status *st = galloc(sizeof(*st));
    opentelemetry__proto__trace__v1__status__init(st);
    st->code = code;
    st->message = (char *)msg;
    return st;
}

/* The request in tests/data/otlp_json/full.json, built by hand with protobuf-c. */
static xb_pb_export_req *build_full_request(void)
{
    xb_pb_export_req *req = galloc(sizeof(*req));
    xb_pb_resource_spans *rs0 = galloc(sizeof(*rs0)), *rs1 = galloc(sizeof(*rs1));
    xb_pb_scope_spans *ss0 = galloc(sizeof(*ss0)), *ss1 = galloc(sizeof(*ss1));
    xb_pb_resource *r0 = galloc(sizeof(*r0)), *r1 = galloc(sizeof(*r1));
    xb_pb_scope *sc0 = galloc(sizeof(*sc0)), *sc1 = galloc(sizeof(*sc1));
    xb_pb_span *a = span_new(), *b = span_new(), *c = span_new();
    xb_pb_event *ev = galloc(sizeof(*ev));
    xb_pb_link *ln = galloc(sizeof(*ln));
    xb_pb_any *ratio = any_new(), *payload = any_new(), *tags = any_new(), *user = any_new();
    xb_pb_array *tag_arr = galloc(sizeof(*tag_arr));
    xb_pb_kvlist *user_kv = galloc(sizeof(*user_kv));

    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    opentelemetry__proto__trace__v1__resource_spans__init(rs0);
    opentelemetry__proto__trace__v1__resource_spans__init(rs1);
    opentelemetry__proto__trace__v1__scope_spans__init(ss0);
    opentelemetry__proto__trace__v1__scope_spans__init(ss1);
    opentelemetry__proto__resource__v1__resource__init(r0);
    opentelemetry__proto__resource__v1__resource__init(r1);
    opentelemetry__proto__common__v1__instrumentation_scope__init(sc0);
    opentelemetry__proto__common__v1__instrumentation_scope__init(sc1);
    opentelemetry__proto__trace__v1__span__event__init(ev);
    opentelemetry__proto__trace__v1__span__link__init(ln);
    opentelemetry__proto__common__v1__array_value__init(tag_arr);
    opentelemetry__proto__common__v1__key_value_list__init(user_kv);

    req->n_resource_spans = 2;
    req->resource_spans = galloc(2 * sizeof(*req->resource_spans));
    req->resource_spans[0] = rs0;
    req->resource_spans[1] = rs1;

    r0->n_attributes =
        kvs(&r0->attributes, kv("service.name", any_str("checkout")), kv("host.cpus", any_int(8)),
            kv("cloud.provider", any_str("aws")), (xb_pb_kv *)NULL);
    r0->dropped_attributes_count = 1;
    rs0->resource = r0;
    rs0->schema_url = "https://opentelemetry.io/schemas/1.24.0";
    rs0->n_scope_spans = 1;
    rs0->scope_spans = galloc(sizeof(*rs0->scope_spans));
    rs0->scope_spans[0] = ss0;

    sc0->name = "io.opentelemetry.http";
    sc0->version = "1.2.3";
    sc0->n_attributes = kvs(&sc0->attributes, kv("scope.attr", any_bool(1)), (xb_pb_kv *)NULL);
    sc0->dropped_attributes_count = 7;
    ss0->scope = sc0;
    ss0->schema_url = "https://opentelemetry.io/schemas/1.21.0";
    ss0->n_spans = 2;
    ss0->spans = galloc(2 * sizeof(*ss0->spans));
    ss0->spans[0] = a;
    ss0->spans[1] = b;

    ratio->value_case = XB_ANY_DOUBLE;
    ratio->double_value = 0.25;
    payload->value_case = XB_ANY_BYTES;
    payload->bytes_value.len = 5;
    payload->bytes_value.data = (uint8_t *)"hello";
    tag_arr->n_values = 2;
    tag_arr->values = galloc(2 * sizeof(*tag_arr->values));
    tag_arr->values[0] = any_str("a");
    tag_arr->values[1] = any_int(-5);
    tags->value_case = XB_ANY_ARRAY;
    tags->array_value = tag_arr;
    user_kv->n_values = kvs(&user_kv->values, kv("id", any_str("u1")), kv("premium", any_bool(1)),
                            (xb_pb_kv *)NULL);
    user->value_case = XB_ANY_KVLIST;
    user->kvlist_value = user_kv;

    a->trace_id = hexbin("5b8efff798038103d269b633813fc60c");
    a->span_id = hexbin("eee19b7ec3c1b174");
    a->parent_span_id = hexbin("eee19b7ec3c1b173");
    a->trace_state = "vendor=abc";
    a->flags = 257;
    a->name = "GET /api/cart";
    a->kind = XB_KIND_SERVER;
    a->start_time_unix_nano = UINT64_C(1700000000123456789);
    a->end_time_unix_nano = UINT64_C(1700000000987654321);
    a->n_attributes = kvs(&a->attributes, kv("http.request.method", any_str("GET")),
                          kv("http.response.status_code", any_int(200)), kv("retry", any_bool(0)),
                          kv("ratio", ratio), kv("payload", payload), kv("tags", tags),
                          kv("user", user), kv("empty", any_new()), (xb_pb_kv *)NULL);
    a->dropped_attributes_count = 2;
    ev->time_unix_nano = UINT64_C(1700000000500000000);
    ev->name = "exception";
    ev->n_attributes =
        kvs(&ev->attributes, kv("exception.type", any_str("java.lang.IllegalStateException")),
            kv("exception.message", any_str("cart empty")), (xb_pb_kv *)NULL);
    ev->dropped_attributes_count = 3;
    a->n_events = 1;
    a->events = galloc(sizeof(*a->events));
    a->events[0] = ev;
    a->dropped_events_count = 4;
    ln->trace_id = hexbin("0af7651916cd43dd8448eb211c80319c");
    ln->span_id = hexbin("b7ad6b7169203331");
    ln->trace_state = "x=1";
    ln->n_attributes = kvs(&ln->attributes, kv("link.kind", any_str("follows")), (xb_pb_kv *)NULL);
    ln->dropped_attributes_count = 5;
    ln->flags = 1;
    a->n_links = 1;
    a->links = galloc(sizeof(*a->links));
    a->links[0] = ln;
    a->dropped_links_count = 6;
    a->status = status_new(XB_STATUS_ERROR, "cart empty");

    b->trace_id = hexbin("5b8efff798038103d269b633813fc60c");
    b->span_id = hexbin("1122334455667788");
    b->parent_span_id = hexbin("eee19b7ec3c1b174");
    b->name = "SELECT cart";
    b->kind = XB_KIND_CLIENT;
    b->start_time_unix_nano = UINT64_C(1700000000200000000);
    b->end_time_unix_nano = UINT64_C(1700000000300000000);
    b->n_attributes = kvs(&b->attributes, kv("db.system", any_str("postgresql")), (xb_pb_kv *)NULL);
    b->status = status_new(XB_STATUS_OK, "");

    r1->n_attributes =
        kvs(&r1->attributes, kv("service.name", any_str("worker")), (xb_pb_kv *)NULL);
    rs1->resource = r1;
    rs1->n_scope_spans = 1;
    rs1->scope_spans = galloc(sizeof(*rs1->scope_spans));
    rs1->scope_spans[0] = ss1;
    sc1->name = "worker.lib";
    ss1->scope = sc1;
    ss1->n_spans = 1;
    ss1->spans = galloc(sizeof(*ss1->spans));
    ss1->spans[0] = c;
    c->trace_id = hexbin("0af7651916cd43dd8448eb211c80319c");
    c->span_id = hexbin("b7ad6b7169203331");
    c->name = "consume";
    c->kind = XB_KIND_CONSUMER;
    c->start_time_unix_nano = UINT64_C(1700000001000000000);
    c->end_time_unix_nano = UINT64_C(1700000002000000000);
    return req;
}

static void test_json_and_protobuf_decode_equal(void **state)
{
    size_t jlen, plen, alen, blen;
    char *json = read_file(FULL_JSON, &jlen);
    uint8_t *pb, *from_pb, *from_json;
    xb_pb_export_req *a = NULL, *b = NULL;
    const char *err = NULL;

    g_arena = *state;
    pb = pack_req(build_full_request(), &plen);
    assert_true(plen > 500);
    assert_int_equal(xb_otlp_decode_protobuf(pb, plen, *state, &a, &err), XB_OK);
    assert_int_equal(xb_otlp_decode_json(json, jlen, *state, &b, &err), XB_OK);
    from_pb = pack_req(a, &alen);
    from_json = pack_req(b, &blen);
    assert_int_equal(alen, plen);
    assert_memory_equal(from_pb, pb, plen);
    assert_int_equal(blen, plen);
    assert_memory_equal(from_json, pb, plen);
    free(pb);
    free(from_pb);
    free(from_json);
    free(json);
}

static void test_protobuf_round_trip(void **state)
{
    size_t plen;
    uint8_t *pb;
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    xb_pb_span *s;

    g_arena = *state;
    pb = pack_req(build_full_request(), &plen);
    assert_int_equal(xb_otlp_decode_protobuf(pb, plen, *state, &req, &err), XB_OK);
    free(pb);
    assert_int_equal(xb_otlp_count_spans(req), 3);
    s = req->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(s->name, "GET /api/cart");
    assert_true(s->start_time_unix_nano == UINT64_C(1700000000123456789));
    assert_int_equal(s->span_id.len, 8);
    assert_int_equal(s->n_links, 1);
    assert_string_equal(s->status->message, "cart empty");
    assert_string_equal(req->resource_spans[1]->scope_spans[0]->scope->name, "worker.lib");

    /* Zero bytes is a valid, empty request. */
    assert_int_equal(xb_otlp_decode_protobuf("", 0, *state, &req, &err), XB_OK);
    assert_int_equal(req->n_resource_spans, 0);
}

static void test_protobuf_truncated_is_invalid(void **state)
{
    size_t plen;
    uint8_t *pb;
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    size_t cuts[] = {1, 2, 10, 100};

    g_arena = *state;
    pb = pack_req(build_full_request(), &plen);
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        err = NULL;
        assert_true(cuts[i] < plen);
        assert_int_equal(xb_otlp_decode_protobuf(pb, plen - cuts[i], *state, &req, &err),
                         XB_ERR_INVALID);
        assert_non_null(err);
    }
    /* Garbage: field 1 length-delimited with a length past the end. */
    assert_int_equal(xb_otlp_decode_protobuf("\x0a\x7f\x01", 3, *state, &req, &err),
                     XB_ERR_INVALID);
    free(pb);
}

static void test_protobuf_arena_exhaustion_is_error(void **state)
{
    size_t plen;
    uint8_t *pb;
    int ok_seen = 0;

    g_arena = *state;
    pb = pack_req(build_full_request(), &plen);
    /* A tiny cap: must fail, not crash. */
    {
        struct xb_arena *a = xb_arena_new(256, 512);
        xb_pb_export_req *req = NULL;
        const char *err = NULL;
        assert_non_null(a);
        assert_int_not_equal(xb_otlp_decode_protobuf(pb, plen, a, &req, &err), XB_OK);
        assert_non_null(err);
        xb_arena_free(a);
    }
    /* Every failure point: an error or success, never a crash or leak. */
    for (size_t n = 1; n < 10000 && !ok_seen; n++) {
        struct xb_arena *a = xb_arena_new(256, 0);
        xb_pb_export_req *req = NULL;
        const char *err = NULL;
        int rc;

        assert_non_null(a);
        xb_arena_fail_after(a, n);
        rc = xb_otlp_decode_protobuf(pb, plen, a, &req, &err);
        if (rc == XB_OK)
            ok_seen = 1;
        else
            assert_non_null(err);
        xb_arena_free(a);
    }
    assert_true(ok_seen);
    free(pb);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_arena, teardown_arena)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_full_request_every_field),
        T(test_hex_ids_any_case),
        T(test_hex_ids_empty_is_absent),
        T(test_hex_ids_length_not_checked),
        T(test_timestamps_exact_strings_and_numbers),
        T(test_int_value_forms),
        T(test_double_value_forms),
        T(test_bytes_value_base64),
        T(test_nested_arrays_and_kvlists),
        T(test_unknown_fields_ignored_everywhere),
        T(test_null_fields_are_absent),
        T(test_snake_case_accepted),
        T(test_camel_case_entity_refs),
        T(test_empty_object_is_empty_request),
        T(test_integral_reals_for_counts),
        T(test_enum_values_any_int32),
        T(test_oneof_last_member_wins),
        T(test_nul_inside_string_value),
        T(test_unicode_strings),
        T(test_rejects_invalid_json),
        T(test_rejects_non_object_top_level),
        T(test_rejects_invalid_utf8),
        T(test_rejects_bad_hex),
        T(test_rejects_string_enums),
        T(test_rejects_bad_64bit_integers),
        T(test_rejects_bad_32bit_integers),
        T(test_rejects_wrong_json_types),
        T(test_rejects_bad_base64),
        T(test_rejects_bad_doubles),
        T(test_nesting_depth_bounded),
        T(test_jansson_depth_limit_no_crash),
        T(test_parse_tree_counts_against_arena_and_allocator_restored),
        T(test_allocation_failure_loop),
        T(test_arena_cap_is_nomem),
        T(test_json_and_protobuf_decode_equal),
        T(test_protobuf_round_trip),
        T(test_protobuf_truncated_is_invalid),
        T(test_protobuf_arena_exhaustion_is_error),
    };
    return cmocka_run_group_tests_name("otlp_json", tests, NULL, NULL);
}
