/*
 * bench/test_request_builder.c - checks the synthetic request has the documented shape,
 * so benchmark numbers measure what bench/README.md says they measure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/request_builder.h"
#include "bench/request_json.h"
#include "core/arena.h"
#include "core/err.h"
#include "proto/otlp.h"
#include "receiver/otlp_decode.h"

static const char *attr_string(xb_pb_kv **kvs, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcmp(kvs[i]->key, key) && kvs[i]->value &&
            kvs[i]->value->value_case == XB_ANY_STRING)
            return kvs[i]->value->string_value;
    return NULL;
}

static void test_request_builder_shape(void **state)
{
    struct xb_bench_request_opts opts = {12, 42, 1700000000000000000ull};
    xb_pb_export_req *req;
    const xb_pb_scope_spans *ss;
    const xb_pb_span *root = NULL;
    uint8_t *pb = NULL;
    size_t len = 0, i, events = 0;

    (void)state;
    assert_int_equal(xb_bench_build_request(&opts, &pb, &len), XB_OK);
    assert_non_null(pb);
    req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL,
                                                                                           len, pb);
    assert_non_null(req);
    assert_int_equal(req->n_resource_spans, 1);
    assert_non_null(req->resource_spans[0]->resource);
    assert_string_equal(attr_string(req->resource_spans[0]->resource->attributes,
                                    req->resource_spans[0]->resource->n_attributes, "service.name"),
                        "checkout");
    assert_string_equal(attr_string(req->resource_spans[0]->resource->attributes,
                                    req->resource_spans[0]->resource->n_attributes,
                                    "cloud.provider"),
                        "aws");
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
    ss = req->resource_spans[0]->scope_spans[0];
    assert_int_equal(ss->n_spans, 12);
    for (i = 0; i < ss->n_spans; i++) {
        const xb_pb_span *s = ss->spans[i];

        assert_int_equal(s->n_attributes, 15);
        assert_int_equal(s->trace_id.len, 16);
        assert_int_equal(s->span_id.len, 8);
        assert_true(s->end_time_unix_nano > s->start_time_unix_nano);
        if (i % XB_BENCH_SPANS_PER_TRACE == 0) {
            root = s;
            assert_int_equal(s->kind, XB_KIND_SERVER);
            assert_int_equal(s->parent_span_id.len, 0);
        } else {
            assert_non_null(root);
            assert_memory_equal(s->trace_id.data, root->trace_id.data, 16);
            assert_int_equal(s->parent_span_id.len, 8);
            assert_memory_equal(s->parent_span_id.data, root->span_id.data, 8);
        }
        if (i % XB_BENCH_SPANS_PER_TRACE == 2) {
            assert_int_equal(s->n_events, 1);
            assert_string_equal(s->events[0]->name, "exception");
            assert_non_null(s->status);
            assert_int_equal(s->status->code, XB_STATUS_ERROR);
            events++;
        } else {
            assert_int_equal(s->n_events, 0);
        }
    }
    assert_int_equal(events, 2); /* traces of 5, 5 and 2 spans: the last has no db span */
    /* Same options, same bytes. */
    {
        uint8_t *again = NULL;
        size_t again_len = 0;

        assert_int_equal(xb_bench_build_request(&opts, &again, &again_len), XB_OK);
        assert_int_equal(again_len, len);
        assert_memory_equal(again, pb, len);
        free(again);
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    free(pb);
}

static void test_request_builder_rejects_bad_counts(void **state)
{
    struct xb_bench_request_opts opts = {0, 1, 0};
    uint8_t *pb = (uint8_t *)"x";
    size_t len = 1;

    (void)state;
    assert_int_equal(xb_bench_build_request(&opts, &pb, &len), XB_ERR_INVALID);
    assert_null(pb);
    assert_int_equal(len, 0);
    opts.spans = XB_BENCH_MAX_SPANS + 1;
    assert_int_equal(xb_bench_build_request(&opts, &pb, &len), XB_ERR_INVALID);
}

static void test_grpc_frame_header(void **state)
{
    static const uint8_t msg[300] = {0x0a, 0x01};
    uint8_t *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(xb_bench_grpc_frame(msg, sizeof(msg), &out, &len), XB_OK);
    assert_int_equal(len, sizeof(msg) + 5);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 0x01);
    assert_int_equal(out[4], 0x2c); /* 300 = 0x012c */
    assert_memory_equal(out + 5, msg, sizeof(msg));
    free(out);
}

/* Packs |req| with protobuf-c into a malloc'd buffer. */
static uint8_t *pack(const xb_pb_export_req *req, size_t *len)
{
    uint8_t *buf;

    *len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            req);
    buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(req, buf);
    return buf;
}

/* The OTLP/JSON body carries the same request: the receiver's JSON decoder and its
 * protobuf decoder yield structures that pack to the same bytes. */
static void test_request_json_same_request(void **state)
{
    struct xb_bench_request_opts opts = {23, 5, 1700000000000000000ull};
    struct xb_arena *arena = xb_arena_new(64 * 1024, 64 * 1024 * 1024);
    xb_pb_export_req *from_pb = NULL, *from_json = NULL;
    uint8_t *pb = NULL, *a, *b;
    char *json = NULL;
    size_t pb_len = 0, json_len = 0, a_len, b_len;
    const char *err = NULL;

    (void)state;
    assert_non_null(arena);
    assert_int_equal(xb_bench_build_request(&opts, &pb, &pb_len), XB_OK);
    assert_int_equal(xb_bench_request_to_json(pb, pb_len, &json, &json_len), XB_OK);
    assert_int_equal(strlen(json), json_len);
    assert_non_null(strstr(json, "\"resourceSpans\":[{"));
    assert_int_equal(xb_otlp_decode_protobuf(pb, pb_len, arena, &from_pb, &err), XB_OK);
    assert_int_equal(xb_otlp_decode_json(json, json_len, arena, &from_json, &err), XB_OK);
    assert_int_equal(xb_otlp_count_spans(from_json), 23);
    a = pack(from_pb, &a_len);
    b = pack(from_json, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    free(a);
    free(b);
    free(json);
    assert_int_equal(xb_bench_request_to_json((const uint8_t *)"\xff", 1, &json, &json_len),
                     XB_ERR_INVALID);
    assert_null(json);
    free(pb);
    xb_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_builder_shape),
        cmocka_unit_test(test_request_builder_rejects_bad_counts),
        cmocka_unit_test(test_grpc_frame_header),
        cmocka_unit_test(test_request_json_same_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
