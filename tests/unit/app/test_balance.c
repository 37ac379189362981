/* app/balance.c: which worker takes a new connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "app/balance.h"

/* Connection |accepting| accepted: the pick takes it (as app/workers.c counts it). */
static unsigned accept_one(uint64_t *open, unsigned n, unsigned accepting)
{
    unsigned t = xb_balance_pick(open, n, accepting);
    open[t]++;
    return t;
}

static uint64_t spread(const uint64_t *open, unsigned n)
{
    uint64_t lo = open[0], hi = open[0];
    for (unsigned i = 1; i < n; i++) {
        lo = open[i] < lo ? open[i] : lo;
        hi = open[i] > hi ? open[i] : hi;
    }
    return hi - lo;
}

static void test_balance_fewest_wins(void **state)
{
    uint64_t open[4] = {3, 1, 2, 5};
    (void)state;
    assert_int_equal(xb_balance_pick(open, 4, 0), 1);
    assert_int_equal(xb_balance_pick(open, 4, 3), 1);
    assert_int_equal(xb_balance_pick(open, 4, 1), 1);
}

static void test_balance_tie_keeps_self(void **state)
{
    uint64_t open[3] = {2, 2, 2};
    (void)state;
    for (unsigned self = 0; self < 3; self++)
        assert_int_equal(xb_balance_pick(open, 3, self), self);
    open[0] = 1;
    open[2] = 1;
    assert_int_equal(xb_balance_pick(open, 3, 2), 2);
    assert_int_equal(xb_balance_pick(open, 3, 0), 0);
}

static void test_balance_tie_elsewhere_goes_round(void **state)
{
    /* self is busiest; the others tie: the first after self, cyclically */
    uint64_t open[4] = {1, 1, 4, 1};
    (void)state;
    assert_int_equal(xb_balance_pick(open, 4, 2), 3);
    open[2] = 0;
    open[1] = 4;
    assert_int_equal(xb_balance_pick(open, 4, 1), 2);
    open[3] = 0;
    open[2] = 4;
    assert_int_equal(xb_balance_pick(open, 4, 2), 3);
}

static void test_balance_degenerate_input(void **state)
{
    uint64_t open[1] = {7};
    (void)state;
    assert_int_equal(xb_balance_pick(open, 1, 0), 0);
    assert_int_equal(xb_balance_pick(open, 0, 0), 0);
    assert_int_equal(xb_balance_pick(open, 1, 3), 3);
}

/* The kernel's hash put all eight connections on one worker: they end up 4 and 4. */
static void test_balance_lopsided_accepts_even_out(void **state)
{
    uint64_t open[2] = {0, 0};
    (void)state;
    for (int i = 0; i < 8; i++)
        accept_one(open, 2, 1);
    assert_int_equal(open[0], 4);
    assert_int_equal(open[1], 4);
}

/* Any accepting order without closes keeps every worker within one of the others. */
static void test_balance_any_order_within_one(void **state)
{
    uint64_t open[5] = {0};
    (void)state;
    srand(12345);
    for (int i = 0; i < 1000; i++) {
        accept_one(open, 5, (unsigned)rand() % 5);
        assert_true(spread(open, 5) <= 1);
    }
}

/* Connections closing on one worker send the next new ones there until it caught up. */
static void test_balance_closes_refill_the_emptied_worker(void **state)
{
    uint64_t open[3] = {4, 4, 4};
    (void)state;
    open[1] -= 3; /* three of worker 1's connections closed */
    assert_int_equal(accept_one(open, 3, 0), 1);
    assert_int_equal(accept_one(open, 3, 2), 1);
    assert_int_equal(accept_one(open, 3, 0), 1);
    assert_int_equal(spread(open, 3), 0);
    /* balanced again: the accepting worker keeps the next one */
    assert_int_equal(accept_one(open, 3, 2), 2);
    open[0] = 0; /* every connection of worker 0 closed */
    open[2] = 4;
    for (int i = 0; i < 4; i++)
        assert_int_equal(accept_one(open, 3, (unsigned)i % 3), 0);
    assert_int_equal(spread(open, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balance_fewest_wins),
        cmocka_unit_test(test_balance_tie_keeps_self),
        cmocka_unit_test(test_balance_tie_elsewhere_goes_round),
        cmocka_unit_test(test_balance_degenerate_input),
        cmocka_unit_test(test_balance_lopsided_accepts_even_out),
        cmocka_unit_test(test_balance_any_order_within_one),
        cmocka_unit_test(test_balance_closes_refill_the_emptied_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
