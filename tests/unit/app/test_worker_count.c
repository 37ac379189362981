/* app/worker_count.c: the default number of ingest workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "app/worker_count.h"

static void test_worker_count_uses_affinity_without_quota(void **state)
{
    (void)state;
    assert_int_equal(xb_worker_count(0, 8, NULL, NULL, NULL), 8);
    assert_int_equal(xb_worker_count(0, 8, "max 100000\n", NULL, NULL), 8);
    assert_int_equal(xb_worker_count(0, 8, NULL, "-1\n", "100000\n"), 8);
}

static void test_worker_count_cgroup_v2_quota_rounds_up(void **state)
{
    (void)state;
    assert_int_equal(xb_worker_count(0, 8, "200000 100000\n", NULL, NULL), 2);
    assert_int_equal(xb_worker_count(0, 8, "150000 100000\n", NULL, NULL), 2);
    assert_int_equal(xb_worker_count(0, 8, "50000 100000\n", NULL, NULL), 1);
    /* a quota above the affinity mask does not add threads */
    assert_int_equal(xb_worker_count(0, 2, "800000 100000\n", NULL, NULL), 2);
}

static void test_worker_count_cgroup_v1_quota(void **state)
{
    (void)state;
    assert_int_equal(xb_worker_count(0, 16, NULL, "300000\n", "100000\n"), 3);
    assert_int_equal(xb_worker_count(0, 16, NULL, "250000", "100000"), 3);
    /* v2 wins when both are given */
    assert_int_equal(xb_worker_count(0, 16, "100000 100000", "300000", "100000"), 1);
}

static void test_worker_count_ignores_garbage(void **state)
{
    (void)state;
    assert_int_equal(xb_worker_count(0, 4, "", NULL, NULL), 4);
    assert_int_equal(xb_worker_count(0, 4, "abc def", NULL, NULL), 4);
    assert_int_equal(xb_worker_count(0, 4, "0 100000", NULL, NULL), 4);
    assert_int_equal(xb_worker_count(0, 4, "100000 0", NULL, NULL), 4);
    assert_int_equal(xb_worker_count(0, 4, "100000", NULL, NULL), 4);
    assert_int_equal(xb_worker_count(0, 4, NULL, "x", "100000"), 4);
    assert_int_equal(xb_worker_count(0, 4, NULL, "100000", NULL), 4);
}

static void test_worker_count_bounds(void **state)
{
    (void)state;
    assert_int_equal(xb_worker_count(0, 0, NULL, NULL, NULL), 1);
    assert_int_equal(xb_worker_count(0, 512, NULL, NULL, NULL), XB_WORKERS_MAX);
    assert_int_equal(xb_worker_count(0, 512, "9000000 100000", NULL, NULL), XB_WORKERS_MAX);
}

static void test_worker_count_configured_wins(void **state)
{
    (void)state;
    assert_int_equal(xb_worker_count(1, 8, "400000 100000", NULL, NULL), 1);
    assert_int_equal(xb_worker_count(6, 2, "100000 100000", NULL, NULL), 6);
    assert_int_equal(xb_worker_count(1000, 2, NULL, NULL, NULL), XB_WORKERS_MAX);
    assert_true(xb_worker_count_detect(3) == 3);
    assert_true(xb_worker_count_detect(0) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_count_uses_affinity_without_quota),
        cmocka_unit_test(test_worker_count_cgroup_v2_quota_rounds_up),
        cmocka_unit_test(test_worker_count_cgroup_v1_quota),
        cmocka_unit_test(test_worker_count_ignores_garbage),
        cmocka_unit_test(test_worker_count_bounds),
        cmocka_unit_test(test_worker_count_configured_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
