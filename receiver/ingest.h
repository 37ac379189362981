/*
 * receiver/ingest.h - the hot path shared by both OTLP receivers:
 * body -> (gunzip) -> decode -> translate -> enqueue, all-or-nothing per request.
 *
 * One main path per process, on the main event loop. Per-request memory comes from one
 * arena that is reset after every request; the only copy of a document is the one into
 * the queue (xb_qdoc_new). When any queue lacks room for the whole request, nothing is
 * enqueued and the client is told to retry (backpressure).
 *
 * With ingest workers (app/workers.h) each worker thread has its own path
 * (xb_ingest_new_worker): it decodes and translates in its own small arena and admits
 * the request into the memory queues itself, under one admission lock (the queues wake
 * their consumers on the main loop, core/queue.h); when tail_sampling, the viewer tap
 * or an on-disk queue is configured, it hands the admission to the main loop instead,
 * which owns that state. A request too large for a worker's arena is done again in the
 * main path's arena, one such request at a time, so memory stays bounded by one
 * full-size request plus N small ones (app/budget.c).
 */
#ifndef XB_RECEIVER_INGEST_H
#define XB_RECEIVER_INGEST_H

#include <stddef.h>

#include "core/queue.h"
#include "receiver/receiver_metrics.h"
#include "translator/translate.h"

enum xb_body_format { XB_BODY_PROTOBUF = 0, XB_BODY_JSON = 1 };

/* What happened to one export request. */
struct xb_ingest_outcome {
    int rc;                  /* XB_OK, or XB_ERR_INVALID / _TOO_LARGE / _FULL / _NOMEM */
    const char *err_desc;    /* when rc != XB_OK: static, or owned by the ingest path */
    size_t spans;            /* spans in the request (0 if it did not decode) */
    size_t rejected_spans;   /* spans dropped for good; reported as partial_success */
    char reject_msg[256];    /* English message for partial_success, "" when none */
    enum xb_refusal refusal; /* when rc != XB_OK: the reason if rc alone does not name
                                it (XB_REFUSAL_NONE = derive it from rc) */
};

struct xb_ingest;

/*
 * Creates the ingest path feeding every queue in |queues| (|n_queues| >= 0, borrowed,
 * must outlive the ingest). |tc| is borrowed too. |max_body_bytes| bounds decompressed
 * bodies; the request arena is capped at a multiple of it. NULL on allocation failure.
 * The queues' consumers are set up first (xb_queue_set_takes_embedded(), an on-disk
 * log): whether documents are written in embedded form is decided from them here, and
 * again when tail_sampling or a tap is set (receiver/ingest_embed.h).
 */
struct xb_ingest *xb_ingest_new(const struct xb_translator_config *tc,
                                struct xb_queue *const *queues, size_t n_queues,
                                size_t max_body_bytes);

/*
 * Also feeds |q| (borrowed, outlives the ingest) with OTLP records of every accepted
 * request: split within |lim| and re-encoded (receiver/ingest_otlp.h), all-or-nothing
 * together with the document queues. With no document queue (xb_ingest_new() with
 * n_queues 0) requests are not translated at all. At most two OTLP queues per ingest
 * (otlphttp, loadbalancing); further calls are ignored.
 */
struct xb_otlp_limits;
void xb_ingest_set_otlp_queue(struct xb_ingest *ing, struct xb_queue *q,
                              const struct xb_otlp_limits *lim);

/*
 * Runs |fn|(|arg|) on the thread that owns the queues (the main event loop) and returns
 * once it has run. Provided by the owner of a worker's path (app/workers.c).
 */
typedef void (*xb_ingest_run_cb)(void *ud, void (*fn)(void *arg), void *arg);

/*
 * Creates an ingest worker's path sharing |main|'s queues, OTLP queues, tail_sampling,
 * tap and translator config (all set on |main| before), its memory_limiter gate and its
 * arena for large requests. Request bodies up to |small_body_bytes| (decompressed) are
 * handled in the worker's own arena (xb_ingest_worker_arena_bytes()); anything larger,
 * or decoding to more, is done again under |main|'s large-request lock in |main|'s
 * arena. Admission runs on the worker's thread when xb_ingest_admission_direct(|main|),
 * then after a pause while the exporters are behind (xb_ingest_set_pace()), else
 * through |run| (with |run_ud|). Used on one worker thread only;
 * |main| must outlive it. NULL on allocation failure. Free with xb_ingest_free().
 */
struct xb_ingest *xb_ingest_new_worker(struct xb_ingest *main, size_t small_body_bytes,
                                       xb_ingest_run_cb run, void *run_ud);

/*
 * Non-zero when workers of |main| may admit on their own threads: no tail_sampling, no
 * tap, and every queue accepts pushes from other threads (xb_queue_remote_push_ok(): a
 * memory queue with a remote wake-up registered). Decided once per worker, in
 * xb_ingest_new_worker(); otherwise admissions go through its run callback.
 */
int xb_ingest_admission_direct(const struct xb_ingest *main);

/*
 * A worker's path that admits directly first pauses, before decoding a request, while
 * any of its queues has more than |lim|->high documents waiting and its exporter is
 * catching up (core/pace.h; xb_queue_pace()). Workers start with XB_PACE_DEFAULTS;
 * |lim| NULL turns pausing off. |paced| (XB_INGEST_PACE_ENDS counters, indexed by
 * xb_ingest_pace_end()) counts the pauses by how they ended and |paced_us| adds the time
 * paused, µs (metric values updated with XB_METRIC_ADD; NULL = none). Borrowed.
 */
void xb_ingest_set_pace(struct xb_ingest *ing, const struct xb_pace_limits *lim, uint64_t *paced,
                        uint64_t *paced_us);

/* How a pause ended, as an index of the counters of xb_ingest_set_pace(): 0 drained
 * (XB_PACE_DRAINED), 1 timed out (XB_PACE_TIMEOUT), 2 the exporter stalled. */
#define XB_INGEST_PACE_ENDS 3
unsigned xb_ingest_pace_end(enum xb_pace_step end);

/* The most queues one ingest path admits into: four exporter queues (xb_ingest_new())
 * and two OTLP record queues (xb_ingest_set_otlp_queue()). */
#define XB_INGEST_MAX_QUEUES 6

/* The queues |ing| admits into (exporter queues, then OTLP record queues): stores the
 * first |max| in |out| (borrowed) and returns how many there are, at most
 * XB_INGEST_MAX_QUEUES. */
size_t xb_ingest_queues(const struct xb_ingest *ing, struct xb_queue **out, size_t max);

/* From now on every admission into |main|'s queues, from any thread, is refused with
 * XB_ERR_FULL (the retryable "queue full"): called once the main loop no longer sends
 * (shutdown), so that no request is acknowledged for documents nobody will export. NULL
 * is a no-op. */
void xb_ingest_close_admission(struct xb_ingest *main);

/* The cap of a worker's own arena, bytes, for |small_body_bytes|. */
size_t xb_ingest_worker_arena_bytes(size_t small_body_bytes);

/* The most memory one worker's path holds, bytes: its arena, gunzip output, the documents
 * and OTLP records of one request (capped at the arena's size) and the translator's
 * buffer for documents of up to |max_document_bytes|. app/budget.c counts it N times. */
size_t xb_ingest_worker_bytes(size_t small_body_bytes, size_t max_document_bytes);

/* Counters a worker's path adds to (metric values, updated with XB_METRIC_ADD; NULL =
 * none): every export request it answers, those it had to do again in the main path's
 * arena (too large for its own), and the admissions it handed to the main loop instead
 * of admitting on its own thread (not xb_ingest_admission_direct). */
void xb_ingest_set_counters(struct xb_ingest *ing, uint64_t *requests, uint64_t *large_requests,
                            uint64_t *handoffs);

/* Frees the ingest path. NULL is a no-op. */
void xb_ingest_free(struct xb_ingest *ing);

/*
 * The request arena's cap, bytes, for request bodies of at most |max_body_bytes|
 * (decompressed): 16x the body plus 16 MiB. app/budget.c counts it.
 */
size_t xb_ingest_arena_bytes(size_t max_body_bytes);

/*
 * The per-request memory budget in bytes (the request arena's cap: decoded messages,
 * the OTLP/JSON parse tree and translated documents together), and the most any
 * request has used of it so far (bytes, measured just before each reset). A request
 * that needs more is refused with XB_ERR_TOO_LARGE and a message naming the budget.
 */
size_t xb_ingest_arena_cap(const struct xb_ingest *ing);
size_t xb_ingest_arena_peak(const struct xb_ingest *ing);

/*
 * Counts one export request answered with |o| in xb_receiver_metrics: the request, its
 * accepted / rejected / refused spans, and the bad-request, oversize or queue-full
 * counters by o->rc. xb_ingest_export() calls it itself; receivers call it for the
 * requests they answer before reaching the ingest path (framing, encoding, in-flight
 * caps), so every outcome is counted the same way in one place.
 */
void xb_ingest_account(enum xb_transport transport, const struct xb_ingest_outcome *o);

/*
 * Processes one export request body received over |transport|. |gzip| says the body
 * is gzip-compressed; the decompressed size may not exceed |max_body_bytes| (the
 * receiver's own limit). Updates xb_receiver_metrics and fills |out| (always).
 */
void xb_ingest_export(struct xb_ingest *ing, enum xb_transport transport,
                      enum xb_body_format format, int gzip, const void *body, size_t len,
                      size_t max_body_bytes, struct xb_ingest_outcome *out);

/*
 * The memory_limiter's gate (app/memory_limiter.h): while |on|, every export request is
 * refused with XB_ERR_AGAIN and reason XB_REFUSAL_MEMORY_LIMITED before it is decoded,
 * and xb_ingest_documents() returns XB_ERR_AGAIN.
 */
void xb_ingest_set_memory_limited(struct xb_ingest *ing, int on);

/* One ready-made segment document and its identity (borrowed by the call). */
struct xb_ingest_doc {
    const char *json;     /* document bytes, forwarded unchanged */
    size_t len;           /* bytes */
    const char *trace_id; /* X-Ray trace id, NUL-terminated */
    const char *id;       /* segment / subsegment id, NUL-terminated */
};

/*
 * Enqueues |n| documents that are already X-Ray segment documents (the X-Ray daemon
 * protocol receiver, receiver/awsxray_udp.h) into every queue, byte-for-byte, with
 * their identity, all-or-nothing like a translated request. Returns XB_OK,
 * XB_ERR_FULL when a queue has no room for them all, XB_ERR_AGAIN while the
 * memory_limiter refuses data, XB_ERR_NOMEM. Counts nothing:
 * the caller has its own metrics.
 */
int xb_ingest_documents(struct xb_ingest *ing, const struct xb_ingest_doc *docs, size_t n);

struct xb_ts;

/*
 * Puts the tail_sampling processor |ts| (borrowed; NULL = none) between translation
 * and the queues: translated requests, and the documents of the X-Ray daemon
 * protocol (xb_ingest_documents), are admitted against its budget and held per trace
 * (processor/tail_sampling.h, docs/sampling.md).
 */
void xb_ingest_set_tail_sampling(struct xb_ingest *ing, struct xb_ts *ts);

/*
 * The tail_sampling release callback (xb_ts_release_cb; |ing| is the struct
 * xb_ingest): pushes the kept documents |list| into every queue through the same
 * all-or-nothing enqueue as untouched requests. XB_OK (|list| taken) or XB_ERR_FULL /
 * XB_ERR_NOMEM (|list| left with the caller).
 */
int xb_ingest_release(void *ing, struct xb_qdoc_list *list);

/*
 * Called with every document the ingest path queues (translated or ready-made), once
 * every queue has taken the whole request; the arguments are borrowed for the call
 * (json is |len| bytes, trace_id and id NUL-terminated). The viewer extension's store is
 * fed this way (extension/viewer.h).
 */
typedef void (*xb_ingest_tap_cb)(void *ud, const char *json, size_t len, const char *trace_id,
                                 const char *id);

/* Sets the tap (NULL = none). */
void xb_ingest_set_tap(struct xb_ingest *ing, xb_ingest_tap_cb cb, void *ud);

#endif
