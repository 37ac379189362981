/* Unit tests for core/pace.c: when a producer pauses for its consumer, and when it stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "core/pace.h"

#define MS 1000000u

static const struct xb_pace_limits LIM = {
    .high = 512, .low = 256, .max_wait_ns = 50 * MS, .stall_ns = 2 * MS};

/* At or below |high|, or with pacing off, a producer never pauses. */
static void test_pace_no_pause(void **state)
{
    struct xb_pace p = {0};
    struct xb_pace_limits off = {0};
    uint64_t until = 7;

    (void)state;
    assert_int_equal(xb_pace_step(&p, &LIM, 0, 0, 0, 1000, &until), XB_PACE_GO);
    assert_int_equal(xb_pace_step(&p, &LIM, 512, 0, 0, 1000, &until), XB_PACE_GO);
    assert_int_equal(xb_pace_step(&p, NULL, 100000, 0, 0, 1000, &until), XB_PACE_GO);
    assert_int_equal(xb_pace_step(&p, &off, 100000, 0, 0, 1000, &until), XB_PACE_GO);
    assert_int_equal(p.started, 0);
    assert_int_equal(until, 7); /* untouched */
}

/* Above |high| it pauses; the first deadline is the stall window. */
static void test_pace_pauses_above_high(void **state)
{
    struct xb_pace p = {0};
    uint64_t until = 0;

    (void)state;
    assert_int_equal(xb_pace_step(&p, &LIM, 513, 40, 0, 1000 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(p.started, 1);
    assert_int_equal(until, 1002 * MS);
    /* still above low, pops moving: the stall window moves with them */
    assert_int_equal(xb_pace_step(&p, &LIM, 400, 90, 0, 1001 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(until, 1003 * MS);
    assert_int_equal(xb_pace_step(&p, &LIM, 300, 140, 0, 1002 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(until, 1004 * MS);
    /* at low: drained */
    assert_int_equal(xb_pace_step(&p, &LIM, 256, 190, 0, 1003 * MS, &until), XB_PACE_DRAINED);
}

/* No pop for the stall window ends the pause; a stalled consumer is not waited for. */
static void test_pace_stall(void **state)
{
    struct xb_pace p = {0};
    uint64_t until = 0;

    (void)state;
    assert_int_equal(xb_pace_step(&p, &LIM, 600, 5, 0, 10 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(xb_pace_step(&p, &LIM, 600, 5, 0, 11 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(until, 12 * MS);
    assert_int_equal(xb_pace_step(&p, &LIM, 600, 5, 0, 12 * MS, &until), XB_PACE_STALLED);
    assert_int_equal(p.pops, 5); /* the count the queue records as stalled */
    /* the next producer, same pop count, marked stalled: goes on at once */
    p = (struct xb_pace){0};
    assert_int_equal(xb_pace_step(&p, &LIM, 700, 5, 1, 13 * MS, &until), XB_PACE_GO);
    assert_int_equal(p.started, 0);
}

/* However often the consumer pops, a pause ends after max_wait_ns. */
static void test_pace_timeout(void **state)
{
    struct xb_pace p = {0};
    uint64_t until = 0, pops = 0, t = 100 * MS;

    (void)state;
    assert_int_equal(xb_pace_step(&p, &LIM, 10000, pops, 0, t, &until), XB_PACE_WAIT);
    for (int i = 0; i < 49; i++) {
        t += MS;
        pops += 50;
        assert_int_equal(xb_pace_step(&p, &LIM, 10000, pops, 0, t, &until), XB_PACE_WAIT);
        assert_true(until <= 150 * MS);
    }
    assert_int_equal(until, 150 * MS); /* the overall bound is now the nearer one */
    t += MS;
    pops += 50;
    assert_int_equal(xb_pace_step(&p, &LIM, 10000, pops, 0, t, &until), XB_PACE_TIMEOUT);
}

/* Steps at the same instant, nothing popped: still a pause, the same deadline. */
static void test_pace_same_instant(void **state)
{
    struct xb_pace p = {0};
    uint64_t until = 0;

    (void)state;
    assert_int_equal(xb_pace_step(&p, &LIM, 1000, 0, 0, 5 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(xb_pace_step(&p, &LIM, 1000, 0, 0, 5 * MS, &until), XB_PACE_WAIT);
    assert_int_equal(until, 7 * MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pace_no_pause),     cmocka_unit_test(test_pace_pauses_above_high),
        cmocka_unit_test(test_pace_stall),        cmocka_unit_test(test_pace_timeout),
        cmocka_unit_test(test_pace_same_instant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
