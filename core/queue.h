/*
 * core/queue.h - bounded FIFO of serialised X-Ray segment documents.
 *
 * Sits between the receivers (producers) and one exporter (consumer). Every operation
 * takes the queue's mutex, so producers on ingest worker threads (app/workers.h) may
 * check room and push while the exporter pops on the main loop. The ready callback
 * runs without the mutex held, on the consumer's thread: directly inside a push made
 * there, and for a push from another thread through the remote wake-up
 * (xb_queue_set_remote_wake), once per batch of such pushes.
 * A document is charged against the caps from the moment it is pushed until the
 * exporter calls xb_queue_done() on it (delivered or given up), so documents being sent
 * still count: the byte cap is a real bound on the memory the pipeline holds.
 */
#ifndef XB_CORE_QUEUE_H
#define XB_CORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/pace.h"

/* Sizes of the identity fields of a queued document, NUL included. */
#define XB_QDOC_TRACE_ID_SIZE 36 /* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" + NUL */
#define XB_QDOC_ID_SIZE 17       /* 16 hex digits + NUL */

/*
 * One queued document. json is NUL-terminated; len excludes the NUL. trace_id and id
 * are the document's own top-level "trace_id" and "id" as the translator produced
 * them (empty strings when unknown), so the exporter never has to search the JSON text
 * (which can hold other trace ids, e.g. in "links").
 */
struct xb_qdoc {
    struct xb_qdoc *next;
    /* A prefetch hint, never dereferenced: the document XB_QDOC_AHEAD places behind
     * this one in the list it was pushed with (xb_queue_push_list()), or NULL. Popping
     * prefetches it, so that the cache misses of a walk over documents written on
     * another core overlap instead of coming one after another. May be stale. */
    struct xb_qdoc *ahead;
    /* The fields popping reads (next, ahead, len, block_off) come first, so that they
     * share one cache line. */
    size_t len;
    uint64_t seq; /* position in the queue's on-disk log (core/wal.h); 0 = not stored */
    /* 0 = its own allocation; else placed in a block (core/qdoc_block.h) this many
     * 8-byte units from the block's start. */
    uint16_t block_off;
    /* 1: |json| is in embedded form, the document as the contents of a JSON string
     * (translator embedded_documents: xb_jsonw_embed() of the document, ready for a
     * PutTraceSegments body); 0: plain JSON. |len| counts the stored bytes either way.
     * Set only for queues whose consumer takes it (xb_queue_set_takes_embedded()). */
    uint8_t embedded;
    char trace_id[XB_QDOC_TRACE_ID_SIZE];
    char id[XB_QDOC_ID_SIZE];
    char json[];
};

/* How many documents ahead the prefetch hint of a pushed document points (struct
 * xb_qdoc's |ahead|). */
#define XB_QDOC_AHEAD 8

/* A list of documents built before a push; all-or-nothing admission. */
struct xb_qdoc_list {
    struct xb_qdoc *head, *tail;
    size_t n;
    size_t bytes; /* sum of xb_qdoc_charge() */
};

struct xb_queue;
struct xb_wal;

/* Called after a push made documents available, on the consumer's thread: inside the
 * push, or from xb_queue_run_remote_ready() for pushes made on other threads. */
typedef void (*xb_queue_ready_cb)(void *ud);
/* Asks the consumer's thread to call xb_queue_run_remote_ready() soon. Called on the
 * pushing thread without the queue's mutex held, so it must be thread-safe (e.g. a
 * write to an eventfd the consumer's event loop watches). */
typedef void (*xb_queue_wake_cb)(void *ud);

/*
 * Copies |len| bytes of |json| into a new heap document (the one copy between the
 * request arena and the exporter). Returns NULL on allocation failure. Free with
 * xb_qdoc_free() unless ownership passes to a queue.
 */
struct xb_qdoc *xb_qdoc_new(const char *json, size_t len);

/*
 * Like xb_qdoc_new(), and also records the document's identity: |trace_id| (X-Ray
 * trace id) and |id| (segment id), both NUL-terminated and borrowed; NULL or an
 * over-long value is stored as "". Returns NULL on allocation failure.
 */
struct xb_qdoc *xb_qdoc_new_ids(const char *json, size_t len, const char *trace_id, const char *id);

/* Fills the document at |d| (sizeof(struct xb_qdoc) + |len| + 1 bytes) as
 * xb_qdoc_new_ids() does, as its own allocation (block_off 0, seq 0, next NULL). */
void xb_qdoc_init(struct xb_qdoc *d, const char *json, size_t len, const char *trace_id,
                  const char *id);

/* A fresh copy of |d| (document and identity). NULL on no memory. */
struct xb_qdoc *xb_qdoc_dup(const struct xb_qdoc *d);

/*
 * Bytes one document costs while queued: the whole allocation, header included
 * (sizeof(struct xb_qdoc) + len + 1), not just the JSON; for the document placed last in
 * a block, also the block's slack (core/qdoc_block.h). This is what the queue's byte cap
 * and charged-bytes figures count; it does not change while the document is queued.
 */
size_t xb_qdoc_charge(const struct xb_qdoc *d);

/* xb_qdoc_charge() of a document of |len| JSON bytes in its own allocation. */
size_t xb_qdoc_charge_len(size_t len);

/* Frees one document (in a block: drops its reference on the block, core/qdoc_block.h),
 * on any thread. NULL is a no-op. The only way a document is freed. */
void xb_qdoc_free(struct xb_qdoc *d);

/* Appends |d| to |l| (takes ownership). */
void xb_qdoc_list_add(struct xb_qdoc_list *l, struct xb_qdoc *d);

/* Frees every document in |l| and empties it. */
void xb_qdoc_list_clear(struct xb_qdoc_list *l);

/*
 * Creates a queue holding at most |max_bytes| bytes of documents, each counted with its
 * per-document overhead (xb_qdoc_charge()), and at most |max_docs| documents (0 = no
 * limit for either). Returns NULL on allocation failure.
 */
struct xb_queue *xb_queue_new(size_t max_bytes, size_t max_docs);

/* Frees the queue and every document still in it. NULL is a no-op. */
void xb_queue_free(struct xb_queue *q);

/*
 * Backs |q| with the on-disk log |w| (borrowed; core/wal.h), before any push. From then
 * on a push is accepted only once its documents are appended to the log (and synced as
 * configured): the caps become max_documents over the documents not yet finished and the
 * log's max_size; memory holds only what the exporter took plus up to |read_ahead| bytes
 * read back from the log. A push failing on the disk returns XB_ERR_FULL (the retryable
 * refusal). xb_queue_done() marks a document finished in the log. Call with NULL before
 * the exporter releases documents it did not deliver (shutdown), so they stay in the
 * log for the next start.
 */
void xb_queue_set_wal(struct xb_queue *q, struct xb_wal *w, size_t read_ahead);

/* Registers the consumer's wake-up callback (one per queue); the calling thread becomes
 * the consumer's thread. When documents are already waiting (recovered from a log) the
 * callback runs once right away. */
void xb_queue_set_ready_cb(struct xb_queue *q, xb_queue_ready_cb cb, void *ud);
/*
 * Lets threads other than the consumer's push into |q| (ingest workers admitting their
 * own requests, app/workers.c): such a push does not run the ready callback; the first
 * one since the consumer last ran xb_queue_run_remote_ready() calls |wake|(|ud|)
 * instead, so a burst of pushes costs one wake-up. NULL |wake| turns it off.
 */
void xb_queue_set_remote_wake(struct xb_queue *q, xb_queue_wake_cb wake, void *ud);
/*
 * For pushes from other threads: the consumer only needs its ready callback when the
 * queue was empty (it arms its batch timer) or when |docs| documents are waiting (a batch
 * is full); in between it already has a reason to look again (that timer, or a call in
 * flight whose end re-checks the queue). 0 or 1 = every such push wakes it (a consumer
 * without a batch timer). Pushes on the consumer's own thread always run the callback.
 */
void xb_queue_set_ready_min(struct xb_queue *q, size_t docs);
/* The decision above: non-zero when a push taking the waiting count from |before| to
 * |after| documents must wake a consumer whose ready minimum is |ready_min|. */
int xb_queue_remote_push_wakes(size_t before, size_t after, size_t ready_min);
/* On the consumer's thread, after its |wake| fired: runs the ready callback once if a
 * push from another thread asked for it since the last call, else does nothing. */
void xb_queue_run_remote_ready(struct xb_queue *q);
/* Non-zero when another thread may push into |q| now: it is memory-only (an on-disk log
 * is also synced by the file_storage extension's timer on the main loop, outside the
 * queue's mutex, so its appends stay there) and a push from another thread can reach
 * the consumer (no ready callback, or a remote wake-up registered). */
int xb_queue_remote_push_ok(const struct xb_queue *q);

/* Declares that |q|'s consumer (the awsxray exporter) sends documents in embedded form
 * (struct xb_qdoc.embedded) as they are. Default 0: plain documents only. */
void xb_queue_set_takes_embedded(struct xb_queue *q, int on);
/* Whether |q|'s consumer takes embedded documents (xb_queue_set_takes_embedded()). */
int xb_queue_takes_embedded(const struct xb_queue *q);
/* Whether |q| keeps its documents in an on-disk log (xb_queue_set_wal()). */
int xb_queue_on_disk(const struct xb_queue *q);

/* Returns non-zero when |docs| documents charging |bytes| in total (sum of
 * xb_qdoc_charge()) would fit right now. */
int xb_queue_has_room(const struct xb_queue *q, size_t docs, size_t bytes);

/*
 * The free room of one queue at one moment, so that a producer checking every document
 * of a request against it takes the queue's mutex once per request instead of once per
 * document (receiver/ingest.c collect_doc). Fill it with xb_queue_room_check().
 */
struct xb_queue_room {
    size_t docs;  /* documents that still fit; SIZE_MAX = no document cap */
    size_t bytes; /* bytes (sum of xb_qdoc_charge()) that still fit; SIZE_MAX = no cap */
    int valid;    /* 0 = not taken yet */
    int live;     /* the queue is on disk (xb_queue_set_wal): ask it every time */
};

/* Pure: the room left under caps |max_docs| and |max_bytes| (0 = no cap) when
 * |charged_docs| documents charging |charged_bytes| are held. */
struct xb_queue_room xb_queue_room_of(size_t max_docs, size_t max_bytes, size_t charged_docs,
                                      size_t charged_bytes);

/* Pure: non-zero when |docs| documents charging |bytes| fit in room |r|. Same answer as
 * xb_queue_has_room() at the moment |r| was taken. */
int xb_queue_room_fits(const struct xb_queue_room *r, size_t docs, size_t bytes);

/*
 * xb_queue_has_room() through the snapshot |r| (zero-initialised by the caller, one per
 * queue and request): takes the snapshot on first use, and takes it again (one lock)
 * only when the request no longer fits in it, so the answer "no room" is always fresh
 * while "room" may be stale by what other producers pushed since. Room is checked again
 * under the lock at admission (xb_queue_push_list), so a stale "room" costs at most the
 * translation of a request refused there; and a request's documents still never exceed
 * the room the queue had when they were checked. A queue on disk is asked every time.
 */
int xb_queue_room_check(const struct xb_queue *q, struct xb_queue_room *r, size_t docs,
                        size_t bytes);

/*
 * Moves every document of |l| to the tail of |q| if all of them fit, and empties |l|.
 * Returns 0, or XB_ERR_FULL leaving |l| untouched (the caller still owns it).
 */
int xb_queue_push_list(struct xb_queue *q, struct xb_qdoc_list *l);

/* Removes and returns the oldest waiting document, or NULL. It stays charged. */
struct xb_qdoc *xb_queue_pop(struct xb_queue *q);

/* Like up to |max| calls of xb_queue_pop() under one lock: stores the oldest waiting
 * documents in |out| in queue order and returns how many (0 when none). They stay
 * charged. */
size_t xb_queue_pop_n(struct xb_queue *q, struct xb_qdoc **out, size_t max);

/*
 * Puts a popped document back at the head (for a retry). It stays charged. A document
 * placed in a block is first copied out to its own allocation (xb_qdoc_own()) and the
 * copy is queued instead, charged its own size, so a document waiting for a retry does
 * not pin the rest of its block; without memory for the copy it goes back as it is.
 * Returns the document now queued (|d| or its copy; |d| is then freed): callers that
 * keep state by document address move it there.
 */
struct xb_qdoc *xb_queue_requeue(struct xb_queue *q, struct xb_qdoc *d);

/* The exporter is finished with popped |d|: uncharges and frees it. */
void xb_queue_done(struct xb_queue *q, struct xb_qdoc *d);

/* xb_queue_done for |n| popped documents under one lock (an exporter finishing a call);
 * the documents are freed after the lock is released. */
void xb_queue_done_n(struct xb_queue *q, struct xb_qdoc *const *docs, size_t n);

/* Documents waiting (not popped), those in the on-disk log included. */
size_t xb_queue_waiting(const struct xb_queue *q);

/* Documents charged (waiting + popped but not done); with a log, every document not
 * finished, on disk or in memory. */
size_t xb_queue_charged_docs(const struct xb_queue *q);

/* Bytes charged (waiting + popped but not done), per-document overhead included; with a
 * log, the memory part only. */
size_t xb_queue_charged_bytes(const struct xb_queue *q);

/*
 * Pauses the calling producer thread while the consumer of |q| is behind but making
 * progress, by the rule and bounds of core/pace.h (|lim|; NULL or a zero max_wait_ns =
 * never): returns at once (XB_PACE_GO) when at most lim->high documents wait or the
 * consumer stalled at its current pop count; else waits until a pop leaves at most
 * lim->low waiting (XB_PACE_DRAINED), lim->max_wait_ns passes (XB_PACE_TIMEOUT) or no
 * document is popped for lim->stall_ns (XB_PACE_STALLED). *waited_ns is set to the time
 * paused, ns. Never call it on the consumer's own thread: only a pop ends the pause
 * early. Every paused producer uses the same lim->low.
 */
enum xb_pace_step xb_queue_pace(struct xb_queue *q, const struct xb_pace_limits *lim,
                                uint64_t *waited_ns);

/* Producers paused in xb_queue_pace() on |q| right now. */
size_t xb_queue_paused_producers(const struct xb_queue *q);

#endif
