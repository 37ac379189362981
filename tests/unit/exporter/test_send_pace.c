/*
 * tests/unit/exporter/test_send_pace.c - exporter/send_pace.c: the pause after a failed
 * call (with and without a server's Retry-After) and the gate at the start of a flush,
 * shared by the awsxray and otlphttp exporters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exporter/send_pace.h"

static const struct xb_retry_opts opts = {1, 100, 1000, 60000};

/* Without a Retry-After the pause is exactly xb_backoff_step()'s, draw for draw. */
static void test_pause_without_floor_is_the_step(void **state)
{
    struct xb_backoff a = {0}, b = {0};
    struct xb_rng ra, rb;
    (void)state;
    xb_rng_seed_fixed(&ra, 7);
    xb_rng_seed_fixed(&rb, 7);
    for (uint64_t now = 1000; now < 20000; now += 1500) {
        uint64_t step = xb_backoff_step(&a, now, &opts, 0, &ra);
        assert_int_equal(xb_backoff_pause(&b, now, &opts, 0, 0, &rb), step);
        assert_int_equal(a.until_ms, b.until_ms);
        assert_int_equal(a.failures, b.failures);
    }
}

/* A Retry-After longer than the back-off wins; a shorter one changes nothing. */
static void test_retry_after_floor(void **state)
{
    struct xb_backoff b = {0};
    struct xb_rng r;
    uint64_t d;
    (void)state;
    xb_rng_seed_fixed(&r, 1);
    assert_int_equal(xb_backoff_pause(&b, 1000, &opts, 0, 5000, &r), 5000);
    assert_int_equal(b.until_ms, 6000);
    assert_int_equal(b.failures, 1);

    b = (struct xb_backoff){0};
    d = xb_backoff_pause(&b, 1000, &opts, 0, 1, &r); /* 1 ms < any jittered 100 ms */
    assert_true(d >= 50 && d <= 150);
    assert_int_equal(b.until_ms, 1000 + d);
}

/* In the same round the step draws nothing; only a later Retry-After moves the pause. */
static void test_same_round(void **state)
{
    struct xb_backoff b = {.until_ms = 3000, .failures = 2};
    struct xb_rng r;
    (void)state;
    xb_rng_seed_fixed(&r, 1);
    assert_int_equal(xb_backoff_pause(&b, 2000, &opts, 0, 0, &r), 0);
    assert_int_equal(xb_backoff_pause(&b, 2000, &opts, 0, 500, &r), 0); /* ends before */
    assert_int_equal(b.until_ms, 3000);
    assert_int_equal(xb_backoff_pause(&b, 2000, &opts, 0, 4000, &r), 4000);
    assert_int_equal(b.until_ms, 6000);
    assert_int_equal(b.failures, 2);
}

static void test_pause_is_capped(void **state)
{
    struct xb_backoff b = {0};
    struct xb_rng r;
    (void)state;
    xb_rng_seed_fixed(&r, 1);
    assert_int_equal(xb_backoff_pause(&b, 0, &opts, 0, UINT64_C(1) << 40, &r), UINT32_MAX);
}

static void test_flush_gate(void **state)
{
    uint64_t wait = 99;
    (void)state;
    assert_int_equal(xb_flush_gate(1000, 1500, 10, 0, &wait), XB_FLUSH_WAIT);
    assert_int_equal(wait, 500);
    wait = 99;
    assert_int_equal(xb_flush_gate(1500, 1500, 0, 0, &wait), XB_FLUSH_IDLE);
    assert_int_equal(xb_flush_gate(1500, 1500, 3, 1, &wait), XB_FLUSH_IDLE);
    assert_int_equal(xb_flush_gate(1500, 1500, 3, 0, &wait), XB_FLUSH_SEND);
    assert_int_equal(xb_flush_gate(2000, 0, 1, 0, &wait), XB_FLUSH_SEND);
    assert_int_equal(wait, 99); /* only WAIT sets it */
    /* a pause wins over an empty queue or a pending fetch */
    assert_int_equal(xb_flush_gate(0, 10, 0, 1, &wait), XB_FLUSH_WAIT);
    assert_int_equal(wait, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_without_floor_is_the_step),
        cmocka_unit_test(test_retry_after_floor),
        cmocka_unit_test(test_same_round),
        cmocka_unit_test(test_pause_is_capped),
        cmocka_unit_test(test_flush_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
