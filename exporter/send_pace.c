#include "exporter/send_pace.h"

uint64_t xb_backoff_pause(struct xb_backoff *b, uint64_t now_ms, const struct xb_retry_opts *opts,
                          uint64_t drain_cap_ms, uint64_t min_delay_ms, struct xb_rng *rng)
{
    uint64_t delay = xb_backoff_step(b, now_ms, opts, drain_cap_ms, rng);

    if (min_delay_ms && now_ms + min_delay_ms > b->until_ms) {
        b->until_ms = now_ms + min_delay_ms; /* the server's Retry-After wins */
        delay = min_delay_ms;
    }
    return delay > UINT32_MAX ? UINT32_MAX : delay;
}

enum xb_flush_step xb_flush_gate(uint64_t now_ms, uint64_t until_ms, size_t waiting,
                                 int creds_pending, uint64_t *wait_ms)
{
    if (now_ms < until_ms) {
        *wait_ms = until_ms - now_ms;
        return XB_FLUSH_WAIT;
    }
    if (waiting == 0 || creds_pending)
        return XB_FLUSH_IDLE;
    return XB_FLUSH_SEND;
}

void xb_send_back_off(struct xb_batcher *batcher, struct xb_backoff *b,
                      const struct xb_retry_opts *opts, struct xb_rng *rng, uint64_t now_ms,
                      uint64_t drain_cap_ms, uint64_t min_delay_ms)
{
    uint64_t delay =
        xb_backoff_pause(b, now_ms, opts, batcher->draining ? drain_cap_ms : 0, min_delay_ms, rng);
    if (delay)
        xb_batcher_kick_after(batcher, (uint32_t)delay);
}

int xb_send_may_flush(struct xb_batcher *batcher, const struct xb_backoff *b, struct xb_queue *q,
                      int creds_pending, uint64_t now_ms)
{
    uint64_t wait = 0;

    switch (xb_flush_gate(now_ms, b->until_ms, xb_queue_waiting(q), creds_pending, &wait)) {
    case XB_FLUSH_WAIT:
        xb_batcher_kick_after(batcher, (uint32_t)(wait > UINT32_MAX ? UINT32_MAX : wait));
        return 0;
    case XB_FLUSH_IDLE:
        return 0;
    case XB_FLUSH_SEND:
        break;
    }
    return 1;
}

void xb_send_drain(struct xb_batcher *batcher, struct xb_backoff *b)
{
    b->until_ms = 0;
    xb_batcher_drain(batcher);
}

void xb_docs_requeue(struct xb_queue *q, struct xb_qdoc *const *docs, size_t n)
{
    for (size_t i = n; i-- > 0;)
        xb_queue_requeue(q, docs[i]);
}

void xb_docs_done(struct xb_queue *q, struct xb_qdoc *const *docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xb_queue_done(q, docs[i]);
}
