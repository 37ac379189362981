/* Unit tests for receiver/status.c: outcome -> gRPC/HTTP mapping and response bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/metrics.h"
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

/* Every refusal reason: HTTP status and reason phrase, gRPC code and :status, retry,
 * advertised encodings, Allow header, and its label (receiver/status.h's table). */
static void test_refusal_mapping_every_reason(void **state)
{
    static const struct {
        enum xb_refusal reason;
        const char *label;
        int http;
        const char *phrase;
        enum xb_grpc_code grpc;
        int grpc_http;
        int retry, accept_encoding, allow_post;
    } cases[] = {
        {XB_REFUSAL_BAD_REQUEST, "bad_request", 400, "Bad Request", XB_GRPC_INVALID_ARGUMENT, 200,
         0, 0, 0},
        {XB_REFUSAL_TOO_LARGE, "too_large", 413, "Content Too Large", XB_GRPC_RESOURCE_EXHAUSTED,
         200, 0, 0, 0},
        {XB_REFUSAL_QUEUE_FULL, "queue_full", 503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200,
         1, 0, 0},
        {XB_REFUSAL_OUT_OF_MEMORY, "out_of_memory", 503, "Service Unavailable", XB_GRPC_UNAVAILABLE,
         200, 1, 0, 0},
        {XB_REFUSAL_BUSY, "busy", 503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1, 0, 0},
        {XB_REFUSAL_DRAINING, "draining", 503, "Service Unavailable", XB_GRPC_UNAVAILABLE, 200, 1,
         0, 0},
        {XB_REFUSAL_UNSUPPORTED_ENCODING, "unsupported_encoding", 415, "Unsupported Media Type",
         XB_GRPC_UNIMPLEMENTED, 200, 0, 1, 0},
        {XB_REFUSAL_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415, "Unsupported Media Type",
         XB_GRPC_INVALID_ARGUMENT, 415, 0, 0, 0},
        {XB_REFUSAL_UNKNOWN_PATH, "unknown_path", 404, "Not Found", XB_GRPC_UNIMPLEMENTED, 200, 0,
         0, 0},
        {XB_REFUSAL_METHOD_NOT_ALLOWED, "method_not_allowed", 405, "Method Not Allowed",
         XB_GRPC_UNIMPLEMENTED, 200, 0, 0, 1},
        {XB_REFUSAL_TIMEOUT, "timeout", 408, "Request Timeout", XB_GRPC_DEADLINE_EXCEEDED, 200, 0,
         0, 0},
        {XB_REFUSAL_INTERNAL, "internal", 500, "Internal Server Error", XB_GRPC_INTERNAL, 200, 0, 0,
         0},
        {XB_REFUSAL_MEMORY_LIMITED, "memory_limited", 503, "Service Unavailable",
         XB_GRPC_UNAVAILABLE, 200, 1, 0, 0},
    };
    struct xb_reply r;

    assert_int_equal(sizeof(cases) / sizeof(cases[0]), XB_REFUSAL_COUNT - 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        xb_reply_refusal(cases[i].reason, "why", &r);
        assert_int_equal(r.http_status, cases[i].http);
        assert_string_equal(r.http_reason, cases[i].phrase);
        assert_int_equal(r.grpc_code, cases[i].grpc);
        assert_int_equal(r.grpc_http_status, cases[i].grpc_http);
        assert_int_equal(r.retry_after_s, cases[i].retry ? XB_RETRY_AFTER_S : 0);
        assert_int_equal(r.accept_encoding, cases[i].accept_encoding);
        assert_int_equal(r.allow_post, cases[i].allow_post);
        assert_string_equal(r.message, "why");
        assert_string_equal(xb_refusal_label(cases[i].reason), cases[i].label);
        /* without a message the reason's generic text is used */
        xb_reply_refusal(cases[i].reason, NULL, &r);
        assert_non_null(r.message);
        assert_true(strlen(r.message) > 0);
    }
    /* out of range, and NONE, are internal errors */
    xb_reply_refusal(XB_REFUSAL_COUNT, "x", &r);
    assert_int_equal(r.http_status, 500);
    xb_reply_refusal(XB_REFUSAL_NONE, "x", &r);
    assert_int_equal(r.grpc_code, XB_GRPC_INTERNAL);
    assert_string_equal(xb_refusal_label(XB_REFUSAL_COUNT), "internal");
}

/* The reason of an outcome: its own when set, else derived from rc. */
static void test_refusal_of_outcome(void **state)
{
    struct xb_ingest_outcome o = {.rc = XB_ERR_AGAIN};
    struct xb_reply r;

    assert_int_equal(xb_refusal_of_rc(XB_ERR_INVALID), XB_REFUSAL_BAD_REQUEST);
    assert_int_equal(xb_refusal_of_rc(XB_ERR_TOO_LARGE), XB_REFUSAL_TOO_LARGE);
    assert_int_equal(xb_refusal_of_rc(XB_ERR_FULL), XB_REFUSAL_QUEUE_FULL);
    assert_int_equal(xb_refusal_of_rc(XB_ERR_NOMEM), XB_REFUSAL_OUT_OF_MEMORY);
    assert_int_equal(xb_refusal_of_rc(XB_ERR_AGAIN), XB_REFUSAL_BUSY);
    assert_int_equal(xb_refusal_of_rc(XB_ERR_UNSUPPORTED), XB_REFUSAL_UNSUPPORTED_ENCODING);
    assert_int_equal(xb_refusal_of_rc(XB_ERR_IO), XB_REFUSAL_INTERNAL);
    assert_int_equal(xb_refusal_of(&o), XB_REFUSAL_BUSY);
    o.refusal = XB_REFUSAL_DRAINING;
    assert_int_equal(xb_refusal_of(&o), XB_REFUSAL_DRAINING);
    /* an outcome maps through its reason; no err_desc: the code's text */
    xb_reply_from_outcome(&o, &r);
    assert_int_equal(r.http_status, 503);
    assert_int_equal(r.retry_after_s, XB_RETRY_AFTER_S);
    assert_string_equal(r.message, xb_strerror(XB_ERR_AGAIN));
    o = (struct xb_ingest_outcome){.rc = XB_ERR_UNSUPPORTED, .err_desc = "bad coding"};
    xb_reply_from_outcome(&o, &r);
    assert_int_equal(r.http_status, 415);
    assert_int_equal(r.grpc_code, XB_GRPC_UNIMPLEMENTED);
    assert_true(r.accept_encoding);
    assert_string_equal(r.message, "bad coding");
}

/* Refusals are counted by transport and reason, and rendered on /metrics with every
 * (transport, reason) pair present from registration on. */
static void test_refusal_counted_and_rendered(void **state)
{
    struct xb_reply r;
    struct xb_buf b;

    xb_receiver_metrics_register();
    xb_metrics_reset();
    xb_reply_refuse(XB_TRANSPORT_HTTP, XB_REFUSAL_UNKNOWN_PATH, "nope", &r);
    xb_reply_refuse(XB_TRANSPORT_HTTP, XB_REFUSAL_UNKNOWN_PATH, "nope", &r);
    xb_refusal_count(XB_TRANSPORT_GRPC, XB_REFUSAL_UNSUPPORTED_ENCODING);
    xb_refusal_count(XB_TRANSPORT_GRPC, XB_REFUSAL_NONE); /* counted as internal */
    assert_int_equal(r.http_status, 404);
    assert_int_equal(xb_refusal_counted(XB_TRANSPORT_HTTP, XB_REFUSAL_UNKNOWN_PATH), 2);
    assert_int_equal(xb_refusal_counted(XB_TRANSPORT_GRPC, XB_REFUSAL_UNKNOWN_PATH), 0);
    assert_int_equal(xb_refusal_counted(XB_TRANSPORT_GRPC, XB_REFUSAL_UNSUPPORTED_ENCODING), 1);
    assert_int_equal(xb_refusal_counted(XB_TRANSPORT_GRPC, XB_REFUSAL_INTERNAL), 1);

    xb_buf_init(&b, 0);
    assert_int_equal(xb_metrics_render(&b, NULL, 0), XB_OK);
    assert_non_null(strstr(b.data, "# TYPE xraybridge_receiver_refused_requests_total counter\n"));
    assert_non_null(strstr(b.data, "\nxraybridge_receiver_refused_requests_total{receiver=\"otlp\","
                                   "transport=\"http\",reason=\"unknown_path\"} 2\n"));
    assert_non_null(strstr(b.data, "\nxraybridge_receiver_refused_requests_total{receiver=\"otlp\","
                                   "transport=\"grpc\",reason=\"unsupported_encoding\"} 1\n"));
    assert_non_null(strstr(b.data, "\nxraybridge_receiver_refused_requests_total{receiver=\"otlp\","
                                   "transport=\"grpc\",reason=\"timeout\"} 0\n"));
    xb_buf_cleanup(&b);
    xb_metrics_reset(); /* zeroes the registered family too */
    assert_int_equal(xb_refusal_counted(XB_TRANSPORT_HTTP, XB_REFUSAL_UNKNOWN_PATH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_mapping_table),
        cmocka_unit_test(test_refusal_mapping_every_reason),
        cmocka_unit_test(test_refusal_of_outcome),
        cmocka_unit_test(test_refusal_counted_and_rendered),
        cmocka_unit_test(test_success_body_protobuf_without_rejections_is_empty),
        cmocka_unit_test(test_success_body_partial_success_protobuf),
        cmocka_unit_test(test_success_body_json),
        cmocka_unit_test(test_status_body_with_retry_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
