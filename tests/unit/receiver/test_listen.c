/* Unit tests for receiver/listen.c: the accept guard's decisions (victim choice, back-off,
 * log rate limit) and its bookkeeping on a real listener bound to 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/metrics.h"
#include "receiver/listen.h"

/* Links |n| slots into a list in array order. */
static struct xb_conn_slot *link_slots(struct xb_conn_slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s[i].prev = i ? &s[i - 1] : NULL;
        s[i].next = i + 1 < n ? &s[i + 1] : NULL;
    }
    return n ? &s[0] : NULL;
}

static void test_victim_is_oldest_progress(void **state)
{
    struct xb_conn_slot s[4];

    memset(s, 0, sizeof(s));
    s[0].progress_ms = 500;
    s[1].progress_ms = 100; /* oldest */
    s[2].progress_ms = 300;
    s[3].progress_ms = 100; /* tie: the first one wins */
    assert_ptr_equal(xb_listen_pick_victim(link_slots(s, 4)), &s[1]);
}

static void test_victim_skips_busy(void **state)
{
    struct xb_conn_slot s[3];

    memset(s, 0, sizeof(s));
    s[0].progress_ms = 10;
    s[0].busy = 1; /* oldest, but a request is being answered */
    s[1].progress_ms = 20;
    s[2].progress_ms = 30;
    assert_ptr_equal(xb_listen_pick_victim(link_slots(s, 3)), &s[1]);
    s[1].busy = s[2].busy = 1;
    assert_null(xb_listen_pick_victim(&s[0]));
    assert_null(xb_listen_pick_victim(NULL));
}

static void test_backoff_doubles_and_caps(void **state)
{
    assert_int_equal(xb_listen_backoff_ms(0), 0);
    assert_int_equal(xb_listen_backoff_ms(1), 50);
    assert_int_equal(xb_listen_backoff_ms(2), 100);
    assert_int_equal(xb_listen_backoff_ms(3), 200);
    assert_int_equal(xb_listen_backoff_ms(5), 800);
    assert_int_equal(xb_listen_backoff_ms(6), 1000);
    assert_int_equal(xb_listen_backoff_ms(4000000000u), 1000);
}

static void test_ratelimit_counts_suppressed(void **state)
{
    struct xb_ratelimit rl = {.interval_ms = 10000};
    uint64_t sup = 99;

    assert_int_equal(xb_ratelimit_allow(&rl, 1000, &sup), 1);
    assert_int_equal(sup, 0);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(xb_ratelimit_allow(&rl, 1000 + (uint64_t)i, &sup), 0);
    assert_int_equal(xb_ratelimit_allow(&rl, 10999, &sup), 0);
    assert_int_equal(xb_ratelimit_allow(&rl, 11000, &sup), 1);
    assert_int_equal(sup, 1501);
    assert_int_equal(xb_ratelimit_allow(&rl, 30000, &sup), 1);
    assert_int_equal(sup, 0);
}

/* ---- guard bookkeeping ------------------------------------------------------- */

struct fake_conn {
    struct xb_conn_slot slot;
    int evicted;
};

static void fake_evict(struct xb_conn_slot *slot, void *ud)
{
    struct fake_conn *c = ud;
    c->evicted++;
    xb_listen_guard_release(slot);
}

static void test_guard_evicts_stalled_then_refuses_when_busy(void **state)
{
    struct event_base *base = event_base_new();
    char bound[128];
    struct evconnlistener *l = xb_listen(base, "127.0.0.1:0", NULL, NULL, bound, sizeof(bound));
    struct xb_listen_guard *g;
    struct fake_conn c[4];

    assert_non_null(l);
    xb_metrics_reset();
    g = xb_listen_guard_new(base, l, XB_TRANSPORT_GRPC, "grpc", 3);
    assert_non_null(g);
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 4; i++) {
        c[i].slot.evict = fake_evict;
        c[i].slot.ud = &c[i];
    }
    assert_int_equal(xb_listen_guard_admit(g, &c[0].slot, 100), XB_OK);
    assert_int_equal(xb_listen_guard_admit(g, &c[1].slot, 200), XB_OK);
    assert_int_equal(xb_listen_guard_admit(g, &c[2].slot, 300), XB_OK);
    assert_int_equal(xb_listen_guard_count(g), 3);
    assert_int_equal(xb_receiver_metrics.receiver_connections[XB_TRANSPORT_GRPC], 3);
    /* c[0] made progress after the others: c[1] is now the stalled one. */
    xb_listen_guard_progress(&c[0].slot, 400);
    assert_int_equal(xb_listen_guard_admit(g, &c[3].slot, 500), XB_OK);
    assert_int_equal(c[1].evicted, 1);
    assert_int_equal(c[0].evicted + c[2].evicted, 0);
    assert_int_equal(xb_listen_guard_count(g), 3);
    assert_int_equal(
        xb_receiver_metrics.connections_refused[XB_TRANSPORT_GRPC][XB_CONN_REFUSED_EVICTED_STALLED],
        1);
    /* Every connection busy: the newcomer is refused, nobody is evicted. */
    c[0].slot.busy = c[2].slot.busy = c[3].slot.busy = 1;
    memset(&c[1], 0, sizeof(c[1]));
    c[1].slot.evict = fake_evict;
    c[1].slot.ud = &c[1];
    assert_int_equal(xb_listen_guard_admit(g, &c[1].slot, 600), XB_ERR_FULL);
    assert_null(c[1].slot.guard);
    assert_int_equal(
        xb_receiver_metrics.connections_refused[XB_TRANSPORT_GRPC][XB_CONN_REFUSED_MAX_CONNECTIONS],
        1);
    /* Release is idempotent and lowers the gauge. */
    xb_listen_guard_release(&c[2].slot);
    xb_listen_guard_release(&c[2].slot);
    xb_listen_guard_release(&c[1].slot); /* never admitted */
    assert_int_equal(xb_listen_guard_count(g), 2);
    assert_int_equal(xb_receiver_metrics.receiver_connections[XB_TRANSPORT_GRPC], 2);
    xb_listen_guard_count_refused(g, XB_CONN_REFUSED_TIMEOUT);
    assert_int_equal(
        xb_receiver_metrics.connections_refused[XB_TRANSPORT_GRPC][XB_CONN_REFUSED_TIMEOUT], 1);
    xb_listen_guard_free(g);
    assert_int_equal(xb_receiver_metrics.receiver_connections[XB_TRANSPORT_GRPC], 0);
    assert_null(c[0].slot.guard);
    evconnlistener_free(l);
    event_base_free(base);
}

/* Like receiver/otlp_grpc.c: the evict callback frees the memory holding the slot. */
static void freeing_evict(struct xb_conn_slot *slot, void *ud)
{
    xb_listen_guard_release(slot);
    free(ud);
}

static void test_guard_evict_callback_may_free_the_slot(void **state)
{
    struct event_base *base = event_base_new();
    char bound[128];
    struct evconnlistener *l = xb_listen(base, "127.0.0.1:0", NULL, NULL, bound, sizeof(bound));
    struct xb_listen_guard *g = xb_listen_guard_new(base, l, XB_TRANSPORT_HTTP, "http", 2);
    struct fake_conn *c[5];

    for (int i = 0; i < 5; i++) {
        c[i] = calloc(1, sizeof(*c[i]));
        c[i]->slot.evict = freeing_evict;
        c[i]->slot.ud = c[i];
        /* each admission past the second evicts (and frees) the oldest */
        assert_int_equal(xb_listen_guard_admit(g, &c[i]->slot, 100 + (uint64_t)i), XB_OK);
        assert_true(xb_listen_guard_count(g) <= 2);
    }
    assert_int_equal(xb_listen_guard_count(g), 2);
    assert_ptr_equal(c[4]->slot.guard, g);
    assert_ptr_equal(c[3]->slot.guard, g);
    xb_listen_guard_release(&c[3]->slot);
    xb_listen_guard_release(&c[4]->slot);
    free(c[3]);
    free(c[4]);
    xb_listen_guard_free(g);
    evconnlistener_free(l);
    event_base_free(base);
}

static void test_raise_nofile_reports_limit(void **state)
{
    uint64_t limit = 0;

    assert_int_equal(xb_listen_raise_nofile(16, &limit), XB_OK);
    assert_true(limit >= 16);
    assert_int_equal(xb_listen_raise_nofile(UINT64_MAX, &limit) == XB_ERR_FULL,
                     limit != UINT64_MAX);
}

/* Two workers' guards sharing max_connections 2 (app/workers.h). */
static void test_guard_shared_cap_across_workers(void **state)
{
    struct event_base *base = event_base_new();
    char bound[128];
    struct evconnlistener *l1 = xb_listen_opt(base, "127.0.0.1:0", 1, NULL, NULL, bound, 128);
    struct evconnlistener *l2 = xb_listen_opt(base, bound, 1, NULL, NULL, bound, 128);
    struct xb_listen_share sh;
    struct xb_listen_guard *g1, *g2;
    struct fake_conn c[6];

    (void)state;
    assert_non_null(l1);
    assert_non_null(l2); /* SO_REUSEPORT: a second listener on the same port */
    xb_metrics_reset();
    xb_listen_share_init(&sh);
    g1 = xb_listen_guard_new(base, l1, XB_TRANSPORT_HTTP, "http", 2);
    g2 = xb_listen_guard_new(base, l2, XB_TRANSPORT_HTTP, "http", 2);
    xb_listen_guard_share(g1, &sh);
    xb_listen_guard_share(g2, &sh);
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 6; i++) {
        c[i].slot.evict = fake_evict;
        c[i].slot.ud = &c[i];
    }
    assert_int_equal(xb_listen_guard_admit(g1, &c[0].slot, 100), XB_OK);
    assert_int_equal(xb_listen_guard_admit(g1, &c[1].slot, 200), XB_OK);
    /* the cap counts both: g2 holds nothing to evict, so it admits one past it */
    assert_int_equal(xb_listen_guard_admit(g2, &c[2].slot, 300), XB_OK);
    assert_int_equal(sh.count, 3);
    assert_int_equal(xb_receiver_metrics.receiver_connections[XB_TRANSPORT_HTTP], 3);
    /* g1's next admission evicts until the total is under the cap again */
    assert_int_equal(xb_listen_guard_admit(g1, &c[3].slot, 400), XB_OK);
    assert_int_equal(c[0].evicted + c[1].evicted, 2);
    assert_int_equal(sh.count, 2);
    /* g2 at the cap with its only connection busy: refused */
    c[2].slot.busy = 1;
    assert_int_equal(xb_listen_guard_admit(g2, &c[4].slot, 500), XB_ERR_FULL);
    /* a release anywhere frees a place for everyone */
    xb_listen_guard_release(&c[3].slot);
    assert_int_equal(xb_listen_guard_admit(g2, &c[5].slot, 600), XB_OK);
    assert_int_equal(c[2].evicted, 0);
    assert_int_equal(sh.count, 2);
    xb_listen_guard_free(g1);
    xb_listen_guard_free(g2);
    assert_int_equal(sh.count, 0);
    assert_int_equal(xb_receiver_metrics.receiver_connections[XB_TRANSPORT_HTTP], 0);
    xb_listen_share_cleanup(&sh);
    evconnlistener_free(l1);
    evconnlistener_free(l2);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_victim_is_oldest_progress),
        cmocka_unit_test(test_victim_skips_busy),
        cmocka_unit_test(test_backoff_doubles_and_caps),
        cmocka_unit_test(test_ratelimit_counts_suppressed),
        cmocka_unit_test(test_guard_evicts_stalled_then_refuses_when_busy),
        cmocka_unit_test(test_guard_shared_cap_across_workers),
        cmocka_unit_test(test_guard_evict_callback_may_free_the_slot),
        cmocka_unit_test(test_raise_nofile_reports_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
