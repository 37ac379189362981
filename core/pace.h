/*
 * core/pace.h - when an ingest worker waits for the exporter before it takes another
 * request (pure decision; the wait itself is xb_queue_pace() in core/queue.h).
 *
 * Ingest workers (app/workers.h) push translated documents into a queue that one
 * exporter drains on the main loop. When the exporter is the slower side but is making
 * progress (it pops documents often, the usual case when every core is busy), a worker
 * that finds more than |high| documents waiting pauses until at most |low| wait: its
 * clients are slowed by TCP and HTTP/2 flow control instead of filling the queue to its
 * cap and being refused after their requests were received and decoded. The pause is
 * bounded two ways so that it never stands in for the queue's buffering:
 *  - it ends after |max_wait_ns| in all;
 *  - it ends when the exporter has popped nothing for |stall_ns| (it is waiting on the
 *    network, backing off or stopped); no worker waits again until the next pop.
 */
#ifndef XB_CORE_PACE_H
#define XB_CORE_PACE_H

#include <stddef.h>
#include <stdint.h>

/* The bounds of a pause; all 0 turns pacing off. */
struct xb_pace_limits {
    size_t high;          /* documents waiting above which a producer pauses */
    size_t low;           /* ... until at most this many wait (low <= high) */
    uint64_t max_wait_ns; /* the longest pause, ns */
    uint64_t stall_ns;    /* a pause ends once the consumer popped nothing for this long, ns */
};

/* What the workers use (app/workers.c): pause above 512 waiting documents (about ten
 * PutTraceSegments calls' worth) until 256 wait, for at most 50 ms, and not once the
 * exporter has popped nothing for 10 ms. The exporter pops only when one of its calls
 * ends, and on two busy cores a call can take several milliseconds: with a 2 ms window
 * such gaps read as stalls and let bursts through to the queue's cap
 * (docs/performance.md, tenth round). */
#define XB_PACE_HIGH 512
#define XB_PACE_LOW 256
#define XB_PACE_MAX_WAIT_NS (50u * 1000 * 1000)
#define XB_PACE_STALL_NS (10u * 1000 * 1000)
/* Those four as a struct xb_pace_limits value. */
#define XB_PACE_DEFAULTS                                                                           \
    ((struct xb_pace_limits){XB_PACE_HIGH, XB_PACE_LOW, XB_PACE_MAX_WAIT_NS, XB_PACE_STALL_NS})

/* One producer's pause in progress. Zero it before the first step. */
struct xb_pace {
    int started;          /* 0 until the first step that pauses */
    uint64_t start_ns;    /* when the pause began */
    uint64_t last_pop_ns; /* when the consumer's pop count was last seen to move */
    uint64_t pops;        /* the pop count seen then */
};

enum xb_pace_step {
    XB_PACE_GO = 0,  /* go on without pausing: few documents wait, or the consumer stalled */
    XB_PACE_WAIT,    /* pause until *until_ns (CLOCK_MONOTONIC) or a wake-up, then step again */
    XB_PACE_DRAINED, /* the pause ended: at most |low| documents wait */
    XB_PACE_TIMEOUT, /* the pause ended: |max_wait_ns| passed */
    XB_PACE_STALLED, /* the pause ended: no pop for |stall_ns|; do not pause again until
                        the consumer's pop count moves past the value in p->pops */
};

/*
 * One step of a producer's pause. |waiting| is the queue's count of documents waiting,
 * |pops| its running count of documents popped, |stalled| non-zero when a pause already
 * ended XB_PACE_STALLED at this same pop count, |now_ns| CLOCK_MONOTONIC. On
 * XB_PACE_WAIT, *until_ns is when to step again at the latest. Pure: reads and updates
 * only |p|.
 */
enum xb_pace_step xb_pace_step(struct xb_pace *p, const struct xb_pace_limits *lim, size_t waiting,
                               uint64_t pops, int stalled, uint64_t now_ns, uint64_t *until_ns);

#endif
