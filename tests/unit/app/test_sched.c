/*
 * tests/unit/app/test_sched.c - service.sched_batch: the policy chosen, its name, and
 * that applying it changes the calling thread's policy and what new threads inherit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "app/sched.h"

static void test_policy(void **state)
{
    (void)state;
    assert_int_equal(xb_sched_policy(1), SCHED_BATCH);
    assert_int_equal(xb_sched_policy(0), SCHED_OTHER);
    assert_string_equal(xb_sched_policy_name(SCHED_BATCH), "SCHED_BATCH");
    assert_string_equal(xb_sched_policy_name(SCHED_OTHER), "SCHED_OTHER");
    assert_string_equal(xb_sched_policy_name(SCHED_FIFO), "other policy");
}

static void *child_policy(void *out)
{
    *(int *)out = sched_getscheduler(0);
    return NULL;
}

/* The policy of a thread created now by the calling thread. */
static int new_thread_policy(void)
{
    pthread_t t;
    int policy = -1;

    assert_int_equal(pthread_create(&t, NULL, child_policy, &policy), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return policy;
}

static void test_apply_and_inherit(void **state)
{
    (void)state;
    /* Switching between SCHED_OTHER and SCHED_BATCH needs no privilege (sched(7)). */
    assert_int_equal(xb_sched_apply(1), 0);
    assert_int_equal(sched_getscheduler(0), SCHED_BATCH);
    assert_int_equal(new_thread_policy(), SCHED_BATCH);
    assert_int_equal(xb_sched_apply(0), 0);
    assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
    assert_int_equal(new_thread_policy(), SCHED_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_apply_and_inherit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
