/* Unit tests for receiver/grpc_deadline.c: connection and call deadlines of the OTLP/gRPC
 * receiver count from fixed events, in a fixed order of urgency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "receiver/grpc_deadline.h"

static const struct xb_grpc_timeouts TO = {.connection_ms = 10000,
                                           .upload_ms = 30000,
                                           .idle_ms = 60000,
                                           .age_ms = 0,
                                           .age_grace_ms = 30000};

static void test_connection_deadline_until_first_request(void **state)
{
    struct xb_grpc_conn_times t = {.accepted_ms = 1000, .idle_since_ms = 1000};
    uint64_t next;

    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 5000, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, 11000);
    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 11000, &next), XB_GRPC_DL_CONNECTION);
    /* once the connection is being closed, only close_by counts */
    t.closing = 1;
    t.close_by_ms = 12000;
    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 11000, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, 12000);
    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 12000, &next), XB_GRPC_DL_CLOSE);
    t.close_by_ms = 0;
    t.closing = 0;
    /* A request (stream opened) lifts the connection deadline; idle waits for 0 streams. */
    t.had_request = 1;
    t.open_streams = 1;
    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 11000, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, UINT64_MAX);
}

static void test_idle_counts_from_last_stream_close(void **state)
{
    struct xb_grpc_conn_times t = {.accepted_ms = 0, .had_request = 1, .idle_since_ms = 50000};
    uint64_t next;

    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 109999, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, 110000);
    assert_int_equal(xb_grpc_conn_deadline(&t, &TO, 110000, &next), XB_GRPC_DL_IDLE);
}

static void test_age_then_close_by(void **state)
{
    struct xb_grpc_timeouts to = TO;
    struct xb_grpc_conn_times t = {.had_request = 1, .open_streams = 2};
    uint64_t next;

    to.age_ms = 5000;
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 4000, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, 5000);
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 5000, &next), XB_GRPC_DL_AGE);
    t.aged = 1;
    t.close_by_ms = 35000;
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 6000, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, 35000);
    /* aged with a grace pending: an idle deadline still fires (it is not closing) */
    t.open_streams = 0;
    t.idle_since_ms = 6000;
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 6000 + 60000, &next), XB_GRPC_DL_CLOSE);
    t.close_by_ms = 200000;
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 6000 + 60000, &next), XB_GRPC_DL_IDLE);
    t.closing = 1;
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 6000 + 60000, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, 200000);
    t.close_by_ms = 35000;
    t.closing = 0;
    /* close_by wins over anything else expired at the same time */
    t.open_streams = 0;
    t.had_request = 0;
    assert_int_equal(xb_grpc_conn_deadline(&t, &to, 100000, &next), XB_GRPC_DL_CLOSE);
}

static void test_disabled_limits_never_fire(void **state)
{
    struct xb_grpc_timeouts off = {0};
    struct xb_grpc_conn_times t = {0};
    uint64_t next = 0;

    assert_int_equal(xb_grpc_conn_deadline(&t, &off, UINT64_MAX / 2, &next), XB_GRPC_DL_NONE);
    assert_int_equal(next, UINT64_MAX);
    assert_int_equal(xb_grpc_stream_deadline(0, 1, 0, 0, UINT64_MAX / 2, &next), XB_GRPC_STREAM_OK);
}

static void test_stream_expires_then_closes_connection(void **state)
{
    uint64_t next = UINT64_MAX;

    /* uploading, within its time */
    assert_int_equal(xb_grpc_stream_deadline(1000, 1, 0, 30000, 30999, &next), XB_GRPC_STREAM_OK);
    assert_int_equal(next, 31000);
    /* trickled bytes do not matter: the deadline counts from HEADERS */
    next = UINT64_MAX;
    assert_int_equal(xb_grpc_stream_deadline(1000, 1, 0, 30000, 31000, &next),
                     XB_GRPC_STREAM_EXPIRE);
    /* answered for the deadline, still open: the connection goes after the grace */
    next = UINT64_MAX;
    assert_int_equal(xb_grpc_stream_deadline(1000, 1, 1, 30000, 32000, &next), XB_GRPC_STREAM_OK);
    assert_int_equal(next, 31000 + XB_GRPC_STREAM_CLOSE_GRACE_MS);
    assert_int_equal(
        xb_grpc_stream_deadline(1000, 1, 1, 30000, 31000 + XB_GRPC_STREAM_CLOSE_GRACE_MS, &next),
        XB_GRPC_STREAM_CLOSE_CONN);
    /* upload complete, answer not delivered (client does not read) */
    assert_int_equal(
        xb_grpc_stream_deadline(1000, 0, 0, 30000, 31000 + XB_GRPC_STREAM_CLOSE_GRACE_MS, &next),
        XB_GRPC_STREAM_CLOSE_CONN);
    /* a sooner deadline lowers next, a later one leaves it */
    next = 500;
    assert_int_equal(xb_grpc_stream_deadline(1000, 1, 0, 30000, 2000, &next), XB_GRPC_STREAM_OK);
    assert_int_equal(next, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_deadline_until_first_request),
        cmocka_unit_test(test_idle_counts_from_last_stream_close),
        cmocka_unit_test(test_age_then_close_by),
        cmocka_unit_test(test_disabled_limits_never_fire),
        cmocka_unit_test(test_stream_expires_then_closes_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
