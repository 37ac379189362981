/* tests/unit/app/test_memory_limiter.c - memory_limiter limits, decision, and the refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/memory_limiter.h"
#include "core/err.h"
#include "receiver/status.h"

#define MIB (1024ull * 1024)

static void test_compute_mib(void **state)
{
    struct xb_config_memory_limiter c = {.limit_bytes = 400 * MIB, .spike_limit_bytes = 100 * MIB};
    struct xb_memlimit l;

    (void)state;
    assert_int_equal(xb_memlimit_compute(&c, 0, &l), XB_OK);
    assert_int_equal(l.hard, 400 * MIB);
    assert_int_equal(l.soft, 300 * MIB);
    c.spike_limit_bytes = 0; /* default spike: 20% of the limit */
    assert_int_equal(xb_memlimit_compute(&c, 0, &l), XB_OK);
    assert_int_equal(l.soft, 320 * MIB);
}

static void test_compute_percentage(void **state)
{
    struct xb_config_memory_limiter c = {.limit_percentage = 80, .spike_limit_percentage = 20};
    struct xb_memlimit l;

    (void)state;
    assert_int_equal(xb_memlimit_compute(&c, 0, &l), XB_ERR_CONFIG);
    assert_int_equal(xb_memlimit_compute(&c, 1000 * MIB, &l), XB_OK);
    assert_int_equal(l.hard, 800 * MIB);
    assert_int_equal(l.soft, 600 * MIB);
}

static void test_decision(void **state)
{
    struct xb_memlimit l = {.hard = 100, .soft = 80};

    (void)state;
    assert_false(xb_memlimit_refuse(&l, 0));
    assert_false(xb_memlimit_refuse(&l, 80));
    assert_true(xb_memlimit_refuse(&l, 81));
    assert_true(xb_memlimit_refuse(&l, 1000));
}

static void test_rss_readable(void **state)
{
    (void)state;
    assert_true(xb_memlimit_rss() > 0);
    assert_true(xb_memlimit_total_memory() > 0);
}

/* The refusal is the retryable one: 503 + Retry-After, UNAVAILABLE + RetryInfo. */
static void test_refusal_mapping(void **state)
{
    struct xb_ingest_outcome o;
    struct xb_reply r;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.rc = XB_ERR_AGAIN;
    o.refusal = XB_REFUSAL_MEMORY_LIMITED;
    o.err_desc = "memory limit reached";
    xb_reply_from_outcome(&o, &r);
    assert_int_equal(r.http_status, 503);
    assert_int_equal(r.grpc_code, XB_GRPC_UNAVAILABLE);
    assert_true(r.retry_after_s > 0);
    assert_string_equal(xb_refusal_label(XB_REFUSAL_MEMORY_LIMITED), "memory_limited");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compute_mib),     cmocka_unit_test(test_compute_percentage),
        cmocka_unit_test(test_decision),        cmocka_unit_test(test_rss_readable),
        cmocka_unit_test(test_refusal_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
