/*
 * exporter/send_pace.h - when the awsxray and otlphttp exporters may start calls, and
 * how long they pause after a failure. Both keep one struct xb_backoff for all their
 * calls (exporter/outcome.h) and one batcher (exporter/batcher.h); the rules below are
 * the same for both, so they live here once. What a finished call means stays in each
 * exporter (exporter/outcome.h, exporter/otlp_outcome.h).
 */
#ifndef XB_EXPORTER_SEND_PACE_H
#define XB_EXPORTER_SEND_PACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"
#include "exporter/batcher.h"
#include "exporter/outcome.h"

/*
 * Grows |b| after a failed call at |now_ms| (xb_backoff_step() with |drain_cap_ms| and
 * one draw from |rng|), then applies |min_delay_ms| (a server's Retry-After, 0 = none):
 * when it ends later than |b|->until_ms, it becomes the pause. Returns how long to wait
 * before trying again in ms (at most UINT32_MAX), or 0 when the pause is already set.
 * Pure apart from |b| and |rng|.
 */
uint64_t xb_backoff_pause(struct xb_backoff *b, uint64_t now_ms, const struct xb_retry_opts *opts,
                          uint64_t drain_cap_ms, uint64_t min_delay_ms, struct xb_rng *rng);

/* What a flush may do now (xb_flush_gate()). */
enum xb_flush_step {
    XB_FLUSH_SEND = 0, /* start calls */
    XB_FLUSH_WAIT,     /* backing off: flush again after *wait_ms */
    XB_FLUSH_IDLE,     /* nothing waiting, or a credential fetch is under way */
};

/*
 * The start of every flush: at monotonic |now_ms|, with sends paused until |until_ms|,
 * |waiting| documents queued and |creds_pending| non-zero while credentials are being
 * fetched. Sets *wait_ms (ms left of the pause) for XB_FLUSH_WAIT, else leaves it.
 */
enum xb_flush_step xb_flush_gate(uint64_t now_ms, uint64_t until_ms, size_t waiting,
                                 int creds_pending, uint64_t *wait_ms);

/*
 * Pauses |batcher| after a failure at |now_ms|: xb_backoff_pause() with the drain cap
 * |drain_cap_ms| applied while |batcher| is draining, then re-arms |batcher| for the
 * pause.
 */
void xb_send_back_off(struct xb_batcher *batcher, struct xb_backoff *b,
                      const struct xb_retry_opts *opts, struct xb_rng *rng, uint64_t now_ms,
                      uint64_t drain_cap_ms, uint64_t min_delay_ms);

/*
 * Runs xb_flush_gate() for |q| and re-arms |batcher| for the rest of a pause. Returns 1
 * when the flush may start calls, else 0.
 */
int xb_send_may_flush(struct xb_batcher *batcher, const struct xb_backoff *b, struct xb_queue *q,
                      int creds_pending, uint64_t now_ms);

/* Shutting down: ends any pause and makes |batcher| flush what is left at once. */
void xb_send_drain(struct xb_batcher *batcher, struct xb_backoff *b);

/* Puts the |n| popped documents |docs| back at the head of |q|, in their order. */
void xb_docs_requeue(struct xb_queue *q, struct xb_qdoc *const *docs, size_t n);

/* Marks the |n| documents |docs| finished in |q| (xb_queue_done()). */
void xb_docs_done(struct xb_queue *q, struct xb_qdoc *const *docs, size_t n);

#endif
