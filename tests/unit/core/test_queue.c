/* Unit tests for core/queue.c: caps, all-or-nothing admission, charging, order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/queue.h"

static struct xb_qdoc_list make_list(int n, size_t len)
{
    struct xb_qdoc_list l = {0};
    char buf[256];
    for (int i = 0; i < n; i++) {
        memset(buf, 'a' + i % 26, sizeof(buf));
        xb_qdoc_list_add(&l, xb_qdoc_new(buf, len));
    }
    return l;
}

static int ready_calls;
static void on_ready(void *ud)
{
    (void)ud;
    ready_calls++;
}

static void test_queue_fifo_and_charging(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(3, 10);
    struct xb_qdoc *d;
    ready_calls = 0;
    xb_queue_set_ready_cb(q, on_ready, NULL);
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(ready_calls, 1);
    assert_int_equal(xb_queue_waiting(q), 3);
    d = xb_queue_pop(q);
    assert_int_equal(d->json[0], 'a');
    assert_int_equal(xb_queue_waiting(q), 2);
    assert_int_equal(xb_queue_charged_docs(q), 3); /* popped docs stay charged */
    assert_int_equal(xb_queue_charged_bytes(q), 30);
    xb_queue_requeue(q, d);
    d = xb_queue_pop(q);
    assert_int_equal(d->json[0], 'a'); /* requeue puts it back at the head */
    xb_queue_done(q, d);
    assert_int_equal(xb_queue_charged_docs(q), 2);
    d = xb_queue_pop(q);
    assert_int_equal(d->json[0], 'b');
    xb_queue_done(q, d);
    assert_int_equal(xb_queue_charged_docs(q), 1);
    xb_queue_free(q); /* frees the document still waiting */
}

static void test_queue_byte_cap_is_all_or_nothing(void **state)
{
    struct xb_queue *q = xb_queue_new(100, 0);
    struct xb_qdoc_list a = make_list(5, 15);  /* 75 bytes */
    struct xb_qdoc_list b = make_list(2, 15);  /* 30 bytes: would exceed 100 */
    assert_int_equal(xb_queue_push_list(q, &a), XB_OK);
    assert_int_equal(xb_queue_push_list(q, &b), XB_ERR_FULL);
    assert_int_equal(b.n, 2); /* refused list is untouched, still the caller's */
    assert_int_equal(xb_queue_waiting(q), 5);
    assert_false(xb_queue_has_room(q, 2, 30));
    assert_true(xb_queue_has_room(q, 1, 25));
    xb_qdoc_list_clear(&b);
    xb_queue_free(q);
}

static void test_queue_doc_cap(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 4);
    struct xb_qdoc_list a = make_list(4, 1);
    struct xb_qdoc_list b = make_list(1, 1);
    assert_int_equal(xb_queue_push_list(q, &a), XB_OK);
    assert_int_equal(xb_queue_push_list(q, &b), XB_ERR_FULL);
    /* Finishing a document frees room. */
    xb_queue_done(q, xb_queue_pop(q));
    assert_int_equal(xb_queue_push_list(q, &b), XB_OK);
    xb_queue_free(q);
}

static void test_queue_inflight_counts_against_cap(void **state)
{
    struct xb_queue *q = xb_queue_new(20, 0);
    struct xb_qdoc_list a = make_list(2, 10);
    struct xb_qdoc_list b = make_list(1, 10);
    struct xb_qdoc *d1, *d2;
    assert_int_equal(xb_queue_push_list(q, &a), XB_OK);
    d1 = xb_queue_pop(q);
    d2 = xb_queue_pop(q);
    assert_int_equal(xb_queue_waiting(q), 0);
    /* Being sent is still held in memory: no room yet. */
    assert_int_equal(xb_queue_push_list(q, &b), XB_ERR_FULL);
    xb_queue_done(q, d1);
    xb_queue_done(q, d2);
    assert_int_equal(xb_queue_push_list(q, &b), XB_OK);
    xb_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_fifo_and_charging),
        cmocka_unit_test(test_queue_byte_cap_is_all_or_nothing),
        cmocka_unit_test(test_queue_doc_cap),
        cmocka_unit_test(test_queue_inflight_counts_against_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
