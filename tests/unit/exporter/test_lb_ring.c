/*
 * tests/unit/exporter/test_lb_ring.c - exporter/lb_ring.c: deterministic picks, an even
 * spread, and about 1/N of the traces moving when one of N endpoints is added or removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/export_policy.h"
#include "exporter/lb_ring.h"

#define TRACES 20000

static const char *const EPS[] = {"gw-0:4317", "gw-1:4317", "gw-2:4317", "gw-3:4317", "gw-4:4317"};

static void trace_id(struct xb_rng *rng, uint8_t id[16])
{
    uint64_t a = xb_rng_next(rng), b = xb_rng_next(rng);
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}

static void test_empty_ring(void **state)
{
    struct xb_lb_ring r = {0};
    uint8_t id[16] = {1};
    (void)state;
    assert_int_equal(xb_lb_ring_pick(&r, id), -1);
    assert_int_equal(xb_lb_ring_build(&r, EPS, (const int[]){0, 0}, 2), 0);
    assert_int_equal(xb_lb_ring_pick(&r, id), -1);
    xb_lb_ring_cleanup(&r);
}

static void test_deterministic_and_even(void **state)
{
    struct xb_lb_ring a = {0}, b = {0};
    struct xb_rng rng;
    size_t count[4] = {0};
    (void)state;
    assert_int_equal(xb_lb_ring_build(&a, EPS, NULL, 4), 0);
    assert_int_equal(xb_lb_ring_build(&b, EPS, NULL, 4), 0);
    xb_rng_seed_fixed(&rng, 7);
    for (int i = 0; i < TRACES; i++) {
        uint8_t id[16];
        int p;
        trace_id(&rng, id);
        p = xb_lb_ring_pick(&a, id);
        assert_true(p >= 0 && p < 4);
        assert_int_equal(p, xb_lb_ring_pick(&b, id)); /* another agent agrees */
        count[p]++;
    }
    for (int e = 0; e < 4; e++) /* each within 25% +- 7 points */
        assert_true(count[e] > TRACES * 18 / 100 && count[e] < TRACES * 32 / 100);
    xb_lb_ring_cleanup(&a);
    xb_lb_ring_cleanup(&b);
}

/* Share of traces whose owner differs between two rings (ids from one seed). */
static double moved(const struct xb_lb_ring *x, const struct xb_lb_ring *y, int *only_to_or_from,
                    int special)
{
    struct xb_rng rng;
    size_t n = 0;
    xb_rng_seed_fixed(&rng, 11);
    *only_to_or_from = 1;
    for (int i = 0; i < TRACES; i++) {
        uint8_t id[16];
        int p, q;
        trace_id(&rng, id);
        p = xb_lb_ring_pick(x, id);
        q = xb_lb_ring_pick(y, id);
        if (p != q) {
            n++;
            if (p != special && q != special)
                *only_to_or_from = 0; /* a move between two unchanged endpoints */
        }
    }
    return (double)n / TRACES;
}

static void test_adding_one_of_n_moves_about_one_nth(void **state)
{
    struct xb_lb_ring four = {0}, five = {0};
    int clean;
    double m;
    (void)state;
    xb_lb_ring_build(&four, EPS, NULL, 4);
    xb_lb_ring_build(&five, EPS, NULL, 5);
    m = moved(&four, &five, &clean, 4);
    print_message("adding the 5th endpoint moved %.3f of the traces\n", m);
    assert_true(m > 0.20 * 0.7 && m < 0.20 * 1.3); /* 1/5, +-30% */
    assert_true(clean);                            /* only onto the new endpoint */
    xb_lb_ring_cleanup(&four);
    xb_lb_ring_cleanup(&five);
}

static void test_removing_one_of_n_moves_about_one_nth(void **state)
{
    struct xb_lb_ring all = {0}, less = {0};
    int up[5] = {1, 1, 0, 1, 1};
    int clean;
    double m;
    (void)state;
    xb_lb_ring_build(&all, EPS, NULL, 5);
    xb_lb_ring_build(&less, EPS, up, 5);
    m = moved(&all, &less, &clean, 2);
    print_message("removing endpoint 2 of 5 moved %.3f of the traces\n", m);
    assert_true(m > 0.20 * 0.7 && m < 0.20 * 1.3);
    assert_true(clean); /* only the removed endpoint's traces moved */
    xb_lb_ring_cleanup(&all);
    xb_lb_ring_cleanup(&less);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_ring),
        cmocka_unit_test(test_deterministic_and_even),
        cmocka_unit_test(test_adding_one_of_n_moves_about_one_nth),
        cmocka_unit_test(test_removing_one_of_n_moves_about_one_nth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
