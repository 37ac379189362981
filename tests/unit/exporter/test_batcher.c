/* Unit tests for exporter/batcher.c: when to send (xb_batcher_step), and that the
 * batcher carries the decision out on a real libevent loop without ever flushing
 * inside a queue push. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "aws/curl_loop.h" /* XB_LOOP_PRIORITIES, XB_LOOP_PRIO_SEND */
#include "core/err.h"
#include "core/queue.h"
#include "exporter/batcher.h"

/* ---- the decision ------------------------------------------------------------ */

static void test_step_idle_when_empty(void **state)
{
    (void)state;
    assert_int_equal(xb_batcher_step(0, 10, 200, 0), XB_BATCH_IDLE);
    assert_int_equal(xb_batcher_step(0, 10, 200, 1), XB_BATCH_IDLE);
    assert_int_equal(xb_batcher_step(0, 10, 0, 0), XB_BATCH_IDLE);
}

static void test_step_full_batch_flushes_now(void **state)
{
    (void)state;
    assert_int_equal(xb_batcher_step(10, 10, 200, 0), XB_BATCH_FLUSH_NOW);
    assert_int_equal(xb_batcher_step(11, 10, 200, 0), XB_BATCH_FLUSH_NOW);
    assert_int_equal(xb_batcher_step(9, 10, 200, 0), XB_BATCH_WAIT);
    /* max_docs 0 counts as 1: any document is a full batch */
    assert_int_equal(xb_batcher_step(1, 0, 200, 0), XB_BATCH_FLUSH_NOW);
}

static void test_step_partial_batch_waits_unless_draining_or_no_timeout(void **state)
{
    (void)state;
    assert_int_equal(xb_batcher_step(1, 50, 200, 0), XB_BATCH_WAIT);
    assert_int_equal(xb_batcher_step(1, 50, 200, 1), XB_BATCH_FLUSH_NOW);
    assert_int_equal(xb_batcher_step(1, 50, 0, 0), XB_BATCH_FLUSH_NOW);
}

/* ---- on a loop ---------------------------------------------------------------- */

struct fixture {
    struct event_base *base;
    struct xb_queue *q;
    struct xb_batcher b;
    int flushes;
    size_t sent; /* documents taken by the flush callback */
};

/* Takes up to one batch, as an exporter does. */
static void on_flush(void *ud)
{
    struct fixture *f = ud;
    struct xb_qdoc *d;
    uint32_t n = 0;

    f->flushes++;
    while (n < f->b.max_docs && (d = xb_queue_pop(f->q)) != NULL) {
        xb_queue_done(f->q, d);
        f->sent++;
        n++;
    }
}

static int setup(void **state)
{
    static struct fixture f;

    memset(&f, 0, sizeof(f));
    f.base = event_base_new();
    f.q = xb_queue_new(0, 0);
    if (!f.base || !f.q)
        return -1;
    if (xb_batcher_init(&f.b, f.base, f.q, 3, 60000, on_flush, &f) != XB_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xb_batcher_cleanup(&f->b);
    xb_queue_free(f->q);
    event_base_free(f->base);
    return 0;
}

static void push(struct fixture *f, size_t n)
{
    struct xb_qdoc_list l = {0};

    for (size_t i = 0; i < n; i++) {
        struct xb_qdoc *d = xb_qdoc_new("{}", 2);
        assert_non_null(d);
        xb_qdoc_list_add(&l, d);
    }
    assert_int_equal(xb_queue_push_list(f->q, &l), XB_OK);
}

static void run_ready(struct fixture *f)
{
    event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void test_full_batch_flushes_from_the_loop_not_the_push(void **state)
{
    struct fixture *f = *state;

    push(f, 3);
    assert_int_equal(f->flushes, 0); /* never inside the push */
    run_ready(f);
    assert_int_equal(f->flushes, 1);
    assert_int_equal(f->sent, 3);
    assert_int_equal(xb_queue_waiting(f->q), 0);
}

/* A receiver's event on the main loop, active again after each run (a client that
 * always has another request), up to 4 runs; |order| records who ran when. */
struct busy {
    struct event *ev;
    int runs;
};

static char order[16];

static void on_busy(evutil_socket_t fd, short what, void *ud)
{
    struct busy *b = ud;

    (void)fd;
    (void)what;
    strcat(order, "R");
    if (++b->runs < 4)
        event_active(b->ev, EV_TIMEOUT, 0);
}

static void on_flush_ordered(void *ud)
{
    strcat(order, "F");
    on_flush(ud);
}

/* On a loop with XB_LOOP_PRIORITIES queues (the main loop, app/app.c), a full batch is
 * sent before a busy receiver reads more, though the receiver's event became active
 * first; with one queue it would run first (activation order). aws/curl_loop.h. */
static void test_flush_runs_before_a_busy_receiver(void **state)
{
    struct fixture f;
    struct busy r = {0};

    (void)state;
    memset(&f, 0, sizeof(f));
    memset(order, 0, sizeof(order));
    f.base = event_base_new();
    assert_non_null(f.base);
    assert_int_equal(event_base_priority_init(f.base, XB_LOOP_PRIORITIES), 0);
    f.q = xb_queue_new(0, 0);
    assert_non_null(f.q);
    assert_int_equal(xb_batcher_init(&f.b, f.base, f.q, 3, 60000, on_flush_ordered, &f), XB_OK);
    r.ev = event_new(f.base, -1, 0, on_busy, &r);
    assert_non_null(r.ev);
    assert_true(event_get_priority(r.ev) > XB_LOOP_PRIO_SEND); /* the default */
    event_active(r.ev, EV_TIMEOUT, 0);                         /* the receiver first */
    push(&f, 3);
    event_base_loop(f.base, EVLOOP_NONBLOCK);
    assert_string_equal(order, "FRRRR");
    assert_int_equal(f.sent, 3);
    event_free(r.ev);
    xb_batcher_cleanup(&f.b);
    xb_queue_free(f.q);
    event_base_free(f.base);
}

static void test_partial_batch_waits_for_timer_then_drain_flushes(void **state)
{
    struct fixture *f = *state;

    push(f, 1);
    run_ready(f);
    assert_int_equal(f->flushes, 0);
    assert_true(evtimer_pending(f->b.timer_ev, NULL)); /* the 60 s partial-batch timer */
    xb_batcher_drain(&f->b);
    run_ready(f);
    assert_int_equal(f->flushes, 1);
    assert_int_equal(f->sent, 1);
    /* While draining, a partial batch goes at once. */
    push(f, 1);
    run_ready(f);
    assert_int_equal(f->flushes, 2);
    assert_int_equal(f->sent, 2);
}

static void test_kick_after_schedules_a_flush(void **state)
{
    struct fixture *f = *state;
    struct timeval left;

    xb_batcher_kick_after(&f->b, 1);
    assert_true(evtimer_pending(f->b.timer_ev, &left));
    /* Bounded wait: the 1 ms timer fires within a few loop passes. */
    for (int i = 0; i < 1000 && f->flushes == 0; i++)
        event_base_loop(f->base, EVLOOP_ONCE);
    assert_int_equal(f->flushes, 1);
    assert_int_equal(f->sent, 0); /* nothing was waiting */
    xb_batcher_kick(&f->b);       /* empty queue: nothing scheduled */
    assert_false(evtimer_pending(f->b.timer_ev, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_idle_when_empty),
        cmocka_unit_test(test_flush_runs_before_a_busy_receiver),
        cmocka_unit_test(test_step_full_batch_flushes_now),
        cmocka_unit_test(test_step_partial_batch_waits_unless_draining_or_no_timeout),
        cmocka_unit_test_setup_teardown(test_full_batch_flushes_from_the_loop_not_the_push, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_partial_batch_waits_for_timer_then_drain_flushes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_kick_after_schedules_a_flush, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
