/*
 * tests/unit/exporter/test_otlp_outcome.c - exporter/otlp_outcome.c: which OTLP/HTTP
 * answers are retried, dropped or delivered, Retry-After, partial_success, and the
 * span count of a queued record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/gzip.h"
#include "core/queue.h"
#include "exporter/otlp_outcome.h"
#include "proto/otlp.h"

static const struct xb_retry_opts RETRY = {1, 1000, 30000, 0};

static struct xb_otlp_decision decide(long status, int transport, int64_t retry_after_ms,
                                      struct xb_retry_state *st, uint64_t now,
                                      const struct xb_retry_opts *o)
{
    struct xb_otlp_call c = {transport, status, retry_after_ms, 0};
    struct xb_otlp_decision d;
    xb_otlp_outcome_decide(&c, st, now, o, &d);
    return d;
}

static void test_retryable_statuses(void **state)
{
    static const long retry[] = {429, 502, 503, 504};
    static const long final[] = {400, 401, 403, 404, 408, 413, 415, 500, 501};
    (void)state;
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
        struct xb_retry_state st = {0};
        struct xb_otlp_decision d = decide(retry[i], 0, -1, &st, 1000, &RETRY);
        assert_int_equal(d.verdict, XB_OTLP_RETRY);
        assert_true(d.back_off);
        assert_true(d.request_error);
        assert_int_equal(st.attempts, 1);
        assert_int_equal(st.failing_since_ms, 1000);
    }
    for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
        struct xb_retry_state st = {0};
        struct xb_otlp_decision d = decide(final[i], 0, -1, &st, 1000, &RETRY);
        assert_int_equal(d.verdict, XB_OTLP_DROP);
        assert_int_equal(d.why, XB_DROP_HTTP);
        assert_false(d.back_off);
    }
    {
        struct xb_retry_state st = {0};
        struct xb_otlp_decision d = decide(0, 1, -1, &st, 1000, &RETRY); /* connection refused */
        assert_int_equal(d.verdict, XB_OTLP_RETRY);
        assert_false(d.throttled);
    }
}

static void test_throttle_and_retry_after(void **state)
{
    struct xb_retry_state st = {0};
    struct xb_otlp_decision d;
    (void)state;
    d = decide(429, 0, 7000, &st, 5, &RETRY);
    assert_true(d.throttled);
    assert_int_equal(d.min_delay_ms, 7000);
    d = decide(503, 0, 3600000, &st, 6, &RETRY); /* capped at max_interval */
    assert_true(d.throttled);
    assert_int_equal(d.min_delay_ms, 30000);
    d = decide(503, 0, -1, &st, 7, &RETRY); /* a plain 503 is not throttling */
    assert_false(d.throttled);
    assert_int_equal(d.min_delay_ms, 0);
    assert_int_equal(st.attempts, 3);
    assert_int_equal(st.failing_since_ms, 5);
}

static void test_retry_disabled_or_expired_drops(void **state)
{
    struct xb_retry_opts off = {0, 1000, 30000, 0}, short_life = {1, 1000, 30000, 10000};
    struct xb_retry_state st = {0};
    struct xb_otlp_decision d;
    (void)state;
    d = decide(503, 0, -1, &st, 100, &off);
    assert_int_equal(d.verdict, XB_OTLP_DROP);
    assert_int_equal(d.why, XB_DROP_RETRY_DISABLED);
    memset(&st, 0, sizeof(st));
    d = decide(503, 0, -1, &st, 100, &short_life);
    assert_int_equal(d.verdict, XB_OTLP_RETRY);
    d = decide(503, 0, -1, &st, 10100, &short_life);
    assert_int_equal(d.verdict, XB_OTLP_RETRY); /* exactly max_elapsed: still retried */
    d = decide(503, 0, -1, &st, 10101, &short_life);
    assert_int_equal(d.verdict, XB_OTLP_DROP);
    assert_int_equal(d.why, XB_DROP_MAX_ELAPSED);
}

static void test_success_and_partial_success(void **state)
{
    struct xb_retry_state st = {0};
    struct xb_otlp_call c = {0, 200, -1, 3};
    struct xb_otlp_decision d;
    (void)state;
    xb_otlp_outcome_decide(&c, &st, 1, &RETRY, &d);
    assert_int_equal(d.verdict, XB_OTLP_DELIVERED);
    assert_int_equal(d.rejected, 3);
    assert_false(d.request_error);
    assert_int_equal(st.attempts, 0);
}

static void test_retry_after_parse(void **state)
{
    time_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    (void)state;
    assert_int_equal(xb_otlp_retry_after_ms("120", now), 120000);
    assert_int_equal(xb_otlp_retry_after_ms(" 0 ", now), 0);
    assert_int_equal(xb_otlp_retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now), 30000);
    assert_int_equal(xb_otlp_retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
    assert_int_equal(xb_otlp_retry_after_ms("soon", now), -1);
    assert_int_equal(xb_otlp_retry_after_ms("12abc", now), -1);
    assert_int_equal(xb_otlp_retry_after_ms("", now), -1);
    assert_int_equal(xb_otlp_retry_after_ms(NULL, now), -1);
}

static void test_parse_response(void **state)
{
    xb_pb_export_resp r =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    xb_pb_partial p =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    uint8_t buf[256];
    size_t len;
    int64_t rejected = -1;
    char msg[16];
    (void)state;
    assert_int_equal(xb_otlp_parse_response("", 0, &rejected, msg, sizeof(msg)), XB_OK);
    assert_int_equal(rejected, 0);
    p.rejected_spans = 5;
    p.error_message = "spans too old for the endpoint";
    r.partial_success = &p;
    len = protobuf_c_message_pack(&r.base, buf);
    assert_int_equal(xb_otlp_parse_response(buf, len, &rejected, msg, sizeof(msg)), XB_OK);
    assert_int_equal(rejected, 5);
    assert_string_equal(msg, "spans too old f"); /* truncated to the buffer */
    assert_int_equal(xb_otlp_parse_response("\x0a\xff", 2, &rejected, msg, sizeof(msg)),
                     XB_ERR_INVALID);
    assert_int_equal(rejected, 0);
}

static void test_record_spans(void **state)
{
    /* request{rs{ss{span, span}, ss{span}}, rs{}} built by hand */
    static const uint8_t rec[] = {
        0x0a, 0x0e,                                     /* resource_spans, 14 bytes */
        0x12, 0x06, 0x12, 0x00, 0x12, 0x02, 0x50, 0x01, /* scope_spans: 2 spans */
        0x12, 0x04, 0x12, 0x02, 0x50, 0x02,             /* scope_spans: 1 span */
        0x0a, 0x00,                                     /* empty resource_spans */
    };
    (void)state;
    assert_int_equal(xb_otlp_record_spans(rec, sizeof(rec)), 3);
    assert_int_equal(xb_otlp_record_spans(rec, 0), 0);
    assert_int_equal(xb_otlp_record_spans(rec, sizeof(rec) - 3), -1); /* cut in the middle */
    assert_int_equal(xb_otlp_record_spans("\x0b", 1), -1);            /* group wire type */
}

static void test_grpc_verdicts(void **state)
{
    static const int retry[] = {1, 4, 8, 10, 11, 14, 15};
    static const int drop[] = {2, 3, 5, 6, 7, 9, 12, 13, 16};
    (void)state;
    assert_int_equal(xb_grpc_call_verdict(0, 200, 0), XB_GRPC_DELIVERED);
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
        assert_int_equal(xb_grpc_call_verdict(0, 200, retry[i]), XB_GRPC_RETRY);
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        assert_int_equal(xb_grpc_call_verdict(0, 200, drop[i]), XB_GRPC_DROP);
    assert_int_equal(xb_grpc_call_verdict(1, 0, -1), XB_GRPC_REROUTE);   /* refused */
    assert_int_equal(xb_grpc_call_verdict(0, 502, -1), XB_GRPC_REROUTE); /* a proxy */
    assert_int_equal(xb_grpc_call_verdict(0, 200, -1), XB_GRPC_REROUTE); /* no trailers */
}

static struct xb_qdoc *record(const char *bytes, size_t len)
{
    struct xb_qdoc *d = calloc(1, sizeof(*d) + len);
    assert_non_null(d);
    memcpy(d->json, bytes, len);
    d->len = len;
    return d;
}

static void test_records_body(void **state)
{
    /* two requests, one resource_spans each: together one request with both */
    static const char a[] = {0x0a, 0x02, 0x12, 0x00};
    static const char b[] = {0x0a, 0x04, 0x12, 0x02, 0x12, 0x00}; /* rs{ss{span}} */
    struct xb_qdoc *recs[2] = {record(a, sizeof(a)), record(b, sizeof(b))};
    struct xb_buf plain, zipped, back;
    (void)state;
    xb_buf_init(&plain, 0);
    xb_buf_init(&zipped, 0);
    xb_buf_init(&back, 0);
    assert_int_equal(xb_otlp_records_body(recs, 2, 0, &plain), XB_OK);
    assert_int_equal(plain.len, sizeof(a) + sizeof(b));
    assert_memory_equal(plain.data, a, sizeof(a));
    assert_memory_equal(plain.data + sizeof(a), b, sizeof(b));
    assert_int_equal(xb_otlp_record_spans(plain.data, plain.len), 1);
    assert_int_equal(xb_otlp_records_body(recs, 2, 1, &zipped), XB_OK);
    assert_int_equal(xb_gunzip(zipped.data, zipped.len, &back, NULL), XB_OK);
    assert_int_equal(back.len, plain.len);
    assert_memory_equal(back.data, plain.data, plain.len);
    xb_buf_clear(&plain);
    assert_int_equal(xb_otlp_records_body(recs, 0, 0, &plain), XB_OK); /* no records */
    assert_int_equal(plain.len, 0);
    xb_buf_cleanup(&plain);
    xb_buf_cleanup(&zipped);
    xb_buf_cleanup(&back);
    free(recs[0]);
    free(recs[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable_statuses),
        cmocka_unit_test(test_throttle_and_retry_after),
        cmocka_unit_test(test_retry_disabled_or_expired_drops),
        cmocka_unit_test(test_success_and_partial_success),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_parse_response),
        cmocka_unit_test(test_record_spans),
        cmocka_unit_test(test_grpc_verdicts),
        cmocka_unit_test(test_records_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
