/* Unit tests for receiver/status.c: outcome -> gRPC/HTTP mapping and response bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/otlp.h"
#include "receiver/status.h"

static void test_status_mapping_table(void **state)
{
    static const struct {
        int rc;
        int http;
        enum xb_grpc_code grpc;
        int retry;
    } cases[] = {
        {XB_OK, 200, XB_GRPC_OK, 0},
        {XB_ERR_INVALID, 400, XB_GRPC_INVALID_ARGUMENT, 0},
        {XB_ERR_TOO_LARGE, 413, XB_GRPC_RESOURCE_EXHAUSTED, 0},
        {XB_ERR_FULL, 503, XB_GRPC_UNAVAILABLE, 1},
        {XB_ERR_NOMEM, 503, XB_GRPC_UNAVAILABLE, 1},
        {XB_ERR_AGAIN, 503, XB_GRPC_UNAVAILABLE, 1},
        {XB_ERR_UNSUPPORTED, 415, XB_GRPC_UNIMPLEMENTED, 0},
        {XB_ERR_IO, 500, XB_GRPC_INTERNAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xb_ingest_outcome o = {.rc = cases[i].rc, .err_desc = "why"};
        struct xb_reply r;
        xb_reply_from_outcome(&o, &r);
        assert_int_equal(r.http_status, cases[i].http);
        assert_int_equal(r.grpc_code, cases[i].grpc);
        assert_int_equal(r.retry_after_s > 0, cases[i].retry);
        if (cases[i].rc != XB_OK)
            assert_string_equal(r.message, "why");
    }
}

static void test_success_body_protobuf_without_rejections_is_empty(void **state)
{
    struct xb_ingest_outcome o = {0};
    struct xb_buf b;
    xb_buf_init(&b, 0);
    assert_int_equal(xb_reply_success_body(&o, 0, &b), XB_OK);
    assert_int_equal(b.len, 0); /* partial_success unset = full success */
    xb_buf_cleanup(&b);
}

static void test_success_body_partial_success_protobuf(void **state)
{
    struct xb_ingest_outcome o = {.rejected_spans = 3};
    xb_pb_export_resp *resp;
    struct xb_buf b;
    strcpy(o.reject_msg, "3 of 5 spans rejected: bad id");
    xb_buf_init(&b, 0);
    assert_int_equal(xb_reply_success_body(&o, 0, &b), XB_OK);
    resp = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
        NULL, b.len, (const uint8_t *)b.data);
    assert_non_null(resp);
    assert_non_null(resp->partial_success);
    assert_int_equal(resp->partial_success->rejected_spans, 3);
    assert_string_equal(resp->partial_success->error_message, "3 of 5 spans rejected: bad id");
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(resp,
                                                                                            NULL);
    xb_buf_cleanup(&b);
}

static void test_success_body_json(void **state)
{
    struct xb_ingest_outcome o = {.rejected_spans = 2};
    struct xb_buf b;
    strcpy(o.reject_msg, "bad \"id\"");
    xb_buf_init(&b, 0);
    assert_int_equal(xb_reply_success_body(&o, 1, &b), XB_OK);
    assert_string_equal(b.data,
                        "{\"partialSuccess\":{\"rejectedSpans\":\"2\",\"errorMessage\":\"bad "
                        "\\\"id\\\"\"}}");
    o.rejected_spans = 0;
    xb_buf_clear(&b);
    assert_int_equal(xb_reply_success_body(&o, 1, &b), XB_OK);
    assert_string_equal(b.data, "{}");
    xb_buf_cleanup(&b);
}

static void test_status_body_with_retry_info(void **state)
{
    Google__Rpc__Status *st;
    Google__Rpc__RetryInfo *ri;
    struct xb_buf b;
    xb_buf_init(&b, 0);
    assert_int_equal(xb_reply_status_body(XB_GRPC_UNAVAILABLE, "queue full", 2, 0, &b), XB_OK);
    st = google__rpc__status__unpack(NULL, b.len, (const uint8_t *)b.data);
    assert_non_null(st);
    assert_int_equal(st->code, 14);
    assert_string_equal(st->message, "queue full");
    assert_int_equal(st->n_details, 1);
    assert_string_equal(st->details[0]->type_url, "type.googleapis.com/google.rpc.RetryInfo");
    ri = google__rpc__retry_info__unpack(NULL, st->details[0]->value.len,
                                         st->details[0]->value.data);
    assert_non_null(ri);
    assert_int_equal(ri->retry_delay->seconds, 2);
    google__rpc__retry_info__free_unpacked(ri, NULL);
    google__rpc__status__free_unpacked(st, NULL);
    xb_buf_clear(&b);
    assert_int_equal(xb_reply_status_body(XB_GRPC_INVALID_ARGUMENT, "bad", 0, 1, &b), XB_OK);
    assert_string_equal(b.data, "{\"code\":3,\"message\":\"bad\"}");
    xb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_mapping_table),
        cmocka_unit_test(test_success_body_protobuf_without_rejections_is_empty),
        cmocka_unit_test(test_success_body_partial_success_protobuf),
        cmocka_unit_test(test_success_body_json),
        cmocka_unit_test(test_status_body_with_retry_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
