/* Unit tests for core/queue.c: caps, all-or-nothing admission, charging, order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include <pthread.h>
#include <sched.h>

#include "core/err.h"
#include "core/queue.h"

/* What one document of |len| JSON bytes is charged: its whole allocation. */
#define CHARGE(len) (sizeof(struct xb_qdoc) + (len) + 1)

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
    assert_int_equal(xb_queue_charged_bytes(q), 3 * CHARGE(10));
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

/* xb_queue_pop_n: queue order, at most |max|, charges kept. */
static void test_queue_pop_n(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(5, 10);
    struct xb_qdoc *got[8];

    (void)state;
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(xb_queue_pop_n(q, got, 3), 3);
    assert_int_equal(got[0]->json[0], 'a');
    assert_int_equal(got[1]->json[0], 'b');
    assert_int_equal(got[2]->json[0], 'c');
    assert_int_equal(xb_queue_waiting(q), 2);
    assert_int_equal(xb_queue_charged_docs(q), 5);
    xb_queue_requeue(q, got[2]); /* back at the head, in front of 'd' */
    xb_queue_done(q, got[0]);
    xb_queue_done(q, got[1]);
    assert_int_equal(xb_queue_pop_n(q, got, 8), 3); /* fewer than asked: all there is */
    assert_int_equal(got[0]->json[0], 'c');
    assert_int_equal(got[1]->json[0], 'd');
    assert_int_equal(got[2]->json[0], 'e');
    assert_int_equal(xb_queue_pop_n(q, got + 3, 8), 0);
    xb_queue_done(q, got[0]);
    assert_int_equal(xb_queue_charged_docs(q), 2);
    xb_queue_done_n(q, got, 0); /* nothing */
    assert_int_equal(xb_queue_charged_docs(q), 2);
    assert_int_equal(xb_queue_charged_bytes(q), 2 * CHARGE(10));
    xb_queue_done_n(q, got + 1, 2); /* uncharged and freed together */
    assert_int_equal(xb_queue_charged_docs(q), 0);
    assert_int_equal(xb_queue_charged_bytes(q), 0);
    xb_queue_free(q);
}

/* Each pushed document's prefetch hint is the document XB_QDOC_AHEAD places behind it;
 * the last XB_QDOC_AHEAD have none, and a requeued document loses its own. */
static void test_queue_push_sets_ahead(void **state)
{
    enum { N = XB_QDOC_AHEAD + 5 };
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(N, 10), s = make_list(XB_QDOC_AHEAD - 1, 10);
    struct xb_qdoc *docs[N], *got[N], *d;
    size_t i = 0;

    (void)state;
    for (d = l.head; d; d = d->next)
        docs[i++] = d;
    docs[N - 1]->ahead = docs[0]; /* a stale hint is replaced */
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    for (i = 0; i < N; i++)
        assert_ptr_equal(docs[i]->ahead, i + XB_QDOC_AHEAD < N ? docs[i + XB_QDOC_AHEAD] : NULL);
    for (d = s.head; d; d = d->next)
        d->ahead = d; /* a list shorter than XB_QDOC_AHEAD gets no hints at all */
    assert_int_equal(xb_queue_push_list(q, &s), XB_OK);
    for (d = docs[N - 1]->next; d; d = d->next)
        assert_null(d->ahead);
    assert_int_equal(xb_queue_pop_n(q, got, N), N);
    for (i = 0; i < N; i++)
        assert_ptr_equal(got[i], docs[i]); /* the hints change nothing about the order */
    assert_ptr_equal(xb_queue_requeue(q, got[0]), got[0]);
    assert_null(got[0]->ahead);
    xb_queue_done_n(q, got + 1, N - 1);
    xb_queue_free(q);
}

static void test_queue_byte_cap_is_all_or_nothing(void **state)
{
    struct xb_queue *q = xb_queue_new(6 * CHARGE(15), 0);
    struct xb_qdoc_list a = make_list(5, 15); /* 5 of the 6 documents' worth */
    struct xb_qdoc_list b = make_list(2, 15); /* 2 more would exceed the cap */
    assert_int_equal(xb_queue_push_list(q, &a), XB_OK);
    assert_int_equal(xb_queue_push_list(q, &b), XB_ERR_FULL);
    assert_int_equal(b.n, 2); /* refused list is untouched, still the caller's */
    assert_int_equal(xb_queue_waiting(q), 5);
    assert_false(xb_queue_has_room(q, 2, 2 * CHARGE(15)));
    assert_true(xb_queue_has_room(q, 1, CHARGE(15)));
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
    struct xb_queue *q = xb_queue_new(2 * CHARGE(10), 0);
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

/* The byte cap counts each document's header, not only its JSON: many tiny documents
 * cannot hold more memory than max_bytes says. */
static void test_queue_charges_per_document_overhead(void **state)
{
    struct xb_queue *q = xb_queue_new(1000, 0);
    struct xb_qdoc_list l = make_list(1, 2);
    size_t fit = 1000 / CHARGE(2), pushed = 0;

    assert_true(sizeof(struct xb_qdoc) >= 48); /* the overhead is real, not rounding */
    assert_int_equal(l.bytes, CHARGE(2));
    assert_int_equal(xb_qdoc_charge(l.head), CHARGE(2));
    xb_qdoc_list_clear(&l);
    /* 2-byte documents: counting JSON bytes alone would admit 500 of them. */
    for (;;) {
        struct xb_qdoc_list one = make_list(1, 2);
        if (xb_queue_push_list(q, &one) != XB_OK) {
            xb_qdoc_list_clear(&one);
            break;
        }
        pushed++;
    }
    assert_int_equal(pushed, fit);
    assert_true(xb_queue_charged_bytes(q) <= 1000);
    assert_int_equal(xb_queue_charged_bytes(q), fit * CHARGE(2));
    /* Popping and requeueing keep the charge; done gives the whole charge back. */
    {
        struct xb_qdoc *d = xb_queue_pop(q);
        xb_queue_requeue(q, d);
        assert_int_equal(xb_queue_charged_bytes(q), fit * CHARGE(2));
        xb_queue_done(q, xb_queue_pop(q));
        assert_int_equal(xb_queue_charged_bytes(q), (fit - 1) * CHARGE(2));
    }
    xb_queue_free(q);
}

/* The document's identity travels with it, and copies keep it. */
static void test_qdoc_identity(void **state)
{
    const char *tid = "1-5759e988-bd862e3fe1be46a994272793";
    struct xb_qdoc *d = xb_qdoc_new_ids("{}", 2, tid, "53995c3f42cd8ad8");
    struct xb_qdoc *c;
    char long_id[64];

    assert_non_null(d);
    assert_string_equal(d->trace_id, tid);
    assert_string_equal(d->id, "53995c3f42cd8ad8");
    c = xb_qdoc_dup(d);
    assert_non_null(c);
    assert_string_equal(c->trace_id, tid);
    assert_string_equal(c->id, "53995c3f42cd8ad8");
    assert_string_equal(c->json, "{}");
    xb_qdoc_free(c);
    xb_qdoc_free(d);

    /* Unknown or over-long identities are stored empty, never truncated. */
    memset(long_id, 'f', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    d = xb_qdoc_new_ids("{}", 2, long_id, NULL);
    assert_string_equal(d->trace_id, "");
    assert_string_equal(d->id, "");
    xb_qdoc_free(d);
    d = xb_qdoc_new("{}", 2);
    assert_string_equal(d->id, "");
    xb_qdoc_free(d);
}

/* Remote wake-up: pushes from another thread (an ingest worker admitting directly). */
static int wake_calls;
static void on_wake(void *ud)
{
    (void)ud;
    __atomic_fetch_add(&wake_calls, 1, __ATOMIC_RELAXED);
}

struct pusher {
    struct xb_queue *q;
    int n;  /* lists of one document to push */
    int rc; /* first failure, or XB_OK */
};

static void *push_from_thread(void *arg)
{
    struct pusher *p = arg;
    p->rc = XB_OK;
    for (int i = 0; i < p->n && p->rc == XB_OK; i++) {
        struct xb_qdoc_list l = make_list(1, 10);
        p->rc = xb_queue_push_list(p->q, &l);
    }
    return NULL;
}

static void push_elsewhere(struct xb_queue *q, int n)
{
    struct pusher p = {.q = q, .n = n};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_from_thread, &p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(p.rc, XB_OK);
}

static void test_queue_remote_wake(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l;
    (void)state;

    ready_calls = 0;
    wake_calls = 0;
    xb_queue_set_ready_cb(q, on_ready, NULL); /* this thread is the consumer's */
    assert_false(xb_queue_remote_push_ok(q)); /* a push elsewhere could not reach it */
    xb_queue_set_remote_wake(q, on_wake, NULL);
    assert_true(xb_queue_remote_push_ok(q));

    /* Three pushes from another thread: one wake-up, no ready callback there. */
    push_elsewhere(q, 3);
    assert_int_equal(wake_calls, 1);
    assert_int_equal(ready_calls, 0);
    assert_int_equal(xb_queue_waiting(q), 3);

    /* The consumer runs the ready callback once for all of them, then not again. */
    xb_queue_run_remote_ready(q);
    assert_int_equal(ready_calls, 1);
    xb_queue_run_remote_ready(q);
    assert_int_equal(ready_calls, 1);

    /* After that the next remote push wakes again. */
    push_elsewhere(q, 1);
    assert_int_equal(wake_calls, 2);

    /* A push on the consumer's own thread still runs the callback inside the push. */
    l = make_list(1, 10);
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(ready_calls, 2);
    assert_int_equal(wake_calls, 2);
    xb_queue_run_remote_ready(q); /* the pending remote one */
    assert_int_equal(ready_calls, 3);

    /* Without a wake-up a queue with no consumer callback takes remote pushes too. */
    xb_queue_set_remote_wake(q, NULL, NULL);
    xb_queue_set_ready_cb(q, NULL, NULL);
    assert_true(xb_queue_remote_push_ok(q));
    push_elsewhere(q, 1);
    assert_int_equal(wake_calls, 2);
    assert_int_equal(xb_queue_waiting(q), 6);
    xb_queue_free(q);
}

static void test_queue_remote_push_wakes_decision(void **state)
{
    (void)state;
    /* every push without a batch size */
    assert_true(xb_queue_remote_push_wakes(0, 1, 0));
    assert_true(xb_queue_remote_push_wakes(7, 8, 0));
    assert_true(xb_queue_remote_push_wakes(7, 8, 1));
    /* batches of 50: from empty, and when a batch fills */
    assert_true(xb_queue_remote_push_wakes(0, 10, 50));
    assert_false(xb_queue_remote_push_wakes(10, 20, 50));
    assert_false(xb_queue_remote_push_wakes(40, 49, 50));
    assert_true(xb_queue_remote_push_wakes(40, 50, 50));
    assert_true(xb_queue_remote_push_wakes(49, 120, 50));
    /* already full: the consumer was woken when it filled and is sending */
    assert_false(xb_queue_remote_push_wakes(50, 60, 50));
    assert_false(xb_queue_remote_push_wakes(500, 600, 50));
}

static void test_queue_remote_wake_per_batch(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    (void)state;

    ready_calls = 0;
    wake_calls = 0;
    xb_queue_set_ready_cb(q, on_ready, NULL);
    xb_queue_set_remote_wake(q, on_wake, NULL);
    xb_queue_set_ready_min(q, 3);
    push_elsewhere(q, 1); /* from empty */
    assert_int_equal(wake_calls, 1);
    xb_queue_run_remote_ready(q);
    push_elsewhere(q, 1); /* 1 -> 2: the consumer's timer covers it */
    assert_int_equal(wake_calls, 1);
    push_elsewhere(q, 1); /* 2 -> 3: a batch is full */
    assert_int_equal(wake_calls, 2);
    xb_queue_run_remote_ready(q);
    push_elsewhere(q, 1); /* 3 -> 4: still full, the consumer is on it */
    assert_int_equal(wake_calls, 2);
    assert_int_equal(ready_calls, 2);
    xb_queue_set_remote_wake(q, NULL, NULL);
    xb_queue_set_ready_cb(q, NULL, NULL);
    xb_queue_free(q);
}

/* The pure room decision answers like has_room() on the same counters. */
static void test_queue_room_of_matches_has_room(void **state)
{
    const size_t caps[] = {0, 1, 3, 10};
    (void)state;
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++)
            for (size_t held = 0; held <= 4; held++) {
                struct xb_queue *q = xb_queue_new(caps[b] * CHARGE(1), caps[a]);
                struct xb_qdoc_list l = make_list((int)held, 1);
                int pushed = xb_queue_push_list(q, &l) == XB_OK;
                struct xb_queue_room r = {0};
                for (size_t docs = 0; docs <= 12; docs++) {
                    size_t bytes = docs * CHARGE(1);
                    assert_int_equal(xb_queue_room_check(q, &r, docs, bytes),
                                     xb_queue_has_room(q, docs, bytes));
                }
                if (!pushed)
                    xb_qdoc_list_clear(&l);
                xb_queue_free(q);
            }
    {
        struct xb_queue_room r = xb_queue_room_of(0, 0, 5, 500);
        assert_true(xb_queue_room_fits(&r, SIZE_MAX, SIZE_MAX));
        r = xb_queue_room_of(4, 100, 6, 150); /* over both caps (e.g. after a requeue) */
        assert_int_equal(r.docs, 0);
        assert_int_equal(r.bytes, 0);
        assert_false(xb_queue_room_fits(&r, 1, 1));
        assert_true(xb_queue_room_fits(&r, 0, 0));
    }
}

/* The snapshot is taken once; "no room" is re-decided on fresh counters. */
static void test_queue_room_check_refreshes_on_refusal(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 4);
    struct xb_qdoc_list a = make_list(4, 1);
    struct xb_qdoc_list b = make_list(1, 1);
    struct xb_queue_room r = {0};
    (void)state;

    assert_true(xb_queue_room_check(q, &r, 4, 4 * CHARGE(1)));
    assert_int_equal(r.docs, 4);
    assert_int_equal(xb_queue_push_list(q, &a), XB_OK);
    /* Stale "room": the snapshot still says 4 fit; admission decides under the lock. */
    assert_true(xb_queue_room_check(q, &r, 1, CHARGE(1)));
    assert_int_equal(xb_queue_push_list(q, &b), XB_ERR_FULL);
    /* Past the snapshot: refreshed, and the refusal is the queue's real state. */
    assert_false(xb_queue_room_check(q, &r, 5, 5 * CHARGE(1)));
    assert_int_equal(r.docs, 0);
    /* Once room frees, the next refusal-looking check refreshes and admits. */
    xb_queue_done(q, xb_queue_pop(q));
    assert_true(xb_queue_room_check(q, &r, 1, CHARGE(1)));
    assert_int_equal(r.docs, 1);
    assert_int_equal(xb_queue_push_list(q, &b), XB_OK);
    xb_queue_free(q);
}

/* ---- pausing producers (xb_queue_pace, core/pace.h) ---- */

#define MS 1000000u

/* Pops |q| in steps of 50 once a producer is paused, until at most |low| wait. */
struct popper {
    struct xb_queue *q;
    size_t low;
    int saw_pause; /* a producer was paused when it started popping */
};

static void *pop_when_paused(void *arg)
{
    struct popper *p = arg;
    struct xb_qdoc *got[50];

    /* Bounded: the producer pauses within its first step, or the test fails below. */
    for (long i = 0; i < 200000000L && !xb_queue_paused_producers(p->q); i++)
        sched_yield();
    p->saw_pause = xb_queue_paused_producers(p->q) == 1;
    while (xb_queue_waiting(p->q) > p->low) {
        size_t n = xb_queue_pop_n(p->q, got, 50);
        xb_queue_done_n(p->q, got, n);
    }
    return NULL;
}

static void test_queue_pace_until_drained(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(600, 4);
    /* generous bounds: only the pops can end this pause */
    struct xb_pace_limits lim = {
        .high = 512, .low = 256, .max_wait_ns = 60000u * MS, .stall_ns = 60000u * MS};
    struct popper p = {.q = q, .low = 256};
    uint64_t waited = 0;
    pthread_t t;

    (void)state;
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(pthread_create(&t, NULL, pop_when_paused, &p), 0);
    assert_int_equal(xb_queue_pace(q, &lim, &waited), XB_PACE_DRAINED);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(p.saw_pause);
    assert_true(waited > 0);
    assert_true(xb_queue_waiting(q) <= 256);
    assert_int_equal(xb_queue_paused_producers(q), 0);
    xb_queue_free(q);
}

static void test_queue_pace_not_backlogged(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(512, 4);
    struct xb_pace_limits lim = {
        .high = 512, .low = 256, .max_wait_ns = 60000u * MS, .stall_ns = 60000u * MS};
    uint64_t waited = 1;

    (void)state;
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(xb_queue_pace(q, &lim, &waited), XB_PACE_GO);
    assert_int_equal(waited, 0);
    assert_int_equal(xb_queue_pace(q, NULL, &waited), XB_PACE_GO);
    xb_queue_free(q);
}

/* Nobody pops: the pause ends after the stall window; the next producer does not pause
 * until something is popped. */
static void test_queue_pace_stalled_consumer(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(600, 4);
    struct xb_pace_limits lim = {
        .high = 512, .low = 256, .max_wait_ns = 60000u * MS, .stall_ns = 1 * MS};
    uint64_t waited = 0;

    (void)state;
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(xb_queue_pace(q, &lim, &waited), XB_PACE_STALLED);
    assert_true(waited >= 1 * MS);
    assert_int_equal(xb_queue_pace(q, &lim, &waited), XB_PACE_GO);
    assert_int_equal(waited, 0);
    xb_queue_done(q, xb_queue_pop(q)); /* progress: pausing is back on */
    assert_int_equal(xb_queue_pace(q, &lim, &waited), XB_PACE_STALLED);
    assert_true(waited >= 1 * MS);
    xb_queue_free(q);
}

/* A pause never lasts longer than max_wait_ns. */
static void test_queue_pace_timeout(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = make_list(600, 4);
    struct xb_pace_limits lim = {
        .high = 512, .low = 256, .max_wait_ns = 2 * MS, .stall_ns = 60000u * MS};
    uint64_t waited = 0;

    (void)state;
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(xb_queue_pace(q, &lim, &waited), XB_PACE_TIMEOUT);
    assert_true(waited >= 2 * MS);
    assert_int_equal(xb_queue_waiting(q), 600);
    xb_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_fifo_and_charging),
        cmocka_unit_test(test_queue_pop_n),
        cmocka_unit_test(test_queue_push_sets_ahead),
        cmocka_unit_test(test_queue_byte_cap_is_all_or_nothing),
        cmocka_unit_test(test_queue_doc_cap),
        cmocka_unit_test(test_queue_inflight_counts_against_cap),
        cmocka_unit_test(test_queue_charges_per_document_overhead),
        cmocka_unit_test(test_qdoc_identity),
        cmocka_unit_test(test_queue_remote_wake),
        cmocka_unit_test(test_queue_remote_push_wakes_decision),
        cmocka_unit_test(test_queue_remote_wake_per_batch),
        cmocka_unit_test(test_queue_room_of_matches_has_room),
        cmocka_unit_test(test_queue_room_check_refreshes_on_refusal),
        cmocka_unit_test(test_queue_pace_until_drained),
        cmocka_unit_test(test_queue_pace_not_backlogged),
        cmocka_unit_test(test_queue_pace_stalled_consumer),
        cmocka_unit_test(test_queue_pace_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
