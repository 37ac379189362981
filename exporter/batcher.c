#include "exporter/batcher.h"

#include <string.h>

#include "aws/curl_loop.h" /* XB_LOOP_PRIO_SEND */
#include "core/err.h"

static void on_now(evutil_socket_t fd, short what, void *ud)
{
    struct xb_batcher *b = ud;
    b->flush(b->ud);
}

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    struct xb_batcher *b = ud;
    b->flush(b->ud);
}

static void on_ready(void *ud)
{
    xb_batcher_kick(ud);
}

int xb_batcher_init(struct xb_batcher *b, struct event_base *base, struct xb_queue *q,
                    uint32_t max_docs, uint32_t timeout_ms, xb_batcher_flush_cb flush, void *ud)
{
    memset(b, 0, sizeof(*b));
    b->q = q;
    b->max_docs = max_docs ? max_docs : 1;
    b->timeout_ms = timeout_ms;
    b->flush = flush;
    b->ud = ud;
    b->now_ev = event_new(base, -1, 0, on_now, b);
    b->timer_ev = evtimer_new(base, on_timer, b);
    if (!b->now_ev || !b->timer_ev || event_priority_set(b->now_ev, XB_LOOP_PRIO_SEND) ||
        event_priority_set(b->timer_ev, XB_LOOP_PRIO_SEND)) {
        xb_batcher_cleanup(b);
        return XB_ERR_NOMEM;
    }
    xb_queue_set_ready_cb(q, on_ready, b);
    /* Without a timeout every push flushes (xb_batcher_step), so every push must wake. */
    xb_queue_set_ready_min(q, b->timeout_ms ? b->max_docs : 1);
    return XB_OK;
}

void xb_batcher_cleanup(struct xb_batcher *b)
{
    if (b->now_ev)
        event_free(b->now_ev);
    if (b->timer_ev)
        event_free(b->timer_ev);
    if (b->q)
        xb_queue_set_ready_cb(b->q, NULL, NULL);
    memset(b, 0, sizeof(*b));
}

enum xb_batch_step xb_batcher_step(size_t waiting, uint32_t max_docs, uint32_t timeout_ms,
                                   int draining)
{
    if (waiting == 0)
        return XB_BATCH_IDLE;
    if (waiting >= (max_docs ? max_docs : 1) || draining || timeout_ms == 0)
        return XB_BATCH_FLUSH_NOW;
    return XB_BATCH_WAIT;
}

void xb_batcher_kick(struct xb_batcher *b)
{
    switch (xb_batcher_step(xb_queue_waiting(b->q), b->max_docs, b->timeout_ms, b->draining)) {
    case XB_BATCH_IDLE:
        return;
    case XB_BATCH_FLUSH_NOW:
        if (!event_pending(b->now_ev, EV_TIMEOUT, NULL))
            event_active(b->now_ev, EV_TIMEOUT, 0);
        return;
    case XB_BATCH_WAIT:
        break;
    }
    if (!evtimer_pending(b->timer_ev, NULL)) {
        struct timeval tv = {b->timeout_ms / 1000, (b->timeout_ms % 1000) * 1000};
        evtimer_add(b->timer_ev, &tv);
    }
}

void xb_batcher_kick_after(struct xb_batcher *b, uint32_t delay_ms)
{
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    evtimer_del(b->timer_ev);
    evtimer_add(b->timer_ev, &tv);
}

void xb_batcher_drain(struct xb_batcher *b)
{
    b->draining = 1;
    xb_batcher_kick(b);
}
