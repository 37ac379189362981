/*
 * processor/tail_sampling.h - the tail_sampling processor: holds the documents of each
 * trace until decision_wait after its first span, then decides with the policies of
 * processor/ts_policy.h and releases the kept ones through one callback (the ingest
 * path's enqueue into every exporter queue). docs/sampling.md describes the behaviour.
 *
 * Event-loop thread only. Memory: waiting and decided-but-not-yet-queued traces are
 * charged (documents with their per-document overhead, plus a fixed per-trace header)
 * against max_bytes; num_traces caps how many traces wait. When a request would pass
 * either cap, the oldest waiting traces are decided early (counted), never dropped
 * undecided. When the exporter queues refuse kept documents at decision time, they are
 * held (still charged) and retried on every tick, and xb_ts_has_room() refuses new
 * requests meanwhile (backpressure: clients get the retryable "queue full" refusal).
 *
 * Decisions are remembered in two bounded caches of trace ids (sampled / not sampled,
 * oldest forgotten first); spans of a decided trace that arrive later follow the cached
 * decision and are counted as early releases from the cache (the collector's name).
 */
#ifndef XB_PROCESSOR_TAIL_SAMPLING_H
#define XB_PROCESSOR_TAIL_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"
#include "processor/ts_policy.h"
#include "proto/otlp.h"

struct event_base;
struct xb_ts;

/* Bytes charged per waiting trace besides its documents (the trace header). */
#define XB_TS_TRACE_OVERHEAD 160u

/* Engine settings (processors.tail_sampling.*; docs/configuration.md). */
struct xb_ts_opts {
    uint32_t decision_wait_ms;     /* > 0 */
    size_t num_traces;             /* most waiting traces, > 0 */
    size_t max_bytes;              /* most bytes charged to waiting/held traces, > 0 */
    size_t sampled_cache_size;     /* trace ids remembered as sampled; 0 = none */
    size_t non_sampled_cache_size; /* trace ids remembered as not sampled; 0 = none */
};

/*
 * Hands the documents of kept traces on (the ingest path's enqueue into every exporter
 * queue). Returns XB_OK having taken |docs| (emptied), or an error leaving |docs| with
 * the caller (XB_ERR_FULL: retry later).
 */
typedef int (*xb_ts_release_cb)(void *ud, struct xb_qdoc_list *docs);

/*
 * Creates the engine. |ps| gets one more reference. |base| (borrowed) runs the
 * decision tick; NULL = no timer (tests call xb_ts_tick() themselves). NULL on no
 * memory or a bad option (zero wait, traces or bytes).
 */
struct xb_ts *xb_ts_new(struct event_base *base, const struct xb_ts_opts *opts,
                        struct xb_ts_policy_set *ps, xb_ts_release_cb release, void *ud);

/* Frees the engine and every document it holds (not released); when it saw spans, logs
 * its life totals (received = kept + sampled out + held at exit). NULL is a no-op. */
void xb_ts_free(struct xb_ts *ts);

/*
 * Swaps in new policies (a reference is taken; the old set stays alive for the traces
 * already waiting, which are decided with it) and a new decision_wait (applies to
 * every waiting trace from the next tick). Used by the configuration reload.
 */
void xb_ts_set_policies(struct xb_ts *ts, struct xb_ts_policy_set *ps, uint32_t decision_wait_ms);

/*
 * Non-zero when a request of |docs| documents charging |bytes| can be admitted now:
 * no kept documents are waiting for queue room, and the request alone fits max_bytes.
 */
int xb_ts_has_room(const struct xb_ts *ts, size_t docs, size_t bytes);

/* Non-zero when |bytes| of documents (one request) can never fit max_bytes: such a
 * request is refused for good (XB_ERR_TOO_LARGE), not told to retry. */
int xb_ts_too_large(const struct xb_ts *ts, size_t bytes);

/*
 * Takes the translated documents |docs| of one decoded request |req| (borrowed): folds
 * each span's facts into its trace's summary, and holds the documents per trace (or
 * follows the decision cache for decided traces). Makes room first by deciding the
 * oldest traces early. |now_mono_ms| is the monotonic clock. Returns XB_OK having taken
 * |docs|, XB_ERR_FULL (no room, see xb_ts_has_room) or XB_ERR_NOMEM leaving |docs|
 * with the caller and nothing changed.
 */
int xb_ts_ingest(struct xb_ts *ts, const xb_pb_export_req *req, struct xb_qdoc_list *docs,
                 uint64_t now_mono_ms);

/*
 * Like xb_ts_ingest() for ready-made X-Ray segment documents (the X-Ray daemon
 * protocol receiver): each document counts as one span whose status is ERROR when its
 * "fault", "error" or "throttle" is true, timed by its start_time / end_time. They
 * carry no OTLP attributes, so attribute policies never match them.
 */
int xb_ts_ingest_documents(struct xb_ts *ts, struct xb_qdoc_list *docs, uint64_t now_mono_ms);

/*
 * Decides every trace whose decision_wait has passed at |now_mono_ms| and retries held
 * documents. The timer calls it; tests call it directly.
 */
void xb_ts_tick(struct xb_ts *ts, uint64_t now_mono_ms);

/* Decides every waiting trace now with the policies and the spans seen so far
 * (shutdown drain: SIGTERM/SIGINT); the kept ones go to the queues, which the app then
 * drains within service.shutdown_timeout. Logs how many traces it decided. The app calls
 * it again on every drain check for spans of requests still in flight (docs/sampling.md,
 * "How it works", Shutdown). */
void xb_ts_flush(struct xb_ts *ts);

/* Documents held by the engine (waiting + decided but not yet queued). */
size_t xb_ts_docs_held(const struct xb_ts *ts);

/* Traces waiting for a decision. */
size_t xb_ts_traces_waiting(const struct xb_ts *ts);

/* Bytes charged now (waiting + held). */
size_t xb_ts_bytes(const struct xb_ts *ts);

/* Counters of one engine's life (also exported as metrics; see docs/sampling.md).
 * Invariant: spans_received = spans_kept + spans_sampled_out + spans held now. */
struct xb_ts_stats {
    uint64_t spans_received, spans_kept, spans_sampled_out;
    uint64_t traces_new, traces_sampled, traces_not_sampled, traces_dropped;
    uint64_t early_decisions, late_spans_sampled, late_spans_not_sampled;
};

/* Copies the engine's counters into |out|. */
void xb_ts_stats(const struct xb_ts *ts, struct xb_ts_stats *out);

/*
 * Registers the processor's metric families (docs/observability.md); called by
 * xb_ts_new(). The values are process-wide (one engine per process).
 */
void xb_ts_metrics_register(void);

#endif
