/*
 * exporter/outcome.h - what a finished PutTraceSegments call means for each document
 * it carried, decided without I/O so that every branch has a unit test.
 *
 * The X-Ray exporter's completion callback parses the answer (HTTP status or transport
 * failure, UnprocessedTraceSegments) into struct xb_call_result, calls
 * xb_outcome_decide(), and carries out the actions in the order given: delivered,
 * retry at the head of the queue, resend alone, or drop with a reason. The back-off it
 * then applies comes from xb_backoff_step(). xb_xray_error_classify() is the one place
 * an X-Ray ErrorCode is interpreted, for the metric label and the retry decision alike.
 */
#ifndef XB_EXPORTER_OUTCOME_H
#define XB_EXPORTER_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "exporter/export_policy.h"
#include "exporter/exporter_metrics.h"

/* Most documents one PutTraceSegments call may carry (the API's limit). */
#define XB_OUTCOME_MAX_DOCS 50

/* What an UnprocessedTraceSegments ErrorCode means. */
struct xb_xray_error_class {
    enum xb_unprocessed_code label; /* metric bucket: exact, case-sensitive name match */
    int retryable;                  /* another attempt can succeed (throttling, 5xx, ...) */
    int throttled;                  /* X-Ray asked us to slow down: count it and back off */
};

/*
 * Classifies the ErrorCode |code| (borrowed, may be NULL) of an UnprocessedTraceSegments
 * entry. The label is "InvalidTraceId", "InvalidSegment" or "ThrottledException" on an
 * exact match, else XB_UNPROCESSED_OTHER. Retryable: any code containing "Throttl",
 * "Internal", "Unavailable", "Timeout", "TooMany" or "SlowDown", and the numeric codes
 * "429" and "5xx"; throttled: any code containing "Throttl". NULL is "other", final.
 */
struct xb_xray_error_class xb_xray_error_classify(const char *code);

/* Retry bookkeeping of one queued document, kept by the exporter. Zero = never failed. */
struct xb_retry_state {
    uint32_t attempts;         /* failed send attempts so far */
    uint32_t solo;             /* send alone: isolates a document X-Ray refused in a batch */
    uint64_t failing_since_ms; /* monotonic ms of the first failure; 0 = none */
};

/* retry_on_failure settings (docs/configuration.md), in milliseconds. */
struct xb_retry_opts {
    int enabled;             /* 0: a retryable failure drops the document */
    uint64_t initial_ms;     /* first back-off */
    uint64_t max_ms;         /* back-off cap */
    uint64_t max_elapsed_ms; /* give a document up after failing this long; 0 = never */
};

/* One entry of UnprocessedTraceSegments; every string borrowed and may be NULL. */
struct xb_unprocessed_entry {
    const char *id;
    const char *code;
    const char *message;
};

/* The answer to one PutTraceSegments call, as parsed by the exporter. */
struct xb_call_result {
    int transport_failed; /* no complete HTTP answer: connection error, timeout, ... */
    long status;          /* HTTP status; 0 when none was received */
    const struct xb_unprocessed_entry *unprocessed; /* from a 200 body; borrowed */
    size_t n_unprocessed;
};

enum xb_doc_action_kind {
    XB_DOC_DELIVERED = 0, /* X-Ray accepted it: uncharge and count as sent */
    XB_DOC_RETRY = 1,     /* back to the head of the queue */
    XB_DOC_SOLO = 2,      /* back to the head of the queue, to be sent alone */
    XB_DOC_DROP = 3,      /* give up: count by reason and log */
};

/* Why a document is dropped, for the log line. */
enum xb_drop_why {
    XB_DROP_RETRY_DISABLED = 0, /* retryable, but retry_on_failure is disabled */
    XB_DROP_MAX_ELAPSED = 1,    /* retryable, but failing longer than max_elapsed_time */
    XB_DROP_UNPROCESSED = 2,    /* listed with a final ErrorCode (entry gives it) */
    XB_DROP_HTTP = 3,           /* a lone document answered with a final 4xx */
};

struct xb_doc_action {
    size_t doc; /* index in the batch */
    enum xb_doc_action_kind kind;
    enum xb_reject_reason reason; /* XB_DOC_DROP: metric label */
    enum xb_drop_why why;         /* XB_DOC_DROP: log text */
    size_t entry;                 /* XB_DROP_UNPROCESSED: index in result->unprocessed */
};

struct xb_outcome {
    /* One action per document of the batch, in the order to carry them out (retries
     * are listed so that requeueing each at the head keeps the original order). */
    struct xb_doc_action actions[XB_OUTCOME_MAX_DOCS];
    size_t n_actions;
    int request_error;  /* the call failed as a whole: count an export request error */
    uint32_t throttled; /* add to the throttled-responses counter */
    int back_off;       /* grow the back-off (xb_backoff_step()) */
    int reset_failures; /* a clean success: the consecutive-failure count restarts */
};

/*
 * Decides what happens to each of the |n| documents of a finished call (|ids|[i] is
 * document i's own segment id, |st|[i] its retry state) given |res|, the monotonic time
 * |now_ms| and |opts|. Updates |st| (attempts and first-failure time of documents that
 * failed retryably, solo for a split) and fills |out|.
 *
 * 200: documents listed in UnprocessedTraceSegments (matched by id, each document at
 * most once, entries with unknown ids ignored) are retried or dropped by ErrorCode; the
 * rest are delivered; a throttling code backs off, otherwise failures reset. Transport
 * failure, 429, 5xx, 401, 403, 408: every document is retried and the call backs off.
 * Any other status: a batch of several is split into solo documents; a lone document
 * is dropped. A retry becomes a drop when retrying is disabled or the document has been
 * failing for more than max_elapsed_ms.
 *
 * Returns 0, or XB_ERR_INVALID when |n| exceeds XB_OUTCOME_MAX_DOCS (|out| empty).
 */
int xb_outcome_decide(const struct xb_call_result *res, const char *const *ids,
                      struct xb_retry_state *st, size_t n, uint64_t now_ms,
                      const struct xb_retry_opts *opts, struct xb_outcome *out);

/* Back-off shared by every call of one exporter. */
struct xb_backoff {
    uint64_t until_ms; /* monotonic; no new sends before it */
    uint32_t failures; /* consecutive failed rounds */
};

/*
 * Grows |b| after a failure at |now_ms|: the delay is xb_backoff_ms() of |opts| for the
 * failures so far (capped at |drain_cap_ms| when non-zero), jittered with one draw from
 * |rng|. Calls in flight together fail together, so a failure before |b|->until_ms is
 * part of the same round: it changes nothing and draws nothing. Returns the delay in ms
 * (at most UINT32_MAX), or 0 when the round had already backed off.
 */
uint64_t xb_backoff_step(struct xb_backoff *b, uint64_t now_ms, const struct xb_retry_opts *opts,
                         uint64_t drain_cap_ms, struct xb_rng *rng);

/*
 * The exporter's retry bookkeeping: the xb_retry_state of each document that has failed
 * at least once, keyed by the document's address, so the queue itself carries none.
 * Documents not in the book are fresh (all-zero state). An entry must be forgotten
 * before its document is freed (the address can be reused). Zero-initialise; release
 * with xb_retry_book_cleanup().
 */
struct xb_retry_book {
    struct xb_retry_entry {
        const void *doc; /* NULL = empty slot */
        struct xb_retry_state st;
    } * slots;
    size_t cap;  /* 0 or a power of two */
    size_t used; /* occupied slots */
};

/* The state of |doc|: a copy of the entry, or all zero when it has none. */
struct xb_retry_state xb_retry_book_get(const struct xb_retry_book *b, const void *doc);

/*
 * Records |st| for |doc| (an all-zero |st| forgets it). Returns 0, or XB_ERR_NOMEM when
 * the book cannot grow (the previous entry, if any, is left as it was).
 */
int xb_retry_book_put(struct xb_retry_book *b, const void *doc, const struct xb_retry_state *st);

/* Forgets |doc| (delivered or dropped). No entry is a no-op. */
void xb_retry_book_forget(struct xb_retry_book *b, const void *doc);

/* Frees the book's memory and empties it. */
void xb_retry_book_cleanup(struct xb_retry_book *b);

#endif
