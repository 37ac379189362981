/*
 * exporter/batcher.h - decides WHEN an exporter sends: as soon as a full batch is
 * waiting, or when the oldest waiting document has waited batch_timeout_ms, or
 * immediately while draining. Runs the exporter's flush callback from the event
 * loop (never inside a receiver's queue push).
 */
#ifndef XB_EXPORTER_BATCHER_H
#define XB_EXPORTER_BATCHER_H

#include <event2/event.h>
#include <stdint.h>

#include "core/queue.h"

/* What the batcher does about the documents waiting in its queue. */
enum xb_batch_step {
    XB_BATCH_IDLE = 0,      /* nothing waiting */
    XB_BATCH_FLUSH_NOW = 1, /* send now: a full batch, draining, or no timeout set */
    XB_BATCH_WAIT = 2,      /* a partial batch: wait up to timeout_ms for more */
};

/*
 * The decision xb_batcher_kick() carries out, for |waiting| documents, a full batch of
 * |max_docs| (0 counts as 1), a partial-batch timeout of |timeout_ms| (0 = never wait)
 * and |draining| (non-zero: flush partial batches at once).
 */
enum xb_batch_step xb_batcher_step(size_t waiting, uint32_t max_docs, uint32_t timeout_ms,
                                   int draining);

/* Called from the loop when the exporter should send what it can. */
typedef void (*xb_batcher_flush_cb)(void *ud);

struct xb_batcher {
    struct xb_queue *q;     /* borrowed */
    uint32_t max_docs;      /* full batch size */
    uint32_t timeout_ms;    /* max wait for a partial batch */
    int draining;           /* flush partial batches at once */
    struct event *now_ev;   /* zero-delay flush */
    struct event *timer_ev; /* partial-batch timeout */
    xb_batcher_flush_cb flush;
    void *ud;
};

/*
 * Sets up |b| on |base| for queue |q| and registers itself as the queue's ready
 * callback. Returns 0 or XB_ERR_NOMEM. Release with xb_batcher_cleanup().
 */
int xb_batcher_init(struct xb_batcher *b, struct event_base *base, struct xb_queue *q,
                    uint32_t max_docs, uint32_t timeout_ms, xb_batcher_flush_cb flush, void *ud);

/* Frees the events; safe on a zeroed struct. */
void xb_batcher_cleanup(struct xb_batcher *b);

/*
 * Re-evaluates the queue: schedules a flush now (full batch or draining), arms the
 * timer (partial batch), or does nothing (empty). Call after a send completes.
 */
void xb_batcher_kick(struct xb_batcher *b);

/* Schedules a flush after |delay_ms| regardless of the queue (retry back-off). */
void xb_batcher_kick_after(struct xb_batcher *b, uint32_t delay_ms);

/* Enters drain mode: partial batches are flushed immediately from now on. */
void xb_batcher_drain(struct xb_batcher *b);

#endif
