/*
 * core/queue.h - bounded FIFO of serialised X-Ray segment documents.
 *
 * Sits between the receivers (producers) and one exporter (consumer). Everything runs
 * on the event-loop thread, so there is no locking. A document is charged against the
 * caps from the moment it is pushed until the exporter calls xb_queue_done() on it
 * (delivered or given up), so documents being sent still count: the byte cap is a
 * real bound on the memory the pipeline holds.
 */
#ifndef XB_CORE_QUEUE_H
#define XB_CORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* One queued document. json is NUL-terminated; len excludes the NUL. */
struct xb_qdoc {
    struct xb_qdoc *next;
    /* exporter bookkeeping, zero when queued by a receiver */
    uint32_t attempts;         /* failed send attempts so far */
    uint32_t solo;             /* send alone: isolates a document X-Ray refused in a batch */
    uint64_t failing_since_ms; /* monotonic ms of the first failure; 0 = none */
    size_t len;
    char json[];
};

/* A list of documents built before a push; all-or-nothing admission. */
struct xb_qdoc_list {
    struct xb_qdoc *head, *tail;
    size_t n;
    size_t bytes; /* sum of len */
};

struct xb_queue;

/* Called after a push made documents available. Runs synchronously inside the push. */
typedef void (*xb_queue_ready_cb)(void *ud);

/*
 * Copies |len| bytes of |json| into a new heap document (the one copy between the
 * request arena and the exporter). Returns NULL on allocation failure. Free with
 * xb_qdoc_free() unless ownership passes to a queue.
 */
struct xb_qdoc *xb_qdoc_new(const char *json, size_t len);

/* Frees one document. NULL is a no-op. */
void xb_qdoc_free(struct xb_qdoc *d);

/* Appends |d| to |l| (takes ownership). */
void xb_qdoc_list_add(struct xb_qdoc_list *l, struct xb_qdoc *d);

/* Frees every document in |l| and empties it. */
void xb_qdoc_list_clear(struct xb_qdoc_list *l);

/*
 * Creates a queue holding at most |max_bytes| of document bytes and |max_docs|
 * documents (0 = no limit for either). Returns NULL on allocation failure.
 */
struct xb_queue *xb_queue_new(size_t max_bytes, size_t max_docs);

/* Frees the queue and every document still in it. NULL is a no-op. */
void xb_queue_free(struct xb_queue *q);

/* Registers the consumer's wake-up callback (one per queue). */
void xb_queue_set_ready_cb(struct xb_queue *q, xb_queue_ready_cb cb, void *ud);

/* Returns non-zero when |docs| documents totalling |bytes| would fit right now. */
int xb_queue_has_room(const struct xb_queue *q, size_t docs, size_t bytes);

/*
 * Moves every document of |l| to the tail of |q| if all of them fit, and empties |l|.
 * Returns 0, or XB_ERR_FULL leaving |l| untouched (the caller still owns it).
 */
int xb_queue_push_list(struct xb_queue *q, struct xb_qdoc_list *l);

/* Removes and returns the oldest waiting document, or NULL. It stays charged. */
struct xb_qdoc *xb_queue_pop(struct xb_queue *q);

/* Puts a popped document back at the head (for a retry). It stays charged. */
void xb_queue_requeue(struct xb_queue *q, struct xb_qdoc *d);

/* The exporter is finished with popped |d|: uncharges and frees it. */
void xb_queue_done(struct xb_queue *q, struct xb_qdoc *d);

/* Documents waiting (not popped). */
size_t xb_queue_waiting(const struct xb_queue *q);

/* Documents charged (waiting + popped but not done). */
size_t xb_queue_charged_docs(const struct xb_queue *q);

/* Bytes charged (waiting + popped but not done). */
size_t xb_queue_charged_bytes(const struct xb_queue *q);

#endif
